/* test_xlcfg.c — the xl.cfg(5) writer (hypervisor/xlcfg.c): PVH/PV/HVM output equals the golden
 * files under tests/golden/ byte for byte, parses with libxlutil (the parser `xl create` uses),
 * and every unsafe value is refused. Runs from the repository root; files only in mkdtemp(). */
#include <criterion/criterion.h>
#include <errno.h>
#include <libxlutil.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "../../common/util.h"
#include "../../hypervisor/xlcfg.h"
#include "agent_fixture.h"

/* Parses with libxlutil and checks what `xl create` would read back. */
static void assert_parses(const char *cfg, const char *name, const char *type)
{
	char *report = NULL;
	size_t rlen = 0;
	FILE *rf = open_memstream(&report, &rlen);
	XLU_Config *xc = xlu_cfg_init(rf, "test.cfg");
	cr_assert_not_null(xc);
	int r = xlu_cfg_readdata(xc, cfg, (int)strlen(cfg));
	cr_assert_eq(r, 0, "libxlutil refused the config");
	const char *v = NULL;
	cr_assert_eq(xlu_cfg_get_string(xc, "name", &v, 0), 0);
	cr_assert_str_eq(v, name);
	cr_assert_eq(xlu_cfg_get_string(xc, "type", &v, 0), 0);
	cr_assert_str_eq(v, type);
	XLU_ConfigList *list = NULL;
	int n = 0;
	cr_assert_eq(xlu_cfg_get_list(xc, "vif", &list, &n, 0), 0);
	cr_assert_eq(n, 1);
	cr_assert(strstr(xlu_cfg_get_listitem(list, 0), "mac=00:16:3e:") != NULL);
	cr_assert_eq(xlu_cfg_get_list(xc, "disk", &list, &n, 0), 0);
	cr_assert_eq(n, 2, "the root disk and the seed");
	cr_assert(strstr(xlu_cfg_get_listitem(list, 0), "vdev=xvda, access=rw") != NULL);
	cr_assert(strstr(xlu_cfg_get_listitem(list, 1),
	                 strcmp(type, "hvm") ? "vdev=xvdb, access=ro, target=/"
	                                     : "vdev=xvde, access=ro, target=/") != NULL);
	long l = 0;
	cr_assert_eq(xlu_cfg_get_long(xc, "memory", &l, 0), 0);
	cr_assert_gt(l, 0);
	cr_assert_eq(xlu_cfg_get_long(xc, "cpu_weight", &l, 0), 0);
	cr_assert_eq(xlu_cfg_get_long(xc, "cap", &l, 0), 0);
	xlu_cfg_destroy(xc);
	fclose(rf);
	free(report);
}

Test(xlcfg, pvh_matches_golden_and_parses)
{
	xlcfg_spec s = agfx_xlcfg_spec(XL_PVH);
	char *cfg = agfx_xlcfg_render(&s);
	agfx_assert_golden(cfg, "tests/golden/pvh.cfg");
	assert_parses(cfg, "xvps-12", "pvh");
	cr_assert_eq(xlcfg_parse_check(cfg, NULL, 0), 0);
	free(cfg);
}

Test(xlcfg, pv_matches_golden_and_parses)
{
	static const char *const one_ip[] = {"198.51.100.7", NULL};
	xlcfg_spec s = agfx_xlcfg_spec(XL_PV);
	s.name = "xvps-7";
	s.vcpus = 1;
	s.memory_mib = 512;
	s.disk_path = "/var/lib/xvps/disks/xvps-7.img";
	s.disk_is_file = true;
	s.seed_path = "/var/lib/xvps/seed/xvps-7.img";
	s.mac = "00:16:3e:00:00:07";
	s.vifname = "vx7";
	s.ips = one_ip;
	s.net_mbit = 0;
	s.cpu_weight = 128;
	s.cpu_cap_pct = 0;
	s.extra = "console=hvc0 root=/dev/xvda1";
	char *cfg = agfx_xlcfg_render(&s);
	agfx_assert_golden(cfg, "tests/golden/pv.cfg");
	assert_parses(cfg, "xvps-7", "pv");
	free(cfg);
}

Test(xlcfg, hvm_matches_golden_and_parses)
{
	xlcfg_spec s = agfx_xlcfg_spec(XL_HVM);
	s.name = "xvps-40";
	s.vcpus = 4;
	s.memory_mib = 4096;
	s.disk_path = "/dev/xvps/xvps-40";
	s.seed_path = "/var/lib/xvps/seed/xvps-40.img";
	s.mac = "00:16:3e:0a:0b:0c";
	s.vifname = "vx40";
	s.net_mbit = 1000;
	s.cpu_weight = 512;
	s.cpu_cap_pct = 400;
	s.vnc_display = 40;
	char *cfg = agfx_xlcfg_render(&s);
	agfx_assert_golden(cfg, "tests/golden/hvm.cfg");
	assert_parses(cfg, "xvps-40", "hvm");
	free(cfg);
}

Test(xlcfg, hvm_vnc_listens_on_loopback_only)
{
	xlcfg_spec s = agfx_xlcfg_spec(XL_HVM);
	char *cfg = agfx_xlcfg_render(&s);
	cr_assert(strstr(cfg, "vnclisten = \"127.0.0.1\"\n") != NULL);
	cr_assert(strstr(cfg, "vncdisplay") == NULL, "auto display has no vncdisplay");
	cr_assert(strstr(cfg, "kernel") == NULL);
	free(cfg);
}

Test(xlcfg, omits_rate_when_unlimited_and_ip_when_none)
{
	xlcfg_spec s = agfx_xlcfg_spec(XL_PVH);
	s.net_mbit = 0;
	s.ips = NULL;
	char *cfg = agfx_xlcfg_render(&s);
	cr_assert(strstr(cfg, "rate=") == NULL);
	cr_assert(strstr(cfg, "ip=") == NULL);
	cr_assert(strstr(cfg, "vif = [ 'mac=00:16:3e:12:34:56, bridge=xvpsbr0, vifname=vx12' ]\n"));
	cr_assert_eq(xlcfg_parse_check(cfg, NULL, 0), 0);
	free(cfg);
}

Test(xlcfg, pvh_uses_grub_pvh_image_by_default_and_explicit_kernel_otherwise)
{
	xlcfg_spec s = agfx_xlcfg_spec(XL_PVH);
	char *cfg = agfx_xlcfg_render(&s);
	cr_assert(strstr(cfg, "kernel = \"/usr/lib/grub-xen/grub-i386-xen_pvh.bin\"\n"));
	free(cfg);
	s.kernel = "/boot/vmlinuz-6.1.0-13-amd64";
	s.ramdisk = "/boot/initrd.img-6.1.0-13-amd64";
	cfg = agfx_xlcfg_render(&s);
	cr_assert(strstr(cfg, "kernel = \"/boot/vmlinuz-6.1.0-13-amd64\"\n"));
	cr_assert(strstr(cfg, "ramdisk = \"/boot/initrd.img-6.1.0-13-amd64\"\n"));
	cr_assert_eq(xlcfg_parse_check(cfg, NULL, 0), 0);
	free(cfg);
}

static void assert_rejected(const xlcfg_spec *s, const char *field)
{
	char *cfg = (char *)"untouched";
	const char *why = NULL;
	int rc = xlcfg_render(s, &cfg, &why);
	cr_assert_eq(rc, -EINVAL);
	cr_assert_null(cfg);
	cr_assert_not_null(why);
	cr_assert(strncmp(why, field, strlen(field)) == 0, "why names %s: %s", field, why);
}

Test(xlcfg, rejects_mac_with_quote)
{
	xlcfg_spec s = agfx_xlcfg_spec(XL_PVH);
	s.mac = "00:16:3e:12:34:5'";
	assert_rejected(&s, "mac");
	s.mac = "00:16:3e:12:34:56' ]\nextra = 'x";
	assert_rejected(&s, "mac");
	s.mac = "02:00:00:00:00:01";
	assert_rejected(&s, "mac");
}

Test(xlcfg, rejects_name_with_newline)
{
	xlcfg_spec s = agfx_xlcfg_spec(XL_PVH);
	s.name = "xvps-12\nmemory = 999999";
	assert_rejected(&s, "name");
	s.name = "web1.example.com";
	assert_rejected(&s, "name");
	s.name = "xvps-1\"";
	assert_rejected(&s, "name");
}

Test(xlcfg, rejects_vcpus_out_of_range)
{
	xlcfg_spec s = agfx_xlcfg_spec(XL_PVH);
	s.vcpus = 0;
	assert_rejected(&s, "vcpus");
	s.vcpus = 65;
	assert_rejected(&s, "vcpus");
}

Test(xlcfg, rejects_memory_out_of_range)
{
	xlcfg_spec s = agfx_xlcfg_spec(XL_PVH);
	s.memory_mib = 127;
	assert_rejected(&s, "memory_mib");
	s.memory_mib = 1048577;
	assert_rejected(&s, "memory_mib");
}

Test(xlcfg, rejects_cap_above_vcpus_times_100)
{
	xlcfg_spec s = agfx_xlcfg_spec(XL_PVH);
	s.cpu_cap_pct = 201; /* 2 vcpus */
	assert_rejected(&s, "cpu_cap_pct");
	s.cpu_cap_pct = -1;
	assert_rejected(&s, "cpu_cap_pct");
	s.cpu_cap_pct = 200;
	char *cfg = agfx_xlcfg_render(&s);
	free(cfg);
}

Test(xlcfg, rejects_weight_out_of_range)
{
	xlcfg_spec s = agfx_xlcfg_spec(XL_PVH);
	s.cpu_weight = 0;
	assert_rejected(&s, "cpu_weight");
	s.cpu_weight = 65536;
	assert_rejected(&s, "cpu_weight");
}

Test(xlcfg, rejects_bridge_with_comma)
{
	xlcfg_spec s = agfx_xlcfg_spec(XL_PVH);
	s.bridge = "br0,script=/tmp/x";
	assert_rejected(&s, "bridge");
	s.bridge = "br0=";
	assert_rejected(&s, "bridge");
	s.bridge = "averyveryverylongbridge";
	assert_rejected(&s, "bridge");
}

Test(xlcfg, rejects_disk_path_with_quote)
{
	xlcfg_spec s = agfx_xlcfg_spec(XL_PVH);
	s.disk_path = "/dev/xvps/x'";
	assert_rejected(&s, "disk_path");
	s.disk_path = "dev/xvps/relative";
	assert_rejected(&s, "disk_path");
	s.disk_path = "/dev/xvps/a,b";
	assert_rejected(&s, "disk_path");
	s.disk_path = "/dev/xvps/a\\b";
	assert_rejected(&s, "disk_path");
	s.disk_path = "/dev/xvps/../../etc/shadow";
	assert_rejected(&s, "disk_path");
	s.disk_path = "/dev/xvps/a b";
	assert_rejected(&s, "disk_path");
}

Test(xlcfg, rejects_bad_vifname_ips_rate_and_extra)
{
	xlcfg_spec s = agfx_xlcfg_spec(XL_PVH);
	s.vifname = "vx12,rate=1";
	assert_rejected(&s, "vifname");
	s = agfx_xlcfg_spec(XL_PVH);
	static const char *const bad_ips[] = {"192.0.2.10,rate=1", NULL};
	s.ips = bad_ips;
	assert_rejected(&s, "ips");
	static const char *const lz_ips[] = {"192.0.2.010", NULL};
	s.ips = lz_ips;
	assert_rejected(&s, "ips");
	s = agfx_xlcfg_spec(XL_PVH);
	s.net_mbit = -1;
	assert_rejected(&s, "net_mbit");
	s = agfx_xlcfg_spec(XL_PVH);
	s.extra = "console=hvc0\" bootloader=\"/usr/lib/xen/bin/pygrub";
	assert_rejected(&s, "extra");
	s.extra = "a\\b";
	assert_rejected(&s, "extra");
	s = agfx_xlcfg_spec(XL_PVH);
	s.kernel = "/boot/vmlinuz\n";
	assert_rejected(&s, "kernel");
}

Test(xlcfg, rejects_kernel_for_hvm_and_bad_vnc_display)
{
	xlcfg_spec s = agfx_xlcfg_spec(XL_HVM);
	s.kernel = "/boot/vmlinuz";
	assert_rejected(&s, "kernel");
	s = agfx_xlcfg_spec(XL_HVM);
	s.vnc_display = -2;
	assert_rejected(&s, "vnc_display");
}

Test(xlcfg, parse_check_reports_syntax_errors)
{
	char err[256];
	cr_assert_eq(xlcfg_parse_check("name = \"x\nvcpus = 1\n", err, sizeof(err)), -EINVAL);
	cr_assert_neq(err[0], '\0');
	cr_assert_eq(xlcfg_parse_check("vif = [ 'a' \n", err, sizeof(err)), -EINVAL);
	cr_assert_eq(xlcfg_parse_check("name = \"x\"\n", err, sizeof(err)), 0);
}

Test(xlcfg, write_creates_0600_file_atomically)
{
	char dir[] = "/tmp/xvps-xlcfg-XXXXXX";
	cr_assert_not_null(mkdtemp(dir));
	char path[256];
	snprintf(path, sizeof(path), "%s/xvps-12.cfg", dir);
	xlcfg_spec s = agfx_xlcfg_spec(XL_PVH);
	const char *why = NULL;
	cr_assert_eq(xlcfg_write(&s, path, &why), 0);
	struct stat st;
	cr_assert_eq(stat(path, &st), 0);
	cr_assert_eq(st.st_mode & 0777, 0600);
	char *data = NULL;
	cr_assert_eq(read_file(path, 1 << 20, &data, NULL), 0);
	char *cfg = agfx_xlcfg_render(&s);
	cr_assert_str_eq(data, cfg);
	free(cfg);
	free(data);

	/* An invalid spec leaves the existing file alone. */
	s.vcpus = 0;
	cr_assert_eq(xlcfg_write(&s, path, &why), -EINVAL);
	cr_assert_eq(stat(path, &st), 0);
	unlink(path);
	cr_assert_eq(rmdir(dir), 0, "temp files left behind");
}

/* The seed on the loop device the agent bound, with its own hotplug script (issue 17 item 6):
 * the spec as xl reads it (libxlutil's disk parser) names both. */
Test(xlcfg, a_loop_seed_names_its_hotplug_script)
{
	xlcfg_spec s = agfx_xlcfg_spec(XL_PVH);
	s.seed_path = "/dev/loop3";
	s.seed_script = "/usr/lib/xvps/xvps-block-seed";
	char *cfg = agfx_xlcfg_render(&s);
	const char *item = strstr(cfg, "'format=raw, vdev=xvdb");
	char spec[200];
	const char *specs[1] = {spec};
	libxl_device_disk disk;
	XLU_Config *xc = xlu_cfg_init(stderr, "test");

	cr_assert_not_null(item, "%s", cfg);
	cr_assert_eq(sscanf(item + 1, "%199[^']", spec), 1);
	cr_assert_str_eq(spec, "format=raw, vdev=xvdb, access=ro, "
	                       "script=/usr/lib/xvps/xvps-block-seed, target=/dev/loop3");
	libxl_device_disk_init(&disk);
	cr_assert_eq(xlu_disk_parse(xc, 1, specs, &disk), 0);
	cr_assert_str_eq(disk.pdev_path, "/dev/loop3");
	cr_assert_str_eq(disk.script, "/usr/lib/xvps/xvps-block-seed");
	cr_assert_str_eq(disk.vdev, "xvdb");
	cr_assert_eq(disk.readwrite, 0);
	libxl_device_disk_dispose(&disk);
	xlu_cfg_destroy(xc);
	/* A script path outside the allow-list is refused. */
	s.seed_script = "/usr/lib/xvps/x'y";
	char *bad = NULL;
	const char *why = NULL;
	cr_assert_eq(xlcfg_render(&s, &bad, &why), -EINVAL);
	cr_assert(why && strstr(why, "seed_script"), "%s", why ? why : "");
	free(cfg);
}

/* The vif's own hotplug script (issue 17 item 6): named last in the vif spec, where xl's
 * parser takes `script=` (xl.cfg(5) "vif"); a path outside the allow-list is refused. */
Test(xlcfg, the_vif_names_its_hotplug_script)
{
	xlcfg_spec s = agfx_xlcfg_spec(XL_PVH);
	s.vif_script = "/usr/lib/xvps/xvps-vif";
	char *cfg = agfx_xlcfg_render(&s);
	const char *vif = strstr(cfg, "vif = [ '");

	cr_assert_not_null(vif, "%s", cfg);
	cr_assert_not_null(strstr(vif, ", script=/usr/lib/xvps/xvps-vif' ]\n"), "%s", cfg);
	free(cfg);
	s.vif_script = NULL;
	cfg = agfx_xlcfg_render(&s);
	cr_assert_null(strstr(cfg, "script="), "no script= without one: %s", cfg);
	free(cfg);
	s.vif_script = "/usr/lib/xvps/xvps-vif, mac=00:16:3e:00:00:01";
	char *bad = NULL;
	const char *why = NULL;
	cr_assert_eq(xlcfg_render(&s, &bad, &why), -EINVAL);
	cr_assert(why && strstr(why, "vif_script"), "%s", why ? why : "");
	cr_assert_null(bad);
}
