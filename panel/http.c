/* http.c — xvpsd's HTTP layer on libmicrohttpd 0.9.75 (epoll thread pool): body buffering, route
 * matching, the auth/CSRF/body checks every route gets before its handler, RFC 9457 problems,
 * security headers, metrics, the static UI files (web/ and noVNC under /novnc/) and 101
 * upgrades handed to their owner (the console websocket). Handlers never see a request that
 * failed those checks; this file never trusts a header, a path or a body. */
#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <microhttpd.h>
#include <netdb.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include "../common/util.h"
#include "http_internal.h"
#include "panel.h"

#define MAX_PATH_BYTES 2048

/* The per-request context (MHD's req_cls); rq comes first so handlers' http_req * is it. */
typedef struct req_ctx {
	http_req rq;
	size_t body_cap;
	char scratch[MAX_PATH_BYTES]; /* path parameters, NUL-separated */
	int file_fd;                  /* static file to send, or -1 */
	uint64_t file_size;
	bool is_static;
} req_ctx;

static struct MHD_Daemon *g_daemon;

static const char CSP_API[] = "default-src 'none'; frame-ancestors 'none'";
/* Static pages (issue 6 Contract B): no inline script or style, same-origin fetch/WebSocket. */
static const char CSP_STATIC[] = "default-src 'self'; script-src 'self'; style-src 'self'; "
                                 "img-src 'self' data:; connect-src 'self'; "
                                 "frame-ancestors 'none'; base-uri 'none'; form-action 'self'";

/* ---- pure helpers (http_internal.h) -------------------------------------------------------- */

bool route_match(const char *pattern, const char *path, char *scratch, size_t scratch_len,
                 const char *params_out[HTTP_MAX_PARAMS], int *nparams_out)
{
	const char *p = pattern, *s = path;
	size_t used = 0;
	int n = 0;

	*nparams_out = 0;
	while (*p && *s) {
		if (*p != '/' || *s != '/')
			return false;
		p++;
		s++;
		if (p[0] == '{' && p[1] == '}' && (p[2] == '/' || p[2] == '\0')) {
			size_t len = strcspn(s, "/");

			if (len == 0 || n >= HTTP_MAX_PARAMS || used + len + 1 > scratch_len)
				return false;
			memcpy(scratch + used, s, len);
			scratch[used + len] = '\0';
			params_out[n++] = scratch + used;
			used += len + 1;
			p += 2;
			s += len;
		} else {
			size_t plen = strcspn(p, "/"), slen = strcspn(s, "/");

			if (plen != slen || memcmp(p, s, plen) != 0)
				return false;
			p += plen;
			s += slen;
		}
	}
	if (*p || *s)
		return false;
	*nparams_out = n;
	return true;
}

const route *route_find(const route *table, const char *method, const char *path, char *scratch,
                        size_t scratch_len, const char *params_out[HTTP_MAX_PARAMS],
                        int *nparams_out, bool *path_known_out, char *allow_out, size_t allow_len)
{
	const char *m = strcmp(method, "HEAD") == 0 ? "GET" : method;
	size_t alen = 0;

	*path_known_out = false;
	if (allow_len)
		allow_out[0] = '\0';
	for (const route *r = table; r->method; r++) {
		if (!route_match(r->pattern, path, scratch, scratch_len, params_out, nparams_out))
			continue;
		if (strcmp(r->method, m) == 0)
			return r;
		*path_known_out = true;
		if (alen + strlen(r->method) + 3 < allow_len) {
			alen += (size_t)snprintf(allow_out + alen, allow_len - alen, "%s%s",
			                         alen ? ", " : "", r->method);
		}
	}
	*nparams_out = 0;
	return NULL;
}

static const struct {
	int status;
	const char *slug;
	const char *title;
} problem_kinds[] = {
        {400, "bad-request", "Bad Request"},
        {401, "unauthorized", "Unauthorized"},
        {403, "forbidden", "Forbidden"},
        {404, "not-found", "Not Found"},
        {405, "method-not-allowed", "Method Not Allowed"},
        {409, "conflict", "Conflict"},
        {413, "content-too-large", "Content Too Large"},
        {415, "unsupported-media-type", "Unsupported Media Type"},
        {422, "validation-error", "Unprocessable Content"},
        {429, "too-many-requests", "Too Many Requests"},
        {500, "internal-error", "Internal Server Error"},
        {502, "bad-gateway", "Bad Gateway"},
        {503, "service-unavailable", "Service Unavailable"},
        {504, "gateway-timeout", "Gateway Timeout"},
};

static int problem_index(int status)
{
	for (size_t i = 0; i < sizeof(problem_kinds) / sizeof(problem_kinds[0]); i++)
		if (problem_kinds[i].status == status)
			return (int)i;
	return -1;
}

const char *problem_slug(int status)
{
	int i = problem_index(status);

	if (i >= 0)
		return problem_kinds[i].slug;
	return status >= 500 ? "server-error" : "client-error";
}

json_object *problem_json(int status, const char *title, const char *detail, const char *field)
{
	json_object *o = json_object_new_object();
	char type[96];
	int i = problem_index(status);

	if (!title)
		title = i >= 0 ? problem_kinds[i].title
		               : (status >= 500 ? "Server Error" : "Error");
	snprintf(type, sizeof(type), "https://xvps.dev/problems/%s", problem_slug(status));
	json_object_object_add(o, "type", json_object_new_string(type));
	json_object_object_add(o, "title", json_object_new_string(title));
	json_object_object_add(o, "status", json_object_new_int(status));
	json_object_object_add(o, "detail", json_object_new_string(detail ? detail : title));
	if (field)
		json_object_object_add(o, "field", json_object_new_string(field));
	return o;
}

bool content_type_is_json(const char *ct)
{
	static const char want[] = "application/json";
	size_t n = sizeof(want) - 1;

	if (!ct)
		return false;
	while (*ct == ' ' || *ct == '\t')
		ct++;
	if (strncasecmp(ct, want, n) != 0)
		return false;
	ct += n;
	while (*ct == ' ' || *ct == '\t')
		ct++;
	return *ct == '\0' || *ct == ';';
}

bool method_is_unsafe(const char *method)
{
	return strcmp(method, "POST") == 0 || strcmp(method, "PUT") == 0 ||
	       strcmp(method, "PATCH") == 0 || strcmp(method, "DELETE") == 0;
}

bool ip_is_loopback(const char *ip)
{
	return strncmp(ip, "127.", 4) == 0 || strcmp(ip, "::1") == 0;
}

/* ---- replies -------------------------------------------------------------------------------- */

static void reply_clear(http_req *rq)
{
	void (*drop)(void *) = rq->upgrade_drop;
	void *cls = rq->upgrade_cls;

	rq->upgrade_fn = NULL;
	rq->upgrade_drop = NULL;
	rq->upgrade_cls = NULL;
	if (drop && cls)
		drop(cls);
	if (rq->resp_json)
		json_object_put(rq->resp_json);
	rq->resp_json = NULL;
	free(rq->resp_raw);
	rq->resp_raw = NULL;
	rq->resp_raw_len = 0;
}

void reply_json(http_req *rq, int status, json_object *body)
{
	reply_clear(rq);
	rq->status = status;
	rq->resp_json = body;
	rq->content_type = "application/json";
}

void reply_empty(http_req *rq, int status)
{
	reply_clear(rq);
	rq->status = status;
	rq->content_type = NULL;
}

void reply_problem(http_req *rq, int status, const char *title, const char *detail,
                   const char *field)
{
	reply_clear(rq);
	rq->status = status;
	rq->resp_json = problem_json(status, title, detail, field);
	rq->content_type = "application/problem+json";
}

void reply_field_error(http_req *rq, const json_field_error *e)
{
	reply_problem(rq, e->status ? e->status : 422, "Invalid request field",
	              e->detail ? e->detail : "is not valid", e->field);
}

void reply_not_found(http_req *rq, const char *what)
{
	char detail[96];

	snprintf(detail, sizeof(detail), "no such %s", what ? what : "resource");
	reply_problem(rq, 404, NULL, detail, NULL);
}

void reply_header(http_req *rq, const char *name, const char *value)
{
	char *n, *v;

	for (int i = 0; i < rq->nhdr; i++) {
		if (strcasecmp(rq->hdr_name[i], name) == 0 && strcasecmp(name, "Set-Cookie") != 0) {
			v = strdup(value);
			if (!v)
				return;
			free(rq->hdr_value[i]);
			rq->hdr_value[i] = v;
			return;
		}
	}
	if (rq->nhdr >= MAX_RESP_HEADERS) {
		log_warn("http: too many response headers, dropping %s", name);
		return;
	}
	n = strdup(name);
	v = strdup(value);
	if (!n || !v) {
		free(n);
		free(v);
		return;
	}
	rq->hdr_name[rq->nhdr] = n;
	rq->hdr_value[rq->nhdr] = v;
	rq->nhdr++;
}

void reply_raw(http_req *rq, int status, const char *content_type, char *data, size_t len)
{
	reply_clear(rq);
	rq->status = status;
	rq->resp_raw = data;
	rq->resp_raw_len = len;
	rq->content_type = content_type;
}

void reply_upgrade(http_req *rq, http_upgrade_fn fn, void (*drop)(void *cls), void *cls)
{
	reply_clear(rq);
	rq->status = 101;
	rq->content_type = NULL;
	rq->upgrade_fn = fn;
	rq->upgrade_drop = drop;
	rq->upgrade_cls = cls;
}

void http_upgrade_close(void *urh)
{
	if (urh && MHD_upgrade_action(urh, MHD_UPGRADE_ACTION_CLOSE) != MHD_YES)
		log_warn("http: closing an upgraded connection failed");
}

/* ---- request accessors ---------------------------------------------------------------------- */

const char *req_query(http_req *rq, const char *key)
{
	if (!rq->conn)
		return NULL;
	return MHD_lookup_connection_value(rq->conn, MHD_GET_ARGUMENT_KIND, key);
}

const char *req_header(http_req *rq, const char *name)
{
	if (!rq->conn)
		return NULL;
	return MHD_lookup_connection_value(rq->conn, MHD_HEADER_KIND, name);
}

const char *req_cookie(http_req *rq, const char *name)
{
	if (!rq->conn)
		return NULL;
	return MHD_lookup_connection_value(rq->conn, MHD_COOKIE_KIND, name);
}

/* ---- the request pipeline ------------------------------------------------------------------- */

static void client_ip(struct MHD_Connection *conn, char *out, size_t len)
{
	const union MHD_ConnectionInfo *ci =
	        MHD_get_connection_info(conn, MHD_CONNECTION_INFO_CLIENT_ADDRESS);
	const struct sockaddr *sa = ci ? ci->client_addr : NULL;

	snprintf(out, len, "-");
	if (!sa)
		return;
	if (sa->sa_family == AF_INET) {
		const struct sockaddr_in *in = (const struct sockaddr_in *)sa;

		inet_ntop(AF_INET, &in->sin_addr, out, (socklen_t)len);
	} else if (sa->sa_family == AF_INET6) {
		const struct sockaddr_in6 *in6 = (const struct sockaddr_in6 *)sa;

		/* A dual-stack socket shows IPv4 clients as ::ffff:a.b.c.d: log them as IPv4. */
		if (IN6_IS_ADDR_V4MAPPED(&in6->sin6_addr))
			inet_ntop(AF_INET, &in6->sin6_addr.s6_addr[12], out, (socklen_t)len);
		else
			inet_ntop(AF_INET6, &in6->sin6_addr, out, (socklen_t)len);
	}
}

static void body_append(req_ctx *ctx, const char *data, size_t len)
{
	http_req *rq = &ctx->rq;
	size_t need;

	if (rq->body_too_large)
		return; /* keep draining */
	if (len > MAX_BODY_BYTES - rq->body_len) {
		rq->body_too_large = true;
		free(rq->body);
		rq->body = NULL;
		rq->body_len = 0;
		return;
	}
	need = rq->body_len + len + 1;
	if (need > ctx->body_cap) {
		size_t cap = ctx->body_cap ? ctx->body_cap : 1024;
		char *nb;

		while (cap < need)
			cap *= 2;
		nb = realloc(rq->body, cap);
		if (!nb) {
			rq->body_too_large = true; /* answer 413 rather than half a body */
			free(rq->body);
			rq->body = NULL;
			rq->body_len = 0;
			return;
		}
		rq->body = nb;
		ctx->body_cap = cap;
	}
	memcpy(rq->body + rq->body_len, data, len);
	rq->body_len += len;
	rq->body[rq->body_len] = '\0';
}

static bool is_api_path(const char *path)
{
	return strncmp(path, "/api", 4) == 0 && (path[4] == '\0' || path[4] == '/');
}

/* GET/HEAD outside /api/: a regular file under cfg.web_dir, or under cfg.novnc_dir for
 * /novnc/... ("/" and "dir/" mean index.html). */
static void serve_static(req_ctx *ctx)
{
	http_req *rq = &ctx->rq;
	char full[1200];
	const char *path = rq->path, *root = g_app->cfg.web_dir;
	struct stat st;
	int fd;

	if (!static_path_ok(path)) {
		reply_not_found(rq, "file");
		return;
	}
	if (strncmp(path, "/novnc/", 7) == 0) {
		root = g_app->cfg.novnc_dir;
		path += 6; /* keeps its "/" */
	}
	if (!root[0]) {
		reply_not_found(rq, "file");
		return;
	}
	if (!sfmt(full, sizeof(full), "%s%s%s", root, path,
	          path[strlen(path) - 1] == '/' ? "index.html" : "")) {
		reply_not_found(rq, "file");
		return;
	}
	fd = open(full, O_RDONLY | O_CLOEXEC | O_NONBLOCK);
	if (fd < 0) {
		reply_not_found(rq, "file");
		return;
	}
	if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
		close(fd);
		reply_not_found(rq, "file");
		return;
	}
	reply_clear(rq);
	rq->status = 200;
	rq->content_type = static_content_type(full);
	ctx->file_fd = fd;
	ctx->file_size = (uint64_t)st.st_size;
	ctx->is_static = true;
}

/* Body rules of DESIGN.md §4 for routes that take JSON. True when the handler may run. */
static bool check_body(http_req *rq, enum route_body kind)
{
	bool too_deep = false;

	if (kind == BODY_NONE)
		return true;
	if (rq->body_too_large) {
		reply_problem(rq, 413, NULL, "the request body is larger than 64 KiB", NULL);
		return false;
	}
	if (rq->body_len == 0 && kind == BODY_OPTIONAL_JSON)
		return true;
	if (!content_type_is_json(req_header(rq, MHD_HTTP_HEADER_CONTENT_TYPE))) {
		reply_problem(rq, 415, NULL, "the request body must be application/json", NULL);
		return false;
	}
	if (rq->body_len == 0) {
		reply_problem(rq, 400, NULL, "the request body is empty", NULL);
		return false;
	}
	rq->json = json_parse_strict(rq->body, rq->body_len, &too_deep);
	if (!rq->json) {
		reply_problem(rq, 400, NULL,
		              too_deep ? "JSON nesting deeper than 32" : "malformed JSON", NULL);
		return false;
	}
	if (!json_object_is_type(rq->json, json_type_object)) {
		reply_problem(rq, 400, NULL, "the request body must be a JSON object", NULL);
		return false;
	}
	return true;
}

static void dispatch(req_ctx *ctx)
{
	http_req *rq = &ctx->rq;
	const route *r;
	bool known = false, identified, csrf_ok = true;
	char allow[64];

	if (strlen(rq->path) >= MAX_PATH_BYTES) {
		reply_not_found(rq, "resource");
		return;
	}
	r = route_find(xvps_routes, rq->method, rq->path, ctx->scratch, sizeof(ctx->scratch),
	               rq->params, &rq->nparams, &known, allow, sizeof(allow));
	if (!r) {
		if (known) {
			reply_problem(rq, 405, NULL, "this method is not allowed here", NULL);
			reply_header(rq, "Allow", allow);
		} else if (!is_api_path(rq->path) &&
		           (strcmp(rq->method, "GET") == 0 || strcmp(rq->method, "HEAD") == 0)) {
			serve_static(ctx);
		} else {
			reply_not_found(rq, "resource");
		}
		return;
	}

	identified = auth_identify(rq, &csrf_ok);
	if (!identified)
		memset(&rq->user, 0, sizeof(rq->user));
	if (r->auth != AUTH_NONE) {
		if (!identified) {
			reply_problem(rq, 401, NULL, "log in or send an API key", NULL);
			reply_header(rq, "WWW-Authenticate", "Bearer realm=\"xvps\"");
			return;
		}
		if (r->auth == AUTH_ADMIN && !rq->user.is_admin) {
			reply_problem(rq, 403, NULL, "this needs the admin role", NULL);
			return;
		}
		if (method_is_unsafe(rq->method) && !csrf_ok) {
			/* A forged cross-site request looks like this: keep a trace of it. */
			audit(rq, "csrf.refused", rq->path, rq->method);
			reply_problem(rq, 403, NULL, "missing or wrong X-CSRF-Token header", NULL);
			return;
		}
	} else if (identified && method_is_unsafe(rq->method) && !csrf_ok) {
		/* An open route (POST /session) reached with a cookie but no CSRF token: the
		 * request may be forged, so it runs as anonymous. */
		memset(&rq->user, 0, sizeof(rq->user));
	}
	if (!check_body(rq, r->body))
		return;
	r->fn(rq);
	if (rq->status == 0) {
		log_error("http: %s %s: handler gave no reply", rq->method, r->pattern);
		reply_problem(rq, 500, NULL, "the handler gave no reply", NULL);
	}
}

static void add_security_headers(struct MHD_Response *resp, bool is_static)
{
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

static enum MHD_Result send_reply(req_ctx *ctx)
{
	http_req *rq = &ctx->rq;
	struct MHD_Response *resp = NULL;
	enum MHD_Result ret;
	xvps_metrics *m = &g_app->metrics;

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
	add_security_headers(resp, ctx->is_static);
	for (int i = 0; i < rq->nhdr; i++)
		MHD_add_response_header(resp, rq->hdr_name[i], rq->hdr_value[i]);
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

static enum MHD_Result on_access(void *cls, struct MHD_Connection *conn, const char *url,
                                 const char *method, const char *version, const char *upload_data,
                                 size_t *upload_data_size, void **req_cls)
{
	req_ctx *ctx = *req_cls;

	if (!ctx) {
		ctx = calloc(1, sizeof(*ctx));
		if (!ctx)
			return MHD_NO;
		ctx->file_fd = -1;
		ctx->rq.conn = conn;
		ctx->rq.method = method;
		ctx->rq.path = url;
		*req_cls = ctx;
		return MHD_YES;
	}
	if (*upload_data_size) {
		body_append(ctx, upload_data, *upload_data_size);
		*upload_data_size = 0;
		return MHD_YES;
	}
	atomic_fetch_add(&g_app->metrics.http_requests, 1);
	client_ip(conn, ctx->rq.ip, sizeof(ctx->rq.ip));
	dispatch(ctx);
	db_release();
	return send_reply(ctx);
}

static void req_ctx_free(req_ctx *ctx)
{
	http_req *rq = &ctx->rq;

	reply_clear(rq);
	if (rq->json)
		json_object_put(rq->json);
	free(rq->body);
	for (int i = 0; i < rq->nhdr; i++) {
		free(rq->hdr_name[i]);
		free(rq->hdr_value[i]);
	}
	if (ctx->file_fd >= 0)
		close(ctx->file_fd);
	free(ctx);
}

static void on_completed(void *cls, struct MHD_Connection *conn, void **req_cls,
                         enum MHD_RequestTerminationCode toe)
{
	if (*req_cls)
		req_ctx_free(*req_cls);
	*req_cls = NULL;
}

/* Resolves cfg.listen_host (an IPv4/IPv6 literal, or a name from /etc/hosts) into ss. */
static int listen_addr(struct sockaddr_storage *ss, bool *v6_literal_out)
{
	const xvps_config *cfg = &g_app->cfg;
	struct sockaddr_in *in = (struct sockaddr_in *)ss;
	struct sockaddr_in6 *in6 = (struct sockaddr_in6 *)ss;
	struct addrinfo hints = {.ai_socktype = SOCK_STREAM, .ai_flags = AI_PASSIVE};
	struct addrinfo *res = NULL;
	int r;

	memset(ss, 0, sizeof(*ss));
	*v6_literal_out = false;
	if (inet_pton(AF_INET, cfg->listen_host, &in->sin_addr) == 1) {
		in->sin_family = AF_INET;
		in->sin_port = htons((uint16_t)cfg->listen_port);
		return 0;
	}
	if (inet_pton(AF_INET6, cfg->listen_host, &in6->sin6_addr) == 1) {
		in6->sin6_family = AF_INET6;
		in6->sin6_port = htons((uint16_t)cfg->listen_port);
		*v6_literal_out = true;
		return 0;
	}
	r = getaddrinfo(cfg->listen_host, NULL, &hints, &res);
	if (r != 0 || !res) {
		log_error("http: cannot resolve listen host %s: %s", cfg->listen_host,
		          gai_strerror(r));
		return -1;
	}
	memcpy(ss, res->ai_addr, res->ai_addrlen);
	if (ss->ss_family == AF_INET)
		in->sin_port = htons((uint16_t)cfg->listen_port);
	else
		in6->sin6_port = htons((uint16_t)cfg->listen_port);
	freeaddrinfo(res);
	return 0;
}

int http_start(void)
{
	const xvps_config *cfg = &g_app->cfg;
	struct sockaddr_storage ss;
	const union MHD_DaemonInfo *di;
	unsigned int flags = MHD_USE_EPOLL_INTERNAL_THREAD | MHD_USE_ERROR_LOG | MHD_ALLOW_UPGRADE;
	bool v6;

	if (g_daemon)
		return 0;
	if (listen_addr(&ss, &v6) != 0)
		return -1;
	if (v6)
		flags |= MHD_USE_DUAL_STACK;
	else if (ss.ss_family == AF_INET6)
		flags |= MHD_USE_IPv6;
	struct MHD_OptionItem tls[] = {
	        {MHD_OPTION_HTTPS_MEM_CERT, 0, cfg->tls_cert},
	        {MHD_OPTION_HTTPS_MEM_KEY, 0, cfg->tls_key},
	        {MHD_OPTION_END, 0, NULL},
	};
	if (cfg->tls_cert)
		flags |= MHD_USE_TLS;
	else
		tls[0].option = MHD_OPTION_END;
	g_daemon = MHD_start_daemon(
	        flags, (uint16_t)cfg->listen_port, NULL, NULL, on_access, NULL,
	        MHD_OPTION_SOCK_ADDR, (struct sockaddr *)&ss, MHD_OPTION_THREAD_POOL_SIZE,
	        (unsigned int)cfg->http_threads, MHD_OPTION_CONNECTION_TIMEOUT,
	        (unsigned int)cfg->conn_timeout_s, MHD_OPTION_PER_IP_CONNECTION_LIMIT,
	        (unsigned int)cfg->per_ip_conn_limit, MHD_OPTION_CONNECTION_MEMORY_LIMIT,
	        cfg->conn_memory_limit, MHD_OPTION_NOTIFY_COMPLETED, on_completed, NULL,
	        MHD_OPTION_ARRAY, tls, MHD_OPTION_END);
	if (!g_daemon) {
		log_error("http: cannot listen on %s port %d%s", cfg->listen_host, cfg->listen_port,
		          cfg->tls_cert ? " (or the TLS certificate/key is not usable)" : "");
		return -1;
	}
	/* Port 0 asks the kernel for one: record what we got, so main prints the real URL. */
	di = MHD_get_daemon_info(g_daemon, MHD_DAEMON_INFO_BIND_PORT);
	if (di && di->port)
		g_app->cfg.listen_port = di->port;
	return 0;
}

void http_stop(void)
{
	if (!g_daemon)
		return;
	/* Upgraded connections are the relays' until they close them: first the relays. */
	console_relays_stop();
	MHD_stop_daemon(g_daemon);
	g_daemon = NULL;
}
