/* http_park.h — long polls without a waiting thread. A handler that has nothing new to say yet
 * parks its request (http_req_park, http.h): the HTTP layer suspends the connection
 * (libmicrohttpd's MHD_suspend_connection) and records it here under a key (a job's id) and a
 * deadline; http_park_wake(key) or the deadline resumes it, and the handler runs again from the
 * start and answers (GET /jobs/{id}?wait=, docs/openapi.yaml). One thread sleeps until the
 * nearest deadline; nothing polls. At most HTTP_PARK_MAX requests are parked at once: beyond
 * that a handler answers at once, as a client that did not ask to wait. */
#ifndef XVPS_HTTP_PARK_H
#define XVPS_HTTP_PARK_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define HTTP_PARK_MAX 1024

/* Resumes a parked connection (MHD_resume_connection for the HTTP layer; tests pass a fake). */
typedef void (*http_park_resume_fn)(void *conn);

/* Starts the deadline thread. 0, or -errno (pthread_create). */
int http_park_start(http_park_resume_fn resume);
/* Refuses new parks, resumes every parked connection (so that the daemon can stop), joins the
 * thread. Safe when not started. */
void http_park_stop(void);
/* True when a request may park now (started, not stopping, room left). */
bool http_park_room(void);
/* Records conn, suspended by the caller, until http_park_wake(key) or deadline_ms (the
 * monotonic clock, now_mono_ms()). False when it cannot (stopping, full): the caller resumes
 * conn itself. */
bool http_park_add(void *conn, int64_t key, uint64_t deadline_ms);
/* Resumes every request parked under key (from any thread; a no-op when none is). */
void http_park_wake(int64_t key);
/* How many requests are parked (the metrics; tests). */
size_t http_park_count(void);

#endif
