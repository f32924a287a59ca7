/* http.h — the HTTP request/response model every handler uses (http.c, http_reply.c): the
 * request, the route table, RFC 9457 problem replies and the daemon's start/stop. Handlers only
 * see requests that passed the route's auth and body checks; nothing here talks to the agent.
 * Return convention: int functions return 0 on success and -1 on error (logged); bool
 * functions return true when the value is valid / the check passed; reply_*() never fail (an
 * allocation failure leaves the previous reply or none, and http.c answers 500). */
#ifndef XVPS_PANEL_HTTP_H
#define XVPS_PANEL_HTTP_H

#include <json-c/json.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "../common/jsonutil.h"

#define MAX_BODY_BYTES     (64 * 1024)
#define MAX_RESP_HEADERS   8
#define HTTP_IP_MAX        64  /* client address as text */
#define HTTP_MAX_PARAMS    4   /* path parameters ("{}" segments) of one route */
#define PROBLEM_DETAIL_MAX 320 /* a problem's formatted detail sentence */
#define AUTH_USERNAME_MAX  64
#define AUTH_ROLE_MAX      16
#define AUTH_CSRF_MAX      72

struct http_body; /* http_cache.h */

enum route_auth { AUTH_NONE = 0, AUTH_USER, AUTH_ADMIN };
enum route_body { BODY_NONE = 0, BODY_JSON, BODY_OPTIONAL_JSON };

typedef struct auth_user {
	int64_t id; /* 0 = anonymous */
	char username[AUTH_USERNAME_MAX];
	char role[AUTH_ROLE_MAX]; /* "admin" | "customer" */
	bool is_admin;
	int64_t session_id; /* sessions.id when authenticated by cookie, else 0 */
	int64_t api_key_id; /* api_keys.id when by bearer token, else 0 */
	unsigned scopes;    /* the API key's SCOPE_* bits (http_route.c); 0 for a cookie session */
	char csrf_token[AUTH_CSRF_MAX];
	bool totp_on; /* the user confirmed a TOTP second factor (issue 16 item 5) */
} auth_user;

/* Called once the 101 of reply_upgrade() was sent: sock is the upgraded connection (non-blocking;
 * never close it), extra_in the bytes the client sent after its request, urh the handle for
 * http_upgrade_close(). Runs inside the HTTP event loop: it must not block. */
typedef void (*http_upgrade_fn)(void *cls, const char *extra_in, size_t extra_len, int sock,
                                void *urh);

typedef struct http_req {
	void *conn;                          /* struct MHD_Connection * */
	const char *method;                  /* "GET", "POST", ... */
	const char *path;                    /* URL path without query, e.g. "/api/v1/vps/12" */
	char ip[HTTP_IP_MAX];                /* client address as text */
	const char *params[HTTP_MAX_PARAMS]; /* path parameters matched by "{}" segments */
	int nparams;
	char *body; /* raw request body (NUL-terminated) */
	size_t body_len;
	bool body_too_large;
	json_object *json; /* parsed body (routes with BODY_JSON/BODY_OPTIONAL_JSON) */
	auth_user user;
	uint64_t store_gen; /* store_generation() when this request first needed it, 0 before */
	/* response, set through reply_*() */
	int status;
	json_object *resp_json;
	char *resp_raw; /* alternative raw body (heap) */
	size_t resp_raw_len;
	struct http_body *resp_shared; /* alternative shared body (http_cache.c), one reference */
	const char *content_type;      /* default application/json */
	char *hdr_name[MAX_RESP_HEADERS];
	char *hdr_value[MAX_RESP_HEADERS];
	int nhdr;
	/* a 101 answer (reply_upgrade) */
	http_upgrade_fn upgrade_fn;
	void (*upgrade_drop)(void *cls);
	void *upgrade_cls;
	/* a long poll (http_req_park) */
	bool park;                 /* set by http_req_park: suspend, run again on wake */
	int64_t park_key;          /* what wakes it (http_park_wake) */
	uint64_t park_deadline_ms; /* monotonic; 0 until the first park */
} http_req;

typedef void (*route_fn)(http_req *rq);

typedef struct route {
	const char *method;
	const char *pattern; /* "/api/v1/vps/{}/actions/{}": "{}" matches one non-empty segment */
	route_fn fn;
	enum route_auth auth;
	enum route_body body;
} route;

extern const route xvps_routes[]; /* panel/routes.c, terminated by {NULL} */
/* Handlers of GET routes whose 200 depends only on the store, the user, the path, the query and
 * the minute (panel/routes.c, terminated by NULL): they answer with an ETag, a 304 on
 * If-None-Match, and from memory while nothing changed (http_cache.h). */
extern const route_fn xvps_etag_routes[];

/* Query-string argument of this request, or NULL. */
const char *req_query(http_req *rq, const char *key);
/* Request header, or NULL. */
const char *req_header(http_req *rq, const char *name);

/* Replies (http_reply.c). Each takes ownership of body. Calling a reply twice replaces the
 * first. */
void reply_json(http_req *rq, int status, json_object *body);
void reply_empty(http_req *rq, int status); /* e.g. 204 */
/* RFC 9457 problem+json: {"type","title","status","detail"[,"field"]}, type
 * "https://xvps.dev/problems/<slug>" where slug derives from status; title NULL: the status's
 * standard title ("Conflict", "Internal Server Error", ...). */
void reply_problem(http_req *rq, int status, const char *title, const char *detail,
                   const char *field);
void reply_field_error(http_req *rq, const json_field_error *e); /* 422 with field */
/* 422 "Invalid request field" naming field, with detail as the sentence. */
void reply_field(http_req *rq, const char *field, const char *detail);
void reply_not_found(http_req *rq, const char *what); /* 404 "no such <what>" */
/* 500 "database error": the one answer to a failed query (the failure itself is logged where
 * it happened, by SQLite's prepare or by the caller). */
void reply_db_error(http_req *rq);
void reply_header(http_req *rq, const char *name, const char *value);
void reply_raw(http_req *rq, int status, const char *content_type, char *data, size_t len);
/* A body shared with the answer cache (http_cache.c): takes one reference of body. */
void reply_shared(http_req *rq, int status, const char *content_type, struct http_body *body);
/* 101 Switching Protocols with the headers set by reply_header() (never "Connection": the HTTP
 * layer adds it). Takes cls: fn(cls, ...) runs once the 101 is sent; when it never is (the
 * client went away, another reply replaced this one), drop(cls) runs instead. */
void reply_upgrade(http_req *rq, http_upgrade_fn fn, void (*drop)(void *cls), void *cls);
/* A long poll (http_park.h): the handler has nothing new yet and returns without a reply;
 * the request runs again, from the start, once http_park_wake(key) is called or wait_ms after
 * it first parked. False when it cannot park (the wait is over, parking is full or stopping):
 * the handler answers now. */
bool http_req_park(http_req *rq, int64_t key, unsigned wait_ms);
/* Ends an upgraded connection (urh from an http_upgrade_fn); call it exactly once. */
void http_upgrade_close(void *urh);

int http_start(void); /* starts libmicrohttpd (epoll, thread pool) */
void http_stop(void); /* closes the console relays first, then stops the daemon */

#endif
