/* runner.h — the one way xvps runs a host command: an argv array through posix_spawn, a
 * timeout, captured stdout/stderr. Never a shell. A fake runner can be injected for tests.
 * Nothing here interprets arguments: callers pass already-validated values.
 * Return convention: every int-returning function here answers 0 on success or a negative
 * errno (-ENOENT, -ETIMEDOUT, ...); a command that ran but failed is 0 with the failure in its
 * runner_result (see runner_ok). Never a positive errno. */
#ifndef XVPS_RUNNER_H
#define XVPS_RUNNER_H

#include <stdbool.h>
#include <stddef.h>
#include <sys/types.h>

/* Outcome of one command. out/err are NUL-terminated heap buffers (possibly empty, never
 * NULL after a successful runner_run), capped at RUNNER_MAX_OUTPUT bytes each (excess is
 * dropped and *_truncated set). */
typedef struct runner_result {
	int exit_status; /* 0..255 when the child exited; -1 when killed by a signal/timeout */
	int term_signal; /* signal number when killed, else 0 */
	bool timed_out;  /* true when the runner killed the child after timeout_ms */
	char *out;
	size_t out_len;
	bool out_truncated;
	char *err;
	size_t err_len;
	bool err_truncated;
} runner_result;

#define RUNNER_MAX_OUTPUT (8u * 1024u * 1024u)

/* A runner implementation. run() returns 0 when the command was started and reaped (look at
 * res->exit_status for its success), or a negative errno when it could not be started
 * (e.g. -ENOENT: no such program). It fills *res in both cases. */
typedef int (*runner_fn)(void *ctx, const char *const argv[], const char *stdin_data,
                         size_t stdin_len, int timeout_ms, runner_result *res);

typedef struct runner {
	runner_fn run;
	void *ctx;
} runner;

/* The real runner: posix_spawn of argv[0] (a name without "/" is looked up in the fixed PATH
 * below, never in the caller's environment) with a clean environment
 * (PATH=/usr/sbin:/usr/bin:/sbin:/bin, LC_ALL=C), stdin from stdin_data (or /dev/null),
 * SIGTERM then SIGKILL (after 2 s) on timeout. timeout_ms <= 0 means 60 s. */
runner runner_real(void);

/* Starts a long-lived child that the caller reaps itself (a sim guest, a console server): path
 * with argv and the caller's environment, in its own session, stdin/stdout on /dev/null, stderr
 * kept (sanitizer reports reach the caller's log), no other descriptor, default signal
 * dispositions and an empty mask. Returns 0 and *pid, or -errno (posix_spawn's error). */
int runner_spawn_detached(const char *path, const char *const argv[], pid_t *pid);

/* Runs argv through r. Convenience wrapper: r->run(r->ctx, ...). */
int runner_run(const runner *r, const char *const argv[], const char *stdin_data, size_t stdin_len,
               int timeout_ms, runner_result *res);

/* True when the command was started, exited by itself and returned status 0. */
bool runner_ok(int rc, const runner_result *res);

void runner_result_init(runner_result *res);
void runner_result_dispose(runner_result *res);

/* Size of a buffer that holds one quoted line of a command's output (runner_first_line). */
#define RUNNER_LINE_LEN 256

/* Copies the first non-empty line of text (leading blanks dropped, cut to outlen-1 bytes) into
 * out[outlen]; an empty string when text is NULL or holds none. Returns out. For parsing a
 * command's one-line answer (a domid, a path) and for quoting it. */
const char *runner_first_line(const char *text, char *out, size_t outlen);

/* The line of a failed command worth quoting in an error message, into out[outlen]: the first
 * non-empty line of stderr, else of stdout, that does not start with "WARNING" (lvm's notices
 * precede the reason), else the first non-empty one of either; when both are empty
 * "timed out", "killed by signal N" or "exit status N". Cut to outlen-1 bytes. Returns out. */
const char *runner_failure_line(const runner_result *res, char *out, size_t outlen);

/* Renders argv as one line for logs and error messages ("lvcreate -n x vg"), each argument
 * that holds a space or a quote in single quotes. Returns a heap string. */
char *runner_argv_str(const char *const argv[]);

#endif
