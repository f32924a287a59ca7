/* sshkey.c — strict OpenSSH public key parsing (sshkey.h): the line's form by valid_ssh_key,
 * then the blob decoded with libsodium and walked field by field. */
#include "sshkey.h"

#include <sodium.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "validate.h"

#define WHY(msg)                                                                                   \
	do {                                                                                       \
		if (why_out)                                                                       \
			*why_out = (msg);                                                          \
		return false;                                                                      \
	} while (0)

#define BLOB_MAX 3072 /* 4096 base64 characters at most */

typedef struct rd {
	const unsigned char *p;
	size_t left;
} rd;

/* One SSH "string" (uint32 length, bytes): false when it does not fit what is left. */
static bool get_string(rd *r, const unsigned char **s, size_t *n)
{
	uint32_t len;

	if (r->left < 4)
		return false;
	len = (uint32_t)r->p[0] << 24 | (uint32_t)r->p[1] << 16 | (uint32_t)r->p[2] << 8 | r->p[3];
	if (len > r->left - 4)
		return false;
	*s = r->p + 4;
	*n = len;
	r->p += 4 + len;
	r->left -= 4 + len;
	return true;
}

static bool str_is(const unsigned char *s, size_t n, const char *want)
{
	return n == strlen(want) && memcmp(s, want, n) == 0;
}

/* An RFC 4251 mpint that must be positive and minimal; its size in bits into *bits. */
static bool get_mpint_pos(rd *r, int *bits)
{
	const unsigned char *s;
	size_t n;

	if (!get_string(r, &s, &n) || n == 0 || (s[0] & 0x80))
		return false;
	if (s[0] == 0) {
		if (n < 2 || !(s[1] & 0x80)) /* a leading zero only before a high bit */
			return false;
		s++;
		n--;
	}
	int b = 8;
	for (unsigned char top = s[0]; !(top & 0x80); top <<= 1)
		b--;
	*bits = (int)(n - 1) * 8 + b;
	return true;
}

/* ECDSA: curve name then an uncompressed point of that curve. */
static bool get_ec(rd *r, const char *curve, size_t coord, int *bits)
{
	const unsigned char *s;
	size_t n;

	if (!get_string(r, &s, &n) || !str_is(s, n, curve))
		return false;
	if (!get_string(r, &s, &n) || n != 1 + 2 * coord || s[0] != 0x04)
		return false;
	*bits = (int)coord == 66 ? 521 : (int)coord * 8;
	return true;
}

bool ssh_key_parse(const char *line, ssh_key_info *info, const char **why_out)
{
	static const char *const types[] = {
	        "ssh-ed25519",
	        "ecdsa-sha2-nistp256",
	        "ecdsa-sha2-nistp384",
	        "ecdsa-sha2-nistp521",
	        "ssh-rsa",
	        "sk-ssh-ed25519@openssh.com",
	        "sk-ecdsa-sha2-nistp256@openssh.com",
	        NULL,
	};
	unsigned char blob[BLOB_MAX];
	const unsigned char *s;
	const char *sp, *b64, *end = NULL;
	size_t tlen, blen, bin_len = 0, n;
	char type[SSHKEY_TYPE_MAX];
	int t = -1, bits = 0;
	rd r;

	if (!valid_ssh_key(line, why_out))
		return false;
	sp = strchr(line, ' ');
	tlen = (size_t)(sp - line);
	if (tlen >= sizeof(type))
		WHY("The SSH key type is not supported.");
	memcpy(type, line, tlen);
	type[tlen] = '\0';
	for (int i = 0; types[i]; i++)
		if (strcmp(type, types[i]) == 0)
			t = i;
	if (t < 0)
		WHY("The SSH key type is not supported.");
	b64 = sp + 1;
	blen = strcspn(b64, " ");
	if (sodium_base642bin(blob, sizeof(blob), b64, blen, NULL, &bin_len, &end,
	                      sodium_base64_VARIANT_ORIGINAL) != 0 ||
	    end != b64 + blen)
		WHY("The SSH key's base64 part does not decode.");
	r.p = blob;
	r.left = bin_len;
	if (!get_string(&r, &s, &n) || !str_is(s, n, type))
		WHY("The SSH key's blob does not start with its own type.");
	switch (t) {
	case 0: /* ssh-ed25519: string pk[32] */
	case 5: /* sk-ssh-ed25519@openssh.com: string pk[32], string application */
		if (!get_string(&r, &s, &n) || n != 32)
			WHY("The SSH key's Ed25519 public key is not 32 bytes.");
		bits = 256;
		break;
	case 1:
	case 6:
		if (!get_ec(&r, "nistp256", 32, &bits))
			WHY("The SSH key's curve or point does not match its type.");
		break;
	case 2:
		if (!get_ec(&r, "nistp384", 48, &bits))
			WHY("The SSH key's curve or point does not match its type.");
		break;
	case 3:
		if (!get_ec(&r, "nistp521", 66, &bits))
			WHY("The SSH key's curve or point does not match its type.");
		break;
	case 4: { /* ssh-rsa: mpint e, mpint n */
		int ebits = 0;

		if (!get_mpint_pos(&r, &ebits) || !get_mpint_pos(&r, &bits))
			WHY("The SSH key's RSA exponent or modulus is not valid.");
		if (bits < 2048)
			WHY("The SSH key's RSA modulus is shorter than 2048 bits.");
		if (bits > 16384)
			WHY("The SSH key's RSA modulus is longer than 16384 bits.");
		break;
	}
	}
	if (t == 5 || t == 6) {
		if (!get_string(&r, &s, &n) || n == 0 || n > 255)
			WHY("The SSH security key's application string is missing.");
	}
	if (r.left != 0)
		WHY("The SSH key's blob has bytes after its last field.");
	if (info) {
		snprintf(info->type, sizeof(info->type), "%s", type);
		info->bits = bits;
	}
	return true;
}
