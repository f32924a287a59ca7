/* test_guest_events.c — the panel's side of guest-initiated power events
 * (panel/guest_events.c) against a real SQLite store in a mkdtemp() directory: answers of the
 * agent's "vps.events" as it sends them are applied — the VPS's state and domid, an audit row
 * by "guest", the cursor — and a new xvpsd takes old events as history. No agent. */
#include <criterion/criterion.h>
#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../../panel/config.h"
#include "../../panel/guest_events.h"
#include "../../panel/store.h"
#include "panel_testdb.h"

/* xvpsd's main.c owns the real one; weak so that a library definition wins when linked. */
__attribute__((weak)) xvps_app *g_app;

static char tmp[64];

static void setup(void)
{
	testdb_open(tmp, sizeof(tmp), "gev");
	testdb_base_rows();
	exec_sql(
	        "INSERT INTO vps(id, hostname, customer_id, plan_id, template_id, domain, vifname, "
	        "mac, state, domid, created_at) VALUES"
	        "(1, 'a.example', 1, 1, 1, 'xvps-1', 'xvif1', '00:16:3e:00:00:01', 'running', 4, "
	        "0),"
	        "(2, 'b.example', 1, 1, 1, 'xvps-2', 'xvif2', '00:16:3e:00:00:02', 'running', 5, "
	        "0),"
	        "(3, 'c.example', 1, 1, 1, 'xvps-3', 'xvif3', '00:16:3e:00:00:03', 'deleting', 6, "
	        "0);");
}

static void teardown(void)
{
	testdb_close(tmp);
}

TestSuite(guest_events, .init = setup, .fini = teardown);

static int apply(const char *json)
{
	json_object *o = json_tokener_parse(json);
	int n;

	cr_assert_not_null(o, "%s", json);
	n = guest_events_apply(o);
	json_object_put(o);
	return n;
}

#define EV_POWEROFF_1                                                                              \
	"{\"seq\":1,\"name\":\"xvps-1\",\"event\":\"poweroff\",\"action\":\"stopped\","            \
	"\"state\":\"stopped\",\"domid\":null,\"at\":100}"
#define EV_REBOOT_2                                                                                \
	"{\"seq\":2,\"name\":\"xvps-2\",\"event\":\"reboot\",\"action\":\"restarted\","            \
	"\"state\":\"running\",\"domid\":9,\"at\":101}"

Test(guest_events, a_new_xvpsd_takes_the_agents_old_events_as_history)
{
	int64_t next = 0;
	bool have = true;

	cr_assert_eq(guest_events_cursor(&next, &have), 0);
	cr_assert_not(have);
	cr_assert_eq(apply("{\"next\":3,\"reset\":false,\"events\":[" EV_POWEROFF_1 "," EV_REBOOT_2
	                   "]}"),
	             0);
	cr_assert_eq(guest_events_cursor(&next, &have), 0);
	cr_assert(have);
	cr_assert_eq(next, 3);
	cr_assert_eq(query_int("SELECT count(*) FROM vps WHERE state='running'"), 2);
	cr_assert_eq(query_int("SELECT count(*) FROM audit"), 0);
}

Test(guest_events, a_guests_poweroff_stops_the_vps_and_its_reboot_keeps_it_running)
{
	exec_sql("INSERT INTO agent_cursors(name, next) VALUES('power_events', 1)");
	cr_assert_eq(apply("{\"next\":3,\"reset\":false,\"events\":[" EV_POWEROFF_1 "," EV_REBOOT_2
	                   "]}"),
	             2);
	cr_assert_eq(query_int("SELECT count(*) FROM vps WHERE id=1 AND state='stopped' AND domid "
	                       "IS NULL"),
	             1, "a guest's own poweroff leaves the VPS stopped");
	cr_assert_eq(query_int("SELECT domid FROM vps WHERE id=2 AND state='running'"), 9);
	cr_assert_eq(query_int("SELECT count(*) FROM audit WHERE username='guest' AND "
	                       "action='vps.guest_poweroff' AND resource='vps/1'"),
	             1);
	cr_assert_eq(query_int("SELECT count(*) FROM audit WHERE username='guest' AND "
	                       "action='vps.guest_reboot' AND resource='vps/2'"),
	             1);
	cr_assert_eq(query_int("SELECT next FROM agent_cursors WHERE name='power_events'"), 3);
	/* The same answer again (a retry): the cursor moved, nothing is applied twice. */
	cr_assert_eq(apply("{\"next\":3,\"reset\":false,\"events\":[]}"), 0);
	cr_assert_eq(query_int("SELECT count(*) FROM audit"), 2);
}

Test(guest_events, a_vps_being_deleted_keeps_its_state_and_unknown_domains_are_skipped)
{
	exec_sql("INSERT INTO agent_cursors(name, next) VALUES('power_events', 5)");
	cr_assert_eq(apply("{\"next\":8,\"reset\":false,\"events\":["
	                   "{\"seq\":5,\"name\":\"xvps-3\",\"event\":\"crash\",\"action\":"
	                   "\"stopped\",\"state\":\"stopped\",\"domid\":null,\"at\":1},"
	                   "{\"seq\":6,\"name\":\"xvps-77\",\"event\":\"crash\",\"action\":"
	                   "\"stopped\",\"state\":\"stopped\",\"domid\":null,\"at\":1},"
	                   "{\"seq\":7,\"name\":\"xvps-1\",\"event\":\"bogus\",\"action\":"
	                   "\"stopped\",\"state\":\"stopped\",\"domid\":null,\"at\":1}]}"),
	             3);
	cr_assert_eq(query_int("SELECT count(*) FROM vps WHERE id=3 AND state='deleting'"), 1);
	cr_assert_eq(query_int("SELECT count(*) FROM vps WHERE id=1 AND state='running'"), 1);
	cr_assert_eq(query_int("SELECT next FROM agent_cursors WHERE name='power_events'"), 8);
}

Test(guest_events, a_malformed_answer_changes_nothing)
{
	exec_sql("INSERT INTO agent_cursors(name, next) VALUES('power_events', 5)");
	cr_assert_eq(apply("{\"events\":[]}"), -1);
	cr_assert_eq(apply("{\"next\":-1,\"events\":[]}"), -1);
	cr_assert_eq(apply("{\"next\":9,\"events\":{}}"), -1);
	cr_assert_eq(query_int("SELECT next FROM agent_cursors WHERE name='power_events'"), 5);
}

/* ---- two events per shutdown: "settling" at once, the outcome after the slow part ---------- */

static int audits(const char *action, const char *resource)
{
	char sql[256];

	snprintf(sql, sizeof(sql),
	         "SELECT count(*) FROM audit WHERE username='guest' AND action='%s' AND "
	         "resource='%s'",
	         action, resource);
	return (int)query_int(sql);
}

Test(guest_events, a_poweroff_is_stopped_and_audited_at_its_settling_event_once)
{
	exec_sql("INSERT INTO agent_cursors(name, next) VALUES('power_events', 1)");
	cr_assert_eq(apply("{\"next\":2,\"reset\":false,\"events\":["
	                   "{\"seq\":1,\"name\":\"xvps-1\",\"event\":\"poweroff\",\"action\":"
	                   "\"settling\",\"state\":\"stopped\",\"domid\":null,\"at\":100,"
	                   "\"restart\":false,\"cpu_ns\":12345678901,\"rx_bytes\":1000,"
	                   "\"tx_bytes\":2000,\"rx_packets\":10,\"tx_packets\":20}]}"),
	             1);
	/* Learnt before the agent destroyed the domain: stopped and audited now. */
	cr_assert_eq(query_int("SELECT count(*) FROM vps WHERE id=1 AND state='stopped' AND domid "
	                       "IS NULL"),
	             1);
	cr_assert_eq(audits("vps.guest_poweroff", "vps/1"), 1);
	cr_assert_eq(query_int("SELECT count(*) FROM audit WHERE detail LIKE '%CPU 12.345 s, rx "
	                       "1000 B, tx 2000 B in total%left stopped'"),
	             1, "the audit does not carry the final counters");
	/* The outcome: the same state, no second audit row. */
	cr_assert_eq(apply("{\"next\":3,\"reset\":false,\"events\":["
	                   "{\"seq\":2,\"name\":\"xvps-1\",\"event\":\"poweroff\",\"action\":"
	                   "\"stopped\",\"state\":\"stopped\",\"domid\":null,\"at\":104,"
	                   "\"follows\":1}]}"),
	             1);
	cr_assert_eq(query_int("SELECT count(*) FROM vps WHERE id=1 AND state='stopped'"), 1);
	cr_assert_eq(query_int("SELECT count(*) FROM audit"), 1);
}

Test(guest_events, a_reboot_stays_running_while_the_agent_restarts_it_then_gets_its_domid)
{
	exec_sql("INSERT INTO agent_cursors(name, next) VALUES('power_events', 1)");
	cr_assert_eq(apply("{\"next\":2,\"reset\":false,\"events\":["
	                   "{\"seq\":1,\"name\":\"xvps-2\",\"event\":\"reboot\",\"action\":"
	                   "\"settling\",\"state\":\"stopped\",\"domid\":null,\"at\":100,"
	                   "\"restart\":true,\"cpu_ns\":5000000}]}"),
	             1);
	cr_assert_eq(query_int("SELECT domid FROM vps WHERE id=2 AND state='running'"), 5,
	             "a rebooting VPS is not stopped");
	cr_assert_eq(audits("vps.guest_reboot", "vps/2"), 1);
	cr_assert_eq(query_int("SELECT count(*) FROM audit WHERE detail LIKE '%CPU 0.005 s in "
	                       "total%starts it again'"),
	             1);
	cr_assert_eq(apply("{\"next\":3,\"reset\":false,\"events\":["
	                   "{\"seq\":2,\"name\":\"xvps-2\",\"event\":\"reboot\",\"action\":"
	                   "\"restarted\",\"state\":\"running\",\"domid\":11,\"at\":130,"
	                   "\"follows\":1}]}"),
	             1);
	cr_assert_eq(query_int("SELECT domid FROM vps WHERE id=2 AND state='running'"), 11);
	cr_assert_eq(audits("vps.guest_reboot", "vps/2"), 1, "one reboot, audited twice");
	/* A restart that fails is news: audited, and the state is the agent's. */
	cr_assert_eq(apply("{\"next\":5,\"reset\":false,\"events\":["
	                   "{\"seq\":3,\"name\":\"xvps-2\",\"event\":\"crash\",\"action\":"
	                   "\"settling\",\"state\":\"stopped\",\"domid\":null,\"at\":200,"
	                   "\"restart\":true},"
	                   "{\"seq\":4,\"name\":\"xvps-2\",\"event\":\"crash\",\"action\":"
	                   "\"failed\",\"state\":\"stopped\",\"domid\":null,\"at\":230,"
	                   "\"error\":\"xl create: out of memory\",\"follows\":3}]}"),
	             2);
	cr_assert_eq(query_int("SELECT count(*) FROM vps WHERE id=2 AND state='stopped'"), 1);
	cr_assert_eq(audits("vps.guest_crash", "vps/2"), 2);
	cr_assert_eq(query_int("SELECT count(*) FROM audit WHERE detail LIKE '%could not settle "
	                       "it: xl create: out of memory'"),
	             1);
}

Test(guest_events, a_job_of_the_vps_newer_than_the_event_keeps_its_outcome)
{
	exec_sql("INSERT INTO agent_cursors(name, next) VALUES('power_events', 1);"
	         /* vps 1: a start queued while the guest's poweroff was being settled */
	         "INSERT INTO jobs(kind, vps_id, state, created_at) VALUES('start', 1, 'queued', "
	         "101);"
	         /* vps 2: a stop that finished after the event */
	         "INSERT INTO jobs(kind, vps_id, state, created_at, finished_at) "
	         "VALUES('stop', 2, 'done', 90, 120);"
	         "UPDATE vps SET state='stopped', domid=NULL WHERE id=2");
	cr_assert_eq(apply("{\"next\":3,\"reset\":false,\"events\":["
	                   "{\"seq\":1,\"name\":\"xvps-1\",\"event\":\"poweroff\",\"action\":"
	                   "\"stopped\",\"state\":\"stopped\",\"domid\":null,\"at\":104,"
	                   "\"follows\":0},"
	                   "{\"seq\":2,\"name\":\"xvps-2\",\"event\":\"reboot\",\"action\":"
	                   "\"restarted\",\"state\":\"running\",\"domid\":12,\"at\":110,"
	                   "\"follows\":0}]}"),
	             2);
	cr_assert_eq(query_int("SELECT domid FROM vps WHERE id=1 AND state='running'"), 4,
	             "an event overwrote the state a queued job will write");
	cr_assert_eq(query_int("SELECT count(*) FROM vps WHERE id=2 AND state='stopped' AND domid "
	                       "IS NULL"),
	             1, "an older event overwrote a newer job's outcome");
	/* Once the job is older than an event, the event's state applies. */
	cr_assert_eq(apply("{\"next\":4,\"reset\":false,\"events\":["
	                   "{\"seq\":3,\"name\":\"xvps-2\",\"event\":\"reboot\",\"action\":"
	                   "\"restarted\",\"state\":\"running\",\"domid\":13,\"at\":150}]}"),
	             1);
	cr_assert_eq(query_int("SELECT domid FROM vps WHERE id=2 AND state='running'"), 13);
}

/* ---- the agent's start of a VPS after a host boot (issue 16 item 6) -------------------------- */

Test(guest_events, a_boot_start_gives_the_new_domid_and_a_failed_one_stops_the_vps)
{
	exec_sql("INSERT INTO agent_cursors(name, next) VALUES('power_events', 1)");
	cr_assert_eq(apply("{\"next\":3,\"reset\":false,\"events\":["
	                   "{\"seq\":1,\"name\":\"xvps-1\",\"event\":\"boot\",\"action\":"
	                   "\"started\",\"state\":\"running\",\"domid\":1,\"at\":100},"
	                   "{\"seq\":2,\"name\":\"xvps-2\",\"event\":\"boot\",\"action\":"
	                   "\"failed\",\"state\":\"stopped\",\"domid\":null,\"at\":101,"
	                   "\"error\":\"cannot start xvps-2: out of memory\"}]}"),
	             2);
	cr_assert_eq(query_int("SELECT domid FROM vps WHERE id=1 AND state='running'"), 1,
	             "the domid Xen gave it after the boot");
	cr_assert_eq(query_int("SELECT count(*) FROM vps WHERE id=2 AND state='stopped' AND domid "
	                       "IS NULL"),
	             1);
	cr_assert_eq(
	        query_int("SELECT count(*) FROM audit WHERE action='vps.boot_start' AND "
	                  "resource='vps/1' AND detail LIKE '%after the host booted (domid 1)'"),
	        1);
	cr_assert_eq(
	        query_int("SELECT count(*) FROM audit WHERE action='vps.boot_start_failed' AND "
	                  "resource='vps/2' AND detail LIKE '%out of memory'"),
	        1);
	cr_assert_eq(query_int("SELECT count(*) FROM audit WHERE username='guest'"), 0,
	             "the guest did nothing");
}
