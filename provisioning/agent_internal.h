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

/* (agent.c) A strict-JSON field error as an "invalid" reply, its detail after prefix; a vps_*
 * outcome as a reply (result on success, taken over); the per-name lock of name (a domain or a
 * template), held while one operation on it runs. */
json_object *agent_reply_field(const json_field_error *fe, const char *prefix);
json_object *agent_reply_vps(int rc, json_object *result, const vps_err *e);
name_lock *agent_name_acquire(agent *a, const char *name);
void agent_name_release(agent *a, name_lock *slot);

/* (template_import.c, issue 16 item 7) template.fetch (variant 0) and template.import
 * (variant 1): a cloud image downloaded into the import directory, then converted into the
 * template's image. */
json_object *agent_op_template_import(agent *a, json_object *req, int variant);

#endif
