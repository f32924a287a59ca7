#!/usr/bin/env bash
# run.sh BUILD — `make bench`: provisioning time for 100 VPS; with 1,000 VPS in the DB and an API
# key, GET /api/v1/vps (default page and ?limit=1000), /api/v1/jobs and /api/v1/vps/{id} against
# bare libmicrohttpd serving the same bytes from memory (tests/bench/hello.c; wrk -t2 -c64,
# alternating rounds), whether a list's ETag gets a 304, xvpsd's RSS (BENCH_API_ONLY=1 stops there), the usage ledger (xvpsd's CPU per metering sweep of 1,000 live VPS, GET
# /vps/{id}/usage for a month at 1h with wrk, and xvps-ledgerbench: the ledger's write and rollup
# time per sweep and its growth per VPS per day), xvps-invoicebench (closing a billing period for
# 1,000 customers x 3 VPS: seconds, invoices/s). Prints "bench: <name> <value> <unit>" lines; asserts nothing. Everything runs on
# loopback in a temp dir it removes; it signals only the pids it started.
set -euo pipefail

build=${1:?usage: tests/bench/run.sh BUILD_DIR}
cd "$(dirname "$0")/../.."
build=$(cd "$build" && pwd)
for t in wrk curl jq cc pkg-config; do
	command -v "$t" >/dev/null || { echo "bench: $t is missing (make deps)" >&2; exit 1; }
done

n_timed=${BENCH_TIMED:-100}
n_total=${BENCH_VPS:-1000}
duration=${BENCH_DURATION:-10s}
tmp=$(mktemp -d /tmp/xvps-bench.XXXXXX)
state=$tmp/state
mkdir -m 700 "$state"
hello_pid=
lib_tag=bench
. scripts/lib.sh # free_port, start_agent, start_panel, stop_pid, stop_servers

# The agent stops its sim guests when it stops, unless 1,000 of them take longer than stop_pid
# waits for it: then this ends those left (guests and their children), found by this run's own
# state dir on their command line.
stop_sim_guests() {
	local p
	for p in /proc/[0-9]*; do
		grep -qF -- "$state" "$p/cmdline" 2>/dev/null && kill -KILL "${p#/proc/}" 2>/dev/null
	done
	return 0
}
cleanup() {
	local pid
	stop_pid "$hello_pid"
	stop_servers
	stop_sim_guests
	rm -rf "$tmp"
}
trap cleanup EXIT
trap 'exit 130' INT TERM
now() { date +%s.%N; }

read -ra mhd <<<"$(pkg-config --cflags --libs libmicrohttpd)"
cc -std=gnu17 -O2 -Wall -Wextra -pthread -o "$tmp/hello" tests/bench/hello.c "${mhd[@]}"

port=$(free_port)
hport=$(free_port)
URL=http://127.0.0.1:$port
ADMIN_PW=$(od -An -tx1 -N16 /dev/urandom | tr -d ' \n')
export XVPS_ADMIN_PASSWORD=$ADMIN_PW XVPS_PWHASH_OPSLIMIT=1 XVPS_PWHASH_MEMLIMIT_KIB=8192

start_agent "$build" "$state" "$tmp/agent.log" XVPS_NET=off XVPS_SIMGUEST="$build/xvps-simguest" ||
	{ cat "$tmp/agent.log" >&2; exit 1; }
# Sweeps every 5 s: the ledger part below measures xvpsd's CPU over several of them.
meter_s=5
start_panel "$build" "$state" "$tmp/xvpsd.log" "127.0.0.1:$port" XVPS_WEB_DIR=web \
	XVPS_METER_INTERVAL=$meter_s ||
	{ cat "$tmp/xvpsd.log" >&2; exit 1; }
A=$(curl -sS --fail-with-body -c "$tmp/admin.jar" \
	--json "{\"username\":\"admin\",\"password\":\"$ADMIN_PW\"}" "$URL/api/v1/session" |
	jq -r .csrf_token)
admin() { curl -sS --fail-with-body -b "$tmp/admin.jar" -H "X-CSRF-Token: $A" "$@"; }
PLAN=$(admin --json '{"name":"bench","vcpus":1,"memory_mib":256,"disk_gib":1}' \
	"$URL/api/v1/plans" | jq -r .id)
TPL=$(admin --json '{"name":"bench","os":"debian","disk_gib":1,"boot":"pvh"}' \
	"$URL/api/v1/templates" | jq -r .id)
# A /64 from the documentation prefix: room for every VPS (no IPv4 pool, so IPv6 only).
admin --json '{"family":6,"cidr":"2001:db8:b::/64","gateway":"2001:db8:b::1"}' \
	"$URL/api/v1/ip-pools" >/dev/null
CUST=$(admin --json '{"username":"bench","email":"bench@example.com","password":"bench-password-1"}' \
	"$URL/api/v1/customers" | jq -r .id)

# Orders VPS number $1..$2 for the customer.
order() {
	local i
	for i in $(seq "$1" "$2"); do
		admin -o /dev/null --json \
			"{\"hostname\":\"b$i.example.net\",\"plan\":\"$PLAN\",\"template\":\"$TPL\",\"customer\":\"$CUST\"}" \
			"$URL/api/v1/vps"
	done
}
# Waits until $1 VPS are running (fails on a VPS in state error, or after $2 seconds).
wait_running() {
	local want=$1 deadline=$((SECONDS + $2)) counts
	while :; do
		counts=$(admin "$URL/api/v1/vps?limit=1000" |
			jq -r '[([.[] | select(.state == "running")] | length),
			        ([.[] | select(.state == "error")] | length)] | @tsv')
		[ "${counts%%$'\t'*}" -ge "$want" ] && return 0
		[ "${counts##*$'\t'}" -eq 0 ] || { echo "bench: a VPS failed to provision" >&2; return 1; }
		[ "$SECONDS" -lt "$deadline" ] || { echo "bench: only ${counts%%$'\t'*} of $want running" >&2; return 1; }
		sleep 0.2
	done
}

t0=$(now)
order 1 "$n_timed"
wait_running "$n_timed" 600
t1=$(now)
awk -v a="$t0" -v b="$t1" -v n="$n_timed" 'BEGIN {
	printf "bench: provision_%d_wall %.2f s\n", n, b - a
	printf "bench: provision_rate %.1f VPS/s\n", n / (b - a) }'

order $((n_timed + 1)) "$n_total"
wait_running "$n_total" 1800
t2=$(now)
awk -v a="$t1" -v b="$t2" -v n="$((n_total - n_timed))" 'BEGIN {
	printf "bench: provision_next_%d_wall %.2f s\n", n, b - a }'

XVPS_TOKEN=$(admin --json '{"name":"bench"}' "$URL/api/v1/api-keys" | jq -r .token)
export XVPS_TOKEN

rps() { awk '/^Requests\/sec:/ { print $2 }'; }
# The API against bare libmicrohttpd serving the very bytes xvpsd answered (issue 17 item 1):
# each route's body is captured once with the key, tests/bench/hello.c serves the files from
# memory, and wrk alternates between the two ($rounds rounds of $api_duration each side).
rounds=${BENCH_ROUNDS:-3}
api_duration=${BENCH_API_DURATION:-5s}
VPS1=$(admin "$URL/api/v1/vps?limit=1" | jq -r '.[0].id')
api_names=(vps_page vps_limit_1000 jobs_page vps_object)
api_paths=("/api/v1/vps" "/api/v1/vps?limit=1000" "/api/v1/jobs" "/api/v1/vps/$VPS1")
bodies=()
for i in "${!api_paths[@]}"; do
	code=$(curl -sS -o "$tmp/body$i" -w '%{http_code}' -H "Authorization: Bearer $XVPS_TOKEN" \
		"$URL${api_paths[$i]}")
	[ "$code" = 200 ] || { echo "bench: GET ${api_paths[$i]} answers $code" >&2; exit 1; }
	bodies+=("$tmp/body$i")
done
"$tmp/hello" "$hport" "${bodies[@]}" 2>"$tmp/hello.log" &
hello_pid=$!
wait_until 50 "$hello_pid" curl -sf -o /dev/null "http://127.0.0.1:$hport/0"
# A commit in between (a metering sweep every $meter_s s) gives a new ETag: a few tries.
code=none
for _ in 1 2 3 4 5 6 7 8 9 10; do
	etag=$(curl -sS -D - -o /dev/null -H "Authorization: Bearer $XVPS_TOKEN" "$URL/api/v1/vps" |
		awk 'tolower($1) == "etag:" { sub(/\r$/, ""); print $2 }')
	[ -n "$etag" ] || break
	code=$(curl -sS -o /dev/null -w '%{http_code}' -H "Authorization: Bearer $XVPS_TOKEN" \
		-H "If-None-Match: $etag" "$URL/api/v1/vps")
	[ "$code" = 304 ] && break
done
if [ -n "$etag" ]; then
	echo "bench: GET /api/v1/vps with If-None-Match of its ETag answers $code"
else
	echo "bench: GET /api/v1/vps sends no ETag"
fi
for i in "${!api_paths[@]}"; do
	xs=0 hs=0
	for r in $(seq 1 "$rounds"); do
		out=$(wrk -t2 -c64 -d"$api_duration" -s tests/bench/rps_auth.lua "$URL${api_paths[$i]}")
		grep '^bench:' <<<"$out" | grep -v ' 0 responses' || true
		xs=$(awk -v a="$xs" -v b="$(rps <<<"$out")" 'BEGIN { print a + b }')
		out=$(wrk -t2 -c64 -d"$api_duration" "http://127.0.0.1:$hport/$i")
		hs=$(awk -v a="$hs" -v b="$(rps <<<"$out")" 'BEGIN { print a + b }')
	done
	awk -v n="${api_names[$i]}" -v p="${api_paths[$i]}" -v x="$xs" -v h="$hs" -v r="$rounds" \
		-v b="$(stat -c %s "$tmp/body$i")" 'BEGIN {
		printf "bench: api_%s xvpsd %.0f req/s, bare MHD same %d bytes %.0f req/s (GET %s, mean of %d alternating rounds)\n", n, x / r, b, h / r, p, r
		printf "bench: ratio_api_%s %.3f (goal >= 0.5)\n", n, x / h }'
done

awk '/^VmRSS:|^VmHWM:/ { printf "bench: xvpsd_%s %.1f MiB\n", substr($1, 1, length($1) - 1), $2 / 1024 }' \
	"/proc/$panel_pid/status"
echo "bench: (goal: xvpsd peak RSS <= 32 MiB with $n_total VPS)"
if [ -n "${BENCH_API_ONLY:-}" ]; then
	exit 0
fi

# The usage ledger (issue 13). xvpsd's CPU (utime + stime) over an idle window of sweeps
# every $meter_s s: each sweep asks the agent for the counters and CPU times of every live VPS,
# stores the totals and the ledger's samples in one transaction, then rolls up.
ticks() { awk '{ print $14 + $15 }' "/proc/$panel_pid/stat"; }
window=30
c0=$(ticks)
sleep "$window"
c1=$(ticks)
awk -v a="$c0" -v b="$c1" -v hz="$(getconf CLK_TCK)" -v n="$((window / meter_s))" -v v="$n_total" -v w="$window" 'BEGIN {
	printf "bench: xvpsd_cpu_per_sweep_%d_vps %.1f ms (goal <= 20 ms; %d sweeps in %d s, idle otherwise)\n",
		v, (b - a) * 1000 / hz / n, n, w }'
month=$(date -u +%Y-%m-01)
from=${month}T00:00:00Z
to=$(date -u -d "$month +1 month" +%Y-%m-%dT00:00:00Z)
upath="/api/v1/vps/$VPS1/usage?from=$from&to=$to&step=1h"
code=$(curl -sS -o "$tmp/usage.json" -w '%{http_code}' -H "Authorization: Bearer $XVPS_TOKEN" "$URL$upath")
[ "$code" = 200 ] || { echo "bench: GET $upath answers $code" >&2; exit 1; }
echo "bench: wrk -t2 -c64 -d$duration GET /api/v1/vps/{id}/usage (a month at 1h: $(jq '.points | length' "$tmp/usage.json") points)"
out=$(wrk -t2 -c64 -d"$duration" -s tests/bench/rps_auth.lua "$URL$upath")
grep '^bench:' <<<"$out" || true
echo "bench: xvpsd_get_usage_month_1h $(rps <<<"$out") req/s"
ls -l "$state/xvps.db" | awk '{ printf "bench: xvpsd_db_now %.1f MiB (xvps.db, WAL aside)\n", $5 / 1048576 }'
# The ledger alone on a file database: 1,000 VPS, 6 simulated hours of 10 s sweeps.
"$build/xvps-ledgerbench" "$tmp/ledger.db" "$n_total" 6
# Invoices (issue 14): closing March for 1,000 customers x 3 VPS on a file database, against
# 100 customers as the baseline (tests/bench/invoicebench.c).
"$build/xvps-invoicebench" "$tmp" 1000 2>/dev/null

# The network part (issue 4), in a namespace of its own: tests/bench/net.sh.
tests/bench/net.sh "$build"
