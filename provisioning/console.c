/* console.c — the agent's console servers (console.h). Each xvps-console is a child of the
 * agent started with posix_spawn (it is long-lived, so not through the command runner, which
 * waits for its children): own session, stdio on /dev/null but stderr (the agent's log),
 * default signals, no inherited fds. A waiter thread per child reaps it the moment it exits,
 * so the pid we signal is always our unreaped child, never a recycled one. */
#include "console.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <spawn.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "../common/runner.h"
#include "../common/util.h"
#include "../common/validate.h"

#define SUN_MAX (sizeof(((struct sockaddr_un *)0)->sun_path))

/* xvps-console's absolute path, and the sockets' directory (a socket path must still fit in
 * SUN_MAX: consrv_open refuses one that does not). */
#define CONSOLE_BIN_LEN 256
#define CONSOLE_DIR_LEN ((size_t)200)

typedef struct con {
	char name[64];
	pid_t pid;
	int domid;       /* the run of the domain it serves */
	bool alive;      /* started and not yet reaped */
	bool has_waiter; /* a waiter thread exists and is not joined */
	pthread_t waiter;
	struct con *next;
} con;

static struct {
	pthread_mutex_t lock;
	pthread_cond_t reaped;
	bool on;
	char bin[CONSOLE_BIN_LEN], dir[CONSOLE_DIR_LEN];
	uid_t uid;
	con *list;
} M = {.lock = PTHREAD_MUTEX_INITIALIZER, .reaped = PTHREAD_COND_INITIALIZER};

static int fail(vps_err *e, const char *code, int rc, const char *fmt, ...)
        __attribute__((format(printf, 4, 5)));
static int fail(vps_err *e, const char *code, int rc, const char *fmt, ...)
{
	va_list ap;

	e->code = code;
	e->field[0] = '\0';
	va_start(ap, fmt);
	vsnprintf(e->msg, sizeof(e->msg), fmt, ap);
	va_end(ap);
	return rc;
}

int consrv_init(const char *bin, const char *sock_dir, uid_t panel_uid, char *err, size_t errlen)
{
	char dir[CONSOLE_DIR_LEN];
	struct stat st;

	if (!bin || bin[0] != '/' || !sock_dir || sock_dir[0] != '/' ||
	    !sfmt(dir, sizeof(dir), "%s", sock_dir)) {
		snprintf(err, errlen,
		         "console: program and socket directory must be absolute paths (the "
		         "directory at most %zu bytes)",
		         CONSOLE_DIR_LEN - 1);
		return -EINVAL;
	}
	if (access(bin, X_OK) != 0) {
		int rc = -errno;
		snprintf(err, errlen, "console: cannot run %s: %s", bin, strerror(-rc));
		return rc;
	}
	int rc = mkdir_p(dir, 0711);
	if (rc) {
		snprintf(err, errlen, "console: cannot create %s: %s", dir, strerror(-rc));
		return rc;
	}
	/* Ours, a real directory, and traversable (not listable) by the panel's uid. */
	if (lstat(dir, &st) != 0 || !S_ISDIR(st.st_mode) || st.st_uid != geteuid() ||
	    chmod(dir, 0711) != 0) {
		snprintf(err, errlen, "console: %s must be a directory owned by uid %u", dir,
		         (unsigned)geteuid());
		return -EPERM;
	}
	pthread_mutex_lock(&M.lock);
	snprintf(M.bin, sizeof(M.bin), "%s", bin);
	snprintf(M.dir, sizeof(M.dir), "%s", dir);
	M.uid = panel_uid;
	M.on = true;
	pthread_mutex_unlock(&M.lock);
	return 0;
}

static void *waiter_main(void *arg)
{
	con *c = arg;
	int status = 0;
	pid_t r;

	do
		r = waitpid(c->pid, &status, 0);
	while (r < 0 && errno == EINTR);
	pthread_mutex_lock(&M.lock);
	c->alive = false;
	pthread_cond_broadcast(&M.reaped);
	pthread_mutex_unlock(&M.lock);
	if (r == c->pid && WIFSIGNALED(status))
		log_info("console server of %s (pid %d) ended by signal %d", c->name, (int)c->pid,
		         WTERMSIG(status));
	else
		log_info("console server of %s (pid %d) exited with status %d", c->name,
		         (int)c->pid, r == c->pid ? WEXITSTATUS(status) : -1);
	return NULL;
}

/* Waits (M.lock held) until c is reaped or deadline (CLOCK_REALTIME) passes. */
static bool wait_reaped(con *c, const struct timespec *deadline)
{
	while (c->alive)
		if (pthread_cond_timedwait(&M.reaped, &M.lock, deadline) == ETIMEDOUT)
			return !c->alive;
	return true;
}

static void deadline_in(struct timespec *ts, int ms)
{
	clock_gettime(CLOCK_REALTIME, ts);
	ts->tv_sec += ms / 1000;
	ts->tv_nsec += (long)(ms % 1000) * 1000000L;
	if (ts->tv_nsec >= 1000000000L) {
		ts->tv_sec++;
		ts->tv_nsec -= 1000000000L;
	}
}

/* Stops c (M.lock held): SIGTERM, SIGKILL after grace_ms, then waits for the reap. */
static void stop_one(con *c, int grace_ms)
{
	struct timespec dl;

	if (!c->alive)
		return;
	kill(c->pid, SIGTERM);
	deadline_in(&dl, grace_ms);
	if (!wait_reaped(c, &dl)) {
		kill(c->pid, SIGKILL);
		while (c->alive)
			pthread_cond_wait(&M.reaped, &M.lock);
	}
}

/* Joins a finished waiter (M.lock held; the waiter has released the lock for good once it
 * marked the child dead, apart from its log line). */
static void join_waiter(con *c)
{
	if (c->has_waiter && !c->alive) {
		pthread_mutex_unlock(&M.lock);
		pthread_join(c->waiter, NULL);
		pthread_mutex_lock(&M.lock);
		c->has_waiter = false;
	}
}

static bool is_socket(const char *path)
{
	struct stat st;

	return lstat(path, &st) == 0 && S_ISSOCK(st.st_mode);
}

/* posix_spawn of xvps-console for c (M.lock held). Returns 0 or -errno (the spawn error). */
static int spawn(con *c, const char *src, const char *sock)
{
	char uid_s[16];
	const char *argv[] = {M.bin,      "--name", c->name, "--source", src,
	                      "--listen", sock,     "--uid", uid_s,      NULL};
	int rc;

	snprintf(uid_s, sizeof(uid_s), "%u", (unsigned)M.uid);
	rc = runner_spawn_detached(M.bin, argv, &c->pid);
	if (rc)
		return rc;
	c->alive = true;
	if (pthread_create(&c->waiter, NULL, waiter_main, c) != 0) {
		/* Cannot reap it asynchronously: do not let it live unwatched. */
		kill(c->pid, SIGKILL);
		waitpid(c->pid, NULL, 0);
		c->alive = false;
		return -EAGAIN;
	}
	c->has_waiter = true;
	return 0;
}

static con *find_or_add(const char *name)
{
	con *c;

	for (c = M.list; c; c = c->next)
		if (strcmp(c->name, name) == 0)
			return c;
	c = calloc(1, sizeof(*c));
	if (!c)
		return NULL;
	snprintf(c->name, sizeof(c->name), "%s", name);
	c->next = M.list;
	M.list = c;
	return c;
}

int consrv_open(hv_driver *hv, const char *name, char *sock_out, size_t sock_len, pid_t *pid_out,
                vps_err *e)
{
	char src[300], sock[SUN_MAX], herr[HV_ERRLEN] = "";
	const char *why = NULL;
	hv_domain_info info;
	struct timespec ts = {0, 10 * 1000 * 1000};
	uint64_t deadline;
	con *c;
	int rc;

	if (!valid_domain_name(name, &why)) {
		fail(e, "invalid", -EINVAL, "name %s", why ? why : "is not a domain name");
		snprintf(e->field, sizeof(e->field), "name");
		return -EINVAL;
	}
	rc = hv->ops->info(hv, name, &info, herr);
	if (rc)
		return fail(e, "host", rc, "%s: %s", name, herr);
	if (info.state != HV_RUNNING)
		return fail(e, "conflict", -ESRCH, "the domain is not running");
	if (!hv->ops->console_source)
		return fail(e, "host", -ENOTSUP, "the %s driver has no consoles", hv->ops->name);
	rc = hv->ops->console_source(hv, name, src, sizeof(src), herr);
	if (rc == -ESRCH)
		return fail(e, "conflict", rc, "the domain is not running");
	if (rc)
		return fail(e, "host", rc, "console of %s: %s", name, herr);
	if (strncmp(src, "unix:/", 6) != 0 && strncmp(src, "pty:/dev/pts/", 13) != 0 &&
	    strncmp(src, "vnc:127.0.0.1:", 14) != 0)
		return fail(e, "host", -EPROTO, "console of %s: unexpected source", name);

	pthread_mutex_lock(&M.lock);
	if (!M.on) {
		pthread_mutex_unlock(&M.lock);
		return fail(e, "host", -ENOTSUP, "console servers are not enabled on this agent");
	}
	if (!sfmt(sock, sizeof(sock) - 4, "%s/%s.sock", M.dir, name)) { /* 4: ".tmp" */
		pthread_mutex_unlock(&M.lock);
		return fail(e, "host", -ENAMETOOLONG, "console socket path too long");
	}
	c = find_or_add(name);
	if (!c) {
		pthread_mutex_unlock(&M.lock);
		return fail(e, "host", -ENOMEM, "out of memory");
	}
	if (c->alive && c->domid == info.domid && is_socket(sock)) {
		*pid_out = c->pid;
		pthread_mutex_unlock(&M.lock);
		return sfmt(sock_out, sock_len, "%s", sock)
		               ? 0
		               : fail(e, "host", -ENOSPC, "socket path buffer too small");
	}
	if (c->alive) {
		log_info("console server of %s (pid %d) serves domid %d, not %d: replacing it",
		         name, (int)c->pid, c->domid, info.domid);
		stop_one(c, 2000);
	}
	join_waiter(c);
	if (is_socket(sock))
		unlink(sock); /* left by a killed server: never hand out a dead socket */
	c->domid = info.domid;
	rc = spawn(c, src, sock);
	if (rc) {
		pthread_mutex_unlock(&M.lock);
		return fail(e, "host", rc, "cannot start %s: %s", M.bin, strerror(-rc));
	}
	pid_t pid = c->pid;
	pthread_mutex_unlock(&M.lock);

	deadline = now_mono_ns() + (uint64_t)CONSOLE_START_TIMEOUT_MS * 1000000u;
	for (;;) {
		bool alive;
		pthread_mutex_lock(&M.lock);
		alive = c->alive;
		pthread_mutex_unlock(&M.lock);
		if (!alive)
			return fail(
			        e, "host", -ECHILD,
			        "the console server of %s exited at start (see the agent's log)",
			        name);
		if (is_socket(sock))
			break;
		if (now_mono_ns() >= deadline) {
			pthread_mutex_lock(&M.lock);
			stop_one(c, 0);
			pthread_mutex_unlock(&M.lock);
			return fail(e, "host", -ETIMEDOUT,
			            "the console server of %s did not open its socket in %d s",
			            name, CONSOLE_START_TIMEOUT_MS / 1000);
		}
		nanosleep(&ts, NULL);
	}
	log_info("console server of %s started (pid %d, %s, %s)", name, (int)pid, src, sock);
	*pid_out = pid;
	return sfmt(sock_out, sock_len, "%s", sock)
	               ? 0
	               : fail(e, "host", -ENOSPC, "socket path buffer too small");
}

void consrv_stop_all(void)
{
	struct timespec dl;
	con *list;

	pthread_mutex_lock(&M.lock);
	M.on = false;
	for (con *c = M.list; c; c = c->next)
		if (c->alive)
			kill(c->pid, SIGTERM);
	deadline_in(&dl, 3000);
	for (con *c = M.list; c; c = c->next) {
		if (!wait_reaped(c, &dl)) {
			log_warn("console server of %s (pid %d) ignores SIGTERM: killing it",
			         c->name, (int)c->pid);
			kill(c->pid, SIGKILL);
			while (c->alive)
				pthread_cond_wait(&M.reaped, &M.lock);
		}
	}
	list = M.list;
	M.list = NULL;
	pthread_mutex_unlock(&M.lock);
	while (list) {
		con *c = list;
		list = c->next;
		if (c->has_waiter)
			pthread_join(c->waiter, NULL);
		free(c);
	}
}
