#!/usr/bin/env bash
# walk.sh — issue 3's "Done means" as the README's curl + jq session, with checks: admin sets
# up a plan, template, pool and customer; the customer orders a VPS, reboots, stops, starts and
# deletes it; then nothing of it may remain on disk ($XVPS_STATE) or in the DB but the audit
# log. Cleans up what it created. Talks only to $XVPS_URL; reads the DB with sqlite3.
set -euo pipefail

URL=${XVPS_URL:-http://127.0.0.1:8080}
STATE=${XVPS_STATE:-./var}
ADMIN_PW=${XVPS_ADMIN_PASSWORD:-$(cat "$STATE/admin-password")}
work=$(mktemp -d /tmp/xvps-walk.XXXXXX)
trap 'rm -rf "$work"' EXIT
cd "$work"

step=start
trap 'echo "walk: FAILED at step: $step" >&2' ERR
say() { step=$1; echo "walk: $1"; }
fail() { echo "walk: FAILED at step: $step: $*" >&2; exit 1; }
# ---- the README's session starts here (README.md "A first walk with curl") ----------------

say "admin logs in"
A=$(curl -sS --fail-with-body -c admin.jar --json "{\"username\":\"admin\",\"password\":\"$ADMIN_PW\"}" \
	"$URL/api/v1/session" | jq -r .csrf_token)
admin() { curl -sS --fail-with-body -b admin.jar -H "X-CSRF-Token: $A" "$@"; }

say "admin creates a plan, a template, an IPv4 pool and a customer"
PLAN=$(admin --json '{"name":"small","vcpus":1,"memory_mib":512,"disk_gib":4,"cpu_weight":256}' \
	"$URL/api/v1/plans" | jq -r .id)
TPL=$(admin --json '{"name":"debian-12","os":"debian","disk_gib":2,"boot":"pvh"}' \
	"$URL/api/v1/templates" | jq -r .id)
POOL=$(admin --json '{"family":4,"cidr":"192.0.2.0/24","gateway":"192.0.2.1"}' \
	"$URL/api/v1/ip-pools" | jq -r .id)
CUST=$(admin --json '{"username":"alice","email":"alice@example.com","password":"correct horse battery"}' \
	"$URL/api/v1/customers" | jq -r .id)
echo "      plan $PLAN, template $TPL, pool $POOL, customer $CUST"

say "the customer logs in"
C=$(curl -sS --fail-with-body -c alice.jar --json '{"username":"alice","password":"correct horse battery"}' \
	"$URL/api/v1/session" | jq -r .csrf_token)
alice() { curl -sS --fail-with-body -b alice.jar -H "X-CSRF-Token: $C" "$@"; }
# Waits for a job and prints its final state (done or failed): each GET with ?wait= is a long
# poll that answers once the job is finished, or after 30 s.
wait_job() {
	for _ in 1 2; do
		s=$(alice "$URL/api/v1/jobs/$1?wait=30" | jq -r .state)
		case $s in done | failed) echo "$s"; return ;; esac
	done
	echo "still running after 60 s"
}
# Runs a power action and waits for its job.
action() { wait_job "$(alice -X POST "$URL/api/v1/vps/$VPS/actions/$1" | jq -r .job.id)"; }

say "the customer orders a VPS"
R=$(alice --json "{\"hostname\":\"web1.example.net\",\"plan\":\"$PLAN\",\"template\":\"$TPL\"}" \
	"$URL/api/v1/vps")
VPS=$(echo "$R" | jq -r .vps.id)
JOB=$(echo "$R" | jq -r .job.id)
echo "      vps $VPS, job $JOB"

say "its job finishes"
[ "$(wait_job "$JOB")" = "done" ] || fail "vps.create job $JOB: $(alice "$URL/api/v1/jobs/$JOB")"

say "it is running with an address from the pool"
alice "$URL/api/v1/vps/$VPS" | jq '{state, domid, ipv4, ipv6}'
[ "$(alice "$URL/api/v1/vps/$VPS" | jq -r .state)" = running ] || fail "state is not running"
alice "$URL/api/v1/vps/$VPS" | jq -e '.ipv4[0] | startswith("192.0.2.")' >/dev/null ||
	fail "no address from 192.0.2.0/24"
D1=$(alice "$URL/api/v1/vps/$VPS" | jq -r .domid)

say "reboot (the domid changes)"
[ "$(action reboot)" = "done" ] || fail "reboot job failed"
D2=$(alice "$URL/api/v1/vps/$VPS" | jq -r .domid)
echo "      domid $D1 -> $D2"
{ [ "$D2" != "$D1" ] && [ "$D2" != null ]; } || fail "domid did not change"

say "shutdown"
[ "$(action shutdown)" = "done" ] || fail "shutdown job failed"
alice "$URL/api/v1/vps/$VPS" | jq -e '.state == "stopped" and .domid == null' >/dev/null ||
	fail "not stopped: $(alice "$URL/api/v1/vps/$VPS")"

say "start"
[ "$(action start)" = "done" ] || fail "start job failed"
[ "$(alice "$URL/api/v1/vps/$VPS" | jq -r .state)" = running ] || fail "not running after start"

say "delete"
[ "$(wait_job "$(alice -X DELETE "$URL/api/v1/vps/$VPS" | jq -r .job.id)")" = "done" ] ||
	fail "delete job failed"
code=$(curl -sS -o /dev/null -w '%{http_code}' -b alice.jar "$URL/api/v1/vps/$VPS")
[ "$code" = 404 ] || fail "GET /vps/$VPS answers $code after the delete, not 404"

# ---- the README's session ends here; the rest looks behind the API ------------------------

say "nothing of xvps-$VPS is left on disk"
left=$(find "$STATE" \( -name "*xvps-$VPS.*" -o -name "*xvps-$VPS-*" -o -name "xvps-$VPS" \) -print)
[ -z "$left" ] || fail "left behind: $left"
for p in /proc/[0-9]*; do
	[ "$(cat "$p/comm" 2>/dev/null)" = xvps-simguest ] || continue
	# Only this server's guests: another xvps on the machine may have its own xvps-N.
	if { tr '\0' ' ' <"$p/cmdline"; } 2>/dev/null | grep -qw -- "--name xvps-$VPS" &&
		{ tr '\0' ' ' <"$p/cmdline"; } 2>/dev/null | grep -qF -- "--dir $STATE "; then
		fail "a simguest for xvps-$VPS still runs (pid ${p#/proc/})"
	fi
done

say "nothing of it is left in the DB but the audit log"
db=$STATE/xvps.db
[ "$(sqlite3 "$db" "SELECT count(*) FROM vps WHERE id=$VPS")" = 0 ] || fail "vps row left"
[ "$(sqlite3 "$db" "SELECT count(*) FROM ip_addresses WHERE vps_id=$VPS")" = 0 ] ||
	fail "address row left"
# ... but its billing records, closed (docs/billing.md): its address and plan stretches.
[ "$(sqlite3 "$db" "SELECT count(*) FROM address_history WHERE vps_id=$VPS AND to_ts IS NOT NULL")" -ge 1 ] ||
	fail "no closed address_history row"
[ "$(sqlite3 "$db" "SELECT count(*) FROM address_history WHERE vps_id=$VPS AND to_ts IS NULL")" = 0 ] ||
	fail "an address_history row of the deleted VPS is still open"
[ "$(sqlite3 "$db" "SELECT count(*) FROM vps_plan_history WHERE vps_id=$VPS AND to_ts IS NULL")" = 0 ] ||
	fail "a plan stretch of the deleted VPS is still open"
[ "$(sqlite3 "$db" "SELECT count(*) FROM audit WHERE resource='vps/$VPS' AND action='vps.create'")" -ge 1 ] ||
	fail "no vps.create audit entry"
[ "$(sqlite3 "$db" "SELECT count(*) FROM audit WHERE resource='vps/$VPS' AND action='vps.delete'")" -ge 1 ] ||
	fail "no vps.delete audit entry"
sqlite3 "$db" "SELECT username, ip, action FROM audit WHERE resource='vps/$VPS' ORDER BY id" |
	sed 's/^/      audit: /'

say "admin removes the customer, template, plan and pool"
admin -X DELETE "$URL/api/v1/customers/$CUST" >/dev/null
admin -X DELETE "$URL/api/v1/templates/$TPL" >/dev/null
admin -X DELETE "$URL/api/v1/plans/$PLAN" >/dev/null
admin -X DELETE "$URL/api/v1/ip-pools/$POOL" >/dev/null
[ "$(sqlite3 "$db" "SELECT count(*) FROM ip_pools WHERE id=$POOL")" = 0 ] || fail "pool row left"
left=$(find "$STATE" -name "tpl-$TPL.*" -print)
[ -z "$left" ] || fail "template image left: $left"

say "logout"
curl -sS --fail-with-body -b admin.jar -H "X-CSRF-Token: $A" -X DELETE "$URL/api/v1/session"
echo "walk: all steps passed"
