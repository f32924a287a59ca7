/* vps_reconcile.c — removing a VPS and reconciling the host with the desired state (vps.h):
 * vps_remove takes down the domain, its network, config, seed and disk, absent parts being
 * success; vps_reconcile stops and forgets unknown domains and quarantines unknown disks. It
 * never deletes a disk the desired state does not know, and never acts on a name xvps did not
 * make. */
#include "power.h"
#include "vps.h"
#include "vps_internal.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "../common/util.h"
#include "../common/validate.h"
#include "seed.h"

int vps_remove(vps_ctx *ctx, const char *name, vps_err *err)
{
	char hverr[HV_ERRLEN] = "", sterr[ST_ERRLEN] = "", cfg[VPS_PATH_LEN];
	int rc;

	rc = vps_check_name(name, err);
	if (rc)
		return rc;
	rc = ctx->hv->ops->destroy(ctx->hv, name, hverr);
	if (rc) {
		vps_set_err(err, -EIO, NULL, "cannot destroy %s: %s", name, hverr);
		return rc;
	}
	rc = ctx->hv->ops->forget(ctx->hv, name, hverr);
	if (rc) {
		vps_set_err(err, -EIO, NULL, "cannot forget %s: %s", name, hverr);
		return rc;
	}
	rc = vps_net_remove(ctx, name, err);
	if (rc)
		return rc;
	power_forget(ctx->power, name); /* its CPU base and crash setting */
	if (!vps_config_path(ctx, name, cfg, sizeof(cfg))) {
		vps_set_err(err, -ENAMETOOLONG, NULL, "config path of %s too long", name);
		return -ENAMETOOLONG;
	}
	if (unlink(cfg) != 0 && errno != ENOENT) {
		rc = -errno;
		vps_set_err(err, rc, NULL, "cannot remove %s: %s", cfg, strerror(-rc));
		return rc;
	}
	if (ctx->state_dir[0] && (rc = seed_remove(ctx->state_dir, name)) != 0) {
		vps_set_err(err, rc, NULL, "cannot remove the seed of %s: %s", name, strerror(-rc));
		return rc;
	}
	rc = ctx->st->ops->disk_remove(ctx->st, name, sterr);
	if (rc) {
		vps_set_err(err, -EIO, NULL, "cannot remove the disk of %s: %s", name, sterr);
		return rc;
	}
	return vps_rescue_remove(ctx, name, err);
}

static bool is_known(const char *name, const char *const *known, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (known[i] && strcmp(known[i], name) == 0)
			return true;
	return false;
}

void vps_report_orphan(json_object *arr, const char *kind, const char *name, const char *action,
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

static void free_names(char **names, size_t n)
{
	for (size_t i = 0; i < n; i++)
		free(names[i]);
	free(names);
}

int vps_reconcile(vps_ctx *ctx, const char *const *known, size_t n_known,
                  const char *const *templates, size_t n_templates, json_object **orphans_out,
                  vps_err *err)
{
	char hverr[HV_ERRLEN] = "", sterr[ST_ERRLEN] = "";
	char **names = NULL;
	size_t n = 0;
	json_object *arr;
	int rc;

	(void)templates;
	(void)n_templates;
	*orphans_out = NULL;
	arr = json_object_new_array();

	/* Domains */
	rc = ctx->hv->ops->list(ctx->hv, "xvps-", &names, &n, hverr);
	if (rc) {
		vps_set_err(err, -EIO, NULL, "cannot list domains: %s", hverr);
		goto out;
	}
	for (size_t i = 0; i < n; i++) {
		if (is_known(names[i], known, n_known))
			continue;
		hverr[0] = '\0';
		if (ctx->hv->ops->destroy(ctx->hv, names[i], hverr) == 0 &&
		    ctx->hv->ops->forget(ctx->hv, names[i], hverr) == 0)
			vps_report_orphan(arr, "domain", names[i], "destroyed", NULL);
		else
			vps_report_orphan(arr, "domain", names[i], "destroyed", hverr);
	}
	free_names(names, n);
	names = NULL;
	n = 0;

	/* Configs */
	rc = list_dir_names(ctx->config_dir, "xvps-", ".cfg", &names, &n);
	if (rc) {
		vps_set_err(err, rc, NULL, "cannot list %s: %s", ctx->config_dir, strerror(-rc));
		goto out;
	}
	for (size_t i = 0; i < n; i++) {
		char path[VPS_PATH_LEN];

		if (is_known(names[i], known, n_known) ||
		    !vps_config_path(ctx, names[i], path, sizeof(path)))
			continue;
		if (unlink(path) == 0 || errno == ENOENT)
			vps_report_orphan(arr, "config", names[i], "removed", NULL);
		else
			vps_report_orphan(arr, "config", names[i], "removed", strerror(errno));
	}
	free_names(names, n);
	names = NULL;
	n = 0;

	/* Seeds: derived from the spec, removed like configs. */
	if (ctx->state_dir[0]) {
		char dir[VPS_PATH_LEN];

		if (!sfmt(dir, sizeof(dir), "%s/seed", ctx->state_dir))
			dir[0] = '\0';
		rc = dir[0] ? list_dir_names(dir, "xvps-", ".img", &names, &n) : -ENAMETOOLONG;
		if (rc) {
			vps_set_err(err, rc, NULL, "cannot list the seeds: %s", strerror(-rc));
			goto out;
		}
		for (size_t i = 0; i < n; i++) {
			const char *why = NULL;
			int r;

			if (!valid_domain_name(names[i], &why) ||
			    is_known(names[i], known, n_known))
				continue;
			r = seed_remove(ctx->state_dir, names[i]);
			vps_report_orphan(arr, "seed", names[i], "removed",
			                  r ? strerror(-r) : NULL);
		}
		free_names(names, n);
		names = NULL;
		n = 0;
	}

	/* Disks: quarantined, never deleted. */
	rc = ctx->st->ops->list(ctx->st, "xvps-", &names, &n, sterr);
	if (rc) {
		vps_set_err(err, -EIO, NULL, "cannot list disks: %s", sterr);
		goto out;
	}
	for (size_t i = 0; i < n; i++) {
		if (is_known(names[i], known, n_known))
			continue;
		sterr[0] = '\0';
		if (ctx->st->ops->disk_quarantine(ctx->st, names[i], sterr) == 0)
			vps_report_orphan(arr, "disk", names[i], "quarantined", NULL);
		else
			vps_report_orphan(arr, "disk", names[i], "quarantined", sterr);
	}
	free_names(names, n);
	names = NULL;
	n = 0;
	/* Rescue copies (vps_rescue.c) of unknown domains: scratch disks made from the rescue
	 * template, removed like configs. */
	rc = ctx->st->ops->list(ctx->st, RESCUE_DISK_PREFIX "xvps-", &names, &n, sterr);
	if (rc) {
		vps_set_err(err, -EIO, NULL, "cannot list rescue disks: %s", sterr);
		goto out;
	}
	for (size_t i = 0; i < n; i++) {
		const char *dom = names[i] + strlen(RESCUE_DISK_PREFIX);
		vps_err re = {0};

		if (is_known(dom, known, n_known))
			continue;
		vps_report_orphan(arr, "rescue_disk", names[i], "removed",
		                  vps_rescue_remove(ctx, dom, &re) ? re.msg : NULL);
	}
	free_names(names, n);
	/* Chains and ifb devices */
	rc = vps_net_reconcile(ctx, known, n_known, arr, err);
out:
	if (rc)
		json_object_put(arr);
	else
		*orphans_out = arr;
	return rc;
}
