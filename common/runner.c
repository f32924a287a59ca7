/* runner.c — the one way xvps runs a host command: posix_spawnp with an argv array, a clean
 * environment, pipes for stdin/stdout/stderr, a timeout and bounded output capture.
 * Never a shell, never inherits descriptors other than 0/1/2. */
#include "runner.h"

#include "util.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define RUNNER_DEFAULT_TIMEOUT_MS 60000
#define RUNNER_KILL_GRACE_MS      2000

static char *const runner_envp[] = {
        "PATH=/usr/sbin:/usr/bin:/sbin:/bin",
        "LC_ALL=C",
        NULL,
};

void runner_result_init(runner_result *res)
{
	memset(res, 0, sizeof(*res));
	res->exit_status = -1;
}

void runner_result_dispose(runner_result *res)
{
	if (!res)
		return;
	free(res->out);
	free(res->err);
	runner_result_init(res);
}

/* A growing capture buffer capped at RUNNER_MAX_OUTPUT. */
typedef struct capbuf {
	char *data;
	size_t len, cap;
	bool truncated;
} capbuf;

static int capbuf_append(capbuf *b, const char *p, size_t n)
{
	if (b->len + n > RUNNER_MAX_OUTPUT) {
		n = RUNNER_MAX_OUTPUT - b->len;
		b->truncated = true;
	}
	if (n == 0)
		return 0;
	if (b->len + n + 1 > b->cap) {
		size_t ncap = b->cap ? b->cap : 4096;
		while (ncap < b->len + n + 1)
			ncap *= 2;
		char *nd = realloc(b->data, ncap);
		if (!nd)
			return -ENOMEM;
		b->data = nd;
		b->cap = ncap;
	}
	memcpy(b->data + b->len, p, n);
	b->len += n;
	b->data[b->len] = '\0';
	return 0;
}

static int capbuf_finish(capbuf *b, char **out, size_t *len, bool *trunc)
{
	if (!b->data) {
		b->data = calloc(1, 1);
		if (!b->data)
			return -ENOMEM;
	}
	*out = b->data;
	*len = b->len;
	*trunc = b->truncated;
	b->data = NULL;
	return 0;
}

static void close_fd(int *fd)
{
	if (*fd >= 0) {
		close(*fd);
		*fd = -1;
	}
}

/* The program argv[0] names: as given when it holds a '/', else looked up in the runner's own
 * fixed PATH (never the caller's environment, which posix_spawnp would search). */
static int resolve_program(const char *name, char *out, size_t outlen)
{
	static const char *const dirs[] = {"/usr/sbin", "/usr/bin", "/sbin", "/bin"};

	if (strchr(name, '/')) {
		if ((size_t)snprintf(out, outlen, "%s", name) >= outlen)
			return -ENAMETOOLONG;
		return 0;
	}
	for (size_t i = 0; i < sizeof(dirs) / sizeof(dirs[0]); i++) {
		if ((size_t)snprintf(out, outlen, "%s/%s", dirs[i], name) >= outlen)
			return -ENAMETOOLONG;
		if (access(out, X_OK) == 0)
			return 0;
	}
	return -ENOENT;
}

/* Spawns argv with the given child ends; returns 0 and *pid, or -errno. */
static int spawn_child(const char *const argv[], int in_fd, int out_fd, int err_fd, pid_t *pid)
{
	char prog[PATH_MAX];
	int pr = resolve_program(argv[0], prog, sizeof(prog));

	if (pr)
		return pr;
	posix_spawn_file_actions_t fa;
	posix_spawnattr_t attr;
	int r = posix_spawn_file_actions_init(&fa);
	if (r)
		return -r;
	r = posix_spawnattr_init(&attr);
	if (r) {
		posix_spawn_file_actions_destroy(&fa);
		return -r;
	}
	/* dup2 clears FD_CLOEXEC on the target; every other descriptor we own is O_CLOEXEC. */
	if (!r)
		r = posix_spawn_file_actions_adddup2(&fa, in_fd, STDIN_FILENO);
	if (!r)
		r = posix_spawn_file_actions_adddup2(&fa, out_fd, STDOUT_FILENO);
	if (!r)
		r = posix_spawn_file_actions_adddup2(&fa, err_fd, STDERR_FILENO);
	/* Belt and braces: even a descriptor another thread opened without O_CLOEXEC (a
	 * library's) never reaches the child. glibc >= 2.34. */
	if (!r)
		r = posix_spawn_file_actions_addclosefrom_np(&fa, 3);
	/* The child starts with default signal dispositions and an empty mask, whatever the
	 * calling thread blocked or ignored (SIGPIPE ignored would leak into e.g. `yes`). */
	sigset_t none, all;
	sigemptyset(&none);
	sigfillset(&all);
	if (!r)
		r = posix_spawnattr_setsigmask(&attr, &none);
	if (!r)
		r = posix_spawnattr_setsigdefault(&attr, &all);
	if (!r)
		r = posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETSIGMASK | POSIX_SPAWN_SETSIGDEF);
	if (!r)
		r = posix_spawn(pid, prog, &fa, &attr, (char *const *)argv, runner_envp);
	posix_spawnattr_destroy(&attr);
	posix_spawn_file_actions_destroy(&fa);
	return -r;
}

static int runner_real_run(void *ctx, const char *const argv[], const char *stdin_data,
                           size_t stdin_len, int timeout_ms, runner_result *res)
{
	int in_pipe[2] = {-1, -1}, out_pipe[2] = {-1, -1}, err_pipe[2] = {-1, -1};
	int null_fd = -1;
	capbuf ob = {0}, eb = {0};
	pid_t pid = -1;
	int rc = 0;

	runner_result_init(res);
	if (!argv || !argv[0] || !argv[0][0])
		return -EINVAL;
	if (timeout_ms <= 0)
		timeout_ms = RUNNER_DEFAULT_TIMEOUT_MS;

	if (pipe2(out_pipe, O_CLOEXEC) < 0 || pipe2(err_pipe, O_CLOEXEC) < 0) {
		rc = -errno;
		goto out;
	}
	if (stdin_data) {
		/* A socket, not a pipe, so send(MSG_NOSIGNAL) can never raise SIGPIPE in this
		 * (possibly multi-threaded) process when the child exits without reading. */
		if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, in_pipe) < 0) {
			rc = -errno;
			goto out;
		}
	} else {
		null_fd = open("/dev/null", O_RDONLY | O_CLOEXEC);
		if (null_fd < 0) {
			rc = -errno;
			goto out;
		}
	}

	rc = spawn_child(argv, stdin_data ? in_pipe[0] : null_fd, out_pipe[1], err_pipe[1], &pid);
	close_fd(&in_pipe[0]);
	close_fd(&null_fd);
	close_fd(&out_pipe[1]);
	close_fd(&err_pipe[1]);
	if (rc < 0) {
		pid = -1;
		goto out;
	}

	if (stdin_data && stdin_len == 0)
		close_fd(&in_pipe[1]);

	size_t in_off = 0;
	uint64_t start = now_mono_ms();
	uint64_t kill_at = 0; /* when SIGKILL follows SIGTERM */
	bool killed = false;
	while (out_pipe[0] >= 0 || err_pipe[0] >= 0) {
		struct pollfd pfd[3];
		int n = 0, i_out = -1, i_err = -1, i_in = -1;
		if (out_pipe[0] >= 0) {
			i_out = n;
			pfd[n++] = (struct pollfd){.fd = out_pipe[0], .events = POLLIN};
		}
		if (err_pipe[0] >= 0) {
			i_err = n;
			pfd[n++] = (struct pollfd){.fd = err_pipe[0], .events = POLLIN};
		}
		if (in_pipe[1] >= 0) {
			i_in = n;
			pfd[n++] = (struct pollfd){.fd = in_pipe[1], .events = POLLOUT};
		}
		uint64_t now = now_mono_ms();
		int wait_ms;
		if (!res->timed_out) {
			uint64_t deadline = start + (uint64_t)timeout_ms;
			if (now >= deadline) {
				kill(pid, SIGTERM);
				res->timed_out = true;
				kill_at = now + RUNNER_KILL_GRACE_MS;
				/* No more input for a child we are stopping. */
				close_fd(&in_pipe[1]);
				continue;
			}
			wait_ms = (int)(deadline - now);
		} else if (!killed) {
			if (now >= kill_at) {
				kill(pid, SIGKILL);
				killed = true;
				/* Grandchildren may hold the pipes open: stop reading soon. */
				kill_at = now + RUNNER_KILL_GRACE_MS;
				continue;
			}
			wait_ms = (int)(kill_at - now);
		} else {
			if (now >= kill_at)
				break;
			wait_ms = (int)(kill_at - now);
		}
		int pr = poll(pfd, (nfds_t)n, wait_ms);
		if (pr < 0) {
			if (errno == EINTR)
				continue;
			rc = -errno;
			kill(pid, SIGKILL);
			break;
		}
		char buf[16384];
		if (i_out >= 0 && pfd[i_out].revents) {
			ssize_t r = read(out_pipe[0], buf, sizeof(buf));
			if (r > 0) {
				if (capbuf_append(&ob, buf, (size_t)r) < 0)
					rc = -ENOMEM;
			} else if (r == 0 || errno != EINTR) {
				close_fd(&out_pipe[0]);
			}
		}
		if (i_err >= 0 && pfd[i_err].revents) {
			ssize_t r = read(err_pipe[0], buf, sizeof(buf));
			if (r > 0) {
				if (capbuf_append(&eb, buf, (size_t)r) < 0)
					rc = -ENOMEM;
			} else if (r == 0 || errno != EINTR) {
				close_fd(&err_pipe[0]);
			}
		}
		if (i_in >= 0 && in_pipe[1] >= 0 && pfd[i_in].revents) {
			if (pfd[i_in].revents & (POLLERR | POLLHUP)) {
				close_fd(&in_pipe[1]);
			} else {
				ssize_t w = send(in_pipe[1], stdin_data + in_off,
				                 stdin_len - in_off, MSG_NOSIGNAL | MSG_DONTWAIT);
				if (w > 0) {
					in_off += (size_t)w;
					if (in_off >= stdin_len)
						close_fd(&in_pipe[1]);
				} else if (w < 0 && errno != EINTR && errno != EAGAIN) {
					close_fd(&in_pipe[1]);
				}
			}
		}
	}
	close_fd(&in_pipe[1]);

	/* Reap. The pipes closed: the child is exiting (or was killed); bound the wait anyway,
	 * polling from 0.2 ms up to 10 ms (a short command is reaped within a fraction of a ms). */
	long nap_ns = 200 * 1000;
	for (;;) {
		int status;
		pid_t w = waitpid(pid, &status, WNOHANG);
		if (w == pid) {
			if (WIFEXITED(status)) {
				res->exit_status = WEXITSTATUS(status);
				res->term_signal = 0;
			} else if (WIFSIGNALED(status)) {
				res->exit_status = -1;
				res->term_signal = WTERMSIG(status);
			}
			break;
		}
		if (w < 0 && errno != EINTR) {
			if (rc == 0)
				rc = -errno;
			break;
		}
		if (w == 0) {
			uint64_t now = now_mono_ms();
			uint64_t deadline = start + (uint64_t)timeout_ms;
			if (!res->timed_out && now >= deadline) {
				kill(pid, SIGTERM);
				res->timed_out = true;
				kill_at = now + RUNNER_KILL_GRACE_MS;
			} else if (res->timed_out && !killed && now >= kill_at) {
				kill(pid, SIGKILL);
				killed = true;
			}
			struct timespec ts = {0, nap_ns};
			nanosleep(&ts, NULL);
			if (nap_ns < 10 * 1000 * 1000)
				nap_ns *= 2;
		}
	}
	if (res->timed_out)
		res->exit_status = -1;

out:
	close_fd(&in_pipe[0]);
	close_fd(&in_pipe[1]);
	close_fd(&out_pipe[0]);
	close_fd(&out_pipe[1]);
	close_fd(&err_pipe[0]);
	close_fd(&err_pipe[1]);
	close_fd(&null_fd);
	int r1 = capbuf_finish(&ob, &res->out, &res->out_len, &res->out_truncated);
	int r2 = capbuf_finish(&eb, &res->err, &res->err_len, &res->err_truncated);
	free(ob.data);
	free(eb.data);
	if (rc == 0 && (r1 < 0 || r2 < 0))
		rc = -ENOMEM;
	return rc;
}

runner runner_real(void)
{
	return (runner){.run = runner_real_run, .ctx = NULL};
}

int runner_run(const runner *r, const char *const argv[], const char *stdin_data, size_t stdin_len,
               int timeout_ms, runner_result *res)
{
	if (!r || !r->run) {
		runner_result_init(res);
		return -EINVAL;
	}
	return r->run(r->ctx, argv, stdin_data, stdin_len, timeout_ms, res);
}

bool runner_ok(int rc, const runner_result *res)
{
	return rc == 0 && res && !res->timed_out && res->term_signal == 0 && res->exit_status == 0;
}

/* The first non-empty line of text, leading blanks dropped, that does not start with skip
 * (NULL: any): *line and *len, or false when there is none. */
static bool find_line(const char *text, const char *skip, const char **line, size_t *len)
{
	for (const char *p = text; p && *p;) {
		const char *eol = strchr(p, '\n');
		size_t n = eol ? (size_t)(eol - p) : strlen(p);
		const char *b = p;
		while (b < p + n && (*b == ' ' || *b == '\t'))
			b++;
		n -= (size_t)(b - p);
		if (n && (!skip || strncmp(b, skip, strlen(skip)) != 0)) {
			*line = b;
			*len = n;
			return true;
		}
		p = eol ? eol + 1 : NULL;
	}
	return false;
}

static const char *copy_line(const char *line, size_t len, char *out, size_t outlen)
{
	if (outlen == 0)
		return out;
	if (len >= outlen)
		len = outlen - 1;
	memcpy(out, line, len);
	out[len] = '\0';
	return out;
}

const char *runner_first_line(const char *text, char *out, size_t outlen)
{
	const char *line = "";
	size_t len = 0;

	find_line(text, NULL, &line, &len);
	return copy_line(line, len, out, outlen);
}

const char *runner_failure_line(const runner_result *res, char *out, size_t outlen)
{
	const char *srcs[2] = {res->err, res->out};
	const char *line;
	size_t len;

	for (int pass = 0; pass < 2; pass++) {
		for (int k = 0; k < 2; k++) {
			if (find_line(srcs[k], pass == 0 ? "WARNING" : NULL, &line, &len))
				return copy_line(line, len, out, outlen);
		}
	}
	if (res->timed_out)
		snprintf(out, outlen, "timed out");
	else if (res->exit_status < 0)
		snprintf(out, outlen, "killed by signal %d", res->term_signal);
	else
		snprintf(out, outlen, "exit status %d", res->exit_status);
	return out;
}

char *runner_argv_str(const char *const argv[])
{
	size_t cap = 1;
	for (size_t i = 0; argv && argv[i]; i++)
		cap += strlen(argv[i]) * 4 + 3;
	char *s = malloc(cap);
	if (!s)
		return NULL;
	size_t n = 0;
	for (size_t i = 0; argv && argv[i]; i++) {
		const char *a = argv[i];
		if (i)
			s[n++] = ' ';
		bool quote = a[0] == '\0' || strpbrk(a, " \t\n'\"") != NULL;
		if (!quote) {
			size_t l = strlen(a);
			memcpy(s + n, a, l);
			n += l;
			continue;
		}
		s[n++] = '\'';
		for (const char *p = a; *p; p++) {
			if (*p == '\'') {
				/* close, escaped quote, reopen: 'it'\''s' */
				memcpy(s + n, "'\\''", 4);
				n += 4;
			} else {
				s[n++] = *p;
			}
		}
		s[n++] = '\'';
	}
	s[n] = '\0';
	return s;
}

int runner_spawn_detached(const char *path, const char *const argv[], pid_t *pid)
{
	extern char **environ;
	posix_spawn_file_actions_t fa;
	posix_spawnattr_t attr;
	sigset_t none, defs;
	int rc;

	posix_spawn_file_actions_init(&fa);
	posix_spawn_file_actions_addopen(&fa, 0, "/dev/null", O_RDONLY, 0);
	posix_spawn_file_actions_addopen(&fa, 1, "/dev/null", O_WRONLY, 0);
	posix_spawn_file_actions_addclosefrom_np(&fa, 3);
	posix_spawnattr_init(&attr);
	sigemptyset(&none);
	sigfillset(&defs);
	sigdelset(&defs, SIGKILL);
	sigdelset(&defs, SIGSTOP);
	posix_spawnattr_setsigmask(&attr, &none);
	posix_spawnattr_setsigdefault(&attr, &defs);
	posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETSID | POSIX_SPAWN_SETSIGMASK |
	                                        POSIX_SPAWN_SETSIGDEF);
	rc = posix_spawn(pid, path, &fa, &attr, (char *const *)argv, environ);
	posix_spawn_file_actions_destroy(&fa);
	posix_spawnattr_destroy(&attr);
	return -rc;
}
