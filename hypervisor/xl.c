/* xl.c — the real Xen hypervisor driver (driver.h): every operation is an `xl` command run through
 * the injected runner (argv, timeout; never a shell), its output parsed in the formats xl 4.17
 * prints (tools/xl/xl_info.c, xl_sched.c, xl_vmcontrol.c). Never calls exit(), never trusts
 * xl's output shape: anything unexpected becomes an error value. CPU time metering
 * (cpu_times) reads libxenstat instead, through a replaceable table (hv_xenstat_ops). */
#include "driver.h"
#include "xl_internal.h"

#include <errno.h>
#include <json-c/json.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "../common/jsonutil.h"
#include "../common/util.h"
#include "../common/validate.h"

/* Bounds on a hung xl command, not expected durations: on the appliance under QEMU TCG a plain
 * `xl info` took over 30 s while a guest was booting, and `xl create` about a minute. */
#define XL_CMD_TIMEOUT_MS    120000
#define XL_CREATE_TIMEOUT_MS 300000
#define XL_POLL_MS           250
#define XL_GONE_WAIT_MS      30000  /* after shutdown/destroy: until `xl domid` fails */
#define XL_REBOOT_WAIT_MS    120000 /* until the domain is back with a new domid */
#define XL_CONFIG_WAIT_MS    60000  /* until `xl list -l` shows a re-created domain's config */

void xl_set_err(char *err, const char *fmt, ...)
{
	if (!err)
		return;
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(err, HV_ERRLEN, fmt, ap);
	va_end(ap);
}

/* Runs argv; returns 0 when it exited 0, -ETIMEDOUT, -EIO when it failed (res kept for the
 * caller to inspect), or the runner's -errno. On failure err holds one sentence. */
static int xl_exec(hv_driver *d, const char *const argv[], int timeout_ms, runner_result *res,
                   char *err)
{
	int rc = runner_run(&d->run, argv, NULL, 0, timeout_ms, res);
	char *cmd = runner_argv_str(argv);
	char line[RUNNER_LINE_LEN];
	if (rc < 0) {
		xl_set_err(err, "cannot run %s: %s", cmd ? cmd : argv[0], strerror(-rc));
	} else if (res->timed_out) {
		rc = -ETIMEDOUT;
		xl_set_err(err, "%s did not finish within %d s", cmd ? cmd : argv[0],
		           timeout_ms / 1000);
	} else if (res->exit_status != 0) {
		rc = -EIO;
		const char *why = res->err && res->err[0] ? res->err : res->out;
		/* xl create's stderr opens with "Parsing config from FILE"; the reason (e.g.
		 * "libxl: error: …: domain 2 console tty: timed out") is on the next line. */
		if (why && strncmp(why, "Parsing config from ", 20) == 0 && strchr(why, '\n') &&
		    strchr(why, '\n')[1])
			why = strchr(why, '\n') + 1;
		runner_first_line(why, line, sizeof(line));
		if (res->exit_status < 0)
			xl_set_err(err, "%s was killed by signal %d", cmd ? cmd : argv[0],
			           res->term_signal);
		else
			xl_set_err(err, "%s failed (exit %d): %s", cmd ? cmd : argv[0],
			           res->exit_status, line);
	}
	free(cmd);
	return rc;
}

/* xl's words for "no such domain": find_domain() ("NAME is an invalid domain identifier
 * (rc=-6)"), `xl domid` ("... maybe this domain does not exist.") and `xl list NAME`
 * ("Error: Domain 'NAME' does not exist."). */
static bool says_absent(const runner_result *res)
{
	const char *e = res->err ? res->err : "";
	return strstr(e, "is an invalid domain identifier") || strstr(e, "does not exist");
}

bool xl_check_name(const char *name, char *err)
{
	if (!valid_domain_name(name, NULL)) {
		xl_set_err(err, "refusing to act on domain name that xvps did not make");
		return false;
	}
	return true;
}

static void sleep_ms(int ms)
{
	struct timespec ts = {ms / 1000, (long)(ms % 1000) * 1000000L};
	while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
		;
}

/* `xl domid NAME`: 0 with *domid_out, 1 when the domain does not exist, or -errno. */
static int xl_domid(hv_driver *d, const char *name, int *domid_out, char *err)
{
	const char *argv[] = {"xl", "domid", name, NULL};
	runner_result res;
	int rc = xl_exec(d, argv, XL_CMD_TIMEOUT_MS, &res, err);
	if (rc == -EIO && says_absent(&res)) {
		runner_result_dispose(&res);
		return 1;
	}
	if (rc == 0) {
		long long v;
		char buf[32];
		runner_first_line(res.out, buf, sizeof(buf));
		if (!parse_int_range(buf, 0, 0x7fef, &v)) {
			xl_set_err(err, "xl domid %s printed no domid", name);
			rc = -EPROTO;
		} else {
			*domid_out = (int)v;
		}
	}
	runner_result_dispose(&res);
	return rc;
}

/* Polls `xl domid` until the domain is gone or wait_ms passed. */
static int wait_gone(hv_driver *d, const char *name, int wait_ms, char *err)
{
	uint64_t deadline = now_mono_ms() + (uint64_t)wait_ms;
	for (;;) {
		int domid = -1;
		int rc = xl_domid(d, name, &domid, err);
		if (rc == 1)
			return 0;
		if (rc < 0)
			return rc;
		if (now_mono_ms() >= deadline) {
			xl_set_err(err, "domain %s (domid %d) is still there after %d s", name,
			           domid, wait_ms / 1000);
			return -ETIMEDOUT;
		}
		sleep_ms(XL_POLL_MS);
	}
}

/* Parses `xl info` for "xen_scheduler          : credit2". */
static int parse_info_scheduler(const char *out, char *sched, size_t len)
{
	for (const char *l = out; l && *l;) {
		const char *nl = strchr(l, '\n');
		size_t n = nl ? (size_t)(nl - l) : strlen(l);
		if (strncmp(l, "xen_scheduler", 13) == 0) {
			const char *c = memchr(l, ':', n);
			if (!c)
				return -EPROTO;
			c++;
			while (*c == ' ' || *c == '\t')
				c++;
			size_t vn = (size_t)(l + n - c);
			while (vn > 0 && (c[vn - 1] == ' ' || c[vn - 1] == '\r'))
				vn--;
			if (vn == 0 || vn >= len)
				return -EPROTO;
			for (size_t i = 0; i < vn; i++)
				if (!((c[i] >= 'a' && c[i] <= 'z') ||
				      (c[i] >= '0' && c[i] <= '9') || c[i] == '_'))
					return -EPROTO;
			memcpy(sched, c, vn);
			sched[vn] = '\0';
			return 0;
		}
		l = nl ? nl + 1 : NULL;
	}
	return -EPROTO;
}

static int xl_scheduler(hv_driver *d, char *out, size_t outlen, char *err)
{
	xl_priv *p = d->priv;
	pthread_mutex_lock(&p->lock);
	if (p->sched[0]) {
		snprintf(out, outlen, "%s", p->sched);
		pthread_mutex_unlock(&p->lock);
		return 0;
	}
	pthread_mutex_unlock(&p->lock);

	const char *argv[] = {"xl", "info", NULL};
	runner_result res;
	int rc = xl_exec(d, argv, XL_CMD_TIMEOUT_MS, &res, err);
	char sched[16];
	if (rc == 0) {
		rc = parse_info_scheduler(res.out, sched, sizeof(sched));
		if (rc < 0)
			xl_set_err(err, "xl info printed no xen_scheduler line");
	}
	runner_result_dispose(&res);
	if (rc < 0)
		return rc;
	pthread_mutex_lock(&p->lock);
	snprintf(p->sched, sizeof(p->sched), "%s", sched);
	pthread_mutex_unlock(&p->lock);
	snprintf(out, outlen, "%s", sched);
	return 0;
}

static int xl_create(hv_driver *d, const char *name, const char *cfg_path, char *err)
{
	if (!xl_check_name(name, err))
		return -EINVAL;
	if (!cfg_path || cfg_path[0] != '/') {
		xl_set_err(err, "domain config path must be absolute");
		return -EINVAL;
	}
	const char *argv[] = {"xl", "create", cfg_path, NULL};
	runner_result res;
	int rc = xl_exec(d, argv, XL_CREATE_TIMEOUT_MS, &res, err);
	runner_result_dispose(&res);
	return rc;
}

static int xl_destroy(hv_driver *d, const char *name, char *err)
{
	if (!xl_check_name(name, err))
		return -EINVAL;
	const char *argv[] = {"xl", "destroy", name, NULL};
	runner_result res;
	int rc = xl_exec(d, argv, XL_CMD_TIMEOUT_MS, &res, err);
	if (rc == -EIO && says_absent(&res)) {
		rc = 0; /* destroying what is absent is success */
		if (err)
			err[0] = '\0';
	}
	runner_result_dispose(&res);
	return rc;
}

static int xl_shutdown(hv_driver *d, const char *name, int timeout_s, char *err)
{
	if (!xl_check_name(name, err))
		return -EINVAL;
	if (timeout_s <= 0)
		timeout_s = 60;
	/* -w: wait for the guest to shut down; -F: ACPI power event for HVM guests without
	 * PV drivers. xl waits forever on a guest that ignores us: the runner's timeout ends it. */
	const char *argv[] = {"xl", "shutdown", "-w", "-F", name, NULL};
	runner_result res;
	int rc = xl_exec(d, argv, timeout_s * 1000, &res, err);
	bool absent = rc == -EIO && says_absent(&res);
	runner_result_dispose(&res);
	if (absent) {
		if (err)
			err[0] = '\0';
		return 0;
	}
	if (rc < 0 && rc != -ETIMEDOUT && rc != -EIO)
		return rc; /* xl could not be run at all */
	if (rc < 0) {
		/* The guest did not go in time (or refused): pull the plug. */
		rc = xl_destroy(d, name, err);
		if (rc < 0)
			return rc;
	}
	return wait_gone(d, name, XL_GONE_WAIT_MS, err);
}

static int xl_reboot(hv_driver *d, const char *name, char *err)
{
	if (!xl_check_name(name, err))
		return -EINVAL;
	int old = -1;
	int rc = xl_domid(d, name, &old, err);
	if (rc == 1) {
		xl_set_err(err, "domain %s is not running", name);
		return -ENOENT;
	}
	if (rc < 0)
		return rc;
	const char *argv[] = {"xl", "reboot", "-F", name, NULL};
	runner_result res;
	rc = xl_exec(d, argv, XL_CMD_TIMEOUT_MS, &res, err);
	runner_result_dispose(&res);
	if (rc < 0)
		return rc;
	/* Xen destroys the domain and xl's monitor recreates it under a new domid; in between
	 * `xl domid` may fail. */
	xl_priv *p = d->priv;
	int wait_ms = p->reboot_wait_ms;
	uint64_t deadline = now_mono_ms() + (uint64_t)wait_ms;
	for (;;) {
		int now = -1;
		rc = xl_domid(d, name, &now, err);
		if (rc < 0)
			return rc;
		if (rc == 0 && now != old)
			return 0;
		if (now_mono_ms() >= deadline)
			break;
		sleep_ms(XL_POLL_MS);
	}
	if (rc == 1) { /* torn down, not back yet: xl's monitor may still bring it up */
		xl_set_err(err, "domain %s did not come back from reboot within %d s", name,
		           wait_ms / 1000);
		return -ETIMEDOUT;
	}
	/* The old domain is still there: the guest ignored the request. Reset it, as shutdown
	 * pulls the plug after its timeout; the caller starts it again from its config. */
	rc = xl_destroy(d, name, err);
	if (rc < 0)
		return rc;
	return wait_gone(d, name, XL_GONE_WAIT_MS, err);
}

/* Parses `xl sched-credit2 -d NAME` / `xl sched-credit -d NAME` ("%-33s %4d %6d %4d" after a
 * "Name ID Weight Cap" header). */
static int parse_sched_line(const char *out, const char *name, int *weight, int *cap)
{
	for (const char *l = out; l && *l;) {
		const char *nl = strchr(l, '\n');
		char row[128], nm[64];
		int id, w, c;
		size_t n = nl ? (size_t)(nl - l) : strlen(l);
		if (n < sizeof(row)) {
			memcpy(row, l, n);
			row[n] = '\0';
			if (sscanf(row, "%63s %d %d %d", nm, &id, &w, &c) == 4 &&
			    strcmp(nm, name) == 0) {
				*weight = w;
				*cap = c;
				return 0;
			}
		}
		l = nl ? nl + 1 : NULL;
	}
	return -EPROTO;
}

static const char *sched_cmd(const char *sched)
{
	if (strcmp(sched, "credit2") == 0)
		return "sched-credit2";
	if (strcmp(sched, "credit") == 0)
		return "sched-credit";
	return NULL;
}

static int read_sched(hv_driver *d, const char *name, const char *cmd, int *weight, int *cap,
                      char *err)
{
	const char *argv[] = {"xl", cmd, "-d", name, NULL};
	runner_result res;
	int rc = xl_exec(d, argv, XL_CMD_TIMEOUT_MS, &res, err);
	if (rc == -EIO && says_absent(&res))
		rc = -ENOENT;
	if (rc == 0 && parse_sched_line(res.out, name, weight, cap) < 0) {
		xl_set_err(err, "xl %s -d %s printed no line for the domain", cmd, name);
		rc = -EPROTO;
	}
	runner_result_dispose(&res);
	return rc;
}

static int xl_set_sched(hv_driver *d, const char *name, int weight, int cap_pct, char *err)
{
	if (!xl_check_name(name, err))
		return -EINVAL;
	if (weight < 1 || weight > 65535 || cap_pct < 0 || cap_pct > 64 * 100) {
		xl_set_err(err, "weight must be 1..65535 and cap 0..6400");
		return -EINVAL;
	}
	char sched[16];
	int rc = xl_scheduler(d, sched, sizeof(sched), err);
	if (rc < 0)
		return rc;
	const char *cmd = sched_cmd(sched);
	if (!cmd) {
		xl_set_err(err, "the %s scheduler has no credit weight or cap", sched);
		return -ENOTSUP;
	}
	char w[16], c[16];
	snprintf(w, sizeof(w), "%d", weight);
	snprintf(c, sizeof(c), "%d", cap_pct);
	const char *argv[] = {"xl", cmd, "-d", name, "-w", w, "-c", c, NULL};
	runner_result res;
	rc = xl_exec(d, argv, XL_CMD_TIMEOUT_MS, &res, err);
	runner_result_dispose(&res);
	if (rc < 0)
		return rc;
	int got_w = 0, got_c = 0;
	rc = read_sched(d, name, cmd, &got_w, &got_c, err);
	if (rc < 0)
		return rc;
	if (got_w != weight || got_c != cap_pct) {
		xl_set_err(err, "%s: scheduler reads back weight %d cap %d, wanted %d and %d", name,
		           got_w, got_c, weight, cap_pct);
		return -EIO;
	}
	return 0;
}

/* `xl list -l NAME`: [{"domid": N, "config": {"b_info": {"max_vcpus", "max_memkb"}}}]. */
static int parse_list_long(const char *out, size_t len, hv_domain_info *info)
{
	json_object *root = json_parse_strict(out, len, NULL);
	int rc = -EPROTO;
	if (!root || !json_object_is_type(root, json_type_array))
		goto out;
	if (json_object_array_length(root) < 1) {
		/* xl skips a domain whose configuration libxl cannot retrieve yet: one that xl's
		 * monitor is re-creating after a reboot prints "[ ]" for a moment. */
		rc = -EAGAIN;
		goto out;
	}
	json_object *dom = json_object_array_get_idx(root, 0), *v, *config, *b_info;
	if (!json_object_object_get_ex(dom, "domid", &v) || !json_object_is_type(v, json_type_int))
		goto out;
	info->domid = json_object_get_int(v);
	if (!json_object_object_get_ex(dom, "config", &config) ||
	    !json_object_object_get_ex(config, "b_info", &b_info))
		goto out;
	if (json_object_object_get_ex(b_info, "max_vcpus", &v) &&
	    json_object_is_type(v, json_type_int))
		info->vcpus = json_object_get_int(v);
	if (json_object_object_get_ex(b_info, "max_memkb", &v) &&
	    json_object_is_type(v, json_type_int) && json_object_get_int64(v) > 0)
		info->memory_mib = (uint64_t)json_object_get_int64(v) / 1024u;
	rc = 0;
out:
	json_object_put(root);
	return rc;
}

/* One row of `xl list`: "%-40s %5d %5lu %5d     %c%c%c%c%c%c  %8.1f". */
static bool parse_list_row(const char *row, char *name, size_t namelen, int *domid,
                           unsigned long *mem_mib, int *vcpus, double *cpu_s)
{
	char nm[128], state[16];
	if (sscanf(row, "%127s %d %lu %d %15s %lf", nm, domid, mem_mib, vcpus, state, cpu_s) != 6)
		return false;
	if (strlen(state) != 6 || strlen(nm) >= namelen)
		return false;
	memcpy(name, nm, strlen(nm) + 1);
	return true;
}

static int xl_info(hv_driver *d, const char *name, hv_domain_info *info, char *err)
{
	memset(info, 0, sizeof(*info));
	info->state = HV_ABSENT;
	info->domid = -1;
	if (!xl_check_name(name, err))
		return -EINVAL;
	const char *argv[] = {"xl", "list", "-l", name, NULL};
	runner_result res;
	uint64_t deadline = now_mono_ms() + XL_CONFIG_WAIT_MS;
	int rc;
	for (;;) {
		rc = xl_exec(d, argv, XL_CMD_TIMEOUT_MS, &res, err);
		if (rc == -EIO && says_absent(&res)) {
			runner_result_dispose(&res);
			if (err)
				err[0] = '\0';
			return 0;
		}
		if (rc == 0)
			rc = parse_list_long(res.out, res.out_len, info);
		runner_result_dispose(&res);
		if (rc != -EAGAIN || now_mono_ms() >= deadline)
			break;
		sleep_ms(XL_POLL_MS);
	}
	if (rc == -EAGAIN)
		xl_set_err(err,
		           "domain %s is being built or torn down (xl list -l shows no "
		           "configuration after %d s)",
		           name, XL_CONFIG_WAIT_MS / 1000);
	else if (rc == -EPROTO)
		xl_set_err(err, "xl list -l %s printed unexpected JSON", name);
	if (rc < 0)
		return rc;
	info->state = HV_RUNNING;

	/* CPU time: the plain table's Time(s) column (0.1 s resolution). */
	const char *argv2[] = {"xl", "list", name, NULL};
	rc = xl_exec(d, argv2, XL_CMD_TIMEOUT_MS, &res, err);
	if (rc == -EIO && says_absent(&res)) {
		runner_result_dispose(&res);
		memset(info, 0, sizeof(*info));
		info->state = HV_ABSENT;
		info->domid = -1;
		if (err)
			err[0] = '\0';
		return 0; /* gone between the two calls */
	}
	if (rc == 0) {
		const char *row = strchr(res.out, '\n');
		char nm[64];
		int domid, vcpus;
		unsigned long mem;
		double cpu_s;
		if (row && parse_list_row(row + 1, nm, sizeof(nm), &domid, &mem, &vcpus, &cpu_s) &&
		    strcmp(nm, name) == 0 && cpu_s >= 0) {
			info->cpu_ns = (uint64_t)(cpu_s * 1e9);
		} else {
			xl_set_err(err, "xl list %s printed an unexpected table", name);
			rc = -EPROTO;
		}
	}
	runner_result_dispose(&res);
	if (rc < 0)
		return rc;

	/* Scheduler shares as Xen has them; unknown (0) when this scheduler has none. */
	char sched[16];
	const char *cmd;
	if (xl_scheduler(d, sched, sizeof(sched), err) == 0 && (cmd = sched_cmd(sched))) {
		int w = 0, c = 0;
		if (read_sched(d, name, cmd, &w, &c, err) == 0) {
			info->cpu_weight = w;
			info->cpu_cap_pct = c;
		}
	}
	if (err)
		err[0] = '\0';
	return 0;
}

static int xl_list(hv_driver *d, const char *prefix, char ***names_out, size_t *n_out, char *err)
{
	*names_out = NULL;
	*n_out = 0;
	const char *argv[] = {"xl", "list", NULL};
	runner_result res;
	int rc = xl_exec(d, argv, XL_CMD_TIMEOUT_MS, &res, err);
	if (rc < 0) {
		runner_result_dispose(&res);
		return rc;
	}
	if (strncmp(res.out, "Name ", 5) != 0) {
		xl_set_err(err, "xl list printed no table header");
		runner_result_dispose(&res);
		return -EPROTO;
	}
	char **names = NULL;
	size_t n = 0;
	size_t plen = prefix ? strlen(prefix) : 0;
	for (const char *l = strchr(res.out, '\n'); l && l[1];) {
		l++;
		const char *nl = strchr(l, '\n');
		size_t len = nl ? (size_t)(nl - l) : strlen(l);
		char row[256], nm[64];
		int domid, vcpus;
		unsigned long mem;
		double cpu_s;
		if (len < sizeof(row)) {
			memcpy(row, l, len);
			row[len] = '\0';
			if (parse_list_row(row, nm, sizeof(nm), &domid, &mem, &vcpus, &cpu_s) &&
			    strncmp(nm, prefix ? prefix : "", plen) == 0) {
				char **nn = realloc(names, (n + 1) * sizeof(*names));
				char *dup = strdup(nm);
				if (!nn || !dup) {
					free(dup);
					if (nn)
						names = nn;
					rc = -ENOMEM;
					break;
				}
				names = nn;
				names[n++] = dup;
			}
		}
		l = nl;
	}
	runner_result_dispose(&res);
	if (rc < 0) {
		for (size_t i = 0; i < n; i++)
			free(names[i]);
		free(names);
		xl_set_err(err, "out of memory");
		return rc;
	}
	*names_out = names;
	*n_out = n;
	return 0;
}

static int xl_forget(hv_driver *d, const char *name, char *err)
{
	/* Xen keeps nothing about a domain that is not running; configs belong to the agent. */
	return xl_check_name(name, err) ? 0 : -EINVAL;
}

/* True for "/dev/pts/N" (N: 1..6 digits): the only console xvps-console may open. */
static bool pts_path_ok(const char *s)
{
	size_t n = strlen(s);
	if (strncmp(s, "/dev/pts/", 9) != 0 || n < 10 || n > 15)
		return false;
	for (size_t i = 9; i < n; i++)
		if (s[i] < '0' || s[i] > '9')
			return false;
	return true;
}

/* `xl list -l NAME` of an HVM domain: 1 and *port (5900 + vnc.display) when its config has
 * qemu's VNC on 127.0.0.1 (xlcfg.c writes vnclisten = "127.0.0.1"), 0 when the domain is not
 * HVM, -EPROTO for JSON that is not xl's, -ENOENT for an HVM domain without a loopback VNC. */
static int parse_hvm_vnc(const char *out, size_t len, int *port)
{
	json_object *root = json_parse_strict(out, len, NULL), *dom, *cfg, *ci, *bi, *t, *h, *vnc,
	            *v;
	int rc = -EPROTO;

	if (!root || !json_object_is_type(root, json_type_array) ||
	    json_object_array_length(root) < 1)
		goto out;
	dom = json_object_array_get_idx(root, 0);
	if (!json_object_object_get_ex(dom, "config", &cfg) ||
	    !json_object_object_get_ex(cfg, "c_info", &ci) ||
	    !json_object_object_get_ex(ci, "type", &t) || !json_object_is_type(t, json_type_string))
		goto out;
	if (strcmp(json_object_get_string(t), "hvm") != 0) {
		rc = 0;
		goto out;
	}
	rc = -ENOENT;
	if (!json_object_object_get_ex(cfg, "b_info", &bi) ||
	    !json_object_object_get_ex(bi, "type.hvm", &h) ||
	    !json_object_object_get_ex(h, "vnc", &vnc) ||
	    !json_object_object_get_ex(vnc, "enable", &v) ||
	    strcmp(json_object_get_string(v), "True") != 0 ||
	    !json_object_object_get_ex(vnc, "listen", &v) ||
	    strcmp(json_object_get_string(v), "127.0.0.1") != 0 ||
	    !json_object_object_get_ex(vnc, "display", &v) ||
	    !json_object_is_type(v, json_type_int) || json_object_get_int(v) < 0 ||
	    json_object_get_int(v) > 65535 - 5900)
		goto out;
	*port = 5900 + json_object_get_int(v);
	rc = 1;
out:
	json_object_put(root);
	return rc;
}

/* Where the running domain's console is (driver.h). An HVM guest: qemu's VNC server,
 * "vnc:127.0.0.1:PORT" — the port qemu announced in xenstore (/local/domain/<domid>/console/
 * vnc-port, what `xl vncviewer` reads), else 5900 + the config's vncdisplay. A PV/PVH guest:
 * the pty xenconsoled gives it, "pty:/dev/pts/N" from /local/domain/<domid>/console/tty (what
 * `xl console` reads). */
static int xl_console_source(hv_driver *d, const char *name, char *out, size_t outlen, char *err)
{
	if (!xl_check_name(name, err))
		return -EINVAL;
	int domid = -1, port = 0, hvm;
	int rc = xl_domid(d, name, &domid, err);
	if (rc == 1) {
		xl_set_err(err, "domain %s is not running", name);
		return -ESRCH;
	}
	if (rc < 0)
		return rc;
	char key[64], line[64];
	runner_result res;
	const char *argv_l[] = {"xl", "list", "-l", name, NULL};
	rc = xl_exec(d, argv_l, XL_CMD_TIMEOUT_MS, &res, err);
	if (rc != 0) {
		bool gone = rc == -EIO && says_absent(&res);
		runner_result_dispose(&res);
		if (gone)
			xl_set_err(err, "domain %s is not running", name);
		return gone ? -ESRCH : rc;
	}
	hvm = parse_hvm_vnc(res.out, res.out_len, &port);
	runner_result_dispose(&res);
	if (hvm == -EPROTO) {
		xl_set_err(err, "xl list -l %s printed unexpected JSON", name);
		return -EPROTO;
	}
	if (hvm == -ENOENT) {
		xl_set_err(err, "HVM domain %s has no VNC console on 127.0.0.1", name);
		return -ENOENT;
	}
	snprintf(key, sizeof(key), "/local/domain/%d/console/%s", domid, hvm ? "vnc-port" : "tty");
	const char *argv[] = {"xenstore-read", key, NULL};
	rc = xl_exec(d, argv, XL_CMD_TIMEOUT_MS, &res, err);
	if (hvm) {
		long long p;
		if (rc == 0) {
			runner_first_line(res.out, line, sizeof(line));
			if (!parse_int_range(line, 5900, 65535, &p)) {
				xl_set_err(err, "xenstore %s holds no VNC port", key);
				runner_result_dispose(&res);
				return -EPROTO;
			}
			port = (int)p;
		}
		runner_result_dispose(&res);
		if (rc != 0 && rc != -EIO)
			return rc; /* -EIO: no key; the config's display stands */
		if (snprintf(out, outlen, "vnc:127.0.0.1:%d", port) >= (int)outlen) {
			xl_set_err(err, "console source buffer too small");
			return -ENOSPC;
		}
		return 0;
	}
	if (rc == 0) {
		runner_first_line(res.out, line, sizeof(line));
		if (!pts_path_ok(line)) {
			xl_set_err(err, "xenstore %s holds no /dev/pts path", key);
			rc = -EPROTO;
		} else if (snprintf(out, outlen, "pty:%s", line) >= (int)outlen) {
			xl_set_err(err, "console source buffer too small");
			rc = -ENOSPC;
		}
	} else if (rc == -EIO) {
		xl_set_err(err, "domain %s (domid %d) has no console pty in xenstore", name, domid);
		rc = -ENOENT;
	}
	runner_result_dispose(&res);
	return rc;
}

static void xl_dispose(hv_driver *d)
{
	xl_priv *p = d->priv;
	if (p) {
		if (p->xs_handle)
			p->xs->uninit(p->xs_handle);
		pthread_mutex_destroy(&p->xs_lock);
		pthread_mutex_destroy(&p->lock);
		free(p);
	}
	d->priv = NULL;
}

static const hv_ops xl_ops = {
        .name = "xl",
        .scheduler = xl_scheduler,
        .create = xl_create,
        .shutdown = xl_shutdown,
        .reboot = xl_reboot,
        .destroy = xl_destroy,
        .info = xl_info,
        .list = xl_list,
        .set_sched = xl_set_sched,
        .forget = xl_forget,
        .console_source = xl_console_source,
        .cpu_times = xl_cpu_times,
        .dispose = xl_dispose,
};

int hv_xl_open(hv_driver *d, runner run, char *err)
{
	memset(d, 0, sizeof(*d));
	if (!run.run) {
		xl_set_err(err, "the xl driver needs a command runner");
		return -EINVAL;
	}
	xl_priv *p = calloc(1, sizeof(*p));
	if (!p) {
		xl_set_err(err, "out of memory");
		return -ENOMEM;
	}
	pthread_mutex_init(&p->lock, NULL);
	pthread_mutex_init(&p->xs_lock, NULL);
	p->xs = &xl_xenstat_real;
	p->reboot_wait_ms = XL_REBOOT_WAIT_MS;
	d->ops = &xl_ops;
	d->run = run;
	d->priv = p;
	return 0;
}

int hv_xl_set_reboot_wait(hv_driver *d, int ms)
{
	if (!d || d->ops != &xl_ops || ms < 0)
		return -EINVAL;
	((xl_priv *)d->priv)->reboot_wait_ms = ms;
	return 0;
}
