/* agent.h — xvps-agent's socket server and request dispatch (common/agent_proto.h): a unix
 * socket (mode 0660), SO_PEERCRED admission, one thread per connection, per-domain
 * serialization. It trusts no caller: every request is re-validated before it reaches vps.c.
 * Return convention: 0 or a negative errno with a sentence in err; a request's failure travels
 * in its JSON reply (agent_reply_err), never as a return code. */
#ifndef XVPS_AGENT_H
#define XVPS_AGENT_H

#include <json-c/json.h>
#include <stddef.h>
#include <sys/types.h>

#include "vps.h"

#define AGENT_VERSION "0.1.0"

/* An error sentence of agent_start or of the agent's start-up steps (agent_main.c). */
#define AGENT_ERRLEN 1024

/* The socket path: struct sockaddr_un's sun_path on Linux, with its NUL. */
#define AGENT_SOCK_PATH_LEN 108

typedef struct agent_config {
	char sock_path[AGENT_SOCK_PATH_LEN]; /* a stale socket there is replaced */
	uid_t panel_uid;                     /* the one non-root uid allowed to connect */
	int recv_timeout_ms; /* idle time allowed between requests on a connection; 30000 */
	int max_conns;       /* concurrent connections; more are closed at once; 64 */
} agent_config;

typedef struct agent agent;

/* Binds the socket (unlinking a stale socket file first, refusing to replace anything that
 * is not a socket), makes it mode 0660 (group: panel_uid's primary group when run as root)
 * and starts the accept thread. Returns 0 and *out, or -errno with a sentence in err. */
int agent_start(const agent_config *cfg, vps_ctx *vps, agent **out, char *err, size_t errlen);

/* Stops accepting, wakes idle connections, waits for running requests to finish, removes
 * the socket file and frees the agent. */
void agent_stop(agent *a);

/* Handles one request object and returns a new response object ({"ok":true,"result"} or
 * {"ok":false,"error","field","code"}). Takes the per-domain lock; thread-safe. */
json_object *agent_handle(agent *a, json_object *req);

/* The lock a request on domain name takes (the reconcile lock's read side, then the name's
 * lock), for work the agent does by itself (power.c's watcher). ctx is the agent; the handle
 * goes back to agent_unlock_domain. */
void *agent_lock_domain(void *ctx, const char *name);
void agent_unlock_domain(void *ctx, void *handle);

#endif
