/* test_agent_proto.c — the xvpsd <-> agent framing (common/agent_proto.c) over a socketpair and
 * a unix socket in a mkdtemp() directory: roundtrip, bad lengths, timeouts, EOF. */
#include <criterion/criterion.h>
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <unistd.h>

#include "../../common/agent_proto.h"

Test(agent_proto, roundtrip_over_socketpair)
{
	int sv[2];
	cr_assert_eq(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv), 0);
	json_object *m = json_object_new_object();
	json_object_object_add(m, "op", json_object_new_string("vps.status"));
	json_object_object_add(m, "name", json_object_new_string("xvps-1"));
	cr_assert_eq(agent_send(sv[0], m), 0);
	json_object *got = NULL;
	cr_assert_eq(agent_recv(sv[1], 1000, &got), 0);
	cr_assert(json_object_equal(m, got));
	json_object_put(m);
	json_object_put(got);
	close(sv[0]);
	close(sv[1]);
}

static void raw_send(int fd, uint32_t len, const char *body)
{
	uint8_t hdr[4] = {(uint8_t)(len >> 24), (uint8_t)(len >> 16), (uint8_t)(len >> 8),
	                  (uint8_t)len};
	cr_assert_eq(send(fd, hdr, 4, MSG_NOSIGNAL), 4);
	if (body)
		cr_assert_eq(send(fd, body, strlen(body), MSG_NOSIGNAL), (ssize_t)strlen(body));
}

Test(agent_proto, rejects_oversized_length)
{
	int sv[2];
	cr_assert_eq(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv), 0);
	raw_send(sv[0], AGENT_MAX_MSG + 1, NULL);
	json_object *got = NULL;
	cr_assert_eq(agent_recv(sv[1], 1000, &got), -EPROTO);
	cr_assert_null(got);
	close(sv[0]);
	close(sv[1]);
}

Test(agent_proto, rejects_zero_length_and_bad_json)
{
	int sv[2];
	json_object *got = NULL;
	cr_assert_eq(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv), 0);
	raw_send(sv[0], 0, NULL);
	cr_assert_eq(agent_recv(sv[1], 1000, &got), -EPROTO);
	raw_send(sv[0], 5, "{\"a\":");
	cr_assert_eq(agent_recv(sv[1], 1000, &got), -EPROTO);
	raw_send(sv[0], 3, "[1]");
	cr_assert_eq(agent_recv(sv[1], 1000, &got), -EPROTO, "not an object");
	cr_assert_null(got);
	close(sv[0]);
	close(sv[1]);
}

Test(agent_proto, recv_times_out)
{
	int sv[2];
	cr_assert_eq(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv), 0);
	json_object *got = NULL;
	cr_assert_eq(agent_recv(sv[1], 100, &got), -ETIMEDOUT);
	raw_send(sv[0], 10, "{\"a\"");
	cr_assert_eq(agent_recv(sv[1], 100, &got), -ETIMEDOUT, "partial body");
	close(sv[0]);
	close(sv[1]);
}

Test(agent_proto, eof_is_connreset_and_send_to_closed_peer_is_epipe)
{
	int sv[2];
	cr_assert_eq(socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv), 0);
	close(sv[0]);
	json_object *got = NULL;
	cr_assert_eq(agent_recv(sv[1], 1000, &got), -ECONNRESET);
	json_object *m = json_object_new_object();
	/* Without MSG_NOSIGNAL this would kill the test with SIGPIPE. */
	cr_assert_eq(agent_send(sv[1], m), -EPIPE);
	json_object_put(m);
	close(sv[1]);
}

struct server {
	int lfd;
};

static void *echo_server(void *arg)
{
	struct server *s = arg;
	int c = accept(s->lfd, NULL, NULL);
	if (c < 0)
		return NULL;
	json_object *req = NULL;
	if (agent_recv(c, 2000, &req) == 0) {
		json_object *resp = json_object_new_object();
		json_object_object_add(resp, "ok", json_object_new_boolean(1));
		json_object_object_add(resp, "result", req);
		agent_send(c, resp);
		json_object_put(resp);
	}
	close(c);
	return NULL;
}

Test(agent_proto, agent_call_roundtrip_over_unix_socket)
{
	char dir[] = "/tmp/xvps-proto-XXXXXX";
	cr_assert_not_null(mkdtemp(dir));
	char path[128];
	snprintf(path, sizeof(path), "%s/agent.sock", dir);
	int lfd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
	struct sockaddr_un sa = {.sun_family = AF_UNIX};
	strcpy(sa.sun_path, path);
	cr_assert_eq(bind(lfd, (struct sockaddr *)&sa, sizeof(sa)), 0);
	cr_assert_eq(listen(lfd, 1), 0);
	struct server s = {lfd};
	pthread_t th;
	pthread_create(&th, NULL, echo_server, &s);

	json_object *req = json_object_new_object();
	json_object_object_add(req, "op", json_object_new_string("host.info"));
	json_object *resp = NULL;
	int rc = agent_call(path, req, 2000, &resp);
	pthread_join(th, NULL);
	cr_assert_eq(rc, 0);
	json_object *result = NULL;
	cr_assert(json_object_object_get_ex(resp, "result", &result));
	cr_assert(json_object_equal(result, req));
	json_object_put(req);
	json_object_put(resp);
	close(lfd);
	unlink(path);
	rmdir(dir);
}

Test(agent_proto, agent_call_without_agent_fails_cleanly)
{
	json_object *req = json_object_new_object();
	json_object *resp = NULL;
	int rc = agent_call("/tmp/xvps-definitely-no-such-socket", req, 500, &resp);
	cr_assert(rc == -ENOENT || rc == -ECONNREFUSED, "rc %d", rc);
	cr_assert_null(resp);
	json_object_put(req);
}
