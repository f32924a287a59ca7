/* backup.h — online backups of xvpsd's SQLite database (issue 15 item 5): a consistent copy taken
 * with SQLite's backup API from a connection of its own (one read transaction, so WAL writers go
 * on), on a schedule (a ticker) and on demand (POST /api/v1/backups), named with the UTC time
 * ("xvps-20261207T102233Z.db") in XVPS_BACKUP_DIR and pruned after XVPS_BACKUP_KEEP_DAYS; and the
 * restore that `xvpsd --restore FILE` runs with xvpsd stopped.
 * Return convention: 0 on success, -1 on error (logged, or written to err for the restore). */
#ifndef XVPS_PANEL_BACKUP_H
#define XVPS_PANEL_BACKUP_H

#include <json-c/json.h>
#include <stddef.h>
#include <stdint.h>

#define BACKUP_NAME_MAX 48 /* "xvps-20261207T102233Z-99.db" */

typedef struct backup_config {
	char dir[512];     /* XVPS_BACKUP_DIR, default $XVPS_STATE/backups */
	int interval_s;    /* XVPS_BACKUP_INTERVAL, 0 (off) or 60..2592000 s, default 86400 */
	int keep_days;     /* XVPS_BACKUP_KEEP_DAYS, 1..3650, default 14 */
	char db_path[600]; /* the live database */
} backup_config;

/* Reads XVPS_BACKUP_* (state_dir and db_path from xvpsd's configuration). 0, or -1 with the
 * reason on stderr. */
int backup_configure(const char *state_dir, const char *db_path);
const backup_config *backup_cfg(void);

/* Takes one backup into the backup directory, then prunes. The new file's name in name_out. */
int backup_take(char name_out[BACKUP_NAME_MAX]);
/* Deletes the backups whose name's time is more than keep_days days before now_unix(). Returns
 * how many it deleted, or -1. */
int backup_prune(void);
/* The backups, newest first: [{name, size_bytes, created_at}] (a new array; NULL on error). */
json_object *backup_list(void);
/* True when name is a backup file name this module makes (no path, no "..", ends in ".db"). */
bool backup_name_ok(const char *name);

/* The scheduled backups (a ticker checking every min(interval, 300) s whether the newest backup
 * is older than the interval). Nothing when the interval is 0. */
int backup_start(void);
void backup_stop(void);

/* Swaps file in as db_path (xvpsd stopped: the caller holds its lock) after checking it is a
 * complete SQLite database (header size, PRAGMA integrity_check) whose user_version is 1..
 * max_version; keeps the current database as db_path".pre-restore". Nothing is written when a
 * check fails. 0, or -1 with a sentence in err. */
int backup_restore(const char *file, const char *db_path, int max_version, char *err,
                   size_t errlen);

#endif
