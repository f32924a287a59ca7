/* ticker.c — one background thread per periodic panel task (ticker.h). The deadline of the
 * next tick is set before the tick runs, so ticks start every interval however long one takes
 * (a tick longer than the interval is followed by the next at once). Never cancels a thread:
 * stopping waits for the tick in progress. */
#include <errno.h>
#include <stdatomic.h>
#include <time.h>

#include "../common/util.h"
#include "config.h"
#include "store.h"
#include "ticker.h"

static bool should_stop(ticker *t)
{
	return t->stop || (g_app && atomic_load(&g_app->stopping));
}

static void *ticker_main(void *arg)
{
	ticker *t = arg;

	pthread_mutex_lock(&t->mu);
	while (!should_stop(t)) {
		struct timespec next;

		clock_gettime(CLOCK_MONOTONIC, &next);
		next.tv_sec += t->interval_s;
		pthread_mutex_unlock(&t->mu);
		t->tick();
		pthread_mutex_lock(&t->mu);
		while (!should_stop(t) &&
		       pthread_cond_timedwait(&t->cv, &t->mu, &next) != ETIMEDOUT)
			;
	}
	pthread_mutex_unlock(&t->mu);
	store_close_thread();
	return NULL;
}

int ticker_start(ticker *t, int interval_s)
{

	if (interval_s < 1 || interval_s > 3600) {
		log_error("%s: interval %d s is outside 1..3600", t->name, interval_s);
		return -1;
	}
	pthread_mutex_lock(&t->mu);
	if (t->running) {
		pthread_mutex_unlock(&t->mu);
		return 0;
	}
	if (!t->cv_ready) {
		cond_init_monotonic(&t->cv);
		t->cv_ready = true;
	}
	t->interval_s = interval_s;
	t->stop = false;
	if (pthread_create(&t->thr, NULL, ticker_main, t) != 0) {
		pthread_mutex_unlock(&t->mu);
		log_error("%s: cannot start its thread", t->name);
		return -1;
	}
	t->running = true;
	pthread_mutex_unlock(&t->mu);
	return 0;
}

void ticker_stop(ticker *t)
{
	pthread_mutex_lock(&t->mu);
	if (!t->running) {
		pthread_mutex_unlock(&t->mu);
		return;
	}
	t->stop = true;
	pthread_cond_broadcast(&t->cv);
	pthread_mutex_unlock(&t->mu);
	pthread_join(t->thr, NULL);
	pthread_mutex_lock(&t->mu);
	t->running = false;
	pthread_mutex_unlock(&t->mu);
}

int ticker_interval(const ticker *t)
{
	return t->interval_s;
}
