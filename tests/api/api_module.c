/* api_module.c — API key scopes and the billing-system module API (issue 14 item 4) against a
 * running xvpsd ($XVPS_URL): keys default to their user's full rights and never exceed its role;
 * a read-only key cannot write, a key without "billing" cannot call the module API (403 naming
 * the scope, nothing changed), a billing-only key can call nothing else, an expired key is 401;
 * the module API's bad input (service ids, fields, unknown plan, duplicate hostname, missing
 * reason, short password, bad usage range, unknown plan for a plan change, a terminated service)
 * answers the problem and leaves nothing behind; a
 * service created twice is one service. Every test removes the keys, services and VPS it makes
 * (a terminated service's customer stays, as documented). */
#include <criterion/criterion.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "client.h"

static api_client admin;
static char plan[32], tpl[32], pool[32];

static void setup(void)
{
	fx_admin(&admin);
	fx_pool4(&admin, pool);
	fx_plan(&admin, NULL, plan);
	fx_template(&admin, tpl);
}

TestSuite(module, .init = setup, .fini = api_cleanup, .timeout = 180);

/* POST /api-keys as c with body; on 201 fills key (a bearer client) and id. Returns the status. */
static long make_key(const api_client *c, const char *body, api_client *key, char id[32])
{
	api_resp *r = api_req(c, "POST", V1 "/api-keys", "%s", body);
	long status = r->status;

	if (status == 201) {
		memset(key, 0, sizeof(*key));
		snprintf(key->bearer, sizeof(key->bearer), "%s", jstr(r->json, "token"));
		snprintf(id, 32, "%s", jstr(r->json, "id"));
	}
	api_resp_free(r);
	return status;
}

static void drop_key(const api_client *c, const char *id)
{
	char path[64];
	api_resp *r;

	snprintf(path, sizeof(path), V1 "/api-keys/%s", id);
	r = api_req(c, "DELETE", path, NULL);
	cr_assert_eq(r->status, 204, "DELETE %s: %ld %s", path, r->status, r->body);
	api_resp_free(r);
}

/* The number of c's API keys (GET /api-keys is not paged). */
static size_t count_keys(const api_client *c)
{
	api_resp *r = api_req(c, "GET", V1 "/api-keys", NULL);
	size_t n;

	cr_assert_eq(r->status, 200, "%ld %s", r->status, r->body);
	n = json_object_array_length(r->json);
	api_resp_free(r);
	return n;
}

/* Asserts a 403 problem whose "scope" member names scope. */
static void assert_scope_403(api_resp *r, const char *scope)
{
	assert_problem(r, 403, NULL);
	cr_assert_str_eq(jstr(r->json, "scope"), scope, "%s", r->body);
	cr_assert(strstr(jstr(r->json, "detail"), scope), "%s", r->body);
	api_resp_free(r);
}

/* The scopes of key id in GET /api-keys as c, joined by spaces, into out. */
static void key_scopes(const api_client *c, const char *id, char out[64])
{
	api_resp *r = api_req(c, "GET", V1 "/api-keys", NULL);

	out[0] = '\0';
	cr_assert_eq(r->status, 200);
	for (size_t i = 0; i < json_object_array_length(r->json); i++) {
		json_object *k = json_object_array_get_idx(r->json, i), *s = jget(k, "scopes");

		if (strcmp(jstr(k, "id"), id) != 0)
			continue;
		for (size_t j = 0; s && j < json_object_array_length(s); j++) {
			if (j)
				strcat(out, " ");
			strcat(out, json_object_get_string(json_object_array_get_idx(s, j)));
		}
	}
	api_resp_free(r);
}

static const char *service_body(char *buf, size_t len, const char *user, const char *host,
                                const char *plan_id)
{
	snprintf(buf, len,
	         "{\"username\":\"%s\",\"email\":\"%s@example.net\",\"password\":\"pw-%s-long\","
	         "\"plan\":\"%s\",\"template\":\"%s\",\"hostname\":\"%s\"}",
	         user, user, user, plan_id, tpl, host);
	return buf;
}

Test(module, keys_default_to_their_users_full_rights_and_never_exceed_the_role)
{
	api_client k, cust, ck;
	char id[32], cid[32], cust_id[32], scopes[64];

	cr_assert_eq(make_key(&admin, "{\"name\":\"full\"}", &k, id), 201);
	key_scopes(&admin, id, scopes);
	cr_assert_str_eq(scopes, "read-only vps billing admin");
	drop_key(&admin, id);

	fx_customer(&admin, &cust, cust_id, NULL, NULL);
	cr_assert_eq(make_key(&cust, "{\"name\":\"mine\"}", &ck, cid), 201);
	key_scopes(&cust, cid, scopes);
	cr_assert_str_eq(scopes, "read-only vps");
	/* A full customer key still manages its own keys, as before scopes existed. */
	cr_assert_eq(make_key(&ck, "{\"name\":\"by-key\",\"scopes\":[\"read-only\"]}", &k, id),
	             201);
	drop_key(&ck, id);

	const char *beyond[] = {"{\"name\":\"b\",\"scopes\":[\"billing\"]}",
	                        "{\"name\":\"b\",\"scopes\":[\"admin\",\"vps\"]}"};
	for (size_t i = 0; i < 2; i++) {
		api_resp *r = api_req(&cust, "POST", V1 "/api-keys", "%s", beyond[i]);

		assert_problem(r, 422, "scopes");
		api_resp_free(r);
	}
	cr_assert_eq(count_keys(&cust), 1, "a refused key was stored");
	drop_key(&cust, cid);
}

Test(module, bad_scopes_and_expiry_are_refused_and_nothing_is_stored)
{
	const char *bad[][2] = {
	        {"{\"name\":\"x\",\"scopes\":[\"root\"]}", "scopes"},
	        {"{\"name\":\"x\",\"scopes\":[\"vps\",\"vps\"]}", "scopes"},
	        {"{\"name\":\"x\",\"scopes\":[]}", "scopes"},
	        {"{\"name\":\"x\",\"scopes\":\"billing\"}", "scopes"},
	        {"{\"name\":\"x\",\"scopes\":[1]}", "scopes"},
	        {"{\"name\":\"x\",\"expires_at\":\"tomorrow\"}", "expires_at"},
	        {"{\"name\":\"x\",\"expires_at\":\"2001-01-01T00:00:00Z\"}", "expires_at"},
	        {"{\"name\":\"x\",\"expires_at\":\"2999-01-01T00:00:00Z\"}", "expires_at"},
	};
	size_t before = count_keys(&admin);

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		api_resp *r = api_req(&admin, "POST", V1 "/api-keys", "%s", bad[i][0]);

		assert_problem(r, 422, bad[i][1]);
		api_resp_free(r);
	}
	cr_assert_eq(count_keys(&admin), before, "a refused key was stored");
}

Test(module, read_only_key_reads_and_cannot_write)
{
	api_client k;
	char id[32];
	long long plans = api_count(&admin, V1 "/plans");
	api_resp *r;

	cr_assert_eq(make_key(&admin, "{\"name\":\"ro\",\"scopes\":[\"read-only\"]}", &k, id), 201);
	r = api_req(&k, "GET", V1 "/plans", NULL);
	cr_assert_eq(r->status, 200, "%ld %s", r->status, r->body);
	api_resp_free(r);
	assert_scope_403(api_req(&k, "POST", V1 "/plans",
	                         "{\"name\":\"ro-plan\",\"vcpus\":1,\"memory_mib\":256,"
	                         "\"disk_gib\":2}"),
	                 "admin");
	cr_assert_eq(api_count(&admin, V1 "/plans"), plans, "a read-only key made a plan");
	assert_scope_403(api_req(&k, "GET", V1 "/billing/ping", NULL), "billing");
	/* Its own keys need every scope of the role. */
	assert_scope_403(api_req(&k, "POST", V1 "/api-keys", "{\"name\":\"more\"}"), "vps");
	drop_key(&admin, id);
}

Test(module, key_without_billing_scope_calling_the_module_api_is_403_and_changes_nothing)
{
	api_client k, bill;
	char id[32], bid[32], body[512], sid[40], path[96], u[9];
	long long customers = api_count(&admin, V1 "/customers"),
	          vps = api_count(&admin, V1 "/vps");
	api_resp *r;

	uniq(u);
	snprintf(sid, sizeof(sid), "t-%s", u);
	snprintf(path, sizeof(path), V1 "/billing/services/%s", sid);
	cr_assert_eq(make_key(&admin,
	                      "{\"name\":\"nb\",\"scopes\":[\"read-only\",\"vps\",\"admin\"]}", &k,
	                      id),
	             201);
	cr_assert_eq(make_key(&admin, "{\"name\":\"bill\",\"scopes\":[\"billing\"]}", &bill, bid),
	             201);
	service_body(body, sizeof(body),
	             "nb"
	             "user",
	             "nb.example.net", plan);
	assert_scope_403(api_req(&k, "PUT", path, "%s", body), "billing");
	assert_scope_403(api_req(&k, "GET", V1 "/billing/usage", NULL), "billing");
	assert_scope_403(api_req(&k, "POST", V1 "/billing/services/1/sso", NULL), "billing");
	r = api_req(&bill, "GET", path, NULL);
	assert_problem(r, 404, NULL);
	api_resp_free(r);
	cr_assert_eq(api_count(&admin, V1 "/customers"), customers, "a customer was made");
	cr_assert_eq(api_count(&admin, V1 "/vps"), vps, "a VPS was made");
	/* ... and a billing-only key reaches nothing but the module API. */
	assert_scope_403(api_req(&bill, "GET", V1 "/vps", NULL), "read-only");
	assert_scope_403(api_req(&bill, "DELETE", V1 "/plans/1", NULL), "admin");
	r = api_req(&bill, "GET", V1 "/billing/ping", NULL);
	cr_assert_eq(r->status, 200, "%ld %s", r->status, r->body);
	api_resp_free(r);
	drop_key(&admin, id);
	drop_key(&admin, bid);
}

Test(module, expired_key_is_401)
{
	api_client k;
	char id[32], body[128], when[32];
	time_t t = time(NULL) + 2;
	api_resp *r;

	strftime(when, sizeof(when), "%Y-%m-%dT%H:%M:%SZ", gmtime(&t));
	snprintf(body, sizeof(body), "{\"name\":\"short\",\"expires_at\":\"%s\"}", when);
	cr_assert_eq(make_key(&admin, body, &k, id), 201);
	r = api_req(&k, "GET", V1 "/me", NULL);
	cr_assert_eq(r->status, 200, "%ld %s", r->status, r->body);
	api_resp_free(r);
	sleep(3);
	r = api_req(&k, "GET", V1 "/me", NULL);
	assert_problem(r, 401, NULL);
	api_resp_free(r);
	drop_key(&admin, id);
}

Test(module, module_bad_input_is_refused_and_leaves_nothing)
{
	api_client bill;
	char bid[32], body[512], path[128], u[9], user[32], host[64], longid[40];
	long long customers = api_count(&admin, V1 "/customers"),
	          vps = api_count(&admin, V1 "/vps");
	api_resp *r;

	uniq(u);
	snprintf(user, sizeof(user), "bad%s", u);
	snprintf(host, sizeof(host), "bad%s.example.net", u);
	cr_assert_eq(make_key(&admin, "{\"name\":\"bill\",\"scopes\":[\"billing\"]}", &bill, bid),
	             201);
	/* Service ids: 1..32 of [A-Za-z0-9._-], not starting with a dot. */
	memset(longid, 'a', 33);
	longid[33] = '\0';
	const char *bad_ids[] = {longid, ".x", "a%20b"};
	for (size_t i = 0; i < 3; i++) {
		snprintf(path, sizeof(path), V1 "/billing/services/%s", bad_ids[i]);
		r = api_req(&bill, "PUT", path, "%s",
		            service_body(body, sizeof(body), user, host, plan));
		assert_problem(r, 404, NULL);
		api_resp_free(r);
	}
	snprintf(path, sizeof(path), V1 "/billing/services/bad-%s", u);
	const char *bad_fields[][2] = {
	        {"{\"username\":\"Bad "
	         "User\",\"email\":\"a@example.net\",\"password\":\"long-pass-1\","
	         "\"plan\":\"1\",\"template\":\"1\",\"hostname\":\"ok.example.net\"}",
	         "username"},
	        {"{\"username\":\"okuser\",\"email\":\"nope\",\"password\":\"long-pass-1\","
	         "\"plan\":\"1\",\"template\":\"1\",\"hostname\":\"ok.example.net\"}",
	         "email"},
	        {"{\"username\":\"okuser\",\"email\":\"a@example.net\",\"password\":\"short\","
	         "\"plan\":\"1\",\"template\":\"1\",\"hostname\":\"ok.example.net\"}",
	         "password"},
	        {"{\"username\":\"okuser\",\"email\":\"a@example.net\",\"password\":\"long-pass-"
	         "1\","
	         "\"plan\":\"1\",\"template\":\"1\",\"hostname\":\"Bad_Host\"}",
	         "hostname"},
	        {"{\"username\":\"okuser\",\"email\":\"a@example.net\",\"password\":\"long-pass-"
	         "1\","
	         "\"plan\":\"1\",\"template\":\"1\",\"hostname\":\"ok.example.net\",\"x\":1}",
	         "x"},
	        {"{\"username\":\"okuser\",\"email\":\"a@example.net\",\"password\":\"long-pass-"
	         "1\","
	         "\"plan\":\"1\",\"hostname\":\"ok.example.net\"}",
	         "template"},
	};
	for (size_t i = 0; i < sizeof(bad_fields) / sizeof(bad_fields[0]); i++) {
		r = api_req(&bill, "PUT", path, "%s", bad_fields[i][0]);
		assert_problem(r, 422, bad_fields[i][1]);
		api_resp_free(r);
	}
	/* An unknown plan is found inside the transaction: the customer made first is rolled back.
	 */
	r = api_req(&bill, "PUT", path, "%s",
	            service_body(body, sizeof(body), user, host, "999999999"));
	assert_problem(r, 422, "plan");
	api_resp_free(r);
	cr_assert_eq(api_count(&admin, V1 "/customers"), customers, "a customer was left behind");
	cr_assert_eq(api_count(&admin, V1 "/vps"), vps, "a VPS was left behind");
	r = api_req(&bill, "GET", path, NULL);
	assert_problem(r, 404, NULL);
	api_resp_free(r);
	/* Calls on a service that does not exist. */
	snprintf(path, sizeof(path), V1 "/billing/services/none-%s/suspend", u);
	r = api_req(&bill, "POST", path, "{\"reason\":\"x\"}");
	assert_problem(r, 404, NULL);
	api_resp_free(r);
	snprintf(path, sizeof(path), V1 "/billing/services/none-%s/usage", u);
	r = api_req(&bill, "GET", path, NULL);
	assert_problem(r, 404, NULL);
	api_resp_free(r);
	r = api_req(&bill, "GET", V1 "/billing/usage?from=yesterday", NULL);
	assert_problem(r, 422, "from");
	api_resp_free(r);
	r = api_req(&bill, "GET",
	            V1 "/billing/usage?from=2026-02-01T00:00:00Z&to=2026-01-01T00:00:00Z", NULL);
	assert_problem(r, 422, "from");
	api_resp_free(r);
	drop_key(&admin, bid);
}

Test(module, service_is_created_once_and_its_bad_calls_change_nothing)
{
	api_client bill;
	char bid[32], body[512], body2[512], path[128], sub[256], u[9], user[32], host[64],
	        host2[64], vps_id[32], job[32];
	long long customers = api_count(&admin, V1 "/customers"),
	          vps = api_count(&admin, V1 "/vps");
	api_resp *r;

	uniq(u);
	snprintf(user, sizeof(user), "svc%s", u);
	snprintf(host, sizeof(host), "svc%s.example.net", u);
	snprintf(host2, sizeof(host2), "svc%s-2.example.net", u);
	snprintf(path, sizeof(path), V1 "/billing/services/s-%s", u);
	cr_assert_eq(make_key(&admin, "{\"name\":\"bill\",\"scopes\":[\"billing\"]}", &bill, bid),
	             201);
	r = api_req(&bill, "PUT", path, "%s", service_body(body, sizeof(body), user, host, plan));
	cr_assert_eq(r->status, 201, "%ld %s", r->status, r->body);
	cr_assert_str_eq(jstr(jget(r->json, "service"), "status"), "active", "%s", r->body);
	snprintf(vps_id, sizeof(vps_id), "%s", jstr(jget(r->json, "service"), "vps_id"));
	snprintf(job, sizeof(job), "%s", jstr(jget(r->json, "job"), "id"));
	api_resp_free(r);
	cr_assert(wait_job(&admin, job, 60), "create job %s", job);

	/* The same call again: the same service, nothing new. */
	r = api_req(&bill, "PUT", path, "%s", body);
	cr_assert_eq(r->status, 200, "%ld %s", r->status, r->body);
	cr_assert_str_eq(jstr(jget(r->json, "service"), "vps_id"), vps_id);
	cr_assert(jis_null(r->json, "job"), "%s", r->body);
	api_resp_free(r);
	/* Other parameters under the same id: 409. */
	r = api_req(&bill, "PUT", path, "%s",
	            service_body(body2, sizeof(body2), user, host2, plan));
	assert_problem(r, 409, NULL);
	api_resp_free(r);
	cr_assert_eq(api_count(&admin, V1 "/customers"), customers + 1);
	cr_assert_eq(api_count(&admin, V1 "/vps"), vps + 1);
	/* Another service id with the same hostname: 409, and its new customer is rolled back. */
	snprintf(sub, sizeof(sub), "%s-other", path);
	r = api_req(&bill, "PUT", sub, "%s",
	            service_body(body2, sizeof(body2),
	                         "other"
	                         "x",
	                         host, plan));
	assert_problem(r, 409, "hostname");
	api_resp_free(r);
	cr_assert_eq(api_count(&admin, V1 "/customers"), customers + 1, "a customer was left");

	snprintf(sub, sizeof(sub), "%s/suspend", path);
	r = api_req(&bill, "POST", sub, "{}");
	assert_problem(r, 422, "reason");
	api_resp_free(r);
	snprintf(sub, sizeof(sub), "%s/unsuspend", path);
	r = api_req(&bill, "POST", sub, NULL);
	assert_problem(r, 409, NULL);
	api_resp_free(r);
	snprintf(sub, sizeof(sub), "%s/password", path);
	r = api_req(&bill, "POST", sub, "{\"password\":\"short\"}");
	assert_problem(r, 422, "password");
	api_resp_free(r);
	cr_assert_eq(api_login(&(api_client){0}, user, "short"), 401);
	snprintf(sub, sizeof(sub), "%s/plan", path);
	r = api_req(&bill, "POST", sub, "{\"plan\":\"999999999\"}");
	assert_problem(r, 422, "plan");
	api_resp_free(r);
	r = api_req(&bill, "POST", sub, "{\"plan\":\"%s\",\"x\":1}", plan);
	assert_problem(r, 422, "x");
	api_resp_free(r);
	r = api_req(&bill, "POST", sub, "{\"plan\":\"%s\"}", plan);
	cr_assert_eq(r->status, 200, "its own plan again: %ld %s", r->status, r->body);
	cr_assert(jis_null(r->json, "job"), "%s", r->body);
	api_resp_free(r);
	/* Payments the billing system received: 0 refused, nothing recorded; then one recorded
	 * for the service's customer, as GET /customers/{id}/payments shows. */
	snprintf(sub, sizeof(sub), "%s/payments", path);
	r = api_req(&bill, "POST", sub, "{\"amount_cents\":0}");
	assert_problem(r, 422, "amount_cents");
	api_resp_free(r);
	r = api_req(&bill, "POST", sub, "{\"amount_cents\":2500,\"reference\":\"whmcs-%s\"}", u);
	cr_assert_eq(r->status, 201, "%ld %s", r->status, r->body);
	cr_assert_eq(jint(r->json, "amount_cents"), 2500, "%s", r->body);
	api_resp_free(r);
	r = api_req(&bill, "GET", path, NULL);
	cr_assert_eq(r->status, 200, "%s", r->body);
	{
		char cpath[128];

		snprintf(cpath, sizeof(cpath), V1 "/customers/%s/payments",
		         jstr(jget(r->json, "customer"), "id"));
		api_resp_free(r);
		r = api_req(&admin, "GET", cpath, NULL);
		cr_assert_eq(r->status, 200, "%s", r->body);
		cr_assert_eq(json_object_array_length(r->json), 1, "one payment: %s", r->body);
		cr_assert_eq(jint(json_object_array_get_idx(r->json, 0), "amount_cents"), 2500,
		             "%s", r->body);
	}
	api_resp_free(r);
	snprintf(sub, sizeof(sub), "%s/usage?from=2026-01-01T00:00:00Z&to=2026-01-02T00:00:00Z",
	         path);
	r = api_req(&bill, "GET", sub, NULL);
	cr_assert_eq(r->status, 200, "%ld %s", r->status, r->body);
	cr_assert_eq(jint(r->json, "cpu_ns"), 0, "usage before the VPS existed: %s", r->body);
	api_resp_free(r);
	/* A customer session is not the module's caller. */
	{
		api_client c;
		char pw[48];

		snprintf(pw, sizeof(pw), "pw-%s-long", user);
		cr_assert_eq(api_login(&c, user, pw), 201);
		r = api_req(&c, "GET", path, NULL);
		assert_problem(r, 403, NULL);
		api_resp_free(r);
	}

	r = api_req(&bill, "DELETE", path, NULL);
	cr_assert_eq(r->status, 202, "%ld %s", r->status, r->body);
	snprintf(job, sizeof(job), "%s", jstr(jget(r->json, "job"), "id"));
	api_resp_free(r);
	cr_assert(wait_job(&admin, job, 60), "delete job %s", job);
	snprintf(sub, sizeof(sub), V1 "/vps/%s", vps_id);
	r = api_req(&admin, "GET", sub, NULL);
	assert_problem(r, 404, NULL);
	api_resp_free(r);
	r = api_req(&bill, "DELETE", path, NULL);
	cr_assert_eq(r->status, 200, "terminating twice: %ld %s", r->status, r->body);
	api_resp_free(r);
	snprintf(sub, sizeof(sub), "%s/plan", path);
	r = api_req(&bill, "POST", sub, "{\"plan\":\"%s\"}", plan);
	assert_problem(r, 409, NULL);
	api_resp_free(r);
	drop_key(&admin, bid);
}
