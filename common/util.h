/* util.h — small helpers shared by every xvps program: secrets from getrandom, logging to
 * stderr, atomic file writes, monotonic/wall clocks. Nothing here exits the process.
 *
 * Return convention: 0 or a negative errno, never a positive one (sfmt: true when the text
 * fit). */
#ifndef XVPS_UTIL_H
#define XVPS_UTIL_H

#include <stdbool.h>
#include <stddef.h>
#include <pthread.h>
#include <stdint.h>
#include <sys/types.h>

/* Fills buf with len bytes from getrandom(2) (blocking until the pool is ready, retrying on
 * EINTR and short reads). Returns 0 or -errno. */
int random_bytes(void *buf, size_t len);

/* Writes 2*nbytes lower-case hex characters of fresh randomness plus NUL into out
 * (out must hold 2*nbytes+1). Returns 0 or -errno. */
int random_hex(char *out, size_t nbytes);

/* Hex-encodes len bytes into out (2*len+1 bytes). */
void hex_encode(const uint8_t *in, size_t len, char *out);

/* Log lines go to stderr as "<ts> <prog> <level>: message". log_init sets the program name. */
void log_init(const char *prog);
void log_info(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void log_warn(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void log_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* Writes all len bytes of data to fd, retrying short writes and EINTR. nosignal: fd is a
 * socket and a peer that went away answers -EPIPE instead of raising SIGPIPE (send(2) with
 * MSG_NOSIGNAL). Returns 0 or -errno. */
int write_full(int fd, const void *data, size_t len, bool nosignal);

/* Atomically replaces path with data: writes "<path>.tmp.<pid>", fsyncs it, renames it over
 * path and fsyncs the directory. mode applies to the new file. Returns 0 or -errno; on error
 * no temp file is left behind. */
int write_file_atomic(const char *path, const void *data, size_t len, mode_t mode);

/* Reads a whole file (at most max bytes) into a NUL-terminated heap buffer.
 * Returns 0 or -errno (-EFBIG when larger than max). */
int read_file(const char *path, size_t max, char **data_out, size_t *len_out);

/* mkdir -p with the given mode for created components. Returns 0 or -errno. */
int mkdir_p(const char *path, mode_t mode);

/* Lists the entries of dir whose names start with prefix and end with suffix (dot-files and
 * names no longer than suffix are skipped). *names_out gets a heap array of *n_out heap
 * strings, each the name with suffix removed, in readdir order; free each and the array.
 * A missing dir is success with no names. Returns 0 or -errno; on error nothing is
 * allocated and *names_out is NULL and *n_out 0. */
int list_dir_names(const char *dir, const char *prefix, const char *suffix, char ***names_out,
                   size_t *n_out);

/* Seconds since the epoch (CLOCK_REALTIME); nanoseconds and milliseconds on CLOCK_MONOTONIC
 * (the clock for timeouts and deadlines: it never jumps with the wall clock). now_unix() is the
 * one wall clock of the panel's records (ledger, quotas, periods, audit, sessions). Log lines
 * carry the real time.
 *
 * Test-only fake clock: in a build with XVPS_TEST_CLOCK defined (the ASan build of `make test`,
 * never the release build of `make`, `make bench` or the appliance), now_unix() adds the offset
 * test_clock_offset() reads at every call from the file named by the environment variable
 * XVPS_TEST_CLOCK_FILE: signed decimal seconds (|offset| <= TEST_CLOCK_OFFSET_MAX), an optional
 * trailing newline; unset, missing, empty or malformed: 0. The monotonic clocks are never
 * shifted. Write the file atomically (rename) and only forward: sample times never go back. */
#define TEST_CLOCK_OFFSET_MAX (20LL * 366 * 86400)
int64_t now_unix(void);
#ifdef XVPS_TEST_CLOCK
int64_t test_clock_offset(void);
#endif
uint64_t now_mono_ns(void);
uint64_t now_mono_ms(void);
/* pthread_cond_init of cv on CLOCK_MONOTONIC, so pthread_cond_timedwait deadlines come from
 * clock_gettime(CLOCK_MONOTONIC) and a change of the wall clock never moves them. */
void cond_init_monotonic(pthread_cond_t *cv);

/* Formats a unix time as RFC 3339 UTC ("2026-11-25T04:12:58Z") into out[32]. */
void format_rfc3339(int64_t t, char out[32]);

/* snprintf into a fixed buffer that reports truncation: returns true when it fit. */
/* Formats an error message into err[errlen] (truncating); does nothing when err is NULL. The
 * drivers' errf() macros use it with their own buffer sizes. */
void errfmt(char *err, size_t errlen, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

bool sfmt(char *buf, size_t size, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

#endif
