#!/usr/bin/env bash
# tests/appliance/run.sh [--bench | --bench-only] [--keep] — `make appliance-test` (issue 5, item 5): boots the
# appliance image (dom0-image/run.sh --detach --fresh, kernel options xvps.autologin and
# xvps.testshell) in QEMU under TCG and drives its real HTTPS API from this machine with curl +
# jq, on 127.0.0.1 only: admin makes a plan, imports the guest template (debian-12.img in the
# agent's XVPS_TEMPLATE_DIR), an IPv4 pool and a customer; the customer orders a VPS with an SSH
# key, and in dom0 (through the test shell: tests/appliance/dom0sh.py on run/shell.sock) the test
# looks for its thin LV, xl.cfg, running domain, credit2 weight/cap, firewall chains, qdiscs and
# the guest's login prompt (xenconsoled's guest log), checks the panel's console over wss://,
# reboots (new domid, same vifname), shuts down, starts and deletes it (nothing left behind).
# Issue 13: before the API reboot, the guest reboots, powers off and crashes by itself
# (guest_power below): the panel shows each (audit vps.guest_reboot/_poweroff/_crash) within 10 s
# of the trigger, or for an orderly reboot/poweroff over SSH of the domain's shutdown (measured
# with the API, printed as `latency:` lines), the ledger's CPU (GET
# /vps/{id} cpu and /usage) against `xl list` before plus after the reboot, stopped and not
# restarted after a poweroff; a crash started again under the plan's on_crash "restart" and left
# stopped under "stop".
#
# Prints one PASS/FAIL line per step and `time:` lines (order → domain running, → login prompt).
# Under TCG dom0's memory is sometimes corrupted once domUs run: when dom0 stops answering, the
# whole run is retried on a fresh boot, up to XVPS_APPLIANCE_TRIES (3) boots; the number of boots
# is reported. --bench adds `bench:` lines: order → domain running, and in dom0 a thin snapshot of
# a ${XVPS_BENCH_GIB:-10} GiB template LV (lvcreate -kn -s) against a full dd copy of it, and
# bench_provision (issue 17 item 6): orders through the API against a bare lvcreate + lvextend +
# xl create, alternating, and their ratio. --bench-only: the setup steps and bench_provision only.
# --keep leaves the appliance running at the end (dom0-image/run.sh --stop ends it).
# Stops only the QEMU it started; removes its temp files. Exit status 0 only when every step passed.
set -uo pipefail
here=$(cd "$(dirname "$0")" && pwd)
repo=$(cd "$here/../.." && pwd)
run_sh=$repo/dom0-image/run.sh
rundir=${XVPS_APPLIANCE_DIR:-${XVPS_CACHE:-/var/cache/xvps}/appliance}/run
SOCK=$rundir/shell.sock
PORT=${XVPS_APPLIANCE_HTTPS_PORT:-8443}
URL=https://127.0.0.1:$PORT
TRIES=${XVPS_APPLIANCE_TRIES:-3}
# dom0-image/run.sh's own defaults (qemu64,+svm,+npt, one vCPU) are the ones this test runs with.
BOOT_TIMEOUT=${XVPS_APPLIANCE_BOOT_TIMEOUT:-1200}
GUEST_TIMEOUT=${XVPS_APPLIANCE_GUEST_TIMEOUT:-1800}
# The template's boot mode: PVH by default (issue 15 item 4; it needs the HAP that QEMU's TCG SVM
# nested paging, -cpu qemu64,+svm,+npt, gives Xen); pv is the fallback verified with qemu64.
GUEST_BOOT=${XVPS_APPLIANCE_GUEST_BOOT:-pvh}
case $GUEST_BOOT in pv | pvh) ;; *) echo "XVPS_APPLIANCE_GUEST_BOOT: pv or pvh" >&2; exit 2 ;; esac
bench=0
keep=0
# --bench-only (or XVPS_APPLIANCE_BENCH_ONLY=1): boot, plan, template import, pool and customer,
# the provisioning rounds of bench_provision, tidy up: no lifecycle steps (~10-15 min).
bench_only=${XVPS_APPLIANCE_BENCH_ONLY:-0}
for a in "$@"; do
	case $a in
	--bench) bench=1 ;;
	--bench-only) bench_only=1 ;;
	--keep) keep=1 ;;
	*) echo "usage: tests/appliance/run.sh [--bench | --bench-only] [--keep]" >&2; exit 2 ;;
	esac
done
[ "$bench_only" = 1 ] && bench=1
# One run at a time (make appliance-test holds the lock already, over the image build too).
if [ "${XVPS_APPLIANCE_LOCKED:-0}" != 1 ]; then
	mkdir -p "$rundir/.."
	exec 9>"$rundir/../test.lock"
	flock -n 9 || { echo "appliance-test: another run holds $rundir/../test.lock" >&2; exit 2; }
fi
# XVPS_APPLIANCE_GUEST_POWER=0 skips issue 13's guest-initiated reboot/poweroff/crash steps.
GUEST_POWER=${XVPS_APPLIANCE_GUEST_POWER:-1}
# XVPS_APPLIANCE_ONLY=power runs the first VPS only up to the guest's own reboot, poweroff and
# crashes (issue 13), then deletes it and tidies up.
# XVPS_APPLIANCE_ONLY=cloud runs only the cloud-init guest's steps (issue 16 item 7) after the
# boot, the plans, the pool and the customer: about 15 min instead of 50.
# XVPS_APPLIANCE_ONLY=reboot orders the first VPS, waits for its login prompt, then goes
# straight to the dom0 reboot (a second VPS powered off, `systemctl reboot` through the
# firmware, exactly the running VPS back), deletes both and tidies up (issue 15: the reboot
# through UEFI without the hour before it).
ONLY=${XVPS_APPLIANCE_ONLY:-}
case $ONLY in '' | cloud | power | reboot) ;; *) echo "XVPS_APPLIANCE_ONLY: empty, cloud, power or reboot" >&2; exit 2 ;; esac
for t in curl jq python3 openssl ssh-keygen; do
	command -v "$t" >/dev/null || { echo "appliance-test: $t is missing" >&2; exit 2; }
done

work=$(mktemp -d /tmp/xvps-appliance-test.XXXXXX)
qpid=
stop_qemu() {
	if [ -n "$qpid" ] && kill -0 "$qpid" 2>/dev/null; then
		# run.sh --stop kills exactly the pid in run/qemu.pid: ours (checked before).
		if [ "$(cat "$rundir/qemu.pid" 2>/dev/null)" = "$qpid" ]; then
			"$run_sh" --stop >/dev/null 2>&1
		else
			kill -TERM "$qpid" 2>/dev/null
		fi
	fi
	qpid=
}
cleanup() {
	if [ "$keep" = 1 ] && [ -n "$qpid" ]; then
		echo "appliance-test: --keep: QEMU $qpid still runs (dom0-image/run.sh --stop)"
	else
		stop_qemu
	fi
	rm -rf "$work"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

fails=0
passes=0
pass() { passes=$((passes + 1)); echo "PASS $step: $*"; }
fail() { fails=$((fails + 1)); echo "FAIL $step: $*"; }
now() { date +%s.%N; }
since() { awk -v a="$1" -v b="$(now)" 'BEGIN { printf "%.1f", b - a }'; }
one() { tr '\n' ' ' | sed 's/  */ /g; s/ $//' | cut -c1-300; }

# dom0 CMD... — runs CMD in dom0 (T=seconds, default 120); status 125: no shell (dom0 gone).
dom0() { python3 "$here/dom0sh.py" "$SOCK" --timeout "${T:-120}" "$*"; }
# Dom0 gone (QEMU dead, or the test shell unreachable): abandon this boot.
lost() {
	if [ -z "$qpid" ] || ! kill -0 "$qpid" 2>/dev/null; then return 0; fi
	# A busy dom0 (a guest booting under TCG) can be slow to start a shell: three chances.
	local i rc
	for i in 1 2 3; do
		T=120 dom0 true >/dev/null 2>&1
		rc=$?
		[ "$rc" = 125 ] || [ "$rc" = 124 ] || return 1
		kill -0 "$qpid" 2>/dev/null || return 0
	done
	return 0
}

admin() { curl -sS -k --max-time 900 -b "$work/admin.jar" -H "X-CSRF-Token: $A" "$@"; }
cust() { curl -sS -k --max-time 900 -b "$work/cust.jar" -H "X-CSRF-Token: $C" "$@"; }
# job_wait ID [SECONDS] — prints the job's final state (done/failed) or "timeout"; read as the
# customer, or as the admin with JOB_AS=admin (the customer gets 404 for an admin's job).
job_wait() {
	local end=$(($(date +%s) + ${2:-900})) s
	[[ $1 =~ ^[0-9]+$ ]] || { echo "no job"; return; }
	while [ "$(date +%s)" -lt "$end" ]; do
		s=$("${JOB_AS:-cust}" "$URL/api/v1/jobs/$1" | jq -r .state 2>/dev/null)
		case $s in done | failed) echo "$s"; return ;; esac
		sleep 2
	done
	echo timeout
}
action() { job_wait "$(cust -X POST "$URL/api/v1/vps/$VPS/actions/$1" | jq -r .job.id)" "${2:-900}"; }
domid_of() { T=60 dom0 "xl domid xvps-$VPS 2>/dev/null"; }

# --- boot ----------------------------------------------------------------------------------
boot() {
	local t0 log=$work/console-$try.log
	t0=$(now)
	step="boot $try"
	XVPS_APPLIANCE_DOM0_ARGS="xvps.autologin xvps.testshell ${XVPS_APPLIANCE_DOM0_ARGS:-}" \
		XVPS_APPLIANCE_LOG=$log "$run_sh" --detach --fresh >"$work/run.out" 2>&1 ||
		{ fail "dom0-image/run.sh --detach: $(one <"$work/run.out")"; return 1; }
	qpid=$(cat "$rundir/qemu.pid" 2>/dev/null)
	[ -n "$qpid" ] || { fail "no QEMU pid"; return 1; }
	local end=$(($(date +%s) + BOOT_TIMEOUT))
	until curl -sfk --max-time 5 -o /dev/null "$URL/healthz"; do
		kill -0 "$qpid" 2>/dev/null || { fail "QEMU died during boot: $(tail -c 600 "$log" | one)"; qpid=; return 1; }
		[ "$(date +%s)" -lt "$end" ] || { fail "no /healthz after ${BOOT_TIMEOUT} s: $(tail -c 600 "$log" | one)"; return 1; }
		sleep 5
	done
	pass "QEMU $qpid, https://127.0.0.1:$PORT/healthz answers after $(since "$t0") s"
	step="dom0 shell"
	local out
	out=$(T=300 dom0 'uname -r; xl info | grep -E "^(xen_version|xen_scheduler|free_memory)"; systemctl is-active xvps-agent xvpsd')
	[ $? = 0 ] || { fail "no test shell in dom0: $out"; return 1; }
	pass "$(echo "$out" | one)"
	# xenconsoled logs every guest's console (for the login prompt): restarted with --log=guest.
	# (A unit of its own: the test shell's cgroup is killed when the connection closes.)
	out=$(T=60 dom0 'p=$(pgrep -x xenconsoled); [ -n "$p" ] && kill $p; sleep 1
		x=$(ls /usr/lib/xen-*/bin/xenconsoled 2>/dev/null | head -1); x=${x:-xenconsoled}
		mkdir -p /var/log/xen/console
		systemd-run --quiet --unit=xvps-test-xenconsoled "$x" -i --log=guest \
			--log-dir=/var/log/xen/console --pid-file=/run/xenconsoled.pid
		sleep 2; pgrep -a xenconsoled')
	step="xenconsoled --log=guest"
	case $out in *--log=guest*) pass "$(echo "$out" | one)" ;; *) fail "$(echo "$out" | one)" ;; esac
	return 0
}

# --- guest-initiated reboot, poweroff and crash (issue 13, items 2 and 3) -----------------------
# The guest's own `systemctl reboot` / `systemctl poweroff` and a crash (`echo c >
# /proc/sysrq-trigger`), run over SSH from dom0 (the host's ssh client is copied into dom0, which
# has none; dom0 takes the pool's gateway address on xenbr0; the VPS's key is the one it was
# ordered with). When SSH does not get in, the guest kernel is asked through `xl sysrq` (b:
# reboot, o: poweroff, c: crash): still the guest's own SCHEDOP_shutdown, but not its userspace;
# the output says which one was used; `xl sysrq c` does nothing in the template (Debian's
# kernel.sysrq=438 masks sysrq's crash for xenstore requests too; seen on 2026-12-07: "This sysrq
# operation is disabled"), /proc/sysrq-trigger inside is not masked. Two crashes: under the
# plan's on_crash "restart", then after the plan is changed to "stop". Each must reach
# the panel (its audit row, through the API) within 10 s (latency_check): `latency:` lines.
# A watcher in dom0 (/run/xlwatch) lists the domains every ~0.3 s, and copies `xl list` and
# `xl list -l` while Xen preserves the domain shut down: the old domain's last CPU seconds come
# from there. The ledger (GET /vps/{id} cpu, GET /vps/{id}/usage total.cpu_ns) must match the old
# domain's last Time(s) plus the new one's at the sample's time, within one sample's CPU (what the
# new domain used in the XVPS_METER_INTERVAL before it). Recorded outputs are copied to
# $XVPS_APPLIANCE_RECORD (default /tmp/xvps-appliance-recorded).
RECORD=${XVPS_APPLIANCE_RECORD:-/tmp/xvps-appliance-recorded}
METER_S=${XVPS_METER_INTERVAL:-10}
# dom0_put LOCAL REMOTE — copies a file into dom0 (gzip + base64 in chunks through the test shell).
dom0_put() {
	local b64=$work/put.b64 c
	gzip -c "$1" | base64 -w0 | fold -w 60000 >"$b64"
	T=60 dom0 "rm -f '$2.b64'" >/dev/null || return 1
	# (fold ends its last line without a newline: read still returns it in c.)
	while IFS= read -r c || [ -n "$c" ]; do
		T=120 dom0 "printf '%s' '$c' >>'$2.b64'" >/dev/null || return 1
	done <"$b64"
	c=$(T=120 dom0 "base64 -d '$2.b64' | gunzip >'$2' && rm -f '$2.b64' && chmod 0700 '$2' && sha256sum '$2'")
	[ "${c%% *}" = "$(sha256sum <"$1" | cut -d' ' -f1)" ] || { echo "      dom0_put $1: $(echo "$c" | one)" >&2; return 1; }
}
# guest_ssh CMD — runs CMD in the guest as root over SSH from dom0; prints its output.
guest_ssh() {
	T=${T:-100} dom0 "timeout 90 /var/lib/xvps-test/ssh -F none -i /var/lib/xvps-test/key -o BatchMode=yes \
		-o StrictHostKeyChecking=no -o UserKnownHostsFile=/dev/null -o ConnectTimeout=30 \
		-o LogLevel=ERROR root@$GUEST_IP '$1'"
}
# xlwatch_rows DOMID — the watcher's rows of xvps-$VPS with that domid: "epoch state seconds".
xlwatch_rows() {
	T=120 dom0 "awk -v n=xvps-$VPS -v d=$1 '\$1 == \"@\" { t = \$2 } \$1 == n && \$2 == d { print t, \$5, \$6 }' /run/xlwatch/list.log"
}
# audit_at ACTION — epoch (dom0's clock) of the newest audit row ACTION about vps/$VPS, or empty.
audit_at() {
	local at
	at=$(admin "$URL/api/v1/audit?resource=vps/$VPS&limit=20" |
		jq -r --arg a "$1" '[.[] | select(.action == $a)][0].at // empty' 2>/dev/null)
	[ -n "$at" ] && date -d "$at" +%s
}
# audit_n ACTION — how many audit rows ACTION about vps/$VPS the panel shows.
audit_n() {
	admin "$URL/api/v1/audit?resource=vps/$VPS&limit=100" |
		jq --arg a "$1" '[.[] | select(.action == $a)] | length' 2>/dev/null || echo 0
}
# audit_detail ACTION — the newest such row's detail.
audit_detail() {
	admin "$URL/api/v1/audit?resource=vps/$VPS&limit=20" |
		jq -r --arg a "$1" '[.[] | select(.action == $a)][0].detail // empty' 2>/dev/null
}
# panel_sees ACTION N0 — polls the API (every ~0.5 s, up to 300 s) until vps/$VPS has more than
# N0 audit rows ACTION; prints the host time it first saw it (the panel's side), or nothing.
panel_sees() {
	local end=$(($(date +%s) + 300)) n
	while [ "$(date +%s)" -lt "$end" ]; do
		n=$(audit_n "$1")
		[ "${n:-0}" -gt "$2" ] 2>/dev/null && { now; return 0; }
		sleep 0.5
	done
	return 1
}
# guest_act reboot|poweroff|crash — the guest's own reboot/poweroff/crash; prints "ssh (...)" or
# "xl sysrq K (...)" (the way) and writes the trigger's host time to $work/t_trig: for SSH the
# moment the ssh command returned (the guest's `systemctl --no-block` has been asked by then; the
# ssh command's own duration is printed too), for sysrq the moment before `xl sysrq` was sent.
guest_act() {
	local out key=b i t0 t1 cmd
	case $1 in
	poweroff) key=o cmd="systemctl --no-block poweroff" ;;
	crash) key=c cmd="nohup sh -c \"sleep 1; echo c >/proc/sysrq-trigger\" </dev/null >/dev/null 2>&1 &" ;;
	*) cmd="systemctl --no-block reboot" ;;
	esac
	# The guest's sshd may come up after its login prompt: up to 240 s for it to answer ping.
	local end=$(($(date +%s) + 240))
	until T=30 dom0 "ping -c1 -W3 $GUEST_IP" >/dev/null 2>&1 || [ "$(date +%s)" -ge "$end" ]; do
		sleep 5
	done
	for i in 1 2 3; do
		t0=$(now)
		out=$(guest_ssh "echo XVPS_IN_GUEST \$(hostname) \$(cut -d\" \" -f1 /proc/uptime); $cmd" 2>&1)
		t1=$(now)
		echo "$out" | grep -q XVPS_IN_GUEST && break
		sleep 20
	done
	if echo "$out" | grep -q XVPS_IN_GUEST; then
		# (A crash is triggered 1 s after the ssh command returns, by the guest itself.)
		[ "$1" = crash ] && t1=$(awk -v t="$t1" 'BEGIN { printf "%.3f", t + 1 }')
		echo "$t1" >"$work/t_trig"
		echo "ssh ($(echo "$out" | grep XVPS_IN_GUEST | one); the ssh command took $(awk -v a="$t0" -v b="$t1" 'BEGIN { printf "%.1f", b - a }') s)"
		return 0
	fi
	echo "      ssh into the guest failed: $(echo "$out" | one)" >&2
	sysrq_act "$key"
	echo "xl sysrq $key (ssh failed)"
}
# sysrq_act KEY — `xl sysrq xvps-$VPS KEY` from dom0; the trigger time (before it) in $work/t_trig.
sysrq_act() {
	now >"$work/t_trig"
	T=60 dom0 "xl sysrq xvps-$VPS $1" >/dev/null 2>&1
}
# latency_check ACTION N0 WHAT DOMID_OLD FROM — waits until the panel shows one more audit row
# ACTION than N0 (issue 13 item 3: within 10 s) and prints the seconds from the trigger
# ($work/t_trig, host clock) and from the domain first seen shut down by the xl watcher (dom0's
# clock, moved to the host's by CLOCK_OFF). FROM says which one must be <= 10 s: "trigger" for a
# crash or a sysrq (the guest's end follows the trigger at once), "shutdown" for the guest's
# orderly `systemctl reboot|poweroff` (its own service stop before it, 20 s under TCG, is the
# guest's, not the panel's).
latency_check() {
	local t_seen t_trig lat lat_sd t_ev t_au l
	t_seen=$(panel_sees "$1" "$2")
	t_trig=$(cat "$work/t_trig" 2>/dev/null)
	t_ev=$(xlwatch_rows "$4" | awk '$2 ~ /[sc]/ { print $1; exit }')
	t_au=$(audit_at "$1")
	if [ -z "$t_seen" ]; then
		fail "$3: the panel showed no new $1 within 300 s"
		return 1
	fi
	lat=$(awk -v a="$t_seen" -v b="$t_trig" 'BEGIN { printf "%.1f", a - b }')
	lat_sd=$(awk -v a="$t_seen" -v e="$t_ev" -v o="${CLOCK_OFF:-0}" 'BEGIN { if (e == "") print "?"; else printf "%.1f", a - (e - o) }')
	echo "latency: $3: the panel showed $1 $lat s after the trigger, $lat_sd s after the domain was first seen shut down ($(awk -v e="$t_ev" -v t="$t_trig" -v o="${CLOCK_OFF:-0}" 'BEGIN { if (e == "") print "?"; else printf "%.1f", e - o - t }') s after the trigger; its audit row at +$(awk -v e="$t_ev" -v a="$t_au" 'BEGIN { if (e == "" || a == "") print "?"; else printf "%.1f", a - e }') s, whole seconds)"
	echo "      audit detail: $(audit_detail "$1")"
	l=$lat
	[ "$5" = shutdown ] && l=$lat_sd
	if awk -v l="$l" 'BEGIN { exit !(l != "?" && l <= 10) }'; then
		pass "$3: the panel learnt it (audit $1) $l s after the $5 (<= 10 s)"
	else
		fail "$3: the panel learnt it (audit $1) $l s after the $5 (> 10 s)"
	fi
}
# from_of WAY — what an orderly reboot/poweroff's latency counts from: the shutdown for SSH.
from_of() { case $1 in ssh*) echo shutdown ;; *) echo trigger ;; esac; }
# clock_offset — dom0's clock minus the host's (s), into CLOCK_OFF (for the printed dom0 times).
clock_offset() {
	local a b d
	a=$(now)
	d=$(T=30 dom0 "date +%s.%N")
	b=$(now)
	CLOCK_OFF=$(awk -v a="$a" -v b="$b" -v d="$d" 'BEGIN { printf "%.3f", d - (a + b) / 2 }')
	echo "      dom0 clock - host clock: $CLOCK_OFF s (+- $(awk -v a="$a" -v b="$b" 'BEGIN { printf "%.2f", (b - a) / 2 }') s)"
}
# wait_login N — waits until the guest's console log shows N boots (login prompts or sshd
# started; under load systemd may give up on /dev/hvc0 and print no prompt, see below); status 1 when
# dom0 is lost, 2 when the VPS is not running (nothing to wait for).
wait_login() {
	local end=$(($(date +%s) + GUEST_TIMEOUT)) n
	while [ "$(date +%s)" -lt "$end" ]; do
		# The larger of the two counts: a boot may lack either line (no getty on hvc0; a
		# status line that systemd redrew over "Started ssh.service", seen once).
		n=$(T=60 dom0 "f=/var/log/xen/console/guest-xvps-$VPS.log; a=\$(grep -a -c 'login:' \$f); b=\$(grep -a -o -E 'Started .{0,20}ssh\\.service' \$f | wc -l); [ \$a -gt \$b ] && echo \$a || echo \$b")
		[ "${n:-0}" -ge "$1" ] 2>/dev/null && break
		lost && return 1
		[ "$(cust "$URL/api/v1/vps/$VPS" | jq -r .state)" = running ] || { echo "      the VPS is not running"; return 2; }
		sleep 5
	done
	echo "      boots (login prompt or sshd) in the guest's console log: ${n:-?}"
}
# start_vps — the start action, tried twice: under TCG `xl create` sometimes fails when libxl's
# timeout kills Xen's block hotplug script (seen on 2026-12-07). PASS/FAIL under $step.
start_vps() {
	local i job s out
	for i in 1 2; do
		job=$(cust -X POST "$URL/api/v1/vps/$VPS/actions/start" | jq -r .job.id)
		s=$(job_wait "$job")
		out=$(cust "$URL/api/v1/vps/$VPS" | jq -c '{state,domid}')
		[ "$s" = done ] && echo "$out" | grep -q running && { pass "$out (attempt $i)"; return 0; }
		echo "      start job $job: $s: $(cust "$URL/api/v1/jobs/$job" | jq -r .error | one)"
		lost && return 1
	done
	fail "job $s, $out"
	return 2
}
# ledger_check DOMID_OLD DOMID_NEW — compares the panel's CPU with xl list's; PASS/FAIL.
ledger_check() {
	local a_old a_state v sampled s_epoch u_ns p_ns rows b_at b_prev exp diff tol i
	rows=$(xlwatch_rows "$1")
	a_old=$(echo "$rows" | tail -1 | awk '{print $3}')
	a_state=$(echo "$rows" | tail -1 | awk '{print $2}')
	# Two sweeps after the new domain, then the same sample read through both routes.
	sleep $((2 * METER_S + 2))
	for i in 1 2 3 4 5; do
		v=$(cust "$URL/api/v1/vps/$VPS")
		sampled=$(echo "$v" | jq -r .cpu.sampled_at)
		p_ns=$(echo "$v" | jq -r .cpu.seconds | awk '{ printf "%.0f", $1 * 1e9 }')
		u_ns=$(cust "$URL/api/v1/vps/$VPS/usage?step=1h" | jq -r .total.cpu_ns)
		[ "$(cust "$URL/api/v1/vps/$VPS" | jq -r .cpu.sampled_at)" = "$sampled" ] && break
	done
	s_epoch=$(date -d "$sampled" +%s 2>/dev/null)
	rows=$(xlwatch_rows "$2")
	# The new domain's Time(s) at the sample (the watcher's last row at or before it) and
	# METER_S earlier: their difference is one sample's CPU.
	b_at=$(echo "$rows" | awk -v s="$s_epoch" '$1 <= s + 0.999 { v = $3 } END { print v + 0 }')
	b_prev=$(echo "$rows" | awk -v s="$s_epoch" -v m="$METER_S" '$1 <= s - m + 0.999 { v = $3 } END { print v + 0 }')
	exp=$(awk -v a="$a_old" -v b="$b_at" 'BEGIN { printf "%.0f", (a + b) * 1e9 }')
	tol=$(awk -v a="$b_at" -v b="$b_prev" 'BEGIN { t = (a - b) * 1e9; if (t < 2e8) t = 2e8; printf "%.0f", t }')
	echo "      ledger: old domain $1 last Time(s) $a_old (state $a_state), new domain $2 Time(s) $b_at at the sample $sampled ($b_prev ${METER_S} s before); panel cpu.seconds $(echo "$v" | jq -r .cpu.seconds), usage total.cpu_ns $u_ns"
	for s in "cpu.seconds:$p_ns" "usage total.cpu_ns:$u_ns"; do
		step="ledger CPU ($1 -> $2): ${s%%:*}"
		diff=$(awk -v p="${s##*:}" -v e="$exp" 'BEGIN { d = p - e; printf "%.0f", d }')
		if [ -n "$a_old" ] && [[ ${s##*:} =~ ^[0-9]+$ ]] &&
			awk -v d="$diff" -v t="$tol" 'BEGIN { exit !(d <= t && -d <= t) }'; then
			pass "${s##*:} ns = xl list $a_old + $b_at s = $exp ns, diff $diff ns, within one sample's CPU ($tol ns)"
		else
			fail "${s##*:} ns; xl list $a_old + $b_at s = $exp ns, diff $diff ns, one sample's CPU $tol ns"
		fi
	done
}

# ssh_tools — the host's ssh client and the VPS's key into dom0 (/var/lib/xvps-test), the pool's
# gateway address on xenbr0, GUEST_IP from the API; once per boot of dom0 (TOOLS_BOOT).
ssh_tools() {
	local out
	GUEST_IP=$(cust "$URL/api/v1/vps/$VPS" | jq -r '.ipv4[0] | if type == "object" then .address else . end // empty' 2>/dev/null)
	GUEST_IP=${GUEST_IP%%/*}
	[ "${TOOLS_BOOT:-}" = "$qpid" ] && return 0
	# (The tools go to /var/lib/xvps-test on dom0's root file system; the watcher's output to /run.)
	out=$(T=60 dom0 "mkdir -p /var/lib/xvps-test /run/xlwatch && chmod 0700 /var/lib/xvps-test &&
		(ip addr show dev xenbr0 | grep -q ' 192.0.2.1/' || ip addr add 192.0.2.1/24 dev xenbr0)" 2>&1)
	[ -n "$out" ] && echo "      dom0 setup: $(echo "$out" | one)"
	dom0_put /usr/bin/ssh /var/lib/xvps-test/ssh && dom0_put "$work/key" /var/lib/xvps-test/key &&
		TOOLS_BOOT=$qpid
}

guest_power() {
	local out way d_old d_new t_ev end i n0 v v2
	step="guest power: tools in dom0"
	ssh_tools
	T=60 dom0 "cat >/var/lib/xvps-test/xlwatch.sh <<'XLW'
#!/bin/bash
n=\$1; k=0
while :; do
	t=\$(date +%s.%N); l=\$(xl list 2>&1)
	printf '@ %s\n%s\n' \"\$t\" \"\$l\" >>/run/xlwatch/list.log
	if printf '%s\n' \"\$l\" | awk -v n=\"\$n\" '\$1 == n && \$5 ~ /s/ { f = 1 } END { exit !f }'; then
		k=\$((k + 1)); printf '%s\n' \"\$l\" >/run/xlwatch/list-shutdown-\$k.txt
		xl list -l \"\$n\" >/run/xlwatch/list-l-shutdown-\$k.json 2>/run/xlwatch/list-l-shutdown-\$k.stderr
		echo \$? >/run/xlwatch/list-l-shutdown-\$k.rc
		xl list \"\$n\" >/run/xlwatch/list-n-shutdown-\$k.txt 2>&1
	fi
	sleep 0.3
done
XLW
chmod 0755 /var/lib/xvps-test/xlwatch.sh; systemctl stop xvps-test-xlwatch 2>/dev/null; rm -f /run/xlwatch/*
systemd-run --quiet --unit=xvps-test-xlwatch bash /var/lib/xvps-test/xlwatch.sh xvps-$VPS" >/dev/null
	out=$(T=60 dom0 "ldd /var/lib/xvps-test/ssh 2>&1 | grep -c -E 'not found|not a dynamic'; ping -c1 -W5 $GUEST_IP >/dev/null && echo ping-ok; systemctl is-active xvps-test-xlwatch")
	echo "$out" | grep -q '^active' && pass "ssh copied (ldd problems: $(echo "$out" | head -1)), guest $GUEST_IP $(echo "$out" | grep -c ping-ok | sed 's/1/answers ping/; s/0/does not answer ping/'), xl watcher running" ||
		fail "$(echo "$out" | one)"

	clock_offset

	# --- reboot from inside ---
	step="guest reboot from inside"
	d_old=$(domid_of)
	out=$(T=60 dom0 "xl list xvps-$VPS | tail -1")
	echo "      before: xl list: $(echo "$out" | one)"
	n0=$(audit_n vps.guest_reboot)
	way=$(guest_act reboot)
	echo "      by $way"
	latency_check vps.guest_reboot "$n0" "reboot by ${way%% (*}" "$d_old" "$(from_of "$way")"
	end=$(($(date +%s) + 600))
	d_new=
	while [ "$(date +%s)" -lt "$end" ]; do
		v=$(cust "$URL/api/v1/vps/$VPS" | jq -c '{state,domid}')
		d_new=$(echo "$v" | jq -r .domid)
		[ "$d_new" != "$d_old" ] && [ "$d_new" != null ] && break
		lost && { fail "dom0 lost"; return 1; }
		sleep 1
	done
	t_ev=$(xlwatch_rows "$d_old" | awk '$2 ~ /s/ { print $1; exit }')
	out=$(T=60 dom0 "xl list xvps-$VPS | tail -1")
	if [ "$(echo "$v" | jq -r .state)" = running ] && [ "$d_new" != "$d_old" ] &&
		echo "$out" | awk -v d="$d_new" '$2 == d { f = 1 } END { exit !f }'; then
		pass "restarted: $v (domid $d_old -> $d_new) $(awk -v e="$t_ev" -v n="$(now)" -v o="${CLOCK_OFF:-0}" 'BEGIN { if (e == "") print "?"; else printf "%.1f", n + o - e }') s after the shutdown or less (the agent's destroy + xl create); xl list: $(echo "$out" | one)"
	else
		fail "vps $v (domid before $d_old); xl list: $(echo "$out" | one)"
	fi
	echo "      watcher rows of domid $d_old (epoch state Time(s)), last 4: $(xlwatch_rows "$d_old" | tail -4 | tr '\n' ';')"
	ledger_check "$d_old" "$d_new"
	# The preserved domain's outputs, when the watcher caught it.
	mkdir -p "$RECORD"
	T=120 dom0 "cd /run/xlwatch && tar czf - list-shutdown-* list-l-shutdown-* list-n-shutdown-* 2>/dev/null | base64 -w0" |
		base64 -d 2>/dev/null | tar xzf - -C "$RECORD" 2>/dev/null
	echo "      preserved-domain outputs caught: $(ls "$RECORD" 2>/dev/null | wc -l) files in $RECORD"

	# --- poweroff from inside (after the guest is up again, for SSH) ---
	step="guest poweroff from inside"
	wait_login 2
	case $? in 1) fail "dom0 lost"; return 1 ;; 2) fail "not running"; return 0 ;; esac
	d_old=$(domid_of)
	n0=$(audit_n vps.guest_poweroff)
	way=$(guest_act poweroff)
	echo "      by $way"
	latency_check vps.guest_poweroff "$n0" "poweroff by ${way%% (*}" "$d_old" "$(from_of "$way")"
	v=$(cust "$URL/api/v1/vps/$VPS" | jq -c '{state,domid}')
	sleep 30 # not restarted: still stopped, no domain, 30 s later
	out=$(T=60 dom0 "xl list | grep -c xvps-$VPS")
	v2=$(cust "$URL/api/v1/vps/$VPS" | jq -c '{state,domid}')
	if [ "$v" = '{"state":"stopped","domid":null}' ] && [ "$v2" = "$v" ] && [ "$out" = 0 ]; then
		pass "stopped at once: $v when audited, still $v2 and no domain 30 s later"
	else
		fail "vps $v when audited, then $v2, xl list rows $out"
	fi

	step="start after the guest's poweroff"
	start_vps
	case $? in 1) return 1 ;; 2) return 0 ;; esac

	# --- crash, plan on_crash=restart (the default): audited, started again ---
	step="guest crash, on_crash restart"
	echo "      plan on_crash: $(admin "$URL/api/v1/plans/$PLAN" | jq -r .on_crash)"
	wait_login 3
	case $? in 1) fail "dom0 lost"; return 1 ;; 2) fail "not running"; return 0 ;; esac
	d_old=$(domid_of)
	n0=$(audit_n vps.guest_crash)
	way=$(guest_act crash)
	echo "      by $way"
	latency_check vps.guest_crash "$n0" "crash (on_crash restart) by ${way%% (*}" "$d_old" trigger
	end=$(($(date +%s) + 600))
	while [ "$(date +%s)" -lt "$end" ]; do
		v=$(cust "$URL/api/v1/vps/$VPS" | jq -c '{state,domid}')
		d_new=$(echo "$v" | jq -r .domid)
		[ "$d_new" != "$d_old" ] && [ "$d_new" != null ] && break
		lost && { fail "dom0 lost"; return 1; }
		sleep 1
	done
	out=$(T=60 dom0 "xl list xvps-$VPS | tail -1")
	if [ "$(echo "$v" | jq -r .state)" = running ] && echo "$out" | awk -v d="$d_new" '$2 == d { f = 1 } END { exit !f }'; then
		pass "started again: $v (domid $d_old -> $d_new); xl list: $(echo "$out" | one); shut-down states the watcher saw: $(xlwatch_rows "$d_old" | awk '$2 ~ /[sc]/ { print $2 }' | sort -u | one)"
	else
		fail "vps $v (domid before $d_old); xl list: $(echo "$out" | one)"
	fi

	# --- crash from inside, plan on_crash=stop: audited, stays off ---
	step="guest crash, on_crash stop"
	out=$(admin -X PATCH --json '{"on_crash":"stop"}' "$URL/api/v1/plans/$PLAN" | jq -r .on_crash)
	end=$(($(date +%s) + 600))
	until T=60 dom0 "grep -q '\"xvps-$VPS\"' /var/lib/xvps/agent/on_crash.json" >/dev/null 2>&1 || [ "$(date +%s)" -ge "$end" ]; do
		sleep 3
	done
	echo "      plan on_crash: $out; the agent's on_crash.json: $(T=60 dom0 "cat /var/lib/xvps/agent/on_crash.json" | one)"
	wait_login 4
	case $? in 1) fail "dom0 lost"; return 1 ;; 2) fail "not running"; return 0 ;; esac
	d_old=$(domid_of)
	n0=$(audit_n vps.guest_crash)
	way=$(guest_act crash)
	echo "      by $way"
	latency_check vps.guest_crash "$n0" "crash (on_crash stop) by ${way%% (*}" "$d_old" trigger
	v=$(cust "$URL/api/v1/vps/$VPS" | jq -c '{state,domid}')
	sleep 30
	out=$(T=60 dom0 "xl list | grep -c xvps-$VPS")
	v2=$(cust "$URL/api/v1/vps/$VPS" | jq -c '{state,domid}')
	if [ "$v" = '{"state":"stopped","domid":null}' ] && [ "$v2" = "$v" ] && [ "$out" = 0 ]; then
		pass "stopped at once: $v when audited, still $v2 and no domain 30 s later"
	else
		fail "vps $v when audited, then $v2, xl list rows $out"
	fi
	admin -X PATCH --json '{"on_crash":"restart"}' "$URL/api/v1/plans/$PLAN" >/dev/null
	T=120 dom0 "cd /run/xlwatch && tar czf - list-shutdown-* list-l-shutdown-* list-n-shutdown-* 2>/dev/null | base64 -w0" |
		base64 -d 2>/dev/null | tar xzf - -C "$RECORD" 2>/dev/null
	T=60 dom0 "systemctl stop xvps-test-xlwatch; cp /run/xlwatch/list.log /var/lib/xvps-test/" >/dev/null
	T=120 dom0 "gzip -c /run/xlwatch/list.log | base64 -w0" | base64 -d 2>/dev/null | gunzip >"$RECORD/xlwatch-list.log" 2>/dev/null

	step="start after the guest's crash"
	start_vps
	[ $? = 1 ] && return 1
	return 0
}

# --- resize (issue 16 item 1): memory live, disk grown and seen after a reboot --------------------
# resize_live — POST /vps/{id}/actions/resize to the 640 MiB / 6 GiB plan: `xl list` must show
# 640 MiB under the same domid (no reboot; the guest's balloon driver takes a moment), the LV is
# 6 GiB at once, and the API shows the new plan with nothing pending.
resize_live() {
	local out job s d_before d_after mem v lv end
	step="resize: memory live (xl list)"
	[[ ${PLAN2:-} =~ ^[0-9]+$ ]] || { fail "no second plan"; return 0; }
	d_before=$(domid_of)
	echo "      before: xl list: $(T=60 dom0 "xl list xvps-$VPS | tail -1" | one); maxmem: $(T=60 dom0 "grep -E '^(memory|maxmem)' /var/lib/xvps/agent/xen/xvps-$VPS.cfg" | one)"
	out=$(cust --json "{\"plan\":\"$PLAN2\"}" "$URL/api/v1/vps/$VPS/actions/resize")
	job=$(echo "$out" | jq -r .job.id 2>/dev/null)
	s=$(job_wait "$job")
	end=$(($(date +%s) + 180))
	while :; do
		out=$(T=60 dom0 "xl list xvps-$VPS | tail -1")
		mem=$(echo "$out" | awk '{print $3}')
		[ "$mem" = 640 ] || [ "$(date +%s)" -ge "$end" ] && break
		lost && { fail "dom0 lost"; return 1; }
		sleep 3
	done
	d_after=$(domid_of)
	v=$(cust "$URL/api/v1/vps/$VPS" | jq -c '{plan, plan_name, memory_mib, disk_gib, pending}' 2>/dev/null)
	if [ "$s" = done ] && [ "$mem" = 640 ] && [ "$d_after" = "$d_before" ]; then
		pass "xl list: $(echo "$out" | one) (640 MiB, domid $d_before unchanged); API: $v"
	elif [ "$GUEST_BOOT" = pvh ] && [ "$s" = done ] && [ "$mem" = 512 ] &&
		[ "$(echo "$v" | jq -r '.pending.memory_mib' 2>/dev/null)" = 640 ]; then
		# A PVH domain keeps maxmem = memory (no populate-on-demand for PVH, xlcfg.h): more
		# memory waits for the next boot, shown as pending; mem_after_reboot checks it.
		step="resize: memory pending until the next boot (PVH)"
		pass "xl list: $(echo "$out" | one) (512 MiB until the reboot); API: $v"
		MEM_PENDING=640
	else
		fail "job $s; xl list Mem '$mem' (want 640), domid $d_before -> $d_after; API: $v; job: $(cust "$URL/api/v1/jobs/$job" | jq -c '{state,error}' 2>/dev/null)"
		lost && return 1
	fi
	step="resize: disk grown (lvs)"
	lv=$(T=60 dom0 "lvs --noheadings --units b --nosuffix -o lv_size xvps/xvps-$VPS" | tr -d ' ')
	[ "$lv" = $((6 << 30)) ] && pass "LV xvps-$VPS: $lv bytes (6 GiB)" || fail "LV xvps-$VPS: '$lv' bytes, want $((6 << 30))"
	return 0
}

# mem_after_reboot — after the reboot: a memory size that was pending (PVH) is the domain's now.
mem_after_reboot() {
	local out mem
	[ -n "${MEM_PENDING:-}" ] || return 0
	step="resize: pending memory applied by the reboot (PVH)"
	out=$(T=60 dom0 "xl list xvps-$VPS | tail -1")
	mem=$(echo "$out" | awk '{print $3}')
	[ "$mem" = "$MEM_PENDING" ] && pass "xl list: $(echo "$out" | one); API pending: $(cust "$URL/api/v1/vps/$VPS" | jq -c .pending 2>/dev/null)" ||
		fail "xl list Mem '$mem' (want $MEM_PENDING): $(echo "$out" | one)"
	return 0
}

# disk_seen — after the reboot: the guest's disk is 6 GiB (lsblk) and its root filesystem was
# grown to it by xvps-seed (df), read over SSH from dom0.
disk_seen() {
	local out end sz fs
	step="resize: disk seen by the guest after the reboot"
	ssh_tools
	end=$(($(date +%s) + GUEST_TIMEOUT))
	while [ "$(date +%s)" -lt "$end" ]; do
		out=$(T=100 guest_ssh "echo XVPS_DISK \$(lsblk -b -dno SIZE /dev/xvda) \$(df -B1 --output=size / | tail -1)" 2>&1)
		echo "$out" | grep -q '^XVPS_DISK [0-9]' && break
		lost && { fail "dom0 lost"; return 1; }
		sleep 15
	done
	sz=$(echo "$out" | awk '/^XVPS_DISK/ {print $2}')
	fs=$(echo "$out" | awk '/^XVPS_DISK/ {print $3}')
	if [ "$sz" = $((6 << 30)) ] && [ "${fs:-0}" -gt $((5 << 30)) ] 2>/dev/null; then
		pass "lsblk /dev/xvda $sz bytes, df / $fs bytes (grown past the old 4 GiB)"
	else
		fail "lsblk '$sz' (want $((6 << 30))), df / '$fs' (want > $((5 << 30))): $(echo "$out" | one)"
	fi
	return 0
}

# guest_workload — issue 15 item 4: a few minutes of memory-heavy work in the guest (with -cpu max
# TCG once corrupted guest and dom0 memory, seen as glibc malloc crashes): three rounds of a Perl
# hash of 200000 strings (its total length must be 9900000), `dpkg --verify` (same output each
# round) and a SHA-256 of /usr/bin, /usr/sbin and /usr/lib/x86_64-linux-gnu (same sum each
# round); then no segfault/Oops/BUG in the guest's kernel log nor in dom0's (soft lockups aside:
# a TCG vCPU starved under load shows those with nothing corrupted). Run in the background in
# the guest (the script goes in as base64), polled over SSH; `time:` line.
guest_workload() {
	local out end t0 b64
	step="guest workload (malloc, dpkg --verify, sha256, 3 rounds)"
	ssh_tools
	b64=$(base64 -w0 <<'WORK'
exec >/root/xvps-work.out 2>&1
for i in 1 2 3; do
	perl -e 'my %h; $h{$_} = "x" x ($_ % 100) for 1 .. 200000; my $s = 0; $s += length $h{$_} for keys %h; print "perl $s\n"'
	dpkg --verify >/root/xvps-verify.$i 2>&1
	echo "verify $? $(wc -l </root/xvps-verify.$i) $(sha256sum </root/xvps-verify.$i | cut -c1-16)"
	echo "sum $(find /usr/bin /usr/sbin /usr/lib/x86_64-linux-gnu -xdev -type f -print0 | sort -z | xargs -0 cat | sha256sum | cut -c1-16)"
done
echo "oops $(dmesg | grep -i -E 'segfault|general protection|BUG:|Oops' | grep -v -c 'soft lockup')"
echo end
WORK
)
	t0=$(now)
	out=$(T=120 guest_ssh "rm -f /root/xvps-work.out; echo $b64 | base64 -d >/root/xvps-work.sh && nohup sh /root/xvps-work.sh </dev/null >/dev/null 2>&1 & echo XVPS_STARTED" 2>&1)
	echo "$out" | grep -q XVPS_STARTED || { fail "not started over SSH: $(echo "$out" | one)"; lost && return 1; return 0; }
	end=$(($(date +%s) + 1800))
	while [ "$(date +%s)" -lt "$end" ]; do
		sleep 20
		out=$(T=120 guest_ssh "cat /root/xvps-work.out" 2>&1 | tr -d '\r')
		echo "$out" | grep -q '^end$' && break
		lost && { fail "dom0 lost: $(echo "$out" | one)"; return 1; }
	done
	echo "time: guest workload: $(since "$t0") s"
	local dom0_oops
	dom0_oops=$(T=60 dom0 "dmesg | grep -i -E 'segfault|general protection|BUG:|Oops' | grep -v -c 'soft lockup'")
	if echo "$out" | grep -q '^end$' && [ "$(echo "$out" | grep -c '^perl 9900000$')" = 3 ] &&
		[ "$(echo "$out" | grep '^verify' | sort -u | wc -l)" = 1 ] &&
		[ "$(echo "$out" | grep '^sum [0-9a-f]' | sort -u | wc -l)" = 1 ] &&
		echo "$out" | grep -q '^oops 0$' && [ "$dom0_oops" = 0 ]; then
		pass "$(echo "$out" | sort -u | one); dom0 oops $dom0_oops"
	else
		fail "$(echo "$out" | tail -c 600 | one); dom0 oops $dom0_oops: $(T=60 dom0 "dmesg | grep -i -E 'segfault|general protection|BUG:|Oops' | tail -3" | one)"
	fi
	return 0
}

# --- dom0 reboot (issue 16 item 6) -----------------------------------------------------------
# login_both — admin and customer sessions (again after a reboot).
login_both() {
	A=$(curl -sS -k -c "$work/admin.jar" --json "{\"username\":\"admin\",\"password\":\"$ADMIN_PW\"}" \
		"$URL/api/v1/session" | jq -r .csrf_token)
	C=$(curl -sS -k -c "$work/cust.jar" --json '{"username":"alice","password":"correct horse battery"}' \
		"$URL/api/v1/session" | jq -r .csrf_token)
}
# dom0_reboot — a second VPS is ordered and powered off; with $VPS running, dom0 reboots
# (`systemctl reboot` through the test shell; QEMU's -no-reboot ends QEMU, which is booted
# again on the same disks, XVPS_APPLIANCE_REUSE=1). After the boot exactly $VPS runs again
# (started by the agent: `xl list`, the API's state and domid, audit vps.boot_start), the
# powered-off one stays off.
dom0_reboot() {
	local out job s v1 v2 t0 t_down t_up t_back end d_old d_new x1 x2 log=$work/console-$try-reboot.log
	step="dom0 reboot: a second VPS, powered off"
	out=$(cust --json "$(jq -nc --arg k "$(cat "$work/key.pub")" --arg p "$PLAN" --arg t "$TPL" \
		'{hostname:"web2.example.net",plan:$p,template:$t,ssh_keys:[$k]}')" "$URL/api/v1/vps")
	VPS2=$(echo "$out" | jq -r .vps.id 2>/dev/null)
	job=$(echo "$out" | jq -r .job.id 2>/dev/null)
	s=$(job_wait "$job" 1200)
	[ "$s" = done ] && { job=$(cust -X POST "$URL/api/v1/vps/$VPS2/actions/poweroff" | jq -r .job.id) && s=$(job_wait "$job"); }
	v2=$(cust "$URL/api/v1/vps/$VPS2" | jq -c '{state,domid}')
	if [ "$s" = done ] && [ "$v2" = '{"state":"stopped","domid":null}' ]; then
		pass "vps $VPS2 ordered, powered off: $v2"
	else
		# The 17:06 run of 2026-12-07 failed here with no cause: the job's error, the order's
		# answer, Xen's free memory and the agent's journal.
		fail "vps '$VPS2': job ${job:-?} $s: $(cust "$URL/api/v1/jobs/${job:-0}" | jq -c '{kind,state,step,error}' 2>/dev/null | one); vps $v2; order answer: $(echo "$out" | jq -c 'del(.vps.ssh_keys)' 2>/dev/null | one)"
		T=60 dom0 "xl info | grep -E 'total_memory|free_memory'; xl list" | sed 's/^/      dom0: /'
		T=60 dom0 'journalctl -u xvps-agent --no-pager -n 40' | sed 's/^/      agent: /'
		lost && return 1
		return 0
	fi
	step="dom0 reboot"
	d_old=$(domid_of)
	out=$(T=60 dom0 "systemctl is-enabled xendomains 2>&1; systemctl is-active xvps-guests; grep -o '\"xvps-[0-9]*\":{\"running\":[a-z]*' /var/lib/xvps/agent/desired.json")
	echo "      before: xendomains $(echo "$out" | sed -n 1p), xvps-guests $(echo "$out" | sed -n 2p); vps $VPS running (domid $d_old), vps $VPS2 stopped; the agent's desired state: $(echo "$out" | sed -n '3,$p' | one)"
	t0=$(now)
	T=20 dom0 "systemd-run --quiet --on-active=2 systemctl reboot" >/dev/null 2>&1
	end=$(($(date +%s) + 900))
	while kill -0 "$qpid" 2>/dev/null && [ "$(date +%s)" -lt "$end" ]; do sleep 2; done
	if kill -0 "$qpid" 2>/dev/null; then
		fail "QEMU $qpid still runs 900 s after systemctl reboot"
		return 1
	fi
	t_down=$(since "$t0")
	echo "      dom0 went down after $t_down s; its console: $(grep -a -E 'xvps-guests-stop|Stopped xvps|reboot: Restarting' "$work/console-$try.log" | tr -d '\r' | tail -6 | one)"
	qpid=
	XVPS_APPLIANCE_REUSE=1 XVPS_APPLIANCE_DOM0_ARGS="xvps.autologin xvps.testshell ${XVPS_APPLIANCE_DOM0_ARGS:-}" \
		XVPS_APPLIANCE_LOG=$log "$run_sh" --detach >"$work/run2.out" 2>&1 ||
		{ fail "dom0-image/run.sh --detach again: $(one <"$work/run2.out")"; return 1; }
	qpid=$(cat "$rundir/qemu.pid" 2>/dev/null)
	end=$(($(date +%s) + BOOT_TIMEOUT))
	until curl -sfk --max-time 5 -o /dev/null "$URL/healthz"; do
		kill -0 "$qpid" 2>/dev/null || { fail "QEMU died during the second boot: $(tail -c 600 "$log" | one)"; qpid=; return 1; }
		[ "$(date +%s)" -lt "$end" ] || { fail "no /healthz after the reboot: $(tail -c 600 "$log" | one)"; return 1; }
		sleep 5
	done
	t_up=$(since "$t0")
	login_both
	pass "back: /healthz answers $t_up s after systemctl reboot (QEMU $qpid)"
	step="dom0 reboot: exactly the running VPS is back"
	end=$(($(date +%s) + 1200))
	while [ "$(date +%s)" -lt "$end" ]; do
		v1=$(cust "$URL/api/v1/vps/$VPS" | jq -c '{state,domid}')
		d_new=$(echo "$v1" | jq -r .domid)
		x1=$(T=60 dom0 "xl list xvps-$VPS 2>/dev/null | awk 'NR == 2 { print \$2 }'")
		[ $? = 125 ] && lost && { fail "dom0 lost"; return 1; }
		# Back = the agent's boot start is done: the panel has its audit row (the domain shows in
		# xl list, paused, while xl create still runs: the 02:02 UTC run of 2026-12-08 stopped
		# looking there and failed).
		[ -n "$x1" ] && [ "$d_new" = "$x1" ] && [ "$(VPS=$VPS audit_n vps.boot_start)" -ge 1 ] && break
		sleep 5
	done
	t_back=$(since "$t0")
	x2=$(T=60 dom0 "xl list | grep -c '^xvps-$VPS2 '")
	v2=$(cust "$URL/api/v1/vps/$VPS2" | jq -c '{state,domid}')
	out=$(T=60 dom0 "journalctl -b -u xvps-agent --no-pager | grep -E 'boot:' | cut -d' ' -f6- | tail -4")
	echo "      the agent: $(echo "$out" | one)"
	echo "      audit: vps $VPS: $(VPS=$VPS audit_detail vps.boot_start); vps $VPS2: $(VPS=$VPS2 audit_n vps.boot_start) vps.boot_start rows"
	if [ -n "$x1" ] && [ "$d_new" = "$x1" ] && [ "$(echo "$v1" | jq -r .state)" = running ] &&
		[ "$x2" = 0 ] && [ "$v2" = '{"state":"stopped","domid":null}' ] &&
		[ "$(VPS=$VPS audit_n vps.boot_start)" -ge 1 ] && [ "$(VPS=$VPS2 audit_n vps.boot_start)" = 0 ]; then
		pass "vps $VPS running again (domid $d_old -> $x1, $t_back s after systemctl reboot), vps $VPS2 still stopped and no domain"
	else
		fail "vps $VPS: API $v1, xl domid '$x1'; vps $VPS2: API $v2, xl rows $x2; xl list: $(T=60 dom0 'xl list' | one)"
		lost && return 1
	fi
	echo "time: dom0 reboot -> QEMU down ${t_down} s, -> /healthz ${t_up} s, -> the running VPS back ${t_back} s"
	return 0
}

# --- the console (issue 16 items 2 and 3) -----------------------------------------------------
# con_tools — /var/lib/xvps-test/con.py in dom0 (its python3): `con.py DOMAIN WAIT ITEM...` runs
# `xl console DOMAIN` on a pty and goes through the ITEMs: "?REGEX" waits (up to WAIT s) until
# the console's output since the last line typed matches REGEX, any other ITEM is typed as a line
# (+ CR) into the guest's hvc0; then it detaches (^]) and prints what the console showed.
con_tools() {
	T=60 dom0 "mkdir -p /var/lib/xvps-test && cat >/var/lib/xvps-test/con.py <<'CON'
import os, pty, re, select, sys, time
dom, wait, items = sys.argv[1], float(sys.argv[2]), sys.argv[3:]
pid, fd = pty.fork()
if pid == 0:
    os.execvp('xl', ['xl', 'console', dom])
out = bytearray()
def pump(secs, pat=None, start=0):
    end = time.time() + secs
    while time.time() < end:
        if pat and re.search(pat.encode(), bytes(out[start:])):
            return
        r = select.select([fd], [], [], max(0.0, min(0.5, end - time.time())))[0]
        if r:
            try:
                b = os.read(fd, 4096)
            except OSError:
                return
            if not b:
                return
            out.extend(b)
pump(2)
mark = len(out)
for it in items:
    if it.startswith('?'):
        pump(wait, it[1:], mark)
    else:
        mark = len(out)
        os.write(fd, it.encode() + b'\\r')
        pump(1)
os.write(fd, b'\\x1d')
pump(1)
try:
    os.kill(pid, 9)
except OSError:
    pass
os.waitpid(pid, 0)
sys.stdout.write(out.decode('utf-8', 'replace'))
CON
chmod 0600 /var/lib/xvps-test/con.py" >/dev/null
}
# con_count REGEX [INVERT] — how many lines of the guest's console log match REGEX (grep -E; with
# INVERT, the lines with 'login:' that do not match it).
con_count() {
	local f=/var/log/xen/console/guest-xvps-$VPS.log
	if [ -n "${2:-}" ]; then
		T=60 dom0 "grep -a 'login:' $f | grep -a -v -c -E '$1'"
	else
		T=60 dom0 "grep -a -c -E '$1' $f"
	fi
}
# con_wait N REGEX [INVERT] — waits (CON_TIMEOUT) until con_count REGEX [INVERT] exceeds N;
# prints the seconds waited; status 1 when dom0 is lost, 2 on timeout.
CON_TIMEOUT=${XVPS_APPLIANCE_CONSOLE_TIMEOUT:-900}
con_wait() {
	local t0 end=$(($(date +%s) + CON_TIMEOUT)) n
	t0=$(now)
	while [ "$(date +%s)" -lt "$end" ]; do
		n=$(con_count "$2" "${3:-}")
		[ "${n:-0}" -gt "$1" ] 2>/dev/null && { since "$t0"; return 0; }
		lost && return 1
		sleep 5
	done
	return 2
}

# password_reset — POST /vps/{id}/actions/reset-password (no body: a generated password,
# answered once) and its vps.update job; the reboot step that follows lets the guest apply it
# (xvps-seed: chpasswd -e, once per serial). PW holds the password; LOGIN0 the console log's
# login prompts before the reboot.
password_reset() {
	local out job s
	step="password reset (API)"
	PW=
	LOGIN0=$(con_count 'login:')
	out=$(cust -X POST "$URL/api/v1/vps/$VPS/actions/reset-password")
	PW=$(echo "$out" | jq -r '.password // empty' 2>/dev/null)
	job=$(echo "$out" | jq -r '.job.id // empty' 2>/dev/null)
	s=$(job_wait "$job")
	if [ -n "$PW" ] && [ "$s" = done ]; then
		pass "a generated password of ${#PW} characters, serial $(echo "$out" | jq -r .password_serial), job $job done; guest_pending: $(cust "$URL/api/v1/vps/$VPS" | jq -c .guest_pending)"
	else
		fail "job $job $s; answer: $(echo "$out" | jq -c 'del(.vps)' 2>/dev/null | one)"
		PW=
		lost && return 1
	fi
	return 0
}
# console_login — after the API reboot: a new login prompt on hvc0, then root logs in there with
# the reset password and `id -u` answers 0 (three tries: a try typed while the guest was slow
# only costs a "Login incorrect").
console_login() {
	local out i w r
	step="password reset: root logs in on the console"
	[ -n "${PW:-}" ] || { fail "no password from the reset"; return 0; }
	con_tools
	w=$(con_wait "${LOGIN0:-0}" 'login:')
	case $? in 1) fail "dom0 lost"; return 1 ;; 2) fail "no new login prompt after the reboot ($CON_TIMEOUT s)"; return 0 ;; esac
	echo "      a new login prompt on hvc0 ${w} s after the reboot job"
	# (The typed line holds XVPS"_"ID, its output XVPS_ID: only the output matches. Try 2 first
	# types the command alone, for a shell that was too slow to read it in try 1.)
	for i in 1 2 3; do
		if [ "$i" = 2 ]; then
			out=$(T=200 dom0 "python3 /var/lib/xvps-test/con.py xvps-$VPS 60 '' '?[#$] *$' 'echo XVPS\"_\"ID:\$(id -u):\$(hostname)' '?XVPS_ID:[0-9]'" | tr -d '\r')
		else
			out=$(T=200 dom0 "python3 /var/lib/xvps-test/con.py xvps-$VPS 60 '' '?login: *$' root '?Password: *$' '$PW' '?[#$] *$' 'echo XVPS\"_\"ID:\$(id -u):\$(hostname)' '?XVPS_ID:[0-9]'" | tr -d '\r')
		fi
		r=$(echo "$out" | grep -a -o -E 'XVPS_ID:[0-9]+:[A-Za-z0-9.-]*' | tail -1)
		[ -n "$r" ] && break
		echo "      try $i: $(echo "$out" | grep -a -v -F "$PW" | tail -c 400 | one)"
		lost && { fail "dom0 lost"; return 1; }
		sleep 10
	done
	if [ "${r#XVPS_ID:}" != "$r" ] && [ "$(echo "$r" | cut -d: -f2)" = 0 ]; then
		pass "$(echo "$out" | grep -a -o -E '[A-Za-z0-9.-]+ login:|Password:|Login incorrect' | one), then id -u: $(echo "$r" | cut -d: -f2) on $(echo "$r" | cut -d: -f3) (try $i)"
	else
		fail "no root shell on hvc0 with the reset password ('$r'): $(echo "$out" | grep -a -v -F "$PW" | tail -c 400 | one)"
	fi
	echo "      the password in the console log: $(T=60 dom0 "grep -a -c -F '$PW' /var/log/xen/console/guest-xvps-$VPS.log") lines (login does not echo it)"
	return 0
}

# rescue_mode — POST /vps/{id}/actions/rescue: the VPS boots the rescue image (root logged in
# on hvc0 by agetty --autologin; root file system labelled xvps-rescue) with its own disk as
# /dev/xvdb (lsblk: the plan's 6 GiB after the resize); then /actions/unrescue boots it from its
# own disk again: a login prompt (no autologin) with its hostname (web1) on the console.
rescue_mode() {
	local out job s w n0 r i v h lbl sz
	step="rescue: the rescue system on the console"
	con_tools
	n0=$(con_count 'automatic login')
	job=$(cust -X POST "$URL/api/v1/vps/$VPS/actions/rescue" | jq -r '.job.id // empty')
	s=$(job_wait "$job" 1200)
	if [ "$s" != done ]; then
		fail "rescue job $job: $(cust "$URL/api/v1/jobs/$job" | jq -c '{state,error}' 2>/dev/null)"
		T=60 dom0 'journalctl -u xvps-agent --no-pager -n 15' | sed 's/^/      agent: /'
		lost && return 1
		return 0
	fi
	echo "      rescue job $job done; vps: $(cust "$URL/api/v1/vps/$VPS" | jq -c '{state,rescue,domid}'); xl.cfg disks: $(T=60 dom0 "grep -E '^disk' /var/lib/xvps/agent/xen/xvps-$VPS.cfg" | one)"
	w=$(con_wait "${n0:-0}" 'automatic login')
	case $? in 1) fail "dom0 lost"; return 1 ;; 2) fail "no autologin on hvc0 after $CON_TIMEOUT s: $(T=60 dom0 "tail -c 600 /var/log/xen/console/guest-xvps-$VPS.log" | tr -d '\r' | one)"; return 0 ;; esac
	echo "      console: \"$(T=60 dom0 "grep -a 'automatic login' /var/log/xen/console/guest-xvps-$VPS.log | tail -1" | tr -d '\r' | one)\" $w s after the job"
	for i in 1 2 3; do
		out=$(T=200 dom0 "python3 /var/lib/xvps-test/con.py xvps-$VPS 60 '' '?[#$] *$' 'echo XVPS\"_\"R:\$(hostname):\$(blkid -s LABEL -o value /dev/xvda):\$(lsblk -b -dno SIZE /dev/xvdb)' '?XVPS_R:'" | tr -d '\r')
		r=$(echo "$out" | grep -a -o -E 'XVPS_R:[A-Za-z0-9.-]*:[A-Za-z0-9._-]*:[0-9]*' | tail -1)
		[ -n "$r" ] && break
		echo "      try $i: $(echo "$out" | tail -c 300 | one)"
		lost && { fail "dom0 lost"; return 1; }
		sleep 10
	done
	IFS=: read -r _ h lbl sz <<<"$r"
	if [ "${lbl:-}" = xvps-rescue ] && [ "${sz:-}" = $((6 << 30)) ]; then
		pass "root shell on hvc0: hostname $h, xvda (the rescue system) labelled $lbl, /dev/xvdb $sz bytes (the VPS's 6 GiB disk)"
	else
		fail "want root on xvda labelled xvps-rescue and xvdb of $((6 << 30)) bytes: '$r'; console: $(echo "$out" | tail -c 300 | one)"
	fi
	step="unrescue: boots its own disk"
	n0=$(con_count 'automatic login' invert)
	job=$(cust -X POST "$URL/api/v1/vps/$VPS/actions/unrescue" | jq -r '.job.id // empty')
	s=$(job_wait "$job" 1200)
	if [ "$s" != done ]; then
		fail "unrescue job $job: $(cust "$URL/api/v1/jobs/$job" | jq -c '{state,error}' 2>/dev/null)"
		lost && return 1
		return 0
	fi
	w=$(con_wait "${n0:-0}" 'automatic login' invert)
	case $? in 1) fail "dom0 lost"; return 1 ;; 2) fail "no login prompt after unrescue ($CON_TIMEOUT s)"; return 0 ;; esac
	out=$(T=60 dom0 "grep -a 'login:' /var/log/xen/console/guest-xvps-$VPS.log | grep -a -v 'automatic login' | tail -1" | tr -d '\r')
	v=$(cust "$URL/api/v1/vps/$VPS" | jq -c '{state,rescue}')
	if echo "$out" | grep -q 'web1' && [ "$v" = '{"state":"running","rescue":false}' ]; then
		pass "\"$(echo "$out" | one)\" $w s after the job; $v; xl.cfg disks: $(T=60 dom0 "grep -E '^disk' /var/lib/xvps/agent/xen/xvps-$VPS.cfg" | one)"
	else
		fail "console \"$(echo "$out" | one)\"; $v"
	fi
	return 0
}

# cloud_guest — the cloud-init guest (dom0-image/cloud/build.sh: Debian's cloud-init, no xvps
# code; dom0-image/build.sh puts it in XVPS_TEMPLATE_DIR as debian-12-cloud.img) imported as a
# template through the API (POST /templates "file", seed nocloud, boot pv), a VPS ordered from
# it with the SSH key; over SSH (the key is the only way in: no password is set) its hostname,
# its address and `cloud-init status` (done), and no xvps-seed in it.
cloud_guest() {
	local out job s tpl vps t0 end ok
	step="cloud image: template import (file, nocloud)"
	t0=$(now)
	out=$(admin --json '{"name":"debian-12-cloud","os":"debian","disk_gib":2,"boot":"pv","seed":"nocloud","file":"/var/lib/xvps/templates/debian-12-cloud.img"}' \
		"$URL/api/v1/templates")
	tpl=$(echo "$out" | jq -r '.id // .template.id // empty' 2>/dev/null)
	job=$(echo "$out" | jq -r '.job.id // empty' 2>/dev/null)
	s=$(JOB_AS=admin job_wait "$job" 1200)
	if [[ $tpl =~ ^[0-9]+$ ]] && [ "$s" = done ]; then
		pass "template $tpl: $(admin "$URL/api/v1/templates" | jq -c --arg i "$tpl" '.[] | select((.id | tostring) == $i) | {state,seed,boot,disk_gib}' 2>/dev/null | one), job $job done in $(since "$t0") s"
	else
		fail "$(echo "$out" | one); job $job $s: $(admin "$URL/api/v1/jobs/$job" | jq -c '{state,error}' 2>/dev/null)"
		T=60 dom0 'journalctl -u xvps-agent --no-pager -n 10' | sed 's/^/      agent: /'
		lost && return 1
		[[ $tpl =~ ^[0-9]+$ ]] && admin -X DELETE "$URL/api/v1/templates/$tpl" >/dev/null
		return 0
	fi
	step="cloud image: order"
	t0=$(now)
	out=$(cust --json "$(jq -nc --arg k "$(cat "$work/key.pub")" --arg p "$PLAN" --arg t "$tpl" \
		'{hostname:"cloud1.example.net",plan:$p,template:$t,ssh_keys:[$k]}')" "$URL/api/v1/vps")
	vps=$(echo "$out" | jq -r '.vps.id // empty' 2>/dev/null)
	s=$(job_wait "$(echo "$out" | jq -r '.job.id // empty' 2>/dev/null)" 1200)
	if [[ $vps =~ ^[0-9]+$ ]] && [ "$s" = done ]; then
		pass "vps $vps running after $(since "$t0") s; seed disk: $(T=60 dom0 "grep -E '^disk' /var/lib/xvps/agent/xen/xvps-$vps.cfg" | one)"
	else
		fail "vps '$vps' job $s: $(echo "$out" | jq -c '.error // .detail // empty' 2>/dev/null | one)"
		lost && return 1
	fi
	if [[ $vps =~ ^[0-9]+$ ]] && [ "$s" = done ]; then
		step="cloud image: configured by its own cloud-init"
		VPS=$vps ssh_tools
		end=$(($(date +%s) + CON_TIMEOUT + 300))
		while [ "$(date +%s)" -lt "$end" ]; do
			out=$(VPS=$vps T=120 guest_ssh "echo XVPS_CI_HOST \$(hostname) \$(hostname -f); echo XVPS_CI_ADDR \$(ip -4 -o addr show scope global); timeout 60 cloud-init status --wait; test -e /usr/local/sbin/xvps-seed && echo XVPS_CI_HAS_XVPS_SEED; echo XVPS_CI_KEYS \$(grep -c appliance-test /root/.ssh/authorized_keys); echo XVPS_CI_PKG \$(dpkg-query -W cloud-init)" 2>&1 | tr -d '\r')
			echo "$out" | grep -q '^XVPS_CI_HOST' && echo "$out" | grep -q 'status: \(done\|error\)' && break
			lost && { fail "dom0 lost"; return 1; }
			sleep 15
		done
		ok=1
		echo "$out" | grep -q '^XVPS_CI_HOST cloud1 cloud1.example.net$' || ok=0
		echo "$out" | grep '^XVPS_CI_ADDR' | grep -q " $GUEST_IP/" || ok=0
		echo "$out" | grep -q 'status: done' || ok=0
		echo "$out" | grep -q '^XVPS_CI_KEYS [1-9]' || ok=0
		echo "$out" | grep -q XVPS_CI_HAS_XVPS_SEED && ok=0
		if [ "$ok" = 1 ]; then
			pass "over SSH with the order's key: $(echo "$out" | grep -E '^XVPS_CI_|status:' | sed 's/^XVPS_CI_//' | one)"
		else
			fail "want hostname cloud1.example.net, $GUEST_IP, status: done, the key, no xvps-seed: $(echo "$out" | tail -c 600 | one); console: $(T=60 dom0 "grep -a -E 'cloud-init|login:' /var/log/xen/console/guest-xvps-$vps.log | tail -4" | tr -d '\r' | one)"
		fi
	fi
	step="cloud image: delete"
	[[ $vps =~ ^[0-9]+$ ]] && s=$(job_wait "$(cust -X DELETE "$URL/api/v1/vps/$vps" | jq -r .job.id)")
	out=$(admin -X DELETE -w '%{http_code}' -o /dev/null "$URL/api/v1/templates/$tpl")
	[ "${s:-done}" = done ] && [ "$out" = 204 ] && pass "vps $vps and template $tpl deleted" || fail "vps delete job ${s:-}, template delete HTTP $out"
	return 0
}

# --- provisioning against the bare toolstack (issue 17 item 6) ---------------------------------
# bench_order BODY — the customer's POST /api/v1/vps with BODY, then GET /api/v1/jobs/{id}?wait=60
# (the long poll: it answers when the job is finished) until done or failed — or, with
# XVPS_BENCH_POLL_S > 0, a plain GET every that many seconds —, on one kept-alive HTTPS connection opened before the clock starts
# (a TLS handshake per poll would cost dom0 more CPU than some of the job's own steps under TCG);
# prints "VPS JOB STATE SECONDS" (python3 on this machine).
bench_order() {
	python3 - "$PORT" "$(awk '$6 == "xvps_session" {print $7}' "$work/cust.jar")" "$C" "$1" "${XVPS_BENCH_POLL_S:-0}" 2>&1 <<'PY'
import http.client, json, ssl, sys, time
port, cookie, csrf, body, poll = sys.argv[1:6]
poll, polls = float(poll), 0
hdr = {"Cookie": "xvps_session=" + cookie, "X-CSRF-Token": csrf,
       "Content-Type": "application/json"}
conn = None
def connect():
    global conn
    conn = http.client.HTTPSConnection("127.0.0.1", int(port), timeout=900,
                                       context=ssl._create_unverified_context())
    conn.connect()
def req(method, path, data=None):
    for attempt in (1, 2):
        try:
            conn.request(method, path, data, hdr)
            return json.loads(conn.getresponse().read() or b"{}")
        except (http.client.HTTPException, OSError):
            if attempt == 2 or method == "POST":
                raise
            connect()
connect()
t0 = time.monotonic()
a = req("POST", "/api/v1/vps", body)
vps, job = (a.get("vps") or {}).get("id"), (a.get("job") or {}).get("id")
state = "no-job"
while job is not None:
    state = req("GET", "/api/v1/jobs/%s%s" % (job, "" if poll > 0 else "?wait=60")).get("state")
    polls += 1
    if state in ("done", "failed"):
        break
    if time.monotonic() - t0 > 1200:
        state = "timeout"
        break
    if poll > 0:
        time.sleep(poll)
print(vps, job, state, "%.2f" % (time.monotonic() - t0), polls)
PY
}

# One bare provisioning in dom0, timed: a thin snapshot of template LV $1, lvextend to 4 GiB and
# `xl create /run/xvps-bench/$2.cfg`; then destroyed and removed. Prints "TOTAL LV XL" seconds
# (the whole, the two LVM commands, xl create; status 0) or nothing (status 1).
bare_round() {
	T=600 dom0 "t0=\$(date +%s.%N)
		lvcreate -q -kn -s xvps/$1 -n benchbare >/dev/null &&
		lvextend -q -L 4g xvps/benchbare >/dev/null && t1=\$(date +%s.%N) &&
		xl create /run/xvps-bench/$2.cfg >/dev/null 2>&1; rc=\$?
		t2=\$(date +%s.%N)
		xl destroy benchbare >/dev/null 2>&1; lvremove -q -f xvps/benchbare >/dev/null
		[ \$rc = 0 ] && awk -v a=\$t0 -v b=\$t1 -v c=\$t2 'BEGIN { printf \"%.2f %.2f %.2f\", c - a, b - a, c - b }'"
}

# cg_cpu — dom0's CPU time so far per systemd unit (cgroup v2 cpu.stat usage_usec, which keeps
# the time of exited children: xl, hotplug scripts), one "unit usec" line each, and "dom0 usec"
# for the whole of dom0 (/proc/stat: user, nice, system, irq, softirq). One awk in the test
# shell: its own cost (counted under xvps-testshell.service) stays small.
cg_cpu() {
	T=60 dom0 "awk 'FILENAME == \"/proc/stat\" { if (\$1 == \"cpu\") printf \"dom0 %.0f\\n\", (\$2 + \$3 + \$4 + \$7 + \$8) * 10000; next }
		\$1 == \"usage_usec\" { u = FILENAME; sub(\"/cpu.stat\$\", \"\", u); sub(\".*/\", \"\", u); print u, \$2 }' \\
		/proc/stat /sys/fs/cgroup/*.slice/*/cpu.stat"
}

# cg_top BEFORE AFTER — the units that used the most CPU between two cg_cpu outputs, seconds.
cg_top() {
	awk 'NR == FNR { a[$1] = $2; next } ($1 in a) && $2 - a[$1] >= 50000 { printf "%s %.2f\n", $1, ($2 - a[$1]) / 1e6 }' \
		<(printf '%s\n' "$1") <(printf '%s\n' "$2") | sort -k2 -gr | head -n 8 | awk '{ printf "%s%s %s s", (NR > 1 ? ", " : ""), $1, $2 }'
}

# bench_keep_cfg VPS — copies VPS's own xl.cfg and seed (the file, or what its loop device reads)
# to /run/xvps-bench/vps.cfg and seed.img for the next round's attribution line, renamed to
# benchbare on the benchbare LV (vif name vbench, MAC 00:16:3e:be:00:01: no clash with a VPS);
# a seed the agent had on a loop device is on a read-only loop device of the copy, bound here
# (outside the timing, as the agent binds its own before xl create).
bench_keep_cfg() {
	T=60 dom0 "c=\$(ls /var/lib/xvps/xen/xvps-$1.cfg /var/lib/xvps/agent/xen/xvps-$1.cfg 2>/dev/null | head -1)
		s=\$(sed -n \"s|.*access=ro, [^']*target=\\([^']*\\)'.*|\\1|p\" \"\$c\" | head -1)
		[ -n \"\$c\" ] && [ -n \"\$s\" ] && cat \"\$s\" >/run/xvps-bench/seed.img || exit 1
		for l in \$(losetup -n -O NAME -j /run/xvps-bench/seed.img); do losetup -d \$l; done
		t=/run/xvps-bench/seed.img
		case \$s in /dev/loop*) t=\$(losetup -r -f --show /run/xvps-bench/seed.img) || exit 1 ;; esac
		sed -e 's|^name = .*|name = \"benchbare\"|' \
			-e \"s|target=/dev/xvps/xvps-$1'|target=/dev/xvps/benchbare'|\" -e \"s|target=\$s'|target=\$t'|\" \
			-e 's|vifname=[^,]*|vifname=vbench|' -e 's|mac=[^,]*|mac=00:16:3e:be:00:01|' \"\$c\" >/run/xvps-bench/vps.cfg" >/dev/null 2>&1
}

# bench_provision — alternating rounds (XVPS_BENCH_PROV_ROUNDS, default 3, at least 2) of the bare
# side in dom0 — `lvcreate -kn -s` of the template's LV, `lvextend` to the plan's 4 GiB, `xl
# create` of a minimal config of the template's guest type ($GUEST_BOOT: PVH through
# grub-i386-xen_pvh.bin, or PV through grub-x86_64-xen.bin; 512 MiB, 1 vCPU, one vif on the
# agent's bridge), timed in dom0 until `xl create` returns, then destroyed and removed — and the
# xvps side: the customer's order through the HTTPS API (plan $PLAN, template $TPL) until its job
# is done (bench_order), then deleted and waited for. Not in the ratio, for attribution: the same
# bare sequence with a minimal PV config (when the template is PVH), and with the previous
# round's VPS's own xl.cfg (bench_keep_cfg). Prints each round, each job's steps (GET
# /jobs/{id} steps: the panel's and the agent's, seconds) and the medians and their ratio:
# `bench: provision_ratio X (goal <= 1.2)`. Status 1 when dom0 is lost.
bench_provision() {
	local rounds=${XVPS_BENCH_PROV_ROUNDS:-3} i out t0 t job vps s tlv br kernel c0 c1 bare=() ours=()
	[ "$rounds" -ge 2 ] 2>/dev/null || rounds=2
	step="bench: provisioning against the bare toolstack"
	tlv=xvpstpl-tpl-$TPL
	br=$(T=60 dom0 "sed -n 's/^Environment=XVPS_BRIDGE=//p' /etc/systemd/system/xvps-agent.service /lib/systemd/system/xvps-agent.service 2>/dev/null | tail -1" | tr -d '\r\n')
	br=${br:-xenbr0}
	kernel=/usr/lib/grub-xen/grub-x86_64-xen.bin
	[ "$GUEST_BOOT" = pvh ] && kernel=/usr/lib/grub-xen/grub-i386-xen_pvh.bin
	out=$(T=60 dom0 "lvs --noheadings -o lv_name xvps/$tlv && mkdir -p /run/xvps-bench && printf '%s\n' \
		'name = \"benchbare\"' 'type = \"$GUEST_BOOT\"' 'kernel = \"$kernel\"' \
		'memory = 512' 'vcpus = 1' \
		\"disk = [ 'format=raw, vdev=xvda, access=rw, target=/dev/xvps/benchbare' ]\" \
		\"vif = [ 'bridge=$br' ]\" >/run/xvps-bench/bare.cfg &&
		sed -e 's|^type = .*|type = \"pv\"|' -e 's|^kernel = .*|kernel = \"/usr/lib/grub-xen/grub-x86_64-xen.bin\"|' \
			/run/xvps-bench/bare.cfg >/run/xvps-bench/pv.cfg &&
		cat /run/xvps-bench/bare.cfg")
	[ $? = 0 ] || { fail "no template LV xvps/$tlv or config: $(echo "$out" | one)"; lost && return 1; return 0; }
	echo "      bare config: $(echo "$out" | tail -n +2 | one)"
	for i in $(seq 1 "$rounds"); do
		# bare: lvcreate + lvextend + xl create, timed in dom0; then torn down
		out=$(bare_round "$tlv" bare)
		if [ $? = 0 ] && [[ $out =~ ^[0-9.]+\ [0-9.]+\ [0-9.]+$ ]]; then
			read -r t s job <<<"$out"
			bare+=("$t")
			echo "bench: round $i bare lvcreate+lvextend+xl_create $t s (lvm $s s, xl_create $job s; $GUEST_BOOT)"
		else
			fail "bare round $i: $(echo "$out" | one)"
			lost && return 1
		fi
		# for attribution only (not in the ratio): PV instead of PVH; the previous VPS's own config
		if [ "$GUEST_BOOT" = pvh ]; then
			out=$(bare_round "$tlv" pv)
			read -r t s job <<<"$out"
			echo "bench: round $i bare_pv lvcreate+lvextend+xl_create ${t:-failed} s (lvm ${s:-?} s, xl_create ${job:-?} s; not in the ratio)"
		fi
		if [ "$i" -gt 1 ]; then
			c0=$(cg_cpu)
			out=$(bare_round "$tlv" vps)
			c1=$(cg_cpu)
			read -r t s job <<<"$out"
			echo "bench: round $i bare_vps_cfg lvcreate+lvextend+xl_create ${t:-failed} s (lvm ${s:-?} s, xl_create ${job:-?} s: the previous VPS's xl.cfg; not in the ratio)"
			echo "bench: round $i bare_vps_cfg dom0 CPU by unit: $(cg_top "$c0" "$c1")"
		fi
		# xvps: the order until its job is done (bench_order: one kept-alive HTTPS connection,
		# the job followed by long polls, or every XVPS_BENCH_POLL_S), then the delete until it is gone
		c0=$(cg_cpu)
		out=$(bench_order "$(jq -nc --arg k "$(cat "$work/key.pub")" --arg p "$PLAN" --arg t "$TPL" --arg h "bench$i.example.net" \
			'{hostname:$h,plan:$p,template:$t,ssh_keys:[$k]}')")
		c1=$(cg_cpu)
		read -r vps job s t polls <<<"$out"
		echo "bench: round $i xvps order dom0 CPU by unit: $(cg_top "$c0" "$c1")"
		if [ "$s" = done ]; then
			ours+=("$t")
			echo "bench: round $i xvps order->job_done ${t} s (vps $vps, job $job; $polls GETs, $([ "${XVPS_BENCH_POLL_S:-0}" = 0 ] && echo "long polls" || echo "every ${XVPS_BENCH_POLL_S} s"))"
		else
			fail "xvps round $i: $(echo "$out" | one) $(cust "$URL/api/v1/jobs/$job" | jq -c '{state,error}' 2>/dev/null)"
			T=60 dom0 'journalctl -u xvps-agent --no-pager -n 10' | sed 's/^/      agent: /'
			lost && return 1
		fi
		[[ $job =~ ^[0-9]+$ ]] && echo "bench: round $i job $job steps: $(cust "$URL/api/v1/jobs/$job" |
			jq -r '[.steps[]? | "\(.source):\(.step)=\(if .duration_us == null then "?" else ((.duration_us / 10000 | round) / 100 | tostring) end)s"] | join(" ")' 2>/dev/null)"
		if [[ $vps =~ ^[0-9]+$ ]]; then
			bench_keep_cfg "$vps"
			t0=$(now)
			s=$(job_wait "$(cust -X DELETE "$URL/api/v1/vps/$vps" | jq -r .job.id)" 600)
			echo "      round $i: delete of vps $vps $s after $(since "$t0") s"
		fi
	done
	T=60 dom0 "xl destroy benchbare >/dev/null 2>&1; lvremove -q -f xvps/benchbare >/dev/null 2>&1
		for l in \$(losetup -n -O NAME -j /run/xvps-bench/seed.img 2>/dev/null); do losetup -d \$l; done
		rm -rf /run/xvps-bench"
	local mb mo
	mb=$(printf '%s\n' "${bare[@]}" | sort -g | awk '{ v[NR] = $1 } END { if (NR) printf "%.2f", NR % 2 ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2 }')
	mo=$(printf '%s\n' "${ours[@]}" | sort -g | awk '{ v[NR] = $1 } END { if (NR) printf "%.2f", NR % 2 ? v[(NR + 1) / 2] : (v[NR / 2] + v[NR / 2 + 1]) / 2 }')
	echo "bench: provision_bare_median_s ${mb:-none} (${#bare[@]} rounds, $GUEST_BOOT); provision_xvps_median_s ${mo:-none} (${#ours[@]} rounds)"
	if [ -n "$mb" ] && [ -n "$mo" ] && [ "${#bare[@]}" -ge 2 ] && [ "${#ours[@]}" -ge 2 ]; then
		echo "bench: provision_ratio $(awk -v a="$mo" -v b="$mb" 'BEGIN { printf "%.2f", a / b }') (goal <= 1.2)"
		pass "bare ${mb} s, xvps ${mo} s (medians)"
	else
		fail "too few rounds measured (bare ${#bare[@]}, xvps ${#ours[@]})"
	fi
	return 0
}

# tidy_up — the walk's admin objects removed; no template LV left but the agent's rescue one.
tidy_up() {
	local out
	step="tidy up"
	admin -X DELETE "$URL/api/v1/customers/$CUST" >/dev/null
	admin -X DELETE "$URL/api/v1/templates/$TPL" >/dev/null
	admin -X DELETE "$URL/api/v1/plans/$PLAN" >/dev/null
	[ -n "${PLAN2:-}" ] && admin -X DELETE "$URL/api/v1/plans/$PLAN2" >/dev/null
	admin -X DELETE "$URL/api/v1/ip-pools/$POOL" >/dev/null
	out=$(T=60 dom0 "lvs --noheadings -o lv_name xvps")
	# (xvpstpl-rescue is the agent's own rescue template, kept for the next rescue.)
	echo "$out" | grep -v xvpstpl-rescue | grep -q tpl && fail "template LV left: $(echo "$out" | one)" || pass "customer, template, plan, pool removed; LVs: $(echo "$out" | one)"
}

# --- the walk (status 0: it ran to the end, steps may have failed; 1: dom0 lost) -----------------
walk() {
	local out t_order d1 d2 s job i
	step="admin password"
	ADMIN_PW=$(T=60 dom0 'cat /root/xvps-admin-password' | tr -d '\r\n')
	if [ -z "$ADMIN_PW" ]; then
		ADMIN_PW=$(grep -a -o 'password[^:]*: *[^ ]*' "$work/console-$try.log" | tail -1 | awk '{print $NF}' | tr -d '\r')
	fi
	[ -n "$ADMIN_PW" ] && pass "read from dom0 (${#ADMIN_PW} characters)" ||
		{ fail "no admin password"; return 0; }

	step="admin.env removed"
	out=$(T=60 dom0 'ls -l /etc/xvps/admin.env /root/xvps-admin-password 2>&1')
	case $out in *"No such file"*admin.env* | *admin.env*"No such file"*) pass "$(echo "$out" | one)" ;;
	*) fail "$(echo "$out" | one)" ;; esac

	step="admin login"
	A=$(curl -sS -k -c "$work/admin.jar" --json "{\"username\":\"admin\",\"password\":\"$ADMIN_PW\"}" \
		"$URL/api/v1/session" | jq -r .csrf_token)
	[ -n "$A" ] && [ "$A" != null ] && pass "csrf token" || { fail "login refused"; return 0; }

	step="plan"
	out=$(admin --json '{"name":"small","vcpus":1,"memory_mib":512,"disk_gib":4,"cpu_weight":512,"cpu_cap_pct":50,"net_mbit":100}' "$URL/api/v1/plans")
	PLAN=$(echo "$out" | jq -r .id 2>/dev/null)
	[[ $PLAN =~ ^[0-9]+$ ]] && pass "plan $PLAN (1 vCPU, 512 MiB, 4 GiB, weight 512, cap 50 %, 100 Mbit/s)" ||
		{ fail "$out"; return 0; }
	# The resize target (issue 16 item 1), made before the order: the domain's maxmem is the
	# largest plan's at its boot, so 640 MiB is reached live.
	step="plan for the resize"
	out=$(admin --json '{"name":"medium","vcpus":1,"memory_mib":640,"disk_gib":6,"cpu_weight":512,"cpu_cap_pct":50,"net_mbit":100}' "$URL/api/v1/plans")
	PLAN2=$(echo "$out" | jq -r .id 2>/dev/null)
	[[ $PLAN2 =~ ^[0-9]+$ ]] && pass "plan $PLAN2 (640 MiB, 6 GiB)" || fail "$(echo "$out" | one)"

	step="template import"
	s=$(now)
	# Tried twice: seen once on 2026-12-07 under load, `lvchange -pr` of the fresh template LV
	# failed ("Logical volume ... changed." and a non-zero exit); the import rolled back whole.
	for i in 1 2; do
		out=$(admin --json '{"name":"debian-12","os":"debian","disk_gib":2,"boot":"'"$GUEST_BOOT"'","source":"debian-12.img"}' \
			"$URL/api/v1/templates")
		TPL=$(echo "$out" | jq -r '.id // .template.id' 2>/dev/null)
		[[ $TPL =~ ^[0-9]+$ ]] && break
		echo "      template import, attempt $i: $(echo "$out" | one)"
		T=60 dom0 'journalctl -u xvps-agent --no-pager -n 8' | sed 's/^/      agent: /'
		sleep 10
	done
	job=$(echo "$out" | jq -r '.job.id // empty' 2>/dev/null)
	[ -n "$job" ] && [ "$(job_wait "$job" 1200)" != done ] && { fail "import job $job: $(admin "$URL/api/v1/jobs/$job" | one)"; return 0; }
	if [[ $TPL =~ ^[0-9]+$ ]]; then
		pass "template $TPL ($GUEST_BOOT) imported in $(since "$s") s; lvs: $(T=60 dom0 "lvs --noheadings -o lv_name,lv_size,lv_attr xvps | grep tpl" | one)"
	else
		fail "$(echo "$out" | one)"
		lost && return 1
		return 0
	fi

	step="pool and customer"
	POOL=$(admin --json '{"family":4,"cidr":"192.0.2.0/24","gateway":"192.0.2.1"}' "$URL/api/v1/ip-pools" | jq -r .id)
	CUST=$(admin --json '{"username":"alice","email":"alice@example.com","password":"correct horse battery"}' \
		"$URL/api/v1/customers" | jq -r .id)
	[[ $POOL =~ ^[0-9]+$ ]] && [[ $CUST =~ ^[0-9]+$ ]] && pass "pool $POOL, customer $CUST" ||
		{ fail "pool '$POOL' customer '$CUST'"; return 0; }
	C=$(curl -sS -k -c "$work/cust.jar" --json '{"username":"alice","password":"correct horse battery"}' \
		"$URL/api/v1/session" | jq -r .csrf_token)
	if [ "$bench_only" = 1 ]; then
		ssh-keygen -q -t ed25519 -N '' -C appliance-test -f "$work/key"
		bench_provision || return 1
		tidy_up
		return 0
	fi

	rm -f "$work/key" "$work/key.pub"
	ssh-keygen -q -t ed25519 -N '' -C appliance-test -f "$work/key"
	if [ "$ONLY" = cloud ]; then
		echo "      (XVPS_APPLIANCE_ONLY=cloud: the first VPS's lifecycle is skipped)"
		cloud_guest || return 1
		tidy_up
		return 0
	fi

	step="order"
	t_order=$(now)
	out=$(cust --json "$(jq -nc --arg k "$(cat "$work/key.pub")" --arg p "$PLAN" --arg t "$TPL" \
		'{hostname:"web1.example.net",plan:$p,template:$t,ssh_keys:[$k]}')" "$URL/api/v1/vps")
	VPS=$(echo "$out" | jq -r .vps.id 2>/dev/null)
	job=$(echo "$out" | jq -r .job.id 2>/dev/null)
	[[ $VPS =~ ^[0-9]+$ ]] && pass "vps $VPS, job $job, address $(echo "$out" | jq -c .vps.ipv4)" ||
		{ fail "$(echo "$out" | one)"; return 0; }

	step="domain running"
	local t_run= t_job= end=$(($(date +%s) + 1200)) st
	while [ "$(date +%s)" -lt "$end" ]; do
		if [ -z "$t_run" ]; then
			st=$(T=60 dom0 "xl list xvps-$VPS 2>/dev/null | awk 'NR==2 {print \$5}'")
			[ $? = 125 ] && lost && { fail "dom0 lost"; return 1; }
			case $st in *r* | *b*) t_run=$(since "$t_order") ;; esac
		fi
		if [ -z "$t_job" ]; then
			s=$(cust "$URL/api/v1/jobs/$job" | jq -r .state)
			case $s in done | failed) t_job=$(since "$t_order"); job_state=$s ;; esac
		fi
		[ -n "$t_job" ] && { [ -n "$t_run" ] || [ "$job_state" = failed ]; } && break
		sleep 1
	done
	if [ "${job_state:-}" = done ] && [ -n "$t_run" ]; then
		pass "job done after $t_job s, xl list shows xvps-$VPS running after $t_run s"
	else
		fail "job ${job_state:-timeout} after ${t_job:-?} s: $(cust "$URL/api/v1/jobs/$job" | jq -c '{state,error}' 2>/dev/null); xl list: $(T=60 dom0 xl list | one)"
		T=60 dom0 'journalctl -u xvps-agent --no-pager -n 30' | sed 's/^/      agent: /'
		lost && return 1
		echo "      (no domain: the steps that need it are skipped)"
		return 0
	fi
	echo "time: order -> domain running (xl list): ${t_run:-never} s; order -> job done: ${t_job:-never} s"
	[ "$bench" = 1 ] && echo "bench: order_to_running_s=${t_run:-never} order_to_job_done_s=${t_job:-never}"
	d1=$(domid_of)

	step="thin LV"
	out=$(T=60 dom0 "lvs --noheadings -o lv_name,lv_attr,lv_size,pool_lv,origin xvps")
	echo "$out" | awk -v n="xvps-$VPS" '$1 == n && $2 ~ /^V/' | grep -q pool &&
		pass "$(echo "$out" | awk -v n="xvps-$VPS" '$1 == n' | one)" || fail "no thin LV xvps-$VPS: $(echo "$out" | one)"

	step="xl.cfg"
	out=$(T=60 dom0 "cat /var/lib/xvps/agent/xen/xvps-$VPS.cfg")
	[ $? = 0 ] && echo "$out" | grep -q "xvps-$VPS" && pass "$(echo "$out" | grep -E '^(type|memory|vcpus|cpu_weight|cap|disk|vif)' | one)" ||
		fail "no /var/lib/xvps/agent/xen/xvps-$VPS.cfg: $(echo "$out" | one)"

	step="xl list"
	out=$(T=60 dom0 "xl list xvps-$VPS")
	echo "$out" | awk 'NR==2' | grep -q "xvps-$VPS" && pass "$(echo "$out" | tail -1 | one)" || fail "$(echo "$out" | one)"

	step="credit2 weight/cap"
	out=$(T=60 dom0 "xl sched-credit2 -d xvps-$VPS")
	[ "$(echo "$out" | awk 'NR==2 {print $3"/"$4}')" = 512/50 ] && pass "$(echo "$out" | tail -1 | one)" ||
		fail "want weight 512 cap 50: $(echo "$out" | one)"

	step="firewall table"
	# The domain's table: its rules (lines ending in accept/drop/reset), the hook of its vif (made
	# by xvps-vif before the vif was up), the policer of its traffic (the plan's 100 Mbit/s).
	out=$(T=60 dom0 "nft list chain netdev xvps-xvif$VPS filter | grep -cE '(accept|drop|reset)\$';
		nft list chain netdev xvps-xvif$VPS ingress | grep -c 'hook ingress device \"xvif$VPS\"';
		nft list chain netdev xvps-xvif$VPS rate | grep -c 'limit rate over'")
	[ "$(echo "$out" | sed -n 1p)" -gt 5 ] 2>/dev/null && [ "$(echo "$out" | sed -n 2p)" = 1 ] &&
		[ "$(echo "$out" | sed -n 3p)" = 1 ] &&
		pass "netdev xvps-xvif$VPS: rules, hook, policer $(echo "$out" | one)" ||
		fail "netdev xvps-xvif$VPS (rules, hook, policer): $(echo "$out" | one)"

	step="qdiscs"
	out=$(T=60 dom0 "tc qdisc show dev xvif$VPS")
	echo "$out" | grep -q tbf && ! echo "$out" | grep -q ingress && pass "$(echo "$out" | one)" ||
		fail "want a tbf and no ingress qdisc on xvif$VPS: $(echo "$out" | one)"

	step="guest login prompt"
	# (Templates built before 2026-12-07 18:40 let the guest's systemd time out waiting for
	# /dev/hvc0 (90 s) under a loaded host and start no serial getty: no prompt, though the guest
	# is up; the template's dev-hvc0.device drop-in now waits for udev. When the console shows
	# that timeout (and sshd started) the wait ends; the guest's sshd starting is then what the
	# guest power steps below wait for.)
	local t_login= t_sshd= glog=/var/log/xen/console/guest-xvps-$VPS.log
	end=$(($(date +%s) + GUEST_TIMEOUT))
	while [ "$(date +%s)" -lt "$end" ]; do
		out=$(T=60 dom0 "grep -a -m1 'login:' $glog")
		[ $? = 125 ] && lost && { fail "dom0 lost while the guest booted"; return 1; }
		[ -n "$out" ] && { t_login=$(since "$t_order"); break; }
		if [ -z "$t_sshd" ] && T=60 dom0 "grep -a -q -E 'Started .*ssh\\.service' $glog"; then
			t_sshd=$(since "$t_order")
		fi
		[ -n "$t_sshd" ] && T=60 dom0 "grep -a -q -E 'Timed out waiting for device.*hvc0' $glog" && break
		sleep 5
	done
	if [ -n "$t_login" ]; then
		pass "\"$(echo "$out" | tr -d '\r' | one)\" after $t_login s"
	else
		fail "no login prompt after ${GUEST_TIMEOUT} s (sshd started after ${t_sshd:-never} s); hvc0: $(T=60 dom0 "grep -a -E 'hvc0' $glog | tail -2" | tr -d '\r' | one)"
	fi
	echo "time: order -> guest login prompt: ${t_login:-never} s"
	T=60 dom0 "grep -a -E 'xvps-seed|web1' $glog | tail -3" | tr -d '\r' | sed 's/^/      guest: /'

	if [ "$ONLY" = reboot ]; then
		echo "      (XVPS_APPLIANCE_ONLY=reboot: straight to the dom0 reboot)"
		dom0_reboot || return 1
		step="delete"
		[[ ${VPS2:-} =~ ^[0-9]+$ ]] && job_wait "$(cust -X DELETE "$URL/api/v1/vps/$VPS2" | jq -r .job.id)" 600 >/dev/null
		s=$(job_wait "$(cust -X DELETE "$URL/api/v1/vps/$VPS" | jq -r .job.id)" 600)
		[ "$s" = done ] && pass "vps $VPS (and $VPS2) deleted" || fail "delete job $s"
		tidy_up
		return 0
	fi

	# Issue 13: the guest reboots, powers off and crashes by itself (needs its sshd).
	if [ "$GUEST_POWER" != 1 ]; then
		echo "      (XVPS_APPLIANCE_GUEST_POWER=$GUEST_POWER: the guest's own power steps are skipped)"
	elif [ -n "$t_login" ] || [ -n "$t_sshd" ]; then
		guest_power || return 1
	fi
	if [ "$ONLY" = power ]; then
		echo "      (XVPS_APPLIANCE_ONLY=power: the rest of the first VPS's lifecycle is skipped)"
		step="delete"
		s=$(job_wait "$(cust -X DELETE "$URL/api/v1/vps/$VPS" | jq -r .job.id)" 600)
		[ "$s" = done ] && pass "vps $VPS deleted" || fail "delete job $s"
		tidy_up
		return 0
	fi

	step="console over wss://"
	out=$(cust -X POST "$URL/api/v1/vps/$VPS/console")
	local path cookie
	path=$(echo "$out" | jq -r .url 2>/dev/null)
	cookie=$(awk '$6 == "xvps_session" {print $7}' "$work/cust.jar")
	printf 'GET %s HTTP/1.1\r\nHost: 127.0.0.1:%s\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Version: 13\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nOrigin: https://127.0.0.1:%s\r\nCookie: xvps_session=%s\r\n\r\n' \
		"$path" "$PORT" "$PORT" "$cookie" >"$work/req"
	{ cat "$work/req"; sleep 15; } | timeout 40 openssl s_client -quiet -connect "127.0.0.1:$PORT" \
		2>/dev/null >"$work/ws.out"
	if head -c 200 "$work/ws.out" | tr -d '\r' | head -n 1 | grep -q '^HTTP/1.1 101' &&
		grep -aq 'RFB 003.008' "$work/ws.out"; then
		pass "101 Switching Protocols, then \"RFB 003.008\""
	else
		fail "url $path: $(head -c 300 "$work/ws.out" | tr -d '\r' | one)"
	fi

	resize_live || return 1
	password_reset || return 1

	step="reboot"
	d1=$(domid_of)
	job=$(cust -X POST "$URL/api/v1/vps/$VPS/actions/reboot" | jq -r .job.id)
	s=$(job_wait "$job")
	[ "$s" = done ] || echo "      reboot job $job: $(cust "$URL/api/v1/jobs/$job" | jq -c '{state,error}')"
	d2=$(domid_of)
	# The new vif is hooked again (on Linux before 6.16 the old base chain went with the old vif).
	out=$(T=60 dom0 "ip -o link show xvif$VPS | cut -d' ' -f2;
		nft list chain netdev xvps-xvif$VPS ingress | grep -c 'hook ingress device \"xvif$VPS\"'")
	if [ "$s" = done ] && [ -n "$d2" ] && [ "$d2" != "$d1" ] && echo "$out" | grep -q "xvif$VPS" &&
		[ "$(echo "$out" | tail -1)" = 1 ]; then
		pass "domid $d1 -> $d2, vif and hook $(echo "$out" | one)"
	else
		fail "job $s, domid $d1 -> '$d2', vif: $(echo "$out" | one)"
		lost && return 1
	fi

	console_login || return 1
	mem_after_reboot || return 1
	disk_seen || return 1
	guest_workload || return 1
	rescue_mode || return 1

	step="shutdown"
	s=$(action shutdown)
	out=$(cust "$URL/api/v1/vps/$VPS" | jq -c '{state,domid}')
	if [ "$s" = done ] && [ "$out" = '{"state":"stopped","domid":null}' ] && ! T=60 dom0 "xl domid xvps-$VPS" >/dev/null 2>&1; then
		pass "$out, no domain in xl list"
	else
		fail "job $s, $out, xl: $(T=60 dom0 "xl list" | one)"
		lost && return 1
	fi

	step="start"
	s=$(action start)
	out=$(cust "$URL/api/v1/vps/$VPS" | jq -c '{state,domid}')
	[ "$s" = done ] && echo "$out" | grep -q running && T=60 dom0 "xl list xvps-$VPS" >/dev/null 2>&1 &&
		pass "$out" || { fail "job $s, $out"; lost && return 1; }

	dom0_reboot || return 1

	step="delete"
	[[ ${VPS2:-} =~ ^[0-9]+$ ]] && job_wait "$(cust -X DELETE "$URL/api/v1/vps/$VPS2" | jq -r .job.id)" >/dev/null
	s=$(job_wait "$(cust -X DELETE "$URL/api/v1/vps/$VPS" | jq -r .job.id)")
	out=$(T=120 dom0 "xl list | grep -c xvps-$VPS; lvs --noheadings -o lv_name xvps | grep -cE '^ *(quarantine-)?xvps-$VPS(-[0-9]+)?\$';
		ls /var/lib/xvps/agent/xen/ | grep -c xvps-$VPS; nft list tables netdev 2>/dev/null | grep -c 'xvps-xvif$VPS\$';
		ip link show xifb$VPS 2>/dev/null | wc -l; tc qdisc show dev xvif$VPS 2>/dev/null | wc -l; ip link show xvif$VPS 2>/dev/null | wc -l")
	if [ "$s" = done ] && [ "$(echo "$out" | tr -d ' \n')" = 0000000 ]; then
		pass "no domain, LV, xl.cfg, nft table, ifb, qdisc or vif left"
	else
		fail "job $s; left (domain, LV, cfg, nft table, ifb, qdisc, vif): $(echo "$out" | one)"
	fi

	cloud_guest || return 1

	if [ "$bench" = 1 ]; then
		step="bench"
		local g=${XVPS_BENCH_GIB:-10}
		out=$(T=3600 dom0 "set -e
			lvcreate -q -V${g}G -T xvps/pool -n benchtpl >/dev/null
			dd if=/var/lib/xvps/templates/debian-12.img of=/dev/xvps/benchtpl bs=4M conv=fsync status=none
			lvchange -q -pr xvps/benchtpl >/dev/null
			t0=\$(date +%s.%N); lvcreate -q -kn -s xvps/benchtpl -n benchthin >/dev/null; t1=\$(date +%s.%N)
			lvcreate -q -V${g}G -T xvps/pool -n benchfull >/dev/null
			t2=\$(date +%s.%N); dd if=/dev/xvps/benchtpl of=/dev/xvps/benchfull bs=4M oflag=direct status=none; t3=\$(date +%s.%N)
			lvremove -q -f xvps/benchthin xvps/benchfull xvps/benchtpl >/dev/null
			awk -v a=\$t0 -v b=\$t1 -v c=\$t2 -v d=\$t3 'BEGIN { printf \"thin_clone_s=%.2f full_dd_copy_s=%.1f\", b - a, d - c }'")
		[ $? = 0 ] && echo "bench: ${g}GiB template in dom0: $out" || fail "bench: $(echo "$out" | one)"
	fi

	[ "$bench" = 1 ] && { bench_provision || return 1; }
	tidy_up
	return 0
}

t_all=$(now)
try=0
result=lost
while [ "$try" -lt "$TRIES" ]; do
	try=$((try + 1))
	echo "appliance-test: boot $try of $TRIES"
	fails_before=$fails
	if boot && walk; then
		result=ran
		break
	fi
	echo "appliance-test: boot $try lost dom0 (QEMU alive: $(kill -0 "${qpid:-0}" 2>/dev/null && echo yes || echo no)); console tail:"
	tail -c 1500 "$work/console-$try.log" 2>/dev/null | tr -d '\r' | tail -15 | sed 's/^/      /'
	cp "$work/console-$try.log" "/tmp/xvps-appliance-test-console-$try.log" 2>/dev/null
	stop_qemu
done
echo "appliance-test: boots: $try ($result); $passes passed, $fails failed; $(since "$t_all") s in all"
[ "$result" = ran ] && [ "$fails" = "$fails_before" ] && exit 0
exit 1
