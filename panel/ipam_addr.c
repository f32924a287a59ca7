/* ipam_addr.c — the address arithmetic of IP address management: parsing and checking pools,
 * pool sizes and overlap, canonical text, and the lowest free candidate among taken ones. Pure:
 * it never touches SQLite (ipam.c does) and never decides what is taken, only computes. */
#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../common/validate.h"
#include "ipam.h"
#include "ipam_addr.h"

static ipam_cand addr_to_cand(int family, const uint8_t a[16])
{
	ipam_cand v = 0;
	int n = family == 4 ? 4 : 16;

	for (int i = 0; i < n; i++)
		v = (v << 8) | a[i];
	return v;
}

static void cand_to_addr(int family, ipam_cand v, uint8_t a[16])
{
	int n = family == 4 ? 4 : 16;

	memset(a, 0, 16);
	for (int i = n - 1; i >= 0; i--) {
		a[i] = (uint8_t)(v & 0xff);
		v >>= 8;
	}
}

/* First and last allocatable candidates, before removing gateway/reserved. */
static void pool_range(const ipam_pool *p, ipam_cand *first, ipam_cand *last)
{
	ipam_cand net = addr_to_cand(p->family, p->net);
	ipam_cand span = (ipam_cand)1 << ((p->family == 4 ? 32 : 128) - p->prefix); /* <= 2^112 */

	*first = net + 1;
	*last = net + span - 1;
	if (p->family == 4)
		*last -= 1; /* broadcast */
}

/* Routed pools: /64 number i of the pool starts at net + i * 2^64. */
static ipam_cand block_of(const ipam_pool *p, const uint8_t a[16])
{
	return (addr_to_cand(6, a) - addr_to_cand(6, p->net)) >> 64;
}

bool ipam_parse_addr(int family, const char *s, uint8_t out[16])
{
	memset(out, 0, 16);
	return family == 4 ? parse_ipv4(s, out) : parse_ipv6(s, out);
}

void ipam_format(int family, const uint8_t addr[16], char out[IPAM_ADDR_MAX])
{
	if (!inet_ntop(family == 4 ? AF_INET : AF_INET6, addr, out, IPAM_ADDR_MAX))
		out[0] = '\0';
}

void ipam_format_cidr(const ipam_pool *p, char out[IPAM_ADDR_MAX + 4])
{
	char a[IPAM_ADDR_MAX];

	ipam_format(p->family, p->net, a);
	snprintf(out, IPAM_ADDR_MAX + 4, "%s/%d", a, p->prefix);
}

void ipam_format_assigned(const char *address, int prefix_len, char out[IPAM_ADDR_MAX])
{
	if (prefix_len > 0)
		snprintf(out, IPAM_ADDR_MAX, "%s/%d", address, prefix_len);
	else
		snprintf(out, IPAM_ADDR_MAX, "%s", address);
}

void ipam_pool_dispose(ipam_pool *p)
{
	if (!p)
		return;
	free(p->reserved);
	p->reserved = NULL;
	p->n_reserved = 0;
}

int ipam_pool_parse(int family, const char *cidr, const char *gateway, const char *const *reserved,
                    size_t n_reserved, ipam_pool *out, const char **field_out, const char **why_out)
{
	const char *why = NULL;
	ipam_cand first, last, gw;

	memset(out, 0, sizeof(*out));
	out->family = family;
	*field_out = "cidr";
	if (family != 4 && family != 6) {
		*field_out = "family";
		*why_out = "must be 4 or 6";
		return -EINVAL;
	}
	if (!cidr || !parse_cidr(family, cidr, out->net, &out->prefix, &why)) {
		*why_out = why ? why : "is not a valid network in CIDR notation";
		return -EINVAL;
	}
	if (family == 4 && (out->prefix < 8 || out->prefix > 30)) {
		*why_out = "IPv4 pools must have a prefix length between 8 and 30";
		return -EINVAL;
	}
	if (family == 6 && (out->prefix < 16 || out->prefix > 126)) {
		*why_out = "IPv6 pools must have a prefix length between 16 and 126";
		return -EINVAL;
	}
	pool_range(out, &first, &last);

	*field_out = "gateway";
	if (!gateway || !ipam_parse_addr(family, gateway, out->gw)) {
		*why_out = family == 4 ? "is not an IPv4 address" : "is not an IPv6 address";
		return -EINVAL;
	}
	gw = addr_to_cand(family, out->gw);
	if (!cidr_contains(family, out->net, out->prefix, out->gw) || gw < first || gw > last) {
		*why_out = "must be a usable address inside the pool's network";
		return -EINVAL;
	}

	*field_out = "reserved";
	if (n_reserved > IPAM_MAX_RESERVED) {
		*why_out = "holds too many addresses";
		return -EINVAL;
	}
	if (n_reserved) {
		out->reserved = calloc(n_reserved, sizeof(*out->reserved));
		if (!out->reserved) {
			*why_out = "out of memory";
			return -ENOMEM;
		}
	}
	for (size_t i = 0; i < n_reserved; i++) {
		uint8_t *a = out->reserved[i];

		if (!reserved[i] || !ipam_parse_addr(family, reserved[i], a)) {
			*why_out = family == 4 ? "holds something that is not an IPv4 address"
			                       : "holds something that is not an IPv6 address";
			ipam_pool_dispose(out);
			return -EINVAL;
		}
		if (!cidr_contains(family, out->net, out->prefix, a)) {
			*why_out = "holds an address outside the pool's network";
			ipam_pool_dispose(out);
			return -EINVAL;
		}
		out->n_reserved = i + 1;
	}
	*field_out = NULL;
	*why_out = NULL;
	return 0;
}

int ipam_pool_set_vps_prefix(ipam_pool *p, int64_t vps_prefix, const char **field_out,
                             const char **why_out)
{
	*field_out = "vps_prefix";
	if (p->family == 4) {
		if (vps_prefix != -1 && vps_prefix != 32) {
			*why_out = "must be 32: IPv4 pools hand out single addresses";
			return -EINVAL;
		}
		p->vps_prefix = 0;
		return 0;
	}
	if (vps_prefix == -1 || vps_prefix == 128) {
		p->vps_prefix = 0;
		return 0;
	}
	if (vps_prefix != IPAM_ROUTED_PREFIX) {
		*why_out = "must be 128 (one address per VPS) or 64 (a routed /64 per VPS)";
		return -EINVAL;
	}
	if (p->prefix < IPAM_ROUTED_MIN || p->prefix > IPAM_ROUTED_MAX) {
		*field_out = "cidr";
		*why_out = "must be a /32 to /63 network when vps_prefix is 64 (room for at least "
		           "two /64s)";
		return -EINVAL;
	}
	p->vps_prefix = IPAM_ROUTED_PREFIX;
	return 0;
}

int ipam_pool_vps_prefix(const ipam_pool *p)
{
	return p->vps_prefix ? p->vps_prefix : p->family == 4 ? 32 : 128;
}

/* Reads a column as a heap string ("" for NULL); NULL on OOM. */
/* The candidates of a pool: addresses for a single-address pool, /64 numbers for a routed one. */
static void pool_span(const ipam_pool *p, ipam_cand *first, ipam_cand *last)
{
	if (p->vps_prefix) {
		*first = 0;
		*last = ((ipam_cand)1 << (IPAM_ROUTED_PREFIX - p->prefix)) - 1;
	} else {
		pool_range(p, first, last);
	}
}

/* The candidate an address stands for in pool p. */
static ipam_cand value_of(const ipam_pool *p, const uint8_t a[16])
{
	return p->vps_prefix ? block_of(p, a) : addr_to_cand(p->family, a);
}

static int cmp_cand(const void *a, const void *b)
{
	ipam_cand x = *(const ipam_cand *)a, y = *(const ipam_cand *)b;

	return x < y ? -1 : x > y;
}

/* Appends v to the heap array *arr (n items, *cap room). false on OOM. */
bool ipam_cand_push(ipam_cand **arr, size_t *n, size_t *cap, ipam_cand v)
{
	if (*n == *cap) {
		size_t ncap = *cap ? *cap * 2 : 64;
		ipam_cand *na = realloc(*arr, ncap * sizeof(**arr));

		if (!na)
			return false;
		*arr = na;
		*cap = ncap;
	}
	(*arr)[(*n)++] = v;
	return true;
}

/* The gateway's and the reserved entries' candidates, sorted, without duplicates. */
static int pool_fixed(const ipam_pool *p, ipam_cand **out, size_t *n_out)
{
	size_t n = 0, cap = 0, k = 0;
	ipam_cand *v = NULL;

	if (!ipam_cand_push(&v, &n, &cap, value_of(p, p->gw)))
		return -ENOMEM;
	for (size_t i = 0; i < p->n_reserved; i++)
		if (!ipam_cand_push(&v, &n, &cap, value_of(p, p->reserved[i]))) {
			free(v);
			return -ENOMEM;
		}
	qsort(v, n, sizeof(*v), cmp_cand);
	for (size_t i = 0; i < n; i++)
		if (k == 0 || v[k - 1] != v[i])
			v[k++] = v[i];
	*out = v;
	*n_out = k;
	return 0;
}

uint64_t ipam_pool_size(const ipam_pool *p)
{
	ipam_cand first, last, count, *fixed = NULL;
	size_t n = 0, excluded = 0;

	pool_span(p, &first, &last);
	count = last - first + 1;
	if (pool_fixed(p, &fixed, &n) != 0)
		return 0;
	for (size_t i = 0; i < n; i++)
		if (fixed[i] >= first && fixed[i] <= last)
			excluded++;
	free(fixed);
	count = count > excluded ? count - excluded : 0;
	return count > IPAM_SIZE_CAP ? IPAM_SIZE_CAP : (uint64_t)count;
}

bool ipam_pools_overlap(const ipam_pool *a, const ipam_pool *b)
{
	if (a->family != b->family)
		return false;
	/* Two prefixes overlap exactly when one contains the other's network address. */
	return cidr_contains(a->family, a->net, a->prefix, b->net) ||
	       cidr_contains(b->family, b->net, b->prefix, a->net);
}

/* The text of candidate v of pool p (a /64: its network address). */
void ipam_candidate_text(const ipam_pool *p, ipam_cand v, char out[IPAM_ADDR_MAX])
{
	uint8_t a[16];

	if (p->vps_prefix)
		v = addr_to_cand(6, p->net) + (v << 64);
	cand_to_addr(p->family, v, a);
	ipam_format(p->family, a, out);
}

/* s without a "/len" suffix (copied into buf when it has one); *len_out: the length, -1 when
 * there is none, -2 when it is not a number 0..128 or s is too long. */
const char *ipam_strip_len(const char *s, char buf[IPAM_ADDR_MAX], int *len_out)
{
	const char *slash = strchr(s, '/');
	long long len;

	*len_out = -1;
	if (!slash)
		return s;
	*len_out = -2;
	if ((size_t)(slash - s) >= IPAM_ADDR_MAX)
		return s;
	if (parse_int_range(slash + 1, 0, 128, &len))
		*len_out = (int)len;
	memcpy(buf, s, (size_t)(slash - s));
	buf[slash - s] = '\0';
	return buf;
}

/* Parses an address the caller asked for and checks that pool p may hand it out; the address
 * must lie inside p. 0 with its canonical text in text_out, or -EINVAL with *why. */
int ipam_wanted_check(const ipam_pool *p, const char *want, char text_out[IPAM_ADDR_MAX],
                      const char **why)
{
	char buf[IPAM_ADDR_MAX];
	uint8_t a[16];
	ipam_cand v, first, last, *fixed = NULL;
	size_t nfixed = 0;
	bool is_fixed = false;
	int len;

	want = ipam_strip_len(want, buf, &len);
	if (len != -1 && (!p->vps_prefix || len != IPAM_ROUTED_PREFIX)) {
		*why = p->vps_prefix ? "must be a /64 network address of the pool"
		                     : "must be a single address, without a prefix length";
		return -EINVAL;
	}
	if (!ipam_parse_addr(p->family, want, a)) {
		*why = p->family == 4 ? "is not an IPv4 address" : "is not an IPv6 address";
		return -EINVAL;
	}
	if (!cidr_contains(p->family, p->net, p->prefix, a)) {
		*why = "is not inside the pool's network";
		return -EINVAL;
	}
	v = value_of(p, a);
	if (p->vps_prefix && addr_to_cand(6, a) != addr_to_cand(6, p->net) + (v << 64)) {
		*why = "must be the network address of a /64 (its last 64 bits zero)";
		return -EINVAL;
	}
	pool_span(p, &first, &last);
	if (v < first || v > last) {
		*why = v < first ? "is the pool's network address"
		                 : "is the pool's broadcast address";
		return -EINVAL;
	}
	if (pool_fixed(p, &fixed, &nfixed) != 0) {
		*why = "out of memory";
		return -EIO;
	}
	for (size_t i = 0; i < nfixed && !is_fixed; i++)
		is_fixed = fixed[i] == v;
	free(fixed);
	if (is_fixed) {
		if (p->vps_prefix)
			*why = v == value_of(p, p->gw) ? "is the /64 that holds the pool's gateway"
			                               : "holds a reserved address of the pool";
		else
			*why = v == value_of(p, p->gw) ? "is the pool's gateway"
			                               : "is reserved in the pool";
		return -EINVAL;
	}
	ipam_format(p->family, a, text_out);
	return 0;
}

bool ipam_candidate_of(const ipam_pool *p, const char *s, ipam_cand *out)
{
	uint8_t a[16];

	if (!ipam_parse_addr(p->family, s, a))
		return false;
	*out = value_of(p, a);
	return true;
}

int ipam_lowest_free(const ipam_pool *p, ipam_cand **taken, size_t *n, size_t *cap,
                     ipam_cand *found)
{
	ipam_cand *fixed = NULL, first, last, c;
	size_t nfixed = 0, i;
	int rc = -ENOMEM;

	if (pool_fixed(p, &fixed, &nfixed) != 0)
		goto out;
	for (i = 0; i < nfixed; i++)
		if (!ipam_cand_push(taken, n, cap, fixed[i]))
			goto out;
	qsort(*taken, *n, sizeof(**taken), cmp_cand);

	/* Walk candidates upward past the sorted exclusions: at most n + 1 steps. */
	pool_span(p, &first, &last);
	c = first;
	for (i = 0; i < *n && c <= last; i++) {
		if ((*taken)[i] < c)
			continue;
		if ((*taken)[i] > c)
			break;
		c++;
	}
	rc = c <= last ? 0 : -ENOSPC;
	if (rc == 0)
		*found = c;
out:
	free(fixed);
	return rc;
}
