/* desired.c — the desired power state of every VPS and the start of the running ones after a
 * host boot (desired.h; issue 16 item 6). desired.json is {"xvps-N": {"running": bool,
 * "spec": VPS_SPEC}}, rewritten atomically at every change; a spec read back is validated again
 * by spec_parse before it reaches a driver. */
#include "desired.h"

#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../common/jsonutil.h"
#include "../common/util.h"
#include "../common/validate.h"
#include "power.h"
#include "spec.h"
#include "vps.h"

#define DESIRED_PATH_LEN 320
#define DESIRED_FILE_MAX (64 << 20)

struct desired_ctx {
	vps_ctx *vps;
	char path[DESIRED_PATH_LEN];
	pthread_mutex_t lock;
	json_object *map; /* {"xvps-N": {"running": bool, "spec": {...}}} */
};

#define errf(err, ...) errfmt(err, DESIRED_ERRLEN, __VA_ARGS__)

static void save(desired_ctx *d)
{
	const char *txt = json_object_to_json_string_ext(d->map, JSON_C_TO_STRING_PLAIN);
	int rc = write_file_atomic(d->path, txt, strlen(txt), 0600);

	if (rc)
		log_warn("desired state: cannot write %s: %s", d->path, strerror(-rc));
}

int desired_open(vps_ctx *vps, const char *state_dir, desired_ctx **out, char *err)
{
	desired_ctx *d = calloc(1, sizeof(*d));
	int rc;

	*out = NULL;
	if (!d) {
		errf(err, "out of memory");
		return -ENOMEM;
	}
	if (!sfmt(d->path, sizeof(d->path), "%s/%s", state_dir, DESIRED_FILE)) {
		free(d);
		errf(err, "state directory path too long");
		return -ENAMETOOLONG;
	}
	rc = json_load_file(d->path, DESIRED_FILE_MAX, json_type_object, &d->map);
	if (rc == -ENOENT) {
		d->map = json_object_new_object();
		rc = 0;
	}
	if (rc) {
		errf(err, "cannot read %s: %s", d->path,
		     rc == -EPROTO ? "not a JSON object" : strerror(-rc));
		free(d);
		return rc;
	}
	pthread_mutex_init(&d->lock, NULL);
	d->vps = vps;
	vps->desired = d;
	*out = d;
	return 0;
}

void desired_close(desired_ctx *d)
{
	if (!d)
		return;
	if (d->vps)
		d->vps->desired = NULL;
	json_object_put(d->map);
	pthread_mutex_destroy(&d->lock);
	free(d);
}

static bool entry_running(json_object *entry)
{
	json_object *v;

	return json_object_object_get_ex(entry, "running", &v) &&
	       json_object_is_type(v, json_type_boolean) && json_object_get_boolean(v);
}

void desired_put(desired_ctx *d, const char *name, json_object *spec, int running)
{
	json_object *entry, *old, *copy = NULL, *p;

	if (!d || !spec || !valid_domain_name(name, NULL) ||
	    json_object_deep_copy(spec, &copy, NULL) != 0)
		return;
	pthread_mutex_lock(&d->lock);
	if (running < 0) {
		if (json_object_object_get_ex(d->map, name, &old))
			running = entry_running(old);
		else
			running = json_object_object_get_ex(spec, "power", &p) &&
			          strcmp(json_object_get_string(p), "running") == 0;
	}
	entry = json_object_new_object();
	json_object_object_add(entry, "running", json_object_new_boolean(running));
	json_object_object_add(entry, "spec", copy);
	json_object_object_add(d->map, name, entry);
	save(d);
	pthread_mutex_unlock(&d->lock);
}

void desired_set_running(desired_ctx *d, const char *name, bool running)
{
	json_object *entry;

	if (!d)
		return;
	pthread_mutex_lock(&d->lock);
	if (json_object_object_get_ex(d->map, name, &entry) && entry_running(entry) != running) {
		json_object_object_add(entry, "running", json_object_new_boolean(running));
		save(d);
	}
	pthread_mutex_unlock(&d->lock);
}

void desired_forget(desired_ctx *d, const char *name)
{
	if (!d)
		return;
	pthread_mutex_lock(&d->lock);
	if (json_object_object_get_ex(d->map, name, NULL)) {
		json_object_object_del(d->map, name);
		save(d);
	}
	pthread_mutex_unlock(&d->lock);
}

int desired_get(desired_ctx *d, const char *name)
{
	json_object *entry;
	int r = -1;

	if (!d)
		return -1;
	pthread_mutex_lock(&d->lock);
	if (json_object_object_get_ex(d->map, name, &entry))
		r = entry_running(entry) ? 1 : 0;
	pthread_mutex_unlock(&d->lock);
	return r;
}

bool desired_parse_parallel(const char *s, int *out)
{
	long long v;

	if (!s || !*s) {
		*out = BOOT_PARALLEL_DEFAULT;
		return true;
	}
	if (!parse_int_range(s, 0, BOOT_PARALLEL_MAX, &v))
		return false;
	*out = (int)v;
	return true;
}

/* ---- the start at boot ------------------------------------------------------------------- */

typedef struct boot_item {
	unsigned long long id;
	char name[32];
	json_object *spec; /* a copy, owned */
} boot_item;

typedef struct boot_run {
	desired_ctx *d;
	boot_item *items;
	size_t n, next;
	int active;
	pthread_mutex_t mu; /* next, active, out */
	desired_lock_fn lock;
	desired_unlock_fn unlock;
	void *lock_ctx;
	desired_boot_result *out;
} boot_run;

static int by_id(const void *a, const void *b)
{
	const boot_item *x = a, *y = b;

	return x->id < y->id ? -1 : x->id > y->id;
}

/* One domain: started when it should run and does not. */
static void boot_one(boot_run *r, boot_item *it)
{
	hv_driver *hv = r->d->vps->hv;
	char hverr[HV_ERRLEN] = "";
	json_field_error fe = {0};
	json_object *status = NULL;
	hv_domain_info info = {0};
	vps_spec spec;
	vps_err e = {0};
	void *h = r->lock ? r->lock(r->lock_ctx, it->name) : NULL;
	int rc;

	rc = hv->ops->info(hv, it->name, &info, hverr);
	if (rc == 0 && info.state != HV_ABSENT && info.state != HV_STOPPED) {
		/* Running already (or preserved: the power watcher settles that). */
		pthread_mutex_lock(&r->mu);
		r->out->running++;
		pthread_mutex_unlock(&r->mu);
		goto out;
	}
	pthread_mutex_lock(&r->mu);
	if (++r->active > r->out->max_parallel)
		r->out->max_parallel = r->active;
	pthread_mutex_unlock(&r->mu);
	if (rc) {
		vps_set_err(&e, rc, NULL, "domain info of %s: %s", it->name, hverr);
	} else if (spec_parse(it->spec, &spec, &fe) != 0) {
		vps_set_err(&e, -EINVAL, fe.field, "the kept spec of %s: %s %s", it->name,
		            fe.field ? fe.field : "spec", fe.detail ? fe.detail : "is not valid");
		rc = -EINVAL;
	} else {
		rc = vps_power(r->d->vps, it->name, "start", &spec, &status, &e);
		spec_dispose(&spec);
	}
	json_object_put(status);
	if (hv->ops->info(hv, it->name, &info, hverr) != 0) {
		info.state = HV_ABSENT;
		info.domid = -1;
	}
	power_record_boot(r->d->vps->power, it->name, &info, rc ? e.msg : NULL);
	if (rc)
		log_warn("boot: %s should run but did not start: %s", it->name, e.msg);
	else
		log_info("boot: %s started (domid %d), its desired state being running", it->name,
		         info.domid);
	pthread_mutex_lock(&r->mu);
	r->active--;
	if (rc)
		r->out->failed++;
	else
		r->out->started++;
	pthread_mutex_unlock(&r->mu);
out:
	if (r->unlock)
		r->unlock(r->lock_ctx, h);
}

static void *boot_worker(void *arg)
{
	boot_run *r = arg;

	for (;;) {
		boot_item *it = NULL;

		pthread_mutex_lock(&r->mu);
		if (r->next < r->n)
			it = &r->items[r->next++];
		pthread_mutex_unlock(&r->mu);
		if (!it)
			return NULL;
		boot_one(r, it);
	}
}

int desired_boot_start(desired_ctx *d, int parallel, desired_lock_fn lock, desired_unlock_fn unlock,
                       void *lock_ctx, desired_boot_result *out)
{
	boot_run r = {.d = d, .lock = lock, .unlock = unlock, .lock_ctx = lock_ctx, .out = out};
	pthread_t threads[BOOT_PARALLEL_MAX];
	int n_threads = 0;

	memset(out, 0, sizeof(*out));
	if (parallel < 1 || parallel > BOOT_PARALLEL_MAX)
		return -EINVAL;
	if (!d)
		return 0;
	pthread_mutex_lock(&d->lock);
	r.items = calloc((size_t)json_object_object_length(d->map) + 1, sizeof(*r.items));
	if (!r.items) {
		pthread_mutex_unlock(&d->lock);
		return -ENOMEM;
	}
	json_object_object_foreach(d->map, name, entry)
	{
		json_object *spec = NULL;

		if (!valid_domain_name(name, NULL) ||
		    !json_object_object_get_ex(entry, "spec", &spec))
			continue;
		if (!entry_running(entry)) {
			out->stopped++;
			continue;
		}
		boot_item *it = &r.items[r.n];
		if (json_object_deep_copy(spec, &it->spec, NULL) != 0)
			continue;
		snprintf(it->name, sizeof(it->name), "%s", name);
		it->id = strtoull(name + strlen("xvps-"), NULL, 10);
		r.n++;
	}
	pthread_mutex_unlock(&d->lock);
	qsort(r.items, r.n, sizeof(*r.items), by_id);
	pthread_mutex_init(&r.mu, NULL);
	for (int i = 0; i < parallel && (size_t)i < r.n; i++)
		if (pthread_create(&threads[n_threads], NULL, boot_worker, &r) == 0)
			n_threads++;
	if (n_threads == 0)
		boot_worker(&r); /* no thread (or nothing to do): one at a time here */
	for (int i = 0; i < n_threads; i++)
		pthread_join(threads[i], NULL);
	pthread_mutex_destroy(&r.mu);
	for (size_t i = 0; i < r.n; i++)
		json_object_put(r.items[i].spec);
	free(r.items);
	log_info("boot: %zu VPS started, %zu failed, %zu running already, %zu left stopped "
	         "(at most %d at once)",
	         out->started, out->failed, out->running, out->stopped, out->max_parallel);
	return 0;
}

size_t desired_firewall_apply(desired_ctx *d, size_t *failed)
{
	size_t done = 0;

	*failed = 0;
	if (!d)
		return 0;
	pthread_mutex_lock(&d->lock);
	json_object_object_foreach(d->map, name, entry)
	{
		json_object *js = NULL;
		json_field_error fe = {0};
		vps_spec spec;
		vps_err e = {0};

		if (!valid_domain_name(name, NULL) ||
		    !json_object_object_get_ex(entry, "spec", &js))
			continue;
		if (spec_parse(js, &spec, &fe) != 0) {
			log_warn("firewall: the kept spec of %s does not parse (%s)", name,
			         fe.field ? fe.field : "spec");
			(*failed)++;
			continue;
		}
		if (vps_net_before_start(d->vps, &spec, &e) != 0) {
			log_warn("firewall: %s: %s", name, e.msg);
			(*failed)++;
		} else {
			done++;
		}
		spec_dispose(&spec);
	}
	pthread_mutex_unlock(&d->lock);
	return done;
}
