/* endpoints.h — the ends of xvps-console (hypervisor/console/): opening the domain's console
 * source and the viewers' listen socket, never a network address. Return convention: a descriptor
 * (>= 0) or a negative errno for the source; a descriptor or -1 (logged) for the listen socket. */
#ifndef XVPS_CONSOLE_ENDPOINTS_H
#define XVPS_CONSOLE_ENDPOINTS_H

#include <sys/stat.h>
#include <sys/types.h>

/* Opens the console source spec, non-blocking: "unix:/ABS/PATH" (connects to the sim guest's
 * console socket) or "pty:/dev/pts/N" (N: 0..999999; opened and made raw, like `xl console`).
 * Returns the fd, or -EINVAL for another spec, -ENOTTY for a pty that is not a terminal,
 * -errno of connect/open. */
int vncsrv_open_source(const char *spec);

/* Binds path + ".tmp" born 0600, hands it to uid, listens, then renames it into place, so the
 * socket is usable the moment path exists; *made gets the socket's lstat (to remove only our
 * own at exit). The directory must be ours and not writable by others. Returns the fd or -1
 * (logged). */
int vncsrv_open_listen(const char *path, uid_t uid, struct stat *made);

#endif
