/* vif_hotplug.c — the vif's hotplug script (vif_hotplug.h). */
#include "vif_hotplug.h"

#include <errno.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../common/util.h"
#include "../common/validate.h"
#include "vif_link.h"
#include "vif_nft.h"

#define errf(err, ...) errfmt(err, VIF_HOTPLUG_ERRLEN, __VA_ARGS__)
/* The failure report in xenstore (hotplug_xs.h), with ops and err of the calling function. */
#define FAIL(base, rc) hotplug_fail(ops, base, rc, err, "xvps-vif failed")

void vif_hotplug_args_from(vif_hotplug_args *a, int argc, char **argv)
{
	memset(a, 0, sizeof(*a));
	a->action = argc > 1 ? argv[1] : NULL;
	for (int i = 2; i < argc; i++)
		if (strncmp(argv[i], "type_if=", 8) == 0)
			a->type_if = argv[i] + 8;
	a->xenbus_path = getenv("XENBUS_PATH");
	a->vif = getenv("vif");
	a->interface = getenv("INTERFACE");
}

/* Up to 10 digits at *s into *out; the position after them, or NULL. */
static const char *digits(const char *s, unsigned long *out)
{
	const char *start = s;

	*out = 0;
	while (*s >= '0' && *s <= '9' && s - start < 10)
		*out = *out * 10 + (unsigned long)(*s++ - '0');
	return s == start || (*s >= '0' && *s <= '9') ? NULL : s;
}

/* "<prefix><domid><sep><devid>" exactly; the two numbers. */
static bool two_numbers(const char *s, const char *prefix, char sep, const char *tail,
                        unsigned long *domid, unsigned long *devid)
{
	size_t pl = strlen(prefix);

	if (!s || strncmp(s, prefix, pl) != 0)
		return false;
	s = digits(s + pl, domid);
	if (!s || *s != sep)
		return false;
	s = digits(s + 1, devid);
	return s && strcmp(s, tail) == 0;
}

/* A bridge's name as Linux takes it: 1..15 of [A-Za-z0-9_.-]. */
static bool valid_bridge(const char *s)
{
	size_t n = s ? strlen(s) : 0;

	if (n < 1 || n > 15)
		return false;
	for (size_t i = 0; i < n; i++)
		if (!((s[i] >= 'a' && s[i] <= 'z') || (s[i] >= 'A' && s[i] <= 'Z') ||
		      (s[i] >= '0' && s[i] <= '9') || s[i] == '_' || s[i] == '.' || s[i] == '-'))
			return false;
	return true;
}

/* The MTU the backend's `mtu` key asks for (68..65535), or 0. */
static unsigned backend_mtu(const hotplug_xs *ops, const char *base)
{
	char *v = hotplug_get(ops, base, "mtu"), *end = NULL;
	unsigned long m = v && *v ? strtoul(v, &end, 10) : 0;
	unsigned r = (end && *end == '\0' && m >= 68 && m <= 65535) ? (unsigned)m : 0;

	free(v);
	return r;
}

/* Puts the link target (renamed, still down) under its VPS's firewall: the netdev ingress hook
 * of table "xvps-xvifN" (vif_nft.h), before the link is up, so that its first frame meets the
 * VPS's rules. A name that is not an xvps vif ("xvifN", "xvifN-emu") is not xvps's to hook; no
 * table (-ENOENT: the agent manages no firewall, XVPS_NET=off) is not an error. */
static int hook(const char *target, char *err)
{
	char vif[16], nerr[VIF_NFT_ERRLEN] = "";
	size_t n = strlen(target);
	bool emu = n > 4 && strcmp(target + n - 4, "-emu") == 0;
	int rc;

	snprintf(vif, sizeof(vif), "%.*s", (int)(emu ? n - 4 : n), target);
	rc = vif_nft_attach(vif, emu, nerr);
	if (rc == -EINVAL || rc == -ENOENT) /* not an xvps vif name / no table */
		return 0;
	if (rc)
		errf(err, "%s", nerr);
	return rc;
}

/* Online (vif) or add (tap): the link dev, to be called target, into the backend's bridge. */
static int bring_up(const vif_hotplug_args *a, const hotplug_xs *ops, const char *dev,
                    const char *target, bool is_vif, unsigned long domid, unsigned long devid,
                    char *err)
{
	static const uint8_t port_mac[6] = {0xfe, 0xff, 0xff, 0xff, 0xff, 0xff};
	const char *base = a->xenbus_path;
	char *bridge = hotplug_get(ops, base, "bridge");
	vif_link br, l, other;
	char lerr[VIF_LINK_ERRLEN] = "";
	int rc;

	if (!bridge || !valid_bridge(bridge)) {
		errf(err, "%s/bridge: %s", base, bridge ? "not a bridge name" : "not in xenstore");
		free(bridge);
		return FAIL(base, -EINVAL);
	}
	rc = vif_link_get(bridge, &br, lerr);
	if (rc == 0 && !br.is_bridge)
		rc = -ENOTSUP;
	if (rc) {
		errf(err, "Could not find bridge device %s%s%s", bridge, lerr[0] ? ": " : "", lerr);
		free(bridge);
		return FAIL(base, rc);
	}
	free(bridge);
	rc = vif_link_get(dev, &l, lerr);
	if (rc == -ENODEV && strcmp(dev, target) != 0)
		rc = vif_link_get(target, &l, lerr); /* run again after the rename */
	else if (rc == 0 && strcmp(dev, target) != 0) {
		int o = vif_link_get(target, &other, lerr);
		if (o == 0 && other.ifindex != l.ifindex) {
			errf(err,
			     "Cannot rename interface %s. An interface with name %s already "
			     "exists.",
			     dev, target);
			return FAIL(base, -EEXIST);
		}
		if (o != 0 && o != -ENODEV) {
			errf(err, "%s", lerr);
			return FAIL(base, o);
		}
	}
	if (rc) {
		errf(err, "%s: %s", dev, rc == -ENODEV ? "no such link" : lerr);
		return FAIL(base, rc);
	}
	unsigned mtu = backend_mtu(ops, base);
	if (!mtu)
		mtu = br.mtu;
	if (l.up) {
		vif_link_change down = {.up = -1};
		rc = vif_link_set(l.ifindex, &down, lerr);
		if (rc) {
			errf(err, "%s", lerr);
			return FAIL(base, rc);
		}
	}
	vif_link_change c = {
	        .name = strcmp(dev, target) != 0 ? target : NULL, .mac = port_mac, .mtu = mtu};
	rc = vif_link_set(l.ifindex, &c, lerr);
	if (rc == -EEXIST && c.name) { /* already renamed by an earlier run of this script */
		c.name = NULL;
		rc = vif_link_set(l.ifindex, &c, lerr);
	}
	int hrc = 0;
	if (rc == 0)
		rc = hrc = hook(target, err);
	if (rc == 0) {
		vif_link_change on = {.master = br.ifindex, .up = 1};
		rc = vif_link_set(l.ifindex, &on, lerr);
	}
	if (rc) {
		if (!hrc)
			errf(err, "%s", lerr);
		return FAIL(base, rc);
	}
	if (!is_vif)
		return 0;
	/* The frontend's MTU (netfront reads it) and the backend's go-ahead. */
	char *fe = hotplug_get(ops, base, "frontend"), want[96], val[16];
	snprintf(want, sizeof(want), "/local/domain/%lu/device/vif/%lu", domid, devid);
	if (!fe || strcmp(fe, want) != 0) {
		errf(err, "%s/frontend: %s", base,
		     fe ? "not this vif's frontend" : "not in xenstore");
		free(fe);
		return FAIL(base, -EINVAL);
	}
	free(fe);
	snprintf(val, sizeof(val), "%u", mtu);
	if (hotplug_put(ops, want, "mtu", val) ||
	    hotplug_put(ops, base, "hotplug-status", "connected")) {
		errf(err, "cannot write to xenstore under %s", base);
		return FAIL(base, -EIO);
	}
	return 0;
}

/* Offline (vif) or remove (tap): down and out of its bridge, if the link is still there. */
static int take_down(const char *dev, const char *target)
{
	char lerr[VIF_LINK_ERRLEN];
	vif_link l;

	if (vif_link_get(target, &l, lerr) != 0 && vif_link_get(dev, &l, lerr) != 0)
		return 0;
	vif_link_change c = {.up = -1, .master = l.master > 0 ? -1 : 0};
	vif_link_set(l.ifindex, &c, lerr);
	return 0;
}

int vif_hotplug_run(const vif_hotplug_args *a, const hotplug_xs *ops, char *err)
{
	const char *type = a->type_if && *a->type_if ? a->type_if : "vif";
	const char *act = a->action ? a->action : "";
	unsigned long domid, devid, d2, n2;
	bool is_vif, up;
	char target[16];

	if (strcmp(type, "vif") != 0 && strcmp(type, "tap") != 0) {
		errf(err, "unknown interface type %s", type);
		return -EINVAL;
	}
	is_vif = strcmp(type, "vif") == 0;
	if (strcmp(act, "online") == 0 || strcmp(act, "add") == 0)
		up = true;
	else if (strcmp(act, "offline") == 0 || strcmp(act, "remove") == 0)
		up = false;
	else {
		errf(err, "usage: xvps-vif online|offline|add|remove [type_if=vif|tap] "
		          "(XENBUS_PATH and vif set by libxl)");
		return -EINVAL;
	}
	/* vif-common.sh: a vif answers online/offline, a tap add/remove; the rest is not theirs. */
	if (is_vif != (strcmp(act, "online") == 0 || strcmp(act, "offline") == 0))
		return 0;
	if (!two_numbers(a->xenbus_path, "backend/vif/", '/', "", &domid, &devid)) {
		errf(err, "XENBUS_PATH is not a vif backend path");
		return -EINVAL;
	}
	const char *dev = is_vif ? a->vif : a->interface;
	if (!two_numbers(dev, "vif", '.', is_vif ? "" : "-emu", &d2, &n2) || d2 != domid ||
	    n2 != devid) {
		errf(err, "%s is not the %s of %s", is_vif ? "vif" : "INTERFACE",
		     is_vif ? "vif" : "tap", a->xenbus_path);
		return up ? FAIL(a->xenbus_path, -EINVAL) : -EINVAL;
	}
	char *vifname = hotplug_get(ops, a->xenbus_path, "vifname");
	if (vifname && *vifname && !valid_vifname(vifname, NULL)) {
		errf(err, "%s/vifname: not a vif name xvps writes (1 to 11 of a-z 0-9)",
		     a->xenbus_path);
		free(vifname);
		return up ? FAIL(a->xenbus_path, -EINVAL) : -EINVAL;
	}
	snprintf(target, sizeof(target), "%s%s", vifname && *vifname ? vifname : dev,
	         vifname && *vifname && !is_vif ? "-emu" : "");
	free(vifname);
	if (!up)
		return take_down(dev, target);
	return bring_up(a, ops, dev, target, is_vif, domid, devid, err);
}
