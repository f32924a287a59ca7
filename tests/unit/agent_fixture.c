/* agent_fixture.c — helpers the agent-side unit tests share (agent_fixture.h). */
#include "agent_fixture.h"

#include <criterion/criterion.h>
#include <dirent.h>
#include <stdlib.h>
#include <string.h>

#include "../../common/util.h"

void agfx_spec(vps_spec *spec, const char *json)
{
	json_field_error fe = {0};
	json_object *o = json_tokener_parse(json);

	cr_assert_not_null(o, "bad test JSON: %s", json);
	cr_assert_eq(spec_parse(o, spec, &fe), 0, "%s: %s", fe.field, fe.detail);
	json_object_put(o);
}

static const char *const two_ips[] = {"192.0.2.10", "2001:db8::10", NULL};

xlcfg_spec agfx_xlcfg_spec(xl_guest_type type)
{
	return (xlcfg_spec){
	        .name = "xvps-12",
	        .type = type,
	        .vcpus = 2,
	        .memory_mib = 1024,
	        .disk_path = "/dev/xvps/xvps-12",
	        .disk_is_file = false,
	        .seed_path = "/var/lib/xvps/seed/xvps-12.img",
	        .mac = "00:16:3e:12:34:56",
	        .bridge = "xvpsbr0",
	        .vifname = "vx12",
	        .ips = two_ips,
	        .net_mbit = 100,
	        .cpu_weight = 256,
	        .cpu_cap_pct = 150,
	        .vnc_display = -1,
	};
}

char *agfx_xlcfg_render(const xlcfg_spec *s)
{
	char *cfg = NULL;
	const char *why = NULL;
	int rc = xlcfg_render(s, &cfg, &why);

	cr_assert_eq(rc, 0, "render failed: %s", why ? why : "?");
	cr_assert_not_null(cfg);
	return cfg;
}

void agfx_assert_golden(const char *cfg, const char *golden_path)
{
	char *want = NULL;
	size_t len = 0;
	int rc = read_file(golden_path, 1 << 20, &want, &len);

	cr_assert_eq(rc, 0, "cannot read %s (run from the repository root): %d", golden_path, rc);
	cr_assert_str_eq(cfg, want, "rendered config differs from %s:\n%s", golden_path, cfg);
	free(want);
}

int agfx_dir_entries(const char *dir)
{
	DIR *d = opendir(dir);
	struct dirent *de;
	int n = 0;

	if (!d)
		return -1;
	while ((de = readdir(d)) != NULL)
		if (strcmp(de->d_name, ".") != 0 && strcmp(de->d_name, "..") != 0)
			n++;
	closedir(d);
	return n;
}
