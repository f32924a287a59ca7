/* sim_console.c — the sim driver's console_source (driver.h): a running sim domain's console
 * is its simguest's unix socket <state>/sim/<name>.console (hypervisor/simguest/main.c: the
 * last 64 KiB replayed to a new client, then a live stream; bytes written to it are typed). */
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/un.h>

#include "../common/validate.h"
#include "sim_internal.h"

int sim_console_source(hv_driver *d, const char *name, char *out, size_t outlen, char *err);

int sim_console_source(hv_driver *d, const char *name, char *out, size_t outlen, char *err)
{
	char path[SIM_PATH_LEN];
	struct stat st;

	if (!valid_domain_name(name, NULL)) {
		if (err)
			snprintf(err, HV_ERRLEN, "invalid domain name");
		return -EINVAL;
	}
	if (!state_path(d, name, ".console", path, sizeof(path)) ||
	    strlen(path) >= sizeof(((struct sockaddr_un *)0)->sun_path)) {
		if (err)
			snprintf(err, HV_ERRLEN, "the console socket path of %s is too long", name);
		return -ENAMETOOLONG;
	}
	if (lstat(path, &st) != 0 || !S_ISSOCK(st.st_mode)) {
		if (err)
			snprintf(err, HV_ERRLEN, "domain %s has no console socket (not running?)",
			         name);
		return -ENOENT;
	}
	if (!sfmt(out, outlen, "unix:%s", path)) {
		if (err)
			snprintf(err, HV_ERRLEN, "console source buffer too small");
		return -ENOSPC;
	}
	return 0;
}
