/* sim_fixture.h — the sim hypervisor + file storage + vps_ctx fixture under a fresh mkdtemp()
 * directory, shared by test_vps.c, test_power.c, test_rescue.c, test_desired.c and
 * test_resize_agent.c. The sim's domains run $XVPS_SIMGUEST (default build/asan/xvps-simguest). */
#ifndef XVPS_TEST_SIM_FIXTURE_H
#define XVPS_TEST_SIM_FIXTURE_H

#include <stdbool.h>

#include "../../hypervisor/driver.h"
#include "../../provisioning/storage.h"
#include "../../provisioning/vps.h"

/* The simguest binary the sim driver runs. */
const char *simfx_guest_path(void);
/* Makes /tmp/xvps-<tag>-XXXXXX into tmp, opens the sim driver (running simfx_guest_path()), the
 * file storage and ctx (bridge xvpsbr0, 10 s shutdown timeout) on it, sets *opened, then
 * ensures template tpl-1. Asserts (Criterion) each step. */
void simfx_open(const char *tag, char tmp[64], hv_driver *hv, st_driver *st, vps_ctx *ctx,
                bool *opened);
/* Forgets every domain hv knows (ending its guest). */
void simfx_forget_all(hv_driver *hv);
/* The teardown of simfx_open: when *opened, forgets every domain and disposes of hv and st
 * (*opened false); then reaps ended children and removes tmp. */
void simfx_close(char tmp[64], hv_driver *hv, st_driver *st, bool *opened);
/* Removes tmp and everything under it. */
void simfx_rmtree(const char *tmp);

#endif
