/* config.h — xvpsd's configuration (read once from the environment by main.c) and the
 * process-wide state every thread reads: g_app and its metrics counters. Nothing here does
 * I/O; only main.c writes g_app, before any thread starts.
 * Return convention: no functions. */
#ifndef XVPS_PANEL_CONFIG_H
#define XVPS_PANEL_CONFIG_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "../billing/period.h"

#define API_PREFIX "/api/v1"

#define CONFIG_HOST_MAX 64  /* listen host text */
#define CONFIG_DIR_MAX  512 /* a directory path from the environment */
#define CONFIG_FILE_MAX 600 /* a file path below such a directory */

typedef struct xvps_config {
	char listen_host[CONFIG_HOST_MAX]; /* XVPS_LISTEN host part, default 127.0.0.1 */
	int listen_port;                   /* XVPS_LISTEN port part, default 8080 */
	char state_dir[CONFIG_DIR_MAX];    /* XVPS_STATE, default ./var */
	char db_path[CONFIG_FILE_MAX];     /* $XVPS_STATE/xvps.db */
	char agent_sock[CONFIG_FILE_MAX];  /* XVPS_AGENT_SOCK, default $XVPS_STATE/agent.sock */
	char web_dir[CONFIG_DIR_MAX];      /* XVPS_WEB_DIR, default ./web */
	char novnc_dir[CONFIG_DIR_MAX];    /* XVPS_NOVNC_DIR, default /usr/share/novnc (/novnc/) */
	char chartjs_dir[CONFIG_DIR_MAX];  /* XVPS_CHARTJS_DIR (/vendor/chart.js/), main.c */
	char qrcode_dir[CONFIG_DIR_MAX];   /* XVPS_QRCODE_DIR (/vendor/qrcode-generator/), main.c */
	int console_token_ttl_s;           /* XVPS_CONSOLE_TOKEN_TTL, 1..60 s, default 60 */
	int console_ping_s;       /* XVPS_CONSOLE_PING, 1..300 s, default 30: idle console ping */
	int http_threads;         /* XVPS_HTTP_THREADS, default 4 */
	int per_ip_conn_limit;    /* XVPS_PER_IP_CONN_LIMIT, default 256 */
	int conn_timeout_s;       /* XVPS_CONN_TIMEOUT, default 30 */
	size_t conn_memory_limit; /* bytes per connection (XVPS_CONN_MEMORY_KIB), default 32 KiB */
	int job_workers;          /* XVPS_JOB_WORKERS, default 4 */
	int agent_timeout_ms;     /* XVPS_AGENT_TIMEOUT_MS, default 300000 */
	bool demo;                /* XVPS_DEMO=1 seeds a plan, template, pool and customer */
	bool secure_cookies;      /* true when serving TLS (or XVPS_SECURE_COOKIES=1 behind one) */
	char *tls_cert, *tls_key; /* PEM of XVPS_TLS_CERT / XVPS_TLS_KEY; NULL: plain HTTP */
	int pwhash_opslimit;      /* argon2id t (default 2) */
	size_t pwhash_memlimit;   /* argon2id m in bytes (default 19 MiB, OWASP) */
	/* XVPS_BILLING_PERIOD (month | anniversary, default month) and
	 * XVPS_BILLING_UTC_OFFSET_MIN (-840..840, a multiple of 15, default 0): the usage ledger's
	 * periods and day buckets (billing/period.h). Zero-initialised: calendar months in UTC. */
	billing_config billing;
} xvps_config;

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

#endif
