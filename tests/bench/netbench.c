/* netbench.c — `make bench`'s network part, run by tests/bench/run.sh inside a network namespace
 * it creates (never on the host's own tables):
 *   netbench chains N EMPTY FULL
 *                       fills the namespace FULL with the chains of N VPS, then applies the chains
 *                       of K fresh VPS alternately in EMPTY (a host with none) and in FULL, so
 *                       that load changes on the machine hit both sides alike; prints the median
 *                       wall time of each side and their ratio (goal <= 2: per-domain work must
 *                       not grow with the number of domains on the host).
 *   netbench sweep N    one counter sweep over N vifs (xvif1..xvifN must exist), repeated,
 *                       alternating with one bare RTM_GETLINK dump of the same links; prints the
 *                       median CPU time of each and their ratio (goal <= 1.5, issue 17 item 5).
 * Output lines: "bench: <name> <value> <unit>". Asserts nothing. */
#include <fcntl.h>
#include <linux/netlink.h>
#include <linux/rtnetlink.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "../../common/util.h"
#include "../../provisioning/net.h"

#define K 15

static double now_s(clockid_t clk)
{
	struct timespec ts;

	clock_gettime(clk, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static int cmp_d(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}

static double median(double *v, size_t n)
{
	qsort(v, n, sizeof(*v), cmp_d);
	return v[n / 2];
}

/* A plausible VPS: two IPv4, one IPv6, one routed /64. */
static int make_spec(vps_spec *s, int id)
{
	char json[1024];
	json_field_error fe = {0};
	json_object *o;
	int rc;

	snprintf(json, sizeof(json),
	         "{\"name\":\"xvps-%d\",\"hostname\":\"h%d.example.com\",\"type\":\"pvh\","
	         "\"vcpus\":1,\"memory_mib\":512,\"disk_gib\":5,\"template\":\"tpl-1\","
	         "\"mac\":\"00:16:3e:%02x:%02x:%02x\",\"vifname\":\"xvif%d\",\"power\":\"running\","
	         "\"ipv4\":[\"198.18.%d.%d\",\"198.19.%d.%d\"],\"ipv6\":[\"2001:db8::%x\"],"
	         "\"ipv6_routed\":[\"2001:db8:%x::/64\"],\"smtp_block\":true}",
	         id, id, (id >> 16) & 255, (id >> 8) & 255, id & 255, id, (id >> 8) & 255, id & 255,
	         (id >> 8) & 255, id & 255, id, id);
	o = json_tokener_parse(json);
	if (!o)
		return -1;
	rc = spec_parse(o, s, &fe);
	json_object_put(o);
	if (rc)
		fprintf(stderr, "netbench: spec %d: %s %s\n", id, fe.field, fe.detail);
	return rc;
}

static int apply(net_ctx *ctx, int id, double *wall)
{
	vps_spec s = {0};
	char err[NET_ERRLEN] = "";
	double t0;
	int rc;

	if (make_spec(&s, id))
		return -1;
	t0 = now_s(CLOCK_MONOTONIC);
	rc = nf_apply(ctx, &s, err);
	if (wall)
		*wall = now_s(CLOCK_MONOTONIC) - t0;
	spec_dispose(&s);
	if (rc)
		fprintf(stderr, "netbench: apply %d: %s\n", id, err);
	return rc;
}

/* Moves this thread (and the commands it spawns) into the named network namespace. */
static int enter_ns(const char *name)
{
	char path[256];
	int fd, rc;

	snprintf(path, sizeof(path), "/run/netns/%s", name);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		perror(path);
		return -1;
	}
	rc = setns(fd, CLONE_NEWNET);
	if (rc)
		perror("setns");
	close(fd);
	return rc;
}

static int bench_chains(net_ctx *ctx, int n, const char *empty, const char *full)
{
	char err[NET_ERRLEN] = "";
	double first[K], last[K], a, b;
	int id = 1;

	if (enter_ns(empty) || nf_base_ensure(ctx, err) || enter_ns(full) ||
	    nf_base_ensure(ctx, err)) {
		fprintf(stderr, "netbench: base: %s\n", err);
		return 1;
	}
	for (int i = 0; i < n; i++)
		if (apply(ctx, id++, NULL))
			return 1;
	for (int i = 0; i < K; i++) {
		if (enter_ns(empty) || apply(ctx, id++, &first[i]) || enter_ns(full) ||
		    apply(ctx, id++, &last[i]))
			return 1;
	}
	a = median(first, K);
	b = median(last, K);
	printf("bench: nf_apply_on_empty_host_ms %.2f ms\n", a * 1e3);
	printf("bench: nf_apply_with_%d_vps_ms %.2f ms\n", n, b * 1e3);
	printf("bench: nf_apply_ratio %.2f (goal <= 2)\n", b / a);
	return 0;
}

/* The baseline of a sweep (issue 17 item 5): one bare RTM_GETLINK dump of every link of the
 * namespace, read to its end and not even parsed. 0, or -1. */
static int raw_dump(void)
{
	struct {
		struct nlmsghdr h;
		struct ifinfomsg i;
	} req = {.h = {.nlmsg_len = sizeof(req),
	               .nlmsg_type = RTM_GETLINK,
	               .nlmsg_flags = NLM_F_REQUEST | NLM_F_DUMP,
	               .nlmsg_seq = 1},
	         .i = {.ifi_family = AF_UNSPEC}};
	static char buf[64 * 1024];
	int fd = socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_ROUTE), rc = -1;

	if (fd < 0 || send(fd, &req, sizeof(req), 0) != (ssize_t)sizeof(req))
		goto out;
	for (;;) {
		ssize_t got = recv(fd, buf, sizeof(buf), 0);
		size_t left;

		if (got <= 0)
			goto out;
		left = (size_t)got;
		for (struct nlmsghdr *h = (struct nlmsghdr *)buf; NLMSG_OK(h, left);
		     h = NLMSG_NEXT(h, left)) {
			if (h->nlmsg_type == NLMSG_DONE) {
				rc = 0;
				goto out;
			}
			if (h->nlmsg_type == NLMSG_ERROR)
				goto out;
		}
	}
out:
	if (fd >= 0)
		close(fd);
	return rc;
}

static int bench_sweep(net_ctx *ctx, int n)
{
	char err[NET_ERRLEN] = "", **names = calloc((size_t)n, sizeof(char *));
	double cpu[15], raw[15];
	json_object *out = NULL;
	int present = 0;

	if (!names)
		return 1;
	for (int i = 0; i < n; i++) {
		names[i] = malloc(32);
		if (!names[i])
			return 1;
		snprintf(names[i], 32, "xvps-%d", i + 1);
	}
	/* Alternating with the raw dump, so that load on the machine hits both sides alike. */
	for (int r = 0; r < 15; r++) {
		double t0 = now_s(CLOCK_PROCESS_CPUTIME_ID), t1;

		if (netcount_sweep(ctx, (const char *const *)names, (size_t)n, NULL, err)) {
			fprintf(stderr, "netbench: sweep: %s\n", err);
			return 1;
		}
		t1 = now_s(CLOCK_PROCESS_CPUTIME_ID);
		cpu[r] = t1 - t0;
		if (raw_dump()) {
			fprintf(stderr, "netbench: the raw RTM_GETLINK dump failed\n");
			return 1;
		}
		raw[r] = now_s(CLOCK_PROCESS_CPUTIME_ID) - t1;
	}
	/* One more with the JSON answer, to check the vifs were really there. */
	if (netcount_sweep(ctx, (const char *const *)names, (size_t)n, &out, err) == 0) {
		json_object *doms = NULL;
		if (json_object_object_get_ex(out, "domains", &doms)) {
			json_object_object_foreach(doms, k, v)
			{
				json_object *p = NULL;
				(void)k;
				if (json_object_object_get_ex(v, "present", &p) &&
				    json_object_get_boolean(p))
					present++;
			}
		}
		json_object_put(out);
	}
	printf("bench: counter_sweep_%d_vifs_cpu_ms %.2f ms (goal <= 50; %d vifs present)\n", n,
	       median(cpu, 15) * 1e3, present);
	printf("bench: raw_rtm_getlink_dump_cpu_ms %.2f ms (the same links, read and not parsed)\n",
	       median(raw, 15) * 1e3);
	printf("bench: counter_sweep_over_raw_dump %.2f (goal <= 1.5)\n",
	       median(cpu, 15) / median(raw, 15));
	for (int i = 0; i < n; i++)
		free(names[i]);
	free(names);
	return 0;
}

int main(int argc, char **argv)
{
	char err[NET_ERRLEN] = "", state[] = "/tmp/xvps-netbench.XXXXXX";
	net_ctx ctx;
	int n, rc;

	if (argc < 3 || (n = atoi(argv[2])) < 1 || n > 100000 ||
	    (strcmp(argv[1], "chains") == 0 && argc != 5)) {
		fprintf(stderr, "usage: netbench chains N EMPTY_NETNS FULL_NETNS | sweep N\n");
		return 2;
	}
	if (!mkdtemp(state))
		return 1;
	if (net_ctx_init(&ctx, runner_real(), true, "/sys/class/net", state, err)) {
		fprintf(stderr, "netbench: %s\n", err);
		return 1;
	}
	rc = strcmp(argv[1], "chains") == 0 ? bench_chains(&ctx, n, argv[3], argv[4])
	                                    : bench_sweep(&ctx, n);
	net_ctx_dispose(&ctx);
	{
		char f[64];
		snprintf(f, sizeof(f), "%s/counters.json", state);
		unlink(f);
		rmdir(state);
	}
	return rc;
}
