/* quota.c — the traffic quota ladder (quota.h; issue 13 item 4; docs/architecture.md "Traffic
 * quotas"). After each metering sweep it reads every metered VPS's period traffic from the usage
 * ledger, asks billing/quota.c what the ladder does next, and does it in one transaction per VPS:
 * notice rows (quota_notices, append-only), the throttle (vps.throttle_mbit + a vps.network job,
 * the same path as PUT /vps/{id}/throttle) or the suspension (suspend.c, by "quota"), and their
 * lift. It never talks to the agent (the jobs do) and never sends mail itself (quota_notify.c). */
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../billing/ledger.h"
#include "../billing/quota.h"
#include "../common/util.h"
#include "api.h"
#include "audit.h"
#include "config.h"
#include "jobs.h"
#include "quota.h"
#include "quota_notify.h"
#include "quota_usage.h"
#include "store.h"
#include "suspend.h"

/* One ladder step at a time: the metering thread and an admin's POST .../quota/extra. */
static pthread_mutex_t quota_mu = PTHREAD_MUTEX_INITIALIZER;

static billing_config cfg_now(void)
{
	billing_config c = {BILLING_CALENDAR_MONTH, 0};

	if (g_app)
		c = g_app->cfg.billing;
	return c;
}

/* What the ladder needs of one VPS: its plan's quota and the stored vps_quota row. */
typedef struct quota_vps {
	int64_t id, customer_id, created_at, traffic_gib, over_quota_mbit;
	quota_direction dir;
	quota_action action;
	bool have_row;
	int64_t period_start, throttle_before, throttle_mbit, extra_period_start, extra_bytes;
	bool have_usage; /* a quota_usage row: its running period sums */
	int64_t usage_period, usage_rx, usage_tx;
	quota_state st;
	char acted[12]; /* "throttle" | "suspend" | "" */
} quota_vps;

#define QUOTA_SELECT                                                                               \
	"SELECT v.id, v.customer_id, v.created_at, p.traffic_gib, p.over_quota_mbit, "             \
	"p.traffic_direction, p.quota_action, q.vps_id IS NOT NULL, q.period_start, "              \
	"q.notified_80, q.notified_100, q.acted, q.throttle_before, q.throttle_mbit, "             \
	"q.extra_period_start, q.extra_bytes, u.vps_id IS NOT NULL, u.period_start, u.rx_bytes, "  \
	"u.tx_bytes FROM vps v JOIN plans p ON p.id=v.plan_id "                                    \
	"LEFT JOIN vps_quota q ON q.vps_id=v.id LEFT JOIN quota_usage u ON u.vps_id=v.id "

static void from_row(sqlite3_stmt *st, quota_vps *q)
{
	memset(q, 0, sizeof(*q));
	q->id = sqlite3_column_int64(st, 0);
	q->customer_id = sqlite3_column_int64(st, 1);
	q->created_at = sqlite3_column_int64(st, 2);
	q->traffic_gib = sqlite3_column_int64(st, 3);
	q->over_quota_mbit = sqlite3_column_int64(st, 4);
	if (!quota_direction_parse((const char *)sqlite3_column_text(st, 5), &q->dir))
		q->dir = QUOTA_DIR_OUT;
	if (!quota_action_parse((const char *)sqlite3_column_text(st, 6), &q->action))
		q->action = QUOTA_ACT_THROTTLE;
	q->have_row = sqlite3_column_int(st, 7) != 0;
	q->period_start = sqlite3_column_int64(st, 8);
	q->st.notified_80 = sqlite3_column_int(st, 9) != 0;
	q->st.notified_100 = sqlite3_column_int(st, 10) != 0;
	db_col_text(st, 11, q->acted, sizeof(q->acted));
	q->st.acted = q->acted[0] != '\0';
	q->throttle_before = sqlite3_column_int64(st, 12);
	q->throttle_mbit = sqlite3_column_int64(st, 13);
	q->extra_period_start = sqlite3_column_int64(st, 14);
	q->extra_bytes = sqlite3_column_int64(st, 15);
	q->have_usage = sqlite3_column_int(st, 16) != 0;
	q->usage_period = sqlite3_column_int64(st, 17);
	q->usage_rx = sqlite3_column_int64(st, 18);
	q->usage_tx = sqlite3_column_int64(st, 19);
}

/* The VPS's current period [*ps, *pe) and its used and included bytes: from its running sums
 * (quota_usage; none yet in this period: 0), or, before the first quota_usage_feed() made them,
 * from the ledger's period sum. 0 or -EIO. */
static int measure(const quota_vps *q, int64_t now, int64_t *ps, int64_t *pe, int64_t *used,
                   int64_t *included)
{
	billing_config cfg = cfg_now();
	billing_usage u = {0};

	if (billing_period_of(&cfg, q->created_at, now, ps, pe) != 0)
		return -EIO;
	if (q->have_usage) {
		if (q->usage_period == *ps) {
			u.rx_bytes = q->usage_rx;
			u.tx_bytes = q->usage_tx;
		}
	} else if (billing_ledger_sum(db(), q->id, &cfg, *ps, *pe, &u) != 0) {
		return -EIO;
	}
	*used = quota_used_bytes(q->dir, u.rx_bytes, u.tx_bytes);
	*included = quota_included_bytes(
	        q->traffic_gib, q->extra_period_start == *ps && q->have_row ? q->extra_bytes : 0);
	return 0;
}

/* Appends a notice row (inside the transaction); its delivery starts after the commit. */
static bool add_notice(const quota_vps *q, int64_t ps, const char *kind, int64_t used,
                       int64_t included, int64_t now)
{
	sqlite3_stmt *st = db_stmt(
	        "INSERT INTO quota_notices(vps_id, customer_id, period_start, kind, at, "
	        "used_bytes, "
	        "included_bytes, delivered_email, delivered_webhook) VALUES(?,?,?,?,?,?,?,?,?)");

	if (!st)
		return false;
	sqlite3_bind_int64(st, 1, q->id);
	sqlite3_bind_int64(st, 2, q->customer_id);
	sqlite3_bind_int64(st, 3, ps);
	sqlite3_bind_text(st, 4, kind, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 5, now);
	sqlite3_bind_int64(st, 6, used);
	sqlite3_bind_int64(st, 7, included);
	sqlite3_bind_text(st, 8, quota_notify_email_on() ? "pending" : "off", -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 9, quota_notify_webhook_on() ? "pending" : "off", -1, SQLITE_STATIC);
	return db_step_done(st);
}

static bool set_throttle(int64_t vps_id, int64_t mbit)
{
	sqlite3_stmt *st = db_stmt("UPDATE vps SET throttle_mbit=? WHERE id=?");

	if (!st)
		return false;
	sqlite3_bind_int64(st, 1, mbit);
	sqlite3_bind_int64(st, 2, vps_id);
	return db_step_done(st);
}

static int64_t vps_throttle(int64_t vps_id)
{
	sqlite3_stmt *st = db_stmt("SELECT throttle_mbit FROM vps WHERE id=?");
	int64_t v = -1;

	if (!st)
		return -1;
	sqlite3_bind_int64(st, 1, vps_id);
	if (sqlite3_step(st) == SQLITE_ROW)
		v = sqlite3_column_int64(st, 0);
	sqlite3_reset(st);
	return v;
}

/* What one step did, for the audit log after the commit. */
typedef struct quota_done {
	char lifted[12], acted[12];
	int64_t mbit, followed_mbit; /* followed_mbit: the throttle moved with the plan */
	bool jobs, notices;
} quota_done;

/* The throttle's rate: the plan's over_quota_mbit, or the admin's throttle from before the
 * action when that was lower (an admin's lower throttle stays the rate). */
static int64_t throttle_rate(int64_t before, int64_t over_quota_mbit)
{
	return before > 0 && before < over_quota_mbit ? before : over_quota_mbit;
}

/* True when a throttle of ours is in force at another rate than the plan now asks for (an admin
 * changed the plan's over_quota_mbit while the VPS was throttled). */
static bool throttle_stale(const quota_vps *q)
{
	return strcmp(q->acted, "throttle") == 0 && q->action == QUOTA_ACT_THROTTLE &&
	       q->throttle_mbit != throttle_rate(q->throttle_before, q->over_quota_mbit);
}

/* Moves a throttle in force to the plan's rate (inside the transaction): the VPS's throttle and a
 * vps.network job when the throttle is still ours (an admin's own change since stays), and the
 * ladder's record of it in any case, so that the lift compares against the new rate. */
static int follow(quota_vps *q, quota_done *d)
{
	int64_t mbit = throttle_rate(q->throttle_before, q->over_quota_mbit),
	        cur = vps_throttle(q->id);

	if (cur < 0)
		return -EIO;
	if (cur == q->throttle_mbit) {
		if (!set_throttle(q->id, mbit) || job_enqueue("vps.network", q->id, 0) <= 0)
			return -EIO;
		d->jobs = true;
		d->followed_mbit = mbit;
	}
	q->throttle_mbit = mbit;
	return 0;
}

/* Undoes the action in force (inside the transaction). */
static int lift(quota_vps *q, quota_done *d)
{
	int64_t job = 0;

	if (strcmp(q->acted, "throttle") == 0) {
		/* Restore the admin's throttle unless an admin changed it since. */
		if (vps_throttle(q->id) == q->throttle_mbit) {
			if (!set_throttle(q->id, q->throttle_before) ||
			    job_enqueue("vps.network", q->id, 0) <= 0)
				return -EIO;
			d->jobs = true;
		}
	} else if (strcmp(q->acted, "suspend") == 0) {
		int rc = vps_unsuspend_tx(q->id, "quota", 0, &job);

		if (rc == -EIO || rc == -EPERM)
			return rc == -EPERM ? -EAGAIN : -EIO;
		d->jobs = d->jobs || job > 0; /* -ESRCH: an admin lifted it already */
	}
	snprintf(d->lifted, sizeof(d->lifted), "%s", q->acted);
	q->acted[0] = '\0';
	q->throttle_mbit = 0;
	return 0;
}

/* Applies the plan's action (inside the transaction). -EALREADY: suspended by someone else
 * already (nothing to do now; tried again at the next sweep). */
static int act(quota_vps *q, int64_t used, int64_t included, quota_done *d)
{
	int64_t job = 0;

	if (q->action == QUOTA_ACT_THROTTLE) {
		int64_t before = vps_throttle(q->id), mbit;

		if (before < 0)
			return -EIO;
		mbit = throttle_rate(before, q->over_quota_mbit);
		if (!set_throttle(q->id, mbit) || job_enqueue("vps.network", q->id, 0) <= 0)
			return -EIO;
		q->throttle_before = before;
		q->throttle_mbit = mbit;
		d->mbit = mbit;
		snprintf(q->acted, sizeof(q->acted), "throttle");
	} else {
		char reason[SUSPEND_REASON_MAX];
		int rc;

		snprintf(reason, sizeof(reason),
		         "traffic quota exceeded: %lld of %lld bytes this period", (long long)used,
		         (long long)included);
		rc = vps_suspend_tx(q->id, "quota", reason, 0, &job);
		if (rc == -EALREADY || rc == -EBUSY)
			return -EALREADY;
		if (rc != 0)
			return -EIO;
		snprintf(q->acted, sizeof(q->acted), "suspend");
	}
	snprintf(d->acted, sizeof(d->acted), "%s", q->acted);
	d->jobs = true;
	return 0;
}

static bool save(const quota_vps *q, int64_t ps, const quota_state *st)
{
	sqlite3_stmt *s = db_stmt(
	        "INSERT INTO vps_quota(vps_id, period_start, notified_80, notified_100, acted, "
	        "throttle_before, throttle_mbit) VALUES(?1,?2,?3,?4,?5,?6,?7) ON CONFLICT(vps_id) "
	        "DO "
	        "UPDATE SET period_start=?2, notified_80=?3, notified_100=?4, acted=?5, "
	        "throttle_before=?6, throttle_mbit=?7");

	if (!s)
		return false;
	sqlite3_bind_int64(s, 1, q->id);
	sqlite3_bind_int64(s, 2, ps);
	sqlite3_bind_int(s, 3, st->notified_80);
	sqlite3_bind_int(s, 4, st->notified_100);
	if (q->acted[0])
		sqlite3_bind_text(s, 5, q->acted, -1, SQLITE_TRANSIENT);
	sqlite3_bind_int64(s, 6, q->throttle_before);
	sqlite3_bind_int64(s, 7, q->throttle_mbit);
	return db_step_done(s);
}

static void audit_step(const quota_vps *q, const quota_done *d, const quota_todo *t, int64_t used,
                       int64_t included)
{
	char res[AUDIT_RESOURCE_MAX], detail[AUDIT_DETAIL_MAX];

	snprintf(res, sizeof(res), "vps/%lld", (long long)q->id);
	if (d->lifted[0]) {
		snprintf(detail, sizeof(detail), "%s lifted: %lld of %lld bytes", d->lifted,
		         (long long)used, (long long)included);
		audit_system("vps.quota.lift", res, detail);
	}
	if (t->notice_80 || t->notice_100) {
		snprintf(detail, sizeof(detail), "notice %s: %lld of %lld bytes",
		         t->notice_100 ? (t->notice_80 ? "80 % and 100 %" : "100 %") : "80 %",
		         (long long)used, (long long)included);
		audit_system("vps.quota.notice", res, detail);
	}
	if (d->followed_mbit > 0) {
		snprintf(detail, sizeof(detail),
		         "the throttle follows the plan: %lld Mbit/s: %lld of %lld bytes",
		         (long long)d->followed_mbit, (long long)used, (long long)included);
		audit_system("vps.quota.throttle", res, detail);
	}
	if (strcmp(d->acted, "throttle") == 0) {
		snprintf(detail, sizeof(detail), "throttled to %lld Mbit/s: %lld of %lld bytes",
		         (long long)d->mbit, (long long)used, (long long)included);
		audit_system("vps.quota.throttle", res, detail);
	} else if (strcmp(d->acted, "suspend") == 0) {
		snprintf(detail, sizeof(detail), "by quota: %lld of %lld bytes", (long long)used,
		         (long long)included);
		audit_system("vps.suspend", res, detail);
	}
}

/* One VPS's ladder step: reads, decides, writes in one transaction. Under quota_mu. */
static int step_one(quota_vps *q)
{
	int64_t now = now_unix(), ps, pe, used, included;
	quota_state next;
	quota_todo t;
	quota_done d = {0};
	bool same, stale;
	int rc;

	if (measure(q, now, &ps, &pe, &used, &included) != 0)
		return -EIO;
	same = !q->have_row || q->period_start == ps;
	t = quota_step(q->st, same, used, included, &next);
	stale = !t.lift && throttle_stale(q);
	if (!t.lift && !t.notice_80 && !t.notice_100 && !t.act && !stale && q->have_row && same)
		return 0; /* the common case: nothing moves, nothing is written */
	if (db_begin() != 0)
		return -EIO;
	if (t.lift) {
		rc = lift(q, &d);
		if (rc == -EAGAIN) {
			/* Still over in suspend.c's eyes: leave it in force, retry next sweep. */
			next.acted = true;
			t.act = false;
		} else if (rc != 0) {
			goto fail;
		} else if (!add_notice(q, ps, "lifted", used, included, now)) {
			goto fail;
		}
	}
	if (stale && follow(q, &d) != 0)
		goto fail;
	if ((t.notice_80 && !add_notice(q, ps, "notice_80", used, included, now)) ||
	    (t.notice_100 && !add_notice(q, ps, "notice_100", used, included, now)))
		goto fail;
	if (t.act) {
		rc = act(q, used, included, &d);
		if (rc == -EALREADY)
			next.acted =
			        false; /* suspended by someone else: nothing in force of ours */
		else if (rc != 0)
			goto fail;
		else if (!add_notice(q, ps,
		                     q->action == QUOTA_ACT_SUSPEND ? "suspended" : "throttled",
		                     used, included, now))
			goto fail;
	}
	if (!save(q, ps, &next))
		goto fail;
	if (db_commit() != 0)
		return -EIO;
	if (d.jobs)
		jobs_wake();
	if (t.lift || t.notice_80 || t.notice_100 || t.act)
		quota_notify_wake();
	audit_step(q, &d, &t, used, included);
	return 0;
fail:
	db_rollback();
	return -EIO;
}

/* Runs the ladder for the VPS QUOTA_SELECT + where (binding vps_id when > 0) selects. */
static int run(const char *sql, int64_t vps_id)
{
	sqlite3_stmt *st;
	quota_vps *qs = NULL;
	size_t n = 0, cap = 0;
	int r, rc = 0;

	pthread_mutex_lock(&quota_mu);
	st = db_stmt(sql);
	if (!st) {
		pthread_mutex_unlock(&quota_mu);
		return -EIO;
	}
	if (vps_id > 0)
		sqlite3_bind_int64(st, 1, vps_id);
	while ((r = sqlite3_step(st)) == SQLITE_ROW) {
		if (n == cap) {
			size_t ncap = cap ? cap * 2 : 16;
			quota_vps *grown = realloc(qs, ncap * sizeof(*qs));

			if (!grown) {
				r = SQLITE_NOMEM;
				break;
			}
			qs = grown;
			cap = ncap;
		}
		from_row(st, &qs[n++]);
	}
	sqlite3_reset(st);
	if (r != SQLITE_DONE)
		rc = -EIO;
	db_release();
	for (size_t i = 0; rc == 0 && i < n; i++) {
		if (step_one(&qs[i]) != 0) {
			log_error(
			        "quota: VPS %lld: the ladder step failed: %s (retried at the next "
			        "sweep)",
			        (long long)qs[i].id, sqlite3_errmsg(db()));
			rc = -EIO; /* the others still get their step */
			for (size_t j = i + 1; j < n; j++)
				(void)step_one(&qs[j]);
			break;
		}
	}
	db_release();
	free(qs);
	pthread_mutex_unlock(&quota_mu);
	return rc;
}

int quota_sweep(void)
{
	pthread_mutex_lock(&quota_mu);
	if (quota_usage_feed(cfg_now(), now_unix()) != 0) {
		pthread_mutex_unlock(&quota_mu);
		return -EIO;
	}
	pthread_mutex_unlock(&quota_mu);
	return run(QUOTA_SELECT "WHERE v.state!='deleting' AND (p.traffic_gib>0 OR q.acted IS NOT "
	                        "NULL) ORDER BY v.id",
	           0);
}

int quota_check_vps(int64_t vps_id)
{
	return run(QUOTA_SELECT "WHERE v.id=?1 AND v.state!='deleting'", vps_id);
}

int quota_check_plan(int64_t plan_id)
{
	return run(QUOTA_SELECT "WHERE v.plan_id=?1 AND v.state!='deleting' ORDER BY v.id",
	           plan_id);
}

/* Loads one VPS's quota_vps. 0, -ENOENT, -EIO. */
static int load_one(int64_t vps_id, quota_vps *q)
{
	sqlite3_stmt *st = db_stmt(QUOTA_SELECT "WHERE v.id=?1");
	int r;

	if (!st)
		return -EIO;
	sqlite3_bind_int64(st, 1, vps_id);
	r = sqlite3_step(st);
	if (r == SQLITE_ROW)
		from_row(st, q);
	sqlite3_reset(st);
	return r == SQLITE_ROW ? 0 : r == SQLITE_DONE ? -ENOENT : -EIO;
}

bool quota_allows_unsuspend(int64_t vps_id)
{
	int64_t ps, pe, used, included;
	quota_vps q;

	if (load_one(vps_id, &q) != 0 || q.traffic_gib <= 0)
		return true;
	if (measure(&q, now_unix(), &ps, &pe, &used, &included) != 0)
		return true;
	return used < included;
}

json_object *quota_vps_json(int64_t vps_id)
{
	int64_t ps, pe, used, included;
	quota_state st = {0};
	json_object *o;
	quota_vps q;

	if (load_one(vps_id, &q) != 0 || q.traffic_gib <= 0 ||
	    measure(&q, now_unix(), &ps, &pe, &used, &included) != 0)
		return NULL;
	if (q.have_row && q.period_start == ps)
		st = q.st;
	st.acted = q.acted[0] != '\0'; /* in force until the next sweep lifts it */
	o = json_object_new_object();
	json_object_object_add(o, "included_bytes", json_object_new_int64(included));
	json_object_object_add(o, "used_bytes", json_object_new_int64(used));
	json_object_object_add(o, "percent", json_object_new_int64(quota_percent(used, included)));
	json_object_object_add(o, "direction", json_object_new_string(quota_direction_name(q.dir)));
	json_object_object_add(o, "period_start", json_time(ps));
	json_object_object_add(o, "period_end", json_time(pe));
	json_object_object_add(o, "action", json_object_new_string(quota_action_name(q.action)));
	json_object_object_add(o, "state",
	                       json_object_new_string(quota_state_name(
	                               &st, strcmp(q.acted, "suspend") == 0 ? QUOTA_ACT_SUSPEND
	                                    : q.acted[0]                    ? QUOTA_ACT_THROTTLE
	                                                                    : q.action)));
	if (q.action == QUOTA_ACT_THROTTLE)
		json_object_object_add(o, "over_quota_mbit",
		                       json_object_new_int64(q.over_quota_mbit));
	return o;
}

int quota_add_extra(int64_t vps_id, int64_t gib)
{
	billing_config cfg = cfg_now();
	int64_t ps, pe, now = now_unix();
	sqlite3_stmt *st;
	quota_vps q;
	int rc;

	if (gib < 1 || gib > QUOTA_EXTRA_GIB_MAX)
		return -EINVAL;
	if (db_begin() != 0)
		return -EIO;
	rc = load_one(vps_id, &q);
	if (rc != 0)
		goto out;
	rc = -EIO;
	if (billing_period_of(&cfg, q.created_at, now, &ps, &pe) != 0)
		goto out;
	/* The row's ladder state is the sweep's; only the extra columns move here. A row made here
	 * has period_start 0: the next step treats it as a new period (nothing in force). */
	st = db_stmt("INSERT INTO vps_quota(vps_id, period_start, extra_period_start, extra_bytes) "
	             "VALUES(?1, 0, ?2, ?3) ON CONFLICT(vps_id) DO UPDATE SET "
	             "extra_bytes=CASE WHEN extra_period_start=?2 THEN min(extra_bytes + ?3, "
	             "9223372036854775807) ELSE ?3 END, extra_period_start=?2");
	if (!st)
		goto out;
	sqlite3_bind_int64(st, 1, vps_id);
	sqlite3_bind_int64(st, 2, ps);
	sqlite3_bind_int64(st, 3, gib * QUOTA_GIB_BYTES);
	if (!db_step_done(st))
		goto out;
	if (db_commit() != 0)
		return -EIO;
	return 0;
out:
	db_rollback();
	return rc;
}
