#!/usr/bin/env bash
# backup.sh BUILD — the panel's backups (issue 15 item 5) on a throwaway agent + xvpsd of its own
# (XVPS_NET=off, sim + file drivers, the test-only fake clock of the SAN build): the schedule's
# first backup at start; `xvpsctl backup --out` taken while a writer orders customers and VPS
# through the API; the backup is a consistent snapshot (a prefix of the writer's order);
# `xvpsd --restore` refuses while xvpsd runs, refuses a truncated file and a newer schema (nothing
# written), then restores: the API shows the backup's customers, VPS, addresses and ledger rows;
# the VPS made after the backup, still on the host, are destroyed by the reconciler (their disks
# quarantined) and a new order works; pruning by age with the fake clock. Exits 1 on the first
# failure; stops only what it started and removes its directory.
set -euo pipefail
build=${1:?usage: tests/api/backup.sh BUILD_DIR}
build=$(cd "$build" && pwd)
cd "$(dirname "$0")/../.."
ctl=$build/xvpsctl
lib_tag=backup
. scripts/lib.sh
tmp=$(mktemp -d /tmp/xvps-backup.XXXXXX)
state=$tmp/state
writer_pid=
cleanup() {
	[ -z "$writer_pid" ] || { kill "$writer_pid" 2>/dev/null; wait "$writer_pid" 2>/dev/null; } || true
	stop_servers
	rm -rf "$tmp"
}
trap cleanup EXIT
fail() {
	echo "backup: FAILED: $*" >&2
	[ -s "$tmp/xvpsd.log" ] && tail -n 15 "$tmp/xvpsd.log" >&2
	exit 1
}
step() { echo "backup: $*"; }
mkdir -m 700 "$state"
export XVPS_NET=off XVPS_SIMGUEST=$build/xvps-simguest XVPS_TEST_CLOCK_FILE=$tmp/clock
export XVPS_ADMIN_PASSWORD=backup-admin-pw-1 XVPS_PWHASH_OPSLIMIT=1 XVPS_PWHASH_MEMLIMIT_KIB=8192
export XVPS_BACKUP_INTERVAL=3600 XVPS_BACKUP_KEEP_DAYS=14 XVPS_METER_INTERVAL=1
echo 0 >"$XVPS_TEST_CLOCK_FILE"
port=$(free_port)
url=http://127.0.0.1:$port
panel() { start_panel "$build" "$state" "$tmp/xvpsd.log" "127.0.0.1:$port" XVPS_WEB_DIR=web; }
start_agent "$build" "$state" "$tmp/agent.log" || fail "agent did not start"
panel || fail "xvpsd did not start"

jar=$tmp/jar
csrf=$(curl -fsS -c "$jar" -H 'Content-Type: application/json' \
	-d "{\"username\":\"admin\",\"password\":\"$XVPS_ADMIN_PASSWORD\"}" "$url/api/v1/session" | jq -r .csrf_token)
XVPS_TOKEN=$(curl -fsS -b "$jar" -H "X-CSRF-Token: $csrf" -H 'Content-Type: application/json' \
	-d '{"name":"backup-test"}' "$url/api/v1/api-keys" | jq -r .token)
export XVPS_TOKEN XVPS_URL=$url

step "the schedule takes a backup at start (none was there)"
wait_until 100 "$panel_pid" sh -c "[ \"\$('$ctl' get /backups | jq length)\" -ge 1 ]" ||
	fail "no scheduled backup at start"

plan=$("$ctl" post /plans '{"name":"bk-plan","vcpus":1,"memory_mib":256,"disk_gib":2}' | jq -r .id)
tpl=$("$ctl" post /templates '{"name":"bk-tpl","os":"debian-12","disk_gib":1,"boot":"pvh"}' | jq -r .id)
"$ctl" post /ip-pools '{"family":4,"cidr":"198.51.100.0/26","gateway":"198.51.100.1"}' >/dev/null

# The writer: N customers, each with one VPS and an e-mail change, in order; one line per
# customer "CUSTOMER_ID VPS_ID" once its VPS is ordered.
n=14
writer() {
	local i c v
	for i in $(seq "$n"); do
		c=$("$ctl" post /customers "{\"username\":\"bk$i\",\"email\":\"bk$i@example.net\",\"password\":\"bk-password-$i\"}" | jq -r .id)
		v=$("$ctl" post /vps "{\"hostname\":\"bk$i.example.net\",\"plan\":\"$plan\",\"template\":\"$tpl\",\"customer\":\"$c\"}" | jq -r .vps.id)
		"$ctl" patch "/customers/$c" "{\"email\":\"bk$i-new@example.net\"}" >/dev/null
		echo "$c $v" >>"$tmp/writes"
	done
}
: >"$tmp/writes"
writer >"$tmp/writer.log" 2>&1 &
writer_pid=$!
wait_until 300 "$writer_pid" sh -c "[ \$(wc -l <'$tmp/writes') -ge 3 ]" || fail "the writer stalled"

step "xvpsctl backup --out under write load"
"$ctl" backup --out "$tmp/b.db" >"$tmp/backup.json" || fail "xvpsctl backup failed"
name=$(jq -r .name "$tmp/backup.json")
[[ $name =~ ^xvps-[0-9]{8}T[0-9]{6}Z(-[0-9]+)?\.db$ ]] || fail "backup name $name"
cmp -s "$tmp/b.db" "$state/backups/$name" || fail "the download differs from $name"
wait "$writer_pid" || fail "the writer failed ($(tail -n 3 "$tmp/writer.log"))"
writer_pid=
[ "$(wc -l <"$tmp/writes")" = "$n" ] || fail "the writer made $(wc -l <"$tmp/writes") of $n"
"$ctl" get /backups | jq -e --arg n "$name" 'map(.name) | index($n) != null' >/dev/null ||
	fail "GET /backups does not list $name"

step "the backup is a consistent snapshot: a prefix of the writer's customers, each VPS with its customer"
q() { sqlite3 -readonly "$1" "$2"; }
k=$(q "$tmp/b.db" "SELECT count(*) FROM users WHERE role='customer'")
mapfile -t want < <(head -n "$k" "$tmp/writes" | awk '{print $1}')
mapfile -t have < <(q "$tmp/b.db" "SELECT id FROM users WHERE role='customer' ORDER BY id")
[ "${want[*]-}" = "${have[*]-}" ] || fail "backup customers ${have[*]-} are not the writer's first $k: ${want[*]-}"
[ "$(q "$tmp/b.db" "SELECT count(*) FROM vps WHERE customer_id NOT IN (SELECT id FROM users)")" = 0 ] ||
	fail "a VPS without its customer in the backup"
[ "$(q "$tmp/b.db" 'PRAGMA integrity_check')" = ok ] || fail "the backup fails integrity_check"
echo "backup: $k of $n customers were in the backup"
[ "$k" -ge 1 ] || fail "the backup holds no customer of the writer"

# Every job done before the restore (the VPS made after the backup are running on the host).
for v in $(awk '{print $2}' "$tmp/writes"); do
	wait_until 600 "$panel_pid" sh -c "[ \"\$('$ctl' get /vps/$v | jq -r .state)\" = running ]" ||
		fail "VPS $v did not reach running"
done

step "a restore while xvpsd runs is refused"
sum_before=$(sha256sum "$state/xvps.db")
if env XVPS_STATE="$state" "$build/xvpsd" --restore "$tmp/b.db" 2>"$tmp/err"; then
	fail "restored under a running xvpsd"
fi
grep -q "another xvpsd runs" "$tmp/err" || fail "no clear error: $(cat "$tmp/err")"
stop_pid "$panel_pid"
panel_pid=

step "a truncated backup and a newer schema are refused, nothing written"
sum_before=$(sha256sum "$state/xvps.db")
size=$(stat -c %s "$tmp/b.db")
head -c $((size / 2)) "$tmp/b.db" >"$tmp/trunc.db"
head -c $((size - 100)) "$tmp/b.db" >"$tmp/trunc2.db"
cp "$tmp/b.db" "$tmp/newer.db"
sqlite3 "$tmp/newer.db" 'PRAGMA user_version=9999'
for bad in trunc trunc2 newer; do
	if env XVPS_STATE="$state" "$build/xvpsd" --restore "$tmp/$bad.db" 2>"$tmp/err"; then
		fail "$bad.db was restored"
	fi
	case $bad in
	trunc*) grep -q "truncated" "$tmp/err" || fail "no clear error for $bad: $(cat "$tmp/err")" ;;
	newer) grep -q "newer than this xvpsd" "$tmp/err" || fail "no clear error for newer: $(cat "$tmp/err")" ;;
	esac
	[ "$(sha256sum "$state/xvps.db")" = "$sum_before" ] || fail "$bad.db changed the database"
	[ ! -e "$state/xvps.db.pre-restore" ] && [ ! -e "$state/xvps.db.restore-tmp" ] ||
		fail "$bad.db left files behind"
done

step "xvpsd --restore swaps the backup in and keeps the old database"
env XVPS_STATE="$state" "$build/xvpsd" --restore "$tmp/b.db" 2>"$tmp/err" ||
	fail "the restore failed: $(cat "$tmp/err")"
[ "$(q "$state/xvps.db.pre-restore" "SELECT count(*) FROM users WHERE role='customer'")" = "$n" ] ||
	fail "the pre-restore copy does not hold the $n customers"
panel || fail "xvpsd did not start on the restored database"

step "the API shows the backup's customers, VPS and addresses"
api_c=$("$ctl" get '/customers?limit=1000' | jq -c '[.[] | [.id, .username, .email]] | sort')
db_c=$(q "$tmp/b.db" "SELECT id, username, email FROM users WHERE role='customer'" |
	jq -Rsc 'split("\n") | map(select(length > 0) | split("|") | [.[0], .[1], .[2]]) | sort')
[ "$api_c" = "$db_c" ] || fail "customers: API $api_c, backup $db_c"
api_v=$("$ctl" get '/vps?limit=1000' | jq -c '[.[] | [.id, .hostname, .customer]] | sort')
db_v=$(q "$tmp/b.db" "SELECT id, hostname, customer_id FROM vps" |
	jq -Rsc 'split("\n") | map(select(length > 0) | split("|")) | sort')
[ "$api_v" = "$db_v" ] || fail "VPS: API $api_v, backup $db_v"
for v in $(q "$tmp/b.db" "SELECT id FROM vps"); do
	api_a=$("$ctl" get "/vps/$v/addresses" | jq -c '[.[].address] | sort')
	db_a=$(q "$tmp/b.db" "SELECT address FROM ip_addresses WHERE vps_id=$v" | jq -Rsc 'split("\n") | map(select(length > 0)) | sort')
	[ "$api_a" = "$db_a" ] && [ "$api_a" != "[]" ] || fail "VPS $v addresses: API $api_a, backup $db_a"
done
step "the ledger's rows at the backup are all there, unchanged"
max=$(q "$tmp/b.db" "SELECT coalesce(max(rowid), 0) FROM usage_samples")
[ "$(q "$tmp/b.db" "SELECT * FROM usage_samples ORDER BY rowid")" = \
	"$(q "$state/xvps.db" "SELECT * FROM usage_samples WHERE rowid <= $max ORDER BY rowid")" ] ||
	fail "usage_samples differ after the restore"
echo "backup: $(q "$tmp/b.db" "SELECT count(*) FROM usage_samples") ledger samples in the backup"
first=$(head -n 1 "$tmp/writes" | awk '{print $1}')
"$ctl" get "/customers/$first/usage" >/dev/null || fail "GET /customers/$first/usage"

step "the reconciler destroys the VPS made after the backup and quarantines their disks"
for v in $(tail -n +"$((k + 1))" "$tmp/writes" | awk '{print $2}'); do
	wait_until 300 "$panel_pid" test ! -e "$state/disks/xvps-$v.img" ||
		fail "the disk of VPS $v (made after the backup) is still in use"
	ls "$state/disks/" | grep -q "^quarantine-xvps-$v-" || fail "no quarantined disk of VPS $v"
	"$ctl" get "/audit?limit=1000" | jq -e --arg d "xvps-$v" 'map(select(.action == "reconcile.orphan" and (.resource | contains($d)))) | length > 0' >/dev/null ||
		fail "no reconcile.orphan audit for xvps-$v"
done
for v in $(q "$tmp/b.db" "SELECT id FROM vps"); do
	wait_until 600 "$panel_pid" sh -c "[ \"\$('$ctl' get /vps/$v | jq -r .state)\" = running ]" ||
		fail "restored VPS $v is not running"
	[ -e "$state/disks/xvps-$v.img" ] || fail "the disk of restored VPS $v is gone"
done
c=$(head -n 1 "$tmp/writes" | awk '{print $1}')
out=$("$ctl" post /vps "{\"hostname\":\"bk-after.example.net\",\"plan\":\"$plan\",\"template\":\"$tpl\",\"customer\":\"$c\"}")
"$ctl" wait "$(jq -r .job.id <<<"$out")" 120 || fail "a VPS ordered after the restore did not run"

step "bad names: 404; customers: 403"
code=$(curl -s -o /dev/null -w '%{http_code}' -H "Authorization: Bearer $XVPS_TOKEN" "$url/api/v1/backups/..%2Fxvps.db")
[ "$code" = 404 ] || fail "GET /backups/../xvps.db answered $code"
code=$(curl -s -o /dev/null -w '%{http_code}' -H "Authorization: Bearer $XVPS_TOKEN" "$url/api/v1/backups/xvps-20000101T000000Z.db")
[ "$code" = 404 ] || fail "GET of a missing backup answered $code"
cjar=$tmp/cjar
ccsrf=$(curl -fsS -c "$cjar" -H 'Content-Type: application/json' \
	-d '{"username":"bk1","password":"bk-password-1"}' "$url/api/v1/session" | jq -r .csrf_token)
code=$(curl -s -o /dev/null -w '%{http_code}' -b "$cjar" -H "X-CSRF-Token: $ccsrf" -X POST "$url/api/v1/backups")
[ "$code" = 403 ] || fail "a customer's POST /backups answered $code"

step "backups older than XVPS_BACKUP_KEEP_DAYS are pruned (fake clock +15 days)"
before=$("$ctl" get /backups | jq length)
[ "$before" -ge 2 ] || fail "expected at least 2 backups, have $before"
echo $((15 * 86400)) >"$XVPS_TEST_CLOCK_FILE"
new=$("$ctl" backup | jq -r .name)
left=$("$ctl" get /backups | jq -c 'map(.name)')
[ "$left" = "[\"$new\"]" ] || fail "after pruning: $left (new $new)"
[ "$(ls "$state/backups")" = "$new" ] || fail "files left in the backup directory: $(ls "$state/backups")"
stop_servers
# Sanitizer reports of the servers (their logs go away with $tmp): printed, so that test.sh's
# scan of this script's output sees them too.
if grep -E 'ERROR: (Address|Leak)Sanitizer|runtime error:' "$tmp"/*.log; then
	fail "sanitizer reports in the servers' logs"
fi
step "all steps passed"
