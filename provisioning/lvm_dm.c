/* lvm_dm.c — device-mapper queries of active LVs without a command (lvm_dm.h). */
#include "lvm_dm.h"

#include <errno.h>
#include <libdevmapper.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "lvm_report.h"

#define DM_NAME_LEN 600

static bool dm_name(char *out, size_t len, const char *vg, const char *lv, const char *suffix)
{
	size_t pos = 0, sl = strlen(suffix);

	if (!lvm_dm_mangle(out, len, &pos, vg) || pos + 1 >= len)
		return false;
	out[pos++] = '-';
	out[pos] = '\0';
	if (!lvm_dm_mangle(out, len, &pos, lv) || pos + sl >= len)
		return false;
	memcpy(out + pos, suffix, sl + 1);
	return true;
}

bool lvm_dm_parse_thin_params(const char *params, unsigned *major, unsigned *minor)
{
	unsigned a, b;
	unsigned long long id;
	int n = 0;

	if (!params || sscanf(params, "%u:%u %llu%n", &a, &b, &id, &n) != 3 || n <= 0 ||
	    (params[n] != '\0' && params[n] != ' '))
		return false;
	*major = a;
	*minor = b;
	return true;
}

int lvm_dm_exists(const char *dmname)
{
	struct dm_task *dmt;
	struct dm_info info;

	/* Without the control node libdevmapper would try to create it (and log); the host
	 * kernel of the dev machines has no device-mapper at all. */
	if (access("/dev/mapper/control", F_OK) != 0)
		return -ENODEV;
	dmt = dm_task_create(DM_DEVICE_INFO);
	if (!dmt)
		return -ENOMEM;
	if (!dm_task_set_name(dmt, dmname) || !dm_task_run(dmt) || !dm_task_get_info(dmt, &info)) {
		dm_task_destroy(dmt);
		return -EIO;
	}
	dm_task_destroy(dmt);
	return info.exists ? 0 : -ENOENT;
}

/* DM_DEVICE_INFO then DM_DEVICE_TABLE of dm device name. */
static int dm_query(const char *name, lvm_dm_lv *out, unsigned *major, unsigned *minor)
{
	struct dm_task *dmt;
	struct dm_info info;
	uint64_t start = 0, length = 0;
	char *type = NULL, *params = NULL;
	void *next;
	int rc = 0;

	memset(out, 0, sizeof(*out));
	/* DM_DEVICE_INFO first: it answers "no such device" quietly, where DM_DEVICE_TABLE
	 * fails and libdevmapper logs the failure. */
	rc = lvm_dm_exists(name);
	if (rc)
		return rc;
	dmt = dm_task_create(DM_DEVICE_TABLE);
	if (!dmt)
		return -ENOMEM;
	if (!dm_task_set_name(dmt, name) || !dm_task_no_open_count(dmt) || !dm_task_run(dmt) ||
	    !dm_task_get_info(dmt, &info)) {
		dm_task_destroy(dmt);
		return -EIO;
	}
	if (!info.exists) { /* removed between the two calls */
		dm_task_destroy(dmt);
		return -ENOENT;
	}
	if (major) {
		*major = info.major;
		*minor = info.minor;
	}
	out->read_only = info.read_only != 0;
	next = dm_get_next_target(dmt, NULL, &start, &length, &type, &params);
	if (!type || start != 0)
		rc = -EIO;
	else if (next)
		rc = -E2BIG;
	else if (snprintf(out->target, sizeof(out->target), "%s", type) >= (int)sizeof(out->target))
		rc = -EIO;
	else {
		out->sectors = length;
		if (strcmp(type, "thin") == 0 &&
		    !lvm_dm_parse_thin_params(params, &out->pool_major, &out->pool_minor))
			rc = -EIO;
	}
	dm_task_destroy(dmt);
	return rc;
}

int lvm_dm_lv_info(const char *vg, const char *lv, lvm_dm_lv *out)
{
	char name[DM_NAME_LEN];

	if (!dm_name(name, sizeof(name), vg, lv, ""))
		return -ENAMETOOLONG;
	return dm_query(name, out, NULL, NULL);
}

int lvm_dm_pool_dev(const char *vg, const char *pool, unsigned *major, unsigned *minor)
{
	char name[DM_NAME_LEN];
	lvm_dm_lv d;
	int rc;

	if (!dm_name(name, sizeof(name), vg, pool, "-tpool"))
		return -ENAMETOOLONG;
	rc = dm_query(name, &d, major, minor);
	if (rc == -ENOENT) {
		if (!dm_name(name, sizeof(name), vg, pool, ""))
			return -ENAMETOOLONG;
		rc = dm_query(name, &d, major, minor);
		if (rc == 0 && strcmp(d.target, "thin-pool") != 0)
			rc = -ENOENT;
	}
	return rc;
}
