/* storage.h — the storage driver interface: `file` (sparse raw images under
 * $XVPS_STATE/disks, dev/test; provisioning/storage_file.c) and `lvm` (VG + thin pool;
 * provisioning/storage_lvm.c). Called only by xvps-agent with validated names. */
#ifndef XVPS_STORAGE_H
#define XVPS_STORAGE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "../common/runner.h"

#define ST_ERRLEN 512

struct st_driver;

typedef struct st_ops {
	const char *name; /* "file" | "lvm" */
	/* Imports a template image. source is a file name inside the template import directory,
	 * or NULL (file driver: a blank sparse image of size_gib; lvm: error). Idempotent. */
	int (*template_ensure)(struct st_driver *s, const char *tpl, uint64_t size_gib,
			       const char *source, uint64_t *size_bytes_out, char *err);
	int (*template_remove)(struct st_driver *s, const char *tpl, char *err);
	bool (*template_exists)(struct st_driver *s, const char *tpl);
	/* Creates the disk of a domain from a template, grown to size_gib. Idempotent: an
	 * existing disk of that name is kept (and grown when smaller). */
	int (*disk_ensure)(struct st_driver *s, const char *name, const char *tpl,
			   uint64_t size_gib, char *err);
	/* Removes the disk, discarding/zeroing its blocks. Absent is success. */
	int (*disk_remove)(struct st_driver *s, const char *name, char *err);
	/* Renames an unknown disk out of the way (reconciler) instead of deleting it. */
	int (*disk_quarantine)(struct st_driver *s, const char *name, char *err);
	/* Size of a disk in bytes; -ENOENT when absent. */
	int (*disk_size)(struct st_driver *s, const char *name, uint64_t *bytes_out, char *err);
	/* The path a domain config's disk= line uses ("/dev/vg/xvps-1" or ".../disks/xvps-1.img"). */
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
int st_lvm_open(st_driver *s, runner run, const char *vg, const char *thin_pool,
		const char *template_dir, char *err);

#endif
