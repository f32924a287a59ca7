/* nft_batch.c — one domain's table (nf_render's transaction, rule for rule) built as netlink
 * messages with libnftnl and sent as one nfnetlink batch (issue 17 item 3).
 *
 * libnftables, given nf_render's text, parses it and first fetches a cache of the ruleset (every
 * table and chain of the host: with 1,000 VPS, 1,000 tables) on each call, because the
 * generation changed with the previous commit. Here nothing is read back: the batch is begin,
 * NEWTABLE (create or keep), NEWCHAIN filter (create or keep), DELRULE of it (flush), one
 * NEWRULE per rule, then the hook of each of the vif and its "-emu" tap that exist
 * (vif_nft_put_hook), end: one kernel transaction on one table that commits whole or not at
 * all. The expressions are the ones nft compiles from nf_render's text
 * (tests/golden/rules/xvif12.netlink is `nft --debug=netlink` of tests/golden/rules/xvif12.nft;
 * the unit test compares nf_batch_describe with it), so `nft list table netdev xvps-xvif12`
 * reads the same. */
#include <arpa/inet.h>
#include <errno.h>
#include <libmnl/libmnl.h>
#include <libnftnl/chain.h>
#include <libnftnl/common.h>
#include <libnftnl/expr.h>
#include <libnftnl/rule.h>
#include <libnftnl/table.h>
#include <linux/netfilter.h>
#include <linux/netfilter/nf_tables.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "../common/util.h"
#include "../common/validate.h"
#include "../hypervisor/vif_nft.h"
#include "net.h"

#define FAMILY      NFPROTO_NETDEV
#define BATCH_LIMIT (64 * 1024) /* larger (hundreds of addresses): the text path */

/* ---- one rule ------------------------------------------------------------------------------ */

typedef struct rb {
	struct nftnl_rule *r;
	bool bad;
} rb;

/* A new expression of the rule (the rule owns it), or NULL with b->bad set. */
static struct nftnl_expr *ex(rb *b, const char *name)
{
	struct nftnl_expr *e = nftnl_expr_alloc(name);

	if (!e)
		b->bad = true;
	else
		nftnl_rule_add_expr(b->r, e);
	return e;
}

static void e_payload(rb *b, uint32_t base, uint32_t off, uint32_t len)
{
	struct nftnl_expr *e = ex(b, "payload");

	if (!e)
		return;
	nftnl_expr_set_u32(e, NFTNL_EXPR_PAYLOAD_DREG, NFT_REG_1);
	nftnl_expr_set_u32(e, NFTNL_EXPR_PAYLOAD_BASE, base);
	nftnl_expr_set_u32(e, NFTNL_EXPR_PAYLOAD_OFFSET, off);
	nftnl_expr_set_u32(e, NFTNL_EXPR_PAYLOAD_LEN, len);
}

static void e_cmp(rb *b, uint32_t op, const void *data, uint32_t len)
{
	struct nftnl_expr *e = ex(b, "cmp");

	if (!e)
		return;
	nftnl_expr_set_u32(e, NFTNL_EXPR_CMP_SREG, NFT_REG_1);
	nftnl_expr_set_u32(e, NFTNL_EXPR_CMP_OP, op);
	nftnl_expr_set(e, NFTNL_EXPR_CMP_DATA, data, len);
}

static void e_meta(rb *b, uint32_t key)
{
	struct nftnl_expr *e = ex(b, "meta");

	if (!e)
		return;
	nftnl_expr_set_u32(e, NFTNL_EXPR_META_KEY, key);
	nftnl_expr_set_u32(e, NFTNL_EXPR_META_DREG, NFT_REG_1);
}

/* reg 1 = (reg 1 & mask) ^ 0, len bytes. */
static void e_mask(rb *b, const uint8_t *mask, uint32_t len)
{
	static const uint8_t zero[16];
	struct nftnl_expr *e = ex(b, "bitwise");

	if (!e)
		return;
	nftnl_expr_set_u32(e, NFTNL_EXPR_BITWISE_SREG, NFT_REG_1);
	nftnl_expr_set_u32(e, NFTNL_EXPR_BITWISE_DREG, NFT_REG_1);
	nftnl_expr_set_u32(e, NFTNL_EXPR_BITWISE_LEN, len);
	nftnl_expr_set(e, NFTNL_EXPR_BITWISE_MASK, mask, len);
	nftnl_expr_set(e, NFTNL_EXPR_BITWISE_XOR, zero, len);
}

static void e_verdict(rb *b, int verdict)
{
	struct nftnl_expr *e = ex(b, "immediate");

	if (!e)
		return;
	nftnl_expr_set_u32(e, NFTNL_EXPR_IMM_DREG, NFT_REG_VERDICT);
	nftnl_expr_set_u32(e, NFTNL_EXPR_IMM_VERDICT, (uint32_t)verdict);
}

static void e_reject_tcp_reset(rb *b)
{
	struct nftnl_expr *e = ex(b, "reject");

	if (!e)
		return;
	nftnl_expr_set_u32(e, NFTNL_EXPR_REJECT_TYPE, NFT_REJECT_TCP_RST);
	nftnl_expr_set_u8(e, NFTNL_EXPR_REJECT_CODE, 0);
}

/* The dependencies nft adds in the netdev family, in its order. */
static void meta_protocol(rb *b, uint16_t type)
{
	uint16_t be = htons(type);

	e_meta(b, NFT_META_PROTOCOL);
	e_cmp(b, NFT_CMP_EQ, &be, 2);
}

static void l4proto(rb *b, uint8_t proto)
{
	e_meta(b, NFT_META_L4PROTO);
	e_cmp(b, NFT_CMP_EQ, &proto, 1);
}

/* "icmpv6 type T" as nft compiles it in the netdev family. */
static void icmpv6_type(rb *b, uint8_t type)
{
	meta_protocol(b, 0x86dd);
	l4proto(b, 58);
	e_payload(b, NFT_PAYLOAD_TRANSPORT_HEADER, 0, 1);
	e_cmp(b, NFT_CMP_EQ, &type, 1);
}

/* "udp sport S udp dport D" */
static void udp_ports(rb *b, uint16_t sport, uint16_t dport)
{
	uint16_t ports[2] = {htons(sport), htons(dport)};

	l4proto(b, 17);
	e_payload(b, NFT_PAYLOAD_TRANSPORT_HEADER, 0, 4);
	e_cmp(b, NFT_CMP_EQ, ports, 4);
}

/* The first len bits of a (base offset off, 16-byte field) compared as nft does for a prefix:
 * whole bytes loaded alone; otherwise all of field bytes (ip6 saddr: 16, @th raw: the bytes
 * that hold len bits) masked. */
static void prefix_match(rb *b, uint32_t base, uint32_t off, const uint8_t a[16], int len,
                         uint32_t field)
{
	uint8_t v[16] = {0}, mask[16] = {0};
	uint32_t n = (uint32_t)(len + 7) / 8;

	for (int i = 0; i < len; i++)
		mask[i / 8] |= (uint8_t)(0x80 >> (i % 8));
	for (int i = 0; i < 16; i++)
		v[i] = a[i] & mask[i];
	if (len % 8 == 0) {
		e_payload(b, base, off, n);
		e_cmp(b, NFT_CMP_EQ, v, n);
		return;
	}
	if (field < n)
		field = n;
	e_payload(b, base, off, field);
	e_mask(b, mask, field);
	e_cmp(b, NFT_CMP_EQ, v, field);
}

/* ---- the rules of one domain chain (nf_render's order and meaning) ------------------------ */

typedef struct rules {
	struct nftnl_rule **r;
	size_t n, cap;
	bool bad;
} rules;

static rb rule_new(const char *table)
{
	rb b = {nftnl_rule_alloc(), false};

	if (!b.r) {
		b.bad = true;
		return b;
	}
	nftnl_rule_set_u32(b.r, NFTNL_RULE_FAMILY, FAMILY);
	nftnl_rule_set_str(b.r, NFTNL_RULE_TABLE, table);
	nftnl_rule_set_str(b.r, NFTNL_RULE_CHAIN, VIF_NFT_CHAIN);
	return b;
}

static void rule_end(rules *rs, rb *b)
{
	if (b->bad || !b->r || rs->bad) {
		if (b->r)
			nftnl_rule_free(b->r);
		rs->bad = true;
		return;
	}
	if (rs->n == rs->cap) {
		size_t cap = rs->cap ? rs->cap * 2 : 32;
		struct nftnl_rule **nr = realloc(rs->r, cap * sizeof(*nr));
		if (!nr) {
			nftnl_rule_free(b->r);
			rs->bad = true;
			return;
		}
		rs->r = nr;
		rs->cap = cap;
	}
	rs->r[rs->n++] = b->r;
}

static void rules_free(rules *rs)
{
	for (size_t i = 0; i < rs->n; i++)
		nftnl_rule_free(rs->r[i]);
	free(rs->r);
	*rs = (rules){0};
}

static bool parse_mac(const char *s, uint8_t out[6])
{
	unsigned int m[6];

	if (sscanf(s, "%2x:%2x:%2x:%2x:%2x:%2x", &m[0], &m[1], &m[2], &m[3], &m[4], &m[5]) != 6)
		return false;
	for (int i = 0; i < 6; i++)
		out[i] = (uint8_t)m[i];
	return true;
}

#define RULE(...)                                                                                  \
	do {                                                                                       \
		rb b = rule_new(tbl);                                                              \
		if (!b.bad) {                                                                      \
			__VA_ARGS__;                                                               \
		}                                                                                  \
		rule_end(rs, &b);                                                                  \
	} while (0)

enum { NA = 136, NS = 135, RA = 134, REDIRECT = 137, MLD2_REPORT = 143 };

/* The NA target checks and the IPv6 source rules (the second half of render_rules). */
static void build_ipv6(rules *rs, const vps_spec *spec, const char *tbl)
{
	static const uint8_t any[16], ll[16] = {0xfe, 0x80};
	uint8_t a[16];
	int len = 0;

	for (size_t i = 0; i < spec->n_ipv6; i++) {
		if (!parse_ipv6(spec->ipv6[i], a)) {
			rs->bad = true;
			return;
		}
		RULE(icmpv6_type(&b, NA);
		     prefix_match(&b, NFT_PAYLOAD_TRANSPORT_HEADER, 8, a, 128, 16);
		     e_verdict(&b, NF_ACCEPT));
	}
	for (size_t i = 0; i < spec->n_ipv6_routed; i++) {
		if (!parse_cidr(6, spec->ipv6_routed[i], a, &len, NULL)) {
			rs->bad = true;
			return;
		}
		RULE(icmpv6_type(&b, NA);
		     prefix_match(&b, NFT_PAYLOAD_TRANSPORT_HEADER, 8, a, len, 0);
		     e_verdict(&b, NF_ACCEPT));
	}
	RULE(icmpv6_type(&b, NA); prefix_match(&b, NFT_PAYLOAD_TRANSPORT_HEADER, 8, ll, 64, 0);
	     e_verdict(&b, NF_ACCEPT));
	RULE(icmpv6_type(&b, NA); e_verdict(&b, NF_DROP));
	static const uint8_t from_any[] = {NS, MLD2_REPORT};
	for (size_t i = 0; i < sizeof(from_any); i++)
		RULE(meta_protocol(&b, 0x86dd); e_payload(&b, NFT_PAYLOAD_NETWORK_HEADER, 8, 16);
		     e_cmp(&b, NFT_CMP_EQ, any, 16); l4proto(&b, 58);
		     e_payload(&b, NFT_PAYLOAD_TRANSPORT_HEADER, 0, 1);
		     e_cmp(&b, NFT_CMP_EQ, &from_any[i], 1); e_verdict(&b, NF_ACCEPT));
	RULE(meta_protocol(&b, 0x86dd); prefix_match(&b, NFT_PAYLOAD_NETWORK_HEADER, 8, ll, 64, 16);
	     e_verdict(&b, NF_ACCEPT));
	for (size_t i = 0; i < spec->n_ipv6; i++) {
		parse_ipv6(spec->ipv6[i], a);
		RULE(meta_protocol(&b, 0x86dd);
		     prefix_match(&b, NFT_PAYLOAD_NETWORK_HEADER, 8, a, 128, 16);
		     e_verdict(&b, NF_ACCEPT));
	}
	for (size_t i = 0; i < spec->n_ipv6_routed; i++) {
		parse_cidr(6, spec->ipv6_routed[i], a, &len, NULL);
		RULE(meta_protocol(&b, 0x86dd);
		     prefix_match(&b, NFT_PAYLOAD_NETWORK_HEADER, 8, a, len, 16);
		     e_verdict(&b, NF_ACCEPT));
	}
}

/* render_rules of netfilter.c, rule for rule. The caller checked spec (spec_ok). */
static void build_rules(rules *rs, const vps_spec *spec, const char *tbl, bool reject)
{
	uint8_t mac[6], arp[12] = {0, 1}, four[4];
	uint8_t ra = RA, redirect = REDIRECT;
	uint16_t smtp = htons(25);

	if (!parse_mac(spec->mac, mac)) {
		rs->bad = true;
		return;
	}
	uint16_t ether = 1; /* ARPHRD_ETHER: the netdev family's dependency of an ether match */
	RULE(e_meta(&b, NFT_META_IIFTYPE); e_cmp(&b, NFT_CMP_EQ, &ether, 2);
	     e_payload(&b, NFT_PAYLOAD_LL_HEADER, 6, 6); e_cmp(&b, NFT_CMP_NEQ, mac, 6);
	     e_verdict(&b, NF_DROP));
	for (size_t i = 0; i < spec->n_ipv4; i++) {
		uint8_t sha_spa[10];
		memcpy(sha_spa, mac, 6);
		if (!parse_ipv4(spec->ipv4[i], sha_spa + 6)) {
			rs->bad = true;
			return;
		}
		RULE(meta_protocol(&b, 0x0806); e_payload(&b, NFT_PAYLOAD_NETWORK_HEADER, 8, 10);
		     e_cmp(&b, NFT_CMP_EQ, sha_spa, 10); e_verdict(&b, NF_ACCEPT));
	}
	/* arp operation request (1), sender MAC, sender 0.0.0.0: 12 bytes from offset 6. */
	memcpy(arp + 2, mac, 6);
	RULE(meta_protocol(&b, 0x0806); e_payload(&b, NFT_PAYLOAD_NETWORK_HEADER, 6, 12);
	     e_cmp(&b, NFT_CMP_EQ, arp, 12); e_verdict(&b, NF_ACCEPT));
	RULE(udp_ports(&b, 67, 68); e_verdict(&b, NF_DROP));
	RULE(icmpv6_type(&b, ra); e_verdict(&b, NF_DROP));
	RULE(icmpv6_type(&b, redirect); e_verdict(&b, NF_DROP));
	RULE(udp_ports(&b, 547, 546); e_verdict(&b, NF_DROP));
	if (spec->smtp_block)
		RULE(l4proto(&b, 6); e_payload(&b, NFT_PAYLOAD_TRANSPORT_HEADER, 2, 2);
		     e_cmp(&b, NFT_CMP_EQ, &smtp, 2);
		     reject ? e_reject_tcp_reset(&b) : e_verdict(&b, NF_DROP));
	for (size_t i = 0; i < spec->n_ipv4; i++) {
		parse_ipv4(spec->ipv4[i], four);
		RULE(meta_protocol(&b, 0x0800); e_payload(&b, NFT_PAYLOAD_NETWORK_HEADER, 12, 4);
		     e_cmp(&b, NFT_CMP_EQ, four, 4); e_verdict(&b, NF_ACCEPT));
	}
	build_ipv6(rs, spec, tbl);
	RULE(e_verdict(&b, NF_DROP));
}

/* ---- the batch ----------------------------------------------------------------------------- */

typedef struct parts {
	char table[32];
	struct nftnl_table *t;     /* NEWTABLE: create, or keep when it exists */
	struct nftnl_chain *chain; /* NEWCHAIN filter: create, or keep */
	struct nftnl_chain *rate;  /* NEWCHAIN rate: create, or keep (its policer stays) */
	struct nftnl_rule *flush;  /* DELRULE of the whole chain */
	rules rs;
	unsigned hooks; /* NF_HOOK_VIF | NF_HOOK_EMU: the devices to hook */
} parts;

static void parts_free(parts *p)
{
	if (p->t)
		nftnl_table_free(p->t);
	if (p->chain)
		nftnl_chain_free(p->chain);
	if (p->rate)
		nftnl_chain_free(p->rate);
	if (p->flush)
		nftnl_rule_free(p->flush);
	rules_free(&p->rs);
}

static int parts_build(parts *p, const vps_spec *spec, bool reject, unsigned hooks)
{
	*p = (parts){.hooks = hooks};
	if (!vif_nft_table(spec->vifname, p->table))
		return -EINVAL;
	p->t = nftnl_table_alloc();
	p->chain = nftnl_chain_alloc();
	p->rate = nftnl_chain_alloc();
	p->flush = nftnl_rule_alloc();
	if (!p->t || !p->chain || !p->rate || !p->flush) {
		parts_free(p);
		return -ENOMEM;
	}
	nftnl_table_set_u32(p->t, NFTNL_TABLE_FAMILY, FAMILY);
	nftnl_table_set_str(p->t, NFTNL_TABLE_NAME, p->table);
	nftnl_chain_set_u32(p->chain, NFTNL_CHAIN_FAMILY, FAMILY);
	nftnl_chain_set_str(p->chain, NFTNL_CHAIN_TABLE, p->table);
	nftnl_chain_set_str(p->chain, NFTNL_CHAIN_NAME, VIF_NFT_CHAIN);
	nftnl_chain_set_u32(p->rate, NFTNL_CHAIN_FAMILY, FAMILY);
	nftnl_chain_set_str(p->rate, NFTNL_CHAIN_TABLE, p->table);
	nftnl_chain_set_str(p->rate, NFTNL_CHAIN_NAME, VIF_NFT_RATE);
	nftnl_rule_set_u32(p->flush, NFTNL_RULE_FAMILY, FAMILY);
	nftnl_rule_set_str(p->flush, NFTNL_RULE_TABLE, p->table);
	nftnl_rule_set_str(p->flush, NFTNL_RULE_CHAIN, VIF_NFT_CHAIN);
	build_rules(&p->rs, spec, p->table, reject);
	if (p->rs.bad) {
		parts_free(p);
		return -ENOMEM;
	}
	return 0;
}

/* Appends one message; false when the batch is full. */
static bool put(struct mnl_nlmsg_batch *bt, uint16_t type, uint16_t flags, uint32_t *seq,
                void (*payload)(struct nlmsghdr *, const void *), const void *obj)
{
	struct nlmsghdr *nlh =
	        nftnl_nlmsg_build_hdr(mnl_nlmsg_batch_current(bt), type, FAMILY, flags, (*seq)++);

	payload(nlh, obj);
	return mnl_nlmsg_batch_next(bt);
}

static void chain_payload(struct nlmsghdr *h, const void *o)
{
	nftnl_chain_nlmsg_build_payload(h, o);
}
static void rule_payload(struct nlmsghdr *h, const void *o)
{
	nftnl_rule_nlmsg_build_payload(h, (void *)o);
}
static void table_payload(struct nlmsghdr *h, const void *o)
{
	nftnl_table_nlmsg_build_payload(h, o);
}

/* table, chains, flush, rules, hooks (vif_nft_transact adds begin and end); false when it does
 * not fit BATCH_LIMIT. */
static bool batch_fill(struct mnl_nlmsg_batch *bt, uint32_t *seq, const void *arg)
{
	const parts *p = arg;
	bool ok = put(bt, NFT_MSG_NEWTABLE, NLM_F_CREATE, seq, table_payload, p->t) &&
	          put(bt, NFT_MSG_NEWCHAIN, NLM_F_CREATE, seq, chain_payload, p->chain) &&
	          put(bt, NFT_MSG_NEWCHAIN, NLM_F_CREATE, seq, chain_payload, p->rate) &&
	          put(bt, NFT_MSG_DELRULE, 0, seq, rule_payload, p->flush);

	for (size_t i = 0; ok && i < p->rs.n; i++)
		ok = put(bt, NFT_MSG_NEWRULE, NLM_F_CREATE | NLM_F_APPEND, seq, rule_payload,
		         p->rs.r[i]);
	return ok && vif_nft_put_hooks(bt, seq, p->table + strlen(VIF_NFT_TABLE_PREFIX), p->hooks);
}

/* The netfilter netlink socket, opened on first use in the calling thread's namespace (as the
 * libnftables context) and kept in ctx->nl_handle. */
struct mnl_socket *nf_batch_socket(net_ctx *ctx)
{
	struct mnl_socket *nl = ctx->nl_handle;

	if (nl)
		return nl;
	nl = mnl_socket_open(NETLINK_NETFILTER);
	if (!nl)
		return NULL;
	if (mnl_socket_bind(nl, 0, MNL_SOCKET_AUTOPID) < 0) {
		mnl_socket_close(nl);
		return NULL;
	}
	ctx->nl_handle = nl;
	return nl;
}

int nf_batch_apply(net_ctx *ctx, const vps_spec *spec, bool reject, unsigned hooks,
                   char err[NET_ERRLEN])
{
	struct mnl_socket *nl;
	parts p;
	char *buf;
	int rc;

	rc = parts_build(&p, spec, reject, hooks);
	if (rc) {
		errfmt(err, NET_ERRLEN, "nftables: cannot build the batch: %s", strerror(-rc));
		return rc;
	}
	nl = nf_batch_socket(ctx);
	buf = malloc(2 * BATCH_LIMIT);
	if (!nl || !buf) {
		rc = nl ? -ENOMEM : -errno;
		errfmt(err, NET_ERRLEN, "nftables: netlink socket: %s", strerror(-rc));
		parts_free(&p);
		free(buf);
		return rc ? rc : -EIO;
	}
	rc = vif_nft_transact(nl, buf, BATCH_LIMIT, batch_fill, &p);
	if (rc == -E2BIG) {
		errfmt(err, NET_ERRLEN, "nftables: the batch does not fit %d bytes", BATCH_LIMIT);
	} else if (rc) {
		errfmt(err, NET_ERRLEN, "nftables: %s (table netdev %s)", strerror(-rc), p.table);
		if (rc != -ENOENT && rc != -ENOMEM)
			rc = -EIO;
	}
	free(buf);
	parts_free(&p);
	return rc;
}

char *nf_batch_describe(const vps_spec *spec, bool reject, unsigned hooks)
{
	parts p;
	char *out = NULL, one[8192];
	size_t len = 0;
	FILE *f;

	if (parts_build(&p, spec, reject, hooks))
		return NULL;
	f = open_memstream(&out, &len);
	if (f) {
		for (size_t i = 0; i < p.rs.n; i++) {
			nftnl_rule_snprintf(one, sizeof(one), p.rs.r[i], NFTNL_OUTPUT_DEFAULT, 0);
			fprintf(f, "%s\n", one);
		}
		for (unsigned h = 0; h < 2; h++) {
			if (!(p.hooks & (1u << h)))
				continue;
			vif_nft_describe_hook(spec->vifname, h == 1, one, sizeof(one));
			fprintf(f, "%s\n", one);
		}
		if (fclose(f) != 0) {
			free(out);
			out = NULL;
		}
	}
	parts_free(&p);
	return out;
}

void nf_batch_close(net_ctx *ctx)
{
	if (ctx->nl_handle)
		mnl_socket_close(ctx->nl_handle);
	ctx->nl_handle = NULL;
}
