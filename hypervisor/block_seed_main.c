/* block_seed_main.c — xvps-block-seed add|remove: the seed disk's hotplug script, run by libxl
 * with XENBUS_PATH set (block_seed.h). Exit 0, or 1 with the reason on stderr and in xenstore. */
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>

#include "block_seed.h"

int main(int argc, char **argv)
{
	char err[BLOCK_SEED_ERRLEN] = "";
	block_seed_ops ops = {.stat = stat};
	int rc;

	if (hotplug_xs_open(&ops.xs) != 0) {
		fprintf(stderr, "xvps-block-seed: cannot open xenstore\n");
		return 1;
	}
	rc = block_seed_run(argc > 1 ? argv[1] : NULL, getenv("XENBUS_PATH"), &ops, err);
	hotplug_xs_close(&ops.xs);
	if (rc) {
		fprintf(stderr, "xvps-block-seed: %s\n", err);
		return 1;
	}
	return 0;
}
