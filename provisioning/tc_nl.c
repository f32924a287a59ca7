/* tc_nl.c — the qdisc and link changes shaping makes, as rtnetlink requests (net.h, net_tc).
 *
 * Issue 17 item 6: under emulation every process start costs a second or more, and shaping
 * started `tc` once per apply (and `tc` twice per device at every removal). Each change here is
 * one request built with libmnl and sent, in the calling thread's namespace, through xvps-vif's
 * own rtnetlink exchange (hypervisor/vif_link.h, vif_rtnl_roundtrip and vif_rtnl_verdict):
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

#include "../hypervisor/vif_link.h"
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

/* op through the kernel. 0 or -errno with err set (the absent ones too: net_tc decides). */
static int kernel_tc(const net_tc_op *op, char err[NET_ERRLEN])
{
	char req[MNL_SOCKET_BUFFER_SIZE], ans[MNL_SOCKET_BUFFER_SIZE], msg[200] = "";
	char lerr[VIF_LINK_ERRLEN], line[160];
	int ifindex = net_ifindex(op->dev), rc = -ENODEV;
	ssize_t got = 0;

	if (ifindex > 0) {
		rc = vif_rtnl_roundtrip(build(op, ifindex, req), ans, sizeof(ans), &got, lerr);
		if (rc == 0 && (rc = vif_rtnl_verdict(ans, got, msg, sizeof(msg))) > 0)
			rc = -EBADMSG; /* an answer that is not an acknowledgement */
	}
	if (rc == 0)
		return 0;
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
	int rc;
	if (!ctx->tc) {
		rc = kernel_tc(op, err);
	} else if (!net_tc_line(op, line, sizeof(line))) {
		snprintf(err, NET_ERRLEN, "The change on %s does not fit its line.", op->dev);
		return -EINVAL;
	} else {
		rc = ctx->tc(ctx->tc_arg, line, err);
	}
	if (op->kind != NET_TC_TBF && (rc == -ENOENT || rc == -ENODEV)) {
		err[0] = '\0'; /* what a delete removes is gone already */
		return 0;
	}
	return rc;
}
