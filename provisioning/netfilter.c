/* netfilter.c — per-domain anti-spoofing rules (see net.h), each domain in a native nftables
 * table of its own, hooked on its vif (issue 17 item 3; hypervisor/vif_nft.h).
 *
 * Layout (docs/architecture.md §6):
 *
 *   table netdev xvps-xvifN     one per domain
 *     chain filter              the domain's rules: a legitimate frame is accepted (the host's
 *                               own iptables/nftables rules still apply), anything else dropped
 *     chain ingress             type filter hook ingress device "xvifN" priority filter;
 *                               policy drop; `meta mark set meta mark | 0x20000000 goto filter`
 *     chain ingress-emu         the same on "xvifN-emu" (an HVM guest's emulated NIC)
 *   table bridge xvps           the guard, made once at agent start
 *     chain prerouting          type filter hook prerouting priority filter; policy accept;
 *                               iifname "xvif*" meta mark & 0x20000000 == 0 drop
 *                               iifname "xvif*" meta mark set meta mark & 0xdfffffff
 *
 * The netdev ingress hook sees every frame a guest sends, bridged to a neighbour or delivered
 * to dom0, at layer 2 and 3, before the bridge; the kernel runs the hooks of that one device,
 * so a frame pays for its own VPS's rules only. A change for one domain is one transaction on
 * its own table (nf_render's text; on the real kernel one libnftnl batch of the same
 * expressions, nft_batch.c): the table and chain declared (created, or emptied when they
 * exist) and refilled, and the hooks of the devices that exist now made again; the kernel
 * validates only the tables a transaction touched. A base chain needs its device (Linux before
 * 6.16), so the hook is also made by xvps-vif when the vif appears and by the agent after each
 * start (nf_hook). The guard drops a frame from any xvif that did not pass a hook. Rules key on
 * the vif name, never on the domid (a rebooted Xen domain keeps its vifname). Every value that
 * reaches a rule passed spec.c and is checked again here. */
#include <arpa/inet.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../common/util.h"
#include "../common/validate.h"
#include "../hypervisor/vif_nft.h"
#include "net.h"

#define G NET_NFT_GUARD

#define NF_ATTEMPTS 3 /* a transaction can lose a race with another writer (-EBUSY...): retry */

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

/* A vifname this module accepts: valid, "xvif" + digits, so that the "-emu" tap name and
 * the chain name "xvps-<vifname>" stay within their limits (15 and 28). */
static bool vif_ok(const char *vifname)
{
	char ifb[16];

	return vifname && net_ifbname_of(vifname, ifb);
}

/* ---- rendering ---------------------------------------------------------------------------- */

typedef struct sbuf {
	char *p;
	size_t len, cap;
	bool bad;
} sbuf;

static void sb_add(sbuf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void sb_add(sbuf *b, const char *fmt, ...)
{
	va_list ap;
	int n;

	if (b->bad)
		return;
	for (;;) {
		va_start(ap, fmt);
		n = vsnprintf(b->p ? b->p + b->len : NULL, b->p ? b->cap - b->len : 0, fmt, ap);
		va_end(ap);
		if (n < 0) {
			b->bad = true;
			return;
		}
		if (b->p && b->len + (size_t)n < b->cap) {
			b->len += (size_t)n;
			return;
		}
		size_t cap = b->cap ? b->cap * 2 : 1024;
		while (cap < b->len + (size_t)n + 1)
			cap *= 2;
		char *np = realloc(b->p, cap);
		if (!np) {
			b->bad = true;
			return;
		}
		b->p = np;
		b->cap = cap;
	}
}

static char *sb_take(sbuf *b)
{
	if (b->bad) {
		free(b->p);
		return NULL;
	}
	return b->p;
}

/* "2001:db8:1:2::/64" -> true when it is a valid routed prefix (same rule as spec.c). */
static bool prefix6_ok(const char *s)
{
	int len = 0;

	return parse_cidr(6, s, NULL, &len, NULL) && len >= 48 && len <= 64;
}

/* Re-checks every value of spec that reaches a rule. */
static bool spec_ok(const vps_spec *spec)
{
	char own[16];

	if (!spec || !net_vifname_of(spec->name, own) || strcmp(own, spec->vifname) != 0 ||
	    !vif_ok(spec->vifname) || !valid_xen_mac(spec->mac, NULL))
		return false;
	for (size_t i = 0; i < spec->n_ipv4; i++)
		if (!parse_ipv4(spec->ipv4[i], NULL))
			return false;
	for (size_t i = 0; i < spec->n_ipv6; i++)
		if (!parse_ipv6(spec->ipv6[i], NULL))
			return false;
	for (size_t i = 0; i < spec->n_ipv6_routed; i++)
		if (!prefix6_ok(spec->ipv6_routed[i]))
			return false;
	return true;
}

/* The address as one 128-bit integer in hex, for a raw payload match ("0x20010db8...10"). */
static void hex128(const uint8_t a[16], char out[35])
{
	out[0] = '0';
	out[1] = 'x';
	for (int i = 0; i < 16; i++)
		snprintf(out + 2 + 2 * i, 3, "%02x", a[i]);
}

/* The first len bits (1..64) of a as an integer in hex. */
static void hex_prefix(const uint8_t a[16], int len, char out[24])
{
	unsigned long long v = 0;

	for (int i = 0; i < 8; i++)
		v = v << 8 | a[i];
	v >>= 64 - len;
	snprintf(out, 24, "0x%llx", v);
}

/* The rules of one domain chain ch, in order: the frame's source MAC; ARP; what a guest never
 * sends (DHCP and DHCPv6 server replies, router advertisements, redirects); SMTP when blocked;
 * IPv4 sources; IPv6 neighbour advertisements (the target is one of the guest's own addresses:
 * its /128s, its routed prefixes, or link-local); DAD and MLD from ::; IPv6 sources; drop. */
static void render_rules(sbuf *b, const vps_spec *spec, const char *ch, bool reject)
{
	const char *m = spec->mac, *na = "icmpv6 type nd-neighbor-advert";
	uint8_t a[16];
	char hex[35];
	int len = 0;

	sb_add(b, "add rule %s " VIF_NFT_CHAIN " ether saddr != %s drop\n", ch, m);
	for (size_t i = 0; i < spec->n_ipv4; i++)
		sb_add(b,
		       "add rule %s " VIF_NFT_CHAIN " arp saddr ether %s arp saddr ip %s accept\n",
		       ch, m, spec->ipv4[i]);
	/* ARP probes (RFC 5227) carry sender 0.0.0.0 and claim nothing. */
	sb_add(b,
	       "add rule %s " VIF_NFT_CHAIN
	       " arp operation request arp saddr ether %s arp saddr ip 0.0.0.0 "
	       "accept\n",
	       ch, m);
	sb_add(b, "add rule %s " VIF_NFT_CHAIN " udp sport 67 udp dport 68 drop\n", ch);
	sb_add(b, "add rule %s " VIF_NFT_CHAIN " icmpv6 type nd-router-advert drop\n", ch);
	sb_add(b, "add rule %s " VIF_NFT_CHAIN " icmpv6 type nd-redirect drop\n", ch);
	sb_add(b, "add rule %s " VIF_NFT_CHAIN " udp sport 547 udp dport 546 drop\n", ch);
	if (spec->smtp_block)
		sb_add(b, "add rule %s " VIF_NFT_CHAIN " tcp dport 25 %s\n", ch,
		       reject ? "reject with tcp reset" : "drop");
	for (size_t i = 0; i < spec->n_ipv4; i++)
		sb_add(b, "add rule %s " VIF_NFT_CHAIN " ip saddr %s accept\n", ch, spec->ipv4[i]);
	/* The target address sits 8 bytes into the ICMPv6 header, 128 bits long. */
	for (size_t i = 0; i < spec->n_ipv6; i++) {
		parse_ipv6(spec->ipv6[i], a);
		hex128(a, hex);
		sb_add(b, "add rule %s " VIF_NFT_CHAIN " %s @th,64,128 %s accept\n", ch, na, hex);
	}
	for (size_t i = 0; i < spec->n_ipv6_routed; i++) {
		parse_cidr(6, spec->ipv6_routed[i], a, &len, NULL);
		hex_prefix(a, len, hex);
		sb_add(b, "add rule %s " VIF_NFT_CHAIN " %s @th,64,%d %s accept\n", ch, na, len,
		       hex);
	}
	sb_add(b, "add rule %s " VIF_NFT_CHAIN " %s @th,64,64 0xfe80000000000000 accept\n", ch, na);
	sb_add(b, "add rule %s " VIF_NFT_CHAIN " %s drop\n", ch, na);
	/* Duplicate address detection and MLD reports (from ::); other solicitations only from
	 * the guest's own sources, below. */
	sb_add(b,
	       "add rule %s " VIF_NFT_CHAIN
	       " ip6 saddr :: icmpv6 type nd-neighbor-solicit accept\n",
	       ch);
	sb_add(b,
	       "add rule %s " VIF_NFT_CHAIN
	       " ip6 saddr :: icmpv6 type mld2-listener-report accept\n",
	       ch);
	sb_add(b, "add rule %s " VIF_NFT_CHAIN " ip6 saddr fe80::/64 accept\n", ch);
	for (size_t i = 0; i < spec->n_ipv6; i++)
		sb_add(b, "add rule %s " VIF_NFT_CHAIN " ip6 saddr %s accept\n", ch, spec->ipv6[i]);
	for (size_t i = 0; i < spec->n_ipv6_routed; i++)
		sb_add(b, "add rule %s " VIF_NFT_CHAIN " ip6 saddr %s accept\n", ch,
		       spec->ipv6_routed[i]);
	sb_add(b, "add rule %s " VIF_NFT_CHAIN " drop\n", ch);
}

/* The hook of the vif (emu: its "-emu" tap) on table tbl ("netdev xvps-xvifN"). */
static void render_hook(sbuf *b, const char *tbl, const char *vif, bool emu)
{
	const char *ch = emu ? VIF_NFT_HOOK_EMU : VIF_NFT_HOOK;

	sb_add(b,
	       "add chain %s %s { type filter hook ingress device \"%s%s\" priority filter; "
	       "policy drop; }\n"
	       "flush chain %s %s\n"
	       "add rule %s %s jump " VIF_NFT_RATE "\n"
	       "add rule %s %s meta mark set meta mark | " VIF_NFT_MARK_TEXT " goto " VIF_NFT_CHAIN
	       "\n",
	       tbl, ch, vif, emu ? "-emu" : "", tbl, ch, tbl, ch, tbl, ch);
}

/* The hooks of the devices in hooks (NF_HOOK_VIF, NF_HOOK_EMU). */
static void render_hooks(sbuf *b, const char *tbl, const char *vif, unsigned hooks)
{
	for (unsigned h = 0; h < 2; h++)
		if (hooks & (1u << h))
			render_hook(b, tbl, vif, h == 1);
}

/* "netdev xvps-xvifN" */
static bool table_of(const char *vifname, char out[48])
{
	char t[32];

	return vif_nft_table(vifname, t) && sfmt(out, 48, "netdev %s", t);
}

char *nf_render(const vps_spec *spec, bool reject, unsigned hooks)
{
	sbuf b = {0};
	char tbl[48];

	if (!spec_ok(spec) || !table_of(spec->vifname, tbl))
		return NULL;
	sb_add(&b,
	       "add table %s\nadd chain %s " VIF_NFT_CHAIN "\nadd chain %s " VIF_NFT_RATE
	       "\nflush chain %s " VIF_NFT_CHAIN "\n",
	       tbl, tbl, tbl, tbl);
	render_rules(&b, spec, tbl, reject);
	render_hooks(&b, tbl, spec->vifname, hooks);
	return sb_take(&b);
}

char *nf_render_remove(const char *vifname)
{
	sbuf b = {0};
	char tbl[48];

	if (!table_of(vifname, tbl))
		return NULL;
	/* Added first, so that the delete finds it: absent is not an error, one transaction. */
	sb_add(&b, "add table %s\ndelete table %s\n", tbl, tbl);
	return sb_take(&b);
}

/* The guard (see the top): declared and emptied, then (after any removal of an older layout,
 * whose dispatch rule the flush took away) its two rules. */
static const char k_base[] = "add table " G "\n"
                             "add chain " G " " NET_NFT_BASE
                             " { type filter hook prerouting priority filter; policy accept; }\n"
                             "flush chain " G " " NET_NFT_BASE "\n";
static const char k_base_rules[] = "add rule " G " " NET_NFT_BASE " iifname \"" NET_VIF_WILDCARD
                                   "\" meta mark & " VIF_NFT_MARK_TEXT " == 0 drop\n"
                                   "add rule " G " " NET_NFT_BASE " iifname \"" NET_VIF_WILDCARD
                                   "\" meta mark set meta mark & " VIF_NFT_UNMARK_TEXT "\n";

/* ---- running ------------------------------------------------------------------------------ */

#define errf(err, ...) errfmt(err, NET_ERRLEN, __VA_ARGS__)

/* One transaction, retried when it lost a race with another writer; -ENOENT is final. */
static int run_tx(net_ctx *ctx, const char *cmds, char err[NET_ERRLEN])
{
	int rc = -EIO;

	for (int attempt = 0; attempt < NF_ATTEMPTS; attempt++) {
		rc = net_nft(ctx, cmds, false, NULL, err);
		if (rc == 0 || rc == -ENOENT || rc == -ENOMEM)
			break;
	}
	return rc;
}

/* cmds (heap, freed here) as one transaction: retried (run_tx) or, once (the caller retries). */
static int run_cmds(net_ctx *ctx, char *cmds, bool retry, char err[NET_ERRLEN])
{
	int rc;

	if (!cmds) {
		errf(err, "out of memory");
		return -ENOMEM;
	}
	rc = retry ? run_tx(ctx, cmds, err) : net_nft(ctx, cmds, false, NULL, err);
	free(cmds);
	return rc;
}

static int run_owned(net_ctx *ctx, char *cmds, char err[NET_ERRLEN])
{
	return run_cmds(ctx, cmds, true, err);
}

/* Whether this kernel has reject in the netdev family (CONFIG_NFT_REJECT_NETDEV, Linux 5.11
 * and later): a check-only transaction asks it, once per context. */
static bool reject_ok(net_ctx *ctx)
{
	char e[NET_ERRLEN] = "";

	if (ctx->nf_reject == 0) {
		int rc =
		        net_nft(ctx,
		                "add table netdev xvps-probe\n"
		                "add chain netdev xvps-probe c\n"
		                "add rule netdev xvps-probe c tcp dport 25 reject with tcp reset\n",
		                true, NULL, e);
		ctx->nf_reject = rc == 0 ? 1 : -1;
		if (rc)
			log_warn("no netdev reject in this kernel (%s): smtp_block drops", e);
	}
	return ctx->nf_reject > 0;
}

static int base_ensure(net_ctx *ctx, const void *unused, char err[NET_ERRLEN])
{
	char *old, *tx;
	int rc;

	if (!ctx->enabled)
		return 0;
	old = nf_old_layout_removal(ctx);
	if (old && *old)
		log_info("firewall: replacing the one-table layout of an older agent");
	if (asprintf(&tx, "%s%s%s", k_base, old ? old : "", k_base_rules) < 0)
		tx = NULL;
	free(old);
	rc = run_owned(ctx, tx, err);
	if (rc == 0)
		rc = nf_legacy_cleanup(ctx, err);
	if (rc == 0)
		reject_ok(ctx);
	return rc;
}

/* The devices of vifname that exist now (NF_HOOK_VIF, NF_HOOK_EMU). */
static unsigned hooks_of(const net_ctx *ctx, const char *vifname)
{
	char emu[24];
	unsigned h = 0;

	if (net_dev_exists(ctx, vifname))
		h |= NF_HOOK_VIF;
	snprintf(emu, sizeof(emu), "%s-emu", vifname);
	if (net_dev_exists(ctx, emu))
		h |= NF_HOOK_EMU;
	return h;
}

static int apply_locked(net_ctx *ctx, const void *arg, char err[NET_ERRLEN])
{
	const vps_spec *spec = arg;
	bool reject;
	int rc = -EIO;

	if (!spec_ok(spec)) {
		errf(err, "refusing a network spec that does not validate");
		return -EINVAL;
	}
	if (!ctx->enabled)
		return 0;
	reject = reject_ok(ctx);
	for (int attempt = 0; attempt < NF_ATTEMPTS; attempt++) {
		/* A device can go (a domain's reboot) between the look and the commit: look again.
		 */
		unsigned hooks = hooks_of(ctx, spec->vifname);
		/* The real kernel: one netlink batch (nft_batch.c), the same transaction without
		 * the text and the ruleset cache; a fake seam (tests) or a batch too large: the
		 * text. */
		rc = ctx->nft ? -E2BIG : nf_batch_apply(ctx, spec, reject, hooks, err);
		if (rc == -E2BIG)
			rc = run_cmds(ctx, nf_render(spec, reject, hooks), false, err);
		if (rc == 0 || rc == -ENOMEM || rc == -E2BIG)
			break;
	}
	return rc;
}

static int remove_locked(net_ctx *ctx, const void *arg, char err[NET_ERRLEN])
{
	const char *vifname = arg;

	if (!vif_ok(vifname)) {
		errf(err, "refusing an invalid vif name");
		return -EINVAL;
	}
	if (!ctx->enabled)
		return 0;
	return run_owned(ctx, nf_render_remove(vifname), err);
}

/* One transaction at a time within the agent (net_ctx.nf_lock, which also guards the
 * libnftables context): fn(ctx, arg, err) runs with the lock held. */
static int with_nf_lock(net_ctx *ctx, int (*fn)(net_ctx *ctx, const void *arg, char *err),
                        const void *arg, char err[NET_ERRLEN])
{
	int rc;

	pthread_mutex_lock(&ctx->nf_lock);
	rc = fn(ctx, arg, err);
	pthread_mutex_unlock(&ctx->nf_lock);
	return rc;
}

int nf_base_ensure(net_ctx *ctx, char err[NET_ERRLEN])
{
	return with_nf_lock(ctx, base_ensure, NULL, err);
}

int nf_apply(net_ctx *ctx, const vps_spec *spec, char err[NET_ERRLEN])
{
	return with_nf_lock(ctx, apply_locked, spec, err);
}

int nf_remove(net_ctx *ctx, const char *vifname, char err[NET_ERRLEN])
{
	return with_nf_lock(ctx, remove_locked, vifname, err);
}

static int hook_locked(net_ctx *ctx, const void *arg, char err[NET_ERRLEN])
{
	const char *vifname = arg;
	char tbl[48];
	int rc = 0;

	if (!table_of(vifname, tbl)) {
		errf(err, "refusing an invalid vif name");
		return -EINVAL;
	}
	if (!ctx->enabled)
		return 0;
	for (int attempt = 0; attempt < NF_ATTEMPTS; attempt++) {
		unsigned hooks = hooks_of(ctx, vifname);
		if (!hooks)
			return 0;
		if (!ctx->nft) {
			rc = nf_batch_hook(ctx, vifname, hooks, err);
		} else {
			sbuf b = {0};
			render_hooks(&b, tbl, vifname, hooks);
			rc = run_cmds(ctx, sb_take(&b), false, err);
		}
		if (rc == 0 || rc == -ENOMEM)
			break;
	}
	return rc;
}

int nf_hook(net_ctx *ctx, const char *vifname, char err[NET_ERRLEN])
{
	return with_nf_lock(ctx, hook_locked, vifname, err);
}

typedef struct police_req {
	const char *vifname;
	unsigned long long rate_bytes, burst;
} police_req;

static int police_locked(net_ctx *ctx, const void *arg, char err[NET_ERRLEN])
{
	const police_req *q = arg;
	char tbl[48];
	sbuf b = {0};

	if (!table_of(q->vifname, tbl)) {
		errf(err, "refusing an invalid vif name");
		return -EINVAL;
	}
	if (!ctx->enabled)
		return 0;
	if (!ctx->nft)
		return nf_batch_police(ctx, q->vifname, q->rate_bytes, q->burst, err);
	sb_add(&b, "add chain %s " VIF_NFT_RATE "\nflush chain %s " VIF_NFT_RATE "\n", tbl, tbl);
	if (q->rate_bytes)
		sb_add(&b,
		       "add rule %s " VIF_NFT_RATE
		       " limit rate over %llu bytes/second burst %llu bytes drop\n",
		       tbl, q->rate_bytes, q->burst);
	return run_owned(ctx, sb_take(&b), err);
}

int nf_police(net_ctx *ctx, const char *vifname, unsigned long long rate_bytes,
              unsigned long long burst, char err[NET_ERRLEN])
{
	police_req q = {vifname, rate_bytes, burst};

	return with_nf_lock(ctx, police_locked, &q, err);
}

static int list_locked(net_ctx *ctx, const void *arg, char err[NET_ERRLEN])
{
	char **out = (char **)arg;

	/* Every table is listed as a "table netdev NAME" line. */
	return net_nft(ctx, "list tables netdev\n", false, out, err);
}

int nf_list(net_ctx *ctx, char ***vifnames_out, size_t *n_out, char err[NET_ERRLEN])
{
	char **names = NULL, *text = NULL;
	size_t n = 0, cap = 0;
	int rc;

	*vifnames_out = NULL;
	*n_out = 0;
	if (!ctx->enabled)
		return 0;
	rc = with_nf_lock(ctx, list_locked, &text, err);
	if (rc == -ENOENT)
		return 0; /* no table */
	if (rc)
		return rc;
	for (char *line = text, *next; line && *line; line = next) {
		static const char pfx[] = "table netdev " VIF_NFT_TABLE_PREFIX;
		next = strchr(line, '\n');
		if (next)
			*next++ = '\0';
		line += strspn(line, " \t");
		char *brace = strstr(line, " {");
		if (brace)
			*brace = '\0';
		if (strncmp(line, pfx, sizeof(pfx) - 1) != 0 || !vif_ok(line + sizeof(pfx) - 1))
			continue;
		if (n == cap) {
			size_t ncap = cap ? cap * 2 : 16;
			char **nn = realloc(names, ncap * sizeof(*nn));
			if (!nn)
				break;
			names = nn;
			cap = ncap;
		}
		names[n] = strdup(line + sizeof(pfx) - 1);
		if (names[n])
			n++;
	}
	free(text);
	*vifnames_out = names;
	*n_out = n;
	return 0;
}
