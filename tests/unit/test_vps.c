/* test_vps.c — the agent's declarative operations (provisioning/vps.c) over the real sim and
 * file drivers: ensure is idempotent, remove leaves nothing, a failed first creation leaves
 * nothing, power actions, and the reconciler's quarantine. Files live under a mkdtemp()
 * dir; every guest is destroyed and reaped. Needs $XVPS_SIMGUEST (default
 * build/asan/xvps-simguest) for the tests that run a domain. */
#include <criterion/criterion.h>
#include <dirent.h>
#include <errno.h>
#include <ftw.h>
#include <glob.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "../../common/util.h"
#include "../../hypervisor/xlcfg.h"
#include "../../provisioning/vps.h"

#include "sim_fixture.h"
#include "agent_fixture.h"

static char tmp[64];
static hv_driver hv;
static st_driver st;
static vps_ctx ctx;
static bool opened;

static void need_guest(void)
{
	if (access(simfx_guest_path(), X_OK) != 0)
		cr_skip_test("no simguest at %s (set XVPS_SIMGUEST)", simfx_guest_path());
}

static void setup(void)
{
	simfx_open("vps", tmp, &hv, &st, &ctx, &opened);
}

static void teardown(void)
{
	simfx_close(tmp, &hv, &st, &opened);
}

TestSuite(vps, .init = setup, .fini = teardown, .timeout = 60);

/* A parsed spec for xvps-<id>; power "running" or "stopped". */
static void make_spec(vps_spec *spec, int id, const char *tpl, const char *power)
{
	char buf[1024];

	snprintf(buf, sizeof(buf),
	         "{\"name\":\"xvps-%d\",\"hostname\":\"vm%d.example.com\",\"type\":\"pvh\","
	         "\"vcpus\":2,\"memory_mib\":512,\"disk_gib\":2,\"template\":\"%s\","
	         "\"mac\":\"00:16:3e:00:00:%02x\",\"vifname\":\"xvif%d\",\"ipv4\":[\"192.0.2.%d\"],"
	         "\"ipv6\":[\"2001:db8::%d\"],\"gateway4\":\"192.0.2.1\",\"gateway6\":null,"
	         "\"cpu_weight\":512,\"cpu_cap_pct\":100,\"net_mbit\":100,\"power\":\"%s\","
	         "\"ssh_keys\":[]}",
	         id, id, tpl, id, id, id + 10, id + 10, power);
	agfx_spec(spec, buf);
}

static const char *jstr(json_object *o, const char *key)
{
	json_object *v;

	cr_assert(json_object_object_get_ex(o, key, &v), "no %s", key);
	return json_object_get_string(v);
}

static int64_t jint(json_object *o, const char *key)
{
	json_object *v;

	cr_assert(json_object_object_get_ex(o, key, &v), "no %s", key);
	return json_object_get_int64(v);
}

/* True when <tmp>/<sub>/<name><ext> exists. */
static bool exists_in(const char *sub, const char *name, const char *ext)
{
	char p[256];

	snprintf(p, sizeof(p), "%s/%s/%s%s", tmp, sub, name, ext);
	return access(p, F_OK) == 0;
}

Test(vps, ensure_twice_gives_the_same_single_domain)
{
	vps_spec spec;
	vps_err e = {0};
	json_object *s1 = NULL, *s2 = NULL;
	char **names = NULL, err[HV_ERRLEN], *cfg = NULL, perr[512];
	size_t n = 0, len = 0;
	struct stat sb1, sb2;
	char cfgpath[256];

	need_guest();
	make_spec(&spec, 1, "tpl-1", "running");
	cr_assert_eq(vps_ensure(&ctx, &spec, &s1, &e), 0, "%s", e.msg);
	cr_assert_str_eq(jstr(s1, "state"), "running");
	cr_assert_eq(jint(s1, "cpu_weight"), 512);
	cr_assert_eq(jint(s1, "cpu_cap_pct"), 100);
	cr_assert_eq(jint(s1, "disk_bytes"), 2ll << 30);
	snprintf(cfgpath, sizeof(cfgpath), "%s/xen/xvps-1.cfg", tmp);
	cr_assert_str_eq(jstr(s1, "config_path"), cfgpath);
	cr_assert_eq(stat(cfgpath, &sb1), 0);

	cr_assert_eq(vps_ensure(&ctx, &spec, &s2, &e), 0, "%s", e.msg);
	cr_assert_str_eq(jstr(s2, "state"), "running");
	cr_assert_eq(jint(s2, "domid"), jint(s1, "domid"), "second ensure restarted the domain");
	cr_assert_eq(stat(cfgpath, &sb2), 0);
	cr_assert_eq(sb1.st_ino, sb2.st_ino, "unchanged config was rewritten");

	cr_assert_eq(hv.ops->list(&hv, "xvps-", &names, &n, err), 0);
	cr_assert_eq(n, 1);
	free(names[0]);
	free(names);

	cr_assert_eq(read_file(cfgpath, 1 << 20, &cfg, &len), 0);
	cr_assert_eq(xlcfg_parse_check(cfg, perr, sizeof(perr)), 0, "config does not parse: %s",
	             perr);
	cr_assert_not_null(strstr(cfg, "xvps-1"));
	free(cfg);
	json_object_put(s1);
	json_object_put(s2);
	spec_dispose(&spec);
}

Test(vps, ensure_applies_a_changed_plan_to_a_running_domain)
{
	vps_spec spec;
	vps_err e = {0};
	json_object *s = NULL;

	need_guest();
	make_spec(&spec, 2, "tpl-1", "running");
	cr_assert_eq(vps_ensure(&ctx, &spec, &s, &e), 0, "%s", e.msg);
	json_object_put(s);
	spec.cpu_weight = 2048;
	spec.cpu_cap_pct = 50;
	cr_assert_eq(vps_ensure(&ctx, &spec, &s, &e), 0, "%s", e.msg);
	cr_assert_eq(jint(s, "cpu_weight"), 2048);
	cr_assert_eq(jint(s, "cpu_cap_pct"), 50);
	json_object_put(s);
	spec_dispose(&spec);
}

/* The names of an ensure's "timings", space-separated. */
static void timing_names(json_object *status, char *out, size_t len)
{
	json_object *arr, *v;

	out[0] = '\0';
	cr_assert(json_object_object_get_ex(status, "timings", &arr), "no timings");
	for (size_t i = 0; i < json_object_array_length(arr); i++) {
		json_object *t = json_object_array_get_idx(arr, i);

		cr_assert(json_object_object_get_ex(t, "us", &v) &&
		          json_object_is_type(v, json_type_int) && json_object_get_int64(v) >= 0);
		cr_assert(json_object_object_get_ex(t, "step", &v));
		snprintf(out + strlen(out), len - strlen(out), "%s%s", i ? " " : "",
		         json_object_get_string(v));
	}
}

/* Issue 17 item 6: ensure reports how long each of its sub-steps took, in order. */
Test(vps, ensure_reports_the_duration_of_each_sub_step)
{
	vps_spec spec;
	vps_err e = {0};
	json_object *s1 = NULL, *s2 = NULL;
	char names[256];

	need_guest();
	make_spec(&spec, 1, "tpl-1", "running");
	cr_assert_eq(vps_ensure(&ctx, &spec, &s1, &e), 0, "%s", e.msg);
	timing_names(s1, names, sizeof(names));
	cr_assert_str_eq(names,
	                 "storage seed config netfilter domain.create resize sched shaping status");
	cr_assert_eq(vps_ensure(&ctx, &spec, &s2, &e), 0, "%s", e.msg);
	timing_names(s2, names, sizeof(names));
	cr_assert_str_eq(names, "storage seed config netfilter domain resize sched shaping status",
	                 "a second ensure created the domain again");
	json_object_put(s1);
	json_object_put(s2);
	spec_dispose(&spec);
}

Test(vps, ensure_stopped_creates_disk_and_config_but_no_domain)
{
	vps_spec spec;
	vps_err e = {0};
	json_object *s = NULL;

	make_spec(&spec, 3, "tpl-1", "stopped");
	cr_assert_eq(vps_ensure(&ctx, &spec, &s, &e), 0, "%s", e.msg);
	cr_assert_str_eq(jstr(s, "state"), "stopped");
	cr_assert(exists_in("disks", "xvps-3", ".img"));
	cr_assert(exists_in("xen", "xvps-3", ".cfg"));
	json_object_put(s);
	spec_dispose(&spec);
}

Test(vps, remove_leaves_no_disk_config_or_state)
{
	vps_spec spec;
	vps_err e = {0};
	json_object *s = NULL;

	need_guest();
	make_spec(&spec, 4, "tpl-1", "running");
	cr_assert_eq(vps_ensure(&ctx, &spec, &s, &e), 0, "%s", e.msg);
	json_object_put(s);
	cr_assert_eq(vps_remove(&ctx, "xvps-4", &e), 0, "%s", e.msg);
	cr_assert_not(exists_in("disks", "xvps-4", ".img"));
	cr_assert_not(exists_in("xen", "xvps-4", ".cfg"));
	cr_assert_not(exists_in("sim", "xvps-4", ".json"));
	cr_assert_not(exists_in("sim", "xvps-4", ".console"));
	cr_assert_eq(vps_status(&ctx, "xvps-4", &s, &e), 0);
	cr_assert_str_eq(jstr(s, "state"), "absent");
	json_object_put(s);
	cr_assert_eq(vps_remove(&ctx, "xvps-4", &e), 0, "removing twice must succeed");
	spec_dispose(&spec);
}

Test(vps, ensure_with_missing_template_fails_and_leaves_nothing)
{
	vps_spec spec;
	vps_err e = {0};
	json_object *s = NULL;
	char pat[128];

	make_spec(&spec, 5, "tpl-9", "running");
	cr_assert_eq(vps_ensure(&ctx, &spec, &s, &e), -ENOENT);
	cr_assert_null(s);
	cr_assert_str_eq(e.code, "not_found");
	cr_assert_str_eq(e.field, "template");
	cr_assert_not(exists_in("disks", "xvps-5", ".img"));
	cr_assert_not(exists_in("xen", "xvps-5", ".cfg"));
	snprintf(pat, sizeof(pat), "%s/disks", tmp);
	cr_assert_eq(agfx_dir_entries(pat), 0, "left a file in disks/");
	spec_dispose(&spec);
}

Test(vps, failed_first_start_rolls_back_disk_and_config)
{
	vps_spec spec;
	vps_err e = {0};
	json_object *s = NULL;

	/* A simguest that cannot run makes the create step fail after disk and config. */
	cr_assert_eq(hv_sim_set_guest_path(&hv, "/nonexistent/xvps-simguest"), 0);
	make_spec(&spec, 6, "tpl-1", "running");
	cr_assert_neq(vps_ensure(&ctx, &spec, &s, &e), 0);
	cr_assert_null(s);
	cr_assert_str_eq(e.code, "host");
	cr_assert_not(exists_in("disks", "xvps-6", ".img"), "disk left behind");
	cr_assert_not(exists_in("xen", "xvps-6", ".cfg"), "config left behind");
	cr_assert_not(exists_in("sim", "xvps-6", ".json"), "domain state left behind");
	spec_dispose(&spec);
}

Test(vps, power_actions)
{
	vps_spec spec;
	vps_err e = {0};
	json_object *s = NULL;
	int64_t domid;

	need_guest();
	make_spec(&spec, 7, "tpl-1", "running");
	cr_assert_eq(vps_ensure(&ctx, &spec, &s, &e), 0, "%s", e.msg);
	domid = jint(s, "domid");
	json_object_put(s);

	cr_assert_eq(vps_power(&ctx, "xvps-7", "reboot", &spec, &s, &e), 0, "%s", e.msg);
	cr_assert_str_eq(jstr(s, "state"), "running");
	cr_assert_gt(jint(s, "domid"), domid, "reboot kept the domid");
	json_object_put(s);

	cr_assert_eq(vps_power(&ctx, "xvps-7", "shutdown", NULL, &s, &e), 0, "%s", e.msg);
	cr_assert_str_eq(jstr(s, "state"), "stopped");
	json_object *v;
	cr_assert(json_object_object_get_ex(s, "domid", &v));
	cr_assert_null(v, "a stopped domain has domid null");
	json_object_put(s);

	cr_assert_eq(vps_power(&ctx, "xvps-7", "start", &spec, &s, &e), 0, "%s", e.msg);
	cr_assert_str_eq(jstr(s, "state"), "running");
	json_object_put(s);

	cr_assert_eq(vps_power(&ctx, "xvps-7", "poweroff", NULL, &s, &e), 0, "%s", e.msg);
	cr_assert_str_eq(jstr(s, "state"), "stopped");
	json_object_put(s);

	cr_assert_eq(vps_power(&ctx, "xvps-7", "start", NULL, &s, &e), -EINVAL);
	cr_assert_eq(vps_power(&ctx, "xvps-7", "hibernate", NULL, &s, &e), -EINVAL);
	spec_dispose(&spec);
}

Test(vps, reinstall_gives_a_fresh_disk)
{
	vps_spec spec;
	vps_err e = {0};
	json_object *s = NULL;
	char p[256];
	FILE *f;
	struct stat sb;

	need_guest();
	make_spec(&spec, 8, "tpl-1", "running");
	cr_assert_eq(vps_ensure(&ctx, &spec, &s, &e), 0, "%s", e.msg);
	json_object_put(s);
	snprintf(p, sizeof(p), "%s/disks/xvps-8.img", tmp);
	f = fopen(p, "r+");
	cr_assert_not_null(f);
	fputs("customer data", f);
	fclose(f);
	cr_assert_eq(vps_reinstall(&ctx, &spec, &s, &e), 0, "%s", e.msg);
	cr_assert_str_eq(jstr(s, "state"), "running");
	json_object_put(s);
	f = fopen(p, "r");
	cr_assert_not_null(f);
	char buf[16] = "";
	cr_assert_eq(fread(buf, 1, 13, f), 13);
	fclose(f);
	cr_assert_str_neq(buf, "customer data", "reinstall kept the old disk");
	cr_assert_eq(stat(p, &sb), 0);

	/* A missing template fails before anything is touched. */
	free(spec.template_name);
	spec.template_name = strdup("tpl-9");
	cr_assert_eq(vps_reinstall(&ctx, &spec, &s, &e), -ENOENT);
	cr_assert_str_eq(e.field, "template");
	cr_assert(exists_in("disks", "xvps-8", ".img"));
	spec_dispose(&spec);
}

Test(vps, reconcile_quarantines_unknown_disk_and_removes_unknown_config)
{
	vps_spec spec;
	vps_err e = {0};
	json_object *s = NULL, *orphans = NULL;
	char p[256], err[ST_ERRLEN];
	const char *known[] = {"xvps-1"};
	glob_t g;
	FILE *f;
	bool saw_disk = false, saw_cfg = false;

	make_spec(&spec, 1, "tpl-1", "stopped");
	cr_assert_eq(vps_ensure(&ctx, &spec, &s, &e), 0, "%s", e.msg);
	json_object_put(s);
	/* Orphans: a disk and a config nobody knows. */
	cr_assert_eq(st.ops->disk_ensure(&st, "xvps-77", "tpl-1", 1, NULL, err), 0, "%s", err);
	snprintf(p, sizeof(p), "%s/xen/xvps-78.cfg", tmp);
	f = fopen(p, "w");
	cr_assert_not_null(f);
	fputs("name = \"xvps-78\"\n", f);
	fclose(f);

	cr_assert_eq(vps_reconcile(&ctx, known, 1, NULL, 0, &orphans, &e), 0, "%s", e.msg);
	cr_assert_eq(json_object_array_length(orphans), 2, "%s",
	             json_object_to_json_string(orphans));
	for (size_t i = 0; i < json_object_array_length(orphans); i++) {
		json_object *o = json_object_array_get_idx(orphans, i);
		if (strcmp(jstr(o, "kind"), "disk") == 0) {
			cr_assert_str_eq(jstr(o, "name"), "xvps-77");
			cr_assert_str_eq(jstr(o, "action"), "quarantined");
			saw_disk = true;
		} else if (strcmp(jstr(o, "kind"), "config") == 0) {
			cr_assert_str_eq(jstr(o, "name"), "xvps-78");
			cr_assert_str_eq(jstr(o, "action"), "removed");
			saw_cfg = true;
		}
	}
	cr_assert(saw_disk && saw_cfg);
	json_object_put(orphans);
	cr_assert_not(exists_in("disks", "xvps-77", ".img"));
	snprintf(p, sizeof(p), "%s/disks/quarantine-xvps-77-*.img", tmp);
	cr_assert_eq(glob(p, 0, NULL, &g), 0, "the disk was not kept in quarantine");
	globfree(&g);
	cr_assert_not(exists_in("xen", "xvps-78", ".cfg"));
	/* The known VPS is untouched. */
	cr_assert(exists_in("disks", "xvps-1", ".img"));
	cr_assert(exists_in("xen", "xvps-1", ".cfg"));

	/* A second pass finds nothing. */
	cr_assert_eq(vps_reconcile(&ctx, known, 1, NULL, 0, &orphans, &e), 0);
	cr_assert_eq(json_object_array_length(orphans), 0);
	json_object_put(orphans);
	spec_dispose(&spec);
}

Test(vps, reconcile_destroys_an_unknown_domain)
{
	vps_spec spec;
	vps_err e = {0};
	json_object *s = NULL, *orphans = NULL;
	hv_domain_info i;
	char err[HV_ERRLEN];

	need_guest();
	make_spec(&spec, 9, "tpl-1", "running");
	cr_assert_eq(vps_ensure(&ctx, &spec, &s, &e), 0, "%s", e.msg);
	json_object_put(s);
	cr_assert_eq(vps_reconcile(&ctx, NULL, 0, NULL, 0, &orphans, &e), 0, "%s", e.msg);
	cr_assert_eq(json_object_array_length(orphans), 3, "%s",
	             json_object_to_json_string(orphans));
	json_object_put(orphans);
	cr_assert_eq(hv.ops->info(&hv, "xvps-9", &i, err), 0);
	cr_assert_eq(i.state, HV_ABSENT);
	spec_dispose(&spec);
}
