/* resize.h — changing the plan of one VPS (resize.c; issue 16 item 1), what the billing module
 * of issue 14 calls "change package". The one place that decides what a resize is; the API
 * (POST /vps/{id}/actions/resize), xvpsctl and the billing module call it. */
#ifndef XVPS_PANEL_RESIZE_H
#define XVPS_PANEL_RESIZE_H

#include <stdint.h>

/* Changes the plan of vps_id to plan_id now (up or down; refuses a smaller disk): returns 0
 * and *job_out (the queued job applying it, 0 when none), or an HTTP status (404, 409, 422)
 * with *detail / *field (static strings; field may be NULL) set. Audits as actor_user_id. */
int vps_change_plan(int64_t vps_id, int64_t plan_id, int64_t actor_user_id, int64_t *job_out,
                    const char **detail, const char **field);

#endif
