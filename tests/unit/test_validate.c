/* test_validate.c — the shared validators (common/validate.c): what each accepts and, above all,
 * what each rejects (every bad hostname of issue 3's "Bad input" list). Pure functions. */
#include <criterion/criterion.h>
#include <stdio.h>
#include <string.h>

#include "../../common/validate.h"

static void reject_hostname(const char *s)
{
	const char *why = NULL;
	cr_assert(!valid_hostname(s, &why), "accepted hostname \"%s\"", s);
	cr_assert_not_null(why, "no reason for \"%s\"", s);
}

Test(validate, accepts_good_hostnames)
{
	const char *good[] = {"a", "web1", "web1.example.com", "x-y.z9", "0abc.de", "a.b.c.d.e.f"};
	for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++)
		cr_assert(valid_hostname(good[i], NULL), "%s", good[i]);
}

Test(validate, rejects_hostname_with_quotes)
{
	reject_hostname("web\"1");
	reject_hostname("web'1");
}

Test(validate, rejects_hostname_with_newline)
{
	reject_hostname("web1\n");
	reject_hostname("web1\nextra=1");
}

Test(validate, rejects_hostname_with_comma_equals_space)
{
	reject_hostname("a,b");
	reject_hostname("a=b");
	reject_hostname("a b");
	reject_hostname(" web");
	reject_hostname("web\t1");
}

Test(validate, rejects_hostname_with_empty_labels)
{
	reject_hostname("a..b");
	reject_hostname(".a");
	reject_hostname("a.");
	reject_hostname("..");
	reject_hostname(".");
	reject_hostname("");
	reject_hostname(NULL);
}

Test(validate, rejects_hostname_with_leading_or_trailing_dash)
{
	reject_hostname("-web");
	reject_hostname("web-");
	reject_hostname("a.-b");
	reject_hostname("a-.b");
}

Test(validate, rejects_upper_case_hostname)
{
	reject_hostname("Web1");
	reject_hostname("web1.EXAMPLE.com");
}

Test(validate, rejects_hostname_over_253_characters)
{
	char buf[300];
	/* 4 labels of 63 + 3 dots = 255 > 253 */
	memset(buf, 'a', sizeof(buf));
	buf[63] = buf[127] = buf[191] = '.';
	buf[255] = '\0';
	reject_hostname(buf);
	/* exactly 253: 63+1+63+1+63+1+61 */
	buf[253] = '\0';
	cr_assert(valid_hostname(buf, NULL));
}

Test(validate, rejects_hostname_label_over_63)
{
	char buf[80];
	memset(buf, 'a', 64);
	buf[64] = '\0';
	reject_hostname(buf);
	buf[63] = '\0';
	cr_assert(valid_hostname(buf, NULL));
}

Test(validate, rejects_hostname_with_other_characters)
{
	reject_hostname("web_1");
	reject_hostname("web/1");
	reject_hostname("wéb");
	reject_hostname("a\\b");
	reject_hostname("a;b");
}

Test(validate, username_rules)
{
	cr_assert(valid_username("admin", NULL));
	cr_assert(valid_username("a.b_c-d", NULL));
	cr_assert(!valid_username("ab", NULL));
	cr_assert(!valid_username("1abc", NULL));
	cr_assert(!valid_username("Admin", NULL));
	cr_assert(!valid_username("abc def", NULL));
	cr_assert(!valid_username("abcdefghijabcdefghijabcdefghijabc", NULL));
}

Test(validate, email_rules)
{
	cr_assert(valid_email("a@b.co", NULL));
	cr_assert(!valid_email("ab.co", NULL));
	cr_assert(!valid_email("a@@b.co", NULL));
	cr_assert(!valid_email("a@bco", NULL));
	cr_assert(!valid_email("a b@c.de", NULL));
	cr_assert(!valid_email("a\"@c.de", NULL));
	cr_assert(!valid_email("<a@c.de>", NULL));
	cr_assert(!valid_email("@c.de", NULL));
}

Test(validate, password_length)
{
	cr_assert(valid_password("12345678", NULL));
	cr_assert(!valid_password("1234567", NULL));
	char big[1100];
	memset(big, 'x', 1025);
	big[1025] = '\0';
	cr_assert(!valid_password(big, NULL));
}

Test(validate, label_rules)
{
	cr_assert(valid_label("Debian 12 (bookworm)", NULL));
	cr_assert(valid_label("plan:small+1.0_x", NULL));
	cr_assert(!valid_label("", NULL));
	cr_assert(!valid_label(" x", NULL));
	cr_assert(!valid_label("-x", NULL));
	cr_assert(!valid_label("a\"b", NULL));
	cr_assert(!valid_label("a\nb", NULL));
	cr_assert(!valid_label("a,b", NULL));
}

Test(validate, domain_and_template_names)
{
	cr_assert(valid_domain_name("xvps-1", NULL));
	cr_assert(valid_domain_name("xvps-1234567890", NULL));
	cr_assert(!valid_domain_name("xvps-0", NULL));
	cr_assert(!valid_domain_name("xvps-01", NULL));
	cr_assert(!valid_domain_name("xvps-", NULL));
	cr_assert(!valid_domain_name("xvps-12345678901", NULL));
	cr_assert(!valid_domain_name("xvps-1a", NULL));
	cr_assert(!valid_domain_name("vps-1", NULL));
	cr_assert(valid_template_name("tpl-3", NULL));
	cr_assert(!valid_template_name("tpl-x", NULL));
	cr_assert(!valid_template_name("xvps-3", NULL));
}

Test(validate, vifname_rules)
{
	cr_assert(valid_vifname("vx12", NULL));
	cr_assert(valid_vifname("abcdefghijk", NULL));
	cr_assert(!valid_vifname("abcdefghijkl", NULL));
	cr_assert(!valid_vifname("1vx", NULL));
	cr_assert(!valid_vifname("vx-1", NULL));
	cr_assert(!valid_vifname("", NULL));
}

Test(validate, mac_rules)
{
	cr_assert(valid_mac("02:00:00:00:00:01", NULL));
	cr_assert(valid_xen_mac("00:16:3e:12:34:56", NULL));
	cr_assert(!valid_xen_mac("02:00:00:00:00:01", NULL));
	cr_assert(!valid_mac("00:16:3E:12:34:56", NULL));
	cr_assert(!valid_mac("01:16:3e:12:34:56", NULL), "multicast");
	cr_assert(!valid_mac("00:16:3e:12:34:5", NULL));
	cr_assert(!valid_mac("00-16-3e-12-34-56", NULL));
	cr_assert(!valid_mac("00:16:3e:12:34:5\"", NULL));
}

Test(validate, parse_ipv4_rules)
{
	uint8_t a[4];
	cr_assert(parse_ipv4("192.0.2.10", a));
	cr_assert(a[0] == 192 && a[1] == 0 && a[2] == 2 && a[3] == 10);
	cr_assert(parse_ipv4("0.0.0.0", NULL));
	cr_assert(!parse_ipv4("192.0.2.010", NULL), "leading zero");
	cr_assert(!parse_ipv4("192.0.2.256", NULL));
	cr_assert(!parse_ipv4("192.0.2", NULL));
	cr_assert(!parse_ipv4("192.0.2.1.", NULL));
	cr_assert(!parse_ipv4("192.0.2.1 ", NULL));
	cr_assert(!parse_ipv4("0x7f.0.0.1", NULL));
	cr_assert(!parse_ipv4("", NULL));
}

Test(validate, parse_ipv6_rules)
{
	uint8_t a[16];
	cr_assert(parse_ipv6("2001:db8::10", a));
	cr_assert(a[0] == 0x20 && a[1] == 0x01 && a[15] == 0x10);
	cr_assert(!parse_ipv6("2001:db8:::1", NULL));
	cr_assert(!parse_ipv6("192.0.2.1", NULL));
	cr_assert(!parse_ipv6("2001:db8::1/64", NULL));
}

Test(validate, parse_cidr_rejects_host_bits)
{
	uint8_t net[16];
	int p;
	cr_assert(parse_cidr(4, "192.0.2.0/24", net, &p, NULL));
	cr_assert_eq(p, 24);
	cr_assert(!parse_cidr(4, "192.0.2.1/24", net, &p, NULL));
	cr_assert(!parse_cidr(4, "192.0.2.0/7", net, &p, NULL));
	cr_assert(!parse_cidr(4, "192.0.2.0/33", net, &p, NULL));
	cr_assert(!parse_cidr(4, "192.0.2.0", net, &p, NULL));
	cr_assert(!parse_cidr(4, "192.0.2.0/024x", net, &p, NULL));
	cr_assert(parse_cidr(6, "2001:db8::/64", net, &p, NULL));
	cr_assert(!parse_cidr(6, "2001:db8::1/64", net, &p, NULL));
	cr_assert(parse_cidr(4, "10.0.0.128/25", net, &p, NULL));
	cr_assert(!parse_cidr(4, "10.0.0.129/25", net, &p, NULL));
}

Test(validate, cidr_contains_addresses)
{
	uint8_t net[16], a[16] = {0};
	int p;
	cr_assert(parse_cidr(4, "192.0.2.0/24", net, &p, NULL));
	cr_assert(parse_ipv4("192.0.2.77", a));
	cr_assert(cidr_contains(4, net, p, a));
	cr_assert(parse_ipv4("192.0.3.1", a));
	cr_assert(!cidr_contains(4, net, p, a));
	cr_assert(parse_cidr(6, "2001:db8:0:1::/64", net, &p, NULL));
	cr_assert(parse_ipv6("2001:db8:0:1::99", a));
	cr_assert(cidr_contains(6, net, p, a));
	cr_assert(parse_ipv6("2001:db8:0:2::99", a));
	cr_assert(!cidr_contains(6, net, p, a));
}

Test(validate, ssh_key_rules)
{
	const char *k =
	        "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIAABAgMEBQYHCAkKCwwNDg8QERITFBUWFxgZGhscHR4f";
	cr_assert(valid_ssh_key(k, NULL));
	char buf[256];
	snprintf(buf, sizeof(buf), "%s me@host", k);
	cr_assert(valid_ssh_key(buf, NULL));
	snprintf(buf, sizeof(buf), "%s\nssh-rsa AAAA", k);
	cr_assert(!valid_ssh_key(buf, NULL), "newline");
	cr_assert(!valid_ssh_key("ssh-dss AAAAB3NzaC1kc3MAAACBAP", NULL));
	cr_assert(!valid_ssh_key("ssh-ed25519", NULL));
	cr_assert(!valid_ssh_key("ssh-ed25519 AAAA!!!notbase64!!!!!", NULL));
}

Test(validate, lvm_name_rules)
{
	cr_assert(valid_lvm_name("xvps-12", NULL));
	cr_assert(valid_lvm_name("vg_xvps", NULL));
	cr_assert(!valid_lvm_name("-x", NULL));
	cr_assert(!valid_lvm_name("..", NULL));
	cr_assert(!valid_lvm_name("a_tmeta", NULL));
	cr_assert(!valid_lvm_name("snapshot1", NULL));
	cr_assert(!valid_lvm_name("pvmove0", NULL));
	cr_assert(!valid_lvm_name("a b", NULL));
	cr_assert(!valid_lvm_name("a/b", NULL));
}

Test(validate, parse_int_range_is_strict)
{
	long long v;
	cr_assert(parse_int_range("42", 0, 100, &v));
	cr_assert_eq(v, 42);
	cr_assert(parse_int_range("-5", -10, 0, &v));
	cr_assert_eq(v, -5);
	cr_assert(!parse_int_range("101", 0, 100, &v));
	cr_assert(!parse_int_range(" 4", 0, 100, &v));
	cr_assert(!parse_int_range("4 ", 0, 100, &v));
	cr_assert(!parse_int_range("+4", 0, 100, &v));
	cr_assert(!parse_int_range("0x10", 0, 100, &v));
	cr_assert(!parse_int_range("", 0, 100, &v));
	cr_assert(!parse_int_range("99999999999999999999999", 0, 100, &v));
}

Test(validate, file_name_is_one_path_component)
{
	cr_assert(valid_file_name("xvps-12", 64, NULL));
	cr_assert(valid_file_name("Debian_12.img", 64, NULL));
	cr_assert(!valid_file_name("", 64, NULL));
	cr_assert(!valid_file_name(NULL, 64, NULL));
	cr_assert(!valid_file_name(".hidden", 64, NULL));
	cr_assert(!valid_file_name("..", 64, NULL));
	cr_assert(!valid_file_name("a/b", 64, NULL));
	cr_assert(!valid_file_name("a b", 64, NULL));
	cr_assert(valid_file_name("abcd", 4, NULL));
	cr_assert(!valid_file_name("abcde", 4, NULL));
}
