/* panel_testdb.c — the SQLite helpers the panel's unit suites share (panel_testdb.h): run SQL on
 * this thread's store connection as an assertion, read one integer, remove a test's directory
 * with nftw. Test code only; linked into unit-panel. */
#define _XOPEN_SOURCE 700
#include <criterion/criterion.h>
#include <ftw.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>

#include "../../panel/store.h"
#include "panel_testdb.h"

int rm_one(const char *path, const struct stat *sb, int flag, struct FTW *ftw)
{
	(void)sb;
	(void)flag;
	(void)ftw;
	return remove(path);
}

void testdb_open(char *tmp, size_t len, const char *tag)
{
	char path[PATH_MAX];

	snprintf(tmp, len, "/tmp/xvps-%s-XXXXXX", tag);
	cr_assert_not_null(mkdtemp(tmp));
	snprintf(path, sizeof(path), "%s/xvps.db", tmp);
	cr_assert_eq(store_open(path), 0);
}

void testdb_close(const char *tmp)
{
	store_close_thread();
	nftw(tmp, rm_one, 8, FTW_DEPTH | FTW_PHYS);
}

void exec_sql(const char *sql)
{
	char *err = NULL;

	cr_assert_eq(sqlite3_exec(db(), sql, NULL, NULL, &err), SQLITE_OK, "%s: %s", sql,
	             err ? err : "");
}

int64_t query_int(const char *sql)
{
	sqlite3_stmt *st = NULL;
	int64_t v = -1;

	cr_assert_eq(sqlite3_prepare_v2(db(), sql, -1, &st, NULL), SQLITE_OK, "%s", sql);
	if (sqlite3_step(st) == SQLITE_ROW)
		v = sqlite3_column_type(st, 0) == SQLITE_NULL ? -2 : sqlite3_column_int64(st, 0);
	sqlite3_finalize(st);
	return v;
}

void testdb_base_rows(void)
{
	exec_sql("INSERT INTO users(id, username, password_hash, role, created_at) "
	         "VALUES(1, 'alice', 'x', 'customer', 0);"
	         "INSERT INTO plans(id, name, vcpus, memory_mib, disk_gib, created_at) "
	         "VALUES(1, 'p', 1, 256, 2, 0);"
	         "INSERT INTO templates(id, name, os, disk_gib, boot, created_at) "
	         "VALUES(1, 't', 'debian', 1, 'pvh', 0);");
}
