/* storage_lvm.c — the `lvm` storage driver (docs/architecture.md §6): a volume group and a thin
 * pool named in the configuration. Templates are read-only thin LVs "xvpstpl-<tpl>" imported with
 * dd; a VPS disk is a thin snapshot of its template (`lvcreate -kn -s`, no -L), grown with lvextend
 * and never shrunk. Every command runs through the runner as an argv array; reports are `lvs
 * --reportformat json` read with json-c. Pool usage comes from libdevmapper (status of the "-tpool"
 * device), `lvs` when that cannot answer.
 *
 * What a customer can read: a thin LV reads zeros wherever it has not been written (the pool
 * maps nothing there), and the pool zeroes every newly provisioned block before a partial write
 * lands in it (zeroing is turned on at open), so a block freed by one disk never shows up in
 * another. On removal the disk is discarded first (blocks go back to the pool), zeroed when the
 * pool ignores discards, and only then removed. Nothing is left half-made: a template whose
 * import did not finish has no read-only flag and is removed; an LV whose creation failed
 * after lvcreate is removed again.
 *
 * This file: running commands, lvs reports, templates and opening the driver;
 * storage_lvm_disk.c: the disks (create from a template, grow, remove, quarantine, list). */
#include "storage.h"

#include <errno.h>
#include <json-c/json.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "../common/util.h"
#include "../common/validate.h"
#include "lvm_report.h"

#include "storage_lvm_internal.h"

bool st_lvm_valid_name(const char *name, const char **why_out)
{
	return valid_lvm_name(name, why_out);
}

/* Template source: a bare file name inside the import directory. */
static bool safe_source(const char *s)
{
	return valid_file_name(s, ST_NAME_MAX, NULL);
}

int lvmd_headroom(const st_driver *s)
{
	const lvm_priv *p = s->priv;
	return p ? p->headroom_pct : ST_LVM_HEADROOM_DEFAULT;
}

/* ---- running commands ---- */

/* Runs argv. Returns 0 when it exited 0; else err = "<what>: <first line> (<cmd>)" and
 * -ETIMEDOUT, -EIO, or the runner's -errno (-ENOENT: the program is not installed). res is
 * kept for the caller (dispose it in every case). what may be NULL (err untouched). */
int lvmd_run_cmd(st_driver *s, const char *const argv[], int timeout_ms, runner_result *res,
                 const char *what, char *err)
{
	char line[RUNNER_LINE_LEN];
	int rc = runner_run(&s->run, argv, NULL, 0, timeout_ms, res);

	if (rc == 0 && runner_ok(rc, res))
		return 0;
	if (rc < 0)
		snprintf(line, sizeof(line), "cannot run %s: %s", argv[0], strerror(-rc));
	else
		runner_failure_line(res, line, sizeof(line));
	if (what) {
		char *cmd = runner_argv_str(argv);
		errf(err, "%s: %s (%s)", what, line, cmd ? cmd : argv[0]);
		free(cmd);
	}
	if (rc < 0)
		return rc;
	return res->timed_out ? -ETIMEDOUT : -EIO;
}

/* lvmd_run_cmd without output. */
int lvmd_run_simple(st_driver *s, const char *const argv[], int timeout_ms, const char *what,
                    char *err)
{
	runner_result res;
	int rc;

	runner_result_init(&res);
	rc = lvmd_run_cmd(s, argv, timeout_ms, &res, what, err);
	runner_result_dispose(&res);
	return rc;
}

/* ---- lvs reports ---- */

int lvmd_list_vg(st_driver *s, lv_list *l, char *err)
{
	const char *argv[] = {"lvs", "--reportformat", "json", "--units", "b", "--nosuffix",
	                      "-o",  LVS_FIELDS,       s->vg,  NULL};
	runner_result res;
	char line[RUNNER_LINE_LEN];
	int rc;

	l->rows = NULL;
	l->n = 0;
	runner_result_init(&res);
	rc = lvmd_run_cmd(s, argv, LVM_TIMEOUT_MS, &res, NULL, NULL);
	if (rc) {
		if (rc == -ENOENT)
			snprintf(line, sizeof(line), "lvs is not installed (package lvm2)");
		else
			runner_failure_line(&res, line, sizeof(line));
		if (strstr(line, "not found"))
			errf(err, "listing LVs failed: volume group %s not found (lvs: %s)", s->vg,
			     line);
		else
			errf(err, "listing LVs failed: volume group %s: %s", s->vg, line);
		runner_result_dispose(&res);
		return rc;
	}
	rc = lvm_parse_lvs(res.out, l);
	if (rc)
		errf(err, "listing LVs failed: cannot read the lvs report of volume group %s",
		     s->vg);
	runner_result_dispose(&res);
	return rc;
}

bool lvmd_in_our_pool(const st_driver *s, const lv_row *r)
{
	return strcmp(r->segtype, "thin") == 0 && strcmp(r->pool, s->thin_pool) == 0;
}

/* ---- pool usage ---- */

/* The refusal rule of lvm_check_room (lvm_report.h) for this driver's pool and headroom. */
int lvmd_check_room(st_driver *s, const lv_row *pool, uint64_t need_bytes, const char *what,
                    char *err)
{
	return lvm_check_room(s->vg, s->thin_pool, pool, lvmd_headroom(s), need_bytes, what, err);
}

/* Lists the VG and finds the pool in it (an error when it is gone). */
int lvmd_list_with_pool(st_driver *s, lv_list *l, const lv_row **pool, char *err)
{
	int rc = lvmd_list_vg(s, l, err);

	if (rc)
		return rc;
	*pool = lvm_find_lv(l, s->thin_pool);
	if (!*pool || strcmp((*pool)->segtype, "thin-pool") != 0) {
		errf(err, "thin pool %s/%s is missing", s->vg, s->thin_pool);
		lvm_list_free(l);
		return -ENOENT;
	}
	return 0;
}

/* ---- names ---- */

bool lvmd_lv_path(const st_driver *s, const char *lv, char *out, size_t len)
{
	return sfmt(out, len, "/dev/%s/%s", s->vg, lv);
}

bool lvmd_vg_lv(const st_driver *s, const char *lv, char *out, size_t len)
{
	return sfmt(out, len, "%s/%s", s->vg, lv);
}

int lvmd_tpl_lv(const char *tpl, char *out, size_t len, char *err)
{
	if (!tpl || !sfmt(out, len, TPL_PREFIX "%s", tpl) || !st_lvm_valid_name(out, NULL)) {
		errf(err, "invalid template name");
		return -EINVAL;
	}
	return 0;
}

int lvmd_check_disk_name(const char *name, char *err)
{
	const char *why = NULL;

	if (!name || !st_lvm_valid_name(name, &why) ||
	    strncmp(name, TPL_PREFIX, strlen(TPL_PREFIX)) == 0) {
		errf(err, "invalid disk name: %s", why ? why : "reserved for templates");
		return -EINVAL;
	}
	return 0;
}

int lvmd_name_too_long(const st_driver *s, const char *lv, char *err)
{
	errf(err, "LV name %s/%s is too long", s->vg, lv);
	return -ENAMETOOLONG;
}

int lvmd_lvremove(st_driver *s, const char *lv, char *err)
{
	char vl[LVMD_VL_LEN], what[LVMD_WHAT_LEN];
	const char *argv[] = {"lvremove", "-y", vl, NULL};

	if (!lvmd_vg_lv(s, lv, vl, sizeof(vl)))
		return lvmd_name_too_long(s, lv, err);
	snprintf(what, sizeof(what), "cannot remove LV %s", vl);
	return lvmd_run_simple(s, argv, LVM_TIMEOUT_MS, what, err);
}

int lvmd_lvactivate(st_driver *s, const char *lv, char *err)
{
	char vl[LVMD_VL_LEN], what[LVMD_WHAT_LEN];
	const char *argv[] = {"lvchange", "-ay", "-K", vl, NULL};

	if (!lvmd_vg_lv(s, lv, vl, sizeof(vl)))
		return lvmd_name_too_long(s, lv, err);
	snprintf(what, sizeof(what), "cannot activate LV %s", vl);
	return lvmd_run_simple(s, argv, LVM_TIMEOUT_MS, what, err);
}

/* ---- templates ---- */

static int lvm_template_ensure(st_driver *s, const char *tpl, uint64_t size_gib, const char *source,
                               uint64_t *size_bytes_out, char *err)
{
	char lv[LVMD_LV_LEN], vl[LVMD_VL_LEN], dev[LVMD_VL_LEN], src[LVMD_SRC_LEN],
	        ifarg[sizeof("if=") + LVMD_SRC_LEN], ofarg[sizeof("of=") + LVMD_VL_LEN], vsize[32],
	        what[LVMD_WHAT_LEN];
	const lv_row *pool, *row;
	lv_list l;
	struct stat st;
	uint64_t bytes;
	int rc;

	(void)size_gib;
	rc = lvmd_tpl_lv(tpl, lv, sizeof(lv), err);
	if (rc)
		return rc;
	if (source && !safe_source(source)) {
		errf(err, "invalid template source (a file name in the import directory)");
		return -EINVAL;
	}
	if (!lvmd_vg_lv(s, lv, vl, sizeof(vl)) || !lvmd_lv_path(s, lv, dev, sizeof(dev)))
		return lvmd_name_too_long(s, lv, err);
	rc = lvmd_list_with_pool(s, &l, &pool, err);
	if (rc)
		return rc;
	row = lvm_find_lv(&l, lv);
	if (row && lvm_is_read_only(row)) { /* idempotent: an imported template is kept as it is */
		if (size_bytes_out)
			*size_bytes_out = row->size;
		lvm_list_free(&l);
		return 0;
	}
	if (!source) {
		errf(err, "lvm templates are imported from an image: a source is required");
		rc = -EINVAL;
		goto out;
	}
	if (!sfmt(src, sizeof(src), "%s/%s", s->template_dir, source)) {
		errf(err, "template source path %s/%s is too long", s->template_dir, source);
		rc = -ENAMETOOLONG;
		goto out;
	}
	if (stat(src, &st) != 0) {
		rc = -errno;
		errf(err, "template source %s: %s", source, strerror(-rc));
		goto out;
	}
	if (!S_ISREG(st.st_mode) || st.st_size <= 0) {
		errf(err, "template source %s is not a non-empty regular file", source);
		rc = -EINVAL;
		goto out;
	}
	/* Rounded up to 4 MiB, LVM's default extent (lvcreate rounds up to the VG's own). */
	bytes = ((uint64_t)st.st_size + 4 * MIB - 1) / (4 * MIB) * (4 * MIB);
	if (row) {
		/* Writable: an import that did not finish (killed before lvchange -pr). */
		log_warn("template LV %s was not finished; importing it again", vl);
		rc = lvmd_lvremove(s, lv, err);
		if (rc)
			goto out;
	}
	snprintf(what, sizeof(what), "template %s", tpl);
	rc = lvmd_check_room(s, pool, bytes, what, err);
	if (rc)
		goto out;
	lvm_list_free(&l);

	/* Create, copy, seal; anything failing after lvcreate removes the LV again. */
	{
		char tp[LVMD_VL_LEN], cwhat[LVMD_WHAT_LEN];
		const char *argv[] = {"lvcreate", "-V", vsize, "-T", tp, "-n", lv, NULL};

		snprintf(vsize, sizeof(vsize), "%llum", (unsigned long long)(bytes / MIB));
		if (!lvmd_vg_lv(s, s->thin_pool, tp, sizeof(tp)))
			return lvmd_name_too_long(s, s->thin_pool, err);
		snprintf(cwhat, sizeof(cwhat), "cannot create template LV %s", vl);
		rc = lvmd_run_simple(s, argv, LVM_TIMEOUT_MS, cwhat, err);
		if (rc)
			return rc;
	}
	{
		const char *argv[] = {
		        "dd",           ifarg,         ofarg, "bs=4M", "conv=sparse,fsync",
		        "oflag=direct", "status=none", NULL};
		snprintf(ifarg, sizeof(ifarg), "if=%s", src);
		snprintf(ofarg, sizeof(ofarg), "of=%s", dev);
		snprintf(what, sizeof(what), "cannot copy %s into template LV %s", source, vl);
		rc = lvmd_run_simple(s, argv, COPY_TIMEOUT_MS, what, err);
	}
	if (!rc) {
		const char *argv[] = {"lvchange", "-pr", vl, NULL};
		snprintf(what, sizeof(what), "cannot make template LV %s read-only", vl);
		rc = lvmd_run_simple(s, argv, LVM_TIMEOUT_MS, what, err);
	}
	if (rc) {
		char rerr[ST_ERRLEN];
		if (lvmd_lvremove(s, lv, rerr) != 0)
			log_error("template %s: rollback failed: %s", tpl, rerr);
		return rc;
	}
	if (size_bytes_out)
		*size_bytes_out = bytes;
	return 0;
out:
	lvm_list_free(&l);
	return rc;
}

static int lvm_template_remove(st_driver *s, const char *tpl, char *err)
{
	char lv[LVMD_LV_LEN];
	lv_list l;
	bool present;
	int rc;

	rc = lvmd_tpl_lv(tpl, lv, sizeof(lv), err);
	if (rc)
		return rc;
	rc = lvmd_list_vg(s, &l, err);
	if (rc)
		return rc;
	present = lvm_find_lv(&l, lv) != NULL;
	lvm_list_free(&l);
	return present ? lvmd_lvremove(s, lv, err) : 0;
}

/* 1 when the template LV exists and its import finished (read-only), 0 when not, -1 when
 * the listing failed (err says why). */
static int lvm_template_exists(st_driver *s, const char *tpl, char *err)
{
	char lv[LVMD_LV_LEN];
	const lv_row *r;
	lv_list l;
	bool ok;

	if (lvmd_tpl_lv(tpl, lv, sizeof(lv), NULL))
		return 0;
	if (lvmd_list_vg(s, &l, err))
		return -1;
	r = lvm_find_lv(&l, lv);
	ok = r && lvm_is_read_only(r) && lvmd_in_our_pool(s, r);
	lvm_list_free(&l);
	return ok ? 1 : 0;
}

static void lvm_dispose(st_driver *s)
{
	free(s->priv);
	s->priv = NULL;
}

static const st_ops lvm_ops = {
        .name = "lvm",
        .template_ensure = lvm_template_ensure,
        .template_remove = lvm_template_remove,
        .template_exists = lvm_template_exists,
        .disk_ensure = lvmd_disk_ensure,
        .disk_remove = lvmd_disk_remove,
        .disk_quarantine = lvmd_disk_quarantine,
        .disk_size = lvmd_disk_size,
        .disk_path = lvmd_disk_path,
        .list = lvmd_list,
        .dispose = lvm_dispose,
};

int st_lvm_set_headroom(st_driver *s, int pct)
{
	lvm_priv *p;

	if (!s || s->ops != &lvm_ops || !s->priv || pct < 0 || pct > ST_LVM_HEADROOM_MAX)
		return -EINVAL;
	p = s->priv;
	p->headroom_pct = pct;
	return 0;
}

int st_lvm_open(st_driver *s, runner run, const char *vg, const char *thin_pool,
                const char *template_dir, char *err)
{
	const char *why = NULL;
	const lv_row *pool;
	lvm_priv *p;
	lv_list l;
	char vl[LVMD_VL_LEN], what[LVMD_WHAT_LEN];
	int rc;

	memset(s, 0, sizeof(*s));
	if (!vg || !st_lvm_valid_name(vg, &why)) {
		errf(err, "volume group name: %s", why ? why : "missing");
		return -EINVAL;
	}
	if (!thin_pool || !st_lvm_valid_name(thin_pool, &why)) {
		errf(err, "thin pool name: %s", why ? why : "missing");
		return -EINVAL;
	}
	if (!sfmt(s->vg, sizeof(s->vg), "%s", vg) ||
	    !sfmt(s->thin_pool, sizeof(s->thin_pool), "%s", thin_pool) ||
	    !sfmt(s->template_dir, sizeof(s->template_dir), "%s",
	          template_dir ? template_dir : "") ||
	    !lvmd_vg_lv(s, thin_pool, vl, sizeof(vl))) {
		errf(err, "template dir must be at most 255 bytes");
		return -EINVAL;
	}
	s->run = run;
	rc = lvmd_list_vg(s, &l, err);
	if (rc)
		return rc;
	pool = lvm_find_lv(&l, thin_pool);
	if (!pool) {
		errf(err, "thin pool %s not found in volume group %s", vl, vg);
		lvm_list_free(&l);
		return -ENOENT;
	}
	if (strcmp(pool->segtype, "thin-pool") != 0) {
		errf(err, "LV %s is not a thin pool (segtype %s)", vl, pool->segtype);
		lvm_list_free(&l);
		return -EINVAL;
	}
	if (strcmp(pool->discards, "ignore") == 0)
		log_warn(
		        "thin pool %s ignores discards: removed disks are zeroed by writing, which "
		        "provisions their blocks first",
		        vl);
	/* New thin LVs must read zeros: zero newly provisioned blocks (lv_attr[7] 'z'). */
	if (strlen(pool->attr) < 8 || pool->attr[7] != 'z') {
		const char *argv[] = {"lvchange", "--zero", "y", vl, NULL};
		snprintf(what, sizeof(what), "cannot turn on zeroing of thin pool %s", vl);
		rc = lvmd_run_simple(s, argv, LVM_TIMEOUT_MS, what, err);
		if (rc) {
			lvm_list_free(&l);
			return rc;
		}
		log_info("thin pool %s: zeroing of new blocks turned on", vl);
	}
	if (!lvm_is_active(pool)) {
		const char *argv[] = {"lvchange", "-ay", vl, NULL};
		snprintf(what, sizeof(what), "cannot activate thin pool %s", vl);
		rc = lvmd_run_simple(s, argv, LVM_TIMEOUT_MS, what, err);
		if (rc) {
			lvm_list_free(&l);
			return rc;
		}
	}
	lvm_list_free(&l);
	p = calloc(1, sizeof(*p));
	if (!p) {
		errf(err, "out of memory");
		return -ENOMEM;
	}
	p->headroom_pct = ST_LVM_HEADROOM_DEFAULT;
	s->priv = p;
	s->ops = &lvm_ops;
	return 0;
}
