/* hv_common.c — the few helpers both hypervisor drivers share (driver.h): the run-end hooks
 * they call around every destroy and the names of shutdown reasons. No driver state, no I/O. */
#include "driver.h"

void hv_run_ending(hv_driver *d, const char *name)
{
	if (d->hooks.ending)
		d->hooks.ending(d->hooks.ctx, name);
}

void hv_run_ended(hv_driver *d, const char *name, uint64_t final_cpu_ns, bool destroyed)
{
	if (d->hooks.ended)
		d->hooks.ended(d->hooks.ctx, name, final_cpu_ns, destroyed);
}

const char *hv_shutdown_reason_name(hv_shutdown_reason r)
{
	switch (r) {
	case HV_SHUTDOWN_POWEROFF:
		return "poweroff";
	case HV_SHUTDOWN_REBOOT:
		return "reboot";
	case HV_SHUTDOWN_CRASH:
		return "crash";
	case HV_SHUTDOWN_OTHER:
		return "other";
	default:
		return "none";
	}
}
