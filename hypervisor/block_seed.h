/* block_seed.h — the hotplug script of the seed disk (issue 17 item 6): `xvps-block-seed
 * add|remove`, run by libxl for the one disk whose xl.cfg spec names it (`script=`), the read-only
 * seed on a loop device the agent bound itself (provisioning/seed_loop.h).
 *
 * Xen's own `block` script does the same job for any disk in some twenty process starts and under
 * a lock all disks of all domains share ("block"), with a sharing check that a read-only seed
 * does not need; under TCG it cost an order 3 to 7 s beside the system disk's own run (appliance
 * journal, 2026-12-07). This does only what blkback needs, as that script does for `phy`:
 * reads the backend's `params` (the device), checks that it is a loop block device, writes
 * `physical-device` ("major:minor", hex, as the block script writes it), `physical-device-path`
 * and `hotplug-status` = "connected"; on failure `hotplug-error` and `hotplug-status` = "error"
 * (libxl then fails `xl create` with that reason). `remove` has nothing to undo (the agent
 * unbinds the loop device with the seed). */
#ifndef XVPS_BLOCK_SEED_H
#define XVPS_BLOCK_SEED_H

#include <stddef.h>
#include <sys/stat.h>

#include "hotplug_xs.h"

#define BLOCK_SEED_ERRLEN 256

/* Xenstore (hotplug_xs.h) and stat (the device check). Tests pass fakes; the binary passes
 * libxenstore and stat(2). */
typedef struct block_seed_ops {
	hotplug_xs xs;
	int (*stat)(const char *path, struct stat *st);
} block_seed_ops;

/* Runs action ("add", "remove"; "online"/"offline" are accepted as libxl's vif-style names) for
 * the backend at xenbus_path ("backend/vbd/<domid>/<devid>", from XENBUS_PATH). 0, or -errno
 * with err set (add also writes the error to xenstore as above). */
int block_seed_run(const char *action, const char *xenbus_path, const block_seed_ops *ops,
                   char *err);

#endif
