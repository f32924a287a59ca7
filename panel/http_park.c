/* http_park.c — parked requests and their deadlines (http_park.h). */
#include "http_park.h"

#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <time.h>

#include "../common/util.h"

typedef struct parked {
	void *conn;
	int64_t key;
	uint64_t deadline_ms;
} parked;

static pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t cv;
static bool cv_ready, running, stopping;
static pthread_t thread;
static http_park_resume_fn resume_fn;
static parked list[HTTP_PARK_MAX];
static size_t n_parked;

/* Moves the entries whose deadline is past to out; mu held. */
static size_t take_due(uint64_t now, void **out)
{
	size_t k = 0, n = 0;

	for (size_t i = 0; i < n_parked; i++) {
		if (list[i].deadline_ms <= now)
			out[n++] = list[i].conn;
		else
			list[k++] = list[i];
	}
	n_parked = k;
	return n;
}

static void resume_all(void **conns, size_t n)
{
	for (size_t i = 0; i < n; i++)
		resume_fn(conns[i]);
}

static void *deadline_main(void *arg)
{
	static void *due[HTTP_PARK_MAX];

	(void)arg;
	pthread_mutex_lock(&mu);
	while (!stopping) {
		uint64_t now = now_mono_ms(), next = UINT64_MAX;
		size_t n = take_due(now, due);

		if (n) { /* resumed outside the lock: MHD takes its own */
			pthread_mutex_unlock(&mu);
			resume_all(due, n);
			pthread_mutex_lock(&mu);
			continue;
		}
		for (size_t i = 0; i < n_parked; i++)
			if (list[i].deadline_ms < next)
				next = list[i].deadline_ms;
		if (next == UINT64_MAX) {
			pthread_cond_wait(&cv, &mu);
		} else {
			struct timespec ts;
			clock_gettime(CLOCK_MONOTONIC, &ts);
			uint64_t ms = next - now;
			ts.tv_sec += (time_t)(ms / 1000);
			ts.tv_nsec += (long)(ms % 1000) * 1000000L;
			if (ts.tv_nsec >= 1000000000L) {
				ts.tv_sec++;
				ts.tv_nsec -= 1000000000L;
			}
			pthread_cond_timedwait(&cv, &mu, &ts);
		}
	}
	pthread_mutex_unlock(&mu);
	return NULL;
}

int http_park_start(http_park_resume_fn resume)
{
	int rc;

	pthread_mutex_lock(&mu);
	if (running) {
		pthread_mutex_unlock(&mu);
		return 0;
	}
	if (!cv_ready) {
		cond_init_monotonic(&cv);
		cv_ready = true;
	}
	resume_fn = resume;
	stopping = false;
	n_parked = 0;
	rc = pthread_create(&thread, NULL, deadline_main, NULL);
	running = rc == 0;
	pthread_mutex_unlock(&mu);
	return -rc;
}

void http_park_stop(void)
{
	static void *all[HTTP_PARK_MAX];
	size_t n;

	pthread_mutex_lock(&mu);
	if (!running) {
		pthread_mutex_unlock(&mu);
		return;
	}
	stopping = true;
	n = n_parked;
	for (size_t i = 0; i < n; i++)
		all[i] = list[i].conn;
	n_parked = 0;
	pthread_cond_signal(&cv);
	pthread_mutex_unlock(&mu);
	resume_all(all, n);
	pthread_join(thread, NULL);
	pthread_mutex_lock(&mu);
	running = false;
	pthread_mutex_unlock(&mu);
}

bool http_park_room(void)
{
	pthread_mutex_lock(&mu);
	bool ok = running && !stopping && n_parked < HTTP_PARK_MAX;
	pthread_mutex_unlock(&mu);
	return ok;
}

bool http_park_add(void *conn, int64_t key, uint64_t deadline_ms)
{
	pthread_mutex_lock(&mu);
	bool ok = running && !stopping && n_parked < HTTP_PARK_MAX;
	if (ok) {
		list[n_parked++] = (parked){conn, key, deadline_ms};
		pthread_cond_signal(&cv); /* a nearer deadline than the thread sleeps to */
	}
	pthread_mutex_unlock(&mu);
	return ok;
}

void http_park_wake(int64_t key)
{
	void *woken[16];
	size_t n;

	do { /* at most 16 per pass: a key rarely has more than one waiter */
		size_t k = 0, j = 0;
		pthread_mutex_lock(&mu);
		for (size_t i = 0; i < n_parked; i++) {
			if (list[i].key == key && k < 16)
				woken[k++] = list[i].conn;
			else
				list[j++] = list[i];
		}
		n_parked = j;
		pthread_mutex_unlock(&mu);
		n = k;
		if (n)
			resume_all(woken, n);
	} while (n == 16);
}

size_t http_park_count(void)
{
	pthread_mutex_lock(&mu);
	size_t n = n_parked;
	pthread_mutex_unlock(&mu);
	return n;
}
