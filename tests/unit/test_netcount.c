/* test_netcount.c — per-vif traffic counters (provisioning/netcount.c) over a fake sysfs tree
 * in a temp dir (<tmp>/net/<vif>/ifindex and <tmp>/net/<vif>/statistics/<counter>): growth, vif
 * re-creation (new ifindex), counters going down, stopped domains, persistence across
 * net_ctx_dispose/net_ctx_init, corrupt state, forget, the JSON shape, concurrency, speed; and,
 * as root, the rtnetlink path used with the real /sys/class/net, in a network namespace the
 * test creates (hs-nct<pid>) and deletes. */
#include <criterion/criterion.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <inttypes.h>
#include <pthread.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "../../common/util.h"
#include "../../provisioning/net.h"

static char tmp[64], netdir[128], statedir[128], cfile[192];
static net_ctx ctx;
static char err[NET_ERRLEN];

static int no_run(void *c, const char *const argv[], const char *stdin_data, size_t stdin_len,
                  int timeout_ms, runner_result *res)
{
	cr_assert_fail("netcount must not run commands (ran %s)", argv[0]);
	return -EPERM;
}

/* Writes a sysfs-like value (plain write: fsync per file would make 1000 vifs slow). */
static void put_str(const char *path, const char *s)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	cr_assert_geq(fd, 0, "%s", path);
	cr_assert_eq(write(fd, s, strlen(s)), (ssize_t)strlen(s));
	close(fd);
}

static void put(const char *path, uint64_t v)
{
	char buf[64];
	snprintf(buf, sizeof(buf), "%" PRIu64 "\n", v);
	put_str(path, buf);
}

/* Creates or updates a fake vif: vif rx_bytes, tx_bytes, rx_packets, tx_packets. */
static void set_vif(const char *vif, int ifindex, uint64_t rxb, uint64_t txb, uint64_t rxp,
                    uint64_t txp)
{
	char p[256];
	snprintf(p, sizeof(p), "%s/%s/statistics", netdir, vif);
	cr_assert_eq(mkdir_p(p, 0755), 0);
	snprintf(p, sizeof(p), "%s/%s/ifindex", netdir, vif);
	put(p, (uint64_t)ifindex);
	const char *files[4] = {"rx_bytes", "tx_bytes", "rx_packets", "tx_packets"};
	uint64_t vals[4] = {rxb, txb, rxp, txp};
	for (int k = 0; k < 4; k++) {
		snprintf(p, sizeof(p), "%s/%s/statistics/%s", netdir, vif, files[k]);
		put(p, vals[k]);
	}
}

static int rm_one(const char *path, const struct stat *sb, int flag, struct FTW *ftw)
{
	(void)sb;
	(void)flag;
	(void)ftw;
	return remove(path);
}

static void del_vif(const char *vif)
{
	char p[256];
	snprintf(p, sizeof(p), "%s/%s", netdir, vif);
	cr_assert_eq(nftw(p, rm_one, 16, FTW_DEPTH | FTW_PHYS), 0);
}

static void init_ctx(void)
{
	cr_assert_eq(net_ctx_init(&ctx, (runner){.run = no_run}, true, netdir, statedir, err), 0,
	             "%s", err);
}

static void setup(void)
{
	snprintf(tmp, sizeof(tmp), "/tmp/xvps-netc-XXXXXX");
	cr_assert_not_null(mkdtemp(tmp));
	snprintf(netdir, sizeof(netdir), "%s/net", tmp);
	snprintf(statedir, sizeof(statedir), "%s/state/net", tmp);
	snprintf(cfile, sizeof(cfile), "%s/counters.json", statedir);
	cr_assert_eq(mkdir(netdir, 0755), 0);
	init_ctx();
}

static void teardown(void)
{
	net_ctx_dispose(&ctx);
	nftw(tmp, rm_one, 16, FTW_DEPTH | FTW_PHYS);
}

TestSuite(netcount, .init = setup, .fini = teardown);

/* The guest's totals of one domain after a sweep of names. */
typedef struct totals {
	bool present;
	int64_t rx_bytes, tx_bytes, rx_packets, tx_packets;
} totals;

static int64_t get_int(json_object *o, const char *key)
{
	json_object *v;
	cr_assert(json_object_object_get_ex(o, key, &v), "no %s", key);
	cr_assert(json_object_is_type(v, json_type_int), "%s is not an integer", key);
	return json_object_get_int64(v);
}

static totals sweep_one(const char *name)
{
	const char *names[] = {name};
	json_object *out = NULL, *doms, *d, *v;
	totals t;
	cr_assert_eq(netcount_sweep(&ctx, names, 1, &out, err), 0, "%s", err);
	cr_assert(json_object_object_get_ex(out, "domains", &doms));
	cr_assert(json_object_object_get_ex(doms, name, &d), "no %s in result", name);
	cr_assert(json_object_object_get_ex(d, "present", &v));
	t.present = json_object_get_boolean(v);
	t.rx_bytes = get_int(d, "rx_bytes");
	t.tx_bytes = get_int(d, "tx_bytes");
	t.rx_packets = get_int(d, "rx_packets");
	t.tx_packets = get_int(d, "tx_packets");
	json_object_put(out);
	return t;
}

#define ASSERT_TOTALS(t, p, rxb, txb, rxp, txp)                                                    \
	do {                                                                                       \
		cr_assert_eq((t).present, (p), "present");                                         \
		cr_assert_eq((t).rx_bytes, (rxb), "rx_bytes %" PRId64, (t).rx_bytes);              \
		cr_assert_eq((t).tx_bytes, (txb), "tx_bytes %" PRId64, (t).tx_bytes);              \
		cr_assert_eq((t).rx_packets, (rxp), "rx_packets %" PRId64, (t).rx_packets);        \
		cr_assert_eq((t).tx_packets, (txp), "tx_packets %" PRId64, (t).tx_packets);        \
	} while (0)

Test(netcount, growth_is_counted_from_the_guests_point_of_view)
{
	/* vif rx = what the guest sent (guest tx); vif tx = what the guest received. */
	set_vif("xvif1", 5, 100, 2000, 3, 40);
	totals t = sweep_one("xvps-1");
	ASSERT_TOTALS(t, true, 2000, 100, 40, 3);
	set_vif("xvif1", 5, 150, 2600, 5, 47);
	t = sweep_one("xvps-1");
	ASSERT_TOTALS(t, true, 2600, 150, 47, 5);
	t = sweep_one("xvps-1"); /* nothing moved */
	ASSERT_TOTALS(t, true, 2600, 150, 47, 5);
}

Test(netcount, reboot_with_new_ifindex_counts_both_lives_once)
{
	set_vif("xvif1", 5, 1000, 2000, 10, 20);
	sweep_one("xvps-1");
	del_vif("xvif1"); /* domain rebooting: vif gone */
	totals t = sweep_one("xvps-1");
	ASSERT_TOTALS(t, false, 2000, 1000, 20, 10);
	set_vif("xvif1", 9, 30, 40, 1, 2); /* new vif, counters from zero */
	t = sweep_one("xvps-1");
	ASSERT_TOTALS(t, true, 2040, 1030, 22, 11);
	set_vif("xvif1", 9, 50, 70, 2, 3);
	t = sweep_one("xvps-1");
	ASSERT_TOTALS(t, true, 2070, 1050, 23, 12);
}

Test(netcount, new_ifindex_with_higher_raw_values_is_added_whole)
{
	/* Re-created between two sweeps and already past the old values: still a new life. */
	set_vif("xvif1", 5, 10, 20, 1, 2);
	sweep_one("xvps-1");
	set_vif("xvif1", 6, 500, 700, 5, 7);
	totals t = sweep_one("xvps-1");
	ASSERT_TOTALS(t, true, 720, 510, 9, 6);
}

Test(netcount, counter_going_down_with_same_ifindex_is_a_reset)
{
	set_vif("xvif1", 5, 1000, 2000, 10, 20);
	sweep_one("xvps-1");
	/* Only rx_bytes went down; all four restart (a re-created vif), none is lost. */
	set_vif("xvif1", 5, 300, 2500, 12, 25);
	totals t = sweep_one("xvps-1");
	ASSERT_TOTALS(t, true, 4500, 1300, 45, 22);
}

Test(netcount, absent_vif_keeps_totals_and_never_seen_is_zero)
{
	totals t = sweep_one("xvps-4");
	ASSERT_TOTALS(t, false, 0, 0, 0, 0);
	set_vif("xvif4", 3, 7, 8, 1, 1);
	t = sweep_one("xvps-4");
	ASSERT_TOTALS(t, true, 8, 7, 1, 1);
	del_vif("xvif4");
	t = sweep_one("xvps-4");
	ASSERT_TOTALS(t, false, 8, 7, 1, 1);
	t = sweep_one("xvps-4");
	ASSERT_TOTALS(t, false, 8, 7, 1, 1);
}

Test(netcount, unreadable_statistics_count_as_absent)
{
	set_vif("xvif1", 5, 100, 200, 1, 2);
	sweep_one("xvps-1");
	char p[256];
	snprintf(p, sizeof(p), "%s/xvif1/statistics/tx_packets", netdir);
	put_str(p, "12x\n");
	totals t = sweep_one("xvps-1");
	ASSERT_TOTALS(t, false, 200, 100, 2, 1);
}

Test(netcount, totals_survive_dispose_and_init_without_double_counting)
{
	set_vif("xvif1", 5, 1000, 2000, 10, 20);
	set_vif("xvif2", 6, 1, 2, 3, 4);
	const char *names[] = {"xvps-1", "xvps-2"};
	cr_assert_eq(netcount_sweep(&ctx, names, 2, NULL, err), 0, "%s", err);
	struct stat st;
	cr_assert_eq(stat(cfile, &st), 0);
	cr_assert_eq(st.st_mode & 0777, 0600);
	cr_assert_eq(stat(statedir, &st), 0);
	cr_assert_eq(st.st_mode & 0777, 0700);

	net_ctx_dispose(&ctx);
	init_ctx();
	cr_assert_eq(ctx.n_counters, 2);
	cr_assert_str_eq(ctx.counters[0].name, "xvps-1");
	cr_assert_str_eq(ctx.counters[0].vifname, "xvif1");
	cr_assert_eq(ctx.counters[0].ifindex, 5);
	cr_assert_eq(ctx.counters[0].rx_bytes, 2000);
	cr_assert_eq(ctx.counters[0].raw[0], 1000);
	cr_assert_str_eq(ctx.counters[1].name, "xvps-2");

	set_vif("xvif1", 5, 1100, 2300, 11, 22);
	totals t = sweep_one("xvps-1");
	ASSERT_TOTALS(t, true, 2300, 1100, 22, 11);
	/* The vif was re-created while the agent was down. */
	net_ctx_dispose(&ctx);
	set_vif("xvif1", 8, 5, 6, 1, 1);
	init_ctx();
	t = sweep_one("xvps-1");
	ASSERT_TOTALS(t, true, 2306, 1105, 23, 12);
}

Test(netcount, missing_state_file_starts_empty)
{
	cr_assert_eq(ctx.n_counters, 0);
	cr_assert_eq(access(cfile, F_OK), -1);
}

static void expect_corrupt_start(const char *content)
{
	net_ctx_dispose(&ctx);
	cr_assert_eq(write_file_atomic(cfile, content, strlen(content), 0600), 0);
	init_ctx();
	cr_assert_eq(ctx.n_counters, 0, "accepted: %s", content);
	char aside[256];
	snprintf(aside, sizeof(aside), "%s.corrupt", cfile);
	cr_assert_eq(access(aside, F_OK), 0, "corrupt file not kept aside");
	unlink(aside);
}

Test(netcount, corrupt_state_file_starts_empty_and_is_kept_aside)
{
	expect_corrupt_start("{\"version\":1,\"counters\":[");
	expect_corrupt_start("[]");
	expect_corrupt_start("{\"version\":2,\"counters\":[]}");
	expect_corrupt_start("{\"version\":1,\"counters\":[{\"name\":\"xvps-1\",\"vifname\":"
	                     "\"xvif1\",\"ifindex\":5,\"present\":true,\"raw\":[1,2,3,-4],"
	                     "\"rx_bytes\":1,\"tx_bytes\":1,\"rx_packets\":1,\"tx_packets\":1}]}");
	expect_corrupt_start("{\"version\":1,\"counters\":[{\"name\":\"xvps-1\",\"vifname\":"
	                     "\"xvif2\",\"ifindex\":5,\"present\":true,\"raw\":[1,2,3,4],"
	                     "\"rx_bytes\":1,\"tx_bytes\":1,\"rx_packets\":1,\"tx_packets\":1}]}");
	/* A valid file still loads after all that. */
	const char *good = "{\"version\":1,\"counters\":[{\"name\":\"xvps-1\",\"vifname\":"
	                   "\"xvif1\",\"ifindex\":5,\"present\":true,\"raw\":[1,2,3,4],"
	                   "\"rx_bytes\":10,\"tx_bytes\":11,\"rx_packets\":12,\"tx_packets\":13}]}";
	net_ctx_dispose(&ctx);
	cr_assert_eq(write_file_atomic(cfile, good, strlen(good), 0600), 0);
	init_ctx();
	cr_assert_eq(ctx.n_counters, 1);
	cr_assert_eq(ctx.counters[0].tx_packets, 13);
}

Test(netcount, forget_drops_the_accumulator_for_good)
{
	set_vif("xvif1", 5, 10, 20, 1, 2);
	set_vif("xvif2", 6, 30, 40, 3, 4);
	const char *names[] = {"xvps-2", "xvps-1"};
	cr_assert_eq(netcount_sweep(&ctx, names, 2, NULL, err), 0, "%s", err);
	cr_assert_eq(ctx.n_counters, 2);
	cr_assert_eq(netcount_forget(&ctx, "xvps-1", err), 0, "%s", err);
	cr_assert_eq(ctx.n_counters, 1);
	cr_assert_str_eq(ctx.counters[0].name, "xvps-2");
	cr_assert_eq(netcount_forget(&ctx, "xvps-1", err), 0, "absent is success");
	cr_assert_eq(netcount_forget(&ctx, "xvps-77", err), 0, "absent is success");
	cr_assert_eq(netcount_forget(&ctx, "nope", err), -EINVAL);
	net_ctx_dispose(&ctx);
	init_ctx();
	cr_assert_eq(ctx.n_counters, 1, "forget was persisted");
	cr_assert_str_eq(ctx.counters[0].name, "xvps-2");
	/* A new domain reusing the name starts from the vif's values, not the old totals. */
	totals t = sweep_one("xvps-1");
	ASSERT_TOTALS(t, true, 20, 10, 2, 1);
}

Test(netcount, json_shape_is_exact)
{
	set_vif("xvif3", 5, 1, 2, 3, 4);
	const char *names[] = {"xvps-3", "xvps-9"};
	json_object *out = NULL, *v, *doms;
	int64_t before = now_unix();
	cr_assert_eq(netcount_sweep(&ctx, names, 2, &out, err), 0, "%s", err);
	cr_assert_eq(json_object_object_length(out), 2);
	int64_t at = get_int(out, "sampled_at");
	cr_assert(at >= before && at <= now_unix() + 1);
	cr_assert(json_object_object_get_ex(out, "domains", &doms));
	cr_assert(json_object_is_type(doms, json_type_object));
	cr_assert_eq(json_object_object_length(doms), 2);
	static const char *const keys[] = {"vifname",  "present",    "ifindex",   "rx_bytes",
	                                   "tx_bytes", "rx_packets", "tx_packets"};
	for (size_t i = 0; i < 2; i++) {
		json_object *d;
		cr_assert(json_object_object_get_ex(doms, names[i], &d));
		cr_assert_eq(json_object_object_length(d), 7);
		for (size_t k = 0; k < 7; k++)
			cr_assert(json_object_object_get_ex(d, keys[k], NULL), "no %s", keys[k]);
		cr_assert(json_object_object_get_ex(d, "vifname", &v));
		cr_assert_str_eq(json_object_get_string(v), i == 0 ? "xvif3" : "xvif9");
		cr_assert(json_object_object_get_ex(d, "present", &v));
		cr_assert(json_object_is_type(v, json_type_boolean));
		cr_assert_eq(json_object_get_boolean(v), i == 0);
	}
	json_object *d3;
	json_object_object_get_ex(doms, "xvps-3", &d3);
	cr_assert_eq(get_int(d3, "rx_bytes"), 2);
	cr_assert_eq(get_int(d3, "tx_bytes"), 1);
	cr_assert_eq(get_int(d3, "rx_packets"), 4);
	cr_assert_eq(get_int(d3, "tx_packets"), 3);
	json_object_put(out);
}

Test(netcount, accumulators_stay_sorted_and_unique)
{
	const char *names[] = {"xvps-3", "xvps-10", "xvps-1", "xvps-3", "xvps-2"};
	cr_assert_eq(netcount_sweep(&ctx, names, 5, NULL, err), 0, "%s", err);
	cr_assert_eq(ctx.n_counters, 4);
	for (size_t i = 1; i < ctx.n_counters; i++)
		cr_assert_lt(strcmp(ctx.counters[i - 1].name, ctx.counters[i].name), 0);
	const char *more[] = {"xvps-0x", "xvps-5"};
	cr_assert_eq(netcount_sweep(&ctx, more, 2, NULL, err), -EINVAL, "bad name accepted");
	cr_assert_eq(ctx.n_counters, 4, "a refused sweep changes nothing");
	const char *five[] = {"xvps-5"};
	cr_assert_eq(netcount_sweep(&ctx, five, 1, NULL, err), 0, "%s", err);
	cr_assert_eq(ctx.n_counters, 5);
	for (size_t i = 1; i < ctx.n_counters; i++)
		cr_assert_lt(strcmp(ctx.counters[i - 1].name, ctx.counters[i].name), 0);
}

Test(netcount, bad_names_are_refused)
{
	static const char *const bad[] = {"",
	                                  "xvps-",
	                                  "xvps-01",
	                                  "xvps-1/../x",
	                                  "vps-1",
	                                  "xvps-12345678901",
	                                  "xvps-1234567890"};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		const char *names[] = {bad[i]};
		json_object *out = (json_object *)1;
		cr_assert_eq(netcount_sweep(&ctx, names, 1, &out, err), -EINVAL, "'%s'", bad[i]);
		cr_assert_null(out);
	}
	cr_assert_eq(ctx.n_counters, 0);
	cr_assert_eq(access(cfile, F_OK), -1, "nothing persisted");
}

Test(netcount, missing_sysfs_dir_is_an_error)
{
	net_ctx_dispose(&ctx);
	char gone[192];
	snprintf(gone, sizeof(gone), "%s/no-such-dir", tmp);
	cr_assert_eq(net_ctx_init(&ctx, (runner){.run = no_run}, true, gone, statedir, err), 0);
	const char *names[] = {"xvps-1"};
	cr_assert_eq(netcount_sweep(&ctx, names, 1, NULL, err), -ENOENT);
	cr_assert(strstr(err, "no-such-dir") != NULL, "%s", err);
}

Test(netcount, works_when_disabled)
{
	net_ctx_dispose(&ctx);
	cr_assert_eq(net_ctx_init(&ctx, (runner){.run = no_run}, false, netdir, statedir, err), 0);
	set_vif("xvif1", 5, 1, 2, 3, 4);
	totals t = sweep_one("xvps-1");
	ASSERT_TOTALS(t, true, 2, 1, 4, 3);
}

Test(netcount, empty_sweep_is_fine)
{
	json_object *out = NULL, *doms;
	cr_assert_eq(netcount_sweep(&ctx, NULL, 0, &out, err), 0, "%s", err);
	cr_assert(json_object_object_get_ex(out, "domains", &doms));
	cr_assert_eq(json_object_object_length(doms), 0);
	json_object_put(out);
}

static void *sweeper(void *arg)
{
	const char *names[] = {"xvps-1", "xvps-2", "xvps-3"};
	char e[NET_ERRLEN];
	for (int i = 0; i < 30; i++) {
		json_object *out = NULL;
		if (netcount_sweep(&ctx, names, 3, &out, e) != 0)
			return (void *)1;
		json_object_put(out);
		if (i % 10 == 0)
			netcount_forget(&ctx, "xvps-9", e);
	}
	return NULL;
}

Test(netcount, concurrent_sweeps_count_once)
{
	set_vif("xvif1", 5, 100, 200, 1, 2);
	set_vif("xvif2", 6, 300, 400, 3, 4);
	pthread_t th[4];
	for (int i = 0; i < 4; i++)
		cr_assert_eq(pthread_create(&th[i], NULL, sweeper, NULL), 0);
	for (int i = 0; i < 4; i++) {
		void *r;
		pthread_join(th[i], &r);
		cr_assert_null(r, "a sweep failed");
	}
	totals t = sweep_one("xvps-2");
	ASSERT_TOTALS(t, true, 400, 300, 4, 3);
	cr_assert_eq(ctx.n_counters, 3);
}

Test(netcount, thousand_vifs_sweep_is_cheap, .timeout = 60)
{
	enum { N = 1000 };
	static char namebuf[N][24];
	const char *names[N];
	char vif[24];
	for (int i = 0; i < N; i++) {
		snprintf(namebuf[i], sizeof(namebuf[i]), "xvps-%d", i + 1);
		names[i] = namebuf[i];
		snprintf(vif, sizeof(vif), "xvif%d", i + 1);
		set_vif(vif, i + 10, (uint64_t)i * 1000, (uint64_t)i * 2000, (uint64_t)i,
		        (uint64_t)i);
	}
	json_object *out = NULL;
	cr_assert_eq(netcount_sweep(&ctx, names, N, &out, err), 0, "%s", err); /* warm */
	json_object_put(out);
	struct timespec a, b;
	clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &a);
	cr_assert_eq(netcount_sweep(&ctx, names, N, &out, err), 0, "%s", err);
	clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &b);
	double ms = (double)(b.tv_sec - a.tv_sec) * 1e3 + (double)(b.tv_nsec - a.tv_nsec) / 1e6;
	json_object *doms, *d;
	cr_assert(json_object_object_get_ex(out, "domains", &doms));
	cr_assert_eq(json_object_object_length(doms), N);
	cr_assert(json_object_object_get_ex(doms, "xvps-1000", &d));
	cr_assert_eq(get_int(d, "rx_bytes"), 999 * 2000);
	json_object_put(out);
	cr_assert_eq(ctx.n_counters, N);
	/* Budget: 50 ms of CPU on an optimised build; sanitizers cost several times that. */
	cr_log_info("1000-vif sweep: %.1f ms CPU", ms);
	cr_assert_lt(ms, 400.0, "a 1000-vif sweep took %.1f ms of CPU", ms);
}

/* ---- the real kernel: with sysfs_net "/sys/class/net" the sweep reads rtnetlink ---------- */

static int report_fd = -1;

#define CHECK(cond, ...)                                                                           \
	do {                                                                                       \
		if (!(cond)) {                                                                     \
			dprintf(report_fd, __VA_ARGS__);                                           \
			_exit(1);                                                                  \
		}                                                                                  \
	} while (0)

static void ip_ok(const char *const argv[])
{
	runner r = runner_real();
	runner_result res;
	int rc = runner_run(&r, argv, NULL, 0, 10000, &res);
	char *line = runner_argv_str(argv);
	CHECK(runner_ok(rc, &res), "`%s` failed: %s", line, res.err ? res.err : "");
	free(line);
	runner_result_dispose(&res);
}

/* The vif's ifindex and (vif rx_bytes, tx_bytes, rx_packets, tx_packets) from sysfs. */
static void sysfs_read(const char *vif, uint64_t *ifindex, uint64_t raw[4])
{
	static const char *const files[] = {"ifindex", "statistics/rx_bytes", "statistics/tx_bytes",
	                                    "statistics/rx_packets", "statistics/tx_packets"};
	for (int k = 0; k < 5; k++) {
		char p[128], *data = NULL;
		size_t len;
		snprintf(p, sizeof(p), "/sys/class/net/%s/%s", vif, files[k]);
		CHECK(read_file(p, 64, &data, &len) == 0, "cannot read %s", p);
		uint64_t v = strtoull(data, NULL, 10);
		free(data);
		if (k == 0)
			*ifindex = v;
		else
			raw[k - 1] = v;
	}
}

static void make_pair(void)
{
	ip_ok((const char *[]){"ip", "link", "add", "xvif1", "type", "veth", "peer", "name", "xvp1",
	                       NULL});
	ip_ok((const char *[]){"ip", "link", "set", "xvif1", "up", NULL});
	ip_ok((const char *[]){"ip", "link", "set", "xvp1", "up", NULL});
	struct timespec ts = {0, 300 * 1000000L}; /* let IPv6 autoconf send a few frames */
	nanosleep(&ts, NULL);
}

/* Sweeps xvps-1 and xvps-2 and checks xvps-1's totals lie between base + the sysfs values
 * read just before and just after (guest's view: rx = vif tx). */
static void sweep_between(net_ctx *c, const uint64_t base[4], uint64_t *ifindex_out)
{
	const char *names[] = {"xvps-1", "xvps-2"};
	uint64_t idx_b, idx_a, b[4], a[4];
	char e[NET_ERRLEN];
	sysfs_read("xvif1", &idx_b, b);
	CHECK(netcount_sweep(c, names, 2, NULL, e) == 0, "sweep: %s", e);
	sysfs_read("xvif1", &idx_a, a);
	CHECK(c->n_counters == 2 && strcmp(c->counters[0].name, "xvps-1") == 0, "accumulators");
	const net_counter *k = &c->counters[0];
	CHECK(k->present && !c->counters[1].present, "present flags");
	CHECK((uint64_t)k->ifindex == idx_b && idx_a == idx_b, "ifindex %d, sysfs %" PRIu64,
	      k->ifindex, idx_b);
	const uint64_t got[4] = {k->tx_bytes, k->rx_bytes, k->tx_packets, k->rx_packets};
	for (int i = 0; i < 4; i++)
		CHECK(base[i] + b[i] <= got[i] && got[i] <= base[i] + a[i],
		      "value %d: %" PRIu64 " not within %" PRIu64 "..%" PRIu64, i, got[i],
		      base[i] + b[i], base[i] + a[i]);
	*ifindex_out = idx_b;
}

static int netlink_child(const char *ns, const char *state)
{
	char p[64], e[NET_ERRLEN];
	snprintf(p, sizeof(p), "/run/netns/%s", ns);
	int fd = open(p, O_RDONLY | O_CLOEXEC);
	CHECK(fd >= 0 && setns(fd, CLONE_NEWNET) == 0, "setns %s: %s", p, strerror(errno));
	close(fd);
	/* A private /sys for the namespace, so sysfs shows its devices. */
	CHECK(unshare(CLONE_NEWNS) == 0, "unshare: %s", strerror(errno));
	CHECK(mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) == 0, "mount private");
	CHECK(mount("sysfs", "/sys", "sysfs", 0, NULL) == 0, "mount sysfs: %s", strerror(errno));

	net_ctx c;
	CHECK(net_ctx_init(&c, (runner){.run = no_run}, true, "/sys/class/net", state, e) == 0,
	      "init: %s", e);
	make_pair();
	uint64_t zero[4] = {0}, idx1, idx2;
	sweep_between(&c, zero, &idx1);
	/* Reboot: the vif is re-created with a new ifindex; both lives count once. */
	const net_counter *k = &c.counters[0];
	uint64_t before[4] = {k->tx_bytes, k->rx_bytes, k->tx_packets, k->rx_packets};
	ip_ok((const char *[]){"ip", "link", "del", "xvif1", NULL});
	make_pair();
	sweep_between(&c, before, &idx2);
	CHECK(idx2 != idx1, "the re-created vif kept ifindex %" PRIu64, idx1);
	net_ctx_dispose(&c);
	return 0;
}

Test(netcount, real_kernel_rtnetlink_sweep_matches_sysfs, .timeout = 30)
{
	char ns[32], state[192];
	int pfd[2];

	if (geteuid() != 0)
		cr_skip_test("needs root for a network namespace");
	snprintf(ns, sizeof(ns), "hs-nct%ld", (long)getpid());
	snprintf(state, sizeof(state), "%s/state-real", tmp);
	runner r = runner_real();
	runner_result res;
	const char *add[] = {"ip", "netns", "add", ns, NULL};
	if (!runner_ok(runner_run(&r, add, NULL, 0, 10000, &res), &res)) {
		runner_result_dispose(&res);
		cr_skip_test("ip netns add failed");
	}
	runner_result_dispose(&res);
	cr_assert_eq(pipe(pfd), 0);
	pid_t pid = fork();
	if (pid == 0) {
		close(pfd[0]);
		report_fd = pfd[1];
		_exit(netlink_child(ns, state));
	}
	close(pfd[1]);
	char msg[512] = "";
	ssize_t got = read(pfd[0], msg, sizeof(msg) - 1);
	msg[got > 0 ? got : 0] = '\0';
	close(pfd[0]);
	int st = 0;
	waitpid(pid, &st, 0);
	const char *del[] = {"ip", "netns", "del", ns, NULL};
	runner_run(&r, del, NULL, 0, 10000, &res);
	runner_result_dispose(&res);
	cr_assert(WIFEXITED(st) && WEXITSTATUS(st) == 0, "in namespace %s: %s", ns, msg);
}
