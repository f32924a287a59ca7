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

int block_seed_run(const char *action, const char *xenbus_path, const block_seed_ops *ops,
                   char *err)
{
	char dev[32];
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
	params = hotplug_get(&ops->xs, xenbus_path, "params");
	if (!params) {
		errf(err, "%s/params: not in xenstore", xenbus_path);
		return hotplug_fail(&ops->xs, xenbus_path, -ENOENT, err, "xvps-block-seed failed");
	}
	if (!loop_path(params)) {
		errf(err, "params is not a loop device: the seed's is /dev/loopN");
		free(params);
		return hotplug_fail(&ops->xs, xenbus_path, -EINVAL, err, "xvps-block-seed failed");
	}
	if (ops->stat(params, &st) != 0 || !S_ISBLK(st.st_mode)) {
		errf(err, "%s is not a block device", params);
		free(params);
		return hotplug_fail(&ops->xs, xenbus_path, -ENOTBLK, err, "xvps-block-seed failed");
	}
	snprintf(dev, sizeof(dev), "%x:%x", major(st.st_rdev), minor(st.st_rdev));
	if (hotplug_put(&ops->xs, xenbus_path, "physical-device", dev) ||
	    hotplug_put(&ops->xs, xenbus_path, "physical-device-path", params) ||
	    hotplug_put(&ops->xs, xenbus_path, "hotplug-status", "connected")) {
		errf(err, "cannot write to xenstore under %s", xenbus_path);
		free(params);
		return hotplug_fail(&ops->xs, xenbus_path, -EIO, err, "xvps-block-seed failed");
	}
	free(params);
	return 0;
}
