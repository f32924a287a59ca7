/* ipam.h — IP address management for xvpsd: pool geometry (network, broadcast, gateway,
 * reserved addresses), allocation of single addresses and of routed IPv6 /64s to VPS inside the
 * caller's SQLite transaction, and the two-step release of addresses (a row marked 'releasing'
 * stays taken until the agent applied a spec without it). It never commits, never talks to the
 * agent and never hands out an address (or a /64) twice. The address arithmetic is in
 * ipam_addr.c, the database code in ipam.c.
 * Return convention: int functions return 0 (or a count) on success and -errno on error, the
 * errno naming the reason (-ENOENT, -EINVAL, -EEXIST, -ENOSPC, -EDQUOT, -EIO: see each). */
#ifndef XVPS_IPAM_H
#define XVPS_IPAM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define IPAM_ADDR_MAX     64   /* buffer size for a textual address */
#define IPAM_MAX_RESERVED 1024 /* reserved entries per pool */
/* Pool sizes are shown as JSON numbers: cap them at 2^53 - 1 (exact in a double). */
#define IPAM_SIZE_CAP 9007199254740991ULL
/* Addresses of one family a VPS may hold, primary and extra, releasing ones included (the
 * agent's SPEC_MAX_ADDRS). */
#define IPAM_MAX_PER_VPS 64
/* A routed pool hands out /64s: its network is /IPAM_ROUTED_MIN../IPAM_ROUTED_MAX. */
#define IPAM_ROUTED_PREFIX 64
#define IPAM_ROUTED_MIN    32
#define IPAM_ROUTED_MAX    63

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
	int vps_prefix; /* 0: one address per VPS; 64: each VPS gets a routed /64 (IPv6 only) */
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

/* Sets what a parsed pool hands out from the API's "vps_prefix" (-1: absent): IPv4 accepts only
 * 32, IPv6 128 (one address) or 64 (routed /64s, which needs a /32../63 network so that it holds
 * at least two /64s). Returns 0, or -EINVAL with *field_out ("vps_prefix" | "cidr") and *why_out
 * set. */
int ipam_pool_set_vps_prefix(ipam_pool *p, int64_t vps_prefix, const char **field_out,
                             const char **why_out);
/* The API's "vps_prefix" of a pool: 32, 128 or 64. */
int ipam_pool_vps_prefix(const ipam_pool *p);

/* Loads a pool row by id (0, -ENOENT, -EIO). */
int ipam_pool_load(int64_t pool_id, ipam_pool *out);

/* Canonical text of an address (inet_ntop) into out[IPAM_ADDR_MAX]. */
void ipam_format(int family, const uint8_t addr[16], char out[IPAM_ADDR_MAX]);
/* Canonical "network/prefix" of a pool into out[IPAM_ADDR_MAX + 4]. */
void ipam_format_cidr(const ipam_pool *p, char out[IPAM_ADDR_MAX + 4]);

/* Display text of an assigned address: "192.0.2.7", or "2001:db8:1:2::/64" for a routed
 * prefix (prefix_len 64) into out[IPAM_ADDR_MAX]. */
void ipam_format_assigned(const char *address, int prefix_len, char out[IPAM_ADDR_MAX]);

/* Usable addresses of a pool: all host addresses minus network (and broadcast for IPv4),
 * the gateway and distinct reserved entries; for a routed pool the /64s minus those holding the
 * gateway or a reserved address; capped at IPAM_SIZE_CAP. */
uint64_t ipam_pool_size(const ipam_pool *p);

/* True when the two networks share any address (same family). */
bool ipam_pools_overlap(const ipam_pool *a, const ipam_pool *b);

/* True when at least one pool of that family exists. */
bool ipam_have_family(int family);

/* What ipam_assign() should give a VPS. */
typedef struct ipam_want {
	int family;          /* 4 | 6 */
	int64_t pool_id;     /* 0: the pools of that family in id order */
	const char *address; /* NULL: the lowest free one; else exactly this address (in a routed
	                        pool: the network address of a /64, "/64" optional) */
	bool extra;          /* added by an admin beyond the VPS's own (ip_addresses.extra) */
} ipam_want;

/* What ipam_assign() gave, or why not. */
typedef struct ipam_got {
	char address[IPAM_ADDR_MAX]; /* canonical text as stored; a /64: its network address */
	int prefix_len;              /* 0: one address; 64: a routed /64 */
	int64_t pool_id;
	const char *field; /* on an error: the API field to blame ("pool" | "address") or NULL */
	const char *why;   /* on an error: a static English sentence */
} ipam_got;

/* Assigns an address (or a /64 from a routed pool) to vps_id and inserts its ip_addresses row
 * (state 'active'). Must run inside the caller's transaction (db_begin); nothing is committed
 * here. Single addresses: IPv4 skips network, broadcast, gateway and reserved; IPv6 starts at
 * network+1 and skips gateway and reserved. Routed pools: the lowest free /64, skipping the
 * /64 holding the gateway and those holding a reserved address. A row in state 'releasing'
 * still holds its address. Returns 0 with *out filled; -ENOENT no such pool / no pool of that
 * family; -EINVAL the address or pool does not fit (wrong family, outside, not usable);
 * -EEXIST the address is taken; -ENOSPC no free address; -EDQUOT the VPS already holds
 * IPAM_MAX_PER_VPS addresses of that family; -EIO database error. On error nothing is
 * inserted and out->field/out->why say why. */
int ipam_assign(int64_t vps_id, const ipam_want *want, ipam_got *out);

/* ipam_assign() of the lowest free address of family from any pool (a VPS's primary address).
 * Returns as ipam_assign, with the display text (ipam_format_assigned) in addr_out ("" on
 * error) and the pool in *pool_id_out when not NULL. */
int ipam_allocate(int family, int64_t vps_id, char addr_out[IPAM_ADDR_MAX], int64_t *pool_id_out);

/* Releases every address of vps_id at once (also done by ON DELETE CASCADE when the VPS row
 * goes). Returns the number of addresses released or -EIO. */
int ipam_release(int64_t vps_id);

/* Two-step release. ipam_releasing() lists the rows (their rowids, a heap array to free()) of
 * vps_id in state 'releasing': read it BEFORE building the spec that leaves them out. When the
 * agent applied that spec, ipam_forget() deletes those rows that are still releasing rows of
 * vps_id: only then are their addresses free again. 0 / number deleted, or -EIO. */
int ipam_releasing(int64_t vps_id, int64_t **rowids_out, size_t *n_out);
int ipam_forget(int64_t vps_id, const int64_t *rowids, size_t n);

#endif
