/* test_vps_net.c — provisioning/vps_net.c: a vif that the hypervisor re-created behind the agent's
 * back (a reboot from inside a Xen guest, a resumed sim guest) is shaped again at the next counter
 * sweep, the remembered rate survives an agent restart (shaping.json), and removal forgets it.
 * Fake sysfs tree in a temp dir, fake runner recording commands, fake rtnetlink seam recording
 * the qdisc changes as their tc command lines, fake nftables seam
 * recording the firewall transactions (never the host's own tables). */
#include <criterion/criterion.h>
#include <errno.h>
#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "../../common/util.h"
#include "../../provisioning/vps.h"

static char tmp[64], netdir[128], statedir[128];
static char *calls[256];
static size_t ncalls;

static int fake_run(void *c, const char *const argv[], const char *in, size_t in_len,
                    int timeout_ms, runner_result *res)
{
	char *line = runner_argv_str(argv);

	runner_result_init(res);
	if (ncalls < 256)
		calls[ncalls++] = line;
	else
		free(line);
	res->out = strdup("");
	res->err = strdup("");
	res->exit_status = 0;
	return 0;
}

/* The rtnetlink seam: each qdisc / link change as its tc / ip command line. */
static int fake_tc(void *arg, const char *line, char err[NET_ERRLEN])
{
	if (ncalls < 256)
		calls[ncalls++] = strdup(line);
	return 0;
}

static int fake_nft(void *arg, const char *cmds, bool check_only, char **out, char err[NET_ERRLEN])
{
	if (ncalls < 256)
		calls[ncalls++] = strdup(check_only ? "nft check" : "nft");
	if (out)
		*out = strdup("");
	return 0;
}

static void put(const char *dir, const char *file, const char *val)
{
	char p[300];

	snprintf(p, sizeof(p), "%s/%s", dir, file);
	cr_assert_eq(write_file_atomic(p, val, strlen(val), 0644), 0, "%s", p);
}

/* <netdir>/<vif>/ifindex and statistics/ with zero counters. */
static void set_vif(const char *vif, const char *ifindex)
{
	char d[200], s[220];
	static const char *const ctr[] = {"rx_bytes", "tx_bytes", "rx_packets", "tx_packets"};

	snprintf(d, sizeof(d), "%s/%s", netdir, vif);
	snprintf(s, sizeof(s), "%s/statistics", d);
	cr_assert_eq(mkdir_p(s, 0755), 0);
	put(d, "ifindex", ifindex);
	for (int i = 0; i < 4; i++)
		put(s, ctr[i], "0\n");
}

static size_t count_calls(const char *needle)
{
	size_t n = 0;

	for (size_t i = 0; i < ncalls; i++)
		if (strstr(calls[i], needle))
			n++;
	return n;
}

static void clear_calls(void)
{
	for (size_t i = 0; i < ncalls; i++)
		free(calls[i]);
	ncalls = 0;
}

static int rm_one(const char *path, const struct stat *sb, int flag, struct FTW *ftw)
{
	return remove(path);
}

static void setup(void)
{
	snprintf(tmp, sizeof(tmp), "/tmp/xvps-vpsnet.XXXXXX");
	cr_assert_not_null(mkdtemp(tmp));
	snprintf(netdir, sizeof(netdir), "%s/net", tmp);
	snprintf(statedir, sizeof(statedir), "%s/state", tmp);
	cr_assert_eq(mkdir_p(netdir, 0755), 0);
}

static void teardown(void)
{
	clear_calls();
	nftw(tmp, rm_one, 16, FTW_DEPTH | FTW_PHYS);
}

static void open_net(net_ctx *net, vps_ctx *v)
{
	char err[NET_ERRLEN] = "";

	cr_assert_eq(net_ctx_init(net, (runner){fake_run, NULL}, true, netdir, statedir, err), 0,
	             "%s", err);
	net->vif_wait_ms = 100;
	net->nft = fake_nft;
	net->tc = fake_tc;
	memset(v, 0, sizeof(*v));
	v->net = net;
}

static void spec_of(vps_spec *s, int rate)
{
	char json[600];
	json_field_error fe = {0};
	json_object *o;

	snprintf(
	        json, sizeof(json),
	        "{\"name\":\"xvps-7\",\"hostname\":\"h7.example.com\",\"type\":\"pvh\",\"vcpus\":1,"
	        "\"memory_mib\":512,\"disk_gib\":5,\"template\":\"tpl-1\","
	        "\"mac\":\"00:16:3e:00:00:07\",\"vifname\":\"xvif7\",\"power\":\"running\","
	        "\"net_mbit\":%d}",
	        rate);
	o = json_tokener_parse(json);
	cr_assert_eq(spec_parse(o, s, &fe), 0, "%s %s", fe.field, fe.detail);
	json_object_put(o);
}

static void sweep(vps_ctx *v)
{
	const char *names[] = {"xvps-7"};
	json_object *out = NULL;
	vps_err e = {0};

	cr_assert_eq(vps_net_counters(v, names, 1, &out, &e), 0, "%s", e.msg);
	json_object_put(out);
}

TestSuite(vps_net, .init = setup, .fini = teardown);

Test(vps_net, a_recreated_vif_is_shaped_again_at_the_next_sweep)
{
	net_ctx net;
	vps_ctx v;
	vps_spec s = {0};
	vps_err e = {0};

	open_net(&net, &v);
	spec_of(&s, 20);
	set_vif("xvif7", "5\n");
	cr_assert_eq(vps_net_after_start(&v, &s, &e), 0, "%s", e.msg);
	cr_assert_eq(count_calls("tc qdisc replace dev xvif7 root handle 14: tbf rate 2500000bps"),
	             1);
	clear_calls();

	sweep(&v); /* same vif: nothing to do */
	cr_assert_eq(count_calls("tc "), 0, "an unchanged vif is left alone");

	set_vif("xvif7", "9\n"); /* re-created by the hypervisor */
	sweep(&v);
	cr_assert_eq(count_calls("tc qdisc replace dev xvif7 root handle 14: tbf rate 2500000bps"),
	             1, "the re-created vif was not shaped again");
	clear_calls();
	sweep(&v);
	cr_assert_eq(count_calls("tc "), 0, "shaped once, not at every sweep");

	/* An agent restart keeps the memory (shaping.json). */
	net_ctx_dispose(&net);
	open_net(&net, &v);
	set_vif("xvif7", "12\n");
	sweep(&v);
	cr_assert_eq(count_calls("tc qdisc replace dev xvif7 root handle 14: tbf rate 2500000bps"),
	             1, "the rate was forgotten across a restart");
	clear_calls();

	/* Removal forgets it: a vif of that name later is not shaped by the sweep. */
	cr_assert_eq(vps_net_remove(&v, "xvps-7", &e), 0, "%s", e.msg);
	set_vif("xvif7", "13\n");
	clear_calls();
	sweep(&v);
	cr_assert_eq(count_calls("tc "), 0, "a removed domain is shaped again");
	spec_dispose(&s);
	net_ctx_dispose(&net);
}

Test(vps_net, unlimited_rate_is_not_remembered)
{
	net_ctx net;
	vps_ctx v;
	vps_spec s = {0};
	vps_err e = {0};

	open_net(&net, &v);
	spec_of(&s, 0);
	set_vif("xvif7", "5\n");
	cr_assert_eq(vps_net_after_start(&v, &s, &e), 0, "%s", e.msg);
	cr_assert_eq(count_calls(" tbf rate "), 0, "rate 0 adds no qdisc");
	set_vif("xvif7", "6\n");
	clear_calls();
	sweep(&v);
	cr_assert_eq(count_calls("tc "), 0);
	spec_dispose(&s);
	net_ctx_dispose(&net);
}
