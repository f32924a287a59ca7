/* test_template_import.c — the agent's half of cloud image imports
 * (provisioning/template_import.c) with the file storage driver in a mkdtemp() dir: the URL
 * rule (https only unless allowed, no spaces, quotes or missing host), refusals that create
 * nothing (bad sha256, max_bytes, a URL over a refused protocol), a qcow2 made with qemu-img
 * imported into a template image with no work file left, and refusals of a vmdk, an image
 * larger than disk_gib, a file outside the import directory and a symlink leading out of it. */
#include <criterion/criterion.h>
#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "../../common/runner.h"
#include "../../common/util.h"
#include "../../provisioning/template_import.h"
#include "agent_fixture.h"
#include "sim_fixture.h"

static char tmp[64], tdir[128];
static st_driver st;
static vps_ctx ctx;

static void setup(void)
{
	char err[ST_ERRLEN] = "";

	snprintf(tmp, sizeof(tmp), "/tmp/xvps-tplimp-XXXXXX");
	cr_assert_not_null(mkdtemp(tmp));
	snprintf(tdir, sizeof(tdir), "%s/template-src", tmp);
	cr_assert_eq(mkdir(tdir, 0700), 0);
	cr_assert_eq(st_file_open(&st, tmp, tdir, err), 0, "%s", err);
	memset(&ctx, 0, sizeof(ctx));
	ctx.st = &st;
}

static void teardown(void)
{
	st.ops->dispose(&st);
	simfx_rmtree(tmp);
}

TestSuite(tplimport, .init = setup, .fini = teardown, .timeout = 60);

static void qemu_img(const char *fmt, const char *path, const char *size)
{
	runner r = runner_real();
	runner_result res;
	const char *argv[] = {"qemu-img", "create", "-q", "-f", fmt, path, size, NULL};
	int rc;

	runner_result_init(&res);
	rc = runner_run(&r, argv, NULL, 0, 30000, &res);
	cr_assert(runner_ok(rc, &res), "qemu-img create: %d %s", rc, res.err ? res.err : "");
	runner_result_dispose(&res);
}

Test(tplimport, url_rule)
{
	const char *why = NULL;

	cr_assert(tpl_url_ok("https://cloud.debian.org/x.qcow2", false, &why));
	cr_assert_not(tpl_url_ok("http://cloud.debian.org/x.qcow2", false, &why));
	cr_assert(strstr(why, "https") != NULL);
	cr_assert(tpl_url_ok("http://127.0.0.1:8000/x.qcow2", true, &why));
	cr_assert_not(tpl_url_ok("ftp://example.net/x", true, &why));
	cr_assert_not(tpl_url_ok("file:///etc/shadow", true, &why));
	cr_assert_not(tpl_url_ok("https://", false, &why));
	cr_assert_not(tpl_url_ok("https:///x", false, &why));
	cr_assert_not(tpl_url_ok("https://a b", false, &why));
	cr_assert_not(tpl_url_ok("https://a\"b", false, &why));
	cr_assert_not(tpl_url_ok("https://a\nb", false, &why));
	cr_assert_not(tpl_url_ok("", false, &why));
	char *big = malloc(TPL_URL_MAX + 16);
	memset(big, 'a', TPL_URL_MAX + 15);
	memcpy(big, "https://", 8);
	big[TPL_URL_MAX + 15] = '\0';
	cr_assert_not(tpl_url_ok(big, false, &why));
	free(big);
}

Test(tplimport, fetch_refusals_create_nothing)
{
	json_object *res = NULL;
	vps_err e = {0};

	cr_assert_eq(tpl_fetch(&ctx, "tpl-1", "ftp://example.net/x", NULL, 1024, true, &res, &e),
	             -EINVAL);
	cr_assert_str_eq(e.field, "url");
	cr_assert_eq(
	        tpl_fetch(&ctx, "tpl-1", "https://example.net/x", "ABC", 1024, false, &res, &e),
	        -EINVAL);
	cr_assert_str_eq(e.field, "sha256");
	cr_assert_eq(tpl_fetch(&ctx, "tpl-1", "https://example.net/x", NULL, 0, false, &res, &e),
	             -EINVAL);
	cr_assert_str_eq(e.field, "max_bytes");
	cr_assert_null(res);
	cr_assert_eq(agfx_dir_entries(tdir), 0, "no work file");
}

Test(tplimport, qcow2_becomes_the_template_image)
{
	char img[256], tpl_img[256];
	json_object *res = NULL, *v;
	vps_err e = {0};
	struct stat sb;

	snprintf(img, sizeof(img), "%s/vendor.qcow2", tdir);
	qemu_img("qcow2", img, "48M");
	cr_assert_eq(tpl_import(&ctx, "tpl-7", 1, img, &res, &e), 0, "%s", e.msg);
	cr_assert(json_object_object_get_ex(res, "format", &v));
	cr_assert_str_eq(json_object_get_string(v), "qcow2");
	cr_assert(json_object_object_get_ex(res, "virtual_bytes", &v));
	cr_assert_eq(json_object_get_int64(v), 48ll << 20);
	json_object_put(res);
	snprintf(tpl_img, sizeof(tpl_img), "%s/templates/tpl-7.img", tmp);
	cr_assert_eq(stat(tpl_img, &sb), 0, "the template image exists");
	cr_assert_eq(sb.st_size, 48ll << 20, "raw, the image's virtual size");
	cr_assert_eq(agfx_dir_entries(tdir), 1, "only the vendor's file is left in the import dir");
}

Test(tplimport, refusals_leave_no_work_file)
{
	char img[256], link[256];
	json_object *res = NULL;
	vps_err e = {0};

	snprintf(img, sizeof(img), "%s/disk.vmdk", tdir);
	qemu_img("vmdk", img, "8M");
	cr_assert_eq(tpl_import(&ctx, "tpl-2", 1, img, &res, &e), -EINVAL);
	cr_assert(strstr(e.msg, "not qcow2 or raw") != NULL, "%s", e.msg);
	unlink(img);

	snprintf(img, sizeof(img), "%s/big.qcow2", tdir);
	qemu_img("qcow2", img, "2G");
	cr_assert_eq(tpl_import(&ctx, "tpl-2", 1, img, &res, &e), -EINVAL);
	cr_assert_str_eq(e.field, "disk_gib");
	unlink(img);

	cr_assert_eq(tpl_import(&ctx, "tpl-2", 1, "/etc/hostname", &res, &e), -EINVAL);
	cr_assert_str_eq(e.field, "file");
	snprintf(link, sizeof(link), "%s/innocent.raw", tdir);
	cr_assert_eq(symlink("/etc/hostname", link), 0);
	cr_assert_eq(tpl_import(&ctx, "tpl-2", 1, link, &res, &e), -EINVAL);
	cr_assert_str_eq(e.field, "file");
	unlink(link);
	cr_assert_eq(tpl_import(&ctx, "tpl-2", 1, NULL, &res, &e), -ENOENT, "nothing fetched");
	cr_assert_null(res);
	cr_assert_eq(agfx_dir_entries(tdir), 0);
	cr_assert_eq(st.ops->template_exists(&st, "tpl-2", NULL), 0);
}
