/* seed_loop.c — read-only loop devices for the seed files (seed_loop.h). */
#include "seed_loop.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/loop.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <unistd.h>

#include "../common/util.h"

#define errf(err, ...) errfmt(err, SEED_LOOP_ERRLEN, __VA_ARGS__)

/* lo_file_name of the devices this file binds: only those are reused, switched or unbound
 * (never a device Xen's block script bound for a domain still running on an older config). */
#define SEED_LOOP_MARK "xvps-seed"

static bool ours(const struct loop_info64 *info)
{
	return strncmp((const char *)info->lo_file_name, SEED_LOOP_MARK,
	               sizeof(info->lo_file_name)) == 0;
}

/* What the kernel shows as a bound device's backing file: the path, with " (deleted)" once the
 * seed was replaced by a rename. True when it is path's. */
static bool backing_is(int n, const char *path)
{
	char sys[96], buf[640];
	size_t plen = strlen(path);
	ssize_t len;
	int fd;

	snprintf(sys, sizeof(sys), "/sys/block/loop%d/loop/backing_file", n);
	fd = open(sys, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return false;
	len = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (len <= 0)
		return false;
	buf[len] = '\0';
	buf[strcspn(buf, "\n")] = '\0';
	return strncmp(buf, path, plen) == 0 &&
	       (buf[plen] == '\0' || strcmp(buf + plen, " (deleted)") == 0);
}

/* Calls fn(n) for every loop device bound to path; stops at a nonzero return. */
static int each_bound(const char *path, int (*fn)(int n, void *arg), void *arg)
{
	DIR *d = opendir("/sys/block");
	struct dirent *e;
	int rc = 0;

	if (!d)
		return 0;
	while (rc == 0 && (e = readdir(d)) != NULL) {
		int n;
		char tail;

		if (sscanf(e->d_name, "loop%d%c", &n, &tail) != 1 || n < 0)
			continue;
		if (backing_is(n, path))
			rc = fn(n, arg);
	}
	closedir(d);
	return rc;
}

/* /dev/loopN opened read-only with its status, when this file bound it: the fd (the caller
 * closes it), else -1. */
static int open_ours(int n, char *dev, size_t devlen, struct loop_info64 *info)
{
	int fd;

	snprintf(dev, devlen, "/dev/loop%d", n);
	fd = open(dev, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -1;
	if (ioctl(fd, LOOP_GET_STATUS64, info) != 0 || !ours(info)) {
		close(fd);
		return -1;
	}
	return fd;
}

typedef struct find_arg {
	const struct stat *st;
	int fd;    /* the seed file, O_RDONLY */
	int found; /* the device now bound to the file, or -1 */
	int rc;
	char *err;
} find_arg;

/* A device bound to path: kept when it is this file, else switched to it. */
static int reuse_one(int n, void *arg)
{
	find_arg *a = arg;
	struct loop_info64 info;
	char dev[SEED_LOOP_DEVLEN];
	int fd;

	fd = open_ours(n, dev, sizeof(dev), &info);
	if (fd < 0)
		return 0;
	if (info.lo_device == (uint64_t)a->st->st_dev && info.lo_inode == (uint64_t)a->st->st_ino &&
	    (info.lo_flags & LO_FLAGS_READ_ONLY)) {
		a->found = n;
		close(fd);
		return 1;
	}
	/* An older seed of this path: the same read-only device on the new file. */
	if ((info.lo_flags & LO_FLAGS_READ_ONLY) && ioctl(fd, LOOP_CHANGE_FD, a->fd) == 0) {
		a->found = n;
		close(fd);
		return 1;
	}
	/* Another size (or not read-only): free it when nothing holds it. */
	if (ioctl(fd, LOOP_CLR_FD, 0) != 0) {
		a->rc = errno == EBUSY ? -EBUSY : -errno;
		errf(a->err, "%s is bound to an older %s and in use: %s", dev, "seed",
		     strerror(errno));
	}
	close(fd);
	return a->rc ? 1 : 0;
}

/* A free device bound to fd read-only. */
static int bind_new(const char *path, int file_fd, char *err)
{
	struct loop_config cfg;
	char dev[SEED_LOOP_DEVLEN];
	int ctl, n, fd, rc = -EIO;

	ctl = open("/dev/loop-control", O_RDWR | O_CLOEXEC);
	if (ctl < 0) {
		errf(err, "no loop devices here: /dev/loop-control: %s", strerror(errno));
		return -ENODEV;
	}
	for (int tries = 0; tries < 8; tries++) {
		n = ioctl(ctl, LOOP_CTL_GET_FREE);
		if (n < 0) {
			rc = -errno;
			errf(err, "no free loop device: %s", strerror(errno));
			break;
		}
		snprintf(dev, sizeof(dev), "/dev/loop%d", n);
		fd = open(dev, O_RDONLY | O_CLOEXEC);
		if (fd < 0) {
			rc = -errno;
			errf(err, "%s: %s", dev, strerror(errno));
			break;
		}
		memset(&cfg, 0, sizeof(cfg));
		cfg.fd = (unsigned)file_fd;
		cfg.info.lo_flags = LO_FLAGS_READ_ONLY;
		snprintf((char *)cfg.info.lo_file_name, sizeof(cfg.info.lo_file_name), "%s",
		         SEED_LOOP_MARK);
		if (ioctl(fd, LOOP_CONFIGURE, &cfg) == 0) {
			close(fd);
			close(ctl);
			return n;
		}
		rc = -errno;
		close(fd);
		if (rc != -EBUSY) { /* EBUSY: another binder took it between the two calls */
			errf(err, "cannot bind %s to %s: %s", dev, path, strerror(-rc));
			break;
		}
	}
	close(ctl);
	return rc;
}

int seed_loop_attach(const char *path, char *dev, size_t devlen, char *err)
{
	struct stat st;
	find_arg a;
	int fd, n;

	if (!path || path[0] != '/') {
		errf(err, "seed path must be absolute");
		return -EINVAL;
	}
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		int e = errno;
		errf(err, "%s: %s", path, strerror(e));
		return -e;
	}
	if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
		errf(err, "%s is not a regular file", path);
		close(fd);
		return -EINVAL;
	}
	a = (find_arg){&st, fd, -1, 0, err};
	each_bound(path, reuse_one, &a);
	if (a.rc) {
		close(fd);
		return a.rc;
	}
	n = a.found >= 0 ? a.found : bind_new(path, fd, err);
	close(fd);
	if (n < 0)
		return n;
	if ((size_t)snprintf(dev, devlen, "/dev/loop%d", n) >= devlen) {
		errf(err, "device name too long");
		return -ENAMETOOLONG;
	}
	return 0;
}

static int unbind_one(int n, void *arg)
{
	find_arg *a = arg;
	struct loop_info64 info;
	char dev[SEED_LOOP_DEVLEN];
	int fd;

	fd = open_ours(n, dev, sizeof(dev), &info);
	if (fd < 0)
		return 0;
	if (ioctl(fd, LOOP_CLR_FD, 0) != 0) {
		/* Held open (blkback of a domain being destroyed): unbind at its last close. */
		info.lo_flags |= LO_FLAGS_AUTOCLEAR;
		if (ioctl(fd, LOOP_SET_STATUS64, &info) != 0 && a->rc == 0) {
			a->rc = -errno;
			errf(a->err, "cannot unbind %s: %s", dev, strerror(errno));
		}
	}
	close(fd);
	return 0;
}

int seed_loop_detach(const char *path, char *err)
{
	find_arg a = {NULL, -1, -1, 0, err};

	if (!path || path[0] != '/')
		return 0;
	each_bound(path, unbind_one, &a);
	return a.rc;
}
