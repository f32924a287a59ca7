/* vps.c — declarative VPS operations of xvps-agent over the hypervisor and storage drivers
 * (docs/architecture.md §5: ensure/remove are idempotent and safe to repeat after any crash). It
 * must never leave a half-made VPS behind a failed first creation, and never delete a disk the
 * desired state does not know: the reconciler quarantines it. This file: status, power and
 * reinstall; vps_ensure.c: ensure; vps_template.c: templates; vps_reconcile.c: remove and the
 * reconciler; vps_rescue.c: rescue mode. */
#include "power.h"
#include "vps.h"
#include "vps_internal.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "../common/util.h"
#include "../common/validate.h"
#include "seed.h"
#include "seed_nocloud.h"
#include "template_import.h"

void vps_set_err(vps_err *err, int rc, const char *field, const char *fmt, ...)
{
	va_list ap;

	if (!err)
		return;
	switch (rc) {
	case -ENOENT:
	case -ESRCH:
		err->code = "not_found";
		break;
	case -EINVAL:
	case -ERANGE:
		err->code = "invalid";
		break;
	case -EEXIST:
		err->code = "conflict";
		break;
	case -EBUSY:
	case -EAGAIN:
		err->code = "busy";
		break;
	default:
		err->code = "host";
	}
	snprintf(err->field, sizeof(err->field), "%s", field ? field : "");
	va_start(ap, fmt);
	vsnprintf(err->msg, sizeof(err->msg), fmt, ap);
	va_end(ap);
}

bool vps_config_path(const vps_ctx *ctx, const char *name, char *out, size_t outlen)
{
	return sfmt(out, outlen, "%s/%s.cfg", ctx->config_dir, name);
}

int vps_ctx_init(vps_ctx *ctx, hv_driver *hv, st_driver *st, const char *config_dir,
                 const char *bridge, vps_err *err)
{
	int rc;

	memset(ctx, 0, sizeof(*ctx));
	ctx->hv = hv;
	ctx->st = st;
	ctx->shutdown_timeout_s = 60;
	if (!config_dir || !sfmt(ctx->config_dir, sizeof(ctx->config_dir), "%s", config_dir) ||
	    !bridge || !sfmt(ctx->bridge, sizeof(ctx->bridge), "%s", bridge)) {
		vps_set_err(err, -EINVAL, NULL, "config dir or bridge name too long");
		return -EINVAL;
	}
	rc = mkdir_p(ctx->config_dir, 0700);
	if (rc) {
		vps_set_err(err, rc, NULL, "cannot create %s: %s", ctx->config_dir, strerror(-rc));
		return rc;
	}
	return 0;
}

int vps_ctx_set_state_dir(vps_ctx *ctx, const char *state_dir, vps_err *err)
{
	if (!state_dir || state_dir[0] != '/' ||
	    !sfmt(ctx->state_dir, sizeof(ctx->state_dir), "%s", state_dir)) {
		ctx->state_dir[0] = '\0';
		vps_set_err(err, -EINVAL, NULL,
		            "state dir must be an absolute path of at most 255 bytes");
		return -EINVAL;
	}
	return 0;
}

bool vps_file_exists(const char *path)
{
	struct stat st;

	return stat(path, &st) == 0;
}

int vps_check_name(const char *name, vps_err *err)
{
	const char *why = NULL;

	if (!name || !valid_domain_name(name, &why)) {
		vps_set_err(err, -EINVAL, "name", "name %s", why ? why : "is not valid");
		return -EINVAL;
	}
	return 0;
}

int vps_status(vps_ctx *ctx, const char *name, json_object **status_out, vps_err *err)
{
	char hverr[HV_ERRLEN] = "";
	hv_domain_info info;
	uint64_t disk_bytes = 0;
	bool has_disk;
	int rc;

	*status_out = NULL;
	rc = vps_check_name(name, err);
	if (rc)
		return rc;
	rc = ctx->hv->ops->info(ctx->hv, name, &info, hverr);
	if (rc) {
		vps_set_err(err, rc, NULL, "domain info of %s: %s", name, hverr);
		return rc;
	}
	has_disk = ctx->st->ops->disk_size(ctx->st, name, &disk_bytes, NULL) == 0;
	*status_out = vps_status_of(ctx, name, &info, has_disk, disk_bytes);
	return 0;
}

json_object *vps_status_of(vps_ctx *ctx, const char *name, const hv_domain_info *di, bool has_disk,
                           uint64_t disk_bytes)
{
	char cfg[VPS_PATH_LEN];
	hv_domain_info info = *di;
	bool has_cfg;
	const char *state;
	json_object *o;

	has_cfg = vps_config_path(ctx, name, cfg, sizeof(cfg)) && vps_file_exists(cfg);
	if (info.state == HV_RUNNING)
		state = "running";
	else if (info.state == HV_STOPPED || has_disk || has_cfg)
		state = "stopped";
	else
		state = "absent";

	o = json_object_new_object();
	json_object_object_add(o, "name", json_object_new_string(name));
	json_object_object_add(o, "state", json_object_new_string(state));
	json_object_object_add(o, "domid",
	                       info.state == HV_RUNNING && info.domid >= 0
	                               ? json_object_new_int(info.domid)
	                               : NULL);
	json_object_object_add(o, "cpu_weight", json_object_new_int(info.cpu_weight));
	json_object_object_add(o, "cpu_cap_pct", json_object_new_int(info.cpu_cap_pct));
	json_object_object_add(o, "disk_bytes", json_object_new_int64((int64_t)disk_bytes));
	json_object_object_add(o, "config_path", has_cfg ? json_object_new_string(cfg) : NULL);
	json_object_object_add(o, "cpu_ns", json_object_new_int64((int64_t)info.cpu_ns));
	json_object *net = json_object_new_object();
	json_object_object_add(net, "enabled",
	                       json_object_new_boolean(ctx->net && ctx->net->enabled));
	json_object_object_add(net, "rate_mbit", json_object_new_int(vps_net_rate(ctx, name)));
	json_object_object_add(o, "net", net);
	if (info.state != HV_RUNNING) /* the next boot builds it from its config: nothing waits */
		json_object_object_add(o, "pending", NULL);
	return o;
}

/* A domain its guest shut down (preserved, HV_SHUTDOWN) is settled first — counters swept, run
 * folded, destroyed, started again for a reboot, the event recorded for the panel (power.c) —
 * so that an operation never acts on a dead domain nor loses the guest's event. *info is read
 * again. Without a power context (tests) the domain is destroyed. 0 or -errno. */
int vps_settle_preserved(vps_ctx *ctx, const char *name, hv_domain_info *info, vps_err *err)
{
	char e[POWER_ERRLEN] = "", hverr[HV_ERRLEN] = "";
	int rc;

	if (info->state != HV_SHUTDOWN)
		return 0;
	if (ctx->power) {
		rc = power_settle(ctx->power, name, info, e);
		if (rc)
			vps_set_err(err, rc, NULL, "%s", e);
		return rc;
	}
	vps_net_sweep_one(ctx, name);
	rc = ctx->hv->ops->destroy(ctx->hv, name, hverr);
	if (rc == 0)
		rc = ctx->hv->ops->info(ctx->hv, name, info, hverr);
	if (rc)
		vps_set_err(err, rc, NULL, "preserved domain %s: %s", name, hverr);
	return rc;
}

int vps_power(vps_ctx *ctx, const char *name, const char *action, const vps_spec *spec,
              json_object **status_out, vps_err *err)
{
	hv_driver *hv = ctx->hv;
	char hverr[HV_ERRLEN] = "";
	hv_domain_info info;
	int rc;

	*status_out = NULL;
	rc = vps_check_name(name, err);
	if (rc)
		return rc;
	if (spec && strcmp(spec->name, name) != 0) {
		vps_set_err(err, -EINVAL, "name", "spec names another domain");
		return -EINVAL;
	}
	/* A guest that shut down by itself: settle that first (its event reaches the panel). */
	rc = hv->ops->info(hv, name, &info, hverr);
	if (rc) {
		vps_set_err(err, rc, NULL, "domain info of %s: %s", name, hverr);
		return rc;
	}
	rc = vps_settle_preserved(ctx, name, &info, err);
	if (rc)
		return rc;
	if (strcmp(action, "start") == 0 || strcmp(action, "reboot") == 0) {
		vps_spec run;

		if (!spec) {
			vps_set_err(err, -EINVAL, "spec", "%s needs the spec", action);
			return -EINVAL;
		}
		rc = hv->ops->info(hv, name, &info, hverr);
		if (rc) {
			vps_set_err(err, rc, NULL, "domain info of %s: %s", name, hverr);
			return rc;
		}
		if (strcmp(action, "reboot") == 0 && info.state == HV_RUNNING) {
			vps_net_sweep_one(ctx, name); /* the vif is re-created */
			rc = hv->ops->reboot(hv, name, hverr);
			if (rc) {
				vps_set_err(err, -EIO, NULL, "cannot reboot %s: %s", name, hverr);
				return rc;
			}
		}
		run = *spec;
		run.power_running = true;
		return vps_ensure(ctx, &run, status_out, err);
	}
	if (strcmp(action, "shutdown") == 0 || strcmp(action, "poweroff") == 0)
		vps_net_sweep_one(ctx, name);
	if (strcmp(action, "shutdown") == 0) {
		rc = hv->ops->shutdown(hv, name, ctx->shutdown_timeout_s, hverr);
		if (rc) {
			vps_set_err(err, -EIO, NULL, "cannot shut down %s: %s", name, hverr);
			return rc;
		}
	} else if (strcmp(action, "poweroff") == 0) {
		rc = hv->ops->destroy(hv, name, hverr);
		if (rc) {
			vps_set_err(err, -EIO, NULL, "cannot power off %s: %s", name, hverr);
			return rc;
		}
	} else {
		vps_set_err(err, -EINVAL, "action",
		            "action must be start, shutdown, reboot or poweroff");
		return -EINVAL;
	}
	vps_net_after_stop(ctx, name);
	return vps_status(ctx, name, status_out, err);
}

int vps_reinstall(vps_ctx *ctx, const vps_spec *spec, json_object **status_out, vps_err *err)
{
	char hverr[HV_ERRLEN] = "", sterr[ST_ERRLEN] = "";
	st_disk_outcome disk;
	vps_spec run;
	int rc;

	*status_out = NULL;
	rc = vps_check_name(spec->name, err);
	if (rc)
		return rc;
	rc = ctx->st->ops->template_exists(ctx->st, spec->template_name, sterr);
	if (rc < 0) {
		/* the driver could not tell (`lvs` failed): a host error, nothing touched */
		vps_set_err(err, -EIO, NULL, "cannot reinstall %s: %s", spec->name, sterr);
		return -EIO;
	}
	if (rc == 0) {
		vps_set_err(err, -ENOENT, "template", "template %s does not exist",
		            spec->template_name);
		return -ENOENT;
	}
	vps_net_sweep_one(ctx, spec->name);
	rc = ctx->hv->ops->destroy(ctx->hv, spec->name, hverr);
	if (rc) {
		vps_set_err(err, -EIO, NULL, "cannot destroy %s: %s", spec->name, hverr);
		return rc;
	}
	rc = ctx->st->ops->disk_remove(ctx->st, spec->name, sterr);
	if (rc) {
		vps_set_err(err, -EIO, NULL, "cannot remove the disk of %s: %s", spec->name, sterr);
		return rc;
	}
	rc = ctx->st->ops->disk_ensure(ctx->st, spec->name, spec->template_name, spec->disk_gib,
	                               &disk, sterr);
	if (rc) {
		vps_set_err(err, disk.tpl_missing ? -ENOENT : -EIO,
		            disk.tpl_missing ? "template" : NULL, "disk of %s: %s", spec->name,
		            sterr);
		return rc;
	}
	run = *spec;
	run.power_running = true;
	return vps_ensure(ctx, &run, status_out, err);
}
