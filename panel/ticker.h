/* ticker.h — one background thread that calls a function every interval (metering's sweeps,
 * the guest power events' poll): started and stopped by xvpsd's main, woken early only to stop.
 * It never runs a host command itself; what the tick does is the caller's.
 * Return convention: ticker_start returns 0 (started, or already running) or -1 (logged). */
#ifndef XVPS_PANEL_TICKER_H
#define XVPS_PANEL_TICKER_H

#include <pthread.h>
#include <stdbool.h>

typedef struct ticker {
	const char *name;   /* for the log: "metering", "guest events" */
	void (*tick)(void); /* called on the ticker's thread; the first call at once */
	pthread_mutex_t mu;
	pthread_cond_t cv;
	bool cv_ready, stop, running;
	int interval_s;
	pthread_t thr;
} ticker;

#define TICKER_INIT(name_, tick_)                                                                  \
	{                                                                                          \
		.name = (name_), .tick = (tick_), .mu = PTHREAD_MUTEX_INITIALIZER                  \
	}

/* Starts t's thread: tick() at once, then every interval_s seconds (1..3600) measured from
 * the start of the previous tick on CLOCK_MONOTONIC, until ticker_stop() or g_app->stopping.
 * The thread closes its own SQLite connection (store_close_thread) when it ends. */
int ticker_start(ticker *t, int interval_s);
/* Wakes t's thread and joins it (after a tick in progress ends); nothing when not running. */
void ticker_stop(ticker *t);
/* The interval t was last started with (seconds; 0 before the first start). */
int ticker_interval(const ticker *t);

#endif
