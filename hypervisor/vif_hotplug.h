/* vif_hotplug.h — the vif's hotplug script (issue 17 item 6): `xvps-vif online|offline
 * type_if=vif` and `xvps-vif add|remove type_if=tap`, run by libxl for each vif whose xl.cfg spec
 * names it (`script=`, XVPS_VIF_SCRIPT), in place of Xen's `vif-bridge`.
 *
 * Xen's `vif-bridge` is a bash script that sources four others and starts some twenty-five
 * processes per vif (`expr` per argument, `xenstore-read` per key, `ip` per change, `logger` per
 * debug line); under TCG that cost an order 3 to 5 s of its `xl create` (appliance journal,
 * 2026-12-07). This does what that script does for a bridged vif, with one process: xenstore
 * through libxenstore and the link through rtnetlink (vif_link.h):
 *
 * - online (vif) / add (tap, an HVM guest's "-emu" device from qemu-xen): reads the backend's
 *   `bridge` (required, an existing bridge) and `vifname` (optional: the vif is renamed to it,
 *   the tap to vifname + "-emu"; another link already of that name is an error, as in
 *   vif-bridge), takes the link down, gives it the MAC fe:ff:ff:ff:ff:ff (so the bridge never
 *   takes the vif's address as its own), the MTU of the backend's `mtu` or else the bridge's,
 *   makes it a port of the bridge and brings it up, all in one RTM_NEWLINK. For a vif it then
 *   writes the MTU to the frontend's `mtu` (the path the backend's `frontend` key names) and
 *   `hotplug-status` = "connected", which netback waits for. Unlike vif-bridge it flushes no
 *   addresses (a link netback or qemu has just made carries none).
 * - offline (vif) / remove (tap): takes the link down and out of its bridge when it still
 *   exists; never an error (vif-bridge's do_without_error).
 * - online/offline for a tap and add/remove for a vif do nothing (vif-common.sh).
 * Failure writes `hotplug-error` (the reason) and `hotplug-status` = "error"; libxl then fails
 * `xl create` with that reason. */
#ifndef XVPS_VIF_HOTPLUG_H
#define XVPS_VIF_HOTPLUG_H

#include "hotplug_xs.h"

#define VIF_HOTPLUG_ERRLEN 256

/* What libxl passes (tools/libs/light/libxl_linux.c): argv[1] the action, an argument
 * "type_if=vif|tap" (absent: vif), and the environment's XENBUS_PATH ("backend/vif/<domid>/
 * <devid>"), vif ("vif<domid>.<devid>") and, for a tap, INTERFACE ("vif<domid>.<devid>-emu"). */
typedef struct vif_hotplug_args {
	const char *action;
	const char *type_if;
	const char *xenbus_path;
	const char *vif;
	const char *interface;
} vif_hotplug_args;

/* Builds args from main's argv and the environment (getenv). */
void vif_hotplug_args_from(vif_hotplug_args *a, int argc, char **argv);

/* 0, or -errno with err set (and, for online/add, the error written to xenstore as above). */
/* xs: xenstore (hotplug_xs.h; tests pass a fake). */
int vif_hotplug_run(const vif_hotplug_args *a, const hotplug_xs *xs, char *err);

#endif
