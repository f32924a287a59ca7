/* quota.h — the traffic quota ladder as pure arithmetic (quota.c; issue 13 item 4): which bytes
 * count, how many are included, the percentage, and the next step of the ladder for a VPS given
 * what was already done this period. No clock, no database, no agent: the panel (panel/quota.c)
 * reads the ledger and the stored state, asks quota_step() what to do, and does it.
 *
 * The ladder, per billing period: a notice at 80 % and one at 100 % (each at most once per
 * period), and at 100 % the plan's action (throttle to over_quota_mbit, or suspend). The action
 * is lifted when the VPS is no longer over its quota (an admin added traffic, the plan's quota was
 * raised or removed) or when the period rolls over (the state starts again at "ok"). */
#ifndef XVPS_BILLING_QUOTA_H
#define XVPS_BILLING_QUOTA_H

#include <stdbool.h>
#include <stdint.h>

#define QUOTA_GIB_BYTES       ((int64_t)1 << 30) /* traffic_gib is in GiB: 2^30 bytes */
#define QUOTA_TRAFFIC_GIB_MAX 1000000000         /* a plan's traffic_gib: 0 .. this */
#define QUOTA_EXTRA_GIB_MAX   1000000            /* one POST .../quota/extra: 1 .. this */
#define QUOTA_MBIT_MAX        100000             /* a plan's over_quota_mbit: 1 .. this */
#define QUOTA_NOTICE_PCT      80                 /* the first notice */

typedef enum { QUOTA_DIR_OUT = 0, QUOTA_DIR_IN = 1, QUOTA_DIR_BOTH = 2 } quota_direction;
typedef enum { QUOTA_ACT_THROTTLE = 0, QUOTA_ACT_SUSPEND = 1 } quota_action;

/* Parses "out" | "in" | "both" and "throttle" | "suspend"; false (out unchanged) otherwise. */
bool quota_direction_parse(const char *s, quota_direction *out);
bool quota_action_parse(const char *s, quota_action *out);
const char *quota_direction_name(quota_direction d);
const char *quota_action_name(quota_action a);

/* The bytes that count (guest's view: tx_bytes is what the guest sent, "out"): tx, rx or their
 * sum, saturating at INT64_MAX; negative inputs count as 0. */
int64_t quota_used_bytes(quota_direction d, int64_t rx_bytes, int64_t tx_bytes);
/* traffic_gib x 2^30 + extra_bytes, saturating at INT64_MAX; 0 when traffic_gib <= 0 (the plan
 * is unmetered: no quota, whatever extra was added). */
int64_t quota_included_bytes(int64_t traffic_gib, int64_t extra_bytes);
/* floor(used x 100 / included), exact for every int64 (128-bit intermediate); 0 when included
 * <= 0 or used <= 0. May exceed 100. */
int64_t quota_percent(int64_t used_bytes, int64_t included_bytes);

/* What was done in the period the state belongs to. */
typedef struct quota_state {
	bool notified_80, notified_100; /* the notices sent (once per period each) */
	bool acted;                     /* the action is in force */
} quota_state;

/* What quota_step() asks the caller to do, in this order: lift (the action in force ends),
 * notice_80, notice_100, act (apply the plan's action). */
typedef struct quota_todo {
	bool lift, notice_80, notice_100, act;
} quota_todo;

/* The next step. st: the stored state; same_period: st belongs to the period of used/included
 * (false: the period rolled over, so st's notices no longer count and an action in force is
 * lifted). included 0 (no quota any more): an action in force is lifted, nothing else. *st_out
 * gets the state after the todo is done. A crossing straight from below 80 % to 100 % or more
 * gives both notices. The action is taken at used >= included, and again after a lift when the
 * VPS crosses its (raised) quota again in the same period; notices are never repeated in one
 * period. */
quota_todo quota_step(quota_state st, bool same_period, int64_t used_bytes, int64_t included_bytes,
                      quota_state *st_out);

/* The state's name for the API: "throttled" / "suspended" (acted, by action), else "notice_100",
 * "notice_80" or "ok" (the last notice sent this period). */
const char *quota_state_name(const quota_state *st, quota_action a);

#endif
