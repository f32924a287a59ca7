/* test_tc_nl.c — net_tc (provisioning/tc_nl.c) against the real kernel, in a network namespace
 * of each test's own: the tbf it makes through rtnetlink is the qdisc `tc` makes from the
 * command line net_tc_line prints for the same change (compared as `tc -d qdisc show` prints
 * both), above 2^32-1 bytes/s too (TCA_TBF_RATE64); a new handle replaces the root qdisc in one
 * step; deletes of what is absent are 0; a device that does not exist is -ENODEV with the
 * change named in the message. Root only (namespaces); skipped otherwise. */
#include <criterion/criterion.h>
#include <errno.h>
#include <net/if.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "../../common/runner.h"
#include "../../provisioning/net.h"

static net_ctx ctx; /* enabled, tc NULL: the rtnetlink path */
static char err[NET_ERRLEN];

/* Runs argv (the test fails when it does); its stdout (heap). */
static char *run(const char *const argv[])
{
	runner r = runner_real();
	runner_result res;
	int rc = runner_run(&r, argv, NULL, 0, 10000, &res);
	cr_assert(runner_ok(rc, &res), "%s %s %s: %s", argv[0], argv[1], argv[2],
	          res.err ? res.err : "");
	char *out = strdup(res.out ? res.out : "");
	runner_result_dispose(&res);
	return out;
}
#define cmd(...) free(run((const char *const[]){__VA_ARGS__, NULL}))

static void setup(void)
{
	if (geteuid() != 0)
		cr_skip_test("needs root (network namespaces)");
	cr_assert_eq(unshare(CLONE_NEWNET), 0, "unshare: %s", strerror(errno));
	cmd("ip", "link", "add", "xvif3", "type", "veth", "peer", "name", "xvif4");
	memset(&ctx, 0, sizeof(ctx));
	ctx.enabled = true;
	err[0] = '\0';
}

TestSuite(tc_nl, .init = setup);

/* The tbf shaping makes for 20 Mbit/s on dev: handle 14:, 2.5 MB/s, a 25,000-byte burst, 50 ms
 * of queue past it. */
static net_tc_op tbf20(const char *dev)
{
	return (net_tc_op){.kind = NET_TC_TBF,
	                   .dev = dev,
	                   .major = 0x14,
	                   .rate_bytes = 2500000,
	                   .burst = 25000,
	                   .limit = 150000};
}

/* `tc -d qdisc show dev DEV` with DEV's name replaced by "DEV". */
static char *show(const char *dev)
{
	char *out = run((const char *const[]){"tc", "-d", "qdisc", "show", "dev", dev, NULL});
	char *at = strstr(out, dev);
	if (at)
		memcpy(at, "DEV  ", strlen(dev)); /* same length: "xvif3" -> "DEV  " */
	return out;
}

/* Makes op on xvif3 through net_tc and its command line on xvif4 through tc; the two agree. */
static void same_as_tc(net_tc_op op, const char *expect)
{
	char line[200], *argv[32];
	int n = 0;

	op.dev = "xvif3";
	cr_assert_eq(net_tc(&ctx, &op, err), 0, "%s", err);
	op.dev = "xvif4";
	cr_assert(net_tc_line(&op, line, sizeof(line)));
	for (char *save = NULL, *t = strtok_r(line, " ", &save); t && n < 31;
	     t = strtok_r(NULL, " ", &save))
		argv[n++] = t;
	argv[n] = NULL;
	free(run((const char *const *)argv));
	char *a = show("xvif3"), *b = show("xvif4");
	cr_assert_str_eq(a, b);
	cr_assert(strstr(a, expect), "%s lacks %s", a, expect);
	free(a);
	free(b);
}

Test(tc_nl, a_tbf_is_the_one_tc_makes)
{
	same_as_tc(tbf20(NULL), "rate 20Mbit burst 25000b/1 mpu 0b lat 50ms");
}

Test(tc_nl, a_rate_above_32_bits_is_sent_as_rate64)
{
	net_tc_op op = {.kind = NET_TC_TBF,
	                .major = 0x9c40,
	                .rate_bytes = 5000000000ull, /* 40 Gbit/s */
	                .burst = 50000000,
	                .limit = 300000000};
	same_as_tc(op, "rate 40Gbit");
}

Test(tc_nl, a_new_handle_replaces_the_root_qdisc)
{
	net_tc_op op = tbf20("xvif3");
	op.major = 0x64; /* 100 Mbit/s first */
	op.rate_bytes = 12500000;
	cr_assert_eq(net_tc(&ctx, &op, err), 0, "%s", err);
	op = tbf20("xvif3");
	cr_assert_eq(net_tc(&ctx, &op, err), 0, "%s", err);
	cr_assert_eq(net_tc(&ctx, &op, err), 0, "the same again: %s", err);
	char *out = show("xvif3");
	cr_assert(strstr(out, "qdisc tbf 14: root") && !strstr(out, "tbf 64:"), "%s", out);
	cr_assert(strstr(out, "rate 20Mbit"), "%s", out);
	free(out);
}

Test(tc_nl, deletes_remove_and_absent_is_fine)
{
	net_tc_op tbf = tbf20("xvif3");
	net_tc_op root = {.kind = NET_TC_DEL_ROOT, .dev = "xvif3"};
	net_tc_op ingress = {.kind = NET_TC_DEL_INGRESS, .dev = "xvif3"};
	net_tc_op link = {.kind = NET_TC_DEL_LINK, .dev = "xvif3"};

	cr_assert_eq(net_tc(&ctx, &ingress, err), 0, "no ingress qdisc yet: %s", err);
	cr_assert_eq(net_tc(&ctx, &tbf, err), 0, "%s", err);
	cmd("tc", "qdisc", "add", "dev", "xvif3", "ingress");
	cr_assert_eq(net_tc(&ctx, &root, err), 0, "%s", err);
	cr_assert_eq(net_tc(&ctx, &ingress, err), 0, "%s", err);
	char *out = show("xvif3");
	cr_assert(!strstr(out, "tbf") && !strstr(out, "ingress"), "%s", out);
	free(out);
	cr_assert_eq(net_tc(&ctx, &root, err), 0, "the default qdisc: %s", err);
	cr_assert_eq(net_tc(&ctx, &ingress, err), 0, "gone already: %s", err);
	cr_assert_eq(net_tc(&ctx, &link, err), 0, "%s", err);
	cr_assert_eq(if_nametoindex("xvif3"), 0u);
	cr_assert_eq(if_nametoindex("xvif4"), 0u, "its veth peer went with it");
	cr_assert_eq(net_tc(&ctx, &link, err), 0, "no device: %s", err);
	cr_assert_eq(net_tc(&ctx, &root, err), 0, "no device: %s", err);
}

Test(tc_nl, a_tbf_on_a_missing_device_names_the_change)
{
	net_tc_op op = tbf20("xvif9");
	cr_assert_eq(net_tc(&ctx, &op, err), -ENODEV);
	cr_assert(strstr(err, "`tc qdisc replace dev xvif9 root handle 14: tbf rate 2500000bps "
	                      "burst 25000 limit 150000` failed: No such device"),
	          "%s", err);
}

Test(tc_nl, bad_changes_are_refused_before_the_kernel)
{
	net_tc_op op = {.kind = NET_TC_TBF, .dev = "xvif3", .major = 0x14, .burst = 25000};
	cr_assert_eq(net_tc(&ctx, &op, err), -EINVAL, "no rate");
	op.rate_bytes = 1;
	op.dev = "a-name-longer-than-15";
	cr_assert_eq(net_tc(&ctx, &op, err), -EINVAL);
	cr_assert(strstr(err, "1 to 15 characters"), "%s", err);
}

/* net_ifindex reads the link by name through rtnetlink (no SIOCGIFINDEX, which would make the
 * kernel try to load modules for an absent name); it sees this test's namespace, and
 * net_dev_exists with the real sysfs path answers through it. */
Test(tc_nl, net_ifindex_sees_the_namespace_and_absence)
{
	snprintf(ctx.sysfs_net, sizeof(ctx.sysfs_net), "/sys/class/net");
	cr_assert_gt(net_ifindex("xvif3"), 0);
	cr_assert_eq((unsigned)net_ifindex("xvif3"), if_nametoindex("xvif3"));
	cr_assert_eq(net_ifindex("xvif5"), 0);
	cr_assert_eq(net_ifindex(""), 0);
	cr_assert_eq(net_ifindex("a-name-longer-than-15"), 0);
	cr_assert(net_dev_exists(&ctx, "xvif4"));
	cr_assert(!net_dev_exists(&ctx, "xvif5"));
}
