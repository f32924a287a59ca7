/* resize.c — changing the plan of one VPS (resize.h; issue 16 item 1). One transaction: the
 * checks, vps.plan_id, the plan history's switch (invoices prorate from it) and a vps.update
 * job, which converges the host to the new plan through vps.ensure: the disk grown (never
 * shrunk), xl.cfg rewritten, memory and vcpus set live up to the domain's ceilings (else at
 * its next boot, shown as "pending"), scheduler shares and shaping re-applied. After the commit
 * the quota ladder runs for the VPS at once (a larger quota lifts a throttle or suspension it
 * caused). Every attempt is audited, refused ones as vps.resize.refused with the reason. */
#include "resize.h"

#include <stdio.h>
#include <string.h>

#include "../common/util.h"
#include "audit.h"
#include "jobs.h"
#include "limits.h"
#include "plan_history.h"
#include "quota.h"
#include "store.h"

#define PLAN_NAME_CHARS 72

typedef struct plan_size {
	char name[PLAN_NAME_CHARS];
	int64_t disk_gib;
} plan_size;

/* 0 found, 1 absent, -1 database error. */
static int load_plan(int64_t plan_id, plan_size *p)
{
	sqlite3_stmt *st = db_stmt("SELECT name, disk_gib FROM plans WHERE id=?");
	int r;

	if (!st)
		return -1;
	sqlite3_bind_int64(st, 1, plan_id);
	r = sqlite3_step(st);
	if (r == SQLITE_ROW) {
		db_col_text(st, 0, p->name, sizeof(p->name));
		p->disk_gib = sqlite3_column_int64(st, 1);
	}
	sqlite3_reset(st);
	return r == SQLITE_ROW ? 0 : r == SQLITE_DONE ? 1 : -1;
}

typedef struct vps_now {
	char state[VPS_STATE_MAX];
	int64_t customer_id, plan_id;
	int64_t disk_gib; /* what its disk holds: its plan's, or its template's when larger */
} vps_now;

/* 0 found, 1 absent, -1 database error. */
static int load_vps(int64_t vps_id, vps_now *v)
{
	sqlite3_stmt *st = db_stmt("SELECT v.state, v.customer_id, v.plan_id, "
	                           "max(p.disk_gib, t.disk_gib) FROM vps v "
	                           "JOIN plans p ON p.id=v.plan_id "
	                           "JOIN templates t ON t.id=v.template_id WHERE v.id=?");
	int r;

	if (!st)
		return -1;
	sqlite3_bind_int64(st, 1, vps_id);
	r = sqlite3_step(st);
	if (r == SQLITE_ROW) {
		db_col_text(st, 0, v->state, sizeof(v->state));
		v->customer_id = sqlite3_column_int64(st, 1);
		v->plan_id = sqlite3_column_int64(st, 2);
		v->disk_gib = sqlite3_column_int64(st, 3);
	}
	sqlite3_reset(st);
	return r == SQLITE_ROW ? 0 : r == SQLITE_DONE ? 1 : -1;
}

/* Audits as the actor (its username; "system" for 0) from ip. */
static void audit_actor(int64_t actor, const char *ip, const char *action, int64_t vps_id,
                        const char *detail)
{
	sqlite3_stmt *st = actor > 0 ? db_stmt("SELECT username FROM users WHERE id=?") : NULL;
	char name[128] = "system", res[AUDIT_RESOURCE_MAX];

	if (st) {
		sqlite3_bind_int64(st, 1, actor);
		if (sqlite3_step(st) == SQLITE_ROW)
			db_col_text(st, 0, name, sizeof(name));
		sqlite3_reset(st);
	}
	snprintf(res, sizeof(res), "vps/%lld", (long long)vps_id);
	audit_as(actor, name, ip ? ip : "-", action, res, detail);
}

/* The checks and writes, inside the open transaction. 0 (with *to filled) or the status. */
static int change_tx(int64_t vps_id, int64_t plan_id, int64_t actor, vps_now *v, plan_size *from,
                     plan_size *to, int64_t *job_out, const char **detail, const char **field,
                     limit_refusal *lim)
{
	int r;

	r = load_vps(vps_id, v);
	if (r != 0) {
		*detail = r > 0 ? "VPS not found" : "database error";
		return r > 0 ? 404 : 500;
	}
	r = vps_change_gate(
	        vps_id, v->state,
	        "the VPS is suspended; it cannot be resized until it is unsuspended",
	        "a job is queued or running on the VPS; resize it when that job is done", detail);
	if (r != 0)
		return r;
	r = load_plan(plan_id, to);
	if (r == 0)
		r = load_plan(v->plan_id, from);
	if (r != 0) {
		*field = r > 0 ? "plan" : NULL;
		*detail = r > 0 ? "unknown plan" : "database error";
		return r > 0 ? 422 : 500;
	}
	if (plan_id == v->plan_id)
		return 0; /* nothing to change, no job */
	if (to->disk_gib < v->disk_gib) {
		*field = "plan";
		*detail = "the plan's disk is smaller than the VPS's disk: a disk is never shrunk "
		          "(its filesystem would not survive it)";
		return 422;
	}
	/* The customer's limits (issue 16 item 8): the plan offered to it, the totals it may
	 * hold; inside this transaction, so a concurrent order or resize counts this one. */
	r = limits_check_plan(v->customer_id, vps_id, plan_id, lim);
	if (r != 0) {
		*detail = r > 0 ? "a customer limit refuses the resize" : "database error";
		if (r < 0)
			lim->limit = NULL;
		return r > 0 ? limit_refusal_status(lim) : 500;
	}
	sqlite3_stmt *st = db_stmt("UPDATE vps SET plan_id=?1 WHERE id=?2");
	bool updated = false;
	if (st) {
		sqlite3_bind_int64(st, 1, plan_id);
		sqlite3_bind_int64(st, 2, vps_id);
		updated = db_step_done(st);
	}
	if (!updated || plan_history_switch(vps_id, v->customer_id, plan_id, now_unix()) != 0 ||
	    (*job_out = job_enqueue("vps.update", vps_id, actor)) < 0) {
		*job_out = 0;
		*detail = "database error";
		return 500;
	}
	return 0;
}

int vps_change_plan_lim(int64_t vps_id, int64_t plan_id, int64_t actor_user_id, const char *ip,
                        int64_t *job_out, const char **detail, const char **field,
                        limit_refusal *lim_out)
{
	char text[AUDIT_DETAIL_MAX], why[AUDIT_DETAIL_MAX / 2];
	plan_size from = {0}, to = {0};
	limit_refusal lim = {0};
	vps_now v = {0};
	int status;

	*job_out = 0;
	*detail = NULL;
	*field = NULL;
	if (lim_out)
		*lim_out = lim;
	if (db_begin() != 0) {
		*detail = "database error";
		return 500;
	}
	status = change_tx(vps_id, plan_id, actor_user_id, &v, &from, &to, job_out, detail, field,
	                   &lim);
	if (status != 0) {
		db_rollback();
		*job_out = 0;
		if (lim.limit)
			limit_refusal_text(&lim, why, sizeof(why));
		snprintf(text, sizeof(text), "to plan %lld refused (%d): %s", (long long)plan_id,
		         status, lim.limit ? why : *detail);
		if (lim_out)
			*lim_out = lim;
		audit_actor(actor_user_id, ip, "vps.resize.refused", vps_id, text);
		return status;
	}
	if (db_commit() != 0) {
		*job_out = 0;
		*detail = "database error";
		return 500;
	}
	if (*job_out == 0)
		return 0; /* already on that plan */
	jobs_wake();
	snprintf(text, sizeof(text), "from plan %lld (%s) to plan %lld (%s), job %lld",
	         (long long)v.plan_id, from.name, (long long)plan_id, to.name, (long long)*job_out);
	audit_actor(actor_user_id, ip, "vps.resize", vps_id, text);
	quota_check_vps(vps_id); /* the new plan's quota at once (logged on failure) */
	return 0;
}

int vps_change_plan_from(int64_t vps_id, int64_t plan_id, int64_t actor_user_id, const char *ip,
                         int64_t *job_out, const char **detail, const char **field)
{
	return vps_change_plan_lim(vps_id, plan_id, actor_user_id, ip, job_out, detail, field,
	                           NULL);
}

int vps_change_plan(int64_t vps_id, int64_t plan_id, int64_t actor_user_id, int64_t *job_out,
                    const char **detail, const char **field)
{
	return vps_change_plan_from(vps_id, plan_id, actor_user_id, "-", job_out, detail, field);
}
