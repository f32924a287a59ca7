/* auth.c — the primitives of who is calling: argon2id passwords, the token hash, identifying a
 * request by its session cookie (with CSRF check) or API key, users, the login rate limit and
 * the first-start admin account (docs/openapi.yaml; first start: README); the HTTP handlers are in
 * api_auth.c. Never stores a token or a password in clear, never says whether a user name exists.
 */
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
#include "api.h"
#include "audit.h"
#include "auth.h"
#include "config.h"
#include "http.h"
#include "http_internal.h"
#include "store.h"

#define DEFAULT_PWHASH_OPSLIMIT 2ULL
#define DEFAULT_PWHASH_MEMLIMIT ((size_t)19 * 1024 * 1024) /* OWASP's argon2id minimum */
#define ADMIN_PASSWORD_MAX      1100 /* XVPS_ADMIN_PASSWORD or a generated one, with its NUL */
#define ADMIN_PASSWORD_RAW      24   /* random bytes of a generated admin password */
#define DUMMY_PASSWORD_BYTES    16   /* random bytes of the dummy hash's password */

/* ---- passwords ------------------------------------------------------------------------------- */

static unsigned long long pw_opslimit(void)
{
	return g_app && g_app->cfg.pwhash_opslimit > 0
	               ? (unsigned long long)g_app->cfg.pwhash_opslimit
	               : DEFAULT_PWHASH_OPSLIMIT;
}

static size_t pw_memlimit(void)
{
	return g_app && g_app->cfg.pwhash_memlimit > 0 ? g_app->cfg.pwhash_memlimit
	                                               : DEFAULT_PWHASH_MEMLIMIT;
}

int auth_hash_password(const char *password, char out[AUTH_PWHASH_MAX])
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
static char g_dummy_hash[AUTH_PWHASH_MAX];
static pthread_once_t g_dummy_once = PTHREAD_ONCE_INIT;

static void dummy_init(void)
{
	char pw[2 * DUMMY_PASSWORD_BYTES + 1];

	if (random_hex(pw, DUMMY_PASSWORD_BYTES) != 0 || auth_hash_password(pw, g_dummy_hash) != 0)
		g_dummy_hash[0] = '\0';
	sodium_memzero(pw, sizeof(pw));
}

bool auth_verify_dummy(const char *password)
{
	pthread_once(&g_dummy_once, dummy_init);
	auth_verify_password(g_dummy_hash, password);
	return false;
}

bool auth_password_needs_rehash(const char *hash)
{
	return crypto_pwhash_str_needs_rehash(hash, pw_opslimit(), pw_memlimit()) == 1;
}

void auth_token_hash(const char *token, char out[AUTH_TOKEN_HASH_HEX])
{
	unsigned char h[crypto_generichash_BYTES];

	crypto_generichash(h, sizeof(h), (const unsigned char *)token, strlen(token), NULL, 0);
	hex_encode(h, sizeof(h), out);
}

bool auth_is_lower_hex(const char *s, size_t len)
{
	for (size_t i = 0; i < len; i++)
		if (!((s[i] >= '0' && s[i] <= '9') || (s[i] >= 'a' && s[i] <= 'f')))
			return false;
	return s[len] == '\0';
}

/* ---- identifying a request ----------------------------------------------------------------- */

static bool identify_cookie(http_req *rq, const char *token, bool *csrf_ok_out)
{
	char th[AUTH_TOKEN_HASH_HEX];
	sqlite3_stmt *st;
	const char *sent;
	int64_t expires, sid = 0, last_seen = 0;
	bool ok = false;

	if (strlen(token) != AUTH_TOKEN_HEX || !auth_is_lower_hex(token, AUTH_TOKEN_HEX))
		return false;
	auth_token_hash(token, th);
	st = db_stmt("SELECT s.id, s.csrf_token, s.expires_at, u.id, u.username, u.role, "
	             "u.suspended, u.totp_enabled_at IS NOT NULL, s.last_seen_at "
	             "FROM sessions s JOIN users u ON u.id = s.user_id WHERE s.token_hash = ?");
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
			db_step_done(st);
		}
		return false;
	}
	if (sqlite3_column_int(st, 6))
		goto out; /* suspended */
	rq->user.session_id = sid;
	db_col_text(st, 1, rq->user.csrf_token, sizeof(rq->user.csrf_token));
	rq->user.id = sqlite3_column_int64(st, 3);
	db_col_text(st, 4, rq->user.username, sizeof(rq->user.username));
	db_col_text(st, 5, rq->user.role, sizeof(rq->user.role));
	rq->user.is_admin = strcmp(rq->user.role, "admin") == 0;
	rq->user.totp_on = sqlite3_column_int(st, 7) != 0;
	last_seen = sqlite3_column_int64(st, 8);
	ok = true;

	sent = req_header(rq, "X-CSRF-Token");
	*csrf_ok_out = !method_is_unsafe(rq->method) ||
	               (sent && strlen(sent) == strlen(rq->user.csrf_token) &&
	                sodium_memcmp(sent, rq->user.csrf_token, strlen(sent)) == 0);
out:
	sqlite3_reset(st);
	/* last_seen_at at minute resolution, as an API key's last_used_at. */
	if (ok && now_unix() - last_seen >= 60) {
		st = db_stmt("UPDATE sessions SET last_seen_at = ?2 WHERE id = ?1");
		if (st) {
			sqlite3_bind_int64(st, 1, sid);
			sqlite3_bind_int64(st, 2, now_unix());
			db_step_done(st);
		}
	}
	return ok;
}

/* API keys this thread identified since the store's last commit (issue 17: the key lookup cost a
 * query per request). An entry holds for one store generation only: revoking a key, suspending
 * or deleting its user, changing a role are commits, so they end every entry. Keyed by the
 * token's hash, never the token. */
#define BEARER_MEMO 4
typedef struct bearer_memo {
	uint64_t gen; /* 0: empty */
	char th[AUTH_TOKEN_HASH_HEX];
	int64_t last_used;
	int64_t expires_at; /* the key's expiry, 0: none */
	auth_user user;
} bearer_memo;
static _Thread_local bearer_memo tl_bearer[BEARER_MEMO];
static _Thread_local unsigned tl_bearer_next;

static uint64_t request_gen(http_req *rq)
{
	if (!rq->store_gen)
		rq->store_gen = store_generation();
	return rq->store_gen;
}

static bool bearer_recall(http_req *rq, const char *th)
{
	uint64_t gen = request_gen(rq);

	for (int i = 0; i < BEARER_MEMO; i++) {
		bearer_memo *m = &tl_bearer[i];

		/* last_used_at is due again (once a minute): the full path writes it. */
		if (m->gen == gen && strcmp(m->th, th) == 0 && now_unix() - m->last_used < 60 &&
		    (m->expires_at == 0 || m->expires_at > now_unix())) {
			rq->user = m->user;
			return true;
		}
	}
	return false;
}

static void bearer_remember(http_req *rq, const char *th, int64_t last_used, int64_t expires_at)
{
	bearer_memo *m = &tl_bearer[tl_bearer_next++ % BEARER_MEMO];

	m->gen = request_gen(rq);
	snprintf(m->th, sizeof(m->th), "%s", th);
	m->last_used = last_used;
	m->expires_at = expires_at;
	m->user = rq->user;
}

static bool identify_bearer(http_req *rq, const char *auth)
{
	char th[AUTH_TOKEN_HASH_HEX];
	sqlite3_stmt *st;
	const char *token;
	int64_t kid, last_used, expires_at;
	bool ok = false;

	if (strncasecmp(auth, "Bearer ", 7) != 0)
		return false;
	token = auth + 7;
	while (*token == ' ')
		token++;
	if (strlen(token) != strlen(API_KEY_PREFIX) + AUTH_TOKEN_HEX ||
	    strncmp(token, API_KEY_PREFIX, strlen(API_KEY_PREFIX)) != 0 ||
	    !auth_is_lower_hex(token + strlen(API_KEY_PREFIX), AUTH_TOKEN_HEX))
		return false;
	auth_token_hash(token, th);
	if (bearer_recall(rq, th))
		return true;
	st = db_stmt("SELECT k.id, k.last_used_at, u.id, u.username, u.role, u.suspended, "
	             "k.scopes, k.expires_at, u.totp_enabled_at IS NOT NULL FROM api_keys k JOIN "
	             "users u ON u.id = k.user_id "
	             "WHERE k.token_hash = ?");
	if (!st)
		return false;
	sqlite3_bind_text(st, 1, th, -1, SQLITE_TRANSIENT);
	/* A suspended user's key, or an expired key, authenticates nobody (401). */
	if (sqlite3_step(st) != SQLITE_ROW || sqlite3_column_int(st, 5) ||
	    (sqlite3_column_type(st, 7) != SQLITE_NULL &&
	     sqlite3_column_int64(st, 7) <= now_unix())) {
		sqlite3_reset(st);
		return false;
	}
	kid = sqlite3_column_int64(st, 0);
	last_used = sqlite3_column_int64(st, 1);
	expires_at = sqlite3_column_type(st, 7) == SQLITE_NULL ? 0 : sqlite3_column_int64(st, 7);
	rq->user.api_key_id = kid;
	rq->user.id = sqlite3_column_int64(st, 2);
	db_col_text(st, 3, rq->user.username, sizeof(rq->user.username));
	db_col_text(st, 4, rq->user.role, sizeof(rq->user.role));
	rq->user.is_admin = strcmp(rq->user.role, "admin") == 0;
	/* Never more than the role allows, and never 0 (which would mean "a session"). */
	rq->user.scopes = (unsigned)sqlite3_column_int(st, 6) & scopes_of_role(rq->user.is_admin);
	if (rq->user.scopes == 0)
		rq->user.scopes = SCOPE_READ;
	rq->user.totp_on = sqlite3_column_int(st, 8) != 0;
	ok = true;
	sqlite3_reset(st);
	/* last_used_at at minute resolution: a write per request would serialize every reader. */
	if (now_unix() - last_used >= 60) {
		st = db_stmt("UPDATE api_keys SET last_used_at = ?2 WHERE id = ?1");
		if (st) {
			sqlite3_bind_int64(st, 1, kid);
			sqlite3_bind_int64(st, 2, now_unix());
			db_step_done(st);
		}
	} else {
		bearer_remember(rq, th, last_used,
		                expires_at); /* (a write ends the generation anyway) */
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

int auth_session_insert(int64_t uid, const char *ip, const char *user_agent, int64_t now,
                        char token_out[AUTH_TOKEN_HEX + 1], char csrf_out[AUTH_TOKEN_HEX + 1],
                        int64_t *sid_out)
{
	char th[AUTH_TOKEN_HASH_HEX];
	sqlite3_stmt *st;
	int r;

	if (random_hex(token_out, AUTH_TOKEN_BYTES) != 0 ||
	    random_hex(csrf_out, AUTH_TOKEN_BYTES) != 0) {
		log_error("auth: getrandom failed");
		return -1;
	}
	auth_token_hash(token_out, th);
	st = db_stmt("INSERT INTO sessions (token_hash, user_id, csrf_token, ip, created_at, "
	             "expires_at, last_seen_at, user_agent) VALUES (?, ?, ?, ?, ?, ?, ?5, ?7)");
	if (!st)
		return -1;
	sqlite3_bind_text(st, 1, th, -1, SQLITE_TRANSIENT);
	sqlite3_bind_int64(st, 2, uid);
	sqlite3_bind_text(st, 3, csrf_out, -1, SQLITE_TRANSIENT);
	sqlite3_bind_text(st, 4, ip, -1, SQLITE_TRANSIENT);
	sqlite3_bind_int64(st, 5, now);
	sqlite3_bind_int64(st, 6, now + SESSION_TTL_S);
	if (user_agent && *user_agent)
		sqlite3_bind_text(st, 7, user_agent, (int)strnlen(user_agent, AUTH_UA_MAX),
		                  SQLITE_TRANSIENT);
	r = sqlite3_step(st);
	sqlite3_reset(st);
	if (r != SQLITE_DONE)
		return -1;
	*sid_out = db_last_id();
	return 0;
}

/* ---- users -------------------------------------------------------------------------------- */

int64_t auth_insert_user(const char *username, const char *email, const char *password_hash,
                         const char *role, bool *conflict_out)
{
	sqlite3_stmt *st;
	int64_t id = -1;
	int r;

	if (conflict_out)
		*conflict_out = false;
	/* Never reuse a deleted customer's id: the usage ledger's rows name it (usage_cursor), and
	 * so do its billing records (plan history, invoices, payments, prepaid settings). */
	st = db_stmt("INSERT INTO users (id, username, email, password_hash, role, suspended, "
	             "created_at) VALUES (max(COALESCE((SELECT max(id) FROM users), 0), "
	             "COALESCE((SELECT max(customer_id) FROM usage_cursor), 0), "
	             "COALESCE((SELECT max(customer_id) FROM vps_plan_history), 0), "
	             "COALESCE((SELECT max(customer_id) FROM customer_billing), 0), "
	             "COALESCE((SELECT max(customer_id) FROM payments), 0)) + 1, "
	             "?1, ?2, ?3, ?4, 0, ?5)");
	if (!st)
		return -1;
	sqlite3_bind_text(st, 1, username, -1, SQLITE_TRANSIENT);
	if (email)
		sqlite3_bind_text(st, 2, email, -1, SQLITE_TRANSIENT);
	sqlite3_bind_text(st, 3, password_hash, -1, SQLITE_TRANSIENT);
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
	return id;
}

int64_t auth_create_user(const char *username, const char *email, const char *password,
                         const char *role, bool *conflict_out)
{
	char hash[AUTH_PWHASH_MAX];
	int64_t id;

	if (conflict_out)
		*conflict_out = false;
	if (auth_hash_password(password, hash) != 0)
		return -1;
	id = auth_insert_user(username, email, hash, role, conflict_out);
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
	const char *email = getenv("XVPS_ADMIN_EMAIL");
	char pw[ADMIN_PASSWORD_MAX], path[CONFIG_FILE_MAX], res[AUDIT_RESOURCE_MAX];
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
	if (email && !*email)
		email = NULL;
	if (email && !valid_email(email, &why)) {
		log_error("auth: XVPS_ADMIN_EMAIL: %s", why ? why : "is not an e-mail address");
		return -1;
	}
	if (env && *env) {
		if (!valid_password(env, &why) || !sfmt(pw, sizeof(pw), "%s", env)) {
			log_error("auth: XVPS_ADMIN_PASSWORD: %s",
			          why ? why : "is not an acceptable password");
			return -1;
		}
	} else {
		unsigned char raw[ADMIN_PASSWORD_RAW];

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
	id = auth_create_user("admin", email, pw, "admin", &conflict);
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

/* ---- login rate limit ---------------------------------------------------------------------------
 */

void auth_purge_old(int64_t now)
{
	sqlite3_stmt *st = db_stmt("DELETE FROM login_failures WHERE at <= ?");

	if (st) {
		sqlite3_bind_int64(st, 1, now - LOGIN_WINDOW_S);
		db_step_done(st);
	}
	st = db_stmt("DELETE FROM sessions WHERE expires_at <= ?");
	if (st) {
		sqlite3_bind_int64(st, 1, now);
		db_step_done(st);
	}
}

int64_t auth_login_retry_after(const char *ukey, const char *ip, int64_t now)
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

void auth_login_failure_add(const char *ukey, const char *ip, int64_t now)
{
	sqlite3_stmt *st =
	        db_stmt("INSERT INTO login_failures (username, ip, at) VALUES (?, ?, ?)");

	if (!st)
		return;
	sqlite3_bind_text(st, 1, ukey, -1, SQLITE_TRANSIENT);
	sqlite3_bind_text(st, 2, ip, -1, SQLITE_TRANSIENT);
	sqlite3_bind_int64(st, 3, now);
	if (sqlite3_step(st) != SQLITE_DONE)
		log_error("auth: recording a login failure: %s", sqlite3_errmsg(db()));
	sqlite3_reset(st);
}
