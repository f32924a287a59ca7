/* sshkey.h — strict parsing of one OpenSSH public key line (issue 16 item 2), as sshd reads an
 * authorized_keys entry without options: "<type> <base64> [comment]". The base64 blob is
 * decoded (libsodium's sodium_base642bin, standard alphabet, padding required) and read as the
 * SSH wire format of RFC 4253 §6.6 / RFC 5656 §3.1 / OpenSSH's PROTOCOL.u2f: its inner type
 * string must equal the line's type, every field must be there with its expected length and
 * nothing may follow. Allowed types: ssh-ed25519, ecdsa-sha2-nistp256/384/521, ssh-rsa (2048..
 * 16384-bit modulus), sk-ssh-ed25519@openssh.com, sk-ecdsa-sha2-nistp256@openssh.com. Pure, no
 * I/O; links libsodium. */
#ifndef XVPS_SSHKEY_H
#define XVPS_SSHKEY_H

#include <stdbool.h>

#define SSHKEY_TYPE_MAX 40

typedef struct ssh_key_info {
	char type[SSHKEY_TYPE_MAX]; /* "ssh-ed25519" ... */
	int bits;                   /* RSA: the modulus's bits; ed25519 256; ECDSA the curve's */
} ssh_key_info;

/* True when line is one acceptable key (valid_ssh_key's line rules, then the blob decoded and
 * checked as above); info (may be NULL) receives its type and size. On false *why_out (may be
 * NULL) points at a static English sentence. */
bool ssh_key_parse(const char *line, ssh_key_info *info, const char **why_out);

#endif
