/* guest_password.c — making, checking and hashing a VPS's root password (guest_password.h). */
#include "guest_password.h"

#include <crypt.h>
#include <stdlib.h>
#include <string.h>

#include "../common/guestval.h"
#include "../common/util.h"

/* 56 characters: no 0, O, 1, l or I. */
static const char alphabet[] = "abcdefghijkmnopqrstuvwxyzABCDEFGHJKLMNPQRSTUVWXYZ23456789";

int guest_password_generate(char out[GUEST_PW_GEN_LEN + 1])
{
	const size_t n = sizeof(alphabet) - 1;
	const unsigned limit = 256 - 256 % n; /* bytes >= limit are drawn again: no bias */
	unsigned char b[64];
	size_t got = 0;

	while (got < GUEST_PW_GEN_LEN) {
		if (random_bytes(b, sizeof(b)) != 0)
			return -1;
		for (size_t i = 0; i < sizeof(b) && got < GUEST_PW_GEN_LEN; i++)
			if (b[i] < limit)
				out[got++] = alphabet[b[i] % n];
	}
	out[got] = '\0';
	explicit_bzero(b, sizeof(b));
	return 0;
}

bool guest_password_ok(const char *pw, const char **why)
{
	bool seen[128] = {false};
	int lower = 0, upper = 0, digit = 0, other = 0, distinct = 0;
	size_t len = pw ? strlen(pw) : 0;

	if (len < GUEST_PW_MIN || len > GUEST_PW_MAX) {
		*why = "must be 12 to 128 characters long";
		return false;
	}
	for (size_t i = 0; i < len; i++) {
		unsigned char c = (unsigned char)pw[i];

		if (c < 0x20 || c > 0x7e) {
			*why = "must be printable ASCII (it is typed on the VPS's console)";
			return false;
		}
		if (!seen[c]) {
			seen[c] = true;
			distinct++;
		}
		if (c >= 'a' && c <= 'z')
			lower = 1;
		else if (c >= 'A' && c <= 'Z')
			upper = 1;
		else if (c >= '0' && c <= '9')
			digit = 1;
		else
			other = 1;
	}
	if (lower + upper + digit + other < 3) {
		*why = "must mix at least three of: lower case, upper case, digits, other "
		       "characters";
		return false;
	}
	if (distinct < 6) {
		*why = "must hold at least 6 different characters";
		return false;
	}
	return true;
}

/* One setting string for prefix with a salt from getrandom; false when libxcrypt lacks it. */
static bool gensalt(const char *prefix, char *setting, size_t len)
{
	unsigned char rnd[32];
	bool ok;

	if (random_bytes(rnd, sizeof(rnd)) != 0)
		return false;
	ok = crypt_gensalt_rn(prefix, 0, (const char *)rnd, (int)sizeof(rnd), setting, (int)len) !=
	             NULL &&
	     strncmp(setting, prefix, strlen(prefix)) == 0;
	explicit_bzero(rnd, sizeof(rnd));
	return ok;
}

int guest_password_hash(const char *pw, char *out, size_t len)
{
	char setting[CRYPT_GENSALT_OUTPUT_SIZE];
	struct crypt_data *cd;
	const char *h;
	int rc = -1;

	if (!pw || len < GUEST_PW_HASH_MAX + 1)
		return -1;
	if (!gensalt("$y$", setting, sizeof(setting)) && !gensalt("$6$", setting, sizeof(setting)))
		return -1;
	cd = calloc(1, sizeof(*cd)); /* 32 KiB: not on a handler thread's stack */
	if (!cd)
		return -1;
	h = crypt_r(pw, setting, cd);
	if (h && h[0] == '$' && strlen(h) < len && valid_crypt_hash(h, NULL)) {
		memcpy(out, h, strlen(h) + 1);
		rc = 0;
	}
	explicit_bzero(cd, sizeof(*cd));
	free(cd);
	return rc;
}
