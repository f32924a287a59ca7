/* xl_resize.c — the xl driver's live resize (driver.h set_memory, set_vcpus; issue 16 item 1):
 * `xl mem-set NAME <MiB>m` (the balloon target, at most the domain's maxmem) and `xl vcpu-set
 * NAME <n>` (online vcpus, at most its maxvcpus), through the runner as argv arrays. The agent
 * checks the domain's ceilings first (provisioning/vps_resize.c); xl refusing anyway is -EIO
 * with its message. */
#include "driver.h"
#include "xl_internal.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

#include "../common/util.h"

/* Runs argv for a running domain: 0, -ESRCH when xl says the domain does not exist, else the
 * runner's -errno or -EIO with xl's first line of stderr in err. */
static int run_on_domain(hv_driver *d, const char *const argv[], const char *name, char *err)
{
	runner_result res;
	int rc = xl_exec(d, argv, XL_CMD_TIMEOUT_MS, &res, err);

	if (rc == -EIO && xl_says_absent(&res)) {
		xl_set_err(err, "domain %s is not running", name);
		rc = -ESRCH;
	} else if (rc == -EIO) {
		char line[256] = "";

		runner_first_line(res.err ? res.err : "", line, sizeof(line));
		xl_set_err(err, "xl %s %s failed: %s", argv[1], name,
		           line[0] ? line : "no message");
	}
	runner_result_dispose(&res);
	return rc;
}

int xl_set_memory(hv_driver *d, const char *name, uint64_t memory_mib, char *err)
{
	char mem[32];

	if (!xl_check_name(name, err))
		return -EINVAL;
	if (memory_mib < 128 || memory_mib > 1048576) {
		xl_set_err(err, "memory %llu MiB out of range 128..1048576",
		           (unsigned long long)memory_mib);
		return -ERANGE;
	}
	snprintf(mem, sizeof(mem), "%llum", (unsigned long long)memory_mib);
	const char *argv[] = {"xl", "mem-set", name, mem, NULL};
	return run_on_domain(d, argv, name, err);
}

int xl_set_vcpus(hv_driver *d, const char *name, int vcpus, char *err)
{
	char n[16];

	if (!xl_check_name(name, err))
		return -EINVAL;
	if (vcpus < 1 || vcpus > 64) {
		xl_set_err(err, "vcpus %d out of range 1..64", vcpus);
		return -ERANGE;
	}
	snprintf(n, sizeof(n), "%d", vcpus);
	const char *argv[] = {"xl", "vcpu-set", name, n, NULL};
	return run_on_domain(d, argv, name, err);
}
