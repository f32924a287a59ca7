/* vif_nft.h — the hook that puts a vif under its VPS's firewall (issue 17 item 3), shared by
 * the agent (provisioning/netfilter.c, nft_batch.c) and the vif's hotplug script (xvps-vif).
 *
 * Each VPS's rules live in a native nftables table of its own, `netdev xvps-xvifN`: the regular
 * chain VIF_NFT_CHAIN ("filter") holds them, the regular chain VIF_NFT_RATE ("rate") the
 * policer of the traffic from the guest (empty when unshaped); the base chain VIF_NFT_HOOK
 * ("ingress", device "xvifN") and VIF_NFT_HOOK_EMU ("ingress-emu", device "xvifN-emu", an HVM
 * guest's emulated NIC) hook the netdev ingress of that one device: `type filter hook ingress
 * device "xvifN" priority filter; policy drop;` with the two rules `jump rate` and
 * `meta mark set meta mark | VIF_NFT_MARK goto filter`. A frame a guest sends meets only its own
 * VPS's rules (the kernel runs ingress hooks per device), and a change to one VPS is a
 * transaction on one small table: the kernel validates only the tables a transaction touched,
 * so neither cost grows with the number of VPS. The mark tells the guard (the agent's `bridge
 * xvps` prerouting chain) that the frame passed its VPS's rules: a frame from a vif that is not
 * hooked (yet) is dropped there.
 *
 * The device must exist when its base chain is created (Linux before 6.16 hooks devices, not
 * names; Debian 12 runs 6.1), and Linux before 6.16 deletes the base chain with the device: so
 * the hook is (re)made whenever the vif appears — by xvps-vif between the vif's rename and its
 * up, and by the agent whenever it applies a VPS's rules or the VPS has started. */
#ifndef XVPS_VIF_NFT_H
#define XVPS_VIF_NFT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define VIF_NFT_TABLE_PREFIX "xvps-" /* table netdev "xvps-" + vifname */
#define VIF_NFT_CHAIN        "filter"
#define VIF_NFT_RATE         "rate" /* the from-guest policer (shaping.c), maybe empty */
#define VIF_NFT_HOOK         "ingress"
#define VIF_NFT_HOOK_EMU     "ingress-emu"
#define VIF_NFT_MARK         0x20000000u /* the bit the guard checks and clears */
#define VIF_NFT_MARK_TEXT    "0x20000000"
#define VIF_NFT_UNMARK_TEXT  "0xdfffffff"

#define VIF_NFT_ERRLEN 256

struct mnl_nlmsg_batch;
struct mnl_socket;

/* The table name of vifname ("xvif12" -> "xvps-xvif12"); false when it does not fit 32 bytes. */
bool vif_nft_table(const char *vifname, char out[32]);

/* Appends to bt the four messages that (re)hook device vifname (emu: vifname + "-emu"):
 * NEWCHAIN of the base chain (created, or kept when it exists with that device), DELRULE of its
 * rules, NEWRULE `jump rate`, NEWRULE `meta mark set meta mark | VIF_NFT_MARK goto filter`. family
 * NFPROTO_NETDEV. *seq is advanced per message. false when bt is full or memory ran out. */
bool vif_nft_put_hook(struct mnl_nlmsg_batch *bt, uint32_t *seq, const char *vifname, bool emu);

/* Appends the policer of vifname's table (shaping, provisioning/shaping.c): NEWCHAIN
 * VIF_NFT_RATE (created, or kept), DELRULE of its rules and, when rate_bytes > 0, NEWRULE
 * `limit rate over rate_bytes bytes/second burst burst bytes drop` (burst <= UINT32_MAX).
 * false when bt is full, memory ran out or an argument is out of range. */
bool vif_nft_put_police(struct mnl_nlmsg_batch *bt, uint32_t *seq, const char *vifname,
                        unsigned long long rate_bytes, unsigned long long burst);

/* The two rules as `nft --debug=netlink` prints them (the golden test), into out
 * (NUL-terminated, truncated to n). */
void vif_nft_describe_hook(const char *vifname, bool emu, char *out, size_t n);

/* vif_nft_put_hook for each device in hooks: bit 0 the vif, bit 1 its "-emu" tap (net.h's
 * NF_HOOK_VIF and NF_HOOK_EMU). false when bt is full. */
bool vif_nft_put_hooks(struct mnl_nlmsg_batch *bt, uint32_t *seq, const char *vifname,
                       unsigned hooks);

/* vif_nft_put_hooks as a vif_nft_transact fill; arg: a vif_nft_hooks. */
typedef struct vif_nft_hooks {
	const char *vifname;
	unsigned hooks;
} vif_nft_hooks;
bool vif_nft_fill_hooks(struct mnl_nlmsg_batch *bt, uint32_t *seq, const void *arg);

/* One transaction on nl: begin, what fill(bt, &seq, arg) appends, end, in the first half bytes
 * of buf (2 × half bytes); the kernel's errors are read into the second half without waiting
 * (nfnetlink handles a batch in the sender's context, and no message asks for an ACK).
 * 0; -E2BIG when fill does not fit (or fails); -ENOMEM; -errno of the kernel's first error. */
int vif_nft_transact(struct mnl_socket *nl, char *buf, size_t half,
                     bool (*fill)(struct mnl_nlmsg_batch *, uint32_t *, const void *),
                     const void *arg);

/* One transaction that hooks device vifname (emu: its "-emu" tap) to table "xvps-<vifname>",
 * in the caller's network namespace (xvps-vif). vifname: "xvif" + digits. 0; -ENOENT when the
 * table or its filter chain does not exist (the agent manages no firewall here: XVPS_NET=off);
 * -ENODEV when the device does not exist; other -errno with err set. */
int vif_nft_attach(const char *vifname, bool emu, char *err);

#endif
