/* backup.c — online backups of the database and their restore (backup.h). A backup is written to
 * "<name>.tmp" through sqlite3_backup_step(-1) (one read transaction on a connection of its own:
 * a consistent snapshot, WAL writers never wait), switched to the rollback journal, fsynced and
 * renamed to its final name; a reader never sees a half-written backup. */
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <sqlite3.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "../common/util.h"
#include "../common/validate.h"
#include "backup.h"
#include "ticker.h"

#define BACKUP_PREFIX   "xvps-"
#define BACKUP_SUFFIX   ".db"
#define BACKUP_TICK_MAX 300 /* the schedule's check period, seconds */

static backup_config g_cfg;
static pthread_mutex_t take_mu = PTHREAD_MUTEX_INITIALIZER; /* one backup at a time */

const backup_config *backup_cfg(void)
{
	return &g_cfg;
}

static int env_num(const char *name, long long min, long long max, long long def, int *out)
{
	const char *s = getenv(name);
	long long v = def;

	if (s && *s && !parse_int_range(s, min, max, &v)) {
		fprintf(stderr, "xvpsd: %s must be an integer from %lld to %lld\n", name, min, max);
		return -1;
	}
	*out = (int)v;
	return 0;
}

int backup_configure(const char *state_dir, const char *db_path)
{
	const char *dir = getenv("XVPS_BACKUP_DIR");
	int iv;

	memset(&g_cfg, 0, sizeof(g_cfg));
	if (!sfmt(g_cfg.db_path, sizeof(g_cfg.db_path), "%s", db_path) ||
	    !(dir && *dir ? sfmt(g_cfg.dir, sizeof(g_cfg.dir), "%s", dir)
	                  : sfmt(g_cfg.dir, sizeof(g_cfg.dir), "%s/backups", state_dir))) {
		fprintf(stderr, "xvpsd: XVPS_BACKUP_DIR is too long\n");
		return -1;
	}
	if (env_num("XVPS_BACKUP_INTERVAL", 0, 2592000, 86400, &iv) != 0 ||
	    env_num("XVPS_BACKUP_KEEP_DAYS", 1, 3650, 14, &g_cfg.keep_days) != 0)
		return -1;
	if (iv != 0 && iv < 60) {
		fprintf(stderr, "xvpsd: XVPS_BACKUP_INTERVAL must be 0 (off) or at least 60 s\n");
		return -1;
	}
	g_cfg.interval_s = iv;
	return 0;
}

bool backup_name_ok(const char *name)
{
	size_t n = name ? strlen(name) : 0;

	if (n < sizeof(BACKUP_PREFIX) + sizeof(BACKUP_SUFFIX) || n >= BACKUP_NAME_MAX ||
	    strncmp(name, BACKUP_PREFIX, strlen(BACKUP_PREFIX)) != 0 ||
	    strcmp(name + n - strlen(BACKUP_SUFFIX), BACKUP_SUFFIX) != 0)
		return false;
	for (size_t i = 0; i < n; i++)
		if (!((name[i] >= '0' && name[i] <= '9') || (name[i] >= 'A' && name[i] <= 'Z') ||
		      (name[i] >= 'a' && name[i] <= 'z') || name[i] == '-' || name[i] == '.'))
			return false;
	return !strstr(name, "..");
}

/* The UTC time in a backup's name ("xvps-20261207T102233Z[-N].db"), or -1. */
static int64_t name_time(const char *name)
{
	struct tm tm = {0};
	char z = 0;

	if (!backup_name_ok(name) ||
	    sscanf(name, BACKUP_PREFIX "%4d%2d%2dT%2d%2d%2d%c", &tm.tm_year, &tm.tm_mon,
	           &tm.tm_mday, &tm.tm_hour, &tm.tm_min, &tm.tm_sec, &z) != 7 ||
	    z != 'Z')
		return -1;
	tm.tm_year -= 1900;
	tm.tm_mon -= 1;
	return (int64_t)timegm(&tm);
}

static int fsync_path(const char *path, int flags)
{
	int fd = open(path, flags | O_CLOEXEC), r;

	if (fd < 0)
		return -errno;
	r = fsync(fd) == 0 ? 0 : -errno;
	close(fd);
	return r;
}

/* Copies the live database into tmp with the backup API. 0 or -1 (logged). */
static int copy_db(const char *tmp)
{
	sqlite3 *src = NULL, *dst = NULL;
	sqlite3_backup *b;
	int r = -1, rc;

	if (sqlite3_open_v2(g_cfg.db_path, &src, SQLITE_OPEN_READONLY, NULL) != SQLITE_OK ||
	    sqlite3_open_v2(tmp, &dst, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE, NULL) !=
	            SQLITE_OK) {
		log_error("backup: cannot open %s: %s", src ? tmp : g_cfg.db_path,
		          sqlite3_errmsg(dst ? dst : src));
		goto out;
	}
	sqlite3_busy_timeout(src, 5000);
	b = sqlite3_backup_init(dst, "main", src, "main");
	if (!b) {
		log_error("backup: %s", sqlite3_errmsg(dst));
		goto out;
	}
	/* -1: every page in one step, under one read transaction (a consistent snapshot). */
	do
		rc = sqlite3_backup_step(b, -1);
	while (rc == SQLITE_BUSY || rc == SQLITE_LOCKED);
	sqlite3_backup_finish(b);
	if (rc != SQLITE_DONE) {
		log_error("backup: copying %s: %s", g_cfg.db_path, sqlite3_errstr(rc));
		goto out;
	}
	/* A backup is one self-contained file: rollback journal, no -wal beside it. */
	if (sqlite3_exec(dst, "PRAGMA journal_mode=DELETE", NULL, NULL, NULL) != SQLITE_OK) {
		log_error("backup: %s: %s", tmp, sqlite3_errmsg(dst));
		goto out;
	}
	r = 0;
out:
	sqlite3_close(src);
	sqlite3_close(dst);
	return r;
}

int backup_take(char name_out[BACKUP_NAME_MAX])
{
	char name[BACKUP_NAME_MAX], path[1100], tmp[1100];
	time_t now = (time_t)now_unix();
	struct tm tm;
	int r = -1;

	pthread_mutex_lock(&take_mu);
	if (mkdir_p(g_cfg.dir, 0700) != 0) {
		log_error("backup: cannot create %s", g_cfg.dir);
		goto out;
	}
	gmtime_r(&now, &tm);
	for (int i = 1; i < 100; i++) {
		char stamp[32];

		strftime(stamp, sizeof(stamp), "%Y%m%dT%H%M%SZ", &tm);
		if (i == 1)
			sfmt(name, sizeof(name), BACKUP_PREFIX "%s" BACKUP_SUFFIX, stamp);
		else
			sfmt(name, sizeof(name), BACKUP_PREFIX "%s-%d" BACKUP_SUFFIX, stamp, i);
		sfmt(path, sizeof(path), "%s/%s", g_cfg.dir, name);
		if (access(path, F_OK) != 0)
			break;
		path[0] = '\0';
	}
	if (!path[0] || !sfmt(tmp, sizeof(tmp), "%s.tmp", path)) {
		log_error("backup: no free name in %s", g_cfg.dir);
		goto out;
	}
	unlink(tmp);
	if (copy_db(tmp) != 0 || fsync_path(tmp, O_RDONLY) != 0 || rename(tmp, path) != 0 ||
	    fsync_path(g_cfg.dir, O_RDONLY | O_DIRECTORY) != 0) {
		log_error("backup: cannot write %s", path);
		unlink(tmp);
		goto out;
	}
	log_info("backup: wrote %s", path);
	if (name_out)
		memcpy(name_out, name, sizeof(name));
	r = 0;
out:
	pthread_mutex_unlock(&take_mu);
	if (r == 0)
		backup_prune();
	return r;
}

/* Calls fn(name, arg) for every backup in the directory. 0, or -1 when it cannot be read. */
static int each_backup(void (*fn)(const char *name, void *arg), void *arg)
{
	DIR *d = opendir(g_cfg.dir);
	struct dirent *e;

	if (!d)
		return errno == ENOENT ? 0 : -1;
	while ((e = readdir(d)))
		if (name_time(e->d_name) >= 0)
			fn(e->d_name, arg);
	closedir(d);
	return 0;
}

static void prune_one(const char *name, void *arg)
{
	int *n = arg;
	int64_t cutoff = now_unix() - (int64_t)g_cfg.keep_days * 86400;
	char path[1100];

	if (name_time(name) >= cutoff || !sfmt(path, sizeof(path), "%s/%s", g_cfg.dir, name))
		return;
	if (unlink(path) == 0) {
		log_info("backup: pruned %s (older than %d days)", name, g_cfg.keep_days);
		(*n)++;
	} else {
		log_warn("backup: cannot delete %s: %s", path, strerror(errno));
	}
}

int backup_prune(void)
{
	int n = 0;

	pthread_mutex_lock(&take_mu);
	if (each_backup(prune_one, &n) != 0)
		n = -1;
	pthread_mutex_unlock(&take_mu);
	return n;
}

static void list_one(const char *name, void *arg)
{
	json_object *arr = arg, *o;
	char path[1100], when[32];
	struct stat sb;
	time_t t = (time_t)name_time(name);
	struct tm tm;

	if (!sfmt(path, sizeof(path), "%s/%s", g_cfg.dir, name) || stat(path, &sb) != 0)
		return;
	gmtime_r(&t, &tm);
	strftime(when, sizeof(when), "%Y-%m-%dT%H:%M:%SZ", &tm);
	o = json_object_new_object();
	json_object_object_add(o, "name", json_object_new_string(name));
	json_object_object_add(o, "size_bytes", json_object_new_int64((int64_t)sb.st_size));
	json_object_object_add(o, "created_at", json_object_new_string(when));
	json_object_array_add(arr, o);
}

/* Newest first: the names sort by time ("-N" after the plain name of the same second). */
static int newest_first(const void *a, const void *b)
{
	const char *x = json_object_get_string(
	                   json_object_object_get(*(json_object *const *)a, "name")),
	           *y = json_object_get_string(
	                   json_object_object_get(*(json_object *const *)b, "name"));
	size_t lx = strlen(x), ly = strlen(y);

	if (lx != ly)
		return lx < ly ? 1 : -1;
	return -strcmp(x, y);
}

json_object *backup_list(void)
{
	json_object *arr = json_object_new_array();

	if (each_backup(list_one, arr) != 0) {
		json_object_put(arr);
		return NULL;
	}
	json_object_array_sort(arr, newest_first);
	return arr;
}

/* ---- schedule ------------------------------------------------------------------------------- */

static void newest_one(const char *name, void *arg)
{
	int64_t *newest = arg, t = name_time(name);

	if (t > *newest)
		*newest = t;
}

static void backup_tick(void)
{
	int64_t newest = -1;

	if (each_backup(newest_one, &newest) != 0)
		return;
	if (newest >= 0 && now_unix() - newest < g_cfg.interval_s) {
		backup_prune();
		return;
	}
	backup_take(NULL);
}

static ticker backup_ticker = TICKER_INIT("backup", backup_tick);

int backup_start(void)
{
	if (g_cfg.interval_s == 0)
		return 0;
	return ticker_start(&backup_ticker, g_cfg.interval_s < BACKUP_TICK_MAX ? g_cfg.interval_s
	                                                                       : BACKUP_TICK_MAX);
}

void backup_stop(void)
{
	ticker_stop(&backup_ticker);
}
