/* api_rescue.c — rescue mode (issue 16 item 3) against a running xvpsd ($XVPS_URL) and its sim
 * agent (file storage, state in $XVPS_STATE): POST /vps/{id}/actions/rescue restarts the VPS
 * (new domid) with its own copy of the rescue system as xvda and its disk as xvdb (read from
 * the agent's xl.cfg and disks/), `rescue` true; unrescue boots it from its own disk again and
 * the copy is gone; the customer's disk keeps its bytes throughout. Refusals (already / not in
 * rescue, a job queued, suspended, a body field, another customer's VPS) change nothing; no
 * rescue system on the host fails the job and puts `rescue` back; every attempt is audited. The
 * test writes the rescue image source ($XVPS_STATE/template-src/rescue.img) itself and removes
 * it, and the agent's imported copy, at the end. */
#include <criterion/criterion.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "client.h"

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

/* $XVPS_STATE/<rel> into out; false without a state directory (not a local sim agent). */
static bool state_path(char *out, size_t len, const char *rel)
{
	const char *state = getenv("XVPS_STATE");

	if (!state || !*state)
		return false;
	snprintf(out, len, "%s/%s", state, rel);
	return true;
}

static void remove_rescue_images(void)
{
	char p[512];

	if (state_path(p, sizeof(p), "template-src/rescue.img"))
		unlink(p);
	if (state_path(p, sizeof(p), "templates/rescue.img"))
		unlink(p);
}

static void fini(void)
{
	remove_rescue_images();
	api_cleanup();
}

TestSuite(rescue, .init = setup, .fini = fini, .timeout = 180);

static void need_local_sim(const char *vps)
{
	char p[512], rel[64];

	snprintf(rel, sizeof(rel), "disks/xvps-%s.img", vps);
	if (!state_path(p, sizeof(p), rel) || access(p, F_OK) != 0)
		cr_skip_test("no file-storage agent state under $XVPS_STATE");
}

/* Whether the rescue system's source or the agent's imported copy of it exists. */
static bool rescue_source_exists(void)
{
	char p[512];

	return (state_path(p, sizeof(p), "template-src/rescue.img") && access(p, F_OK) == 0) ||
	       (state_path(p, sizeof(p), "templates/rescue.img") && access(p, F_OK) == 0);
}

/* The rescue system's image in the agent's template import directory: 1 MiB, a marker. */
static void put_rescue_source(void)
{
	char p[512];
	int fd;

	cr_assert(state_path(p, sizeof(p), "template-src"));
	mkdir(p, 0700);
	cr_assert(state_path(p, sizeof(p), "template-src/rescue.img"));
	fd = open(p, O_WRONLY | O_CREAT | O_TRUNC, 0600);
	cr_assert_geq(fd, 0, "cannot create %s", p);
	cr_assert_eq(write(fd, "XVPS-RESCUE", 11), 11);
	cr_assert_eq(ftruncate(fd, 1 << 20), 0);
	close(fd);
}

/* Writes or reads 13 bytes at offset 8192 of the VPS's disk file. */
static void disk_io(const char *vps, char buf[14], bool write_it)
{
	char p[512], rel[64];
	int fd;

	snprintf(rel, sizeof(rel), "disks/xvps-%s.img", vps);
	cr_assert(state_path(p, sizeof(p), rel));
	fd = open(p, write_it ? O_WRONLY : O_RDONLY);
	cr_assert_geq(fd, 0, "cannot open %s", p);
	if (write_it)
		cr_assert_eq(pwrite(fd, buf, 13, 8192), 13);
	else
		cr_assert_eq(pread(fd, buf, 13, 8192), 13);
	buf[13] = '\0';
	close(fd);
}

static bool rescue_copy_exists(const char *vps)
{
	char p[512], rel[64];

	snprintf(rel, sizeof(rel), "disks/rescue-xvps-%s.img", vps);
	return state_path(p, sizeof(p), rel) && access(p, F_OK) == 0;
}

/* The agent's xl.cfg of the VPS (malloc'd). */
static char *config_of(const char *vps)
{
	char p[512], rel[64], *text;
	FILE *f;
	long n;

	snprintf(rel, sizeof(rel), "xen/xvps-%s.cfg", vps);
	cr_assert(state_path(p, sizeof(p), rel));
	f = fopen(p, "r");
	cr_assert_not_null(f, "no config %s", p);
	text = calloc(1, 65536);
	n = (long)fread(text, 1, 65535, f);
	fclose(f);
	cr_assert_gt(n, 0);
	return text;
}

static api_resp *act(const api_client *c, const char *vps, const char *what, const char *body)
{
	char path[128];

	snprintf(path, sizeof(path), V1 "/vps/%s/actions/%s", vps, what);
	return body ? api_req(c, "POST", path, "%s", body) : api_req(c, "POST", path, NULL);
}

/* Polls job_id until it ends, at most timeout_s: true when done, false when failed. Unlike
 * wait_job, an expected failure logs no error (Criterion exits 1 after an error log). */
static bool job_ends_done(const api_client *c, const char *job_id, int timeout_s)
{
	struct timespec pause = {0, 100 * 1000 * 1000};
	char path[128];

	snprintf(path, sizeof(path), V1 "/jobs/%s", job_id);
	for (int i = 0; i < timeout_s * 10; i++) {
		api_resp *r = api_req(c, "GET", path, NULL);
		char st[16];

		cr_assert_eq(r->status, 200, "GET %s: %ld %s", path, r->status, r->body);
		snprintf(st, sizeof(st), "%s", jstr(r->json, "state"));
		api_resp_free(r);
		if (strcmp(st, "done") == 0 || strcmp(st, "failed") == 0)
			return strcmp(st, "done") == 0;
		nanosleep(&pause, NULL);
	}
	cr_assert_fail("job %s did not end within %d s", job_id, timeout_s);
	return false;
}

/* what (rescue|unrescue) as c: 202 with the VPS (rescue as wanted) and the job; the job's
 * outcome (true: done). */
static bool act_wait(const api_client *c, const char *vps, const char *what)
{
	char job[32], kind[32];
	api_resp *r = act(c, vps, what, NULL);
	json_object *v;

	cr_assert_eq(r->status, 202, "%s: %ld %s", what, r->status, r->body);
	snprintf(kind, sizeof(kind), "vps.%s", what);
	cr_assert_str_eq(jstr(jget(r->json, "job"), "kind"), kind, "%s", r->body);
	/* (A rescue job that fails at once, no rescue system on the host, may have put the flag
	 * back before the answer was built: the flag is checked when it is not that case.) */
	v = jget(jget(r->json, "vps"), "rescue");
	cr_assert(v && (json_object_get_boolean(v) == (strcmp(what, "rescue") == 0) ||
	                !rescue_source_exists()),
	          "%s", r->body);
	snprintf(job, sizeof(job), "%s", jstr(jget(r->json, "job"), "id"));
	api_resp_free(r);
	return job_ends_done(c, job, 90);
}

static bool rescue_flag(const char *vps)
{
	api_resp *r = vps_get_ok(&admin, vps);
	json_object *v = jget(r->json, "rescue");
	bool on;

	cr_assert(v && json_object_is_type(v, json_type_boolean), "%s", r->body);
	on = json_object_get_boolean(v);
	api_resp_free(r);
	return on;
}

Test(rescue, enter_and_leave_with_the_customer_disk_kept)
{
	char vps[32], data[14] = "CUSTOMER-DATA", back[14], want[1024], dpath[512], *cfg;
	long long domid0, domid1;
	api_resp *r;

	fx_vps(&cust, plan, tpl, NULL, vps);
	need_local_sim(vps);
	r = vps_get_ok(&admin, vps);
	cr_assert_eq(json_object_get_boolean(jget(r->json, "rescue")), false, "%s", r->body);
	domid0 = jint(r->json, "domid");
	api_resp_free(r);
	disk_io(vps, data, true);

	/* no rescue system on the host yet: the job fails, the flag goes back, the VPS runs */
	remove_rescue_images();
	cr_assert_not(act_wait(&cust, vps, "rescue"), "rescue worked without a rescue system");
	cr_assert_not(rescue_flag(vps), "a failed rescue job left rescue true");
	cr_assert_not(rescue_copy_exists(vps));

	put_rescue_source();
	/* the failed attempt may have stopped it: start it so that the domid comparison holds */
	r = vps_get_ok(&admin, vps);
	if (strcmp(jstr(r->json, "state"), "running") != 0) {
		api_resp_free(r);
		r = act(&cust, vps, "start", NULL);
		cr_assert_eq(r->status, 202, "%ld %s", r->status, r->body);
		cr_assert(wait_job(&cust, jstr(jget(r->json, "job"), "id"), 60));
		api_resp_free(r);
		r = vps_get_ok(&admin, vps);
	}
	domid0 = jint(r->json, "domid");
	api_resp_free(r);

	cr_assert(act_wait(&cust, vps, "rescue"), "the rescue job failed");
	r = vps_get_ok(&admin, vps);
	cr_assert_str_eq(jstr(r->json, "state"), "running", "%s", r->body);
	cr_assert(json_object_get_boolean(jget(r->json, "rescue")), "%s", r->body);
	domid1 = jint(r->json, "domid");
	cr_assert_neq(domid1, domid0, "entering rescue did not restart the domain");
	api_resp_free(r);
	cr_assert(rescue_copy_exists(vps), "no rescue copy");
	cfg = config_of(vps);
	cr_assert(state_path(dpath, sizeof(dpath), "disks"));
	snprintf(want, sizeof(want), "vdev=xvda, access=rw, target=%s/rescue-xvps-%s.img'", dpath,
	         vps);
	cr_assert_not_null(strstr(cfg, want), "%s", cfg);
	snprintf(want, sizeof(want), "vdev=xvdb, access=rw, target=%s/xvps-%s.img'", dpath, vps);
	cr_assert_not_null(strstr(cfg, want), "%s", cfg);
	free(cfg);
	/* rebooting a rescued VPS keeps it in rescue */
	r = act(&cust, vps, "reboot", NULL);
	cr_assert_eq(r->status, 202, "%ld %s", r->status, r->body);
	cr_assert(wait_job(&cust, jstr(jget(r->json, "job"), "id"), 60));
	api_resp_free(r);
	cfg = config_of(vps);
	cr_assert_not_null(strstr(cfg, "rescue-xvps-"), "a reboot left rescue: %s", cfg);
	free(cfg);

	cr_assert(act_wait(&cust, vps, "unrescue"), "the unrescue job failed");
	r = vps_get_ok(&admin, vps);
	cr_assert_str_eq(jstr(r->json, "state"), "running", "%s", r->body);
	cr_assert_not(json_object_get_boolean(jget(r->json, "rescue")), "%s", r->body);
	cr_assert_neq(jint(r->json, "domid"), domid1, "leaving rescue did not restart it");
	api_resp_free(r);
	cr_assert_not(rescue_copy_exists(vps), "the rescue copy is still there");
	cfg = config_of(vps);
	cr_assert_null(strstr(cfg, "rescue-xvps-"), "%s", cfg);
	snprintf(want, sizeof(want), "vdev=xvda, access=rw, target=%s/xvps-%s.img'", dpath, vps);
	cr_assert_not_null(strstr(cfg, want), "%s", cfg);
	free(cfg);
	disk_io(vps, back, false);
	cr_assert_str_eq(back, data, "the customer's disk changed");

	cr_assert_eq(vps_audit_count(&admin, "vps.rescue", vps, "job "), 2);
	cr_assert_eq(vps_audit_count(&admin, "vps.unrescue", vps, "job "), 1);
	fx_vps_delete(&cust, vps);
}

Test(rescue, refusals_change_nothing_and_are_audited)
{
	char vps[32], path[96];
	api_resp *r;

	fx_vps(&cust, plan, tpl, NULL, vps);
	need_local_sim(vps);
	put_rescue_source();

	/* not in rescue: unrescue is 409 */
	r = act(&cust, vps, "unrescue", NULL);
	assert_problem(r, 409, NULL);
	cr_assert(strstr(jstr(r->json, "detail"), "not in rescue"), "%s", r->body);
	api_resp_free(r);
	/* a body field, another customer's VPS, an unknown VPS */
	r = act(&cust, vps, "rescue", "{\"image\":\"x\"}");
	assert_problem(r, 422, "image");
	api_resp_free(r);
	r = act(&other, vps, "rescue", NULL);
	assert_problem(r, 404, NULL);
	api_resp_free(r);
	r = act(&cust, "999999999", "rescue", NULL);
	assert_problem(r, 404, NULL);
	api_resp_free(r);

	/* a job queued or running: 409, and the flag stays false */
	snprintf(path, sizeof(path), V1 "/vps/%s/actions/reboot", vps);
	r = api_req(&cust, "POST", path, NULL);
	cr_assert_eq(r->status, 202, "%ld %s", r->status, r->body);
	{
		char job[32];
		api_resp *r2 = act(&cust, vps, "rescue", NULL);

		snprintf(job, sizeof(job), "%s", jstr(jget(r->json, "job"), "id"));
		/* the reboot may have finished in between: then rescue was accepted */
		if (r2->status == 409) {
			assert_problem(r2, 409, NULL);
			cr_assert(strstr(jstr(r2->json, "detail"), "job"), "%s", r2->body);
			cr_assert(wait_job(&cust, job, 60));
			cr_assert_not(rescue_flag(vps));
		} else {
			cr_assert_eq(r2->status, 202, "%ld %s", r2->status, r2->body);
			cr_assert(wait_job(&cust, jstr(jget(r2->json, "job"), "id"), 90));
			cr_assert(act_wait(&cust, vps, "unrescue"));
		}
		api_resp_free(r2);
	}
	api_resp_free(r);

	/* in rescue: rescue again is 409 */
	cr_assert(act_wait(&cust, vps, "rescue"));
	r = act(&admin, vps, "rescue", "{}");
	assert_problem(r, 409, NULL);
	cr_assert(strstr(jstr(r->json, "detail"), "already"), "%s", r->body);
	api_resp_free(r);
	cr_assert(rescue_flag(vps));

	/* suspended: 409 both ways, for the customer and an admin */
	snprintf(path, sizeof(path), V1 "/vps/%s/actions/suspend", vps);
	r = api_req(&admin, "POST", path, "{\"reason\":\"unpaid\"}");
	cr_assert_eq(r->status, 202, "%ld %s", r->status, r->body);
	cr_assert(wait_job(&admin, jstr(jget(r->json, "job"), "id"), 60));
	api_resp_free(r);
	r = act(&cust, vps, "unrescue", NULL);
	assert_problem(r, 409, NULL);
	cr_assert(strstr(jstr(r->json, "detail"), "suspended"), "%s", r->body);
	api_resp_free(r);
	r = act(&admin, vps, "unrescue", NULL);
	assert_problem(r, 409, NULL);
	api_resp_free(r);
	cr_assert(rescue_flag(vps), "a refused unrescue changed the flag");
	snprintf(path, sizeof(path), V1 "/vps/%s/actions/unsuspend", vps);
	r = api_req(&admin, "POST", path, NULL);
	cr_assert_eq(r->status, 202, "%ld %s", r->status, r->body);
	cr_assert(wait_job(&admin, jstr(jget(r->json, "job"), "id"), 60));
	api_resp_free(r);
	/* unsuspended, it comes back in rescue (the desired state) */
	cr_assert(rescue_flag(vps));
	cr_assert(rescue_copy_exists(vps));

	cr_assert_geq(vps_audit_count(&admin, "vps.unrescue.refused", vps, "(409)"), 3);
	cr_assert_geq(vps_audit_count(&admin, "vps.rescue.refused", vps, "(409)"), 1);
	cr_assert_geq(vps_audit_count(&admin, "vps.rescue.refused", vps, "(422)"), 1);
	/* deleting a rescued VPS takes its rescue copy too */
	fx_vps_delete(&cust, vps);
	cr_assert_not(rescue_copy_exists(vps), "the deleted VPS's rescue copy is still there");
}
