/* spec.h — VPS_SPEC (common/agent_proto.h) as the agent receives it from xvpsd: parsed strictly
 * and every field validated again, because the agent never trusts its caller. Nothing parsed
 * here may reach a command line, a config file or a rule without passing these checks.
 *
 * Return convention: 0 or -EINVAL with err naming the field; checks answer true or false. */
#ifndef XVPS_SPEC_H
#define XVPS_SPEC_H

#include <json-c/json.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "../common/jsonutil.h"
#include "../hypervisor/xlcfg.h"

#define SPEC_MAX_ADDRS     64
#define SPEC_MAX_KEYS      32
#define SPEC_MAX_RESOLVERS 3 /* glibc's MAXNS: resolv.conf uses the first three */

/* A validated VPS_SPEC. All strings are heap copies owned by the struct (spec_dispose frees
 * them), so the spec outlives the JSON it came from. */
typedef struct vps_spec {
	char *name;          /* valid_domain_name: "xvps-N" */
	char *hostname;      /* valid_hostname */
	xl_guest_type type;  /* "pvh" | "pv" | "hvm" */
	int vcpus;           /* 1..64 */
	uint64_t memory_mib; /* 128..1048576 */
	uint64_t disk_gib;   /* 1..16384 */
	/* Live resize ceilings (issue 16 item 1; xlcfg.h): 0 = vcpus / memory_mib, else
	 * vcpus..64 and memory_mib..1048576. xvpsd sends the largest plan's. */
	int max_vcpus;
	uint64_t max_memory_mib;
	char *template_name; /* valid_template_name: "tpl-N" */
	char *mac;           /* valid_xen_mac */
	char *vifname;       /* valid_vifname */
	char **ipv4;         /* n_ipv4 dotted quads (parse_ipv4) */
	size_t n_ipv4;       /* 0..SPEC_MAX_ADDRS */
	char **ipv6;         /* n_ipv6 addresses (parse_ipv6) */
	size_t n_ipv6;       /* 0..SPEC_MAX_ADDRS */
	char **ipv6_routed;  /* n_ipv6_routed routed prefixes "2001:db8:1:2::/64" (check_prefix6) */
	size_t n_ipv6_routed; /* 0..SPEC_MAX_ADDRS */
	char *gateway4;       /* NULL or an IPv4 address */
	char *gateway6;       /* NULL or an IPv6 address */
	int cpu_weight;       /* 1..65535, default 256 */
	int cpu_cap_pct;      /* 0..vcpus*100, default 0 (no cap) */
	int net_mbit;         /* 0..100000, default 0 (unlimited) */
	int throttle_mbit;    /* 0..100000, default 0 (not throttled); see shape_rate_mbit */
	bool smtp_block;      /* drop outbound TCP to port 25; default false */
	bool crash_restart;   /* on_crash "restart" (default) -> true, "stop" -> false */
	bool power_running;   /* "running" -> true, "stopped" -> false */
	/* Rescue mode (issue 16 item 3; vps_rescue.c): the domain boots the rescue system with its
	 * own disk as xvdb. Default false. */
	bool rescue;
	char **ssh_keys;   /* n_ssh_keys valid_ssh_key lines */
	size_t n_ssh_keys; /* 0..SPEC_MAX_KEYS */
	/* Guest settings (issue 16 item 2), carried to the guest by the seed: */
	char **resolvers;         /* n_resolvers DNS resolver addresses, IPv4 or IPv6, distinct */
	size_t n_resolvers;       /* 0..SPEC_MAX_RESOLVERS */
	char *root_password_hash; /* NULL, or a crypt(3) hash (valid_crypt_hash: $y$ or $6$) */
	uint32_t password_serial; /* 0 with no hash; >= 1 with one: the guest applies each once */
	/* "seed": "xvps" (default, seed.h) -> false, "nocloud" (a cloud-init NoCloud seed,
	 * seed_nocloud.h; the template's seed kind, issue 16 item 7) -> true. */
	bool seed_nocloud;
} vps_spec;

/* Parses and validates a VPS_SPEC object. Unknown fields are rejected. Required: name,
 * hostname, type, vcpus, memory_mib, disk_gib, template, mac, vifname, power. Optional (null
 * or absent): ipv4, ipv6, ipv6_routed (default empty), gateway4, gateway6 (default none),
 * cpu_weight (256), cpu_cap_pct (0), net_mbit (0), throttle_mbit (0), smtp_block (false),
 * max_vcpus and max_memory_mib (0: none; else at least vcpus / memory_mib),
 * on_crash ("restart"; or "stop": a guest that crashes stays off), ssh_keys (empty), resolvers
 * (empty), root_password_hash (none) password_serial (0; 1..4294967295 exactly when a hash
 * is given) seed ("xvps"; or "nocloud") and rescue
 * (false). vifname must
 * be the domain's own ("xvps-N" -> "xvifN"); a routed prefix is an IPv6 network of length 48..64
 * with its host bits zero. Returns 0 and fills *out (free with spec_dispose), or -EINVAL with
 * err->field naming the offending field and err->detail a static English sentence (*out is then
 * left disposed). */
int spec_parse(json_object *obj, vps_spec *out, json_field_error *err);

/* Frees everything spec_parse allocated; safe on a zeroed or already disposed struct. */
void spec_dispose(vps_spec *spec);

/* "pvh" | "pv" | "hvm" for a guest type. */
const char *spec_type_name(xl_guest_type type);

#endif
