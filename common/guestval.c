/* guestval.c — the guest settings' validators (guestval.h). */
#include "guestval.h"

#include <string.h>

#include "validate.h"

#define WHY(msg)                                                                                   \
	do {                                                                                       \
		if (why_out)                                                                       \
			*why_out = (msg);                                                          \
		return false;                                                                      \
	} while (0)

bool valid_fqdn(const char *s, const char **why_out)
{
	const char *dot;

	if (!valid_hostname(s, why_out))
		return false;
	dot = strrchr(s, '.');
	if (!dot)
		WHY("The hostname must be fully qualified (like vps1.example.com).");
	if (strspn(dot + 1, "0123456789") == strlen(dot + 1))
		WHY("The hostname's top-level domain must not be all digits.");
	return true;
}

static bool crypt_char(char c)
{
	return (c >= '0' && c <= '9') || (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') ||
	       c == '.' || c == '/' || c == '$' || c == '=';
}

bool valid_crypt_hash(const char *s, const char **why_out)
{
	size_t len, dollars = 0;

	if (!s)
		WHY("The password hash is missing.");
	len = strlen(s);
	if (len < 20 || len > CRYPT_HASH_MAX)
		WHY("The password hash has an impossible length.");
	for (size_t i = 0; i < len; i++) {
		if (!crypt_char(s[i]))
			WHY("The password hash holds a character crypt(3) never writes.");
		if (s[i] == '$') {
			if (i > 0 && s[i - 1] == '$')
				WHY("The password hash has an empty field.");
			dollars++;
		}
	}
	if (s[len - 1] == '$')
		WHY("The password hash has an empty field.");
	if (strncmp(s, "$y$", 3) == 0) {
		if (dollars != 4 || strchr(s, '='))
			WHY("The yescrypt hash is not $y$<params>$<salt>$<hash>.");
		return true;
	}
	if (strncmp(s, "$6$", 3) == 0) {
		bool rounds = strncmp(s + 3, "rounds=", 7) == 0;

		if (dollars != (rounds ? 4u : 3u) || (strchr(s, '=') && !rounds) ||
		    strchr(s + (rounds ? 10 : 3), '='))
			WHY("The SHA-512 hash is not $6$[rounds=N$]<salt>$<hash>.");
		return true;
	}
	WHY("The password hash must be yescrypt ($y$) or SHA-512 ($6$).");
}
