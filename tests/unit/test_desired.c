/* test_desired.c — the desired power state after a host boot (issue 16 item 6,
 * provisioning/desired.c): requests through agent_handle record what the panel wants
 * (desired.json), a "host reboot" — the agent and its state closed, every sim domain forgotten
 * as Xen forgets them, the state opened again from the files — and the boot start: the VPS that
 * should run are created again in order of VPS id with at most N creates at once (the sim's
 * create wrapped to count them), the stopped ones stay absent, each start is a "boot" power
 * event; an agent restart without a host reboot touches nothing. Sim + file storage under a
 * mkdtemp() dir; every guest is ended and reaped. */
#include <criterion/criterion.h>
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "../../common/util.h"
#include "../../provisioning/agent.h"
#include "../../provisioning/desired.h"
#include "../../provisioning/power.h"
#include "../../provisioning/vps.h"
#include "sim_fixture.h"

static char tmp[64];
static hv_driver hv;
static st_driver st;
static vps_ctx ctx;
static bool opened;
static agent *ag;
static power_ctx *power;
static desired_ctx *desired;

/* The sim's create, counted: how many run at once, and the order they began in. */
static hv_ops counted_ops;
static const hv_ops *real_ops;
static pthread_mutex_t cnt_mu = PTHREAD_MUTEX_INITIALIZER;
static int in_create, max_in_create, n_begun;
static char begun[16][32];

static int counted_create(hv_driver *d, const char *name, const char *cfg, char *err)
{
	int rc;

	pthread_mutex_lock(&cnt_mu);
	if (++in_create > max_in_create)
		max_in_create = in_create;
	if (n_begun < 16)
		snprintf(begun[n_begun++], sizeof(begun[0]), "%s", name);
	pthread_mutex_unlock(&cnt_mu);
	usleep(150 * 1000); /* long enough for a second worker to begin meanwhile */
	rc = real_ops->create(d, name, cfg, err);
	pthread_mutex_lock(&cnt_mu);
	in_create--;
	pthread_mutex_unlock(&cnt_mu);
	return rc;
}

static void count_reset(void)
{
	pthread_mutex_lock(&cnt_mu);
	in_create = max_in_create = n_begun = 0;
	pthread_mutex_unlock(&cnt_mu);
}

static void open_agent(void)
{
	agent_config cfg = {0};
	char err[512];

	cr_assert_eq(power_open(&ctx, tmp, &power, err), 0, "%s", err);
	cr_assert_eq(desired_open(&ctx, tmp, &desired, err), 0, "%s", err);
	snprintf(cfg.sock_path, sizeof(cfg.sock_path), "%s/agent.sock", tmp);
	cfg.panel_uid = getuid();
	cr_assert_eq(agent_start(&cfg, &ctx, &ag, err, sizeof(err)), 0, "%s", err);
}

static void close_agent(void)
{
	if (ag)
		agent_stop(ag);
	ag = NULL;
	desired_close(desired);
	desired = NULL;
	power_close(power);
	power = NULL;
}

static void setup(void)
{
	simfx_open("desired", tmp, &hv, &st, &ctx, &opened);
	real_ops = hv.ops;
	counted_ops = *hv.ops;
	counted_ops.create = counted_create;
	hv.ops = &counted_ops;
	open_agent();
}

static void teardown(void)
{
	close_agent();
	if (opened) {
		simfx_forget_all(&hv);
		hv.ops->dispose(&hv);
		st.ops->dispose(&st);
		opened = false;
	}
	simfx_rmtree(tmp);
}

TestSuite(desired, .init = setup, .fini = teardown, .timeout = 90);

static void need_guest(void)
{
	if (access(simfx_guest_path(), X_OK) != 0)
		cr_skip_test("no simguest at %s (set XVPS_SIMGUEST)", simfx_guest_path());
}

static json_object *spec_json(int id, const char *power_state)
{
	char buf[1024];
	json_object *o;

	snprintf(buf, sizeof(buf),
	         "{\"name\":\"xvps-%d\",\"hostname\":\"vm%d.example.com\",\"type\":\"pvh\","
	         "\"vcpus\":1,\"memory_mib\":256,\"disk_gib\":1,\"template\":\"tpl-1\","
	         "\"mac\":\"00:16:3e:00:01:%02x\",\"vifname\":\"xvif%d\",\"ipv4\":[\"192.0.2.%d\"],"
	         "\"gateway4\":\"192.0.2.1\",\"power\":\"%s\"}",
	         id, id, id, id, id + 10, power_state);
	o = json_tokener_parse(buf);
	cr_assert_not_null(o);
	return o;
}

/* Sends req (taken over) to the agent; asserts "ok". */
static void call_ok(json_object *req)
{
	json_object *rep = agent_handle(ag, req), *ok;

	cr_assert(json_object_object_get_ex(rep, "ok", &ok) && json_object_get_boolean(ok), "%s",
	          json_object_to_json_string(rep));
	json_object_put(rep);
	json_object_put(req);
}

static void ensure(int id, const char *power_state)
{
	json_object *req = json_object_new_object();

	json_object_object_add(req, "op", json_object_new_string("vps.ensure"));
	json_object_object_add(req, "spec", spec_json(id, power_state));
	call_ok(req);
}

static void power_action(int id, const char *action)
{
	json_object *req = json_object_new_object();
	char name[32];

	snprintf(name, sizeof(name), "xvps-%d", id);
	json_object_object_add(req, "op", json_object_new_string("vps.power"));
	json_object_object_add(req, "name", json_object_new_string(name));
	json_object_object_add(req, "action", json_object_new_string(action));
	if (strcmp(action, "start") == 0 || strcmp(action, "reboot") == 0)
		json_object_object_add(req, "spec", spec_json(id, "running"));
	call_ok(req);
}

static hv_state state_of(int id)
{
	hv_domain_info info;
	char name[32], err[HV_ERRLEN];

	snprintf(name, sizeof(name), "xvps-%d", id);
	cr_assert_eq(hv.ops->info(&hv, name, &info, err), 0, "%s", err);
	return info.state;
}

static int desired_of(int id)
{
	char name[32];

	snprintf(name, sizeof(name), "xvps-%d", id);
	return desired_get(desired, name);
}

/* The host reboots: the agent and its state go, Xen forgets every domain, the agent starts
 * again from its files. */
static void host_reboot(void)
{
	close_agent();
	simfx_forget_all(&hv);
	open_agent();
	count_reset();
}

/* How many "boot" events with action act the agent recorded for xvps-<id>. */
static int boot_events(int id, const char *act)
{
	json_object *all = power_events(power, 0), *arr, *v;
	char name[32];
	int n = 0;

	snprintf(name, sizeof(name), "xvps-%d", id);
	cr_assert(json_object_object_get_ex(all, "events", &arr));
	for (size_t i = 0; i < json_object_array_length(arr); i++) {
		json_object *e = json_object_array_get_idx(arr, i);

		if (json_object_object_get_ex(e, "event", &v) &&
		    strcmp(json_object_get_string(v), "boot") == 0 &&
		    json_object_object_get_ex(e, "name", &v) &&
		    strcmp(json_object_get_string(v), name) == 0 &&
		    json_object_object_get_ex(e, "action", &v) &&
		    strcmp(json_object_get_string(v), act) == 0)
			n++;
	}
	json_object_put(all);
	return n;
}

static bool begun_among(int from, int to, int id)
{
	char name[32];

	snprintf(name, sizeof(name), "xvps-%d", id);
	for (int i = from; i < to && i < n_begun; i++)
		if (strcmp(begun[i], name) == 0)
			return true;
	return false;
}

Test(desired, host_reboot_starts_the_running_ones_by_id_two_at_once_and_leaves_stopped_ones)
{
	desired_boot_result res;

	need_guest();
	for (int id = 1; id <= 6; id++)
		ensure(id, "running");
	ensure(7, "stopped");
	power_action(3, "poweroff");
	power_action(6, "shutdown");
	cr_assert_eq(desired_of(1), 1);
	cr_assert_eq(desired_of(3), 0, "powered off: stopped");
	cr_assert_eq(desired_of(6), 0, "shut down: stopped");
	cr_assert_eq(desired_of(7), 0, "ensured stopped");
	cr_assert_eq(desired_of(8), -1, "never seen");

	host_reboot();
	for (int id = 1; id <= 7; id++)
		cr_assert_eq(state_of(id), HV_ABSENT, "xvps-%d before the boot start", id);
	cr_assert_eq(desired_of(5), 1, "read back from desired.json");
	cr_assert_eq(desired_of(6), 0, "read back from desired.json");

	cr_assert_eq(
	        desired_boot_start(desired, 2, agent_lock_domain, agent_unlock_domain, ag, &res),
	        0);
	cr_assert_eq(res.started, 4);
	cr_assert_eq(res.failed, 0);
	cr_assert_eq(res.stopped, 3);
	cr_assert_eq(res.running, 0);
	cr_assert_eq(max_in_create, 2, "at most two creates at once, and two were");
	cr_assert_eq(res.max_parallel, 2);
	cr_assert_eq(n_begun, 4, "one create per running VPS");
	/* By id: the first two creates are 1 and 2 (either may begin first), then 4 and 5. */
	cr_assert(begun_among(0, 2, 1) && begun_among(0, 2, 2), "%s %s", begun[0], begun[1]);
	cr_assert(begun_among(2, 4, 4) && begun_among(2, 4, 5), "%s %s", begun[2], begun[3]);
	for (int id = 1; id <= 7; id++) {
		bool run = id != 3 && id != 6 && id != 7;

		cr_assert_eq(state_of(id) == HV_RUNNING, run, "xvps-%d", id);
		cr_assert_eq(boot_events(id, "started"), run ? 1 : 0, "xvps-%d", id);
	}
}

Test(desired, one_at_a_time_follows_the_numeric_id_and_a_start_makes_it_running_again)
{
	desired_boot_result res;

	need_guest();
	ensure(10, "running");
	ensure(2, "stopped");
	ensure(33, "running");
	ensure(9, "running");
	power_action(2, "start");
	cr_assert_eq(desired_of(2), 1, "started: running");

	host_reboot();
	cr_assert_eq(
	        desired_boot_start(desired, 1, agent_lock_domain, agent_unlock_domain, ag, &res),
	        0);
	cr_assert_eq(res.started, 4);
	cr_assert_eq(max_in_create, 1);
	cr_assert_eq(n_begun, 4);
	cr_assert_str_eq(begun[0], "xvps-2");
	cr_assert_str_eq(begun[1], "xvps-9");
	cr_assert_str_eq(begun[2], "xvps-10", "by number, not by name");
	cr_assert_str_eq(begun[3], "xvps-33");
}

Test(desired, an_agent_restart_without_a_host_reboot_starts_nothing)
{
	desired_boot_result res;
	hv_domain_info info;
	char err[HV_ERRLEN];
	int domid;

	need_guest();
	ensure(1, "running");
	ensure(2, "stopped");
	cr_assert_eq(hv.ops->info(&hv, "xvps-1", &info, err), 0, "%s", err);
	domid = info.domid;
	close_agent();
	open_agent();
	count_reset();
	cr_assert_eq(
	        desired_boot_start(desired, 2, agent_lock_domain, agent_unlock_domain, ag, &res),
	        0);
	cr_assert_eq(res.started, 0);
	cr_assert_eq(res.running, 1);
	cr_assert_eq(res.stopped, 1);
	cr_assert_eq(n_begun, 0);
	cr_assert_eq(hv.ops->info(&hv, "xvps-1", &info, err), 0, "%s", err);
	cr_assert_eq(info.domid, domid, "the same domain");
	cr_assert_eq(state_of(2), HV_ABSENT);
}

Test(desired, a_removed_vps_is_forgotten_and_not_started)
{
	desired_boot_result res;
	json_object *req = json_object_new_object();

	need_guest();
	ensure(1, "running");
	ensure(2, "running");
	json_object_object_add(req, "op", json_object_new_string("vps.remove"));
	json_object_object_add(req, "name", json_object_new_string("xvps-2"));
	call_ok(req);
	cr_assert_eq(desired_of(2), -1);
	host_reboot();
	cr_assert_eq(
	        desired_boot_start(desired, 2, agent_lock_domain, agent_unlock_domain, ag, &res),
	        0);
	cr_assert_eq(res.started, 1);
	cr_assert_eq(state_of(2), HV_ABSENT);
}

Test(desired, parallel_setting_and_a_broken_file_are_refused)
{
	desired_boot_result res;
	desired_ctx *d2 = NULL;
	vps_ctx other = ctx;
	char path[128], err[DESIRED_ERRLEN];
	int v = -1;
	FILE *f;

	cr_assert(desired_parse_parallel(NULL, &v));
	cr_assert_eq(v, BOOT_PARALLEL_DEFAULT);
	cr_assert(desired_parse_parallel("0", &v));
	cr_assert_eq(v, 0);
	cr_assert(desired_parse_parallel("16", &v));
	cr_assert_eq(v, 16);
	cr_assert_not(desired_parse_parallel("17", &v));
	cr_assert_not(desired_parse_parallel("-1", &v));
	cr_assert_not(desired_parse_parallel("2x", &v));
	cr_assert_eq(desired_boot_start(desired, 0, NULL, NULL, NULL, &res), -EINVAL);
	cr_assert_eq(desired_boot_start(desired, 17, NULL, NULL, NULL, &res), -EINVAL);

	snprintf(path, sizeof(path), "%s/broken", tmp);
	cr_assert_eq(mkdir(path, 0700), 0);
	snprintf(path, sizeof(path), "%s/broken/%s", tmp, DESIRED_FILE);
	f = fopen(path, "w");
	cr_assert_not_null(f);
	fputs("[1,2", f);
	fclose(f);
	snprintf(path, sizeof(path), "%s/broken", tmp);
	cr_assert_neq(desired_open(&other, path, &d2, err), 0);
	cr_assert_null(d2);
}
