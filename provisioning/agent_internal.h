/* agent_internal.h — shared between agent.c (request dispatch) and agent_server.c (the socket
 * server). Not a public interface.
 *
 * Return convention: as agent.h (0 or a negative errno; a request's failure is its reply). */
#ifndef XVPS_AGENT_INTERNAL_H
#define XVPS_AGENT_INTERNAL_H

#include <json-c/json.h>
#include <pthread.h>
#include <stdbool.h>

#include "agent.h"

#define NAME_LOCKS 128

/* One entry of the per-name lock table: operations on one domain (or template) name run one
 * at a time; different names run in parallel. */
typedef struct name_lock {
	char name[64];
	int refs;
	pthread_mutex_t m;
} name_lock;

struct agent {
	agent_config cfg;
	vps_ctx *vps;
	int lfd;
	int wake[2];
	pthread_t accept_thread;

	pthread_mutex_t lock; /* conns, n_active, stopping, name table */
	pthread_cond_t cond;
	int *conns; /* fds of live connections (-1 = free slot) */
	int n_active;
	bool stopping;
	name_lock names[NAME_LOCKS];

	/* Reconcile looks at every domain: it runs alone (write), all else shares (read). */
	pthread_rwlock_t reconcile_lock;
};

/* {"ok":false,"error":msg,"field":field or null,"code":code} (new object). */
json_object *agent_reply_err(const char *code, const char *field, const char *msg);

#endif
