/* seed.c — writes the per-VPS seed (seed.h): XVPS-SEED 1 key=value lines, NUL-padded to
 * 64 KiB, replaced atomically. Each value is checked again against its validator and a final
 * allow-list (printable ASCII, no newline), so the guest's parser never sees a surprise. */
#include "seed.h"
#include "seed_loop.h"

#include <arpa/inet.h>
#include <errno.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include "../common/guestval.h"
#include "../common/util.h"
#include "../common/validate.h"
#include "seed_internal.h"

#define SEED_DIR "seed"

void seed_seterr(char *err, const char *fmt, ...)
{
	va_list ap;

	if (!err)
		return;
	va_start(ap, fmt);
	vsnprintf(err, SEED_ERRLEN, fmt, ap);
	va_end(ap);
}

bool seed_one_line(const char *s)
{
	for (const unsigned char *c = (const unsigned char *)s; *c; c++)
		if (*c < 0x20 || *c > 0x7e)
			return false;
	return true;
}

typedef struct seedbuf {
	char *buf;
	size_t cap, len;
	bool full;
} seedbuf;

/* Appends "key=value\n"; value must be one line (checked by the callers and again here). */
static int add(seedbuf *o, const char *key, const char *value, char *err)
{
	size_t need = strlen(key) + 1 + strlen(value) + 1;

	if (!seed_one_line(value)) {
		seed_seterr(err, "%s: the value is not one line of printable ASCII", key);
		return -EINVAL;
	}
	if (o->len + need + 1 > o->cap) { /* + snprintf's NUL */
		o->full = true;
		return 0;
	}
	o->len += (size_t)snprintf(o->buf + o->len, o->cap - o->len, "%s=%s\n", key, value);
	return 0;
}

int seed_check_ssh_key(const char *k, size_t i, char *err)
{
	const char *why = NULL;

	if (!k || !seed_one_line(k) || !valid_ssh_key(k, &why)) {
		seed_seterr(err, "ssh_keys: key %zu: %s", i + 1,
		            k && !seed_one_line(k) ? "not one line of printable ASCII"
		                                   : (why ? why : "missing"));
		return -EINVAL;
	}
	return 0;
}

bool seed_canon6(const char *s, char out[INET6_ADDRSTRLEN])
{
	uint8_t a[16];

	return s && parse_ipv6(s, a) && inet_ntop(AF_INET6, a, out, INET6_ADDRSTRLEN) != NULL;
}

/* The version-2 lines (issue 16 item 2): resolvers, then the root password hash and its
 * serial. */
static int render_v2(seedbuf *o, const vps_spec *spec, char *err)
{
	char a6[INET6_ADDRSTRLEN], v[16];
	const char *why = NULL;
	int rc;

	if (spec->n_resolvers > SPEC_MAX_RESOLVERS) {
		seed_seterr(err, "resolvers: more than %d", SPEC_MAX_RESOLVERS);
		return -EINVAL;
	}
	for (size_t i = 0; i < spec->n_resolvers; i++) {
		const char *a = spec->resolvers[i];

		if (a && parse_ipv4(a, NULL) && strspn(a, "0123456789.") == strlen(a)) {
			rc = add(o, "resolver", a, err);
		} else if (a && seed_canon6(a, a6)) {
			rc = add(o, "resolver", a6, err);
		} else {
			seed_seterr(err, "resolvers: resolver %zu is not an IPv4 or IPv6 address",
			            i + 1);
			return -EINVAL;
		}
		if (rc)
			return rc;
	}
	if (!spec->root_password_hash && spec->password_serial == 0)
		return 0;
	if (!spec->root_password_hash || spec->password_serial == 0 ||
	    !valid_crypt_hash(spec->root_password_hash, &why)) {
		seed_seterr(err, "root_password_hash: %s",
		            why ? why : "a hash and a serial >= 1 go together");
		return -EINVAL;
	}
	if ((rc = add(o, "root_password_hash", spec->root_password_hash, err)) != 0)
		return rc;
	snprintf(v, sizeof(v), "%u", (unsigned)spec->password_serial);
	return add(o, "password_serial", v, err);
}

int seed_render(const vps_spec *spec, char *buf, size_t cap, char *err)
{
	char a6[INET6_ADDRSTRLEN], v[INET6_ADDRSTRLEN + 8];
	const char *why = NULL;
	seedbuf o = {.buf = buf, .cap = cap < SEED_SIZE ? cap : SEED_SIZE};
	int rc;

	if (!spec || !buf) {
		seed_seterr(err, "spec: missing");
		return -EINVAL;
	}
	if (!spec->hostname || !valid_hostname(spec->hostname, &why)) {
		seed_seterr(err, "hostname: %s", why ? why : "missing");
		return -EINVAL;
	}
	if (o.cap < sizeof(SEED_MAGIC)) {
		seed_seterr(err, "the seed buffer is too small");
		return -EFBIG;
	}
	/* Version 2 only when a version-2 line follows: a guest template whose reader knows only
	 * version 1 keeps reading the seeds of VPS that use none of them. */
	memcpy(o.buf, spec->n_resolvers || spec->root_password_hash ? SEED_MAGIC2 : SEED_MAGIC,
	       sizeof(SEED_MAGIC) - 1);
	o.len = sizeof(SEED_MAGIC) - 1;
	if ((rc = add(&o, "hostname", spec->hostname, err)) != 0)
		return rc;
	for (size_t i = 0; i < spec->n_ipv4; i++) {
		const char *a = spec->ipv4[i];
		if (!a || !parse_ipv4(a, NULL) || strspn(a, "0123456789.") != strlen(a)) {
			seed_seterr(err, "ipv4: %s is not an IPv4 address",
			            a && seed_one_line(a) ? a : "?");
			return -EINVAL;
		}
		snprintf(v, sizeof(v), "%s/32", a);
		if ((rc = add(&o, "ipv4", v, err)) != 0)
			return rc;
	}
	if (spec->gateway4) {
		const char *g = spec->gateway4;
		if (!parse_ipv4(g, NULL) || strspn(g, "0123456789.") != strlen(g)) {
			seed_seterr(err, "gateway4: not an IPv4 address");
			return -EINVAL;
		}
		if ((rc = add(&o, "gateway4", g, err)) != 0)
			return rc;
	}
	for (size_t i = 0; i < spec->n_ipv6; i++) {
		if (!spec->ipv6[i] || !seed_canon6(spec->ipv6[i], a6)) {
			seed_seterr(err, "ipv6: not an IPv6 address");
			return -EINVAL;
		}
		snprintf(v, sizeof(v), "%s/128", a6);
		if ((rc = add(&o, "ipv6", v, err)) != 0)
			return rc;
	}
	for (size_t i = 0; i < spec->n_ipv6_routed; i++) {
		uint8_t net[16];
		int len = 0;
		const char *p = spec->ipv6_routed[i];
		if (!p || !parse_cidr(6, p, net, &len, &why) || len < 48 || len > 64 ||
		    !inet_ntop(AF_INET6, net, a6, sizeof(a6))) {
			seed_seterr(err, "ipv6_routed: not an IPv6 network of length 48..64");
			return -EINVAL;
		}
		snprintf(v, sizeof(v), "%s/%d", a6, len);
		if ((rc = add(&o, "ipv6_routed", v, err)) != 0)
			return rc;
	}
	if (spec->gateway6) {
		if (!seed_canon6(spec->gateway6, a6)) {
			seed_seterr(err, "gateway6: not an IPv6 address");
			return -EINVAL;
		}
		if ((rc = add(&o, "gateway6", a6, err)) != 0)
			return rc;
	}
	for (size_t i = 0; i < spec->n_ssh_keys; i++) {
		const char *k = spec->ssh_keys[i];

		if ((rc = seed_check_ssh_key(k, i, err)) != 0)
			return rc;
		if ((rc = add(&o, "ssh_key", k, err)) != 0)
			return rc;
	}
	if ((rc = render_v2(&o, spec, err)) != 0)
		return rc;
	if (o.full || o.len + 4 > o.cap) {
		seed_seterr(err,
		            "ssh_keys: the addresses and SSH keys do not fit in the %d-byte seed",
		            SEED_SIZE);
		return -EFBIG;
	}
	memcpy(o.buf + o.len, "end\n", 4);
	o.len += 4;
	return (int)o.len;
}

/* True when path is already a regular file, mode 0600, holding exactly want[SEED_SIZE]. */
static bool same_seed(const char *path, const char *want)
{
	struct stat st;
	bool same = false;
	char *have;
	int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);

	if (fd < 0)
		return false;
	if (fstat(fd, &st) == 0 && S_ISREG(st.st_mode) && (st.st_mode & 07777) == 0600 &&
	    st.st_size == SEED_SIZE && (have = malloc(SEED_SIZE)) != NULL) {
		size_t got = 0;
		while (got < SEED_SIZE) {
			ssize_t r = read(fd, have + got, SEED_SIZE - got);
			if (r <= 0)
				break;
			got += (size_t)r;
		}
		same = got == SEED_SIZE && memcmp(have, want, SEED_SIZE) == 0;
		free(have);
	}
	close(fd);
	return same;
}

static int seed_dir(const char *state_dir, char *out, size_t len)
{
	if (!state_dir || state_dir[0] != '/' || !seed_one_line(state_dir))
		return -EINVAL;
	return sfmt(out, len, "%s/" SEED_DIR, state_dir) ? 0 : -ENAMETOOLONG;
}

int seed_path(const char *state_dir, const char *name, char *out, size_t len)
{
	const char *why = NULL;

	if (!name || !valid_domain_name(name, &why) || !state_dir || state_dir[0] != '/' ||
	    !seed_one_line(state_dir))
		return -EINVAL;
	return sfmt(out, len, "%s/" SEED_DIR "/%s.img", state_dir, name) ? 0 : -ENAMETOOLONG;
}

int seed_write(const char *state_dir, const vps_spec *spec, char *path_out, size_t len, char *err)
{
	char dir[SEED_PATH_LEN], path[SEED_PATH_LEN];
	char *buf;
	int rc, n;

	if (path_out && len)
		path_out[0] = '\0';
	if (!spec) {
		seed_seterr(err, "spec: missing");
		return -EINVAL;
	}
	rc = seed_path(state_dir, spec->name, path, sizeof(path));
	if (rc == 0)
		rc = seed_dir(state_dir, dir, sizeof(dir));
	if (rc) {
		seed_seterr(err, rc == -EINVAL ? "name: not a valid domain name, or a bad state dir"
		                               : "the seed path is too long");
		return rc;
	}
	buf = calloc(1, SEED_SIZE); /* the NUL padding */
	if (!buf) {
		seed_seterr(err, "out of memory");
		return -ENOMEM;
	}
	n = seed_render(spec, buf, SEED_SIZE, err);
	if (n < 0) {
		free(buf);
		return n;
	}
	rc = mkdir_p(dir, 0700);
	if (rc) {
		seed_seterr(err, "cannot create %s: %s", dir, strerror(-rc));
		free(buf);
		return rc;
	}
	rc = same_seed(path, buf) ? 0 : write_file_atomic(path, buf, SEED_SIZE, 0600);
	free(buf);
	if (rc) {
		seed_seterr(err, "cannot write %s: %s", path, strerror(-rc));
		return rc;
	}
	if (path_out && !sfmt(path_out, len, "%s", path)) {
		seed_seterr(err, "the seed path does not fit the caller's buffer");
		return -ENAMETOOLONG;
	}
	return 0;
}

int seed_remove(const char *state_dir, const char *name)
{
	char path[SEED_PATH_LEN];
	int rc = seed_path(state_dir, name, path, sizeof(path));

	if (rc)
		return rc;
	/* The loop device the agent bound to it on Xen (seed_loop.h), if any: unbound first (or at
	 * its last close when a domain still holds it). */
	rc = seed_loop_detach(path, NULL);
	if (rc)
		log_warn("seed of %s: %s", name, strerror(-rc));
	if (unlink(path) != 0 && errno != ENOENT)
		return -errno;
	return 0;
}
