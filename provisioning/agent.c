/* agent.c — the socket server of xvps-agent: admits only root and the panel's uid
 * (SO_PEERCRED), reads framed JSON requests (common/agent_proto.h), re-validates them and runs
 * them through vps.c, one domain at a time per name. It never answers a rejected peer and
 * never lets a malformed request reach a driver. */
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
#include "console.h"

#define NAME_LOCKS          128
#define RECONCILE_MAX_NAMES 1000000

/* One entry of the per-name lock table: operations on one domain (or template) name run one
 * at a time; different names run in parallel. */
typedef struct name_lock {
	char name[64];
	int refs;
	pthread_mutex_t m;
} name_lock;

struct agent {
	agent_config cfg;
	vps_ctx *vps;
	int lfd;
	int wake[2];
	pthread_t accept_thread;

	pthread_mutex_t lock; /* conns, n_active, stopping, name table */
	pthread_cond_t cond;
	int *conns; /* fds of live connections (-1 = free slot) */
	int n_active;
	bool stopping;
	name_lock names[NAME_LOCKS];

	/* Reconcile looks at every domain: it runs alone (write), all else shares (read). */
	pthread_rwlock_t reconcile_lock;
};

/* ---- responses ------------------------------------------------------------------------- */

static json_object *reply_ok(json_object *result)
{
	json_object *o = json_object_new_object();

	json_object_object_add(o, "ok", json_object_new_boolean(1));
	json_object_object_add(o, "result", result ? result : json_object_new_object());
	return o;
}

static json_object *reply_err(const char *code, const char *field, const char *msg)
{
	json_object *o = json_object_new_object();

	json_object_object_add(o, "ok", json_object_new_boolean(0));
	json_object_object_add(o, "error", json_object_new_string(msg));
	json_object_object_add(o, "field", json_str_or_null(field && *field ? field : NULL));
	json_object_object_add(o, "code", json_object_new_string(code));
	return o;
}

static json_object *reply_field(const json_field_error *fe, const char *prefix)
{
	char msg[512];

	snprintf(msg, sizeof(msg), "%s%s %s", prefix, fe->field ? fe->field : "request",
	         fe->detail ? fe->detail : "is not valid");
	return reply_err("invalid", fe->field, msg);
}

static json_object *reply_vps(int rc, json_object *result, const vps_err *e)
{
	if (rc)
		return reply_err(e->code ? e->code : "host", e->field, e->msg);
	return reply_ok(result);
}

/* ---- per-name locks -------------------------------------------------------------------- */

static name_lock *name_acquire(agent *a, const char *name)
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

static void name_release(agent *a, name_lock *slot)
{
	pthread_mutex_unlock(&slot->m);
	pthread_mutex_lock(&a->lock);
	if (--slot->refs == 0)
		pthread_cond_broadcast(&a->cond);
	pthread_mutex_unlock(&a->lock);
}

/* ---- operations ------------------------------------------------------------------------- */

static json_object *op_host_info(agent *a)
{
	char sched[64] = "", err[HV_ERRLEN] = "";
	json_object *r;

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
		*reply = reply_field(&fe, "");
		return false;
	}
	if (!valid_domain_name(*out, &why)) {
		fe.field = key;
		fe.detail = why;
		*reply = reply_field(&fe, "");
		return false;
	}
	return true;
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
		*reply = reply_err("invalid", "spec", "spec is required");
		return false;
	}
	if (spec_parse(js, spec, &fe) != 0) {
		*reply = reply_field(&fe, "spec: ");
		return false;
	}
	*have = true;
	return true;
}

enum spec_op { SPEC_ENSURE, SPEC_REINSTALL, SPEC_NETWORK };

/* vps.ensure, vps.reinstall, vps.network: {"spec"} */
static json_object *op_spec(agent *a, json_object *req, enum spec_op what)
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
		return reply_field(&fe, "");
	if (!get_spec(req, true, &spec, &have, &reply))
		return reply;
	name_lock *l = name_acquire(a, spec.name);
	rc = what == SPEC_REINSTALL ? vps_reinstall(a->vps, &spec, &status, &e)
	     : what == SPEC_NETWORK ? vps_network(a->vps, &spec, &status, &e)
	                            : vps_ensure(a->vps, &spec, &status, &e);
	name_release(a, l);
	if (rc)
		log_warn("%s %s: %s", op_names[what], spec.name, e.msg);
	else
		log_info("%s %s: ok", op_names[what], spec.name);
	spec_dispose(&spec);
	return reply_vps(rc, status, &e);
}

/* vps.remove, vps.status: {"name"} */
static json_object *op_name(agent *a, json_object *req, bool remove)
{
	static const char *const fields[] = {"op", "name", NULL};
	json_field_error fe = {0};
	json_object *reply = NULL, *status = NULL;
	const char *name;
	vps_err e = {0};
	int rc;

	if (!json_only_fields(req, fields, &fe))
		return reply_field(&fe, "");
	if (!get_domain_name(req, "name", &name, &reply))
		return reply;
	name_lock *l = name_acquire(a, name);
	if (remove) {
		rc = vps_remove(a->vps, name, &e);
		if (rc == 0) {
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
	name_release(a, l);
	return reply_vps(rc, status, &e);
}

static json_object *op_power(agent *a, json_object *req)
{
	static const char *const fields[] = {"op", "name", "action", "spec", NULL};
	static const char *const actions[] = {"start", "shutdown", "reboot", "poweroff", NULL};
	json_field_error fe = {0};
	json_object *reply = NULL, *status = NULL;
	const char *name, *action;
	vps_spec spec;
	vps_err e = {0};
	bool have = false, known = false;
	int rc;

	memset(&spec, 0, sizeof(spec));
	if (!json_only_fields(req, fields, &fe))
		return reply_field(&fe, "");
	if (!get_domain_name(req, "name", &name, &reply))
		return reply;
	if (!json_get_str(req, "action", true, &action, &fe))
		return reply_field(&fe, "");
	for (int i = 0; actions[i]; i++)
		known = known || strcmp(action, actions[i]) == 0;
	if (!known)
		return reply_err("invalid", "action",
		                 "action must be start, shutdown, reboot or poweroff");
	if (!get_spec(req, strcmp(action, "start") == 0 || strcmp(action, "reboot") == 0, &spec,
	              &have, &reply))
		return reply;
	name_lock *l = name_acquire(a, name);
	rc = vps_power(a->vps, name, action, have ? &spec : NULL, &status, &e);
	name_release(a, l);
	if (rc)
		log_warn("vps.power %s %s: %s", name, action, e.msg);
	else
		log_info("vps.power %s %s: ok", name, action);
	spec_dispose(&spec);
	return reply_vps(rc, status, &e);
}

static json_object *op_template(agent *a, json_object *req, bool remove)
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
		return reply_field(&fe, "");
	if (!valid_template_name(name, &why))
		return reply_err("invalid", "name", why ? why : "name is not a template name");
	if (!remove && (!json_get_int(req, "disk_gib", false, 1, 16384, &disk_gib, &fe) ||
	                !json_get_str(req, "source", false, &source, &fe)))
		return reply_field(&fe, "");
	if (!remove && !source && disk_gib == 0)
		return reply_err("invalid", "disk_gib", "disk_gib is required without a source");
	name_lock *l = name_acquire(a, name);
	if (remove) {
		rc = vps_template_remove(a->vps, name, &e);
		if (rc == 0) {
			result = json_object_new_object();
			json_object_object_add(result, "removed", json_object_new_boolean(1));
		}
	} else {
		rc = vps_template_ensure(a->vps, name, (uint64_t)disk_gib, source, &result, &e);
	}
	name_release(a, l);
	if (rc)
		log_warn("template.%s %s: %s", remove ? "remove" : "ensure", name, e.msg);
	else
		log_info("template.%s %s: ok", remove ? "remove" : "ensure", name);
	return reply_vps(rc, result, &e);
}

/* Collects a validated name list ("known" / "templates") as borrowed pointers. */
static bool get_names(json_object *req, const char *key, bool (*check)(const char *, const char **),
                      size_t max, const char ***out, size_t *n_out, json_object **reply)
{
	json_field_error fe = {0};
	json_object *arr = NULL;
	size_t n;

	*out = NULL;
	*n_out = 0;
	if (!json_get_str_array(req, key, false, max, &arr, &fe)) {
		*reply = reply_field(&fe, "");
		return false;
	}
	n = arr ? json_object_array_length(arr) : 0;
	*out = calloc(n + 1, sizeof(**out));
	if (!*out) {
		*reply = reply_err("host", NULL, "out of memory");
		return false;
	}
	for (size_t i = 0; i < n; i++) {
		const char *s = json_object_get_string(json_object_array_get_idx(arr, i));
		const char *why = NULL;
		if (!s || !check(s, &why)) {
			char msg[256];
			snprintf(msg, sizeof(msg), "%s holds an invalid name: %s", key,
			         why ? why : "not a string");
			*reply = reply_err("invalid", key, msg);
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
		return reply_field(&fe, "");
	if (!json_object_object_get_ex(req, "known", NULL))
		return reply_err("invalid", "known", "known is required");
	if (!get_names(req, "known", valid_domain_name, RECONCILE_MAX_NAMES, &known, &n_known,
	               &reply))
		return reply;
	if (!get_names(req, "templates", valid_template_name, RECONCILE_MAX_NAMES, &tpls, &n_tpls,
	               &reply)) {
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
		return reply_vps(rc, NULL, &e);
	}
	for (size_t i = 0; i < json_object_array_length(orphans); i++)
		log_warn("reconcile: %s", json_compact(json_object_array_get_idx(orphans, i)));
	result = json_object_new_object();
	json_object_object_add(result, "orphans", orphans);
	return reply_ok(result);
}

/* net.counters: {"names":[domain,...]} -> netcount_sweep's object */
static json_object *op_counters(agent *a, json_object *req)
{
	static const char *const fields[] = {"op", "names", NULL};
	json_field_error fe = {0};
	json_object *reply = NULL, *out = NULL;
	const char **names = NULL;
	size_t n = 0;
	vps_err e = {0};
	int rc;

	if (!json_only_fields(req, fields, &fe))
		return reply_field(&fe, "");
	if (!json_object_object_get_ex(req, "names", NULL))
		return reply_err("invalid", "names", "names is required");
	if (!get_names(req, "names", valid_domain_name, RECONCILE_MAX_NAMES, &names, &n, &reply))
		return reply;
	rc = vps_net_counters(a->vps, names, n, &out, &e);
	free(names);
	if (rc)
		log_warn("net.counters: %s", e.msg);
	return reply_vps(rc, out, &e);
}

/* cpu.times: {"names":[domain,...]} (at most AGENT_CPU_TIMES_MAX_NAMES) ->
 * {"sampled_at": unix s, "cpu_ns": {"xvps-1": N, ...}}: the hypervisor driver's cpu_times, one
 * call for all names (driver.h). Read-only: no name lock. */
static json_object *op_cpu_times(agent *a, json_object *req)
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
		return reply_field(&fe, "");
	if (!json_object_object_get_ex(req, "names", NULL))
		return reply_err("invalid", "names", "names is required");
	if (!get_names(req, "names", valid_domain_name, AGENT_CPU_TIMES_MAX_NAMES, &names, &n,
	               &reply))
		return reply;
	if (!hv->ops->cpu_times) {
		free(names);
		return reply_err("host", NULL, "this hypervisor driver cannot report CPU time");
	}
	ns = calloc(n + 1, sizeof(*ns));
	if (!ns) {
		free(names);
		return reply_err("host", NULL, "out of memory");
	}
	rc = hv->ops->cpu_times(hv, names, n, ns, err);
	if (rc) {
		log_warn("cpu.times: %s", err);
		reply = reply_err("host", NULL, err[0] ? err : "cannot read CPU times");
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

/* console.open: {"name"} -> {"socket","pid"} of the domain's console server (console.h). */
static json_object *op_console_open(agent *a, json_object *req)
{
	static const char *const fields[] = {"op", "name", NULL};
	json_field_error fe = {0};
	json_object *reply = NULL, *result;
	const char *name;
	char sock[128];
	pid_t pid = 0;
	vps_err e = {0};
	int rc;

	if (!json_only_fields(req, fields, &fe))
		return reply_field(&fe, "");
	if (!get_domain_name(req, "name", &name, &reply))
		return reply;
	name_lock *l = name_acquire(a, name);
	rc = console_open(a->vps->hv, name, sock, sizeof(sock), &pid, &e);
	name_release(a, l);
	if (rc) {
		log_warn("console.open %s: %s", name, e.msg);
		return reply_vps(rc, NULL, &e);
	}
	result = json_object_new_object();
	json_object_object_add(result, "socket", json_object_new_string(sock));
	json_object_object_add(result, "pid", json_object_new_int((int)pid));
	return reply_ok(result);
}

json_object *agent_handle(agent *a, json_object *req)
{
	json_field_error fe = {0};
	const char *op = NULL;
	json_object *reply;

	if (!req || !json_object_is_type(req, json_type_object))
		return reply_err("invalid", NULL, "a request must be a JSON object");
	if (!json_get_str(req, "op", true, &op, &fe))
		return reply_field(&fe, "");
	if (strcmp(op, "reconcile") == 0)
		return op_reconcile(a, req);

	pthread_rwlock_rdlock(&a->reconcile_lock);
	if (strcmp(op, "host.info") == 0) {
		static const char *const fields[] = {"op", NULL};
		reply = json_only_fields(req, fields, &fe) ? op_host_info(a) : reply_field(&fe, "");
	} else if (strcmp(op, "vps.ensure") == 0) {
		reply = op_spec(a, req, SPEC_ENSURE);
	} else if (strcmp(op, "vps.reinstall") == 0) {
		reply = op_spec(a, req, SPEC_REINSTALL);
	} else if (strcmp(op, "vps.network") == 0) {
		reply = op_spec(a, req, SPEC_NETWORK);
	} else if (strcmp(op, "net.counters") == 0) {
		reply = op_counters(a, req);
	} else if (strcmp(op, "cpu.times") == 0) {
		reply = op_cpu_times(a, req);
	} else if (strcmp(op, "vps.remove") == 0) {
		reply = op_name(a, req, true);
	} else if (strcmp(op, "vps.status") == 0) {
		reply = op_name(a, req, false);
	} else if (strcmp(op, "vps.power") == 0) {
		reply = op_power(a, req);
	} else if (strcmp(op, "template.ensure") == 0) {
		reply = op_template(a, req, false);
	} else if (strcmp(op, "template.remove") == 0) {
		reply = op_template(a, req, true);
	} else if (strcmp(op, "console.open") == 0) {
		reply = op_console_open(a, req);
	} else {
		reply = reply_err("invalid", "op", "unknown operation");
	}
	pthread_rwlock_unlock(&a->reconcile_lock);
	return reply;
}

/* ---- connections ------------------------------------------------------------------------- */

typedef struct conn_arg {
	agent *a;
	int fd;
	int slot;
} conn_arg;

static void *conn_main(void *p)
{
	conn_arg *c = p;
	agent *a = c->a;

	for (;;) {
		json_object *req = NULL, *resp;
		int rc = agent_recv(c->fd, a->cfg.recv_timeout_ms, &req);

		if (rc == -EPROTO) {
			/* The stream's framing cannot be trusted any more: answer, then close. */
			resp = reply_err("invalid", NULL, "malformed message (bad length or JSON)");
			agent_send(c->fd, resp);
			json_object_put(resp);
			log_warn("closing a connection after a malformed message");
			break;
		}
		if (rc)
			break; /* EOF, idle timeout, or stop */
		resp = agent_handle(a, req);
		json_object_put(req);
		rc = agent_send(c->fd, resp);
		json_object_put(resp);
		if (rc)
			break;
	}
	int fd = c->fd, slot = c->slot;

	free(c);
	pthread_mutex_lock(&a->lock);
	a->conns[slot] = -1;
	close(fd);
	a->n_active--;
	pthread_cond_broadcast(&a->cond);
	pthread_mutex_unlock(&a->lock); /* agent_stop may free a right after this */
	return NULL;
}

static void admit(agent *a, int fd)
{
	struct ucred cred;
	socklen_t len = sizeof(cred);
	pthread_attr_t attr;
	pthread_t t;
	conn_arg *c;
	int slot = -1;

	if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &len) != 0) {
		log_warn("rejected a connection: SO_PEERCRED failed: %s", strerror(errno));
		close(fd);
		return;
	}
	if (cred.uid != 0 && cred.uid != a->cfg.panel_uid) {
		log_warn("rejected a connection from uid %u pid %d (allowed: uid %u and root)",
		         (unsigned)cred.uid, (int)cred.pid, (unsigned)a->cfg.panel_uid);
		close(fd);
		return;
	}
	c = calloc(1, sizeof(*c));
	pthread_mutex_lock(&a->lock);
	for (int i = 0; c && i < a->cfg.max_conns; i++) {
		if (a->conns[i] < 0) {
			slot = i;
			break;
		}
	}
	if (slot < 0 || a->stopping) {
		pthread_mutex_unlock(&a->lock);
		log_warn("rejected a connection from pid %d: %s", (int)cred.pid,
		         c ? "too many connections" : "out of memory");
		free(c);
		close(fd);
		return;
	}
	a->conns[slot] = fd;
	a->n_active++;
	pthread_mutex_unlock(&a->lock);
	c->a = a;
	c->fd = fd;
	c->slot = slot;
	pthread_attr_init(&attr);
	pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
	if (pthread_create(&t, &attr, conn_main, c) != 0) {
		pthread_mutex_lock(&a->lock);
		a->conns[slot] = -1;
		a->n_active--;
		pthread_cond_broadcast(&a->cond);
		pthread_mutex_unlock(&a->lock);
		log_warn("rejected a connection: cannot start a thread");
		close(fd);
		free(c);
	}
	pthread_attr_destroy(&attr);
}

static void *accept_main(void *p)
{
	agent *a = p;

	for (;;) {
		struct pollfd pf[2] = {{.fd = a->lfd, .events = POLLIN},
		                       {.fd = a->wake[0], .events = POLLIN}};
		if (poll(pf, 2, -1) < 0) {
			if (errno == EINTR)
				continue;
			log_error("accept loop: poll: %s", strerror(errno));
			break;
		}
		if (pf[1].revents)
			break;
		if (pf[0].revents & POLLIN) {
			int fd = accept4(a->lfd, NULL, NULL, SOCK_CLOEXEC);
			if (fd < 0) {
				if (errno != EINTR && errno != EAGAIN && errno != ECONNABORTED)
					log_warn("accept: %s", strerror(errno));
				continue;
			}
			admit(a, fd);
		}
	}
	return NULL;
}

static void agent_free(agent *a)
{
	if (a->lfd >= 0)
		close(a->lfd);
	if (a->wake[0] >= 0)
		close(a->wake[0]);
	if (a->wake[1] >= 0)
		close(a->wake[1]);
	for (int i = 0; i < NAME_LOCKS; i++)
		pthread_mutex_destroy(&a->names[i].m);
	pthread_rwlock_destroy(&a->reconcile_lock);
	pthread_cond_destroy(&a->cond);
	pthread_mutex_destroy(&a->lock);
	free(a->conns);
	free(a);
}

int agent_start(const agent_config *cfg, vps_ctx *vps, agent **out, char *err, size_t errlen)
{
	struct sockaddr_un sun;
	struct stat st;
	agent *a;
	mode_t old;
	int rc;

	*out = NULL;
	a = calloc(1, sizeof(*a));
	if (!a)
		return -ENOMEM;
	a->cfg = *cfg;
	if (a->cfg.recv_timeout_ms <= 0)
		a->cfg.recv_timeout_ms = 30000;
	if (a->cfg.max_conns <= 0)
		a->cfg.max_conns = 64;
	a->vps = vps;
	a->lfd = a->wake[0] = a->wake[1] = -1;
	pthread_mutex_init(&a->lock, NULL);
	pthread_cond_init(&a->cond, NULL);
	pthread_rwlock_init(&a->reconcile_lock, NULL);
	for (int i = 0; i < NAME_LOCKS; i++)
		pthread_mutex_init(&a->names[i].m, NULL);
	a->conns = malloc((size_t)a->cfg.max_conns * sizeof(*a->conns));
	if (!a->conns) {
		agent_free(a);
		return -ENOMEM;
	}
	for (int i = 0; i < a->cfg.max_conns; i++)
		a->conns[i] = -1;

	memset(&sun, 0, sizeof(sun));
	sun.sun_family = AF_UNIX;
	if (strlen(cfg->sock_path) == 0 || strlen(cfg->sock_path) >= sizeof(sun.sun_path)) {
		snprintf(err, errlen, "socket path must be 1..107 bytes");
		agent_free(a);
		return -ENAMETOOLONG;
	}
	memcpy(sun.sun_path, cfg->sock_path, strlen(cfg->sock_path) + 1);
	if (lstat(cfg->sock_path, &st) == 0) {
		if (!S_ISSOCK(st.st_mode)) {
			snprintf(err, errlen, "%s exists and is not a socket", cfg->sock_path);
			agent_free(a);
			return -EEXIST;
		}
		unlink(cfg->sock_path); /* stale socket of an earlier run */
	}
	if (pipe2(a->wake, O_CLOEXEC) != 0) {
		rc = -errno;
		snprintf(err, errlen, "pipe: %s", strerror(-rc));
		agent_free(a);
		return rc;
	}
	a->lfd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (a->lfd < 0) {
		rc = -errno;
		snprintf(err, errlen, "socket: %s", strerror(-rc));
		agent_free(a);
		return rc;
	}
	old = umask(0117); /* the socket is born 0660: never a window with wider access */
	rc = bind(a->lfd, (struct sockaddr *)&sun, sizeof(sun));
	umask(old);
	if (rc != 0 || listen(a->lfd, 64) != 0) {
		rc = -errno;
		snprintf(err, errlen, "cannot listen on %s: %s", cfg->sock_path, strerror(-rc));
		unlink(cfg->sock_path);
		agent_free(a);
		return rc;
	}
	if (geteuid() == 0 && cfg->panel_uid != 0) {
		/* Let the panel's group reach the socket; SO_PEERCRED still decides. */
		struct passwd pw, *res = NULL;
		char buf[4096];
		if (getpwuid_r(cfg->panel_uid, &pw, buf, sizeof(buf), &res) == 0 && res &&
		    chown(cfg->sock_path, 0, pw.pw_gid) != 0)
			log_warn("cannot chown %s: %s", cfg->sock_path, strerror(errno));
	}
	rc = pthread_create(&a->accept_thread, NULL, accept_main, a);
	if (rc) {
		snprintf(err, errlen, "cannot start the accept thread: %s", strerror(rc));
		unlink(cfg->sock_path);
		agent_free(a);
		return -rc;
	}
	*out = a;
	return 0;
}

void agent_stop(agent *a)
{
	char c = 1;

	if (!a)
		return;
	pthread_mutex_lock(&a->lock);
	a->stopping = true;
	pthread_mutex_unlock(&a->lock);
	if (write(a->wake[1], &c, 1) != 1)
		log_warn("agent_stop: cannot wake the accept thread");
	pthread_join(a->accept_thread, NULL);
	close(a->lfd);
	a->lfd = -1;
	unlink(a->cfg.sock_path);

	/* Wake idle connections (their recv sees EOF); busy ones finish their request. */
	pthread_mutex_lock(&a->lock);
	for (int i = 0; i < a->cfg.max_conns; i++)
		if (a->conns[i] >= 0)
			shutdown(a->conns[i], SHUT_RD);
	while (a->n_active > 0)
		pthread_cond_wait(&a->cond, &a->lock);
	pthread_mutex_unlock(&a->lock);
	console_stop_all(); /* no request runs any more: the console servers go too */
	agent_free(a);
}
