/* netcount.c — the networking context and per-vif traffic counters (see net.h).
 *
 * A sweep reads, for each requested domain, <sysfs_net>/<vif>/ifindex and
 * <sysfs_net>/<vif>/statistics/{rx,tx}_{bytes,packets} with openat() relative to directory
 * fds and one pread() per file into a stack buffer: no path building, no per-file allocation.
 * With the real /sys/class/net the same counters come instead from one rtnetlink RTM_GETLINK
 * dump of the agent's own namespace (ifindex and IFLA_STATS64 of every link, each link read
 * consistently in one message): measured here with 1,000 vifs, the dump costs ~3.5 ms of CPU
 * and a whole sweep ~7 ms, against ~55 ms for reading the 5,000 sysfs files alone
 * (open+pread+close each; syscalls are slow on this VM). Fake trees (unit tests) and any
 * other sysfs_net are read file by file.
 * Each domain's accumulator (ctx->counters, sorted by name, binary search) keeps the last raw
 * values and the ifindex they were read under; a new ifindex or any raw value lower than the
 * last means the vif was re-created, so the new raw values are added whole, else the
 * differences. Totals and raw values are persisted together after every sweep
 * (<state_dir>/counters.json, atomic write), so a crash or restart neither loses nor repeats a
 * byte: the next sweep resumes from the persisted raw values.
 *
 * counters.json: {"version": 1, "counters": [{"name", "vifname", "ifindex", "present",
 *   "raw": [vif rx_bytes, vif tx_bytes, vif rx_packets, vif tx_packets],
 *   "rx_bytes", "tx_bytes", "rx_packets", "tx_packets"}, ...]}   (totals: guest's view) */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <linux/if_link.h>
#include <linux/netlink.h>
#include <linux/rtnetlink.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "../common/jsonutil.h"
#include "../common/util.h"
#include "../common/validate.h"
#include "net.h"

#define COUNTERS_FILE     "counters.json"
#define COUNTERS_VERSION  1
#define COUNTERS_MAX_SIZE (64u * 1024u * 1024u)
#define DEFAULT_SYSFS_NET "/sys/class/net"

/* ---- accumulator array ------------------------------------------------------------------ */

static int cmp_counter(const void *a, const void *b)
{
	return strcmp(((const net_counter *)a)->name, ((const net_counter *)b)->name);
}

/* Index of name in v[0..n) (sorted), or -1. */
static long find_counter(const net_counter *v, size_t n, const char *name)
{
	size_t lo = 0, hi = n;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		int c = strcmp(v[mid].name, name);
		if (c == 0)
			return (long)mid;
		if (c < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	return -1;
}

static bool counters_path(const net_ctx *ctx, char path[300])
{
	return sfmt(path, 300, "%s/%s", ctx->state_dir, COUNTERS_FILE);
}

/* ---- persistence ------------------------------------------------------------------------ */

/* Writes every accumulator to counters.json atomically. Caller holds ctx->lock. */
static int persist(net_ctx *ctx, char err[NET_ERRLEN])
{
	/* Names and vifnames are validated ([a-z0-9-]), so nothing needs JSON escaping. One
	 * entry is at most ~400 bytes (9 numbers of <= 20 digits, two short names, keys). */
	size_t cap = 64 + ctx->n_counters * 512, len = 0;
	char path[300], *buf = malloc(cap);
	int rc;

	if (!buf) {
		snprintf(err, NET_ERRLEN, "Out of memory while saving the traffic counters.");
		return -ENOMEM;
	}
	len += (size_t)snprintf(buf + len, cap - len, "{\"version\":%d,\"counters\":[",
	                        COUNTERS_VERSION);
	for (size_t i = 0; i < ctx->n_counters; i++) {
		const net_counter *c = &ctx->counters[i];
		len += (size_t)snprintf(
		        buf + len, cap - len,
		        "%s\n{\"name\":\"%s\",\"vifname\":\"%s\",\"ifindex\":%d,\"present\":%s,"
		        "\"raw\":[%" PRIu64 ",%" PRIu64 ",%" PRIu64 ",%" PRIu64 "],"
		        "\"rx_bytes\":%" PRIu64 ",\"tx_bytes\":%" PRIu64 ",\"rx_packets\":%" PRIu64
		        ",\"tx_packets\":%" PRIu64 "}",
		        i ? "," : "", c->name, c->vifname, c->ifindex,
		        c->present ? "true" : "false", c->raw[0], c->raw[1], c->raw[2], c->raw[3],
		        c->rx_bytes, c->tx_bytes, c->rx_packets, c->tx_packets);
	}
	len += (size_t)snprintf(buf + len, cap - len, "]}\n");
	if (len >= cap) { /* cannot happen with the bound above; never write a cut file */
		free(buf);
		snprintf(err, NET_ERRLEN, "The traffic counters did not fit their buffer.");
		return -EOVERFLOW;
	}
	if (!counters_path(ctx, path)) {
		free(buf);
		snprintf(err, NET_ERRLEN, "The state directory path is too long.");
		return -ENAMETOOLONG;
	}
	rc = write_file_atomic(path, buf, len, 0600);
	free(buf);
	if (rc != 0)
		snprintf(err, NET_ERRLEN, "Cannot write %s: %s.", path, strerror(-rc));
	return rc;
}

/* A non-negative JSON integer field. */
static bool get_u64(json_object *obj, const char *key, uint64_t *out)
{
	json_object *v;

	if (!json_object_object_get_ex(obj, key, &v) || !json_object_is_type(v, json_type_int) ||
	    json_object_get_int64(v) < 0)
		return false;
	*out = json_object_get_uint64(v);
	return true;
}

/* Parses one counters.json entry into *c. Returns NULL or why it is invalid. */
static const char *parse_entry(json_object *e, net_counter *c)
{
	json_object *v;
	const char *name;
	uint64_t u;

	memset(c, 0, sizeof(*c));
	if (!json_object_is_type(e, json_type_object))
		return "an entry is not an object";
	if (!json_object_object_get_ex(e, "name", &v) || !json_object_is_type(v, json_type_string))
		return "an entry has no name";
	name = json_object_get_string(v);
	if (!valid_domain_name(name, NULL) || !net_vifname_of(name, c->vifname) ||
	    !sfmt(c->name, sizeof(c->name), "%s", name))
		return "an entry has an invalid name";
	if (!json_object_object_get_ex(e, "vifname", &v) ||
	    !json_object_is_type(v, json_type_string) ||
	    strcmp(json_object_get_string(v), c->vifname) != 0)
		return "an entry's vifname does not match its name";
	if (!get_u64(e, "ifindex", &u) || u > INT_MAX)
		return "an entry has an invalid ifindex";
	c->ifindex = (int)u;
	if (!json_object_object_get_ex(e, "present", &v) ||
	    !json_object_is_type(v, json_type_boolean))
		return "an entry has no present flag";
	c->present = json_object_get_boolean(v);
	if (!json_object_object_get_ex(e, "raw", &v) || !json_object_is_type(v, json_type_array) ||
	    json_object_array_length(v) != 4)
		return "an entry's raw values are not an array of 4";
	for (size_t k = 0; k < 4; k++) {
		json_object *r = json_object_array_get_idx(v, k);
		if (!json_object_is_type(r, json_type_int) || json_object_get_int64(r) < 0)
			return "an entry has a negative or non-integer raw value";
		c->raw[k] = json_object_get_uint64(r);
	}
	if (!get_u64(e, "rx_bytes", &c->rx_bytes) || !get_u64(e, "tx_bytes", &c->tx_bytes) ||
	    !get_u64(e, "rx_packets", &c->rx_packets) || !get_u64(e, "tx_packets", &c->tx_packets))
		return "an entry has a missing or negative total";
	return NULL;
}

/* Parses counters.json text into a sorted heap array. Returns NULL or why it is corrupt. */
static const char *parse_counters(const char *data, size_t len, net_counter **out, size_t *n_out)
{
	json_object *root = json_parse_strict(data, len, NULL), *v, *arr;
	const char *why = NULL;
	net_counter *cs = NULL;
	size_t n = 0;

	*out = NULL;
	*n_out = 0;
	if (!root)
		return "not valid JSON";
	if (!json_object_is_type(root, json_type_object) ||
	    !json_object_object_get_ex(root, "version", &v) ||
	    !json_object_is_type(v, json_type_int) ||
	    json_object_get_int64(v) != COUNTERS_VERSION ||
	    !json_object_object_get_ex(root, "counters", &arr) ||
	    !json_object_is_type(arr, json_type_array)) {
		why = "not a version 1 counters object";
		goto out;
	}
	n = json_object_array_length(arr);
	if (n > 0 && !(cs = calloc(n, sizeof(*cs)))) {
		why = "out of memory";
		goto out;
	}
	for (size_t i = 0; i < n && !why; i++)
		why = parse_entry(json_object_array_get_idx(arr, i), &cs[i]);
	if (!why && n > 1) {
		qsort(cs, n, sizeof(*cs), cmp_counter);
		for (size_t i = 1; i < n && !why; i++)
			if (strcmp(cs[i - 1].name, cs[i].name) == 0)
				why = "a domain appears twice";
	}
out:
	json_object_put(root);
	if (why) {
		free(cs);
		return why;
	}
	*out = cs;
	*n_out = n;
	return NULL;
}

/* Loads counters.json into ctx. A missing file is an empty start; a corrupt one is logged,
 * kept aside as counters.json.corrupt, and counting starts empty. */
static int load_counters(net_ctx *ctx, char err[NET_ERRLEN])
{
	char path[300], aside[320];
	char *data = NULL;
	size_t len = 0;
	const char *why;
	int rc;

	if (!counters_path(ctx, path)) {
		snprintf(err, NET_ERRLEN, "The state directory path is too long.");
		return -ENAMETOOLONG;
	}
	rc = read_file(path, COUNTERS_MAX_SIZE, &data, &len);
	if (rc == -ENOENT)
		return 0;
	if (rc != 0 && rc != -EFBIG) {
		snprintf(err, NET_ERRLEN, "Cannot read %s: %s.", path, strerror(-rc));
		return rc;
	}
	why = rc == -EFBIG ? "too large"
	                   : parse_counters(data, len, &ctx->counters, &ctx->n_counters);
	free(data);
	if (why) {
		snprintf(aside, sizeof(aside), "%s.corrupt", path);
		log_warn("%s is corrupt (%s); traffic counters start from zero, the file is kept "
		         "as %s",
		         path, why, aside);
		if (rename(path, aside) != 0)
			log_warn("cannot rename %s to %s: %s", path, aside, strerror(errno));
	}
	return 0;
}

/* ---- context ---------------------------------------------------------------------------- */

int net_ctx_init(net_ctx *ctx, runner run, bool enabled, const char *sysfs_net,
                 const char *state_dir, char err[NET_ERRLEN])
{
	int rc;

	memset(ctx, 0, sizeof(*ctx));
	err[0] = '\0';
	ctx->run = run;
	ctx->enabled = enabled;
	/* After `xl reboot` xl's monitor re-creates the domain and its hotplug script the vif
	 * some seconds later: on the appliance under QEMU TCG more than 10 s. A bound, not a
	 * delay: a vif that is there is shaped at once. */
	ctx->vif_wait_ms = 60000;
	if (!sfmt(ctx->sysfs_net, sizeof(ctx->sysfs_net), "%s",
	          sysfs_net && *sysfs_net ? sysfs_net : DEFAULT_SYSFS_NET)) {
		snprintf(err, NET_ERRLEN, "The sysfs network directory path is too long.");
		return -ENAMETOOLONG;
	}
	if (!state_dir || !*state_dir) {
		snprintf(err, NET_ERRLEN, "The network state directory is not set.");
		return -EINVAL;
	}
	if (!sfmt(ctx->state_dir, sizeof(ctx->state_dir), "%s", state_dir)) {
		snprintf(err, NET_ERRLEN, "The network state directory path is too long.");
		return -ENAMETOOLONG;
	}
	rc = mkdir_p(ctx->state_dir, 0700);
	if (rc != 0) {
		snprintf(err, NET_ERRLEN, "Cannot create %s: %s.", ctx->state_dir, strerror(-rc));
		return rc;
	}
	rc = load_counters(ctx, err);
	if (rc != 0)
		return rc;
	rc = pthread_mutex_init(&ctx->lock, NULL);
	if (rc == 0) {
		rc = pthread_mutex_init(&ctx->shape_lock, NULL);
		if (rc != 0)
			pthread_mutex_destroy(&ctx->lock);
	}
	if (rc == 0) {
		rc = pthread_mutex_init(&ctx->nf_lock, NULL);
		if (rc != 0) {
			pthread_mutex_destroy(&ctx->lock);
			pthread_mutex_destroy(&ctx->shape_lock);
		}
	}
	if (rc != 0) {
		free(ctx->counters);
		ctx->counters = NULL;
		ctx->n_counters = 0;
		snprintf(err, NET_ERRLEN, "Cannot create a mutex: %s.", strerror(rc));
		return -rc;
	}
	return 0;
}

void net_ctx_dispose(net_ctx *ctx)
{
	free(ctx->counters);
	ctx->counters = NULL;
	ctx->n_counters = 0;
	free(ctx->shapes);
	ctx->shapes = NULL;
	ctx->n_shapes = 0;
	pthread_mutex_destroy(&ctx->lock);
	pthread_mutex_destroy(&ctx->shape_lock);
	pthread_mutex_destroy(&ctx->nf_lock);
}

/* ---- sysfs ------------------------------------------------------------------------------ */

/* Reads one decimal sysfs value (e.g. "12345\n") from dfd/file. */
static bool read_u64_at(int dfd, const char *file, uint64_t *out)
{
	char buf[32];
	int fd = openat(dfd, file, O_RDONLY | O_CLOEXEC);
	ssize_t r;
	uint64_t v = 0;

	if (fd < 0)
		return false;
	r = pread(fd, buf, sizeof(buf) - 1, 0);
	close(fd);
	if (r <= 0)
		return false;
	ssize_t i = 0;
	for (; i < r && buf[i] >= '0' && buf[i] <= '9'; i++) {
		unsigned d = (unsigned)(buf[i] - '0');
		if (v > (UINT64_MAX - d) / 10)
			return false;
		v = v * 10 + d;
	}
	if (i == 0 || (i < r && buf[i] != '\n'))
		return false;
	*out = v;
	return true;
}

/* Reads a vif's ifindex and raw statistics (vif rx_bytes, tx_bytes, rx_packets, tx_packets).
 * Every file is opened relative to one fd of the vif's directory, so all five values come from
 * the same device even if a vif of that name is re-created meanwhile (the old directory then
 * just fails). False when the vif does not exist or vanished while being read. */
static bool read_vif(int netfd, const char *vifname, int *ifindex, uint64_t raw[4])
{
	static const char *const files[4] = {"statistics/rx_bytes", "statistics/tx_bytes",
	                                     "statistics/rx_packets", "statistics/tx_packets"};
	int vfd = openat(netfd, vifname, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	uint64_t idx = 0;
	bool ok;

	if (vfd < 0)
		return false;
	ok = read_u64_at(vfd, "ifindex", &idx) && idx > 0 && idx <= INT_MAX;
	for (size_t k = 0; k < 4 && ok; k++)
		ok = read_u64_at(vfd, files[k], &raw[k]);
	close(vfd);
	*ifindex = (int)idx;
	return ok;
}

/* ---- rtnetlink (the real /sys/class/net) ------------------------------------------------- */

typedef struct link_stat {
	char name[16];
	int ifindex;
	uint64_t raw[4]; /* as sysfs: rx_bytes, tx_bytes, rx_packets, tx_packets */
} link_stat;

typedef struct link_table {
	link_stat *v;
	size_t n, cap;
} link_table;

#define NL_BUF_SIZE (64u * 1024u)

static int cmp_link(const void *a, const void *b)
{
	return strcmp(((const link_stat *)a)->name, ((const link_stat *)b)->name);
}

/* Adds the link in one RTM_NEWLINK message when it is named NET_VIF_PREFIX*. */
static int take_link(link_table *t, const struct nlmsghdr *h)
{
	const struct ifinfomsg *ifi = NLMSG_DATA(h);
	int len = (int)h->nlmsg_len - (int)NLMSG_LENGTH(sizeof(*ifi));
	const char *name = NULL;
	struct rtnl_link_stats64 st;
	bool have_stats = false;

	if (len < 0 || ifi->ifi_index <= 0)
		return 0;
	for (const struct rtattr *a = IFLA_RTA(ifi); RTA_OK(a, len); a = RTA_NEXT(a, len)) {
		size_t plen = RTA_PAYLOAD(a);
		if (a->rta_type == IFLA_IFNAME && plen > 0 && plen <= 16 &&
		    memchr(RTA_DATA(a), '\0', plen))
			name = RTA_DATA(a);
		else if (a->rta_type == IFLA_STATS64 &&
		         plen >= offsetof(struct rtnl_link_stats64, rx_errors)) {
			memset(&st, 0, sizeof(st)); /* memcpy: the payload is only 4-byte aligned */
			memcpy(&st, RTA_DATA(a), plen < sizeof(st) ? plen : sizeof(st));
			have_stats = true;
		}
	}
	if (!name || !have_stats || strncmp(name, NET_VIF_PREFIX, strlen(NET_VIF_PREFIX)) != 0)
		return 0;
	if (t->n == t->cap) {
		size_t ncap = t->cap ? t->cap * 2 : 256;
		link_stat *nv = realloc(t->v, ncap * sizeof(*nv));
		if (!nv)
			return -ENOMEM;
		t->v = nv;
		t->cap = ncap;
	}
	link_stat *l = &t->v[t->n++];
	snprintf(l->name, sizeof(l->name), "%s", name);
	l->ifindex = ifi->ifi_index;
	l->raw[0] = st.rx_bytes;
	l->raw[1] = st.tx_bytes;
	l->raw[2] = st.rx_packets;
	l->raw[3] = st.tx_packets;
	return 0;
}

/* One request/response round of the dump. Returns 0 (*intr set when the kernel says the link
 * list changed meanwhile) or -errno. */
static int dump_once(int fd, uint32_t seq, char *buf, link_table *t, bool *intr)
{
	struct {
		struct nlmsghdr h;
		struct ifinfomsg i;
	} req = {.h = {.nlmsg_len = sizeof(req),
	               .nlmsg_type = RTM_GETLINK,
	               .nlmsg_flags = NLM_F_REQUEST | NLM_F_DUMP,
	               .nlmsg_seq = seq},
	         .i = {.ifi_family = AF_UNSPEC}};

	t->n = 0;
	*intr = false;
	if (send(fd, &req, sizeof(req), 0) != (ssize_t)sizeof(req))
		return -errno;
	for (;;) {
		ssize_t n = recv(fd, buf, NL_BUF_SIZE, MSG_TRUNC);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -errno;
		if (n == 0 || (size_t)n > NL_BUF_SIZE)
			return -EMSGSIZE;
		size_t left = (size_t)n;
		for (struct nlmsghdr *h = (struct nlmsghdr *)buf; NLMSG_OK(h, left);
		     h = NLMSG_NEXT(h, left)) {
			if (h->nlmsg_seq != seq)
				continue;
			if (h->nlmsg_flags & NLM_F_DUMP_INTR)
				*intr = true;
			if (h->nlmsg_type == NLMSG_DONE)
				return 0;
			if (h->nlmsg_type == NLMSG_ERROR) {
				const struct nlmsgerr *e = NLMSG_DATA(h);
				return e->error ? e->error : -EPROTO;
			}
			if (h->nlmsg_type == RTM_NEWLINK) {
				int rc = take_link(t, h);
				if (rc)
					return rc;
			}
		}
	}
}

/* Every NET_VIF_PREFIX* link of the agent's network namespace, sorted by name. A dump the
 * kernel marks interrupted (links came or went meanwhile) is retried twice; after that a link
 * that is missing just counts as absent for this sweep. */
static int dump_links(link_table *t, char err[NET_ERRLEN])
{
	char *buf = malloc(NL_BUF_SIZE);
	int fd = socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_ROUTE), rc = 0;
	bool intr = false;

	if (!buf || fd < 0) {
		rc = !buf ? -ENOMEM : -errno;
		goto out;
	}
	for (uint32_t seq = 1; seq <= 3; seq++) {
		rc = dump_once(fd, seq, buf, t, &intr);
		if (rc || !intr)
			break;
	}
	if (rc == 0 && t->n > 1)
		qsort(t->v, t->n, sizeof(*t->v), cmp_link);
out:
	if (rc)
		snprintf(err, NET_ERRLEN, "Cannot read the network interfaces (rtnetlink): %s.",
		         strerror(-rc));
	if (fd >= 0)
		close(fd);
	free(buf);
	return rc;
}

static bool lookup_link(const link_table *t, const char *vifname, int *ifindex, uint64_t raw[4])
{
	size_t lo = 0, hi = t->n;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		int c = strcmp(t->v[mid].name, vifname);
		if (c == 0) {
			*ifindex = t->v[mid].ifindex;
			memcpy(raw, t->v[mid].raw, sizeof(t->v[mid].raw));
			return true;
		}
		if (c < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	return false;
}

/* Folds one reading into an accumulator (see the file comment). */
static void fold(net_counter *c, int ifindex, const uint64_t raw[4])
{
	bool reset = c->ifindex != ifindex;
	uint64_t d[4];

	for (size_t k = 0; k < 4; k++)
		if (raw[k] < c->raw[k])
			reset = true;
	for (size_t k = 0; k < 4; k++)
		d[k] = reset ? raw[k] : raw[k] - c->raw[k];
	/* raw is the vif's view; totals are the guest's: the vif's tx is what the guest got. */
	c->tx_bytes += d[0];
	c->rx_bytes += d[1];
	c->tx_packets += d[2];
	c->rx_packets += d[3];
	memcpy(c->raw, raw, sizeof(c->raw));
	c->ifindex = ifindex;
	c->present = true;
}

/* Adds a zeroed accumulator for every name not yet known, keeping the array sorted. Caller
 * holds ctx->lock; names are validated. */
static int add_missing(net_ctx *ctx, const char *const *names, size_t n)
{
	size_t known = ctx->n_counters, missing = 0;

	for (size_t i = 0; i < n; i++)
		if (find_counter(ctx->counters, known, names[i]) < 0)
			missing++;
	if (missing == 0)
		return 0;
	net_counter *v = realloc(ctx->counters, (known + missing) * sizeof(*v));
	if (!v)
		return -ENOMEM;
	ctx->counters = v;
	size_t m = known;
	for (size_t i = 0; i < n; i++) {
		if (find_counter(v, known, names[i]) >= 0)
			continue;
		memset(&v[m], 0, sizeof(v[m]));
		snprintf(v[m].name, sizeof(v[m].name), "%s", names[i]);
		net_vifname_of(names[i], v[m].vifname);
		m++;
	}
	qsort(v, m, sizeof(*v), cmp_counter);
	/* A name given twice was appended twice, both zeroed: keep one. */
	size_t k = 0;
	for (size_t i = 0; i < m; i++)
		if (k == 0 || strcmp(v[k - 1].name, v[i].name) != 0)
			v[k++] = v[i];
	ctx->n_counters = k;
	return 0;
}

static int add_u64(json_object *o, const char *key, uint64_t v)
{
	json_object *j = json_object_new_int64(v > INT64_MAX ? INT64_MAX : (int64_t)v);
	return j ? json_object_object_add(o, key, j) : -1;
}

/* The result object for names[0..n). Caller holds ctx->lock. NULL on ENOMEM. */
static json_object *render(const net_ctx *ctx, const char *const *names, size_t n)
{
	json_object *root = json_object_new_object(), *doms = json_object_new_object();

	if (!root || !doms) {
		json_object_put(root);
		json_object_put(doms);
		return NULL;
	}
	if (json_object_object_add(root, "domains", doms) != 0) {
		json_object_put(doms);
		goto fail;
	}
	if (add_u64(root, "sampled_at", (uint64_t)now_unix()) != 0)
		goto fail;
	for (size_t i = 0; i < n; i++) {
		long idx = find_counter(ctx->counters, ctx->n_counters, names[i]);
		if (idx < 0)
			goto fail;
		const net_counter *c = &ctx->counters[idx];
		json_object *o = json_object_new_object();
		if (!o || json_object_object_add(doms, c->name, o) != 0) {
			json_object_put(o);
			goto fail;
		}
		if (json_object_object_add(o, "vifname", json_object_new_string(c->vifname)) != 0 ||
		    json_object_object_add(o, "present", json_object_new_boolean(c->present)) !=
		            0 ||
		    json_object_object_add(o, "ifindex", json_object_new_int(c->ifindex)) != 0 ||
		    add_u64(o, "rx_bytes", c->rx_bytes) != 0 ||
		    add_u64(o, "tx_bytes", c->tx_bytes) != 0 ||
		    add_u64(o, "rx_packets", c->rx_packets) != 0 ||
		    add_u64(o, "tx_packets", c->tx_packets) != 0)
			goto fail;
	}
	return root;
fail:
	json_object_put(root);
	return NULL;
}

int netcount_sweep(net_ctx *ctx, const char *const *names, size_t n, json_object **out,
                   char err[NET_ERRLEN])
{
	bool use_netlink = strcmp(ctx->sysfs_net, DEFAULT_SYSFS_NET) == 0;
	link_table links = {0};
	char vif[16];
	int netfd = -1, rc;

	if (out)
		*out = NULL;
	err[0] = '\0';
	if (n > 0 && !names)
		return -EINVAL;
	for (size_t i = 0; i < n; i++) {
		if (!names[i] || !valid_domain_name(names[i], NULL) ||
		    strlen(names[i]) >= sizeof(ctx->counters[0].name) ||
		    !net_vifname_of(names[i], vif)) {
			snprintf(err, NET_ERRLEN, "'%.64s' is not a domain name with a vif.",
			         names[i] ? names[i] : "(null)");
			return -EINVAL;
		}
	}
	if (!use_netlink) {
		netfd = open(ctx->sysfs_net, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
		if (netfd < 0) {
			rc = -errno;
			snprintf(err, NET_ERRLEN, "Cannot open %s: %s.", ctx->sysfs_net,
			         strerror(errno));
			return rc;
		}
	}

	/* Read under the lock: two sweeps folding in the other order than they read would see
	 * counters going down and count a vif's life twice. */
	pthread_mutex_lock(&ctx->lock);
	if (use_netlink && (rc = dump_links(&links, err)) != 0)
		goto out;
	rc = add_missing(ctx, names, n);
	if (rc != 0) {
		snprintf(err, NET_ERRLEN, "Out of memory while sweeping the traffic counters.");
		goto out;
	}
	for (size_t i = 0; i < n; i++) {
		net_counter *c =
		        &ctx->counters[find_counter(ctx->counters, ctx->n_counters, names[i])];
		uint64_t raw[4];
		int ifindex;
		if (use_netlink ? lookup_link(&links, c->vifname, &ifindex, raw)
		                : read_vif(netfd, c->vifname, &ifindex, raw))
			fold(c, ifindex, raw);
		else
			c->present = false; /* stopped: totals, raw and ifindex stay */
	}
	rc = persist(ctx, err);
	if (rc == 0 && out) {
		*out = render(ctx, names, n);
		if (!*out) {
			rc = -ENOMEM;
			snprintf(err, NET_ERRLEN, "Out of memory while rendering the counters.");
		}
	}
out:
	pthread_mutex_unlock(&ctx->lock);
	if (netfd >= 0)
		close(netfd);
	free(links.v);
	return rc;
}

int netcount_forget(net_ctx *ctx, const char *name, char err[NET_ERRLEN])
{
	int rc = 0;

	err[0] = '\0';
	if (!name || !valid_domain_name(name, NULL)) {
		snprintf(err, NET_ERRLEN, "'%.64s' is not a domain name.", name ? name : "(null)");
		return -EINVAL;
	}
	pthread_mutex_lock(&ctx->lock);
	long idx = find_counter(ctx->counters, ctx->n_counters, name);
	if (idx >= 0) {
		memmove(&ctx->counters[idx], &ctx->counters[idx + 1],
		        (ctx->n_counters - (size_t)idx - 1) * sizeof(ctx->counters[0]));
		ctx->n_counters--;
		rc = persist(ctx, err);
	}
	pthread_mutex_unlock(&ctx->lock);
	return rc;
}
