/* client.h — a small libcurl + json-c client for the API suite: one request in, status, the
 * headers the suite cares about and the parsed JSON out; plus fixtures that create uniquely named
 * plans, templates, customers and VPS. Talks only to $XVPS_URL (loopback); never to the DB. */
#ifndef XVPS_API_CLIENT_H
#define XVPS_API_CLIENT_H

#include <json-c/json.h>
#include <stdbool.h>
#include <stddef.h>

#define V1 "/api/v1"

/* A caller's credentials. Copy one and change a field to forge or drop a credential. */
typedef struct api_client {
	char session[192];       /* xvps_session cookie value ("" = none) */
	char csrf[192];          /* X-CSRF-Token sent on unsafe methods ("" = none) */
	char bearer[192];        /* Authorization: Bearer token ("" = none) */
	char if_none_match[128]; /* If-None-Match sent on every request ("" = none) */
} api_client;

typedef struct api_resp api_resp;
struct api_resp {
	long status; /* HTTP status, 0 when the request failed */
	char *body;  /* NUL-terminated */
	size_t len;
	char content_type[128];   /* "" when absent */
	char session_cookie[192]; /* value of a Set-Cookie: xvps_session=..., "" when none */
	long long total_count;    /* X-Total-Count, -1 when absent */
	char etag[128];           /* ETag, "" when absent */
	char cache_control[128];  /* Cache-Control, "" when absent */
	json_object *json;        /* the parsed body, or NULL */
	api_resp *prev, *next;    /* the client's list of live responses */
};

/* Base URL from $XVPS_URL (default http://127.0.0.1:8080). */
const char *api_base(void);

/* Sends one request. body may be NULL (no body); content_type NULL means no Content-Type
 * header. Cookie, bearer and (for unsafe methods) CSRF headers come from c (may be NULL).
 * Never returns NULL; free with api_resp_free. */
api_resp *api_raw(const api_client *c, const char *method, const char *path,
                  const char *content_type, const char *body, size_t body_len);

/* Sends a JSON body built with printf-style fmt (NULL fmt: no body) as application/json. */
api_resp *api_req(const api_client *c, const char *method, const char *path, const char *fmt, ...)
        __attribute__((format(printf, 4, 5)));

void api_resp_free(api_resp *r);
/* Frees every response not yet freed: the suites' .fini, so that a test stopped by a failed
 * assertion does not add a leak report to its failure. */
void api_cleanup(void);

/* Field helpers on r->json (NULL / -1 when absent or of another type). */
const char *jstr(json_object *o, const char *key);
long long jint(json_object *o, const char *key);
json_object *jget(json_object *o, const char *key);
/* True when key is present with the value JSON null. */
bool jis_null(json_object *o, const char *key);

/* Asserts (Criterion) an RFC 9457 problem with this status: problem+json Content-Type, the
 * four members, "status" equal to status, and "field" equal to field when field is not NULL. */
void assert_problem(const api_resp *r, long status, const char *field);

/* 8 random lower-case hex characters plus NUL into out[9] (getrandom). */
void uniq(char out[9]);

/* POST /session; on 201 fills c's session and csrf. Returns the status. */
long api_login(api_client *c, const char *username, const char *password);
/* Logs in as admin with $XVPS_ADMIN_PASSWORD and asserts it worked. */
void fx_admin(api_client *c);

/* Fixtures (admin client a). Each asserts success and writes the new id into id_out[32]. */
void fx_plan(const api_client *a, const char *extra_json, char id_out[32]);
/* Creates a plan (as admin a) of exactly the plan fields fields ("\"vcpus\":1,..."), with a
 * unique name. Writes its id. */
void fx_plan_fields(const api_client *a, const char *fields, char id_out[32]);
void fx_template(const api_client *a, char id_out[32]);
/* Creates a customer and logs it in into cust (when not NULL). */
void fx_customer(const api_client *a, api_client *cust, char id_out[32], char username_out[32],
                 char password_out[40]);
/* Ensures the suite's IPv4 pool 198.51.100.0/24 exists; writes its id. */
void fx_pool4(const api_client *a, char id_out[32]);

/* POST /vps as c (customer_id NULL when c is the customer). Returns the response. */
api_resp *vps_order(const api_client *c, const char *hostname, const char *plan, const char *tpl,
                    const char *customer_id);
/* Polls GET /jobs/{id} until "done" or "failed" (or timeout_s). Returns true when done. */
bool wait_job(const api_client *c, const char *job_id, int timeout_s);
/* Orders a VPS and waits for its create job; asserts it ends running. Writes its id. */
void fx_vps(const api_client *c, const char *plan, const char *tpl, const char *customer_id,
            char id_out[32]);
/* Deletes a VPS (as c) and waits for the job; asserts GET then answers 404. */
void fx_vps_delete(const api_client *c, const char *vps_id);

/* GET /vps/{vps} as c; asserts 200. The caller frees the response. */
api_resp *vps_get_ok(const api_client *c, const char *vps);
/* POST /vps/{vps}/actions/{act} as c (body NULL: none); asserts 202 and waits (60 s) for its
 * job to be done. */
void vps_action_done(const api_client *c, const char *vps, const char *act, const char *body);
/* How many audit entries of resource vps/{vps} (GET /audit as c) have action (and, unless
 * detail is NULL, hold detail in their detail). */
int vps_audit_count(const api_client *c, const char *action, const char *vps, const char *detail);

/* GET path as c and returns r->total_count (X-Total-Count), asserting 200. */
long long api_count(const api_client *c, const char *path);
/* "allocated" of GET /ip-pools/{id} as admin a. */
long long pool_allocated(const api_client *a, const char *pool_id);

#endif
