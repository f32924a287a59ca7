/* test_http_park.c — parked requests (panel/http_park.h) with a fake resume in place of
 * libmicrohttpd's: a wake resumes exactly the requests parked under its key, a deadline
 * resumes its request through the thread, stopping resumes the rest and refuses new parks. */
#include <criterion/criterion.h>
#include <pthread.h>
#include <time.h>

#include "../../common/util.h"
#include "../../panel/http_park.h"

static pthread_mutex_t fmu = PTHREAD_MUTEX_INITIALIZER;
static int resumed[8];

static void fake_resume(void *conn)
{
	pthread_mutex_lock(&fmu);
	resumed[(int)(intptr_t)conn]++;
	pthread_mutex_unlock(&fmu);
}

static int times_resumed(int conn)
{
	pthread_mutex_lock(&fmu);
	int n = resumed[conn];
	pthread_mutex_unlock(&fmu);
	return n;
}

#define C(n) ((void *)(intptr_t)(n))

Test(http_park, wake_resumes_only_its_key)
{
	uint64_t far = now_mono_ms() + 600000;

	cr_assert_eq(http_park_start(fake_resume), 0);
	cr_assert(http_park_room());
	cr_assert(http_park_add(C(1), 41, far));
	cr_assert(http_park_add(C(2), 41, far));
	cr_assert(http_park_add(C(3), 42, far));
	cr_assert_eq(http_park_count(), 3);
	http_park_wake(41);
	cr_assert_eq(times_resumed(1), 1);
	cr_assert_eq(times_resumed(2), 1);
	cr_assert_eq(times_resumed(3), 0, "another key's request stays parked");
	cr_assert_eq(http_park_count(), 1);
	http_park_wake(41); /* nothing left under 41 */
	cr_assert_eq(times_resumed(1), 1);
	http_park_stop();
	cr_assert_eq(times_resumed(3), 1, "stopping resumes what is still parked");
	cr_assert_eq(http_park_count(), 0);
	cr_assert_not(http_park_room());
	cr_assert_not(http_park_add(C(4), 43, far), "no park after the stop");
	http_park_stop(); /* twice is harmless */
}

Test(http_park, the_deadline_resumes_it)
{
	cr_assert_eq(http_park_start(fake_resume), 0);
	cr_assert(http_park_add(C(5), 7, now_mono_ms() + 600000));
	cr_assert(http_park_add(C(6), 7, now_mono_ms() + 50));
	/* The thread resumes C(6) once its deadline passed; bounded wait, nothing timed. */
	for (int i = 0; i < 500 && times_resumed(6) == 0; i++) {
		struct timespec ts = {0, 10 * 1000 * 1000};
		nanosleep(&ts, NULL);
	}
	cr_assert_eq(times_resumed(6), 1);
	cr_assert_eq(times_resumed(5), 0, "a later deadline waits");
	cr_assert_eq(http_park_count(), 1);
	http_park_stop();
	cr_assert_eq(times_resumed(5), 1);
}

Test(http_park, full_refuses)
{
	uint64_t far = now_mono_ms() + 600000;

	cr_assert_eq(http_park_start(fake_resume), 0);
	for (int i = 0; i < HTTP_PARK_MAX; i++)
		cr_assert(http_park_add(C(0), 1000 + i, far));
	cr_assert_not(http_park_room());
	cr_assert_not(http_park_add(C(7), 1, far));
	http_park_stop();
	cr_assert_eq(times_resumed(0), HTTP_PARK_MAX);
	cr_assert_eq(times_resumed(7), 0);
}
