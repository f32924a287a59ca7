/* api_guest.c — guests that power off or reboot by themselves (issue 13 item 3), against a
 * running xvpsd and a sim agent ($XVPS_URL, $XVPS_STATE): the test signals the VPS's
 * xvps-simguest the way a guest's own `poweroff` (SIGUSR2) or `reboot` (SIGUSR1) would end it,
 * then the API must show the new state within 10 s, audit it as the actor "guest", and never
 * start again a VPS its guest powered off. Skipped without $XVPS_STATE (not a sim agent). */
#include <criterion/criterion.h>
#include <json-c/json.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

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

TestSuite(guest, .init = setup, .fini = api_cleanup, .timeout = 180);

/* The pid of xvps-<vps>'s simguest from the sim driver's state file, or 0. */
static long guest_pid(const char *vps)
{
	const char *state = getenv("XVPS_STATE");
	char path[512];
	json_object *o, *v;
	long pid = 0;

	if (!state || !*state)
		return 0;
	snprintf(path, sizeof(path), "%s/sim/xvps-%s.json", state, vps);
	o = json_object_from_file(path);
	if (o && json_object_object_get_ex(o, "pid", &v))
		pid = (long)json_object_get_int64(v);
	json_object_put(o);
	return pid;
}

static void need_sim(const char *vps)
{
	if (guest_pid(vps) <= 0)
		cr_skip_test("no sim guest state under $XVPS_STATE (not a sim agent)");
}

static void sleep_ms(int ms)
{
	struct timespec ts = {ms / 1000, (long)(ms % 1000) * 1000000L};
	nanosleep(&ts, NULL);
}

/* GET /vps/{vps} as admin: state into state[32], domid returned (-1 when null). */
static long long vps_state(const char *vps, char state[32])
{
	char path[96];
	api_resp *r;
	long long domid;

	snprintf(path, sizeof(path), V1 "/vps/%s", vps);
	r = api_req(&admin, "GET", path, NULL);
	cr_assert_eq(r->status, 200, "%ld %s", r->status, r->body);
	snprintf(state, 32, "%s", jstr(r->json, "state"));
	domid = jis_null(r->json, "domid") ? -1 : jint(r->json, "domid");
	api_resp_free(r);
	return domid;
}

static bool audited(const char *action, const char *vps)
{
	char path[160];
	api_resp *r;
	bool found = false;

	snprintf(path, sizeof(path), V1 "/audit?resource=vps/%s&limit=1000", vps);
	r = api_req(&admin, "GET", path, NULL);
	cr_assert_eq(r->status, 200);
	for (size_t i = 0; i < json_object_array_length(r->json) && !found; i++) {
		json_object *e = json_object_array_get_idx(r->json, i);
		const char *a = jstr(e, "action");
		const char *u = jstr(e, "username") ? jstr(e, "username") : jstr(e, "user");

		found = a && u && strcmp(a, action) == 0 && strcmp(u, "guest") == 0;
	}
	api_resp_free(r);
	return found;
}

static void act(const char *vps, const char *action)
{
	char path[128], job[32];
	api_resp *r;

	snprintf(path, sizeof(path), V1 "/vps/%s/actions/%s", vps, action);
	r = api_req(&cust, "POST", path, NULL);
	cr_assert_eq(r->status, 202, "%ld %s", r->status, r->body);
	snprintf(job, sizeof(job), "%s", jstr(jget(r->json, "job"), "id"));
	api_resp_free(r);
	cr_assert(wait_job(&cust, job, 60), "%s did not finish", action);
}

Test(guest, a_guests_own_poweroff_and_reboot_reach_the_api_within_10_s)
{
	char vps[32], state[32];
	long long domid, domid2 = -1;
	long pid;
	int ms;

	fx_vps(&cust, plan, tpl, NULL, vps);
	need_sim(vps);

	/* poweroff from inside: stopped within 10 s, audited, and it stays stopped. */
	pid = guest_pid(vps);
	cr_assert_eq(kill((pid_t)pid, SIGUSR2), 0);
	for (ms = 0; ms <= 10000; ms += 250) {
		vps_state(vps, state);
		if (strcmp(state, "stopped") == 0)
			break;
		sleep_ms(250);
	}
	cr_assert_str_eq(state, "stopped", "not stopped 10 s after the guest's poweroff");
	cr_assert(audited("vps.guest_poweroff", vps), "no vps.guest_poweroff by guest");
	sleep_ms(4000);
	vps_state(vps, state);
	cr_assert_str_eq(state, "stopped", "the VPS came back after its guest powered off");

	/* reboot from inside: running again under a new domid within 10 s, audited. */
	act(vps, "start");
	domid = vps_state(vps, state);
	cr_assert_str_eq(state, "running");
	pid = guest_pid(vps);
	cr_assert_eq(kill((pid_t)pid, SIGUSR1), 0);
	for (ms = 0; ms <= 10000; ms += 250) {
		domid2 = vps_state(vps, state);
		if (strcmp(state, "running") == 0 && domid2 >= 0 && domid2 != domid)
			break;
		sleep_ms(250);
	}
	cr_assert_str_eq(state, "running");
	cr_assert_neq(domid2, domid, "no new domid 10 s after the guest's reboot");
	cr_assert(audited("vps.guest_reboot", vps), "no vps.guest_reboot by guest");
	fx_vps_delete(&cust, vps);
}
