#!/usr/bin/env bash
# run.sh — `make test-deb` (after `make deb`): lintian on the package (no error or warning), then
# the .deb installed as a new user's machine would get it: a fresh Debian bookworm chroot
# (debootstrap --variant=minbase, cached as build/deb/chroot-cache/bookworm.tar; the host's
# apt sources), `apt-get install ./xvps_*.deb` resolving its dependencies from Debian, checks of
# what the maintainer scripts made (user xvps, /etc/xvps, units enabled), xvps-agent (root) and
# xvpsd (user xvps) started from the units' ExecStart= and EnvironmentFile= lines with the sim and
# file drivers (systemd does not run in a chroot), /healthz and a login over HTTPS on loopback;
# then the same .deb installed again as an upgrade: the database and a pre-upgrade copy of it
# keep the customer made before; then `apt-get remove` unmasks xendomains.service again. Root
# only. Everything runs in a private mount namespace
# (the chroot's /proc, /sys, /dev, /run and /tmp vanish with it) and the chroot is deleted at
# the end; only the cache stays. About 3-4 min with the cache (apt fetches the dependencies each
# time), plus ~2 min for the first debootstrap.
set -euo pipefail
cd "$(dirname "$0")/../.."
repo=$PWD
out=$repo/build/deb
say() { echo "test-deb: $*"; }
fail() {
	echo "test-deb: FAILED: $*" >&2
	exit 1
}

if [ "${1:-}" != --inner ]; then
	[ "$(id -u)" = 0 ] || fail "needs root (debootstrap, chroot)"
	deb=$(ls "$out"/xvps_*_amd64.deb 2>/dev/null | head -1)
	[ -n "$deb" ] || fail "no build/deb/xvps_*.deb (run make deb)"
	say "lintian $(basename "$deb") and its .changes"
	lintian --fail-on error,warning "$out"/xvps_*_amd64.changes 2>&1 | grep -v 'root privileges' || true
	lintian --fail-on error,warning "$out"/xvps_*_amd64.changes >/dev/null 2>&1 ||
		fail "lintian reports errors or warnings (above)"
	cache=$out/chroot-cache
	mkdir -p "$cache"
	if [ ! -s "$cache/bookworm.tar" ]; then
		say "debootstrap bookworm (minbase) into the cache"
		rm -rf "$cache/root"
		debootstrap --variant=minbase bookworm "$cache/root" http://deb.debian.org/debian \
			>"$cache/debootstrap.log" 2>&1 || {
			tail -n 20 "$cache/debootstrap.log" >&2
			rm -rf "$cache/root"
			fail "debootstrap failed"
		}
		tar -C "$cache/root" -cf "$cache/bookworm.tar.tmp" .
		mv "$cache/bookworm.tar.tmp" "$cache/bookworm.tar"
		rm -rf "$cache/root"
	fi
	root=$(mktemp -d "$out/chroot.XXXXXX")
	trap 'rm -rf "$root"' EXIT
	tar -C "$root" -xf "$cache/bookworm.tar"
	cp /etc/apt/sources.list.d/debian.sources "$root/etc/apt/sources.list.d/debian.sources"
	rm -f "$root/etc/apt/sources.list"
	cp /etc/resolv.conf "$root/etc/resolv.conf" 2>/dev/null || true
	cp "$deb" "$root/root/"
	# systemd is not running: no service is started by the maintainer scripts (as in an image).
	printf '#!/bin/sh\nexit 101\n' >"$root/usr/sbin/policy-rc.d"
	chmod 755 "$root/usr/sbin/policy-rc.d"
	start=$(date +%s)
	unshare --mount --propagation private -- "$0" --inner "$root" "$(basename "$deb")"
	say "passed in $(($(date +%s) - start)) s (after the build and lintian)"
	exit 0
fi

# ---- inside the private mount namespace ----------------------------------------------------------
root=$2
debname=$3
mount -t proc proc "$root/proc"
mount -t sysfs sysfs "$root/sys"
mount --rbind /dev "$root/dev"
mount -t tmpfs tmpfs "$root/run"
mount -t tmpfs tmpfs "$root/tmp"
. scripts/lib.sh
lib_tag=test-deb
agent_pid=
panel_pid=
cleanup() { stop_servers; }
trap cleanup EXIT
inroot() {
	chroot "$root" /usr/bin/env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin HOME=/root LC_ALL=C.UTF-8 \
		DEBIAN_FRONTEND=noninteractive "$@"
}

say "apt-get install ./$debname in the fresh chroot (dependencies from Debian)"
inroot apt-get update -qq >"$root/root/apt.log" 2>&1 || fail "apt-get update: $(tail -n 5 "$root/root/apt.log")"
inroot apt-get install -y -qq --no-install-recommends "/root/$debname" >>"$root/root/apt.log" 2>&1 ||
	fail "apt-get install: $(tail -n 15 "$root/root/apt.log")"

say "the maintainer scripts made user xvps, /etc/xvps and enabled the units"
inroot getent passwd xvps >/dev/null || fail "no user xvps"
xvps_uid=$(inroot id -u xvps)
xvps_gid=$(inroot id -g xvps)
[ "$(cat "$root/etc/xvps/panel-uid.env")" = "XVPS_PANEL_UID=$xvps_uid" ] || fail "panel-uid.env"
for f in xvpsd.conf agent.conf tls/cert.pem tls/key.pem; do
	[ -s "$root/etc/xvps/$f" ] || fail "no /etc/xvps/$f"
done
# (numeric ids: the host's names differ from the chroot's)
[ "$(stat -c '%u:%g %a' "$root/etc/xvps/tls/key.pem")" = "0:$xvps_gid 640" ] ||
	fail "key.pem is $(stat -c "%u:%g %a" "$root/etc/xvps/tls/key.pem")"
[ "$(stat -c '%u %a' "$root/var/lib/xvps/panel")" = "$xvps_uid 700" ] ||
	fail "/var/lib/xvps/panel is $(stat -c "%u %a" "$root/var/lib/xvps/panel")"
for u in xvpsd xvps-agent xvps-guests; do
	[ -L "$root/etc/systemd/system/multi-user.target.wants/$u.service" ] || fail "$u.service not enabled"
done
[ -x "$root/usr/lib/xvps/xvps-guests-stop" ] || fail "no /usr/lib/xvps/xvps-guests-stop"
[ "$(readlink "$root/etc/systemd/system/xendomains.service")" = /dev/null ] ||
	fail "xendomains.service is not masked"
for m in man8/xvpsd.8.gz man8/xvps-agent.8.gz man1/xvpsctl.1.gz; do
	[ -s "$root/usr/share/man/$m" ] || fail "no man page $m"
done
[ -e "$root/usr/share/javascript/chart.js/chart.esm.js" ] || fail "libjs-chart.js is not installed"
[ -e "$root/usr/share/novnc/core/rfb.js" ] || fail "novnc is not installed"

# A unit's value of KEY (the first line "KEY=...").
unit_val() { sed -n "s/^$2=//p" "$root/lib/systemd/system/$1.service" | head -1; }
# The unit's EnvironmentFile= lines (a leading "-": optional) as VAR=value arguments.
unit_env() {
	local f
	sed -n 's/^EnvironmentFile=//p' "$root/lib/systemd/system/$1.service" | while read -r f; do
		case $f in -*) f=${f#-}; [ -e "$root$f" ] || continue ;; esac
		grep -E '^[A-Z_][A-Z0-9_]*=' "$root$f"
	done
}
port=$(free_port) || fail "no free port"
url=https://127.0.0.1:$port
# The embedded default drivers instead of xl and lvm (no Xen in a chroot), no host networking.
agent_over=(XVPS_HYPERVISOR=sim XVPS_STORAGE=file XVPS_NET=off)
panel_over=(XVPS_LISTEN=127.0.0.1:$port XVPS_BACKUP_INTERVAL=0)
start_both() {
	local exec_a exec_p user
	exec_a=$(unit_val xvps-agent ExecStart)
	exec_p=$(unit_val xvpsd ExecStart)
	user=$(unit_val xvpsd User)
	[ "$user" = xvps ] || fail "xvpsd.service runs as '$user'"
	# RuntimeDirectory=xvps and the StateDirectory= lines, as systemd would make them.
	mkdir -p -m 0755 "$root/run/xvps"
	mapfile -t aenv < <(unit_env xvps-agent)
	mapfile -t penv < <(unit_env xvpsd)
	chroot "$root" /usr/bin/env -i PATH=/usr/sbin:/usr/bin "${aenv[@]}" "${agent_over[@]}" \
		"$exec_a" 2>>"$root/root/agent.log" &
	agent_pid=$!
	wait_until 100 "$agent_pid" test -S "$root/run/xvps/agent.sock" || fail "the agent did not start: $(tail -n 5 "$root/root/agent.log")"
	chroot --userspec="$user:$user" "$root" /usr/bin/env -i PATH=/usr/sbin:/usr/bin "${penv[@]}" \
		"${panel_over[@]}" "$exec_p" 2>>"$root/root/xvpsd.log" &
	panel_pid=$!
	wait_until 200 "$panel_pid" healthz "$url" -k || fail "xvpsd did not answer: $(tail -n 5 "$root/root/xvpsd.log")"
}
login() {
	local pw
	pw=$(cat "$root/var/lib/xvps/panel/admin-password") || fail "no admin-password"
	curl -fsSk -c "$root/root/jar" -H 'Content-Type: application/json' \
		-d "{\"username\":\"admin\",\"password\":\"$pw\"}" "$url/api/v1/session" | jq -r .csrf_token
}

say "xvps-agent (root) and xvpsd (user xvps) from the units' lines: /healthz and a login"
start_both
[ "$(curl -fsSk "$url/healthz" | jq -r .status)" = ok ] || fail "/healthz"
csrf=$(login)
[ -n "$csrf" ] && [ "$csrf" != null ] || fail "the admin login failed"
[ "$(ps -o uid= -p "$panel_pid" | tr -d ' ')" = "$xvps_uid" ] ||
	fail "xvpsd does not run as xvps"
[ "$(ps -o uid= -p "$agent_pid" | tr -d ' ')" = 0 ] || fail "the agent does not run as root"
curl -fsSk -b "$root/root/jar" -H "X-CSRF-Token: $csrf" -H 'Content-Type: application/json' \
	-d '{"username":"debcust","email":"deb@example.net","password":"deb-password-1"}' \
	"$url/api/v1/customers" >/dev/null || fail "cannot create a customer"
# What the web UI loads (web/js/views/vps-usage.js, the console page) from Debian's packages.
curl -fsSk -o /dev/null "$url/vendor/chart.js/chart.esm.js" || fail "Chart.js is not served at /vendor/chart.js/"
curl -fsSk -o /dev/null "$url/novnc/core/rfb.js" || fail "noVNC is not served at /novnc/"

say "the same .deb installed again as an upgrade (xvpsd running): the data and a pre-upgrade copy stay"
inroot apt-get install -y -qq --reinstall "/root/$debname" >>"$root/root/apt.log" 2>&1 ||
	fail "the upgrade failed: $(tail -n 15 "$root/root/apt.log")"
mapfile -t copies < <(ls "$root/var/lib/xvps/panel/pre-upgrade/" 2>/dev/null)
[ "${#copies[@]}" = 1 ] || fail "pre-upgrade copies: ${copies[*]-none}"
copy=$root/var/lib/xvps/panel/pre-upgrade/${copies[0]}
[ "$(stat -c %u "$copy")" = "$xvps_uid" ] || fail "the pre-upgrade copy is not xvps's"
[ "$(sqlite3 -readonly "$copy" "SELECT count(*) FROM users WHERE username='debcust'")" = 1 ] ||
	fail "the pre-upgrade copy lacks the customer"
[ "$(sqlite3 -readonly "$copy" 'PRAGMA integrity_check')" = ok ] || fail "the copy is damaged"
for f in "$root"/var/lib/xvps/panel/*; do
	[ "$(stat -c %u "$f")" = "$xvps_uid" ] || fail "$f is not xvps's after the upgrade"
done
stop_servers
start_both
csrf=$(login)
[ -n "$csrf" ] && [ "$csrf" != null ] || fail "the admin login failed after the upgrade"
curl -fsSk -b "$root/root/jar" "$url/api/v1/customers" | jq -e 'map(.username) | index("debcust") != null' >/dev/null ||
	fail "the customer is gone after the upgrade"
stop_servers
if grep -E 'ERROR: (Address|Leak)Sanitizer|runtime error:' "$root"/root/*.log; then
	fail "sanitizer reports"
fi
say "apt-get remove: xendomains.service unmasked again"
inroot apt-get remove -y -qq xvps >>"$root/root/apt.log" 2>&1 ||
	fail "the removal failed: $(tail -n 15 "$root/root/apt.log")"
[ ! -L "$root/etc/systemd/system/xendomains.service" ] || fail "xendomains.service is still masked"
say "all steps passed"
