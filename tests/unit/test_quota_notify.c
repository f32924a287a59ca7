/* test_quota_notify.c — panel/quota_notify.c's webhook signature: "sha256=" + the lowercase hex
 * HMAC-SHA256 of the body, checked against RFC 4231's test case 2 and an empty body. */
#include <criterion/criterion.h>
#include <string.h>

#include "../../panel/quota_notify.h"

Test(quota_notify, signature_is_rfc4231_hmac_sha256_hex)
{
	char sig[QUOTA_NOTIFY_SIG_MAX];
	const char *data = "what do ya want for nothing?";

	quota_notify_signature("Jefe", data, strlen(data), sig);
	cr_assert_str_eq(sig,
	                 "sha256=5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843");
}

Test(quota_notify, signature_changes_with_the_body_and_the_key)
{
	char a[QUOTA_NOTIFY_SIG_MAX], b[QUOTA_NOTIFY_SIG_MAX], c[QUOTA_NOTIFY_SIG_MAX];

	quota_notify_signature("k", "{\"kind\":\"notice_80\"}", 20, a);
	quota_notify_signature("k", "{\"kind\":\"notice_81\"}", 20, b);
	quota_notify_signature("K", "{\"kind\":\"notice_80\"}", 20, c);
	cr_assert_str_neq(a, b);
	cr_assert_str_neq(a, c);
	cr_assert_eq(strlen(a), 7 + 64);
}

Test(quota_notify, delivery_is_off_without_urls)
{
	cr_assert(!quota_notify_email_on());
	cr_assert(!quota_notify_webhook_on());
	quota_notify_wake(); /* no thread: nothing happens */
}
