/* vps_net.c — where the declarative VPS operations (vps.c) meet the host network (net.h): the
 * firewall chains go in before a domain starts (so it is walled in from its first packet),
 * shaping after (tc needs the vif), counters are swept right before a vif disappears (so the
 * bytes since the last sweep are not lost), and removal leaves no chain, qdisc, ifb or
 * counter behind. With ctx->net NULL every function here is a successful no-op. */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../common/util.h"
#include "../common/validate.h"
#include "seed.h"
#include "seed_nocloud.h"
#include "vps.h"

/* ---- shaping memory ------------------------------------------------------------------------
 * Xen re-creates a vif whenever the domain reboots, also from inside the guest without the agent
 * knowing, and the new vif has no qdisc. So the agent remembers each domain's rate and the
 * ifindex of the vif it shaped (<state_dir>/shaping.json); every counter sweep compares that with
 * the vif's current ifindex and shapes a re-created vif again. */

static int shape_idx(const net_ctx *net, const char *name)
{
	for (size_t i = 0; i < net->n_shapes; i++)
		if (strcmp(net->shapes[i].name, name) == 0)
			return (int)i;
	return -1;
}

static void shapes_save(net_ctx *net)
{
	json_object *arr = json_object_new_array();
	char path[NET_PATH_LEN];

	for (size_t i = 0; i < net->n_shapes; i++) {
		json_object *o = json_object_new_object();
		json_object_object_add(o, "name", json_object_new_string(net->shapes[i].name));
		json_object_object_add(o, "vifname",
		                       json_object_new_string(net->shapes[i].vifname));
		json_object_object_add(o, "rate_mbit",
		                       json_object_new_int(net->shapes[i].rate_mbit));
		json_object_object_add(o, "ifindex", json_object_new_int(net->shapes[i].ifindex));
		json_object_array_add(arr, o);
	}
	if (sfmt(path, sizeof(path), "%s/shaping.json", net->state_dir)) {
		const char *txt = json_object_to_json_string_ext(arr, JSON_C_TO_STRING_PLAIN);
		if (write_file_atomic(path, txt, strlen(txt), 0600) != 0)
			log_warn("cannot write %s", path);
	}
	json_object_put(arr);
}

/* Loads shaping.json once; entries that do not validate are dropped. Caller holds the lock. */
static void shapes_load(net_ctx *net)
{
	char path[NET_PATH_LEN], *data = NULL;
	size_t len = 0;
	json_object *arr;

	if (net->shapes_loaded)
		return;
	net->shapes_loaded = true;
	if (!sfmt(path, sizeof(path), "%s/shaping.json", net->state_dir) ||
	    read_file(path, 16 << 20, &data, &len) != 0)
		return;
	arr = json_tokener_parse(data);
	free(data);
	if (!arr || !json_object_is_type(arr, json_type_array)) {
		log_warn("%s is not a JSON array: ignored", path);
		json_object_put(arr);
		return;
	}
	size_t n = json_object_array_length(arr);
	net->shapes = calloc(n ? n : 1, sizeof(*net->shapes));
	for (size_t i = 0; net->shapes && i < n; i++) {
		json_object *o = json_object_array_get_idx(arr, i), *v;
		net_shape sh = {0};
		char own[16];
		const char *name =
		        json_object_object_get_ex(o, "name", &v) ? json_object_get_string(v) : NULL;
		if (!name || !net_vifname_of(name, own) || strlen(name) >= sizeof(sh.name))
			continue;
		snprintf(sh.name, sizeof(sh.name), "%s", name);
		snprintf(sh.vifname, sizeof(sh.vifname), "%s", own);
		sh.rate_mbit =
		        json_object_object_get_ex(o, "rate_mbit", &v) ? json_object_get_int(v) : 0;
		sh.ifindex =
		        json_object_object_get_ex(o, "ifindex", &v) ? json_object_get_int(v) : 0;
		if (sh.rate_mbit < 1 || sh.rate_mbit > 100000)
			continue;
		net->shapes[net->n_shapes++] = sh;
	}
	json_object_put(arr);
}

/* The vif's ifindex from sysfs, 0 when it cannot be read. */
static int vif_ifindex(const net_ctx *net, const char *vif)
{
	char path[NET_PATH_LEN], *data = NULL;
	size_t len = 0;
	long long v = 0;

	if (!sfmt(path, sizeof(path), "%s/%s/ifindex", net->sysfs_net, vif) ||
	    read_file(path, 64, &data, &len) != 0)
		return 0;
	data[strcspn(data, "\n")] = '\0';
	if (!parse_int_range(data, 1, 2147483647, &v))
		v = 0;
	free(data);
	return (int)v;
}

/* Records (rate > 0) or forgets (rate 0) the shaping of a domain. */
static void shape_note(net_ctx *net, const char *name, const char *vif, int rate, int ifindex)
{
	pthread_mutex_lock(&net->shape_lock);
	shapes_load(net);
	int i = shape_idx(net, name);
	if (rate > 0) {
		if (i < 0) {
			net_shape *ns = realloc(net->shapes, (net->n_shapes + 1) * sizeof(*ns));
			if (ns) {
				net->shapes = ns;
				i = (int)net->n_shapes++;
				memset(&ns[i], 0, sizeof(ns[i]));
			}
		}
		if (i >= 0) {
			snprintf(net->shapes[i].name, sizeof(net->shapes[i].name), "%s", name);
			snprintf(net->shapes[i].vifname, sizeof(net->shapes[i].vifname), "%s", vif);
			net->shapes[i].rate_mbit = rate;
			net->shapes[i].ifindex = ifindex;
		}
	} else if (i >= 0) {
		net->shapes[i] = net->shapes[--net->n_shapes];
	} else {
		pthread_mutex_unlock(&net->shape_lock);
		return; /* nothing changed */
	}
	shapes_save(net);
	pthread_mutex_unlock(&net->shape_lock);
}

/* After a sweep: shapes again every remembered vif that is present with another ifindex. */
static void shapes_refresh(net_ctx *net, json_object *sweep)
{
	json_object *doms = NULL;

	if (!net->enabled || !json_object_object_get_ex(sweep, "domains", &doms))
		return;
	pthread_mutex_lock(&net->shape_lock);
	shapes_load(net);
	net_shape *todo = calloc(net->n_shapes ? net->n_shapes : 1, sizeof(*todo));
	size_t n = 0;
	for (size_t i = 0; todo && i < net->n_shapes; i++) {
		json_object *d = NULL, *v = NULL;
		if (!json_object_object_get_ex(doms, net->shapes[i].name, &d) ||
		    !json_object_object_get_ex(d, "present", &v) || !json_object_get_boolean(v) ||
		    !json_object_object_get_ex(d, "ifindex", &v))
			continue;
		if (json_object_get_int(v) != net->shapes[i].ifindex)
			todo[n++] = net->shapes[i];
	}
	pthread_mutex_unlock(&net->shape_lock);
	for (size_t i = 0; i < n; i++) {
		char e[NET_ERRLEN] = "";
		if (shape_apply(net, todo[i].vifname, todo[i].rate_mbit, e) == 0) {
			log_info("%s: vif re-created, shaped again to %d Mbit/s", todo[i].name,
			         todo[i].rate_mbit);
			shape_note(net, todo[i].name, todo[i].vifname, todo[i].rate_mbit,
			           vif_ifindex(net, todo[i].vifname));
		} else {
			log_warn("%s: shaping the re-created vif: %s", todo[i].name, e);
		}
	}
	free(todo);
}

int vps_net_rate(vps_ctx *ctx, const char *name)
{
	int rate = 0, i;

	if (!ctx->net || !ctx->net->enabled)
		return 0;
	pthread_mutex_lock(&ctx->net->shape_lock);
	shapes_load(ctx->net);
	i = shape_idx(ctx->net, name);
	if (i >= 0)
		rate = ctx->net->shapes[i].rate_mbit;
	pthread_mutex_unlock(&ctx->net->shape_lock);
	return rate;
}

int vps_net_before_start(vps_ctx *ctx, const vps_spec *spec, vps_err *err)
{
	char e[NET_ERRLEN] = "";
	int rc;

	if (!ctx->net)
		return 0;
	rc = nf_apply(ctx->net, spec, e);
	if (rc)
		vps_set_err(err, rc, rc == -EINVAL ? "vifname" : NULL, "firewall of %s: %s",
		            spec->name, e);
	return rc;
}

int vps_net_prepare_start(vps_ctx *ctx, const vps_spec *spec, vps_err *err)
{
	char e[NET_ERRLEN] = "";
	int rc;

	if (!ctx->net)
		return 0;
	rc = shape_prepare(ctx->net, spec->vifname, shape_rate_mbit(spec), e);
	if (rc)
		vps_set_err(err, rc, "net_mbit", "shaping of %s: %s", spec->name, e);
	return rc;
}

int vps_net_after_start(vps_ctx *ctx, const vps_spec *spec, vps_err *err)
{
	char e[NET_ERRLEN] = "";
	int rc;

	if (!ctx->net)
		return 0;
	/* The vif exists now: its firewall hook, unless xvps-vif made it already (same result). */
	rc = nf_hook(ctx->net, spec->vifname, e);
	if (rc) {
		vps_set_err(err, rc, NULL, "firewall of %s: %s", spec->name, e);
		return rc;
	}
	int rate = shape_rate_mbit(spec);
	rc = shape_apply(ctx->net, spec->vifname, rate, e);
	if (rc)
		vps_set_err(err, rc, "net_mbit", "shaping of %s: %s", spec->name, e);
	else if (ctx->net->enabled)
		shape_note(ctx->net, spec->name, spec->vifname, rate,
		           vif_ifindex(ctx->net, spec->vifname));
	return rc;
}

void vps_net_after_restart(vps_ctx *ctx, const char *name)
{
	char vif[16], e[NET_ERRLEN] = "";
	int rate;

	if (!ctx->net || !ctx->net->enabled || !net_vifname_of(name, vif))
		return;
	if (nf_hook(ctx->net, vif, e) != 0)
		log_warn("firewall of %s after its restart: %s", name, e);
	e[0] = '\0';
	rate = vps_net_rate(ctx, name);
	if (rate <= 0)
		return;
	if (shape_apply(ctx->net, vif, rate, e) != 0)
		log_warn("shaping of %s after its restart: %s", name, e);
	else
		shape_note(ctx->net, name, vif, rate, vif_ifindex(ctx->net, vif));
}

json_object *vps_net_sweep_final(vps_ctx *ctx, const char *name)
{
	char e[NET_ERRLEN] = "";
	const char *names[1] = {name};
	json_object *out = NULL, *doms, *d = NULL;

	if (!ctx->net)
		return NULL;
	if (netcount_sweep(ctx->net, names, 1, &out, e) != 0) {
		log_warn("counters of %s before it stops: %s", name, e);
		return NULL;
	}
	if (json_object_object_get_ex(out, "domains", &doms) &&
	    json_object_object_get_ex(doms, name, &d))
		json_object_get(d);
	json_object_put(out);
	return d;
}

void vps_net_sweep_one(vps_ctx *ctx, const char *name)
{
	json_object_put(vps_net_sweep_final(ctx, name));
}

void vps_net_after_stop(vps_ctx *ctx, const char *name)
{
	char vif[16], e[NET_ERRLEN] = "";

	if (ctx->net && net_vifname_of(name, vif) && shape_remove(ctx->net, vif, e) != 0)
		log_warn("shaping of %s after it stopped: %s", name, e);
	/* The rate stays remembered: a vif that comes back is shaped again at the next sweep. */
}

int vps_net_remove(vps_ctx *ctx, const char *name, vps_err *err)
{
	char vif[16], e[NET_ERRLEN] = "";
	int rc;

	if (!ctx->net)
		return 0;
	if (!net_vifname_of(name, vif)) {
		vps_set_err(err, -EINVAL, "name", "%s has no vif name", name);
		return -EINVAL;
	}
	rc = shape_remove(ctx->net, vif, e);
	if (rc == 0)
		shape_note(ctx->net, name, vif, 0, 0);
	if (rc == 0)
		rc = nf_remove(ctx->net, vif, e);
	if (rc == 0)
		rc = netcount_forget(ctx->net, name, e);
	if (rc)
		vps_set_err(err, rc, NULL, "network of %s: %s", name, e);
	return rc;
}

int vps_network(vps_ctx *ctx, const vps_spec *spec, json_object **status_out, vps_err *err)
{
	char hverr[HV_ERRLEN] = "";
	hv_domain_info info;
	int rc;

	*status_out = NULL;
	if (ctx->state_dir[0]) {
		/* New addresses reach the guest through its seed, read at its next boot. */
		char serr[SEED_ERRLEN] = "";

		rc = seed_write_kind(&ctx->st->run, ctx->state_dir, spec, serr);
		if (rc) {
			vps_set_err(err, rc == -EFBIG ? -EINVAL : rc, NULL, "seed of %s: %s",
			            spec->name, serr);
			return rc;
		}
	}
	rc = vps_net_before_start(ctx, spec, err);
	if (rc)
		return rc;
	rc = ctx->hv->ops->info(ctx->hv, spec->name, &info, hverr);
	if (rc) {
		vps_set_err(err, rc, NULL, "domain info of %s: %s", spec->name, hverr);
		return rc;
	}
	if (info.state == HV_RUNNING) {
		rc = vps_net_after_start(ctx, spec, err);
		if (rc)
			return rc;
	}
	return vps_status(ctx, spec->name, status_out, err);
}

int vps_net_counters(vps_ctx *ctx, const char *const *names, size_t n, json_object **out,
                     vps_err *err)
{
	char e[NET_ERRLEN] = "";
	int rc;

	*out = NULL; /* netcount_sweep validates every name */
	if (!ctx->net) {
		vps_set_err(err, -ENOTSUP, NULL, "networking is not managed by this agent");
		return -ENOTSUP;
	}
	rc = netcount_sweep(ctx->net, names, n, out, e);
	if (rc)
		vps_set_err(err, rc, NULL, "counter sweep: %s", e);
	else
		shapes_refresh(ctx->net, *out);
	return rc;
}

static bool vif_known(const char *vif, const char *const *known, size_t n_known)
{
	char v[16];

	for (size_t i = 0; i < n_known; i++)
		if (net_vifname_of(known[i], v) && strcmp(v, vif) == 0)
			return true;
	return false;
}

int vps_net_reconcile(vps_ctx *ctx, const char *const *known, size_t n_known, json_object *arr,
                      vps_err *err)
{
	char e[NET_ERRLEN] = "", **names = NULL;
	size_t n = 0;
	int rc;

	if (!ctx->net || !ctx->net->enabled)
		return 0;
	rc = nf_list(ctx->net, &names, &n, e);
	if (rc) {
		vps_set_err(err, rc, NULL, "cannot list chains: %s", e);
		return rc;
	}
	for (size_t i = 0; i < n; i++) {
		if (!vif_known(names[i], known, n_known)) {
			e[0] = '\0';
			nf_remove(ctx->net, names[i], e);
			vps_report_orphan(arr, "table", names[i], "removed", e);
		}
	}
	for (size_t i = 0; i < n; i++)
		free(names[i]);
	free(names);
	names = NULL;
	n = 0;
	rc = shape_list_ifbs(ctx->net, &names, &n, e);
	if (rc) {
		vps_set_err(err, rc, NULL, "cannot list ifb devices: %s", e);
		return rc;
	}
	for (size_t i = 0; i < n; i++) {
		char vif[16];

		/* xifbN belongs to xvifN */
		if (!sfmt(vif, sizeof(vif), "%s%s", NET_VIF_PREFIX,
		          names[i] + strlen(NET_IFB_PREFIX)) ||
		    vif_known(vif, known, n_known)) {
			free(names[i]);
			continue;
		}
		e[0] = '\0';
		if (valid_vifname(vif, NULL))
			shape_remove(ctx->net, vif, e);
		vps_report_orphan(arr, "ifb", names[i], "removed", e);
		free(names[i]);
	}
	free(names);
	return 0;
}
