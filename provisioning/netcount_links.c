/* netcount_links.c — where the traffic counters (netcount.c) read a vif's ifindex and raw
 * statistics: sysfs files relative to directory fds, or one rtnetlink RTM_GETLINK dump of the
 * agent's own namespace for the real /sys/class/net. Read-only: never changes a link, never
 * allocates per file. */
#include <errno.h>
#include <fcntl.h>
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

#include "../common/util.h"
#include "net.h"
#include "netcount_internal.h"

#define NL_BUF_SIZE (64u * 1024u)

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
bool netcount_read_vif(int netfd, const char *vifname, int *ifindex, uint64_t raw[4])
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
int netcount_dump_links(link_table *t, char err[NET_ERRLEN])
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

bool netcount_lookup_link(const link_table *t, const char *vifname, int *ifindex, uint64_t raw[4])
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
