/* power.c — guest-initiated power events and CPU time across domain runs (power.h;
 * docs/architecture.md §5). Xen preserves a domain whose guest powered off, rebooted or crashed
 * (xl.cfg on_* "preserve"); the watcher finds it within POWER_WATCH_MS, sweeps its vif counters
 * while the vif still exists, destroys it — the driver's run-end hooks fold its final CPU time
 * into the domain's persisted base under cpu_lock — and creates it again for a reboot (or a
 * crash whose plan restarts). It never restarts a domain its guest powered off, and never lets
 * cpu.times see a run's time both gone and not yet folded. */
#include "power.h"

#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "../common/jsonutil.h"
#include "../common/util.h"
#include "../common/validate.h"
#include "desired.h"
#include "vps.h"

#define POWER_PATH_LEN 320
#define POWER_FILE_MAX (8 << 20) /* the largest state file read back */
#define POWER_PREFIX   "xvps-"

struct power_ctx {
	vps_ctx *vps;
	char cpu_path[POWER_PATH_LEN], events_path[POWER_PATH_LEN], crash_path[POWER_PATH_LEN];
	/* Held from a run's end (hook "ending") until its time is folded ("ended"), and while
	 * cpu.times reads the driver and the bases. */
	pthread_mutex_t cpu_lock;
	json_object *bases;   /* {"xvps-N": ns of ended runs} */
	pthread_mutex_t lock; /* events, next_seq, on_crash */
	json_object *events;  /* [event...], oldest first */
	uint64_t next_seq;
	json_object *on_crash; /* {"xvps-N": "stop"}: names whose crash does not restart */
	pthread_t thread;
	bool thread_running;
	atomic_bool stop;
	pthread_mutex_t wait_mu;
	pthread_cond_t wait_cv;
	power_lock_fn lock_fn;
	power_unlock_fn unlock_fn;
	void *lock_ctx;
};

#define errf(err, ...) errfmt(err, POWER_ERRLEN, __VA_ARGS__)

/* ---- files ------------------------------------------------------------------------------- */

static int load_object(const char *path, json_object **out, char *err)
{
	int rc = json_load_file(path, POWER_FILE_MAX, json_type_object, out);

	if (rc == -ENOENT) {
		*out = json_object_new_object();
		return 0;
	}
	if (rc)
		errf(err, "cannot read %s: %s", path,
		     rc == -EPROTO ? "not a JSON object" : strerror(-rc));
	return rc;
}

static void save_object(const char *path, json_object *o)
{
	const char *txt = json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN);
	int rc = write_file_atomic(path, txt, strlen(txt), 0600);

	if (rc)
		log_warn("power: cannot write %s: %s", path, strerror(-rc));
}

static int64_t obj_int(json_object *o, const char *key)
{
	json_object *v;

	if (json_object_object_get_ex(o, key, &v) && json_object_is_type(v, json_type_int))
		return json_object_get_int64(v);
	return 0;
}

/* ---- CPU time across runs ---------------------------------------------------------------- */

static void hook_ending(void *ctx, const char *name)
{
	power_ctx *p = ctx;

	(void)name;
	pthread_mutex_lock(&p->cpu_lock);
}

static void hook_ended(void *ctx, const char *name, uint64_t final_cpu_ns, bool destroyed)
{
	power_ctx *p = ctx;

	if (destroyed && final_cpu_ns > 0 && valid_domain_name(name, NULL)) {
		int64_t base = obj_int(p->bases, name);

		json_object_object_add(p->bases, name,
		                       json_object_new_int64(base + (int64_t)final_cpu_ns));
		save_object(p->cpu_path, p->bases);
	}
	pthread_mutex_unlock(&p->cpu_lock);
}

int power_cpu_times(power_ctx *p, const char *const *names, size_t n, uint64_t *cpu_ns_out,
                    char *err)
{
	hv_driver *hv = p->vps->hv;
	int rc;

	if (!hv->ops->cpu_times) {
		errf(err, "this hypervisor driver cannot report CPU time");
		return -ENOTSUP;
	}
	pthread_mutex_lock(&p->cpu_lock);
	rc = hv->ops->cpu_times(hv, names, n, cpu_ns_out, err);
	for (size_t i = 0; rc == 0 && i < n; i++)
		cpu_ns_out[i] += (uint64_t)obj_int(p->bases, names[i]);
	pthread_mutex_unlock(&p->cpu_lock);
	return rc;
}

/* ---- settings ---------------------------------------------------------------------------- */

void power_set_on_crash(power_ctx *p, const char *name, bool restart)
{
	bool had;

	if (!p || !valid_domain_name(name, NULL))
		return;
	pthread_mutex_lock(&p->lock);
	had = json_object_object_get_ex(p->on_crash, name, NULL);
	if (restart && had)
		json_object_object_del(p->on_crash, name);
	else if (!restart && !had)
		json_object_object_add(p->on_crash, name, json_object_new_string("stop"));
	if (restart == had)
		save_object(p->crash_path, p->on_crash);
	pthread_mutex_unlock(&p->lock);
}

static bool crash_restarts(power_ctx *p, const char *name)
{
	bool stop;

	pthread_mutex_lock(&p->lock);
	stop = json_object_object_get_ex(p->on_crash, name, NULL);
	pthread_mutex_unlock(&p->lock);
	return !stop;
}

void power_forget(power_ctx *p, const char *name)
{
	if (!p)
		return;
	pthread_mutex_lock(&p->cpu_lock);
	if (json_object_object_get_ex(p->bases, name, NULL)) {
		json_object_object_del(p->bases, name);
		save_object(p->cpu_path, p->bases);
	}
	pthread_mutex_unlock(&p->cpu_lock);
	power_set_on_crash(p, name, true);
}

/* ---- events ------------------------------------------------------------------------------ */

static void save_events(power_ctx *p)
{
	json_object *o = json_object_new_object();

	json_object_object_add(o, "next", json_object_new_int64((int64_t)p->next_seq));
	json_object_object_add(o, "events", json_object_get(p->events));
	save_object(p->events_path, o);
	json_object_put(o);
}

/* Appends an event; extra's keys (a reference taken over, may be NULL) go into it. Returns
 * its seq. */
static uint64_t record_event(power_ctx *p, const char *name, hv_shutdown_reason why,
                             const char *action, const hv_domain_info *now, const char *error,
                             json_object *extra)
{
	json_object *e = json_object_new_object();
	bool running = now && now->state == HV_RUNNING;
	uint64_t seq;

	pthread_mutex_lock(&p->lock);
	seq = p->next_seq++;
	json_object_object_add(e, "seq", json_object_new_int64((int64_t)seq));
	json_object_object_add(e, "name", json_object_new_string(name));
	json_object_object_add(e, "event", json_object_new_string(hv_shutdown_reason_name(why)));
	json_object_object_add(e, "action", json_object_new_string(action));
	json_object_object_add(e, "state", json_object_new_string(running ? "running" : "stopped"));
	json_object_object_add(e, "domid",
	                       running && now->domid >= 0 ? json_object_new_int(now->domid) : NULL);
	json_object_object_add(e, "at", json_object_new_int64(now_unix()));
	if (error && *error)
		json_object_object_add(e, "error", json_object_new_string(error));
	if (extra) {
		json_object_object_foreach(extra, k, v)
		        json_object_object_add(e, k, json_object_get(v));
		json_object_put(extra);
	}
	json_object_array_add(p->events, e);
	while (json_object_array_length(p->events) > POWER_EVENTS_KEPT)
		json_object_array_del_idx(p->events, 0, 1);
	save_events(p);
	pthread_mutex_unlock(&p->lock);
	return seq;
}

/* What the panel learns first, before the slow destroy (and create): that the guest shut the
 * domain down, whether the agent starts it again, and its final counters — the cumulative CPU
 * time with the preserved run's frozen time in it, and the vif's totals just swept. */
static uint64_t record_seen(power_ctx *p, const char *name, hv_shutdown_reason why, bool restart,
                            json_object *counters)
{
	json_object *x = json_object_new_object(), *v;
	const char *names[1] = {name};
	char err[POWER_ERRLEN] = "";
	uint64_t cpu = 0;

	json_object_object_add(x, "restart", json_object_new_boolean(restart));
	if (power_cpu_times(p, names, 1, &cpu, err) == 0)
		json_object_object_add(
		        x, "cpu_ns",
		        json_object_new_int64(cpu > INT64_MAX ? INT64_MAX : (int64_t)cpu));
	else
		log_warn("power: CPU time of %s at its %s: %s", name, hv_shutdown_reason_name(why),
		         err);
	static const char *const keys[] = {"rx_bytes", "tx_bytes", "rx_packets", "tx_packets"};
	for (size_t i = 0; counters && i < sizeof(keys) / sizeof(keys[0]); i++)
		if (json_object_object_get_ex(counters, keys[i], &v))
			json_object_object_add(x, keys[i], json_object_get(v));
	json_object_put(counters);
	return record_event(p, name, why, "settling", NULL, NULL, x);
}

json_object *power_events(power_ctx *p, uint64_t since)
{
	json_object *out = json_object_new_object(), *arr = json_object_new_array();
	uint64_t oldest;
	size_t n, taken = 0;
	bool reset;

	pthread_mutex_lock(&p->lock);
	n = json_object_array_length(p->events);
	oldest =
	        n ? (uint64_t)obj_int(json_object_array_get_idx(p->events, 0), "seq") : p->next_seq;
	/* Ahead of the log: the agent lost its state. Behind the oldest kept: events were
	 * dropped. Either way the panel cannot trust its view of the power states. */
	reset = since > p->next_seq || (since > 0 && since < oldest);
	if (reset)
		since = oldest;
	for (size_t i = 0; i < n && taken < POWER_EVENTS_MAX; i++) {
		json_object *e = json_object_array_get_idx(p->events, i);

		if ((uint64_t)obj_int(e, "seq") >= since) {
			json_object_array_add(arr, json_object_get(e));
			taken++;
		}
	}
	/* Nothing taken: no event at or after since exists, so the next one is next_seq. */
	json_object_object_add(
	        out, "next",
	        json_object_new_int64(
	                taken ? obj_int(json_object_array_get_idx(arr, taken - 1), "seq") + 1
	                      : (int64_t)p->next_seq));
	pthread_mutex_unlock(&p->lock);
	json_object_object_add(out, "events", arr);
	json_object_object_add(out, "reset", json_object_new_boolean(reset));
	return out;
}

void power_record_boot(power_ctx *p, const char *name, const hv_domain_info *now, const char *error)
{
	json_object *x;

	if (!p)
		return;
	x = json_object_new_object();
	json_object_object_add(x, "event", json_object_new_string("boot"));
	record_event(p, name, HV_SHUTDOWN_NONE, error ? "failed" : "started", now, error, x);
}

/* ---- settling a preserved domain --------------------------------------------------------- */

int power_settle(power_ctx *p, const char *name, hv_domain_info *info, char *err)
{
	hv_driver *hv = p->vps->hv;
	hv_shutdown_reason why = info->shutdown;
	char hverr[HV_ERRLEN] = "", cfg[300];
	bool restart;
	int rc;

	uint64_t seen;
	json_object *x;

	if (info->state != HV_SHUTDOWN || why == HV_SHUTDOWN_OTHER || why == HV_SHUTDOWN_NONE)
		return 0;
	restart =
	        why == HV_SHUTDOWN_REBOOT || (why == HV_SHUTDOWN_CRASH && crash_restarts(p, name));
	/* 1. The vif still exists: its last bytes go into the totals; the panel learns of the
	 *    shutdown now, with the final counters, not after the destroy and create below. */
	seen = record_seen(p, name, why, restart, vps_net_sweep_final(p->vps, name));
	x = json_object_new_object();
	json_object_object_add(x, "follows", json_object_new_int64((int64_t)seen));
	/* 2. Destroy: the driver folds the run's final CPU time (hooks above). */
	rc = hv->ops->destroy(hv, name, hverr);
	if (rc) {
		errf(err, "cannot destroy the preserved domain %s: %s", name, hverr);
		record_event(p, name, why, "failed", NULL, err, x);
		return rc;
	}
	vps_net_after_stop(p->vps, name);
	/* 3. A reboot (or a crash to restart) comes back from its config, as xl would have. */
	if (restart) {
		if (!vps_config_path(p->vps, name, cfg, sizeof(cfg))) {
			errf(err, "config path of %s is too long", name);
			rc = -ENAMETOOLONG;
		} else {
			rc = hv->ops->create(hv, name, cfg, hverr);
			if (rc)
				errf(err, "cannot start %s again after its %s: %s", name,
				     hv_shutdown_reason_name(why), hverr);
			else
				vps_net_after_restart(p->vps, name);
		}
	}
	if (hv->ops->info(hv, name, info, hverr) != 0) {
		info->state = HV_ABSENT;
		info->domid = -1;
	}
	record_event(p, name, why,
	             rc        ? "failed"
	             : restart ? "restarted"
	                       : "stopped",
	             info, rc ? err : NULL, x);
	if (rc == 0 && !restart) /* the panel shows it stopped: a host boot leaves it so */
		desired_set_running(p->vps->desired, name, false);
	log_info("power: %s %s by its guest: %s", name, hv_shutdown_reason_name(why),
	         rc        ? err
	         : restart ? "started again"
	                   : "left stopped");
	return rc;
}

/* ---- the watcher ------------------------------------------------------------------------- */

int power_watch_once(power_ctx *p, power_lock_fn lock, power_unlock_fn unlock, void *ctx)
{
	hv_driver *hv = p->vps->hv;
	hv_shutdown_reason *reasons = NULL;
	char **names = NULL, err[POWER_ERRLEN] = "", hverr[HV_ERRLEN] = "";
	size_t n = 0;
	int settled = 0;

	if (!hv->ops->preserved ||
	    hv->ops->preserved(hv, POWER_PREFIX, &names, &reasons, &n, hverr) != 0) {
		if (hverr[0])
			log_warn("power: listing preserved domains: %s", hverr);
		return 0;
	}
	for (size_t i = 0; i < n; i++) {
		hv_domain_info info;
		void *h;

		if (!valid_domain_name(names[i], NULL))
			continue;
		h = lock ? lock(ctx, names[i]) : NULL;
		/* Again under the lock: a job may have acted on it meanwhile. */
		if (hv->ops->info(hv, names[i], &info, hverr) == 0 && info.state == HV_SHUTDOWN) {
			if (power_settle(p, names[i], &info, err) != 0)
				log_warn("power: %s", err);
			settled++;
		}
		if (unlock)
			unlock(ctx, h);
	}
	for (size_t i = 0; i < n; i++)
		free(names[i]);
	free(names);
	free(reasons);
	return settled;
}

static void *watch_main(void *arg)
{
	power_ctx *p = arg;

	while (!atomic_load(&p->stop)) {
		struct timespec ts;

		power_watch_once(p, p->lock_fn, p->unlock_fn, p->lock_ctx);
		pthread_mutex_lock(&p->wait_mu);
		clock_gettime(CLOCK_MONOTONIC, &ts);
		ts.tv_sec += POWER_WATCH_MS / 1000;
		ts.tv_nsec += (long)(POWER_WATCH_MS % 1000) * 1000000L;
		if (ts.tv_nsec >= 1000000000L) {
			ts.tv_sec++;
			ts.tv_nsec -= 1000000000L;
		}
		if (!atomic_load(&p->stop))
			pthread_cond_timedwait(&p->wait_cv, &p->wait_mu, &ts);
		pthread_mutex_unlock(&p->wait_mu);
	}
	return NULL;
}

int power_watch_start(power_ctx *p, power_lock_fn lock, power_unlock_fn unlock, void *ctx,
                      char *err)
{
	p->lock_fn = lock;
	p->unlock_fn = unlock;
	p->lock_ctx = ctx;
	atomic_store(&p->stop, false);
	if (pthread_create(&p->thread, NULL, watch_main, p) != 0) {
		errf(err, "cannot start the power watcher thread");
		return -EAGAIN;
	}
	p->thread_running = true;
	return 0;
}

void power_watch_stop(power_ctx *p)
{
	if (!p || !p->thread_running)
		return;
	atomic_store(&p->stop, true);
	pthread_mutex_lock(&p->wait_mu);
	pthread_cond_broadcast(&p->wait_cv);
	pthread_mutex_unlock(&p->wait_mu);
	pthread_join(p->thread, NULL);
	p->thread_running = false;
}

/* ---- opening ----------------------------------------------------------------------------- */

int power_open(vps_ctx *vps, const char *state_dir, power_ctx **out, char *err)
{
	power_ctx *p = calloc(1, sizeof(*p));
	json_object *ev = NULL, *arr;
	int rc;

	*out = NULL;
	if (!p) {
		errf(err, "out of memory");
		return -ENOMEM;
	}
	p->vps = vps;
	if (!sfmt(p->cpu_path, sizeof(p->cpu_path), "%s/%s", state_dir, POWER_CPU_FILE) ||
	    !sfmt(p->events_path, sizeof(p->events_path), "%s/%s", state_dir, POWER_EVENTS_FILE) ||
	    !sfmt(p->crash_path, sizeof(p->crash_path), "%s/%s", state_dir, POWER_ON_CRASH_FILE)) {
		free(p);
		errf(err, "state directory path too long");
		return -ENAMETOOLONG;
	}
	rc = load_object(p->cpu_path, &p->bases, err);
	if (rc == 0)
		rc = load_object(p->crash_path, &p->on_crash, err);
	if (rc == 0)
		rc = load_object(p->events_path, &ev, err);
	if (rc) {
		json_object_put(p->bases);
		json_object_put(p->on_crash);
		free(p);
		return rc;
	}
	p->next_seq = (uint64_t)obj_int(ev, "next");
	if (p->next_seq < 1)
		p->next_seq = 1;
	if (json_object_object_get_ex(ev, "events", &arr) &&
	    json_object_is_type(arr, json_type_array))
		p->events = json_object_get(arr);
	else
		p->events = json_object_new_array();
	json_object_put(ev);
	pthread_mutex_init(&p->cpu_lock, NULL);
	pthread_mutex_init(&p->lock, NULL);
	pthread_mutex_init(&p->wait_mu, NULL);
	cond_init_monotonic(&p->wait_cv);
	vps->hv->hooks = (hv_run_hooks){.ending = hook_ending, .ended = hook_ended, .ctx = p};
	vps->power = p;
	*out = p;
	return 0;
}

void power_close(power_ctx *p)
{
	if (!p)
		return;
	power_watch_stop(p);
	if (p->vps) {
		p->vps->hv->hooks = (hv_run_hooks){0};
		p->vps->power = NULL;
	}
	json_object_put(p->bases);
	json_object_put(p->on_crash);
	json_object_put(p->events);
	pthread_mutex_destroy(&p->cpu_lock);
	pthread_mutex_destroy(&p->lock);
	pthread_mutex_destroy(&p->wait_mu);
	pthread_cond_destroy(&p->wait_cv);
	free(p);
}
