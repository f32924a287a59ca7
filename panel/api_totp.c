/* api_totp.c — TOTP two-factor (issue 16 item 5; totp.c, RFC 6238 through liboath): enrolment
 * (a secret from getrandom and its otpauth:// URI, which the UI draws as a QR code), confirmation
 * with a first code (then ten single-use recovery codes, shown once and stored hashed), the
 * login's second step (POST /session/totp with the challenge the password step gave) and
 * disabling with a code. Wrong codes count as login failures (the same rate limit); a code's
 * step is remembered so the same code is never accepted twice. */
#include <sodium.h>
#include <stdio.h>
#include <string.h>

#include "../common/util.h"
#include "api.h"
#include "audit.h"
#include "auth.h"
#include "config.h"
#include "http.h"
#include "http_internal.h"
#include "store.h"
#include "totp.h"

#define CHALLENGE_TTL_S 300
#define RETRY_MAX       24

/* The user's TOTP state. 0, or -1 on a database error. */
static int totp_load(int64_t uid, char secret[TOTP_SECRET_B32], bool *enabled, int64_t *last_step,
                     char *uname, size_t uname_len, char *role, size_t role_len)
{
	sqlite3_stmt *st = db_stmt("SELECT totp_secret, totp_enabled_at IS NOT NULL, "
	                           "totp_last_step, username, role FROM users WHERE id = ?");
	int r;

	secret[0] = '\0';
	*enabled = false;
	*last_step = 0;
	if (!st)
		return -1;
	sqlite3_bind_int64(st, 1, uid);
	r = sqlite3_step(st);
	if (r == SQLITE_ROW) {
		db_col_text(st, 0, secret, TOTP_SECRET_B32);
		*enabled = sqlite3_column_int(st, 1) != 0;
		*last_step = sqlite3_column_int64(st, 2);
		if (uname)
			db_col_text(st, 3, uname, uname_len);
		if (role)
			db_col_text(st, 4, role, role_len);
	}
	sqlite3_reset(st);
	return r == SQLITE_ROW ? 0 : -1;
}

/* 429 with Retry-After when ukey is rate-limited from rq's ip; false when it answered. */
static bool not_limited(http_req *rq, const char *ukey, const char *res)
{
	char retry[RETRY_MAX];
	int64_t wait = auth_login_retry_after(ukey, rq->ip, now_unix());

	if (wait < 0) {
		reply_db_error(rq);
		return false;
	}
	if (wait == 0)
		return true;
	snprintf(retry, sizeof(retry), "%lld", (long long)wait);
	audit(rq, "totp.ratelimited", res, ukey);
	reply_problem(rq, 429, NULL, "too many wrong codes; try again later", NULL);
	reply_header(rq, "Retry-After", retry);
	return false;
}

/* Checks code as a TOTP code (remembering its step) or, when allow_recovery, as an unused
 * recovery code (marking it used). 1 accepted, 0 refused, -1 database error. *how_out names
 * which ("totp" / "recovery code"). */
static int check_code(int64_t uid, const char *secret, int64_t last_step, const char *code,
                      bool allow_recovery, const char **how_out)
{
	char norm[TOTP_RECOVERY_LEN + 1], h[AUTH_TOKEN_HASH_HEX];
	int64_t step = 0;
	sqlite3_stmt *st;

	*how_out = "totp";
	if (totp_code_form(code)) {
		if (!totp_verify(secret, code, now_unix(), last_step, &step))
			return 0;
		/* Compare-and-set: two requests with the same code cannot both pass. */
		st = db_stmt("UPDATE users SET totp_last_step = ?2 WHERE id = ?1 "
		             "AND totp_last_step < ?2");
		if (!st)
			return -1;
		sqlite3_bind_int64(st, 1, uid);
		sqlite3_bind_int64(st, 2, step);
		if (!db_step_done(st))
			return -1;
		return sqlite3_changes(db()) == 1 ? 1 : 0;
	}
	if (!allow_recovery || !totp_recovery_normalize(code, norm))
		return 0;
	*how_out = "recovery code";
	auth_token_hash(norm, h);
	st = db_stmt("UPDATE totp_recovery SET used_at = ?3 WHERE user_id = ?1 AND code_hash = ?2 "
	             "AND used_at IS NULL");
	if (!st)
		return -1;
	sqlite3_bind_int64(st, 1, uid);
	sqlite3_bind_text(st, 2, h, -1, SQLITE_TRANSIENT);
	sqlite3_bind_int64(st, 3, now_unix());
	if (!db_step_done(st))
		return -1;
	return sqlite3_changes(db()) == 1 ? 1 : 0;
}

/* The signed-in user's own code, in a transaction: opens one, checks code (check_code's rules,
 * allow_recovery as there) and wipes secret. true on a match, the transaction still open for the
 * caller's change. Otherwise it is rolled back and the reply sent: a wrong code counts as a failed
 * login of ukey, is audited as refused_action on res, and is a 422 on "code" saying wrong. */
static bool own_code_ok(http_req *rq, char secret[TOTP_SECRET_B32], int64_t last, const char *code,
                        bool allow_recovery, const char *ukey, const char *res,
                        const char *refused_action, const char *wrong, const char **how)
{
	int ok;

	if (db_begin() != 0) {
		sodium_memzero(secret, TOTP_SECRET_B32);
		reply_db_error(rq);
		return false;
	}
	ok = check_code(rq->user.id, secret, last, code, allow_recovery, how);
	sodium_memzero(secret, TOTP_SECRET_B32);
	if (ok > 0)
		return true;
	db_rollback();
	if (ok < 0) {
		reply_db_error(rq);
		return false;
	}
	auth_login_failure_add(ukey, rq->ip, now_unix());
	audit(rq, refused_action, res, "wrong code");
	reply_field(rq, "code", wrong);
	return false;
}

static bool read_code(http_req *rq, const char *extra, const char **code, const char **extra_out)
{
	const char *const fields[] = {"code", extra, NULL};
	json_field_error e = {0};

	if (!json_only_fields(rq->json, fields, &e) ||
	    !json_get_str(rq->json, "code", true, code, &e) ||
	    (extra && !json_get_str(rq->json, extra, true, extra_out, &e))) {
		reply_field_error(rq, &e);
		return false;
	}
	if (strlen(*code) > 32) {
		reply_field(rq, "code", "must be a 6-digit code or a recovery code");
		return false;
	}
	return true;
}

void api_totp_enrol(http_req *rq)
{
	char secret[TOTP_SECRET_B32], cur[TOTP_SECRET_B32], uri[TOTP_URI_MAX],
	        res[AUDIT_RESOURCE_MAX];
	bool enabled;
	int64_t last;
	sqlite3_stmt *st;
	json_object *o;

	snprintf(res, sizeof(res), "user/%lld", (long long)rq->user.id);
	if (totp_load(rq->user.id, cur, &enabled, &last, NULL, 0, NULL, 0) != 0) {
		reply_db_error(rq);
		return;
	}
	if (enabled) {
		reply_problem(rq, 409, NULL, "TOTP is already on; disable it first", NULL);
		return;
	}
	if (totp_new_secret(secret) != 0 || totp_uri(secret, rq->user.username, uri) != 0) {
		reply_problem(rq, 500, NULL, "no randomness", NULL);
		return;
	}
	/* A new enrolment replaces one that was never confirmed. */
	st = db_stmt("UPDATE users SET totp_secret = ?2, totp_enabled_at = NULL, "
	             "totp_last_step = 0 WHERE id = ?1 AND totp_enabled_at IS NULL");
	if (!st) {
		reply_db_error(rq);
		return;
	}
	sqlite3_bind_int64(st, 1, rq->user.id);
	sqlite3_bind_text(st, 2, secret, -1, SQLITE_TRANSIENT);
	if (!db_step_done(st)) {
		reply_db_error(rq);
		return;
	}
	audit(rq, "totp.enrol", res, NULL);
	o = json_object_new_object();
	json_object_object_add(o, "secret", json_object_new_string(secret));
	json_object_object_add(o, "otpauth_uri", json_object_new_string(uri));
	json_object_object_add(o, "digits", json_object_new_int(TOTP_DIGITS));
	json_object_object_add(o, "period_s", json_object_new_int(TOTP_STEP_S));
	sodium_memzero(secret, sizeof(secret));
	reply_json(rq, 201, o);
}

void api_totp_confirm(http_req *rq)
{
	char secret[TOTP_SECRET_B32], res[AUDIT_RESOURCE_MAX],
	        codes[TOTP_RECOVERY_N][TOTP_RECOVERY_LEN + 1], h[AUTH_TOKEN_HASH_HEX],
	        ukey[AUTH_USERNAME_MAX + 1];
	const char *code = NULL, *how;
	bool enabled;
	int64_t last;
	sqlite3_stmt *st;
	json_object *o, *arr;

	if (!read_code(rq, NULL, &code, NULL))
		return;
	snprintf(res, sizeof(res), "user/%lld", (long long)rq->user.id);
	snprintf(ukey, sizeof(ukey), "%s", rq->user.username);
	if (!not_limited(rq, ukey, res))
		return;
	if (totp_load(rq->user.id, secret, &enabled, &last, NULL, 0, NULL, 0) != 0) {
		reply_db_error(rq);
		return;
	}
	if (enabled || !secret[0]) {
		reply_problem(rq, 409, NULL,
		              enabled ? "TOTP is already on"
		                      : "no enrolment waits: POST /account/totp first",
		              NULL);
		return;
	}
	for (int i = 0; i < TOTP_RECOVERY_N; i++)
		if (totp_recovery_new(codes[i]) != 0) {
			reply_problem(rq, 500, NULL, "no randomness", NULL);
			return;
		}
	if (!own_code_ok(rq, secret, last, code, false, ukey, res, "totp.confirm.refused",
	                 "is not the current code of this secret", &how))
		return;
	st = db_stmt("UPDATE users SET totp_enabled_at = ?2 WHERE id = ?1");
	if (!st)
		goto db_fail;
	sqlite3_bind_int64(st, 1, rq->user.id);
	sqlite3_bind_int64(st, 2, now_unix());
	if (!db_step_done(st) ||
	    !db_exec_id("DELETE FROM totp_recovery WHERE user_id = ?", rq->user.id))
		goto db_fail;
	for (int i = 0; i < TOTP_RECOVERY_N; i++) {
		st = db_stmt("INSERT INTO totp_recovery (user_id, code_hash) VALUES (?, ?)");
		if (!st)
			goto db_fail;
		auth_token_hash(codes[i], h);
		sqlite3_bind_int64(st, 1, rq->user.id);
		sqlite3_bind_text(st, 2, h, -1, SQLITE_TRANSIENT);
		if (!db_step_done(st))
			goto db_fail;
	}
	if (db_commit() != 0) {
		reply_db_error(rq);
		return;
	}
	rq->user.totp_on = true;
	audit(rq, "totp.enable", res, NULL);
	o = json_object_new_object();
	arr = json_object_new_array();
	for (int i = 0; i < TOTP_RECOVERY_N; i++)
		json_object_array_add(arr, json_object_new_string(codes[i]));
	sodium_memzero(codes, sizeof(codes));
	json_object_object_add(o, "recovery_codes", arr);
	reply_json(rq, 200, o);
	return;
db_fail:
	db_rollback();
	sodium_memzero(codes, sizeof(codes));
	reply_db_error(rq);
}

void api_totp_disable(http_req *rq)
{
	char secret[TOTP_SECRET_B32], res[AUDIT_RESOURCE_MAX], ukey[AUTH_USERNAME_MAX + 1];
	const char *code = NULL, *how;
	bool enabled;
	int64_t last;
	sqlite3_stmt *st;

	if (!read_code(rq, NULL, &code, NULL))
		return;
	snprintf(res, sizeof(res), "user/%lld", (long long)rq->user.id);
	snprintf(ukey, sizeof(ukey), "%s", rq->user.username);
	if (!not_limited(rq, ukey, res))
		return;
	if (totp_load(rq->user.id, secret, &enabled, &last, NULL, 0, NULL, 0) != 0) {
		reply_db_error(rq);
		return;
	}
	if (!enabled) {
		reply_problem(rq, 409, NULL, "TOTP is not on", NULL);
		return;
	}
	if (!own_code_ok(rq, secret, last, code, true, ukey, res, "totp.disable.refused",
	                 "is not a current code nor an unused recovery code", &how))
		return;
	st = db_stmt("UPDATE users SET totp_secret = NULL, totp_enabled_at = NULL, "
	             "totp_last_step = 0 WHERE id = ?");
	if (!db_run_id(st, rq->user.id) ||
	    !db_exec_id("DELETE FROM totp_recovery WHERE user_id = ?", rq->user.id) ||
	    db_commit() != 0) {
		db_rollback();
		reply_db_error(rq);
		return;
	}
	rq->user.totp_on = false;
	audit(rq, "totp.disable", res, how);
	reply_empty(rq, 204);
}

/* ---- the login's second step ---------------------------------------------------------------- */

void api_login_challenge(http_req *rq, int64_t uid, const char *uname, const char *ukey)
{
	char token[AUTH_TOKEN_HEX + 1], th[AUTH_TOKEN_HASH_HEX], res[AUDIT_RESOURCE_MAX];
	int64_t now = now_unix();
	sqlite3_stmt *st;
	json_object *o;

	(void)ukey;
	if (random_hex(token, AUTH_TOKEN_BYTES) != 0) {
		reply_problem(rq, 500, NULL, "no randomness", NULL);
		return;
	}
	auth_token_hash(token, th);
	st = db_stmt("DELETE FROM login_challenges WHERE expires_at <= ?");
	if (st) {
		sqlite3_bind_int64(st, 1, now);
		db_step_done(st);
	}
	st = db_stmt(
	        "INSERT INTO login_challenges (token_hash, user_id, ip, created_at, expires_at) "
	        "VALUES (?, ?, ?, ?, ?)");
	if (!st) {
		reply_db_error(rq);
		return;
	}
	sqlite3_bind_text(st, 1, th, -1, SQLITE_TRANSIENT);
	sqlite3_bind_int64(st, 2, uid);
	sqlite3_bind_text(st, 3, rq->ip, -1, SQLITE_TRANSIENT);
	sqlite3_bind_int64(st, 4, now);
	sqlite3_bind_int64(st, 5, now + CHALLENGE_TTL_S);
	if (!db_step_done(st)) {
		reply_db_error(rq);
		return;
	}
	snprintf(res, sizeof(res), "user/%lld", (long long)uid);
	audit(rq, "login.password_ok", res, uname);
	o = json_object_new_object();
	json_object_object_add(o, "totp_required", json_object_new_boolean(true));
	json_object_object_add(o, "challenge", json_object_new_string(token));
	json_object_object_add(o, "expires_at", json_time(now + CHALLENGE_TTL_S));
	sodium_memzero(token, sizeof(token));
	reply_json(rq, 200, o);
}

void api_session_totp(http_req *rq)
{
	char th[AUTH_TOKEN_HASH_HEX], secret[TOTP_SECRET_B32], uname[AUTH_USERNAME_MAX],
	        role[AUTH_ROLE_MAX], res[AUDIT_RESOURCE_MAX];
	const char *code = NULL, *challenge = NULL, *how;
	int64_t uid = 0, last, cid = 0;
	bool enabled;
	sqlite3_stmt *st;
	int ok;

	if (!read_code(rq, "challenge", &code, &challenge))
		return;
	if (strlen(challenge) != AUTH_TOKEN_HEX || !auth_is_lower_hex(challenge, AUTH_TOKEN_HEX)) {
		reply_problem(rq, 401, NULL, "the login step expired or is unknown: log in again",
		              NULL);
		return;
	}
	auth_token_hash(challenge, th);
	st = db_stmt("SELECT id, user_id FROM login_challenges WHERE token_hash = ? AND "
	             "expires_at > ? AND ip = ?");
	if (!st) {
		reply_db_error(rq);
		return;
	}
	sqlite3_bind_text(st, 1, th, -1, SQLITE_TRANSIENT);
	sqlite3_bind_int64(st, 2, now_unix());
	sqlite3_bind_text(st, 3, rq->ip, -1, SQLITE_TRANSIENT);
	if (sqlite3_step(st) == SQLITE_ROW) {
		cid = sqlite3_column_int64(st, 0);
		uid = sqlite3_column_int64(st, 1);
	}
	sqlite3_reset(st);
	if (uid <= 0) {
		reply_problem(rq, 401, NULL, "the login step expired or is unknown: log in again",
		              NULL);
		return;
	}
	if (totp_load(uid, secret, &enabled, &last, uname, sizeof(uname), role, sizeof(role)) !=
	    0) {
		reply_db_error(rq);
		return;
	}
	snprintf(res, sizeof(res), "user/%lld", (long long)uid);
	if (!not_limited(rq, uname, res))
		return;
	if (db_begin() != 0) {
		reply_db_error(rq);
		return;
	}
	ok = enabled ? check_code(uid, secret, last, code, true, &how) : 0;
	sodium_memzero(secret, sizeof(secret));
	if (ok > 0 && !db_exec_id("DELETE FROM login_challenges WHERE id = ?", cid))
		ok = -1;
	if (ok <= 0 || db_commit() != 0) {
		db_rollback();
		if (ok < 0) {
			reply_db_error(rq);
			return;
		}
		auth_login_failure_add(uname, rq->ip, now_unix());
		atomic_fetch_add(&g_app->metrics.logins_failed, 1);
		audit(rq, "login.totp_failed", res, uname);
		reply_field(rq, "code", "is not the current code nor an unused recovery code");
		return;
	}
	if (strcmp(how, "recovery code") == 0)
		audit(rq, "totp.recovery_used", res, NULL);
	api_login_finish(rq, uid, uname, role, uname, true);
}
