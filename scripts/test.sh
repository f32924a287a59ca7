#!/usr/bin/env bash
# test.sh BUILD [unit|openapi|rdns|netns|ledger|browser|whmcs|api|all] — what `make test` runs on an ASan+UBSan
# build: the Criterion unit binaries (unit-common, unit-billing, unit-panel, unit-agent,
# unit-console: one per layer, each must pass) and the guest seed parser, then (openapi, when the tree has
# tests/openapi/) docs/openapi.yaml against the router, then (rdns) reverse DNS against a
# throwaway pdns_server, tests/rdns/run.sh, then (netns) the real-kernel networking
# suite tests/netns/run.sh (root only; it says why it skips otherwise), then (ledger) the usage
# ledger against the guests' own iptables counts, tests/netns/ledger.sh, and traffic quotas with
# real packets and the fake clock, tests/netns/quota.sh (both root only), then (browser)
# tests/browser/run.sh (the web UI and consoles in Debian's chromium), then (api) a throwaway
# agent + xvpsd on loopback, the README's curl walk, the xvpsctl walk, the HTTPS walk
# (tests/api/tls.sh, its own agent + xvpsd), the WHMCS module under php-cli (tests/whmcs/run.sh,
# its own agent + xvpsd), backup and restore (tests/api/backup.sh, its own agent + xvpsd) and
# the Criterion API suite, last, so that the output
# ends with Criterion's summary. Fails when any suite fails or any output holds a sanitizer
# report. Signals only the pids it started (servers through scripts/lib.sh).
# As root, every agent runs with real networking inside a throwaway "dom0" network namespace
# xvt<pid> (bridge, firewall, shaping, sim vifs), its sim guests in namespaces xvt<pid>-<domain>;
# all of them are deleted at the end, whatever happened. Not root: XVPS_NET=off.
set -uo pipefail

build=${1:?usage: scripts/test.sh BUILD_DIR [unit|openapi|rdns|netns|ledger|browser|whmcs|api|all]}
what=${2:-all}
case $what in unit | openapi | rdns | netns | ledger | browser | whmcs | api | all) ;; *) echo "test: unknown suite $what" >&2; exit 2 ;; esac
cd "$(dirname "$0")/.." || exit 2
build=$(cd "$build" && pwd)

export ASAN_OPTIONS=detect_leaks=1:abort_on_error=0:halt_on_error=1
export UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1
export XVPS_SIMGUEST=$build/xvps-simguest

logs=$build/test-logs
rm -rf "$logs"
mkdir -p "$logs"
tmp=
netns=
failed=()

lib_tag=test
. scripts/lib.sh # free_port, start_agent, start_panel, stop_servers, netns_*, sanitizer_reports

# This run's namespaces: the guests' (xvt<pid>-*) first, then dom0 (xvt<pid>) with its bridge.
cleanup_netns() {
	[ -n "$netns" ] || return 0
	netns_delete "$netns-"
	[ -e "/run/netns/$netns" ] && ip netns del "$netns" 2>/dev/null
	netns=
}
cleanup() {
	stop_servers
	cleanup_netns
	[ -n "$tmp" ] && rm -rf "$tmp"
	tmp=
}
trap cleanup EXIT
trap 'echo "test: interrupted" >&2; exit 130' INT TERM

# Crash recovery (issue 3, Jobs): SIGKILL xvpsd right after an order, start it again, and the
# job must finish; SIGKILL the agent right after an order, start it again, and the job must
# finish or fail cleanly (then nothing of the VPS is left). Uses xvpsctl with an API key.
crash_test() {
	local ctl=$build/xvpsctl url=http://127.0.0.1:$port jar csrf plan tpl pool cust out job vps st
	jar=$(mktemp)
	csrf=$(curl -fsS -c "$jar" -H 'Content-Type: application/json' \
		-d "{\"username\":\"admin\",\"password\":\"$XVPS_ADMIN_PASSWORD\"}" \
		"$url/api/v1/session" | jq -r .csrf_token) || return 1
	XVPS_TOKEN=$(curl -fsS -b "$jar" -H "X-CSRF-Token: $csrf" -H 'Content-Type: application/json' \
		-d '{"name":"crash-test"}' "$url/api/v1/api-keys" | jq -r .token) || return 1
	rm -f "$jar"
	export XVPS_TOKEN XVPS_URL=$url
	plan=$("$ctl" post /plans '{"name":"crash-plan","vcpus":1,"memory_mib":256,"disk_gib":2}' | jq -r .id)
	tpl=$("$ctl" post /templates '{"name":"crash-tpl","os":"debian-12","disk_gib":1,"boot":"pvh"}' | jq -r .id)
	pool=$("$ctl" post /ip-pools '{"family":4,"cidr":"192.0.2.64/28","gateway":"192.0.2.65"}' | jq -r .id)
	cust=$("$ctl" post /customers '{"username":"crashcust","email":"c@example.net","password":"crash-password-1"}' | jq -r .id)

	echo "crash: order a VPS, SIGKILL xvpsd at once, start it again: the job finishes"
	out=$("$ctl" post /vps "{\"hostname\":\"crash1.example.net\",\"plan\":\"$plan\",\"template\":\"$tpl\",\"customer\":\"$cust\"}")
	kill -KILL "$panel_pid"; wait "$panel_pid" 2>/dev/null; panel_pid=
	start_panel "$build" "$state" "$logs/xvpsd.log" "127.0.0.1:$port" XVPS_WEB_DIR=web || return 1
	job=$(jq -r .job.id <<<"$out"); vps=$(jq -r .vps.id <<<"$out")
	"$ctl" wait "$job" 60 || { echo "crash: job $job did not finish after the restart" >&2; return 1; }
	st=$("$ctl" get "/vps/$vps" | jq -r .state)
	[ "$st" = running ] || { echo "crash: VPS $vps is $st, not running" >&2; return 1; }

	echo "crash: order a VPS, SIGKILL the agent at once, start it again: done or cleanly failed"
	out=$("$ctl" post /vps "{\"hostname\":\"crash2.example.net\",\"plan\":\"$plan\",\"template\":\"$tpl\",\"customer\":\"$cust\"}")
	kill -KILL "$agent_pid"; wait "$agent_pid" 2>/dev/null; agent_pid=
	rm -f "$state/agent.sock"
	start_agent "$build" "$state" "$logs/agent.log" || return 1
	job=$(jq -r .job.id <<<"$out"); vps=$(jq -r .vps.id <<<"$out")
	if "$ctl" wait "$job" 90; then
		st=$("$ctl" get "/vps/$vps" | jq -r .state)
		[ "$st" = running ] || { echo "crash: VPS $vps is $st after its job finished" >&2; return 1; }
	else
		if "$ctl" get "/vps/$vps" >/dev/null 2>&1; then
			echo "crash: job $job failed but VPS $vps still exists" >&2; return 1
		fi
		[ ! -e "$state/disks/xvps-$vps.img" ] || { echo "crash: disk of a failed VPS left" >&2; return 1; }
		echo "crash: the job failed cleanly"
	fi
	for vps in $("$ctl" get "/vps?customer=$cust" | jq -r '.[].id'); do
		job=$("$ctl" delete "/vps/$vps" | jq -r .job.id)
		"$ctl" wait "$job" 60 || return 1
	done
	"$ctl" delete "/customers/$cust" >/dev/null && "$ctl" delete "/templates/$tpl" >/dev/null &&
		"$ctl" delete "/plans/$plan" >/dev/null && "$ctl" delete "/ip-pools/$pool" >/dev/null ||
		return 1
	unset XVPS_TOKEN
	echo "crash: all steps passed"
}

# The unit suites, one Criterion binary per layer (the Makefile's UNIT_*_SRC lists).
unit_bins="unit-common unit-billing unit-panel unit-agent unit-console"
if [ "$what" = all ] || [ "$what" = unit ]; then
	for b in $unit_bins; do
		if [ ! -x "$build/$b" ]; then
			echo "test: $build/$b is missing (make BUILD=... SAN=1 unit-bins)" >&2
			failed+=("$b (missing)")
			continue
		fi
		echo "test: $b"
		"$build/$b" --jobs 2 2>&1 | tee "$logs/$b.log"
		[ "${PIPESTATUS[0]}" -eq 0 ] || failed+=("unit suites ($b)")
	done
	# The guest template's seed parser against seeds from the agent's real writer (no VM).
	tests/guest/seed_test.sh "$build" 2>&1 | tee "$logs/seed.log"
	[ "${PIPESTATUS[0]}" -eq 0 ] || failed+=("guest seed parser (tests/guest/seed_test.sh)")
fi

# docs/openapi.yaml validated and held against the router (tests/openapi/run.sh; no server).
if { [ "$what" = all ] || [ "$what" = openapi ]; } && [ -e tests/openapi/run.sh ]; then
	tests/openapi/run.sh "$build" 2>&1 | tee "$logs/openapi.log"
	[ "${PIPESTATUS[0]}" -eq 0 ] || failed+=("OpenAPI check (tests/openapi/run.sh)")
fi

# Reverse DNS against a real PowerDNS (pdns_server on loopback, its own agent + xvpsd; seconds).
if [ "$what" = all ] || [ "$what" = rdns ]; then
	XVPS_RDNS_LOGS=$logs tests/rdns/run.sh "$build" 2>&1 | tee "$logs/rdns.log"
	[ "${PIPESTATUS[0]}" -eq 0 ] || failed+=("reverse DNS (tests/rdns/run.sh)")
fi

# Real packets through the real kernel's chains and qdiscs, in namespaces of its own (skips,
# saying why, when not root).
if [ "$what" = all ] || [ "$what" = netns ]; then
	tests/netns/run.sh "$build" 2>&1 | tee "$logs/netns.log"
	[ "${PIPESTATUS[0]}" -eq 0 ] || failed+=("real-kernel networking suite (tests/netns/run.sh)")
fi

# The usage ledger's bytes against the guests' own iptables counts, across an agent SIGKILL and a
# guest's own reboot (tests/netns/ledger.sh; root only, it says why it skips otherwise).
if [ "$what" = all ] || [ "$what" = ledger ]; then
	tests/netns/ledger.sh "$build" 2>&1 | tee "$logs/ledger.log"
	[ "${PIPESTATUS[0]}" -eq 0 ] || failed+=("usage ledger ground truth (tests/netns/ledger.sh)")
	# Traffic quotas with real packets: the throttle's rate, the suspension, notices and their
	# e-mails, the next period through xvpsd's test-only fake clock (tests/netns/quota.sh).
	tests/netns/quota.sh "$build" 2>&1 | tee "$logs/quota.log"
	[ "${PIPESTATUS[0]}" -eq 0 ] || failed+=("traffic quotas with real packets (tests/netns/quota.sh)")
fi

# The web UI and consoles in Debian's chromium (own agent + xvpsd, XVPS_NET=off).
if [ "$what" = all ] || [ "$what" = browser ]; then
	tests/browser/run.sh "$build" 2>&1 | tee "$logs/browser.log"
	[ "${PIPESTATUS[0]}" -eq 0 ] || failed+=("browser suite (tests/browser/run.sh)")
fi

# Only the WHMCS module (make test-whmcs); `all` and `api` run it beside the HTTPS walk.
if [ "$what" = whmcs ]; then
	XVPS_WHMCS_LOGS=$logs tests/whmcs/run.sh "$build" 2>&1 | tee "$logs/whmcs.log"
	[ "${PIPESTATUS[0]}" -eq 0 ] || failed+=("WHMCS module (tests/whmcs/run.sh)")
fi

if [ "$what" = all ] || [ "$what" = api ]; then
	# The dom0 namespace comes first, so /run/netns is a shared mount before any agent starts
	# (the guests' namespaces, made inside the agent's mount namespace, stay visible here).
	if [ "$(id -u)" != 0 ]; then
		export XVPS_NET=off
		echo "test: not root: network features (bridge, veth, firewall, shaping) skipped, XVPS_NET=off"
	elif ! ip netns add "xvt$$" 2>"$logs/netns.err"; then
		export XVPS_NET=off
		echo "test: 'ip netns add' failed ($(head -c 200 "$logs/netns.err")): network features skipped, XVPS_NET=off"
	else
		netns=xvt$$
		export XVPS_NET=on XVPS_NETNS=$netns XVPS_SIM_NETNS_PREFIX=$netns-
		echo "test: network features on: agents run in namespace $netns, guests in $netns-<domain>"
	fi
	rm -f "$logs/netns.err"
	tmp=$(mktemp -d /tmp/xvps-test.XXXXXX)
	state=$tmp/state
	mkdir -m 700 "$state"
	XVPS_ADMIN_PASSWORD=$(od -An -tx1 -N16 /dev/urandom | tr -d ' \n')
	export XVPS_ADMIN_PASSWORD XVPS_PWHASH_OPSLIMIT=1 XVPS_PWHASH_MEMLIMIT_KIB=8192
	export XVPS_CONSOLE_TOKEN_TTL=5 # the expiry test waits this out
	export XVPS_CONSOLE_PING=3      # the keep-alive test waits for pings
	export XVPS_BILLING_INTERVAL=1  # tests/api/api_billing.c waits for the prepaid drawdown
	# Quota notices (tests/api/api_quota.c runs the SMTP sink and the webhook receiver on these
	# loopback ports; nothing listens there before it starts, so xvpsd's first tries may fail).
	sink_port=$((20000 + $$ % 20000))
	export XVPS_SMTP_URL=smtp://127.0.0.1:$sink_port XVPS_SMTP_FROM=xvps@test.invalid
	export XVPS_WEBHOOK_URL=http://127.0.0.1:$((sink_port + 1))/hook
	XVPS_WEBHOOK_SECRET=$(od -An -tx1 -N16 /dev/urandom | tr -d ' \n')
	export XVPS_WEBHOOK_SECRET
	started=0
	start_servers_retry "$build" "$state" "$logs" XVPS_WEB_DIR=web && started=1
	if [ "$started" = 1 ]; then
		export XVPS_URL=http://127.0.0.1:$port XVPS_STATE=$state
		# Not in a pipeline: crash_test restarts the servers and must update their pids here.
		crash_rc=0
		crash_test >"$logs/crash.log" 2>&1 || crash_rc=$?
		cat "$logs/crash.log"
		[ "$crash_rc" -eq 0 ] || failed+=("crash recovery (scripts/test.sh crash_test)")
		tests/api/walk.sh 2>&1 | tee "$logs/walk.log"
		[ "${PIPESTATUS[0]}" -eq 0 ] || failed+=("curl walk (tests/api/walk.sh)")
		tests/api/ctl.sh "$build" 2>&1 | tee "$logs/ctl.log"
		[ "${PIPESTATUS[0]}" -eq 0 ] || failed+=("xvpsctl walk (tests/api/ctl.sh)")
		# HTTPS served by xvpsd itself, with its own throwaway agent (XVPS_NET=off).
		XVPS_STATE= tests/api/tls.sh "$build" 2>&1 | tee "$logs/tls.log"
		[ "${PIPESTATUS[0]}" -eq 0 ] || failed+=("HTTPS walk (tests/api/tls.sh)")
		# The WHMCS server module under php-cli, with its own throwaway agent + xvpsd.
		XVPS_STATE= XVPS_WHMCS_LOGS=$logs tests/whmcs/run.sh "$build" 2>&1 | tee "$logs/whmcs.log"
		[ "${PIPESTATUS[0]}" -eq 0 ] || failed+=("WHMCS module (tests/whmcs/run.sh)")
		# Backups under write load, restore, bad files, pruning: its own agent + xvpsd.
		XVPS_STATE= XVPS_URL= XVPS_NET=off tests/api/backup.sh "$build" 2>&1 | tee "$logs/backup.log"
		[ "${PIPESTATUS[0]}" -eq 0 ] || failed+=("backup and restore (tests/api/backup.sh)")
		# Serial: the suite's "nothing left behind" checks compare server-wide counts.
		"$build/api-tests" --jobs 1 2>&1 | tee "$logs/api.log"
		[ "${PIPESTATUS[0]}" -eq 0 ] || failed+=("API suite")
	else
		failed+=("server start")
	fi
	stop_servers
	# A stopped agent leaves no sim guest and no socket behind.
	for p in $(pids_naming "--dir $state "); do
		failed+=("stray sim guest (pid $p) after the agent stopped")
		kill -TERM "$p" 2>/dev/null
	done
	[ ! -e "$state/agent.sock" ] || failed+=("the agent left its socket behind")
	# ... and, with networking, no guest namespace and no vif (its guests are parked).
	if [ -n "$netns" ]; then
		left=$(netns_names "$netns-" | tr '\n' ' ')
		[ -z "$left" ] || failed+=("guest namespaces left after the agent stopped: $left")
		left=$(ip -n "$netns" -o link show type veth 2>/dev/null | awk -F': ' '{print $2}' | tr '\n' ' ')
		[ -z "$left" ] || failed+=("vifs left in $netns after the agent stopped: $left")
	fi
	cleanup
	for f in agent xvpsd; do
		if [ -s "$logs/$f.log" ] && [ ${#failed[@]} -gt 0 ]; then
			echo "---- last lines of $logs/$f.log" >&2
			tail -n 20 "$logs/$f.log" >&2
		fi
	done
fi

# Criterion counts a leaking or UB-ridden test as passed: the reports decide.
mapfile -t reports < <(sanitizer_reports "$logs"/*.log)
failed+=(${reports[@]+"${reports[@]}"})

if [ ${#failed[@]} -gt 0 ]; then
	printf 'test: FAILED: %s\n' "${failed[@]}" >&2
	exit 1
fi
exit 0
