/* test_spec.c — the agent re-validates VPS_SPEC (provisioning/spec.c): each bad field is
 * rejected and named, unknown fields are refused. Pure parsing, no files or processes. */
#include <criterion/criterion.h>
#include <stdio.h>
#include <string.h>

#include "../../provisioning/spec.h"

#define GOOD_KEY "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIAABAgMEBQYHCAkKCwwNDg8QERITFBUWFxgZGhscHR4f"

static json_object *good_spec(void)
{
	json_object *o = json_object_new_object();
	json_object *v4 = json_object_new_array(), *v6 = json_object_new_array();
	json_object *keys = json_object_new_array();

	json_object_object_add(o, "name", json_object_new_string("xvps-12"));
	json_object_object_add(o, "hostname", json_object_new_string("web1.example.com"));
	json_object_object_add(o, "type", json_object_new_string("pvh"));
	json_object_object_add(o, "vcpus", json_object_new_int(2));
	json_object_object_add(o, "memory_mib", json_object_new_int(1024));
	json_object_object_add(o, "disk_gib", json_object_new_int(10));
	json_object_object_add(o, "template", json_object_new_string("tpl-3"));
	json_object_object_add(o, "mac", json_object_new_string("00:16:3e:12:34:56"));
	json_object_object_add(o, "vifname", json_object_new_string("xvif12"));
	json_object_array_add(v4, json_object_new_string("192.0.2.10"));
	json_object_array_add(v6, json_object_new_string("2001:db8::10"));
	json_object_object_add(o, "ipv4", v4);
	json_object_object_add(o, "ipv6", v6);
	json_object_object_add(o, "gateway4", json_object_new_string("192.0.2.1"));
	json_object_object_add(o, "gateway6", NULL);
	json_object_object_add(o, "cpu_weight", json_object_new_int(512));
	json_object_object_add(o, "cpu_cap_pct", json_object_new_int(150));
	json_object_object_add(o, "net_mbit", json_object_new_int(100));
	json_object_object_add(o, "power", json_object_new_string("running"));
	json_object_array_add(keys, json_object_new_string(GOOD_KEY " user@host"));
	json_object_object_add(o, "ssh_keys", keys);
	return o;
}

/* Replaces key in a good spec with val (NULL val: JSON null) and expects a rejection
 * naming field. */
static void expect_rejected(const char *key, json_object *val, const char *field)
{
	json_object *o = good_spec();
	json_field_error fe = {0};
	vps_spec spec;

	json_object_object_add(o, key, val);
	cr_assert_neq(spec_parse(o, &spec, &fe), 0, "%s=%s was accepted", key,
	              val ? json_object_to_json_string(val) : "null");
	cr_assert_not_null(fe.field);
	cr_assert_str_eq(fe.field, field);
	cr_assert_not_null(fe.detail);
	cr_assert_null(spec.name, "a rejected spec keeps no allocations");
	json_object_put(o);
}

static void expect_hostname_rejected(const char *hostname)
{
	expect_rejected("hostname", json_object_new_string(hostname), "hostname");
}

Test(spec, accepts_a_valid_spec_and_copies_every_field)
{
	json_object *o = good_spec();
	json_field_error fe = {0};
	vps_spec spec;

	cr_assert_eq(spec_parse(o, &spec, &fe), 0, "rejected: %s %s", fe.field, fe.detail);
	json_object_put(o); /* the spec must not point into the JSON */
	cr_assert_str_eq(spec.name, "xvps-12");
	cr_assert_str_eq(spec.hostname, "web1.example.com");
	cr_assert_eq(spec.type, XL_PVH);
	cr_assert_eq(spec.vcpus, 2);
	cr_assert_eq(spec.memory_mib, 1024);
	cr_assert_eq(spec.disk_gib, 10);
	cr_assert_str_eq(spec.template_name, "tpl-3");
	cr_assert_str_eq(spec.mac, "00:16:3e:12:34:56");
	cr_assert_str_eq(spec.vifname, "xvif12");
	cr_assert_eq(spec.n_ipv4, 1);
	cr_assert_str_eq(spec.ipv4[0], "192.0.2.10");
	cr_assert_eq(spec.n_ipv6, 1);
	cr_assert_str_eq(spec.ipv6[0], "2001:db8::10");
	cr_assert_str_eq(spec.gateway4, "192.0.2.1");
	cr_assert_null(spec.gateway6);
	cr_assert_eq(spec.cpu_weight, 512);
	cr_assert_eq(spec.cpu_cap_pct, 150);
	cr_assert_eq(spec.net_mbit, 100);
	cr_assert(spec.power_running);
	cr_assert_eq(spec.n_ssh_keys, 1);
	spec_dispose(&spec);
}

Test(spec, defaults_optional_fields)
{
	json_object *o = good_spec();
	json_field_error fe = {0};
	vps_spec spec;

	json_object_object_del(o, "cpu_weight");
	json_object_object_del(o, "cpu_cap_pct");
	json_object_object_del(o, "ssh_keys");
	json_object_object_del(o, "ipv6");
	cr_assert_eq(spec_parse(o, &spec, &fe), 0);
	cr_assert_eq(spec.cpu_weight, 256);
	cr_assert_eq(spec.cpu_cap_pct, 0);
	cr_assert_eq(spec.n_ssh_keys, 0);
	cr_assert_eq(spec.n_ipv6, 0);
	spec_dispose(&spec);
	json_object_put(o);
}

Test(spec, rejects_hostname_with_quote)
{
	expect_hostname_rejected("web\"1");
}
Test(spec, rejects_hostname_with_newline)
{
	expect_hostname_rejected("web1\nvcpus=64");
}
Test(spec, rejects_hostname_with_comma)
{
	expect_hostname_rejected("web1,web2");
}
Test(spec, rejects_hostname_with_equals)
{
	expect_hostname_rejected("web=1");
}
Test(spec, rejects_hostname_with_double_dot)
{
	expect_hostname_rejected("web..example.com");
}
Test(spec, rejects_hostname_with_space)
{
	expect_hostname_rejected("web 1");
}
Test(spec, rejects_hostname_with_leading_dash)
{
	expect_hostname_rejected("-web1");
}
Test(spec, rejects_hostname_with_upper_case)
{
	expect_hostname_rejected("Web1");
}
Test(spec, rejects_hostname_of_254_chars)
{
	char h[255];

	/* 63-char labels joined by dots, cut to 254 characters, last char a letter. */
	memset(h, 'a', 254);
	for (int i = 63; i < 254; i += 64)
		h[i] = '.';
	h[254] = '\0';
	expect_hostname_rejected(h);
}

Test(spec, accepts_hostname_of_253_chars)
{
	char h[254];
	json_object *o = good_spec();
	json_field_error fe = {0};
	vps_spec spec;

	memset(h, 'a', 253);
	for (int i = 63; i < 253; i += 64)
		h[i] = '.';
	h[253] = '\0';
	json_object_object_add(o, "hostname", json_object_new_string(h));
	cr_assert_eq(spec_parse(o, &spec, &fe), 0, "%s %s", fe.field, fe.detail);
	spec_dispose(&spec);
	json_object_put(o);
}

Test(spec, rejects_cap_above_vcpus_times_100)
{
	expect_rejected("cpu_cap_pct", json_object_new_int(201), "cpu_cap_pct");
}

Test(spec, rejects_negative_cap)
{
	expect_rejected("cpu_cap_pct", json_object_new_int(-1), "cpu_cap_pct");
}

Test(spec, rejects_mac_outside_xen_oui)
{
	expect_rejected("mac", json_object_new_string("02:16:3e:12:34:56"), "mac");
}

Test(spec, rejects_malformed_mac)
{
	expect_rejected("mac", json_object_new_string("00:16:3e:12:34"), "mac");
}

Test(spec, rejects_unknown_field)
{
	expect_rejected("kernel", json_object_new_string("/boot/evil"), "kernel");
}

Test(spec, rejects_missing_required_field)
{
	json_object *o = good_spec();
	json_field_error fe = {0};
	vps_spec spec;

	json_object_object_del(o, "vifname");
	cr_assert_neq(spec_parse(o, &spec, &fe), 0);
	cr_assert_str_eq(fe.field, "vifname");
	json_object_put(o);
}

Test(spec, rejects_bad_domain_name)
{
	expect_rejected("name", json_object_new_string("xvps-1;reboot"), "name");
}

Test(spec, rejects_vcpus_out_of_range)
{
	expect_rejected("vcpus", json_object_new_int(65), "vcpus");
}

Test(spec, rejects_vcpus_as_string)
{
	expect_rejected("vcpus", json_object_new_string("2"), "vcpus");
}

Test(spec, rejects_memory_below_128)
{
	expect_rejected("memory_mib", json_object_new_int(127), "memory_mib");
}

Test(spec, rejects_disk_above_16384)
{
	expect_rejected("disk_gib", json_object_new_int(16385), "disk_gib");
}

Test(spec, rejects_weight_zero)
{
	expect_rejected("cpu_weight", json_object_new_int(0), "cpu_weight");
}

Test(spec, rejects_net_mbit_above_100000)
{
	expect_rejected("net_mbit", json_object_new_int(100001), "net_mbit");
}

Test(spec, rejects_bad_type)
{
	expect_rejected("type", json_object_new_string("kvm"), "type");
}

Test(spec, rejects_bad_power)
{
	expect_rejected("power", json_object_new_string("paused"), "power");
}

Test(spec, rejects_bad_template_name)
{
	expect_rejected("template", json_object_new_string("../tpl-1"), "template");
}

Test(spec, rejects_long_vifname)
{
	expect_rejected("vifname", json_object_new_string("vifnametoolong"), "vifname");
}

Test(spec, rejects_bad_ipv4_address)
{
	json_object *a = json_object_new_array();

	json_object_array_add(a, json_object_new_string("192.0.2.300"));
	expect_rejected("ipv4", a, "ipv4");
}

Test(spec, rejects_ipv6_in_ipv4_list)
{
	json_object *a = json_object_new_array();

	json_object_array_add(a, json_object_new_string("2001:db8::1"));
	expect_rejected("ipv4", a, "ipv4");
}

Test(spec, rejects_more_than_64_addresses)
{
	json_object *a = json_object_new_array();
	char ip[32];

	for (int i = 1; i <= 65; i++) {
		snprintf(ip, sizeof(ip), "192.0.2.%d", i);
		json_object_array_add(a, json_object_new_string(ip));
	}
	expect_rejected("ipv4", a, "ipv4");
}

Test(spec, rejects_bad_gateway6)
{
	expect_rejected("gateway6", json_object_new_string("192.0.2.1"), "gateway6");
}

Test(spec, rejects_bad_ssh_key)
{
	json_object *a = json_object_new_array();

	json_object_array_add(a, json_object_new_string("ssh-ed25519 AAAA\ncommand=evil"));
	expect_rejected("ssh_keys", a, "ssh_keys");
}

Test(spec, rejects_more_than_32_ssh_keys)
{
	json_object *a = json_object_new_array();
	char key[128];

	for (int i = 0; i < 33; i++) {
		snprintf(key, sizeof(key), GOOD_KEY " k%d", i);
		json_object_array_add(a, json_object_new_string(key));
	}
	expect_rejected("ssh_keys", a, "ssh_keys");
}

Test(spec, rejects_a_non_object)
{
	json_object *o = json_object_new_array();
	json_field_error fe = {0};
	vps_spec spec;

	cr_assert_neq(spec_parse(o, &spec, &fe), 0);
	json_object_put(o);
}

Test(spec, rejects_the_vifname_of_another_domain)
{
	expect_rejected("vifname", json_object_new_string("xvif13"), "vifname");
	expect_rejected("vifname", json_object_new_string("eth0"), "vifname");
}

static json_object *str_array(const char *a, const char *b)
{
	json_object *arr = json_object_new_array();

	json_object_array_add(arr, json_object_new_string(a));
	if (b)
		json_object_array_add(arr, json_object_new_string(b));
	return arr;
}

Test(spec, routed_prefixes_are_checked)
{
	json_object *o = good_spec();
	json_field_error fe = {0};
	vps_spec spec;

	json_object_object_add(o, "ipv6_routed", str_array("2001:db8:1:2::/64", "2001:db8:7::/48"));
	json_object_object_add(o, "throttle_mbit", json_object_new_int(5));
	json_object_object_add(o, "smtp_block", json_object_new_boolean(1));
	cr_assert_eq(spec_parse(o, &spec, &fe), 0, "%s: %s", fe.field, fe.detail);
	cr_assert_eq(spec.n_ipv6_routed, 2);
	cr_assert_str_eq(spec.ipv6_routed[1], "2001:db8:7::/48");
	cr_assert_eq(spec.throttle_mbit, 5);
	cr_assert(spec.smtp_block);
	spec_dispose(&spec);
	json_object_put(o);

	expect_rejected("ipv6_routed", str_array("2001:db8:1:2::1/64", NULL), "ipv6_routed");
	expect_rejected("ipv6_routed", str_array("2001:db8:1:2::/128", NULL), "ipv6_routed");
	expect_rejected("ipv6_routed", str_array("2001:db8::/32", NULL), "ipv6_routed");
	expect_rejected("ipv6_routed", str_array("192.0.2.0/24", NULL), "ipv6_routed");
	expect_rejected("ipv6_routed", str_array("2001:db8:1:2::/64 -j ACCEPT", NULL),
	                "ipv6_routed");
	expect_rejected("throttle_mbit", json_object_new_int(100001), "throttle_mbit");
	expect_rejected("throttle_mbit", json_object_new_int(-1), "throttle_mbit");
	expect_rejected("smtp_block", json_object_new_string("yes"), "smtp_block");
}

/* Guest settings (issue 16 item 2): resolvers, the root password hash and its serial. */
#define GOOD_HASH "$y$j9T$F5Jx5fExrKuPp53xLKQ..1$X3DX6M94c7o7TNBOtylsCsgVCXWaDM0YK6WFm9mPr9B"

Test(spec, guest_settings_are_parsed)
{
	json_object *o = good_spec(), *res = json_object_new_array();
	json_field_error fe = {0};
	vps_spec spec;

	json_object_array_add(res, json_object_new_string("192.0.2.53"));
	json_object_array_add(res, json_object_new_string("2001:db8::53"));
	json_object_object_add(o, "resolvers", res);
	json_object_object_add(o, "root_password_hash", json_object_new_string(GOOD_HASH));
	json_object_object_add(o, "password_serial", json_object_new_int64(4294967295LL));
	cr_assert_eq(spec_parse(o, &spec, &fe), 0, "%s: %s", fe.field, fe.detail);
	cr_assert_eq(spec.n_resolvers, 2);
	cr_assert_str_eq(spec.resolvers[1], "2001:db8::53");
	cr_assert_str_eq(spec.root_password_hash, GOOD_HASH);
	cr_assert_eq(spec.password_serial, 4294967295u);
	spec_dispose(&spec);
	json_object_put(o);
}

Test(spec, rejects_bad_guest_settings)
{
	json_object *four = json_object_new_array(), *bad = json_object_new_array();

	for (int i = 1; i <= 4; i++) {
		char a[32];
		snprintf(a, sizeof(a), "192.0.2.%d", i);
		json_object_array_add(four, json_object_new_string(a));
	}
	expect_rejected("resolvers", four, "resolvers");
	json_object_array_add(bad, json_object_new_string("192.0.2.1 options rotate"));
	expect_rejected("resolvers", bad, "resolvers");
	/* A serial without a hash, a hash crypt(3) never makes, a serial out of range. */
	expect_rejected("password_serial", json_object_new_int(1), "password_serial");
	expect_rejected("root_password_hash", json_object_new_string("$1$abcdefgh$ijklmnopqrstu"),
	                "root_password_hash");
	expect_rejected("root_password_hash", json_object_new_string("$y$j9T$ab:cd$efghijklmnopq"),
	                "root_password_hash");
	expect_rejected("root_password_hash", json_object_new_string(GOOD_HASH),
	                "password_serial"); /* no serial */
	expect_rejected("password_serial", json_object_new_int64(4294967296LL), "password_serial");
}
