#!/usr/bin/env bash
# tests/netns/run.sh BUILD — the real-kernel networking suite (issue 4, "Tests on the real
# kernel"). Everything lives in network namespaces this script creates, named with the per-run
# prefix "xn<pid>-": a "dom0" namespace where xvps-agent runs (XVPS_NETNS) with the sim
# hypervisor and networking on (bridge xvpsbr0, vifs xvifN, ifbs xifbN, an nftables table
# `netdev xvps-xvifN` per VPS hooked on its vif, the guard `bridge xvps`), and one guest namespace per VPS that the agent creates (<prefix>xvps-N,
# guest end eth0). Packets are crafted and counted with BUILD/xvps-nettest. Documentation
# addresses only (192.0.2.0/24, 2001:db8::/32). Each case prints one PASS or FAIL line with its
# reason; the script exits 1 when any case failed, 0 when all passed or when skipped (not root,
# or `ip netns add` does not work here). The trap removes every namespace, process and file it
# made, also on failure; it signals only pids it started (and sim guests of its own agent).
# NETNS_CASES="a j" runs only those cases (development). Takes about 3 to 5 minutes.
set -u

build=${1:?usage: tests/netns/run.sh BUILD_DIR}
cd "$(dirname "$0")/../.." || exit 2
build=$(cd "$build" && pwd) || exit 2

# shellcheck disable=SC2034 # read by scripts/lib.sh
lib_tag=test-netns
. scripts/lib.sh # start_agent, stop_servers, wait_until, netns_delete, sanitizer_reports
netns_suite_need "network namespaces, iptables, tc" xvps-agent xvps-simguest xvps-nettest
for t in ip nsenter iptables-save ip6tables-save ebtables-save nft tc jq; do
	command -v "$t" >/dev/null || { echo "test-netns: SKIP: $t is not installed"; exit 0; }
done

export ASAN_OPTIONS=detect_leaks=1:abort_on_error=0:halt_on_error=1
export UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1
N=$build/xvps-nettest
p="xn$$-"          # per-run prefix of every namespace (simnet allows [a-z0-9-]{0,16})
dom0="${p}dom0"
br=xvpsbr0
tmp=
declare -A bgpid=()
failed=()
t_start=$SECONDS

cleanup() {
	local pid
	trap - EXIT INT TERM
	for pid in "${bgpid[@]}"; do kill -TERM "$pid" 2>/dev/null; done
	for pid in $(jobs -p); do kill -TERM "$pid" 2>/dev/null; done
	stop_servers
	netns_suite_end "$p"
}
netns_suite_begin "$dom0"
sock=$state/agent.sock
log=$tmp/agent.log
mkdir -m 700 "$state"

# ---- helpers -------------------------------------------------------------------------------

say() { echo "  $*"; }
reason=
bad() { reason+="${reason:+; }$*"; return 1; }
run_case() {
	local id=$1 title=$2 t0=$SECONDS
	shift 2
	reason=
	echo "---- $id: $title"
	if "$@" && [ -z "$reason" ]; then
		echo "PASS $id: $title ($((SECONDS - t0)) s)"
	else
		echo "FAIL $id: $title: ${reason:-failed without a reason} ($((SECONDS - t0)) s)"
		failed+=("$id")
	fi
}

# The agent runs in dom0's network namespace from the start (nsenter keeps the mount namespace,
# so the guest namespaces its `ip netns add` mounts are visible here) and enters it again itself.
# Up once its socket answers host.info (30 s at the most).
start_dom0_agent() {
	rm -f "$sock"
	local -a agent_launcher=(nsenter --net="/run/netns/$dom0")
	local agent_wait_tries=300
	if start_agent "$build" "$state" "$log" XVPS_HYPERVISOR=sim XVPS_NET=on XVPS_NETNS="$dom0" \
		XVPS_SIM_NETNS_PREFIX="$p" XVPS_BRIDGE="$br" XVPS_SIMGUEST="$build/xvps-simguest" &&
		wait_until 300 "$agent_pid" agent_answers; then
		return 0
	fi
	say "xvps-agent did not start; last lines of its log:"
	tail -n 15 "$log" | sed 's/^/    /'
	return 1
}

agent_answers() { call '{"op":"host.info"}' >/dev/null; }
call() { "$N" agent-call "$sock" "$1" --timeout-ms "${2:-300000}"; }
# call_ok JSON: the response must say ok; a "busy" answer is retried (the agent's own limit).
call_ok() {
	local out
	for _ in $(seq 10); do
		out=$(call "$1") && { echo "$out"; return 0; }
		[ "$(jq -r .code <<<"$out" 2>/dev/null)" = busy ] || break
		sleep 1
	done
	echo "$out"
	return 1
}

d0() { ip netns exec "$dom0" "$@"; }
gns() { echo "${p}xvps-$1"; }
nt() { local n=$1; shift; ip netns exec "$(gns "$n")" "$N" "$@"; } # nettest in guest n

mac_of() { printf '00:16:3e:00:%02x:%02x' $(($1 / 256)) $(($1 % 256)); }
ebmac_of() { printf '0:16:3e:0:%x:%x' $(($1 / 256)) $(($1 % 256)); } # ebtables-save's form
ip4_of() { echo "192.0.2.$(($1 < 100 ? $1 + 10 : $1))"; }
ip6_of() { printf '2001:db8:42::1:%x' "$1"; }

# spec N [JSON fields...]: a VPS_SPEC like the panel sends, one IPv4 and one IPv6 address.
spec() {
	local n=$1 extra=
	shift
	for kv in "$@"; do extra+=",$kv"; done
	printf '{"name":"xvps-%d","hostname":"vm%d","type":"pvh","vcpus":1,"memory_mib":128,' "$n" "$n"
	printf '"disk_gib":1,"template":"tpl-1","mac":"%s","vifname":"xvif%d",' "$(mac_of "$n")" "$n"
	printf '"ipv4":["%s"],"ipv6":["%s"],"power":"running"%s}' "$(ip4_of "$n")" "$(ip6_of "$n")" \
		"$extra"
}
ensure() { call_ok "{\"op\":\"vps.ensure\",\"spec\":$(spec "$@")}"; }
remove() { call_ok "{\"op\":\"vps.remove\",\"name\":\"xvps-$1\"}"; }

# Waits (generously) until guest n's eth0 is up with carrier and its vif is a bridge port.
guest_ready() {
	for _ in $(seq 300); do
		ip -n "$(gns "$1")" -o link show eth0 2>/dev/null | grep -q LOWER_UP &&
			ip -n "$dom0" -o link show "xvif$1" 2>/dev/null | grep -q "master $br" &&
			return 0
		sleep 0.1
	done
	return 1
}

# bg NAME NS NETTEST-ARGS...: starts nettest in NS in the background and waits until it
# listens (--ready-file). bgwait NAME: its exit status; its output line in $bgout.
bgout=
bg() {
	local name=$1 ns=$2
	shift 2
	rm -f "$tmp/$name.ready" "$tmp/$name.out"
	ip netns exec "$ns" "$N" "$@" --ready-file "$tmp/$name.ready" >"$tmp/$name.out" 2>&1 &
	bgpid[$name]=$!
	for _ in $(seq 300); do
		[ -e "$tmp/$name.ready" ] && return 0
		kill -0 "${bgpid[$name]}" 2>/dev/null || break
		sleep 0.05
	done
	say "$name did not start: $(cat "$tmp/$name.out")"
	return 1
}
bgwait() {
	local rc
	wait "${bgpid[$1]}"
	rc=$?
	unset "bgpid[$1]"
	bgout=$(cat "$tmp/$1.out")
	say "$bgout"
	return $rc
}

# ---- rule snapshots ------------------------------------------------------------------------

# The agent's nftables tables, one line per object in the style of *-save: the guard `bridge
# xvps` (its chains as ":CHAIN") and each domain's `netdev xvps-xvifN` (its chains as
# ":xvps-xvifN/CHAIN", a base chain with its hook line first), "-A CHAIN RULE"; no handles, no
# counters; other tables left out; the rules of a domain's "rate" chain (its policer, shaping:
# see police) left out too. Every line of a domain names its vif.
nftsave() {
	d0 nft -s list ruleset 2>&1 | awk '
		/^table / { t = ($2 == "bridge" && $3 == "xvps") ? "" : ($2 == "netdev" && $3 ~ /^xvps-xvif/) ? $3 "/" : "skip"; next }
		t == "skip" { next }
		/^\t(chain|map|set) / { kind = $1; name = t $2; print (kind == "chain" ? ":" : kind " ") name; next }
		/^\t\t[^\t]/ && name !~ /\/rate$/ { sub(/^\t+/, ""); print "-A " name " " $0 }'
}
# police N: the policer of domain N's traffic from its guest (its table's chain "rate").
police() { d0 nft list chain netdev "xvps-xvif$1" rate 2>&1 | grep -o 'limit rate over .*drop'; }
# The state of one table (4, 6, e, n: the agent's nftables table) or of tc in dom0: no comments,
# no counters. 4, 6 and e are the host's own iptables/ip6tables/ebtables: the agent leaves them
# as they were.
snap() {
	case $1 in
	4) d0 iptables-save ;;
	6) d0 ip6tables-save ;;
	e) d0 ebtables-save ;;
	n) nftsave ;;
	tc) d0 tc qdisc show ;;
	esac 2>&1 | grep -v '^#' | sed -E 's/\[[0-9]+:[0-9]+\]/[0:0]/g; s/ refcnt [0-9]+//'
}
tname() {
	case $1 in 4) echo iptables-save ;; 6) echo ip6tables-save ;; e) echo ebtables-save ;;
	n) echo "nft list ruleset (bridge xvps, netdev xvps-*)" ;; *) echo "tc qdisc show" ;; esac
}
snap_all() { local t; for t in 4 6 e n tc; do snap "$t" >"$tmp/$1.$t"; done; }
# same_as_base WHAT [BASE]: every table and tc read as at BASE (default: the agent's start).
same_as_base() {
	local t ok=0 b=${2:-base}
	snap_all "$1"
	for t in 4 6 e n tc; do
		if ! diff -u "$tmp/$b.$t" "$tmp/$1.$t" >"$tmp/$1.$t.diff"; then
			bad "$(tname "$t") differs from $([ "$b" = base ] && echo "the baseline" || echo "before")"
			sed -n '3,40p' "$tmp/$1.$t.diff" | sed 's/^/    /'
			ok=1
		fi
	done
	return $ok
}
# leftovers [N...]: vifs, ifbs or guest namespaces still present (of domains N, or of any).
leftovers() {
	local l re='[0-9]+'
	[ $# -gt 0 ] && re="($(tr ' ' '|' <<<"$*"))"
	l=$(ip -n "$dom0" -o link show 2>/dev/null | awk -F': ' '{print $2}' |
		grep -E "^(xvif|xifb)$re([@-]|$)" | tr '\n' ' ')
	l+=$(ip netns list | awk '{print $1}' | grep -E -- "^${p}xvps-$re\$" | tr '\n' ' ')
	[ -z "$l" ] || { bad "left behind: $l"; return 1; }
}

# ip6hex_of N: ip6_of N as the 128-bit integer nft prints for a raw match (the NA target).
ip6hex_of() { printf '0x20010db800420000000000000001%04x' "$1"; }
# dom_lines FILE N: the lines of a save that belong to domain N, with its vifname, MAC and
# addresses replaced by placeholders, so every domain of the same shape reads the same.
dom_lines() {
	local n=$2
	grep -E "xvif$n([^0-9]|$)" "$1" | sed -E "s/xvif$n([^0-9]|$)/xvifN\1/g;
		s/$(mac_of "$n")/MAC/gI; s/$(ebmac_of "$n")([^0-9a-f:]|$)/MAC\1/gI;
		s/$(ip4_of "$n" | sed 's/\./\\./g')([^0-9]|$)/IP4\1/g; s/$(ip6_of "$n")([^0-9a-f:]|$)/IP6\1/g;
		s/$(ip6hex_of "$n")([^0-9a-f]|$)/IP6HEX\1/g"
}
# ruleset_ok WHAT BASE N...: the tables hold exactly BASE's lines plus, for each domain N,
# lines identical (after dom_lines) to the reference domain's (the packet-tested VPS 1): one
# table (one "filter" chain) per domain in nftables, none in iptables/ip6tables/ebtables.
ruleset_ok() {
	local what=$1 b=$2 t n ok=0 re want chains expect
	shift 2
	re="xvif($(tr ' ' '|' <<<"$*"))([^0-9]|\$)"
	snap_all "$what"
	for t in 4 6 e n; do
		expect=0
		[ "$t" = n ] && expect=$#
		if ! grep -vE "$re" "$tmp/$what.$t" | diff -u <(grep -vE "$re" "$tmp/$b.$t") - \
			>"$tmp/$what.$t.diff"; then
			bad "table $t: beside the domains' own lines, it differs from before (duplicate hooks?)"
			sed -n '3,20p' "$tmp/$what.$t.diff" | sed 's/^/    /'
			ok=1
		fi
		chains=$(grep -cE "^:xvps-xvif($(tr ' ' '|' <<<"$*"))/filter\$" "$tmp/$what.$t")
		[ "$chains" -eq "$expect" ] || { bad "table $t: $chains domain chains, expected $expect"; ok=1; }
		for n in "$@"; do
			if ! dom_lines "$tmp/$what.$t" "$n" | diff -u "$tmp/ref.$t" - >"$tmp/$what.$t.$n.diff"; then
				bad "table $t: domain xvps-$n's lines differ from the reference"
				sed -n '3,12p' "$tmp/$what.$t.$n.diff" | sed 's/^/    /'
				ok=1
			fi
		done
		want=$(grep -c . "$tmp/ref.$t")
		say "table $t: $chains domain chains (expected $expect), the reference has $want lines"
	done
	return $ok
}

# counters N: "tx_bytes rx_bytes tx_packets rx_packets present" of xvps-N (guest's view).
counters() {
	call_ok "{\"op\":\"net.counters\",\"names\":[\"xvps-$1\"]}" |
		jq -r ".result.domains[\"xvps-$1\"] | \"\(.tx_bytes) \(.rx_bytes) \(.tx_packets) \(.rx_packets) \(.present)\""
}

# measure FROM TO [SECONDS SKIP_MS]: Mbit/s of a SECONDS-long (4) TCP stream from guest FROM to
# guest TO, its first SKIP_MS (700) left out ("" on failure).
measure() {
	local rate
	bg "recv$2" "$(gns "$2")" tcp-recv 5001 --timeout-ms 60000 --skip-ms "${4:-700}" || return 1
	nt "$1" tcp-send "$(ip4_of "$2")" 5001 --seconds "${3:-4}" --timeout-ms 30000 | sed 's/^/  /'
	bgwait "recv$2" || return 1
	rate=$(sed -n 's/.*rate_mbit=\([0-9.]*\).*/\1/p' <<<"$bgout")
	[ -n "$rate" ] && echo "$rate" >"$tmp/rate"
}
within() { awk -v r="$1" -v w="$2" 'BEGIN { exit !(r >= w * 0.85 && r <= w * 1.15) }'; }
# rate_ok FROM TO WANT WHAT [policed]: a stream from FROM to TO runs at WANT Mbit/s ±15 %. To a
# guest the vif's tbf (a 10 ms bucket) shapes it: a 4 s stream, the first 0.7 s left out. From a
# guest ("policed") the policer in its table (nftables' byte `limit`) does, whose bucket holds one
# second of the rate on top of its burst (the kernel's nft_limit: tokens_max = unit * (rate +
# burst) / rate): a window of T seconds may read up to that bucket / T above the rate (tokens
# saved during a stall before the window and spent in it), or below it by what one episode of
# TCP losses costs (a policer drops whole GSO packets and their retransmissions; one
# retransmission timeout, 200 ms at least, then slow start: 0.8 s of traffic in a 4 s window,
# 15.89 of 20 Mbit/s, one run in about ten; with an 8 s window a bucket saved before it read
# 22.21). So a 19 s stream, its first 3 s left out: 16 s, within which either effect stays
# under 10 %.
rate_ok() {
	local from=$1 to=$2 want=$3 what=$4 r
	rm -f "$tmp/rate"
	if [ "${5:-}" = policed ]; then
		measure "$from" "$to" 19 3000
	else
		measure "$from" "$to"
	fi && r=$(cat "$tmp/rate") || { bad "$what: no measurement"; return 1; }
	if within "$r" "$want"; then
		say "$what: $r Mbit/s (plan $want, ±15%)"
	else
		bad "$what: $r Mbit/s, not within ±15% of $want"
	fi
}
tc_dev() { d0 tc qdisc show dev "$1" 2>&1 | tr '\n' ';'; }

# ---- setup ----------------------------------------------------------------------------------

setup_err=
echo "test-netns: prefix $p, state $state"
if ! start_dom0_agent; then
	setup_err="xvps-agent did not start"
else
	snap_all base
	say "baseline: $(grep -c . "$tmp/base.4") iptables, $(grep -c . "$tmp/base.6") ip6tables," \
		"$(grep -c . "$tmp/base.e") ebtables, $(grep -c . "$tmp/base.tc") tc lines"
	grep -q "^:prerouting" "$tmp/base.n" || say "note: no nftables table bridge xvps after start"
	out=$(call_ok '{"op":"template.ensure","name":"tpl-1","disk_gib":1}') ||
		setup_err="template.ensure: $out"
fi
if [ -z "$setup_err" ]; then
	for n in 1 2 3; do
		case $n in
		1) out=$(ensure 1 '"net_mbit":20') ;;
		2) out=$(ensure 2) ;;
		3) out=$(ensure 3 '"smtp_block":true') ;;
		esac || { setup_err="vps.ensure xvps-$n: $out"; break; }
		say "xvps-$n: $(jq -c '.result | {state, net}' <<<"$out")"
		[ "$(jq -r .result.net.enabled <<<"$out")" = true ] ||
			{ setup_err="vps.ensure xvps-$n: the status says networking is not enabled: $out"; break; }
	done
fi
if [ -z "$setup_err" ]; then
	for n in 1 2 3; do
		guest_ready "$n" || { setup_err="guest xvps-$n: no namespace $(gns "$n") with eth0 up behind xvif$n on $br"; break; }
	done
fi
[ -n "$setup_err" ] && echo "test-netns: setup failed: $setup_err"
need_setup() { [ -z "$setup_err" ] || bad "setup failed: $setup_err"; }
A=1 B=2 C=3

# ---- cases ---------------------------------------------------------------------------------

case_a() {
	need_setup || return
	local fam src dst
	nt $A ping "$(ip4_of $B)" | sed 's/^/  /'; [ "${PIPESTATUS[0]}" = 0 ] || bad "IPv4 ping A->B"
	nt $B ping "$(ip4_of $A)" | sed 's/^/  /'; [ "${PIPESTATUS[0]}" = 0 ] || bad "IPv4 ping B->A"
	nt $A ping "$(ip6_of $B)" | sed 's/^/  /'; [ "${PIPESTATUS[0]}" = 0 ] || bad "IPv6 ping A->B"
	nt $B ping "$(ip6_of $A)" | sed 's/^/  /'; [ "${PIPESTATUS[0]}" = 0 ] || bad "IPv6 ping B->A"
	for fam in 4 6; do
		src=$(ip${fam}_of $A) dst=$(ip${fam}_of $B)
		bg sniffB "$(gns $B)" sniff eth0 --timeout-ms 10000 --stop-after 1 \
			--match udp-payload "legit$fam-$$" || { bad "sniffer on B"; continue; }
		nt $A send-udp eth0 --smac "$(mac_of $A)" --dmac "$(mac_of $B)" --src "$src" \
			--dst "$dst" --dport 9 --count 3 --payload "legit$fam-$$" | sed 's/^/  /'
		bgwait sniffB || bad "legitimate IPv$fam UDP A->B did not arrive"
	done
}

# Spoofed frames from A: to B (sniffed on B's eth0) and to dom0 (a UDP socket on an address
# this case gives the bridge, after a legitimate control datagram proved that path).
case_b() {
	need_setup || return
	local brmac a4=$(ip4_of $A) a6=$(ip6_of $A) c4=$(ip4_of $C) c6=$(ip6_of $C)
	local fake=00:16:3e:de:ad:01 k
	local -a kinds=(ip4 ip6 mac) smacs=("$(mac_of $A)" "$(mac_of $A)" "$fake")
	local -a srcs=("$c4" "$c6" "$a4") dsts=("$(ip4_of $B)" "$(ip6_of $B)" "$(ip4_of $B)")
	local -a d0dst=(192.0.2.254 2001:db8:42::fe 192.0.2.254)
	d0 ip addr add 192.0.2.254/24 dev "$br" && d0 ip addr add 2001:db8:42::fe/64 dev "$br" nodad ||
		{ bad "cannot give dom0's bridge a test address"; return 1; }
	brmac=$(d0 cat "/sys/class/net/$br/address")
	bg d0legit "$dom0" udp-recv 7770 --timeout-ms 15000 --stop-after 2 --match "d0legit-$$" ||
		bad "receiver in dom0"
	nt $A send-udp eth0 --smac "$(mac_of $A)" --dmac "$brmac" --src "$a4" --dst 192.0.2.254 \
		--dport 7770 --count 3 --payload "d0legit-$$" | sed 's/^/  /'
	nt $A send-udp eth0 --smac "$(mac_of $A)" --dmac "$brmac" --src "$a6" \
		--dst 2001:db8:42::fe --dport 7770 --count 3 --payload "d0legit-$$" | sed 's/^/  /'
	bgwait d0legit || bad "control: legitimate datagrams from A never reached dom0"
	for k in 0 1 2; do
		bg "sniff$k" "$(gns $B)" sniff eth0 --timeout-ms 4000 \
			--match udp-payload "spoof-${kinds[k]}-$$" || bad "sniffer on B"
		bg "d0r$k" "$dom0" udp-recv $((7771 + k)) --timeout-ms 4000 \
			--match "spoof-${kinds[k]}-$$" || bad "receiver in dom0"
	done
	for k in 0 1 2; do
		nt $A send-udp eth0 --smac "${smacs[k]}" --dmac "$(mac_of $B)" --src "${srcs[k]}" \
			--dst "${dsts[k]}" --dport 9 --count 3 --payload "spoof-${kinds[k]}-$$" |
			sed 's/^/  /'
		nt $A send-udp eth0 --smac "${smacs[k]}" --dmac "$brmac" --src "${srcs[k]}" \
			--dst "${d0dst[k]}" --dport $((7771 + k)) --count 3 \
			--payload "spoof-${kinds[k]}-$$" | sed 's/^/  /'
	done
	for k in 0 1 2; do
		! bgwait "sniff$k" || bad "spoofed ${kinds[k]} from A reached B"
		! bgwait "d0r$k" || bad "spoofed ${kinds[k]} from A reached dom0"
	done
	d0 ip addr del 192.0.2.254/24 dev "$br"
	d0 ip addr del 2001:db8:42::fe/64 dev "$br"
	[ -z "$reason" ]
}

case_c() {
	need_setup || return
	local b4=$(ip4_of $B) op
	bg garp "$(gns $B)" sniff eth0 --timeout-ms 4000 --match arp-sender "$b4" || bad "sniffer"
	for op in reply request; do
		nt $A send-arp eth0 --op $op --smac "$(mac_of $A)" --sender-ip "$b4" --target-ip "$b4" \
			--count 3 | sed 's/^/  /'
	done
	! bgwait garp || bad "A's gratuitous ARP claiming B's address $b4 reached B"
	bg larp "$(gns $B)" sniff eth0 --timeout-ms 10000 --stop-after 1 \
		--match arp-sender "$(ip4_of $A)" --arp-op reply || bad "sniffer"
	nt $A send-arp eth0 --op reply --smac "$(mac_of $A)" --sender-ip "$(ip4_of $A)" \
		--target-ip "$b4" --dmac "$(mac_of $B)" --count 3 | sed 's/^/  /'
	bgwait larp || bad "A's legitimate ARP reply for its own address did not reach B"
}

# RA, DHCP offer and redirect from A never reach B; the same frames sent by dom0 itself into
# the bridge do (the sniffers see what passes), harmless ones: RA without prefix, lifetime 0.
case_d() {
	need_setup || return
	local -a what=(ra dhcp-offer "icmpv6-type 137") name=(RA "DHCP offer" "ICMPv6 redirect")
	local -a send=("send-ra eth0 --smac $(mac_of $A) --with-prefix 0 --router-lifetime 0"
		"send-dhcp-offer eth0 --smac $(mac_of $A) --src $(ip4_of $A)"
		"send-redirect eth0 --smac $(mac_of $A)")
	local k ctl=00:16:3e:00:ff:fe
	local -a ctlsend=("send-ra $br --smac $ctl --with-prefix 0 --router-lifetime 0"
		"send-dhcp-offer $br --smac $ctl --src 192.0.2.254" "send-redirect $br --smac $ctl")
	for k in 0 1 2; do
		# shellcheck disable=SC2086
		bg "d$k" "$(gns $B)" sniff eth0 --timeout-ms 4000 --match ${what[k]} || bad "sniffer"
		# shellcheck disable=SC2086
		nt $A ${send[k]} --count 3 | sed 's/^/  /'
		! bgwait "d$k" || bad "${name[k]} from A reached B"
		# shellcheck disable=SC2086
		bg "c$k" "$(gns $B)" sniff eth0 --timeout-ms 10000 --stop-after 1 --match ${what[k]} ||
			bad "sniffer"
		# shellcheck disable=SC2086
		d0 "$N" ${ctlsend[k]} --count 3 | sed 's/^/  /'
		bgwait "c$k" || bad "control: the ${name[k]} sent by dom0 into the bridge did not reach B"
	done
}

case_e() {
	need_setup || return
	local host
	bg l25 "$(gns $B)" tcp-listen 25 --timeout-ms 120000 || bad "listener 25 in B"
	bg l26 "$(gns $B)" tcp-listen 26 --timeout-ms 120000 || bad "listener 26 in B"
	for host in "$(ip4_of $B)" "$(ip6_of $B)"; do
		nt $C tcp-connect "$host" 25 --timeout-ms 5000 | sed 's/^/  /'
		[ "${PIPESTATUS[0]}" != 0 ] || bad "C (smtp_block) reached $host port 25"
		nt $C tcp-connect "$host" 26 --timeout-ms 10000 | sed 's/^/  /'
		[ "${PIPESTATUS[0]}" = 0 ] || bad "C could not reach $host port 26"
		nt $A tcp-connect "$host" 25 --timeout-ms 10000 | sed 's/^/  /'
		[ "${PIPESTATUS[0]}" = 0 ] || bad "control: A (no smtp_block) could not reach $host port 25"
	done
	kill -TERM "${bgpid[l25]}" "${bgpid[l26]}" 2>/dev/null
	wait "${bgpid[l25]}" "${bgpid[l26]}" 2>/dev/null
	unset "bgpid[l25]" "bgpid[l26]"
	[ -z "$reason" ]
}

# Neighbour discovery: A claims B's IPv6 address with unsolicited override NAs (from its
# link-local address, from its own global address, to all nodes and to C): neither B nor C
# sees one, and C's neighbour cache keeps B's MAC for it. A's NA for its own address reaches C.
# Control: the same forged NA sent by dom0 into the bridge (from another MAC) reaches C and does
# rewrite C's cache, so the cache check can see a poisoning; C's entry is deleted afterwards.
case_k() {
	need_setup || return
	local b6=$(ip6_of $B) a6=$(ip6_of $A) cns=$(gns $C) amac=$(mac_of $A) ctl=00:16:3e:00:ff:fe
	nt $C ping "$b6" | sed 's/^/  /'; [ "${PIPESTATUS[0]}" = 0 ] || bad "C cannot ping B over IPv6"
	say "C's entry for B before: $(ip -n "$cns" -6 neigh show "$b6")"
	bg naB "$(gns $B)" sniff eth0 --timeout-ms 4000 --match na-target "$b6" || bad "sniffer on B"
	bg naC "$cns" sniff eth0 --timeout-ms 4000 --match na-target "$b6" || bad "sniffer on C"
	nt $A send-na eth0 --smac "$amac" --target "$b6" --count 3 | sed 's/^/  /'
	nt $A send-na eth0 --smac "$amac" --src6 "$a6" --target "$b6" --count 3 | sed 's/^/  /'
	nt $A send-na eth0 --smac "$amac" --src6 "$a6" --dmac "$(mac_of $C)" --dst "$(ip6_of $C)" \
		--target "$b6" --count 3 | sed 's/^/  /'
	! bgwait naB || bad "A's NA claiming B's address $b6 reached B"
	! bgwait naC || bad "A's NA claiming B's address $b6 reached C"
	ip -n "$cns" -6 neigh show "$b6" | grep -qi "lladdr $(mac_of $B)" ||
		bad "C's neighbour entry for $b6 no longer names B's MAC: $(ip -n "$cns" -6 neigh show "$b6")"
	bg naown "$cns" sniff eth0 --timeout-ms 10000 --stop-after 1 --match na-target "$a6" ||
		bad "sniffer"
	nt $A send-na eth0 --smac "$amac" --src6 "$a6" --target "$a6" --count 3 | sed 's/^/  /'
	bgwait naown || bad "A's NA for its own address $a6 did not reach C"
	bg nactl "$cns" sniff eth0 --timeout-ms 10000 --stop-after 1 --match na-target "$b6" ||
		bad "sniffer"
	d0 "$N" send-na "$br" --smac "$ctl" --target "$b6" --count 3 | sed 's/^/  /'
	bgwait nactl || bad "control: the forged NA sent by dom0 into the bridge did not reach C"
	say "C's entry for B after the control: $(ip -n "$cns" -6 neigh show "$b6")"
	ip -n "$cns" -6 neigh show "$b6" | grep -qi "lladdr $ctl" ||
		bad "control: the forged NA from dom0 did not change C's entry (the check sees nothing)"
	ip -n "$cns" -6 neigh del "$b6" dev eth0 2>/dev/null
	[ -z "$reason" ]
}

# status_rate R: the VPS_STATUS in $tmp/out reports net.rate_mbit R (common/agent_proto.h).
status_rate() {
	local r
	r=$(jq -r '.result.net.rate_mbit // "absent"' "$tmp/out")
	[ "$r" = "$1" ] || bad "VPS_STATUS net.rate_mbit is $r, expected $1 (agent_proto.h)"
}

# A has net_mbit 20, B none: A->B is A's policer (its table's chain "rate"), B->A A's egress
# (tbf on the vif).
case_f() {
	need_setup || return
	say "xvif$A: $(tc_dev xvif$A); policer: $(police $A)"
	rate_ok $A $B 20 "A->B (from A)" policed
	rate_ok $B $A 20 "B->A (to A)"
	call_ok "{\"op\":\"vps.network\",\"spec\":$(spec $A '"net_mbit":20' '"throttle_mbit":5')}" \
		>"$tmp/out" || { bad "vps.network throttle 5: $(cat "$tmp/out")"; return 1; }
	say "throttled: $(jq -c .result.net "$tmp/out"); xvif$A: $(tc_dev xvif$A)"
	status_rate 5
	rate_ok $A $B 5 "throttled A->B" policed
	rate_ok $B $A 5 "throttled B->A"
	call_ok "{\"op\":\"vps.network\",\"spec\":$(spec $A '"net_mbit":20' '"throttle_mbit":0')}" \
		>"$tmp/out" || { bad "vps.network lifting the throttle: $(cat "$tmp/out")"; return 1; }
	say "lifted: $(jq -c .result.net "$tmp/out")"
	status_rate 20
	rate_ok $A $B 20 "lifted A->B" policed
}

case_g() {
	need_setup || return
	local c0 c1 c2 c3 i0 i1 b0 b1 size=1000 cnt=200
	local payload=$((size * cnt))
	sendAB() {
		nt $A send-udp eth0 --smac "$(mac_of $A)" --dmac "$(mac_of $B)" --src "$(ip4_of $A)" \
			--dst "$(ip4_of $B)" --dport 9 --count $cnt --size $size --interval-ms 2 \
			--payload count | sed 's/^/  /'
	}
	read -ra c0 <<<"$(counters $A)"; read -ra b0 <<<"$(counters $B)";
	[[ "${c0[0]:-}" =~ ^[0-9]+$ && "${b0[1]:-}" =~ ^[0-9]+$ ]] || { bad "net.counters xvps-$A: $(call "{\"op\":\"net.counters\",\"names\":[\"xvps-$A\"]}")"; return 1; }
	sendAB
	nt $B send-udp eth0 --smac "$(mac_of $B)" --dmac "$(mac_of $A)" --src "$(ip4_of $B)" \
		--dst "$(ip4_of $A)" --dport 9 --count $cnt --size $size --interval-ms 2 \
		--payload count | sed 's/^/  /'
	read -ra c1 <<<"$(counters $A)"; read -ra b1 <<<"$(counters $B)";
	say "A before ${c0[*]}, after ${c1[*]}; B rx ${b0[1]} -> ${b1[1]}"
	[ "${c1[0]}" -ge $((c0[0] + payload)) ] || bad "A's tx_bytes grew by $((c1[0] - c0[0])) < $payload"
	[ "${c1[1]}" -ge $((c0[1] + payload)) ] || bad "A's rx_bytes grew by $((c1[1] - c0[1])) < $payload"
	[ "${c1[2]}" -ge $((c0[2] + cnt)) ] || bad "A's tx_packets grew by $((c1[2] - c0[2])) < $cnt"
	[ "${b1[1]}" -ge $((b0[1] + payload)) ] || bad "B's rx_bytes grew by $((b1[1] - b0[1])) < $payload"
	i0=$(d0 cat /sys/class/net/xvif$A/ifindex)
	call_ok "{\"op\":\"vps.power\",\"name\":\"xvps-$A\",\"action\":\"reboot\",\"spec\":$(spec $A '"net_mbit":20')}" \
		>"$tmp/out" || { bad "vps.power reboot: $(cat "$tmp/out")"; return 1; }
	guest_ready $A || { bad "guest A not back after the reboot"; return 1; }
	i1=$(d0 cat /sys/class/net/xvif$A/ifindex)
	[ "$i0" != "$i1" ] || bad "the reboot did not re-create xvif$A (ifindex $i0 before and after)"
	read -ra c2 <<<"$(counters $A)";
	say "after the reboot (ifindex $i0 -> $i1): ${c2[*]}"
	for i in 0 1 2 3; do
		[ "${c2[i]}" -ge "${c1[i]}" ] || bad "counter $i went down over the reboot: ${c1[i]} -> ${c2[i]}"
	done
	[ "${c2[4]}" = true ] || bad "present is ${c2[4]} after the reboot"
	sendAB
	read -ra c3 <<<"$(counters $A)";
	say "after more traffic: ${c3[*]}"
	[ "${c3[0]}" -ge $((c2[0] + payload)) ] || bad "after the reboot A's tx_bytes grew by $((c3[0] - c2[0])) < $payload"
	[ -z "$reason" ]
}

case_h() {
	[ -n "$agent_pid" ] || { bad "no agent"; return 1; }
	local n
	if [ -z "$setup_err" ]; then # the reference of cases i and j: VPS 1's lines
		snap_all refsave
		for t in 4 6 e n; do dom_lines "$tmp/refsave.$t" $A >"$tmp/ref.$t"; done
	fi
	for n in 1 2 3; do
		out=$(remove $n) || bad "vps.remove xvps-$n: $out"
	done
	same_as_base afterdel
	leftovers
	[ -z "$reason" ]
}

# Default reference when the three-VPS setup failed: one VPS alone, ensured and removed.
make_ref() {
	[ -s "$tmp/ref.4" ] && return 0
	ensure 1 >"$tmp/out" || { bad "no reference: vps.ensure xvps-1: $(cat "$tmp/out")"; return 1; }
	snap_all refsave
	for t in 4 6 e n; do dom_lines "$tmp/refsave.$t" 1 >"$tmp/ref.$t"; done
	remove 1 >/dev/null
}

case_i() {
	[ -n "$agent_pid" ] || { bad "no agent"; return 1; }
	make_ref || return
	local n ok=0 pids=() nums=() ifbs
	for n in $(seq 101 150); do
		nums+=("$n")
		if ((n % 2)); then ensure "$n" >"$tmp/ens.$n" 2>&1 &
		else ensure "$n" '"net_mbit":10' >"$tmp/ens.$n" 2>&1 & fi
		pids+=($!)
	done
	for k in "${!pids[@]}"; do
		wait "${pids[k]}" && ok=$((ok + 1)) || say "vps.ensure xvps-${nums[k]}: $(cat "$tmp/ens.${nums[k]}")"
	done
	say "$ok of 50 concurrent vps.ensure answered ok"
	[ $ok = 50 ] || bad "$((50 - ok)) concurrent vps.ensure failed"
	ruleset_ok concurrent base "${nums[@]}"
	for n in "${nums[@]}"; do
		if ((n % 2)); then
			tc_dev xvif$n | grep -q tbf && bad "xvif$n (unlimited) has a tbf"
		else
			{ tc_dev xvif$n | grep -q "tbf.*rate 10Mbit" &&
				police $n | grep -q "limit rate over 1250000 bytes/second"; } ||
				bad "xvif$n not shaped to 10Mbit: $(tc_dev xvif$n) policer: $(police $n)"
		fi
		if ((n % 2)) && [ -n "$(police $n)" ]; then bad "xvif$n (unlimited) is policed"; fi
	done 2>/dev/null
	ifbs=$(ip -n "$dom0" -o link show | grep -c ': xifb')
	[ "$ifbs" = 0 ] || bad "$ifbs ifb devices, expected none (the policer replaced them)"
	pids=()
	for n in "${nums[@]}"; do
		remove "$n" >"$tmp/rm.$n" 2>&1 &
		pids+=($!)
	done
	ok=0
	for k in "${!pids[@]}"; do
		wait "${pids[k]}" && ok=$((ok + 1)) || say "vps.remove xvps-${nums[k]}: $(cat "$tmp/rm.${nums[k]}")"
	done
	[ $ok = 50 ] || bad "$((50 - ok)) concurrent vps.remove failed"
	same_as_base afteri
	leftovers
	[ -z "$reason" ]
}

# kill -9 the agent while an apply is in flight, start it again, repeat the call: the ruleset
# and tc converge to exactly the expected. "In flight" is caught, not timed: a monitor in dom0
# (nft monitor / tc monitor) reports the domain's firewall transaction (one, atomic) or the first
# change of the vif's qdiscs, and the agent is killed right then, while the rest of the apply is
# still to come.
case_j() {
	[ -n "$agent_pid" ] || { bad "no agent"; return 1; }
	make_ref || return
	local n=201 tcs k caught=0 rounds=0 net10='"net_mbit":10' thr='"throttle_mbit":3'
	local -a ens_at=("nft:netdev xvps-xvif$n" "tc:dev xvif$n")
	local -a net_at=("nft:netdev xvps-xvif$n" "tc:dev x(vif|ifb)$n")
	snap_all jbase # relative to the state j starts from (case i may have left something)
	same_as_base jcheck >/dev/null || say "note: j starts from a state that is not the baseline"
	reason=
	# kill9_on KIND:REGEX JSON: starts `nft monitor` or `tc monitor` in dom0 (ready once it
	# reported a marker change), sends JSON and SIGKILLs the agent at the first line matching
	# REGEX (or after the answer when none came), then starts the agent again.
	kill9_on() {
		local kind=${1%%:*} re=${1#*:} fifo=$tmp/mon.fifo at="after the answer" mp cp fd line=
		rm -f "$fifo" && mkfifo "$fifo"
		if [ "$kind" = nft ]; then
			d0 stdbuf -oL nft monitor >"$fifo" 2>&1 &
		else
			d0 stdbuf -oL tc monitor >"$fifo" 2>&1 &
		fi
		mp=$!
		exec {fd}<"$fifo"
		if [ "$kind" = nft ]; then
			d0 nft add table inet "xnmark$$" && d0 nft delete table inet "xnmark$$"
		else
			d0 tc qdisc add dev lo root handle 1: pfifo && d0 tc qdisc del dev lo root
		fi
		while read -r -t 30 -u "$fd" line; do
			[[ $line =~ xnmark$$|dev\ lo ]] && break
		done
		call "$2" >"$tmp/inflight" 2>&1 &
		cp=$!
		local part= rc
		while :; do
			if read -r -t 0.2 -u "$fd" line; then
				line=$part$line part=
				if [[ $line =~ $re ]]; then
					kill -KILL "$agent_pid" 2>/dev/null
					at="at \"${line:0:70}\""
					caught=$((caught + 1))
					break
				fi
				continue
			fi
			rc=$?
			[ "$rc" -gt 128 ] || break # EOF: the monitor is gone
			part+=$line                # timed out: keep the partial line
			kill -0 "$cp" 2>/dev/null || break
		done
		kill -KILL "$agent_pid" 2>/dev/null
		kill -TERM "$mp" 2>/dev/null
		exec {fd}<&-
		wait "$mp" 2>/dev/null
		wait "$agent_pid" 2>/dev/null
		agent_pid=
		wait "$cp"
		rounds=$((rounds + 1))
		say "agent killed $at; the call got: $(head -c 120 "$tmp/inflight")"
		start_dom0_agent || { bad "the agent did not start again"; return 1; }
	}
	converged() { # WHAT RATE
		ruleset_ok "$1" jbase $n
		tcs=$(tc_dev xvif$n)
		grep -q "tbf.*rate $2Mbit" <<<"$tcs" && [ "$(grep -o 'qdisc tbf' <<<"$tcs" | wc -l)" = 1 ] ||
			bad "$1: xvif$n not shaped to $2Mbit exactly once: $tcs"
		police $n | grep -q "limit rate over $(($2 * 125000)) bytes/second" ||
			bad "$1: xvif$n not policed to $2Mbit: $(police $n)"
	}
	for k in "${!ens_at[@]}"; do
		kill9_on "${ens_at[k]}" "{\"op\":\"vps.ensure\",\"spec\":$(spec $n "$net10")}" || return 1
		ensure $n "$net10" >"$tmp/out" || { bad "vps.ensure after the restart: $(cat "$tmp/out")"; return 1; }
		guest_ready $n || bad "guest xvps-$n not up after ensure (round $k)"
		converged "ensure$k" 10
		remove $n >"$tmp/out" || bad "vps.remove: $(cat "$tmp/out")"
		same_as_base "jrm$k" jbase
		leftovers $n
	done
	ensure $n "$net10" >"$tmp/out" || { bad "vps.ensure: $(cat "$tmp/out")"; return 1; }
	for k in "${!net_at[@]}"; do
		kill9_on "${net_at[k]}" "{\"op\":\"vps.network\",\"spec\":$(spec $n "$net10" "$thr")}" || return 1
		call_ok "{\"op\":\"vps.network\",\"spec\":$(spec $n "$net10" "$thr")}" >"$tmp/out" ||
			{ bad "vps.network after the restart: $(cat "$tmp/out")"; return 1; }
		converged "network$k" 3
		call_ok "{\"op\":\"vps.network\",\"spec\":$(spec $n "$net10")}" >"$tmp/out" ||
			{ bad "vps.network lifting: $(cat "$tmp/out")"; return 1; }
	done
	remove $n >"$tmp/out" || bad "vps.remove: $(cat "$tmp/out")"
	same_as_base jrm jbase
	leftovers $n
	say "$caught of $rounds kills landed in the middle of the apply"
	[ -z "$reason" ]
}

# NETNS_CASES="a b ..." runs only those (development); i and j then build their own reference.
want_case() { [ -z "${NETNS_CASES:-}" ] || grep -qw "$1" <<<"$NETNS_CASES"; }
want_case a && run_case a "legitimate IPv4/IPv6 between two guests passes" case_a
want_case b && run_case b "spoofed IPv4/IPv6 source and spoofed MAC reach neither B nor dom0" case_b
want_case c && run_case c "gratuitous ARP for B's address dropped, A's own ARP reply passes" case_c
want_case d && run_case d "RA, DHCP offer, ICMPv6 redirect from A never reach B" case_d
want_case e && run_case e "smtp_block: port 25 blocked, 26 open" case_e
want_case k && run_case k "override NA claiming B's IPv6 dropped, C's cache keeps B, A's own NA passes" case_k
want_case f && run_case f "shaping both directions ±15%, throttle and lift" case_f
want_case g && run_case g "counters grow with traffic, survive a reboot" case_g
want_case h && run_case h "vps.remove leaves nftables/iptables/ip6tables/ebtables/tc as before" case_h
want_case i && run_case i "50 VPS ensured and removed concurrently" case_i
want_case j && run_case j "kill -9 during ensure/network, restart, converge" case_j

stop_servers
reason=
while read -r r; do bad "$r"; done < <(sanitizer_reports "$log")
if [ -n "$reason" ]; then
	echo "FAIL sanitizers: $reason"
	failed+=(sanitizers)
fi
echo "test-netns: $((SECONDS - t_start)) s"
if [ ${#failed[@]} -gt 0 ]; then
	echo "test-netns: FAILED: ${failed[*]} (agent log: last lines below)"
	tail -n 25 "$log" | sed 's/^/    /'
	exit 1
fi
echo "test-netns: all cases passed"
exit 0
