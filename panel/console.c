/* console.c — browser consoles, the HTTP side (issue 6, Contract B). POST /vps/{id}/console
 * hands out a single-use token (at most 60 s, bound to the user and the VPS, stored only as a
 * hash); GET /console/ws?token= checks, in the contract's order, the WebSocket upgrade, the
 * Origin, the session cookie, the token (consumed atomically), the token's user and the VPS's
 * state, then asks the agent for the console server's socket, connects to it and answers 101:
 * console_relay.c relays from there. Every refusal is audited (console.refused, detail = the
 * reason) and answered with problem+json, never upgraded. */
#include <errno.h>
#include <gnutls/crypto.h>
#include <gnutls/gnutls.h>
#include <sodium.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "../common/agent_proto.h"
#include "../common/util.h"
#include "agent_client.h"
#include "api.h"
#include "audit.h"
#include "auth.h"
#include "config.h"
#include "console.h"
#include "console_relay.h"
#include "http.h"
#include "http_internal.h"
#include "store.h"
#include "suspend.h"

#define WS_KEY_CHARS             24 /* base64 of a 16-byte Sec-WebSocket-Key */
#define WS_KEY_BYTES             16
#define SHA1_BYTES               20
#define CONSOLE_URL_MAX          96  /* "/console/ws?token=<43 chars>" with room */
#define CONSOLE_SOCK_MAX         128 /* a socket path as the agent reports it */
#define WS_GUID                  "258EAFA5-E914-47DA-95CA-C5AB0DC85B11"
#define CONSOLE_AGENT_TIMEOUT_MS 15000 /* console.open waits <= 5 s for a new server */
#define CONSOLE_TOKEN_KEEP_S     3600  /* spent rows kept so a late use says expired/reused */
#define CONSOLE_MAX_LIVE_TOKENS  32    /* unused, unexpired tokens per user (else 429) */

/* ---- pure helpers (console.h) -------------------------------------------------------------- */

bool ws_key_valid(const char *key)
{
	unsigned char raw[WS_KEY_BYTES + 2]; /* base64 decodes in 3-byte groups */
	size_t n = 0;
	const char *end = NULL;

	if (!key || strlen(key) != WS_KEY_CHARS)
		return false;
	if (sodium_base642bin(raw, sizeof(raw), key, WS_KEY_CHARS, NULL, &n, &end,
	                      sodium_base64_VARIANT_ORIGINAL) != 0)
		return false;
	return n == WS_KEY_BYTES && end == key + WS_KEY_CHARS;
}

bool ws_accept_key(const char *key, char out[WS_ACCEPT_CHARS + 1])
{
	char buf[WS_KEY_CHARS + sizeof(WS_GUID)];
	unsigned char sha[SHA1_BYTES];
	gnutls_datum_t in = {sha, sizeof(sha)}, b64 = {NULL, 0};
	bool ok;

	out[0] = '\0';
	if (!ws_key_valid(key))
		return false;
	memcpy(buf, key, 24);
	memcpy(buf + 24, WS_GUID, sizeof(WS_GUID) - 1);
	if (gnutls_hash_fast(GNUTLS_DIG_SHA1, buf, 24 + sizeof(WS_GUID) - 1, sha) != 0)
		return false;
	if (gnutls_base64_encode2(&in, &b64) != 0)
		return false;
	ok = b64.size == WS_ACCEPT_CHARS;
	if (ok) {
		memcpy(out, b64.data, WS_ACCEPT_CHARS);
		out[WS_ACCEPT_CHARS] = '\0';
	}
	gnutls_free(b64.data);
	return ok;
}

bool http_list_has_token(const char *value, const char *token)
{
	size_t tlen = strlen(token);

	if (!value)
		return false;
	for (const char *s = value; *s;) {
		size_t n;

		while (*s == ' ' || *s == '\t' || *s == ',')
			s++;
		n = strcspn(s, ",");
		while (n > 0 && (s[n - 1] == ' ' || s[n - 1] == '\t'))
			n--;
		if (n == tlen && strncasecmp(s, token, tlen) == 0)
			return true;
		s += strcspn(s, ",");
	}
	return false;
}

/* Length of host[:port] without the scheme's default port, or 0 when s holds anything else. */
static size_t authority_len(const char *s, const char *default_port)
{
	size_t n = strlen(s), dp = strlen(default_port);

	if (n == 0 || n > 255)
		return 0;
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)s[i];

		if (!(c >= 'a' && c <= 'z') && !(c >= 'A' && c <= 'Z') && !(c >= '0' && c <= '9') &&
		    c != '.' && c != '-' && c != ':' && c != '[' && c != ']')
			return 0;
	}
	if (n > dp && strcmp(s + n - dp, default_port) == 0)
		n -= dp;
	return n;
}

bool console_origin_ok(const char *origin, const char *host, bool tls)
{
	const char *scheme = tls ? "https://" : "http://";
	const char *def = tls ? ":443" : ":80";
	size_t sl = strlen(scheme), ol, hl;

	if (!origin || !host || strncasecmp(origin, scheme, sl) != 0)
		return false;
	origin += sl;
	ol = authority_len(origin, def);
	hl = authority_len(host, def);
	return ol > 0 && ol == hl && strncasecmp(origin, host, ol) == 0;
}

bool console_token_shape_ok(const char *token)
{
	size_t i;

	if (!token)
		return false;
	for (i = 0; token[i]; i++) {
		unsigned char c = (unsigned char)token[i];

		if (i >= CONSOLE_TOKEN_CHARS ||
		    !((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
		      c == '-' || c == '_'))
			return false;
	}
	return i == CONSOLE_TOKEN_CHARS;
}

/* ---- tokens --------------------------------------------------------------------------------- */

static int token_ttl(void)
{
	int t = g_app ? g_app->cfg.console_token_ttl_s : 0;

	return t >= 1 && t <= 60 ? t : 60;
}

/* Forgets long-spent tokens; counts the user's live ones. -1 on a DB error. */
static int64_t purge_and_count_live(int64_t user_id, int64_t now)
{
	sqlite3_stmt *st = db_stmt("DELETE FROM console_tokens WHERE expires_at <= ?");
	int64_t n = -1;

	if (!st)
		return -1;
	sqlite3_bind_int64(st, 1, now - CONSOLE_TOKEN_KEEP_S);
	if (sqlite3_step(st) != SQLITE_DONE)
		log_warn("console: purging old tokens: %s", sqlite3_errmsg(db()));
	sqlite3_reset(st);
	st = db_stmt("SELECT count(*) FROM console_tokens WHERE user_id=? AND expires_at > ? "
	             "AND used_at IS NULL");
	if (!st)
		return -1;
	sqlite3_bind_int64(st, 1, user_id);
	sqlite3_bind_int64(st, 2, now);
	if (sqlite3_step(st) == SQLITE_ROW)
		n = sqlite3_column_int64(st, 0);
	sqlite3_reset(st);
	return n;
}

void api_console_token(http_req *rq)
{
	static const char *const no_fields[] = {NULL};
	json_field_error e = {0};
	unsigned char raw[CONSOLE_TOKEN_BYTES];
	char token[CONSOLE_TOKEN_CHARS + 1], th[AUTH_TOKEN_HASH_HEX], url[CONSOLE_URL_MAX],
	        res[AUDIT_RESOURCE_MAX], detail[PROBLEM_DETAIL_MAX];
	char state[VPS_STATE_MAX] = "";
	int64_t id, now = now_unix(), expires = now + token_ttl(), live;
	sqlite3_stmt *st;
	json_object *o;
	int r;

	if (!parse_id(rq->params[0], &id)) {
		reply_not_found(rq, "VPS");
		return;
	}
	if (rq->json && !json_only_fields(rq->json, no_fields, &e)) {
		reply_field_error(rq, &e);
		return;
	}
	r = api_vps_visible(rq, id, state, NULL);
	if (r == -ENOENT) {
		reply_not_found(rq, "VPS");
		return;
	}
	if (r != 0) {
		reply_db_error(rq);
		return;
	}
	/* A suspended VPS is closed to its customer (issue 13 item 5), even while it still runs. */
	if (!rq->user.is_admin) {
		r = vps_suspension_detail(id, detail, sizeof(detail));
		if (r != 0) {
			if (r > 0)
				reply_problem(rq, 409, NULL, detail, NULL);
			else
				reply_db_error(rq);
			return;
		}
	}
	if (strcmp(state, "running") != 0) {
		snprintf(detail, sizeof(detail), "the VPS is not running (it is %s)", state);
		reply_problem(rq, 409, NULL, detail, NULL);
		return;
	}
	live = purge_and_count_live(rq->user.id, now);
	if (live < 0) {
		reply_db_error(rq);
		return;
	}
	if (live >= CONSOLE_MAX_LIVE_TOKENS) {
		reply_problem(rq, 429, NULL,
		              "too many unused console tokens; try again in a minute", NULL);
		reply_header(rq, "Retry-After", "60");
		return;
	}
	if (random_bytes(raw, sizeof(raw)) != 0) {
		reply_problem(rq, 500, NULL, "no randomness", NULL);
		return;
	}
	sodium_bin2base64(token, sizeof(token), raw, sizeof(raw),
	                  sodium_base64_VARIANT_URLSAFE_NO_PADDING);
	sodium_memzero(raw, sizeof(raw));
	auth_token_hash(token, th);
	st = db_stmt("INSERT INTO console_tokens (token_hash, user_id, vps_id, created_at, "
	             "expires_at) VALUES (?, ?, ?, ?, ?)");
	if (!st) {
		reply_db_error(rq);
		return;
	}
	sqlite3_bind_text(st, 1, th, -1, SQLITE_TRANSIENT);
	sqlite3_bind_int64(st, 2, rq->user.id);
	sqlite3_bind_int64(st, 3, id);
	sqlite3_bind_int64(st, 4, now);
	sqlite3_bind_int64(st, 5, expires);
	r = sqlite3_step(st);
	sqlite3_reset(st);
	if (r != SQLITE_DONE) {
		log_error("console: storing a token: %s", sqlite3_errmsg(db()));
		reply_db_error(rq);
		return;
	}
	snprintf(res, sizeof(res), "vps/%lld", (long long)id);
	audit(rq, "console.token", res, NULL);
	snprintf(url, sizeof(url), "/console/ws?token=%s", token);
	o = json_object_new_object();
	json_object_object_add(o, "token", json_object_new_string(token));
	json_object_object_add(o, "url", json_object_new_string(url));
	json_object_object_add(o, "expires_at", json_time(expires));
	sodium_memzero(token, sizeof(token));
	sodium_memzero(url, sizeof(url));
	reply_json(rq, 201, o);
}

enum token_verdict { TOKEN_OK, TOKEN_UNKNOWN, TOKEN_EXPIRED, TOKEN_REUSED, TOKEN_DB_ERROR };

/* Looks the token up and marks it used, atomically: of two concurrent uses only one gets
 * TOKEN_OK. *user_out and *vps_out are set whenever the token is known. */
static enum token_verdict token_consume(const char *token, int64_t *user_out, int64_t *vps_out)
{
	char th[AUTH_TOKEN_HASH_HEX];
	sqlite3_stmt *st;
	int64_t id, now = now_unix();
	bool expired, used;
	int r;

	*user_out = *vps_out = 0;
	if (!console_token_shape_ok(token))
		return TOKEN_UNKNOWN;
	auth_token_hash(token, th);
	st = db_stmt("SELECT id, user_id, vps_id, expires_at, used_at IS NOT NULL "
	             "FROM console_tokens WHERE token_hash = ?");
	if (!st)
		return TOKEN_DB_ERROR;
	sqlite3_bind_text(st, 1, th, -1, SQLITE_TRANSIENT);
	r = sqlite3_step(st);
	if (r != SQLITE_ROW) {
		sqlite3_reset(st);
		return r == SQLITE_DONE ? TOKEN_UNKNOWN : TOKEN_DB_ERROR;
	}
	id = sqlite3_column_int64(st, 0);
	*user_out = sqlite3_column_int64(st, 1);
	*vps_out = sqlite3_column_int64(st, 2);
	expired = sqlite3_column_int64(st, 3) <= now;
	used = sqlite3_column_int(st, 4) != 0;
	sqlite3_reset(st);
	if (expired)
		return TOKEN_EXPIRED;
	if (used)
		return TOKEN_REUSED;
	st = db_stmt("UPDATE console_tokens SET used_at = ?2 WHERE id = ?1 AND used_at IS NULL "
	             "AND expires_at > ?2");
	if (!st)
		return TOKEN_DB_ERROR;
	sqlite3_bind_int64(st, 1, id);
	sqlite3_bind_int64(st, 2, now);
	r = sqlite3_step(st);
	sqlite3_reset(st);
	if (r != SQLITE_DONE)
		return TOKEN_DB_ERROR;
	return sqlite3_changes(db()) == 1 ? TOKEN_OK : TOKEN_REUSED;
}

/* ---- GET /console/ws ------------------------------------------------------------------------ */

static void refuse(http_req *rq, int status, const char *reason, const char *detail, int64_t vps)
{
	char res[AUDIT_RESOURCE_MAX];

	snprintf(res, sizeof(res), "vps/%lld", (long long)vps);
	audit(rq, "console.refused", vps > 0 ? res : NULL, reason);
	reply_problem(rq, status, NULL, detail, NULL);
}

static void fail(http_req *rq, int status, const char *detail, int64_t vps)
{
	char res[AUDIT_RESOURCE_MAX];

	snprintf(res, sizeof(res), "vps/%lld", (long long)vps);
	audit(rq, "console.failed", res, detail);
	reply_problem(rq, status, NULL, detail, NULL);
}

static bool is_ws_upgrade(http_req *rq)
{
	const char *version = req_header(rq, "Sec-WebSocket-Version");

	return strcmp(rq->method, "GET") == 0 &&
	       http_list_has_token(req_header(rq, "Upgrade"), "websocket") &&
	       http_list_has_token(req_header(rq, "Connection"), "upgrade") && version &&
	       strcmp(version, "13") == 0 && ws_key_valid(req_header(rq, "Sec-WebSocket-Key"));
}

/* The VPS's domain when it exists and runs: 1, 0 (gone or not running), -1 DB error. */
static int running_domain(int64_t vps, char domain[VPS_DOMAIN_MAX])
{
	sqlite3_stmt *st = db_stmt("SELECT domain, state FROM vps WHERE id = ?");
	int r, rc = 0;

	if (!st)
		return -1;
	sqlite3_bind_int64(st, 1, vps);
	r = sqlite3_step(st);
	if (r == SQLITE_ROW && strcmp((const char *)sqlite3_column_text(st, 1), "running") == 0 &&
	    sfmt(domain, 32, "%s", (const char *)sqlite3_column_text(st, 0)))
		rc = 1;
	else if (r != SQLITE_ROW && r != SQLITE_DONE)
		rc = -1;
	sqlite3_reset(st);
	return rc;
}

/* Asks the agent for the domain's console server: 0 with its socket path, else an HTTP status
 * (409 the domain does not run, 503 agent away or without consoles, 502 it failed) and a
 * sentence in detail. */
static int agent_console_open(const char *domain, char *sock, size_t sock_len, char *detail,
                              size_t dlen)
{
	json_object *req = agent_request("console.open", domain), *resp = NULL, *v = NULL,
	            *res = NULL;
	const char *code = "", *msg = "the host agent refused", *path;
	int r, status = 502;

	r = agent_call(g_app->cfg.agent_sock, req, CONSOLE_AGENT_TIMEOUT_MS, &resp);
	json_object_put(req);
	if (r != 0) {
		snprintf(detail, dlen, "the host agent is unreachable (%s)", strerror(-r));
		return 503;
	}
	if (json_object_object_get_ex(resp, "ok", &v) && json_object_get_boolean(v)) {
		path = json_object_object_get_ex(resp, "result", &res)
		               ? json_object_get_string(json_object_object_get(res, "socket"))
		               : NULL;
		if (path && path[0] == '/' && strlen(path) < sock_len &&
		    strlen(path) < sizeof(((struct sockaddr_un *)0)->sun_path)) {
			snprintf(sock, sock_len, "%s", path);
			json_object_put(resp);
			return 0;
		}
		snprintf(detail, dlen, "the host agent answered console.open without a socket");
		json_object_put(resp);
		return 502;
	}
	if (json_object_object_get_ex(resp, "code", &v) && json_object_is_type(v, json_type_string))
		code = json_object_get_string(v);
	if (json_object_object_get_ex(resp, "error", &v) &&
	    json_object_is_type(v, json_type_string))
		msg = json_object_get_string(v);
	if (strcmp(code, "conflict") == 0) {
		status = 409;
		snprintf(detail, dlen, "%s", msg);
	} else if (strcmp(msg, "unknown operation") == 0) {
		status = 503;
		snprintf(detail, dlen,
		         "the host agent does not serve consoles (unknown operation)");
	} else {
		snprintf(detail, dlen, "the console could not be opened: %s", msg);
	}
	json_object_put(resp);
	return status;
}

/* A non-blocking connection to the console server's unix socket, or -errno. */
static int connect_console(const char *path)
{
	struct sockaddr_un sa = {.sun_family = AF_UNIX};
	int fd, e;

	if (strlen(path) >= sizeof(sa.sun_path))
		return -ENAMETOOLONG;
	memcpy(sa.sun_path, path, strlen(path) + 1);
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (fd < 0)
		return -errno;
	if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) != 0) {
		e = errno;
		close(fd);
		return -e;
	}
	return fd;
}

void api_console_ws(http_req *rq)
{
	const char *token = req_query(rq, "token");
	char accept[WS_ACCEPT_CHARS + 1], domain[VPS_DOMAIN_MAX], sock[CONSOLE_SOCK_MAX],
	        detail[PROBLEM_DETAIL_MAX], res[AUDIT_RESOURCE_MAX];
	int64_t tok_user = 0, vps = 0;
	wsrelay *relay = NULL;
	int r, fd;

	if (!is_ws_upgrade(rq)) {
		refuse(rq, 400, "upgrade",
		       "this is a WebSocket endpoint: send GET with Upgrade: websocket, "
		       "Connection: "
		       "Upgrade, Sec-WebSocket-Version: 13 and a valid Sec-WebSocket-Key",
		       0);
		reply_header(rq, "Sec-WebSocket-Version", "13");
		return;
	}
	if (!console_origin_ok(req_header(rq, "Origin"), req_header(rq, "Host"),
	                       g_app->cfg.secure_cookies)) {
		refuse(rq, 403, "origin", "the Origin header is not this server's origin", 0);
		return;
	}
	if (rq->user.id <= 0 || rq->user.session_id <= 0) {
		refuse(rq, 403, "session", "a console needs a logged-in session (xvps_session)", 0);
		return;
	}
	switch (token_consume(token, &tok_user, &vps)) {
	case TOKEN_OK:
		break;
	case TOKEN_UNKNOWN:
		refuse(rq, 403, "unknown", "unknown console token", 0);
		return;
	case TOKEN_EXPIRED:
		refuse(rq, 403, "expired", "this console token has expired", vps);
		return;
	case TOKEN_REUSED:
		refuse(rq, 403, "reused", "this console token was already used", vps);
		return;
	default:
		reply_db_error(rq);
		return;
	}
	if (tok_user != rq->user.id) {
		refuse(rq, 403, "user", "this console token belongs to another user", vps);
		return;
	}
	r = running_domain(vps, domain);
	if (r < 0) {
		reply_db_error(rq);
		return;
	}
	if (r == 0) {
		refuse(rq, 409, "state", "the VPS does not exist or is not running", vps);
		return;
	}
	r = wsrelay_reserve(rq->user.id, rq->user.username, rq->ip, vps, &relay);
	if (r == -EBUSY) {
		refuse(rq, 429, "limit", "at most 4 consoles may be open at once per user", vps);
		return;
	}
	if (r != 0) {
		reply_problem(rq, r == -ECANCELED ? 503 : 500, NULL,
		              r == -ECANCELED ? "xvpsd is stopping" : "out of memory", NULL);
		return;
	}
	r = agent_console_open(domain, sock, sizeof(sock), detail, sizeof(detail));
	if (r == 409) {
		wsrelay_drop(relay);
		refuse(rq, 409, "state", detail, vps);
		return;
	}
	if (r != 0) {
		wsrelay_drop(relay);
		log_warn("console: vps/%lld: %s", (long long)vps, detail);
		fail(rq, r, detail, vps);
		return;
	}
	fd = connect_console(sock);
	if (fd < 0) {
		wsrelay_drop(relay);
		log_warn("console: vps/%lld: connecting to %s: %s", (long long)vps, sock,
		         strerror(-fd));
		fail(rq, 502, "the console server does not answer", vps);
		return;
	}
	wsrelay_set_console_fd(relay, fd);
	if (!ws_accept_key(req_header(rq, "Sec-WebSocket-Key"), accept)) {
		wsrelay_drop(relay);
		reply_problem(rq, 500, NULL, "cannot compute Sec-WebSocket-Accept", NULL);
		return;
	}
	snprintf(res, sizeof(res), "vps/%lld", (long long)vps);
	audit(rq, "console.open", res, domain);
	reply_upgrade(rq, wsrelay_start, wsrelay_drop, relay);
	reply_header(rq, "Upgrade", "websocket");
	reply_header(rq, "Sec-WebSocket-Accept", accept);
	if (http_list_has_token(req_header(rq, "Sec-WebSocket-Protocol"), "binary"))
		reply_header(rq, "Sec-WebSocket-Protocol", "binary");
}
