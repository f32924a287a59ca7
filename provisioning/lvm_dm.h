/* lvm_dm.h — what device-mapper says of an active LV, through libdevmapper's ioctls: no command
 * (issue 17 item 6: under emulation every lvs costs one to three seconds). Used by the lvm
 * storage driver's fresh-create path (storage_lvm_disk.c); LVM's own report stays the authority
 * for everything else. Names are LVM names; the device-mapper name "<vg>-<lv>" (each '-'
 * doubled) is built here. */
#ifndef XVPS_LVM_DM_H
#define XVPS_LVM_DM_H

#include <stdbool.h>
#include <stdint.h>

typedef struct lvm_dm_lv {
	bool read_only;      /* loaded read-only (an LV with permission r) */
	char target[16];     /* the type of its one target ("thin", "linear"...) */
	uint64_t sectors;    /* the target's length, 512-byte sectors */
	unsigned pool_major; /* a "thin" target: the pool device it maps onto */
	unsigned pool_minor;
} lvm_dm_lv;

/* Whether device-mapper has a device of that (mangled) name, asked with DM_DEVICE_INFO, which
 * answers "no such device" without libdevmapper logging a failure: 0, -ENOENT, -ENODEV (no
 * /dev/mapper/control), -EIO/-ENOMEM. */
int lvm_dm_exists(const char *dmname);

/* The active LV vg/lv: 0 with *out filled; -ENODEV when device-mapper cannot be asked (no
 * /dev/mapper/control: the dev machines' kernels have none), -ENOENT when no device of that
 * name exists (absent or inactive LV), -E2BIG for a table of several targets, -EIO/-ENOMEM
 * when libdevmapper fails, -ENAMETOOLONG. */
int lvm_dm_lv_info(const char *vg, const char *lv, lvm_dm_lv *out);

/* The device thin LVs of pool vg/pool map onto: "<vg>-<pool>-tpool", or "<vg>-<pool>" when LVM
 * activated the pool without that layer. 0, or the codes of lvm_dm_lv_info. */
int lvm_dm_pool_dev(const char *vg, const char *pool, unsigned *major, unsigned *minor);

/* Parses a "thin" target's table params "<pool major>:<pool minor> <device id> [<origin>]"
 * (kernel thin-provisioning.rst). Pure. True when it reads. */
bool lvm_dm_parse_thin_params(const char *params, unsigned *major, unsigned *minor);

#endif
