/* vps_resize.c — a running domain brought to its spec's memory and vcpus (issue 16 item 1):
 * `xl mem-set` / `xl vcpu-set` (the hypervisor driver's set_memory, set_vcpus) up to the
 * ceilings the domain was created with (xl.cfg maxmem, maxvcpus: hypervisor/xlcfg.h); a size
 * beyond them waits for the next boot, which builds the domain from the new config, and is
 * reported as pending. vps_ensure calls it between power and the scheduler. */
#include "vps_internal.h"

#include <errno.h>
#include <string.h>

int vps_resize_live(vps_ctx *ctx, const vps_spec *spec, bool created, const hv_domain_info *di,
                    int *cap_out, json_object **pending_out, vps_err *err)
{
	hv_driver *hv = ctx->hv;
	char hverr[HV_ERRLEN] = "";
	hv_domain_info info = *di;
	bool mem_wait = false, vcpus_wait = false;
	int rc;

	*pending_out = NULL;
	*cap_out = spec->cpu_cap_pct;
	if (created || !spec->power_running)
		return 0; /* a domain made from the config just written has every size */
	if (info.state != HV_RUNNING)
		return 0;
	if (info.memory_mib != spec->memory_mib) {
		if (spec->memory_mib > info.max_memory_mib) {
			mem_wait = true;
		} else {
			rc = hv->ops->set_memory(hv, spec->name, spec->memory_mib, hverr);
			if (rc) {
				vps_set_err(err, -EIO, "memory_mib",
				            "cannot set the memory of %s: %s", spec->name, hverr);
				return rc;
			}
		}
	}
	if (info.vcpus != spec->vcpus) {
		if (spec->vcpus > info.max_vcpus) {
			vcpus_wait = true;
		} else {
			rc = hv->ops->set_vcpus(hv, spec->name, spec->vcpus, hverr);
			if (rc) {
				vps_set_err(err, -EIO, "vcpus", "cannot set the vcpus of %s: %s",
				            spec->name, hverr);
				return rc;
			}
		}
	}
	/* Xen bounds a cap by the domain's vcpus: until the next boot, at most what it has. */
	if (info.max_vcpus > 0 && *cap_out > info.max_vcpus * 100)
		*cap_out = info.max_vcpus * 100;
	if (mem_wait || vcpus_wait) {
		json_object *p = json_object_new_object();

		json_object_object_add(p, "memory_mib",
		                       mem_wait ? json_object_new_int64((int64_t)spec->memory_mib)
		                                : NULL);
		json_object_object_add(p, "vcpus",
		                       vcpus_wait ? json_object_new_int(spec->vcpus) : NULL);
		*pending_out = p;
	}
	return 0;
}
