/* vps_internal.h — shared between the VPS operations' files: vps.c (ensure, status, power,
 * reinstall, templates), vps_reconcile.c (remove, reconcile) and vps_net.c. Not a public
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
 * spec's memory and vcpus where its ceilings (maxmem, maxvcpus) allow, live. *pending_out gets
 * {"memory_mib": n|null, "vcpus": n|null}, the sizes that wait for the next boot, or NULL when
 * none; *cap_out the cap to apply now (spec's, at most the domain's vcpus x 100). 0 or -errno. */
int vps_resize_live(vps_ctx *ctx, const vps_spec *spec, bool created, int *cap_out,
                    json_object **pending_out, vps_err *err);

#endif
