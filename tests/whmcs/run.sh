#!/usr/bin/env bash
# run.sh BUILD — the WHMCS server module (integrations/whmcs/modules/servers/xvps/) under php-cli
# against a throwaway agent (sim, file, no networking) + xvpsd on a free loopback port, state in
# a mktemp -d directory: an admin creates three API keys (billing only, everything but billing,
# everything) and a plan, a second plan, a template and an IPv4 pool, then tests/whmcs/test.php
# calls every module function with the $params WHMCS passes and checks each effect through the
# API. Fails when a step fails or a server log holds a sanitizer report. Talks only to
# 127.0.0.1; stops what it started, by pid, and removes its directory.
set -euo pipefail

build=${1:?usage: tests/whmcs/run.sh BUILD}
cd "$(dirname "$0")/../.."
build=$(cd "$build" && pwd)
lib_tag=whmcs
. scripts/lib.sh # free_port, start_servers_retry, stop_servers, sanitizer_reports
command -v php >/dev/null || { echo "whmcs: FAILED: php-cli is not installed (scripts/deps.sh)" >&2; exit 1; }
php -r 'exit(function_exists("curl_init") ? 0 : 1);' ||
	{ echo "whmcs: FAILED: php-curl is not installed (scripts/deps.sh)" >&2; exit 1; }

work=$(mktemp -d /tmp/xvps-whmcs.XXXXXX)
logs=${XVPS_WHMCS_LOGS:-$work}
stop() {
	stop_servers
	rm -rf "$work"
}
trap stop EXIT
fail() { echo "whmcs: FAILED: $*" >&2; exit 1; }

mkdir -m 700 "$work/state"
XVPS_ADMIN_PASSWORD=$(od -An -tx1 -N16 /dev/urandom | tr -d ' \n')
export XVPS_ADMIN_PASSWORD XVPS_NET=off XVPS_METER_INTERVAL=1 XVPS_SIMGUEST=$build/xvps-simguest
export XVPS_PWHASH_OPSLIMIT=1 XVPS_PWHASH_MEMLIMIT_KIB=8192
mkdir -p "$logs"
start_servers_retry "$build" "$work/state" "$work" XVPS_WEB_DIR=web || fail "the servers did not start"
url=http://127.0.0.1:$port

jar=$work/jar
csrf=$(curl -fsS -c "$jar" -H 'Content-Type: application/json' \
	-d "{\"username\":\"admin\",\"password\":\"$XVPS_ADMIN_PASSWORD\"}" "$url/api/v1/session" |
	jq -r .csrf_token)
admin() { curl -fsS -b "$jar" -H "X-CSRF-Token: $csrf" -H 'Content-Type: application/json' "$@"; }
key() { admin -d "{\"name\":\"$1\",\"scopes\":$2}" "$url/api/v1/api-keys" | jq -r .token; }
XVPS_BILLING_KEY=$(key whmcs '["billing"]')
XVPS_NOBILLING_KEY=$(key no-billing '["read-only","vps","admin"]')
XVPS_CHECK_KEY=$(key checks '["read-only","vps","billing","admin"]')
XVPS_TEST_PLAN=$(admin -d '{"name":"whmcs-small","vcpus":1,"memory_mib":256,"disk_gib":2,"traffic_gib":100}' \
	"$url/api/v1/plans" | jq -r .id)
XVPS_TEST_PLAN2=$(admin -d '{"name":"whmcs-large","vcpus":2,"memory_mib":512,"disk_gib":4,"traffic_gib":200}' \
	"$url/api/v1/plans" | jq -r .id)
XVPS_TEST_TEMPLATE=$(admin -d '{"name":"whmcs-tpl","os":"debian-12","disk_gib":1,"boot":"pvh"}' \
	"$url/api/v1/templates" | jq -r .id)
admin -d '{"family":4,"cidr":"192.0.2.128/28","gateway":"192.0.2.129"}' "$url/api/v1/ip-pools" >/dev/null
export XVPS_TEST_URL=$url XVPS_BILLING_KEY XVPS_NOBILLING_KEY XVPS_CHECK_KEY XVPS_TEST_PLAN \
	XVPS_TEST_PLAN2 XVPS_TEST_TEMPLATE

rc=0
php -d display_errors=stderr -d error_reporting=E_ALL tests/whmcs/test.php || rc=$?
stop_servers
cp "$work/agent.log" "$logs/whmcs-agent.log" 2>/dev/null || true
cp "$work/xvpsd.log" "$logs/whmcs-xvpsd.log" 2>/dev/null || true
if ! sanitizer_reports "$work/agent.log" "$work/xvpsd.log" >/dev/null; then
	fail "sanitizer report in a server log"
fi
if [ "$rc" -ne 0 ]; then
	tail -n 20 "$work/xvpsd.log" >&2
	fail "tests/whmcs/test.php exited $rc"
fi
