/* netfilter.c — per-domain anti-spoofing chains (see net.h), in one native nftables table.
 *
 * Layout (docs/architecture.md §6), table NET_NFT_TABLE ("bridge xvps"):
 *
 *   map vifs          ifname : verdict    "xvifN" : jump xvps-xvifN, "xvifN-emu" : jump xvps-xvifN
 *   chain prerouting  type filter hook prerouting priority filter; policy accept;
 *                     iifname vmap @vifs             (one hash lookup, whatever the number of VPS)
 *                     iifname "xvif*" drop           (a vif without its chain sends nothing)
 *   chain xvps-xvifN  the domain's rules: a legitimate frame is accepted (done with this table;
 *                     the host's own iptables/nftables rules still apply), anything else dropped.
 *
 * Bridge prerouting sees every frame a guest sends, bridged to a neighbour or delivered to dom0,
 * at layer 2 and 3 in one chain: what ebtables, iptables and ip6tables did in three tables. The
 * map keys on the vif name, never on the domid, because a rebooted Xen domain gets a new domid
 * but keeps its vifname; "-emu" is the tap of an HVM guest's emulated NIC. A change for one
 * domain is one transaction: the chain is declared (created, or emptied when it exists) and
 * refilled and its two map elements added (nf_render's text; on the real kernel sent as one
 * libnftnl batch of the same expressions, nft_batch.c), or all of it removed (libnftables,
 * nft.c); it commits whole or not at all, so the map names the chain exactly when the chain
 * exists. No rule uses an anonymous set: libnftables fetches every set of the table (and its
 * elements) before a change that adds elements, which made one change cost 100 ms with 1,000
 * domains; one rule per address keeps the text path near 2 ms at any size.
 * Every value that reaches a rule passed spec.c and is checked again here. */
#include <arpa/inet.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../common/util.h"
#include "../common/validate.h"
#include "net.h"

#define T NET_NFT_TABLE

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

	sb_add(b, "add rule " T " %s ether saddr != %s drop\n", ch, m);
	for (size_t i = 0; i < spec->n_ipv4; i++)
		sb_add(b, "add rule " T " %s arp saddr ether %s arp saddr ip %s accept\n", ch, m,
		       spec->ipv4[i]);
	/* ARP probes (RFC 5227) carry sender 0.0.0.0 and claim nothing. */
	sb_add(b,
	       "add rule " T " %s arp operation request arp saddr ether %s arp saddr ip 0.0.0.0 "
	       "accept\n",
	       ch, m);
	sb_add(b, "add rule " T " %s udp sport 67 udp dport 68 drop\n", ch);
	sb_add(b, "add rule " T " %s icmpv6 type nd-router-advert drop\n", ch);
	sb_add(b, "add rule " T " %s icmpv6 type nd-redirect drop\n", ch);
	sb_add(b, "add rule " T " %s udp sport 547 udp dport 546 drop\n", ch);
	if (spec->smtp_block)
		sb_add(b, "add rule " T " %s tcp dport 25 %s\n", ch,
		       reject ? "reject with tcp reset" : "drop");
	for (size_t i = 0; i < spec->n_ipv4; i++)
		sb_add(b, "add rule " T " %s ip saddr %s accept\n", ch, spec->ipv4[i]);
	/* The target address sits 8 bytes into the ICMPv6 header, 128 bits long. */
	for (size_t i = 0; i < spec->n_ipv6; i++) {
		parse_ipv6(spec->ipv6[i], a);
		hex128(a, hex);
		sb_add(b, "add rule " T " %s %s @th,64,128 %s accept\n", ch, na, hex);
	}
	for (size_t i = 0; i < spec->n_ipv6_routed; i++) {
		parse_cidr(6, spec->ipv6_routed[i], a, &len, NULL);
		hex_prefix(a, len, hex);
		sb_add(b, "add rule " T " %s %s @th,64,%d %s accept\n", ch, na, len, hex);
	}
	sb_add(b, "add rule " T " %s %s @th,64,64 0xfe80000000000000 accept\n", ch, na);
	sb_add(b, "add rule " T " %s %s drop\n", ch, na);
	/* Duplicate address detection and MLD reports (from ::); other solicitations only from
	 * the guest's own sources, below. */
	sb_add(b, "add rule " T " %s ip6 saddr :: icmpv6 type nd-neighbor-solicit accept\n", ch);
	sb_add(b, "add rule " T " %s ip6 saddr :: icmpv6 type mld2-listener-report accept\n", ch);
	sb_add(b, "add rule " T " %s ip6 saddr fe80::/64 accept\n", ch);
	for (size_t i = 0; i < spec->n_ipv6; i++)
		sb_add(b, "add rule " T " %s ip6 saddr %s accept\n", ch, spec->ipv6[i]);
	for (size_t i = 0; i < spec->n_ipv6_routed; i++)
		sb_add(b, "add rule " T " %s ip6 saddr %s accept\n", ch, spec->ipv6_routed[i]);
	sb_add(b, "add rule " T " %s drop\n", ch);
}

/* "add"/"delete" element of the vif and its "-emu" tap (with_data: ": jump ch"). */
static void render_elements(sbuf *b, const char *op, const char *vif, const char *ch,
                            bool with_data)
{
	if (with_data)
		sb_add(b,
		       "%s element " T " " NET_NFT_MAP
		       " { \"%s\" : jump %s, \"%s-emu\" : jump %s }\n",
		       op, vif, ch, vif, ch);
	else
		sb_add(b, "%s element " T " " NET_NFT_MAP " { \"%s\", \"%s-emu\" }\n", op, vif,
		       vif);
}

char *nf_render(const vps_spec *spec, bool reject)
{
	sbuf b = {0};
	char ch[32];

	if (!spec_ok(spec))
		return NULL;
	snprintf(ch, sizeof(ch), "xvps-%s", spec->vifname);
	sb_add(&b, "add chain " T " %s\nflush chain " T " %s\n", ch, ch);
	render_rules(&b, spec, ch, reject);
	render_elements(&b, "add", spec->vifname, ch, true);
	return sb_take(&b);
}

char *nf_render_remove(const char *vifname)
{
	sbuf b = {0};
	char ch[32];

	if (!vif_ok(vifname))
		return NULL;
	snprintf(ch, sizeof(ch), "xvps-%s", vifname);
	/* Added first, so that the deletes find them: absent is not an error, and the whole
	 * stays one transaction. */
	sb_add(&b, "add chain " T " %s\n", ch);
	render_elements(&b, "add", vifname, ch, true);
	render_elements(&b, "delete", vifname, ch, false);
	sb_add(&b, "flush chain " T " %s\ndelete chain " T " %s\n", ch, ch);
	return sb_take(&b);
}

static const char k_base[] =
        "add table " T "\n"
        "add map " T " " NET_NFT_MAP " { type ifname : verdict; }\n"
        "add chain " T " " NET_NFT_BASE
        " { type filter hook prerouting priority filter; policy accept; }\n"
        "flush chain " T " " NET_NFT_BASE "\n"
        "add rule " T " " NET_NFT_BASE " iifname vmap @" NET_NFT_MAP "\n"
        "add rule " T " " NET_NFT_BASE " iifname \"" NET_VIF_WILDCARD "\" drop\n";

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

static int run_owned(net_ctx *ctx, char *cmds, char err[NET_ERRLEN])
{
	int rc;

	if (!cmds) {
		errf(err, "out of memory");
		return -ENOMEM;
	}
	rc = run_tx(ctx, cmds, err);
	free(cmds);
	return rc;
}

/* Whether this kernel has reject in the bridge family (Debian's has; some builds lack
 * CONFIG_NFT_BRIDGE_REJECT): a check-only transaction asks it, once per context. */
static bool reject_ok(net_ctx *ctx)
{
	char e[NET_ERRLEN] = "";

	if (ctx->nf_reject == 0) {
		int rc = net_nft(ctx,
		                 "add chain " T " xvps-probe\n"
		                 "add rule " T " xvps-probe tcp dport 25 reject with tcp reset\n",
		                 true, NULL, e);
		ctx->nf_reject = rc == 0 ? 1 : -1;
		if (rc)
			log_warn("no bridge reject in this kernel (%s): smtp_block drops", e);
	}
	return ctx->nf_reject > 0;
}

static int base_ensure(net_ctx *ctx, const void *unused, char err[NET_ERRLEN])
{
	int rc;

	if (!ctx->enabled)
		return 0;
	rc = run_tx(ctx, k_base, err);
	if (rc == 0)
		rc = nf_legacy_cleanup(ctx, err);
	if (rc == 0)
		reject_ok(ctx);
	return rc;
}

static int apply_locked(net_ctx *ctx, const void *arg, char err[NET_ERRLEN])
{
	const vps_spec *spec = arg;

	if (!spec_ok(spec)) {
		errf(err, "refusing a network spec that does not validate");
		return -EINVAL;
	}
	if (!ctx->enabled)
		return 0;
	/* The real kernel: one netlink batch (nft_batch.c), the same transaction without the
	 * text and the ruleset cache; a fake seam (tests) or a batch too large: the text. */
	if (!ctx->nft) {
		bool reject = reject_ok(ctx);
		int rc = -EIO;
		for (int attempt = 0; attempt < NF_ATTEMPTS; attempt++) {
			rc = nf_batch_apply(ctx, spec, reject, err);
			if (rc == 0 || rc == -ENOENT || rc == -ENOMEM || rc == -E2BIG)
				break;
		}
		if (rc != -E2BIG)
			return rc;
	}
	return run_owned(ctx, nf_render(spec, reject_ok(ctx)), err);
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

static int list_locked(net_ctx *ctx, const void *arg, char err[NET_ERRLEN])
{
	char **out = (char **)arg;

	/* Every chain is listed as a "chain NAME {" line. */
	return net_nft(ctx, "list table " T "\n", false, out, err);
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
		return 0; /* no table, no chain */
	if (rc)
		return rc;
	for (char *line = text, *next; line && *line; line = next) {
		static const char pfx[] = "chain xvps-";
		next = strchr(line, '\n');
		if (next)
			*next++ = '\0';
		line += strspn(line, " \t");
		char *end = strstr(line, " {");
		if (strncmp(line, pfx, sizeof(pfx) - 1) != 0 || !end)
			continue;
		*end = '\0';
		if (!vif_ok(line + sizeof(pfx) - 1))
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
