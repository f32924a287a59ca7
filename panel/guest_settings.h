/* guest_settings.h — the guest settings of one VPS (issue 16 item 2): hostname, root's SSH keys
 * and root password resets, written to the VPS row with a "vps.update" job in one transaction;
 * the job re-writes the VPS's seed (provisioning/seed.h) and the guest's seed reader applies
 * the change at its next boot. Until then the VPS's guest_pending column names what waits
 * (GET /vps/{id} "guest_pending"); a guest power event (the domain was rebuilt) or a start,
 * reboot or reinstall job clears it. The DNS resolvers come from the VPS's IP pools
 * (ip_pools.resolvers, admin). Reads and writes the store only; never talks to the agent. */
#ifndef XVPS_PANEL_GUEST_SETTINGS_H
#define XVPS_PANEL_GUEST_SETTINGS_H

#include <json-c/json.h>
#include <stdbool.h>
#include <stdint.h>

#define GUEST_MAX_SSH_KEYS  32 /* the agent's SPEC_MAX_KEYS */
#define GUEST_MAX_RESOLVERS 3  /* the agent's SPEC_MAX_RESOLVERS (glibc's MAXNS) */
#define GUEST_PENDING_MAX   64 /* "hostname ssh_keys root_password" */

/* One change; NULL members stay as they are. All validated by the caller. */
typedef struct guest_change {
	const char *hostname; /* valid_fqdn */
	const char
	        *ssh_keys_json; /* a compact JSON array of distinct keys that ssh_key_parse took */
	const char *password_hash; /* valid_crypt_hash: a reset (the serial goes up by one) */
} guest_change;

/* Applies c to vps_id in one transaction (BEGIN IMMEDIATE) and queues "vps.update" as actor.
 * Returns 0 with *job_out (0: nothing differed, nothing written), *serial_out (the VPS's
 * password serial after the change) and *what (the changed settings, space-separated, at most
 * GUEST_PENDING_MAX bytes); or 404 (no VPS), 409 (being deleted, suspended, a job queued or
 * running, the hostname taken: *field "hostname"), 500, with *detail (static) set. Nothing is
 * changed on a refusal. jobs_wake() is the caller's, after this returned 0 with a job. */
int guest_settings_apply(int64_t vps_id, const guest_change *c, int64_t actor, int64_t *job_out,
                         uint32_t *serial_out, char what[GUEST_PENDING_MAX], const char **detail,
                         const char **field);

/* Adds "resolvers", "root_password_hash" and "password_serial" of vps_id to a VPS_SPEC
 * (vps_spec.c): the resolvers of the pools of the VPS's active addresses (IPv4 pools first,
 * then in address order), distinct, at most GUEST_MAX_RESOLVERS. False on a database error. */
bool guest_spec_add(json_object *spec, int64_t vps_id);

/* Clears the VPS's guest_pending (the domain was created again from its seed). */
void guest_pending_clear(int64_t vps_id);

#endif
