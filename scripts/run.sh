#!/usr/bin/env bash
# run.sh BUILD — what `make run` starts: xvps-agent, then xvpsd, on the embedded default (sim
# hypervisor, file storage, SQLite in $XVPS_STATE). Stops exactly the two processes it started
# (by pid) on Ctrl-C or SIGTERM; never signals anything else.
set -euo pipefail

build=${1:?usage: scripts/run.sh BUILD_DIR}
listen=${XVPS_LISTEN:-127.0.0.1:8080}
state=${XVPS_STATE:-./var}
host=${listen%:*}
port=${listen##*:}

for b in xvps-agent xvpsd xvps-simguest; do
	[ -x "$build/$b" ] || { echo "run: $build/$b is missing (run make bins)" >&2; exit 1; }
done

mkdir -p "$state"
chmod 700 "$state"
state=$(cd "$state" && pwd)
sock=${XVPS_AGENT_SOCK:-$state/agent.sock}

lib_tag=run
. "$(dirname "$0")/lib.sh" # start_agent, start_panel, stop_servers
stopping=0

# Stops xvpsd first (no new jobs reach the agent), then the agent, which stops its sim guests
# and removes its socket. Only the pids this script started are signalled.
stop() {
	[ "$stopping" = 1 ] && return
	stopping=1
	trap '' INT TERM
	stop_servers
	echo "xvps stopped"
}
trap 'stop; exit 0' INT TERM
trap stop EXIT

if [ -S "$sock" ]; then
	# A socket left by a crashed agent is harmless; one that answers means another agent.
	if command -v python3 >/dev/null && python3 -c 'import socket,sys
s=socket.socket(socket.AF_UNIX); s.settimeout(1); s.connect(sys.argv[1])' "$sock" 2>/dev/null; then
		echo "run: an agent is already listening on $sock" >&2
		exit 1
	fi
fi

# Their stderr stays this terminal's (no log file).
start_agent "$build" "$state" "" XVPS_AGENT_SOCK="$sock" XVPS_SIMGUEST="$build/xvps-simguest" ||
	exit 1
start_panel "$build" "$state" "" "$listen" XVPS_AGENT_SOCK="$sock" \
	XVPS_WEB_DIR="${XVPS_WEB_DIR:-web}" || exit 1

if [ -n "${XVPS_ADMIN_PASSWORD:-}" ]; then
	pwnote="the one you set in XVPS_ADMIN_PASSWORD"
else
	pwnote="in $state/admin-password"
fi
case ${XVPS_NET:-auto} in
on) netnote="on" ;;
off) netnote="off" ;;
*) if [ "$(id -u)" = 0 ]; then netnote="on (root)"; else netnote="off (not root)"; fi ;;
esac
echo "xvps is running at http://$host:$port/ — user admin, password $pwnote. Ctrl-C stops it."
echo "Networking (XVPS_NET): $netnote; the agent logs its bridge and namespaces above."

# Either process exiting ends the run (and stops the other).
set +e
wait -n "$agent_pid" "$panel_pid"
rc=$?
set -e
if [ "$stopping" = 0 ]; then
	echo "run: a process exited (status $rc); stopping" >&2
	exit 1
fi
