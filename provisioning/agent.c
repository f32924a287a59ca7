/* agent.c — xvps-agent's request dispatch: re-validates every framed JSON request
 * (common/agent_proto.h) and runs it through vps.c, one domain at a time per name; it never
 * lets a malformed request reach a driver. The socket server is agent_server.c. */
#include "agent.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "../common/agent_proto.h"
#include "../common/jsonutil.h"
#include "../common/util.h"
#include "../common/validate.h"
#include "agent_internal.h"
#include "console.h"
#include "desired.h"
#include "power.h"

#define RECONCILE_MAX_NAMES 1000000

/* ---- responses ------------------------------------------------------------------------- */

static json_object *reply_ok(json_object *result)
{
	json_object *o = json_object_new_object();

	json_object_object_add(o, "ok", json_object_new_boolean(1));
	json_object_object_add(o, "result", result ? result : json_object_new_object());
	return o;
}

json_object *agent_reply_err(const char *code, const char *field, const char *msg)
{
	json_object *o = json_object_new_object();

	json_object_object_add(o, "ok", json_object_new_boolean(0));
	json_object_object_add(o, "error", json_object_new_string(msg));
	json_object_object_add(o, "field", json_str_or_null(field && *field ? field : NULL));
	json_object_object_add(o, "code", json_object_new_string(code));
	return o;
}

json_object *agent_reply_field(const json_field_error *fe, const char *prefix)
{
	char msg[512];

	snprintf(msg, sizeof(msg), "%s%s %s", prefix, fe->field ? fe->field : "request",
	         fe->detail ? fe->detail : "is not valid");
	return agent_reply_err("invalid", fe->field, msg);
}

json_object *agent_reply_vps(int rc, json_object *result, const vps_err *e)
{
	if (rc)
		return agent_reply_err(e->code ? e->code : "host", e->field, e->msg);
	return reply_ok(result);
}

/* ---- per-name locks -------------------------------------------------------------------- */

name_lock *agent_name_acquire(agent *a, const char *name)
{
	name_lock *slot = NULL;

	pthread_mutex_lock(&a->lock);
	for (;;) {
		name_lock *free_slot = NULL;
		for (int i = 0; i < NAME_LOCKS; i++) {
			if (a->names[i].refs > 0 && strcmp(a->names[i].name, name) == 0) {
				slot = &a->names[i];
				break;
			}
			if (!free_slot && a->names[i].refs == 0)
				free_slot = &a->names[i];
		}
		if (!slot && free_slot) {
			slot = free_slot;
			snprintf(slot->name, sizeof(slot->name), "%s", name);
		}
		if (slot)
			break;
		pthread_cond_wait(&a->cond, &a->lock); /* all slots busy: wait for one */
	}
	slot->refs++;
	pthread_mutex_unlock(&a->lock);
	pthread_mutex_lock(&slot->m);
	return slot;
}

void agent_name_release(agent *a, name_lock *slot)
{
	pthread_mutex_unlock(&slot->m);
	pthread_mutex_lock(&a->lock);
	if (--slot->refs == 0)
		pthread_cond_broadcast(&a->cond);
	pthread_mutex_unlock(&a->lock);
}

void *agent_lock_domain(void *ctx, const char *name)
{
	agent *a = ctx;

	pthread_rwlock_rdlock(&a->reconcile_lock);
	return agent_name_acquire(a, name);
}

void agent_unlock_domain(void *ctx, void *handle)
{
	agent *a = ctx;

	agent_name_release(a, handle);
	pthread_rwlock_unlock(&a->reconcile_lock);
}

/* ---- operations ------------------------------------------------------------------------- */

/* Every handler below takes the request and the variant of its operation (agent_ops). */

/* host.info: {} */
static json_object *op_host_info(agent *a, json_object *req, int variant)
{
	static const char *const fields[] = {"op", NULL};
	char sched[64] = "", err[HV_ERRLEN] = "";
	json_field_error fe = {0};
	json_object *r;

	if (!json_only_fields(req, fields, &fe))
		return agent_reply_field(&fe, "");

	if (a->vps->hv->ops->scheduler(a->vps->hv, sched, sizeof(sched), err) != 0)
		snprintf(sched, sizeof(sched), "unknown");
	r = json_object_new_object();
	json_object_object_add(r, "hypervisor", json_object_new_string(a->vps->hv->ops->name));
	json_object_object_add(r, "storage", json_object_new_string(a->vps->st->ops->name));
	json_object_object_add(r, "scheduler", json_object_new_string(sched));
	json_object_object_add(r, "version", json_object_new_string(AGENT_VERSION));
	return reply_ok(r);
}

/* Reads and validates a domain name field. */
static bool get_domain_name(json_object *req, const char *key, const char **out,
                            json_object **reply)
{
	json_field_error fe = {0};
	const char *why = NULL;

	if (!json_get_str(req, key, true, out, &fe)) {
		*reply = agent_reply_field(&fe, "");
		return false;
	}
	if (!valid_domain_name(*out, &why)) {
		fe.field = key;
		fe.detail = why;
		*reply = agent_reply_field(&fe, "");
		return false;
	}
	return true;
}

/* A request of exactly {"op", "name"}: true and *name, else false and *reply. */
static bool get_name_request(json_object *req, const char **name, json_object **reply)
{
	static const char *const fields[] = {"op", "name", NULL};
	json_field_error fe = {0};

	if (!json_only_fields(req, fields, &fe)) {
		*reply = agent_reply_field(&fe, "");
		return false;
	}
	return get_domain_name(req, "name", name, reply);
}

static bool get_spec(json_object *req, bool required, vps_spec *spec, bool *have,
                     json_object **reply)
{
	json_object *js = NULL;
	json_field_error fe = {0};

	*have = false;
	if (!json_object_object_get_ex(req, "spec", &js) ||
	    json_object_is_type(js, json_type_null)) {
		if (!required)
			return true;
		*reply = agent_reply_err("invalid", "spec", "spec is required");
		return false;
	}
	if (spec_parse(js, spec, &fe) != 0) {
		*reply = agent_reply_field(&fe, "spec: ");
		return false;
	}
	*have = true;
	return true;
}

enum spec_op { SPEC_ENSURE, SPEC_REINSTALL, SPEC_NETWORK };

/* vps.ensure, vps.reinstall, vps.network: {"spec"} */
static json_object *op_spec(agent *a, json_object *req, int what)
{
	static const char *const op_names[] = {"vps.ensure", "vps.reinstall", "vps.network"};
	static const char *const fields[] = {"op", "spec", NULL};
	json_field_error fe = {0};
	json_object *reply = NULL, *status = NULL;
	vps_spec spec;
	vps_err e = {0};
	bool have;
	int rc;

	if (!json_only_fields(req, fields, &fe))
		return agent_reply_field(&fe, "");
	if (!get_spec(req, true, &spec, &have, &reply))
		return reply;
	name_lock *l = agent_name_acquire(a, spec.name);
	rc = what == SPEC_REINSTALL ? vps_reinstall(a->vps, &spec, &status, &e)
	     : what == SPEC_NETWORK ? vps_network(a->vps, &spec, &status, &e)
	                            : vps_ensure(a->vps, &spec, &status, &e);
	if (rc == 0) /* the desired state a host boot restores (desired.h) */
		desired_put(a->vps->desired, spec.name, json_object_object_get(req, "spec"),
		            what == SPEC_REINSTALL ? 1
		            : what == SPEC_NETWORK ? -1
		                                   : spec.power_running);
	agent_name_release(a, l);
	if (rc)
		log_warn("%s %s: %s", op_names[what], spec.name, e.msg);
	else
		log_info("%s %s: ok", op_names[what], spec.name);
	spec_dispose(&spec);
	return agent_reply_vps(rc, status, &e);
}

/* vps.remove, vps.status: {"name"} */
static json_object *op_name(agent *a, json_object *req, int remove)
{
	json_object *reply = NULL, *status = NULL;
	const char *name;
	vps_err e = {0};
	int rc;

	if (!get_name_request(req, &name, &reply))
		return reply;
	name_lock *l = agent_name_acquire(a, name);
	if (remove) {
		rc = vps_remove(a->vps, name, &e);
		if (rc == 0) {
			desired_forget(a->vps->desired, name);
			status = json_object_new_object();
			json_object_object_add(status, "removed", json_object_new_boolean(1));
		}
		if (rc)
			log_warn("vps.remove %s: %s", name, e.msg);
		else
			log_info("vps.remove %s: ok", name);
	} else {
		rc = vps_status(a->vps, name, &status, &e);
	}
	agent_name_release(a, l);
	return agent_reply_vps(rc, status, &e);
}

static json_object *op_power(agent *a, json_object *req, int variant)
{
	static const char *const fields[] = {"op", "name", "action", "spec", NULL};
	static const char *const actions[] = {"start", "shutdown", "reboot", "poweroff", NULL};
	json_field_error fe = {0};
	json_object *reply = NULL, *status = NULL;
	const char *name, *action;
	vps_spec spec;
	vps_err e = {0};
	bool have = false, known = false, runs;
	int rc;

	memset(&spec, 0, sizeof(spec));
	if (!json_only_fields(req, fields, &fe))
		return agent_reply_field(&fe, "");
	if (!get_domain_name(req, "name", &name, &reply))
		return reply;
	if (!json_get_str(req, "action", true, &action, &fe))
		return agent_reply_field(&fe, "");
	for (int i = 0; actions[i]; i++)
		known = known || strcmp(action, actions[i]) == 0;
	if (!known)
		return agent_reply_err("invalid", "action",
		                       "action must be start, shutdown, reboot or poweroff");
	runs = strcmp(action, "start") == 0 || strcmp(action, "reboot") == 0;
	if (!get_spec(req, runs, &spec, &have, &reply))
		return reply;
	name_lock *l = agent_name_acquire(a, name);
	rc = vps_power(a->vps, name, action, have ? &spec : NULL, &status, &e);
	if (rc == 0 && runs) /* the desired state a host boot restores (desired.h) */
		desired_put(a->vps->desired, name, json_object_object_get(req, "spec"), 1);
	else if (rc == 0)
		desired_set_running(a->vps->desired, name, false);
	agent_name_release(a, l);
	if (rc)
		log_warn("vps.power %s %s: %s", name, action, e.msg);
	else
		log_info("vps.power %s %s: ok", name, action);
	spec_dispose(&spec);
	return agent_reply_vps(rc, status, &e);
}

static json_object *op_template(agent *a, json_object *req, int remove)
{
	static const char *const ens_fields[] = {"op", "name", "disk_gib", "source", NULL};
	static const char *const rm_fields[] = {"op", "name", NULL};
	json_field_error fe = {0};
	json_object *result = NULL;
	const char *name = NULL, *source = NULL, *why = NULL;
	int64_t disk_gib = 0;
	vps_err e = {0};
	int rc;

	if (!json_only_fields(req, remove ? rm_fields : ens_fields, &fe) ||
	    !json_get_str(req, "name", true, &name, &fe))
		return agent_reply_field(&fe, "");
	if (!valid_template_name(name, &why))
		return agent_reply_err("invalid", "name",
		                       why ? why : "name is not a template name");
	if (!remove && (!json_get_int(req, "disk_gib", false, 1, 16384, &disk_gib, &fe) ||
	                !json_get_str(req, "source", false, &source, &fe)))
		return agent_reply_field(&fe, "");
	if (!remove && !source && disk_gib == 0)
		return agent_reply_err("invalid", "disk_gib",
		                       "disk_gib is required without a source");
	name_lock *l = agent_name_acquire(a, name);
	if (remove) {
		rc = vps_template_remove(a->vps, name, &e);
		if (rc == 0) {
			result = json_object_new_object();
			json_object_object_add(result, "removed", json_object_new_boolean(1));
		}
	} else {
		rc = vps_template_ensure(a->vps, name, (uint64_t)disk_gib, source, &result, &e);
	}
	agent_name_release(a, l);
	if (rc)
		log_warn("template.%s %s: %s", remove ? "remove" : "ensure", name, e.msg);
	else
		log_info("template.%s %s: ok", remove ? "remove" : "ensure", name);
	return agent_reply_vps(rc, result, &e);
}

/* Collects a validated name list ("known" / "templates") as borrowed pointers. */
static bool get_names(json_object *req, const char *key, bool required,
                      bool (*check)(const char *, const char **), size_t max, const char ***out,
                      size_t *n_out, json_object **reply)
{
	json_field_error fe = {0};
	json_object *arr = NULL;
	size_t n;

	*out = NULL;
	*n_out = 0;
	if (required && !json_object_object_get_ex(req, key, NULL)) {
		char msg[128];
		snprintf(msg, sizeof(msg), "%s is required", key);
		*reply = agent_reply_err("invalid", key, msg);
		return false;
	}
	if (!json_get_str_array(req, key, false, max, &arr, &fe)) {
		*reply = agent_reply_field(&fe, "");
		return false;
	}
	n = arr ? json_object_array_length(arr) : 0;
	*out = calloc(n + 1, sizeof(**out));
	if (!*out) {
		*reply = agent_reply_err("host", NULL, "out of memory");
		return false;
	}
	for (size_t i = 0; i < n; i++) {
		const char *s = json_object_get_string(json_object_array_get_idx(arr, i));
		const char *why = NULL;
		if (!s || !check(s, &why)) {
			char msg[256];
			snprintf(msg, sizeof(msg), "%s holds an invalid name: %s", key,
			         why ? why : "not a string");
			*reply = agent_reply_err("invalid", key, msg);
			free(*out);
			*out = NULL;
			return false;
		}
		(*out)[i] = s;
	}
	*n_out = n;
	return true;
}

static json_object *op_reconcile(agent *a, json_object *req)
{
	static const char *const fields[] = {"op", "known", "templates", NULL};
	json_field_error fe = {0};
	json_object *reply = NULL, *orphans = NULL, *result;
	const char **known = NULL, **tpls = NULL;
	size_t n_known = 0, n_tpls = 0;
	vps_err e = {0};
	int rc;

	if (!json_only_fields(req, fields, &fe))
		return agent_reply_field(&fe, "");
	if (!get_names(req, "known", true, valid_domain_name, RECONCILE_MAX_NAMES, &known, &n_known,
	               &reply))
		return reply;
	if (!get_names(req, "templates", false, valid_template_name, RECONCILE_MAX_NAMES, &tpls,
	               &n_tpls, &reply)) {
		free(known);
		return reply;
	}
	/* Alone: no ensure may be half-way through a domain the reconciler looks at. */
	pthread_rwlock_wrlock(&a->reconcile_lock);
	rc = vps_reconcile(a->vps, known, n_known, tpls, n_tpls, &orphans, &e);
	pthread_rwlock_unlock(&a->reconcile_lock);
	free(known);
	free(tpls);
	if (rc) {
		log_warn("reconcile: %s", e.msg);
		return agent_reply_vps(rc, NULL, &e);
	}
	for (size_t i = 0; i < json_object_array_length(orphans); i++)
		log_warn("reconcile: %s", json_compact(json_object_array_get_idx(orphans, i)));
	result = json_object_new_object();
	json_object_object_add(result, "orphans", orphans);
	return reply_ok(result);
}

/* net.counters: {"names":[domain,...]} -> netcount_sweep's object */
static json_object *op_counters(agent *a, json_object *req, int variant)
{
	static const char *const fields[] = {"op", "names", NULL};
	json_field_error fe = {0};
	json_object *reply = NULL, *out = NULL;
	const char **names = NULL;
	size_t n = 0;
	vps_err e = {0};
	int rc;

	if (!json_only_fields(req, fields, &fe))
		return agent_reply_field(&fe, "");
	if (!get_names(req, "names", true, valid_domain_name, RECONCILE_MAX_NAMES, &names, &n,
	               &reply))
		return reply;
	rc = vps_net_counters(a->vps, names, n, &out, &e);
	free(names);
	if (rc)
		log_warn("net.counters: %s", e.msg);
	return agent_reply_vps(rc, out, &e);
}

/* cpu.times: {"names":[domain,...]} (at most AGENT_CPU_TIMES_MAX_NAMES) ->
 * {"sampled_at": unix s, "cpu_ns": {"xvps-1": N, ...}}: N is the domain's cumulative CPU time
 * over all its runs, which never goes down (power.c: the bases of ended runs plus the driver's
 * cpu_times for the current one, one call for all names; common/agent_proto.h). Read-only: no
 * name lock. */
static json_object *op_cpu_times(agent *a, json_object *req, int variant)
{
	static const char *const fields[] = {"op", "names", NULL};
	json_field_error fe = {0};
	json_object *reply = NULL, *result, *map;
	const char **names = NULL;
	char err[HV_ERRLEN] = "";
	uint64_t *ns = NULL;
	hv_driver *hv = a->vps->hv;
	size_t n = 0;
	int rc;

	if (!json_only_fields(req, fields, &fe))
		return agent_reply_field(&fe, "");
	if (!get_names(req, "names", true, valid_domain_name, AGENT_CPU_TIMES_MAX_NAMES, &names, &n,
	               &reply))
		return reply;
	if (!hv->ops->cpu_times) {
		free(names);
		return agent_reply_err("host", NULL,
		                       "this hypervisor driver cannot report CPU time");
	}
	ns = calloc(n + 1, sizeof(*ns));
	if (!ns) {
		free(names);
		return agent_reply_err("host", NULL, "out of memory");
	}
	rc = a->vps->power ? power_cpu_times(a->vps->power, names, n, ns, err)
	                   : hv->ops->cpu_times(hv, names, n, ns, err);
	if (rc) {
		log_warn("cpu.times: %s", err);
		reply = agent_reply_err("host", NULL, err[0] ? err : "cannot read CPU times");
	} else {
		result = json_object_new_object();
		map = json_object_new_object();
		for (size_t i = 0; i < n; i++)
			json_object_object_add(map, names[i],
			                       json_object_new_int64(ns[i] > INT64_MAX
			                                                     ? INT64_MAX
			                                                     : (int64_t)ns[i]));
		json_object_object_add(result, "sampled_at", json_object_new_int64(now_unix()));
		json_object_object_add(result, "cpu_ns", map);
		reply = reply_ok(result);
	}
	free(ns);
	free(names);
	return reply;
}

/* vps.events: {"since": N} -> power_events (power.h): the guest-initiated power events the
 * agent handled. Read-only. */
static json_object *op_events(agent *a, json_object *req, int variant)
{
	static const char *const fields[] = {"op", "since", NULL};
	json_field_error fe = {0};
	int64_t since = 0;

	if (!json_only_fields(req, fields, &fe) ||
	    !json_get_int(req, "since", false, 0, INT64_MAX, &since, &fe))
		return agent_reply_field(&fe, "");
	if (!a->vps->power)
		return agent_reply_err("host", NULL, "this agent keeps no power events");
	return reply_ok(power_events(a->vps->power, (uint64_t)since));
}

/* console.open: {"name"} -> {"socket","pid"} of the domain's console server (console.h). */
static json_object *op_console_open(agent *a, json_object *req, int variant)
{
	json_object *reply = NULL, *result;
	const char *name;
	char sock[128];
	pid_t pid = 0;
	vps_err e = {0};
	int rc;

	if (!get_name_request(req, &name, &reply))
		return reply;
	name_lock *l = agent_name_acquire(a, name);
	rc = consrv_open(a->vps->hv, name, sock, sizeof(sock), &pid, &e);
	agent_name_release(a, l);
	if (rc) {
		log_warn("console.open %s: %s", name, e.msg);
		return agent_reply_vps(rc, NULL, &e);
	}
	result = json_object_new_object();
	json_object_object_add(result, "socket", json_object_new_string(sock));
	json_object_object_add(result, "pid", json_object_new_int((int)pid));
	return reply_ok(result);
}

/* The operations served under the reconcile lock's read side (reconcile takes it alone). */
static const struct {
	const char *op;
	json_object *(*fn)(agent *a, json_object *req, int variant);
	int variant;
} agent_ops[] = {
        {"host.info", op_host_info, 0},
        {"vps.ensure", op_spec, SPEC_ENSURE},
        {"vps.reinstall", op_spec, SPEC_REINSTALL},
        {"vps.network", op_spec, SPEC_NETWORK},
        {"net.counters", op_counters, 0},
        {"cpu.times", op_cpu_times, 0},
        {"vps.events", op_events, 0},
        {"vps.remove", op_name, true},
        {"vps.status", op_name, false},
        {"vps.power", op_power, 0},
        {"template.ensure", op_template, false},
        {"template.remove", op_template, true},
        {"template.fetch", agent_op_template_import, 0},
        {"template.import", agent_op_template_import, 1},
        {"console.open", op_console_open, 0},
};

json_object *agent_handle(agent *a, json_object *req)
{
	json_field_error fe = {0};
	const char *op = NULL;
	json_object *reply;

	if (!req || !json_object_is_type(req, json_type_object))
		return agent_reply_err("invalid", NULL, "a request must be a JSON object");
	if (!json_get_str(req, "op", true, &op, &fe))
		return agent_reply_field(&fe, "");
	if (strcmp(op, "reconcile") == 0)
		return op_reconcile(a, req);

	reply = NULL;
	pthread_rwlock_rdlock(&a->reconcile_lock);
	for (size_t i = 0; i < sizeof(agent_ops) / sizeof(agent_ops[0]) && !reply; i++) {
		if (strcmp(op, agent_ops[i].op) == 0)
			reply = agent_ops[i].fn(a, req, agent_ops[i].variant);
	}
	if (!reply)
		reply = agent_reply_err("invalid", "op", "unknown operation");
	pthread_rwlock_unlock(&a->reconcile_lock);
	return reply;
}
