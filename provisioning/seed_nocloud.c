/* seed_nocloud.c — the cloud-init NoCloud seed (seed_nocloud.h): three small YAML documents
 * rendered from the validated spec, then a FAT disk labelled cidata built with mtools through
 * the runner and renamed over the VPS's seed file. */
#include "seed_nocloud.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "../common/util.h"
#include "../common/guestval.h"
#include "../common/validate.h"
#include "seed_internal.h"

/* ---- a growing text buffer ------------------------------------------------------------------ */

typedef struct ybuf {
	char *s;
	size_t len, cap;
	bool failed; /* out of memory, or over NOCLOUD_MAX_DOC */
} ybuf;

static void yadd(ybuf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void yadd(ybuf *b, const char *fmt, ...)
{
	va_list ap;
	int n;

	if (b->failed)
		return;
	va_start(ap, fmt);
	n = vsnprintf(NULL, 0, fmt, ap);
	va_end(ap);
	if (n < 0 || b->len + (size_t)n + 1 > NOCLOUD_MAX_DOC) {
		b->failed = true;
		return;
	}
	if (b->len + (size_t)n + 1 > b->cap) {
		size_t cap = b->cap ? b->cap : 1024;
		char *s;

		while (cap < b->len + (size_t)n + 1)
			cap *= 2;
		s = realloc(b->s, cap);
		if (!s) {
			b->failed = true;
			return;
		}
		b->s = s;
		b->cap = cap;
	}
	va_start(ap, fmt);
	vsnprintf(b->s + b->len, b->cap - b->len, fmt, ap);
	va_end(ap);
	b->len += (size_t)n;
}

/* A YAML double-quoted scalar of a one-line printable value: `"` and `\` escaped, nothing else
 * needs it. The caller checked seed_one_line. */
static void yquote(ybuf *b, const char *v)
{
	yadd(b, "\"");
	for (const char *c = v; *c; c++) {
		if (*c == '"' || *c == '\\')
			yadd(b, "\\%c", *c);
		else
			yadd(b, "%c", *c);
	}
	yadd(b, "\"");
}

/* "<indent><key>: "<value>"\n" */
static void ykv(ybuf *b, const char *indent, const char *key, const char *v)
{
	yadd(b, "%s%s: ", indent, key);
	yquote(b, v);
	yadd(b, "\n");
}

/* "<indent>- "<value>"\n" */
static void yitem(ybuf *b, const char *indent, const char *v)
{
	yadd(b, "%s- ", indent);
	yquote(b, v);
	yadd(b, "\n");
}

/* ---- checked values ------------------------------------------------------------------------- */

static bool canon4(const char *s)
{
	return s && parse_ipv4(s, NULL) && strspn(s, "0123456789.") == strlen(s);
}

/* The spec's values the documents use, checked again (the agent trusts nobody). */
static int check_spec(const vps_spec *spec, char *err)
{
	const char *why = NULL;

	if (!spec) {
		seed_seterr(err, "spec: missing");
		return -EINVAL;
	}
	if (!spec->name || !valid_domain_name(spec->name, &why)) {
		seed_seterr(err, "name: %s", why ? why : "missing");
		return -EINVAL;
	}
	if (!spec->hostname || !valid_hostname(spec->hostname, &why)) {
		seed_seterr(err, "hostname: %s", why ? why : "missing");
		return -EINVAL;
	}
	if (!spec->mac || !valid_mac(spec->mac, &why)) {
		seed_seterr(err, "mac: %s", why ? why : "missing");
		return -EINVAL;
	}
	for (size_t i = 0; i < spec->n_ipv4; i++)
		if (!canon4(spec->ipv4[i])) {
			seed_seterr(err, "ipv4: address %zu is not an IPv4 address", i + 1);
			return -EINVAL;
		}
	if (spec->gateway4 && !canon4(spec->gateway4)) {
		seed_seterr(err, "gateway4: not an IPv4 address");
		return -EINVAL;
	}
	for (size_t i = 0; i < spec->n_ssh_keys; i++)
		if (seed_check_ssh_key(spec->ssh_keys[i], i, err) != 0)
			return -EINVAL;
	for (size_t i = 0; i < spec->n_resolvers; i++) {
		char a6[INET6_ADDRSTRLEN];

		if (!canon4(spec->resolvers[i]) && !seed_canon6(spec->resolvers[i], a6)) {
			seed_seterr(err, "resolvers: resolver %zu is not an IP address", i + 1);
			return -EINVAL;
		}
	}
	if (spec->root_password_hash &&
	    (!valid_crypt_hash(spec->root_password_hash, &why) || spec->password_serial == 0)) {
		seed_seterr(err, "root_password_hash: %s",
		            why ? why : "no password_serial with it");
		return -EINVAL;
	}
	return 0;
}

/* ---- the documents -------------------------------------------------------------------------- */

/* user-data (#cloud-config): hostname, root's and the default user's SSH keys, and the last root
 * password reset (issue 16 item 2). The reset is applied once per serial, like the xvps seed's
 * reader does: a runcmd (argv, the serial and the crypt(3) hash as positional parameters, never
 * spliced into the script) compares the serial with /var/lib/xvps/password_serial and runs
 * `chpasswd -e` only for a new one. (cloud-init's own chpasswd module would set the password
 * again at every new instance-id, i.e. after any settings change, and undo a password the
 * customer changed inside the guest since.) ssh_deletekeys is false so that a new instance-id
 * keeps the guest's SSH host keys (cloud-init still makes missing ones). */
static const char PW_SCRIPT[] =
        "f=/var/lib/xvps/password_serial; [ \"$(cat $f 2>/dev/null)\" = \"$1\" ] && exit 0; "
        "printf 'root:%s\\n' \"$2\" | chpasswd -e && mkdir -p /var/lib/xvps && echo \"$1\" > $f";

static void render_user_data(ybuf *b, const vps_spec *spec)
{
	char host[64];
	size_t n = strcspn(spec->hostname, ".");

	snprintf(host, sizeof(host), "%.*s", (int)(n < sizeof(host) ? n : sizeof(host) - 1),
	         spec->hostname);
	yadd(b, "#cloud-config\n");
	yadd(b, "# %s: written by xvps-agent, replaced when the VPS's settings change.\n",
	     spec->name);
	ykv(b, "", "hostname", host);
	ykv(b, "", "fqdn", spec->hostname);
	yadd(b, "prefer_fqdn_over_hostname: false\n");
	yadd(b, "preserve_hostname: false\n");
	yadd(b, "manage_etc_hosts: true\n");
	yadd(b, "disable_root: false\n");
	yadd(b, "ssh_pwauth: false\n");
	yadd(b, "ssh_deletekeys: false\n");
	yadd(b, "users:\n");
	yitem(b, "  ", "default");
	if (spec->n_ssh_keys == 0) {
		yadd(b, "ssh_authorized_keys: []\n");
	} else {
		yadd(b, "ssh_authorized_keys:\n");
		for (size_t i = 0; i < spec->n_ssh_keys; i++)
			yitem(b, "  ", spec->ssh_keys[i]);
	}
	if (spec->root_password_hash) {
		char serial[16];

		snprintf(serial, sizeof(serial), "%" PRIu32, spec->password_serial);
		yadd(b, "runcmd:\n");
		yadd(b, "  - - \"sh\"\n");
		yadd(b, "    - \"-c\"\n");
		yadd(b, "    - ");
		yquote(b, PW_SCRIPT);
		yadd(b, "\n");
		yadd(b, "    - \"xvps-password\"\n");
		yadd(b, "    - ");
		yquote(b, serial);
		yadd(b, "\n    - ");
		yquote(b, spec->root_password_hash);
		yadd(b, "\n");
	}
}

/* network-config version 2: eth0 by MAC, its /32 and /128 addresses (and a routed /64's first),
 * default routes on-link, and the pool's DNS resolvers (issue 16 item 2) as nameservers.
 * Returns 0 or -EINVAL with err naming the field. */
static int render_network(ybuf *b, const vps_spec *spec, char *err)
{
	char a6[INET6_ADDRSTRLEN], v[INET6_ADDRSTRLEN + 8];
	size_t n_addr = spec->n_ipv4 + spec->n_ipv6 + spec->n_ipv6_routed;

	yadd(b, "# %s: written by xvps-agent, replaced when the VPS's settings change.\n",
	     spec->name);
	yadd(b, "version: 2\n");
	yadd(b, "ethernets:\n");
	yadd(b, "  eth0:\n");
	yadd(b, "    match:\n");
	ykv(b, "      ", "macaddress", spec->mac);
	ykv(b, "    ", "set-name", "eth0");
	yadd(b, "    dhcp4: false\n");
	yadd(b, "    dhcp6: false\n");
	yadd(b, "    accept-ra: false\n");
	if (n_addr)
		yadd(b, "    addresses:\n");
	for (size_t i = 0; i < spec->n_ipv4; i++) {
		snprintf(v, sizeof(v), "%s/32", spec->ipv4[i]);
		yitem(b, "      ", v);
	}
	for (size_t i = 0; i < spec->n_ipv6; i++) {
		if (!seed_canon6(spec->ipv6[i], a6)) {
			seed_seterr(err, "ipv6: address %zu is not an IPv6 address", i + 1);
			return -EINVAL;
		}
		snprintf(v, sizeof(v), "%s/128", a6);
		yitem(b, "      ", v);
	}
	/* A routed prefix reaches the VPS whole; the guest holds its first address, the customer
	 * adds the rest. */
	for (size_t i = 0; i < spec->n_ipv6_routed; i++) {
		uint8_t net[16];
		int len = 0;
		const char *why = NULL;

		if (!spec->ipv6_routed[i] ||
		    !parse_cidr(6, spec->ipv6_routed[i], net, &len, &why) || len < 48 || len > 64) {
			seed_seterr(
			        err,
			        "ipv6_routed: prefix %zu is not an IPv6 network of length 48..64",
			        i + 1);
			return -EINVAL;
		}
		net[15] |= 1;
		inet_ntop(AF_INET6, net, a6, sizeof(a6));
		snprintf(v, sizeof(v), "%s/128", a6);
		yitem(b, "      ", v);
	}
	if (spec->n_resolvers) {
		yadd(b, "    nameservers:\n");
		yadd(b, "      addresses:\n");
		for (size_t i = 0; i < spec->n_resolvers; i++) {
			if (seed_canon6(spec->resolvers[i], a6))
				yitem(b, "        ", a6);
			else
				yitem(b, "        ", spec->resolvers[i]); /* checked: canon4 */
		}
	}
	if (spec->gateway6 && !seed_canon6(spec->gateway6, a6)) { /* a6: the gateway from here on */
		seed_seterr(err, "gateway6: not an IPv6 address");
		return -EINVAL;
	}
	if (!spec->gateway4 && !spec->gateway6)
		return 0;
	/* Addresses are /32 and /128: the gateways are reached on-link. */
	yadd(b, "    routes:\n");
	if (spec->gateway4) {
		yadd(b, "      - to: \"0.0.0.0/0\"\n");
		ykv(b, "        ", "via", spec->gateway4);
		yadd(b, "        on-link: true\n");
	}
	if (spec->gateway6) {
		yadd(b, "      - to: \"::/0\"\n");
		ykv(b, "        ", "via", a6);
		yadd(b, "        on-link: true\n");
	}
	return 0;
}

/* FNV-1a 64: names the content in the instance-id (change detection, not security). */
static uint64_t fnv1a(uint64_t h, const char *s)
{
	for (const unsigned char *c = (const unsigned char *)s; *c; c++) {
		h ^= *c;
		h *= 1099511628211ull;
	}
	return h;
}

void nocloud_dispose(nocloud_seed *s)
{
	if (!s)
		return;
	free(s->meta_data);
	free(s->user_data);
	free(s->network_config);
	memset(s, 0, sizeof(*s));
}

int nocloud_render(const vps_spec *spec, nocloud_seed *out, char *err)
{
	ybuf ud = {0}, nc = {0}, md = {0};
	uint64_t h = 14695981039346656037ull;
	int rc;

	memset(out, 0, sizeof(*out));
	rc = check_spec(spec, err);
	if (rc)
		return rc;
	render_user_data(&ud, spec);
	rc = render_network(&nc, spec, err);
	if (rc)
		goto fail;
	if (ud.failed || nc.failed) {
		seed_seterr(err, "ssh_keys: the seed's documents exceed %d bytes", NOCLOUD_MAX_DOC);
		rc = -EFBIG;
		goto fail;
	}
	h = fnv1a(fnv1a(h, ud.s), nc.s);
	snprintf(out->instance_id, sizeof(out->instance_id), "%s-%016llx", spec->name,
	         (unsigned long long)h);
	ykv(&md, "", "instance-id", out->instance_id);
	ykv(&md, "", "local-hostname", spec->hostname);
	if (md.failed) {
		seed_seterr(err, "out of memory");
		rc = -ENOMEM;
		goto fail;
	}
	out->meta_data = md.s;
	out->user_data = ud.s;
	out->network_config = nc.s;
	return 0;
fail:
	free(ud.s);
	free(nc.s);
	free(md.s);
	return rc;
}

/* ---- the disk ------------------------------------------------------------------------------- */

/* True when path is a regular 0600 file that holds the bytes of meta (FAT stores a small file
 * in consecutive clusters, so its bytes appear as they are). */
static bool holds(const char *path, const char *meta)
{
	struct stat st;
	char *data = NULL;
	size_t len = 0;
	bool yes;

	if (lstat(path, &st) != 0 || !S_ISREG(st.st_mode) || (st.st_mode & 07777) != 0600 ||
	    read_file(path, 4u << 20, &data, &len) != 0)
		return false;
	yes = memmem(data, len, meta, strlen(meta)) != NULL;
	free(data);
	return yes;
}

static int run_ok(const runner *run, const char *const argv[], char *err)
{
	runner real = runner_real();
	runner_result res;
	char line[RUNNER_LINE_LEN];
	int rc;

	runner_result_init(&res);
	rc = runner_run(run && run->run ? run : &real, argv, NULL, 0, NOCLOUD_TIMEOUT_MS, &res);
	if (!runner_ok(rc, &res)) {
		seed_seterr(err, "%s failed: %s", argv[0],
		            rc ? strerror(-rc) : runner_failure_line(&res, line, sizeof(line)));
		rc = rc ? rc : -EIO;
	}
	runner_result_dispose(&res);
	return rc;
}

int nocloud_write(const runner *run, const char *state_dir, const vps_spec *spec, char *err)
{
	char path[SEED_PATH_LEN], tmpimg[SEED_PATH_LEN + 16], dir[SEED_PATH_LEN + 32];
	char f_md[SEED_PATH_LEN + 48], f_ud[SEED_PATH_LEN + 48], f_nc[SEED_PATH_LEN + 48];
	nocloud_seed s;
	int rc, fd;

	rc = nocloud_render(spec, &s, err);
	if (rc)
		return rc;
	rc = seed_path(state_dir, spec->name, path, sizeof(path));
	if (rc) {
		seed_seterr(err, "no seed path for %s", spec->name);
		goto out;
	}
	if (holds(path, s.meta_data))
		goto out; /* the same content: the instance-id names it */
	if (!sfmt(dir, sizeof(dir), "%s/seed", state_dir) || (rc = mkdir_p(dir, 0700)) != 0) {
		rc = rc ? rc : -ENAMETOOLONG;
		seed_seterr(err, "cannot create the seed directory: %s", strerror(-rc));
		goto out;
	}
	if (!sfmt(dir, sizeof(dir), "%s/seed/.%s.XXXXXX", state_dir, spec->name) ||
	    !sfmt(tmpimg, sizeof(tmpimg), "%s.cidata", path) || !mkdtemp(dir)) {
		rc = -errno ? -errno : -ENAMETOOLONG;
		seed_seterr(err, "cannot make a temporary directory for the seed");
		goto out;
	}
	sfmt(f_md, sizeof(f_md), "%s/meta-data", dir);
	sfmt(f_ud, sizeof(f_ud), "%s/user-data", dir);
	sfmt(f_nc, sizeof(f_nc), "%s/network-config", dir);
	unlink(tmpimg);
	if ((rc = write_file_atomic(f_md, s.meta_data, strlen(s.meta_data), 0600)) != 0 ||
	    (rc = write_file_atomic(f_ud, s.user_data, strlen(s.user_data), 0600)) != 0 ||
	    (rc = write_file_atomic(f_nc, s.network_config, strlen(s.network_config), 0600)) != 0) {
		seed_seterr(err, "cannot write the seed's files: %s", strerror(-rc));
		goto cleanup;
	}
	{
		const char *mformat[] = {"mformat", "-i", tmpimg,        "-C", "-f",
		                         "1440",    "-v", NOCLOUD_LABEL, "::", NULL};
		const char *mcopy[] = {"mcopy", "-i", tmpimg, "-o", f_md, f_ud, f_nc, "::", NULL};

		if ((rc = run_ok(run, mformat, err)) != 0 || (rc = run_ok(run, mcopy, err)) != 0)
			goto cleanup;
	}
	fd = open(tmpimg, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
	if (fd < 0 || fchmod(fd, 0600) != 0 || fsync(fd) != 0) {
		rc = -errno;
		seed_seterr(err, "cannot finish %s: %s", tmpimg, strerror(errno));
		if (fd >= 0)
			close(fd);
		goto cleanup;
	}
	close(fd);
	if (rename(tmpimg, path) != 0) {
		rc = -errno;
		seed_seterr(err, "cannot rename the seed into place: %s", strerror(errno));
		goto cleanup;
	}
cleanup:
	unlink(f_md);
	unlink(f_ud);
	unlink(f_nc);
	rmdir(dir);
	if (rc)
		unlink(tmpimg);
out:
	nocloud_dispose(&s);
	return rc;
}

int seed_write_kind(const runner *run, const char *state_dir, const vps_spec *spec, char *err)
{
	/* Issue 16 item 3: the rescue image reads the xvps seed, whatever the VPS's template. */
	if (spec && spec->seed_nocloud && !spec->rescue)
		return nocloud_write(run, state_dir, spec, err);
	return seed_write(state_dir, spec, NULL, 0, err);
}
