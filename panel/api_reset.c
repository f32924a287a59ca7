/* api_reset.c — password reset by e-mail link (issue 16 item 5): POST /password-reset answers
 * 202 the same whether or not the address belongs to a user (no enumeration) and, when it does,
 * mails a link through the SMTP smarthost (mail.c) from a thread of its own, so the answer's
 * timing does not tell either; POST /password-reset/confirm sets the new password once (15 min,
 * single use, only the token's hash is stored) and ends every session of the user.
 * The link is $XVPS_PUBLIC_URL/#/reset?token=<hex> (default http://<XVPS_LISTEN>). */
#include <pthread.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../common/util.h"
#include "../common/validate.h"
#include "api.h"
#include "audit.h"
#include "auth.h"
#include "config.h"
#include "http.h"
#include "http_internal.h"
#include "mail.h"
#include "store.h"

#define RESET_TTL_S           (15 * 60)
#define RESET_MAX_OUTSTANDING 3 /* unused links per user within RESET_TTL_S: more are not sent */
#define RESET_URL_MAX         700
#define RESET_EMAIL_MAX       256

/* Mail threads still sending: xvpsd waits for them at shutdown (api_reset_drain). */
static pthread_mutex_t inflight_mu = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t inflight_cv = PTHREAD_COND_INITIALIZER;
static int inflight;

typedef struct reset_mail {
	char to[RESET_EMAIL_MAX], url[RESET_URL_MAX], tag[48];
} reset_mail;

static void *reset_mail_main(void *arg)
{
	reset_mail *m = arg;
	char body[RESET_URL_MAX + 512], err[256];

	snprintf(body, sizeof(body),
	         "Someone asked to reset the password of your xvps account.\r\n\r\n"
	         "Open this link within 15 minutes to choose a new one (it works once):\r\n\r\n"
	         "%s\r\n\r\nIf it was not you, ignore this message: nothing changes.\r\n",
	         m->url);
	if (mail_send(m->to, "[xvps] password reset", body, m->tag, err, sizeof(err)) != 0)
		log_warn("reset: mailing a reset link: %s", err);
	sodium_memzero(m, sizeof(*m));
	free(m);
	pthread_mutex_lock(&inflight_mu);
	inflight--;
	pthread_cond_broadcast(&inflight_cv);
	pthread_mutex_unlock(&inflight_mu);
	return NULL;
}

void api_reset_drain(void)
{
	pthread_mutex_lock(&inflight_mu);
	while (inflight > 0)
		pthread_cond_wait(&inflight_cv, &inflight_mu); /* each ends within MAIL_TIMEOUT_S */
	pthread_mutex_unlock(&inflight_mu);
}

static void base_url(char *out, size_t len)
{
	const char *env = getenv("XVPS_PUBLIC_URL");
	size_t n;

	if (env && (strncmp(env, "https://", 8) == 0 || strncmp(env, "http://", 7) == 0) &&
	    mail_header_safe(env) && strlen(env) < 400) {
		snprintf(out, len, "%s", env);
	} else {
		bool v6 = strchr(g_app->cfg.listen_host, ':') != NULL;

		snprintf(out, len, "%s://%s%s%s:%d", g_app->cfg.tls_cert ? "https" : "http",
		         v6 ? "[" : "", g_app->cfg.listen_host, v6 ? "]" : "",
		         g_app->cfg.listen_port);
	}
	n = strlen(out);
	if (n && out[n - 1] == '/')
		out[n - 1] = '\0';
}

void api_reset_request(http_req *rq)
{
	static const char *const fields[] = {"email", NULL};
	json_field_error e = {0};
	const char *email = NULL, *why = NULL;
	char token[AUTH_TOKEN_HEX + 1], th[AUTH_TOKEN_HASH_HEX], res[AUDIT_RESOURCE_MAX],
	        base[RESET_URL_MAX - AUTH_TOKEN_HEX - 32];
	int64_t uid = 0, now = now_unix(), outstanding = 0;
	sqlite3_stmt *st;
	reset_mail *m;
	pthread_t t;
	pthread_attr_t at;

	if (!json_only_fields(rq->json, fields, &e) ||
	    !json_get_str(rq->json, "email", true, &email, &e)) {
		reply_field_error(rq, &e);
		return;
	}
	if (!valid_email(email, &why)) {
		reply_field(rq, "email", why ? why : "is not an e-mail address");
		return;
	}
	st = db_stmt("SELECT u.id, (SELECT count(*) FROM password_resets r WHERE r.user_id = u.id "
	             "AND r.used_at IS NULL AND r.expires_at > ?2) FROM users u "
	             "WHERE lower(u.email) = lower(?1) AND u.suspended = 0 ORDER BY u.id LIMIT 1");
	if (!st) {
		reply_db_error(rq);
		return;
	}
	sqlite3_bind_text(st, 1, email, -1, SQLITE_TRANSIENT);
	sqlite3_bind_int64(st, 2, now);
	if (sqlite3_step(st) == SQLITE_ROW) {
		uid = sqlite3_column_int64(st, 0);
		outstanding = sqlite3_column_int64(st, 1);
	}
	sqlite3_reset(st);
	snprintf(res, sizeof(res), "user/%lld", (long long)uid);
	if (uid <= 0 || outstanding >= RESET_MAX_OUTSTANDING || !mail_on()) {
		/* Audited for the admin; the caller gets the same 202 as for a sent link. */
		audit(rq, "password.reset.request", uid > 0 ? res : NULL,
		      uid <= 0 ? "no such address"
		               : (!mail_on() ? "not sent: no SMTP smarthost"
		                             : "not sent: too many links"));
		goto accepted;
	}
	if (random_hex(token, AUTH_TOKEN_BYTES) != 0) {
		reply_problem(rq, 500, NULL, "no randomness", NULL);
		return;
	}
	auth_token_hash(token, th);
	st = db_stmt("INSERT INTO password_resets (token_hash, user_id, created_at, expires_at) "
	             "VALUES (?, ?, ?, ?)");
	if (!st) {
		reply_db_error(rq);
		return;
	}
	sqlite3_bind_text(st, 1, th, -1, SQLITE_TRANSIENT);
	sqlite3_bind_int64(st, 2, uid);
	sqlite3_bind_int64(st, 3, now);
	sqlite3_bind_int64(st, 4, now + RESET_TTL_S);
	if (!db_step_done(st)) {
		reply_db_error(rq);
		return;
	}
	m = calloc(1, sizeof(*m));
	if (!m) {
		reply_problem(rq, 500, NULL, "out of memory", NULL);
		return;
	}
	base_url(base, sizeof(base));
	snprintf(m->to, sizeof(m->to), "%s", email);
	snprintf(m->url, sizeof(m->url), "%s/#/reset?token=%s", base, token);
	snprintf(m->tag, sizeof(m->tag), "reset-%lld", (long long)db_last_id());
	sodium_memzero(token, sizeof(token));
	pthread_attr_init(&at);
	pthread_attr_setdetachstate(&at, PTHREAD_CREATE_DETACHED);
	pthread_mutex_lock(&inflight_mu);
	inflight++;
	pthread_mutex_unlock(&inflight_mu);
	if (pthread_create(&t, &at, reset_mail_main, m) != 0) {
		log_error("reset: cannot start the mail thread");
		sodium_memzero(m, sizeof(*m));
		free(m);
		pthread_mutex_lock(&inflight_mu);
		inflight--;
		pthread_mutex_unlock(&inflight_mu);
	}
	pthread_attr_destroy(&at);
	audit(rq, "password.reset.request", res, "link sent");
accepted:
	reply_json(rq, 202, json_object_new_object());
}

void api_reset_confirm(http_req *rq)
{
	static const char *const fields[] = {"token", "new_password", NULL};
	json_field_error e = {0};
	const char *token = NULL, *pw = NULL, *why = NULL;
	char th[AUTH_TOKEN_HASH_HEX], uname[AUTH_USERNAME_MAX] = "", res[AUDIT_RESOURCE_MAX];
	int64_t rid = 0, uid = 0, expires = 0, used = 0, now = now_unix();
	sqlite3_stmt *st;

	if (!json_only_fields(rq->json, fields, &e) ||
	    !json_get_str(rq->json, "token", true, &token, &e) ||
	    !json_get_str(rq->json, "new_password", true, &pw, &e)) {
		reply_field_error(rq, &e);
		return;
	}
	if (strlen(token) != AUTH_TOKEN_HEX || !auth_is_lower_hex(token, AUTH_TOKEN_HEX)) {
		reply_field(rq, "token", "is not a reset link's token");
		return;
	}
	auth_token_hash(token, th);
	st = db_stmt("SELECT r.id, r.user_id, r.expires_at, r.used_at, u.username "
	             "FROM password_resets r JOIN users u ON u.id = r.user_id "
	             "WHERE r.token_hash = ?");
	if (!st) {
		reply_db_error(rq);
		return;
	}
	sqlite3_bind_text(st, 1, th, -1, SQLITE_TRANSIENT);
	if (sqlite3_step(st) == SQLITE_ROW) {
		rid = sqlite3_column_int64(st, 0);
		uid = sqlite3_column_int64(st, 1);
		expires = sqlite3_column_int64(st, 2);
		used = sqlite3_column_int64(st, 3);
		db_col_text(st, 4, uname, sizeof(uname));
	}
	sqlite3_reset(st);
	snprintf(res, sizeof(res), "user/%lld", (long long)uid);
	if (rid <= 0) {
		audit(rq, "password.reset.refused", NULL, "unknown link");
		reply_problem(rq, 404, NULL, "no such reset link", NULL);
		return;
	}
	if (used > 0) {
		audit(rq, "password.reset.refused", res, "link already used");
		reply_problem(rq, 410, NULL, "this reset link was already used", NULL);
		return;
	}
	if (expires <= now) {
		audit(rq, "password.reset.refused", res, "link expired");
		reply_problem(rq, 410, NULL, "this reset link has expired (15 minutes)", NULL);
		return;
	}
	if (!account_password_ok(pw, uname, &why)) {
		audit(rq, "password.reset.refused", res, why);
		reply_field(rq, "new_password", why);
		return;
	}
	if (db_begin() != 0) {
		reply_db_error(rq);
		return;
	}
	/* used_at set only while NULL: of two concurrent uses, one wins. */
	st = db_stmt("UPDATE password_resets SET used_at = ?2 WHERE id = ?1 AND used_at IS NULL");
	if (!st)
		goto db_fail;
	sqlite3_bind_int64(st, 1, rid);
	sqlite3_bind_int64(st, 2, now);
	if (!db_step_done(st))
		goto db_fail;
	if (sqlite3_changes(db()) != 1) {
		db_rollback();
		reply_problem(rq, 410, NULL, "this reset link was already used", NULL);
		return;
	}
	/* Every other link of the user dies with this one. */
	st = db_stmt(
	        "UPDATE password_resets SET used_at = ?2 WHERE user_id = ?1 AND used_at IS NULL");
	if (!st)
		goto db_fail;
	sqlite3_bind_int64(st, 1, uid);
	sqlite3_bind_int64(st, 2, now);
	if (!db_step_done(st) || account_set_password_tx(uid, pw, 0) != 0 || db_commit() != 0)
		goto db_fail;
	audit_as(uid, uname, rq->ip, "password.reset", res, "all sessions ended");
	reply_empty(rq, 204);
	return;
db_fail:
	db_rollback();
	reply_db_error(rq);
}
