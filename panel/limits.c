/* limits.c — per-customer ordering limits (limits.h; issue 16 item 8). limits_check and the
 * text of a refusal are pure (tests/unit/test_limits.c); the rest reads the store inside the
 * caller's transaction and never writes. A limit counts what the customer's live VPS hold by
 * their plans (disk: the plan's, or the template's when larger, as resize.c reads it); a VPS
 * being deleted no longer counts. */
#include "limits.h"

#include <stdio.h>
#include <string.h>

#include "store.h"

bool limits_check(const customer_limits *l, const limits_usage *used, const limits_usage *after,
                  limit_refusal *why)
{
	const struct {
		const char *name;
		int64_t max, now, then;
	} dims[] = {
	        {"vps", l->max_vps, used->vps, after->vps},
	        {"vcpus", l->max_vcpus, used->vcpus, after->vcpus},
	        {"memory_mib", l->max_memory_mib, used->memory_mib, after->memory_mib},
	        {"disk_gib", l->max_disk_gib, used->disk_gib, after->disk_gib},
	};

	memset(why, 0, sizeof(*why));
	for (size_t i = 0; i < sizeof(dims) / sizeof(dims[0]); i++) {
		if (dims[i].max < 0 || dims[i].then <= dims[i].now || dims[i].then <= dims[i].max)
			continue;
		why->limit = dims[i].name;
		why->allowed = dims[i].max;
		why->used = dims[i].now;
		why->requested = dims[i].then;
		return false;
	}
	return true;
}

void limit_refusal_text(const limit_refusal *why, char *out, size_t size)
{
	static const struct {
		const char *limit, *what;
	} names[] = {
	        {"vps", "servers"},
	        {"vcpus", "vCPUs"},
	        {"memory_mib", "MiB of memory"},
	        {"disk_gib", "GiB of disk"},
	};
	const char *what = why->limit;

	if (why->limit && strcmp(why->limit, "plans") == 0) {
		snprintf(out, size, "limit plans: plan %lld is not offered to this customer",
		         (long long)why->requested);
		return;
	}
	for (size_t i = 0; why->limit && i < sizeof(names) / sizeof(names[0]); i++)
		if (strcmp(why->limit, names[i].limit) == 0)
			what = names[i].what;
	snprintf(out, size,
	         "limit %s: this customer may hold %lld %s in all; it holds %lld and "
	         "this would make %lld",
	         why->limit ? why->limit : "?", (long long)why->allowed, what ? what : "",
	         (long long)why->used, (long long)why->requested);
}

int limit_refusal_status(const limit_refusal *why)
{
	return why->limit && strcmp(why->limit, "plans") == 0 ? 403 : 409;
}

static int64_t col_or_none(sqlite3_stmt *st, int col)
{
	return sqlite3_column_type(st, col) == SQLITE_NULL ? -1 : sqlite3_column_int64(st, col);
}

int limits_load(int64_t customer_id, customer_limits *l)
{
	sqlite3_stmt *st = db_stmt("SELECT max_vps, max_vcpus, max_memory_mib, max_disk_gib, "
	                           "plans_all FROM customer_limits WHERE customer_id=?");
	int r;

	*l = (customer_limits){-1, -1, -1, -1, true};
	if (!st)
		return -1;
	sqlite3_bind_int64(st, 1, customer_id);
	r = sqlite3_step(st);
	if (r == SQLITE_ROW) {
		l->max_vps = col_or_none(st, 0);
		l->max_vcpus = col_or_none(st, 1);
		l->max_memory_mib = col_or_none(st, 2);
		l->max_disk_gib = col_or_none(st, 3);
		l->all_plans = sqlite3_column_int(st, 4) != 0;
	}
	sqlite3_reset(st);
	return r == SQLITE_ROW || r == SQLITE_DONE ? 0 : -1;
}

int limits_usage_of(int64_t customer_id, int64_t except_vps, limits_usage *u)
{
	sqlite3_stmt *st = db_stmt("SELECT count(*), COALESCE(sum(p.vcpus), 0), "
	                           "COALESCE(sum(p.memory_mib), 0), "
	                           "COALESCE(sum(max(p.disk_gib, t.disk_gib)), 0) FROM vps v "
	                           "JOIN plans p ON p.id=v.plan_id "
	                           "JOIN templates t ON t.id=v.template_id "
	                           "WHERE v.customer_id=?1 AND v.state<>'deleting' AND v.id<>?2");
	int r;

	*u = (limits_usage){0};
	if (!st)
		return -1;
	sqlite3_bind_int64(st, 1, customer_id);
	sqlite3_bind_int64(st, 2, except_vps);
	r = sqlite3_step(st);
	if (r == SQLITE_ROW) {
		u->vps = sqlite3_column_int64(st, 0);
		u->vcpus = sqlite3_column_int64(st, 1);
		u->memory_mib = sqlite3_column_int64(st, 2);
		u->disk_gib = sqlite3_column_int64(st, 3);
	}
	sqlite3_reset(st);
	return r == SQLITE_ROW ? 0 : -1;
}

int limits_plan_allowed(int64_t customer_id, int64_t plan_id)
{
	sqlite3_stmt *st = db_stmt(
	        "SELECT COALESCE((SELECT plans_all FROM customer_limits WHERE customer_id=?1), 1) "
	        "OR EXISTS(SELECT 1 FROM customer_plans WHERE customer_id=?1 AND plan_id=?2)");
	int r, ok = 0;

	if (!st)
		return -1;
	sqlite3_bind_int64(st, 1, customer_id);
	sqlite3_bind_int64(st, 2, plan_id);
	r = sqlite3_step(st);
	if (r == SQLITE_ROW)
		ok = sqlite3_column_int(st, 0) != 0;
	sqlite3_reset(st);
	return r == SQLITE_ROW ? ok : -1;
}

/* The sizes plan_id gives a VPS: its disk at least min_disk_gib (the VPS's template). */
static int plan_sizes(int64_t plan_id, int64_t min_disk_gib, limits_usage *u)
{
	sqlite3_stmt *st = db_stmt("SELECT vcpus, memory_mib, max(disk_gib, ?2) FROM plans "
	                           "WHERE id=?1");
	int r;

	*u = (limits_usage){0};
	if (!st)
		return -1;
	sqlite3_bind_int64(st, 1, plan_id);
	sqlite3_bind_int64(st, 2, min_disk_gib);
	r = sqlite3_step(st);
	if (r == SQLITE_ROW) {
		u->vps = 1;
		u->vcpus = sqlite3_column_int64(st, 0);
		u->memory_mib = sqlite3_column_int64(st, 1);
		u->disk_gib = sqlite3_column_int64(st, 2);
	}
	sqlite3_reset(st);
	return r == SQLITE_ROW ? 0 : -1;
}

int limits_check_plan(int64_t customer_id, int64_t vps_id, int64_t plan_id, limit_refusal *why)
{
	customer_limits l;
	limits_usage used, rest, add;
	int64_t tpl_disk = 0;
	int r;

	memset(why, 0, sizeof(*why));
	why->customer_id = customer_id;
	r = limits_plan_allowed(customer_id, plan_id);
	if (r < 0)
		return -1;
	if (r == 0) {
		why->limit = "plans";
		why->requested = plan_id;
		return 1;
	}
	if (vps_id > 0) {
		sqlite3_stmt *st = db_stmt("SELECT t.disk_gib FROM vps v "
		                           "JOIN templates t ON t.id=v.template_id WHERE v.id=?");

		if (!st)
			return -1;
		sqlite3_bind_int64(st, 1, vps_id);
		if (sqlite3_step(st) == SQLITE_ROW)
			tpl_disk = sqlite3_column_int64(st, 0);
		sqlite3_reset(st);
	}
	if (limits_load(customer_id, &l) != 0 || limits_usage_of(customer_id, 0, &used) != 0 ||
	    limits_usage_of(customer_id, vps_id, &rest) != 0 ||
	    plan_sizes(plan_id, tpl_disk, &add) != 0)
		return -1;
	limits_usage after = {rest.vps + add.vps, rest.vcpus + add.vcpus,
	                      rest.memory_mib + add.memory_mib, rest.disk_gib + add.disk_gib};
	if (limits_check(&l, &used, &after, why))
		return 0;
	why->customer_id = customer_id;
	return 1;
}
