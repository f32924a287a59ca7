/* vps_spec.h — the VPS_SPEC (common/agent_proto.h) of a VPS built from the database
 * (vps_spec.c), and the two-step release of the addresses a spec leaves out. Reads the store
 * only; never talks to the agent.
 * Return convention: builders return a new object or NULL (the VPS does not exist or the
 * database failed, logged). */
#ifndef XVPS_PANEL_VPS_SPEC_H
#define XVPS_PANEL_VPS_SPEC_H

#include <json-c/json.h>
#include <stddef.h>
#include <stdint.h>

/* Builds the spec with the given power ("running" | "stopped"): active addresses only (routed
 * /64s in "ipv6_routed"), the plan's smtp_block and the VPS's throttle_mbit. */
json_object *job_build_spec(int64_t vps_id, const char *power);

/* The address rows in state 'releasing' that a spec left out (ipam_releasing). */
typedef struct spec_release {
	int64_t vps_id;
	int64_t *rowids;
	size_t n;
} spec_release;
/* job_build_spec after noting the VPS's releasing rows in *rel (always initialised; release it
 * with spec_release_done or spec_release_free, also when NULL is returned). */
json_object *job_build_spec_release(int64_t vps_id, const char *power, spec_release *rel);
/* The agent applied that spec (vps.ensure / vps.network): deletes the noted rows, so that their
 * addresses are free again, audits it, and frees rel. A failure is logged (the rows stay
 * releasing until the next successful network change). */
void spec_release_done(spec_release *rel);
void spec_release_free(spec_release *rel);

#endif
