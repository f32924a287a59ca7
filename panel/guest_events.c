/* guest_events.c — the panel's side of guest-initiated power events (guest_events.h): polls
 * the agent's "vps.events" from a cursor kept in agent_cursors, and for each event writes the
 * VPS's state as the agent left it and an audit row by the actor "guest" (or, for the agent's
 * start of a VPS after a host boot, event "boot", by the system). It never asks the
 * agent to start anything: a VPS whose guest powered off stays stopped until someone starts it.
 */
#include <stdio.h>
#include <string.h>
#include <time.h>

#include "../common/util.h"
#include "agent_client.h"
#include "audit.h"
#include "config.h"
#include "guest_events.h"
#include "store.h"
#include "ticker.h"

static void events_tick(void);
static ticker events_ticker = TICKER_INIT("guest events", events_tick);
static bool agent_was_away;

static const char *jstr(json_object *o, const char *key)
{
	json_object *v;

	return json_object_object_get_ex(o, key, &v) && json_object_is_type(v, json_type_string)
	               ? json_object_get_string(v)
	               : NULL;
}

static bool jint(json_object *o, const char *key, int64_t *out)
{
	json_object *v;

	if (!json_object_object_get_ex(o, key, &v) || !json_object_is_type(v, json_type_int))
		return false;
	*out = json_object_get_int64(v);
	return true;
}

int guest_events_cursor(int64_t *next_out, bool *have_out)
{
	sqlite3_stmt *st = db_stmt("SELECT next FROM agent_cursors WHERE name=?");
	int r;

	*next_out = 0;
	*have_out = false;
	if (!st)
		return -1;
	sqlite3_bind_text(st, 1, GUEST_EVENTS_CURSOR, -1, SQLITE_STATIC);
	r = sqlite3_step(st);
	if (r == SQLITE_ROW) {
		*next_out = sqlite3_column_int64(st, 0);
		*have_out = true;
	}
	sqlite3_reset(st);
	return r == SQLITE_ROW || r == SQLITE_DONE ? 0 : -1;
}

static bool store_cursor(int64_t next)
{
	sqlite3_stmt *st = db_stmt("INSERT INTO agent_cursors(name, next) VALUES(?1, ?2) "
	                           "ON CONFLICT(name) DO UPDATE SET next=?2");

	if (!st)
		return false;
	sqlite3_bind_text(st, 1, GUEST_EVENTS_CURSOR, -1, SQLITE_STATIC);
	sqlite3_bind_int64(st, 2, next);
	return db_step_done(st);
}

/* " (CPU 12.345 s, rx N B, tx N B in total)" from a settling event's final counters. */
static void counters_text(json_object *e, char *buf, size_t len)
{
	int64_t cpu = 0, rx = 0, tx = 0;
	bool have_cpu = jint(e, "cpu_ns", &cpu), have_net = jint(e, "rx_bytes", &rx);

	buf[0] = '\0';
	if (have_net)
		jint(e, "tx_bytes", &tx);
	if (have_cpu && have_net)
		snprintf(buf, len, " (CPU %lld.%03lld s, rx %lld B, tx %lld B in total)",
		         (long long)(cpu / 1000000000), (long long)(cpu % 1000000000 / 1000000),
		         (long long)rx, (long long)tx);
	else if (have_cpu)
		snprintf(buf, len, " (CPU %lld.%03lld s in total)", (long long)(cpu / 1000000000),
		         (long long)(cpu % 1000000000 / 1000000));
}

/* Writes state (and domid when running) unless a job acts on the VPS or finished after the
 * event: its outcome is newer than the event's. A VPS being made or deleted keeps its state:
 * its job writes the outcome. */
static bool set_state(int64_t vps_id, const char *state, int64_t domid, int64_t at)
{
	/* The domain ended, and a restart builds it from its config: no size waits for the next
	 * boot any more (resize, issue 16 item 1). */
	sqlite3_stmt *st = db_stmt(
	        "UPDATE vps SET state=?1, domid=?2, pending_memory_mib=NULL, pending_vcpus=NULL, "
	        /* a domain that runs again read its seed again (issue 16 item 2) */
	        "guest_pending=CASE WHEN ?1='running' THEN NULL ELSE guest_pending END "
	        "WHERE id=?3 "
	        "AND state IN ('running','stopped','error') AND NOT EXISTS (SELECT 1 FROM jobs "
	        "WHERE vps_id=?3 AND (state IN ('queued','running') OR finished_at > ?4))");

	if (!st)
		return false;
	sqlite3_bind_text(st, 1, state, -1, SQLITE_TRANSIENT);
	if (strcmp(state, "running") == 0 && domid >= 0)
		sqlite3_bind_int64(st, 2, domid);
	sqlite3_bind_int64(st, 3, vps_id);
	sqlite3_bind_int64(st, 4, at);
	return db_step_done(st);
}

/* The id of the VPS whose domain is NAME: 1 (in *VPS_ID), 0 when there is none (deleted since),
 * -1 on a database error. */
static int vps_by_domain(const char *name, int64_t *vps_id)
{
	sqlite3_stmt *st = db_stmt("SELECT id FROM vps WHERE domain=?");
	int r;

	if (!st)
		return -1;
	sqlite3_bind_text(st, 1, name, -1, SQLITE_TRANSIENT);
	r = sqlite3_step(st);
	if (r == SQLITE_ROW)
		*vps_id = sqlite3_column_int64(st, 0);
	sqlite3_reset(st);
	if (r == SQLITE_DONE)
		return 0;
	return r == SQLITE_ROW ? 1 : -1;
}

/* The agent started (or failed to start) a VPS whose desired state is running after the host
 * booted (issue 16 item 6): the row takes the state and domid the agent reports, audited
 * "vps.boot_start" (or "vps.boot_start_failed") by the system. */
static bool apply_boot(json_object *e, const char *name, const char *state, const char *error)
{
	char res[AUDIT_RESOURCE_MAX], detail[AUDIT_DETAIL_MAX];
	int64_t vps_id = 0, domid = -1, at = 0;
	int r = vps_by_domain(name, &vps_id);

	if (r <= 0)
		return r == 0; /* 0: deleted since */
	jint(e, "at", &at);
	jint(e, "domid", &domid);
	if (!set_state(vps_id, state, domid, at))
		return false;
	snprintf(res, sizeof(res), "vps/%lld", (long long)vps_id);
	if (strcmp(state, "running") == 0 && !error)
		snprintf(detail, sizeof(detail),
		         "started by the agent after the host booted (domid "
		         "%lld)",
		         (long long)domid);
	else
		snprintf(detail, sizeof(detail), "not started after the host booted: %s",
		         error ? error : "the domain does not run");
	audit_system(error ? "vps.boot_start_failed" : "vps.boot_start", res, detail);
	log_info("vps/%lld: %s", (long long)vps_id, detail);
	return true;
}

/* One event: the row's state and an audit line. A guest shutdown comes as two events: "settling"
 * (seen; audited, and a VPS the agent will not start again is stopped at once), then its outcome
 * with "follows" (the state it ended in; audited only when it failed). An outcome without
 * "follows" (an older agent) is audited itself. False on a database error. */
static bool apply_one(json_object *e)
{
	const char *name = jstr(e, "name"), *event = jstr(e, "event"), *action = jstr(e, "action"),
	           *state = jstr(e, "state"), *error = jstr(e, "error");
	char res[AUDIT_RESOURCE_MAX], act[48], detail[AUDIT_DETAIL_MAX], cnt[128];
	int64_t vps_id = 0, domid = -1, at = 0, follows = 0;
	bool settling, restart = false, audit = true;
	json_object *v;
	int r;

	if (!name || !event || !action || !state ||
	    (strcmp(event, "poweroff") != 0 && strcmp(event, "reboot") != 0 &&
	     strcmp(event, "crash") != 0 && strcmp(event, "boot") != 0) ||
	    (strcmp(state, "running") != 0 && strcmp(state, "stopped") != 0))
		return true; /* not one of ours: skipped */
	if (strcmp(event, "boot") == 0)
		return apply_boot(e, name, state, error);
	settling = strcmp(action, "settling") == 0;
	if (settling && json_object_object_get_ex(e, "restart", &v))
		restart = json_object_get_boolean(v);
	r = vps_by_domain(name, &vps_id);
	if (r <= 0)
		return r == 0; /* 0: deleted since */
	jint(e, "at", &at);
	jint(e, "domid", &domid);
	/* A domain the agent starts again keeps its "running" until the outcome says so. */
	if (!(settling && restart) && !set_state(vps_id, state, domid, at))
		return false;
	snprintf(res, sizeof(res), "vps/%lld", (long long)vps_id);
	snprintf(act, sizeof(act), "vps.guest_%s", event);
	if (settling) {
		counters_text(e, cnt, sizeof(cnt));
		snprintf(detail, sizeof(detail), "seen shut down by its guest%s; %s", cnt,
		         restart ? "the agent starts it again" : "left stopped");
	} else if (strcmp(action, "restarted") == 0) {
		snprintf(detail, sizeof(detail), "started again by the agent (domid %lld)",
		         (long long)domid);
		audit = !jint(e, "follows", &follows);
	} else if (strcmp(action, "stopped") == 0) {
		snprintf(detail, sizeof(detail), "left stopped");
		audit = !jint(e, "follows", &follows);
	} else {
		snprintf(detail, sizeof(detail), "the agent could not settle it: %s",
		         error ? error : "unknown error");
	}
	if (audit)
		audit_as(0, "guest", "-", act, res, detail);
	log_info("vps/%lld: %s by its guest, %s", (long long)vps_id, event, detail);
	return true;
}

int guest_events_apply(json_object *result)
{
	json_object *events = NULL, *v;
	int64_t next = 0, have_next = 0;
	bool have = false, reset = false;
	int applied = 0;

	if (!jint(result, "next", &next) || next < 0 ||
	    !json_object_object_get_ex(result, "events", &events) ||
	    !json_object_is_type(events, json_type_array)) {
		log_warn("guest events: the agent answered an unexpected object");
		return -1;
	}
	if (json_object_object_get_ex(result, "reset", &v))
		reset = json_object_get_boolean(v);
	/* Nothing new (most polls): no write. */
	if (!reset && json_object_array_length(events) == 0 &&
	    guest_events_cursor(&have_next, &have) == 0 && have && have_next == next)
		return 0;
	if (db_begin() != 0)
		return -1;
	if (guest_events_cursor(&have_next, &have) != 0)
		goto fail;
	if (reset)
		log_warn("guest events: the agent's log does not reach back to cursor %lld; "
		         "events in between are lost",
		         (long long)have_next);
	for (size_t i = 0; have && i < json_object_array_length(events); i++) {
		if (!apply_one(json_object_array_get_idx(events, i)))
			goto fail;
		applied++;
	}
	if (!store_cursor(next))
		goto fail;
	if (db_commit() != 0)
		return -1;
	return applied;
fail:
	db_rollback();
	return -1;
}

int guest_events_tick(void)
{
	json_object *req = agent_request("vps.events", NULL), *res = NULL;
	int64_t next = 0;
	bool have = false;
	agent_err e;
	int rc;

	if (guest_events_cursor(&next, &have) != 0) {
		json_object_put(req);
		return -1;
	}
	json_object_object_add(req, "since", json_object_new_int64(next));
	rc = panel_agent_call(req, 0, &res, &e);
	json_object_put(req);
	if (rc != 0) {
		/* Logged once per absence: the agent restarting is not news every second. */
		if (!agent_was_away)
			log_warn("guest events: %s", e.msg);
		agent_was_away = true;
		return -1;
	}
	agent_was_away = false;
	rc = guest_events_apply(res);
	json_object_put(res);
	return rc < 0 ? -1 : 0;
}

static void events_tick(void)
{
	guest_events_tick();
	db_release();
}

int guest_events_start(void)
{
	if (ticker_start(&events_ticker, GUEST_EVENTS_INTERVAL_S) != 0)
		return -1;
	log_info("guest events: the agent is asked every %d s", GUEST_EVENTS_INTERVAL_S);
	return 0;
}

void guest_events_stop(void)
{
	ticker_stop(&events_ticker);
}
