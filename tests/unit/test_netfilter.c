/* test_netfilter.c — provisioning/netfilter.c and netfilter_legacy.c: the rendered nftables
 * transactions against golden files (tests/golden/rules/) and exact texts, refusal of values that
 * did not validate, and what apply/remove/base/list send, against a FAKE nftables seam that
 * records every command buffer (and answers as scripted) and a FAKE runner for the legacy
 * *tables cleanup. The same code runs against the real kernel in tests/netns/run.sh. */
#include <criterion/criterion.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "../../common/util.h"
#include "../../provisioning/net.h"
#include "../../provisioning/spec.h"

#define GOLDEN "tests/golden/rules/"

typedef struct tx {
	char *cmds;
	bool check;
} tx;

typedef struct fake {
	tx txs[16];
	size_t n;
	int fail;            /* fail this many transactions (-EIO) before succeeding */
	int check_rc;        /* answer of check-only buffers (the reject probe) */
	const char *listing; /* what a list command prints */
	/* runner (legacy cleanup): the *-save output per table e, 4, 6, and the argv/stdin seen */
	const char *save[3];
	char *argv[16], *in[16];
	size_t nrun;
} fake;

static int fake_nft(void *arg, const char *cmds, bool check_only, char **out, char err[NET_ERRLEN])
{
	fake *f = arg;

	cr_assert_lt(f->n, 16);
	f->txs[f->n].cmds = strdup(cmds);
	f->txs[f->n].check = check_only;
	f->n++;
	if (check_only)
		return f->check_rc;
	if (f->fail > 0) {
		f->fail--;
		snprintf(err, NET_ERRLEN, "nftables: Error: Could not process rule: Device busy");
		return -EIO;
	}
	if (out)
		*out = strdup(f->listing ? f->listing : "");
	return 0;
}

static int fake_run(void *ctx, const char *const argv[], const char *in, size_t in_len,
                    int timeout_ms, runner_result *res)
{
	fake *f = ctx;
	int t = strncmp(argv[0], "ebtables", 8) == 0   ? 0
	        : strncmp(argv[0], "iptables", 8) == 0 ? 1
	                                               : 2;

	runner_result_init(res);
	cr_assert_lt(f->nrun, 16);
	f->argv[f->nrun] = runner_argv_str(argv);
	f->in[f->nrun] = in ? strndup(in, in_len) : NULL;
	f->nrun++;
	res->out = strdup(strstr(argv[0], "-save") && f->save[t] ? f->save[t] : "");
	res->err = strdup("");
	res->exit_status = 0;
	return 0;
}

static void fake_free(fake *f)
{
	for (size_t i = 0; i < f->n; i++)
		free(f->txs[i].cmds);
	for (size_t i = 0; i < f->nrun; i++) {
		free(f->argv[i]);
		free(f->in[i]);
	}
	memset(f, 0, sizeof(*f));
}

static net_ctx ctx_with(fake *f)
{
	net_ctx c;
	memset(&c, 0, sizeof(c));
	c.run = (runner){fake_run, f};
	c.nft = fake_nft;
	c.nft_arg = f;
	c.enabled = true;
	pthread_mutex_init(&c.nf_lock, NULL);
	return c;
}

static void parse_spec(vps_spec *s, const char *json)
{
	json_field_error fe = {0};
	json_object *o = json_tokener_parse(json);

	cr_assert_not_null(o, "bad test json");
	cr_assert_eq(spec_parse(o, s, &fe), 0, "spec_parse: %s %s", fe.field, fe.detail);
	json_object_put(o);
}

#define SPEC_HEAD                                                                                  \
	"{\"name\":\"xvps-12\",\"hostname\":\"web1.example.com\",\"type\":\"pvh\",\"vcpus\":1,"    \
	"\"memory_mib\":512,\"disk_gib\":5,\"template\":\"tpl-1\",\"mac\":\"00:16:3e:12:34:56\","  \
	"\"vifname\":\"xvif12\",\"power\":\"running\""

static void full_spec(vps_spec *s)
{
	parse_spec(s,
	           SPEC_HEAD ",\"ipv4\":[\"192.0.2.10\",\"192.0.2.11\"],"
	                     "\"ipv6\":[\"2001:db8::10\"],\"ipv6_routed\":[\"2001:db8:1:2::/64\"],"
	                     "\"smtp_block\":true}");
}

static void expect_golden(const char *file, const char *got)
{
	char path[256], *want = NULL;
	size_t len = 0;

	snprintf(path, sizeof(path), GOLDEN "%s", file);
	if (getenv("XVPS_UPDATE_GOLDEN"))
		cr_assert_eq(write_file_atomic(path, got, strlen(got), 0644), 0);
	cr_assert_eq(read_file(path, 1 << 20, &want, &len), 0, "cannot read %s", path);
	cr_assert_str_eq(got, want, "%s differs from the rendered transaction:\n%s", path, got);
	free(want);
}

Test(netfilter, renders_the_golden_transaction)
{
	vps_spec s = {0};
	char *got, *nodrop;

	full_spec(&s);
	got = nf_render(&s, true, NF_HOOK_VIF | NF_HOOK_EMU);
	cr_assert_not_null(got);
	expect_golden("xvif12.nft", got);
	/* Without netdev reject in the kernel, SMTP is dropped; nothing else changes. */
	nodrop = nf_render(&s, false, NF_HOOK_VIF | NF_HOOK_EMU);
	cr_assert_not_null(nodrop);
	char *at = strstr(got, "reject with tcp reset");
	cr_assert_not_null(at);
	cr_assert_eq(strncmp(nodrop, got, (size_t)(at - got)), 0);
	cr_assert_eq(strncmp(nodrop + (at - got), "drop\n", 5), 0);
	cr_assert_str_eq(nodrop + (at - got) + 4, at + strlen("reject with tcp reset"));
	free(nodrop);
	free(got);
	spec_dispose(&s);
}

/* nft_batch.c sends, without libnftables, the very expressions nft compiles from nf_render's
 * text: tests/golden/rules/xvif12.netlink and xvif13.netlink are what the real nft printed for
 * xvif12.nft and xvif13.nft (`nft --debug=netlink -f FILE` as root in a namespace holding dummy
 * links xvif12, xvif12-emu and xvif13, its "netdev (null) (null) ..." lines of the table and
 * chains left out). xvif13 has prefixes of 48, 49, 56 and 60 bits (nft masks a partial byte),
 * no smtp_block and no "-emu" tap. */
static void expect_netlink(const char *file, const char *got)
{
	char path[256], *want = NULL;
	size_t len = 0;

	cr_assert_not_null(got);
	snprintf(path, sizeof(path), GOLDEN "%s", file);
	cr_assert_eq(read_file(path, 1 << 20, &want, &len), 0, "cannot read %s", path);
	cr_assert_str_eq(got, want, "%s differs from the batch:\n%s", path, got);
	free(want);
}

Test(netfilter, batch_carries_what_nft_compiles_from_the_text)
{
	vps_spec s = {0}, t = {0};
	char *got;

	full_spec(&s);
	got = nf_render(&s, true, NF_HOOK_VIF | NF_HOOK_EMU);
	expect_golden("xvif12.nft", got);
	free(got);
	expect_netlink("xvif12.netlink",
	               got = nf_batch_describe(&s, true, NF_HOOK_VIF | NF_HOOK_EMU));
	free(got);
	parse_spec(&t,
	           "{\"name\":\"xvps-13\",\"hostname\":\"web1.example.com\",\"type\":\"pvh\","
	           "\"vcpus\":1,\"memory_mib\":512,\"disk_gib\":5,\"template\":\"tpl-1\","
	           "\"mac\":\"00:16:3e:ab:cd:ef\",\"vifname\":\"xvif13\",\"power\":\"running\","
	           "\"ipv4\":[\"198.51.100.7\"],\"ipv6\":[\"2001:db8::10\",\"2001:db8:ffff::1\"],"
	           "\"ipv6_routed\":[\"2001:db8:1:10::/60\",\"2001:db8:2:300::/56\","
	           "\"2001:db8:8000::/49\",\"2001:db8:3::/48\"],\"smtp_block\":false}");
	got = nf_render(&t, false, NF_HOOK_VIF);
	expect_golden("xvif13.nft", got);
	free(got);
	expect_netlink("xvif13.netlink", got = nf_batch_describe(&t, false, NF_HOOK_VIF));
	free(got);
	spec_dispose(&s);
	spec_dispose(&t);
}

Test(netfilter, neighbour_advertisements_only_for_own_addresses)
{
	vps_spec s = {0};
	char *got;

	parse_spec(&s, SPEC_HEAD ",\"ipv6\":[\"2001:db8:42::1:2\",\"2001:db8::ff00:1\"],"
	                         "\"ipv6_routed\":[\"2001:db8:77::/48\",\"2001:db8:1:2::/63\"]}");
	got = nf_render(&s, true, 0);
	cr_assert_not_null(got);
	static const char *const want[] = {
	        "icmpv6 type nd-neighbor-advert @th,64,128 0x20010db8004200000000000000010002 "
	        "accept",
	        "icmpv6 type nd-neighbor-advert @th,64,128 0x20010db80000000000000000ff000001 "
	        "accept",
	        "icmpv6 type nd-neighbor-advert @th,64,48 0x20010db80077 accept",
	        "icmpv6 type nd-neighbor-advert @th,64,63 0x100086dc00008001 accept",
	        "icmpv6 type nd-neighbor-advert @th,64,64 0xfe80000000000000 accept\n"
	        "add rule netdev xvps-xvif12 filter icmpv6 type nd-neighbor-advert drop\n"};
	for (size_t i = 0; i < sizeof(want) / sizeof(want[0]); i++)
		cr_assert_not_null(strstr(got, want[i]), "missing %s in:\n%s", want[i], got);
	/* Every NA rule comes before the first rule that accepts by source address. */
	cr_assert_lt(strstr(got, "nd-neighbor-advert drop"), strstr(got, "ip6 saddr fe80::/64"));
	/* Solicitations from :: (DAD) pass; from elsewhere only the guest's own sources do. */
	cr_assert_not_null(strstr(got, "ip6 saddr :: icmpv6 type nd-neighbor-solicit accept"));
	free(got);
	spec_dispose(&s);
}

Test(netfilter, no_address_means_everything_dropped)
{
	vps_spec s = {0};
	char *got;

	parse_spec(&s, SPEC_HEAD "}");
	got = nf_render(&s, true, 0);
	cr_assert_not_null(got);
	cr_assert_null(strstr(got, "ip saddr"), "a VPS without IPv4 may not send IPv4:\n%s", got);
	cr_assert_null(strstr(got, "@th,64,128"), "no NA target but link-local");
	cr_assert_null(strstr(got, "dport 25"), "no SMTP rule unless asked");
	cr_assert_not_null(strstr(got, "arp saddr ip 0.0.0.0 accept"), "ARP probes still pass");
	cr_assert_null(strstr(got, "hook ingress"), "no device, no hook:\n%s", got);
	static const char end[] = "add rule netdev xvps-xvif12 filter drop\n";
	cr_assert_str_eq(got + strlen(got) - strlen(end), end, "the chain ends in drop:\n%s", got);
	free(got);
	spec_dispose(&s);
}

Test(netfilter, refuses_values_that_did_not_validate)
{
	vps_spec s = {0};
	char *saved, buf[] = "192.0.2.1 accept";
	fake f = {0};
	net_ctx c = ctx_with(&f);
	char err[NET_ERRLEN] = "";

	full_spec(&s);
	saved = s.ipv4[0];
	s.ipv4[0] = buf; /* as if a caller skipped spec_parse */
	cr_assert_null(nf_render(&s, true, 0));
	cr_assert_eq(nf_apply(&c, &s, err), -EINVAL);
	s.ipv4[0] = saved;
	saved = s.vifname;
	s.vifname = (char *)"xvif13"; /* another domain's vif */
	cr_assert_null(nf_render(&s, true, 0));
	s.vifname = saved;
	cr_assert_eq(f.n, 0, "nothing may run for a refused spec");
	cr_assert_eq(nf_remove(&c, "eth0", err), -EINVAL);
	cr_assert_eq(nf_remove(&c, "xvif1 x", err), -EINVAL);
	cr_assert_null(nf_render_remove("xvif1\"; flush ruleset"));
	cr_assert_eq(nf_hook(&c, "xvif1\"; flush ruleset", err), -EINVAL);
	cr_assert_eq(f.n, 0);
	spec_dispose(&s);
}

Test(netfilter, apply_is_one_transaction)
{
	vps_spec s = {0};
	fake f = {.check_rc = -ENOENT};
	net_ctx c = ctx_with(&f);
	char err[NET_ERRLEN] = "", *want;

	full_spec(&s);
	cr_assert_eq(nf_apply(&c, &s, err), 0, "%s", err);
	cr_assert_eq(f.n, 2, "the reject probe, then one transaction; got %zu", f.n);
	cr_assert(f.txs[0].check, "the probe is check-only");
	cr_assert_not_null(strstr(f.txs[0].cmds, "reject with tcp reset"));
	cr_assert_not(f.txs[1].check);
	want = nf_render(&s, false, 0); /* the probe said no; no device in the fake sysfs */
	cr_assert_str_eq(f.txs[1].cmds, want);
	static const char head[] = "add table netdev xvps-xvif12\n"
	                           "add chain netdev xvps-xvif12 filter\n"
	                           "add chain netdev xvps-xvif12 rate\n"
	                           "flush chain netdev xvps-xvif12 filter\n";
	cr_assert_eq(strncmp(want, head, strlen(head)), 0,
	             "the table and chain are declared and emptied first:\n%s", want);
	free(want);
	fake_free(&f);

	f.check_rc = 0;
	c.nft_arg = &f;
	c.run.ctx = &f;
	cr_assert_eq(nf_apply(&c, &s, err), 0, "%s", err);
	cr_assert_eq(f.n, 1, "the probe is asked once per context");
	cr_assert_str_eq(f.txs[0].cmds, (want = nf_render(&s, false, 0)));
	free(want);
	fake_free(&f);
	spec_dispose(&s);
	pthread_mutex_destroy(&c.nf_lock);
}

Test(netfilter, a_lost_transaction_race_is_retried)
{
	vps_spec s = {0};
	fake f = {.fail = 2};
	net_ctx c = ctx_with(&f);
	char err[NET_ERRLEN] = "";

	c.nf_reject = 1;
	full_spec(&s);
	cr_assert_eq(nf_apply(&c, &s, err), 0, "%s", err);
	cr_assert_eq(f.n, 3);
	fake_free(&f);
	f.fail = 100;
	cr_assert_eq(nf_apply(&c, &s, err), -EIO);
	cr_assert_eq(f.n, 3, "three attempts, then the error");
	cr_assert_not_null(strstr(err, "Device busy"), "%s", err);
	fake_free(&f);
	spec_dispose(&s);
	pthread_mutex_destroy(&c.nf_lock);
}

Test(netfilter, remove_is_one_transaction_that_tolerates_absence)
{
	fake f = {0};
	net_ctx c = ctx_with(&f);
	char err[NET_ERRLEN] = "";

	cr_assert_eq(nf_remove(&c, "xvif12", err), 0, "%s", err);
	cr_assert_eq(f.n, 1);
	cr_assert_str_eq(f.txs[0].cmds, "add table netdev xvps-xvif12\n"
	                                "delete table netdev xvps-xvif12\n");
	fake_free(&f);
	pthread_mutex_destroy(&c.nf_lock);
}

Test(netfilter, base_declares_the_table_and_dispatch)
{
	fake f = {.check_rc = 0};
	net_ctx c = ctx_with(&f);
	char err[NET_ERRLEN] = "";

	cr_assert_eq(nf_base_ensure(&c, err), 0, "%s", err);
	cr_assert_eq(f.n, 3, "a look for an older layout, the guard's transaction, the probe");
	cr_assert_str_eq(f.txs[0].cmds, "list table bridge xvps\n");
	expect_golden("base.nft", f.txs[1].cmds);
	cr_assert(f.txs[2].check);
	cr_assert_eq(c.nf_reject, 1);
	cr_assert_eq(f.nrun, 3, "one *-save per legacy table, nothing to restore");
	cr_assert_str_eq(f.argv[0], "ebtables-save -t filter");
	cr_assert_str_eq(f.argv[1], "iptables-save -t filter");
	cr_assert_str_eq(f.argv[2], "ip6tables-save -t filter");
	fake_free(&f);
	pthread_mutex_destroy(&c.nf_lock);
}

/* The one-table layout of the agent before issue 17 item 3: its map and chains go in the same
 * transaction as the guard's new rules, after the flush of the old dispatch rule. */
Test(netfilter, base_replaces_the_one_table_layout)
{
	fake f = {.listing = "table bridge xvps {\n\tmap vifs {\n\t\ttype ifname : verdict\n"
	                     "\t\telements = { \"xvif12\" : jump xvps-xvif12 }\n\t}\n"
	                     "\tchain prerouting {\n\t\ttype filter hook prerouting priority "
	                     "filter; policy accept;\n\t\tiifname vmap @vifs\n\t}\n"
	                     "\tchain xvps-xvif12 {\n\t\tdrop\n\t}\n"
	                     "\tchain xvps-eth0 {\n\t}\n}\n"};
	net_ctx c = ctx_with(&f);
	char err[NET_ERRLEN] = "", *base = NULL;
	size_t len = 0;

	cr_assert_eq(nf_base_ensure(&c, err), 0, "%s", err);
	cr_assert_eq(read_file(GOLDEN "base.nft", 1 << 16, &base, &len), 0);
	const char *rules = strstr(base, "add rule ");
	cr_assert_not_null(rules);
	char *want = NULL;
	cr_assert_gt(asprintf(&want,
	                      "%.*sdelete map bridge xvps vifs\nflush chain bridge xvps "
	                      "xvps-xvif12\ndelete chain bridge xvps xvps-xvif12\n%s",
	                      (int)(rules - base), base, rules),
	             0);
	cr_assert_str_eq(f.txs[1].cmds, want, "got:\n%s", f.txs[1].cmds);
	free(want);
	free(base);
	fake_free(&f);
	pthread_mutex_destroy(&c.nf_lock);
}

/* A device that exists gets its hook in the same transaction; nf_hook makes only hooks. */
Test(netfilter, devices_that_exist_are_hooked)
{
	vps_spec s = {0};
	fake f = {0};
	net_ctx c = ctx_with(&f);
	char err[NET_ERRLEN] = "", dir[] = "/tmp/xvps-nf-sysfs.XXXXXX", path[64], *want;

	cr_assert_not_null(mkdtemp(dir));
	snprintf(c.sysfs_net, sizeof(c.sysfs_net), "%s", dir);
	c.nf_reject = 1;
	full_spec(&s);
	cr_assert_eq(nf_hook(&c, "xvif12", err), 0, "%s", err);
	cr_assert_eq(f.n, 0, "no device, nothing to hook");
	snprintf(path, sizeof(path), "%s/xvif12", dir);
	cr_assert_eq(mkdir(path, 0700), 0);
	cr_assert_eq(nf_apply(&c, &s, err), 0, "%s", err);
	cr_assert_str_eq(f.txs[0].cmds, (want = nf_render(&s, true, NF_HOOK_VIF)));
	free(want);
	cr_assert_not_null(strstr(f.txs[0].cmds,
	                          "add chain netdev xvps-xvif12 ingress { type filter hook "
	                          "ingress device \"xvif12\" priority filter; policy drop; }\n"
	                          "flush chain netdev xvps-xvif12 ingress\n"
	                          "add rule netdev xvps-xvif12 ingress jump rate\n"
	                          "add rule netdev xvps-xvif12 ingress meta mark set meta mark | "
	                          "0x20000000 goto filter\n"));
	cr_assert_null(strstr(f.txs[0].cmds, "xvif12-emu"), "no tap, no hook of it");
	snprintf(path, sizeof(path), "%s/xvif12-emu", dir);
	cr_assert_eq(mkdir(path, 0700), 0);
	cr_assert_eq(nf_hook(&c, "xvif12", err), 0, "%s", err);
	cr_assert_eq(f.n, 2);
	cr_assert_str_eq(f.txs[1].cmds,
	                 "add chain netdev xvps-xvif12 ingress { type filter hook ingress device "
	                 "\"xvif12\" priority filter; policy drop; }\n"
	                 "flush chain netdev xvps-xvif12 ingress\n"
	                 "add rule netdev xvps-xvif12 ingress jump rate\n"
	                 "add rule netdev xvps-xvif12 ingress meta mark set meta mark | "
	                 "0x20000000 goto filter\n"
	                 "add chain netdev xvps-xvif12 ingress-emu { type filter hook ingress "
	                 "device \"xvif12-emu\" priority filter; policy drop; }\n"
	                 "flush chain netdev xvps-xvif12 ingress-emu\n"
	                 "add rule netdev xvps-xvif12 ingress-emu jump rate\n"
	                 "add rule netdev xvps-xvif12 ingress-emu meta mark set meta mark | "
	                 "0x20000000 goto filter\n");
	rmdir(path);
	snprintf(path, sizeof(path), "%s/xvif12", dir);
	rmdir(path);
	rmdir(dir);
	fake_free(&f);
	spec_dispose(&s);
	pthread_mutex_destroy(&c.nf_lock);
}

Test(netfilter, base_removes_what_an_older_agent_left)
{
	fake f = {0};
	net_ctx c = ctx_with(&f);
	char err[NET_ERRLEN] = "";

	f.save[0] =
	        "*filter\n:INPUT ACCEPT\n:FORWARD ACCEPT\n:xvps-vifs RETURN\n:xvps-xvif12 DROP\n"
	        "-A INPUT -i xvif+ -j xvps-vifs\n-A FORWARD -i xvif+ -j xvps-vifs\n"
	        "-A xvps-vifs -i xvif12 -j xvps-xvif12\n-A xvps-xvif12 -p IPv4 -j RETURN\n";
	f.save[1] = "# Generated\n*filter\n:INPUT ACCEPT [0:0]\n:FORWARD ACCEPT [0:0]\n"
	            ":keep - [0:0]\n:xvps-vifs - [0:0]\n:xvps-xvif12 - [0:0]\n"
	            "-A INPUT -m physdev --physdev-in xvif+ -j xvps-vifs\n-A INPUT -j keep\n"
	            "-A xvps-vifs -m physdev --physdev-in xvif12 -g xvps-xvif12\nCOMMIT\n";
	cr_assert_eq(nf_base_ensure(&c, err), 0, "%s", err);
	cr_assert_eq(f.nrun, 5, "ebtables save+restore, iptables save+restore, ip6tables save");
	cr_assert_str_eq(f.argv[1], "ebtables-restore --noflush");
	cr_assert_str_eq(f.in[1], "*filter\n-D INPUT -i xvif+ -j xvps-vifs\n"
	                          "-D FORWARD -i xvif+ -j xvps-vifs\n-F xvps-vifs\n-F xvps-xvif12\n"
	                          "-X xvps-vifs\n-X xvps-xvif12\nCOMMIT\n");
	cr_assert_str_eq(f.argv[3], "iptables-restore --noflush --wait");
	cr_assert_str_eq(f.in[3], "*filter\n-D INPUT -m physdev --physdev-in xvif+ -j xvps-vifs\n"
	                          "-F xvps-vifs\n-F xvps-xvif12\n-X xvps-vifs\n-X xvps-xvif12\n"
	                          "COMMIT\n");
	fake_free(&f);
	pthread_mutex_destroy(&c.nf_lock);
}

Test(netfilter, list_reads_the_domain_tables)
{
	fake f = {.listing = "table netdev xvps-xvif12\ntable netdev xvps-xvif7\n"
	                     "table netdev xvps-eth0\ntable netdev other\ntable netdev xvif9\n"};
	net_ctx c = ctx_with(&f);
	char err[NET_ERRLEN] = "", **names = NULL;
	size_t n = 0;

	cr_assert_eq(nf_list(&c, &names, &n, err), 0, "%s", err);
	cr_assert_eq(n, 2);
	cr_assert_str_eq(names[0], "xvif12");
	cr_assert_str_eq(names[1], "xvif7");
	cr_assert_str_eq(f.txs[0].cmds, "list tables netdev\n");
	for (size_t i = 0; i < n; i++)
		free(names[i]);
	free(names);
	fake_free(&f);
	pthread_mutex_destroy(&c.nf_lock);
}

Test(netfilter, disabled_touches_nothing)
{
	vps_spec s = {0};
	fake f = {0};
	net_ctx c = ctx_with(&f);
	char err[NET_ERRLEN] = "", **names = NULL;
	size_t n = 0;

	c.enabled = false;
	full_spec(&s);
	cr_assert_eq(nf_base_ensure(&c, err), 0);
	cr_assert_eq(nf_apply(&c, &s, err), 0);
	cr_assert_eq(nf_remove(&c, "xvif12", err), 0);
	cr_assert_eq(nf_hook(&c, "xvif12", err), 0);
	cr_assert_eq(nf_list(&c, &names, &n, err), 0);
	cr_assert_eq(f.n + f.nrun, 0);
	spec_dispose(&s);
	pthread_mutex_destroy(&c.nf_lock);
}

Test(netfilter, vif_and_ifb_names_follow_the_domain)
{
	char v[16], i[16];

	cr_assert(net_vifname_of("xvps-42", v));
	cr_assert_str_eq(v, "xvif42");
	cr_assert(net_ifbname_of(v, i));
	cr_assert_str_eq(i, "xifb42");
	cr_assert_not(net_vifname_of("xvps-12345678", v), "xvif12345678 is 12 characters");
	cr_assert_not(net_vifname_of("vps-1", v));
	cr_assert_not(net_ifbname_of("eth0", i));
}
