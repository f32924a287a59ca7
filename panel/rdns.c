/* rdns.c — reverse DNS's PowerDNS side (rdns.h): the configuration, PTR owner names and
 * zones, the HTTP API client (PATCH /api/v1/servers/localhost/zones/<zone> with rrsets and
 * X-API-Key, libcurl) and the removal queue's thread. */
#include <curl/curl.h>
#include <errno.h>
#include <json-c/json.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../common/util.h"
#include "../common/validate.h"
#include "api.h"
#include "audit.h"
#include "http_out.h"
#include "rdns.h"
#include "store.h"
#include "ticker.h"

#define PDNS_URL_MAX      512
#define PDNS_KEY_MAX      256
#define PDNS_TIMEOUT_S    5
#define PDNS_REPLY_MAX    1024
#define DRAIN_BATCH       100
#define ZONES_SETTING_MAX (RDNS_ZONES_MAX * RDNS_NAME_MAX)

static char pdns_url[PDNS_URL_MAX], pdns_key[PDNS_KEY_MAX];

static void drain_tick(void)
{
	rdns_drain();
}

static ticker drain_ticker = TICKER_INIT("rdns removals", drain_tick);

bool rdns_publishing(void)
{
	return pdns_url[0] != '\0';
}

int rdns_start(void)
{
	const char *url = getenv("XVPS_PDNS_URL"), *key = getenv("XVPS_PDNS_KEY");
	const char *iv = getenv("XVPS_RDNS_RETRY_INTERVAL");
	long interval = 30;
	char *end = NULL;

	if (!url || !*url)
		return 0; /* off: PTRs stay in the panel */
	if ((strncmp(url, "http://", 7) != 0 && strncmp(url, "https://", 8) != 0) ||
	    strlen(url) >= PDNS_URL_MAX - 64) {
		fprintf(stderr, "xvpsd: XVPS_PDNS_URL must be an http:// or https:// URL\n");
		return -1;
	}
	if (!key || !*key || strlen(key) >= PDNS_KEY_MAX || strpbrk(key, "\r\n")) {
		fprintf(stderr, "xvpsd: XVPS_PDNS_KEY (PowerDNS's api-key) must be set with "
		                "XVPS_PDNS_URL\n");
		return -1;
	}
	if (iv && *iv) {
		errno = 0;
		interval = strtol(iv, &end, 10);
		if (errno || *end || interval < 1 || interval > 3600) {
			fprintf(stderr, "xvpsd: XVPS_RDNS_RETRY_INTERVAL must be 1..3600\n");
			return -1;
		}
	}
	snprintf(pdns_url, sizeof(pdns_url), "%s", url);
	/* No trailing slash: the API path is appended. */
	while (strlen(pdns_url) > 8 && pdns_url[strlen(pdns_url) - 1] == '/')
		pdns_url[strlen(pdns_url) - 1] = '\0';
	snprintf(pdns_key, sizeof(pdns_key), "%s", key);
	if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK) {
		log_error("rdns: curl_global_init failed");
		return -1;
	}
	return ticker_start(&drain_ticker, (int)interval);
}

void rdns_stop(void)
{
	ticker_stop(&drain_ticker);
}

/* ---- names and zones ------------------------------------------------------------------------ */

static bool ends_with(const char *s, const char *suffix)
{
	size_t a = strlen(s), b = strlen(suffix);

	return a >= b && strcmp(s + a - b, suffix) == 0;
}

void rdns_ptr_owner(int family, const uint8_t addr[16], char out[RDNS_NAME_MAX])
{
	static const char hex[] = "0123456789abcdef";
	size_t o = 0;

	if (family == 4) {
		snprintf(out, RDNS_NAME_MAX, "%u.%u.%u.%u.in-addr.arpa.", addr[3], addr[2], addr[1],
		         addr[0]);
		return;
	}
	for (int i = 15; i >= 0; i--) {
		out[o++] = hex[addr[i] & 0xf];
		out[o++] = '.';
		out[o++] = hex[addr[i] >> 4];
		out[o++] = '.';
	}
	snprintf(out + o, RDNS_NAME_MAX - o, "ip6.arpa.");
}

/* The derived zone: the /24 (IPv4) or the /48 (IPv6) of the address. */
static void derived_zone(int family, const uint8_t addr[16], char out[RDNS_NAME_MAX])
{
	char owner[RDNS_NAME_MAX];

	if (family == 4) {
		snprintf(out, RDNS_NAME_MAX, "%u.%u.%u.in-addr.arpa.", addr[2], addr[1], addr[0]);
		return;
	}
	/* 32 nibbles of "x." then "ip6.arpa.": the /48 is the last 12 nibbles. */
	rdns_ptr_owner(6, addr, owner);
	snprintf(out, RDNS_NAME_MAX, "%s", owner + 2 * (32 - 12));
}

int rdns_zones_parse(const char *list, char zones[][RDNS_NAME_MAX], size_t max, const char **why)
{
	const char *p = list;
	int n = 0;

	while (p && *p) {
		const char *comma = strchr(p, ',');
		size_t len = comma ? (size_t)(comma - p) : strlen(p);
		char z[RDNS_NAME_MAX];
		const char *w = NULL;

		while (len && *p == ' ')
			p++, len--;
		while (len && p[len - 1] == ' ')
			len--;
		if (len && p[len - 1] == '.')
			len--;
		if (len == 0 || len >= RDNS_NAME_MAX - 2) {
			*why = "every zone must be a DNS name";
			return -1;
		}
		memcpy(z, p, len);
		z[len] = '\0';
		if (!valid_hostname(z, &w)) {
			*why = "every zone must be a lower-case DNS name";
			return -1;
		}
		if (!ends_with(z, ".in-addr.arpa") && !ends_with(z, ".ip6.arpa")) {
			*why = "every zone must end in .in-addr.arpa or .ip6.arpa";
			return -1;
		}
		if ((size_t)n >= max) {
			*why = "too many zones (at most 32)";
			return -1;
		}
		memcpy(zones[n], z, len);
		memcpy(zones[n++] + len, ".", 2);
		p = comma ? comma + 1 : NULL;
	}
	return n;
}

bool rdns_zone_for(int family, const uint8_t addr[16], const char *owner, char out[RDNS_NAME_MAX])
{
	/* Per thread: 8 KiB is too much for a handler's stack frame. */
	static _Thread_local char zones[RDNS_ZONES_MAX][RDNS_NAME_MAX];
	char list[ZONES_SETTING_MAX];
	const char *why = NULL, *best = NULL;
	size_t olen = strlen(owner), blen = 0;
	int n;

	if (!setting_get("rdns_zones", "", list, sizeof(list)))
		return false;
	n = rdns_zones_parse(list, zones, RDNS_ZONES_MAX, &why);
	for (int i = 0; i < n; i++) {
		size_t zl = strlen(zones[i]);

		if (zl > olen || strcmp(owner + olen - zl, zones[i]) != 0)
			continue;
		if (zl < olen && owner[olen - zl - 1] != '.')
			continue; /* only at a label boundary */
		if (zl > blen) {
			best = zones[i];
			blen = zl;
		}
	}
	if (best)
		snprintf(out, RDNS_NAME_MAX, "%s", best);
	else
		derived_zone(family, addr, out);
	return true;
}

/* ---- the PowerDNS HTTP API ------------------------------------------------------------------- */

typedef struct reply_buf {
	char data[PDNS_REPLY_MAX];
	size_t len;
} reply_buf;

static size_t write_cb(char *p, size_t size, size_t n, void *ud)
{
	reply_buf *b = ud;
	size_t len = size * n, room = sizeof(b->data) - 1 - b->len;

	if (len > room)
		len = room;
	memcpy(b->data + b->len, p, len);
	b->len += len;
	b->data[b->len] = '\0';
	return size * n;
}

/* PowerDNS's {"error": "..."} of a refusal, or the body's start. */
static void pdns_error_text(const reply_buf *b, char *out, size_t out_len)
{
	json_object *o = json_tokener_parse(b->data), *e = NULL;

	if (o && json_object_object_get_ex(o, "error", &e))
		snprintf(out, out_len, "%s", json_object_get_string(e));
	else
		snprintf(out, out_len, "%.120s", b->data);
	json_object_put(o);
}

int rdns_pdns_change(const char *zone, const char *owner, const char *name, char *err,
                     size_t err_len)
{
	json_object *body = json_object_new_object(), *sets = json_object_new_array();
	json_object *set = json_object_new_object();
	char url[PDNS_URL_MAX + RDNS_NAME_MAX], hdr[PDNS_KEY_MAX + 16], content[RDNS_NAME_MAX + 1];
	const char *const headers[] = {hdr, "Content-Type: application/json", NULL};
	reply_buf rb = {.len = 0};
	long status = 0;
	CURLcode cc;
	int rc;

	json_object_object_add(set, "name", json_object_new_string(owner));
	json_object_object_add(set, "type", json_object_new_string("PTR"));
	if (name) {
		json_object *recs = json_object_new_array(), *rec = json_object_new_object();

		snprintf(content, sizeof(content), "%s.", name);
		json_object_object_add(rec, "content", json_object_new_string(content));
		json_object_object_add(rec, "disabled", json_object_new_boolean(false));
		json_object_array_add(recs, rec);
		json_object_object_add(set, "ttl", json_object_new_int(RDNS_TTL));
		json_object_object_add(set, "changetype", json_object_new_string("REPLACE"));
		json_object_object_add(set, "records", recs);
	} else {
		json_object_object_add(set, "changetype", json_object_new_string("DELETE"));
	}
	json_object_array_add(sets, set);
	json_object_object_add(body, "rrsets", sets);
	snprintf(url, sizeof(url), "%s/api/v1/servers/localhost/zones/%s", pdns_url, zone);
	snprintf(hdr, sizeof(hdr), "X-API-Key: %s", pdns_key);
	if (http_out_json(url, "PATCH", headers, json_compact(body), (long)PDNS_TIMEOUT_S, write_cb,
	                  &rb, &cc, &status) != 0) {
		json_object_put(body);
		snprintf(err, err_len, "curl_easy_init failed");
		return -EAGAIN;
	}
	json_object_put(body);
	if (cc != CURLE_OK) {
		snprintf(err, err_len, "PowerDNS could not be reached: %s", curl_easy_strerror(cc));
		return -EAGAIN;
	}
	if (status >= 200 && status < 300)
		return 0;
	rc = status == 404 || status == 422 ? -ENOENT : -EPROTO;
	{
		char text[200];

		pdns_error_text(&rb, text, sizeof(text));
		if (rc == -ENOENT && status == 404)
			snprintf(err, err_len, "the zone %s does not exist on PowerDNS (%s)", zone,
			         text);
		else
			snprintf(err, err_len, "PowerDNS answered %ld: %s", status, text);
	}
	/* 422 names a bad record or a name outside the zone: a refusal, not a missing zone. */
	return status == 404 ? -ENOENT : -EPROTO;
}

/* ---- the removal queue ------------------------------------------------------------------------
 */

typedef struct removal {
	int64_t id;
	char address[64], zone[RDNS_NAME_MAX];
} removal;

static bool removal_done(int64_t id)
{
	return db_exec_id("DELETE FROM rdns_removals WHERE id=?", id);
}

static void removal_failed(int64_t id, const char *why)
{
	sqlite3_stmt *st = db_stmt(
	        "UPDATE rdns_removals SET attempts = attempts + 1, last_error = ?1 WHERE id = ?2");

	if (!st)
		return;
	sqlite3_bind_text(st, 1, why, -1, SQLITE_TRANSIENT);
	sqlite3_bind_int64(st, 2, id);
	db_step_done(st);
}

int rdns_drain(void)
{
	sqlite3_stmt *st;
	removal *r = NULL;
	size_t n = 0;
	int left = 0, sr;

	if (!rdns_publishing())
		return 0;
	st = db_stmt("SELECT id, address, zone FROM rdns_removals ORDER BY id LIMIT ?");
	if (!st)
		return -1;
	r = calloc(DRAIN_BATCH, sizeof(*r));
	if (!r) {
		sqlite3_reset(st);
		return -1;
	}
	sqlite3_bind_int(st, 1, DRAIN_BATCH);
	while (n < DRAIN_BATCH && (sr = sqlite3_step(st)) == SQLITE_ROW) {
		r[n].id = sqlite3_column_int64(st, 0);
		db_col_text(st, 1, r[n].address, sizeof(r[n].address));
		db_col_text(st, 2, r[n].zone, sizeof(r[n].zone));
		n++;
	}
	sqlite3_reset(st);
	db_release();
	for (size_t i = 0; i < n; i++) {
		uint8_t a[16] = {0};
		char owner[RDNS_NAME_MAX], err[RDNS_ERR_MAX], res[AUDIT_RESOURCE_MAX];
		int family = strchr(r[i].address, ':') ? 6 : 4;
		int rc;

		if (!(family == 4 ? parse_ipv4(r[i].address, a) : parse_ipv6(r[i].address, a))) {
			removal_done(r[i].id); /* never a row the panel wrote */
			continue;
		}
		rdns_ptr_owner(family, a, owner);
		rc = rdns_pdns_change(r[i].zone, owner, NULL, err, sizeof(err));
		snprintf(res, sizeof(res), "rdns/%s", r[i].address);
		if (rc == 0 || rc == -ENOENT) {
			if (removal_done(r[i].id))
				audit_system("rdns.removed", res,
				             rc == 0 ? r[i].zone
				                     : "its zone is gone from PowerDNS");
		} else {
			removal_failed(r[i].id, err);
			log_error("rdns: removing the PTR of %s: %s (retried)", r[i].address, err);
			left++;
		}
	}
	free(r);
	db_release();
	return left;
}
