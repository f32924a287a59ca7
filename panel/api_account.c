/* api_account.c — one's own account (issue 16 item 5): changing one's password (the current one
 * required, the other sessions ended), listing and revoking one's sessions, the admin settings
 * of accounts (require_admin_totp) and the gate that keeps an admin without TOTP to enrolment
 * while that setting is on (docs/openapi.yaml). TOTP is api_totp.c, reset links api_reset.c. */
#include <sodium.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#include "../common/util.h"
#include "../common/validate.h"
#include "api.h"
#include "audit.h"
#include "auth.h"
#include "http.h"
#include "http_internal.h"
#include "store.h"

#define PASSWORD_MIN_DISTINCT 5 /* distinct bytes in a new password ("aaaaaaaa" is refused) */
#define SETTING_VALUE_MAX     64
#define RETRY_MAX             24

bool setting_get(const char *name, const char *def, char *out, size_t out_len)
{
	sqlite3_stmt *st = db_stmt("SELECT value FROM settings WHERE name = ?");
	int r;

	snprintf(out, out_len, "%s", def);
	if (!st)
		return false;
	sqlite3_bind_text(st, 1, name, -1, SQLITE_TRANSIENT);
	r = sqlite3_step(st);
	if (r == SQLITE_ROW)
		db_col_text(st, 0, out, out_len);
	sqlite3_reset(st);
	return r == SQLITE_ROW || r == SQLITE_DONE;
}

bool setting_set(const char *name, const char *value)
{
	sqlite3_stmt *st = db_stmt("INSERT INTO settings (name, value) VALUES (?1, ?2) "
	                           "ON CONFLICT(name) DO UPDATE SET value = ?2");

	if (!st)
		return false;
	sqlite3_bind_text(st, 1, name, -1, SQLITE_TRANSIENT);
	sqlite3_bind_text(st, 2, value, -1, SQLITE_TRANSIENT);
	return db_step_done(st);
}

bool account_totp_required(const http_req *rq)
{
	char v[SETTING_VALUE_MAX];

	if (!rq->user.is_admin || rq->user.totp_on)
		return false;
	/* A database error counts as "required": the gate fails closed. */
	if (!setting_get("require_admin_totp", "false", v, sizeof(v)))
		return true;
	return strcmp(v, "true") == 0;
}

bool account_gate(http_req *rq, const char *pattern)
{
	json_object *p;

	/* Only cookie sessions: an API key was made before the setting and has no browser to
	 * enrol in; it keeps its scopes. */
	if (!rq->user.session_id || !account_totp_required(rq))
		return true;
	if (strcmp(pattern, "/api/v1/me") == 0 || strcmp(pattern, "/api/v1/session") == 0 ||
	    strncmp(pattern, "/api/v1/account/", 16) == 0)
		return true;
	p = problem_json(403, "TOTP enrolment required",
	                 "an admin must enrol a TOTP second factor first (POST /account/totp)",
	                 NULL);
	json_object_object_add(p, "code", json_object_new_string("totp_enrolment_required"));
	reply_json(rq, 403, p);
	rq->content_type = "application/problem+json";
	return false;
}

bool account_password_ok(const char *pw, const char *username, const char **why)
{
	bool seen[256] = {false};
	int distinct = 0;

	if (!valid_password(pw, why))
		return false;
	if (username && *username && strcasestr(pw, username)) {
		*why = "must not contain the user name";
		return false;
	}
	for (const unsigned char *p = (const unsigned char *)pw; *p; p++)
		if (!seen[*p]) {
			seen[*p] = true;
			distinct++;
		}
	if (distinct < PASSWORD_MIN_DISTINCT) {
		*why = "is too weak: use at least 5 different characters";
		return false;
	}
	return true;
}

int account_set_password_tx(int64_t uid, const char *password, int64_t keep_sid)
{
	char hash[AUTH_PWHASH_MAX];
	sqlite3_stmt *st;
	bool ok;

	if (auth_hash_password(password, hash) != 0)
		return -1;
	st = db_stmt("UPDATE users SET password_hash = ?2 WHERE id = ?1");
	if (!st) {
		sodium_memzero(hash, sizeof(hash));
		return -1;
	}
	sqlite3_bind_int64(st, 1, uid);
	sqlite3_bind_text(st, 2, hash, -1, SQLITE_TRANSIENT);
	ok = db_step_done(st);
	sodium_memzero(hash, sizeof(hash));
	if (!ok)
		return -1;
	st = db_stmt("DELETE FROM sessions WHERE user_id = ?1 AND id != ?2");
	if (!st)
		return -1;
	sqlite3_bind_int64(st, 1, uid);
	sqlite3_bind_int64(st, 2, keep_sid);
	if (!db_step_done(st))
		return -1;
	return db_exec_id("DELETE FROM login_challenges WHERE user_id = ?", uid) ? 0 : -1;
}

void api_account_password(http_req *rq)
{
	static const char *const fields[] = {"current_password", "new_password", NULL};
	json_field_error e = {0};
	const char *cur = NULL, *nw = NULL, *why = NULL;
	char hash[AUTH_PWHASH_MAX] = "", res[AUDIT_RESOURCE_MAX], ukey[AUTH_USERNAME_MAX + 1],
	     retry[RETRY_MAX];
	int64_t now = now_unix(), ended;
	sqlite3_stmt *st;

	if (!json_only_fields(rq->json, fields, &e) ||
	    !json_get_str(rq->json, "current_password", true, &cur, &e) ||
	    !json_get_str(rq->json, "new_password", true, &nw, &e)) {
		reply_field_error(rq, &e);
		return;
	}
	snprintf(res, sizeof(res), "user/%lld", (long long)rq->user.id);
	snprintf(ukey, sizeof(ukey), "%s", rq->user.username);
	/* Guessing the current password through a stolen session is a login failure too. */
	if (!api_login_wait_over(rq, ukey, now, "password.change.ratelimited", res, NULL,
	                         "too many wrong passwords; try again later"))
		return;
	st = db_stmt("SELECT password_hash FROM users WHERE id = ?");
	if (!st) {
		reply_db_error(rq);
		return;
	}
	sqlite3_bind_int64(st, 1, rq->user.id);
	if (sqlite3_step(st) == SQLITE_ROW)
		db_col_text(st, 0, hash, sizeof(hash));
	sqlite3_reset(st);
	if (!auth_verify_password(hash, cur)) {
		auth_login_failure_add(ukey, rq->ip, now);
		audit(rq, "password.change.refused", res, "wrong current password");
		reply_field(rq, "current_password", "is not the current password");
		return;
	}
	if (!account_password_ok(nw, rq->user.username, &why)) {
		audit(rq, "password.change.refused", res, why);
		reply_field(rq, "new_password", why);
		return;
	}
	if (strcmp(nw, cur) == 0) {
		audit(rq, "password.change.refused", res, "same as the current one");
		reply_field(rq, "new_password", "is the current password");
		return;
	}
	if (!db_count("SELECT count(*) FROM sessions WHERE user_id = ?", rq->user.id, &ended)) {
		reply_db_error(rq);
		return;
	}
	if (db_begin() != 0) {
		reply_db_error(rq);
		return;
	}
	if (account_set_password_tx(rq->user.id, nw, rq->user.session_id) != 0) {
		db_rollback();
		reply_db_error(rq);
		return;
	}
	if (db_commit() != 0) {
		reply_db_error(rq);
		return;
	}
	if (rq->user.session_id)
		ended--;
	snprintf(retry, sizeof(retry), "%lld other sessions ended", (long long)ended);
	audit(rq, "password.change", res, retry);
	reply_empty(rq, 204);
}

/* ---- sessions ------------------------------------------------------------------------------ */

void api_sessions_list(http_req *rq)
{
	sqlite3_stmt *st =
	        db_stmt("SELECT id, created_at, last_seen_at, expires_at, ip, user_agent "
	                "FROM sessions WHERE user_id = ? AND expires_at > ? ORDER BY id");
	json_object *arr;
	int r;

	if (!st) {
		reply_db_error(rq);
		return;
	}
	sqlite3_bind_int64(st, 1, rq->user.id);
	sqlite3_bind_int64(st, 2, now_unix());
	arr = json_object_new_array();
	while ((r = sqlite3_step(st)) == SQLITE_ROW) {
		json_object *o = json_object_new_object();
		int64_t id = sqlite3_column_int64(st, 0);

		json_object_object_add(o, "id", json_id(id));
		json_object_object_add(o, "created_at", json_time(sqlite3_column_int64(st, 1)));
		json_object_object_add(o, "last_seen_at", json_time(sqlite3_column_int64(st, 2)));
		json_object_object_add(o, "expires_at", json_time(sqlite3_column_int64(st, 3)));
		json_object_object_add(o, "ip",
		                       json_str_or_null((const char *)sqlite3_column_text(st, 4)));
		json_object_object_add(o, "user_agent",
		                       json_str_or_null((const char *)sqlite3_column_text(st, 5)));
		json_object_object_add(o, "current",
		                       json_object_new_boolean(id == rq->user.session_id));
		json_object_array_add(arr, o);
	}
	sqlite3_reset(st);
	if (r != SQLITE_DONE) {
		json_object_put(arr);
		reply_db_error(rq);
		return;
	}
	api_total_header(rq, (int64_t)json_object_array_length(arr));
	reply_json(rq, 200, arr);
}

void api_sessions_delete(http_req *rq)
{
	char res[AUDIT_RESOURCE_MAX];
	sqlite3_stmt *st;
	int64_t id;

	/* Another user's session is a 404 like a missing one. */
	if (!parse_id(rq->params[0], &id)) {
		reply_not_found(rq, "session");
		return;
	}
	st = db_stmt("DELETE FROM sessions WHERE id = ? AND user_id = ?");
	if (!st) {
		reply_db_error(rq);
		return;
	}
	sqlite3_bind_int64(st, 1, id);
	sqlite3_bind_int64(st, 2, rq->user.id);
	if (!db_step_done(st)) {
		reply_db_error(rq);
		return;
	}
	if (sqlite3_changes(db()) == 0) {
		reply_not_found(rq, "session");
		return;
	}
	snprintf(res, sizeof(res), "session/%lld", (long long)id);
	audit(rq, "session.revoke", res, id == rq->user.session_id ? "the current one" : NULL);
	reply_empty(rq, 204);
	if (id == rq->user.session_id)
		auth_session_cookie(rq, "", 0);
}

/* ---- settings ------------------------------------------------------------------------------ */

static json_object *settings_json(void)
{
	char v[SETTING_VALUE_MAX];
	json_object *o;

	if (!setting_get("require_admin_totp", "false", v, sizeof(v)))
		return NULL;
	o = json_object_new_object();
	json_object_object_add(o, "require_admin_totp",
	                       json_object_new_boolean(strcmp(v, "true") == 0));
	return o;
}

void api_account_settings_get(http_req *rq)
{
	json_object *o = settings_json();

	if (!o) {
		reply_db_error(rq);
		return;
	}
	reply_json(rq, 200, o);
}

void api_account_settings_put(http_req *rq)
{
	static const char *const fields[] = {"require_admin_totp", NULL};
	json_field_error e = {0};
	bool req = false;
	json_object *o;

	if (!json_only_fields(rq->json, fields, &e) ||
	    !json_get_bool(rq->json, "require_admin_totp", true, &req, &e)) {
		reply_field_error(rq, &e);
		return;
	}
	if (!setting_set("require_admin_totp", req ? "true" : "false")) {
		reply_db_error(rq);
		return;
	}
	audit(rq, "settings.accounts", "settings/accounts",
	      req ? "require_admin_totp true" : "require_admin_totp false");
	o = settings_json();
	if (!o) {
		reply_db_error(rq);
		return;
	}
	reply_json(rq, 200, o);
}
