/* api_test.c — the "Bad input" list of issue 3 against a running xvpsd ($XVPS_URL, admin
 * password $XVPS_ADMIN_PASSWORD): each case asserts the status docs/openapi.yaml names, an RFC 9457
 * problem+json body (with "field" for 422) and that nothing was left behind (no VPS row, no
 * address taken, no plan). The file-system side (no disk or config left) is checked by
 * tests/api/walk.sh, which can see $XVPS_STATE. Run serially (scripts/test.sh passes
 * --jobs 1): the "nothing left" checks compare server-wide counts. */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "client.h"

static api_client admin, cust;
static char plan[32], tpl[32], pool[32], cust_id[32];
static long long vps_before, alloc_before;

static void setup(void)
{
	fx_admin(&admin);
	fx_pool4(&admin, pool);
	fx_plan(&admin, NULL, plan);
	fx_template(&admin, tpl);
	fx_customer(&admin, &cust, cust_id, NULL, NULL);
	vps_before = api_count(&admin, V1 "/vps?limit=1");
	alloc_before = pool_allocated(&admin, pool);
}

TestSuite(bad, .init = setup, .fini = api_cleanup, .timeout = 90);

/* No VPS row and no address were left by a refused request. */
static void assert_nothing_left(void)
{
	char path[96];

	snprintf(path, sizeof(path), V1 "/vps?customer=%s", cust_id);
	cr_assert_eq(api_count(&admin, path), 0, "the customer owns a VPS after a refusal");
	cr_assert_eq(api_count(&admin, V1 "/vps?limit=1"), vps_before,
	             "the VPS count changed after a refusal");
	cr_assert_eq(pool_allocated(&admin, pool), alloc_before,
	             "a pool address stayed allocated after a refusal");
}

/* No plan named name exists. */
static void assert_no_plan(const char *name)
{
	api_resp *r = api_req(&admin, "GET", V1 "/plans?limit=1000", NULL);

	cr_assert_eq(r->status, 200);
	cr_assert(json_object_is_type(r->json, json_type_array));
	for (size_t i = 0; i < json_object_array_length(r->json); i++) {
		const char *n = jstr(json_object_array_get_idx(r->json, i), "name");

		cr_assert(!n || strcmp(n, name) != 0, "plan %s exists after a refusal", name);
	}
	api_resp_free(r);
}

/* POST /vps as the customer with a raw body; asserts the problem and that nothing is left. */
static void order_raw_expect(const char *ctype, const char *body, size_t len, long status,
                             const char *field)
{
	api_resp *r = api_raw(&cust, "POST", V1 "/vps", ctype, body, len);

	assert_problem(r, status, field);
	api_resp_free(r);
	assert_nothing_left();
}

/* POST /vps as the customer with a JSON body format taking plan then template. */
#define order_expect(fmt, status, field)                                                           \
	do {                                                                                       \
		char body_[1024];                                                                  \
		snprintf(body_, sizeof(body_), fmt, plan, tpl);                                    \
		order_raw_expect("application/json", body_, strlen(body_), status, field);         \
	} while (0)

/* POST /plans as admin with the given members after a unique name; expects 422 on field. */
static void plan_expect_422(const char *members, const char *field)
{
	char u[9], name[32];
	api_resp *r;

	uniq(u);
	snprintf(name, sizeof(name), "bad-%s", u);
	r = api_req(&admin, "POST", V1 "/plans", "{\"name\":\"%s\",%s}", name, members);
	assert_problem(r, 422, field);
	api_resp_free(r);
	assert_no_plan(name);
}

#define PLAN_OK_REST "\"memory_mib\":256,\"disk_gib\":2"

/* ---- body shape ------------------------------------------------------------------------ */

Test(bad, rejects_malformed_json)
{
	order_expect("{\"hostname\":\"a.example.net\",\"plan\":\"%s\",\"template\":\"%s\"", 400,
	             NULL);
}

Test(bad, rejects_trailing_garbage_after_json)
{
	order_expect("{\"hostname\":\"a.example.net\",\"plan\":\"%s\",\"template\":\"%s\"} x", 400,
	             NULL);
}

Test(bad, rejects_empty_body)
{
	order_raw_expect("application/json", "", 0, 400, NULL);
}

Test(bad, rejects_wrong_content_type)
{
	char body[256];

	snprintf(body, sizeof(body),
	         "{\"hostname\":\"ct.example.net\",\"plan\":\"%s\",\"template\":\"%s\"}", plan,
	         tpl);
	order_raw_expect("text/plain", body, strlen(body), 415, NULL);
	order_raw_expect("application/x-www-form-urlencoded", body, strlen(body), 415, NULL);
}

Test(bad, rejects_missing_content_type)
{
	char body[256];

	snprintf(body, sizeof(body),
	         "{\"hostname\":\"ct.example.net\",\"plan\":\"%s\",\"template\":\"%s\"}", plan,
	         tpl);
	order_raw_expect(NULL, body, strlen(body), 415, NULL);
}

Test(bad, rejects_body_over_64_kib)
{
	static char body[70 * 1024 + 1];
	size_t n = sizeof(body) - 1;
	int head;

	/* Valid JSON, only too large: the size alone must decide. */
	head = snprintf(body, n, "{\"plan\":\"%s\",\"template\":\"%s\",\"hostname\":\"", plan, tpl);
	memset(body + head, 'a', n - (size_t)head - 2);
	memcpy(body + n - 2, "\"}", 2);
	body[n] = '\0';
	order_raw_expect("application/json", body, n, 413, NULL);
}

Test(bad, rejects_json_nested_deeper_than_32)
{
	char body[512];
	int len = snprintf(body, sizeof(body), "{\"hostname\":\"deep.example.net\",\"ssh_keys\":");

	for (int i = 0; i < 40; i++)
		body[len++] = '[';
	for (int i = 0; i < 40; i++)
		body[len++] = ']';
	body[len++] = '}';
	body[len] = '\0';
	order_raw_expect("application/json", body, (size_t)len, 400, NULL);
}

/* ---- types, unknown and missing fields ------------------------------------------------ */

Test(bad, rejects_string_for_integer_vcpus)
{
	plan_expect_422("\"vcpus\":\"two\"," PLAN_OK_REST, "vcpus");
}

Test(bad, rejects_float_for_integer_memory)
{
	plan_expect_422("\"vcpus\":1,\"memory_mib\":256.5,\"disk_gib\":2", "memory_mib");
}

Test(bad, rejects_number_for_string_hostname)
{
	order_expect("{\"hostname\":42,\"plan\":\"%s\",\"template\":\"%s\"}", 422, "hostname");
}

Test(bad, rejects_number_for_plan_reference)
{
	char body[256];

	snprintf(body, sizeof(body),
	         "{\"hostname\":\"t.example.net\",\"plan\":%s,\"template\":\"%s\"}", plan, tpl);
	order_raw_expect("application/json", body, strlen(body), 422, "plan");
}

Test(bad, rejects_unknown_field_in_plan)
{
	plan_expect_422("\"vcpus\":1," PLAN_OK_REST ",\"colour\":\"red\"", "colour");
}

Test(bad, rejects_unknown_field_in_vps_order)
{
	order_expect("{\"hostname\":\"u.example.net\",\"plan\":\"%s\",\"template\":\"%s\","
	             "\"flavour\":\"large\"}",
	             422, "flavour");
}

Test(bad, rejects_plan_without_vcpus)
{
	plan_expect_422(PLAN_OK_REST, "vcpus");
}

Test(bad, rejects_vps_order_without_hostname)
{
	order_expect("{\"plan\":\"%s\",\"template\":\"%s\"}", 422, "hostname");
}

Test(bad, rejects_vps_order_without_template)
{
	char body[256];

	snprintf(body, sizeof(body), "{\"hostname\":\"m.example.net\",\"plan\":\"%s\"}", plan);
	order_raw_expect("application/json", body, strlen(body), 422, "template");
}

Test(bad, rejects_customer_without_email)
{
	char u[9];
	api_resp *r;

	uniq(u);
	r = api_req(&admin, "POST", V1 "/customers",
	            "{\"username\":\"nomail%s\",\"password\":\"a-long-enough-password\"}", u);
	assert_problem(r, 422, "email");
	api_resp_free(r);
}

/* ---- ranges --------------------------------------------------------------------------- */

#define RANGE_TEST(name, members, field)                                                           \
	Test(bad, name)                                                                            \
	{                                                                                          \
		plan_expect_422(members, field);                                                   \
	}

RANGE_TEST(rejects_zero_vcpus, "\"vcpus\":0," PLAN_OK_REST, "vcpus")
RANGE_TEST(rejects_65_vcpus, "\"vcpus\":65," PLAN_OK_REST, "vcpus")
RANGE_TEST(rejects_memory_below_128_mib, "\"vcpus\":1,\"memory_mib\":127,\"disk_gib\":2",
           "memory_mib")
RANGE_TEST(rejects_memory_above_1_tib, "\"vcpus\":1,\"memory_mib\":1048577,\"disk_gib\":2",
           "memory_mib")
RANGE_TEST(rejects_zero_disk, "\"vcpus\":1,\"memory_mib\":256,\"disk_gib\":0", "disk_gib")
RANGE_TEST(rejects_disk_above_16384_gib, "\"vcpus\":1,\"memory_mib\":256,\"disk_gib\":16385",
           "disk_gib")
RANGE_TEST(rejects_zero_cpu_weight, "\"vcpus\":1," PLAN_OK_REST ",\"cpu_weight\":0", "cpu_weight")
RANGE_TEST(rejects_cpu_weight_above_65535, "\"vcpus\":1," PLAN_OK_REST ",\"cpu_weight\":65536",
           "cpu_weight")
RANGE_TEST(rejects_negative_cpu_cap, "\"vcpus\":1," PLAN_OK_REST ",\"cpu_cap_pct\":-1",
           "cpu_cap_pct")
RANGE_TEST(rejects_cap_above_vcpus_times_100, "\"vcpus\":2," PLAN_OK_REST ",\"cpu_cap_pct\":201",
           "cpu_cap_pct")
RANGE_TEST(rejects_negative_net_mbit, "\"vcpus\":1," PLAN_OK_REST ",\"net_mbit\":-1", "net_mbit")
RANGE_TEST(rejects_negative_price, "\"vcpus\":1," PLAN_OK_REST ",\"price_month_cents\":-5",
           "price_month_cents")

Test(bad, accepts_cap_of_exactly_vcpus_times_100)
{
	char id[32];

	fx_plan(&admin, "\"cpu_cap_pct\":200", id);
}

Test(bad, rejects_plan_patch_out_of_range_and_keeps_the_plan)
{
	char path[96];
	api_resp *r;

	snprintf(path, sizeof(path), V1 "/plans/%s", plan);
	r = api_req(&admin, "PATCH", path, "{\"cpu_weight\":0}");
	assert_problem(r, 422, "cpu_weight");
	api_resp_free(r);
	r = api_req(&admin, "PATCH", path, "{\"cpu_cap_pct\":201}");
	assert_problem(r, 422, "cpu_cap_pct");
	api_resp_free(r);
	r = api_req(&admin, "GET", path, NULL);
	cr_assert_eq(r->status, 200);
	cr_assert_eq(jint(r->json, "cpu_weight"), 256, "%s", r->body);
	cr_assert_eq(jint(r->json, "cpu_cap_pct"), 0, "%s", r->body);
	api_resp_free(r);
}

/* ---- hostnames ------------------------------------------------------------------------ */

static void bad_hostname(const char *hostname)
{
	api_resp *r = vps_order(&cust, hostname, plan, tpl, NULL);

	assert_problem(r, 422, "hostname");
	api_resp_free(r);
	assert_nothing_left();
}

#define HOSTNAME_TEST(name, host)                                                                  \
	Test(bad, name)                                                                            \
	{                                                                                          \
		bad_hostname(host);                                                                \
	}

HOSTNAME_TEST(rejects_hostname_with_quote, "web\"1.example.net")
HOSTNAME_TEST(rejects_hostname_with_single_quote, "web'1.example.net")
HOSTNAME_TEST(rejects_hostname_with_newline, "web1\n.example.net")
HOSTNAME_TEST(rejects_hostname_with_comma, "web,1.example.net")
HOSTNAME_TEST(rejects_hostname_with_equals, "web=1.example.net")
HOSTNAME_TEST(rejects_hostname_with_double_dot, "web1..example.net")
HOSTNAME_TEST(rejects_hostname_with_space, "web 1.example.net")
HOSTNAME_TEST(rejects_hostname_with_leading_dash, "-web1.example.net")
HOSTNAME_TEST(rejects_hostname_with_upper_case, "Web1.example.net")
HOSTNAME_TEST(rejects_empty_hostname, "")
HOSTNAME_TEST(rejects_hostname_label_over_63, "a123456789b123456789c123456789d123456789e123456789f"
                                              "1234567890123.example.net")

Test(bad, rejects_hostname_over_253_characters)
{
	char host[255];

	/* 63 + 1 + 63 + 1 + 63 + 1 + 62 = 254 characters, every label valid. */
	memset(host, 'a', sizeof(host) - 1);
	host[63] = host[127] = host[191] = '.';
	host[254] = '\0';
	cr_assert_eq(strlen(host), 254);
	bad_hostname(host);
}

Test(bad, rejects_duplicate_hostname_with_409)
{
	char vps[32], path[96], host[256], other[32];
	api_resp *r;

	fx_vps(&cust, plan, tpl, NULL, vps);
	snprintf(path, sizeof(path), V1 "/vps/%s", vps);
	r = api_req(&cust, "GET", path, NULL);
	cr_assert_eq(r->status, 200);
	snprintf(host, sizeof(host), "%s", jstr(r->json, "hostname"));
	api_resp_free(r);
	vps_before = api_count(&admin, V1 "/vps?limit=1");
	alloc_before = pool_allocated(&admin, pool);

	r = vps_order(&cust, host, plan, tpl, NULL);
	assert_problem(r, 409, NULL);
	api_resp_free(r);
	/* Also across customers: hostnames are unique among all live VPS. */
	fx_customer(&admin, NULL, other, NULL, NULL);
	r = vps_order(&admin, host, plan, tpl, other);
	assert_problem(r, 409, NULL);
	api_resp_free(r);
	cr_assert_eq(api_count(&admin, V1 "/vps?limit=1"), vps_before);
	cr_assert_eq(pool_allocated(&admin, pool), alloc_before);
	fx_vps_delete(&cust, vps);
}

/* ---- references ----------------------------------------------------------------------- */

Test(bad, rejects_unknown_plan)
{
	char body[256];

	snprintf(body, sizeof(body),
	         "{\"hostname\":\"np.example.net\",\"plan\":\"987654321\",\"template\":\"%s\"}",
	         tpl);
	order_raw_expect("application/json", body, strlen(body), 422, "plan");
	snprintf(body, sizeof(body),
	         "{\"hostname\":\"np.example.net\",\"plan\":\"not-an-id\",\"template\":\"%s\"}",
	         tpl);
	order_raw_expect("application/json", body, strlen(body), 422, "plan");
}

Test(bad, rejects_unknown_template)
{
	char body[256];

	snprintf(body, sizeof(body),
	         "{\"hostname\":\"nt.example.net\",\"plan\":\"%s\",\"template\":\"987654321\"}",
	         plan);
	order_raw_expect("application/json", body, strlen(body), 422, "template");
}

Test(bad, rejects_customer_field_from_a_customer)
{
	api_resp *r = vps_order(&cust, "cf.example.net", plan, tpl, cust_id);

	assert_problem(r, 422, "customer");
	api_resp_free(r);
	assert_nothing_left();
}

/* ---- roles ---------------------------------------------------------------------------- */

Test(bad, customer_cannot_see_or_act_on_another_customers_vps)
{
	api_client other;
	char vps[32], other_id[32], path[128];
	const char *acts[] = {"reboot", "shutdown", "poweroff", "start", "reinstall"};
	long long domid;
	api_resp *r;

	fx_vps(&cust, plan, tpl, NULL, vps);
	snprintf(path, sizeof(path), V1 "/vps/%s", vps);
	r = api_req(&cust, "GET", path, NULL);
	domid = jint(r->json, "domid");
	api_resp_free(r);
	fx_customer(&admin, &other, other_id, NULL, NULL);

	r = api_req(&other, "GET", path, NULL);
	assert_problem(r, 404, NULL);
	api_resp_free(r);
	for (size_t i = 0; i < sizeof(acts) / sizeof(acts[0]); i++) {
		snprintf(path, sizeof(path), V1 "/vps/%s/actions/%s", vps, acts[i]);
		r = api_req(&other, "POST", path, NULL);
		assert_problem(r, 404, NULL);
		api_resp_free(r);
	}
	snprintf(path, sizeof(path), V1 "/vps/%s", vps);
	r = api_req(&other, "DELETE", path, NULL);
	assert_problem(r, 404, NULL);
	api_resp_free(r);
	cr_assert_eq(api_count(&other, V1 "/vps"), 0, "another customer's VPS is listed");
	snprintf(path, sizeof(path), V1 "/vps?customer=%s", cust_id);
	cr_assert_eq(api_count(&other, path), 0, "?customer= shows another customer's VPS");

	/* The owner's VPS is untouched: same state, same domid (no reboot happened). */
	snprintf(path, sizeof(path), V1 "/vps/%s", vps);
	r = api_req(&cust, "GET", path, NULL);
	cr_assert_eq(r->status, 200);
	cr_assert_str_eq(jstr(r->json, "state"), "running");
	cr_assert_eq(jint(r->json, "domid"), domid);
	api_resp_free(r);
	fx_vps_delete(&cust, vps);
}

Test(bad, customer_gets_403_on_admin_endpoints)
{
	char path[96], u[9];
	api_resp *r;

	uniq(u);
	r = api_req(&cust, "POST", V1 "/plans",
	            "{\"name\":\"cust-%s\",\"vcpus\":1," PLAN_OK_REST "}", u);
	assert_problem(r, 403, NULL);
	api_resp_free(r);
	r = api_req(&cust, "GET", V1 "/customers", NULL);
	assert_problem(r, 403, NULL);
	api_resp_free(r);
	r = api_req(&cust, "POST", V1 "/ip-pools",
	            "{\"family\":4,\"cidr\":\"203.0.113.0/28\",\"gateway\":\"203.0.113.1\"}");
	assert_problem(r, 403, NULL);
	api_resp_free(r);
	r = api_req(&cust, "GET", V1 "/audit", NULL);
	assert_problem(r, 403, NULL);
	api_resp_free(r);
	r = api_req(&cust, "POST", V1 "/templates",
	            "{\"name\":\"cust-%s\",\"os\":\"x\",\"disk_gib\":1,\"boot\":\"pvh\"}", u);
	assert_problem(r, 403, NULL);
	api_resp_free(r);
	snprintf(path, sizeof(path), V1 "/plans/%s", plan);
	r = api_req(&cust, "DELETE", path, NULL);
	assert_problem(r, 403, NULL);
	api_resp_free(r);
	r = api_req(&cust, "PATCH", path, "{\"cpu_weight\":999}");
	assert_problem(r, 403, NULL);
	api_resp_free(r);

	r = api_req(&admin, "GET", path, NULL);
	cr_assert_eq(r->status, 200, "the plan is gone after a customer's DELETE");
	cr_assert_eq(jint(r->json, "cpu_weight"), 256);
	api_resp_free(r);
	snprintf(path, sizeof(path), "cust-%s", u);
	assert_no_plan(path);
}

/* ---- sessions ------------------------------------------------------------------------- */

Test(bad, no_session_gets_401)
{
	api_resp *r = api_req(NULL, "GET", V1 "/vps", NULL);

	assert_problem(r, 401, NULL);
	api_resp_free(r);
	r = api_req(NULL, "GET", V1 "/me", NULL);
	assert_problem(r, 401, NULL);
	api_resp_free(r);
	r = vps_order(NULL, "ns.example.net", plan, tpl, cust_id);
	assert_problem(r, 401, NULL);
	api_resp_free(r);
	assert_nothing_left();
}

Test(bad, forged_session_cookie_gets_401)
{
	api_client forged = cust;
	api_resp *r;

	/* Same shape as a real token, different value. */
	for (char *p = forged.session; *p; p++)
		*p = *p == 'a' ? 'b' : 'a';
	r = api_req(&forged, "GET", V1 "/me", NULL);
	assert_problem(r, 401, NULL);
	api_resp_free(r);
	snprintf(forged.session, sizeof(forged.session), "x");
	r = api_req(&forged, "GET", V1 "/vps", NULL);
	assert_problem(r, 401, NULL);
	api_resp_free(r);
	r = vps_order(&forged, "fs.example.net", plan, tpl, NULL);
	assert_problem(r, 401, NULL);
	api_resp_free(r);
	assert_nothing_left();
}

Test(bad, bearer_with_unknown_key_gets_401)
{
	api_client c = {0};
	api_resp *r;

	snprintf(c.bearer, sizeof(c.bearer), "xvps_0123456789abcdef0123456789abcdef");
	r = api_req(&c, "GET", V1 "/me", NULL);
	assert_problem(r, 401, NULL);
	api_resp_free(r);
}

Test(bad, cookie_request_without_csrf_token_gets_403)
{
	api_client nocsrf = cust;
	api_resp *r;

	nocsrf.csrf[0] = '\0';
	r = vps_order(&nocsrf, "nc.example.net", plan, tpl, NULL);
	assert_problem(r, 403, NULL);
	api_resp_free(r);
	snprintf(nocsrf.csrf, sizeof(nocsrf.csrf), "not-the-token");
	r = vps_order(&nocsrf, "nc.example.net", plan, tpl, NULL);
	assert_problem(r, 403, NULL);
	api_resp_free(r);
	assert_nothing_left();
	/* A logout without the token is refused too: the session still works afterwards. */
	nocsrf.csrf[0] = '\0';
	r = api_req(&nocsrf, "DELETE", V1 "/session", NULL);
	assert_problem(r, 403, NULL);
	api_resp_free(r);
	r = api_req(&cust, "GET", V1 "/me", NULL);
	cr_assert_eq(r->status, 200, "%s", r->body);
	api_resp_free(r);
	/* Each refusal is in the audit log. */
	r = api_req(&admin, "GET", V1 "/audit?limit=1000", NULL);
	cr_assert_eq(r->status, 200, "%s", r->body);
	cr_assert_not_null(strstr(r->body, "\"csrf.refused\""), "no csrf.refused audit row");
	api_resp_free(r);
}

Test(bad, reused_logged_out_session_gets_401)
{
	api_resp *r = api_req(&cust, "DELETE", V1 "/session", NULL);

	cr_assert(r->status == 204 || r->status == 200, "logout: %ld %s", r->status, r->body);
	api_resp_free(r);
	r = api_req(&cust, "GET", V1 "/me", NULL);
	assert_problem(r, 401, NULL);
	api_resp_free(r);
	r = vps_order(&cust, "lo.example.net", plan, tpl, NULL);
	assert_problem(r, 401, NULL);
	api_resp_free(r);
	assert_nothing_left();
}

Test(bad, login_rotates_the_session)
{
	api_client again;
	char user[32], pw[40], id[32];
	api_client first;

	fx_customer(&admin, &first, id, user, pw);
	cr_assert_eq(api_login(&again, user, pw), 201);
	cr_assert_str_neq(first.session, again.session, "login reused a session token");
	cr_assert_geq(strlen(again.session), 22, "session token shorter than 128 bits");
}

Test(bad, sixth_wrong_password_in_a_row_gets_429)
{
	char user[32], pw[40], id[32];
	api_resp *r;

	/* A dedicated user: the limit is per user and address. Never the admin. */
	fx_customer(&admin, NULL, id, user, pw);
	for (int i = 1; i <= 5; i++) {
		r = api_req(NULL, "POST", V1 "/session",
		            "{\"username\":\"%s\",\"password\":\"wrong-password-%d\"}", user, i);
		assert_problem(r, 401, NULL);
		cr_assert_eq(r->session_cookie[0], '\0', "a failed login set a session cookie");
		api_resp_free(r);
	}
	r = api_req(NULL, "POST", V1 "/session",
	            "{\"username\":\"%s\",\"password\":\"wrong-password-6\"}", user);
	assert_problem(r, 429, NULL);
	api_resp_free(r);
	/* While limited, even the right password is refused: no oracle for the guesser. */
	r = api_req(NULL, "POST", V1 "/session", "{\"username\":\"%s\",\"password\":\"%s\"}", user,
	            pw);
	assert_problem(r, 429, NULL);
	cr_assert_eq(r->session_cookie[0], '\0');
	api_resp_free(r);
}

Test(bad, login_with_unknown_user_gets_401)
{
	api_resp *r = api_req(NULL, "POST", V1 "/session",
	                      "{\"username\":\"nobody-here\",\"password\":\"whatever-it-is\"}");

	assert_problem(r, 401, NULL);
	api_resp_free(r);
}

Test(bad, unknown_path_gets_404_problem)
{
	api_resp *r = api_req(&cust, "GET", V1 "/no-such-thing", NULL);

	assert_problem(r, 404, NULL);
	api_resp_free(r);
}

Test(bad, bad_paging_parameters_get_422)
{
	api_resp *r = api_req(&admin, "GET", V1 "/plans?limit=0", NULL);

	assert_problem(r, 422, "limit");
	api_resp_free(r);
	r = api_req(&admin, "GET", V1 "/plans?offset=-1", NULL);
	assert_problem(r, 422, "offset");
	api_resp_free(r);
}
