/* test_storage_file.c — the `file` storage driver (provisioning/storage_file.c): templates,
 * disks, idempotence, growth, removal, quarantine, sparseness. Everything under a mkdtemp()
 * directory that each test removes. */
#include <criterion/criterion.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <glob.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "../../provisioning/storage.h"
#include "agent_fixture.h"
#include "sim_fixture.h"

#define GIB (1024ull * 1024ull * 1024ull)

static char tmp[64];
static st_driver st;
static char err[ST_ERRLEN];

static void setup(void)
{
	char tdir[128];

	snprintf(tmp, sizeof(tmp), "/tmp/xvps-st-XXXXXX");
	cr_assert_not_null(mkdtemp(tmp));
	snprintf(tdir, sizeof(tdir), "%s/template-src", tmp);
	cr_assert_eq(mkdir(tdir, 0700), 0);
	cr_assert_eq(st_file_open(&st, tmp, tdir, err), 0, "%s", err);
}

static void teardown(void)
{
	if (st.ops)
		st.ops->dispose(&st);
	simfx_rmtree(tmp);
}

static void path_of(const char *sub, const char *name, char *out, size_t len)
{
	snprintf(out, len, "%s/%s/%s.img", tmp, sub, name);
}

static off_t size_of(const char *sub, const char *name)
{
	char p[256];
	struct stat sb;

	path_of(sub, name, p, sizeof(p));
	if (stat(p, &sb) != 0)
		return -1;
	return sb.st_size;
}

TestSuite(storage_file, .init = setup, .fini = teardown);

Test(storage_file, blank_template_is_sparse_and_idempotent)
{
	uint64_t bytes = 0;
	char p[256];
	struct stat sb;

	cr_assert_eq(st.ops->template_ensure(&st, "tpl-1", 2, NULL, &bytes, err), 0, "%s", err);
	cr_assert_eq(bytes, 2 * GIB);
	cr_assert_eq(st.ops->template_exists(&st, "tpl-1", err), 1);
	path_of("templates", "tpl-1", p, sizeof(p));
	cr_assert_eq(stat(p, &sb), 0);
	cr_assert_eq((uint64_t)sb.st_size, 2 * GIB);
	cr_assert_lt(sb.st_blocks, 64, "blank template is not sparse: %ld blocks",
	             (long)sb.st_blocks);
	/* Again, even with another size: the existing template stays as it is. */
	cr_assert_eq(st.ops->template_ensure(&st, "tpl-1", 5, NULL, &bytes, err), 0);
	cr_assert_eq(bytes, 2 * GIB);
	cr_assert_eq(st.ops->template_exists(&st, "tpl-2", err), 0);
}

Test(storage_file, disk_from_template_is_sparse_grows_and_is_idempotent)
{
	uint64_t bytes = 0;
	char p[256];
	struct stat sb;

	cr_assert_eq(st.ops->template_ensure(&st, "tpl-1", 1, NULL, NULL, err), 0);
	cr_assert_eq(st.ops->disk_ensure(&st, "xvps-1", "tpl-1", 4, NULL, err), 0, "%s", err);
	path_of("disks", "xvps-1", p, sizeof(p));
	cr_assert_eq(stat(p, &sb), 0);
	cr_assert_eq((uint64_t)sb.st_size, 4 * GIB);
	cr_assert_lt(sb.st_blocks, 64, "disk is not sparse: %ld blocks", (long)sb.st_blocks);
	cr_assert_eq(st.ops->disk_size(&st, "xvps-1", &bytes, err), 0);
	cr_assert_eq(bytes, 4 * GIB);

	/* Same call again: nothing changes. */
	cr_assert_eq(st.ops->disk_ensure(&st, "xvps-1", "tpl-1", 4, NULL, err), 0);
	cr_assert_eq(size_of("disks", "xvps-1"), (off_t)(4 * GIB));
	/* Larger: grows. Smaller: never shrinks. */
	cr_assert_eq(st.ops->disk_ensure(&st, "xvps-1", "tpl-1", 6, NULL, err), 0);
	cr_assert_eq(size_of("disks", "xvps-1"), (off_t)(6 * GIB));
	cr_assert_eq(st.ops->disk_ensure(&st, "xvps-1", "tpl-1", 2, NULL, err), 0);
	cr_assert_eq(size_of("disks", "xvps-1"), (off_t)(6 * GIB));

	char pathbuf[256];
	cr_assert_eq(st.ops->disk_path(&st, "xvps-1", pathbuf, sizeof(pathbuf)), 0);
	cr_assert_str_eq(pathbuf, p);
}

Test(storage_file, disk_keeps_existing_data_when_regrown)
{
	char p[256], buf[6] = "";
	int fd;

	cr_assert_eq(st.ops->template_ensure(&st, "tpl-1", 1, NULL, NULL, err), 0);
	cr_assert_eq(st.ops->disk_ensure(&st, "xvps-1", "tpl-1", 1, NULL, err), 0);
	path_of("disks", "xvps-1", p, sizeof(p));
	fd = open(p, O_WRONLY);
	cr_assert_geq(fd, 0);
	cr_assert_eq(pwrite(fd, "guest", 5, 4096), 5);
	close(fd);
	cr_assert_eq(st.ops->disk_ensure(&st, "xvps-1", "tpl-1", 2, NULL, err), 0);
	fd = open(p, O_RDONLY);
	cr_assert_eq(pread(fd, buf, 5, 4096), 5);
	close(fd);
	cr_assert_str_eq(buf, "guest");
}

Test(storage_file, disk_without_template_fails_and_leaves_nothing)
{
	char dir[128];

	cr_assert_eq(st.ops->disk_ensure(&st, "xvps-1", "tpl-9", 1, NULL, err), -ENOENT);
	cr_assert_eq(size_of("disks", "xvps-1"), -1);
	snprintf(dir, sizeof(dir), "%s/disks", tmp);
	cr_assert_eq(agfx_dir_entries(dir), 0, "left a file behind");
}

Test(storage_file, remove_is_idempotent)
{
	cr_assert_eq(st.ops->template_ensure(&st, "tpl-1", 1, NULL, NULL, err), 0);
	cr_assert_eq(st.ops->disk_ensure(&st, "xvps-1", "tpl-1", 1, NULL, err), 0);
	cr_assert_eq(st.ops->disk_remove(&st, "xvps-1", err), 0);
	cr_assert_eq(size_of("disks", "xvps-1"), -1);
	cr_assert_eq(st.ops->disk_remove(&st, "xvps-1", err), 0, "absent must be success");
	uint64_t b;
	cr_assert_eq(st.ops->disk_size(&st, "xvps-1", &b, err), -ENOENT);
	cr_assert_eq(st.ops->template_remove(&st, "tpl-1", err), 0);
	cr_assert_eq(st.ops->template_exists(&st, "tpl-1", err), 0);
	cr_assert_eq(st.ops->template_remove(&st, "tpl-1", err), 0);
}

Test(storage_file, quarantine_renames_and_hides_from_list)
{
	char **names = NULL;
	size_t n = 0;
	glob_t g;
	char pat[128];

	cr_assert_eq(st.ops->template_ensure(&st, "tpl-1", 1, NULL, NULL, err), 0);
	cr_assert_eq(st.ops->disk_ensure(&st, "xvps-1", "tpl-1", 1, NULL, err), 0);
	cr_assert_eq(st.ops->disk_ensure(&st, "xvps-2", "tpl-1", 1, NULL, err), 0);
	cr_assert_eq(st.ops->list(&st, "xvps-", &names, &n, err), 0);
	cr_assert_eq(n, 2);
	for (size_t i = 0; i < n; i++)
		free(names[i]);
	free(names);

	cr_assert_eq(st.ops->disk_quarantine(&st, "xvps-2", err), 0, "%s", err);
	cr_assert_eq(size_of("disks", "xvps-2"), -1);
	snprintf(pat, sizeof(pat), "%s/disks/quarantine-xvps-2-*.img", tmp);
	cr_assert_eq(glob(pat, 0, NULL, &g), 0, "no quarantined file");
	cr_assert_eq(g.gl_pathc, 1);
	globfree(&g);

	cr_assert_eq(st.ops->list(&st, "xvps-", &names, &n, err), 0);
	cr_assert_eq(n, 1);
	cr_assert_str_eq(names[0], "xvps-1");
	free(names[0]);
	free(names);
}

Test(storage_file, template_import_copies_data_and_keeps_holes)
{
	char src[256], p[256], buf[8] = "";
	uint64_t bytes = 0;
	struct stat sb;
	int fd;

	snprintf(src, sizeof(src), "%s/template-src/debian-12.img", tmp);
	fd = open(src, O_WRONLY | O_CREAT, 0600);
	cr_assert_geq(fd, 0);
	cr_assert_eq(pwrite(fd, "BOOT", 4, 0), 4);
	cr_assert_eq(pwrite(fd, "ROOT", 4, 512 * 1024 * 1024), 4); /* a 512 MiB hole */
	cr_assert_eq(ftruncate(fd, (off_t)GIB), 0);
	close(fd);

	cr_assert_eq(st.ops->template_ensure(&st, "tpl-7", 0, "debian-12.img", &bytes, err), 0,
	             "%s", err);
	cr_assert_eq(bytes, GIB);
	path_of("templates", "tpl-7", p, sizeof(p));
	cr_assert_eq(stat(p, &sb), 0);
	cr_assert_lt(sb.st_blocks, 2048, "import filled the holes: %ld blocks", (long)sb.st_blocks);
	fd = open(p, O_RDONLY);
	cr_assert_eq(pread(fd, buf, 4, 0), 4);
	cr_assert_str_eq(buf, "BOOT");
	cr_assert_eq(pread(fd, buf, 4, 512 * 1024 * 1024), 4);
	cr_assert_str_eq(buf, "ROOT");
	close(fd);

	/* A disk cloned from it carries the data. */
	cr_assert_eq(st.ops->disk_ensure(&st, "xvps-3", "tpl-7", 2, NULL, err), 0);
	path_of("disks", "xvps-3", p, sizeof(p));
	fd = open(p, O_RDONLY);
	cr_assert_eq(pread(fd, buf, 4, 512 * 1024 * 1024), 4);
	cr_assert_str_eq(buf, "ROOT");
	close(fd);
}

Test(storage_file, template_source_outside_import_dir_is_rejected)
{
	const char *bad[] = {"../etc/passwd", "/etc/passwd", "a/b.img", ".hidden", "..", "",
	                     "x y.img"};

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		cr_assert_eq(st.ops->template_ensure(&st, "tpl-1", 1, bad[i], NULL, err), -EINVAL,
		             "source '%s' accepted", bad[i]);
		cr_assert_eq(st.ops->template_exists(&st, "tpl-1", err), 0);
	}
	cr_assert_eq(st.ops->template_ensure(&st, "tpl-1", 1, "missing.img", NULL, err), -ENOENT);
	cr_assert_eq(st.ops->template_exists(&st, "tpl-1", err), 0);
}

Test(storage_file, rejects_names_with_path_separators)
{
	cr_assert_eq(st.ops->template_ensure(&st, "../tpl-1", 1, NULL, NULL, err), -EINVAL);
	cr_assert_eq(st.ops->disk_ensure(&st, "../xvps-1", "tpl-1", 1, NULL, err), -EINVAL);
	cr_assert_eq(st.ops->disk_remove(&st, "../../etc/x", err), -EINVAL);
	cr_assert_eq(st.ops->disk_quarantine(&st, "a/b", err), -EINVAL);
}
