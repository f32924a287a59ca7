/* xl_fake.h — the fake command runner of the xl driver's unit tests (test_xl.c, test_xl_cpu.c):
 * each test scripts what xl prints (files in tests/unit/data/xl/) and checks the argv sequence
 * the driver ran. */
#ifndef XVPS_TEST_XL_FAKE_H
#define XVPS_TEST_XL_FAKE_H

#include <stdbool.h>
#include <stddef.h>

#include "../../hypervisor/driver.h"

#define DATA "tests/unit/data/xl/"

typedef struct fake_step {
	const char *out_file; /* stdout from DATA<file>, or NULL */
	const char *out;      /* literal stdout when out_file is NULL */
	const char *err_file; /* stderr from DATA<file>, or NULL */
	const char *err;      /* literal stderr when err_file is NULL */
	int exit_status;
	bool timed_out;
} fake_step;

typedef struct fake {
	const fake_step *steps;
	size_t n, next;
	char *calls[32];
	size_t ncalls;
} fake;

/* Reads DATA<name>, minus its leading "# " provenance lines (heap, NUL-terminated). */
char *xlf_load(const char *name, size_t *len);
/* An xl driver whose runner answers steps[0..n) in order (then exit 99). */
hv_driver xlf_open(fake *f, const fake_step *steps, size_t n);
/* Asserts the driver ran exactly `want` (NULL-terminated), in order; frees the record. */
void xlf_assert_calls(fake *f, const char *const want[]);

#endif
