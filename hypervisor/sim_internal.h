/* sim_internal.h — shared between the sim driver's files: sim.c (operations), sim_state.c
 * (state files, domids, CPU time, configs), sim_proc.c (the simguest processes: spawn,
 * identify, stop, reap) and sim_console.c. Not a public interface. Return convention (as
 * driver.h): 0 or a negative errno, with one sentence in err (HV_ERRLEN bytes). */
#ifndef XVPS_SIM_INTERNAL_H
#define XVPS_SIM_INTERNAL_H

#include <errno.h>
#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#include "../common/util.h"
#include "../common/validate.h"
#include "driver.h"
#include "simnet.h"

/* A sim domain's name becomes its state files' names and xvps-simguest's --name: at most
 * SIM_NAME_MAX characters of [A-Za-z0-9._-], not starting with '.' (valid_file_name). */
#define SIM_NAME_MAX 64

static inline bool sim_name_ok(const char *name)
{
	return valid_file_name(name, SIM_NAME_MAX, NULL);
}

/* A path under <state_dir>/sim (state, console socket, next-domid). */
#define SIM_PATH_LEN 512

/* xvps-simguest's absolute path (XVPS_SIMGUEST, else next to xvps-agent). */
#define SIM_GUEST_PATH_LEN 256

/* Largest <name>.json state file read back (they hold a dozen numbers). */
#define SIM_STATE_MAX 65536

typedef struct sim_priv {
	pthread_mutex_t lock; /* guards next-domid and the children table */
	char guest_path[SIM_GUEST_PATH_LEN];
	pid_t *children; /* simguests spawned (and not yet reaped) by this process */
	size_t n_children;
	size_t cap_children;
	simnet_ctx net; /* veth pairs and namespaces (simnet.c); disabled by default */
} sim_priv;

typedef struct sim_dom {
	bool running;
	int domid;
	int vcpus;              /* online vcpus */
	int64_t memory_mib;     /* memory target */
	int max_vcpus;          /* xl.cfg maxvcpus (vcpus when absent): vcpu-set's ceiling */
	int64_t max_memory_mib; /* xl.cfg maxmem (memory when absent): mem-set's ceiling */
	int cpu_weight;
	int cap;
	char cfg_path[SIM_PATH_LEN]; /* the xl.cfg it was created from: a reboot reads its sizes */
	pid_t pid;
	uint64_t started_mono; /* CLOCK_MONOTONIC ns at the last start */
	int64_t started_at;    /* unix seconds at the last start */
	uint64_t cpu_ns_acc;   /* CPU ns of earlier runs */
	bool resume;           /* parked at agent exit: start again at agent start */
	/* Preserved after the guest shut down by itself (running stays true: the domain exists,
	 * its vifs too, its guest process is gone): why, and when its CPU time stopped. */
	hv_shutdown_reason shutdown;
	uint64_t ended_mono; /* CLOCK_MONOTONIC ns of the guest's end */
} sim_dom;

static inline sim_priv *P(hv_driver *d)
{
	return d->priv;
}

/* Sets err to "path for <what> is too long" and returns -ENAMETOOLONG. */
static inline int sim_path_too_long(char *err, const char *what)
{
	errfmt(err, HV_ERRLEN, "sim state path for %s is too long", what);
	return -ENAMETOOLONG;
}

static inline bool state_path(hv_driver *d, const char *name, const char *ext, char *out,
                              size_t len)
{
	return sfmt(out, len, "%s/sim/%s%s", d->state_dir, name, ext);
}

/* sim_state.c. */
/* Loads the state of name; -ENOENT when the domain is unknown. */
int sim_load_dom(hv_driver *d, const char *name, sim_dom *dom, char *err);
/* Writes the state of name atomically. */
int sim_save_dom(hv_driver *d, const char *name, const sim_dom *dom, char *err);
/* The domain's CPU time in ns: earlier runs plus the current one at SIM_LOAD_DIV load (up to
 * ended_mono for a preserved domain). */
uint64_t sim_cpu_now(const sim_dom *dom);
/* A guest that shuts down by itself (xvps-simguest, SIGUSR1 reboot / SIGUSR2 poweroff /
 * SIGQUIT crash) leaves <state_dir>/sim/<name>.shutdown: "<reason> <CLOCK_MONOTONIC ns>\n".
 * sim_read_shutdown: 0 with the reason and time, -ENOENT when there is none, -EPROTO. */
int sim_read_shutdown(hv_driver *d, const char *name, hv_shutdown_reason *reason_out,
                      uint64_t *ended_mono_out);
void sim_remove_shutdown(hv_driver *d, const char *name);
/* Marks the domain stopped, folding the current run's CPU time into the accumulator. */
void sim_mark_stopped(sim_dom *dom);
/* The next domid (Xen never reuses one while the host is up: 1, 2, ... up to 32752). */
int sim_alloc_domid(hv_driver *d, int *domid_out, char *err);
/* Reads name, vcpus, memory, cpu_weight and cap from an xl.cfg with libxlutil. */
int sim_read_cfg(const char *cfg_path, const char *name, sim_dom *dom, char *err);

/* sim_resize.c: hv_ops set_memory and set_vcpus (live, up to the domain's ceilings), and a
 * reboot's sizes: as Xen builds a new domain from the config at a reboot, dom's vcpus, memory
 * and ceilings are read again from its cfg_path (kept when it cannot be read). */
void sim_reboot_sizes(sim_dom *dom, const char *name);
int sim_set_memory(hv_driver *d, const char *name, uint64_t memory_mib, char *err);
int sim_set_vcpus(hv_driver *d, const char *name, int vcpus, char *err);

/* sim_proc.c. All of them signal or reap only a simguest this driver spawned for that name. */
bool sim_guest_is(pid_t pid, const char *name);
bool sim_guest_alive(hv_driver *d, pid_t pid, const char *name);
int sim_stop_guest(hv_driver *d, pid_t pid, const char *name, int sig, int grace_ms);
int sim_spawn_guest(hv_driver *d, const char *name, int domid, pid_t *pid_out, char *err);

#endif
