/* http_internal.h — the pieces of the HTTP layer below the handlers' view (http_route.c,
 * http_reply.c, http_static.c): route matching, problem+json, request header checks,
 * static-file path rules, exposed for http.c, its unit tests, auth.c and api_misc.c.
 * Nothing here touches the network. Return convention: bool functions answer whether the
 * value matches / is acceptable; pointers are NULL when there is nothing. */
#ifndef XVPS_HTTP_INTERNAL_H
#define XVPS_HTTP_INTERNAL_H

#include <json-c/json.h>
#include <stdbool.h>
#include <stddef.h>

#include "http.h"

/* Matches path against pattern segment by segment; "{}" matches exactly one non-empty segment.
 * Matched segments are copied NUL-terminated into scratch (at most scratch_len bytes) and
 * params_out[0..*nparams_out) point into it. False when the path does not match, has more
 * than HTTP_MAX_PARAMS parameters or does not fit in scratch. */
bool route_match(const char *pattern, const char *path, char *scratch, size_t scratch_len,
                 const char *params_out[HTTP_MAX_PARAMS], int *nparams_out);

/* Finds the route for method and path in table (terminated by a NULL method). HEAD is looked
 * up as GET. Returns it, or NULL: then *path_known_out says whether some route has that path
 * (so the answer is 405, with allow_out listing its methods as "GET, POST"), else 404. */
const route *route_find(const route *table, const char *method, const char *path, char *scratch,
                        size_t scratch_len, const char *params_out[HTTP_MAX_PARAMS],
                        int *nparams_out, bool *path_known_out, char *allow_out, size_t allow_len);

/* ---- API key scopes (issue 14 item 4) ---------------------------------------------------------
 * An API key carries a subset of these; a cookie session has its user's full rights. What each
 * route needs is decided here, in one place (route_scope_ok), never by a handler:
 *   read-only  GET (and HEAD) of anything the user may read, except the billing module API;
 *   vps        the VPS routes a customer may use (/vps..., any method) and GETs;
 *   billing    the billing-system module API (/api/v1/billing/...), and nothing else;
 *   admin      every other route an admin may use (GETs included), not the module API.
 * Managing the key's own account (POST/DELETE /api-keys, DELETE /session) needs every scope
 * the user's role allows (admin: all four; customer: read-only and vps). */
#define SCOPE_READ      1u
#define SCOPE_VPS       2u
#define SCOPE_BILLING   4u
#define SCOPE_ADMIN     8u
#define SCOPE_ALL       (SCOPE_READ | SCOPE_VPS | SCOPE_BILLING | SCOPE_ADMIN)
#define SCOPE_FULL      0x100u /* route_scopes(): every scope of the user's role */
#define SCOPE_NAMES_MAX 40     /* "read-only vps billing admin" with its NUL */

/* The scopes a role may hold: admin all four, customer read-only and vps. */
unsigned scopes_of_role(bool is_admin);
/* The bit of a scope name ("read-only", "vps", "billing", "admin"), or 0. */
unsigned scope_bit(const char *name);
/* The name of one scope bit, or NULL. */
const char *scope_name(unsigned bit);
/* The scopes of which an API key needs one to call r with method, or SCOPE_FULL. */
unsigned route_scopes(const route *r, const char *method);
/* True when a caller with scopes (0: a session, never limited) and is_admin's role may call r
 * with method; else false with *missing_out naming the scope it lacks. */
bool route_scope_ok(const route *r, const char *method, unsigned scopes, bool is_admin,
                    const char **missing_out);

/* RFC 9457 problem document {"type","title","status","detail"[,"field"]} with type
 * "https://xvps.dev/problems/<slug>" (slug from status: "not-found", "validation-error", ...).
 * title NULL: the status's standard title; detail NULL: the title. New reference. */
json_object *problem_json(int status, const char *title, const char *detail, const char *field);
const char *problem_slug(int status);

/* True for "application/json" in any case, optionally followed by parameters
 * ("; charset=utf-8"). False for NULL, "application/jsonx", "text/json" ... */
bool content_type_is_json(const char *ct);

/* True for methods that change state (POST, PUT, PATCH, DELETE): those need CSRF tokens. */
bool method_is_unsafe(const char *method);

/* Static UI files: true when path ("/app.js", "/css/x.css") may name a file under the web
 * directory: starts with '/', no "." or ".." segment nor any segment starting with '.', no
 * backslash, no NUL or control characters, at most 512 bytes. */
bool static_path_ok(const char *path);
/* The Content-Type for a file name by its extension (application/octet-stream if unknown). */
const char *static_content_type(const char *path);

/* Drops whatever reply rq holds (an upgrade's owner state included) before another one. */
void reply_clear(http_req *rq);

/* Request cookie by name (libmicrohttpd parses the Cookie header), or NULL. */
const char *req_cookie(http_req *rq, const char *name);

/* True when ip (as http.c formats it: dotted IPv4, also for v4-mapped IPv6) is a loopback
 * address: 127.0.0.0/8 or ::1. */
bool ip_is_loopback(const char *ip);

#endif
