/* vps_rescue.c — rescue mode (issue 16 item 3; vps_internal.h). A rescued VPS boots a copy of
 * the rescue image (built by dom0-image/rescue/build.sh: a small Debian with the seed reader, sshd
 * and disk tools) as xvda, with its own disk attached as xvdb and its seed as xvdc, so the customer
 * reaches it through the console and its SSH keys and repairs its disk. The copy is the
 * storage driver's disk "rescue-<domain>" made from the template "rescue" (lvm: a thin snapshot
 * of xvpstpl-rescue; file: a sparse copy of templates/rescue.img), which is imported on first
 * use from RESCUE_SOURCE in the template import directory. Leaving rescue boots the VPS from
 * its own disk again and removes the copy. The customer's disk is never written here. */
#include "vps.h"
#include "vps_internal.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../common/util.h"

bool vps_rescue_disk_name(const char *name, char *out, size_t outlen)
{
	return sfmt(out, outlen, "%s%s", RESCUE_DISK_PREFIX, name);
}

/* The rescue template, imported from the template import directory when missing. */
static int rescue_template(vps_ctx *ctx, vps_err *err)
{
	char sterr[ST_ERRLEN] = "";
	uint64_t bytes = 0;
	int rc;

	rc = ctx->st->ops->template_exists(ctx->st, RESCUE_TEMPLATE, sterr);
	if (rc > 0)
		return 0;
	if (rc < 0) {
		/* the driver could not tell (`lvs` failed): a host error, not "not installed" */
		vps_set_err(err, -EIO, NULL, "cannot look up the rescue system: %s", sterr);
		return -EIO;
	}
	rc = ctx->st->ops->template_ensure(ctx->st, RESCUE_TEMPLATE, 0, RESCUE_SOURCE, &bytes,
	                                   sterr);
	if (rc)
		vps_set_err(err, rc == -ENOENT ? -ENOENT : -EIO, "rescue",
		            "the rescue system is not installed on this host (%s): %s",
		            RESCUE_SOURCE, sterr);
	return rc;
}

int vps_rescue_prepare(vps_ctx *ctx, const vps_spec *spec, char *path_out, size_t outlen,
                       vps_err *err)
{
	char disk[VPS_PATH_LEN], sterr[ST_ERRLEN] = "";
	int rc;

	path_out[0] = '\0';
	if (!spec->rescue)
		return 0;
	if (!vps_rescue_disk_name(spec->name, disk, sizeof(disk))) {
		vps_set_err(err, -ENAMETOOLONG, NULL, "rescue disk name of %s too long",
		            spec->name);
		return -ENAMETOOLONG;
	}
	rc = rescue_template(ctx, err);
	if (rc)
		return rc;
	rc = ctx->st->ops->disk_ensure(ctx->st, disk, RESCUE_TEMPLATE, RESCUE_DISK_GIB, NULL,
	                               sterr);
	if (rc) {
		vps_set_err(err, -EIO, "rescue", "rescue disk of %s: %s", spec->name, sterr);
		return rc;
	}
	rc = ctx->st->ops->disk_path(ctx->st, disk, path_out, outlen);
	if (rc)
		vps_set_err(err, rc, NULL, "no rescue disk path for %s", spec->name);
	return rc;
}

bool vps_rescue_configured(vps_ctx *ctx, const char *name, const char *cfg_path)
{
	char disk[VPS_PATH_LEN], path[VPS_PATH_LEN], needle[VPS_PATH_LEN + 32];
	char *have = NULL;
	size_t len = 0;
	bool on;

	if (!vps_rescue_disk_name(name, disk, sizeof(disk)) ||
	    ctx->st->ops->disk_path(ctx->st, disk, path, sizeof(path)) != 0 ||
	    !sfmt(needle, sizeof(needle), "vdev=xvda, access=rw, target=%s'", path) ||
	    read_file(cfg_path, 1 << 20, &have, &len) != 0)
		return false;
	on = strstr(have, needle) != NULL;
	free(have);
	return on;
}

int vps_rescue_switch(vps_ctx *ctx, const vps_spec *spec, const char *cfg_path, vps_err *err)
{
	char hverr[HV_ERRLEN] = "";
	hv_domain_info info;
	int rc;

	rc = ctx->hv->ops->info(ctx->hv, spec->name, &info, hverr);
	if (rc) {
		vps_set_err(err, rc, NULL, "domain info of %s: %s", spec->name, hverr);
		return rc;
	}
	if (info.state != HV_RUNNING ||
	    vps_rescue_configured(ctx, spec->name, cfg_path) == spec->rescue)
		return 0;
	/* Running from the other disk set: a clean shutdown (destroyed after the timeout); the
	 * power step creates it again from the new config. */
	vps_net_sweep_one(ctx, spec->name);
	rc = ctx->hv->ops->shutdown(ctx->hv, spec->name, ctx->shutdown_timeout_s, hverr);
	if (rc) {
		vps_set_err(err, -EIO, NULL, "cannot shut down %s to %s rescue: %s", spec->name,
		            spec->rescue ? "enter" : "leave", hverr);
		return rc;
	}
	vps_net_after_stop(ctx, spec->name);
	return 0;
}

int vps_rescue_remove(vps_ctx *ctx, const char *name, vps_err *err)
{
	char disk[VPS_PATH_LEN], sterr[ST_ERRLEN] = "";
	int rc;

	if (!vps_rescue_disk_name(name, disk, sizeof(disk))) {
		vps_set_err(err, -ENAMETOOLONG, NULL, "rescue disk name of %s too long", name);
		return -ENAMETOOLONG;
	}
	rc = ctx->st->ops->disk_remove(ctx->st, disk, sterr);
	if (rc)
		vps_set_err(err, -EIO, NULL, "cannot remove the rescue disk of %s: %s", name,
		            sterr);
	return rc;
}
