/* rescue.h — rescue mode (issue 16 item 3; panel/api_rescue.c): the two routes and the job
 * outcome hook. */
#ifndef XVPS_PANEL_RESCUE_H
#define XVPS_PANEL_RESCUE_H

#include <stdint.h>

#include "http.h"

void api_vps_rescue(http_req *rq);   /* POST /vps/{id}/actions/rescue (owner or admin) */
void api_vps_unrescue(http_req *rq); /* POST /vps/{id}/actions/unrescue (owner or admin) */

/* A vps.rescue job failed: the VPS is not in rescue (vps.rescue = 0), so that its next job
 * boots it from its own disk again. Failures are logged. */
void rescue_job_failed(int64_t vps_id);

#endif
