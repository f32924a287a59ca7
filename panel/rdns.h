/* rdns.h — reverse DNS (issue 16 item 4): PTR names of a VPS's addresses, kept in the panel
 * (rdns_ptr) and pushed to PowerDNS through its HTTP API with libcurl (rdns.c), the forward
 * check of a name with libc's resolver (rdns_check.c), and the retry queue of PTRs to delete
 * when their address is released (rdns_removals, drained by a ticker thread).
 * Configuration: XVPS_PDNS_URL (e.g. http://127.0.0.1:8081; unset: PowerDNS is off and PTRs
 * are only kept in the panel, "published": false), XVPS_PDNS_KEY (its X-API-Key),
 * XVPS_RDNS_RESOLVER (IPv4 host:port of the nameserver the forward check asks; unset: the
 * system's /etc/resolv.conf), XVPS_RDNS_RETRY_INTERVAL (seconds between two drains of the
 * removal queue, 1..3600, default 30). Admin settings (settings table): rdns_zones (the
 * reverse zones on PowerDNS, comma-separated; a PTR goes to the longest one holding it, else
 * to the derived zone: the /24 in in-addr.arpa, the /48 in ip6.arpa) and rdns_unchecked
 * ("true": names need not resolve forward to the address).
 * Return convention: int functions return 0 on success and a negative value on error. */
#ifndef XVPS_PANEL_RDNS_H
#define XVPS_PANEL_RDNS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define RDNS_NAME_MAX  256 /* a DNS name with its trailing dot and NUL */
#define RDNS_ERR_MAX   256
#define RDNS_ZONES_MAX 32   /* zones in the rdns_zones setting */
#define RDNS_TTL       3600 /* the PTR records' TTL (seconds) */

/* Reads the XVPS_PDNS_* and XVPS_RDNS_* variables and starts the removal queue's thread when
 * PowerDNS is configured. 0, or -1 with the reason on stderr (a bad variable). */
int rdns_start(void);
void rdns_stop(void);
/* PowerDNS is configured (XVPS_PDNS_URL set). */
bool rdns_publishing(void);

/* The PTR owner name of an address ("7.2.0.192.in-addr.arpa.", nibbles for IPv6) into
 * out[RDNS_NAME_MAX]; addr: network-order bytes (4 or 16 used). */
void rdns_ptr_owner(int family, const uint8_t addr[16], char out[RDNS_NAME_MAX]);
/* The zone the PTR owner name owner goes to (with its trailing dot) into out[RDNS_NAME_MAX]:
 * the longest zone of the rdns_zones setting that holds it, else the derived one. False on a
 * database error. */
bool rdns_zone_for(int family, const uint8_t addr[16], const char *owner, char out[RDNS_NAME_MAX]);
/* Parses a comma-separated zone list (the rdns_zones setting) into canonical names with a
 * trailing dot; each must end in in-addr.arpa. or ip6.arpa. and be a valid name. The number
 * of zones (0..RDNS_ZONES_MAX), or -1 with *why. */
int rdns_zones_parse(const char *list, char zones[][RDNS_NAME_MAX], size_t max, const char **why);

/* A PTR's name as given by a user: a valid FQDN (two labels at least, lower case, an optional
 * trailing dot). Its canonical form without the trailing dot into out[RDNS_NAME_MAX]; false
 * with *why. */
bool rdns_name_ok(const char *name, char out[RDNS_NAME_MAX], const char **why);

/* The forward check: name resolves (A for family 4, AAAA for 6) to addr through
 * XVPS_RDNS_RESOLVER or the system's resolver. 0 it does; -ENOENT it does not (err: why);
 * -EAGAIN the resolver did not answer (err: why). */
int rdns_forward_check(int family, const uint8_t addr[16], const char *name, char *err,
                       size_t err_len);

/* PowerDNS: sets (name != NULL, without the trailing dot) or deletes (name == NULL) the PTR
 * owner in zone. 0 accepted; -ENOENT the zone does not exist there; -EAGAIN PowerDNS could not
 * be reached; -EPROTO it refused (err: its status and error). */
int rdns_pdns_change(const char *zone, const char *owner, const char *name, char *err,
                     size_t err_len);

/* Deletes the queued removals from PowerDNS (a removal whose zone is gone there counts as
 * done); those that fail stay queued with their error. The number left, or -1. */
int rdns_drain(void);

#endif
