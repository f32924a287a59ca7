/* http_route.c — matching a request's method and path against the route table (routes.c):
 * "{}" segments become path parameters. Pure: it touches no connection, no database and no
 * global state, and it never decodes or normalizes a path (an odd path simply matches nothing). */
#include <stdio.h>
#include <string.h>

#include "http.h"
#include "http_internal.h"

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
			/* A literal segment: equal up to the next '/' or the end of both. */
			while (*p && *p != '/' && *p == *s) {
				p++;
				s++;
			}
			if ((*p && *p != '/') || (*s && *s != '/'))
				return false;
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

/* ---- API key scopes ----------------------------------------------------------------------- */

static const struct {
	unsigned bit;
	const char *name;
} scope_names[] = {
        {SCOPE_READ, "read-only"},
        {SCOPE_VPS, "vps"},
        {SCOPE_BILLING, "billing"},
        {SCOPE_ADMIN, "admin"},
};

unsigned scopes_of_role(bool is_admin)
{
	return is_admin ? SCOPE_ALL : (SCOPE_READ | SCOPE_VPS);
}

unsigned scope_bit(const char *name)
{
	for (size_t i = 0; name && i < sizeof(scope_names) / sizeof(scope_names[0]); i++)
		if (strcmp(name, scope_names[i].name) == 0)
			return scope_names[i].bit;
	return 0;
}

const char *scope_name(unsigned bit)
{
	for (size_t i = 0; i < sizeof(scope_names) / sizeof(scope_names[0]); i++)
		if (scope_names[i].bit == bit)
			return scope_names[i].name;
	return NULL;
}

static bool has_prefix(const char *s, const char *prefix)
{
	return strncmp(s, prefix, strlen(prefix)) == 0;
}

unsigned route_scopes(const route *r, const char *method)
{
	bool read = strcmp(method, "GET") == 0 || strcmp(method, "HEAD") == 0;

	if (has_prefix(r->pattern, "/api/v1/billing/"))
		return SCOPE_BILLING;
	if (read)
		return r->auth == AUTH_ADMIN ? SCOPE_READ | SCOPE_ADMIN
		                             : SCOPE_READ | SCOPE_VPS | SCOPE_ADMIN;
	if (r->auth == AUTH_ADMIN)
		return SCOPE_ADMIN;
	if (has_prefix(r->pattern, "/api/v1/vps"))
		return SCOPE_VPS | SCOPE_ADMIN;
	return SCOPE_FULL; /* the account itself: its keys, its session */
}

bool route_scope_ok(const route *r, const char *method, unsigned scopes, bool is_admin,
                    const char **missing_out)
{
	unsigned need = route_scopes(r, method), role = scopes_of_role(is_admin);

	*missing_out = NULL;
	if (scopes == 0 || r->auth == AUTH_NONE)
		return true;
	if (need == SCOPE_FULL) {
		unsigned lack = role & ~scopes;

		if (!lack)
			return true;
		for (unsigned b = 1; b <= SCOPE_ADMIN; b <<= 1)
			if (lack & b) {
				*missing_out = scope_name(b);
				break;
			}
		return false;
	}
	if (scopes & need)
		return true;
	/* Name the scope this kind of caller would ask for: the first of need its role may hold. */
	for (unsigned b = 1; b <= SCOPE_ADMIN; b <<= 1)
		if ((need & b) && (role & b)) {
			*missing_out = scope_name(b);
			return false;
		}
	*missing_out = scope_name(need & -need);
	return false;
}
