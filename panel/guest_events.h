/* guest_events.h — what xvpsd learns of guests that power off, reboot or crash by themselves
 * (guest_events.c; docs/architecture.md §9): a thread polls the agent's "vps.events" every
 * GUEST_EVENTS_INTERVAL_S, writes each VPS's new power state (a guest's own poweroff leaves the
 * VPS stopped: nothing restarts it) and audits it as the actor "guest". Never changes the host.
 * Return convention: int functions return 0 on success, -1 on error (logged). */
#ifndef XVPS_PANEL_GUEST_EVENTS_H
#define XVPS_PANEL_GUEST_EVENTS_H

#include <json-c/json.h>
#include <stdbool.h>
#include <stdint.h>

/* The agent's watcher sees a shutdown within 2 s and records it before the slow destroy and
 * create; polled every second, the panel learns it within ~3 s (goal 10 s). A poll with nothing
 * new writes nothing. */
#define GUEST_EVENTS_INTERVAL_S 1
#define GUEST_EVENTS_CURSOR     "power_events"

int guest_events_start(void); /* first poll at once */
void guest_events_stop(void); /* wakes and joins the thread */
/* One poll now: asks the agent for the events after the stored cursor and applies them. */
int guest_events_tick(void);
/* Applies one "vps.events" result ({"next","reset","events"}) in one transaction: per event the
 * VPS row named by its domain (unless being made or deleted, or a job of it is queued, running
 * or finished after the event) gets the state (and domid) the agent left — a "settling" event
 * of a domain the agent starts again leaves it running — an audit row
 * vps.guest_poweroff|vps.guest_reboot|vps.guest_crash by "guest" per shutdown (at its "settling"
 * event; its outcome is audited again only when it failed), and the cursor becomes "next". With no
 * cursor stored yet (a new xvpsd) the events are history: only the cursor is stored. Returns how
 * many events were applied, or -1. */
int guest_events_apply(json_object *result);
/* The stored cursor: 0 and *have false when none. -1 on a database error. */
int guest_events_cursor(int64_t *next_out, bool *have_out);

#endif
