/* seed_nocloud.h — the per-VPS seed as a cloud-init NoCloud seed (issue 16 item 7), for
 * templates whose seed kind is "nocloud" (VPS_SPEC "seed"): a small FAT disk labelled `cidata`
 * holding three files that cloud-init's NoCloud datasource reads at boot:
 *
 *   meta-data       instance-id: "xvps-N-<16 hex>"   (FNV-1a 64 over user-data and
 *                   local-hostname: "<hostname>"       network-config: a changed seed is a
 *                                                      new instance, so cloud-init applies it)
 *   user-data       #cloud-config: hostname (first label), fqdn, manage_etc_hosts,
 *                   disable_root: false and ssh_authorized_keys (the default user's and root's),
 *                   ssh_pwauth: false; the password reset goes here too (see
 *                   nocloud_render_user_data)
 *   network-config  version 2: ethernets.eth0 matched by the VPS's MAC (set-name eth0), no
 *                   DHCP, no RA; addresses A/32 and A/128, each routed IPv6 prefix's first
 *                   address P::1/128 (the rest of the prefix is routed to the VPS), routes
 *                   0.0.0.0/0 via gateway4 and ::/0 via gateway6, both on-link; the resolvers
 *                   go in nameservers (see nocloud_render_network)
 *
 * Every string scalar is a YAML double-quoted scalar of printable ASCII with `"` and `\`
 * escaped, every value checked again against its validator first, so no value can change the
 * documents' structure. The disk is built through the runner as argv (never a shell):
 * `mformat -i IMG -C -f 1440 -v cidata ::` then `mcopy -i IMG FILES ::` (Debian's mtools), into
 * a temporary file renamed over <state_dir>/seed/<domain>.img — the same path as the xvps seed
 * (seed.h), so the config, removal and the reconciler treat both kinds alike.
 *
 * Return convention: 0 or a negative errno, with a sentence in err (SEED_ERRLEN bytes). */
#ifndef XVPS_SEED_NOCLOUD_H
#define XVPS_SEED_NOCLOUD_H

#include <stddef.h>

#include "../common/runner.h"
#include "seed.h"
#include "spec.h"

#define NOCLOUD_MAX_DOC    (64 * 1024) /* bytes, each document */
#define NOCLOUD_ID_LEN     64
#define NOCLOUD_LABEL      "cidata"
#define NOCLOUD_TIMEOUT_MS 30000

/* The three documents of one VPS's NoCloud seed (heap strings, nocloud_dispose frees). */
typedef struct nocloud_seed {
	char *meta_data;
	char *user_data;
	char *network_config;
	char instance_id[NOCLOUD_ID_LEN];
} nocloud_seed;

/* Renders spec's three documents into *out. Returns 0, or -EINVAL (a value fails its check:
 * err names the field), -EFBIG (a document over NOCLOUD_MAX_DOC), -ENOMEM; *out is then empty. */
int nocloud_render(const vps_spec *spec, nocloud_seed *out, char *err);

void nocloud_dispose(nocloud_seed *s);

/* Writes spec's NoCloud seed disk to <state_dir>/seed/<spec->name>.img (mode 0600) with run:
 * renders, and when the file already holds this meta-data (the instance-id names the content)
 * leaves it alone; else writes the documents into a private temporary directory, builds the
 * FAT image next to the target, fsyncs it and renames it over the target. A failure leaves
 * the previous file as it was and nothing temporary behind. run: the runner, or NULL (or one
 * without a function: the file driver's) for runner_real(). */
int nocloud_write(const runner *run, const char *state_dir, const vps_spec *spec, char *err);

/* The seed of spec's kind: nocloud_write when spec->seed_nocloud (and the VPS is not in rescue
 * mode: the rescue system reads the xvps seed), else seed_write (seed.h). */
int seed_write_kind(const runner *run, const char *state_dir, const vps_spec *spec, char *err);

#endif
