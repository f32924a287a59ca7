/* ipam.c — pool geometry and address allocation (see ipam.h). Allocation runs inside the
 * caller's transaction and picks the lowest free address (or /64 in a routed pool); it must
 * never commit, never return an address already in ip_addresses (a 'releasing' row still holds
 * its address), and never hand out network, broadcast, gateway or a reserved address, nor the
 * /64 that holds the gateway or a reserved address. */

#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../common/util.h"
#include "../common/validate.h"
#include "ipam.h"
#include "store.h"

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

/* First and last allocatable candidates, before removing gateway/reserved. */
static void pool_range(const ipam_pool *p, u128 *first, u128 *last)
{
	u128 net = addr_to_u128(p->family, p->net);
	u128 span = (u128)1 << ((p->family == 4 ? 32 : 128) - p->prefix); /* <= 2^112 */

	*first = net + 1;
	*last = net + span - 1;
	if (p->family == 4)
		*last -= 1; /* broadcast */
}

/* Routed pools: /64 number i of the pool starts at net + i * 2^64. */
static u128 block_of(const ipam_pool *p, const uint8_t a[16])
{
	return (addr_to_u128(6, a) - addr_to_u128(6, p->net)) >> 64;
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
static char *col_dup(sqlite3_stmt *st, int col)
{
	const unsigned char *s = sqlite3_column_text(st, col);

	return strdup(s ? (const char *)s : "");
}

int ipam_pool_load(int64_t pool_id, ipam_pool *out)
{
	sqlite3_stmt *st = db_stmt(
	        "SELECT family, cidr, gateway, reserved, vps_prefix FROM ip_pools WHERE id=?");
	char *cidr = NULL, *gw = NULL;
	json_object *res = NULL;
	const char **list = NULL;
	size_t n = 0;
	const char *field, *why;
	int family, rc = -EIO;
	int64_t vps_prefix;

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
	vps_prefix = sqlite3_column_type(st, 4) == SQLITE_NULL ? -1 : sqlite3_column_int64(st, 4);
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
	if (ipam_pool_parse(family, cidr, gw, list, n, out, &field, &why) != 0 ||
	    ipam_pool_set_vps_prefix(out, vps_prefix, &field, &why) != 0) {
		log_error("ip pool %lld in the database is invalid (%s %s)", (long long)pool_id,
		          field ? field : "?", why ? why : "");
		ipam_pool_dispose(out);
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

/* The candidates of a pool: addresses for a single-address pool, /64 numbers for a routed one. */
static void pool_span(const ipam_pool *p, u128 *first, u128 *last)
{
	if (p->vps_prefix) {
		*first = 0;
		*last = ((u128)1 << (IPAM_ROUTED_PREFIX - p->prefix)) - 1;
	} else {
		pool_range(p, first, last);
	}
}

/* The candidate an address stands for in pool p. */
static u128 value_of(const ipam_pool *p, const uint8_t a[16])
{
	return p->vps_prefix ? block_of(p, a) : addr_to_u128(p->family, a);
}

static int cmp_u128(const void *a, const void *b)
{
	u128 x = *(const u128 *)a, y = *(const u128 *)b;

	return x < y ? -1 : x > y;
}

/* Appends v to the heap array *arr (n items, *cap room). false on OOM. */
static bool push_u128(u128 **arr, size_t *n, size_t *cap, u128 v)
{
	if (*n == *cap) {
		size_t ncap = *cap ? *cap * 2 : 64;
		u128 *na = realloc(*arr, ncap * sizeof(**arr));

		if (!na)
			return false;
		*arr = na;
		*cap = ncap;
	}
	(*arr)[(*n)++] = v;
	return true;
}

/* The gateway's and the reserved entries' candidates, sorted, without duplicates. */
static int pool_fixed(const ipam_pool *p, u128 **out, size_t *n_out)
{
	size_t n = 0, cap = 0, k = 0;
	u128 *v = NULL;

	if (!push_u128(&v, &n, &cap, value_of(p, p->gw)))
		return -ENOMEM;
	for (size_t i = 0; i < p->n_reserved; i++)
		if (!push_u128(&v, &n, &cap, value_of(p, p->reserved[i]))) {
			free(v);
			return -ENOMEM;
		}
	qsort(v, n, sizeof(*v), cmp_u128);
	for (size_t i = 0; i < n; i++)
		if (k == 0 || v[k - 1] != v[i])
			v[k++] = v[i];
	*out = v;
	*n_out = k;
	return 0;
}

uint64_t ipam_pool_size(const ipam_pool *p)
{
	u128 first, last, count, *fixed = NULL;
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

/* Finds the lowest free candidate of pool p; 0 and *found, -ENOSPC, -EIO. */
static int pool_find_free(const ipam_pool *p, u128 *found)
{
	sqlite3_stmt *st = db_stmt("SELECT address FROM ip_addresses WHERE pool_id=?");
	u128 *ex = NULL, *fixed = NULL, first, last, c;
	size_t n = 0, cap = 0, nfixed = 0, i;
	int r, rc = -EIO;

	if (!st)
		return -EIO;
	sqlite3_bind_int64(st, 1, p->id);
	while ((r = sqlite3_step(st)) == SQLITE_ROW) {
		const unsigned char *s = sqlite3_column_text(st, 0);
		uint8_t a[16];

		if (!s || !parse_addr(p->family, (const char *)s, a))
			continue; /* not ours to interpret; it cannot collide with a candidate */
		if (!push_u128(&ex, &n, &cap, value_of(p, a))) {
			r = SQLITE_NOMEM;
			break;
		}
	}
	sqlite3_reset(st);
	if (r != SQLITE_DONE || pool_fixed(p, &fixed, &nfixed) != 0)
		goto out;
	for (i = 0; i < nfixed; i++)
		if (!push_u128(&ex, &n, &cap, fixed[i]))
			goto out;
	qsort(ex, n, sizeof(*ex), cmp_u128);

	/* Walk candidates upward past the sorted exclusions: at most n + 1 steps. */
	pool_span(p, &first, &last);
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
	free(fixed);
	free(ex);
	return rc;
}

/* The text of candidate v of pool p (a /64: its network address). */
static void candidate_text(const ipam_pool *p, u128 v, char out[IPAM_ADDR_MAX])
{
	uint8_t a[16];

	if (p->vps_prefix)
		v = addr_to_u128(6, p->net) + (v << 64);
	u128_to_addr(p->family, v, a);
	ipam_format(p->family, a, out);
}

/* s without a "/len" suffix (copied into buf when it has one); *len_out: the length, -1 when
 * there is none, -2 when it is not a number 0..128 or s is too long. */
static const char *strip_len(const char *s, char buf[IPAM_ADDR_MAX], int *len_out)
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
static int wanted_check(const ipam_pool *p, const char *want, char text_out[IPAM_ADDR_MAX],
                        const char **why)
{
	char buf[IPAM_ADDR_MAX];
	uint8_t a[16];
	u128 v, first, last, *fixed = NULL;
	size_t nfixed = 0;
	bool is_fixed = false;
	int len;

	want = strip_len(want, buf, &len);
	if (len != -1 && (!p->vps_prefix || len != IPAM_ROUTED_PREFIX)) {
		*why = p->vps_prefix ? "must be a /64 network address of the pool"
		                     : "must be a single address, without a prefix length";
		return -EINVAL;
	}
	if (!parse_addr(p->family, want, a)) {
		*why = p->family == 4 ? "is not an IPv4 address" : "is not an IPv6 address";
		return -EINVAL;
	}
	if (!cidr_contains(p->family, p->net, p->prefix, a)) {
		*why = "is not inside the pool's network";
		return -EINVAL;
	}
	v = value_of(p, a);
	if (p->vps_prefix && addr_to_u128(6, a) != addr_to_u128(6, p->net) + (v << 64)) {
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

/* Steps st (bound) and collects its first column into a heap array. 0 or -EIO. */
static int collect_ids(sqlite3_stmt *st, int64_t **ids_out, size_t *n_out)
{
	int64_t *ids = NULL;
	size_t n = 0, cap = 0;
	int r;

	while ((r = sqlite3_step(st)) == SQLITE_ROW) {
		if (n == cap) {
			size_t ncap = cap ? cap * 2 : 8;
			int64_t *nids = realloc(ids, ncap * sizeof(*ids));

			if (!nids) {
				r = SQLITE_NOMEM;
				break;
			}
			ids = nids;
			cap = ncap;
		}
		ids[n++] = sqlite3_column_int64(st, 0);
	}
	sqlite3_reset(st);
	if (r != SQLITE_DONE) {
		free(ids);
		return -EIO;
	}
	*ids_out = ids;
	*n_out = n;
	return 0;
}

/* Ids of the pools of family in id order (heap). 0 or -EIO. */
static int family_pools(int family, int64_t **ids_out, size_t *n_out)
{
	sqlite3_stmt *st = db_stmt("SELECT id FROM ip_pools WHERE family=? ORDER BY id");

	*ids_out = NULL;
	*n_out = 0;
	if (!st)
		return -EIO;
	sqlite3_bind_int(st, 1, family);
	return collect_ids(st, ids_out, n_out);
}

/* Rows of vps_id in pools of family; -1 on a database error. */
static int64_t vps_family_count(int64_t vps_id, int family)
{
	sqlite3_stmt *st = db_stmt("SELECT count(*) FROM ip_addresses a JOIN ip_pools p "
	                           "ON p.id=a.pool_id WHERE a.vps_id=? AND p.family=?");
	int64_t n = -1;

	if (!st)
		return -1;
	sqlite3_bind_int64(st, 1, vps_id);
	sqlite3_bind_int(st, 2, family);
	if (sqlite3_step(st) == SQLITE_ROW)
		n = sqlite3_column_int64(st, 0);
	sqlite3_reset(st);
	return n;
}

/* The row; -EEXIST when the address is held already (releasing rows included), -EIO. */
static int insert_row(int64_t vps_id, const ipam_want *w, const ipam_got *g)
{
	sqlite3_stmt *st = db_stmt("INSERT INTO ip_addresses(pool_id, address, vps_id, prefix_len, "
	                           "extra, state) VALUES(?,?,?,?,?,'active')");
	int r;

	if (!st)
		return -EIO;
	sqlite3_bind_int64(st, 1, g->pool_id);
	sqlite3_bind_text(st, 2, g->address, -1, SQLITE_TRANSIENT);
	sqlite3_bind_int64(st, 3, vps_id);
	if (g->prefix_len > 0)
		sqlite3_bind_int(st, 4, g->prefix_len);
	sqlite3_bind_int(st, 5, w->extra ? 1 : 0);
	r = sqlite3_step(st);
	sqlite3_reset(st);
	if (r != SQLITE_DONE) {
		if (sqlite3_extended_errcode(db()) == SQLITE_CONSTRAINT_PRIMARYKEY)
			return -EEXIST;
		log_error("ipam: inserting %s failed: %s", g->address, sqlite3_errmsg(db()));
		return -EIO;
	}
	return 0;
}

static int got_error(ipam_got *g, int rc, const char *field, const char *why)
{
	g->field = field;
	g->why = why;
	g->address[0] = '\0';
	return rc;
}

/* Tries pool id for w (a given address or the lowest free). 0 with g filled, or an error. */
static int assign_in_pool(int64_t vps_id, const ipam_want *w, int64_t id, bool named, ipam_got *g)
{
	ipam_pool p;
	const char *why = NULL;
	u128 v;
	int rc;

	rc = ipam_pool_load(id, &p);
	if (rc == -ENOENT)
		return got_error(g, -ENOENT, "pool", "unknown IP pool");
	if (rc != 0) /* logged; the loop skips it, never guesses at it */
		return got_error(g, -ENODATA, NULL, "database error");
	if (p.family != w->family) {
		ipam_pool_dispose(&p);
		return got_error(g, -EINVAL, "pool",
		                 w->family == 4 ? "is an IPv6 pool, not IPv4"
		                                : "is an IPv4 pool, not IPv6");
	}
	if (w->address) {
		rc = wanted_check(&p, w->address, g->address, &why);
	} else {
		rc = pool_find_free(&p, &v);
		if (rc == 0)
			candidate_text(&p, v, g->address);
		else
			why = rc == -ENOSPC ? (named ? "the pool has no free address left"
			                             : "the pool is full")
			                    : "database error";
	}
	g->prefix_len = p.vps_prefix;
	ipam_pool_dispose(&p);
	if (rc != 0)
		return got_error(g, rc, rc == -EIO ? NULL : w->address ? "address" : "pool", why);
	g->pool_id = id;
	rc = insert_row(vps_id, w, g);
	if (rc != 0)
		return got_error(g, rc, rc == -EEXIST ? "address" : NULL,
		                 rc == -EEXIST ? "is taken (held by a VPS or still being released)"
		                               : "database error");
	return 0;
}

/* The pool of family whose network holds address (text, "/64" allowed): 0 with *id_out,
 * -ENOENT, -EINVAL (not an address), -EIO. */
static int pool_holding(int family, const int64_t *ids, size_t n, const char *address,
                        int64_t *id_out)
{
	char buf[IPAM_ADDR_MAX];
	uint8_t a[16];
	int len;

	address = strip_len(address, buf, &len);
	if (!parse_addr(family, address, a))
		return -EINVAL;
	for (size_t i = 0; i < n; i++) {
		ipam_pool p;
		bool in;

		if (ipam_pool_load(ids[i], &p) != 0)
			continue;
		in = cidr_contains(family, p.net, p.prefix, a);
		ipam_pool_dispose(&p);
		if (in) {
			*id_out = ids[i];
			return 0;
		}
	}
	return -ENOENT;
}

int ipam_assign(int64_t vps_id, const ipam_want *w, ipam_got *g)
{
	int64_t *ids = NULL, held, id = 0;
	size_t n = 0;
	int rc;

	memset(g, 0, sizeof(*g));
	if (w->family != 4 && w->family != 6)
		return got_error(g, -EINVAL, "family", "must be 4 or 6");
	held = vps_family_count(vps_id, w->family);
	if (held < 0)
		return got_error(g, -EIO, NULL, "database error");
	if (held >= IPAM_MAX_PER_VPS)
		return got_error(g, -EDQUOT, NULL,
		                 "the VPS holds the most addresses of this family it may (64)");
	if (w->pool_id > 0) {
		rc = assign_in_pool(vps_id, w, w->pool_id, true, g);
		return rc == -ENODATA ? -EIO : rc;
	}
	if (family_pools(w->family, &ids, &n) != 0)
		return got_error(g, -EIO, NULL, "database error");
	if (n == 0) {
		free(ids);
		return got_error(g, -ENOENT, NULL,
		                 w->family == 4 ? "no IPv4 pool exists" : "no IPv6 pool exists");
	}
	if (w->address) {
		rc = pool_holding(w->family, ids, n, w->address, &id);
		free(ids);
		if (rc == -EINVAL)
			return got_error(g, rc, "address",
			                 w->family == 4 ? "is not an IPv4 address"
			                                : "is not an IPv6 address");
		if (rc != 0)
			return got_error(g, -EINVAL, "address",
			                 w->family == 4 ? "is not inside any IPv4 pool"
			                                : "is not inside any IPv6 pool");
		rc = assign_in_pool(vps_id, w, id, true, g);
		return rc == -ENODATA ? -EIO : rc;
	}
	rc = -ENOSPC;
	for (size_t i = 0; i < n; i++) {
		int prc = assign_in_pool(vps_id, w, ids[i], false, g);

		if (prc == -ENODATA)
			continue;
		rc = prc;
		if (rc != -ENOSPC)
			break;
	}
	free(ids);
	if (rc == -ENOSPC)
		return got_error(g, rc, NULL,
		                 w->family == 4 ? "no free IPv4 address in any pool"
		                                : "no free IPv6 address in any pool");
	return rc;
}

int ipam_allocate(int family, int64_t vps_id, char addr_out[IPAM_ADDR_MAX], int64_t *pool_id_out)
{
	ipam_want w = {.family = family};
	ipam_got g;
	int rc = ipam_assign(vps_id, &w, &g);

	addr_out[0] = '\0';
	if (rc != 0)
		return rc;
	ipam_format_assigned(g.address, g.prefix_len, addr_out);
	if (pool_id_out)
		*pool_id_out = g.pool_id;
	return 0;
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

int ipam_releasing(int64_t vps_id, int64_t **rowids_out, size_t *n_out)
{
	sqlite3_stmt *st =
	        db_stmt("SELECT rowid FROM ip_addresses WHERE vps_id=? AND state='releasing'");

	*rowids_out = NULL;
	*n_out = 0;
	if (!st)
		return -EIO;
	sqlite3_bind_int64(st, 1, vps_id);
	return collect_ids(st, rowids_out, n_out);
}

int ipam_forget(int64_t vps_id, const int64_t *rowids, size_t n)
{
	sqlite3_stmt *st = db_stmt(
	        "DELETE FROM ip_addresses WHERE rowid=? AND vps_id=? AND state='releasing'");
	int deleted = 0;

	if (!st)
		return -EIO;
	for (size_t i = 0; i < n; i++) {
		sqlite3_bind_int64(st, 1, rowids[i]);
		sqlite3_bind_int64(st, 2, vps_id);
		int r = sqlite3_step(st);
		sqlite3_reset(st);
		if (r != SQLITE_DONE)
			return -EIO;
		deleted += sqlite3_changes(db());
	}
	return deleted;
}
