/* console_relay.h — the browser consoles' relays (console_relay.c): one thread per open
 * console, WebSocket binary frames <-> the console server's unix socket. Every public name
 * carries the wsrelay_ prefix (hypervisor/console has relays of its own). A relay never closes
 * the upgraded socket itself: it hands it back once with http_upgrade_close().
 * Return convention: int functions return 0 or -errno. */
#ifndef XVPS_PANEL_CONSOLE_RELAY_H
#define XVPS_PANEL_CONSOLE_RELAY_H

#include <stddef.h>
#include <stdint.h>

typedef struct wsrelay wsrelay;

/* Takes one of user_id's console slots for a relay about to be set up (counted at once, so
 * that concurrent upgrades cannot pass the cap). username and ip are kept for the audit rows
 * the relay writes later (an RFB message refused). 0 with *out, -EBUSY (the user holds
 * CONSOLE_MAX_PER_USER), -ECANCELED (xvpsd is stopping) or -ENOMEM. */
int wsrelay_reserve(int64_t user_id, const char *username, const char *ip, int64_t vps_id,
                    wsrelay **out);
/* Hands the connected, non-blocking console server socket to r (closed with r). */
void wsrelay_set_console_fd(wsrelay *r, int fd);
/* For reply_upgrade(): wsrelay_start begins relaying on the upgraded connection in a thread of
 * its own (it never blocks the caller); wsrelay_drop frees a relay that never started. */
void wsrelay_start(void *relay, const char *extra_in, size_t extra_len, int sock, void *urh);
void wsrelay_drop(void *relay);
/* Closes every relay (a close frame 1001, then the connection) and waits for their threads;
 * later upgrades are refused. http_stop() calls it before stopping the daemon. */
void wsrelay_stop_all(void);

#endif
