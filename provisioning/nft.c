/* nft.c — the nftables seam of net.h: one command buffer through Debian's libnftables, in
 * process (no shell, no child process). A buffer that changes anything is one kernel
 * transaction: it commits whole or not at all. The libnftables context is made on first use
 * (in the network namespace the calling thread is in then) and kept in net_ctx.nft_handle;
 * callers hold net_ctx.nf_lock, libnftables contexts are not thread-safe. */
#include <errno.h>
#include <nftables/libnftables.h>
#include <stdlib.h>
#include <string.h>

#include "../common/util.h"
#include "net.h"

/* The first line of libnftables' error text, without the location lines that follow it. */
static void first_error_line(const char *text, char err[NET_ERRLEN])
{
	size_t n;

	if (!text || !*text) {
		errfmt(err, NET_ERRLEN, "nftables: the transaction failed without a message");
		return;
	}
	n = strcspn(text, "\n");
	errfmt(err, NET_ERRLEN, "nftables: %.*s", (int)(n < 400 ? n : 400), text);
}

static int nft_real(net_ctx *ctx, const char *cmds, bool check_only, char **out,
                    char err[NET_ERRLEN])
{
	struct nft_ctx *n = ctx->nft_handle;
	int rc;

	if (!n) {
		n = nft_ctx_new(NFT_CTX_DEFAULT);
		if (!n) {
			errfmt(err, NET_ERRLEN, "nftables: cannot create a libnftables context");
			return -ENOMEM;
		}
		if (nft_ctx_buffer_output(n) != 0 || nft_ctx_buffer_error(n) != 0) {
			nft_ctx_free(n);
			errfmt(err, NET_ERRLEN, "nftables: cannot buffer libnftables output");
			return -ENOMEM;
		}
		ctx->nft_handle = n;
	}
	nft_ctx_set_dry_run(n, check_only);
	rc = nft_run_cmd_from_buffer(n, cmds);
	const char *o = nft_ctx_get_output_buffer(n);
	const char *e = nft_ctx_get_error_buffer(n);
	if (rc != 0) {
		first_error_line(e, err);
		/* libnftables says only "failed": the text tells a missing object apart. */
		return e && (strstr(e, "No such file or directory") || strstr(e, "does not exist"))
		               ? -ENOENT
		               : -EIO;
	}
	if (out) {
		*out = strdup(o ? o : "");
		if (!*out) {
			errfmt(err, NET_ERRLEN, "out of memory");
			return -ENOMEM;
		}
	}
	return 0;
}

int net_nft(net_ctx *ctx, const char *cmds, bool check_only, char **out, char err[NET_ERRLEN])
{
	if (out)
		*out = NULL;
	if (ctx->nft)
		return ctx->nft(ctx->nft_arg, cmds, check_only, out, err);
	return nft_real(ctx, cmds, check_only, out, err);
}

void net_nft_close(net_ctx *ctx)
{
	if (ctx->nft_handle)
		nft_ctx_free(ctx->nft_handle);
	ctx->nft_handle = NULL;
	nf_batch_close(ctx);
}
