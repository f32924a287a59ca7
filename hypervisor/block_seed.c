/* block_seed.c — the seed disk's hotplug script (block_seed.h). */
#include "block_seed.h"

#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/sysmacros.h>

#include "../common/util.h"

#define errf(err, ...) errfmt(err, BLOCK_SEED_ERRLEN, __VA_ARGS__)

/* "backend/vbd/<digits>/<digits>": nothing else is read or written. */
static bool valid_backend(const char *p)
{
	const char *s;
	int parts = 0;

	if (!p || strncmp(p, "backend/vbd/", 12) != 0)
		return false;
	for (s = p + 12; *s; s++) {
		const char *start = s;

		while (*s >= '0' && *s <= '9')
			s++;
		if (s == start || s - start > 10)
			return false;
		parts++;
		if (*s != '/')
			break;
	}
	return parts == 2 && *s == '\0';
}

/* "/dev/loop<digits>" */
static bool loop_path(const char *p)
{
	const char *s;

	if (!p || strncmp(p, "/dev/loop", 9) != 0 || !p[9] || strlen(p) > 20)
		return false;
	for (s = p + 9; *s; s++)
		if (*s < '0' || *s > '9')
			return false;
	return true;
}

static int put(const block_seed_ops *ops, const char *base, const char *key, const char *value)
{
	char path[128];

	snprintf(path, sizeof(path), "%s/%s", base, key);
	return ops->write(ops->ctx, path, value) == 0 ? 0 : -EIO;
}

static int fail(const block_seed_ops *ops, const char *base, int rc, char *err)
{
	put(ops, base, "hotplug-error", err && err[0] ? err : "xvps-block-seed failed");
	put(ops, base, "hotplug-status", "error");
	return rc;
}

int block_seed_run(const char *action, const char *xenbus_path, const block_seed_ops *ops,
                   char *err)
{
	char path[128], dev[32];
	struct stat st;
	char *params;

	if (!valid_backend(xenbus_path)) {
		errf(err, "XENBUS_PATH is not a vbd backend path");
		return -EINVAL;
	}
	if (action && (strcmp(action, "remove") == 0 || strcmp(action, "offline") == 0))
		return 0; /* the agent unbinds the loop device with the seed */
	if (!action || (strcmp(action, "add") != 0 && strcmp(action, "online") != 0)) {
		errf(err, "usage: xvps-block-seed add|remove (XENBUS_PATH set by libxl)");
		return -EINVAL;
	}
	snprintf(path, sizeof(path), "%s/params", xenbus_path);
	params = ops->read(ops->ctx, path);
	if (!params) {
		errf(err, "%s: not in xenstore", path);
		return fail(ops, xenbus_path, -ENOENT, err);
	}
	if (!loop_path(params)) {
		errf(err, "params is not a loop device: the seed's is /dev/loopN");
		free(params);
		return fail(ops, xenbus_path, -EINVAL, err);
	}
	if (ops->stat(params, &st) != 0 || !S_ISBLK(st.st_mode)) {
		errf(err, "%s is not a block device", params);
		free(params);
		return fail(ops, xenbus_path, -ENOTBLK, err);
	}
	snprintf(dev, sizeof(dev), "%x:%x", major(st.st_rdev), minor(st.st_rdev));
	if (put(ops, xenbus_path, "physical-device", dev) ||
	    put(ops, xenbus_path, "physical-device-path", params) ||
	    put(ops, xenbus_path, "hotplug-status", "connected")) {
		errf(err, "cannot write to xenstore under %s", xenbus_path);
		free(params);
		return fail(ops, xenbus_path, -EIO, err);
	}
	free(params);
	return 0;
}
