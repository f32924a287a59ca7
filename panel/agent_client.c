/* agent_client.c — xvpsd's side of the agent socket (retries with backoff while the agent is
 * away, errors as values), the host lock that orders job steps against the reconciler. It never
 * runs a host command itself. */
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "../common/agent_proto.h"
#include "../common/util.h"
#include "agent_client.h"
#include "api.h"
#include "config.h"
#include "jobs.h"
#include "store.h"

static pthread_rwlock_t host_lock = PTHREAD_RWLOCK_INITIALIZER;

/* ---- agent client ----------------------------------------------------------------------- */

static const char *agent_sock_path(void)
{
	return g_app && g_app->cfg.agent_sock[0] ? g_app->cfg.agent_sock : "var/agent.sock";
}

static int agent_timeout_ms(void)
{
	return g_app && g_app->cfg.agent_timeout_ms > 0 ? g_app->cfg.agent_timeout_ms : 300000;
}

json_object *agent_request(const char *op, const char *name)
{
	json_object *req = json_object_new_object();

	json_object_object_add(req, "op", json_object_new_string(op));
	if (name)
		json_object_object_add(req, "name", json_object_new_string(name));
	return req;
}

bool agent_unreachable(int rc)
{
	return rc == -ECONNREFUSED || rc == -ENOENT || rc == -ETIMEDOUT || rc == -ECONNRESET ||
	       rc == -EPIPE || rc == -EAGAIN;
}

static void copy_str(char *dst, size_t size, const char *src)
{
	snprintf(dst, size, "%s", src ? src : "");
}

/* Sleeps s seconds in 100 ms slices; false when the process began stopping. */
static bool backoff_sleep(int s)
{
	for (int i = 0; i < s * 10; i++) {
		struct timespec ts = {0, 100 * 1000 * 1000};

		if (jobs_stopping())
			return false;
		nanosleep(&ts, NULL);
	}
	return !jobs_stopping();
}

int panel_agent_call(json_object *req, int retry_s, json_object **result_out, agent_err *e)
{
	int delay = 1, waited = 0;

	memset(e, 0, sizeof(*e));
	if (result_out)
		*result_out = NULL;
	for (;;) {
		json_object *resp = NULL, *ok = NULL, *v = NULL;
		int r = agent_call(agent_sock_path(), req, agent_timeout_ms(), &resp);

		if (r == 0) {
			if (!json_object_object_get_ex(resp, "ok", &ok) ||
			    !json_object_is_type(ok, json_type_boolean)) {
				json_object_put(resp);
				r = -EPROTO;
			} else if (json_object_get_boolean(ok)) {
				if (result_out && json_object_object_get_ex(resp, "result", &v))
					*result_out = json_object_get(v);
				json_object_put(resp);
				return e->rc = 0;
			} else {
				e->rc = 1;
				if (json_object_object_get_ex(resp, "code", &v))
					copy_str(e->code, sizeof(e->code),
					         json_object_get_string(v));
				if (json_object_object_get_ex(resp, "field", &v) &&
				    json_object_is_type(v, json_type_string))
					copy_str(e->field, sizeof(e->field),
					         json_object_get_string(v));
				if (json_object_object_get_ex(resp, "error", &v))
					copy_str(e->msg, sizeof(e->msg), json_object_get_string(v));
				if (!e->msg[0])
					copy_str(e->msg, sizeof(e->msg), "the host agent refused");
				json_object_put(resp);
				if (g_app)
					atomic_fetch_add(&g_app->metrics.agent_errors, 1);
				return 1;
			}
		}
		if (agent_unreachable(r) && waited + delay <= retry_s) {
			log_warn("agent unreachable (%s); retrying in %d s", strerror(-r), delay);
			if (!backoff_sleep(delay)) {
				r = -ECANCELED;
			} else {
				waited += delay;
				delay *= 2;
				continue;
			}
		}
		e->rc = r;
		if (r == -ECANCELED)
			copy_str(e->msg, sizeof(e->msg), "xvpsd is stopping");
		else
			snprintf(e->msg, sizeof(e->msg), "the host agent is unreachable (%s)",
			         strerror(-r));
		if (g_app)
			atomic_fetch_add(&g_app->metrics.agent_errors, 1);
		return r;
	}
}

void jobs_host_rdlock(void)
{
	pthread_rwlock_rdlock(&host_lock);
}

void jobs_host_wrlock(void)
{
	pthread_rwlock_wrlock(&host_lock);
}

void jobs_host_unlock(void)
{
	pthread_rwlock_unlock(&host_lock);
}
