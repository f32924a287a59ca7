/* ipam.c — the database side of IP address management (see ipam.h): pool rows, allocation and
 * release of ip_addresses rows; the address arithmetic is in ipam_addr.c. Allocation runs
 * inside the caller's transaction and picks the lowest free address (or /64 in a routed pool); it
 * must never commit, never return an address already in ip_addresses (a 'releasing' row still holds
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
#include "ipam_addr.h"
#include "store.h"

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
static int pool_find_free(const ipam_pool *p, ipam_cand *found)
{
	sqlite3_stmt *st = db_stmt("SELECT address FROM ip_addresses WHERE pool_id=?");
	ipam_cand *taken = NULL, v;
	size_t n = 0, cap = 0;
	int r, rc = -EIO;

	if (!st)
		return -EIO;
	sqlite3_bind_int64(st, 1, p->id);
	while ((r = sqlite3_step(st)) == SQLITE_ROW) {
		const unsigned char *s = sqlite3_column_text(st, 0);

		if (!s || !ipam_candidate_of(p, (const char *)s, &v))
			continue; /* not ours to interpret; it cannot collide with a candidate */
		if (!ipam_cand_push(&taken, &n, &cap, v)) {
			r = SQLITE_NOMEM;
			break;
		}
	}
	sqlite3_reset(st);
	if (r == SQLITE_DONE) {
		rc = ipam_lowest_free(p, &taken, &n, &cap, found);
		if (rc == -ENOMEM)
			rc = -EIO;
	}
	free(taken);
	return rc;
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
	return db_collect_ids(st, ids_out, n_out) == 0 ? 0 : -EIO;
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
	ipam_cand v;
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
		rc = ipam_wanted_check(&p, w->address, g->address, &why);
	} else {
		rc = pool_find_free(&p, &v);
		if (rc == 0)
			ipam_candidate_text(&p, v, g->address);
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

	address = ipam_strip_len(address, buf, &len);
	if (!ipam_parse_addr(family, address, a))
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
	return db_collect_ids(st, rowids_out, n_out) == 0 ? 0 : -EIO;
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
