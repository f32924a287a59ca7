/* simnet.c — veth pairs and network namespaces for sim domains (see simnet.h). Values reach
 * argv only after they passed common/validate.h; commands run only through the runner. The
 * vif specs are parsed in simnet_parse.c. */
#include "simnet.h"
#include "xlcfg.h"

#include <arpa/inet.h>
#include <errno.h>
#include <json-c/json.h>
#include <libxlutil.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "../common/jsonutil.h"
#include "../common/util.h"
#include "../common/validate.h"

#define errf(err, ...) errfmt(err, HV_ERRLEN, __VA_ARGS__)

void simnet_init(simnet_ctx *ctx)
{
	memset(ctx, 0, sizeof(*ctx));
	ctx->run = runner_real();
	snprintf(ctx->sysfs_net, sizeof(ctx->sysfs_net), "/sys/class/net");
	snprintf(ctx->netns_dir, sizeof(ctx->netns_dir), "/run/netns");
	ctx->timeout_ms = SIMNET_TIMEOUT_MS;
}

bool simnet_valid_prefix(const char *s)
{
	size_t n;

	if (!s)
		return false;
	for (n = 0; s[n]; n++)
		if (n >= SIMNET_MAX_PREFIX ||
		    !((s[n] >= 'a' && s[n] <= 'z') || (s[n] >= '0' && s[n] <= '9') || s[n] == '-'))
			return false;
	return true;
}

int simnet_configure(simnet_ctx *ctx, bool enabled, const char *prefix, runner run)
{
	if (!prefix)
		prefix = "";
	if (!simnet_valid_prefix(prefix) || !run.run)
		return -EINVAL;
	snprintf(ctx->prefix, sizeof(ctx->prefix), "%s", prefix);
	ctx->enabled = enabled;
	ctx->run = run;
	return 0;
}

static bool alnum(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9');
}

bool simnet_valid_bridge(const char *s)
{
	size_t n = s ? strlen(s) : 0;

	if (n < 1 || n > 15 || !((s[0] >= 'a' && s[0] <= 'z') || (s[0] >= '0' && s[0] <= '9')))
		return false;
	for (size_t i = 0; i < n; i++)
		if (!((s[i] >= 'a' && s[i] <= 'z') || (s[i] >= '0' && s[i] <= '9') ||
		      strchr("_.-", s[i])))
			return false;
	return true;
}

/* A namespace name reaches argv and a file name under /run/netns: [A-Za-z0-9_.-]{1,100},
 * starting with a letter or digit (never an option, never "." or ".."). */
static bool ns_ok(const char *s)
{
	return valid_file_name(s, 100, NULL) && alnum(s[0]);
}

bool simnet_nsname(const simnet_ctx *ctx, const char *name, char *out, size_t outlen)
{
	return name && sfmt(out, outlen, "%s%s", ctx->prefix, name) && ns_ok(out);
}

/* ---- the record: <state_dir>/sim/<name>.net ------------------------------------------------ */

typedef struct record {
	char ns[128];
	simnet_vif vifs[SIMNET_MAX_VIFS];
	size_t n;
} record;

static bool record_path(const char *state_dir, const char *name, char *out, size_t len)
{
	return sfmt(out, len, "%s/sim/%s.net", state_dir, name);
}

static int record_save(const char *state_dir, const char *name, const record *r, char *err)
{
	char path[SIMNET_PATH_LEN], spec[SIMNET_SPEC_MAX];
	json_object *o = json_object_new_object(), *a = json_object_new_array();
	const char *txt;
	int rc = -ENOMEM;

	if (!o || !a || !record_path(state_dir, name, path, sizeof(path)))
		goto out;
	json_object_object_add(o, "netns", json_object_new_string(r->ns));
	for (size_t i = 0; i < r->n; i++) {
		if (!simnet_render_vif(&r->vifs[i], spec, sizeof(spec)))
			goto out;
		json_object_array_add(a, json_object_new_string(spec));
	}
	json_object_object_add(o, "vifs", a);
	a = NULL;
	txt = json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN);
	rc = write_file_atomic(path, txt, strlen(txt), 0600);
out:
	if (rc)
		errf(err, "cannot record the vifs of %s: %s", name, strerror(-rc));
	json_object_put(a);
	json_object_put(o);
	return rc;
}

/* Loads and re-validates the record; -ENOENT when there is none. */
static int record_load(const char *state_dir, const char *name, record *r, char *err)
{
	char path[SIMNET_PATH_LEN], why[HV_ERRLEN];
	size_t n;
	json_object *o, *ns, *vifs;
	int rc;

	memset(r, 0, sizeof(*r));
	if (!record_path(state_dir, name, path, sizeof(path))) {
		errf(err, "sim network record path of %s is too long", name);
		return -ENAMETOOLONG;
	}
	rc = json_load_file(path, SIMNET_RECORD_MAX, json_type_object, &o);
	if (rc && rc != -EPROTO) {
		errf(err, "cannot read %s: %s", path, strerror(-rc));
		return rc;
	}
	rc = -EPROTO;
	if (!o || !json_object_object_get_ex(o, "netns", &ns) ||
	    !json_object_is_type(ns, json_type_string) ||
	    !sfmt(r->ns, sizeof(r->ns), "%s", json_object_get_string(ns)) || !ns_ok(r->ns) ||
	    !json_object_object_get_ex(o, "vifs", &vifs) ||
	    !json_object_is_type(vifs, json_type_array) ||
	    (n = json_object_array_length(vifs)) > SIMNET_MAX_VIFS)
		goto out;
	for (size_t i = 0; i < n; i++) {
		json_object *s = json_object_array_get_idx(vifs, i);
		if (!json_object_is_type(s, json_type_string) ||
		    simnet_parse_vif(json_object_get_string(s), &r->vifs[i], why) != 0)
			goto out;
	}
	r->n = n;
	rc = 0;
out:
	if (rc)
		errf(err, "sim network record %s is corrupt", path);
	json_object_put(o);
	return rc;
}

/* ---- host changes ------------------------------------------------------------------------- */

static int run(const simnet_ctx *ctx, char *err, const char *const argv[])
{
	runner_result res;
	int rc;

	runner_result_init(&res);
	rc = runner_run(&ctx->run, argv, NULL, 0, ctx->timeout_ms, &res);
	if (!runner_ok(rc, &res)) {
		char *line = runner_argv_str(argv);
		size_t el = res.err ? strlen(res.err) : 0;

		while (el && (res.err[el - 1] == '\n' || res.err[el - 1] == ' '))
			res.err[--el] = '\0';
		if (rc)
			errf(err, "%s: %s", line ? line : argv[0], strerror(-rc));
		else
			errf(err, "%s failed%s%s", line ? line : argv[0], el ? ": " : "",
			     el ? res.err : (res.timed_out ? " (timed out)" : ""));
		free(line);
		rc = rc ? rc : -EIO;
	}
	runner_result_dispose(&res);
	return rc;
}

static bool present(const char *dir, const char *name)
{
	char path[SIMNET_PATH_LEN];
	struct stat st;

	return sfmt(path, sizeof(path), "%s/%s", dir, name) && lstat(path, &st) == 0;
}

/* Deletes the host ends that are present; the guest ends go with them, synchronously. */
static int del_vifs(const simnet_ctx *ctx, const simnet_vif *vifs, size_t n, char *err)
{
	int first = 0, rc;

	for (size_t i = 0; i < n; i++) {
		if (!present(ctx->sysfs_net, vifs[i].vifname))
			continue;
		rc = run(ctx, err,
		         (const char *const[]){"ip", "link", "del", "dev", vifs[i].vifname, NULL});
		if (rc && present(ctx->sysfs_net, vifs[i].vifname))
			first = first ? first : rc;
	}
	return first;
}

/* Deletes the vifs first, then the namespace: deleting a namespace frees its devices (and
 * their host peers) only later, in the kernel's cleanup work, so a vif re-created at once
 * could still find its old name taken. */
static int teardown(const simnet_ctx *ctx, const char *ns, const simnet_vif *vifs, size_t n,
                    char *err)
{
	int first = del_vifs(ctx, vifs, n, err), rc;

	if (present(ctx->netns_dir, ns)) {
		rc = run(ctx, err, (const char *const[]){"ip", "netns", "del", ns, NULL});
		if (rc && present(ctx->netns_dir, ns))
			first = first ? first : rc;
	}
	return first;
}

static int bring_up_vif(const simnet_ctx *ctx, const char *ns, const simnet_vif *v, size_t i,
                        char *err)
{
	char eth[24], addr[64];
	int rc;

	snprintf(eth, sizeof(eth), "eth%zu", i);
	rc = run(ctx, err,
	         (const char *const[]){"ip", "link", "add", v->vifname, "address", SIMNET_HOST_MAC,
	                               "type", "veth", "peer", "name", eth, "address", v->mac,
	                               "netns", ns, NULL});
	if (rc == 0)
		rc = run(ctx, err,
		         (const char *const[]){"ip", "-n", ns, "link", "set", eth, "up", NULL});
	for (size_t k = 0; rc == 0 && k < v->n_ip4; k++) {
		snprintf(addr, sizeof(addr), "%s/32", v->ip4[k]);
		rc = run(ctx, err,
		         (const char *const[]){"ip", "-n", ns, "addr", "add", addr, "dev", eth,
		                               NULL});
	}
	for (size_t k = 0; rc == 0 && k < v->n_ip6; k++) {
		snprintf(addr, sizeof(addr), "%s/128", v->ip6[k]);
		rc = run(ctx, err,
		         (const char *const[]){"ip", "-n", ns, "addr", "add", addr, "dev", eth,
		                               "nodad", NULL});
	}
	/* On-link defaults: guests reach each other across the bridge without a gateway. */
	if (rc == 0 && i == 0 && v->n_ip4)
		rc = run(ctx, err,
		         (const char *const[]){"ip", "-n", ns, "route", "add", "default", "dev",
		                               eth, NULL});
	if (rc == 0 && i == 0 && v->n_ip6)
		rc = run(ctx, err,
		         (const char *const[]){"ip", "-6", "-n", ns, "route", "add", "default",
		                               "dev", eth, NULL});
	if (rc == 0)
		rc = run(ctx, err,
		         (const char *const[]){"ip", "link", "set", "dev", v->vifname, "master",
		                               v->bridge, "up", NULL});
	return rc;
}

static int bring_up(const simnet_ctx *ctx, const char *ns, const simnet_vif *vifs, size_t n,
                    char *err)
{
	char path[SIMNET_PATH_LEN];
	int rc;

	rc = teardown(ctx, ns, vifs, n, err); /* leftovers of a killed agent are replaced */
	if (rc || n == 0)
		return rc;
	for (size_t i = 0; i < n; i++) {
		if (!sfmt(path, sizeof(path), "%s/bridge", vifs[i].bridge) ||
		    !present(ctx->sysfs_net, path)) {
			errf(err, "bridge %s of vif %s does not exist", vifs[i].bridge,
			     vifs[i].vifname);
			return -ENODEV;
		}
	}
	rc = run(ctx, err, (const char *const[]){"ip", "netns", "add", ns, NULL});
	if (rc == 0)
		rc = run(ctx, err,
		         (const char *const[]){"ip", "-n", ns, "link", "set", "lo", "up", NULL});
	for (size_t i = 0; rc == 0 && i < n; i++)
		rc = bring_up_vif(ctx, ns, &vifs[i], i, err);
	if (rc)
		teardown(ctx, ns, vifs, n, NULL);
	return rc;
}

/* ---- operations --------------------------------------------------------------------------- */

int simnet_create(const simnet_ctx *ctx, const char *state_dir, const char *name,
                  const char *cfg_path, char *err)
{
	record r;
	int rc;

	if (!ctx || !ctx->enabled)
		return 0;
	memset(&r, 0, sizeof(r));
	if (!simnet_nsname(ctx, name, r.ns, sizeof(r.ns))) {
		errf(err, "no valid network namespace name for domain %s", name);
		return -EINVAL;
	}
	rc = simnet_read_cfg(cfg_path, r.vifs, &r.n, err);
	if (rc)
		return rc;
	/* Leftovers: this config's vifs, then the previous run's vifs and namespace. */
	rc = del_vifs(ctx, r.vifs, r.n, err);
	if (rc == 0)
		rc = simnet_stop(ctx, state_dir, name, err);
	if (rc == 0)
		rc = record_save(state_dir, name, &r, err);
	if (rc == 0)
		rc = bring_up(ctx, r.ns, r.vifs, r.n, err);
	return rc;
}

int simnet_start(const simnet_ctx *ctx, const char *state_dir, const char *name, char *err)
{
	char ns[128];
	record r;
	int rc;

	if (!ctx || !ctx->enabled)
		return 0;
	if (!simnet_nsname(ctx, name, ns, sizeof(ns))) {
		errf(err, "no valid network namespace name for domain %s", name);
		return -EINVAL;
	}
	rc = record_load(state_dir, name, &r, err);
	if (rc == -ENOENT) /* created while networking was off: no vifs */
		return 0;
	if (rc)
		return rc;
	if (strcmp(r.ns, ns) != 0) { /* the prefix changed since: move to the new name */
		rc = teardown(ctx, r.ns, r.vifs, r.n, err);
		snprintf(r.ns, sizeof(r.ns), "%s", ns);
		if (rc == 0)
			rc = record_save(state_dir, name, &r, err);
		if (rc)
			return rc;
	}
	return bring_up(ctx, r.ns, r.vifs, r.n, err);
}

int simnet_stop(const simnet_ctx *ctx, const char *state_dir, const char *name, char *err)
{
	record r;
	int rc;

	if (!ctx || !ctx->enabled)
		return 0;
	rc = record_load(state_dir, name, &r, err);
	if (rc == -ENOENT) {
		memset(&r, 0, sizeof(r));
		if (!simnet_nsname(ctx, name, r.ns, sizeof(r.ns)))
			return 0; /* no such namespace can exist */
	} else if (rc) {
		return rc;
	}
	return teardown(ctx, r.ns, r.vifs, r.n, err);
}

int simnet_forget(const simnet_ctx *ctx, const char *state_dir, const char *name, char *err)
{
	char path[SIMNET_PATH_LEN];
	int rc;

	rc = simnet_stop(ctx, state_dir, name, err);
	if (rc)
		return rc;
	if (!record_path(state_dir, name, path, sizeof(path))) {
		errf(err, "sim network record path of %s is too long", name);
		return -ENAMETOOLONG;
	}
	if (unlink(path) != 0 && errno != ENOENT) {
		rc = -errno;
		errf(err, "cannot remove %s: %s", path, strerror(-rc));
	}
	return rc;
}
