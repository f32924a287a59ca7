/* shaping.c — per-vif rate limiting (see net.h).
 *
 * Traffic TO the guest: a root tbf on the vif (tc), and on the tap "<vif>-emu" of an HVM guest's
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
 * shape_apply is idempotent and safe to repeat after a crash half-way. Commands run only
 * through ctx->run, as argv arrays. Under emulation each process start costs a second or more
 * (issue 17 item 6), so shape_apply starts one: `tc -batch -` whose lines (stdin, one argv per
 * line, validated names and numbers only) are the qdiscs in order; tc stops at the first line
 * that fails and names it ("Command failed -:N"). */
#include <errno.h>
#include <net/if.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include "../common/util.h"
#include "../common/validate.h"
#include "net.h"

#define SHAPE_MAX_MBIT   100000
#define SHAPE_MIN_BURST  16384u /* bytes: well above one MTU-sized frame + overhead */
#define SHAPE_LATENCY    "50ms"
#define SHAPE_TIMEOUT_MS 30000 /* one tc under emulation on a loaded host took over 10 s */
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
 * stream at 15.6 of 20 Mbit/s; 250 ms kept every run within a few percent while the long-run
 * average stays the rate. */
static unsigned long long police_burst(int rate_mbit)
{
	unsigned long long b = (unsigned long long)rate_mbit * 1000000ull / 8ull / 4ull;

	return b > 65536ull ? b : 65536ull;
}

bool net_dev_exists(const net_ctx *ctx, const char *dev)
{
	char path[NET_PATH_LEN];
	struct stat st;

	if (strcmp(ctx->sysfs_net, "/sys/class/net") == 0)
		return if_nametoindex(dev) != 0;
	if (!sfmt(path, sizeof(path), "%s/%s", ctx->sysfs_net, dev))
		return false;
	return stat(path, &st) == 0;
}

/* Error messages a delete may answer when what it deletes is already gone. */
static bool absent_error(const char *msg)
{
	static const char *const pats[] = {
	        "Cannot delete qdisc with handle of zero", /* no root qdisc of ours */
	        "Invalid handle",                          /* no ingress qdisc */
	        "Cannot find device",                      /* the device went away meanwhile */
	        "No such file or directory",
	        "No such device",
	        "Cannot find specified qdisc",
	};
	for (size_t i = 0; i < sizeof(pats) / sizeof(pats[0]); i++)
		if (msg && strstr(msg, pats[i]))
			return true;
	return false;
}

/* Runs one tc command (stdin: input, len bytes, or none). tc exits 2 with "Dump was
 * interrupted" when another netlink change (another vif coming or going) lands during its
 * dump: nothing was done (every command here is a replace or a delete), so it runs again, up
 * to 5 times, 20, 40, 60, 80 ms apart. Returns 1 on success (res disposed), else the runner's
 * return code (0: the command ran and failed; -errno: it did not start) with res to read and
 * dispose. */
static int run_tc(net_ctx *ctx, const char *const argv[], const char *input, size_t len,
                  runner_result *res)
{
	int rc;

	for (int attempt = 0;; attempt++) {
		runner_result_init(res);
		rc = runner_run(&ctx->run, argv, input, len, SHAPE_TIMEOUT_MS, res);
		if (runner_ok(rc, res)) {
			runner_result_dispose(res);
			return 1;
		}
		if (rc != 0 || attempt >= 4 || !res->err ||
		    !strstr(res->err, "Dump was interrupted"))
			return rc;
		runner_result_dispose(res);
		struct timespec ts = {0, (long)(attempt + 1) * 20 * 1000 * 1000};
		nanosleep(&ts, NULL);
	}
}

/* Runs argv through ctx->run. With tolerate_absent, a failure whose stderr says the object
 * is already gone counts as success. Returns 0, the runner's -errno (command not started) or
 * -EIO (command failed), with err naming the command and its first stderr line. */
static int run_cmd(net_ctx *ctx, const char *const argv[], bool tolerate_absent,
                   char err[NET_ERRLEN])
{
	runner_result res;
	char line[RUNNER_LINE_LEN];
	int rc;

	rc = run_tc(ctx, argv, NULL, 0, &res);
	if (rc == 1)
		return 0;
	runner_first_line(res.err, line, sizeof(line));
	if (rc == 0 && !res.timed_out && tolerate_absent && absent_error(line)) {
		runner_result_dispose(&res);
		return 0;
	}
	char *cmd = runner_argv_str(argv);
	if (rc < 0)
		snprintf(err, NET_ERRLEN, "Cannot run `%s`: %s.", cmd ? cmd : argv[0],
		         strerror(-rc));
	else if (res.timed_out)
		snprintf(err, NET_ERRLEN, "`%s` timed out after %d ms.", cmd ? cmd : argv[0],
		         SHAPE_TIMEOUT_MS);
	else
		snprintf(err, NET_ERRLEN, "`%s` failed (exit status %d): %s", cmd ? cmd : argv[0],
		         res.exit_status, line[0] ? line : "no message");
	free(cmd);
	runner_result_dispose(&res);
	return rc < 0 ? rc : -EIO;
}

/* A `tc -batch -` script: its lines, one tc command each (without "tc"), for the error message. */
typedef struct tc_batch {
	char text[2048];
	size_t len;
	const char *lines[16];
	size_t n;
	bool full;
} tc_batch;

/* Appends one command (argv without the leading "tc", NULL-terminated) as a line. */
static void batch_add(tc_batch *b, const char *const argv[])
{
	size_t start = b->len;

	if (b->n >= sizeof(b->lines) / sizeof(b->lines[0])) {
		b->full = true;
		return;
	}
	for (size_t i = 0; argv[i]; i++) {
		int n = snprintf(b->text + b->len, sizeof(b->text) - b->len, "%s%s", i ? " " : "",
		                 argv[i]);
		if (n < 0 || (size_t)n >= sizeof(b->text) - b->len) {
			b->full = true;
			return;
		}
		b->len += (size_t)n;
	}
	if (b->len + 1 >= sizeof(b->text)) {
		b->full = true;
		return;
	}
	b->text[b->len++] = '\n';
	b->text[b->len] = '\0';
	b->lines[b->n++] = b->text + start;
}

/* Runs the batch through one `tc -batch -`; "Dump was interrupted" runs it again (every line
 * is a replace). Returns 0, the runner's -errno or -EIO, err naming the line that failed. */
static int run_batch(net_ctx *ctx, const tc_batch *b, char err[NET_ERRLEN])
{
	const char *argv[] = {"tc", "-batch", "-", NULL};
	char line[RUNNER_LINE_LEN];
	runner_result res;
	int rc;

	if (b->full) {
		snprintf(err, NET_ERRLEN, "The tc batch does not fit its buffer.");
		return -ENOSPC;
	}
	if (b->n == 0)
		return 0;
	rc = run_tc(ctx, argv, b->text, b->len, &res);
	if (rc == 1)
		return 0;
	if (rc < 0) {
		snprintf(err, NET_ERRLEN, "Cannot run `tc -batch -`: %s.", strerror(-rc));
		runner_result_dispose(&res);
		return rc;
	}
	/* Which line: tc prints "Command failed -:N" after the line's own error. */
	const char *cf = res.err ? strstr(res.err, "Command failed -:") : NULL;
	long ln = cf ? strtol(cf + 17, NULL, 10) : 0;
	char cmd[200] = "tc -batch -";
	if (ln >= 1 && (size_t)ln <= b->n) {
		size_t l = strcspn(b->lines[ln - 1], "\n");
		snprintf(cmd, sizeof(cmd), "tc %.*s", (int)(l < 190 ? l : 190), b->lines[ln - 1]);
	}
	runner_first_line(res.err, line, sizeof(line));
	if (res.timed_out)
		snprintf(err, NET_ERRLEN, "`tc -batch -` timed out after %d ms.", SHAPE_TIMEOUT_MS);
	else
		snprintf(err, NET_ERRLEN, "`%s` failed (exit status %d): %.200s", cmd,
		         res.exit_status,
		         line[0] && strncmp(line, "Command failed", 14) != 0 ? line : "no message");
	runner_result_dispose(&res);
	return -EIO;
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

/* The root tbf's handle for a rate: the rate itself up to 0xfffe Mbit/s (0xffff: is the
 * ingress qdisc's), 0xfffe: above. Why per rate: `tc qdisc replace` with the handle in force
 * changes that tbf in place, and packets it queued under a larger burst (GSO super-packets of
 * up to 64 KiB, accepted whole while the burst held them) never fit the new, smaller bucket: the
 * queue wedges for good (seen with a quota throttle, 800 -> 20 Mbit/s, landing mid-stream on
 * kernel 6.18: the ifb's tbf held its backlog with `overlimits` growing and nothing sent). A new
 * rate gets a new handle, so the kernel grafts a fresh tbf in one step (the old one's backlog is
 * dropped; TCP resends it) and never leaves the device unshaped. The same rate keeps its handle:
 * a repeated apply changes nothing. Rates above 0xfffe Mbit/s share one handle; their bursts
 * (over 8 MB) hold any queued packet. */
static void tbf_handle(int rate_mbit, char out[16])
{
	snprintf(out, 16, "%x:", rate_mbit < 0xfffe ? (unsigned)rate_mbit : 0xfffeu);
}

static void tbf_replace(tc_batch *b, const char *dev, int rate_mbit, const char *rate,
                        const char *burst)
{
	char handle[16];
	const char *argv[] = {"qdisc",  "replace", "dev",     dev,           "root",
	                      "handle", handle,    "tbf",     "rate",        rate,
	                      "burst",  burst,     "latency", SHAPE_LATENCY, NULL};

	tbf_handle(rate_mbit, handle);
	batch_add(b, argv);
}

/* Removes dev's root and ingress qdiscs (the filter goes with the ingress qdisc), when dev
 * exists; absent qdiscs are fine. */
static int unshape_dev(net_ctx *ctx, const char *dev, char err[NET_ERRLEN])
{
	const char *root[] = {"tc", "qdisc", "del", "dev", dev, "root", NULL};
	const char *ingress[] = {"tc", "qdisc", "del", "dev", dev, "ingress", NULL};
	int rc;

	if (!net_dev_exists(ctx, dev))
		return 0;
	if ((rc = run_cmd(ctx, root, true, err)) != 0)
		return rc;
	return run_cmd(ctx, ingress, true, err);
}

/* What an older agent left for the traffic from the guest: the vif's and tap's ingress qdisc
 * (with its redirect) and the ifb device. Nothing to do costs one stat. */
static int drop_ifb_layout(net_ctx *ctx, const char *vifname, const char *ifb, char err[NET_ERRLEN])
{
	const char *del[] = {"ip", "link", "del", ifb, NULL};
	char emu[24];
	int rc;

	if (!net_dev_exists(ctx, ifb))
		return 0;
	snprintf(emu, sizeof(emu), "%s-emu", vifname);
	for (int i = 0; i < 2; i++) {
		const char *dev = i ? emu : vifname;
		const char *ingress[] = {"tc", "qdisc", "del", "dev", dev, "ingress", NULL};
		if (net_dev_exists(ctx, dev) && (rc = run_cmd(ctx, ingress, true, err)) != 0)
			return rc;
	}
	return run_cmd(ctx, del, true, err);
}

int shape_prepare(net_ctx *ctx, const char *vifname, int rate_mbit, char err[NET_ERRLEN])
{
	char ifb[16];

	err[0] = '\0';
	return check_names(vifname, ifb, err); /* nothing to make ahead any more */
}

int shape_apply(net_ctx *ctx, const char *vifname, int rate_mbit, char err[NET_ERRLEN])
{
	char ifb[16], rate[32], burst[32], emu[24];
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
	snprintf(rate, sizeof(rate), "%dmbit", rate_mbit);
	snprintf(burst, sizeof(burst), "%llu", shape_burst(rate_mbit));

	/* Traffic from the guest: the policer in the domain's table (no process). */
	if ((rc = drop_ifb_layout(ctx, vifname, ifb, err)) != 0)
		return rc;
	if ((rc = nf_police(ctx, vifname, (unsigned long long)rate_mbit * 125000ull,
	                    police_burst(rate_mbit), err)) != 0)
		return rc;
	/* Traffic to the guest, in one tc: the vif's tbf, and the emulated NIC's when its tap is
	 * there (not waited for). */
	tc_batch *b = calloc(1, sizeof(*b));
	if (!b) {
		snprintf(err, NET_ERRLEN, "Out of memory.");
		return -ENOMEM;
	}
	tbf_replace(b, vifname, rate_mbit, rate, burst);
	snprintf(emu, sizeof(emu), "%s-emu", vifname);
	if (net_dev_exists(ctx, emu))
		tbf_replace(b, emu, rate_mbit, rate, burst);
	rc = run_batch(ctx, b, err);
	free(b);
	return rc;
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
	if (net_dev_exists(ctx, ifb)) {
		const char *del[] = {"ip", "link", "del", ifb, NULL};
		if ((rc = run_cmd(ctx, del, true, err)) != 0)
			return rc;
	}
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
