/* api_usage.c — the usage ledger in the API (docs/openapi.yaml): GET /vps/{id}/usage, GET
 * /customers/{id}/usage and the "usage_period" member of every VPS object. Read-only: it reads
 * the ledger through billing/ledger.h and never writes a row or talks to the agent. A customer
 * sees only its own VPS (404, never 403); the admin also sees VPS that were deleted (their id
 * still has a ledger cursor) and customers that were deleted (their id still has rows). */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../billing/ledger.h"
#include "../common/util.h"
#include "api.h"
#include "config.h"
#include "http.h"
#include "store.h"

/* The p95 of 5-minute bandwidth is read in chunks of this many buckets (at most a year). */
#define P95_MAX_BUCKETS (366 * 288)

static billing_config billing_cfg(void)
{
	billing_config c = {BILLING_CALENDAR_MONTH, 0};

	if (g_app)
		c = g_app->cfg.billing;
	return c;
}

static void add_usage_fields(json_object *o, const billing_usage *u)
{
	json_object_object_add(o, "cpu_ns", json_object_new_int64(u->cpu_ns));
	json_object_object_add(o, "rx_bytes", json_object_new_int64(u->rx_bytes));
	json_object_object_add(o, "tx_bytes", json_object_new_int64(u->tx_bytes));
	json_object_object_add(o, "rx_packets", json_object_new_int64(u->rx_packets));
	json_object_object_add(o, "tx_packets", json_object_new_int64(u->tx_packets));
	json_object_object_add(o, "running_s", json_object_new_int64(u->running_s));
	json_object_object_add(o, "disk_gib_s", json_object_new_int64(u->disk_gib_s));
}

json_object *usage_period_json(int64_t vps_id, int64_t created_at)
{
	billing_config cfg = billing_cfg();
	billing_usage u = {0};
	int64_t ps = 0, pe = 0;
	json_object *o;

	if (billing_period_of(&cfg, created_at, now_unix(), &ps, &pe) != 0 ||
	    billing_ledger_sum(db(), vps_id, &cfg, ps, pe, &u) != 0)
		return NULL;
	o = json_object_new_object();
	json_object_object_add(o, "start", json_time(ps));
	json_object_object_add(o, "end", json_time(pe));
	json_object_object_add(o, "rx_bytes", json_object_new_int64(u.rx_bytes));
	json_object_object_add(o, "tx_bytes", json_object_new_int64(u.tx_bytes));
	json_object_object_add(o, "cpu_ns", json_object_new_int64(u.cpu_ns));
	json_object_object_add(o, "running_s", json_object_new_int64(u.running_s));
	return o;
}

/* The range and step of a usage request. */
typedef struct usage_q {
	billing_gran g;
	int64_t step, from, to;
	size_t n;
} usage_q;

/* Reads ?step (5m|1h|1d, default 1h), ?from and ?to (RFC 3339; default: [def_from, def_to)),
 * rounds from down and to up to the step, and checks the range. False when a 422 was answered. */
static bool usage_params(http_req *rq, int64_t def_from, int64_t def_to, usage_q *q)
{
	const char *step = req_query(rq, "step"), *from = req_query(rq, "from"),
	           *to = req_query(rq, "to");
	billing_config cfg = billing_cfg();
	char detail[160];
	int64_t span;

	q->g = BILLING_G_1H;
	if (step && !billing_step_parse(step, &q->g)) {
		reply_field(rq, "step", "step must be 5m, 1h or 1d");
		return false;
	}
	q->step = billing_gran_step_s(q->g);
	q->from = def_from;
	q->to = def_to;
	if (from && !billing_parse_rfc3339(from, &q->from)) {
		reply_field(rq, "from", "from must be an RFC 3339 time (2026-03-01T00:00:00Z)");
		return false;
	}
	if (to && !billing_parse_rfc3339(to, &q->to)) {
		reply_field(rq, "to", "to must be an RFC 3339 time (2026-03-01T00:00:00Z)");
		return false;
	}
	if (q->from >= q->to) {
		reply_field(rq, "from", "from must be before to");
		return false;
	}
	q->from = billing_bucket_start(q->from, q->step, cfg.utc_offset_min);
	if (billing_bucket_start(q->to, q->step, cfg.utc_offset_min) != q->to)
		q->to = billing_bucket_start(q->to, q->step, cfg.utc_offset_min) + q->step;
	span = (q->to - q->from) / q->step;
	if (span > BILLING_POINTS_MAX) {
		snprintf(detail, sizeof(detail),
		         "the range holds %lld points of %s; at most %d (use a larger step)",
		         (long long)span, billing_gran_name(q->g), BILLING_POINTS_MAX);
		reply_field(rq, "to", detail);
		return false;
	}
	q->n = (size_t)span;
	return true;
}

/* The 95th percentile of the 5-minute buckets' rx and tx bits per second in [from, to) up to
 * now, read in chunks of BILLING_POINTS_MAX buckets. 0, or -1 on a database error. */
static int p95_5m(int64_t vps_id, int64_t customer_id, int64_t from, int64_t to, int64_t *rx,
                  int64_t *tx)
{
	billing_config cfg = billing_cfg();
	int64_t end = billing_bucket_start(now_unix(), BILLING_STEP_5M_S, 0) + BILLING_STEP_5M_S;
	int64_t start = billing_bucket_start(from, BILLING_STEP_5M_S, 0), *rxv = NULL, *txv = NULL;
	billing_usage *pts = NULL;
	size_t n = 0, total;
	int rc = -1;

	*rx = *tx = 0;
	if (to < end)
		end = billing_bucket_start(to, BILLING_STEP_5M_S, 0);
	if (end <= start)
		return 0;
	total = (size_t)((end - start) / BILLING_STEP_5M_S);
	if (total > P95_MAX_BUCKETS) {
		start = end - (int64_t)P95_MAX_BUCKETS * BILLING_STEP_5M_S;
		total = P95_MAX_BUCKETS;
	}
	rxv = malloc(total * sizeof(*rxv));
	txv = malloc(total * sizeof(*txv));
	pts = malloc(BILLING_POINTS_MAX * sizeof(*pts));
	if (!rxv || !txv || !pts)
		goto out;
	while (n < total) {
		size_t k = total - n < BILLING_POINTS_MAX ? total - n : BILLING_POINTS_MAX;
		int64_t a = start + (int64_t)n * BILLING_STEP_5M_S;

		if (billing_ledger_series(db(), vps_id, customer_id, BILLING_G_5M, &cfg, a,
		                          a + (int64_t)k * BILLING_STEP_5M_S, pts, k, NULL,
		                          NULL) != 0)
			goto out;
		for (size_t i = 0; i < k; i++) {
			rxv[n + i] = billing_bps(pts[i].rx_bytes, BILLING_STEP_5M_S);
			txv[n + i] = billing_bps(pts[i].tx_bytes, BILLING_STEP_5M_S);
		}
		n += k;
	}
	*rx = billing_p95(rxv, total);
	*tx = billing_p95(txv, total);
	rc = 0;
out:
	free(rxv);
	free(txv);
	free(pts);
	return rc;
}

/* Per-VPS totals of a customer's series (billing_ledger_series' per_vps). */
typedef struct vps_totals {
	int64_t *ids;
	billing_usage *u;
	size_t n, cap;
	bool oom;
} vps_totals;

static void add_vps_total(void *ctx, int64_t vps_id, const billing_usage *u)
{
	vps_totals *t = ctx;
	size_t i;

	for (i = 0; i < t->n && t->ids[i] != vps_id; i++)
		;
	if (i == t->n) {
		if (t->n == t->cap) {
			size_t cap = t->cap ? t->cap * 2 : 16;
			int64_t *ids = realloc(t->ids, cap * sizeof(*ids));
			billing_usage *us;

			if (ids)
				t->ids = ids;
			us = ids ? realloc(t->u, cap * sizeof(*us)) : NULL;
			if (!us) {
				t->oom = true;
				return;
			}
			t->u = us;
			t->cap = cap;
		}
		t->ids[i] = vps_id;
		memset(&t->u[i], 0, sizeof(t->u[i]));
		t->n++;
	}
	billing_usage_add(&t->u[i], u);
}

/* Answers the series of one VPS (vps_id > 0) or customer: {key: id, from, to, step, points,
 * total, p95_5m_bps[, vps_totals]}. */
static void reply_usage(http_req *rq, const char *key, int64_t vps_id, int64_t customer_id,
                        const usage_q *q)
{
	billing_config cfg = billing_cfg();
	billing_usage *pts = calloc(q->n ? q->n : 1, sizeof(*pts)), total = {0};
	vps_totals per = {0};
	json_object *o, *arr, *t, *p95;
	int64_t rx95, tx95;

	if (!pts ||
	    billing_ledger_series(db(), vps_id, customer_id, q->g, &cfg, q->from, q->to, pts, q->n,
	                          customer_id ? add_vps_total : NULL, &per) != 0 ||
	    per.oom || p95_5m(vps_id, customer_id, q->from, q->to, &rx95, &tx95) != 0) {
		log_error("usage of %s %lld: %s", key, (long long)(vps_id ? vps_id : customer_id),
		          sqlite3_errmsg(db()));
		free(pts);
		free(per.ids);
		free(per.u);
		reply_db_error(rq);
		return;
	}
	o = json_object_new_object();
	json_object_object_add(o, key, json_id(vps_id ? vps_id : customer_id));
	json_object_object_add(o, "from", json_time(q->from));
	json_object_object_add(o, "to", json_time(q->to));
	json_object_object_add(o, "step", json_object_new_string(billing_gran_name(q->g)));
	arr = json_object_new_array_ext((int)q->n);
	for (size_t i = 0; i < q->n; i++) {
		json_object *p = json_object_new_object();

		json_object_object_add(p, "t", json_time(q->from + (int64_t)i * q->step));
		add_usage_fields(p, &pts[i]);
		json_object_array_add(arr, p);
		billing_usage_add(&total, &pts[i]);
	}
	json_object_object_add(o, "points", arr);
	t = json_object_new_object();
	add_usage_fields(t, &total);
	json_object_object_add(o, "total", t);
	p95 = json_object_new_object();
	json_object_object_add(p95, "rx", json_object_new_int64(rx95));
	json_object_object_add(p95, "tx", json_object_new_int64(tx95));
	json_object_object_add(o, "p95_5m_bps", p95);
	if (customer_id) {
		arr = json_object_new_array();
		for (size_t i = 0; i < per.n; i++) {
			json_object *v = json_object_new_object();

			json_object_object_add(v, "vps", json_id(per.ids[i]));
			t = json_object_new_object();
			add_usage_fields(t, &per.u[i]);
			json_object_object_add(v, "total", t);
			json_object_array_add(arr, v);
		}
		json_object_object_add(o, "vps_totals", arr);
	}
	free(pts);
	free(per.ids);
	free(per.u);
	reply_json(rq, 200, o);
}

void api_vps_usage(http_req *rq)
{
	billing_config cfg = billing_cfg();
	char state[VPS_STATE_MAX];
	int64_t id, anchor = 0, ps, pe;
	bool known = false;
	sqlite3_stmt *st;
	usage_q q;
	int r;

	if (!parse_id(rq->params[0], &id)) {
		reply_not_found(rq, "VPS");
		return;
	}
	r = api_vps_visible(rq, id, state, NULL);
	if (r == -EIO) {
		reply_db_error(rq);
		return;
	}
	if (r == 0) {
		st = db_stmt("SELECT created_at FROM vps WHERE id=?");
		if (st) {
			sqlite3_bind_int64(st, 1, id);
			if (sqlite3_step(st) == SQLITE_ROW)
				anchor = sqlite3_column_int64(st, 0);
			sqlite3_reset(st);
		}
	} else if (rq->user.is_admin) {
		/* A deleted VPS: its ledger cursor outlives it, with its anchor. */
		if (billing_ledger_vps(db(), id, &known, NULL, &anchor) != 0) {
			reply_db_error(rq);
			return;
		}
	}
	if (r != 0 && !known) {
		reply_not_found(rq, "VPS");
		return;
	}
	if (billing_period_of(&cfg, anchor, now_unix(), &ps, &pe) != 0) {
		reply_db_error(rq);
		return;
	}
	if (usage_params(rq, ps, pe, &q))
		reply_usage(rq, "vps", id, 0, &q);
}

void api_customer_usage(http_req *rq)
{
	billing_config cfg = {BILLING_CALENDAR_MONTH, billing_cfg().utc_offset_min};
	int64_t id, ps, pe;
	bool exists = false;
	usage_q q;

	if (!parse_id(rq->params[0], &id)) {
		reply_not_found(rq, "customer");
		return;
	}
	if (!db_exists_id("SELECT 1 FROM users WHERE id=?1 AND role='customer' UNION ALL "
	                  "SELECT 1 FROM usage_cursor WHERE customer_id=?1 LIMIT 1",
	                  id, &exists)) {
		reply_db_error(rq);
		return;
	}
	if (!exists) {
		reply_not_found(rq, "customer");
		return;
	}
	/* A customer's VPS may have different anniversaries: the default is the calendar month. */
	if (billing_period_of(&cfg, 0, now_unix(), &ps, &pe) != 0) {
		reply_db_error(rq);
		return;
	}
	if (usage_params(rq, ps, pe, &q))
		reply_usage(rq, "customer", 0, id, &q);
}
