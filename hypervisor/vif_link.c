/* vif_link.c — rtnetlink link read and change for xvps-vif (vif_link.h). */
#include "vif_link.h"

#include <errno.h>
#include <libmnl/libmnl.h>
#include <linux/if.h>
#include <linux/if_link.h>
#include <linux/netlink.h>
#include <linux/rtnetlink.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "../common/util.h"

#define errf(err, ...) errfmt(err, VIF_LINK_ERRLEN, __VA_ARGS__)

typedef struct nlreq {
	struct nlmsghdr nh;
	struct ifinfomsg ifi;
	char attrs[256];
} nlreq;

static int add_attr(nlreq *r, unsigned short type, const void *data, size_t len)
{
	size_t at = NLMSG_ALIGN(r->nh.nlmsg_len);
	size_t alen = RTA_LENGTH(len);

	if (at + RTA_ALIGN(alen) > sizeof(*r))
		return -EOVERFLOW;
	struct rtattr *a = (struct rtattr *)((char *)r + at);
	a->rta_type = type;
	a->rta_len = (unsigned short)alen;
	if (len)
		memcpy(RTA_DATA(a), data, len);
	r->nh.nlmsg_len = (unsigned)(at + RTA_ALIGN(alen));
	return 0;
}

static bool name_ok(const char *name)
{
	size_t n = name ? strlen(name) : 0;

	return n >= 1 && n < IFNAMSIZ;
}

int vif_rtnl_roundtrip(struct nlmsghdr *h, char *buf, size_t buflen, ssize_t *got, char *err)
{
	struct sockaddr_nl sa = {.nl_family = AF_NETLINK};
	struct timeval tv = {.tv_sec = 5};
	int fd = socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_ROUTE);
	int one = 1, rc = 0;

	if (fd < 0) {
		rc = -errno;
		errf(err, "rtnetlink: %s", strerror(-rc));
		return rc;
	}
	/* The kernel answers at once; the timeout only bounds a netlink socket that never does. */
	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	/* The kernel's own words in an error answer, without the request echoed before them. */
	setsockopt(fd, SOL_NETLINK, NETLINK_EXT_ACK, &one, sizeof(one));
	setsockopt(fd, SOL_NETLINK, NETLINK_CAP_ACK, &one, sizeof(one));
	h->nlmsg_seq = (unsigned)time(NULL);
	if (sendto(fd, h, h->nlmsg_len, 0, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
		rc = -errno;
	} else {
		do
			*got = recv(fd, buf, buflen, 0);
		while (*got < 0 && errno == EINTR);
		if (*got < 0)
			rc = -errno;
	}
	close(fd);
	if (rc)
		errf(err, "rtnetlink: %s", strerror(-rc));
	return rc;
}

int vif_rtnl_verdict(const char *buf, ssize_t got, char *msg, size_t msglen)
{
	const struct nlmsghdr *h = (const struct nlmsghdr *)buf;

	if (msg && msglen)
		msg[0] = '\0';
	if (got < 0 || !NLMSG_OK(h, (unsigned)got))
		return -EBADMSG;
	if (h->nlmsg_type != NLMSG_ERROR)
		return 1;
	if (h->nlmsg_len < NLMSG_LENGTH(sizeof(struct nlmsgerr)))
		return -EBADMSG;
	const struct nlmsgerr *e = NLMSG_DATA(h);
	if (msg && msglen && (h->nlmsg_flags & NLM_F_ACK_TLVS)) {
		/* NETLINK_CAP_ACK: the TLVs follow e->msg, the request's header alone */
		const struct nlattr *a;
		mnl_attr_for_each(a, h, sizeof(*e))
		{
			if (mnl_attr_get_type(a) == NLMSGERR_ATTR_MSG &&
			    mnl_attr_validate(a, MNL_TYPE_NUL_STRING) == 0)
				snprintf(msg, msglen, "%s", mnl_attr_get_str(a));
		}
	}
	return e->error;
}

static void parse_link(const struct nlmsghdr *h, vif_link *out)
{
	const struct ifinfomsg *ifi = NLMSG_DATA(h);
	int len = (int)h->nlmsg_len - (int)NLMSG_LENGTH(sizeof(*ifi));

	memset(out, 0, sizeof(*out));
	out->ifindex = ifi->ifi_index;
	out->up = (ifi->ifi_flags & IFF_UP) != 0;
	for (const struct rtattr *a = IFLA_RTA(ifi); RTA_OK(a, len); a = RTA_NEXT(a, len)) {
		if (a->rta_type == IFLA_MTU && RTA_PAYLOAD(a) >= 4)
			memcpy(&out->mtu, RTA_DATA(a), 4);
		else if (a->rta_type == IFLA_MASTER && RTA_PAYLOAD(a) >= 4)
			memcpy(&out->master, RTA_DATA(a), 4);
		else if (a->rta_type == IFLA_LINKINFO) {
			int il = (int)RTA_PAYLOAD(a);
			for (const struct rtattr *b = RTA_DATA(a); RTA_OK(b, il);
			     b = RTA_NEXT(b, il))
				if (b->rta_type == IFLA_INFO_KIND && RTA_PAYLOAD(b) >= 6 &&
				    memcmp(RTA_DATA(b), "bridge", 6) == 0)
					out->is_bridge = true;
		}
	}
}

int vif_link_get(const char *name, vif_link *out, char *err)
{
	nlreq r = {0};
	char buf[8192];
	ssize_t got = 0;
	int rc;

	if (!name_ok(name)) {
		errf(err, "not a link name");
		return -EINVAL;
	}
	r.nh.nlmsg_len = NLMSG_LENGTH(sizeof(r.ifi));
	r.nh.nlmsg_type = RTM_GETLINK;
	r.nh.nlmsg_flags = NLM_F_REQUEST;
	r.ifi.ifi_family = AF_UNSPEC;
	unsigned ext = RTEXT_FILTER_SKIP_STATS;
	if (add_attr(&r, IFLA_IFNAME, name, strlen(name) + 1) ||
	    add_attr(&r, IFLA_EXT_MASK, &ext, sizeof(ext)))
		return -EOVERFLOW;
	rc = vif_rtnl_roundtrip(&r.nh, buf, sizeof(buf), &got, err);
	if (rc)
		return rc;
	const struct nlmsghdr *h = (const struct nlmsghdr *)buf;
	if (!NLMSG_OK(h, (unsigned)got)) {
		errf(err, "rtnetlink: short answer for %s", name);
		return -EBADMSG;
	}
	rc = vif_rtnl_verdict(buf, got, NULL, 0);
	if (rc == -ENODEV)
		return rc;
	if (rc <= 0) {
		errf(err, "cannot read link %s: %s", name, strerror(rc ? -rc : EBADMSG));
		return rc ? rc : -EBADMSG;
	}
	if (h->nlmsg_type != RTM_NEWLINK || h->nlmsg_len < NLMSG_LENGTH(sizeof(struct ifinfomsg))) {
		errf(err, "rtnetlink: unexpected answer for %s", name);
		return -EBADMSG;
	}
	parse_link(h, out);
	return 0;
}

int vif_link_set(int ifindex, const vif_link_change *c, char *err)
{
	nlreq r = {0};
	char buf[1024];
	ssize_t got = 0;
	int rc;

	if (ifindex <= 0 || (c->name && !name_ok(c->name))) {
		errf(err, "invalid link change");
		return -EINVAL;
	}
	r.nh.nlmsg_len = NLMSG_LENGTH(sizeof(r.ifi));
	r.nh.nlmsg_type = RTM_NEWLINK;
	r.nh.nlmsg_flags = NLM_F_REQUEST | NLM_F_ACK;
	r.ifi.ifi_family = AF_UNSPEC;
	r.ifi.ifi_index = ifindex;
	if (c->up) {
		r.ifi.ifi_change = IFF_UP;
		r.ifi.ifi_flags = c->up > 0 ? IFF_UP : 0;
	}
	if ((c->name && add_attr(&r, IFLA_IFNAME, c->name, strlen(c->name) + 1)) ||
	    (c->mac && add_attr(&r, IFLA_ADDRESS, c->mac, 6)) ||
	    (c->mtu && add_attr(&r, IFLA_MTU, &c->mtu, sizeof(c->mtu))))
		return -EOVERFLOW;
	if (c->master) {
		int m = c->master > 0 ? c->master : 0; /* IFLA_MASTER 0 = leave the bridge */
		if (add_attr(&r, IFLA_MASTER, &m, sizeof(m)))
			return -EOVERFLOW;
	}
	rc = vif_rtnl_roundtrip(&r.nh, buf, sizeof(buf), &got, err);
	if (rc)
		return rc;
	rc = vif_rtnl_verdict(buf, got, NULL, 0);
	if (rc != 0) {
		rc = rc > 0 ? -EBADMSG : rc;
		errf(err, "cannot change link %d%s%s: %s", ifindex, c->name ? " to " : "",
		     c->name ? c->name : "", strerror(-rc));
		return rc;
	}
	return 0;
}
