/* xl_internal.h — shared between the xl driver's files: xl.c (xl commands: create, shutdown,
 * reboot, destroy, info, list, scheduler, console) and xl_cpu.c (CPU time through
 * libxenstat). Not a public interface. */
#ifndef XVPS_XL_INTERNAL_H
#define XVPS_XL_INTERNAL_H

#include <pthread.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "driver.h"

typedef struct xl_priv {
	pthread_mutex_t lock; /* guards sched */
	char sched[16];       /* cached `xl info` xen_scheduler, "" until known */
	/* libxenstat (cpu_times): the handle is opened on first use and kept; after a failed
	 * snapshot it is closed and opened again on the next call. xs_lock serialises every
	 * use of the handle (libxenstat is not thread-safe). */
	pthread_mutex_t xs_lock;
	const hv_xenstat_ops *xs;
	void *xs_handle;
	int reboot_wait_ms; /* how long reboot waits for the new domid (hv_xl_set_reboot_wait) */
} xl_priv;

/* One sentence into err (HV_ERRLEN bytes; err may be NULL). */
void xl_set_err(char *err, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* True when name is a domain name xvps makes (validate.h); else false with err set. */
bool xl_check_name(const char *name, char *err);

/* The real libxenstat table (xl_cpu.c). */
extern const hv_xenstat_ops xl_xenstat_real;

/* hv_ops.cpu_times of the xl driver (driver.h). */
int xl_cpu_times(hv_driver *d, const char *const *names, size_t n, uint64_t *cpu_ns_out, char *err);

#endif
