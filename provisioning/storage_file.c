/* storage_file.c — the `file` storage driver (dev/test, docs/architecture.md §6): sparse raw
 * images, templates in $XVPS_STATE/templates/<tpl>.img, disks in $XVPS_STATE/disks/<name>.img. It
 * never writes outside those two directories, never leaves a partial image under its real name, and
 * never deletes a disk the reconciler asked to quarantine. */
#include "storage.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/fs.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <unistd.h>

#include "../common/util.h"
#include "../common/validate.h"

#define GIB (1024ull * 1024ull * 1024ull)

/* Names that become file names here: [A-Za-z0-9._-]{1,ST_NAME_MAX}, not starting with '.', so
 * no path separators, no hidden or temp names, no "." / "..". */
static bool safe_name(const char *s)
{
	return valid_file_name(s, ST_NAME_MAX, NULL);
}

#define errf(err, ...) errfmt(err, ST_ERRLEN, __VA_ARGS__)

static bool img_path(st_driver *s, const char *sub, const char *name, char *out, size_t len)
{
	return sfmt(out, len, "%s/%s/%s.img", s->dir, sub, name);
}

/* Copies src_fd into dst_fd (both at offset 0, dst empty) keeping holes: FICLONE when the
 * file system shares extents (btrfs, xfs), else only the data ranges (SEEK_DATA/SEEK_HOLE).
 * dst ends with the size of src. Returns 0 or -errno. */
static int sparse_copy(int src_fd, int dst_fd)
{
	struct stat st;
	off_t pos = 0;
	char *buf;
	int rc = 0;

	if (ioctl(dst_fd, FICLONE, src_fd) == 0)
		return 0;
	if (fstat(src_fd, &st) != 0)
		return -errno;
	buf = malloc(1 << 20);
	if (!buf)
		return -ENOMEM;
	while (pos < st.st_size) {
		off_t data = lseek(src_fd, pos, SEEK_DATA);
		off_t hole;

		if (data < 0) {
			if (errno == ENXIO) /* only a hole remains */
				break;
			rc = -errno;
			goto out;
		}
		hole = lseek(src_fd, data, SEEK_HOLE);
		if (hole < 0) {
			rc = -errno;
			goto out;
		}
		for (off_t off = data; off < hole;) {
			size_t want = (size_t)(hole - off) < (1u << 20) ? (size_t)(hole - off)
			                                                : (1u << 20);
			ssize_t r = pread(src_fd, buf, want, off);
			if (r < 0) {
				if (errno == EINTR)
					continue;
				rc = -errno;
				goto out;
			}
			if (r == 0)
				break;
			for (ssize_t done = 0; done < r;) {
				ssize_t w =
				        pwrite(dst_fd, buf + done, (size_t)(r - done), off + done);
				if (w < 0) {
					if (errno == EINTR)
						continue;
					rc = -errno;
					goto out;
				}
				done += w;
			}
			off += r;
		}
		pos = hole;
	}
	if (ftruncate(dst_fd, st.st_size) != 0)
		rc = -errno;
out:
	free(buf);
	return rc;
}

/* Copies src to dst through "<dir>/.<base>.tmp.<pid>" then renames, so a crash never leaves a
 * partial file under dst. grow_to (bytes, 0 = keep) extends the copy before the rename. */
static int copy_to(const char *src, const char *dst_dir, const char *dst_base, uint64_t grow_to,
                   char *err)
{
	char tmp[ST_PATH_LEN], dst[ST_PATH_LEN];
	int in = -1, outfd = -1, rc;
	struct stat st;

	if (!sfmt(tmp, sizeof(tmp), "%s/.%s.tmp.%d", dst_dir, dst_base, (int)getpid()) ||
	    !sfmt(dst, sizeof(dst), "%s/%s", dst_dir, dst_base)) {
		errf(err, "path too long for %s", dst_base);
		return -ENAMETOOLONG;
	}
	in = open(src, O_RDONLY | O_CLOEXEC);
	if (in < 0) {
		rc = -errno;
		errf(err, "cannot open %s: %s", src, strerror(-rc));
		return rc;
	}
	outfd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	if (outfd < 0) {
		rc = -errno;
		errf(err, "cannot create %s: %s", tmp, strerror(-rc));
		goto out;
	}
	rc = sparse_copy(in, outfd);
	if (rc) {
		errf(err, "cannot copy %s: %s", src, strerror(-rc));
		goto out;
	}
	if (grow_to && fstat(outfd, &st) == 0 && (uint64_t)st.st_size < grow_to &&
	    ftruncate(outfd, (off_t)grow_to) != 0) {
		rc = -errno;
		errf(err, "cannot grow %s: %s", tmp, strerror(-rc));
		goto out;
	}
	if (fsync(outfd) != 0) {
		rc = -errno;
		errf(err, "cannot sync %s: %s", tmp, strerror(-rc));
		goto out;
	}
	if (rename(tmp, dst) != 0) {
		rc = -errno;
		errf(err, "cannot rename to %s: %s", dst, strerror(-rc));
		goto out;
	}
	rc = 0;
out:
	if (in >= 0)
		close(in);
	if (outfd >= 0)
		close(outfd);
	if (rc)
		unlink(tmp);
	return rc;
}

static int file_template_ensure(st_driver *s, const char *tpl, uint64_t size_gib,
                                const char *source, uint64_t *size_bytes_out, char *err)
{
	char path[ST_PATH_LEN], dir[ST_PATH_LEN], src[ST_PATH_LEN];
	struct stat st;
	int fd, rc;

	if (!safe_name(tpl)) {
		errf(err, "invalid template name");
		return -EINVAL;
	}
	if (!img_path(s, "templates", tpl, path, sizeof(path)) ||
	    !sfmt(dir, sizeof(dir), "%s/templates", s->dir)) {
		errf(err, "the image path of template %s is too long", tpl);
		return -ENAMETOOLONG;
	}
	if (stat(path, &st) == 0) { /* idempotent: an imported template is kept as it is */
		if (size_bytes_out)
			*size_bytes_out = (uint64_t)st.st_size;
		return 0;
	}
	if (source) {
		/* A bare file name inside the import directory, nothing else. */
		if (!safe_name(source)) {
			errf(err, "invalid template source (a file name in the import directory)");
			return -EINVAL;
		}
		if (!sfmt(src, sizeof(src), "%s/%s", s->template_dir, source)) {
			errf(err, "the path of template source %s is too long", source);
			return -ENAMETOOLONG;
		}
		if (stat(src, &st) != 0) {
			rc = -errno;
			errf(err, "template source %s: %s", source, strerror(-rc));
			return rc;
		}
		if (!S_ISREG(st.st_mode)) {
			errf(err, "template source %s is not a regular file", source);
			return -EINVAL;
		}
		if (!sfmt(path, sizeof(path), "%s.img", tpl)) {
			errf(err, "the image path of template %s is too long", tpl);
			return -ENAMETOOLONG;
		}
		rc = copy_to(src, dir, path, 0, err);
		if (rc)
			return rc;
		img_path(s, "templates", tpl, path, sizeof(path));
		if (stat(path, &st) == 0 && size_bytes_out)
			*size_bytes_out = (uint64_t)st.st_size;
		return 0;
	}
	if (size_gib < 1 || size_gib > 16384) {
		errf(err, "template size out of range");
		return -ERANGE;
	}
	/* Blank image: a sparse file of size_gib, made under a temp name then renamed. */
	if (!sfmt(src, sizeof(src), "%s/.%s.img.tmp.%d", dir, tpl, (int)getpid())) {
		errf(err, "the image path of template %s is too long", tpl);
		return -ENAMETOOLONG;
	}
	fd = open(src, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
	if (fd < 0) {
		rc = -errno;
		errf(err, "cannot create %s: %s", src, strerror(-rc));
		return rc;
	}
	rc = 0;
	if (ftruncate(fd, (off_t)(size_gib * GIB)) != 0 || fsync(fd) != 0)
		rc = -errno;
	close(fd);
	if (!rc && rename(src, path) != 0)
		rc = -errno;
	if (rc) {
		errf(err, "cannot create template %s: %s", tpl, strerror(-rc));
		unlink(src);
		return rc;
	}
	if (size_bytes_out)
		*size_bytes_out = size_gib * GIB;
	return 0;
}

static int unlink_img(st_driver *s, const char *sub, const char *name, char *err)
{
	char path[ST_PATH_LEN];

	if (!safe_name(name)) {
		errf(err, "invalid name");
		return -EINVAL;
	}
	if (!img_path(s, sub, name, path, sizeof(path))) {
		errf(err, "the image path of %s is too long", name);
		return -ENAMETOOLONG;
	}
	if (unlink(path) != 0 && errno != ENOENT) {
		int rc = -errno;
		errf(err, "cannot remove %s: %s", path, strerror(-rc));
		return rc;
	}
	return 0;
}

static int file_template_remove(st_driver *s, const char *tpl, char *err)
{
	return unlink_img(s, "templates", tpl, err);
}

/* 1 when templates/<tpl>.img is a regular file, 0 when it is absent (or not a regular file,
 * or tpl not a valid name), -1 when stat failed otherwise (err says why). */
static int file_template_exists(st_driver *s, const char *tpl, char *err)
{
	char path[ST_PATH_LEN];
	struct stat st;

	if (!safe_name(tpl) || !img_path(s, "templates", tpl, path, sizeof(path)))
		return 0;
	if (stat(path, &st) != 0) {
		if (errno == ENOENT || errno == ENOTDIR)
			return 0;
		errf(err, "cannot look up template %s: %s: %s", tpl, path, strerror(errno));
		return -1;
	}
	return S_ISREG(st.st_mode) ? 1 : 0;
}

/* An existing disk is kept and grown when smaller; a new one is a sparse copy of its template,
 * grown to size_gib, made under a temp name and renamed (never half-made). */
static int file_disk_ensure(st_driver *s, const char *name, const char *tpl, uint64_t size_gib,
                            st_disk_outcome *out, char *err)
{
	char path[ST_PATH_LEN], tpath[ST_PATH_LEN], dir[ST_PATH_LEN], base[160];
	st_disk_outcome mine;
	struct stat st;
	int rc;

	if (!out)
		out = &mine;
	memset(out, 0, sizeof(*out));
	if (!safe_name(name) || !safe_name(tpl)) {
		errf(err, "invalid disk or template name");
		return -EINVAL;
	}
	if (size_gib < 1 || size_gib > 16384) {
		errf(err, "disk size out of range");
		return -ERANGE;
	}
	if (!img_path(s, "disks", name, path, sizeof(path)) ||
	    !img_path(s, "templates", tpl, tpath, sizeof(tpath)) ||
	    !sfmt(dir, sizeof(dir), "%s/disks", s->dir) ||
	    !sfmt(base, sizeof(base), "%s.img", name)) {
		errf(err, "the image path of disk %s is too long", name);
		return -ENAMETOOLONG;
	}
	if (stat(path, &st) == 0) {
		out->looked = out->existed = true;
		/* Existing disk: keep it, grow it when smaller; never shrink a customer's disk. */
		if ((uint64_t)st.st_size < size_gib * GIB) {
			if (truncate(path, (off_t)(size_gib * GIB)) != 0) {
				rc = -errno;
				errf(err, "cannot grow %s: %s", path, strerror(-rc));
				return rc;
			}
			out->grown = true;
			out->bytes = size_gib * GIB;
		} else {
			out->bytes = (uint64_t)st.st_size;
		}
		return 0;
	}
	if (errno != ENOENT) {
		rc = -errno;
		errf(err, "cannot look up disk %s: %s: %s", name, path, strerror(-rc));
		return rc;
	}
	out->looked = true;
	rc = file_template_exists(s, tpl, err);
	if (rc < 0)
		return -EIO;
	if (rc == 0) {
		errf(err, "template %s does not exist", tpl);
		out->tpl_missing = true;
		return -ENOENT;
	}
	rc = copy_to(tpath, dir, base, size_gib * GIB, err);
	if (rc)
		return rc;
	out->created = true;
	out->bytes = stat(path, &st) == 0 ? (uint64_t)st.st_size : size_gib * GIB;
	return 0;
}

/* The file driver has no shared blocks (a copy, or a reflink whose blocks the file system
 * unshares), so unlinking is all the "discard" there is. */
static int file_disk_remove(st_driver *s, const char *name, char *err)
{
	return unlink_img(s, "disks", name, err);
}

static int file_disk_quarantine(st_driver *s, const char *name, char *err)
{
	char path[ST_PATH_LEN], qpath[ST_PATH_LEN];

	if (!safe_name(name)) {
		errf(err, "invalid name");
		return -EINVAL;
	}
	if (!img_path(s, "disks", name, path, sizeof(path)) ||
	    !sfmt(qpath, sizeof(qpath), "%s/disks/quarantine-%s-%lld.img", s->dir, name,
	          (long long)now_unix())) {
		errf(err, "the quarantine path of disk %s is too long", name);
		return -ENAMETOOLONG;
	}
	if (rename(path, qpath) != 0) {
		int rc = -errno;
		if (rc == -ENOENT)
			return 0;
		errf(err, "cannot quarantine %s: %s", path, strerror(-rc));
		return rc;
	}
	return 0;
}

static int file_disk_size(st_driver *s, const char *name, uint64_t *bytes_out, char *err)
{
	char path[ST_PATH_LEN];
	struct stat st;

	if (!safe_name(name) || !img_path(s, "disks", name, path, sizeof(path)))
		return -EINVAL;
	if (stat(path, &st) != 0)
		return -errno;
	*bytes_out = (uint64_t)st.st_size;
	return 0;
}

static int file_disk_path(st_driver *s, const char *name, char *out, size_t outlen)
{
	if (!safe_name(name))
		return -EINVAL;
	return img_path(s, "disks", name, out, outlen) ? 0 : -ENAMETOOLONG;
}

static int file_list(st_driver *s, const char *prefix, char ***names_out, size_t *n_out, char *err)
{
	char dir[ST_PATH_LEN];
	int rc;

	*names_out = NULL;
	*n_out = 0;
	if (!sfmt(dir, sizeof(dir), "%s/disks", s->dir)) {
		errf(err, "the disk directory under %s is too long", s->dir);
		return -ENAMETOOLONG;
	}
	rc = list_dir_names(dir, prefix, ".img", names_out, n_out);
	if (rc && rc != -ENOMEM)
		errf(err, "cannot list %s: %s", dir, strerror(-rc));
	return rc;
}

static void file_dispose(st_driver *s)
{
	(void)s;
}

static const st_ops file_ops = {
        .name = "file",
        .template_ensure = file_template_ensure,
        .template_remove = file_template_remove,
        .template_exists = file_template_exists,
        .disk_ensure = file_disk_ensure,
        .disk_remove = file_disk_remove,
        .disk_quarantine = file_disk_quarantine,
        .disk_size = file_disk_size,
        .disk_path = file_disk_path,
        .list = file_list,
        .dispose = file_dispose,
};

int st_file_open(st_driver *s, const char *state_dir, const char *template_dir, char *err)
{
	char path[ST_PATH_LEN];
	int rc;

	memset(s, 0, sizeof(*s));
	if (!state_dir || state_dir[0] != '/' || !sfmt(s->dir, sizeof(s->dir), "%s", state_dir) ||
	    !sfmt(s->template_dir, sizeof(s->template_dir), "%s",
	          template_dir ? template_dir : "")) {
		errf(err, "state dir must be an absolute path of at most 255 bytes");
		return -EINVAL;
	}
	const char *subs[] = {"disks", "templates"};
	for (size_t i = 0; i < 2; i++) {
		if (!sfmt(path, sizeof(path), "%s/%s", s->dir, subs[i])) {
			errf(err, "the %s directory under %s is too long", subs[i], s->dir);
			return -ENAMETOOLONG;
		}
		rc = mkdir_p(path, 0700);
		if (rc) {
			errf(err, "cannot create %s: %s", path, strerror(-rc));
			return rc;
		}
	}
	s->ops = &file_ops;
	return 0;
}
