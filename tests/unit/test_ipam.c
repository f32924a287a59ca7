/* test_ipam.c — address allocation (panel/ipam.c) against a real SQLite store in a mkdtemp()
 * directory: lowest free address first, never twice, never network/broadcast/gateway/reserved,
 * exhaustion is an error that inserts nothing, released addresses come back; routed /64s
 * (lowest block first, not the gateway's or a reserved block), explicit extra addresses, the
 * two-step release (a releasing row stays taken until it is forgotten) and the spec built from
 * it (panel/vps_spec.c). */
#include <criterion/criterion.h>
#include <errno.h>
#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "../../provisioning/spec.h"
#include "../../panel/api.h"
#include "../../panel/config.h"
#include "../../panel/ipam.h"
#include "../../panel/jobs.h"
#include "../../panel/store.h"
#include "../../panel/vps_spec.h"
#include "panel_testdb.h"

static char tmp[64];

static void setup(void)
{
	char path[128];

	snprintf(tmp, sizeof(tmp), "/tmp/xvps-ipam-XXXXXX");
	cr_assert_not_null(mkdtemp(tmp));
	snprintf(path, sizeof(path), "%s/xvps.db", tmp);
	cr_assert_eq(store_open(path), 0);
	exec_sql("INSERT INTO users(id, username, password_hash, role, created_at) "
	         "VALUES(1, 'alice', 'x', 'customer', 0);"
	         "INSERT INTO plans(id, name, vcpus, memory_mib, disk_gib, created_at) "
	         "VALUES(1, 'p', 1, 512, 10, 0);"
	         "INSERT INTO templates(id, name, os, disk_gib, boot, created_at) "
	         "VALUES(1, 't', 'debian', 10, 'pvh', 0);");
}

static void teardown(void)
{
	store_close_thread();
	nftw(tmp, rm_one, 8, FTW_DEPTH | FTW_PHYS);
}

TestSuite(ipam, .init = setup, .fini = teardown);

static void add_vps(int id)
{
	sqlite3_stmt *st =
	        db_stmt("INSERT INTO vps(id, hostname, customer_id, plan_id, template_id, "
	                "domain, vifname, mac, state, created_at) "
	                "VALUES(?1, 'h' || ?1, 1, 1, 1, 'xvps-' || ?1, 'xvif' || ?1, "
	                "printf('00:16:3e:00:00:%02x', ?1), 'provisioning', 0)");

	cr_assert_not_null(st);
	sqlite3_bind_int(st, 1, id);
	cr_assert_eq(sqlite3_step(st), SQLITE_DONE, "%s", sqlite3_errmsg(db()));
	sqlite3_reset(st);
}

static void add_pool(int family, const char *cidr, const char *gw, const char *reserved)
{
	sqlite3_stmt *st =
	        db_stmt("INSERT INTO ip_pools(family, cidr, gateway, reserved, created_at) "
	                "VALUES(?, ?, ?, ?, 0)");

	cr_assert_not_null(st);
	sqlite3_bind_int(st, 1, family);
	sqlite3_bind_text(st, 2, cidr, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 3, gw, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 4, reserved, -1, SQLITE_STATIC);
	cr_assert_eq(sqlite3_step(st), SQLITE_DONE);
	sqlite3_reset(st);
}

static int count_addresses(void)
{
	sqlite3_stmt *st = db_stmt("SELECT count(*) FROM ip_addresses");
	int n;

	cr_assert_eq(sqlite3_step(st), SQLITE_ROW);
	n = sqlite3_column_int(st, 0);
	sqlite3_reset(st);
	return n;
}

static void alloc_expect(int family, int vps, const char *want)
{
	char addr[IPAM_ADDR_MAX];

	cr_assert_eq(ipam_allocate(family, vps, addr, NULL), 0, "allocation for vps %d", vps);
	cr_assert_str_eq(addr, want);
}

Test(ipam, first_ipv4_skips_network_and_gateway)
{
	add_pool(4, "192.0.2.0/29", "192.0.2.1", "[]");
	add_vps(1);
	alloc_expect(4, 1, "192.0.2.2");
}

Test(ipam, skips_reserved_and_broadcast_then_reports_exhaustion)
{
	char addr[IPAM_ADDR_MAX];

	add_pool(4, "192.0.2.0/29", "192.0.2.1", "[\"192.0.2.3\",\"192.0.2.4\"]");
	for (int i = 1; i <= 4; i++)
		add_vps(i);
	alloc_expect(4, 1, "192.0.2.2");
	alloc_expect(4, 2, "192.0.2.5");
	alloc_expect(4, 3, "192.0.2.6");
	/* .7 is the broadcast address: the pool is full. */
	cr_assert_eq(ipam_allocate(4, 4, addr, NULL), -ENOSPC);
	cr_assert_str_empty(addr);
	cr_assert_eq(count_addresses(), 3, "a failed allocation must insert nothing");
}

Test(ipam, never_hands_out_the_same_address_twice)
{
	char addr[IPAM_ADDR_MAX], seen[253][IPAM_ADDR_MAX];

	add_pool(4, "198.51.100.0/24", "198.51.100.1", "[]");
	exec_sql("BEGIN");
	for (int i = 1; i <= 254; i++)
		add_vps(i);
	for (int i = 0; i < 253; i++) {
		cr_assert_eq(ipam_allocate(4, i + 1, addr, NULL), 0, "allocation %d", i);
		cr_assert_str_neq(addr, "198.51.100.0");
		cr_assert_str_neq(addr, "198.51.100.1");
		cr_assert_str_neq(addr, "198.51.100.255");
		for (int j = 0; j < i; j++)
			cr_assert_str_neq(addr, seen[j], "%s handed out twice", addr);
		snprintf(seen[i], sizeof(seen[i]), "%s", addr);
	}
	cr_assert_eq(ipam_allocate(4, 254, addr, NULL), -ENOSPC);
	exec_sql("COMMIT");
	cr_assert_eq(count_addresses(), 253);
}

Test(ipam, released_address_is_reused)
{
	add_pool(4, "192.0.2.0/24", "192.0.2.1", "[]");
	for (int i = 1; i <= 4; i++)
		add_vps(i);
	alloc_expect(4, 1, "192.0.2.2");
	alloc_expect(4, 2, "192.0.2.3");
	cr_assert_eq(ipam_release(1), 1);
	alloc_expect(4, 3, "192.0.2.2");
	/* Deleting a VPS row releases its addresses too (ON DELETE CASCADE). */
	exec_sql("DELETE FROM vps WHERE id=2");
	alloc_expect(4, 4, "192.0.2.3");
}

Test(ipam, moves_on_to_the_next_pool_when_one_is_full)
{
	add_pool(4, "192.0.2.0/30", "192.0.2.1", "[]");
	add_pool(4, "203.0.113.0/24", "203.0.113.1", "[\"203.0.113.2\"]");
	for (int i = 1; i <= 2; i++)
		add_vps(i);
	alloc_expect(4, 1, "192.0.2.2");
	alloc_expect(4, 2, "203.0.113.3");
}

Test(ipam, ipv6_starts_after_network_and_skips_gateway_and_reserved)
{
	add_pool(6, "2001:db8:100::/64", "2001:db8:100::1", "[\"2001:db8:100::3\"]");
	for (int i = 1; i <= 3; i++)
		add_vps(i);
	alloc_expect(6, 1, "2001:db8:100::2");
	alloc_expect(6, 2, "2001:db8:100::4");
	alloc_expect(6, 3, "2001:db8:100::5");
}

Test(ipam, ipv6_pool_exhaustion_is_an_error)
{
	char addr[IPAM_ADDR_MAX];

	/* /126: ::1 (gateway), ::2, ::3 usable. */
	add_pool(6, "2001:db8::/126", "2001:db8::1", "[]");
	for (int i = 1; i <= 3; i++)
		add_vps(i);
	alloc_expect(6, 1, "2001:db8::2");
	alloc_expect(6, 2, "2001:db8::3");
	cr_assert_eq(ipam_allocate(6, 3, addr, NULL), -ENOSPC);
}

Test(ipam, no_pool_of_the_family_is_enoent)
{
	char addr[IPAM_ADDR_MAX];

	add_pool(4, "192.0.2.0/24", "192.0.2.1", "[]");
	add_vps(1);
	cr_assert(ipam_have_family(4));
	cr_assert_not(ipam_have_family(6));
	cr_assert_eq(ipam_allocate(6, 1, addr, NULL), -ENOENT);
	cr_assert_eq(count_addresses(), 0);
}

static int parse(int family, const char *cidr, const char *gw, const char *const *res, size_t n,
                 const char **field)
{
	ipam_pool p;
	const char *why = NULL;
	int rc = ipam_pool_parse(family, cidr, gw, res, n, &p, field, &why);

	if (rc == 0)
		ipam_pool_dispose(&p);
	else
		cr_assert_not_null(why);
	return rc;
}

Test(ipam, pool_parse_rejects_bad_geometry)
{
	const char *field = NULL;
	const char *junk[] = {"not-an-address"};
	const char *outside[] = {"198.51.100.7"};
	const char *ok[] = {"192.0.2.10"};

	cr_assert_eq(parse(4, "192.0.2.0/24", "192.0.2.1", ok, 1, &field), 0);
	cr_assert_eq(parse(4, "192.0.2.0/24", "192.0.2.0", NULL, 0, &field), -EINVAL);
	cr_assert_str_eq(field, "gateway");
	cr_assert_eq(parse(4, "192.0.2.0/24", "192.0.2.255", NULL, 0, &field), -EINVAL);
	cr_assert_str_eq(field, "gateway");
	cr_assert_eq(parse(4, "192.0.2.0/24", "198.51.100.1", NULL, 0, &field), -EINVAL);
	cr_assert_str_eq(field, "gateway");
	cr_assert_eq(parse(4, "192.0.2.1/24", "192.0.2.1", NULL, 0, &field), -EINVAL);
	cr_assert_str_eq(field, "cidr");
	cr_assert_eq(parse(4, "192.0.2.0/31", "192.0.2.1", NULL, 0, &field), -EINVAL);
	cr_assert_str_eq(field, "cidr");
	cr_assert_eq(parse(4, "192.0.2.0/24", "192.0.2.1", junk, 1, &field), -EINVAL);
	cr_assert_str_eq(field, "reserved");
	cr_assert_eq(parse(4, "192.0.2.0/24", "192.0.2.1", outside, 1, &field), -EINVAL);
	cr_assert_str_eq(field, "reserved");
	cr_assert_eq(parse(6, "2001:db8::/127", "2001:db8::1", NULL, 0, &field), -EINVAL);
	cr_assert_str_eq(field, "cidr");
	cr_assert_eq(parse(6, "2001:db8::/64", "192.0.2.1", NULL, 0, &field), -EINVAL);
	cr_assert_str_eq(field, "gateway");
}

Test(ipam, pool_size_and_overlap)
{
	ipam_pool a, b, c;
	const char *field, *why;
	const char *res[] = {"192.0.2.10", "192.0.2.10", "192.0.2.1"};

	cr_assert_eq(ipam_pool_parse(4, "192.0.2.0/24", "192.0.2.1", res, 3, &a, &field, &why), 0);
	/* 254 hosts - gateway - one distinct reserved (the duplicate and the gateway count once).
	 */
	cr_assert_eq(ipam_pool_size(&a), 252);
	cr_assert_eq(ipam_pool_parse(4, "192.0.2.128/25", "192.0.2.129", NULL, 0, &b, &field, &why),
	             0);
	cr_assert_eq(
	        ipam_pool_parse(4, "198.51.100.0/24", "198.51.100.1", NULL, 0, &c, &field, &why),
	        0);
	cr_assert(ipam_pools_overlap(&a, &b));
	cr_assert(ipam_pools_overlap(&b, &a));
	cr_assert_not(ipam_pools_overlap(&a, &c));
	ipam_pool_dispose(&a);
	ipam_pool_dispose(&b);
	ipam_pool_dispose(&c);
	cr_assert_eq(ipam_pool_parse(6, "2001:db8::/64", "2001:db8::1", NULL, 0, &a, &field, &why),
	             0);
	cr_assert_eq(ipam_pool_size(&a), IPAM_SIZE_CAP);
	ipam_pool_dispose(&a);
}

/* ---- routed /64s, explicit addresses, two-step release (issue 4) --------------------------- */

static void add_routed_pool(const char *cidr, const char *gw, const char *reserved)
{
	add_pool(6, cidr, gw, reserved);
	exec_sql("UPDATE ip_pools SET vps_prefix=64 WHERE id=(SELECT max(id) FROM ip_pools)");
}

/* ipam_assign with an explicit address (pool 0: the pool holding it); returns its rc. */
static int assign(int vps, int family, int64_t pool, const char *address, ipam_got *g)
{
	ipam_want w = {.family = family, .pool_id = pool, .address = address, .extra = true};

	return ipam_assign(vps, &w, g);
}

Test(ipam, routed_pool_hands_out_the_lowest_free_64_after_the_gateways)
{
	char addr[IPAM_ADDR_MAX];

	/* /62: four /64s; the gateway's (block 0) is never handed out. */
	add_routed_pool("2001:db8:a000::/62", "2001:db8:a000::1", "[]");
	for (int i = 1; i <= 4; i++)
		add_vps(i);
	alloc_expect(6, 1, "2001:db8:a000:1::/64");
	alloc_expect(6, 2, "2001:db8:a000:2::/64");
	alloc_expect(6, 3, "2001:db8:a000:3::/64");
	cr_assert_eq(ipam_allocate(6, 4, addr, NULL), -ENOSPC);
	cr_assert_str_empty(addr);
	cr_assert_eq(count_addresses(), 3, "a failed allocation must insert nothing");
	/* Stored as the network address with prefix_len 64. */
	cr_assert_eq(query_int("SELECT count(*) FROM ip_addresses WHERE prefix_len=64 AND "
	                       "address='2001:db8:a000:1::' AND vps_id=1 AND extra=0"),
	             1);
	/* A freed block comes back first: the lowest. */
	exec_sql("DELETE FROM vps WHERE id=2");
	alloc_expect(6, 4, "2001:db8:a000:2::/64");
}

Test(ipam, routed_pool_skips_blocks_holding_reserved_addresses)
{
	ipam_pool p;

	add_routed_pool("2001:db8:a000::/62", "2001:db8:a000:2::1", "[\"2001:db8:a000::9\"]");
	for (int i = 1; i <= 2; i++)
		add_vps(i);
	cr_assert_eq(ipam_pool_load(1, &p), 0);
	cr_assert_eq(p.vps_prefix, 64);
	cr_assert_eq(ipam_pool_vps_prefix(&p), 64);
	cr_assert_eq(ipam_pool_size(&p), 2, "4 blocks minus the gateway's and a reserved one");
	ipam_pool_dispose(&p);
	/* Block 0 holds a reserved address, block 2 the gateway. */
	alloc_expect(6, 1, "2001:db8:a000:1::/64");
	alloc_expect(6, 2, "2001:db8:a000:3::/64");
}

Test(ipam, vps_prefix_rules)
{
	ipam_pool p;
	const char *field = NULL, *why = NULL;

	cr_assert_eq(ipam_pool_parse(4, "192.0.2.0/24", "192.0.2.1", NULL, 0, &p, &field, &why), 0);
	cr_assert_eq(ipam_pool_set_vps_prefix(&p, -1, &field, &why), 0);
	cr_assert_eq(ipam_pool_set_vps_prefix(&p, 32, &field, &why), 0);
	cr_assert_eq(ipam_pool_vps_prefix(&p), 32);
	cr_assert_eq(ipam_pool_set_vps_prefix(&p, 64, &field, &why), -EINVAL);
	cr_assert_str_eq(field, "vps_prefix");
	ipam_pool_dispose(&p);

	cr_assert_eq(ipam_pool_parse(6, "2001:db8::/64", "2001:db8::1", NULL, 0, &p, &field, &why),
	             0);
	cr_assert_eq(ipam_pool_set_vps_prefix(&p, 128, &field, &why), 0);
	cr_assert_eq(ipam_pool_vps_prefix(&p), 128);
	/* A /64 pool holds one /64: routed pools must be /32../63. */
	cr_assert_eq(ipam_pool_set_vps_prefix(&p, 64, &field, &why), -EINVAL);
	cr_assert_str_eq(field, "cidr");
	cr_assert_eq(ipam_pool_set_vps_prefix(&p, 96, &field, &why), -EINVAL);
	cr_assert_str_eq(field, "vps_prefix");
	ipam_pool_dispose(&p);

	cr_assert_eq(ipam_pool_parse(6, "2001:db8::/63", "2001:db8::1", NULL, 0, &p, &field, &why),
	             0);
	cr_assert_eq(ipam_pool_set_vps_prefix(&p, 64, &field, &why), 0);
	cr_assert_eq(ipam_pool_size(&p), 1);
	ipam_pool_dispose(&p);
	cr_assert_eq(ipam_pool_parse(6, "2001:db8::/31", "2001:db8::1", NULL, 0, &p, &field, &why),
	             0);
	cr_assert_eq(ipam_pool_set_vps_prefix(&p, 64, &field, &why), -EINVAL);
	cr_assert_str_eq(field, "cidr");
	ipam_pool_dispose(&p);
}

Test(ipam, explicit_ipv4_address_must_be_usable_inside_the_pool_and_free)
{
	ipam_got g;

	add_pool(4, "192.0.2.0/29", "192.0.2.1", "[\"192.0.2.3\"]");
	add_pool(6, "2001:db8:100::/64", "2001:db8:100::1", "[]");
	add_vps(1);
	add_vps(2);
	cr_assert_eq(assign(1, 4, 0, "192.0.2.0", &g), -EINVAL, "network");
	cr_assert_str_eq(g.field, "address");
	cr_assert_eq(assign(1, 4, 0, "192.0.2.7", &g), -EINVAL, "broadcast");
	cr_assert_eq(assign(1, 4, 0, "192.0.2.1", &g), -EINVAL, "gateway");
	cr_assert_eq(assign(1, 4, 0, "192.0.2.3", &g), -EINVAL, "reserved");
	cr_assert_eq(assign(1, 4, 0, "198.51.100.9", &g), -EINVAL, "in no pool");
	cr_assert_str_eq(g.field, "address");
	cr_assert_eq(assign(1, 4, 0, "192.0.2.5/32", &g), -EINVAL, "a prefix length");
	cr_assert_eq(assign(1, 4, 2, "192.0.2.5", &g), -EINVAL, "pool of the other family");
	cr_assert_str_eq(g.field, "pool");
	cr_assert_eq(assign(1, 4, 9, NULL, &g), -ENOENT, "unknown pool");
	cr_assert_str_eq(g.field, "pool");
	cr_assert_eq(count_addresses(), 0, "refusals insert nothing");

	cr_assert_eq(assign(1, 4, 1, "192.0.2.5", &g), 0);
	cr_assert_str_eq(g.address, "192.0.2.5");
	cr_assert_eq(g.prefix_len, 0);
	cr_assert_eq(g.pool_id, 1);
	cr_assert_eq(assign(2, 4, 0, "192.0.2.5", &g), -EEXIST, "taken");
	cr_assert_str_eq(g.field, "address");
	cr_assert_eq(query_int("SELECT extra FROM ip_addresses WHERE address='192.0.2.5'"), 1);
	/* The lowest free ones skip it; then the pool is full. */
	alloc_expect(4, 2, "192.0.2.2");
	alloc_expect(4, 2, "192.0.2.4");
	alloc_expect(4, 2, "192.0.2.6");
	cr_assert_eq(assign(2, 4, 1, NULL, &g), -ENOSPC);
	cr_assert_str_eq(g.field, "pool");
	cr_assert_eq(count_addresses(), 4);
}

Test(ipam, explicit_routed_prefix_must_be_a_free_usable_64)
{
	ipam_got g;

	add_routed_pool("2001:db8:a000::/48", "2001:db8:a000::1", "[\"2001:db8:a000:7::1\"]");
	add_vps(1);
	add_vps(2);
	cr_assert_eq(assign(1, 6, 0, "2001:db8:a000:5::1", &g), -EINVAL, "host bits");
	cr_assert_eq(assign(1, 6, 0, "2001:db8:a000:5::/56", &g), -EINVAL, "other length");
	cr_assert_eq(assign(1, 6, 0, "2001:db8:a000::/64", &g), -EINVAL, "the gateway's /64");
	cr_assert_eq(assign(1, 6, 0, "2001:db8:a000:7::", &g), -EINVAL, "a reserved /64");
	cr_assert_eq(assign(1, 6, 0, "2001:db8:a001::", &g), -EINVAL, "outside");
	cr_assert_eq(count_addresses(), 0);
	cr_assert_eq(assign(1, 6, 0, "2001:db8:a000:5::/64", &g), 0);
	cr_assert_str_eq(g.address, "2001:db8:a000:5::");
	cr_assert_eq(g.prefix_len, 64);
	cr_assert_eq(assign(2, 6, 1, "2001:DB8:A000:5:0::", &g), -EEXIST, "taken");
	cr_assert_eq(assign(2, 6, 1, NULL, &g), 0);
	cr_assert_str_eq(g.address, "2001:db8:a000:1::");
}

Test(ipam, releasing_address_stays_taken_until_forgotten)
{
	char addr[IPAM_ADDR_MAX];
	int64_t *rows = NULL;
	size_t n = 0;
	ipam_got g;

	add_pool(4, "192.0.2.0/29", "192.0.2.1", "[]");
	add_routed_pool("2001:db8:a000::/62", "2001:db8:a000::1", "[]");
	for (int i = 1; i <= 3; i++)
		add_vps(i);
	alloc_expect(4, 1, "192.0.2.2");
	cr_assert_eq(assign(1, 4, 0, "192.0.2.3", &g), 0);
	alloc_expect(6, 1, "2001:db8:a000:1::/64");
	exec_sql("UPDATE ip_addresses SET state='releasing' WHERE address IN "
	         "('192.0.2.3', '2001:db8:a000:1::')");
	cr_assert_eq(ipam_releasing(1, &rows, &n), 0);
	cr_assert_eq(n, 2);

	/* Neither the lowest-free search nor an explicit request may take them now. */
	alloc_expect(4, 2, "192.0.2.4");
	cr_assert_eq(assign(2, 4, 0, "192.0.2.3", &g), -EEXIST);
	alloc_expect(6, 2, "2001:db8:a000:2::/64");
	cr_assert_eq(assign(3, 6, 0, "2001:db8:a000:1::/64", &g), -EEXIST);

	/* Another VPS's id forgets nothing; the right one frees both. */
	cr_assert_eq(ipam_forget(2, rows, n), 0);
	cr_assert_eq(ipam_forget(1, rows, n), 2);
	free(rows);
	cr_assert_eq(query_int("SELECT count(*) FROM ip_addresses WHERE state='releasing'"), 0);
	alloc_expect(4, 3, "192.0.2.3");
	cr_assert_eq(ipam_allocate(6, 3, addr, NULL), 0);
	cr_assert_str_eq(addr, "2001:db8:a000:1::/64");
}

Test(ipam, forget_spares_rows_released_after_the_snapshot)
{
	int64_t *rows = NULL;
	size_t n = 0;
	ipam_got g;

	add_pool(4, "192.0.2.0/29", "192.0.2.1", "[]");
	add_vps(1);
	cr_assert_eq(assign(1, 4, 0, "192.0.2.3", &g), 0);
	cr_assert_eq(assign(1, 4, 0, "192.0.2.4", &g), 0);
	exec_sql("UPDATE ip_addresses SET state='releasing' WHERE address='192.0.2.3'");
	cr_assert_eq(ipam_releasing(1, &rows, &n), 0);
	/* Released after the spec was built: that spec still holds it. */
	exec_sql("UPDATE ip_addresses SET state='releasing' WHERE address='192.0.2.4'");
	cr_assert_eq(ipam_forget(1, rows, n), 1);
	free(rows);
	cr_assert_eq(query_int("SELECT count(*) FROM ip_addresses WHERE address='192.0.2.4' "
	                       "AND state='releasing'"),
	             1);
}

Test(ipam, a_vps_holds_at_most_64_addresses_of_a_family)
{
	ipam_got g;
	ipam_want w = {.family = 4, .extra = true};

	add_pool(4, "192.0.2.0/24", "192.0.2.1", "[]");
	add_vps(1);
	exec_sql("BEGIN");
	for (int i = 0; i < IPAM_MAX_PER_VPS; i++)
		cr_assert_eq(ipam_assign(1, &w, &g), 0, "address %d", i);
	cr_assert_eq(ipam_assign(1, &w, &g), -EDQUOT);
	exec_sql("COMMIT");
	cr_assert_eq(count_addresses(), IPAM_MAX_PER_VPS);
}

Test(ipam, spec_carries_routed_prefixes_and_leaves_releasing_rows_out)
{
	json_object *spec, *v;
	spec_release rel;
	vps_spec parsed;
	json_field_error err = {0};
	ipam_got g;

	add_pool(4, "192.0.2.0/29", "192.0.2.1", "[]");
	add_pool(6, "2001:db8:100::/64", "2001:db8:100::1", "[]");
	add_routed_pool("2001:db8:a000::/62", "2001:db8:a000::1", "[]");
	add_vps(1);
	alloc_expect(4, 1, "192.0.2.2");
	alloc_expect(6, 1, "2001:db8:100::2");
	cr_assert_eq(assign(1, 6, 3, NULL, &g), 0);
	cr_assert_eq(assign(1, 4, 0, "192.0.2.5", &g), 0);
	cr_assert_eq(assign(1, 4, 0, "192.0.2.6", &g), 0);
	exec_sql("UPDATE ip_addresses SET state='releasing' WHERE address='192.0.2.6'");
	exec_sql("UPDATE vps SET throttle_mbit=7 WHERE id=1; UPDATE plans SET smtp_block=1");

	spec = job_build_spec_release(1, "running", &rel);
	cr_assert_not_null(spec);
	cr_assert_eq(rel.n, 1);
	cr_assert_eq(spec_parse(spec, &parsed, &err), 0, "agent refused %s: %s",
	             err.field ? err.field : "?", err.detail ? err.detail : "?");
	cr_assert_eq(parsed.n_ipv4, 2, "the releasing address is not in the spec");
	cr_assert_str_eq(parsed.ipv4[0], "192.0.2.2");
	cr_assert_str_eq(parsed.ipv4[1], "192.0.2.5");
	cr_assert_str_eq(parsed.gateway4, "192.0.2.1");
	cr_assert_eq(parsed.n_ipv6, 1);
	cr_assert_str_eq(parsed.ipv6[0], "2001:db8:100::2");
	cr_assert_eq(parsed.n_ipv6_routed, 1);
	cr_assert_str_eq(parsed.ipv6_routed[0], "2001:db8:a000:1::/64");
	cr_assert_str_eq(parsed.gateway6, "2001:db8:100::1", "the primary's pool gateway");
	cr_assert_eq(parsed.throttle_mbit, 7);
	cr_assert(parsed.smtp_block);
	spec_dispose(&parsed);
	cr_assert(json_object_object_get_ex(spec, "smtp_block", &v));
	cr_assert(json_object_is_type(v, json_type_boolean));
	json_object_put(spec);

	/* The agent applied it: the releasing row goes, the address is free again. */
	spec_release_done(&rel);
	cr_assert_null(rel.rowids);
	cr_assert_eq(count_addresses(), 4);
	cr_assert_eq(query_int("SELECT count(*) FROM audit WHERE action='vps.addresses.released'"),
	             1);
	alloc_expect(4, 1, "192.0.2.3");
	cr_assert_eq(assign(1, 4, 0, "192.0.2.6", &g), 0);
}
