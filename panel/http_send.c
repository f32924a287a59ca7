/* http_send.c — the answer on the wire (http_req_ctx.h): security headers (CSP for the API and
 * for the static UI), 101 upgrades handed to their owner (the console websocket), kept answers
 * of the answer cache, and the 2xx/4xx/5xx metrics. */
#include <microhttpd.h>
#include <stdatomic.h>
#include <string.h>
#include <strings.h>

#include "../common/util.h"
#include "config.h"
#include "http_req_ctx.h"
#include "store.h"

static const char CSP_API[] = "default-src 'none'; frame-ancestors 'none'";
/* Static pages (issue 6 Contract B): no inline script or style, same-origin fetch/WebSocket. */
static const char CSP_STATIC[] = "default-src 'self'; script-src 'self'; style-src 'self'; "
                                 "img-src 'self' data:; connect-src 'self'; "
                                 "frame-ancestors 'none'; base-uri 'none'; form-action 'self'";

static void add_security_headers(struct MHD_Response *resp, bool is_static, bool cache_control)
{
	if (!cache_control)
		MHD_add_response_header(resp, "Cache-Control", "no-store");
	MHD_add_response_header(resp, "X-Content-Type-Options", "nosniff");
	MHD_add_response_header(resp, "X-Frame-Options", "DENY");
	MHD_add_response_header(resp, "Referrer-Policy", "no-referrer");
	MHD_add_response_header(resp, "Content-Security-Policy", is_static ? CSP_STATIC : CSP_API);
}

/* MHD calls this once the 101 went out; the connection lives (suspended) until the owner calls
 * http_upgrade_close(), so ctx does too (on_completed comes after that). */
static void on_upgrade(void *cls, struct MHD_Connection *conn, void *req_cls, const char *extra_in,
                       size_t extra_in_size, MHD_socket sock, struct MHD_UpgradeResponseHandle *urh)
{
	req_ctx *ctx = cls;
	http_upgrade_fn fn = ctx->rq.upgrade_fn;
	void *ucls = ctx->rq.upgrade_cls;

	ctx->rq.upgrade_fn = NULL;
	ctx->rq.upgrade_drop = NULL;
	ctx->rq.upgrade_cls = NULL;
	if (!fn) {
		http_upgrade_close(urh);
		return;
	}
	fn(ucls, extra_in, extra_in_size, sock, urh);
}

static enum MHD_Result send_upgrade(req_ctx *ctx)
{
	http_req *rq = &ctx->rq;
	struct MHD_Response *resp = MHD_create_response_for_upgrade(on_upgrade, ctx);
	enum MHD_Result ret;

	if (!resp)
		return MHD_NO; /* the connection ends: on_completed drops the owner's state */
	for (int i = 0; i < rq->nhdr; i++)
		MHD_add_response_header(resp, rq->hdr_name[i], rq->hdr_value[i]);
	ret = MHD_queue_response(rq->conn, MHD_HTTP_SWITCHING_PROTOCOLS, resp);
	MHD_destroy_response(resp);
	if (ret == MHD_YES)
		atomic_fetch_add(&g_app->metrics.http_2xx, 1);
	else
		log_warn("http: %s %s: the 101 could not be queued", rq->method, rq->path);
	return ret;
}

/* The headers of a kept answer besides its own (http_body_response()). */
static void decorate_shared(struct MHD_Response *resp, void *cls)
{
	http_req *rq = cls;

	MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_TYPE, rq->content_type);
	for (int i = 0; i < rq->nhdr; i++)
		MHD_add_response_header(resp, rq->hdr_name[i], rq->hdr_value[i]);
	add_security_headers(resp, false, true);
}

enum MHD_Result http_send_reply(req_ctx *ctx)
{
	http_req *rq = &ctx->rq;
	struct MHD_Response *resp = NULL;
	enum MHD_Result ret;
	xvps_metrics *m = &g_app->metrics;
	bool cache_control = false;

	if (rq->upgrade_fn && rq->status == 101)
		return send_upgrade(ctx);
	if (ctx->is_static) {
		resp = MHD_create_response_from_fd64(ctx->file_size, ctx->file_fd);
		if (resp)
			ctx->file_fd = -1; /* MHD closes it */
	} else if (rq->resp_raw) {
		resp = MHD_create_response_from_buffer(rq->resp_raw_len, rq->resp_raw,
		                                       MHD_RESPMEM_MUST_FREE);
		if (resp) {
			rq->resp_raw = NULL;
			rq->resp_raw_len = 0;
		}
	} else if (rq->resp_shared) {
		/* A kept answer (http_cache.c): one response with all its headers, made once and
		 * queued as is (its ETag and Cache-Control are the same for every request). */
		resp = http_body_response(rq->resp_shared, decorate_shared, rq);
		if (!resp)
			return MHD_NO;
		ret = MHD_queue_response(rq->conn, (unsigned int)rq->status, resp);
		atomic_fetch_add(&m->http_2xx, 1);
		return ret;
	} else if (rq->resp_json) {
		const char *s = json_compact(rq->resp_json);

		resp = MHD_create_response_from_buffer(strlen(s), (void *)s, MHD_RESPMEM_MUST_COPY);
	} else {
		resp = MHD_create_response_from_buffer(0, (void *)"", MHD_RESPMEM_PERSISTENT);
	}
	if (!resp)
		return MHD_NO;
	if (rq->content_type)
		MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_TYPE, rq->content_type);
	for (int i = 0; i < rq->nhdr; i++) {
		MHD_add_response_header(resp, rq->hdr_name[i], rq->hdr_value[i]);
		cache_control = cache_control || strcasecmp(rq->hdr_name[i], "Cache-Control") == 0;
	}
	add_security_headers(resp, ctx->is_static, cache_control);
	ret = MHD_queue_response(rq->conn, (unsigned int)rq->status, resp);
	MHD_destroy_response(resp);

	if (rq->status >= 500) {
		atomic_fetch_add(&m->http_5xx, 1);
		log_warn("http: %s %s -> %d", rq->method, rq->path, rq->status);
	} else if (rq->status >= 400) {
		atomic_fetch_add(&m->http_4xx, 1);
	} else if (rq->status >= 200 && rq->status < 300) {
		atomic_fetch_add(&m->http_2xx, 1);
	}
	return ret;
}
