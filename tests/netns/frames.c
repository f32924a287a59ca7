/* frames.c — the raw-frame half of nettest: crafted Ethernet frames (UDP over IPv4/IPv6, ARP,
 * router advertisement, ICMPv6 redirect, neighbour advertisement, DHCP offer) sent on AF_PACKET
 * sockets, and the sniffer that counts matching frames received on an interface. */
#include <arpa/inet.h>
#include <errno.h>
#include <linux/if_ether.h>
#include <linux/if_packet.h>
#include <net/if.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "nettest.h"

#define FRAME_MAX 1600

/* ---- frame building -------------------------------------------------------------------- */

uint32_t csum_add(uint32_t sum, const void *data, size_t len)
{
	const uint8_t *p = data;

	for (size_t i = 0; i + 1 < len; i += 2)
		sum += (uint32_t)(p[i] << 8 | p[i + 1]);
	if (len & 1)
		sum += (uint32_t)p[len - 1] << 8;
	return sum;
}

uint16_t csum_fold(uint32_t sum)
{
	while (sum >> 16)
		sum = (sum & 0xffff) + (sum >> 16);
	return (uint16_t)~sum;
}

void put16(uint8_t *p, uint16_t v)
{
	p[0] = (uint8_t)(v >> 8);
	p[1] = (uint8_t)v;
}

static void put32(uint8_t *p, uint32_t v)
{
	put16(p, (uint16_t)(v >> 16));
	put16(p + 2, (uint16_t)v);
}

static size_t put_eth(uint8_t *f, const uint8_t dmac[6], const uint8_t smac[6], uint16_t type)
{
	memcpy(f, dmac, 6);
	memcpy(f + 6, smac, 6);
	put16(f + 12, type);
	return 14;
}

/* IP header for an L4 payload of len bytes at f + returned offset; fills the L4 checksum at
 * f[off + csum_at] over the pseudo header (v6 always, v4 for UDP too). */
static size_t put_ip(uint8_t *f, int af, const uint8_t *src, const uint8_t *dst, uint8_t proto,
                     uint8_t ttl, uint8_t *l4, size_t len, size_t csum_at)
{
	uint32_t sum = 0;
	uint8_t pl[4];

	if (af == AF_INET) {
		memset(f, 0, 20);
		f[0] = 0x45;
		put16(f + 2, (uint16_t)(20 + len));
		put16(f + 4, (uint16_t)rand());
		f[8] = ttl;
		f[9] = proto;
		memcpy(f + 12, src, 4);
		memcpy(f + 16, dst, 4);
		put16(f + 10, csum_fold(csum_add(0, f, 20)));
		sum = csum_add(csum_add(sum, src, 4), dst, 4);
		sum = csum_add(sum, (uint8_t[]){0, proto}, 2);
		sum += (uint32_t)len;
	} else {
		memset(f, 0, 40);
		f[0] = 0x60;
		put16(f + 4, (uint16_t)len);
		f[6] = proto;
		f[7] = ttl;
		memcpy(f + 8, src, 16);
		memcpy(f + 24, dst, 16);
		sum = csum_add(csum_add(sum, src, 16), dst, 16);
		put32(pl, (uint32_t)len);
		sum = csum_add(sum, pl, 4);
		sum = csum_add(sum, (uint8_t[]){0, 0, 0, proto}, 4);
	}
	put16(l4 + csum_at, 0);
	uint16_t c = csum_fold(csum_add(sum, l4, len));
	put16(l4 + csum_at, c == 0 && proto == IPPROTO_UDP ? 0xffff : c);
	return af == AF_INET ? 20 : 40;
}

/* Builds eth + IP + L4 (already in l4[0..len)) into f; returns the frame length. */
static size_t build_ip_frame(uint8_t *f, const uint8_t dmac[6], const uint8_t smac[6], int af,
                             const uint8_t *src, const uint8_t *dst, uint8_t proto, uint8_t ttl,
                             uint8_t *l4, size_t len, size_t csum_at)
{
	size_t off = put_eth(f, dmac, smac, af == AF_INET ? ETH_P_IP : ETH_P_IPV6);
	uint8_t hdr[40];
	size_t hl = put_ip(hdr, af, src, dst, proto, ttl, l4, len, csum_at);

	memcpy(f + off, hdr, hl);
	memcpy(f + off + hl, l4, len);
	return off + hl + len;
}

/* The EUI-64 link-local address of a MAC. */
static void link_local(const uint8_t mac[6], uint8_t a[16])
{
	memset(a, 0, 16);
	a[0] = 0xfe;
	a[1] = 0x80;
	a[8] = mac[0] ^ 2;
	a[9] = mac[1];
	a[10] = mac[2];
	a[11] = 0xff;
	a[12] = 0xfe;
	memcpy(a + 13, mac + 3, 3);
}

/* Sends frame count times on ifname, interval_ms apart. 0 or 1 (message printed). */
static int send_frames(const char *cmd, const char *ifname, const uint8_t *f, size_t len)
{
	long count = opt_int("--count", 1, 1, 100000);
	long interval = opt_int("--interval-ms", 1, 0, 10000);
	struct sockaddr_ll sll = {.sll_family = AF_PACKET, .sll_halen = 6};
	int fd;

	sll.sll_ifindex = (int)if_nametoindex(ifname);
	if (sll.sll_ifindex == 0) {
		printf("%s: no interface %s\n", cmd, ifname);
		return 1;
	}
	memcpy(sll.sll_addr, f, 6);
	fd = socket(AF_PACKET, SOCK_RAW | SOCK_CLOEXEC, 0);
	if (fd < 0) {
		printf("%s: AF_PACKET socket: %s\n", cmd, strerror(errno));
		return 1;
	}
	for (long i = 0; i < count; i++) {
		if (sendto(fd, f, len, 0, (struct sockaddr *)&sll, sizeof(sll)) != (ssize_t)len) {
			printf("%s: sendto %s: %s (after %ld frames)\n", cmd, ifname,
			       strerror(errno), i);
			close(fd);
			return 1;
		}
		if (interval && i + 1 < count)
			sleep_ms(interval);
	}
	close(fd);
	printf("%s: sent %ld frame(s) of %zu bytes on %s\n", cmd, count, len, ifname);
	return 0;
}

static const uint8_t bcast[6] = {0xff, 0xff, 0xff, 0xff, 0xff, 0xff};

/* send-udp IFACE --smac MAC --dmac MAC --src IP --dst IP --dport N [--sport N] [--count N]
 *          [--payload TEXT] [--size N (pad the payload to N bytes)] [--interval-ms N] */
int cmd_send_udp(const char *ifname)
{
	uint8_t smac[6], dmac[6], src[16], dst[16], l4[1500], f[FRAME_MAX];
	const char *text = opt("--payload", "xvps-nettest");
	int af = parse_ip(opt("--src", NULL), src);
	size_t plen = strlen(text), size = (size_t)opt_int("--size", 0, 0, 1400);

	if (!parse_mac(opt("--smac", NULL), smac) || !parse_mac(opt("--dmac", NULL), dmac) || !af ||
	    parse_ip(opt("--dst", NULL), dst) != af || plen > 1400)
		return usage("send-udp needs --smac, --dmac, --src and --dst of one family");
	if (size < plen)
		size = plen;
	put16(l4, (uint16_t)opt_int("--sport", 40000, 1, 65535));
	put16(l4 + 2, (uint16_t)opt_int("--dport", 9, 1, 65535));
	put16(l4 + 4, (uint16_t)(8 + size));
	memcpy(l4 + 8, text, plen);
	memset(l4 + 8 + plen, '.', size - plen);
	return send_frames(
	        "send-udp", ifname, f,
	        build_ip_frame(f, dmac, smac, af, src, dst, IPPROTO_UDP, 64, l4, 8 + size, 6));
}

/* send-arp IFACE --op reply|request --smac MAC --sender-ip IP --target-ip IP [--dmac MAC]
 *          [--target-mac MAC] [--count N]; a gratuitous ARP when sender-ip == target-ip. */
int cmd_send_arp(const char *ifname)
{
	uint8_t smac[6], dmac[6], tmac[6] = {0}, sip[16], tip[16], f[64] = {0};
	const char *op = opt("--op", "");
	bool reply = strcmp(op, "reply") == 0;

	if ((!reply && strcmp(op, "request") != 0) || !parse_mac(opt("--smac", NULL), smac) ||
	    parse_ip(opt("--sender-ip", NULL), sip) != AF_INET ||
	    parse_ip(opt("--target-ip", NULL), tip) != AF_INET)
		return usage("send-arp needs --op reply|request, --smac, --sender-ip, --target-ip");
	if (!parse_mac(opt("--dmac", "ff:ff:ff:ff:ff:ff"), dmac))
		return usage("send-arp: bad --dmac");
	if (opt("--target-mac", NULL)) {
		if (!parse_mac(opt("--target-mac", NULL), tmac))
			return usage("send-arp: bad --target-mac");
	} else if (reply) {
		memcpy(tmac, memcmp(dmac, bcast, 6) == 0 ? smac : dmac, 6);
	}
	put_eth(f, dmac, smac, ETH_P_ARP);
	put16(f + 14, 1);
	put16(f + 16, ETH_P_IP);
	f[18] = 6;
	f[19] = 4;
	put16(f + 20, reply ? 2 : 1);
	memcpy(f + 22, smac, 6);
	memcpy(f + 28, sip, 4);
	memcpy(f + 32, tmac, 6);
	memcpy(f + 38, tip, 4);
	return send_frames("send-arp", ifname, f, 60);
}

/* send-ra IFACE --smac MAC [--dmac MAC] [--router-lifetime S (1800)] [--with-prefix 0|1 (1)]
 *         [--count N]: a router advertisement from the MAC's link-local address to ff02::1,
 *         with the prefix option 2001:db8:ffff::/64 unless --with-prefix 0 (a harmless RA for
 *         positive controls: lifetime 0 and no prefix reconfigure nobody). */
int cmd_send_ra(const char *ifname)
{
	uint8_t smac[6], dmac[6], src[16], dst[16], l4[64] = {0}, f[FRAME_MAX];
	size_t len = opt_int("--with-prefix", 1, 0, 1) ? 56 : 24;

	if (!parse_mac(opt("--smac", NULL), smac) ||
	    !parse_mac(opt("--dmac", "33:33:00:00:00:01"), dmac))
		return usage("send-ra needs --smac");
	link_local(smac, src);
	inet_pton(AF_INET6, "ff02::1", dst);
	l4[0] = 134;
	l4[4] = 64; /* cur hop limit */
	put16(l4 + 6, (uint16_t)opt_int("--router-lifetime", 1800, 0, 9000));
	l4[16] = 1; /* source link-layer address */
	l4[17] = 1;
	memcpy(l4 + 18, smac, 6);
	l4[24] = 3; /* prefix information */
	l4[25] = 4;
	l4[26] = 64;
	l4[27] = 0xc0; /* on-link, autonomous */
	put32(l4 + 28, 86400);
	put32(l4 + 32, 14400);
	inet_pton(AF_INET6, "2001:db8:ffff::", l4 + 40);
	return send_frames(
	        "send-ra", ifname, f,
	        build_ip_frame(f, dmac, smac, AF_INET6, src, dst, IPPROTO_ICMPV6, 255, l4, len, 2));
}

/* send-redirect IFACE --smac MAC [--dmac MAC] [--dst IP6 (ff02::1)] [--target IP6 (fe80::1)]
 *               [--redirect-dst IP6 (2001:db8:42::99)] [--count N]: ICMPv6 type 137. */
int cmd_send_redirect(const char *ifname)
{
	uint8_t smac[6], dmac[6], src[16], dst[16], l4[40] = {0}, f[FRAME_MAX];

	if (!parse_mac(opt("--smac", NULL), smac) ||
	    !parse_mac(opt("--dmac", "33:33:00:00:00:01"), dmac) ||
	    parse_ip(opt("--dst", "ff02::1"), dst) != AF_INET6 ||
	    parse_ip(opt("--target", "fe80::1"), l4 + 8) != AF_INET6 ||
	    parse_ip(opt("--redirect-dst", "2001:db8:42::99"), l4 + 24) != AF_INET6)
		return usage(
		        "send-redirect needs --smac (and IPv6 --dst, --target, --redirect-dst)");
	link_local(smac, src);
	l4[0] = 137;
	return send_frames(
	        "send-redirect", ifname, f,
	        build_ip_frame(f, dmac, smac, AF_INET6, src, dst, IPPROTO_ICMPV6, 255, l4, 40, 2));
}

/* send-na IFACE --smac MAC --target IP6 [--src6 IP6 (the MAC's link-local)] [--dmac MAC]
 *         [--dst IP6 (ff02::1)] [--count N]: an unsolicited neighbour advertisement (ICMPv6
 *         type 136) with the override flag and a target link-layer address option (--smac):
 *         "TARGET is at this MAC now", what poisons a neighbour cache when TARGET is not ours. */
int cmd_send_na(const char *ifname)
{
	uint8_t smac[6], dmac[6], src[16], dst[16], l4[32] = {0}, f[FRAME_MAX];

	if (!parse_mac(opt("--smac", NULL), smac) ||
	    !parse_mac(opt("--dmac", "33:33:00:00:00:01"), dmac) ||
	    parse_ip(opt("--dst", "ff02::1"), dst) != AF_INET6 ||
	    parse_ip(opt("--target", ""), l4 + 8) != AF_INET6)
		return usage("send-na needs --smac and an IPv6 --target (and IPv6 --src6, --dst)");
	link_local(smac, src);
	if (opt("--src6", NULL) && parse_ip(opt("--src6", NULL), src) != AF_INET6)
		return usage("send-na: bad --src6");
	l4[0] = 136;
	l4[4] = 0x20; /* override */
	l4[24] = 2;   /* target link-layer address */
	l4[25] = 1;
	memcpy(l4 + 26, smac, 6);
	return send_frames(
	        "send-na", ifname, f,
	        build_ip_frame(f, dmac, smac, AF_INET6, src, dst, IPPROTO_ICMPV6, 255, l4, 32, 2));
}

/* send-dhcp-offer IFACE --smac MAC --src IP [--dmac MAC] [--count N]: a DHCPOFFER, UDP
 * 67 -> 68, to 255.255.255.255. */
int cmd_send_dhcp_offer(const char *ifname)
{
	uint8_t smac[6], dmac[6], src[16], dst[4] = {255, 255, 255, 255}, l4[320] = {0};
	uint8_t f[FRAME_MAX], *b = l4 + 8;

	if (!parse_mac(opt("--smac", NULL), smac) ||
	    !parse_mac(opt("--dmac", "ff:ff:ff:ff:ff:ff"), dmac) ||
	    parse_ip(opt("--src", NULL), src) != AF_INET)
		return usage("send-dhcp-offer needs --smac and an IPv4 --src");
	put16(l4, 67);
	put16(l4 + 2, 68);
	put16(l4 + 4, 8 + 300);
	b[0] = 2; /* BOOTREPLY */
	b[1] = 1;
	b[2] = 6;
	put32(b + 4, 0x78767073);
	inet_pton(AF_INET, "192.0.2.200", b + 16); /* yiaddr */
	memcpy(b + 20, src, 4);                    /* siaddr */
	memset(b + 28, 0xff, 6);                   /* chaddr */
	put32(b + 236, 0x63825363);
	memcpy(b + 240, (uint8_t[]){53, 1, 2, 54, 4}, 5);
	memcpy(b + 245, src, 4);
	b[249] = 255;
	return send_frames(
	        "send-dhcp-offer", ifname, f,
	        build_ip_frame(f, dmac, smac, AF_INET, src, dst, IPPROTO_UDP, 64, l4, 308, 6));
}

/* ---- sniffing ------------------------------------------------------------------------- */

typedef struct match {
	const char *kind, *arg;
	uint8_t ip[16];
	int arp_op;    /* 0 any, 1 request, 2 reply */
	int icmp_type; /* icmpv6-type / ra */
} match;

/* True when the received frame f[0..len) matches m. Only untagged frames are parsed. */
static bool frame_matches(const match *m, const uint8_t *f, size_t len)
{
	uint16_t type;
	const uint8_t *l4;
	size_t l4len;
	int proto;

	if (len < 14)
		return false;
	type = (uint16_t)(f[12] << 8 | f[13]);
	if (type == ETH_P_ARP) {
		if (strcmp(m->kind, "arp-sender") != 0 || len < 42)
			return false;
		return memcmp(f + 28, m->ip, 4) == 0 &&
		       (m->arp_op == 0 || (f[20] << 8 | f[21]) == m->arp_op);
	}
	if (type == ETH_P_IP && len >= 34 && (f[14] >> 4) == 4) {
		size_t ihl = (size_t)(f[14] & 15) * 4;
		size_t tot = (size_t)(f[16] << 8 | f[17]);
		if (ihl < 20 || tot < ihl || 14 + tot > len)
			return false;
		proto = f[23];
		l4 = f + 14 + ihl;
		l4len = tot - ihl;
	} else if (type == ETH_P_IPV6 && len >= 54 && (f[14] >> 4) == 6) {
		size_t plen = (size_t)(f[18] << 8 | f[19]);
		if (54 + plen > len)
			return false;
		proto = f[20];
		l4 = f + 54;
		l4len = plen;
	} else {
		return false;
	}
	if (proto == IPPROTO_UDP && l4len >= 8) {
		uint16_t sport = (uint16_t)(l4[0] << 8 | l4[1]),
		         dport = (uint16_t)(l4[2] << 8 | l4[3]);
		if (strcmp(m->kind, "udp-payload") == 0)
			return memmem(l4 + 8, l4len - 8, m->arg, strlen(m->arg)) != NULL;
		if (strcmp(m->kind, "dhcp-offer") == 0)
			return type == ETH_P_IP && sport == 67 && dport == 68 && l4len >= 9 &&
			       l4[8] == 2;
		return false;
	}
	if (proto == IPPROTO_ICMPV6 && type == ETH_P_IPV6 && strcmp(m->kind, "na-target") == 0)
		return l4len >= 24 && l4[0] == 136 && memcmp(l4 + 8, m->ip, 16) == 0;
	if (proto == IPPROTO_ICMPV6 && type == ETH_P_IPV6 && l4len >= 4)
		return m->icmp_type >= 0 && l4[0] == m->icmp_type;
	return false;
}

/* sniff IFACE --timeout-ms N --match udp-payload TEXT | arp-sender IP | ra | icmpv6-type N |
 *       na-target IP6 | dhcp-offer [--arp-op reply|request] [--stop-after N] [--ready-file PATH]
 *       [--promisc 1]: counts matching frames received on IFACE (never its own outgoing ones)
 *       for the whole timeout, or until --stop-after matches; exit 0 when >= 1 matched. */
int cmd_sniff(const char *ifname)
{
	match m = {.icmp_type = -1};
	long timeout = opt_int("--timeout-ms", -1, 1, 600000);
	long stop_after = opt_int("--stop-after", 0, 0, 1000000);
	struct packet_mreq mr = {.mr_type = PACKET_MR_PROMISC};
	struct sockaddr_ll sll = {.sll_family = AF_PACKET, .sll_protocol = htons(ETH_P_ALL)};
	uint8_t f[65536];
	long seen = 0;
	double end;
	int fd;

	if (timeout < 0 || !opt_match(&m.kind, &m.arg))
		return usage("sniff needs --timeout-ms and --match");
	if (strcmp(m.kind, "arp-sender") == 0) {
		const char *op = opt("--arp-op", "any");
		if (parse_ip(m.arg, m.ip) != AF_INET)
			return usage("sniff: arp-sender needs an IPv4 address");
		m.arp_op = strcmp(op, "request") == 0 ? 1 : strcmp(op, "reply") == 0 ? 2 : 0;
	} else if (strcmp(m.kind, "na-target") == 0) {
		if (parse_ip(m.arg, m.ip) != AF_INET6)
			return usage("sniff: na-target needs an IPv6 address");
	} else if (strcmp(m.kind, "ra") == 0) {
		m.icmp_type = 134;
	} else if (strcmp(m.kind, "icmpv6-type") == 0) {
		char *e;
		m.icmp_type = (int)strtol(m.arg, &e, 10);
		if (*e || m.icmp_type < 0 || m.icmp_type > 255)
			return usage("sniff: icmpv6-type needs 0..255");
	} else if (strcmp(m.kind, "udp-payload") != 0 && strcmp(m.kind, "dhcp-offer") != 0) {
		return usage("sniff: unknown --match kind");
	}
	sll.sll_ifindex = (int)if_nametoindex(ifname);
	if (sll.sll_ifindex == 0) {
		printf("sniff: no interface %s\n", ifname);
		return 1;
	}
	fd = socket(AF_PACKET, SOCK_RAW | SOCK_CLOEXEC, htons(ETH_P_ALL));
	if (fd < 0 || bind(fd, (struct sockaddr *)&sll, sizeof(sll)) != 0) {
		printf("sniff: AF_PACKET on %s: %s\n", ifname, strerror(errno));
		if (fd >= 0)
			close(fd);
		return 1;
	}
	mr.mr_ifindex = sll.sll_ifindex;
	if (opt_int("--promisc", 0, 0, 1) &&
	    setsockopt(fd, SOL_PACKET, PACKET_ADD_MEMBERSHIP, &mr, sizeof(mr)) != 0) {
		printf("sniff: promiscuous mode on %s: %s\n", ifname, strerror(errno));
		close(fd);
		return 1;
	}
	signal_ready();
	end = now_s() + (double)timeout / 1000.0;
	for (;;) {
		double left = end - now_s();
		struct pollfd p = {.fd = fd, .events = POLLIN};
		struct sockaddr_ll from;
		socklen_t fl = sizeof(from);
		ssize_t n;

		if (left <= 0 || (stop_after && seen >= stop_after))
			break;
		if (poll(&p, 1, (int)(left * 1000.0) + 1) <= 0)
			continue;
		n = recvfrom(fd, f, sizeof(f), MSG_DONTWAIT, (struct sockaddr *)&from, &fl);
		if (n <= 0 || from.sll_ifindex != sll.sll_ifindex ||
		    from.sll_pkttype == PACKET_OUTGOING)
			continue;
		if (frame_matches(&m, f, (size_t)n))
			seen++;
	}
	close(fd);
	printf("sniff %s: %ld matching frame(s) (%s%s%s)\n", ifname, seen, m.kind, m.arg ? " " : "",
	       m.arg ? m.arg : "");
	return seen >= 1 ? 0 : 1;
}
