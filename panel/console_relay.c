/* console_relay.c — one thread per open browser console: WebSocket frames (wslay, server side)
 * on the upgraded HTTP connection <-> raw RFB bytes on the console server's unix socket.
 * Binary messages only, at most CONSOLE_MAX_MSG each (a bigger one: close 1009; a text frame:
 * close 1003); wslay answers pings and close frames. What the browser sends must be RFB a viewer
 * may send (common/rfbfilter.h, the same allowlist xvps-console applies again): anything else
 * closes the console (1008) and is audited as console.refused "rfb: <why>"; clipboard text over
 * 4 KiB is dropped and audited once per console. A browser silent for XVPS_CONSOLE_PING
 * seconds gets a ping; silent for as long again, its connection is taken as lost and the
 * console closes, so a sleeping laptop does not hold one of its user's console slots. Both sockets
 * are non-blocking under one poll(); each direction stops reading while the other side's backlog is
 * above RELAY_HIGH_WATER, so a slow peer slows its source instead of growing memory. Relays are
 * tracked: a user holds at most CONSOLE_MAX_PER_USER, and xvpsd's stop closes them all (1001)
 * before libmicrohttpd stops. The upgraded socket is MHD's: it is never close()d here, only
 * handed back once with http_upgrade_close(). */
#include <errno.h>
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <unistd.h>
#include <wslay/wslay.h>

#include "../common/rfbfilter.h"
#include "../common/util.h"
#include "audit.h"
#include "config.h"
#include "console.h"
#include "console_relay.h"
#include "http.h"

#define RELAY_HIGH_WATER (256 * 1024) /* backlog per direction before reading pauses */
#define RELAY_CHUNK      (64 * 1024)  /* console bytes per WebSocket message */
#define NS_PER_MS        1000000LL
#define RELAY_LINGER_NS  (2000 * NS_PER_MS) /* after our close frame: wait for the client's FIN */
#define RELAY_STOP_NS    (1000 * NS_PER_MS) /* xvpsd stopping: time to say goodbye */
#define RELAY_DRAIN_BUF  4096               /* bytes read per recv() while lingering */
#define RELAY_DRAIN_MAX  (1024 * 1024)

enum relay_state { RELAY_PENDING, RELAY_RUNNING, RELAY_FINISHED };

struct wsrelay {
	wsrelay *next;
	enum relay_state state; /* under g_mu */
	int64_t user_id, vps_id;
	char username[AUTH_USERNAME_MAX],
	        ip[HTTP_IP_MAX]; /* for audit rows written from the relay thread */
	rfb_filter filter;       /* the browser's RFB, checked before the console server */
	unsigned cuts_audited;   /* oversized clipboard texts already audited */
	pthread_t thread;
	int vnc_fd;  /* the console server's unix socket */
	int ws_fd;   /* the upgraded HTTP connection (MHD's) */
	int wake_fd; /* eventfd: xvpsd is stopping */
	void *urh;
	uint8_t *extra; /* bytes the client sent with its request: framed first */
	size_t extra_len, extra_off;
	wslay_event_context_ptr ws;
	uint8_t *out; /* bytes for the console server */
	size_t out_len, out_cap;
	bool ws_dead;  /* the client's connection ended or failed */
	bool vnc_done; /* the console server's socket ended */
	bool closing;  /* a close frame is queued (by us or by wslay) */
	int64_t rx_ns; /* when the browser last sent anything (now_mono_ns) */
	bool pinged;   /* a keep-alive ping is out since rx_ms */
};

static pthread_mutex_t g_mu = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t g_cv = PTHREAD_COND_INITIALIZER;
static wsrelay *g_relays;
static bool g_stopping; /* set once by wsrelay_stop_all(), until the process ends */

/* A poll(2) timeout for ns nanoseconds, rounded up to whole milliseconds (0 for ns <= 0). */
static int poll_ms(int64_t ns)
{
	return ns <= 0 ? 0 : (int)((ns + NS_PER_MS - 1) / NS_PER_MS);
}

/* ---- the registry ---------------------------------------------------------------------------- */

static void unlink_locked(wsrelay *r)
{
	for (wsrelay **p = &g_relays; *p; p = &(*p)->next) {
		if (*p == r) {
			*p = r->next;
			return;
		}
	}
}

/* Joins and frees finished relays (their threads no longer take g_mu). */
static void reap_locked(void)
{
	wsrelay **p = &g_relays;

	while (*p) {
		wsrelay *r = *p;

		if (r->state != RELAY_FINISHED) {
			p = &r->next;
			continue;
		}
		*p = r->next;
		pthread_join(r->thread, NULL);
		free(r);
	}
}

int wsrelay_reserve(int64_t user_id, const char *username, const char *ip, int64_t vps_id,
                    wsrelay **out)
{
	wsrelay *r;
	int n = 0;

	*out = NULL;
	pthread_mutex_lock(&g_mu);
	reap_locked();
	if (g_stopping) {
		pthread_mutex_unlock(&g_mu);
		return -ECANCELED;
	}
	for (r = g_relays; r; r = r->next)
		n += r->user_id == user_id;
	if (n >= CONSOLE_MAX_PER_USER) {
		pthread_mutex_unlock(&g_mu);
		return -EBUSY;
	}
	r = calloc(1, sizeof(*r));
	if (!r) {
		pthread_mutex_unlock(&g_mu);
		return -ENOMEM;
	}
	r->state = RELAY_PENDING;
	r->user_id = user_id;
	r->vps_id = vps_id;
	snprintf(r->username, sizeof(r->username), "%s", username && *username ? username : "-");
	snprintf(r->ip, sizeof(r->ip), "%s", ip && *ip ? ip : "-");
	rfb_filter_init(&r->filter, RF_MAX_SCREEN, RF_MAX_SCREEN, RF_CUT_MAX);
	r->vnc_fd = r->ws_fd = r->wake_fd = -1;
	r->next = g_relays;
	g_relays = r;
	pthread_mutex_unlock(&g_mu);
	*out = r;
	return 0;
}

void wsrelay_set_console_fd(wsrelay *r, int fd)
{
	r->vnc_fd = fd;
}

/* Releases everything but the struct itself (the upgraded connection goes back to MHD). */
static void wsrelay_release_io(wsrelay *r)
{
	if (r->vnc_fd >= 0)
		close(r->vnc_fd);
	r->vnc_fd = -1;
	if (r->urh)
		http_upgrade_close(r->urh);
	r->urh = NULL;
	if (r->ws)
		wslay_event_context_free(r->ws);
	r->ws = NULL;
	free(r->extra);
	r->extra = NULL;
	free(r->out);
	r->out = NULL;
}

void wsrelay_drop(void *relay)
{
	wsrelay *r = relay;

	if (!r)
		return;
	pthread_mutex_lock(&g_mu);
	unlink_locked(r);
	pthread_mutex_unlock(&g_mu);
	wsrelay_release_io(r);
	if (r->wake_fd >= 0)
		close(r->wake_fd);
	free(r);
}

/* ---- wslay callbacks ---------------------------------------------------------------------------
 */

/* What the result n of a recv()/send() on the client's socket means to wslay: n itself, or -1
 * with WSLAY_ERR_WOULDBLOCK (try again later) or WSLAY_ERR_CALLBACK_FAILURE (the connection
 * ended or failed: ws_dead). */
static ssize_t ws_io_result(wslay_event_context_ptr ctx, wsrelay *r, ssize_t n)
{
	if (n > 0)
		return n;
	if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
		wslay_event_set_error(ctx, WSLAY_ERR_WOULDBLOCK);
		return -1;
	}
	r->ws_dead = true;
	wslay_event_set_error(ctx, WSLAY_ERR_CALLBACK_FAILURE);
	return -1;
}

static ssize_t ws_recv(wslay_event_context_ptr ctx, uint8_t *buf, size_t len, int flags, void *ud)
{
	wsrelay *r = ud;
	ssize_t n;

	if (r->out_len >= RELAY_HIGH_WATER) {
		wslay_event_set_error(ctx, WSLAY_ERR_WOULDBLOCK); /* the console is behind */
		return -1;
	}
	if (r->extra_off < r->extra_len) {
		n = (ssize_t)(r->extra_len - r->extra_off < len ? r->extra_len - r->extra_off
		                                                : len);
		memcpy(buf, r->extra + r->extra_off, (size_t)n);
		r->extra_off += (size_t)n;
		return n;
	}
	do
		n = recv(r->ws_fd, buf, len, 0);
	while (n < 0 && errno == EINTR);
	if (n > 0) {
		r->rx_ns = (int64_t)now_mono_ns();
		r->pinged = false;
	}
	return ws_io_result(ctx, r, n);
}

static ssize_t ws_send(wslay_event_context_ptr ctx, const uint8_t *data, size_t len, int flags,
                       void *ud)
{
	wsrelay *r = ud;
	ssize_t n;

	do
		n = send(r->ws_fd, data, len,
		         MSG_NOSIGNAL | ((flags & WSLAY_MSG_MORE) ? MSG_MORE : 0));
	while (n < 0 && errno == EINTR);
	return ws_io_result(ctx, r, n);
}

static void wsrelay_close(wsrelay *r, uint16_t code, const char *reason)
{
	if (r->closing)
		return;
	r->closing = true;
	wslay_event_queue_close(r->ws, code, (const uint8_t *)reason, strlen(reason));
}

/* A text frame is refused as soon as its header arrives (noVNC speaks binary only). */
static void ws_frame_start(wslay_event_context_ptr ctx,
                           const struct wslay_event_on_frame_recv_start_arg *arg, void *ud)
{
	wsrelay *r = ud;

	if (arg->opcode == WSLAY_TEXT_FRAME) {
		wsrelay_close(r, WSLAY_CODE_UNSUPPORTED_DATA, "binary frames only");
		wslay_event_shutdown_read(ctx);
	}
}

static void wsrelay_audit(wsrelay *r, const char *detail)
{
	char res[AUDIT_RESOURCE_MAX];

	snprintf(res, sizeof(res), "vps/%lld", (long long)r->vps_id);
	audit_as(r->user_id, r->username, r->ip, "console.refused", res, detail);
}

static void ws_msg(wslay_event_context_ptr ctx, const struct wslay_event_on_msg_recv_arg *arg,
                   void *ud)
{
	wsrelay *r = ud;
	size_t need;
	long k;

	if (arg->opcode != WSLAY_BINARY_FRAME || r->vnc_done || r->closing || !arg->msg_length)
		return;
	/* The filter may rewrite (never grow by more than one held-back message). */
	need = r->out_len + arg->msg_length + RF_MAX_MSG;
	if (need > r->out_cap) {
		size_t cap = r->out_cap ? r->out_cap : RELAY_CHUNK;
		uint8_t *nb;

		while (cap < need)
			cap *= 2;
		nb = realloc(r->out, cap);
		if (!nb) {
			wsrelay_close(r, WSLAY_CODE_INTERNAL_SERVER_ERROR, "out of memory");
			wslay_event_shutdown_read(ctx);
			return;
		}
		r->out = nb;
		r->out_cap = cap;
	}
	k = rfb_filter_feed(&r->filter, arg->msg, arg->msg_length, r->out + r->out_len,
	                    r->out_cap - r->out_len);
	if (k < 0) {
		char detail[AUDIT_DETAIL_MAX];

		snprintf(detail, sizeof(detail), "rfb: %s", r->filter.why);
		log_warn("console: vps/%lld: refused the browser's RFB: %s", (long long)r->vps_id,
		         r->filter.why);
		wsrelay_audit(r, detail);
		wsrelay_close(r, WSLAY_CODE_POLICY_VIOLATION, "refused RFB message");
		wslay_event_shutdown_read(ctx);
		return;
	}
	r->out_len += (size_t)k;
	if (r->filter.cuts_dropped > r->cuts_audited) {
		if (r->cuts_audited == 0) {
			char detail[AUDIT_DETAIL_MAX];
			snprintf(detail, sizeof(detail),
			         "rfb: clipboard text over %u bytes dropped", (unsigned)RF_CUT_MAX);
			wsrelay_audit(r, detail);
		}
		r->cuts_audited = r->filter.cuts_dropped;
	}
}

/* ---- the console server's side ------------------------------------------------------------ */

static void vnc_read(wsrelay *r)
{
	uint8_t buf[RELAY_CHUNK];
	struct wslay_event_msg m = {.opcode = WSLAY_BINARY_FRAME, .msg = buf};
	ssize_t n;

	do
		n = read(r->vnc_fd, buf, sizeof(buf));
	while (n < 0 && errno == EINTR);
	if (n > 0) {
		m.msg_length = (size_t)n;
		if (wslay_event_queue_msg(r->ws, &m) != 0)
			r->closing = true; /* wslay queued a close already: drop the bytes */
		return;
	}
	if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
		return;
	r->vnc_done = true;
	r->out_len = 0;
	if (n == 0)
		wsrelay_close(r, WSLAY_CODE_NORMAL_CLOSURE, "the console closed");
	else
		wsrelay_close(r, WSLAY_CODE_INTERNAL_SERVER_ERROR, "the console failed");
}

static void vnc_write(wsrelay *r)
{
	ssize_t n;

	do
		n = send(r->vnc_fd, r->out, r->out_len, MSG_NOSIGNAL);
	while (n < 0 && errno == EINTR);
	if (n > 0) {
		memmove(r->out, r->out + n, r->out_len - (size_t)n);
		r->out_len -= (size_t)n;
		return;
	}
	if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK))
		return;
	r->vnc_done = true;
	r->out_len = 0;
	wsrelay_close(r, WSLAY_CODE_INTERNAL_SERVER_ERROR, "the console failed");
}

/* ---- the relay thread ---------------------------------------------------------------------- */

/* After our close frame: send FIN, then read and drop what the client still sends until it
 * closes too (bounded in time and bytes), so that handing the socket back does not reset the
 * connection with our close frame unread. */
static void linger(wsrelay *r, int64_t deadline)
{
	int64_t end = (int64_t)now_mono_ns() + RELAY_LINGER_NS;
	size_t drained = 0;
	char buf[RELAY_DRAIN_BUF];

	if (deadline >= 0 && deadline < end)
		end = deadline;
	shutdown(r->ws_fd, SHUT_WR);
	while (drained < RELAY_DRAIN_MAX) {
		struct pollfd p = {.fd = r->ws_fd, .events = POLLIN};
		int64_t left = end - (int64_t)now_mono_ns();
		ssize_t n;

		if (left <= 0 || poll(&p, 1, poll_ms(left)) <= 0)
			return;
		n = recv(r->ws_fd, buf, sizeof(buf), 0);
		if (n == 0)
			return;
		if (n < 0) {
			if (errno == EINTR || errno == EAGAIN || errno == EWOULDBLOCK)
				continue;
			return;
		}
		drained += (size_t)n;
	}
}

/* Keep-alive: a ping after ping_ns of silence, the end after twice that. Returns the poll
 * timeout until the next step (ms), or -2 when the browser is taken as gone. */
static int keepalive(wsrelay *r)
{
	int ping_s = g_app ? g_app->cfg.console_ping_s : 30;
	int64_t ping_ns = (int64_t)ping_s * 1000 * NS_PER_MS;
	int64_t idle = (int64_t)now_mono_ns() - r->rx_ns;

	if (r->closing)
		return -1;
	if (idle >= 2 * ping_ns && r->pinged) {
		log_info("console: vps/%lld: no answer to a ping for %d s: connection lost",
		         (long long)r->vps_id, ping_s);
		r->ws_dead = true;
		return -2;
	}
	if (idle >= ping_ns && !r->pinged) {
		struct wslay_event_msg m = {
		        .opcode = WSLAY_PING, .msg = (const uint8_t *)"xvps", .msg_length = 4};
		if (wslay_event_queue_msg(r->ws, &m) == 0)
			r->pinged = true;
	}
	idle = (int64_t)now_mono_ns() - r->rx_ns;
	return poll_ms((r->pinged ? 2 * ping_ns : ping_ns) - idle);
}

static void wsrelay_loop(wsrelay *r)
{
	int64_t deadline = -1;

	r->rx_ns = (int64_t)now_mono_ns();
	for (;;) {
		struct pollfd p[3];
		bool rd, vnc_in;
		int timeout = -1, n;

		if (r->ws_dead || (deadline < 0 && (timeout = keepalive(r)) == -2))
			return;
		if (timeout < 0)
			timeout = -1;
		else if (timeout == 0)
			timeout = 1;
		/* Bytes that came with the request, or that a full backlog held back. */
		if (r->extra_off < r->extra_len && r->out_len < RELAY_HIGH_WATER &&
		    wslay_event_want_read(r->ws) && wslay_event_recv(r->ws) != 0)
			return;
		if (wslay_event_want_write(r->ws) && wslay_event_send(r->ws) != 0)
			return;
		if (wslay_event_get_close_sent(r->ws)) {
			linger(r, deadline);
			return;
		}
		if (!wslay_event_want_read(r->ws) && !wslay_event_want_write(r->ws))
			return;
		rd = wslay_event_want_read(r->ws) && r->out_len < RELAY_HIGH_WATER;
		vnc_in = !r->vnc_done && !r->closing && wslay_event_get_write_enabled(r->ws) &&
		         !wslay_event_get_close_received(r->ws) &&
		         wslay_event_get_queued_msg_length(r->ws) < RELAY_HIGH_WATER;
		p[0] = (struct pollfd){
		        .fd = r->ws_fd,
		        .events = (short)((rd ? POLLIN : 0) |
		                          (wslay_event_want_write(r->ws) ? POLLOUT : 0))};
		p[1] = (struct pollfd){
		        .fd = r->vnc_done ? -1 : r->vnc_fd,
		        .events = (short)((vnc_in ? POLLIN : 0) | (r->out_len ? POLLOUT : 0))};
		p[2] = (struct pollfd){.fd = r->wake_fd, .events = POLLIN};
		if (deadline >= 0) {
			int64_t left = deadline - (int64_t)now_mono_ns();

			if (left <= 0)
				return;
			timeout = poll_ms(left);
		}
		n = poll(p, 3, timeout);
		if (n < 0 && errno != EINTR)
			return;
		if (n <= 0)
			continue;
		if ((p[2].revents & POLLIN) && deadline < 0) {
			uint64_t v;

			if (read(r->wake_fd, &v, sizeof(v)) < 0 && errno != EAGAIN)
				log_warn("console: reading the stop event: %s", strerror(errno));
			wsrelay_close(r, WSLAY_CODE_GOING_AWAY, "xvpsd is stopping");
			deadline = (int64_t)now_mono_ns() + RELAY_STOP_NS;
		}
		if (p[0].revents & (POLLERR | POLLHUP | POLLNVAL))
			return; /* the client is gone: nothing more can be said */
		if ((p[0].revents & POLLIN) && wslay_event_recv(r->ws) != 0)
			return;
		if (p[1].revents & POLLOUT)
			vnc_write(r);
		if (!r->vnc_done && (p[1].revents & (POLLIN | POLLHUP | POLLERR)))
			vnc_read(r);
	}
}

static void *wsrelay_main(void *arg)
{
	wsrelay *r = arg;
	unsigned sent, recvd;

	log_info("console: vps/%lld opened (user %lld)", (long long)r->vps_id,
	         (long long)r->user_id);
	wsrelay_loop(r);
	sent = wslay_event_get_status_code_sent(r->ws);
	recvd = wslay_event_get_status_code_received(r->ws);
	log_info("console: vps/%lld closed (close code sent %u, received %u%s)",
	         (long long)r->vps_id, sent, recvd, r->ws_dead ? ", connection lost" : "");
	wsrelay_release_io(r);
	pthread_mutex_lock(&g_mu);
	r->state = RELAY_FINISHED;
	close(r->wake_fd);
	r->wake_fd = -1;
	pthread_cond_broadcast(&g_cv);
	pthread_mutex_unlock(&g_mu);
	return NULL;
}

void wsrelay_start(void *relay, const char *extra_in, size_t extra_len, int sock, void *urh)
{
	static const struct wslay_event_callbacks cb = {
	        .recv_callback = ws_recv,
	        .send_callback = ws_send,
	        .on_frame_recv_start_callback = ws_frame_start,
	        .on_msg_recv_callback = ws_msg,
	};
	wsrelay *r = relay;
	bool started = false;
	int rc = 0;

	r->ws_fd = sock;
	r->urh = urh;
	if (extra_len) {
		r->extra = malloc(extra_len);
		if (!r->extra)
			goto fail;
		memcpy(r->extra, extra_in, extra_len);
		r->extra_len = extra_len;
	}
	r->wake_fd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
	if (r->wake_fd < 0 || wslay_event_context_server_init(&r->ws, &cb, r) != 0)
		goto fail;
	wslay_event_config_set_max_recv_msg_length(r->ws, CONSOLE_MAX_MSG);
	pthread_mutex_lock(&g_mu);
	if (!g_stopping) {
		/* RUNNING before the thread exists: it marks itself FINISHED under g_mu. */
		r->state = RELAY_RUNNING;
		rc = pthread_create(&r->thread, NULL, wsrelay_main, r);
		started = rc == 0;
		if (!started)
			r->state = RELAY_PENDING;
	}
	pthread_mutex_unlock(&g_mu);
	if (started)
		return; /* r is the thread's now */
	if (rc != 0)
		log_error("console: cannot start a relay thread: %s", strerror(rc));
fail:
	wsrelay_drop(r); /* closes the console socket and hands the connection back */
}

void wsrelay_stop_all(void)
{
	const uint64_t one = 1;
	bool running;

	pthread_mutex_lock(&g_mu);
	g_stopping = true;
	for (wsrelay *r = g_relays; r; r = r->next)
		if (r->state == RELAY_RUNNING && write(r->wake_fd, &one, sizeof(one)) < 0)
			log_warn("console: waking a relay: %s", strerror(errno));
	for (;;) {
		running = false;
		for (wsrelay *r = g_relays; r; r = r->next)
			running = running || r->state == RELAY_RUNNING;
		if (!running)
			break;
		pthread_cond_wait(&g_cv, &g_mu);
	}
	reap_locked();
	pthread_mutex_unlock(&g_mu);
}
