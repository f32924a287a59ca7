/* plan_history.h — the plan history of every VPS (table vps_plan_history, migration 9): which
 * plan a VPS was on over which stretch of time, the record invoices prorate by the hour from.
 * Rows outlive the VPS, its customer and its plan; a row is only ever closed (to_ts set once),
 * never otherwise changed or deleted. Every function must run inside the caller's transaction
 * (db_begin) together with the change of the vps row it describes. Times are Unix seconds. */
#ifndef XVPS_PANEL_PLAN_HISTORY_H
#define XVPS_PANEL_PLAN_HISTORY_H

#include <stdint.h>

/* Opens the VPS's stretch on plan_id from `at` (a new VPS). -1 on a database error (logged),
 * also when the VPS already has an open stretch (the partial unique index). */
int plan_history_open(int64_t vps_id, int64_t customer_id, int64_t plan_id, int64_t at);
/* Closes the VPS's open stretch at `at` (the VPS is deleted). 0 also when none is open. */
int plan_history_close(int64_t vps_id, int64_t at);
/* A plan change at `at`: closes the open stretch and opens one on new_plan_id (the customer is
 * the open stretch's, or customer_id when none is open). -1 on a database error. */
int plan_history_switch(int64_t vps_id, int64_t customer_id, int64_t new_plan_id, int64_t at);

#endif
