/* agent_client.h — xvpsd's side of the agent socket (agent_client.c): one request, one answer,
 * retried with backoff while the agent is away, and the host lock that keeps the reconciler
 * from racing creations. The panel reaches the host only through this; it never runs a command.
 * Return convention: panel_agent_call returns 0, 1 (the agent refused, e filled) or -errno (not
 * reached, e filled); bool functions answer a yes/no question. */
#ifndef XVPS_PANEL_AGENT_CLIENT_H
#define XVPS_PANEL_AGENT_CLIENT_H

#include <json-c/json.h>
#include <stdbool.h>

#define AGENT_ERR_CODE_MAX  16
#define AGENT_ERR_FIELD_MAX 32
#define AGENT_ERR_MSG_MAX   256

typedef struct agent_err {
	int rc; /* 0 ok; 1 the agent answered "ok": false; -errno transport */
	char code[AGENT_ERR_CODE_MAX];   /* "invalid|not_found|conflict|host|busy" when rc == 1 */
	char field[AGENT_ERR_FIELD_MAX]; /* spec field the agent blamed, or "" */
	char msg[AGENT_ERR_MSG_MAX];     /* English sentence for job errors and problem details */
} agent_err;

/* A new agent request {"op": op[, "name": name]} (name NULL: none) for panel_agent_call(). */
json_object *agent_request(const char *op, const char *name);

/* True for the transport errors that mean "agent not running / restarting": worth a retry. */
bool agent_unreachable(int rc);

/* Sends req to the agent at cfg.agent_sock with cfg.agent_timeout_ms. When the agent cannot be
 * reached, retries with backoff 1, 2, 4 ... s for at most retry_s seconds in total (0: no
 * retry; aborted when the process is stopping). Returns e->rc: 0 with *result_out (a new
 * reference, when result_out is not NULL) set to the response's "result" object; 1 when the
 * agent refused (e filled); -errno when it could not be reached or answered garbage. */
int panel_agent_call(json_object *req, int retry_s, json_object **result_out, agent_err *e);

/* Readers: every agent operation that may create host objects. Writer: the reconciler, so that
 * it never reports an object whose row was committed after it read the known names. */
void jobs_host_rdlock(void);
void jobs_host_wrlock(void);
void jobs_host_unlock(void);

#endif
