/* vps.h — the agent's declarative operations over the hypervisor and storage drivers:
 * ensure (converge disk, config, power, scheduler), remove, power actions, reinstall, status
 * and the reconciler. Callers serialize operations per domain name (agent.c does); these
 * functions never validate less than spec.c did and never delete an unknown disk.
 *
 * Return convention: 0 or a negative errno, with *err filled (code, field, sentence). */
#ifndef XVPS_VPS_H
#define XVPS_VPS_H

#include <json-c/json.h>
#include <stddef.h>

#include "../hypervisor/driver.h"
#include "net.h"
#include "spec.h"
#include "storage.h"

typedef struct vps_ctx {
	hv_driver *hv;
	st_driver *st;
	char config_dir[256];   /* where <name>.cfg files live */
	char bridge[16];        /* vif bridge, XVPS_BRIDGE */
	int shutdown_timeout_s; /* clean shutdown before destroy; default 60 */
	net_ctx *net;           /* firewall, shaping, counters; NULL = networking not managed */
	char state_dir[256];    /* seeds in <state_dir>/seed (seed.h); "" = no seed disk */
	/* The domain config names the seed's loop device, bound by the agent (seed_loop.h), not
	 * the file: Xen's block script then takes its short phy path. Set for xl; false = the file
	 * path (sim, tests). */
	bool seed_block;
	/* With seed_block: the seed disk's hotplug script (xvps-block-seed, XVPS_SEED_SCRIPT);
	 * "" = Xen's block script. */
	char seed_script[256];
	/* The vif's hotplug script (xvps-vif, XVPS_VIF_SCRIPT); "" = Xen's vif-bridge. */
	char vif_script[256];
	/* Guest power events and cumulative CPU time (power.h); NULL = none (tests). */
	struct power_ctx *power;
	/* The desired power state kept for host boots (desired.h); NULL = none (tests). */
	struct desired_ctx *desired;
} vps_ctx;

/* An error as the agent answers it (common/agent_proto.h): code is one of "invalid",
 * "not_found", "conflict", "host", "busy"; field names the spec field or is empty. */
typedef struct vps_err {
	const char *code;
	char field[32];
	char msg[600];
} vps_err;

/* Fills *err (when not NULL): code from rc (-ENOENT/-ESRCH not_found, -EINVAL/-ERANGE invalid,
 * -EEXIST conflict, -EBUSY/-EAGAIN busy, else host), field (NULL = none) and the message. */
void vps_set_err(vps_err *err, int rc, const char *field, const char *fmt, ...)
        __attribute__((format(printf, 4, 5)));

/* Fills ctx and creates config_dir (0700). Returns 0 or -errno with err->msg set. */
int vps_ctx_init(vps_ctx *ctx, hv_driver *hv, st_driver *st, const char *config_dir,
                 const char *bridge, vps_err *err);

/* Enables the per-VPS seed disk (provisioning/seed.h): seeds live in <state_dir>/seed and
 * every xl.cfg gets the read-only xvdb. state_dir: absolute, at most 255 bytes. Returns 0 or
 * -EINVAL with err filled. Without this call the agent writes no seeds. */
int vps_ctx_set_state_dir(vps_ctx *ctx, const char *state_dir, vps_err *err);

/* Converges the host to spec, in order: disk (from spec->template_name, grown to disk_gib),
 * the seed (when enabled; rewritten only when its content changes), xl.cfg (rewritten only
 * when its content changes), power (create / clean shutdown), then
 * the scheduler (weight, cap) when running. Idempotent. When a first creation (no disk before
 * the call) fails, everything this call made is removed again. On success *status_out gets a
 * VPS_STATUS object (see vps_status). Returns 0 or -errno with *err filled. */
int vps_ensure(vps_ctx *ctx, const vps_spec *spec, json_object **status_out, vps_err *err);

/* Destroys the domain, forgets it, removes its config, its seed and its disk. Each step tolerates
 * absence, so removing an absent VPS is success. Returns 0 or -errno. */
int vps_remove(vps_ctx *ctx, const char *name, vps_err *err);

/* action: "start" (= ensure with power running; spec required), "shutdown" (clean, then
 * destroy after shutdown_timeout_s), "reboot" (new domid; starts a stopped domain; spec
 * required), "poweroff" (destroy). *status_out as vps_status. Returns 0 or -errno. */
int vps_power(vps_ctx *ctx, const char *name, const char *action, const vps_spec *spec,
              json_object **status_out, vps_err *err);

/* Destroys the domain, replaces its disk with a fresh copy of spec->template_name and
 * ensures it running. Fails with not_found/"template" before touching anything when the
 * template is missing. Returns 0 or -errno. */
int vps_reinstall(vps_ctx *ctx, const vps_spec *spec, json_object **status_out, vps_err *err);

/* VPS_STATUS {"name","state":"running|stopped|absent","domid":int|null,"cpu_weight",
 * "cpu_cap_pct","disk_bytes","config_path":str|null,"cpu_ns",
 * "net":{"enabled":bool,"rate_mbit":int}}. "stopped" when the domain is
 * not running but a disk or config exists. Returns 0 or -errno. */
int vps_status(vps_ctx *ctx, const char *name, json_object **status_out, vps_err *err);

/* Imports a template (storage driver). *result_out: {"name","size_bytes"}. */
int vps_template_ensure(vps_ctx *ctx, const char *tpl, uint64_t size_gib, const char *source,
                        json_object **result_out, vps_err *err);
int vps_template_remove(vps_ctx *ctx, const char *tpl, vps_err *err);

/* Reconciles the host with the desired state: every domain, config and disk named "xvps-*"
 * that is not in known[0..n_known) is destroyed and forgotten (domain), removed (config, seed)
 * or quarantined (disk, renamed, never deleted). templates[] is accepted for the protocol; the
 * drivers cannot list templates yet, so none is touched. *orphans_out gets a JSON array of
 * {"kind":"domain|config|seed|disk","name","action":"destroyed|removed|quarantined"} (and
 * "error" when an action failed). Returns 0 or -errno when a listing failed. */
int vps_reconcile(vps_ctx *ctx, const char *const *known, size_t n_known,
                  const char *const *templates, size_t n_templates, json_object **orphans_out,
                  vps_err *err);

/* ---- vps_net.c: the host network around the domain (no-ops when ctx->net is NULL) ---- */

/* Firewall chains of spec (nf_apply); called before the domain starts. 0 or -errno. */
int vps_net_before_start(vps_ctx *ctx, const vps_spec *spec, vps_err *err);
/* Before a domain is created: its shaping's ifb device (shape_prepare). 0 or -errno. */
int vps_net_prepare_start(vps_ctx *ctx, const vps_spec *spec, vps_err *err);
/* Shaping at shape_rate_mbit(spec) (shape_apply); called once the domain runs. */
int vps_net_after_start(vps_ctx *ctx, const vps_spec *spec, vps_err *err);
/* Shapes the vif of a domain the agent created again by itself (power.c) at the rate it had
 * (vps_net_rate); nothing when unlimited. Failures are logged. */
void vps_net_after_restart(vps_ctx *ctx, const char *name);
/* Sweeps the domain's counters right before its vif goes away (failures are logged). */
void vps_net_sweep_one(vps_ctx *ctx, const char *name);
/* The same, returning the domain's totals after the sweep as netcount_sweep's per-domain object
 * ({"vifname","present","ifindex","rx_bytes","tx_bytes","rx_packets","tx_packets"}; a new
 * reference), or NULL when networking is off or the sweep failed (logged). */
json_object *vps_net_sweep_final(vps_ctx *ctx, const char *name);
/* The rate (Mbit/s) the domain's vif is shaped to while it runs; 0 = unlimited or unknown. */
int vps_net_rate(vps_ctx *ctx, const char *name);
/* Drops the ifb/qdiscs of a stopped domain (failures are logged). */
void vps_net_after_stop(vps_ctx *ctx, const char *name);
/* Removes shaping, chains and counters of a domain. Absent is success. */
int vps_net_remove(vps_ctx *ctx, const char *name, vps_err *err);
/* vps.network: rewrites the seed (when enabled; the guest reads it at its next boot),
 * re-applies chains, and shaping when running; *status_out as vps_status. */
int vps_network(vps_ctx *ctx, const vps_spec *spec, json_object **status_out, vps_err *err);
/* net.counters: one sweep over names (each valid_domain_name). *out as netcount_sweep. */
int vps_net_counters(vps_ctx *ctx, const char *const *names, size_t n, json_object **out,
                     vps_err *err);
/* Reconciler part: removes chains and ifb devices of domains not in known[], appending
 * {"kind":"chain|ifb","name","action":"removed"[,"error"]} to arr. 0 or -errno. */
int vps_net_reconcile(vps_ctx *ctx, const char *const *known, size_t n_known, json_object *arr,
                      vps_err *err);

/* Appends {"kind","name","action"[,"error" when error is non-empty]} to a reconcile report. */
void vps_report_orphan(json_object *arr, const char *kind, const char *name, const char *action,
                       const char *error);

/* The config file path of a domain: <config_dir>/<name>.cfg. False when it does not fit. */
bool vps_config_path(const vps_ctx *ctx, const char *name, char *out, size_t outlen);

#endif
