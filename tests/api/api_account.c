/* api_account.c — accounts (issue 16 item 5) against a running xvpsd ($XVPS_URL): changing
 * one's password (current one required, the other sessions end), listing and revoking one's
 * sessions, TOTP enrolment / confirmation / the login's second step / disabling, with codes
 * computed here by liboath from the secret the API gave (a used code is refused), recovery codes
 * (single use), the admin setting that forces admins to enrol, and the password reset link: the
 * e-mail goes to an SMTP sink this test runs on $XVPS_SMTP_URL (loopback), the link is used once,
 * an expired one (made so in $XVPS_STATE/xvps.db) is refused. Bad input changes nothing and is
 * audited. */
#include <criterion/criterion.h>
#include <liboath/oath.h>
#include <pthread.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>
#include <unistd.h>

#include "client.h"
#include "sink.h"

static api_client admin;

static void setup(void)
{
	cr_assert_eq(oath_init(), OATH_OK);
	fx_admin(&admin);
}

TestSuite(account, .init = setup, .fini = api_cleanup, .timeout = 120);

/* ---- helpers -------------------------------------------------------------------------------- */

/* The 6-digit code of base32 secret b32 at time t. */
static void code_at(const char *b32, time_t t, char out[8])
{
	char *key = NULL;
	size_t len = 0;

	cr_assert_eq(oath_base32_decode(b32, strlen(b32), &key, &len), OATH_OK);
	cr_assert_eq(oath_totp_generate(key, len, t, 30, 0, 6, out), OATH_OK);
	free(key);
}

/* True when GET /audit?resource=res (admin) lists action. */
static bool audited(const char *res, const char *action)
{
	char path[256], want[96];
	api_resp *r;
	bool found;

	snprintf(path, sizeof(path), V1 "/audit?resource=%s&limit=200", res);
	snprintf(want, sizeof(want), "\"action\":\"%s\"", action);
	r = api_req(&admin, "GET", path, NULL);
	cr_assert_eq(r->status, 200, "%s", r->body);
	found = strstr(r->body, want) != NULL;
	api_resp_free(r);
	return found;
}

static long status_of(const api_client *c, const char *method, const char *path)
{
	api_resp *r = api_req(c, method, path, NULL);
	long s = r->status;

	api_resp_free(r);
	return s;
}

/* The id of c's current session in GET /sessions. */
static void current_session(const api_client *c, char id_out[32])
{
	api_resp *r = api_req(c, "GET", V1 "/sessions", NULL);

	cr_assert_eq(r->status, 200, "%s", r->body);
	id_out[0] = '\0';
	for (size_t i = 0; i < json_object_array_length(r->json); i++) {
		json_object *s = json_object_array_get_idx(r->json, i);

		if (json_object_get_boolean(jget(s, "current")))
			snprintf(id_out, 32, "%s", jstr(s, "id"));
	}
	cr_assert(id_out[0], "no current session in %s", r->body);
	api_resp_free(r);
}

/* ---- password ------------------------------------------------------------------------------- */

Test(account, password_change_needs_the_current_one_and_ends_the_other_sessions)
{
	api_client c1, c2;
	char id[32], user[32], pw[40], res[48], longpw[1100];
	api_resp *r;

	fx_customer(&admin, &c1, id, user, pw);
	cr_assert_eq(api_login(&c2, user, pw), 201);
	snprintf(res, sizeof(res), "user/%s", id);

	r = api_req(
	        &c1, "POST", V1 "/account/password",
	        "{\"current_password\":\"wrong-password\",\"new_password\":\"a new pass 123\"}");
	assert_problem(r, 422, "current_password");
	api_resp_free(r);
	r = api_req(&c1, "POST", V1 "/account/password",
	            "{\"current_password\":\"%s\",\"new_password\":\"abababab\"}", pw);
	assert_problem(r, 422, "new_password");
	cr_assert(strstr(r->body, "weak"), "%s", r->body);
	api_resp_free(r);
	r = api_req(&c1, "POST", V1 "/account/password",
	            "{\"current_password\":\"%s\",\"new_password\":\"short\"}", pw);
	assert_problem(r, 422, "new_password");
	api_resp_free(r);
	memset(longpw, 'x', sizeof(longpw) - 1);
	longpw[sizeof(longpw) - 1] = '\0';
	memcpy(longpw, "abcdef", 6);
	r = api_req(&c1, "POST", V1 "/account/password",
	            "{\"current_password\":\"%s\",\"new_password\":\"%s\"}", pw, longpw);
	assert_problem(r, 422, "new_password");
	api_resp_free(r);
	r = api_req(&c1, "POST", V1 "/account/password",
	            "{\"current_password\":\"%s\",\"new_password\":\"x%sx\"}", pw, user);
	assert_problem(r, 422, "new_password");
	api_resp_free(r);
	r = api_req(&c1, "POST", V1 "/account/password",
	            "{\"current_password\":\"%s\",\"new_password\":\"a new pass 123\",\"x\":1}",
	            pw);
	assert_problem(r, 422, "x");
	api_resp_free(r);
	/* Nothing changed: both sessions live, the old password logs in. */
	cr_assert_eq(status_of(&c2, "GET", V1 "/me"), 200);
	{
		api_client c3;

		cr_assert_eq(api_login(&c3, user, pw), 201);
		cr_assert_eq(status_of(&c3, "DELETE", V1 "/session"), 204);
	}
	cr_assert(audited(res, "password.change.refused"));

	r = api_req(&c1, "POST", V1 "/account/password",
	            "{\"current_password\":\"%s\",\"new_password\":\"a new pass 123\"}", pw);
	cr_assert_eq(r->status, 204, "%s", r->body);
	api_resp_free(r);
	cr_assert_eq(status_of(&c1, "GET", V1 "/me"), 200, "the current session goes on");
	cr_assert_eq(status_of(&c2, "GET", V1 "/me"), 401, "the other session ended");
	cr_assert_eq(api_login(&c2, user, pw), 401, "the old password is gone");
	cr_assert_eq(api_login(&c2, user, "a new pass 123"), 201);
	cr_assert(audited(res, "password.change"));
}

Test(account, admin_changes_its_own_password_too)
{
	api_client a;
	const char *pw = getenv("XVPS_ADMIN_PASSWORD");
	api_resp *r;

	fx_admin(&a);
	r = api_req(&a, "POST", V1 "/account/password",
	            "{\"current_password\":\"%s\",\"new_password\":\"temporary pass 42\"}", pw);
	cr_assert_eq(r->status, 204, "%s", r->body);
	api_resp_free(r);
	/* Back, so the other suites log in as before (this also ends the suite's other admin
	 * session: log it in again). */
	r = api_req(&a, "POST", V1 "/account/password",
	            "{\"current_password\":\"temporary pass 42\",\"new_password\":\"%s\"}", pw);
	cr_assert_eq(r->status, 204, "%s", r->body);
	api_resp_free(r);
	cr_assert_eq(status_of(&admin, "GET", V1 "/me"), 401);
	fx_admin(&admin);
}

/* ---- sessions ------------------------------------------------------------------------------- */

Test(account, sessions_are_listed_and_revoked_by_their_owner_only)
{
	api_client c1, c2, other;
	char id[32], oid[32], user[32], pw[40], s1[32], s2[32], path[96], res[48];
	api_resp *r;

	fx_customer(&admin, &c1, id, user, pw);
	fx_customer(&admin, &other, oid, NULL, NULL);
	cr_assert_eq(api_login(&c2, user, pw), 201);
	current_session(&c1, s1);
	current_session(&c2, s2);
	cr_assert_str_neq(s1, s2);

	r = api_req(&c1, "GET", V1 "/sessions", NULL);
	cr_assert_eq(r->status, 200);
	cr_assert_eq(json_object_array_length(r->json), 2, "%s", r->body);
	for (size_t i = 0; i < 2; i++) {
		json_object *s = json_object_array_get_idx(r->json, i);

		cr_assert_str_eq(jstr(s, "ip"), "127.0.0.1");
		cr_assert_not_null(jstr(s, "created_at"));
		cr_assert_not_null(jstr(s, "last_seen_at"));
		/* libcurl sends no User-Agent unless told: null then. */
		cr_assert(jget(s, "user_agent") == NULL || jis_null(s, "user_agent") ||
		          jstr(s, "user_agent"));
	}
	api_resp_free(r);

	snprintf(path, sizeof(path), V1 "/sessions/%s", s2);
	cr_assert_eq(status_of(&other, "DELETE", path), 404, "another user's session");
	cr_assert_eq(status_of(&c2, "GET", V1 "/me"), 200);
	cr_assert_eq(status_of(&c1, "DELETE", V1 "/sessions/abc"), 404);
	cr_assert_eq(status_of(&c1, "DELETE", V1 "/sessions/999999999"), 404);
	cr_assert_eq(status_of(&c1, "DELETE", path), 204);
	cr_assert_eq(status_of(&c2, "GET", V1 "/me"), 401, "the revoked session ended");
	cr_assert_eq(status_of(&c1, "GET", V1 "/me"), 200);
	cr_assert_eq(status_of(&c1, "DELETE", path), 404, "already gone");
	snprintf(res, sizeof(res), "session/%s", s2);
	cr_assert(audited(res, "session.revoke"));
}

/* ---- TOTP ----------------------------------------------------------------------------------- */

Test(account, totp_enrol_confirm_login_and_disable)
{
	api_client c, c2, anon = {0};
	char id[32], user[32], pw[40], secret[40], code[8], next[8], rec0[20], rec1[20],
	        challenge[80], res[48];
	time_t now;
	api_resp *r;

	fx_customer(&admin, &c, id, user, pw);
	snprintf(res, sizeof(res), "user/%s", id);
	r = api_req(&c, "POST", V1 "/account/totp/confirm", "{\"code\":\"123456\"}");
	assert_problem(r, 409, NULL); /* nothing to confirm yet */
	api_resp_free(r);

	r = api_req(&c, "POST", V1 "/account/totp", NULL);
	cr_assert_eq(r->status, 201, "%s", r->body);
	snprintf(secret, sizeof(secret), "%s", jstr(r->json, "secret"));
	cr_assert_eq(strlen(secret), 32);
	cr_assert(strstr(jstr(r->json, "otpauth_uri"), "otpauth://totp/xvps:"));
	cr_assert(strstr(jstr(r->json, "otpauth_uri"), secret));
	api_resp_free(r);

	r = api_req(&c, "POST", V1 "/account/totp/confirm", "{\"code\":\"12345\"}");
	assert_problem(r, 422, "code");
	api_resp_free(r);
	now = time(NULL);
	code_at(secret, now - 120, code); /* outside the window */
	r = api_req(&c, "POST", V1 "/account/totp/confirm", "{\"code\":\"%s\"}", code);
	assert_problem(r, 422, "code");
	api_resp_free(r);
	r = api_req(&c, "GET", V1 "/me", NULL);
	cr_assert_not(json_object_get_boolean(jget(r->json, "totp_enabled")), "%s", r->body);
	api_resp_free(r);

	now = time(NULL);
	code_at(secret, now, code);
	r = api_req(&c, "POST", V1 "/account/totp/confirm", "{\"code\":\"%s\"}", code);
	cr_assert_eq(r->status, 200, "%s", r->body);
	cr_assert_eq(json_object_array_length(jget(r->json, "recovery_codes")), 10, "%s", r->body);
	snprintf(rec0, sizeof(rec0), "%s",
	         json_object_get_string(
	                 json_object_array_get_idx(jget(r->json, "recovery_codes"), 0)));
	snprintf(rec1, sizeof(rec1), "%s",
	         json_object_get_string(
	                 json_object_array_get_idx(jget(r->json, "recovery_codes"), 1)));
	api_resp_free(r);
	cr_assert(audited(res, "totp.enable"));
	r = api_req(&c, "POST", V1 "/account/totp", NULL);
	assert_problem(r, 409, NULL); /* already on */
	api_resp_free(r);

	/* Login: the password alone gives a challenge, no session. */
	r = api_req(NULL, "POST", V1 "/session", "{\"username\":\"%s\",\"password\":\"%s\"}", user,
	            pw);
	cr_assert_eq(r->status, 200, "%s", r->body);
	cr_assert(json_object_get_boolean(jget(r->json, "totp_required")));
	cr_assert_eq(r->session_cookie[0], '\0', "no session before the code");
	snprintf(challenge, sizeof(challenge), "%s", jstr(r->json, "challenge"));
	api_resp_free(r);
	/* The code used for the confirmation is spent: refused (replay). */
	r = api_req(NULL, "POST", V1 "/session/totp", "{\"challenge\":\"%s\",\"code\":\"%s\"}",
	            challenge, code);
	assert_problem(r, 422, "code");
	api_resp_free(r);
	r = api_req(NULL, "POST", V1 "/session/totp", "{\"challenge\":\"%s\",\"code\":\"000000x\"}",
	            challenge);
	assert_problem(r, 422, "code");
	api_resp_free(r);
	r = api_req(NULL, "POST", V1 "/session/totp",
	            "{\"challenge\":\"%064d\",\"code\":\"123456\"}", 0);
	assert_problem(r, 401, NULL); /* an unknown challenge */
	api_resp_free(r);
	cr_assert(audited(res, "login.totp_failed"));
	/* The next step's code is inside the window and newer: accepted. */
	code_at(secret, now + 30, next);
	r = api_req(NULL, "POST", V1 "/session/totp", "{\"challenge\":\"%s\",\"code\":\"%s\"}",
	            challenge, next);
	cr_assert_eq(r->status, 201, "%s", r->body);
	cr_assert(r->session_cookie[0]);
	api_resp_free(r);
	/* The challenge was spent with the login. */
	r = api_req(NULL, "POST", V1 "/session/totp", "{\"challenge\":\"%s\",\"code\":\"%s\"}",
	            challenge, rec0);
	assert_problem(r, 401, NULL);
	api_resp_free(r);

	/* A recovery code logs in once. */
	r = api_req(NULL, "POST", V1 "/session", "{\"username\":\"%s\",\"password\":\"%s\"}", user,
	            pw);
	snprintf(challenge, sizeof(challenge), "%s", jstr(r->json, "challenge"));
	api_resp_free(r);
	r = api_req(NULL, "POST", V1 "/session/totp", "{\"challenge\":\"%s\",\"code\":\"%s\"}",
	            challenge, rec0);
	cr_assert_eq(r->status, 201, "%s", r->body);
	memset(&c2, 0, sizeof(c2));
	snprintf(c2.session, sizeof(c2.session), "%s", r->session_cookie);
	snprintf(c2.csrf, sizeof(c2.csrf), "%s", jstr(r->json, "csrf_token"));
	api_resp_free(r);
	cr_assert_eq(status_of(&c2, "GET", V1 "/me"), 200);
	r = api_req(NULL, "POST", V1 "/session", "{\"username\":\"%s\",\"password\":\"%s\"}", user,
	            pw);
	snprintf(challenge, sizeof(challenge), "%s", jstr(r->json, "challenge"));
	api_resp_free(r);
	r = api_req(NULL, "POST", V1 "/session/totp", "{\"challenge\":\"%s\",\"code\":\"%s\"}",
	            challenge, rec0);
	assert_problem(r, 422, "code");
	api_resp_free(r);

	/* Disable: a wrong code changes nothing; a recovery code does it. */
	r = api_req(&c2, "POST", V1 "/account/totp/disable", "{\"code\":\"%s\"}", rec0);
	assert_problem(r, 422, "code");
	api_resp_free(r);
	r = api_req(&c2, "GET", V1 "/me", NULL);
	cr_assert(json_object_get_boolean(jget(r->json, "totp_enabled")), "%s", r->body);
	api_resp_free(r);
	r = api_req(&c2, "POST", V1 "/account/totp/disable", "{\"code\":\"%s\"}", rec1);
	cr_assert_eq(r->status, 204, "%s", r->body);
	api_resp_free(r);
	cr_assert(audited(res, "totp.disable"));
	cr_assert_eq(api_login(&anon, user, pw), 201, "no second step any more");
}

Test(account, wrong_codes_are_rate_limited_like_login_failures)
{
	api_client c;
	char id[32], user[32], pw[40], challenge[80];
	api_resp *r;
	long last = 0;

	fx_customer(&admin, &c, id, user, pw);
	r = api_req(&c, "POST", V1 "/account/totp", NULL);
	cr_assert_eq(r->status, 201);
	{
		char secret[40], code[8];

		snprintf(secret, sizeof(secret), "%s", jstr(r->json, "secret"));
		api_resp_free(r);
		code_at(secret, time(NULL), code);
		r = api_req(&c, "POST", V1 "/account/totp/confirm", "{\"code\":\"%s\"}", code);
		cr_assert_eq(r->status, 200, "%s", r->body);
	}
	api_resp_free(r);
	r = api_req(NULL, "POST", V1 "/session", "{\"username\":\"%s\",\"password\":\"%s\"}", user,
	            pw);
	snprintf(challenge, sizeof(challenge), "%s", jstr(r->json, "challenge"));
	api_resp_free(r);
	for (int i = 0; i < 7; i++) {
		r = api_req(NULL, "POST", V1 "/session/totp",
		            "{\"challenge\":\"%s\",\"code\":\"aaaa-aaaa-aaaa\"}", challenge);
		last = r->status;
		api_resp_free(r);
	}
	cr_assert_eq(last, 429, "the sixth wrong code and later are refused before checking");
}

Test(account, admins_must_enrol_when_the_setting_says_so)
{
	api_client key = {0};
	api_resp *r;

	/* An admin API key is not gated: it turns the setting off again at the end. */
	r = api_req(&admin, "POST", V1 "/api-keys", "{\"name\":\"settings\"}");
	cr_assert_eq(r->status, 201, "%s", r->body);
	snprintf(key.bearer, sizeof(key.bearer), "%s", jstr(r->json, "token"));
	api_resp_free(r);

	r = api_req(&admin, "PUT", V1 "/settings/accounts", "{\"require_admin_totp\":\"yes\"}");
	assert_problem(r, 422, "require_admin_totp");
	api_resp_free(r);
	r = api_req(&admin, "PUT", V1 "/settings/accounts", "{\"require_admin_totp\":true}");
	cr_assert_eq(r->status, 200, "%s", r->body);
	api_resp_free(r);

	r = api_req(&admin, "GET", V1 "/plans", NULL);
	assert_problem(r, 403, NULL);
	cr_assert_str_eq(jstr(r->json, "code"), "totp_enrolment_required");
	api_resp_free(r);
	r = api_req(&admin, "GET", V1 "/me", NULL);
	cr_assert_eq(r->status, 200);
	cr_assert(json_object_get_boolean(jget(r->json, "totp_required")), "%s", r->body);
	api_resp_free(r);
	cr_assert_eq(status_of(&key, "GET", V1 "/plans"), 200);

	r = api_req(&key, "PUT", V1 "/settings/accounts", "{\"require_admin_totp\":false}");
	cr_assert_eq(r->status, 200, "%s", r->body);
	api_resp_free(r);
	cr_assert_eq(status_of(&admin, "GET", V1 "/plans"), 200);
	cr_assert(audited("settings/accounts", "settings.accounts"));
	r = api_req(&admin, "GET", V1 "/api-keys", NULL);
	for (size_t i = 0; i < json_object_array_length(r->json); i++) {
		json_object *k = json_object_array_get_idx(r->json, i);
		char path[96];

		if (strcmp(jstr(k, "name"), "settings") == 0) {
			snprintf(path, sizeof(path), V1 "/api-keys/%s", jstr(k, "id"));
			cr_assert_eq(status_of(&admin, "DELETE", path), 204);
		}
	}
	api_resp_free(r);
}

/* ---- password reset ------------------------------------------------------------------------- */

static void sink_start(void)
{
	cr_assert(getenv("XVPS_SMTP_URL"),
	          "set XVPS_SMTP_URL=smtp://127.0.0.1:PORT (scripts/test.sh does)");
	cr_assert(smtp_sink_start(), "bind the SMTP sink");
}

/* Waits (<= 20 s) for a message to rcpt with a reset link; its token into out[65]. */
static bool wait_token(const char *rcpt, char out[65])
{
	char to[128];

	snprintf(to, sizeof(to), "To: <%s>", rcpt);
	for (int i = 0; i < 200; i++) {
		const char *m, *t;

		pthread_mutex_lock(&sink_mu);
		m = strstr(smtp_mail, to);
		t = m ? strstr(m, "#/reset?token=") : NULL;
		if (t) {
			snprintf(out, 65, "%s", t + 14);
			smtp_mail[0] = '\0';
		}
		pthread_mutex_unlock(&sink_mu);
		if (t)
			return strlen(out) == 64;
		usleep(100 * 1000);
	}
	return false;
}

Test(account, password_reset_link_is_single_use_and_expires)
{
	api_client c, c2;
	char id[32], user[32], pw[40], email[64], token[65], token2[65], res[48];
	api_resp *r;

	sink_start();
	fx_customer(&admin, &c, id, user, pw);
	snprintf(email, sizeof(email), "%s@example.com", user);
	snprintf(res, sizeof(res), "user/%s", id);

	/* The same answer whether or not the address exists. */
	r = api_req(NULL, "POST", V1 "/password-reset", "{\"email\":\"nobody-%s@example.com\"}",
	            user);
	cr_assert_eq(r->status, 202, "%s", r->body);
	cr_assert_str_eq(r->body, "{}");
	api_resp_free(r);
	r = api_req(NULL, "POST", V1 "/password-reset", "{\"email\":\"not an address\"}");
	assert_problem(r, 422, "email");
	api_resp_free(r);
	r = api_req(NULL, "POST", V1 "/password-reset", "{\"email\":\"%s\"}", email);
	cr_assert_eq(r->status, 202, "%s", r->body);
	cr_assert_str_eq(r->body, "{}");
	api_resp_free(r);
	cr_assert(wait_token(email, token), "no reset e-mail reached the sink");

	/* Bad input changes nothing: the link still works afterwards. */
	r = api_req(NULL, "POST", V1 "/password-reset/confirm",
	            "{\"token\":\"%s\",\"new_password\":\"aaaaaaaaaa\"}", token);
	assert_problem(r, 422, "new_password");
	api_resp_free(r);
	r = api_req(NULL, "POST", V1 "/password-reset/confirm",
	            "{\"token\":\"xyz\",\"new_password\":\"reset pass 9876\"}");
	assert_problem(r, 422, "token");
	api_resp_free(r);
	r = api_req(NULL, "POST", V1 "/password-reset/confirm",
	            "{\"token\":\"%064d\",\"new_password\":\"reset pass 9876\"}", 0);
	assert_problem(r, 404, NULL);
	api_resp_free(r);
	cr_assert_eq(status_of(&c, "GET", V1 "/me"), 200);

	r = api_req(NULL, "POST", V1 "/password-reset/confirm",
	            "{\"token\":\"%s\",\"new_password\":\"reset pass 9876\"}", token);
	cr_assert_eq(r->status, 204, "%s", r->body);
	api_resp_free(r);
	cr_assert_eq(status_of(&c, "GET", V1 "/me"), 401, "a reset ends every session");
	cr_assert_eq(api_login(&c2, user, pw), 401);
	cr_assert_eq(api_login(&c2, user, "reset pass 9876"), 201);
	cr_assert(audited(res, "password.reset"));

	/* Used twice: refused, the password stays. */
	r = api_req(NULL, "POST", V1 "/password-reset/confirm",
	            "{\"token\":\"%s\",\"new_password\":\"another pass 5432\"}", token);
	assert_problem(r, 410, NULL);
	cr_assert(strstr(r->body, "already used"), "%s", r->body);
	api_resp_free(r);
	cr_assert_eq(status_of(&c2, "GET", V1 "/me"), 200);

	/* Expired: a second link, made 16 minutes old in the database. */
	r = api_req(NULL, "POST", V1 "/password-reset", "{\"email\":\"%s\"}", email);
	cr_assert_eq(r->status, 202);
	api_resp_free(r);
	cr_assert(wait_token(email, token2));
	{
		char path[600];
		sqlite3 *db = NULL;

		snprintf(path, sizeof(path), "%s/xvps.db", getenv("XVPS_STATE"));
		cr_assert_eq(sqlite3_open_v2(path, &db, SQLITE_OPEN_READWRITE, NULL), SQLITE_OK);
		sqlite3_busy_timeout(db, 20000);
		cr_assert_eq(
		        sqlite3_exec(db,
		                     "UPDATE password_resets SET created_at = created_at - 960, "
		                     "expires_at = expires_at - 960 WHERE used_at IS NULL",
		                     NULL, NULL, NULL),
		        SQLITE_OK);
		sqlite3_close(db);
	}
	r = api_req(NULL, "POST", V1 "/password-reset/confirm",
	            "{\"token\":\"%s\",\"new_password\":\"another pass 5432\"}", token2);
	assert_problem(r, 410, NULL);
	cr_assert(strstr(r->body, "expired"), "%s", r->body);
	api_resp_free(r);
	cr_assert_eq(status_of(&c2, "GET", V1 "/me"), 200);
	cr_assert_eq(api_login(&c, user, "reset pass 9876"), 201);
	cr_assert(audited(res, "password.reset.refused"));
}
