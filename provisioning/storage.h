/* storage.h — the storage driver interface: `file` (sparse raw images under
 * $XVPS_STATE/disks, dev/test; provisioning/storage_file.c) and `lvm` (VG + thin pool;
 * provisioning/storage_lvm.c). Called only by xvps-agent with validated names.
 *
 * Return convention: 0 or a negative errno, with a sentence in err (ST_ERRLEN bytes). */
#ifndef XVPS_STORAGE_H
#define XVPS_STORAGE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "../common/runner.h"

#define ST_ERRLEN 512

/* Longest template, disk or template-source name that becomes a file name (valid_file_name). */
#define ST_NAME_MAX 128

/* A path the file driver builds: a 256-byte directory (st_driver.dir, template_dir), a
 * subdirectory and a name. */
#define ST_PATH_LEN 512

struct st_driver;

/* What disk_ensure found and did (zeroed first; valid also on failure, as far as it got). */
typedef struct st_disk_outcome {
	bool looked;      /* the driver could tell whether the disk existed (existed is valid) */
	bool existed;     /* the disk was there before the call (kept, grown when smaller) */
	bool created;     /* this call made the disk from its template (existed false) */
	bool grown;       /* this call grew the existing disk to size_gib */
	bool tpl_missing; /* refused (-ENOENT): no disk, and its template is missing or not ready */
	uint64_t bytes;   /* the disk's size after a successful call */
} st_disk_outcome;

typedef struct st_ops {
	const char *name; /* "file" | "lvm" */
	/* Imports a template image. source is a file name inside the template import directory,
	 * or NULL (file driver: a blank sparse image of size_gib; lvm: error). Idempotent. */
	int (*template_ensure)(struct st_driver *s, const char *tpl, uint64_t size_gib,
	                       const char *source, uint64_t *size_bytes_out, char *err);
	int (*template_remove)(struct st_driver *s, const char *tpl, char *err);
	/* 1 when template tpl exists and its import finished, 0 when it does not (or tpl is not a
	 * valid name), -1 when the driver could not tell (lvm: `lvs` failed; file: stat failed
	 * otherwise than ENOENT) with the reason in err: a host error, never "absent". */
	int (*template_exists)(struct st_driver *s, const char *tpl, char *err);
	/* Creates the disk of a domain from a template, grown to size_gib. Idempotent: an
	 * existing disk of that name is kept (and grown when smaller, never shrunk). out (NULL:
	 * not wanted) tells, from the one look the driver takes (issue 17 item 6: under emulation
	 * every lvs costs a second), whether the disk existed, was created or grown, a missing
	 * template (-ENOENT, nothing made, tpl_missing set) and the size after. A failure to look
	 * (lvm: `lvs` failed) leaves looked and tpl_missing false: a host error. */
	int (*disk_ensure)(struct st_driver *s, const char *name, const char *tpl,
	                   uint64_t size_gib, st_disk_outcome *out, char *err);
	/* Removes the disk, discarding/zeroing its blocks. Absent is success. */
	int (*disk_remove)(struct st_driver *s, const char *name, char *err);
	/* Renames an unknown disk out of the way (reconciler) instead of deleting it. */
	int (*disk_quarantine)(struct st_driver *s, const char *name, char *err);
	/* Size of a disk in bytes; -ENOENT when absent. */
	int (*disk_size)(struct st_driver *s, const char *name, uint64_t *bytes_out, char *err);
	/* The path a domain config's disk= line uses ("/dev/vg/xvps-1" or ".../disks/xvps-1.img").
	 */
	int (*disk_path)(struct st_driver *s, const char *name, char *out, size_t outlen);
	/* Names of all disks whose names start with prefix. */
	int (*list)(struct st_driver *s, const char *prefix, char ***names_out, size_t *n_out,
	            char *err);
	void (*dispose)(struct st_driver *s);
} st_ops;

typedef struct st_driver {
	const st_ops *ops;
	runner run;
	char dir[256];          /* file: base dir ($XVPS_STATE); lvm: unused */
	char template_dir[256]; /* where template sources are imported from */
	char vg[128];           /* lvm */
	char thin_pool[128];    /* lvm */
	void *priv;
} st_driver;

int st_file_open(st_driver *s, const char *state_dir, const char *template_dir, char *err);

/* ---- lvm (provisioning/storage_lvm.c) ----
 * Templates are read-only thin LVs "xvpstpl-<tpl>" (never "xvps-…", so the reconciler's
 * "xvps-" disk listing cannot see them), disks are thin snapshots of them named like the
 * domain, quarantined disks become "quarantine-<name>-<unix time>". Every command goes through
 * run (argv, never a shell); reports are read as `--reportformat json` with json-c.
 *
 * Opens the driver on volume group vg and thin pool thin_pool (both checked with
 * st_lvm_valid_name, then with `lvs`). Fails, with err naming them, when the VG or the pool is
 * missing or the LV is not a thin pool. Turns the pool's zeroing of newly provisioned blocks on
 * (`lvchange --zero y`) when it is off and activates an inactive pool, so a new thin LV reads
 * zeros wherever it was not written. template_dir: the directory template sources are read
 * from. Headroom starts at ST_LVM_HEADROOM_DEFAULT. Returns 0 or -errno. */
int st_lvm_open(st_driver *s, runner run, const char *vg, const char *thin_pool,
                const char *template_dir, char *err);

#define ST_LVM_HEADROOM_DEFAULT 10
#define ST_LVM_HEADROOM_MAX     90

/* Sets the share of the thin pool's data space (percent, 0..ST_LVM_HEADROOM_MAX) that new
 * disks, growth and template imports must leave free: they are refused (-ENOSPC, nothing
 * created) when used + need > total × (100 − pct) / 100. Also applies to metadata (refused when
 * its use exceeds 100 − pct percent). Returns 0, or -EINVAL when s is not an open lvm driver or
 * pct is out of range. */
int st_lvm_set_headroom(st_driver *s, int pct);

/* The one LVM VG/LV name rule (lvm(8) "VALID NAMES"; implemented once, as valid_lvm_name() in
 * common/validate.h): 1..127 characters of [A-Za-z0-9+_.-], no leading '-', not "."/"..", no
 * reserved part ("_cdata", "_cmeta", "_corig", "_mimage", "_mlog", "_pmspare", "_rimage",
 * "_rmeta", "_tdata", "_tmeta", "_vorigin", "_vdata"), not beginning with "snapshot" or
 * "pvmove". *why_out (when not NULL) gets a static sentence on false. */
bool st_lvm_valid_name(const char *name, const char **why_out);

/* Usage of a thin pool, from its device-mapper status line or from `lvs`. */
typedef struct st_pool_usage {
	uint64_t data_used_bytes;  /* bytes of the pool's data device mapped by thin LVs */
	uint64_t data_total_bytes; /* size of the pool's data device */
	uint64_t meta_used;        /* metadata used, in meta_total units (blocks, or 1/10000) */
	uint64_t meta_total;
	bool failed;            /* status "Fail"/"Error": the pool is unusable */
	bool out_of_data_space; /* mode out_of_data_space */
	bool read_only;         /* mode ro (metadata trouble) */
	bool needs_check;       /* needs_check flag: thin_check/lvconvert --repair wanted */
} st_pool_usage;

/* Parses the params of a "thin-pool" target's DM_DEVICE_STATUS line (kernel
 * thin-provisioning.rst: "<transaction id> <used meta>/<total meta> <used data>/<total data>
 * <held root> ro|rw|out_of_data_space [no_]discard_passdown [error|queue]_if_no_space
 * needs_check|- [metadata_low_watermark]"; the fields after the mode are optional, as in older
 * kernels). length_sectors is the target's length (512-byte sectors = the data device's
 * size); used data bytes are rounded up. Pure function. Returns 0; -EIO with u->failed set for
 * "Fail"/"Error"; -EINVAL for anything else it cannot read (u then zeroed). */
int st_lvm_parse_tpool_status(const char *params, uint64_t length_sectors, st_pool_usage *u);

#endif
