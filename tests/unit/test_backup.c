/* test_backup.c — panel/backup.c and panel/restore.c on real SQLite files in a mkdtemp()
 * directory: a backup is a complete database with the live rows; names; the restore refuses a
 * file that is not SQLite, a truncated one, one damaged inside, schema 0 and a newer schema,
 * each leaving every file as it was; a good restore swaps the file in and keeps .pre-restore. */
#include <criterion/criterion.h>
#include <fcntl.h>
#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "../../common/util.h"
#include "../../panel/backup.h"
#include "../../panel/store.h"
#include "panel_testdb.h"

static char tmp[64], state[128], dbpath[160], bkdir[160];

static void setup(void)
{
	snprintf(tmp, sizeof(tmp), "/tmp/xvps-backup-XXXXXX");
	cr_assert_not_null(mkdtemp(tmp));
	snprintf(state, sizeof(state), "%s/state", tmp);
	cr_assert_eq(mkdir(state, 0700), 0);
	snprintf(dbpath, sizeof(dbpath), "%s/xvps.db", state);
	snprintf(bkdir, sizeof(bkdir), "%s/backups", state);
	unsetenv("XVPS_BACKUP_DIR");
	unsetenv("XVPS_BACKUP_INTERVAL");
	unsetenv("XVPS_BACKUP_KEEP_DAYS");
	cr_assert_eq(backup_configure(state, dbpath), 0);
	cr_assert_eq(store_open(dbpath), 0);
	exec_sql("INSERT INTO users (username, role, email, password_hash, created_at) "
	         "VALUES ('alice', 'customer', 'a@example.net', 'x', 1)");
}

static void teardown(void)
{
	store_close_thread();
	nftw(tmp, rm_one, 8, FTW_DEPTH | FTW_PHYS);
}

TestSuite(backup, .init = setup, .fini = teardown);

/* The whole content of path (heap, NUL-terminated), its length in *len. */
static char *slurp(const char *path, size_t *len)
{
	char *data = NULL;

	cr_assert_eq(read_file(path, 1 << 26, &data, len), 0, "read %s", path);
	return data;
}

static void spit(const char *path, const char *data, size_t len)
{
	int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC, 0600);

	cr_assert_geq(fd, 0);
	cr_assert_eq(write_full(fd, data, len, false), 0);
	close(fd);
}

/* Takes a backup and returns its path in out. */
static void take(char *out, size_t len)
{
	char name[BACKUP_NAME_MAX];

	cr_assert_eq(backup_take(name), 0);
	cr_assert(backup_name_ok(name), "name %s", name);
	snprintf(out, len, "%s/%s", bkdir, name);
}

/* Refused: err says why (contains want), the live database and its directory unchanged. */
static void refused(const char *file, const char *want)
{
	char err[512] = "", pre[200], tmpf[200];
	size_t before_len, after_len;
	char *before, *after;

	store_close_thread();
	before = slurp(dbpath, &before_len);
	cr_assert_eq(backup_restore(file, dbpath, store_schema_max(), err, sizeof(err)), -1,
	             "%s was restored", file);
	cr_assert(strstr(err, want), "error \"%s\" lacks \"%s\"", err, want);
	after = slurp(dbpath, &after_len);
	cr_assert(before_len == after_len && memcmp(before, after, before_len) == 0,
	          "the database changed");
	snprintf(pre, sizeof(pre), "%s.pre-restore", dbpath);
	snprintf(tmpf, sizeof(tmpf), "%s.restore-tmp", dbpath);
	cr_assert_neq(access(pre, F_OK), 0, ".pre-restore written");
	cr_assert_neq(access(tmpf, F_OK), 0, ".restore-tmp left");
	free(before);
	free(after);
}

Test(backup, a_backup_holds_the_rows_and_passes_its_own_checks)
{
	char path[300], err[256] = "";

	take(path, sizeof(path));
	exec_sql("INSERT INTO users (username, role, email, password_hash, created_at) "
	         "VALUES ('bob', 'customer', 'b@example.net', 'x', 1)");
	cr_assert_eq(query_int("SELECT count(*) FROM users WHERE role='customer'"), 2);
	store_close_thread();
	cr_assert_eq(backup_restore(path, dbpath, store_schema_max(), err, sizeof(err)), 0, "%s",
	             err);
	cr_assert_eq(store_open(dbpath), 0);
	cr_assert_eq(query_int("SELECT count(*) FROM users WHERE role='customer'"), 1,
	             "the restore brings back the backup's rows only");
	store_close_thread();
	snprintf(path, sizeof(path), "%s.pre-restore", dbpath);
	cr_assert_eq(store_open(path), 0);
	cr_assert_eq(query_int("SELECT count(*) FROM users WHERE role='customer'"), 2,
	             ".pre-restore is the database before the restore");
}

Test(backup, names)
{
	cr_assert(backup_name_ok("xvps-20261207T102233Z.db"));
	cr_assert(backup_name_ok("xvps-20261207T102233Z-2.db"));
	cr_assert_not(backup_name_ok("../xvps.db"));
	cr_assert_not(backup_name_ok("xvps-..db"));
	cr_assert_not(backup_name_ok("xvps.db"));
	cr_assert_not(backup_name_ok("xvps-2026/x.db"));
	cr_assert_not(backup_name_ok(""));
	cr_assert_not(backup_name_ok(NULL));
}

Test(backup, a_truncated_file_is_refused)
{
	char path[300], bad[300];
	size_t len;
	char *data;

	take(path, sizeof(path));
	data = slurp(path, &len);
	snprintf(bad, sizeof(bad), "%s/half.db", tmp);
	spit(bad, data, len / 2);
	refused(bad, "truncated");
	spit(bad, data, len - 100);
	refused(bad, "truncated");
	spit(bad, data, 50);
	refused(bad, "not an SQLite database");
	free(data);
}

Test(backup, a_damaged_page_fails_integrity_check)
{
	char path[300], bad[300];
	size_t len;
	char *data;

	take(path, sizeof(path));
	data = slurp(path, &len);
	cr_assert_gt(len, 8192);
	/* Garbage over the second page (a table's b-tree page), the size still right. */
	memset(data + 4096, 0x5a, 4096);
	snprintf(bad, sizeof(bad), "%s/damaged.db", tmp);
	spit(bad, data, len);
	refused(bad, "integrity_check");
	free(data);
}

Test(backup, a_newer_schema_and_schema_0_are_refused)
{
	char path[300];
	sqlite3 *h;

	take(path, sizeof(path));
	cr_assert_eq(sqlite3_open(path, &h), SQLITE_OK);
	cr_assert_eq(sqlite3_exec(h, "PRAGMA user_version=9999", NULL, NULL, NULL), SQLITE_OK);
	sqlite3_close(h);
	refused(path, "newer than this xvpsd");
	cr_assert_eq(sqlite3_open(path, &h), SQLITE_OK);
	cr_assert_eq(sqlite3_exec(h, "PRAGMA user_version=0", NULL, NULL, NULL), SQLITE_OK);
	sqlite3_close(h);
	refused(path, "not an xvps database");
	refused("/nonexistent/xvps.db", "cannot open");
}

Test(backup, pruning_keeps_recent_backups_and_leaves_other_files)
{
	char path[300], old[300], other[300];
	json_object *list;

	snprintf(old, sizeof(old), "%s/xvps-20000101T000000Z.db", bkdir);
	cr_assert_eq(mkdir_p(bkdir, 0700), 0);
	spit(old, "x", 1);
	snprintf(other, sizeof(other), "%s/notes.txt", bkdir);
	spit(other, "x", 1);
	take(path, sizeof(path));
	cr_assert_eq(access(path, F_OK), 0, "the new backup was pruned");
	list = backup_list();
	cr_assert_not_null(list);
	cr_assert_eq(json_object_array_length(list), 1, "the year-2000 backup was not pruned");
	cr_assert_neq(access(old, F_OK), 0, "the year-2000 backup's file is still there");
	json_object_put(list);
	cr_assert_eq(access(other, F_OK), 0, "a file that is not a backup was deleted");
}

Test(backup, a_wal_mode_copy_restores_without_leaving_wal_files)
{
	char copy[300], side[320], err[256] = "";
	size_t len;
	char *data;

	/* A plain copy of the live database (WAL mode in its header), under an awkward name. */
	store_close_thread();
	data = slurp(dbpath, &len);
	snprintf(copy, sizeof(copy), "%s/a copy ?#%%.db", tmp);
	spit(copy, data, len);
	free(data);
	cr_assert_eq(backup_restore(copy, dbpath, store_schema_max(), err, sizeof(err)), 0, "%s",
	             err);
	snprintf(side, sizeof(side), "%s-shm", copy);
	cr_assert_neq(access(side, F_OK), 0, "the check wrote %s", side);
	snprintf(side, sizeof(side), "%s.restore-tmp-wal", dbpath);
	cr_assert_neq(access(side, F_OK), 0, "%s left", side);
	snprintf(side, sizeof(side), "%s.restore-tmp-shm", dbpath);
	cr_assert_neq(access(side, F_OK), 0, "%s left", side);
	cr_assert_eq(store_open(dbpath), 0);
	cr_assert_eq(query_int("SELECT count(*) FROM users WHERE role='customer'"), 1);
}
