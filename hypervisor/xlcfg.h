/* xlcfg.h — writes xl.cfg(5) domain configs from a validated VPS spec. Every value is checked
 * again here: quotes, newlines, commas and '=' can never reach a config. The result parses
 * with libxlutil's xlu_cfg_readdata (tests assert it).
 *
 * Return convention: 0 or a negative errno, with the reason in *why_out or err. */
#ifndef XVPS_XLCFG_H
#define XVPS_XLCFG_H

#include <stdbool.h>
#include <stddef.h>

typedef enum xl_guest_type { XL_PVH = 0, XL_PV, XL_HVM } xl_guest_type;

typedef struct xlcfg_spec {
	const char *name; /* Xen domain name, valid_domain_name() */
	xl_guest_type type;
	/* PV/PVH boot: kernel image in dom0. NULL -> Debian grub-xen-host image for the type
	 * (/usr/lib/grub-xen/grub-i386-xen_pvh.bin, /usr/lib/grub-xen/grub-x86_64-xen.bin). */
	const char *kernel;
	const char *ramdisk;      /* optional, with kernel */
	const char *extra;        /* optional kernel command line, [A-Za-z0-9 ._:/=,-] only */
	int vcpus;                /* 1..64 */
	unsigned long memory_mib; /* 128..1048576 */
	/* Live resize ceilings (issue 16 item 1): 0 = the same as vcpus / memory_mib, else
	 * vcpus..64 and memory_mib..1048576. maxvcpus is written for every type (vcpu hotplug works
	 * in PV, PVH and HVM guests); maxmem only for PV: a PVH or HVM domain whose memory is below
	 * maxmem boots in populate-on-demand mode, which Xen does not offer for PVH and which can
	 * crash an HVM guest before its balloon driver runs, so those keep maxmem = memory and grow
	 * their memory at the next boot. */
	int max_vcpus;
	unsigned long max_memory_mib;
	const char *disk_path;  /* absolute path of the VBD target (LV or image file) */
	bool disk_is_file;      /* true: format=raw file via loop; false: phy block device */
	const char *mac;        /* valid_xen_mac() */
	const char *bridge;     /* bridge name [a-z0-9_.-]{1,15} */
	const char *vifname;    /* valid_vifname() */
	const char *const *ips; /* NULL-terminated list of IPv4/IPv6 addresses for vif ip= */
	int net_mbit;           /* 0 = no rate= */
	int cpu_weight;         /* 1..65535 */
	int cpu_cap_pct;        /* 0..vcpus*100 */
	int vnc_display;        /* HVM: VNC display number (port 5900+N) on 127.0.0.1, -1 = auto */
	/* Optional (NULL = none): absolute path of the VPS's seed image (provisioning/seed.h), a
	 * raw file the guest sees read-only as xvdb (HVM: xvde, as qemu-xen emulates xvda..xvdd
	 * as IDE and cannot make those read-only); same allow-list as disk_path. */
	const char *seed_path;
	/* Optional (NULL = Xen's `block`): the hotplug script of the seed disk (`script=`), for a
	 * seed_path that is a loop device the agent bound (xvps-block-seed,
	 * hypervisor/block_seed.h); same allow-list as disk_path. Ignored without seed_path. */
	const char *seed_script;
	/* Optional (NULL = Xen's `vif-bridge`): the vif's hotplug script (`script=` in the vif
	 * spec: xvps-vif, hypervisor/vif_hotplug.h); same allow-list as disk_path. */
	const char *vif_script;
	/* Optional (NULL = none): rescue mode (issue 16 item 3). The rescue system's disk (this
	 * VPS's own copy, same allow-list as disk_path) becomes xvda, the VPS's disk_path xvdb,
	 * both read-write, and the seed moves to xvdc (HVM: xvde as always). */
	const char *rescue_path;
} xlcfg_spec;

/* Renders the config into a heap string. Returns 0, or -EINVAL with *why_out naming the
 * offending field in a static sentence. */
int xlcfg_render(const xlcfg_spec *spec, char **cfg_out, const char **why_out);

/* Renders and writes atomically (temp file, fsync, rename) to path, mode 0600. */
int xlcfg_write(const xlcfg_spec *spec, const char *path, const char **why_out);

struct XLU_Config;

/* Reads the xl.cfg file at path (at most 1 MiB) and parses it with libxlutil, the parser `xl
 * create` uses. Returns 0 with *cfg_out (free with xlu_cfg_destroy), or -errno with err (errlen
 * bytes) saying why: cannot read, or does not parse (with libxlutil's report). */
int xlcfg_load(const char *path, struct XLU_Config **cfg_out, char *err, size_t errlen);

/* Parses cfg text with libxlutil (xlu_cfg_readdata). Returns 0 when it parses; otherwise
 * -EINVAL and the parser's message in err (errlen bytes). */
int xlcfg_parse_check(const char *cfg, char *err, size_t errlen);

#endif
