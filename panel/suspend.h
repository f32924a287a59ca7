/* suspend.h — suspension of a VPS (suspend.c; issue 13 item 5): the vps_suspension row, the job
 * that stops the VPS and the one that restores its power state. The one place that decides what
 * a suspension is; the API (api_vps.c, api_customers.c) and the quota ladder call it.
 * Return convention: 0, or a negative errno named at each function; nothing here answers HTTP. */
#ifndef XVPS_PANEL_SUSPEND_H
#define XVPS_PANEL_SUSPEND_H

#include <json-c/json.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define SUSPEND_REASON_MAX      200 /* characters (UTF-8 code points) of a reason, >= 1 */
#define SUSPEND_BY_MAX          16  /* "admin" | "customer" | "quota" | "billing" */
#define SUSPEND_CUSTOMER_REASON "customer suspended"

/* True when reason is 1..SUSPEND_REASON_MAX UTF-8 characters, not blank, without control
 * characters; else false with *why_out ("must not be empty" ...). */
bool suspend_reason_ok(const char *reason, const char **why_out);

/* Suspends VPS vps_id inside the caller's transaction (db_begin()): records why (by: "admin",
 * "customer", "quota" or "billing" (a prepaid balance below its threshold: balance.c);
 * reason 1..SUSPEND_REASON_MAX characters; user_id the admin, 0 for none), the power state to
 * restore (its row's state: running/provisioning -> running, anything else -> stopped) and queues a
 * vps.shutdown job (*job_out; always, so that a start queued before it cannot leave the VPS
 * running). The caller commits, calls jobs_wake() and audits. 0; -ENOENT (no such VPS), -EALREADY
 * (suspended already), -EBUSY (being deleted), -EINVAL (by or reason invalid), -EIO (database
 * error). */
int vps_suspend_tx(int64_t vps_id, const char *by, const char *reason, int64_t user_id,
                   int64_t *job_out);

/* Lifts the suspension of vps_id inside the caller's transaction. only_by: NULL for any, else
 * lifts it only when it was made by that actor (customer unsuspension lifts "customer" ones
 * only). Queues vps.start when the VPS ran before (*job_out, else 0). A "quota" suspension is
 * refused while the VPS is over its quota (suspend_quota_allows_unsuspend()).
 * 0; -ENOENT (no such VPS), -ESRCH (not suspended, or not by only_by), -EPERM (a quota
 * suspension while still over the quota), -EBUSY (being deleted), -EIO. */
int vps_unsuspend_tx(int64_t vps_id, const char *only_by, int64_t user_id, int64_t *job_out);

/* The hook for the quota ladder (issue 13 item 4): suspends vps_id in a transaction of its own
 * (by "quota" or "admin"), wakes the job workers and audits vps.suspend as the system. Same
 * errors as vps_suspend_tx. */
int vps_suspend(int64_t vps_id, const char *by, const char *reason);

/* Whether a quota suspension of vps_id may be lifted: false while the VPS's traffic in the
 * current period is at or over its plan's quota (traffic an admin added this period counts as
 * included; a plan without a quota, traffic_gib 0, always allows). quota.c's
 * quota_allows_unsuspend. */
bool suspend_quota_allows_unsuspend(int64_t vps_id);

/* When vps_id is suspended, writes "the VPS is suspended (by <by>): <reason>" into detail and
 * returns 1; 0 when it is not; -EIO on a database error. */
int vps_suspension_detail(int64_t vps_id, char *detail, size_t detail_len);

/* {"reason","by","at"} of vps_id's suspension, or JSON null (also on a database error). */
json_object *vps_suspension_json(int64_t vps_id);

#endif
