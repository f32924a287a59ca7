/* api_plans.c — /plans: the sizes and shares a VPS is sold with (docs/openapi.yaml); admins
 * manage them, customers read the ones offered to them (GET, issue 16 item 8). A plan
 * change that moves scheduler shares, sizes or the rate queues a vps.update for each live VPS
 * on it (on_crash too: the agent learns it from the spec), one that only flips smtp_block a
 * vps.network; a plan in use is never deleted. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../billing/quota.h"
#include "../billing/rating.h"
#include "../common/util.h"
#include "../common/validate.h"
#include "api.h"
#include "audit.h"
#include "http.h"
#include "jobs.h"
#include "limits.h"
#include "quota.h"
#include "store.h"

#define PLAN_NAME_MAX 72 /* valid_label() names with room */

typedef struct plan {
	int64_t id;
	char name[PLAN_NAME_MAX];
	int64_t vcpus, memory_mib, disk_gib, traffic_gib;
	int64_t cpu_weight, cpu_cap_pct, net_mbit, price_month_cents;
	int64_t created_at;
	bool smtp_block;  /* drop the VPS's outbound TCP to port 25 */
	char on_crash[8]; /* "restart" | "stop": what the agent does when a guest crashes */
	quota_direction traffic_direction; /* which bytes count against traffic_gib */
	quota_action quota_action;         /* what the ladder does at 100 % */
	int64_t over_quota_mbit;           /* the throttle's rate, 1..QUOTA_MBIT_MAX */
	/* prices (issue 14 item 1; billing/rating.h): -1 = NULL (the default) */
	int64_t price_hour_microcents;  /* -1: price_month_cents x 10^6 / 730 */
	int64_t included_traffic_gib;   /* -1: traffic_gib */
	int64_t overage_gib_microcents; /* per started GiB over the included traffic */
	int64_t ipv4_month_cents;       /* each extra IPv4 address per month */
} plan;

#define PLAN_COLS                                                                                  \
	"id, name, vcpus, memory_mib, disk_gib, traffic_gib, cpu_weight, cpu_cap_pct, net_mbit, "  \
	"price_month_cents, created_at, smtp_block, on_crash, traffic_direction, quota_action, "   \
	"over_quota_mbit, price_hour_microcents, included_traffic_gib, overage_gib_microcents, "   \
	"ipv4_month_cents"

static const char *const plan_fields[] = {
        "name",
        "vcpus",
        "memory_mib",
        "disk_gib",
        "traffic_gib",
        "cpu_weight",
        "cpu_cap_pct",
        "net_mbit",
        "price_month_cents",
        "smtp_block",
        "on_crash",
        "traffic_direction",
        "quota_action",
        "over_quota_mbit",
        "price_hour_microcents",
        "included_traffic_gib",
        "overage_gib_microcents",
        "ipv4_month_cents",
        NULL,
};

static void plan_from_row(sqlite3_stmt *st, plan *p)
{
	const unsigned char *name = sqlite3_column_text(st, 1);

	p->id = sqlite3_column_int64(st, 0);
	snprintf(p->name, sizeof(p->name), "%s", name ? (const char *)name : "");
	p->vcpus = sqlite3_column_int64(st, 2);
	p->memory_mib = sqlite3_column_int64(st, 3);
	p->disk_gib = sqlite3_column_int64(st, 4);
	p->traffic_gib = sqlite3_column_int64(st, 5);
	p->cpu_weight = sqlite3_column_int64(st, 6);
	p->cpu_cap_pct = sqlite3_column_int64(st, 7);
	p->net_mbit = sqlite3_column_int64(st, 8);
	p->price_month_cents = sqlite3_column_int64(st, 9);
	p->created_at = sqlite3_column_int64(st, 10);
	p->smtp_block = sqlite3_column_int(st, 11) != 0;
	snprintf(p->on_crash, sizeof(p->on_crash), "%s",
	         sqlite3_column_text(st, 12) ? (const char *)sqlite3_column_text(st, 12)
	                                     : "restart");
	if (!quota_direction_parse((const char *)sqlite3_column_text(st, 13),
	                           &p->traffic_direction))
		p->traffic_direction = QUOTA_DIR_OUT;
	if (!quota_action_parse((const char *)sqlite3_column_text(st, 14), &p->quota_action))
		p->quota_action = QUOTA_ACT_THROTTLE;
	p->over_quota_mbit = sqlite3_column_int64(st, 15);
	p->price_hour_microcents =
	        sqlite3_column_type(st, 16) == SQLITE_NULL ? -1 : sqlite3_column_int64(st, 16);
	p->included_traffic_gib =
	        sqlite3_column_type(st, 17) == SQLITE_NULL ? -1 : sqlite3_column_int64(st, 17);
	p->overage_gib_microcents = sqlite3_column_int64(st, 18);
	p->ipv4_month_cents = sqlite3_column_int64(st, 19);
}

static json_object *plan_json(const plan *p)
{
	json_object *o = json_object_new_object();

	json_object_object_add(o, "id", json_id(p->id));
	json_object_object_add(o, "name", json_object_new_string(p->name));
	json_object_object_add(o, "vcpus", json_object_new_int64(p->vcpus));
	json_object_object_add(o, "memory_mib", json_object_new_int64(p->memory_mib));
	json_object_object_add(o, "disk_gib", json_object_new_int64(p->disk_gib));
	json_object_object_add(o, "traffic_gib", json_object_new_int64(p->traffic_gib));
	json_object_object_add(o, "cpu_weight", json_object_new_int64(p->cpu_weight));
	json_object_object_add(o, "cpu_cap_pct", json_object_new_int64(p->cpu_cap_pct));
	json_object_object_add(o, "net_mbit", json_object_new_int64(p->net_mbit));
	json_object_object_add(o, "price_month_cents", json_object_new_int64(p->price_month_cents));
	json_object_object_add(o, "smtp_block", json_object_new_boolean(p->smtp_block));
	json_object_object_add(o, "on_crash", json_object_new_string(p->on_crash));
	json_object_object_add(o, "traffic_direction",
	                       json_object_new_string(quota_direction_name(p->traffic_direction)));
	json_object_object_add(o, "quota_action",
	                       json_object_new_string(quota_action_name(p->quota_action)));
	json_object_object_add(o, "over_quota_mbit", json_object_new_int64(p->over_quota_mbit));
	rating_price rp = {.month_cents = p->price_month_cents,
	                   .hour_microcents = p->price_hour_microcents};
	json_object_object_add(o, "price_hour_microcents",
	                       p->price_hour_microcents < 0
	                               ? NULL
	                               : json_object_new_int64(p->price_hour_microcents));
	json_object_object_add(o, "effective_price_hour_microcents",
	                       json_object_new_int64(rating_hour_rate(&rp)));
	json_object_object_add(o, "included_traffic_gib",
	                       p->included_traffic_gib < 0
	                               ? NULL
	                               : json_object_new_int64(p->included_traffic_gib));
	json_object_object_add(o, "overage_gib_microcents",
	                       json_object_new_int64(p->overage_gib_microcents));
	json_object_object_add(o, "ipv4_month_cents", json_object_new_int64(p->ipv4_month_cents));
	json_object_object_add(o, "created_at", json_time(p->created_at));
	return o;
}

/* 0 found, -ENOENT, -EIO. */
static int plan_load(int64_t id, plan *p)
{
	sqlite3_stmt *st = db_stmt("SELECT " PLAN_COLS " FROM plans WHERE id=?");
	int r;

	if (!st)
		return -EIO;
	sqlite3_bind_int64(st, 1, id);
	r = sqlite3_step(st);
	if (r == SQLITE_ROW)
		plan_from_row(st, p);
	sqlite3_reset(st);
	return r == SQLITE_ROW ? 0 : r == SQLITE_DONE ? -ENOENT : -EIO;
}

/* A nullable price field: absent leaves *out, JSON null sets -1 (the default), else 0..max. */
static bool nullable_int(json_object *body, const char *key, int64_t max, int64_t *out,
                         json_field_error *e)
{
	json_object *v;

	if (json_object_object_get_ex(body, key, &v) && json_object_is_type(v, json_type_null)) {
		*out = -1;
		return true;
	}
	return json_get_int(body, key, false, 0, max, out, e);
}

/* Overlays the body's fields on p (required: the create set). false with *e on a bad field. */
static bool plan_read(json_object *body, plan *p, bool create, json_field_error *e)
{
	const char *name = NULL, *why = NULL;

	if (!json_only_fields(body, plan_fields, e))
		return false;
	if (!json_get_str(body, "name", create, &name, e))
		return false;
	if (name) {
		if (!valid_label(name, &why)) {
			e->field = "name";
			e->detail = why ? why : "is not a valid name";
			e->status = 422;
			return false;
		}
		snprintf(p->name, sizeof(p->name), "%s", name);
	}
	if (!json_get_int(body, "vcpus", create, 1, 64, &p->vcpus, e) ||
	    !json_get_int(body, "memory_mib", create, 128, 1048576, &p->memory_mib, e) ||
	    !json_get_int(body, "disk_gib", create, 1, 16384, &p->disk_gib, e) ||
	    !json_get_int(body, "traffic_gib", false, 0, QUOTA_TRAFFIC_GIB_MAX, &p->traffic_gib,
	                  e) ||
	    !json_get_int(body, "over_quota_mbit", false, 1, QUOTA_MBIT_MAX, &p->over_quota_mbit,
	                  e) ||
	    !json_get_int(body, "cpu_weight", false, 1, 65535, &p->cpu_weight, e) ||
	    !json_get_int(body, "cpu_cap_pct", false, 0, 6400, &p->cpu_cap_pct, e) ||
	    !json_get_int(body, "net_mbit", false, 0, 100000, &p->net_mbit, e) ||
	    !json_get_int(body, "price_month_cents", false, 0, 1000000000, &p->price_month_cents,
	                  e) ||
	    !json_get_bool(body, "smtp_block", false, &p->smtp_block, e) ||
	    !json_get_int(body, "overage_gib_microcents", false, 0, RATING_MICRO_MAX,
	                  &p->overage_gib_microcents, e) ||
	    !json_get_int(body, "ipv4_month_cents", false, 0, RATING_CENTS_MAX,
	                  &p->ipv4_month_cents, e) ||
	    !nullable_int(body, "price_hour_microcents", RATING_MICRO_MAX,
	                  &p->price_hour_microcents, e) ||
	    !nullable_int(body, "included_traffic_gib", QUOTA_TRAFFIC_GIB_MAX,
	                  &p->included_traffic_gib, e))
		return false;
	const char *on_crash = NULL;
	if (!json_get_str(body, "on_crash", false, &on_crash, e))
		return false;
	if (on_crash) {
		if (strcmp(on_crash, "restart") != 0 && strcmp(on_crash, "stop") != 0) {
			e->field = "on_crash";
			e->detail = "must be restart or stop";
			e->status = 422;
			return false;
		}
		snprintf(p->on_crash, sizeof(p->on_crash), "%s", on_crash);
	}
	const char *dir = NULL, *act = NULL;
	if (!json_get_str(body, "traffic_direction", false, &dir, e) ||
	    !json_get_str(body, "quota_action", false, &act, e))
		return false;
	if (dir && !quota_direction_parse(dir, &p->traffic_direction)) {
		e->field = "traffic_direction";
		e->detail = "must be out, in or both";
		e->status = 422;
		return false;
	}
	if (act && !quota_action_parse(act, &p->quota_action)) {
		e->field = "quota_action";
		e->detail = "must be throttle or suspend";
		e->status = 422;
		return false;
	}
	if (p->cpu_cap_pct > p->vcpus * 100) {
		e->field = "cpu_cap_pct";
		e->detail = "must be at most vcpus * 100 (0 means no cap)";
		e->status = 422;
		return false;
	}
	return true;
}

static bool bind_plan_and_step(sqlite3_stmt *st, const plan *p, int64_t id_or_created)
{
	sqlite3_bind_text(st, 1, p->name, -1, SQLITE_TRANSIENT);
	sqlite3_bind_int64(st, 2, p->vcpus);
	sqlite3_bind_int64(st, 3, p->memory_mib);
	sqlite3_bind_int64(st, 4, p->disk_gib);
	sqlite3_bind_int64(st, 5, p->traffic_gib);
	sqlite3_bind_int64(st, 6, p->cpu_weight);
	sqlite3_bind_int64(st, 7, p->cpu_cap_pct);
	sqlite3_bind_int64(st, 8, p->net_mbit);
	sqlite3_bind_int64(st, 9, p->price_month_cents);
	sqlite3_bind_int64(st, 10, id_or_created);
	sqlite3_bind_int(st, 11, p->smtp_block ? 1 : 0);
	sqlite3_bind_text(st, 12, p->on_crash[0] ? p->on_crash : "restart", -1, SQLITE_TRANSIENT);
	sqlite3_bind_text(st, 13, quota_direction_name(p->traffic_direction), -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 14, quota_action_name(p->quota_action), -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 15, p->over_quota_mbit);
	if (p->price_hour_microcents >= 0)
		sqlite3_bind_int64(st, 16, p->price_hour_microcents);
	else
		sqlite3_bind_null(st, 16);
	if (p->included_traffic_gib >= 0)
		sqlite3_bind_int64(st, 17, p->included_traffic_gib);
	else
		sqlite3_bind_null(st, 17);
	sqlite3_bind_int64(st, 18, p->overage_gib_microcents);
	sqlite3_bind_int64(st, 19, p->ipv4_month_cents);
	int r = sqlite3_step(st);
	sqlite3_reset(st);
	return r == SQLITE_DONE;
}

static json_object *plan_item(sqlite3_stmt *st)
{
	plan p;

	plan_from_row(st, &p);
	return plan_json(&p);
}

/* A customer sees the plans it may order (issue 16 item 8; limits.h): all, or its list. */
#define PLANS_OFFERED                                                                              \
	" FROM plans WHERE COALESCE((SELECT plans_all FROM customer_limits WHERE "                 \
	"customer_id=?1), 1)"                                                                      \
	" OR id IN (SELECT plan_id FROM customer_plans WHERE customer_id=?1)"

void api_plans_list(http_req *rq)
{
	const api_page all = {
	        .count_sql = "SELECT count(*) FROM plans",
	        .rows_sql = "SELECT " PLAN_COLS " FROM plans ORDER BY id LIMIT ?1 OFFSET ?2",
	        .item_of_row = plan_item,
	};
	const api_page offered = {
	        .count_sql = "SELECT count(*)" PLANS_OFFERED,
	        .rows_sql = "SELECT " PLAN_COLS PLANS_OFFERED " ORDER BY id LIMIT ?2 OFFSET ?3",
	        .args = {rq->user.id},
	        .nargs = 1,
	        .item_of_row = plan_item,
	};

	api_reply_page(rq, rq->user.is_admin ? &all : &offered);
}

/* Queues kind for every VPS on plan_id that is not being deleted, inside the caller's
 * transaction (through job_enqueue, the jobs table's one writer). Returns how many, or -1. */
static int64_t queue_plan_jobs(int64_t plan_id, const char *kind, int64_t user_id)
{
	sqlite3_stmt *st = db_stmt("SELECT id FROM vps WHERE plan_id=? AND state!='deleting' "
	                           "ORDER BY id");
	int64_t *ids = NULL;
	size_t n = 0;

	if (!st)
		return -1;
	sqlite3_bind_int64(st, 1, plan_id);
	if (db_collect_ids(st, &ids, &n) != 0)
		return -1;
	for (size_t i = 0; i < n; i++) {
		if (job_enqueue(kind, ids[i], user_id) < 0) {
			free(ids);
			return -1;
		}
	}
	free(ids);
	return (int64_t)n;
}

void api_plans_create(http_req *rq)
{
	plan p = {.cpu_weight = 256,
	          .on_crash = "restart",
	          .over_quota_mbit = 1,
	          .price_hour_microcents = -1,
	          .included_traffic_gib = -1};
	json_field_error e = {0};
	sqlite3_stmt *st;
	char res[AUDIT_RESOURCE_MAX];

	if (!plan_read(rq->json, &p, true, &e)) {
		reply_field_error(rq, &e);
		return;
	}
	st = db_stmt(
	        "INSERT INTO plans(name, vcpus, memory_mib, disk_gib, traffic_gib, cpu_weight, "
	        "cpu_cap_pct, net_mbit, price_month_cents, created_at, smtp_block, on_crash, "
	        "traffic_direction, quota_action, over_quota_mbit, price_hour_microcents, "
	        "included_traffic_gib, overage_gib_microcents, ipv4_month_cents) "
	        "VALUES(?1,?2,?3,?4,?5,?6,?7,?8,?9,?10,?11,?12,?13,?14,?15,?16,?17,?18,?19)");
	if (!st) {
		reply_db_error(rq);
		return;
	}
	p.created_at = now_unix();
	if (!bind_plan_and_step(st, &p, p.created_at)) {
		if (db_unique_violation())
			reply_problem(rq, 409, NULL, "a plan with this name exists", "name");
		else
			reply_db_error(rq);
		return;
	}
	p.id = db_last_id();
	snprintf(res, sizeof(res), "plan/%lld", (long long)p.id);
	audit(rq, "plan.create", res, p.name);
	reply_json(rq, 201, plan_json(&p));
}

void api_plans_get(http_req *rq)
{
	int64_t id;
	plan p;

	if (!parse_id(rq->params[0], &id) || plan_load(id, &p) != 0 ||
	    (!rq->user.is_admin && limits_plan_allowed(rq->user.id, id) != 1)) {
		reply_not_found(rq, "plan");
		return;
	}
	reply_json(rq, 200, plan_json(&p));
}

void api_plans_patch(http_req *rq)
{
	json_field_error e = {0};
	sqlite3_stmt *st;
	int64_t id, queued = 0;
	plan old, p;
	const char *kind = NULL;
	char res[AUDIT_RESOURCE_MAX], detail[AUDIT_DETAIL_MAX];

	if (!parse_id(rq->params[0], &id) || plan_load(id, &old) != 0) {
		reply_not_found(rq, "plan");
		return;
	}
	p = old;
	if (!plan_read(rq->json, &p, false, &e)) {
		reply_field_error(rq, &e);
		return;
	}
	if (db_begin() != 0) {
		reply_db_error(rq);
		return;
	}
	st = db_stmt("UPDATE plans SET name=?1, vcpus=?2, memory_mib=?3, disk_gib=?4, "
	             "traffic_gib=?5, cpu_weight=?6, cpu_cap_pct=?7, net_mbit=?8, "
	             "price_month_cents=?9, smtp_block=?11, on_crash=?12, traffic_direction=?13, "
	             "quota_action=?14, over_quota_mbit=?15, price_hour_microcents=?16, "
	             "included_traffic_gib=?17, overage_gib_microcents=?18, ipv4_month_cents=?19 "
	             "WHERE id=?10");
	if (!st)
		goto db_fail;
	if (!bind_plan_and_step(st, &p, id)) {
		bool dup = db_unique_violation();

		db_rollback();
		if (dup)
			reply_problem(rq, 409, NULL, "a plan with this name exists", "name");
		else
			reply_db_error(rq);
		return;
	}
	/* Shares, sizes and the rate reach running domains through vps.ensure (issue 3 item 6);
	 * smtp_block alone only needs the firewall: vps.network (which vps.ensure includes). */
	if (p.vcpus != old.vcpus || p.memory_mib != old.memory_mib ||
	    p.cpu_weight != old.cpu_weight || p.cpu_cap_pct != old.cpu_cap_pct ||
	    p.net_mbit != old.net_mbit || strcmp(p.on_crash, old.on_crash) != 0)
		kind = "vps.update"; /* on_crash reaches the agent with the spec (vps.ensure) */
	else if (p.smtp_block != old.smtp_block)
		kind = "vps.network";
	if (kind) {
		queued = queue_plan_jobs(id, kind, rq->user.id);
		if (queued < 0)
			goto db_fail;
	}
	if (db_commit() != 0) {
		reply_db_error(rq);
		return;
	}
	if (queued > 0)
		jobs_wake();
	/* A quota change reaches the ladder now: a throttle in force follows over_quota_mbit (its
	 * own vps.network job), a raised quota lifts, a lowered one acts. */
	if (p.over_quota_mbit != old.over_quota_mbit || p.traffic_gib != old.traffic_gib ||
	    p.quota_action != old.quota_action || p.traffic_direction != old.traffic_direction)
		quota_check_plan(id);
	snprintf(res, sizeof(res), "plan/%lld", (long long)id);
	snprintf(detail, sizeof(detail), "%lld %s job(s)", (long long)queued,
	         kind ? kind : "vps.update");
	audit(rq, "plan.update", res, detail);
	reply_json(rq, 200, plan_json(&p));
	return;
db_fail:
	db_rollback();
	reply_db_error(rq);
}

void api_plans_delete(http_req *rq)
{
	int64_t id;
	plan p;
	char res[AUDIT_RESOURCE_MAX];

	if (!parse_id(rq->params[0], &id) || plan_load(id, &p) != 0) {
		reply_not_found(rq, "plan");
		return;
	}
	if (!api_delete_unless_used(rq, id, "SELECT 1 FROM vps WHERE plan_id=? LIMIT 1",
	                            "the plan is in use by a VPS", "DELETE FROM plans WHERE id=?"))
		return;
	snprintf(res, sizeof(res), "plan/%lld", (long long)id);
	audit(rq, "plan.delete", res, p.name);
	reply_empty(rq, 204);
}
