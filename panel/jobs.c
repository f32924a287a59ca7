/* jobs.c — the persistent job queue and its workers: the jobs table's only writer (enqueue,
 * claim one job at a time per VPS in order, steps, outcome) and the worker threads that run
 * claimed jobs (job_steps.c) and the periodic reconcile. It never runs a host command and never
 * talks to the agent itself. */
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "../common/agent_proto.h"
#include "../common/util.h"
#include "agent_client.h"
#include "api.h"
#include "audit.h"
#include "config.h"
#include "ipam.h"
#include "http_park.h"
#include "job_timing.h"
#include "jobs.h"
#include "store.h"
#include "vps_spec.h"

#define RECONCILE_INTERVAL_S 60

static pthread_mutex_t claim_mu = PTHREAD_MUTEX_INITIALIZER;
static pthread_mutex_t wake_mu = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t wake_cv;
static bool wake_cv_ready;
static unsigned long wake_seq;
static atomic_bool stop_flag;
static pthread_t *workers;
static int n_workers;

static const char *const job_kinds[] = {
        "vps.create",   "vps.start",       "vps.shutdown", "vps.reboot",
        "vps.poweroff", "vps.reinstall",   "vps.delete",   "vps.update",
        "vps.network",  "template.import", "vps.rescue",   "vps.unrescue", /* issue 16 items 7, 3 */
        NULL,
};

bool jobs_stopping(void)
{
	return atomic_load(&stop_flag) || (g_app && atomic_load(&g_app->stopping));
}

/* ---- rows ----------------------------------------------------------------------------------- */

int64_t job_enqueue(const char *kind, int64_t vps_id, int64_t user_id)
{
	sqlite3_stmt *st;
	bool known = false;

	for (size_t i = 0; job_kinds[i]; i++)
		known = known || strcmp(kind, job_kinds[i]) == 0;
	if (!known) {
		log_error("job_enqueue: unknown kind %s", kind);
		return -1;
	}
	st = db_stmt("INSERT INTO jobs(kind, vps_id, user_id, state, created_at) "
	             "VALUES(?, ?, ?, 'queued', ?)");
	if (!st)
		return -1;
	sqlite3_bind_text(st, 1, kind, -1, SQLITE_STATIC);
	if (vps_id > 0)
		sqlite3_bind_int64(st, 2, vps_id);
	if (user_id > 0)
		sqlite3_bind_int64(st, 3, user_id);
	sqlite3_bind_int64(st, 4, now_unix());
	if (sqlite3_step(st) != SQLITE_DONE) {
		log_error("job_enqueue: %s", sqlite3_errmsg(db()));
		sqlite3_reset(st);
		return -1;
	}
	sqlite3_reset(st);
	return db_last_id();
}

json_object *job_json(int64_t job_id)
{
	sqlite3_stmt *st = db_stmt("SELECT id, kind, state, error, vps_id, created_at, started_at, "
	                           "finished_at, step, template_id FROM jobs WHERE id=?");
	json_object *o;

	if (!st)
		return NULL;
	sqlite3_bind_int64(st, 1, job_id);
	if (sqlite3_step(st) != SQLITE_ROW) {
		sqlite3_reset(st);
		return NULL;
	}
	o = json_object_new_object();
	json_object_object_add(o, "id", json_id(sqlite3_column_int64(st, 0)));
	json_object_object_add(o, "kind",
	                       json_object_new_string((const char *)sqlite3_column_text(st, 1)));
	json_object_object_add(o, "state",
	                       json_object_new_string((const char *)sqlite3_column_text(st, 2)));
	json_object_object_add(
	        o, "error",
	        json_str_or_null(sqlite3_column_type(st, 3) == SQLITE_NULL
	                                 ? NULL
	                                 : (const char *)sqlite3_column_text(st, 3)));
	json_object_object_add(o, "vps",
	                       sqlite3_column_type(st, 4) == SQLITE_NULL
	                               ? NULL
	                               : json_id(sqlite3_column_int64(st, 4)));
	json_object_object_add(o, "created_at", json_time(sqlite3_column_int64(st, 5)));
	json_object_object_add(o, "started_at", json_time(sqlite3_column_int64(st, 6)));
	json_object_object_add(o, "finished_at", json_time(sqlite3_column_int64(st, 7)));
	json_object_object_add(
	        o, "step",
	        json_str_or_null(sqlite3_column_type(st, 8) == SQLITE_NULL
	                                 ? NULL
	                                 : (const char *)sqlite3_column_text(st, 8)));
	json_object_object_add(o, "template", /* template.import (issue 16 item 7) */
	                       sqlite3_column_type(st, 9) == SQLITE_NULL
	                               ? NULL
	                               : json_id(sqlite3_column_int64(st, 9)));
	sqlite3_reset(st);
	json_object_object_add(o, "steps", job_steps_json(job_id));
	return o;
}

int jobs_requeue_running(void)
{
	sqlite3_stmt *st = db_stmt("UPDATE jobs SET state='queued' WHERE state='running'");
	int r;

	if (!st)
		return -1;
	r = sqlite3_step(st);
	sqlite3_reset(st);
	if (r != SQLITE_DONE)
		return -1;
	return sqlite3_changes(db());
}

int64_t job_claim_next(void)
{
	sqlite3_stmt *st;
	int64_t id = 0;
	int r;

	pthread_mutex_lock(&claim_mu);
	st = db_stmt("UPDATE jobs SET state='running', started_at=?, attempts=attempts+1 "
	             "WHERE id=(SELECT j.id FROM jobs j WHERE j.state='queued' "
	             "AND NOT EXISTS (SELECT 1 FROM jobs r WHERE r.state='running' "
	             "AND r.vps_id=j.vps_id) "
	             "AND NOT EXISTS (SELECT 1 FROM jobs e WHERE e.state='queued' "
	             "AND e.vps_id=j.vps_id AND e.id<j.id) "
	             "ORDER BY j.id LIMIT 1) RETURNING id");
	if (!st) {
		pthread_mutex_unlock(&claim_mu);
		return -1;
	}
	sqlite3_bind_int64(st, 1, now_unix());
	while ((r = sqlite3_step(st)) == SQLITE_ROW)
		id = sqlite3_column_int64(st, 0);
	sqlite3_reset(st);
	pthread_mutex_unlock(&claim_mu);
	if (r != SQLITE_DONE) {
		log_error("job claim: %s", sqlite3_errmsg(db()));
		return -1;
	}
	return id;
}

void job_set_step(int64_t job_id, const char *step)
{
	sqlite3_stmt *st = db_stmt("UPDATE jobs SET step=? WHERE id=?");

	job_timing_begin(job_id, step);
	if (!st)
		return;
	sqlite3_bind_text(st, 1, step, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 2, job_id);
	if (sqlite3_step(st) != SQLITE_DONE)
		log_error("job %lld step: %s", (long long)job_id, sqlite3_errmsg(db()));
	sqlite3_reset(st);
}

void job_requeue(int64_t job_id)
{
	sqlite3_stmt *st = db_stmt("UPDATE jobs SET state='queued' WHERE id=?");

	job_timing_end(job_id);
	if (!st)
		return;
	sqlite3_bind_int64(st, 1, job_id);
	db_step_done(st); /* logged; jobs_requeue_running() requeues it at the next start */
}

void job_finish(int64_t job_id, const char *kind, int64_t vps_id, const char *error)
{
	sqlite3_stmt *st =
	        db_stmt("UPDATE jobs SET state=?, error=?, finished_at=?, step=? WHERE id=?");
	char res[AUDIT_RESOURCE_MAX], detail[AUDIT_DETAIL_MAX];

	job_timing_end(job_id);
	if (st) {
		sqlite3_bind_text(st, 1, error ? "failed" : "done", -1, SQLITE_STATIC);
		if (error)
			sqlite3_bind_text(st, 2, error, -1, SQLITE_TRANSIENT);
		sqlite3_bind_int64(st, 3, now_unix());
		sqlite3_bind_text(st, 4, error ? "failed" : "done", -1, SQLITE_STATIC);
		sqlite3_bind_int64(st, 5, job_id);
		if (sqlite3_step(st) != SQLITE_DONE)
			log_error("job %lld finish: %s", (long long)job_id, sqlite3_errmsg(db()));
		sqlite3_reset(st);
	}
	http_park_wake(job_id); /* GET /jobs/{id}?wait= answers now */
	if (error) {
		if (g_app)
			atomic_fetch_add(&g_app->metrics.jobs_failed, 1);
		snprintf(res, sizeof(res), "job/%lld", (long long)job_id);
		snprintf(detail, sizeof(detail), "%s vps/%lld: %s", kind, (long long)vps_id, error);
		log_warn("job %lld (%s vps/%lld) failed: %s", (long long)job_id, kind,
		         (long long)vps_id, error);
		audit_system("job.failed", res, detail);
	} else if (g_app) {
		atomic_fetch_add(&g_app->metrics.jobs_done, 1);
	}
}

/* ---- workers -------------------------------------------------------------------------------- */

static void *worker_main(void *arg)
{
	int idx = (int)(intptr_t)arg;
	uint64_t last_reconcile = 0;

	while (!jobs_stopping()) {
		unsigned long seq;
		int64_t id;

		if (idx == 0 &&
		    (last_reconcile == 0 ||
		     now_mono_ns() - last_reconcile >= RECONCILE_INTERVAL_S * 1000000000ULL)) {
			jobs_reconcile_now();
			db_release();
			last_reconcile = now_mono_ns();
		}
		pthread_mutex_lock(&wake_mu);
		seq = wake_seq;
		pthread_mutex_unlock(&wake_mu);
		id = job_claim_next();
		if (id > 0) {
			job_run(id);
			db_release(); /* no snapshot or transaction outlives a job */
			continue;
		}
		pthread_mutex_lock(&wake_mu);
		if (seq == wake_seq && !jobs_stopping()) {
			struct timespec ts;

			clock_gettime(CLOCK_MONOTONIC, &ts);
			ts.tv_sec += 1;
			pthread_cond_timedwait(&wake_cv, &wake_mu, &ts);
		}
		pthread_mutex_unlock(&wake_mu);
	}
	store_close_thread();
	return NULL;
}

void jobs_wake(void)
{
	pthread_mutex_lock(&wake_mu);
	wake_seq++;
	if (wake_cv_ready)
		pthread_cond_broadcast(&wake_cv);
	pthread_mutex_unlock(&wake_mu);
}

int jobs_start(void)
{
	int n = g_app && g_app->cfg.job_workers > 0 ? g_app->cfg.job_workers : 4;
	int requeued;

	if (n > 64)
		n = 64;
	requeued = jobs_requeue_running();
	if (requeued < 0)
		return -1;
	if (requeued > 0)
		log_info("jobs: requeued %d interrupted job(s)", requeued);
	if (!wake_cv_ready) {
		cond_init_monotonic(&wake_cv);
		wake_cv_ready = true;
	}
	atomic_store(&stop_flag, false);
	workers = calloc((size_t)n, sizeof(*workers));
	if (!workers)
		return -1;
	for (n_workers = 0; n_workers < n; n_workers++) {
		if (pthread_create(&workers[n_workers], NULL, worker_main,
		                   (void *)(intptr_t)n_workers) != 0) {
			log_error("jobs: cannot start worker %d", n_workers);
			jobs_stop();
			return -1;
		}
	}
	log_info("jobs: %d worker(s)", n_workers);
	return 0;
}

void jobs_stop(void)
{
	atomic_store(&stop_flag, true);
	jobs_wake();
	for (int i = 0; i < n_workers; i++)
		pthread_join(workers[i], NULL);
	free(workers);
	workers = NULL;
	n_workers = 0;
}

int vps_change_gate(int64_t vps_id, const char *state, const char *suspended, const char *busy,
                    const char **detail)
{
	bool found = false;

	if (strcmp(state, "deleting") == 0) {
		*detail = "the VPS is being deleted";
		return 409;
	}
	if (!db_exists_id("SELECT 1 FROM vps_suspension WHERE vps_id=?", vps_id, &found)) {
		*detail = "database error";
		return 500;
	}
	if (found) {
		*detail = suspended;
		return 409;
	}
	if (!db_exists_id("SELECT 1 FROM jobs WHERE vps_id=? AND state IN ('queued','running')",
	                  vps_id, &found)) {
		*detail = "database error";
		return 500;
	}
	if (found) {
		*detail = busy;
		return 409;
	}
	return 0;
}
