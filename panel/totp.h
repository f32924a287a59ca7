/* totp.h — TOTP two-factor codes (RFC 6238: HMAC-SHA1, 30 s steps, 6 digits) through Debian's
 * liboath, and the recovery codes that stand in for a lost authenticator (totp.c). Pure: no
 * database, no clock of its own (callers pass now). Secrets come from getrandom (random_bytes).
 * Return convention: 0 / -1, bools answer a question. */
#ifndef XVPS_PANEL_TOTP_H
#define XVPS_PANEL_TOTP_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define TOTP_SECRET_BYTES 20 /* 160 bits, RFC 4226's recommended HMAC-SHA1 key length */
#define TOTP_SECRET_B32   33 /* base32 of 20 bytes (32 chars, no padding) + NUL */
#define TOTP_STEP_S       30
#define TOTP_DIGITS       6
#define TOTP_WINDOW       1 /* steps accepted either side of now (clock skew) */
#define TOTP_URI_MAX      512
#define TOTP_RECOVERY_N   10
#define TOTP_RECOVERY_LEN 14 /* "xxxx-xxxx-xxxx" */

/* A new random secret as unpadded base32 (what authenticator apps take). */
int totp_new_secret(char out[TOTP_SECRET_B32]);
/* otpauth://totp/xvps:<account>?secret=...&issuer=xvps&algorithm=SHA1&digits=6&period=30
 * (account percent-encoded). -1 when it does not fit. */
int totp_uri(const char *secret_b32, const char *account, char out[TOTP_URI_MAX]);
/* The code of raw secret key[0..len) at time now with digits digits (6..8), for tests. */
int totp_code_raw(const char *key, size_t len, int64_t now, unsigned digits, char *out);
/* Checks a 6-digit code against a base32 secret at now, within TOTP_WINDOW steps. True when it
 * matches a step that is later than last_step (a code already used, or an older one, is refused:
 * no replay); *step_out is the matched step (the value to store as the new last_step). */
bool totp_verify(const char *secret_b32, const char *code, int64_t now, int64_t last_step,
                 int64_t *step_out);
/* Same on a raw key (the RFC 6238 test vectors), with window steps and digits digits. */
bool totp_verify_raw(const char *key, size_t len, const char *code, int64_t now, unsigned digits,
                     unsigned window, int64_t last_step, int64_t *step_out);
/* True when s looks like a TOTP code (exactly TOTP_DIGITS digits). */
bool totp_code_form(const char *s);
/* A new recovery code "xxxx-xxxx-xxxx" of lower-case base32 letters/digits (60 random bits). */
int totp_recovery_new(char out[TOTP_RECOVERY_LEN + 1]);
/* The canonical form of a typed recovery code (lower case, dashes and spaces dropped, then
 * re-dashed) into out; false when it cannot be one. */
bool totp_recovery_normalize(const char *in, char out[TOTP_RECOVERY_LEN + 1]);

#endif
