/* test_provision_cost.c — how many host commands a VPS's first creation starts (issue 17 item 6:
 * under emulation each process start costs a second or more): vps_ensure over the xl driver and
 * the lvm driver, each on the fake runner (fake_runner.h), with a fake libxenstat that cannot be
 * opened. The exact sequences: one lvs, the lvcreate and lvextend the bare toolstack runs too
 * (and lvchange only because this host has no device node for the new LV), `xl create`, and
 * one `xl sched-credit2 -d` read-back (after the agent's one `xl info` for the scheduler's
 * name); no `xl list` before the create of a new domain, no set_sched, no second info, no lvs
 * for the status or a rescue copy. The status is built from that read-back. A missing template
 * is refused after the one lvs with nothing made. Files only under mkdtemp(). */
#include <criterion/criterion.h>
#include <errno.h>
#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "../../common/util.h"
#include "../../provisioning/seed.h"
#include "../../provisioning/vps.h"
#include "../../provisioning/vps_internal.h"

#include "agent_fixture.h"
#include "xl_fake.h"

#define LVM_DATA "tests/unit/data/lvm/"
#define LVS                                                                                        \
	"lvs --reportformat json --units b --nosuffix -o "                                         \
	"lv_name,lv_attr,lv_size,pool_lv,segtype,data_percent,metadata_percent,discards vg0"
#define N(a) (sizeof(a) / sizeof((a)[0]))

static char tmp[64], cfgdir[128];
static fake xf, lf;
static hv_driver hv;
static st_driver st;
static vps_ctx ctx;

static void *no_xenstat(void)
{
	return NULL; /* as on a host without Xen: the CPU time reads 0 */
}

static const hv_xenstat_ops nostat = {.init = no_xenstat};

static int rm_one(const char *path, const struct stat *sb, int flag, struct FTW *ftw)
{
	(void)sb;
	(void)flag;
	(void)ftw;
	return remove(path);
}

static void setup(void)
{
	snprintf(tmp, sizeof(tmp), "/tmp/xvps-provcost-XXXXXX");
	cr_assert_not_null(mkdtemp(tmp));
	snprintf(cfgdir, sizeof(cfgdir), "%s/xen", tmp);
	memset(&st, 0, sizeof(st));
	memset(&hv, 0, sizeof(hv));
}

static void teardown(void)
{
	seed_remove(tmp, "xvps-12"); /* and the loop device a failed test may have left bound */
	if (st.ops)
		st.ops->dispose(&st);
	if (hv.ops)
		hv.ops->dispose(&hv);
	fake_free_calls(&xf);
	fake_free_calls(&lf);
	nftw(tmp, rm_one, 16, FTW_DEPTH | FTW_PHYS);
}

TestSuite(provision_cost, .init = setup, .fini = teardown);

/* The xl driver answering xsteps, the lvm driver on vg0/pool answering lsteps, ctx over both
 * (configs in <tmp>/xen, seeds under <tmp>, no host network). */
static void open_drivers(const fake_step *xsteps, size_t xn, const fake_step *lsteps, size_t ln)
{
	static const fake_step open_steps[] = {{.out_file = "lvs-pool.json"}};
	char err[ST_ERRLEN] = "";
	vps_err e = {0};

	hv = xlf_open(&xf, xsteps, xn);
	cr_assert_eq(hv_xl_set_xenstat(&hv, &nostat), 0);
	cr_assert_eq(st_lvm_open(&st, fake_runner_of(&lf, LVM_DATA, open_steps, 1), "vg0", "pool",
	                         tmp, err),
	             0, "%s", err);
	fake_free_calls(&lf);
	st.run = fake_runner_of(&lf, LVM_DATA, lsteps, ln);
	cr_assert_eq(vps_ctx_init(&ctx, &hv, &st, cfgdir, "xenbr0", &e), 0, "%s", e.msg);
	cr_assert_eq(vps_ctx_set_state_dir(&ctx, tmp, &e), 0, "%s", e.msg);
}

static void spec_12(vps_spec *spec, const char *tpl)
{
	char buf[1024];

	snprintf(buf, sizeof(buf),
	         "{\"name\":\"xvps-12\",\"hostname\":\"vm12.example.com\",\"type\":\"pv\","
	         "\"vcpus\":1,\"memory_mib\":512,\"disk_gib\":4,\"template\":\"%s\","
	         "\"mac\":\"00:16:3e:00:00:0c\",\"vifname\":\"xvif12\","
	         "\"ipv4\":[\"192.0.2.12\"],\"gateway4\":\"192.0.2.1\",\"cpu_weight\":512,"
	         "\"cpu_cap_pct\":50,\"power\":\"running\"}",
	         tpl);
	agfx_spec(spec, buf);
}

static const char *str_of(json_object *o, const char *key)
{
	json_object *v = NULL;

	return json_object_object_get_ex(o, key, &v) && v ? json_object_get_string(v) : "";
}

Test(provision_cost, a_first_creation_runs_the_bare_commands_and_three_more)
{
	static const fake_step xsteps[] = {
	        {.out = ""},                      /* xl create */
	        {.out_file = "info-credit2.txt"}, /* xl info (the scheduler, once per agent) */
	        {.out = "Name                                ID Weight  Cap\n"
	                "xvps-12                              7    512   50\n"}};
	static const fake_step lsteps[] = {
	        {.out_file = "lvs-tpl.json"}, {.out = ""}, {.out = ""}, {.out = ""}};
	char cfg[256], want_create[300];
	json_object *s = NULL, *timings = NULL;
	vps_spec spec;
	vps_err e = {0};

	open_drivers(xsteps, N(xsteps), lsteps, N(lsteps));
	spec_12(&spec, "tpl-1");
	cr_assert_eq(vps_ensure(&ctx, &spec, &s, &e), 0, "%s", e.msg);
	snprintf(cfg, sizeof(cfg), "%s/xvps-12.cfg", cfgdir);
	snprintf(want_create, sizeof(want_create), "xl create %s", cfg);
	fake_assert_calls(&xf, (const char *const[]){want_create, "xl info",
	                                             "xl sched-credit2 -d xvps-12", NULL});
	/* (lvchange: this host has no /dev/vg0/xvps-12; lvcreate leaves one on a real host) */
	fake_assert_calls(&lf, (const char *const[]){LVS,
	                                             "lvcreate -kn -prw -s -n xvps-12 "
	                                             "vg0/xvpstpl-tpl-1",
	                                             "lvextend -L 4g vg0/xvps-12",
	                                             "lvchange -ay -K vg0/xvps-12", NULL});
	/* The status comes from the read-back and the disk step. */
	cr_assert_str_eq(str_of(s, "state"), "running");
	cr_assert_str_eq(str_of(s, "domid"), "7");
	cr_assert_str_eq(str_of(s, "cpu_weight"), "512");
	cr_assert_str_eq(str_of(s, "cpu_cap_pct"), "50");
	cr_assert_str_eq(str_of(s, "disk_bytes"), "4294967296");
	cr_assert_str_eq(str_of(s, "config_path"), cfg);
	cr_assert(json_object_object_get_ex(s, "timings", &timings));
	cr_assert_gt(json_object_array_length(timings), 5);
	cr_assert_eq(access(cfg, F_OK), 0, "no xl.cfg");
	json_object_put(s);
	spec_dispose(&spec);
}

Test(provision_cost, a_scheduler_that_did_not_take_the_config_fails_the_creation)
{
	static const fake_step xsteps[] = {
	        {.out = ""},
	        {.out_file = "info-credit2.txt"},
	        {.out = "Name                                ID Weight  Cap\n"
	                "xvps-12                              7    256    0\n"},
	        {.out = ""}}; /* xl destroy of the rollback */
	static const fake_step lsteps[] = {{.out_file = "lvs-tpl.json"},
	                                   {.out = ""},
	                                   {.out = ""},
	                                   {.out = ""},
	                                   {.out_file = "lvs-disks.json"}};
	json_object *s = NULL;
	vps_spec spec;
	vps_err e = {0};
	char cfg[256];

	open_drivers(xsteps, N(xsteps), lsteps, N(lsteps));
	spec_12(&spec, "tpl-1");
	cr_assert_eq(vps_ensure(&ctx, &spec, &s, &e), -EIO);
	cr_assert_null(s);
	cr_assert(strstr(e.msg, "reads back weight 256 cap 0, wanted 512 and 50"), "%s", e.msg);
	cr_assert_str_eq(e.field, "cpu_weight");
	/* a first creation that failed takes back what it made: the domain, the config */
	cr_assert(xf.ncalls >= 4 && strcmp(xf.calls[3], "xl destroy xvps-12") == 0, "%s",
	          xf.ncalls >= 4 ? xf.calls[3] : "(no fourth xl call)");
	snprintf(cfg, sizeof(cfg), "%s/xvps-12.cfg", cfgdir);
	cr_assert_neq(access(cfg, F_OK), 0, "the config of a failed creation was left");
	spec_dispose(&spec);
}

Test(provision_cost, a_missing_template_is_refused_after_one_lvs)
{
	static const fake_step lsteps[] = {{.out_file = "lvs-pool.json"}};
	json_object *s = NULL;
	vps_spec spec;
	vps_err e = {0};
	char cfg[256];

	open_drivers(NULL, 0, lsteps, N(lsteps));
	spec_12(&spec, "tpl-9");
	cr_assert_eq(vps_ensure(&ctx, &spec, &s, &e), -ENOENT);
	cr_assert_str_eq(e.msg, "template tpl-9 does not exist");
	cr_assert_str_eq(e.field, "template");
	fake_assert_calls(&lf, (const char *const[]){LVS, NULL});
	fake_assert_calls(&xf, (const char *const[]){NULL});
	snprintf(cfg, sizeof(cfg), "%s/xvps-12.cfg", cfgdir);
	cr_assert_neq(access(cfg, F_OK), 0);
	spec_dispose(&spec);
}

/* On Xen the config names the seed's loop device, bound by the agent (seed_loop.h), so that
 * Xen's block script takes its phy path instead of binding one at every `xl create`; the
 * commands run stay the same; removing the seed unbinds it. Real loop devices: root only. */
Test(provision_cost, on_xen_the_seed_is_a_loop_device_the_agent_bound)
{
	static const fake_step xsteps[] = {
	        {.out = ""},
	        {.out_file = "info-credit2.txt"},
	        {.out = "Name                                ID Weight  Cap\n"
	                "xvps-12                              7    512   50\n"}};
	static const fake_step lsteps[] = {
	        {.out_file = "lvs-tpl.json"}, {.out = ""}, {.out = ""}, {.out = ""}};
	char cfg[256], *text = NULL, dev[32] = "", sys[96], back[600] = "", seed[300];
	const char *p;
	size_t len = 0;
	json_object *s = NULL;
	vps_spec spec;
	vps_err e = {0};
	FILE *f;

	if (geteuid() != 0 || access("/dev/loop-control", R_OK | W_OK) != 0)
		cr_skip_test("needs root and /dev/loop-control");
	open_drivers(xsteps, N(xsteps), lsteps, N(lsteps));
	ctx.seed_block = true;
	snprintf(ctx.seed_script, sizeof(ctx.seed_script), "/usr/lib/xvps/xvps-block-seed");
	snprintf(ctx.vif_script, sizeof(ctx.vif_script), "/usr/lib/xvps/xvps-vif");
	spec_12(&spec, "tpl-1");
	cr_assert_eq(vps_ensure(&ctx, &spec, &s, &e), 0, "%s", e.msg);
	snprintf(cfg, sizeof(cfg), "%s/xvps-12.cfg", cfgdir);
	cr_assert_eq(read_file(cfg, 1 << 16, &text, &len), 0);
	cr_assert_not_null(strstr(text, ", script=/usr/lib/xvps/xvps-vif' ]"), "%s", text);
	p = strstr(text, "vdev=xvdb, access=ro, script=/usr/lib/xvps/xvps-block-seed, "
	                 "target=/dev/loop");
	cr_assert_not_null(p, "%s", text);
	p = strstr(p, "target=");
	sscanf(p + strlen("target="), "%31[^']", dev);
	free(text);
	snprintf(sys, sizeof(sys), "/sys/block/%s/loop/backing_file", dev + 5);
	f = fopen(sys, "r");
	cr_assert_not_null(f, "%s is not bound", dev);
	cr_assert_not_null(fgets(back, sizeof(back), f));
	fclose(f);
	snprintf(seed, sizeof(seed), "%s/seed/xvps-12.img\n", tmp);
	cr_assert_str_eq(back, seed);
	fake_assert_calls(&lf, (const char *const[]){LVS,
	                                             "lvcreate -kn -prw -s -n xvps-12 "
	                                             "vg0/xvpstpl-tpl-1",
	                                             "lvextend -L 4g vg0/xvps-12",
	                                             "lvchange -ay -K vg0/xvps-12", NULL});
	cr_assert_eq(seed_remove(tmp, "xvps-12"), 0);
	cr_assert_neq(access(sys, F_OK), 0, "%s still bound after the seed was removed", dev);
	json_object_put(s);
	spec_dispose(&spec);
}

/* With libxenstat and libxenctrl answering (a Xen host), the read-back after the create starts
 * no process: the commands are the bare toolstack's plus the agent's one `xl info`. */
static int fxc_handle;
static void *fxc_init(void)
{
	return &fxc_handle;
}
static void fxc_uninit(void *h)
{
	(void)h;
}
static void *fxc_node(void *h)
{
	return h;
}
static void fxc_free(void *n)
{
	(void)n;
}
static unsigned fxc_num(void *n)
{
	return 1;
}
static void *fxc_dom(void *n, unsigned i)
{
	return i == 0 ? &fxc_handle : NULL;
}
static const char *fxc_name(void *dom)
{
	return "xvps-12";
}
static unsigned long long fxc_ns(void *dom)
{
	return 0;
}
static unsigned fxc_id(void *dom)
{
	return 7;
}
static int fxc_sched(unsigned domid, int credit2, int *weight, int *cap)
{
	cr_assert_eq(domid, 7);
	cr_assert(credit2);
	*weight = 512;
	*cap = 50;
	return 0;
}
static const hv_xenstat_ops xcstat = {.init = fxc_init,
                                      .uninit = fxc_uninit,
                                      .get_node = fxc_node,
                                      .free_node = fxc_free,
                                      .num_domains = fxc_num,
                                      .domain_by_index = fxc_dom,
                                      .domain_name = fxc_name,
                                      .domain_cpu_ns = fxc_ns,
                                      .domain_id = fxc_id,
                                      .sched_get = fxc_sched};

Test(provision_cost, with_libxenctrl_the_read_back_starts_no_process)
{
	static const fake_step xsteps[] = {{.out = ""}, {.out_file = "info-credit2.txt"}};
	static const fake_step lsteps[] = {
	        {.out_file = "lvs-tpl.json"}, {.out = ""}, {.out = ""}, {.out = ""}};
	char cfg[256], want_create[300];
	json_object *s = NULL;
	vps_spec spec;
	vps_err e = {0};

	open_drivers(xsteps, N(xsteps), lsteps, N(lsteps));
	cr_assert_eq(hv_xl_set_xenstat(&hv, &xcstat), 0);
	spec_12(&spec, "tpl-1");
	cr_assert_eq(vps_ensure(&ctx, &spec, &s, &e), 0, "%s", e.msg);
	snprintf(cfg, sizeof(cfg), "%s/xvps-12.cfg", cfgdir);
	snprintf(want_create, sizeof(want_create), "xl create %s", cfg);
	fake_assert_calls(&xf, (const char *const[]){want_create, "xl info", NULL});
	cr_assert_str_eq(str_of(s, "domid"), "7");
	cr_assert_str_eq(str_of(s, "cpu_weight"), "512");
	cr_assert_str_eq(str_of(s, "cpu_cap_pct"), "50");
	json_object_put(s);
	spec_dispose(&spec);
}
