/* sim_internal.h — shared between the sim driver's files: sim.c (operations, state files,
 * configs) and sim_proc.c (the simguest processes: spawn, identify, stop, reap). Not a public
 * interface. */
#ifndef XVPS_SIM_INTERNAL_H
#define XVPS_SIM_INTERNAL_H

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

typedef struct sim_priv {
	pthread_mutex_t lock; /* guards next-domid and the children table */
	char guest_path[256];
	pid_t *children; /* simguests spawned (and not yet reaped) by this process */
	size_t n_children;
	size_t cap_children;
	simnet_ctx net; /* veth pairs and namespaces (simnet.c); disabled by default */
} sim_priv;

typedef struct sim_dom {
	bool running;
	int domid;
	int vcpus;
	int64_t memory_mib;
	int cpu_weight;
	int cap;
	pid_t pid;
	uint64_t started_mono; /* CLOCK_MONOTONIC ns at the last start */
	int64_t started_at;    /* unix seconds at the last start */
	uint64_t cpu_ns_acc;   /* CPU ns of earlier runs */
	bool resume;           /* parked at agent exit: start again at agent start */
} sim_dom;

static inline sim_priv *P(hv_driver *d)
{
	return d->priv;
}

static inline bool state_path(hv_driver *d, const char *name, const char *ext, char *out,
                              size_t len)
{
	return sfmt(out, len, "%s/sim/%s%s", d->state_dir, name, ext);
}

/* sim_proc.c. All of them signal or reap only a simguest this driver spawned for that name. */
bool sim_guest_is(pid_t pid, const char *name);
bool sim_guest_alive(hv_driver *d, pid_t pid, const char *name);
int sim_stop_guest(hv_driver *d, pid_t pid, const char *name, int sig, int grace_ms);
int sim_spawn_guest(hv_driver *d, const char *name, int domid, pid_t *pid_out, char *err);

#endif
