/* netcount_internal.h — shared between the traffic counter's files: netcount.c (context,
 * accumulators, sweep), netcount_links.c (reading the vifs: sysfs or rtnetlink) and
 * netcount_store.c (counters.json). Not a public interface. Return convention (as net.h): 0 or
 * a negative errno, with a sentence in err (NET_ERRLEN bytes). */
#ifndef XVPS_NETCOUNT_INTERNAL_H
#define XVPS_NETCOUNT_INTERNAL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "net.h"

#define COUNTERS_FILE     "counters.json"
#define COUNTERS_VERSION  1
#define COUNTERS_MAX_SIZE (64u * 1024u * 1024u)
#define DEFAULT_SYSFS_NET "/sys/class/net"

/* <state_dir>/counters.json */
#define NETCOUNT_PATH_LEN 300

/* ---- accumulators (netcount.c) ---- */

/* qsort order of ctx->counters: by name. */
int netcount_cmp(const void *a, const void *b);
/* Index of name in v[0..n) (sorted), or -1. */
long netcount_find(const net_counter *v, size_t n, const char *name);
/* <state_dir>/counters.json into path; false when it does not fit. */
bool netcount_path(const net_ctx *ctx, char path[NETCOUNT_PATH_LEN]);

/* ---- persistence (netcount_store.c) ---- */

/* Writes every accumulator to counters.json atomically. Caller holds ctx->lock. */
int netcount_persist(net_ctx *ctx, char err[NET_ERRLEN]);
/* Loads counters.json into ctx->counters (a missing file: none). */
int netcount_load(net_ctx *ctx, char err[NET_ERRLEN]);

/* ---- reading the vifs (netcount_links.c) ---- */

typedef struct link_stat {
	char name[16];
	int ifindex;
	uint64_t raw[4]; /* as sysfs: rx_bytes, tx_bytes, rx_packets, tx_packets */
} link_stat;

typedef struct link_table {
	link_stat *v;
	size_t n, cap;
} link_table;

/* A vif's ifindex and raw statistics (rx_bytes, tx_bytes, rx_packets, tx_packets) from sysfs,
 * every file relative to one fd of the vif's directory. False when the vif does not exist or
 * vanished while being read. */
bool netcount_read_vif(int netfd, const char *vifname, int *ifindex, uint64_t raw[4]);
/* Every NET_VIF_PREFIX* link of the agent's network namespace (rtnetlink), sorted by name. */
int netcount_dump_links(link_table *t, char err[NET_ERRLEN]);
/* The dumped link named vifname: true with *ifindex and raw, else false. */
bool netcount_lookup_link(const link_table *t, const char *vifname, int *ifindex, uint64_t raw[4]);

#endif
