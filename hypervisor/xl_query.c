/* xl_query.c — the xl driver's read-only operations (driver.h info, list, console_source):
 * `xl list`, `xl list -l` and xenstore-read, parsed in the formats xl 4.17 prints
 * (tools/xl/xl_info.c, xl_vmcontrol.c). Never changes a domain; anything unexpected in xl's
 * output becomes an error value. */
#include "driver.h"
#include "xl_internal.h"

#include <errno.h>
#include <json-c/json.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../common/jsonutil.h"
#include "../common/util.h"
#include "../common/validate.h"

/* `xl list -l NAME`: [{"domid": N, "config": {"b_info": {"max_vcpus", "avail_vcpus": [0, 1],
 * "max_memkb", "target_memkb"}}}]: libxl retrieves avail_vcpus (the online ones) and
 * target_memkb (xenstore's memory/target) from the running domain, so they follow vcpu-set and
 * mem-set; max_* are xl.cfg's maxvcpus and maxmem. */
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
		info->max_vcpus = info->vcpus = json_object_get_int(v);
	if (json_object_object_get_ex(b_info, "avail_vcpus", &v) &&
	    json_object_is_type(v, json_type_array) && json_object_array_length(v) > 0)
		info->vcpus = (int)json_object_array_length(v);
	if (json_object_object_get_ex(b_info, "max_memkb", &v) &&
	    json_object_is_type(v, json_type_int) && json_object_get_int64(v) > 0)
		info->max_memory_mib = info->memory_mib =
		        (uint64_t)json_object_get_int64(v) / 1024u;
	if (json_object_object_get_ex(b_info, "target_memkb", &v) &&
	    json_object_is_type(v, json_type_int) && json_object_get_int64(v) > 0)
		info->memory_mib = (uint64_t)json_object_get_int64(v) / 1024u;
	rc = 0;
out:
	json_object_put(root);
	return rc;
}

/* One row of `xl list`: "%-40s %5d %5lu %5d     %c%c%c%c%c%c  %8.1f"; state_out (7 bytes)
 * gets the State column ("r-----"). */
static bool parse_list_row(const char *row, char *name, size_t namelen, int *domid,
                           unsigned long *mem_mib, int *vcpus, double *cpu_s, char state_out[7])
{
	char nm[128], state[16];
	if (sscanf(row, "%127s %d %lu %d %15s %lf", nm, domid, mem_mib, vcpus, state, cpu_s) != 6)
		return false;
	if (strlen(state) != 6 || strlen(nm) >= namelen)
		return false;
	memcpy(name, nm, strlen(nm) + 1);
	memcpy(state_out, state, 7);
	return true;
}

hv_shutdown_reason xl_state_shutdown(const char *state)
{
	if (!state || strlen(state) != 6 || state[3] != 's')
		return HV_SHUTDOWN_NONE;
	switch (state[4]) { /* libxl_shutdown_reason as the letters "-rscwS" */
	case '-':
		return HV_SHUTDOWN_POWEROFF;
	case 'r':
		return HV_SHUTDOWN_REBOOT;
	case 'c':
	case 'w': /* the watchdog fired: the guest hung, as good as crashed */
		return HV_SHUTDOWN_CRASH;
	default:
		return HV_SHUTDOWN_OTHER;
	}
}

/* `xl list NAME`: true when it shows the domain preserved after a shutdown; then info gets
 * HV_SHUTDOWN, the reason, the domid and the CPU time of the table. */
static bool preserved_row(hv_driver *d, const char *name, hv_domain_info *info)
{
	const char *argv[] = {"xl", "list", name, NULL};
	char nm[64], state[7];
	int domid, vcpus;
	unsigned long mem;
	double cpu_s;
	runner_result res;
	bool yes = false;
	if (xl_exec(d, argv, XL_CMD_TIMEOUT_MS, &res, NULL) == 0) {
		const char *row = strchr(res.out, '\n');
		if (row &&
		    parse_list_row(row + 1, nm, sizeof(nm), &domid, &mem, &vcpus, &cpu_s, state) &&
		    strcmp(nm, name) == 0 && cpu_s >= 0 &&
		    xl_state_shutdown(state) != HV_SHUTDOWN_NONE) {
			info->state = HV_SHUTDOWN;
			info->shutdown = xl_state_shutdown(state);
			info->domid = domid;
			info->max_vcpus = info->vcpus = vcpus;
			info->max_memory_mib = info->memory_mib = mem;
			info->cpu_ns = (uint64_t)(cpu_s * 1e9);
			yes = true;
		}
	}
	runner_result_dispose(&res);
	return yes;
}

int xl_info(hv_driver *d, const char *name, hv_domain_info *info, char *err)
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
	/* A domain Xen shows shut down (libxenstat: no process) is read from the plain table
	 * alone: `xl list -l` and the scheduler's read-back add nothing for a preserved domain,
	 * and under TCG those two processes cost the power watcher seconds per guest shutdown
	 * (a crash learnt 12-18 s after its trigger on a loaded appliance, 2026-12-07). A name
	 * that is only a prefix of the one shut down falls through to the full read. */
	if (xl_any_shutdown(d, name) == 1 && preserved_row(d, name, info))
		return 0;
	for (;;) {
		rc = xl_exec(d, argv, XL_CMD_TIMEOUT_MS, &res, err);
		if (rc == -EIO && xl_says_absent(&res)) {
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
		/* No configuration: being built or torn down. A preserved domain is told by the
		 * plain table (on the appliance its `xl list -l` even succeeds with the full
		 * configuration: tests/unit/data/xl/recorded/). */
		if (preserved_row(d, name, info))
			return 0;
		xl_sleep_ms(XL_POLL_MS);
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
	if (rc == -EIO && xl_says_absent(&res)) {
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
		char nm[64], state[7];
		int domid, vcpus;
		unsigned long mem;
		double cpu_s;
		if (row &&
		    parse_list_row(row + 1, nm, sizeof(nm), &domid, &mem, &vcpus, &cpu_s, state) &&
		    strcmp(nm, name) == 0 && cpu_s >= 0) {
			info->cpu_ns = (uint64_t)(cpu_s * 1e9);
			/* Preserved after the guest powered off, rebooted or crashed. */
			info->shutdown = xl_state_shutdown(state);
			if (info->shutdown != HV_SHUTDOWN_NONE)
				info->state = HV_SHUTDOWN;
		} else {
			xl_set_err(err, "xl list %s printed an unexpected table", name);
			rc = -EPROTO;
		}
	}
	runner_result_dispose(&res);
	if (rc < 0)
		return rc;

	/* Scheduler shares as Xen has them; unknown (0) when this scheduler has none. */
	int w = 0, c = 0;
	if (xl_get_sched(d, name, &w, &c, err) == 0) {
		info->cpu_weight = w;
		info->cpu_cap_pct = c;
	}
	if (err)
		err[0] = '\0';
	return 0;
}

/* `xl list`, the rows whose name starts with prefix (and, when want_shutdown, whose State says
 * the domain is preserved after a shutdown): names and (reasons_out not NULL) reasons. */
static int list_rows(hv_driver *d, const char *prefix, bool want_shutdown, char ***names_out,
                     hv_shutdown_reason **reasons_out, size_t *n_out, char *err)
{
	*names_out = NULL;
	if (reasons_out)
		*reasons_out = NULL;
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
	hv_shutdown_reason *reasons = NULL;
	size_t n = 0;
	size_t plen = prefix ? strlen(prefix) : 0;
	for (const char *l = strchr(res.out, '\n'); l && l[1];) {
		l++;
		const char *nl = strchr(l, '\n');
		size_t len = nl ? (size_t)(nl - l) : strlen(l);
		char row[256], nm[64], state[7];
		int domid, vcpus;
		unsigned long mem;
		double cpu_s;
		if (len < sizeof(row)) {
			memcpy(row, l, len);
			row[len] = '\0';
			if (parse_list_row(row, nm, sizeof(nm), &domid, &mem, &vcpus, &cpu_s,
			                   state) &&
			    strncmp(nm, prefix ? prefix : "", plen) == 0 &&
			    (!want_shutdown || xl_state_shutdown(state) != HV_SHUTDOWN_NONE)) {
				char **nn = realloc(names, (n + 1) * sizeof(*names));
				char *dup = strdup(nm);
				if (nn)
					names = nn;
				hv_shutdown_reason *nr =
				        reasons_out ? realloc(reasons, (n + 1) * sizeof(*reasons))
				                    : NULL;
				if (nr)
					reasons = nr;
				if (!nn || !dup || (reasons_out && !nr)) {
					free(dup);
					rc = -ENOMEM;
					break;
				}
				if (reasons_out)
					reasons[n] = xl_state_shutdown(state);
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
		free(reasons);
		xl_set_err(err, "out of memory");
		return rc;
	}
	*names_out = names;
	if (reasons_out)
		*reasons_out = reasons;
	else
		free(reasons);
	*n_out = n;
	return 0;
}

int xl_list(hv_driver *d, const char *prefix, char ***names_out, size_t *n_out, char *err)
{
	return list_rows(d, prefix, false, names_out, NULL, n_out, err);
}

int xl_preserved(hv_driver *d, const char *prefix, char ***names_out,
                 hv_shutdown_reason **reasons_out, size_t *n_out, char *err)
{
	/* libxenstat first: only when it shows one of ours shut down (or cannot tell) does
	 * `xl list` run for the names and reasons. */
	if (xl_any_shutdown(d, prefix) == 0) {
		*names_out = NULL;
		if (reasons_out)
			*reasons_out = NULL;
		*n_out = 0;
		return 0;
	}
	return list_rows(d, prefix, true, names_out, reasons_out, n_out, err);
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
int xl_console_source(hv_driver *d, const char *name, char *out, size_t outlen, char *err)
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
		bool gone = rc == -EIO && xl_says_absent(&res);
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
