/* sim_resize.c — the sim driver's live resize (driver.h set_memory, set_vcpus; issue 16 item
 * 1), modelled on Xen: a running domain's memory target and online vcpus change at once up to
 * the ceilings its config gave it at creation (maxmem, maxvcpus), never beyond (-ERANGE, as
 * libxl refuses a target above static-max); a reboot builds the domain from its config again. */
#include "sim_internal.h"

#include <stdio.h>
#include <string.h>

#define errf(err, ...) errfmt(err, HV_ERRLEN, __VA_ARGS__)

/* Loads a domain that runs (not preserved): 0, -EINVAL, -ESRCH or the loader's -errno. */
static int load_running(hv_driver *d, const char *name, sim_dom *dom, char *err)
{
	int rc;

	if (!sim_name_ok(name)) {
		errf(err, "invalid domain name");
		return -EINVAL;
	}
	rc = sim_load_dom(d, name, dom, err);
	if (rc == -ENOENT || (rc == 0 && (!dom->running || dom->shutdown != HV_SHUTDOWN_NONE))) {
		errf(err, "domain %s is not running", name);
		return -ESRCH;
	}
	return rc;
}

int sim_set_memory(hv_driver *d, const char *name, uint64_t memory_mib, char *err)
{
	sim_dom dom;
	int rc = load_running(d, name, &dom, err);

	if (rc)
		return rc;
	if (memory_mib < 128 || memory_mib > (uint64_t)dom.max_memory_mib) {
		errf(err, "memory %llu MiB out of range 128..%lld (maxmem)",
		     (unsigned long long)memory_mib, (long long)dom.max_memory_mib);
		return -ERANGE;
	}
	dom.memory_mib = (int64_t)memory_mib;
	return sim_save_dom(d, name, &dom, err);
}

int sim_set_vcpus(hv_driver *d, const char *name, int vcpus, char *err)
{
	sim_dom dom;
	int rc = load_running(d, name, &dom, err);

	if (rc)
		return rc;
	if (vcpus < 1 || vcpus > dom.max_vcpus) {
		errf(err, "vcpus %d out of range 1..%d (maxvcpus)", vcpus, dom.max_vcpus);
		return -ERANGE;
	}
	dom.vcpus = vcpus;
	return sim_save_dom(d, name, &dom, err);
}

void sim_reboot_sizes(sim_dom *dom, const char *name)
{
	char err[HV_ERRLEN];
	sim_dom fresh;

	if (!dom->cfg_path[0])
		return;
	memset(&fresh, 0, sizeof(fresh));
	if (sim_read_cfg(dom->cfg_path, name, &fresh, err) != 0)
		return;
	dom->vcpus = fresh.vcpus;
	dom->memory_mib = fresh.memory_mib;
	dom->max_vcpus = fresh.max_vcpus;
	dom->max_memory_mib = fresh.max_memory_mib;
}
