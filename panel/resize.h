/* resize.h — changing the plan of one VPS (resize.c; issue 16 item 1), what the billing module
 * of issue 14 calls "change package". The one place that decides what a resize is; the API
 * (POST /vps/{id}/actions/resize), xvpsctl and the billing module call it. */
#ifndef XVPS_PANEL_RESIZE_H
#define XVPS_PANEL_RESIZE_H

#include <stdint.h>

struct limit_refusal;

/* Changes the plan of vps_id to plan_id now (up or down; refuses a smaller disk): returns 0
 * and *job_out (the queued job applying it, 0 when none), or an HTTP status (404, 409, 422)
 * with *detail / *field (static strings; field may be NULL) set. Audits as actor_user_id. */
int vps_change_plan(int64_t vps_id, int64_t plan_id, int64_t actor_user_id, int64_t *job_out,
                    const char **detail, const char **field);
/* Details of vps_change_plan (resize.c):
 * - 404 no such VPS; 409 being deleted, suspended (any suspension), or a job queued or running
 *   on it; 422 field "plan": unknown plan, or its disk is smaller than the VPS's disk (its
 *   plan's, or its template's when larger) — 422, not 409, because no change of state ever
 *   makes that request valid; 500 on a database error. Nothing is changed then.
 * - The VPS's own plan again: 0 with *job_out 0, nothing changed, nothing audited.
 * - Else vps.plan_id, plan_history_switch() and a "vps.update" job (*job_out) in one
 *   transaction; then the job workers are woken, "vps.resize" audited (from/to plan, job) and
 *   the quota ladder run for the VPS (quota_check_vps). Every refusal is audited as
 *   "vps.resize.refused" with the status and reason. Customers' ownership is the caller's to
 *   check (the API answers 404 for another customer's VPS before calling).
 * actor_user_id 0 audits as "system". */

/* The same, audited from ip (the API's client address; vps_change_plan uses "-"). A customer
 * limit (limits.h; issue 16 item 8) refuses with 403 (a plan not offered) or 409 (a total),
 * audited with the limit named; vps_change_plan_lim also fills *lim_out (may be NULL; its
 * limit NULL when no limit refused). */
int vps_change_plan_lim(int64_t vps_id, int64_t plan_id, int64_t actor_user_id, const char *ip,
                        int64_t *job_out, const char **detail, const char **field,
                        struct limit_refusal *lim_out);
int vps_change_plan_from(int64_t vps_id, int64_t plan_id, int64_t actor_user_id, const char *ip,
                         int64_t *job_out, const char **detail, const char **field);

#endif
