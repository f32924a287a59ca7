/* ws_client.h — a minimal WebSocket client (RFC 6455) for the API suite, written by hand so
 * that tests can also send what a browser never would: missing or wrong handshake headers,
 * foreign Origins, oversized, text or unmasked frames. Talks only to $XVPS_URL (loopback).
 * Also does one plain HTTP GET with all response headers (static files' security headers). */
#ifndef XVPS_API_WS_CLIENT_H
#define XVPS_API_WS_CLIENT_H

#include <json-c/json.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* RFC 6455 §1.3's example key and its accept value: the client always sends this key. */
#define WS_TEST_KEY    "dGhlIHNhbXBsZSBub25jZQ=="
#define WS_TEST_ACCEPT "s3pPLMBiTxaQ9kYGzzhZRbK+xOo="

typedef struct ws_opts {
	const char *path;     /* "/console/ws?token=..." */
	const char *cookie;   /* xvps_session value, NULL: no Cookie header */
	const char *origin;   /* NULL: the server's own origin; "": no Origin header */
	const char *upgrade;  /* NULL: "websocket"; "": no Upgrade header */
	const char *version;  /* NULL: "13"; "": no Sec-WebSocket-Version */
	const char *key;      /* NULL: WS_TEST_KEY; "": no Sec-WebSocket-Key */
	const char *protocol; /* Sec-WebSocket-Protocol offered, NULL: none */
	bool plain;           /* a plain GET: none of the WebSocket headers */
	const uint8_t *extra; /* bytes sent right after the request (may be NULL) */
	size_t extra_len;
} ws_opts;

typedef struct ws_conn ws_conn;
struct ws_conn {
	int fd;
	long status;            /* the answer's HTTP status, 0 when there was none */
	char head[8192];        /* status line and headers, NUL-terminated */
	char content_type[128]; /* "" when absent */
	char *body;             /* a non-101 answer's body (NUL-terminated) */
	size_t body_len;
	json_object *json; /* body parsed, or NULL */
	uint8_t *buf;      /* received, not yet returned as frames */
	size_t buf_len, buf_cap;
	ws_conn *prev, *next; /* live connections, freed by ws_cleanup() */
};

/* Sends the request and reads the answer's head (and body unless 101). Never NULL; asserts
 * only that the server could be reached. */
ws_conn *ws_open(const ws_opts *o);
void ws_close(ws_conn *c);
/* Closes every connection not yet closed (a suite's .fini). */
void ws_cleanup(void);

/* Copies the value of response header name (case-insensitive) into out; false if absent. */
bool ws_header(const ws_conn *c, const char *name, char *out, size_t len);

/* Sends one final frame, masked unless unmasked. False when the send failed. */
bool ws_send(ws_conn *c, int opcode, const void *data, size_t len, bool unmasked);
/* Reads one frame within timeout_ms: 1 with *opcode and a heap *payload (NUL-terminated, free
 * it), 0 on EOF, -1 on a timeout, a protocol error or a reset. */
int ws_recv(ws_conn *c, int timeout_ms, int *opcode, uint8_t **payload, size_t *len);
/* Reads binary frames until want_len bytes arrived; copies them to out. False otherwise. */
bool ws_recv_bytes(ws_conn *c, int timeout_ms, uint8_t *out, size_t want_len);
/* Reads frames until a close frame (its code into *code, 1005 when it has none, 0 when none
 * came before EOF or the timeout). Other frames are skipped. True when a close frame came and
 * then EOF (the server ended the connection). */
bool ws_expect_close(ws_conn *c, int timeout_ms, int *code);

#endif
