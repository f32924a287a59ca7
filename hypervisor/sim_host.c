/* sim_host.c — the dev/test dom0 of the sim driver (sim_host.h): the agent's network namespace
 * and the sim bridge, set up once at agent start. Only ever for the sim driver, never on a
 * real Xen dom0; commands go through the runner only, and nothing here logs or exits. */
#include "sim_host.h"

#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <unistd.h>

#include "../common/runner.h"
#include "../common/util.h"
#include "../common/validate.h"
#include "simnet.h"

/* "/run/netns/<name>" or "/sys/class/net/<bridge>" (a bridge name is at most 15 characters). */
#define SIM_HOST_PATH_LEN (sizeof("/run/netns/") + SIM_NETNS_NAME_MAX)

int sim_enter_netns(const char *name, char *err, size_t errlen)
{
	char path[SIM_HOST_PATH_LEN];
	int fd;

	if (!valid_file_name(name, SIM_NETNS_NAME_MAX, NULL) || name[0] == '-') {
		errfmt(err, errlen,
		       "XVPS_NETNS must be a namespace name of [A-Za-z0-9_.-], at most %d "
		       "characters",
		       SIM_NETNS_NAME_MAX);
		return -EINVAL;
	}
	snprintf(path, sizeof(path), "/run/netns/%s", name);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0) {
		errfmt(err, errlen, "XVPS_NETNS: cannot open %s: %s", path, strerror(errno));
		return -errno;
	}
	if (setns(fd, CLONE_NEWNET) != 0) {
		int e = errno;
		errfmt(err, errlen, "XVPS_NETNS: cannot enter %s: %s", path, strerror(e));
		close(fd);
		return -e;
	}
	close(fd);
	if (unshare(CLONE_NEWNS) != 0 || mount(NULL, "/sys", NULL, MS_REC | MS_PRIVATE, NULL) ||
	    umount2("/sys", MNT_DETACH) != 0 || mount("sysfs", "/sys", "sysfs", 0, NULL) != 0) {
		int e = errno;
		errfmt(err, errlen, "XVPS_NETNS: cannot mount the namespace's sysfs on /sys: %s",
		       strerror(e));
		return -e;
	}
	return 0;
}

/* Runs one `ip` command; on failure err gets "<command> failed: <reason>". */
static int run_ip(const char *const argv[], char *err, size_t errlen)
{
	runner r = runner_real();
	runner_result res;
	int rc;

	runner_result_init(&res);
	rc = runner_run(&r, argv, NULL, 0, SIMNET_TIMEOUT_MS, &res);
	if (!runner_ok(rc, &res)) {
		char *line = runner_argv_str(argv);
		errfmt(err, errlen, "%s failed: %s", line ? line : argv[0],
		       rc ? strerror(-rc) : (res.err && *res.err ? res.err : "no output"));
		free(line);
		rc = rc ? rc : -EIO;
	}
	runner_result_dispose(&res);
	return rc;
}

/* Writes "1" to a sysctl file; false when it cannot. */
static bool write_sysctl(const char *path)
{
	int fd = open(path, O_WRONLY | O_CLOEXEC);
	bool ok = fd >= 0 && write(fd, "1\n", 2) == 2;
	int e = errno;

	if (fd >= 0)
		close(fd);
	errno = e;
	return ok;
}

int sim_bridge_ensure(const char *bridge, char *err, char *warn, size_t errlen)
{
	static const char *const sysctls[] = {"/proc/sys/net/bridge/bridge-nf-call-iptables",
	                                      "/proc/sys/net/bridge/bridge-nf-call-ip6tables"};
	char path[SIM_HOST_PATH_LEN];
	struct stat st;

	errfmt(warn, errlen, "%s", "");
	if (!simnet_valid_bridge(bridge)) {
		errfmt(err, errlen, "XVPS_BRIDGE must be 1 to 15 characters of a-z 0-9 _ . -");
		return -EINVAL;
	}
	snprintf(path, sizeof(path), "/sys/class/net/%s", bridge);
	if (lstat(path, &st) != 0 &&
	    run_ip((const char *const[]){"ip", "link", "add", bridge, "type", "bridge", NULL}, err,
	           errlen))
		return -EIO;
	if (run_ip((const char *const[]){"ip", "link", "set", "dev", bridge, "up", NULL}, err,
	           errlen))
		return -EIO;
	for (size_t i = 0; i < sizeof(sysctls) / sizeof(sysctls[0]); i++) {
		if (!write_sysctl(sysctls[i]))
			errfmt(warn, errlen,
			       "cannot set %s to 1 (%s): bridged traffic may bypass the firewall",
			       sysctls[i], strerror(errno));
	}
	return 0;
}
