/* hotplug_xs.h — xenstore as xvps's hotplug scripts use it (xvps-block-seed, block_seed.h;
 * xvps-vif, vif_hotplug.h): read and write through function pointers (tests pass a fake; the
 * binaries libxenstore, hotplug_xs_open), the backend's keys by name, and the failure report
 * libxl reads back when a script exits 1. */
#ifndef XVPS_HOTPLUG_XS_H
#define XVPS_HOTPLUG_XS_H

typedef struct hotplug_xs {
	void *ctx;
	char *(*read)(void *ctx, const char *path); /* heap string, or NULL when absent */
	int (*write)(void *ctx, const char *path, const char *value); /* 0 or -1 */
} hotplug_xs;

/* "<base>/<key>" read: heap string or NULL. */
char *hotplug_get(const hotplug_xs *xs, const char *base, const char *key);
/* "<base>/<key>" = value: 0 or -EIO. */
int hotplug_put(const hotplug_xs *xs, const char *base, const char *key, const char *value);
/* Writes `hotplug-error` (err, or fallback when err is empty) and `hotplug-status` = "error"
 * under base, as Xen's scripts' fatal() does; returns rc. */
int hotplug_fail(const hotplug_xs *xs, const char *base, int rc, const char *err,
                 const char *fallback);

/* libxenstore (xs_open): 0, or -1 when xenstore cannot be reached. */
int hotplug_xs_open(hotplug_xs *xs);
void hotplug_xs_close(hotplug_xs *xs);

#endif
