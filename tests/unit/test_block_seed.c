/* test_block_seed.c — the seed disk's hotplug script (hypervisor/block_seed.h) against a fake
 * xenstore: what blkback needs written for a loop device, the error keys libxl reads when it
 * cannot, nothing touched for a bad backend path or on remove. */
#include <criterion/criterion.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/sysmacros.h>

#include "../../hypervisor/block_seed.h"

#define BE "backend/vbd/7/51728"

static struct {
	const char *params; /* what <BE>/params reads, NULL: absent */
	bool is_block;
	char keys[8][64], vals[8][64];
	int n;
} xs;

static char *fx_read(void *ctx, const char *path)
{
	(void)ctx;
	return strcmp(path, BE "/params") == 0 && xs.params ? strdup(xs.params) : NULL;
}

static int fx_write(void *ctx, const char *path, const char *value)
{
	(void)ctx;
	cr_assert_lt(xs.n, 8);
	snprintf(xs.keys[xs.n], sizeof(xs.keys[0]), "%s", path);
	snprintf(xs.vals[xs.n++], sizeof(xs.vals[0]), "%s", value);
	return 0;
}

static int fx_stat(const char *path, struct stat *st)
{
	memset(st, 0, sizeof(*st));
	st->st_mode = xs.is_block ? S_IFBLK | 0600 : S_IFREG | 0600;
	st->st_rdev = makedev(7, 12);
	return 0;
}

static const block_seed_ops ops = {{NULL, fx_read, fx_write}, fx_stat};

static const char *val(const char *key)
{
	for (int i = 0; i < xs.n; i++)
		if (strcmp(xs.keys[i], key) == 0)
			return xs.vals[i];
	return NULL;
}

static void reset(const char *params, bool is_block)
{
	memset(&xs, 0, sizeof(xs));
	xs.params = params;
	xs.is_block = is_block;
}

Test(block_seed, add_writes_what_blkback_reads_for_the_loop_device)
{
	char err[BLOCK_SEED_ERRLEN] = "";

	reset("/dev/loop12", true);
	cr_assert_eq(block_seed_run("add", BE, &ops, err), 0, "%s", err);
	cr_assert_eq(xs.n, 3);
	cr_assert_str_eq(val(BE "/physical-device"), "7:c"); /* hex, as Xen's block script */
	cr_assert_str_eq(val(BE "/physical-device-path"), "/dev/loop12");
	cr_assert_str_eq(xs.keys[2], BE "/hotplug-status"); /* last: libxl waits for it */
	cr_assert_str_eq(xs.vals[2], "connected");
}

Test(block_seed, add_refuses_what_is_not_the_seeds_loop_device_and_says_why_in_xenstore)
{
	static const char *const bad[] = {
	        NULL,          "/dev/xvps/xvps-1",  "/dev/loop",
	        "/dev/loop1x", "/dev/loop1/../sda", "/var/lib/xvps/seed/xvps-1.img"};
	char err[BLOCK_SEED_ERRLEN];

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		err[0] = '\0';
		reset(bad[i], true);
		cr_assert_lt(block_seed_run("add", BE, &ops, err), 0, "%s accepted", bad[i]);
		cr_assert_str_eq(val(BE "/hotplug-status"), "error");
		cr_assert_not_null(val(BE "/hotplug-error"));
		cr_assert_null(val(BE "/physical-device"));
	}
	/* A loop path that is no block device here. */
	reset("/dev/loop3", false);
	cr_assert_eq(block_seed_run("add", BE, &ops, err), -ENOTBLK);
	cr_assert(strstr(val(BE "/hotplug-error"), "not a block device"));
	cr_assert_null(val(BE "/physical-device"));
}

Test(block_seed, touches_nothing_for_a_foreign_path_or_on_remove)
{
	static const char *const paths[] = {NULL,
	                                    "",
	                                    "backend/vif/7/0",
	                                    "backend/vbd/7",
	                                    "backend/vbd/7/51728/x",
	                                    "backend/vbd/7/5172a",
	                                    "/local/domain/0/backend/vbd/7/51728",
	                                    "backend/vbd//51728"};
	char err[BLOCK_SEED_ERRLEN];

	for (size_t i = 0; i < sizeof(paths) / sizeof(paths[0]); i++) {
		reset("/dev/loop12", true);
		cr_assert_eq(block_seed_run("add", paths[i], &ops, err), -EINVAL, "%s",
		             paths[i] ? paths[i] : "(null)");
		cr_assert_eq(xs.n, 0);
	}
	reset("/dev/loop12", true);
	cr_assert_eq(block_seed_run("remove", BE, &ops, err), 0);
	cr_assert_eq(block_seed_run("bogus", BE, &ops, err), -EINVAL);
	cr_assert_eq(block_seed_run(NULL, BE, &ops, err), -EINVAL);
	cr_assert_eq(xs.n, 0);
}
