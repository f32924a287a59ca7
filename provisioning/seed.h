/* seed.h — the per-VPS seed: a small raw block device the guest sees read-only as /dev/xvdb
 * (HVM: /dev/xvde, see xlcfg.h), from which the guest template's xvps-seed
 * (dom0-image/guest/xvps-seed) sets the hostname, eth0's addresses and routes and root's SSH
 * keys at every boot. A changed seed reaches the guest when its domain is next created (a
 * reboot re-creates it); the loop device of a running domain keeps the old file.
 *
 * Format (version 2; version 1 is the same without the lines marked v2): a file of exactly
 * SEED_SIZE bytes (64 KiB), mode 0600, at <state_dir>/seed/<domain>.img, holding the text
 *
 *   XVPS-SEED 2\n                "XVPS-SEED 1" when none of the v2 lines follows, so that a
 *                                template whose reader predates version 2 still reads it
 *   hostname=<hostname>\n
 *   ipv4=<address>/32\n          one per IPv4 address, in spec order
 *   gateway4=<address>\n         when the spec has one
 *   ipv6=<address>/128\n         one per IPv6 address (canonical lower-case text, RFC 5952)
 *   ipv6_routed=<prefix>/<len>\n one per routed prefix (canonical)
 *   gateway6=<address>\n         when the spec has one
 *   ssh_key=<key line>\n         one per SSH key, in spec order
 *   resolver=<address>\n         v2: one per DNS resolver, at most 3, in spec order (IPv6
 *                                canonical); the guest writes them to /etc/resolv.conf
 *   root_password_hash=<crypt>\n v2: with the next line, when the spec has a password reset:
 *   password_serial=<N>\n        a crypt(3) hash ($y$ or $6$, valid_crypt_hash) and its serial
 *                                (1..4294967295); the guest sets root's password to the hash
 *                                once per serial (it keeps the last applied serial)
 *   end\n
 *
 * and NUL bytes up to SEED_SIZE. No filesystem for dom0 to build or the guest to mount: both
 * sides handle only these lines. Every value comes from the validated spec and is checked again
 * here; a value holding a newline, NUL or any byte outside its allow-list is refused.
 *
 * Return convention: 0 or a negative errno, with a sentence in err (SEED_ERRLEN bytes) where the
 * function takes one. */
#ifndef XVPS_SEED_H
#define XVPS_SEED_H

#include <stddef.h>

#include "spec.h"

#define SEED_SIZE     65536 /* bytes, the whole device */
#define SEED_MAGIC    "XVPS-SEED 1\n"
#define SEED_MAGIC2   "XVPS-SEED 2\n" /* same length as SEED_MAGIC */
#define SEED_ERRLEN   256
#define SEED_PATH_LEN 600 /* <state_dir>/seed/<name>.img and its directory */

/* Renders the seed text of spec (without the NUL padding) into buf (cap bytes). Returns the
 * text length, or -EINVAL (a value fails its check: err names the field), -EFBIG (does not fit
 * in SEED_SIZE bytes, or in cap), with err (SEED_ERRLEN bytes, may be NULL) saying why. */
int seed_render(const vps_spec *spec, char *buf, size_t cap, char *err);

/* Writes the seed of spec to <state_dir>/seed/<spec->name>.img: creates <state_dir>/seed
 * (0700) when missing, then atomically replaces the file (temp file, fsync, rename, fsync of
 * the directory), mode 0600, exactly SEED_SIZE bytes; a file that already holds exactly these
 * bytes with mode 0600 is left alone (no write, mtime kept). state_dir must be an absolute path.
 * path_out (len bytes, may be NULL) receives the file's path. Returns 0, or -EINVAL (bad
 * state_dir, domain name or value), -EFBIG (the content exceeds 64 KiB: too many or too long
 * SSH keys), -ENAMETOOLONG, or another -errno from the filesystem, with err (SEED_ERRLEN
 * bytes, may be NULL) saying why. A failure leaves any previous seed file as it was. */
int seed_write(const char *state_dir, const vps_spec *spec, char *path_out, size_t len, char *err);

/* The seed path of domain name (valid_domain_name) under state_dir, into out (len bytes).
 * Returns 0, -EINVAL (bad name or state_dir) or -ENAMETOOLONG. */
int seed_path(const char *state_dir, const char *name, char *out, size_t len);

/* Removes the seed of domain name. Absent is success. Returns 0, -EINVAL (bad name or
 * state_dir), -ENAMETOOLONG or -errno of unlink(2). */
int seed_remove(const char *state_dir, const char *name);

#endif
