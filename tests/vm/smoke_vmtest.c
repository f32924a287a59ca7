/* smoke_vmtest.c — the VM harness itself (tests/vm/run.sh): the scratch disk it hands over in
 * $XVPS_VM_DISK is an empty block device, and real LVM thin provisioning works on it inside
 * the VM (pvcreate, vgcreate, a thin pool, a thin LV listed by `lvs --reportformat json`, a
 * write/read through the thin LV, lvremove, vgremove). Commands go through the project's
 * runner (common/runner.h). Each test leaves the disk as it found it: no PV signature, the
 * first MiB zeroed. Only meaningful inside the VM: outside it (no XVPS_VM_DISK) every test
 * fails on purpose rather than touching a host disk. */
#include <criterion/criterion.h>
#include <errno.h>
#include <fcntl.h>
#include <json-c/json.h>
#include <linux/fs.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <unistd.h>

#include "../../common/runner.h"

#define SMOKE_VG   "xvpssmoke"
#define SMOKE_POOL SMOKE_VG "/pool"
#define SMOKE_THIN SMOKE_VG "/thin1"
#define HEAD_BYTES (1024 * 1024)

static const char *vm_disk(void)
{
	const char *d = getenv("XVPS_VM_DISK");
	cr_assert(d != NULL && d[0] == '/', "XVPS_VM_DISK is not set: run through tests/vm/run.sh");
	return d;
}

/* Runs argv; returns the result (caller disposes). Asserts the command could be started. */
static runner_result run(const char *const argv[])
{
	runner r = runner_real();
	runner_result res;
	int rc = runner_run(&r, argv, NULL, 0, 120000, &res);
	char *line = runner_argv_str(argv);
	cr_assert_eq(rc, 0, "could not start %s: %s", line, strerror(-rc));
	cr_log_info("$ %s -> %d\n%s%s", line, res.exit_status, res.out, res.err);
	free(line);
	return res;
}

static void run_ok(const char *const argv[])
{
	runner_result res = run(argv);
	char *line = runner_argv_str(argv);
	cr_assert_eq(res.exit_status, 0, "%s exited %d: %s%s", line, res.exit_status, res.err,
	             res.out);
	free(line);
	runner_result_dispose(&res);
}

/* Best effort: removes whatever a test left behind, then zeroes the disk's first MiB. */
static void scrub_disk(void)
{
	const char *disk = getenv("XVPS_VM_DISK");
	if (!disk)
		return;
	runner r = runner_real();
	runner_result res;
	const char *const cmds[][6] = {
	        {"vgchange", "-an", SMOKE_VG, NULL},
	        {"vgremove", "-ff", "-y", SMOKE_VG, NULL},
	        {"pvremove", "-ff", "-y", disk, NULL},
	};
	for (size_t i = 0; i < sizeof cmds / sizeof cmds[0]; i++) {
		if (runner_run(&r, cmds[i], NULL, 0, 120000, &res) == 0)
			runner_result_dispose(&res);
	}
	int fd = open(disk, O_WRONLY | O_CLOEXEC);
	if (fd < 0)
		return;
	static char zero[HEAD_BYTES];
	if (pwrite(fd, zero, sizeof zero, 0) == (ssize_t)sizeof zero) {
		fsync(fd);
		ioctl(fd, BLKFLSBUF, 0);
	}
	close(fd);
}

TestSuite(vm_smoke, .fini = scrub_disk);

Test(vm_smoke, scratch_disk_is_an_empty_block_device)
{
	const char *disk = vm_disk();
	struct stat st;
	cr_assert_eq(stat(disk, &st), 0, "stat %s: %s", disk, strerror(errno));
	cr_assert(S_ISBLK(st.st_mode), "%s is not a block device", disk);

	int fd = open(disk, O_RDONLY | O_CLOEXEC);
	cr_assert_geq(fd, 0, "open %s: %s", disk, strerror(errno));
	uint64_t size = 0;
	cr_assert_eq(ioctl(fd, BLKGETSIZE64, &size), 0);
	cr_assert_geq(size, (uint64_t)4 << 30, "%s is only %llu bytes", disk,
	              (unsigned long long)size);
	static unsigned char head[HEAD_BYTES];
	cr_assert_eq(pread(fd, head, sizeof head, 0), (ssize_t)sizeof head);
	close(fd);
	for (size_t i = 0; i < sizeof head; i++)
		cr_assert_eq(head[i], 0, "%s: byte %zu is 0x%02x, not an empty disk", disk, i,
		             head[i]);

	/* blkid -p exits 2 when it finds no signature at all. */
	const char *blkid[] = {"blkid", "-p", disk, NULL};
	runner_result res = run(blkid);
	cr_assert_eq(res.exit_status, 2, "blkid found something on %s: %s", disk, res.out);
	runner_result_dispose(&res);
}

/* The lv object named `name` in `lvs --reportformat json` output, or NULL. */
static json_object *find_lv(json_object *report_root, const char *name)
{
	json_object *report, *first, *lvs;
	if (!json_object_object_get_ex(report_root, "report", &report) ||
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

static const char *lv_field(json_object *lv, const char *key)
{
	json_object *v;
	cr_assert(json_object_object_get_ex(lv, key, &v), "no %s in %s", key,
	          json_object_to_json_string(lv));
	return json_object_get_string(v);
}

static json_object *lvs_json(void)
{
	const char *argv[] = {"lvs",    "--reportformat",
	                      "json",   "--units",
	                      "b",      "--nosuffix",
	                      "-o",     "lv_name,lv_size,lv_attr,pool_lv",
	                      SMOKE_VG, NULL};
	runner_result res = run(argv);
	cr_assert_eq(res.exit_status, 0, "lvs: %s", res.err);
	json_object *root = json_tokener_parse(res.out);
	cr_assert_not_null(root, "lvs output is not JSON: %s", res.out);
	runner_result_dispose(&res);
	return root;
}

Test(vm_smoke, thin_pool_and_thin_lv_lifecycle, .timeout = 600)
{
	const char *disk = vm_disk();

	const char *pvcreate[] = {"pvcreate", "-y", disk, NULL};
	run_ok(pvcreate);
	const char *vgcreate[] = {"vgcreate", SMOKE_VG, disk, NULL};
	run_ok(vgcreate);
	const char *mkpool[] = {"lvcreate", "-y", "--type", "thin-pool", "-L",
	                        "1g",       "-n", "pool",   SMOKE_VG,    NULL};
	run_ok(mkpool);
	/* Over-committed on purpose: 2 GiB virtual in a 1 GiB pool. */
	const char *mkthin[] = {"lvcreate",   "-y",   "--type", "thin",  "-V",     "2g",
	                        "--thinpool", "pool", "-n",     "thin1", SMOKE_VG, NULL};
	run_ok(mkthin);

	json_object *root = lvs_json();
	json_object *thin = find_lv(root, "thin1");
	cr_assert_not_null(thin, "lvs does not list thin1: %s", json_object_to_json_string(root));
	cr_assert_str_eq(lv_field(thin, "pool_lv"), "pool");
	cr_assert_str_eq(lv_field(thin, "lv_size"), "2147483648");
	cr_assert_eq(lv_field(thin, "lv_attr")[0], 'V', "attr %s", lv_field(thin, "lv_attr"));
	cr_assert_eq(lv_field(thin, "lv_attr")[4], 'a', "thin1 not active: %s",
	             lv_field(thin, "lv_attr"));
	json_object *pool = find_lv(root, "pool");
	cr_assert_not_null(pool);
	cr_assert_eq(lv_field(pool, "lv_attr")[0], 't', "attr %s", lv_field(pool, "lv_attr"));
	json_object_put(root);

	/* The LV's device node is there (udev or LVM made it) and holds what we write. */
	const char *dev = "/dev/" SMOKE_THIN;
	struct stat st;
	cr_assert_eq(stat(dev, &st), 0, "stat %s: %s", dev, strerror(errno));
	cr_assert(S_ISBLK(st.st_mode));
	int fd = open(dev, O_RDWR | O_CLOEXEC);
	cr_assert_geq(fd, 0, "open %s: %s", dev, strerror(errno));
	char block[4096], back[4096];
	for (size_t i = 0; i < sizeof block; i++)
		block[i] = (char)(i * 7 + 3);
	off_t at = (off_t)1 << 30; /* past the pool's physical size: thin allocation */
	cr_assert_eq(pwrite(fd, block, sizeof block, at), (ssize_t)sizeof block);
	cr_assert_eq(fsync(fd), 0);
	cr_assert_eq(ioctl(fd, BLKFLSBUF, 0), 0);
	cr_assert_eq(pread(fd, back, sizeof back, at), (ssize_t)sizeof back);
	cr_assert_eq(memcmp(block, back, sizeof block), 0, "read back differs");
	cr_assert_eq(pread(fd, back, sizeof back, 0), (ssize_t)sizeof back);
	for (size_t i = 0; i < sizeof back; i++)
		cr_assert_eq(back[i], 0, "unwritten thin block not zero at %zu", i);
	close(fd);

	const char *rmthin[] = {"lvremove", "-y", SMOKE_THIN, NULL};
	run_ok(rmthin);
	root = lvs_json();
	cr_assert_null(find_lv(root, "thin1"), "thin1 still listed after lvremove: %s",
	               json_object_to_json_string(root));
	cr_assert_not_null(find_lv(root, "pool"));
	json_object_put(root);
	cr_assert_neq(stat(dev, &st), 0, "%s still exists after lvremove", dev);

	const char *vgremove[] = {"vgremove", "-y", SMOKE_VG, NULL};
	run_ok(vgremove);
	const char *lvs_gone[] = {"lvs", SMOKE_VG, NULL};
	runner_result res = run(lvs_gone);
	cr_assert_neq(res.exit_status, 0, "lvs still finds %s after vgremove", SMOKE_VG);
	runner_result_dispose(&res);
	const char *pvremove[] = {"pvremove", "-y", disk, NULL};
	run_ok(pvremove);
}
