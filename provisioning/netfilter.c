/* netfilter.c — per-domain anti-spoofing chains (see net.h).
 *
 * Layout, in the filter table of iptables, ip6tables and ebtables (docs/architecture.md §6):
 *
 *   FORWARD, INPUT  -m physdev --physdev-in xvif+ -j xvps-vifs     (ebtables: -i xvif+)
 *   xvps-vifs       -m physdev --physdev-in xvifN     -g xvps-xvifN  (one pair per domain;
 *                   -m physdev --physdev-in xvifN-emu -g xvps-xvifN   ebtables: -i ... -j)
 *                   -j DROP                  (ip/ip6: a vif without its chain sends nothing)
 *   xvps-xvifN      the domain's rules: legitimate traffic RETURNs to FORWARD/INPUT (the host's
 *                   own rules still apply), anything else is dropped.
 *
 * Rules key on the vif name, never on the domid, because a rebooted Xen domain gets a new domid
 * but keeps its vifname; "-emu" is the tap of an HVM guest's emulated NIC. Each table's domain
 * batch is one `*-restore --noflush` transaction: the chain is declared (created, or flushed when
 * it exists) and refilled, and the dispatch pair is added only when the chain was new, so the
 * pair exists exactly when the chain does, even after a crash between two tables.
 * Every value that reaches a rule passed spec.c and is checked again here. */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../common/util.h"
#include "../common/validate.h"
#include "net.h"

#define NF_TIMEOUT_MS 30000
#define NF_ATTEMPTS   3 /* nft transactions can lose a race with another writer: retry */

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

static void render_ip(sbuf *b, const vps_spec *spec, bool v6, const char *ch)
{
	const char *icmp = "-p ipv6-icmp -m icmp6 --icmpv6-type";

	sb_add(b, "-A %s -m mac ! --mac-source %s -j DROP\n", ch, spec->mac);
	if (!v6) {
		/* A guest never answers as a DHCP server. */
		sb_add(b, "-A %s -p udp -m udp --sport 67 --dport 68 -j DROP\n", ch);
	} else {
		/* Router advertisements, redirects and DHCPv6 server replies never leave a guest.
		 */
		sb_add(b, "-A %s %s 134 -j DROP\n", ch, icmp);
		sb_add(b, "-A %s %s 137 -j DROP\n", ch, icmp);
		sb_add(b, "-A %s -p udp -m udp --sport 547 --dport 546 -j DROP\n", ch);
	}
	if (spec->smtp_block)
		sb_add(b, "-A %s -p tcp -m tcp --dport 25 -j REJECT --reject-with tcp-reset\n", ch);
	if (!v6) {
		for (size_t i = 0; i < spec->n_ipv4; i++)
			sb_add(b, "-A %s -s %s/32 -j RETURN\n", ch, spec->ipv4[i]);
	} else {
		/* Duplicate address detection (from ::) and link-local neighbour discovery. */
		sb_add(b, "-A %s -s ::/128 %s 135 -j RETURN\n", ch, icmp);
		sb_add(b, "-A %s -s ::/128 %s 143 -j RETURN\n", ch, icmp);
		sb_add(b, "-A %s -s fe80::/64 -j RETURN\n", ch);
		for (size_t i = 0; i < spec->n_ipv6; i++)
			sb_add(b, "-A %s -s %s/128 -j RETURN\n", ch, spec->ipv6[i]);
		for (size_t i = 0; i < spec->n_ipv6_routed; i++)
			sb_add(b, "-A %s -s %s -j RETURN\n", ch, spec->ipv6_routed[i]);
	}
	sb_add(b, "-A %s -j DROP\n", ch);
}

static void render_eb(sbuf *b, const vps_spec *spec, const char *ch)
{
	const char *m = spec->mac;

	/* The chain's policy (DROP) takes every frame not returned here: another source MAC,
	 * ARP claiming an address that is not the VPS's, any other ethertype. */
	sb_add(b, "-A %s -p IPv4 -s %s -j RETURN\n", ch, m);
	sb_add(b, "-A %s -p IPv6 -s %s -j RETURN\n", ch, m);
	for (size_t i = 0; i < spec->n_ipv4; i++)
		sb_add(b, "-A %s -p ARP -s %s --arp-mac-src %s --arp-ip-src %s -j RETURN\n", ch, m,
		       m, spec->ipv4[i]);
	/* ARP probes (RFC 5227) carry sender 0.0.0.0 and claim nothing. */
	sb_add(b,
	       "-A %s -p ARP -s %s --arp-op Request --arp-mac-src %s --arp-ip-src 0.0.0.0 "
	       "-j RETURN\n",
	       ch, m, m);
}

static void render_hooks(sbuf *b, char table, const char *op, const char *vif, const char *ch)
{
	static const char *const sfx[] = {"", "-emu"};

	for (int i = 0; i < 2; i++) {
		if (table == 'e')
			sb_add(b, "%s %s -i %s%s -j %s\n", op, NET_DISPATCH_CHAIN, vif, sfx[i], ch);
		else
			sb_add(b, "%s %s -m physdev --physdev-in %s%s -g %s\n", op,
			       NET_DISPATCH_CHAIN, vif, sfx[i], ch);
	}
}

char *nf_render(const vps_spec *spec, char table, bool with_hooks)
{
	sbuf b = {0};
	char ch[32];

	if ((table != '4' && table != '6' && table != 'e') || !spec_ok(spec))
		return NULL;
	snprintf(ch, sizeof(ch), "xvps-%s", spec->vifname);
	sb_add(&b, "*filter\n");
	if (table == 'e') {
		sb_add(&b, ":%s DROP\n", ch);
		render_eb(&b, spec, ch);
	} else {
		sb_add(&b, ":%s - [0:0]\n", ch);
		render_ip(&b, spec, table == '6', ch);
	}
	if (with_hooks)
		render_hooks(&b, table, "-I", spec->vifname, ch);
	sb_add(&b, "COMMIT\n");
	return sb_take(&b);
}

/* ---- running ------------------------------------------------------------------------------ */

static const char *tool_of(char table)
{
	return table == '4' ? "iptables" : table == '6' ? "ip6tables" : "ebtables";
}

static const char *restore_of(char table)
{
	return table == '4'   ? "iptables-restore"
	       : table == '6' ? "ip6tables-restore"
	                      : "ebtables-restore";
}

#define errf(err, ...) errfmt(err, NET_ERRLEN, __VA_ARGS__)

/* 1 when chain exists in table, 0 when not, -errno when the tool could not run or kept
 * failing (a listing can collide with another writer's transaction: retried). */
static int chain_exists(net_ctx *ctx, char table, const char *chain, char err[NET_ERRLEN])
{
	const char *argv_ip[] = {tool_of(table), "-w", "-S", chain, NULL};
	const char *argv_eb[] = {"ebtables", "-L", chain, NULL};
	runner_result res;
	int rc = -EIO;

	for (int attempt = 0; attempt < NF_ATTEMPTS; attempt++) {
		runner_result_init(&res);
		rc = runner_run(&ctx->run, table == 'e' ? argv_eb : argv_ip, NULL, 0, NF_TIMEOUT_MS,
		                &res);
		if (rc) {
			errf(err, "%s: cannot run: %s", tool_of(table), strerror(-rc));
		} else if (res.exit_status == 0) {
			rc = 1;
		} else if (res.exit_status == 1 || res.exit_status == 2 || res.exit_status == 255) {
			rc = 0; /* "No chain/target/match by that name" */
		} else {
			char line[RUNNER_LINE_LEN];
			errf(err, "%s %s %s: %s", tool_of(table), table == 'e' ? "-L" : "-S", chain,
			     runner_failure_line(&res, line, sizeof(line)));
			rc = -EIO;
		}
		runner_result_dispose(&res);
		if (rc != -EIO)
			break;
	}
	return rc;
}

/* Feeds batch to the table's *-restore --noflush, retrying a lost transaction race. */
static int restore(net_ctx *ctx, char table, const char *batch, char err[NET_ERRLEN])
{
	const char *argv_ip[] = {restore_of(table), "--noflush", "--wait", NULL};
	const char *argv_eb[] = {"ebtables-restore", "--noflush", NULL};
	char line[RUNNER_LINE_LEN];
	int rc = -EIO;

	for (int attempt = 0; attempt < NF_ATTEMPTS; attempt++) {
		runner_result res;

		runner_result_init(&res);
		rc = runner_run(&ctx->run, table == 'e' ? argv_eb : argv_ip, batch, strlen(batch),
		                NF_TIMEOUT_MS, &res);
		if (rc == 0 && res.exit_status == 0) {
			runner_result_dispose(&res);
			return 0;
		}
		if (rc)
			errf(err, "%s: cannot run: %s", restore_of(table), strerror(-rc));
		else
			errf(err, "%s: %s", restore_of(table),
			     runner_failure_line(&res, line, sizeof(line)));
		runner_result_dispose(&res);
		if (rc)
			return rc;
		rc = -EIO;
	}
	return rc;
}

/* restore() of a batch this call owns and frees; NULL (the batch could not be built) is
 * -ENOMEM with err set. */
static int restore_owned(net_ctx *ctx, char table, char *batch, char err[NET_ERRLEN])
{
	int rc;

	if (!batch) {
		errf(err, "out of memory");
		return -ENOMEM;
	}
	rc = restore(ctx, table, batch, err);
	free(batch);
	return rc;
}

static const char k_tables[] = {'e', '4', '6'};

static int base_ensure(net_ctx *ctx, const void *unused, char err[NET_ERRLEN])
{
	if (!ctx->enabled)
		return 0;
	for (size_t t = 0; t < sizeof(k_tables); t++) {
		char table = k_tables[t];
		sbuf b = {0};
		int rc = chain_exists(ctx, table, NET_DISPATCH_CHAIN, err);

		if (rc < 0)
			return rc;
		if (rc == 1)
			continue; /* created together with its hooks, in one transaction */
		sb_add(&b, "*filter\n");
		if (table == 'e') {
			sb_add(&b, ":%s RETURN\n", NET_DISPATCH_CHAIN);
			sb_add(&b, "-I FORWARD -i %s -j %s\n", NET_VIF_WILDCARD,
			       NET_DISPATCH_CHAIN);
			sb_add(&b, "-I INPUT -i %s -j %s\n", NET_VIF_WILDCARD, NET_DISPATCH_CHAIN);
		} else {
			sb_add(&b, ":%s - [0:0]\n-A %s -j DROP\n", NET_DISPATCH_CHAIN,
			       NET_DISPATCH_CHAIN);
			sb_add(&b, "-I FORWARD -m physdev --physdev-in %s -j %s\n",
			       NET_VIF_WILDCARD, NET_DISPATCH_CHAIN);
			sb_add(&b, "-I INPUT -m physdev --physdev-in %s -j %s\n", NET_VIF_WILDCARD,
			       NET_DISPATCH_CHAIN);
		}
		sb_add(&b, "COMMIT\n");
		rc = restore_owned(ctx, table, sb_take(&b), err);
		if (rc)
			return rc;
	}
	return 0;
}

static int apply_locked(net_ctx *ctx, const void *arg, char err[NET_ERRLEN])
{
	const vps_spec *spec = arg;
	char ch[32];

	if (!spec_ok(spec)) {
		errf(err, "refusing a network spec that does not validate");
		return -EINVAL;
	}
	if (!ctx->enabled)
		return 0;
	snprintf(ch, sizeof(ch), "xvps-%s", spec->vifname);
	for (size_t t = 0; t < sizeof(k_tables); t++) {
		char table = k_tables[t];
		int rc = chain_exists(ctx, table, ch, err);

		if (rc < 0)
			return rc;
		rc = restore_owned(ctx, table, nf_render(spec, table, rc == 0), err);
		if (rc)
			return rc;
	}
	return 0;
}

/* Deletes one dispatch rule on its own; absent is fine. */
static void delete_hook(net_ctx *ctx, char table, const char *vif, const char *sfx, const char *ch)
{
	char dev[24];
	const char *argv_ip[] = {tool_of(table),
	                         "-w",
	                         "-D",
	                         NET_DISPATCH_CHAIN,
	                         "-m",
	                         "physdev",
	                         "--physdev-in",
	                         dev,
	                         "-g",
	                         ch,
	                         NULL};
	const char *argv_eb[] = {"ebtables", "-D", NET_DISPATCH_CHAIN, "-i", dev, "-j", ch, NULL};
	runner_result res;

	snprintf(dev, sizeof(dev), "%s%s", vif, sfx);
	runner_result_init(&res);
	runner_run(&ctx->run, table == 'e' ? argv_eb : argv_ip, NULL, 0, NF_TIMEOUT_MS, &res);
	runner_result_dispose(&res);
}

static int remove_locked(net_ctx *ctx, const void *arg, char err[NET_ERRLEN])
{
	const char *vifname = arg;
	char ch[32];

	if (!vif_ok(vifname)) {
		errf(err, "refusing an invalid vif name");
		return -EINVAL;
	}
	if (!ctx->enabled)
		return 0;
	snprintf(ch, sizeof(ch), "xvps-%s", vifname);
	/* ebtables last: its ARP gate is the first thing traffic meets, keep it longest. */
	for (int t = (int)sizeof(k_tables) - 1; t >= 0; t--) {
		char table = k_tables[t];
		sbuf b = {0};
		int rc = chain_exists(ctx, table, ch, err);

		if (rc < 0)
			return rc;
		if (rc == 0)
			continue; /* no chain, so no hook can point at it */
		sb_add(&b, "*filter\n");
		render_hooks(&b, table, "-D", vifname, ch);
		sb_add(&b, "-F %s\n-X %s\nCOMMIT\n", ch, ch);
		rc = restore_owned(ctx, table, sb_take(&b), err);
		if (rc == 0)
			continue;
		/* A hook was missing (changed by hand): delete what is there one by one. */
		delete_hook(ctx, table, vifname, "", ch);
		delete_hook(ctx, table, vifname, "-emu", ch);
		b = (sbuf){0};
		sb_add(&b, "*filter\n-F %s\n-X %s\nCOMMIT\n", ch, ch);
		rc = restore_owned(ctx, table, sb_take(&b), err);
		if (rc)
			return rc;
	}
	return 0;
}

/* One *tables transaction sequence at a time within the agent (net_ctx.nf_lock): fn(ctx, arg,
 * err) runs with the lock held. */
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

int nf_list(net_ctx *ctx, char ***vifnames_out, size_t *n_out, char err[NET_ERRLEN])
{
	const char *argv[] = {"iptables", "-w", "-S", NULL};
	runner_result res;
	char **names = NULL;
	size_t n = 0, cap = 0;
	int rc;

	*vifnames_out = NULL;
	*n_out = 0;
	if (!ctx->enabled)
		return 0;
	runner_result_init(&res);
	rc = runner_run(&ctx->run, argv, NULL, 0, NF_TIMEOUT_MS, &res);
	if (rc || res.exit_status != 0) {
		char line[RUNNER_LINE_LEN];
		errf(err, "iptables -S: %s",
		     rc ? strerror(-rc) : runner_failure_line(&res, line, sizeof(line)));
		runner_result_dispose(&res);
		return rc ? rc : -EIO;
	}
	for (char *line = res.out, *next; line && *line; line = next) {
		static const char pfx[] = "-N xvps-";
		next = strchr(line, '\n');
		if (next)
			*next++ = '\0';
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
	runner_result_dispose(&res);
	*vifnames_out = names;
	*n_out = n;
	return 0;
}
