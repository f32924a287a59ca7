/* block_seed_main.c — xvps-block-seed add|remove: the seed disk's hotplug script, run by libxl
 * with XENBUS_PATH set (block_seed.h). Exit 0, or 1 with the reason on stderr and in xenstore. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <xenstore.h>

#include "block_seed.h"

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
	char err[BLOCK_SEED_ERRLEN] = "";
	struct xs_handle *h = xs_open(0);
	block_seed_ops ops = {h, xs_rd, xs_wr, stat};
	int rc;

	if (!h) {
		fprintf(stderr, "xvps-block-seed: cannot open xenstore\n");
		return 1;
	}
	rc = block_seed_run(argc > 1 ? argv[1] : NULL, getenv("XENBUS_PATH"), &ops, err);
	xs_close(h);
	if (rc) {
		fprintf(stderr, "xvps-block-seed: %s\n", err);
		return 1;
	}
	return 0;
}
