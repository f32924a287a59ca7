/* tc_nl.c — the qdisc and link changes shaping makes, as rtnetlink requests (net.h, net_tc).
 *
 * Issue 17 item 6: under emulation every process start costs a second or more, and shaping
 * started `tc` once per apply (and `tc` twice per device at every removal). Each change here is
 * one request on a NETLINK_ROUTE socket of the calling thread's namespace, built with libmnl:
 *   NET_TC_TBF          RTM_NEWQDISC, NLM_F_CREATE|NLM_F_REPLACE, parent TC_H_ROOT, handle
 *                       major:0, kind "tbf", TCA_TBF_PARMS + TCA_TBF_BURST (+ TCA_TBF_RATE64
 *                       above 2^32-1 bytes/s) — what `tc qdisc replace ... tbf` sends, without
 *                       the rate table: rate.linklayer = TC_LINKLAYER_ETHERNET tells the kernel
 *                       to compute transmit times itself (sch_tbf.c ignores TCA_TBF_RTAB then),
 *                       and TCA_TBF_BURST gives the bucket in bytes (the kernel derives its
 *                       time from the rate), so no tick conversion is needed here;
 *   NET_TC_DEL_ROOT     RTM_DELQDISC, parent TC_H_ROOT;
 *   NET_TC_DEL_INGRESS  RTM_DELQDISC, parent TC_H_INGRESS, handle 0 (any ingress qdisc);
 *   NET_TC_DEL_LINK     RTM_DELLINK of the device.
 * A delete of something absent (ENOENT: no such qdisc or "handle of zero", the default qdisc;
 * ENODEV: no such device) is 0. The kernel's extended ack text, when it sends one, joins the
 * error message, which names the change as the equivalent tc / ip command line. */
#include <errno.h>
#include <libmnl/libmnl.h>
#include <linux/if_link.h>
#include <linux/pkt_sched.h>
#include <linux/rtnetlink.h>
#include <net/if.h>
#include <stdio.h>
#include <string.h>
#include <sys/time.h>
#include <time.h>

#include "net.h"

bool net_tc_line(const net_tc_op *op, char *out, size_t len)
{
	int n = -1;

	switch (op->kind) {
	case NET_TC_TBF:
		n = snprintf(out, len,
		             "tc qdisc replace dev %s root handle %x: tbf rate %llubps burst %u "
		             "limit %u",
		             op->dev, op->major, op->rate_bytes, op->burst, op->limit);
		break;
	case NET_TC_DEL_ROOT:
		n = snprintf(out, len, "tc qdisc del dev %s root", op->dev);
		break;
	case NET_TC_DEL_INGRESS:
		n = snprintf(out, len, "tc qdisc del dev %s ingress", op->dev);
		break;
	case NET_TC_DEL_LINK:
		n = snprintf(out, len, "ip link del %s", op->dev);
		break;
	}
	return n >= 0 && (size_t)n < len;
}

/* The request for op on device ifindex into buf; its header. */
static struct nlmsghdr *build(const net_tc_op *op, int ifindex, char *buf)
{
	struct nlmsghdr *nlh = mnl_nlmsg_put_header(buf);

	nlh->nlmsg_flags = NLM_F_REQUEST | NLM_F_ACK;
	if (op->kind == NET_TC_DEL_LINK) {
		nlh->nlmsg_type = RTM_DELLINK;
		struct ifinfomsg *ifi = mnl_nlmsg_put_extra_header(nlh, sizeof(*ifi));
		ifi->ifi_family = AF_UNSPEC;
		ifi->ifi_index = ifindex;
		return nlh;
	}
	struct tcmsg *tcm = mnl_nlmsg_put_extra_header(nlh, sizeof(*tcm));
	tcm->tcm_family = AF_UNSPEC;
	tcm->tcm_ifindex = ifindex;
	if (op->kind != NET_TC_TBF) {
		nlh->nlmsg_type = RTM_DELQDISC;
		tcm->tcm_parent = op->kind == NET_TC_DEL_INGRESS ? TC_H_INGRESS : TC_H_ROOT;
		return nlh;
	}
	nlh->nlmsg_type = RTM_NEWQDISC;
	nlh->nlmsg_flags |= NLM_F_CREATE | NLM_F_REPLACE;
	tcm->tcm_parent = TC_H_ROOT;
	tcm->tcm_handle = TC_H_MAKE((unsigned)op->major << 16, 0);
	mnl_attr_put_strz(nlh, TCA_KIND, "tbf");

	struct tc_tbf_qopt q;
	memset(&q, 0, sizeof(q));
	q.rate.linklayer = TC_LINKLAYER_ETHERNET;
	q.rate.rate = op->rate_bytes > 0xffffffffull ? 0xffffffffu : (unsigned)op->rate_bytes;
	q.limit = op->limit;
	struct nlattr *nest = mnl_attr_nest_start(nlh, TCA_OPTIONS);
	mnl_attr_put(nlh, TCA_TBF_PARMS, sizeof(q), &q);
	mnl_attr_put_u32(nlh, TCA_TBF_BURST, op->burst);
	if (op->rate_bytes > 0xffffffffull)
		mnl_attr_put_u64(nlh, TCA_TBF_RATE64, op->rate_bytes);
	mnl_attr_nest_end(nlh, nest);
	return nlh;
}

/* The kernel's answer to seq in buf (got bytes): 0 or -errno, with its extended ack text (or
 * "") in msg. */
static int verdict(const char *buf, ssize_t got, unsigned seq, char *msg, size_t msglen)
{
	int left = (int)got;

	msg[0] = '\0';
	for (const struct nlmsghdr *h = (const void *)buf; mnl_nlmsg_ok(h, left);
	     h = mnl_nlmsg_next(h, &left)) {
		if (h->nlmsg_seq != seq || h->nlmsg_type != NLMSG_ERROR)
			continue;
		if (h->nlmsg_len < NLMSG_LENGTH(sizeof(struct nlmsgerr)))
			return -EBADMSG;
		const struct nlmsgerr *e = mnl_nlmsg_get_payload(h);
		if (h->nlmsg_flags & NLM_F_ACK_TLVS) {
			/* NETLINK_CAP_ACK: the request is not echoed, the TLVs follow e->msg. */
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
	return -EBADMSG;
}

/* Sends nlh on a fresh NETLINK_ROUTE socket and reads the kernel's verdict. */
static int roundtrip(struct nlmsghdr *nlh, char *msg, size_t msglen)
{
	char buf[MNL_SOCKET_BUFFER_SIZE];
	struct timeval tv = {.tv_sec = 5};
	int one = 1, rc;
	ssize_t got;
	struct mnl_socket *nl = mnl_socket_open2(NETLINK_ROUTE, SOCK_CLOEXEC);

	msg[0] = '\0';
	if (!nl)
		return -errno;
	mnl_socket_setsockopt(nl, NETLINK_EXT_ACK, &one, sizeof(one));
	mnl_socket_setsockopt(nl, NETLINK_CAP_ACK, &one, sizeof(one));
	/* The kernel answers at once; the timeout only bounds a socket that never does. */
	setsockopt(mnl_socket_get_fd(nl), SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	if (mnl_socket_bind(nl, 0, MNL_SOCKET_AUTOPID) < 0) {
		rc = -errno;
		goto out;
	}
	nlh->nlmsg_seq = (unsigned)time(NULL);
	if (mnl_socket_sendto(nl, nlh, nlh->nlmsg_len) < 0) {
		rc = -errno;
		goto out;
	}
	do
		got = mnl_socket_recvfrom(nl, buf, sizeof(buf));
	while (got < 0 && errno == EINTR);
	rc = got < 0 ? -errno : verdict(buf, got, nlh->nlmsg_seq, msg, msglen);
out:
	mnl_socket_close(nl);
	return rc;
}

static int kernel_tc(const net_tc_op *op, char err[NET_ERRLEN])
{
	char buf[MNL_SOCKET_BUFFER_SIZE], msg[200];
	int ifindex = net_ifindex(op->dev), rc;

	if (ifindex == 0)
		rc = -ENODEV;
	else
		rc = roundtrip(build(op, ifindex, buf), msg, sizeof(msg));
	if (rc == 0 || (op->kind != NET_TC_TBF && (rc == -ENOENT || rc == -ENODEV)))
		return 0;
	char line[160];
	net_tc_line(op, line, sizeof(line));
	snprintf(err, NET_ERRLEN, "`%s` failed: %s%s%s.", line, strerror(-rc), msg[0] ? ": " : "",
	         msg);
	return rc;
}

int net_tc(net_ctx *ctx, const net_tc_op *op, char err[NET_ERRLEN])
{
	char line[160];

	if (!op->dev || !op->dev[0] || strlen(op->dev) >= IFNAMSIZ) {
		snprintf(err, NET_ERRLEN, "A device name must be 1 to %d characters.",
		         IFNAMSIZ - 1);
		return -EINVAL;
	}
	if (op->kind == NET_TC_TBF && (op->rate_bytes == 0 || op->burst == 0)) {
		snprintf(err, NET_ERRLEN, "A tbf needs a rate and a burst above 0.");
		return -EINVAL;
	}
	if (!ctx->tc)
		return kernel_tc(op, err);
	if (!net_tc_line(op, line, sizeof(line))) {
		snprintf(err, NET_ERRLEN, "The change on %s does not fit its line.", op->dev);
		return -EINVAL;
	}
	int rc = ctx->tc(ctx->tc_arg, line, err);
	if (op->kind != NET_TC_TBF && (rc == -ENOENT || rc == -ENODEV))
		rc = 0;
	return rc;
}
