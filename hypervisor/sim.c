/* sim.c — the `sim` hypervisor driver (dev/test, DESIGN.md §2): each domain's state lives in
 * <state_dir>/sim/<name>.json and survives agent restarts; a running domain is an
 * xvps-simguest process (pty, boot log, login prompt). It never signals a process that is not
 * the simguest of that domain, and never reaps a child it did not spawn. */
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

#define SIM_LOAD_DIV 20 /* load 0.05: a guest uses 1/20 of each vcpu */

#define errf(err, ...) errfmt(err, HV_ERRLEN, __VA_ARGS__)

/* ---- state files ------------------------------------------------------------------------ */

static int64_t jint(json_object *o, const char *key, int64_t def)
{
	json_object *v;

	if (json_object_object_get_ex(o, key, &v) && json_object_is_type(v, json_type_int))
		return json_object_get_int64(v);
	return def;
}

/* Loads the state; -ENOENT when the domain is unknown. */
static int load_dom(hv_driver *d, const char *name, sim_dom *dom, char *err)
{
	char path[512], *data = NULL;
	size_t len = 0;
	json_object *o, *st;
	int rc;

	memset(dom, 0, sizeof(*dom));
	dom->domid = -1;
	if (!state_path(d, name, ".json", path, sizeof(path)))
		return -ENAMETOOLONG;
	rc = read_file(path, 65536, &data, &len);
	if (rc)
		return rc;
	o = json_tokener_parse(data);
	free(data);
	if (!o || !json_object_is_type(o, json_type_object)) {
		json_object_put(o);
		errf(err, "sim state of %s is corrupt", name);
		return -EPROTO;
	}
	dom->running = json_object_object_get_ex(o, "state", &st) &&
	               strcmp(json_object_get_string(st), "running") == 0;
	dom->domid = (int)jint(o, "domid", -1);
	dom->vcpus = (int)jint(o, "vcpus", 1);
	dom->memory_mib = jint(o, "memory_mib", 0);
	dom->cpu_weight = (int)jint(o, "cpu_weight", 256);
	dom->cap = (int)jint(o, "cap", 0);
	dom->pid = (pid_t)jint(o, "pid", 0);
	dom->started_mono = (uint64_t)jint(o, "started_mono", 0);
	dom->started_at = jint(o, "started_at", 0);
	dom->cpu_ns_acc = (uint64_t)jint(o, "cpu_ns_acc", 0);
	dom->resume = json_object_object_get_ex(o, "resume", &st) && json_object_get_boolean(st);
	json_object_put(o);
	return 0;
}

static int save_dom(hv_driver *d, const char *name, const sim_dom *dom, char *err)
{
	char path[512];
	json_object *o = json_object_new_object();
	const char *txt;
	int rc;

	if (!state_path(d, name, ".json", path, sizeof(path))) {
		json_object_put(o);
		return -ENAMETOOLONG;
	}
	json_object_object_add(o, "state",
	                       json_object_new_string(dom->running ? "running" : "stopped"));
	json_object_object_add(o, "domid", json_object_new_int(dom->domid));
	json_object_object_add(o, "vcpus", json_object_new_int(dom->vcpus));
	json_object_object_add(o, "memory_mib", json_object_new_int64(dom->memory_mib));
	json_object_object_add(o, "cpu_weight", json_object_new_int(dom->cpu_weight));
	json_object_object_add(o, "cap", json_object_new_int(dom->cap));
	json_object_object_add(o, "pid", json_object_new_int(dom->running ? (int)dom->pid : 0));
	json_object_object_add(o, "started_mono",
	                       json_object_new_int64((int64_t)dom->started_mono));
	json_object_object_add(o, "started_at", json_object_new_int64(dom->started_at));
	json_object_object_add(o, "cpu_ns_acc", json_object_new_int64((int64_t)dom->cpu_ns_acc));
	if (dom->resume)
		json_object_object_add(o, "resume", json_object_new_boolean(1));
	txt = json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN);
	rc = write_file_atomic(path, txt, strlen(txt), 0600);
	json_object_put(o);
	if (rc)
		errf(err, "cannot write %s: %s", path, strerror(-rc));
	return rc;
}

static uint64_t cpu_now(const sim_dom *dom)
{
	uint64_t now = now_mono_ns();

	if (!dom->running || now < dom->started_mono)
		return dom->cpu_ns_acc;
	return dom->cpu_ns_acc + (now - dom->started_mono) * (uint64_t)dom->vcpus / SIM_LOAD_DIV;
}

/* Marks the domain stopped, folding the current run's CPU time into the accumulator. */
static void mark_stopped(sim_dom *dom)
{
	dom->cpu_ns_acc = cpu_now(dom);
	dom->running = false;
	dom->domid = -1;
	dom->pid = 0;
}

/* Xen never reuses a domid while the host is up: next-domid only grows (1, 2, ...). */
static int alloc_domid(hv_driver *d, int *domid_out, char *err)
{
	sim_priv *p = P(d);
	char path[512], *data = NULL, buf[32];
	size_t len;
	long long next = 1;
	int rc;

	if (!sfmt(path, sizeof(path), "%s/sim/next-domid", d->state_dir))
		return -ENAMETOOLONG;
	pthread_mutex_lock(&p->lock);
	rc = read_file(path, 64, &data, &len);
	if (rc == 0) {
		while (len && (data[len - 1] == '\n' || data[len - 1] == ' '))
			data[--len] = '\0';
		if (!parse_int_range(data, 1, 1000000, &next))
			next = 1;
		free(data);
	}
	if (next < 1 || next > 32752) /* DOMID_FIRST_RESERVED: wrap like a fresh host would */
		next = 1;
	snprintf(buf, sizeof(buf), "%lld\n", next + 1);
	rc = write_file_atomic(path, buf, strlen(buf), 0600);
	pthread_mutex_unlock(&p->lock);
	if (rc) {
		errf(err, "cannot write %s: %s", path, strerror(-rc));
		return rc;
	}
	*domid_out = (int)next;
	return 0;
}

/* ---- spawning ---------------------------------------------------------------------------- */

/* ---- config ------------------------------------------------------------------------------ */

/* Reads the few keys the sim needs from an xl.cfg with libxlutil (the parser xl uses), which
 * also proves the file is a valid config. */
static int read_cfg(const char *cfg_path, const char *name, sim_dom *dom, char *err)
{
	XLU_Config *cfg = NULL;
	const char *cname = NULL;
	long v;
	int rc = xlcfg_load(cfg_path, &cfg, err, HV_ERRLEN);

	if (rc)
		return rc;
	rc = -EINVAL;
	if (xlu_cfg_get_string(cfg, "name", &cname, 1) || strcmp(cname, name) != 0) {
		errf(err, "config %s does not name domain %s", cfg_path, name);
		goto out;
	}
	dom->vcpus = xlu_cfg_get_bounded_long(cfg, "vcpus", 1, 64, &v, 1) ? 1 : (int)v;
	if (xlu_cfg_get_bounded_long(cfg, "memory", 16, 1048576, &v, 1)) {
		errf(err, "config %s has no valid memory=", cfg_path);
		goto out;
	}
	dom->memory_mib = v;
	dom->cpu_weight =
	        xlu_cfg_get_bounded_long(cfg, "cpu_weight", 1, 65535, &v, 1) ? 256 : (int)v;
	dom->cap = xlu_cfg_get_bounded_long(cfg, "cap", 0, dom->vcpus * 100, &v, 1) ? 0 : (int)v;
	rc = 0;
out:
	xlu_cfg_destroy(cfg);
	return rc;
}

/* ---- operations --------------------------------------------------------------------------- */

static int sim_scheduler(hv_driver *d, char *out, size_t outlen, char *err)
{
	return sfmt(out, outlen, "sim") ? 0 : -ENOSPC;
}

static int sim_create(hv_driver *d, const char *name, const char *cfg_path, char *err)
{
	sim_dom dom, old;
	int rc;

	if (!sim_name_ok(name)) {
		errf(err, "invalid domain name");
		return -EINVAL;
	}
	rc = load_dom(d, name, &old, err);
	if (rc == 0 && old.running && sim_guest_alive(d, old.pid, name)) {
		errf(err, "Domain with name \"%s\" already exists", name);
		return -EEXIST;
	}
	if (rc && rc != -ENOENT)
		return rc;
	memset(&dom, 0, sizeof(dom));
	rc = read_cfg(cfg_path, name, &dom, err);
	if (rc)
		return rc;
	if (old.running) /* crashed earlier: fold its run into the accumulator */
		mark_stopped(&old);
	dom.cpu_ns_acc = old.cpu_ns_acc;
	rc = alloc_domid(d, &dom.domid, err);
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
	rc = save_dom(d, name, &dom, err);
	if (rc) {
		sim_stop_guest(d, dom.pid, name, SIGKILL, 0);
		simnet_stop(&P(d)->net, d->state_dir, name, NULL);
	}
	return rc;
}

static void unlink_console(hv_driver *d, const char *name)
{
	char sock[512];

	if (state_path(d, name, ".console", sock, sizeof(sock)))
		unlink(sock);
}

/* Stops a known domain with sig (then SIGKILL after grace_ms) and records it stopped. */
static int stop_dom(hv_driver *d, const char *name, int sig, int grace_ms, char *err)
{
	sim_dom dom;
	int rc;

	if (!sim_name_ok(name)) {
		errf(err, "invalid domain name");
		return -EINVAL;
	}
	rc = load_dom(d, name, &dom, err);
	if (rc == -ENOENT)
		return 0;
	if (rc)
		return rc;
	if (dom.running) {
		rc = sim_stop_guest(d, dom.pid, name, sig, grace_ms);
		if (rc) {
			errf(err, "simguest %d of %s does not die", (int)dom.pid, name);
			return rc;
		}
		unlink_console(d, name);
		mark_stopped(&dom);
		rc = save_dom(d, name, &dom, err);
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

	if (!sim_name_ok(name)) {
		errf(err, "invalid domain name");
		return -EINVAL;
	}
	rc = load_dom(d, name, &dom, err);
	if (rc == -ENOENT || (rc == 0 && (!dom.running || !sim_guest_alive(d, dom.pid, name)))) {
		errf(err, "domain %s is not running", name);
		return -ESRCH;
	}
	if (rc)
		return rc;
	rc = sim_stop_guest(d, dom.pid, name, SIGTERM, 5000);
	if (rc) {
		errf(err, "simguest %d of %s does not die", (int)dom.pid, name);
		return rc;
	}
	mark_stopped(&dom);
	/* Record the stop first: a failure below leaves an honest "stopped" domain. */
	rc = save_dom(d, name, &dom, err);
	if (rc)
		return rc;
	rc = alloc_domid(d, &dom.domid, err);
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
	return save_dom(d, name, &dom, err);
}

static int sim_info(hv_driver *d, const char *name, hv_domain_info *info, char *err)
{
	sim_dom dom;
	int rc;

	memset(info, 0, sizeof(*info));
	info->state = HV_ABSENT;
	info->domid = -1;
	if (!sim_name_ok(name)) {
		errf(err, "invalid domain name");
		return -EINVAL;
	}
	rc = load_dom(d, name, &dom, err);
	if (rc == -ENOENT)
		return 0;
	if (rc)
		return rc;
	if (dom.running && !sim_guest_alive(d, dom.pid, name)) {
		/* The guest died behind our back (crash, host reboot): record it stopped. */
		unlink_console(d, name);
		mark_stopped(&dom);
		save_dom(d, name, &dom, NULL);
		simnet_stop(&P(d)->net, d->state_dir, name, NULL);
	}
	info->state = dom.running ? HV_RUNNING : HV_STOPPED;
	info->domid = dom.running ? dom.domid : -1;
	info->vcpus = dom.vcpus;
	info->memory_mib = (uint64_t)dom.memory_mib;
	info->cpu_ns = cpu_now(&dom);
	info->cpu_weight = dom.cpu_weight;
	info->cpu_cap_pct = dom.cap;
	return 0;
}

/* CPU time of the current run only (driver.h): like Xen, whose domain is new after every
 * reboot, the value starts again at 0; earlier runs (cpu_ns_acc) are not counted. Read-only:
 * a guest found dead reads 0 and is recorded stopped by the next info(). */
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
		int rc = load_dom(d, names[i], &dom, err);

		cpu_ns_out[i] = 0;
		if (rc == -ENOENT)
			continue;
		if (rc)
			return rc;
		if (dom.running && sim_guest_alive(d, dom.pid, names[i]))
			cpu_ns_out[i] = cpu_now(&dom) - dom.cpu_ns_acc;
	}
	return 0;
}

static int sim_list(hv_driver *d, const char *prefix, char ***names_out, size_t *n_out, char *err)
{
	char dir[512];
	int rc;

	*names_out = NULL;
	*n_out = 0;
	if (!sfmt(dir, sizeof(dir), "%s/sim", d->state_dir))
		return -ENAMETOOLONG;
	rc = list_dir_names(dir, prefix, ".json", names_out, n_out);
	if (rc && rc != -ENOMEM)
		errf(err, "cannot list %s: %s", dir, strerror(-rc));
	return rc;
}

static int sim_set_sched(hv_driver *d, const char *name, int weight, int cap_pct, char *err)
{
	sim_dom dom;
	int rc;

	if (!sim_name_ok(name)) {
		errf(err, "invalid domain name");
		return -EINVAL;
	}
	rc = load_dom(d, name, &dom, err);
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
	if (cap_pct < 0 || cap_pct > dom.vcpus * 100) {
		errf(err, "cpu cap %d out of range 0..%d", cap_pct, dom.vcpus * 100);
		return -ERANGE;
	}
	dom.cpu_weight = weight;
	dom.cap = cap_pct;
	return save_dom(d, name, &dom, err);
}

static int sim_forget(hv_driver *d, const char *name, char *err)
{
	char path[512];
	int rc;

	rc = stop_dom(d, name, SIGKILL, 0, err);
	if (rc == 0)
		rc = simnet_forget(&P(d)->net, d->state_dir, name, err);
	if (rc)
		return rc;
	unlink_console(d, name);
	if (!state_path(d, name, ".json", path, sizeof(path)))
		return -ENAMETOOLONG;
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

int hv_sim_park_all(hv_driver *d, char *err)
{
	char **names = NULL;
	size_t n = 0;
	int rc, first = 0;

	rc = sim_list(d, "", &names, &n, err);
	if (rc)
		return rc;
	for (size_t i = 0; i < n; i++) {
		sim_dom dom;

		if (load_dom(d, names[i], &dom, err) != 0 || !dom.running)
			continue;
		rc = sim_stop_guest(d, dom.pid, names[i], SIGTERM, 5000);
		if (rc) {
			errf(err, "simguest %d of %s does not die", (int)dom.pid, names[i]);
			first = first ? first : rc;
			continue;
		}
		unlink_console(d, names[i]);
		mark_stopped(&dom);
		dom.resume = true;
		rc = save_dom(d, names[i], &dom, err);
		if (rc == 0)
			rc = simnet_stop(&P(d)->net, d->state_dir, names[i], err);
		first = first ? first : rc;
	}
	free_list(names, n);
	return first;
}

int hv_sim_resume_all(hv_driver *d, char *err)
{
	char **names = NULL;
	size_t n = 0;
	int rc, first = 0;

	rc = sim_list(d, "", &names, &n, err);
	if (rc)
		return rc;
	for (size_t i = 0; i < n; i++) {
		sim_dom dom;

		if (load_dom(d, names[i], &dom, err) != 0 || dom.running || !dom.resume)
			continue;
		dom.resume = false;
		rc = alloc_domid(d, &dom.domid, err);
		if (rc == 0)
			rc = simnet_start(&P(d)->net, d->state_dir, names[i], err);
		if (rc == 0)
			rc = sim_spawn_guest(d, names[i], dom.domid, &dom.pid, err);
		if (rc) {
			simnet_stop(&P(d)->net, d->state_dir, names[i], NULL);
			dom.domid = -1;
			save_dom(d, names[i], &dom, NULL); /* stays stopped; no retry loop */
			first = first ? first : rc;
			continue;
		}
		dom.running = true;
		dom.started_mono = now_mono_ns();
		dom.started_at = now_unix();
		rc = save_dom(d, names[i], &dom, err);
		first = first ? first : rc;
	}
	free_list(names, n);
	return first;
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
        .forget = sim_forget,
        .console_source = sim_console_source, /* sim_console.c */
        .cpu_times = sim_cpu_times,
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
	char path[512], exe[256];
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
		return -ENAMETOOLONG;
	rc = mkdir_p(path, 0700);
	if (rc) {
		errf(err, "cannot create %s: %s", path, strerror(-rc));
		return rc;
	}
	p = calloc(1, sizeof(*p));
	if (!p)
		return -ENOMEM;
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
