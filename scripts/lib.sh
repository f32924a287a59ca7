# lib.sh — shell helpers shared by scripts/run.sh, scripts/test.sh, tests/browser/run.sh,
# tests/api/tls.sh, tests/netns/run.sh and tests/bench/run.sh (sourced from the repository root):
# a free loopback port, starting xvps-agent and xvpsd and waiting until they answer, stopping
# them by pid, this run's network namespaces, sanitizer reports in logs. A function signals only
# the pids it is given or the ones it started itself (agent_pid, panel_pid), never by name.
#
# Globals: agent_pid and panel_pid (set by start_agent / start_panel, cleared by stop_servers);
# lib_tag, the prefix of this library's messages (default the script's name); agent_launcher, an
# array put before the agent's command (e.g. nsenter into a network namespace; default none).
# Safe under `set -euo pipefail`.

lib_tag=${lib_tag:-${0##*/}}
agent_pid=${agent_pid:-}
panel_pid=${panel_pid:-}

# Prints a loopback port nobody listens on (bash's /dev/tcp: a refused connect means free);
# returns 1 after 50 tries.
free_port() {
	local p
	for _ in $(seq 50); do
		p=$((20000 + (RANDOM * 32768 + RANDOM) % 40000))
		if ! (exec 3<>"/dev/tcp/127.0.0.1/$p") 2>/dev/null; then
			echo "$p"
			return 0
		fi
	done
	return 1
}

# wait_until TRIES PID CMD... — runs CMD every 0.1 s until it succeeds (0); 1 when PID (unless
# empty) has exited or after TRIES tries.
wait_until() {
	local tries=$1 pid=$2
	shift 2
	for _ in $(seq "$tries"); do
		"$@" && return 0
		[ -z "$pid" ] || kill -0 "$pid" 2>/dev/null || return 1
		sleep 0.1
	done
	return 1
}

# start_agent BUILD STATE LOG [VAR=VALUE...] — starts BUILD/xvps-agent in the background with
# XVPS_STATE=STATE and the given variables (through "${agent_launcher[@]}" when set), its stderr
# appended to LOG (an empty LOG: this shell's stderr); sets agent_pid. 0 once its socket exists (XVPS_AGENT_SOCK among the
# variables, else STATE/agent.sock); 1, saying so, when it exited or after 10 s (TRIES: the
# variable agent_wait_tries, in tenths of a second).
start_agent() {
	local build=$1 state=$2 log=$3 sock=$2/agent.sock a
	shift 3
	for a in "$@"; do
		case $a in XVPS_AGENT_SOCK=*) sock=${a#*=} ;; esac
	done
	${agent_launcher[@]+"${agent_launcher[@]}"} env XVPS_STATE="$state" "$@" \
		"$build/xvps-agent" 2>>"${log:-/dev/stderr}" &
	agent_pid=$!
	wait_until "${agent_wait_tries:-100}" "$agent_pid" test -S "$sock" && return 0
	echo "$lib_tag: xvps-agent did not create $sock${log:+ (see $log)}" >&2
	return 1
}

# healthz URL [CURL-OPTION...] — 0 when URL/healthz answers 2xx.
healthz() {
	local url=$1
	shift
	curl -fsS -o /dev/null "$@" "$url/healthz" 2>/dev/null
}

# start_panel BUILD STATE LOG LISTEN [VAR=VALUE...] — starts BUILD/xvpsd in the background with
# XVPS_STATE=STATE, XVPS_LISTEN=LISTEN (HOST:PORT) and the given variables, its stderr appended
# to LOG (an empty LOG: this shell's stderr); sets panel_pid. 0 once /healthz answers (over HTTPS, trusting the certificate, when
# XVPS_TLS_CERT is among the variables); 1, saying so, when it exited or after 20 s.
start_panel() {
	local build=$1 state=$2 log=$3 listen=$4 url=http://$4 a
	local -a opts=()
	shift 4
	for a in "$@"; do
		case $a in XVPS_TLS_CERT=*) url=https://$listen opts=(--cacert "${a#*=}") ;; esac
	done
	env XVPS_STATE="$state" XVPS_LISTEN="$listen" "$@" "$build/xvpsd" 2>>"${log:-/dev/stderr}" &
	panel_pid=$!
	wait_until 200 "$panel_pid" healthz "$url" ${opts[@]+"${opts[@]}"} && return 0
	echo "$lib_tag: xvpsd did not answer /healthz at $url${log:+ (see $log)}" >&2
	return 1
}

# gone PID — 0 when PID no longer runs.
gone() { ! kill -0 "$1" 2>/dev/null; }

# stop_pid PID — SIGTERM to PID (a child of this shell), then waits for it; SIGKILL when it is
# still there after 15 s. Nothing when PID is empty or gone.
stop_pid() {
	local pid=$1
	[ -n "$pid" ] && kill -0 "$pid" 2>/dev/null || return 0
	kill -TERM "$pid" 2>/dev/null || true
	wait_until 150 "" gone "$pid" || kill -KILL "$pid" 2>/dev/null || true
	wait "$pid" 2>/dev/null || true
}

# stop_servers — stops xvpsd first (no new job reaches the agent), then the agent (which stops
# its sim guests and removes its socket); clears panel_pid and agent_pid.
stop_servers() {
	stop_pid "$panel_pid"
	panel_pid=
	stop_pid "$agent_pid"
	agent_pid=
}

# start_servers_retry BUILD STATE LOGDIR [VAR=VALUE...] — agent, then xvpsd on a free loopback
# port (port is set) with the given variables, logs LOGDIR/agent.log and LOGDIR/xvpsd.log; up
# to 3 attempts, each on a fresh STATE (mode 700). 1 when no attempt came up.
start_servers_retry() {
	local build=$1 state=$2 logs=$3 attempt
	shift 3
	for attempt in 1 2 3; do
		port=$(free_port) || return 1
		if start_agent "$build" "$state" "$logs/agent.log" &&
			start_panel "$build" "$state" "$logs/xvpsd.log" "127.0.0.1:$port" "$@"; then
			return 0
		fi
		stop_servers
		rm -rf "$state" && mkdir -m 700 "$state"
		echo "$lib_tag: retrying the servers' start (attempt $attempt failed)" >&2
	done
	return 1
}

# pids_naming TEXT: the pids of processes whose command line contains TEXT (e.g. a state
# directory, which every sim guest of an agent names), one per line.
pids_naming() {
	local p
	for p in /proc/[0-9]*; do
		if { tr '\0' ' ' <"$p/cmdline"; } 2>/dev/null | grep -qF -- "$1"; then
			echo "${p#/proc/}"
		fi
	done
}

# netns_names PREFIX — the network namespaces whose names start with PREFIX (non-empty).
netns_names() {
	[ -n "$1" ] || return 0
	ip netns list 2>/dev/null | while read -r n _; do
		case $n in "$1"*) echo "$n" ;; esac
	done
}

# netns_delete PREFIX... — deletes the namespaces named PREFIX* (in the order given: guests'
# prefixes before dom0's name).
netns_delete() {
	local p n
	for p in "$@"; do
		for n in $(netns_names "$p"); do
			ip netns del "$n" 2>/dev/null || true
		done
	done
}

# netns_suite_need WHY BIN... — a netns suite's preconditions: not root prints
# "$lib_tag: SKIP: needs root (WHY)" and exits 0; a missing "$build/BIN" is named and exits 2.
netns_suite_need() {
	local why=$1 b
	shift
	if [ "$(id -u)" != 0 ]; then
		echo "$lib_tag: SKIP: needs root ($why)"
		exit 0
	fi
	for b in "$@"; do
		[ -x "$build/$b" ] || { echo "$lib_tag: $build/$b is missing (make ... $b)" >&2; exit 2; }
	done
}

# netns_suite_begin DOM0 — the start of a netns suite (tests/netns/*.sh, lib_tag test-<suite>):
# the traps (the suite's own `cleanup` on EXIT), its dom0 namespace DOM0 with lo up (a SKIP and
# exit 0 where `ip netns add` does not work), tmp=/tmp/xvps-<suite>.XXXXXX and state=$tmp/state
# (the suite makes it).
netns_suite_begin() {
	trap cleanup EXIT
	trap 'echo "$lib_tag: interrupted" >&2; exit 130' INT TERM
	if ! ip netns add "$1" 2>/dev/null; then
		echo "$lib_tag: SKIP: \`ip netns add\` does not work here"
		exit 0
	fi
	ip -n "$1" link set lo up
	tmp=$(mktemp -d "/tmp/xvps-${lib_tag#test-}.XXXXXX")
	state=$tmp/state
}

# netns_suite_end PREFIX — the end of a netns suite's cleanup, after stop_servers: the sim guests
# of its agent (their command line names $tmp/), then its namespaces PREFIX* and $tmp.
netns_suite_end() {
	local pid
	if [ -n "$tmp" ]; then
		for pid in $(pids_naming "$tmp/"); do kill -KILL "$pid" 2>/dev/null; done
	fi
	wait 2>/dev/null
	netns_delete "$1"
	[ -n "$tmp" ] && rm -rf "$tmp"
}

# sanitizer_reports FILE... — for every ASan/LSan/UBSan report in the files: its first lines on
# stderr and one line `"PATTERN" in FILE` on stdout. 1 when there is one. (Criterion counts a
# leaking or UB-ridden test as passed: the reports decide.)
sanitizer_reports() {
	local f pat rc=0
	for f in "$@"; do
		[ -e "$f" ] || continue
		for pat in "ERROR: LeakSanitizer" "ERROR: AddressSanitizer" "runtime error:"; do
			if grep -q -- "$pat" "$f"; then
				echo "$lib_tag: \"$pat\" in $f:" >&2
				grep -n -A 12 -- "$pat" "$f" | head -n 60 >&2
				echo "\"$pat\" in $f"
				rc=1
			fi
		done
	done
	return $rc
}
