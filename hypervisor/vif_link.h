/* vif_link.h — the few rtnetlink link operations xvps-vif needs (vif_hotplug.h): read a link by
 * name, and change one link's name, MAC address, MTU, bridge master and up/down state in one
 * RTM_NEWLINK request; and the one request-and-answer exchange they use, which the agent's
 * qdisc changes (provisioning/tc_nl.c) use too. Plain NETLINK_ROUTE sockets, no process; in the
 * caller's network namespace. */
#ifndef XVPS_VIF_LINK_H
#define XVPS_VIF_LINK_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#define VIF_LINK_ERRLEN 256

struct nlmsghdr;

/* Sends request h (its nlmsg_len and flags set by the caller; its sequence number set here) on a
 * fresh NETLINK_ROUTE socket, extended acks on and the request not echoed in them, and reads the
 * answer's first datagram into buf (*got bytes). 0, or -errno with err (VIF_LINK_ERRLEN) set. */
int vif_rtnl_roundtrip(struct nlmsghdr *h, char *buf, size_t buflen, ssize_t *got, char *err);

/* The kernel's verdict in the first message of an answer (got bytes of buf): 0 or its -errno
 * when that is an NLMSG_ERROR (the kernel's extended-ack text, when it sent one, into msg[msglen];
 * msg may be NULL); 1 when it is another message (a dump's or a get's answer); -EBADMSG when the
 * answer is short. */
int vif_rtnl_verdict(const char *buf, ssize_t got, char *msg, size_t msglen);

typedef struct vif_link {
	int ifindex;    /* > 0 */
	unsigned mtu;   /* IFLA_MTU, bytes */
	int master;     /* ifindex of the bridge this link is a port of; 0 = none */
	bool up;        /* IFF_UP */
	bool is_bridge; /* IFLA_INFO_KIND "bridge" */
} vif_link;

/* Reads the link called name (1..15 characters). 0; -ENODEV when there is none; other -errno
 * from the kernel with err set. */
int vif_link_get(const char *name, vif_link *out, char *err);

/* One change of link ifindex; each field applies only when set. The kernel applies them in the
 * order address, MTU, name, master, flags (net/core/rtnetlink.c do_setlink), so a rename and
 * an up can go together on a link that is down. */
typedef struct vif_link_change {
	const char *name;   /* new name (1..15 characters); NULL = keep */
	const uint8_t *mac; /* 6 bytes; NULL = keep */
	unsigned mtu;       /* bytes; 0 = keep */
	int master;         /* > 0: the bridge's ifindex; -1: leave the bridge; 0 = keep */
	int up;             /* 1 up, -1 down, 0 = keep */
} vif_link_change;

/* 0, or -errno from the kernel's answer with err naming the link and the change. */
int vif_link_set(int ifindex, const vif_link_change *c, char *err);

#endif
