/* api_pools.c — /ip-pools (admin): the IPv4/IPv6 networks VPS addresses come from
 * (docs/openapi.yaml). Pools never overlap, their gateway and reserved entries are checked
 * addresses inside them, an IPv6 pool may hand out routed /64s ("vps_prefix": 64), and a pool with
 * allocated addresses (releasing ones included) is never deleted. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../common/util.h"
#include "api.h"
#include "audit.h"
#include "http.h"
#include "ipam.h"
#include "store.h"

static int64_t pool_allocated(int64_t id)
{
	int64_t n;

	db_count("SELECT count(*) FROM ip_addresses WHERE pool_id=?", id, &n); /* 0 on error */
	return n;
}

/* {"id","family","cidr","gateway","reserved","vps_prefix","size","allocated","created_at"} or
 * NULL. */
static json_object *pool_json(int64_t id)
{
	sqlite3_stmt *st = db_stmt(
	        "SELECT family, cidr, gateway, reserved, created_at FROM ip_pools WHERE id=?");
	json_object *o, *reserved;
	ipam_pool p;
	int64_t created_at;
	int r;

	if (!st)
		return NULL;
	sqlite3_bind_int64(st, 1, id);
	r = sqlite3_step(st);
	if (r != SQLITE_ROW) {
		sqlite3_reset(st);
		return NULL;
	}
	o = json_object_new_object();
	json_object_object_add(o, "id", json_id(id));
	json_object_object_add(o, "family", json_object_new_int(sqlite3_column_int(st, 0)));
	json_object_object_add(o, "cidr",
	                       json_object_new_string((const char *)sqlite3_column_text(st, 1)));
	json_object_object_add(o, "gateway",
	                       json_object_new_string((const char *)sqlite3_column_text(st, 2)));
	const unsigned char *rtext = sqlite3_column_text(st, 3);
	reserved = json_tokener_parse(rtext ? (const char *)rtext : "[]");
	if (!reserved || !json_object_is_type(reserved, json_type_array)) {
		json_object_put(reserved);
		reserved = json_object_new_array();
	}
	json_object_object_add(o, "reserved", reserved);
	created_at = sqlite3_column_int64(st, 4);
	sqlite3_reset(st);
	if (ipam_pool_load(id, &p) == 0) {
		json_object_object_add(o, "vps_prefix",
		                       json_object_new_int(ipam_pool_vps_prefix(&p)));
		json_object_object_add(o, "size",
		                       json_object_new_int64((int64_t)ipam_pool_size(&p)));
		ipam_pool_dispose(&p);
	} else {
		json_object_object_add(o, "vps_prefix", NULL);
		json_object_object_add(o, "size", NULL);
	}
	json_object_object_add(o, "allocated", json_object_new_int64(pool_allocated(id)));
	json_object_object_add(o, "created_at", json_time(created_at));
	json_object_object_add(o, "resolvers", pool_resolvers_json(id)); /* issue 16 item 2 */
	return o;
}

void api_pools_list(http_req *rq)
{
	const api_page page = {
	        .count_sql = "SELECT count(*) FROM ip_pools",
	        .rows_sql = "SELECT id FROM ip_pools ORDER BY id LIMIT ?1 OFFSET ?2",
	        .item_of_id = pool_json,
	};

	api_reply_page(rq, &page);
}

void api_pools_get(http_req *rq)
{
	json_object *o;
	int64_t id;

	if (!parse_id(rq->params[0], &id) || !(o = pool_json(id))) {
		reply_not_found(rq, "IP pool");
		return;
	}
	reply_json(rq, 200, o);
}

/* 409 when p overlaps a pool in the table; false also on a database error (answered). */
static bool check_no_overlap(http_req *rq, const ipam_pool *p)
{
	sqlite3_stmt *st = db_stmt("SELECT id FROM ip_pools WHERE family=? ORDER BY id");
	int64_t *ids = NULL;
	size_t n = 0, cap = 0;
	bool ok = true;

	if (!st) {
		reply_db_error(rq);
		return false;
	}
	sqlite3_bind_int(st, 1, p->family);
	while (sqlite3_step(st) == SQLITE_ROW) {
		if (n == cap) {
			size_t ncap = cap ? cap * 2 : 16;
			int64_t *nids = realloc(ids, ncap * sizeof(*ids));

			if (!nids) {
				ok = false;
				break;
			}
			ids = nids;
			cap = ncap;
		}
		ids[n++] = sqlite3_column_int64(st, 0);
	}
	sqlite3_reset(st);
	if (!ok) {
		free(ids);
		reply_db_error(rq);
		return false;
	}
	for (size_t i = 0; i < n && ok; i++) {
		ipam_pool other;

		if (ipam_pool_load(ids[i], &other) != 0)
			continue;
		if (ipam_pools_overlap(p, &other)) {
			char cidr[IPAM_ADDR_MAX + 4], detail[PROBLEM_DETAIL_MAX];

			ipam_format_cidr(&other, cidr);
			snprintf(detail, sizeof(detail),
			         "the network overlaps pool %lld (%s); pools may not share "
			         "addresses",
			         (long long)other.id, cidr);
			reply_problem(rq, 409, NULL, detail, "cidr");
			ok = false;
		}
		ipam_pool_dispose(&other);
	}
	free(ids);
	return ok;
}

void api_pools_create(http_req *rq)
{
	static const char *const fields[] = {"family",     "cidr",      "gateway", "reserved",
	                                     "vps_prefix", "resolvers", NULL};
	json_field_error e = {0};
	const char *cidr = NULL, *gateway = NULL, *field = NULL, *why = NULL;
	const char **list = NULL;
	json_object *reserved = NULL, *canon = NULL, *resolvers = NULL;
	bool with_resolvers = false;
	int64_t family = 0, vps_prefix = -1, id;
	char text[IPAM_ADDR_MAX + 4], gw[IPAM_ADDR_MAX], res[AUDIT_RESOURCE_MAX];
	ipam_pool p = {0};
	sqlite3_stmt *st;
	size_t n = 0;
	int r;

	if (!json_only_fields(rq->json, fields, &e) ||
	    !json_get_int(rq->json, "family", true, 4, 6, &family, &e) ||
	    !json_get_str(rq->json, "cidr", true, &cidr, &e) ||
	    !json_get_str(rq->json, "gateway", true, &gateway, &e) ||
	    !json_get_str_array(rq->json, "reserved", false, IPAM_MAX_RESERVED, &reserved, &e) ||
	    !json_get_int(rq->json, "vps_prefix", false, 0, 128, &vps_prefix, &e)) {
		reply_field_error(rq, &e);
		return;
	}
	if (family == 5) {
		e = (json_field_error){
		        .field = "family", .detail = "must be 4 or 6", .status = 422};
		reply_field_error(rq, &e);
		return;
	}
	if (reserved) {
		n = json_object_array_length(reserved);
		list = calloc(n ? n : 1, sizeof(*list));
		if (!list) {
			reply_db_error(rq);
			return;
		}
		for (size_t i = 0; i < n; i++)
			list[i] = json_object_get_string(json_object_array_get_idx(reserved, i));
	}
	r = ipam_pool_parse((int)family, cidr, gateway, list, n, &p, &field, &why);
	free(list);
	if (r == 0)
		r = ipam_pool_set_vps_prefix(&p, vps_prefix, &field, &why);
	if (r != 0) {
		e = (json_field_error){.field = field, .detail = why, .status = 422};
		reply_field_error(rq, &e);
		return;
	}

	/* Store canonical text so that equal addresses compare equal everywhere. */
	canon = json_object_new_array();
	for (size_t i = 0; i < p.n_reserved; i++) {
		char a[IPAM_ADDR_MAX];
		bool dup = false;

		ipam_format(p.family, p.reserved[i], a);
		for (size_t j = 0; j < json_object_array_length(canon) && !dup; j++)
			dup = strcmp(json_object_get_string(json_object_array_get_idx(canon, j)),
			             a) == 0;
		if (!dup)
			json_object_array_add(canon, json_object_new_string(a));
	}
	ipam_format_cidr(&p, text);
	ipam_format(p.family, p.gw, gw);

	if (!pool_resolvers_read(rq, &with_resolvers, &resolvers))
		goto out;
	if (db_begin() != 0) {
		reply_db_error(rq);
		goto out;
	}
	if (!check_no_overlap(rq, &p)) {
		db_rollback();
		goto out;
	}
	st = db_stmt(
	        "INSERT INTO ip_pools(family, cidr, gateway, reserved, created_at, vps_prefix) "
	        "VALUES(?,?,?,?,?,?)");
	if (!st) {
		db_rollback();
		reply_db_error(rq);
		goto out;
	}
	sqlite3_bind_int(st, 1, p.family);
	sqlite3_bind_text(st, 2, text, -1, SQLITE_TRANSIENT);
	sqlite3_bind_text(st, 3, gw, -1, SQLITE_TRANSIENT);
	sqlite3_bind_text(st, 4, json_compact(canon), -1, SQLITE_TRANSIENT);
	sqlite3_bind_int64(st, 5, now_unix());
	if (p.vps_prefix)
		sqlite3_bind_int(st, 6, p.vps_prefix);
	r = sqlite3_step(st);
	sqlite3_reset(st);
	if (r != SQLITE_DONE) {
		bool dup = db_unique_violation();

		db_rollback();
		if (dup)
			reply_problem(rq, 409, NULL, "the network overlaps an existing pool",
			              "cidr");
		else
			reply_db_error(rq);
		goto out;
	}
	id = db_last_id();
	if ((with_resolvers && pool_resolvers_store(id, resolvers) != 0) || db_commit() != 0) {
		db_rollback();
		reply_db_error(rq);
		goto out;
	}
	snprintf(res, sizeof(res), "ip-pool/%lld", (long long)id);
	audit(rq, "ip-pool.create", res, text);
	json_object *o = pool_json(id);
	if (o)
		reply_json(rq, 201, o);
	else
		reply_db_error(rq);
out:
	json_object_put(canon);
	json_object_put(resolvers);
	ipam_pool_dispose(&p);
}

void api_pools_delete(http_req *rq)
{
	json_object *o;
	int64_t id;
	char res[AUDIT_RESOURCE_MAX];

	if (!parse_id(rq->params[0], &id) || !(o = pool_json(id))) {
		reply_not_found(rq, "IP pool");
		return;
	}
	json_object_put(o);
	if (!api_delete_unless_used(rq, id, "SELECT 1 FROM ip_addresses WHERE pool_id=? LIMIT 1",
	                            "addresses of this pool are allocated",
	                            "DELETE FROM ip_pools WHERE id=?"))
		return;
	snprintf(res, sizeof(res), "ip-pool/%lld", (long long)id);
	audit(rq, "ip-pool.delete", res, NULL);
	reply_empty(rq, 204);
}
