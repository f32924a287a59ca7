/* api_backups.c — the database's backups (backup.h), admins only: POST /backups takes one now,
 * GET /backups lists them newest first, GET /backups/{name} downloads one (what
 * `xvpsctl backup --out FILE` saves). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../common/util.h"
#include "api.h"
#include "audit.h"
#include "backup.h"

#define BACKUP_DOWNLOAD_MAX ((size_t)1 << 32) /* 4 GiB: a panel's database is far smaller */

/* The listing's entry of name (a fresh object), or NULL when it is gone. */
static json_object *entry_of(const char *name)
{
	json_object *arr = backup_list(), *found = NULL;

	for (size_t i = 0; arr && i < json_object_array_length(arr); i++) {
		json_object *o = json_object_array_get_idx(arr, i);

		if (strcmp(json_object_get_string(json_object_object_get(o, "name")), name) == 0) {
			found = json_object_get(o);
			break;
		}
	}
	json_object_put(arr);
	return found;
}

void api_backups_create(http_req *rq)
{
	char name[BACKUP_NAME_MAX];
	json_object *o;

	if (backup_take(name) != 0) {
		reply_problem(rq, 500, NULL, "the backup could not be written (see xvpsd's log)",
		              NULL);
		return;
	}
	audit(rq, "backup.create", name, NULL);
	o = entry_of(name);
	if (!o) {
		reply_problem(rq, 500, NULL, "the new backup disappeared", NULL);
		return;
	}
	reply_json(rq, 201, o);
}

void api_backups_list(http_req *rq)
{
	json_object *arr = backup_list();

	if (!arr) {
		reply_problem(rq, 500, NULL, "the backup directory cannot be read", NULL);
		return;
	}
	api_total_header(rq, (int64_t)json_object_array_length(arr));
	reply_json(rq, 200, arr);
}

void api_backups_get(http_req *rq)
{
	char path[1100], *data = NULL;
	size_t len = 0;

	if (!backup_name_ok(rq->params[0]) ||
	    !sfmt(path, sizeof(path), "%s/%s", backup_cfg()->dir, rq->params[0])) {
		reply_not_found(rq, "backup");
		return;
	}
	if (read_file(path, BACKUP_DOWNLOAD_MAX, &data, &len) != 0) {
		reply_not_found(rq, "backup");
		return;
	}
	reply_raw(rq, 200, "application/vnd.sqlite3", data, len);
}
