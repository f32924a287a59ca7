/* guestval.h — validators of the guest settings (issue 16 item 2) that xvpsd checks at the API
 * and xvps-agent checks again before a value reaches a seed: a fully qualified host name and a
 * crypt(3) password hash. Pure, no I/O, no library beyond libc (the agent links it). */
#ifndef XVPS_GUESTVAL_H
#define XVPS_GUESTVAL_H

#include <stdbool.h>

#define CRYPT_HASH_MAX 160 /* bytes of a hash line, NUL excluded */

/* A fully qualified host name: valid_hostname (RFC 1123, lower case, 1..253 characters) with at
 * least two labels, the last one (the top-level domain) not all digits. */
bool valid_fqdn(const char *s, const char **why_out);

/* A crypt(3) hash the guest may hand to `chpasswd -e`: yescrypt "$y$<params>$<salt>$<hash>" or
 * SHA-512 "$6$[rounds=N$]<salt>$<hash>", 20..CRYPT_HASH_MAX bytes of [./0-9A-Za-z$=] (so no
 * ':' or newline), with exactly the '$' fields of its scheme. */
bool valid_crypt_hash(const char *s, const char **why_out);

#endif
