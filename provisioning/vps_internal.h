/* vps_internal.h — shared between the VPS operations' files: vps.c (status, power, reinstall),
 * vps_ensure.c (ensure), vps_reconcile.c (remove, reconcile) and vps_net.c. Not a public
 * interface. Return convention (as vps.h): 0 or a negative errno, with *err filled. */
#ifndef XVPS_VPS_INTERNAL_H
#define XVPS_VPS_INTERNAL_H

#include "vps.h"

/* A path built for a domain: its config (<config_dir>/<name>.cfg), its disk (the storage
 * driver's disk_path) or its seed image (seed_path). */
#define VPS_PATH_LEN 512

/* 0 when name is a domain name xvps makes (valid_domain_name); else -EINVAL with err set
 * (code invalid, field "name"). */
int vps_check_name(const char *name, vps_err *err);

/* vps_resize.c: brings a running domain that this call did not create (created false) to
 * spec's memory and vcpus where its ceilings (maxmem, maxvcpus) allow, live; info is the domain
 * as just read (the caller's driver info). *pending_out gets {"memory_mib": n|null, "vcpus":
 * n|null}, the sizes that wait for the next boot, or NULL when none; *cap_out the cap to apply
 * now (spec's, at most the domain's vcpus x 100). 0 or -errno. */
int vps_resize_live(vps_ctx *ctx, const vps_spec *spec, bool created, const hv_domain_info *info,
                    int *cap_out, json_object **pending_out, vps_err *err);

/* vps.c: whether a file exists (stat). */
bool vps_file_exists(const char *path);
/* vps.c: a domain its guest shut down (preserved) settled before an operation acts on it
 * (power.c); *info read again. 0 or -errno. */
int vps_settle_preserved(vps_ctx *ctx, const char *name, hv_domain_info *info, vps_err *err);
/* vps.c: the VPS_STATUS of name from what the caller read already: the driver's info, whether
 * the disk exists and its size (vps_status reads them itself). */
json_object *vps_status_of(vps_ctx *ctx, const char *name, const hv_domain_info *info,
                           bool has_disk, uint64_t disk_bytes);

/* ---- vps_rescue.c: rescue mode (issue 16 item 3) ----
 * The template the rescue copies are made from, the file it is imported from (a name in the
 * template import directory: XVPS_TEMPLATE_DIR, /var/lib/xvps/templates on the appliance), the
 * size of each copy and the prefix of their disk names ("rescue-xvps-N": outside the
 * reconciler's "xvps-" disks, which it quarantines). */
#define RESCUE_TEMPLATE    "rescue"
#define RESCUE_SOURCE      "rescue.img"
#define RESCUE_DISK_GIB    4
#define RESCUE_DISK_PREFIX "rescue-"

/* "rescue-<name>"; false when it does not fit. */
bool vps_rescue_disk_name(const char *name, char *out, size_t outlen);
/* spec->rescue: the rescue template (imported when missing) and the domain's own copy of it
 * made (kept when present), its path in path_out. Not rescue: path_out "". 0 or -errno. */
int vps_rescue_prepare(vps_ctx *ctx, const vps_spec *spec, char *path_out, size_t outlen,
                       vps_err *err);
/* Whether the config at cfg_path boots the domain's rescue copy as xvda. */
bool vps_rescue_configured(vps_ctx *ctx, const char *name, const char *cfg_path);
/* Before the config is rewritten: a running domain whose config is in the other mode than
 * spec->rescue is shut down (cleanly, destroyed after the timeout), so the power step boots it
 * in the wanted mode. 0 or -errno. */
int vps_rescue_switch(vps_ctx *ctx, const vps_spec *spec, const char *cfg_path, vps_err *err);
/* Removes the domain's rescue copy; absent is success. 0 or -errno. */
int vps_rescue_remove(vps_ctx *ctx, const char *name, vps_err *err);

#endif
