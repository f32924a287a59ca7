/* client.c — the API suite's HTTP client and fixtures (see client.h). Requests go only to
 * $XVPS_URL; every fixture names what it creates with a random suffix so that runs never
 * collide. Frees everything it allocates: the suite runs under LeakSanitizer. */
#include "client.h"

#include <criterion/criterion.h>
#include <curl/curl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/random.h>
#include <time.h>

static CURL *g_curl; /* one handle per test process: keeps the connection alive */
/* Responses not yet freed: a failed assertion skips the test's frees, api_cleanup() does them. */
static api_resp *g_live;

static void curl_done(void)
{
	if (g_curl)
		curl_easy_cleanup(g_curl);
	g_curl = NULL;
	curl_global_cleanup();
}

static CURL *handle(void)
{
	if (!g_curl) {
		cr_assert_eq(curl_global_init(CURL_GLOBAL_DEFAULT), CURLE_OK);
		g_curl = curl_easy_init();
		cr_assert_not_null(g_curl);
		atexit(curl_done);
	} else {
		curl_easy_reset(g_curl);
	}
	return g_curl;
}

const char *api_base(void)
{
	const char *u = getenv("XVPS_URL");

	return u && *u ? u : "http://127.0.0.1:8080";
}

static size_t on_body(char *p, size_t size, size_t n, void *ud)
{
	api_resp *r = ud;
	size_t add = size * n;
	char *nb = realloc(r->body, r->len + add + 1);

	if (!nb)
		return 0;
	memcpy(nb + r->len, p, add);
	r->body = nb;
	r->len += add;
	r->body[r->len] = '\0';
	return add;
}

/* Copies the header value after "Name:" (trimmed) into out when line is that header. */
static bool header_value(const char *line, size_t len, const char *name, char *out, size_t outlen)
{
	size_t nl = strlen(name), v, e;

	if (len <= nl || strncasecmp(line, name, nl) != 0 || line[nl] != ':')
		return false;
	v = nl + 1;
	while (v < len && (line[v] == ' ' || line[v] == '\t'))
		v++;
	e = len;
	while (e > v && (line[e - 1] == '\r' || line[e - 1] == '\n' || line[e - 1] == ' '))
		e--;
	snprintf(out, outlen, "%.*s", (int)(e - v), line + v);
	return true;
}

static size_t on_header(char *p, size_t size, size_t n, void *ud)
{
	api_resp *r = ud;
	size_t len = size * n;
	char v[512];

	if (header_value(p, len, "Content-Type", v, sizeof(v))) {
		snprintf(r->content_type, sizeof(r->content_type), "%.127s", v);
	} else if (header_value(p, len, "X-Total-Count", v, sizeof(v))) {
		r->total_count = strtoll(v, NULL, 10);
	} else if (header_value(p, len, "ETag", v, sizeof(v))) {
		snprintf(r->etag, sizeof(r->etag), "%.127s", v);
	} else if (header_value(p, len, "Cache-Control", v, sizeof(v))) {
		snprintf(r->cache_control, sizeof(r->cache_control), "%.127s", v);
	} else if (header_value(p, len, "Set-Cookie", v, sizeof(v)) &&
	           strncmp(v, "xvps_session=", 13) == 0) {
		size_t l = strcspn(v + 13, ";");

		snprintf(r->session_cookie, sizeof(r->session_cookie), "%.*s", (int)l, v + 13);
	}
	return len;
}

static bool unsafe(const char *method)
{
	return strcmp(method, "GET") != 0 && strcmp(method, "HEAD") != 0 &&
	       strcmp(method, "OPTIONS") != 0;
}

api_resp *api_raw(const api_client *c, const char *method, const char *path,
                  const char *content_type, const char *body, size_t body_len)
{
	api_resp *r = calloc(1, sizeof(*r));
	struct curl_slist *h = NULL;
	char url[1024], line[512];
	CURL *cu = handle();
	CURLcode rc;

	cr_assert_not_null(r);
	r->next = g_live;
	if (g_live)
		g_live->prev = r;
	g_live = r;
	r->total_count = -1;
	r->body = calloc(1, 1);
	cr_assert_not_null(r->body);
	snprintf(url, sizeof(url), "%s%s", api_base(), path);
	curl_easy_setopt(cu, CURLOPT_URL, url);
	curl_easy_setopt(cu, CURLOPT_CUSTOMREQUEST, method);
	curl_easy_setopt(cu, CURLOPT_WRITEFUNCTION, on_body);
	curl_easy_setopt(cu, CURLOPT_WRITEDATA, r);
	curl_easy_setopt(cu, CURLOPT_HEADERFUNCTION, on_header);
	curl_easy_setopt(cu, CURLOPT_HEADERDATA, r);
	curl_easy_setopt(cu, CURLOPT_TIMEOUT, 30L);
	curl_easy_setopt(cu, CURLOPT_NOSIGNAL, 1L);
	if (strcmp(method, "HEAD") == 0)
		curl_easy_setopt(cu, CURLOPT_NOBODY, 1L);
	if (body) {
		curl_easy_setopt(cu, CURLOPT_POSTFIELDS, body);
		curl_easy_setopt(cu, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)body_len);
	}
	/* libcurl adds a form Content-Type to bodies unless told otherwise. */
	if (content_type) {
		snprintf(line, sizeof(line), "Content-Type: %s", content_type);
		h = curl_slist_append(h, line);
	} else {
		h = curl_slist_append(h, "Content-Type:");
	}
	h = curl_slist_append(h, "Expect:");
	if (c && c->session[0]) {
		snprintf(line, sizeof(line), "Cookie: xvps_session=%s", c->session);
		h = curl_slist_append(h, line);
	}
	if (c && c->bearer[0]) {
		snprintf(line, sizeof(line), "Authorization: Bearer %s", c->bearer);
		h = curl_slist_append(h, line);
	}
	if (c && c->if_none_match[0]) {
		snprintf(line, sizeof(line), "If-None-Match: %s", c->if_none_match);
		h = curl_slist_append(h, line);
	}
	if (c && c->csrf[0] && unsafe(method)) {
		snprintf(line, sizeof(line), "X-CSRF-Token: %s", c->csrf);
		h = curl_slist_append(h, line);
	}
	curl_easy_setopt(cu, CURLOPT_HTTPHEADER, h);
	rc = curl_easy_perform(cu);
	curl_slist_free_all(h);
	if (rc == CURLE_OK)
		curl_easy_getinfo(cu, CURLINFO_RESPONSE_CODE, &r->status);
	else
		cr_log_warn("%s %s: %s", method, path, curl_easy_strerror(rc));
	if (r->len)
		r->json = json_tokener_parse(r->body);
	return r;
}

api_resp *api_req(const api_client *c, const char *method, const char *path, const char *fmt, ...)
{
	char *body = NULL;
	api_resp *r;
	va_list ap;
	int n;

	if (!fmt)
		return api_raw(c, method, path, NULL, NULL, 0);
	va_start(ap, fmt);
	n = vasprintf(&body, fmt, ap);
	va_end(ap);
	cr_assert_geq(n, 0);
	r = api_raw(c, method, path, "application/json", body, (size_t)n);
	free(body);
	return r;
}

void api_resp_free(api_resp *r)
{
	if (!r)
		return;
	if (r->prev)
		r->prev->next = r->next;
	else if (g_live == r)
		g_live = r->next;
	if (r->next)
		r->next->prev = r->prev;
	json_object_put(r->json);
	free(r->body);
	free(r);
}

bool jis_null(json_object *o, const char *key)
{
	json_object *v = NULL;

	return o && json_object_is_type(o, json_type_object) &&
	       json_object_object_get_ex(o, key, &v) && v == NULL;
}

void api_cleanup(void)
{
	while (g_live)
		api_resp_free(g_live);
}

json_object *jget(json_object *o, const char *key)
{
	json_object *v = NULL;

	if (!o || !json_object_is_type(o, json_type_object) ||
	    !json_object_object_get_ex(o, key, &v))
		return NULL;
	return v;
}

const char *jstr(json_object *o, const char *key)
{
	json_object *v = jget(o, key);

	return v && json_object_is_type(v, json_type_string) ? json_object_get_string(v) : NULL;
}

long long jint(json_object *o, const char *key)
{
	json_object *v = jget(o, key);

	return v && json_object_is_type(v, json_type_int) ? (long long)json_object_get_int64(v)
	                                                  : -1;
}

void assert_problem(const api_resp *r, long status, const char *field)
{
	cr_assert_eq(r->status, status, "expected status %ld, got %ld: %s", status, r->status,
	             r->body);
	cr_assert(strncmp(r->content_type, "application/problem+json", 24) == 0,
	          "status %ld: Content-Type is \"%s\", not application/problem+json", status,
	          r->content_type);
	cr_assert_not_null(r->json, "problem body is not JSON: %s", r->body);
	cr_assert_not_null(jstr(r->json, "type"), "problem without \"type\": %s", r->body);
	cr_assert_not_null(jstr(r->json, "title"), "problem without \"title\": %s", r->body);
	cr_assert_not_null(jstr(r->json, "detail"), "problem without \"detail\": %s", r->body);
	cr_assert_eq(jint(r->json, "status"), status, "problem \"status\" is not %ld: %s", status,
	             r->body);
	if (field) {
		const char *f = jstr(r->json, "field");

		cr_assert(f && strcmp(f, field) == 0, "expected field \"%s\": %s", field, r->body);
	}
}

void uniq(char out[9])
{
	unsigned char b[4];

	cr_assert_eq(getrandom(b, sizeof(b), 0), (ssize_t)sizeof(b));
	snprintf(out, 9, "%02x%02x%02x%02x", b[0], b[1], b[2], b[3]);
}

long api_login(api_client *c, const char *username, const char *password)
{
	api_resp *r = api_req(NULL, "POST", V1 "/session",
	                      "{\"username\":\"%s\",\"password\":\"%s\"}", username, password);
	long status = r->status;

	if (status == 201) {
		const char *csrf = jstr(r->json, "csrf_token");

		cr_assert_not_null(csrf, "login answer without csrf_token: %s", r->body);
		cr_assert(r->session_cookie[0], "login answer without xvps_session cookie");
		memset(c, 0, sizeof(*c));
		snprintf(c->session, sizeof(c->session), "%s", r->session_cookie);
		snprintf(c->csrf, sizeof(c->csrf), "%s", csrf);
	}
	api_resp_free(r);
	return status;
}

void fx_admin(api_client *c)
{
	const char *pw = getenv("XVPS_ADMIN_PASSWORD");

	cr_assert(pw && *pw, "set XVPS_ADMIN_PASSWORD to the admin's password");
	cr_assert_eq(api_login(c, "admin", pw), 201, "admin login failed");
}

static void copy_id(const api_resp *r, char id_out[32])
{
	const char *id = jstr(r->json, "id");

	cr_assert_not_null(id, "answer without a string \"id\": %s", r->body);
	snprintf(id_out, 32, "%s", id);
}

void fx_plan(const api_client *a, const char *extra_json, char id_out[32])
{
	char u[9];
	api_resp *r;

	uniq(u);
	r = api_req(a, "POST", V1 "/plans",
	            "{\"name\":\"plan-%s\",\"vcpus\":2,\"memory_mib\":256,\"disk_gib\":2,"
	            "\"traffic_gib\":0,\"net_mbit\":0,\"price_month_cents\":500%s%s}",
	            u, extra_json ? "," : "", extra_json ? extra_json : "");
	cr_assert_eq(r->status, 201, "POST /plans: %ld %s", r->status, r->body);
	copy_id(r, id_out);
	api_resp_free(r);
}

void fx_plan_fields(const api_client *a, const char *fields, char id_out[32])
{
	char u[9];
	api_resp *r;

	uniq(u);
	r = api_req(a, "POST", V1 "/plans", "{\"name\":\"plan-%s\",%s}", u, fields);
	cr_assert_eq(r->status, 201, "POST /plans: %ld %s", r->status, r->body);
	copy_id(r, id_out);
	api_resp_free(r);
}

void fx_template(const api_client *a, char id_out[32])
{
	char u[9];
	api_resp *r;

	uniq(u);
	r = api_req(
	        a, "POST", V1 "/templates",
	        "{\"name\":\"tpl-test-%s\",\"os\":\"debian-12\",\"disk_gib\":1,\"boot\":\"pvh\"}",
	        u);
	cr_assert_eq(r->status, 201, "POST /templates: %ld %s", r->status, r->body);
	copy_id(r, id_out);
	api_resp_free(r);
}

void fx_customer(const api_client *a, api_client *cust, char id_out[32], char username_out[32],
                 char password_out[40])
{
	char u[9], user[32], pw[40];
	api_resp *r;

	uniq(u);
	snprintf(user, sizeof(user), "cust%s", u);
	snprintf(pw, sizeof(pw), "pw-%s-correct-horse", u);
	r = api_req(a, "POST", V1 "/customers",
	            "{\"username\":\"%s\",\"email\":\"%s@example.com\",\"password\":\"%s\"}", user,
	            user, pw);
	cr_assert_eq(r->status, 201, "POST /customers: %ld %s", r->status, r->body);
	copy_id(r, id_out);
	api_resp_free(r);
	if (username_out)
		snprintf(username_out, 32, "%s", user);
	if (password_out)
		snprintf(password_out, 40, "%s", pw);
	if (cust)
		cr_assert_eq(api_login(cust, user, pw), 201, "customer login failed");
}

/* Finds the pool with this cidr in GET /ip-pools. */
static bool find_pool(const api_client *a, const char *cidr, char id_out[32])
{
	api_resp *r = api_req(a, "GET", V1 "/ip-pools?limit=1000", NULL);
	bool found = false;

	cr_assert_eq(r->status, 200, "GET /ip-pools: %ld %s", r->status, r->body);
	cr_assert(json_object_is_type(r->json, json_type_array), "GET /ip-pools: not an array");
	for (size_t i = 0; i < json_object_array_length(r->json) && !found; i++) {
		json_object *p = json_object_array_get_idx(r->json, i);
		const char *c = jstr(p, "cidr");

		if (c && strcmp(c, cidr) == 0) {
			copy_id(&(api_resp){.json = p, .body = r->body}, id_out);
			found = true;
		}
	}
	api_resp_free(r);
	return found;
}

void fx_pool4(const api_client *a, char id_out[32])
{
	const char *cidr = "198.51.100.0/24";
	bool created;
	api_resp *r;

	if (find_pool(a, cidr, id_out))
		return;
	r = api_req(a, "POST", V1 "/ip-pools",
	            "{\"family\":4,\"cidr\":\"%s\",\"gateway\":\"198.51.100.1\","
	            "\"reserved\":[\"198.51.100.2\"]}",
	            cidr);
	/* 409: another test process made it first. */
	cr_assert(r->status == 201 || r->status == 409, "POST /ip-pools: %ld %s", r->status,
	          r->body);
	created = r->status == 201;
	if (created)
		copy_id(r, id_out);
	api_resp_free(r);
	if (!created)
		cr_assert(find_pool(a, cidr, id_out), "pool %s vanished", cidr);
}

api_resp *vps_order(const api_client *c, const char *hostname, const char *plan, const char *tpl,
                    const char *customer_id)
{
	json_object *o = json_object_new_object();
	const char *text;
	api_resp *r;

	/* json-c escapes the hostname: bad-input tests send quotes and newlines. */
	json_object_object_add(o, "hostname", json_object_new_string(hostname));
	json_object_object_add(o, "plan", json_object_new_string(plan));
	json_object_object_add(o, "template", json_object_new_string(tpl));
	if (customer_id)
		json_object_object_add(o, "customer", json_object_new_string(customer_id));
	text = json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN);
	r = api_raw(c, "POST", V1 "/vps", "application/json", text, strlen(text));
	json_object_put(o);
	return r;
}

bool wait_job(const api_client *c, const char *job_id, int timeout_s)
{
	struct timespec t0, now, pause = {0, 100 * 1000 * 1000};
	char path[128];

	/* A long poll: each GET answers once the job is finished, or after 10 s. */
	snprintf(path, sizeof(path), V1 "/jobs/%s?wait=10", job_id);
	clock_gettime(CLOCK_MONOTONIC, &t0);
	for (;;) {
		api_resp *r = api_req(c, "GET", path, NULL);
		const char *st;
		bool done, failed;

		cr_assert_eq(r->status, 200, "GET %s: %ld %s", path, r->status, r->body);
		st = jstr(r->json, "state");
		cr_assert_not_null(st, "job without state: %s", r->body);
		done = strcmp(st, "done") == 0;
		failed = strcmp(st, "failed") == 0;
		if (failed)
			cr_log_error("job %s failed: %s", job_id, r->body);
		api_resp_free(r);
		if (done || failed)
			return done;
		clock_gettime(CLOCK_MONOTONIC, &now);
		if (now.tv_sec - t0.tv_sec > timeout_s) {
			cr_log_error("job %s still not finished after %d s", job_id, timeout_s);
			return false;
		}
		nanosleep(&pause, NULL);
	}
}

void fx_vps(const api_client *c, const char *plan, const char *tpl, const char *customer_id,
            char id_out[32])
{
	char u[9], host[64], job[32], path[96];
	api_resp *r;

	uniq(u);
	snprintf(host, sizeof(host), "vm-%s.example.net", u);
	r = vps_order(c, host, plan, tpl, customer_id);
	cr_assert_eq(r->status, 202, "POST /vps: %ld %s", r->status, r->body);
	copy_id(&(api_resp){.json = jget(r->json, "vps"), .body = r->body}, id_out);
	copy_id(&(api_resp){.json = jget(r->json, "job"), .body = r->body}, job);
	api_resp_free(r);
	cr_assert(wait_job(c, job, 60), "vps.create job %s did not finish", job);
	snprintf(path, sizeof(path), V1 "/vps/%s", id_out);
	r = api_req(c, "GET", path, NULL);
	cr_assert_eq(r->status, 200);
	cr_assert_str_eq(jstr(r->json, "state"), "running", "%s", r->body);
	api_resp_free(r);
}

void fx_vps_delete(const api_client *c, const char *vps_id)
{
	char path[96], job[32];
	api_resp *r;

	snprintf(path, sizeof(path), V1 "/vps/%s", vps_id);
	r = api_req(c, "DELETE", path, NULL);
	cr_assert_eq(r->status, 202, "DELETE %s: %ld %s", path, r->status, r->body);
	copy_id(&(api_resp){.json = jget(r->json, "job"), .body = r->body}, job);
	api_resp_free(r);
	cr_assert(wait_job(c, job, 60), "vps.delete job %s did not finish", job);
	r = api_req(c, "GET", path, NULL);
	cr_assert_eq(r->status, 404, "GET %s after delete: %ld %s", path, r->status, r->body);
	api_resp_free(r);
}

long long api_count(const api_client *c, const char *path)
{
	api_resp *r = api_req(c, "GET", path, NULL);
	long long n = r->total_count;

	cr_assert_eq(r->status, 200, "GET %s: %ld %s", path, r->status, r->body);
	cr_assert_geq(n, 0, "GET %s: no X-Total-Count header", path);
	api_resp_free(r);
	return n;
}

long long pool_allocated(const api_client *a, const char *pool_id)
{
	char path[96];
	api_resp *r;
	long long n;

	snprintf(path, sizeof(path), V1 "/ip-pools/%s", pool_id);
	r = api_req(a, "GET", path, NULL);
	cr_assert_eq(r->status, 200, "GET %s: %ld %s", path, r->status, r->body);
	n = jint(r->json, "allocated");
	cr_assert_geq(n, 0, "pool without \"allocated\": %s", r->body);
	api_resp_free(r);
	return n;
}

api_resp *vps_get_ok(const api_client *c, const char *vps)
{
	char path[96];
	api_resp *r;

	snprintf(path, sizeof(path), V1 "/vps/%s", vps);
	r = api_req(c, "GET", path, NULL);
	cr_assert_eq(r->status, 200, "GET %s: %ld %s", path, r->status, r->body);
	return r;
}

void vps_action_done(const api_client *c, const char *vps, const char *act, const char *body)
{
	char path[128], job[32];
	api_resp *r;

	snprintf(path, sizeof(path), V1 "/vps/%s/actions/%s", vps, act);
	r = api_req(c, "POST", path, body ? "%s" : NULL, body);
	cr_assert_eq(r->status, 202, "%ld %s", r->status, r->body);
	snprintf(job, sizeof(job), "%s", jstr(jget(r->json, "job"), "id"));
	api_resp_free(r);
	cr_assert(wait_job(c, job, 60), "job %s did not finish", job);
}

int vps_audit_count(const api_client *c, const char *action, const char *vps, const char *detail)
{
	char path[160];
	api_resp *r;
	int n = 0;

	snprintf(path, sizeof(path), V1 "/audit?resource=vps/%s&limit=1000", vps);
	r = api_req(c, "GET", path, NULL);
	cr_assert_eq(r->status, 200, "GET /audit: %ld %s", r->status, r->body);
	for (size_t i = 0; i < json_object_array_length(r->json); i++) {
		json_object *e = json_object_array_get_idx(r->json, i);
		const char *a = jstr(e, "action"), *d = jstr(e, "detail");

		n += a && strcmp(a, action) == 0 && (!detail || (d && strstr(d, detail)));
	}
	api_resp_free(r);
	return n;
}
