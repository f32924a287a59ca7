/* store.c — xvpsd's SQLite store: one connection per thread (WAL, foreign keys, busy timeout),
 * a per-connection cache of prepared statements keyed by their SQL text pointer, and the schema
 * migrations of schema.c. Never builds SQL from data: callers bind values to cached statements. */
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "../common/util.h"
#include "schema.h"
#include "store.h"

#define STORE_PATH_MAX 1024 /* the database path */

/* One cached statement: open addressing, linear probing, keyed by the SQL pointer. */
typedef struct stmt_slot {
	const char *sql;
	sqlite3_stmt *st;
} stmt_slot;

typedef struct store_conn {
	sqlite3 *db;
	stmt_slot *slots;
	size_t cap; /* power of two */
	size_t used;
	int64_t data_version; /* PRAGMA data_version last seen by store_generation(), -1: never */
} store_conn;

static char g_db_path[STORE_PATH_MAX];
static pthread_key_t g_conn_key;
static pthread_once_t g_key_once = PTHREAD_ONCE_INIT;
static _Thread_local store_conn *tl_conn;
/* store_generation(): moves after every commit of this process and on every commit of another
 * process this one notices. */
static _Atomic uint64_t g_generation = 1;

/* SQLite calls this after each commit in WAL mode (the commit is visible to every new read):
 * the generation moves, then the automatic checkpoint this hook replaces (SQLite's default
 * wal_autocheckpoint: a passive checkpoint once the WAL holds 1,000 pages). */
static int wal_committed(void *cls, sqlite3 *h, const char *dbname, int pages)
{
	(void)cls;
	atomic_fetch_add(&g_generation, 1);
	if (pages >= 1000)
		sqlite3_wal_checkpoint_v2(h, dbname, SQLITE_CHECKPOINT_PASSIVE, NULL, NULL);
	return SQLITE_OK;
}

static void conn_free(store_conn *c)
{
	if (!c)
		return;
	for (size_t i = 0; i < c->cap; i++)
		if (c->slots[i].st)
			sqlite3_finalize(c->slots[i].st);
	free(c->slots);
	if (c->db)
		sqlite3_close_v2(c->db);
	free(c);
}

/* pthread key destructor: a thread that ends frees its connection. */
static void conn_destructor(void *p)
{
	conn_free(p);
}

static void key_init(void)
{
	if (pthread_key_create(&g_conn_key, conn_destructor) != 0)
		log_error("store: pthread_key_create failed");
}

static int exec_pragma(sqlite3 *h, const char *sql)
{
	char *err = NULL;

	if (sqlite3_exec(h, sql, NULL, NULL, &err) != SQLITE_OK) {
		log_error("store: %s: %s", sql, err ? err : sqlite3_errmsg(h));
		sqlite3_free(err);
		return -1;
	}
	return 0;
}

/* Creates the database file with mode 0600 before SQLite opens it (SQLite gives the -wal and
 * -shm files the same permissions as the database). */
static int ensure_db_file(const char *path)
{
	int fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600);

	if (fd < 0) {
		log_error("store: open %s: %s", path, strerror(errno));
		return -1;
	}
	if (fchmod(fd, 0600) != 0)
		log_warn("store: fchmod %s: %s", path, strerror(errno));
	close(fd);
	return 0;
}

/* Each thread's connection keeps its own page cache (SQLite's default: 2 MiB each, a dozen
 * threads): 1 MiB each, the rest read again from the kernel's page cache when needed (answers
 * are cached between commits; issue 17 item 1's peak RSS). */
#define STORE_CACHE_KIB "1024"

static store_conn *conn_open(void)
{
	store_conn *c;
	int r;

	if (!g_db_path[0]) {
		log_error("store: db() before store_open()");
		return NULL;
	}
	c = calloc(1, sizeof(*c));
	if (!c)
		return NULL;
	c->cap = 64;
	c->slots = calloc(c->cap, sizeof(*c->slots));
	if (!c->slots) {
		free(c);
		return NULL;
	}
	/* One connection per thread, never shared: SQLite's per-connection mutex is not needed. */
	r = sqlite3_open_v2(g_db_path, &c->db,
	                    SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX, NULL);
	if (r != SQLITE_OK) {
		log_error("store: open %s: %s", g_db_path,
		          c->db ? sqlite3_errmsg(c->db) : sqlite3_errstr(r));
		conn_free(c);
		return NULL;
	}
	sqlite3_extended_result_codes(c->db, 1);
	if (sqlite3_busy_timeout(c->db, 5000) != SQLITE_OK ||
	    exec_pragma(c->db, "PRAGMA journal_mode=WAL") != 0 ||
	    exec_pragma(c->db, "PRAGMA synchronous=NORMAL") != 0 ||
	    exec_pragma(c->db, "PRAGMA foreign_keys=ON") != 0 ||
	    exec_pragma(c->db, "PRAGMA cache_size=-" STORE_CACHE_KIB) != 0) {
		conn_free(c);
		return NULL;
	}
	c->data_version = -1;
	sqlite3_wal_hook(c->db, wal_committed, NULL);
	return c;
}

sqlite3 *db(void)
{
	if (tl_conn)
		return tl_conn->db;
	pthread_once(&g_key_once, key_init);
	tl_conn = conn_open();
	if (!tl_conn)
		return NULL;
	pthread_setspecific(g_conn_key, tl_conn);
	return tl_conn->db;
}

uint64_t store_generation(void)
{
	sqlite3_stmt *st = db_stmt("PRAGMA data_version");
	int64_t v;

	if (!st)
		return atomic_fetch_add(&g_generation, 1) + 1; /* unknown: assume a change */
	if (sqlite3_step(st) != SQLITE_ROW) {
		sqlite3_reset(st);
		return atomic_fetch_add(&g_generation, 1) + 1;
	}
	v = sqlite3_column_int64(st, 0);
	sqlite3_reset(st);
	/* Another connection committed since this one last looked (or this one never looked):
	 * another process perhaps, which no hook of ours saw. */
	if (v != tl_conn->data_version) {
		tl_conn->data_version = v;
		atomic_fetch_add(&g_generation, 1);
	}
	return atomic_load(&g_generation);
}

void store_close_thread(void)
{
	if (!tl_conn)
		return;
	pthread_setspecific(g_conn_key, NULL);
	conn_free(tl_conn);
	tl_conn = NULL;
}

static size_t slot_hash(const char *sql, size_t cap)
{
	uintptr_t h = (uintptr_t)sql;

	h ^= h >> 17;
	h *= (uintptr_t)0x9e3779b97f4a7c15ULL;
	h ^= h >> 29;
	return (size_t)h & (cap - 1);
}

static int cache_grow(store_conn *c)
{
	size_t ncap = c->cap * 2;
	stmt_slot *ns = calloc(ncap, sizeof(*ns));

	if (!ns)
		return -1;
	for (size_t i = 0; i < c->cap; i++) {
		size_t j;

		if (!c->slots[i].sql)
			continue;
		j = slot_hash(c->slots[i].sql, ncap);
		while (ns[j].sql)
			j = (j + 1) & (ncap - 1);
		ns[j] = c->slots[i];
	}
	free(c->slots);
	c->slots = ns;
	c->cap = ncap;
	return 0;
}

sqlite3_stmt *db_stmt(const char *sql)
{
	store_conn *c;
	sqlite3_stmt *st = NULL;
	size_t i;

	if (!db())
		return NULL;
	c = tl_conn;
	i = slot_hash(sql, c->cap);
	while (c->slots[i].sql) {
		if (c->slots[i].sql == sql) {
			st = c->slots[i].st;
			sqlite3_reset(st);
			sqlite3_clear_bindings(st);
			return st;
		}
		i = (i + 1) & (c->cap - 1);
	}
	if (sqlite3_prepare_v3(c->db, sql, -1, SQLITE_PREPARE_PERSISTENT, &st, NULL) != SQLITE_OK) {
		log_error("store: prepare \"%s\": %s", sql, sqlite3_errmsg(c->db));
		sqlite3_finalize(st);
		return NULL;
	}
	if ((c->used + 1) * 2 > c->cap) {
		if (cache_grow(c) != 0) {
			sqlite3_finalize(st);
			return NULL;
		}
		i = slot_hash(sql, c->cap);
		while (c->slots[i].sql)
			i = (i + 1) & (c->cap - 1);
	}
	c->slots[i].sql = sql;
	c->slots[i].st = st;
	c->used++;
	return st;
}

void db_release(void)
{
	sqlite3_stmt *st = NULL;

	if (!tl_conn)
		return;
	while ((st = sqlite3_next_stmt(tl_conn->db, st)))
		if (sqlite3_stmt_busy(st))
			sqlite3_reset(st);
	if (!sqlite3_get_autocommit(tl_conn->db)) {
		log_warn("store: a transaction was left open; rolling back");
		db_rollback();
	}
}

int db_begin(void)
{
	sqlite3 *h = db();

	if (!h)
		return -1;
	return exec_pragma(h, "BEGIN IMMEDIATE");
}

int db_commit(void)
{
	sqlite3 *h = db();

	if (!h)
		return -1;
	if (exec_pragma(h, "COMMIT") != 0) {
		db_rollback();
		return -1;
	}
	return 0;
}

void db_rollback(void)
{
	sqlite3 *h = db();

	/* After some errors SQLite has already rolled back: nothing to do then. */
	if (h && !sqlite3_get_autocommit(h))
		sqlite3_exec(h, "ROLLBACK", NULL, NULL, NULL);
}

int64_t db_last_id(void)
{
	sqlite3 *h = db();

	return h ? (int64_t)sqlite3_last_insert_rowid(h) : 0;
}

int store_user_version(void)
{
	sqlite3_stmt *st = db_stmt("PRAGMA user_version");
	int v;

	if (!st || sqlite3_step(st) != SQLITE_ROW)
		return -1;
	v = sqlite3_column_int(st, 0);
	/* Not left stepping: a pending statement makes a migration's DROP TABLE fail (LOCKED). */
	sqlite3_reset(st);
	return v;
}

int store_schema_max(void)
{
	return (int)xvps_migration_count();
}

static int migrate(void)
{
	sqlite3 *h = db();
	int version, n = (int)xvps_migration_count();

	version = store_user_version();
	if (version < 0)
		return -1;
	if (version > n) {
		log_error("store: database schema version %d is newer than this xvpsd (%d)",
		          version, n);
		return -1;
	}
	for (int i = version; i < n; i++) {
		char *err = NULL;
		char pragma[sizeof("PRAGMA user_version = -2147483648")];

		if (db_begin() != 0)
			return -1;
		if (sqlite3_exec(h, xvps_migration((size_t)i), NULL, NULL, &err) != SQLITE_OK) {
			log_error("store: migration %d: %s", i + 1, err ? err : sqlite3_errmsg(h));
			sqlite3_free(err);
			db_rollback();
			return -1;
		}
		/* PRAGMA takes no bound parameters; the value is our own loop counter. */
		snprintf(pragma, sizeof(pragma), "PRAGMA user_version = %d", i + 1);
		if (exec_pragma(h, pragma) != 0) {
			db_rollback();
			return -1;
		}
		if (db_commit() != 0)
			return -1;
		log_info("store: applied migration %d", i + 1);
	}
	return 0;
}

int store_open(const char *db_path)
{
	if (!db_path || strlen(db_path) >= sizeof(g_db_path)) {
		log_error("store: database path too long");
		return -1;
	}
	/* Reopening (tests, or a new path): this thread starts over with a fresh connection. */
	store_close_thread();
	snprintf(g_db_path, sizeof(g_db_path), "%s", db_path);
	if (ensure_db_file(db_path) != 0)
		return -1;
	if (!db())
		return -1;
	if (migrate() != 0) {
		store_close_thread();
		return -1;
	}
	db_release();
	return 0;
}

/* ---- query helpers ------------------------------------------------------------------------ */

bool db_count(const char *sql, int64_t id, int64_t *count_out)
{
	sqlite3_stmt *st = db_stmt(sql);
	int r;

	*count_out = 0;
	if (!st)
		return false;
	if (sqlite3_bind_parameter_count(st) > 0)
		sqlite3_bind_int64(st, 1, id);
	r = sqlite3_step(st);
	if (r == SQLITE_ROW)
		*count_out = sqlite3_column_int64(st, 0);
	else
		log_error("store: \"%s\": %s", sql, sqlite3_errmsg(db()));
	sqlite3_reset(st);
	return r == SQLITE_ROW;
}
bool db_exists_id(const char *sql, int64_t id, bool *exists_out)
{
	sqlite3_stmt *st = db_stmt(sql);

	*exists_out = false;
	if (!st)
		return false;
	sqlite3_bind_int64(st, 1, id);
	*exists_out = sqlite3_step(st) == SQLITE_ROW;
	sqlite3_reset(st);
	return true;
}

bool db_step_done(sqlite3_stmt *st)
{
	int r;

	if (!st)
		return false;
	r = sqlite3_step(st);
	sqlite3_reset(st);
	if (r != SQLITE_DONE) {
		log_error("store: \"%s\": %s", sqlite3_sql(st), sqlite3_errmsg(db()));
		return false;
	}
	return true;
}

bool db_run_id(sqlite3_stmt *st, int64_t id)
{
	if (!st)
		return false;
	sqlite3_bind_int64(st, 1, id);
	return db_step_done(st);
}

bool db_exec_id(const char *sql, int64_t id)
{
	return db_run_id(db_stmt(sql), id);
}

int db_collect_ids(sqlite3_stmt *st, int64_t **ids_out, size_t *n_out)
{
	int64_t *ids = NULL;
	size_t n = 0, cap = 0;
	int r;

	while ((r = sqlite3_step(st)) == SQLITE_ROW) {
		if (n == cap) {
			size_t ncap = cap ? cap * 2 : 8;
			int64_t *nids = realloc(ids, ncap * sizeof(*ids));

			if (!nids) {
				r = SQLITE_NOMEM;
				break;
			}
			ids = nids;
			cap = ncap;
		}
		ids[n++] = sqlite3_column_int64(st, 0);
	}
	sqlite3_reset(st);
	if (r != SQLITE_DONE) {
		log_error("store: collecting ids: %s",
		          r == SQLITE_NOMEM ? "out of memory" : sqlite3_errmsg(db()));
		free(ids);
		return -1;
	}
	*ids_out = ids;
	*n_out = n;
	return 0;
}

bool db_unique_violation(void)
{
	sqlite3 *h = db();

	return h && sqlite3_extended_errcode(h) == SQLITE_CONSTRAINT_UNIQUE;
}

void db_col_text(sqlite3_stmt *st, int col, char *out, size_t size)
{
	const unsigned char *t = sqlite3_column_text(st, col);

	snprintf(out, size, "%s", t ? (const char *)t : "");
}

json_object *json_col_int_or_null(sqlite3_stmt *st, int col)
{
	if (sqlite3_column_type(st, col) == SQLITE_NULL)
		return NULL;
	return json_object_new_int64(sqlite3_column_int64(st, col));
}
