/* api_console.c — browser consoles against a running xvpsd ($XVPS_URL), issue 6 Contract B:
 * POST /vps/{id}/console tokens (shape, lifetime, owner only, running VPS only, audited), the
 * websocket GET /console/ws refusing every bad upgrade with problem+json (no upgrade, foreign
 * Origin, no session, no/unknown/expired/reused token, another user's session), each audited
 * as console.refused with its reason, then a real console: RFB's version string through the
 * websocket, ping, a huge frame (1009) and a text frame (1003) closing only that console, the
 * per-user cap (429), and noVNC served with the static security headers. */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "client.h"
#include "ws_client.h"

#define CSP_STATIC                                                                                 \
	"default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "          \
	"connect-src 'self'; frame-ancestors 'none'; base-uri 'none'; form-action 'self'"

static api_client admin, cust, other;
static char plan[32], tpl[32], pool[32], cust_id[32], other_id[32];

static void setup(void)
{
	fx_admin(&admin);
	fx_pool4(&admin, pool);
	fx_plan(&admin, NULL, plan);
	fx_template(&admin, tpl);
	fx_customer(&admin, &cust, cust_id, NULL, NULL);
	fx_customer(&admin, &other, other_id, NULL, NULL);
}

static void teardown(void)
{
	ws_cleanup();
	api_cleanup();
}

TestSuite(console, .init = setup, .fini = teardown, .timeout = 150);

/* POST /vps/{vps}/console as c; returns the response (free it). */
static api_resp *token_req(const api_client *c, const char *vps)
{
	char path[96];

	snprintf(path, sizeof(path), V1 "/vps/%s/console", vps);
	return api_req(c, "POST", path, NULL);
}

/* A fresh token of c for vps (asserts 201) into tok[64]; its expiry (unix time) returned. */
static time_t new_token(const api_client *c, const char *vps, char tok[64])
{
	api_resp *r = token_req(c, vps);
	struct tm tm = {0};
	const char *t, *exp;
	time_t at;

	cr_assert_eq(r->status, 201, "POST console: %ld %s", r->status, r->body);
	t = jstr(r->json, "token");
	exp = jstr(r->json, "expires_at");
	cr_assert(t && exp, "%s", r->body);
	snprintf(tok, 64, "%s", t);
	cr_assert(strptime(exp, "%Y-%m-%dT%H:%M:%SZ", &tm), "expires_at %s", exp);
	at = timegm(&tm);
	api_resp_free(r);
	return at;
}

static ws_conn *ws_with(const api_client *c, const char *token, const char *origin)
{
	char path[128];

	snprintf(path, sizeof(path), "/console/ws?token=%s", token);
	return ws_open(&(ws_opts){.path = path, .cookie = c ? c->session : NULL, .origin = origin});
}

/* The id of the newest audit row (0 when none). */
static long long audit_last_id(void)
{
	api_resp *r = api_req(&admin, "GET", V1 "/audit?limit=1", NULL);
	json_object *first;
	long long id = 0;

	cr_assert_eq(r->status, 200, "%s", r->body);
	first = json_object_array_length(r->json) ? json_object_array_get_idx(r->json, 0) : NULL;
	if (first)
		id = strtoll(jstr(first, "id"), NULL, 10);
	api_resp_free(r);
	return id;
}

/* True when an audit row newer than since has this action and detail. */
static bool audited(long long since, const char *action, const char *detail)
{
	api_resp *r = api_req(&admin, "GET", V1 "/audit?limit=200", NULL);
	bool found = false;

	cr_assert_eq(r->status, 200, "%s", r->body);
	for (size_t i = 0; i < json_object_array_length(r->json) && !found; i++) {
		json_object *o = json_object_array_get_idx(r->json, i);
		const char *a = jstr(o, "action"), *d = jstr(o, "detail");

		found = strtoll(jstr(o, "id"), NULL, 10) > since && a && strcmp(a, action) == 0 &&
		        (!detail || (d && strcmp(d, detail) == 0));
	}
	api_resp_free(r);
	return found;
}

/* A refused upgrade: status, problem+json, no 101, and an audit row with the reason. */
static void assert_refused(ws_conn *w, long status, const char *reason, long long since)
{
	cr_assert_eq(w->status, status, "expected %ld (%s), got %ld: %s", status, reason, w->status,
	             w->head);
	cr_assert(strncmp(w->content_type, "application/problem+json", 24) == 0,
	          "%s: Content-Type \"%s\"", reason, w->content_type);
	cr_assert_not_null(w->json, "%s: problem body is not JSON: %s", reason, w->body);
	cr_assert_eq(jint(w->json, "status"), status, "%s", w->body);
	cr_assert_not_null(jstr(w->json, "detail"), "%s", w->body);
	cr_assert(audited(since, "console.refused", reason),
	          "no console.refused \"%s\" in the audit", reason);
	ws_close(w);
}

Test(console, tokens_are_random_short_lived_and_only_for_the_owner)
{
	char vps[32], tok1[64], tok2[64], path[96], url[128];
	time_t now = time(NULL), exp;
	long long since = audit_last_id();
	api_resp *r;
	api_client nocsrf;

	fx_vps(&cust, plan, tpl, NULL, vps);
	r = token_req(&cust, vps);
	cr_assert_eq(r->status, 201, "%ld %s", r->status, r->body);
	snprintf(url, sizeof(url), "/console/ws?token=%s", jstr(r->json, "token"));
	cr_assert_str_eq(jstr(r->json, "url"), url);
	api_resp_free(r);
	exp = new_token(&cust, vps, tok1);
	cr_assert_eq(strlen(tok1), 43, "token %s is not 43 characters", tok1);
	cr_assert_eq(
	        strspn(tok1, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"),
	        43, "token %s is not base64url", tok1);
	cr_assert(exp > now && exp <= now + 62, "expires_at %lld is not within 60 s of %lld",
	          (long long)exp, (long long)now);
	new_token(&cust, vps, tok2);
	cr_assert_str_neq(tok1, tok2);
	cr_assert(audited(since, "console.token", NULL));

	/* Another customer's VPS does not exist for them; nor do ids that are not ids. */
	r = token_req(&other, vps);
	assert_problem(r, 404, NULL);
	api_resp_free(r);
	r = token_req(&cust, "9999999");
	assert_problem(r, 404, NULL);
	api_resp_free(r);
	r = token_req(&cust, "abc");
	assert_problem(r, 404, NULL);
	api_resp_free(r);
	/* An unsafe method: the CSRF header is needed; unknown body fields are refused. */
	nocsrf = cust;
	nocsrf.csrf[0] = '\0';
	r = token_req(&nocsrf, vps);
	assert_problem(r, 403, NULL);
	api_resp_free(r);
	snprintf(path, sizeof(path), V1 "/vps/%s/console", vps);
	r = api_req(&cust, "POST", path, "{\"vps\":\"%s\"}", vps);
	assert_problem(r, 422, NULL);
	api_resp_free(r);
	/* An admin may open any VPS's console. */
	r = token_req(&admin, vps);
	cr_assert_eq(r->status, 201, "%ld %s", r->status, r->body);
	api_resp_free(r);
	fx_vps_delete(&cust, vps);
}

Test(console, no_token_for_a_vps_that_is_not_running)
{
	char vps[32], path[128], job[32];
	api_resp *r;

	fx_vps(&cust, plan, tpl, NULL, vps);
	snprintf(path, sizeof(path), V1 "/vps/%s/actions/poweroff", vps);
	r = api_req(&cust, "POST", path, NULL);
	cr_assert_eq(r->status, 202, "%ld %s", r->status, r->body);
	snprintf(job, sizeof(job), "%s", jstr(jget(r->json, "job"), "id"));
	api_resp_free(r);
	cr_assert(wait_job(&cust, job, 60));
	r = token_req(&cust, vps);
	assert_problem(r, 409, NULL);
	api_resp_free(r);
	fx_vps_delete(&cust, vps);
}

Test(console, bad_upgrades_are_refused_with_problems_and_audited)
{
	char vps[32], tok[64], path[128], bogus[64];
	long long since;
	ws_conn *w;

	fx_vps(&cust, plan, tpl, NULL, vps);
	new_token(&cust, vps, tok);
	snprintf(path, sizeof(path), "/console/ws?token=%s", tok);
	since = audit_last_id();

	/* Not a WebSocket upgrade: each header missing or wrong in turn. */
	w = ws_open(&(ws_opts){.path = path, .cookie = cust.session, .plain = true});
	assert_refused(w, 400, "upgrade", since);
	w = ws_open(&(ws_opts){.path = path, .cookie = cust.session, .upgrade = ""});
	assert_refused(w, 400, "upgrade", since);
	w = ws_open(&(ws_opts){.path = path, .cookie = cust.session, .upgrade = "h2c"});
	assert_refused(w, 400, "upgrade", since);
	w = ws_open(&(ws_opts){.path = path, .cookie = cust.session, .version = "8"});
	assert_refused(w, 400, "upgrade", since);
	w = ws_open(&(ws_opts){.path = path, .cookie = cust.session, .key = ""});
	assert_refused(w, 400, "upgrade", since);
	w = ws_open(&(ws_opts){.path = path, .cookie = cust.session, .key = "short=="});
	assert_refused(w, 400, "upgrade", since);
	/* A page of another origin (or none) may not open a console. */
	w = ws_with(&cust, tok, "http://evil.example");
	assert_refused(w, 403, "origin", since);
	w = ws_with(&cust, tok, "");
	assert_refused(w, 403, "origin", since);
	/* No session, a forged one, or an API key's holder without a cookie. */
	w = ws_with(NULL, tok, NULL);
	assert_refused(w, 403, "session", since);
	w = ws_open(&(ws_opts){.path = path,
	                       .cookie = "00000000000000000000000000000000000000000"
	                                 "00000000000000000000000"});
	assert_refused(w, 403, "session", since);
	/* No token, a malformed one, an unknown one. */
	w = ws_open(&(ws_opts){.path = "/console/ws", .cookie = cust.session});
	assert_refused(w, 403, "unknown", since);
	w = ws_with(&cust, "not-a-token", NULL);
	assert_refused(w, 403, "unknown", since);
	memset(bogus, 'A', 43);
	bogus[43] = '\0';
	w = ws_with(&cust, bogus, NULL);
	assert_refused(w, 403, "unknown", since);
	/* None of those spent the token: another user's session does, and is refused. */
	w = ws_with(&other, tok, NULL);
	assert_refused(w, 403, "user", since);
	/* ... so the owner's use of that token now is a reuse. */
	w = ws_with(&cust, tok, NULL);
	assert_refused(w, 403, "reused", since);

	/* A token used once (whatever the agent answers) is refused the second time. */
	new_token(&cust, vps, tok);
	w = ws_with(&cust, tok, NULL);
	cr_assert(w->status == 101 || w->status == 503, "first use: %ld %s", w->status, w->head);
	ws_close(w);
	w = ws_with(&cust, tok, NULL);
	assert_refused(w, 403, "reused", since);
	fx_vps_delete(&cust, vps);
}

Test(console, an_expired_token_is_refused)
{
	char vps[32], tok[64];
	long long since;
	time_t exp;
	ws_conn *w;

	fx_vps(&cust, plan, tpl, NULL, vps);
	exp = new_token(&cust, vps, tok);
	since = audit_last_id();
	/* Tokens live XVPS_CONSOLE_TOKEN_TTL (60 s by default): wait until this one is past. */
	while (time(NULL) <= exp + 1)
		sleep(1);
	w = ws_with(&cust, tok, NULL);
	assert_refused(w, 403, "expired", since);
	fx_vps_delete(&cust, vps);
}

/* Opens a console with a fresh token; NULL with *why when the agent cannot serve consoles. */
static ws_conn *console_open(const char *vps, const char *protocol, char *why, size_t wlen)
{
	char tok[64], path[128], accept[64];
	ws_conn *w;

	new_token(&cust, vps, tok);
	snprintf(path, sizeof(path), "/console/ws?token=%s", tok);
	w = ws_open(&(ws_opts){.path = path, .cookie = cust.session, .protocol = protocol});
	if (w->status == 503 && w->body && strstr(w->body, "unknown operation")) {
		snprintf(why, wlen, "the agent does not know console.open yet: %s", w->body);
		ws_close(w);
		return NULL;
	}
	cr_assert_eq(w->status, 101, "upgrade: %ld %s %s", w->status, w->head,
	             w->body ? w->body : "");
	cr_assert(ws_header(w, "Sec-WebSocket-Accept", accept, sizeof(accept)), "%s", w->head);
	cr_assert_str_eq(accept, WS_TEST_ACCEPT);
	cr_assert(ws_header(w, "Upgrade", accept, sizeof(accept)));
	cr_assert_str_eq(accept, "websocket");
	return w;
}

static void assert_rfb_hello(ws_conn *w)
{
	uint8_t hello[13] = {0};

	cr_assert(ws_recv_bytes(w, 10000, hello, 12), "no RFB version through the websocket");
	cr_assert_str_eq((char *)hello, "RFB 003.008\n");
}

Test(console, relays_rfb_and_survives_bad_frames)
{
	char vps[32], why[512], proto[32], *big;
	ws_conn *w, *held[4];
	long long since = audit_last_id();
	uint8_t *p;
	size_t n;
	int code, op;

	fx_vps(&cust, plan, tpl, NULL, vps);
	w = console_open(vps, "binary", why, sizeof(why));
	if (!w) {
		fx_vps_delete(&cust, vps);
		cr_skip_test("%s", why);
	}
	cr_assert(ws_header(w, "Sec-WebSocket-Protocol", proto, sizeof(proto)));
	cr_assert_str_eq(proto, "binary");
	assert_rfb_hello(w);
	cr_assert(audited(since, "console.open", NULL));
	/* A ping is answered with its payload. */
	cr_assert(ws_send(w, 9, "xvps", 4, false));
	cr_assert_eq(ws_recv(w, 5000, &op, &p, &n), 1);
	cr_assert_eq(op, 10);
	cr_assert(n == 4 && memcmp(p, "xvps", 4) == 0);
	free(p);
	/* A message above 64 KiB ends this console with 1009, at once. */
	big = calloc(1, 100000);
	cr_assert_not_null(big);
	ws_send(w, 2, big, 100000, false); /* the server may stop reading half-way */
	free(big);
	cr_assert(ws_expect_close(w, 5000, &code), "no close frame and EOF after a huge frame");
	cr_assert_eq(code, 1009);
	ws_close(w);

	/* The next console works; no sub-protocol unless offered. */
	w = console_open(vps, NULL, why, sizeof(why));
	cr_assert_not(ws_header(w, "Sec-WebSocket-Protocol", proto, sizeof(proto)));
	assert_rfb_hello(w);
	/* A text frame: 1003. */
	cr_assert(ws_send(w, 1, "hello", 5, false));
	cr_assert(ws_expect_close(w, 5000, &code), "no close after a text frame");
	cr_assert_eq(code, 1003);
	ws_close(w);
	/* An unmasked frame breaks the protocol: 1002. */
	w = console_open(vps, NULL, why, sizeof(why));
	assert_rfb_hello(w);
	cr_assert(ws_send(w, 2, "RFB 003.008\n", 12, true));
	cr_assert(ws_expect_close(w, 5000, &code));
	cr_assert_eq(code, 1002);
	ws_close(w);
	/* A client that says goodbye gets its close echoed and the connection ends. */
	w = console_open(vps, NULL, why, sizeof(why));
	assert_rfb_hello(w);
	cr_assert(ws_send(w, 8, "\x03\xe8", 2, false));
	cr_assert(ws_expect_close(w, 5000, &code));
	cr_assert_eq(code, 1000);
	ws_close(w);

	/* Four consoles at once per user; a fifth is refused until one closes. */
	for (int i = 0; i < 4; i++) {
		held[i] = console_open(vps, NULL, why, sizeof(why));
		assert_rfb_hello(held[i]);
	}
	{
		char tok[64];

		since = audit_last_id();
		new_token(&cust, vps, tok);
		w = ws_with(&cust, tok, NULL);
		assert_refused(w, 429, "limit", since);
	}
	/* The held consoles still relay: the client's version gets the security types. */
	cr_assert(ws_send(held[0], 2, "RFB 003.008\n", 12, false));
	cr_assert_eq(ws_recv(held[0], 5000, &op, &p, &n), 1);
	cr_assert(op == 2 && n >= 2 && p[0] >= 1, "no security types: op %d len %zu", op, n);
	free(p);
	for (int i = 0; i < 4; i++)
		ws_close(held[i]);
	for (int i = 0; i < 50; i++) { /* the relays notice the closed connections */
		char tok[64];

		new_token(&cust, vps, tok);
		w = ws_with(&cust, tok, NULL);
		if (w->status == 101)
			break;
		cr_assert_eq(w->status, 429, "%ld %s", w->status, w->head);
		ws_close(w);
		w = NULL;
		usleep(100 * 1000);
	}
	cr_assert_not_null(w, "consoles stayed counted after their connections closed");
	assert_rfb_hello(w);
	ws_close(w);
	fx_vps_delete(&cust, vps);
}

/* The RFB handshake of a viewer (3.8, security None, shared) through the websocket. */
static void rfb_handshake(ws_conn *w)
{
	uint8_t b[64];
	uint32_t len;

	cr_assert(ws_send(w, 2, "RFB 003.008\n", 12, false));
	cr_assert(ws_recv_bytes(w, 10000, b, 2) && b[0] == 1 && b[1] == 1, "security None only");
	cr_assert(ws_send(w, 2, "\x01", 1, false));
	cr_assert(ws_recv_bytes(w, 10000, b, 4) && memcmp(b, "\0\0\0\0", 4) == 0);
	cr_assert(ws_send(w, 2, "\x01", 1, false));
	/* ServerInit: 24 bytes and the desktop name, in frames of any size. */
	for (size_t have = 0;;) {
		uint8_t *p;
		size_t n;
		int op;

		cr_assert_eq(ws_recv(w, 10000, &op, &p, &n), 1, "no ServerInit");
		cr_assert(op == 2 && have + n <= sizeof(b), "op %d, %zu bytes", op, have + n);
		memcpy(b + have, p, n);
		free(p);
		have += n;
		if (have < 24)
			continue;
		len = (uint32_t)b[20] << 24 | (uint32_t)b[21] << 16 | (uint32_t)b[22] << 8 | b[23];
		cr_assert_leq(have, 24 + len, "bytes after ServerInit");
		if (have == 24 + len)
			break;
	}
}

Test(console, a_malformed_or_oversized_rfb_message_is_refused_audited_and_harmless)
{
	char vps[32], why[512];
	ws_conn *bad, *good;
	long long since = audit_last_id();
	uint8_t *cut, *p;
	size_t n;
	int code, op;

	fx_vps(&cust, plan, tpl, NULL, vps);
	good = console_open(vps, NULL, why, sizeof(why));
	if (!good) {
		fx_vps_delete(&cust, vps);
		cr_skip_test("%s", why);
	}
	assert_rfb_hello(good);
	rfb_handshake(good);
	bad = console_open(vps, NULL, why, sizeof(why));
	assert_rfb_hello(bad);
	rfb_handshake(bad);

	/* Clipboard text over 4 KiB: dropped (audited once), the console stays open. */
	cut = calloc(1, 8 + 8000);
	cr_assert_not_null(cut);
	cut[0] = 6;
	cut[6] = 8000 >> 8;
	cut[7] = 8000 & 255;
	memset(cut + 8, 'A', 8000);
	cr_assert(ws_send(bad, 2, cut, 8 + 8000, false));
	cr_assert(ws_send(bad, 2, cut, 8 + 8000, false));
	free(cut);
	cr_assert(ws_send(bad, 2, "\x03\x00\x00\x00\x00\x00\x00\x10\x00\x10", 10, false));
	cr_assert_eq(ws_recv(bad, 10000, &op, &p, &n), 1, "the console closed after a long cut");
	cr_assert(op == 2 && n >= 1 && p[0] == 0, "a framebuffer update, not %d/%zu", op, n);
	free(p);
	cr_assert(audited(since, "console.refused", "rfb: clipboard text over 4096 bytes dropped"));

	/* An unknown message type: closed with 1008 at xvpsd, before any console server sees it,
	 * and audited with the reason. */
	cr_assert(ws_send(bad, 2, "\x63junk", 5, false));
	cr_assert(ws_expect_close(bad, 5000, &code), "no close after message type 99");
	cr_assert_eq(code, 1008);
	ws_close(bad);
	cr_assert(audited(since, "console.refused", "rfb: message type 99 is not allowed"));

	/* A framebuffer request for a 65535x65535 screen: the same. */
	bad = console_open(vps, NULL, why, sizeof(why));
	assert_rfb_hello(bad);
	rfb_handshake(bad);
	cr_assert(ws_send(bad, 2, "\x03\x00\x00\x00\x00\x00\xff\xff\xff\xff", 10, false));
	cr_assert(ws_expect_close(bad, 5000, &code), "no close after a huge update request");
	cr_assert_eq(code, 1008);
	ws_close(bad);

	/* The other console never noticed. */
	cr_assert(ws_send(good, 2, "\x03\x00\x00\x00\x00\x00\x00\x10\x00\x10", 10, false));
	cr_assert_eq(ws_recv(good, 10000, &op, &p, &n), 1, "the good console stopped");
	cr_assert(op == 2 && n >= 1 && p[0] == 0);
	free(p);
	ws_close(good);
	fx_vps_delete(&cust, vps);
}

/* Keep-alive (XVPS_CONSOLE_PING, 3 s in scripts/test.sh's API run): an idle console is pinged;
 * one that answers stays open, one that never answers is closed and frees its slot. */
Test(console, idle_consoles_are_pinged_and_silent_ones_closed, .timeout = 60)
{
	char vps[32], why[512];
	ws_conn *live, *dead;
	uint64_t t0;
	uint8_t *p;
	size_t n;
	int op, r, pings = 0;

	fx_vps(&cust, plan, tpl, NULL, vps);
	live = console_open(vps, NULL, why, sizeof(why));
	if (!live) {
		fx_vps_delete(&cust, vps);
		cr_skip_test("%s", why);
	}
	assert_rfb_hello(live);
	dead = console_open(vps, NULL, why, sizeof(why));
	assert_rfb_hello(dead);
	/* live answers every ping for 10 s (more than twice the interval) */
	t0 = (uint64_t)time(NULL);
	while ((uint64_t)time(NULL) - t0 < 10) {
		r = ws_recv(live, 1000, &op, &p, &n);
		if (r == 0)
			cr_assert_fail("the answering console was closed");
		if (r == 1) {
			if (op == 9) {
				cr_assert(n == 4 && memcmp(p, "xvps", 4) == 0);
				cr_assert(ws_send(live, 10, p, n, false));
				pings++;
			}
			free(p);
		}
	}
	cr_assert_geq(pings, 2, "pings seen by the answering console: %d", pings);
	/* dead never answered: its ping came, then the end (EOF, no close frame needed) */
	bool pinged = false, ended = false;
	for (int i = 0; i < 20 && !ended; i++) {
		r = ws_recv(dead, 1000, &op, &p, &n);
		if (r == 1) {
			pinged |= op == 9;
			free(p);
		}
		ended = r == 0;
	}
	cr_assert(pinged, "the silent console got no ping");
	cr_assert(ended, "the silent console was not closed");
	ws_close(dead);
	ws_close(live);
	fx_vps_delete(&cust, vps);
}

Test(console, novnc_and_the_ui_carry_the_static_security_headers)
{
	const char *dir = getenv("XVPS_NOVNC_DIR");
	char path[600], v[512];
	ws_conn *w;

	snprintf(path, sizeof(path), "%s/core/rfb.js", dir && *dir ? dir : "/usr/share/novnc");
	if (access(path, R_OK) != 0)
		cr_skip_test("noVNC is not installed (%s)", path);
	w = ws_open(&(ws_opts){.path = "/novnc/core/rfb.js", .plain = true});
	cr_assert_eq(w->status, 200, "%s", w->head);
	cr_assert_str_eq(w->content_type, "text/javascript; charset=utf-8");
	cr_assert(ws_header(w, "Content-Security-Policy", v, sizeof(v)), "%s", w->head);
	cr_assert_str_eq(v, CSP_STATIC);
	cr_assert(ws_header(w, "X-Content-Type-Options", v, sizeof(v)));
	cr_assert_str_eq(v, "nosniff");
	cr_assert(ws_header(w, "Referrer-Policy", v, sizeof(v)));
	cr_assert_str_eq(v, "no-referrer");
	cr_assert(ws_header(w, "X-Frame-Options", v, sizeof(v)));
	cr_assert_str_eq(v, "DENY");
	ws_close(w);
	/* Nothing outside the noVNC directory. */
	w = ws_open(&(ws_opts){.path = "/novnc/../../etc/passwd", .plain = true});
	cr_assert_eq(w->status, 404, "%s", w->head);
	ws_close(w);
	w = ws_open(&(ws_opts){.path = "/", .plain = true});
	if (w->status == 200) {
		cr_assert(ws_header(w, "Content-Security-Policy", v, sizeof(v)), "%s", w->head);
		cr_assert_str_eq(v, CSP_STATIC);
	}
	ws_close(w);
}
