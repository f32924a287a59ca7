/* xl_fake.h — an xl driver on the fake runner (fake_runner.h), for test_xl.c and test_xl_cpu.c;
 * scripted outputs live in tests/unit/data/xl/. */
#ifndef XVPS_TEST_XL_FAKE_H
#define XVPS_TEST_XL_FAKE_H

#include "../../hypervisor/driver.h"
#include "fake_runner.h"

#define DATA "tests/unit/data/xl/"

/* An xl driver whose runner answers steps[0..n) in order (then exit 99). */
hv_driver xlf_open(fake *f, const fake_step *steps, size_t n);

#endif
