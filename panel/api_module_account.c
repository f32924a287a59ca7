/* api_module_account.c — the module API's hold on a service's customer account (issue 14 item
 * 4; docs/openapi.yaml): its panel password (POST /billing/services/{id}/password) and single
 * sign-on into its panel (POST /billing/services/{id}/sso makes a link; GET /sso?token= spends it
 * once, opens a normal session and redirects to the UI). A sign-on token lives at most
 * SSO_TTL_S, works once, and only its hash is stored; every use and refusal is audited. */
#include <errno.h>
#include <sodium.h>
#include <stdio.h>
#include <string.h>

#include "../common/util.h"
#include "../common/validate.h"
#include "api.h"
#include "audit.h"
#include "auth.h"
#include "module_service.h"
#include "http.h"
#include "store.h"

#define SSO_TTL_S     60 /* seconds a sign-on link lives (issue 14: short-lived, <= 60 s) */
#define SSO_URL_MAX   (sizeof("/sso?token=") + AUTH_TOKEN_HEX)
#define SSO_REDIRECT  "/"  /* the panel UI */
#define SSO_PURGE_OLD 3600 /* spent or expired tokens are forgotten this long after expiry */

/* True when customer_id (a service's customer) is still a customer; else answers 500 (database)
 * or 404 and returns false. */
static bool service_customer_ok(http_req *rq, int64_t customer_id)
{
	bool exists = false;

	if (!db_exists_id("SELECT 1 FROM users WHERE id=? AND role='customer'", customer_id,
	                  &exists)) {
		reply_db_error(rq);
		return false;
	}
	if (!exists)
		reply_not_found(rq, "customer");
	return exists;
}

/* ---- POST /billing/services/{service_id}/password -------------------------------------------- */

void api_billing_password(http_req *rq)
{
	static const char *const fields[] = {"password", NULL};
	json_field_error e = {0};
	const char *sid = rq->params[0], *password = NULL, *why = NULL;
	char hash[AUTH_PWHASH_MAX], res[AUDIT_RESOURCE_MAX];
	billing_service s;
	sqlite3_stmt *st;

	if (service_of_request(rq, &s) != 0)
		return;
	if (!json_only_fields(rq->json, fields, &e) ||
	    !json_get_str(rq->json, "password", true, &password, &e)) {
		reply_field_error(rq, &e);
		return;
	}
	if (!valid_password(password, &why)) {
		reply_field(rq, "password", why ? why : "is not an acceptable password");
		return;
	}
	if (!service_customer_ok(rq, s.customer_id))
		return;
	if (auth_hash_password(password, hash) != 0) {
		reply_problem(rq, 500, NULL, "cannot hash the password", NULL);
		return;
	}
	if (db_begin() != 0)
		goto db_fail;
	st = db_stmt("UPDATE users SET password_hash=?2 WHERE id=?1 AND role='customer'");
	if (!st)
		goto db_fail_rb;
	sqlite3_bind_text(st, 2, hash, -1, SQLITE_TRANSIENT);
	/* A new password ends every open session of the customer, as PATCH /customers does. */
	if (!db_run_id(st, s.customer_id) ||
	    !db_exec_id("DELETE FROM sessions WHERE user_id=?", s.customer_id))
		goto db_fail_rb;
	if (db_commit() != 0)
		goto db_fail;
	sodium_memzero(hash, sizeof(hash));
	snprintf(res, sizeof(res), "customer/%lld", (long long)s.customer_id);
	audit(rq, "customer.update", res, "password");
	service_resource(sid, res, sizeof(res));
	audit(rq, "service.password", res, NULL);
	reply_empty(rq, 204);
	return;
db_fail_rb:
	db_rollback();
db_fail:
	sodium_memzero(hash, sizeof(hash));
	reply_db_error(rq);
}

/* ---- payments ------------------------------------------------------------------------------ */

/* POST /billing/services/{id}/payments: a payment or credit the billing system received for the
 * service's customer (issue 14 item 3), the same body and answer as POST /customers/{id}/payments.
 */
void api_billing_payment(http_req *rq)
{
	char res[AUDIT_RESOURCE_MAX];
	billing_service s;

	if (service_of_request(rq, &s) != 0)
		return;
	if (!service_customer_ok(rq, s.customer_id))
		return;
	api_payment_create_for(rq, s.customer_id);
	if (rq->status == 201) {
		service_resource(rq->params[0], res, sizeof(res));
		audit(rq, "service.payment", res, NULL);
	}
}

/* ---- single sign-on ------------------------------------------------------------------------- */

void api_billing_sso(http_req *rq)
{
	static const char *const no_fields[] = {NULL};
	json_field_error e = {0};
	const char *sid = rq->params[0];
	char token[AUTH_TOKEN_HEX + 1], th[AUTH_TOKEN_HASH_HEX], url[SSO_URL_MAX],
	        res[AUDIT_RESOURCE_MAX];
	billing_service s;
	sqlite3_stmt *st;
	int64_t now = now_unix();
	bool suspended = false, exists = false;
	json_object *o;

	if (service_of_request(rq, &s) != 0)
		return;
	if (rq->json && !json_only_fields(rq->json, no_fields, &e)) {
		reply_field_error(rq, &e);
		return;
	}
	if (!db_exists_id("SELECT 1 FROM users WHERE id=? AND role='customer'", s.customer_id,
	                  &exists) ||
	    !db_exists_id("SELECT 1 FROM users WHERE id=? AND suspended=1", s.customer_id,
	                  &suspended)) {
		reply_db_error(rq);
		return;
	}
	if (!exists) {
		reply_not_found(rq, "customer");
		return;
	}
	if (suspended) {
		reply_problem(rq, 409, NULL, "the service's customer is suspended", NULL);
		return;
	}
	if (random_hex(token, AUTH_TOKEN_BYTES) != 0) {
		reply_problem(rq, 500, NULL, "no randomness", NULL);
		return;
	}
	auth_token_hash(token, th);
	st = db_stmt("DELETE FROM sso_tokens WHERE expires_at <= ?");
	if (st) {
		sqlite3_bind_int64(st, 1, now - SSO_PURGE_OLD);
		db_step_done(st); /* logged; only housekeeping */
	}
	st = db_stmt("INSERT INTO sso_tokens (token_hash, user_id, service_id, created_at, "
	             "expires_at) VALUES (?, ?, ?, ?, ?)");
	if (!st) {
		reply_db_error(rq);
		return;
	}
	sqlite3_bind_text(st, 1, th, -1, SQLITE_TRANSIENT);
	sqlite3_bind_int64(st, 2, s.customer_id);
	sqlite3_bind_text(st, 3, sid, -1, SQLITE_TRANSIENT);
	sqlite3_bind_int64(st, 4, now);
	sqlite3_bind_int64(st, 5, now + SSO_TTL_S);
	if (!db_step_done(st)) {
		reply_db_error(rq);
		return;
	}
	snprintf(url, sizeof(url), "/sso?token=%s", token);
	service_resource(sid, res, sizeof(res));
	audit(rq, "service.sso", res, NULL);
	o = json_object_new_object();
	json_object_object_add(o, "token", json_object_new_string(token));
	json_object_object_add(o, "url", json_object_new_string(url));
	json_object_object_add(o, "expires_at", json_time(now + SSO_TTL_S));
	sodium_memzero(token, sizeof(token));
	sodium_memzero(url, sizeof(url));
	reply_json(rq, 201, o);
}

static void sso_refused(http_req *rq, const char *why)
{
	audit(rq, "sso.refused", NULL, why);
	reply_problem(rq, 401, NULL, "this sign-on link is invalid, used or expired", NULL);
}

void api_sso_login(http_req *rq)
{
	const char *token = req_query(rq, "token");
	char th[AUTH_TOKEN_HASH_HEX], session[AUTH_TOKEN_HEX + 1], csrf[AUTH_TOKEN_HEX + 1],
	        res[AUDIT_RESOURCE_MAX], sid[SERVICE_ID_MAX + 1] = "";
	int64_t now = now_unix(), tid = 0, uid = 0, expires = 0, used = 0, session_id;
	bool suspended = false;
	sqlite3_stmt *st;
	int r;

	if (!token || strlen(token) != AUTH_TOKEN_HEX ||
	    !auth_is_lower_hex(token, AUTH_TOKEN_HEX)) {
		sso_refused(rq, "malformed token");
		return;
	}
	auth_token_hash(token, th);
	if (db_begin() != 0) {
		reply_db_error(rq);
		return;
	}
	st = db_stmt("SELECT t.id, t.user_id, t.expires_at, COALESCE(t.used_at, 0), t.service_id, "
	             "u.suspended FROM sso_tokens t JOIN users u ON u.id = t.user_id "
	             "WHERE t.token_hash = ?");
	if (!st)
		goto db_fail;
	sqlite3_bind_text(st, 1, th, -1, SQLITE_TRANSIENT);
	r = sqlite3_step(st);
	if (r == SQLITE_ROW) {
		tid = sqlite3_column_int64(st, 0);
		uid = sqlite3_column_int64(st, 1);
		expires = sqlite3_column_int64(st, 2);
		used = sqlite3_column_int64(st, 3);
		db_col_text(st, 4, sid, sizeof(sid));
		suspended = sqlite3_column_int(st, 5) != 0;
	}
	sqlite3_reset(st);
	if (r != SQLITE_ROW && r != SQLITE_DONE)
		goto db_fail;
	if (r == SQLITE_DONE || used || expires <= now || suspended) {
		db_rollback();
		sso_refused(rq, r == SQLITE_DONE ? "unknown token"
		                : used           ? "token used already"
		                : suspended      ? "customer suspended"
		                                 : "token expired");
		return;
	}
	/* Spent in the same transaction that opens the session: a second use finds used_at. */
	st = db_stmt("UPDATE sso_tokens SET used_at = ?2 WHERE id = ?1 AND used_at IS NULL");
	if (!st)
		goto db_fail;
	sqlite3_bind_int64(st, 2, now);
	if (!db_run_id(st, tid))
		goto db_fail;
	if (rq->user.session_id &&
	    !db_exec_id("DELETE FROM sessions WHERE id=?", rq->user.session_id))
		goto db_fail;
	if (auth_session_insert(uid, rq->ip, req_header(rq, "User-Agent"), now, session, csrf,
	                        &session_id) != 0)
		goto db_fail;
	if (db_commit() != 0) {
		reply_db_error(rq);
		return;
	}
	memset(&rq->user, 0, sizeof(rq->user));
	rq->user.id = uid;
	rq->user.session_id = session_id;
	st = db_stmt("SELECT username, role FROM users WHERE id=?");
	if (st) {
		sqlite3_bind_int64(st, 1, uid);
		if (sqlite3_step(st) == SQLITE_ROW) {
			db_col_text(st, 0, rq->user.username, sizeof(rq->user.username));
			db_col_text(st, 1, rq->user.role, sizeof(rq->user.role));
		}
		sqlite3_reset(st);
	}
	snprintf(res, sizeof(res), "user/%lld", (long long)uid);
	audit(rq, "sso.login", res, sid);
	reply_empty(rq, 303);
	reply_header(rq, "Location", SSO_REDIRECT);
	auth_session_cookie(rq, session, SESSION_TTL_S);
	sodium_memzero(session, sizeof(session));
	sodium_memzero(csrf, sizeof(csrf));
	return;
db_fail:
	db_rollback();
	reply_db_error(rq);
}
