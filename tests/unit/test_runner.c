/* test_runner.c — the real command runner (common/runner.c): output capture, exit codes,
 * timeouts, missing programs, stdin, no shell. Runs only coreutils it starts itself. */
#include <criterion/criterion.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "../../common/runner.h"

static double now_s(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

Test(runner, captures_stdout_and_exit_status_zero)
{
	runner r = runner_real();
	runner_result res;
	const char *argv[] = {"echo", "hello", "world", NULL};
	int rc = runner_run(&r, argv, NULL, 0, 5000, &res);
	cr_assert_eq(rc, 0);
	cr_assert_eq(res.exit_status, 0);
	cr_assert_str_eq(res.out, "hello world\n");
	cr_assert_eq(res.out_len, 12);
	cr_assert_str_eq(res.err, "");
	cr_assert(!res.timed_out);
	cr_assert(runner_ok(rc, &res));
	runner_result_dispose(&res);
}

Test(runner, captures_stderr_and_nonzero_exit)
{
	runner r = runner_real();
	runner_result res;
	const char *argv[] = {"ls", "/nonexistent-xvps-path", NULL};
	int rc = runner_run(&r, argv, NULL, 0, 5000, &res);
	cr_assert_eq(rc, 0);
	cr_assert_neq(res.exit_status, 0);
	cr_assert(strstr(res.err, "nonexistent-xvps-path") != NULL, "stderr: %s", res.err);
	cr_assert_str_eq(res.out, "");
	cr_assert(!runner_ok(rc, &res));
	runner_result_dispose(&res);
}

Test(runner, reports_exact_exit_code)
{
	runner r = runner_real();
	runner_result res;
	const char *argv[] = {"sh", "-c", "exit 7", NULL};
	cr_assert_eq(runner_run(&r, argv, NULL, 0, 5000, &res), 0);
	cr_assert_eq(res.exit_status, 7);
	cr_assert_eq(res.term_signal, 0);
	runner_result_dispose(&res);
}

Test(runner, timeout_kills_sleep_and_reports_timed_out)
{
	runner r = runner_real();
	runner_result res;
	const char *argv[] = {"sleep", "5", NULL};
	double t0 = now_s();
	int rc = runner_run(&r, argv, NULL, 0, 300, &res);
	double dt = now_s() - t0;
	cr_assert_eq(rc, 0);
	cr_assert(res.timed_out);
	cr_assert_eq(res.exit_status, -1);
	cr_assert_eq(res.term_signal, SIGTERM);
	cr_assert(dt < 5.0, "took %.2f s", dt);
	cr_assert(!runner_ok(rc, &res));
	runner_result_dispose(&res);
}

Test(runner, sigkills_a_child_that_ignores_sigterm)
{
	runner r = runner_real();
	runner_result res;
	const char *argv[] = {"sh", "-c", "trap '' TERM; while :; do sleep 0.1; done", NULL};
	double t0 = now_s();
	int rc = runner_run(&r, argv, NULL, 0, 200, &res);
	double dt = now_s() - t0;
	cr_assert_eq(rc, 0);
	cr_assert(res.timed_out);
	cr_assert_eq(res.exit_status, -1);
	cr_assert_eq(res.term_signal, SIGKILL);
	cr_assert(dt < 6.0, "took %.2f s", dt);
	runner_result_dispose(&res);
}

Test(runner, missing_program_is_enoent)
{
	runner r = runner_real();
	runner_result res;
	const char *argv[] = {"xvps-no-such-program-here", NULL};
	int rc = runner_run(&r, argv, NULL, 0, 5000, &res);
	cr_assert_eq(rc, -ENOENT);
	cr_assert(!runner_ok(rc, &res));
	runner_result_dispose(&res);
}

Test(runner, stdin_data_reaches_cat)
{
	runner r = runner_real();
	runner_result res;
	const char *argv[] = {"cat", NULL};
	const char *in = "line one\nline two\n";
	cr_assert_eq(runner_run(&r, argv, in, strlen(in), 5000, &res), 0);
	cr_assert_eq(res.exit_status, 0);
	cr_assert_str_eq(res.out, in);
	runner_result_dispose(&res);
}

Test(runner, large_stdin_and_stdout_do_not_deadlock)
{
	size_t n = 1u << 20;
	char *in = malloc(n);
	for (size_t i = 0; i < n; i++)
		in[i] = (char)('a' + i % 26);
	runner r = runner_real();
	runner_result res;
	const char *argv[] = {"cat", NULL};
	cr_assert_eq(runner_run(&r, argv, in, n, 10000, &res), 0);
	cr_assert_eq(res.out_len, n);
	cr_assert(memcmp(res.out, in, n) == 0);
	runner_result_dispose(&res);
	free(in);
}

Test(runner, stdin_is_dev_null_without_data)
{
	runner r = runner_real();
	runner_result res;
	const char *argv[] = {"cat", NULL};
	cr_assert_eq(runner_run(&r, argv, NULL, 0, 5000, &res), 0);
	cr_assert_eq(res.exit_status, 0);
	cr_assert_str_eq(res.out, "");
	runner_result_dispose(&res);
}

Test(runner, no_shell_interpretation_of_arguments)
{
	runner r = runner_real();
	runner_result res;
	const char *argv[] = {"echo", "$(id)", "`id`", ";", "ls", "|", "*", NULL};
	cr_assert_eq(runner_run(&r, argv, NULL, 0, 5000, &res), 0);
	cr_assert_str_eq(res.out, "$(id) `id` ; ls | *\n");
	runner_result_dispose(&res);
}

Test(runner, environment_is_clean)
{
	setenv("XVPS_SECRET_TEST", "leak", 1);
	runner r = runner_real();
	runner_result res;
	const char *argv[] = {"env", NULL};
	cr_assert_eq(runner_run(&r, argv, NULL, 0, 5000, &res), 0);
	cr_assert_str_eq(res.out, "PATH=/usr/sbin:/usr/bin:/sbin:/bin\nLC_ALL=C\n");
	runner_result_dispose(&res);
	unsetenv("XVPS_SECRET_TEST");
}

Test(runner, child_inherits_no_other_descriptors)
{
	/* A descriptor opened without O_CLOEXEC by the caller would leak; ours must not. Count
	 * the child's fds: only 0, 1, 2 and the one ls opens for /proc/self/fd. */
	runner r = runner_real();
	runner_result res;
	const char *argv[] = {"ls", "/proc/self/fd", NULL};
	cr_assert_eq(runner_run(&r, argv, NULL, 0, 5000, &res), 0);
	int lines = 0;
	for (const char *p = res.out; *p; p++)
		lines += *p == '\n';
	cr_assert_eq(lines, 4, "fds: %s", res.out);
	runner_result_dispose(&res);
}

Test(runner, argv_str_quotes_spaces_and_quotes)
{
	const char *argv[] = {"lvcreate", "-n", "a b", "it's", NULL};
	char *s = runner_argv_str(argv);
	cr_assert_str_eq(s, "lvcreate -n 'a b' 'it'\\''s'");
	free(s);
}

static void *thread_run(void *arg)
{
	runner r = runner_real();
	runner_result res;
	const char *argv[] = {"echo", (const char *)arg, NULL};
	int rc = runner_run(&r, argv, NULL, 0, 5000, &res);
	intptr_t ok = rc == 0 && res.exit_status == 0 && strncmp(res.out, arg, strlen(arg)) == 0;
	runner_result_dispose(&res);
	return (void *)ok;
}

Test(runner, runs_concurrently_from_threads)
{
	static const char *words[] = {"alpha", "bravo", "charlie", "delta", "echo", "foxtrot"};
	pthread_t th[6];
	for (int i = 0; i < 6; i++)
		pthread_create(&th[i], NULL, thread_run, (void *)words[i]);
	for (int i = 0; i < 6; i++) {
		void *ok;
		pthread_join(th[i], &ok);
		cr_assert(ok, "thread %d", i);
	}
}

Test(runner, caps_output_and_flags_truncation)
{
	runner r = runner_real();
	runner_result res;
	const char *argv[] = {"head", "-c", "9000000", "/dev/zero", NULL};
	cr_assert_eq(runner_run(&r, argv, NULL, 0, 10000, &res), 0);
	cr_assert_eq(res.exit_status, 0, "the child is drained, not blocked, past the cap");
	cr_assert_eq(res.out_len, RUNNER_MAX_OUTPUT);
	cr_assert(res.out_truncated);
	cr_assert(!res.err_truncated);
	runner_result_dispose(&res);
}

Test(runner, first_line_skips_blank_lines_and_leading_blanks)
{
	char line[8];

	cr_assert_str_eq(runner_first_line("\n  \n\t 42\nnext", line, sizeof(line)), "42");
	cr_assert_str_eq(runner_first_line(NULL, line, sizeof(line)), "");
	cr_assert_str_eq(runner_first_line("0123456789", line, sizeof(line)), "0123456");
}

Test(runner, failure_line_prefers_a_reason_over_warnings)
{
	runner_result res;
	char line[RUNNER_LINE_LEN];

	runner_result_init(&res);
	res.exit_status = 5;
	res.err = "  WARNING: devices file is missing\n  Volume group \"vg0\" not found\n";
	cr_assert_str_eq(runner_failure_line(&res, line, sizeof(line)),
	                 "Volume group \"vg0\" not found");
	res.err = "WARNING: only this\n";
	cr_assert_str_eq(runner_failure_line(&res, line, sizeof(line)), "WARNING: only this");
	res.err = "";
	res.out = "from stdout\n";
	cr_assert_str_eq(runner_failure_line(&res, line, sizeof(line)), "from stdout");
	res.out = NULL;
	cr_assert_str_eq(runner_failure_line(&res, line, sizeof(line)), "exit status 5");
	res.timed_out = true;
	cr_assert_str_eq(runner_failure_line(&res, line, sizeof(line)), "timed out");
}
