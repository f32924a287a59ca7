/* template_import.h — official cloud images as templates (issue 16 item 7), the agent's half:
 * a vendor's qcow2 or raw image, downloaded with libcurl into the template import directory
 * (XVPS_TEMPLATE_DIR, under the state dir by default) or taken from a file there, checked with
 * `qemu-img info` (format raw or qcow2, no backing or external data file, virtual size within
 * the template's disk_gib), converted with `qemu-img convert -O raw` and handed to the storage
 * driver's template_ensure (file: a sparse copy; lvm: dd into a new read-only thin LV). All
 * commands through the runner as argv. Work files, all in the import directory:
 *   xvps-import-<tpl>.part      a download in progress
 *   xvps-import-<tpl>.download  a finished, checked download
 *   xvps-import-<tpl>.raw       the converted image until the driver took it
 * An import removes the three whatever its outcome; template.remove removes them too.
 *
 * Return convention: 0 or a negative errno, with *err filled (vps.h). */
#ifndef XVPS_TEMPLATE_IMPORT_H
#define XVPS_TEMPLATE_IMPORT_H

#include <json-c/json.h>
#include <stdbool.h>
#include <stdint.h>

#include "vps.h"

#define TPL_URL_MAX         2048
#define TPL_FETCH_MAX_BYTES (1024ull << 30)  /* the largest max_bytes a caller may ask for */
#define TPL_CONVERT_TIMEOUT (60 * 60 * 1000) /* ms, qemu-img convert */
#define TPL_SHA256_TIMEOUT  (30 * 60 * 1000) /* ms, sha256sum */

/* A download URL: printable ASCII without spaces, quotes or backslashes, at most TPL_URL_MAX
 * bytes, "https://" (or "http://" when allow_http) and a host. *why (may be NULL) gets a static
 * sentence on false. */
bool tpl_url_ok(const char *url, bool allow_http, const char **why);

/* template.fetch: downloads url to xvps-import-<tpl>.download (through .part), at most
 * max_bytes (1..TPL_FETCH_MAX_BYTES; the transfer is cut when it passes them), only over the
 * allowed protocols (redirects too); checks sha256 (64 hex digits) when given. Result
 * {"name","bytes","sha256"}. On failure nothing of this download is left. */
int tpl_fetch(vps_ctx *ctx, const char *tpl, const char *url, const char *sha256,
              uint64_t max_bytes, bool allow_http, json_object **result_out, vps_err *err);

/* template.import: the image at file (an absolute path inside the import directory, no
 * symlink; NULL: the fetched download) checked and converted into the template's image.
 * Result {"name","size_bytes","format","virtual_bytes"}. */
int tpl_import(vps_ctx *ctx, const char *tpl, uint64_t disk_gib, const char *file,
               json_object **result_out, vps_err *err);

/* Removes tpl's work files (absent is success). Returns 0 or -errno of the first failure. */
int tpl_import_cleanup(vps_ctx *ctx, const char *tpl);

#endif
