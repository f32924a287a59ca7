/* test_seed.c — the per-VPS seed (provisioning/seed.c): exact bytes, 64 KiB, mode 0600, atomic
 * replace, refusal of unsafe values, removal; and its wiring in vps.c: ensure writes the seed
 * before the config that attaches it as the read-only xvdb, the config parses with libxlutil,
 * remove and the reconciler delete it, a failed first creation leaves none. Files live under a
 * mkdtemp() dir; the sim guest runs only where $XVPS_SIMGUEST is (test_vps.c's rule). */
#include <criterion/criterion.h>
#include <dirent.h>
#include <errno.h>
#include <libxlutil.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "../../common/util.h"
#include "../../hypervisor/xlcfg.h"
#include "../../provisioning/seed.h"
#include "../../provisioning/vps.h"
#include "agent_fixture.h"
#include "sim_fixture.h"

static char tmp[64];

static void mk_tmp(void)
{
	snprintf(tmp, sizeof(tmp), "/tmp/xvps-seed-XXXXXX");
	cr_assert_not_null(mkdtemp(tmp));
}

static void rm_tmp(void)
{
	while (waitpid(-1, NULL, WNOHANG) > 0)
		;
	simfx_rmtree(tmp);
}

TestSuite(seed, .init = mk_tmp, .fini = rm_tmp, .timeout = 60);

#define KEY1                                                                                       \
	"ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIGJ3dGVzdGtleXRlc3RrZXl0ZXN0a2V5dGVzdGs alice@laptop"
#define KEY2 "ssh-rsa AAAAB3NzaC1yc2EAAAADAQABAAABAQC7testtesttesttest"

static const char full_json[] =
        "{\"name\":\"xvps-12\",\"hostname\":\"web1.example.com\",\"type\":\"pvh\","
        "\"vcpus\":1,\"memory_mib\":512,\"disk_gib\":2,\"template\":\"tpl-1\","
        "\"mac\":\"00:16:3e:00:00:0c\",\"vifname\":\"xvif12\","
        "\"ipv4\":[\"192.0.2.10\",\"192.0.2.11\"],\"ipv6\":[\"2001:DB8:0:0::10\"],"
        "\"ipv6_routed\":[\"2001:db8:1:2::/64\"],\"gateway4\":\"192.0.2.1\","
        "\"gateway6\":\"fe80::1\",\"power\":\"stopped\",\"ssh_keys\":[\"" KEY1 "\",\"" KEY2 "\"]}";

static const char full_text[] = "XVPS-SEED 1\n"
                                "hostname=web1.example.com\n"
                                "ipv4=192.0.2.10/32\n"
                                "ipv4=192.0.2.11/32\n"
                                "gateway4=192.0.2.1\n"
                                "ipv6=2001:db8::10/128\n"
                                "ipv6_routed=2001:db8:1:2::/64\n"
                                "gateway6=fe80::1\n"
                                "ssh_key=" KEY1 "\n"
                                "ssh_key=" KEY2 "\n"
                                "end\n";

static char *read_all(const char *path, size_t *len)
{
	char *data = NULL;

	cr_assert_eq(read_file(path, 1 << 20, &data, len), 0, "cannot read %s", path);
	return data;
}

static int count_entries(const char *dir)
{
	DIR *d = opendir(dir);
	struct dirent *de;
	int n = 0;

	if (!d)
		return -1;
	while ((de = readdir(d)) != NULL)
		if (de->d_name[0] != '.')
			n++;
	closedir(d);
	return n;
}

Test(seed, exact_bytes_size_and_mode)
{
	vps_spec spec;
	char path[512], want[600], err[SEED_ERRLEN] = "";
	size_t len = 0;
	struct stat sb;

	agfx_spec(&spec, full_json);
	cr_assert_eq(seed_write(tmp, &spec, path, sizeof(path), err), 0, "%s", err);
	snprintf(want, sizeof(want), "%s/seed/xvps-12.img", tmp);
	cr_assert_str_eq(path, want);
	cr_assert_eq(stat(path, &sb), 0);
	cr_assert_eq(sb.st_size, SEED_SIZE);
	cr_assert_eq(sb.st_mode & 07777, 0600);
	snprintf(want, sizeof(want), "%s/seed", tmp);
	cr_assert_eq(stat(want, &sb), 0);
	cr_assert_eq(sb.st_mode & 07777, 0700, "the seed dir is the agent's alone");

	char *data = read_all(path, &len);
	cr_assert_eq(len, (size_t)SEED_SIZE);
	cr_assert_eq(memcmp(data, full_text, sizeof(full_text) - 1), 0, "seed text:\n%.*s",
	             (int)(sizeof(full_text) + 16), data);
	for (size_t i = sizeof(full_text) - 1; i < len; i++)
		cr_assert_eq(data[i], '\0', "padding byte %zu is %d", i, data[i]);
	free(data);

	char buf[SEED_SIZE];
	cr_assert_eq(seed_render(&spec, buf, sizeof(buf), err), (int)sizeof(full_text) - 1);
	spec_dispose(&spec);
}

Test(seed, minimal_spec_has_hostname_only)
{
	vps_spec spec;
	char path[512], err[SEED_ERRLEN] = "";
	size_t len = 0;
	static const char want[] = "XVPS-SEED 1\nhostname=a\nend\n";

	agfx_spec(&spec, "{\"name\":\"xvps-3\",\"hostname\":\"a\",\"type\":\"pv\",\"vcpus\":1,"
	                 "\"memory_mib\":128,\"disk_gib\":1,\"template\":\"tpl-1\","
	                 "\"mac\":\"00:16:3e:00:00:03\",\"vifname\":\"xvif3\","
	                 "\"power\":\"stopped\"}");
	cr_assert_eq(seed_write(tmp, &spec, path, sizeof(path), err), 0, "%s", err);
	char *data = read_all(path, &len);
	cr_assert_eq(len, (size_t)SEED_SIZE);
	cr_assert_eq(memcmp(data, want, sizeof(want)), 0, "%s", data); /* incl. the first NUL */
	free(data);
	spec_dispose(&spec);
}

Test(seed, replaces_atomically_and_leaves_an_identical_seed_alone)
{
	vps_spec spec;
	char path[512], dir[128], err[SEED_ERRLEN] = "";
	struct stat a, b, c;
	size_t len = 0;

	agfx_spec(&spec, full_json);
	cr_assert_eq(seed_write(tmp, &spec, path, sizeof(path), err), 0, "%s", err);
	cr_assert_eq(stat(path, &a), 0);
	/* Unchanged: the same inode, no rewrite. */
	cr_assert_eq(seed_write(tmp, &spec, NULL, 0, err), 0, "%s", err);
	cr_assert_eq(stat(path, &b), 0);
	cr_assert_eq(a.st_ino, b.st_ino);
	cr_assert_eq(a.st_mtim.tv_nsec, b.st_mtim.tv_nsec);
	cr_assert_eq(a.st_mtim.tv_sec, b.st_mtim.tv_sec);

	/* Changed: a new inode renamed over the old one (a loop device on the old file keeps
	 * the old content until the domain is re-created), no temp file left behind. */
	free(spec.hostname);
	spec.hostname = strdup("web2.example.com");
	cr_assert_eq(seed_write(tmp, &spec, NULL, 0, err), 0, "%s", err);
	cr_assert_eq(stat(path, &c), 0);
	cr_assert_neq(a.st_ino, c.st_ino, "replaced by rename, not rewritten in place");
	cr_assert_eq(c.st_size, SEED_SIZE);
	cr_assert_eq(c.st_mode & 07777, 0600);
	char *data = read_all(path, &len);
	cr_assert(strstr(data, "\nhostname=web2.example.com\n") != NULL);
	free(data);
	snprintf(dir, sizeof(dir), "%s/seed", tmp);
	cr_assert_eq(count_entries(dir), 1, "only xvps-12.img in the seed dir");

	/* A wrong mode is repaired even when the bytes match. */
	cr_assert_eq(chmod(path, 0644), 0);
	cr_assert_eq(seed_write(tmp, &spec, NULL, 0, err), 0, "%s", err);
	cr_assert_eq(stat(path, &c), 0);
	cr_assert_eq(c.st_mode & 07777, 0600);
	spec_dispose(&spec);
}

/* Every refusal leaves the previous seed byte for byte. */
static void assert_refused(vps_spec *spec, int want_rc, const char *field, const char *before)
{
	char err[SEED_ERRLEN] = "", path[512];
	size_t len = 0;

	cr_assert_eq(seed_write(tmp, spec, NULL, 0, err), want_rc, "want %d: %s", want_rc, err);
	cr_assert(strncmp(err, field, strlen(field)) == 0, "err names %s: %s", field, err);
	snprintf(path, sizeof(path), "%s/seed/xvps-12.img", tmp);
	char *data = read_all(path, &len);
	cr_assert_eq(len, (size_t)SEED_SIZE);
	cr_assert_eq(memcmp(data, before, SEED_SIZE), 0, "the previous seed changed");
	free(data);
}

Test(seed, refuses_newlines_and_unsafe_values)
{
	vps_spec spec;
	char path[512], err[SEED_ERRLEN] = "", *before;
	size_t len = 0;

	agfx_spec(&spec, full_json);
	cr_assert_eq(seed_write(tmp, &spec, path, sizeof(path), err), 0, "%s", err);
	before = read_all(path, &len);

	char *saved = spec.hostname;
	spec.hostname = "web1.example.com\nipv4=203.0.113.66/32";
	assert_refused(&spec, -EINVAL, "hostname", before);
	spec.hostname = "web;reboot";
	assert_refused(&spec, -EINVAL, "hostname", before);
	spec.hostname = saved;

	saved = spec.ssh_keys[1];
	spec.ssh_keys[1] = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIGJ3 x\nhostname=evil";
	assert_refused(&spec, -EINVAL, "ssh_keys", before);
	spec.ssh_keys[1] = "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIGJ3 x\r";
	assert_refused(&spec, -EINVAL, "ssh_keys", before);
	spec.ssh_keys[1] = "command=\"sh\" ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIGJ3";
	assert_refused(&spec, -EINVAL, "ssh_keys", before);
	spec.ssh_keys[1] = saved;

	saved = spec.ipv4[0];
	spec.ipv4[0] = "192.0.2.10\nend";
	assert_refused(&spec, -EINVAL, "ipv4", before);
	spec.ipv4[0] = saved;
	saved = spec.ipv6[0];
	spec.ipv6[0] = "2001:db8::10/128";
	assert_refused(&spec, -EINVAL, "ipv6", before);
	spec.ipv6[0] = saved;
	saved = spec.ipv6_routed[0];
	spec.ipv6_routed[0] = "2001:db8:1:2::1/64"; /* host bits */
	assert_refused(&spec, -EINVAL, "ipv6_routed", before);
	spec.ipv6_routed[0] = saved;
	saved = spec.gateway4;
	spec.gateway4 = "192.0.2.1 ";
	assert_refused(&spec, -EINVAL, "gateway4", before);
	spec.gateway4 = saved;
	saved = spec.gateway6;
	spec.gateway6 = "fe80::1%eth0";
	assert_refused(&spec, -EINVAL, "gateway6", before);
	spec.gateway6 = saved;

	/* Names and state dirs that could leave <state_dir>/seed. */
	saved = spec.name;
	spec.name = "../xvps-12";
	cr_assert_eq(seed_write(tmp, &spec, NULL, 0, err), -EINVAL);
	spec.name = saved;
	cr_assert_eq(seed_write("relative/dir", &spec, NULL, 0, err), -EINVAL);
	cr_assert_eq(seed_write(tmp, NULL, NULL, 0, err), -EINVAL);
	free(before);
	spec_dispose(&spec);
}

Test(seed, refuses_content_beyond_64_kib)
{
	vps_spec spec;
	char err[SEED_ERRLEN] = "", *keys[SPEC_MAX_KEYS], **saved;
	size_t n_saved;

	agfx_spec(&spec, full_json);
	for (size_t i = 0; i < SPEC_MAX_KEYS; i++) {
		keys[i] = malloc(4001);
		memset(keys[i], 'A', 4000);
		memcpy(keys[i], "ssh-rsa AAAA", 12);
		keys[i][4000] = '\0';
	}
	saved = spec.ssh_keys;
	n_saved = spec.n_ssh_keys;
	spec.ssh_keys = keys;
	spec.n_ssh_keys = SPEC_MAX_KEYS; /* 32 x 4 KB > 64 KiB */
	cr_assert_eq(seed_write(tmp, &spec, NULL, 0, err), -EFBIG, "%s", err);
	cr_assert(strstr(err, "do not fit") != NULL, "%s", err);
	spec.n_ssh_keys = 15; /* 15 x 4 KB fits */
	cr_assert_eq(seed_write(tmp, &spec, NULL, 0, err), 0, "%s", err);
	for (size_t i = 0; i < SPEC_MAX_KEYS; i++)
		free(keys[i]);
	spec.ssh_keys = saved;
	spec.n_ssh_keys = n_saved;
	spec_dispose(&spec);
}

Test(seed, remove_is_idempotent_and_checks_the_name)
{
	vps_spec spec;
	char path[512], err[SEED_ERRLEN] = "";

	agfx_spec(&spec, full_json);
	cr_assert_eq(seed_write(tmp, &spec, path, sizeof(path), err), 0, "%s", err);
	cr_assert_eq(seed_remove(tmp, "xvps-12"), 0);
	cr_assert_neq(access(path, F_OK), 0);
	cr_assert_eq(seed_remove(tmp, "xvps-12"), 0, "absent is success");
	cr_assert_eq(seed_remove(tmp, "../etc/passwd"), -EINVAL);
	cr_assert_eq(seed_remove(tmp, "xvps-12/x"), -EINVAL);
	cr_assert_eq(seed_remove("rel", "xvps-12"), -EINVAL);
	spec_dispose(&spec);
}

/* The xl.cfg golden with the seed disk: byte for byte, and libxlutil reads two disks, the
 * second the read-only xvdb on the seed file. */
Test(seed, xlcfg_golden_with_the_seed_disk)
{
	xlcfg_spec s = agfx_xlcfg_spec(XL_PVH);
	char *cfg = agfx_xlcfg_render(&s), perr[512];
	const char *why = NULL;

	agfx_assert_golden(cfg, "tests/golden/pvh.cfg");
	cr_assert(strstr(cfg, "'format=raw, vdev=xvdb, access=ro, "
	                      "target=/var/lib/xvps/seed/xvps-12.img' ]\n") != NULL);
	cr_assert_eq(xlcfg_parse_check(cfg, perr, sizeof(perr)), 0, "%s", perr);

	XLU_Config *xc = xlu_cfg_init(stderr, "seed.cfg");
	XLU_ConfigList *list = NULL;
	int n = 0;
	cr_assert_eq(xlu_cfg_readdata(xc, cfg, (int)strlen(cfg)), 0);
	cr_assert_eq(xlu_cfg_get_list(xc, "disk", &list, &n, 0), 0);
	cr_assert_eq(n, 2);
	cr_assert_str_eq(xlu_cfg_get_listitem(list, 1),
	                 "format=raw, vdev=xvdb, access=ro, target=/var/lib/xvps/seed/xvps-12.img");
	xlu_cfg_destroy(xc);
	free(cfg);

	/* HVM: xvde, since qemu-xen emulates xvda..xvdd as IDE and cannot make them read-only. */
	s.type = XL_HVM;
	cr_assert_eq(xlcfg_render(&s, &cfg, &why), 0, "%s", why ? why : "");
	cr_assert(strstr(cfg, ", 'format=raw, vdev=xvde, access=ro, "
	                      "target=/var/lib/xvps/seed/xvps-12.img' ]\n") != NULL,
	          "%s", cfg);
	cr_assert_eq(xlcfg_parse_check(cfg, perr, sizeof(perr)), 0, "%s", perr);
	free(cfg);
	s.type = XL_PVH;

	/* Without a seed: one disk; a seed path with a quote or comma is refused. */
	s.seed_path = NULL;
	cr_assert_eq(xlcfg_render(&s, &cfg, &why), 0);
	cr_assert(strstr(cfg, "xvdb") == NULL);
	free(cfg);
	s.seed_path = "/var/lib/xvps/seed/x',target=/etc/shadow";
	cr_assert_eq(xlcfg_render(&s, &cfg, &why), -EINVAL);
	cr_assert(strncmp(why, "seed_path", 9) == 0, "%s", why);
	s.seed_path = "seed/xvps-12.img";
	cr_assert_eq(xlcfg_render(&s, &cfg, &why), -EINVAL);
}

/* ---- the wiring in vps.c over the sim and file drivers ------------------------------------ */

static hv_driver hv;
static st_driver st;
static vps_ctx ctx;

static const char *guest_path(void)
{
	const char *p = getenv("XVPS_SIMGUEST");

	return p && *p ? p : "build/asan/xvps-simguest";
}

static void vps_setup(void)
{
	char err[1024], dir[128], abs[PATH_MAX];
	vps_err ve = {0};

	mk_tmp();
	snprintf(dir, sizeof(dir), "%s/template-src", tmp);
	cr_assert_eq(hv_sim_open(&hv, tmp, err), 0, "%s", err);
	if (realpath(guest_path(), abs))
		hv_sim_set_guest_path(&hv, abs);
	cr_assert_eq(st_file_open(&st, tmp, dir, err), 0, "%s", err);
	snprintf(dir, sizeof(dir), "%s/xen", tmp);
	cr_assert_eq(vps_ctx_init(&ctx, &hv, &st, dir, "xvpsbr0", &ve), 0, "%s", ve.msg);
	cr_assert_eq(vps_ctx_set_state_dir(&ctx, tmp, &ve), 0, "%s", ve.msg);
	ctx.shutdown_timeout_s = 10;
	cr_assert_eq(st.ops->template_ensure(&st, "tpl-1", 1, NULL, NULL, err), 0, "%s", err);
}

static void vps_teardown(void)
{
	char **names = NULL, err[HV_ERRLEN];
	size_t n = 0;

	if (hv.ops->list(&hv, "", &names, &n, err) == 0) {
		for (size_t i = 0; i < n; i++) {
			hv.ops->destroy(&hv, names[i], err);
			hv.ops->forget(&hv, names[i], err);
			free(names[i]);
		}
		free(names);
	}
	hv.ops->dispose(&hv);
	st.ops->dispose(&st);
	rm_tmp();
}

TestSuite(seed_vps, .init = vps_setup, .fini = vps_teardown, .timeout = 60);

static void vps_json(char *buf, size_t len, int id, const char *v4, const char *power,
                     const char *tpl)
{
	snprintf(buf, len,
	         "{\"name\":\"xvps-%d\",\"hostname\":\"vm%d.example.com\",\"type\":\"pvh\","
	         "\"vcpus\":1,\"memory_mib\":256,\"disk_gib\":1,\"template\":\"%s\","
	         "\"mac\":\"00:16:3e:00:00:%02x\",\"vifname\":\"xvif%d\",\"ipv4\":[\"%s\"],"
	         "\"gateway4\":\"192.0.2.1\",\"power\":\"%s\",\"ssh_keys\":[\"" KEY1 "\"]}",
	         id, id, tpl, id, id, v4, power);
}

static bool seed_has(int id, const char *needle)
{
	char path[256], *data = NULL;
	size_t len = 0;
	bool found;

	snprintf(path, sizeof(path), "%s/seed/xvps-%d.img", tmp, id);
	if (read_file(path, 1 << 20, &data, &len) != 0)
		return false;
	found = len == SEED_SIZE && strstr(data, needle) != NULL;
	free(data);
	return found;
}

Test(seed_vps, ensure_writes_the_seed_and_attaches_it)
{
	vps_spec spec;
	vps_err e = {0};
	json_object *status = NULL;
	char js[1024], cfgpath[256], want[512], *cfg = NULL, perr[512];
	size_t len = 0;

	vps_json(js, sizeof(js), 5, "192.0.2.5", "stopped", "tpl-1");
	agfx_spec(&spec, js);
	cr_assert_eq(vps_ensure(&ctx, &spec, &status, &e), 0, "%s", e.msg);
	json_object_put(status);
	cr_assert(seed_has(5, "XVPS-SEED 1\nhostname=vm5.example.com\nipv4=192.0.2.5/32\n"
	                      "gateway4=192.0.2.1\nssh_key=" KEY1 "\nend\n"));
	snprintf(cfgpath, sizeof(cfgpath), "%s/xen/xvps-5.cfg", tmp);
	cr_assert_eq(read_file(cfgpath, 1 << 20, &cfg, &len), 0);
	snprintf(want, sizeof(want),
	         ", 'format=raw, vdev=xvdb, access=ro, target=%s/seed/xvps-5.img' ]\n", tmp);
	cr_assert(strstr(cfg, want) != NULL, "%s", cfg);
	cr_assert_eq(xlcfg_parse_check(cfg, perr, sizeof(perr)), 0, "%s", perr);
	free(cfg);

	/* vps.network with a new address rewrites the seed. */
	spec_dispose(&spec);
	vps_json(js, sizeof(js), 5, "192.0.2.55", "stopped", "tpl-1");
	agfx_spec(&spec, js);
	cr_assert_eq(vps_network(&ctx, &spec, &status, &e), 0, "%s", e.msg);
	json_object_put(status);
	cr_assert(seed_has(5, "\nipv4=192.0.2.55/32\n"));
	cr_assert(!seed_has(5, "\nipv4=192.0.2.5/32\n"));

	/* Removal takes the seed with the config and the disk. */
	cr_assert_eq(vps_remove(&ctx, "xvps-5", &e), 0, "%s", e.msg);
	snprintf(want, sizeof(want), "%s/seed/xvps-5.img", tmp);
	cr_assert_neq(access(want, F_OK), 0);
	spec_dispose(&spec);
}

Test(seed_vps, the_sim_guest_starts_with_the_seed_disk)
{
	vps_spec spec;
	vps_err e = {0};
	json_object *status = NULL, *v = NULL;
	char js[1024];

	if (access(guest_path(), X_OK) != 0)
		cr_skip_test("no simguest at %s (set XVPS_SIMGUEST)", guest_path());
	vps_json(js, sizeof(js), 6, "192.0.2.6", "running", "tpl-1");
	agfx_spec(&spec, js);
	cr_assert_eq(vps_ensure(&ctx, &spec, &status, &e), 0, "%s", e.msg);
	cr_assert(json_object_object_get_ex(status, "state", &v));
	cr_assert_str_eq(json_object_get_string(v), "running");
	json_object_put(status);
	cr_assert(seed_has(6, "hostname=vm6.example.com\n"));
	cr_assert_eq(vps_remove(&ctx, "xvps-6", &e), 0, "%s", e.msg);
	spec_dispose(&spec);
}

Test(seed_vps, failed_first_creation_leaves_no_seed)
{
	vps_spec spec;
	vps_err e = {0};
	json_object *status = NULL;
	char js[1024], path[256];

	/* A bridge name the config writer refuses: ensure fails after the seed was written. */
	snprintf(ctx.bridge, sizeof(ctx.bridge), "bad,bridge");
	vps_json(js, sizeof(js), 7, "192.0.2.7", "stopped", "tpl-1");
	agfx_spec(&spec, js);
	cr_assert_neq(vps_ensure(&ctx, &spec, &status, &e), 0);
	snprintf(path, sizeof(path), "%s/seed/xvps-7.img", tmp);
	cr_assert_neq(access(path, F_OK), 0, "the seed of a failed creation is taken back");
	spec_dispose(&spec);
}

Test(seed_vps, reconcile_removes_seeds_of_unknown_domains)
{
	vps_spec a, b;
	vps_err e = {0};
	json_object *status = NULL, *orphans = NULL;
	char js[1024], path[256];
	const char *known[] = {"xvps-8"};

	vps_json(js, sizeof(js), 8, "192.0.2.8", "stopped", "tpl-1");
	agfx_spec(&a, js);
	vps_json(js, sizeof(js), 9, "192.0.2.9", "stopped", "tpl-1");
	agfx_spec(&b, js);
	cr_assert_eq(seed_write(tmp, &a, NULL, 0, NULL), 0);
	cr_assert_eq(seed_write(tmp, &b, NULL, 0, NULL), 0);
	cr_assert_eq(vps_reconcile(&ctx, known, 1, NULL, 0, &orphans, &e), 0, "%s", e.msg);
	const char *js_out = json_object_to_json_string(orphans);
	cr_assert(strstr(js_out, "\"kind\":\"seed\"") || strstr(js_out, "\"kind\": \"seed\""), "%s",
	          js_out);
	json_object_put(orphans);
	snprintf(path, sizeof(path), "%s/seed/xvps-8.img", tmp);
	cr_assert_eq(access(path, F_OK), 0, "a known domain's seed stays");
	snprintf(path, sizeof(path), "%s/seed/xvps-9.img", tmp);
	cr_assert_neq(access(path, F_OK), 0, "an unknown domain's seed goes");
	(void)status;
	spec_dispose(&a);
	spec_dispose(&b);
}
