/* util.c — small helpers shared by every xvps program (util.h): getrandom secrets, stderr
 * logging with RFC 3339 timestamps, atomic file writes, clocks. Nothing here exits the process
 * or leaves a temporary file behind on error. */
#include "util.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <libgen.h>
#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

static int64_t real_unix(void);

int random_bytes(void *buf, size_t len)
{
	uint8_t *p = buf;
	while (len > 0) {
		ssize_t r = getrandom(p, len, 0);
		if (r < 0) {
			if (errno == EINTR)
				continue;
			return -errno;
		}
		p += r;
		len -= (size_t)r;
	}
	return 0;
}

void hex_encode(const uint8_t *in, size_t len, char *out)
{
	static const char hx[] = "0123456789abcdef";
	for (size_t i = 0; i < len; i++) {
		out[2 * i] = hx[in[i] >> 4];
		out[2 * i + 1] = hx[in[i] & 15];
	}
	out[2 * len] = '\0';
}

int random_hex(char *out, size_t nbytes)
{
	uint8_t buf[256];
	size_t done = 0;
	while (done < nbytes) {
		size_t n = nbytes - done < sizeof(buf) ? nbytes - done : sizeof(buf);
		int rc = random_bytes(buf, n);
		if (rc < 0)
			return rc;
		hex_encode(buf, n, out + 2 * done);
		done += n;
	}
	out[2 * nbytes] = '\0';
	return 0;
}

/* A log line's message is cut at this many bytes (with its NUL). */
#define LOG_LINE_MAX 2048

/* Set once at startup, before threads exist. */
static char log_prog[32] = "xvps";

void log_init(const char *prog)
{
	if (prog)
		snprintf(log_prog, sizeof(log_prog), "%s", prog);
}

static void log_v(const char *level, const char *fmt, va_list ap)
{
	char ts[32], msg[LOG_LINE_MAX];
	format_rfc3339(real_unix(), ts);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	/* One fprintf per line: stdio locks the stream, so lines from threads never interleave. */
	fprintf(stderr, "%s %s %s: %s\n", ts, log_prog, level, msg);
}

void log_info(const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	log_v("info", fmt, ap);
	va_end(ap);
}

void log_warn(const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	log_v("warn", fmt, ap);
	va_end(ap);
}

void log_error(const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	log_v("error", fmt, ap);
	va_end(ap);
}

int write_full(int fd, const void *data, size_t len, bool nosignal)
{
	const char *p = data;
	while (len > 0) {
		ssize_t w = nosignal ? send(fd, p, len, MSG_NOSIGNAL) : write(fd, p, len);
		if (w < 0) {
			if (errno == EINTR)
				continue;
			return -errno;
		}
		p += w;
		len -= (size_t)w;
	}
	return 0;
}

static int fsync_dir_of(const char *path)
{
	char *copy = strdup(path);
	if (!copy)
		return -ENOMEM;
	int fd = open(dirname(copy), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	free(copy);
	if (fd < 0)
		return -errno;
	int rc = fsync(fd) < 0 ? -errno : 0;
	close(fd);
	return rc;
}

int write_file_atomic(const char *path, const void *data, size_t len, mode_t mode)
{
	char tmp[PATH_MAX];
	if (!path || !*path)
		return -EINVAL;
	if (!sfmt(tmp, sizeof(tmp), "%s.tmp.%ld", path, (long)getpid()))
		return -ENAMETOOLONG;
	int fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC | O_NOFOLLOW, mode);
	if (fd < 0)
		return -errno;
	int rc = 0;
	if (fchmod(fd, mode) < 0) /* the umask must not weaken or widen the requested mode */
		rc = -errno;
	if (!rc)
		rc = write_full(fd, data, len, false);
	if (!rc && fsync(fd) < 0)
		rc = -errno;
	if (close(fd) < 0 && !rc)
		rc = -errno;
	if (!rc && rename(tmp, path) < 0)
		rc = -errno;
	if (rc) {
		unlink(tmp);
		return rc;
	}
	return fsync_dir_of(path);
}

int read_file(const char *path, size_t max, char **data_out, size_t *len_out)
{
	*data_out = NULL;
	if (len_out)
		*len_out = 0;
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return -errno;
	size_t cap = 4096, len = 0;
	char *buf = malloc(cap + 1);
	int rc = 0;
	if (!buf) {
		close(fd);
		return -ENOMEM;
	}
	for (;;) {
		if (len == cap) {
			if (cap > max) {
				rc = -EFBIG;
				break;
			}
			size_t ncap = cap * 2;
			char *nb = realloc(buf, ncap + 1);
			if (!nb) {
				rc = -ENOMEM;
				break;
			}
			buf = nb;
			cap = ncap;
		}
		ssize_t r = read(fd, buf + len, cap - len);
		if (r < 0) {
			if (errno == EINTR)
				continue;
			rc = -errno;
			break;
		}
		if (r == 0)
			break;
		len += (size_t)r;
		if (len > max) {
			rc = -EFBIG;
			break;
		}
	}
	close(fd);
	if (rc) {
		free(buf);
		return rc;
	}
	buf[len] = '\0';
	*data_out = buf;
	if (len_out)
		*len_out = len;
	return 0;
}

int mkdir_p(const char *path, mode_t mode)
{
	char buf[PATH_MAX];
	if (!path || !*path)
		return -EINVAL;
	if (!sfmt(buf, sizeof(buf), "%s", path))
		return -ENAMETOOLONG;
	for (char *p = buf + 1;; p++) {
		if (*p != '/' && *p != '\0')
			continue;
		char saved = *p;
		*p = '\0';
		if (mkdir(buf, mode) < 0 && errno != EEXIST)
			return -errno;
		if (saved == '\0')
			break;
		*p = saved;
	}
	struct stat st;
	if (stat(path, &st) < 0)
		return -errno;
	return S_ISDIR(st.st_mode) ? 0 : -ENOTDIR;
}

int list_dir_names(const char *dir, const char *prefix, const char *suffix, char ***names_out,
                   size_t *n_out)
{
	size_t plen = strlen(prefix), slen = strlen(suffix);
	DIR *dh;
	struct dirent *de;
	char **names = NULL;
	size_t n = 0, cap = 0;
	int rc = 0;

	*names_out = NULL;
	*n_out = 0;
	dh = opendir(dir);
	if (!dh)
		return errno == ENOENT ? 0 : -errno;
	while ((de = readdir(dh)) != NULL) {
		size_t len = strlen(de->d_name);

		if (de->d_name[0] == '.' || len <= slen ||
		    strcmp(de->d_name + len - slen, suffix) != 0 ||
		    strncmp(de->d_name, prefix, plen) != 0)
			continue;
		if (n == cap) {
			size_t ncap = cap ? cap * 2 : 16;
			char **nn = realloc(names, ncap * sizeof(*nn));
			if (!nn) {
				rc = -ENOMEM;
				break;
			}
			names = nn;
			cap = ncap;
		}
		names[n] = strndup(de->d_name, len - slen);
		if (!names[n]) {
			rc = -ENOMEM;
			break;
		}
		n++;
	}
	closedir(dh);
	if (rc) {
		for (size_t i = 0; i < n; i++)
			free(names[i]);
		free(names);
		return rc;
	}
	*names_out = names;
	*n_out = n;
	return 0;
}

static int64_t real_unix(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec;
}

#ifdef XVPS_TEST_CLOCK
int64_t test_clock_offset(void)
{
	const char *path = getenv("XVPS_TEST_CLOCK_FILE");
	char buf[32], *end;
	long long off;
	ssize_t n;
	int fd;

	if (!path || !path[0])
		return 0;
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return 0; /* no file (yet): no shift */
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n <= 0)
		return 0;
	buf[n] = '\0';
	errno = 0;
	off = strtoll(buf, &end, 10);
	while (*end == '\n' || *end == ' ')
		end++;
	if (errno || end == buf || *end || off < -TEST_CLOCK_OFFSET_MAX ||
	    off > TEST_CLOCK_OFFSET_MAX)
		return 0;
	return (int64_t)off;
}
#endif

int64_t now_unix(void)
{
#ifdef XVPS_TEST_CLOCK
	return real_unix() + test_clock_offset();
#else
	return real_unix();
#endif
}

uint64_t now_mono_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

void cond_init_monotonic(pthread_cond_t *cv)
{
	pthread_condattr_t ca;

	pthread_condattr_init(&ca);
	pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
	pthread_cond_init(cv, &ca);
	pthread_condattr_destroy(&ca);
}

uint64_t now_mono_ms(void)
{
	return now_mono_ns() / 1000000u;
}

static void put_digits(char *p, unsigned v, int n)
{
	while (n-- > 0) {
		p[n] = (char)('0' + v % 10);
		v /= 10;
	}
}

/* UTC only, so no time zone, locale or lock (issue 17: gmtime_r+strftime per object cost more
 * than the rest of a VPS's JSON). Days to civil date: H. Hinnant's days_from_civil inverse. */
void format_rfc3339(int64_t t, char out[32])
{
	int64_t days, secs, z, era, doe, yoe, y, doy, mp, d, m;

	/* Years 0000..9999 only (what the format can say); anything else as the epoch. */
	if (t < -62167219200LL || t > 253402300799LL) {
		memcpy(out, "1970-01-01T00:00:00Z", 21);
		return;
	}
	days = t >= 0 ? t / 86400 : -((-t + 86399) / 86400);
	secs = t - days * 86400;
	z = days + 719468;
	era = (z >= 0 ? z : z - 146096) / 146097;
	doe = z - era * 146097;
	yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
	y = yoe + era * 400;
	doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
	mp = (5 * doy + 2) / 153;
	d = doy - (153 * mp + 2) / 5 + 1;
	m = mp < 10 ? mp + 3 : mp - 9;
	y += m <= 2;
	put_digits(out, (unsigned)y, 4);
	out[4] = '-';
	put_digits(out + 5, (unsigned)m, 2);
	out[7] = '-';
	put_digits(out + 8, (unsigned)d, 2);
	out[10] = 'T';
	put_digits(out + 11, (unsigned)(secs / 3600), 2);
	out[13] = ':';
	put_digits(out + 14, (unsigned)(secs / 60 % 60), 2);
	out[16] = ':';
	put_digits(out + 17, (unsigned)(secs % 60), 2);
	memcpy(out + 19, "Z", 2);
}

bool sfmt(char *buf, size_t size, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	int n = vsnprintf(buf, size, fmt, ap);
	va_end(ap);
	return n >= 0 && (size_t)n < size;
}

void errfmt(char *err, size_t errlen, const char *fmt, ...)
{
	va_list ap;

	if (!err || errlen == 0)
		return;
	va_start(ap, fmt);
	vsnprintf(err, errlen, fmt, ap);
	va_end(ap);
}
