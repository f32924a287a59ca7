/* test_power.c — guest-initiated power events and CPU time across domain runs
 * (provisioning/power.c, the drivers' preserved domains and run-end hooks): the xl driver on
 * the fake runner with hand-written shutdown states (tests/unit/data/xl/list-shutdown.txt,
 * marked so in recorded/SOURCE.txt) and a fake libxenstat; the sim driver with real
 * xvps-simguest processes told to reboot, power off or crash themselves (SIGUSR1, SIGUSR2,
 * SIGQUIT). The cumulative CPU time must never go down and must equal the runs' sum. */
#include <criterion/criterion.h>
#include <errno.h>
#include <ftw.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "../../common/jsonutil.h"
#include "../../common/util.h"
#include "../../hypervisor/driver.h"
#include "../../hypervisor/sim_internal.h"
#include "../../provisioning/power.h"
#include "../../provisioning/vps.h"
#include "sim_fixture.h"
#include "xl_fake.h"

#define N(a) (sizeof(a) / sizeof((a)[0]))

/* ---- the xl driver --------------------------------------------------------------------------- */

Test(power_xl, preserved_lists_shut_down_domains_with_their_reasons)
{
	static const fake_step steps[] = {{.out_file = "list-shutdown.txt"}};
	fake f;
	hv_driver d = xlf_open(&f, steps, N(steps));
	char **names = NULL, err[HV_ERRLEN];
	hv_shutdown_reason *why = NULL;
	size_t n = 0;

	cr_assert_eq(d.ops->preserved(&d, "xvps-", &names, &why, &n, err), 0, "%s", err);
	cr_assert_eq(n, 3);
	cr_assert_str_eq(names[0], "xvps-13");
	cr_assert_eq(why[0], HV_SHUTDOWN_POWEROFF);
	cr_assert_str_eq(names[1], "xvps-14");
	cr_assert_eq(why[1], HV_SHUTDOWN_CRASH);
	cr_assert_str_eq(names[2], "xvps-15");
	cr_assert_eq(why[2], HV_SHUTDOWN_REBOOT);
	fake_assert_calls(&f, (const char *[]){"xl list", NULL});
	for (size_t i = 0; i < n; i++)
		free(names[i]);
	free(names);
	free(why);
	d.ops->dispose(&d);
}

/* What Xen 4.17 printed on the appliance for a guest that crashed itself (recorded). */
Test(power_xl, a_crash_recorded_on_the_appliance_is_preserved_with_reason_crash)
{
	static const fake_step steps[] = {{.out_file = "recorded/list-preserved-crash.stdout.txt"}};
	fake f;
	hv_driver d = xlf_open(&f, steps, N(steps));
	char **names = NULL, err[HV_ERRLEN];
	hv_shutdown_reason *why = NULL;
	size_t n = 0;

	cr_assert_eq(d.ops->preserved(&d, "xvps-", &names, &why, &n, err), 0, "%s", err);
	cr_assert_eq(n, 1);
	cr_assert_str_eq(names[0], "xvps-1");
	cr_assert_eq(why[0], HV_SHUTDOWN_CRASH);
	fake_assert_calls(&f, (const char *[]){"xl list", NULL});
	free(names[0]);
	free(names);
	free(why);
	d.ops->dispose(&d);
}

Test(power_xl, info_of_a_domain_its_guest_rebooted_is_shutdown_reboot)
{
	static const fake_step steps[] = {
	        {.out_file = "list-l-xvps-12.json.txt"},
	        {.out_file = "list-xvps-12-shutdown-reboot.txt"},
	        {.out_file = "info-credit2.txt"},
	        {.out_file = "sched-credit2-xvps-12.txt"},
	};
	fake f;
	hv_driver d = xlf_open(&f, steps, N(steps));
	char err[HV_ERRLEN];
	hv_domain_info info;

	cr_assert_eq(d.ops->info(&d, "xvps-12", &info, err), 0, "%s", err);
	cr_assert_eq(info.state, HV_SHUTDOWN);
	cr_assert_eq(info.shutdown, HV_SHUTDOWN_REBOOT);
	cr_assert_eq(info.cpu_ns, 52700000000ull, "the preserved domain's final CPU time");
	fake_assert_calls(&f, (const char *[]){"xl list -l xvps-12", "xl list xvps-12", "xl info",
	                                       "xl sched-credit2 -d xvps-12", NULL});
	d.ops->dispose(&d);
}

/* A fake libxenstat with one domain, for the final CPU time destroy reads. */
static unsigned long long fx_cpu = 52700000123ull;
static int fx_handle;
static void *fx_init(void)
{
	return &fx_handle;
}
static void fx_uninit(void *h)
{
	(void)h;
}
static void *fx_node(void *h)
{
	return h;
}
static void fx_free(void *n)
{
	(void)n;
}
static unsigned fx_num(void *n)
{
	return 1;
}
static void *fx_dom(void *n, unsigned i)
{
	return i == 0 ? &fx_handle : NULL;
}
static const char *fx_name(void *dom)
{
	return "xvps-12";
}
static unsigned long long fx_ns(void *dom)
{
	return fx_cpu;
}
static const hv_xenstat_ops fx_ops = {.init = fx_init,
                                      .uninit = fx_uninit,
                                      .get_node = fx_node,
                                      .free_node = fx_free,
                                      .num_domains = fx_num,
                                      .domain_by_index = fx_dom,
                                      .domain_name = fx_name,
                                      .domain_cpu_ns = fx_ns};

static struct {
	int endings, endeds;
	uint64_t final_ns;
	bool destroyed;
} seen;
static void rec_ending(void *ctx, const char *name)
{
	seen.endings++;
}
static void rec_ended(void *ctx, const char *name, uint64_t final_ns, bool destroyed)
{
	cr_assert_eq(seen.endings, seen.endeds + 1, "ended without ending");
	seen.endeds++;
	seen.final_ns = final_ns;
	seen.destroyed = destroyed;
}

Test(power_xl, destroy_reports_the_final_cpu_time_through_the_hooks)
{
	static const fake_step steps[] = {{.out = ""}};
	fake f;
	hv_driver d = xlf_open(&f, steps, N(steps));
	char err[HV_ERRLEN];

	memset(&seen, 0, sizeof(seen));
	cr_assert_eq(hv_xl_set_xenstat(&d, &fx_ops), 0);
	d.hooks = (hv_run_hooks){.ending = rec_ending, .ended = rec_ended};
	cr_assert_eq(d.ops->destroy(&d, "xvps-12", err), 0, "%s", err);
	cr_assert_eq(seen.endings, 1);
	cr_assert_eq(seen.endeds, 1);
	cr_assert_eq(seen.final_ns, fx_cpu);
	cr_assert(seen.destroyed);
	fake_assert_calls(&f, (const char *[]){"xl destroy xvps-12", NULL});
	d.ops->dispose(&d);
}

Test(power_xl, a_failed_destroy_folds_nothing)
{
	static const fake_step steps[] = {{.exit_status = 1, .out = "destroy failed (rc=-3)\n"}};
	fake f;
	hv_driver d = xlf_open(&f, steps, N(steps));
	char err[HV_ERRLEN];

	memset(&seen, 0, sizeof(seen));
	cr_assert_eq(hv_xl_set_xenstat(&d, &fx_ops), 0);
	d.hooks = (hv_run_hooks){.ending = rec_ending, .ended = rec_ended};
	cr_assert_eq(d.ops->destroy(&d, "xvps-12", err), -EIO);
	cr_assert_eq(seen.endeds, 1);
	cr_assert_not(seen.destroyed);
	fake_assert_calls(&f, (const char *[]){"xl destroy xvps-12", NULL});
	d.ops->dispose(&d);
}

/* ---- the sim driver and the agent's power module ------------------------------------------- */

static char tmp[64];
static hv_driver hv;
static st_driver st;
static vps_ctx ctx;
static power_ctx *pw;
static bool opened;

static void setup(void)
{
	char err[1024];

	if (access(simfx_guest_path(), X_OK) != 0)
		return;
	simfx_open("power", tmp, &hv, &st, &ctx, &opened);
	cr_assert_eq(power_open(&ctx, tmp, &pw, err), 0, "%s", err);
}

static void teardown(void)
{
	if (opened) {
		simfx_forget_all(&hv);
		power_close(pw);
		hv.ops->dispose(&hv);
		st.ops->dispose(&st);
		opened = false;
		simfx_rmtree(tmp);
	}
	while (waitpid(-1, NULL, WNOHANG) > 0)
		;
}

TestSuite(power_sim, .init = setup, .fini = teardown, .timeout = 60);

static void need_guest(void)
{
	if (!opened)
		cr_skip_test("no simguest at %s (set XVPS_SIMGUEST)", simfx_guest_path());
}

/* Ensures xvps-<id> running (on_crash "restart" or "stop"). */
static void ensure_running(int id, const char *on_crash)
{
	char buf[1024];
	json_field_error fe = {0};
	json_object *o, *status = NULL;
	vps_spec spec;
	vps_err e = {0};

	snprintf(buf, sizeof(buf),
	         "{\"name\":\"xvps-%d\",\"hostname\":\"vm%d.example.com\",\"type\":\"pvh\","
	         "\"vcpus\":2,\"memory_mib\":512,\"disk_gib\":2,\"template\":\"tpl-1\","
	         "\"mac\":\"00:16:3e:00:00:%02x\",\"vifname\":\"xvif%d\",\"power\":\"running\","
	         "\"on_crash\":\"%s\"}",
	         id, id, id, id, on_crash);
	o = json_tokener_parse(buf);
	cr_assert_not_null(o);
	cr_assert_eq(spec_parse(o, &spec, &fe), 0, "%s %s", fe.field, fe.detail);
	json_object_put(o);
	cr_assert_eq(vps_ensure(&ctx, &spec, &status, &e), 0, "%s", e.msg);
	json_object_put(status);
	spec_dispose(&spec);
}

static hv_domain_info info_of(const char *name)
{
	hv_domain_info info;
	char err[HV_ERRLEN];

	cr_assert_eq(hv.ops->info(&hv, name, &info, err), 0, "%s", err);
	return info;
}

static uint64_t cumulative(const char *name)
{
	const char *names[1] = {name};
	char err[POWER_ERRLEN];
	uint64_t ns = 0;

	cr_assert_eq(power_cpu_times(pw, names, 1, &ns, err), 0, "%s", err);
	return ns;
}

static void sleep_ms(int ms)
{
	struct timespec ts = {ms / 1000, (long)(ms % 1000) * 1000000L};
	nanosleep(&ts, NULL);
}

/* Signals the domain's simguest and waits until the driver lists it preserved. */
static void guest_does(const char *name, int sig)
{
	sim_dom dom;
	char err[HV_ERRLEN];

	cr_assert_eq(sim_load_dom(&hv, name, &dom, err), 0, "%s", err);
	cr_assert_gt(dom.pid, 0);
	cr_assert_eq(kill(dom.pid, sig), 0);
	for (int i = 0; i < 500; i++) {
		char **names = NULL;
		hv_shutdown_reason *why = NULL;
		size_t n = 0;
		bool found = false;

		cr_assert_eq(hv.ops->preserved(&hv, "xvps-", &names, &why, &n, err), 0, "%s", err);
		for (size_t k = 0; k < n; k++) {
			found = found || strcmp(names[k], name) == 0;
			free(names[k]);
		}
		free(names);
		free(why);
		if (found)
			return;
		sleep_ms(10);
	}
	cr_assert_fail("%s was not preserved after signal %d", name, sig);
}

/* The newest event power_events reports for name (all when name is NULL), as a new reference
 * (or NULL). */
static json_object *last_event_of(const char *name)
{
	json_object *r = power_events(pw, 0), *arr, *e = NULL, *v;

	if (json_object_object_get_ex(r, "events", &arr)) {
		for (size_t i = 0; i < json_object_array_length(arr); i++) {
			json_object *x = json_object_array_get_idx(arr, i);

			if (!name || (json_object_object_get_ex(x, "name", &v) &&
			              strcmp(json_object_get_string(v), name) == 0)) {
				json_object_put(e);
				e = json_object_get(x);
			}
		}
	}
	json_object_put(r);
	return e;
}

static const char *estr(json_object *e, const char *key)
{
	json_object *v;

	return json_object_object_get_ex(e, key, &v) ? json_object_get_string(v) : NULL;
}

Test(power_sim, a_guest_that_reboots_itself_is_created_again_and_loses_no_cpu_time)
{
	uint64_t before, frozen, after_settle, later;
	hv_domain_info info;
	json_object *e;
	int old_domid;

	need_guest();
	ensure_running(21, "restart");
	sleep_ms(200);
	old_domid = info_of("xvps-21").domid;
	before = cumulative("xvps-21");
	cr_assert_gt(before, 0);

	guest_does("xvps-21", SIGUSR1);
	info = info_of("xvps-21");
	cr_assert_eq(info.state, HV_SHUTDOWN);
	cr_assert_eq(info.shutdown, HV_SHUTDOWN_REBOOT);
	/* Preserved: its CPU time is frozen at the guest's end, and read as such. */
	frozen = cumulative("xvps-21");
	cr_assert_geq(frozen, before);
	sleep_ms(100);
	cr_assert_eq(cumulative("xvps-21"), frozen, "a dead domain's CPU time still grows");

	cr_assert_eq(power_watch_once(pw, NULL, NULL, NULL), 1);
	info = info_of("xvps-21");
	cr_assert_eq(info.state, HV_RUNNING, "not started again after its reboot");
	cr_assert_neq(info.domid, old_domid);
	/* The old run is in the base: the total is the old run plus the new one. */
	after_settle = cumulative("xvps-21");
	cr_assert_geq(after_settle, frozen, "the total went down across the reboot");
	sleep_ms(200);
	later = cumulative("xvps-21");
	cr_assert_gt(later, after_settle, "the new run is not counted");
	{
		const char *names[1] = {"xvps-21"};
		uint64_t run = 0;
		char err[HV_ERRLEN];

		cr_assert_eq(hv.ops->cpu_times(&hv, names, 1, &run, err), 0);
		/* cumulative = frozen (every earlier run) + the current run, read in one go. */
		cr_assert_leq(frozen + run, cumulative("xvps-21"));
		cr_assert_geq(frozen + run + 50000000ull, cumulative("xvps-21"));
	}
	e = last_event_of("xvps-21");
	cr_assert_not_null(e);
	cr_assert_str_eq(estr(e, "event"), "reboot");
	cr_assert_str_eq(estr(e, "action"), "restarted");
	cr_assert_str_eq(estr(e, "state"), "running");
	json_object_put(e);
	cr_assert_eq(power_watch_once(pw, NULL, NULL, NULL), 0, "settled twice");
}

Test(power_sim, a_guest_that_powers_itself_off_stays_off)
{
	uint64_t frozen;
	json_object *e;

	need_guest();
	ensure_running(22, "restart");
	sleep_ms(100);
	guest_does("xvps-22", SIGUSR2);
	frozen = cumulative("xvps-22");
	cr_assert_eq(power_watch_once(pw, NULL, NULL, NULL), 1);
	cr_assert_eq(info_of("xvps-22").state, HV_STOPPED);
	cr_assert_eq(cumulative("xvps-22"), frozen, "a stopped domain's total must stay");
	e = last_event_of("xvps-22");
	cr_assert_not_null(e);
	cr_assert_str_eq(estr(e, "event"), "poweroff");
	cr_assert_str_eq(estr(e, "action"), "stopped");
	cr_assert_str_eq(estr(e, "state"), "stopped");
	json_object_put(e);
}

Test(power_sim, a_crash_restarts_or_stays_off_per_plan)
{
	json_object *e;

	need_guest();
	ensure_running(23, "restart");
	ensure_running(24, "stop");
	guest_does("xvps-23", SIGQUIT);
	guest_does("xvps-24", SIGQUIT);
	cr_assert_eq(power_watch_once(pw, NULL, NULL, NULL), 2);
	cr_assert_eq(info_of("xvps-23").state, HV_RUNNING);
	cr_assert_eq(info_of("xvps-24").state, HV_STOPPED);
	e = last_event_of("xvps-24");
	cr_assert_not_null(e);
	cr_assert_str_eq(estr(e, "event"), "crash");
	cr_assert_str_eq(estr(e, "action"), "stopped");
	json_object_put(e);
	e = last_event_of("xvps-23");
	cr_assert_not_null(e);
	cr_assert_str_eq(estr(e, "event"), "crash");
	cr_assert_str_eq(estr(e, "action"), "restarted");
	json_object_put(e);
}

Test(power_sim, events_are_read_from_a_cursor_and_survive_a_restart)
{
	char err[POWER_ERRLEN];
	json_object *r, *v;
	int64_t next;

	need_guest();
	ensure_running(25, "restart");
	guest_does("xvps-25", SIGUSR2);
	cr_assert_eq(power_watch_once(pw, NULL, NULL, NULL), 1);
	r = power_events(pw, 0);
	cr_assert(json_object_object_get_ex(r, "next", &v));
	next = json_object_get_int64(v);
	cr_assert_eq(next, 3, "one shutdown, two events (settling, then its outcome)");
	json_object_put(r);
	/* Nothing new after the cursor. */
	r = power_events(pw, (uint64_t)next);
	cr_assert(json_object_object_get_ex(r, "events", &v));
	cr_assert_eq(json_object_array_length(v), 0);
	cr_assert(json_object_object_get_ex(r, "reset", &v));
	cr_assert_not(json_object_get_boolean(v));
	json_object_put(r);
	/* A cursor ahead of the log (the agent lost its state) asks for a reset. */
	r = power_events(pw, 99);
	cr_assert(json_object_object_get_ex(r, "reset", &v));
	cr_assert(json_object_get_boolean(v));
	json_object_put(r);
	/* The log and the bases are on disk: a new context reads them back. */
	power_close(pw);
	cr_assert_eq(power_open(&ctx, tmp, &pw, err), 0, "%s", err);
	r = power_events(pw, 2);
	cr_assert(json_object_object_get_ex(r, "events", &v));
	cr_assert_eq(json_object_array_length(v), 1);
	json_object_put(r);
	cr_assert_gt(cumulative("xvps-25"), 0, "the folded run was lost with the context");
}

Test(power_sim, an_api_stop_folds_the_run_too)
{
	json_object *status = NULL;
	vps_err e = {0};
	uint64_t before;

	need_guest();
	ensure_running(26, "restart");
	sleep_ms(100);
	before = cumulative("xvps-26");
	cr_assert_eq(vps_power(&ctx, "xvps-26", "poweroff", NULL, &status, &e), 0, "%s", e.msg);
	json_object_put(status);
	cr_assert_geq(cumulative("xvps-26"), before, "the stop lost the run's CPU time");
	cr_assert_eq(power_watch_once(pw, NULL, NULL, NULL), 0);
}

/* ---- the panel learns first, the slow part follows ------------------------------------------- */

/* The driver's destroy, wrapped: what power_events held and the cumulative CPU time at the moment
 * the watcher destroys the preserved domain (before it, nothing is slow). */
static hv_ops wrapped_ops;
static const hv_ops *real_ops;
static json_object *events_at_destroy;
static uint64_t cpu_at_destroy;

static int destroy_seen(hv_driver *d, const char *name, char *err)
{
	const char *names[1] = {name};
	char e[POWER_ERRLEN];

	json_object_put(events_at_destroy);
	events_at_destroy = power_events(pw, 0);
	cr_assert_eq(power_cpu_times(pw, names, 1, &cpu_at_destroy, e), 0, "%s", e);
	return real_ops->destroy(d, name, err);
}

static void wrap_destroy(void)
{
	real_ops = hv.ops;
	wrapped_ops = *hv.ops;
	wrapped_ops.destroy = destroy_seen;
	hv.ops = &wrapped_ops;
	events_at_destroy = NULL;
}

static void unwrap_destroy(void)
{
	hv.ops = real_ops;
	json_object_put(events_at_destroy);
	events_at_destroy = NULL;
}

static json_object *event_at(json_object *r, size_t i)
{
	json_object *arr;

	cr_assert(json_object_object_get_ex(r, "events", &arr));
	cr_assert_lt(i, json_object_array_length(arr));
	return json_object_array_get_idx(arr, i);
}

static int64_t eint(json_object *e, const char *key)
{
	json_object *v;

	cr_assert(json_object_object_get_ex(e, key, &v), "no %s in %s", key,
	          json_object_to_json_string(e));
	return json_object_get_int64(v);
}

static bool ebool(json_object *e, const char *key)
{
	json_object *v;

	cr_assert(json_object_object_get_ex(e, key, &v), "no %s", key);
	return json_object_get_boolean(v);
}

static size_t n_events(json_object *r)
{
	json_object *arr;

	return json_object_object_get_ex(r, "events", &arr) ? json_object_array_length(arr) : 0;
}

Test(power_sim, the_panel_learns_of_a_reboot_before_the_destroy_with_the_final_cpu_time)
{
	uint64_t frozen;
	json_object *r, *settling, *done;

	need_guest();
	ensure_running(27, "restart");
	sleep_ms(150);
	guest_does("xvps-27", SIGUSR1);
	frozen = cumulative("xvps-27");
	wrap_destroy();
	cr_assert_eq(power_watch_once(pw, NULL, NULL, NULL), 1);
	/* At the destroy the settling event was already there, with the frozen total. */
	cr_assert_not_null(events_at_destroy, "the watcher did not destroy the domain");
	cr_assert_eq(n_events(events_at_destroy), 1, "%s",
	             json_object_to_json_string(events_at_destroy));
	settling = event_at(events_at_destroy, 0);
	cr_assert_str_eq(estr(settling, "name"), "xvps-27");
	cr_assert_str_eq(estr(settling, "event"), "reboot");
	cr_assert_str_eq(estr(settling, "action"), "settling");
	cr_assert_str_eq(estr(settling, "state"), "stopped");
	cr_assert(ebool(settling, "restart"));
	cr_assert_eq((uint64_t)eint(settling, "cpu_ns"), frozen,
	             "the event's CPU time is not the dead run's final total");
	cr_assert_eq(cpu_at_destroy, frozen);
	/* Then the outcome, pointing back at it. */
	r = power_events(pw, 0);
	cr_assert_eq(n_events(r), 2);
	done = event_at(r, 1);
	cr_assert_str_eq(estr(done, "action"), "restarted");
	cr_assert_str_eq(estr(done, "state"), "running");
	cr_assert_eq(eint(done, "follows"), eint(settling, "seq"));
	cr_assert_gt(eint(done, "seq"), eint(settling, "seq"));
	json_object_put(r);
	/* The dead run is counted once: not lost at the destroy, not added again. */
	cr_assert_geq(cumulative("xvps-27"), frozen);
	cr_assert_leq(cumulative("xvps-27"), frozen + 2000000000ull);
	unwrap_destroy();
}

Test(power_sim, a_poweroff_and_a_crash_to_stay_off_say_so_at_once_and_keep_their_total)
{
	uint64_t frozen28, frozen29;
	json_object *r;

	need_guest();
	ensure_running(28, "restart");
	ensure_running(29, "stop");
	sleep_ms(100);
	guest_does("xvps-28", SIGUSR2);
	guest_does("xvps-29", SIGQUIT);
	frozen28 = cumulative("xvps-28");
	frozen29 = cumulative("xvps-29");
	cr_assert_eq(power_watch_once(pw, NULL, NULL, NULL), 2);
	r = power_events(pw, 0);
	cr_assert_eq(n_events(r), 4, "%s", json_object_to_json_string(r));
	for (size_t i = 0; i < 4; i += 2) {
		json_object *settling = event_at(r, i), *done = event_at(r, i + 1);
		bool is28 = strcmp(estr(settling, "name"), "xvps-28") == 0;

		cr_assert_str_eq(estr(settling, "action"), "settling");
		cr_assert_str_eq(estr(settling, "event"), is28 ? "poweroff" : "crash");
		cr_assert_not(ebool(settling, "restart"), "%s would be started again",
		              estr(settling, "name"));
		cr_assert_str_eq(estr(settling, "state"), "stopped");
		/* Stopped for good: the settling total is the final one, exactly. */
		cr_assert_eq((uint64_t)eint(settling, "cpu_ns"), is28 ? frozen28 : frozen29);
		cr_assert_eq(cumulative(estr(settling, "name")), is28 ? frozen28 : frozen29);
		cr_assert_str_eq(estr(done, "name"), estr(settling, "name"));
		cr_assert_str_eq(estr(done, "action"), "stopped");
		cr_assert_eq(eint(done, "follows"), eint(settling, "seq"));
	}
	json_object_put(r);
}
