/* vncrelay.c — the per-viewer pump thread of xvps-console (vncrelay.h). */
#include "vncrelay.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "../../common/util.h"

#define RELAY_CHUNK 16384

typedef struct pipe_buf {
	uint8_t *data;
	size_t len, off; /* pending bytes are data[off, len) */
} pipe_buf;

/* Writes what is pending without blocking. Returns false when the peer is gone. */
static bool flush_some(int fd, pipe_buf *b)
{
	while (b->off < b->len) {
		ssize_t w =
		        send(fd, b->data + b->off, b->len - b->off, MSG_NOSIGNAL | MSG_DONTWAIT);
		if (w < 0) {
			if (errno == EINTR)
				continue;
			return errno == EAGAIN || errno == EWOULDBLOCK;
		}
		b->off += (size_t)w;
	}
	b->off = b->len = 0;
	return true;
}

static void *vncrelay_main(void *arg)
{
	vncrelay *r = arg;
	size_t cap = RELAY_CHUNK + RF_MAX_MSG;
	uint8_t *in = malloc(RELAY_CHUNK);
	pipe_buf to_srv = {malloc(cap), 0, 0}, to_view = {malloc(RELAY_CHUNK), 0, 0};
	const char *end = "viewer left";

	if (!in || !to_srv.data || !to_view.data) {
		end = "out of memory";
		goto out;
	}
	for (;;) {
		struct pollfd pf[2] = {{.fd = r->vfd}, {.fd = r->sfd}};
		/* Read a side only when what we read from it before has been passed on. */
		pf[0].events = (to_srv.len ? 0 : POLLIN) | (to_view.len ? POLLOUT : 0);
		pf[1].events = (to_view.len ? 0 : POLLIN) | (to_srv.len ? POLLOUT : 0);
		if (poll(pf, 2, -1) < 0) {
			if (errno == EINTR)
				continue;
			end = "poll failed";
			break;
		}
		if ((pf[0].revents & (POLLHUP | POLLERR)) && to_srv.len)
			break; /* gone while we could not read from it: nothing more to pass on */
		if ((pf[1].revents & (POLLHUP | POLLERR)) && to_view.len) {
			end = "server closed the session";
			break;
		}
		if ((pf[0].revents & POLLOUT) && !flush_some(r->vfd, &to_view))
			break;
		if ((pf[1].revents & POLLOUT) && !flush_some(r->sfd, &to_srv)) {
			end = "server closed the session";
			break;
		}
		if (pf[0].revents & (POLLIN | POLLHUP | POLLERR) && !to_srv.len) {
			ssize_t n = recv(r->vfd, in, RELAY_CHUNK, MSG_DONTWAIT);
			if (n == 0 || (n < 0 && errno != EINTR && errno != EAGAIN))
				break;
			if (n > 0) {
				unsigned before = r->filter.cuts_dropped, d = atomic_load(r->dims);
				r->filter.width = (int)(d >> 16);
				r->filter.height = (int)(d & 0xffff);
				long k = rfb_filter_feed(&r->filter, in, (size_t)n, to_srv.data,
				                         cap);
				if (k < 0) {
					log_warn("viewer %u dropped: %s", r->id, r->filter.why);
					end = NULL;
					break;
				}
				if (r->filter.cuts_dropped != before)
					log_warn("viewer %u: clipboard text longer than %zu bytes "
					         "dropped",
					         r->id, r->filter.cut_max);
				to_srv.len = (size_t)k;
				if (!flush_some(r->sfd, &to_srv)) {
					end = "server closed the session";
					break;
				}
			}
		}
		if (pf[1].revents & (POLLIN | POLLHUP | POLLERR) && !to_view.len) {
			ssize_t n = recv(r->sfd, to_view.data, RELAY_CHUNK, MSG_DONTWAIT);
			if (n == 0 || (n < 0 && errno != EINTR && errno != EAGAIN)) {
				end = "server closed the session";
				break;
			}
			if (n > 0) {
				to_view.len = (size_t)n;
				if (!flush_some(r->vfd, &to_view))
					break;
			}
		}
	}
out:
	if (end)
		log_info("viewer %u: %s", r->id, end);
	shutdown(r->vfd, SHUT_RDWR);
	shutdown(r->sfd, SHUT_RDWR);
	free(in);
	free(to_srv.data);
	free(to_view.data);
	atomic_store(&r->done, true);
	if (r->wake_fd >= 0) {
		uint64_t one = 1;
		if (write(r->wake_fd, &one, sizeof(one)) < 0)
			log_warn("viewer %u: cannot wake the main loop", r->id);
	}
	return NULL;
}

vncrelay *vncrelay_start(int vfd, const atomic_uint *dims, size_t cut_max, int wake_fd, unsigned id,
                         int *server_fd_out)
{
	int sp[2];
	vncrelay *r = calloc(1, sizeof(*r));

	if (!r || socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sp) != 0) {
		free(r);
		close(vfd);
		return NULL;
	}
	r->vfd = vfd;
	r->sfd = sp[0];
	r->wake_fd = wake_fd;
	r->id = id;
	atomic_init(&r->done, false);
	r->dims = dims;
	rfb_filter_init(&r->filter, (int)(atomic_load(dims) >> 16),
	                (int)(atomic_load(dims) & 0xffff), cut_max);
	if (pthread_create(&r->thread, NULL, vncrelay_main, r) != 0) {
		close(sp[0]);
		close(sp[1]);
		close(vfd);
		free(r);
		return NULL;
	}
	*server_fd_out = sp[1];
	return r;
}

void vncrelay_stop(vncrelay *r)
{
	shutdown(r->vfd, SHUT_RDWR);
	shutdown(r->sfd, SHUT_RDWR);
}

void vncrelay_join(vncrelay *r)
{
	pthread_join(r->thread, NULL);
	close(r->vfd);
	close(r->sfd);
	free(r);
}
