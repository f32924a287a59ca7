/* test_storage_lvm.c — the `lvm` storage driver (provisioning/storage_lvm.c) against a FAKE
 * runner: each test scripts what LVM 2.03 prints (`lvs --reportformat json` reports and stderr
 * lines in tests/unit/data/lvm/) and asserts the exact argv sequence the driver ran. Also the
 * LVM name rule and the thin-pool device-mapper status parser. No process is started (the host
 * has no device-mapper, so pool usage comes from the lvs report); runs from the repository
 * root. The thin-pool status parser's own cases are in test_tpool_status.c. */
#include <criterion/criterion.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "../../common/util.h"
#include "../../provisioning/storage.h"
#include "fake_runner.h"

#define DATA "tests/unit/data/lvm/"
#define GIB  (1024ull * 1024ull * 1024ull)
#define MIB  (1024ull * 1024ull)
#define LVS                                                                                        \
	"lvs --reportformat json --units b --nosuffix -o "                                         \
	"lv_name,lv_attr,lv_size,pool_lv,segtype,data_percent,metadata_percent,discards vg0"

static fake f;
static st_driver st;
static char err[ST_ERRLEN];
static char tdir[64];

static char *load(const char *name, size_t *len)
{
	return fake_load(DATA, name, len);
}

static runner fake_runner(const fake_step *steps, size_t n)
{
	for (size_t k = 0; k < f.ncalls; k++)
		free(f.calls[k]);
	return fake_runner_of(&f, DATA, steps, n);
}

/* Opens the driver on vg0/pool with a scripted open (lvs-pool.json), then scripts steps for
 * the operation under test; the open's own lvs call is dropped from the record. */
static void open_with(const fake_step *steps, size_t n)
{
	static const fake_step open_steps[] = {{.out_file = "lvs-pool.json"}};
	cr_assert_eq(st_lvm_open(&st, fake_runner(open_steps, 1), "vg0", "pool", tdir, err), 0,
	             "%s", err);
	st.run = fake_runner(steps, n);
}

/* fake_assert_calls on the one fake of this file. */
static void assert_calls(const char *const want[])
{
	fake_assert_calls(&f, want);
}

static void setup(void)
{
	memset(&st, 0, sizeof(st));
	err[0] = '\0';
	snprintf(tdir, sizeof(tdir), "/tmp/xvps-lvm-XXXXXX");
	cr_assert_not_null(mkdtemp(tdir));
}

static void teardown(void)
{
	char p[128];

	if (st.ops)
		st.ops->dispose(&st);
	for (size_t k = 0; k < f.ncalls; k++)
		free(f.calls[k]);
	memset(&f, 0, sizeof(f));
	snprintf(p, sizeof(p), "%s/debian12.img", tdir);
	unlink(p);
	rmdir(tdir);
}

/* A sparse template image of `bytes` in the import directory. */
static void make_image(const char *name, off_t bytes)
{
	char p[128];
	snprintf(p, sizeof(p), "%s/%s", tdir, name);
	int fd = open(p, O_WRONLY | O_CREAT | O_TRUNC, 0600);
	cr_assert_geq(fd, 0);
	cr_assert_eq(ftruncate(fd, bytes), 0);
	close(fd);
}

#define N(a) (sizeof(a) / sizeof((a)[0]))

TestSuite(storage_lvm, .init = setup, .fini = teardown, .timeout = 20);

/* ---- names ---- */

Test(storage_lvm, name_rule_table)
{
	static const char *const good[] = {
	        "vg0",
	        "xvps-12",
	        "vg_xvps",
	        "a+b",
	        "x.y",
	        "pool",
	        "tpl-1",
	        "_x",
	        "A9",
	        "xvpstpl-tpl-1",
	        "quarantine-xvps-1-1764000000",
	        "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
	        "aaaaaaaa"
	        "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa", /* 127 */
	};
	static const char *const bad[] = {
	        "",
	        "-x",
	        ".",
	        "..",
	        "a b",
	        "a/b",
	        "a:b",
	        "a\nb",
	        "é",
	        "x_tmeta",
	        "x_tdata",
	        "x_cdata",
	        "x_cmeta",
	        "x_corig",
	        "x_mlog",
	        "x_mimage0",
	        "x_pmspare",
	        "x_rimage_1",
	        "x_rmeta",
	        "x_vorigin",
	        "x_vdata",
	        "snapshot1",
	        "snapshot",
	        "pvmove0",
	        "a\"b",
	        "a'b",
	        "a=b",
	        "a,b",
	        "$(x)",
	        "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
	        "aaaaaaaa"
	        "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa", /* 128 */
	};
	const char *why;
	cr_assert_eq(strlen(good[N(good) - 1]), 127);
	cr_assert_eq(strlen(bad[N(bad) - 1]), 128);
	for (size_t i = 0; i < N(good); i++)
		cr_assert(st_lvm_valid_name(good[i], NULL), "rejected good name %s", good[i]);
	for (size_t i = 0; i < N(bad); i++) {
		why = NULL;
		cr_assert_not(st_lvm_valid_name(bad[i], &why), "accepted bad name %s", bad[i]);
		cr_assert_not_null(why);
	}
	cr_assert_not(st_lvm_valid_name(NULL, NULL));
}

Test(storage_lvm, open_rejects_bad_vg_and_pool_names_before_any_command)
{
	cr_assert_eq(st_lvm_open(&st, fake_runner(NULL, 0), "-vg", "pool", tdir, err), -EINVAL);
	cr_assert(strstr(err, "volume group name"), "%s", err);
	cr_assert_eq(st_lvm_open(&st, fake_runner(NULL, 0), "vg0", "p_tdata", tdir, err), -EINVAL);
	cr_assert(strstr(err, "thin pool name"), "%s", err);
	cr_assert_eq(st_lvm_open(&st, fake_runner(NULL, 0), "vg0", "snapshot", tdir, err), -EINVAL);
	cr_assert_eq(f.ncalls, 0);
	cr_assert_null(st.ops);
}

/* ---- open ---- */

Test(storage_lvm, open_lists_the_vg_once_when_the_pool_zeroes_and_is_active)
{
	static const fake_step steps[] = {{.out_file = "lvs-pool.json"}};
	cr_assert_eq(st_lvm_open(&st, fake_runner(steps, N(steps)), "vg0", "pool", tdir, err), 0,
	             "%s", err);
	assert_calls((const char *const[]){LVS, NULL});
	cr_assert_str_eq(st.ops->name, "lvm");
	cr_assert_str_eq(st.vg, "vg0");
	cr_assert_str_eq(st.thin_pool, "pool");
}

Test(storage_lvm, open_turns_zeroing_on_and_activates_the_pool)
{
	static const fake_step steps[] = {
	        {.out_file = "lvs-pool-nozero-inactive.json"}, {.out = ""}, {.out = ""}};
	cr_assert_eq(st_lvm_open(&st, fake_runner(steps, N(steps)), "vg0", "pool", tdir, err), 0,
	             "%s", err);
	assert_calls((const char *const[]){LVS, "lvchange --zero y vg0/pool",
	                                   "lvchange -ay vg0/pool", NULL});
}

Test(storage_lvm, open_fails_when_zeroing_cannot_be_turned_on)
{
	static const fake_step steps[] = {{.out_file = "lvs-pool-nozero-inactive.json"},
	                                  {.exit_status = 5, .out = "", .err_file = NULL}};
	cr_assert_neq(st_lvm_open(&st, fake_runner(steps, N(steps)), "vg0", "pool", tdir, err), 0);
	cr_assert(strstr(err, "zeroing of thin pool vg0/pool"), "%s", err);
	cr_assert_null(st.ops);
}

Test(storage_lvm, open_fails_on_a_missing_vg_naming_it)
{
	static const fake_step steps[] = {{.exit_status = 5, .err_file = "lvs-missing-vg.stderr"}};
	cr_assert_eq(st_lvm_open(&st, fake_runner(steps, N(steps)), "vg0", "pool", tdir, err),
	             -EIO);
	cr_assert(strstr(err, "volume group vg0 not found"), "%s", err);
	cr_assert(strstr(err, "Volume group \"vg0\" not found"), "first stderr line: %s", err);
	cr_assert_null(st.ops);
}

Test(storage_lvm, open_fails_on_a_missing_pool_naming_it)
{
	static const fake_step steps[] = {{.out_file = "lvs-no-pool.json"}};
	cr_assert_eq(st_lvm_open(&st, fake_runner(steps, N(steps)), "vg0", "pool", tdir, err),
	             -ENOENT);
	cr_assert(strstr(err, "thin pool vg0/pool not found in volume group vg0"), "%s", err);
	assert_calls((const char *const[]){LVS, NULL});
}

Test(storage_lvm, open_refuses_an_lv_that_is_not_a_thin_pool)
{
	static const fake_step steps[] = {{.out_file = "lvs-pool-linear.json"}};
	cr_assert_eq(st_lvm_open(&st, fake_runner(steps, N(steps)), "vg0", "pool", tdir, err),
	             -EINVAL);
	cr_assert(strstr(err, "not a thin pool"), "%s", err);
}

Test(storage_lvm, open_fails_on_garbage_from_lvs)
{
	static const fake_step steps[] = {{.out = "{\"report\": 7}"}};
	cr_assert_eq(st_lvm_open(&st, fake_runner(steps, N(steps)), "vg0", "pool", tdir, err),
	             -EINVAL);
	cr_assert(strstr(err, "cannot read the lvs report"), "%s", err);
}

Test(storage_lvm, open_fails_when_lvm_is_not_installed)
{
	/* The fake answers 99 to anything unscripted: a failing command, named in err. */
	cr_assert_neq(st_lvm_open(&st, fake_runner(NULL, 0), "vg0", "pool", tdir, err), 0);
	cr_assert(strstr(err, "vg0"), "%s", err);
}

Test(storage_lvm, headroom_range)
{
	open_with(NULL, 0);
	cr_assert_eq(st_lvm_set_headroom(&st, 0), 0);
	cr_assert_eq(st_lvm_set_headroom(&st, 90), 0);
	cr_assert_eq(st_lvm_set_headroom(&st, 91), -EINVAL);
	cr_assert_eq(st_lvm_set_headroom(&st, -1), -EINVAL);
	st_driver other = {0};
	cr_assert_eq(st_lvm_set_headroom(&other, 10), -EINVAL);
}

/* ---- templates ---- */

Test(storage_lvm, template_import_creates_copies_and_seals)
{
	static const fake_step steps[] = {
	        {.out_file = "lvs-pool.json"}, {.out = ""}, {.out = ""}, {.out = ""}};
	char dd[256];
	uint64_t bytes = 0;

	make_image("debian12.img", (off_t)(5 * MIB + 1));
	open_with(steps, N(steps));
	cr_assert_eq(st.ops->template_ensure(&st, "tpl-1", 0, "debian12.img", &bytes, err), 0, "%s",
	             err);
	snprintf(dd, sizeof(dd),
	         "dd if=%s/debian12.img of=/dev/vg0/xvpstpl-tpl-1 bs=4M conv=sparse,fsync "
	         "oflag=direct status=none",
	         tdir);
	assert_calls((const char *const[]){LVS, "lvcreate -V 8m -T vg0/pool -n xvpstpl-tpl-1", dd,
	                                   "lvchange -pr vg0/xvpstpl-tpl-1", NULL});
	cr_assert_eq(bytes, 8 * MIB);
}

Test(storage_lvm, template_import_is_idempotent)
{
	static const fake_step steps[] = {{.out_file = "lvs-tpl.json"}};
	uint64_t bytes = 0;

	open_with(steps, N(steps));
	cr_assert_eq(st.ops->template_ensure(&st, "tpl-1", 0, "debian12.img", &bytes, err), 0, "%s",
	             err);
	assert_calls((const char *const[]){LVS, NULL});
	cr_assert_eq(bytes, 2 * GIB);
}

Test(storage_lvm, template_half_imported_is_removed_and_imported_again)
{
	static const fake_step steps[] = {{.out_file = "lvs-tpl-half.json"},
	                                  {.out = ""},
	                                  {.out = ""},
	                                  {.out = ""},
	                                  {.out = ""}};
	make_image("debian12.img", (off_t)(4 * MIB));
	open_with(steps, N(steps));
	cr_assert_eq(st.ops->template_ensure(&st, "tpl-1", 0, "debian12.img", NULL, err), 0, "%s",
	             err);
	assert_calls((const char *const[]){LVS, "lvremove -y vg0/xvpstpl-tpl-1",
	                                   "lvcreate -V 4m -T vg0/pool -n xvpstpl-tpl-1", "dd *",
	                                   "lvchange -pr vg0/xvpstpl-tpl-1", NULL});
}

Test(storage_lvm, template_copy_failure_removes_the_lv)
{
	static const fake_step steps[] = {
	        {.out_file = "lvs-pool.json"},
	        {.out = ""},
	        {.exit_status = 1, .out = ""},
	        {.out = ""},
	};
	make_image("debian12.img", (off_t)MIB);
	open_with(steps, N(steps));
	cr_assert_neq(st.ops->template_ensure(&st, "tpl-1", 0, "debian12.img", NULL, err), 0);
	cr_assert(strstr(err, "cannot copy debian12.img into template LV vg0/xvpstpl-tpl-1"), "%s",
	          err);
	assert_calls((const char *const[]){LVS, "lvcreate *", "dd *",
	                                   "lvremove -y vg0/xvpstpl-tpl-1", NULL});
}

Test(storage_lvm, template_seal_failure_removes_the_lv)
{
	static const fake_step steps[] = {
	        {.out_file = "lvs-pool.json"},
	        {.out = ""},
	        {.out = ""},
	        {.exit_status = 5},
	        {.out = ""},
	};
	make_image("debian12.img", (off_t)MIB);
	open_with(steps, N(steps));
	cr_assert_neq(st.ops->template_ensure(&st, "tpl-1", 0, "debian12.img", NULL, err), 0);
	assert_calls((const char *const[]){LVS, "lvcreate *", "dd *", "lvchange -pr *",
	                                   "lvremove -y vg0/xvpstpl-tpl-1", NULL});
}

Test(storage_lvm, template_source_is_validated_before_any_command)
{
	static const char *const bad[] = {"../etc/shadow", "a/b", ".hidden", "", "a b", "/abs"};
	open_with(NULL, 0);
	for (size_t i = 0; i < N(bad); i++)
		cr_assert_eq(st.ops->template_ensure(&st, "tpl-1", 0, bad[i], NULL, err), -EINVAL,
		             "%s", bad[i]);
	cr_assert_eq(st.ops->template_ensure(&st, "tpl 1", 0, "x.img", NULL, err), -EINVAL);
	cr_assert_eq(f.ncalls, 0);
}

Test(storage_lvm, template_without_source_or_file_is_refused)
{
	static const fake_step steps[] = {{.out_file = "lvs-pool.json"},
	                                  {.out_file = "lvs-pool.json"}};
	open_with(steps, N(steps));
	cr_assert_eq(st.ops->template_ensure(&st, "tpl-1", 1, NULL, NULL, err), -EINVAL);
	cr_assert(strstr(err, "source is required"), "%s", err);
	cr_assert_eq(st.ops->template_ensure(&st, "tpl-1", 1, "nope.img", NULL, err), -ENOENT);
	cr_assert(strstr(err, "nope.img"), "%s", err);
	assert_calls((const char *const[]){LVS, LVS, NULL});
}

Test(storage_lvm, template_import_refused_when_the_pool_is_full)
{
	static const fake_step steps[] = {{.out_file = "lvs-pool-full.json"}};
	make_image("debian12.img", (off_t)GIB);
	open_with(steps, N(steps));
	cr_assert_eq(st.ops->template_ensure(&st, "tpl-2", 0, "debian12.img", NULL, err), -ENOSPC);
	cr_assert(strstr(err, "template tpl-2 needs 1.0 GiB"), "%s", err);
	assert_calls((const char *const[]){LVS, NULL});
}

Test(storage_lvm, template_exists_only_when_sealed)
{
	static const fake_step steps[] = {{.out_file = "lvs-tpl.json"},
	                                  {.out_file = "lvs-tpl-half.json"},
	                                  {.out_file = "lvs-pool.json"}};
	open_with(steps, N(steps));
	cr_assert_eq(st.ops->template_exists(&st, "tpl-1", err), 1);
	cr_assert_eq(st.ops->template_exists(&st, "tpl-1", err), 0);
	cr_assert_eq(st.ops->template_exists(&st, "tpl-1", err), 0);
	cr_assert_eq(st.ops->template_exists(&st, "a/b", err), 0);
	assert_calls((const char *const[]){LVS, LVS, LVS, NULL});
}

Test(storage_lvm, template_remove_and_absent_is_success)
{
	static const fake_step steps[] = {
	        {.out_file = "lvs-tpl.json"}, {.out = ""}, {.out_file = "lvs-pool.json"}};
	open_with(steps, N(steps));
	cr_assert_eq(st.ops->template_remove(&st, "tpl-1", err), 0, "%s", err);
	cr_assert_eq(st.ops->template_remove(&st, "tpl-1", err), 0, "%s", err);
	assert_calls((const char *const[]){LVS, "lvremove -y vg0/xvpstpl-tpl-1", LVS, NULL});
}

/* ---- disks ---- */

Test(storage_lvm, disk_is_a_thin_snapshot_grown_and_activated)
{
	static const fake_step steps[] = {
	        {.out_file = "lvs-tpl.json"}, {.out = ""}, {.out = ""}, {.out = ""}};
	open_with(steps, N(steps));
	cr_assert_eq(st.ops->disk_ensure(&st, "xvps-1", "tpl-1", 5, NULL, err), 0, "%s", err);
	assert_calls((const char *const[]){LVS, "lvcreate -kn -prw -s -n xvps-1 vg0/xvpstpl-tpl-1",
	                                   "lvextend -L 5g vg0/xvps-1",
	                                   "lvchange -ay -K vg0/xvps-1", NULL});
}

Test(storage_lvm, disk_of_the_template_size_is_not_extended)
{
	static const fake_step steps[] = {{.out_file = "lvs-tpl.json"}, {.out = ""}, {.out = ""}};
	open_with(steps, N(steps));
	cr_assert_eq(st.ops->disk_ensure(&st, "xvps-1", "tpl-1", 2, NULL, err), 0, "%s", err);
	cr_assert_eq(st.ops->disk_ensure(&st, "xvps-1", "tpl-1", 0, NULL, err), -ERANGE);
	assert_calls((const char *const[]){LVS, "lvcreate -kn -prw -s -n xvps-1 vg0/xvpstpl-tpl-1",
	                                   "lvchange -ay -K vg0/xvps-1", NULL});
}

Test(storage_lvm, disk_refused_when_the_pool_is_full_runs_no_lvcreate)
{
	static const fake_step steps[] = {{.out_file = "lvs-pool-full.json"}};
	open_with(steps, N(steps));
	cr_assert_eq(st.ops->disk_ensure(&st, "xvps-1", "tpl-1", 2, NULL, err), -ENOSPC);
	cr_assert_str_eq(err, "thin pool vg0/pool: 0.0 GiB free after 10 % headroom, disk xvps-1 "
	                      "needs 2.0 GiB");
	assert_calls((const char *const[]){LVS, NULL});
}

/* The rule: used + need <= total × (100 − headroom) / 100. Pool 7 GiB, 50 % used: 3.5 GiB
 * used, limit 6.3 GiB at 10 % headroom → 2.8 GiB free. */
Test(storage_lvm, refusal_rule_counts_used_space_and_headroom)
{
	static const fake_step steps[] = {{.out_file = "lvs-pool-half.json"},
	                                  {.out_file = "lvs-pool-half.json"},
	                                  {.out_file = "lvs-pool-half.json"},
	                                  {.out_file = "lvs-pool-half.json"},
	                                  {.out = ""},
	                                  {.out = ""},
	                                  {.out = ""}};
	open_with(steps, N(steps));
	cr_assert_eq(st.ops->disk_ensure(&st, "xvps-1", "tpl-1", 3, NULL, err), -ENOSPC);
	cr_assert(strstr(err, "2.8 GiB free after 10 % headroom"), "%s", err);
	cr_assert_eq(st_lvm_set_headroom(&st, 50), 0);
	cr_assert_eq(st.ops->disk_ensure(&st, "xvps-1", "tpl-1", 2, NULL, err), -ENOSPC);
	cr_assert(strstr(err, "0.0 GiB free after 50 % headroom"), "%s", err);
	cr_assert_eq(st_lvm_set_headroom(&st, 0), 0);
	cr_assert_eq(st.ops->disk_ensure(&st, "xvps-1", "tpl-1", 4, NULL, err), -ENOSPC);
	cr_assert(strstr(err, "3.5 GiB free after 0 % headroom"), "%s", err);
	cr_assert_eq(st.ops->disk_ensure(&st, "xvps-1", "tpl-1", 3, NULL, err), 0, "%s", err);
	assert_calls((const char *const[]){LVS, LVS, LVS, LVS, "lvcreate *", "lvextend -L 3g *",
	                                   "lvchange -ay -K vg0/xvps-1", NULL});
}

Test(storage_lvm, disk_refused_when_pool_metadata_is_full)
{
	static const fake_step steps[] = {{.out_file = "lvs-meta-full.json"}};
	open_with(steps, N(steps));
	cr_assert_eq(st.ops->disk_ensure(&st, "xvps-1", "tpl-1", 2, NULL, err), -ENOSPC);
	cr_assert(strstr(err, "metadata 95.0 % used"), "%s", err);
	assert_calls((const char *const[]){LVS, NULL});
}

Test(storage_lvm, failure_after_lvcreate_rolls_the_lv_back)
{
	static const fake_step steps[] = {
	        {.out_file = "lvs-tpl.json"},
	        {.out = ""},
	        {.exit_status = 5, .err_file = "lvextend-fail.stderr"},
	        {.out = ""},
	};
	open_with(steps, N(steps));
	cr_assert_eq(st.ops->disk_ensure(&st, "xvps-1", "tpl-1", 5, NULL, err), -EIO, "%s", err);
	cr_assert(strstr(err, "cannot grow LV vg0/xvps-1 to 5 GiB: Insufficient free space"),
	          "the first non-WARNING stderr line: %s", err);
	assert_calls((const char *const[]){LVS, "lvcreate *", "lvextend -L 5g vg0/xvps-1",
	                                   "lvremove -y vg0/xvps-1", NULL});
}

Test(storage_lvm, activation_failure_after_lvcreate_rolls_the_lv_back)
{
	static const fake_step steps[] = {
	        {.out_file = "lvs-tpl.json"}, {.out = ""}, {.exit_status = 5}, {.out = ""}};
	open_with(steps, N(steps));
	cr_assert_neq(st.ops->disk_ensure(&st, "xvps-1", "tpl-1", 2, NULL, err), 0);
	assert_calls((const char *const[]){LVS, "lvcreate *", "lvchange -ay -K vg0/xvps-1",
	                                   "lvremove -y vg0/xvps-1", NULL});
}

Test(storage_lvm, lvcreate_failure_is_reported_with_its_stderr)
{
	static const fake_step steps[] = {
	        {.out_file = "lvs-tpl.json"},
	        {.exit_status = 5, .out = "", .err_file = "lvs-missing-vg.stderr"}};
	open_with(steps, N(steps));
	cr_assert_eq(st.ops->disk_ensure(&st, "xvps-1", "tpl-1", 2, NULL, err), -EIO);
	cr_assert(strstr(err, "cannot create disk LV vg0/xvps-1 from vg0/xvpstpl-tpl-1"), "%s",
	          err);
	assert_calls((const char *const[]){LVS, "lvcreate *", NULL});
}

Test(storage_lvm, disk_from_a_missing_template_creates_nothing)
{
	static const fake_step steps[] = {{.out_file = "lvs-pool.json"},
	                                  {.out_file = "lvs-tpl-half.json"}};
	open_with(steps, N(steps));
	cr_assert_eq(st.ops->disk_ensure(&st, "xvps-1", "tpl-1", 2, NULL, err), -ENOENT);
	cr_assert_str_eq(err, "template LV vg0/xvpstpl-tpl-1 is missing");
	cr_assert_eq(st.ops->disk_ensure(&st, "xvps-1", "tpl-1", 2, NULL, err), -ENOENT);
	cr_assert(strstr(err, "did not finish"), "%s", err);
	assert_calls((const char *const[]){LVS, LVS, NULL});
}

Test(storage_lvm, existing_disk_is_kept_grown_never_shrunk_and_activated)
{
	static const fake_step steps[] = {{.out_file = "lvs-disks.json"},
	                                  {.out_file = "lvs-disks.json"},
	                                  {.out = ""},
	                                  {.out_file = "lvs-disks.json"},
	                                  {.out = ""}};
	open_with(steps, N(steps));
	/* xvps-1 is 2 GiB and active: same size → nothing; 4 → grown. */
	cr_assert_eq(st.ops->disk_ensure(&st, "xvps-1", "tpl-1", 2, NULL, err), 0, "%s", err);
	cr_assert_eq(st.ops->disk_ensure(&st, "xvps-1", "tpl-1", 4, NULL, err), 0, "%s", err);
	/* xvps-2 is 10 GiB, inactive (left by a killed create): activated, not shrunk. */
	cr_assert_eq(st.ops->disk_ensure(&st, "xvps-2", "tpl-1", 3, NULL, err), 0, "%s", err);
	assert_calls((const char *const[]){LVS, LVS, "lvextend -L 4g vg0/xvps-1", LVS,
	                                   "lvchange -ay -K vg0/xvps-2", NULL});
}

Test(storage_lvm, disk_ensure_refuses_an_lv_that_is_not_ours)
{
	static const fake_step steps[] = {{.out_file = "lvs-disks.json"},
	                                  {.out_file = "lvs-disks.json"}};
	open_with(steps, N(steps));
	cr_assert_eq(st.ops->disk_ensure(&st, "xvps-linear", "tpl-1", 2, NULL, err), -EEXIST);
	cr_assert_eq(st.ops->disk_ensure(&st, "xvps-other", "tpl-1", 2, NULL, err), -EEXIST);
	cr_assert_eq(st.ops->disk_ensure(&st, "xvpstpl-x", "tpl-1", 2, NULL, err), -EINVAL);
	assert_calls((const char *const[]){LVS, LVS, NULL});
}

Test(storage_lvm, remove_discards_before_lvremove)
{
	static const fake_step steps[] = {{.out_file = "lvs-disks.json"}, {.out = ""}, {.out = ""}};
	open_with(steps, N(steps));
	cr_assert_eq(st.ops->disk_remove(&st, "xvps-1", err), 0, "%s", err);
	assert_calls((const char *const[]){LVS, "blkdiscard /dev/vg0/xvps-1",
	                                   "lvremove -y vg0/xvps-1", NULL});
}

Test(storage_lvm, remove_falls_back_to_zeroing_when_discard_is_not_supported)
{
	static const fake_step steps[] = {
	        {.out_file = "lvs-disks.json"},
	        {.out = ""},
	        {.exit_status = 1, .err_file = "blkdiscard-unsupported.stderr"},
	        {.out = ""},
	        {.out = ""}};
	open_with(steps, N(steps));
	/* xvps-2 is inactive: activated first, so the wipe reaches its blocks. */
	cr_assert_eq(st.ops->disk_remove(&st, "xvps-2", err), 0, "%s", err);
	assert_calls((const char *const[]){
	        LVS, "lvchange -ay -K vg0/xvps-2", "blkdiscard /dev/vg0/xvps-2",
	        "blkdiscard -z /dev/vg0/xvps-2", "lvremove -y vg0/xvps-2", NULL});
}

Test(storage_lvm, remove_keeps_the_lv_when_it_can_be_neither_discarded_nor_zeroed)
{
	static const fake_step steps[] = {
	        {.out_file = "lvs-disks.json"},
	        {.exit_status = 1, .err_file = "blkdiscard-unsupported.stderr"},
	        {.exit_status = 1, .out = ""}};
	open_with(steps, N(steps));
	cr_assert_eq(st.ops->disk_remove(&st, "xvps-1", err), -EIO);
	cr_assert(strstr(err, "cannot discard or zero LV vg0/xvps-1 (kept)"), "%s", err);
	assert_calls((const char *const[]){LVS, "blkdiscard /dev/vg0/xvps-1",
	                                   "blkdiscard -z /dev/vg0/xvps-1", NULL});
}

Test(storage_lvm, remove_of_an_absent_disk_is_success)
{
	static const fake_step steps[] = {{.out_file = "lvs-tpl.json"}};
	open_with(steps, N(steps));
	cr_assert_eq(st.ops->disk_remove(&st, "xvps-1", err), 0, "%s", err);
	assert_calls((const char *const[]){LVS, NULL});
}

Test(storage_lvm, remove_refuses_lvs_that_are_not_thin_volumes_of_the_pool)
{
	static const fake_step steps[] = {{.out_file = "lvs-disks.json"},
	                                  {.out_file = "lvs-disks.json"}};
	open_with(steps, N(steps));
	cr_assert_eq(st.ops->disk_remove(&st, "xvps-linear", err), -EPERM);
	cr_assert(strstr(err, "not removing it"), "%s", err);
	cr_assert_eq(st.ops->disk_remove(&st, "xvps-other", err), -EPERM);
	cr_assert_eq(st.ops->disk_remove(&st, "../x", err), -EINVAL);
	assert_calls((const char *const[]){LVS, LVS, NULL});
}

Test(storage_lvm, quarantine_renames_and_absent_is_success)
{
	static const fake_step steps[] = {
	        {.out_file = "lvs-disks.json"}, {.out = ""}, {.out_file = "lvs-pool.json"}};
	open_with(steps, N(steps));
	cr_assert_eq(st.ops->disk_quarantine(&st, "xvps-1", err), 0, "%s", err);
	cr_assert_eq(st.ops->disk_quarantine(&st, "xvps-1", err), 0, "%s", err);
	assert_calls(
	        (const char *const[]){LVS, "lvrename vg0 xvps-1 quarantine-xvps-1-*", LVS, NULL});
}

Test(storage_lvm, disk_size_and_path)
{
	static const fake_step steps[] = {{.out_file = "lvs-disks.json"},
	                                  {.out_file = "lvs-disks.json"}};
	uint64_t bytes = 0;
	char p[64];

	open_with(steps, N(steps));
	cr_assert_eq(st.ops->disk_size(&st, "xvps-2", &bytes, err), 0, "%s", err);
	cr_assert_eq(bytes, 10 * GIB);
	cr_assert_eq(st.ops->disk_size(&st, "xvps-3", &bytes, err), -ENOENT);
	cr_assert_eq(st.ops->disk_path(&st, "xvps-2", p, sizeof(p)), 0);
	cr_assert_str_eq(p, "/dev/vg0/xvps-2");
	cr_assert_eq(st.ops->disk_path(&st, "a/b", p, sizeof(p)), -EINVAL);
	cr_assert_eq(st.ops->disk_path(&st, "xvps-2", p, 8), -ENAMETOOLONG);
	assert_calls((const char *const[]){LVS, LVS, NULL});
}

Test(storage_lvm, list_names_only_thin_volumes_of_the_pool_with_the_prefix)
{
	static const fake_step steps[] = {{.out_file = "lvs-disks.json"},
	                                  {.out_file = "lvs-disks.json"}};
	char **names = NULL;
	size_t n = 0;

	open_with(steps, N(steps));
	cr_assert_eq(st.ops->list(&st, "xvps-", &names, &n, err), 0, "%s", err);
	cr_assert_eq(n, 2);
	cr_assert_str_eq(names[0], "xvps-1");
	cr_assert_str_eq(names[1], "xvps-2");
	for (size_t i = 0; i < n; i++)
		free(names[i]);
	free(names);
	/* No prefix: quarantined disks too, never templates or the pools. */
	cr_assert_eq(st.ops->list(&st, "", &names, &n, err), 0, "%s", err);
	cr_assert_eq(n, 3);
	cr_assert_str_eq(names[2], "quarantine-xvps-9-1764000000");
	for (size_t i = 0; i < n; i++)
		free(names[i]);
	free(names);
	assert_calls((const char *const[]){LVS, LVS, NULL});
}

Test(storage_lvm, list_fails_with_the_vg_named)
{
	static const fake_step steps[] = {{.exit_status = 5, .err_file = "lvs-missing-vg.stderr"}};
	char **names = NULL;
	size_t n = 0;

	open_with(steps, N(steps));
	cr_assert_eq(st.ops->list(&st, "xvps-", &names, &n, err), -EIO);
	cr_assert_null(names);
	cr_assert(strstr(err, "volume group vg0 not found"), "%s", err);
}

/* ---- outputs recorded from real LVM 2.03.16 in the vm-test VM (data/lvm/recorded/) ---------- */

Test(storage_lvm, recorded_lvs_report_opens_lists_and_sizes)
{
	/* The driver's own report command on VG xvps (pool, template xvpstpl-debian12, disk
	 * xvps-vm1), exactly as recorded (commands.txt: lvs-driver-fields). */
	static const fake_step steps[] = {{.out_file = "recorded/lvs-driver-fields.json"},
	                                  {.out_file = "recorded/lvs-driver-fields.json"},
	                                  {.out_file = "recorded/lvs-driver-fields.json"},
	                                  {.out_file = "recorded/lvs-driver-fields.json"}};
	char **names = NULL;
	size_t n = 0;
	uint64_t bytes = 0;

	cr_assert_eq(st_lvm_open(&st, fake_runner(steps, N(steps)), "xvps", "pool", tdir, err), 0,
	             "%s", err);
	cr_assert_str_eq(f.calls[0],
	                 "lvs --reportformat json --units b --nosuffix -o "
	                 "lv_name,lv_attr,lv_size,pool_lv,segtype,data_percent,"
	                 "metadata_percent,discards xvps",
	                 "the recorded command is the driver's");
	cr_assert_eq(st.ops->list(&st, "xvps-", &names, &n, err), 0, "%s", err);
	cr_assert_eq(n, 1, "the template's LV is not a disk");
	cr_assert_str_eq(names[0], "xvps-vm1");
	free(names[0]);
	free(names);
	cr_assert_eq(st.ops->template_exists(&st, "debian12", err), 1,
	             "a read-only xvpstpl- LV is a template");
	cr_assert_eq(st.ops->disk_size(&st, "xvps-vm1", &bytes, err), 0, "%s", err);
	cr_assert_eq(bytes, 2 * GIB);
}

Test(storage_lvm, recorded_tpool_status_lines_parse)
{
	/* `dmsetup status xvps-pool-tpool`: "0 2097152 thin-pool <params>" of a 1 GiB pool with
	 * 64 KiB blocks, before and after it was filled up. */
	char *line, *params;
	size_t len;
	st_pool_usage u;

	line = load("recorded/dmsetup-status-tpool.txt", &len);
	params = strstr(line, "thin-pool ");
	cr_assert_not_null(params);
	cr_assert_eq(st_lvm_parse_tpool_status(params + 10, 2097152, &u), 0);
	cr_assert_eq(u.data_total_bytes, GIB);
	cr_assert_eq(u.data_used_bytes, GIB / 16384 * 1280);
	cr_assert_eq(u.meta_used, 121);
	cr_assert_eq(u.meta_total, 1024);
	cr_assert_not(u.failed || u.out_of_data_space || u.read_only || u.needs_check);
	free(line);

	line = load("recorded/dmsetup-status-tpool-full.txt", &len);
	params = strstr(line, "thin-pool ");
	cr_assert_not_null(params);
	cr_assert_eq(st_lvm_parse_tpool_status(params + 10, 2097152, &u), 0);
	cr_assert_eq(u.data_used_bytes, GIB);
	cr_assert(u.out_of_data_space, "the full pool says out_of_data_space");
	free(line);
}
