/* ipam.h — IP address management for xvpsd: pool geometry (network, broadcast, gateway,
 * reserved addresses) and allocation of single addresses to VPS inside the caller's SQLite
 * transaction. It never commits, never talks to the agent and never hands out an address twice. */
#ifndef XVPS_IPAM_H
#define XVPS_IPAM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define IPAM_ADDR_MAX     64   /* buffer size for a textual address */
#define IPAM_MAX_RESERVED 1024 /* reserved entries per pool */
/* Pool sizes are shown as JSON numbers: cap them at 2^53 - 1 (exact in a double). */
#define IPAM_SIZE_CAP 9007199254740991ULL

/* A pool as parsed from its row or from an API request. Addresses are network-order bytes
 * (4 used for family 4, 16 for family 6). */
typedef struct ipam_pool {
	int64_t id;
	int family; /* 4 | 6 */
	uint8_t net[16];
	int prefix;              /* 8..30 for IPv4, 16..126 for IPv6 */
	uint8_t gw[16];          /* gateway: inside the network, not network/broadcast */
	uint8_t (*reserved)[16]; /* n_reserved addresses (heap), inside the network */
	size_t n_reserved;
} ipam_pool;

/* Parses a pool from its textual parts (the API's "cidr", "gateway" and the reserved list as
 * an array of C strings) and checks it: prefix range per family, gateway inside and usable,
 * reserved entries valid addresses inside the network. Returns 0, or -EINVAL with *field_out
 * ("cidr" | "gateway" | "reserved") and *why_out (a static sentence) set. Free with
 * ipam_pool_dispose(). */
int ipam_pool_parse(int family, const char *cidr, const char *gateway, const char *const *reserved,
                    size_t n_reserved, ipam_pool *out, const char **field_out,
                    const char **why_out);
void ipam_pool_dispose(ipam_pool *p);

/* Loads a pool row by id (0, -ENOENT, -EIO). */
int ipam_pool_load(int64_t pool_id, ipam_pool *out);

/* Canonical text of an address (inet_ntop) into out[IPAM_ADDR_MAX]. */
void ipam_format(int family, const uint8_t addr[16], char out[IPAM_ADDR_MAX]);
/* Canonical "network/prefix" of a pool into out[IPAM_ADDR_MAX + 4]. */
void ipam_format_cidr(const ipam_pool *p, char out[IPAM_ADDR_MAX + 4]);

/* Usable addresses of a pool: all host addresses minus network (and broadcast for IPv4),
 * the gateway and distinct reserved entries; capped at IPAM_SIZE_CAP. */
uint64_t ipam_pool_size(const ipam_pool *p);

/* True when the two networks share any address (same family). */
bool ipam_pools_overlap(const ipam_pool *a, const ipam_pool *b);

/* True when at least one pool of that family exists. */
bool ipam_have_family(int family);

/* Allocates the lowest free address of family (4 | 6) from the pools of that family (in id
 * order) to vps_id, inserting the ip_addresses row. Must run inside the caller's transaction
 * (db_begin); nothing is committed here. IPv4 skips network, broadcast, gateway and reserved;
 * IPv6 starts at network+1 and skips gateway and reserved.
 * Returns 0 with the address in addr_out (and the pool in *pool_id_out when not NULL);
 * -ENOENT when no pool of that family exists; -ENOSPC when every pool is full; -EIO on a
 * database error. On error nothing is inserted. */
int ipam_allocate(int family, int64_t vps_id, char addr_out[IPAM_ADDR_MAX], int64_t *pool_id_out);

/* Releases every address of vps_id (also done by ON DELETE CASCADE when the VPS row goes).
 * Returns the number of addresses released or -EIO. */
int ipam_release(int64_t vps_id);

#endif
