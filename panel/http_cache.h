/* http_cache.h — conditional and cached GETs (issue 17 item 1): for the routes listed in
 * xvps_etag_routes (routes.c), an ETag made of the store's change counter (store_generation()), the
 * minute and the request (user, path, query), a 304 when If-None-Match names it, and the bytes of
 * the last 200 answered from memory while nothing changed. Used by http.c only; no handler sees it.
 * A cached answer can be at most as old as the last commit the generation saw, and never
 * crosses a minute boundary (billing periods start on whole minutes: usage_period, quota). */
#ifndef XVPS_HTTP_CACHE_H
#define XVPS_HTTP_CACHE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "http.h"

struct MHD_Response;

#define HTTP_CACHE_KEY_MAX  512 /* longer requests are answered, never cached */
#define HTTP_CACHE_ETAG_MAX 64

/* One shared answer body: immutable, reference counted, with the handler's headers. */
typedef struct http_body http_body;

/* What dispatch() keeps between http_cache_lookup() and http_cache_fill(). */
typedef struct http_cache_req {
	bool active;  /* the request has an ETag */
	bool claimed; /* this request builds the kept answer (others wait for it) */
	uint64_t gen;
	int64_t minute;
	char key[HTTP_CACHE_KEY_MAX];
	char etag[HTTP_CACHE_ETAG_MAX];
} http_cache_req;

/* Before the handler of such a route (the user is identified): a 304 when the request's
 * If-None-Match names the current ETag, else the cached 200 when there is one. True when rq
 * holds the answer (the handler must not run). */
bool http_cache_lookup(http_req *rq, http_cache_req *c);
/* After the handler: a 200 with a JSON body (a json-c tree, or raw application/json text) is kept
 * for the next requests (serialized once) and
 * given its ETag; any other answer passes unchanged. */
void http_cache_fill(http_req *rq, http_cache_req *c);

/* The body's bytes and length, and its headers (name, value) for send_reply(). */
const char *http_body_data(const http_body *b, size_t *len_out);
int http_body_nheaders(const http_body *b);
void http_body_header(const http_body *b, int i, const char **name, const char **value);
void http_body_unref(void *b);
/* The one libmicrohttpd response of b (body and headers fixed: the answer's own headers, then
 * decorate(response, cls) adds the rest), made at its first use and shared by every answer
 * that sends b afterwards; queue it, never destroy it. NULL when it cannot be made. */
struct MHD_Response *http_body_response(http_body *b,
                                        void (*decorate)(struct MHD_Response *, void *), void *cls);

/* Drops every cached answer (tests, shutdown). */
void http_cache_clear(void);

#endif
