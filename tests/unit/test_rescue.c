/* test_rescue.c — rescue mode in the agent (issue 16 item 3; provisioning/vps_rescue.c,
 * hypervisor/xlcfg.c): the rescue xl.cfg equals tests/golden/rescue.cfg and parses with
 * libxlutil; over the sim and file drivers, entering rescue makes the domain's own copy of the
 * rescue template (imported from the template import directory), restarts the domain with the
 * copy as xvda, its disk as xvdb and the seed as xvdc; leaving it boots the VPS from its disk
 * and removes the copy; the customer's disk keeps its bytes; vps.remove and the reconciler
 * remove copies; a missing rescue system is refused before anything changes. Files only under
 * mkdtemp(); every guest is destroyed and reaped. With the lvm driver on the fake runner: the
 * copy is a thin snapshot of xvpstpl-rescue grown to 4 GiB, leaving discards and removes it, no
 * rescue template and no source to import runs no lvcreate. */
#include <criterion/criterion.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "../../common/util.h"
#include "../../hypervisor/xlcfg.h"
#include "../../provisioning/vps.h"
#include "../../provisioning/vps_internal.h"

#include "fake_runner.h"
#include "sim_fixture.h"
#include "agent_fixture.h"

TestSuite(rescue_cfg);

Test(rescue_cfg, matches_golden_and_parses)
{
	xlcfg_spec s = agfx_xlcfg_spec(XL_PVH);
	char *cfg, perr[512];
	const char *why = NULL;

	s.rescue_path = "/dev/xvps/rescue-xvps-12";
	cfg = agfx_xlcfg_render(&s);
	agfx_assert_golden(cfg, "tests/golden/rescue.cfg");
	cr_assert_eq(xlcfg_parse_check(cfg, perr, sizeof(perr)), 0, "%s", perr);
	free(cfg);
	/* The rescue disk may not be the VPS's own disk, nor an unsafe path. */
	s.rescue_path = s.disk_path;
	cr_assert_eq(xlcfg_render(&s, &cfg, &why), -EINVAL);
	cr_assert_null(cfg);
	s.rescue_path = "/dev/xvps/x'y";
	cr_assert_eq(xlcfg_render(&s, &cfg, &why), -EINVAL);
	cr_assert_not_null(strstr(why, "rescue_path"));
}

static char tmp[64];
static hv_driver hv;
static st_driver st;
static vps_ctx ctx;
static bool opened;

static void setup(void)
{
	vps_err e = {0};

	simfx_open("rescue", tmp, &hv, &st, &ctx, &opened);
	cr_assert_eq(vps_ctx_set_state_dir(&ctx, tmp, &e), 0, "%s", e.msg); /* seeds */
}

static void teardown(void)
{
	simfx_close(tmp, &hv, &st, &opened);
}

TestSuite(rescue, .init = setup, .fini = teardown, .timeout = 60);

static void need_guest(void)
{
	if (access(simfx_guest_path(), X_OK) != 0)
		cr_skip_test("no simguest at %s (set XVPS_SIMGUEST)", simfx_guest_path());
}

static void make_spec(vps_spec *spec, int id, bool rescue)
{
	char buf[1024];

	snprintf(buf, sizeof(buf),
	         "{\"name\":\"xvps-%d\",\"hostname\":\"vm%d.example.com\",\"type\":\"pvh\","
	         "\"vcpus\":1,\"memory_mib\":512,\"disk_gib\":2,\"template\":\"tpl-1\","
	         "\"mac\":\"00:16:3e:00:00:%02x\",\"vifname\":\"xvif%d\",\"ipv4\":[\"192.0.2.%d\"],"
	         "\"gateway4\":\"192.0.2.1\",\"cpu_weight\":256,\"power\":\"running\","
	         "\"rescue\":%s}",
	         id, id, id, id, id + 10, rescue ? "true" : "false");
	agfx_spec(spec, buf);
}

/* <tmp>/<rel> into out. */
static void path_of(char *out, size_t len, const char *rel)
{
	snprintf(out, len, "%s/%s", tmp, rel);
}

/* A rescue image source in the import directory, 1 MiB with a marker at its start. */
static void put_rescue_source(void)
{
	char dir[256], p[256];
	int fd;

	path_of(dir, sizeof(dir), "template-src");
	mkdir(dir, 0700);
	path_of(p, sizeof(p), "template-src/rescue.img");
	fd = open(p, O_WRONLY | O_CREAT | O_TRUNC, 0600);
	cr_assert_geq(fd, 0);
	cr_assert_eq(write(fd, "RESCUE-SYSTEM", 13), 13);
	cr_assert_eq(ftruncate(fd, 1 << 20), 0);
	close(fd);
}

/* The first n bytes of file rel (under tmp) into buf; false when it cannot be read. */
static bool head_of(const char *rel, char *buf, size_t n)
{
	char p[256];
	int fd;
	bool ok;

	path_of(p, sizeof(p), rel);
	fd = open(p, O_RDONLY);
	if (fd < 0)
		return false;
	ok = read(fd, buf, n) == (ssize_t)n;
	close(fd);
	return ok;
}

static int domid_of(json_object *status)
{
	json_object *v = NULL;

	cr_assert(json_object_object_get_ex(status, "domid", &v));
	return json_object_get_int(v);
}

static char *config_of(const char *name)
{
	char p[256], rel[64];
	char *cfg = NULL;
	size_t len = 0;

	snprintf(rel, sizeof(rel), "xen/%s.cfg", name);
	path_of(p, sizeof(p), rel);
	cr_assert_eq(read_file(p, 1 << 20, &cfg, &len), 0);
	return cfg;
}

Test(rescue, enter_and_leave_keep_the_customer_disk)
{
	vps_spec normal, rescue;
	vps_err e = {0};
	json_object *s0 = NULL, *s1 = NULL, *s2 = NULL;
	char p[256], want[192], *cfg;
	char mark[16] = {0};
	int fd;

	need_guest();
	put_rescue_source();
	make_spec(&normal, 5, false);
	make_spec(&rescue, 5, true);
	cr_assert_eq(vps_ensure(&ctx, &normal, &s0, &e), 0, "%s", e.msg);
	/* the customer's data on its disk */
	path_of(p, sizeof(p), "disks/xvps-5.img");
	fd = open(p, O_WRONLY);
	cr_assert_geq(fd, 0);
	cr_assert_eq(pwrite(fd, "CUSTOMER-DATA", 13, 4096), 13);
	close(fd);

	cr_assert_eq(vps_ensure(&ctx, &rescue, &s1, &e), 0, "%s", e.msg);
	cr_assert_neq(domid_of(s1), domid_of(s0), "entering rescue did not restart the domain");
	cr_assert(head_of("disks/rescue-xvps-5.img", mark, 13), "no rescue copy");
	cr_assert_str_eq(mark, "RESCUE-SYSTEM");
	cfg = config_of("xvps-5");
	snprintf(want, sizeof(want), "vdev=xvda, access=rw, target=%s/disks/rescue-xvps-5.img'",
	         tmp);
	cr_assert_not_null(strstr(cfg, want), "%s", cfg);
	snprintf(want, sizeof(want), "vdev=xvdb, access=rw, target=%s/disks/xvps-5.img'", tmp);
	cr_assert_not_null(strstr(cfg, want), "%s", cfg);
	cr_assert_not_null(strstr(cfg, "vdev=xvdc, access=ro"), "%s", cfg);
	free(cfg);
	/* again: nothing changes (same domain) */
	json_object_put(s0);
	s0 = s1;
	cr_assert_eq(vps_ensure(&ctx, &rescue, &s1, &e), 0, "%s", e.msg);
	cr_assert_eq(domid_of(s1), domid_of(s0), "a second rescue ensure restarted the domain");

	cr_assert_eq(vps_ensure(&ctx, &normal, &s2, &e), 0, "%s", e.msg);
	cr_assert_neq(domid_of(s2), domid_of(s1), "leaving rescue did not restart the domain");
	path_of(p, sizeof(p), "disks/rescue-xvps-5.img");
	cr_assert_neq(access(p, F_OK), 0, "the rescue copy is still there");
	cfg = config_of("xvps-5");
	cr_assert_null(strstr(cfg, "disks/rescue-"), "%s", cfg);
	cr_assert_not_null(strstr(cfg, "vdev=xvdb, access=ro"), "%s", cfg);
	free(cfg);
	memset(mark, 0, sizeof(mark));
	path_of(p, sizeof(p), "disks/xvps-5.img");
	fd = open(p, O_RDONLY);
	cr_assert_geq(fd, 0);
	cr_assert_eq(pread(fd, mark, 13, 4096), 13);
	close(fd);
	cr_assert_str_eq(mark, "CUSTOMER-DATA");
	json_object_put(s0);
	json_object_put(s1);
	json_object_put(s2);
	spec_dispose(&normal);
	spec_dispose(&rescue);
}

Test(rescue, missing_rescue_system_is_refused_and_changes_nothing)
{
	vps_spec normal, rescue;
	vps_err e = {0};
	json_object *s0 = NULL, *s1 = NULL, *s2 = NULL;
	char *before, *after;

	need_guest();
	make_spec(&normal, 6, false);
	make_spec(&rescue, 6, true);
	cr_assert_eq(vps_ensure(&ctx, &normal, &s0, &e), 0, "%s", e.msg);
	before = config_of("xvps-6");
	cr_assert_neq(vps_ensure(&ctx, &rescue, &s1, &e), 0);
	cr_assert_str_eq(e.field, "rescue");
	cr_assert_not_null(strstr(e.msg, "rescue system"), "%s", e.msg);
	after = config_of("xvps-6");
	cr_assert_str_eq(before, after);
	cr_assert_eq(vps_status(&ctx, "xvps-6", &s2, &e), 0);
	cr_assert_eq(domid_of(s2), domid_of(s0), "the domain was restarted");
	free(before);
	free(after);
	json_object_put(s0);
	json_object_put(s2);
	spec_dispose(&normal);
	spec_dispose(&rescue);
}

Test(rescue, remove_and_reconcile_take_the_copy)
{
	vps_spec spec;
	vps_err e = {0};
	json_object *s = NULL, *orphans = NULL;
	const char *known[] = {"xvps-8"};
	char p[256];

	put_rescue_source();
	make_spec(&spec, 7, true);
	spec.power_running = false;
	cr_assert_eq(vps_ensure(&ctx, &spec, &s, &e), 0, "%s", e.msg);
	json_object_put(s);
	path_of(p, sizeof(p), "disks/rescue-xvps-7.img");
	cr_assert_eq(access(p, F_OK), 0, "no rescue copy for a stopped rescued VPS");
	cr_assert_eq(vps_remove(&ctx, "xvps-7", &e), 0, "%s", e.msg);
	cr_assert_neq(access(p, F_OK), 0, "vps.remove left the rescue copy");
	spec_dispose(&spec);

	/* a copy of an unknown domain goes; a known domain's stays */
	make_spec(&spec, 8, true);
	spec.power_running = false;
	cr_assert_eq(vps_ensure(&ctx, &spec, &s, &e), 0, "%s", e.msg);
	json_object_put(s);
	spec_dispose(&spec);
	make_spec(&spec, 9, true);
	spec.power_running = false;
	cr_assert_eq(vps_ensure(&ctx, &spec, &s, &e), 0, "%s", e.msg);
	json_object_put(s);
	spec_dispose(&spec);
	cr_assert_eq(vps_reconcile(&ctx, known, 1, NULL, 0, &orphans, &e), 0, "%s", e.msg);
	path_of(p, sizeof(p), "disks/rescue-xvps-9.img");
	cr_assert_neq(access(p, F_OK), 0, "the reconciler left an unknown domain's rescue copy");
	path_of(p, sizeof(p), "disks/rescue-xvps-8.img");
	cr_assert_eq(access(p, F_OK), 0, "the reconciler removed a known domain's rescue copy");
	cr_assert_not_null(strstr(json_object_to_json_string_ext(orphans, JSON_C_TO_STRING_PLAIN),
	                          "{\"kind\":\"rescue_disk\",\"name\":\"rescue-xvps-9\","
	                          "\"action\":\"removed\"}"),
	                   "%s", json_object_to_json_string(orphans));
	json_object_put(orphans);
}

/* ---- the lvm driver on the fake runner: the exact commands of a rescue copy ---- */

#define LVM_DATA "tests/unit/data/lvm/"
#define LVS                                                                                        \
	"lvs --reportformat json --units b --nosuffix -o "                                         \
	"lv_name,lv_attr,lv_size,pool_lv,segtype,data_percent,metadata_percent,discards vg0"
#define N(a) (sizeof(a) / sizeof((a)[0]))

static fake lf;
static st_driver lst;
static char ltdir[64];

static void lvm_setup(void)
{
	memset(&lst, 0, sizeof(lst));
	snprintf(ltdir, sizeof(ltdir), "/tmp/xvps-rescue-lvm-XXXXXX");
	cr_assert_not_null(mkdtemp(ltdir));
}

static void lvm_teardown(void)
{
	if (lst.ops)
		lst.ops->dispose(&lst);
	for (size_t k = 0; k < lf.ncalls; k++)
		free(lf.calls[k]);
	lf.ncalls = 0;
	rmdir(ltdir);
}

TestSuite(rescue_lvm, .init = lvm_setup, .fini = lvm_teardown);

/* Opens the lvm driver on vg0/pool (scripted lvs-pool.json), then scripts steps; ctx uses it. */
static void lvm_open_with(vps_ctx *c, const fake_step *steps, size_t n)
{
	static const fake_step open_steps[] = {{.out_file = "lvs-pool.json"}};
	char err[ST_ERRLEN] = "";

	cr_assert_eq(st_lvm_open(&lst, fake_runner_of(&lf, LVM_DATA, open_steps, 1), "vg0", "pool",
	                         ltdir, err),
	             0, "%s", err);
	for (size_t k = 0; k < lf.ncalls; k++)
		free(lf.calls[k]);
	lst.run = fake_runner_of(&lf, LVM_DATA, steps, n);
	memset(c, 0, sizeof(*c));
	c->st = &lst;
}

Test(rescue_lvm, the_copy_is_a_thin_snapshot_of_the_rescue_template)
{
	static const fake_step steps[] = {{.out_file = "lvs-rescue.json"},
	                                  {.out_file = "lvs-rescue.json"},
	                                  {.out = ""},
	                                  {.out = ""},
	                                  {.out = ""}};
	vps_spec spec = {.name = "xvps-5", .rescue = true};
	vps_ctx c;
	vps_err e = {0};
	char path[512];

	lvm_open_with(&c, steps, N(steps));
	cr_assert_eq(vps_rescue_prepare(&c, &spec, path, sizeof(path), &e), 0, "%s", e.msg);
	cr_assert_str_eq(path, "/dev/vg0/rescue-xvps-5");
	fake_assert_calls(&lf, (const char *const[]){
	                               LVS, LVS,
	                               "lvcreate -kn -prw -s -n rescue-xvps-5 vg0/xvpstpl-rescue",
	                               "lvextend -L 4g vg0/rescue-xvps-5",
	                               "lvchange -ay -K vg0/rescue-xvps-5", NULL});
}

Test(rescue_lvm, leaving_discards_and_removes_the_copy)
{
	static const fake_step steps[] = {
	        {.out_file = "lvs-rescue-disk.json"}, {.out = ""}, {.out = ""}};
	vps_ctx c;
	vps_err e = {0};

	lvm_open_with(&c, steps, N(steps));
	cr_assert_eq(vps_rescue_remove(&c, "xvps-5", &e), 0, "%s", e.msg);
	fake_assert_calls(&lf, (const char *const[]){LVS, "blkdiscard /dev/vg0/rescue-xvps-5",
	                                             "lvremove -y vg0/rescue-xvps-5", NULL});
}

Test(rescue_lvm, no_rescue_template_and_no_source_makes_nothing)
{
	static const fake_step steps[] = {{.out_file = "lvs-pool.json"},
	                                  {.out_file = "lvs-pool.json"}};
	vps_spec spec = {.name = "xvps-5", .rescue = true};
	vps_ctx c;
	vps_err e = {0};
	char path[512];

	lvm_open_with(&c, steps, N(steps));
	cr_assert_neq(vps_rescue_prepare(&c, &spec, path, sizeof(path), &e), 0);
	cr_assert_str_eq(e.field, "rescue");
	cr_assert(strstr(e.msg, "rescue system is not installed"), "%s", e.msg);
	for (size_t k = 0; k < lf.ncalls; k++)
		cr_assert_null(strstr(lf.calls[k], "lvcreate"), "ran %s", lf.calls[k]);
}
