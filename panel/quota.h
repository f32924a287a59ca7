/* quota.h — the traffic quota ladder of every VPS (quota.c; issue 13 item 4): after each metering
 * sweep, the period's traffic from the usage ledger against the plan's traffic_gib, notices at
 * 80 % and 100 %, the plan's action at 100 % (throttle to over_quota_mbit, or suspend) and its
 * lift (new period, traffic added by an admin, quota raised or removed). The arithmetic is
 * billing/quota.h's; this file reads and writes the store, queues jobs and audits. Delivery of
 * the notices (e-mail, webhook) is quota_notify.c's, off this thread.
 * Return convention: 0, or a negative errno named at each function. */
#ifndef XVPS_PANEL_QUOTA_H
#define XVPS_PANEL_QUOTA_H

#include <json-c/json.h>
#include <stdbool.h>
#include <stdint.h>

/* Runs the ladder for every VPS whose plan has a quota (traffic_gib > 0) or whose quota action
 * is in force. The metering thread calls it after each sweep's commit, so an action lands
 * within one sample interval of the crossing. Each VPS's step is its own transaction; a failing
 * one is logged and retried at the next sweep. 0, or -EIO (logged) when one failed. */
int quota_sweep(void);
/* The same for one VPS (after an admin added traffic: the lift is immediate). 0, -EIO. */
int quota_check_vps(int64_t vps_id);
/* The same for every VPS of one plan (after PATCH /plans changed its quota: a throttle in force
 * moves to the new over_quota_mbit, with a vps.network job, at once rather than at the next
 * sweep; the sweep would do it too). 0, -EIO. */
int quota_check_plan(int64_t plan_id);

/* False while vps_id's plan has a quota and the VPS's traffic in the current period is at or
 * over it (its included bytes count the traffic an admin added this period); true otherwise
 * and on a database error of the lookup's first step (never traps a VPS on an error). */
bool quota_allows_unsuspend(int64_t vps_id);

/* The "quota" member of the VPS JSON (docs/openapi.yaml Quota): NULL (JSON null) when the plan
 * is unmetered (traffic_gib 0) or on a database error; else {"included_bytes","used_bytes",
 * "percent","direction","period_start","period_end","action","state"[,"over_quota_mbit"]}. */
json_object *quota_vps_json(int64_t vps_id);

/* Adds gib (1..QUOTA_EXTRA_GIB_MAX) GiB to vps_id's current period. 0, -ENOENT, -EIO. The
 * caller audits and then calls quota_check_vps(). */
int quota_add_extra(int64_t vps_id, int64_t gib);

#endif
