/* vps_ensure.c — vps.ensure of xvps-agent (vps.h): converges the host to a VPS_SPEC step by step
 * (disk, rescue copy, seed, config, firewall, power, live sizes, scheduler, shaping), each step
 * idempotent, and takes back everything a failed first creation made. Each sub-step's duration
 * goes into the answer's "timings" (issue 17 item 6). Under emulation every command costs
 * seconds, so nothing is run twice: the storage driver's one look at the disk says whether it
 * existed and its size, a domain made from the config just written is not given the scheduler
 * shares that config already holds (they are read back once, and that read is the status), and
 * a disk this call made has no rescue copy to remove. */
#include "power.h"
#include "vps.h"
#include "vps_internal.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "../common/util.h"
#include "seed.h"
#include "seed_loop.h"
#include "seed_nocloud.h"

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

/* Writes the xl.cfg for spec when its rendered content differs from the file on disk. */
static int ensure_config(vps_ctx *ctx, const vps_spec *spec, const char *cfg_path,
                         const char *rescue_path, vps_err *err)
{
	char disk_path[VPS_PATH_LEN], seed[VPS_PATH_LEN];
	const char *seed_script = NULL;
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
	if (ctx->state_dir[0] && ctx->seed_block) {
		char dev[SEED_LOOP_DEVLEN], lerr[SEED_LOOP_ERRLEN] = "";

		/* The file stays the fallback: Xen's block script binds a loop itself then. */
		if (seed_loop_attach(seed, dev, sizeof(dev), lerr) == 0) {
			snprintf(seed, sizeof(seed), "%s", dev);
			seed_script = ctx->seed_script[0] ? ctx->seed_script : NULL;
		} else {
			log_warn("seed of %s: %s; the config names the file", spec->name, lerr);
		}
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
	        .seed_script = seed_script,
	        .vif_script = ctx->vif_script[0] ? ctx->vif_script : NULL,
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

/* Converges power, live sizes (vps_resize.c) and scheduler. fresh: this call made the disk and
 * the config (no domain of that name can exist: xl create refuses a name in use). *created_out
 * tells whether this call created the domain; *pending_out gets the sizes that wait for the next
 * boot (or NULL); *info_out, for a running spec, the domain as last read (its shares checked). */
static int ensure_power(vps_ctx *ctx, const vps_spec *spec, const char *cfg_path, bool fresh,
                        step_timer *tm, bool *created_out, json_object **pending_out,
                        hv_domain_info *info_out, vps_err *err)
{
	hv_driver *hv = ctx->hv;
	char hverr[HV_ERRLEN] = "";
	hv_domain_info info;
	int rc, cap;

	*created_out = false;
	*pending_out = NULL;
	memset(&info, 0, sizeof(info));
	info.state = HV_ABSENT;
	info.domid = -1;
	if (!fresh) {
		rc = hv->ops->info(hv, spec->name, &info, hverr);
		if (rc) {
			vps_set_err(err, rc, NULL, "domain info of %s: %s", spec->name, hverr);
			return rc;
		}
		rc = vps_settle_preserved(ctx, spec->name, &info, err);
		if (rc)
			return rc;
	}
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
	rc = vps_resize_live(ctx, spec, *created_out, &info, &cap, pending_out, err);
	if (rc)
		return rc;
	step_mark(tm, "resize");
	/* A domain made from the config just written got its weight and cap from it (xlcfg.c
	 * renders both; libxl applies them at the build): the read-back below checks that. A
	 * running one is given new shares only when the info read above shows others. */
	if (!*created_out && (info.cpu_weight != spec->cpu_weight || info.cpu_cap_pct != cap)) {
		rc = hv->ops->set_sched(hv, spec->name, spec->cpu_weight, cap, hverr);
		if (rc) {
			vps_set_err(err, -EIO, "cpu_weight",
			            "cannot set scheduler shares of %s: %s", spec->name, hverr);
			return rc;
		}
	}
	if (*created_out && hv->ops->created_info) {
		rc = hv->ops->created_info(hv, spec->name, &info, hverr);
		if (rc == 0 && info.state != HV_RUNNING) {
			hverr[0] = '\0';
			rc = -ESRCH;
		}
		if (rc) {
			vps_set_err(err, rc, NULL, "domain info of %s: %s", spec->name,
			            hverr[0] ? hverr : "gone right after it was created");
			return rc;
		}
	} else if (*created_out || info.cpu_weight != spec->cpu_weight || info.cpu_cap_pct != cap) {
		rc = hv->ops->info(hv, spec->name, &info, hverr);
		if (rc) {
			vps_set_err(err, rc, NULL, "domain info of %s: %s", spec->name, hverr);
			return rc;
		}
	}
	if (info.cpu_weight != spec->cpu_weight || info.cpu_cap_pct != cap) {
		vps_set_err(err, -EIO, "cpu_weight",
		            "scheduler of %s reads back weight %d cap %d, wanted %d and %d",
		            spec->name, info.cpu_weight, info.cpu_cap_pct, spec->cpu_weight, cap);
		return -EIO;
	}
	step_mark(tm, "sched");
	*info_out = info;
	return 0;
}

int vps_ensure(vps_ctx *ctx, const vps_spec *spec, json_object **status_out, vps_err *err)
{
	step_timer tm = {json_object_new_array(), now_mono_ns()};
	st_driver *st = ctx->st;
	char sterr[ST_ERRLEN] = "", hverr[HV_ERRLEN] = "", cfg[VPS_PATH_LEN];
	char rescue[VPS_PATH_LEN];
	st_disk_outcome disk;
	hv_domain_info info;
	bool had_disk = true, had_cfg, had_seed = false, created = false;
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
	had_cfg = vps_file_exists(cfg);
	if (ctx->state_dir[0]) {
		char seed[VPS_PATH_LEN];
		had_seed = seed_path(ctx->state_dir, spec->name, seed, sizeof(seed)) == 0 &&
		           vps_file_exists(seed);
	}

	/* (1) disk */
	rc = st->ops->disk_ensure(st, spec->name, spec->template_name, spec->disk_gib, &disk,
	                          sterr);
	if (rc && disk.tpl_missing && !disk.existed) {
		vps_set_err(err, -ENOENT, "template", "template %s does not exist",
		            spec->template_name);
		json_object_put(tm.arr);
		return -ENOENT;
	}
	if (rc) {
		/* A host error (the driver could not look, e.g. `lvs` failed, or could not make or
		 * grow the disk), never "template missing"; the size is to blame only when the
		 * pool has no room for it. A failure before the driver could tell leaves had_disk
		 * true: nothing to take back. */
		had_disk = disk.existed || !disk.looked;
		vps_set_err(err, -EIO, rc == -ENOSPC || rc == -ERANGE ? "disk_gib" : NULL,
		            "disk of %s: %s", spec->name, sterr);
		goto fail;
	}
	had_disk = disk.existed;
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
	/* (3) firewall chains, before the domain can send its first packet (and, for a new
	 * domain, the shaping's ifb device: one command less once the guest competes for the CPU)
	 */
	rc = vps_net_before_start(ctx, spec, err);
	if (!rc && spec->power_running && !had_disk && !had_cfg)
		rc = vps_net_prepare_start(ctx, spec, err); /* a new domain's ifb (taken back on
		                                               failure by vps_net_remove) */
	if (rc)
		goto fail;
	step_mark(&tm, "netfilter");
	/* (4) power, (5) scheduler, (6) shaping once the vif exists */
	if (!spec->power_running)
		vps_net_sweep_one(ctx, spec->name);
	rc = ensure_power(ctx, spec, cfg, !had_disk && !had_cfg, &tm, &created, &pending, &info,
	                  err);
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
	/* A disk this call made has no rescue copy beside it (rescue is asked of an existing VPS).
	 */
	if (!spec->rescue && had_disk && (rc = vps_rescue_remove(ctx, spec->name, err)) != 0)
		goto fail;
	if (spec->power_running) {
		*status_out = vps_status_of(ctx, spec->name, &info, true, disk.bytes);
	} else {
		rc = vps_status(ctx, spec->name, status_out, err);
		if (rc)
			goto fail;
	}
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
