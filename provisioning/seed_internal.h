/* seed_internal.h — helpers the two seed writers share (seed.c, the xvps-seed lines;
 * seed_nocloud.c, the cloud-init NoCloud documents). Defined in seed.c; not for other callers. */
#ifndef XVPS_PROVISIONING_SEED_INTERNAL_H
#define XVPS_PROVISIONING_SEED_INTERNAL_H

#include <netinet/in.h>
#include <stdbool.h>
#include <stddef.h>

/* printf into err (SEED_ERRLEN bytes); nothing when err is NULL. */
void seed_seterr(char *err, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* One line of printable ASCII (0x20..0x7e): no newline, CR, NUL or control byte. */
bool seed_one_line(const char *s);

/* Canonical text of the IPv6 address s (inet_ntop: lower case, RFC 5952) into out; false when
 * s is NULL or not an IPv6 address. */
bool seed_canon6(const char *s, char out[INET6_ADDRSTRLEN]);

/* Checks root's SSH key number i (0-based) again: one line of printable ASCII and a key
 * valid_ssh_key accepts. 0, or -EINVAL with err ("ssh_keys: key N: why"). */
int seed_check_ssh_key(const char *k, size_t i, char *err);

#endif
