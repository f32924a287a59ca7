/* totp.c — RFC 6238 codes through liboath (totp.h): secrets from getrandom, the otpauth:// URI
 * for the enrolment QR code, verification within a one-step window that refuses a step already
 * used, and recovery codes. */
#include <liboath/oath.h>
#include <pthread.h>
#include <sodium.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../common/util.h"
#include "totp.h"

static pthread_once_t g_oath_once = PTHREAD_ONCE_INIT;
static bool g_oath_ok;

static void oath_setup(void)
{
	g_oath_ok = oath_init() == OATH_OK;
	if (!g_oath_ok)
		log_error("totp: oath_init failed");
}

static bool oath_ready(void)
{
	pthread_once(&g_oath_once, oath_setup);
	return g_oath_ok;
}

int totp_new_secret(char out[TOTP_SECRET_B32])
{
	unsigned char raw[TOTP_SECRET_BYTES];
	char *b32 = NULL;
	size_t len = 0;
	int rc = -1;

	if (!oath_ready() || random_bytes(raw, sizeof(raw)) != 0)
		return -1;
	if (oath_base32_encode((const char *)raw, sizeof(raw), &b32, &len) == OATH_OK &&
	    len < TOTP_SECRET_B32) {
		/* 20 bytes are 32 base32 characters exactly: no padding to strip. */
		memcpy(out, b32, len);
		out[len] = '\0';
		rc = 0;
	}
	sodium_memzero(raw, sizeof(raw));
	if (b32) {
		sodium_memzero(b32, len);
		free(b32);
	}
	return rc;
}

int totp_uri(const char *secret_b32, const char *account, char out[TOTP_URI_MAX])
{
	static const char hexd[] = "0123456789ABCDEF";
	char acct[3 * 64 + 1];
	size_t j = 0;
	int n;

	for (const unsigned char *p = (const unsigned char *)account; *p && j + 4 < sizeof(acct);
	     p++) {
		if ((*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z') ||
		    (*p >= '0' && *p <= '9') || *p == '.' || *p == '_' || *p == '-') {
			acct[j++] = (char)*p;
		} else {
			acct[j++] = '%';
			acct[j++] = hexd[*p >> 4];
			acct[j++] = hexd[*p & 15];
		}
	}
	acct[j] = '\0';
	n = snprintf(out, TOTP_URI_MAX,
	             "otpauth://totp/xvps:%s?secret=%s&issuer=xvps&algorithm=SHA1&digits=%d"
	             "&period=%d",
	             acct, secret_b32, TOTP_DIGITS, TOTP_STEP_S);
	return n > 0 && n < TOTP_URI_MAX ? 0 : -1;
}

int totp_code_raw(const char *key, size_t len, int64_t now, unsigned digits, char *out)
{
	if (!oath_ready())
		return -1;
	return oath_totp_generate2(key, len, (time_t)now, TOTP_STEP_S, OATH_TOTP_DEFAULT_START_TIME,
	                           digits, 0, out) == OATH_OK
	               ? 0
	               : -1;
}

bool totp_code_form(const char *s)
{
	if (!s || strlen(s) != TOTP_DIGITS)
		return false;
	for (int i = 0; i < TOTP_DIGITS; i++)
		if (s[i] < '0' || s[i] > '9')
			return false;
	return true;
}

bool totp_verify_raw(const char *key, size_t len, const char *code, int64_t now, unsigned digits,
                     unsigned window, int64_t last_step, int64_t *step_out)
{
	uint64_t counter = 0;
	int pos = 0, r;

	if (!oath_ready() || !code || strlen(code) != digits)
		return false;
	for (size_t i = 0; i < digits; i++)
		if (code[i] < '0' || code[i] > '9')
			return false;
	r = oath_totp_validate4(key, len, (time_t)now, TOTP_STEP_S, OATH_TOTP_DEFAULT_START_TIME,
	                        window, &pos, &counter, 0, code);
	if (r < 0)
		return false;
	/* A step at or before the last one used: that code (or an older one) was spent. */
	if ((int64_t)counter <= last_step)
		return false;
	if (step_out)
		*step_out = (int64_t)counter;
	return true;
}

bool totp_verify(const char *secret_b32, const char *code, int64_t now, int64_t last_step,
                 int64_t *step_out)
{
	char *key = NULL;
	size_t len = 0;
	bool ok;

	if (!oath_ready() || !secret_b32 || !totp_code_form(code))
		return false;
	if (oath_base32_decode(secret_b32, strlen(secret_b32), &key, &len) != OATH_OK)
		return false;
	ok = totp_verify_raw(key, len, code, now, TOTP_DIGITS, TOTP_WINDOW, last_step, step_out);
	sodium_memzero(key, len);
	free(key);
	return ok;
}

/* RFC 4648 base32's alphabet in lower case, without the ambiguity of a mixed-case code. */
static const char rc_alpha[] = "abcdefghijklmnopqrstuvwxyz234567";

int totp_recovery_new(char out[TOTP_RECOVERY_LEN + 1])
{
	unsigned char raw[12];
	int j = 0;

	if (random_bytes(raw, sizeof(raw)) != 0)
		return -1;
	for (int i = 0; i < 12; i++) {
		if (i == 4 || i == 8)
			out[j++] = '-';
		out[j++] = rc_alpha[raw[i] & 31];
	}
	out[j] = '\0';
	sodium_memzero(raw, sizeof(raw));
	return 0;
}

bool totp_recovery_normalize(const char *in, char out[TOTP_RECOVERY_LEN + 1])
{
	char c[12];
	int n = 0, j = 0;

	if (!in || strlen(in) > 32)
		return false;
	for (const char *p = in; *p; p++) {
		char ch = *p;

		if (ch == '-' || ch == ' ')
			continue;
		if (ch >= 'A' && ch <= 'Z')
			ch = (char)(ch - 'A' + 'a');
		if (!strchr(rc_alpha, ch) || ch == '\0' || n >= 12)
			return false;
		c[n++] = ch;
	}
	if (n != 12)
		return false;
	for (int i = 0; i < 12; i++) {
		if (i == 4 || i == 8)
			out[j++] = '-';
		out[j++] = c[i];
	}
	out[j] = '\0';
	return true;
}
