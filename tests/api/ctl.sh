#!/usr/bin/env bash
# ctl.sh BUILD — drives xvpsctl (the admin CLI) against the running xvpsd at $XVPS_URL:
# an API key, a bad request that must fail with the problem's field, a bulk order of two VPS
# that must reach running, a resize of one (its plan history read with sqlite3 when
# $XVPS_STATE holds the DB) and a refused one, a customer's limits set and read and an order
# they refuse (issue 16 item 8), guest settings (issue 16 item 2), rescue and unrescue of it
# (with a local sim agent's state), passwd and sessions as a customer (issue 16 item 5: a wrong
# current password and a weak one refused, the session ended by a change and by a revoke), and
# their deletion. Cleans up what it made; exits 1 on the first
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

step "customer limits set and get; an order over a limit names it (issue 16 item 8)"
"$ctl" customer limits set "$cust" --max-vps 2 --max-vcpus 8 --plans "$plan,$big" |
	jq -e '.max_vps == 2 and .max_vcpus == 8 and (.plans | length) == 2' >/dev/null || fail "limits set"
[ "$("$ctl" customer limits get "$cust" | jq -r '.used.vps')" = 2 ] || fail "limits get: used.vps"
if out=$("$ctl" bulk-create --hostname 'ctl#x.example.net' --plan "$plan" --template "$tpl" \
	--customer "$cust" --count 1 2>&1); then
	fail "an order over max_vps was accepted"
fi
grep -q 'HTTP 409.*limit vps' <<<"$out" || fail "no limit named in: $out"
if "$ctl" customer limits set "$cust" --max-vps -1 2>/dev/null; then
	fail "a negative limit was accepted"
fi
"$ctl" customer limits set "$cust" --max-vps none --max-vcpus none --plans all |
	jq -e '.max_vps == null and .max_vcpus == null and .plans == null' >/dev/null || fail "limits lifted"

step "hostname, ssh-keys and reset-password (guest settings, next boot)"
"$ctl" hostname "$one" "ctl-renamed.example.net" --wait | grep -q "next boot" ||
	fail "hostname printed no next-boot note"
[ "$("$ctl" get "/vps/$one" | jq -r .hostname)" = ctl-renamed.example.net ] || fail "hostname not set"
if out=$("$ctl" hostname "$one" "not_a_name" 2>&1); then
	fail "hostname accepted a bad name"
fi
grep -q 'field hostname' <<<"$out" || fail "no field in: $out"
keyfile=$(mktemp)
printf '# my keys\n\nssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIO6Hz7UWPTdwTYvQZOwm7U4npq5QYEcEZy4OY/s+keSJ ctl\n' >"$keyfile"
"$ctl" ssh-keys "$one" "$keyfile" --wait >/dev/null || fail "ssh-keys"
[ "$("$ctl" get "/vps/$one" | jq -r '.ssh_keys | length')" = 1 ] || fail "ssh-keys not replaced"
echo "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIGJ3 broken" >"$keyfile"
if out=$("$ctl" ssh-keys "$one" <"$keyfile" 2>&1); then
	fail "ssh-keys accepted a key that does not parse"
fi
grep -q 'field ssh_keys' <<<"$out" || fail "no field in: $out"
rm -f "$keyfile"
out=$("$ctl" reset-password "$one" --wait) || fail "reset-password"
grep -Eq '^password: [A-Za-z0-9]{20}$' <<<"$out" || fail "no generated password in: $out"
printf 'Ctl-Chosen-Pass-9\n' | "$ctl" reset-password "$one" --stdin | grep -q 'serial: 2' ||
	fail "reset-password --stdin"
if printf 'weak\n' | "$ctl" reset-password "$one" --stdin 2>/dev/null; then
	fail "reset-password accepted a weak password"
fi
[ "$("$ctl" get "/vps/$one" | jq -r .password_serial)" = 2 ] || fail "password serial"

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

# issue 16 item 7: a cloud image imported from a file in the agent's import directory.
if [ -n "${XVPS_STATE:-}" ] && command -v qemu-img >/dev/null; then
	step "template import --file of a small qcow2, waited for, then deleted"
	mkdir -p "$XVPS_STATE/template-src"
	img=$XVPS_STATE/template-src/ctl-$$.qcow2
	qemu-img create -q -f qcow2 "$img" 32M
	out=$("$ctl" template import --name "ctl-img-$$" --os debian-12 --disk-gib 1 --boot hvm \
		--file "$img" --wait) || fail "template import: $out"
	itpl=$(sed -n 's/^importing template \([0-9]*\) .*/\1/p' <<<"$out")
	[ "$("$ctl" get "/templates/$itpl" | jq -r '.state + " " + .seed')" = "ready nocloud" ] ||
		fail "the imported template is not ready/nocloud"
	"$ctl" delete "/templates/$itpl" >/dev/null || fail "delete the imported template"
	rm -f "$img"
	if "$ctl" template import --name "ctl-bad-$$" --os x --disk-gib 1 --boot hvm \
		--url "http://example.invalid/x.qcow2" 2>/dev/null; then
		fail "an http URL was accepted while http is off"
	fi
fi

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
