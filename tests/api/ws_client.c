/* ws_client.c — the API suite's hand-written WebSocket client (see ws_client.h). Plain
 * sockets and poll(): every read has a deadline, so a server that hangs fails the test instead
 * of stalling the suite. Masks with getrandom keys, as a browser does. */
#include "ws_client.h"

#include <criterion/criterion.h>
#include <errno.h>
#include <netdb.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/random.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "client.h"

static ws_conn *g_live;

static long long now_ms(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (long long)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* "http://host:port" from $XVPS_URL into host and port. */
static void base_host_port(char host[256], char port[16])
{
	const char *b = api_base(), *h, *colon, *end;

	h = strncmp(b, "http://", 7) == 0 ? b + 7 : b;
	end = h + strcspn(h, "/");
	colon = memchr(h, ':', (size_t)(end - h));
	cr_assert_not_null(colon, "XVPS_URL %s has no port", b);
	snprintf(host, 256, "%.*s", (int)(colon - h), h);
	snprintf(port, 16, "%.*s", (int)(end - colon - 1), colon + 1);
}

static int dial(void)
{
	struct addrinfo hints = {.ai_socktype = SOCK_STREAM}, *res = NULL;
	char host[256], port[16];
	int fd;

	base_host_port(host, port);
	cr_assert_eq(getaddrinfo(host, port, &hints, &res), 0, "cannot resolve %s", host);
	fd = socket(res->ai_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
	cr_assert_geq(fd, 0);
	if (connect(fd, res->ai_addr, res->ai_addrlen) != 0) {
		freeaddrinfo(res);
		close(fd);
		cr_assert_fail("cannot connect to %s: %s", api_base(), strerror(errno));
	}
	freeaddrinfo(res);
	return fd;
}

static bool send_all(int fd, const void *data, size_t len)
{
	const char *p = data;

	while (len) {
		ssize_t n = send(fd, p, len, MSG_NOSIGNAL);

		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			return false;
		p += n;
		len -= (size_t)n;
	}
	return true;
}

/* Appends what the socket has within the deadline: 1 read some, 0 EOF, -1 timeout/error. */
static int fill(ws_conn *c, long long deadline)
{
	struct pollfd p = {.fd = c->fd, .events = POLLIN};
	long long left = deadline - now_ms();
	ssize_t n;

	if (left <= 0 || poll(&p, 1, (int)left) <= 0)
		return -1;
	if (c->buf_cap - c->buf_len < 65536) {
		c->buf_cap = c->buf_cap * 2 + 65536;
		c->buf = realloc(c->buf, c->buf_cap + 1);
		cr_assert_not_null(c->buf);
	}
	n = recv(c->fd, c->buf + c->buf_len, c->buf_cap - c->buf_len, 0);
	if (n == 0)
		return 0;
	if (n < 0)
		return -1;
	c->buf_len += (size_t)n;
	c->buf[c->buf_len] = '\0';
	return 1;
}

static void consume(ws_conn *c, size_t n)
{
	memmove(c->buf, c->buf + n, c->buf_len - n);
	c->buf_len -= n;
}

bool ws_header(const ws_conn *c, const char *name, char *out, size_t len)
{
	size_t nl = strlen(name);

	for (const char *l = strstr(c->head, "\r\n"); l; l = strstr(l + 2, "\r\n")) {
		const char *v = l + 2, *e;

		if (strncasecmp(v, name, nl) != 0 || v[nl] != ':')
			continue;
		v += nl + 1;
		while (*v == ' ' || *v == '\t')
			v++;
		e = strstr(v, "\r\n");
		snprintf(out, len, "%.*s", (int)(e ? e - v : (long)strlen(v)), v);
		return true;
	}
	return false;
}

static void add_header(char *req, size_t len, const char *name, const char *value)
{
	size_t used = strlen(req);

	if (value && *value)
		snprintf(req + used, len - used, "%s: %s\r\n", name, value);
}

ws_conn *ws_open(const ws_opts *o)
{
	ws_conn *c = calloc(1, sizeof(*c));
	char req[4096], host[256], port[16], hostport[300], origin[320], v[64];
	long long deadline = now_ms() + 20000;
	char *end = NULL;

	cr_assert_not_null(c);
	c->next = g_live;
	if (g_live)
		g_live->prev = c;
	g_live = c;
	base_host_port(host, port);
	snprintf(hostport, sizeof(hostport), "%s:%s", host, port);
	snprintf(origin, sizeof(origin), "http://%s", hostport);
	snprintf(req, sizeof(req), "GET %s HTTP/1.1\r\nHost: %s\r\n", o->path, hostport);
	if (!o->plain) {
		add_header(req, sizeof(req), "Upgrade", o->upgrade ? o->upgrade : "websocket");
		add_header(req, sizeof(req), "Connection", "Upgrade");
		add_header(req, sizeof(req), "Sec-WebSocket-Version",
		           o->version ? o->version : "13");
		add_header(req, sizeof(req), "Sec-WebSocket-Key", o->key ? o->key : WS_TEST_KEY);
		add_header(req, sizeof(req), "Origin", o->origin ? o->origin : origin);
		add_header(req, sizeof(req), "Sec-WebSocket-Protocol", o->protocol);
	}
	if (o->cookie && o->cookie[0]) {
		size_t used = strlen(req);

		snprintf(req + used, sizeof(req) - used, "Cookie: xvps_session=%s\r\n", o->cookie);
	}
	strncat(req, "\r\n", sizeof(req) - strlen(req) - 1);
	c->fd = dial();
	cr_assert(send_all(c->fd, req, strlen(req)), "sending the request failed");
	if (o->extra_len)
		cr_assert(send_all(c->fd, o->extra, o->extra_len));
	while (!(c->buf && (end = strstr((char *)c->buf, "\r\n\r\n"))))
		if (fill(c, deadline) <= 0)
			return c; /* status 0 */
	snprintf(c->head, sizeof(c->head), "%.*s", (int)(end - (char *)c->buf), (char *)c->buf);
	consume(c, (size_t)(end + 4 - (char *)c->buf));
	if (sscanf(c->head, "HTTP/1.%*d %ld", &c->status) != 1)
		c->status = 0;
	ws_header(c, "Content-Type", c->content_type, sizeof(c->content_type));
	if (c->status != 101 && ws_header(c, "Content-Length", v, sizeof(v))) {
		size_t n = (size_t)strtoul(v, NULL, 10);

		while (c->buf_len < n)
			if (fill(c, deadline) <= 0)
				break;
		if (c->buf_len >= n) {
			c->body = malloc(n + 1);
			cr_assert_not_null(c->body);
			memcpy(c->body, c->buf, n);
			c->body[n] = '\0';
			c->body_len = n;
			consume(c, n);
			c->json = json_tokener_parse(c->body);
		}
	}
	return c;
}

void ws_close(ws_conn *c)
{
	if (!c)
		return;
	if (c->prev)
		c->prev->next = c->next;
	else if (g_live == c)
		g_live = c->next;
	if (c->next)
		c->next->prev = c->prev;
	if (c->fd >= 0)
		close(c->fd);
	json_object_put(c->json);
	free(c->body);
	free(c->buf);
	free(c);
}

void ws_cleanup(void)
{
	while (g_live)
		ws_close(g_live);
}

bool ws_send(ws_conn *c, int opcode, const void *data, size_t len, bool unmasked)
{
	uint8_t hdr[14], mask[4] = {0};
	const uint8_t *in = data;
	size_t h = 0;
	uint8_t *frame;
	bool ok;

	hdr[h++] = (uint8_t)(0x80 | (opcode & 0x0f));
	if (len < 126) {
		hdr[h++] = (uint8_t)((unmasked ? 0 : 0x80) | len);
	} else if (len < 65536) {
		hdr[h++] = (uint8_t)((unmasked ? 0 : 0x80) | 126);
		hdr[h++] = (uint8_t)(len >> 8);
		hdr[h++] = (uint8_t)len;
	} else {
		hdr[h++] = (uint8_t)((unmasked ? 0 : 0x80) | 127);
		for (int i = 7; i >= 0; i--)
			hdr[h++] = (uint8_t)(len >> (8 * i));
	}
	if (!unmasked) {
		cr_assert_eq(getrandom(mask, sizeof(mask), 0), (ssize_t)sizeof(mask));
		memcpy(hdr + h, mask, 4);
		h += 4;
	}
	frame = malloc(h + len + 1);
	cr_assert_not_null(frame);
	memcpy(frame, hdr, h);
	for (size_t i = 0; i < len; i++)
		frame[h + i] = (uint8_t)(in[i] ^ mask[i % 4]);
	ok = send_all(c->fd, frame, h + len);
	free(frame);
	return ok;
}

int ws_recv(ws_conn *c, int timeout_ms, int *opcode, uint8_t **payload, size_t *len)
{
	long long deadline = now_ms() + timeout_ms;
	size_t need = 2, off;
	uint64_t n;
	int r;

	*payload = NULL;
	*len = 0;
	for (;;) {
		while (c->buf_len < need) {
			r = fill(c, deadline);
			if (r <= 0)
				return r == 0 && c->buf_len == 0 ? 0 : -1;
		}
		if (c->buf[1] & 0x80)
			return -1; /* a server never masks */
		n = c->buf[1] & 0x7f;
		off = 2;
		if (n == 126) {
			need = 4;
			if (c->buf_len < need)
				continue;
			n = ((uint64_t)c->buf[2] << 8) | c->buf[3];
			off = 4;
		} else if (n == 127) {
			need = 10;
			if (c->buf_len < need)
				continue;
			n = 0;
			for (int i = 0; i < 8; i++)
				n = (n << 8) | c->buf[2 + i];
			off = 10;
		}
		if (n > 16 * 1024 * 1024)
			return -1;
		need = off + (size_t)n;
		if (c->buf_len < need)
			continue;
		break;
	}
	*opcode = c->buf[0] & 0x0f;
	*payload = malloc((size_t)n + 1);
	cr_assert_not_null(*payload);
	memcpy(*payload, c->buf + off, (size_t)n);
	(*payload)[n] = '\0';
	*len = (size_t)n;
	consume(c, need);
	return 1;
}

bool ws_recv_bytes(ws_conn *c, int timeout_ms, uint8_t *out, size_t want_len)
{
	long long deadline = now_ms() + timeout_ms;
	size_t got = 0;

	while (got < want_len) {
		uint8_t *p;
		size_t n;
		int op, r = ws_recv(c, (int)(deadline - now_ms()), &op, &p, &n);

		if (r != 1)
			return false;
		if (op == 2) {
			size_t take = n < want_len - got ? n : want_len - got;

			memcpy(out + got, p, take);
			got += take;
		}
		free(p);
		if (op == 8)
			return false;
	}
	return true;
}

bool ws_expect_close(ws_conn *c, int timeout_ms, int *code)
{
	long long deadline = now_ms() + timeout_ms;

	*code = 0;
	for (;;) {
		uint8_t *p;
		size_t n;
		int op, r = ws_recv(c, (int)(deadline - now_ms()), &op, &p, &n);

		if (r != 1)
			return false;
		if (op == 8) {
			*code = n >= 2 ? (p[0] << 8) | p[1] : 1005;
			free(p);
			/* The server ends the TCP connection after its close frame. */
			return ws_recv(c, (int)(deadline - now_ms()), &op, &p, &n) == 0;
		}
		free(p);
	}
}
