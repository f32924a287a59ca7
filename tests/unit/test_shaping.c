/* test_shaping.c — shaping (provisioning/shaping.c) against a FAKE runner and a FAKE nftables
 * seam: the exact argv sequence of shape_apply / shape_remove (tc for the traffic to the guest,
 * the policer transaction in the domain's table for the traffic from it, recorded as one
 * "nft A; B; C" call), idempotence, rate 0, refusal of bad names, waiting for the vif, the ifb
 * layout of an older agent removed. A temp dir stands in for /sys/class/net: <tmp>/net/<dev>
 * present = the device exists. The rtnetlink seam (ctx.tc) records each qdisc / link change as
 * its tc / ip command line and removes <tmp>/net/<dev> for `ip link del` like the kernel would;
 * test_tc_nl.c checks against the kernel that each line and its rtnetlink request make the same
 * qdisc. No process is started (the runner fails the test if asked). */
#include <criterion/criterion.h>
#include <errno.h>
#include <ftw.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "../../common/util.h"
#include "../../provisioning/net.h"

/* A scripted answer for every change whose command line starts with prefix. */
typedef struct fake_rule {
	const char *prefix;
	int rc;          /* net_tc's return: a -errno */
	const char *msg; /* the kernel's message */
} fake_rule;

typedef struct fake {
	const fake_rule *rules;
	size_t n_rules;
	char *calls[64];
	size_t ncalls;
	size_t nruns; /* processes the runner was asked to start */
} fake;

static char tmp[64], netdir[128], statedir[128];
static fake f;
static net_ctx ctx;
static char err[NET_ERRLEN];

static void dev_path(const char *dev, char out[256])
{
	snprintf(out, 256, "%s/%s", netdir, dev);
}

static void mkdev(const char *dev)
{
	char p[256];
	dev_path(dev, p);
	cr_assert_eq(mkdir(p, 0755), 0, "mkdir %s", p);
}

static bool has_dev(const char *dev)
{
	char p[256];
	struct stat st;
	dev_path(dev, p);
	return stat(p, &st) == 0;
}

static const fake_rule *rule_for(const fake *fk, const char *line)
{
	for (size_t i = 0; i < fk->n_rules; i++)
		if (strncmp(line, fk->rules[i].prefix, strlen(fk->rules[i].prefix)) == 0)
			return &fk->rules[i];
	return NULL;
}

static void record(fake *fk, const char *line)
{
	if (fk->ncalls < sizeof(fk->calls) / sizeof(fk->calls[0]))
		fk->calls[fk->ncalls++] = strdup(line);
}

/* Shaping starts no process (issue 17 item 6): any call fails the test. */
static int fake_run(void *c, const char *const argv[], const char *stdin_data, size_t stdin_len,
                    int timeout_ms, runner_result *res)
{
	fake *fk = c;
	fk->nruns++;
	cr_assert_fail("shaping started a process: %s", argv[0]);
	return -EPERM;
}

/* The rtnetlink seam: records each change's command line; a scripted rule answers with its
 * -errno; "ip link del" removes the device from the fake tree as the kernel would. */
static int fake_tc(void *arg, const char *line, char e[NET_ERRLEN])
{
	fake *fk = arg;
	const fake_rule *r;

	record(fk, line);
	if ((r = rule_for(fk, line)) != NULL) {
		snprintf(e, NET_ERRLEN, "`%s` failed: %s.", line, r->msg);
		return r->rc;
	}
	if (strncmp(line, "ip link del ", 12) == 0) {
		char p[256];
		dev_path(line + 12, p);
		cr_assert_eq(rmdir(p), 0, "ip link del of a missing device %s", line + 12);
	}
	return 0;
}

/* The nftables seam: each transaction as one call "nft <lines joined by "; ">". */
static int fake_nft(void *arg, const char *cmds, bool check_only, char **out, char e[NET_ERRLEN])
{
	char line[1024] = "nft ";
	size_t k = 4;

	(void)check_only;
	(void)e;
	for (const char *c = cmds; *c && k + 3 < sizeof(line); c++) {
		if (*c == '\n') {
			if (c[1]) {
				line[k++] = ';';
				line[k++] = ' ';
			}
		} else {
			line[k++] = *c;
		}
	}
	line[k] = '\0';
	record(arg, line);
	if (out)
		*out = strdup("");
	return 0;
}

/* The first call since the last clear that starts with prefix. */
static const char *find_call(const char *prefix)
{
	for (size_t k = 0; k < f.ncalls; k++)
		if (strncmp(f.calls[k], prefix, strlen(prefix)) == 0)
			return f.calls[k];
	cr_assert_fail("no call starting with %s", prefix);
	return NULL;
}

static void use_rules(const fake_rule *rules, size_t n)
{
	f.rules = rules;
	f.n_rules = n;
}

static void clear_calls(void)
{
	for (size_t k = 0; k < f.ncalls; k++)
		free(f.calls[k]);
	f.ncalls = 0;
}

/* Asserts the commands run since the last call were exactly want (NULL-terminated). */
static void assert_calls(const char *const want[])
{
	size_t i = 0;
	for (; want[i]; i++) {
		cr_assert_lt(i, f.ncalls, "missing command %zu: %s", i, want[i]);
		cr_assert_str_eq(f.calls[i], want[i], "command %zu", i);
	}
	cr_assert_eq(f.ncalls, i, "extra command: %s", f.ncalls > i ? f.calls[i] : "");
	clear_calls();
}

static int rm_one(const char *path, const struct stat *sb, int flag, struct FTW *ftw)
{
	(void)sb;
	(void)flag;
	(void)ftw;
	return remove(path);
}

static void setup(void)
{
	snprintf(tmp, sizeof(tmp), "/tmp/xvps-shape-XXXXXX");
	cr_assert_not_null(mkdtemp(tmp));
	snprintf(netdir, sizeof(netdir), "%s/net", tmp);
	snprintf(statedir, sizeof(statedir), "%s/state", tmp);
	cr_assert_eq(mkdir(netdir, 0755), 0);
	memset(&f, 0, sizeof(f));
	cr_assert_eq(net_ctx_init(&ctx, (runner){.run = fake_run, .ctx = &f}, true, netdir,
	                          statedir, err),
	             0, "%s", err);
	ctx.vif_wait_ms = 200;
	ctx.nft = fake_nft;
	ctx.nft_arg = &f;
	ctx.tc = fake_tc;
	ctx.tc_arg = &f;
}

static void teardown(void)
{
	clear_calls();
	net_ctx_dispose(&ctx);
	nftw(tmp, rm_one, 16, FTW_DEPTH | FTW_PHYS);
}

TestSuite(shaping, .init = setup, .fini = teardown);

#define POLICE_OFF "nft add chain netdev xvps-xvif7 rate; flush chain netdev xvps-xvif7 rate"
#define POLICE_100                                                                                 \
	POLICE_OFF "; add rule netdev xvps-xvif7 rate limit rate over 12500000 bytes/second "      \
	           "burst 3125000 bytes drop"
#define APPLY_100                                                                                  \
	POLICE_100,                                                                                \
	        "tc qdisc replace dev xvif7 root handle 64: tbf rate 12500000bps burst 125000 "    \
	        "limit 750000"

Test(shaping, rate_of_spec_prefers_lower_throttle)
{
	vps_spec s = {0};
	struct {
		int net, thr, want;
	} cases[] = {{0, 0, 0}, {100, 0, 100},   {100, 10, 10}, {10, 100, 10},
	             {0, 5, 5}, {100, 100, 100}, {100000, 1, 1}};
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		s.net_mbit = cases[i].net;
		s.throttle_mbit = cases[i].thr;
		cr_assert_eq(shape_rate_mbit(&s), cases[i].want, "net %d throttle %d", cases[i].net,
		             cases[i].thr);
	}
}

Test(shaping, apply_runs_exact_commands)
{
	mkdev("xvif7");
	cr_assert_eq(shape_apply(&ctx, "xvif7", 100, err), 0, "%s", err);
	assert_calls((const char *[]){APPLY_100, NULL});
	cr_assert(!has_dev("xifb7"), "no ifb any more");
}

Test(shaping, apply_twice_is_idempotent)
{
	mkdev("xvif7");
	cr_assert_eq(shape_apply(&ctx, "xvif7", 100, err), 0, "%s", err);
	assert_calls((const char *[]){APPLY_100, NULL});
	cr_assert_eq(shape_apply(&ctx, "xvif7", 100, err), 0, "%s", err);
	assert_calls((const char *[]){APPLY_100, NULL});
}

/* Issue 17 item 6: every process start costs a second under emulation. A shaping starts none:
 * the tbf is an rtnetlink request, the policer a netlink transaction, in the agent's process. */
Test(shaping, apply_and_remove_start_no_process)
{
	mkdev("xvif7");
	mkdev("xvif7-emu");
	mkdev("xifb7");
	cr_assert_eq(shape_apply(&ctx, "xvif7", 100, err), 0, "%s", err);
	cr_assert_eq(f.ncalls, 6); /* ingress x2, ifb, policer, tbf x2 */
	cr_assert_eq(shape_apply(&ctx, "xvif7", 20, err), 0, "%s", err);
	cr_assert_eq(shape_remove(&ctx, "xvif7", err), 0, "%s", err);
	cr_assert_eq(f.nruns, 0);
}

/* Nothing is made ahead of the domain any more; a bad name is still refused. */
Test(shaping, prepare_makes_nothing)
{
	cr_assert_eq(shape_prepare(&ctx, "xvif7", 0, err), 0, "%s", err);
	cr_assert_eq(shape_prepare(&ctx, "xvif7", 100, err), 0, "%s", err);
	assert_calls((const char *[]){NULL});
	cr_assert_eq(f.nruns, 0);
	cr_assert_eq(shape_prepare(&ctx, "xvif-7", 100, err), -EINVAL);
}

/* An older agent redirected the traffic from the guest to an ifb, whose frames skip the netdev
 * hook: its ingress qdisc and the ifb go before the policer takes over. */
Test(shaping, the_ifb_layout_of_an_older_agent_is_removed)
{
	mkdev("xvif7");
	mkdev("xifb7");
	cr_assert_eq(shape_apply(&ctx, "xvif7", 100, err), 0, "%s", err);
	assert_calls((const char *[]){"tc qdisc del dev xvif7 ingress", "ip link del xifb7",
	                              APPLY_100, NULL});
	cr_assert_eq(f.nruns, 0);
	cr_assert(!has_dev("xifb7"));
}

Test(shaping, burst_is_10ms_of_rate_with_16k_floor)
{
	struct {
		int rate;
		const char *cmd;
	} cases[] = {
	        {1, "tc qdisc replace dev xvif7 root handle 1: tbf rate 125000bps burst 16384 "
	            "limit 22634"},
	        {13, "tc qdisc replace dev xvif7 root handle d: tbf rate 1625000bps burst 16384 "
	             "limit 97634"},
	        {14, "tc qdisc replace dev xvif7 root handle e: tbf rate 1750000bps burst 17500 "
	             "limit 105000"},
	        {1000, "tc qdisc replace dev xvif7 root handle 3e8: tbf rate 125000000bps burst "
	               "1250000 limit 7500000"},
	        {10000, "tc qdisc replace dev xvif7 root handle 2710: tbf rate 1250000000bps burst "
	                "12500000 limit 75000000"},
	        {100000,
	         "tc qdisc replace dev xvif7 root handle fffe: tbf rate 12500000000bps burst "
	         "125000000 limit 750000000"},
	};
	mkdev("xvif7");
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		cr_assert_eq(shape_apply(&ctx, "xvif7", cases[i].rate, err), 0, "%s", err);
		const char *vif = find_call("tc qdisc replace dev xvif7 root");
		cr_assert_str_eq(vif, cases[i].cmd);
		/* the policer: the same rate in bytes/s, a burst of 100 ms of it, at least 64 KiB
		 */
		char police[160];
		unsigned long long rb = (unsigned long long)cases[i].rate * 125000ull;
		snprintf(police, sizeof(police),
		         "rate over %llu bytes/second burst %llu bytes drop", rb,
		         rb / 4 > 65536 ? rb / 4 : 65536);
		cr_assert_not_null(strstr(find_call("nft "), police), "%s / %s", find_call("nft "),
		                   police);
		/* tbf's own rule: burst >= rate/HZ; HZ 100 is the worst case Linux allows. */
		unsigned long long burst = strtoull(strstr(vif, "burst ") + 6, NULL, 10);
		cr_assert_geq(burst, (unsigned long long)cases[i].rate * 125000ull / 100ull);
		clear_calls();
	}
}

/* A changed rate grafts a new tbf (a new handle) instead of changing the one in force, whose
 * queued GSO packets could exceed the new burst and wedge it; the same rate keeps its handle. */
Test(shaping, a_new_rate_gets_a_new_root_handle)
{
	static const int rates[] = {800, 20, 20, 1, 65533, 65534, 70000, 100000};
	static const char *const handles[] = {
	        "320:", "14:", "14:", "1:", "fffd:", "fffe:", "fffe:", "fffe:"};

	mkdev("xvif7");
	for (size_t i = 0; i < sizeof(rates) / sizeof(rates[0]); i++) {
		char want[64];

		cr_assert_eq(shape_apply(&ctx, "xvif7", rates[i], err), 0, "%s", err);
		snprintf(want, sizeof(want), "root handle %s tbf rate %llubps ", handles[i],
		         (unsigned long long)rates[i] * 125000ull);
		const char *vif = find_call("tc qdisc replace dev xvif7 root");
		cr_assert(strstr(vif, want), "vif: %s (want %s)", vif, want);
		for (size_t k = 0; k < f.ncalls; k++)
			if (strstr(f.calls[k], "dev xifb7 root"))
				cr_assert(strstr(f.calls[k], want), "ifb: %s (want %s)", f.calls[k],
				          want);
		cr_assert(!strstr(vif, "ffff:"), "the ingress qdisc's handle: %s", vif);
		clear_calls();
	}
}

Test(shaping, rate_zero_removes_everything)
{
	mkdev("xvif7");
	cr_assert_eq(shape_apply(&ctx, "xvif7", 50, err), 0, "%s", err);
	clear_calls();
	cr_assert_eq(shape_apply(&ctx, "xvif7", 0, err), 0, "%s", err);
	assert_calls((const char *[]){"tc qdisc del dev xvif7 root",
	                              "tc qdisc del dev xvif7 ingress", POLICE_OFF, NULL});
}

Test(shaping, remove_tolerates_already_absent_qdiscs)
{
	static const fake_rule rules[] = {
	        {"tc qdisc del dev xvif7 root", -ENOENT,
	         "No such file or directory: Cannot delete qdisc with handle of zero"},
	        {"tc qdisc del dev xvif7 ingress", -ENODEV, "No such device"},
	};
	use_rules(rules, 2);
	mkdev("xvif7");
	cr_assert_eq(shape_remove(&ctx, "xvif7", err), 0, "%s", err);
	assert_calls((const char *[]){"tc qdisc del dev xvif7 root",
	                              "tc qdisc del dev xvif7 ingress", POLICE_OFF, NULL});
}

Test(shaping, remove_of_nothing_starts_nothing)
{
	cr_assert_eq(shape_remove(&ctx, "xvif7", err), 0, "%s", err);
	assert_calls((const char *[]){POLICE_OFF, NULL});
	cr_assert_eq(f.nruns, 0);
	/* An older agent's ifb alone (vif gone with its domain): it is deleted. */
	mkdev("xifb7");
	cr_assert_eq(shape_remove(&ctx, "xvif7", err), 0, "%s", err);
	assert_calls((const char *[]){POLICE_OFF, "ip link del xifb7", NULL});
	cr_assert(!has_dev("xifb7"));
}

Test(shaping, remove_reports_a_real_failure)
{
	static const fake_rule rules[] = {
	        {"tc qdisc del dev xvif7 root", -EPERM, "Operation not permitted"},
	};
	use_rules(rules, 1);
	mkdev("xvif7");
	cr_assert_eq(shape_remove(&ctx, "xvif7", err), -EPERM);
	cr_assert(strstr(err, "tc qdisc del dev xvif7 root") != NULL, "%s", err);
	cr_assert(strstr(err, "Operation not permitted") != NULL, "%s", err);
	assert_calls((const char *[]){"tc qdisc del dev xvif7 root", NULL});
}

Test(shaping, apply_stops_at_the_first_failure)
{
	static const fake_rule rules[] = {
	        {"tc qdisc replace dev xvif7 root", -ENOENT,
	         "No such file or directory: Specified qdisc kind is unknown"},
	};
	use_rules(rules, 1);
	mkdev("xvif7");
	mkdev("xvif7-emu");
	cr_assert_eq(shape_apply(&ctx, "xvif7", 100, err), -ENOENT);
	cr_assert(strstr(err, "qdisc kind is unknown") != NULL, "%s", err);
	cr_assert(strstr(err, "tc qdisc replace dev xvif7 root") != NULL, "names the change: %s",
	          err);
	assert_calls((const char *[]){APPLY_100, NULL}); /* not the tap's */
}

/* A delete whose object is absent is fine; a replace that answers ENOENT (no tbf module) is
 * not. */
Test(shaping, an_absent_answer_to_a_replace_is_a_failure)
{
	static const fake_rule rules[] = {{"tc qdisc replace", -ENODEV, "No such device"}};
	use_rules(rules, 1);
	mkdev("xvif7");
	cr_assert_eq(shape_apply(&ctx, "xvif7", 100, err), -ENODEV);
	cr_assert(strstr(err, "No such device") != NULL, "%s", err);
}

Test(shaping, bad_names_and_rates_are_refused_without_running_anything)
{
	static const char *const bad[] = {"",     "xvif7; reboot", "XVIF7",        "xvif-7", "xvif",
	                                  "eth0", "vif7",          "abcdefghijkl", "xvif1 2"};
	mkdev("xvif7");
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		err[0] = '\0';
		cr_assert_eq(shape_apply(&ctx, bad[i], 100, err), -EINVAL, "'%s' accepted", bad[i]);
		cr_assert_neq(err[0], '\0');
		cr_assert_eq(shape_remove(&ctx, bad[i], err), -EINVAL, "'%s' accepted", bad[i]);
	}
	cr_assert_eq(shape_apply(&ctx, NULL, 100, err), -EINVAL);
	cr_assert_eq(shape_apply(&ctx, "xvif7", -1, err), -EINVAL);
	cr_assert_eq(shape_apply(&ctx, "xvif7", 100001, err), -EINVAL);
	assert_calls((const char *[]){NULL});
	cr_assert_eq(shape_apply(&ctx, "xvif7", 100000, err), 0, "%s", err);
	cr_assert_eq(f.ncalls, 2); /* the policer, then the tbf */
}

Test(shaping, disabled_context_runs_nothing)
{
	ctx.enabled = false;
	cr_assert_eq(shape_apply(&ctx, "xvif7", 100, err), 0, "%s", err);
	cr_assert_eq(shape_remove(&ctx, "xvif7", err), 0, "%s", err);
	mkdev("xifb7");
	char **ifbs = NULL;
	size_t n = 99;
	cr_assert_eq(shape_list_ifbs(&ctx, &ifbs, &n, err), 0);
	cr_assert_eq(n, 0);
	cr_assert_null(ifbs);
	assert_calls((const char *[]){NULL});
}

static double now_s(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

Test(shaping, vif_that_never_appears_is_enodev)
{
	ctx.vif_wait_ms = 150;
	double t0 = now_s();
	cr_assert_eq(shape_apply(&ctx, "xvif7", 100, err), -ENODEV);
	double dt = now_s() - t0;
	cr_assert_geq(dt, 0.14, "gave up after %.3f s", dt);
	cr_assert_lt(dt, 2.0, "waited %.3f s", dt);
	cr_assert(strstr(err, "xvif7") != NULL, "%s", err);
	assert_calls((const char *[]){NULL});
}

static void *create_vif_later(void *arg)
{
	(void)arg;
	struct timespec ts = {0, 80 * 1000000L};
	nanosleep(&ts, NULL);
	char p[256];
	dev_path("xvif7", p);
	mkdir(p, 0755);
	return NULL;
}

Test(shaping, apply_waits_for_a_late_vif)
{
	pthread_t th;
	ctx.vif_wait_ms = 3000;
	cr_assert_eq(pthread_create(&th, NULL, create_vif_later, NULL), 0);
	double t0 = now_s();
	int rc = shape_apply(&ctx, "xvif7", 100, err);
	double dt = now_s() - t0;
	pthread_join(th, NULL);
	cr_assert_eq(rc, 0, "%s", err);
	cr_assert_geq(dt, 0.07, "did not wait: %.3f s", dt);
	cr_assert_lt(dt, 1.0, "waited %.3f s", dt);
	assert_calls((const char *[]){APPLY_100, NULL});
}

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

Test(shaping, list_ifbs_returns_only_prefixed_devices)
{
	mkdev("xifb3");
	mkdev("xifb12");
	mkdev("xvif3");
	mkdev("eth0");
	mkdev("ifb0");
	mkdev("xifb");
	char **ifbs = NULL;
	size_t n = 0;
	cr_assert_eq(shape_list_ifbs(&ctx, &ifbs, &n, err), 0, "%s", err);
	cr_assert_eq(n, 2);
	qsort(ifbs, n, sizeof(*ifbs), cmp_str);
	cr_assert_str_eq(ifbs[0], "xifb12");
	cr_assert_str_eq(ifbs[1], "xifb3");
	for (size_t i = 0; i < n; i++)
		free(ifbs[i]);
	free(ifbs);
	assert_calls((const char *[]){NULL});
}

Test(shaping, list_ifbs_empty)
{
	char **ifbs = (char **)1;
	size_t n = 5;
	cr_assert_eq(shape_list_ifbs(&ctx, &ifbs, &n, err), 0, "%s", err);
	cr_assert_eq(n, 0);
	cr_assert_null(ifbs);
}

Test(shaping, an_hvm_guests_emu_tap_is_shaped_like_its_vif)
{
	mkdev("xvif7");
	mkdev("xvif7-emu");
	cr_assert_eq(shape_apply(&ctx, "xvif7", 100, err), 0, "%s", err);
	/* one policer for both NICs (the tap's hook jumps to the same chain) */
	assert_calls((const char *[]){
	        APPLY_100,
	        "tc qdisc replace dev xvif7-emu root handle 64: tbf rate 12500000bps burst 125000 "
	        "limit 750000",
	        NULL});
	cr_assert_eq(shape_remove(&ctx, "xvif7", err), 0, "%s", err);
	assert_calls((const char *[]){"tc qdisc del dev xvif7 root",
	                              "tc qdisc del dev xvif7 ingress",
	                              "tc qdisc del dev xvif7-emu root",
	                              "tc qdisc del dev xvif7-emu ingress", POLICE_OFF, NULL});
}

Test(shaping, a_failure_on_the_emu_tap_is_reported)
{
	static const fake_rule rules[] = {
	        {"tc qdisc replace dev xvif7-emu root", -ENODEV, "No such device"},
	};
	use_rules(rules, 1);
	mkdev("xvif7");
	mkdev("xvif7-emu");
	cr_assert_eq(shape_apply(&ctx, "xvif7", 100, err), -ENODEV);
	cr_assert_not_null(strstr(err, "xvif7-emu"), "%s", err);
}
