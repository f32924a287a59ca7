/* ledger.h — the usage ledger (ledger.c): per-VPS samples of CPU ns, bytes, packets, running
 * seconds and disk GiB-seconds, rolled up into 5-minute, hourly, daily and billing-period rows,
 * all integers in base units. It only reads and writes the usage_* tables through the sqlite3
 * handle the caller passes (the schema is panel/schema.c's); it never talks to the agent, never
 * reads a clock (the caller passes "now") and keeps no state outside the database.
 *
 * Tables (panel/schema.c, docs/architecture.md "The usage ledger"):
 *   usage_samples  one row per VPS per metering sweep: the deltas of that sweep, written in the
 *                  sweep's transaction; t_start = the VPS's previous sample's t_end. Kept 48 h.
 *   usage_rollups  (vps_id, granularity, bucket_start) -> sums; '5m' from samples, '1h' from
 *                  '5m', '1d' from '1h', 'period' from '1d'. Kept forever. Only closed buckets
 *                  are written; a row, once its bucket is closed, never changes.
 *   usage_cursor   per VPS: its last sample's t_end, customer and anchor (creation time).
 *   usage_state    the rollup watermarks done_5m/done_1h/done_1d (every bucket before one is
 *                  final) and last_t_end (the latest t_end written: sample times never go back).
 * No foreign key anywhere: rows outlive the VPS, its customer and its plan. Rollups have no
 * index but their primary key (vps_id, granularity, bucket_start), to keep them small (make
 * bench: bytes per VPS per day): rollups and customer series go VPS by VPS, by usage_cursor.
 * A sample belongs to the bucket holding its t_end (its whole delta: nothing is split).
 * Return convention: int functions return 0 on success, -1 on a database error (the caller logs
 * sqlite3_errmsg(db)). */
#ifndef XVPS_BILLING_LEDGER_H
#define XVPS_BILLING_LEDGER_H

#include <sqlite3.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "period.h"

#define BILLING_SAMPLE_KEEP_S (48 * 3600) /* raw samples are deleted after 48 h */
#define BILLING_POINTS_MAX    10000       /* the most buckets one series may have */

/* The ledger's tables: panel/schema.c's migration 7 is this text, and the unit tests create
 * their databases with it. It has shipped once merged: never edit it, add a migration. */
#define BILLING_LEDGER_SCHEMA                                                                      \
	"CREATE TABLE usage_samples ("                                                             \
	"  id INTEGER PRIMARY KEY,"                                                                \
	"  vps_id INTEGER NOT NULL," /* no foreign keys: rows outlive VPS, customer, plan */       \
	"  customer_id INTEGER NOT NULL,"                                                          \
	"  plan_id INTEGER NOT NULL,"                                                              \
	"  t_start INTEGER NOT NULL,"                                                              \
	"  t_end INTEGER NOT NULL,"                                                                \
	"  disk_gib INTEGER NOT NULL,"                                                             \
	"  cpu_ns INTEGER NOT NULL,"                                                               \
	"  rx_bytes INTEGER NOT NULL,"                                                             \
	"  tx_bytes INTEGER NOT NULL,"                                                             \
	"  rx_packets INTEGER NOT NULL,"                                                           \
	"  tx_packets INTEGER NOT NULL,"                                                           \
	"  running_s INTEGER NOT NULL,"                                                            \
	"  disk_gib_s INTEGER NOT NULL);"                                                          \
	"CREATE INDEX usage_samples_t ON usage_samples(t_end);"                                    \
	"CREATE INDEX usage_samples_vps ON usage_samples(vps_id, t_end);"                          \
	"CREATE TABLE usage_rollups ("                                                             \
	"  vps_id INTEGER NOT NULL,"                                                               \
	"  customer_id INTEGER NOT NULL,"                                                          \
	"  granularity TEXT NOT NULL CHECK (granularity IN ('5m','1h','1d','period')),"            \
	"  bucket_start INTEGER NOT NULL,"                                                         \
	"  cpu_ns INTEGER NOT NULL,"                                                               \
	"  rx_bytes INTEGER NOT NULL,"                                                             \
	"  tx_bytes INTEGER NOT NULL,"                                                             \
	"  rx_packets INTEGER NOT NULL,"                                                           \
	"  tx_packets INTEGER NOT NULL,"                                                           \
	"  running_s INTEGER NOT NULL,"                                                            \
	"  disk_gib_s INTEGER NOT NULL,"                                                           \
	"  PRIMARY KEY (vps_id, granularity, bucket_start)) WITHOUT ROWID;"                        \
	"CREATE TABLE usage_cursor ("                                                              \
	"  vps_id INTEGER PRIMARY KEY,"                                                            \
	"  customer_id INTEGER NOT NULL,"                                                          \
	"  anchor INTEGER NOT NULL,"                                                               \
	"  t_end INTEGER NOT NULL);"                                                               \
	"CREATE INDEX usage_cursor_customer ON usage_cursor(customer_id);"                         \
	"CREATE TABLE usage_state ("                                                               \
	"  name TEXT PRIMARY KEY,"                                                                 \
	"  value INTEGER NOT NULL);"

/* Sums over an interval, base units. disk_gib_s: GiB allocated x seconds (bill GiB-months as
 * disk_gib_s / (period length)); running_s: seconds the VPS was in state running. */
typedef struct billing_usage {
	int64_t cpu_ns, rx_bytes, tx_bytes, rx_packets, tx_packets, running_s, disk_gib_s;
} billing_usage;

typedef enum { BILLING_G_5M, BILLING_G_1H, BILLING_G_1D, BILLING_G_PERIOD } billing_gran;

/* What the metering sweep knows of one VPS (counter deltas since the last sweep, already
 * corrected for counter resets) ; billing_ledger_record fills in the times. */
typedef struct billing_sample {
	int64_t vps_id, customer_id, plan_id;
	int64_t anchor;   /* the VPS's creation time (unix s): its anniversary day */
	int64_t disk_gib; /* allocated at sample time */
	bool running;     /* in state running at sample time: the interval counts as running */
	int64_t cpu_ns, rx_bytes, tx_bytes, rx_packets, tx_packets; /* deltas, >= 0 */
} billing_sample;

/* One input item of a rollup: a sample (t = t_end) or a finer rollup row (t = bucket_start). */
typedef struct billing_item {
	int64_t vps_id, customer_id, t;
	billing_usage u;
} billing_item;

/* One rollup row: the sums of the items of one VPS in [bucket_start, bucket_start + step). */
typedef struct billing_row {
	int64_t vps_id, customer_id, bucket_start;
	billing_usage u;
} billing_row;

/* Statements. By default every function prepares its statements on the db it is given and
 * finalizes them. A program with a per-thread statement cache (xvpsd: panel/store.c's db_stmt)
 * installs it once, before any thread starts: fn(sql) must return a reset, unbound statement
 * of the same connection as the db passed to these functions, prepared once and cached by the
 * SQL text's pointer (every SQL text here is a string literal); the ledger then resets its
 * statements instead of finalizing them. */
typedef sqlite3_stmt *(*billing_stmt_fn)(const char *sql);
void billing_use_stmt_cache(billing_stmt_fn fn);

#define BILLING_USAGE_N 7 /* the fields of billing_usage, in USAGE_COLS' order (ledger.c) */
/* The i-th field (0..BILLING_USAGE_N-1: cpu_ns, rx_bytes, tx_bytes, rx_packets, tx_packets,
 * running_s, disk_gib_s) of u (usage.c). */
int64_t *billing_usage_field(billing_usage *u, int i);
/* acc += u, field by field, saturating at INT64_MAX. */
void billing_usage_add(billing_usage *acc, const billing_usage *u);
/* Parses "5m", "1h", "1d" (the API's steps; "period" is not one); false for anything else. */
bool billing_step_parse(const char *s, billing_gran *out);
const char *billing_gran_name(billing_gran g); /* "5m" "1h" "1d" "period" */
int64_t billing_gran_step_s(billing_gran g);   /* 300, 3600, 86400; 0 for period */

/* Groups items (sorted by vps_id, then t) into rows of step_s buckets aligned to the offset (see
 * billing_bucket_start): rows[] gets one row per (vps_id, bucket), in the items' order; rows
 * must hold n items. Returns the number of rows. Sums are exact (saturating at INT64_MAX). */
size_t billing_group(const billing_item *items, size_t n, int64_t step_s, int utc_offset_min,
                     billing_row *rows);

/* The 95th percentile (nearest rank: the ceil(0.95 n)-th smallest) of v[0..n-1]; sorts v in
 * place. 0 when n is 0. */
int64_t billing_p95(int64_t *v, size_t n);
/* Bits per second of bytes over step_s seconds, rounded down (saturating). */
int64_t billing_bps(int64_t bytes, int64_t step_s);

/* Writes one usage_samples row per s[i] at time now (unix s), and moves each VPS's cursor, in
 * the caller's transaction. t_end = max(now, the last t_end written) so sample times never go
 * back (a clock stepped back cannot reopen a closed bucket); t_start = the VPS's last t_end (its
 * first sample: t_end, an empty interval). running_s = t_end - t_start when running, else 0;
 * disk_gib_s = disk_gib x (t_end - t_start). 0 or -1. */
int billing_ledger_record(sqlite3 *db, const billing_sample *s, size_t n, int64_t now);

/* Rolls up every bucket closed by the latest sample (5m <- samples, 1h <- 5m, 1d <- 1h, the
 * period that closed <- 1d, per VPS with its anchor), advances the watermarks and deletes samples
 * older than 48 h that are rolled up, in one transaction of its own (BEGIN IMMEDIATE on db; do
 * not call inside one). Idempotent: a second call with nothing new writes nothing. now: unix s.
 * 0 or -1 (rolled back). */
int billing_ledger_rollup(sqlite3 *db, const billing_config *cfg, int64_t now);

/* The usage of one VPS (vps_id > 0) or of every VPS of one customer (vps_id 0, customer_id > 0)
 * in [from, to), in n = (to - from) / step buckets of granularity g (5m, 1h or 1d): points[i]
 * gets the bucket starting at from + i x step. from and to must be bucket starts of g
 * (billing_bucket_start with cfg's offset); n <= BILLING_POINTS_MAX. Reads final rollups of g
 * where they exist, then finer rollups and samples for the buckets not closed yet, so the open
 * bucket is summed on the fly. A customer's VPS are those whose usage_cursor names it. per_vps
 * (may be NULL): called once per VPS of a customer with its sums over the range (VPS without
 * usage in it included). 0, or -1 (database error, or bad arguments). */
int billing_ledger_series(sqlite3 *db, int64_t vps_id, int64_t customer_id, billing_gran g,
                          const billing_config *cfg, int64_t from, int64_t to,
                          billing_usage *points, size_t n,
                          void (*per_vps)(void *ctx, int64_t vps_id, const billing_usage *u),
                          void *ctx);

/* The sums of one VPS over [from, to) where both are local midnights (a billing period). */
int billing_ledger_sum(sqlite3 *db, int64_t vps_id, const billing_config *cfg, int64_t from,
                       int64_t to, billing_usage *out);

/* True (*known_out) when the ledger has a cursor for vps_id (it was sampled at least once),
 * with its customer and anchor. 0 or -1. */
int billing_ledger_vps(sqlite3 *db, int64_t vps_id, bool *known_out, int64_t *customer_out,
                       int64_t *anchor_out);

#endif
