/* http_reply.c — what a handler answers with: RFC 9457 problem documents, JSON, raw and empty
 * replies, response headers and 101 upgrades, plus the request accessors and the small pure
 * checks of request headers. It only fills the http_req; http.c sends it. Never puts a request
 * value into a header unchecked. */
#include <microhttpd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "../common/util.h"
#include "http.h"
#include "http_cache.h"
#include "http_internal.h"

#define PROBLEM_TYPE_MAX 96 /* "https://xvps.dev/problems/<slug>" */
#define NOT_FOUND_MAX    96 /* "no such <what>" */

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
	char type[PROBLEM_TYPE_MAX];
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

void reply_clear(http_req *rq)
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
	http_body_unref(rq->resp_shared);
	rq->resp_shared = NULL;
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

void reply_field(http_req *rq, const char *field, const char *detail)
{
	json_field_error e = {.field = field, .detail = detail, .status = 422};

	reply_field_error(rq, &e);
}

void reply_db_error(http_req *rq)
{
	reply_problem(rq, 500, NULL, "database error", NULL);
}

void reply_not_found(http_req *rq, const char *what)
{
	char detail[NOT_FOUND_MAX];

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

void reply_shared(http_req *rq, int status, const char *content_type, struct http_body *body)
{
	reply_clear(rq);
	rq->status = status;
	rq->resp_shared = body;
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
