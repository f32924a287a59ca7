/* sim.c — the `sim` hypervisor driver (dev/test, docs/architecture.md §6): each domain's state
 * lives in <state_dir>/sim/<name>.json and survives agent restarts; a running domain is an
 * xvps-simguest process (pty, boot log, login prompt). It never signals a process that is not
 * the simguest of that domain, and never reaps a child it did not spawn. This file: the
 * operations and opening; sim_state.c: state files and configs; sim_proc.c: the simguest
 * processes; sim_console.c: console sources; sim_host.c: the dev/test dom0. */
#include "driver.h"

#include <errno.h>
#include <fcntl.h>
#include <json-c/json.h>
#include <libxlutil.h>
#include <pthread.h>
#include <signal.h>
#include <spawn.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "../common/util.h"
#include "../common/validate.h"
#include "sim_internal.h"
#include "xlcfg.h"
#include "simnet.h"

extern char **environ;

#define errf(err, ...) errfmt(err, HV_ERRLEN, __VA_ARGS__)

/* ---- operations --------------------------------------------------------------------------- */

/* sim_load_dom for a name from the caller: -EINVAL with err set when the sim does not accept
 * the name, else sim_load_dom's answer (-ENOENT: the domain is unknown). */
static int load_named(hv_driver *d, const char *name, sim_dom *dom, char *err)
{
	if (!sim_name_ok(name)) {
		errf(err, "invalid domain name");
		return -EINVAL;
	}
	return sim_load_dom(d, name, dom, err);
}

static int sim_scheduler(hv_driver *d, char *out, size_t outlen, char *err)
{
	return sfmt(out, outlen, "sim") ? 0 : -ENOSPC;
}

static int sim_create(hv_driver *d, const char *name, const char *cfg_path, char *err)
{
	sim_dom dom, old;
	int rc;

	rc = load_named(d, name, &old, err);
	if (rc == -EINVAL)
		return rc;
	if (rc == 0 && old.running && sim_guest_alive(d, old.pid, name)) {
		errf(err, "Domain with name \"%s\" already exists", name);
		return -EEXIST;
	}
	if (rc && rc != -ENOENT)
		return rc;
	memset(&dom, 0, sizeof(dom));
	rc = sim_read_cfg(cfg_path, name, &dom, err);
	if (rc)
		return rc;
	snprintf(dom.cfg_path, sizeof(dom.cfg_path), "%s", cfg_path);
	if (old.running) { /* crashed or preserved earlier: fold its run, it ends here */
		uint64_t final_ns = sim_cpu_now(&old) - old.cpu_ns_acc;

		hv_run_ending(d, name);
		sim_mark_stopped(&old);
		sim_remove_shutdown(d, name);
		hv_run_ended(d, name, final_ns, true);
	}
	dom.cpu_ns_acc = old.cpu_ns_acc;
	rc = sim_alloc_domid(d, &dom.domid, err);
	if (rc)
		return rc;
	rc = simnet_create(&P(d)->net, d->state_dir, name, cfg_path, err); /* vif hotplug */
	if (rc)
		return rc;
	rc = sim_spawn_guest(d, name, dom.domid, &dom.pid, err);
	if (rc) {
		simnet_stop(&P(d)->net, d->state_dir, name, NULL);
		return rc;
	}
	dom.running = true;
	dom.started_mono = now_mono_ns();
	dom.started_at = now_unix();
	rc = sim_save_dom(d, name, &dom, err);
	if (rc) {
		sim_stop_guest(d, dom.pid, name, SIGKILL, 0);
		simnet_stop(&P(d)->net, d->state_dir, name, NULL);
	}
	return rc;
}

static void unlink_console(hv_driver *d, const char *name)
{
	char sock[SIM_PATH_LEN];

	if (state_path(d, name, ".console", sock, sizeof(sock)))
		unlink(sock);
}

/* Ends the run of a running (or preserved) domain: stops its guest with sig (then SIGKILL after
 * grace_ms), records it stopped, and reports the run's CPU time through the run-end hooks. */
static int end_run(hv_driver *d, const char *name, sim_dom *dom, int sig, int grace_ms, char *err)
{
	uint64_t final_ns = sim_cpu_now(dom) - dom->cpu_ns_acc;
	int rc;

	hv_run_ending(d, name);
	rc = sim_stop_guest(d, dom->pid, name, sig, grace_ms);
	if (rc) {
		errf(err, "simguest %d of %s does not die", (int)dom->pid, name);
		hv_run_ended(d, name, 0, false);
		return rc;
	}
	unlink_console(d, name);
	if (dom->shutdown == HV_SHUTDOWN_NONE)
		final_ns = sim_cpu_now(dom) - dom->cpu_ns_acc; /* it ran until now */
	sim_mark_stopped(dom);
	sim_remove_shutdown(d, name);
	rc = sim_save_dom(d, name, dom, err);
	hv_run_ended(d, name, final_ns, rc == 0);
	return rc;
}

/* Stops a known domain with sig (then SIGKILL after grace_ms) and records it stopped. */
static int stop_dom(hv_driver *d, const char *name, int sig, int grace_ms, char *err)
{
	sim_dom dom;
	int rc;

	rc = load_named(d, name, &dom, err);
	if (rc == -ENOENT)
		return 0;
	if (rc)
		return rc;
	if (dom.running) {
		rc = end_run(d, name, &dom, sig, grace_ms, err);
		if (rc)
			return rc;
	}
	return simnet_stop(&P(d)->net, d->state_dir, name, err); /* leftovers too */
}

static int sim_shutdown(hv_driver *d, const char *name, int timeout_s, char *err)
{
	if (timeout_s <= 0)
		timeout_s = 60;
	return stop_dom(d, name, SIGTERM, timeout_s * 1000, err);
}

static int sim_destroy(hv_driver *d, const char *name, char *err)
{
	return stop_dom(d, name, SIGKILL, 0, err);
}

static int sim_reboot(hv_driver *d, const char *name, char *err)
{
	sim_dom dom;
	int rc;

	rc = load_named(d, name, &dom, err);
	if (rc == -ENOENT || (rc == 0 && (!dom.running || !sim_guest_alive(d, dom.pid, name)))) {
		errf(err, "domain %s is not running", name);
		return -ESRCH;
	}
	if (rc)
		return rc;
	/* Record the stop first: a failure below leaves an honest "stopped" domain. */
	rc = end_run(d, name, &dom, SIGTERM, 5000, err);
	if (rc)
		return rc;
	sim_reboot_sizes(&dom, name);
	rc = sim_alloc_domid(d, &dom.domid, err);
	if (rc)
		return rc;
	/* The old run's vifs go, new ones come (new ifindex, like Xen). */
	rc = simnet_start(&P(d)->net, d->state_dir, name, err);
	if (rc == 0)
		rc = sim_spawn_guest(d, name, dom.domid, &dom.pid, err);
	if (rc) {
		simnet_stop(&P(d)->net, d->state_dir, name, NULL);
		dom.domid = -1;
		return rc;
	}
	dom.running = true;
	dom.started_mono = now_mono_ns();
	dom.started_at = now_unix();
	return sim_save_dom(d, name, &dom, err);
}

static int sim_info(hv_driver *d, const char *name, hv_domain_info *info, char *err)
{
	sim_dom dom;
	int rc;

	memset(info, 0, sizeof(*info));
	info->state = HV_ABSENT;
	info->domid = -1;
	rc = load_named(d, name, &dom, err);
	if (rc == -ENOENT)
		return 0;
	if (rc)
		return rc;
	if (dom.running && dom.shutdown == HV_SHUTDOWN_NONE && !sim_guest_alive(d, dom.pid, name)) {
		hv_shutdown_reason why;
		uint64_t ended;

		unlink_console(d, name);
		if (sim_read_shutdown(d, name, &why, &ended) == 0) {
			/* The guest shut down by itself: preserved, as Xen with on_* "preserve"
			 * keeps the domain (and its vifs) until the agent destroys it. */
			dom.shutdown = why;
			dom.ended_mono = ended < dom.started_mono ? dom.started_mono : ended;
			if (dom.ended_mono > now_mono_ns())
				dom.ended_mono = now_mono_ns();
			sim_save_dom(d, name, &dom, NULL);
		} else {
			/* The guest died behind our back (killed, host reboot): stopped. */
			end_run(d, name, &dom, SIGKILL, 0, NULL);
			simnet_stop(&P(d)->net, d->state_dir, name, NULL);
		}
	}
	info->state = !dom.running                       ? HV_STOPPED
	              : dom.shutdown != HV_SHUTDOWN_NONE ? HV_SHUTDOWN
	                                                 : HV_RUNNING;
	info->shutdown = dom.running ? dom.shutdown : HV_SHUTDOWN_NONE;
	info->domid = dom.running ? dom.domid : -1;
	info->vcpus = dom.vcpus;
	info->memory_mib = (uint64_t)dom.memory_mib;
	info->max_vcpus = dom.max_vcpus;
	info->max_memory_mib = (uint64_t)dom.max_memory_mib;
	info->cpu_ns = sim_cpu_now(&dom);
	info->cpu_weight = dom.cpu_weight;
	info->cpu_cap_pct = dom.cap;
	return 0;
}

/* CPU time of the current run only (driver.h): like Xen, whose domain is new after every
 * reboot, the value starts again at 0; earlier runs (cpu_ns_acc) are not counted. A preserved
 * domain (its guest shut down by itself) reads its final CPU time, frozen at the guest's end,
 * until it is destroyed. Read-only: a guest found dead without a shutdown record reads 0 and is
 * recorded stopped by the next info(). */
static int sim_cpu_times(hv_driver *d, const char *const *names, size_t n, uint64_t *cpu_ns_out,
                         char *err)
{
	for (size_t i = 0; i < n; i++) {
		if (!sim_name_ok(names[i])) {
			errf(err, "invalid domain name");
			return -EINVAL;
		}
	}
	for (size_t i = 0; i < n; i++) {
		sim_dom dom;
		int rc = sim_load_dom(d, names[i], &dom, err);

		cpu_ns_out[i] = 0;
		if (rc == -ENOENT)
			continue;
		if (rc)
			return rc;
		if (dom.running && dom.shutdown == HV_SHUTDOWN_NONE &&
		    !sim_guest_alive(d, dom.pid, names[i])) {
			hv_shutdown_reason why;
			uint64_t ended;

			if (sim_read_shutdown(d, names[i], &why, &ended) != 0)
				continue;   /* dead: read as 0 */
			dom.shutdown = why; /* not saved: info() records it under the name lock */
			dom.ended_mono = ended < dom.started_mono ? dom.started_mono : ended;
		}
		if (dom.running)
			cpu_ns_out[i] = sim_cpu_now(&dom) - dom.cpu_ns_acc;
	}
	return 0;
}

static int sim_list(hv_driver *d, const char *prefix, char ***names_out, size_t *n_out, char *err);

/* Preserved domains (driver.h): recorded ones, and running ones whose guest is gone and left a
 * shutdown record (info() records them). Read-only. */
static int sim_preserved(hv_driver *d, const char *prefix, char ***names_out,
                         hv_shutdown_reason **reasons_out, size_t *n_out, char *err)
{
	char **names = NULL;
	size_t n = 0, k = 0;
	hv_shutdown_reason *reasons;
	int rc;

	*names_out = NULL;
	*reasons_out = NULL;
	*n_out = 0;
	rc = sim_list(d, prefix, &names, &n, err);
	if (rc)
		return rc;
	reasons = calloc(n + 1, sizeof(*reasons));
	if (!reasons) {
		for (size_t i = 0; i < n; i++)
			free(names[i]);
		free(names);
		errf(err, "out of memory");
		return -ENOMEM;
	}
	for (size_t i = 0; i < n; i++) {
		hv_shutdown_reason why = HV_SHUTDOWN_NONE;
		uint64_t ended;
		sim_dom dom;

		if (sim_load_dom(d, names[i], &dom, NULL) == 0 && dom.running) {
			if (dom.shutdown != HV_SHUTDOWN_NONE)
				why = dom.shutdown;
			else if (!sim_guest_alive(d, dom.pid, names[i]) &&
			         sim_read_shutdown(d, names[i], &why, &ended) != 0)
				why = HV_SHUTDOWN_NONE;
		}
		if (why == HV_SHUTDOWN_NONE) {
			free(names[i]);
			continue;
		}
		names[k] = names[i];
		reasons[k++] = why;
	}
	*names_out = names;
	*reasons_out = reasons;
	*n_out = k;
	return 0;
}

static int sim_list(hv_driver *d, const char *prefix, char ***names_out, size_t *n_out, char *err)
{
	char dir[SIM_PATH_LEN];
	int rc;

	*names_out = NULL;
	*n_out = 0;
	if (!sfmt(dir, sizeof(dir), "%s/sim", d->state_dir))
		return sim_path_too_long(err, d->state_dir);
	rc = list_dir_names(dir, prefix, ".json", names_out, n_out);
	if (rc && rc != -ENOMEM)
		errf(err, "cannot list %s: %s", dir, strerror(-rc));
	return rc;
}

static int sim_set_sched(hv_driver *d, const char *name, int weight, int cap_pct, char *err)
{
	sim_dom dom;
	int rc;

	rc = load_named(d, name, &dom, err);
	if (rc == -ENOENT) {
		errf(err, "domain %s does not exist", name);
		return -ESRCH;
	}
	if (rc)
		return rc;
	if (weight < 1 || weight > 65535) {
		errf(err, "cpu weight %d out of range 1..65535", weight);
		return -ERANGE;
	}
	/* Xen's credit schedulers bound the cap by the domain's vcpus, offline ones included. */
	if (cap_pct < 0 || cap_pct > dom.max_vcpus * 100) {
		errf(err, "cpu cap %d out of range 0..%d", cap_pct, dom.max_vcpus * 100);
		return -ERANGE;
	}
	dom.cpu_weight = weight;
	dom.cap = cap_pct;
	return sim_save_dom(d, name, &dom, err);
}

static int sim_forget(hv_driver *d, const char *name, char *err)
{
	char path[SIM_PATH_LEN];
	int rc;

	rc = stop_dom(d, name, SIGKILL, 0, err);
	if (rc == 0)
		rc = simnet_forget(&P(d)->net, d->state_dir, name, err);
	if (rc)
		return rc;
	unlink_console(d, name);
	if (!state_path(d, name, ".json", path, sizeof(path)))
		return sim_path_too_long(err, name);
	if (unlink(path) != 0 && errno != ENOENT) {
		rc = -errno;
		errf(err, "cannot remove %s: %s", path, strerror(-rc));
		return rc;
	}
	return 0;
}

/* Reaps the children that already exited; running guests stay (they outlive the agent). */
static void sim_dispose(hv_driver *d)
{
	sim_priv *p = P(d);

	if (!p)
		return;
	for (size_t i = 0; i < p->n_children; i++)
		waitpid(p->children[i], NULL, WNOHANG);
	pthread_mutex_destroy(&p->lock);
	free(p->children);
	free(p);
	d->priv = NULL;
}

static void free_list(char **names, size_t n)
{
	for (size_t i = 0; i < n; i++)
		free(names[i]);
	free(names);
}

/* Calls fn for every domain whose state loads; returns the listing's error or fn's first. */
static int for_each_dom(hv_driver *d,
                        int (*fn)(hv_driver *d, const char *name, sim_dom *dom, char *err),
                        char *err)
{
	char **names = NULL;
	size_t n = 0;
	int rc, first = 0;

	rc = sim_list(d, "", &names, &n, err);
	if (rc)
		return rc;
	for (size_t i = 0; i < n; i++) {
		sim_dom dom;

		if (sim_load_dom(d, names[i], &dom, err) != 0)
			continue;
		rc = fn(d, names[i], &dom, err);
		first = first ? first : rc;
	}
	free_list(names, n);
	return first;
}

/* A running domain is stopped and marked to resume at the next agent start. */
static int park_one(hv_driver *d, const char *name, sim_dom *dom, char *err)
{
	int rc;

	if (!dom->running)
		return 0;
	/* A preserved domain keeps no process but its vifs: its run ends here (folded) and only
	 * one the guest rebooted comes back at the next start (the panel learns nothing of this
	 * event: the agent is stopping). */
	bool resume = dom->shutdown == HV_SHUTDOWN_NONE || dom->shutdown == HV_SHUTDOWN_REBOOT;
	rc = end_run(d, name, dom, SIGTERM, 5000, err);
	if (rc)
		return rc;
	dom->resume = resume;
	rc = sim_save_dom(d, name, dom, err);
	if (rc == 0)
		rc = simnet_stop(&P(d)->net, d->state_dir, name, err);
	return rc;
}

/* A parked domain starts again with a new domid; on failure it stays stopped (no retry). */
static int resume_one(hv_driver *d, const char *name, sim_dom *dom, char *err)
{
	int rc;

	if (dom->running || !dom->resume)
		return 0;
	dom->resume = false;
	rc = sim_alloc_domid(d, &dom->domid, err);
	if (rc == 0)
		rc = simnet_start(&P(d)->net, d->state_dir, name, err);
	if (rc == 0)
		rc = sim_spawn_guest(d, name, dom->domid, &dom->pid, err);
	if (rc) {
		simnet_stop(&P(d)->net, d->state_dir, name, NULL);
		dom->domid = -1;
		sim_save_dom(d, name, dom, NULL);
		return rc;
	}
	dom->running = true;
	dom->started_mono = now_mono_ns();
	dom->started_at = now_unix();
	return sim_save_dom(d, name, dom, err);
}

int hv_sim_park_all(hv_driver *d, char *err)
{
	return for_each_dom(d, park_one, err);
}

int hv_sim_resume_all(hv_driver *d, char *err)
{
	return for_each_dom(d, resume_one, err);
}

int sim_console_source(hv_driver *d, const char *name, char *out, size_t outlen, char *err);

static const hv_ops sim_ops = {
        .name = "sim",
        .scheduler = sim_scheduler,
        .create = sim_create,
        .shutdown = sim_shutdown,
        .reboot = sim_reboot,
        .destroy = sim_destroy,
        .info = sim_info,
        .list = sim_list,
        .set_sched = sim_set_sched,
        .set_memory = sim_set_memory, /* sim_resize.c */
        .set_vcpus = sim_set_vcpus,
        .forget = sim_forget,
        .console_source = sim_console_source, /* sim_console.c */
        .cpu_times = sim_cpu_times,
        .preserved = sim_preserved,
        .dispose = sim_dispose,
};

int hv_sim_set_guest_path(hv_driver *d, const char *path)
{
	sim_priv *p = P(d);

	if (!p || !path || path[0] != '/' ||
	    !sfmt(p->guest_path, sizeof(p->guest_path), "%s", path))
		return -EINVAL;
	return 0;
}

int hv_sim_set_net(hv_driver *d, bool enabled, const char *netns_prefix)
{
	sim_priv *p = P(d);

	if (!p)
		return -EINVAL;
	return simnet_configure(&p->net, enabled, netns_prefix,
	                        d->run.run ? d->run : runner_real());
}

int hv_sim_open(hv_driver *d, const char *state_dir, char *err)
{
	char path[SIM_PATH_LEN], exe[SIM_GUEST_PATH_LEN];
	sim_priv *p;
	ssize_t n;
	int rc;

	memset(d, 0, sizeof(*d));
	if (!state_dir || state_dir[0] != '/' ||
	    !sfmt(d->state_dir, sizeof(d->state_dir), "%s", state_dir)) {
		errf(err, "sim state dir must be an absolute path of at most 255 bytes");
		return -EINVAL;
	}
	if (!sfmt(path, sizeof(path), "%s/sim", state_dir))
		return sim_path_too_long(err, state_dir);
	rc = mkdir_p(path, 0700);
	if (rc) {
		errf(err, "cannot create %s: %s", path, strerror(-rc));
		return rc;
	}
	p = calloc(1, sizeof(*p));
	if (!p) {
		errf(err, "out of memory");
		return -ENOMEM;
	}
	pthread_mutex_init(&p->lock, NULL);
	simnet_init(&p->net);
	n = readlink("/proc/self/exe", exe, sizeof(exe) - 1);
	if (n > 0) {
		exe[n] = '\0';
		char *slash = strrchr(exe, '/');
		if (slash)
			*slash = '\0';
		if (!sfmt(p->guest_path, sizeof(p->guest_path), "%s/xvps-simguest", exe))
			p->guest_path[0] = '\0';
	}
	d->priv = p;
	d->ops = &sim_ops;
	return 0;
}
