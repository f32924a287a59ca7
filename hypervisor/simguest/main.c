/* simguest/main.c — xvps-simguest, the "guest" of one sim domain: a child on a pty prints a
 * Linux boot log and a login prompt; this process serves the pty master on the unix socket
 * DIR/sim/NAME.console (one client at a time, last 64 KiB replayed). It must never outlive
 * its own death: the pty child dies with it (PR_SET_PDEATHSIG), and it listens nowhere else.
 *
 * A guest shutting down by itself (what `reboot`, `poweroff` or a kernel panic do in a real
 * guest) is asked for with a signal: SIGUSR1 reboots, SIGUSR2 powers off, SIGQUIT crashes. The
 * guest then leaves DIR/sim/NAME.shutdown ("reboot|poweroff|crash <CLOCK_MONOTONIC ns>") before
 * it exits, and the sim driver keeps the domain preserved, as Xen does with on_* "preserve".
 * SIGTERM is the host's clean shutdown and leaves no record.
 *
 * Usage: xvps-simguest --name NAME --domid N --dir DIR */
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/prctl.h>
#include <sys/signalfd.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <termios.h>
#include <time.h>
#include <unistd.h>

#include "../../common/util.h"
#include "../sim_internal.h"

#define RING_SIZE (64 * 1024)

static struct {
	char buf[RING_SIZE];
	size_t start; /* index of the oldest byte */
	size_t len;
} ring;

static void ring_add(const char *p, size_t n)
{
	if (n >= RING_SIZE) {
		p += n - RING_SIZE;
		n = RING_SIZE;
	}
	for (size_t i = 0; i < n; i++) {
		size_t at = (ring.start + ring.len) % RING_SIZE;
		ring.buf[at] = p[i];
		if (ring.len < RING_SIZE)
			ring.len++;
		else
			ring.start = (ring.start + 1) % RING_SIZE;
	}
}

/* ---- the guest (pty child) --------------------------------------------------------------- */

static volatile sig_atomic_t guest_stop;

static void guest_on_term(int sig)
{
	(void)sig;
	guest_stop = 1;
}

static void say(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static void say(const char *fmt, ...)
{
	char line[512];
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(line, sizeof(line), fmt, ap);
	va_end(ap);
	if (n > 0)
		write_full(1, line, (size_t)n < sizeof(line) ? (size_t)n : sizeof(line) - 1, false);
}

static void guest_power_down(void)
{
	say("[  OK  ] Stopped target multi-user.target - Multi-User System.\n");
	say("[  OK  ] Reached target shutdown.target - System Shutdown.\n");
	say("reboot: Power down\n");
	_exit(0);
}

static void set_echo(bool on)
{
	struct termios t;

	if (tcgetattr(0, &t) != 0)
		return;
	if (on)
		t.c_lflag |= ECHO;
	else
		t.c_lflag &= ~(tcflag_t)ECHO;
	tcsetattr(0, TCSANOW, &t);
}

/* Reads one line from stdin into buf. Returns false on EOF/error or when asked to stop. */
static bool read_line(char *buf, size_t size)
{
	size_t n = 0;

	for (;;) {
		char c;
		ssize_t r = read(0, &c, 1);
		if (guest_stop)
			guest_power_down();
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			return false;
		if (c == '\n' || c == '\r')
			break;
		if (n + 1 < size)
			buf[n++] = c;
	}
	buf[n] = '\0';
	return true;
}

static void guest_main(const char *name, int domid)
{
	struct sigaction sa;
	struct timespec ts = {0, 20 * 1000 * 1000};
	char line[256];

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = guest_on_term; /* no SA_RESTART: read() must see EINTR */
	sigaction(SIGTERM, &sa, NULL);

	say("[    0.000000] Linux version 6.1.0-xvps-sim (debian-kernel@lists.debian.org) "
	    "(gcc-12 (Debian 12.2.0-14) 12.2.0) #1 SMP PREEMPT_DYNAMIC Debian 6.1.0\n");
	say("[    0.000000] Command line: root=/dev/xvda1 ro console=hvc0\n");
	say("[    0.000000] Hypervisor detected: Xen PVH\n");
	say("[    0.000000] Xen version: 4.17 (preserve-AD)\n");
	say("[    0.000000] Booting kernel on Xen PVH, domain %s (domid %d)\n", name, domid);
	say("[    0.104213] xen:events: Using FIFO-based ABI\n");
	say("[    0.523802] blkfront: xvda: flush diskcache: enabled; persistent grants: "
	    "enabled\n");
	say("[    0.534112] xen_netfront: Initialising Xen virtual ethernet driver\n");
	say("[    1.204533] EXT4-fs (xvda1): mounted filesystem with ordered data mode.\n");
	say("[    1.812000] systemd[1]: Hostname set to <%s>.\n", name);
	nanosleep(&ts, NULL);
	say("[  OK  ] Reached target multi-user.target - Multi-User System.\n\n");
	say("Debian GNU/Linux 12 %s hvc0\n\n", name);
	for (;;) {
		if (guest_stop)
			guest_power_down();
		say("%s login: ", name);
		if (!read_line(line, sizeof(line)))
			_exit(0);
		say("Password: ");
		set_echo(false);
		bool ok = read_line(line, sizeof(line));
		set_echo(true);
		if (!ok)
			_exit(0);
		say("\nLogin incorrect\n");
	}
}

/* ---- the console server (parent) --------------------------------------------------------- */

/* Writes DIR/sim/NAME.shutdown atomically: the sim driver reads it once this process is gone. */
static void record_shutdown(const char *dir, const char *name, const char *reason)
{
	char path[512], line[64];
	int n;

	if (snprintf(path, sizeof(path), "%s/sim/%s.shutdown", dir, name) >= (int)sizeof(path))
		return;
	n = snprintf(line, sizeof(line), "%s %llu\n", reason, (unsigned long long)now_mono_ns());
	if (n > 0)
		write_file_atomic(path, line, (size_t)n, 0600);
}

static void usage(void)
{
	fprintf(stderr, "usage: xvps-simguest --name NAME --domid N --dir DIR\n");
}

/* Sends p to the console client; drops the client when it cannot keep up for 1 s. */
static bool client_send(int fd, const char *p, size_t n)
{
	while (n) {
		ssize_t w = send(fd, p, n, MSG_NOSIGNAL | MSG_DONTWAIT);
		if (w < 0) {
			if (errno == EINTR)
				continue;
			if (errno == EAGAIN || errno == EWOULDBLOCK) {
				struct pollfd pf = {.fd = fd, .events = POLLOUT};
				if (poll(&pf, 1, 1000) <= 0)
					return false;
				continue;
			}
			return false;
		}
		p += w;
		n -= (size_t)w;
	}
	return true;
}

static bool replay(int fd)
{
	size_t first = ring.len;

	if (ring.start + ring.len > RING_SIZE)
		first = RING_SIZE - ring.start;
	return client_send(fd, ring.buf + ring.start, first) &&
	       client_send(fd, ring.buf, ring.len - first);
}

int main(int argc, char **argv)
{
	const char *name = NULL, *dir = NULL;
	long domid = -1;
	char sock_path[sizeof(((struct sockaddr_un *)0)->sun_path)];
	struct sockaddr_un sun;
	sigset_t mask;
	int master = -1, lfd = -1, cfd = -1, sfd = -1, rc = 1;
	pid_t parent = getpid(), child;
	bool stopping = false;
	struct timespec stop_at = {0, 0};

	for (int i = 1; i + 1 < argc; i += 2) {
		if (strcmp(argv[i], "--name") == 0)
			name = argv[i + 1];
		else if (strcmp(argv[i], "--domid") == 0)
			domid = strtol(argv[i + 1], NULL, 10);
		else if (strcmp(argv[i], "--dir") == 0)
			dir = argv[i + 1];
	}
	if (!sim_name_ok(name) || !dir || domid < 0 || domid > 65535 || (argc - 1) % 2 != 0) {
		usage();
		return 2;
	}
	if (snprintf(sock_path, sizeof(sock_path), "%s/sim/%s.console", dir, name) >=
	    (int)sizeof(sock_path)) {
		fprintf(stderr, "xvps-simguest: console socket path too long\n");
		return 2;
	}

	/* Signals arrive through a signalfd, so the poll loop sees them in order. */
	sigemptyset(&mask);
	sigaddset(&mask, SIGTERM);
	sigaddset(&mask, SIGINT);
	sigaddset(&mask, SIGHUP);
	sigaddset(&mask, SIGCHLD);
	sigaddset(&mask, SIGUSR1);
	sigaddset(&mask, SIGUSR2);
	sigaddset(&mask, SIGQUIT);
	sigprocmask(SIG_BLOCK, &mask, NULL);
	signal(SIGPIPE, SIG_IGN);
	sfd = signalfd(-1, &mask, SFD_CLOEXEC);

	master = posix_openpt(O_RDWR | O_NOCTTY | O_CLOEXEC);
	if (master < 0 || grantpt(master) != 0 || unlockpt(master) != 0 || !ptsname(master)) {
		perror("xvps-simguest: pty");
		return 1;
	}
	child = fork();
	if (child < 0) {
		perror("xvps-simguest: fork");
		return 1;
	}
	if (child == 0) {
		sigset_t none;
		const char *slave_name = ptsname(master);
		int slave;

		prctl(PR_SET_PDEATHSIG, SIGKILL);
		if (getppid() != parent)
			_exit(0);
		sigemptyset(&none);
		sigprocmask(SIG_SETMASK, &none, NULL);
		signal(SIGPIPE, SIG_DFL);
		setsid();
		slave = open(slave_name, O_RDWR); /* first tty opened: the controlling tty */
		if (slave < 0)
			_exit(1);
		ioctl(slave, TIOCSCTTY, 0);
		dup2(slave, 0);
		dup2(slave, 1);
		dup2(slave, 2);
		if (slave > 2)
			close(slave);
		close(master);
		close(sfd);
		guest_main(name, (int)domid);
		_exit(0);
	}

	unlink(sock_path);
	lfd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	memset(&sun, 0, sizeof(sun));
	sun.sun_family = AF_UNIX;
	memcpy(sun.sun_path, sock_path, strlen(sock_path) + 1);
	mode_t old = umask(0117);
	if (lfd < 0 || bind(lfd, (struct sockaddr *)&sun, sizeof(sun)) != 0 ||
	    listen(lfd, 4) != 0) {
		umask(old);
		perror("xvps-simguest: console socket");
		kill(child, SIGKILL);
		waitpid(child, NULL, 0);
		return 1;
	}
	umask(old);

	for (;;) {
		struct pollfd pf[4];
		char buf[4096];
		int n = 0, timeout = -1;

		pf[n++] = (struct pollfd){.fd = sfd, .events = POLLIN};
		pf[n++] = (struct pollfd){.fd = master, .events = POLLIN};
		pf[n++] = (struct pollfd){.fd = lfd, .events = POLLIN};
		if (cfd >= 0)
			pf[n++] = (struct pollfd){.fd = cfd, .events = POLLIN};
		if (stopping) {
			struct timespec now;
			clock_gettime(CLOCK_MONOTONIC, &now);
			long ms = (stop_at.tv_sec - now.tv_sec) * 1000 +
			          (stop_at.tv_nsec - now.tv_nsec) / 1000000;
			if (ms <= 0)
				break;
			timeout = (int)ms;
		}
		if (poll(pf, (nfds_t)n, timeout) < 0) {
			if (errno == EINTR)
				continue;
			break;
		}
		if (pf[0].revents & POLLIN) {
			struct signalfd_siginfo si;
			if (read(sfd, &si, sizeof(si)) == (ssize_t)sizeof(si)) {
				if (si.ssi_signo == SIGCHLD) {
					if (waitpid(child, NULL, WNOHANG) == child) {
						child = -1;
						rc = stopping ? 0 : 1;
					}
				} else if (si.ssi_signo == SIGQUIT && !stopping) {
					/* A crash: no last words. */
					record_shutdown(dir, name, "crash");
					rc = 0;
					break;
				} else if (!stopping) {
					if (si.ssi_signo == SIGUSR1)
						record_shutdown(dir, name, "reboot");
					else if (si.ssi_signo == SIGUSR2)
						record_shutdown(dir, name, "poweroff");
					/* Clean power-off: let the guest print its last words, at
					 * most 2 s. */
					stopping = true;
					kill(child, SIGTERM);
					clock_gettime(CLOCK_MONOTONIC, &stop_at);
					stop_at.tv_sec += 2;
					rc = 0;
				}
			}
		}
		if (pf[1].revents & (POLLIN | POLLHUP | POLLERR)) {
			ssize_t r = read(master, buf, sizeof(buf));
			if (r > 0) {
				ring_add(buf, (size_t)r);
				if (cfd >= 0 && !client_send(cfd, buf, (size_t)r)) {
					close(cfd);
					cfd = -1;
				}
			} else if (r == 0 || (errno != EINTR && errno != EAGAIN)) {
				/* The guest side is gone (EIO): the domain is off. */
				break;
			}
		}
		if (pf[2].revents & POLLIN) {
			int nfd = accept4(lfd, NULL, NULL, SOCK_CLOEXEC);
			if (nfd >= 0) {
				/* One viewer at a time: the newest one wins. */
				if (cfd >= 0)
					close(cfd);
				cfd = nfd;
				if (!replay(cfd)) {
					close(cfd);
					cfd = -1;
				}
			}
		}
		if (cfd >= 0 && n == 4 && (pf[3].revents & (POLLIN | POLLHUP | POLLERR))) {
			ssize_t r = recv(cfd, buf, sizeof(buf), 0);
			if (r > 0) {
				if (!stopping)
					write_full(master, buf, (size_t)r, false);
			} else if (r == 0 || errno != EINTR) {
				close(cfd);
				cfd = -1;
			}
		}
	}

	if (cfd >= 0)
		close(cfd);
	close(lfd);
	unlink(sock_path);
	if (child > 0) {
		kill(child, SIGKILL);
		waitpid(child, NULL, 0);
	}
	close(master);
	close(sfd);
	return rc;
}
