/* jobs.h — the persistent job queue (jobs.c) and the steps that drive xvps-agent for each job
 * (job_steps.c). job_enqueue is the only code that inserts into the jobs table. A job never
 * runs a host command itself and never leaves a half-made VPS.
 * Return convention: ids are > 0, 0 for "none", -1 on a database error (logged); counts are
 * >= 0 or -1; int start functions return 0 or -1 (logged). */
#ifndef XVPS_PANEL_JOBS_H
#define XVPS_PANEL_JOBS_H

#include <json-c/json.h>
#include <stdbool.h>
#include <stdint.h>

#define JOB_KIND_MAX  32  /* "vps.reinstall" ... with room */
#define JOB_ERROR_MAX 600 /* a job's error sentence (jobs.error) as formatted */

/* Inserts a queued job inside the caller's transaction. kind: "vps.create" | "vps.start" |
 * "vps.shutdown" | "vps.reboot" | "vps.poweroff" | "vps.reinstall" | "vps.delete" |
 * "vps.update" | "vps.network". Returns the job id or -1. */
int64_t job_enqueue(const char *kind, int64_t vps_id, int64_t user_id);
json_object *job_json(int64_t job_id); /* {"id","kind","state","error","vps",...}, NULL: none */
void jobs_wake(void);                  /* a job was enqueued (after commit) */
int jobs_start(void); /* requeues jobs left "running" by a crash, starts the workers */
void jobs_stop(void); /* waits for workers to finish their current step */
/* True once jobs_stop() or process shutdown began (agent retries give up then). */
bool jobs_stopping(void);
/* Sends {"op":"reconcile","known":[...]} to the agent (at start and every 60 s). */
void jobs_reconcile_now(void);

/* ---- job engine internals, public for tests ---------------------------------------------- */
/* Claims the oldest queued job whose VPS has no running job and no older queued job, marking
 * it running (attempts + 1, started_at). Returns its id, 0 when none is claimable, -1 on a
 * database error. Safe to call from several threads. */
int64_t job_claim_next(void);
/* Runs one claimed job to done/failed (or back to queued when the process is stopping). */
void job_run(int64_t job_id);
/* Requeues jobs left "running" (crash recovery). Returns how many, or -1. */
int jobs_requeue_running(void);

/* ---- rows the steps write (jobs.c) -------------------------------------------------------- */
void job_set_step(int64_t job_id, const char *step);
void job_requeue(int64_t job_id);
/* Marks the job done (error NULL) or failed with error, counts it and audits a failure. */
void job_finish(int64_t job_id, const char *kind, int64_t vps_id, const char *error);

/* ---- the gate of a change to one VPS (jobs.c) ---------------------------------------------- */
/* Whether VPS vps_id, whose row's state is state, may take a change (resize, guest settings,
 * rescue) inside the caller's transaction: 0 when it may; else the HTTP status with *detail:
 * 409 "the VPS is being deleted", 409 suspended (a row in vps_suspension), 409 busy (a job
 * queued or running on it), 500 "database error". suspended and busy are the caller's words. */
int vps_change_gate(int64_t vps_id, const char *state, const char *suspended, const char *busy,
                    const char **detail);

/* ---- template.import (template_import.c, issue 16 item 7) ---------------------------------- */
/* Queues template.import for template_id inside the caller's transaction. Job id or -1. */
int64_t job_enqueue_template_import(int64_t template_id, int64_t user_id);
/* Runs a claimed template.import job: fetch (a URL), import, then the template is ready; a
 * failure removes the agent's work and the template row. */
void template_import_run(int64_t job_id);

#endif
