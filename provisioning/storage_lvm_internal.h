/* storage_lvm_internal.h — shared between the lvm storage driver's files: storage_lvm.c
 * (commands, reports, names, templates, open) and storage_lvm_disk.c (disks). Not a public
 * interface. Return convention (as storage.h): 0 or a negative errno, with one sentence in err
 * (ST_ERRLEN bytes). */
#ifndef XVPS_STORAGE_LVM_INTERNAL_H
#define XVPS_STORAGE_LVM_INTERNAL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "../common/runner.h"
#include "lvm_report.h"
#include "storage.h"

#define GIB             (1024ull * 1024ull * 1024ull)
#define MIB             (1024ull * 1024ull)
#define TPL_PREFIX      "xvpstpl-"
#define QUARANTINE      "quarantine-"
#define LVM_TIMEOUT_MS  (120 * 1000)
#define COPY_TIMEOUT_MS (6 * 3600 * 1000)
#define WIPE_TIMEOUT_MS (6 * 3600 * 1000)
#define LVS_FIELDS      "lv_name,lv_attr,lv_size,pool_lv,segtype,data_percent,metadata_percent,discards"

#define errf(err, ...) errfmt(err, ST_ERRLEN, __VA_ARGS__)

typedef struct lvm_priv {
	int headroom_pct;
} lvm_priv;

/* An LV name this driver builds: "xvpstpl-<tpl>" or "quarantine-<name>-<unix time>" (a name
 * is at most 127 characters, lvm(8)). */
#define LVMD_LV_LEN 160

/* A template source's path: the template directory, '/', a file name (ST_NAME_MAX). */
#define LVMD_SRC_LEN 600

/* "vg/lv" of an LV name (at most 127 characters each, lvm(8)) and its path "/dev/vg/lv". */
#define LVMD_VL_LEN 300

/* A "<what>: " prefix of an error message (the action and the LV it concerns). */
#define LVMD_WHAT_LEN 1024

/* The pool space kept free, in percent (st_lvm_set_headroom). */
int lvmd_headroom(const st_driver *s);

/* Runs argv. Returns 0 when it exited 0; else err = "<what>: <first line> (<cmd>)" and
 * -ETIMEDOUT, -EIO, or the runner's -errno (-ENOENT: the program is not installed). res is
 * kept for the caller (dispose it in every case). what may be NULL (err untouched). */
int lvmd_run_cmd(st_driver *s, const char *const argv[], int timeout_ms, runner_result *res,
                 const char *what, char *err);
/* lvmd_run_cmd without output. */
int lvmd_run_simple(st_driver *s, const char *const argv[], int timeout_ms, const char *what,
                    char *err);

/* The LVs of the VG (lvs report); -errno with err set ("listing LVs failed: ..."). */
int lvmd_list_vg(st_driver *s, lv_list *l, char *err);
/* Lists the VG and finds the pool in it (-ENOENT with err set when it is gone). */
int lvmd_list_with_pool(st_driver *s, lv_list *l, const lv_row **pool, char *err);
/* True for a thin LV of the configured pool. */
bool lvmd_in_our_pool(const st_driver *s, const lv_row *r);
/* The refusal rule of lvm_check_room (lvm_report.h) for this driver's pool and headroom. */
int lvmd_check_room(st_driver *s, const lv_row *pool, uint64_t need_bytes, const char *what,
                    char *err);

/* "/dev/vg/lv" and "vg/lv" of an LV into out; false when it does not fit. */
bool lvmd_lv_path(const st_driver *s, const char *lv, char *out, size_t len);
bool lvmd_vg_lv(const st_driver *s, const char *lv, char *out, size_t len);
/* The LV name of template tpl ("xvpstpl-<tpl>"); -EINVAL with err set when invalid. */
int lvmd_tpl_lv(const char *tpl, char *out, size_t len, char *err);
/* 0 for a disk name lvm accepts that is not a template's; else -EINVAL with err set. */
int lvmd_check_disk_name(const char *name, char *err);
/* Sets err to "LV name vg/lv is too long" and returns -ENAMETOOLONG. */
int lvmd_name_too_long(const st_driver *s, const char *lv, char *err);
/* lvremove -y / lvchange -ay -K of vg/lv; -errno with err set. */
int lvmd_lvremove(st_driver *s, const char *lv, char *err);
int lvmd_lvactivate(st_driver *s, const char *lv, char *err);

/* st_ops of the lvm driver (storage.h): storage_lvm_disk.c. */
int lvmd_disk_ensure(st_driver *s, const char *name, const char *tpl, uint64_t size_gib,
                     st_disk_outcome *out, char *err);
int lvmd_disk_remove(st_driver *s, const char *name, char *err);
int lvmd_disk_quarantine(st_driver *s, const char *name, char *err);
int lvmd_disk_size(st_driver *s, const char *name, uint64_t *bytes_out, char *err);
int lvmd_disk_path(st_driver *s, const char *name, char *out, size_t outlen);
int lvmd_list(st_driver *s, const char *prefix, char ***names_out, size_t *n_out, char *err);

#endif
