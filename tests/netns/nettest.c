/* nettest.c — the packet tool of the real-kernel suite (tests/netns/run.sh). Crafted frames go
 * out on AF_PACKET raw sockets, a sniffer counts matching frames, small TCP/UDP/ICMP helpers
 * measure and probe, and agent-call talks to xvps-agent. Every subcommand prints one line and
 * exits 0 (done / something matched) or 1 (failed / nothing matched); 2 means bad usage.
 * Run it inside a namespace with `ip netns exec`. No dependency beyond libc, json-c, common/. */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "../../common/agent_proto.h"
#include "../../common/jsonutil.h"
#include "../../common/util.h"
#include "nettest.h"

#define MAX_OPTS 16

/* ---- options: "--name value" pairs after the positional arguments ---------------------- */

static struct {
	const char *name, *val, *val2;
} opts[MAX_OPTS];
static int n_opts;

int usage(const char *msg)
{
	fprintf(stderr, "nettest: %s (see the comment of the subcommand in nettest.c)\n", msg);
	return 2;
}

/* Parses argv[first..] into opts; --match takes one or two values. False on junk. */
static bool parse_opts(int argc, char **argv, int first, const char *const allowed[])
{
	for (int i = first; i < argc;) {
		bool ok = false;
		for (int k = 0; allowed[k]; k++)
			ok = ok || strcmp(argv[i], allowed[k]) == 0;
		if (!ok || i + 1 >= argc || n_opts == MAX_OPTS)
			return false;
		opts[n_opts].name = argv[i];
		opts[n_opts].val = argv[i + 1];
		i += 2;
		if (strcmp(argv[i - 2], "--match") == 0 &&
		    (strcmp(argv[i - 1], "udp-payload") == 0 ||
		     strcmp(argv[i - 1], "arp-sender") == 0 ||
		     strcmp(argv[i - 1], "icmpv6-type") == 0 ||
		     strcmp(argv[i - 1], "na-target") == 0)) {
			if (i >= argc)
				return false;
			opts[n_opts].val2 = argv[i++];
		}
		n_opts++;
	}
	return true;
}

const char *opt(const char *name, const char *def)
{
	for (int i = n_opts - 1; i >= 0; i--)
		if (strcmp(opts[i].name, name) == 0)
			return opts[i].val;
	return def;
}

long opt_int(const char *name, long def, long min, long max)
{
	const char *s = opt(name, NULL);
	char *end;
	long v;

	if (!s)
		return def;
	errno = 0;
	v = strtol(s, &end, 10);
	if (errno || *end || end == s || v < min || v > max) {
		fprintf(stderr, "nettest: %s %s: not an integer in %ld..%ld\n", name, s, min, max);
		exit(2);
	}
	return v;
}

bool parse_mac(const char *s, uint8_t m[6])
{
	char c;

	return s && sscanf(s, "%2hhx:%2hhx:%2hhx:%2hhx:%2hhx:%2hhx%c", &m[0], &m[1], &m[2], &m[3],
	                   &m[4], &m[5], &c) == 6;
}

int parse_ip(const char *s, uint8_t a[16])
{
	if (!s)
		return 0;
	if (strchr(s, ':'))
		return inet_pton(AF_INET6, s, a) == 1 ? AF_INET6 : 0;
	return inet_pton(AF_INET, s, a) == 1 ? AF_INET : 0;
}

double now_s(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

void sleep_ms(long ms)
{
	struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};

	while (nanosleep(&ts, &ts) != 0 && errno == EINTR)
		;
}

void signal_ready(void)
{
	const char *f = opt("--ready-file", NULL);
	int fd;

	if (f && (fd = open(f, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600)) >= 0)
		close(fd);
}

bool opt_match(const char **kind, const char **arg)
{
	for (int i = n_opts - 1; i >= 0; i--)
		if (strcmp(opts[i].name, "--match") == 0) {
			*kind = opts[i].val;
			*arg = opts[i].val2;
			return true;
		}
	return false;
}

/* ---- sockets ------------------------------------------------------------------------ */

static bool sockaddr_of(const char *host, long port, struct sockaddr_storage *ss, socklen_t *len)
{
	uint8_t a[16];
	int af = parse_ip(host, a);

	memset(ss, 0, sizeof(*ss));
	if (af == AF_INET) {
		struct sockaddr_in *s4 = (struct sockaddr_in *)ss;
		s4->sin_family = AF_INET;
		s4->sin_port = htons((uint16_t)port);
		memcpy(&s4->sin_addr, a, 4);
		*len = sizeof(*s4);
	} else if (af == AF_INET6) {
		struct sockaddr_in6 *s6 = (struct sockaddr_in6 *)ss;
		s6->sin6_family = AF_INET6;
		s6->sin6_port = htons((uint16_t)port);
		memcpy(&s6->sin6_addr, a, 16);
		*len = sizeof(*s6);
	}
	return af != 0;
}

/* A dual-stack socket of type bound to [::]:port (listening for TCP). -1 on error. */
static int bind_any(int type, long port)
{
	struct sockaddr_in6 s6 = {.sin6_family = AF_INET6, .sin6_port = htons((uint16_t)port)};
	int fd = socket(AF_INET6, type | SOCK_CLOEXEC, 0), zero = 0, one = 1;

	if (fd < 0)
		return -1;
	setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &zero, sizeof(zero));
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (bind(fd, (struct sockaddr *)&s6, sizeof(s6)) != 0 ||
	    (type == SOCK_STREAM && listen(fd, 64) != 0)) {
		close(fd);
		return -1;
	}
	return fd;
}

/* Waits until fd is readable or the deadline (monotonic seconds) passes. */
static bool wait_in(int fd, double end)
{
	struct pollfd p = {.fd = fd, .events = POLLIN};
	double left = end - now_s();

	return left > 0 && poll(&p, 1, (int)(left * 1000.0) + 1) == 1;
}

/* tcp-listen PORT --timeout-ms N [--stop-after N] [--ready-file PATH]: accepts (and closes)
 * connections until the timeout; exit 0 when at least one came. */
static int cmd_tcp_listen(long port)
{
	long timeout = opt_int("--timeout-ms", 10000, 1, 600000);
	long stop_after = opt_int("--stop-after", 0, 0, 1000000), n = 0;
	double end = now_s() + (double)timeout / 1000.0;
	int fd = bind_any(SOCK_STREAM, port), c;

	if (fd < 0) {
		printf("tcp-listen %ld: %s\n", port, strerror(errno));
		return 1;
	}
	signal_ready();
	while ((!stop_after || n < stop_after) && wait_in(fd, end))
		if ((c = accept(fd, NULL, NULL)) >= 0) {
			n++;
			close(c);
		}
	close(fd);
	printf("tcp-listen %ld: %ld connection(s)\n", port, n);
	return n > 0 ? 0 : 1;
}

/* Connects to host:port within timeout_ms; fd or -1 with *why set. */
static int tcp_connect(const char *host, long port, long timeout_ms, const char **why)
{
	struct sockaddr_storage ss;
	socklen_t sl;
	int fd, soerr = 0;
	socklen_t el = sizeof(soerr);
	struct pollfd p;

	*why = "bad address";
	if (!sockaddr_of(host, port, &ss, &sl))
		return -1;
	fd = socket(ss.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd < 0 || (connect(fd, (struct sockaddr *)&ss, sl) != 0 && errno != EINPROGRESS)) {
		*why = strerror(errno);
		if (fd >= 0)
			close(fd);
		return -1;
	}
	p = (struct pollfd){.fd = fd, .events = POLLOUT};
	if (poll(&p, 1, (int)timeout_ms) != 1) {
		*why = "timed out";
		close(fd);
		return -1;
	}
	if (getsockopt(fd, SOL_SOCKET, SO_ERROR, &soerr, &el) != 0 || soerr) {
		*why = strerror(soerr ? soerr : errno);
		close(fd);
		return -1;
	}
	fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) & ~O_NONBLOCK);
	return fd;
}

/* tcp-connect HOST PORT [--timeout-ms N]: exit 0 when the connection is established. */
static int cmd_tcp_connect(const char *host, long port)
{
	const char *why;
	int fd = tcp_connect(host, port, opt_int("--timeout-ms", 5000, 1, 600000), &why);

	if (fd < 0) {
		printf("tcp-connect %s %ld: not connected: %s\n", host, port, why);
		return 1;
	}
	close(fd);
	printf("tcp-connect %s %ld: connected\n", host, port);
	return 0;
}

/* tcp-send HOST PORT [--seconds S | --bytes N] [--timeout-ms N]: writes as fast as the path
 * allows for S seconds (small send buffer: the sender's time is the transfer's), or exactly N
 * bytes (1..2^40, the ledger test's known amount) whatever the time, then waits for the
 * receiver to close. */
static int cmd_tcp_send(const char *host, long port)
{
	long secs = opt_int("--seconds", 3, 1, 600),
	     timeout = opt_int("--timeout-ms", 30000, 1, 600000);
	uint64_t want_bytes = (uint64_t)opt_int("--bytes", 0, 1, 1L << 40);
	int sndbuf = 65536, fd;
	const char *why;
	static char buf[16384];
	uint64_t total = 0;
	double t0, end;

	fd = tcp_connect(host, port, timeout, &why);
	if (fd < 0) {
		printf("tcp-send %s %ld: not connected: %s\n", host, port, why);
		return 1;
	}
	setsockopt(fd, SOL_SOCKET, SO_SNDBUF, &sndbuf, sizeof(sndbuf));
	memset(buf, 'x', sizeof(buf));
	t0 = now_s();
	end = t0 + (double)secs;
	while (want_bytes ? total < want_bytes : now_s() < end) {
		size_t len = want_bytes && want_bytes - total < sizeof(buf)
		                     ? (size_t)(want_bytes - total)
		                     : sizeof(buf);
		ssize_t n = send(fd, buf, len, MSG_NOSIGNAL);
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0) {
			printf("tcp-send %s %ld: send: %s after %llu bytes\n", host, port,
			       strerror(errno), (unsigned long long)total);
			close(fd);
			return 1;
		}
		total += (uint64_t)n;
	}
	shutdown(fd, SHUT_WR);
	while (wait_in(fd, now_s() + (double)timeout / 1000.0) && read(fd, buf, sizeof(buf)) > 0)
		;
	close(fd);
	printf("tcp-send %s %ld: %llu bytes in %.2f s\n", host, port, (unsigned long long)total,
	       now_s() - t0);
	return 0;
}

/* tcp-recv PORT [--timeout-ms N] [--skip-ms N (500)] [--ready-file PATH]: accepts one
 * connection, reads to EOF and prints the rate from --skip-ms after the first byte (the
 * shaper's burst) to the last byte: "... rate_mbit=R". */
static int cmd_tcp_recv(long port)
{
	long timeout = opt_int("--timeout-ms", 60000, 1, 600000);
	double skip = (double)opt_int("--skip-ms", 500, 0, 60000) / 1000.0;
	double end = now_s() + (double)timeout / 1000.0, t_first = 0, t_mark = 0, t_last = 0;
	uint64_t total = 0, at_mark = 0;
	static char buf[65536];
	int lfd = bind_any(SOCK_STREAM, port), fd;
	ssize_t n;

	if (lfd < 0) {
		printf("tcp-recv %ld: %s\n", port, strerror(errno));
		return 1;
	}
	signal_ready();
	if (!wait_in(lfd, end) || (fd = accept(lfd, NULL, NULL)) < 0) {
		printf("tcp-recv %ld: no connection\n", port);
		close(lfd);
		return 1;
	}
	close(lfd);
	while (wait_in(fd, end) && (n = read(fd, buf, sizeof(buf))) > 0) {
		double t = now_s();
		if (!total)
			t_first = t;
		total += (uint64_t)n;
		if (!t_mark && t - t_first >= skip) {
			t_mark = t;
			at_mark = total;
		}
		t_last = t;
	}
	close(fd);
	if (!t_mark || t_last - t_mark < 0.5) {
		printf("tcp-recv %ld: %llu bytes, too short to measure past the first %.1f s\n",
		       port, (unsigned long long)total, skip);
		return 1;
	}
	printf("tcp-recv %ld: %llu bytes, %llu in %.2f s after the first %.1f s: rate_mbit=%.2f\n",
	       port, (unsigned long long)total, (unsigned long long)(total - at_mark),
	       t_last - t_mark, skip, (double)(total - at_mark) * 8.0 / 1e6 / (t_last - t_mark));
	return 0;
}

/* udp-recv PORT --timeout-ms N [--match TEXT] [--stop-after N] [--ready-file PATH]: counts
 * datagrams (containing TEXT) on [::]:PORT; exit 0 when at least one came. */
static int cmd_udp_recv(long port)
{
	long timeout = opt_int("--timeout-ms", 10000, 1, 600000);
	long stop_after = opt_int("--stop-after", 0, 0, 1000000), seen = 0;
	const char *text = opt("--match", "");
	double end = now_s() + (double)timeout / 1000.0;
	int fd = bind_any(SOCK_DGRAM, port);
	static char buf[65536];
	ssize_t n;

	if (fd < 0) {
		printf("udp-recv %ld: %s\n", port, strerror(errno));
		return 1;
	}
	signal_ready();
	while ((!stop_after || seen < stop_after) && wait_in(fd, end))
		if ((n = recv(fd, buf, sizeof(buf), MSG_DONTWAIT)) >= 0 &&
		    memmem(buf, (size_t)n, text, strlen(text)))
			seen++;
	close(fd);
	printf("udp-recv %ld: %ld datagram(s) matching \"%s\"\n", port, seen, text);
	return seen > 0 ? 0 : 1;
}

/* ping DST [--timeout-ms N (10000)]: an ICMP(v6) echo request every second until a reply
 * comes (the first may wait for ARP / neighbour discovery); exit 0 on a reply. */
static int cmd_ping(const char *host)
{
	double end = now_s() + (double)opt_int("--timeout-ms", 10000, 1, 600000) / 1000.0;
	struct sockaddr_storage ss;
	socklen_t sl;
	uint8_t req[64] = {0}, buf[2048];
	uint16_t id = (uint16_t)getpid();
	int fd, tries = 0;
	bool v6;

	if (!sockaddr_of(host, 0, &ss, &sl))
		return usage("ping needs an IP address");
	v6 = ss.ss_family == AF_INET6;
	fd = socket(ss.ss_family, SOCK_RAW | SOCK_CLOEXEC, v6 ? IPPROTO_ICMPV6 : IPPROTO_ICMP);
	if (fd < 0) {
		printf("ping %s: raw socket: %s\n", host, strerror(errno));
		return 1;
	}
	while (now_s() < end) {
		double next = now_s() + 1.0;
		req[0] = v6 ? 128 : 8;
		put16(req + 2, 0);
		put16(req + 4, id);
		put16(req + 6, (uint16_t)++tries);
		memcpy(req + 8, "xvps-nettest-ping", 17);
		if (!v6)
			put16(req + 2, csum_fold(csum_add(0, req, sizeof(req))));
		if (sendto(fd, req, sizeof(req), 0, (struct sockaddr *)&ss, sl) < 0 &&
		    errno != EHOSTUNREACH && errno != ENETUNREACH) {
			printf("ping %s: sendto: %s\n", host, strerror(errno));
			break;
		}
		while (wait_in(fd, next < end ? next : end)) {
			ssize_t n = recv(fd, buf, sizeof(buf), MSG_DONTWAIT);
			size_t off = v6 ? 0 : (n > 0 ? (size_t)(buf[0] & 15) * 4 : 0);
			if (n < (ssize_t)(off + 8))
				continue;
			if (buf[off] == (v6 ? 129 : 0) &&
			    (buf[off + 4] << 8 | buf[off + 5]) == id) {
				close(fd);
				printf("ping %s: reply (attempt %d)\n", host, tries);
				return 0;
			}
		}
	}
	close(fd);
	printf("ping %s: no reply to %d echo request(s)\n", host, tries);
	return 1;
}

/* agent-call SOCK JSON [--timeout-ms N (120000)]: prints the response; exit 0 on "ok":true. */
static int cmd_agent_call(const char *sock, const char *text)
{
	json_object *req = json_parse_strict(text, strlen(text), NULL), *resp = NULL, *ok = NULL;
	int rc, ret;

	if (!req)
		return usage("agent-call: the request is not JSON");
	rc = agent_call(sock, req, (int)opt_int("--timeout-ms", 120000, 1, 600000), &resp);
	json_object_put(req);
	if (rc) {
		printf("{\"ok\":false,\"error\":\"nettest: agent_call: %s\"}\n", strerror(-rc));
		return 1;
	}
	ret = json_object_object_get_ex(resp, "ok", &ok) && json_object_get_boolean(ok) ? 0 : 1;
	printf("%s\n", json_compact(resp));
	json_object_put(resp);
	return ret;
}

int main(int argc, char **argv)
{
	static const char *const send_opts[] = {"--smac",
	                                        "--dmac",
	                                        "--src",
	                                        "--dst",
	                                        "--dport",
	                                        "--sport",
	                                        "--count",
	                                        "--payload",
	                                        "--size",
	                                        "--interval-ms",
	                                        "--op",
	                                        "--sender-ip",
	                                        "--target-ip",
	                                        "--target-mac",
	                                        "--target",
	                                        "--redirect-dst",
	                                        "--router-lifetime",
	                                        "--with-prefix",
	                                        "--src6",
	                                        NULL};
	static const char *const sniff_opts[] = {
	        "--timeout-ms", "--match",   "--arp-op", "--stop-after",
	        "--ready-file", "--promisc", NULL};
	static const char *const sock_opts[] = {
	        "--timeout-ms", "--stop-after", "--ready-file", "--seconds",
	        "--bytes",      "--skip-ms",    "--match",      NULL};
	const char *cmd = argc > 1 ? argv[1] : "";
	int npos = strcmp(cmd, "agent-call") == 0 || strncmp(cmd, "tcp-", 4) == 0 ? 2 : 1;
	long port = 0;

	setvbuf(stdout, NULL, _IOLBF, 0);
	srand((unsigned)getpid() ^ (unsigned)time(NULL));
	if (strcmp(cmd, "tcp-listen") == 0 || strcmp(cmd, "tcp-recv") == 0)
		npos = 1;
	if (argc < 2 + npos)
		return usage("usage: nettest SUBCOMMAND ARGS... [--option value]...");
	if (!parse_opts(argc, argv, 2 + npos,
	                strncmp(cmd, "send-", 5) == 0 ? send_opts
	                : strcmp(cmd, "sniff") == 0   ? sniff_opts
	                                              : sock_opts))
		return usage("unknown option, or an option without its value");
	if (strncmp(cmd, "tcp-", 4) == 0 || strcmp(cmd, "udp-recv") == 0) {
		char *e;
		port = strtol(argv[npos == 2 ? 3 : 2], &e, 10);
		if (*e || port < 1 || port > 65535)
			return usage("PORT must be 1..65535");
	}
	if (strcmp(cmd, "agent-call") == 0)
		return cmd_agent_call(argv[2], argv[3]);
	if (strcmp(cmd, "send-udp") == 0)
		return cmd_send_udp(argv[2]);
	if (strcmp(cmd, "send-arp") == 0)
		return cmd_send_arp(argv[2]);
	if (strcmp(cmd, "send-ra") == 0)
		return cmd_send_ra(argv[2]);
	if (strcmp(cmd, "send-redirect") == 0)
		return cmd_send_redirect(argv[2]);
	if (strcmp(cmd, "send-dhcp-offer") == 0)
		return cmd_send_dhcp_offer(argv[2]);
	if (strcmp(cmd, "send-na") == 0)
		return cmd_send_na(argv[2]);
	if (strcmp(cmd, "sniff") == 0)
		return cmd_sniff(argv[2]);
	if (strcmp(cmd, "ping") == 0)
		return cmd_ping(argv[2]);
	if (strcmp(cmd, "tcp-listen") == 0)
		return cmd_tcp_listen(port);
	if (strcmp(cmd, "tcp-recv") == 0)
		return cmd_tcp_recv(port);
	if (strcmp(cmd, "udp-recv") == 0)
		return cmd_udp_recv(port);
	if (strcmp(cmd, "tcp-connect") == 0)
		return cmd_tcp_connect(argv[2], port);
	if (strcmp(cmd, "tcp-send") == 0)
		return cmd_tcp_send(argv[2], port);
	return usage("unknown subcommand");
}
