/* api_usage.c — the usage ledger through the API, against a running xvpsd ($XVPS_URL): GET
 * /vps/{id}/usage's shape (integer points whose sums equal "total"), its totals equal to the VPS
 * object's net and cpu totals, "usage_period" on the VPS object, another customer's VPS a 404,
 * every bad input a 422 naming its field, a deleted VPS's usage still answered to the admin (and
 * a 404 to its customer), and GET /customers/{id}/usage with per-VPS totals. */
#include <criterion/criterion.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "client.h"

static const char *const fields[] = {"cpu_ns",     "rx_bytes",  "tx_bytes",   "rx_packets",
                                     "tx_packets", "running_s", "disk_gib_s", NULL};

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

TestSuite(usage, .init = setup, .fini = api_cleanup, .timeout = 180);

/* Waits (up to 3 sweeps) until VPS id has been sampled; returns the VPS object's response. */
static api_resp *wait_sampled(const api_client *c, const char *id)
{
	const char *iv = getenv("XVPS_METER_INTERVAL");
	int interval = iv && atoi(iv) > 0 ? atoi(iv) : 10;
	char path[96];
	api_resp *r = NULL;

	snprintf(path, sizeof(path), V1 "/vps/%s", id);
	for (int i = 0; i < (3 * interval + 10) * 5; i++) {
		api_resp_free(r);
		r = api_req(c, "GET", path, NULL);
		cr_assert_eq(r->status, 200, "%s", r->body);
		if (jstr(jget(r->json, "net"), "sampled_at") &&
		    jstr(jget(r->json, "cpu"), "sampled_at"))
			return r;
		usleep(200 * 1000);
	}
	cr_assert_fail("VPS %s not sampled: %s", id, r->body);
	return r;
}

/* Asserts the usage answer's shape; the sums of the points equal "total", field by field. */
static void assert_usage_shape(const api_resp *r, const char *key, const char *step)
{
	json_object *pts = jget(r->json, "points"), *total = jget(r->json, "total"), *p95;

	cr_assert_eq(r->status, 200, "%s", r->body);
	cr_assert(jstr(r->json, key) && jstr(r->json, "from") && jstr(r->json, "to"), "%s",
	          r->body);
	cr_assert_str_eq(jstr(r->json, "step"), step);
	cr_assert(pts && json_object_is_type(pts, json_type_array), "%s", r->body);
	cr_assert(total, "%s", r->body);
	for (int f = 0; fields[f]; f++) {
		long long sum = 0;

		for (size_t i = 0; i < json_object_array_length(pts); i++) {
			json_object *p = json_object_array_get_idx(pts, i), *v;

			cr_assert(jstr(p, "t"), "point without t: %s", r->body);
			cr_assert(json_object_object_get_ex(p, fields[f], &v) &&
			                  json_object_is_type(v, json_type_int),
			          "point %zu: %s is not an integer", i, fields[f]);
			sum += json_object_get_int64(v);
		}
		cr_assert_eq(sum, jint(total, fields[f]), "sum of points' %s %lld != total %lld",
		             fields[f], sum, jint(total, fields[f]));
	}
	p95 = jget(r->json, "p95_5m_bps");
	cr_assert(p95 && jint(p95, "rx") >= 0 && jint(p95, "tx") >= 0, "%s", r->body);
}

Test(usage, shape_totals_equal_the_vps_counters_and_deleted_vps_stays_billable)
{
	char vps[32], path[160], created[32], period_start[32];
	api_resp *v, *u = NULL, *v2 = NULL;
	json_object *period;
	int tries;

	fx_vps(&cust, plan, tpl, NULL, vps);
	v = wait_sampled(&cust, vps);
	period = jget(v->json, "usage_period");
	cr_assert(period && jstr(period, "start") && jstr(period, "end") &&
	                  jint(period, "rx_bytes") >= 0 && jint(period, "cpu_ns") >= 0 &&
	                  jint(period, "running_s") >= 0 && jint(period, "tx_bytes") >= 0,
	          "usage_period: %s", v->body);
	snprintf(created, sizeof(created), "%s", jstr(v->json, "created_at"));
	snprintf(period_start, sizeof(period_start), "%s", jstr(period, "start"));
	/* From the VPS's creation: the ledger's totals are the VPS's counters, read between two
	 * reads of the VPS that saw the same sweep. */
	snprintf(path, sizeof(path), V1 "/vps/%s/usage?from=%s&step=1h", vps, created);
	api_resp_free(v);
	for (tries = 0; tries < 20; tries++) {
		char vpath[96];

		snprintf(vpath, sizeof(vpath), V1 "/vps/%s", vps);
		v = api_req(&cust, "GET", vpath, NULL);
		u = api_req(&cust, "GET", path, NULL);
		v2 = api_req(&cust, "GET", vpath, NULL);
		if (strcmp(jstr(jget(v->json, "net"), "sampled_at"),
		           jstr(jget(v2->json, "net"), "sampled_at")) == 0 &&
		    strcmp(jstr(jget(v->json, "cpu"), "sampled_at"),
		           jstr(jget(v2->json, "cpu"), "sampled_at")) == 0)
			break;
		api_resp_free(v);
		api_resp_free(u);
		api_resp_free(v2);
	}
	cr_assert_lt(tries, 20, "never two reads of the VPS around one of its usage");
	assert_usage_shape(u, "vps", "1h");
	cr_assert_str_eq(jstr(u->json, "vps"), vps);
	for (int f = 1; f <= 4; f++)
		cr_assert_eq(jint(jget(u->json, "total"), fields[f]),
		             jint(jget(v->json, "net"), fields[f]), "total %s != net's: %s / %s",
		             fields[f], u->body, v->body);
	{
		double secs = json_object_get_double(jget(jget(v->json, "cpu"), "seconds"));
		long long ns = jint(jget(u->json, "total"), "cpu_ns");

		cr_assert(fabs((double)ns / 1e9 - secs) < 1e-6, "cpu_ns %lld vs seconds %f", ns,
		          secs);
	}
	api_resp_free(v2);
	api_resp_free(v);

	/* Another customer: 404, never 403. */
	snprintf(path, sizeof(path), V1 "/vps/%s/usage", vps);
	v = api_req(&other, "GET", path, NULL);
	assert_problem(v, 404, NULL);
	api_resp_free(v);
	/* The default range is the current billing period, the default step 1h. */
	v = api_req(&admin, "GET", path, NULL);
	assert_usage_shape(v, "vps", "1h");
	cr_assert_str_eq(jstr(v->json, "from"), period_start);
	api_resp_free(v);

	/* Deleted: the admin still gets its usage, the same totals; its customer a 404. */
	snprintf(path, sizeof(path), V1 "/vps/%s/usage?from=%s&step=1d", vps, created);
	fx_vps_delete(&cust, vps);
	v = api_req(&admin, "GET", path, NULL);
	assert_usage_shape(v, "vps", "1d");
	cr_assert_geq(jint(jget(v->json, "total"), "rx_bytes"),
	              jint(jget(u->json, "total"), "rx_bytes"));
	cr_assert_geq(jint(jget(v->json, "total"), "cpu_ns"),
	              jint(jget(u->json, "total"), "cpu_ns"));
	api_resp_free(v);
	v = api_req(&cust, "GET", path, NULL);
	assert_problem(v, 404, NULL);
	api_resp_free(v);

	/* The customer's usage (admin): the deleted VPS is among its per-VPS totals. */
	snprintf(path, sizeof(path), V1 "/customers/%s/usage?from=%s&step=1d", cust_id, created);
	v = api_req(&admin, "GET", path, NULL);
	assert_usage_shape(v, "customer", "1d");
	{
		json_object *list = jget(v->json, "vps_totals");
		bool found = false;

		cr_assert(list && json_object_is_type(list, json_type_array), "%s", v->body);
		for (size_t i = 0; i < json_object_array_length(list); i++) {
			json_object *e = json_object_array_get_idx(list, i);

			if (strcmp(jstr(e, "vps"), vps) == 0) {
				found = true;
				cr_assert_geq(jint(jget(e, "total"), "rx_bytes"),
				              jint(jget(u->json, "total"), "rx_bytes"));
			}
		}
		cr_assert(found, "VPS %s not in its customer's usage: %s", vps, v->body);
	}
	api_resp_free(v);
	api_resp_free(u);
	v = api_req(&cust, "GET", path, NULL);
	cr_assert(v->status == 403 || v->status == 404, "%ld", v->status);
	api_resp_free(v);

	/* The customer deleted too: its usage still answers, with the VPS's totals. */
	snprintf(path, sizeof(path), V1 "/customers/%s", cust_id);
	v = api_req(&admin, "DELETE", path, NULL);
	cr_assert_eq(v->status, 204, "DELETE %s: %ld %s", path, v->status, v->body);
	api_resp_free(v);
	snprintf(path, sizeof(path), V1 "/customers/%s/usage?from=%s&step=1d", cust_id, created);
	v = api_req(&admin, "GET", path, NULL);
	assert_usage_shape(v, "customer", "1d");
	cr_assert_eq(json_object_array_length(jget(v->json, "vps_totals")), 1, "%s", v->body);
	api_resp_free(v);
}

Test(usage, bad_input_is_a_422_naming_the_field)
{
	static const struct {
		const char *query, *field;
	} bad[] = {
	        {"step=15m", "step"},
	        {"step=", "step"},
	        {"from=2026-03-02T00:00:00Z&to=2026-03-01T00:00:00Z", "from"},
	        {"from=2026-03-01T00:00:00Z&to=2026-03-01T00:00:00Z", "from"},
	        {"from=yesterday", "from"},
	        {"from=2026-02-30T00:00:00Z", "from"},
	        {"to=2026-03-01", "to"},
	        {"from=2025-01-01T00:00:00Z&to=2026-01-02T00:00:00Z&step=5m", "to"},
	};
	char vps[32], path[192];
	api_resp *r;

	fx_vps(&cust, plan, tpl, NULL, vps);
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		snprintf(path, sizeof(path), V1 "/vps/%s/usage?%s", vps, bad[i].query);
		r = api_req(&cust, "GET", path, NULL);
		assert_problem(r, 422, bad[i].field);
		api_resp_free(r);
	}
	/* A year at 1h fits (8,760 points); a month at 5m too. */
	snprintf(path, sizeof(path),
	         V1 "/vps/%s/usage?from=2025-01-01T00:00:00Z&to=2026-01-01T00:00:00Z&step=1h", vps);
	r = api_req(&cust, "GET", path, NULL);
	assert_usage_shape(r, "vps", "1h");
	cr_assert_eq(json_object_array_length(jget(r->json, "points")), 8760);
	api_resp_free(r);
	snprintf(path, sizeof(path), V1 "/vps/%s/usage?step=5m", vps);
	r = api_req(&cust, "GET", path, NULL);
	assert_usage_shape(r, "vps", "5m");
	api_resp_free(r);
	/* No such VPS, no such customer. */
	r = api_req(&admin, "GET", V1 "/vps/999999999/usage", NULL);
	assert_problem(r, 404, NULL);
	api_resp_free(r);
	r = api_req(&admin, "GET", V1 "/customers/999999999/usage", NULL);
	assert_problem(r, 404, NULL);
	api_resp_free(r);
	snprintf(path, sizeof(path), V1 "/customers/%s/usage?step=1w", other_id);
	r = api_req(&admin, "GET", path, NULL);
	assert_problem(r, 422, "step");
	api_resp_free(r);
	fx_vps_delete(&cust, vps);
}
