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
#include "vps.h"

static void set_err(vps_err *err, int rc, const char *field, const char *fmt, ...)
        __attribute__((format(printf, 4, 5)));
static void set_err(vps_err *err, int rc, const char *field, const char *fmt, ...)
{
	va_list ap;

	if (!err)
		return;
	err->code = rc == -EINVAL ? "invalid" : rc == -ENOENT ? "not_found" : "host";
	snprintf(err->field, sizeof(err->field), "%s", field ? field : "");
	va_start(ap, fmt);
	vsnprintf(err->msg, sizeof(err->msg), fmt, ap);
	va_end(ap);
}

int vps_net_before_start(vps_ctx *ctx, const vps_spec *spec, vps_err *err)
{
	char e[NET_ERRLEN] = "";
	int rc;

	if (!ctx->net)
		return 0;
	rc = nf_apply(ctx->net, spec, e);
	if (rc)
		set_err(err, rc, rc == -EINVAL ? "vifname" : NULL, "firewall of %s: %s", spec->name,
		        e);
	return rc;
}

int vps_net_after_start(vps_ctx *ctx, const vps_spec *spec, vps_err *err)
{
	char e[NET_ERRLEN] = "";
	int rc;

	if (!ctx->net)
		return 0;
	rc = shape_apply(ctx->net, spec->vifname, shape_rate_mbit(spec), e);
	if (rc)
		set_err(err, rc, "net_mbit", "shaping of %s: %s", spec->name, e);
	return rc;
}

void vps_net_sweep_one(vps_ctx *ctx, const char *name)
{
	char e[NET_ERRLEN] = "";
	const char *names[1] = {name};

	if (ctx->net && netcount_sweep(ctx->net, names, 1, NULL, e) != 0)
		log_warn("counters of %s before it stops: %s", name, e);
}

void vps_net_after_stop(vps_ctx *ctx, const char *name)
{
	char vif[16], e[NET_ERRLEN] = "";

	if (ctx->net && net_vifname_of(name, vif) && shape_remove(ctx->net, vif, e) != 0)
		log_warn("shaping of %s after it stopped: %s", name, e);
}

int vps_net_remove(vps_ctx *ctx, const char *name, vps_err *err)
{
	char vif[16], e[NET_ERRLEN] = "";
	int rc;

	if (!ctx->net)
		return 0;
	if (!net_vifname_of(name, vif)) {
		set_err(err, -EINVAL, "name", "%s has no vif name", name);
		return -EINVAL;
	}
	rc = shape_remove(ctx->net, vif, e);
	if (rc == 0)
		rc = nf_remove(ctx->net, vif, e);
	if (rc == 0)
		rc = netcount_forget(ctx->net, name, e);
	if (rc)
		set_err(err, rc, NULL, "network of %s: %s", name, e);
	return rc;
}

int vps_network(vps_ctx *ctx, const vps_spec *spec, json_object **status_out, vps_err *err)
{
	char hverr[HV_ERRLEN] = "";
	hv_domain_info info;
	int rc;

	*status_out = NULL;
	rc = vps_net_before_start(ctx, spec, err);
	if (rc)
		return rc;
	rc = ctx->hv->ops->info(ctx->hv, spec->name, &info, hverr);
	if (rc) {
		set_err(err, rc, NULL, "domain info of %s: %s", spec->name, hverr);
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

	*out = NULL;
	for (size_t i = 0; i < n; i++) {
		if (!valid_domain_name(names[i], NULL)) {
			set_err(err, -EINVAL, "names", "%zu: not a domain name", i);
			return -EINVAL;
		}
	}
	if (!ctx->net) {
		set_err(err, -ENOTSUP, NULL, "networking is not managed by this agent");
		return -ENOTSUP;
	}
	rc = netcount_sweep(ctx->net, names, n, out, e);
	if (rc)
		set_err(err, rc, NULL, "counter sweep: %s", e);
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

static void report(json_object *arr, const char *kind, const char *name, const char *action,
                   const char *error)
{
	json_object *o = json_object_new_object();

	json_object_object_add(o, "kind", json_object_new_string(kind));
	json_object_object_add(o, "name", json_object_new_string(name));
	json_object_object_add(o, "action", json_object_new_string(action));
	if (error && *error)
		json_object_object_add(o, "error", json_object_new_string(error));
	json_object_array_add(arr, o);
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
		set_err(err, rc, NULL, "cannot list chains: %s", e);
		return rc;
	}
	for (size_t i = 0; i < n; i++) {
		if (!vif_known(names[i], known, n_known)) {
			e[0] = '\0';
			nf_remove(ctx->net, names[i], e);
			report(arr, "chain", names[i], "removed", e);
		}
	}
	for (size_t i = 0; i < n; i++)
		free(names[i]);
	free(names);
	names = NULL;
	n = 0;
	rc = shape_list_ifbs(ctx->net, &names, &n, e);
	if (rc) {
		set_err(err, rc, NULL, "cannot list ifb devices: %s", e);
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
		report(arr, "ifb", names[i], "removed", e);
		free(names[i]);
	}
	free(names);
	return 0;
}
