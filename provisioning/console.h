/* console.h — the agent's console servers (issue 6, Contract A): one xvps-console per running
 * domain, started on demand by the "console.open" operation, reused while it lives and serves
 * the domain's current run (same domid), reaped when it exits (domain stopped, 300 s without
 * viewers) and stopped with SIGTERM when the agent stops. One set per process.
 *
 * Return convention: 0 or a negative errno, with a sentence in err or *e. */
#ifndef XVPS_CONSOLE_H
#define XVPS_CONSOLE_H

#include <stddef.h>
#include <sys/types.h>

#include "../hypervisor/driver.h"
#include "vps.h"

#define CONSOLE_START_TIMEOUT_MS 5000

/* Enables console servers: bin is the xvps-console program (absolute), sock_dir where their
 * sockets go (absolute; created with missing parents, made mode 0711 and ours: the panel's uid
 * may traverse it but not list it — XVPS_CONSOLE_DIR, default $XVPS_STATE/console; the
 * appliance uses /run/xvps/console because the state directory is 0700), panel_uid the owner
 * of each socket (mode 0600). Returns 0 or -errno with a sentence in err. */
int consrv_init(const char *bin, const char *sock_dir, uid_t panel_uid, char *err, size_t errlen);

/* console.open: validates name (code invalid), checks that the domain runs (code conflict,
 * "the domain is not running"), asks the driver where its console is and returns the socket
 * of that domain's console server, starting one when none serves this run of the domain and
 * waiting up to CONSOLE_START_TIMEOUT_MS for its socket (code host when it cannot). The
 * caller serializes calls per name. Returns 0 or -errno with *e filled. */
int consrv_open(hv_driver *hv, const char *name, char *sock_out, size_t sock_len, pid_t *pid_out,
                vps_err *e);

/* Stops every console server (SIGTERM, SIGKILL after 3 s), reaps them, and disables console
 * servers until the next consrv_init. Safe to call when never initialized. */
void consrv_stop_all(void);

#endif
