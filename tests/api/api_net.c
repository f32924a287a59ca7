/* api_net.c — issue 4 "Addresses", throttle and smtp_block through the API, against a running
 * xvpsd ($XVPS_URL): routed IPv6 /64 pools, extra addresses (add, show, release in two steps),
 * throttles, the plan's smtp_block, their bad input (a refusal leaves no row and no address)
 * and who may do what. Pools stay inside 203.0.113.16-127 and 2001:db8:a000::/36, which no other
 * suite uses, and every test deletes its VPS and pools again (an IPv6 pool left behind would
 * give every later VPS an IPv6 address). A network job that fails only because the agent does
 * not know "vps.network" yet skips the test with that reason. The release race check hides the
 * agent's socket ($XVPS_STATE/agent.sock) for a moment, so that the release job cannot finish
 * while the test looks; it is skipped when the socket is not known. Run serially. */
#include <criterion/criterion.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "client.h"

static api_client admin, cust;
static char plan[32], tpl[32], pool4[32], cust_id[32];
static char pools[8][32]; /* made by this test, deleted by teardown */
static int n_pools;
static char sock[600], held[610]; /* the agent socket while it is hidden */

static void setup(void)
{
	fx_admin(&admin);
	fx_pool4(&admin, pool4); /* before ours: VPS take their primary IPv4 address from it */
	fx_plan(&admin, NULL, plan);
	fx_template(&admin, tpl);
	fx_customer(&admin, &cust, cust_id, NULL, NULL);
	n_pools = 0;
	held[0] = '\0';
}

/* Deletes the customer's VPS (waiting for the jobs), then this test's pools. */
static void teardown(void)
{
	char path[96];
	api_resp *r;

	if (held[0])
		rename(held, sock);
	snprintf(path, sizeof(path), V1 "/vps?customer=%s&limit=1000", cust_id);
	r = api_req(&admin, "GET", path, NULL);
	for (size_t i = 0; r->json && json_object_is_type(r->json, json_type_array) &&
	                   i < json_object_array_length(r->json);
	     i++) {
		const char *id = jstr(json_object_array_get_idx(r->json, i), "id");
		api_resp *d;

		snprintf(path, sizeof(path), V1 "/vps/%s", id ? id : "0");
		d = api_req(&admin, "DELETE", path, NULL);
		if (d->status == 202 && jstr(jget(d->json, "job"), "id"))
			wait_job(&admin, jstr(jget(d->json, "job"), "id"), 60);
		api_resp_free(d);
	}
	api_resp_free(r);
	for (int i = n_pools - 1; i >= 0; i--) {
		snprintf(path, sizeof(path), V1 "/ip-pools/%s", pools[i]);
		api_resp_free(api_req(&admin, "DELETE", path, NULL));
	}
	api_cleanup();
}

TestSuite(net, .init = setup, .fini = teardown, .timeout = 180);

/* POST /ip-pools with body; asserts 201 and remembers the pool for teardown. */
static void mk_pool(const char *body, char id_out[32])
{
	api_resp *r =
	        api_raw(&admin, "POST", V1 "/ip-pools", "application/json", body, strlen(body));

	cr_assert_eq(r->status, 201, "POST /ip-pools %s: %ld %s", body, r->status, r->body);
	cr_assert_not_null(jstr(r->json, "id"));
	snprintf(id_out, 32, "%s", jstr(r->json, "id"));
	cr_assert_lt(n_pools, 8);
	snprintf(pools[n_pools++], 32, "%s", id_out);
	api_resp_free(r);
}

/* POST /ip-pools expecting a problem; asserts no pool with cidr exists afterwards. */
static void pool_refused(const char *body, const char *cidr, long status, const char *field)
{
	api_resp *r =
	        api_raw(&admin, "POST", V1 "/ip-pools", "application/json", body, strlen(body));

	assert_problem(r, status, field);
	api_resp_free(r);
	r = api_req(&admin, "GET", V1 "/ip-pools?limit=1000", NULL);
	cr_assert_eq(r->status, 200);
	for (size_t i = 0; i < json_object_array_length(r->json); i++) {
		const char *c = jstr(json_object_array_get_idx(r->json, i), "cidr");

		cr_assert(!c || strcmp(c, cidr) != 0, "pool %s exists after a refusal", cidr);
	}
	api_resp_free(r);
}

/* POST /vps/{vps}/addresses as c with a printf-made body. */
static api_resp *addr_post(const api_client *c, const char *vps, const char *fmt, ...)
        __attribute__((format(printf, 3, 4)));
static api_resp *addr_post(const api_client *c, const char *vps, const char *fmt, ...)
{
	char path[96], body[512];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(body, sizeof(body), fmt, ap);
	va_end(ap);
	snprintf(path, sizeof(path), V1 "/vps/%s/addresses", vps);
	return api_raw(c, "POST", path, "application/json", body, strlen(body));
}

static api_resp *addr_delete(const api_client *c, const char *vps, const char *address)
{
	char path[160];

	snprintf(path, sizeof(path), V1 "/vps/%s/addresses/%s", vps, address);
	return api_req(c, "DELETE", path, NULL);
}

/* GET /vps/{vps}/addresses as c; asserts 200 and an array. */
static api_resp *addr_list(const api_client *c, const char *vps)
{
	char path[96];
	api_resp *r;

	snprintf(path, sizeof(path), V1 "/vps/%s/addresses", vps);
	r = api_req(c, "GET", path, NULL);
	cr_assert_eq(r->status, 200, "GET %s: %ld %s", path, r->status, r->body);
	cr_assert(json_object_is_type(r->json, json_type_array), "%s", r->body);
	return r;
}

/* The entry of the address list with this address, or NULL. */
static json_object *addr_find(json_object *list, const char *address)
{
	for (size_t i = 0; i < json_object_array_length(list); i++) {
		json_object *a = json_object_array_get_idx(list, i);

		if (jstr(a, "address") && strcmp(jstr(a, "address"), address) == 0)
			return a;
	}
	return NULL;
}

static bool array_has(json_object *arr, const char *s)
{
	for (size_t i = 0; arr && i < json_object_array_length(arr); i++)
		if (strcmp(json_object_get_string(json_object_array_get_idx(arr, i)), s) == 0)
			return true;
	return false;
}

static long long addr_count(const char *vps)
{
	api_resp *r = addr_list(&admin, vps);
	long long n = (long long)json_object_array_length(r->json);

	api_resp_free(r);
	return n;
}

/* The job of a 202 answer, asserting it is a vps.network job. */
static void job_of(const api_resp *r, char job_out[32])
{
	json_object *j = jget(r->json, "job");

	cr_assert_not_null(jstr(j, "id"), "no job: %s", r->body);
	cr_assert_str_eq(jstr(j, "kind"), "vps.network", "%s", r->body);
	snprintf(job_out, 32, "%s", jstr(j, "id"));
}

/* Waits for a network job: done, or a skip when the agent lacks "vps.network". */
static void net_job_done(const char *job)
{
	char path[96];
	api_resp *r;
	const char *err;

	if (wait_job(&admin, job, 90))
		return;
	snprintf(path, sizeof(path), V1 "/jobs/%s", job);
	r = api_req(&admin, "GET", path, NULL);
	err = jstr(r->json, "error");
	if (err && strstr(err, "unknown operation"))
		cr_skip_test("the agent does not know vps.network yet: %s", err);
	cr_assert_fail("network job %s did not succeed: %s", job, r->body);
}

/* Hides the agent's socket: jobs retry (1, 2, 4 ... s) until it is back. false: unknown. */
static bool hide_agent(void)
{
	const char *state = getenv("XVPS_STATE"), *env = getenv("XVPS_AGENT_SOCK");

	if (env && *env)
		snprintf(sock, sizeof(sock), "%s", env);
	else if (state && *state)
		snprintf(sock, sizeof(sock), "%s/agent.sock", state);
	else
		return false;
	snprintf(held, sizeof(held), "%s.held", sock);
	cr_assert_eq(rename(sock, held), 0, "cannot move %s aside", sock);
	return true;
}

static void unhide_agent(void)
{
	cr_assert_eq(rename(held, sock), 0, "cannot put %s back", sock);
	held[0] = '\0';
}

static long long pool_alloc(const char *id)
{
	return pool_allocated(&admin, id);
}

Test(net, extra_ipv4_address_is_added_shown_applied_and_released_in_two_steps)
{
	char pool[32], vps[32], other[32], job[32], primary[64];
	api_resp *r;
	json_object *a;

	mk_pool("{\"family\":4,\"cidr\":\"203.0.113.16/28\",\"gateway\":\"203.0.113.17\","
	        "\"reserved\":[\"203.0.113.18\"]}",
	        pool);
	fx_vps(&admin, plan, tpl, cust_id, vps);
	fx_vps(&admin, plan, tpl, cust_id, other);
	r = vps_get_ok(&admin, vps);
	cr_assert_eq(json_object_array_length(jget(r->json, "ipv4")), 1, "%s", r->body);
	snprintf(primary, sizeof(primary), "%s",
	         json_object_get_string(json_object_array_get_idx(jget(r->json, "ipv4"), 0)));
	api_resp_free(r);

	/* The lowest usable address of the pool: .16 network, .17 gateway, .18 reserved. */
	r = addr_post(&admin, vps, "{\"family\":4,\"pool\":\"%s\"}", pool);
	cr_assert_eq(r->status, 202, "%ld %s", r->status, r->body);
	a = jget(r->json, "address");
	cr_assert_str_eq(jstr(a, "address"), "203.0.113.19", "%s", r->body);
	cr_assert_eq(jint(a, "family"), 4);
	cr_assert(jis_null(a, "prefix_len"), "%s", r->body);
	cr_assert_str_eq(jstr(a, "pool"), pool);
	cr_assert(json_object_get_boolean(jget(a, "extra")), "%s", r->body);
	cr_assert_str_eq(jstr(a, "state"), "active");
	job_of(r, job);
	api_resp_free(r);
	r = vps_get_ok(&admin, vps);
	cr_assert(array_has(jget(r->json, "ipv4"), "203.0.113.19"), "%s", r->body);
	cr_assert(array_has(jget(r->json, "ipv4"), primary), "%s", r->body);
	api_resp_free(r);
	net_job_done(job);

	/* An explicit address; its pool is found from the address. */
	r = addr_post(&admin, vps, "{\"family\":4,\"address\":\"203.0.113.25\"}");
	cr_assert_eq(r->status, 202, "%ld %s", r->status, r->body);
	cr_assert_str_eq(jstr(jget(r->json, "address"), "pool"), pool);
	job_of(r, job);
	api_resp_free(r);
	net_job_done(job);
	cr_assert_eq(pool_alloc(pool), 2);

	/* The customer sees its VPS's list, primary first. */
	r = addr_list(&cust, vps);
	cr_assert_eq(json_object_array_length(r->json), 3, "%s", r->body);
	a = json_object_array_get_idx(r->json, 0);
	cr_assert_str_eq(jstr(a, "address"), primary);
	cr_assert_not(json_object_get_boolean(jget(a, "extra")), "%s", r->body);
	cr_assert_str_eq(jstr(a, "pool"), pool4);
	api_resp_free(r);

	/* Release .25 while the agent cannot be reached: it stays taken, out of the VPS. */
	if (!hide_agent())
		cr_skip_test("neither XVPS_AGENT_SOCK nor XVPS_STATE is set");
	r = addr_delete(&admin, vps, "203.0.113.25");
	cr_assert_eq(r->status, 202, "%ld %s", r->status, r->body);
	job_of(r, job);
	api_resp_free(r);
	r = addr_list(&admin, vps);
	a = addr_find(r->json, "203.0.113.25");
	cr_assert(a && strcmp(jstr(a, "state"), "releasing") == 0, "%s", r->body);
	api_resp_free(r);
	r = vps_get_ok(&admin, vps);
	cr_assert_not(array_has(jget(r->json, "ipv4"), "203.0.113.25"), "%s", r->body);
	api_resp_free(r);
	r = addr_post(&admin, other, "{\"family\":4,\"address\":\"203.0.113.25\"}");
	assert_problem(r, 409, "address");
	api_resp_free(r);
	r = addr_post(&admin, other, "{\"family\":4,\"pool\":\"%s\"}", pool);
	cr_assert_eq(r->status, 202, "%ld %s", r->status, r->body);
	cr_assert_str_eq(jstr(jget(r->json, "address"), "address"), "203.0.113.20",
	                 "a releasing address was handed out again: %s", r->body);
	api_resp_free(r);
	cr_assert_eq(pool_alloc(pool), 3, "the releasing address no longer counts as taken");
	unhide_agent();

	/* Once the agent applied the spec without it, it is gone and free again. */
	net_job_done(job);
	r = addr_list(&admin, vps);
	cr_assert_null(addr_find(r->json, "203.0.113.25"), "%s", r->body);
	cr_assert_eq(json_object_array_length(r->json), 2, "%s", r->body);
	api_resp_free(r);
	r = addr_post(&admin, other, "{\"family\":4,\"address\":\"203.0.113.25\"}");
	cr_assert_eq(r->status, 202, "%ld %s", r->status, r->body);
	api_resp_free(r);

	/* The primary address is not removable; unknown ones are not found. */
	r = addr_delete(&admin, vps, primary);
	assert_problem(r, 409, NULL);
	api_resp_free(r);
	r = addr_delete(&admin, vps, "203.0.113.25");
	assert_problem(r, 404, NULL);
	api_resp_free(r);
	r = addr_delete(&admin, vps, "not-an-address");
	assert_problem(r, 404, NULL);
	api_resp_free(r);
	cr_assert_eq(addr_count(vps), 2);
}

Test(net, routed_ipv6_pool_gives_each_vps_a_64)
{
	char pool[32], vps[32], job[32], path[96];
	api_resp *r;
	json_object *a;

	mk_pool("{\"family\":6,\"cidr\":\"2001:db8:a000::/48\",\"gateway\":\"2001:db8:a000::1\","
	        "\"vps_prefix\":64}",
	        pool);
	snprintf(path, sizeof(path), V1 "/ip-pools/%s", pool);
	r = api_req(&admin, "GET", path, NULL);
	cr_assert_eq(jint(r->json, "vps_prefix"), 64, "%s", r->body);
	cr_assert_eq(jint(r->json, "size"), 65535, "2^16 /64s minus the gateway's: %s", r->body);
	api_resp_free(r);

	fx_vps(&admin, plan, tpl, cust_id, vps); /* its spec carried the /64 to the agent */
	r = vps_get_ok(&admin, vps);
	cr_assert_eq(json_object_array_length(jget(r->json, "ipv6")), 1, "%s", r->body);
	cr_assert(array_has(jget(r->json, "ipv6"), "2001:db8:a000:1::/64"), "%s", r->body);
	api_resp_free(r);

	r = addr_post(&admin, vps, "{\"family\":6,\"pool\":\"%s\"}", pool);
	cr_assert_eq(r->status, 202, "%ld %s", r->status, r->body);
	a = jget(r->json, "address");
	cr_assert_str_eq(jstr(a, "address"), "2001:db8:a000:2::", "%s", r->body);
	cr_assert_eq(jint(a, "prefix_len"), 64);
	job_of(r, job);
	api_resp_free(r);
	net_job_done(job);
	r = vps_get_ok(&admin, vps);
	cr_assert(array_has(jget(r->json, "ipv6"), "2001:db8:a000:2::/64"), "%s", r->body);
	api_resp_free(r);

	r = addr_post(&admin, vps, "{\"family\":6,\"address\":\"2001:db8:a000:7::1\"}");
	assert_problem(r, 422, "address"); /* not the network address of a /64 */
	api_resp_free(r);
	r = addr_post(&admin, vps, "{\"family\":6,\"address\":\"2001:db8:a000::/64\"}");
	assert_problem(r, 422, "address"); /* the gateway's /64 */
	api_resp_free(r);
	r = addr_post(&admin, vps, "{\"family\":6,\"address\":\"2001:db8:a000:2::/64\"}");
	assert_problem(r, 409, "address");
	api_resp_free(r);
	cr_assert_eq(pool_alloc(pool), 2);

	/* Written as a prefix, the path has two segments. */
	r = addr_delete(&admin, vps, "2001:db8:a000:2::/64");
	cr_assert_eq(r->status, 202, "%ld %s", r->status, r->body);
	job_of(r, job);
	api_resp_free(r);
	net_job_done(job);
	r = addr_delete(&admin, vps, "2001:db8:a000:1::");
	assert_problem(r, 409, NULL); /* the primary /64 */
	api_resp_free(r);
	r = vps_get_ok(&admin, vps);
	cr_assert_eq(json_object_array_length(jget(r->json, "ipv6")), 1, "%s", r->body);
	api_resp_free(r);
	cr_assert_eq(pool_alloc(pool), 1);
}

Test(net, exhausted_pools_refuse_and_allocate_nothing)
{
	char e6[32], f4[32], vps[32], u[9], host[64];
	long long vps_before, alloc4;
	api_resp *r;

	r = api_req(&admin, "GET", V1 "/ip-pools?limit=1000", NULL);
	for (size_t i = 0; i < json_object_array_length(r->json); i++)
		if (jint(json_object_array_get_idx(r->json, i), "family") == 6)
			cr_skip_test("another IPv6 pool exists: %s", r->body);
	api_resp_free(r);
	/* A /63 holds two /64s: the gateway's and one to hand out. */
	mk_pool("{\"family\":6,\"cidr\":\"2001:db8:a001::/63\",\"gateway\":\"2001:db8:a001::1\","
	        "\"vps_prefix\":64}",
	        e6);
	mk_pool("{\"family\":4,\"cidr\":\"203.0.113.32/30\",\"gateway\":\"203.0.113.33\"}", f4);
	fx_vps(&admin, plan, tpl, cust_id, vps);

	vps_before = api_count(&admin, V1 "/vps?limit=1");
	alloc4 = pool_alloc(pool4);
	uniq(u);
	snprintf(host, sizeof(host), "full-%s.example.net", u);
	r = vps_order(&admin, host, plan, tpl, cust_id);
	assert_problem(r, 409, NULL);
	cr_assert(strstr(jstr(r->json, "detail"), "IPv6"), "%s", r->body);
	api_resp_free(r);
	cr_assert_eq(api_count(&admin, V1 "/vps?limit=1"), vps_before, "a VPS row was left");
	cr_assert_eq(pool_alloc(pool4), alloc4, "its IPv4 address stayed allocated");
	cr_assert_eq(pool_alloc(e6), 1);

	r = addr_post(&admin, vps, "{\"family\":6}");
	assert_problem(r, 409, NULL);
	api_resp_free(r);
	r = addr_post(&admin, vps, "{\"family\":6,\"pool\":\"%s\"}", e6);
	assert_problem(r, 409, "pool");
	api_resp_free(r);
	r = addr_post(&admin, vps, "{\"family\":4,\"pool\":\"%s\"}", f4);
	cr_assert_eq(r->status, 202, "%ld %s", r->status, r->body);
	cr_assert_str_eq(jstr(jget(r->json, "address"), "address"), "203.0.113.34");
	api_resp_free(r);
	r = addr_post(&admin, vps, "{\"family\":4,\"pool\":\"%s\"}", f4);
	assert_problem(r, 409, "pool");
	api_resp_free(r);
	cr_assert_eq(pool_alloc(f4), 1);
	cr_assert_eq(addr_count(vps), 3);
}

Test(net, pool_bad_input_is_refused)
{
	char p[32];

	mk_pool("{\"family\":4,\"cidr\":\"203.0.113.48/28\",\"gateway\":\"203.0.113.49\"}", p);
	pool_refused("{\"family\":4,\"cidr\":\"203.0.113.48/29\",\"gateway\":\"203.0.113.49\"}",
	             "203.0.113.48/29", 409, "cidr");
	pool_refused("{\"family\":4,\"cidr\":\"203.0.113.0/26\",\"gateway\":\"203.0.113.1\"}",
	             "203.0.113.0/26", 409, "cidr");
	pool_refused("{\"family\":4,\"cidr\":\"203.0.113.64/28\",\"gateway\":\"203.0.113.1\"}",
	             "203.0.113.64/28", 422, "gateway");
	pool_refused("{\"family\":4,\"cidr\":\"203.0.113.64/28\",\"gateway\":\"203.0.113.64\"}",
	             "203.0.113.64/28", 422, "gateway");
	pool_refused("{\"family\":4,\"cidr\":\"203.0.113.64/28\",\"gateway\":\"203.0.113.65\","
	             "\"reserved\":[\"203.0.113.66\",\"junk\"]}",
	             "203.0.113.64/28", 422, "reserved");
	pool_refused("{\"family\":4,\"cidr\":\"203.0.113.64/28\",\"gateway\":\"203.0.113.65\","
	             "\"reserved\":[\"203.0.113.99\"]}",
	             "203.0.113.64/28", 422, "reserved");
	pool_refused("{\"family\":4,\"cidr\":\"203.0.113.64/28\",\"gateway\":\"203.0.113.65\","
	             "\"reserved\":[5]}",
	             "203.0.113.64/28", 422, "reserved");
	pool_refused("{\"family\":4,\"cidr\":\"203.0.113.64/28\",\"gateway\":\"203.0.113.65\","
	             "\"vps_prefix\":64}",
	             "203.0.113.64/28", 422, "vps_prefix");
	pool_refused(
	        "{\"family\":6,\"cidr\":\"2001:db8:a003::/64\",\"gateway\":\"2001:db8:a003::1\","
	        "\"vps_prefix\":64}",
	        "2001:db8:a003::/64", 422, "cidr");
	pool_refused(
	        "{\"family\":6,\"cidr\":\"2001:db8:a003::/48\",\"gateway\":\"2001:db8:a003::1\","
	        "\"vps_prefix\":96}",
	        "2001:db8:a003::/48", 422, "vps_prefix");
	pool_refused(
	        "{\"family\":6,\"cidr\":\"2001:db8:a003::/48\",\"gateway\":\"2001:db8:a003::1\","
	        "\"vps_prefix\":\"64\"}",
	        "2001:db8:a003::/48", 422, "vps_prefix");
	mk_pool("{\"family\":6,\"cidr\":\"2001:db8:a002::/48\",\"gateway\":\"2001:db8:a002::1\","
	        "\"vps_prefix\":64}",
	        p);
	pool_refused("{\"family\":6,\"cidr\":\"2001:db8:a002:5::/64\","
	             "\"gateway\":\"2001:db8:a002:5::1\"}",
	             "2001:db8:a002:5::/64", 409, "cidr");
}

Test(net, address_bad_input_is_refused_and_leaves_nothing)
{
	char pool[32], vps[32], primary[64];
	long long before, alloc;
	api_resp *r;
	static const struct {
		const char *body;
		long status;
		const char *field;
	} cases[] = {
	        {"{\"family\":4,\"colour\":\"red\"}", 422, "colour"},
	        {"{\"pool\":\"1\"}", 422, "family"},
	        {"{\"family\":5}", 422, "family"},
	        {"{\"family\":\"4\"}", 422, "family"},
	        {"{\"family\":4,\"pool\":\"abc\"}", 422, "pool"},
	        {"{\"family\":4,\"pool\":\"999999999\"}", 422, "pool"},
	        {"{\"family\":4,\"pool\":7}", 422, "pool"},
	        {"{\"family\":4,\"address\":\"junk\"}", 422, "address"},
	        {"{\"family\":4,\"address\":\"\"}", 422, "address"},
	        {"{\"family\":4,\"address\":\"2001:db8::1\"}", 422, "address"},
	        {"{\"family\":4,\"address\":\"203.0.113.200\"}", 422, "address"},
	        {"{\"family\":4,\"address\":\"203.0.113.80\"}", 422, "address"}, /* network */
	        {"{\"family\":4,\"address\":\"203.0.113.95\"}", 422, "address"}, /* broadcast */
	        {"{\"family\":4,\"address\":\"203.0.113.81\"}", 422, "address"}, /* gateway */
	        {"{\"family\":4,\"address\":\"203.0.113.82\"}", 422, "address"}, /* reserved */
	        {"{\"family\":4,\"address\":\"203.0.113.83/32\"}", 422, "address"},
	};

	mk_pool("{\"family\":4,\"cidr\":\"203.0.113.80/28\",\"gateway\":\"203.0.113.81\","
	        "\"reserved\":[\"203.0.113.82\"]}",
	        pool);
	fx_vps(&admin, plan, tpl, cust_id, vps);
	r = vps_get_ok(&admin, vps);
	snprintf(primary, sizeof(primary), "%s",
	         json_object_get_string(json_object_array_get_idx(jget(r->json, "ipv4"), 0)));
	api_resp_free(r);
	before = addr_count(vps);
	alloc = pool_alloc(pool);
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		r = addr_post(&admin, vps, "%s", cases[i].body);
		assert_problem(r, cases[i].status, cases[i].field);
		api_resp_free(r);
	}
	r = addr_post(&admin, vps, "{\"family\":6,\"pool\":\"%s\"}", pool);
	assert_problem(r, 422, "pool"); /* an IPv4 pool */
	api_resp_free(r);
	r = addr_post(&admin, vps, "{\"family\":4,\"address\":\"%s\"}", primary);
	assert_problem(r, 409, "address"); /* taken */
	api_resp_free(r);
	r = addr_post(&admin, "999999999", "{\"family\":4}");
	assert_problem(r, 404, NULL);
	api_resp_free(r);
	cr_assert_eq(addr_count(vps), before, "a refused request added an address");
	cr_assert_eq(pool_alloc(pool), alloc);
	r = api_req(&admin, "GET", V1 "/jobs?limit=1", NULL);
	cr_assert_neq(strcmp(jstr(json_object_array_get_idx(r->json, 0), "kind"), "vps.network"), 0,
	              "a refused request queued a job: %s", r->body);
	api_resp_free(r);
}

Test(net, throttle_is_set_shown_and_lifted_by_admins_only)
{
	char vps[32], job[32], path[96];
	api_resp *r;
	static const char *const bad[] = {
	        "{\"mbit\":0}", "{\"mbit\":100001}",       "{\"mbit\":\"5\"}", "{\"mbit\":2.5}",
	        "{}",           "{\"mbit\":5,\"burst\":1}"};

	fx_vps(&admin, plan, tpl, cust_id, vps);
	r = vps_get_ok(&admin, vps);
	cr_assert_eq(jint(r->json, "throttle_mbit"), 0, "%s", r->body);
	api_resp_free(r);
	snprintf(path, sizeof(path), V1 "/vps/%s/throttle", vps);
	r = api_req(&admin, "PUT", path, "{\"mbit\":50}");
	cr_assert_eq(r->status, 202, "%ld %s", r->status, r->body);
	job_of(r, job);
	api_resp_free(r);
	r = vps_get_ok(&admin, vps);
	cr_assert_eq(jint(r->json, "throttle_mbit"), 50, "%s", r->body);
	api_resp_free(r);
	net_job_done(job);

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		r = api_raw(&admin, "PUT", path, "application/json", bad[i], strlen(bad[i]));
		assert_problem(r, 422, NULL);
		api_resp_free(r);
	}
	r = api_req(&cust, "PUT", path, "{\"mbit\":1}");
	assert_problem(r, 403, NULL);
	api_resp_free(r);
	r = api_req(&cust, "DELETE", path, NULL);
	assert_problem(r, 403, NULL);
	api_resp_free(r);
	r = vps_get_ok(&admin, vps);
	cr_assert_eq(jint(r->json, "throttle_mbit"), 50, "%s", r->body);
	api_resp_free(r);

	r = api_req(&admin, "DELETE", path, NULL);
	cr_assert_eq(r->status, 202, "%ld %s", r->status, r->body);
	job_of(r, job);
	api_resp_free(r);
	r = vps_get_ok(&admin, vps);
	cr_assert_eq(jint(r->json, "throttle_mbit"), 0, "%s", r->body);
	api_resp_free(r);
	net_job_done(job);
	r = api_req(&admin, "PUT", V1 "/vps/999999999/throttle", "{\"mbit\":5}");
	assert_problem(r, 404, NULL);
	api_resp_free(r);
}

Test(net, customers_read_their_own_list_and_write_nothing)
{
	char vps[32], other_id[32], path[96];
	api_client other, anon = {0};
	api_resp *r;

	fx_vps(&admin, plan, tpl, cust_id, vps);
	fx_customer(&admin, &other, other_id, NULL, NULL);
	r = addr_list(&cust, vps);
	cr_assert_eq(json_object_array_length(r->json), 1, "%s", r->body);
	api_resp_free(r);
	snprintf(path, sizeof(path), V1 "/vps/%s/addresses", vps);
	r = api_req(&other, "GET", path, NULL);
	assert_problem(r, 404, NULL); /* another's VPS: never 403 */
	api_resp_free(r);
	r = api_req(&anon, "GET", path, NULL);
	assert_problem(r, 401, NULL);
	api_resp_free(r);
	r = addr_post(&cust, vps, "{\"family\":4}");
	assert_problem(r, 403, NULL);
	api_resp_free(r);
	r = vps_get_ok(&admin, vps);
	snprintf(path, sizeof(path), "%s",
	         json_object_get_string(json_object_array_get_idx(jget(r->json, "ipv4"), 0)));
	api_resp_free(r);
	r = addr_delete(&cust, vps, path);
	assert_problem(r, 403, NULL);
	api_resp_free(r);
	cr_assert_eq(addr_count(vps), 1);
	snprintf(path, sizeof(path), V1 "/customers/%s", other_id);
	api_resp_free(api_req(&admin, "DELETE", path, NULL));
}

Test(net, plan_smtp_block_is_stored_and_reaches_its_vps)
{
	char p2[32], vps[32], path[96], res[48];
	api_resp *r;
	const char *kind;

	fx_plan(&admin, "\"smtp_block\":true", p2);
	snprintf(path, sizeof(path), V1 "/plans/%s", p2);
	r = api_req(&admin, "GET", path, NULL);
	cr_assert_eq(json_object_get_boolean(jget(r->json, "smtp_block")), 1, "%s", r->body);
	api_resp_free(r);
	snprintf(path, sizeof(path), V1 "/plans/%s", plan);
	r = api_req(&admin, "GET", path, NULL);
	cr_assert(json_object_is_type(jget(r->json, "smtp_block"), json_type_boolean), "%s",
	          r->body);
	cr_assert_not(json_object_get_boolean(jget(r->json, "smtp_block")), "default: %s", r->body);
	api_resp_free(r);
	r = api_req(&admin, "PATCH", path, "{\"smtp_block\":\"yes\"}");
	assert_problem(r, 422, "smtp_block");
	api_resp_free(r);

	fx_vps(&admin, plan, tpl, cust_id, vps);
	r = api_req(&admin, "PATCH", path, "{\"smtp_block\":true}");
	cr_assert_eq(r->status, 200, "%ld %s", r->status, r->body);
	cr_assert(json_object_get_boolean(jget(r->json, "smtp_block")), "%s", r->body);
	api_resp_free(r);
	snprintf(path, sizeof(path), V1 "/jobs?vps=%s&limit=1", vps);
	r = api_req(&admin, "GET", path, NULL);
	kind = jstr(json_object_array_get_idx(r->json, 0), "kind");
	cr_assert(kind && strcmp(kind, "vps.network") == 0, "no vps.network job: %s", r->body);
	snprintf(res, sizeof(res), "%s", jstr(json_object_array_get_idx(r->json, 0), "id"));
	api_resp_free(r);
	net_job_done(res);
}

Test(net, every_change_is_audited)
{
	char pool[32], vps[32], path[160], res[48];
	const char *want[] = {"vps.address.add", "vps.address.remove", "vps.throttle.set",
	                      "vps.throttle.lift"};
	api_resp *r;

	mk_pool("{\"family\":4,\"cidr\":\"203.0.113.96/28\",\"gateway\":\"203.0.113.97\"}", pool);
	fx_vps(&admin, plan, tpl, cust_id, vps);
	r = addr_post(&admin, vps, "{\"family\":4,\"pool\":\"%s\"}", pool);
	cr_assert_eq(r->status, 202, "%ld %s", r->status, r->body);
	snprintf(path, sizeof(path), "%s", jstr(jget(r->json, "address"), "address"));
	api_resp_free(r);
	r = addr_delete(&admin, vps, path);
	cr_assert_eq(r->status, 202, "%ld %s", r->status, r->body);
	api_resp_free(r);
	snprintf(path, sizeof(path), V1 "/vps/%s/throttle", vps);
	api_resp_free(api_req(&admin, "PUT", path, "{\"mbit\":10}"));
	api_resp_free(api_req(&admin, "DELETE", path, NULL));
	snprintf(res, sizeof(res), "vps/%s", vps);
	snprintf(path, sizeof(path), V1 "/audit?resource=%s&limit=100", res);
	r = api_req(&admin, "GET", path, NULL);
	cr_assert_eq(r->status, 200);
	for (size_t w = 0; w < sizeof(want) / sizeof(want[0]); w++) {
		bool found = false;

		for (size_t i = 0; i < json_object_array_length(r->json) && !found; i++) {
			json_object *e = json_object_array_get_idx(r->json, i);

			found = jstr(e, "action") && strcmp(jstr(e, "action"), want[w]) == 0 &&
			        jstr(e, "ip") && strcmp(jstr(e, "ip"), "127.0.0.1") == 0;
		}
		cr_assert(found, "no %s audit entry for %s: %s", want[w], res, r->body);
	}
	api_resp_free(r);
}
