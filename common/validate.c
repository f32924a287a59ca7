/* validate.c — the shared validators (validate.h): pure functions over strings, no I/O, no
 * allocation. Every rule here is an allow-list; nothing is "cleaned up" or escaped instead of
 * being rejected. */
#include "validate.h"

#include <arpa/inet.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#define WHY(msg)                                                                                   \
	do {                                                                                       \
		if (why_out)                                                                       \
			*why_out = (msg);                                                          \
		return false;                                                                      \
	} while (0)

static bool is_lower_alnum(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9');
}

static bool is_digit(char c)
{
	return c >= '0' && c <= '9';
}

static bool is_alnum(char c)
{
	return is_lower_alnum(c) || (c >= 'A' && c <= 'Z');
}

static bool is_hex_lower(char c)
{
	return is_digit(c) || (c >= 'a' && c <= 'f');
}

bool valid_hostname(const char *s, const char **why_out)
{
	if (!s || !*s)
		WHY("The hostname must not be empty.");
	size_t len = strlen(s);
	if (len > 253)
		WHY("The hostname must be at most 253 characters long.");
	size_t label = 0;
	for (size_t i = 0; i < len; i++) {
		char c = s[i];
		if (c == '.') {
			if (label == 0)
				WHY("The hostname must not contain empty labels (a leading dot or "
				    "'..').");
			if (s[i - 1] == '-')
				WHY("Hostname labels must not end with '-'.");
			label = 0;
			continue;
		}
		if (c >= 'A' && c <= 'Z')
			WHY("The hostname must be lower case.");
		if (!is_lower_alnum(c) && c != '-')
			WHY("The hostname may contain only a-z, 0-9, '-' and '.'.");
		if (c == '-' && label == 0)
			WHY("Hostname labels must not start with '-'.");
		if (++label > 63)
			WHY("Each hostname label must be at most 63 characters long.");
	}
	if (label == 0)
		WHY("The hostname must not end with a dot.");
	if (s[len - 1] == '-')
		WHY("Hostname labels must not end with '-'.");
	return true;
}

bool valid_username(const char *s, const char **why_out)
{
	if (!s)
		WHY("The username is missing.");
	size_t len = strlen(s);
	if (len < 3 || len > 32)
		WHY("The username must be 3 to 32 characters long.");
	if (!(s[0] >= 'a' && s[0] <= 'z'))
		WHY("The username must start with a lower-case letter.");
	for (size_t i = 1; i < len; i++) {
		char c = s[i];
		if (!is_lower_alnum(c) && c != '_' && c != '.' && c != '-')
			WHY("The username may contain only a-z, 0-9, '_', '.' and '-'.");
	}
	return true;
}

bool valid_email(const char *s, const char **why_out)
{
	if (!s)
		WHY("The e-mail address is missing.");
	size_t len = strlen(s);
	if (len < 3 || len > 254)
		WHY("The e-mail address must be 3 to 254 characters long.");
	const char *at = NULL;
	for (size_t i = 0; i < len; i++) {
		unsigned char c = (unsigned char)s[i];
		if (c <= 0x20 || c >= 0x7f || strchr("\"'<>,\\", c))
			WHY("The e-mail address contains a character that is not allowed.");
		if (c == '@') {
			if (at)
				WHY("The e-mail address must contain exactly one '@'.");
			at = s + i;
		}
	}
	if (!at)
		WHY("The e-mail address must contain exactly one '@'.");
	if (at == s || at[1] == '\0')
		WHY("The e-mail address needs a local part and a domain.");
	const char *dot = strchr(at + 1, '.');
	if (!dot || dot == at + 1 || dot[1] == '\0')
		WHY("The e-mail address's domain must contain a dot.");
	return true;
}

bool valid_password(const char *s, const char **why_out)
{
	if (!s)
		WHY("The password is missing.");
	size_t len = strlen(s);
	if (len < 8)
		WHY("The password must be at least 8 characters long.");
	if (len > 1024)
		WHY("The password must be at most 1024 bytes long.");
	return true;
}

bool valid_label(const char *s, const char **why_out)
{
	if (!s || !*s)
		WHY("The name must not be empty.");
	size_t len = strlen(s);
	if (len > 64)
		WHY("The name must be at most 64 characters long.");
	if (s[0] == ' ' || s[0] == '-')
		WHY("The name must not start with a space or '-'.");
	for (size_t i = 0; i < len; i++) {
		char c = s[i];
		if (!is_alnum(c) && !strchr(" ._:+()-", c))
			WHY("The name may contain only letters, digits, spaces and . _ : + ( ) -.");
	}
	return true;
}

/* "<prefix>" followed by 1..10 digits without a leading zero. */
static bool prefixed_id(const char *s, const char *prefix)
{
	if (!s)
		return false;
	size_t pl = strlen(prefix);
	if (strncmp(s, prefix, pl) != 0)
		return false;
	const char *d = s + pl;
	size_t n = strlen(d);
	if (n < 1 || n > 10 || d[0] == '0')
		return false;
	for (size_t i = 0; i < n; i++)
		if (!is_digit(d[i]))
			return false;
	return true;
}

bool valid_domain_name(const char *s, const char **why_out)
{
	if (!prefixed_id(s, "xvps-"))
		WHY("The domain name must be 'xvps-' followed by the VPS id.");
	return true;
}

bool valid_template_name(const char *s, const char **why_out)
{
	if (!prefixed_id(s, "tpl-"))
		WHY("The template name must be 'tpl-' followed by the template id.");
	return true;
}

bool valid_vifname(const char *s, const char **why_out)
{
	if (!s || !*s)
		WHY("The vif name must not be empty.");
	size_t len = strlen(s);
	if (len > 11)
		WHY("The vif name must be at most 11 characters long.");
	if (!(s[0] >= 'a' && s[0] <= 'z'))
		WHY("The vif name must start with a lower-case letter.");
	for (size_t i = 0; i < len; i++)
		if (!is_lower_alnum(s[i]))
			WHY("The vif name may contain only a-z and 0-9.");
	return true;
}

bool valid_file_name(const char *s, size_t max_len, const char **why_out)
{
	if (!s || !*s)
		WHY("The name must not be empty.");
	if (s[0] == '.')
		WHY("The name must not start with a dot.");
	size_t len = strlen(s);
	if (len > max_len)
		WHY("The name is too long.");
	for (size_t i = 0; i < len; i++) {
		char c = s[i];
		if (!(is_lower_alnum(c) || (c >= 'A' && c <= 'Z') || c == '.' || c == '_' ||
		      c == '-'))
			WHY("The name may contain only A-Z, a-z, 0-9, '.', '_' and '-'.");
	}
	return true;
}

bool valid_mac(const char *s, const char **why_out)
{
	if (!s || strlen(s) != 17)
		WHY("The MAC address must look like 00:16:3e:12:34:56.");
	for (size_t i = 0; i < 17; i++) {
		if (i % 3 == 2) {
			if (s[i] != ':')
				WHY("The MAC address must look like 00:16:3e:12:34:56.");
		} else if (!is_hex_lower(s[i])) {
			WHY("The MAC address must be lower-case hexadecimal.");
		}
	}
	int first = (int)strtol((char[3]){s[0], s[1], 0}, NULL, 16);
	if (first & 1)
		WHY("The MAC address must be unicast.");
	return true;
}

bool valid_xen_mac(const char *s, const char **why_out)
{
	if (!valid_mac(s, why_out))
		return false;
	if (strncmp(s, "00:16:3e:", 9) != 0)
		WHY("The MAC address must carry the Xen prefix 00:16:3e.");
	return true;
}

bool parse_ipv4(const char *s, uint8_t out[4])
{
	if (!s)
		return false;
	uint8_t b[4];
	const char *p = s;
	for (int i = 0; i < 4; i++) {
		if (!is_digit(*p))
			return false;
		if (p[0] == '0' && is_digit(p[1]))
			return false; /* leading zero: octal on some parsers */
		unsigned v = 0;
		int nd = 0;
		while (is_digit(*p)) {
			v = v * 10 + (unsigned)(*p - '0');
			if (++nd > 3 || v > 255)
				return false;
			p++;
		}
		b[i] = (uint8_t)v;
		if (i < 3) {
			if (*p != '.')
				return false;
			p++;
		}
	}
	if (*p != '\0')
		return false;
	struct in_addr a;
	if (inet_pton(AF_INET, s, &a) != 1)
		return false;
	if (out)
		memcpy(out, b, 4);
	return true;
}

bool parse_ipv6(const char *s, uint8_t out[16])
{
	if (!s || strlen(s) > 45)
		return false;
	struct in6_addr a;
	if (inet_pton(AF_INET6, s, &a) != 1)
		return false;
	if (out)
		memcpy(out, &a, 16);
	return true;
}

static bool prefix_match(const uint8_t *net, int prefix, const uint8_t *addr)
{
	int full = prefix / 8, rem = prefix % 8;
	if (memcmp(net, addr, (size_t)full) != 0)
		return false;
	if (rem) {
		uint8_t mask = (uint8_t)(0xffu << (8 - rem));
		if ((net[full] & mask) != (addr[full] & mask))
			return false;
	}
	return true;
}

bool parse_cidr(int family, const char *s, uint8_t addr_out[16], int *prefix_out,
                const char **why_out)
{
	if (family != 4 && family != 6)
		WHY("The address family must be 4 or 6.");
	if (!s)
		WHY("The network is missing.");
	const char *slash = strchr(s, '/');
	if (!slash)
		WHY("The network must be written as address/prefix-length.");
	char addr[64];
	size_t alen = (size_t)(slash - s);
	if (alen == 0 || alen >= sizeof(addr))
		WHY("The network address is not valid.");
	memcpy(addr, s, alen);
	addr[alen] = '\0';
	uint8_t a[16] = {0};
	int bits = family == 4 ? 32 : 128;
	if (family == 4 ? !parse_ipv4(addr, a) : !parse_ipv6(addr, a))
		WHY(family == 4 ? "The network address is not a valid IPv4 address."
		                : "The network address is not a valid IPv6 address.");
	long long plen;
	if (!parse_int_range(slash + 1, family == 4 ? 8 : 16, bits, &plen))
		WHY(family == 4 ? "The IPv4 prefix length must be between 8 and 32."
		                : "The IPv6 prefix length must be between 16 and 128.");
	/* Host bits must be zero: compare against the address masked to its prefix. */
	uint8_t masked[16] = {0};
	int p = (int)plen;
	memcpy(masked, a, (size_t)(p / 8));
	if (p % 8)
		masked[p / 8] = (uint8_t)(a[p / 8] & (0xffu << (8 - p % 8)));
	if (memcmp(masked, a, (size_t)(bits / 8)) != 0)
		WHY("The network address has host bits set; give the network's first address.");
	if (addr_out) {
		memset(addr_out, 0, 16);
		memcpy(addr_out, a, (size_t)(bits / 8));
	}
	if (prefix_out)
		*prefix_out = p;
	return true;
}

bool cidr_contains(int family, const uint8_t net[16], int prefix, const uint8_t addr[16])
{
	int bits = family == 4 ? 32 : family == 6 ? 128 : -1;
	if (bits < 0 || prefix < 0 || prefix > bits)
		return false;
	return prefix_match(net, prefix, addr);
}

static bool is_b64(char c)
{
	return is_alnum(c) || c == '+' || c == '/' || c == '=';
}

bool valid_ssh_key(const char *s, const char **why_out)
{
	static const char *const types[] = {
	        "ssh-ed25519",
	        "ssh-rsa",
	        "ecdsa-sha2-nistp256",
	        "ecdsa-sha2-nistp384",
	        "ecdsa-sha2-nistp521",
	        "sk-ssh-ed25519@openssh.com",
	        "sk-ecdsa-sha2-nistp256@openssh.com",
	        NULL,
	};
	if (!s || !*s)
		WHY("The SSH key must not be empty.");
	size_t len = strlen(s);
	if (len > 4096)
		WHY("The SSH key must be at most 4096 bytes long.");
	for (size_t i = 0; i < len; i++) {
		unsigned char c = (unsigned char)s[i];
		if (c < 0x20 || c >= 0x7f)
			WHY("The SSH key must be one line of printable ASCII.");
	}
	const char *sp = strchr(s, ' ');
	if (!sp)
		WHY("The SSH key must be '<type> <base64> [comment]'.");
	size_t tlen = (size_t)(sp - s);
	bool known = false;
	for (size_t i = 0; types[i]; i++)
		if (strlen(types[i]) == tlen && strncmp(s, types[i], tlen) == 0)
			known = true;
	if (!known)
		WHY("The SSH key type is not supported.");
	const char *b = sp + 1;
	size_t blen = 0;
	while (b[blen] && b[blen] != ' ') {
		if (!is_b64(b[blen]))
			WHY("The SSH key's base64 part is not valid.");
		blen++;
	}
	if (blen < 16)
		WHY("The SSH key's base64 part is missing or too short.");
	/* The blob starts with the type: base64 of "\0\0\0<len><type>" begins "AAAA". */
	if (strncmp(b, "AAAA", 4) != 0)
		WHY("The SSH key's base64 part is not valid.");
	return true;
}

bool valid_lvm_name(const char *s, const char **why_out)
{
	static const char *const reserved[] = {
	        "_cdata", "_cmeta", "_corig", "_mimage",  "_mlog",  "_pmspare", "_rimage",
	        "_rmeta", "_tdata", "_tmeta", "_vorigin", "_vdata", NULL,
	};
	if (!s || !*s)
		WHY("The LVM name must not be empty.");
	size_t len = strlen(s);
	if (len > 127)
		WHY("The LVM name must be at most 127 characters long.");
	if (s[0] == '-')
		WHY("The LVM name must not start with '-'.");
	if (strcmp(s, ".") == 0 || strcmp(s, "..") == 0)
		WHY("The LVM name must not be '.' or '..'.");
	for (size_t i = 0; i < len; i++)
		if (!is_alnum(s[i]) && !strchr("+_.-", s[i]))
			WHY("The LVM name may contain only A-Z, a-z, 0-9, '+', '_', '.' and '-'.");
	for (size_t i = 0; reserved[i]; i++)
		if (strstr(s, reserved[i]))
			WHY("The LVM name contains a part reserved by LVM.");
	if (strncmp(s, "snapshot", 8) == 0 || strncmp(s, "pvmove", 6) == 0)
		WHY("The LVM name must not begin with 'snapshot' or 'pvmove'.");
	return true;
}

bool parse_int_range(const char *s, long long min, long long max, long long *out)
{
	if (!s || !*s || min > max)
		return false;
	const char *p = s;
	if (*p == '-')
		p++;
	if (!is_digit(*p))
		return false; /* no "+1", no leading spaces, no "-" alone */
	errno = 0;
	char *end;
	long long v = strtoll(s, &end, 10);
	if (errno || *end != '\0' || v < min || v > max)
		return false;
	if (out)
		*out = v;
	return true;
}
