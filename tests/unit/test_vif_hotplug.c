/* test_vif_hotplug.c — the vif's hotplug script (hypervisor/vif_hotplug.h) against a fake
 * xenstore and the kernel's real links: each test runs in its own process (Criterion's fork)
 * moved into a network and mount namespace of its own, with a fresh sysfs, a bridge and veth
 * links standing in for netback's vif and qemu's tap. What the kernel shows afterwards (name,
 * master, MTU, MAC, up) is read from sysfs, not through the code under test. Needs root (CI
 * runs as root); skipped otherwise. */
#include <criterion/criterion.h>
#include <errno.h>
#include <limits.h>
#include <net/if.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <unistd.h>

#include "../../common/runner.h"
#include "../../hypervisor/vif_hotplug.h"

#define BE "backend/vif/7/0"
#define FE "/local/domain/7/device/vif/0"

static struct {
	char rk[8][64], rv[8][64]; /* what reads answer */
	int nr;
	char wk[8][64], wv[8][64]; /* what was written */
	int nw;
} xs;

static char *fx_read(void *ctx, const char *path)
{
	(void)ctx;
	for (int i = 0; i < xs.nr; i++)
		if (strcmp(xs.rk[i], path) == 0)
			return strdup(xs.rv[i]);
	return NULL;
}

static int fx_write(void *ctx, const char *path, const char *value)
{
	(void)ctx;
	cr_assert_lt(xs.nw, 8);
	snprintf(xs.wk[xs.nw], sizeof(xs.wk[0]), "%s", path);
	snprintf(xs.wv[xs.nw++], sizeof(xs.wv[0]), "%s", value);
	return 0;
}

static const hotplug_xs ops = {NULL, fx_read, fx_write};

static void set_key(const char *path, const char *value)
{
	cr_assert_lt(xs.nr, 8);
	snprintf(xs.rk[xs.nr], sizeof(xs.rk[0]), "%s", path);
	snprintf(xs.rv[xs.nr++], sizeof(xs.rv[0]), "%s", value);
}

static const char *written(const char *key)
{
	for (int i = 0; i < xs.nw; i++)
		if (strcmp(xs.wk[i], key) == 0)
			return xs.wv[i];
	return NULL;
}

/* `ip ARGS...` through the project's runner; the test fails when it does. */
#define ip(...) ip_argv((const char *[]){"ip", __VA_ARGS__, NULL})
static void ip_argv(const char *argv[])
{
	runner r = runner_real();
	runner_result res;
	int rc = runner_run(&r, argv, NULL, 0, 10000, &res);
	cr_assert(runner_ok(rc, &res), "ip %s %s %s: %s", argv[1], argv[2], argv[3],
	          res.err ? res.err : "");
	runner_result_dispose(&res);
}

/* A network and mount namespace of this test's own, sysfs remounted for it; the bridge
 * xvpsbr0 (MTU 1400, so a port's MTU shows where it came from) and the dummy link vif7.0. */
static void setup(void)
{
	memset(&xs, 0, sizeof(xs));
	if (geteuid() != 0)
		cr_skip_test("needs root (network namespaces)");
	cr_assert_eq(unshare(CLONE_NEWNET | CLONE_NEWNS), 0, "unshare: %s", strerror(errno));
	cr_assert_eq(mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL), 0);
	cr_assert_eq(mount("sysfs", "/sys", "sysfs", 0, NULL), 0, "sysfs: %s", strerror(errno));
	ip("link", "add", "xvpsbr0", "type", "bridge");
	ip("link", "set", "xvpsbr0", "mtu", "1400");
	ip("link", "set", "xvpsbr0", "up");
	ip("link", "add", "vif7.0", "type", "veth", "peer", "name", "pv7");
	set_key(BE "/bridge", "xvpsbr0");
	set_key(BE "/frontend", FE);
}

TestSuite(vif_hotplug, .init = setup);

static bool sys_read(const char *dev, const char *file, char *out, size_t len)
{
	char path[PATH_MAX];
	snprintf(path, sizeof(path), "/sys/class/net/%s/%s", dev, file);
	FILE *f = fopen(path, "r");
	if (!f)
		return false;
	bool ok = fgets(out, (int)len, f) != NULL;
	fclose(f);
	out[strcspn(out, "\n")] = '\0';
	return ok;
}

/* The bridge dev is a port of ("" when none). */
static const char *master_of(const char *dev)
{
	static char out[64];
	char path[PATH_MAX], target[PATH_MAX];
	snprintf(path, sizeof(path), "/sys/class/net/%s/master", dev);
	ssize_t n = readlink(path, target, sizeof(target) - 1);
	if (n < 0)
		return "";
	target[n] = '\0';
	snprintf(out, sizeof(out), "%s", strrchr(target, '/') + 1);
	return out;
}

static bool is_up(const char *dev)
{
	char v[32];
	return sys_read(dev, "flags", v, sizeof(v)) && (strtoul(v, NULL, 16) & IFF_UP);
}

static vif_hotplug_args vif_args(const char *action)
{
	return (vif_hotplug_args){action, "vif", BE, "vif7.0", NULL};
}

Test(vif_hotplug, online_renames_bridges_and_connects)
{
	char err[VIF_HOTPLUG_ERRLEN] = "", v[64];
	set_key(BE "/vifname", "web7");
	vif_hotplug_args a = vif_args("online");

	cr_assert_eq(vif_hotplug_run(&a, &ops, err), 0, "%s", err);
	cr_assert_eq(if_nametoindex("vif7.0"), 0u, "the vif kept its kernel name");
	cr_assert_str_eq(master_of("web7"), "xvpsbr0");
	cr_assert(is_up("web7"));
	cr_assert(sys_read("web7", "mtu", v, sizeof(v)));
	cr_assert_str_eq(v, "1400", "the bridge's MTU");
	cr_assert(sys_read("web7", "address", v, sizeof(v)));
	cr_assert_str_eq(v, "fe:ff:ff:ff:ff:ff");
	cr_assert_str_eq(written(FE "/mtu"), "1400");
	cr_assert_str_eq(written(BE "/hotplug-status"), "connected");
	cr_assert_null(written(BE "/hotplug-error"));
}

Test(vif_hotplug, backend_mtu_wins_and_no_vifname_keeps_the_name)
{
	char err[VIF_HOTPLUG_ERRLEN] = "", v[64];
	set_key(BE "/mtu", "1280");
	vif_hotplug_args a = vif_args("online");

	cr_assert_eq(vif_hotplug_run(&a, &ops, err), 0, "%s", err);
	cr_assert_str_eq(master_of("vif7.0"), "xvpsbr0");
	cr_assert(sys_read("vif7.0", "mtu", v, sizeof(v)));
	cr_assert_str_eq(v, "1280");
	cr_assert_str_eq(written(FE "/mtu"), "1280");
}

Test(vif_hotplug, name_taken_fails_and_leaves_the_vif_alone)
{
	char err[VIF_HOTPLUG_ERRLEN] = "";
	ip("link", "add", "web7", "type", "veth", "peer", "name", "pw7");
	set_key(BE "/vifname", "web7");
	vif_hotplug_args a = vif_args("online");

	cr_assert_eq(vif_hotplug_run(&a, &ops, err), -EEXIST);
	cr_assert(strstr(err, "already exists"), "%s", err);
	cr_assert_str_eq(written(BE "/hotplug-status"), "error");
	cr_assert(strstr(written(BE "/hotplug-error"), "web7"));
	cr_assert_neq(if_nametoindex("vif7.0"), 0u);
	cr_assert_str_eq(master_of("vif7.0"), "");
	cr_assert_str_eq(master_of("web7"), "");
	cr_assert_not(is_up("vif7.0"));
}

Test(vif_hotplug, missing_bridge_or_link_is_an_error_in_xenstore)
{
	char err[VIF_HOTPLUG_ERRLEN] = "";
	snprintf(xs.rv[0], sizeof(xs.rv[0]), "nosuchbr");
	vif_hotplug_args a = vif_args("online");

	cr_assert_lt(vif_hotplug_run(&a, &ops, err), 0);
	cr_assert(strstr(err, "Could not find bridge device nosuchbr"), "%s", err);
	cr_assert_str_eq(written(BE "/hotplug-status"), "error");
	cr_assert_str_eq(master_of("vif7.0"), "");

	memset(&xs, 0, sizeof(xs));
	set_key(BE "/bridge", "xvpsbr0");
	set_key(BE "/frontend", FE);
	a.vif = "vif7.0";
	ip("link", "del", "vif7.0");
	cr_assert_eq(vif_hotplug_run(&a, &ops, err), -ENODEV);
	cr_assert_str_eq(written(BE "/hotplug-status"), "error");
}

Test(vif_hotplug, wrong_frontend_is_refused)
{
	char err[VIF_HOTPLUG_ERRLEN] = "";
	snprintf(xs.rv[1], sizeof(xs.rv[1]), "/local/domain/8/device/vif/0");
	vif_hotplug_args a = vif_args("online");

	cr_assert_eq(vif_hotplug_run(&a, &ops, err), -EINVAL);
	cr_assert_str_eq(written(BE "/hotplug-status"), "error");
	cr_assert_null(written("/local/domain/8/device/vif/0/mtu"));
}

Test(vif_hotplug, offline_takes_it_out_and_an_absent_link_is_fine)
{
	char err[VIF_HOTPLUG_ERRLEN] = "";
	set_key(BE "/vifname", "web7");
	vif_hotplug_args a = vif_args("online");
	cr_assert_eq(vif_hotplug_run(&a, &ops, err), 0, "%s", err);
	cr_assert_str_eq(master_of("web7"), "xvpsbr0");

	a.action = "offline";
	cr_assert_eq(vif_hotplug_run(&a, &ops, err), 0, "%s", err);
	cr_assert_str_eq(master_of("web7"), "");
	cr_assert_not(is_up("web7"));

	ip("link", "del", "web7");
	cr_assert_eq(vif_hotplug_run(&a, &ops, err), 0, "%s", err);
}

Test(vif_hotplug, tap_add_renames_to_emu_without_hotplug_status)
{
	char err[VIF_HOTPLUG_ERRLEN] = "";
	ip("link", "add", "vif7.0-emu", "type", "veth", "peer", "name", "pe7");
	set_key(BE "/vifname", "web7");
	vif_hotplug_args a = {"add", "tap", BE, "vif7.0", "vif7.0-emu"};

	cr_assert_eq(vif_hotplug_run(&a, &ops, err), 0, "%s", err);
	cr_assert_eq(if_nametoindex("vif7.0-emu"), 0u);
	cr_assert_str_eq(master_of("web7-emu"), "xvpsbr0");
	cr_assert(is_up("web7-emu"));
	cr_assert_str_eq(master_of("vif7.0"), "", "the vif is not the tap's business");
	cr_assert_eq(xs.nw, 0, "a tap writes nothing to xenstore");

	a.action = "remove";
	cr_assert_eq(vif_hotplug_run(&a, &ops, err), 0, "%s", err);
	cr_assert_str_eq(master_of("web7-emu"), "");
}

/* `nft ARGS...` (stdin: text, or NULL) through the runner; its output (heap) or NULL on failure. */
static char *nft_run(const char *const argv[], const char *text)
{
	runner r = runner_real();
	runner_result res;
	int rc = runner_run(&r, argv, text, text ? strlen(text) : 0, 10000, &res);
	char *out = runner_ok(rc, &res) && res.out ? strdup(res.out) : NULL;
	runner_result_dispose(&res);
	return out;
}

/* The VPS's table (as the agent leaves it before the domain starts): the vif and its tap are
 * hooked to it by the script, between the rename and the up (issue 17 item 3). */
Test(vif_hotplug, an_xvps_vif_and_its_tap_are_hooked_to_their_table)
{
	char err[VIF_HOTPLUG_ERRLEN] = "", *out;
	static const char *const mk[] = {"nft", "-f", "-", NULL};
	static const char *const list[] = {"nft", "list", "table", "netdev", "xvps-xvif7", NULL};
	free(nft_run(mk, "add table netdev xvps-xvif7\nadd chain netdev xvps-xvif7 filter\n"
	                 "add chain netdev xvps-xvif7 rate\n"));
	set_key(BE "/vifname", "xvif7");
	vif_hotplug_args a = vif_args("online");

	cr_assert_eq(vif_hotplug_run(&a, &ops, err), 0, "%s", err);
	cr_assert(is_up("xvif7"));
	out = nft_run(list, NULL);
	cr_assert_not_null(out);
	cr_assert_not_null(strstr(out, "chain ingress {\n\t\ttype filter hook ingress device "
	                               "\"xvif7\" priority filter; policy drop;\n"
	                               "\t\tjump rate\n"
	                               "\t\tmeta mark set meta mark | 0x20000000 goto filter\n"),
	                   "%s", out);
	cr_assert_null(strstr(out, "ingress-emu"), "%s", out);
	free(out);
	/* again (libxl retries, or a second run): the same one hook */
	cr_assert_eq(vif_hotplug_run(&a, &ops, err), 0, "%s", err);
	ip("link", "add", "vif7.0-emu", "type", "veth", "peer", "name", "pe7");
	vif_hotplug_args t = {"add", "tap", BE, "vif7.0", "vif7.0-emu"};
	cr_assert_eq(vif_hotplug_run(&t, &ops, err), 0, "%s", err);
	out = nft_run(list, NULL);
	cr_assert_not_null(out);
	cr_assert_not_null(strstr(out, "chain ingress-emu {\n\t\ttype filter hook ingress device "
	                               "\"xvif7-emu\" priority filter; policy drop;\n"
	                               "\t\tjump rate\n"),
	                   "%s", out);
	int gotos = 0;
	for (const char *p = out; (p = strstr(p, "goto filter")) != NULL; p++)
		gotos++;
	cr_assert_eq(gotos, 2, "one rule per hook, the second run replaced the first:\n%s", out);
	free(out);
}

/* Without the VPS's table (the agent manages no firewall here), or with a table missing its
 * chains, an xvps vif comes up unhooked (-ENOENT is not the script's to judge: the agent's guard
 * drops the frames of a vif that no hook marked). */
Test(vif_hotplug, no_table_is_no_hook)
{
	char err[VIF_HOTPLUG_ERRLEN] = "", *out;
	static const char *const mk[] = {"nft", "add", "table", "netdev", "xvps-xvif7", NULL};
	static const char *const list[] = {"nft", "list", "table", "netdev", "xvps-xvif7", NULL};
	set_key(BE "/vifname", "xvif7");
	vif_hotplug_args a = vif_args("online");

	cr_assert_eq(vif_hotplug_run(&a, &ops, err), 0, "%s", err);
	cr_assert(is_up("xvif7"));
	cr_assert_str_eq(written(BE "/hotplug-status"), "connected");
	ip("link", "set", "xvif7", "down");
	free(nft_run(mk, NULL));
	cr_assert_eq(vif_hotplug_run(&a, &ops, err), 0, "%s", err);
	cr_assert(is_up("xvif7"));
	out = nft_run(list, NULL);
	cr_assert_not_null(out);
	cr_assert_null(strstr(out, "ingress"), "nothing half-made:\n%s", out);
	free(out);
}

Test(vif_hotplug, other_actions_do_nothing)
{
	char err[VIF_HOTPLUG_ERRLEN] = "";
	vif_hotplug_args a = vif_args("add"); /* a vif's add/remove: vif-common.sh exits 0 */
	cr_assert_eq(vif_hotplug_run(&a, &ops, err), 0);
	a = (vif_hotplug_args){"online", "tap", BE, "vif7.0", "vif7.0-emu"};
	cr_assert_eq(vif_hotplug_run(&a, &ops, err), 0);
	cr_assert_str_eq(master_of("vif7.0"), "");
	cr_assert_eq(xs.nw, 0);
}

Test(vif_hotplug, bad_arguments_are_refused)
{
	char err[VIF_HOTPLUG_ERRLEN] = "";
	vif_hotplug_args a = vif_args("bogus");
	cr_assert_eq(vif_hotplug_run(&a, &ops, err), -EINVAL);
	cr_assert(strstr(err, "usage"), "%s", err);

	a = vif_args("online");
	a.type_if = "vnic";
	cr_assert_eq(vif_hotplug_run(&a, &ops, err), -EINVAL);

	a = vif_args("online");
	a.xenbus_path = "backend/vbd/7/0";
	cr_assert_eq(vif_hotplug_run(&a, &ops, err), -EINVAL);
	a.xenbus_path = "/local/domain/0/backend/vif/7/0/../../8/0";
	cr_assert_eq(vif_hotplug_run(&a, &ops, err), -EINVAL);
	cr_assert_eq(xs.nw, 0, "nothing written for a path that is not a vif backend");

	a = vif_args("online");
	a.vif = "vif8.0"; /* another domain's vif */
	cr_assert_eq(vif_hotplug_run(&a, &ops, err), -EINVAL);
	cr_assert_str_eq(master_of("vif8.0"), "");

	memset(&xs, 0, sizeof(xs));
	set_key(BE "/bridge", "xvpsbr0");
	set_key(BE "/vifname", "web7;reboot");
	a = vif_args("online");
	cr_assert_eq(vif_hotplug_run(&a, &ops, err), -EINVAL);
	cr_assert(strstr(err, "vifname"), "%s", err);
	cr_assert_str_eq(master_of("vif7.0"), "");
}
