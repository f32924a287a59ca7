/* vif_nft.c — the netdev ingress hook of one vif (vif_nft.h), built with Debian's libnftnl and
 * sent as nfnetlink batches through libmnl: no nft process, no ruleset fetched first. */
#include "vif_nft.h"

#include <errno.h>
#include <libmnl/libmnl.h>
#include <libnftnl/chain.h>
#include <libnftnl/common.h>
#include <libnftnl/expr.h>
#include <libnftnl/rule.h>
#include <linux/netfilter.h>
#include <linux/netfilter/nf_tables.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>

#include "../common/util.h"
#include "../common/validate.h"

#define ATTACH_BATCH 4096

/* "xvif" + 1..10 digits: the names the agent gives (net.h), so that "-emu" fits IFNAMSIZ. */
static bool vif_ok(const char *v)
{
	size_t n;

	if (!v || strncmp(v, "xvif", 4) != 0)
		return false;
	n = strspn(v + 4, "0123456789");
	return n >= 1 && n <= 7 && v[4 + n] == '\0';
}

bool vif_nft_table(const char *vifname, char out[32])
{
	return vif_ok(vifname) && sfmt(out, 32, "%s%s", VIF_NFT_TABLE_PREFIX, vifname);
}

static struct nftnl_chain *hook_chain(const char *table, const char *vif, bool emu)
{
	struct nftnl_chain *c = nftnl_chain_alloc();
	char dev[16];

	if (!c)
		return NULL;
	snprintf(dev, sizeof(dev), "%s%s", vif, emu ? "-emu" : "");
	nftnl_chain_set_u32(c, NFTNL_CHAIN_FAMILY, NFPROTO_NETDEV);
	nftnl_chain_set_str(c, NFTNL_CHAIN_TABLE, table);
	nftnl_chain_set_str(c, NFTNL_CHAIN_NAME, emu ? VIF_NFT_HOOK_EMU : VIF_NFT_HOOK);
	nftnl_chain_set_u32(c, NFTNL_CHAIN_HOOKNUM, NF_NETDEV_INGRESS);
	nftnl_chain_set_s32(c, NFTNL_CHAIN_PRIO, 0);
	nftnl_chain_set_u32(c, NFTNL_CHAIN_POLICY, NF_DROP);
	nftnl_chain_set_str(c, NFTNL_CHAIN_TYPE, "filter");
	nftnl_chain_set_str(c, NFTNL_CHAIN_DEV, dev);
	return c;
}

static struct nftnl_rule *rule_in(const char *table, bool emu)
{
	struct nftnl_rule *r = nftnl_rule_alloc();

	if (!r)
		return NULL;
	nftnl_rule_set_u32(r, NFTNL_RULE_FAMILY, NFPROTO_NETDEV);
	nftnl_rule_set_str(r, NFTNL_RULE_TABLE, table);
	nftnl_rule_set_str(r, NFTNL_RULE_CHAIN, emu ? VIF_NFT_HOOK_EMU : VIF_NFT_HOOK);
	return r;
}

/* `meta mark set meta mark | VIF_NFT_MARK goto filter`, as nft compiles it. */
static struct nftnl_rule *hook_rule(const char *table, bool emu)
{
	struct nftnl_rule *r = rule_in(table, emu);
	struct nftnl_expr *e[4];
	uint32_t mask = ~VIF_NFT_MARK, xor = VIF_NFT_MARK;

	if (!r)
		return NULL;
	e[0] = nftnl_expr_alloc("meta");
	e[1] = nftnl_expr_alloc("bitwise");
	e[2] = nftnl_expr_alloc("meta");
	e[3] = nftnl_expr_alloc("immediate");
	for (int i = 0; i < 4; i++)
		if (e[i])
			nftnl_rule_add_expr(r, e[i]);
	if (!e[0] || !e[1] || !e[2] || !e[3]) {
		nftnl_rule_free(r); /* with the expressions it holds */
		return NULL;
	}
	nftnl_expr_set_u32(e[0], NFTNL_EXPR_META_KEY, NFT_META_MARK);
	nftnl_expr_set_u32(e[0], NFTNL_EXPR_META_DREG, NFT_REG_1);
	nftnl_expr_set_u32(e[1], NFTNL_EXPR_BITWISE_SREG, NFT_REG_1);
	nftnl_expr_set_u32(e[1], NFTNL_EXPR_BITWISE_DREG, NFT_REG_1);
	nftnl_expr_set_u32(e[1], NFTNL_EXPR_BITWISE_LEN, 4);
	nftnl_expr_set(e[1], NFTNL_EXPR_BITWISE_MASK, &mask, 4);
	nftnl_expr_set(e[1], NFTNL_EXPR_BITWISE_XOR, &xor, 4);
	nftnl_expr_set_u32(e[2], NFTNL_EXPR_META_KEY, NFT_META_MARK);
	nftnl_expr_set_u32(e[2], NFTNL_EXPR_META_SREG, NFT_REG_1);
	nftnl_expr_set_u32(e[3], NFTNL_EXPR_IMM_DREG, NFT_REG_VERDICT);
	nftnl_expr_set_u32(e[3], NFTNL_EXPR_IMM_VERDICT, (uint32_t)NFT_GOTO);
	nftnl_expr_set_str(e[3], NFTNL_EXPR_IMM_CHAIN, VIF_NFT_CHAIN);
	return r;
}

/* `jump rate` */
static struct nftnl_rule *jump_rule(const char *table, bool emu)
{
	struct nftnl_rule *r = rule_in(table, emu);
	struct nftnl_expr *e = r ? nftnl_expr_alloc("immediate") : NULL;

	if (!e) {
		if (r)
			nftnl_rule_free(r);
		return NULL;
	}
	nftnl_rule_add_expr(r, e);
	nftnl_expr_set_u32(e, NFTNL_EXPR_IMM_DREG, NFT_REG_VERDICT);
	nftnl_expr_set_u32(e, NFTNL_EXPR_IMM_VERDICT, (uint32_t)NFT_JUMP);
	nftnl_expr_set_str(e, NFTNL_EXPR_IMM_CHAIN, VIF_NFT_RATE);
	return r;
}

/* Frees what the builders below allocated (NULL is skipped). */
static void free_parts(struct nftnl_chain *c, struct nftnl_rule *flush, struct nftnl_rule *r1,
                       struct nftnl_rule *r2)
{
	struct nftnl_rule *rules[] = {flush, r1, r2};

	if (c)
		nftnl_chain_free(c);
	for (int i = 0; i < 3; i++)
		if (rules[i])
			nftnl_rule_free(rules[i]);
}

/* NEWCHAIN c (create or keep), DELRULE flush (all of its rules), NEWRULE of each of the n rules:
 * appended to bt. false when bt is full. */
static bool put_chain(struct mnl_nlmsg_batch *bt, uint32_t *seq, const struct nftnl_chain *c,
                      const struct nftnl_rule *flush, struct nftnl_rule *const *rules, int n)
{
	struct nlmsghdr *h;
	bool ok;

	h = nftnl_nlmsg_build_hdr(mnl_nlmsg_batch_current(bt), NFT_MSG_NEWCHAIN, NFPROTO_NETDEV,
	                          NLM_F_CREATE, (*seq)++);
	nftnl_chain_nlmsg_build_payload(h, c);
	ok = mnl_nlmsg_batch_next(bt);
	if (ok) {
		h = nftnl_nlmsg_build_hdr(mnl_nlmsg_batch_current(bt), NFT_MSG_DELRULE,
		                          NFPROTO_NETDEV, 0, (*seq)++);
		nftnl_rule_nlmsg_build_payload(h, (struct nftnl_rule *)flush);
		ok = mnl_nlmsg_batch_next(bt);
	}
	for (int i = 0; ok && i < n; i++) {
		h = nftnl_nlmsg_build_hdr(mnl_nlmsg_batch_current(bt), NFT_MSG_NEWRULE,
		                          NFPROTO_NETDEV, NLM_F_CREATE | NLM_F_APPEND, (*seq)++);
		nftnl_rule_nlmsg_build_payload(h, rules[i]);
		ok = mnl_nlmsg_batch_next(bt);
	}
	return ok;
}

bool vif_nft_put_hook(struct mnl_nlmsg_batch *bt, uint32_t *seq, const char *vifname, bool emu)
{
	char table[32];
	struct nftnl_chain *c;
	struct nftnl_rule *flush, *jump, *rule;
	bool ok = false;

	if (!vif_nft_table(vifname, table))
		return false;
	c = hook_chain(table, vifname, emu);
	flush = rule_in(table, emu);
	jump = jump_rule(table, emu);
	rule = hook_rule(table, emu);
	if (c && flush && jump && rule) {
		struct nftnl_rule *const two[] = {jump, rule};
		ok = put_chain(bt, seq, c, flush, two, 2);
	}
	free_parts(c, flush, jump, rule);
	return ok;
}

bool vif_nft_put_police(struct mnl_nlmsg_batch *bt, uint32_t *seq, const char *vifname,
                        unsigned long long rate_bytes, unsigned long long burst)
{
	char table[32];
	struct nftnl_chain *c;
	struct nftnl_rule *flush = NULL, *rule = NULL;
	struct nftnl_expr *lim = NULL, *drop = NULL;
	bool ok = false;

	if (!vif_nft_table(vifname, table) || burst > UINT32_MAX)
		return false;
	c = nftnl_chain_alloc();
	flush = nftnl_rule_alloc();
	rule = nftnl_rule_alloc();
	lim = nftnl_expr_alloc("limit");
	drop = nftnl_expr_alloc("immediate");
	if (!c || !flush || !rule || !lim || !drop) {
		if (lim)
			nftnl_expr_free(lim);
		if (drop)
			nftnl_expr_free(drop);
		goto out;
	}
	nftnl_chain_set_u32(c, NFTNL_CHAIN_FAMILY, NFPROTO_NETDEV);
	nftnl_chain_set_str(c, NFTNL_CHAIN_TABLE, table);
	nftnl_chain_set_str(c, NFTNL_CHAIN_NAME, VIF_NFT_RATE);
	for (int i = 0; i < 2; i++) {
		struct nftnl_rule *r = i ? rule : flush;
		nftnl_rule_set_u32(r, NFTNL_RULE_FAMILY, NFPROTO_NETDEV);
		nftnl_rule_set_str(r, NFTNL_RULE_TABLE, table);
		nftnl_rule_set_str(r, NFTNL_RULE_CHAIN, VIF_NFT_RATE);
	}
	nftnl_expr_set_u64(lim, NFTNL_EXPR_LIMIT_RATE, rate_bytes);
	nftnl_expr_set_u64(lim, NFTNL_EXPR_LIMIT_UNIT, 1);
	nftnl_expr_set_u32(lim, NFTNL_EXPR_LIMIT_BURST, (uint32_t)burst);
	nftnl_expr_set_u32(lim, NFTNL_EXPR_LIMIT_TYPE, NFT_LIMIT_PKT_BYTES);
	nftnl_expr_set_u32(lim, NFTNL_EXPR_LIMIT_FLAGS, NFT_LIMIT_F_INV);
	nftnl_rule_add_expr(rule, lim);
	nftnl_expr_set_u32(drop, NFTNL_EXPR_IMM_DREG, NFT_REG_VERDICT);
	nftnl_expr_set_u32(drop, NFTNL_EXPR_IMM_VERDICT, (uint32_t)NF_DROP);
	nftnl_rule_add_expr(rule, drop);
	ok = put_chain(bt, seq, c, flush, &rule, rate_bytes > 0 ? 1 : 0);
out:
	free_parts(c, flush, rule, NULL);
	return ok;
}

void vif_nft_describe_hook(const char *vifname, bool emu, char *out, size_t n)
{
	char table[32];
	struct nftnl_rule *r;

	int k;

	out[0] = '\0';
	if (!vif_nft_table(vifname, table) || !(r = jump_rule(table, emu)))
		return;
	k = nftnl_rule_snprintf(out, n, r, NFTNL_OUTPUT_DEFAULT, 0);
	nftnl_rule_free(r);
	if (k < 0 || (size_t)k + 1 >= n || !(r = hook_rule(table, emu)))
		return;
	out[k++] = '\n';
	nftnl_rule_snprintf(out + k, n - (size_t)k, r, NFTNL_OUTPUT_DEFAULT, 0);
	nftnl_rule_free(r);
}

/* Sends the batch built in bt on nl and reads the kernel's errors into buf without waiting. */
static int send_batch(struct mnl_socket *nl, struct mnl_nlmsg_batch *bt, char *buf, size_t bufsz)
{
	int first = 0;
	ssize_t r;

	if (mnl_socket_sendto(nl, mnl_nlmsg_batch_head(bt), mnl_nlmsg_batch_size(bt)) < 0)
		return -errno;
	/* No message asks for an ACK: the kernel answers only errors, all queued before sendmsg
	 * returns. */
	for (;;) {
		r = recv(mnl_socket_get_fd(nl), buf, bufsz, MSG_DONTWAIT);
		if (r < 0) {
			if (errno == EINTR)
				continue;
			if (errno == EAGAIN || errno == EWOULDBLOCK)
				break;
			return first ? first : -errno;
		}
		if (mnl_cb_run(buf, (size_t)r, 0, mnl_socket_get_portid(nl), NULL, NULL) < 0 &&
		    !first)
			first = errno ? -errno : -EIO;
	}
	return first;
}

bool vif_nft_put_hooks(struct mnl_nlmsg_batch *bt, uint32_t *seq, const char *vifname,
                       unsigned hooks)
{
	bool ok = true;

	for (unsigned h = 0; ok && h < 2; h++)
		if (hooks & (1u << h))
			ok = vif_nft_put_hook(bt, seq, vifname, h == 1);
	return ok;
}

int vif_nft_transact(struct mnl_socket *nl, char *buf, size_t half,
                     bool (*fill)(struct mnl_nlmsg_batch *, uint32_t *, const void *),
                     const void *arg)
{
	struct mnl_nlmsg_batch *bt = mnl_nlmsg_batch_start(buf, half);
	uint32_t seq = (uint32_t)time(NULL);
	bool ok;
	int rc;

	if (!bt)
		return -ENOMEM;
	nftnl_batch_begin(mnl_nlmsg_batch_current(bt), seq++);
	ok = mnl_nlmsg_batch_next(bt) && fill(bt, &seq, arg);
	if (ok) {
		nftnl_batch_end(mnl_nlmsg_batch_current(bt), seq);
		ok = mnl_nlmsg_batch_next(bt);
	}
	/* the batch is sent from the first half of buf; the answers are read into the second */
	rc = ok ? send_batch(nl, bt, buf + half, half) : -E2BIG;
	mnl_nlmsg_batch_stop(bt);
	return rc;
}

bool vif_nft_fill_hooks(struct mnl_nlmsg_batch *bt, uint32_t *seq, const void *arg)
{
	const vif_nft_hooks *a = arg;

	return vif_nft_put_hooks(bt, seq, a->vifname, a->hooks);
}

int vif_nft_attach(const char *vifname, bool emu, char *err)
{
	char buf[2 * ATTACH_BATCH];
	struct mnl_socket *nl;
	vif_nft_hooks a = {vifname, emu ? 2u : 1u};
	int rc;

	if (!vif_ok(vifname)) {
		errfmt(err, VIF_NFT_ERRLEN, "nftables: %s is not a vif name of xvps", vifname);
		return -EINVAL;
	}
	nl = mnl_socket_open(NETLINK_NETFILTER);
	if (!nl || mnl_socket_bind(nl, 0, MNL_SOCKET_AUTOPID) < 0) {
		rc = -errno;
		errfmt(err, VIF_NFT_ERRLEN, "nftables: netlink socket: %s", strerror(-rc));
		if (nl)
			mnl_socket_close(nl);
		return rc;
	}
	rc = vif_nft_transact(nl, buf, ATTACH_BATCH, vif_nft_fill_hooks, &a);
	if (rc == -E2BIG || rc == -ENOMEM) {
		rc = -ENOMEM;
		errfmt(err, VIF_NFT_ERRLEN, "nftables: cannot build the hook of %s", vifname);
	} else if (rc) {
		errfmt(err, VIF_NFT_ERRLEN, "nftables: hooking %s%s: %s", vifname,
		       emu ? "-emu" : "", strerror(-rc));
	}
	mnl_socket_close(nl);
	return rc;
}
