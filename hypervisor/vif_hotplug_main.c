/* vif_hotplug_main.c — xvps-vif online|offline|add|remove [type_if=vif|tap]: a vif's hotplug
 * script, run by libxl with XENBUS_PATH and vif (INTERFACE for a tap) set (vif_hotplug.h).
 * Exit 0, or 1 with the reason on stderr and, for online/add, in xenstore. */
#include <stdio.h>
#include <string.h>
#include <xenstore.h>

#include "vif_hotplug.h"

static char *xs_rd(void *ctx, const char *path)
{
	unsigned int len = 0;

	return xs_read(ctx, XBT_NULL, path, &len);
}

static int xs_wr(void *ctx, const char *path, const char *value)
{
	return xs_write(ctx, XBT_NULL, path, value, (unsigned int)strlen(value)) ? 0 : -1;
}

int main(int argc, char **argv)
{
	char err[VIF_HOTPLUG_ERRLEN] = "";
	struct xs_handle *h = xs_open(0);
	vif_hotplug_ops ops = {h, xs_rd, xs_wr};
	vif_hotplug_args a;
	int rc;

	if (!h) {
		fprintf(stderr, "xvps-vif: cannot open xenstore\n");
		return 1;
	}
	vif_hotplug_args_from(&a, argc, argv);
	rc = vif_hotplug_run(&a, &ops, err);
	xs_close(h);
	if (rc) {
		fprintf(stderr, "xvps-vif: %s\n", err);
		return 1;
	}
	return 0;
}
