#!/usr/bin/env bash
# tls.sh BUILD — xvpsd serving HTTPS itself (XVPS_TLS_CERT/XVPS_TLS_KEY, GnuTLS through
# libmicrohttpd), with its own throwaway agent (sim, file, no networking) and a self-signed
# certificate made here with openssl: /healthz over HTTPS, plain HTTP refused, the session
# cookie Secure, the UI's security headers, a half-configured TLS refused at start, and a
# browser console over wss:// — a customer's VPS, a console token, the WebSocket upgrade through
# TLS (openssl s_client) answered 101 with the console server's "RFB 003.008" in the first
# frame. Talks only to 127.0.0.1; stops what it started, by pid.
set -euo pipefail

build=${1:?usage: tls.sh BUILD}
cd "$(dirname "$0")/../.."
lib_tag=tls
. scripts/lib.sh # free_port, start_agent, start_panel, stop_servers, sanitizer_reports
work=$(mktemp -d /tmp/xvps-tls.XXXXXX)
stop() {
	stop_servers
	rm -rf "$work"
}
trap stop EXIT
step=start
trap 'echo "tls: FAILED at step: $step" >&2' ERR
say() { step=$1; echo "tls: $1"; }
fail() { echo "tls: FAILED at step: $step: $*" >&2; exit 1; }

say "a self-signed certificate for 127.0.0.1"
openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -days 2 \
	-subj /CN=127.0.0.1 -addext subjectAltName=IP:127.0.0.1 \
	-keyout "$work/key.pem" -out "$work/cert.pem" 2>/dev/null
mkdir -m 700 "$work/state"
export XVPS_STATE=$work/state XVPS_NET=off XVPS_DEMO=1 XVPS_DEMO_PASSWORD='demo tls password'
XVPS_ADMIN_PASSWORD=${XVPS_ADMIN_PASSWORD:-$(od -An -tx1 -N16 /dev/urandom | tr -d ' \n')}
export XVPS_ADMIN_PASSWORD

say "half a TLS configuration is refused at start"
rc=0
XVPS_LISTEN=127.0.0.1:0 XVPS_TLS_CERT=$work/cert.pem "$build/xvpsd" 2>"$work/half.log" || rc=$?
[ "$rc" = 2 ] || fail "xvpsd with only XVPS_TLS_CERT exited $rc, not 2"
grep -q "go together" "$work/half.log" || fail "no reason given: $(cat "$work/half.log")"

say "agent and xvpsd (HTTPS) start"
start_agent "$build" "$XVPS_STATE" "$work/agent.log" || fail "the agent did not start"
port=$(free_port)
URL=https://127.0.0.1:$port
start_panel "$build" "$XVPS_STATE" "$work/xvpsd.log" "127.0.0.1:$port" XVPS_WEB_DIR=web \
	XVPS_TLS_CERT="$work/cert.pem" XVPS_TLS_KEY="$work/key.pem" || fail "xvpsd did not start"
c() { curl -sS --cacert "$work/cert.pem" "$@"; }
[ "$(c -o /dev/null -w '%{http_code}' "$URL/healthz")" = 200 ] || fail "no /healthz over HTTPS"

say "plain HTTP on the same port gets no answer"
code=$(curl -sS -m 5 -o /dev/null -w '%{http_code}' "http://127.0.0.1:$port/healthz" 2>/dev/null || true)
[ "$code" != 200 ] || fail "plain HTTP answered 200"

say "the UI carries its security headers over HTTPS"
c -D "$work/h" -o /dev/null "$URL/"
grep -qi '^content-security-policy:' "$work/h" || fail "no CSP: $(cat "$work/h")"

say "the customer's session cookie is Secure"
C=$(c -D "$work/h" -c "$work/demo.jar" --json '{"username":"demo","password":"demo tls password"}' \
	"$URL/api/v1/session" | jq -r .csrf_token)
grep -i '^set-cookie: xvps_session=' "$work/h" | grep -q '; Secure' || fail "cookie not Secure"
demo() { c --fail-with-body -b "$work/demo.jar" -H "X-CSRF-Token: $C" "$@"; }
# wait_job ID: the customer's job ID polled every 0.2 s until done or failed (60 s at the most);
# prints its last state.
wait_job() {
	local st
	for _ in $(seq 300); do
		st=$(demo "$URL/api/v1/jobs/$1" | jq -r .state)
		case $st in done | failed) break ;; esac
		sleep 0.2
	done
	echo "$st"
}

say "the customer orders a VPS (the demo plan and template, looked up by the admin)"
A=$(c --fail-with-body -c "$work/admin.jar" \
	--json "{\"username\":\"admin\",\"password\":\"$XVPS_ADMIN_PASSWORD\"}" \
	"$URL/api/v1/session" | jq -r .csrf_token)
admin() { c --fail-with-body -b "$work/admin.jar" -H "X-CSRF-Token: $A" "$@"; }
PLAN=$(admin "$URL/api/v1/plans" | jq -r '(.items? // .)[0].id')
TPL=$(admin "$URL/api/v1/templates" | jq -r '(.items? // .)[0].id')
R=$(demo --json "{\"hostname\":\"tls.example.net\",\"plan\":\"$PLAN\",\"template\":\"$TPL\"}" \
	"$URL/api/v1/vps")
VPS=$(echo "$R" | jq -r .vps.id)
JOB=$(echo "$R" | jq -r .job.id)
s=$(wait_job "$JOB")
[ "$s" = done ] || fail "vps.create job $JOB: $s"

say "its console over wss:// answers with RFB"
T=$(demo -X POST "$URL/api/v1/vps/$VPS/console")
path=$(echo "$T" | jq -r .url)
case $path in /console/ws\?token=*) ;; *) fail "console url: $T" ;; esac
cookie=$(awk '$6 == "xvps_session" {print $7}' "$work/demo.jar")
printf 'GET %s HTTP/1.1\r\nHost: 127.0.0.1:%s\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Version: 13\r\nSec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nOrigin: https://127.0.0.1:%s\r\nCookie: xvps_session=%s\r\n\r\n' \
	"$path" "$port" "$port" "$cookie" >"$work/req"
# s_client ends when its stdin does: keep stdin open for 5 s so the first frame can arrive.
{ cat "$work/req"; sleep 5; } | timeout 20 openssl s_client -quiet -connect "127.0.0.1:$port" \
	-CAfile "$work/cert.pem" -verify_return_error 2>/dev/null >"$work/ws.out" || true
head -c 200 "$work/ws.out" | tr -d '\r' | head -n 1 | grep -q '^HTTP/1.1 101' ||
	fail "no 101 over TLS: $(head -c 300 "$work/ws.out")"
grep -aq 'RFB 003.008' "$work/ws.out" || fail "no RFB greeting in the first frame"

say "tidy up"
J=$(demo -X DELETE "$URL/api/v1/vps/$VPS" | jq -r .job.id)
s=$(wait_job "$J")
[ "$s" = done ] || fail "vps.delete job $J: $s"
sanitizer_reports "$work/agent.log" "$work/xvpsd.log" >/dev/null || fail "sanitizer report in a server log"
echo "tls: all steps passed"
