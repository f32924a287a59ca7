/* agent_fixture.h — helpers the agent-side unit tests share (agent_fixture.c): a VPS spec parsed
 * as the agent receives it (test_seed.c, test_seed_nocloud.c, test_rescue.c, test_vps.c,
 * test_resize_agent.c), and the xl.cfg spec the goldens under tests/golden/ are rendered from,
 * with its render and golden checks (test_xlcfg.c, test_seed.c, test_rescue.c). Every helper
 * asserts (Criterion); agfx_dir_entries counts what a directory holds. */
#ifndef XVPS_TEST_AGENT_FIXTURE_H
#define XVPS_TEST_AGENT_FIXTURE_H

#include "../../hypervisor/xlcfg.h"
#include "../../provisioning/spec.h"

/* spec_parse of the JSON text json into spec (the caller disposes of it). */
void agfx_spec(vps_spec *spec, const char *json);

/* xvps-12 of type: 2 vCPUs, 1 GiB, the LV /dev/xvps/xvps-12, the seed file
 * /var/lib/xvps/seed/xvps-12.img, 192.0.2.10 and 2001:db8::10 on xvpsbr0 (vx12), 100 Mbit/s,
 * weight 256, cap 150 %, no VNC. */
xlcfg_spec agfx_xlcfg_spec(xl_guest_type type);
/* xlcfg_render of s, asserted to succeed: the text (free()). */
char *agfx_xlcfg_render(const xlcfg_spec *s);
/* cfg equals the file golden_path (relative to the repository root) byte for byte. */
void agfx_assert_golden(const char *cfg, const char *golden_path);

/* Number of entries in dir besides "." and ".."; -1 when it cannot be opened. */
int agfx_dir_entries(const char *dir);

#endif
