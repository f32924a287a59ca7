/* sim_state.c — the sim driver's state (sim_internal.h): each domain's
 * <state_dir>/sim/<name>.json, the never-reused domids, the simulated CPU time and the few
 * xl.cfg keys the sim reads. Files are written atomically and read back without trusting their
 * shape; nothing here starts or signals a process. */
#include "driver.h"
#include "sim_internal.h"

#include <errno.h>
#include <json-c/json.h>
#include <libxlutil.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "../common/jsonutil.h"
#include "../common/util.h"
#include "../common/validate.h"
#include "xlcfg.h"

#define SIM_LOAD_DIV 20 /* load 0.05: a guest uses 1/20 of each vcpu */

#define errf(err, ...) errfmt(err, HV_ERRLEN, __VA_ARGS__)

static int64_t jint(json_object *o, const char *key, int64_t def)
{
	json_object *v;

	if (json_object_object_get_ex(o, key, &v) && json_object_is_type(v, json_type_int))
		return json_object_get_int64(v);
	return def;
}

/* Loads the state; -ENOENT when the domain is unknown. */
int sim_load_dom(hv_driver *d, const char *name, sim_dom *dom, char *err)
{
	char path[SIM_PATH_LEN];
	json_object *o, *st;
	int rc;

	memset(dom, 0, sizeof(*dom));
	dom->domid = -1;
	if (!state_path(d, name, ".json", path, sizeof(path))) {
		errf(err, "sim state path of %s is too long", name);
		return -ENAMETOOLONG;
	}
	rc = json_load_file(path, SIM_STATE_MAX, json_type_object, &o);
	if (rc == -EPROTO) {
		errf(err, "sim state of %s is corrupt", name);
		return rc;
	}
	if (rc) {
		errf(err, "cannot read %s: %s", path, strerror(-rc));
		return rc;
	}
	dom->running = json_object_object_get_ex(o, "state", &st) &&
	               strcmp(json_object_get_string(st), "running") == 0;
	dom->domid = (int)jint(o, "domid", -1);
	dom->vcpus = (int)jint(o, "vcpus", 1);
	dom->memory_mib = jint(o, "memory_mib", 0);
	dom->max_vcpus = (int)jint(o, "max_vcpus", dom->vcpus);
	dom->max_memory_mib = jint(o, "max_memory_mib", dom->memory_mib);
	if (json_object_object_get_ex(o, "cfg_path", &st))
		snprintf(dom->cfg_path, sizeof(dom->cfg_path), "%s", json_object_get_string(st));
	dom->cpu_weight = (int)jint(o, "cpu_weight", 256);
	dom->cap = (int)jint(o, "cap", 0);
	dom->pid = (pid_t)jint(o, "pid", 0);
	dom->started_mono = (uint64_t)jint(o, "started_mono", 0);
	dom->started_at = jint(o, "started_at", 0);
	dom->cpu_ns_acc = (uint64_t)jint(o, "cpu_ns_acc", 0);
	dom->resume = json_object_object_get_ex(o, "resume", &st) && json_object_get_boolean(st);
	dom->shutdown = (hv_shutdown_reason)jint(o, "shutdown", HV_SHUTDOWN_NONE);
	if (dom->shutdown > HV_SHUTDOWN_OTHER || !dom->running)
		dom->shutdown = HV_SHUTDOWN_NONE;
	dom->ended_mono = (uint64_t)jint(o, "ended_mono", 0);
	json_object_put(o);
	return 0;
}

int sim_save_dom(hv_driver *d, const char *name, const sim_dom *dom, char *err)
{
	char path[SIM_PATH_LEN];
	json_object *o = json_object_new_object();
	const char *txt;
	int rc;

	if (!state_path(d, name, ".json", path, sizeof(path))) {
		json_object_put(o);
		errf(err, "sim state path of %s is too long", name);
		return -ENAMETOOLONG;
	}
	json_object_object_add(o, "state",
	                       json_object_new_string(dom->running ? "running" : "stopped"));
	json_object_object_add(o, "domid", json_object_new_int(dom->domid));
	json_object_object_add(o, "vcpus", json_object_new_int(dom->vcpus));
	json_object_object_add(o, "memory_mib", json_object_new_int64(dom->memory_mib));
	json_object_object_add(o, "max_vcpus", json_object_new_int(dom->max_vcpus));
	json_object_object_add(o, "max_memory_mib", json_object_new_int64(dom->max_memory_mib));
	if (dom->cfg_path[0])
		json_object_object_add(o, "cfg_path", json_object_new_string(dom->cfg_path));
	json_object_object_add(o, "cpu_weight", json_object_new_int(dom->cpu_weight));
	json_object_object_add(o, "cap", json_object_new_int(dom->cap));
	json_object_object_add(o, "pid", json_object_new_int(dom->running ? (int)dom->pid : 0));
	json_object_object_add(o, "started_mono",
	                       json_object_new_int64((int64_t)dom->started_mono));
	json_object_object_add(o, "started_at", json_object_new_int64(dom->started_at));
	json_object_object_add(o, "cpu_ns_acc", json_object_new_int64((int64_t)dom->cpu_ns_acc));
	if (dom->resume)
		json_object_object_add(o, "resume", json_object_new_boolean(1));
	if (dom->running && dom->shutdown != HV_SHUTDOWN_NONE) {
		json_object_object_add(o, "shutdown", json_object_new_int((int)dom->shutdown));
		json_object_object_add(o, "ended_mono",
		                       json_object_new_int64((int64_t)dom->ended_mono));
	}
	txt = json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN);
	rc = write_file_atomic(path, txt, strlen(txt), 0600);
	json_object_put(o);
	if (rc)
		errf(err, "cannot write %s: %s", path, strerror(-rc));
	return rc;
}

uint64_t sim_cpu_now(const sim_dom *dom)
{
	uint64_t now = now_mono_ns();

	if (dom->running && dom->shutdown != HV_SHUTDOWN_NONE)
		now = dom->ended_mono; /* preserved: its CPU time stopped with its guest */
	if (!dom->running || now < dom->started_mono)
		return dom->cpu_ns_acc;
	return dom->cpu_ns_acc + (now - dom->started_mono) * (uint64_t)dom->vcpus / SIM_LOAD_DIV;
}

/* Marks the domain stopped, folding the current run's CPU time into the accumulator. */
void sim_mark_stopped(sim_dom *dom)
{
	dom->cpu_ns_acc = sim_cpu_now(dom);
	dom->running = false;
	dom->domid = -1;
	dom->pid = 0;
	dom->shutdown = HV_SHUTDOWN_NONE;
	dom->ended_mono = 0;
}

int sim_read_shutdown(hv_driver *d, const char *name, hv_shutdown_reason *reason_out,
                      uint64_t *ended_mono_out)
{
	char path[SIM_PATH_LEN], word[16], *data = NULL;
	unsigned long long at = 0;
	size_t len;
	int rc;

	if (!state_path(d, name, ".shutdown", path, sizeof(path)))
		return -ENAMETOOLONG;
	rc = read_file(path, 256, &data, &len);
	if (rc)
		return rc;
	rc = sscanf(data, "%15s %llu", word, &at) == 2 ? 0 : -EPROTO;
	free(data);
	if (rc)
		return rc;
	if (strcmp(word, "poweroff") == 0)
		*reason_out = HV_SHUTDOWN_POWEROFF;
	else if (strcmp(word, "reboot") == 0)
		*reason_out = HV_SHUTDOWN_REBOOT;
	else if (strcmp(word, "crash") == 0)
		*reason_out = HV_SHUTDOWN_CRASH;
	else
		return -EPROTO;
	*ended_mono_out = (uint64_t)at;
	return 0;
}

void sim_remove_shutdown(hv_driver *d, const char *name)
{
	char path[SIM_PATH_LEN];

	if (state_path(d, name, ".shutdown", path, sizeof(path)))
		unlink(path);
}

/* Xen never reuses a domid while the host is up: next-domid only grows (1, 2, ...). */
int sim_alloc_domid(hv_driver *d, int *domid_out, char *err)
{
	sim_priv *p = P(d);
	char path[SIM_PATH_LEN], *data = NULL, buf[32];
	size_t len;
	long long next = 1;
	int rc;

	if (!sfmt(path, sizeof(path), "%s/sim/next-domid", d->state_dir)) {
		errf(err, "state directory path %s is too long", d->state_dir);
		return -ENAMETOOLONG;
	}
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

/* Reads the few keys the sim needs from an xl.cfg with libxlutil (the parser xl uses), which
 * also proves the file is a valid config. */
int sim_read_cfg(const char *cfg_path, const char *name, sim_dom *dom, char *err)
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
	/* The ceilings live resize reaches (xl.cfg(5) maxvcpus, maxmem), as Xen takes them. */
	dom->max_vcpus = xlu_cfg_get_bounded_long(cfg, "maxvcpus", 1, 64, &v, 1) || v < dom->vcpus
	                         ? dom->vcpus
	                         : (int)v;
	dom->max_memory_mib =
	        xlu_cfg_get_bounded_long(cfg, "maxmem", 16, 1048576, &v, 1) || v < dom->memory_mib
	                ? dom->memory_mib
	                : v;
	dom->cpu_weight =
	        xlu_cfg_get_bounded_long(cfg, "cpu_weight", 1, 65535, &v, 1) ? 256 : (int)v;
	dom->cap =
	        xlu_cfg_get_bounded_long(cfg, "cap", 0, dom->max_vcpus * 100, &v, 1) ? 0 : (int)v;
	rc = 0;
out:
	xlu_cfg_destroy(cfg);
	return rc;
}
