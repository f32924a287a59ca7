/* seed_loop.h — the seed as a read-only loop block device the agent binds itself (issue 17 item 6).
 *
 * A domain config that names the seed file makes Xen's `block` hotplug script bind a loop device
 * at every `xl create` (losetup, its sharing checks, a lock: 3 to 11 s of an order under TCG, as
 * measured on the appliance); a config that names a block device takes the script's short
 * `phy` path. So on Xen the agent binds the seed file to a loop device through the kernel's
 * loop ioctls (no process), keeps it bound while the VPS exists, re-points it at the new file
 * when the seed is rewritten (the seed is replaced by rename, so a new inode; LOOP_CHANGE_FD
 * works on a read-only device even while a domain reads it), and unbinds it when the seed is
 * removed. Only devices it bound itself (lo_file_name "xvps-seed") are reused or unbound: never
 * one Xen's block script bound for a domain still running on an older config. Paths are absolute;
 * devices are "/dev/loopN". Return convention: 0 or a negative errno, with one sentence in err
 * (SEED_LOOP_ERRLEN bytes, may be NULL). */
#ifndef XVPS_SEED_LOOP_H
#define XVPS_SEED_LOOP_H

#include <stddef.h>

#define SEED_LOOP_ERRLEN 256
#define SEED_LOOP_DEVLEN 32

/* The read-only loop device bound to the file at path: the one already bound to this very file
 * (same st_dev and inode), else one bound to an older file of that path switched over
 * (LOOP_CHANGE_FD; same size), else a new one (LOOP_CTL_GET_FREE + LOOP_CONFIGURE, read-only,
 * no partition scan). dev gets "/dev/loopN". -ENOENT: no such file; -ENODEV: no loop support
 * (/dev/loop-control); -EBUSY: the old binding is in use and the size changed. */
int seed_loop_attach(const char *path, char *dev, size_t devlen, char *err);

/* Unbinds every loop device bound to path (or to an older file of that path). A device that is
 * still open (a domain being torn down) is marked autoclear instead: the kernel unbinds it at
 * its last close. 0, or the first -errno (err set). No loop support: 0. */
int seed_loop_detach(const char *path, char *err);

#endif
