/* api_resize.c — resize (issue 16 item 1) against a running xvpsd ($XVPS_URL) on the sim
 * hypervisor: POST /vps/{id}/actions/resize {"plan"} up and down; a PV domain takes memory and
 * vcpus live (same domid), a PVH one takes vcpus live and shows its memory as pending until its
 * next boot; the disk grows; a smaller disk, a suspended VPS, an unknown plan, a bad body and
 * another customer's VPS are refused and change nothing; every resize and refusal is audited.
 * Every test deletes the VPS it makes. The plan history is checked in tests/api/ctl.sh. */
#include <criterion/criterion.h>
#include <stdio.h>
#include <string.h>

#include "client.h"

static api_client admin, cust, other;
static char small[32], big[32], tiny[32], pv_tpl[32], pvh_tpl[32], pool[32], cust_id[32],
        other_id[32];

static void new_template(const char *boot, char id_out[32])
{
	char u[9];
	api_resp *r;

	uniq(u);
	r = api_req(&admin, "POST", V1 "/templates",
	            "{\"name\":\"rs-%s\",\"os\":\"debian-12\",\"disk_gib\":1,\"boot\":\"%s\"}", u,
	            boot);
	cr_assert_eq(r->status, 201, "POST /templates: %ld %s", r->status, r->body);
	snprintf(id_out, 32, "%s", jstr(r->json, "id"));
	api_resp_free(r);
}

static void setup(void)
{
	fx_admin(&admin);
	fx_pool4(&admin, pool);
	fx_plan_fields(&admin, "\"vcpus\":1,\"memory_mib\":256,\"disk_gib\":2,\"cpu_cap_pct\":100",
	               small);
	fx_plan_fields(&admin,
	               "\"vcpus\":2,\"memory_mib\":512,\"disk_gib\":3,\"cpu_cap_pct\":200,"
	               "\"net_mbit\":50",
	               big);
	fx_plan_fields(&admin, "\"vcpus\":1,\"memory_mib\":256,\"disk_gib\":1", tiny);
	new_template("pv", pv_tpl);
	new_template("pvh", pvh_tpl);
	fx_customer(&admin, &cust, cust_id, NULL, NULL);
	fx_customer(&admin, &other, other_id, NULL, NULL);
}

TestSuite(resize, .init = setup, .fini = api_cleanup, .timeout = 180);

static api_resp *resize(const api_client *c, const char *vps, const char *body)
{
	char path[128];

	snprintf(path, sizeof(path), V1 "/vps/%s/actions/resize", vps);
	return api_req(c, "POST", path, "%s", body);
}

/* Resizes vps to plan as c, expects 202 with a vps.update job and waits for it to be done. */
static void resize_ok(const api_client *c, const char *vps, const char *plan)
{
	char body[64], job[32];
	api_resp *r;

	snprintf(body, sizeof(body), "{\"plan\":\"%s\"}", plan);
	r = resize(c, vps, body);
	cr_assert_eq(r->status, 202, "%ld %s", r->status, r->body);
	cr_assert_str_eq(jstr(jget(r->json, "job"), "kind"), "vps.update", "%s", r->body);
	cr_assert_str_eq(jstr(jget(r->json, "vps"), "plan"), plan, "%s", r->body);
	snprintf(job, sizeof(job), "%s", jstr(jget(r->json, "job"), "id"));
	api_resp_free(r);
	cr_assert(wait_job(c, job, 60), "job %s did not finish", job);
}

Test(resize, pv_up_and_down_live_with_the_disk_grown)
{
	char vps[32];
	long long domid;
	api_resp *r;

	fx_vps(&cust, small, pv_tpl, NULL, vps);
	r = vps_get_ok(&admin, vps);
	domid = jint(r->json, "domid");
	cr_assert(jis_null(r->json, "pending"), "%s", r->body);
	api_resp_free(r);

	resize_ok(&cust, vps, big);
	r = vps_get_ok(&admin, vps);
	cr_assert_str_eq(jstr(r->json, "plan"), big);
	cr_assert_eq(jint(r->json, "vcpus"), 2);
	cr_assert_eq(jint(r->json, "memory_mib"), 512);
	cr_assert_eq(jint(r->json, "disk_gib"), 3);
	cr_assert_eq(jint(r->json, "net_mbit"), 50, "shaping follows the plan");
	cr_assert_eq(jint(r->json, "cpu_cap_pct"), 200, "the cap follows at once: %s", r->body);
	cr_assert_str_eq(jstr(r->json, "state"), "running");
	cr_assert_eq(jint(r->json, "domid"), domid, "a live resize keeps the domain: %s", r->body);
	cr_assert(jis_null(r->json, "pending"), "PV takes memory and vcpus live: %s", r->body);
	api_resp_free(r);
	cr_assert_eq(vps_audit_count(&admin, "vps.resize", vps, "to plan"), 1);

	/* down again: the disk (3 GiB) is larger than small's 2 GiB: refused */
	{
		char body[64];

		snprintf(body, sizeof(body), "{\"plan\":\"%s\"}", small);
		r = resize(&cust, vps, body);
		assert_problem(r, 422, "plan");
		cr_assert(strstr(jstr(r->json, "detail"), "never shrunk"), "%s", r->body);
		api_resp_free(r);
	}
	r = vps_get_ok(&admin, vps);
	cr_assert_str_eq(jstr(r->json, "plan"), big, "a refused resize changed the plan");
	api_resp_free(r);
	cr_assert_eq(vps_audit_count(&admin, "vps.resize.refused", vps, "never shrunk"), 1);
	fx_vps_delete(&cust, vps);
}

Test(resize, pvh_memory_is_pending_until_the_next_boot)
{
	char vps[32], up[32], down[32];
	json_object *p;
	api_resp *r;

	/* same disk both ways, so that it can go down too */
	fx_plan_fields(&admin, "\"vcpus\":1,\"memory_mib\":256,\"disk_gib\":2", down);
	fx_plan_fields(&admin, "\"vcpus\":2,\"memory_mib\":1024,\"disk_gib\":2", up);
	fx_vps(&cust, down, pvh_tpl, NULL, vps);
	resize_ok(&admin, vps, up);
	r = vps_get_ok(&admin, vps);
	p = jget(r->json, "pending");
	cr_assert_not_null(p, "PVH keeps maxmem = memory: %s", r->body);
	cr_assert_eq(jint(p, "memory_mib"), 1024, "%s", r->body);
	cr_assert(jis_null(p, "vcpus"), "vcpus go live: %s", r->body);
	api_resp_free(r);

	vps_action_done(&admin, vps, "reboot", NULL);
	r = vps_get_ok(&admin, vps);
	cr_assert(jis_null(r->json, "pending"), "the reboot applied it: %s", r->body);
	api_resp_free(r);

	resize_ok(&cust, vps, down); /* down: memory and vcpus shrink live */
	r = vps_get_ok(&admin, vps);
	cr_assert(jis_null(r->json, "pending"), "%s", r->body);
	cr_assert_eq(jint(r->json, "memory_mib"), 256);
	api_resp_free(r);
	fx_vps_delete(&cust, vps);
}

Test(resize, refusals_change_nothing)
{
	char vps[32], body[64];
	const char *bad[] = {"{}", "{\"plan\":7}", "{\"plan\":\"1\",\"disk_gib\":9}", "[]"};
	api_resp *r;

	fx_vps(&cust, small, pv_tpl, NULL, vps);
	snprintf(body, sizeof(body), "{\"plan\":\"%s\"}", tiny);
	r = resize(&cust, vps, body);
	assert_problem(r, 422, "plan");
	api_resp_free(r);
	r = resize(&cust, vps, "{\"plan\":\"999999999\"}");
	assert_problem(r, 422, "plan");
	cr_assert(strstr(jstr(r->json, "detail"), "unknown plan"), "%s", r->body);
	api_resp_free(r);
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		r = resize(&cust, vps, bad[i]);
		cr_assert(r->status == 422 || r->status == 400, "%s: %ld %s", bad[i], r->status,
		          r->body);
		assert_problem(r, r->status, NULL);
		api_resp_free(r);
	}
	/* another customer's VPS does not exist for it */
	snprintf(body, sizeof(body), "{\"plan\":\"%s\"}", big);
	r = resize(&other, vps, body);
	assert_problem(r, 404, NULL);
	api_resp_free(r);
	r = resize(&cust, "999999999", body);
	assert_problem(r, 404, NULL);
	api_resp_free(r);

	/* suspended: 409 for its customer and for an admin */
	{
		char path[96], job[32];

		snprintf(path, sizeof(path), V1 "/vps/%s/actions/suspend", vps);
		r = api_req(&admin, "POST", path, "{\"reason\":\"unpaid\"}");
		cr_assert_eq(r->status, 202, "%ld %s", r->status, r->body);
		snprintf(job, sizeof(job), "%s", jstr(jget(r->json, "job"), "id"));
		api_resp_free(r);
		cr_assert(wait_job(&admin, job, 60));
	}
	r = resize(&cust, vps, body);
	assert_problem(r, 409, NULL);
	cr_assert(strstr(jstr(r->json, "detail"), "suspended"), "%s", r->body);
	api_resp_free(r);
	r = resize(&admin, vps, body);
	assert_problem(r, 409, NULL);
	api_resp_free(r);

	r = vps_get_ok(&admin, vps);
	cr_assert_str_eq(jstr(r->json, "plan"), small, "%s", r->body);
	cr_assert_eq(jint(r->json, "disk_gib"), 2);
	api_resp_free(r);
	cr_assert_eq(vps_audit_count(&admin, "vps.resize", vps, NULL), 0);
	cr_assert_geq(vps_audit_count(&admin, "vps.resize.refused", vps, NULL), 5);
	vps_action_done(&admin, vps, "unsuspend", NULL);
	fx_vps_delete(&cust, vps);
}

Test(resize, the_same_plan_is_200_without_a_job)
{
	char vps[32], body[64];
	api_resp *r;

	fx_vps(&cust, small, pv_tpl, NULL, vps);
	snprintf(body, sizeof(body), "{\"plan\":\"%s\"}", small);
	r = resize(&cust, vps, body);
	cr_assert_eq(r->status, 200, "%ld %s", r->status, r->body);
	cr_assert(jis_null(r->json, "job"), "%s", r->body);
	api_resp_free(r);
	fx_vps_delete(&cust, vps);
}
