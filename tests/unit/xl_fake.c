/* xl_fake.c — xlf_open of xl_fake.h. */
#include "xl_fake.h"

#include <criterion/criterion.h>

hv_driver xlf_open(fake *f, const fake_step *steps, size_t n)
{
	hv_driver d;
	char err[HV_ERRLEN];
	cr_assert_eq(hv_xl_open(&d, fake_runner_of(f, DATA, steps, n), err), 0);
	return d;
}
