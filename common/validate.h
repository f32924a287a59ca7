/* validate.h — the validators shared by xvpsd (at the API) and xvps-agent (again, before any
 * value reaches a command line, a config file or a firewall rule). Pure functions, no I/O.
 * Each returns true when the value is acceptable; on false, *why_out (when not NULL) points at
 * a static English sentence fit for a problem+json "detail". */
#ifndef XVPS_VALIDATE_H
#define XVPS_VALIDATE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Hostname per RFC 1123 §2.1 / RFC 952, restricted to lower case: labels of 1..63 characters
 * from [a-z0-9-], not starting or ending with '-', separated by single dots, 1..253 characters
 * in total. Rejects quotes, spaces, commas, '=', newlines, "..", a leading '-' and upper case. */
bool valid_hostname(const char *s, const char **why_out);

/* Login name: 3..32 characters, [a-z][a-z0-9_.-]*. */
bool valid_username(const char *s, const char **why_out);

/* E-mail address: 3..254 characters, one '@', printable ASCII without spaces, quotes,
 * angle brackets, commas or backslashes, a dot in the domain part. */
bool valid_email(const char *s, const char **why_out);

/* Password: 8..1024 bytes, no NUL (JSON strings cannot carry one anyway). */
bool valid_password(const char *s, const char **why_out);

/* Display name (plans, templates, API keys, OS label): 1..64 bytes of [A-Za-z0-9 ._:+()-],
 * not starting with a space or '-'. */
bool valid_label(const char *s, const char **why_out);

/* Xen domain name made by xvps: "xvps-" followed by 1..10 digits (the VPS id, no leading 0). */
bool valid_domain_name(const char *s, const char **why_out);

/* Template object name: "tpl-" followed by 1..10 digits. */
bool valid_template_name(const char *s, const char **why_out);

/* vif name: 1..11 characters of [a-z0-9], starting with a letter (Linux allows 15; an HVM
 * guest's tap is "<vifname>-emu"). docs/architecture.md §6. */
bool valid_vifname(const char *s, const char **why_out);

/* MAC "xx:xx:xx:xx:xx:xx", lower-case hex, unicast; xvps MACs also carry the Xen OUI
 * 00:16:3e, which valid_xen_mac() demands. */
bool valid_mac(const char *s, const char **why_out);
bool valid_xen_mac(const char *s, const char **why_out);

/* Textual IPv4 (dotted quad, no leading zeros) / IPv6 (inet_pton) address. When out is not
 * NULL it receives the 4 / 16 network-order bytes. */
bool parse_ipv4(const char *s, uint8_t out[4]);
bool parse_ipv6(const char *s, uint8_t out[16]);

/* CIDR "addr/len" for family 4 (len 8..32) or 6 (len 16..128); the address must be the
 * network address (no host bits set). */
bool parse_cidr(int family, const char *s, uint8_t addr_out[16], int *prefix_out,
                const char **why_out);

/* True when addr (4 or 16 bytes for family 4/6) lies inside net/prefix. */
bool cidr_contains(int family, const uint8_t net[16], int prefix, const uint8_t addr[16]);

/* OpenSSH public key line: "<type> <base64> [comment]", type one of ssh-ed25519,
 * ssh-rsa, ecdsa-sha2-nistp256/384/521, sk-ssh-ed25519@openssh.com,
 * sk-ecdsa-sha2-nistp256@openssh.com; at most 4096 bytes, printable ASCII only, no newline.
 * The form only: common/sshkey.h decodes the blob. */
bool valid_ssh_key(const char *s, const char **why_out);

/* LVM VG/LV name per lvm(8) "VALID NAMES": 1..127 characters of [A-Za-z0-9+_.-], not
 * starting with '-', not "." or "..", no "_cdata", "_cmeta", "_corig", "_mimage", "_mlog",
 * "_pmspare", "_rimage", "_rmeta", "_tdata", "_tmeta", "_vorigin", "_vdata" parts and not
 * beginning with "snapshot" or "pvmove". */
bool valid_lvm_name(const char *s, const char **why_out);

/* A name that becomes one path component (a state file, a template file, a netns): 1..max_len
 * characters of [A-Za-z0-9._-], not starting with '.', so no separator, no hidden or
 * temporary name, never "." or "..". Callers that pass it to argv also refuse a leading '-'. */
bool valid_file_name(const char *s, size_t max_len, const char **why_out);

/* Bounded integer parse of a decimal string (after OpenBSD strtonum): true and *out set when s
 * is a whole base-10 integer in [min, max]. */
bool parse_int_range(const char *s, long long min, long long max, long long *out);

#endif
