/* sim_host.h — the dev/test dom0 that the agent sets up for the sim driver at start, before it
 * serves: joining the XVPS_NETNS network namespace and the sim bridge. Used only with the sim
 * driver; the xl driver's dom0 is the real one and nothing here may touch it. */
#ifndef XVPS_SIM_HOST_H
#define XVPS_SIM_HOST_H

#include <stddef.h>

/* Longest XVPS_NETNS name (a file under /run/netns). */
#define SIM_NETNS_NAME_MAX 64

/* What `ip netns exec NAME` does, for a process that still has one thread: joins the network
 * namespace /run/netns/<name> (name: valid_file_name, SIM_NETNS_NAME_MAX, no leading '-'),
 * takes a private copy of the mount table and mounts a fresh sysfs on /sys (made private
 * first, so the host's /sys is untouched) so /sys/class/net shows this namespace. / and
 * /run/netns keep their propagation: the namespaces our `ip netns add` children mount under a
 * shared /run/netns stay visible to the rest of the machine. Returns 0, or -EINVAL / -errno
 * with a sentence in err[errlen]. */
int sim_enter_netns(const char *name, char *err, size_t errlen);

/* The sim's dom0 side of its vifs: the bridge (simnet_valid_bridge; created when missing, set
 * up) through `ip` and the runner, and bridged traffic sent through iptables/ip6tables
 * (bridge-nf-call-*, for the physdev matches). Returns 0 or -EINVAL / -EIO with a sentence in
 * err[errlen]; warn[errlen] gets a sentence (else "") when a sysctl could not be set, which
 * leaves bridged traffic outside the firewall but is not fatal. */
int sim_bridge_ensure(const char *bridge, char *err, char *warn, size_t errlen);

#endif
