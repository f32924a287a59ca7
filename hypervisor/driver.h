/* driver.h — the hypervisor driver interface (after Ganeti's hv_base): one vtable, filled by
 * `sim` (dev/test, hypervisor/sim.c) and `xl` (Xen, hypervisor/xl.c). Drivers are called only
 * by xvps-agent, only with validated values, and report errors as values (never exit).
 *
 * Return convention: 0 or a negative errno, with a sentence in err (HV_ERRLEN bytes). */
#ifndef XVPS_HV_DRIVER_H
#define XVPS_HV_DRIVER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "../common/runner.h"

typedef enum hv_state {
	HV_ABSENT = 0, /* no such domain */
	HV_RUNNING,    /* running, blocked or paused: the domain exists */
	HV_STOPPED,    /* sim only: known but not running (Xen forgets stopped domains) */
	/* The guest powered off, rebooted or crashed by itself and the domain is preserved
	 * (xl.cfg on_poweroff/on_reboot/on_crash = "preserve", hypervisor/xlcfg.c): it holds its
	 * final CPU time and its vifs until destroyed. Nothing restarts it but the agent
	 * (provisioning/power.c). */
	HV_SHUTDOWN,
} hv_state;

/* Why a preserved domain shut down (xl list's state column, "---s?-": libxl_shutdown_reason). */
typedef enum hv_shutdown_reason {
	HV_SHUTDOWN_NONE = 0,
	HV_SHUTDOWN_POWEROFF, /* "---s--": halt / poweroff from inside */
	HV_SHUTDOWN_REBOOT,   /* "---sr-": reboot from inside */
	HV_SHUTDOWN_CRASH,    /* "---sc-" (crash) or "---sw-" (watchdog) */
	HV_SHUTDOWN_OTHER,    /* suspend, soft reset: not something the agent acts on */
} hv_shutdown_reason;

/* "poweroff", "reboot", "crash", "other" or "none". */
const char *hv_shutdown_reason_name(hv_shutdown_reason r);

typedef struct hv_domain_info {
	hv_state state;
	int domid;           /* -1 when not running */
	int vcpus;           /* online vcpus (xl: avail_vcpus), 1..max_vcpus */
	uint64_t memory_mib; /* the memory target (xl: target_memkb; sim: its model) */
	/* What the domain was created with as its ceilings (xl.cfg maxvcpus, maxmem): vcpu-set and
	 * mem-set can reach them while it runs (issue 16 item 1), never beyond. */
	int max_vcpus;
	uint64_t max_memory_mib;
	uint64_t cpu_ns;             /* total CPU time consumed since the domain was created */
	int cpu_weight;              /* 1..65535 as read back from the scheduler, 0 when unknown */
	int cpu_cap_pct;             /* 0 = no cap */
	hv_shutdown_reason shutdown; /* with HV_SHUTDOWN, else HV_SHUTDOWN_NONE */
} hv_domain_info;

/* The end of a domain's run, reported by the drivers to the agent so that no CPU time is lost
 * (provisioning/cpubase.c): every time a driver destroys a domain that exists (destroy, the end
 * of shutdown and reboot, a preserved domain, park), it calls ending(ctx, name) first, reads the
 * domain's final CPU time (ns since its creation), destroys it, then calls ended(ctx, name,
 * final_cpu_ns, destroyed) exactly once, destroyed false when the destroy failed (the domain
 * runs on, nothing must be folded). The pair brackets the destroy, so a reader that holds the
 * same lock never sees the run's CPU time both gone and not yet folded. Both may be NULL. */
typedef struct hv_run_hooks {
	void (*ending)(void *ctx, const char *name);
	void (*ended)(void *ctx, const char *name, uint64_t final_cpu_ns, bool destroyed);
	void *ctx;
} hv_run_hooks;

/* Error reporting: drivers fill a caller-provided buffer with one English sentence. */
#define HV_ERRLEN 512

struct hv_driver;

typedef struct hv_ops {
	const char *name; /* "sim" | "xl" */
	/* Name of the running scheduler: "credit2" | "credit" | "sim". */
	int (*scheduler)(struct hv_driver *d, char *out, size_t outlen, char *err);
	/* Creates and starts the domain from its xl.cfg file (cfg_path). The domain must not exist.
	 */
	int (*create)(struct hv_driver *d, const char *name, const char *cfg_path, char *err);
	/* Clean shutdown: asks the guest, waits up to timeout_s, then destroys. */
	int (*shutdown)(struct hv_driver *d, const char *name, int timeout_s, char *err);
	/* Reboot: asks the guest to reboot. On success the domain either runs again under a new
	 * domid (sim) or is gone (xl: the guest's reboot left it preserved, or it ignored the
	 * request, and the driver destroyed it, its run folded); the caller then creates it
	 * again from its config (vps.c does). */
	int (*reboot)(struct hv_driver *d, const char *name, char *err);
	/* Immediate power-off (xl destroy). Destroying an absent domain is success. */
	int (*destroy)(struct hv_driver *d, const char *name, char *err);
	/* State of one domain; info->state = HV_ABSENT when unknown. */
	int (*info)(struct hv_driver *d, const char *name, hv_domain_info *info, char *err);
	/* Names of all domains whose names start with prefix (heap array of heap strings). */
	int (*list)(struct hv_driver *d, const char *prefix, char ***names_out, size_t *n_out,
	            char *err);
	/* Applies credit/credit2 weight (1..65535) and cap (0..vcpus*100) to a running domain. */
	int (*set_sched)(struct hv_driver *d, const char *name, int weight, int cap_pct, char *err);
	/* Live resize of a running domain (issue 16 item 1): the memory target in MiB (xl mem-set)
	 * and the number of online vcpus (xl vcpu-set), each at most the domain's max_memory_mib /
	 * max_vcpus (-ERANGE beyond: the caller applies that at the next boot instead). -ESRCH when
	 * the domain is not running. */
	int (*set_memory)(struct hv_driver *d, const char *name, uint64_t memory_mib, char *err);
	int (*set_vcpus)(struct hv_driver *d, const char *name, int vcpus, char *err);
	/* Forget everything about the domain (sim: its state file). Absent is success. */
	int (*forget)(struct hv_driver *d, const char *name, char *err);
	/* Where the running domain's text console is, for xvps-console --source:
	 * "unix:<state>/sim/<name>.console" (sim: the simguest's console socket) or
	 * "pty:/dev/pts/N" (xl, PV/PVH: xenstore's /local/domain/<domid>/console/tty) or
	 * "vnc:127.0.0.1:PORT" (xl, HVM: qemu's VNC server). -ESRCH when the
	 * domain is not running, -ENOENT when it has no console (yet). */
	int (*console_source)(struct hv_driver *d, const char *name, char *out, size_t outlen,
	                      char *err);
	/* CPU time of many domains in one call (metering, op "cpu.times"): cpu_ns_out[i] is the
	 * CPU time in nanoseconds, summed over all vcpus, that the running domain names[i] has
	 * consumed since it was created — Xen makes a new domain on every reboot, so the value
	 * starts again at 0 after a reboot or a stop/start — its final time while it is preserved
	 * after its guest shut down (HV_SHUTDOWN), and 0 when names[i] is not running or unknown.
	 * The agent adds the ended runs (provisioning/power.c: cpu.times is cumulative).
	 * xl: libxenstat (xenstat_domain_cpu_ns), one node snapshot for all names;
	 * sim: its model, wall time of the current run × vcpus × load. A name the driver would
	 * not act on (xl: not a valid_domain_name) is -EINVAL, nothing measured. 0 or -errno
	 * (err set). */
	int (*cpu_times)(struct hv_driver *d, const char *const *names, size_t n,
	                 uint64_t *cpu_ns_out, char *err);
	/* Domains whose names start with prefix that are preserved after the guest shut down
	 * (HV_SHUTDOWN), with their reasons: heap arrays (names of heap strings) of *n_out
	 * entries. One cheap listing for the agent's power watcher (xl: one libxenstat snapshot,
	 * and `xl list` only when it shows one of them shut down or cannot tell; sim: the state
	 * files). 0 or -errno (err set). */
	int (*preserved)(struct hv_driver *d, const char *prefix, char ***names_out,
	                 hv_shutdown_reason **reasons_out, size_t *n_out, char *err);
	/* What a status needs of a domain the caller has just created from its config (issue 17
	 * item 6: under emulation every xl command costs a second): state (HV_RUNNING while the
	 * domain exists, HV_ABSENT when not; a guest that shut down since is the power watcher's),
	 * domid, the weight and cap as the scheduler reads them back, CPU time; sizes left 0.
	 * Optional (NULL: info). xl: one `xl sched-credit2 -d NAME` (its ID, Weight and Cap
	 * columns) and libxenstat's CPU time (0 when libxenstat cannot be read). */
	int (*created_info)(struct hv_driver *d, const char *name, hv_domain_info *info, char *err);
	void (*dispose)(struct hv_driver *d);
} hv_ops;

typedef struct hv_driver {
	const hv_ops *ops;
	runner run;          /* the one command runner (xl driver) */
	char state_dir[256]; /* sim: where domain state lives */
	void *priv;
	hv_run_hooks hooks; /* set by the agent after opening; zero: none */
} hv_driver;

/* The drivers' side of hv_run_hooks (hypervisor/hv_common.c): no-ops when unset. */
void hv_run_ending(hv_driver *d, const char *name);
void hv_run_ended(hv_driver *d, const char *name, uint64_t final_cpu_ns, bool destroyed);

/* Constructors. Return 0 or -errno and fill *d. */
int hv_sim_open(hv_driver *d, const char *state_dir, char *err);
int hv_xl_open(hv_driver *d, runner run, char *err);

/* xl: the libxenstat calls the driver makes, as a table so that tests can inject a fake (the
 * real table wraps xenstat_init, xenstat_get_node(h, XENSTAT_VCPU), ...). Pointers are the
 * library's opaque xenstat_handle / xenstat_node / xenstat_domain. init returns NULL on
 * failure with errno set; get_node NULL on failure (the driver then closes the handle and
 * opens a new one on the next call). */
typedef struct hv_xenstat_ops {
	void *(*init)(void);
	void (*uninit)(void *handle);
	void *(*get_node)(void *handle);
	void (*free_node)(void *node);
	unsigned (*num_domains)(void *node);
	void *(*domain_by_index)(void *node, unsigned index);
	const char *(*domain_name)(void *domain); /* NULL when xenstore had none */
	unsigned long long (*domain_cpu_ns)(void *domain);
	/* Nonzero when the domain is shut down, crashed included (xenstat_domain_shutdown, which
	 * leaves a crash out, or xenstat_domain_crashed). Optional: NULL makes the
	 * preserved-domain watcher list with `xl list` every time. */
	unsigned (*domain_shutdown)(void *domain);
	/* The domain's id (xenstat_domain_id). Optional, with sched_get. */
	unsigned (*domain_id)(void *domain);
	/* Weight and cap (percent of one CPU, 0 = none) of domain domid under credit2 (credit2
	 * true) or credit, through libxenctrl (xc_sched_credit2_domain_get / _credit_): 0 or
	 * -errno. Optional: NULL makes the read-back after a create run `xl sched-credit2 -d`. */
	int (*sched_get)(unsigned domid, int credit2, int *weight, int *cap);
} hv_xenstat_ops;

/* xl: replaces the libxenstat table (NULL: the real one) and closes an open handle; the next
 * cpu_times opens one through the new table. ops must outlive the driver. 0 or -EINVAL (not
 * an xl driver). */
int hv_xl_set_xenstat(hv_driver *d, const hv_xenstat_ops *ops);

/* xl: how long reboot waits for the guest's reboot to leave the domain preserved ("---sr-";
 * default 120000 ms; tests shorten it). Preserved, or still running at the end (the guest
 * ignored the request), the domain is destroyed and the caller starts it again; gone or back
 * under a new domid (an older config with on_reboot "restart") is success too.
 * 0 or -EINVAL (not an xl driver, ms < 0). */
int hv_xl_set_reboot_wait(hv_driver *d, int ms);

/* sim: the xvps-simguest program each running domain executes (absolute path, at most 255
 * bytes). Default: "xvps-simguest" next to the running program (/proc/self/exe). */
int hv_sim_set_guest_path(hv_driver *d, const char *path);

/* sim: real networking (docs/architecture.md §6, hypervisor/simnet.h). Enabled, each vif of a
 * created domain becomes a veth pair: host end <vifname> on its bridge, guest end eth<i> in the
 * network namespace <netns_prefix><domain> with the vif's MAC and addresses; stop and destroy
 * delete both, a reboot re-creates them. Commands go through d->run when set, else runner_real().
 * netns_prefix: [a-z0-9-]{0,16} (NULL = ""). Disabled by default. Returns 0 or -EINVAL. */
int hv_sim_set_net(hv_driver *d, bool enabled, const char *netns_prefix);

/* sim, at agent exit: stops every running guest (SIGTERM, then SIGKILL after 5 s) and marks
 * it to be resumed, so a stopped agent leaves no processes (like xendomains' save).
 * hv_sim_resume_all, at agent start: starts the marked domains again, each with a new domid.
 * Both return 0 or the first -errno (and keep going with the other domains). */
int hv_sim_park_all(hv_driver *d, char *err);
int hv_sim_resume_all(hv_driver *d, char *err);

#endif
