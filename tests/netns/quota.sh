#!/usr/bin/env bash
# tests/netns/quota.sh BUILD — traffic quotas with real packets (issue 13, "Tests — Quota"). A
# throwaway xvps-agent with real networking in a "dom0" namespace of its own (prefix "xq<pid>-",
# the sim hypervisor, guests in <prefix><domain>) and a throwaway xvpsd on loopback metering
# every XVPS_METER_INTERVAL=2 s, e-mailing its quota notices to an SMTP sink this test starts on
# 127.0.0.1 (tests/netns/smtp_sink.py), with the test-only fake clock (XVPS_TEST_CLOCK_FILE, in
# the sanitizer build only: common/util.h). Three sim VPS of one customer, ordered through the
# API: A on a plan of traffic_gib 1, outbound, quota_action throttle to over_quota_mbit
# (QUOTA_MBIT, 20), net_mbit 800; C on the same with quota_action suspend; B, the receiver,
# unmetered and unshaped. (800 Mbit/s: the rate measured after the lift, 4 s, stays far below
# 80 % of the new period's quota on any machine.)
# A and C each push 900 MiB to B (TCP through their vifs and the bridge: over 80 %, under 1 GiB
# even with every frame's headers), then each starts a stream to B that crosses 100 % and keeps
# running, so the action lands on live traffic. Then:
#   a  A's quota throttle is in force (throttle_mbit = QUOTA_MBIT, quota state "throttled", a tbf
#      of that rate on A's vif) within 60 s of the stream's start (the crossing is after it); the
#      stream, still running, reaches B at 1/4..1.5 x QUOTA_MBIT (bytes of B's vif over 4 s:
#      a shaper changed under a full queue must neither wedge nor let it through), and a new 4 s
#      TCP stream measures at most 1.5 x QUOTA_MBIT both ways (correctness bounds, not a
#      benchmark);
#   b  C is suspended by the quota within the same 60 s: stopped (no domid), its customer's
#      start and console answer 409 naming the suspension;
#   c  the notices notice_80, notice_100, throttled (A) / suspended (C) are listed by GET
#      /vps/{id}/notices, and each reached the SMTP sink as an e-mail to the customer's address
#      (its Message-ID names the notice);
#   d  the fake clock moves xvpsd to the next calendar month (+1 h): within 60 s A's throttle is
#      lifted (throttle_mbit 0, the plan's tbf again, a `lifted` notice and its e-mail), the rate measured
#      A->B is back up (at least 3 x QUOTA_MBIT); C is unsuspended and running again.
#
# Prints PASS/FAIL lines with the numbers; exit 1 when a check failed, 0 when all passed or when
# skipped (not root, a tool missing, `ip netns add` not working). The trap removes every
# namespace, process and file it made; it signals only pids it started (and its own agent's sim
# guests). Takes about 40 s.
set -u

build=${1:?usage: tests/netns/quota.sh BUILD_DIR}
cd "$(dirname "$0")/../.." || exit 2
build=$(cd "$build" && pwd) || exit 2

# shellcheck disable=SC2034 # read by scripts/lib.sh
lib_tag=test-quota
. scripts/lib.sh # free_port, start_agent, start_panel, stop_servers, wait_until, netns_delete
netns_suite_need "network namespaces, tc" xvps-agent xvpsd xvps-simguest xvps-nettest xvpsctl
for t in ip nsenter tc jq curl python3; do
	command -v "$t" >/dev/null || { echo "test-quota: SKIP: $t is not installed"; exit 0; }
done
# The fake clock is compiled into the sanitizer build only (Makefile: TEST_CLOCK).
if ! grep -qa XVPS_TEST_CLOCK_FILE "$build/xvpsd"; then
	echo "test-quota: FAIL: $build/xvpsd has no test clock (build it with SAN=1 or TEST_CLOCK=1)"
	exit 1
fi

export ASAN_OPTIONS=detect_leaks=1:abort_on_error=0:halt_on_error=1
export UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1
N=$build/xvps-nettest
p="xq$$-" # per-run prefix of every namespace (simnet allows [a-z0-9-]{0,16})
dom0="${p}dom0"
interval=2
limit=${QUOTA_MBIT:-20}
net=800 # A's and C's net_mbit: 4 s at this rate stay well under 80 % of the quota
mib1=900 # the first chunk per sender (1 GiB quota: 1024 MiB of frames)
tmp=
sink_pid=
declare -A bgpid=()
failed=()
t_start=$SECONDS

cleanup() {
	local pid
	trap - EXIT INT TERM
	for pid in "${bgpid[@]}"; do kill -TERM "$pid" 2>/dev/null; done
	stop_servers
	[ -n "$sink_pid" ] && stop_pid "$sink_pid"
	netns_suite_end "$p"
}
netns_suite_begin "$dom0"
mkdir -m 700 "$state" "$tmp/mail"

say() { echo "  $*"; }
fail() {
	echo "FAIL $*"
	failed+=("$1")
}
pass() { echo "PASS $*"; }
die() {
	fail "setup: $*"
	for f in agent xvpsd sink; do
		[ -s "$tmp/$f.log" ] && { echo "---- last lines of $f.log"; tail -n 15 "$tmp/$f.log"; }
	done
	exit 1
}

# ---- servers ---------------------------------------------------------------------------------

python3 tests/netns/smtp_sink.py "$tmp/mail" "$tmp/sink.port" 2>"$tmp/sink.log" &
sink_pid=$!
wait_until 100 "$sink_pid" test -s "$tmp/sink.port" || die "the SMTP sink did not start"
smtp_port=$(cat "$tmp/sink.port")

rm -f "$state/agent.sock"
# shellcheck disable=SC2034 # read by start_agent (scripts/lib.sh)
agent_launcher=(nsenter --net="/run/netns/$dom0")
# shellcheck disable=SC2034
agent_wait_tries=300
start_agent "$build" "$state" "$tmp/agent.log" XVPS_HYPERVISOR=sim XVPS_NET=on \
	XVPS_NETNS="$dom0" XVPS_SIM_NETNS_PREFIX="$p" XVPS_SIMGUEST="$build/xvps-simguest" ||
	die "xvps-agent did not start"
# shellcheck disable=SC2034 # read by start_agent
agent_launcher=()

XVPS_ADMIN_PASSWORD=$(od -An -tx1 -N16 /dev/urandom | tr -d ' \n')
export XVPS_ADMIN_PASSWORD XVPS_PWHASH_OPSLIMIT=1 XVPS_PWHASH_MEMLIMIT_KIB=8192
clock=$tmp/clock # the fake clock's offset in seconds; absent: none
port=$(free_port) || die "no free port"
start_panel "$build" "$state" "$tmp/xvpsd.log" "127.0.0.1:$port" XVPS_WEB_DIR=web \
	XVPS_METER_INTERVAL=$interval XVPS_TEST_CLOCK_FILE="$clock" \
	XVPS_SMTP_URL="smtp://127.0.0.1:$smtp_port" XVPS_SMTP_FROM=quota@xvps.example.net ||
	die "xvpsd did not start"
url=http://127.0.0.1:$port
echo "test-quota: prefix $p, state $state, xvpsd on $url, SMTP sink on 127.0.0.1:$smtp_port"

jar=$tmp/admin.jar
csrf=$(curl -fsS -c "$jar" -H 'Content-Type: application/json' \
	-d "{\"username\":\"admin\",\"password\":\"$XVPS_ADMIN_PASSWORD\"}" \
	"$url/api/v1/session" | jq -r .csrf_token) || die "admin login"
XVPS_TOKEN=$(curl -fsS -b "$jar" -H "X-CSRF-Token: $csrf" -H 'Content-Type: application/json' \
	-d '{"name":"quota-test"}' "$url/api/v1/api-keys" | jq -r .token) || die "API key"
export XVPS_TOKEN XVPS_URL=$url
ctl() { "$build/xvpsctl" "$@"; }

plan_body() { # NAME ACTION TRAFFIC_GIB NET_MBIT
	echo "{\"name\":\"$1\",\"vcpus\":1,\"memory_mib\":256,\"disk_gib\":2,\"net_mbit\":$4," \
		"\"traffic_gib\":$3,\"traffic_direction\":\"out\",\"quota_action\":\"$2\"," \
		"\"over_quota_mbit\":$limit}"
}
plan_t=$(ctl post /plans "$(plan_body quota-throttle throttle 1 $net)" | jq -r .id) || die "plan"
plan_s=$(ctl post /plans "$(plan_body quota-suspend suspend 1 $net)" | jq -r .id) || die "plan"
plan_b=$(ctl post /plans "$(plan_body quota-none throttle 0 0)" | jq -r .id) || die "plan"
tpl=$(ctl post /templates '{"name":"quota-tpl","os":"debian-12","disk_gib":1,"boot":"pvh"}' |
	jq -r .id) || die "template"
ctl post /ip-pools '{"family":4,"cidr":"192.0.2.64/28","gateway":"192.0.2.65"}' >/dev/null ||
	die "ip pool"
email=quota-cust@example.net
cpw=quota-password-1
cust=$(ctl post /customers "{\"username\":\"quotacust\",\"email\":\"$email\",\"password\":\"$cpw\"}" |
	jq -r .id) || die "customer"

declare -A id=() dom=() domid=() ip4=() ns=()
declare -A plan_of=([A]=$plan_t [B]=$plan_b [C]=$plan_s)
for v in A B C; do
	out=$(ctl post /vps "{\"hostname\":\"quota-${v,,}.example.net\",\"plan\":\"${plan_of[$v]}\",\"template\":\"$tpl\",\"customer\":\"$cust\"}") ||
		die "order VPS $v: $out"
	id[$v]=$(jq -r .vps.id <<<"$out")
	ctl wait "$(jq -r .job.id <<<"$out")" 60 >/dev/null || die "VPS $v: its job did not finish"
	out=$(ctl get "/vps/${id[$v]}")
	[ "$(jq -r .state <<<"$out")" = running ] || die "VPS $v is not running: $out"
	dom[$v]=$(jq -r .domain <<<"$out")
	domid[$v]=$(jq -r .domid <<<"$out")
	ip4[$v]=$(jq -r '.ipv4[0]' <<<"$out")
	ns[$v]=$p${dom[$v]}
	say "VPS $v: id ${id[$v]}, domain ${dom[$v]} (domid ${domid[$v]}), ${ip4[$v]}, namespace ${ns[$v]}"
done
guest_up() { ip -n "$1" -o link show eth0 2>/dev/null | grep -q LOWER_UP; }
for v in A B C; do
	wait_until 300 "" guest_up "${ns[$v]}" || die "guest $v: no eth0 up in ${ns[$v]}"
done

# ---- helpers -----------------------------------------------------------------------------------

# xfer_start TAG FROM TO PORT BYTES: BYTES as TCP from guest FROM to guest TO (receiver first).
xfer_start() {
	local tag=$1 from=$2 to=$3 port=$4 bytes=$5
	rm -f "$tmp/recv$tag.ready"
	ip netns exec "${ns[$to]}" "$N" tcp-recv "$port" --timeout-ms 120000 --skip-ms 0 \
		--ready-file "$tmp/recv$tag.ready" >"$tmp/recv$tag.out" 2>&1 &
	bgpid[recv$tag]=$!
	wait_until 100 "${bgpid[recv$tag]}" test -e "$tmp/recv$tag.ready" ||
		{ say "receiver $tag did not start: $(cat "$tmp/recv$tag.out")"; return 1; }
	ip netns exec "${ns[$from]}" "$N" tcp-send "${ip4[$to]}" "$port" --bytes "$bytes" \
		--timeout-ms 120000 >"$tmp/send$tag.out" 2>&1 &
	bgpid[send$tag]=$!
}
# xfer_wait TAG BYTES: 0 when the receiver got BYTES.
xfer_wait() {
	local tag=$1 bytes=$2 n name
	for name in send$tag recv$tag; do
		wait "${bgpid[$name]}" 2>/dev/null
		unset "bgpid[$name]"
	done
	n=$(sed -n 's/^tcp-recv [0-9]*: \([0-9]*\) bytes.*/\1/p' "$tmp/recv$tag.out")
	say "transfer $tag: ${n:-?} bytes ($(cat "$tmp/send$tag.out"))"
	[ "${n:-0}" = "$bytes" ]
}
# rate FROM TO: Mbit/s of a 4 s TCP stream from guest FROM to guest TO ("" on failure).
rate() {
	local out
	rm -f "$tmp/rate.ready"
	ip netns exec "${ns[$2]}" "$N" tcp-recv 5301 --timeout-ms 30000 --skip-ms 700 \
		--ready-file "$tmp/rate.ready" >"$tmp/rate.out" 2>&1 &
	bgpid[rate]=$!
	wait_until 100 "${bgpid[rate]}" test -e "$tmp/rate.ready" || return 1
	ip netns exec "${ns[$1]}" "$N" tcp-send "${ip4[$2]}" 5301 --seconds 4 --timeout-ms 20000 \
		>/dev/null 2>&1
	wait "${bgpid[rate]}" 2>/dev/null
	unset "bgpid[rate]"
	out=$(sed -n 's/.*rate_mbit=\([0-9.]*\).*/\1/p' "$tmp/rate.out")
	[ -n "$out" ] || say "rate $1->$2: $(cat "$tmp/rate.out")" >&2
	echo "$out"
}
le() { awk -v a="$1" -v b="$2" 'BEGIN { exit !(a != "" && a <= b) }'; }
ge() { awk -v a="$1" -v b="$2" 'BEGIN { exit !(a != "" && a >= b) }'; }
vif_tbf() { ip netns exec "$dom0" tc qdisc show dev "xvif$1" 2>/dev/null | grep -o 'tbf.*rate [0-9]*[KMG]bit' | head -n 1; }
vps_json() { ctl get "/vps/${id[$1]}"; }
kinds() { ctl get "/vps/${id[$1]}/notices" | jq -r '[.[].kind] | join(" ")'; }

# throttled V: A's throttle is in force: the API says so and the vif has a tbf at the limit.
throttled() {
	local j
	j=$(vps_json "$1") || return 1
	[ "$(jq -r .throttle_mbit <<<"$j")" = "$limit" ] &&
		[ "$(jq -r .quota.state <<<"$j")" = throttled ] &&
		vif_tbf "${domid[$1]}" | grep -q "rate ${limit}Mbit"
}
suspended() {
	local j
	j=$(vps_json "$1") || return 1
	[ "$(jq -r .state <<<"$j")" = suspended ] && [ "$(jq -r .suspension.by <<<"$j")" = quota ] &&
		[ "$(jq -r .domid <<<"$j")" = null ]
}
lifted() {
	local j
	j=$(vps_json "$1") || return 1
	[ "$(jq -r .throttle_mbit <<<"$j")" = 0 ] && [ "$(jq -r .quota.state <<<"$j")" = ok ] &&
		vif_tbf "${domid[$1]}" | grep -q "rate ${net}Mbit"
}
unsuspended() {
	local j
	j=$(vps_json "$1") || return 1
	[ "$(jq -r .state <<<"$j")" = running ] && [ "$(jq -r .suspension <<<"$j")" = null ]
}
# mail_for NOTICE_ID: the sink holds the e-mail of that notice, to the customer.
mail_for() {
	grep -lF "Message-ID: <xvps-quota-$1@xvps>" "$tmp"/mail/msg-*.eml 2>/dev/null |
		xargs -r grep -lF "X-Envelope-To: <$email>" 2>/dev/null | grep -q .
}
# mails_ok V KIND...: every notice of those kinds of V is listed and was e-mailed.
mails_ok() {
	local v=$1 k nid
	shift
	for k in "$@"; do
		nid=$(ctl get "/vps/${id[$v]}/notices" | jq -r --arg k "$k" '[.[] | select(.kind == $k)][0].id // empty')
		[ -n "$nid" ] && mail_for "$nid" || return 1
	done
}
# until_deadline CMD...: 0 when CMD succeeds before the real clock passes $deadline (unix s).
until_deadline() {
	while [ "$(date +%s)" -le "$deadline" ]; do
		"$@" && return 0
		sleep 0.5
	done
	return 1
}

# ---- past the quota ----------------------------------------------------------------------------

# The first chunk: 900 MiB each, over 80 % but (even with every frame's headers) under 100 %.
bytes=$((mib1 * 1024 * 1024))
xfer_start A1 A B 5202 "$bytes" && xfer_start C1 C B 5203 "$bytes" || die "chunk 1 did not start"
xfer_wait A1 "$bytes" && xfer_wait C1 "$bytes" || die "chunk 1 did not arrive whole"
sleep $((interval * 2)) # two sweeps: the first chunk is all metered, not over yet
for v in A C; do
	s=$(vps_json $v | jq -r .quota.state)
	say "after $mib1 MiB: VPS $v quota state $s"
	[ "$s" = notice_80 ] || fail "a0 $v: after $mib1 MiB the quota state is $s, not notice_80"
done

# Then a stream each that crosses 100 % and keeps going: the action lands on running traffic
# (a shaper changed under a full queue must not wedge it: see provisioning/shaping.c).
stream_start() { # TAG FROM TO PORT
	ip netns exec "${ns[$3]}" "$N" tcp-recv "$4" --timeout-ms 90000 --skip-ms 0 \
		--ready-file "$tmp/recv$1.ready" >"$tmp/recv$1.out" 2>&1 &
	bgpid[recv$1]=$!
	wait_until 100 "${bgpid[recv$1]}" test -e "$tmp/recv$1.ready" || return 1
	ip netns exec "${ns[$2]}" "$N" tcp-send "${ip4[$3]}" "$4" --seconds 75 --timeout-ms 10000 \
		>"$tmp/send$1.out" 2>&1 &
	bgpid[send$1]=$!
}
stream_stop() { # TAG: ends both ends (pids this script started)
	local name
	for name in send$1 recv$1; do
		[ -n "${bgpid[$name]:-}" ] || continue
		kill -TERM "${bgpid[$name]}" 2>/dev/null
		wait "${bgpid[$name]}" 2>/dev/null
		unset "bgpid[$name]"
	done
}
# vif_rate DOMID SECONDS [rx|tx]: Mbit/s through the guest's vif, as its dom0 end counts: rx
# (default) what the guest sent — counted before the netdev ingress hook, so with what the
# policer then drops —, tx what reached the guest.
vif_rate() {
	local f=/sys/class/net/xvif$1/statistics/${3:-rx}_bytes a b
	a=$(ip netns exec "$dom0" cat "$f") || return 1
	sleep "$2"
	b=$(ip netns exec "$dom0" cat "$f") || return 1
	awk -v a="$a" -v b="$b" -v s="$2" 'BEGIN { printf "%.2f\n", (b - a) * 8 / s / 1e6 }'
}
t_cross=$(date +%s) # the crossing is after this
stream_start A2 A B 5204 && stream_start C2 C B 5205 || die "the streams did not start"
deadline=$((t_cross + 60))

if until_deadline throttled A; then
	pass "a A: throttled to $limit Mbit/s (API and the vif's tbf) $(($(date +%s) - t_cross)) s after its stream started: $(vif_tbf "${domid[A]}")"
else
	fail "a A: not throttled within 60 s of the crossing: $(vps_json A | jq -c '{state, throttle_mbit, quota}') tc: $(vif_tbf "${domid[A]}")"
fi
if until_deadline suspended C; then
	pass "b C: suspended by the quota and stopped $(($(date +%s) - t_cross)) s after its stream started"
else
	fail "b C: not suspended within 60 s of the crossing: $(vps_json C | jq -c '{state, domid, suspension, quota}')"
fi
# What A's stream delivers once throttled, read where it arrives: B's vif (C, suspended above,
# sends nothing any more). A's own vif counts what A offers, before the policer in A's table
# drops the excess, so TCP's overshoot and retransmissions read there as rate (one CI run:
# 31.71 of 20 Mbit/s). First the policer's burst: a new rule's bucket holds one second of the
# rate plus 250 ms (nftables' byte limit), spent at line speed.
sleep 2
r=$(vif_rate "${domid[B]}" 4 tx)
if kill -0 "${bgpid[sendA2]}" 2>/dev/null && le "$r" "$(awk -v l="$limit" 'BEGIN { print l * 1.5 }')" && ge "$r" "$(awk -v l="$limit" 'BEGIN { print l / 4 }')"; then
	pass "a rate of A's running stream once throttled: $r Mbit/s delivered to B's vif (limit $limit; at most 1.5 x, at least 1/4)"
else
	fail "a rate of A's running stream once throttled: ${r:-none} Mbit/s delivered to B's vif (limit $limit; at most 1.5 x, at least 1/4; sender: $(cat "$tmp/sendA2.out"))"
fi
stream_stop A2
stream_stop C2

for pair in "A B" "B A"; do
	read -r from to <<<"$pair"
	r=$(rate "$from" "$to")
	if le "$r" "$(awk -v l="$limit" 'BEGIN { print l * 1.5 }')" && ge "$r" 0.5; then
		pass "a rate $from->$to throttled: $r Mbit/s (limit $limit, at most 1.5 x)"
	else
		fail "a rate $from->$to throttled: ${r:-none} Mbit/s (limit $limit, at most 1.5 x)"
	fi
done

# The suspended VPS is closed to its customer.
cjar=$tmp/cust.jar
ccsrf=$(curl -fsS -c "$cjar" -H 'Content-Type: application/json' \
	-d "{\"username\":\"quotacust\",\"password\":\"$cpw\"}" "$url/api/v1/session" |
	jq -r .csrf_token) || die "customer login"
for what in actions/start console; do
	code=$(curl -sS -o "$tmp/refused.json" -w '%{http_code}' -b "$cjar" -H "X-CSRF-Token: $ccsrf" \
		-X POST "$url/api/v1/vps/${id[C]}/$what")
	detail=$(jq -r .detail "$tmp/refused.json" 2>/dev/null)
	if [ "$code" = 409 ] && [[ $detail == *suspended* ]]; then
		pass "b C: the customer's $what answers 409: $detail"
	else
		fail "b C: the customer's $what answers $code: $(cat "$tmp/refused.json")"
	fi
done

# Notices and their e-mails.
for v in A C; do
	act=$([ $v = A ] && echo throttled || echo suspended)
	got=$(kinds $v)
	if [ "$got" = "$act notice_100 notice_80" ]; then
		pass "c $v: notices (newest first) $got"
	else
		fail "c $v: notices are \"$got\", expected \"$act notice_100 notice_80\""
	fi
	deadline=$(($(date +%s) + 30))
	if until_deadline mails_ok $v notice_80 notice_100 $act; then
		pass "c $v: e-mails of notice_80, notice_100 and $act received by the SMTP sink, to $email"
	else
		fail "c $v: e-mails missing; sink holds $(ls "$tmp/mail" | wc -l) message(s); notices: $(ctl get "/vps/${id[$v]}/notices" | jq -c '[.[] | {id, kind, delivered_email, last_error}]')"
	fi
done

# ---- the next period (fake clock) -------------------------------------------------------------

now=$(date -u +%s)
next=$(date -u -d "$(date -u +%Y-%m-01) +1 month" +%s)
offset=$((next + 3600 - now))
echo "$offset" >"$clock.tmp" && mv "$clock.tmp" "$clock"
t_roll=$(date +%s)
deadline=$((t_roll + 60))
say "fake clock: +$offset s, xvpsd's time is now $(date -u -d "@$((now + offset))" +%Y-%m-%dT%H:%M:%SZ)"
if until_deadline lifted A; then
	pass "d A: throttle lifted $(($(date +%s) - t_roll)) s after the period rolled over (fake clock)"
else
	fail "d A: throttle not lifted within 60 s of the rollover: $(vps_json A | jq -c '{throttle_mbit, quota}') tc: $(vif_tbf "${domid[A]}")"
fi
if until_deadline unsuspended C; then
	pass "d C: unsuspended and running again $(($(date +%s) - t_roll)) s after the rollover"
else
	fail "d C: not running again within 60 s of the rollover: $(vps_json C | jq -c '{state, suspension, quota}')"
fi
r=$(rate A B)
if ge "$r" $((limit * 3)); then
	pass "d rate A->B lifted: $r Mbit/s (at least 3 x the limit $limit)"
else
	fail "d rate A->B lifted: ${r:-none} Mbit/s (want at least $((limit * 3)))"
fi
for v in A C; do
	act=$([ $v = A ] && echo throttled || echo suspended)
	got=$(kinds $v)
	[ "$got" = "lifted $act notice_100 notice_80" ] && pass "d $v: notices $got" ||
		fail "d $v: notices are \"$got\", expected \"lifted $act notice_100 notice_80\": $(ctl get "/vps/${id[$v]}/notices" | jq -c '[.[] | {kind, at, period_start, used_bytes}]')"
	deadline=$(($(date +%s) + 30))
	until_deadline mails_ok $v lifted && pass "d $v: the lifted e-mail was received" ||
		fail "d $v: no e-mail of the lifted notice"
done

for f in agent xvpsd; do
	mapfile -t reports < <(sanitizer_reports "$tmp/$f.log")
	[ ${#reports[@]} -eq 0 ] || fail "sanitizer report in the $f log"
done
echo "test-quota: $((SECONDS - t_start)) s"
if [ ${#failed[@]} -gt 0 ]; then
	echo "test-quota: FAILED: ${failed[*]}"
	for f in agent xvpsd sink; do
		[ -s "$tmp/$f.log" ] && { echo "---- last lines of $f.log"; tail -n 15 "$tmp/$f.log"; }
	done
	exit 1
fi
exit 0
