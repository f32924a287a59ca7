/* suspend.c — suspension of a VPS (issue 13 item 5; docs/architecture.md "Suspension"): the
 * vps_suspension row that says who suspended it, why and what power state to restore, and the
 * jobs that stop it and start it again. It never talks to the agent itself (the jobs do) and
 * never lifts a suspension made by someone else than the caller asked for. */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "../common/util.h"
#include "api.h"
#include "audit.h"
#include "jobs.h"
#include "quota.h"
#include "store.h"
#include "suspend.h"

static bool by_ok(const char *by)
{
	return by && (strcmp(by, "admin") == 0 || strcmp(by, "customer") == 0 ||
	              strcmp(by, "quota") == 0 || strcmp(by, "billing") == 0);
}

bool suspend_reason_ok(const char *reason, const char **why_out)
{
	size_t chars = 0;
	bool printable = false;

	if (!reason || !*reason) {
		*why_out = "must not be empty";
		return false;
	}
	for (const unsigned char *p = (const unsigned char *)reason; *p; p++) {
		if (*p < 0x20 || *p == 0x7f) {
			*why_out = "must not contain control characters";
			return false;
		}
		if ((*p & 0xc0) != 0x80)
			chars++; /* a UTF-8 lead byte or ASCII: one character */
		printable = printable || *p != ' ';
	}
	if (!printable) {
		*why_out = "must not be blank";
		return false;
	}
	if (chars > SUSPEND_REASON_MAX) {
		*why_out = "is longer than 200 characters";
		return false;
	}
	return true;
}

/* The VPS's row state and whether it is suspended (by_out filled then). 0, -ENOENT, -EIO. */
static int load(int64_t vps_id, char state[VPS_STATE_MAX], bool *suspended_out,
                char by_out[SUSPEND_BY_MAX], char power_out[VPS_STATE_MAX])
{
	sqlite3_stmt *st = db_stmt("SELECT v.state, s.suspended_by, s.power_before FROM vps v "
	                           "LEFT JOIN vps_suspension s ON s.vps_id=v.id WHERE v.id=?");
	int r;

	if (!st)
		return -EIO;
	sqlite3_bind_int64(st, 1, vps_id);
	r = sqlite3_step(st);
	if (r == SQLITE_ROW) {
		db_col_text(st, 0, state, VPS_STATE_MAX);
		*suspended_out = sqlite3_column_type(st, 1) != SQLITE_NULL;
		db_col_text(st, 1, by_out, SUSPEND_BY_MAX);
		db_col_text(st, 2, power_out, VPS_STATE_MAX);
	}
	sqlite3_reset(st);
	return r == SQLITE_ROW ? 0 : r == SQLITE_DONE ? -ENOENT : -EIO;
}

int vps_suspend_tx(int64_t vps_id, const char *by, const char *reason, int64_t user_id,
                   int64_t *job_out)
{
	char state[VPS_STATE_MAX] = "", old_by[SUSPEND_BY_MAX] = "", power[VPS_STATE_MAX] = "";
	const char *why = NULL;
	bool suspended = false;
	sqlite3_stmt *st;
	int rc;

	*job_out = 0;
	if (!by_ok(by) || !suspend_reason_ok(reason, &why))
		return -EINVAL;
	rc = load(vps_id, state, &suspended, old_by, power);
	if (rc != 0)
		return rc;
	if (suspended)
		return -EALREADY;
	if (strcmp(state, "deleting") == 0)
		return -EBUSY;
	st = db_stmt("INSERT INTO vps_suspension(vps_id, suspended_by, reason, user_id, "
	             "suspended_at, power_before) VALUES(?,?,?,?,?,?)");
	if (!st)
		return -EIO;
	sqlite3_bind_int64(st, 1, vps_id);
	sqlite3_bind_text(st, 2, by, -1, SQLITE_TRANSIENT);
	sqlite3_bind_text(st, 3, reason, -1, SQLITE_TRANSIENT);
	if (user_id > 0)
		sqlite3_bind_int64(st, 4, user_id);
	sqlite3_bind_int64(st, 5, now_unix());
	/* A VPS being made is meant to run; an error or stopped one is not running. */
	sqlite3_bind_text(st, 6,
	                  strcmp(state, "running") == 0 || strcmp(state, "provisioning") == 0
	                          ? "running"
	                          : "stopped",
	                  -1, SQLITE_STATIC);
	if (!db_step_done(st))
		return -EIO;
	*job_out = job_enqueue("vps.shutdown", vps_id, user_id);
	return *job_out > 0 ? 0 : -EIO;
}

bool suspend_quota_allows_unsuspend(int64_t vps_id)
{
	return quota_allows_unsuspend(vps_id); /* quota.c: under the quota, or no quota */
}

int vps_unsuspend_tx(int64_t vps_id, const char *only_by, int64_t user_id, int64_t *job_out)
{
	char state[VPS_STATE_MAX] = "", by[SUSPEND_BY_MAX] = "", power[VPS_STATE_MAX] = "";
	bool suspended = false;
	int rc;

	*job_out = 0;
	rc = load(vps_id, state, &suspended, by, power);
	if (rc != 0)
		return rc;
	if (!suspended || (only_by && strcmp(by, only_by) != 0))
		return -ESRCH;
	if (strcmp(state, "deleting") == 0)
		return -EBUSY;
	if (strcmp(by, "quota") == 0 && !suspend_quota_allows_unsuspend(vps_id))
		return -EPERM;
	if (!db_exec_id("DELETE FROM vps_suspension WHERE vps_id=?", vps_id))
		return -EIO;
	if (strcmp(power, "running") == 0) {
		*job_out = job_enqueue("vps.start", vps_id, user_id);
		if (*job_out <= 0)
			return -EIO;
	}
	return 0;
}

int vps_suspend(int64_t vps_id, const char *by, const char *reason)
{
	char res[AUDIT_RESOURCE_MAX], detail[AUDIT_DETAIL_MAX];
	int64_t job = 0;
	int rc;

	if (db_begin() != 0)
		return -EIO;
	rc = vps_suspend_tx(vps_id, by, reason, 0, &job);
	if (rc != 0) {
		db_rollback();
		return rc;
	}
	if (db_commit() != 0)
		return -EIO;
	jobs_wake();
	snprintf(res, sizeof(res), "vps/%lld", (long long)vps_id);
	snprintf(detail, sizeof(detail), "by %s: %s", by, reason);
	audit_system("vps.suspend", res, detail);
	return 0;
}

int vps_suspension_detail(int64_t vps_id, char *detail, size_t detail_len)
{
	sqlite3_stmt *st =
	        db_stmt("SELECT suspended_by, reason FROM vps_suspension WHERE vps_id=?");
	int r;

	if (!st)
		return -EIO;
	sqlite3_bind_int64(st, 1, vps_id);
	r = sqlite3_step(st);
	if (r == SQLITE_ROW)
		snprintf(detail, detail_len, "the VPS is suspended (by %s): %s",
		         (const char *)sqlite3_column_text(st, 0),
		         (const char *)sqlite3_column_text(st, 1));
	sqlite3_reset(st);
	return r == SQLITE_ROW ? 1 : r == SQLITE_DONE ? 0 : -EIO;
}

json_object *vps_suspension_json(int64_t vps_id)
{
	sqlite3_stmt *st = db_stmt(
	        "SELECT suspended_by, reason, suspended_at FROM vps_suspension WHERE vps_id=?");
	json_object *o = NULL;

	if (!st)
		return NULL;
	sqlite3_bind_int64(st, 1, vps_id);
	if (sqlite3_step(st) == SQLITE_ROW) {
		o = json_object_new_object();
		json_object_object_add(
		        o, "reason",
		        json_object_new_string((const char *)sqlite3_column_text(st, 1)));
		json_object_object_add(
		        o, "by", json_object_new_string((const char *)sqlite3_column_text(st, 0)));
		json_object_object_add(o, "at", json_time(sqlite3_column_int64(st, 2)));
	}
	sqlite3_reset(st);
	return o;
}
