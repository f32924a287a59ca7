/* xl_internal.h — shared between the xl driver's files: xl.c (running xl; create, shutdown,
 * reboot, destroy), xl_sched.c (scheduler, weight and cap), xl_query.c (info, list, console)
 * and xl_cpu.c (CPU time through libxenstat). Not a public interface.
 * Return convention (as driver.h): 0 or a negative errno, with one sentence in err. */
#ifndef XVPS_XL_INTERNAL_H
#define XVPS_XL_INTERNAL_H

#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "driver.h"

/* Bounds on a hung xl command, not expected durations: on the appliance under QEMU TCG a plain
 * `xl info` took over 30 s while a guest was booting, and `xl create` about a minute. */
#define XL_CMD_TIMEOUT_MS    120000
#define XL_CREATE_TIMEOUT_MS 300000
#define XL_POLL_MS           250
#define XL_GONE_WAIT_MS      30000  /* after shutdown/destroy: until `xl domid` fails */
#define XL_REBOOT_WAIT_MS    120000 /* until the guest's reboot left the domain preserved */
#define XL_CONFIG_WAIT_MS    60000  /* until `xl list -l` shows a re-created domain's config */

/* A scheduler's name as `xl info` prints it ("credit2"), with its NUL. */
#define XL_SCHED_LEN 16

typedef struct xl_priv {
	pthread_mutex_t lock;     /* guards sched */
	char sched[XL_SCHED_LEN]; /* cached `xl info` xen_scheduler, "" until known */
	/* libxenstat (cpu_times): the handle is opened on first use and kept; after a failed
	 * snapshot it is closed and opened again on the next call. xs_lock serialises every
	 * use of the handle (libxenstat is not thread-safe). */
	pthread_mutex_t xs_lock;
	const hv_xenstat_ops *xs;
	void *xs_handle;
	int reboot_wait_ms; /* how long reboot waits for the guest (hv_xl_set_reboot_wait) */
} xl_priv;

/* One sentence into err (HV_ERRLEN bytes; err may be NULL). */
void xl_set_err(char *err, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* True when name is a domain name xvps makes (validate.h); else false with err set. */
bool xl_check_name(const char *name, char *err);

/* Runs argv; returns 0 when it exited 0, -ETIMEDOUT, -EIO when it failed (res kept for the
 * caller to inspect and dispose), or the runner's -errno. On failure err holds one sentence. */
int xl_exec(hv_driver *d, const char *const argv[], int timeout_ms, runner_result *res, char *err);

/* True when a failed xl command's stderr says the domain does not exist. */
bool xl_says_absent(const runner_result *res);

/* `xl domid NAME`: 0 with *domid_out, 1 when the domain does not exist, or -errno. */
int xl_domid(hv_driver *d, const char *name, int *domid_out, char *err);

/* Sleeps ms milliseconds (restarted after a signal). */
void xl_sleep_ms(int ms);

/* hv_ops of the xl driver (driver.h): xl_sched.c. */
int xl_scheduler(hv_driver *d, char *out, size_t outlen, char *err);
int xl_set_sched(hv_driver *d, const char *name, int weight, int cap_pct, char *err);
/* A domain's credit weight and cap (percent of one CPU, 0: none) as Xen has them: 0, 1 when
 * the host's scheduler has no such shares, or -errno (-ENOENT: no such domain). */
int xl_get_sched(hv_driver *d, const char *name, int *weight, int *cap_pct, char *err);
/* driver.h created_info: one `xl sched-credit[2] -d NAME` and libxenstat's CPU time. */
int xl_created_info(hv_driver *d, const char *name, hv_domain_info *info, char *err);

/* hv_ops of the xl driver (driver.h): xl_resize.c (`xl mem-set`, `xl vcpu-set`). */
int xl_set_memory(hv_driver *d, const char *name, uint64_t memory_mib, char *err);
int xl_set_vcpus(hv_driver *d, const char *name, int vcpus, char *err);

/* hv_ops of the xl driver (driver.h): xl_query.c. */
int xl_info(hv_driver *d, const char *name, hv_domain_info *info, char *err);
int xl_list(hv_driver *d, const char *prefix, char ***names_out, size_t *n_out, char *err);
int xl_preserved(hv_driver *d, const char *prefix, char ***names_out,
                 hv_shutdown_reason **reasons_out, size_t *n_out, char *err);
/* The shutdown reason in xl list's State column ("r-----", "---sr-"): HV_SHUTDOWN_NONE unless
 * its 4th letter is 's'; then the 5th (tools/xl/xl_info.c "-rscwS"). */
hv_shutdown_reason xl_state_shutdown(const char *state);
int xl_console_source(hv_driver *d, const char *name, char *out, size_t outlen, char *err);

/* The real libxenstat table (xl_cpu.c). */
extern const hv_xenstat_ops xl_xenstat_real;

/* Whether a domain whose name starts with prefix is shut down, from one libxenstat snapshot (no
 * process; issue 17 item 6: the watcher's `xl list` every 2 s cost dom0 a process start each
 * time): 1 yes, 0 no, -ENOTSUP when the table has no domain_shutdown, -errno when libxenstat
 * cannot answer. */
int xl_any_shutdown(hv_driver *d, const char *prefix);

/* The domain's id, weight and cap under sched ("credit2" or "credit") from one libxenstat
 * snapshot and libxenctrl, no process (issue 17 item 6: the read-back after a create). 0,
 * -ENOENT (no domain of that name), -ENOTSUP (no such ops in the table, another scheduler),
 * -errno when the libraries cannot answer (the caller then runs xl). */
int xl_sched_xc(hv_driver *d, const char *name, const char *sched, int *domid, int *weight,
                int *cap);

/* hv_ops.cpu_times of the xl driver (driver.h). */
int xl_cpu_times(hv_driver *d, const char *const *names, size_t n, uint64_t *cpu_ns_out, char *err);

#endif
