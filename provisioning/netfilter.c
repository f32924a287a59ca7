/* netfilter.c — per-domain anti-spoofing chains (see net.h). */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../common/util.h"
#include "../common/validate.h"
#include "net.h"

bool net_vifname_of(const char *name, char out[16])
{
	if (!valid_domain_name(name, NULL) || strlen(name) - 5 + strlen(NET_VIF_PREFIX) > 11)
		return false;
	return sfmt(out, 16, "%s%s", NET_VIF_PREFIX, name + 5);
}

bool net_ifbname_of(const char *vifname, char out[16])
{
	size_t pl = strlen(NET_VIF_PREFIX);

	if (!valid_vifname(vifname, NULL) || strncmp(vifname, NET_VIF_PREFIX, pl) != 0 ||
	    vifname[pl] == '\0')
		return false;
	return sfmt(out, 16, "%s%s", NET_IFB_PREFIX, vifname + pl);
}

/* PLACEHOLDER until the lead lands the real chains. */
int nf_base_ensure(net_ctx *ctx, char err[NET_ERRLEN]) { (void)ctx; (void)err; return 0; }
char *nf_render(const vps_spec *spec, char table, bool with_hooks) { (void)spec; (void)table; (void)with_hooks; return NULL; }
int nf_apply(net_ctx *ctx, const vps_spec *spec, char err[NET_ERRLEN]) { (void)ctx; (void)spec; (void)err; return 0; }
int nf_remove(net_ctx *ctx, const char *vifname, char err[NET_ERRLEN]) { (void)ctx; (void)vifname; (void)err; return 0; }
int nf_list(net_ctx *ctx, char ***v, size_t *n, char err[NET_ERRLEN]) { (void)ctx; (void)err; *v = NULL; *n = 0; return 0; }
