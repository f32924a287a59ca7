/* ledger.c — the usage ledger's SQL (ledger.h; its pure arithmetic is usage.c): samples in, closed
 * buckets rolled up once, series read back from the coarsest final rows plus the open part on the
 * fly. Integers only; no floating point. Never includes a panel header, never talks to the agent,
 * never reads a clock: the panel passes its sqlite3 handle and "now". */
#include <stdlib.h>
#include <string.h>

#include "ledger.h"

#define USAGE_COLS "cpu_ns, rx_bytes, tx_bytes, rx_packets, tx_packets, running_s, disk_gib_s"
#define USAGE_SUMS                                                                                 \
	"sum(cpu_ns), sum(rx_bytes), sum(tx_bytes), sum(rx_packets), sum(tx_packets), "            \
	"sum(running_s), sum(disk_gib_s)"
#define USAGE_N BILLING_USAGE_N

static const char *const done_keys[] = {"done_5m", "done_1h", "done_1d"};

/* ---- SQL helpers -------------------------------------------------------------------------- */

static billing_stmt_fn stmt_cache; /* set once before any thread starts, or never */

void billing_use_stmt_cache(billing_stmt_fn fn)
{
	stmt_cache = fn;
}

/* A statement for sql (a string literal): the caller's cached one when there is a cache, else
 * a new one on db. Give it back with release(). NULL on a prepare error. */
static sqlite3_stmt *prep(sqlite3 *db, const char *sql)
{
	sqlite3_stmt *st = NULL;

	if (stmt_cache)
		return stmt_cache(sql);
	if (sqlite3_prepare_v2(db, sql, -1, &st, NULL) != SQLITE_OK) {
		sqlite3_finalize(st);
		return NULL;
	}
	return st;
}

/* Gives back a statement of prep(): reset (cached) or finalized. NULL is fine. */
static void release(sqlite3_stmt *st)
{
	if (!st)
		return;
	if (stmt_cache) {
		sqlite3_reset(st);
		sqlite3_clear_bindings(st);
	} else {
		sqlite3_finalize(st);
	}
}

static void col_usage(sqlite3_stmt *st, int first, billing_usage *u)
{
	for (int i = 0; i < USAGE_N; i++)
		*billing_usage_field(u, i) = sqlite3_column_int64(st, first + i);
}

static void bind_usage(sqlite3_stmt *st, int first, billing_usage *u)
{
	for (int i = 0; i < USAGE_N; i++)
		sqlite3_bind_int64(st, first + i, *billing_usage_field(u, i));
}

/* usage_state's value of key, 0 when absent. 0 or -1. */
static int state_get(sqlite3 *db, const char *key, int64_t *out)
{
	sqlite3_stmt *st = prep(db, "SELECT value FROM usage_state WHERE name=?1");
	int r;

	*out = 0;
	if (!st)
		return -1;
	sqlite3_bind_text(st, 1, key, -1, SQLITE_STATIC);
	r = sqlite3_step(st);
	if (r == SQLITE_ROW)
		*out = sqlite3_column_int64(st, 0);
	release(st);
	return r == SQLITE_ROW || r == SQLITE_DONE ? 0 : -1;
}

static int state_set(sqlite3 *db, const char *key, int64_t v)
{
	sqlite3_stmt *st = prep(db, "INSERT INTO usage_state(name, value) VALUES(?1, ?2) "
	                            "ON CONFLICT(name) DO UPDATE SET value=excluded.value");
	int r;

	if (!st)
		return -1;
	sqlite3_bind_text(st, 1, key, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 2, v);
	r = sqlite3_step(st);
	release(st);
	return r == SQLITE_DONE ? 0 : -1;
}

/* ---- writing samples ---------------------------------------------------------------------- */

typedef struct cursor_ent {
	int64_t vps_id, t_end;
} cursor_ent;

static int cmp_cursor(const void *a, const void *b)
{
	int64_t x = ((const cursor_ent *)a)->vps_id, y = ((const cursor_ent *)b)->vps_id;

	return (x > y) - (x < y);
}

/* Every usage_cursor row, sorted by vps_id (one scan instead of a lookup per sample). */
static int load_cursors(sqlite3 *db, cursor_ent **out, size_t *n_out)
{
	sqlite3_stmt *st = prep(db, "SELECT vps_id, t_end FROM usage_cursor ORDER BY vps_id");
	cursor_ent *v = NULL;
	size_t n = 0, cap = 0;
	int r;

	*out = NULL;
	*n_out = 0;
	if (!st)
		return -1;
	while ((r = sqlite3_step(st)) == SQLITE_ROW) {
		if (n == cap) {
			cursor_ent *grown;

			cap = cap ? cap * 2 : 256;
			grown = realloc(v, cap * sizeof(*v));
			if (!grown) {
				r = SQLITE_NOMEM;
				break;
			}
			v = grown;
		}
		v[n].vps_id = sqlite3_column_int64(st, 0);
		v[n].t_end = sqlite3_column_int64(st, 1);
		n++;
	}
	release(st);
	if (r != SQLITE_DONE) {
		free(v);
		return -1;
	}
	*out = v;
	*n_out = n;
	return 0;
}

int billing_ledger_record(sqlite3 *db, const billing_sample *s, size_t n, int64_t now)
{
	sqlite3_stmt *up = NULL, *ins = NULL;
	cursor_ent *cur = NULL;
	size_t ncur = 0;
	int64_t t_end;
	int rc = -1;

	if (n == 0)
		return 0;
	if (state_get(db, "last_t_end", &t_end) != 0 || load_cursors(db, &cur, &ncur) != 0)
		return -1;
	if (now > t_end)
		t_end = now;
	up = prep(db,
	          "INSERT INTO usage_cursor(vps_id, customer_id, anchor, t_end) "
	          "VALUES(?1, ?2, ?3, ?4) ON CONFLICT(vps_id) DO UPDATE SET "
	          "customer_id=excluded.customer_id, anchor=excluded.anchor, t_end=excluded.t_end");
	ins = prep(db, "INSERT INTO usage_samples(vps_id, customer_id, plan_id, t_start, t_end, "
	               "disk_gib, " USAGE_COLS ") VALUES(?1, ?2, ?3, ?4, ?5, ?6, "
	               "?7, ?8, ?9, ?10, ?11, ?12, ?13)");
	if (!up || !ins)
		goto out;
	for (size_t i = 0; i < n; i++) {
		cursor_ent key = {s[i].vps_id, 0};
		const cursor_ent *c =
		        ncur ? bsearch(&key, cur, ncur, sizeof(*cur), cmp_cursor) : NULL;
		int64_t t_start = c ? c->t_end : t_end, len;
		billing_usage u = {s[i].cpu_ns,
		                   s[i].rx_bytes,
		                   s[i].tx_bytes,
		                   s[i].rx_packets,
		                   s[i].tx_packets,
		                   0,
		                   0};
		int r;

		if (t_start > t_end)
			t_start = t_end;
		len = t_end - t_start;
		u.running_s = s[i].running ? len : 0;
		if (__builtin_mul_overflow(s[i].disk_gib > 0 ? s[i].disk_gib : 0, len,
		                           &u.disk_gib_s))
			u.disk_gib_s = INT64_MAX;
		sqlite3_bind_int64(ins, 1, s[i].vps_id);
		sqlite3_bind_int64(ins, 2, s[i].customer_id);
		sqlite3_bind_int64(ins, 3, s[i].plan_id);
		sqlite3_bind_int64(ins, 4, t_start);
		sqlite3_bind_int64(ins, 5, t_end);
		sqlite3_bind_int64(ins, 6, s[i].disk_gib);
		bind_usage(ins, 7, &u);
		r = sqlite3_step(ins);
		sqlite3_reset(ins);
		if (r != SQLITE_DONE)
			goto out;
		sqlite3_bind_int64(up, 1, s[i].vps_id);
		sqlite3_bind_int64(up, 2, s[i].customer_id);
		sqlite3_bind_int64(up, 3, s[i].anchor);
		sqlite3_bind_int64(up, 4, t_end);
		r = sqlite3_step(up);
		sqlite3_reset(up);
		if (r != SQLITE_DONE)
			goto out;
	}
	rc = state_set(db, "last_t_end", t_end);
out:
	release(up);
	release(ins);
	free(cur);
	return rc;
}

/* ---- rollups ------------------------------------------------------------------------------ */

/* A growable array of rollup input items. */
typedef struct item_buf {
	billing_item *v;
	size_t n, cap;
} item_buf;

/* Appends the rows st yields (vps_id, customer_id, t, USAGE_COLS) to b; resets st. 0 or -1. */
static int collect(sqlite3_stmt *st, item_buf *b)
{
	int r;

	while ((r = sqlite3_step(st)) == SQLITE_ROW) {
		if (b->n == b->cap) {
			size_t cap = b->cap ? b->cap * 2 : 256;
			billing_item *grown = realloc(b->v, cap * sizeof(*grown));

			if (!grown) {
				sqlite3_reset(st);
				return -1;
			}
			b->v = grown;
			b->cap = cap;
		}
		b->v[b->n].vps_id = sqlite3_column_int64(st, 0);
		b->v[b->n].customer_id = sqlite3_column_int64(st, 1);
		b->v[b->n].t = sqlite3_column_int64(st, 2);
		col_usage(st, 3, &b->v[b->n].u);
		b->n++;
	}
	sqlite3_reset(st);
	return r == SQLITE_DONE ? 0 : -1;
}

/* The items of [lo, hi) for g's rollup, ordered by vps_id then time: samples (by t_end, one
 * indexed range) for 5m; else the finer rollup rows, VPS by VPS through usage_cursor (the
 * rollups' only index is their primary key). 0 or -1. */
static int items_for(sqlite3 *db, billing_gran g, int64_t lo, int64_t hi, item_buf *b)
{
	static const char *const finer[] = {NULL, "5m", "1h"};
	sqlite3_stmt *ids = NULL, *src = NULL;
	int r, rc = -1;

	if (g == BILLING_G_5M) {
		src = prep(db,
		           "SELECT vps_id, customer_id, t_end, " USAGE_COLS " FROM usage_samples "
		           "WHERE t_end>=?1 AND t_end<?2 ORDER BY vps_id, t_end");
		if (!src)
			return -1;
		sqlite3_bind_int64(src, 1, lo);
		sqlite3_bind_int64(src, 2, hi);
		rc = collect(src, b);
		release(src);
		return rc;
	}
	ids = prep(db, "SELECT vps_id FROM usage_cursor ORDER BY vps_id");
	src = prep(db,
	           "SELECT vps_id, customer_id, bucket_start, " USAGE_COLS " FROM usage_rollups "
	           "WHERE vps_id=?1 AND granularity=?2 AND bucket_start>=?3 AND bucket_start<?4 "
	           "ORDER BY bucket_start");
	if (!ids || !src)
		goto out;
	sqlite3_bind_text(src, 2, finer[g], -1, SQLITE_STATIC);
	sqlite3_bind_int64(src, 3, lo);
	sqlite3_bind_int64(src, 4, hi);
	while ((r = sqlite3_step(ids)) == SQLITE_ROW) {
		sqlite3_bind_int64(src, 1, sqlite3_column_int64(ids, 0));
		if (collect(src, b) != 0)
			goto out;
	}
	rc = r == SQLITE_DONE ? 0 : -1;
out:
	release(ids);
	release(src);
	return rc;
}

/* Rolls the items of [lo, hi) up into g's rows, adding to a row that exists (a row of a closed
 * bucket is written once; adding instead of ignoring keeps the sums exact even when an offset
 * change makes a bucket straddle two watermarks). 0 or -1. */
static int roll(sqlite3 *db, billing_gran g, int64_t lo, int64_t hi, int off_min)
{
	sqlite3_stmt *ins = NULL;
	item_buf b = {0};
	billing_row *rows = NULL;
	size_t k;
	int r, rc = -1;

	if (hi <= lo)
		return 0;
	if (items_for(db, g, lo, hi, &b) != 0)
		goto out;
	if (b.n == 0) {
		rc = 0;
		goto out;
	}
	rows = malloc(b.n * sizeof(*rows));
	if (!rows)
		goto out;
	k = billing_group(b.v, b.n, billing_gran_step_s(g), off_min, rows);
	ins = prep(db, "INSERT INTO usage_rollups(vps_id, customer_id, granularity, "
	               "bucket_start, " USAGE_COLS
	               ") VALUES(?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11) "
	               "ON CONFLICT(vps_id, granularity, bucket_start) DO UPDATE SET "
	               "cpu_ns=cpu_ns+excluded.cpu_ns, rx_bytes=rx_bytes+excluded.rx_bytes, "
	               "tx_bytes=tx_bytes+excluded.tx_bytes, "
	               "rx_packets=rx_packets+excluded.rx_packets, "
	               "tx_packets=tx_packets+excluded.tx_packets, "
	               "running_s=running_s+excluded.running_s, "
	               "disk_gib_s=disk_gib_s+excluded.disk_gib_s");
	if (!ins)
		goto out;
	for (size_t i = 0; i < k; i++) {
		sqlite3_bind_int64(ins, 1, rows[i].vps_id);
		sqlite3_bind_int64(ins, 2, rows[i].customer_id);
		sqlite3_bind_text(ins, 3, billing_gran_name(g), -1, SQLITE_STATIC);
		sqlite3_bind_int64(ins, 4, rows[i].bucket_start);
		bind_usage(ins, 5, &rows[i].u);
		r = sqlite3_step(ins);
		sqlite3_reset(ins);
		if (r != SQLITE_DONE)
			goto out;
	}
	rc = 0;
out:
	release(ins);
	free(b.v);
	free(rows);
	return rc;
}

/* Writes, per VPS of the cursor table, the last billing period that ends at or before done_1d
 * (from its '1d' rows; INSERT OR IGNORE: written once). A VPS with no sample since that
 * period's start is skipped. 0 or -1. */
static int roll_periods(sqlite3 *db, const billing_config *cfg, int64_t done_1d)
{
	sqlite3_stmt *cur = prep(db, "SELECT vps_id, anchor, t_end FROM usage_cursor");
	sqlite3_stmt *ins =
	        prep(db, "INSERT OR IGNORE INTO usage_rollups(vps_id, customer_id, granularity, "
	                 "bucket_start, " USAGE_COLS
	                 ") SELECT vps_id, max(customer_id), 'period', ?2, " USAGE_SUMS
	                 " FROM usage_rollups WHERE vps_id=?1 AND granularity='1d' AND "
	                 "bucket_start>=?2 AND bucket_start<?3 GROUP BY vps_id");
	int r, rc = -1;

	if (!cur || !ins)
		goto out;
	while ((r = sqlite3_step(cur)) == SQLITE_ROW) {
		int64_t vps = sqlite3_column_int64(cur, 0), anchor = sqlite3_column_int64(cur, 1);
		int64_t last = sqlite3_column_int64(cur, 2), ps, pe;

		if (billing_period_of(cfg, anchor, done_1d - 1, &ps, &pe) != 0)
			goto out;
		if (pe > done_1d && billing_period_of(cfg, anchor, ps - 1, &ps, &pe) != 0)
			goto out;
		if (last < ps)
			continue;
		sqlite3_bind_int64(ins, 1, vps);
		sqlite3_bind_int64(ins, 2, ps);
		sqlite3_bind_int64(ins, 3, pe);
		r = sqlite3_step(ins);
		sqlite3_reset(ins);
		if (r != SQLITE_DONE)
			goto out;
	}
	rc = r == SQLITE_DONE ? 0 : -1;
out:
	release(cur);
	release(ins);
	return rc;
}

int billing_ledger_rollup(sqlite3 *db, const billing_config *cfg, int64_t now)
{
	int64_t last, done[3], next[3], keep;
	int off = cfg->utc_offset_min;
	sqlite3_stmt *del = NULL;
	int rc = -1;

	if (!billing_offset_ok(off))
		return -1;
	if (sqlite3_exec(db, "BEGIN IMMEDIATE", NULL, NULL, NULL) != SQLITE_OK)
		return -1;
	if (state_get(db, "last_t_end", &last) != 0)
		goto out;
	for (int g = 0; g < 3; g++)
		if (state_get(db, done_keys[g], &done[g]) != 0)
			goto out;
	/* Every sample to come has t_end >= last: the buckets before last's are closed. */
	next[0] = billing_bucket_start(last, BILLING_STEP_5M_S, off);
	next[1] = billing_bucket_start(next[0], BILLING_STEP_1H_S, off);
	next[2] = billing_bucket_start(next[1], BILLING_STEP_1D_S, off);
	for (int g = 0; g < 3; g++)
		if (next[g] < done[g])
			next[g] = done[g];
	if (roll(db, BILLING_G_5M, done[0], next[0], off) != 0 ||
	    roll(db, BILLING_G_1H, done[1], next[1], off) != 0 ||
	    roll(db, BILLING_G_1D, done[2], next[2], off) != 0)
		goto out;
	if (next[2] > done[2] && roll_periods(db, cfg, next[2]) != 0)
		goto out;
	for (int g = 0; g < 3; g++)
		if (next[g] != done[g] && state_set(db, done_keys[g], next[g]) != 0)
			goto out;
	keep = now - BILLING_SAMPLE_KEEP_S;
	if (keep > next[0])
		keep = next[0]; /* a sample not rolled up yet stays */
	del = prep(db, "DELETE FROM usage_samples WHERE t_end<?1");
	if (!del)
		goto out;
	sqlite3_bind_int64(del, 1, keep);
	if (sqlite3_step(del) != SQLITE_DONE)
		goto out;
	rc = sqlite3_exec(db, "COMMIT", NULL, NULL, NULL) == SQLITE_OK ? 0 : -1;
out:
	release(del);
	if (rc != 0)
		sqlite3_exec(db, "ROLLBACK", NULL, NULL, NULL);
	return rc;
}

/* ---- reading ------------------------------------------------------------------------------ */

typedef struct series_ctx {
	billing_usage *points;
	size_t n;
	int64_t from, step;
	int off;
} series_ctx;

/* Adds the items sql selects (t, USAGE_COLS; ?1 the VPS, ?2 <= t < ?3) to their points. 0 or
 * -1. */
static int add_items(sqlite3 *db, const char *sql, int64_t vps_id, int64_t lo, int64_t hi,
                     series_ctx *c)
{
	sqlite3_stmt *st;
	int r;

	if (hi <= lo)
		return 0;
	st = prep(db, sql);
	if (!st)
		return -1;
	sqlite3_bind_int64(st, 1, vps_id);
	sqlite3_bind_int64(st, 2, lo);
	sqlite3_bind_int64(st, 3, hi);
	while ((r = sqlite3_step(st)) == SQLITE_ROW) {
		int64_t b = billing_bucket_start(sqlite3_column_int64(st, 0), c->step, c->off);
		int64_t i = (b - c->from) / c->step;
		billing_usage u;

		col_usage(st, 1, &u);
		if (b < c->from || i < 0 || (size_t)i >= c->n)
			continue;
		billing_usage_add(&c->points[i], &u);
	}
	release(st);
	return r == SQLITE_DONE ? 0 : -1;
}

#define ROWS_OF(g)                                                                                 \
	"SELECT bucket_start, " USAGE_COLS " FROM usage_rollups WHERE vps_id=?1 AND "              \
	"granularity='" g "' AND bucket_start>=?2 AND bucket_start<?3"

/* One VPS's series into points (zeroed first); see billing_ledger_series. 0 or -1. */
static int vps_series(sqlite3 *db, int64_t vps_id, billing_gran g, const int64_t done[3],
                      series_ctx *c, int64_t to)
{
	static const char *const sql[] = {ROWS_OF("5m"), ROWS_OF("1h"), ROWS_OF("1d")};
	int64_t lo = c->from;

	memset(c->points, 0, c->n * sizeof(*c->points));
	/* Final rows of g first, then each finer level for what g has not closed yet. */
	for (int level = (int)g; level >= 0; level--) {
		int64_t hi = done[level] < to ? done[level] : to;

		if (add_items(db, sql[level], vps_id, lo, hi, c) != 0)
			return -1;
		if (done[level] > lo)
			lo = done[level];
	}
	return add_items(db,
	                 "SELECT t_end, " USAGE_COLS " FROM usage_samples WHERE vps_id=?1 AND "
	                 "t_end>=?2 AND t_end<?3",
	                 vps_id, lo, to, c);
}

int billing_ledger_series(sqlite3 *db, int64_t vps_id, int64_t customer_id, billing_gran g,
                          const billing_config *cfg, int64_t from, int64_t to,
                          billing_usage *points, size_t n,
                          void (*per_vps)(void *ctx, int64_t vps_id, const billing_usage *u),
                          void *ctx)
{
	int64_t step = billing_gran_step_s(g), done[3];
	series_ctx c = {points, n, from, step, cfg->utc_offset_min};
	billing_usage *one = NULL;
	sqlite3_stmt *ids = NULL;
	int r, rc = -1;

	if ((vps_id <= 0 && customer_id <= 0) || step == 0 || to < from ||
	    (to - from) / step != (int64_t)n || n > BILLING_POINTS_MAX)
		return -1;
	for (int level = 0; level < 3; level++)
		if (state_get(db, done_keys[level], &done[level]) != 0)
			return -1;
	if (vps_id > 0)
		return vps_series(db, vps_id, g, done, &c, to);
	/* A customer: VPS by VPS (the rollups' primary key), summed. */
	memset(points, 0, n * sizeof(*points));
	one = calloc(n ? n : 1, sizeof(*one));
	ids = prep(db, "SELECT vps_id FROM usage_cursor WHERE customer_id=?1 ORDER BY vps_id");
	if (!one || !ids)
		goto out;
	sqlite3_bind_int64(ids, 1, customer_id);
	c.points = one;
	while ((r = sqlite3_step(ids)) == SQLITE_ROW) {
		int64_t v = sqlite3_column_int64(ids, 0);
		billing_usage sum = {0};

		if (vps_series(db, v, g, done, &c, to) != 0)
			goto out;
		for (size_t i = 0; i < n; i++) {
			billing_usage_add(&points[i], &one[i]);
			billing_usage_add(&sum, &one[i]);
		}
		if (per_vps)
			per_vps(ctx, v, &sum);
	}
	rc = r == SQLITE_DONE ? 0 : -1;
out:
	release(ids);
	free(one);
	return rc;
}

int billing_ledger_sum(sqlite3 *db, int64_t vps_id, const billing_config *cfg, int64_t from,
                       int64_t to, billing_usage *out)
{
	size_t n = (size_t)((to - from) / BILLING_STEP_1D_S);
	billing_usage *pts;
	int rc;

	memset(out, 0, sizeof(*out));
	if (to <= from || n == 0 || n > 62)
		return -1;
	pts = calloc(n, sizeof(*pts));
	if (!pts)
		return -1;
	rc = billing_ledger_series(db, vps_id, 0, BILLING_G_1D, cfg, from, to, pts, n, NULL, NULL);
	for (size_t i = 0; rc == 0 && i < n; i++)
		billing_usage_add(out, &pts[i]);
	free(pts);
	return rc;
}

int billing_ledger_vps(sqlite3 *db, int64_t vps_id, bool *known_out, int64_t *customer_out,
                       int64_t *anchor_out)
{
	sqlite3_stmt *st = prep(db, "SELECT customer_id, anchor FROM usage_cursor WHERE vps_id=?1");
	int r;

	*known_out = false;
	if (!st)
		return -1;
	sqlite3_bind_int64(st, 1, vps_id);
	r = sqlite3_step(st);
	if (r == SQLITE_ROW) {
		*known_out = true;
		if (customer_out)
			*customer_out = sqlite3_column_int64(st, 0);
		if (anchor_out)
			*anchor_out = sqlite3_column_int64(st, 1);
	}
	release(st);
	return r == SQLITE_ROW || r == SQLITE_DONE ? 0 : -1;
}
