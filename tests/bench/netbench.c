/* netbench.c — `make bench`'s network part, run by tests/bench/net.sh inside network namespaces
 * it creates (never on the host's own tables):
 *   netbench chains N EMPTY FULL
 *                       fills the namespace FULL with the chains of N VPS, then applies the chains
 *                       of K fresh VPS alternately in EMPTY (a host with none) and in FULL, and
 *                       feeds FULL one bare single-table `iptables-restore --noflush` batch of one
 *                       chain in each round too, so that load changes on the machine hit every
 *                       side alike; prints the median wall time of each side, the growth ratio
 *                       FULL/EMPTY and the ratio FULL/bare batch (goal <= 1.5).
 *   netbench fill NS FIRST LAST
 *                       applies (nf_base_ensure, nf_apply) the chains of VPS FIRST..LAST in NS.
 *   netbench udp-sink PORT SECONDS / udp-flood DST PORT SECONDS
 *                       counts the UDP datagrams received on PORT for SECONDS / sends 18-byte
 *                       datagrams to DST:PORT as fast as it can for SECONDS; the sink prints
 *                       "pps <packets per second>".
 *   netbench sweep N    one counter sweep over N vifs (xvif1..xvifN must exist), repeated,
 *                       alternating with one bare RTM_GETLINK dump of the same links; prints the
 *                       median CPU time of each and their ratio (goal <= 1.5, issue 17 item 5).
 * VPS id has MAC 00:16:3e:00:HI:LO and IPv4 198.18.HI.LO (make_spec). Output lines: "bench:
 * <name> <value> <unit>". Asserts nothing. */
#include <arpa/inet.h>
#include <fcntl.h>
#include <linux/netlink.h>
#include <linux/rtnetlink.h>
#include <netinet/in.h>
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

/* One bare single-table batch: a chain shaped like an old per-domain IPv4 chain, new each time
 * (id), through `iptables-restore --noflush --wait`: the yardstick of a per-change cost. */
static int bare_batch(net_ctx *ctx, int id, double *wall)
{
	const char *argv[] = {"iptables-restore", "--noflush", "--wait", NULL};
	char batch[512];
	runner_result res;
	double t0;
	int rc;

	snprintf(batch, sizeof(batch),
	         "*filter\n:xvps-bare%d - [0:0]\n"
	         "-A xvps-bare%d -m mac ! --mac-source 00:16:3e:00:00:01 -j DROP\n"
	         "-A xvps-bare%d -p udp -m udp --sport 67 --dport 68 -j DROP\n"
	         "-A xvps-bare%d -p tcp -m tcp --dport 25 -j REJECT --reject-with tcp-reset\n"
	         "-A xvps-bare%d -s 198.18.0.1/32 -j RETURN\n"
	         "-A xvps-bare%d -s 198.19.0.1/32 -j RETURN\n-A xvps-bare%d -j DROP\nCOMMIT\n",
	         id, id, id, id, id, id, id);
	runner_result_init(&res);
	t0 = now_s(CLOCK_MONOTONIC);
	rc = runner_run(&ctx->run, argv, batch, strlen(batch), 30000, &res);
	*wall = now_s(CLOCK_MONOTONIC) - t0;
	if (rc || res.exit_status != 0) {
		fprintf(stderr, "netbench: iptables-restore: %s\n",
		        res.err ? res.err : "cannot run");
		rc = -1;
	}
	runner_result_dispose(&res);
	/* Untimed: the chain goes again, so that every batch meets the same (empty) table. */
	snprintf(batch, sizeof(batch), "*filter\n-F xvps-bare%d\n-X xvps-bare%d\nCOMMIT\n", id, id);
	runner_result_init(&res);
	if (rc == 0 && (runner_run(&ctx->run, argv, batch, strlen(batch), 30000, &res) != 0 ||
	                res.exit_status != 0))
		rc = -1;
	runner_result_dispose(&res);
	return rc;
}

/* ctx for namespace ns: the libnftables context is made on first use, so it lives there. */
static int ctx_in(net_ctx *ctx, const char *ns, const char *state)
{
	char err[NET_ERRLEN] = "";

	if (enter_ns(ns) || net_ctx_init(ctx, runner_real(), true, "/sys/class/net", state, err) ||
	    nf_base_ensure(ctx, err)) {
		fprintf(stderr, "netbench: %s: %s\n", ns, err);
		return -1;
	}
	return 0;
}

static int bench_chains(const char *state, int n, const char *empty, const char *full)
{
	double first[K], last[K], bare[K], a, b, c;
	net_ctx ce, cf;
	int id = 1, rc = 1;

	if (ctx_in(&ce, empty, state))
		return 1;
	if (ctx_in(&cf, full, state)) {
		net_ctx_dispose(&ce);
		return 1;
	}
	for (int i = 0; i < n; i++)
		if (apply(&cf, id++, NULL))
			goto out;
	for (int i = 0; i < K; i++) {
		if (enter_ns(empty) || apply(&ce, id++, &first[i]) || enter_ns(full) ||
		    apply(&cf, id++, &last[i]) || bare_batch(&cf, i, &bare[i]))
			goto out;
	}
	a = median(first, K);
	b = median(last, K);
	c = median(bare, K);
	printf("bench: nf_apply_on_empty_host_ms %.2f ms\n", a * 1e3);
	printf("bench: nf_apply_with_%d_vps_ms %.2f ms\n", n, b * 1e3);
	printf("bench: nf_apply_ratio %.2f (with %d VPS / empty host; goal: no growth)\n", b / a,
	       n);
	printf("bench: iptables_restore_one_chain_ms %.2f ms (bare single-table batch, same run)\n",
	       c * 1e3);
	printf("bench: nf_apply_vs_iptables_restore_ratio %.2f (with %d VPS; goal <= 1.5)\n", b / c,
	       n);
	rc = 0;
out:
	net_ctx_dispose(&ce);
	net_ctx_dispose(&cf);
	return rc;
}

static int bench_fill(const char *state, const char *ns, int first, int last)
{
	net_ctx c;
	int rc = 0;

	if (ctx_in(&c, ns, state))
		return 1;
	for (int id = first; id <= last && rc == 0; id++)
		rc = apply(&c, id, NULL);
	net_ctx_dispose(&c);
	return rc ? 1 : 0;
}

static int udp_socket(void)
{
	int fd = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0), big = 8 << 20;

	if (fd >= 0)
		setsockopt(fd, SOL_SOCKET, SO_RCVBUF, &big, sizeof(big));
	return fd;
}

static int udp_sink(int port, double seconds)
{
	struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
	struct timeval tv = {.tv_usec = 100000};
	char buf[2048];
	long long got = 0;
	double t0 = 0, end;
	int fd = udp_socket();

	if (fd < 0 || bind(fd, (struct sockaddr *)&a, sizeof(a)) != 0) {
		perror("udp-sink");
		return 1;
	}
	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	end = now_s(CLOCK_MONOTONIC) + seconds + 10; /* the first datagram starts the clock */
	while (now_s(CLOCK_MONOTONIC) < end) {
		if (recv(fd, buf, sizeof(buf), 0) < 0)
			continue;
		if (got++ == 0) {
			t0 = now_s(CLOCK_MONOTONIC);
			end = t0 + seconds;
		}
	}
	close(fd);
	printf("pps %.0f\n", got > 1 ? (double)(got - 1) / (now_s(CLOCK_MONOTONIC) - t0) : 0.0);
	return 0;
}

static int udp_flood(const char *dst, int port, double seconds)
{
	struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port)};
	char payload[18] = "xvps-netbench-pps";
	double end = now_s(CLOCK_MONOTONIC) + seconds;
	int fd = udp_socket();

	if (fd < 0 || inet_pton(AF_INET, dst, &a.sin_addr) != 1 ||
	    connect(fd, (struct sockaddr *)&a, sizeof(a)) != 0) {
		perror("udp-flood");
		return 1;
	}
	while (now_s(CLOCK_MONOTONIC) < end)
		for (int i = 0; i < 64; i++)
			(void)!send(fd, payload, sizeof(payload), 0);
	close(fd);
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
	const char *cmd = argc > 1 ? argv[1] : "";
	net_ctx ctx;
	int n = argc > 2 ? atoi(argv[2]) : 0, rc;

	if (strcmp(cmd, "udp-sink") == 0 && argc == 4)
		return udp_sink(atoi(argv[2]), atof(argv[3]));
	if (strcmp(cmd, "udp-flood") == 0 && argc == 5)
		return udp_flood(argv[2], atoi(argv[3]), atof(argv[4]));
	if (!((strcmp(cmd, "chains") == 0 && argc == 5 && n >= 1 && n <= 100000) ||
	      (strcmp(cmd, "sweep") == 0 && argc == 3 && n >= 1 && n <= 100000) ||
	      (strcmp(cmd, "fill") == 0 && argc == 5))) {
		fprintf(stderr,
		        "usage: netbench chains N EMPTY_NETNS FULL_NETNS | fill NETNS FIRST "
		        "LAST | udp-sink PORT SECONDS | udp-flood DST PORT SECONDS | sweep N\n");
		return 2;
	}
	if (!mkdtemp(state))
		return 1;
	if (strcmp(cmd, "chains") == 0) {
		rc = bench_chains(state, n, argv[3], argv[4]);
	} else if (strcmp(cmd, "fill") == 0) {
		rc = bench_fill(state, argv[2], atoi(argv[3]), atoi(argv[4]));
	} else if (net_ctx_init(&ctx, runner_real(), true, "/sys/class/net", state, err)) {
		fprintf(stderr, "netbench: %s\n", err);
		rc = 1;
	} else {
		rc = bench_sweep(&ctx, n);
		net_ctx_dispose(&ctx);
	}
	{
		char f[64];
		snprintf(f, sizeof(f), "%s/counters.json", state);
		unlink(f);
		rmdir(state);
	}
	return rc;
}
