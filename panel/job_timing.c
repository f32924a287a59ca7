/* job_timing.c — step durations of jobs (job_timing.h). */
#include <stdbool.h>
#include <stdio.h>
#include <string.h>

#include "../common/util.h"
#include "api.h"
#include "job_timing.h"
#include "store.h"

#define AGENT_US_MAX 86400000000LL /* one day: anything longer is not a step's duration */

typedef struct open_step {
	int64_t job_id;     /* 0: none open */
	int64_t row;        /* its job_steps row (0: the insert failed) */
	int64_t started_at; /* unix s */
	uint64_t t0;        /* now_mono_ns() */
} open_step;

static _Thread_local open_step cur;

bool job_step_name_ok(const char *s)
{
	size_t n = 0;

	if (!s)
		return false;
	for (; s[n]; n++) {
		char c = s[n];

		if (n >= JOB_STEP_NAME_MAX - 1 ||
		    !((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '.' || c == '_' ||
		      c == '-'))
			return false;
	}
	return n > 0;
}

/* Inserts a row; us < 0 leaves duration_us NULL (a step still running). Returns its id or 0. */
static int64_t insert_step(int64_t job_id, const char *name, const char *source, int64_t started_at,
                           int64_t us)
{
	int64_t id = 0;

	sqlite3_stmt *st = db_stmt("INSERT INTO job_steps(job_id, step, source, started_at, "
	                           "duration_us) VALUES(?,?,?,?,?)");

	if (!st)
		return 0;
	sqlite3_bind_int64(st, 1, job_id);
	sqlite3_bind_text(st, 2, name, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 3, source, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 4, started_at);
	if (us >= 0)
		sqlite3_bind_int64(st, 5, us);
	if (sqlite3_step(st) == SQLITE_DONE)
		id = db_last_id();
	else
		log_error("job %lld step %s timing: %s", (long long)job_id, name,
		          sqlite3_errmsg(db()));
	sqlite3_reset(st);
	return id;
}

static void close_open(void)
{
	sqlite3_stmt *st;

	if (cur.job_id <= 0)
		return;
	st = cur.row > 0 ? db_stmt("UPDATE job_steps SET duration_us=? WHERE id=?") : NULL;
	if (st) {
		sqlite3_bind_int64(st, 1, (int64_t)((now_mono_ns() - cur.t0) / 1000));
		sqlite3_bind_int64(st, 2, cur.row);
		db_step_done(st);
	}
	cur.job_id = 0;
}

void job_timing_begin(int64_t job_id, const char *step)
{
	close_open();
	if (job_id <= 0 || !job_step_name_ok(step))
		return;
	cur.job_id = job_id;
	cur.started_at = now_unix();
	cur.t0 = now_mono_ns();
	cur.row = insert_step(job_id, step, "panel", cur.started_at, -1);
}

void job_timing_end(int64_t job_id)
{
	if (cur.job_id == job_id)
		close_open();
}

void job_timing_agent(json_object *result)
{
	json_object *arr;
	size_t n;

	if (cur.job_id <= 0 || !result || !json_object_object_get_ex(result, "timings", &arr) ||
	    !json_object_is_type(arr, json_type_array))
		return;
	n = json_object_array_length(arr);
	if (n > JOB_TIMINGS_MAX)
		n = JOB_TIMINGS_MAX;
	for (size_t i = 0; i < n; i++) {
		json_object *t = json_object_array_get_idx(arr, i), *name, *us;
		int64_t v;

		if (!json_object_object_get_ex(t, "step", &name) ||
		    !json_object_is_type(name, json_type_string) ||
		    !job_step_name_ok(json_object_get_string(name)) ||
		    !json_object_object_get_ex(t, "us", &us) ||
		    !json_object_is_type(us, json_type_int))
			continue;
		v = json_object_get_int64(us);
		if (v < 0 || v > AGENT_US_MAX)
			continue;
		insert_step(cur.job_id, json_object_get_string(name), "agent", cur.started_at, v);
	}
}

json_object *job_steps_json(int64_t job_id)
{
	sqlite3_stmt *st = db_stmt("SELECT step, source, started_at, duration_us FROM job_steps "
	                           "WHERE job_id=? ORDER BY id");
	json_object *arr = json_object_new_array();
	int r;

	if (!st)
		return arr;
	sqlite3_bind_int64(st, 1, job_id);
	while ((r = sqlite3_step(st)) == SQLITE_ROW) {
		json_object *o = json_object_new_object();

		json_object_object_add(
		        o, "step",
		        json_object_new_string((const char *)sqlite3_column_text(st, 0)));
		json_object_object_add(
		        o, "source",
		        json_object_new_string((const char *)sqlite3_column_text(st, 1)));
		json_object_object_add(o, "started_at", json_time(sqlite3_column_int64(st, 2)));
		json_object_object_add(
		        o, "duration_us",
		        sqlite3_column_type(st, 3) == SQLITE_NULL
		                ? NULL
		                : json_object_new_int64(sqlite3_column_int64(st, 3)));
		json_object_array_add(arr, o);
	}
	if (r != SQLITE_DONE)
		log_error("job %lld steps: %s", (long long)job_id, sqlite3_errmsg(db()));
	sqlite3_reset(st);
	return arr;
}
