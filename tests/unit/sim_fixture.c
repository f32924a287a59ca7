/* sim_fixture.c — the sim + file + vps_ctx fixture (see sim_fixture.h). */
#include "sim_fixture.h"

#include <criterion/criterion.h>
#include <ftw.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <sys/wait.h>

const char *simfx_guest_path(void)
{
	const char *p = getenv("XVPS_SIMGUEST");

	return p && *p ? p : "build/asan/xvps-simguest";
}

void simfx_open(const char *tag, char tmp[64], hv_driver *hv, st_driver *st, vps_ctx *ctx,
                bool *opened)
{
	char err[1024], dir[128], abs[PATH_MAX];
	vps_err ve = {0};

	snprintf(tmp, 64, "/tmp/xvps-%s-XXXXXX", tag);
	cr_assert_not_null(mkdtemp(tmp));
	snprintf(dir, sizeof(dir), "%s/template-src", tmp);
	cr_assert_eq(hv_sim_open(hv, tmp, err), 0, "%s", err);
	if (realpath(simfx_guest_path(), abs))
		hv_sim_set_guest_path(hv, abs);
	cr_assert_eq(st_file_open(st, tmp, dir, err), 0, "%s", err);
	snprintf(dir, sizeof(dir), "%s/xen", tmp);
	cr_assert_eq(vps_ctx_init(ctx, hv, st, dir, "xvpsbr0", &ve), 0, "%s", ve.msg);
	ctx->shutdown_timeout_s = 10;
	*opened = true;
	cr_assert_eq(st->ops->template_ensure(st, "tpl-1", 1, NULL, NULL, err), 0, "%s", err);
}

void simfx_forget_all(hv_driver *hv)
{
	char **names = NULL, err[HV_ERRLEN];
	size_t n = 0;

	if (hv->ops->list(hv, "", &names, &n, err) != 0)
		return;
	for (size_t i = 0; i < n; i++) {
		hv->ops->forget(hv, names[i], err);
		free(names[i]);
	}
	free(names);
}

static int rm_one(const char *path, const struct stat *sb, int flag, struct FTW *ftw)
{
	(void)sb;
	(void)flag;
	(void)ftw;
	return remove(path);
}

void simfx_rmtree(const char *tmp)
{
	nftw(tmp, rm_one, 16, FTW_DEPTH | FTW_PHYS);
}

void simfx_close(char tmp[64], hv_driver *hv, st_driver *st, bool *opened)
{
	if (*opened) {
		simfx_forget_all(hv);
		hv->ops->dispose(hv);
		st->ops->dispose(st);
		*opened = false;
	}
	while (waitpid(-1, NULL, WNOHANG) > 0)
		;
	simfx_rmtree(tmp);
}
