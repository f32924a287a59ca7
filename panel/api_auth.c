/* api_auth.c — the HTTP side of who is calling: POST/DELETE /session (login with rate limit,
 * session rotation, CSRF token), GET /me and the user's API keys (docs/openapi.yaml; first start:
 * README). The primitives live in auth.c; this file never stores a token or a password in clear and
 * never says whether a user name exists. */
#include <sodium.h>
#include <stdio.h>
#include <string.h>

#include "../billing/period.h"
#include "../common/util.h"
#include "../common/validate.h"
#include "api.h"
#include "audit.h"
#include "auth.h"
#include "config.h"
#include "http.h"
#include "http_internal.h"
#include "store.h"

#define SESSION_COOKIE_MAX 256 /* the Set-Cookie value */
#define LOGIN_KEY_MAX      65  /* failures are keyed by at most 64 bytes of the user name */
#define RETRY_AFTER_MAX    24
#define API_KEY_MAX_LIFE_S (10LL * 366 * 86400) /* expires_at at most ~10 years ahead */

static void login_failed(http_req *rq, const char *ukey, int64_t uid, int64_t now)
{
	char res[AUDIT_RESOURCE_MAX];

	auth_login_failure_add(ukey, rq->ip, now);
	atomic_fetch_add(&g_app->metrics.logins_failed, 1);
	snprintf(res, sizeof(res), "user/%lld", (long long)uid);
	audit(rq, "login.failed", uid > 0 ? res : NULL, ukey);
	reply_problem(rq, 401, NULL, "invalid username or password", NULL);
}

void auth_session_cookie(http_req *rq, const char *token, int max_age)
{
	char c[SESSION_COOKIE_MAX];

	snprintf(c, sizeof(c), "%s=%s; HttpOnly; SameSite=Strict; Path=/; Max-Age=%d%s",
	         SESSION_COOKIE, token, max_age, g_app->cfg.secure_cookies ? "; Secure" : "");
	reply_header(rq, "Set-Cookie", c);
}

bool api_login_wait_over(http_req *rq, const char *ukey, int64_t now, const char *action,
                         const char *res, const char *detail, const char *title)
{
	char retry[RETRY_AFTER_MAX];
	int64_t wait = auth_login_retry_after(ukey, rq->ip, now);

	if (wait < 0) {
		reply_db_error(rq);
		return false;
	}
	if (wait > 0) {
		snprintf(retry, sizeof(retry), "%lld", (long long)wait);
		audit(rq, action, res, detail);
		reply_problem(rq, 429, NULL, title, NULL);
		reply_header(rq, "Retry-After", retry);
		return false;
	}
	return true;
}

void api_session_create(http_req *rq)
{
	static const char *const fields[] = {"username", "password", NULL};
	json_field_error e = {0};
	const char *username = NULL, *password = NULL;
	char ukey[LOGIN_KEY_MAX], hash[AUTH_PWHASH_MAX] = "", role[AUTH_ROLE_MAX] = "";
	char uname[AUTH_USERNAME_MAX] = "", res[AUDIT_RESOURCE_MAX];
	int64_t now = now_unix(), uid = 0;
	bool suspended = false, ok, totp_on = false;
	sqlite3_stmt *st;

	if (!json_only_fields(rq->json, fields, &e) ||
	    !json_get_str(rq->json, "username", true, &username, &e) ||
	    !json_get_str(rq->json, "password", true, &password, &e)) {
		reply_field_error(rq, &e);
		return;
	}
	/* Failures are keyed by at most 64 bytes of the name, so junk cannot grow the table. */
	snprintf(ukey, sizeof(ukey), "%s", username);
	auth_purge_old(now);
	if (!api_login_wait_over(rq, ukey, now, "login.ratelimited", NULL, ukey,
	                         "too many failed logins; try again later"))
		return;

	st = db_stmt("SELECT id, username, role, suspended, password_hash, "
	             "totp_enabled_at IS NOT NULL FROM users WHERE username = ?");
	if (!st) {
		reply_db_error(rq);
		return;
	}
	sqlite3_bind_text(st, 1, username, -1, SQLITE_TRANSIENT);
	if (sqlite3_step(st) == SQLITE_ROW) {
		uid = sqlite3_column_int64(st, 0);
		db_col_text(st, 1, uname, sizeof(uname));
		db_col_text(st, 2, role, sizeof(role));
		suspended = sqlite3_column_int(st, 3) != 0;
		db_col_text(st, 4, hash, sizeof(hash));
		totp_on = sqlite3_column_int(st, 5) != 0;
	}
	sqlite3_reset(st);
	if (uid > 0) {
		ok = auth_verify_password(hash, password);
	} else {
		/* Same work for an unknown name, so timing does not tell which names exist. */
		ok = auth_verify_dummy(password);
	}
	if (!ok) {
		login_failed(rq, ukey, uid, now);
		return;
	}
	snprintf(res, sizeof(res), "user/%lld", (long long)uid);
	if (suspended) {
		audit(rq, "login.suspended", res, uname);
		reply_problem(rq, 403, NULL, "this account is suspended", NULL);
		return;
	}
	/* Limits raised since this hash was made: upgrade it now that we know the password. */
	if (auth_password_needs_rehash(hash)) {
		char nh[AUTH_PWHASH_MAX];

		st = db_stmt("UPDATE users SET password_hash = ?2 WHERE id = ?1");
		if (st && auth_hash_password(password, nh) == 0) {
			sqlite3_bind_int64(st, 1, uid);
			sqlite3_bind_text(st, 2, nh, -1, SQLITE_TRANSIENT);
			db_step_done(st); /* logged; the old hash keeps working */
		}
	}

	/* A second factor: the password was right, the code is asked next (api_totp.c). */
	if (totp_on) {
		api_login_challenge(rq, uid, uname, ukey);
		return;
	}
	api_login_finish(rq, uid, uname, role, ukey, false);
}

void api_login_finish(http_req *rq, int64_t uid, const char *uname, const char *role,
                      const char *ukey, bool totp_on)
{
	char token[AUTH_TOKEN_HEX + 1], csrf[AUTH_TOKEN_HEX + 1], res[AUDIT_RESOURCE_MAX];
	int64_t now = now_unix(), sid;
	sqlite3_stmt *st;
	json_object *o, *u;

	snprintf(res, sizeof(res), "user/%lld", (long long)uid);
	if (db_begin() != 0)
		goto db_fail;
	st = db_stmt("DELETE FROM login_failures WHERE username = ? AND ip = ?");
	if (!st)
		goto db_fail_rb;
	sqlite3_bind_text(st, 1, ukey, -1, SQLITE_TRANSIENT);
	sqlite3_bind_text(st, 2, rq->ip, -1, SQLITE_TRANSIENT);
	if (sqlite3_step(st) != SQLITE_DONE)
		goto db_fail_rb;
	if (rq->user.session_id) {
		/* Rotation: the session this browser had before logging in again ends here. */
		st = db_stmt("DELETE FROM sessions WHERE id = ?");
		if (!st)
			goto db_fail_rb;
		sqlite3_bind_int64(st, 1, rq->user.session_id);
		if (sqlite3_step(st) != SQLITE_DONE)
			goto db_fail_rb;
	}
	if (auth_session_insert(uid, rq->ip, req_header(rq, "User-Agent"), now, token, csrf,
	                        &sid) != 0)
		goto db_fail_rb;
	if (db_commit() != 0)
		goto db_fail;

	memset(&rq->user, 0, sizeof(rq->user));
	rq->user.id = uid;
	snprintf(rq->user.username, sizeof(rq->user.username), "%s", uname);
	snprintf(rq->user.role, sizeof(rq->user.role), "%s", role);
	rq->user.is_admin = strcmp(role, "admin") == 0;
	rq->user.session_id = sid;
	rq->user.totp_on = totp_on;
	snprintf(rq->user.csrf_token, sizeof(rq->user.csrf_token), "%s", csrf);
	atomic_fetch_add(&g_app->metrics.logins_ok, 1);
	audit(rq, "login", res, NULL);

	o = json_object_new_object();
	u = json_object_new_object();
	json_object_object_add(u, "id", json_id(uid));
	json_object_object_add(u, "username", json_object_new_string(uname));
	json_object_object_add(u, "role", json_object_new_string(role));
	json_object_object_add(o, "user", u);
	json_object_object_add(o, "csrf_token", json_object_new_string(csrf));
	reply_json(rq, 201, o);
	auth_session_cookie(rq, token, SESSION_TTL_S);
	sodium_memzero(token, sizeof(token));
	return;

db_fail_rb:
	log_error("auth: creating a session: %s", sqlite3_errmsg(db()));
	db_rollback();
db_fail:
	reply_db_error(rq);
}

void api_session_delete(http_req *rq)
{
	char res[AUDIT_RESOURCE_MAX];

	if (rq->user.session_id) {
		sqlite3_stmt *st = db_stmt("DELETE FROM sessions WHERE id = ?");

		if (!st) {
			reply_db_error(rq);
			return;
		}
		sqlite3_bind_int64(st, 1, rq->user.session_id);
		if (sqlite3_step(st) != SQLITE_DONE) {
			sqlite3_reset(st);
			reply_db_error(rq);
			return;
		}
		sqlite3_reset(st);
	}
	snprintf(res, sizeof(res), "user/%lld", (long long)rq->user.id);
	audit(rq, "logout", res, NULL);
	reply_empty(rq, 204);
	auth_session_cookie(rq, "", 0);
}

void api_me(http_req *rq)
{
	sqlite3_stmt *st = db_stmt("SELECT id, username, email, role, suspended FROM users "
	                           "WHERE id = ?");
	json_object *o;

	if (!st) {
		reply_db_error(rq);
		return;
	}
	sqlite3_bind_int64(st, 1, rq->user.id);
	if (sqlite3_step(st) != SQLITE_ROW) {
		sqlite3_reset(st);
		reply_not_found(rq, "user");
		return;
	}
	o = json_object_new_object();
	json_object_object_add(o, "id", json_id(sqlite3_column_int64(st, 0)));
	json_object_object_add(o, "username",
	                       json_str_or_null((const char *)sqlite3_column_text(st, 1)));
	json_object_object_add(o, "email",
	                       json_str_or_null((const char *)sqlite3_column_text(st, 2)));
	json_object_object_add(o, "role",
	                       json_str_or_null((const char *)sqlite3_column_text(st, 3)));
	json_object_object_add(o, "suspended", json_object_new_boolean(sqlite3_column_int(st, 4)));
	json_object_object_add(o, "totp_enabled", json_object_new_boolean(rq->user.totp_on));
	json_object_object_add(o, "totp_required",
	                       json_object_new_boolean(account_totp_required(rq)));
	/* A cookie session's CSRF token, so a second tab of the same session can act: a page of
	 * another origin cannot read this answer (same-origin GET, no CORS), and it cannot send the
	 * SameSite=Strict cookie from a cross-site context anyway. */
	if (rq->user.session_id && rq->user.csrf_token[0])
		json_object_object_add(o, "csrf_token",
		                       json_object_new_string(rq->user.csrf_token));
	sqlite3_reset(st);
	reply_json(rq, 200, o);
}

/* ---- API keys ------------------------------------------------------------------------------ */

/* The scopes as a JSON array of names, in SCOPE_* order. */
static json_object *scopes_json(unsigned scopes)
{
	json_object *a = json_object_new_array();

	for (unsigned b = 1; b <= SCOPE_ADMIN; b <<= 1)
		if (scopes & b)
			json_object_array_add(a, json_object_new_string(scope_name(b)));
	return a;
}

/* Reads {"scopes"} (optional: default every scope the caller holds) into *out: known names, no
 * duplicates, none beyond the user's role nor beyond the calling key's own scopes. False when a
 * 422 was answered. */
static bool read_scopes(http_req *rq, unsigned *out)
{
	unsigned have = rq->user.scopes ? rq->user.scopes : scopes_of_role(rq->user.is_admin);
	json_field_error e = {0};
	json_object *arr = NULL;

	*out = have;
	if (!json_get_str_array(rq->json, "scopes", false, 4, &arr, &e)) {
		reply_field_error(rq, &e);
		return false;
	}
	if (!arr)
		return true;
	if (json_object_array_length(arr) == 0) {
		reply_field(rq, "scopes", "must name at least one scope");
		return false;
	}
	*out = 0;
	for (size_t i = 0; i < json_object_array_length(arr); i++) {
		const char *name = json_object_get_string(json_object_array_get_idx(arr, i));
		unsigned b = scope_bit(name);

		if (!b) {
			reply_field(rq, "scopes",
			            "holds an unknown scope (read-only, vps, billing, admin)");
			return false;
		}
		if (*out & b) {
			reply_field(rq, "scopes", "holds the same scope twice");
			return false;
		}
		if (!(scopes_of_role(rq->user.is_admin) & b)) {
			reply_field(rq, "scopes", "holds a scope beyond the user's role");
			return false;
		}
		if (!(have & b)) {
			reply_field(rq, "scopes",
			            "holds a scope the calling API key does not have");
			return false;
		}
		*out |= b;
	}
	return true;
}

void api_keys_create(http_req *rq)
{
	static const char *const fields[] = {"name", "scopes", "expires_at", NULL};
	json_field_error e = {0};
	const char *name = NULL, *why = NULL, *expires = NULL;
	char token[sizeof(API_KEY_PREFIX) + AUTH_TOKEN_HEX], th[AUTH_TOKEN_HASH_HEX],
	        res[AUDIT_RESOURCE_MAX], detail[AUDIT_DETAIL_MAX];
	sqlite3_stmt *st;
	int64_t id, now = now_unix(), count, expires_at = 0;
	unsigned scopes;
	json_object *o, *names;

	if (!json_only_fields(rq->json, fields, &e) ||
	    !json_get_str(rq->json, "name", true, &name, &e) ||
	    !json_get_str(rq->json, "expires_at", false, &expires, &e)) {
		reply_field_error(rq, &e);
		return;
	}
	if (!valid_label(name, &why)) {
		e.field = "name";
		e.detail = why ? why : "is not a valid name";
		e.status = 422;
		reply_field_error(rq, &e);
		return;
	}
	if (!read_scopes(rq, &scopes))
		return;
	if (expires) {
		if (!billing_parse_rfc3339(expires, &expires_at)) {
			reply_field(rq, "expires_at",
			            "must be an RFC 3339 time (2027-01-31T00:00:00Z)");
			return;
		}
		if (expires_at <= now || expires_at - now > API_KEY_MAX_LIFE_S) {
			reply_field(rq, "expires_at",
			            "must be in the future, at most 10 years ahead");
			return;
		}
	}
	if (!db_count("SELECT count(*) FROM api_keys WHERE user_id = ?", rq->user.id, &count)) {
		reply_db_error(rq);
		return;
	}
	if (count >= MAX_API_KEYS_PER_USER) {
		reply_problem(rq, 409, NULL, "too many API keys; delete one first", NULL);
		return;
	}
	memcpy(token, API_KEY_PREFIX, strlen(API_KEY_PREFIX));
	if (random_hex(token + strlen(API_KEY_PREFIX), AUTH_TOKEN_BYTES) != 0) {
		reply_problem(rq, 500, NULL, "no randomness", NULL);
		return;
	}
	auth_token_hash(token, th);
	st = db_stmt("INSERT INTO api_keys (user_id, name, token_hash, created_at, scopes, "
	             "expires_at) VALUES (?, ?, ?, ?, ?, ?)");
	if (!st) {
		reply_db_error(rq);
		return;
	}
	sqlite3_bind_int64(st, 1, rq->user.id);
	sqlite3_bind_text(st, 2, name, -1, SQLITE_TRANSIENT);
	sqlite3_bind_text(st, 3, th, -1, SQLITE_TRANSIENT);
	sqlite3_bind_int64(st, 4, now);
	sqlite3_bind_int(st, 5, (int)scopes);
	if (expires_at > 0)
		sqlite3_bind_int64(st, 6, expires_at);
	if (sqlite3_step(st) != SQLITE_DONE) {
		sqlite3_reset(st);
		reply_db_error(rq);
		return;
	}
	sqlite3_reset(st);
	id = db_last_id();
	names = scopes_json(scopes);
	snprintf(res, sizeof(res), "api-key/%lld", (long long)id);
	snprintf(detail, sizeof(detail), "%s scopes %s", name, json_compact(names));
	audit(rq, "apikey.create", res, detail);
	o = json_object_new_object();
	json_object_object_add(o, "id", json_id(id));
	json_object_object_add(o, "name", json_object_new_string(name));
	json_object_object_add(o, "token", json_object_new_string(token));
	json_object_object_add(o, "scopes", names);
	json_object_object_add(o, "expires_at", json_time(expires_at));
	json_object_object_add(o, "created_at", json_time(now));
	sodium_memzero(token, sizeof(token));
	reply_json(rq, 201, o);
}

void api_keys_list(http_req *rq)
{
	sqlite3_stmt *st = db_stmt("SELECT id, name, created_at, last_used_at, scopes, expires_at "
	                           "FROM api_keys WHERE user_id = ? ORDER BY id");
	json_object *arr;
	int r;

	if (!st) {
		reply_db_error(rq);
		return;
	}
	sqlite3_bind_int64(st, 1, rq->user.id);
	arr = json_object_new_array();
	while ((r = sqlite3_step(st)) == SQLITE_ROW) {
		json_object *o = json_object_new_object();

		json_object_object_add(o, "id", json_id(sqlite3_column_int64(st, 0)));
		json_object_object_add(o, "name",
		                       json_str_or_null((const char *)sqlite3_column_text(st, 1)));
		json_object_object_add(o, "created_at", json_time(sqlite3_column_int64(st, 2)));
		json_object_object_add(o, "last_used_at", json_time(sqlite3_column_int64(st, 3)));
		json_object_object_add(o, "scopes",
		                       scopes_json((unsigned)sqlite3_column_int(st, 4)));
		json_object_object_add(o, "expires_at", json_time(sqlite3_column_int64(st, 5)));
		json_object_array_add(arr, o);
	}
	sqlite3_reset(st);
	if (r != SQLITE_DONE) {
		json_object_put(arr);
		reply_db_error(rq);
		return;
	}
	reply_json(rq, 200, arr);
}

void api_keys_delete(http_req *rq)
{
	sqlite3_stmt *st;
	int64_t id;
	char res[AUDIT_RESOURCE_MAX];

	/* Another user's key is a 404 like a missing one: ids reveal nothing. */
	if (!parse_id(rq->params[0], &id)) {
		reply_not_found(rq, "API key");
		return;
	}
	st = db_stmt("DELETE FROM api_keys WHERE id = ? AND user_id = ?");
	if (!st) {
		reply_db_error(rq);
		return;
	}
	sqlite3_bind_int64(st, 1, id);
	sqlite3_bind_int64(st, 2, rq->user.id);
	if (sqlite3_step(st) != SQLITE_DONE) {
		sqlite3_reset(st);
		reply_db_error(rq);
		return;
	}
	sqlite3_reset(st);
	if (sqlite3_changes(db()) == 0) {
		reply_not_found(rq, "API key");
		return;
	}
	snprintf(res, sizeof(res), "api-key/%lld", (long long)id);
	audit(rq, "apikey.delete", res, NULL);
	reply_empty(rq, 204);
}
