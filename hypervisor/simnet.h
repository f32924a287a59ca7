/* simnet.h — real networking for the `sim` hypervisor (docs/architecture.md §6), like Xen's vif
 * hotplug: each vif of a sim domain becomes a veth pair. The host end is named by the vif's
 * vifname, has the address fe:ff:ff:ff:ff:ff (as Xen's vifs) and is a port of the vif's bridge; the
 * guest end is "eth<i>" in the network namespace <prefix><domain>, with the vif's MAC, its ip=
 * addresses
 * (/32 and /128, nodad) and, on eth0, on-link default routes. Every host change goes through
 * the runner (`ip ...`, argv arrays). Disabled by default: then every call is a no-op.
 *
 * The parsed vifs of the last create are kept in <state_dir>/sim/<domain>.net, so a reboot or a
 * resume re-creates the same pairs (new ifindex, like Xen) without the config file. Every
 * operation is idempotent: a leftover vif or namespace (killed agent) is replaced.
 *
 * Return convention: 0 or a negative errno, with a sentence in err (HV_ERRLEN bytes). */
#ifndef XVPS_SIMNET_H
#define XVPS_SIMNET_H

#include <stdbool.h>
#include <stddef.h>

#include "../common/runner.h"
#include "driver.h"

#define SIMNET_MAX_VIFS   8  /* per domain: eth0..eth7 in the guest */
#define SIMNET_MAX_IPS    16 /* per vif, as xlcfg.c */
#define SIMNET_MAX_PREFIX 16 /* XVPS_SIM_NETNS_PREFIX: [a-z0-9-]{0,16} */
#define SIMNET_HOST_MAC   "fe:ff:ff:ff:ff:ff"
#define SIMNET_TIMEOUT_MS 15000
#define SIMNET_SPEC_MAX   2048  /* one vif spec, with its NUL */
#define SIMNET_PATH_LEN   512   /* <state_dir>/sim/<name>.net, /sys/class/net/<vif>/... */
#define SIMNET_RECORD_MAX 65536 /* largest <name>.net record read back */

/* One vif of an xl.cfg "vif" list: "mac=M, bridge=B, vifname=V, ip=A B C, rate=R".
 * Addresses are kept in canonical text form (inet_ntop). */
typedef struct simnet_vif {
	char vifname[16];
	char mac[18];
	char bridge[16];
	char rate[32]; /* validated and kept, not applied: shaping.c shapes the vif */
	char ip4[SIMNET_MAX_IPS][16];
	size_t n_ip4;
	char ip6[SIMNET_MAX_IPS][46];
	size_t n_ip6;
} simnet_vif;

typedef struct simnet_ctx {
	bool enabled;
	char prefix[SIMNET_MAX_PREFIX + 1];
	runner run;
	char sysfs_net[128]; /* "/sys/class/net": is a host vif / bridge there? */
	char netns_dir[128]; /* "/run/netns": is a namespace there? */
	int timeout_ms;      /* per command */
} simnet_ctx;

/* Disabled, empty prefix, runner_real(), the real sysfs and netns dirs. */
void simnet_init(simnet_ctx *ctx);

/* Enables or disables; prefix must pass simnet_valid_prefix (NULL = ""). Returns 0 or -EINVAL. */
int simnet_configure(simnet_ctx *ctx, bool enabled, const char *prefix, runner run);

/* [a-z0-9-]{0,16}. */
bool simnet_valid_prefix(const char *s);
/* Bridge name: 1..15 characters of [a-z0-9_.-], starting with a letter or digit. */
bool simnet_valid_bridge(const char *s);

/* Parses and validates one vif spec (vifname: valid_vifname, mac: valid_xen_mac, bridge:
 * simnet_valid_bridge, each ip: parse_ipv4 / parse_ipv6, rate: N[KMG]{b,B}/s[@N{s,ms,us}]).
 * vifname, mac and bridge are required; unknown or repeated keys are refused.
 * Returns 0 or -EINVAL with err (HV_ERRLEN) set. */
int simnet_parse_vif(const char *spec, simnet_vif *out, char *err);

/* Renders a parsed vif back into canonical spec form. False when out is too small. */
bool simnet_render_vif(const simnet_vif *vif, char *out, size_t outlen);

/* Reads the "vif" list of an xl.cfg with libxlutil and parses every entry (no "vif": 0 vifs).
 * Two vifs with the same vifname are refused. Returns 0 or -errno with err set. */
int simnet_read_cfg(const char *cfg_path, simnet_vif vifs[SIMNET_MAX_VIFS], size_t *n_out,
                    char *err);

/* The namespace of a domain: prefix + name, into out. False when it does not fit or is not a
 * safe name. */
bool simnet_nsname(const simnet_ctx *ctx, const char *name, char *out, size_t outlen);

/* Domain created from cfg_path: tears down whatever the previous run left, parses the config's
 * vifs (nothing runs when one is invalid), records them and brings them up. On failure
 * nothing of it is left on the host. Returns 0 or -errno with err set. */
int simnet_create(const simnet_ctx *ctx, const char *state_dir, const char *name,
                  const char *cfg_path, char *err);

/* Domain started again (reboot, resume): brings up the recorded vifs, replacing leftovers. */
int simnet_start(const simnet_ctx *ctx, const char *state_dir, const char *name, char *err);

/* Domain stopped: deletes the recorded vifs (both ends go) and the namespace. Absent is
 * success. */
int simnet_stop(const simnet_ctx *ctx, const char *state_dir, const char *name, char *err);

/* Domain forgotten: simnet_stop, then the record is removed. */
int simnet_forget(const simnet_ctx *ctx, const char *state_dir, const char *name, char *err);

#endif
