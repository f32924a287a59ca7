/* test_seed_loop.c — the seed's read-only loop device (provisioning/seed_loop.h) against the
 * kernel's real loop driver: needs root and /dev/loop-control (CI runs as root); skipped
 * otherwise, saying so. Every device a test binds is unbound again. */
#include <criterion/criterion.h>
#include <errno.h>
#include <fcntl.h>
#include <linux/loop.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/stat.h>
#include <unistd.h>

#include "../../provisioning/seed_loop.h"

static char dir[64], path[128], tmp[160];

static bool have_loop(void)
{
	return geteuid() == 0 && access("/dev/loop-control", R_OK | W_OK) == 0;
}

static void setup(void)
{
	snprintf(dir, sizeof(dir), "/tmp/xvps-seedloop-XXXXXX");
	cr_assert_not_null(mkdtemp(dir));
	snprintf(path, sizeof(path), "%s/xvps-7.img", dir);
	snprintf(tmp, sizeof(tmp), "%s/.xvps-7.img.new", dir);
}

static void teardown(void)
{
	seed_loop_detach(path, NULL);
	unlink(path);
	unlink(tmp);
	rmdir(dir);
}

/* Writes size bytes of byte c to path, replaced by rename as the agent's seed writer does. */
static void write_seed(char c, size_t size)
{
	char *buf = malloc(size);
	int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);

	cr_assert_not_null(buf);
	cr_assert_geq(fd, 0);
	memset(buf, c, size);
	cr_assert_eq(write(fd, buf, size), (ssize_t)size);
	close(fd);
	free(buf);
	cr_assert_eq(rename(tmp, path), 0);
}

/* The first byte the device reads, past any page cache (blkback reads it that way too). */
static int first_byte(const char *dev)
{
	void *buf = NULL;
	int fd = open(dev, O_RDONLY | O_DIRECT | O_CLOEXEC), c;

	cr_assert_geq(fd, 0, "%s: %s", dev, strerror(errno));
	cr_assert_eq(posix_memalign(&buf, 4096, 4096), 0);
	cr_assert_eq(pread(fd, buf, 4096, 0), 4096);
	c = ((unsigned char *)buf)[0];
	free(buf);
	close(fd);
	return c;
}

static bool bound_to_path(const char *dev)
{
	char sys[96], buf[600];
	FILE *f;
	bool yes;

	snprintf(sys, sizeof(sys), "/sys/block/%s/loop/backing_file", dev + 5);
	f = fopen(sys, "r");
	if (!f)
		return false;
	yes = fgets(buf, sizeof(buf), f) && strncmp(buf, path, strlen(path)) == 0;
	fclose(f);
	return yes;
}

TestSuite(seed_loop, .init = setup, .fini = teardown);

Test(seed_loop, binds_read_only_follows_the_rewritten_seed_and_unbinds)
{
	char dev[SEED_LOOP_DEVLEN], dev2[SEED_LOOP_DEVLEN], err[SEED_LOOP_ERRLEN] = "";
	struct loop_info64 info;
	int fd;

	if (!have_loop())
		cr_skip_test("needs root and /dev/loop-control");
	write_seed('A', 65536);
	cr_assert_eq(seed_loop_attach(path, dev, sizeof(dev), err), 0, "%s", err);
	cr_assert(strncmp(dev, "/dev/loop", 9) == 0, "%s", dev);
	cr_assert(bound_to_path(dev));
	cr_assert_eq(first_byte(dev), 'A');
	fd = open(dev, O_RDONLY | O_CLOEXEC);
	cr_assert_eq(ioctl(fd, LOOP_GET_STATUS64, &info), 0);
	cr_assert(info.lo_flags & LO_FLAGS_READ_ONLY, "not read-only");
	close(fd);
	/* Nothing can be written through it (the open, or else the write, is refused). */
	fd = open(dev, O_WRONLY | O_CLOEXEC);
	if (fd >= 0) {
		char z[512] = {0};
		cr_assert_lt(pwrite(fd, z, sizeof(z), 0), 0,
		             "a write to the read-only %s succeeded", dev);
		close(fd);
	}

	/* Again, unchanged: the same device. */
	cr_assert_eq(seed_loop_attach(path, dev2, sizeof(dev2), err), 0, "%s", err);
	cr_assert_str_eq(dev2, dev);

	/* The seed rewritten (a new inode), the device held open as a domain's blkback would:
	 * the same device now reads the new seed. */
	fd = open(dev, O_RDONLY | O_CLOEXEC);
	cr_assert_geq(fd, 0);
	write_seed('B', 65536);
	cr_assert_eq(seed_loop_attach(path, dev2, sizeof(dev2), err), 0, "%s", err);
	cr_assert_str_eq(dev2, dev);
	cr_assert_eq(first_byte(dev), 'B');

	/* Detach while held: autoclear, unbound at the last close. */
	cr_assert_eq(seed_loop_detach(path, err), 0, "%s", err);
	cr_assert(bound_to_path(dev), "unbound while still open");
	close(fd);
	for (int i = 0; i < 50 && bound_to_path(dev); i++)
		usleep(20000);
	cr_assert(!bound_to_path(dev), "%s still bound after its last close", dev);

	/* A seed of another size: a device not held is rebound. */
	write_seed('C', 65536);
	cr_assert_eq(seed_loop_attach(path, dev, sizeof(dev), err), 0, "%s", err);
	write_seed('D', 1474560);
	cr_assert_eq(seed_loop_attach(path, dev2, sizeof(dev2), err), 0, "%s", err);
	cr_assert_eq(first_byte(dev2), 'D');
	cr_assert_eq(seed_loop_detach(path, err), 0, "%s", err);
	/* Another binder (a parallel test, losetup) may hold a device for a moment between its
	 * LOOP_CTL_GET_FREE and its bind: then ours is cleared at that close (autoclear). */
	for (int i = 0; i < 50 && (bound_to_path(dev) || bound_to_path(dev2)); i++)
		usleep(20000);
	cr_assert(!bound_to_path(dev2));
	cr_assert(!bound_to_path(dev));
}

Test(seed_loop, leaves_a_device_it_did_not_bind_alone)
{
	char dev[SEED_LOOP_DEVLEN], other[SEED_LOOP_DEVLEN], err[SEED_LOOP_ERRLEN] = "";
	struct loop_config cfg;
	int ctl, n, fd, ffd;

	if (!have_loop())
		cr_skip_test("needs root and /dev/loop-control");
	write_seed('A', 65536);
	/* Bound the way Xen's block script would (losetup -r): no xvps mark. */
	ffd = open(path, O_RDONLY | O_CLOEXEC);
	memset(&cfg, 0, sizeof(cfg));
	cfg.fd = (unsigned)ffd;
	cfg.info.lo_flags = LO_FLAGS_READ_ONLY;
	/* As losetup does: a device another binder took after LOOP_CTL_GET_FREE is EBUSY, and
	 * the next free one is tried. */
	for (int tries = 0;; tries++) {
		ctl = open("/dev/loop-control", O_RDWR | O_CLOEXEC);
		n = ioctl(ctl, LOOP_CTL_GET_FREE);
		close(ctl);
		cr_assert_geq(n, 0);
		snprintf(other, sizeof(other), "/dev/loop%d", n);
		fd = open(other, O_RDONLY | O_CLOEXEC);
		cr_assert_geq(fd, 0);
		if (ioctl(fd, LOOP_CONFIGURE, &cfg) == 0)
			break;
		cr_assert(errno == EBUSY && tries < 8, "%s", strerror(errno));
		close(fd);
	}
	close(ffd);

	cr_assert_eq(seed_loop_attach(path, dev, sizeof(dev), err), 0, "%s", err);
	cr_assert_str_neq(dev, other);
	cr_assert_eq(seed_loop_detach(path, err), 0, "%s", err);
	cr_assert(bound_to_path(other), "detach unbound a device xvps did not bind");
	cr_assert(!bound_to_path(dev));
	cr_assert_eq(ioctl(fd, LOOP_CLR_FD, 0), 0);
	close(fd);
}

Test(seed_loop, refuses_a_missing_file_and_a_relative_path)
{
	char dev[SEED_LOOP_DEVLEN], err[SEED_LOOP_ERRLEN] = "";

	cr_assert_eq(seed_loop_attach("relative.img", dev, sizeof(dev), err), -EINVAL);
	cr_assert_eq(seed_loop_attach(path, dev, sizeof(dev), err), -ENOENT);
	cr_assert(strstr(err, path) != NULL, "%s", err);
	cr_assert_eq(seed_loop_detach(path, err), 0);
}
