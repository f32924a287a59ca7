/* http_req_ctx.h — the per-request context shared by http.c (the request pipeline) and
 * http_send.c (the answer on the wire); private to the HTTP layer. */
#ifndef XVPS_HTTP_REQ_CTX_H
#define XVPS_HTTP_REQ_CTX_H

#include <microhttpd.h>
#include <stdbool.h>
#include <stdint.h>

#include "http.h"
#include "http_cache.h"

#define MAX_PATH_BYTES 2048

/* The per-request context (MHD's req_cls); rq comes first so handlers' http_req * is it. */
typedef struct req_ctx {
	http_req rq;
	size_t body_cap;
	char scratch[MAX_PATH_BYTES]; /* path parameters, NUL-separated */
	int file_fd;                  /* static file to send, or -1 */
	uint64_t file_size;
	bool is_static;
	http_cache_req cache; /* CACHE_ETAG routes */
} req_ctx;

/* Queues rq's answer on its connection: a static file, a raw, shared (answer cache) or JSON
 * body, or a 101 upgrade; with the security headers and the status metrics. MHD_NO ends the
 * connection. */
enum MHD_Result http_send_reply(req_ctx *ctx);

#endif
