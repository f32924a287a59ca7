/* quota_notify.c — sends the quota ladder's notices (quota_notify.h; docs/architecture.md
 * "Traffic quotas"): one thread reads quota_notices rows whose e-mail or webhook is 'pending',
 * tries each at most QUOTA_NOTIFY_TRIES times (every QUOTA_NOTIFY_RETRY_S, or at once when a
 * notice is committed) and writes 'sent' or, after the last try, 'failed' with the error. It
 * never holds a transaction open while it talks to a server, and never runs a program: the
 * e-mail goes through libcurl's SMTP client to the smarthost, the webhook through libcurl's HTTP.
 */
#include <curl/curl.h>
#include <errno.h>
#include <pthread.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "../common/util.h"
#include "api.h"
#include "config.h"
#include "http_out.h"
#include "mail.h"
#include "quota_notify.h"
#include "store.h"

#define NOTIFY_URL_MAX     512
#define NOTIFY_BATCH       32   /* pending notices read per round */
#define NOTIFY_MSG_MAX     2048 /* one e-mail's body */
#define NOTIFY_SUBJECT_MAX 400
#define NOTIFY_BODY_MAX    1024 /* one webhook body */
#define NOTIFY_ERROR_MAX   256

static char hook_url[NOTIFY_URL_MAX], hook_secret[NOTIFY_URL_MAX];

static pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t cv;
static bool running, stop, woken;
static pthread_t thr;

bool quota_notify_email_on(void)
{
	return mail_on();
}

bool quota_notify_webhook_on(void)
{
	return hook_url[0] != '\0';
}

void quota_notify_signature(const char *secret, const char *body, size_t body_len, char *out)
{
	unsigned char mac[crypto_auth_hmacsha256_BYTES];
	crypto_auth_hmacsha256_state st;

	crypto_auth_hmacsha256_init(&st, (const unsigned char *)secret, strlen(secret));
	crypto_auth_hmacsha256_update(&st, (const unsigned char *)body, body_len);
	crypto_auth_hmacsha256_final(&st, mac);
	memcpy(out, "sha256=", 7);
	sodium_bin2hex(out + 7, QUOTA_NOTIFY_SIG_MAX - 7, mac, sizeof(mac));
}

/* One pending notice with what its delivery needs: a quota notice (quota_notices) or, with
 * billing set, a prepaid balance notice (billing_notices, panel/balance.c; balance in used). */
typedef struct notice {
	int64_t id, vps_id, customer_id, period_start, at, used, included;
	int attempts;
	bool billing;
	char kind[16], email[256], hostname[256], want_email[8], want_hook[8];
} notice;

static const char *billing_text(const char *kind)
{
	if (strcmp(kind, "low_balance") == 0)
		return "is below its low-balance mark";
	if (strcmp(kind, "suspended") == 0)
		return "is below its suspension threshold: your VPS are suspended until a payment "
		       "brings it back";
	return "is back above its threshold: your VPS are no longer suspended";
}

static const char *kind_text(const char *kind)
{
	if (strcmp(kind, "notice_80") == 0)
		return "has used 80 % of its traffic quota";
	if (strcmp(kind, "notice_100") == 0)
		return "has used all of its traffic quota";
	if (strcmp(kind, "throttled") == 0)
		return "is over its traffic quota: its network is throttled";
	if (strcmp(kind, "suspended") == 0)
		return "is over its traffic quota: it is suspended";
	return "is no longer limited by its traffic quota";
}

/* Sends one notice's e-mail through the shared smarthost sender (mail.c). 0, or -1 with err. */
static int send_email(const notice *nt, char *err, size_t err_len)
{
	char subject[NOTIFY_SUBJECT_MAX], body[NOTIFY_MSG_MAX], tag[40];

	if (nt->billing) {
		snprintf(subject, sizeof(subject), "[xvps] your prepaid balance: %s", nt->kind);
		snprintf(tag, sizeof(tag), "billing-%lld", (long long)nt->id);
		snprintf(body, sizeof(body),
		         "Your prepaid balance %s.\r\n\r\nBalance: %lld (minor units).\r\n",
		         billing_text(nt->kind), (long long)nt->used);
	} else {
		snprintf(subject, sizeof(subject), "[xvps] %s: traffic quota %s", nt->hostname,
		         nt->kind);
		snprintf(tag, sizeof(tag), "quota-%lld", (long long)nt->id);
		snprintf(body, sizeof(body),
		         "Your VPS %s %s.\r\n\r\nUsed this period: %lld bytes of %lld bytes "
		         "included "
		         "(%lld %%).\r\n",
		         nt->hostname, kind_text(nt->kind), (long long)nt->used,
		         (long long)nt->included,
		         nt->included > 0 ? (long long)((__int128)nt->used * 100 / nt->included)
		                          : 0LL);
	}
	if (!mail_address_ok(nt->email)) {
		snprintf(err, err_len, "the customer has no usable e-mail address");
		return -1;
	}
	return mail_send(nt->email, subject, body, tag, err, err_len);
}

/* Posts one notice's webhook. 0, or -1 with err filled. */
static int send_webhook(const notice *nt, char *err, size_t err_len)
{
	char body[NOTIFY_BODY_MAX], sig[QUOTA_NOTIFY_SIG_MAX], hdr[QUOTA_NOTIFY_SIG_MAX + 32];
	const char *const headers[] = {"Content-Type: application/json", hdr, NULL};
	json_object *o = json_object_new_object();
	long status = 0;
	CURLcode cc;

	json_object_object_add(
	        o, "event",
	        json_object_new_string(nt->billing ? "billing.notice" : "quota.notice"));
	json_object_object_add(o, "id", json_id(nt->id));
	json_object_object_add(o, "kind", json_object_new_string(nt->kind));
	if (nt->billing) {
		json_object_object_add(o, "customer", json_id(nt->customer_id));
		json_object_object_add(o, "at", json_time(nt->at));
		json_object_object_add(o, "balance_cents", json_object_new_int64(nt->used));
	} else {
		json_object_object_add(o, "vps", json_id(nt->vps_id));
		json_object_object_add(o, "hostname", json_object_new_string(nt->hostname));
		json_object_object_add(o, "customer", json_id(nt->customer_id));
		json_object_object_add(o, "period_start", json_time(nt->period_start));
		json_object_object_add(o, "at", json_time(nt->at));
		json_object_object_add(o, "used_bytes", json_object_new_int64(nt->used));
		json_object_object_add(o, "included_bytes", json_object_new_int64(nt->included));
	}
	snprintf(body, sizeof(body), "%s",
	         json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN));
	json_object_put(o);
	quota_notify_signature(hook_secret, body, strlen(body), sig);
	snprintf(hdr, sizeof(hdr), "X-Xvps-Signature: %s", sig);
	if (http_out_json(hook_url, NULL, headers, body, (long)QUOTA_NOTIFY_TIMEOUT_S, NULL, NULL,
	                  &cc, &status) != 0) {
		snprintf(err, err_len, "curl_easy_init failed");
		return -1;
	}
	if (cc != CURLE_OK) {
		snprintf(err, err_len, "webhook: %s", curl_easy_strerror(cc));
		return -1;
	}
	if (status < 200 || status > 299) {
		snprintf(err, err_len, "webhook: HTTP %ld", status);
		return -1;
	}
	return 0;
}

/* Reads up to max pending notices. Returns how many, or -1. */
static int load_pending(notice *out, int max)
{
	sqlite3_stmt *st = db_stmt(
	        "SELECT n.id, n.vps_id, n.customer_id, n.period_start, n.at, n.used_bytes, "
	        "n.included_bytes, n.attempts, n.kind, COALESCE(u.email, ''), "
	        "COALESCE(v.hostname, 'xvps-' || n.vps_id), n.delivered_email, n.delivered_webhook "
	        "FROM quota_notices n LEFT JOIN users u ON u.id=n.customer_id "
	        "LEFT JOIN vps v ON v.id=n.vps_id "
	        "WHERE n.delivered_email='pending' OR n.delivered_webhook='pending' "
	        "ORDER BY n.id LIMIT ?");
	int n = 0, r;

	if (!st)
		return -1;
	sqlite3_bind_int(st, 1, max);
	while ((r = sqlite3_step(st)) == SQLITE_ROW && n < max) {
		notice *nt = &out[n++];

		memset(nt, 0, sizeof(*nt));
		nt->id = sqlite3_column_int64(st, 0);
		nt->vps_id = sqlite3_column_int64(st, 1);
		nt->customer_id = sqlite3_column_int64(st, 2);
		nt->period_start = sqlite3_column_int64(st, 3);
		nt->at = sqlite3_column_int64(st, 4);
		nt->used = sqlite3_column_int64(st, 5);
		nt->included = sqlite3_column_int64(st, 6);
		nt->attempts = sqlite3_column_int(st, 7);
		db_col_text(st, 8, nt->kind, sizeof(nt->kind));
		db_col_text(st, 9, nt->email, sizeof(nt->email));
		db_col_text(st, 10, nt->hostname, sizeof(nt->hostname));
		db_col_text(st, 11, nt->want_email, sizeof(nt->want_email));
		db_col_text(st, 12, nt->want_hook, sizeof(nt->want_hook));
	}
	sqlite3_reset(st);
	if (r != SQLITE_ROW && r != SQLITE_DONE) {
		db_release();
		return -1;
	}
	/* then the prepaid balance notices (panel/balance.c) */
	st = db_stmt("SELECT b.id, b.customer_id, b.at, b.balance_cents, b.attempts, b.kind, "
	             "COALESCE(u.email, ''), b.delivered_email, b.delivered_webhook "
	             "FROM billing_notices b LEFT JOIN users u ON u.id=b.customer_id "
	             "WHERE b.delivered_email='pending' OR b.delivered_webhook='pending' "
	             "ORDER BY b.id LIMIT ?");
	if (!st || n >= max) {
		db_release();
		return st ? n : -1;
	}
	sqlite3_bind_int(st, 1, max - n);
	while ((r = sqlite3_step(st)) == SQLITE_ROW && n < max) {
		notice *nt = &out[n++];

		memset(nt, 0, sizeof(*nt));
		nt->billing = true;
		nt->id = sqlite3_column_int64(st, 0);
		nt->customer_id = sqlite3_column_int64(st, 1);
		nt->at = sqlite3_column_int64(st, 2);
		nt->used = sqlite3_column_int64(st, 3);
		nt->attempts = sqlite3_column_int(st, 4);
		db_col_text(st, 5, nt->kind, sizeof(nt->kind));
		db_col_text(st, 6, nt->email, sizeof(nt->email));
		db_col_text(st, 7, nt->want_email, sizeof(nt->want_email));
		db_col_text(st, 8, nt->want_hook, sizeof(nt->want_hook));
	}
	sqlite3_reset(st);
	db_release();
	return r == SQLITE_ROW || r == SQLITE_DONE ? n : -1;
}

/* Records one attempt's outcome on the notice row. */
static void record(const notice *nt, const char *email_state, const char *hook_state,
                   const char *err)
{
	sqlite3_stmt *st =
	        nt->billing ? db_stmt("UPDATE billing_notices SET delivered_email=?, "
	                              "delivered_webhook=?, attempts=attempts+1, last_error=? "
	                              "WHERE id=?")
	                    : db_stmt("UPDATE quota_notices SET delivered_email=?, "
	                              "delivered_webhook=?, attempts=attempts+1, last_error=? "
	                              "WHERE id=?");

	if (!st)
		return;
	sqlite3_bind_text(st, 1, email_state, -1, SQLITE_STATIC);
	sqlite3_bind_text(st, 2, hook_state, -1, SQLITE_STATIC);
	if (err && *err)
		sqlite3_bind_text(st, 3, err, -1, SQLITE_TRANSIENT);
	sqlite3_bind_int64(st, 4, nt->id);
	if (!db_step_done(st))
		log_error("quota: recording the delivery of notice %lld: %s", (long long)nt->id,
		          sqlite3_errmsg(db()));
	db_release();
}

/* One attempt for each channel still pending. */
static void deliver(const notice *nt)
{
	char err[NOTIFY_ERROR_MAX] = "", herr[NOTIFY_ERROR_MAX] = "",
	     both[2 * NOTIFY_ERROR_MAX + 4];
	const char *es = nt->want_email, *hs = nt->want_hook;
	bool last = nt->attempts + 1 >= QUOTA_NOTIFY_TRIES;

	if (strcmp(es, "pending") == 0) {
		if (!quota_notify_email_on())
			es = "off";
		else if (send_email(nt, err, sizeof(err)) == 0)
			es = "sent";
		else if (last)
			es = "failed";
	}
	if (strcmp(hs, "pending") == 0) {
		if (!quota_notify_webhook_on())
			hs = "off";
		else if (send_webhook(nt, herr, sizeof(herr)) == 0)
			hs = "sent";
		else if (last)
			hs = "failed";
	}
	snprintf(both, sizeof(both), "%s%s%s", err, err[0] && herr[0] ? "; " : "", herr);
	if (both[0])
		log_warn("%s: notice %lld (%s, %s %lld): %s%s", nt->billing ? "billing" : "quota",
		         (long long)nt->id, nt->kind, nt->billing ? "customer" : "VPS",
		         (long long)(nt->billing ? nt->customer_id : nt->vps_id), both,
		         last ? " (the last try)" : " (retried later)");
	record(nt, es, hs, both);
}

static void *notify_main(void *arg)
{
	notice batch[NOTIFY_BATCH];

	(void)arg;
	pthread_mutex_lock(&mu);
	while (!stop) {
		struct timespec next;
		int n;

		woken = false;
		pthread_mutex_unlock(&mu);
		n = load_pending(batch, NOTIFY_BATCH);
		for (int i = 0; i < n; i++)
			deliver(&batch[i]);
		pthread_mutex_lock(&mu);
		/* A full batch: more may wait (a failed notice is retried at the next round). */
		if (n == NOTIFY_BATCH)
			continue;
		clock_gettime(CLOCK_MONOTONIC, &next);
		next.tv_sec += QUOTA_NOTIFY_RETRY_S;
		while (!stop && !woken && pthread_cond_timedwait(&cv, &mu, &next) != ETIMEDOUT)
			;
	}
	pthread_mutex_unlock(&mu);
	store_close_thread();
	return NULL;
}

/* Copies the environment variable into out; false when it is too long. */
static bool env_copy(const char *name, char *out, size_t size)
{
	const char *v = getenv(name);

	out[0] = '\0';
	if (!v || !*v)
		return true;
	if (strlen(v) >= size) {
		log_error("%s is longer than %zu bytes", name, size - 1);
		return false;
	}
	snprintf(out, size, "%s", v);
	return true;
}

int quota_notify_start(void)
{

	if (mail_init() != 0 || !env_copy("XVPS_WEBHOOK_URL", hook_url, sizeof(hook_url)) ||
	    !env_copy("XVPS_WEBHOOK_SECRET", hook_secret, sizeof(hook_secret)))
		return -1;
	if (hook_url[0] && strncmp(hook_url, "http://", 7) != 0 &&
	    strncmp(hook_url, "https://", 8) != 0) {
		log_error("XVPS_WEBHOOK_URL must start with http:// or https://");
		return -1;
	}
	if (hook_url[0] && !hook_secret[0]) {
		log_error("XVPS_WEBHOOK_SECRET must be set when XVPS_WEBHOOK_URL is");
		return -1;
	}
	if (!mail_on() && !hook_url[0])
		return 0;
	if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK) {
		log_error("quota: curl_global_init failed");
		return -1;
	}
	cond_init_monotonic(&cv);
	stop = false;
	if (pthread_create(&thr, NULL, notify_main, NULL) != 0) {
		log_error("quota: cannot start the notice delivery thread");
		return -1;
	}
	running = true;
	log_info("quota: notices by e-mail %s, by webhook %s", mail_on() ? "on" : "off",
	         hook_url[0] ? "on" : "off");
	return 0;
}

void quota_notify_wake(void)
{
	if (!running)
		return;
	pthread_mutex_lock(&mu);
	woken = true;
	pthread_cond_broadcast(&cv);
	pthread_mutex_unlock(&mu);
}

void quota_notify_stop(void)
{
	if (!running)
		return;
	pthread_mutex_lock(&mu);
	stop = true;
	pthread_cond_broadcast(&cv);
	pthread_mutex_unlock(&mu);
	pthread_join(thr, NULL);
	running = false;
}
