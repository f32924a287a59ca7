/* auth.h — who is calling (auth.c): argon2id passwords, cookie sessions with CSRF tokens, API
 * keys, the token hash every stored secret goes through, and the first-start admin. Never
 * stores a token or a password in clear; the HTTP handlers of these live in api_auth.c.
 * Return convention: int functions return 0 on success and -1 on error (logged); bool
 * functions answer a yes/no question; ids are > 0, or -1 on error. */
#ifndef XVPS_PANEL_AUTH_H
#define XVPS_PANEL_AUTH_H

#include <sodium.h>
#include <stdbool.h>
#include <stdint.h>

#include "http.h"

#define SESSION_COOKIE     "xvps_session"
#define SESSION_TTL_S      (12 * 3600)
#define LOGIN_MAX_FAILURES 5
#define LOGIN_WINDOW_S     (15 * 60)
#define AUTH_PWHASH_MAX    128 /* crypto_pwhash_STRBYTES: an argon2id hash string */
#define AUTH_TOKEN_BYTES   32  /* random bytes of a session token or an API key */
#define AUTH_TOKEN_HEX     (2 * AUTH_TOKEN_BYTES)
/* hex(BLAKE2b-256(token)) plus NUL: how sessions, API keys and console tokens are stored. */
#define AUTH_TOKEN_HASH_HEX   (2 * crypto_generichash_BYTES + 1)
#define API_KEY_PREFIX        "xvps_"
#define MAX_API_KEYS_PER_USER 100
#define AUTH_UA_MAX           256 /* bytes of a User-Agent kept with a session */

/* Fills rq->user from the session cookie or the bearer token; returns false when none is valid.
 * csrf_ok_out tells whether an unsafe request on a cookie session carried the right token. */
bool auth_identify(http_req *rq, bool *csrf_ok_out);
/* Inserts a session of uid (from ip, at now) in the caller's transaction with a new random token
 * and CSRF token (lower-case hex, AUTH_TOKEN_HEX characters, written to token_out/csrf_out;
 * only the token's hash is stored; user_agent, NULL or cut to AUTH_UA_MAX bytes, for GET
 * /sessions). 0 with *sid_out, or -1 (no randomness, database error). */
int auth_session_insert(int64_t uid, const char *ip, const char *user_agent, int64_t now,
                        char token_out[AUTH_TOKEN_HEX + 1], char csrf_out[AUTH_TOKEN_HEX + 1],
                        int64_t *sid_out);
/* Sets the session cookie (token, Max-Age max_age s; "" and 0 clear it) on rq's reply
 * (api_auth.c). */
void auth_session_cookie(http_req *rq, const char *token, int max_age);
/* argon2id (libsodium crypto_pwhash_str) with the configured limits. */
int auth_hash_password(const char *password, char out[AUTH_PWHASH_MAX]);
bool auth_verify_password(const char *hash, const char *password);
/* True when hash was made with weaker limits than the configured ones (rehash at login). */
bool auth_password_needs_rehash(const char *hash);
/* Verifies password against a dummy hash made with the configured limits, so that an unknown
 * user name takes as long as a known one. Always false. */
bool auth_verify_dummy(const char *password);
/* hex(BLAKE2b-256(token)) into out: the form in which every token is stored and looked up. */
void auth_token_hash(const char *token, char out[AUTH_TOKEN_HASH_HEX]);
/* True when s[0..len) is lower-case hex and s[len] ends the string. */
bool auth_is_lower_hex(const char *s, size_t len);
/* Inserts a user with a hash from auth_hash_password (inside or outside a transaction); returns
 * the new id or -1 (conflict: *conflict_out = true). */
int64_t auth_insert_user(const char *username, const char *email, const char *password_hash,
                         const char *role, bool *conflict_out);
/* Creates a user; returns the new id or -1 (conflict: *conflict_out = true). */
int64_t auth_create_user(const char *username, const char *email, const char *password,
                         const char *role, bool *conflict_out);
/* First start: creates "admin" with $XVPS_ADMIN_PASSWORD or a generated password written to
 * $XVPS_STATE/admin-password (0600), and the e-mail address $XVPS_ADMIN_EMAIL when set (checked
 * like any e-mail: a bad one fails the start). */
int auth_bootstrap_admin(void);

/* ---- login rate limit (auth.c) ---------------------------------------------------------------
 * Failures are keyed by user name (at most 64 bytes) and client ip within LOGIN_WINDOW_S. */
/* Forgets login failures older than the window and expired sessions. */
void auth_purge_old(int64_t now);
/* Seconds until user+ip may try again, 0 when not limited, -1 on a database error. */
int64_t auth_login_retry_after(const char *ukey, const char *ip, int64_t now);
/* Records one failure (a database error is logged). */
void auth_login_failure_add(const char *ukey, const char *ip, int64_t now);

#endif
