/* test_clock.c — the test-only fake clock of common/util.c (now_unix + XVPS_TEST_CLOCK_FILE): the
 * offset file shifts the wall clock and nothing else, malformed or missing files shift nothing,
 * and the monotonic clock never moves with it. The unit binaries are built with XVPS_TEST_CLOCK
 * (make test's sanitizer build); the release build has no such code (a case below says so when
 * run against a build without it). */
#include <criterion/criterion.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>
#include <unistd.h>

#include "../../common/util.h"

static char path[64];

static void setup(void)
{
	int fd;

	snprintf(path, sizeof(path), "/tmp/xvps-clock-test.XXXXXX");
	fd = mkstemp(path);
	cr_assert(fd >= 0);
	close(fd);
	unlink(path);
	setenv("XVPS_TEST_CLOCK_FILE", path, 1);
}

static void teardown(void)
{
	unsetenv("XVPS_TEST_CLOCK_FILE");
	unlink(path);
}

static void put(const char *text)
{
	FILE *f = fopen(path, "w");

	cr_assert_not_null(f);
	fputs(text, f);
	fclose(f);
}

/* now_unix() - time(NULL), tolerant of a second boundary between the two reads. */
/* The real clock read as now_unix() reads it: CLOCK_REALTIME (glibc's time() reads a coarse
 * clock that can lag it by a tick across a second's boundary, which failed this test once). */
static int64_t real_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec;
}

static void assert_shift(int64_t want)
{
	int64_t before = real_now(), got = now_unix(), after = real_now();

	cr_assert(got >= before + want && got <= after + want,
	          "now_unix %lld, real %lld..%lld, want a shift of %lld", (long long)got,
	          (long long)before, (long long)after, (long long)want);
}

#ifdef XVPS_TEST_CLOCK
Test(clock, no_file_no_shift, .init = setup, .fini = teardown)
{
	assert_shift(0);
	cr_assert_eq(test_clock_offset(), 0);
	unsetenv("XVPS_TEST_CLOCK_FILE");
	assert_shift(0);
}

Test(clock, file_shifts_the_wall_clock_forward_and_back, .init = setup, .fini = teardown)
{
	put("2678400\n"); /* 31 days */
	assert_shift(2678400);
	put("-3600");
	assert_shift(-3600);
	put("0\n");
	assert_shift(0);
}

Test(clock, every_call_reads_the_file, .init = setup, .fini = teardown)
{
	put("100\n");
	assert_shift(100);
	put("86400\n");
	assert_shift(86400); /* no cache: the next call sees the new offset */
}

Test(clock, malformed_files_shift_nothing, .init = setup, .fini = teardown)
{
	const char *bad[] = {"",           "\n", "abc", "12x", "1.5", "99999999999999999999",
	                     "700000000\n" /* over TEST_CLOCK_OFFSET_MAX (about 20 years) */};

	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		put(bad[i]);
		cr_assert_eq(test_clock_offset(), 0, "\"%s\" shifted the clock", bad[i]);
		assert_shift(0);
	}
}

Test(clock, monotonic_clock_is_not_shifted, .init = setup, .fini = teardown)
{
	struct timespec ts;
	uint64_t mono, real_mono;

	put("31536000\n"); /* a year */
	mono = now_mono_ns();
	clock_gettime(CLOCK_MONOTONIC, &ts);
	real_mono = (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
	cr_assert(real_mono >= mono && real_mono - mono < 1000000000u,
	          "now_mono_ns %llu vs CLOCK_MONOTONIC %llu", (unsigned long long)mono,
	          (unsigned long long)real_mono);
	cr_assert(now_mono_ms() <= real_mono / 1000000u + 1000);
	assert_shift(31536000);
}
#else
Test(clock, built_without_the_fake_clock)
{
	/* A build without XVPS_TEST_CLOCK ignores the file entirely. */
	setup();
	put("86400\n");
	assert_shift(0);
	teardown();
}
#endif
