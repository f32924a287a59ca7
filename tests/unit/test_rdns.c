/* test_rdns.c — reverse DNS's pure parts and its store (panel/rdns.c, rdns_check.c, its
 * migration in panel/schema.c): PTR owner names, the derived and configured zones, zone list
 * parsing, the PTR name's rules, and the trigger that queues a released address's PTRs for removal
 * from PowerDNS, whether the address goes alone or with its VPS (ON DELETE CASCADE). No PowerDNS
 * here: tests/rdns/run.sh runs against a real one. */
#include <criterion/criterion.h>
#include <stdio.h>
#include <string.h>

#include "../../common/validate.h"
#include "../../panel/config.h"
#include "../../panel/rdns.h"
#include "../../panel/store.h"
#include "panel_testdb.h"

__attribute__((weak)) xvps_app *g_app;

static char tmp[64];

static void setup(void)
{
	testdb_open(tmp, sizeof(tmp), "rdns");
	testdb_base_rows();
	exec_sql(
	        "INSERT INTO vps(id, hostname, customer_id, plan_id, template_id, domain, vifname, "
	        "mac, state, created_at) VALUES"
	        "(1, 'a.example', 1, 1, 1, 'xvps-1', 'xvif1', '00:16:3e:00:00:01', 'running', 0);"
	        "INSERT INTO ip_pools(id, family, cidr, gateway, created_at) VALUES"
	        "(1, 4, '192.0.2.0/24', '192.0.2.1', 0), (2, 6, '2001:db8::/48', '2001:db8::1', 0);"
	        "INSERT INTO ip_addresses(pool_id, address, vps_id) VALUES(1, '192.0.2.7', 1),"
	        "(1, '192.0.2.8', 1);"
	        "INSERT INTO ip_addresses(pool_id, address, vps_id, prefix_len) "
	        "VALUES(2, '2001:db8:0:5::', 1, 64);"
	        "INSERT INTO rdns_ptr(address, family, vps_id, pool_id, holder, name, zone, "
	        "published, updated_at) VALUES"
	        "('192.0.2.7', 4, 1, 1, '192.0.2.7', 'a.example.net', '2.0.192.in-addr.arpa.', 1, "
	        "0),"
	        "('192.0.2.8', 4, 1, 1, '192.0.2.8', 'b.example.net', '2.0.192.in-addr.arpa.', 0, "
	        "0),"
	        "('2001:db8:0:5::53', 6, 1, 2, '2001:db8:0:5::', 'c.example.net', 'z6.', 1, 0);");
}

static void teardown(void)
{
	testdb_close(tmp);
}

TestSuite(rdns, .init = setup, .fini = teardown);

Test(rdns, ptr_owner_names)
{
	uint8_t a[16] = {0};
	char out[RDNS_NAME_MAX];

	cr_assert(parse_ipv4("192.0.2.7", a));
	rdns_ptr_owner(4, a, out);
	cr_assert_str_eq(out, "7.2.0.192.in-addr.arpa.");
	cr_assert(parse_ipv6("2001:db8::567:89ab", a));
	rdns_ptr_owner(6, a, out);
	cr_assert_str_eq(out, "b.a.9.8.7.6.5.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.0.8.b.d.0.1.0.0.2."
	                      "ip6.arpa.");
}

Test(rdns, derived_and_configured_zones)
{
	uint8_t a[16] = {0};
	char owner[RDNS_NAME_MAX], zone[RDNS_NAME_MAX];

	cr_assert(parse_ipv4("192.0.2.7", a));
	rdns_ptr_owner(4, a, owner);
	cr_assert(rdns_zone_for(4, a, owner, zone));
	cr_assert_str_eq(zone, "2.0.192.in-addr.arpa.");
	cr_assert(parse_ipv6("2001:db8:1:2::1", a));
	rdns_ptr_owner(6, a, owner);
	cr_assert(rdns_zone_for(6, a, owner, zone));
	cr_assert_str_eq(zone, "1.0.0.0.8.b.d.0.1.0.0.2.ip6.arpa."); /* the /48 */
	/* Configured: the longest zone holding the name, at a label boundary only. */
	exec_sql("INSERT INTO settings(name, value) VALUES('rdns_zones', "
	         "'192.in-addr.arpa, 0.192.in-addr.arpa.,12.0.192.in-addr.arpa,"
	         "8.b.d.0.1.0.0.2.ip6.arpa')");
	cr_assert(parse_ipv4("192.0.2.7", a));
	rdns_ptr_owner(4, a, owner);
	cr_assert(rdns_zone_for(4, a, owner, zone));
	cr_assert_str_eq(zone, "0.192.in-addr.arpa.");
	cr_assert(parse_ipv6("2001:db8:1:2::1", a));
	rdns_ptr_owner(6, a, owner);
	cr_assert(rdns_zone_for(6, a, owner, zone));
	cr_assert_str_eq(zone, "8.b.d.0.1.0.0.2.ip6.arpa.");
	cr_assert(parse_ipv4("198.51.100.1", a)); /* no configured zone holds it */
	rdns_ptr_owner(4, a, owner);
	cr_assert(rdns_zone_for(4, a, owner, zone));
	cr_assert_str_eq(zone, "100.51.198.in-addr.arpa.");
}

Test(rdns, zone_lists)
{
	char z[RDNS_ZONES_MAX][RDNS_NAME_MAX];
	const char *why = NULL;

	cr_assert_eq(rdns_zones_parse("", z, RDNS_ZONES_MAX, &why), 0);
	cr_assert_eq(rdns_zones_parse("2.0.192.in-addr.arpa., 8.b.d.0.1.0.0.2.ip6.arpa", z,
	                              RDNS_ZONES_MAX, &why),
	             2);
	cr_assert_str_eq(z[0], "2.0.192.in-addr.arpa.");
	cr_assert_str_eq(z[1], "8.b.d.0.1.0.0.2.ip6.arpa.");
	cr_assert_eq(rdns_zones_parse("example.net", z, RDNS_ZONES_MAX, &why), -1);
	cr_assert_eq(rdns_zones_parse("a,,b.in-addr.arpa", z, RDNS_ZONES_MAX, &why), -1);
	cr_assert_eq(rdns_zones_parse("X.in-addr.arpa", z, RDNS_ZONES_MAX, &why), -1);
	cr_assert_eq(rdns_zones_parse("1.in-addr.arpa,2.in-addr.arpa", z, 1, &why), -1);
}

Test(rdns, ptr_names)
{
	char out[RDNS_NAME_MAX];
	const char *why = NULL;

	cr_assert(rdns_name_ok("host.example.net", out, &why));
	cr_assert_str_eq(out, "host.example.net");
	cr_assert(rdns_name_ok("host.example.net.", out, &why));
	cr_assert_str_eq(out, "host.example.net");
	cr_assert_not(rdns_name_ok("", out, &why));
	cr_assert_not(rdns_name_ok("localhost", out, &why));
	cr_assert_not(rdns_name_ok("Host.example.net", out, &why));
	cr_assert_not(rdns_name_ok("a_b.example.net", out, &why));
	cr_assert_not(rdns_name_ok("-a.example.net", out, &why));
	cr_assert_not(rdns_name_ok("a..example.net", out, &why));
	cr_assert_not(rdns_name_ok("192.0.2.7", out, &why));
	cr_assert_not(rdns_name_ok("host.example.net..", out, &why));
}

Test(rdns, released_address_queues_its_published_ptr)
{
	exec_sql("DELETE FROM ip_addresses WHERE address = '192.0.2.7'");
	cr_assert_eq(query_int("SELECT count(*) FROM rdns_ptr WHERE address = '192.0.2.7'"), 0);
	cr_assert_eq(query_int("SELECT count(*) FROM rdns_removals WHERE address = '192.0.2.7' "
	                       "AND zone = '2.0.192.in-addr.arpa.'"),
	             1);
	cr_assert_eq(query_int("SELECT count(*) FROM rdns_ptr"), 2); /* the others stay */
	/* An unpublished PTR has nothing on PowerDNS to remove. */
	exec_sql("DELETE FROM ip_addresses WHERE address = '192.0.2.8'");
	cr_assert_eq(query_int("SELECT count(*) FROM rdns_removals"), 1);
}

Test(rdns, deleted_vps_queues_every_ptr)
{
	exec_sql("DELETE FROM vps WHERE id = 1"); /* ip_addresses go by ON DELETE CASCADE */
	cr_assert_eq(query_int("SELECT count(*) FROM rdns_ptr"), 0);
	cr_assert_eq(query_int("SELECT count(*) FROM rdns_removals"), 2);
	cr_assert_eq(query_int("SELECT count(*) FROM rdns_removals WHERE address = "
	                       "'2001:db8:0:5::53' AND zone = 'z6.'"),
	             1);
}
