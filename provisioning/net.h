/* net.h — per-domain networking on the host kernel, done only by xvps-agent (root):
 *   netfilter.c  anti-spoofing rules per domain, each in a native nftables table of its own
 *                (netdev family, hooked on the ingress of the domain's vif: hypervisor/vif_nft.h),
 *                one atomic transaction per change (a libnftnl batch, nft_batch.c; or
 *                libnftables, nft.c), behind a bridge guard that drops unhooked vifs' frames;
 *   shaping.c    tc: the plan's net_mbit (or a throttle) on both directions of the vif
 *                (egress: tbf on the vif = traffic to the guest; ingress: redirected by a u32
 *                match-all filter, handle 800::800, to an ifb device with its own tbf = traffic
 *                from the guest; the host kernel has no matchall classifier);
 *   netcount.c   per-vif byte/packet counters in one sweep, accumulated across counter resets
 *                (vif re-created on reboot) so no byte is counted twice or lost. With the real
 *                /sys/class/net the same counters (rtnl_link_stats64, what sysfs statistics/
 *                shows) come from one RTM_GETLINK dump: 5,000 sysfs reads for 1,000 vifs cost
 *                49-62 ms of CPU here, the dump ~6 ms; any other sysfs_net is read file by file.
 * Every name and address here has already passed spec.c; these functions still refuse any
 * vifname that valid_vifname() rejects. With ctx->enabled false (agent not root, XVPS_NET=off)
 * every call succeeds without touching the host.
 *
 * Return convention: 0 or a negative errno, with a sentence in err (NET_ERRLEN bytes) where the
 * function takes one. */
#ifndef XVPS_NET_H
#define XVPS_NET_H

#include <json-c/json.h>
#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "../common/runner.h"
#include "spec.h"

/* A file under net_ctx.state_dir (256 bytes) such as shaping.json. */
#define NET_PATH_LEN 300

#define NET_ERRLEN 512

/* Names. A domain "xvps-N" always has vifname "xvifN" (spec.c enforces it), its rules are the
 * chain "filter" of the nftables table "netdev xvps-xvifN" (hypervisor/vif_nft.h), its ifb
 * device is "xifbN". The guard, table NET_NFT_GUARD with base chain NET_NFT_BASE, is made once
 * at agent start; every vif matches the interface wildcard NET_VIF_WILDCARD. The legacy
 * iptables dispatch chain NET_LEGACY_DISPATCH is removed at start when an older agent left it. */
#define NET_NFT_GUARD       "bridge xvps"
#define NET_NFT_BASE        "prerouting"
#define NET_LEGACY_DISPATCH "xvps-vifs"
#define NET_VIF_PREFIX      "xvif"
#define NET_VIF_WILDCARD    "xvif*"
#define NET_IFB_PREFIX      "xifb"

/* One vif's accumulated counters, from the guest's point of view:
 * rx = bytes/packets the guest received (the vif's tx), tx = the guest sent (the vif's rx). */
typedef struct net_counter {
	char name[32]; /* domain, "xvps-N" */
	char vifname[16];
	int ifindex;     /* ifindex at the last read, 0 when never seen */
	uint64_t raw[4]; /* last raw sysfs values: vif rx_bytes, tx_bytes, rx_packets, tx_packets */
	uint64_t rx_bytes, tx_bytes, rx_packets, tx_packets; /* accumulated totals */
	bool present;                                        /* the vif existed at the last sweep */
} net_counter;

/* The rate a domain's vif was shaped to, and the vif's ifindex then (vps_net.c). */
typedef struct net_shape {
	char name[32];
	char vifname[16];
	int rate_mbit;
	int ifindex;
} net_shape;

/* The nftables seam (nft.c): runs one command buffer, a single transaction when it changes
 * anything; check_only validates it against the kernel without committing; out (when not NULL)
 * receives what a list command printed (heap). Unit tests put a fake here. Returns 0, -ENOENT
 * (an object the buffer names does not exist) or another -errno, with err set. */
typedef int (*net_nft_fn)(void *arg, const char *cmds, bool check_only, char **out,
                          char err[NET_ERRLEN]);

/* The qdisc and link changes shaping makes (tc_nl.c). */
typedef enum net_tc_kind {
	NET_TC_TBF,         /* replace dev's root qdisc by a tbf (handle major:0) */
	NET_TC_DEL_ROOT,    /* delete dev's root qdisc */
	NET_TC_DEL_INGRESS, /* delete dev's ingress qdisc (and its filters) */
	NET_TC_DEL_LINK,    /* delete the device */
} net_tc_kind;

typedef struct net_tc_op {
	net_tc_kind kind;
	const char *dev;               /* 1..15 characters */
	unsigned major;                /* NET_TC_TBF: the handle's major, 1..0xfffe */
	unsigned long long rate_bytes; /* NET_TC_TBF: bytes per second, > 0 */
	unsigned burst;                /* NET_TC_TBF: the bucket, bytes, > 0 */
	unsigned limit;                /* NET_TC_TBF: bytes that may queue, burst included */
} net_tc_op;

/* A fake for net_tc in unit tests: line is the change as the equivalent tc / ip command line
 * (net_tc_line). Returns 0 or -errno (ENOENT / ENODEV: absent) with err set. */
typedef int (*net_tc_fn)(void *arg, const char *line, char err[NET_ERRLEN]);

typedef struct net_ctx {
	runner run;            /* the one runner (processes: the legacy *tables cleanup) */
	net_tc_fn tc;          /* NULL: rtnetlink in process (tc_nl.c); else a fake */
	void *tc_arg;          /* tc's first argument */
	net_nft_fn nft;        /* NULL: libnftables in process (nft.c); else a fake */
	void *nft_arg;         /* nft's first argument */
	void *nft_handle;      /* libnftables context, made on first use (nft.c) */
	void *nl_handle;       /* netfilter netlink socket, opened on first use (nft_batch.c) */
	int nf_reject;         /* 0 not probed yet, 1 bridge `reject` works, -1 it does not */
	bool enabled;          /* false: every call is a successful no-op */
	char sysfs_net[256];   /* "/sys/class/net"; unit tests point it at a fake tree */
	char state_dir[256];   /* "$XVPS_STATE/net": counters.json lives here */
	int vif_wait_ms;       /* how long shaping waits for a vif to appear (default 60000) */
	pthread_mutex_t lock;  /* guards counters */
	net_counter *counters; /* n_counters entries, sorted by name */
	size_t n_counters;
	pthread_mutex_t shape_lock; /* guards shapes (vps_net.c; shaping.json in state_dir) */
	pthread_mutex_t nf_lock;    /* one nftables transaction at a time (and nft_handle) */
	net_shape *shapes;
	size_t n_shapes;
	bool shapes_loaded;
} net_ctx;

/* Fills ctx: creates state_dir (0700) and loads counters.json when present.
 * Returns 0 or -errno with err set. Free with net_ctx_dispose. */
int net_ctx_init(net_ctx *ctx, runner run, bool enabled, const char *sysfs_net,
                 const char *state_dir, char err[NET_ERRLEN]);
void net_ctx_dispose(net_ctx *ctx);

/* "xvps-N" -> "xvifN" / "xifbN" into out[16]. False when name is not valid_domain_name or the
 * result would exceed 11 characters. */
bool net_vifname_of(const char *name, char out[16]);
bool net_ifbname_of(const char *vifname, char out[16]);

/* ---- tc_nl.c ------------------------------------------------------------------------- */

/* Makes op in the calling thread's network namespace through rtnetlink (no process), or
 * through ctx->tc when set. A delete of something absent (no such qdisc, the device's default
 * qdisc, no such device) is 0. Returns 0, -EINVAL (bad op) or the kernel's -errno with err
 * naming the change as its tc / ip command line and the kernel's own message. */
int net_tc(net_ctx *ctx, const net_tc_op *op, char err[NET_ERRLEN]);

/* op as the tc / ip command line that makes the same change (bytes per second are tc's "bps"),
 * into out[len]. False when it does not fit. */
bool net_tc_line(const net_tc_op *op, char *out, size_t len);

/* ---- nft.c --------------------------------------------------------------------------- */

/* Runs cmds through ctx->nft, or libnftables when that is NULL (see net_nft_fn). The caller
 * holds ctx->nf_lock. */
int net_nft(net_ctx *ctx, const char *cmds, bool check_only, char **out, char err[NET_ERRLEN]);

/* Frees the libnftables context and the batch socket (net_ctx_dispose calls it). */
void net_nft_close(net_ctx *ctx);

struct mnl_socket;

/* ---- nft_batch.c ---------------------------------------------------------------------- */

/* The devices a domain's table hooks (nf_render, nf_batch_apply): its vif, its "-emu" tap. */
#define NF_HOOK_VIF 1u
#define NF_HOOK_EMU 2u

/* nf_render's transaction for spec (checked by the caller), rule for rule the same
 * expressions, built with libnftnl and sent as one nfnetlink batch: no text to parse and no
 * cache of the ruleset fetched first. Returns 0, -ENOENT (a hooked device went away), -E2BIG
 * (larger than one batch of 64 KiB: use the text path) or another -errno, with err set. Caller
 * holds nf_lock. */
int nf_batch_apply(net_ctx *ctx, const vps_spec *spec, bool reject, unsigned hooks,
                   char err[NET_ERRLEN]);

/* One batch with only the hooks of vifname (NF_HOOK_* bits) on its existing table. 0, -ENOENT
 * (no table, or the device went away) or another -errno. Caller holds nf_lock. */
int nf_batch_hook(net_ctx *ctx, const char *vifname, unsigned hooks, char err[NET_ERRLEN]);

/* One batch that sets the policer of vifname's table (chain "rate", made when missing): emptied,
 * then `limit rate over rate_bytes bytes/second burst burst bytes drop` unless rate_bytes is 0.
 * 0, -ENOENT (no table) or another -errno. Caller holds nf_lock. */
int nf_batch_police(net_ctx *ctx, const char *vifname, unsigned long long rate_bytes,
                    unsigned long long burst, char err[NET_ERRLEN]);

/* That batch's rules and hook rules as libnftnl prints them, the format of `nft
 * --debug=netlink` (heap; NULL on ENOMEM or a spec it cannot read): for the golden test. */
char *nf_batch_describe(const vps_spec *spec, bool reject, unsigned hooks);

/* The netfilter netlink socket of ctx, opened on first use in the calling thread's namespace
 * (NULL with errno set when it cannot be). Caller holds nf_lock. */
struct mnl_socket *nf_batch_socket(net_ctx *ctx);

/* Closes the batch socket (net_nft_close calls it). */
void nf_batch_close(net_ctx *ctx);

/* ---- netfilter.c --------------------------------------------------------------------- */

/* Makes the guard (table NET_NFT_GUARD, base chain NET_NFT_BASE, bridge prerouting): a frame
 * from any NET_VIF_WILDCARD vif that did not pass its domain's hook (no VIF_NFT_MARK) is
 * dropped, and the mark bit is cleared on the rest; in one transaction that also deletes the
 * one-table layout of an older agent (its map "vifs" and chains "xvps-xvifN"). Then removes the
 * iptables / ip6tables / ebtables chains and hooks of an even older one (netfilter_legacy.c).
 * Idempotent. Returns 0 or -errno. */
int nf_base_ensure(net_ctx *ctx, char err[NET_ERRLEN]);

/* The transaction that declares (creates, or empties when it exists) the domain's table
 * "netdev xvps-<vifname>" and its chain "filter", fills the chain, and (re)makes the hooks of
 * the devices in hooks (NF_HOOK_VIF, NF_HOOK_EMU; the devices must exist). reject: SMTP is
 * refused with a TCP reset (the kernel has netdev reject), else dropped. Pure function
 * (golden-tested). Returns a heap string or NULL (ENOMEM / invalid spec). */
char *nf_render(const vps_spec *spec, bool reject, unsigned hooks);

/* The transaction that removes the domain's table, whether or not it exists (pure; heap string
 * or NULL for an invalid vifname). */
char *nf_render_remove(const char *vifname);

/* Applies the domain's rules and hooks its vif and "-emu" tap when they exist (ctx->sysfs_net
 * shows them): one atomic transaction (nf_render). Idempotent. Returns 0 or -errno with err
 * set. */
int nf_apply(net_ctx *ctx, const vps_spec *spec, char err[NET_ERRLEN]);

/* Hooks vifname and its "-emu" tap, those that exist, to the domain's existing table (after a
 * start or restart made the devices). Nothing to hook is success; -ENOENT: no table. */
int nf_hook(net_ctx *ctx, const char *vifname, char err[NET_ERRLEN]);

/* The policer of the traffic from the domain's guest (shaping.c): its table's chain "rate" holds
 * `limit rate over rate_bytes bytes/second burst burst bytes drop`, or nothing when rate_bytes
 * is 0. One transaction. 0; -ENOENT when the domain has no table; other -errno. */
int nf_police(net_ctx *ctx, const char *vifname, unsigned long long rate_bytes,
              unsigned long long burst, char err[NET_ERRLEN]);

/* Removes the domain's table in one transaction. Absent is success. Afterwards `nft list
 * ruleset` reads exactly as before nf_apply. */
int nf_remove(net_ctx *ctx, const char *vifname, char err[NET_ERRLEN]);

/* Vifnames that have a table "netdev xvps-<vifname>" (heap array of heap strings), for the
 * reconciler. Returns 0 or -errno. */
int nf_list(net_ctx *ctx, char ***vifnames_out, size_t *n_out, char err[NET_ERRLEN]);

/* ---- netfilter_legacy.c --------------------------------------------------------------- */

/* Removes what an agent before the nftables table installed: the NET_LEGACY_DISPATCH hooks in
 * FORWARD/INPUT and every "xvps-*" chain of the iptables, ip6tables and ebtables filter tables,
 * one `*-restore --noflush` batch per table that has them. Nothing to do is success (and costs
 * one `*-save` per table). Returns 0 or -errno with err set. */
int nf_legacy_cleanup(net_ctx *ctx, char err[NET_ERRLEN]);

/* The commands (heap; "" when there is nothing; NULL when the guard table cannot be listed or on
 * ENOMEM) that delete the one-table layout of an agent before issue 17 item 3 from the guard
 * table: its map "vifs" and its chains "xvps-xvifN". nf_base_ensure runs them with the guard's
 * new rules, in one transaction. Caller holds nf_lock. */
char *nf_old_layout_removal(net_ctx *ctx);

/* ---- shaping.c ------------------------------------------------------------------------ */

/* The ifindex of network device dev in the calling thread's network namespace, 0 when there is
 * none (or the name is not 1..15 characters): one RTM_GETLINK by name (vif_link_get). Never
 * if_nametoindex: its SIOCGIFINDEX of an absent name makes the kernel, for a caller with
 * CAP_NET_ADMIN / CAP_SYS_MODULE, try to load modules "netdev-<name>" and "<name>" (dev_load:
 * two modprobe processes, about 0.25 s each in the TCG appliance, where every order asked after
 * an absent vif, tap or ifb several times: issue 17 item 6). */
int net_ifindex(const char *dev);

/* Whether network device dev exists: with the real /sys/class/net, net_ifindex (in the calling
 * thread's namespace: that sysfs shows the namespace that mounted it, not always the caller's);
 * with any other sysfs_net (unit tests' fake tree) as <sysfs_net>/<dev>. */
bool net_dev_exists(const net_ctx *ctx, const char *dev);

/* The effective rate of a spec: throttle_mbit when it is set (> 0) and lower than net_mbit
 * or net_mbit is 0 (unlimited); else net_mbit. 0 means unlimited. */
int shape_rate_mbit(const vps_spec *spec);

/* Shapes both directions of vifname to rate_mbit (1..100000), replacing any earlier shaping:
 * root tbf on the vif, an ingress qdisc redirecting to the ifb device (created when missing,
 * up), root tbf on the ifb; the same on "<vifname>-emu" (an HVM guest's emulated NIC) when that
 * tap exists, redirecting to the same ifb. Each root tbf's handle is its rate (a new rate
 * grafts a new tbf, see shaping.c). rate_mbit 0 removes the shaping (shape_remove). Waits up
 * to ctx->vif_wait_ms for the vif to appear; -ENODEV when it does not. Returns 0 or -errno. */
int shape_apply(net_ctx *ctx, const char *vifname, int rate_mbit, char err[NET_ERRLEN]);

/* Before a domain is created (issue 17 item 6: one command less once it runs, when the guest
 * already competes for the CPU): the ifb device of vifname made and up when rate_mbit > 0, so
 * that shape_apply afterwards is one tc. shape_remove deletes it again. Returns 0 or -errno. */
int shape_prepare(net_ctx *ctx, const char *vifname, int rate_mbit, char err[NET_ERRLEN]);

/* Removes the root and ingress qdiscs of the vif and of its "-emu" tap (each when it exists)
 * and deletes its ifb device.
 * Absent is success. */
int shape_remove(net_ctx *ctx, const char *vifname, char err[NET_ERRLEN]);

/* ifb devices named NET_IFB_PREFIX* (heap array of heap strings), for the reconciler. */
int shape_list_ifbs(net_ctx *ctx, char ***ifbs_out, size_t *n_out, char err[NET_ERRLEN]);

/* ---- netcount.c ----------------------------------------------------------------------- */

/* One sweep over names[0..n) (domain names; vifnames derived with net_vifname_of): reads
 * <sysfs_net>/<vif>/ifindex and statistics/{rx,tx}_{bytes,packets}, folds each into the
 * domain's accumulator (a changed ifindex or a raw value below the last one means the vif was
 * re-created: the new raw value is added whole; else the difference), persists counters.json
 * (atomic write) and, when out is not NULL, returns
 *   {"sampled_at": unix seconds, "domains": {"<name>": {"vifname", "present": bool,
 *    "ifindex", "rx_bytes", "tx_bytes", "rx_packets", "tx_packets"}}}   (guest's point of view;
 *    ifindex 0 when never seen)
 * An absent vif (domain stopped) keeps its totals. Works (reads the fake tree) even when
 * ctx->enabled is false. Returns 0 or -errno. */
int netcount_sweep(net_ctx *ctx, const char *const *names, size_t n, json_object **out,
                   char err[NET_ERRLEN]);

/* Drops a domain's accumulator (vps.remove). Absent is success. */
int netcount_forget(net_ctx *ctx, const char *name, char err[NET_ERRLEN]);

#endif
