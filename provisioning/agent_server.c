/* agent_server.c — the socket server of xvps-agent: binds the unix socket, admits only root
 * and the panel's uid (SO_PEERCRED; a rejected peer gets no answer), runs one thread per
 * connection reading framed JSON requests (common/agent_proto.h) into agent_handle (agent.c). */
#include "agent.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "../common/agent_proto.h"
#include "../common/util.h"
#include "agent_internal.h"
#include "console.h"

/* ---- connections ------------------------------------------------------------------------- */

typedef struct conn_arg {
	agent *a;
	int fd;
	int slot;
} conn_arg;

static void *conn_main(void *p)
{
	conn_arg *c = p;
	agent *a = c->a;

	for (;;) {
		json_object *req = NULL, *resp;
		int rc = agent_recv(c->fd, a->cfg.recv_timeout_ms, &req);

		if (rc == -EPROTO) {
			/* The stream's framing cannot be trusted any more: answer, then close. */
			resp = agent_reply_err("invalid", NULL,
			                       "malformed message (bad length or JSON)");
			agent_send(c->fd, resp);
			json_object_put(resp);
			log_warn("closing a connection after a malformed message");
			break;
		}
		if (rc)
			break; /* EOF, idle timeout, or stop */
		resp = agent_handle(a, req);
		json_object_put(req);
		rc = agent_send(c->fd, resp);
		json_object_put(resp);
		if (rc)
			break;
	}
	int fd = c->fd, slot = c->slot;

	free(c);
	pthread_mutex_lock(&a->lock);
	a->conns[slot] = -1;
	close(fd);
	a->n_active--;
	pthread_cond_broadcast(&a->cond);
	pthread_mutex_unlock(&a->lock); /* agent_stop may free a right after this */
	return NULL;
}

static void admit(agent *a, int fd)
{
	struct ucred cred;
	socklen_t len = sizeof(cred);
	pthread_attr_t attr;
	pthread_t t;
	conn_arg *c;
	int slot = -1;

	if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &len) != 0) {
		log_warn("rejected a connection: SO_PEERCRED failed: %s", strerror(errno));
		close(fd);
		return;
	}
	if (cred.uid != 0 && cred.uid != a->cfg.panel_uid) {
		log_warn("rejected a connection from uid %u pid %d (allowed: uid %u and root)",
		         (unsigned)cred.uid, (int)cred.pid, (unsigned)a->cfg.panel_uid);
		close(fd);
		return;
	}
	c = calloc(1, sizeof(*c));
	pthread_mutex_lock(&a->lock);
	for (int i = 0; c && i < a->cfg.max_conns; i++) {
		if (a->conns[i] < 0) {
			slot = i;
			break;
		}
	}
	if (slot < 0 || a->stopping) {
		pthread_mutex_unlock(&a->lock);
		log_warn("rejected a connection from pid %d: %s", (int)cred.pid,
		         c ? "too many connections" : "out of memory");
		free(c);
		close(fd);
		return;
	}
	a->conns[slot] = fd;
	a->n_active++;
	pthread_mutex_unlock(&a->lock);
	c->a = a;
	c->fd = fd;
	c->slot = slot;
	pthread_attr_init(&attr);
	pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
	if (pthread_create(&t, &attr, conn_main, c) != 0) {
		pthread_mutex_lock(&a->lock);
		a->conns[slot] = -1;
		a->n_active--;
		pthread_cond_broadcast(&a->cond);
		pthread_mutex_unlock(&a->lock);
		log_warn("rejected a connection: cannot start a thread");
		close(fd);
		free(c);
	}
	pthread_attr_destroy(&attr);
}

static void *accept_main(void *p)
{
	agent *a = p;

	for (;;) {
		struct pollfd pf[2] = {{.fd = a->lfd, .events = POLLIN},
		                       {.fd = a->wake[0], .events = POLLIN}};
		if (poll(pf, 2, -1) < 0) {
			if (errno == EINTR)
				continue;
			log_error("accept loop: poll: %s", strerror(errno));
			break;
		}
		if (pf[1].revents)
			break;
		if (pf[0].revents & POLLIN) {
			int fd = accept4(a->lfd, NULL, NULL, SOCK_CLOEXEC);
			if (fd < 0) {
				if (errno != EINTR && errno != EAGAIN && errno != ECONNABORTED)
					log_warn("accept: %s", strerror(errno));
				continue;
			}
			admit(a, fd);
		}
	}
	return NULL;
}

static void agent_free(agent *a)
{
	if (a->lfd >= 0)
		close(a->lfd);
	if (a->wake[0] >= 0)
		close(a->wake[0]);
	if (a->wake[1] >= 0)
		close(a->wake[1]);
	for (int i = 0; i < NAME_LOCKS; i++)
		pthread_mutex_destroy(&a->names[i].m);
	pthread_rwlock_destroy(&a->reconcile_lock);
	pthread_cond_destroy(&a->cond);
	pthread_mutex_destroy(&a->lock);
	free(a->conns);
	free(a);
}

int agent_start(const agent_config *cfg, vps_ctx *vps, agent **out, char *err, size_t errlen)
{
	struct sockaddr_un sun;
	struct stat st;
	agent *a;
	mode_t old;
	int rc;

	*out = NULL;
	a = calloc(1, sizeof(*a));
	if (!a)
		return -ENOMEM;
	a->cfg = *cfg;
	if (a->cfg.recv_timeout_ms <= 0)
		a->cfg.recv_timeout_ms = 30000;
	if (a->cfg.max_conns <= 0)
		a->cfg.max_conns = 64;
	a->vps = vps;
	a->lfd = a->wake[0] = a->wake[1] = -1;
	pthread_mutex_init(&a->lock, NULL);
	pthread_cond_init(&a->cond, NULL);
	pthread_rwlock_init(&a->reconcile_lock, NULL);
	for (int i = 0; i < NAME_LOCKS; i++)
		pthread_mutex_init(&a->names[i].m, NULL);
	a->conns = malloc((size_t)a->cfg.max_conns * sizeof(*a->conns));
	if (!a->conns) {
		agent_free(a);
		return -ENOMEM;
	}
	for (int i = 0; i < a->cfg.max_conns; i++)
		a->conns[i] = -1;

	memset(&sun, 0, sizeof(sun));
	sun.sun_family = AF_UNIX;
	if (strlen(cfg->sock_path) == 0 || strlen(cfg->sock_path) >= sizeof(sun.sun_path)) {
		snprintf(err, errlen, "socket path must be 1..107 bytes");
		agent_free(a);
		return -ENAMETOOLONG;
	}
	memcpy(sun.sun_path, cfg->sock_path, strlen(cfg->sock_path) + 1);
	if (lstat(cfg->sock_path, &st) == 0) {
		if (!S_ISSOCK(st.st_mode)) {
			snprintf(err, errlen, "%s exists and is not a socket", cfg->sock_path);
			agent_free(a);
			return -EEXIST;
		}
		unlink(cfg->sock_path); /* stale socket of an earlier run */
	}
	if (pipe2(a->wake, O_CLOEXEC) != 0) {
		rc = -errno;
		snprintf(err, errlen, "pipe: %s", strerror(-rc));
		agent_free(a);
		return rc;
	}
	a->lfd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (a->lfd < 0) {
		rc = -errno;
		snprintf(err, errlen, "socket: %s", strerror(-rc));
		agent_free(a);
		return rc;
	}
	old = umask(0117); /* the socket is born 0660: never a window with wider access */
	rc = bind(a->lfd, (struct sockaddr *)&sun, sizeof(sun));
	umask(old);
	if (rc != 0 || listen(a->lfd, 64) != 0) {
		rc = -errno;
		snprintf(err, errlen, "cannot listen on %s: %s", cfg->sock_path, strerror(-rc));
		unlink(cfg->sock_path);
		agent_free(a);
		return rc;
	}
	if (geteuid() == 0 && cfg->panel_uid != 0) {
		/* Let the panel's group reach the socket; SO_PEERCRED still decides. */
		struct passwd pw, *res = NULL;
		char buf[4096];
		if (getpwuid_r(cfg->panel_uid, &pw, buf, sizeof(buf), &res) == 0 && res &&
		    chown(cfg->sock_path, 0, pw.pw_gid) != 0)
			log_warn("cannot chown %s: %s", cfg->sock_path, strerror(errno));
	}
	rc = pthread_create(&a->accept_thread, NULL, accept_main, a);
	if (rc) {
		snprintf(err, errlen, "cannot start the accept thread: %s", strerror(rc));
		unlink(cfg->sock_path);
		agent_free(a);
		return -rc;
	}
	*out = a;
	return 0;
}

void agent_stop(agent *a)
{
	char c = 1;

	if (!a)
		return;
	pthread_mutex_lock(&a->lock);
	a->stopping = true;
	pthread_mutex_unlock(&a->lock);
	if (write(a->wake[1], &c, 1) != 1)
		log_warn("agent_stop: cannot wake the accept thread");
	pthread_join(a->accept_thread, NULL);
	close(a->lfd);
	a->lfd = -1;
	unlink(a->cfg.sock_path);

	/* Wake idle connections (their recv sees EOF); busy ones finish their request. */
	pthread_mutex_lock(&a->lock);
	for (int i = 0; i < a->cfg.max_conns; i++)
		if (a->conns[i] >= 0)
			shutdown(a->conns[i], SHUT_RD);
	while (a->n_active > 0)
		pthread_cond_wait(&a->cond, &a->lock);
	pthread_mutex_unlock(&a->lock);
	consrv_stop_all(); /* no request runs any more: the console servers go too */
	agent_free(a);
}
