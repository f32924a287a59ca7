/* api_rdns.c — reverse DNS (issue 16 item 4; docs/openapi.yaml): GET /vps/{id}/rdns, PUT and
 * DELETE /vps/{id}/rdns/{address} (the VPS's owner or an admin), GET and PUT /settings/rdns
 * (admin). A PTR may name any address the VPS holds (state active) and any address inside a
 * routed /64 it holds. Setting one: the name is checked (rdns_check.c), PowerDNS is changed
 * first (rdns.c) and the row is committed only when it accepted; PowerDNS unreachable: 503,
 * refusing: 502, nothing stored. With PowerDNS off the row is stored unpublished. Every
 * attempt, refused ones included, is audited. */
#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "../common/util.h"
#include "../common/validate.h"
#include "api.h"
#include "audit.h"
#include "http.h"
#include "ipam.h"
#include "rdns.h"
#include "store.h"

#define SETTING_MAX (RDNS_ZONES_MAX * RDNS_NAME_MAX)

/* The address a request is about: family, bytes and canonical text. */
typedef struct ptr_addr {
	int family;
	uint8_t a[16];
	char text[IPAM_ADDR_MAX];
	int64_t pool_id;            /* the ip_addresses row holding it */
	char holder[IPAM_ADDR_MAX]; /* that row's address (a /64: its network address) */
	char within[IPAM_ADDR_MAX]; /* "2001:db8:1:2::/64" when held through a /64, else "" */
} ptr_addr;

static void audit_rdns(http_req *rq, int64_t id, const char *action, const char *detail)
{
	char res[AUDIT_RESOURCE_MAX];

	snprintf(res, sizeof(res), "vps/%lld", (long long)id);
	audit(rq, action, res, detail);
}

/* Answers a refusal with status (404 for "address"/"VPS", 422 with field, else a problem)
 * and audits it as vps.rdns.refused. */
static void refuse(http_req *rq, int64_t id, int status, const char *field, const char *addr,
                   const char *detail)
{
	char why[AUDIT_DETAIL_MAX];

	snprintf(why, sizeof(why), "(%d) %s: %s", status, addr ? addr : "-", detail);
	audit_rdns(rq, id, "vps.rdns.refused", why);
	if (status == 404)
		reply_problem(rq, 404, NULL, detail, NULL);
	else if (status == 422 && field)
		reply_field(rq, field, detail);
	else if (status == 500)
		reply_db_error(rq);
	else
		reply_problem(rq, status, NULL, detail, field);
}

/* Finds the active ip_addresses row of vps id holding p (the address itself, or the routed
 * /64 it lies in). 0, -ENOENT, -EIO. */
static int find_holder(int64_t id, ptr_addr *p)
{
	sqlite3_stmt *st = db_stmt("SELECT a.pool_id, a.address, COALESCE(a.prefix_len, 0) "
	                           "FROM ip_addresses a JOIN ip_pools pl ON pl.id = a.pool_id "
	                           "WHERE a.vps_id = ? AND pl.family = ? AND a.state = 'active'");
	int r, rc = -ENOENT;

	if (!st)
		return -EIO;
	sqlite3_bind_int64(st, 1, id);
	sqlite3_bind_int(st, 2, p->family);
	while (rc == -ENOENT && (r = sqlite3_step(st)) == SQLITE_ROW) {
		const char *addr = (const char *)sqlite3_column_text(st, 1);
		int plen = sqlite3_column_int(st, 2);
		uint8_t h[16] = {0};

		if (plen == 0 && strcmp(addr, p->text) == 0) {
			p->within[0] = '\0';
		} else if (plen == 64 && p->family == 6 && parse_ipv6(addr, h) &&
		           memcmp(h, p->a, 8) == 0) {
			ipam_format_assigned(addr, 64, p->within);
		} else {
			continue;
		}
		p->pool_id = sqlite3_column_int64(st, 0);
		snprintf(p->holder, sizeof(p->holder), "%s", addr);
		rc = 0;
	}
	if (rc == -ENOENT && r != SQLITE_DONE)
		rc = -EIO;
	sqlite3_reset(st);
	return rc;
}

/* The VPS of the path, visible to rq and not being deleted (for_write), and the address of
 * the path parsed. False when answered. */
static bool path_target(http_req *rq, bool for_write, int64_t *id, ptr_addr *p)
{
	char state[VPS_STATE_MAX];
	int rc;

	memset(p, 0, sizeof(*p));
	if (!parse_id(rq->params[0], id)) {
		reply_not_found(rq, "VPS");
		return false;
	}
	rc = api_vps_visible(rq, *id, state, NULL);
	if (rc != 0) {
		if (rc == -ENOENT)
			refuse(rq, *id, 404, NULL, NULL, "no such VPS");
		else
			reply_db_error(rq);
		return false;
	}
	if (for_write && strcmp(state, "deleting") == 0) {
		refuse(rq, *id, 409, NULL, NULL, "the VPS is being deleted");
		return false;
	}
	if (rq->nparams < 2)
		return true;
	if (parse_ipv4(rq->params[1], p->a))
		p->family = 4;
	else if (parse_ipv6(rq->params[1], p->a))
		p->family = 6;
	else {
		refuse(rq, *id, 404, NULL, rq->params[1], "no such address: not an IP address");
		return false;
	}
	ipam_format(p->family, p->a, p->text);
	rc = find_holder(*id, p);
	if (rc == -ENOENT) {
		refuse(rq, *id, 404, NULL, p->text,
		       "the VPS holds no such address (nor a routed /64 containing it)");
		return false;
	}
	if (rc != 0) {
		reply_db_error(rq);
		return false;
	}
	return true;
}

/* {"address","family","name","zone","published","within","updated_at"} */
static json_object *record_json(const char *address, int family, const char *name, const char *zone,
                                bool published, const char *within, int64_t updated_at)
{
	json_object *o = json_object_new_object();

	json_object_object_add(o, "address", json_object_new_string(address));
	json_object_object_add(o, "family", json_object_new_int(family));
	json_object_object_add(o, "name", json_str_or_null(name));
	json_object_object_add(o, "zone", json_str_or_null(zone));
	json_object_object_add(o, "published", json_object_new_boolean(published));
	json_object_object_add(o, "within", json_str_or_null(within && *within ? within : NULL));
	json_object_object_add(o, "updated_at", json_time(updated_at));
	return o;
}

/* The zone as shown by the API: without its trailing dot. */
static const char *zone_shown(const char *z, char buf[RDNS_NAME_MAX])
{
	size_t n = strlen(z);

	snprintf(buf, RDNS_NAME_MAX, "%s", z);
	if (n && buf[n - 1] == '.')
		buf[n - 1] = '\0';
	return buf;
}

void api_rdns_list(http_req *rq)
{
	sqlite3_stmt *st;
	json_object *recs, *prefixes, *o;
	ptr_addr p;
	int64_t id;
	int r;

	if (!path_target(rq, false, &id, &p))
		return;
	/* Every single address with its PTR (or none), then the other PTRs (inside routed /64s,
	 * or of an address being released). */
	st = db_stmt("SELECT a.address, pl.family, r.name, r.zone, COALESCE(r.published, 0), "
	             "COALESCE(r.updated_at, 0) FROM ip_addresses a "
	             "JOIN ip_pools pl ON pl.id = a.pool_id "
	             "LEFT JOIN rdns_ptr r ON r.address = a.address AND r.vps_id = a.vps_id "
	             "WHERE a.vps_id = ?1 AND a.state = 'active' AND a.prefix_len IS NULL "
	             "UNION ALL SELECT r.address, r.family, r.name, r.zone, r.published, "
	             "r.updated_at FROM rdns_ptr r WHERE r.vps_id = ?1 AND NOT EXISTS (SELECT 1 "
	             "FROM ip_addresses a2 WHERE a2.vps_id = ?1 AND a2.address = r.address AND "
	             "a2.state = 'active' AND a2.prefix_len IS NULL) ORDER BY 2, 1");
	if (!st) {
		reply_db_error(rq);
		return;
	}
	sqlite3_bind_int64(st, 1, id);
	recs = json_object_new_array();
	while ((r = sqlite3_step(st)) == SQLITE_ROW) {
		const char *addr = (const char *)sqlite3_column_text(st, 0);
		const char *zone = (const char *)sqlite3_column_text(st, 3);
		char zbuf[RDNS_NAME_MAX];
		int family = sqlite3_column_int(st, 1);

		o = record_json(addr, family, (const char *)sqlite3_column_text(st, 2),
		                zone ? zone_shown(zone, zbuf) : NULL,
		                sqlite3_column_int(st, 4) != 0, NULL, sqlite3_column_int64(st, 5));
		json_object_array_add(recs, o);
	}
	sqlite3_reset(st);
	if (r != SQLITE_DONE) {
		json_object_put(recs);
		reply_db_error(rq);
		return;
	}
	st = db_stmt("SELECT a.address FROM ip_addresses a WHERE a.vps_id = ? AND "
	             "a.state = 'active' AND a.prefix_len = 64 ORDER BY a.rowid");
	if (!st) {
		json_object_put(recs);
		reply_db_error(rq);
		return;
	}
	sqlite3_bind_int64(st, 1, id);
	prefixes = json_object_new_array();
	while ((r = sqlite3_step(st)) == SQLITE_ROW) {
		char shown[IPAM_ADDR_MAX];

		ipam_format_assigned((const char *)sqlite3_column_text(st, 0), 64, shown);
		json_object_array_add(prefixes, json_object_new_string(shown));
	}
	sqlite3_reset(st);
	/* Records inside a /64 name it in "within". */
	for (size_t i = 0; i < json_object_array_length(recs); i++) {
		json_object *rec = json_object_array_get_idx(recs, i), *v = NULL;
		uint8_t a[16];
		char net[IPAM_ADDR_MAX], shown[IPAM_ADDR_MAX];

		json_object_object_get_ex(rec, "address", &v);
		if (!parse_ipv6(json_object_get_string(v), a))
			continue;
		memset(a + 8, 0, 8);
		ipam_format(6, a, net);
		ipam_format_assigned(net, 64, shown);
		for (size_t k = 0; k < json_object_array_length(prefixes); k++)
			if (strcmp(json_object_get_string(json_object_array_get_idx(prefixes, k)),
			           shown) == 0)
				json_object_object_add(rec, "within",
				                       json_object_new_string(shown));
	}
	o = json_object_new_object();
	json_object_object_add(o, "publishing", json_object_new_boolean(rdns_publishing()));
	json_object_object_add(o, "records", recs);
	json_object_object_add(o, "prefixes", prefixes);
	reply_json(rq, 200, o);
}

/* The row of p's PTR: its zone and published flag. 0, -ENOENT, -EIO. */
static int ptr_row(int64_t id, const char *address, char zone[RDNS_NAME_MAX], bool *published)
{
	sqlite3_stmt *st =
	        db_stmt("SELECT zone, published FROM rdns_ptr WHERE address = ? AND vps_id = ?");
	int r;

	if (!st)
		return -EIO;
	sqlite3_bind_text(st, 1, address, -1, SQLITE_TRANSIENT);
	sqlite3_bind_int64(st, 2, id);
	r = sqlite3_step(st);
	if (r == SQLITE_ROW) {
		db_col_text(st, 0, zone, RDNS_NAME_MAX);
		*published = sqlite3_column_int(st, 1) != 0;
	}
	sqlite3_reset(st);
	return r == SQLITE_ROW ? 0 : r == SQLITE_DONE ? -ENOENT : -EIO;
}

static bool queue_removal(const char *address, const char *zone)
{
	sqlite3_stmt *st =
	        db_stmt("INSERT INTO rdns_removals (address, zone, queued_at) VALUES (?1, ?2, ?3)");

	if (!st)
		return false;
	sqlite3_bind_text(st, 1, address, -1, SQLITE_TRANSIENT);
	sqlite3_bind_text(st, 2, zone, -1, SQLITE_TRANSIENT);
	sqlite3_bind_int64(st, 3, now_unix());
	return db_step_done(st);
}

/* Answers a PowerDNS failure: 503 unreachable, 502 refused or zone missing. */
static void refuse_pdns(http_req *rq, int64_t id, int rc, const char *addr, const char *err)
{
	refuse(rq, id, rc == -EAGAIN ? 503 : 502, NULL, addr, err);
}

/* Stores p's PTR name (in zone, published or not) after re-checking, in one transaction, that
 * the VPS still holds it. 0, -ENOENT (released meanwhile), -EIO. */
static int store_ptr(int64_t id, ptr_addr *p, const char *name, const char *zone, bool published,
                     const char *old_zone, bool old_published)
{
	sqlite3_stmt *st;

	if (db_begin() != 0)
		return -EIO;
	int rc = find_holder(id, p);
	if (rc == -ENOENT && published) {
		/* PowerDNS has it already: queue its removal. */
		if (!queue_removal(p->text, zone) || db_commit() != 0) {
			db_rollback();
			return -EIO;
		}
		return -ENOENT;
	}
	if (rc != 0) {
		db_rollback();
		return rc;
	}
	st = db_stmt("INSERT INTO rdns_ptr (address, family, vps_id, pool_id, holder, name, zone, "
	             "published, updated_at) VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9) "
	             "ON CONFLICT(address) DO UPDATE SET family = ?2, vps_id = ?3, pool_id = ?4, "
	             "holder = ?5, name = ?6, zone = ?7, published = ?8, updated_at = ?9");
	if (!st) {
		db_rollback();
		return -EIO;
	}
	sqlite3_bind_text(st, 1, p->text, -1, SQLITE_TRANSIENT);
	sqlite3_bind_int(st, 2, p->family);
	sqlite3_bind_int64(st, 3, id);
	sqlite3_bind_int64(st, 4, p->pool_id);
	sqlite3_bind_text(st, 5, p->holder, -1, SQLITE_TRANSIENT);
	sqlite3_bind_text(st, 6, name, -1, SQLITE_TRANSIENT);
	sqlite3_bind_text(st, 7, zone, -1, SQLITE_TRANSIENT);
	sqlite3_bind_int(st, 8, published);
	sqlite3_bind_int64(st, 9, now_unix());
	if (!db_step_done(st) ||
	    (old_zone && old_published && strcmp(old_zone, zone) != 0 &&
	     !queue_removal(p->text, old_zone)) ||
	    db_commit() != 0) {
		db_rollback();
		return -EIO;
	}
	return 0;
}

void api_rdns_put(http_req *rq)
{
	static const char *const fields[] = {"name", NULL};
	json_field_error e = {0};
	const char *name_in = NULL, *why = NULL;
	char name[RDNS_NAME_MAX], owner[RDNS_NAME_MAX], zone[RDNS_NAME_MAX],
	        old_zone[RDNS_NAME_MAX];
	char err[RDNS_ERR_MAX], detail[AUDIT_DETAIL_MAX], flag[8], zbuf[RDNS_NAME_MAX];
	bool published = false, old_published = false, have_old;
	ptr_addr p;
	int64_t id;
	int rc;

	if (!path_target(rq, true, &id, &p))
		return;
	if (!json_only_fields(rq->json, fields, &e) ||
	    !json_get_str(rq->json, "name", true, &name_in, &e)) {
		refuse(rq, id, e.status ? e.status : 422, e.field ? e.field : "name", p.text,
		       e.detail ? e.detail : "is invalid");
		return;
	}
	if (!rdns_name_ok(name_in, name, &why)) {
		refuse(rq, id, 422, "name", p.text, why);
		return;
	}
	if (!setting_get("rdns_unchecked", "false", flag, sizeof(flag))) {
		reply_db_error(rq);
		return;
	}
	db_release(); /* no snapshot held across the lookups below */
	if (strcmp(flag, "true") != 0) {
		rc = rdns_forward_check(p.family, p.a, name, err, sizeof(err));
		if (rc == -ENOENT) {
			refuse(rq, id, 422, "name", p.text, err);
			return;
		}
		if (rc != 0) {
			refuse(rq, id, 503, NULL, p.text, err);
			return;
		}
	}
	rdns_ptr_owner(p.family, p.a, owner);
	if (!rdns_zone_for(p.family, p.a, owner, zone)) {
		reply_db_error(rq);
		return;
	}
	rc = ptr_row(id, p.text, old_zone, &old_published);
	if (rc == -EIO) {
		reply_db_error(rq);
		return;
	}
	have_old = rc == 0;
	db_release();
	if (rdns_publishing()) {
		rc = rdns_pdns_change(zone, owner, name, err, sizeof(err));
		if (rc != 0) {
			refuse_pdns(rq, id, rc, p.text, err);
			return;
		}
		published = true;
	}
	rc = store_ptr(id, &p, name, zone, published, have_old ? old_zone : NULL, old_published);
	if (rc == -ENOENT) {
		refuse(rq, id, 409, NULL, p.text, "the address was released meanwhile");
		return;
	}
	if (rc != 0) {
		reply_db_error(rq);
		return;
	}
	snprintf(detail, sizeof(detail), "%s %s (%s)", p.text, name,
	         published ? "published" : "not published: PowerDNS is off");
	audit_rdns(rq, id, "vps.rdns.set", detail);
	reply_json(rq, 200,
	           record_json(p.text, p.family, name, zone_shown(zone, zbuf), published, p.within,
	                       now_unix()));
}

void api_rdns_delete(http_req *rq)
{
	sqlite3_stmt *st;
	char zone[RDNS_NAME_MAX], owner[RDNS_NAME_MAX], err[RDNS_ERR_MAX];
	bool published = false;
	ptr_addr p;
	int64_t id;
	int rc;

	if (!path_target(rq, true, &id, &p))
		return;
	rc = ptr_row(id, p.text, zone, &published);
	if (rc == -ENOENT) {
		refuse(rq, id, 404, NULL, p.text, "the address has no PTR record");
		return;
	}
	if (rc != 0) {
		reply_db_error(rq);
		return;
	}
	db_release();
	if (published && rdns_publishing()) {
		rdns_ptr_owner(p.family, p.a, owner);
		rc = rdns_pdns_change(zone, owner, NULL, err, sizeof(err));
		if (rc != 0 && rc != -ENOENT) {
			refuse_pdns(rq, id, rc, p.text, err);
			return;
		}
		published = false; /* gone from PowerDNS (or its zone is) */
	}
	/* Published while PowerDNS was on and it is off now: the queue removes it later. */
	st = db_stmt("DELETE FROM rdns_ptr WHERE address = ? AND vps_id = ?");
	if (db_begin() != 0 || !st) {
		db_rollback();
		reply_db_error(rq);
		return;
	}
	sqlite3_bind_text(st, 1, p.text, -1, SQLITE_TRANSIENT);
	sqlite3_bind_int64(st, 2, id);
	if (!db_step_done(st) || (published && !queue_removal(p.text, zone)) || db_commit() != 0) {
		db_rollback();
		reply_db_error(rq);
		return;
	}
	audit_rdns(rq, id, "vps.rdns.delete", p.text);
	reply_empty(rq, 204);
}

/* ---- settings (admin) ---------------------------------------------------------------------------
 */

static json_object *settings_json(void)
{
	char zones[SETTING_MAX], flag[8];
	static _Thread_local char parsed[RDNS_ZONES_MAX][RDNS_NAME_MAX];
	const char *why = NULL;
	json_object *o, *arr;
	int n;

	if (!setting_get("rdns_zones", "", zones, sizeof(zones)) ||
	    !setting_get("rdns_unchecked", "false", flag, sizeof(flag)))
		return NULL;
	n = rdns_zones_parse(zones, parsed, RDNS_ZONES_MAX, &why);
	arr = json_object_new_array();
	for (int i = 0; i < n; i++) {
		char zbuf[RDNS_NAME_MAX];

		json_object_array_add(arr, json_object_new_string(zone_shown(parsed[i], zbuf)));
	}
	o = json_object_new_object();
	json_object_object_add(o, "zones", arr);
	json_object_object_add(o, "unchecked", json_object_new_boolean(strcmp(flag, "true") == 0));
	json_object_object_add(o, "publishing", json_object_new_boolean(rdns_publishing()));
	return o;
}

void api_rdns_settings_get(http_req *rq)
{
	json_object *o = settings_json();

	if (!o) {
		reply_db_error(rq);
		return;
	}
	reply_json(rq, 200, o);
}

void api_rdns_settings_put(http_req *rq)
{
	static const char *const fields[] = {"zones", "unchecked", NULL};
	static _Thread_local char parsed[RDNS_ZONES_MAX][RDNS_NAME_MAX];
	json_field_error e = {0};
	json_object *zones = NULL, *o;
	char list[SETTING_MAX] = "", detail[AUDIT_DETAIL_MAX];
	const char *why = NULL;
	bool unchecked = false;
	size_t len = 0;

	if (!json_only_fields(rq->json, fields, &e) ||
	    !json_get_str_array(rq->json, "zones", true, RDNS_ZONES_MAX, &zones, &e) ||
	    !json_get_bool(rq->json, "unchecked", true, &unchecked, &e)) {
		reply_field_error(rq, &e);
		return;
	}
	for (size_t i = 0; i < json_object_array_length(zones); i++) {
		const char *z = json_object_get_string(json_object_array_get_idx(zones, i));

		if (!*z || strchr(z, ',') || strlen(z) >= RDNS_NAME_MAX - 1 ||
		    len + strlen(z) + 2 >= sizeof(list)) {
			reply_field(rq, "zones", "every zone must be a DNS name");
			return;
		}
		len += (size_t)snprintf(list + len, sizeof(list) - len, "%s%s", i ? "," : "", z);
	}
	if (rdns_zones_parse(list, parsed, RDNS_ZONES_MAX, &why) < 0) {
		reply_field(rq, "zones", why);
		return;
	}
	if (db_begin() != 0 || !setting_set("rdns_zones", list) ||
	    !setting_set("rdns_unchecked", unchecked ? "true" : "false") || db_commit() != 0) {
		db_rollback();
		reply_db_error(rq);
		return;
	}
	snprintf(detail, sizeof(detail), "zones [%.400s] unchecked %s", list,
	         unchecked ? "true" : "false");
	audit(rq, "settings.rdns", "settings/rdns", detail);
	o = settings_json();
	if (!o) {
		reply_db_error(rq);
		return;
	}
	reply_json(rq, 200, o);
}
