/* ipam.c — pool geometry and address allocation (see ipam.h). Allocation runs inside the
 * caller's transaction and picks the lowest free address; it must never commit, never return
 * an address already in ip_addresses, and never hand out network, broadcast, gateway or a
 * reserved address. */
#include "ipam.h"

#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../common/util.h"
#include "../common/validate.h"
#include "panel.h"

typedef unsigned __int128 u128;

static u128 addr_to_u128(int family, const uint8_t a[16])
{
	u128 v = 0;
	int n = family == 4 ? 4 : 16;

	for (int i = 0; i < n; i++)
		v = (v << 8) | a[i];
	return v;
}

static void u128_to_addr(int family, u128 v, uint8_t a[16])
{
	int n = family == 4 ? 4 : 16;

	memset(a, 0, 16);
	for (int i = n - 1; i >= 0; i--) {
		a[i] = (uint8_t)(v & 0xff);
		v >>= 8;
	}
}

static int host_bits(const ipam_pool *p)
{
	return (p->family == 4 ? 32 : 128) - p->prefix;
}

/* First and last allocatable candidates, before removing gateway/reserved. */
static void pool_range(const ipam_pool *p, u128 *first, u128 *last)
{
	u128 net = addr_to_u128(p->family, p->net);
	u128 span = (u128)1 << host_bits(p); /* host_bits <= 112 for IPv6, <= 24 for IPv4 */

	*first = net + 1;
	*last = net + span - 1;
	if (p->family == 4)
		*last -= 1; /* broadcast */
}

static bool parse_addr(int family, const char *s, uint8_t out[16])
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
	u128 first, last, gw;

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
	if (!gateway || !parse_addr(family, gateway, out->gw)) {
		*why_out = family == 4 ? "is not an IPv4 address" : "is not an IPv6 address";
		return -EINVAL;
	}
	gw = addr_to_u128(family, out->gw);
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

		if (!reserved[i] || !parse_addr(family, reserved[i], a)) {
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

/* Reads a column as a heap string ("" for NULL); NULL on OOM. */
static char *col_dup(sqlite3_stmt *st, int col)
{
	const unsigned char *s = sqlite3_column_text(st, col);

	return strdup(s ? (const char *)s : "");
}

int ipam_pool_load(int64_t pool_id, ipam_pool *out)
{
	sqlite3_stmt *st =
	        db_stmt("SELECT family, cidr, gateway, reserved FROM ip_pools WHERE id=?");
	char *cidr = NULL, *gw = NULL;
	json_object *res = NULL;
	const char **list = NULL;
	size_t n = 0;
	const char *field, *why;
	int family, rc = -EIO;

	memset(out, 0, sizeof(*out));
	if (!st)
		return -EIO;
	sqlite3_bind_int64(st, 1, pool_id);
	int r = sqlite3_step(st);
	if (r != SQLITE_ROW) {
		sqlite3_reset(st);
		return r == SQLITE_DONE ? -ENOENT : -EIO;
	}
	family = sqlite3_column_int(st, 0);
	cidr = col_dup(st, 1);
	gw = col_dup(st, 2);
	const unsigned char *rtext = sqlite3_column_text(st, 3);
	res = json_tokener_parse(rtext ? (const char *)rtext : "[]");
	sqlite3_reset(st);
	if (!cidr || !gw)
		goto out;
	if (res && json_object_is_type(res, json_type_array)) {
		n = json_object_array_length(res);
		list = calloc(n ? n : 1, sizeof(*list));
		if (!list)
			goto out;
		for (size_t i = 0; i < n; i++)
			list[i] = json_object_get_string(json_object_array_get_idx(res, i));
	}
	if (ipam_pool_parse(family, cidr, gw, list, n, out, &field, &why) != 0) {
		log_error("ip pool %lld in the database is invalid (%s %s)", (long long)pool_id,
		          field ? field : "?", why ? why : "");
		goto out;
	}
	out->id = pool_id;
	rc = 0;
out:
	free(list);
	json_object_put(res);
	free(cidr);
	free(gw);
	return rc;
}

uint64_t ipam_pool_size(const ipam_pool *p)
{
	u128 first, last, count, gw;
	size_t excluded = 1; /* the gateway */

	pool_range(p, &first, &last);
	count = last - first + 1;
	gw = addr_to_u128(p->family, p->gw);
	for (size_t i = 0; i < p->n_reserved; i++) {
		u128 r = addr_to_u128(p->family, p->reserved[i]);
		bool dup = r == gw || r < first || r > last;

		for (size_t j = 0; j < i && !dup; j++)
			dup = r == addr_to_u128(p->family, p->reserved[j]);
		if (!dup)
			excluded++;
	}
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

bool ipam_have_family(int family)
{
	sqlite3_stmt *st = db_stmt("SELECT 1 FROM ip_pools WHERE family=? LIMIT 1");
	bool have;

	if (!st)
		return false;
	sqlite3_bind_int(st, 1, family);
	have = sqlite3_step(st) == SQLITE_ROW;
	sqlite3_reset(st);
	return have;
}

static int cmp_u128(const void *a, const void *b)
{
	u128 x = *(const u128 *)a, y = *(const u128 *)b;

	return x < y ? -1 : x > y;
}

/* Finds the lowest free address of pool p; 0 and *found, -ENOSPC, -EIO. */
static int pool_find_free(const ipam_pool *p, u128 *found)
{
	sqlite3_stmt *st = db_stmt("SELECT address FROM ip_addresses WHERE pool_id=?");
	u128 *ex = NULL, first, last, c;
	size_t n = 0, cap = 0, i;
	int r, rc = -EIO;

	if (!st)
		return -EIO;
	sqlite3_bind_int64(st, 1, p->id);
	while ((r = sqlite3_step(st)) == SQLITE_ROW) {
		const unsigned char *s = sqlite3_column_text(st, 0);
		uint8_t a[16];

		if (!s || !parse_addr(p->family, (const char *)s, a))
			continue; /* not ours to interpret; it cannot collide with a candidate */
		if (n == cap) {
			size_t ncap = cap ? cap * 2 : 64;
			u128 *nex = realloc(ex, (ncap + 1 + p->n_reserved) * sizeof(*ex));

			if (!nex)
				goto out;
			ex = nex;
			cap = ncap;
		}
		ex[n++] = addr_to_u128(p->family, a);
	}
	sqlite3_reset(st);
	if (r != SQLITE_DONE)
		goto out;
	if (n == cap) { /* room for gateway and reserved */
		u128 *nex = realloc(ex, (n + 1 + p->n_reserved) * sizeof(*ex));

		if (!nex)
			goto out;
		ex = nex;
	}
	ex[n++] = addr_to_u128(p->family, p->gw);
	for (i = 0; i < p->n_reserved; i++)
		ex[n++] = addr_to_u128(p->family, p->reserved[i]);
	qsort(ex, n, sizeof(*ex), cmp_u128);

	/* Walk candidates upward past the sorted exclusions: at most n + 1 steps. */
	pool_range(p, &first, &last);
	c = first;
	for (i = 0; i < n && c <= last; i++) {
		if (ex[i] < c)
			continue;
		if (ex[i] > c)
			break;
		c++;
	}
	rc = c <= last ? 0 : -ENOSPC;
	if (rc == 0)
		*found = c;
out:
	free(ex);
	return rc;
}

int ipam_allocate(int family, int64_t vps_id, char addr_out[IPAM_ADDR_MAX], int64_t *pool_id_out)
{
	sqlite3_stmt *st = db_stmt("SELECT id FROM ip_pools WHERE family=? ORDER BY id");
	int64_t *ids = NULL;
	size_t n = 0, cap = 0;
	int r, rc = -EIO;

	if (!st)
		return -EIO;
	sqlite3_bind_int(st, 1, family);
	while ((r = sqlite3_step(st)) == SQLITE_ROW) {
		if (n == cap) {
			size_t ncap = cap ? cap * 2 : 8;
			int64_t *nids = realloc(ids, ncap * sizeof(*ids));

			if (!nids) {
				sqlite3_reset(st);
				goto out;
			}
			ids = nids;
			cap = ncap;
		}
		ids[n++] = sqlite3_column_int64(st, 0);
	}
	sqlite3_reset(st);
	if (r != SQLITE_DONE)
		goto out;
	if (n == 0) {
		rc = -ENOENT;
		goto out;
	}
	rc = -ENOSPC;
	for (size_t i = 0; i < n; i++) {
		ipam_pool p;
		u128 v;
		uint8_t a[16];
		int prc;

		if (ipam_pool_load(ids[i], &p) != 0)
			continue; /* logged; an unreadable pool is skipped, never guessed at */
		prc = pool_find_free(&p, &v);
		ipam_pool_dispose(&p);
		if (prc == -ENOSPC)
			continue;
		if (prc != 0) {
			rc = prc;
			goto out;
		}
		u128_to_addr(family, v, a);
		ipam_format(family, a, addr_out);
		sqlite3_stmt *ins =
		        db_stmt("INSERT INTO ip_addresses(pool_id, address, vps_id) VALUES(?,?,?)");
		if (!ins) {
			rc = -EIO;
			goto out;
		}
		sqlite3_bind_int64(ins, 1, ids[i]);
		sqlite3_bind_text(ins, 2, addr_out, -1, SQLITE_TRANSIENT);
		sqlite3_bind_int64(ins, 3, vps_id);
		r = sqlite3_step(ins);
		sqlite3_reset(ins);
		if (r != SQLITE_DONE) {
			log_error("ipam: inserting %s failed: %s", addr_out, sqlite3_errmsg(db()));
			rc = -EIO;
			goto out;
		}
		if (pool_id_out)
			*pool_id_out = ids[i];
		rc = 0;
		goto out;
	}
out:
	free(ids);
	if (rc != 0)
		addr_out[0] = '\0';
	return rc;
}

int ipam_release(int64_t vps_id)
{
	sqlite3_stmt *st = db_stmt("DELETE FROM ip_addresses WHERE vps_id=?");
	int r;

	if (!st)
		return -EIO;
	sqlite3_bind_int64(st, 1, vps_id);
	r = sqlite3_step(st);
	sqlite3_reset(st);
	if (r != SQLITE_DONE)
		return -EIO;
	return sqlite3_changes(db());
}
