#!/usr/bin/env bash
# net.sh BUILD — `make bench`'s network part, inside a network namespace it creates and removes
# (the host's own tables are never touched; no packet is sent):
#   - applying one VPS's firewall chains when 1,000 VPS already have theirs, against applying one
#     on an empty host (two namespaces, applies alternating between them, median of 15 each):
#     the ratio (goal <= 2);
#   - one counter sweep over 1,000 vifs (veth pairs named like Xen vifs): CPU time (goal <= 50 ms),
#     against one bare RTM_GETLINK dump of the same links, alternating (ratio, goal <= 1.5).
# Needs root; otherwise it prints why it is skipped.
set -euo pipefail

build=${1:?usage: tests/bench/net.sh BUILD_DIR}
n=${BENCH_NET_VPS:-1000}
if [ "$(id -u)" != 0 ]; then
	echo "bench: network part skipped: needs root (network namespaces, iptables)"
	exit 0
fi
ns=xvbench$$
empty=xvbench$$-empty
if ! ip netns add "$ns" 2>/dev/null || ! ip netns add "$empty" 2>/dev/null; then
	ip netns del "$ns" 2>/dev/null || true
	echo "bench: network part skipped: ip netns add failed"
	exit 0
fi
trap 'ip netns del "$ns" 2>/dev/null || true; ip netns del "$empty" 2>/dev/null || true' EXIT

"$build/xvps-netbench" chains "$n" "$empty" "$ns"

batch=$(mktemp /tmp/xvps-netbench-batch.XXXXXX)
for i in $(seq 1 "$n"); do echo "link add xvif$i type veth peer name xvp$i"; done >"$batch"
ip -n "$ns" -batch "$batch"
rm -f "$batch"
ip netns exec "$ns" "$build/xvps-netbench" sweep "$n"
