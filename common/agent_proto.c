/* agent_proto.c — framing for the xvpsd <-> xvps-agent unix socket (agent_proto.h): a 4-byte
 * big-endian length, then that many bytes of JSON. Never trusts a length beyond AGENT_MAX_MSG,
 * never raises SIGPIPE (MSG_NOSIGNAL), never blocks past the caller's timeout on receive. */
#include "agent_proto.h"

#include "jsonutil.h"
#include "util.h"

#include <errno.h>
#include <poll.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

int agent_send(int fd, json_object *msg)
{
	if (!msg)
		return -EINVAL;
	const char *s = json_compact(msg);
	size_t len = s ? strlen(s) : 0;
	if (len == 0 || len > AGENT_MAX_MSG)
		return -EMSGSIZE;
	uint8_t hdr[4] = {(uint8_t)(len >> 24), (uint8_t)(len >> 16), (uint8_t)(len >> 8),
	                  (uint8_t)len};
	int rc = write_full(fd, hdr, sizeof(hdr), true);
	if (rc == 0)
		rc = write_full(fd, s, len, true);
	return rc;
}

/* Reads exactly len bytes before the deadline (-1: none). */
static int recv_all(int fd, void *buf, size_t len, int64_t deadline)
{
	uint8_t *p = buf;
	while (len > 0) {
		int wait = -1;
		if (deadline >= 0) {
			int64_t left = deadline - (int64_t)now_mono_ms();
			if (left <= 0)
				return -ETIMEDOUT;
			wait = left > 1000000 ? 1000000 : (int)left;
		}
		struct pollfd pfd = {.fd = fd, .events = POLLIN};
		int pr = poll(&pfd, 1, wait);
		if (pr < 0) {
			if (errno == EINTR)
				continue;
			return -errno;
		}
		if (pr == 0)
			continue; /* the deadline check above decides */
		ssize_t r = recv(fd, p, len, 0);
		if (r < 0) {
			if (errno == EINTR || errno == EAGAIN)
				continue;
			return -errno;
		}
		if (r == 0)
			return -ECONNRESET;
		p += r;
		len -= (size_t)r;
	}
	return 0;
}

int agent_recv(int fd, int timeout_ms, json_object **msg_out)
{
	*msg_out = NULL;
	int64_t deadline = timeout_ms > 0 ? (int64_t)now_mono_ms() + timeout_ms : -1;
	uint8_t hdr[4];
	int rc = recv_all(fd, hdr, sizeof(hdr), deadline);
	if (rc < 0)
		return rc;
	uint32_t len =
	        (uint32_t)hdr[0] << 24 | (uint32_t)hdr[1] << 16 | (uint32_t)hdr[2] << 8 | hdr[3];
	if (len == 0 || len > AGENT_MAX_MSG)
		return -EPROTO;
	char *buf = malloc(len);
	if (!buf)
		return -ENOMEM;
	rc = recv_all(fd, buf, len, deadline);
	if (rc == 0) {
		json_object *msg = json_parse_strict(buf, len, NULL);
		if (!msg || !json_object_is_type(msg, json_type_object)) {
			json_object_put(msg);
			rc = -EPROTO;
		} else {
			*msg_out = msg;
		}
	}
	free(buf);
	return rc;
}

int agent_call(const char *sock_path, json_object *req, int timeout_ms, json_object **resp_out)
{
	*resp_out = NULL;
	struct sockaddr_un sa = {.sun_family = AF_UNIX};
	if (!sock_path || strlen(sock_path) >= sizeof(sa.sun_path))
		return -ENAMETOOLONG;
	memcpy(sa.sun_path, sock_path, strlen(sock_path) + 1);
	int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	if (fd < 0)
		return -errno;
	int rc = 0;
	while (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
		if (errno == EINTR)
			continue;
		rc = -errno;
		break;
	}
	if (rc == 0)
		rc = agent_send(fd, req);
	if (rc == 0)
		rc = agent_recv(fd, timeout_ms, resp_out);
	close(fd);
	return rc;
}
