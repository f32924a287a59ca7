/* store.h — xvpsd's SQLite store (store.c, schema.c): one connection per thread, cached
 * prepared statements, transactions, and the small query helpers every table's code shares.
 * Never builds SQL from data: callers pass string literals and bind values.
 * Return convention: int functions return 0 on success and -1 on error (logged); bool
 * functions return true on success (false: a database error, logged by SQLite's prepare or by
 * the caller); pointers are NULL on error. */
#ifndef XVPS_PANEL_STORE_H
#define XVPS_PANEL_STORE_H

#include <json-c/json.h>
#include <sqlite3.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* One SQLite connection per thread (opened lazily; WAL, foreign_keys=ON, busy_timeout 5 s,
 * extended result codes), statements prepared once per connection and cached by their SQL text
 * pointer, so pass string literals. Migrations run from store_open() in the main thread
 * (PRAGMA user_version). */
int store_open(const char *db_path); /* opens, migrates */
sqlite3 *db(void);                   /* this thread's connection, NULL on error */
/* Returns a reset, unbound, cached statement for sql on this thread's connection (NULL on a
 * prepare error, logged). Do not finalize it; it is reset again at the next db_stmt(). */
sqlite3_stmt *db_stmt(const char *sql);
int db_begin(void);     /* BEGIN IMMEDIATE */
int db_commit(void);    /* COMMIT (rolls back when it fails) */
void db_rollback(void); /* no-op when no transaction is open */
int64_t db_last_id(void);
void store_close_thread(void); /* closes this thread's connection */
/* Ends this thread's use of the store for now: resets every statement still stepping (a
 * statement left mid-result keeps a read snapshot open, so later reads would see stale data and
 * writes could fail with SQLITE_BUSY) and rolls back a transaction left open. http.c calls it
 * after every request; job workers should call it after every step. */
void db_release(void);
int store_user_version(void); /* PRAGMA user_version, or -1 */
int store_schema_max(void);   /* the user_version this build's migrations reach */
/* The store's change counter (issue 17): a value that differs from an earlier one whenever a
 * transaction was committed in between, by this process (SQLite's WAL hook) or, noticed through
 * this thread's PRAGMA data_version, by another. Read it BEFORE reading what it describes:
 * what is read afterwards is at least that new. Costs one PRAGMA (no table read). */
uint64_t store_generation(void);

/* ---- sizes of text columns read into fixed buffers (schema.c) ------------------------------- */
#define VPS_DOMAIN_MAX    32 /* vps.domain: "xvps-<id>" */
#define VPS_STATE_MAX     16 /* vps.state: "provisioning", "running", "deleting" ... */
#define TEMPLATE_NAME_MAX 32 /* a template's image name: "tpl-<id>" */
#define JOB_STEP_MAX      32 /* jobs.step: "ensure", "rollback" ... */

/* ---- query helpers (store.c) ---------------------------------------------------------------- */
/* Runs sql ("SELECT count(*) ...", with id bound to ?1 when it has a parameter; pass 0 when it
 * has none) and sets *count_out to its value. False on a DB error (logged; *count_out 0). */
bool db_count(const char *sql, int64_t id, int64_t *count_out);
/* Runs sql ("SELECT 1 ... WHERE x=? LIMIT 1") with id bound to its one parameter; *exists_out
 * is true when it returns a row. False on a DB error. */
bool db_exists_id(const char *sql, int64_t id, bool *exists_out);
/* Runs sql (an UPDATE or DELETE "... WHERE id=?") with id bound to its one parameter. True
 * when it ran to completion (also when it changed no row). */
bool db_exec_id(const char *sql, int64_t id);
/* Runs st (a statement from db_stmt() with its parameters bound; NULL allowed) to completion and
 * resets it. False when st is NULL or the step failed (logged with the statement's SQL). */
bool db_step_done(sqlite3_stmt *st);
/* Binds id as ?1 of st (a statement from db_stmt() whose other parameters are bound already) and
 * runs it to completion. False when st is NULL or the step failed (logged). */
bool db_run_id(sqlite3_stmt *st, int64_t id);
/* Steps st (bound) and collects its first column into a heap array *ids_out (free() it) of
 * *n_out ids. 0, or -1 on a database error or out of memory (logged; nothing allocated). */
int db_collect_ids(sqlite3_stmt *st, int64_t **ids_out, size_t *n_out);
/* True when the last statement of this thread failed on a UNIQUE constraint
 * (SQLITE_CONSTRAINT_UNIQUE), false for every other outcome. */
bool db_unique_violation(void);
/* Copies text column col of st into out (size bytes, NUL-terminated, truncated; "" for NULL). */
void db_col_text(sqlite3_stmt *st, int col, char *out, size_t size);
/* A nullable integer column as JSON (null or int). */
json_object *json_col_int_or_null(sqlite3_stmt *st, int col);

#endif
