/* module_service.h — the billing-system module API's services (issue 14 item 4): a billing
 * system's service id mapped to the customer and VPS its create call made (billing_services,
 * panel/schema.c, issue 14 item 4's migration). Shared by api_module.c (create, suspend,
 * terminate, plan), api_module_usage.c and api_module_account.c. Nothing here talks to the
 * agent.
 * Return convention: bool functions answer a yes/no question; int functions return 0, -ENOENT
 * (no such service) or -EIO (database error). */
#ifndef XVPS_PANEL_MODULE_SERVICE_H
#define XVPS_PANEL_MODULE_SERVICE_H

#include <json-c/json.h>
#include <stdbool.h>
#include <stdint.h>

#include "http.h"

#define SERVICE_ID_MAX 32 /* characters of a billing system's service id */

typedef struct billing_service {
	int64_t customer_id, vps_id, created_at, terminated_at; /* terminated_at 0: live */
} billing_service;

/* True when s is a service id: 1..SERVICE_ID_MAX characters of [A-Za-z0-9._-], not starting
 * with '.' (WHMCS's tblhosting.id is a decimal number). */
bool service_id_ok(const char *s);

/* Reads service sid. 0, -ENOENT, -EIO. */
int service_load(const char *sid, billing_service *out);

/* The path's service (rq->params[0]): 0 with *out, or answers 404 / 500 and returns -1. */
int service_of_request(http_req *rq, billing_service *out);

/* {"id","status":"active"|"suspended"|"terminated","customer":{"id","username","email"}|null,
 * "vps":{...}|null,"created_at","terminated_at"} of service sid, or NULL (database error or
 * unknown). New reference. */
json_object *service_json(const char *sid);

/* "service/<sid>" into res (AUDIT_RESOURCE_MAX). */
void service_resource(const char *sid, char *res, size_t len);

#endif
