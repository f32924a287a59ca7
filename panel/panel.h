/* panel.h — xvpsd's internal interfaces: configuration, the HTTP request/response model that
 * every api_*.c handler uses, the SQLite store, sessions/RBAC, jobs and the audit log.
 * xvpsd never runs host commands: everything that changes the host goes to xvps-agent. */
#ifndef XVPS_PANEL_H
#define XVPS_PANEL_H

#include <json-c/json.h>
#include <sqlite3.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "../common/jsonutil.h"

#define API_PREFIX "/api/v1"
#define MAX_BODY_BYTES (64 * 1024)
#define SESSION_COOKIE "xvps_session"
#define SESSION_TTL_S (12 * 3600)
#define LOGIN_MAX_FAILURES 5
#define LOGIN_WINDOW_S (15 * 60)
#define LIST_DEFAULT_LIMIT 100
#define LIST_MAX_LIMIT 1000

/* ---- configuration (environment, read once in main.c) ------------------------------------ */
typedef struct xvps_config {
	char listen_host[64];     /* XVPS_LISTEN host part, default 127.0.0.1 */
	int listen_port;          /* XVPS_LISTEN port part, default 8080 */
	char state_dir[512];      /* XVPS_STATE, default ./var */
	char db_path[600];        /* $XVPS_STATE/xvps.db */
	char agent_sock[600];     /* XVPS_AGENT_SOCK, default $XVPS_STATE/agent.sock */
	char web_dir[512];        /* XVPS_WEB_DIR, default ./web */
	char novnc_dir[512];      /* XVPS_NOVNC_DIR, default /usr/share/novnc (served at /novnc/) */
	int console_token_ttl_s;  /* XVPS_CONSOLE_TOKEN_TTL, 1..60 s, default 60 */
	int console_ping_s;       /* XVPS_CONSOLE_PING, 1..300 s, default 30: idle console ping */
	int http_threads;         /* XVPS_HTTP_THREADS, default 4 */
	int per_ip_conn_limit;    /* XVPS_PER_IP_CONN_LIMIT, default 256 */
	int conn_timeout_s;       /* XVPS_CONN_TIMEOUT, default 30 */
	size_t conn_memory_limit; /* bytes per connection, default 128 KiB */
	int job_workers;          /* XVPS_JOB_WORKERS, default 4 */
	int agent_timeout_ms;     /* XVPS_AGENT_TIMEOUT_MS, default 300000 */
	bool demo;                /* XVPS_DEMO=1 seeds a plan, template, pool and customer */
	bool secure_cookies;      /* true when serving TLS (or XVPS_SECURE_COOKIES=1 behind one) */
	char *tls_cert, *tls_key; /* PEM of XVPS_TLS_CERT / XVPS_TLS_KEY; NULL: plain HTTP */
	int pwhash_opslimit;      /* argon2id t (default 2) */
	size_t pwhash_memlimit;   /* argon2id m in bytes (default 19 MiB, OWASP) */
} xvps_config;

/* ---- process-wide state -------------------------------------------------------------------- */
typedef struct xvps_metrics {
	atomic_ullong http_requests;
	atomic_ullong http_2xx, http_4xx, http_5xx;
	atomic_ullong logins_ok, logins_failed;
	atomic_ullong jobs_done, jobs_failed;
	atomic_ullong agent_errors;
} xvps_metrics;

typedef struct xvps_app {
	xvps_config cfg;
	xvps_metrics metrics;
	int64_t started_at;
	atomic_bool stopping;
} xvps_app;

extern xvps_app *g_app; /* set once in main.c before any thread starts */

/* ---- the store (panel/store.c) ---------------------------------------------------------------
 * One SQLite connection per thread (opened lazily; WAL, foreign_keys=ON, busy_timeout 5 s),
 * statements prepared once per connection and cached by their SQL text pointer, so pass string
 * literals. Migrations run from store_open() in the main thread (PRAGMA user_version). */
int store_open(const char *db_path); /* opens, migrates; 0 or -1 (logged) */
sqlite3 *db(void);                    /* this thread's connection */
/* Returns a reset, unbound, cached statement for sql on this thread's connection (NULL on a
 * prepare error, logged). Do not finalize it; it is reset again at the next db_stmt(). */
sqlite3_stmt *db_stmt(const char *sql);
int db_begin(void);    /* BEGIN IMMEDIATE; 0 or -1 */
int db_commit(void);   /* 0 or -1 (and rolls back) */
void db_rollback(void);
int64_t db_last_id(void);
void store_close_thread(void); /* closes this thread's connection */
/* Ends this thread's use of the store for now: resets every statement still stepping (a
 * statement left mid-result keeps a read snapshot open, so later reads would see stale data and
 * writes could fail with SQLITE_BUSY) and rolls back a transaction left open. http.c calls it
 * after every request; job workers should call it after every step. */
void db_release(void);
int store_user_version(void); /* PRAGMA user_version, or -1 */

/* ---- HTTP (panel/http.c) ------------------------------------------------------------------ */
enum route_auth { AUTH_NONE = 0, AUTH_USER, AUTH_ADMIN };
enum route_body { BODY_NONE = 0, BODY_JSON, BODY_OPTIONAL_JSON };

typedef struct auth_user {
	int64_t id;        /* 0 = anonymous */
	char username[64];
	char role[16];     /* "admin" | "customer" */
	bool is_admin;
	int64_t session_id; /* sessions.id when authenticated by cookie, else 0 */
	int64_t api_key_id; /* api_keys.id when by bearer token, else 0 */
	char csrf_token[72];
} auth_user;

/* Called once the 101 of reply_upgrade() was sent: sock is the upgraded connection (non-blocking;
 * never close it), extra_in the bytes the client sent after its request, urh the handle for
 * http_upgrade_close(). Runs inside the HTTP event loop: it must not block. */
typedef void (*http_upgrade_fn)(void *cls, const char *extra_in, size_t extra_len, int sock,
                                void *urh);

#define MAX_RESP_HEADERS 8
typedef struct http_req {
	void *conn;               /* struct MHD_Connection * */
	const char *method;       /* "GET", "POST", ... */
	const char *path;         /* URL path without query, e.g. "/api/v1/vps/12" */
	char ip[64];              /* client address as text */
	const char *params[4];    /* path parameters matched by "{}" segments */
	int nparams;
	char *body;               /* raw request body (NUL-terminated) */
	size_t body_len;
	bool body_too_large;
	json_object *json;        /* parsed body (routes with BODY_JSON/BODY_OPTIONAL_JSON) */
	auth_user user;
	/* response, set through reply_*() */
	int status;
	json_object *resp_json;
	char *resp_raw;            /* alternative raw body (heap) */
	size_t resp_raw_len;
	const char *content_type;  /* default application/json */
	char *hdr_name[MAX_RESP_HEADERS];
	char *hdr_value[MAX_RESP_HEADERS];
	int nhdr;
	/* a 101 answer (reply_upgrade) */
	http_upgrade_fn upgrade_fn;
	void (*upgrade_drop)(void *cls);
	void *upgrade_cls;
} http_req;

typedef void (*route_fn)(http_req *rq);

typedef struct route {
	const char *method;
	const char *pattern; /* "/api/v1/vps/{}/actions/{}": "{}" matches one non-empty segment */
	route_fn fn;
	enum route_auth auth;
	enum route_body body;
} route;

extern const route xvps_routes[]; /* panel/routes.c, terminated by {NULL} */

/* Query-string argument of this request, or NULL. */
const char *req_query(http_req *rq, const char *key);
/* Request header, or NULL. */
const char *req_header(http_req *rq, const char *name);

/* Replies. Each takes ownership of body. Calling a reply twice replaces the first. */
void reply_json(http_req *rq, int status, json_object *body);
void reply_empty(http_req *rq, int status); /* e.g. 204 */
/* RFC 9457 problem+json: {"type":"about:blank"-style URI,"title","status","detail"[,"field"]}.
 * type is "https://xvps.dev/problems/<slug>" where slug derives from status. */
void reply_problem(http_req *rq, int status, const char *title, const char *detail,
		   const char *field);
void reply_field_error(http_req *rq, const json_field_error *e); /* 422 with field */
void reply_not_found(http_req *rq, const char *what);             /* 404 */
void reply_header(http_req *rq, const char *name, const char *value);
void reply_raw(http_req *rq, int status, const char *content_type, char *data, size_t len);
/* 101 Switching Protocols with the headers set by reply_header() (never "Connection": the HTTP
 * layer adds it). Takes cls: fn(cls, ...) runs once the 101 is sent; when it never is (the
 * client went away, another reply replaced this one), drop(cls) runs instead. */
void reply_upgrade(http_req *rq, http_upgrade_fn fn, void (*drop)(void *cls), void *cls);
/* Ends an upgraded connection (urh from an http_upgrade_fn); call it exactly once. */
void http_upgrade_close(void *urh);

int http_start(void); /* starts libmicrohttpd (epoll, thread pool); 0 or -1 */
void http_stop(void);

/* ---- auth (panel/auth.c) ------------------------------------------------------------------ */
/* Fills rq->user from the session cookie or the bearer token; returns false when none is valid.
 * csrf_ok_out tells whether an unsafe request on a cookie session carried the right token. */
bool auth_identify(http_req *rq, bool *csrf_ok_out);
/* argon2id (libsodium crypto_pwhash_str) with the configured limits. 0 or -1. */
int auth_hash_password(const char *password, char out[128]);
bool auth_verify_password(const char *hash, const char *password);
/* Creates a user; returns the new id or -1 (conflict: *conflict_out = true). */
int64_t auth_create_user(const char *username, const char *email, const char *password,
			 const char *role, bool *conflict_out);
/* First start: creates "admin" with $XVPS_ADMIN_PASSWORD or a generated password written to
 * $XVPS_STATE/admin-password (0600). 0 or -1. */
int auth_bootstrap_admin(void);

/* ---- audit (panel/audit.c) ---------------------------------------------------------------- */
/* Records who (rq->user, or "-" when anonymous) did action ("vps.create", "login.failed") to
 * resource ("vps/12"), from rq->ip, with an optional detail. Never fails the request. */
void audit(http_req *rq, const char *action, const char *resource, const char *detail);
/* Same, for system actors (jobs, reconciler): user "system", ip "-". */
void audit_system(const char *action, const char *resource, const char *detail);
/* An audit row for work done outside a request (a console relay thread): who and from where
 * as recorded when the request was made. */
void audit_as(int64_t user_id, const char *username, const char *ip, const char *action,
              const char *resource, const char *detail);

/* ---- jobs (panel/jobs.c) ------------------------------------------------------------------ */
/* Inserts a queued job inside the caller's transaction. kind: "vps.create" | "vps.start" |
 * "vps.shutdown" | "vps.reboot" | "vps.poweroff" | "vps.reinstall" | "vps.delete" |
 * "vps.update". Returns the job id or -1. */
int64_t job_enqueue(const char *kind, int64_t vps_id, int64_t user_id);
json_object *job_json(int64_t job_id); /* {"id","kind","state","error","vps","created_at",...} */
void jobs_wake(void);   /* a job was enqueued (after commit) */
int jobs_start(void);   /* requeues jobs left "running" by a crash, starts the workers */
void jobs_stop(void);   /* waits for workers to finish their current step */
/* Sends {"op":"reconcile","known":[...]} to the agent (at start and every 60 s). */
void jobs_reconcile_now(void);

/* ---- metering (panel/metering.c) ----------------------------------------------------------
 * Every interval the metering thread asks the agent for "net.counters" and "cpu.times" of
 * every live VPS and stores the panel's monotonic totals in vps_net and vps_cpu (agent values
 * that go down are counted from zero again; see metering.c). */
int metering_start(int interval_s); /* 1..3600 s (XVPS_METER_INTERVAL); first sweep at once */
void metering_stop(void);           /* wakes and joins the thread (after an agent call ends) */
/* One sweep now: 0 when every live VPS's chunk was answered by both operations and stored,
 * else -1 (logged, rate-limited; what was answered is stored, the rest keeps its rows). */
int metering_tick(void);
int64_t metering_last_sweep(void); /* unix time of the last complete sweep, 0: none yet */
/* {"rx_bytes","tx_bytes","rx_packets","tx_packets","sampled_at"|null} of a VPS (guest's
 * view); zeros and null when it was never sampled. New object. */
json_object *metering_vps_json(int64_t vps_id);
/* {"seconds": number, "sampled_at": time|null} of a VPS: CPU seconds (all vcpus) its domains
 * used since the VPS was created, the panel's monotonic total of the agent's "cpu.times"
 * (libxenstat on Xen) as of sampled_at; 0 and null until the first sample. New object. */
json_object *metering_vps_cpu_json(int64_t vps_id);
/* Nanoseconds as exact decimal seconds without trailing zeros ("12.5", "0.0", "3.000000001"),
 * for the VPS JSON and /metrics; negative counts as 0. out: at least 32 bytes. */
void metering_ns_to_seconds(int64_t ns, char *out, size_t size);

/* ---- handlers (api_*.c) ------------------------------------------------------------------- */
void api_session_create(http_req *rq);   /* POST /session */
void api_session_delete(http_req *rq);   /* DELETE /session */
void api_me(http_req *rq);               /* GET /me */
void api_keys_create(http_req *rq);      /* POST /api-keys */
void api_keys_list(http_req *rq);        /* GET /api-keys */
void api_keys_delete(http_req *rq);      /* DELETE /api-keys/{id} */
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
void api_vps_list(http_req *rq);
void api_vps_create(http_req *rq);
void api_vps_get(http_req *rq);
void api_vps_action(http_req *rq);       /* POST /vps/{id}/actions/{action} */
void api_vps_delete(http_req *rq);
void api_jobs_get(http_req *rq);
void api_jobs_list(http_req *rq);
void api_audit_list(http_req *rq);
void api_healthz(http_req *rq);          /* GET /healthz */
/* Browser consoles (panel/console.c, console_relay.c; issue 6 Contract B). */
void api_console_token(http_req *rq);    /* POST /vps/{id}/console */
void api_console_ws(http_req *rq);       /* GET /console/ws?token= (WebSocket upgrade) */
/* Closes every console relay (a close frame 1001, then the connection) and waits for their
 * threads; later upgrades are refused. http_stop() calls it before stopping the daemon. */
void console_relays_stop(void);
void api_metrics(http_req *rq);          /* GET /metrics */

/* Parses a path id parameter ("1".."9223372036854775807"); false for anything else. */
bool parse_id(const char *s, int64_t *out);
/* Formats an id as the JSON string the API uses. */
json_object *json_id(int64_t id);
/* Seeds the XVPS_DEMO objects (plan, template, pool, customer) when the tables are empty. */
int demo_seed(void);

#endif
