/* api_order.c — customers order for themselves within the limits an admin sets (issue 16 item
 * 8) against a running xvpsd ($XVPS_URL): the plans offered to a customer (GET /plans, /plans/{id}
 * filtered, with prices), GET/PATCH /customers/{id}/limits and their bad input, an order and a
 * resize refused with the limit named (403 "plans", 409 for a total) leaving nothing behind (no
 * VPS row, job or address) and audited, a deleted VPS making room again, two concurrent orders
 * that cannot both pass a limit, and the billing module's create and change package held to the
 * same limits. Every test deletes the VPS it makes. */
#include <criterion/criterion.h>
#include <curl/curl.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>

#include "client.h"

static api_client admin;
static char small[32], big[32], tpl[32], pool[32];

static void setup(void)
{
	fx_admin(&admin);
	fx_pool4(&admin, pool);
	fx_plan_fields(&admin,
	               "\"vcpus\":1,\"memory_mib\":256,\"disk_gib\":2,\"price_month_cents\":500",
	               small);
	fx_plan_fields(&admin,
	               "\"vcpus\":2,\"memory_mib\":1024,\"disk_gib\":4,\"price_month_cents\":1500,"
	               "\"ipv4_month_cents\":200",
	               big);
	fx_template(&admin, tpl);
}

TestSuite(order, .init = setup, .fini = api_cleanup, .timeout = 240);

/* PATCH /customers/{cust}/limits as admin with body; asserts 200. */
static void set_limits(const char *cust, const char *body)
{
	char path[96];
	api_resp *r;

	snprintf(path, sizeof(path), V1 "/customers/%s/limits", cust);
	r = api_req(&admin, "PATCH", path, "%s", body);
	cr_assert_eq(r->status, 200, "PATCH %s %s: %ld %s", path, body, r->status, r->body);
	api_resp_free(r);
}

/* Asserts r is the problem of a refused limit: status, "limit", and for totals "allowed" and
 * "requested" (-1: not checked). */
static void assert_limit(const api_resp *r, long status, const char *limit, long long allowed,
                         long long requested)
{
	assert_problem(r, status, NULL);
	cr_assert_str_eq(jstr(r->json, "limit"), limit, "%s", r->body);
	cr_assert(strstr(jstr(r->json, "detail"), limit), "detail names the limit: %s", r->body);
	if (allowed >= 0)
		cr_assert_eq(jint(r->json, "allowed"), allowed, "%s", r->body);
	if (requested >= 0)
		cr_assert_eq(jint(r->json, "requested"), requested, "%s", r->body);
}

static int audit_count(const char *resource, const char *action, const char *part)
{
	char path[160];
	api_resp *r;
	int n = 0;

	snprintf(path, sizeof(path), V1 "/audit?resource=%s&limit=1000", resource);
	r = api_req(&admin, "GET", path, NULL);
	cr_assert_eq(r->status, 200, "GET /audit: %ld %s", r->status, r->body);
	for (size_t i = 0; i < json_object_array_length(r->json); i++) {
		json_object *e = json_object_array_get_idx(r->json, i);
		const char *d = jstr(e, "detail");

		if (strcmp(jstr(e, "action"), action) == 0 && (!part || (d && strstr(d, part))))
			n++;
	}
	api_resp_free(r);
	return n;
}

/* What must not move when an order is refused. */
typedef struct snap {
	long long vps, jobs, allocated;
} snap;

static snap take(const char *cust)
{
	char path[96];

	snprintf(path, sizeof(path), V1 "/vps?customer=%s", cust);
	return (snap){api_count(&admin, path), api_count(&admin, V1 "/jobs"),
	              pool_allocated(&admin, pool)};
}

static void assert_same(const snap *a, const snap *b)
{
	cr_assert_eq(a->vps, b->vps, "a refused order left a VPS row");
	cr_assert_eq(a->jobs, b->jobs, "a refused order queued a job");
	cr_assert_eq(a->allocated, b->allocated, "a refused order kept an address");
}

Test(order, customers_see_the_plans_offered_to_them_with_prices)
{
	api_client cust;
	char cid[32], path[96];
	api_resp *r;
	long long all = api_count(&admin, V1 "/plans?limit=1000");

	fx_customer(&admin, &cust, cid, NULL, NULL);
	/* No limits: every plan, as the admin sees them. */
	cr_assert_eq(api_count(&cust, V1 "/plans?limit=1000"), all);
	r = api_req(&cust, "GET", V1 "/templates", NULL);
	cr_assert_eq(r->status, 200, "%ld %s", r->status, r->body);
	api_resp_free(r);

	char body[96];
	snprintf(body, sizeof(body), "{\"plans\":[\"%s\"]}", big);
	set_limits(cid, body);
	r = api_req(&cust, "GET", V1 "/plans?limit=1000", NULL);
	cr_assert_eq(r->status, 200, "%ld %s", r->status, r->body);
	cr_assert_eq(r->total_count, 1);
	cr_assert_eq(json_object_array_length(r->json), 1);
	json_object *p = json_object_array_get_idx(r->json, 0);
	cr_assert_str_eq(jstr(p, "id"), big);
	cr_assert_eq(jint(p, "price_month_cents"), 1500);
	cr_assert_eq(jint(p, "ipv4_month_cents"), 200);
	long long hour = jint(p, "effective_price_hour_microcents");
	cr_assert_gt(hour, 0, "%s", r->body);
	api_resp_free(r);
	snprintf(path, sizeof(path), V1 "/plans/%s", big);
	r = api_req(&cust, "GET", path, NULL);
	cr_assert_eq(r->status, 200, "%ld %s", r->status, r->body);
	cr_assert_eq(jint(r->json, "effective_price_hour_microcents"), hour);
	api_resp_free(r);
	snprintf(path, sizeof(path), V1 "/plans/%s", small);
	r = api_req(&cust, "GET", path, NULL);
	assert_problem(r, 404, NULL);
	api_resp_free(r);
	/* The admin still sees every plan, and may still read the customer's. */
	cr_assert_eq(api_count(&admin, V1 "/plans?limit=1000"), all);
	r = api_req(&admin, "GET", path, NULL);
	cr_assert_eq(r->status, 200);
	api_resp_free(r);
	/* Changing plans stays an admin's: 403. */
	r = api_req(&cust, "PATCH", path, "{\"cpu_weight\":999}");
	assert_problem(r, 403, NULL);
	api_resp_free(r);

	set_limits(cid, "{\"plans\":null}");
	cr_assert_eq(api_count(&cust, V1 "/plans?limit=1000"), all);
}

Test(order, limits_are_read_by_their_customer_and_set_by_an_admin)
{
	api_client cust, other;
	char cid[32], oid[32], path[96], opath[96], body[256];
	api_resp *r;

	fx_customer(&admin, &cust, cid, NULL, NULL);
	fx_customer(&admin, &other, oid, NULL, NULL);
	snprintf(path, sizeof(path), V1 "/customers/%s/limits", cid);
	snprintf(opath, sizeof(opath), V1 "/customers/%s/limits", oid);
	r = api_req(&cust, "GET", path, NULL);
	cr_assert_eq(r->status, 200, "%ld %s", r->status, r->body);
	cr_assert_str_eq(jstr(r->json, "customer"), cid);
	cr_assert(jis_null(r->json, "max_vps") && jis_null(r->json, "max_vcpus") &&
	                  jis_null(r->json, "max_memory_mib") &&
	                  jis_null(r->json, "max_disk_gib") && jis_null(r->json, "plans"),
	          "no limits at first: %s", r->body);
	cr_assert_eq(jint(jget(r->json, "used"), "vps"), 0);
	api_resp_free(r);
	/* Another customer's: 404 (never 403); setting one's own: 403. */
	r = api_req(&cust, "GET", opath, NULL);
	assert_problem(r, 404, NULL);
	api_resp_free(r);
	r = api_req(&cust, "PATCH", path, "{\"max_vps\":100}");
	assert_problem(r, 403, NULL);
	api_resp_free(r);

	snprintf(body, sizeof(body),
	         "{\"max_vps\":3,\"max_vcpus\":4,\"max_memory_mib\":2048,\"max_disk_gib\":20,"
	         "\"plans\":[\"%s\",\"%s\"]}",
	         small, big);
	r = api_req(&admin, "PATCH", path, "%s", body);
	cr_assert_eq(r->status, 200, "%ld %s", r->status, r->body);
	cr_assert_eq(jint(r->json, "max_vps"), 3);
	cr_assert_eq(jint(r->json, "max_vcpus"), 4);
	cr_assert_eq(jint(r->json, "max_memory_mib"), 2048);
	cr_assert_eq(jint(r->json, "max_disk_gib"), 20);
	cr_assert_eq(json_object_array_length(jget(r->json, "plans")), 2);
	api_resp_free(r);
	/* Only what is sent changes; null lifts a limit. */
	set_limits(cid, "{\"max_vcpus\":null}");
	r = api_req(&cust, "GET", path, NULL);
	cr_assert(jis_null(r->json, "max_vcpus"), "%s", r->body);
	cr_assert_eq(jint(r->json, "max_vps"), 3);
	cr_assert_eq(json_object_array_length(jget(r->json, "plans")), 2);
	api_resp_free(r);
	char res[64];
	snprintf(res, sizeof(res), "customer/%s", cid);
	cr_assert_eq(audit_count(res, "customer.limits", NULL), 2);

	const char *bad[][2] = {
	        {"{\"max_vps\":-1}", "max_vps"},
	        {"{\"max_vcpus\":\"4\"}", "max_vcpus"},
	        {"{\"max_memory_mib\":1.5}", "max_memory_mib"},
	        {"{\"max_disk_gib\":1000000001}", "max_disk_gib"},
	        {"{\"plans\":[\"999999999\"]}", "plans"},
	        {"{\"plans\":[\"x\"]}", "plans"},
	        {"{\"plans\":\"all\"}", "plans"},
	        {"{\"max_servers\":1}", "max_servers"},
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		r = api_req(&admin, "PATCH", path, "%s", bad[i][0]);
		assert_problem(r, 422, bad[i][1]);
		api_resp_free(r);
	}
	snprintf(body, sizeof(body), "{\"plans\":[\"%s\",\"%s\"]}", small, small);
	r = api_req(&admin, "PATCH", path, "%s", body);
	assert_problem(r, 422, "plans");
	api_resp_free(r);
	/* Nothing of the refused bodies stuck. */
	r = api_req(&admin, "GET", path, NULL);
	cr_assert_eq(jint(r->json, "max_vps"), 3, "%s", r->body);
	cr_assert_eq(jint(r->json, "max_memory_mib"), 2048, "%s", r->body);
	api_resp_free(r);
	r = api_req(&admin, "PATCH", V1 "/customers/999999999/limits", "{\"max_vps\":1}");
	assert_problem(r, 404, NULL);
	api_resp_free(r);
}

Test(order, an_order_over_a_limit_is_refused_naming_it_and_leaves_nothing)
{
	api_client cust;
	char cid[32], vps[32], body[96], res[64], u[9], host[64];
	api_resp *r;
	snap before;

	fx_customer(&admin, &cust, cid, NULL, NULL);
	snprintf(res, sizeof(res), "customer/%s", cid);
	set_limits(cid, "{\"max_vps\":1}");
	fx_vps(&cust, small, tpl, NULL, vps);

	/* A second VPS: 409, limit vps, allowed 1, requested 2. */
	before = take(cid);
	uniq(u);
	snprintf(host, sizeof(host), "lim-%s.example.net", u);
	r = vps_order(&cust, host, small, tpl, NULL);
	assert_limit(r, 409, "vps", 1, 2);
	cr_assert_eq(jint(r->json, "used"), 1, "%s", r->body);
	api_resp_free(r);
	snap after = take(cid);
	assert_same(&before, &after);
	cr_assert_eq(audit_count(res, "vps.create.refused", "limit vps"), 1);
	/* An admin ordering for the customer is held to the same limits. */
	r = vps_order(&admin, host, small, tpl, cid);
	assert_limit(r, 409, "vps", 1, 2);
	api_resp_free(r);

	/* vCPUs: 1 held, big adds 2, 2 allowed. */
	set_limits(cid, "{\"max_vps\":null,\"max_vcpus\":2}");
	r = vps_order(&cust, host, big, tpl, NULL);
	assert_limit(r, 409, "vcpus", 2, 3);
	api_resp_free(r);
	/* Memory and disk, named the same way. */
	set_limits(cid, "{\"max_vcpus\":null,\"max_memory_mib\":1000}");
	r = vps_order(&cust, host, big, tpl, NULL);
	assert_limit(r, 409, "memory_mib", 1000, 256 + 1024);
	api_resp_free(r);
	set_limits(cid, "{\"max_memory_mib\":null,\"max_disk_gib\":5}");
	r = vps_order(&cust, host, big, tpl, NULL);
	assert_limit(r, 409, "disk_gib", 5, 2 + 4);
	api_resp_free(r);
	/* A plan not offered: 403, limit plans, requested the plan, allowed the list. */
	snprintf(body, sizeof(body), "{\"max_disk_gib\":null,\"plans\":[\"%s\"]}", small);
	set_limits(cid, body);
	r = vps_order(&cust, host, big, tpl, NULL);
	assert_limit(r, 403, "plans", -1, -1);
	cr_assert_str_eq(jstr(r->json, "requested"), big, "%s", r->body);
	cr_assert_eq(json_object_array_length(jget(r->json, "allowed")), 1, "%s", r->body);
	api_resp_free(r);
	after = take(cid);
	assert_same(&before, &after);
	cr_assert_eq(audit_count(res, "vps.create.refused", NULL), 6);

	/* Deleting the VPS makes room at once (a VPS being deleted no longer counts). */
	set_limits(cid, "{\"max_vps\":1}");
	snprintf(body, sizeof(body), V1 "/vps/%s", vps);
	r = api_req(&cust, "DELETE", body, NULL);
	cr_assert_eq(r->status, 202, "%ld %s", r->status, r->body);
	char job[32];
	snprintf(job, sizeof(job), "%s", jstr(jget(r->json, "job"), "id"));
	api_resp_free(r);
	r = vps_order(&cust, host, small, tpl, NULL);
	cr_assert_eq(r->status, 202, "%ld %s", r->status, r->body);
	char vps2[32], job2[32];
	snprintf(vps2, sizeof(vps2), "%s", jstr(jget(r->json, "vps"), "id"));
	snprintf(job2, sizeof(job2), "%s", jstr(jget(r->json, "job"), "id"));
	api_resp_free(r);
	cr_assert(wait_job(&cust, job, 60));
	cr_assert(wait_job(&cust, job2, 60));
	fx_vps_delete(&cust, vps2);
}

Test(order, a_resize_over_a_limit_is_refused_naming_it)
{
	api_client cust;
	char cid[32], vps[32], path[96], body[96], res[64];
	api_resp *r;

	fx_customer(&admin, &cust, cid, NULL, NULL);
	fx_vps(&cust, small, tpl, NULL, vps);
	snprintf(path, sizeof(path), V1 "/vps/%s/actions/resize", vps);
	snprintf(res, sizeof(res), "vps/%s", vps);
	snprintf(body, sizeof(body), "{\"plan\":\"%s\"}", big);

	set_limits(cid, "{\"max_memory_mib\":512}");
	r = api_req(&cust, "POST", path, "%s", body);
	assert_limit(r, 409, "memory_mib", 512, 1024);
	cr_assert_eq(jint(r->json, "used"), 256, "%s", r->body);
	api_resp_free(r);
	char plans[96];
	snprintf(plans, sizeof(plans), "{\"max_memory_mib\":null,\"plans\":[\"%s\"]}", small);
	set_limits(cid, plans);
	r = api_req(&cust, "POST", path, "%s", body);
	assert_limit(r, 403, "plans", -1, -1);
	api_resp_free(r);
	cr_assert_eq(audit_count(res, "vps.resize.refused", "limit "), 2);
	snprintf(plans, sizeof(plans), V1 "/vps/%s", vps);
	r = api_req(&cust, "GET", plans, NULL);
	cr_assert_str_eq(jstr(r->json, "plan"), small, "a refused resize changed the plan");
	api_resp_free(r);

	/* Within the limits: 202, and the new plan counts. */
	set_limits(cid, "{\"plans\":null,\"max_vcpus\":2}");
	r = api_req(&cust, "POST", path, "%s", body);
	cr_assert_eq(r->status, 202, "%ld %s", r->status, r->body);
	char job[32];
	snprintf(job, sizeof(job), "%s", jstr(jget(r->json, "job"), "id"));
	api_resp_free(r);
	cr_assert(wait_job(&cust, job, 60));
	snprintf(plans, sizeof(plans), V1 "/customers/%s/limits", cid);
	r = api_req(&cust, "GET", plans, NULL);
	cr_assert_eq(jint(jget(r->json, "used"), "vcpus"), 2, "%s", r->body);
	cr_assert_eq(jint(jget(r->json, "used"), "memory_mib"), 1024, "%s", r->body);
	api_resp_free(r);
	/* Below a lowered limit nothing grows, and the disk's own rule still answers as before. */
	snprintf(body, sizeof(body), "{\"plan\":\"%s\"}", small);
	set_limits(cid, "{\"max_vcpus\":0}");
	r = api_req(&cust, "POST", path, "%s", body);
	assert_problem(r, 422, "plan");
	cr_assert_null(jget(r->json, "limit"), "the disk refusal is not a limit: %s", r->body);
	api_resp_free(r);
	fx_vps_delete(&cust, vps);
}

/* ---- two orders at once ----------------------------------------------------------------- */

typedef struct racer {
	const api_client *c;
	char body[160];
	pthread_barrier_t *go;
	long status;
	char vps[32];
} racer;

static size_t collect(char *p, size_t sz, size_t n, void *ud)
{
	char *buf = ud;
	size_t have = strlen(buf), add = sz * n;

	if (have + add < 4096) {
		memcpy(buf + have, p, add);
		buf[have + add] = '\0';
	}
	return sz * n;
}

/* One POST /vps on its own connection (the suite's client is one handle per process). */
static void *race_one(void *arg)
{
	racer *rc = arg;
	CURL *h = curl_easy_init();
	struct curl_slist *hdr = NULL;
	char url[256], cookie[256], csrf[256], buf[4096] = "";

	snprintf(url, sizeof(url), "%s" V1 "/vps", api_base());
	snprintf(cookie, sizeof(cookie), "xvps_session=%s", rc->c->session);
	snprintf(csrf, sizeof(csrf), "X-CSRF-Token: %s", rc->c->csrf);
	hdr = curl_slist_append(hdr, "Content-Type: application/json");
	hdr = curl_slist_append(hdr, csrf);
	curl_easy_setopt(h, CURLOPT_URL, url);
	curl_easy_setopt(h, CURLOPT_COOKIE, cookie);
	curl_easy_setopt(h, CURLOPT_HTTPHEADER, hdr);
	curl_easy_setopt(h, CURLOPT_POSTFIELDS, rc->body);
	curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, collect);
	curl_easy_setopt(h, CURLOPT_WRITEDATA, buf);
	pthread_barrier_wait(rc->go);
	if (curl_easy_perform(h) == CURLE_OK)
		curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &rc->status);
	json_object *j = json_tokener_parse(buf);
	if (rc->status == 202)
		snprintf(rc->vps, sizeof(rc->vps), "%s", jstr(jget(j, "vps"), "id"));
	else if (rc->status == 409 && (!jstr(j, "limit") || strcmp(jstr(j, "limit"), "vps")))
		rc->status = -409; /* a 409 that is not the limit's */
	json_object_put(j);
	curl_slist_free_all(hdr);
	curl_easy_cleanup(h);
	return NULL;
}

Test(order, two_concurrent_orders_cannot_both_pass_a_limit)
{
	api_client cust;
	char cid[32], made[8][32];
	int nmade = 0;

	fx_customer(&admin, &cust, cid, NULL, NULL);
	for (int round = 0; round < 3; round++) {
		racer rs[2] = {0};
		pthread_t t[2];
		pthread_barrier_t go;
		char lim[48], u[9];
		int ok = 0, refused = 0;

		snprintf(lim, sizeof(lim), "{\"max_vps\":%d}", round + 1);
		set_limits(cid, lim);
		pthread_barrier_init(&go, NULL, 2);
		for (int i = 0; i < 2; i++) {
			uniq(u);
			rs[i].c = &cust;
			rs[i].go = &go;
			snprintf(rs[i].body, sizeof(rs[i].body),
			         "{\"hostname\":\"race-%s.example.net\",\"plan\":\"%s\","
			         "\"template\":\"%s\"}",
			         u, small, tpl);
			pthread_create(&t[i], NULL, race_one, &rs[i]);
		}
		for (int i = 0; i < 2; i++)
			pthread_join(t[i], NULL);
		pthread_barrier_destroy(&go);
		for (int i = 0; i < 2; i++) {
			if (rs[i].status == 202) {
				ok++;
				snprintf(made[nmade++], 32, "%s", rs[i].vps);
			} else if (rs[i].status == 409)
				refused++;
		}
		cr_assert_eq(ok, 1, "round %d: %d orders passed max_vps %d (%ld, %ld)", round, ok,
		             round + 1, rs[0].status, rs[1].status);
		cr_assert_eq(refused, 1, "round %d: statuses %ld, %ld", round, rs[0].status,
		             rs[1].status);
	}
	char path[96];
	snprintf(path, sizeof(path), V1 "/vps?customer=%s", cid);
	cr_assert_eq(api_count(&admin, path), 3);
	for (int i = 0; i < nmade; i++) {
		char vp[96], job[32];
		api_resp *r;

		/* The create job may still run: wait for it through the VPS's jobs. */
		snprintf(vp, sizeof(vp), V1 "/jobs?vps=%s", made[i]);
		r = api_req(&admin, "GET", vp, NULL);
		snprintf(job, sizeof(job), "%s", jstr(json_object_array_get_idx(r->json, 0), "id"));
		api_resp_free(r);
		cr_assert(wait_job(&admin, job, 60));
		fx_vps_delete(&cust, made[i]);
	}
}

/* ---- the billing module's create and change package --------------------------------------- */

Test(order, the_billing_module_is_held_to_the_same_limits)
{
	api_client cust;
	char cid[32], user[32], pw[40], path[96], body[512], u[9], res[64];
	api_resp *r;

	fx_customer(&admin, &cust, cid, user, pw);
	set_limits(cid, "{\"max_vps\":0}");
	uniq(u);
	snprintf(path, sizeof(path), V1 "/billing/services/ord-%s", u);
	/* fx_customer's e-mail is <user>@example.com: the module reuses that customer. */
	snprintf(body, sizeof(body),
	         "{\"username\":\"%s\",\"email\":\"%s@example.com\",\"password\":\"%s\","
	         "\"plan\":\"%s\",\"template\":\"%s\",\"hostname\":\"svc-%s.example.net\"}",
	         user, user, pw, small, tpl, u);
	r = api_req(&admin, "PUT", path, "%s", body);
	assert_limit(r, 409, "vps", 0, 1);
	api_resp_free(r);
	r = api_req(&admin, "GET", path, NULL);
	assert_problem(r, 404, NULL);
	api_resp_free(r);
	snprintf(res, sizeof(res), "service/ord-%s", u);
	cr_assert_eq(audit_count(res, "service.create.refused", "limit vps"), 1);

	set_limits(cid, "{\"max_vps\":1,\"max_vcpus\":1}");
	r = api_req(&admin, "PUT", path, "%s", body);
	cr_assert_eq(r->status, 201, "%ld %s", r->status, r->body);
	char vps[32], job[32];
	snprintf(vps, sizeof(vps), "%s", jstr(jget(r->json, "service"), "vps_id"));
	snprintf(job, sizeof(job), "%s", jstr(jget(r->json, "job"), "id"));
	api_resp_free(r);
	cr_assert(vps[0] && job[0], "service answer without vps_id or job");
	cr_assert(wait_job(&admin, job, 60));
	/* Change package to big: 2 vCPUs > 1. */
	char ppath[128], pbody[64];
	snprintf(ppath, sizeof(ppath), "%s/plan", path);
	snprintf(pbody, sizeof(pbody), "{\"plan\":\"%s\"}", big);
	r = api_req(&admin, "POST", ppath, "%s", pbody);
	assert_limit(r, 409, "vcpus", 1, 2);
	api_resp_free(r);
	r = api_req(&admin, "DELETE", path, NULL);
	cr_assert(r->status == 200 || r->status == 202, "%ld %s", r->status, r->body);
	if (jget(r->json, "job"))
		snprintf(job, sizeof(job), "%s", jstr(jget(r->json, "job"), "id"));
	api_resp_free(r);
	cr_assert(wait_job(&admin, job, 60));
}
