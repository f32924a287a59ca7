/* hotplug_xs.c — backend keys and the failure report of the hotplug scripts (hotplug_xs.h). */
#include "hotplug_xs.h"

#include <errno.h>
#include <stdio.h>

char *hotplug_get(const hotplug_xs *xs, const char *base, const char *key)
{
	char path[160];

	snprintf(path, sizeof(path), "%s/%s", base, key);
	return xs->read(xs->ctx, path);
}

int hotplug_put(const hotplug_xs *xs, const char *base, const char *key, const char *value)
{
	char path[160];

	snprintf(path, sizeof(path), "%s/%s", base, key);
	return xs->write(xs->ctx, path, value) == 0 ? 0 : -EIO;
}

int hotplug_fail(const hotplug_xs *xs, const char *base, int rc, const char *err,
                 const char *fallback)
{
	hotplug_put(xs, base, "hotplug-error", err && err[0] ? err : fallback);
	hotplug_put(xs, base, "hotplug-status", "error");
	return rc;
}
