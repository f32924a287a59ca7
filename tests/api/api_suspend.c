/* api_suspend.c — suspension (issue 13 item 5) against a running xvpsd ($XVPS_URL): an admin
 * suspends and unsuspends a VPS with a reason; a suspended VPS is stopped, shows why, refuses its
 * customer's start, reboot, reinstall and console (409) and comes back in the power state it had;
 * the bad input (already suspended, not suspended, reason missing, empty or too long, a customer
 * calling suspend) changes nothing; suspending a customer suspends its VPS and unsuspending it
 * lifts only those. Every test deletes the VPS it makes. */
#include <criterion/criterion.h>
#include <stdio.h>
#include <string.h>

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

TestSuite(suspend, .init = setup, .fini = api_cleanup, .timeout = 180);

static api_resp *vps_get(const api_client *c, const char *vps)
{
	char path[96];
	api_resp *r;

	snprintf(path, sizeof(path), V1 "/vps/%s", vps);
	r = api_req(c, "GET", path, NULL);
	cr_assert_eq(r->status, 200, "GET %s: %ld %s", path, r->status, r->body);
	return r;
}

/* POST /vps/{vps}/actions/{action} as c with body (NULL: none). */
static api_resp *action(const api_client *c, const char *vps, const char *act, const char *body)
{
	char path[128];

	snprintf(path, sizeof(path), V1 "/vps/%s/actions/%s", vps, act);
	return body ? api_req(c, "POST", path, "%s", body) : api_req(c, "POST", path, NULL);
}

/* Waits for the job of r (202 {"job"}) and frees r. */
static void wait_resp_job(const api_client *c, api_resp *r)
{
	char job[32];

	cr_assert_eq(r->status, 202, "%ld %s", r->status, r->body);
	cr_assert_not_null(jstr(jget(r->json, "job"), "id"), "%s", r->body);
	snprintf(job, sizeof(job), "%s", jstr(jget(r->json, "job"), "id"));
	api_resp_free(r);
	cr_assert(wait_job(c, job, 60), "job %s did not finish", job);
}

static void expect_state(const char *vps, const char *state, const char *by)
{
	api_resp *r = vps_get(&admin, vps);
	json_object *s = jget(r->json, "suspension");

	cr_assert_str_eq(jstr(r->json, "state"), state, "%s", r->body);
	if (by) {
		cr_assert_not_null(s, "no suspension: %s", r->body);
		cr_assert_str_eq(jstr(s, "by"), by, "%s", r->body);
		cr_assert_not_null(jstr(s, "reason"), "%s", r->body);
		cr_assert_not_null(jstr(s, "at"), "%s", r->body);
	} else {
		cr_assert(jis_null(r->json, "suspension"), "a suspension shown: %s", r->body);
	}
	api_resp_free(r);
}

static bool audit_detail(const char *action_name, const char *resource, const char *detail)
{
	char path[160];
	api_resp *r;
	bool found = false;

	snprintf(path, sizeof(path), V1 "/audit?resource=%s&limit=1000", resource);
	r = api_req(&admin, "GET", path, NULL);
	cr_assert_eq(r->status, 200, "GET /audit: %ld %s", r->status, r->body);
	for (size_t i = 0; i < json_object_array_length(r->json) && !found; i++) {
		json_object *e = json_object_array_get_idx(r->json, i);
		const char *a = jstr(e, "action"), *d = jstr(e, "detail");

		found = a && strcmp(a, action_name) == 0 && (!detail || (d && strstr(d, detail)));
	}
	api_resp_free(r);
	return found;
}

Test(suspend, suspended_vps_is_stopped_closed_to_its_customer_and_restarted_by_unsuspend)
{
	char vps[32], res[48];
	api_resp *r;

	fx_vps(&cust, plan, tpl, NULL, vps);
	snprintf(res, sizeof(res), "vps/%s", vps);

	r = action(&admin, vps, "suspend", "{\"reason\":\"abuse report #4711\"}");
	cr_assert_eq(r->status, 202, "%ld %s", r->status, r->body);
	cr_assert_str_eq(jstr(jget(r->json, "job"), "kind"), "vps.shutdown", "%s", r->body);
	cr_assert_str_eq(jstr(jget(jget(r->json, "vps"), "suspension"), "reason"),
	                 "abuse report #4711", "%s", r->body);
	wait_resp_job(&admin, r);
	expect_state(vps, "suspended", "admin");
	r = vps_get(&cust, vps);
	cr_assert(jis_null(r->json, "domid"), "a suspended VPS still runs: %s", r->body);
	api_resp_free(r);
	cr_assert(audit_detail("vps.suspend", res, "abuse report #4711"), "no vps.suspend audit");

	/* The customer can neither power it on nor look inside. */
	const char *refused[] = {"start", "reboot", "reinstall"};
	for (size_t i = 0; i < 3; i++) {
		r = action(&cust, vps, refused[i], NULL);
		assert_problem(r, 409, NULL);
		cr_assert(strstr(jstr(r->json, "detail"), "suspended") &&
		                  strstr(jstr(r->json, "detail"), "abuse report #4711"),
		          "%s: %s", refused[i], r->body);
		api_resp_free(r);
	}
	{
		char path[96];

		snprintf(path, sizeof(path), V1 "/vps/%s/console", vps);
		r = api_req(&cust, "POST", path, NULL);
		assert_problem(r, 409, NULL);
		cr_assert(strstr(jstr(r->json, "detail"), "suspended"), "%s", r->body);
		api_resp_free(r);
	}
	/* Nor can an admin: the suspension is lifted first (unsuspend), nothing is queued. */
	for (size_t i = 0; i < 3; i++) {
		r = action(&admin, vps, refused[i], NULL);
		assert_problem(r, 409, NULL);
		cr_assert(strstr(jstr(r->json, "detail"), "suspended") &&
		                  strstr(jstr(r->json, "detail"), "unsuspend"),
		          "admin %s: %s", refused[i], r->body);
		api_resp_free(r);
	}
	expect_state(vps, "suspended", "admin");
	r = vps_get(&admin, vps);
	cr_assert(jis_null(r->json, "domid"), "an admin's refused start ran it: %s", r->body);
	api_resp_free(r);
	/* Only an admin suspends or unsuspends. */
	r = action(&cust, vps, "unsuspend", NULL);
	assert_problem(r, 403, NULL);
	api_resp_free(r);
	r = action(&cust, vps, "suspend", "{\"reason\":\"me\"}");
	assert_problem(r, 403, NULL);
	api_resp_free(r);
	/* Twice is a conflict. */
	r = action(&admin, vps, "suspend", "{\"reason\":\"again\"}");
	assert_problem(r, 409, NULL);
	api_resp_free(r);
	expect_state(vps, "suspended", "admin");
	cr_assert(!audit_detail("vps.suspend", res, "again"), "a refused suspend was audited");

	r = action(&admin, vps, "unsuspend", "{\"reason\":\"resolved\"}");
	cr_assert_str_eq(jstr(jget(r->json, "job"), "kind"), "vps.start", "%s", r->body);
	wait_resp_job(&admin, r);
	expect_state(vps, "running", NULL);
	cr_assert(audit_detail("vps.unsuspend", res, "resolved"), "no vps.unsuspend audit");
	r = action(&admin, vps, "unsuspend", NULL);
	assert_problem(r, 409, NULL);
	api_resp_free(r);

	/* Its customer may start it again once it is lifted. */
	r = action(&cust, vps, "reboot", NULL);
	wait_resp_job(&cust, r);
	fx_vps_delete(&cust, vps);
}

Test(suspend, a_stopped_vps_stays_stopped_after_unsuspend)
{
	char vps[32];
	api_resp *r;

	fx_vps(&cust, plan, tpl, NULL, vps);
	wait_resp_job(&cust, action(&cust, vps, "shutdown", NULL));
	wait_resp_job(&admin, action(&admin, vps, "suspend", "{\"reason\":\"unpaid invoice\"}"));
	expect_state(vps, "suspended", "admin");
	r = action(&admin, vps, "unsuspend", NULL);
	cr_assert_eq(r->status, 200, "nothing to start: %ld %s", r->status, r->body);
	cr_assert(jis_null(r->json, "job"), "%s", r->body);
	api_resp_free(r);
	expect_state(vps, "stopped", NULL);
	fx_vps_delete(&cust, vps);
}

Test(suspend, bad_reasons_are_refused_and_change_nothing)
{
	char vps[32], long_reason[260], body[300];
	const char *bodies[] = {NULL,
	                        "{}",
	                        "{\"reason\":\"\"}",
	                        "{\"reason\":\"   \"}",
	                        "{\"reason\":42}",
	                        "{\"reason\":\"x\",\"by\":\"quota\"}",
	                        body};
	api_resp *r;

	memset(long_reason, 'a', 201);
	long_reason[201] = '\0';
	snprintf(body, sizeof(body), "{\"reason\":\"%s\"}", long_reason);
	fx_vps(&cust, plan, tpl, NULL, vps);
	for (size_t i = 0; i < sizeof(bodies) / sizeof(bodies[0]); i++) {
		r = action(&admin, vps, "suspend", bodies[i]);
		cr_assert(r->status == 422 || r->status == 400, "body %s: %ld %s",
		          bodies[i] ? bodies[i] : "(none)", r->status, r->body);
		assert_problem(r, r->status, NULL);
		api_resp_free(r);
	}
	r = action(&admin, vps, "suspend", NULL);
	assert_problem(r, 422, "reason");
	api_resp_free(r);
	expect_state(vps, "running", NULL);
	/* Exactly 200 characters (multi-byte ones counted once) is accepted. */
	memset(long_reason, 'b', 199);
	snprintf(body, sizeof(body), "{\"reason\":\"%.199s\xc3\xa9\"}", long_reason);
	wait_resp_job(&admin, action(&admin, vps, "suspend", body));
	expect_state(vps, "suspended", "admin");
	r = action(&admin, "999999", "suspend", "{\"reason\":\"nobody\"}");
	assert_problem(r, 404, NULL);
	api_resp_free(r);
	fx_vps_delete(&admin, vps);
}

Test(suspend, suspending_a_customer_suspends_its_vps_and_unsuspending_lifts_only_those)
{
	char a[32], b[32], cid[32], user[32], pw[40], path[96];
	api_client c;
	api_resp *r;

	fx_customer(&admin, &c, cid, user, pw);
	fx_vps(&c, plan, tpl, NULL, a);
	fx_vps(&c, plan, tpl, NULL, b);
	wait_resp_job(&admin, action(&admin, b, "suspend", "{\"reason\":\"spam\"}"));

	snprintf(path, sizeof(path), V1 "/customers/%s", cid);
	r = api_req(&admin, "PATCH", path, "{\"suspended\":true}");
	cr_assert_eq(r->status, 200, "%ld %s", r->status, r->body);
	api_resp_free(r);
	expect_state(a, "suspended", "customer");
	expect_state(b, "suspended", "admin");
	r = vps_get(&admin, a);
	cr_assert_str_eq(jstr(jget(r->json, "suspension"), "reason"), "customer suspended");
	api_resp_free(r);
	/* Lifted with the customer, not on its own. */
	r = action(&admin, a, "unsuspend", NULL);
	assert_problem(r, 409, NULL);
	api_resp_free(r);

	r = api_req(&admin, "PATCH", path, "{\"suspended\":false}");
	cr_assert_eq(r->status, 200, "%ld %s", r->status, r->body);
	api_resp_free(r);
	expect_state(b, "suspended", "admin");
	r = vps_get(&admin, a);
	cr_assert(jis_null(r->json, "suspension"), "%s", r->body);
	api_resp_free(r);

	fx_vps_delete(&admin, a);
	fx_vps_delete(&admin, b);
	r = api_req(&admin, "DELETE", path, NULL);
	cr_assert_eq(r->status, 204, "%ld %s", r->status, r->body);
	api_resp_free(r);
}
