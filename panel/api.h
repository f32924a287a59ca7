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
#include "limits.h"
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
/* Reads a suspension's body {"reason"} (required or not; suspend_reason_ok) into *reason_out;
 * false when a 422 was answered (api_suspend.c). */
bool api_read_reason(http_req *rq, bool required, const char **reason_out);

/* ---- ordering a VPS (api_vps.c) ------------------------------------------------------------ */
typedef struct vps_order {
	const char *hostname; /* valid_hostname() already */
	int64_t customer_id, plan_id, template_id;
	const char *ssh_keys_json; /* a JSON array of valid, distinct keys: "[]" for none */
} vps_order;
/* An error decided inside a transaction: rolled back by the caller, then answered. */
typedef struct api_failure {
	int status;
	const char *title; /* NULL: the status's standard title */
	const char *detail;
	const char *field;
	limit_refusal lim; /* a customer limit refused it (lim.limit set): api_reply_failure */
} api_failure;
/* Answers f: a problem naming the limit ({"limit","allowed","used","requested"} members) when
 * f->lim.limit is set, else reply_problem (api_limits.c). */
void api_reply_failure(http_req *rq, const api_failure *f);
/* Answers a limit refusal (403 "plans", else 409) as problem+json with the members
 * "limit", "allowed", "used", "requested" (for "plans": "requested" the plan id and "allowed"
 * the plan ids offered) (api_limits.c). */
void api_reply_limit(http_req *rq, const limit_refusal *why);
/* Inside the caller's transaction (db_begin()): checks o's plan, template and customer (422),
 * the template's fit (422), the hostname (409) and the pools (409), inserts the VPS row,
 * allocates its addresses and queues vps.create as actor_id (a suspended customer's VPS is
 * suspended with it). 0 with *id_out and *job_out, or -1 with *f filled; the caller rolls back,
 * and after the commit calls jobs_wake() and audits vps.create. */
int vps_create_tx(const vps_order *o, int64_t actor_id, int64_t *id_out, int64_t *job_out,
                  api_failure *f);

/* ---- accounts (issue 16 item 5: api_auth.c, api_account.c, api_totp.c, api_reset.c) ------ */
/* The password was right (and the second factor, when totp_on): clears ukey's login failures
 * from rq's ip, rotates rq's old session, starts a new one and answers 201 with the cookie. */
void api_login_finish(http_req *rq, int64_t uid, const char *uname, const char *role,
                      const char *ukey, bool totp_on);
/* The password was right and uid has TOTP: answers 200 {"totp_required": true, "challenge",
 * "expires_at"}; POST /session/totp finishes the login with a code. */
void api_login_challenge(http_req *rq, int64_t uid, const char *uname, const char *ukey);
/* ukey's login failures from rq's ip (auth_login_retry_after at now) allow another try: true.
 * Else false after answering 500, or 429 titled title with Retry-After, auditing action with
 * res and detail (api_auth.c). */
bool api_login_wait_over(http_req *rq, const char *ukey, int64_t now, const char *action,
                         const char *res, const char *detail, const char *title);
/* The admin setting require_admin_totp is on and rq is an admin without TOTP. */
bool account_totp_required(const http_req *rq);
/* An admin session that must enrol TOTP first may reach only GET /me, DELETE /session and
 * /account/...: false when a 403 (type totp-enrolment-required) was answered (http.c). */
bool account_gate(http_req *rq, const char *pattern);
/* A setting's value (settings table) into out, or def when unset. False on a database error. */
bool setting_get(const char *name, const char *def, char *out, size_t out_len);
/* Sets a setting (settings table; inserted or replaced). False on a database error. */
bool setting_set(const char *name, const char *value);
/* Checks a new password for user name (length from valid_password, not the user name, enough
 * distinct characters). False with *why set. */
bool account_password_ok(const char *pw, const char *username, const char **why);
/* Sets uid's password hash and ends its sessions but keep_sid (0: all) and its login
 * challenges, inside the caller's transaction. 0 or -1. */
int account_set_password_tx(int64_t uid, const char *password, int64_t keep_sid);
void api_account_password(http_req *rq);     /* POST /account/password */
void api_sessions_list(http_req *rq);        /* GET /sessions */
void api_sessions_delete(http_req *rq);      /* DELETE /sessions/{id} */
void api_account_settings_get(http_req *rq); /* GET /settings/accounts (admin) */
void api_account_settings_put(http_req *rq); /* PUT /settings/accounts (admin) */
void api_totp_enrol(http_req *rq);           /* POST /account/totp */
void api_totp_confirm(http_req *rq);         /* POST /account/totp/confirm */
void api_totp_disable(http_req *rq);         /* POST /account/totp/disable */
void api_session_totp(http_req *rq);         /* POST /session/totp (the login's second step) */
void api_reset_request(http_req *rq);        /* POST /password-reset */
void api_reset_confirm(http_req *rq);        /* POST /password-reset/confirm */
/* Waits for the reset e-mails still being sent (each within MAIL_TIMEOUT_S): xvpsd's shutdown. */
void api_reset_drain(void);

/* ---- guest settings (issue 16 item 2: api_vps_settings.c, api_pool_resolvers.c) ---------- */
void api_vps_patch(http_req *rq);          /* PATCH /vps/{id} {"hostname","ssh_keys"} */
void api_vps_reset_password(http_req *rq); /* POST /vps/{id}/actions/reset-password */
void api_pools_patch(http_req *rq);        /* PATCH /ip-pools/{id} {"resolvers"} */
/* Reads an optional "resolvers" of rq's body (<= 3 distinct IPv4/IPv6 addresses) into
 * *canon_out (canonical text; *given false when absent); false after answering 422. */
bool pool_resolvers_read(http_req *rq, bool *given, json_object **canon_out);
/* Writes a pool's resolvers (NULL or empty: none) inside the caller's transaction. 0 or -1. */
int pool_resolvers_store(int64_t id, json_object *canon);
json_object *pool_resolvers_json(int64_t id); /* the pool's resolvers, [] for none */

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
/* Per-customer limits (issue 16 item 8; api_limits.c). */
void api_customer_limits_get(http_req *rq);   /* GET /customers/{id}/limits (owner or admin) */
void api_customer_limits_patch(http_req *rq); /* PATCH /customers/{id}/limits (admin) */
/* billing (api_billing.c, api_invoices.c; issue 14 items 1-3) */
void api_settings_get(http_req *rq);
void api_settings_patch(http_req *rq);
void api_customer_balance(http_req *rq);
void api_customer_billing_patch(http_req *rq);
void api_customer_payments_list(http_req *rq);
void api_customer_payment_create(http_req *rq);
/* Validates rq's payment body ({"amount_cents","kind","reference","note"}), records it for
 * customer id (an existing customer), audits customer.payment and answers 201 with the payment,
 * or the RFC 9457 error (422 with field, 500). POST /customers/{id}/payments and the module
 * API's POST /billing/services/{id}/payments share it. */
void api_payment_create_for(http_req *rq, int64_t id);
void api_billing_payment(http_req *rq); /* POST /billing/services/{id}/payments */
void api_invoices_list(http_req *rq);
void api_invoices_get(http_req *rq);
void api_invoices_change(http_req *rq); /* PATCH and DELETE: always 409 */
void api_invoice_credit_note(http_req *rq);
void api_customer_invoice_now(http_req *rq);
void api_customer_draft_invoice(http_req *rq);
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
/* Reverse DNS (issue 16 item 4; api_rdns.c, rdns.h). */
void api_rdns_list(http_req *rq);         /* GET /vps/{id}/rdns */
void api_rdns_put(http_req *rq);          /* PUT /vps/{id}/rdns/{address} */
void api_rdns_delete(http_req *rq);       /* DELETE /vps/{id}/rdns/{address} */
void api_rdns_settings_get(http_req *rq); /* GET /settings/rdns (admin) */
void api_rdns_settings_put(http_req *rq); /* PUT /settings/rdns (admin) */
void api_throttle_lift(http_req *rq);     /* DELETE /vps/{id}/throttle (admin) */
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
/* The billing-system module API (issue 14 item 4): api_module.c, api_module_account.c,
 * api_module_usage.c. Routes under /api/v1/billing/ need the API key scope "billing". */
void api_billing_ping(http_req *rq);           /* GET /billing/ping */
void api_billing_usage(http_req *rq);          /* GET /billing/usage */
void api_billing_service_put(http_req *rq);    /* PUT /billing/services/{id}: create */
void api_billing_service_get(http_req *rq);    /* GET /billing/services/{id} */
void api_billing_service_delete(http_req *rq); /* DELETE /billing/services/{id}: terminate */
void api_billing_suspend(http_req *rq);        /* POST /billing/services/{id}/suspend */
void api_billing_unsuspend(http_req *rq);      /* POST /billing/services/{id}/unsuspend */
void api_billing_password(http_req *rq);       /* POST /billing/services/{id}/password */
void api_billing_plan(http_req *rq);           /* POST /billing/services/{id}/plan */
void api_billing_service_usage(http_req *rq);  /* GET /billing/services/{id}/usage */
void api_billing_sso(http_req *rq);            /* POST /billing/services/{id}/sso */
void api_sso_login(http_req *rq);              /* GET /sso?token= (no /api/v1 prefix) */
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
