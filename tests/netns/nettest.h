/* nettest.h — what the two halves of the packet tool share: nettest.c (options, sockets,
 * ICMP, agent-call, main) and frames.c (crafted frames on AF_PACKET and the sniffer). */
#ifndef XVPS_NETTEST_H
#define XVPS_NETTEST_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Prints msg to stderr and returns 2 (bad usage). */
int usage(const char *msg);

/* The value of option "--name" (the last one given), or def. */
const char *opt(const char *name, const char *def);

/* An integer option in [min, max], or def when absent; exits 2 on junk. */
long opt_int(const char *name, long def, long min, long max);

/* The kind and the optional argument of "--match KIND [ARG]"; false when absent. */
bool opt_match(const char **kind, const char **arg);

bool parse_mac(const char *s, uint8_t m[6]);

/* An IPv4 or IPv6 address into a[16]; returns AF_INET/AF_INET6, or 0 when it is neither. */
int parse_ip(const char *s, uint8_t a[16]);

double now_s(void); /* CLOCK_MONOTONIC in seconds */
void sleep_ms(long ms);

/* Creates --ready-file (when given) once the caller listens: run.sh waits for it. */
void signal_ready(void);

/* Internet checksum: accumulate, then fold and complement. */
uint32_t csum_add(uint32_t sum, const void *data, size_t len);
uint16_t csum_fold(uint32_t sum);
void put16(uint8_t *p, uint16_t v);

/* frames.c: the subcommands on raw frames (see the comment above each). */
int cmd_send_udp(const char *ifname);
int cmd_send_arp(const char *ifname);
int cmd_send_ra(const char *ifname);
int cmd_send_redirect(const char *ifname);
int cmd_send_dhcp_offer(const char *ifname);
int cmd_send_na(const char *ifname);
int cmd_sniff(const char *ifname);

#endif
