/* plan_history.c — writes of vps_plan_history (plan_history.h). */
#include "plan_history.h"

#include "store.h"

int plan_history_open(int64_t vps_id, int64_t customer_id, int64_t plan_id, int64_t at)
{
	sqlite3_stmt *st = db_stmt("INSERT INTO vps_plan_history(vps_id, customer_id, plan_id, "
	                           "from_ts) VALUES(?,?,?,?)");

	if (!st)
		return -1;
	sqlite3_bind_int64(st, 1, vps_id);
	sqlite3_bind_int64(st, 2, customer_id);
	sqlite3_bind_int64(st, 3, plan_id);
	sqlite3_bind_int64(st, 4, at);
	return db_step_done(st) ? 0 : -1;
}

int plan_history_close(int64_t vps_id, int64_t at)
{
	/* max(): a clock stepped back must not make a stretch end before it began. */
	sqlite3_stmt *st = db_stmt("UPDATE vps_plan_history SET to_ts=max(from_ts, ?2) "
	                           "WHERE vps_id=?1 AND to_ts IS NULL");

	if (!st)
		return -1;
	sqlite3_bind_int64(st, 2, at);
	return db_run_id(st, vps_id) ? 0 : -1;
}

int plan_history_switch(int64_t vps_id, int64_t customer_id, int64_t new_plan_id, int64_t at)
{
	sqlite3_stmt *st = db_stmt("SELECT customer_id FROM vps_plan_history "
	                           "WHERE vps_id=? AND to_ts IS NULL");
	int64_t customer = customer_id;

	if (!st)
		return -1;
	sqlite3_bind_int64(st, 1, vps_id);
	if (sqlite3_step(st) == SQLITE_ROW)
		customer = sqlite3_column_int64(st, 0);
	sqlite3_reset(st);
	if (plan_history_close(vps_id, at) != 0)
		return -1;
	return plan_history_open(vps_id, customer, new_plan_id, at);
}
