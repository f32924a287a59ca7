/* test_shaping.c — shaping (provisioning/shaping.c) against a FAKE runner and a FAKE nftables
 * seam: the exact argv sequence of shape_apply / shape_remove (tc for the traffic to the guest,
 * the policer transaction in the domain's table for the traffic from it, recorded as one
 * "nft A; B; C" call), idempotence, rate 0, refusal of bad names, waiting for the vif, the ifb
 * layout of an older agent removed. A temp dir stands in for /sys/class/net: <tmp>/net/<dev>
 * present = the device exists; the fake runner creates/removes <tmp>/net/<ifb> for `ip link
 * add/del` like the kernel would (and its flags file, IFF_UP, for `up`). `tc -batch -` is recorded
 * as one call per line of its stdin ("tc <line>"), stopping at the first line a rule fails, as tc
 * does. No process is started. */
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

/* A scripted answer for every command whose rendered argv starts with prefix. */
typedef struct fake_rule {
	const char *prefix;
	int rc;          /* runner's return: 0 or a -errno (not started) */
	int exit_status; /* when rc == 0 */
	const char *err; /* stderr */
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

static void set_flags(const char *dev, const char *flags)
{
	char p[300];
	FILE *fp;

	snprintf(p, sizeof(p), "%s/%s/flags", netdir, dev);
	fp = fopen(p, "w");
	cr_assert_not_null(fp, "%s", p);
	fprintf(fp, "%s\n", flags);
	fclose(fp);
}

/* `tc -batch -`: each stdin line as a call; the first one a rule fails ends the batch. */
static int fake_batch(fake *fk, const char *in, size_t len, runner_result *res)
{
	char line[512];
	size_t n = 0;

	for (const char *l = in; l < in + len && *l;) {
		const char *nl = memchr(l, '\n', (size_t)(in + len - l));
		size_t k = nl ? (size_t)(nl - l) : strlen(l);
		const fake_rule *r;

		snprintf(line, sizeof(line), "tc %.*s", (int)k, l);
		record(fk, line);
		n++;
		if ((r = rule_for(fk, line)) != NULL) {
			if (r->rc)
				return r->rc;
			free(res->err);
			snprintf(line, sizeof(line), "%sCommand failed -:%zu\n",
			         r->err ? r->err : "", n);
			res->err = strdup(line);
			res->err_len = strlen(res->err);
			res->exit_status = r->exit_status ? 1 : 0;
			return 0;
		}
		l = nl ? nl + 1 : l + k;
	}
	return 0;
}

static int fake_run(void *c, const char *const argv[], const char *stdin_data, size_t stdin_len,
                    int timeout_ms, runner_result *res)
{
	fake *fk = c;
	char *line = runner_argv_str(argv);
	const fake_rule *r;
	cr_assert_not_null(line);
	fk->nruns++;
	runner_result_init(res);
	res->exit_status = 0;
	res->out = strdup("");
	res->err = strdup("");
	if (strcmp(line, "tc -batch -") == 0) {
		free(line);
		cr_assert_not_null(stdin_data);
		return fake_batch(fk, stdin_data, stdin_len, res);
	}
	record(fk, line);
	if ((r = rule_for(fk, line)) != NULL) {
		free(line);
		free(res->err);
		res->err = strdup(r->err ? r->err : "");
		res->err_len = strlen(res->err);
		res->exit_status = r->rc ? -1 : r->exit_status;
		return r->rc;
	}
	/* Success, with the kernel's side effect on the fake sysfs tree. */
	if (argv[0] && argv[1] && argv[2] && argv[3] && strcmp(argv[0], "ip") == 0 &&
	    strcmp(argv[1], "link") == 0) {
		char p[256];
		dev_path(argv[3], p);
		if (strcmp(argv[2], "add") == 0) {
			cr_assert_eq(mkdir(p, 0755), 0, "ip link add of an existing device %s",
			             argv[3]);
			if (argv[4] && strcmp(argv[4], "up") == 0)
				set_flags(argv[3], "0x83");
		} else if (strcmp(argv[2], "del") == 0) {
			char fl[300];
			snprintf(fl, sizeof(fl), "%s/flags", p);
			unlink(fl);
			cr_assert_eq(rmdir(p), 0, "ip link del of a missing device %s", argv[3]);
		} else if (strcmp(argv[2], "set") == 0 && argv[4] && strcmp(argv[4], "up") == 0) {
			set_flags(argv[3], "0x83");
		}
	}
	free(line);
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
	POLICE_100, "tc qdisc replace dev xvif7 root handle 64: tbf rate 100mbit burst 125000 "    \
	            "latency 50ms"

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

/* Issue 17 item 6: every process start costs a second under emulation. A shaping starts one
 * (tc, for the qdiscs); the policer is a netlink transaction in the agent's process. */
Test(shaping, apply_starts_one_process)
{
	mkdev("xvif7");
	cr_assert_eq(shape_apply(&ctx, "xvif7", 100, err), 0, "%s", err);
	cr_assert_eq(f.nruns, 1);
	cr_assert_eq(f.ncalls, 2);
	clear_calls();
	f.nruns = 0;
	cr_assert_eq(shape_apply(&ctx, "xvif7", 20, err), 0, "%s", err);
	cr_assert_eq(f.nruns, 1);
	cr_assert_eq(f.ncalls, 2);
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
	cr_assert(!has_dev("xifb7"));
}

Test(shaping, burst_is_10ms_of_rate_with_16k_floor)
{
	struct {
		int rate;
		const char *cmd;
	} cases[] = {
	        {1, "tc qdisc replace dev xvif7 root handle 1: tbf rate 1mbit burst 16384 latency "
	            "50ms"},
	        {13, "tc qdisc replace dev xvif7 root handle d: tbf rate 13mbit burst 16384 "
	             "latency 50ms"},
	        {14, "tc qdisc replace dev xvif7 root handle e: tbf rate 14mbit burst 17500 "
	             "latency 50ms"},
	        {1000, "tc qdisc replace dev xvif7 root handle 3e8: tbf rate 1000mbit burst "
	               "1250000 latency 50ms"},
	        {10000, "tc qdisc replace dev xvif7 root handle 2710: tbf rate 10000mbit burst "
	                "12500000 latency 50ms"},
	        {100000,
	         "tc qdisc replace dev xvif7 root handle fffe: tbf rate 100000mbit burst 125000000 "
	         "latency 50ms"},
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
		snprintf(want, sizeof(want), "root handle %s tbf rate %dmbit ", handles[i],
		         rates[i]);
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
	        {"tc qdisc del dev xvif7 root", 0, 2,
	         "Error: Cannot delete qdisc with handle of zero.\n"},
	        {"tc qdisc del dev xvif7 ingress", 0, 2, "Error: Invalid handle.\n"},
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
	        {"tc qdisc del dev xvif7 root", 0, 2, "Error: Operation not permitted.\n"},
	};
	use_rules(rules, 1);
	mkdev("xvif7");
	cr_assert_eq(shape_remove(&ctx, "xvif7", err), -EIO);
	cr_assert(strstr(err, "tc qdisc del dev xvif7 root") != NULL, "%s", err);
	cr_assert(strstr(err, "Operation not permitted") != NULL, "%s", err);
	assert_calls((const char *[]){"tc qdisc del dev xvif7 root", NULL});
}

Test(shaping, apply_stops_at_the_first_failure)
{
	static const fake_rule rules[] = {
	        {"tc qdisc replace dev xvif7 root", 0, 2,
	         "Error: Specified qdisc kind is unknown.\n"},
	};
	use_rules(rules, 1);
	mkdev("xvif7");
	cr_assert_eq(shape_apply(&ctx, "xvif7", 100, err), -EIO);
	cr_assert(strstr(err, "qdisc kind is unknown") != NULL, "%s", err);
	cr_assert(strstr(err, "tc qdisc replace dev xvif7 root") != NULL, "names the line: %s",
	          err);
	assert_calls((const char *[]){POLICE_100,
	                              "tc qdisc replace dev xvif7 root handle 64: tbf rate 100mbit "
	                              "burst 125000 latency 50ms",
	                              NULL});
}

Test(shaping, missing_tc_program_is_reported)
{
	static const fake_rule rules[] = {{"tc ", -ENOENT, 0, NULL}};
	use_rules(rules, 1);
	mkdev("xvif7");
	cr_assert_eq(shape_apply(&ctx, "xvif7", 100, err), -ENOENT);
	cr_assert(strstr(err, "Cannot run") != NULL, "%s", err);
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
	cr_assert_eq(f.ncalls, 2); /* the policer, then the batch's one line */
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
	        "tc qdisc replace dev xvif7-emu root handle 64: tbf rate 100mbit burst 125000 "
	        "latency 50ms",
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
	        {"tc qdisc replace dev xvif7-emu root", 0, 2, "Error: Cannot find device.\n"},
	};
	use_rules(rules, 1);
	mkdev("xvif7");
	mkdev("xvif7-emu");
	cr_assert_eq(shape_apply(&ctx, "xvif7", 100, err), -EIO);
	cr_assert_not_null(strstr(err, "xvif7-emu"), "%s", err);
}
