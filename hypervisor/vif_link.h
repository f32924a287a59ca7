/* vif_link.h — the few rtnetlink link operations xvps-vif needs (vif_hotplug.h): read a link by
 * name, and change one link's name, MAC address, MTU, bridge master and up/down state in one
 * RTM_NEWLINK request. Plain NETLINK_ROUTE sockets, no process, no library; in the caller's
 * network namespace. */
#ifndef XVPS_VIF_LINK_H
#define XVPS_VIF_LINK_H

#include <stdbool.h>
#include <stdint.h>

#define VIF_LINK_ERRLEN 256

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
