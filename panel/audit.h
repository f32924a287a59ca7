/* audit.h — the audit log (audit.c): who did what to which resource, from where. Writing an
 * audit row never fails the request it describes (a database error is logged).
 * Return convention: no function returns an error. */
#ifndef XVPS_PANEL_AUDIT_H
#define XVPS_PANEL_AUDIT_H

#include <stdint.h>

#include "http.h"

#define AUDIT_RESOURCE_MAX 48  /* "customer/9223372036854775807" with room */
#define AUDIT_DETAIL_MAX   512 /* a formatted detail (longer ones are cut) */

/* Records who (rq->user, or "-" when anonymous) did action ("vps.create", "login.failed") to
 * resource ("vps/12"), from rq->ip, with an optional detail. */
void audit(http_req *rq, const char *action, const char *resource, const char *detail);
/* Same, for system actors (jobs, reconciler): user "system", ip "-". */
void audit_system(const char *action, const char *resource, const char *detail);
/* An audit row for work done outside a request (a console relay thread): who and from where
 * as recorded when the request was made. */
void audit_as(int64_t user_id, const char *username, const char *ip, const char *action,
              const char *resource, const char *detail);

#endif
