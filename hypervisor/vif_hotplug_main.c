/* vif_hotplug_main.c — xvps-vif online|offline|add|remove [type_if=vif|tap]: a vif's hotplug
 * script, run by libxl with XENBUS_PATH and vif (INTERFACE for a tap) set (vif_hotplug.h).
 * Exit 0, or 1 with the reason on stderr and, for online/add, in xenstore. */
#include <stdio.h>

#include "vif_hotplug.h"

int main(int argc, char **argv)
{
	char err[VIF_HOTPLUG_ERRLEN] = "";
	vif_hotplug_args a;
	hotplug_xs xs;
	int rc;

	if (hotplug_xs_open(&xs) != 0) {
		fprintf(stderr, "xvps-vif: cannot open xenstore\n");
		return 1;
	}
	vif_hotplug_args_from(&a, argc, argv);
	rc = vif_hotplug_run(&a, &xs, err);
	hotplug_xs_close(&xs);
	if (rc) {
		fprintf(stderr, "xvps-vif: %s\n", err);
		return 1;
	}
	return 0;
}
