/* vps.c — declarative VPS operations of xvps-agent over the hypervisor and storage drivers
 * (docs/architecture.md §5: ensure/remove are idempotent and safe to repeat after any crash). It
 * must never leave a half-made VPS behind a failed first creation, and never delete a disk the
 * desired state does not know: the reconciler quarantines it. This file: ensure, status,
 * power and reinstall; vps_template.c: templates; vps_reconcile.c: remove and the reconciler;
 * vps_rescue.c: rescue mode. */
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

/* Writes the seed of spec when seeds are enabled (seed_write leaves an identical file alone). */
static int ensure_seed(vps_ctx *ctx, const vps_spec *spec, vps_err *err)
{
	char serr[SEED_ERRLEN] = "";
	int rc;

	if (!ctx->state_dir[0])
		return 0;
	rc = seed_write_kind(&ctx->st->run, ctx->state_dir, spec, serr);
	if (rc)
		vps_set_err(err, rc == -EFBIG ? -EINVAL : rc, rc == -EFBIG ? "ssh_keys" : NULL,
		            "seed of %s: %s", spec->name, serr);
	return rc;
}

static bool file_exists(const char *path)
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
	char hverr[HV_ERRLEN] = "", cfg[VPS_PATH_LEN];
	hv_domain_info info;
	uint64_t disk_bytes = 0;
	bool has_disk, has_cfg;
	const char *state;
	json_object *o;
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
	has_cfg = vps_config_path(ctx, name, cfg, sizeof(cfg)) && file_exists(cfg);
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
	*status_out = o;
	return 0;
}

/* Writes the xl.cfg for spec when its rendered content differs from the file on disk. */
static int ensure_config(vps_ctx *ctx, const vps_spec *spec, const char *cfg_path,
                         const char *rescue_path, vps_err *err)
{
	char disk_path[VPS_PATH_LEN], seed[VPS_PATH_LEN];
	const char **ips;
	char *want = NULL, *have = NULL;
	size_t have_len = 0, n = 0;
	const char *why = NULL;
	int rc;

	rc = ctx->st->ops->disk_path(ctx->st, spec->name, disk_path, sizeof(disk_path));
	if (rc) {
		vps_set_err(err, rc, NULL, "no disk path for %s", spec->name);
		return rc;
	}
	if (ctx->state_dir[0] && (rc = seed_path(ctx->state_dir, spec->name, seed, sizeof(seed)))) {
		vps_set_err(err, rc, NULL, "no seed path for %s", spec->name);
		return rc;
	}
	ips = calloc(spec->n_ipv4 + spec->n_ipv6 + 1, sizeof(*ips));
	if (!ips) {
		vps_set_err(err, -ENOMEM, NULL, "out of memory");
		return -ENOMEM;
	}
	for (size_t i = 0; i < spec->n_ipv4; i++)
		ips[n++] = spec->ipv4[i];
	for (size_t i = 0; i < spec->n_ipv6; i++)
		ips[n++] = spec->ipv6[i];

	xlcfg_spec xs = {
	        .name = spec->name,
	        /* the rescue system boots through pvgrub, as PVH for an HVM VPS */
	        .type = rescue_path[0] && spec->type == XL_HVM ? XL_PVH : spec->type,
	        .kernel = NULL, /* Debian's grub-xen-host image for the type */
	        .vcpus = spec->vcpus,
	        .memory_mib = (unsigned long)spec->memory_mib,
	        .max_vcpus = spec->max_vcpus,
	        .max_memory_mib = (unsigned long)spec->max_memory_mib,
	        .disk_path = disk_path,
	        .disk_is_file = strcmp(ctx->st->ops->name, "file") == 0,
	        .seed_path = ctx->state_dir[0] ? seed : NULL,
	        .rescue_path = rescue_path[0] ? rescue_path : NULL,
	        .mac = spec->mac,
	        .bridge = ctx->bridge,
	        .vifname = spec->vifname,
	        .ips = ips,
	        .net_mbit = spec->net_mbit,
	        .cpu_weight = spec->cpu_weight,
	        .cpu_cap_pct = spec->cpu_cap_pct,
	        .vnc_display = -1,
	};
	rc = xlcfg_render(&xs, &want, &why);
	if (rc) {
		vps_set_err(err, -EINVAL, NULL, "config for %s: %s", spec->name,
		            why ? why : "invalid");
		goto out;
	}
	if (read_file(cfg_path, 1 << 20, &have, &have_len) == 0 && strcmp(have, want) == 0)
		goto out; /* unchanged: leave the file (and its mtime) alone */
	rc = xlcfg_write(&xs, cfg_path, &why);
	if (rc)
		vps_set_err(err, rc, NULL, "cannot write %s: %s", cfg_path,
		            why ? why : strerror(-rc));
out:
	free(want);
	free(have);
	free(ips);
	return rc;
}

/* A domain its guest shut down (preserved, HV_SHUTDOWN) is settled first — counters swept, run
 * folded, destroyed, started again for a reboot, the event recorded for the panel (power.c) —
 * so that an operation never acts on a dead domain nor loses the guest's event. *info is read
 * again. Without a power context (tests) the domain is destroyed. 0 or -errno. */
static int settle_preserved(vps_ctx *ctx, const char *name, hv_domain_info *info, vps_err *err)
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

/* The sub-steps of one vps_ensure call and how long each took, for the panel's job step
 * durations (VPS_STATUS "timings", common/agent_proto.h). */
typedef struct step_timer {
	json_object *arr;
	uint64_t t0; /* now_mono_ns() at the end of the previous step */
} step_timer;

static void step_mark(step_timer *tm, const char *step)
{
	uint64_t now = now_mono_ns();
	json_object *o = json_object_new_object();

	json_object_object_add(o, "step", json_object_new_string(step));
	json_object_object_add(o, "us", json_object_new_int64((int64_t)((now - tm->t0) / 1000)));
	json_object_array_add(tm->arr, o);
	tm->t0 = now;
}

/* Converges power, live sizes (vps_resize.c) and scheduler. *created_out tells whether this
 * call created the domain; *pending_out gets the sizes that wait for the next boot (or NULL). */
static int ensure_power(vps_ctx *ctx, const vps_spec *spec, const char *cfg_path, step_timer *tm,
                        bool *created_out, json_object **pending_out, vps_err *err)
{
	hv_driver *hv = ctx->hv;
	char hverr[HV_ERRLEN] = "";
	hv_domain_info info;
	int rc, cap;

	*created_out = false;
	*pending_out = NULL;
	rc = hv->ops->info(hv, spec->name, &info, hverr);
	if (rc) {
		vps_set_err(err, rc, NULL, "domain info of %s: %s", spec->name, hverr);
		return rc;
	}
	rc = settle_preserved(ctx, spec->name, &info, err);
	if (rc)
		return rc;
	if (spec->power_running && info.state != HV_RUNNING) {
		rc = hv->ops->create(hv, spec->name, cfg_path, hverr);
		if (rc) {
			vps_set_err(err, rc == -EEXIST ? -EEXIST : -EIO, NULL,
			            "cannot start %s: %s", spec->name, hverr);
			return rc;
		}
		*created_out = true;
	} else if (!spec->power_running && info.state == HV_RUNNING) {
		rc = hv->ops->shutdown(hv, spec->name, ctx->shutdown_timeout_s, hverr);
		if (rc) {
			vps_set_err(err, -EIO, NULL, "cannot shut down %s: %s", spec->name, hverr);
			return rc;
		}
	}
	step_mark(tm, *created_out ? "domain.create" : "domain");
	if (!spec->power_running)
		return 0;
	rc = vps_resize_live(ctx, spec, *created_out, &cap, pending_out, err);
	if (rc)
		return rc;
	step_mark(tm, "resize");
	rc = hv->ops->set_sched(hv, spec->name, spec->cpu_weight, cap, hverr);
	if (rc) {
		vps_set_err(err, -EIO, "cpu_weight", "cannot set scheduler shares of %s: %s",
		            spec->name, hverr);
		return rc;
	}
	rc = hv->ops->info(hv, spec->name, &info, hverr);
	if (rc) {
		vps_set_err(err, rc, NULL, "domain info of %s: %s", spec->name, hverr);
		return rc;
	}
	if (info.cpu_weight != spec->cpu_weight || info.cpu_cap_pct != cap) {
		vps_set_err(err, -EIO, "cpu_weight",
		            "scheduler of %s reads back weight %d cap %d, wanted %d and %d",
		            spec->name, info.cpu_weight, info.cpu_cap_pct, spec->cpu_weight, cap);
		return -EIO;
	}
	step_mark(tm, "sched");
	return 0;
}

int vps_ensure(vps_ctx *ctx, const vps_spec *spec, json_object **status_out, vps_err *err)
{
	step_timer tm = {json_object_new_array(), now_mono_ns()};
	st_driver *st = ctx->st;
	char sterr[ST_ERRLEN] = "", hverr[HV_ERRLEN] = "", cfg[VPS_PATH_LEN];
	char rescue[VPS_PATH_LEN];
	uint64_t bytes;
	bool had_disk, had_cfg, had_seed = false, created = false;
	json_object *pending = NULL;
	int rc;

	*status_out = NULL;
	rc = vps_check_name(spec->name, err);
	if (rc) {
		json_object_put(tm.arr);
		return rc;
	}
	if (!vps_config_path(ctx, spec->name, cfg, sizeof(cfg))) {
		vps_set_err(err, -ENAMETOOLONG, NULL, "config path too long");
		json_object_put(tm.arr);
		return -ENAMETOOLONG;
	}
	had_disk = st->ops->disk_size(st, spec->name, &bytes, NULL) == 0;
	had_cfg = file_exists(cfg);
	if (ctx->state_dir[0]) {
		char seed[VPS_PATH_LEN];
		had_seed = seed_path(ctx->state_dir, spec->name, seed, sizeof(seed)) == 0 &&
		           file_exists(seed);
	}

	/* (1) disk */
	if (!had_disk && !st->ops->template_exists(st, spec->template_name)) {
		vps_set_err(err, -ENOENT, "template", "template %s does not exist",
		            spec->template_name);
		json_object_put(tm.arr);
		return -ENOENT;
	}
	rc = st->ops->disk_ensure(st, spec->name, spec->template_name, spec->disk_gib, sterr);
	if (rc) {
		vps_set_err(err, rc == -ENOENT ? -ENOENT : -EIO,
		            rc == -ENOENT ? "template" : "disk_gib", "disk of %s: %s", spec->name,
		            sterr);
		goto fail;
	}
	step_mark(&tm, "storage");
	/* (1b) rescue mode: the domain's copy of the rescue system; a domain running in the other
	 * mode is shut down first (vps_rescue.c) */
	rc = vps_rescue_prepare(ctx, spec, rescue, sizeof(rescue), err);
	if (!rc && had_cfg)
		rc = vps_rescue_switch(ctx, spec, cfg, err);
	if (rc)
		goto fail;
	if (spec->rescue)
		step_mark(&tm, "rescue");
	/* (2) the seed the guest reads at boot, then the config that attaches it */
	rc = ensure_seed(ctx, spec, err);
	if (rc)
		goto fail;
	step_mark(&tm, "seed");
	rc = ensure_config(ctx, spec, cfg, rescue, err);
	if (rc)
		goto fail;
	step_mark(&tm, "config");
	/* (3) firewall chains, before the domain can send its first packet */
	rc = vps_net_before_start(ctx, spec, err);
	if (rc)
		goto fail;
	step_mark(&tm, "netfilter");
	/* (4) power, (5) scheduler, (6) shaping once the vif exists */
	if (!spec->power_running)
		vps_net_sweep_one(ctx, spec->name);
	rc = ensure_power(ctx, spec, cfg, &tm, &created, &pending, err);
	if (rc)
		goto fail;
	if (spec->power_running) {
		rc = vps_net_after_start(ctx, spec, err);
		if (rc)
			goto fail;
	} else {
		vps_net_after_stop(ctx, spec->name);
	}
	step_mark(&tm, "shaping");
	if (!spec->rescue && (rc = vps_rescue_remove(ctx, spec->name, err)) != 0)
		goto fail;
	rc = vps_status(ctx, spec->name, status_out, err);
	if (rc)
		goto fail;
	step_mark(&tm, "status");
	json_object_object_add(*status_out, "timings", tm.arr);
	if (spec->power_running) /* what this call could not apply before the next boot */
		json_object_object_add(*status_out, "pending", pending);
	power_set_on_crash(ctx->power, spec->name, spec->crash_restart);
	return 0;
fail:
	json_object_put(pending);
	json_object_put(tm.arr);
	if (!had_disk) {
		/* First creation failed: take back everything this call made. */
		if (created) {
			ctx->hv->ops->destroy(ctx->hv, spec->name, hverr);
			ctx->hv->ops->forget(ctx->hv, spec->name, hverr);
		}
		if (!had_cfg)
			unlink(cfg);
		if (!had_seed && ctx->state_dir[0])
			seed_remove(ctx->state_dir, spec->name);
		vps_net_remove(ctx, spec->name, NULL);
		vps_rescue_remove(ctx, spec->name, NULL);
		st->ops->disk_remove(st, spec->name, sterr);
	}
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
	rc = settle_preserved(ctx, name, &info, err);
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
	vps_spec run;
	int rc;

	*status_out = NULL;
	rc = vps_check_name(spec->name, err);
	if (rc)
		return rc;
	if (!ctx->st->ops->template_exists(ctx->st, spec->template_name)) {
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
	                               sterr);
	if (rc) {
		vps_set_err(err, rc == -ENOENT ? -ENOENT : -EIO, "template", "disk of %s: %s",
		            spec->name, sterr);
		return rc;
	}
	run = *spec;
	run.power_running = true;
	return vps_ensure(ctx, &run, status_out, err);
}
