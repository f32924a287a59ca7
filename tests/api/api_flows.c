/* api_flows.c — what must work, against a running xvpsd ($XVPS_URL): a customer's whole VPS
 * lifecycle on the embedded default, API keys, a plan change reaching the VPS's scheduler
 * shares, paging, the audit log, /healthz and /metrics. Every test cleans up the VPS it makes;
 * the file-system side of a delete is checked by tests/api/walk.sh. */
#include <arpa/inet.h>
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "client.h"

static api_client admin, cust;
static char plan[32], tpl[32], pool[32], cust_id[32];

static void setup(void)
{
	fx_admin(&admin);
	fx_pool4(&admin, pool);
	fx_plan(&admin, NULL, plan);
	fx_template(&admin, tpl);
	fx_customer(&admin, &cust, cust_id, NULL, NULL);
}

TestSuite(flows, .init = setup, .fini = api_cleanup, .timeout = 120);

/* GET /vps/{id} as c; asserts 200. Free with api_resp_free. */
static api_resp *vps_get(const api_client *c, const char *vps)
{
	char path[96];
	api_resp *r;

	snprintf(path, sizeof(path), V1 "/vps/%s", vps);
	r = api_req(c, "GET", path, NULL);
	cr_assert_eq(r->status, 200, "GET %s: %ld %s", path, r->status, r->body);
	return r;
}

/* POST /vps/{id}/actions/{action}, asserts 202 and waits for the job to be done. */
static void act(const api_client *c, const char *vps, const char *action)
{
	char path[128], job[32];
	api_resp *r;

	snprintf(path, sizeof(path), V1 "/vps/%s/actions/%s", vps, action);
	r = api_req(c, "POST", path, NULL);
	cr_assert_eq(r->status, 202, "POST %s: %ld %s", path, r->status, r->body);
	cr_assert_not_null(jstr(jget(r->json, "job"), "id"), "%s", r->body);
	snprintf(job, sizeof(job), "%s", jstr(jget(r->json, "job"), "id"));
	api_resp_free(r);
	cr_assert(wait_job(c, job, 60), "%s job %s did not finish", action, job);
}

static bool in_pool_198_51_100(const char *addr)
{
	struct in_addr a;
	uint32_t h;

	if (inet_pton(AF_INET, addr, &a) != 1)
		return false;
	h = ntohl(a.s_addr);
	/* Inside 198.51.100.0/24, not network, gateway (.1), reserved (.2) or broadcast. */
	return (h & 0xffffff00u) == 0xc6336400u && (h & 0xff) > 2 && (h & 0xff) < 255;
}

Test(flows, customer_orders_reboots_stops_starts_and_deletes_a_vps)
{
	char u[9], host[64], vps[32], job[32], domain[48], path[96];
	long long alloc0 = pool_allocated(&admin, pool), domid;
	json_object *ipv4;
	api_resp *r;

	uniq(u);
	snprintf(host, sizeof(host), "life-%s.example.net", u);
	r = vps_order(&cust, host, plan, tpl, NULL);
	cr_assert_eq(r->status, 202, "POST /vps: %ld %s", r->status, r->body);
	cr_assert_str_eq(jstr(jget(r->json, "vps"), "hostname"), host);
	cr_assert_str_eq(jstr(jget(r->json, "vps"), "customer"), cust_id);
	cr_assert_str_eq(jstr(jget(r->json, "job"), "kind"), "vps.create");
	snprintf(vps, sizeof(vps), "%s", jstr(jget(r->json, "vps"), "id"));
	snprintf(job, sizeof(job), "%s", jstr(jget(r->json, "job"), "id"));
	api_resp_free(r);
	cr_assert(wait_job(&cust, job, 60), "vps.create did not finish");

	r = vps_get(&cust, vps);
	cr_assert_str_eq(jstr(r->json, "state"), "running", "%s", r->body);
	domid = jint(r->json, "domid");
	cr_assert_geq(domid, 1, "running VPS without a domid: %s", r->body);
	snprintf(domain, sizeof(domain), "xvps-%s", vps);
	cr_assert_str_eq(jstr(r->json, "domain"), domain);
	cr_assert_eq(jint(r->json, "vcpus"), 2);
	cr_assert_eq(jint(r->json, "memory_mib"), 256);
	cr_assert_eq(jint(r->json, "disk_gib"), 2);
	cr_assert(jstr(r->json, "plan_name") &&
	                  strncmp(jstr(r->json, "plan_name"), "plan-", 5) == 0,
	          "plan_name missing or not the plan's: %s", r->body);
	cr_assert_not_null(jget(r->json, "net_mbit"), "no net_mbit: %s", r->body);
	cr_assert(jstr(r->json, "mac") && strncmp(jstr(r->json, "mac"), "00:16:3e:", 9) == 0, "%s",
	          r->body);
	ipv4 = jget(r->json, "ipv4");
	cr_assert(json_object_is_type(ipv4, json_type_array) && json_object_array_length(ipv4) == 1,
	          "expected one IPv4 address: %s", r->body);
	cr_assert(in_pool_198_51_100(json_object_get_string(json_object_array_get_idx(ipv4, 0))),
	          "address outside the pool's usable range: %s", r->body);
	cr_assert(json_object_is_type(jget(r->json, "ipv6"), json_type_array));
	cr_assert_not_null(jstr(r->json, "created_at"));
	api_resp_free(r);
	cr_assert_eq(pool_allocated(&admin, pool), alloc0 + 1);

	act(&cust, vps, "reboot");
	r = vps_get(&cust, vps);
	cr_assert_str_eq(jstr(r->json, "state"), "running", "%s", r->body);
	cr_assert_geq(jint(r->json, "domid"), 1);
	cr_assert_neq(jint(r->json, "domid"), domid, "domid unchanged by a reboot: %s", r->body);
	api_resp_free(r);

	act(&cust, vps, "shutdown");
	r = vps_get(&cust, vps);
	cr_assert_str_eq(jstr(r->json, "state"), "stopped", "%s", r->body);
	cr_assert(jis_null(r->json, "domid"), "a stopped VPS has a domid: %s", r->body);
	api_resp_free(r);

	act(&cust, vps, "start");
	r = vps_get(&cust, vps);
	cr_assert_str_eq(jstr(r->json, "state"), "running", "%s", r->body);
	cr_assert_geq(jint(r->json, "domid"), 1, "%s", r->body);
	api_resp_free(r);

	fx_vps_delete(&cust, vps);
	cr_assert_eq(pool_allocated(&admin, pool), alloc0, "the address was not released");
	snprintf(path, sizeof(path), V1 "/vps?customer=%s", cust_id);
	cr_assert_eq(api_count(&admin, path), 0);
}

Test(flows, admin_orders_for_a_customer_and_sees_it_listed)
{
	char vps[32], path[96];
	api_resp *r;
	bool found = false;

	fx_vps(&admin, plan, tpl, cust_id, vps);
	snprintf(path, sizeof(path), V1 "/vps?customer=%s", cust_id);
	r = api_req(&admin, "GET", path, NULL);
	cr_assert_eq(r->status, 200);
	cr_assert_eq(r->total_count, 1, "%s", r->body);
	for (size_t i = 0; i < json_object_array_length(r->json); i++)
		found = found ||
		        strcmp(jstr(json_object_array_get_idx(r->json, i), "id"), vps) == 0;
	cr_assert(found, "the VPS is not in its customer's list: %s", r->body);
	api_resp_free(r);
	/* The customer sees it as its own. */
	cr_assert_eq(api_count(&cust, V1 "/vps"), 1);
	fx_vps_delete(&admin, vps);
}

Test(flows, api_key_works_as_bearer_without_csrf_and_is_shown_once)
{
	char u[9], key_id[32], token[192], path[96];
	api_client bearer = {0};
	api_resp *r;

	uniq(u);
	r = api_req(&cust, "POST", V1 "/api-keys", "{\"name\":\"key-%s\"}", u);
	cr_assert_eq(r->status, 201, "POST /api-keys: %ld %s", r->status, r->body);
	cr_assert_not_null(jstr(r->json, "id"));
	cr_assert_not_null(jstr(r->json, "token"));
	cr_assert_geq(strlen(jstr(r->json, "token")), 22, "token shorter than 128 bits");
	snprintf(key_id, sizeof(key_id), "%s", jstr(r->json, "id"));
	snprintf(token, sizeof(token), "%s", jstr(r->json, "token"));
	api_resp_free(r);

	snprintf(bearer.bearer, sizeof(bearer.bearer), "%s", token);
	r = api_req(&bearer, "GET", V1 "/me", NULL);
	cr_assert_eq(r->status, 200, "bearer GET /me: %ld %s", r->status, r->body);
	cr_assert(strstr(r->body, "cust") != NULL, "%s", r->body);
	cr_assert_null(jget(r->json, "csrf_token"), "a bearer key has no CSRF token: %s", r->body);
	api_resp_free(r);
	/* A cookie session's /me carries its CSRF token (a second browser tab can act). */
	r = api_req(&cust, "GET", V1 "/me", NULL);
	cr_assert_eq(r->status, 200);
	cr_assert_not_null(jstr(r->json, "csrf_token"), "no csrf_token on a cookie /me: %s",
	                   r->body);
	cr_assert_str_eq(jstr(r->json, "csrf_token"), cust.csrf);
	api_resp_free(r);
	/* An unsafe method with a bearer key needs no CSRF token. */
	r = api_req(&bearer, "POST", V1 "/api-keys", "{\"name\":\"second-%s\"}", u);
	cr_assert_eq(r->status, 201, "bearer POST /api-keys: %ld %s", r->status, r->body);
	snprintf(path, sizeof(path), V1 "/api-keys/%s", jstr(r->json, "id"));
	api_resp_free(r);
	r = api_req(&bearer, "DELETE", path, NULL);
	cr_assert(r->status == 204 || r->status == 200, "bearer DELETE: %ld %s", r->status,
	          r->body);
	api_resp_free(r);
	/* The customer's key gives no admin rights. */
	r = api_req(&bearer, "GET", V1 "/customers", NULL);
	assert_problem(r, 403, NULL);
	api_resp_free(r);

	/* The token is never shown again. */
	r = api_req(&cust, "GET", V1 "/api-keys", NULL);
	cr_assert_eq(r->status, 200);
	cr_assert(strstr(r->body, token) == NULL, "GET /api-keys shows the token");
	cr_assert(strstr(r->body, key_id) != NULL, "GET /api-keys misses the key: %s", r->body);
	api_resp_free(r);

	snprintf(path, sizeof(path), V1 "/api-keys/%s", key_id);
	r = api_req(&cust, "DELETE", path, NULL);
	cr_assert(r->status == 204 || r->status == 200, "DELETE: %ld %s", r->status, r->body);
	api_resp_free(r);
	r = api_req(&bearer, "GET", V1 "/me", NULL);
	assert_problem(r, 401, NULL);
	api_resp_free(r);
}

Test(flows, plan_cpu_weight_change_reaches_the_vps)
{
	char vps[32], path[96];
	struct timespec pause = {0, 200 * 1000 * 1000};
	long long w = -1;
	api_resp *r;

	fx_vps(&cust, plan, tpl, NULL, vps);
	r = vps_get(&cust, vps);
	cr_assert_eq(jint(r->json, "cpu_weight"), 256, "after create: %s", r->body);
	api_resp_free(r);

	snprintf(path, sizeof(path), V1 "/plans/%s", plan);
	r = api_req(&admin, "PATCH", path, "{\"cpu_weight\":512}");
	cr_assert_eq(r->status, 200, "PATCH %s: %ld %s", path, r->status, r->body);
	cr_assert_eq(jint(r->json, "cpu_weight"), 512, "%s", r->body);
	api_resp_free(r);
	/* A vps.update job applies it; the API shows what the hypervisor reports. */
	for (int i = 0; i < 150 && w != 512; i++) {
		r = vps_get(&cust, vps);
		w = jint(r->json, "cpu_weight");
		api_resp_free(r);
		if (w != 512)
			nanosleep(&pause, NULL);
	}
	cr_assert_eq(w, 512, "cpu_weight did not reach the VPS within 30 s");
	fx_vps_delete(&cust, vps);
}

Test(flows, lists_page_with_limit_offset_and_total_count)
{
	char second[32];
	api_resp *r;

	fx_plan(&admin, NULL, second);
	r = api_req(&admin, "GET", V1 "/plans?limit=1&offset=0", NULL);
	cr_assert_eq(r->status, 200);
	cr_assert(json_object_is_type(r->json, json_type_array));
	cr_assert_eq(json_object_array_length(r->json), 1);
	cr_assert_geq(r->total_count, 2);
	api_resp_free(r);
	r = api_req(&admin, "GET", V1 "/plans?limit=1&offset=100000", NULL);
	cr_assert_eq(r->status, 200);
	cr_assert_eq(json_object_array_length(r->json), 0);
	api_resp_free(r);
}

Test(flows, me_shows_the_user_and_role)
{
	api_resp *r = api_req(&cust, "GET", V1 "/me", NULL);
	json_object *u;

	cr_assert_eq(r->status, 200);
	u = jget(r->json, "user") ? jget(r->json, "user") : r->json;
	cr_assert_str_eq(jstr(u, "role"), "customer", "%s", r->body);
	cr_assert_str_eq(jstr(u, "id"), cust_id, "%s", r->body);
	api_resp_free(r);
}

Test(flows, customer_records_never_show_the_password)
{
	char path[96];
	api_resp *r;

	snprintf(path, sizeof(path), V1 "/customers/%s", cust_id);
	r = api_req(&admin, "GET", path, NULL);
	cr_assert_eq(r->status, 200);
	cr_assert_null(jget(r->json, "password"), "%s", r->body);
	cr_assert(strstr(r->body, "argon2") == NULL, "the password hash leaks: %s", r->body);
	api_resp_free(r);
}

/* Looks for an audit entry (action, resource) through every page of GET /audit?resource=. */
static bool audit_has(const char *action, const char *resource, char user_out[64], char ip_out[64])
{
	bool found = false;

	for (long long off = 0; !found; off += 1000) {
		char path[160];
		api_resp *r;
		size_t n;

		snprintf(path, sizeof(path), V1 "/audit?resource=%s&limit=1000&offset=%lld",
		         resource, off);
		r = api_req(&admin, "GET", path, NULL);
		cr_assert_eq(r->status, 200, "GET /audit: %ld %s", r->status, r->body);
		cr_assert(json_object_is_type(r->json, json_type_array));
		n = json_object_array_length(r->json);
		for (size_t i = 0; i < n && !found; i++) {
			json_object *e = json_object_array_get_idx(r->json, i);
			const char *a = jstr(e, "action"), *res = jstr(e, "resource");
			const char *usr =
			        jstr(e, "username") ? jstr(e, "username") : jstr(e, "user");

			if (a && res && strcmp(a, action) == 0 && strcmp(res, resource) == 0) {
				snprintf(user_out, 64, "%s", usr ? usr : "");
				snprintf(ip_out, 64, "%s", jstr(e, "ip") ? jstr(e, "ip") : "");
				found = true;
			}
		}
		api_resp_free(r);
		if (n < 1000)
			break;
	}
	return found;
}

Test(flows, audit_log_records_who_created_a_vps_and_from_where)
{
	char vps[32], res[48], user[64], ip[64];

	fx_vps(&admin, plan, tpl, cust_id, vps);
	snprintf(res, sizeof(res), "vps/%s", vps);
	cr_assert(audit_has("vps.create", res, user, ip), "no vps.create audit entry for %s", res);
	cr_assert_str_eq(user, "admin");
	cr_assert_str_eq(ip, "127.0.0.1");
	fx_vps_delete(&admin, vps);
	cr_assert(audit_has("vps.delete", res, user, ip), "no vps.delete audit entry for %s", res);
}

Test(flows, healthz_answers_200)
{
	api_resp *r = api_req(NULL, "GET", "/healthz", NULL);

	cr_assert_eq(r->status, 200, "%s", r->body);
	api_resp_free(r);
}

Test(flows, metrics_count_http_requests)
{
	api_resp *r = api_req(NULL, "GET", "/metrics", NULL);

	cr_assert_eq(r->status, 200);
	cr_assert(strncmp(r->content_type, "text/plain", 10) == 0, "Content-Type %s",
	          r->content_type);
	cr_assert(strstr(r->body, "xvps_http_requests_total") != NULL, "%s", r->body);
	api_resp_free(r);
}

/* GET path as c with If-None-Match: inm (the ETag of an earlier answer). Either 304 with that
 * same ETag and no body, or 200 with another ETag (something changed since). True for a 304. */
static bool revalidates(const api_client *c, const char *path, const char *inm)
{
	api_client k = *c;
	api_resp *r;
	bool not_modified;

	snprintf(k.if_none_match, sizeof(k.if_none_match), "%s", inm);
	r = api_req(&k, "GET", path, NULL);
	not_modified = r->status == 304;
	if (not_modified) {
		cr_assert_str_eq(r->etag, inm, "a 304 names another ETag");
		cr_assert_eq(r->len, 0, "a 304 with a body: %s", r->body);
	} else {
		cr_assert_eq(r->status, 200, "GET %s: %ld %s", path, r->status, r->body);
		cr_assert_str_neq(r->etag, inm, "a 200 with the ETag the client sent: %s", path);
	}
	api_resp_free(r);
	return not_modified;
}

/* GET path as c: asserts 200 with an ETag and writes it to etag[128]; returns the response. */
static api_resp *get_tagged(const api_client *c, const char *path, char etag[128])
{
	api_resp *r = api_req(c, "GET", path, NULL);

	cr_assert_eq(r->status, 200, "GET %s: %ld %s", path, r->status, r->body);
	cr_assert_neq(r->etag[0], '\0', "GET %s has no ETag", path);
	cr_assert_str_eq(r->cache_control, "private, no-cache", "GET %s", path);
	snprintf(etag, 128, "%s", r->etag);
	return r;
}

/* Other suites write in parallel (and metering sweeps): a 304 must come within a few tries. */
static void assert_304_soon(const api_client *c, const char *path)
{
	char etag[128];
	int i;

	for (i = 0; i < 50; i++) {
		api_resp_free(get_tagged(c, path, etag));
		if (revalidates(c, path, etag))
			return;
	}
	cr_assert_fail("GET %s never answered 304 to its own ETag", path);
}

Test(flows, lists_and_objects_answer_304_until_something_changes)
{
	char vps[32], job_path[96], vps_path[96], etag[128], etag2[128], list[128];
	long long total;
	api_resp *r;

	fx_vps(&admin, plan, tpl, cust_id, vps);
	snprintf(vps_path, sizeof(vps_path), V1 "/vps/%s", vps);
	assert_304_soon(&cust, V1 "/vps");
	assert_304_soon(&cust, V1 "/vps?limit=1000");
	assert_304_soon(&cust, vps_path);
	assert_304_soon(&cust, V1 "/jobs");
	assert_304_soon(&admin, V1 "/vps");
	r = get_tagged(&cust, V1 "/jobs", etag);
	cr_assert_geq(json_object_array_length(r->json), 1, "%s", r->body);
	snprintf(job_path, sizeof(job_path), V1 "/jobs/%s",
	         jstr(json_object_array_get_idx(r->json, 0), "id"));
	api_resp_free(r);
	assert_304_soon(&cust, job_path);

	/* Another user's or another query's ETag never gets a 304. */
	r = get_tagged(&cust, V1 "/vps", list);
	total = r->total_count;
	api_resp_free(r);
	cr_assert_not(revalidates(&admin, V1 "/vps", list));
	cr_assert_not(revalidates(&cust, V1 "/vps?limit=1", list));
	cr_assert_not(revalidates(&cust, vps_path, list));

	/* A change: the old ETags get the new answer, whole. */
	r = get_tagged(&cust, vps_path, etag);
	cr_assert_str_eq(jstr(r->json, "state"), "running", "%s", r->body);
	api_resp_free(r);
	act(&cust, vps, "shutdown");
	cr_assert_not(revalidates(&cust, vps_path, etag));
	cr_assert_not(revalidates(&cust, V1 "/vps", list));
	r = get_tagged(&cust, vps_path, etag2);
	cr_assert_str_eq(jstr(r->json, "state"), "stopped", "a stale VPS: %s", r->body);
	cr_assert_str_neq(etag, etag2);
	api_resp_free(r);
	fx_vps_delete(&cust, vps);
	r = get_tagged(&cust, V1 "/vps", etag);
	cr_assert_eq(r->total_count, total - 1, "a stale list: %s", r->body);
	api_resp_free(r);
	r = api_req(&cust, "GET", vps_path, NULL);
	cr_assert_eq(r->status, 404, "a deleted VPS answered from memory: %ld", r->status);
	api_resp_free(r);
}

/* xvpsd remembers an identified API key until the next commit (panel/auth.c): revoking it is a
 * commit, so the very next request with it is refused, whichever thread answers. */
Test(flows, a_revoked_key_is_refused_at_once_although_remembered)
{
	char u[9], key_id[32], path[96];
	api_client bearer = {0};
	api_resp *r;
	int i;

	uniq(u);
	r = api_req(&cust, "POST", V1 "/api-keys", "{\"name\":\"memo-%s\"}", u);
	cr_assert_eq(r->status, 201, "POST /api-keys: %ld %s", r->status, r->body);
	snprintf(key_id, sizeof(key_id), "%s", jstr(r->json, "id"));
	snprintf(bearer.bearer, sizeof(bearer.bearer), "%s", jstr(r->json, "token"));
	api_resp_free(r);
	for (i = 0; i < 20; i++) {
		r = api_req(&bearer, "GET", V1 "/vps", NULL);
		cr_assert_eq(r->status, 200, "GET /vps with the key: %ld %s", r->status, r->body);
		api_resp_free(r);
	}
	snprintf(path, sizeof(path), V1 "/api-keys/%s", key_id);
	r = api_req(&cust, "DELETE", path, NULL);
	cr_assert(r->status == 204 || r->status == 200, "DELETE: %ld %s", r->status, r->body);
	api_resp_free(r);
	for (i = 0; i < 20; i++) {
		r = api_req(&bearer, "GET", V1 "/vps", NULL);
		assert_problem(r, 401, NULL);
		api_resp_free(r);
	}
}

/* GET /jobs/{id}?wait=N: a long poll. Right after the order the job is queued or running; the
 * one GET with wait answers only once it is finished (or after N s, far beyond a sim create). */
Test(flows, a_job_long_poll_answers_once_the_job_is_finished)
{
	char u[9], host[64], job[32], path[128];
	api_resp *r;

	uniq(u);
	snprintf(host, sizeof(host), "poll-%s.example.net", u);
	r = vps_order(&cust, host, plan, tpl, NULL);
	cr_assert_eq(r->status, 202, "POST /vps: %ld %s", r->status, r->body);
	snprintf(job, sizeof(job), "%s", jstr(jget(r->json, "job"), "id"));
	api_resp_free(r);

	snprintf(path, sizeof(path), V1 "/jobs/%s?wait=60", job);
	r = api_req(&cust, "GET", path, NULL);
	cr_assert_eq(r->status, 200, "%ld %s", r->status, r->body);
	cr_assert_str_eq(jstr(r->json, "state"), "done", "answered before the end: %s", r->body);
	cr_assert_not_null(jget(r->json, "finished_at"), "%s", r->body);
	api_resp_free(r);
	/* A finished job answers at once, whatever the wait. */
	r = api_req(&cust, "GET", path, NULL);
	cr_assert_eq(r->status, 200, "%ld %s", r->status, r->body);
	cr_assert_str_eq(jstr(r->json, "state"), "done");
	api_resp_free(r);

	const char *bad[] = {"61", "-1", "x", "1.5", ""};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		snprintf(path, sizeof(path), V1 "/jobs/%s?wait=%s", job, bad[i]);
		r = api_req(&cust, "GET", path, NULL);
		cr_assert_eq(r->status, 422, "wait=%s: %ld %s", bad[i], r->status, r->body);
		cr_assert_str_eq(jstr(r->json, "field"), "wait", "%s", r->body);
		api_resp_free(r);
	}
	/* Another customer's job stays a 404, waiting or not. */
	snprintf(path, sizeof(path), V1 "/jobs/%s?wait=5", job);
	r = api_req(&admin, "GET", path, NULL);
	cr_assert_eq(r->status, 200, "the admin sees it: %ld", r->status);
	api_resp_free(r);
}
