/* guest_password.h — root password resets of a VPS (issue 16 item 2): a password xvps makes
 * (getrandom), the rules for one the customer sets, and the crypt(3) hash (libxcrypt) that is
 * all the spec, the seed and the database ever hold. The plaintext never leaves the request
 * that made or received it.
 * Return convention: 0 or -1 (errno-style failures are not told apart: the caller answers 500). */
#ifndef XVPS_PANEL_GUEST_PASSWORD_H
#define XVPS_PANEL_GUEST_PASSWORD_H

#include <stdbool.h>
#include <stddef.h>

#define GUEST_PW_GEN_LEN  20 /* characters of a generated password (~116 bits) */
#define GUEST_PW_MIN      12 /* bytes of a password the customer sets */
#define GUEST_PW_MAX      128
#define GUEST_PW_HASH_MAX 160 /* CRYPT_HASH_MAX of common/guestval.h */

/* A fresh password of GUEST_PW_GEN_LEN characters from an alphabet without look-alikes
 * (no 0/O, 1/l/I), drawn from getrandom without modulo bias, into out (+ NUL). */
int guest_password_generate(char out[GUEST_PW_GEN_LEN + 1]);

/* The rules for a password the customer sets: GUEST_PW_MIN..GUEST_PW_MAX bytes of printable
 * ASCII (typed on a console's keyboard), at least three of lower case, upper case, digits and
 * other characters, at least 6 distinct characters. False with *why (static) set. */
bool guest_password_ok(const char *pw, const char **why);

/* crypt(3) of pw with a fresh salt from getrandom: yescrypt ("$y$", libxcrypt's default cost),
 * or SHA-512 ("$6$") where libxcrypt lacks yescrypt, into out (len >= GUEST_PW_HASH_MAX + 1).
 * The result passes valid_crypt_hash. */
int guest_password_hash(const char *pw, char *out, size_t len);

#endif
