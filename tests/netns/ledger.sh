#!/usr/bin/env bash
# tests/netns/ledger.sh BUILD — the usage ledger against ground truth on the real kernel (issue
# 13, "Ground truth on the real kernel"). A throwaway xvps-agent with real networking in a "dom0"
# namespace of its own (prefix "xl<pid>-", the sim hypervisor, guests in <prefix><domain>) and a
# throwaway xvpsd on loopback metering every XVPS_METER_INTERVAL=2 s; two sim VPS ordered through
# the API; a known number of bytes pushed both ways between the two guests' namespaces with
# BUILD/xvps-nettest (TCP, through their vifs and the bridge, shaped to the plan's net_mbit,
# 500 by default, so that the transfer lasts seconds) while each guest's namespace counts what crosses
# its eth0 with its own iptables/ip6tables counters. During the transfer the agent is killed
# with SIGKILL and started again, and guest A reboots itself (SIGUSR1 to its xvps-simguest, the
# sim's "reboot" inside the guest: the agent reads the dead domain's last counters, re-creates
# the domain, its vif and its namespace). Then, after a few sweeps, the ledger must agree:
#   (a) GET /vps/{id}/usage's rx/tx bytes = the guest's own count within 0.1 %, per direction;
#   (b) the sum of the 5m points = the total, exactly, = the sum of the raw usage_samples rows
#       in the SQLite database (sqlite3, read-only), exactly;
#   (c) the 1h series' total = the 5m series' total, exactly.
#
# What the two sides count. The agent's counters are the vif's (a veth: statistics/{rx,tx}_bytes
# of the dom0 end, i.e. what the guest's eth0 sent and received), in the guest's view: every frame
# with its 14-byte Ethernet header, no FCS, one "packet" per skb (a TSO/GSO super-packet is one).
# iptables counts the same skbs at layer 3 (no Ethernet header): raw PREROUTING -i eth0 for what
# the guest received, mangle POSTROUTING -o eth0 for what it sent, IPv4 and IPv6. So the
# independent count in the vif's terms is L3 bytes + 14 x packets. What iptables cannot see and
# the vif does: non-IP frames (ARP, a few dozen 42-byte frames), the IPv6 frames of a namespace's
# first milliseconds before the rules exist; both are far below 0.1 %.
#
# The reboot. The sim guest's namespace is deleted and made anew on a reboot (it is the sim's
# "domain"), so a TCP stream cannot cross it: A's traffic is quiesced around the reboot (a real
# dead domain passes no packet either; in the sim, a dead guest's namespace would still route
# until the agent deletes its vif, and bytes in that window are a sim artefact). The old
# namespace's final count is read after it was deleted, through a process the test keeps in it.
#
# Prints PASS/FAIL lines with the numbers; exit 1 when a check failed, 0 when all passed or when
# skipped (not root, a tool missing, `ip netns add` not working). The trap removes every
# namespace, process and file it made; it signals only pids it started (and its own agent's sim
# guests). LEDGER_MIB (default 300) sets the MiB per direction, LEDGER_MBIT (500) the plan's
# net_mbit. Takes about 15 s.
set -u

build=${1:?usage: tests/netns/ledger.sh BUILD_DIR}
cd "$(dirname "$0")/../.." || exit 2
build=$(cd "$build" && pwd) || exit 2

# shellcheck disable=SC2034 # read by scripts/lib.sh
lib_tag=test-ledger
. scripts/lib.sh # free_port, start_agent, start_panel, stop_servers, wait_until, netns_delete
netns_suite_need "network namespaces, iptables" xvps-agent xvpsd xvps-simguest xvps-nettest xvpsctl
for t in ip nsenter iptables-save ip6tables-save jq curl sqlite3; do
	command -v "$t" >/dev/null || { echo "test-ledger: SKIP: $t is not installed"; exit 0; }
done

export ASAN_OPTIONS=detect_leaks=1:abort_on_error=0:halt_on_error=1
export UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1
N=$build/xvps-nettest
p="xl$$-" # per-run prefix of every namespace (simnet allows [a-z0-9-]{0,16})
dom0="${p}dom0"
mib=${LEDGER_MIB:-300}
chunks=4 # transfers per direction; the agent dies during the first, A reboots after the second
interval=2
mbit=${LEDGER_MBIT:-500} # the plan's net_mbit: the vifs are shaped, the transfer lasts seconds
tmp=
declare -A bgpid=()
holders=()
failed=()
t_start=$SECONDS

cleanup() {
	local pid
	trap - EXIT INT TERM
	for pid in "${bgpid[@]}" "${holders[@]}"; do kill -TERM "$pid" 2>/dev/null; done
	stop_servers
	netns_suite_end "$p"
}
netns_suite_begin "$dom0"
mkdir -m 700 "$state"

say() { echo "  $*"; }
fail() {
	echo "FAIL $*"
	failed+=("$1")
}
pass() { echo "PASS $*"; }
die() {
	fail "setup: $*"
	for f in agent xvpsd; do
		[ -s "$tmp/$f.log" ] && { echo "---- last lines of $f.log"; tail -n 15 "$tmp/$f.log"; }
	done
	exit 1
}

# ---- servers ---------------------------------------------------------------------------------

# The agent in dom0's namespace from the start (nsenter keeps the mount namespace, so the guest
# namespaces it mounts are visible here), as tests/netns/run.sh starts it.
start_dom0_agent() {
	rm -f "$state/agent.sock"
	# shellcheck disable=SC2034 # read by start_agent (scripts/lib.sh)
	local -a agent_launcher=(nsenter --net="/run/netns/$dom0")
	# shellcheck disable=SC2034
	local agent_wait_tries=300
	start_agent "$build" "$state" "$tmp/agent.log" XVPS_HYPERVISOR=sim XVPS_NET=on \
		XVPS_NETNS="$dom0" XVPS_SIM_NETNS_PREFIX="$p" XVPS_SIMGUEST="$build/xvps-simguest"
}

XVPS_ADMIN_PASSWORD=$(od -An -tx1 -N16 /dev/urandom | tr -d ' \n')
export XVPS_ADMIN_PASSWORD XVPS_PWHASH_OPSLIMIT=1 XVPS_PWHASH_MEMLIMIT_KIB=8192
start_dom0_agent || die "xvps-agent did not start"
port=$(free_port) || die "no free port"
start_panel "$build" "$state" "$tmp/xvpsd.log" "127.0.0.1:$port" XVPS_WEB_DIR=web \
	XVPS_METER_INTERVAL=$interval || die "xvpsd did not start"
url=http://127.0.0.1:$port
echo "test-ledger: prefix $p, state $state, xvpsd on $url, metering every $interval s"

# Admin API key, then xvpsctl (as scripts/test.sh's crash test).
jar=$tmp/admin.jar
csrf=$(curl -fsS -c "$jar" -H 'Content-Type: application/json' \
	-d "{\"username\":\"admin\",\"password\":\"$XVPS_ADMIN_PASSWORD\"}" \
	"$url/api/v1/session" | jq -r .csrf_token) || die "admin login"
XVPS_TOKEN=$(curl -fsS -b "$jar" -H "X-CSRF-Token: $csrf" -H 'Content-Type: application/json' \
	-d '{"name":"ledger-test"}' "$url/api/v1/api-keys" | jq -r .token) || die "API key"
export XVPS_TOKEN XVPS_URL=$url
ctl() { "$build/xvpsctl" "$@"; }

plan=$(ctl post /plans "{\"name\":\"ledger-plan\",\"vcpus\":1,\"memory_mib\":256,\"disk_gib\":2,\"net_mbit\":$mbit}" |
	jq -r .id) || die "plan"
tpl=$(ctl post /templates '{"name":"ledger-tpl","os":"debian-12","disk_gib":1,"boot":"pvh"}' |
	jq -r .id) || die "template"
ctl post /ip-pools '{"family":4,"cidr":"192.0.2.64/28","gateway":"192.0.2.65"}' >/dev/null ||
	die "ip pool"
cust=$(ctl post /customers \
	'{"username":"ledgercust","email":"l@example.net","password":"ledger-password-1"}' |
	jq -r .id) || die "customer"

declare -A id=() dom=() ip4=() ns=()
for v in A B; do
	out=$(ctl post /vps "{\"hostname\":\"ledger-${v,,}.example.net\",\"plan\":\"$plan\",\"template\":\"$tpl\",\"customer\":\"$cust\"}") ||
		die "order VPS $v: $out"
	id[$v]=$(jq -r .vps.id <<<"$out")
	ctl wait "$(jq -r .job.id <<<"$out")" 60 >/dev/null || die "VPS $v: its job did not finish"
	out=$(ctl get "/vps/${id[$v]}")
	[ "$(jq -r .state <<<"$out")" = running ] || die "VPS $v is not running: $out"
	dom[$v]=$(jq -r .domain <<<"$out")
	ip4[$v]=$(jq -r '.ipv4[0]' <<<"$out")
	ns[$v]=$p${dom[$v]}
	say "VPS $v: id ${id[$v]}, domain ${dom[$v]}, ${ip4[$v]}, namespace ${ns[$v]}"
done

# ---- the independent count in each guest's namespace -------------------------------------------

# ns_id NS: the inode of NS's namespace (changes when the agent makes it anew).
ns_id() { stat -L -c %i "/run/netns/$1" 2>/dev/null; }
guest_up() { ip -n "$1" -o link show eth0 2>/dev/null | grep -q LOWER_UP; }

# count_rules NS: the counting rules (no target: they only count), IPv4 and IPv6.
count_rules() {
	local t
	for t in iptables ip6tables; do
		ip netns exec "$1" "$t" -w -t raw -A PREROUTING -i eth0 &&
			ip netns exec "$1" "$t" -w -t mangle -A POSTROUTING -o eth0 || return 1
	done
}
# holder V: a process kept in V's namespace (hold[V]), so its counters can be read after the
# agent deleted it. Not in a command substitution: that would wait for the process's end.
holder() {
	ip netns exec "${ns[$1]}" sleep 600 </dev/null >/dev/null 2>&1 &
	hold[$1]=$!
	holders+=($!)
}
# l3_count NSENTER-ARGS...: "rx_bytes rx_packets tx_bytes tx_packets" (L3) of the rules above.
l3_count() {
	{ nsenter "$@" iptables-save -c; nsenter "$@" ip6tables-save -c; } 2>/dev/null | awk '
		/^\[[0-9]+:[0-9]+\] -A PREROUTING -i eth0$/ { split(substr($1, 2), c, /[]:]/); rb += c[2]; rp += c[1] }
		/^\[[0-9]+:[0-9]+\] -A POSTROUTING -o eth0$/ { split(substr($1, 2), c, /[]:]/); tb += c[2]; tp += c[1] }
		END { printf "%d %d %d %d\n", rb, rp, tb, tp }'
}

declare -A hold=() acc=() # acc[V]: L3 counts of V's namespaces that are gone
for v in A B; do
	wait_until 300 "" guest_up "${ns[$v]}" || die "guest $v: no eth0 up in ${ns[$v]}"
	count_rules "${ns[$v]}" || die "guest $v: cannot add the counting rules"
	holder "$v"
	acc[$v]="0 0 0 0"
done
now_count() { l3_count --net="/proc/${hold[$1]}/ns/net"; }
add4() { awk -v a="$1" -v b="$2" 'BEGIN { split(a, x); split(b, y);
	printf "%d %d %d %d\n", x[1] + y[1], x[2] + y[2], x[3] + y[3], x[4] + y[4] }'; }

# ---- the transfer --------------------------------------------------------------------------------

# xfer_start K BYTES: BYTES from A to B and from B to A at the same time (receivers first).
xfer_start() {
	local k=$1 bytes=$2 v w port
	for v in A B; do
		port=$((5100 + k * 2)); [ $v = B ] && port=$((port + 1))
		rm -f "$tmp/recv$v$k.ready"
		ip netns exec "${ns[$v]}" "$N" tcp-recv $port --timeout-ms 120000 --skip-ms 0 \
			--ready-file "$tmp/recv$v$k.ready" >"$tmp/recv$v$k.out" 2>&1 &
		bgpid[recv$v$k]=$!
	done
	for v in A B; do
		wait_until 100 "${bgpid[recv$v$k]}" test -e "$tmp/recv$v$k.ready" ||
			{ say "receiver in $v did not start: $(cat "$tmp/recv$v$k.out")"; return 1; }
	done
	for v in A B; do
		[ $v = A ] && w=B || w=A
		port=$((5100 + k * 2)); [ $w = B ] && port=$((port + 1))
		ip netns exec "${ns[$v]}" "$N" tcp-send "${ip4[$w]}" $port --bytes "$bytes" \
			--timeout-ms 120000 >"$tmp/send$v$k.out" 2>&1 &
		bgpid[send$v$k]=$!
	done
}
# xfer_wait K BYTES: 0 when both receivers got BYTES.
xfer_wait() {
	local k=$1 bytes=$2 v n rc=0 name
	for name in sendA$k sendB$k recvA$k recvB$k; do
		wait "${bgpid[$name]}" 2>/dev/null
		unset "bgpid[$name]"
	done
	for v in A B; do
		n=$(sed -n 's/^tcp-recv [0-9]*: \([0-9]*\) bytes.*/\1/p' "$tmp/recv$v$k.out")
		say "chunk $k into $v: ${n:-?} bytes ($(cat "$tmp/send$([ $v = A ] && echo B || echo A)$k.out"))"
		[ "${n:-0}" = "$bytes" ] || rc=1
	done
	return $rc
}

chunk=$((mib * 1024 * 1024 / chunks))
t_xfer=$SECONDS
xfer_ok=1
for k in $(seq 1 $chunks); do
	xfer_start "$k" "$chunk" || { xfer_ok=0; break; }
	if [ "$k" = 1 ]; then
		# Caught, not timed: the agent dies once B's own counter saw 8 MiB of this chunk.
		rx0=$(now_count B | cut -d' ' -f1)
		flowing() { [ $(($(now_count B | cut -d' ' -f1) - rx0)) -ge $((8 << 20)) ]; }
		wait_until 200 "" flowing || say "note: B's counter did not see 8 MiB of chunk 1"
		running=yes
		kill -0 "${bgpid[sendA1]}" 2>/dev/null && kill -0 "${bgpid[sendB1]}" 2>/dev/null ||
			running=no
		say "kill -9 the agent (pid $agent_pid) during chunk 1 (senders running: $running)," \
			"then start it again"
		kill -KILL "$agent_pid"
		wait "$agent_pid" 2>/dev/null
		agent_pid=
		[ $running = yes ] || fail "kill: the agent's kill did not land during the transfer"
		start_dom0_agent || die "xvps-agent did not start again"
	fi
	xfer_wait "$k" "$chunk" || xfer_ok=0
	if [ "$k" = 2 ]; then
		# A reboots itself: its traffic is quiet now; the old namespace's count is read once the
		# agent deleted it (through the holder), the new namespace counts from its first moment.
		old=$(ns_id "${ns[A]}")
		gpid=$(jq -r '.pid // 0' "$state/sim/${dom[A]}.json" 2>/dev/null)
		case $({ tr '\0' ' ' <"/proc/$gpid/cmdline"; } 2>/dev/null) in
		*xvps-simguest*"--name ${dom[A]} "*) ;;
		*) gpid= ;;
		esac
		[ -n "$gpid" ] || die "no xvps-simguest process for ${dom[A]}"
		say "reboot guest A from inside: SIGUSR1 to its xvps-simguest (pid $gpid)"
		kill -USR1 "$gpid"
		newns() { [ -n "$(ns_id "${ns[A]}")" ] && [ "$(ns_id "${ns[A]}")" != "$old" ]; }
		wait_until 300 "" newns || die "guest A's namespace was not made anew within 30 s"
		# (Seen once: the new name was there but not yet openable.)
		nsok() { ip netns exec "${ns[A]}" true 2>/dev/null; }
		wait_until 300 "" nsok || die "guest A's new namespace cannot be entered"
		count_rules "${ns[A]}" || die "guest A: cannot add the counting rules after the reboot"
		wait_until 300 "" guest_up "${ns[A]}" || die "guest A: eth0 not up after the reboot"
		acc[A]=$(add4 "${acc[A]}" "$(now_count A)")
		kill -TERM "${hold[A]}" 2>/dev/null
		holder A
		say "guest A is back (namespace inode $old -> $(ns_id "${ns[A]}"))"
	fi
done
t_xfer=$((SECONDS - t_xfer))
[ $xfer_ok = 1 ] && pass "transfer: $mib MiB each way in $chunks chunks, agent killed and A rebooted ($t_xfer s)" ||
	fail "transfer: not every chunk arrived whole"

# ---- the ledger ------------------------------------------------------------------------------------

# Two more sweeps after the last byte; then the ledger stops moving (only ARP/IPv6 noise).
sleep $((interval * 2 + 1))
iso() { date -u -d "@$1" +%Y-%m-%dT%H:%M:%SZ; }
now=$(date +%s)
from5=$(((now - 3600) / 300 * 300)) to5=$(((now + 600) / 300 * 300))
from1h=$(((now - 3600) / 3600 * 3600)) to1h=$(((now + 3600 * 2) / 3600 * 3600))
db=$(ls "$state"/*.db 2>/dev/null | head -n 1)
[ -n "$db" ] || die "no SQLite database in $state"
declare -A ind=()
for v in A B; do
	ind[$v]=$(add4 "${acc[$v]}" "$(now_count "$v")")
done
pct() { awk -v a="$1" -v b="$2" 'BEGIN { if (b == 0) print "inf"; else printf "%.4f", (a - b) * 100 / b }'; }
within() { awk -v a="$1" -v b="$2" 'BEGIN { d = a - b; if (d < 0) d = -d; exit !(b > 0 && d * 1000 <= b) }'; }
for v in A B; do
	read -r rb rp tb tp <<<"${ind[$v]}"
	# Metering goes on (ARP/IPv6 noise can land in a new sample between the reads): the API and
	# the database are read again, up to 3 times, until the raw samples did not move meanwhile.
	for try in 1 2 3; do
		read -r s0 <<<"$(sqlite3 -readonly "file:$db?mode=ro" "SELECT count(*) FROM usage_samples WHERE vps_id = ${id[$v]}")"
		u5=$(ctl get "/vps/${id[$v]}/usage?step=5m&from=$(iso $from5)&to=$(iso $to5)") ||
			{ fail "ledger $v: GET usage 5m: $u5"; continue 2; }
		u1=$(ctl get "/vps/${id[$v]}/usage?step=1h&from=$(iso $from1h)&to=$(iso $to1h)") ||
			{ fail "ledger $v: GET usage 1h: $u1"; continue 2; }
		read -r srx stx srows <<<"$(sqlite3 -readonly -separator ' ' "file:$db?mode=ro" \
			"SELECT sum(rx_bytes), sum(tx_bytes), count(*) FROM usage_samples WHERE vps_id = ${id[$v]}")"
		[ "$srows" = "$s0" ] && break
		sleep 0.5
	done
	read -r lrx ltx lrp ltp <<<"$(jq -r '.total | "\(.rx_bytes) \(.tx_bytes) \(.rx_packets) \(.tx_packets)"' <<<"$u5")"
	read -r prx ptx <<<"$(jq -r '[.points[].rx_bytes] as $r | [.points[].tx_bytes] as $t | "\($r | add) \($t | add)"' <<<"$u5")"
	read -r hrx htx <<<"$(jq -r '.total | "\(.rx_bytes) \(.tx_bytes)"' <<<"$u1")"
	irx=$((rb + 14 * rp)) itx=$((tb + 14 * tp))
	say "VPS $v independent (iptables, L3 + 14 B x packets): rx $irx ($rb + 14 x $rp), tx $itx ($tb + 14 x $tp)"
	say "VPS $v ledger: rx $lrx bytes / $lrp packets, tx $ltx bytes / $ltp packets; $srows samples"
	if within "$lrx" "$irx" && within "$ltx" "$itx"; then
		pass "a $v: ledger = guest's own count within 0.1 %: rx $lrx vs $irx ($(pct "$lrx" "$irx") %), tx $ltx vs $itx ($(pct "$ltx" "$itx") %)"
	else
		fail "a $v: ledger differs from the guest's own count by more than 0.1 %: rx $lrx vs $irx ($(pct "$lrx" "$irx") %), tx $ltx vs $itx ($(pct "$ltx" "$itx") %)"
	fi
	want=$((mib * 1024 * 1024))
	[ "$lrx" -ge "$want" ] && [ "$ltx" -ge "$want" ] ||
		fail "a $v: the ledger holds less than the $want bytes pushed each way (rx $lrx, tx $ltx)"
	if [ "$prx" = "$lrx" ] && [ "$ptx" = "$ltx" ] && [ "$srx" = "$lrx" ] && [ "$stx" = "$ltx" ]; then
		pass "b $v: sum of 5m points = total = sum of $srows usage_samples rows: rx $prx, tx $ptx"
	else
		fail "b $v: 5m points rx $prx tx $ptx, total rx $lrx tx $ltx, samples rx $srx tx $stx"
	fi
	if [ "$hrx" = "$lrx" ] && [ "$htx" = "$ltx" ]; then
		pass "c $v: 1h total = 5m total: rx $hrx, tx $htx"
	else
		fail "c $v: 1h total rx $hrx tx $htx, 5m total rx $lrx tx $ltx"
	fi
done

for f in agent xvpsd; do
	mapfile -t reports < <(sanitizer_reports "$tmp/$f.log")
	[ ${#reports[@]} -eq 0 ] || fail "sanitizer report in the $f log"
done
echo "test-ledger: $((SECONDS - t_start)) s"
if [ ${#failed[@]} -gt 0 ]; then
	echo "test-ledger: FAILED: ${failed[*]}"
	for f in agent xvpsd; do
		[ -s "$tmp/$f.log" ] && { echo "---- last lines of $f.log"; tail -n 15 "$tmp/$f.log"; }
	done
	exit 1
fi
exit 0
