/* api_quota.c — the traffic quota ladder (issue 13 item 4) against a running xvpsd ($XVPS_URL):
 * plan fields and their bad input, "quota" on the VPS object (null when unmetered), notices at
 * 80 % and 100 %, the throttle (throttle_mbit) and the suspension (stopped, start and console
 * refused, unsuspend refused while over), traffic an admin adds lifting either, every notice
 * listed and delivered: the e-mail to an SMTP sink and the webhook (HMAC checked) to a receiver,
 * both run by this test on loopback ($XVPS_SMTP_URL, $XVPS_WEBHOOK_URL, set by scripts/test.sh).
 *
 * Traffic. A quota is whole GiB and this suite runs many times a day on two shared cores, so the
 * bytes are not pushed through a vif here: the test appends usage_samples rows to the ledger in
 * $XVPS_STATE/xvps.db, exactly as a metering sweep would after that many bytes (the netns suite
 * checks the ledger against real traffic). Everything after the ledger — the ladder, the jobs,
 * the store, the delivery — is the real code. The period rollover through xvpsd's test-only
 * fake clock, with real packets, is tests/netns/quota.sh's (the clock is the whole server's, and
 * this suite's tests run in parallel): here the rollover is made by marking the VPS's running
 * traffic sums (quota_usage) and the ladder's state (vps_quota) as another period's, which is what
 * the first sweep of a new period sees (the pure rollover arithmetic is unit-tested in
 * tests/unit/test_billing_quota.c). */
#include <arpa/inet.h>
#include <criterion/criterion.h>
#include <netinet/in.h>
#include <pthread.h>
#include <sodium.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "client.h"
#include "sink.h"

#define GIB (1LL << 30)

static api_client admin, cust;
static char tpl[32], pool[32], cust_id[32];

/* ---- the sinks ------------------------------------------------------------------------------ */

static char hooks_seen[16384]; /* every webhook body whose signature matched (under sink_mu) */
static int hooks_bad;          /* webhooks with a wrong or missing signature */
static int hook_fd = -1;
static bool smtp_up;
static pthread_t hook_thr;

/* A minimal HTTP/1.1 receiver: checks X-Xvps-Signature against $XVPS_WEBHOOK_SECRET. */
static void *hook_main(void *arg)
{
	const char *secret = getenv("XVPS_WEBHOOK_SECRET");

	(void)arg;
	for (;;) {
		int c = accept(hook_fd, NULL, NULL);
		char line[1024], sig[128] = "", body[4096], want[80];
		unsigned char mac[crypto_auth_hmacsha256_BYTES];
		crypto_auth_hmacsha256_state st;
		size_t len = 0, got = 0;

		if (c < 0)
			return NULL;
		while (sink_read_line(c, line, sizeof(line)) && line[0]) {
			if (strncasecmp(line, "Content-Length:", 15) == 0)
				len = (size_t)strtoul(line + 15, NULL, 10);
			else if (strncasecmp(line, "X-Xvps-Signature:", 17) == 0)
				snprintf(sig, sizeof(sig), "%s",
				         line + 17 + strspn(line + 17, " "));
		}
		if (len >= sizeof(body))
			len = sizeof(body) - 1;
		while (got < len) {
			ssize_t r = read(c, body + got, len - got);

			if (r <= 0)
				break;
			got += (size_t)r;
		}
		body[got] = '\0';
		crypto_auth_hmacsha256_init(&st, (const unsigned char *)(secret ? secret : ""),
		                            secret ? strlen(secret) : 0);
		crypto_auth_hmacsha256_update(&st, (const unsigned char *)body, got);
		crypto_auth_hmacsha256_final(&st, mac);
		memcpy(want, "sha256=", 7);
		sodium_bin2hex(want + 7, sizeof(want) - 7, mac, sizeof(mac));
		pthread_mutex_lock(&sink_mu);
		if (strcmp(sig, want) == 0 && strlen(hooks_seen) + got + 2 < sizeof(hooks_seen)) {
			strcat(hooks_seen, body);
			strcat(hooks_seen, "\n");
		} else if (strcmp(sig, want) != 0) {
			hooks_bad++;
		}
		pthread_mutex_unlock(&sink_mu);
		sink_say(c, "HTTP/1.1 204 No Content\r\nConnection: close\r\n\r\n");
		close(c);
	}
}

static void setup(void)
{
	fx_admin(&admin);
	fx_pool4(&admin, pool);
	fx_template(&admin, tpl);
	fx_customer(&admin, &cust, cust_id, NULL, NULL);
	smtp_up = smtp_sink_start();
	if (hook_fd < 0 && (hook_fd = sink_listen(getenv("XVPS_WEBHOOK_URL"))) >= 0)
		pthread_create(&hook_thr, NULL, hook_main, NULL);
}

TestSuite(quota, .init = setup, .fini = api_cleanup, .timeout = 240);

/* ---- helpers -------------------------------------------------------------------------------- */

/* A plan with this quota; writes its id. */
static void quota_plan(const char *fields, char id_out[32])
{
	char u[9];
	api_resp *r;

	uniq(u);
	r = api_req(&admin, "POST", V1 "/plans",
	            "{\"name\":\"quota-%s\",\"vcpus\":1,\"memory_mib\":256,\"disk_gib\":2,%s}", u,
	            fields);
	cr_assert_eq(r->status, 201, "POST /plans: %ld %s", r->status, r->body);
	snprintf(id_out, 32, "%s", jstr(r->json, "id"));
	api_resp_free(r);
}

/* Opens xvpsd's database ($XVPS_STATE/xvps.db) for writing, waiting for its locks. */
static sqlite3 *open_db(void)
{
	char path[600];
	sqlite3 *db = NULL;

	snprintf(path, sizeof(path), "%s/xvps.db", getenv("XVPS_STATE"));
	cr_assert_eq(sqlite3_open_v2(path, &db, SQLITE_OPEN_READWRITE, NULL), SQLITE_OK, "%s",
	             path);
	sqlite3_busy_timeout(db, 20000);
	return db;
}

/* Runs one statement binding a, b (int64) and asserts it changed exactly one row. */
static void exec_one(const char *sql, long long a, long long b)
{
	sqlite3 *db = open_db();
	sqlite3_stmt *st = NULL;

	cr_assert_eq(sqlite3_prepare_v2(db, sql, -1, &st, NULL), SQLITE_OK, "%s",
	             sqlite3_errmsg(db));
	sqlite3_bind_int64(st, 1, a);
	sqlite3_bind_int64(st, 2, b);
	cr_assert_eq(sqlite3_step(st), SQLITE_DONE, "%s", sqlite3_errmsg(db));
	cr_assert_eq(sqlite3_changes(db), 1, "%s", sql);
	sqlite3_finalize(st);
	sqlite3_close(db);
}

/* Appends one ledger sample of rx/tx bytes for vps at now, as a metering sweep would. Returns
 * its row id. */
static long long push_bytes(const char *vps, long long rx, long long tx)
{
	sqlite3 *db = open_db();
	sqlite3_stmt *st = NULL;
	long long now = (long long)time(NULL), id;

	cr_assert_eq(
	        sqlite3_prepare_v2(
	                db,
	                "INSERT INTO usage_samples(vps_id, customer_id, plan_id, t_start, "
	                "t_end, disk_gib, cpu_ns, rx_bytes, tx_bytes, rx_packets, tx_packets, "
	                "running_s, disk_gib_s) SELECT id, customer_id, plan_id, ?2, ?2, 0, 0, "
	                "?3, ?4, 0, 0, 0, 0 FROM vps WHERE id=?1",
	                -1, &st, NULL),
	        SQLITE_OK, "%s", sqlite3_errmsg(db));
	sqlite3_bind_int64(st, 1, atoll(vps));
	sqlite3_bind_int64(st, 2, now);
	sqlite3_bind_int64(st, 3, rx);
	sqlite3_bind_int64(st, 4, tx);
	cr_assert_eq(sqlite3_step(st), SQLITE_DONE, "%s", sqlite3_errmsg(db));
	cr_assert_eq(sqlite3_changes(db), 1);
	id = sqlite3_last_insert_rowid(db);
	sqlite3_finalize(st);
	sqlite3_close(db);
	return id;
}

/* Waits (up to 40 s: a few metering intervals) until the VPS's quota.state is state. */
static void wait_quota_state(const char *vps, const char *state)
{
	char last[4096] = "";

	for (int i = 0; i < 80; i++) {
		api_resp *r = vps_get_ok(&admin, vps);
		const char *s = jstr(jget(r->json, "quota"), "state");

		snprintf(last, sizeof(last), "%s", r->body);
		if (s && strcmp(s, state) == 0) {
			api_resp_free(r);
			return;
		}
		api_resp_free(r);
		usleep(500 * 1000);
	}
	cr_assert_fail("quota.state never became %s: %s", state, last);
}

/* The kinds of the notices GET path lists, in its order, space-separated, as c. */
static void notice_kinds_at(const api_client *c, const char *path, char *out, size_t size)
{
	api_resp *r;

	r = api_req(c, "GET", path, NULL);
	cr_assert_eq(r->status, 200, "GET %s: %ld %s", path, r->status, r->body);
	out[0] = '\0';
	for (size_t i = 0; i < json_object_array_length(r->json); i++) {
		json_object *n = json_object_array_get_idx(r->json, i);

		snprintf(out + strlen(out), size - strlen(out), "%s%s", i ? " " : "",
		         jstr(n, "kind"));
	}
	api_resp_free(r);
}

/* The kinds of vps's notices, newest first, space-separated, as c. */
static void notice_kinds(const api_client *c, const char *vps, char *out, size_t size)
{
	char path[96];

	snprintf(path, sizeof(path), V1 "/vps/%s/notices", vps);
	notice_kinds_at(c, path, out, size);
}

/* True when the audit log holds action on resource with detail in its detail. */
static bool audit_has(const char *action, const char *resource, const char *detail)
{
	char path[160];
	api_resp *r;
	bool found = false;

	snprintf(path, sizeof(path), V1 "/audit?resource=%s&limit=1000", resource);
	r = api_req(&admin, "GET", path, NULL);
	cr_assert_eq(r->status, 200, "GET /audit: %ld %s", r->status, r->body);
	for (size_t i = 0; i < json_object_array_length(r->json) && !found; i++) {
		json_object *e = json_object_array_get_idx(r->json, i);
		const char *a = jstr(e, "action"), *d = jstr(e, "detail");

		found = a && strcmp(a, action) == 0 && d && strstr(d, detail);
	}
	api_resp_free(r);
	return found;
}

static api_resp *add_extra(const api_client *c, const char *vps, const char *body)
{
	char path[96];

	snprintf(path, sizeof(path), V1 "/vps/%s/quota/extra", vps);
	return api_req(c, "POST", path, "%s", body);
}

/* ---- tests ---------------------------------------------------------------------------------- */

Test(quota, plan_fields_default_and_reject_bad_values)
{
	static const char *const bad[][2] = {
	        {"\"traffic_gib\":-1", "traffic_gib"},
	        {"\"traffic_gib\":1000000001", "traffic_gib"},
	        {"\"over_quota_mbit\":0", "over_quota_mbit"},
	        {"\"over_quota_mbit\":-5", "over_quota_mbit"},
	        {"\"over_quota_mbit\":100001", "over_quota_mbit"},
	        {"\"traffic_direction\":\"sideways\"", "traffic_direction"},
	        {"\"traffic_direction\":1", "traffic_direction"},
	        {"\"quota_action\":\"delete\"", "quota_action"},
	};
	long long before = api_count(&admin, V1 "/plans");
	char plan[32], path[96];
	api_resp *r;

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		char u[9];

		uniq(u);
		r = api_req(
		        &admin, "POST", V1 "/plans",
		        "{\"name\":\"bad-%s\",\"vcpus\":1,\"memory_mib\":256,\"disk_gib\":2,%s}", u,
		        bad[i][0]);
		assert_problem(r, 422, bad[i][1]);
		api_resp_free(r);
	}
	cr_assert_eq(api_count(&admin, V1 "/plans"), before, "a bad plan was stored");
	quota_plan("\"traffic_gib\":5", plan);
	snprintf(path, sizeof(path), V1 "/plans/%s", plan);
	r = api_req(&admin, "GET", path, NULL);
	cr_assert_str_eq(jstr(r->json, "traffic_direction"), "out", "%s", r->body);
	cr_assert_str_eq(jstr(r->json, "quota_action"), "throttle", "%s", r->body);
	cr_assert_eq(jint(r->json, "over_quota_mbit"), 1, "%s", r->body);
	api_resp_free(r);
	r = api_req(&admin, "PATCH", path, "{\"over_quota_mbit\":0}");
	assert_problem(r, 422, "over_quota_mbit");
	api_resp_free(r);
	r = api_req(&admin, "PATCH", path,
	            "{\"traffic_direction\":\"both\",\"quota_action\":"
	            "\"suspend\",\"over_quota_mbit\":7}");
	cr_assert_eq(r->status, 200, "%s", r->body);
	cr_assert_str_eq(jstr(r->json, "traffic_direction"), "both", "%s", r->body);
	cr_assert_str_eq(jstr(r->json, "quota_action"), "suspend", "%s", r->body);
	cr_assert_eq(jint(r->json, "over_quota_mbit"), 7, "%s", r->body);
	api_resp_free(r);
	r = api_req(&admin, "DELETE", path, NULL);
	cr_assert_eq(r->status, 204, "%s", r->body);
	api_resp_free(r);
}

Test(quota, unmetered_vps_has_null_quota_and_extra_is_checked)
{
	char plan[32], vps[32], kinds[256];
	api_resp *r;

	quota_plan("\"traffic_gib\":0", plan);
	fx_vps(&admin, plan, tpl, cust_id, vps);
	r = vps_get_ok(&admin, vps);
	cr_assert(jis_null(r->json, "quota"), "quota not null: %s", r->body);
	api_resp_free(r);
	static const char *const bad[] = {"{\"gib\":0}", "{\"gib\":-1}",    "{\"gib\":1000001}",
	                                  "{}",          "{\"gib\":\"1\"}", "{\"gib\":1,\"x\":1}"};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		r = add_extra(&admin, vps, bad[i]);
		cr_assert_eq(r->status, 422, "%s: %ld %s", bad[i], r->status, r->body);
		api_resp_free(r);
	}
	r = add_extra(&cust, vps, "{\"gib\":1}");
	cr_assert(r->status == 403 || r->status == 404, "a customer added traffic: %ld", r->status);
	api_resp_free(r);
	r = add_extra(&admin, "999999999", "{\"gib\":1}");
	cr_assert_eq(r->status, 404, "%s", r->body);
	api_resp_free(r);
	notice_kinds(&cust, vps, kinds, sizeof(kinds));
	cr_assert_str_eq(kinds, "", "notices of an unmetered VPS: %s", kinds);
	fx_vps_delete(&admin, vps);
}

Test(quota, throttle_ladder_notices_and_extra_traffic_lift)
{
	char plan[32], vps[32], kinds[256];
	api_resp *r;
	json_object *q;

	quota_plan("\"traffic_gib\":1,\"over_quota_mbit\":3", plan);
	fx_vps(&admin, plan, tpl, cust_id, vps);
	r = vps_get_ok(&admin, vps);
	q = jget(r->json, "quota");
	cr_assert_not_null(q, "%s", r->body);
	cr_assert_eq(jint(q, "included_bytes"), GIB, "%s", r->body);
	cr_assert_str_eq(jstr(q, "direction"), "out", "%s", r->body);
	cr_assert_str_eq(jstr(q, "action"), "throttle", "%s", r->body);
	cr_assert_eq(jint(q, "over_quota_mbit"), 3, "%s", r->body);
	cr_assert_not_null(jstr(q, "period_start"), "%s", r->body);
	cr_assert_not_null(jstr(q, "period_end"), "%s", r->body);
	api_resp_free(r);

	/* Inbound bytes do not count on an "out" plan. */
	push_bytes(vps, 5 * GIB, GIB * 85 / 100);
	wait_quota_state(vps, "notice_80");
	r = vps_get_ok(&admin, vps);
	q = jget(r->json, "quota");
	cr_assert_eq(jint(q, "percent"), 85, "%s", r->body);
	cr_assert_eq(jint(r->json, "throttle_mbit"), 0, "%s", r->body);
	api_resp_free(r);

	push_bytes(vps, 0, GIB / 5); /* 105 % */
	wait_quota_state(vps, "throttled");
	r = vps_get_ok(&admin, vps);
	cr_assert_eq(jint(r->json, "throttle_mbit"), 3, "the throttle: %s", r->body);
	cr_assert_eq(jint(jget(r->json, "quota"), "percent"), 105, "%s", r->body);
	api_resp_free(r);
	notice_kinds(&cust, vps, kinds, sizeof(kinds));
	cr_assert_str_eq(kinds, "throttled notice_100 notice_80", "%s", kinds);

	/* One more GiB: no longer over, the throttle goes at once. */
	r = add_extra(&admin, vps, "{\"gib\":1}");
	cr_assert_eq(r->status, 200, "%s", r->body);
	cr_assert_eq(jint(jget(r->json, "quota"), "included_bytes"), 2 * GIB, "%s", r->body);
	cr_assert_str_eq(jstr(jget(r->json, "quota"), "state"), "notice_100", "%s", r->body);
	cr_assert_eq(jint(r->json, "throttle_mbit"), 0, "%s", r->body);
	api_resp_free(r);
	notice_kinds(&admin, vps, kinds, sizeof(kinds));
	cr_assert_str_eq(kinds, "lifted throttled notice_100 notice_80", "%s", kinds);

	/* Delivery: an e-mail per notice to the customer's address, a signed webhook. */
	/* scripts/test.sh sets both URLs; a sink that could not bind its port fails here. */
	cr_assert(!getenv("XVPS_SMTP_URL") || smtp_up, "the SMTP sink could not listen");
	cr_assert(!getenv("XVPS_WEBHOOK_URL") || hook_fd >= 0,
	          "the webhook receiver could not listen");
	if (getenv("XVPS_SMTP_URL")) {
		for (int i = 0; i < 60 && !sink_has(smtp_mail, "notice_100"); i++)
			usleep(500 * 1000);
		cr_assert(sink_has(smtp_mail, "notice_80"), "no notice_80 e-mail: %s", smtp_mail);
		cr_assert(sink_has(smtp_mail, "notice_100"), "no notice_100 e-mail: %s", smtp_mail);
	}
	if (getenv("XVPS_WEBHOOK_URL")) {
		for (int i = 0; i < 60 && !sink_has(hooks_seen, "\"lifted\""); i++)
			usleep(500 * 1000);
		cr_assert(sink_has(hooks_seen, "\"kind\":\"throttled\""), "no webhook: %s",
		          hooks_seen);
		cr_assert(sink_has(hooks_seen, "\"kind\":\"lifted\""), "no webhook: %s",
		          hooks_seen);
		cr_assert_eq(hooks_bad, 0, "a webhook with a bad signature");
	}
	fx_vps_delete(&admin, vps);
}

Test(quota, suspend_variant_stops_refuses_and_unsuspend_waits_for_traffic)
{
	char plan[32], vps[32], kinds[256], path[128];
	api_resp *r;

	quota_plan("\"traffic_gib\":1,\"quota_action\":\"suspend\",\"traffic_direction\":\"both\"",
	           plan);
	fx_vps(&admin, plan, tpl, cust_id, vps);
	push_bytes(vps, GIB / 2, GIB / 2 + 1); /* both: just over */
	wait_quota_state(vps, "suspended");
	r = vps_get_ok(&admin, vps);
	cr_assert_str_eq(jstr(r->json, "state"), "suspended", "%s", r->body);
	cr_assert_str_eq(jstr(jget(r->json, "suspension"), "by"), "quota", "%s", r->body);
	cr_assert(jis_null(jget(r->json, "quota"), "over_quota_mbit") ||
	                  !jget(jget(r->json, "quota"), "over_quota_mbit"),
	          "%s", r->body);
	api_resp_free(r);
	snprintf(path, sizeof(path), V1 "/vps/%s/actions/start", vps);
	r = api_req(&cust, "POST", path, NULL);
	cr_assert_eq(r->status, 409, "start of a quota-suspended VPS: %ld %s", r->status, r->body);
	api_resp_free(r);
	snprintf(path, sizeof(path), V1 "/vps/%s/console", vps);
	r = api_req(&cust, "POST", path, NULL);
	cr_assert_eq(r->status, 409, "console of a quota-suspended VPS: %ld %s", r->status,
	             r->body);
	api_resp_free(r);
	snprintf(path, sizeof(path), V1 "/vps/%s/actions/unsuspend", vps);
	r = api_req(&admin, "POST", path, NULL);
	assert_problem(r, 409, NULL);
	api_resp_free(r);
	r = vps_get_ok(&admin, vps);
	cr_assert_str_eq(jstr(r->json, "state"), "suspended", "the refused unsuspend changed it");
	api_resp_free(r);
	notice_kinds(&admin, vps, kinds, sizeof(kinds));
	cr_assert_str_eq(kinds, "suspended notice_100 notice_80", "%s", kinds);

	r = add_extra(&admin, vps, "{\"gib\":2}");
	cr_assert_eq(r->status, 200, "%s", r->body);
	cr_assert(jis_null(r->json, "suspension"), "still suspended: %s", r->body);
	api_resp_free(r);
	notice_kinds(&admin, vps, kinds, sizeof(kinds));
	cr_assert_str_eq(kinds, "lifted suspended notice_100 notice_80", "%s", kinds);
	fx_vps_delete(&admin, vps);
}

Test(quota, period_rollover_lifts_the_throttle_and_starts_the_ladder_again)
{
	char plan[32], vps[32], kinds[256];
	api_resp *r;

	quota_plan("\"traffic_gib\":1,\"over_quota_mbit\":4", plan);
	fx_vps(&admin, plan, tpl, cust_id, vps);
	push_bytes(vps, 0, 2 * GIB);
	wait_quota_state(vps, "throttled");
	/* The new period: the running traffic sums and the ladder's state are the last one's. */
	exec_one("UPDATE quota_usage SET period_start=period_start-?2 WHERE vps_id=?1", atoll(vps),
	         1);
	exec_one("UPDATE vps_quota SET period_start=period_start-?2 WHERE vps_id=?1", atoll(vps),
	         1);
	wait_quota_state(vps, "ok");
	r = vps_get_ok(&admin, vps);
	cr_assert_eq(jint(r->json, "throttle_mbit"), 0, "the throttle stayed: %s", r->body);
	/* what the guest itself sent in the meantime (ARP, ND) is all this period has */
	cr_assert_lt(jint(jget(r->json, "quota"), "used_bytes"), 1 << 20, "%s", r->body);
	api_resp_free(r);
	notice_kinds(&admin, vps, kinds, sizeof(kinds));
	cr_assert_str_eq(kinds, "lifted throttled notice_100 notice_80", "%s", kinds);
	fx_vps_delete(&admin, vps);
}

Test(quota, plan_change_moves_a_throttle_in_force)
{
	char plan[32], vps[32], path[96], res[48];
	api_resp *r;

	quota_plan("\"traffic_gib\":1,\"over_quota_mbit\":3", plan);
	fx_vps(&admin, plan, tpl, cust_id, vps);
	snprintf(res, sizeof(res), "vps/%s", vps);
	push_bytes(vps, 0, 2 * GIB);
	wait_quota_state(vps, "throttled");
	r = vps_get_ok(&admin, vps);
	cr_assert_eq(jint(r->json, "throttle_mbit"), 3, "%s", r->body);
	api_resp_free(r);

	/* The plan's over_quota_mbit changes: the throttle in force follows at once. */
	snprintf(path, sizeof(path), V1 "/plans/%s", plan);
	r = api_req(&admin, "PATCH", path, "{\"over_quota_mbit\":7}");
	cr_assert_eq(r->status, 200, "%ld %s", r->status, r->body);
	api_resp_free(r);
	r = vps_get_ok(&admin, vps);
	cr_assert_eq(jint(r->json, "throttle_mbit"), 7, "the throttle stayed: %s", r->body);
	cr_assert_str_eq(jstr(jget(r->json, "quota"), "state"), "throttled", "%s", r->body);
	cr_assert_eq(jint(jget(r->json, "quota"), "over_quota_mbit"), 7, "%s", r->body);
	api_resp_free(r);
	cr_assert(audit_has("vps.quota.throttle", res, "follows the plan: 7 Mbit/s"),
	          "no audit of the followed throttle");
	/* A PATCH of something else leaves it. */
	r = api_req(&admin, "PATCH", path, "{\"price_month_cents\":500}");
	cr_assert_eq(r->status, 200, "%ld %s", r->status, r->body);
	api_resp_free(r);
	r = vps_get_ok(&admin, vps);
	cr_assert_eq(jint(r->json, "throttle_mbit"), 7, "%s", r->body);
	api_resp_free(r);

	/* The lift still restores the VPS's own throttle (none). */
	r = add_extra(&admin, vps, "{\"gib\":2}");
	cr_assert_eq(r->status, 200, "%s", r->body);
	cr_assert_eq(jint(r->json, "throttle_mbit"), 0, "%s", r->body);
	api_resp_free(r);
	fx_vps_delete(&admin, vps);
}

Test(quota, notices_of_a_deleted_vps_stay_listed_for_the_admin)
{
	char plan[32], vps[32], path[128], kinds[256], before[256];
	api_resp *r;

	quota_plan("\"traffic_gib\":1,\"over_quota_mbit\":5", plan);
	fx_vps(&admin, plan, tpl, cust_id, vps);
	push_bytes(vps, 0, 2 * GIB);
	wait_quota_state(vps, "throttled");
	notice_kinds(&admin, vps, before, sizeof(before));
	cr_assert_str_eq(before, "throttled notice_100 notice_80", "%s", before);
	fx_vps_delete(&admin, vps);

	/* Gone from /vps/{id}/notices ... */
	snprintf(path, sizeof(path), V1 "/vps/%s/notices", vps);
	r = api_req(&admin, "GET", path, NULL);
	assert_problem(r, 404, NULL);
	api_resp_free(r);
	/* ... but listed by /notices, by VPS and by customer, newest first. */
	snprintf(path, sizeof(path), V1 "/notices?vps=%s", vps);
	notice_kinds_at(&admin, path, kinds, sizeof(kinds));
	cr_assert_str_eq(kinds, before, "GET /notices?vps=: %s", kinds);
	r = api_req(&admin, "GET", path, NULL);
	cr_assert_eq(r->status, 200, "%s", r->body);
	cr_assert_str_eq(jstr(json_object_array_get_idx(r->json, 0), "vps"), vps, "%s", r->body);
	cr_assert_eq(jint(json_object_array_get_idx(r->json, 0), "included_bytes"), GIB, "%s",
	             r->body);
	api_resp_free(r);
	snprintf(path, sizeof(path), V1 "/notices?vps=%s&customer=%s&limit=2", vps, cust_id);
	notice_kinds_at(&admin, path, kinds, sizeof(kinds));
	cr_assert_str_eq(kinds, "throttled notice_100", "paged: %s", kinds);
	snprintf(path, sizeof(path), V1 "/notices?customer=%s", cust_id);
	r = api_req(&admin, "GET", path, NULL);
	cr_assert_eq(r->status, 200, "%s", r->body);
	cr_assert_geq(json_object_array_length(r->json), 3, "%s", r->body);
	for (size_t i = 1; i < json_object_array_length(r->json); i++)
		cr_assert_gt(atoll(jstr(json_object_array_get_idx(r->json, i - 1), "id")),
		             atoll(jstr(json_object_array_get_idx(r->json, i), "id")),
		             "not newest first: %s", r->body);
	api_resp_free(r);
	r = api_req(&admin, "GET", V1 "/notices?vps=999999", NULL);
	cr_assert_eq(r->status, 200, "%s", r->body);
	cr_assert_eq(json_object_array_length(r->json), 0, "%s", r->body);
	api_resp_free(r);

	/* Admin only; bad filters are a 422 naming the parameter. */
	r = api_req(&cust, "GET", V1 "/notices", NULL);
	assert_problem(r, 403, NULL);
	api_resp_free(r);
	r = api_req(&admin, "GET", V1 "/notices?vps=abc", NULL);
	assert_problem(r, 422, "vps");
	api_resp_free(r);
	r = api_req(&admin, "GET", V1 "/notices?customer=-1", NULL);
	assert_problem(r, 422, "customer");
	api_resp_free(r);
	r = api_req(&admin, "GET", V1 "/notices?limit=0", NULL);
	assert_problem(r, 422, "limit");
	api_resp_free(r);
}

/* The prepaid balance's notices (issue 14 item 3; panel/balance.c) go through the same
 * delivery thread: an e-mail to the customer and a signed webhook
 * {"event":"billing.notice",...} for the low-balance mark, the suspension and the lift
 * (XVPS_BILLING_INTERVAL=1 from scripts/test.sh). */
Test(quota, prepaid_balance_notices_are_mailed_and_posted)
{
	char plan[32], vps[32], path[128];
	api_resp *r;

	if (!getenv("XVPS_SMTP_URL") || !getenv("XVPS_WEBHOOK_URL"))
		cr_skip_test("XVPS_SMTP_URL and XVPS_WEBHOOK_URL are not both set");
	cr_assert(smtp_up && hook_fd >= 0, "the sinks could not listen");
	quota_plan("\"price_month_cents\":73000", plan); /* 100 cents an hour */
	fx_vps(&cust, plan, tpl, NULL, vps);
	sleep(1);
	snprintf(path, sizeof(path), V1 "/customers/%s/billing", cust_id);
	r = api_req(&admin, "PATCH", path,
	            "{\"prepaid\":true,\"low_balance_cents\":1000,\"suspend_below_cents\":-"
	            "50}");
	cr_assert_eq(r->status, 200, "%s", r->body);
	api_resp_free(r);
	for (int i = 0; i < 60 && !sink_has(hooks_seen, "\"kind\":\"suspended\",\"customer\""); i++)
		usleep(500 * 1000);
	cr_assert(sink_has(hooks_seen, "\"event\":\"billing.notice\""), "no webhook: %s",
	          hooks_seen);
	cr_assert(sink_has(hooks_seen, "\"kind\":\"low_balance\""), "no webhook: %s", hooks_seen);
	cr_assert(sink_has(hooks_seen, "\"kind\":\"suspended\",\"customer\""), "no webhook: %s",
	          hooks_seen);
	snprintf(path, sizeof(path), V1 "/customers/%s/payments", cust_id);
	r = api_req(&admin, "POST", path, "{\"amount_cents\":100000}");
	cr_assert_eq(r->status, 201, "%s", r->body);
	api_resp_free(r);
	for (int i = 0; i < 60 && !sink_has(hooks_seen, "\"kind\":\"lifted\",\"customer\""); i++)
		usleep(500 * 1000);
	cr_assert(sink_has(hooks_seen, "\"kind\":\"lifted\",\"customer\""), "no webhook: %s",
	          hooks_seen);
	for (int i = 0; i < 60 && !sink_has(smtp_mail, "prepaid balance: suspended"); i++)
		usleep(500 * 1000);
	cr_assert(sink_has(smtp_mail, "prepaid balance: suspended"), "no e-mail: %s", smtp_mail);
	cr_assert_eq(hooks_bad, 0, "a webhook with a bad signature");
	snprintf(path, sizeof(path), V1 "/customers/%s/billing", cust_id);
	r = api_req(&admin, "PATCH", path, "{\"prepaid\":false}");
	cr_assert_eq(r->status, 200, "%s", r->body);
	api_resp_free(r);
	fx_vps_delete(&cust, vps);
	snprintf(path, sizeof(path), V1 "/plans/%s", plan);
	api_resp_free(api_req(&admin, "DELETE", path, NULL));
}
