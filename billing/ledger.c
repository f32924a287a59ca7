/* ledger.c — the usage ledger's arithmetic and SQL (ledger.h): samples in, closed buckets rolled
 * up once, series read back from the coarsest final rows plus the open part on the fly. Integers
 * only; no floating point. Never includes a panel header, never talks to the agent, never reads
 * a clock: the panel passes its sqlite3 handle and "now". */
#include <stdlib.h>
#include <string.h>

#include "ledger.h"

#define USAGE_COLS "cpu_ns, rx_bytes, tx_bytes, rx_packets, tx_packets, running_s, disk_gib_s"
#define USAGE_SUMS                                                                                 \
	"sum(cpu_ns), sum(rx_bytes), sum(tx_bytes), sum(rx_packets), sum(tx_packets), "            \
	"sum(running_s), sum(disk_gib_s)"
#define USAGE_N 7

static const char *const gran_names[] = {"5m", "1h", "1d", "period"};
static const char *const done_keys[] = {"done_5m", "done_1h", "done_1d"};

static int64_t add_sat(int64_t a, int64_t b)
{
	int64_t s;

	return __builtin_add_overflow(a, b, &s) ? INT64_MAX : s;
}

static int64_t *field(billing_usage *u, int i)
{
	int64_t *f[USAGE_N] = {&u->cpu_ns,     &u->rx_bytes,  &u->tx_bytes,  &u->rx_packets,
	                       &u->tx_packets, &u->running_s, &u->disk_gib_s};

	return f[i];
}

void billing_usage_add(billing_usage *acc, const billing_usage *u)
{
	billing_usage v = *u;

	for (int i = 0; i < USAGE_N; i++)
		*field(acc, i) = add_sat(*field(acc, i), *field(&v, i));
}

bool billing_step_parse(const char *s, billing_gran *out)
{
	for (int g = BILLING_G_5M; s && g <= BILLING_G_1D; g++)
		if (strcmp(s, gran_names[g]) == 0) {
			*out = (billing_gran)g;
			return true;
		}
	return false;
}

const char *billing_gran_name(billing_gran g)
{
	return gran_names[g];
}

int64_t billing_gran_step_s(billing_gran g)
{
	switch (g) {
	case BILLING_G_5M:
		return BILLING_STEP_5M_S;
	case BILLING_G_1H:
		return BILLING_STEP_1H_S;
	case BILLING_G_1D:
		return BILLING_STEP_1D_S;
	default:
		return 0;
	}
}

size_t billing_group(const billing_item *items, size_t n, int64_t step_s, int utc_offset_min,
                     billing_row *rows)
{
	size_t k = 0;

	for (size_t i = 0; i < n; i++) {
		int64_t b = billing_bucket_start(items[i].t, step_s, utc_offset_min);

		if (k == 0 || rows[k - 1].vps_id != items[i].vps_id ||
		    rows[k - 1].bucket_start != b) {
			memset(&rows[k], 0, sizeof(rows[k]));
			rows[k].vps_id = items[i].vps_id;
			rows[k].customer_id = items[i].customer_id;
			rows[k].bucket_start = b;
			k++;
		}
		billing_usage_add(&rows[k - 1].u, &items[i].u);
	}
	return k;
}

static int cmp_i64(const void *a, const void *b)
{
	int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;

	return (x > y) - (x < y);
}

int64_t billing_p95(int64_t *v, size_t n)
{
	size_t rank;

	if (n == 0)
		return 0;
	qsort(v, n, sizeof(*v), cmp_i64);
	rank = (n * 95 + 99) / 100; /* ceil(0.95 n), 1-based */
	return v[rank - 1];
}

int64_t billing_bps(int64_t bytes, int64_t step_s)
{
	int64_t bits;

	if (bytes <= 0 || step_s <= 0)
		return 0;
	if (__builtin_mul_overflow(bytes, 8, &bits))
		return INT64_MAX / step_s;
	return bits / step_s;
}

/* ---- SQL helpers -------------------------------------------------------------------------- */

static sqlite3_stmt *prep(sqlite3 *db, const char *sql)
{
	sqlite3_stmt *st = NULL;

	if (sqlite3_prepare_v2(db, sql, -1, &st, NULL) != SQLITE_OK) {
		sqlite3_finalize(st);
		return NULL;
	}
	return st;
}

static void col_usage(sqlite3_stmt *st, int first, billing_usage *u)
{
	for (int i = 0; i < USAGE_N; i++)
		*field(u, i) = sqlite3_column_int64(st, first + i);
}

static void bind_usage(sqlite3_stmt *st, int first, billing_usage *u)
{
	for (int i = 0; i < USAGE_N; i++)
		sqlite3_bind_int64(st, first + i, *field(u, i));
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
	sqlite3_finalize(st);
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
	sqlite3_finalize(st);
	return r == SQLITE_DONE ? 0 : -1;
}

/* ---- writing samples ---------------------------------------------------------------------- */

int billing_ledger_record(sqlite3 *db, const billing_sample *s, size_t n, int64_t now)
{
	sqlite3_stmt *cur = NULL, *up = NULL, *ins = NULL;
	int64_t t_end;
	int rc = -1;

	if (n == 0)
		return 0;
	if (state_get(db, "last_t_end", &t_end) != 0)
		return -1;
	if (now > t_end)
		t_end = now;
	cur = prep(db, "SELECT t_end FROM usage_cursor WHERE vps_id=?1");
	up = prep(db,
	          "INSERT INTO usage_cursor(vps_id, customer_id, anchor, t_end) "
	          "VALUES(?1, ?2, ?3, ?4) ON CONFLICT(vps_id) DO UPDATE SET "
	          "customer_id=excluded.customer_id, anchor=excluded.anchor, t_end=excluded.t_end");
	ins = prep(db, "INSERT INTO usage_samples(vps_id, customer_id, plan_id, t_start, t_end, "
	               "disk_gib, " USAGE_COLS ") VALUES(?1, ?2, ?3, ?4, ?5, ?6, "
	               "?7, ?8, ?9, ?10, ?11, ?12, ?13)");
	if (!cur || !up || !ins)
		goto out;
	for (size_t i = 0; i < n; i++) {
		int64_t t_start = t_end, len;
		billing_usage u = {s[i].cpu_ns,
		                   s[i].rx_bytes,
		                   s[i].tx_bytes,
		                   s[i].rx_packets,
		                   s[i].tx_packets,
		                   0,
		                   0};
		int r;

		sqlite3_bind_int64(cur, 1, s[i].vps_id);
		r = sqlite3_step(cur);
		if (r == SQLITE_ROW)
			t_start = sqlite3_column_int64(cur, 0);
		sqlite3_reset(cur);
		if (r != SQLITE_ROW && r != SQLITE_DONE)
			goto out;
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
	sqlite3_finalize(cur);
	sqlite3_finalize(up);
	sqlite3_finalize(ins);
	return rc;
}

/* ---- rollups ------------------------------------------------------------------------------ */

/* Reads the items src_sql selects (vps_id, customer_id, t, USAGE_COLS; ?1 <= t < ?2, ordered by
 * vps_id, t) and adds them into g's rows (a row of a closed bucket is written once; adding
 * instead of ignoring keeps the sums exact even when an offset change makes a bucket straddle
 * two watermarks). 0 or -1. */
static int roll(sqlite3 *db, const char *src_sql, int64_t lo, int64_t hi, billing_gran g,
                int off_min)
{
	sqlite3_stmt *src = NULL, *ins = NULL;
	billing_item *items = NULL;
	billing_row *rows = NULL;
	size_t n = 0, cap = 0, k;
	int r, rc = -1;

	if (hi <= lo)
		return 0;
	src = prep(db, src_sql);
	if (!src)
		goto out;
	sqlite3_bind_int64(src, 1, lo);
	sqlite3_bind_int64(src, 2, hi);
	while ((r = sqlite3_step(src)) == SQLITE_ROW) {
		if (n == cap) {
			size_t ncap = cap ? cap * 2 : 256;
			billing_item *grown = realloc(items, ncap * sizeof(*items));

			if (!grown)
				goto out;
			items = grown;
			cap = ncap;
		}
		items[n].vps_id = sqlite3_column_int64(src, 0);
		items[n].customer_id = sqlite3_column_int64(src, 1);
		items[n].t = sqlite3_column_int64(src, 2);
		col_usage(src, 3, &items[n].u);
		n++;
	}
	if (r != SQLITE_DONE)
		goto out;
	if (n == 0) {
		rc = 0;
		goto out;
	}
	rows = malloc(n * sizeof(*rows));
	if (!rows)
		goto out;
	k = billing_group(items, n, billing_gran_step_s(g), off_min, rows);
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
		sqlite3_bind_text(ins, 3, gran_names[g], -1, SQLITE_STATIC);
		sqlite3_bind_int64(ins, 4, rows[i].bucket_start);
		bind_usage(ins, 5, &rows[i].u);
		r = sqlite3_step(ins);
		sqlite3_reset(ins);
		if (r != SQLITE_DONE)
			goto out;
	}
	rc = 0;
out:
	sqlite3_finalize(src);
	sqlite3_finalize(ins);
	free(items);
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
	sqlite3_finalize(cur);
	sqlite3_finalize(ins);
	return rc;
}

#define ROLL_FROM(g)                                                                               \
	"SELECT vps_id, customer_id, bucket_start, " USAGE_COLS " FROM usage_rollups WHERE "       \
	"granularity='" g                                                                          \
	"' AND bucket_start>=?1 AND bucket_start<?2 ORDER BY vps_id, bucket_start"

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
	if (roll(db,
	         "SELECT vps_id, customer_id, t_end, " USAGE_COLS " FROM usage_samples WHERE "
	         "t_end>=?1 AND t_end<?2 ORDER BY vps_id, t_end",
	         done[0], next[0], BILLING_G_5M, off) != 0 ||
	    roll(db, ROLL_FROM("5m"), done[1], next[1], BILLING_G_1H, off) != 0 ||
	    roll(db, ROLL_FROM("1h"), done[2], next[2], BILLING_G_1D, off) != 0)
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
	sqlite3_finalize(del);
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
	void (*per_vps)(void *ctx, int64_t vps_id, const billing_usage *u);
	void *ctx;
} series_ctx;

/* Adds the items sql selects (vps_id, t, USAGE_COLS; ?1 the VPS or customer, ?2 <= t < ?3)
 * to their points. 0 or -1. */
static int add_items(sqlite3 *db, const char *sql, int64_t who, int64_t lo, int64_t hi,
                     series_ctx *c)
{
	sqlite3_stmt *st;
	int r;

	if (hi <= lo)
		return 0;
	st = prep(db, sql);
	if (!st)
		return -1;
	sqlite3_bind_int64(st, 1, who);
	sqlite3_bind_int64(st, 2, lo);
	sqlite3_bind_int64(st, 3, hi);
	while ((r = sqlite3_step(st)) == SQLITE_ROW) {
		int64_t b = billing_bucket_start(sqlite3_column_int64(st, 1), c->step, c->off);
		int64_t i = (b - c->from) / c->step;
		billing_usage u;

		col_usage(st, 2, &u);
		if (b < c->from || i < 0 || (size_t)i >= c->n)
			continue;
		billing_usage_add(&c->points[i], &u);
		if (c->per_vps)
			c->per_vps(c->ctx, sqlite3_column_int64(st, 0), &u);
	}
	sqlite3_finalize(st);
	return r == SQLITE_DONE ? 0 : -1;
}

#define ROWS_OF(who, g)                                                                            \
	"SELECT vps_id, bucket_start, " USAGE_COLS " FROM usage_rollups WHERE " who "=?1 AND "     \
	"granularity='" g "' AND bucket_start>=?2 AND bucket_start<?3"
#define SAMPLES_OF(who)                                                                            \
	"SELECT vps_id, t_end, " USAGE_COLS " FROM usage_samples WHERE " who "=?1 AND "            \
	"t_end>=?2 AND t_end<?3"

int billing_ledger_series(sqlite3 *db, int64_t vps_id, int64_t customer_id, billing_gran g,
                          const billing_config *cfg, int64_t from, int64_t to,
                          billing_usage *points, size_t n,
                          void (*per_vps)(void *ctx, int64_t vps_id, const billing_usage *u),
                          void *ctx)
{
	static const char *const by_vps[4] = {ROWS_OF("vps_id", "5m"), ROWS_OF("vps_id", "1h"),
	                                      ROWS_OF("vps_id", "1d"), SAMPLES_OF("vps_id")};
	static const char *const by_cust[4] = {
	        ROWS_OF("customer_id", "5m"), ROWS_OF("customer_id", "1h"),
	        ROWS_OF("customer_id", "1d"), SAMPLES_OF("customer_id")};
	const char *const *sql = vps_id > 0 ? by_vps : by_cust;
	int64_t who = vps_id > 0 ? vps_id : customer_id, step = billing_gran_step_s(g), lo = from;
	series_ctx c = {points, n, from, step, cfg->utc_offset_min, per_vps, ctx};

	if (who <= 0 || step == 0 || to < from || (to - from) / step != (int64_t)n ||
	    n > BILLING_POINTS_MAX)
		return -1;
	memset(points, 0, n * sizeof(*points));
	/* Final rows of g first, then each finer level for what g has not closed yet. */
	for (int level = (int)g; level >= 0; level--) {
		int64_t done, hi;

		if (state_get(db, done_keys[level], &done) != 0)
			return -1;
		hi = done < to ? done : to;
		if (add_items(db, sql[level], who, lo, hi, &c) != 0)
			return -1;
		if (done > lo)
			lo = done;
	}
	return add_items(db, sql[3], who, lo, to, &c);
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
	sqlite3_finalize(st);
	return r == SQLITE_ROW || r == SQLITE_DONE ? 0 : -1;
}
