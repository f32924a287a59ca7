/* metering.c — per-VPS network counters and CPU time. A thread asks xvps-agent every
 * XVPS_METER_INTERVAL seconds for the vif counters (op "net.counters") and the CPU times (op
 * "cpu.times") of every live VPS, METER_CHUNK names per message, and stores the answers in
 * vps_net and vps_cpu in one transaction; metering_json.c builds the "net" and "cpu" objects of the
 * VPS JSON. It never runs a host command and never blocks a job: it takes no
 * host lock (net.counters creates nothing on the host).
 *
 * Totals. The agent accumulates each vif's counters across vif re-creation and keeps them in
 * its counters.json, so its values only grow — unless the agent loses that file (new host
 * disk, manual cleanup), when it starts again from zero. vps_net.{rx,tx}_{bytes,packets} are
 * therefore the panel's own monotonic totals and vps_net.agent_* the agent's values of the
 * last sweep: when every new agent value is >= the last one, the totals grow by the
 * difference; when any of the four is lower, the agent's state was lost and all four new
 * values are counted from zero, i.e. added whole. (A loss followed by more traffic than was
 * counted before, all before the next sweep, cannot be told apart and undercounts; a sweep
 * every few seconds makes that window small.) The first sample of a VPS is taken whole.
 *
 * CPU time. The same sweep asks "cpu.times" for the same names (its own messages, so a
 * failing one never stops the network counters) and keeps vps_cpu.cpu_ns, the panel's
 * monotonic total, and vps_cpu.agent_cpu_ns, the last value seen. A domain's CPU time counts
 * from its creation and Xen creates a new domain on every reboot and start (0 while stopped),
 * so a value lower than the last one is a new run and is added whole, else the difference.
 * (A reboot followed by more CPU time than the old run had, all before the next sweep, looks
 * like growth and undercounts by the old run's last unswept part.) The first sample is taken
 * whole: it is all this VPS's domain used.
 *
 * The ledger (billing/ledger.h, docs/architecture.md "The usage ledger"). What a sweep adds to
 * the totals above — per VPS the growth of the four network counters and of the CPU time,
 * exactly the amounts added, resets included — is also written as one usage_samples row per VPS,
 * in the same transaction: the sum of a VPS's samples is the growth of its totals, to the byte
 * and the nanosecond. The row also carries the customer, plan and disk GiB of the moment and
 * whether the VPS was in state running (then the sample's whole interval counts as running
 * seconds). Nothing is lost when xvpsd dies between sweeps: the agent's counters are cumulative,
 * so the next sweep's delta covers the gap. After the commit the ledger rolls up the buckets that
 * closed (its own transaction; a failure is retried at the next sweep). */
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "../billing/ledger.h"
#include "../common/util.h"
#include "agent_client.h"
#include "api.h"
#include "config.h"
#include "metering.h"
#include "quota.h"
#include "store.h"
#include "ticker.h"

#define METER_CHUNK       500 /* names per net.counters / cpu.times message (agent's cap) */
#define METER_LOG_EVERY_S 300 /* a failing sweep is logged at most this often */
#define METERING_WHY_MAX  320 /* the reason a sweep failed, for the log */

enum { N_COUNTERS = METERING_N_COUNTERS };
#define counter_keys metering_counter_keys
const char *const metering_counter_keys[METERING_N_COUNTERS] = {"rx_bytes", "tx_bytes",
                                                                "rx_packets", "tx_packets"};

static pthread_mutex_t tick_mu = PTHREAD_MUTEX_INITIALIZER; /* one sweep at a time */
static _Atomic int64_t last_sweep;
static unsigned long fail_streak;          /* under tick_mu */
static uint64_t fail_logged_ns;            /* under tick_mu */
static int resets;                         /* under tick_mu: VPS whose agent counters went down */
static char reset_example[VPS_DOMAIN_MAX]; /* under tick_mu: one of them, for the log */

/* This sweep's ledger samples, one per VPS that had an answer (under tick_mu). */
static billing_sample *ledger;
static size_t ledger_n, ledger_cap, ledger_hint;

/* The ledger sample of vps_id in this sweep, added (with the VPS's customer, plan, disk and
 * state of now) when it is the first answer for it. NULL on a database error or out of memory. */
static billing_sample *ledger_of(int64_t vps_id)
{
	billing_sample *s;
	sqlite3_stmt *st;

	if (ledger_hint < ledger_n && ledger[ledger_hint].vps_id == vps_id)
		return &ledger[ledger_hint];
	for (size_t i = 0; i < ledger_n; i++)
		if (ledger[i].vps_id == vps_id) {
			ledger_hint = i + 1; /* net and CPU answers come in the same order */
			return &ledger[i];
		}
	if (ledger_n == ledger_cap) {
		size_t cap = ledger_cap ? ledger_cap * 2 : 64;
		billing_sample *grown = realloc(ledger, cap * sizeof(*ledger));

		if (!grown)
			return NULL;
		ledger = grown;
		ledger_cap = cap;
	}
	st = db_stmt("SELECT v.customer_id, v.plan_id, v.created_at, v.state='running', p.disk_gib "
	             "FROM vps v JOIN plans p ON p.id=v.plan_id WHERE v.id=?");
	if (!st)
		return NULL;
	sqlite3_bind_int64(st, 1, vps_id);
	if (sqlite3_step(st) != SQLITE_ROW) {
		sqlite3_reset(st);
		return NULL; /* the VPS was read a moment ago in this transaction */
	}
	s = &ledger[ledger_n++];
	memset(s, 0, sizeof(*s));
	s->vps_id = vps_id;
	s->customer_id = sqlite3_column_int64(st, 0);
	s->plan_id = sqlite3_column_int64(st, 1);
	s->anchor = sqlite3_column_int64(st, 2);
	s->running = sqlite3_column_int(st, 3) != 0;
	s->disk_gib = sqlite3_column_int64(st, 4);
	sqlite3_reset(st);
	return s;
}

static void meter_tick(void);
static ticker meter_ticker = TICKER_INIT("metering", meter_tick);

int64_t metering_last_sweep(void)
{
	return atomic_load(&last_sweep);
}

/* Logs a failed sweep: the first of a streak, then at most every METER_LOG_EVERY_S. */
static void note_failure(const char *why)
{
	uint64_t now = now_mono_ns();

	fail_streak++;
	if (fail_streak == 1 || now - fail_logged_ns >= METER_LOG_EVERY_S * 1000000000ULL) {
		log_warn("metering: %s (%lu failed sweep(s) in a row; retrying every %d s, "
		         "logging at most every %d s)",
		         why, fail_streak, ticker_interval(&meter_ticker), METER_LOG_EVERY_S);
		fail_logged_ns = now;
	}
}

static void note_success(void)
{
	if (fail_streak > 0)
		log_info("metering: sweeps work again after %lu failed one(s)", fail_streak);
	fail_streak = 0;
}

/* The names of every live VPS, METER_CHUNK per JSON array. Returns the number of chunks (0
 * when there is no live VPS) or -1; *chunks_out is a heap array of new arrays. */
static int load_names(json_object ***chunks_out)
{
	sqlite3_stmt *st = db_stmt("SELECT domain FROM vps WHERE state!='deleting' ORDER BY id");
	json_object **chunks = NULL, *cur = NULL;
	int n = 0, r;

	*chunks_out = NULL;
	if (!st)
		return -1;
	while ((r = sqlite3_step(st)) == SQLITE_ROW) {
		const char *name = (const char *)sqlite3_column_text(st, 0);

		if (!name)
			continue;
		if (!cur || json_object_array_length(cur) >= METER_CHUNK) {
			json_object **grown = realloc(chunks, (size_t)(n + 1) * sizeof(*chunks));

			if (!grown) {
				r = SQLITE_NOMEM;
				break;
			}
			chunks = grown;
			cur = chunks[n++] = json_object_new_array();
		}
		json_object_array_add(cur, json_object_new_string(name));
	}
	sqlite3_reset(st);
	if (r != SQLITE_DONE) {
		for (int i = 0; i < n; i++)
			json_object_put(chunks[i]);
		free(chunks);
		return -1;
	}
	*chunks_out = chunks;
	return n;
}

/* A non-negative JSON integer member. */
static bool get_count(json_object *o, const char *key, int64_t *out)
{
	json_object *v;

	if (!json_object_object_get_ex(o, key, &v) || !json_object_is_type(v, json_type_int))
		return false;
	*out = json_object_get_int64(v); /* beyond INT64_MAX: clamped to it */
	return *out >= 0;
}

static int64_t add_sat(int64_t a, int64_t b)
{
	int64_t s;

	return __builtin_add_overflow(a, b, &s) ? INT64_MAX : s;
}

/* Runs sql (one parameter: the domain) and steps to its row: the statement on that row (reset it
 * once read), or NULL with *rc_out 0 (not, or no longer, a VPS: skipped) or -1 (database
 * error). */
static sqlite3_stmt *row_of_domain(const char *sql, const char *domain, int *rc_out)
{
	sqlite3_stmt *st = db_stmt(sql);
	int r;

	*rc_out = -1;
	if (!st)
		return NULL;
	sqlite3_bind_text(st, 1, domain, -1, SQLITE_TRANSIENT);
	r = sqlite3_step(st);
	if (r == SQLITE_ROW)
		return st;
	sqlite3_reset(st);
	*rc_out = r == SQLITE_DONE ? 0 : -1;
	return NULL;
}

/* Folds one domain's answer into its vps_net row (see the comment at the top). Domains that
 * are not (or no longer) a VPS are skipped. 0, or -1 on a database error. */
static int apply_one(const char *domain, json_object *d, int64_t sampled_at)
{
	sqlite3_stmt *st;
	int64_t agent[N_COUNTERS], last[N_COUNTERS] = {0}, total[N_COUNTERS] = {0}, vps_id;
	json_object *pv;
	bool have_row, reset = false;
	billing_sample *ls;
	int r;

	for (int i = 0; i < N_COUNTERS; i++)
		if (!get_count(d, counter_keys[i], &agent[i]))
			return 0; /* malformed entry: the row keeps its values */
	st = row_of_domain(
	        "SELECT v.id, n.vps_id IS NOT NULL, n.rx_bytes, n.tx_bytes, n.rx_packets, "
	        "n.tx_packets, n.agent_rx_bytes, n.agent_tx_bytes, n.agent_rx_packets, "
	        "n.agent_tx_packets FROM vps v LEFT JOIN vps_net n ON n.vps_id=v.id "
	        "WHERE v.domain=?",
	        domain, &r);
	if (!st)
		return r;
	vps_id = sqlite3_column_int64(st, 0);
	have_row = sqlite3_column_int(st, 1) != 0;
	for (int i = 0; have_row && i < N_COUNTERS; i++) {
		total[i] = sqlite3_column_int64(st, 2 + i);
		last[i] = sqlite3_column_int64(st, 6 + i);
		reset = reset || agent[i] < last[i];
	}
	sqlite3_reset(st);
	if (!(ls = ledger_of(vps_id)))
		return -1;
	for (int i = 0; i < N_COUNTERS; i++) {
		int64_t delta = reset || !have_row ? agent[i] : agent[i] - last[i];
		int64_t *to[N_COUNTERS] = {&ls->rx_bytes, &ls->tx_bytes, &ls->rx_packets,
		                           &ls->tx_packets};

		/* What the total grows by is what the ledger gets (both saturate alike). */
		*to[i] = add_sat(*to[i], add_sat(total[i], delta) - total[i]);
		total[i] = add_sat(total[i], delta);
	}
	if (reset && resets++ == 0)
		snprintf(reset_example, sizeof(reset_example), "%s", domain);

	st = db_stmt("INSERT INTO vps_net(vps_id, rx_bytes, tx_bytes, rx_packets, tx_packets, "
	             "agent_rx_bytes, agent_tx_bytes, agent_rx_packets, agent_tx_packets, present, "
	             "sampled_at) VALUES(?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?11) "
	             "ON CONFLICT(vps_id) DO UPDATE SET rx_bytes=excluded.rx_bytes, "
	             "tx_bytes=excluded.tx_bytes, rx_packets=excluded.rx_packets, "
	             "tx_packets=excluded.tx_packets, agent_rx_bytes=excluded.agent_rx_bytes, "
	             "agent_tx_bytes=excluded.agent_tx_bytes, "
	             "agent_rx_packets=excluded.agent_rx_packets, "
	             "agent_tx_packets=excluded.agent_tx_packets, present=excluded.present, "
	             "sampled_at=excluded.sampled_at");
	if (!st)
		return -1;
	sqlite3_bind_int64(st, 1, vps_id);
	for (int i = 0; i < N_COUNTERS; i++) {
		sqlite3_bind_int64(st, 2 + i, total[i]);
		sqlite3_bind_int64(st, 6 + i, agent[i]);
	}
	sqlite3_bind_int(st, 10,
	                 json_object_object_get_ex(d, "present", &pv) &&
	                         json_object_get_boolean(pv));
	sqlite3_bind_int64(st, 11, sampled_at);
	r = sqlite3_step(st);
	sqlite3_reset(st);
	if (r != SQLITE_DONE) {
		log_error("metering: storing %s: %s", domain, sqlite3_errmsg(db()));
		return -1;
	}
	return 0;
}

/* Folds one domain's CPU time (ns since the domain's creation) into its vps_cpu row (see the
 * comment at the top). Domains that are not (or no longer) a VPS are skipped. 0 or -1. */
static int apply_cpu_one(const char *domain, int64_t agent_ns, int64_t sampled_at)
{
	sqlite3_stmt *st;
	int64_t vps_id, total = 0, last = 0, grown;
	billing_sample *ls;
	bool have_row;
	int r;

	st = row_of_domain("SELECT v.id, c.vps_id IS NOT NULL, c.cpu_ns, c.agent_cpu_ns FROM vps v "
	                   "LEFT JOIN vps_cpu c ON c.vps_id=v.id WHERE v.domain=?",
	                   domain, &r);
	if (!st)
		return r;
	vps_id = sqlite3_column_int64(st, 0);
	have_row = sqlite3_column_int(st, 1) != 0;
	if (have_row) {
		total = sqlite3_column_int64(st, 2);
		last = sqlite3_column_int64(st, 3);
	}
	sqlite3_reset(st);
	/* A new run (lower than the last value) or the first sample: whole; else the growth. */
	grown = add_sat(total, !have_row || agent_ns < last ? agent_ns : agent_ns - last);
	if (!(ls = ledger_of(vps_id)))
		return -1;
	ls->cpu_ns = add_sat(ls->cpu_ns, grown - total);
	total = grown;

	st = db_stmt("INSERT INTO vps_cpu(vps_id, cpu_ns, agent_cpu_ns, sampled_at) "
	             "VALUES(?1, ?2, ?3, ?4) ON CONFLICT(vps_id) DO UPDATE SET "
	             "cpu_ns=excluded.cpu_ns, agent_cpu_ns=excluded.agent_cpu_ns, "
	             "sampled_at=excluded.sampled_at");
	if (!st)
		return -1;
	sqlite3_bind_int64(st, 1, vps_id);
	sqlite3_bind_int64(st, 2, total);
	sqlite3_bind_int64(st, 3, agent_ns);
	sqlite3_bind_int64(st, 4, sampled_at);
	r = sqlite3_step(st);
	sqlite3_reset(st);
	if (r != SQLITE_DONE) {
		log_error("metering: storing the CPU time of %s: %s", domain, sqlite3_errmsg(db()));
		return -1;
	}
	return 0;
}

/* apply_answer's step for one name of a net.counters answer's "domains" map. */
static int apply_net_entry(const char *name, json_object *map, int64_t sampled_at)
{
	json_object *d;

	if (json_object_object_get_ex(map, name, &d) && json_object_is_type(d, json_type_object))
		return apply_one(name, d, sampled_at);
	return 0;
}

/* apply_answer's step for one name of a cpu.times answer's "cpu_ns" map: only non-negative
 * integers (anything else leaves the row as it was). */
static int apply_cpu_entry(const char *name, json_object *map, int64_t sampled_at)
{
	int64_t ns;

	if (get_count(map, name, &ns))
		return apply_cpu_one(name, ns, sampled_at);
	return 0;
}

/* Stores one chunk's answer ({"sampled_at", map_key: {name: ...}}) through entry: only the
 * names that were asked for (anything else the answer holds is ignored). 0 or -1. */
static int apply_answer(json_object *names, json_object *res, const char *map_key,
                        int (*entry)(const char *name, json_object *map, int64_t sampled_at))
{
	json_object *map = NULL, *v;
	int64_t sampled_at = 0;

	if (json_object_object_get_ex(res, "sampled_at", &v) &&
	    json_object_is_type(v, json_type_int))
		sampled_at = json_object_get_int64(v);
	if (sampled_at <= 0)
		sampled_at = now_unix();
	if (!json_object_object_get_ex(res, map_key, &map) ||
	    !json_object_is_type(map, json_type_object))
		return 0;
	for (size_t i = 0; i < json_object_array_length(names); i++) {
		const char *name = json_object_get_string(json_object_array_get_idx(names, i));

		if (entry(name, map, sampled_at) != 0)
			return -1;
	}
	return 0;
}
/* Asks op for each of the n chunks in order, results[i] for chunk i; stops at the first
 * failure (why filled, *e as the agent call left it). Returns how many chunks were answered. */
static int ask_chunks(const char *op, json_object **chunks, int n, json_object **results, char *why,
                      size_t why_len, agent_err *e)
{
	int answered = 0;

	memset(e, 0, sizeof(*e));
	for (; answered < n; answered++) {
		json_object *req = agent_request(op, NULL);

		json_object_object_add(req, "names", json_object_get(chunks[answered]));
		if (panel_agent_call(req, 0, &results[answered], e) != 0 || !results[answered]) {
			snprintf(why, why_len, "%s: %s", op,
			         e->msg[0] ? e->msg : "the agent answered no result");
			json_object_put(req);
			break; /* the next tick tries again */
		}
		json_object_put(req);
	}
	return answered;
}

/* Asks the agent for the n chunks of names, stores what it answered (totals and ledger samples,
 * one transaction) and rolls the ledger up; frees the chunks. Under tick_mu. 0 when every chunk
 * was answered by both operations and stored, else -1 with why filled. */
static int sweep(json_object **chunks, int n, char *why, size_t why_len)
{
	json_object **results = NULL, **cpu_results = NULL;
	int to_ask = n, answered = 0, cpu_answered = 0, rc = 0;
	char cpu_why[METERING_WHY_MAX] = "";
	agent_err e;

	results = n ? calloc((size_t)n, sizeof(*results)) : NULL;
	cpu_results = n ? calloc((size_t)n, sizeof(*cpu_results)) : NULL;
	if (n && (!results || !cpu_results)) {
		snprintf(why, why_len, "out of memory");
		to_ask = 0;
		rc = -1;
	}
	resets = 0;
	ledger_n = ledger_hint = 0;
	answered = ask_chunks("net.counters", chunks, to_ask, results, why, why_len, &e);
	if (answered < to_ask)
		rc = -1;
	/* CPU times in their own messages; not when the agent is not even reachable. */
	if (to_ask > 0 && !(answered < to_ask && e.rc < 0 && agent_unreachable(e.rc))) {
		cpu_answered = ask_chunks("cpu.times", chunks, to_ask, cpu_results, cpu_why,
		                          sizeof(cpu_why), &e);
		if (cpu_answered < to_ask) {
			rc = -1;
			if (!why[0])
				snprintf(why, why_len, "%s", cpu_why);
		}
	}
	if (answered > 0 || cpu_answered > 0) {
		if (db_begin() != 0) {
			snprintf(why, why_len, "cannot begin a transaction");
			rc = -1;
		} else {
			int r = 0;

			for (int i = 0; i < answered && r == 0; i++)
				r = apply_answer(chunks[i], results[i], "domains", apply_net_entry);
			for (int i = 0; i < cpu_answered && r == 0; i++)
				r = apply_answer(chunks[i], cpu_results[i], "cpu_ns",
				                 apply_cpu_entry);
			if (r == 0 &&
			    billing_ledger_record(db(), ledger, ledger_n, now_unix()) != 0) {
				log_error("metering: writing the usage ledger: %s",
				          sqlite3_errmsg(db()));
				r = -1;
			}
			if (r != 0 || db_commit() != 0) {
				db_rollback();
				if (!why[0])
					snprintf(why, why_len, "cannot store the counters");
				rc = -1;
			} else {
				if (resets > 0)
					log_warn(
					        "metering: %d VPS (%s%s) had lower agent counters: "
					        "counted from zero",
					        resets, reset_example, resets > 1 ? ", ..." : "");
				metering_rollup();
				quota_sweep(); /* the quota ladder (quota.h): after the commit */
			}
		}
	}
	for (int i = 0; i < n; i++) {
		json_object_put(chunks[i]);
		if (results)
			json_object_put(results[i]);
		if (cpu_results)
			json_object_put(cpu_results[i]);
	}
	free(chunks);
	free(results);
	free(cpu_results);
	db_release();
	return rc;
}

int metering_tick(void)
{
	json_object **chunks = NULL;
	char why[METERING_WHY_MAX] = "";
	int n, rc;

	pthread_mutex_lock(&tick_mu);
	n = load_names(&chunks);
	db_release(); /* no read snapshot stays open while the agent works */
	if (n < 0) {
		note_failure("cannot read the VPS list");
		pthread_mutex_unlock(&tick_mu);
		return -1;
	}
	rc = sweep(chunks, n, why, sizeof(why));
	if (rc == 0) {
		atomic_store(&last_sweep, now_unix());
		if (n > 0) /* with no live VPS the agent was not asked: nothing to report */
			note_success();
	} else {
		note_failure(why);
	}
	pthread_mutex_unlock(&tick_mu);
	return rc;
}

int metering_sweep_vps(const char *domain)
{
	json_object **chunks = calloc(1, sizeof(*chunks));
	char why[METERING_WHY_MAX] = "";
	int rc;

	if (!chunks)
		return -1;
	chunks[0] = json_object_new_array();
	json_object_array_add(chunks[0], json_object_new_string(domain));
	pthread_mutex_lock(&tick_mu);
	db_release();
	rc = sweep(chunks, 1, why, sizeof(why));
	pthread_mutex_unlock(&tick_mu);
	if (rc != 0)
		log_warn("metering: the last sweep of %s before its removal failed (%s): its usage "
		         "since the last sweep is not in the ledger",
		         domain, why);
	return rc;
}

int metering_rollup(void)
{
	billing_config cfg = {BILLING_CALENDAR_MONTH, 0};

	if (g_app)
		cfg = g_app->cfg.billing;
	if (billing_ledger_rollup(db(), &cfg, now_unix()) != 0) {
		log_error("metering: rolling up the usage ledger: %s (retried at the next sweep)",
		          sqlite3_errmsg(db()));
		return -1;
	}
	return 0;
}

/* ---- the thread ----------------------------------------------------------------------------- */

static void meter_tick(void)
{
	metering_tick();
}

int metering_start(int interval_s)
{
	if (ticker_start(&meter_ticker, interval_s) != 0)
		return -1;
	log_info("metering: network counters and CPU times every %d s", interval_s);
	return 0;
}

void metering_stop(void)
{
	ticker_stop(&meter_ticker);
}
