#!/usr/bin/env bash
# ctl.sh BUILD — drives xvpsctl (the admin CLI) against the running xvpsd at $XVPS_URL:
# an API key, a bad request that must fail with the problem's field, a bulk order of two VPS
# that must reach running, a resize of one (its plan history read with sqlite3 when
# $XVPS_STATE holds the DB) and a refused one, rescue and unrescue of it (with a local sim
# agent's state), passwd and sessions as a customer (issue 16
# item 5: a wrong current password and a weak one refused, the session ended by a change and by
# a revoke), and their deletion. Cleans up what it made; exits 1 on the first
# failure.
set -euo pipefail
build=${1:?usage: tests/api/ctl.sh BUILD_DIR}
ctl=$build/xvpsctl
url=${XVPS_URL:?}
jar=$(mktemp)
trap 'rm -f "$jar"' EXIT
fail() { echo "ctl: FAILED: $*" >&2; exit 1; }
step() { echo "ctl: $*"; }

csrf=$(curl -fsS -c "$jar" -H 'Content-Type: application/json' \
	-d "{\"username\":\"admin\",\"password\":\"$XVPS_ADMIN_PASSWORD\"}" "$url/api/v1/session" | jq -r .csrf_token)
XVPS_TOKEN=$(curl -fsS -b "$jar" -H "X-CSRF-Token: $csrf" -H 'Content-Type: application/json' \
	-d '{"name":"ctl-test"}' "$url/api/v1/api-keys" | jq -r .token)
export XVPS_TOKEN XVPS_URL=$url

step "an API key authenticates xvpsctl"
[ "$("$ctl" get /me | jq -r .username)" = admin ] || fail "get /me is not admin"

step "a bad request exits 1 and names the field"
if out=$("$ctl" post /plans '{"name":"ctl-bad","vcpus":1,"memory_mib":512,"disk_gib":5,"cpu_cap_pct":101}' 2>&1); then
	fail "a cap above vcpus*100 was accepted"
fi
grep -q 'field cpu_cap_pct' <<<"$out" || fail "no field in: $out"

step "bulk-create orders two VPS and waits for them"
plan=$("$ctl" post /plans '{"name":"ctl-plan","vcpus":1,"memory_mib":256,"disk_gib":2}' | jq -r .id)
tpl=$("$ctl" post /templates '{"name":"ctl-tpl","os":"debian-12","disk_gib":1,"boot":"pvh"}' | jq -r .id)
pool=$("$ctl" post /ip-pools '{"family":4,"cidr":"203.0.113.128/28","gateway":"203.0.113.129"}' | jq -r .id)
cust=$("$ctl" post /customers '{"username":"ctlcust","email":"ctl@example.net","password":"ctl-password-1"}' | jq -r .id)
"$ctl" bulk-create --hostname 'ctl#.example.net' --plan "$plan" --template "$tpl" \
	--customer "$cust" --count 2 --wait
running=$("$ctl" get "/vps?customer=$cust" | jq '[.[] | select(.state == "running")] | length')
[ "$running" = 2 ] || fail "expected 2 running VPS, got $running"

step "resize moves one of them to a bigger plan, switching its plan history"
big=$("$ctl" post /plans '{"name":"ctl-plan-big","vcpus":2,"memory_mib":512,"disk_gib":3}' | jq -r .id)
one=$("$ctl" get "/vps?customer=$cust" | jq -r '.[0].id')
"$ctl" resize "$one" "$big" --wait | grep -q "job" || fail "resize printed no job"
[ "$("$ctl" get "/vps/$one" | jq -r '.plan + " " + (.vcpus|tostring) + " " + (.disk_gib|tostring)')" = "$big 2 3" ] ||
	fail "the VPS is not on the bigger plan: $("$ctl" get "/vps/$one")"
if [ -n "${XVPS_STATE:-}" ] && [ -f "$XVPS_STATE/xvps.db" ]; then
	hist=$(sqlite3 "$XVPS_STATE/xvps.db" "SELECT group_concat(plan_id || ':' || (to_ts IS NULL), ',')
		FROM (SELECT plan_id, to_ts FROM vps_plan_history WHERE vps_id=$one ORDER BY id)")
	[ "$hist" = "$plan:0,$big:1" ] || fail "plan history of vps $one is '$hist', want '$plan:0,$big:1'"
fi
if out=$("$ctl" resize "$one" "$plan" 2>&1); then
	fail "a resize to a smaller disk was accepted"
fi
grep -q 'field plan' <<<"$out" || fail "no field in: $out"
[ "$("$ctl" get "/vps/$one" | jq -r .plan)" = "$big" ] || fail "a refused resize changed the plan"

if [ -n "${XVPS_STATE:-}" ] && [ -d "$XVPS_STATE/disks" ]; then
	step "rescue and unrescue (issue 16 item 3; a 1 MiB rescue system for the sim agent)"
	mkdir -p "$XVPS_STATE/template-src"
	truncate -s 1M "$XVPS_STATE/template-src/rescue.img"
	"$ctl" rescue "$one" --wait | grep -q "job" || fail "rescue printed no job"
	[ "$("$ctl" get "/vps/$one" | jq -r '.rescue')" = true ] || fail "the VPS is not in rescue"
	if out=$("$ctl" rescue "$one" 2>&1); then fail "a second rescue was accepted"; fi
	grep -q '409' <<<"$out" || fail "no 409 in: $out"
	"$ctl" unrescue "$one" --wait | grep -q "job" || fail "unrescue printed no job"
	[ "$("$ctl" get "/vps/$one" | jq -r '"\(.rescue) \(.state)"')" = "false running" ] ||
		fail "after unrescue: $("$ctl" get "/vps/$one")"
	rm -f "$XVPS_STATE/template-src/rescue.img" "$XVPS_STATE/templates/rescue.img"
fi

step "passwd and sessions, as the customer with its own API key"
cjar=$(mktemp)
login_cust() { # PASSWORD -> the CSRF token of a new cookie session in $cjar
	curl -fsS -c "$cjar" -H 'Content-Type: application/json' \
		-d "{\"username\":\"ctlcust\",\"password\":\"$1\"}" "$url/api/v1/session" | jq -r .csrf_token
}
ccsrf=$(login_cust ctl-password-1)
ckey=$(curl -fsS -b "$cjar" -H "X-CSRF-Token: $ccsrf" -H 'Content-Type: application/json' \
	-d '{"name":"ctl-cust"}' "$url/api/v1/api-keys" | jq -r .token)
sid=$(XVPS_TOKEN=$ckey "$ctl" sessions | awk 'NR == 2 {print $1}')
[ -n "$sid" ] && [ "$(XVPS_TOKEN=$ckey "$ctl" sessions list | wc -l)" = 2 ] ||
	fail "sessions does not list the one cookie session: $(XVPS_TOKEN=$ckey "$ctl" sessions)"
if out=$(printf 'wrong-password\nctl-password-2\n' | XVPS_TOKEN=$ckey "$ctl" passwd 2>&1); then
	fail "passwd accepted a wrong current password"
fi
grep -q 'field current_password' <<<"$out" || fail "no field in: $out"
if out=$(printf 'ctl-password-1\nzzzzzzzzzz\n' | XVPS_TOKEN=$ckey "$ctl" passwd 2>&1); then
	fail "passwd accepted a weak password"
fi
grep -q 'field new_password' <<<"$out" || fail "no field in: $out"
[ "$(curl -s -o /dev/null -w '%{http_code}' -b "$cjar" "$url/api/v1/me")" = 200 ] ||
	fail "a refused passwd ended the session"
printf 'ctl-password-1\nctl-password-2\n' | XVPS_TOKEN=$ckey "$ctl" passwd | grep -q 'password changed' ||
	fail "passwd did not change the password"
[ "$(curl -s -o /dev/null -w '%{http_code}' -b "$cjar" "$url/api/v1/me")" = 401 ] ||
	fail "the cookie session outlived the password change"
ccsrf=$(login_cust ctl-password-2)
sid=$(XVPS_TOKEN=$ckey "$ctl" sessions | awk 'NR == 2 {print $1}')
XVPS_TOKEN=$ckey "$ctl" sessions revoke "$sid" | grep -q "session $sid revoked" || fail "sessions revoke"
[ "$(curl -s -o /dev/null -w '%{http_code}' -b "$cjar" "$url/api/v1/me")" = 401 ] ||
	fail "a revoked session still works"
if XVPS_TOKEN=$ckey "$ctl" sessions revoke "$sid" 2>/dev/null; then
	fail "revoking a revoked session succeeded"
fi
rm -f "$cjar"

step "deleting them through xvpsctl"
for id in $("$ctl" get "/vps?customer=$cust" | jq -r '.[].id'); do
	job=$("$ctl" delete "/vps/$id" | jq -r .job.id)
	"$ctl" wait "$job" 60 || fail "delete job $job"
done
"$ctl" delete "/customers/$cust" >/dev/null
"$ctl" delete "/templates/$tpl" >/dev/null
"$ctl" delete "/plans/$plan" >/dev/null
"$ctl" delete "/plans/$big" >/dev/null
"$ctl" delete "/ip-pools/$pool" >/dev/null || true
step "all steps passed"
