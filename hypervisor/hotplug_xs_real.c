/* hotplug_xs_real.c — libxenstore behind hotplug_xs (hotplug_xs.h), for the script binaries. */
#include <string.h>
#include <xenstore.h>

#include "hotplug_xs.h"

static char *xs_rd(void *ctx, const char *path)
{
	unsigned int len = 0;

	return xs_read(ctx, XBT_NULL, path, &len);
}

static int xs_wr(void *ctx, const char *path, const char *value)
{
	return xs_write(ctx, XBT_NULL, path, value, (unsigned int)strlen(value)) ? 0 : -1;
}

int hotplug_xs_open(hotplug_xs *xs)
{
	xs->ctx = xs_open(0);
	xs->read = xs_rd;
	xs->write = xs_wr;
	return xs->ctx ? 0 : -1;
}

void hotplug_xs_close(hotplug_xs *xs)
{
	if (xs->ctx)
		xs_close(xs->ctx);
	xs->ctx = NULL;
}
