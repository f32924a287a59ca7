/* desired.h — the desired power state of every VPS, kept by the agent, and the start of the
 * running ones after a host boot (issue 16 item 6; desired.c). The agent persists the last spec
 * it applied for each domain (desired.json in its state directory, 0600) and whether the panel
 * wants it running: vps.ensure (the spec's "power"), vps.reinstall and power start/reboot
 * (running), power shutdown/poweroff and a guest's own poweroff or crash left stopped (stopped),
 * vps.remove (forgotten). At start the agent creates again every domain that should run and does
 * not (a host reboot: Xen forgets all domains), in order of VPS id, at most `parallel` at once;
 * a VPS that was stopped stays stopped. Nothing of it depends on Debian's xendomains.
 *
 * Return convention: 0 or a negative errno with a sentence in err (DESIRED_ERRLEN bytes). */
#ifndef XVPS_DESIRED_H
#define XVPS_DESIRED_H

#include <json-c/json.h>
#include <stdbool.h>
#include <stddef.h>

#define DESIRED_ERRLEN        512
#define DESIRED_FILE          "desired.json"
#define BOOT_PARALLEL_DEFAULT 2  /* XVPS_BOOT_PARALLEL */
#define BOOT_PARALLEL_MAX     16 /* 0 turns the start at boot off */

struct vps_ctx;
typedef struct desired_ctx desired_ctx;

/* Reads <state_dir>/desired.json (absent: empty; a file that does not parse is refused) and
 * sets vps->desired. 0 or -errno. */
int desired_open(struct vps_ctx *vps, const char *state_dir, desired_ctx **out, char *err);
/* Clears vps->desired and frees the context (after the boot start ended). NULL is a no-op. */
void desired_close(desired_ctx *d);

/* Remembers spec (a validated VPS_SPEC object; copied) as name's last applied spec; running:
 * 1 or 0, or -1 to keep what was known (the spec's "power" when nothing was). Persisted at once.
 * No-ops when d is NULL (tests without a state directory). */
void desired_put(desired_ctx *d, const char *name, json_object *spec, int running);
/* Marks a known domain running or stopped (nothing for an unknown one). */
void desired_set_running(desired_ctx *d, const char *name, bool running);
/* Forgets name (vps.remove). */
void desired_forget(desired_ctx *d, const char *name);
/* 1 running, 0 stopped, -1 unknown. */
int desired_get(desired_ctx *d, const char *name);

/* Applies the firewall (nf_apply: the domain's table, and the hooks of its devices that exist)
 * of every domain with a kept spec, at agent start, so that running domains keep passing the
 * guard after an upgrade of the rules' layout or a flush of the ruleset. Returns the number
 * applied; *failed counts the others (logged). */
size_t desired_firewall_apply(desired_ctx *d, size_t *failed);

/* What one boot start did. */
typedef struct desired_boot_result {
	size_t started;   /* created again */
	size_t failed;    /* should run, the start failed (logged, and a "boot" event) */
	size_t running;   /* should run and already did: untouched */
	size_t stopped;   /* desired stopped: untouched */
	int max_parallel; /* the most starts seen at once */
} desired_boot_result;

/* Per-domain lock around each start (the agent's; NULL: none). */
typedef void *(*desired_lock_fn)(void *ctx, const char *name);
typedef void (*desired_unlock_fn)(void *ctx, void *handle);

/* Starts, under lock(ctx, name), every domain whose desired state is running and that the
 * hypervisor does not run (absent or stopped), in order of VPS id (xvps-N by N), with at most
 * parallel (1..BOOT_PARALLEL_MAX) starts at once, each through vps_power "start" with its last
 * spec. Each start is logged and recorded as a power event {"event":"boot","action":
 * "started"|"failed"} (power.h) for the panel. Blocks until all are done. 0, or -EINVAL for a
 * bad parallel. */
int desired_boot_start(desired_ctx *d, int parallel, desired_lock_fn lock, desired_unlock_fn unlock,
                       void *lock_ctx, desired_boot_result *out);

/* XVPS_BOOT_PARALLEL's value (NULL or empty: the default): 0..BOOT_PARALLEL_MAX into *out. */
bool desired_parse_parallel(const char *s, int *out);

#endif
