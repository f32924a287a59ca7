/* shaping.c — PLACEHOLDER: the shaping helper replaces this file (see net.h). */
#include <errno.h>

#include "net.h"

int shape_rate_mbit(const vps_spec *spec) { return spec->net_mbit; }
int shape_apply(net_ctx *ctx, const char *vifname, int rate_mbit, char err[NET_ERRLEN]) { (void)ctx; (void)vifname; (void)rate_mbit; (void)err; return 0; }
int shape_remove(net_ctx *ctx, const char *vifname, char err[NET_ERRLEN]) { (void)ctx; (void)vifname; (void)err; return 0; }
int shape_list_ifbs(net_ctx *ctx, char ***v, size_t *n, char err[NET_ERRLEN]) { (void)ctx; (void)err; *v = NULL; *n = 0; return 0; }
