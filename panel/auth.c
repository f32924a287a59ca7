/* auth.c — who is calling: argon2id passwords, cookie sessions with CSRF tokens, API keys,
 * login rate limiting, and the first-start admin account (DESIGN.md §4, §5). Never stores a
 * token or a password in clear, never says whether a user name exists. */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include "../common/util.h"
#include "../common/validate.h"
#include "http_internal.h"
#include "panel.h"
#include "resources.h"

#define TOKEN_BYTES           32
#define TOKEN_HEX             (2 * TOKEN_BYTES)
#define HASH_HEX              (2 * crypto_generichash_BYTES + 1)
#define API_KEY_PREFIX        "xvps_"
#define MAX_API_KEYS_PER_USER 100

/* ---- passwords ------------------------------------------------------------------------------- */

static unsigned long long pw_opslimit(void)
{
	return g_app && g_app->cfg.pwhash_opslimit > 0
	               ? (unsigned long long)g_app->cfg.pwhash_opslimit
	               : 2ULL;
}

static size_t pw_memlimit(void)
{
	return g_app && g_app->cfg.pwhash_memlimit > 0 ? g_app->cfg.pwhash_memlimit
	                                               : (size_t)19 * 1024 * 1024;
}

int auth_hash_password(const char *password, char out[128])
{
	if (crypto_pwhash_str_alg(out, password, strlen(password), pw_opslimit(), pw_memlimit(),
	                          crypto_pwhash_ALG_ARGON2ID13) != 0) {
		log_error("auth: argon2id hashing failed (out of memory?)");
		return -1;
	}
	return 0;
}

bool auth_verify_password(const char *hash, const char *password)
{
	if (!hash || !password)
		return false;
	return crypto_pwhash_str_verify(hash, password, strlen(password)) == 0;
}

/* A hash of a random password with the configured limits: unknown users are verified against
 * it so that they take as long as known ones. */
static char g_dummy_hash[128];
static pthread_once_t g_dummy_once = PTHREAD_ONCE_INIT;

static void dummy_init(void)
{
	char pw[33];

	if (random_hex(pw, 16) != 0 || auth_hash_password(pw, g_dummy_hash) != 0)
		g_dummy_hash[0] = '\0';
	sodium_memzero(pw, sizeof(pw));
}

/* hex(BLAKE2b-256(token)) into out[HASH_HEX]. */
static void token_hash(const char *token, char out[HASH_HEX])
{
	unsigned char h[crypto_generichash_BYTES];

	crypto_generichash(h, sizeof(h), (const unsigned char *)token, strlen(token), NULL, 0);
	hex_encode(h, sizeof(h), out);
}

static bool is_lower_hex(const char *s, size_t len)
{
	for (size_t i = 0; i < len; i++)
		if (!((s[i] >= '0' && s[i] <= '9') || (s[i] >= 'a' && s[i] <= 'f')))
			return false;
	return s[len] == '\0';
}

static void copy_col(sqlite3_stmt *st, int col, char *out, size_t len)
{
	const unsigned char *t = sqlite3_column_text(st, col);

	snprintf(out, len, "%s", t ? (const char *)t : "");
}

static void reply_db_error(http_req *rq)
{
	reply_problem(rq, 500, NULL, "database error", NULL);
}

/* ---- identifying a request ----------------------------------------------------------------- */

static bool identify_cookie(http_req *rq, const char *token, bool *csrf_ok_out)
{
	char th[HASH_HEX];
	sqlite3_stmt *st;
	const char *sent;
	int64_t expires, sid;
	bool ok = false;

	if (strlen(token) != TOKEN_HEX || !is_lower_hex(token, TOKEN_HEX))
		return false;
	token_hash(token, th);
	st = db_stmt("SELECT s.id, s.csrf_token, s.expires_at, u.id, u.username, u.role, "
	             "u.suspended FROM sessions s JOIN users u ON u.id = s.user_id "
	             "WHERE s.token_hash = ?");
	if (!st)
		return false;
	sqlite3_bind_text(st, 1, th, -1, SQLITE_TRANSIENT);
	if (sqlite3_step(st) != SQLITE_ROW)
		goto out;
	sid = sqlite3_column_int64(st, 0);
	expires = sqlite3_column_int64(st, 2);
	if (expires <= now_unix()) {
		sqlite3_reset(st);
		st = db_stmt("DELETE FROM sessions WHERE id = ?");
		if (st) {
			sqlite3_bind_int64(st, 1, sid);
			sqlite3_step(st);
		}
		return false;
	}
	if (sqlite3_column_int(st, 6))
		goto out; /* suspended */
	rq->user.session_id = sid;
	copy_col(st, 1, rq->user.csrf_token, sizeof(rq->user.csrf_token));
	rq->user.id = sqlite3_column_int64(st, 3);
	copy_col(st, 4, rq->user.username, sizeof(rq->user.username));
	copy_col(st, 5, rq->user.role, sizeof(rq->user.role));
	rq->user.is_admin = strcmp(rq->user.role, "admin") == 0;
	ok = true;

	sent = req_header(rq, "X-CSRF-Token");
	*csrf_ok_out = !method_is_unsafe(rq->method) ||
	               (sent && strlen(sent) == strlen(rq->user.csrf_token) &&
	                sodium_memcmp(sent, rq->user.csrf_token, strlen(sent)) == 0);
out:
	sqlite3_reset(st);
	return ok;
}

static bool identify_bearer(http_req *rq, const char *auth)
{
	char th[HASH_HEX];
	sqlite3_stmt *st;
	const char *token;
	int64_t kid, last_used;
	bool ok = false;

	if (strncasecmp(auth, "Bearer ", 7) != 0)
		return false;
	token = auth + 7;
	while (*token == ' ')
		token++;
	if (strlen(token) != strlen(API_KEY_PREFIX) + TOKEN_HEX ||
	    strncmp(token, API_KEY_PREFIX, strlen(API_KEY_PREFIX)) != 0 ||
	    !is_lower_hex(token + strlen(API_KEY_PREFIX), TOKEN_HEX))
		return false;
	token_hash(token, th);
	st = db_stmt("SELECT k.id, k.last_used_at, u.id, u.username, u.role, u.suspended "
	             "FROM api_keys k JOIN users u ON u.id = k.user_id WHERE k.token_hash = ?");
	if (!st)
		return false;
	sqlite3_bind_text(st, 1, th, -1, SQLITE_TRANSIENT);
	if (sqlite3_step(st) != SQLITE_ROW || sqlite3_column_int(st, 5)) {
		sqlite3_reset(st);
		return false;
	}
	kid = sqlite3_column_int64(st, 0);
	last_used = sqlite3_column_int64(st, 1);
	rq->user.api_key_id = kid;
	rq->user.id = sqlite3_column_int64(st, 2);
	copy_col(st, 3, rq->user.username, sizeof(rq->user.username));
	copy_col(st, 4, rq->user.role, sizeof(rq->user.role));
	rq->user.is_admin = strcmp(rq->user.role, "admin") == 0;
	ok = true;
	sqlite3_reset(st);
	/* last_used_at at minute resolution: a write per request would serialize every reader. */
	if (now_unix() - last_used >= 60) {
		st = db_stmt("UPDATE api_keys SET last_used_at = ?2 WHERE id = ?1");
		if (st) {
			sqlite3_bind_int64(st, 1, kid);
			sqlite3_bind_int64(st, 2, now_unix());
			sqlite3_step(st);
			sqlite3_reset(st);
		}
	}
	return ok;
}

bool auth_identify(http_req *rq, bool *csrf_ok_out)
{
	const char *cookie, *authz;
	bool dummy;

	if (!csrf_ok_out)
		csrf_ok_out = &dummy;
	*csrf_ok_out = true;
	memset(&rq->user, 0, sizeof(rq->user));
	cookie = req_cookie(rq, SESSION_COOKIE);
	if (cookie && identify_cookie(rq, cookie, csrf_ok_out))
		return true;
	memset(&rq->user, 0, sizeof(rq->user));
	*csrf_ok_out = true; /* bearer requests cannot be forged by a browser */
	authz = req_header(rq, "Authorization");
	if (authz && identify_bearer(rq, authz))
		return true;
	memset(&rq->user, 0, sizeof(rq->user));
	return false;
}

/* ---- users -------------------------------------------------------------------------------- */

int64_t auth_create_user(const char *username, const char *email, const char *password,
                         const char *role, bool *conflict_out)
{
	char hash[128];
	sqlite3_stmt *st;
	int64_t id = -1;
	int r;

	if (conflict_out)
		*conflict_out = false;
	if (auth_hash_password(password, hash) != 0)
		return -1;
	st = db_stmt("INSERT INTO users (username, email, password_hash, role, suspended, "
	             "created_at) VALUES (?1, ?2, ?3, ?4, 0, ?5)");
	if (!st)
		goto out;
	sqlite3_bind_text(st, 1, username, -1, SQLITE_TRANSIENT);
	if (email)
		sqlite3_bind_text(st, 2, email, -1, SQLITE_TRANSIENT);
	sqlite3_bind_text(st, 3, hash, -1, SQLITE_TRANSIENT);
	sqlite3_bind_text(st, 4, role, -1, SQLITE_TRANSIENT);
	sqlite3_bind_int64(st, 5, now_unix());
	r = sqlite3_step(st);
	if (r == SQLITE_DONE) {
		id = db_last_id();
	} else if (r == SQLITE_CONSTRAINT_UNIQUE || r == SQLITE_CONSTRAINT_PRIMARYKEY) {
		if (conflict_out)
			*conflict_out = true;
	} else {
		log_error("auth: creating user %s: %s", username, sqlite3_errmsg(db()));
	}
	sqlite3_reset(st);
out:
	sodium_memzero(hash, sizeof(hash));
	return id;
}

/* Writes password + "\n" to path, created 0600 and exclusively. 0 or -errno. */
static int write_secret_file(const char *path, const char *password)
{
	size_t len = strlen(password);
	int fd, rc = 0;

	fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
	if (fd < 0)
		return -errno;
	if (fchmod(fd, 0600) != 0 || write(fd, password, len) != (ssize_t)len ||
	    write(fd, "\n", 1) != 1 || fsync(fd) != 0)
		rc = errno ? -errno : -EIO;
	close(fd);
	if (rc != 0)
		unlink(path);
	return rc;
}

int auth_bootstrap_admin(void)
{
	sqlite3_stmt *st = db_stmt("SELECT id FROM users WHERE username = 'admin'");
	const char *env = getenv("XVPS_ADMIN_PASSWORD"), *why = NULL;
	char pw[1100], path[600], res[48];
	bool conflict = false, wrote = false;
	int64_t id;
	int r;

	if (!st)
		return -1;
	r = sqlite3_step(st);
	sqlite3_reset(st);
	if (r == SQLITE_ROW)
		return 0;
	if (r != SQLITE_DONE)
		return -1;
	if (!sfmt(path, sizeof(path), "%s/admin-password", g_app->cfg.state_dir)) {
		log_error("auth: state directory path too long");
		return -1;
	}
	if (env && *env) {
		if (!valid_password(env, &why) || !sfmt(pw, sizeof(pw), "%s", env)) {
			log_error("auth: XVPS_ADMIN_PASSWORD: %s",
			          why ? why : "is not an acceptable password");
			return -1;
		}
	} else {
		unsigned char raw[24];

		if (random_bytes(raw, sizeof(raw)) != 0) {
			log_error("auth: getrandom failed");
			return -1;
		}
		sodium_bin2base64(pw, sizeof(pw), raw, sizeof(raw),
		                  sodium_base64_VARIANT_URLSAFE_NO_PADDING);
		sodium_memzero(raw, sizeof(raw));
		/* No admin exists, so a file left here is stale (an earlier, interrupted start or
		 * a deleted database): replace it. */
		if (unlink(path) != 0 && errno != ENOENT)
			log_warn("auth: removing stale %s: %s", path, strerror(errno));
		r = write_secret_file(path, pw);
		if (r != 0) {
			log_error("auth: writing %s: %s", path, strerror(-r));
			sodium_memzero(pw, sizeof(pw));
			return -1;
		}
		wrote = true;
	}
	id = auth_create_user("admin", NULL, pw, "admin", &conflict);
	sodium_memzero(pw, sizeof(pw));
	if (id < 0) {
		if (wrote)
			unlink(path);
		return conflict ? 0 : -1;
	}
	snprintf(res, sizeof(res), "user/%lld", (long long)id);
	audit_system("user.bootstrap", res, "admin");
	if (wrote)
		log_info("created user admin; its password is in %s", path);
	else
		log_info("created user admin with the password from XVPS_ADMIN_PASSWORD");
	return 0;
}

/* ---- sessions --------------------------------------------------------------------------- */

/* Forgets login failures older than the window and expired sessions. */
static void purge_old(int64_t now)
{
	sqlite3_stmt *st = db_stmt("DELETE FROM login_failures WHERE at <= ?");

	if (st) {
		sqlite3_bind_int64(st, 1, now - LOGIN_WINDOW_S);
		sqlite3_step(st);
		sqlite3_reset(st);
	}
	st = db_stmt("DELETE FROM sessions WHERE expires_at <= ?");
	if (st) {
		sqlite3_bind_int64(st, 1, now);
		sqlite3_step(st);
		sqlite3_reset(st);
	}
}

/* Seconds until the user+ip may try again, or 0 when not limited. -1 on a database error. */
static int64_t login_retry_after(const char *ukey, const char *ip, int64_t now)
{
	sqlite3_stmt *st = db_stmt("SELECT count(*), min(at) FROM login_failures "
	                           "WHERE username = ?1 AND ip = ?2 AND at > ?3");
	int64_t n, oldest, wait = 0;

	if (!st)
		return -1;
	sqlite3_bind_text(st, 1, ukey, -1, SQLITE_TRANSIENT);
	sqlite3_bind_text(st, 2, ip, -1, SQLITE_TRANSIENT);
	sqlite3_bind_int64(st, 3, now - LOGIN_WINDOW_S);
	if (sqlite3_step(st) != SQLITE_ROW) {
		sqlite3_reset(st);
		return -1;
	}
	n = sqlite3_column_int64(st, 0);
	oldest = sqlite3_column_int64(st, 1);
	sqlite3_reset(st);
	if (n >= LOGIN_MAX_FAILURES) {
		wait = oldest + LOGIN_WINDOW_S - now;
		if (wait < 1)
			wait = 1;
	}
	return wait;
}

static void login_failed(http_req *rq, const char *ukey, int64_t uid, int64_t now)
{
	sqlite3_stmt *st =
	        db_stmt("INSERT INTO login_failures (username, ip, at) VALUES (?, ?, ?)");
	char res[48];

	if (st) {
		sqlite3_bind_text(st, 1, ukey, -1, SQLITE_TRANSIENT);
		sqlite3_bind_text(st, 2, rq->ip, -1, SQLITE_TRANSIENT);
		sqlite3_bind_int64(st, 3, now);
		if (sqlite3_step(st) != SQLITE_DONE)
			log_error("auth: recording a login failure: %s", sqlite3_errmsg(db()));
		sqlite3_reset(st);
	}
	atomic_fetch_add(&g_app->metrics.logins_failed, 1);
	snprintf(res, sizeof(res), "user/%lld", (long long)uid);
	audit(rq, "login.failed", uid > 0 ? res : NULL, ukey);
	reply_problem(rq, 401, NULL, "invalid username or password", NULL);
}

static void session_cookie(http_req *rq, const char *token, int max_age)
{
	char c[256];

	snprintf(c, sizeof(c), "%s=%s; HttpOnly; SameSite=Strict; Path=/; Max-Age=%d%s",
	         SESSION_COOKIE, token, max_age, g_app->cfg.secure_cookies ? "; Secure" : "");
	reply_header(rq, "Set-Cookie", c);
}

void api_session_create(http_req *rq)
{
	static const char *const fields[] = {"username", "password", NULL};
	json_field_error e = {0};
	const char *username = NULL, *password = NULL;
	char ukey[65], hash[128] = "", role[16] = "", uname[64] = "", retry[24];
	char token[TOKEN_HEX + 1], csrf[TOKEN_HEX + 1], th[HASH_HEX], res[48];
	int64_t now = now_unix(), wait, uid = 0, sid;
	bool suspended = false, ok;
	sqlite3_stmt *st;
	json_object *o, *u;

	if (!json_only_fields(rq->json, fields, &e) ||
	    !json_get_str(rq->json, "username", true, &username, &e) ||
	    !json_get_str(rq->json, "password", true, &password, &e)) {
		reply_field_error(rq, &e);
		return;
	}
	/* Failures are keyed by at most 64 bytes of the name, so junk cannot grow the table. */
	snprintf(ukey, sizeof(ukey), "%s", username);
	purge_old(now);
	wait = login_retry_after(ukey, rq->ip, now);
	if (wait < 0) {
		reply_db_error(rq);
		return;
	}
	if (wait > 0) {
		snprintf(retry, sizeof(retry), "%lld", (long long)wait);
		audit(rq, "login.ratelimited", NULL, ukey);
		reply_problem(rq, 429, NULL, "too many failed logins; try again later", NULL);
		reply_header(rq, "Retry-After", retry);
		return;
	}

	st = db_stmt("SELECT id, username, role, suspended, password_hash FROM users "
	             "WHERE username = ?");
	if (!st) {
		reply_db_error(rq);
		return;
	}
	sqlite3_bind_text(st, 1, username, -1, SQLITE_TRANSIENT);
	if (sqlite3_step(st) == SQLITE_ROW) {
		uid = sqlite3_column_int64(st, 0);
		copy_col(st, 1, uname, sizeof(uname));
		copy_col(st, 2, role, sizeof(role));
		suspended = sqlite3_column_int(st, 3) != 0;
		copy_col(st, 4, hash, sizeof(hash));
	}
	sqlite3_reset(st);
	if (uid > 0) {
		ok = auth_verify_password(hash, password);
	} else {
		/* Same work for an unknown name, so timing does not tell which names exist. */
		pthread_once(&g_dummy_once, dummy_init);
		auth_verify_password(g_dummy_hash, password);
		ok = false;
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
	if (crypto_pwhash_str_needs_rehash(hash, pw_opslimit(), pw_memlimit()) == 1) {
		char nh[128];

		st = db_stmt("UPDATE users SET password_hash = ?2 WHERE id = ?1");
		if (st && auth_hash_password(password, nh) == 0) {
			sqlite3_bind_int64(st, 1, uid);
			sqlite3_bind_text(st, 2, nh, -1, SQLITE_TRANSIENT);
			sqlite3_step(st);
			sqlite3_reset(st);
		}
	}

	if (random_hex(token, TOKEN_BYTES) != 0 || random_hex(csrf, TOKEN_BYTES) != 0) {
		reply_problem(rq, 500, NULL, "no randomness", NULL);
		return;
	}
	token_hash(token, th);
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
	st = db_stmt("INSERT INTO sessions (token_hash, user_id, csrf_token, ip, created_at, "
	             "expires_at) VALUES (?, ?, ?, ?, ?, ?)");
	if (!st)
		goto db_fail_rb;
	sqlite3_bind_text(st, 1, th, -1, SQLITE_TRANSIENT);
	sqlite3_bind_int64(st, 2, uid);
	sqlite3_bind_text(st, 3, csrf, -1, SQLITE_TRANSIENT);
	sqlite3_bind_text(st, 4, rq->ip, -1, SQLITE_TRANSIENT);
	sqlite3_bind_int64(st, 5, now);
	sqlite3_bind_int64(st, 6, now + SESSION_TTL_S);
	if (sqlite3_step(st) != SQLITE_DONE)
		goto db_fail_rb;
	sid = db_last_id();
	sqlite3_reset(st);
	if (db_commit() != 0)
		goto db_fail;

	memset(&rq->user, 0, sizeof(rq->user));
	rq->user.id = uid;
	snprintf(rq->user.username, sizeof(rq->user.username), "%s", uname);
	snprintf(rq->user.role, sizeof(rq->user.role), "%s", role);
	rq->user.is_admin = strcmp(role, "admin") == 0;
	rq->user.session_id = sid;
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
	session_cookie(rq, token, SESSION_TTL_S);
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
	char res[48];

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
	session_cookie(rq, "", 0);
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

void api_keys_create(http_req *rq)
{
	static const char *const fields[] = {"name", NULL};
	json_field_error e = {0};
	const char *name = NULL, *why = NULL;
	char token[sizeof(API_KEY_PREFIX) + TOKEN_HEX], th[HASH_HEX], res[48];
	sqlite3_stmt *st;
	int64_t id, now = now_unix(), count;
	json_object *o;

	if (!json_only_fields(rq->json, fields, &e) ||
	    !json_get_str(rq->json, "name", true, &name, &e)) {
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
	st = db_stmt("SELECT count(*) FROM api_keys WHERE user_id = ?");
	if (!st || (sqlite3_bind_int64(st, 1, rq->user.id), sqlite3_step(st)) != SQLITE_ROW) {
		reply_db_error(rq);
		return;
	}
	count = sqlite3_column_int64(st, 0);
	sqlite3_reset(st);
	if (count >= MAX_API_KEYS_PER_USER) {
		reply_problem(rq, 409, NULL, "too many API keys; delete one first", NULL);
		return;
	}
	memcpy(token, API_KEY_PREFIX, strlen(API_KEY_PREFIX));
	if (random_hex(token + strlen(API_KEY_PREFIX), TOKEN_BYTES) != 0) {
		reply_problem(rq, 500, NULL, "no randomness", NULL);
		return;
	}
	token_hash(token, th);
	st = db_stmt("INSERT INTO api_keys (user_id, name, token_hash, created_at) "
	             "VALUES (?, ?, ?, ?)");
	if (!st) {
		reply_db_error(rq);
		return;
	}
	sqlite3_bind_int64(st, 1, rq->user.id);
	sqlite3_bind_text(st, 2, name, -1, SQLITE_TRANSIENT);
	sqlite3_bind_text(st, 3, th, -1, SQLITE_TRANSIENT);
	sqlite3_bind_int64(st, 4, now);
	if (sqlite3_step(st) != SQLITE_DONE) {
		sqlite3_reset(st);
		reply_db_error(rq);
		return;
	}
	sqlite3_reset(st);
	id = db_last_id();
	snprintf(res, sizeof(res), "api-key/%lld", (long long)id);
	audit(rq, "apikey.create", res, name);
	o = json_object_new_object();
	json_object_object_add(o, "id", json_id(id));
	json_object_object_add(o, "name", json_object_new_string(name));
	json_object_object_add(o, "token", json_object_new_string(token));
	json_object_object_add(o, "created_at", json_time(now));
	sodium_memzero(token, sizeof(token));
	reply_json(rq, 201, o);
}

void api_keys_list(http_req *rq)
{
	sqlite3_stmt *st = db_stmt("SELECT id, name, created_at, last_used_at FROM api_keys "
	                           "WHERE user_id = ? ORDER BY id");
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
	char res[48];

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
