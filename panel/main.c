/* main.c — xvpsd's entry point: configuration from the environment, start-up order (store,
 * admin account, demo data, jobs, metering, HTTP), and a clean stop on SIGINT/SIGTERM. The only
 * place in xvpsd that may end the process; it never runs host commands and never needs root. */
#include <errno.h>
#include <fcntl.h>
#include <malloc.h>
#include <pthread.h>
#include <signal.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

#include "../billing/ledger.h"
#include "../common/util.h"
#include "../common/validate.h"
#include "api.h"
#include "auth.h"
#include "backup.h"
#include "billing_tick.h"
#include "config.h"
#include "guest_events.h"
#include "http.h"
#include "jobs.h"
#include "metering.h"
#include "quota_notify.h"
#include "rdns.h"
#include "store.h"

xvps_app *g_app;
static xvps_app g_app_storage;
static int meter_interval_s;   /* XVPS_METER_INTERVAL */
static int billing_interval_s; /* XVPS_BILLING_INTERVAL */

/* Reads an integer variable in [min, max] (default def when unset or empty). */
static int env_int(const char *name, long long min, long long max, long long def, long long *out)
{
	const char *s = getenv(name);

	if (!s || !*s) {
		*out = def;
		return 0;
	}
	if (!parse_int_range(s, min, max, out)) {
		fprintf(stderr, "xvpsd: %s must be an integer from %lld to %lld\n", name, min, max);
		return -1;
	}
	return 0;
}

static int env_str(const char *name, const char *def, char *out, size_t len)
{
	const char *s = getenv(name);

	if (!s || !*s)
		s = def;
	if (!sfmt(out, len, "%s", s)) {
		fprintf(stderr, "xvpsd: %s is too long\n", name);
		return -1;
	}
	return 0;
}

/* XVPS_LISTEN: "host:port", "[v6]:port", "host" (port 8080) or ":port" (127.0.0.1). */
static int parse_listen(const char *s, xvps_config *cfg)
{
	const char *host = s, *port = NULL;
	size_t hlen;
	long long p = 8080;

	if (s[0] == '[') {
		const char *end = strchr(s, ']');

		if (!end || (end[1] != '\0' && end[1] != ':'))
			goto bad;
		host = s + 1;
		hlen = (size_t)(end - host);
		port = end[1] == ':' ? end + 2 : NULL;
	} else {
		const char *colon = strrchr(s, ':');

		if (colon && strchr(s, ':') != colon)
			goto bad; /* a bare IPv6 address needs brackets */
		hlen = colon ? (size_t)(colon - s) : strlen(s);
		port = colon ? colon + 1 : NULL;
	}
	if (hlen == 0) {
		host = "127.0.0.1";
		hlen = strlen(host);
	}
	if (hlen >= sizeof(cfg->listen_host))
		goto bad;
	if (port && !parse_int_range(port, 0, 65535, &p))
		goto bad;
	memcpy(cfg->listen_host, host, hlen);
	cfg->listen_host[hlen] = '\0';
	cfg->listen_port = (int)p;
	return 0;
bad:
	fprintf(stderr, "xvpsd: XVPS_LISTEN \"%s\" is not host:port\n", s);
	return -1;
}

static int load_config(xvps_config *cfg)
{
	const char *listen = getenv("XVPS_LISTEN");
	long long v;
	char def_sock[CONFIG_FILE_MAX];

	memset(cfg, 0, sizeof(*cfg));
	if (parse_listen(listen && *listen ? listen : "127.0.0.1:8080", cfg) != 0)
		return -1;
	if (env_str("XVPS_STATE", "./var", cfg->state_dir, sizeof(cfg->state_dir)) != 0 ||
	    env_str("XVPS_WEB_DIR", "./web", cfg->web_dir, sizeof(cfg->web_dir)) != 0)
		return -1;
	/* Debian's novnc package, served at /novnc/ for the console page. */
	if (env_str("XVPS_NOVNC_DIR", "/usr/share/novnc", cfg->novnc_dir, sizeof(cfg->novnc_dir)))
		return -1;
	/* Debian's libjs-chart.js, served at /vendor/chart.js/ for the VPS page's usage graphs. */
	if (env_str("XVPS_CHARTJS_DIR", "/usr/share/javascript/chart.js", cfg->chartjs_dir,
	            sizeof(cfg->chartjs_dir)))
		return -1;
	/* Debian's node-qrcode-generator, at /vendor/qrcode-generator/ for TOTP enrolment. */
	if (env_str("XVPS_QRCODE_DIR", "/usr/share/javascript/qrcode-generator", cfg->qrcode_dir,
	            sizeof(cfg->qrcode_dir)))
		return -1;
	if (!sfmt(cfg->db_path, sizeof(cfg->db_path), "%s/xvps.db", cfg->state_dir) ||
	    !sfmt(def_sock, sizeof(def_sock), "%s/agent.sock", cfg->state_dir)) {
		fprintf(stderr, "xvpsd: XVPS_STATE is too long\n");
		return -1;
	}
	if (env_str("XVPS_AGENT_SOCK", def_sock, cfg->agent_sock, sizeof(cfg->agent_sock)) != 0)
		return -1;

	if (env_int("XVPS_HTTP_THREADS", 1, 256, 4, &v) != 0)
		return -1;
	cfg->http_threads = (int)v;
	if (env_int("XVPS_PER_IP_CONN_LIMIT", 1, 100000, 256, &v) != 0)
		return -1;
	cfg->per_ip_conn_limit = (int)v;
	if (env_int("XVPS_CONN_TIMEOUT", 1, 3600, 30, &v) != 0)
		return -1;
	cfg->conn_timeout_s = (int)v;
	/* libmicrohttpd zeroes a connection's whole memory pool before each request on it: 128 KiB
	 * cost more than the rest of a cached answer (issue 17); its default is 32 KiB. */
	if (env_int("XVPS_CONN_MEMORY_KIB", 16, 1024, 32, &v) != 0)
		return -1;
	cfg->conn_memory_limit = (size_t)v * 1024;
	if (env_int("XVPS_JOB_WORKERS", 1, 64, 4, &v) != 0)
		return -1;
	cfg->job_workers = (int)v;
	if (env_int("XVPS_AGENT_TIMEOUT_MS", 100, 3600000, 300000, &v) != 0)
		return -1;
	cfg->agent_timeout_ms = (int)v;
	if (env_int("XVPS_DEMO", 0, 1, 0, &v) != 0)
		return -1;
	cfg->demo = v == 1;
	/* Set when a TLS-terminating proxy fronts xvpsd, so cookies carry "Secure". */
	if (env_int("XVPS_SECURE_COOKIES", 0, 1, 0, &v) != 0)
		return -1;
	cfg->secure_cookies = v == 1;
	/* HTTPS (GnuTLS through libmicrohttpd): both files or neither. The key file is read once,
	 * before any thread, and stays in memory only. */
	{
		const char *cert = getenv("XVPS_TLS_CERT"), *key = getenv("XVPS_TLS_KEY");
		size_t len;
		bool has_cert = cert && *cert, has_key = key && *key;

		if (has_cert != has_key) {
			fprintf(stderr, "xvpsd: XVPS_TLS_CERT and XVPS_TLS_KEY go together\n");
			return -1;
		}
		if (has_cert) {
			if (read_file(cert, 1 << 20, &cfg->tls_cert, &len) != 0 || len == 0) {
				fprintf(stderr, "xvpsd: cannot read XVPS_TLS_CERT %s\n", cert);
				return -1;
			}
			if (read_file(key, 1 << 20, &cfg->tls_key, &len) != 0 || len == 0) {
				fprintf(stderr, "xvpsd: cannot read XVPS_TLS_KEY %s\n", key);
				return -1;
			}
			cfg->secure_cookies = true;
		}
	}
	/* Small argon2id limits are for tests only; production keeps t=2, m=19 MiB (OWASP). */
	if (env_int("XVPS_PWHASH_OPSLIMIT", 1, 100, 2, &v) != 0)
		return -1;
	cfg->pwhash_opslimit = (int)v;
	if (env_int("XVPS_PWHASH_MEMLIMIT_KIB", 8, 4 * 1024 * 1024, 19 * 1024, &v) != 0)
		return -1;
	cfg->pwhash_memlimit = (size_t)v * 1024;
	/* Lifetime of a console token (POST /vps/{id}/console); tests shorten it. */
	if (env_int("XVPS_CONSOLE_TOKEN_TTL", 1, 60, 60, &v) != 0)
		return -1;
	cfg->console_token_ttl_s = (int)v;
	/* A console whose browser sent nothing for this long gets a WebSocket ping; one that does
	 * not answer within the same time again is closed (its slot freed). */
	if (env_int("XVPS_CONSOLE_PING", 1, 300, 30, &v) != 0)
		return -1;
	cfg->console_ping_s = (int)v;
	/* Seconds between two sweeps of the VPS network counters (panel/metering.c). */
	if (env_int("XVPS_METER_INTERVAL", 1, 3600, 10, &v) != 0)
		return -1;
	meter_interval_s = (int)v;
	/* Billing periods of the usage ledger (billing/period.h): calendar months or the VPS's
	 * anniversary day, in UTC shifted by a fixed offset (no DST: every day is 24 h). */
	{
		const char *cycle = getenv("XVPS_BILLING_PERIOD");

		if (cycle && *cycle && !billing_cycle_parse(cycle, &cfg->billing.cycle)) {
			fprintf(stderr,
			        "xvpsd: XVPS_BILLING_PERIOD must be month or anniversary\n");
			return -1;
		}
	}
	if (env_int("XVPS_BILLING_UTC_OFFSET_MIN", -BILLING_OFFSET_MAX_MIN, BILLING_OFFSET_MAX_MIN,
	            0, &v) != 0)
		return -1;
	if (!billing_offset_ok((int)v)) {
		fprintf(stderr, "xvpsd: XVPS_BILLING_UTC_OFFSET_MIN must be a multiple of 15\n");
		return -1;
	}
	cfg->billing.utc_offset_min = (int)v;
	/* Seconds between two billing ticks: period closes (invoices) and the prepaid drawdown. */
	if (env_int("XVPS_BILLING_INTERVAL", 1, 3600, BILLING_INTERVAL_DEFAULT_S, &v) != 0)
		return -1;
	billing_interval_s = (int)v;
	return 0;
}

/* Holds $XVPS_STATE/xvpsd.lock (flock, exclusive) for the life of the process: a second xvpsd
 * on the same state, or a restore while xvpsd runs, is refused. The descriptor stays open. */
static int lock_state(const char *state_dir)
{
	char path[CONFIG_FILE_MAX];
	int fd;

	if (!sfmt(path, sizeof(path), "%s/xvpsd.lock", state_dir))
		return -1;
	fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0600);
	if (fd < 0) {
		fprintf(stderr, "xvpsd: cannot open %s: %s\n", path, strerror(errno));
		return -1;
	}
	if (flock(fd, LOCK_EX | LOCK_NB) != 0) {
		fprintf(stderr, "xvpsd: another xvpsd runs on %s (%s is locked)\n", state_dir,
		        path);
		close(fd);
		return -1;
	}
	return fd;
}

/* xvpsd --restore FILE: swaps a backup in as the database, xvpsd stopped (backup.h). */
static int restore_main(const char *file)
{
	xvps_config *cfg = &g_app->cfg;
	char err[1024];

	if (mkdir_p(cfg->state_dir, 0700) != 0 || lock_state(cfg->state_dir) < 0) {
		fprintf(stderr, "xvpsd: stop xvpsd before a restore; nothing was changed\n");
		return 1;
	}
	if (backup_restore(file, cfg->db_path, store_schema_max(), err, sizeof(err)) != 0) {
		fprintf(stderr, "xvpsd: restore refused: %s; nothing was changed\n", err);
		return 1;
	}
	fprintf(stderr,
	        "xvpsd: restored %s as %s (the previous database is %s.pre-restore); start xvpsd "
	        "to use it\n",
	        file, cfg->db_path, cfg->db_path);
	return 0;
}

/* glibc's malloc, for a small peak RSS under load (issue 17 item 1: <= 32 MiB with 1,000 VPS
 * under wrk -c64; 33-37 MiB before): each HTTP, job and metering thread got an arena of its own
 * (up to 8 per core), and a freed answer of a large list (0.8 MB for ?limit=1000) raised the
 * mmap threshold so that the next ones were carved from those arenas, whose tops stayed
 * resident. Two arenas, large blocks always mmapped (and returned when freed), and tops over
 * 256 KiB trimmed: 27 MiB in the same bench, the requests/s ratios unchanged. An admin's own
 * GLIBC_TUNABLES malloc settings win. */
static void malloc_limits(void)
{
	const char *t = getenv("GLIBC_TUNABLES");

	if (t && strstr(t, "malloc"))
		return;
	mallopt(M_ARENA_MAX, 2);
	mallopt(M_MMAP_THRESHOLD, 128 * 1024);
	mallopt(M_TRIM_THRESHOLD, 256 * 1024);
}

int main(int argc, char **argv)
{
	xvps_config *cfg;
	sigset_t stop_sigs;
	char pwfile[CONFIG_FILE_MAX], host[CONFIG_HOST_MAX + 2]; /* "[v6]" */
	int sig = 0, rc = 1;
	bool jobs_up = false, meter_up = false, events_up = false, billing_up = false;

	malloc_limits();
	g_app = &g_app_storage;
	cfg = &g_app->cfg;
	log_init("xvpsd");
	if (load_config(cfg) != 0 || backup_configure(cfg->state_dir, cfg->db_path) != 0)
		return 2;
	if (argc == 3 && strcmp(argv[1], "--restore") == 0) {
		umask(077);
		return restore_main(argv[2]);
	}
	if (argc != 1) {
		fprintf(stderr, "usage: xvpsd [--restore BACKUP_FILE] (configured by XVPS_* "
		                "variables; see xvpsd(8))\n");
		return 2;
	}
	g_app->started_at = now_unix();
	umask(077);

	/* Block the stop signals before any thread exists, so every thread inherits the mask
	 * and only sigwait() below sees them. */
	signal(SIGPIPE, SIG_IGN);
	sigemptyset(&stop_sigs);
	sigaddset(&stop_sigs, SIGINT);
	sigaddset(&stop_sigs, SIGTERM);
	if (pthread_sigmask(SIG_BLOCK, &stop_sigs, NULL) != 0) {
		log_error("cannot block signals");
		return 1;
	}

	if (sodium_init() < 0) {
		log_error("libsodium failed to initialise");
		return 1;
	}
	if (mkdir_p(cfg->state_dir, 0700) != 0) {
		log_error("cannot create state directory %s", cfg->state_dir);
		return 1;
	}
	if (lock_state(cfg->state_dir) < 0)
		return 1;
	if (store_open(cfg->db_path) != 0) {
		log_error("cannot open the database %s", cfg->db_path);
		return 1;
	}
	/* The usage ledger's statements come from the store's per-thread cache (before any thread
	 * starts: billing/ledger.h). */
	billing_use_stmt_cache(db_stmt);
	if (auth_bootstrap_admin() != 0) {
		log_error("cannot create the admin user");
		goto out;
	}
	if (cfg->demo && demo_seed() != 0) {
		log_error("cannot seed the demo objects");
		goto out;
	}
	db_release();
	if (jobs_start() != 0) {
		log_error("cannot start the job workers");
		goto out;
	}
	jobs_up = true;
	/* Quota notices by e-mail and webhook (quota_notify.h): before the sweeps that make them.
	 */
	if (quota_notify_start() != 0)
		goto out;
	if (metering_start(meter_interval_s) != 0)
		goto out;
	meter_up = true;
	/* Guests that power off, reboot or crash by themselves (guest_events.h). */
	if (guest_events_start() != 0)
		goto out;
	events_up = true;
	/* Invoices and the prepaid drawdown (billing_tick.h). */
	if (billing_tick_start(billing_interval_s) != 0)
		goto out;
	billing_up = true;
	/* Scheduled backups of the database (backup.h; XVPS_BACKUP_INTERVAL). */
	if (backup_start() != 0)
		goto out;
	/* Reverse DNS: PowerDNS and its removal queue (rdns.h; XVPS_PDNS_URL). */
	if (rdns_start() != 0)
		goto out;
	if (http_start() != 0)
		goto out;

	snprintf(host, sizeof(host), strchr(cfg->listen_host, ':') ? "[%s]" : "%s",
	         cfg->listen_host);
	sfmt(pwfile, sizeof(pwfile), "%s/admin-password", cfg->state_dir);
	fprintf(stderr, "xvpsd: listening on %s://%s:%d/\n", cfg->tls_cert ? "https" : "http", host,
	        cfg->listen_port);
	if (access(pwfile, F_OK) == 0)
		fprintf(stderr, "xvpsd: user admin, password in %s\n", pwfile);
	else
		fprintf(stderr, "xvpsd: user admin, password from XVPS_ADMIN_PASSWORD at first "
		                "start\n");

	for (;;) {
		int r = sigwait(&stop_sigs, &sig);

		if (r == 0)
			break;
		if (r != EINTR) {
			log_error("sigwait: %s", strerror(r));
			break;
		}
	}
	log_info("signal %d: stopping", sig);
	rc = 0;
out:
	atomic_store(&g_app->stopping, true);
	http_stop();
	if (billing_up)
		billing_tick_stop();
	api_reset_drain();
	rdns_stop();
	backup_stop();
	if (events_up)
		guest_events_stop();
	if (meter_up)
		metering_stop();
	quota_notify_stop();
	if (jobs_up)
		jobs_stop();
	store_close_thread();
	return rc;
}
