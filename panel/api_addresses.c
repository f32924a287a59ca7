/* api_addresses.c — a VPS's addresses and throttle (issue 4): list them (admin, or the customer
 * who owns the VPS), add an extra address or routed /64 and remove one (admin), set and lift a
 * throttle (admin). Every change is one transaction that also queues a vps.network job, so a
 * refused request leaves no row behind and an accepted one reaches the host's firewall and
 * shaping at once. A removed address is only marked 'releasing': it leaves the spec but stays
 * taken until the agent applied the spec without it (vps_spec.c), so that no other VPS can get
 * it while the old one may still use it. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../common/util.h"
#include "../common/validate.h"
#include "api.h"
#include "audit.h"
#include "http.h"
#include "ipam.h"
#include "jobs.h"
#include "store.h"

#define THROTTLE_MAX_MBIT 100000

/* Opens the transaction and checks that the VPS exists and is not being deleted. true, or
 * answered (and rolled back). */
static bool begin_on_vps(http_req *rq, int64_t id)
{
	char state[VPS_STATE_MAX];
	int rc;

	if (db_begin() != 0) {
		reply_db_error(rq);
		return false;
	}
	rc = api_vps_visible(rq, id, state, NULL);
	if (rc == 0 && strcmp(state, "deleting") != 0)
		return true;
	db_rollback();
	if (rc == -ENOENT)
		reply_not_found(rq, "VPS");
	else if (rc == 0)
		reply_problem(rq, 409, NULL, "the VPS is being deleted", NULL);
	else
		reply_db_error(rq);
	return false;
}

/* Inside the transaction: queues vps.network, commits, audits and answers 202 {"job"} plus
 * "address" when address is not NULL (ownership taken). On failure rolls back and answers. */
static void commit_network(http_req *rq, int64_t id, const char *action, const char *detail,
                           json_object *address)
{
	int64_t job = job_enqueue("vps.network", id, rq->user.id);
	json_object *resp;
	char res[AUDIT_RESOURCE_MAX];

	if (job < 0) {
		db_rollback();
		json_object_put(address);
		reply_db_error(rq);
		return;
	}
	if (db_commit() != 0) {
		json_object_put(address);
		reply_db_error(rq);
		return;
	}
	jobs_wake();
	snprintf(res, sizeof(res), "vps/%lld", (long long)id);
	audit(rq, action, res, detail);
	resp = json_object_new_object();
	if (address)
		json_object_object_add(resp, "address", address);
	json_object_object_add(resp, "job", job_json(job));
	reply_json(rq, 202, resp);
}

/* Runs a one-row UPDATE of sql with (value, id) bound; false on a database error. */
static bool update_vps(const char *sql, int64_t value, int64_t id)
{
	sqlite3_stmt *st = db_stmt(sql);
	int r;

	if (!st)
		return false;
	sqlite3_bind_int64(st, 1, value);
	sqlite3_bind_int64(st, 2, id);
	r = sqlite3_step(st);
	sqlite3_reset(st);
	return r == SQLITE_DONE;
}

#define ADDRESS_COLS "a.address, pl.family, a.prefix_len, a.pool_id, a.extra, a.state"

/* {"address","family","prefix_len"|null,"pool","extra","state"} from ADDRESS_COLS. */
static json_object *address_from_row(sqlite3_stmt *st)
{
	json_object *o = json_object_new_object();

	json_object_object_add(o, "address",
	                       json_object_new_string((const char *)sqlite3_column_text(st, 0)));
	json_object_object_add(o, "family", json_object_new_int(sqlite3_column_int(st, 1)));
	json_object_object_add(o, "prefix_len", json_col_int_or_null(st, 2));
	json_object_object_add(o, "pool", json_id(sqlite3_column_int64(st, 3)));
	json_object_object_add(o, "extra", json_object_new_boolean(sqlite3_column_int(st, 4)));
	json_object_object_add(o, "state",
	                       json_object_new_string((const char *)sqlite3_column_text(st, 5)));
	return o;
}

void api_addresses_list(http_req *rq)
{
	sqlite3_stmt *st;
	json_object *arr;
	char state[VPS_STATE_MAX];
	int64_t id;
	int r;

	if (!parse_id(rq->params[0], &id)) {
		reply_not_found(rq, "VPS");
		return;
	}
	r = api_vps_visible(rq, id, state, NULL);
	if (r != 0) {
		if (r == -ENOENT)
			reply_not_found(rq, "VPS");
		else
			reply_db_error(rq);
		return;
	}
	st = db_stmt("SELECT " ADDRESS_COLS " FROM ip_addresses a JOIN ip_pools pl "
	             "ON pl.id=a.pool_id WHERE a.vps_id=? ORDER BY pl.family, a.extra, a.rowid");
	if (!st) {
		reply_db_error(rq);
		return;
	}
	sqlite3_bind_int64(st, 1, id);
	arr = json_object_new_array();
	while ((r = sqlite3_step(st)) == SQLITE_ROW)
		json_object_array_add(arr, address_from_row(st));
	sqlite3_reset(st);
	if (r != SQLITE_DONE) {
		json_object_put(arr);
		reply_db_error(rq);
		return;
	}
	api_total_header(rq, (int64_t)json_object_array_length(arr));
	reply_json(rq, 200, arr);
}

/* The row just assigned, as JSON (NULL on a database error). */
static json_object *address_json(int64_t pool_id, const char *address)
{
	sqlite3_stmt *st = db_stmt("SELECT " ADDRESS_COLS " FROM ip_addresses a JOIN ip_pools pl "
	                           "ON pl.id=a.pool_id WHERE a.pool_id=? AND a.address=?");
	json_object *o = NULL;

	if (!st)
		return NULL;
	sqlite3_bind_int64(st, 1, pool_id);
	sqlite3_bind_text(st, 2, address, -1, SQLITE_TRANSIENT);
	if (sqlite3_step(st) == SQLITE_ROW)
		o = address_from_row(st);
	sqlite3_reset(st);
	return o;
}

/* Answers an ipam_assign() failure (the transaction is rolled back by the caller). */
static void reply_assign_error(http_req *rq, int rc, const ipam_got *g)
{
	switch (rc) {
	case -ENOENT: /* an unknown pool is bad input; no pool of the family a conflict */
		if (g->field)
			reply_field(rq, g->field, g->why);
		else
			reply_problem(rq, 409, NULL, g->why, NULL);
		return;
	case -EINVAL:
		reply_field(rq, g->field ? g->field : "address", g->why);
		return;
	case -EEXIST:
	case -ENOSPC:
	case -EDQUOT:
		reply_problem(rq, 409, NULL, g->why, g->field);
		return;
	default:
		reply_db_error(rq);
	}
}

void api_addresses_add(http_req *rq)
{
	static const char *const fields[] = {"family", "pool", "address", NULL};
	json_field_error e = {0};
	const char *pool = NULL, *address = NULL;
	int64_t id, family = 0;
	ipam_want want = {0};
	ipam_got got;
	json_object *o;
	char text[IPAM_ADDR_MAX];
	int rc;

	if (!parse_id(rq->params[0], &id)) {
		reply_not_found(rq, "VPS");
		return;
	}
	if (!json_only_fields(rq->json, fields, &e) ||
	    !json_get_int(rq->json, "family", true, 4, 6, &family, &e) ||
	    !json_get_str(rq->json, "pool", false, &pool, &e) ||
	    !json_get_str(rq->json, "address", false, &address, &e)) {
		reply_field_error(rq, &e);
		return;
	}
	if (family == 5) {
		reply_field(rq, "family", "must be 4 or 6");
		return;
	}
	if (pool && !parse_id(pool, &want.pool_id)) {
		reply_field(rq, "pool", "unknown IP pool");
		return;
	}
	if (address && (!*address || strlen(address) >= IPAM_ADDR_MAX)) {
		reply_field(rq, "address", "is not an IP address");
		return;
	}
	want.family = (int)family;
	want.address = address;
	want.extra = true;
	if (!begin_on_vps(rq, id))
		return;
	rc = ipam_assign(id, &want, &got);
	if (rc != 0) {
		db_rollback();
		reply_assign_error(rq, rc, &got);
		return;
	}
	o = address_json(got.pool_id, got.address);
	if (!o) {
		db_rollback();
		reply_db_error(rq);
		return;
	}
	ipam_format_assigned(got.address, got.prefix_len, text);
	commit_network(rq, id, "vps.address.add", text, o);
}

/* The path's address (and "64" when the route carried a prefix length) as family and canonical
 * text; false when it is no address this API hands out. */
static bool path_address(http_req *rq, int *family, char text[IPAM_ADDR_MAX], int *plen)
{
	uint8_t a[16] = {0};

	*plen = 0;
	if (rq->nparams > 2) {
		if (strcmp(rq->params[2], "64") != 0)
			return false;
		*plen = 64;
	}
	if (parse_ipv4(rq->params[1], a))
		*family = 4;
	else if (parse_ipv6(rq->params[1], a))
		*family = 6;
	else
		return false;
	if (*plen && *family != 6)
		return false;
	ipam_format(*family, a, text);
	return true;
}

void api_addresses_delete(http_req *rq)
{
	sqlite3_stmt *st;
	char text[IPAM_ADDR_MAX], shown[IPAM_ADDR_MAX];
	int64_t id, rowid;
	int family, plen, row_plen, r;
	bool extra, releasing;

	if (!parse_id(rq->params[0], &id)) {
		reply_not_found(rq, "VPS");
		return;
	}
	if (!path_address(rq, &family, text, &plen)) {
		reply_not_found(rq, "address");
		return;
	}
	if (!begin_on_vps(rq, id))
		return;
	st = db_stmt("SELECT a.rowid, a.extra, a.state, COALESCE(a.prefix_len, 0) "
	             "FROM ip_addresses a JOIN ip_pools pl ON pl.id=a.pool_id "
	             "WHERE a.vps_id=? AND a.address=? AND pl.family=?");
	if (!st) {
		db_rollback();
		reply_db_error(rq);
		return;
	}
	sqlite3_bind_int64(st, 1, id);
	sqlite3_bind_text(st, 2, text, -1, SQLITE_TRANSIENT);
	sqlite3_bind_int(st, 3, family);
	r = sqlite3_step(st);
	if (r == SQLITE_ROW) {
		rowid = sqlite3_column_int64(st, 0);
		extra = sqlite3_column_int(st, 1) != 0;
		releasing = strcmp((const char *)sqlite3_column_text(st, 2), "releasing") == 0;
		row_plen = sqlite3_column_int(st, 3);
	}
	sqlite3_reset(st);
	if (r != SQLITE_ROW || (plen && plen != row_plen)) {
		db_rollback();
		if (r == SQLITE_ROW || r == SQLITE_DONE)
			reply_not_found(rq, "address");
		else
			reply_db_error(rq);
		return;
	}
	if (!extra) {
		db_rollback();
		reply_problem(rq, 409, "Conflict",
		              "this is the VPS's primary address: only extra addresses can be "
		              "removed (deleting the VPS frees it)",
		              NULL);
		return;
	}
	/* Already releasing: a new job retries the release (the last one may have failed). */
	if (!releasing) {
		st = db_stmt("UPDATE ip_addresses SET state='releasing' WHERE rowid=?");
		r = st ? (sqlite3_bind_int64(st, 1, rowid), sqlite3_step(st)) : SQLITE_ERROR;
		if (st)
			sqlite3_reset(st);
		if (r != SQLITE_DONE) {
			db_rollback();
			reply_db_error(rq);
			return;
		}
	}
	ipam_format_assigned(text, row_plen, shown);
	commit_network(rq, id, "vps.address.remove", shown, NULL);
}

void api_throttle_set(http_req *rq)
{
	static const char *const fields[] = {"mbit", NULL};
	json_field_error e = {0};
	int64_t id, mbit = 0;
	char detail[AUDIT_DETAIL_MAX];

	if (!parse_id(rq->params[0], &id)) {
		reply_not_found(rq, "VPS");
		return;
	}
	if (!json_only_fields(rq->json, fields, &e) ||
	    !json_get_int(rq->json, "mbit", true, 1, THROTTLE_MAX_MBIT, &mbit, &e)) {
		reply_field_error(rq, &e);
		return;
	}
	if (!begin_on_vps(rq, id))
		return;
	if (!update_vps("UPDATE vps SET throttle_mbit=?1 WHERE id=?2", mbit, id)) {
		db_rollback();
		reply_db_error(rq);
		return;
	}
	snprintf(detail, sizeof(detail), "%lld Mbit/s", (long long)mbit);
	commit_network(rq, id, "vps.throttle.set", detail, NULL);
}

void api_throttle_lift(http_req *rq)
{
	int64_t id;

	if (!parse_id(rq->params[0], &id)) {
		reply_not_found(rq, "VPS");
		return;
	}
	if (!begin_on_vps(rq, id))
		return;
	if (!update_vps("UPDATE vps SET throttle_mbit=?1 WHERE id=?2", 0, id)) {
		db_rollback();
		reply_db_error(rq);
		return;
	}
	commit_network(rq, id, "vps.throttle.lift", NULL, NULL);
}
