/* storage_lvm_disk.c — the `lvm` storage driver's disks (storage.h disk_* and list): a thin
 * snapshot of a template per domain, grown and never shrunk, discarded (or zeroed) before it is
 * removed, renamed aside on quarantine. Never touches an LV outside the configured thin pool or
 * a name the reconciler did not hand it; every command goes through the runner. */
#include "storage.h"
#include "storage_lvm_internal.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>
#include <unistd.h>

#include "../common/util.h"
#include "../common/validate.h"
#include "lvm_dm.h"
#include "lvm_report.h"

static int lvextend_to(st_driver *s, const char *vl, uint64_t size_gib, char *err)
{
	char size[32], what[LVMD_WHAT_LEN];
	const char *argv[] = {"lvextend", "-L", size, vl, NULL};

	snprintf(size, sizeof(size), "%llug", (unsigned long long)size_gib);
	snprintf(what, sizeof(what), "cannot grow LV %s to %llu GiB", vl,
	         (unsigned long long)size_gib);
	return lvmd_run_simple(s, argv, LVM_TIMEOUT_MS, what, err);
}

/* The size of an active LV from its device node /dev/VG/NAME (udev makes it while the LV is
 * active) and the kernel's /sys/dev/block/MAJ:MIN/size: 0, or -errno (-ENOENT: no node, the LV
 * is absent or inactive). No command, no open of the device: under emulation an lvs costs a
 * second. */
static int dev_bytes(const st_driver *s, const char *name, uint64_t *bytes)
{
	char dev[LVMD_VL_LEN], path[96], *data = NULL;
	struct stat st;
	size_t len = 0;
	long long sectors = 0;
	int rc;

	if (!lvmd_lv_path(s, name, dev, sizeof(dev)))
		return -ENAMETOOLONG;
	if (stat(dev, &st) != 0)
		return -errno;
	if (!S_ISBLK(st.st_mode))
		return -ENOTBLK;
	snprintf(path, sizeof(path), "/sys/dev/block/%u:%u/size", major(st.st_rdev),
	         minor(st.st_rdev));
	rc = read_file(path, 64, &data, &len);
	if (rc)
		return rc;
	data[strcspn(data, "\n")] = '\0';
	if (!parse_int_range(data, 0, INT64_MAX / 512, &sectors))
		rc = -EPROTO;
	else
		*bytes = (uint64_t)sectors * 512u;
	free(data);
	return rc;
}

/* lvcreate of a thin snapshot vl of template tvl (tsize bytes), grown to size_gib; removed again
 * when anything after the lvcreate fails. 0 or -errno with err set; *lvcreate_failed tells that
 * lvcreate itself failed (nothing made: the caller may look and decide again). */
static int create_from_template(st_driver *s, const char *name, const char *vl, const char *tvl,
                                uint64_t tsize, uint64_t size_gib, st_disk_outcome *out,
                                bool *lvcreate_failed, char *err)
{
	uint64_t want = size_gib * GIB;
	char cwhat[LVMD_WHAT_LEN];
	const char *argv[] = {"lvcreate", "-kn", "-prw", "-s", "-n", name, tvl, NULL};
	int rc;

	snprintf(cwhat, sizeof(cwhat), "cannot create disk LV %s from %s", vl, tvl);
	*lvcreate_failed = false;
	rc = lvmd_run_simple(s, argv, LVM_TIMEOUT_MS, cwhat, err);
	if (rc) {
		*lvcreate_failed = true;
		return rc;
	}
	if (tsize < want)
		rc = lvextend_to(s, vl, size_gib, err);
	/* lvcreate activates what it makes (-kn: no activation skip); its device node says so.
	 * Only without one is it activated. */
	if (!rc && dev_bytes(s, name, &out->bytes) != 0) {
		rc = lvmd_lvactivate(s, name, err);
		out->bytes = tsize > want ? tsize : want;
	}
	if (rc) {
		char rerr[ST_ERRLEN];
		if (lvmd_lvremove(s, name, rerr) != 0)
			log_error("disk %s: rollback failed: %s", name, rerr);
		out->bytes = 0;
	}
	out->created = rc == 0;
	return rc;
}

/* The fresh-create path (issue 17 item 6): when device-mapper shows no device for the disk, an
 * active read-only thin device for the template on this pool, and the pool's status (room,
 * health), the disk is made without listing the VG first: one process less per order (an lvs
 * costs one to three seconds under emulation). Returns -EAGAIN when it cannot decide (no
 * device-mapper, a device of that name, the template not active) or its lvcreate failed (an
 * inactive LV of that name, say): the caller then lists the VG and decides from LVM's report. */
static int fresh_create(st_driver *s, const char *name, const char *tlv, const char *vl,
                        const char *tvl, uint64_t size_gib, st_disk_outcome *out, char *err)
{
	uint64_t want = size_gib * GIB, tsize;
	char what[LVMD_WHAT_LEN];
	unsigned pmaj, pmin;
	bool failed;
	lvm_dm_lv d;
	int rc;

	if (lvm_dm_lv_info(s->vg, name, &d) != -ENOENT)
		return -EAGAIN;
	if (lvm_dm_lv_info(s->vg, tlv, &d) != 0 || !d.read_only || strcmp(d.target, "thin") != 0)
		return -EAGAIN;
	if (lvm_dm_pool_dev(s->vg, s->thin_pool, &pmaj, &pmin) != 0 || d.pool_major != pmaj ||
	    d.pool_minor != pmin)
		return -EAGAIN;
	tsize = d.sectors * 512u;
	snprintf(what, sizeof(what), "disk %s", name);
	rc = lvm_check_room(s->vg, s->thin_pool, NULL, lvmd_headroom(s),
	                    want > tsize ? want : tsize, what, err);
	if (rc == -ENODEV)
		return -EAGAIN;
	if (rc)
		return rc;
	out->looked = true;
	out->existed = false;
	rc = create_from_template(s, name, vl, tvl, tsize, size_gib, out, &failed, err);
	return rc && failed ? -EAGAIN : rc;
}

/* One lvs tells everything: the disk (kept, activated, grown) or its template and the pool's
 * room for a new one; a new disk's size after is read from its device node (no second lvs). */
int lvmd_disk_ensure(st_driver *s, const char *name, const char *tpl, uint64_t size_gib,
                     st_disk_outcome *out, char *err)
{
	char tlv[LVMD_LV_LEN], vl[LVMD_VL_LEN], tvl[LVMD_VL_LEN], what[LVMD_WHAT_LEN];
	const lv_row *pool, *row, *trow;
	st_disk_outcome mine;
	lv_list l;
	uint64_t want, tsize;
	int rc;

	if (!out)
		out = &mine;
	memset(out, 0, sizeof(*out));

	rc = lvmd_check_disk_name(name, err);
	if (rc)
		return rc;
	rc = lvmd_tpl_lv(tpl, tlv, sizeof(tlv), err);
	if (rc)
		return rc;
	if (size_gib < 1 || size_gib > 16384) {
		errf(err, "disk size out of range");
		return -ERANGE;
	}
	want = size_gib * GIB;
	if (!lvmd_vg_lv(s, name, vl, sizeof(vl)) || !lvmd_vg_lv(s, tlv, tvl, sizeof(tvl)))
		return lvmd_name_too_long(s, name, err);
	rc = fresh_create(s, name, tlv, vl, tvl, size_gib, out, err);
	if (rc != -EAGAIN)
		return rc;
	memset(out, 0, sizeof(*out));
	err[0] = '\0';
	rc = lvmd_list_with_pool(s, &l, &pool, err);
	if (rc)
		return rc;
	snprintf(what, sizeof(what), "disk %s", name);
	row = lvm_find_lv(&l, name);
	out->looked = true;
	out->existed = row != NULL;
	if (row) {
		/* Existing disk: kept; activated (a create killed half-way may have left it
		 * inactive) and grown when smaller, never shrunk. */
		if (!lvmd_in_our_pool(s, row)) {
			errf(err, "LV %s exists but is not a thin volume of pool %s/%s", vl, s->vg,
			     s->thin_pool);
			rc = -EEXIST;
			goto out;
		}
		if (row->size < want) {
			rc = lvmd_check_room(s, pool, want - row->size, what, err);
			if (!rc)
				rc = lvextend_to(s, vl, size_gib, err);
			if (rc)
				goto out;
			out->grown = true;
		}
		if (!lvm_is_active(row))
			rc = lvmd_lvactivate(s, name, err);
		out->bytes = row->size > want ? row->size : want;
		goto out;
	}
	trow = lvm_find_lv(&l, tlv);
	if (!trow || !lvm_is_read_only(trow) || !lvmd_in_our_pool(s, trow)) {
		errf(err, "template LV %s is missing%s", tvl,
		     trow ? " (its import did not finish)" : "");
		out->tpl_missing = true;
		rc = -ENOENT;
		goto out;
	}
	tsize = trow->size;
	/* Refused before anything is made. */
	rc = lvmd_check_room(s, pool, want > tsize ? want : tsize, what, err);
	if (rc)
		goto out;
	lvm_list_free(&l);
	{
		bool failed;
		return create_from_template(s, name, vl, tvl, tsize, size_gib, out, &failed, err);
	}
out:
	lvm_list_free(&l);
	return rc;
}

int lvmd_disk_remove(st_driver *s, const char *name, char *err)
{
	char vl[LVMD_VL_LEN], dev[LVMD_VL_LEN], what[LVMD_WHAT_LEN], derr[ST_ERRLEN];
	const lv_row *row;
	lv_list l;
	bool active;
	int rc;

	rc = lvmd_check_disk_name(name, err);
	if (rc)
		return rc;
	if (!lvmd_vg_lv(s, name, vl, sizeof(vl)) || !lvmd_lv_path(s, name, dev, sizeof(dev)))
		return lvmd_name_too_long(s, name, err);
	rc = lvmd_list_vg(s, &l, err);
	if (rc)
		return rc;
	row = lvm_find_lv(&l, name);
	if (!row) {
		lvm_list_free(&l);
		return 0;
	}
	if (!lvmd_in_our_pool(s, row)) {
		errf(err, "LV %s is not a thin volume of pool %s/%s: not removing it", vl, s->vg,
		     s->thin_pool);
		lvm_list_free(&l);
		return -EPERM;
	}
	active = lvm_is_active(row);
	lvm_list_free(&l);
	if (!active) {
		rc = lvmd_lvactivate(s, name, err);
		if (rc)
			return rc;
	}
	/* Discard: the pool unmaps the blocks (they read zeros and return to the pool). */
	{
		const char *argv[] = {"blkdiscard", dev, NULL};
		rc = lvmd_run_simple(s, argv, WIPE_TIMEOUT_MS, "discard", derr);
	}
	if (rc) {
		/* The pool ignores discards: write zeros over the whole LV instead. */
		const char *argv[] = {"blkdiscard", "-z", dev, NULL};
		log_warn("disk %s: %s; zeroing it instead", vl, derr);
		snprintf(what, sizeof(what), "cannot discard or zero LV %s (kept)", vl);
		rc = lvmd_run_simple(s, argv, WIPE_TIMEOUT_MS, what, err);
		if (rc)
			return rc;
	}
	return lvmd_lvremove(s, name, err);
}

int lvmd_disk_quarantine(st_driver *s, const char *name, char *err)
{
	char qname[LVMD_LV_LEN], what[LVMD_WHAT_LEN];
	lv_list l;
	bool present;
	int rc;

	rc = lvmd_check_disk_name(name, err);
	if (rc)
		return rc;
	if (!sfmt(qname, sizeof(qname), QUARANTINE "%s-%lld", name, (long long)now_unix()) ||
	    !st_lvm_valid_name(qname, NULL)) {
		errf(err, "quarantine name for %s is too long", name);
		return -ENAMETOOLONG;
	}
	rc = lvmd_list_vg(s, &l, err);
	if (rc)
		return rc;
	present = lvm_find_lv(&l, name) != NULL;
	lvm_list_free(&l);
	if (!present)
		return 0;
	{
		const char *argv[] = {"lvrename", s->vg, name, qname, NULL};
		snprintf(what, sizeof(what), "cannot quarantine LV %s/%s as %s", s->vg, name,
		         qname);
		return lvmd_run_simple(s, argv, LVM_TIMEOUT_MS, what, err);
	}
}

int lvmd_disk_size(st_driver *s, const char *name, uint64_t *bytes_out, char *err)
{
	const lv_row *row;
	lv_list l;
	int rc;

	rc = lvmd_check_disk_name(name, err);
	if (rc)
		return rc;
	if (dev_bytes(s, name, bytes_out) == 0)
		return 0; /* active: no lvs needed */
	rc = lvmd_list_vg(s, &l, err);
	if (rc)
		return rc;
	row = lvm_find_lv(&l, name);
	if (row)
		*bytes_out = row->size;
	lvm_list_free(&l);
	return row ? 0 : -ENOENT;
}

int lvmd_disk_path(st_driver *s, const char *name, char *out, size_t outlen)
{
	if (lvmd_check_disk_name(name, NULL))
		return -EINVAL;
	return lvmd_lv_path(s, name, out, outlen) ? 0 : -ENAMETOOLONG;
}

/* Thin volumes of our pool whose names start with prefix; templates never. */
int lvmd_list(st_driver *s, const char *prefix, char ***names_out, size_t *n_out, char *err)
{
	size_t plen = prefix ? strlen(prefix) : 0, n = 0;
	char **names;
	lv_list l;
	int rc;

	*names_out = NULL;
	*n_out = 0;
	rc = lvmd_list_vg(s, &l, err);
	if (rc)
		return rc;
	names = calloc(l.n + 1, sizeof(*names));
	if (!names) {
		lvm_list_free(&l);
		errf(err, "out of memory listing the disks of %s/%s", s->vg, s->thin_pool);
		return -ENOMEM;
	}
	for (size_t i = 0; i < l.n; i++) {
		const lv_row *r = &l.rows[i];
		if (!lvmd_in_our_pool(s, r) || strncmp(r->name, prefix ? prefix : "", plen) != 0 ||
		    strncmp(r->name, TPL_PREFIX, strlen(TPL_PREFIX)) == 0)
			continue;
		names[n] = strdup(r->name);
		if (!names[n]) {
			for (size_t k = 0; k < n; k++)
				free(names[k]);
			free(names);
			lvm_list_free(&l);
			errf(err, "out of memory listing the disks of %s/%s", s->vg, s->thin_pool);
			return -ENOMEM;
		}
		n++;
	}
	lvm_list_free(&l);
	*names_out = names;
	*n_out = n;
	return 0;
}
