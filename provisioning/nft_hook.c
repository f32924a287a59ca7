/* nft_hook.c — the small nfnetlink batches of a domain's table (net.h): the hooks of its vif
 * and "-emu" tap after a start (nf_batch_hook) and the policer of its guest's traffic
 * (nf_batch_police), each one transaction of a few messages built by hypervisor/vif_nft.c and
 * sent on the agent's netfilter socket (nft_batch.c). */
#include <errno.h>
#include <libmnl/libmnl.h>
#include <stdint.h>
#include <string.h>

#include "../common/util.h"
#include "../hypervisor/vif_nft.h"
#include "net.h"

/* One small transaction on ctx's socket. 0 or -errno (-ENOMEM when it cannot be built). */
static int send_small(net_ctx *ctx,
                      bool (*fill)(struct mnl_nlmsg_batch *, uint32_t *, const void *),
                      const void *arg, char err[NET_ERRLEN])
{
	struct mnl_socket *nl = nf_batch_socket(ctx);
	char buf[8192];
	int rc;

	if (!nl) {
		rc = errno ? -errno : -EIO;
		errfmt(err, NET_ERRLEN, "nftables: netlink socket: %s", strerror(-rc));
		return rc;
	}
	rc = vif_nft_transact(nl, buf, sizeof(buf) / 2, fill, arg);
	return rc == -E2BIG ? -ENOMEM : rc;
}

typedef struct police_arg {
	const char *vifname;
	unsigned long long rate_bytes, burst;
} police_arg;

static bool fill_police(struct mnl_nlmsg_batch *bt, uint32_t *seq, const void *arg)
{
	const police_arg *a = arg;

	return vif_nft_put_police(bt, seq, a->vifname, a->rate_bytes, a->burst);
}

int nf_batch_police(net_ctx *ctx, const char *vifname, unsigned long long rate_bytes,
                    unsigned long long burst, char err[NET_ERRLEN])
{
	police_arg a = {vifname, rate_bytes, burst};
	int rc = send_small(ctx, fill_police, &a, err);

	if (rc)
		errfmt(err, NET_ERRLEN, "nftables: the policer of %s: %s", vifname, strerror(-rc));
	return rc;
}

int nf_batch_hook(net_ctx *ctx, const char *vifname, unsigned hooks, char err[NET_ERRLEN])
{
	vif_nft_hooks a = {vifname, hooks};
	int rc = send_small(ctx, vif_nft_fill_hooks, &a, err);

	if (rc)
		errfmt(err, NET_ERRLEN, "nftables: hooking %s: %s", vifname, strerror(-rc));
	return rc;
}
