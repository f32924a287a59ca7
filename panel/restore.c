/* restore.c — `xvpsd --restore FILE` (backup.h backup_restore): checks the file first (a complete
 * SQLite database: its header's page count times page size is the file's size and PRAGMA
 * integrity_check says ok; an xvps schema no newer than this build), and only then copies it
 * beside the live database, fsyncs it, hard-links the live database to ".pre-restore" and renames
 * the copy over the live one: at every moment the path names the old or the new database. */
#include <errno.h>
#include <fcntl.h>
#include <sqlite3.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "../common/util.h"
#include "backup.h"

static int fail(char *err, size_t len, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static int fail(char *err, size_t len, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(err, len, fmt, ap);
	va_end(ap);
	return -1;
}

static unsigned be32(const unsigned char *p)
{
	return (unsigned)p[0] << 24 | (unsigned)p[1] << 16 | (unsigned)p[2] << 8 | p[3];
}

/* The header's own account of the file's size against the file (a truncated copy fails). */
static int check_header(const char *file, char *err, size_t len)
{
	unsigned char h[100];
	struct stat sb;
	unsigned page;
	int fd = open(file, O_RDONLY | O_CLOEXEC);
	ssize_t n;

	if (fd < 0)
		return fail(err, len, "cannot open %s: %s", file, strerror(errno));
	n = fstat(fd, &sb) == 0 && S_ISREG(sb.st_mode) ? read(fd, h, sizeof(h)) : -1;
	close(fd);
	if (n != (ssize_t)sizeof(h) || memcmp(h, "SQLite format 3", 16) != 0)
		return fail(err, len, "%s is not an SQLite database", file);
	page = (unsigned)h[16] << 8 | h[17];
	if (page == 1)
		page = 65536;
	if (page < 512 || (page & (page - 1)) != 0)
		return fail(err, len, "%s has a bad page size", file);
	if ((uint64_t)be32(h + 28) * page != (uint64_t)sb.st_size)
		return fail(
		        err, len,
		        "%s is truncated or damaged: its header counts %u pages of %u bytes, the "
		        "file has %lld bytes",
		        file, be32(h + 28), page, (long long)sb.st_size);
	return 0;
}

/* "file:<path>?immutable=1" with the path percent-encoded: SQLite then takes no lock and
 * writes no -wal or -shm file beside the file it checks (a copy of a WAL-mode database too). */
static bool immutable_uri(const char *file, char *out, size_t len)
{
	size_t n = 0;

	if (len < sizeof("file:?immutable=1"))
		return false;
	n = (size_t)snprintf(out, len, "file:");
	for (const unsigned char *p = (const unsigned char *)file; *p; p++) {
		bool plain = (*p >= 'A' && *p <= 'Z') || (*p >= 'a' && *p <= 'z') ||
		             (*p >= '0' && *p <= '9') || strchr("/._-~", *p);

		if (n + 4 >= len)
			return false;
		n += (size_t)snprintf(out + n, len - n, plain ? "%c" : "%%%02X", *p);
	}
	return sfmt(out + n, len - n, "?immutable=1");
}

/* integrity_check and user_version on a read-only, immutable connection. */
static int check_db(const char *file, int max_version, char *err, size_t len)
{
	sqlite3 *h = NULL;
	sqlite3_stmt *st = NULL;
	int r = -1, version = -1;
	char uri[2048];

	if (!immutable_uri(file, uri, sizeof(uri)))
		return fail(err, len, "the path %s is too long", file);
	if (sqlite3_open_v2(uri, &h, SQLITE_OPEN_READONLY | SQLITE_OPEN_URI, NULL) != SQLITE_OK) {
		fail(err, len, "cannot open %s: %s", file, sqlite3_errmsg(h));
		goto out;
	}
	if (sqlite3_prepare_v2(h, "PRAGMA integrity_check", -1, &st, NULL) != SQLITE_OK ||
	    sqlite3_step(st) != SQLITE_ROW ||
	    strcmp((const char *)sqlite3_column_text(st, 0), "ok") != 0) {
		fail(err, len, "%s fails PRAGMA integrity_check: %s", file,
		     st && sqlite3_column_text(st, 0) ? (const char *)sqlite3_column_text(st, 0)
		                                      : sqlite3_errmsg(h));
		goto out;
	}
	sqlite3_finalize(st);
	st = NULL;
	if (sqlite3_prepare_v2(h, "PRAGMA user_version", -1, &st, NULL) != SQLITE_OK ||
	    sqlite3_step(st) != SQLITE_ROW) {
		fail(err, len, "cannot read the schema version of %s: %s", file, sqlite3_errmsg(h));
		goto out;
	}
	version = sqlite3_column_int(st, 0);
	if (version < 1) {
		fail(err, len, "%s is not an xvps database (schema version %d)", file, version);
		goto out;
	}
	if (version > max_version) {
		fail(err, len,
		     "%s has schema version %d, newer than this xvpsd's %d: restore it with the "
		     "xvps "
		     "release that wrote it",
		     file, version, max_version);
		goto out;
	}
	r = 0;
out:
	sqlite3_finalize(st);
	sqlite3_close(h);
	return r;
}

/* Copies src to dst (created 0600, fsynced). */
static int copy_file(const char *src, const char *dst, char *err, size_t len)
{
	int in = open(src, O_RDONLY | O_CLOEXEC), out = -1, r = -1;
	char buf[65536];
	ssize_t n;

	if (in < 0)
		return fail(err, len, "cannot open %s: %s", src, strerror(errno));
	out = open(dst, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC | O_NOFOLLOW, 0600);
	if (out < 0) {
		fail(err, len, "cannot create %s: %s", dst, strerror(errno));
		goto done;
	}
	while ((n = read(in, buf, sizeof(buf))) > 0)
		if (write_full(out, buf, (size_t)n, false) != 0)
			break;
	if (n != 0 || fsync(out) != 0) {
		fail(err, len, "cannot copy %s to %s: %s", src, dst, strerror(errno));
		unlink(dst);
		goto done;
	}
	r = 0;
done:
	close(in);
	if (out >= 0)
		close(out);
	return r;
}

/* Folds a -wal left beside the live database into it (the last connection's close checkpoints
 * and removes it), so that ".pre-restore" is complete by itself. */
static int settle_live(const char *db_path, char *err, size_t len)
{
	sqlite3 *h = NULL;
	int r = 0;

	if (access(db_path, F_OK) != 0)
		return 0;
	if (sqlite3_open_v2(db_path, &h, SQLITE_OPEN_READWRITE, NULL) != SQLITE_OK ||
	    sqlite3_exec(h, "PRAGMA wal_checkpoint(TRUNCATE)", NULL, NULL, NULL) != SQLITE_OK)
		r = fail(err, len, "cannot checkpoint %s: %s", db_path, sqlite3_errmsg(h));
	sqlite3_close(h);
	return r;
}

int backup_restore(const char *file, const char *db_path, int max_version, char *err, size_t errlen)
{
	char tmp[700], pre[700], wal[700], shm[700], dir[700], *slash;

	if (!sfmt(tmp, sizeof(tmp), "%s.restore-tmp", db_path) ||
	    !sfmt(pre, sizeof(pre), "%s.pre-restore", db_path) ||
	    !sfmt(wal, sizeof(wal), "%s-wal", db_path) ||
	    !sfmt(shm, sizeof(shm), "%s-shm", db_path) || !sfmt(dir, sizeof(dir), "%s", db_path))
		return fail(err, errlen, "the database path is too long");
	slash = strrchr(dir, '/');
	if (slash)
		*(slash == dir ? slash + 1 : slash) = '\0';
	else
		snprintf(dir, sizeof(dir), ".");
	if (check_header(file, err, errlen) != 0 || check_db(file, max_version, err, errlen) != 0)
		return -1;
	/* Checked: from here on files are written. */
	if (settle_live(db_path, err, errlen) != 0)
		return -1;
	unlink(tmp);
	if (copy_file(file, tmp, err, errlen) != 0)
		return -1;
	/* The copy must still be what was checked (the file could change meanwhile). */
	if (check_header(tmp, err, errlen) != 0 || check_db(tmp, max_version, err, errlen) != 0) {
		unlink(tmp);
		return -1;
	}
	/* Run as root by mistake: the database stays the state directory owner's (xvpsd's user). */
	if (geteuid() == 0) {
		struct stat sb;

		if (stat(dir, &sb) != 0 || chown(tmp, sb.st_uid, sb.st_gid) != 0) {
			unlink(tmp);
			return fail(err, errlen, "cannot give %s to the owner of %s", tmp, dir);
		}
	}
	if (access(db_path, F_OK) == 0) {
		unlink(pre);
		if (link(db_path, pre) != 0) {
			unlink(tmp);
			return fail(err, errlen, "cannot keep %s as %s: %s", db_path, pre,
			            strerror(errno));
		}
	}
	unlink(wal);
	unlink(shm);
	if (rename(tmp, db_path) != 0) {
		unlink(tmp);
		return fail(err, errlen, "cannot rename %s to %s: %s", tmp, db_path,
		            strerror(errno));
	}
	{
		int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);

		if (fd >= 0) {
			fsync(fd);
			close(fd);
		}
	}
	return 0;
}
