#!/usr/bin/env bash
# tests/rdns/run.sh BUILD — reverse DNS (issue 16 item 4) against a real PowerDNS: Debian's
# pdns_server on loopback with a throwaway sqlite3 database (its HTTP API and its DNS port on
# free loopback ports, no security poll: no traffic leaves the machine), the zones made through
# its API, a throwaway agent + xvpsd (XVPS_NET=off) with XVPS_PDNS_URL/KEY and
# XVPS_RDNS_RESOLVER pointing at it. PTRs are set through the API and xvpsctl as a customer and
# resolved with `dig -x` against pdns_server; the forward check both ways; bad names, an address
# the customer does not hold and another customer's VPS refused and audited; PowerDNS stopped:
# 503 and nothing changed; a zone missing on PowerDNS: 502; the removal when an extra address is
# removed and when the VPS is deleted; no sanitizer report in the servers' logs. Exits 1 on the
# first failure; stops only the pids it started and removes its directory. The servers' logs go
# to XVPS_RDNS_LOGS (scripts/test.sh: its log directory) as rdns-xvpsd.log and rdns-agent.log.
set -euo pipefail
build=${1:?usage: tests/rdns/run.sh BUILD_DIR}
build=$(cd "$build" && pwd)
cd "$(dirname "$0")/../.."
ctl=$build/xvpsctl
lib_tag=rdns
. scripts/lib.sh
for t in pdns_server dig sqlite3 jq curl; do
	command -v "$t" >/dev/null || { echo "rdns: FAILED: $t is missing (scripts/deps.sh installs it)" >&2; exit 1; }
done
schema=/usr/share/pdns-backend-sqlite3/schema/schema.sqlite3.sql
[ -r "$schema" ] || { echo "rdns: FAILED: $schema is missing (pdns-backend-sqlite3)" >&2; exit 1; }

tmp=$(mktemp -d /tmp/xvps-rdns.XXXXXX)
state=$tmp/state
logs=${XVPS_RDNS_LOGS:-$tmp}
panel_log=$logs/rdns-xvpsd.log
agent_log=$logs/rdns-agent.log
: >"$panel_log"
: >"$agent_log"
pdns_pid=
stop_pdns() {
	stop_pid "$pdns_pid"
	pdns_pid=
}
cleanup() {
	stop_servers
	stop_pdns
	rm -rf "$tmp"
}
trap cleanup EXIT
fail() {
	echo "rdns: FAILED: $*" >&2
	[ -s "$panel_log" ] && tail -n 15 "$panel_log" >&2
	[ -s "$tmp/pdns.log" ] && tail -n 5 "$tmp/pdns.log" >&2
	exit 1
}
step() { echo "rdns: $*"; }

# ---- PowerDNS ---------------------------------------------------------------------------------
pdns_key=$(od -An -tx1 -N16 /dev/urandom | tr -d ' \n')
dns_port=$(free_port)
api_port=$(free_port)
[ "$dns_port" != "$api_port" ] || api_port=$(free_port)
mkdir -m 700 "$tmp/pdns"
sqlite3 "$tmp/pdns/pdns.db" <"$schema"
: >"$tmp/pdns/pdns.conf"
pdns_api=http://127.0.0.1:$api_port
start_pdns() {
	pdns_server --config-dir="$tmp/pdns" --socket-dir="$tmp/pdns" --daemon=no --guardian=no \
		--disable-syslog=yes --setuid= --setgid= --launch=gsqlite3 \
		--gsqlite3-database="$tmp/pdns/pdns.db" --local-address=127.0.0.1 --local-port="$dns_port" \
		--api=yes --api-key="$pdns_key" --webserver=yes --webserver-address=127.0.0.1 \
		--webserver-port="$api_port" --webserver-allow-from=127.0.0.1/32 \
		--security-poll-suffix= --cache-ttl=0 --negquery-cache-ttl=0 --query-cache-ttl=0 \
		--zone-cache-refresh-interval=0 >>"$tmp/pdns.log" 2>&1 &
	pdns_pid=$!
	wait_until 100 "$pdns_pid" curl -fs -o /dev/null -H "X-API-Key: $pdns_key" \
		"$pdns_api/api/v1/servers/localhost" || fail "pdns_server did not start"
}
pdns() { curl -fsS -H "X-API-Key: $pdns_key" "$@"; }
zone() {
	pdns -o /dev/null -d "{\"name\":\"$1\",\"kind\":\"Native\",\"nameservers\":[]}" \
		"$pdns_api/api/v1/servers/localhost/zones" || fail "creating zone $1 on PowerDNS"
}
# fwd NAME TYPE ADDRESS: a forward record in example.test.
fwd() {
	pdns -o /dev/null -X PATCH -d "{\"rrsets\":[{\"name\":\"$1.\",\"type\":\"$2\",\"ttl\":60,\"changetype\":\"REPLACE\",\"records\":[{\"content\":\"$3\",\"disabled\":false}]}]}" \
		"$pdns_api/api/v1/servers/localhost/zones/example.test." || fail "forward record $1"
}
ptr_of() { dig +short +time=2 +tries=1 -p "$dns_port" @127.0.0.1 -x "$1"; }
step "pdns_server on 127.0.0.1:$dns_port (API :$api_port), sqlite3 database"
start_pdns
zone 2.0.192.in-addr.arpa.
zone 7.7.0.0.8.b.d.0.1.0.0.2.ip6.arpa.
zone example.test.

# ---- xvpsd --------------------------------------------------------------------------------------
mkdir -m 700 "$state"
export XVPS_NET=off XVPS_SIMGUEST=$build/xvps-simguest
export XVPS_ADMIN_PASSWORD=rdns-admin-pw-1 XVPS_PWHASH_OPSLIMIT=1 XVPS_PWHASH_MEMLIMIT_KIB=8192
port=$(free_port)
url=http://127.0.0.1:$port
db=$state/xvps.db
start_agent "$build" "$state" "$agent_log" || fail "agent did not start"
start_panel "$build" "$state" "$panel_log" "127.0.0.1:$port" XVPS_PDNS_URL="$pdns_api" \
	XVPS_PDNS_KEY="$pdns_key" XVPS_RDNS_RESOLVER="127.0.0.1:$dns_port" \
	XVPS_RDNS_RETRY_INTERVAL=1 || fail "xvpsd did not start"

# key_of USER PASSWORD: an API key of that user.
key_of() {
	local jar=$tmp/$1.jar csrf
	csrf=$(curl -fsS -c "$jar" -H 'Content-Type: application/json' \
		-d "{\"username\":\"$1\",\"password\":\"$2\"}" "$url/api/v1/session" | jq -r .csrf_token)
	curl -fsS -b "$jar" -H "X-CSRF-Token: $csrf" -H 'Content-Type: application/json' \
		-d '{"name":"rdns-test"}' "$url/api/v1/api-keys" | jq -r .token
}
admin_key=$(key_of admin "$XVPS_ADMIN_PASSWORD")
export XVPS_URL=$url XVPS_TOKEN=$admin_key
plan=$("$ctl" post /plans '{"name":"rd-plan","vcpus":1,"memory_mib":256,"disk_gib":2}' | jq -r .id)
tpl=$("$ctl" post /templates '{"name":"rd-tpl","os":"debian-12","disk_gib":1,"boot":"pvh"}' | jq -r .id)
"$ctl" post /ip-pools '{"family":4,"cidr":"192.0.2.0/24","gateway":"192.0.2.1"}' >/dev/null
"$ctl" post /ip-pools '{"family":6,"cidr":"2001:db8:77::/48","gateway":"2001:db8:77::1","vps_prefix":64}' >/dev/null
c1=$("$ctl" post /customers '{"username":"rdone","email":"r1@example.net","password":"rdns-password-1"}' | jq -r .id)
c2=$("$ctl" post /customers '{"username":"rdtwo","email":"r2@example.net","password":"rdns-password-2"}' | jq -r .id)
order() {
	local out
	out=$("$ctl" post /vps "{\"hostname\":\"$1\",\"plan\":\"$plan\",\"template\":\"$tpl\",\"customer\":\"$2\"}")
	"$ctl" wait "$(jq -r .job.id <<<"$out")" 120 >/dev/null || fail "ordering $1"
	jq -r .vps.id <<<"$out"
}
v1=$(order rd1.example.net "$c1")
v2=$(order rd2.example.net "$c2")
k1=$(key_of rdone rdns-password-1)
addrs=$("$ctl" get "/vps/$v1/addresses")
a4=$(jq -r '.[] | select(.family == 4) | .address' <<<"$addrs")
p6=$(jq -r '.[] | select(.family == 6) | .address' <<<"$addrs")
[ -n "$a4" ] && [ -n "$p6" ] || fail "VPS $v1 has no IPv4 address or no routed /64: $addrs"
a6=${p6%::}::53 # a name inside the routed /64
step "VPS $v1 of customer $c1: $a4 and ${p6}/64 (PTR at $a6); VPS $v2 of customer $c2"

# As the customer (XVPS_TOKEN=k1): status and body of a request.
cust() { curl -sS -o "$tmp/body" -w '%{http_code}' -H "Authorization: Bearer $k1" "$@"; }
put_ptr() { cust -X PUT -H 'Content-Type: application/json' -d "{\"name\":\"$3\"}" "$url/api/v1/vps/$1/rdns/$2"; }
expect() { # expect STATUS GOT WHAT
	[ "$2" = "$1" ] || fail "$3: HTTP $2, not $1: $(cat "$tmp/body")"
}
problem() { # the answer is problem+json with status $1 (and field $2)
	jq -e --arg s "$1" --arg f "${2:-}" '.status == ($s|tonumber) and ($f == "" or .field == $f)' \
		"$tmp/body" >/dev/null || fail "not the problem $1 ${2:-}: $(cat "$tmp/body")"
}
audited() { # audited ACTION COUNT-AT-LEAST
	local n
	n=$(sqlite3 "$db" "SELECT count(*) FROM audit WHERE action='$1'")
	[ "$n" -ge "$2" ] || fail "$n audit entries $1, expected >= $2"
}

step "forward check: a name without an A record, and one pointing elsewhere, are refused (422)"
fwd elsewhere.example.test A 192.0.2.250
expect 422 "$(put_ptr "$v1" "$a4" nothing.example.test)" "PTR to a name that does not resolve"
problem 422 name
expect 422 "$(put_ptr "$v1" "$a4" elsewhere.example.test)" "PTR to a name resolving elsewhere"
problem 422 name
[ -z "$(ptr_of "$a4")" ] || fail "a refused PTR reached PowerDNS"
audited vps.rdns.refused 2

step "bad names: not an FQDN, one label, upper case, an address (422, nothing stored)"
for bad in 'not_a_name.example.test' 'single' 'Host.Example.Test' '192.0.2.9'; do
	expect 422 "$(put_ptr "$v1" "$a4" "$bad")" "bad name $bad"
	problem 422 name
done

step "a PTR for an address the customer does not hold, and on another customer's VPS: 404"
expect 404 "$(put_ptr "$v1" 192.0.2.200 host.example.test)" "an address not held"
problem 404
expect 404 "$(put_ptr "$v1" 2001:db8:99::1 host.example.test)" "an IPv6 address outside the /64"
expect 404 "$(put_ptr "$v2" "$a4" host.example.test)" "another customer's VPS"
n=$(sqlite3 "$db" "SELECT count(*) FROM audit WHERE action='vps.rdns.refused' AND detail LIKE '(404) 192.0.2.200:%'")
[ "$n" -ge 1 ] || fail "the refusal for 192.0.2.200 is not audited"
[ "$(sqlite3 "$db" "SELECT count(*) FROM rdns_ptr")" = 0 ] || fail "a refused PTR was stored"

step "IPv4: the name resolves forward, the PTR is published and answered by dig -x"
fwd host4.example.test A "$a4"
expect 200 "$(put_ptr "$v1" "$a4" host4.example.test)" "setting the IPv4 PTR"
jq -e '.published == true and .name == "host4.example.test" and .zone == "2.0.192.in-addr.arpa"' \
	"$tmp/body" >/dev/null || fail "PUT answer: $(cat "$tmp/body")"
[ "$(ptr_of "$a4")" = host4.example.test. ] || fail "dig -x $a4: '$(ptr_of "$a4")'"
audited vps.rdns.set 1

step "IPv6 inside the routed /64, through xvpsctl as the customer"
fwd host6.example.test AAAA "$a6"
XVPS_TOKEN=$k1 "$ctl" rdns set "$v1" "$a6" host6.example.test | grep -q published ||
	fail "xvpsctl rdns set"
[ "$(ptr_of "$a6")" = host6.example.test. ] || fail "dig -x $a6: '$(ptr_of "$a6")'"
XVPS_TOKEN=$k1 "$ctl" rdns get "$v1" >"$tmp/get.txt" || fail "xvpsctl rdns get"
grep -q "host6.example.test" "$tmp/get.txt" && grep -q "host4.example.test" "$tmp/get.txt" ||
	fail "xvpsctl rdns get: $(cat "$tmp/get.txt")"
expect 200 "$(cust "$url/api/v1/vps/$v1/rdns")" "GET rdns"
jq -e --arg a "$a6" '.publishing and (.records[] | select(.address == $a) | .within != null)' \
	"$tmp/body" >/dev/null || fail "GET rdns: $(cat "$tmp/body")"

step "unchecked PTRs: an admin setting allows a name that does not resolve"
"$ctl" get /settings/rdns | jq -e '.unchecked == false' >/dev/null || fail "default settings"
curl -fsS -o /dev/null -X PUT -H "Authorization: Bearer $admin_key" -H 'Content-Type: application/json' \
	-d '{"zones":[],"unchecked":true}' "$url/api/v1/settings/rdns" || fail "PUT /settings/rdns"
expect 200 "$(put_ptr "$v1" "$a4" unchecked.example.test)" "an unchecked PTR"
[ "$(ptr_of "$a4")" = unchecked.example.test. ] || fail "dig -x after the unchecked PTR"
expect 200 "$(put_ptr "$v1" "$a4" host4.example.test)" "back to the checked name"

step "a configured zone PowerDNS does not have: 502, nothing changed"
curl -fsS -o /dev/null -X PUT -H "Authorization: Bearer $admin_key" -H 'Content-Type: application/json' \
	-d '{"zones":["0.192.in-addr.arpa"],"unchecked":true}' "$url/api/v1/settings/rdns" || fail "zones"
expect 502 "$(put_ptr "$v1" "$a4" other.example.test)" "a missing zone"
problem 502
[ "$(sqlite3 "$db" "SELECT name FROM rdns_ptr WHERE address='$a4'")" = host4.example.test ] ||
	fail "the row changed after a 502"
curl -fsS -o /dev/null -X PUT -H "Authorization: Bearer $admin_key" -H 'Content-Type: application/json' \
	-d '{"zones":["2.0.192.in-addr.arpa"],"unchecked":true}' "$url/api/v1/settings/rdns" || fail "zones"

step "PowerDNS stopped: 503 problem+json, the panel keeps the old PTR"
stop_pdns
expect 503 "$(put_ptr "$v1" "$a4" down.example.test)" "PowerDNS unreachable"
problem 503
[ "$(sqlite3 "$db" "SELECT name FROM rdns_ptr WHERE address='$a4'")" = host4.example.test ] ||
	fail "the row changed while PowerDNS was down"
start_pdns
[ "$(ptr_of "$a4")" = host4.example.test. ] || fail "PowerDNS lost the PTR"
curl -fsS -o /dev/null -X PUT -H "Authorization: Bearer $admin_key" -H 'Content-Type: application/json' \
	-d '{"zones":[],"unchecked":false}' "$url/api/v1/settings/rdns" || fail "settings back"

step "an extra address: its PTR goes from PowerDNS when the address is removed"
extra=$("$ctl" post "/vps/$v1/addresses" '{"family":4}')
e4=$(jq -r .address.address <<<"$extra")
"$ctl" wait "$(jq -r .job.id <<<"$extra")" 60 >/dev/null || fail "adding an address"
fwd extra.example.test A "$e4"
expect 200 "$(put_ptr "$v1" "$e4" extra.example.test)" "PTR of the extra address"
[ "$(ptr_of "$e4")" = extra.example.test. ] || fail "dig -x $e4"
job=$("$ctl" delete "/vps/$v1/addresses/$e4" | jq -r .job.id)
"$ctl" wait "$job" 60 >/dev/null || fail "removing the address"
wait_until 100 "" sh -c "[ -z \"\$(dig +short +time=1 +tries=1 -p $dns_port @127.0.0.1 -x $e4)\" ]" ||
	fail "the PTR of the removed address $e4 is still on PowerDNS"
[ "$(sqlite3 "$db" "SELECT count(*) FROM rdns_ptr WHERE address='$e4'")" = 0 ] || fail "row left"

step "DELETE of a PTR (xvpsctl rdns clear) removes it from PowerDNS"
fwd gone.example.test AAAA "${p6%::}::54"
expect 200 "$(put_ptr "$v1" "${p6%::}::54" gone.example.test)" "a second IPv6 PTR"
XVPS_TOKEN=$k1 "$ctl" rdns clear "$v1" "${p6%::}::54" >/dev/null || fail "xvpsctl rdns clear"
[ -z "$(ptr_of "${p6%::}::54")" ] || fail "the cleared PTR is still on PowerDNS"
expect 404 "$(cust -X DELETE "$url/api/v1/vps/$v1/rdns/${p6%::}::54")" "clearing it twice"
audited vps.rdns.delete 1

step "deleting the VPS removes its PTRs from PowerDNS and the panel"
job=$("$ctl" delete "/vps/$v1" | jq -r .job.id)
"$ctl" wait "$job" 120 >/dev/null || fail "deleting VPS $v1"
wait_until 100 "" sh -c "[ -z \"\$(dig +short +time=1 +tries=1 -p $dns_port @127.0.0.1 -x $a4)\$(dig +short +time=1 +tries=1 -p $dns_port @127.0.0.1 -x $a6)\" ]" ||
	fail "PTRs of the deleted VPS are still on PowerDNS"
[ "$(sqlite3 "$db" "SELECT count(*) FROM rdns_ptr") $(sqlite3 "$db" "SELECT count(*) FROM rdns_removals")" = "0 0" ] ||
	fail "rdns rows left after the VPS was deleted"
audited rdns.removed 3

job=$("$ctl" delete "/vps/$v2" | jq -r .job.id)
"$ctl" wait "$job" 120 >/dev/null || fail "deleting VPS $v2"
stop_servers
reports=$(sanitizer_reports "$panel_log" "$agent_log" || true)
[ -z "$reports" ] || fail "sanitizer reports: $reports"
step "all steps passed"
