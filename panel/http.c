/* http.c — xvpsd's HTTP layer on libmicrohttpd 0.9.75 (epoll thread pool): body buffering, the
 * auth/CSRF/body checks every route gets before its handler (routes matched by http_route.c,
 * replies and problems built by http_reply.c), security headers, metrics, the static UI files
 * (web/, noVNC under /novnc/, Chart.js under /vendor/chart.js/) and 101 upgrades handed to their
 * owner (the console websocket). Handlers never see a request that failed those checks; this file
 * never trusts a header, a path or a body. */
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
#include "api.h"
#include "audit.h"
#include "auth.h"
#include "config.h"
#include "console_relay.h"
#include "http.h"
#include "http_cache.h"
#include "http_internal.h"
#include "http_park.h"
#include "http_req_ctx.h"
#include "store.h"

static struct MHD_Daemon *g_daemon;

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

/* GET/HEAD outside /api/: a regular file under cfg.web_dir, under cfg.novnc_dir for
 * /novnc/..., under cfg.chartjs_dir for /vendor/chart.js/... or under cfg.qrcode_dir for
 * /vendor/qrcode-generator/... ("/" and "dir/" mean
 * index.html). */
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
	} else if (strncmp(path, "/vendor/chart.js/", 17) == 0) {
		root = g_app->cfg.chartjs_dir;
		path += 16; /* keeps its "/" */
	} else if (strncmp(path, "/vendor/qrcode-generator/", 25) == 0) {
		root = g_app->cfg.qrcode_dir;
		path += 24; /* keeps its "/" */
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

/* Body rules of the REST API (docs/openapi.yaml) for routes that take JSON. True when the handler
 * may run. */
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

/* 403 naming the scope an API key lacks: problem+json with the extension member "scope". */
static void reply_scope_missing(http_req *rq, const char *scope)
{
	char detail[PROBLEM_DETAIL_MAX];
	json_object *p;

	snprintf(detail, sizeof(detail), "this API key lacks the scope \"%s\"",
	         scope ? scope : "?");
	p = problem_json(403, NULL, detail, NULL);
	json_object_object_add(p, "scope", json_object_new_string(scope ? scope : ""));
	reply_json(rq, 403, p);
	rq->content_type = "application/problem+json";
}

static bool route_has_etag(const route *r)
{
	if (strcmp(r->method, "GET") != 0)
		return false;
	for (const route_fn *f = xvps_etag_routes; *f; f++)
		if (*f == r->fn)
			return true;
	return false;
}

static void dispatch(req_ctx *ctx)
{
	http_req *rq = &ctx->rq;
	const route *r;
	bool known = false, identified, csrf_ok = true, etag;
	const char *missing = NULL;
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
		if (!route_scope_ok(r, rq->method, rq->user.scopes, rq->user.is_admin, &missing)) {
			reply_scope_missing(rq, missing);
			return;
		}
		if (method_is_unsafe(rq->method) && !csrf_ok) {
			/* A forged cross-site request looks like this: keep a trace of it. */
			audit(rq, "csrf.refused", rq->path, rq->method);
			reply_problem(rq, 403, NULL, "missing or wrong X-CSRF-Token header", NULL);
			return;
		}
		if (!account_gate(rq, r->pattern))
			return;
	} else if (identified && method_is_unsafe(rq->method) && !csrf_ok) {
		/* An open route (POST /session) reached with a cookie but no CSRF token: the
		 * request may be forged, so it runs as anonymous. */
		memset(&rq->user, 0, sizeof(rq->user));
	}
	if (!check_body(rq, r->body))
		return;
	/* A long poll (?wait=) answers once something changed: never from the answer cache. */
	etag = route_has_etag(r) && !req_query(rq, "wait");
	if (etag && http_cache_lookup(rq, &ctx->cache))
		return;
	rq->park = false;
	r->fn(rq);
	if (rq->park && rq->status == 0)
		return; /* parked: on_access suspends the connection */
	rq->park = false;
	if (rq->status == 0) {
		log_error("http: %s %s: handler gave no reply", rq->method, r->pattern);
		reply_problem(rq, 500, NULL, "the handler gave no reply", NULL);
	}
	if (etag)
		http_cache_fill(rq, &ctx->cache);
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
	if (!ctx->rq.park_deadline_ms) /* a parked request runs again: counted once */
		atomic_fetch_add(&g_app->metrics.http_requests, 1);
	client_ip(conn, ctx->rq.ip, sizeof(ctx->rq.ip));
	dispatch(ctx);
	db_release();
	if (ctx->rq.park) {
		/* Suspended first, then recorded: a wake between the two finds it suspended (MHD
		 * applies a suspend asked for in this callback when it returns). */
		MHD_suspend_connection(conn);
		if (!http_park_add(conn, ctx->rq.park_key, ctx->rq.park_deadline_ms))
			MHD_resume_connection(conn); /* runs again; http_req_park then says no */
		return MHD_YES;
	}
	return http_send_reply(ctx);
}

bool http_req_park(http_req *rq, int64_t key, unsigned wait_ms)
{
	uint64_t now = now_mono_ms();

	if (!rq->park_deadline_ms)
		rq->park_deadline_ms = now + wait_ms;
	if (wait_ms == 0 || now >= rq->park_deadline_ms || !http_park_room())
		return false;
	rq->park = true;
	rq->park_key = key;
	return true;
}

static void park_resume(void *conn)
{
	MHD_resume_connection(conn);
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
	if (http_park_start(park_resume) != 0)
		log_warn("http: no long polls (cannot start their thread): ?wait= answers at once");
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
	wsrelay_stop_all();
	http_park_stop(); /* parked requests answer now: a daemon stops without suspended ones */
	MHD_stop_daemon(g_daemon);
	g_daemon = NULL;
}
