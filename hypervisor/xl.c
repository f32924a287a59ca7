/* xl.c — the real Xen hypervisor driver (driver.h): every operation is an `xl` command run
 * through the injected runner (argv, timeout; never a shell), its output parsed in the formats
 * xl 4.17 prints (tools/xl/xl_info.c, xl_sched.c, xl_vmcontrol.c). Never calls exit(), never
 * trusts xl's output shape: anything unexpected becomes an error value. CPU time metering
 * (cpu_times) reads libxenstat instead, through a replaceable table (hv_xenstat_ops).
 * This file: running xl and the lifecycle (create, shutdown, reboot, destroy); xl_sched.c the
 * scheduler, xl_query.c info, list and console, xl_cpu.c the CPU times. */
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
int xl_exec(hv_driver *d, const char *const argv[], int timeout_ms, runner_result *res, char *err)
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
bool xl_says_absent(const runner_result *res)
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

void xl_sleep_ms(int ms)
{
	struct timespec ts = {ms / 1000, (long)(ms % 1000) * 1000000L};
	while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
		;
}

/* `xl domid NAME`: 0 with *domid_out, 1 when the domain does not exist, or -errno. */
int xl_domid(hv_driver *d, const char *name, int *domid_out, char *err)
{
	const char *argv[] = {"xl", "domid", name, NULL};
	runner_result res;
	int rc = xl_exec(d, argv, XL_CMD_TIMEOUT_MS, &res, err);
	if (rc == -EIO && xl_says_absent(&res)) {
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
		xl_sleep_ms(XL_POLL_MS);
	}
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

/* Every destroy ends a run: the run-end hooks (driver.h) bracket it with the domain's final CPU
 * time, read through libxenstat right before (exact for a preserved domain, which runs no
 * more; a running one may add the few ms between the read and the destroy). When libxenstat
 * cannot be read the run's CPU time since the last sample is lost, as it was before. */
static int xl_destroy(hv_driver *d, const char *name, char *err)
{
	if (!xl_check_name(name, err))
		return -EINVAL;
	const char *argv[] = {"xl", "destroy", name, NULL};
	const char *names[1] = {name};
	char cpu_err[HV_ERRLEN] = "";
	uint64_t final_ns = 0;
	runner_result res;
	hv_run_ending(d, name);
	if (xl_cpu_times(d, names, 1, &final_ns, cpu_err) != 0)
		final_ns = 0;
	int rc = xl_exec(d, argv, XL_CMD_TIMEOUT_MS, &res, err);
	if (rc == -EIO && xl_says_absent(&res)) {
		rc = 0; /* destroying what is absent is success */
		if (err)
			err[0] = '\0';
	}
	runner_result_dispose(&res);
	hv_run_ended(d, name, final_ns, rc == 0);
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
	bool absent = rc == -EIO && xl_says_absent(&res);
	runner_result_dispose(&res);
	if (absent) {
		if (err)
			err[0] = '\0';
		return 0;
	}
	if (rc < 0 && rc != -ETIMEDOUT && rc != -EIO)
		return rc; /* xl could not be run at all */
	/* Shut down, the domain is preserved (on_poweroff "preserve"); not in time (or refused):
	 * pull the plug. Either way destroy ends the run and folds its CPU time. */
	rc = xl_destroy(d, name, err);
	if (rc < 0)
		return rc;
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
	/* With on_reboot "preserve" (xlcfg.c) the guest's reboot leaves the domain shut down
	 * ("---sr-"), not re-created: wait for that, then destroy it (the run's CPU time is
	 * folded) and let the caller create it again from its config. A domain re-created under
	 * a new domid (an older config with on_reboot "restart") is done. */
	xl_priv *p = d->priv;
	int wait_ms = p->reboot_wait_ms;
	uint64_t deadline = now_mono_ms() + (uint64_t)wait_ms;
	for (;;) {
		hv_domain_info info;
		rc = xl_info(d, name, &info, err);
		if (rc < 0)
			return rc;
		if (info.state == HV_ABSENT)
			return 0; /* gone: the caller creates it */
		if (info.state == HV_RUNNING && info.domid != old)
			return 0;
		if (info.state == HV_SHUTDOWN || now_mono_ms() >= deadline)
			break;
		xl_sleep_ms(XL_POLL_MS);
	}
	/* Shut down for the reboot, or the guest ignored the request: reset it, as shutdown pulls
	 * the plug after its timeout; the caller starts it again from its config. */
	rc = xl_destroy(d, name, err);
	if (rc < 0)
		return rc;
	return wait_gone(d, name, XL_GONE_WAIT_MS, err);
}

static int xl_forget(hv_driver *d, const char *name, char *err)
{
	/* Xen keeps nothing about a domain that is not running; configs belong to the agent. */
	return xl_check_name(name, err) ? 0 : -EINVAL;
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
        .set_memory = xl_set_memory, /* xl_resize.c */
        .set_vcpus = xl_set_vcpus,
        .forget = xl_forget,
        .console_source = xl_console_source,
        .cpu_times = xl_cpu_times,
        .preserved = xl_preserved,
        .created_info = xl_created_info, /* xl_sched.c */
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
