/* test_netfilter.c — provisioning/netfilter.c: the rendered restore batches against golden files
 * (tests/golden/rules/), refusal of values that did not validate, and the command sequences of
 * apply/remove/base against a FAKE runner that answers "chain exists?" as scripted and records
 * every argv and stdin. The same code runs against the real kernel in tests/netns/run.sh. */
#include <criterion/criterion.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../../common/util.h"
#include "../../provisioning/net.h"
#include "../../provisioning/spec.h"

#define GOLDEN "tests/golden/rules/"

typedef struct call {
	char *argv;
	char *in;
} call;

typedef struct fake {
	call calls[64];
	size_t n;
	bool exists[3];   /* answer of "-S/-L chain" per table: e, 4, 6 */
	int restore_fail; /* fail this many restores (exit 2) before succeeding */
} fake;

static int tix(const char *tool)
{
	return strncmp(tool, "ebtables", 8) == 0 ? 0 : strncmp(tool, "iptables", 8) == 0 ? 1 : 2;
}

static int fake_run(void *ctx, const char *const argv[], const char *in, size_t in_len,
                    int timeout_ms, runner_result *res)
{
	fake *f = ctx;

	runner_result_init(res);
	cr_assert_lt(f->n, 64);
	f->calls[f->n].argv = runner_argv_str(argv);
	f->calls[f->n].in = in ? strndup(in, in_len) : NULL;
	f->n++;
	res->out = strdup("");
	res->err = strdup("");
	res->exit_status = 0;
	if (strstr(argv[0], "-restore")) {
		if (f->restore_fail > 0) {
			f->restore_fail--;
			res->exit_status = 2;
		}
	} else if ((argv[1] && strcmp(argv[1], "-L") == 0) ||
	           (argv[2] && strcmp(argv[2], "-S") == 0)) {
		res->exit_status = f->exists[tix(argv[0])] ? 0 : 1;
	}
	return 0;
}

static void fake_free(fake *f)
{
	for (size_t i = 0; i < f->n; i++) {
		free(f->calls[i].argv);
		free(f->calls[i].in);
	}
}

static net_ctx ctx_with(fake *f)
{
	net_ctx c;
	memset(&c, 0, sizeof(c));
	c.run = (runner){fake_run, f};
	c.enabled = true;
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
	cr_assert_str_eq(got, want, "%s differs from the rendered batch:\n%s", path, got);
	free(want);
}

Test(netfilter, renders_golden_batches)
{
	vps_spec s = {0};
	static const struct {
		char table;
		bool hooks;
		const char *file;
	} cases[] = {{'4', true, "ipv4-new.rules"},
	             {'4', false, "ipv4-existing.rules"},
	             {'6', true, "ipv6-new.rules"},
	             {'e', true, "eb-new.rules"}};

	full_spec(&s);
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		char *got = nf_render(&s, cases[i].table, cases[i].hooks);
		cr_assert_not_null(got);
		expect_golden(cases[i].file, got);
		free(got);
	}
	spec_dispose(&s);
}

Test(netfilter, no_address_means_everything_dropped)
{
	vps_spec s = {0};
	char *v4;

	parse_spec(&s, SPEC_HEAD "}");
	v4 = nf_render(&s, '4', false);
	cr_assert_not_null(v4);
	cr_assert_null(strstr(v4, "RETURN"), "a VPS without IPv4 may not send IPv4:\n%s", v4);
	cr_assert_null(strstr(v4, "--dport 25"), "no SMTP rule unless asked");
	free(v4);
	spec_dispose(&s);
}

Test(netfilter, refuses_values_that_did_not_validate)
{
	vps_spec s = {0};
	char *saved, buf[] = "192.0.2.1 -j ACCEPT";
	fake f = {0};
	net_ctx c = ctx_with(&f);
	char err[NET_ERRLEN] = "";

	full_spec(&s);
	saved = s.ipv4[0];
	s.ipv4[0] = buf; /* as if a caller skipped spec_parse */
	cr_assert_null(nf_render(&s, '4', true));
	cr_assert_eq(nf_apply(&c, &s, err), -EINVAL);
	s.ipv4[0] = saved;
	saved = s.vifname;
	s.vifname = (char *)"xvif13"; /* another domain's vif */
	cr_assert_null(nf_render(&s, '4', true));
	s.vifname = saved;
	cr_assert_eq(f.n, 0, "nothing may run for a refused spec");
	cr_assert_eq(nf_remove(&c, "eth0", err), -EINVAL);
	cr_assert_eq(nf_remove(&c, "xvif1 x", err), -EINVAL);
	cr_assert_eq(f.n, 0);
	spec_dispose(&s);
}

Test(netfilter, apply_adds_hooks_only_for_a_new_chain)
{
	vps_spec s = {0};
	fake f = {0};
	net_ctx c = ctx_with(&f);
	char err[NET_ERRLEN] = "";

	full_spec(&s);
	cr_assert_eq(nf_apply(&c, &s, err), 0, "%s", err);
	cr_assert_eq(f.n, 6, "a check and a restore per table, got %zu calls", f.n);
	cr_assert_str_eq(f.calls[0].argv, "ebtables -L xvps-xvif12");
	cr_assert_str_eq(f.calls[1].argv, "ebtables-restore --noflush");
	cr_assert_str_eq(f.calls[2].argv, "iptables -w -S xvps-xvif12");
	cr_assert_str_eq(f.calls[3].argv, "iptables-restore --noflush --wait");
	cr_assert_str_eq(f.calls[5].argv, "ip6tables-restore --noflush --wait");
	cr_assert_not_null(strstr(f.calls[3].in, "-I xvps-vifs -m physdev --physdev-in xvif12 -g"));
	fake_free(&f);

	memset(&f, 0, sizeof(f));
	f.exists[0] = f.exists[1] = f.exists[2] = true; /* re-apply */
	cr_assert_eq(nf_apply(&c, &s, err), 0, "%s", err);
	for (size_t i = 1; i < f.n; i += 2) {
		cr_assert_null(strstr(f.calls[i].in, "xvps-vifs"),
		               "re-apply must not add hooks again:\n%s", f.calls[i].in);
		cr_assert_not_null(strstr(f.calls[i].in, ":xvps-xvif12 "),
		                   "re-apply redeclares (flushes) the chain");
	}
	fake_free(&f);
	spec_dispose(&s);
}

Test(netfilter, a_lost_transaction_race_is_retried)
{
	vps_spec s = {0};
	fake f = {.restore_fail = 2};
	net_ctx c = ctx_with(&f);
	char err[NET_ERRLEN] = "";

	full_spec(&s);
	cr_assert_eq(nf_apply(&c, &s, err), 0, "%s", err);
	fake_free(&f);
	memset(&f, 0, sizeof(f));
	f.restore_fail = 100;
	cr_assert_eq(nf_apply(&c, &s, err), -EIO);
	cr_assert_not_null(strstr(err, "ebtables-restore"), "%s", err);
	fake_free(&f);
	spec_dispose(&s);
}

Test(netfilter, remove_deletes_hooks_then_chain_and_tolerates_absence)
{
	fake f = {0};
	net_ctx c = ctx_with(&f);
	char err[NET_ERRLEN] = "";

	cr_assert_eq(nf_remove(&c, "xvif12", err), 0, "%s", err);
	cr_assert_eq(f.n, 3, "absent chains: only the three checks");
	fake_free(&f);

	memset(&f, 0, sizeof(f));
	f.exists[0] = f.exists[1] = f.exists[2] = true;
	cr_assert_eq(nf_remove(&c, "xvif12", err), 0, "%s", err);
	cr_assert_eq(f.n, 6);
	cr_assert_str_eq(f.calls[1].argv, "ip6tables-restore --noflush --wait");
	cr_assert_str_eq(f.calls[1].in,
	                 "*filter\n"
	                 "-D xvps-vifs -m physdev --physdev-in xvif12 -g xvps-xvif12\n"
	                 "-D xvps-vifs -m physdev --physdev-in xvif12-emu -g xvps-xvif12\n"
	                 "-F xvps-xvif12\n-X xvps-xvif12\nCOMMIT\n");
	cr_assert_str_eq(f.calls[5].in, "*filter\n"
	                                "-D xvps-vifs -i xvif12 -j xvps-xvif12\n"
	                                "-D xvps-vifs -i xvif12-emu -j xvps-xvif12\n"
	                                "-F xvps-xvif12\n-X xvps-xvif12\nCOMMIT\n");
	fake_free(&f);
}

Test(netfilter, base_is_created_once)
{
	fake f = {0};
	net_ctx c = ctx_with(&f);
	char err[NET_ERRLEN] = "";

	cr_assert_eq(nf_base_ensure(&c, err), 0, "%s", err);
	cr_assert_eq(f.n, 6);
	cr_assert_not_null(strstr(f.calls[3].in, "-A xvps-vifs -j DROP"));
	cr_assert_not_null(
	        strstr(f.calls[3].in, "-I FORWARD -m physdev --physdev-in xvif+ -j xvps-vifs"));
	cr_assert_not_null(strstr(f.calls[1].in, "-I INPUT -i xvif+ -j xvps-vifs"));
	fake_free(&f);
	memset(&f, 0, sizeof(f));
	f.exists[0] = f.exists[1] = f.exists[2] = true;
	cr_assert_eq(nf_base_ensure(&c, err), 0, "%s", err);
	cr_assert_eq(f.n, 3, "existing base: checks only");
	fake_free(&f);
}

Test(netfilter, disabled_touches_nothing)
{
	vps_spec s = {0};
	fake f = {0};
	net_ctx c = ctx_with(&f);
	char err[NET_ERRLEN] = "";

	c.enabled = false;
	full_spec(&s);
	cr_assert_eq(nf_base_ensure(&c, err), 0);
	cr_assert_eq(nf_apply(&c, &s, err), 0);
	cr_assert_eq(nf_remove(&c, "xvif12", err), 0);
	cr_assert_eq(f.n, 0);
	spec_dispose(&s);
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
