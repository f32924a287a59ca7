#!/usr/bin/env bash
# net.sh BUILD — `make bench`'s network part, inside network namespaces it creates and removes
# (the host's own tables are never touched; packets only between namespaces it made):
#   - per change: applying one VPS's firewall (its table, hooked on its vif) when 1,000 VPS already
#     have theirs (each vif a veth, hooked), against applying one on an empty host and against one
#     bare single-table `iptables-restore --noflush` batch in the same run (alternating, median
#     of 15 each): the ratios (goal <= 1.5 against the bare batch, and no growth with the number
#     of VPS);
#   - per packet: small UDP datagrams/s from a VPS to its neighbour through a real bridge, vifs
#     (veth) and the agent's own rules, with 2 VPS on the host against 1,000 (the two measured
#     VPS are the oldest, applied first), rounds alternating between the two hosts: the ratio
#     (goal >= 0.9);
#   - one counter sweep over 1,000 vifs (veth pairs named like Xen vifs): CPU time (goal <= 50 ms),
#     against one bare RTM_GETLINK dump of the same links, alternating (ratio, goal <= 1.5).
# BENCH_NET_VPS (1000) sets the size, BENCH_PPS_SECONDS (3) and BENCH_PPS_ROUNDS (3) the packet
# rounds. Needs root; otherwise it prints why it is skipped.
set -euo pipefail

build=${1:?usage: tests/bench/net.sh BUILD_DIR}
nb=$build/xvps-netbench
n=${BENCH_NET_VPS:-1000}
secs=${BENCH_PPS_SECONDS:-3}
rounds=${BENCH_PPS_ROUNDS:-3}
if [ "$(id -u)" != 0 ]; then
	echo "bench: network part skipped: needs root (network namespaces, nftables)"
	exit 0
fi
p=xvb$$-
ns=${p}full
empty=${p}empty
cleanup() {
	local x
	for x in $(ip netns list | awk '{print $1}' | grep -- "^$p"); do ip netns del "$x" || true; done
}
trap cleanup EXIT
if ! ip netns add "$ns" 2>/dev/null || ! ip netns add "$empty" 2>/dev/null; then
	echo "bench: network part skipped: ip netns add failed"
	exit 0
fi

# Every VPS has its vif (a veth pair named like a Xen vif), so that each apply hooks it as on a
# real host: FULL holds xvif1..xvif(N+30) (the N, then the 15 + 15 measured), EMPTY the measured.
batch=$(mktemp /tmp/xvps-netbench-batch.XXXXXX)
for i in $(seq 1 "$((n + 30))"); do echo "link add xvif$i type veth peer name xvp$i"; done >"$batch"
ip -n "$ns" -batch "$batch"
for i in $(seq "$((n + 1))" "$((n + 30))"); do echo "link add xvif$i type veth peer name xvp$i"; done >"$batch"
ip -n "$empty" -batch "$batch"
rm -f "$batch"

"$nb" chains "$n" "$empty" "$ns"

# ---- per packet ------------------------------------------------------------------------------
# host H (small, large): namespace ${p}H with bridge xvpsbr0 and vifs xvif1, xvif2 whose peers
# are eth0 of ${p}H-g1 / ${p}H-g2 (MAC and IPv4 of VPS 1 and 2, see netbench.c make_spec).
pps_host() {
	local h=$p$1 g
	ip netns add "$h"
	ip -n "$h" link set lo up
	ip -n "$h" link add xvpsbr0 type bridge
	ip -n "$h" link set xvpsbr0 up
	ip netns exec "$h" sh -c 'for f in iptables ip6tables arptables; do
		echo 1 >/proc/sys/net/bridge/bridge-nf-call-$f; done' 2>/dev/null || true
	for g in 1 2; do
		ip netns add "$h-g$g"
		ip -n "$h" link add "xvif$g" type veth peer name eth0 netns "$h-g$g"
		ip -n "$h" link set "xvif$g" master xvpsbr0 up
		ip -n "$h-g$g" link set lo up
		ip -n "$h-g$g" link set eth0 address "00:16:3e:00:00:0$g" up
		ip -n "$h-g$g" addr add "198.18.0.$g/16" dev eth0
	done
	if [ "$2" -gt 2 ]; then # the other VPS's vifs too, each hooked to its own table
		for i in $(seq 3 "$2"); do echo "link add xvif$i type veth peer name xvp$i"; done >"$tmpd/links"
		ip -n "$h" -batch "$tmpd/links"
	fi
	"$nb" fill "$h" 1 "$2"
}
pps_round() { # HOST: received datagrams/s, VPS 1 -> VPS 2
	local h=$p$1 out
	ip netns exec "$h-g2" "$nb" udp-sink 9000 "$secs" >"$tmpd/sink" &
	local sp=$!
	sleep 0.3
	ip netns exec "$h-g1" "$nb" udp-flood 198.18.0.2 9000 "$((secs + 1))"
	wait "$sp"
	out=$(sed -n 's/^pps //p' "$tmpd/sink")
	echo "${out:-0}"
}
tmpd=$(mktemp -d /tmp/xvps-netbench-pps.XXXXXX)
trap 'cleanup; rm -rf "$tmpd"' EXIT
if pps_host small 2 && pps_host large "$n"; then
	small=() large=()
	for _ in $(seq "$rounds"); do
		small+=("$(pps_round small)")
		large+=("$(pps_round large)")
	done
	echo "bench: udp_pps_2_vps ${small[*]} (rounds)"
	echo "bench: udp_pps_${n}_vps ${large[*]} (rounds)"
	med() { printf '%s\n' "$@" | sort -n | sed -n "$((($# + 1) / 2))p"; }
	awk -v a="$(med "${small[@]}")" -v b="$(med "${large[@]}")" -v n="$n" 'BEGIN {
		printf "bench: udp_pps_ratio %.3f (%d VPS / 2 VPS, medians %d / %d; goal >= 0.9)\n",
			(a > 0 ? b / a : 0), n, b, a }'
else
	echo "bench: per-packet part failed to set up"
fi

ip netns exec "$ns" "$nb" sweep "$n" # xvif1..xvifN exist since the per-change part
