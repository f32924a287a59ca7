/* api_pool_resolvers.c — the DNS resolvers of an IP pool (issue 16 item 2; admin): up to 3
 * IPv4/IPv6 addresses in ip_pools.resolvers (JSON, canonical text), given at POST /ip-pools or
 * changed by PATCH /ip-pools/{id} {"resolvers"}. They reach a VPS's seed (guest_settings.c,
 * guest_spec_add) with the next job that writes it (a settings change, start, reboot, resize,
 * reinstall); the guest writes them to /etc/resolv.conf at its next boot. */
#include <arpa/inet.h>
#include <stdio.h>
#include <string.h>

#include "../common/validate.h"
#include "api.h"
#include "audit.h"
#include "guest_settings.h"
#include "http.h"
#include "store.h"

bool pool_resolvers_read(http_req *rq, bool *given, json_object **canon_out)
{
	json_field_error e = {0};
	json_object *list = NULL, *canon;
	size_t n;

	*given = false;
	*canon_out = NULL;
	if (!json_get_str_array(rq->json, "resolvers", false, GUEST_MAX_RESOLVERS, &list, &e)) {
		reply_field_error(rq, &e);
		return false;
	}
	if (!list)
		return true;
	*given = true;
	canon = json_object_new_array();
	n = json_object_array_length(list);
	for (size_t i = 0; i < n; i++) {
		const char *a = json_object_get_string(json_object_array_get_idx(list, i));
		char text[INET6_ADDRSTRLEN];
		uint8_t b[16];
		bool dup = false;

		if (parse_ipv4(a, b)) {
			inet_ntop(AF_INET, b, text, sizeof(text));
		} else if (parse_ipv6(a, b)) {
			inet_ntop(AF_INET6, b, text, sizeof(text));
		} else {
			json_object_put(canon);
			reply_field(rq, "resolvers",
			            "holds an item that is not an IPv4 or IPv6 address");
			return false;
		}
		for (size_t j = 0; j < json_object_array_length(canon) && !dup; j++)
			dup = strcmp(json_object_get_string(json_object_array_get_idx(canon, j)),
			             text) == 0;
		if (dup) {
			json_object_put(canon);
			reply_field(rq, "resolvers", "holds the same address twice");
			return false;
		}
		json_object_array_add(canon, json_object_new_string(text));
	}
	*canon_out = canon;
	return true;
}

int pool_resolvers_store(int64_t id, json_object *canon)
{
	sqlite3_stmt *st = db_stmt("UPDATE ip_pools SET resolvers=?1 WHERE id=?2");

	if (!st)
		return -1;
	if (canon && json_object_array_length(canon) > 0)
		sqlite3_bind_text(st, 1, json_compact(canon), -1, SQLITE_TRANSIENT);
	sqlite3_bind_int64(st, 2, id);
	return db_step_done(st) && sqlite3_changes(db()) == 1 ? 0 : -1;
}

json_object *pool_resolvers_json(int64_t id)
{
	sqlite3_stmt *st = db_stmt("SELECT resolvers FROM ip_pools WHERE id=?");
	json_object *list = NULL;

	if (st) {
		sqlite3_bind_int64(st, 1, id);
		if (sqlite3_step(st) == SQLITE_ROW && sqlite3_column_type(st, 0) != SQLITE_NULL)
			list = json_tokener_parse((const char *)sqlite3_column_text(st, 0));
		sqlite3_reset(st);
	}
	if (!list || !json_object_is_type(list, json_type_array)) {
		json_object_put(list);
		list = json_object_new_array();
	}
	return list;
}

void api_pools_patch(http_req *rq)
{
	static const char *const fields[] = {"resolvers", NULL};
	char res[AUDIT_RESOURCE_MAX], detail[AUDIT_DETAIL_MAX];
	json_field_error e = {0};
	json_object *canon = NULL;
	bool given = false, exists = false;
	int64_t id;

	if (!parse_id(rq->params[0], &id) ||
	    !db_exists_id("SELECT 1 FROM ip_pools WHERE id=?", id, &exists) || !exists) {
		reply_not_found(rq, "IP pool");
		return;
	}
	snprintf(res, sizeof(res), "ip-pool/%lld", (long long)id);
	if (!json_only_fields(rq->json, fields, &e)) {
		audit(rq, "ip-pool.update.refused", res, e.detail);
		reply_field_error(rq, &e);
		return;
	}
	if (!pool_resolvers_read(rq, &given, &canon)) {
		audit(rq, "ip-pool.update.refused", res, "(422): resolvers");
		return;
	}
	if (given &&
	    (db_begin() != 0 || pool_resolvers_store(id, canon) != 0 || db_commit() != 0)) {
		db_rollback();
		json_object_put(canon);
		reply_db_error(rq);
		return;
	}
	if (given) {
		snprintf(detail, sizeof(detail), "resolvers %s", json_compact(canon));
		audit(rq, "ip-pool.update", res, detail);
	}
	json_object_put(canon);
	api_pools_get(rq);
}
