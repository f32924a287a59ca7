/* lvm_report.c — readers of the lvm storage driver (lvm_report.h). */
#include "lvm_report.h"
#include "lvm_dm.h"

#include <errno.h>
#include <json-c/json.h>
#include <libdevmapper.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "../common/util.h"

#define GIB            (1024ull * 1024ull * 1024ull)
#define errf(err, ...) errfmt(err, ST_ERRLEN, __VA_ARGS__)

static void copy_str(json_object *row, const char *key, char *out, size_t len)
{
	json_object *v;

	out[0] = '\0';
	if (json_object_object_get_ex(row, key, &v) && json_object_is_type(v, json_type_string))
		snprintf(out, len, "%s", json_object_get_string(v));
}

/* Parses `lvs --reportformat json --units b --nosuffix -o LVS_FIELDS` output
 * ({"report":[{"lv":[{...}, ...]}]}) into *l. Returns 0 or -EINVAL (shape) / -ENOMEM. */
int lvm_parse_lvs(const char *out, lv_list *l)
{
	json_object *root, *rep, *first, *lvs;
	int rc = -EINVAL;
	size_t n;

	l->rows = NULL;
	l->n = 0;
	root = json_tokener_parse(out ? out : "");
	if (!root)
		return -EINVAL;
	if (!json_object_object_get_ex(root, "report", &rep) ||
	    !json_object_is_type(rep, json_type_array) || json_object_array_length(rep) < 1)
		goto out;
	first = json_object_array_get_idx(rep, 0);
	if (!json_object_object_get_ex(first, "lv", &lvs) ||
	    !json_object_is_type(lvs, json_type_array))
		goto out;
	n = json_object_array_length(lvs);
	if (n) {
		l->rows = calloc(n, sizeof(*l->rows));
		if (!l->rows) {
			rc = -ENOMEM;
			goto out;
		}
	}
	for (size_t i = 0; i < n; i++) {
		json_object *row = json_object_array_get_idx(lvs, i);
		lv_row *r = &l->rows[l->n];
		char size[32];
		char *end;

		if (!json_object_is_type(row, json_type_object))
			continue;
		copy_str(row, "lv_name", r->name, sizeof(r->name));
		copy_str(row, "lv_attr", r->attr, sizeof(r->attr));
		copy_str(row, "pool_lv", r->pool, sizeof(r->pool));
		copy_str(row, "segtype", r->segtype, sizeof(r->segtype));
		copy_str(row, "data_percent", r->data_pct, sizeof(r->data_pct));
		copy_str(row, "metadata_percent", r->meta_pct, sizeof(r->meta_pct));
		copy_str(row, "discards", r->discards, sizeof(r->discards));
		copy_str(row, "lv_size", size, sizeof(size));
		if (!r->name[0])
			continue;
		errno = 0;
		r->size = strtoull(size, &end, 10);
		if (errno || end == size || *end)
			r->size = 0;
		l->n++;
	}
	rc = 0;
out:
	json_object_put(root);
	if (rc) {
		free(l->rows);
		l->rows = NULL;
		l->n = 0;
	}
	return rc;
}

void lvm_list_free(lv_list *l)
{
	free(l->rows);
	l->rows = NULL;
	l->n = 0;
}

const lv_row *lvm_find_lv(const lv_list *l, const char *name)
{
	for (size_t i = 0; i < l->n; i++)
		if (strcmp(l->rows[i].name, name) == 0)
			return &l->rows[i];
	return NULL;
}

/* All (visible) LVs of the VG: `lvs --reportformat json --units b --nosuffix -o LVS_FIELDS VG`.
 * A missing VG is an error naming it. */
bool lvm_is_active(const lv_row *r)
{
	return strlen(r->attr) > 4 && r->attr[4] == 'a';
}

bool lvm_is_read_only(const lv_row *r)
{
	return strlen(r->attr) > 1 && r->attr[1] == 'r';
}

int st_lvm_parse_tpool_status(const char *params, uint64_t length_sectors, st_pool_usage *u)
{
	char buf[512], *save = NULL, *tok;
	unsigned long long tid, mu, mt, du, dt;
	int used = 0;

	memset(u, 0, sizeof(*u));
	if (!params)
		return -EINVAL;
	while (*params == ' ')
		params++;
	if (strncmp(params, "Fail", 4) == 0 || strncmp(params, "Error", 5) == 0) {
		u->failed = true;
		return -EIO;
	}
	if (!sfmt(buf, sizeof(buf), "%s", params))
		return -EINVAL;
	if (sscanf(buf, "%llu %llu/%llu %llu/%llu %n", &tid, &mu, &mt, &du, &dt, &used) != 5 ||
	    used == 0)
		goto bad;
	/* sscanf's %llu takes "-1" and spaces; be strict about the numbers' shape. */
	for (const char *p = buf; p < buf + used; p++)
		if (!((*p >= '0' && *p <= '9') || *p == '/' || *p == ' '))
			goto bad;
	if (mt == 0 || dt == 0 || mu > mt || du > dt || length_sectors == 0)
		goto bad;
	tok = strtok_r(buf + used, " \t\n", &save); /* held metadata root: "-" or a number */
	if (!tok || (strcmp(tok, "-") != 0 && strspn(tok, "0123456789") != strlen(tok)))
		goto bad;
	tok = strtok_r(NULL, " \t\n", &save); /* mode */
	if (!tok)
		goto bad;
	if (strcmp(tok, "out_of_data_space") == 0)
		u->out_of_data_space = true;
	else if (strcmp(tok, "ro") == 0)
		u->read_only = true;
	else if (strcmp(tok, "rw") != 0)
		goto bad;
	while ((tok = strtok_r(NULL, " \t\n", &save)) != NULL)
		if (strcmp(tok, "needs_check") == 0)
			u->needs_check = true;
	u->data_total_bytes = length_sectors * 512u;
	u->data_used_bytes =
	        (uint64_t)(((unsigned __int128)du * u->data_total_bytes + dt - 1) / dt);
	u->meta_used = mu;
	u->meta_total = mt;
	return 0;
bad:
	memset(u, 0, sizeof(*u));
	return -EINVAL;
}

/* Appends name to out with device-mapper's mangling: every '-' doubled. */
bool lvm_dm_mangle(char *out, size_t len, size_t *pos, const char *name)
{
	for (const char *p = name; *p; p++) {
		size_t need = *p == '-' ? 2 : 1;
		if (*pos + need >= len)
			return false;
		out[(*pos)++] = *p;
		if (*p == '-')
			out[(*pos)++] = '-';
	}
	out[*pos] = '\0';
	return true;
}

/* Status of the thin-pool target of dm device dmname through libdevmapper. Returns 0, -ENODEV
 * when device-mapper is not there, -ENOENT when the device is not, -EINVAL/-EIO otherwise. */
int lvm_dm_tpool_status(const char *dmname, st_pool_usage *u)
{
	struct dm_task *dmt;
	uint64_t start = 0, length = 0;
	char *type = NULL, *params = NULL;
	int rc;

	rc = lvm_dm_exists(dmname);
	if (rc)
		return rc;
	dmt = dm_task_create(DM_DEVICE_STATUS);
	if (!dmt)
		return -ENOMEM;
	if (!dm_task_set_name(dmt, dmname) || !dm_task_no_open_count(dmt) || !dm_task_run(dmt)) {
		dm_task_destroy(dmt);
		return -EIO;
	}
	dm_get_next_target(dmt, NULL, &start, &length, &type, &params);
	if (!type || strcmp(type, "thin-pool") != 0)
		rc = -EINVAL;
	else
		rc = st_lvm_parse_tpool_status(params, length, u);
	dm_task_destroy(dmt);
	return rc;
}

/* Parses "12.34" (lvs data_percent/metadata_percent) into hundredths of a percent. */
bool lvm_parse_pct(const char *s, uint64_t *out)
{
	char *end;
	double v;

	if (!s || !*s)
		return false;
	errno = 0;
	v = strtod(s, &end);
	if (errno || end == s || *end || v < 0 || v > 100)
		return false;
	*out = (uint64_t)(v * 100.0 + 0.5);
	return true;
}

/* Usage of the pool: libdevmapper's status of "<vg>-<pool>-tpool" (or "<vg>-<pool>" when LVM
 * activated the pool without its -tpool layer), else the pool's row of the lvs report. */

/* ---- pool usage and the refusal rule ---- */

/* The pool's usage: device-mapper status of "<vg>-<pool>-tpool" (or "<vg>-<pool>" when the
 * pool has no separate -tpool layer), else the lvs row's data/metadata percentages. */
static int pool_usage(const char *vg, const char *thin_pool, const lv_row *pool, st_pool_usage *u,
                      char *err)
{
	char dmname[600];
	uint64_t dpct, mpct;
	size_t pos = 0;
	int rc = -ENODEV;

	if (lvm_dm_mangle(dmname, sizeof(dmname), &pos, vg) && pos + 1 < sizeof(dmname)) {
		dmname[pos++] = '-';
		dmname[pos] = '\0';
		if (lvm_dm_mangle(dmname, sizeof(dmname), &pos, thin_pool) &&
		    pos + 7 < sizeof(dmname)) {
			size_t base = pos;
			memcpy(dmname + pos, "-tpool", 7);
			rc = lvm_dm_tpool_status(dmname, u);
			if (rc == -ENOENT || rc == -EINVAL) {
				dmname[base] = '\0';
				rc = lvm_dm_tpool_status(dmname, u);
			}
		}
	}
	if (rc == 0 || rc == -EIO) {
		if (rc == -EIO && u->failed) {
			errf(err, "thin pool %s/%s has failed (device-mapper status Fail)", vg,
			     thin_pool);
			return -EIO;
		}
		if (rc == 0)
			return 0;
	}
	/* Fallback: lvs (data_percent is empty while the pool is inactive). */
	memset(u, 0, sizeof(*u));
	if (!pool) {
		errf(err, "thin pool %s/%s: device-mapper cannot tell its usage", vg, thin_pool);
		return -ENODEV;
	}
	if (!lvm_parse_pct(pool->data_pct, &dpct) || pool->size == 0) {
		errf(err, "thin pool %s/%s: usage unknown (lvs reports no data_percent; inactive?)",
		     vg, thin_pool);
		return -EIO;
	}
	u->data_total_bytes = pool->size;
	u->data_used_bytes = (uint64_t)(((unsigned __int128)pool->size * dpct + 9999) / 10000);
	if (lvm_parse_pct(pool->meta_pct, &mpct)) {
		u->meta_used = mpct;
		u->meta_total = 10000;
	}
	return 0;
}

int lvm_check_room(const char *vg, const char *thin_pool, const lv_row *pool, int h,
                   uint64_t need_bytes, const char *what, char *err)
{
	st_pool_usage u;
	int rc;
	uint64_t limit, avail;

	rc = pool_usage(vg, thin_pool, pool, &u, err);
	if (rc)
		return rc;
	if (u.out_of_data_space) {
		errf(err, "thin pool %s/%s is out of data space", vg, thin_pool);
		return -ENOSPC;
	}
	if (u.read_only || u.needs_check) {
		errf(err,
		     "thin pool %s/%s is read-only or needs a metadata check (lvconvert --repair)",
		     vg, thin_pool);
		return -EIO;
	}
	limit = (uint64_t)((unsigned __int128)u.data_total_bytes * (unsigned)(100 - h) / 100);
	avail = limit > u.data_used_bytes ? limit - u.data_used_bytes : 0;
	if (need_bytes > avail) {
		errf(err, "thin pool %s/%s: %.1f GiB free after %d %% headroom, %s needs %.1f GiB",
		     vg, thin_pool, (double)avail / (double)GIB, h, what,
		     (double)need_bytes / (double)GIB);
		return -ENOSPC;
	}
	if (u.meta_total && (unsigned __int128)u.meta_used * 100 >
	                            (unsigned __int128)u.meta_total * (unsigned)(100 - h)) {
		errf(err,
		     "thin pool %s/%s: metadata %.1f %% used, more than %d %% (%d %% headroom)", vg,
		     thin_pool, 100.0 * (double)u.meta_used / (double)u.meta_total, 100 - h, h);
		return -ENOSPC;
	}
	return 0;
}
