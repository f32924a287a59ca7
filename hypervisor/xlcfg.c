/* xlcfg.c — renders xl.cfg(5) domain configs (PVH, PV, HVM) from a VPS spec (xlcfg.h) and
 * checks them with libxlutil, the parser `xl create` itself uses. Every value is validated again
 * here against an allow-list: a quote, newline, comma, '=' or backslash never reaches a config. */
#include "xlcfg.h"

#include <errno.h>
#include <libxlutil.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../common/util.h"
#include "../common/validate.h"

#define XLCFG_MAX_IPS         16
#define XLCFG_MAX_NET_MBIT    100000 /* 100 Gbit/s */
#define XLCFG_MAX_VNC_DISPLAY 59635  /* 5900 + N must be a TCP port */

/* Debian's grub-xen-host images: PV and PVH guests boot their own grub from dom0. */
static const char *const default_kernel[] = {
        [XL_PVH] = "/usr/lib/grub-xen/grub-i386-xen_pvh.bin",
        [XL_PV] = "/usr/lib/grub-xen/grub-x86_64-xen.bin",
        [XL_HVM] = NULL,
};

static const char *const type_name[] = {
        [XL_PVH] = "pvh",
        [XL_PV] = "pv",
        [XL_HVM] = "hvm",
};

/* Absolute path of [A-Za-z0-9/._+-], at most 255 bytes, no ".." component. */
static bool safe_path(const char *p)
{
	if (!p || p[0] != '/' || strlen(p) > 255)
		return false;
	for (const char *c = p; *c; c++) {
		bool ok = (*c >= 'a' && *c <= 'z') || (*c >= 'A' && *c <= 'Z') ||
		          (*c >= '0' && *c <= '9') || strchr("/._+-", *c);
		if (!ok)
			return false;
	}
	size_t n = strlen(p);
	return strstr(p, "/../") == NULL && !(n >= 3 && strcmp(p + n - 3, "/..") == 0);
}

/* Kernel command line: [A-Za-z0-9 ._:/=,-], at most 1024 bytes. It sits inside a double-quoted
 * string, so '=' and ',' are harmless there; quotes and backslashes are not allowed. */
static bool safe_extra(const char *s)
{
	if (strlen(s) > 1024)
		return false;
	for (const char *c = s; *c; c++) {
		bool ok = (*c >= 'a' && *c <= 'z') || (*c >= 'A' && *c <= 'Z') ||
		          (*c >= '0' && *c <= '9') || strchr(" ._:/=,-", *c);
		if (!ok)
			return false;
	}
	return true;
}

/* Linux bridge name as xvps uses it: [a-z0-9_.-]{1,15}, not "." or "..". */
static bool safe_bridge(const char *s)
{
	size_t n = s ? strlen(s) : 0;
	if (n < 1 || n > 15 || strcmp(s, ".") == 0 || strcmp(s, "..") == 0)
		return false;
	for (const char *c = s; *c; c++)
		if (!((*c >= 'a' && *c <= 'z') || (*c >= '0' && *c <= '9') || strchr("_.-", *c)))
			return false;
	return true;
}

static int check_spec(const xlcfg_spec *s, const char **why)
{
	const char *inner = NULL;
	if (!valid_domain_name(s->name, &inner)) {
		*why = "name: not a valid xvps domain name.";
		return -EINVAL;
	}
	if (s->type != XL_PVH && s->type != XL_PV && s->type != XL_HVM) {
		*why = "type: must be pvh, pv or hvm.";
		return -EINVAL;
	}
	if (s->type == XL_HVM) {
		if (s->kernel || s->ramdisk || s->extra) {
			*why = "kernel: HVM guests boot from their disk; kernel, ramdisk and extra "
			       "apply to PV and PVH only.";
			return -EINVAL;
		}
		if (s->vnc_display < -1 || s->vnc_display > XLCFG_MAX_VNC_DISPLAY) {
			*why = "vnc_display: must be -1 (automatic) or 0..59635.";
			return -EINVAL;
		}
	} else {
		if (s->kernel && !safe_path(s->kernel)) {
			*why = "kernel: must be an absolute path of A-Z a-z 0-9 / . _ + -.";
			return -EINVAL;
		}
		if (s->ramdisk && !safe_path(s->ramdisk)) {
			*why = "ramdisk: must be an absolute path of A-Z a-z 0-9 / . _ + -.";
			return -EINVAL;
		}
		if (s->ramdisk && !s->kernel) {
			*why = "ramdisk: needs an explicit kernel.";
			return -EINVAL;
		}
		if (s->extra && !safe_extra(s->extra)) {
			*why = "extra: the kernel command line may contain only A-Z a-z 0-9 space "
			       ". _ : / = , -.";
			return -EINVAL;
		}
	}
	if (s->vcpus < 1 || s->vcpus > 64) {
		*why = "vcpus: must be between 1 and 64.";
		return -EINVAL;
	}
	if (s->memory_mib < 128 || s->memory_mib > 1048576) {
		*why = "memory_mib: must be between 128 and 1048576.";
		return -EINVAL;
	}
	if (s->max_vcpus != 0 && (s->max_vcpus < s->vcpus || s->max_vcpus > 64)) {
		*why = "max_vcpus: must be 0 (as vcpus) or between vcpus and 64.";
		return -EINVAL;
	}
	if (s->max_memory_mib != 0 &&
	    (s->max_memory_mib < s->memory_mib || s->max_memory_mib > 1048576)) {
		*why = "max_memory_mib: must be 0 (as memory_mib) or between memory_mib and "
		       "1048576.";
		return -EINVAL;
	}
	if (!safe_path(s->disk_path)) {
		*why = "disk_path: must be an absolute path of A-Z a-z 0-9 / . _ + -.";
		return -EINVAL;
	}
	if (s->rescue_path &&
	    (!safe_path(s->rescue_path) || strcmp(s->rescue_path, s->disk_path) == 0)) {
		*why = "rescue_path: must be an absolute path of A-Z a-z 0-9 / . _ + -, not the "
		       "disk's.";
		return -EINVAL;
	}
	if (s->seed_path && !safe_path(s->seed_path)) {
		*why = "seed_path: must be an absolute path of A-Z a-z 0-9 / . _ + -.";
		return -EINVAL;
	}
	if (s->seed_script && !safe_path(s->seed_script)) {
		*why = "seed_script: must be an absolute path of A-Z a-z 0-9 / . _ + -.";
		return -EINVAL;
	}
	if (s->vif_script && !safe_path(s->vif_script)) {
		*why = "vif_script: must be an absolute path of A-Z a-z 0-9 / . _ + -.";
		return -EINVAL;
	}
	if (!valid_xen_mac(s->mac, &inner)) {
		*why = "mac: must be a lower-case unicast MAC with the Xen prefix 00:16:3e.";
		return -EINVAL;
	}
	if (!safe_bridge(s->bridge)) {
		*why = "bridge: must be 1 to 15 characters of a-z 0-9 _ . -.";
		return -EINVAL;
	}
	if (!valid_vifname(s->vifname, &inner)) {
		*why = "vifname: must be 1 to 11 characters of a-z 0-9, starting with a letter.";
		return -EINVAL;
	}
	size_t nips = 0;
	for (; s->ips && s->ips[nips]; nips++) {
		if (nips >= XLCFG_MAX_IPS) {
			*why = "ips: at most 16 addresses per vif.";
			return -EINVAL;
		}
		if (!parse_ipv4(s->ips[nips], NULL) && !parse_ipv6(s->ips[nips], NULL)) {
			*why = "ips: each address must be a plain IPv4 or IPv6 address.";
			return -EINVAL;
		}
	}
	if (s->net_mbit < 0 || s->net_mbit > XLCFG_MAX_NET_MBIT) {
		*why = "net_mbit: must be between 0 (unlimited) and 100000.";
		return -EINVAL;
	}
	if (s->cpu_weight < 1 || s->cpu_weight > 65535) {
		*why = "cpu_weight: must be between 1 and 65535.";
		return -EINVAL;
	}
	if (s->cpu_cap_pct < 0 || s->cpu_cap_pct > s->vcpus * 100) { /* the plan's own bound */
		*why = "cpu_cap_pct: must be between 0 (no cap) and vcpus x 100.";
		return -EINVAL;
	}
	return 0;
}

/* A growing string; a failed append latches `failed`. */
typedef struct sbuf {
	char *s;
	size_t len, cap;
	bool failed;
} sbuf;

static void sb_add(sbuf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void sb_add(sbuf *b, const char *fmt, ...)
{
	if (b->failed)
		return;
	for (;;) {
		va_list ap;
		va_start(ap, fmt);
		int n = vsnprintf(b->s ? b->s + b->len : NULL, b->s ? b->cap - b->len : 0, fmt, ap);
		va_end(ap);
		if (n < 0) {
			b->failed = true;
			return;
		}
		if (b->s && b->len + (size_t)n < b->cap) {
			b->len += (size_t)n;
			return;
		}
		size_t ncap = b->cap ? b->cap : 1024;
		while (ncap <= b->len + (size_t)n)
			ncap *= 2;
		char *ns = realloc(b->s, ncap);
		if (!ns) {
			b->failed = true;
			return;
		}
		b->s = ns;
		b->cap = ncap;
	}
}

int xlcfg_render(const xlcfg_spec *spec, char **cfg_out, const char **why_out)
{
	const char *why = NULL;
	*cfg_out = NULL;
	if (!spec) {
		if (why_out)
			*why_out = "spec: missing.";
		return -EINVAL;
	}
	int rc = check_spec(spec, &why);
	if (rc < 0) {
		if (why_out)
			*why_out = why;
		return rc;
	}

	sbuf b = {0};
	sb_add(&b, "# %s: written by xvps-agent, replaced on every change. See xl.cfg(5).\n",
	       spec->name);
	sb_add(&b, "name = \"%s\"\n", spec->name);
	sb_add(&b, "type = \"%s\"\n", type_name[spec->type]);
	if (spec->type != XL_HVM) {
		const char *kernel = spec->kernel ? spec->kernel : default_kernel[spec->type];
		sb_add(&b, "kernel = \"%s\"\n", kernel);
		if (spec->ramdisk)
			sb_add(&b, "ramdisk = \"%s\"\n", spec->ramdisk);
		if (spec->extra)
			sb_add(&b, "extra = \"%s\"\n", spec->extra);
	}
	/* memory is what the plan sells; maxmem (PV only, xlcfg.h) and maxvcpus are the ceilings
	 * `xl mem-set` / `xl vcpu-set` reach while the domain runs (issue 16 item 1). */
	sb_add(&b, "memory = %lu\n", spec->memory_mib);
	sb_add(&b, "maxmem = %lu\n",
	       spec->type == XL_PV && spec->max_memory_mib > spec->memory_mib ? spec->max_memory_mib
	                                                                      : spec->memory_mib);
	sb_add(&b, "vcpus = %d\n", spec->vcpus);
	if (spec->max_vcpus > spec->vcpus)
		sb_add(&b, "maxvcpus = %d\n", spec->max_vcpus);
	sb_add(&b, "cpu_weight = %d\n", spec->cpu_weight);
	sb_add(&b, "cap = %d\n", spec->cpu_cap_pct);
	/* xl-disk-configuration(5): target= must come last. */
	/* Rescue mode: the rescue system boots from xvda, the customer's disk is xvdb. */
	if (spec->rescue_path)
		sb_add(&b,
		       "disk = [ 'format=raw, vdev=xvda, access=rw, target=%s', "
		       "'format=raw, vdev=xvdb, access=rw, target=%s'",
		       spec->rescue_path, spec->disk_path);
	else
		sb_add(&b, "disk = [ 'format=raw, vdev=xvda, access=rw, target=%s'",
		       spec->disk_path);
	/* The seed, read-only: xvdb, or xvdc in rescue mode. HVM: xvde, because qemu-xen also
	 * emulates xvda..xvdd as IDE disks and refuses read-only ones ("qemu-xen doesn't support
	 * read-only IDE disk drivers"); from xvde on a disk is PV only. */
	if (spec->seed_path && spec->seed_script)
		sb_add(&b, ", 'format=raw, vdev=%s, access=ro, script=%s, target=%s'",
		       spec->type == XL_HVM ? "xvde"
		       : spec->rescue_path  ? "xvdc"
		                            : "xvdb",
		       spec->seed_script, spec->seed_path);
	else if (spec->seed_path)
		sb_add(&b, ", 'format=raw, vdev=%s, access=ro, target=%s'",
		       spec->type == XL_HVM ? "xvde"
		       : spec->rescue_path  ? "xvdc"
		                            : "xvdb",
		       spec->seed_path);
	sb_add(&b, " ]\n");
	sb_add(&b, "vif = [ 'mac=%s, bridge=%s, vifname=%s", spec->mac, spec->bridge,
	       spec->vifname);
	if (spec->ips && spec->ips[0]) {
		sb_add(&b, ", ip=");
		for (size_t i = 0; spec->ips[i]; i++)
			sb_add(&b, "%s%s", i ? " " : "", spec->ips[i]);
	}
	if (spec->net_mbit > 0)
		sb_add(&b, ", rate=%dMb/s", spec->net_mbit);
	if (spec->vif_script)
		sb_add(&b, ", script=%s", spec->vif_script);
	sb_add(&b, "' ]\n");
	if (spec->type == XL_HVM) {
		/* The console is VNC on dom0's loopback only; xvps-console/the panel relay it. */
		sb_add(&b, "boot = \"c\"\n");
		sb_add(&b, "vnc = 1\n");
		sb_add(&b, "vnclisten = \"127.0.0.1\"\n");
		if (spec->vnc_display >= 0) {
			sb_add(&b, "vncdisplay = %d\n", spec->vnc_display);
			sb_add(&b, "vncunused = 0\n");
		}
		sb_add(&b, "serial = \"pty\"\n");
	}
	/* Xen keeps a domain the guest shut down, rebooted or crashed, so that the agent reads
	 * its final CPU time and vif counters before it destroys it and, for a reboot (or a crash,
	 * per plan), creates it again itself (provisioning/power.c; as XAPI's xenopsd does). */
	sb_add(&b, "on_poweroff = \"preserve\"\n");
	sb_add(&b, "on_reboot = \"preserve\"\n");
	sb_add(&b, "on_crash = \"preserve\"\n");
	if (b.failed) {
		free(b.s);
		if (why_out)
			*why_out = "out of memory while rendering the domain config.";
		return -ENOMEM;
	}
	*cfg_out = b.s;
	return 0;
}

int xlcfg_write(const xlcfg_spec *spec, const char *path, const char **why_out)
{
	char *cfg = NULL;
	int rc = xlcfg_render(spec, &cfg, why_out);
	if (rc < 0)
		return rc;
	char err[256];
	/* Belt and braces: never leave a file that `xl create` would refuse. */
	rc = xlcfg_parse_check(cfg, err, sizeof(err));
	if (rc < 0) {
		if (why_out)
			*why_out = "the rendered domain config does not parse with libxlutil.";
		free(cfg);
		return rc;
	}
	rc = write_file_atomic(path, cfg, strlen(cfg), 0600);
	if (rc < 0 && why_out)
		*why_out = "could not write the domain config file.";
	free(cfg);
	return rc;
}

int xlcfg_parse_check(const char *cfg, char *err, size_t errlen)
{
	if (err && errlen)
		err[0] = '\0';
	if (!cfg)
		return -EINVAL;
	/* libxlutil reports syntax errors on a FILE*: collect them in memory. */
	char *report = NULL;
	size_t report_len = 0;
	FILE *rf = open_memstream(&report, &report_len);
	if (!rf)
		return -errno;
	int rc = 0;
	XLU_Config *xc = xlu_cfg_init(rf, "xvps-domain.cfg");
	if (!xc) {
		rc = -ENOMEM;
	} else {
		size_t len = strlen(cfg);
		int r = len > (size_t)INT32_MAX ? EINVAL : xlu_cfg_readdata(xc, cfg, (int)len);
		if (r != 0)
			rc = -EINVAL;
		xlu_cfg_destroy(xc);
	}
	fclose(rf);
	if (rc < 0 && err && errlen) {
		size_t n = report_len;
		while (n > 0 && (report[n - 1] == '\n' || report[n - 1] == '\r'))
			n--;
		snprintf(err, errlen, "%.*s", (int)n, n ? report : "libxlutil could not parse it");
	}
	free(report);
	return rc;
}

int xlcfg_load(const char *path, XLU_Config **cfg_out, char *err, size_t errlen)
{
	char *data = NULL, *report = NULL;
	size_t len = 0, rlen = 0;
	FILE *rep = open_memstream(&report, &rlen);
	XLU_Config *cfg = NULL;
	int rc;

	*cfg_out = NULL;
	if (!rep)
		return -ENOMEM;
	rc = read_file(path, 1 << 20, &data, &len);
	if (rc) {
		snprintf(err, errlen, "cannot read %s: %s", path, strerror(-rc));
		goto out;
	}
	cfg = xlu_cfg_init(rep, path);
	if (!cfg) {
		rc = -ENOMEM;
		snprintf(err, errlen, "out of memory");
		goto out;
	}
	if (xlu_cfg_readdata(cfg, data, (int)len)) {
		fflush(rep);
		snprintf(err, errlen, "config %s does not parse: %s", path, report ? report : "");
		xlu_cfg_destroy(cfg);
		cfg = NULL;
		rc = -EINVAL;
		goto out;
	}
	*cfg_out = cfg;
out:
	fclose(rep);
	free(report);
	free(data);
	return rc;
}
