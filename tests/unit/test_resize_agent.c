/* test_resize_agent.c — live resize in the agent (issue 16 item 1): the xl driver's
 * `xl mem-set` / `xl vcpu-set` and what it reads back of a resized domain (fake runner, outputs
 * in tests/unit/data/xl/), the ceilings in xl.cfg (maxmem for PV only, maxvcpus), the spec's
 * max_* checks, the sim driver's model, and vps_ensure over sim + file: sizes applied live up to
 * the ceilings, beyond them pending until the next boot, the disk grown and never shrunk.
 * Files live under a mkdtemp() dir; every sim guest is destroyed and reaped. */
#include <criterion/criterion.h>
#include <errno.h>
#include <ftw.h>
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
#include "xl_fake.h"
#include "agent_fixture.h"

#define N(a) (sizeof(a) / sizeof((a)[0]))

/* ---- xl driver (fake runner) ---------------------------------------------------------------- */

Test(xl_resize, info_reads_online_vcpus_and_target_below_the_ceilings)
{
	static const fake_step steps[] = {
	        {.out_file = "list-l-xvps-12-resized.json.txt"},
	        {.out_file = "list-xvps-12.txt"},
	        {.out_file = "info-credit2.txt"},
	        {.out_file = "sched-credit2-xvps-12.txt"},
	};
	fake f;
	hv_driver d = xlf_open(&f, steps, N(steps));
	char err[HV_ERRLEN];
	hv_domain_info info;

	cr_assert_eq(d.ops->info(&d, "xvps-12", &info, err), 0, "%s", err);
	cr_assert_eq(info.state, HV_RUNNING);
	cr_assert_eq(info.vcpus, 3, "avail_vcpus has three");
	cr_assert_eq(info.max_vcpus, 4);
	cr_assert_eq(info.memory_mib, 2048, "target_memkb");
	cr_assert_eq(info.max_memory_mib, 4096, "max_memkb");
	fake_assert_calls(&f, (const char *[]){"xl list -l xvps-12", "xl list xvps-12", "xl info",
	                                       "xl sched-credit2 -d xvps-12", NULL});
	d.ops->dispose(&d);
}

Test(xl_resize, recorded_domain_reads_its_sizes_as_its_ceilings)
{
	static const fake_step steps[] = {
	        {.out_file = "list-l-xvps-12.json.txt"},
	        {.out_file = "list-xvps-12.txt"},
	        {.out_file = "info-credit2.txt"},
	        {.out_file = "sched-credit2-xvps-12.txt"},
	};
	fake f;
	hv_driver d = xlf_open(&f, steps, N(steps));
	char err[HV_ERRLEN];
	hv_domain_info info;

	cr_assert_eq(d.ops->info(&d, "xvps-12", &info, err), 0, "%s", err);
	cr_assert_eq(info.vcpus, 2);
	cr_assert_eq(info.max_vcpus, 2);
	cr_assert_eq(info.memory_mib, 1024);
	cr_assert_eq(info.max_memory_mib, 1024);
	fake_assert_calls(&f, (const char *[]){"xl list -l xvps-12", "xl list xvps-12", "xl info",
	                                       "xl sched-credit2 -d xvps-12", NULL});
	d.ops->dispose(&d);
}

Test(xl_resize, set_memory_runs_xl_mem_set_in_mib)
{
	static const fake_step steps[] = {{.out = ""}};
	fake f;
	hv_driver d = xlf_open(&f, steps, N(steps));
	char err[HV_ERRLEN];

	cr_assert_eq(d.ops->set_memory(&d, "xvps-12", 2048, err), 0, "%s", err);
	fake_assert_calls(&f, (const char *[]){"xl mem-set xvps-12 2048m", NULL});
	d.ops->dispose(&d);
}

Test(xl_resize, set_vcpus_runs_xl_vcpu_set)
{
	static const fake_step steps[] = {{.out = ""}};
	fake f;
	hv_driver d = xlf_open(&f, steps, N(steps));
	char err[HV_ERRLEN];

	cr_assert_eq(d.ops->set_vcpus(&d, "xvps-12", 3, err), 0, "%s", err);
	fake_assert_calls(&f, (const char *[]){"xl vcpu-set xvps-12 3", NULL});
	d.ops->dispose(&d);
}

Test(xl_resize, an_absent_domain_is_esrch)
{
	static const fake_step steps[] = {
	        {.exit_status = 1, .err_file = "err-invalid-domain-xvps-9.txt"}};
	fake f;
	hv_driver d = xlf_open(&f, steps, N(steps));
	char err[HV_ERRLEN];

	cr_assert_eq(d.ops->set_memory(&d, "xvps-9", 512, err), -ESRCH);
	cr_assert(strstr(err, "not running") != NULL, "%s", err);
	fake_assert_calls(&f, (const char *[]){"xl mem-set xvps-9 512m", NULL});
	d.ops->dispose(&d);
}

Test(xl_resize, xl_refusing_is_eio_with_its_message)
{
	static const fake_step steps[] = {
	        {.exit_status = 1,
	         .err = "libxl: error: libxl_mem.c:323:libxl_set_memory_target: "
	                "memory_dynamic_max must be less than or equal to memory_static_max\n"}};
	fake f;
	hv_driver d = xlf_open(&f, steps, N(steps));
	char err[HV_ERRLEN];

	cr_assert_eq(d.ops->set_memory(&d, "xvps-12", 8192, err), -EIO);
	cr_assert(strstr(err, "memory_static_max") != NULL, "%s", err);
	fake_assert_calls(&f, (const char *[]){"xl mem-set xvps-12 8192m", NULL});
	d.ops->dispose(&d);
}

Test(xl_resize, refuses_foreign_names_and_bad_sizes_without_running_anything)
{
	fake f;
	hv_driver d = xlf_open(&f, NULL, 0);
	char err[HV_ERRLEN];

	cr_assert_eq(d.ops->set_memory(&d, "Domain-0", 1024, err), -EINVAL);
	cr_assert_eq(d.ops->set_vcpus(&d, "xvps-1;reboot", 1, err), -EINVAL);
	cr_assert_eq(d.ops->set_memory(&d, "xvps-1", 64, err), -ERANGE);
	cr_assert_eq(d.ops->set_vcpus(&d, "xvps-1", 0, err), -ERANGE);
	cr_assert_eq(d.ops->set_vcpus(&d, "xvps-1", 65, err), -ERANGE);
	fake_assert_calls(&f, (const char *[]){NULL});
	d.ops->dispose(&d);
}

/* ---- xl.cfg ceilings and the spec ----------------------------------------------------------- */

static char *render(xl_guest_type type, int vcpus, int max_vcpus, unsigned long mem,
                    unsigned long max_mem, const char **why)
{
	const char *ips[] = {NULL};
	xlcfg_spec s = {
	        .name = "xvps-3",
	        .type = type,
	        .vcpus = vcpus,
	        .max_vcpus = max_vcpus,
	        .memory_mib = mem,
	        .max_memory_mib = max_mem,
	        .disk_path = "/dev/vg0/xvps-3",
	        .mac = "00:16:3e:00:00:03",
	        .bridge = "xvpsbr0",
	        .vifname = "xvif3",
	        .ips = ips,
	        .cpu_weight = 256,
	        .vnc_display = -1,
	};
	char *cfg = NULL;

	*why = NULL;
	if (xlcfg_render(&s, &cfg, why) != 0)
		return NULL;
	return cfg;
}

Test(xl_resize, pv_config_gets_maxmem_and_maxvcpus_ceilings)
{
	const char *why;
	char *cfg = render(XL_PV, 1, 8, 512, 4096, &why), perr[256];

	cr_assert_not_null(cfg, "%s", why);
	cr_assert_not_null(strstr(cfg, "\nmemory = 512\n"), "%s", cfg);
	cr_assert_not_null(strstr(cfg, "\nmaxmem = 4096\n"), "%s", cfg);
	cr_assert_not_null(strstr(cfg, "\nvcpus = 1\n"), "%s", cfg);
	cr_assert_not_null(strstr(cfg, "\nmaxvcpus = 8\n"), "%s", cfg);
	cr_assert_eq(xlcfg_parse_check(cfg, perr, sizeof(perr)), 0, "%s", perr);
	free(cfg);
}

Test(xl_resize, pvh_and_hvm_keep_maxmem_at_memory_but_get_maxvcpus)
{
	const xl_guest_type types[] = {XL_PVH, XL_HVM};

	for (size_t i = 0; i < N(types); i++) {
		const char *why;
		char *cfg = render(types[i], 2, 4, 1024, 8192, &why);

		cr_assert_not_null(cfg, "%s", why);
		cr_assert_not_null(strstr(cfg, "\nmaxmem = 1024\n"), "%s", cfg);
		cr_assert_not_null(strstr(cfg, "\nmaxvcpus = 4\n"), "%s", cfg);
		free(cfg);
	}
}

Test(xl_resize, no_ceilings_and_bad_ceilings)
{
	const char *why;
	char *cfg = render(XL_PV, 2, 0, 1024, 0, &why);

	cr_assert_not_null(cfg, "%s", why);
	cr_assert_not_null(strstr(cfg, "\nmaxmem = 1024\n"), "%s", cfg);
	cr_assert_null(strstr(cfg, "maxvcpus"), "%s", cfg);
	free(cfg);
	cr_assert_null(render(XL_PV, 2, 1, 1024, 0, &why));
	cr_assert_not_null(strstr(why, "max_vcpus"), "%s", why);
	cr_assert_null(render(XL_PV, 2, 65, 1024, 0, &why));
	cr_assert_null(render(XL_PV, 2, 0, 1024, 512, &why));
	cr_assert_not_null(strstr(why, "max_memory_mib"), "%s", why);
}

static const char *const base_spec =
        "{\"name\":\"xvps-3\",\"hostname\":\"vm3.example.com\",\"type\":\"pv\","
        "\"vcpus\":2,\"memory_mib\":512,\"disk_gib\":2,\"template\":\"tpl-1\","
        "\"mac\":\"00:16:3e:00:00:03\",\"vifname\":\"xvif3\",\"power\":\"running\"";

static int parse_with(const char *extra, vps_spec *spec, json_field_error *fe)
{
	char buf[1024];
	json_object *o;
	int rc;

	snprintf(buf, sizeof(buf), "%s%s}", base_spec, extra);
	o = json_tokener_parse(buf);
	cr_assert_not_null(o, "%s", buf);
	rc = spec_parse(o, spec, fe);
	json_object_put(o);
	return rc;
}

Test(xl_resize, spec_takes_ceilings_at_least_its_sizes)
{
	json_field_error fe = {0};
	vps_spec spec;

	cr_assert_eq(parse_with(",\"max_vcpus\":8,\"max_memory_mib\":4096", &spec, &fe), 0, "%s",
	             fe.detail);
	cr_assert_eq(spec.max_vcpus, 8);
	cr_assert_eq(spec.max_memory_mib, 4096);
	spec_dispose(&spec);
	cr_assert_eq(parse_with("", &spec, &fe), 0);
	cr_assert_eq(spec.max_vcpus, 0);
	spec_dispose(&spec);
	cr_assert_eq(parse_with(",\"max_vcpus\":1", &spec, &fe), -EINVAL);
	cr_assert_str_eq(fe.field, "max_vcpus");
	cr_assert_eq(parse_with(",\"max_memory_mib\":256", &spec, &fe), -EINVAL);
	cr_assert_str_eq(fe.field, "max_memory_mib");
	cr_assert_eq(parse_with(",\"max_vcpus\":\"4\"", &spec, &fe), -EINVAL);
	cr_assert_str_eq(fe.field, "max_vcpus");
}

/* ---- sim + file: vps_ensure ----------------------------------------------------------------- */

static char tmp[64];
static hv_driver hv;
static st_driver st;
static vps_ctx ctx;
static bool opened;

static void setup(void)
{
	if (access(simfx_guest_path(), X_OK) != 0)
		cr_skip_test("no simguest at %s (set XVPS_SIMGUEST)", simfx_guest_path());
	simfx_open("resize", tmp, &hv, &st, &ctx, &opened);
}

static void teardown(void)
{
	simfx_close(tmp, &hv, &st, &opened);
}

TestSuite(resize, .init = setup, .fini = teardown, .timeout = 60);

typedef struct sizes {
	const char *type;
	int vcpus, max_vcpus, cap;
	int mem, max_mem, disk;
	const char *power;
} sizes;

static void make(vps_spec *spec, int id, const sizes *z)
{
	char buf[1024];

	snprintf(buf, sizeof(buf),
	         "{\"name\":\"xvps-%d\",\"hostname\":\"vm%d.example.com\",\"type\":\"%s\","
	         "\"vcpus\":%d,\"max_vcpus\":%d,\"memory_mib\":%d,\"max_memory_mib\":%d,"
	         "\"disk_gib\":%d,\"template\":\"tpl-1\",\"mac\":\"00:16:3e:00:00:%02x\","
	         "\"vifname\":\"xvif%d\",\"cpu_weight\":256,\"cpu_cap_pct\":%d,\"power\":\"%s\"}",
	         id, id, z->type, z->vcpus, z->max_vcpus, z->mem, z->max_mem, z->disk, id, id,
	         z->cap, z->power);
	agfx_spec(spec, buf);
}

static int64_t jint(json_object *o, const char *key)
{
	json_object *v;

	cr_assert(json_object_object_get_ex(o, key, &v), "no %s", key);
	return json_object_get_int64(v);
}

/* The status's "pending" member: NULL when it is JSON null; fails when it is missing. */
static json_object *pending_of(json_object *status)
{
	json_object *v = NULL;

	cr_assert(json_object_object_get_ex(status, "pending", &v), "no pending in %s",
	          json_object_to_json_string(status));
	return v;
}

/* Ensures z for xvps-<id>; returns the status (caller puts it). */
static json_object *ensure(int id, const sizes *z)
{
	vps_spec spec;
	vps_err e = {0};
	json_object *s = NULL;

	make(&spec, id, z);
	cr_assert_eq(vps_ensure(&ctx, &spec, &s, &e), 0, "%s", e.msg);
	spec_dispose(&spec);
	return s;
}

static void domain_info(const char *name, hv_domain_info *info)
{
	char err[HV_ERRLEN];

	cr_assert_eq(hv.ops->info(&hv, name, info, err), 0, "%s", err);
}

Test(resize, pv_domain_grows_live_up_to_its_ceilings_and_its_disk_grows)
{
	sizes a = {"pv", 1, 4, 100, 512, 4096, 2, "running"};
	sizes b = {"pv", 3, 4, 300, 2048, 4096, 3, "running"};
	json_object *s1 = ensure(1, &a), *s2;
	hv_domain_info info;
	uint64_t bytes = 0;
	char err[ST_ERRLEN];

	cr_assert_null(pending_of(s1));
	s2 = ensure(1, &b);
	cr_assert_null(pending_of(s2), "%s", json_object_to_json_string(s2));
	cr_assert_eq(jint(s2, "domid"), jint(s1, "domid"), "a live resize must not restart it");
	cr_assert_eq(jint(s2, "cpu_cap_pct"), 300);
	domain_info("xvps-1", &info);
	cr_assert_eq(info.vcpus, 3);
	cr_assert_eq(info.memory_mib, 2048);
	cr_assert_eq(st.ops->disk_size(&st, "xvps-1", &bytes, err), 0, "%s", err);
	cr_assert_eq(bytes, 3ull << 30, "the disk grows online");
	/* and down again, live */
	json_object_put(s2);
	s2 = ensure(1, &a);
	cr_assert_null(pending_of(s2));
	domain_info("xvps-1", &info);
	cr_assert_eq(info.vcpus, 1);
	cr_assert_eq(info.memory_mib, 512);
	cr_assert_eq(st.ops->disk_size(&st, "xvps-1", &bytes, err), 0, "%s", err);
	cr_assert_eq(bytes, 3ull << 30, "a disk is never shrunk");
	json_object_put(s1);
	json_object_put(s2);
}

Test(resize, pvh_memory_growth_waits_for_the_next_boot_vcpus_do_not)
{
	sizes a = {"pvh", 1, 4, 0, 512, 4096, 2, "running"};
	sizes b = {"pvh", 2, 4, 0, 1024, 4096, 2, "running"};
	json_object *s = ensure(2, &a), *p, *v;
	hv_domain_info info;
	vps_spec spec;
	vps_err e = {0};

	json_object_put(s);
	s = ensure(2, &b);
	p = pending_of(s);
	cr_assert_not_null(p, "PVH has maxmem = memory: growth waits");
	cr_assert(json_object_object_get_ex(p, "memory_mib", &v) && json_object_get_int(v) == 1024);
	cr_assert(json_object_object_get_ex(p, "vcpus", &v) && v == NULL, "vcpus went live");
	domain_info("xvps-2", &info);
	cr_assert_eq(info.vcpus, 2);
	cr_assert_eq(info.memory_mib, 512);
	json_object_put(s);
	/* the reboot builds the domain from the new config: nothing waits any more */
	make(&spec, 2, &b);
	cr_assert_eq(vps_power(&ctx, "xvps-2", "reboot", &spec, &s, &e), 0, "%s", e.msg);
	spec_dispose(&spec);
	cr_assert_null(pending_of(s), "%s", json_object_to_json_string(s));
	domain_info("xvps-2", &info);
	cr_assert_eq(info.memory_mib, 1024);
	cr_assert_eq(info.max_memory_mib, 1024);
	json_object_put(s);
}

Test(resize, vcpus_beyond_the_ceiling_wait_and_the_cap_is_bounded_meanwhile)
{
	sizes a = {"pv", 1, 2, 100, 512, 512, 2, "running"};
	sizes b = {"pv", 4, 4, 400, 512, 512, 2, "running"};
	json_object *s = ensure(3, &a), *p, *v;
	hv_domain_info info;

	json_object_put(s);
	s = ensure(3, &b);
	p = pending_of(s);
	cr_assert_not_null(p);
	cr_assert(json_object_object_get_ex(p, "vcpus", &v) && json_object_get_int(v) == 4);
	cr_assert(json_object_object_get_ex(p, "memory_mib", &v) && v == NULL);
	cr_assert_eq(jint(s, "cpu_cap_pct"), 200, "cap at most the domain's vcpus x 100");
	domain_info("xvps-3", &info);
	cr_assert_eq(info.vcpus, 1, "unchanged: beyond maxvcpus");
	json_object_put(s);
}

Test(resize, a_stopped_vps_has_nothing_pending_and_boots_with_the_new_sizes)
{
	sizes a = {"pv", 1, 1, 0, 512, 512, 2, "stopped"};
	sizes b = {"pv", 2, 2, 0, 1024, 1024, 4, "stopped"};
	sizes c = {"pv", 2, 2, 0, 1024, 1024, 4, "running"};
	json_object *s = ensure(4, &a);
	hv_domain_info info;
	uint64_t bytes = 0;
	char err[ST_ERRLEN];

	json_object_put(s);
	s = ensure(4, &b);
	cr_assert_null(pending_of(s));
	cr_assert_eq(st.ops->disk_size(&st, "xvps-4", &bytes, err), 0, "%s", err);
	cr_assert_eq(bytes, 4ull << 30);
	json_object_put(s);
	s = ensure(4, &c);
	cr_assert_null(pending_of(s));
	domain_info("xvps-4", &info);
	cr_assert_eq(info.vcpus, 2);
	cr_assert_eq(info.memory_mib, 1024);
	json_object_put(s);
}

Test(resize, sim_refuses_beyond_the_ceilings_and_when_not_running)
{
	sizes a = {"pv", 1, 2, 0, 512, 1024, 2, "running"};
	json_object *s = ensure(5, &a);
	char err[HV_ERRLEN];
	hv_domain_info info;

	json_object_put(s);
	cr_assert_eq(hv.ops->set_memory(&hv, "xvps-5", 2048, err), -ERANGE);
	cr_assert(strstr(err, "maxmem") != NULL, "%s", err);
	cr_assert_eq(hv.ops->set_vcpus(&hv, "xvps-5", 3, err), -ERANGE);
	cr_assert_eq(hv.ops->set_vcpus(&hv, "xvps-5", 0, err), -ERANGE);
	domain_info("xvps-5", &info);
	cr_assert_eq(info.vcpus, 1);
	cr_assert_eq(info.memory_mib, 512);
	cr_assert_eq(hv.ops->set_memory(&hv, "xvps-5", 1024, err), 0, "%s", err);
	cr_assert_eq(hv.ops->set_memory(&hv, "xvps-6", 1024, err), -ESRCH);
	cr_assert_eq(hv.ops->set_vcpus(&hv, "../x", 1, err), -EINVAL);
}
