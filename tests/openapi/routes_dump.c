/* routes_dump.c — prints every route of xvpsd's router (xvps_routes) as "METHOD PATTERN", one a
 * line, for tests/openapi/check_routes.mjs to hold against docs/openapi.yaml. It only reads the
 * table: it starts no server, opens no database and calls no handler. */
#include <stdio.h>

#include "../../panel/config.h"
#include "../../panel/http.h"

/* The handlers the table points at reference the process-wide state that panel/main.c defines;
 * this program never calls them, so a weak definition satisfies the linker. */
__attribute__((weak)) xvps_app *g_app;

int main(void)
{
	int n = 0;

	for (const route *r = xvps_routes; r->method; r++, n++)
		if (printf("%s %s\n", r->method, r->pattern) < 0)
			return 1;
	if (fflush(stdout) != 0)
		return 1;
	return n > 0 ? 0 : 1;
}
