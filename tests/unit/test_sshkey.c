/* test_sshkey.c — the strict OpenSSH key parser (common/sshkey.c) and the guest settings'
 * validators (common/guestval.c; issue 16 item 2): real keys made by ssh-keygen(1) of every
 * allowed type pass; security-key blobs built here; a wrong inner type, a truncated or padded
 * blob, bad base64, a short RSA modulus and unknown types are refused with a reason. */
#include <criterion/criterion.h>
#include <sodium.h>
#include <stdio.h>
#include <string.h>

#include "../../common/guestval.h"
#include "../../common/sshkey.h"

#define ED25519                                                                                    \
	"ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIO6Hz7UWPTdwTYvQZOwm7U4npq5QYEcEZy4OY/s+keSJ "        \
	"ed25519@test"
#define P256                                                                                       \
	"ecdsa-sha2-nistp256 "                                                                     \
	"AAAAE2VjZHNhLXNoYTItbmlzdHAyNTYAAAAIbmlzdHAyNTYAAABBBBJQsQLuF2HLQRJre8l7EOi/"             \
	"3LsiceA5Ftekof6H7urb3Vtp0YSFqDME+gdH3lFyGIF4rpynLtNqlE2PmVz3w7g= ecdsab256@test"
#define P384                                                                                       \
	"ecdsa-sha2-nistp384 "                                                                     \
	"AAAAE2VjZHNhLXNoYTItbmlzdHAzODQAAAAIbmlzdHAzODQAAABhBId0cAv+"                             \
	"fm9QYHsJFBYfP4RLEzdQFYc5ept3Aui+"                                                         \
	"CHkLr2E6rhCT12RoLYgvjQMLbNYg7rsoRxIwFRcxno7X49Wn9SyJZEoL+khaMrptSSp/"                     \
	"abnfPHz04kDGle11e1avhg== ecdsab384@test"
#define P521                                                                                       \
	"ecdsa-sha2-nistp521 "                                                                     \
	"AAAAE2VjZHNhLXNoYTItbmlzdHA1MjEAAAAIbmlzdHA1MjEAAACFBAHGrC+"                              \
	"Vxn5e51wCx2GMvILnkoZynB7OJ0c8S+2Wk7WLiAi0Q8DAy6yyq/ToMN9KAx2sLX9yd37gG/"                  \
	"dEUbZBXV6iuwH2vZ1jCkjjlu5FY8Cc5Jum/+1adyAyZnIBBhfqQM00+1V3liZ/"                           \
	"Ey8TmqVUidrgOv8ZaUN2OqYuIecaMB24AX7GRw== ecdsab521@test"
#define RSA2048                                                                                    \
	"ssh-rsa "                                                                                 \
	"AAAAB3NzaC1yc2EAAAADAQABAAABAQCRXEZUNy2Gm5p5LF7CYSToc5fV1SpSjBZukJ2nFNIDjz0Z2WP73pUvDvWZ" \
	"3fvVt7T+kQUwCNheXZvMZkphwY/5EDm0b+wDD7BW038Djc/2vwqLRaBC5Sripl/"                          \
	"WUcouHNq0kttY4bsevlXY2skIEpdYC2QXOfC8g2WmzIyTD1PuaU114uXO13vNPkcWtJaZkcAY7c+"             \
	"Pl5i1aONdIX3wJC6qWEbNkFnoTiAPr1wj3Oi8TPDwVqNNX868pZOcEXU1IzHBGVt9WoV+"                    \
	"WnwVRXSvwt3ELu2Cx87zE2IHjtAD1cHVDa+zBVoIlxjmD8VuERIzACWziyH3HBGTplux+Ea9uSft "            \
	"rsab2048@test"
#define RSA1024                                                                                    \
	"ssh-rsa "                                                                                 \
	"AAAAB3NzaC1yc2EAAAADAQABAAAAgQC6Z4w6+34ZpvVwgf6apgnKjpSLnsAlvHPlBAZcWjQDPBwggpt/"         \
	"gj5erVaIDVbNP3B5muD3PH/"                                                                  \
	"Ta+Joo53Dkq3Ng1MmPsvNB1PRAMwqZD+Nly6aCZGBzTJEEttwZEGf57j7+"                               \
	"vlVkg5jUYpRNa5UAoQUuaPNh6UeFSwAbUkoVhyknQ== rsab1024@test"

static void refuse(const char *line, const char *because)
{
	const char *why = NULL;

	cr_assert(!ssh_key_parse(line, NULL, &why), "accepted (%s): %s", because, line);
	cr_assert_not_null(why, "no reason (%s)", because);
}

/* "<type> base64(blob)" of a blob made of SSH strings. */
static void make_line(char *out, size_t len, const char *type, const unsigned char *blob, size_t n)
{
	char b64[2048];

	sodium_bin2base64(b64, sizeof(b64), blob, n, sodium_base64_VARIANT_ORIGINAL);
	snprintf(out, len, "%s %s test", type, b64);
}

static size_t put_str(unsigned char *p, const void *s, size_t n)
{
	p[0] = (unsigned char)(n >> 24);
	p[1] = (unsigned char)(n >> 16);
	p[2] = (unsigned char)(n >> 8);
	p[3] = (unsigned char)n;
	memcpy(p + 4, s, n);
	return 4 + n;
}

Test(sshkey, accepts_every_allowed_type)
{
	const char *good[] = {ED25519, P256, P384, P521, RSA2048};
	const char *type[] = {"ssh-ed25519", "ecdsa-sha2-nistp256", "ecdsa-sha2-nistp384",
	                      "ecdsa-sha2-nistp521", "ssh-rsa"};
	const int bits[] = {256, 256, 384, 521, 2048};
	ssh_key_info info;
	const char *why = NULL;

	for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
		cr_assert(ssh_key_parse(good[i], &info, &why), "%s: %s", type[i], why);
		cr_assert_str_eq(info.type, type[i]);
		cr_assert_eq(info.bits, bits[i], "%s: %d bits", type[i], info.bits);
	}
}

Test(sshkey, security_keys)
{
	unsigned char blob[256], pk[32] = {1}, point[65] = {4};
	char line[1024];
	size_t n = 0;
	ssh_key_info info;
	const char *why = NULL;

	n += put_str(blob + n, "sk-ssh-ed25519@openssh.com", 26);
	n += put_str(blob + n, pk, sizeof(pk));
	n += put_str(blob + n, "ssh:", 4);
	make_line(line, sizeof(line), "sk-ssh-ed25519@openssh.com", blob, n);
	cr_assert(ssh_key_parse(line, &info, &why), "%s", why);
	/* Without its application string it is a plain ed25519 blob with the wrong type. */
	make_line(line, sizeof(line), "sk-ssh-ed25519@openssh.com", blob, n - 8);
	refuse(line, "sk without application");

	n = 0;
	n += put_str(blob + n, "sk-ecdsa-sha2-nistp256@openssh.com", 34);
	n += put_str(blob + n, "nistp256", 8);
	n += put_str(blob + n, point, sizeof(point));
	n += put_str(blob + n, "ssh:", 4);
	make_line(line, sizeof(line), "sk-ecdsa-sha2-nistp256@openssh.com", blob, n);
	cr_assert(ssh_key_parse(line, &info, &why), "%s", why);
	cr_assert_eq(info.bits, 256);
	/* The curve of another type. */
	memcpy(blob + 4 + 34 + 4, "nistp384", 8);
	make_line(line, sizeof(line), "sk-ecdsa-sha2-nistp256@openssh.com", blob, n);
	refuse(line, "sk-ecdsa with the wrong curve");
}

Test(sshkey, refuses_a_blob_of_another_type)
{
	char line[2048];

	/* An ed25519 blob announced as ssh-rsa, and the other way round. */
	snprintf(line, sizeof(line), "ssh-rsa %s", strchr(ED25519, ' ') + 1);
	refuse(line, "ssh-rsa line, ed25519 blob");
	snprintf(line, sizeof(line), "ssh-ed25519 %s", strchr(RSA2048, ' ') + 1);
	refuse(line, "ed25519 line, rsa blob");
	snprintf(line, sizeof(line), "ecdsa-sha2-nistp256 %s", strchr(P384, ' ') + 1);
	refuse(line, "p256 line, p384 blob");
}

Test(sshkey, refuses_short_rsa_and_bad_blobs)
{
	unsigned char blob[128], pk[33] = {0};
	char line[1024];
	size_t n;

	refuse(RSA1024, "1024-bit RSA");
	refuse("ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIGJ3dGVzdGtleXRlc3RrZXl0ZXN0a2V5dGVzdGs x",
	       "truncated ed25519 blob");
	refuse("ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIO6Hz7UWPTdwTYvQZOwm7U4npq5QYEcEZy4OY/s+keS*",
	       "a character outside base64");
	refuse("ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIO6Hz7UWPTdwTYvQZOwm7U4npq5QYEcEZy4OY/s+keSJ=",
	       "wrong padding");
	refuse("ssh-dss AAAAB3NzaC1kc3MAAACBAP1/U4EddRIpUt9KnC7s5Of2EbdSPO9EAMMeP4C2USZp x",
	       "ssh-dss");
	refuse("ssh-ed25519", "no blob");
	refuse("", "empty");
	/* 33 key bytes, and 32 followed by trailing bytes. */
	n = put_str(blob, "ssh-ed25519", 11);
	n += put_str(blob + n, pk, 33);
	make_line(line, sizeof(line), "ssh-ed25519", blob, n);
	refuse(line, "33-byte ed25519 key");
	n = put_str(blob, "ssh-ed25519", 11);
	n += put_str(blob + n, pk, 32);
	blob[n++] = 0;
	make_line(line, sizeof(line), "ssh-ed25519", blob, n);
	refuse(line, "trailing byte");
	/* A length that runs past the blob. */
	n = put_str(blob, "ssh-ed25519", 11);
	n += put_str(blob + n, pk, 32);
	blob[14 + 3] = 40;
	make_line(line, sizeof(line), "ssh-ed25519", blob, n);
	refuse(line, "length past the end");
}

Test(sshkey, refuses_lines_valid_ssh_key_refuses)
{
	refuse("command=\"sh\" " ED25519, "options");
	refuse("ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIO6Hz7UWPTdwTYvQZOwm7U4npq5QYEcEZy4OY/s+keSJ "
	       "a\nb",
	       "newline in the comment");
}

Test(guestval, fqdn)
{
	const char *why = NULL;

	cr_assert(valid_fqdn("vps1.example.com", &why));
	cr_assert(valid_fqdn("a.io", &why));
	cr_assert(!valid_fqdn("vps1", &why), "a single label");
	cr_assert_not_null(why);
	cr_assert(!valid_fqdn("vps1.example.123", NULL), "numeric TLD");
	cr_assert(!valid_fqdn("192.0.2.1", NULL), "an address");
	cr_assert(!valid_fqdn("Vps1.example.com", NULL), "upper case");
	cr_assert(!valid_fqdn("vps1..example.com", NULL), "empty label");
	cr_assert(!valid_fqdn("vps_1.example.com", NULL), "underscore");
	cr_assert(!valid_fqdn("vps1.example.com.", NULL), "trailing dot");
}

Test(guestval, crypt_hash)
{
	cr_assert(valid_crypt_hash(
	        "$y$j9T$F5Jx5fExrKuPp53xLKQ..1$X3DX6M94c7o7TNBOtylsCsgVCXWaDM0YK6WFm9mPr9B", NULL));
	cr_assert(valid_crypt_hash("$6$saltsalt$qFmFH.bQmmtXzyBY0s9v7Oicd2z4XSIecDzlB5KiA2/"
	                           "jctKu9YterLp8wwnSq.qc.eoxqOmSuNp2xS0ktL3nh/",
	                           NULL));
	cr_assert(
	        valid_crypt_hash("$6$rounds=5000$saltsalt$qFmFH.bQmmtXzyBY0s9v7Oicd2z4XSI", NULL));
	cr_assert(!valid_crypt_hash("$1$saltsalt$qFmFH.bQmmtXzyBY0s9v7O", NULL), "md5-crypt");
	cr_assert(!valid_crypt_hash("$y$j9T$F5Jx5fExrKuPp53x:KQ..1$X3DX6M94c7o7", NULL), "colon");
	cr_assert(!valid_crypt_hash("$y$j9T$F5Jx5fExrKuPp53x\nKQ..1$X3DX6M94c7o7", NULL),
	          "newline");
	cr_assert(!valid_crypt_hash("$y$j9T$$X3DX6M94c7o7TNBOtylsCsgVCXWa", NULL), "empty salt");
	cr_assert(!valid_crypt_hash("$y$j9T$F5Jx5fExrKuPp53xLKQ..1$", NULL), "empty hash");
	cr_assert(!valid_crypt_hash("$6$salt=x$qFmFH.bQmmtXzyBY0s9v7Oicd2z4XSI", NULL),
	          "'=' in salt");
	cr_assert(!valid_crypt_hash("!locked-account-password-x", NULL), "locked");
	cr_assert(!valid_crypt_hash("$y$short", NULL), "short");
}
