/* test_tpool_status.c — st_lvm_parse_tpool_status (provisioning/storage.h): the params of a
 * device-mapper thin-pool status line (`dmsetup status <vg>-<pool>-tpool` after "thin-pool ")
 * into an st_pool_usage, on lines of current and older kernels, flagged states and garbage.
 * Lines recorded from a real pool are read in test_storage_lvm.c. */
#include <criterion/criterion.h>
#include <errno.h>
#include <stddef.h>

#include "../../common/util.h"
#include "../../provisioning/lvm_dm.h"
#include "../../provisioning/storage.h"

#define GIB  (1024ull * 1024ull * 1024ull)
#define N(a) (sizeof(a) / sizeof((a)[0]))

Test(tpool_status, status_parses_a_current_kernel_line)
{
	st_pool_usage u;
	/* 7 GiB data device = 14680064 sectors; 64 KiB blocks = 114688 blocks. */
	cr_assert_eq(st_lvm_parse_tpool_status("3 279/4096 57344/114688 - rw discard_passdown "
	                                       "queue_if_no_space - 1024",
	                                       14680064, &u),
	             0);
	cr_assert_eq(u.data_total_bytes, 7 * GIB);
	cr_assert_eq(u.data_used_bytes, 7 * GIB / 2);
	cr_assert_eq(u.meta_used, 279);
	cr_assert_eq(u.meta_total, 4096);
	cr_assert_not(u.failed || u.out_of_data_space || u.read_only || u.needs_check);
}

Test(tpool_status, status_parses_old_and_flagged_lines)
{
	st_pool_usage u;
	cr_assert_eq(st_lvm_parse_tpool_status("0 10/100 1/3 - rw", 3 * 128, &u), 0);
	cr_assert_eq(u.data_used_bytes, 128 * 512, "rounded up to whole blocks");
	cr_assert_eq(st_lvm_parse_tpool_status("9 10/100 3/3 12 out_of_data_space "
	                                       "discard_passdown error_if_no_space - 8",
	                                       384, &u),
	             0);
	cr_assert(u.out_of_data_space);
	cr_assert_eq(st_lvm_parse_tpool_status("9 10/100 1/3 - ro no_discard_passdown "
	                                       "queue_if_no_space needs_check 8",
	                                       384, &u),
	             0);
	cr_assert(u.read_only && u.needs_check);
	cr_assert_eq(st_lvm_parse_tpool_status("0 0/100 0/3 - rw", 384, &u), 0);
	cr_assert_eq(u.data_used_bytes, 0);
}

Test(tpool_status, status_fail_and_error)
{
	st_pool_usage u;
	cr_assert_eq(st_lvm_parse_tpool_status("Fail", 384, &u), -EIO);
	cr_assert(u.failed);
	cr_assert_eq(st_lvm_parse_tpool_status("Error", 384, &u), -EIO);
	cr_assert(u.failed);
}

Test(tpool_status, status_garbage_is_refused)
{
	static const char *const bad[] = {
	        "",
	        "garbage",
	        "0 10/100",
	        "0 10/100 5/3 - rw",    /* used > total */
	        "0 10/0 1/3 - rw",      /* no metadata blocks */
	        "0 10/100 1/0 - rw",    /* no data blocks */
	        "0 10/100 1/3 - maybe", /* unknown mode */
	        "0 10/100 1/3",         /* no mode */
	        "0 -10/100 1/3 - rw",   /* negative */
	        "0 10/100 1/3x - rw",   /* junk in a number */
	        "x 10/100 1/3 - rw",
	};
	st_pool_usage u;
	for (size_t i = 0; i < N(bad); i++) {
		cr_assert_eq(st_lvm_parse_tpool_status(bad[i], 384, &u), -EINVAL, "accepted \"%s\"",
		             bad[i]);
		cr_assert_eq(u.data_total_bytes, 0);
	}
	cr_assert_eq(st_lvm_parse_tpool_status(NULL, 384, &u), -EINVAL);
	cr_assert_eq(st_lvm_parse_tpool_status("0 10/100 1/3 - rw", 0, &u), -EINVAL);
}

/* A "thin" target's table params (dmsetup table of a thin LV: "0 2097152 thin 253:2 3"): the
 * pool device the fresh-create path compares with the pool's (issue 17 item 6). */
Test(tpool_status, thin_table_params)
{
	unsigned maj = 0, min = 0;

	cr_assert(lvm_dm_parse_thin_params("253:2 3", &maj, &min));
	cr_assert_eq(maj, 253);
	cr_assert_eq(min, 2);
	/* With an external origin device. */
	cr_assert(lvm_dm_parse_thin_params("254:10 17 254:3", &maj, &min));
	cr_assert_eq(maj, 254);
	cr_assert_eq(min, 10);
	cr_assert(!lvm_dm_parse_thin_params("253:2", &maj, &min));
	cr_assert(!lvm_dm_parse_thin_params("253-2 3", &maj, &min));
	cr_assert(!lvm_dm_parse_thin_params("253:2 x", &maj, &min));
	cr_assert(!lvm_dm_parse_thin_params("253:2 3x", &maj, &min));
	cr_assert(!lvm_dm_parse_thin_params("", &maj, &min));
	cr_assert(!lvm_dm_parse_thin_params(NULL, &maj, &min));
}
