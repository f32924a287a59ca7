/* vps_template.c — the agent's template operations (vps.h): template.ensure imports a template
 * image through the storage driver, template.remove removes it. Split from vps.c (which keeps
 * ensure, status, power and reinstall) to keep each file by concern. */
#include "vps.h"

#include <errno.h>
#include <stdint.h>

#include "../common/validate.h"

int vps_template_ensure(vps_ctx *ctx, const char *tpl, uint64_t size_gib, const char *source,
                        json_object **result_out, vps_err *err)
{
	char sterr[ST_ERRLEN] = "";
	const char *why = NULL;
	uint64_t bytes = 0;
	json_object *o;
	int rc;

	*result_out = NULL;
	if (!tpl || !valid_template_name(tpl, &why)) {
		vps_set_err(err, -EINVAL, "name", "template name %s", why ? why : "is not valid");
		return -EINVAL;
	}
	rc = ctx->st->ops->template_ensure(ctx->st, tpl, size_gib, source, &bytes, sterr);
	if (rc) {
		vps_set_err(err, rc == -ENOENT || rc == -EINVAL || rc == -ERANGE ? rc : -EIO,
		            source ? "source" : "disk_gib", "template %s: %s", tpl, sterr);
		return rc;
	}
	o = json_object_new_object();
	json_object_object_add(o, "name", json_object_new_string(tpl));
	json_object_object_add(o, "size_bytes", json_object_new_int64((int64_t)bytes));
	*result_out = o;
	return 0;
}

int vps_template_remove(vps_ctx *ctx, const char *tpl, vps_err *err)
{
	char sterr[ST_ERRLEN] = "";
	const char *why = NULL;
	int rc;

	if (!tpl || !valid_template_name(tpl, &why)) {
		vps_set_err(err, -EINVAL, "name", "template name %s", why ? why : "is not valid");
		return -EINVAL;
	}
	rc = ctx->st->ops->template_remove(ctx->st, tpl, sterr);
	if (rc)
		vps_set_err(err, -EIO, NULL, "cannot remove template %s: %s", tpl, sterr);
	return rc;
}
