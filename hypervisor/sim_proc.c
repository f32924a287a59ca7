/* sim_proc.c — the sim driver's guest processes (see sim.c): each running domain is an
 * xvps-simguest child. It never signals a process that is not the simguest of that domain, and
 * never reaps a child it did not spawn. */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <spawn.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "sim_internal.h"

#define errf(err, ...) errfmt(err, HV_ERRLEN, __VA_ARGS__)

/* ---- children table --------------------------------------------------------------------- */

static void child_add(hv_driver *d, pid_t pid)
{
	sim_priv *p = P(d);

	pthread_mutex_lock(&p->lock);
	if (p->n_children == p->cap_children) {
		size_t ncap = p->cap_children ? p->cap_children * 2 : 16;
		pid_t *n = realloc(p->children, ncap * sizeof(*n));
		if (n) {
			p->children = n;
			p->cap_children = ncap;
		}
	}
	if (p->n_children < p->cap_children)
		p->children[p->n_children++] = pid;
	pthread_mutex_unlock(&p->lock);
}

/* Reaps pid when it is one of our own children and has exited. Returns true when pid is our
 * child and is now gone (reaped), false when it is not ours or still running. A pid in the
 * table cannot have been reused, since it stays unreaped until we reap it here. */
static bool child_reap(hv_driver *d, pid_t pid, bool *ours)
{
	sim_priv *p = P(d);
	bool gone = false;

	*ours = false;
	pthread_mutex_lock(&p->lock);
	for (size_t i = 0; i < p->n_children; i++) {
		if (p->children[i] != pid)
			continue;
		*ours = true;
		pid_t r = waitpid(pid, NULL, WNOHANG);
		if (r == pid || (r < 0 && errno == ECHILD)) {
			p->children[i] = p->children[--p->n_children];
			gone = true;
		}
		break;
	}
	pthread_mutex_unlock(&p->lock);
	return gone;
}

/* True when pid is alive and is the simguest of this domain: its argv holds "--name NAME".
 * A zombie has an empty cmdline, so it does not count. */
bool sim_guest_is(pid_t pid, const char *name)
{
	char path[64], buf[1024];
	ssize_t n;
	int fd;

	if (pid <= 1)
		return false;
	snprintf(path, sizeof(path), "/proc/%d/cmdline", (int)pid);
	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return false;
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n <= 0)
		return false;
	buf[n] = '\0';
	for (char *a = buf; a < buf + n; a += strlen(a) + 1) {
		char *next = a + strlen(a) + 1;
		if (strcmp(a, "--name") == 0 && next < buf + n && strcmp(next, name) == 0)
			return true;
	}
	return false;
}

bool sim_guest_alive(hv_driver *d, pid_t pid, const char *name)
{
	bool ours;

	if (pid <= 0)
		return false;
	if (child_reap(d, pid, &ours))
		return false;
	return sim_guest_is(pid, name);
}

/* Waits up to timeout_ms for the guest to be gone. */
static bool wait_gone(hv_driver *d, pid_t pid, const char *name, int timeout_ms)
{
	uint64_t deadline = now_mono_ns() + (uint64_t)timeout_ms * 1000000ull;
	struct timespec ts = {0, 10 * 1000 * 1000};

	for (;;) {
		if (!sim_guest_alive(d, pid, name)) {
			/* It may have exited between the reap and the cmdline check: a zombie
			 * child of ours is reaped here, so no /proc entry outlives "gone". */
			bool ours;
			if (child_reap(d, pid, &ours) || !ours)
				return true;
		}
		if (now_mono_ns() >= deadline)
			return false;
		nanosleep(&ts, NULL);
	}
}

/* Stops the guest: sig first, after grace_ms SIGKILL. Returns 0 or -ETIMEDOUT. */
int sim_stop_guest(hv_driver *d, pid_t pid, const char *name, int sig, int grace_ms)
{
	if (!sim_guest_alive(d, pid, name))
		return 0;
	if (sig != SIGKILL) {
		kill(pid, sig);
		if (wait_gone(d, pid, name, grace_ms))
			return 0;
	}
	if (sim_guest_is(pid, name))
		kill(pid, SIGKILL);
	return wait_gone(d, pid, name, 5000) ? 0 : -ETIMEDOUT;
}

/* Starts the simguest detached (own session and process group, stdio on /dev/null, default
 * signal dispositions and an empty mask whatever the agent's threads block) and waits until
 * its console socket exists. */
int sim_spawn_guest(hv_driver *d, const char *name, int domid, pid_t *pid_out, char *err)
{
	sim_priv *p = P(d);
	char domid_s[16], sock[SIM_PATH_LEN];
	const char *argv[] = {p->guest_path, "--name", name,         "--domid",
	                      domid_s,       "--dir",  d->state_dir, NULL};
	pid_t pid;
	int rc;
	struct timespec ts = {0, 10 * 1000 * 1000};
	uint64_t deadline;
	struct stat st;

	snprintf(domid_s, sizeof(domid_s), "%d", domid);
	if (!state_path(d, name, ".console", sock, sizeof(sock)))
		return sim_path_too_long(err, name);
	unlink(sock);
	/* stderr stays the agent's: a sanitizer report from a guest reaches the agent's log. */
	rc = runner_spawn_detached(p->guest_path, argv, &pid);
	if (rc) {
		errf(err, "cannot start %s: %s", p->guest_path, strerror(-rc));
		return rc;
	}
	child_add(d, pid);
	deadline = now_mono_ns() + 5000000000ull;
	for (;;) {
		bool ours;
		if (child_reap(d, pid, &ours)) {
			errf(err, "%s exited at start (is it a valid xvps-simguest?)",
			     p->guest_path);
			return -ECHILD;
		}
		if (stat(sock, &st) == 0 && S_ISSOCK(st.st_mode))
			break;
		if (now_mono_ns() >= deadline) {
			sim_stop_guest(d, pid, name, SIGKILL, 0);
			errf(err, "simguest of %s did not open its console", name);
			return -ETIMEDOUT;
		}
		nanosleep(&ts, NULL);
	}
	*pid_out = pid;
	return 0;
}
