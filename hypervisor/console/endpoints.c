/* endpoints.c — the two ends xvps-console serves between (endpoints.h): the domain's console
 * source (the sim guest's unix socket or a Xen pty, made raw and non-blocking) and the unix
 * socket the viewers connect to. It never listens on a network address and never binds a
 * socket in a directory someone else can write. */
#include "endpoints.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <termios.h>
#include <unistd.h>

#include "../../common/util.h"
#include "../../common/validate.h"

int vncsrv_open_source(const char *spec)
{
	int fd;

	if (strncmp(spec, "unix:", 5) == 0) {
		struct sockaddr_un sun = {.sun_family = AF_UNIX};
		const char *path = spec + 5;
		if (path[0] != '/' || strlen(path) >= sizeof(sun.sun_path))
			return -EINVAL;
		memcpy(sun.sun_path, path, strlen(path) + 1);
		fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
		if (fd < 0)
			return -errno;
		if (connect(fd, (struct sockaddr *)&sun, sizeof(sun)) != 0) {
			int rc = -errno;
			close(fd);
			return rc;
		}
	} else if (strncmp(spec, "pty:", 4) == 0) {
		const char *path = spec + 4, *num = path + 9;
		struct termios tio;
		struct stat st;
		long long n;
		if (strncmp(path, "/dev/pts/", 9) != 0 || strlen(num) > 6 || num[0] == '+' ||
		    num[0] == '-' || !parse_int_range(num, 0, 999999, &n))
			return -EINVAL;
		fd = open(path, O_RDWR | O_NOCTTY | O_CLOEXEC);
		if (fd < 0)
			return -errno;
		/* Raw, like `xl console`: bytes pass both ways unchanged. */
		if (fstat(fd, &st) != 0 || !S_ISCHR(st.st_mode) || tcgetattr(fd, &tio) != 0) {
			close(fd);
			return -ENOTTY;
		}
		cfmakeraw(&tio);
		tcsetattr(fd, TCSANOW, &tio);
	} else {
		return -EINVAL;
	}
	if (fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) | O_NONBLOCK) != 0) {
		int rc = -errno;
		close(fd);
		return rc;
	}
	return fd;
}

/* Binds path + ".tmp" born 0600, hands it to uid, listens, then renames it into place, so the
 * socket is usable the moment path exists. The directory must be ours and not writable by
 * others. Returns the fd or -1 (logged). */
int vncsrv_open_listen(const char *path, uid_t uid, struct stat *made)
{
	struct sockaddr_un sun = {.sun_family = AF_UNIX};
	char tmp[sizeof(sun.sun_path)], dir[sizeof(sun.sun_path)];
	struct stat st;
	char *slash;
	mode_t old;
	int fd;

	if (path[0] != '/' || !sfmt(tmp, sizeof(tmp), "%s.tmp", path) ||
	    !sfmt(dir, sizeof(dir), "%s", path)) {
		log_error("--listen must be an absolute path of at most %zu bytes",
		          sizeof(sun.sun_path) - 5);
		return -1;
	}
	slash = strrchr(dir, '/');
	*(slash == dir ? slash + 1 : slash) = '\0';
	if (lstat(dir, &st) != 0 || !S_ISDIR(st.st_mode) || st.st_uid != geteuid() ||
	    (st.st_mode & 022)) {
		log_error("%s must be a directory of ours that no one else can write", dir);
		return -1;
	}
	if (lstat(path, &st) == 0 && !S_ISSOCK(st.st_mode)) {
		log_error("%s exists and is not a socket", path);
		return -1;
	}
	if (lstat(tmp, &st) == 0 && S_ISSOCK(st.st_mode))
		unlink(tmp);
	memcpy(sun.sun_path, tmp, strlen(tmp) + 1);
	fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
	if (fd < 0) {
		log_error("socket: %s", strerror(errno));
		return -1;
	}
	old = umask(0177);
	int rc = bind(fd, (struct sockaddr *)&sun, sizeof(sun));
	umask(old);
	if (rc != 0 || lchown(tmp, uid, (gid_t)-1) != 0 || chmod(tmp, 0600) != 0 ||
	    listen(fd, 16) != 0 || rename(tmp, path) != 0 || lstat(path, made) != 0) {
		log_error("cannot listen on %s (uid %u): %s", path, (unsigned)uid, strerror(errno));
		unlink(tmp);
		close(fd);
		return -1;
	}
	return fd;
}
