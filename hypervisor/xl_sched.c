/* xl_sched.c — the xl driver's scheduler operations (driver.h scheduler, set_sched): `xl info`
 * for the host's scheduler and `xl sched-credit2`/`sched-credit` for a domain's weight and cap,
 * parsed in the formats xl 4.17 prints (tools/xl/xl_info.c, xl_sched.c). Never touches a domain
 * xvps did not make; never trusts xl's output shape. */
#include "driver.h"
#include "xl_internal.h"

#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../common/util.h"
#include "../common/validate.h"

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

int xl_scheduler(hv_driver *d, char *out, size_t outlen, char *err)
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
	char sched[XL_SCHED_LEN];
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

/* Parses `xl sched-credit2 -d NAME` / `xl sched-credit -d NAME` ("%-33s %4d %6d %4d" after a
 * "Name ID Weight Cap" header). */
static int parse_sched_line(const char *out, const char *name, int *domid, int *weight, int *cap)
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
				if (domid)
					*domid = id;
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

static int read_sched(hv_driver *d, const char *name, const char *cmd, int *domid, int *weight,
                      int *cap, char *err)
{
	const char *argv[] = {"xl", cmd, "-d", name, NULL};
	runner_result res;
	int rc = xl_exec(d, argv, XL_CMD_TIMEOUT_MS, &res, err);
	if (rc == -EIO && xl_says_absent(&res))
		rc = -ENOENT;
	if (rc == 0 && parse_sched_line(res.out, name, domid, weight, cap) < 0) {
		xl_set_err(err, "xl %s -d %s printed no line for the domain", cmd, name);
		rc = -EPROTO;
	}
	runner_result_dispose(&res);
	return rc;
}

int xl_get_sched(hv_driver *d, const char *name, int *weight, int *cap_pct, char *err)
{
	char sched[XL_SCHED_LEN];
	const char *cmd;
	int rc = xl_scheduler(d, sched, sizeof(sched), err);

	if (rc < 0)
		return rc;
	cmd = sched_cmd(sched);
	if (!cmd)
		return 1;
	return read_sched(d, name, cmd, NULL, weight, cap_pct, err);
}

int xl_set_sched(hv_driver *d, const char *name, int weight, int cap_pct, char *err)
{
	if (!xl_check_name(name, err))
		return -EINVAL;
	if (weight < 1 || weight > 65535 || cap_pct < 0 || cap_pct > 64 * 100) {
		xl_set_err(err, "weight must be 1..65535 and cap 0..6400");
		return -EINVAL;
	}
	char sched[XL_SCHED_LEN];
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
	rc = read_sched(d, name, cmd, NULL, &got_w, &got_c, err);
	if (rc < 0)
		return rc;
	if (got_w != weight || got_c != cap_pct) {
		xl_set_err(err, "%s: scheduler reads back weight %d cap %d, wanted %d and %d", name,
		           got_w, got_c, weight, cap_pct);
		return -EIO;
	}
	return 0;
}

int xl_created_info(hv_driver *d, const char *name, hv_domain_info *info, char *err)
{
	char sched[XL_SCHED_LEN], cpu_err[HV_ERRLEN];
	const char *names[1] = {name};
	const char *cmd;
	uint64_t cpu_ns = 0;
	int rc, domid = -1, w = 0, c = 0;

	memset(info, 0, sizeof(*info));
	info->state = HV_ABSENT;
	info->domid = -1;
	if (!xl_check_name(name, err))
		return -EINVAL;
	rc = xl_scheduler(d, sched, sizeof(sched), err);
	if (rc < 0)
		return rc;
	cmd = sched_cmd(sched);
	if (!cmd) /* a scheduler without shares: the full info */
		return xl_info(d, name, info, err);
	/* libxenstat and libxenctrl first (no process); xl when they cannot answer. */
	rc = xl_sched_xc(d, name, sched, &domid, &w, &c);
	if (rc != 0)
		rc = read_sched(d, name, cmd, &domid, &w, &c, err);
	if (rc == -ENOENT) {
		if (err)
			err[0] = '\0';
		return 0;
	}
	if (rc < 0)
		return rc;
	info->state = HV_RUNNING;
	info->domid = domid;
	info->cpu_weight = w;
	info->cpu_cap_pct = c;
	if (xl_cpu_times(d, names, 1, &cpu_ns, cpu_err) == 0)
		info->cpu_ns = cpu_ns;
	return 0;
}
