/* lvm_vmtest.c — the `lvm` storage driver (provisioning/storage_lvm.c) against REAL LVM, inside
 * the QEMU VM of tests/vm/run.sh: template import and thin-snapshot clones, growth, removal
 * that never lets a later disk read an earlier one's data (discard, and the zeroing fallback
 * of a pool that ignores discards), refusal when the pool is full, quarantine and listing,
 * and the reconciler finishing what a killed create left behind. Each test makes its own VG
 * and thin pool on $XVPS_VM_DISK through the runner and removes them again (the disk ends with
 * no PV signature and its first MiB zeroed). Outside the VM (no XVPS_VM_DISK) every test fails
 * on purpose rather than touching a host disk. */
#include <criterion/criterion.h>
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <json-c/json.h>
#include <linux/fs.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "../../common/runner.h"
#include "../../common/util.h"
#include "../../hypervisor/driver.h"
#include "../../provisioning/lvm_dm.h"
#include "../../provisioning/spec.h"
#include "../../provisioning/storage.h"
#include "../../provisioning/vps.h"

#define VG        "xvpslvmt"
#define POOL      "pool"
#define MIB       (1024ull * 1024ull)
#define GIB       (1024ull * MIB)
#define TPL_BYTES (64 * MIB)
#define TPL_MARK  "XVPS-TEMPLATE-BLOCK"
#define SECRET    "XVPS-SECRET-OF-CUSTOMER-A"

static char tmp[64], tdir[128];
static st_driver st;
static bool st_open;
static char err[ST_ERRLEN];

static const char *vm_disk(void)
{
	const char *d = getenv("XVPS_VM_DISK");
	cr_assert(d != NULL && d[0] == '/', "XVPS_VM_DISK is not set: run through tests/vm/run.sh");
	return d;
}

/* Runs argv through the real runner; returns its exit status (-1 when it could not start). */
static int run_st(const char *const argv[], char **out)
{
	runner r = runner_real();
	runner_result res;
	char *line = runner_argv_str(argv);
	int rc = runner_run(&r, argv, NULL, 0, 300000, &res), status;

	if (rc != 0) {
		cr_log_error("$ %s: cannot start: %s", line, strerror(-rc));
		free(line);
		if (out)
			*out = NULL;
		runner_result_dispose(&res);
		return -1;
	}
	cr_log_info("$ %s -> %d\n%s%s", line, res.exit_status, res.out, res.err);
	free(line);
	status = res.exit_status;
	if (out) {
		*out = res.out;
		res.out = NULL;
	}
	runner_result_dispose(&res);
	return status;
}

static void run_ok(const char *const argv[])
{
	char *line = runner_argv_str(argv);
	cr_assert_eq(run_st(argv, NULL), 0, "%s failed (see the log)", line);
	free(line);
}

static int rm_one(const char *path, const struct stat *sb, int flag, struct FTW *ftw)
{
	(void)sb;
	(void)flag;
	(void)ftw;
	return remove(path);
}

/* Best effort: removes the VG and the PV, zeroes the disk's first MiB. */
static void scrub(void)
{
	const char *disk = getenv("XVPS_VM_DISK");
	static char zero[MIB];
	int fd;

	if (!disk)
		return;
	run_st((const char *const[]){"vgchange", "-an", VG, NULL}, NULL);
	run_st((const char *const[]){"vgremove", "-ff", "-y", VG, NULL}, NULL);
	run_st((const char *const[]){"pvremove", "-ff", "-y", disk, NULL}, NULL);
	fd = open(disk, O_WRONLY | O_CLOEXEC);
	if (fd < 0)
		return;
	if (pwrite(fd, zero, sizeof(zero), 0) == (ssize_t)sizeof(zero)) {
		fsync(fd);
		ioctl(fd, BLKFLSBUF, 0);
	}
	close(fd);
}

/* A 64 MiB template image: TPL_MARK at 0 and at 32 MiB, the rest a hole. */
static void make_template_image(void)
{
	char p[256];
	int fd;

	snprintf(p, sizeof(p), "%s/base.img", tdir);
	fd = open(p, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	cr_assert_geq(fd, 0);
	cr_assert_eq(ftruncate(fd, (off_t)TPL_BYTES), 0);
	cr_assert_eq(pwrite(fd, TPL_MARK, strlen(TPL_MARK), 0), (ssize_t)strlen(TPL_MARK));
	cr_assert_eq(pwrite(fd, TPL_MARK, strlen(TPL_MARK), (off_t)(32 * MIB)),
	             (ssize_t)strlen(TPL_MARK));
	close(fd);
}

static void teardown(void);

/* VG + 4 GiB thin pool (discards: "passdown" or "ignore"), the template source, the driver. */
static void setup_pool(const char *discards)
{
	const char *disk = vm_disk();

	teardown(); /* a test may set up again with another pool */
	snprintf(tmp, sizeof(tmp), "/tmp/xvps-lvmvm-XXXXXX");
	cr_assert_not_null(mkdtemp(tmp));
	snprintf(tdir, sizeof(tdir), "%s/template-src", tmp);
	cr_assert_eq(mkdir(tdir, 0700), 0);
	make_template_image();
	run_ok((const char *const[]){"pvcreate", "-ff", "-y", disk, NULL});
	run_ok((const char *const[]){"vgcreate", VG, disk, NULL});
	run_ok((const char *const[]){"lvcreate", "-T", "-L", "4G", "--discards", discards, "-n",
	                             POOL, VG, NULL});
	cr_assert_eq(st_lvm_open(&st, runner_real(), VG, POOL, tdir, err), 0, "%s", err);
	st_open = true;
}

static void setup(void)
{
	setup_pool("passdown");
}

static void teardown(void)
{
	if (st_open)
		st.ops->dispose(&st);
	st_open = false;
	scrub();
	if (tmp[0])
		nftw(tmp, rm_one, 16, FTW_DEPTH | FTW_PHYS);
	tmp[0] = '\0';
}

/* The lvs report of the VG (json-c object; caller puts it). */
static json_object *lvs_report(void)
{
	char *out = NULL;
	json_object *o;

	cr_assert_eq(
	        run_st((const char *const[]){"lvs", "--reportformat", "json", "--units", "b",
	                                     "--nosuffix", "-o",
	                                     "lv_name,lv_attr,lv_size,origin,pool_lv,data_percent",
	                                     VG, NULL},
	               &out),
	        0);
	o = json_tokener_parse(out);
	free(out);
	cr_assert_not_null(o);
	return o;
}

static json_object *find_lv(json_object *root, const char *name)
{
	json_object *report, *first, *lvs;

	if (!json_object_object_get_ex(root, "report", &report) ||
	    json_object_array_length(report) < 1)
		return NULL;
	first = json_object_array_get_idx(report, 0);
	if (!json_object_object_get_ex(first, "lv", &lvs))
		return NULL;
	for (size_t i = 0; i < json_object_array_length(lvs); i++) {
		json_object *lv = json_object_array_get_idx(lvs, i), *n;
		if (json_object_object_get_ex(lv, "lv_name", &n) &&
		    strcmp(json_object_get_string(n), name) == 0)
			return lv;
	}
	return NULL;
}

static const char *field(json_object *lv, const char *key)
{
	json_object *v;
	cr_assert(json_object_object_get_ex(lv, key, &v), "no %s", key);
	return json_object_get_string(v);
}

static bool lv_exists(const char *name)
{
	json_object *r = lvs_report();
	bool ok = find_lv(r, name) != NULL;
	json_object_put(r);
	return ok;
}

/* Pool data use in percent (lvs data_percent). */
static double pool_pct(void)
{
	json_object *r = lvs_report(), *p = find_lv(r, POOL);
	double v;

	cr_assert_not_null(p);
	v = strtod(field(p, "data_percent"), NULL);
	json_object_put(r);
	return v;
}

static void import_template(void)
{
	uint64_t bytes = 0;
	cr_assert_eq(st.ops->template_ensure(&st, "tpl-1", 0, "base.img", &bytes, err), 0, "%s",
	             err);
	cr_assert_eq(bytes, TPL_BYTES);
}

/* Reads len bytes of /dev/VG/name at off into buf. */
static void read_lv(const char *name, off_t off, void *buf, size_t len)
{
	char p[128];
	int fd;

	snprintf(p, sizeof(p), "/dev/%s/%s", VG, name);
	fd = open(p, O_RDONLY | O_CLOEXEC);
	cr_assert_geq(fd, 0, "open %s: %s", p, strerror(errno));
	cr_assert_eq(pread(fd, buf, len, off), (ssize_t)len, "read %s: %s", p, strerror(errno));
	close(fd);
}

static void write_lv(const char *name, off_t off, const void *buf, size_t len)
{
	char p[128];
	int fd;

	snprintf(p, sizeof(p), "/dev/%s/%s", VG, name);
	fd = open(p, O_WRONLY | O_CLOEXEC);
	cr_assert_geq(fd, 0, "open %s: %s", p, strerror(errno));
	cr_assert_eq(pwrite(fd, buf, len, off), (ssize_t)len);
	cr_assert_eq(fsync(fd), 0);
	close(fd);
}

/* True when SECRET occurs anywhere in the LV (read in 4 MiB chunks, overlapping). */
static bool lv_contains_secret(const char *name, uint64_t size)
{
	size_t chunk = 4 * MIB, ov = strlen(SECRET);
	char *buf = malloc(chunk + ov);
	bool found = false;

	cr_assert_not_null(buf);
	for (uint64_t off = 0; off < size && !found; off += chunk) {
		size_t len = size - off < chunk + ov ? (size_t)(size - off) : chunk + ov;
		read_lv(name, (off_t)off, buf, len);
		found = memmem(buf, len, SECRET, ov) != NULL;
	}
	free(buf);
	return found;
}

static double now_s(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

TestSuite(lvm, .init = setup, .fini = teardown, .timeout = 900);

Test(lvm, template_import_and_thin_clone)
{
	json_object *r, *lv;
	char buf[64];
	double t0, before, after;

	import_template();
	cr_assert_eq(st.ops->template_exists(&st, "tpl-1", err), 1);
	r = lvs_report();
	lv = find_lv(r, "xvpstpl-tpl-1");
	cr_assert_not_null(lv, "template LV missing");
	cr_assert_eq(field(lv, "lv_attr")[1], 'r', "template is not read-only: %s",
	             field(lv, "lv_attr"));
	json_object_put(r);
	/* Idempotent. */
	import_template();

	before = pool_pct();
	t0 = now_s();
	cr_assert_eq(st.ops->disk_ensure(&st, "xvps-1", "tpl-1", 1, NULL, err), 0, "%s", err);
	cr_log_info("clone took %.1f s (TCG)", now_s() - t0);
	after = pool_pct();
	/* A snapshot, not a copy: the pool (4 GiB) grew by far less than the disk (1 GiB). */
	cr_assert_lt(after - before, 1.0, "pool use grew from %.2f %% to %.2f %%", before, after);
	r = lvs_report();
	lv = find_lv(r, "xvps-1");
	cr_assert_not_null(lv);
	cr_assert_str_eq(field(lv, "origin"), "xvpstpl-tpl-1");
	cr_assert_str_eq(field(lv, "pool_lv"), POOL);
	cr_assert_eq(field(lv, "lv_attr")[1], 'w');
	cr_assert_eq(field(lv, "lv_attr")[4], 'a', "clone not active: %s", field(lv, "lv_attr"));
	cr_assert_eq(strtoull(field(lv, "lv_size"), NULL, 10), GIB);
	json_object_put(r);
	read_lv("xvps-1", 0, buf, strlen(TPL_MARK));
	cr_assert(memcmp(buf, TPL_MARK, strlen(TPL_MARK)) == 0, "template data not in the clone");
	read_lv("xvps-1", (off_t)(32 * MIB), buf, strlen(TPL_MARK));
	cr_assert(memcmp(buf, TPL_MARK, strlen(TPL_MARK)) == 0);
	/* Beyond the template: zeros. */
	read_lv("xvps-1", (off_t)(512 * MIB), buf, sizeof(buf));
	for (size_t i = 0; i < sizeof(buf); i++)
		cr_assert_eq(buf[i], 0);
}

Test(lvm, resize_grows_and_never_shrinks)
{
	uint64_t bytes = 0;

	import_template();
	cr_assert_eq(st.ops->disk_ensure(&st, "xvps-1", "tpl-1", 1, NULL, err), 0, "%s", err);
	cr_assert_eq(st.ops->disk_size(&st, "xvps-1", &bytes, err), 0, "%s", err);
	cr_assert_eq(bytes, GIB);
	cr_assert_eq(st.ops->disk_ensure(&st, "xvps-1", "tpl-1", 2, NULL, err), 0, "%s", err);
	cr_assert_eq(st.ops->disk_size(&st, "xvps-1", &bytes, err), 0, "%s", err);
	cr_assert_eq(bytes, 2 * GIB);
	cr_assert_eq(st.ops->disk_ensure(&st, "xvps-1", "tpl-1", 1, NULL, err), 0, "%s", err);
	cr_assert_eq(st.ops->disk_size(&st, "xvps-1", &bytes, err), 0, "%s", err);
	cr_assert_eq(bytes, 2 * GIB, "shrunk to %llu", (unsigned long long)bytes);
	cr_assert_eq(st.ops->disk_size(&st, "xvps-2", &bytes, err), -ENOENT);
}

/* Writes SECRET over disk A (on template data and beyond it), removes A, makes B from the
 * same template: B's raw LV never shows SECRET. */
static void remove_never_leaks(void)
{
	char *pattern = malloc(8 * MIB), buf[64];
	double full, freed;

	cr_assert_not_null(pattern);
	for (size_t i = 0; i + strlen(SECRET) <= 8 * MIB; i += strlen(SECRET))
		memcpy(pattern + i, SECRET, strlen(SECRET));
	import_template();
	cr_assert_eq(st.ops->disk_ensure(&st, "xvps-1", "tpl-1", 1, NULL, err), 0, "%s", err);
	write_lv("xvps-1", 0, pattern, 8 * MIB);
	write_lv("xvps-1", (off_t)(100 * MIB), pattern, 8 * MIB);
	write_lv("xvps-1", (off_t)(GIB - 8 * MIB), pattern, 8 * MIB);
	free(pattern);
	full = pool_pct();
	cr_assert_eq(st.ops->disk_remove(&st, "xvps-1", err), 0, "%s", err);
	cr_assert_not(lv_exists("xvps-1"));
	freed = pool_pct();
	cr_log_info("pool use %.2f %% with A, %.2f %% after its removal", full, freed);
	cr_assert_lt(freed, full);
	/* Absent is success. */
	cr_assert_eq(st.ops->disk_remove(&st, "xvps-1", err), 0, "%s", err);

	cr_assert_eq(st.ops->disk_ensure(&st, "xvps-2", "tpl-1", 1, NULL, err), 0, "%s", err);
	cr_assert_not(lv_contains_secret("xvps-2", GIB), "disk B shows disk A's data");
	read_lv("xvps-2", 0, buf, strlen(TPL_MARK));
	cr_assert(memcmp(buf, TPL_MARK, strlen(TPL_MARK)) == 0, "B lost the template data");
	/* And B's own writes, partial blocks included, never bring A's blocks back. */
	write_lv("xvps-2", (off_t)(100 * MIB + 4096), "x", 1);
	cr_assert_not(lv_contains_secret("xvps-2", GIB), "a partial write exposed A's data");
}

Test(lvm, remove_discards_and_a_new_disk_never_reads_old_data)
{
	remove_never_leaks();
}

/* A pool that ignores discards: blkdiscard fails, the driver zeroes the LV instead. */
Test(lvm, remove_zeroes_when_the_pool_ignores_discards)
{
	setup_pool("ignore");
	remove_never_leaks();
}

Test(lvm, refuses_when_the_pool_is_full_and_creates_nothing)
{
	import_template();
	cr_assert_eq(st.ops->disk_ensure(&st, "xvps-1", "tpl-1", 100, NULL, err), -ENOSPC);
	cr_log_info("refusal: %s", err);
	cr_assert(strstr(err, "thin pool " VG "/" POOL ":"), "%s", err);
	cr_assert(strstr(err, "10 % headroom"), "%s", err);
	cr_assert(strstr(err, "disk xvps-1 needs 100.0 GiB"), "%s", err);
	cr_assert_not(lv_exists("xvps-1"), "an LV was created despite the refusal");
	/* Headroom: 90 % leaves 0.4 GiB of the 4 GiB pool, less than a 1 GiB disk. */
	cr_assert_eq(st_lvm_set_headroom(&st, 90), 0);
	cr_assert_eq(st.ops->disk_ensure(&st, "xvps-1", "tpl-1", 1, NULL, err), -ENOSPC);
	cr_assert_not(lv_exists("xvps-1"));
	cr_assert_eq(st_lvm_set_headroom(&st, 10), 0);
	cr_assert_eq(st.ops->disk_ensure(&st, "xvps-1", "tpl-1", 1, NULL, err), 0, "%s", err);
	/* Growth is refused the same way and leaves the disk as it was. */
	cr_assert_eq(st.ops->disk_ensure(&st, "xvps-1", "tpl-1", 100, NULL, err), -ENOSPC);
	uint64_t bytes = 0;
	cr_assert_eq(st.ops->disk_size(&st, "xvps-1", &bytes, err), 0);
	cr_assert_eq(bytes, GIB);
}

Test(lvm, missing_template_creates_nothing)
{
	cr_assert_eq(st.ops->disk_ensure(&st, "xvps-1", "tpl-9", 1, NULL, err), -ENOENT);
	cr_assert(strstr(err, "template LV " VG "/xvpstpl-tpl-9 is missing"), "%s", err);
	cr_assert_not(lv_exists("xvps-1"));
}

Test(lvm, open_fails_on_missing_vg_or_pool)
{
	st_driver other;

	cr_assert_neq(st_lvm_open(&other, runner_real(), "xvpsnovg", POOL, tdir, err), 0);
	cr_assert(strstr(err, "volume group xvpsnovg not found"), "%s", err);
	cr_assert_neq(st_lvm_open(&other, runner_real(), VG, "nopool", tdir, err), 0);
	cr_assert(strstr(err, "thin pool " VG "/nopool not found"), "%s", err);
}

Test(lvm, quarantine_and_list)
{
	char **names = NULL;
	size_t n = 0;
	bool saw_q = false;

	import_template();
	cr_assert_eq(st.ops->disk_ensure(&st, "xvps-1", "tpl-1", 1, NULL, err), 0, "%s", err);
	cr_assert_eq(st.ops->disk_ensure(&st, "xvps-2", "tpl-1", 1, NULL, err), 0, "%s", err);
	cr_assert_eq(st.ops->list(&st, "xvps-", &names, &n, err), 0, "%s", err);
	cr_assert_eq(n, 2, "templates and the pool are never listed");
	for (size_t i = 0; i < n; i++)
		free(names[i]);
	free(names);

	cr_assert_eq(st.ops->disk_quarantine(&st, "xvps-1", err), 0, "%s", err);
	cr_assert_eq(st.ops->disk_quarantine(&st, "xvps-1", err), 0, "absent is success: %s", err);
	cr_assert_not(lv_exists("xvps-1"));
	cr_assert_eq(st.ops->list(&st, "xvps-", &names, &n, err), 0, "%s", err);
	cr_assert_eq(n, 1);
	cr_assert_str_eq(names[0], "xvps-2");
	free(names[0]);
	free(names);
	cr_assert_eq(st.ops->list(&st, "", &names, &n, err), 0, "%s", err);
	for (size_t i = 0; i < n; i++) {
		if (strncmp(names[i], "quarantine-xvps-1-", 18) == 0)
			saw_q = true;
		free(names[i]);
	}
	free(names);
	cr_assert(saw_q, "the quarantined disk is kept");
}

/* ---- reconcile after a kill ---- */

static void make_spec(vps_spec *spec, int id, int disk_gib)
{
	char buf[1024];
	json_field_error fe = {0};
	json_object *o;

	snprintf(buf, sizeof(buf),
	         "{\"name\":\"xvps-%d\",\"hostname\":\"vm%d.example.com\",\"type\":\"pvh\","
	         "\"vcpus\":1,\"memory_mib\":512,\"disk_gib\":%d,\"template\":\"tpl-1\","
	         "\"mac\":\"00:16:3e:00:00:%02x\",\"vifname\":\"xvif%d\",\"ipv4\":[\"192.0.2.%d\"],"
	         "\"ipv6\":[],\"gateway4\":\"192.0.2.1\",\"gateway6\":null,"
	         "\"cpu_weight\":256,\"cpu_cap_pct\":0,\"net_mbit\":0,\"power\":\"stopped\","
	         "\"ssh_keys\":[]}",
	         id, id, disk_gib, id, id, id + 10);
	o = json_tokener_parse(buf);
	cr_assert_not_null(o);
	cr_assert_eq(spec_parse(o, spec, &fe), 0, "%s: %s", fe.field, fe.detail);
	json_object_put(o);
}

Test(lvm, reconcile_finishes_or_quarantines_what_a_killed_create_left)
{
	hv_driver hv;
	vps_ctx ctx;
	vps_err ve = {0};
	vps_spec spec;
	json_object *orphans = NULL, *status = NULL;
	char hverr[HV_ERRLEN], cfgdir[192];
	const char *known[] = {"xvps-8", "xvps-9"};
	uint64_t bytes = 0;
	bool saw7 = false;

	import_template();
	cr_assert_eq(hv_sim_open(&hv, tmp, hverr), 0, "%s", hverr);
	snprintf(cfgdir, sizeof(cfgdir), "%s/xen", tmp);
	cr_assert_eq(vps_ctx_init(&ctx, &hv, &st, cfgdir, "xvpsbr0", &ve), 0, "%s", ve.msg);

	/* xvps-7: an LV with no record (created, then the agent was killed before the DB
	 * knew about it). xvps-8: killed between lvcreate and lvextend, and inactive: a bare
	 * thin snapshot of the template with the activation-skip flag, as `lvcreate -s` without
	 * -kn leaves it. xvps-9: a record with no LV (killed before lvcreate). */
	cr_assert_eq(st.ops->disk_ensure(&st, "xvps-7", "tpl-1", 1, NULL, err), 0, "%s", err);
	run_ok((const char *const[]){"lvcreate", "-s", "-n", "xvps-8", VG "/xvpstpl-tpl-1", NULL});

	cr_assert_eq(vps_reconcile(&ctx, known, 2, NULL, 0, &orphans, &ve), 0, "%s", ve.msg);
	for (size_t i = 0; i < json_object_array_length(orphans); i++) {
		json_object *o = json_object_array_get_idx(orphans, i), *v, *e;
		cr_assert(json_object_object_get_ex(o, "name", &v));
		if (strcmp(json_object_get_string(v), "xvps-7") == 0) {
			cr_assert_not(json_object_object_get_ex(o, "error", &e), "%s",
			              json_object_to_json_string(o));
			saw7 = true;
		}
		cr_assert_str_neq(json_object_get_string(v), "xvps-8");
	}
	json_object_put(orphans);
	cr_assert(saw7, "the unknown disk was not reported");
	cr_assert_not(lv_exists("xvps-7"));
	cr_assert(lv_exists("xvps-8"), "a known half-made disk must be kept");

	/* Converging the known ones finishes them. */
	make_spec(&spec, 8, 2);
	cr_assert_eq(vps_ensure(&ctx, &spec, &status, &ve), 0, "%s", ve.msg);
	json_object_put(status);
	spec_dispose(&spec);
	cr_assert_eq(st.ops->disk_size(&st, "xvps-8", &bytes, err), 0, "%s", err);
	cr_assert_eq(bytes, 2 * GIB);
	{
		json_object *r = lvs_report(), *lv = find_lv(r, "xvps-8");
		cr_assert_not_null(lv);
		cr_assert_eq(field(lv, "lv_attr")[4], 'a', "not activated: %s",
		             field(lv, "lv_attr"));
		json_object_put(r);
	}
	make_spec(&spec, 9, 1);
	cr_assert_eq(vps_ensure(&ctx, &spec, &status, &ve), 0, "%s", ve.msg);
	json_object_put(status);
	spec_dispose(&spec);
	cr_assert(lv_exists("xvps-9"));

	/* A second pass finds nothing more to do with the disks. */
	cr_assert_eq(vps_reconcile(&ctx, known, 2, NULL, 0, &orphans, &ve), 0, "%s", ve.msg);
	for (size_t i = 0; i < json_object_array_length(orphans); i++)
		cr_assert_str_neq(json_object_get_string(json_object_object_get(
		                          json_object_array_get_idx(orphans, i), "kind")),
		                  "disk");
	json_object_put(orphans);
	hv.ops->dispose(&hv);
}

/* ---- the fresh-create path (issue 17 item 6) ---------------------------------------------- */

/* argv[0] of every command a counting runner ran (then through the real runner). */
static char seen[32][32];
static int nseen;

static int counting_run(void *ctx, const char *const argv[], const char *stdin_data,
                        size_t stdin_len, int timeout_ms, runner_result *res)
{
	runner r = runner_real();

	(void)ctx;
	if (nseen < 32)
		snprintf(seen[nseen++], sizeof(seen[0]), "%s", argv[0]);
	return r.run(r.ctx, argv, stdin_data, stdin_len, timeout_ms, res);
}

static bool saw(const char *cmd)
{
	for (int i = 0; i < nseen; i++)
		if (strcmp(seen[i], cmd) == 0)
			return true;
	return false;
}

Test(lvm, fresh_create_asks_device_mapper_and_lists_nothing)
{
	st_driver cst;
	st_disk_outcome o;
	lvm_dm_lv d;
	unsigned maj = 0, min = 0;
	runner cr = {counting_run, NULL};

	import_template();
	/* What device-mapper says agrees with LVM: the template is a read-only thin LV of the
	 * pool, 64 MiB; the disk has no device yet. */
	cr_assert_eq(lvm_dm_lv_info(VG, "xvpstpl-tpl-1", &d), 0);
	cr_assert(d.read_only);
	cr_assert_str_eq(d.target, "thin");
	cr_assert_eq(d.sectors * 512u, TPL_BYTES);
	cr_assert_eq(lvm_dm_pool_dev(VG, POOL, &maj, &min), 0);
	cr_assert_eq(d.pool_major, maj);
	cr_assert_eq(d.pool_minor, min);
	cr_assert_eq(lvm_dm_lv_info(VG, "xvps-9", &d), -ENOENT);

	cr_assert_eq(st_lvm_open(&cst, cr, VG, POOL, tdir, err), 0, "%s", err);
	nseen = 0;
	cr_assert_eq(cst.ops->disk_ensure(&cst, "xvps-9", "tpl-1", 1, &o, err), 0, "%s", err);
	/* Exactly lvcreate and lvextend (the template is 64 MiB, the disk 1 GiB): no lvs. */
	cr_assert_eq(nseen, 2, "%d commands, the first %s", nseen, nseen ? seen[0] : "-");
	cr_assert_str_eq(seen[0], "lvcreate");
	cr_assert_str_eq(seen[1], "lvextend");
	cr_assert(o.looked && !o.existed && !o.tpl_missing && o.created);
	cr_assert_eq(o.bytes, GIB);
	cr_assert_eq(lvm_dm_lv_info(VG, "xvps-9", &d), 0);
	cr_assert(!d.read_only);
	cr_assert_eq(d.sectors * 512u, GIB);

	/* Again: the device exists, so the VG is listed and nothing is made. */
	nseen = 0;
	cr_assert_eq(cst.ops->disk_ensure(&cst, "xvps-9", "tpl-1", 1, &o, err), 0, "%s", err);
	cr_assert(saw("lvs"));
	cr_assert(!saw("lvcreate"));
	cr_assert(o.looked && o.existed);

	/* An inactive disk of that name: device-mapper shows none, lvcreate refuses, the listing
	 * finds the LV and activates it. */
	run_ok((const char *const[]){"lvchange", "-an", VG "/xvps-9", NULL});
	cr_assert_eq(lvm_dm_lv_info(VG, "xvps-9", &d), -ENOENT);
	nseen = 0;
	cr_assert_eq(cst.ops->disk_ensure(&cst, "xvps-9", "tpl-1", 1, &o, err), 0, "%s", err);
	cr_assert(saw("lvcreate") && saw("lvs"));
	cr_assert(o.existed);
	cr_assert_eq(lvm_dm_lv_info(VG, "xvps-9", &d), 0);

	/* A full pool is refused from device-mapper's status, nothing made. */
	nseen = 0;
	cr_assert_neq(cst.ops->disk_ensure(&cst, "xvps-10", "tpl-1", 16000, &o, err), 0);
	cr_assert(strstr(err, "GiB free") != NULL, "%s", err);
	cr_assert(!saw("lvcreate"), "lvcreate ran for a disk the pool cannot hold");
	cr_assert_eq(lvm_dm_lv_info(VG, "xvps-10", &d), -ENOENT);
	cst.ops->dispose(&cst);
}
