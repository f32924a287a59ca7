/* power.h — what the agent does when a guest powers off, reboots or crashes by itself
 * (power.c; docs/architecture.md §5 "Guest power events"): every domain is preserved by Xen
 * (xl.cfg on_* "preserve"), the agent reads its final CPU time and vif counters, destroys it
 * and, for a reboot (or a crash whose plan says "restart"), creates it again; it keeps each
 * domain's CPU time across runs (cumulative, never going down) and a log of these events for
 * the panel ("vps.events"). Never restarts a domain the guest powered off.
 * Return convention: 0 or a negative errno with a sentence in err. */
#ifndef XVPS_POWER_H
#define XVPS_POWER_H

#include <json-c/json.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "../hypervisor/driver.h"

#define POWER_ERRLEN        512
#define POWER_WATCH_MS      2000 /* the watcher's period: with the panel's 1 s poll, < 10 s */
#define POWER_EVENTS_KEPT   1000 /* the newest events kept for the panel */
#define POWER_EVENTS_MAX    200  /* events in one vps.events answer */
#define POWER_CPU_FILE      "cpu_base.json"
#define POWER_EVENTS_FILE   "power_events.json"
#define POWER_ON_CRASH_FILE "on_crash.json"

struct vps_ctx;
typedef struct power_ctx power_ctx;

/* Reads <state_dir>/cpu_base.json, power_events.json and on_crash.json (absent: empty) and
 * installs the run-end hooks on vps->hv, so that every destroy folds the run's CPU time into
 * the domain's base. 0 or -errno (a file that exists but does not parse is refused). */
int power_open(struct vps_ctx *vps, const char *state_dir, power_ctx **out, char *err);
/* Removes the hooks and frees the context (after the watcher stopped and sim guests parked). */
void power_close(power_ctx *p);

/* The cumulative CPU time of each domain across all its runs (ns, all vcpus): the base folded
 * from ended runs plus the driver's value for the current run (driver.h cpu_times). It never
 * goes down while the agent's state directory lives: a run's time moves into the base in the
 * same critical section in which the domain is destroyed. 0 or -errno. */
int power_cpu_times(power_ctx *p, const char *const *names, size_t n, uint64_t *cpu_ns_out,
                    char *err);

/* Remembers what a crash of name does: restart (the default) or stop (plan on_crash "stop").
 * Persisted; written by vps_ensure from the spec. */
void power_set_on_crash(power_ctx *p, const char *name, bool restart);
/* Forgets name's base CPU time and crash setting (vps.remove). */
void power_forget(power_ctx *p, const char *name);

/* When info says the domain is preserved after its guest shut down (HV_SHUTDOWN): sweeps its
 * vif counters and records a "settling" event with the final counters at once (the panel learns
 * of it before the slow part), destroys it (its CPU time folded), creates it again for a reboot
 * or a crash to restart, records the outcome as a second event and re-reads info. A no-op for any
 * other state. The caller holds the domain's name lock. 0 or -errno (the event is recorded with
 * action "failed" then). */
int power_settle(power_ctx *p, const char *name, hv_domain_info *info, char *err);

/* Events after cursor `since` (0: all kept): {"next": cursor to pass next time, "events":
 * [{"seq","name","event":"poweroff|reboot|crash" (or "boot": power_record_boot),
 * "action":"settling|stopped|restarted|failed","state":"running|stopped","domid":int|null,
 * "at":unix s,"error"?, ...}], "reset": bool}. Each guest shutdown makes two events: "settling"
 * as soon as the watcher sees it (state "stopped", plus "restart": bool — whether the agent
 * starts it again — and the final counters "cpu_ns" (cumulative over all runs, the ended run's
 * frozen time in it) and, with networking, "rx_bytes","tx_bytes","rx_packets","tx_packets"
 * (the vif's totals)), then the outcome ("stopped|restarted|failed") with "follows": the
 * settling event's seq. Reset
 * true when since is ahead of the log (the agent's state was lost) or older than the oldest
 * kept event; the panel then reads every VPS's status. At most POWER_EVENTS_MAX events; more
 * come with the next call. */
json_object *power_events(power_ctx *p, uint64_t since);

/* Records that the agent started name after a host boot (desired.h; issue 16 item 6), or
 * failed to (error not NULL): {"event":"boot","action":"started"|"failed","state","domid",
 * "at"[,"error"]} from now. No-op when p is NULL. */
void power_record_boot(power_ctx *p, const char *name, const hv_domain_info *now,
                       const char *error);

/* The watcher: every POWER_WATCH_MS lists preserved domains (driver.h preserved) and settles
 * each under lock(ctx, name) / unlock(ctx, handle) (the agent's per-domain lock). */
typedef void *(*power_lock_fn)(void *ctx, const char *name);
typedef void (*power_unlock_fn)(void *ctx, void *handle);
int power_watch_start(power_ctx *p, power_lock_fn lock, power_unlock_fn unlock, void *ctx,
                      char *err);
void power_watch_stop(power_ctx *p);
/* One pass of the watcher (tests; the thread calls it). Returns how many domains it settled. */
int power_watch_once(power_ctx *p, power_lock_fn lock, power_unlock_fn unlock, void *ctx);

#endif
