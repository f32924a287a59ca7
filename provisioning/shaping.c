/* shaping.c — per-vif rate limiting (see net.h).
 *
 * Traffic TO the guest: a root tbf on the vif, and on the tap "<vif>-emu" of an HVM guest's
 * emulated NIC when it exists.
 * Traffic FROM the guest: a policer in the domain's own nftables table (netfilter.c, nf_police):
 * its chain "rate", jumped to first by the netdev ingress hook of the vif and of the tap, holds
 * `limit rate over R bytes/second burst B bytes drop`, so both NICs share one from-guest rate.
 * Before issue 17 item 3 an ingress qdisc redirected that traffic to an ifb device with its own
 * tbf; a frame the ifb sends back skips the netdev ingress hook (the kernel marks it "skip
 * classify"), so it would bypass the domain's firewall: a domain shaped that way by an older
 * agent is moved to the policer (its ingress qdisc and ifb removed) at its next shaping.
 *
 * Every step is a `replace` (or guarded by an existence check on <sysfs_net>/<dev>), so
 * shape_apply is idempotent and safe to repeat after a crash half-way. Under emulation each
 * process start costs a second or more (issue 17 item 6), so shaping starts none: every qdisc
 * and link change is one rtnetlink request (tc_nl.c, net_tc), every policer one nftables
 * transaction. */
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include "../common/util.h"
#include "../common/validate.h"
#include "../hypervisor/vif_link.h"
#include "net.h"

#define SHAPE_MAX_MBIT   100000
#define SHAPE_MIN_BURST  16384u /* bytes: well above one MTU-sized frame + overhead */
#define SHAPE_LATENCY_MS 50     /* how long a packet may wait in a tbf: its queue's limit */
#define SHAPE_POLL_MS    20

int shape_rate_mbit(const vps_spec *spec)
{
	int net = spec->net_mbit, thr = spec->throttle_mbit;

	if (thr > 0 && (net == 0 || thr < net))
		return thr;
	return net;
}

/* Burst in bytes for a rate: 10 ms of traffic (rate_bytes/100), at least SHAPE_MIN_BURST.
 * tbf needs burst >= rate/HZ (4 ms at HZ=250, 10 ms at HZ=100) or it cannot reach the rate;
 * 10 ms satisfies every HZ Linux allows. At 1 mbit the floor (16 KiB = 131 ms) dominates. */
static unsigned long long shape_burst(int rate_mbit)
{
	unsigned long long b = (unsigned long long)rate_mbit * 1000000ull / 8ull / 100ull;

	return b > SHAPE_MIN_BURST ? b : SHAPE_MIN_BURST;
}

/* The policer's burst in bytes: 250 ms of traffic, at least 64 KiB. A policer drops what a tbf
 * would queue, and TCP halves its window at each drop (and remembers the lower threshold for
 * the next connection to the same host): with 100 ms one netns run in nine measured a first
 * stream at 15.6 of 20 Mbit/s; 250 ms kept five runs within a few percent while the long-run
 * average stays the rate (one later run, a first stream measured over 4 s, still gave 15.9: see
 * tests/netns/run.sh, measure). The kernel's byte `limit` (nft_limit) holds one second of the
 * rate in its bucket on top of this burst (tokens_max = unit * (rate + burst) / rate). */
static unsigned long long police_burst(int rate_mbit)
{
	unsigned long long b = (unsigned long long)rate_mbit * 1000000ull / 8ull / 4ull;

	return b > 65536ull ? b : 65536ull;
}

int net_ifindex(const char *dev)
{
	vif_link l;
	char e[VIF_LINK_ERRLEN];

	return vif_link_get(dev, &l, e) == 0 ? l.ifindex : 0;
}

bool net_dev_exists(const net_ctx *ctx, const char *dev)
{
	char path[NET_PATH_LEN];
	struct stat st;

	if (strcmp(ctx->sysfs_net, "/sys/class/net") == 0)
		return net_ifindex(dev) > 0;
	if (!sfmt(path, sizeof(path), "%s/%s", ctx->sysfs_net, dev))
		return false;
	return stat(path, &st) == 0;
}

/* Validates vifname and derives its ifb name. -EINVAL with err set when either fails. */
static int check_names(const char *vifname, char ifb[16], char err[NET_ERRLEN])
{
	const char *why = NULL;

	if (!vifname || !valid_vifname(vifname, &why)) {
		snprintf(err, NET_ERRLEN, "%s", why ? why : "The vif name is missing.");
		return -EINVAL;
	}
	if (!net_ifbname_of(vifname, ifb)) {
		snprintf(err, NET_ERRLEN,
		         "The vif name %s has no ifb device name (it must be %sN).", vifname,
		         NET_VIF_PREFIX);
		return -EINVAL;
	}
	return 0;
}

/* Polls <sysfs_net>/<vifname> every SHAPE_POLL_MS for up to ctx->vif_wait_ms. */
static bool wait_for_vif(const net_ctx *ctx, const char *vifname)
{
	uint64_t deadline = now_mono_ns() +
	                    (uint64_t)(ctx->vif_wait_ms > 0 ? ctx->vif_wait_ms : 0) * 1000000ull;

	for (;;) {
		if (net_dev_exists(ctx, vifname))
			return true;
		uint64_t now = now_mono_ns();
		if (now >= deadline)
			return false;
		uint64_t left = deadline - now, step = (uint64_t)SHAPE_POLL_MS * 1000000ull;
		if (step > left)
			step = left;
		struct timespec ts = {.tv_sec = (time_t)(step / 1000000000ull),
		                      .tv_nsec = (long)(step % 1000000000ull)};
		nanosleep(&ts, NULL);
	}
}

/* The root tbf's handle major for a rate: the rate itself up to 0xfffe Mbit/s (0xffff: is the
 * ingress qdisc's), 0xfffe: above. Why per rate: a qdisc replace with the handle in force
 * changes that tbf in place, and packets it queued under a larger burst (GSO super-packets of
 * up to 64 KiB, accepted whole while the burst held them) never fit the new, smaller bucket: the
 * queue wedges for good (seen with a quota throttle, 800 -> 20 Mbit/s, landing mid-stream on
 * kernel 6.18: the ifb's tbf held its backlog with `overlimits` growing and nothing sent). A new
 * rate gets a new handle, so the kernel grafts a fresh tbf in one step (the old one's backlog is
 * dropped; TCP resends it) and never leaves the device unshaped. The same rate keeps its handle:
 * a repeated apply changes nothing. Rates above 0xfffe Mbit/s share one handle; their bursts
 * (over 8 MB) hold any queued packet. */
static unsigned tbf_major(int rate_mbit)
{
	return rate_mbit < 0xfffe ? (unsigned)rate_mbit : 0xfffeu;
}

/* The tbf on dev for rate_mbit: burst shape_burst, and a queue of SHAPE_LATENCY_MS of traffic
 * past the burst (what `tc ... tbf latency 50ms` computes). */
static int tbf_replace(net_ctx *ctx, const char *dev, int rate_mbit, char err[NET_ERRLEN])
{
	unsigned long long rate = (unsigned long long)rate_mbit * 125000ull;
	unsigned long long burst = shape_burst(rate_mbit);
	unsigned long long limit = rate * SHAPE_LATENCY_MS / 1000ull + burst;
	net_tc_op op = {.kind = NET_TC_TBF,
	                .dev = dev,
	                .major = tbf_major(rate_mbit),
	                .rate_bytes = rate,
	                .burst = (unsigned)burst,
	                .limit = limit > 0xffffffffull ? 0xffffffffu : (unsigned)limit};

	return net_tc(ctx, &op, err);
}

/* Removes dev's root and ingress qdiscs (the filter goes with the ingress qdisc), when dev
 * exists; absent qdiscs are fine. */
static int unshape_dev(net_ctx *ctx, const char *dev, char err[NET_ERRLEN])
{
	net_tc_op root = {.kind = NET_TC_DEL_ROOT, .dev = dev};
	int rc;

	if (!net_dev_exists(ctx, dev))
		return 0;
	if ((rc = net_tc(ctx, &root, err)) != 0)
		return rc;
	net_tc_op ingress = {.kind = NET_TC_DEL_INGRESS, .dev = dev};
	return net_tc(ctx, &ingress, err);
}

/* What an older agent left for the traffic from the guest: the vif's and tap's ingress qdisc
 * (with its redirect) and the ifb device. Nothing to do costs one stat. */
static int drop_ifb_layout(net_ctx *ctx, const char *vifname, const char *ifb, char err[NET_ERRLEN])
{
	net_tc_op del = {.kind = NET_TC_DEL_LINK, .dev = ifb};
	char emu[24];
	int rc;

	if (!net_dev_exists(ctx, ifb))
		return 0;
	snprintf(emu, sizeof(emu), "%s-emu", vifname);
	for (int i = 0; i < 2; i++) {
		net_tc_op ingress = {.kind = NET_TC_DEL_INGRESS, .dev = i ? emu : vifname};
		if (net_dev_exists(ctx, ingress.dev) && (rc = net_tc(ctx, &ingress, err)) != 0)
			return rc;
	}
	return net_tc(ctx, &del, err);
}

int shape_prepare(net_ctx *ctx, const char *vifname, int rate_mbit, char err[NET_ERRLEN])
{
	char ifb[16];

	err[0] = '\0';
	return check_names(vifname, ifb, err); /* nothing to make ahead any more */
}

int shape_apply(net_ctx *ctx, const char *vifname, int rate_mbit, char err[NET_ERRLEN])
{
	char ifb[16], emu[24];
	int rc;

	err[0] = '\0';
	if ((rc = check_names(vifname, ifb, err)) != 0)
		return rc;
	if (rate_mbit < 0 || rate_mbit > SHAPE_MAX_MBIT) {
		snprintf(err, NET_ERRLEN, "The rate must be between 0 and %d Mbit/s.",
		         SHAPE_MAX_MBIT);
		return -EINVAL;
	}
	if (!ctx->enabled)
		return 0;
	if (rate_mbit == 0)
		return shape_remove(ctx, vifname, err);
	if (!wait_for_vif(ctx, vifname)) {
		snprintf(err, NET_ERRLEN,
		         "The network interface %s did not appear within %d ms; the domain's "
		         "network is not up, so it cannot be shaped.",
		         vifname, ctx->vif_wait_ms);
		return -ENODEV;
	}
	/* Traffic from the guest: the policer in the domain's table. */
	if ((rc = drop_ifb_layout(ctx, vifname, ifb, err)) != 0)
		return rc;
	if ((rc = nf_police(ctx, vifname, (unsigned long long)rate_mbit * 125000ull,
	                    police_burst(rate_mbit), err)) != 0)
		return rc;
	/* Traffic to the guest: the vif's tbf, and the emulated NIC's when its tap is there (not
	 * waited for). */
	if ((rc = tbf_replace(ctx, vifname, rate_mbit, err)) != 0)
		return rc;
	snprintf(emu, sizeof(emu), "%s-emu", vifname);
	if (net_dev_exists(ctx, emu))
		return tbf_replace(ctx, emu, rate_mbit, err);
	return 0;
}

int shape_remove(net_ctx *ctx, const char *vifname, char err[NET_ERRLEN])
{
	char ifb[16], emu[24];
	int rc;

	err[0] = '\0';
	if ((rc = check_names(vifname, ifb, err)) != 0)
		return rc;
	if (!ctx->enabled)
		return 0;
	snprintf(emu, sizeof(emu), "%s-emu", vifname);
	if ((rc = unshape_dev(ctx, vifname, err)) != 0 || (rc = unshape_dev(ctx, emu, err)) != 0)
		return rc;
	rc = nf_police(ctx, vifname, 0, 0, err);
	if (rc == -ENOENT) /* no table: nothing polices this vif */
		rc = 0;
	if (rc)
		return rc;
	err[0] = '\0';
	net_tc_op del = {.kind = NET_TC_DEL_LINK, .dev = ifb};
	if (net_dev_exists(ctx, ifb))
		return net_tc(ctx, &del, err);
	return 0;
}

int shape_list_ifbs(net_ctx *ctx, char ***ifbs_out, size_t *n_out, char err[NET_ERRLEN])
{
	char **names = NULL;
	size_t n = 0, k = 0;
	int rc;

	*ifbs_out = NULL;
	*n_out = 0;
	err[0] = '\0';
	if (!ctx->enabled)
		return 0; /* not managing the host: nothing of ours to report */
	rc = list_dir_names(ctx->sysfs_net, NET_IFB_PREFIX, "", &names, &n);
	if (rc != 0) {
		snprintf(err, NET_ERRLEN, "Cannot list %s: %s.", ctx->sysfs_net, strerror(-rc));
		return rc;
	}
	/* Keep only names with something after the prefix. */
	for (size_t i = 0; i < n; i++) {
		if (strlen(names[i]) > strlen(NET_IFB_PREFIX))
			names[k++] = names[i];
		else
			free(names[i]);
	}
	if (k == 0) {
		free(names);
		return 0;
	}
	*ifbs_out = names;
	*n_out = k;
	return 0;
}
