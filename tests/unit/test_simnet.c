/* test_simnet.c — sim networking (hypervisor/simnet.c): the vif-line parser and its
 * validation, and the exact `ip` commands run for create / stop / reboot / leftovers / failures,
 * against a FAKE runner that records every argv and mimics the kernel in two temp dirs (a fake
 * /sys/class/net and /run/netns). Nothing touches the host network. */
#include <criterion/criterion.h>
#include <errno.h>
#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "../../common/runner.h"
#include "../../hypervisor/driver.h"
#include "../../hypervisor/simnet.h"

#define MAXCALLS 64

typedef struct fake {
	char *calls[MAXCALLS];
	size_t ncalls;
	const char *fail_match; /* the first command containing this fails (exit 2) */
	bool failed;
} fake;

static char tmp[64], sysfs[128], nsdir[128], state[128], cfg[160];
static fake fk;
static simnet_ctx sn;
static char err[HV_ERRLEN];

static void touch_dir(const char *dir, const char *name)
{
	char p[512];
	snprintf(p, sizeof(p), "%s/%s", dir, name);
	mkdir(p, 0700);
}

static void rm_dir(const char *dir, const char *name)
{
	char p[512];
	snprintf(p, sizeof(p), "%s/%s", dir, name);
	rmdir(p);
}

static bool exists(const char *dir, const char *name)
{
	char p[512];
	struct stat st;
	snprintf(p, sizeof(p), "%s/%s", dir, name);
	return stat(p, &st) == 0;
}

/* Records argv and mimics what `ip` would change: veth host ends in the fake sysfs,
 * namespaces in the fake netns dir. */
static int fake_run(void *ctx, const char *const argv[], const char *in, size_t inlen,
                    int timeout_ms, runner_result *res)
{
	fake *f = ctx;
	char *line = runner_argv_str(argv);
	size_t n = 0;

	(void)in, (void)inlen, (void)timeout_ms;
	runner_result_init(res);
	res->out = strdup("");
	res->err = strdup("");
	res->exit_status = 0;
	while (argv[n])
		n++;
	if (f->fail_match && !f->failed && strstr(line, f->fail_match)) {
		f->failed = true;
		free(res->err);
		res->err = strdup("RTNETLINK answers: Operation not permitted\n");
		res->exit_status = 2;
	} else if (n >= 4 && strcmp(argv[1], "netns") == 0 && strcmp(argv[2], "add") == 0) {
		touch_dir(nsdir, argv[3]);
	} else if (n >= 4 && strcmp(argv[1], "netns") == 0 && strcmp(argv[2], "del") == 0) {
		rm_dir(nsdir, argv[3]);
	} else if (n >= 4 && strcmp(argv[1], "link") == 0 && strcmp(argv[2], "add") == 0) {
		touch_dir(sysfs, argv[3]);
	} else if (n >= 5 && strcmp(argv[1], "link") == 0 && strcmp(argv[2], "del") == 0) {
		rm_dir(sysfs, argv[4]);
	}
	if (f->ncalls < MAXCALLS)
		f->calls[f->ncalls++] = line;
	else
		free(line);
	return 0;
}

static void reset_calls(void)
{
	for (size_t i = 0; i < fk.ncalls; i++)
		free(fk.calls[i]);
	memset(&fk, 0, sizeof(fk));
}

static int rm_one(const char *path, const struct stat *sb, int flag, struct FTW *ftw)
{
	(void)sb, (void)flag, (void)ftw;
	return remove(path);
}

static void write_cfg(const char *vif_line)
{
	FILE *f = fopen(cfg, "w");
	cr_assert_not_null(f);
	fprintf(f, "name = \"xvps-1\"\nmemory = 256\nvcpus = 1\n");
	if (vif_line)
		fprintf(f, "vif = [ '%s' ]\n", vif_line);
	fclose(f);
}

static void setup(void)
{
	snprintf(tmp, sizeof(tmp), "/tmp/xvps-simnet-XXXXXX");
	cr_assert_not_null(mkdtemp(tmp));
	snprintf(sysfs, sizeof(sysfs), "%s/sys", tmp);
	snprintf(nsdir, sizeof(nsdir), "%s/netns", tmp);
	snprintf(state, sizeof(state), "%s/state", tmp);
	snprintf(cfg, sizeof(cfg), "%s/xvps-1.cfg", tmp);
	cr_assert_eq(mkdir(sysfs, 0700), 0);
	cr_assert_eq(mkdir(nsdir, 0700), 0);
	cr_assert_eq(mkdir(state, 0700), 0);
	touch_dir(state, "sim");
	touch_dir(sysfs, "xvpsbr0");
	touch_dir(sysfs, "xvpsbr0/bridge");
	memset(&fk, 0, sizeof(fk));
	simnet_init(&sn);
	cr_assert_eq(simnet_configure(&sn, true, "t-", (runner){.run = fake_run, .ctx = &fk}), 0);
	snprintf(sn.sysfs_net, sizeof(sn.sysfs_net), "%s", sysfs);
	snprintf(sn.netns_dir, sizeof(sn.netns_dir), "%s", nsdir);
	err[0] = '\0';
}

static void teardown(void)
{
	reset_calls();
	if (tmp[0])
		nftw(tmp, rm_one, 16, FTW_DEPTH | FTW_PHYS);
	tmp[0] = '\0';
}

TestSuite(simnet, .init = setup, .fini = teardown);

static void assert_calls(const char *const want[])
{
	size_t n = 0;

	while (want[n])
		n++;
	for (size_t i = 0; i < n && i < fk.ncalls; i++)
		cr_assert_str_eq(fk.calls[i], want[i], "command %zu", i);
	cr_assert_eq(fk.ncalls, n, "ran %zu commands, expected %zu (last: %s)", fk.ncalls, n,
	             fk.ncalls ? fk.calls[fk.ncalls - 1] : "none");
}

#define GOOD "mac=00:16:3e:00:00:01, bridge=xvpsbr0, vifname=xvif1, ip=192.0.2.10 2001:db8::10"

static const char *const UP[] = {
        "ip netns add t-xvps-1",
        "ip -n t-xvps-1 link set lo up",
        "ip link add xvif1 address fe:ff:ff:ff:ff:ff type veth peer name eth0 address "
        "00:16:3e:00:00:01 netns t-xvps-1",
        "ip -n t-xvps-1 link set eth0 up",
        "ip -n t-xvps-1 addr add 192.0.2.10/32 dev eth0",
        "ip -n t-xvps-1 addr add 2001:db8::10/128 dev eth0 nodad",
        "ip -n t-xvps-1 route add default dev eth0",
        "ip -6 -n t-xvps-1 route add default dev eth0",
        "ip link set dev xvif1 master xvpsbr0 up",
        NULL,
};

Test(simnet, parses_a_vif_line)
{
	simnet_vif v;
	char out[512];

	cr_assert_eq(simnet_parse_vif("mac=00:16:3e:0a:0b:0c,bridge=xvpsbr0 , vifname=xvif42, "
	                              "ip=192.0.2.7  2001:DB8:0:0::7 198.51.100.1, rate=10Mb/s",
	                              &v, err),
	             0, "%s", err);
	cr_assert_str_eq(v.mac, "00:16:3e:0a:0b:0c");
	cr_assert_str_eq(v.bridge, "xvpsbr0");
	cr_assert_str_eq(v.vifname, "xvif42");
	cr_assert_eq(v.n_ip4, 2);
	cr_assert_str_eq(v.ip4[1], "198.51.100.1");
	cr_assert_eq(v.n_ip6, 1);
	cr_assert_str_eq(v.ip6[0], "2001:db8::7"); /* canonical */
	cr_assert_str_eq(v.rate, "10Mb/s");
	cr_assert(simnet_render_vif(&v, out, sizeof(out)));
	cr_assert_str_eq(out, "mac=00:16:3e:0a:0b:0c, bridge=xvpsbr0, vifname=xvif42, "
	                      "ip=192.0.2.7 198.51.100.1 2001:db8::7, rate=10Mb/s");
	/* without ip= and rate= */
	cr_assert_eq(
	        simnet_parse_vif("mac=00:16:3e:00:00:01, bridge=xvpsbr0, vifname=xvif1", &v, err),
	        0, "%s", err);
	cr_assert_eq(v.n_ip4 + v.n_ip6, 0);
}

Test(simnet, refuses_junk)
{
	static const char *const bad[] = {
	        "mac=zz:16:3e:00:00:01, bridge=xvpsbr0, vifname=xvif1",
	        "mac=00:16:3E:00:00:01, bridge=xvpsbr0, vifname=xvif1",
	        "mac=02:00:00:00:00:01, bridge=xvpsbr0, vifname=xvif1",
	        "mac=00:16:3e:00:00:01 , bridge=xvpsbr0, vifname=xvif1, mac=00:16:3e:00:00:02",
	        "mac=00:16:3e:00:00:01, bridge=xvpsbr0, vifname=xv,if1",
	        "mac=00:16:3e:00:00:01, bridge=xvpsbr0, vifname=xv if1",
	        "mac=00:16:3e:00:00:01, bridge=xvpsbr0, vifname=xv'if1",
	        "mac=00:16:3e:00:00:01, bridge=xvpsbr0, vifname=xv\"if1",
	        "mac=00:16:3e:00:00:01, bridge=xvpsbr0, vifname=xvif1\nscript=x",
	        "mac=00:16:3e:00:00:01, bridge=xvpsbr0, vifname=xvif123456789",
	        "mac=00:16:3e:00:00:01, bridge=xvpsbr0, vifname=-xvif1",
	        "mac=00:16:3e:00:00:01, bridge=xvpsbr0, vifname=",
	        "mac=00:16:3e:00:00:01, bridge=xvpsbr0, vifname=xvif1, ip=192.0.2.300",
	        "mac=00:16:3e:00:00:01, bridge=xvpsbr0, vifname=xvif1, ip=192.0.2.1/24",
	        "mac=00:16:3e:00:00:01, bridge=xvpsbr0, vifname=xvif1, ip=192.0.2.01",
	        "mac=00:16:3e:00:00:01, bridge=xvpsbr0, vifname=xvif1, ip=2001:db8::zz",
	        "mac=00:16:3e:00:00:01, bridge=xvpsbr0, vifname=xvif1, ip=192.0.2.1 -x",
	        "mac=00:16:3e:00:00:01, bridge=xvpsbr0, vifname=xvif1, ip=",
	        "mac=00:16:3e:00:00:01, bridge=xvpsbr0, vifname=xvif1, ip=192.0.2.1, ip=192.0.2.2",
	        "mac=00:16:3e:00:00:01, bridge=-br, vifname=xvif1",
	        "mac=00:16:3e:00:00:01, bridge=br;x, vifname=xvif1",
	        "mac=00:16:3e:00:00:01, bridge=xvpsbr0123456789, vifname=xvif1",
	        "mac=00:16:3e:00:00:01, bridge=xvpsbr0, vifname=xvif1, rate=10Mb/s;x",
	        "mac=00:16:3e:00:00:01, bridge=xvpsbr0, vifname=xvif1, rate=fast",
	        "mac=00:16:3e:00:00:01, bridge=xvpsbr0, vifname=xvif1, "
	        "script=/etc/xen/scripts/evil",
	        "mac=00:16:3e:00:00:01, vifname=xvif1",
	        "bridge=xvpsbr0, vifname=xvif1",
	        "mac=00:16:3e:00:00:01, bridge=xvpsbr0",
	        "mac=00:16:3e:00:00:01, bridge=xvpsbr0, vifname=xvif1, junk",
	        "",
	};
	simnet_vif v;

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		err[0] = '\0';
		cr_assert_eq(simnet_parse_vif(bad[i], &v, err), -EINVAL, "accepted: %s", bad[i]);
		cr_assert_neq(err[0], '\0', "no reason for: %s", bad[i]);
	}
	cr_assert_eq(simnet_parse_vif(NULL, &v, err), -EINVAL);
}

Test(simnet, bad_config_runs_nothing)
{
	static const char *const bad[] = {
	        "mac=junk, bridge=xvpsbr0, vifname=xvif1",
	        "mac=00:16:3e:00:00:01, bridge=xvpsbr0, vifname=xv if1",
	        "mac=00:16:3e:00:00:01, bridge=xvpsbr0, vifname=xvif1, ip=192.0.2.999",
	};
	char rec[256];

	snprintf(rec, sizeof(rec), "%s/sim/xvps-1.net", state);
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		write_cfg(bad[i]);
		cr_assert_eq(simnet_create(&sn, state, "xvps-1", cfg, err), -EINVAL, "%s", bad[i]);
		cr_assert_eq(fk.ncalls, 0, "ran %s", fk.ncalls ? fk.calls[0] : "");
		cr_assert_neq(access(rec, F_OK), 0, "recorded a refused vif");
	}
	/* two vifs with one vifname */
	FILE *f = fopen(cfg, "w");
	cr_assert_not_null(f);
	fprintf(f, "name = \"xvps-1\"\nmemory = 256\nvif = [ '%s', '%s' ]\n", GOOD, GOOD);
	fclose(f);
	cr_assert_eq(simnet_create(&sn, state, "xvps-1", cfg, err), -EINVAL);
	cr_assert_eq(fk.ncalls, 0);
}

Test(simnet, create_stop_reboot)
{
	static const char *const down[] = {"ip link del dev xvif1", "ip netns del t-xvps-1", NULL};

	write_cfg(GOOD);
	cr_assert_eq(simnet_create(&sn, state, "xvps-1", cfg, err), 0, "%s", err);
	assert_calls(UP);
	cr_assert(exists(sysfs, "xvif1") && exists(nsdir, "t-xvps-1"));

	/* reboot: the old run's pair goes, a new one comes, from the record (no config) */
	unlink(cfg);
	reset_calls();
	cr_assert_eq(simnet_start(&sn, state, "xvps-1", err), 0, "%s", err);
	cr_assert_eq(fk.ncalls, 2 + 9);
	cr_assert_str_eq(fk.calls[0], down[0]);
	cr_assert_str_eq(fk.calls[1], down[1]);
	for (size_t i = 0; UP[i]; i++)
		cr_assert_str_eq(fk.calls[2 + i], UP[i]);

	reset_calls();
	cr_assert_eq(simnet_stop(&sn, state, "xvps-1", err), 0, "%s", err);
	assert_calls(down);
	cr_assert(!exists(sysfs, "xvif1") && !exists(nsdir, "t-xvps-1"));

	/* stopping again: nothing is there, nothing runs */
	reset_calls();
	cr_assert_eq(simnet_stop(&sn, state, "xvps-1", err), 0, "%s", err);
	cr_assert_eq(fk.ncalls, 0);
	cr_assert_eq(simnet_forget(&sn, state, "xvps-1", err), 0, "%s", err);
	cr_assert_eq(fk.ncalls, 0);
	cr_assert(!exists(state, "sim/xvps-1.net"));
}

Test(simnet, leftovers_of_a_killed_agent_are_replaced)
{
	/* A vif and a namespace exist, but no record (killed between the two). */
	touch_dir(sysfs, "xvif1");
	touch_dir(nsdir, "t-xvps-1");
	write_cfg(GOOD);
	cr_assert_eq(simnet_create(&sn, state, "xvps-1", cfg, err), 0, "%s", err);
	cr_assert_eq(fk.ncalls, 2 + 9);
	cr_assert_str_eq(fk.calls[0], "ip link del dev xvif1");
	cr_assert_str_eq(fk.calls[1], "ip netns del t-xvps-1");
	cr_assert_str_eq(fk.calls[2], UP[0]);
}

Test(simnet, failure_leaves_nothing)
{
	write_cfg(GOOD);
	fk.fail_match = "addr add 2001:db8::10/128";
	cr_assert_eq(simnet_create(&sn, state, "xvps-1", cfg, err), -EIO);
	cr_assert(strstr(err, "Operation not permitted"), "%s", err);
	cr_assert_str_eq(fk.calls[fk.ncalls - 2], "ip link del dev xvif1");
	cr_assert_str_eq(fk.calls[fk.ncalls - 1], "ip netns del t-xvps-1");
	cr_assert(!exists(sysfs, "xvif1") && !exists(nsdir, "t-xvps-1"));
}

Test(simnet, missing_bridge_is_refused)
{
	write_cfg("mac=00:16:3e:00:00:01, bridge=nosuchbr, vifname=xvif1");
	cr_assert_eq(simnet_create(&sn, state, "xvps-1", cfg, err), -ENODEV);
	cr_assert(strstr(err, "nosuchbr"), "%s", err);
	cr_assert_eq(fk.ncalls, 0);
}

Test(simnet, no_vif_no_namespace)
{
	write_cfg(NULL);
	cr_assert_eq(simnet_create(&sn, state, "xvps-1", cfg, err), 0, "%s", err);
	cr_assert_eq(fk.ncalls, 0);
}

Test(simnet, disabled_touches_nothing)
{
	cr_assert_eq(simnet_configure(&sn, false, "t-", (runner){.run = fake_run, .ctx = &fk}), 0);
	write_cfg("mac=junk");
	touch_dir(sysfs, "xvif1");
	touch_dir(nsdir, "t-xvps-1");
	cr_assert_eq(simnet_create(&sn, state, "xvps-1", cfg, err), 0);
	cr_assert_eq(simnet_start(&sn, state, "xvps-1", err), 0);
	cr_assert_eq(simnet_stop(&sn, state, "xvps-1", err), 0);
	cr_assert_eq(fk.ncalls, 0);
}

Test(simnet, names)
{
	char ns[64];

	cr_assert(simnet_valid_prefix(""));
	cr_assert(simnet_valid_prefix("xvt123-"));
	cr_assert(!simnet_valid_prefix("Xvt"));
	cr_assert(!simnet_valid_prefix("a_b"));
	cr_assert(!simnet_valid_prefix("a/b"));
	cr_assert(!simnet_valid_prefix("abcdefghijklmnopq")); /* 17 */
	cr_assert_eq(simnet_configure(&sn, true, "a b", sn.run), -EINVAL);
	cr_assert(simnet_nsname(&sn, "xvps-1", ns, sizeof(ns)));
	cr_assert_str_eq(ns, "t-xvps-1");
	cr_assert_eq(simnet_configure(&sn, true, "", sn.run), 0);
	cr_assert(!simnet_nsname(&sn, "-x", ns, sizeof(ns)), "an option as a namespace name");
	cr_assert(!simnet_nsname(&sn, "..", ns, sizeof(ns)));
	cr_assert(simnet_valid_bridge("xvpsbr0") && simnet_valid_bridge("br-1.2"));
	cr_assert(!simnet_valid_bridge("-br") && !simnet_valid_bridge("") &&
	          !simnet_valid_bridge("Br0"));
}

/* The sim driver's hook: with networking on, a config whose vif is junk fails the create
 * before any guest starts or any command runs. */
Test(simnet, sim_create_refuses_a_junk_vif)
{
	hv_driver hv;
	hv_domain_info info;

	cr_assert_eq(hv_sim_open(&hv, state, err), 0, "%s", err);
	hv.run = (runner){.run = fake_run, .ctx = &fk};
	cr_assert_eq(hv_sim_set_net(&hv, true, "Bad Prefix"), -EINVAL);
	cr_assert_eq(hv_sim_set_net(&hv, true, "hbut-"), 0);
	write_cfg("mac=00:16:3e:00:00:01, bridge=xvpsbr0, vifname=xvif1, ip=1.2.3");
	cr_assert_eq(hv.ops->create(&hv, "xvps-1", cfg, err), -EINVAL);
	cr_assert(strstr(err, "ip="), "%s", err);
	cr_assert_eq(fk.ncalls, 0);
	cr_assert_eq(hv.ops->info(&hv, "xvps-1", &info, err), 0);
	cr_assert_eq(info.state, HV_ABSENT);
	hv.ops->dispose(&hv);
}
