/* test_storage_outcome.c — the storage interface's answers (provisioning/storage.h): what
 * disk_ensure reports (existed, created, grown, a missing template, the size after) from both
 * drivers, and template_exists' three answers, where a failed look (`lvs` failing on a loaded
 * host, a stat that fails otherwise than ENOENT) is a host error, never "absent". Then the
 * callers: an order (vps.ensure through agent_handle, as the panel's job sends it), a
 * reinstall and a rescue copy whose `lvs` fails report the listing failure as a host error
 * (code "host", retried by the next job), not "template ... does not exist"; the order's
 * retry, once `lvs` answers, runs the first creation's usual commands. lvm and xl run on the
 * fake runner (fake_runner.h); files only under mkdtemp(). */
#include <criterion/criterion.h>
#include <errno.h>
#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "../../provisioning/agent.h"
#include "../../provisioning/vps.h"
#include "../../provisioning/vps_internal.h"

#include "agent_fixture.h"
#include "xl_fake.h"

#define LVM_DATA "tests/unit/data/lvm/"
#define GIB      (1024ull * 1024ull * 1024ull)
#define LVS                                                                                        \
	"lvs --reportformat json --units b --nosuffix -o "                                         \
	"lv_name,lv_attr,lv_size,pool_lv,segtype,data_percent,metadata_percent,discards vg0"
#define N(a) (sizeof(a) / sizeof((a)[0]))

/* What LVM prints when another command holds the VG's lock past its wait. */
#define LVS_FAILS                                                                                  \
	{                                                                                          \
		.exit_status = 5, .err = "  Can't get lock for vg0.\n"                             \
	}

static char tmp[64], cfgdir[128], err[ST_ERRLEN];
static fake xf, lf;
static hv_driver hv;
static st_driver st;
static vps_ctx ctx;
static agent *ag;

static int rm_one(const char *path, const struct stat *sb, int flag, struct FTW *ftw)
{
	(void)sb;
	(void)flag;
	(void)ftw;
	return remove(path);
}

static void setup(void)
{
	snprintf(tmp, sizeof(tmp), "/tmp/xvps-stout-XXXXXX");
	cr_assert_not_null(mkdtemp(tmp));
	snprintf(cfgdir, sizeof(cfgdir), "%s/xen", tmp);
	memset(&st, 0, sizeof(st));
	memset(&hv, 0, sizeof(hv));
	err[0] = '\0';
}

static void teardown(void)
{
	if (ag)
		agent_stop(ag);
	ag = NULL;
	if (st.ops)
		st.ops->dispose(&st);
	if (hv.ops)
		hv.ops->dispose(&hv);
	fake_free_calls(&xf);
	fake_free_calls(&lf);
	nftw(tmp, rm_one, 16, FTW_DEPTH | FTW_PHYS);
}

TestSuite(storage_outcome, .init = setup, .fini = teardown, .timeout = 30);

/* The lvm driver on vg0/pool (opened on lvs-pool.json), then answering steps. */
static void open_lvm(const fake_step *steps, size_t n)
{
	static const fake_step open_steps[] = {{.out_file = "lvs-pool.json"}};

	cr_assert_eq(st_lvm_open(&st, fake_runner_of(&lf, LVM_DATA, open_steps, 1), "vg0", "pool",
	                         tmp, err),
	             0, "%s", err);
	fake_free_calls(&lf);
	st.run = fake_runner_of(&lf, LVM_DATA, steps, n);
}

/* open_lvm, the xl driver answering xsteps, and ctx over both (configs in <tmp>/xen, seeds
 * under <tmp>, no host network). */
static void open_ctx(const fake_step *xsteps, size_t xn, const fake_step *lsteps, size_t ln)
{
	vps_err e = {0};

	hv = xlf_open(&xf, xsteps, xn);
	open_lvm(lsteps, ln);
	cr_assert_eq(vps_ctx_init(&ctx, &hv, &st, cfgdir, "xenbr0", &e), 0, "%s", e.msg);
	cr_assert_eq(vps_ctx_set_state_dir(&ctx, tmp, &e), 0, "%s", e.msg);
}

static void assert_outcome(const st_disk_outcome *o, bool existed, bool created, bool grown,
                           uint64_t bytes)
{
	cr_assert(o->looked);
	cr_assert_eq(o->existed, existed, "existed %d", o->existed);
	cr_assert_eq(o->created, created, "created %d", o->created);
	cr_assert_eq(o->grown, grown, "grown %d", o->grown);
	cr_assert_not(o->tpl_missing);
	cr_assert_eq(o->bytes, bytes, "bytes %llu", (unsigned long long)o->bytes);
}

/* ---- the lvm driver ---- */

Test(storage_outcome, lvm_tells_created_kept_grown_and_the_size_from_one_lvs)
{
	static const fake_step steps[] = {{.out_file = "lvs-tpl.json"},
	                                  {.out = ""},
	                                  {.out = ""},
	                                  {.out = ""},
	                                  {.out_file = "lvs-disks.json"},
	                                  {.out_file = "lvs-disks.json"},
	                                  {.out = ""},
	                                  {.out_file = "lvs-disks.json"},
	                                  {.out = ""}};
	st_disk_outcome o;

	open_lvm(steps, N(steps));
	/* new: a snapshot of the 2 GiB template grown to 5 */
	cr_assert_eq(st.ops->disk_ensure(&st, "xvps-1", "tpl-1", 5, &o, err), 0, "%s", err);
	assert_outcome(&o, false, true, false, 5 * GIB);
	/* xvps-1 of 2 GiB, active: kept as it is, then grown to 4 */
	cr_assert_eq(st.ops->disk_ensure(&st, "xvps-1", "tpl-1", 2, &o, err), 0, "%s", err);
	assert_outcome(&o, true, false, false, 2 * GIB);
	cr_assert_eq(st.ops->disk_ensure(&st, "xvps-1", "tpl-1", 4, &o, err), 0, "%s", err);
	assert_outcome(&o, true, false, true, 4 * GIB);
	/* xvps-2 of 10 GiB, inactive: activated, never shrunk */
	cr_assert_eq(st.ops->disk_ensure(&st, "xvps-2", "tpl-1", 3, &o, err), 0, "%s", err);
	assert_outcome(&o, true, false, false, 10 * GIB);
	fake_assert_calls(&lf, (const char *const[]){LVS, "lvcreate *", "lvextend -L 5g vg0/xvps-1",
	                                             "lvchange -ay -K vg0/xvps-1", LVS, LVS,
	                                             "lvextend -L 4g vg0/xvps-1", LVS,
	                                             "lvchange -ay -K vg0/xvps-2", NULL});
}

Test(storage_outcome, lvm_missing_template_is_told_apart_from_a_failed_lvs)
{
	static const fake_step steps[] = {{.out_file = "lvs-pool.json"}, LVS_FAILS};
	st_disk_outcome o;

	open_lvm(steps, N(steps));
	cr_assert_eq(st.ops->disk_ensure(&st, "xvps-1", "tpl-1", 2, &o, err), -ENOENT);
	cr_assert(o.looked && o.tpl_missing && !o.existed && !o.created);
	cr_assert_neq(st.ops->disk_ensure(&st, "xvps-1", "tpl-1", 2, &o, err), 0);
	cr_assert(!o.looked && !o.tpl_missing && !o.existed && !o.created);
	cr_assert(strstr(err, "listing LVs failed: volume group vg0: Can't get lock for vg0."),
	          "%s", err);
	fake_assert_calls(&lf, (const char *const[]){LVS, LVS, NULL});
}

Test(storage_outcome, lvm_template_exists_is_tri_state)
{
	static const fake_step steps[] = {{.out_file = "lvs-tpl.json"},
	                                  {.out_file = "lvs-pool.json"},
	                                  LVS_FAILS,
	                                  {.timed_out = true}};

	open_lvm(steps, N(steps));
	cr_assert_eq(st.ops->template_exists(&st, "tpl-1", err), 1);
	cr_assert_eq(st.ops->template_exists(&st, "tpl-1", err), 0);
	err[0] = '\0';
	cr_assert_eq(st.ops->template_exists(&st, "tpl-1", err), -1);
	cr_assert(strstr(err, "listing LVs failed: volume group vg0: Can't get lock"), "%s", err);
	err[0] = '\0';
	cr_assert_eq(st.ops->template_exists(&st, "tpl-1", err), -1);
	cr_assert(strstr(err, "listing LVs failed"), "%s", err);
	fake_assert_calls(&lf, (const char *const[]){LVS, LVS, LVS, LVS, NULL});
}

/* ---- the file driver ---- */

Test(storage_outcome, file_tells_created_kept_grown_missing_and_the_size)
{
	st_disk_outcome o;

	cr_assert_eq(st_file_open(&st, tmp, tmp, err), 0, "%s", err);
	cr_assert_eq(st.ops->template_ensure(&st, "tpl-1", 1, NULL, NULL, err), 0, "%s", err);
	cr_assert_eq(st.ops->disk_ensure(&st, "xvps-1", "tpl-1", 2, &o, err), 0, "%s", err);
	assert_outcome(&o, false, true, false, 2 * GIB);
	cr_assert_eq(st.ops->disk_ensure(&st, "xvps-1", "tpl-1", 2, &o, err), 0, "%s", err);
	assert_outcome(&o, true, false, false, 2 * GIB);
	cr_assert_eq(st.ops->disk_ensure(&st, "xvps-1", "tpl-1", 3, &o, err), 0, "%s", err);
	assert_outcome(&o, true, false, true, 3 * GIB);
	cr_assert_eq(st.ops->disk_ensure(&st, "xvps-1", "tpl-1", 1, &o, err), 0, "%s", err);
	assert_outcome(&o, true, false, false, 3 * GIB);
	cr_assert_eq(st.ops->disk_ensure(&st, "xvps-2", "tpl-9", 1, &o, err), -ENOENT);
	cr_assert(o.looked && o.tpl_missing && !o.existed && !o.created);
	cr_assert_str_eq(err, "template tpl-9 does not exist");
	/* NULL: the outcome is not wanted */
	cr_assert_eq(st.ops->disk_ensure(&st, "xvps-3", "tpl-1", 1, NULL, err), 0, "%s", err);
}

Test(storage_outcome, file_template_that_cannot_be_looked_up_is_a_host_error)
{
	char link[256];
	st_disk_outcome o;

	cr_assert_eq(st_file_open(&st, tmp, tmp, err), 0, "%s", err);
	/* templates/tpl-x.img → itself: stat fails with ELOOP, not ENOENT */
	snprintf(link, sizeof(link), "%s/templates/tpl-x.img", tmp);
	cr_assert_eq(symlink(link, link), 0);
	err[0] = '\0';
	cr_assert_eq(st.ops->template_exists(&st, "tpl-x", err), -1);
	cr_assert(strstr(err, "cannot look up template tpl-x"), "%s", err);
	cr_assert_eq(st.ops->template_exists(&st, "tpl-y", err), 0);
	cr_assert_eq(st.ops->template_exists(&st, "../x", err), 0);
	cr_assert_eq(st.ops->disk_ensure(&st, "xvps-1", "tpl-x", 1, &o, err), -EIO);
	cr_assert(o.looked && !o.tpl_missing && !o.existed && !o.created);
	cr_assert(strstr(err, "cannot look up template tpl-x"), "%s", err);
}

/* ---- the callers ---- */

static void spec_12(vps_spec *spec)
{
	agfx_spec(spec, "{\"name\":\"xvps-12\",\"hostname\":\"vm12.example.com\",\"type\":\"pv\","
	                "\"vcpus\":1,\"memory_mib\":512,\"disk_gib\":4,\"template\":\"tpl-1\","
	                "\"mac\":\"00:16:3e:00:00:0c\",\"vifname\":\"xvif12\","
	                "\"ipv4\":[\"192.0.2.12\"],\"gateway4\":\"192.0.2.1\",\"cpu_weight\":512,"
	                "\"cpu_cap_pct\":50,\"power\":\"running\"}");
}

static json_object *ensure_request(void)
{
	json_object *req = json_object_new_object();

	json_object_object_add(req, "op", json_object_new_string("vps.ensure"));
	json_object_object_add(
	        req, "spec",
	        json_tokener_parse(
	                "{\"name\":\"xvps-12\",\"hostname\":\"vm12.example.com\",\"type\":\"pv\","
	                "\"vcpus\":1,\"memory_mib\":512,\"disk_gib\":4,\"template\":\"tpl-1\","
	                "\"mac\":\"00:16:3e:00:00:0c\",\"vifname\":\"xvif12\","
	                "\"ipv4\":[\"192.0.2.12\"],\"gateway4\":\"192.0.2.1\",\"cpu_weight\":512,"
	                "\"cpu_cap_pct\":50,\"power\":\"running\"}"));
	return req;
}

static const char *get_str(json_object *o, const char *key)
{
	json_object *v = NULL;

	return json_object_object_get_ex(o, key, &v) && v ? json_object_get_string(v) : "";
}

Test(storage_outcome, an_order_whose_lvs_fails_is_a_host_error_and_its_retry_creates)
{
	static const fake_step xsteps[] = {
	        {.out = ""},                      /* xl create */
	        {.out_file = "info-credit2.txt"}, /* xl info (the scheduler, once per agent) */
	        {.out = "Name                                ID Weight  Cap\n"
	                "xvps-12                              7    512   50\n"}};
	static const fake_step lsteps[] = {
	        LVS_FAILS, {.out_file = "lvs-tpl.json"}, {.out = ""}, {.out = ""}, {.out = ""}};
	agent_config cfg = {0};
	json_object *req, *rep, *ok = NULL;
	char aerr[512], path[256];

	open_ctx(xsteps, N(xsteps), lsteps, N(lsteps));
	snprintf(cfg.sock_path, sizeof(cfg.sock_path), "%s/agent.sock", tmp);
	cfg.panel_uid = getuid();
	cr_assert_eq(agent_start(&cfg, &ctx, &ag, aerr, sizeof(aerr)), 0, "%s", aerr);

	/* The job's agent call: the answer is what the panel keeps as the job's error. */
	req = ensure_request();
	rep = agent_handle(ag, req);
	json_object_put(req);
	cr_assert(json_object_object_get_ex(rep, "ok", &ok) && !json_object_get_boolean(ok), "%s",
	          json_object_to_json_string(rep));
	cr_assert_str_eq(get_str(rep, "code"), "host", "%s", json_object_to_json_string(rep));
	cr_assert_str_eq(get_str(rep, "error"),
	                 "disk of xvps-12: listing LVs failed: volume group vg0: Can't get lock "
	                 "for vg0.");
	cr_assert_str_neq(get_str(rep, "field"), "template");
	json_object_put(rep);
	fake_assert_calls(&lf, (const char *const[]){LVS, NULL});
	fake_assert_calls(&xf, (const char *const[]){NULL});
	snprintf(path, sizeof(path), "%s/xvps-12.cfg", cfgdir);
	cr_assert_neq(access(path, F_OK), 0, "a config was left");

	/* The next attempt, with lvs answering: the first creation's commands. */
	req = ensure_request();
	rep = agent_handle(ag, req);
	json_object_put(req);
	cr_assert(json_object_object_get_ex(rep, "ok", &ok) && json_object_get_boolean(ok), "%s",
	          json_object_to_json_string(rep));
	json_object_put(rep);
	fake_assert_calls(&lf, (const char *const[]){LVS,
	                                             "lvcreate -kn -prw -s -n xvps-12 "
	                                             "vg0/xvpstpl-tpl-1",
	                                             "lvextend -L 4g vg0/xvps-12",
	                                             "lvchange -ay -K vg0/xvps-12", NULL});
	cr_assert_eq(xf.ncalls, 3);
}

Test(storage_outcome, a_reinstall_whose_lvs_fails_touches_nothing)
{
	static const fake_step lsteps[] = {LVS_FAILS, {.out_file = "lvs-pool.json"}};
	json_object *s = NULL;
	vps_spec spec;
	vps_err e = {0};

	open_ctx(NULL, 0, lsteps, N(lsteps));
	spec_12(&spec);
	cr_assert_eq(vps_reinstall(&ctx, &spec, &s, &e), -EIO);
	cr_assert_null(s);
	cr_assert_str_eq(e.code, "host");
	cr_assert_str_eq(e.field, "");
	cr_assert(strstr(e.msg, "listing LVs failed: volume group vg0: Can't get lock"), "%s",
	          e.msg);
	fake_assert_calls(&lf, (const char *const[]){LVS, NULL});
	fake_assert_calls(&xf, (const char *const[]){NULL});
	/* absent, as before: refused before anything is destroyed */
	cr_assert_eq(vps_reinstall(&ctx, &spec, &s, &e), -ENOENT);
	cr_assert_str_eq(e.msg, "template tpl-1 does not exist");
	cr_assert_str_eq(e.field, "template");
	fake_assert_calls(&xf, (const char *const[]){NULL});
	spec_dispose(&spec);
}

Test(storage_outcome, a_rescue_copy_whose_lvs_fails_is_not_a_missing_rescue_system)
{
	static const fake_step lsteps[] = {LVS_FAILS};
	vps_spec spec = {.name = "xvps-5", .rescue = true};
	vps_err e = {0};
	char path[512];

	open_ctx(NULL, 0, lsteps, N(lsteps));
	cr_assert_eq(vps_rescue_prepare(&ctx, &spec, path, sizeof(path), &e), -EIO);
	cr_assert_str_eq(e.code, "host");
	cr_assert_null(strstr(e.msg, "not installed"), "%s", e.msg);
	cr_assert(strstr(e.msg, "listing LVs failed: volume group vg0: Can't get lock"), "%s",
	          e.msg);
	fake_assert_calls(&lf, (const char *const[]){LVS, NULL});
}
