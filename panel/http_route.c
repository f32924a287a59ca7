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
