#!/usr/bin/env bash
# tests/browser/run.sh BUILD — the browser tests (`make test-browser`): Debian's chromium,
# headless, driven by playwright-core (pinned in package.json + package-lock.json, `npm ci`)
# against a throwaway agent + xvpsd of BUILD (XVPS_NET=off, a mktemp -d state dir, a free
# loopback port, a generated admin password, console tokens living XVPS_CONSOLE_TOKEN_TTL=3 s).
# Seeds through the REST API with curl: a plan (with a monthly price), a template, the pool 198.51.100.0/25, customers
# alice and bob with one VPS each, bench1..bench5 with 4 each (the console benchmark); then runs
# tests/browser/test.mjs, which prints PASS/FAIL per case and `bench:` lines and writes a
# screenshot of every page into BUILD/browser-shots/. Exits 1 when a case fails, a server
# dies, a sanitizer reports an error in a server log, or a process of this run outlives the
# agent. Signals only the pids it started.
set -uo pipefail

build=${1:?usage: tests/browser/run.sh BUILD_DIR}
cd "$(dirname "$0")/../.." || exit 2
root=$(pwd)
build=$(cd "$build" && pwd) || exit 2
here=$root/tests/browser

export ASAN_OPTIONS=detect_leaks=1:abort_on_error=0:halt_on_error=1
export UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1
export XVPS_SIMGUEST=$build/xvps-simguest
export XVPS_NET=off
export PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD=1

chromium=${XVPS_CHROMIUM:-/usr/bin/chromium}
for need in node npm curl jq "$chromium" "$build/xvpsd" "$build/xvps-agent"; do
	if ! command -v "$need" >/dev/null 2>&1; then
		echo "browser: $need is missing (make deps installs node, npm, chromium; make builds the servers)" >&2
		exit 1
	fi
done
node_major=$(node -p 'process.versions.node.split(".")[0]')
if [ "$node_major" -lt 18 ]; then
	echo "browser: node $(node --version) is too old: playwright-core needs node >= 18" >&2
	exit 1
fi

# playwright-core as pinned by package-lock.json. npm ci only when node_modules does not hold
# exactly that lock (then it works offline; --prefer-offline takes npm's cache when it can).
stamp=$here/node_modules/.xvps-lock
if ! cmp -s "$here/package-lock.json" "$stamp" 2>/dev/null; then
	echo "browser: npm ci in tests/browser"
	if ! (cd "$here" && npm ci --prefer-offline --no-audit --no-fund --loglevel=error); then
		echo "browser: npm ci failed (the npm registry is needed once)" >&2
		exit 1
	fi
	cp "$here/package-lock.json" "$stamp"
fi

logs=$build/browser-logs
shots=$build/browser-shots
rm -rf "$logs" "$shots"
mkdir -p "$logs" "$shots"
tmp=$(mktemp -d /tmp/xvps-browser.XXXXXX)
state=$tmp/state
mkdir -m 700 "$state"

lib_tag=browser
. scripts/lib.sh # free_port, start_servers_retry, stop_servers, sanitizer_reports
cleanup() {
	stop_servers
	[ -n "$tmp" ] && rm -rf "$tmp"
	tmp=
}
trap cleanup EXIT
trap 'echo "browser: interrupted" >&2; exit 130' INT TERM

XVPS_ADMIN_PASSWORD=$(od -An -tx1 -N16 /dev/urandom | tr -d ' \n')
export XVPS_ADMIN_PASSWORD XVPS_PWHASH_OPSLIMIT=1 XVPS_PWHASH_MEMLIMIT_KIB=8192
export XVPS_CONSOLE_TOKEN_TTL=3

# Case 13's SMTP sink (test.mjs listens there; xvpsd sends the reset links to it).
smtp_port=$(free_port)
start_servers_retry "$build" "$state" "$logs" XVPS_WEB_DIR="$root/web" \
	XVPS_SMTP_URL="smtp://127.0.0.1:$smtp_port" XVPS_SMTP_FROM=xvps@test.invalid \
	XVPS_QRCODE_DIR="${XVPS_QRCODE_DIR:-/usr/share/javascript/qrcode-generator}" \
	XVPS_NOVNC_DIR="${XVPS_NOVNC_DIR:-/usr/share/novnc}" \
	XVPS_CHARTJS_DIR="${XVPS_CHARTJS_DIR:-/usr/share/javascript/chart.js}" || exit 1
url=http://127.0.0.1:$port
echo "browser: xvpsd at $url (logs in $logs)"

# ---- seed through the REST API ------------------------------------------------------------
jar=$tmp/admin.jar
die() {
	echo "browser: seeding failed: $*" >&2
	exit 1
}
A=$(curl -sS --fail-with-body -c "$jar" -H 'Content-Type: application/json' \
	-d "{\"username\":\"admin\",\"password\":\"$XVPS_ADMIN_PASSWORD\"}" "$url/api/v1/session" |
	jq -r .csrf_token) || die "admin login"
admin() { curl -sS --fail-with-body -b "$jar" -H "X-CSRF-Token: $A" -H 'Content-Type: application/json' "$@"; }
post() { admin -d "$2" "$url/api/v1$1"; }

# A price (EUR 73.00 a month: 10 cents an hour) so the billing cases' invoices are not zero.
plan=$(post /plans '{"name":"small","vcpus":1,"memory_mib":512,"disk_gib":2,"price_month_cents":7300}' | jq -er .id) || die "plan"
tpl=$(post /templates '{"name":"debian-12","os":"debian","disk_gib":1,"boot":"pvh"}' | jq -er .id) || die "template"
post /ip-pools '{"family":4,"cidr":"198.51.100.0/25","gateway":"198.51.100.1"}' >/dev/null || die "pool"
pw() { od -An -tx1 -N12 /dev/urandom | tr -d ' \n'; }
ALICE_PW=$(pw) BOB_PW=$(pw) BENCH_PW=$(pw)
alice=$(post /customers "{\"username\":\"alice\",\"email\":\"alice@example.com\",\"password\":\"$ALICE_PW\"}" | jq -er .id) || die "alice"
bob=$(post /customers "{\"username\":\"bob\",\"email\":\"bob@example.com\",\"password\":\"$BOB_PW\"}" | jq -er .id) || die "bob"

order() { # customer hostname -> the VPS id on stdout, its job appended to $tmp/jobs
	local r
	r=$(post /vps "{\"hostname\":\"$2\",\"plan\":\"$plan\",\"template\":\"$tpl\",\"customer\":\"$1\"}") || return 1
	jq -r .job.id <<<"$r" >>"$tmp/jobs"
	jq -er .vps.id <<<"$r"
}
t0=$(date +%s%N)
ALICE_VPS=$(order "$alice" alice1.example.net) || die "alice's VPS"
BOB_VPS=$(order "$bob" bob1.example.net) || die "bob's VPS"
# The benchmark's 20 consoles: xvpsd lets one user hold 4 at once, so 5 customers with 4 each.
BENCH_VPS=()
for u in 1 2 3 4 5; do
	c=$(post /customers "{\"username\":\"bench$u\",\"email\":\"bench$u@example.com\",\"password\":\"$BENCH_PW\"}" | jq -er .id) || die "bench$u"
	for i in 1 2 3 4; do
		v=$(order "$c" "b$u-$i.example.net") || die "bench$u's VPS $i"
		BENCH_VPS+=("bench$u:$v")
	done
done
mapfile -t job_ids <"$tmp/jobs"
for j in "${job_ids[@]}"; do
	for _ in $(seq 600); do
		s=$(admin "$url/api/v1/jobs/$j" | jq -r .state)
		case $s in done | failed) break ;; esac
		sleep 0.1
	done
	[ "$s" = done ] || die "job $j is $s: $(admin "$url/api/v1/jobs/$j" | jq -c .error)"
done
for v in "$ALICE_VPS" "$BOB_VPS" "${BENCH_VPS[@]#*:}"; do
	s=$(admin "$url/api/v1/vps/$v" | jq -r .state)
	[ "$s" = running ] || die "VPS $v is $s, not running"
done
echo "browser: seeded 22 running VPS in $((($(date +%s%N) - t0) / 1000000)) ms" \
	"(alice: $ALICE_VPS, bob: $BOB_VPS, bench1..5: ${BENCH_VPS[*]#*:})"

# ---- the browser ----------------------------------------------------------------------------
echo "browser: screenshots go to $shots"
rc=0
XVPS_URL=$url XVPS_SHOTS=$shots XVPS_CHROMIUM=$chromium XVPS_BUILD_NAME=${build#"$root"/} \
	XVPS_ALICE_PW=$ALICE_PW XVPS_BOB_PW=$BOB_PW XVPS_BENCH_PW=$BENCH_PW \
	XVPS_ALICE_VPS=$ALICE_VPS XVPS_BOB_VPS=$BOB_VPS XVPS_BENCH_VPS="${BENCH_VPS[*]}" \
	XVPS_PANEL_PID=$panel_pid XVPS_AGENT_PID=$agent_pid XVPS_STATE=$state XVPS_SMTP_PORT=$smtp_port \
	timeout 420 node "$here/test.mjs" || rc=1

# ---- after: the servers still alive, then stopped cleanly, nothing left behind ---------------
for p in panel:"$panel_pid" agent:"$agent_pid"; do
	if ! kill -0 "${p#*:}" 2>/dev/null; then
		echo "FAIL servers: the ${p%%:*} (pid ${p#*:}) died during the run" >&2
		rc=1
	fi
done
stop_servers
sleep 0.3
for p in /proc/[0-9]*; do
	[ "${p#/proc/}" = $$ ] && continue
	if { tr '\0' ' ' <"$p/cmdline"; } 2>/dev/null | grep -qF -- "$state"; then
		echo "FAIL cleanup: pid ${p#/proc/} ($(tr '\0' ' ' <"$p/cmdline" 2>/dev/null | head -c 200)) outlived the agent" >&2
		kill -TERM "${p#/proc/}" 2>/dev/null
		rc=1
	fi
done
sanitizer_reports "$logs"/*.log >/dev/null || rc=1
if [ "$rc" -ne 0 ]; then
	for f in agent xvpsd; do
		[ -s "$logs/$f.log" ] || continue
		echo "---- last lines of $logs/$f.log" >&2
		tail -n 15 "$logs/$f.log" >&2
	done
	echo "browser: FAILED (screenshots in $shots)" >&2
else
	echo "browser: all cases passed (screenshots in $shots)"
fi
exit "$rc"
