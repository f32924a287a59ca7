/* api_billing.c — prices, invoices, credit notes, payments and the prepaid balance (issue 14
 * items 1-3) against a running xvpsd ($XVPS_URL, XVPS_BILLING_INTERVAL=1 from scripts/test.sh):
 * plan price fields and their bad input, the settings and a non-ISO 4217 currency, a final
 * invoice (JSON and CSV, total = sum of lines, a customer sees only its own), an issued invoice
 * refusing PATCH and DELETE (409), credit notes (never above the remaining amount) reversing it,
 * payments (never 0), and a prepaid customer's balance crossing its threshold suspending its VPS
 * (by billing) and a payment lifting it. Every test deletes the VPS, customers and plans it made
 * (invoices and payments stay: money records are never deleted). */
#include <criterion/criterion.h>
#include <stdio.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "client.h"

static api_client admin, cust, other;
static char tpl[32], pool[32], cust_id[32], other_id[32];

static void setup(void)
{
	fx_admin(&admin);
	fx_pool4(&admin, pool);
	fx_template(&admin, tpl);
	fx_customer(&admin, &cust, cust_id, NULL, NULL);
	fx_customer(&admin, &other, other_id, NULL, NULL);
}

static void teardown(void)
{
	char path[96];
	api_resp *r;

	snprintf(path, sizeof(path), V1 "/customers/%s", cust_id);
	api_resp_free(api_req(&admin, "DELETE", path, NULL));
	snprintf(path, sizeof(path), V1 "/customers/%s", other_id);
	api_resp_free(api_req(&admin, "DELETE", path, NULL));
	snprintf(path, sizeof(path), V1 "/templates/%s", tpl);
	r = api_req(&admin, "DELETE", path, NULL);
	api_resp_free(r);
	api_cleanup();
}

TestSuite(billing, .init = setup, .fini = teardown, .timeout = 180);

/* A plan at 73,000 cents a month: exactly 100 cents an hour by default. */
static void priced_plan(const char *extra, char id_out[32])
{
	char u[9];
	api_resp *r;

	uniq(u);
	r = api_req(&admin, "POST", V1 "/plans",
	            "{\"name\":\"bill-%s\",\"vcpus\":1,\"memory_mib\":256,\"disk_gib\":2,"
	            "\"price_month_cents\":73000%s%s}",
	            u, extra ? "," : "", extra ? extra : "");
	cr_assert_eq(r->status, 201, "POST /plans: %ld %s", r->status, r->body);
	snprintf(id_out, 32, "%s", jstr(r->json, "id"));
	api_resp_free(r);
}

static void delete_plan(const char *id)
{
	char path[96];

	snprintf(path, sizeof(path), V1 "/plans/%s", id);
	api_resp_free(api_req(&admin, "DELETE", path, NULL));
}

Test(billing, plan_prices_and_their_bad_input)
{
	static const char *const bad[][2] = {
	        {"\"price_month_cents\":-1", "price_month_cents"},
	        {"\"price_hour_microcents\":-1", "price_hour_microcents"},
	        {"\"overage_gib_microcents\":-5", "overage_gib_microcents"},
	        {"\"ipv4_month_cents\":-100", "ipv4_month_cents"},
	        {"\"included_traffic_gib\":-1", "included_traffic_gib"},
	        {"\"ipv4_month_cents\":\"1\"", "ipv4_month_cents"},
	};
	long long before = api_count(&admin, V1 "/plans");
	char plan[32], path[96];
	api_resp *r;

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		r = api_req(
		        &admin, "POST", V1 "/plans",
		        "{\"name\":\"bad-price\",\"vcpus\":1,\"memory_mib\":256,\"disk_gib\":2,%s}",
		        bad[i][0]);
		assert_problem(r, 422, bad[i][1]);
		api_resp_free(r);
	}
	cr_assert_eq(api_count(&admin, V1 "/plans"), before, "a refused plan was created");

	priced_plan("\"traffic_gib\":100,\"overage_gib_microcents\":1000000,"
	            "\"ipv4_month_cents\":300",
	            plan);
	snprintf(path, sizeof(path), V1 "/plans/%s", plan);
	r = api_req(&admin, "GET", path, NULL);
	cr_assert_eq(r->status, 200);
	cr_assert(jis_null(r->json, "price_hour_microcents"), "%s", r->body);
	cr_assert_eq(jint(r->json, "effective_price_hour_microcents"), 100000000, "%s", r->body);
	cr_assert(jis_null(r->json, "included_traffic_gib"), "%s", r->body);
	cr_assert_eq(jint(r->json, "overage_gib_microcents"), 1000000);
	cr_assert_eq(jint(r->json, "ipv4_month_cents"), 300);
	api_resp_free(r);
	r = api_req(&admin, "PATCH", path,
	            "{\"price_hour_microcents\":12345,\"included_traffic_gib\":7}");
	cr_assert_eq(r->status, 200, "%s", r->body);
	cr_assert_eq(jint(r->json, "price_hour_microcents"), 12345);
	cr_assert_eq(jint(r->json, "effective_price_hour_microcents"), 12345);
	cr_assert_eq(jint(r->json, "included_traffic_gib"), 7);
	api_resp_free(r);
	r = api_req(&admin, "PATCH", path, "{\"price_hour_microcents\":null}");
	cr_assert_eq(r->status, 200, "%s", r->body);
	cr_assert(jis_null(r->json, "price_hour_microcents"), "%s", r->body);
	cr_assert_eq(jint(r->json, "effective_price_hour_microcents"), 100000000);
	api_resp_free(r);
	r = api_req(&admin, "PATCH", path, "{\"overage_gib_microcents\":-1}");
	assert_problem(r, 422, "overage_gib_microcents");
	api_resp_free(r);
	delete_plan(plan);
}

Test(billing, settings_take_only_iso_4217_currencies)
{
	static const char *const bad[] = {"\"EURO\"", "\"eur\"", "\"XXX\"", "\"\"", "1"};
	api_resp *r = api_req(&admin, "GET", V1 "/settings", NULL), *r2;
	char currency[8];

	cr_assert_eq(r->status, 200, "%s", r->body);
	snprintf(currency, sizeof(currency), "%s", jstr(r->json, "currency"));
	cr_assert_eq(strlen(currency), 3, "%s", r->body);
	api_resp_free(r);
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		r = api_req(&admin, "PATCH", V1 "/settings", "{\"currency\":%s}", bad[i]);
		assert_problem(r, 422, "currency");
		api_resp_free(r);
	}
	r = api_req(&admin, "PATCH", V1 "/settings", "{\"provider_name\":\"bad\\u0001name\"}");
	assert_problem(r, 422, "provider_name");
	api_resp_free(r);
	r = api_req(&admin, "PATCH", V1 "/settings", "{\"colour\":\"red\"}");
	assert_problem(r, 422, "colour");
	api_resp_free(r);
	r = api_req(&admin, "PATCH", V1 "/settings",
	            "{\"currency\":\"%s\",\"provider_name\":\"Example Hosting Ltd\","
	            "\"provider_address\":\"1 Main St\\n12345 Town\"}",
	            currency);
	cr_assert_eq(r->status, 200, "%s", r->body);
	cr_assert_str_eq(jstr(r->json, "provider_name"), "Example Hosting Ltd");
	cr_assert_str_eq(jstr(r->json, "provider_address"), "1 Main St\n12345 Town");
	api_resp_free(r);
	/* unchanged by the refused ones */
	r = api_req(&admin, "GET", V1 "/settings", NULL);
	cr_assert_str_eq(jstr(r->json, "currency"), currency);
	api_resp_free(r);
	/* customers may not */
	r = api_req(&cust, "GET", V1 "/settings", NULL);
	assert_problem(r, 403, NULL);
	api_resp_free(r);
	/* once money exists the currency is fixed */
	char path[96];
	snprintf(path, sizeof(path), V1 "/customers/%s/payments", other_id);
	r = api_req(&admin, "POST", path, "{\"amount_cents\":1,\"kind\":\"credit\"}");
	cr_assert_eq(r->status, 201, "%s", r->body);
	api_resp_free(r);
	r = api_req(&admin, "PATCH", V1 "/settings", "{\"currency\":\"%s\"}",
	            strcmp(currency, "USD") == 0 ? "EUR" : "USD");
	assert_problem(r, 409, "currency");
	api_resp_free(r);
	r2 = api_req(&admin, "GET", V1 "/settings", NULL);
	cr_assert_str_eq(jstr(r2->json, "currency"), currency);
	api_resp_free(r2);
}

static long long sum_lines(json_object *inv)
{
	json_object *lines = jget(inv, "lines");
	long long s = 0;

	for (size_t i = 0; i < json_object_array_length(lines); i++)
		s += jint(json_object_array_get_idx(lines, i), "amount_cents");
	return s;
}

Test(billing, an_issued_invoice_is_immutable_and_credit_notes_reverse_it)
{
	char plan[32], vps[32], inv[32], path[128], number[40];
	long long total, count_before;
	api_resp *r;

	priced_plan(NULL, plan);
	fx_vps(&cust, plan, tpl, NULL, vps);
	sleep(1); /* the VPS's first second has passed: its first hour has started */
	/* the draft shows the running hour before anything is issued */
	snprintf(path, sizeof(path), V1 "/customers/%s/draft-invoice", cust_id);
	r = api_req(&cust, "GET", path, NULL);
	cr_assert_eq(r->status, 200, "%s", r->body);
	cr_assert_str_eq(jstr(r->json, "status"), "draft");
	cr_assert(jis_null(r->json, "number"));
	cr_assert_geq(jint(r->json, "total_cents"), 100, "%s", r->body);
	cr_assert_eq(jint(r->json, "total_cents"), sum_lines(r->json));
	api_resp_free(r);
	snprintf(path, sizeof(path), V1 "/customers/%s/draft-invoice", other_id);
	r = api_req(&cust, "GET", path, NULL);
	assert_problem(r, 404, NULL);
	api_resp_free(r);

	/* a final invoice now: one started hour at 100 cents */
	snprintf(path, sizeof(path), V1 "/customers/%s/invoices", cust_id);
	r = api_req(&cust, "POST", path, NULL);
	assert_problem(r, 403, NULL);
	api_resp_free(r);
	r = api_req(&admin, "POST", path, NULL);
	cr_assert_eq(r->status, 201, "%s", r->body);
	snprintf(inv, sizeof(inv), "%s", jstr(r->json, "id"));
	snprintf(number, sizeof(number), "%s", jstr(r->json, "number"));
	cr_assert_eq(strncmp(number, "XVPS-20", 7), 0, "%s", number);
	cr_assert_eq(strlen(number), strlen("XVPS-2026-000001"), "%s", number);
	cr_assert_str_eq(jstr(r->json, "status"), "issued");
	total = jint(r->json, "total_cents");
	cr_assert_eq(total, 100, "%s", r->body);
	cr_assert_eq(total, sum_lines(r->json));
	json_object *line = json_object_array_get_idx(jget(r->json, "lines"), 0);
	cr_assert_str_eq(jstr(line, "kind"), "hours");
	cr_assert_eq(jint(line, "quantity"), 1);
	cr_assert_eq(jint(line, "unit_price_microcents"), 100000000);
	cr_assert_eq(jint(line, "cap_cents"), 73000);
	cr_assert_str_eq(jstr(line, "vps"), vps);
	api_resp_free(r);

	/* the customer sees it, the other customer does not */
	snprintf(path, sizeof(path), V1 "/invoices/%s", inv);
	r = api_req(&cust, "GET", path, NULL);
	cr_assert_eq(r->status, 200, "%s", r->body);
	cr_assert_str_eq(jstr(r->json, "number"), number);
	api_resp_free(r);
	r = api_req(&other, "GET", path, NULL);
	assert_problem(r, 404, NULL);
	api_resp_free(r);
	cr_assert_geq(api_count(&cust, V1 "/invoices"), 1);
	cr_assert_eq(api_count(&other, V1 "/invoices"), 0);

	/* CSV, by query and by Accept */
	snprintf(path, sizeof(path), V1 "/invoices/%s?format=csv", inv);
	r = api_req(&cust, "GET", path, NULL);
	cr_assert_eq(r->status, 200);
	cr_assert(strstr(r->content_type, "text/csv"), "%s", r->content_type);
	cr_assert(strncmp(r->body, "invoice,issued_at,period_start,period_end,currency,position",
	                  59) == 0,
	          "%s", r->body);
	cr_assert(strstr(r->body, ",hours,"), "%s", r->body);
	cr_assert(strstr(r->body, ",total,,,,,100\r\n"), "%s", r->body);
	api_resp_free(r);
	snprintf(path, sizeof(path), V1 "/invoices/%s?format=xml", inv);
	r = api_req(&cust, "GET", path, NULL);
	assert_problem(r, 422, "format");
	api_resp_free(r);

	/* immutable: 409, unchanged */
	snprintf(path, sizeof(path), V1 "/invoices/%s", inv);
	r = api_req(&admin, "PATCH", path, "{\"total_cents\":1}");
	assert_problem(r, 409, NULL);
	api_resp_free(r);
	r = api_req(&admin, "DELETE", path, NULL);
	assert_problem(r, 409, NULL);
	api_resp_free(r);
	r = api_req(&admin, "GET", path, NULL);
	cr_assert_eq(jint(r->json, "total_cents"), total);
	api_resp_free(r);

	/* credit notes: bad input changes nothing */
	snprintf(path, sizeof(path), V1 "/invoices/%s/credit-notes", inv);
	r = api_req(&admin, "POST", path, "{\"amount_cents\":101,\"reason\":\"too much\"}");
	assert_problem(r, 422, "amount_cents");
	api_resp_free(r);
	r = api_req(&admin, "POST", path, "{\"amount_cents\":0,\"reason\":\"zero\"}");
	assert_problem(r, 422, "amount_cents");
	api_resp_free(r);
	r = api_req(&admin, "POST", path, "{\"amount_cents\":10}");
	assert_problem(r, 422, "reason");
	api_resp_free(r);
	r = api_req(&cust, "POST", path, "{\"reason\":\"mine\"}");
	assert_problem(r, 403, NULL);
	api_resp_free(r);
	r = api_req(&admin, "POST", path, "{\"amount_cents\":30,\"reason\":\"outage\"}");
	cr_assert_eq(r->status, 201, "%s", r->body);
	cr_assert_eq(jint(r->json, "amount_cents"), 30);
	cr_assert_eq(strncmp(jstr(r->json, "number"), "XVPS-CN-20", 10), 0, "%s", r->body);
	api_resp_free(r);
	r = api_req(&admin, "POST", path, "{\"amount_cents\":71,\"reason\":\"too much\"}");
	assert_problem(r, 422, "amount_cents");
	api_resp_free(r);
	r = api_req(&admin, "POST", path, "{\"reason\":\"the rest\"}");
	cr_assert_eq(r->status, 201, "%s", r->body);
	cr_assert_eq(jint(r->json, "amount_cents"), 70);
	api_resp_free(r);
	r = api_req(&admin, "POST", path, "{\"reason\":\"again\"}");
	assert_problem(r, 409, NULL);
	api_resp_free(r);
	snprintf(path, sizeof(path), V1 "/invoices/%s", inv);
	r = api_req(&admin, "GET", path, NULL);
	cr_assert_eq(jint(r->json, "credited_cents"), 100, "%s", r->body);
	cr_assert_eq(jint(r->json, "remaining_cents"), 0, "%s", r->body);
	cr_assert_eq(json_object_array_length(jget(r->json, "credit_notes")), 2);
	api_resp_free(r);
	/* reversed in the balance */
	snprintf(path, sizeof(path), V1 "/customers/%s/balance", cust_id);
	r = api_req(&cust, "GET", path, NULL);
	cr_assert_eq(r->status, 200, "%s", r->body);
	cr_assert_eq(jint(r->json, "invoiced_cents") - jint(r->json, "credit_notes_cents"), 0, "%s",
	             r->body);
	api_resp_free(r);

	/* payments: never zero, never negative, admins only */
	snprintf(path, sizeof(path), V1 "/customers/%s/payments", cust_id);
	count_before = api_count(&admin, path);
	r = api_req(&admin, "POST", path, "{\"amount_cents\":0}");
	assert_problem(r, 422, "amount_cents");
	api_resp_free(r);
	r = api_req(&admin, "POST", path, "{\"amount_cents\":-5}");
	assert_problem(r, 422, "amount_cents");
	api_resp_free(r);
	r = api_req(&admin, "POST", path, "{\"amount_cents\":5,\"kind\":\"gift\"}");
	assert_problem(r, 422, "kind");
	api_resp_free(r);
	r = api_req(&cust, "POST", path, "{\"amount_cents\":5}");
	assert_problem(r, 403, NULL);
	api_resp_free(r);
	cr_assert_eq(api_count(&admin, path), count_before);
	r = api_req(&admin, "POST", path, "{\"amount_cents\":250,\"reference\":\"bank 42\"}");
	cr_assert_eq(r->status, 201, "%s", r->body);
	cr_assert_str_eq(jstr(r->json, "kind"), "payment");
	cr_assert_str_eq(jstr(r->json, "reference"), "bank 42");
	api_resp_free(r);
	cr_assert_eq(api_count(&cust, path), count_before + 1);

	fx_vps_delete(&cust, vps);
	delete_plan(plan);
}

static const char *suspended_by(const char *vps)
{
	static char by[16];
	char path[96];
	api_resp *r;

	snprintf(path, sizeof(path), V1 "/vps/%s", vps);
	r = api_req(&admin, "GET", path, NULL);
	by[0] = '\0';
	if (jget(r->json, "suspension"))
		snprintf(by, sizeof(by), "%s", jstr(jget(r->json, "suspension"), "by"));
	api_resp_free(r);
	return by;
}

Test(billing, prepaid_balance_below_its_threshold_suspends_and_a_payment_lifts)
{
	char plan[32], vps[32], path[128];
	api_resp *r;
	int i;

	priced_plan(NULL, plan);
	fx_vps(&cust, plan, tpl, NULL, vps);
	snprintf(path, sizeof(path), V1 "/customers/%s/billing", cust_id);
	r = api_req(&admin, "PATCH", path, "{\"suspend_below_cents\":5}");
	assert_problem(r, 422, "suspend_below_cents");
	api_resp_free(r);
	r = api_req(&admin, "PATCH", path,
	            "{\"low_balance_cents\":-100,\"suspend_below_cents\":-50}");
	assert_problem(r, 422, "low_balance_cents");
	api_resp_free(r);
	r = api_req(&cust, "PATCH", path, "{\"prepaid\":true}");
	assert_problem(r, 403, NULL);
	api_resp_free(r);
	/* A new customer: balance 0, below the low mark (a notice) but above -50. The billing
	 * ticker (1 s in the tests) draws the started hour (100 cents): -100 < -50 suspends. */
	r = api_req(&admin, "PATCH", path,
	            "{\"prepaid\":true,\"low_balance_cents\":1000,\"suspend_below_cents\":-50}");
	cr_assert_eq(r->status, 200, "%s", r->body);
	cr_assert(json_object_get_boolean(jget(r->json, "prepaid")));
	cr_assert_eq(jint(r->json, "suspend_below_cents"), -50);
	api_resp_free(r);
	for (i = 0; i < 100 && strcmp(suspended_by(vps), "billing") != 0; i++)
		usleep(100000);
	cr_assert_str_eq(suspended_by(vps), "billing", "not suspended by billing within 10 s");
	snprintf(path, sizeof(path), V1 "/customers/%s/balance", cust_id);
	r = api_req(&cust, "GET", path, NULL);
	cr_assert_str_eq(jstr(r->json, "state"), "suspended", "%s", r->body);
	cr_assert_lt(jint(r->json, "balance_cents"), -50, "%s", r->body);
	cr_assert_geq(jint(r->json, "drawn_cents"), 100, "%s", r->body);
	api_resp_free(r);
	/* a payment brings it back: lifted at once */
	snprintf(path, sizeof(path), V1 "/customers/%s/payments", cust_id);
	r = api_req(&admin, "POST", path, "{\"amount_cents\":100000}");
	cr_assert_eq(r->status, 201, "%s", r->body);
	api_resp_free(r);
	cr_assert_str_eq(suspended_by(vps), "", "still suspended after the payment");
	snprintf(path, sizeof(path), V1 "/customers/%s/balance", cust_id);
	r = api_req(&cust, "GET", path, NULL);
	cr_assert_str_neq(jstr(r->json, "state"), "suspended", "%s", r->body);
	api_resp_free(r);
	snprintf(path, sizeof(path), V1 "/customers/%s/billing", cust_id);
	r = api_req(&admin, "PATCH", path, "{\"prepaid\":false}");
	cr_assert_eq(r->status, 200, "%s", r->body);
	api_resp_free(r);
	fx_vps_delete(&cust, vps);
	delete_plan(plan);
}
