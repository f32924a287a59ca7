/* resources.h — internals shared by xvpsd's resource handlers (api_plans/customers/templates/
 * pools/vps/addresses/jobs.c), the job engine (jobs.c, vps_spec.c) and demo.c: list paging,
 * the agent client with retries, the host lock that keeps the reconciler from racing creations,
 * the job steps exposed to the unit tests and the handlers panel.h does not declare. Nothing
 * here answers HTTP except api_list_params' 422 (and the handlers). */
#ifndef XVPS_RESOURCES_H
#define XVPS_RESOURCES_H

#include <json-c/json.h>
#include <stdbool.h>
#include <stdint.h>

#include "panel.h"

/* ---- paging (api_jobs.c) ------------------------------------------------------------------ */
/* Reads ?limit (1..LIST_MAX_LIMIT, default LIST_DEFAULT_LIMIT) and ?offset (>= 0, default 0).
 * On a bad value answers 422 naming the parameter and returns false. */
bool api_list_params(http_req *rq, int64_t *limit_out, int64_t *offset_out);
/* Sets the X-Total-Count header. */
void api_total_header(http_req *rq, int64_t total);
/* Runs sql (a string literal for db_stmt(), "SELECT count(*) ...", no parameters) and sets
 * *count_out to its single value (0 when it returns no row). False on a DB error. */
bool db_count(const char *sql, int64_t *count_out);
/* Runs sql (a string literal for db_stmt(), "SELECT 1 ... WHERE x=? LIMIT 1") with id bound
 * to its one parameter; *exists_out is true when it returns a row. False on a DB error. */
bool db_exists_id(const char *sql, int64_t id, bool *exists_out);
/* A unix time as an RFC 3339 JSON string; JSON null when t <= 0. */
json_object *json_time(int64_t t);
/* A nullable integer column as JSON (null or int). */
json_object *json_col_int_or_null(sqlite3_stmt *st, int col);

/* ---- the agent client (jobs.c) ------------------------------------------------------------ */
typedef struct agent_err {
	int rc;         /* 0 ok; 1 the agent answered "ok": false; -errno transport failure */
	char code[16];  /* "invalid|not_found|conflict|host|busy" when rc == 1 */
	char field[32]; /* spec field the agent blamed, or "" */
	char msg[256];  /* English sentence for job errors and problem details */
} agent_err;

/* True for the transport errors that mean "agent not running / restarting": worth a retry. */
bool agent_unreachable(int rc);
/* True once jobs_stop() or process shutdown began (agent retries give up then). */
bool jobs_stopping(void);

/* Sends req to the agent at cfg.agent_sock with cfg.agent_timeout_ms. When the agent cannot be
 * reached, retries with backoff 1, 2, 4 ... s for at most retry_s seconds in total (0: no
 * retry; aborted when the process is stopping). Returns e->rc: 0 with *result_out (a new
 * reference, when result_out is not NULL) set to the response's "result" object; 1 when the
 * agent refused (e filled); -errno when it could not be reached or answered garbage. */
int panel_agent_call(json_object *req, int retry_s, json_object **result_out, agent_err *e);

/* Readers: every agent operation that may create host objects. Writer: the reconciler, so that
 * it never reports an object whose row was committed after it read the known names. */
void jobs_host_rdlock(void);
void jobs_host_wrlock(void);
void jobs_host_unlock(void);

/* ---- job engine internals (jobs.c), public for tests ---------------------------------------- */
/* Claims the oldest queued job whose VPS has no running job and no older queued job, marking
 * it running (attempts + 1, started_at). Returns its id, 0 when none is claimable, -1 on a
 * database error. Safe to call from several threads. */
int64_t job_claim_next(void);
/* Runs one claimed job to done/failed (or back to queued when the process is stopping). */
void job_run(int64_t job_id);
/* Requeues jobs left "running" (crash recovery). Returns how many, or -1. */
int jobs_requeue_running(void);

/* ---- the VPS_SPEC (vps_spec.c) ------------------------------------------------------------- */
/* Builds the VPS_SPEC (common/agent_proto.h) of a VPS from the database with the given power
 * ("running" | "stopped"): active addresses only (routed /64s in "ipv6_routed"), the plan's
 * smtp_block and the VPS's throttle_mbit. Returns a new object, or NULL when the VPS does not
 * exist or the database failed. */
json_object *job_build_spec(int64_t vps_id, const char *power);

/* The address rows in state 'releasing' that a spec left out (ipam_releasing). */
typedef struct spec_release {
	int64_t vps_id;
	int64_t *rowids;
	size_t n;
} spec_release;
/* job_build_spec after noting the VPS's releasing rows in *rel (always initialised; release it
 * with spec_release_done or spec_release_free, also when NULL is returned). */
json_object *job_build_spec_release(int64_t vps_id, const char *power, spec_release *rel);
/* The agent applied that spec (vps.ensure / vps.network): deletes the noted rows, so that their
 * addresses are free again, audits it, and frees rel. A failure is logged (the rows stay
 * releasing until the next successful network change). */
void spec_release_done(spec_release *rel);
void spec_release_free(spec_release *rel);

/* ---- addresses and throttle (api_addresses.c) ---------------------------------------------- */
void api_addresses_list(http_req *rq);   /* GET /vps/{id}/addresses */
void api_addresses_add(http_req *rq);    /* POST /vps/{id}/addresses (admin) */
void api_addresses_delete(http_req *rq); /* DELETE /vps/{id}/addresses/{address}[/{len}] */
void api_throttle_set(http_req *rq);     /* PUT /vps/{id}/throttle (admin) */
void api_throttle_lift(http_req *rq);    /* DELETE /vps/{id}/throttle (admin) */

/* ---- templates (api_templates.c) ---------------------------------------------------------- */
/* Asks the agent to make template "tpl-<id>" (disk_gib, optional source file). Returns as
 * panel_agent_call (no retry). */
int template_agent_ensure(int64_t id, int64_t disk_gib, const char *source, agent_err *e);

#endif
