/* api.h — the REST handlers (api_*.c, console.c) that routes.c maps to paths, and the helpers
 * they share (api_util.c): ids, times, paging and the "delete unless referenced" pattern.
 * Handlers answer through reply_*() only; nothing here talks to the agent except where a
 * handler says so (templates, consoles).
 * Return convention: handlers always answer (a problem on every error path); bool helpers
 * return true when the caller may go on and false when they already answered a problem. */
#ifndef XVPS_PANEL_API_H
#define XVPS_PANEL_API_H

#include <json-c/json.h>
#include <sqlite3.h>
#include <stdbool.h>
#include <stdint.h>

#include "agent_client.h"
#include "http.h"
#include "store.h"

#define LIST_DEFAULT_LIMIT 100
#define LIST_MAX_LIMIT     1000

/* ---- shared helpers (api_util.c) ---------------------------------------------------------- */
/* Parses a path id parameter ("1".."9223372036854775807"); false for anything else. */
bool parse_id(const char *s, int64_t *out);
/* Formats an id as the JSON string the API uses. */
json_object *json_id(int64_t id);
/* A unix time as an RFC 3339 JSON string; JSON null when t <= 0. */
json_object *json_time(int64_t t);
/* Reads ?limit (1..LIST_MAX_LIMIT, default LIST_DEFAULT_LIMIT) and ?offset (>= 0, default 0).
 * On a bad value answers 422 naming the parameter and returns false. */
bool api_list_params(http_req *rq, int64_t *limit_out, int64_t *offset_out);
/* Sets the X-Total-Count header. */
void api_total_header(http_req *rq, int64_t total);

/* The owner filter of rq's queries: 0 for an admin (everything), else the customer's own id. */
int64_t api_owner(const http_req *rq);
/* The state (and plan, when plan_out is not NULL) of VPS id when rq may see it (a customer:
 * only its own). 0, -ENOENT (no such VPS, or not rq's), -EIO (database error). */
int api_vps_visible(const http_req *rq, int64_t id, char state[VPS_STATE_MAX], int64_t *plan_out);

#define API_PAGE_MAX_ARGS 2
/* One page of a collection (GET /plans, /vps, /jobs ...). */
typedef struct api_page {
	const char *count_sql; /* "SELECT count(*) ..." binding ?1..?nargs */
	/* "SELECT ... LIMIT ?(nargs+1) OFFSET ?(nargs+2)" binding the same ?1..?nargs */
	const char *rows_sql;
	int64_t args[API_PAGE_MAX_ARGS];
	int nargs;
	/* One item from a row of rows_sql, or NULL: then rows_sql selects ids only and item_of_id
	 * builds each item after the page was read (for builders that run queries of their own). */
	json_object *(*item_of_row)(sqlite3_stmt *st);
	json_object *(*item_of_id)(int64_t id); /* NULL result: the item is left out */
} api_page;
/* Reads ?limit/?offset and answers 200 with the page as a JSON array and X-Total-Count; 422 on
 * a bad paging parameter, 500 on a database error. */
void api_reply_page(http_req *rq, const api_page *page);

/* DELETE of a row that others may reference, in one transaction: when used_sql ("SELECT 1 ...
 * WHERE ref=? LIMIT 1") finds a row, answers 409 with in_use; else runs delete_sql ("DELETE ...
 * WHERE id=?") and commits. True when the row is gone (the caller audits and answers 204);
 * false when a problem was answered. */
bool api_delete_unless_used(http_req *rq, int64_t id, const char *used_sql, const char *in_use,
                            const char *delete_sql);

/* ---- handlers ----------------------------------------------------------------------------- */
void api_session_create(http_req *rq); /* POST /session (api_auth.c) */
void api_session_delete(http_req *rq); /* DELETE /session */
void api_me(http_req *rq);             /* GET /me */
void api_keys_create(http_req *rq);    /* POST /api-keys */
void api_keys_list(http_req *rq);      /* GET /api-keys */
void api_keys_delete(http_req *rq);    /* DELETE /api-keys/{id} */
void api_plans_list(http_req *rq);
void api_plans_create(http_req *rq);
void api_plans_get(http_req *rq);
void api_plans_patch(http_req *rq);
void api_plans_delete(http_req *rq);
void api_customers_list(http_req *rq);
void api_customers_create(http_req *rq);
void api_customers_get(http_req *rq);
void api_customers_patch(http_req *rq);
void api_customers_delete(http_req *rq);
void api_templates_list(http_req *rq);
void api_templates_create(http_req *rq);
void api_templates_get(http_req *rq);
void api_templates_delete(http_req *rq);
void api_pools_list(http_req *rq);
void api_pools_create(http_req *rq);
void api_pools_get(http_req *rq);
void api_pools_delete(http_req *rq);
/* The VPS as JSON when it exists and owner (0 = any) owns it; else NULL (api_vps_view.c). */
json_object *vps_json(int64_t id, int64_t owner);
void api_vps_list(http_req *rq);
void api_vps_create(http_req *rq);
void api_vps_get(http_req *rq);
void api_vps_action(http_req *rq); /* POST /vps/{id}/actions/{action} */
void api_vps_resize(http_req *rq); /* POST /vps/{id}/actions/resize (owner or admin) */
void api_vps_delete(http_req *rq);
void api_vps_suspend(http_req *rq);      /* POST /vps/{id}/actions/suspend (admin; api_suspend.c) */
void api_vps_unsuspend(http_req *rq);    /* POST /vps/{id}/actions/unsuspend (admin) */
void api_addresses_list(http_req *rq);   /* GET /vps/{id}/addresses */
void api_addresses_add(http_req *rq);    /* POST /vps/{id}/addresses (admin) */
void api_addresses_delete(http_req *rq); /* DELETE /vps/{id}/addresses/{address}[/{len}] */
void api_throttle_set(http_req *rq);     /* PUT /vps/{id}/throttle (admin) */
void api_throttle_lift(http_req *rq);    /* DELETE /vps/{id}/throttle (admin) */
/* The usage ledger (api_usage.c): GET /vps/{id}/usage, GET /customers/{id}/usage (admin). */
void api_vps_usage(http_req *rq);
void api_customer_usage(http_req *rq);
/* {"start","end","rx_bytes","tx_bytes","cpu_ns","running_s"} of VPS vps_id's current billing
 * period (created_at: its anniversary anchor), or NULL on a database error. New object. */
json_object *usage_period_json(int64_t vps_id, int64_t created_at);
/* The traffic quota (api_quota.c; the ladder is quota.c's). */
void api_quota_extra(http_req *rq);  /* POST /vps/{id}/quota/extra (admin) */
void api_vps_notices(http_req *rq);  /* GET /vps/{id}/notices (owner or admin) */
void api_notices_list(http_req *rq); /* GET /notices?vps=&customer= (admin; deleted ones too) */
void api_jobs_get(http_req *rq);
void api_jobs_list(http_req *rq);
void api_audit_list(http_req *rq);
void api_healthz(http_req *rq); /* GET /healthz */
/* Backups of the database (api_backups.c): POST /backups, GET /backups, GET /backups/{name}. */
void api_backups_create(http_req *rq);
void api_backups_list(http_req *rq);
void api_backups_get(http_req *rq);
void api_metrics(http_req *rq); /* GET /metrics */
/* Browser consoles (console.c; issue 6 Contract B). */
void api_console_token(http_req *rq); /* POST /vps/{id}/console */
void api_console_ws(http_req *rq);    /* GET /console/ws?token= (WebSocket upgrade) */

/* ---- templates (api_templates.c) ---------------------------------------------------------- */
/* Asks the agent to make template "tpl-<id>" (disk_gib, optional source file). Returns as
 * panel_agent_call (no retry). */
int template_agent_ensure(int64_t id, int64_t disk_gib, const char *source, agent_err *e);

/* ---- demo data (demo.c) ------------------------------------------------------------------- */
/* Seeds the XVPS_DEMO objects (plan, template, pool, customer) when the tables are empty.
 * 0 or -1 (logged). */
int demo_seed(void);

#endif
