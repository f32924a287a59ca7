/* fake_runner.h — the fake command runner of the driver unit tests (test_xl.c, test_xl_cpu.c,
 * test_storage_lvm.c): each test scripts what a command prints (files under a data directory)
 * and then checks the argv sequence the driver ran. */
#ifndef XVPS_TEST_FAKE_RUNNER_H
#define XVPS_TEST_FAKE_RUNNER_H

#include <stdbool.h>
#include <stddef.h>

#include "../../common/runner.h"

typedef struct fake_step {
	const char *out_file; /* stdout from <dir><file>, or NULL */
	const char *out;      /* literal stdout when out_file is NULL */
	const char *err_file; /* stderr from <dir><file>, or NULL */
	const char *err;      /* literal stderr when err_file is NULL */
	int exit_status;
	bool timed_out;
} fake_step;

typedef struct fake {
	const char *dir; /* data directory, ending in '/' */
	const fake_step *steps;
	size_t n, next;
	char *calls[32];
	size_t ncalls;
} fake;

/* Reads <dir><name>, minus its leading "# " provenance lines (heap, NUL-terminated). */
char *fake_load(const char *dir, const char *name, size_t *len);
/* Resets *f (without freeing an earlier record) and returns a runner answering steps[0..n) in
 * order, then exit 99 with "no scripted output". */
runner fake_runner_of(fake *f, const char *dir, const fake_step *steps, size_t n);
/* Asserts the commands run were exactly `want` (NULL-terminated), in order; a want ending in
 * '*' matches as a prefix. Frees the record. */
void fake_assert_calls(fake *f, const char *const want[]);
/* Frees the record of the commands run (after a test that does not assert them). */
void fake_free_calls(fake *f);

#endif
