/* test_store.c — panel/store.c against a real SQLite file in a mkdtemp() directory: migrations
 * and user_version, reopening, the statement cache, per-thread connections. */
#include <criterion/criterion.h>
#include <ftw.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include "../../panel/config.h"
#include "../../panel/store.h"

#include "../../panel/schema.h"

static char tmp[64];
static char dbpath[128];

static int rm_one(const char *p, const struct stat *sb, int flag, struct FTW *ftw)
{
	return remove(p);
}

static void setup(void)
{
	snprintf(tmp, sizeof(tmp), "/tmp/xvps-store-XXXXXX");
	cr_assert_not_null(mkdtemp(tmp));
	snprintf(dbpath, sizeof(dbpath), "%s/xvps.db", tmp);
}

static void teardown(void)
{
	store_close_thread();
	nftw(tmp, rm_one, 8, FTW_DEPTH | FTW_PHYS);
}

TestSuite(store, .init = setup, .fini = teardown);

static int migration_count(void)
{
	int n = 0;

	while (xvps_migration(n))
		n++;
	return n;
}

static int64_t count_users(void)
{
	sqlite3_stmt *st = db_stmt("SELECT count(*) FROM users");
	int64_t n;

	cr_assert_not_null(st);
	cr_assert_eq(sqlite3_step(st), SQLITE_ROW);
	n = sqlite3_column_int64(st, 0);
	sqlite3_reset(st);
	return n;
}

Test(store, migrations_set_user_version_to_their_count)
{
	cr_assert_eq(store_open(dbpath), 0);
	cr_assert_gt(migration_count(), 0);
	cr_assert_eq(store_user_version(), migration_count());
	cr_assert_eq(count_users(), 0, "the users table exists and is empty");
}

Test(store, database_file_is_private)
{
	struct stat st;

	cr_assert_eq(store_open(dbpath), 0);
	cr_assert_eq(stat(dbpath, &st), 0);
	cr_assert_eq(st.st_mode & 0777, 0600);
}

Test(store, connection_uses_wal_and_foreign_keys)
{
	sqlite3_stmt *st;

	cr_assert_eq(store_open(dbpath), 0);
	st = db_stmt("PRAGMA journal_mode");
	cr_assert_eq(sqlite3_step(st), SQLITE_ROW);
	cr_assert_str_eq((const char *)sqlite3_column_text(st, 0), "wal");
	st = db_stmt("PRAGMA foreign_keys");
	cr_assert_eq(sqlite3_step(st), SQLITE_ROW);
	cr_assert_eq(sqlite3_column_int(st, 0), 1);
	/* A session for a user that does not exist violates its foreign key. */
	st = db_stmt("INSERT INTO sessions (token_hash, user_id, csrf_token, created_at, "
	             "expires_at) VALUES ('x', 999, 'c', 0, 1)");
	cr_assert_eq(sqlite3_step(st) & 0xff, SQLITE_CONSTRAINT);
}

Test(store, reopening_keeps_data_and_version)
{
	sqlite3_stmt *st;

	cr_assert_eq(store_open(dbpath), 0);
	st = db_stmt("INSERT INTO users (username, password_hash, role, created_at) "
	             "VALUES ('alice', 'x', 'customer', 1)");
	cr_assert_eq(sqlite3_step(st), SQLITE_DONE);
	store_close_thread();

	cr_assert_eq(store_open(dbpath), 0);
	cr_assert_eq(store_user_version(), migration_count());
	cr_assert_eq(count_users(), 1, "reopening must not re-run migrations");
	cr_assert_eq(store_open(dbpath), 0, "a second open on the same thread is fine too");
	cr_assert_eq(count_users(), 1);
}

Test(store, refuses_a_newer_schema)
{
	sqlite3_stmt *st;

	cr_assert_eq(store_open(dbpath), 0);
	st = db_stmt("PRAGMA user_version = 999");
	cr_assert_eq(sqlite3_step(st), SQLITE_DONE);
	store_close_thread();
	cr_assert_eq(store_open(dbpath), -1);
}

Test(store, stmt_cache_returns_the_same_statement_reset_and_unbound)
{
	static const char sql[] = "SELECT ?1";
	sqlite3_stmt *a, *b;

	cr_assert_eq(store_open(dbpath), 0);
	a = db_stmt(sql);
	cr_assert_not_null(a);
	sqlite3_bind_int(a, 1, 42);
	cr_assert_eq(sqlite3_step(a), SQLITE_ROW);
	cr_assert_eq(sqlite3_column_int(a, 0), 42);
	cr_assert(sqlite3_stmt_busy(a));

	b = db_stmt(sql);
	cr_assert_eq(a, b, "cached by SQL pointer");
	cr_assert_not(sqlite3_stmt_busy(b), "handed out reset");
	cr_assert_eq(sqlite3_step(b), SQLITE_ROW);
	cr_assert_eq(sqlite3_column_type(b, 0), SQLITE_NULL, "bindings cleared");
}

Test(store, stmt_cache_grows_past_its_first_table)
{
	enum { N = 300 };
	static char sqls[N][32];
	sqlite3_stmt *st[N];

	cr_assert_eq(store_open(dbpath), 0);
	for (int i = 0; i < N; i++) {
		snprintf(sqls[i], sizeof(sqls[i]), "SELECT %d", i);
		st[i] = db_stmt(sqls[i]);
		cr_assert_not_null(st[i]);
	}
	for (int i = 0; i < N; i++) {
		cr_assert_eq(db_stmt(sqls[i]), st[i], "statement %d still cached", i);
		cr_assert_eq(sqlite3_step(st[i]), SQLITE_ROW);
		cr_assert_eq(sqlite3_column_int(st[i], 0), i);
	}
}

Test(store, bad_sql_gives_null)
{
	cr_assert_eq(store_open(dbpath), 0);
	cr_assert_null(db_stmt("SELEKT nothing"));
}

Test(store, db_release_ends_a_stale_read_snapshot)
{
	static const char sel[] = "SELECT id FROM users";
	sqlite3_stmt *st;

	cr_assert_eq(store_open(dbpath), 0);
	st = db_stmt("INSERT INTO users (username, password_hash, role, created_at) "
	             "VALUES ('a', 'x', 'customer', 1), ('b', 'x', 'customer', 1)");
	cr_assert_eq(sqlite3_step(st), SQLITE_DONE);
	st = db_stmt(sel);
	cr_assert_eq(sqlite3_step(st), SQLITE_ROW); /* left mid-result */
	db_release();
	cr_assert_not(sqlite3_stmt_busy(st));
	cr_assert(sqlite3_get_autocommit(db()));
}

Test(store, transactions_commit_and_roll_back)
{
	sqlite3_stmt *st;

	cr_assert_eq(store_open(dbpath), 0);
	cr_assert_eq(db_begin(), 0);
	st = db_stmt("INSERT INTO users (username, password_hash, role, created_at) "
	             "VALUES ('rolled', 'x', 'customer', 1)");
	cr_assert_eq(sqlite3_step(st), SQLITE_DONE);
	cr_assert_gt(db_last_id(), 0);
	db_rollback();
	cr_assert_eq(count_users(), 0);

	cr_assert_eq(db_begin(), 0);
	st = db_stmt("INSERT INTO users (username, password_hash, role, created_at) "
	             "VALUES ('kept', 'x', 'customer', 1)");
	cr_assert_eq(sqlite3_step(st), SQLITE_DONE);
	cr_assert_eq(db_commit(), 0);
	cr_assert_eq(count_users(), 1);
}

static void *thread_reader(void *arg)
{
	int64_t *out = arg;

	*out = count_users(); /* opens this thread's own connection, freed at thread exit */
	return NULL;
}

Test(store, each_thread_gets_its_own_connection_to_the_same_database)
{
	sqlite3_stmt *st;
	pthread_t t;
	int64_t seen = -1;

	cr_assert_eq(store_open(dbpath), 0);
	st = db_stmt("INSERT INTO users (username, password_hash, role, created_at) "
	             "VALUES ('alice', 'x', 'customer', 1)");
	cr_assert_eq(sqlite3_step(st), SQLITE_DONE);
	sqlite3_reset(st);
	cr_assert_eq(pthread_create(&t, NULL, thread_reader, &seen), 0);
	cr_assert_eq(pthread_join(t, NULL), 0);
	cr_assert_eq(seen, 1);
}

/* Issue 14 item 4: API keys made before scopes existed keep their user's full rights. */
Test(store, api_keys_made_before_scopes_keep_their_users_full_rights)
{
	int k = 0, n = migration_count();
	sqlite3 *h;
	sqlite3_stmt *st;
	char pragma[48];

	while (k < n && !strstr(xvps_migration(k), "ADD COLUMN scopes"))
		k++;
	cr_assert_lt(k, n, "no migration adds api_keys.scopes");
	cr_assert_eq(sqlite3_open(dbpath, &h), SQLITE_OK);
	for (int i = 0; i < k; i++)
		cr_assert_eq(sqlite3_exec(h, xvps_migration(i), NULL, NULL, NULL), SQLITE_OK,
		             "migration %d: %s", i + 1, sqlite3_errmsg(h));
	snprintf(pragma, sizeof(pragma), "PRAGMA user_version = %d", k);
	cr_assert_eq(
	        sqlite3_exec(
	                h,
	                "INSERT INTO users (id, username, password_hash, role, created_at) "
	                "VALUES (1, 'admin', 'x', 'admin', 1), (2, 'cust', 'x', 'customer', 1);"
	                "INSERT INTO api_keys (user_id, name, token_hash, created_at) VALUES "
	                "(1, 'a', 'h1', 1), (2, 'c', 'h2', 1);",
	                NULL, NULL, NULL),
	        SQLITE_OK, "%s", sqlite3_errmsg(h));
	cr_assert_eq(sqlite3_exec(h, pragma, NULL, NULL, NULL), SQLITE_OK);
	sqlite3_close(h);

	cr_assert_eq(store_open(dbpath), 0);
	st = db_stmt("SELECT user_id, scopes, expires_at IS NULL FROM api_keys ORDER BY user_id");
	cr_assert_not_null(st);
	cr_assert_eq(sqlite3_step(st), SQLITE_ROW);
	cr_assert_eq(sqlite3_column_int(st, 1), 15, "the admin's key: all four scopes");
	cr_assert_eq(sqlite3_column_int(st, 2), 1, "no expiry");
	cr_assert_eq(sqlite3_step(st), SQLITE_ROW);
	cr_assert_eq(sqlite3_column_int(st, 1), 3, "the customer's key: read-only and vps");
	sqlite3_reset(st);
}
