/* netfilter_legacy.c — removes the firewall an older agent built with iptables, ip6tables and
 * ebtables (net.h, nf_legacy_cleanup): a dispatch chain NET_LEGACY_DISPATCH hooked from FORWARD
 * and INPUT and one "xvps-xvifN" chain per domain in each filter table. Left in place, its
 * iptables dispatch would drop the IP traffic of every vif that has no legacy chain, so a host
 * upgraded to the nftables table would cut off each VPS created after the upgrade. Each table
 * is read with its `*-save` and cleaned with one `*-restore --noflush` batch: the hooks that
 * jump to an "xvps-" chain are deleted, then every "xvps-" chain is flushed and deleted.
 * Also the nftables layout before issue 17 item 3 (nf_old_layout_removal): one `bridge xvps`
 * table with a verdict map "vifs" and a chain "xvps-xvifN" per domain. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../common/util.h"
#include "../hypervisor/vif_nft.h"
#include "net.h"

#define LEGACY_TIMEOUT_MS 30000

typedef struct sb {
	char *p;
	size_t len, cap;
	bool bad;
} sb;

static void sb_put(sb *b, const char *s, size_t n)
{
	if (b->bad)
		return;
	if (b->len + n + 1 > b->cap) {
		size_t cap = b->cap ? b->cap * 2 : 1024;
		while (cap < b->len + n + 1)
			cap *= 2;
		char *np = realloc(b->p, cap);
		if (!np) {
			b->bad = true;
			return;
		}
		b->p = np;
		b->cap = cap;
	}
	memcpy(b->p + b->len, s, n);
	b->len += n;
	b->p[b->len] = '\0';
}

static void sb_str(sb *b, const char *s)
{
	sb_put(b, s, strlen(s));
}

/* The restore batch that removes the xvps hooks and chains of one `*-save` output, or NULL when
 * there are none (or on ENOMEM: *oom set). */
static char *cleanup_batch(char *save, bool *oom)
{
	sb hooks = {0}, chains = {0}, out = {0};
	char *res = NULL;

	*oom = false;
	for (char *line = save, *next; line && *line; line = next) {
		next = strchr(line, '\n');
		if (next)
			*next++ = '\0';
		if (strncmp(line, ":xvps-", 6) == 0) {
			size_t n = strcspn(line + 1, " ");
			sb_str(&chains, "-F ");
			sb_put(&chains, line + 1, n);
			sb_str(&chains, "\n");
		} else if (strncmp(line, "-A ", 3) == 0 && strncmp(line, "-A xvps-", 8) != 0 &&
		           (strstr(line, " -j xvps-") || strstr(line, " -g xvps-"))) {
			sb_str(&hooks, "-D ");
			sb_str(&hooks, line + 3);
			sb_str(&hooks, "\n");
		}
	}
	if (chains.len || hooks.len) {
		sb_str(&out, "*filter\n");
		if (hooks.p)
			sb_str(&out, hooks.p);
		if (chains.p) {
			sb_str(&out, chains.p);
			/* the same names again, now deleted */
			for (char *l = chains.p; *l; l = strchr(l, '\n') + 1) {
				sb_str(&out, "-X ");
				sb_put(&out, l + 3, strcspn(l + 3, "\n"));
				sb_str(&out, "\n");
			}
		}
		sb_str(&out, "COMMIT\n");
		*oom = hooks.bad || chains.bad || out.bad;
		res = *oom ? NULL : out.p;
		if (*oom)
			free(out.p);
	}
	free(hooks.p);
	free(chains.p);
	return res;
}

char *nf_old_layout_removal(net_ctx *ctx)
{
	char *text = NULL, e[NET_ERRLEN] = "", line_out[96];
	sb b = {0};

	if (net_nft(ctx, "list table " NET_NFT_GUARD "\n", false, &text, e) != 0 || !text)
		return NULL;
	for (char *line = text, *next; *line; line = next) {
		next = strchr(line, '\n');
		if (next)
			*next++ = '\0';
		else
			next = line + strlen(line);
		line += strspn(line, " \t");
		char *end = strstr(line, " {");
		if (!end)
			continue;
		*end = '\0';
		const char *v = line + 11; /* after "chain xvps-" */
		char tbl[32];
		if (strcmp(line, "map vifs") == 0) {
			sb_str(&b, "delete map " NET_NFT_GUARD " vifs\n");
		} else if (strncmp(line, "chain xvps-", 11) == 0 && vif_nft_table(v, tbl)) {
			snprintf(line_out, sizeof(line_out),
			         "flush chain " NET_NFT_GUARD
			         " xvps-%s\ndelete chain " NET_NFT_GUARD " xvps-%s\n",
			         v, v);
			sb_str(&b, line_out);
		}
	}
	free(text);
	if (b.bad) {
		free(b.p);
		return NULL;
	}
	return b.p ? b.p : strdup("");
}

int nf_legacy_cleanup(net_ctx *ctx, char err[NET_ERRLEN])
{
	static const char *const k_tool[] = {"ebtables", "iptables", "ip6tables"};
	static const char *const save[][4] = {{"ebtables-save", "-t", "filter", NULL},
	                                      {"iptables-save", "-t", "filter", NULL},
	                                      {"ip6tables-save", "-t", "filter", NULL}};
	static const char *const restore[][4] = {
	        {"ebtables-restore", "--noflush", NULL, NULL},
	        {"iptables-restore", "--noflush", "--wait", NULL},
	        {"ip6tables-restore", "--noflush", "--wait", NULL}};

	if (!ctx->enabled)
		return 0;
	for (size_t t = 0; t < 3; t++) {
		runner_result res;
		char *batch, line[RUNNER_LINE_LEN];
		bool oom;
		int rc;

		runner_result_init(&res);
		rc = runner_run(&ctx->run, save[t], NULL, 0, LEGACY_TIMEOUT_MS, &res);
		if (rc || res.exit_status != 0 || !res.out) {
			runner_result_dispose(&res);
			continue; /* no such tool or table here: nothing an older agent left */
		}
		batch = cleanup_batch(res.out, &oom);
		runner_result_dispose(&res);
		if (oom) {
			errfmt(err, NET_ERRLEN, "out of memory");
			return -ENOMEM;
		}
		if (!batch)
			continue;
		log_info("removing the %s chains an older agent left", k_tool[t]);
		runner_result_init(&res);
		rc = runner_run(&ctx->run, restore[t], batch, strlen(batch), LEGACY_TIMEOUT_MS,
		                &res);
		free(batch);
		if (rc || res.exit_status != 0) {
			errfmt(err, NET_ERRLEN, "%s (removing legacy chains): %s", restore[t][0],
			       rc ? strerror(-rc) : runner_failure_line(&res, line, sizeof(line)));
			runner_result_dispose(&res);
			return rc ? rc : -EIO;
		}
		runner_result_dispose(&res);
	}
	return 0;
}
