/* test_http_util.c — panel/http.c and panel/api_misc.c: first the pure parts (route matching,
 * 404 vs 405 + Allow, RFC 9457 problems, Content-Type and static-path rules, reply ownership,
 * path ids), then the real server on a loopback ephemeral port driven with libcurl (body rules,
 * sessions, CSRF, rate limiting, headers, /metrics), with its state in a mkdtemp() directory. */
#include <criterion/criterion.h>
#include <curl/curl.h>
#include <ftw.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include "../../panel/api.h"
#include "../../panel/audit.h"
#include "../../panel/auth.h"
#include "../../panel/config.h"
#include "../../panel/http.h"
#include "../../panel/http_internal.h"
#include "../../panel/jobs.h"
#include "../../panel/metering.h"
#include "../../panel/store.h"

static char scratch[256];
static const char *params[HTTP_MAX_PARAMS];
static int nparams;

static bool match(const char *pattern, const char *path)
{
	return route_match(pattern, path, scratch, sizeof(scratch), params, &nparams);
}

Test(route_match, literal_paths_match_exactly)
{
	cr_assert(match("/api/v1/plans", "/api/v1/plans"));
	cr_assert_eq(nparams, 0);
	cr_assert_not(match("/api/v1/plans", "/api/v1/plan"));
	cr_assert_not(match("/api/v1/plans", "/api/v1/plansx"));
	cr_assert_not(match("/api/v1/plans", "/api/v1/plans/"));
	cr_assert_not(match("/api/v1/plans", "/api/v1"));
	cr_assert_not(match("/api/v1/plans", ""));
}

Test(route_match, braces_capture_one_non_empty_segment)
{
	cr_assert(match("/api/v1/vps/{}/actions/{}", "/api/v1/vps/12/actions/reboot"));
	cr_assert_eq(nparams, 2);
	cr_assert_str_eq(params[0], "12");
	cr_assert_str_eq(params[1], "reboot");
	cr_assert_not(match("/api/v1/vps/{}", "/api/v1/vps/"), "empty segment");
	cr_assert_not(match("/api/v1/vps/{}", "/api/v1/vps//"));
	cr_assert_not(match("/api/v1/vps/{}", "/api/v1/vps/1/2"), "one segment only");
	cr_assert_not(match("/api/v1/vps/{}/actions/{}", "/api/v1/vps/12/actions"));
}

Test(route_match, parameter_that_does_not_fit_is_no_match)
{
	char small[4];

	cr_assert_not(route_match("/x/{}", "/x/12345", small, sizeof(small), params, &nparams));
	cr_assert(route_match("/x/{}", "/x/123", small, sizeof(small), params, &nparams));
}

Test(route_find, finds_route_by_method_and_path)
{
	bool known = true;
	char allow[64];
	const route *r =
	        route_find(xvps_routes, "DELETE", "/api/v1/plans/7", scratch, sizeof(scratch),
	                   params, &nparams, &known, allow, sizeof(allow));

	cr_assert_not_null(r);
	cr_assert_eq(r->fn, api_plans_delete);
	cr_assert_eq(nparams, 1);
	cr_assert_str_eq(params[0], "7");
}

Test(route_find, head_is_looked_up_as_get)
{
	bool known;
	char allow[64];
	const route *r = route_find(xvps_routes, "HEAD", "/healthz", scratch, sizeof(scratch),
	                            params, &nparams, &known, allow, sizeof(allow));

	cr_assert_not_null(r);
	cr_assert_eq(r->fn, api_healthz);
}

Test(route_find, known_path_with_wrong_method_lists_allowed_methods)
{
	bool known = false;
	char allow[64];
	const route *r = route_find(xvps_routes, "PUT", "/api/v1/plans", scratch, sizeof(scratch),
	                            params, &nparams, &known, allow, sizeof(allow));

	cr_assert_null(r);
	cr_assert(known);
	cr_assert_str_eq(allow, "GET, POST");
}

Test(route_find, unknown_path_is_not_known)
{
	bool known = true;
	char allow[64];
	const route *r = route_find(xvps_routes, "GET", "/api/v1/nothing", scratch, sizeof(scratch),
	                            params, &nparams, &known, allow, sizeof(allow));

	cr_assert_null(r);
	cr_assert_not(known);
}

Test(problem, has_rfc9457_members_and_typed_uri)
{
	json_object *p = problem_json(404, NULL, "no such plan", NULL), *v;

	cr_assert(json_object_object_get_ex(p, "type", &v));
	cr_assert_str_eq(json_object_get_string(v), "https://xvps.dev/problems/not-found");
	cr_assert(json_object_object_get_ex(p, "title", &v));
	cr_assert_str_eq(json_object_get_string(v), "Not Found");
	cr_assert(json_object_object_get_ex(p, "status", &v));
	cr_assert(json_object_is_type(v, json_type_int));
	cr_assert_eq(json_object_get_int(v), 404);
	cr_assert(json_object_object_get_ex(p, "detail", &v));
	cr_assert_str_eq(json_object_get_string(v), "no such plan");
	cr_assert_not(json_object_object_get_ex(p, "field", NULL));
	cr_assert_eq(json_object_object_length(p), 4);
	json_object_put(p);
}

Test(problem, validation_error_names_the_field)
{
	json_object *p = problem_json(422, "Invalid request field", "must be 1..64", "vcpus"), *v;

	cr_assert(json_object_object_get_ex(p, "field", &v));
	cr_assert_str_eq(json_object_get_string(v), "vcpus");
	cr_assert(json_object_object_get_ex(p, "type", &v));
	cr_assert_str_eq(json_object_get_string(v), "https://xvps.dev/problems/validation-error");
	json_object_put(p);
}

Test(problem, every_status_gets_a_slug)
{
	cr_assert_str_eq(problem_slug(413), "content-too-large");
	cr_assert_str_eq(problem_slug(415), "unsupported-media-type");
	cr_assert_str_eq(problem_slug(429), "too-many-requests");
	cr_assert_str_eq(problem_slug(418), "client-error");
	cr_assert_str_eq(problem_slug(599), "server-error");
}

Test(reply, later_reply_replaces_earlier_one_and_headers_are_kept)
{
	http_req rq = {0};
	json_object *v;

	reply_problem(&rq, 500, NULL, "first", NULL);
	reply_json(&rq, 201, json_object_new_object());
	cr_assert_eq(rq.status, 201);
	cr_assert_str_eq(rq.content_type, "application/json");
	cr_assert_eq(json_object_object_length(rq.resp_json), 0);
	reply_field_error(&rq, &(json_field_error){.field = "name", .detail = "is required"});
	cr_assert_eq(rq.status, 422);
	cr_assert_str_eq(rq.content_type, "application/problem+json");
	cr_assert(json_object_object_get_ex(rq.resp_json, "field", &v));
	cr_assert_str_eq(json_object_get_string(v), "name");
	reply_header(&rq, "Retry-After", "10");
	reply_header(&rq, "Retry-After", "20");
	cr_assert_eq(rq.nhdr, 1, "same header replaced");
	cr_assert_str_eq(rq.hdr_value[0], "20");
	reply_raw(&rq, 200, "text/plain", strdup("hi"), 2);
	cr_assert_null(rq.resp_json);
	cr_assert_eq(rq.resp_raw_len, 2);
	free(rq.resp_raw);
	free(rq.hdr_name[0]);
	free(rq.hdr_value[0]);
}

Test(content_type, accepts_json_with_parameters_only)
{
	cr_assert(content_type_is_json("application/json"));
	cr_assert(content_type_is_json("application/json; charset=utf-8"));
	cr_assert(content_type_is_json("Application/JSON;charset=UTF-8"));
	cr_assert_not(content_type_is_json(NULL));
	cr_assert_not(content_type_is_json(""));
	cr_assert_not(content_type_is_json("text/json"));
	cr_assert_not(content_type_is_json("application/jsonx"));
	cr_assert_not(content_type_is_json("application/x-www-form-urlencoded"));
	cr_assert_not(content_type_is_json("text/plain; application/json"));
}

Test(static_files, path_rules_refuse_traversal_and_hidden_files)
{
	cr_assert(static_path_ok("/"));
	cr_assert(static_path_ok("/index.html"));
	cr_assert(static_path_ok("/js/app.js"));
	cr_assert(static_path_ok("/novnc/"));
	cr_assert_not(static_path_ok("/../etc/passwd"));
	cr_assert_not(static_path_ok("/js/../../x"));
	cr_assert_not(static_path_ok("/.."));
	cr_assert_not(static_path_ok("/."));
	cr_assert_not(static_path_ok("/.git/config"));
	cr_assert_not(static_path_ok("/a//b"));
	cr_assert_not(static_path_ok("/a\\..\\b"));
	cr_assert_not(static_path_ok("/a\nb"));
	cr_assert_not(static_path_ok("relative"));
	cr_assert_not(static_path_ok(""));
}

Test(static_files, content_type_follows_the_extension)
{
	cr_assert_str_eq(static_content_type("/index.html"), "text/html; charset=utf-8");
	cr_assert_str_eq(static_content_type("/a/app.JS"), "text/javascript; charset=utf-8");
	cr_assert_str_eq(static_content_type("/s.css"), "text/css; charset=utf-8");
	cr_assert_str_eq(static_content_type("/i.svg"), "image/svg+xml");
	cr_assert_str_eq(static_content_type("/x.bin"), "application/octet-stream");
	cr_assert_str_eq(static_content_type("/dir.d/noext"), "application/octet-stream");
}

Test(misc, unsafe_methods_and_loopback)
{
	cr_assert(method_is_unsafe("POST"));
	cr_assert(method_is_unsafe("DELETE"));
	cr_assert(method_is_unsafe("PATCH"));
	cr_assert(method_is_unsafe("PUT"));
	cr_assert_not(method_is_unsafe("GET"));
	cr_assert_not(method_is_unsafe("HEAD"));
	cr_assert(ip_is_loopback("127.0.0.1"));
	cr_assert(ip_is_loopback("127.3.4.5"));
	cr_assert(ip_is_loopback("::1"));
	cr_assert_not(ip_is_loopback("192.0.2.1"));
	cr_assert_not(ip_is_loopback("::ffff:192.0.2.1"));
	cr_assert_not(ip_is_loopback("1270.0.0.1"));
}

Test(parse_id, accepts_positive_decimal_ids_only)
{
	int64_t id = 0;

	cr_assert(parse_id("1", &id));
	cr_assert_eq(id, 1);
	cr_assert(parse_id("9223372036854775807", &id));
	cr_assert_eq(id, INT64_MAX);
	cr_assert_not(parse_id("0", &id));
	cr_assert_not(parse_id("01", &id));
	cr_assert_not(parse_id("-1", &id));
	cr_assert_not(parse_id("+1", &id));
	cr_assert_not(parse_id(" 1", &id));
	cr_assert_not(parse_id("1x", &id));
	cr_assert_not(parse_id("", &id));
	cr_assert_not(parse_id(NULL, &id));
	cr_assert_not(parse_id("9223372036854775808", &id), "overflow");
	cr_assert_not(parse_id("99999999999999999999", &id));
}

Test(json_id, formats_ids_as_strings)
{
	json_object *o = json_id(42);

	cr_assert(json_object_is_type(o, json_type_string));
	cr_assert_str_eq(json_object_get_string(o), "42");
	json_object_put(o);
}

/* ---- the server, over loopback ------------------------------------------------------------ */

__attribute__((weak)) xvps_app *g_app;
static xvps_app app;
static char tmp[64];
static char base_url[64];

static int rm_one(const char *p, const struct stat *sb, int flag, struct FTW *ftw)
{
	return remove(p);
}

static void server_setup(void)
{
	char path[128];
	FILE *f;
	bool conflict;

	cr_assert_geq(sodium_init(), 0);
	cr_assert_eq(curl_global_init(CURL_GLOBAL_DEFAULT), 0);
	snprintf(tmp, sizeof(tmp), "/tmp/xvps-http-XXXXXX");
	cr_assert_not_null(mkdtemp(tmp));
	memset(&app, 0, sizeof(app));
	snprintf(app.cfg.listen_host, sizeof(app.cfg.listen_host), "127.0.0.1");
	app.cfg.listen_port = 0;
	snprintf(app.cfg.state_dir, sizeof(app.cfg.state_dir), "%s", tmp);
	snprintf(app.cfg.web_dir, sizeof(app.cfg.web_dir), "%s/web", tmp);
	app.cfg.http_threads = 2;
	app.cfg.per_ip_conn_limit = 64;
	app.cfg.conn_timeout_s = 5;
	app.cfg.conn_memory_limit = 128 * 1024;
	app.cfg.pwhash_opslimit = 1;
	app.cfg.pwhash_memlimit = 64 * 1024;
	g_app = &app;
	snprintf(path, sizeof(path), "%s/web", tmp);
	cr_assert_eq(mkdir(path, 0700), 0);
	snprintf(path, sizeof(path), "%s/web/index.html", tmp);
	f = fopen(path, "w");
	cr_assert_not_null(f);
	fputs("<h1>xvps</h1>\n", f);
	fclose(f);
	snprintf(path, sizeof(path), "%s/secret.txt", tmp);
	f = fopen(path, "w");
	cr_assert_not_null(f);
	fputs("secret\n", f);
	fclose(f);
	snprintf(path, sizeof(path), "%s/xvps.db", tmp);
	cr_assert_eq(store_open(path), 0);
	cr_assert_gt(auth_create_user("admin", NULL, "admin-pass-1", "admin", &conflict), 0);
	cr_assert_gt(
	        auth_create_user("carol", "c@example.com", "carol-pass-1", "customer", &conflict),
	        0);
	db_release();
	cr_assert_eq(http_start(), 0);
	cr_assert_gt(app.cfg.listen_port, 0, "the bound port is recorded");
	snprintf(base_url, sizeof(base_url), "http://127.0.0.1:%d", app.cfg.listen_port);
}

static void server_teardown(void)
{
	http_stop();
	store_close_thread();
	g_app = NULL;
	curl_global_cleanup();
	nftw(tmp, rm_one, 8, FTW_DEPTH | FTW_PHYS);
}

TestSuite(http_server, .init = server_setup, .fini = server_teardown);

typedef struct buf {
	char *p;
	size_t n;
} buf;

typedef struct resp {
	long status;
	buf body, hdrs;
} resp;

static size_t on_data(char *ptr, size_t size, size_t nmemb, void *ud)
{
	buf *b = ud;
	size_t len = size * nmemb;
	char *np = realloc(b->p, b->n + len + 1);

	if (!np)
		return 0;
	memcpy(np + b->n, ptr, len);
	b->p = np;
	b->n += len;
	b->p[b->n] = '\0';
	return len;
}

static void resp_free(resp *r)
{
	free(r->body.p);
	free(r->hdrs.p);
	memset(r, 0, sizeof(*r));
}

/* Sends one request; extra is a NULL-terminated list of header lines. */
static void call(resp *r, const char *method, const char *path, const char *const extra[],
                 const char *body, size_t body_len)
{
	CURL *c = curl_easy_init();
	struct curl_slist *h = NULL;
	char url[512];

	memset(r, 0, sizeof(*r));
	cr_assert_not_null(c);
	snprintf(url, sizeof(url), "%s%s", base_url, path);
	curl_easy_setopt(c, CURLOPT_URL, url);
	curl_easy_setopt(c, CURLOPT_CUSTOMREQUEST, method);
	curl_easy_setopt(c, CURLOPT_PATH_AS_IS, 1L);
	curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, on_data);
	curl_easy_setopt(c, CURLOPT_WRITEDATA, &r->body);
	curl_easy_setopt(c, CURLOPT_HEADERFUNCTION, on_data);
	curl_easy_setopt(c, CURLOPT_HEADERDATA, &r->hdrs);
	if (strcmp(method, "HEAD") == 0)
		curl_easy_setopt(c, CURLOPT_NOBODY, 1L);
	h = curl_slist_append(h, "Expect:");
	for (int i = 0; extra && extra[i]; i++)
		h = curl_slist_append(h, extra[i]);
	curl_easy_setopt(c, CURLOPT_HTTPHEADER, h);
	if (body) {
		curl_easy_setopt(c, CURLOPT_POSTFIELDS, body);
		curl_easy_setopt(c, CURLOPT_POSTFIELDSIZE, (long)body_len);
	}
	cr_assert_eq(curl_easy_perform(c), CURLE_OK);
	curl_easy_getinfo(c, CURLINFO_RESPONSE_CODE, &r->status);
	curl_slist_free_all(h);
	curl_easy_cleanup(c);
	if (!r->body.p)
		r->body.p = calloc(1, 1);
	if (!r->hdrs.p)
		r->hdrs.p = calloc(1, 1);
}

static void post_json(resp *r, const char *path, const char *const extra[], const char *json)
{
	const char *hdrs[8] = {"Content-Type: application/json"};
	int n = 1;

	for (int i = 0; extra && extra[i] && n < 7; i++)
		hdrs[n++] = extra[i];
	call(r, "POST", path, hdrs, json, strlen(json));
}

/* The value of a response header (case-insensitive name) into out, or false. */
static bool header(const resp *r, const char *name, char *out, size_t len)
{
	size_t nl = strlen(name);

	for (const char *l = r->hdrs.p; l && *l;) {
		const char *e = strstr(l, "\r\n");
		size_t ll = e ? (size_t)(e - l) : strlen(l);

		if (ll > nl + 1 && strncasecmp(l, name, nl) == 0 && l[nl] == ':') {
			const char *v = l + nl + 1;

			while (*v == ' ')
				v++;
			snprintf(out, len, "%.*s", (int)(ll - (size_t)(v - l)), v);
			return true;
		}
		l = e ? e + 2 : l + ll;
	}
	return false;
}

static void assert_problem(const resp *r, long status)
{
	char ct[128];
	json_object *o = json_tokener_parse(r->body.p), *v;

	cr_assert_eq(r->status, status, "got %ld: %s", r->status, r->body.p);
	cr_assert(header(r, "Content-Type", ct, sizeof(ct)));
	cr_assert_str_eq(ct, "application/problem+json");
	cr_assert_not_null(o, "body is JSON: %s", r->body.p);
	cr_assert(json_object_object_get_ex(o, "status", &v));
	cr_assert_eq(json_object_get_int(v), status);
	cr_assert(json_object_object_get_ex(o, "type", NULL));
	cr_assert(json_object_object_get_ex(o, "title", NULL));
	cr_assert(json_object_object_get_ex(o, "detail", NULL));
	json_object_put(o);
}

/* Logs in; fills "Cookie: xvps_session=..." and "X-CSRF-Token: ..." header lines. */
static void login(const char *user, const char *pw, char cookie[160], char csrf[128])
{
	char body[128], sc[256];
	resp r;
	json_object *o, *v;

	snprintf(body, sizeof(body), "{\"username\":\"%s\",\"password\":\"%s\"}", user, pw);
	post_json(&r, "/api/v1/session", NULL, body);
	cr_assert_eq(r.status, 201, "login: %ld %s", r.status, r.body.p);
	cr_assert(header(&r, "Set-Cookie", sc, sizeof(sc)));
	snprintf(cookie, 160, "Cookie: %.*s", (int)strcspn(sc, ";"), sc);
	o = json_tokener_parse(r.body.p);
	cr_assert(json_object_object_get_ex(o, "csrf_token", &v));
	snprintf(csrf, 128, "X-CSRF-Token: %s", json_object_get_string(v));
	json_object_put(o);
	resp_free(&r);
}

Test(http_server, healthz_answers_with_security_headers)
{
	char v[128];
	resp r;

	call(&r, "GET", "/healthz", NULL, NULL, 0);
	cr_assert_eq(r.status, 200);
	cr_assert_str_eq(r.body.p, "{\"status\":\"ok\"}");
	cr_assert(header(&r, "Cache-Control", v, sizeof(v)));
	cr_assert_str_eq(v, "no-store");
	cr_assert(header(&r, "X-Content-Type-Options", v, sizeof(v)));
	cr_assert_str_eq(v, "nosniff");
	cr_assert(header(&r, "X-Frame-Options", v, sizeof(v)));
	cr_assert_str_eq(v, "DENY");
	cr_assert(header(&r, "Referrer-Policy", v, sizeof(v)));
	cr_assert_str_eq(v, "no-referrer");
	cr_assert(header(&r, "Content-Security-Policy", v, sizeof(v)));
	cr_assert_str_eq(v, "default-src 'none'; frame-ancestors 'none'");
	resp_free(&r);
}

Test(http_server, unknown_api_path_is_404_problem)
{
	resp r;

	call(&r, "GET", "/api/v1/nothing-here", NULL, NULL, 0);
	assert_problem(&r, 404);
	resp_free(&r);
}

Test(http_server, wrong_method_is_405_with_allow)
{
	char allow[64];
	resp r;

	call(&r, "PUT", "/api/v1/session", NULL, NULL, 0);
	assert_problem(&r, 405);
	cr_assert(header(&r, "Allow", allow, sizeof(allow)));
	cr_assert_str_eq(allow, "POST, DELETE");
	resp_free(&r);
}

Test(http_server, rejects_wrong_content_type_with_415)
{
	const char *const h[] = {"Content-Type: text/plain", NULL};
	resp r;

	call(&r, "POST", "/api/v1/session", h, "{}", 2);
	assert_problem(&r, 415);
	resp_free(&r);
}

Test(http_server, rejects_empty_and_malformed_bodies_with_400)
{
	resp r;

	post_json(&r, "/api/v1/session", NULL, "");
	assert_problem(&r, 400);
	resp_free(&r);
	post_json(&r, "/api/v1/session", NULL, "{\"username\":");
	assert_problem(&r, 400);
	resp_free(&r);
	post_json(&r, "/api/v1/session", NULL, "[\"not\", \"an object\"]");
	assert_problem(&r, 400);
	resp_free(&r);
}

Test(http_server, rejects_json_nested_deeper_than_32_with_400)
{
	char deep[80];
	resp r;

	memset(deep, '[', 33);
	memset(deep + 33, ']', 33);
	deep[66] = '\0';
	post_json(&r, "/api/v1/session", NULL, deep);
	assert_problem(&r, 400);
	cr_assert_not_null(strstr(r.body.p, "deeper than 32"));
	resp_free(&r);
}

Test(http_server, rejects_body_over_64_kib_with_413)
{
	size_t n = MAX_BODY_BYTES + 10;
	char *big = malloc(n + 1);
	const char *const h[] = {"Content-Type: application/json", NULL};
	resp r;

	memset(big, ' ', n);
	big[0] = '{';
	big[n - 1] = '}';
	big[n] = '\0';
	call(&r, "POST", "/api/v1/session", h, big, n);
	assert_problem(&r, 413);
	free(big);
	resp_free(&r);
}

Test(http_server, login_rejects_unknown_and_missing_fields_with_422)
{
	resp r;

	post_json(&r, "/api/v1/session", NULL,
	          "{\"username\":\"admin\",\"password\":\"x\",\"role\":\"admin\"}");
	assert_problem(&r, 422);
	cr_assert_not_null(strstr(r.body.p, "\"field\":\"role\""));
	resp_free(&r);
	post_json(&r, "/api/v1/session", NULL, "{\"username\":\"admin\"}");
	assert_problem(&r, 422);
	cr_assert_not_null(strstr(r.body.p, "\"field\":\"password\""));
	resp_free(&r);
}

Test(http_server, login_sets_a_strict_httponly_cookie_and_me_answers)
{
	char sc[256];
	resp r;

	post_json(&r, "/api/v1/session", NULL,
	          "{\"username\":\"carol\",\"password\":\"carol-pass-1\"}");
	cr_assert_eq(r.status, 201);
	cr_assert(header(&r, "Set-Cookie", sc, sizeof(sc)));
	cr_assert_eq(strncmp(sc, "xvps_session=", 13), 0);
	cr_assert_eq(strcspn(sc + 13, ";"), 64, "256-bit token as hex");
	cr_assert_not_null(strstr(sc, "; HttpOnly"));
	cr_assert_not_null(strstr(sc, "; SameSite=Strict"));
	cr_assert_not_null(strstr(sc, "; Path=/"));
	cr_assert_not_null(strstr(r.body.p, "\"role\":\"customer\""));
	cr_assert_not_null(strstr(r.body.p, "\"csrf_token\":\""));
	resp_free(&r);
}

Test(http_server, wrong_password_and_unknown_user_get_the_same_401)
{
	resp a, b;

	post_json(&a, "/api/v1/session", NULL,
	          "{\"username\":\"carol\",\"password\":\"nope-nope\"}");
	post_json(&b, "/api/v1/session", NULL,
	          "{\"username\":\"ghost\",\"password\":\"nope-nope\"}");
	assert_problem(&a, 401);
	assert_problem(&b, 401);
	cr_assert_str_eq(a.body.p, b.body.p);
	resp_free(&a);
	resp_free(&b);
}

Test(http_server, sixth_wrong_password_is_429_with_retry_after)
{
	char ra[32];
	resp r;

	for (int i = 0; i < LOGIN_MAX_FAILURES; i++) {
		post_json(&r, "/api/v1/session", NULL,
		          "{\"username\":\"carol\",\"password\":\"wrong-pass\"}");
		cr_assert_eq(r.status, 401, "attempt %d", i + 1);
		resp_free(&r);
	}
	post_json(&r, "/api/v1/session", NULL,
	          "{\"username\":\"carol\",\"password\":\"carol-pass-1\"}");
	assert_problem(&r, 429);
	cr_assert(header(&r, "Retry-After", ra, sizeof(ra)));
	cr_assert_gt(atoi(ra), 0);
	resp_free(&r);
}

Test(http_server, cookie_requests_that_change_state_need_the_csrf_token)
{
	char cookie[160], csrf[128];
	const char *no_csrf[] = {NULL, NULL}, *with_csrf[] = {NULL, NULL, NULL};
	resp r;

	login("carol", "carol-pass-1", cookie, csrf);
	no_csrf[0] = cookie;
	post_json(&r, "/api/v1/api-keys", no_csrf, "{\"name\":\"ci\"}");
	assert_problem(&r, 403);
	resp_free(&r);
	with_csrf[0] = cookie;
	with_csrf[1] = "X-CSRF-Token: 0000";
	post_json(&r, "/api/v1/api-keys", with_csrf, "{\"name\":\"ci\"}");
	assert_problem(&r, 403);
	resp_free(&r);
	with_csrf[1] = csrf;
	post_json(&r, "/api/v1/api-keys", with_csrf, "{\"name\":\"ci\"}");
	cr_assert_eq(r.status, 201, "%s", r.body.p);
	resp_free(&r);
	call(&r, "GET", "/api/v1/me", no_csrf, NULL, 0);
	cr_assert_eq(r.status, 200, "safe methods need no token");
	resp_free(&r);
}

Test(http_server, logged_out_or_forged_sessions_are_401)
{
	char cookie[160], csrf[128];
	const char *h[] = {NULL, NULL, NULL};
	const char *forged[] = {"Cookie: xvps_session=00000000000000000000000000000000000000000000"
	                        "00000000000000000000",
	                        NULL};
	resp r;

	call(&r, "GET", "/api/v1/me", forged, NULL, 0);
	assert_problem(&r, 401);
	resp_free(&r);
	login("carol", "carol-pass-1", cookie, csrf);
	h[0] = cookie;
	h[1] = csrf;
	call(&r, "DELETE", "/api/v1/session", h, NULL, 0);
	cr_assert_eq(r.status, 204);
	resp_free(&r);
	call(&r, "GET", "/api/v1/me", h, NULL, 0);
	assert_problem(&r, 401);
	resp_free(&r);
}

Test(http_server, api_key_is_shown_once_works_as_bearer_and_is_private)
{
	char cookie[160], csrf[128], authz[128], path[64];
	const char *h[] = {NULL, NULL, NULL}, *bearer[] = {authz, NULL};
	json_object *o, *v;
	resp r;

	login("carol", "carol-pass-1", cookie, csrf);
	h[0] = cookie;
	h[1] = csrf;
	post_json(&r, "/api/v1/api-keys", h, "{\"name\":\"laptop\"}");
	cr_assert_eq(r.status, 201);
	o = json_tokener_parse(r.body.p);
	cr_assert(json_object_object_get_ex(o, "token", &v));
	cr_assert_eq(strncmp(json_object_get_string(v), "xvps_", 5), 0);
	snprintf(authz, sizeof(authz), "Authorization: Bearer %s", json_object_get_string(v));
	cr_assert(json_object_object_get_ex(o, "id", &v));
	snprintf(path, sizeof(path), "/api/v1/api-keys/%s", json_object_get_string(v));
	json_object_put(o);
	resp_free(&r);

	call(&r, "GET", "/api/v1/api-keys", bearer, NULL, 0);
	cr_assert_eq(r.status, 200);
	cr_assert_not_null(strstr(r.body.p, "\"laptop\""));
	cr_assert_null(strstr(r.body.p, "token"), "tokens are never listed");
	resp_free(&r);

	/* The admin cannot delete carol's key through its own key list: 404. */
	login("admin", "admin-pass-1", cookie, csrf);
	call(&r, "DELETE", path, h, NULL, 0);
	assert_problem(&r, 404);
	resp_free(&r);
	call(&r, "DELETE", path, bearer, NULL, 0);
	cr_assert_eq(r.status, 204, "a bearer request needs no CSRF token");
	resp_free(&r);
	call(&r, "GET", "/api/v1/me", bearer, NULL, 0);
	assert_problem(&r, 401);
	resp_free(&r);
}

Test(http_server, customer_gets_403_on_admin_routes_and_audit_records_logins)
{
	char cookie[160], csrf[128];
	const char *h[] = {NULL, NULL};
	resp r;

	login("carol", "carol-pass-1", cookie, csrf);
	h[0] = cookie;
	call(&r, "GET", "/api/v1/audit", h, NULL, 0);
	assert_problem(&r, 403);
	resp_free(&r);
	login("admin", "admin-pass-1", cookie, csrf);
	call(&r, "GET", "/api/v1/audit?limit=1", h, NULL, 0);
	cr_assert_eq(r.status, 200);
	cr_assert_not_null(strstr(r.body.p, "\"action\":\"login\""), "%s", r.body.p);
	cr_assert_not_null(strstr(r.body.p, "\"user\":\"admin\""), "%s", r.body.p);
	cr_assert_not_null(strstr(r.body.p, "\"ip\":\"127.0.0.1\""), "%s", r.body.p);
	resp_free(&r);
}

Test(http_server, metrics_are_prometheus_text_for_loopback)
{
	char ct[128];
	resp r;

	call(&r, "GET", "/metrics", NULL, NULL, 0);
	cr_assert_eq(r.status, 200);
	cr_assert(header(&r, "Content-Type", ct, sizeof(ct)));
	cr_assert_eq(strncmp(ct, "text/plain; version=0.0.4", 25), 0);
	cr_assert_not_null(strstr(r.body.p, "# TYPE xvps_http_requests_total counter\n"));
	cr_assert_not_null(strstr(r.body.p, "xvps_vps{state=\"deleting\"} 0\n"));
	cr_assert_not_null(strstr(r.body.p, "xvps_jobs{state=\"queued\"} 0\n"));
	cr_assert_not_null(strstr(r.body.p, "# TYPE xvps_uptime_seconds gauge\n"));
	resp_free(&r);
}

Test(http_server, serves_web_files_but_nothing_outside)
{
	char ct[128];
	resp r;

	call(&r, "GET", "/", NULL, NULL, 0);
	cr_assert_eq(r.status, 200);
	cr_assert_str_eq(r.body.p, "<h1>xvps</h1>\n");
	cr_assert(header(&r, "Content-Type", ct, sizeof(ct)));
	cr_assert_str_eq(ct, "text/html; charset=utf-8");
	resp_free(&r);
	call(&r, "GET", "/../secret.txt", NULL, NULL, 0);
	cr_assert_eq(r.status, 404);
	cr_assert_null(strstr(r.body.p, "secret"));
	resp_free(&r);
	call(&r, "GET", "/%2e%2e/secret.txt", NULL, NULL, 0);
	cr_assert_eq(r.status, 404);
	resp_free(&r);
	call(&r, "GET", "/missing.js", NULL, NULL, 0);
	cr_assert_eq(r.status, 404);
	resp_free(&r);
}

/* ---- API key scopes (issue 14 item 4): what each kind of route needs ----------------------- */

static const route *route_of(const char *method, const char *path)
{
	bool known = false;
	char allow[64];

	return route_find(xvps_routes, method, path, scratch, sizeof(scratch), params, &nparams,
	                  &known, allow, sizeof(allow));
}

/* Whether a key with scopes of a user (is_admin) may call method path; *missing the scope named. */
static bool may(unsigned scopes, bool is_admin, const char *method, const char *path,
                const char **missing)
{
	const route *r = route_of(method, path);

	cr_assert_not_null(r, "no route for %s %s", method, path);
	return route_scope_ok(r, method, scopes, is_admin, missing);
}

Test(scopes, each_route_kind_needs_its_scope)
{
	const char *m = NULL;

	/* read-only: GETs, but not the module API, not writes. */
	cr_assert(may(SCOPE_READ, true, "GET", "/api/v1/plans", &m));
	cr_assert(may(SCOPE_READ, false, "GET", "/api/v1/vps/3", &m));
	cr_assert_not(may(SCOPE_READ, true, "POST", "/api/v1/plans", &m));
	cr_assert_str_eq(m, "admin");
	cr_assert_not(may(SCOPE_READ, false, "POST", "/api/v1/vps/3/actions/start", &m));
	cr_assert_str_eq(m, "vps");
	cr_assert_not(may(SCOPE_READ | SCOPE_ADMIN, true, "GET", "/api/v1/billing/ping", &m));
	cr_assert_str_eq(m, "billing");
	/* vps: the owner's VPS routes, not the admin-only ones under /vps. */
	cr_assert(may(SCOPE_VPS, false, "POST", "/api/v1/vps", &m));
	cr_assert(may(SCOPE_VPS, false, "DELETE", "/api/v1/vps/3", &m));
	cr_assert(may(SCOPE_VPS, false, "GET", "/api/v1/jobs/9", &m));
	cr_assert_not(may(SCOPE_VPS, true, "POST", "/api/v1/vps/3/actions/suspend", &m));
	cr_assert_str_eq(m, "admin");
	cr_assert_not(may(SCOPE_VPS, true, "GET", "/api/v1/audit", &m));
	cr_assert_str_eq(m, "read-only");
	/* billing: the module API and nothing else. */
	cr_assert(may(SCOPE_BILLING, true, "PUT", "/api/v1/billing/services/7", &m));
	cr_assert(may(SCOPE_BILLING, true, "GET", "/api/v1/billing/usage", &m));
	cr_assert_not(may(SCOPE_BILLING, true, "GET", "/api/v1/vps", &m));
	cr_assert_not(may(SCOPE_BILLING, true, "POST", "/api/v1/customers", &m));
	cr_assert_str_eq(m, "admin");
	/* admin: everything but the module API. */
	cr_assert(may(SCOPE_ADMIN, true, "POST", "/api/v1/customers", &m));
	cr_assert(may(SCOPE_ADMIN, true, "GET", "/api/v1/audit", &m));
	cr_assert(may(SCOPE_ADMIN, true, "POST", "/api/v1/vps/3/actions/reboot", &m));
	cr_assert_not(may(SCOPE_ADMIN, true, "DELETE", "/api/v1/billing/services/7", &m));
	cr_assert_str_eq(m, "billing");
}

Test(scopes, own_account_needs_every_scope_of_the_role_and_sessions_are_not_limited)
{
	const char *m = NULL;

	cr_assert(may(SCOPE_ALL, true, "POST", "/api/v1/api-keys", &m));
	cr_assert_not(may(SCOPE_ALL & ~SCOPE_BILLING, true, "POST", "/api/v1/api-keys", &m));
	cr_assert_str_eq(m, "billing");
	cr_assert(may(SCOPE_READ | SCOPE_VPS, false, "DELETE", "/api/v1/api-keys/4", &m));
	cr_assert_not(may(SCOPE_VPS, false, "DELETE", "/api/v1/session", &m));
	cr_assert_str_eq(m, "read-only");
	/* 0 = a cookie session: its user's full rights. */
	cr_assert(may(0, true, "PUT", "/api/v1/billing/services/7", &m));
	cr_assert(may(0, false, "POST", "/api/v1/api-keys", &m));
	/* Open routes need nothing. */
	cr_assert(may(SCOPE_READ, false, "GET", "/sso", &m));
	cr_assert_eq(scopes_of_role(false), SCOPE_READ | SCOPE_VPS);
	cr_assert_eq(scope_bit("billing"), SCOPE_BILLING);
	cr_assert_eq(scope_bit("root"), 0);
	cr_assert_eq(scope_bit(NULL), 0);
}
