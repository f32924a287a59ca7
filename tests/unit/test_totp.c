/* test_totp.c — panel/totp.c through liboath: the RFC 6238 appendix B test vectors (SHA-1,
 * 8 digits), the one-step window either side of now (clock skew) and nothing beyond it, a code's
 * step refused once used (replay) and any older step with it, 6-digit codes on a base32 secret,
 * the otpauth:// URI, recovery codes; and panel/api_account.c's new-password rules. */
#include <criterion/criterion.h>
#include <liboath/oath.h>
#include <stdlib.h>
#include <string.h>

#include "../../panel/api.h"
#include "../../panel/totp.h"

static const char rfc_key[] = "12345678901234567890";
/* base32 of rfc_key */
static const char rfc_b32[] = "GEZDGNBVGY3TQOJQGEZDGNBVGY3TQOJQ";

static const struct {
	int64_t t;
	const char *code;
} vectors[] = {
        {59, "94287082"},         {1111111109, "07081804"}, {1111111111, "14050471"},
        {1234567890, "89005924"}, {2000000000, "69279037"}, {20000000000LL, "65353130"},
};

Test(totp, rfc6238_sha1_vectors_generate)
{
	char out[16];

	for (size_t i = 0; i < sizeof(vectors) / sizeof(vectors[0]); i++) {
		cr_assert_eq(totp_code_raw(rfc_key, 20, vectors[i].t, 8, out), 0);
		cr_assert_str_eq(out, vectors[i].code, "t=%lld", (long long)vectors[i].t);
	}
}

Test(totp, rfc6238_sha1_vectors_verify_with_their_step)
{
	for (size_t i = 0; i < sizeof(vectors) / sizeof(vectors[0]); i++) {
		int64_t step = -1;

		cr_assert(totp_verify_raw(rfc_key, 20, vectors[i].code, vectors[i].t, 8, 0, 0,
		                          &step));
		cr_assert_eq(step, vectors[i].t / 30);
	}
}

Test(totp, window_is_one_step_either_side)
{
	int64_t t = 1111111111, step;

	/* 14050471 is the code of step 37037037 (t in [1111111110, 1111111140)). */
	cr_assert(totp_verify_raw(rfc_key, 20, "14050471", t + 30, 8, 1, 0, &step));
	cr_assert_eq(step, t / 30);
	cr_assert(totp_verify_raw(rfc_key, 20, "14050471", t - 30, 8, 1, 0, &step));
	cr_assert_not(totp_verify_raw(rfc_key, 20, "14050471", t + 60, 8, 1, 0, &step));
	cr_assert_not(totp_verify_raw(rfc_key, 20, "14050471", t - 60, 8, 1, 0, &step));
	cr_assert_not(totp_verify_raw(rfc_key, 20, "14050471", t + 30, 8, 0, 0, &step));
}

Test(totp, a_used_step_and_older_ones_are_refused)
{
	int64_t t = 1234567890, step = 0, step2 = 0;
	char now_code[16], prev_code[16];

	cr_assert(totp_verify_raw(rfc_key, 20, "89005924", t, 8, 1, 0, &step));
	/* The same code again: refused. */
	cr_assert_not(totp_verify_raw(rfc_key, 20, "89005924", t, 8, 1, step, &step2));
	cr_assert_not(totp_verify_raw(rfc_key, 20, "89005924", t + 15, 8, 1, step, &step2));
	/* The previous step's code (inside the window) is older than the used one: refused. */
	cr_assert_eq(totp_code_raw(rfc_key, 20, t - 30, 8, prev_code), 0);
	cr_assert_not(totp_verify_raw(rfc_key, 20, prev_code, t, 8, 1, step, &step2));
	/* The next step's code is new: accepted. */
	cr_assert_eq(totp_code_raw(rfc_key, 20, t + 30, 8, now_code), 0);
	cr_assert(totp_verify_raw(rfc_key, 20, now_code, t + 30, 8, 1, step, &step2));
	cr_assert_eq(step2, step + 1);
}

Test(totp, six_digit_codes_on_a_base32_secret)
{
	int64_t step;

	/* The last 6 digits of the RFC's 8-digit codes (HOTP's dynamic truncation mod 10^d). */
	cr_assert(totp_verify(rfc_b32, "287082", 59, 0, &step));
	cr_assert(totp_verify(rfc_b32, "005924", 1234567890, 0, &step));
	cr_assert_not(totp_verify(rfc_b32, "005924", 1234567890, step, &step));
	cr_assert_not(totp_verify(rfc_b32, "005925", 1234567890, 0, &step));
	cr_assert_not(totp_verify(rfc_b32, "89005924", 1234567890, 0, &step));
	cr_assert_not(totp_verify(rfc_b32, "00592a", 1234567890, 0, &step));
	cr_assert_not(totp_verify(rfc_b32, "", 1234567890, 0, &step));
	cr_assert_not(totp_verify("not base32!", "005924", 1234567890, 0, &step));
}

Test(totp, new_secret_and_uri)
{
	char a[TOTP_SECRET_B32], b[TOTP_SECRET_B32], uri[TOTP_URI_MAX], code[16], *key = NULL;
	size_t len = 0;
	int64_t step;

	cr_assert_eq(totp_new_secret(a), 0);
	cr_assert_eq(totp_new_secret(b), 0);
	cr_assert_eq(strlen(a), 32);
	cr_assert_str_neq(a, b);
	cr_assert_eq(totp_uri(a, "jo doe@x", uri), 0);
	cr_assert(strstr(uri, "otpauth://totp/xvps:jo%20doe%40x?secret="));
	cr_assert(strstr(uri, a));
	cr_assert(strstr(uri, "&issuer=xvps&algorithm=SHA1&digits=6&period=30"));
	/* The secret decodes (liboath's base32) to 20 bytes whose code verifies once. */
	cr_assert_eq(oath_base32_decode(a, strlen(a), &key, &len), OATH_OK);
	cr_assert_eq(len, TOTP_SECRET_BYTES);
	cr_assert_eq(totp_code_raw(key, len, 1700000000, 6, code), 0);
	free(key);
	cr_assert(totp_verify(a, code, 1700000000, 0, &step));
	cr_assert_not(totp_verify(a, code, 1700000000, step, &step));
}

Test(totp, recovery_codes)
{
	char c[TOTP_RECOVERY_LEN + 1], d[TOTP_RECOVERY_LEN + 1], n[TOTP_RECOVERY_LEN + 1];

	cr_assert_eq(totp_recovery_new(c), 0);
	cr_assert_eq(totp_recovery_new(d), 0);
	cr_assert_eq(strlen(c), TOTP_RECOVERY_LEN);
	cr_assert_eq(c[4], '-');
	cr_assert_eq(c[9], '-');
	cr_assert_str_neq(c, d);
	cr_assert(totp_recovery_normalize("ABCD EFGH-2345", n));
	cr_assert_str_eq(n, "abcd-efgh-2345");
	cr_assert(totp_recovery_normalize(c, n));
	cr_assert_str_eq(n, c);
	cr_assert_not(totp_recovery_normalize("abcd-efgh-234", n));   /* short */
	cr_assert_not(totp_recovery_normalize("abcd-efgh-23456", n)); /* long */
	cr_assert_not(totp_recovery_normalize("abcd-efgh-2341", n));  /* 1 is not base32 */
	cr_assert_not(totp_recovery_normalize("123456", n));
}

Test(account, new_password_rules)
{
	const char *why = NULL;
	char long_pw[1100];

	cr_assert(account_password_ok("correct horse", "jo", &why));
	cr_assert_not(account_password_ok("short1", "jo", &why));
	cr_assert_not(account_password_ok("aaaaaaaaaaaa", "jo", &why));
	cr_assert(strstr(why, "weak"));
	cr_assert_not(account_password_ok("xxMyNameIsAlicexx", "alice", &why));
	cr_assert(strstr(why, "user name"));
	memset(long_pw, 'a', sizeof(long_pw) - 1);
	long_pw[sizeof(long_pw) - 1] = '\0';
	long_pw[0] = 'b';
	cr_assert_not(account_password_ok(long_pw, "jo", &why));
}
