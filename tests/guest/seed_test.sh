#!/bin/sh
# tests/guest/seed_test.sh [BUILD_DIR] — the guest side of the per-VPS seed: runs the guest
# template's dom0-image/guest/xvps-seed (under dash, so no bashism slips in) in its test mode
# (`--root DIR --seed FILE`: writes under DIR, prints the commands) against seeds made by the
# agent's real spec_parse + seed_write (tests/guest/seedgen.c, linked against BUILD_DIR's
# libagent.a/libcommon.a; default build/asan, built by `make BUILD=... SAN=1 bins`), then
# against hand-made malicious seeds, which must be refused (nothing written) or have the bad
# line skipped. Files only under a mktemp dir, removed at exit. Prints "seed_test: N passed".
set -eu
cd "$(dirname "$0")/../.."
build=${1:-build/asan}
script=dom0-image/guest/xvps-seed
SH=$(command -v dash || command -v sh)

[ -f "$build/libagent.a" ] && [ -f "$build/libcommon.a" ] ||
	{ echo "seed_test: $build/libagent.a missing (make BUILD=$build SAN=1 bins)" >&2; exit 1; }
t=$(mktemp -d /tmp/xvps-seedtest.XXXXXX)
trap 'rm -rf "$t"' EXIT INT TERM

# shellcheck disable=SC2046
cc -std=gnu17 -D_GNU_SOURCE -fsanitize=address,undefined -pthread \
	$(pkg-config --cflags json-c) -o "$t/seedgen" tests/guest/seedgen.c \
	"$build/libagent.a" "$build/libcommon.a" \
	$(pkg-config --libs json-c xlutil devmapper libnftables libnftnl libmnl) -lutil -lxenstat

pass=0
fail() {
	echo "seed_test: FAIL: $*" >&2
	exit 1
}
ok() { pass=$((pass + 1)); }
# expect_line FILE LINE — FILE holds LINE exactly, as a whole line.
expect_line() { grep -qxF -e "$2" "$1" || fail "$1 lacks the line '$2':$(printf '\n'; cat "$1")"; }
# run_seed NAME SEEDFILE — xvps-seed into a fresh root $t/NAME; output in $t/NAME.out/.err,
# exit status in $rc.
run_seed() {
	mkdir -p "$t/$1/etc"
	printf '127.0.0.1\tlocalhost\n127.0.1.1\txvps-guest\n' >"$t/$1/etc/hosts"
	rc=0
	$SH "$script" --root "$t/$1" --seed "$2" >"$t/$1.out" 2>"$t/$1.err" || rc=$?
}

KEY1='ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIGJ3dGVzdGtleXRlc3RrZXl0ZXN0a2V5dGVzdGs alice@laptop'
KEY2='ssh-rsa AAAAB3NzaC1yc2EAAAADAQABAAABAQC7testtesttesttest'

# --- 1. a full seed from the real writer -----------------------------------------------------
cat >"$t/full.json" <<EOF
{"name":"xvps-12","hostname":"web1.example.com","type":"pvh","vcpus":1,"memory_mib":512,
 "disk_gib":2,"template":"tpl-1","mac":"00:16:3e:00:00:0c","vifname":"xvif12",
 "ipv4":["192.0.2.10","192.0.2.11"],"ipv6":["2001:DB8::10"],"ipv6_routed":["2001:db8:1:2::/64"],
 "gateway4":"192.0.2.1","gateway6":"fe80::1","power":"running","ssh_keys":["$KEY1","$KEY2"]}
EOF
seed=$("$t/seedgen" "$t/state" <"$t/full.json") || fail "seedgen refused the full spec"
[ "$seed" = "$t/state/seed/xvps-12.img" ] || fail "seed path $seed"
[ "$(stat -c %s "$seed")" = 65536 ] || fail "seed size"
[ "$(stat -c %a "$seed")" = 600 ] || fail "seed mode"
[ "$(head -1 "$seed")" = "XVPS-SEED 1" ] || fail "a seed without v2 lines is not version 1"
ok
run_seed full "$seed"
[ "$rc" = 0 ] || fail "full seed refused: $(cat "$t/full.err")"
r=$t/full
[ "$(cat "$r/etc/hostname")" = web1.example.com ] || fail "hostname"
expect_line "$r/etc/hosts" "$(printf '127.0.1.1\tweb1.example.com')"
expect_line "$r/etc/hosts" "$(printf '127.0.0.1\tlocalhost')"
! grep -q xvps-guest "$r/etc/hosts" || fail "the old 127.0.1.1 line stayed"
ok
expect_line "$r/root/.ssh/authorized_keys" "$KEY1"
expect_line "$r/root/.ssh/authorized_keys" "$KEY2"
[ "$(stat -c %a "$r/root/.ssh/authorized_keys")" = 600 ] || fail "authorized_keys mode"
[ "$(stat -c %a "$r/root/.ssh")" = 700 ] || fail ".ssh mode"
ok
cat >"$t/want.out" <<'EOF'
ip link set dev eth0 up
ip addr add 192.0.2.10/32 dev eth0
ip addr add 192.0.2.11/32 dev eth0
ip route add 192.0.2.1 dev eth0
ip route add default via 192.0.2.1 dev eth0
ip -6 addr add 2001:db8::10/128 dev eth0 nodad
ip -6 route add fe80::1 dev eth0
ip -6 route add default via fe80::1 dev eth0
hostname web1.example.com
ssh-keygen -A
resize2fs /dev/xvda
EOF
diff -u "$t/want.out" "$r.out" >&2 || fail "printed commands differ"
ok
f=$r/etc/network/interfaces.d/xvps-eth0
expect_line "$f" "auto eth0"
! grep -q allow-hotplug "$f" || fail "allow-hotplug: udev raises eth0 before the seed wrote it"
expect_line "$f" "iface eth0 inet manual"
expect_line "$f" "$(printf '\tup ip addr add 192.0.2.10/32 dev eth0')"
expect_line "$f" "$(printf '\tup ip route add default via 192.0.2.1 dev eth0')"
expect_line "$f" "$(printf '\tup ip -6 addr add 2001:db8::10/128 dev eth0 nodad')"
expect_line "$r/etc/xvps/ipv6_routed" "2001:db8:1:2::/64"
ok

# A second boot keeps the user's own keys outside the managed block and replaces the block.
echo "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIOwnkey bob" >>"$r/root/.ssh/authorized_keys"
sed 's/"ssh_keys":\["[^"]*",/"ssh_keys":[/' "$t/full.json" >"$t/one.json"
seed=$("$t/seedgen" "$t/state" <"$t/one.json") || fail "seedgen refused one key"
rc=0
$SH "$script" --root "$r" --seed "$seed" >/dev/null 2>&1 || rc=$?
[ "$rc" = 0 ] || fail "second boot"
expect_line "$r/root/.ssh/authorized_keys" "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIOwnkey bob"
expect_line "$r/root/.ssh/authorized_keys" "$KEY2"
! grep -qF "$KEY1" "$r/root/.ssh/authorized_keys" || fail "a removed key stayed"
[ "$(grep -c '^# BEGIN xvps-seed' "$r/root/.ssh/authorized_keys")" = 1 ] || fail "two blocks"
ok

# --- 1b. version 2 (issue 16 item 2): resolvers and a root password reset ---------------------
HASH='$y$j9T$F5Jx5fExrKuPp53xLKQ..1$X3DX6M94c7o7TNBOtylsCsgVCXWaDM0YK6WFm9mPr9B'
KEY3='sk-ecdsa-sha2-nistp256@openssh.com AAAAInNrLWVjZHNhLXNoYTItbmlzdHAyNTZAb3BlbnNzaC5jb20= sk'
sed -e 's|"ssh_keys":\[[^]]*\]|"ssh_keys":["'"$KEY3"'"],"resolvers":["192.0.2.53","2001:DB8::53"],"root_password_hash":"'"$HASH"'","password_serial":7|' \
	"$t/full.json" >"$t/v2.json"
seed=$("$t/seedgen" "$t/state" <"$t/v2.json") || fail "seedgen refused the v2 spec"
[ "$(head -1 "$seed")" = "XVPS-SEED 2" ] || fail "v2 magic"
cp "$seed" "$t/v2-7.img"
run_seed v2 "$t/v2-7.img"
[ "$rc" = 0 ] || fail "v2 seed refused: $(cat "$t/v2.err")"
r=$t/v2
expect_line "$r/etc/resolv.conf" "nameserver 192.0.2.53"
expect_line "$r/etc/resolv.conf" "nameserver 2001:db8::53"
[ "$(grep -c '^nameserver' "$r/etc/resolv.conf")" = 2 ] || fail "resolv.conf: nameservers"
expect_line "$r/root/.ssh/authorized_keys" "$KEY3"
expect_line "$r.out" "chpasswd -e root:$HASH"
[ "$(cat "$r/etc/xvps/password_serial")" = 7 ] || fail "password serial not recorded"
[ "$(stat -c %a "$r/etc/xvps/password_serial")" = 600 ] || fail "password_serial mode"
ok
# The next boot with the same serial leaves the password alone; a new serial applies again.
rc=0
$SH "$script" --root "$r" --seed "$t/v2-7.img" >"$t/v2-again.out" 2>&1 || rc=$?
[ "$rc" = 0 ] || fail "v2 second boot"
! grep -q chpasswd "$t/v2-again.out" || fail "the same password serial applied twice"
sed 's/"password_serial":7/"password_serial":8/' "$t/v2.json" >"$t/v2b.json"
seed=$("$t/seedgen" "$t/state" <"$t/v2b.json") || fail "seedgen refused serial 8"
rc=0
$SH "$script" --root "$r" --seed "$seed" >"$t/v2-8.out" 2>&1 || rc=$?
[ "$rc" = 0 ] && grep -qxF "chpasswd -e root:$HASH" "$t/v2-8.out" || fail "serial 8 not applied"
[ "$(cat "$r/etc/xvps/password_serial")" = 8 ] || fail "serial 8 not recorded"
ok
# The writer refuses a hash crypt(3) never makes, a hash without serial and a 4th resolver.
for bad in 's|"password_serial":7|"password_serial":0|' \
	's|\$y\$j9T|$1$j9T|' 's|"root_password_hash":"[^"]*",||' \
	's|"resolvers":\[|"resolvers":["192.0.2.1","192.0.2.2",|' 's|y\$j9T\$|y$j9T$a:b|'; do
	sed "$bad" "$t/v2.json" | sed 's/xvps-12/xvps-13/; s/xvif12/xvif13/' >"$t/bad.json"
	if "$t/seedgen" "$t/state" <"$t/bad.json" >/dev/null 2>&1; then
		fail "seedgen accepted a bad v2 spec ($bad)"
	fi
	[ ! -e "$t/state/seed/xvps-13.img" ] || fail "a refused v2 seed left a file"
done
ok

# --- 2. a minimal seed: no addresses, no keys ------------------------------------------------
seed=$(printf '%s' '{"name":"xvps-3","hostname":"a","type":"pv","vcpus":1,"memory_mib":128,
 "disk_gib":1,"template":"tpl-1","mac":"00:16:3e:00:00:03","vifname":"xvif3","power":"stopped"}' |
	"$t/seedgen" "$t/state") || fail "seedgen refused the minimal spec"
run_seed min "$seed"
[ "$rc" = 0 ] || fail "minimal seed refused: $(cat "$t/min.err")"
[ "$(head -1 "$t/min.out")" = "ip link set dev eth0 up" ] || fail "minimal: link up"
! grep -q "route\|addr add" "$t/min.out" || fail "minimal: routes without addresses"
[ "$(cat "$t/min/etc/hostname")" = a ] || fail "minimal hostname"
ok

# The writer refuses what the guest would refuse: a key with a newline never becomes a seed.
if printf '%s' '{"name":"xvps-4","hostname":"a","type":"pv","vcpus":1,"memory_mib":128,
 "disk_gib":1,"template":"tpl-1","mac":"00:16:3e:00:00:04","vifname":"xvif4","power":"stopped",
 "ssh_keys":["ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIGJ3 x\nhostname=evil"]}' |
	"$t/seedgen" "$t/state" >/dev/null 2>&1; then
	fail "seedgen wrote a key holding a newline"
fi
[ ! -e "$t/state/seed/xvps-4.img" ] || fail "a refused seed left a file"
ok

# --- 3. malicious seeds (hand-made: dom0's writer cannot produce them) -----------------------
# mkseed NAME TEXT — TEXT (printf format) NUL-padded to 64 KiB.
mkseed() {
	# shellcheck disable=SC2059
	printf "$2" >"$t/$1.img"
	truncate -s 65536 "$t/$1.img"
}
# refused NAME — xvps-seed exits 1 and writes nothing.
refused() {
	run_seed "$1" "$t/$1.img"
	[ "$rc" = 1 ] || fail "$1: not refused (rc $rc): $(cat "$t/$1.err")"
	grep -q refused "$t/$1.err" || fail "$1: no reason given"
	[ ! -e "$t/$1/etc/hostname" ] && [ ! -e "$t/$1/root" ] && [ ! -e "$t/$1/etc/network" ] ||
		fail "$1: files were written"
	[ ! -s "$t/$1.out" ] || fail "$1: commands were printed"
	ok
}
mkseed badmagic 'XVPS-SEED 3\nhostname=a\nend\n'
refused badmagic
mkseed nomagic 'hostname=a\nend\n'
refused nomagic
mkseed empty ''
refused empty
mkseed semicolon 'XVPS-SEED 1\nhostname=web;reboot\nend\n'
refused semicolon
# shellcheck disable=SC2016
mkseed subst 'XVPS-SEED 1\nhostname=$(reboot)\nend\n'
refused subst
mkseed upper 'XVPS-SEED 1\nhostname=Web\nend\n'
refused upper
# A newline inside a key value splits it: the rest is a line of its own. As key=value it is an
# unknown key, skipped (never reaching authorized_keys); otherwise the seed is refused.
mkseed keynewline 'XVPS-SEED 1\nhostname=a\nssh_key=ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIGJ3 x\ncommand="sh" ssh-ed25519 AAAAC3Nz\nend\n'
run_seed keynewline "$t/keynewline.img"
[ "$rc" = 0 ] || fail "keynewline: refused: $(cat "$t/keynewline.err")"
grep -q "unknown key command skipped" "$t/keynewline.err" || fail "keynewline: not skipped"
expect_line "$t/keynewline/root/.ssh/authorized_keys" "ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIGJ3 x"
! grep -q 'command=' "$t/keynewline/root/.ssh/authorized_keys" || fail "keynewline: injected"
ok
mkseed keynewline2 'XVPS-SEED 1\nhostname=a\nssh_key=ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIGJ3 x\nssh-ed25519 AAAAC3NzEvil\nend\n'
refused keynewline2
mkseed keyopts 'XVPS-SEED 1\nssh_key=command="reboot" ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIGJ3\nend\n'
refused keyopts
mkseed keyctl 'XVPS-SEED 1\nssh_key=ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIGJ3 a\tb\nend\n'
refused keyctl
mkseed addr 'XVPS-SEED 1\nipv4=192.0.2.10/32 dev lo\nend\n'
refused addr
mkseed addrlen 'XVPS-SEED 1\nipv4=192.0.2.0/24\nend\n'
refused addrlen
mkseed octet 'XVPS-SEED 1\nipv4=192.0.2.256/32\nend\n'
refused octet
mkseed gw6 'XVPS-SEED 1\ngateway6=fe80::1; reboot\nend\n'
refused gw6
mkseed twohosts 'XVPS-SEED 1\nhostname=a\nhostname=b\nend\n'
refused twohosts
mkseed noend 'XVPS-SEED 1\nhostname=a\n'
refused noend
mkseed notkv 'XVPS-SEED 1\nhostname=a\nrm -rf /\nend\n'
refused notkv
mkseed badkey 'XVPS-SEED 1\nhostname=a\nHOST=b\nend\n'
refused badkey
mkseed pwcolon 'XVPS-SEED 2\nroot_password_hash=$y$j9T$ab:c$def\npassword_serial=1\nend\n'
refused pwcolon
mkseed pwnoserial 'XVPS-SEED 2\nroot_password_hash=$6$abcdefgh$ijklmnopqrstuvwxyz\nend\n'
refused pwnoserial
mkseed pwserial0 'XVPS-SEED 2\nroot_password_hash=$6$abcdefgh$ijklmnop\npassword_serial=0\nend\n'
refused pwserial0
mkseed pwtwice 'XVPS-SEED 2\nroot_password_hash=$6$abcdefgh$ijk\npassword_serial=1\npassword_serial=2\nend\n'
refused pwtwice
mkseed pwmd5 'XVPS-SEED 2\nroot_password_hash=$1$abcdefgh$ijklmnop\npassword_serial=1\nend\n'
refused pwmd5
mkseed res4 'XVPS-SEED 2\nresolver=192.0.2.1\nresolver=192.0.2.2\nresolver=192.0.2.3\nresolver=192.0.2.4\nend\n'
refused res4
mkseed resbad 'XVPS-SEED 2\nresolver=192.0.2.1 options rotate\nend\n'
refused resbad

# Unknown keys of the key=value form are skipped; lines after "end" are never read.
mkseed unknown 'XVPS-SEED 1\nhostname=b\nmtu=9000\nend\nhostname=evil\n'
run_seed unknown "$t/unknown.img"
[ "$rc" = 0 ] || fail "unknown key: refused: $(cat "$t/unknown.err")"
grep -q "unknown key mtu skipped" "$t/unknown.err" || fail "unknown key: no warning"
[ "$(cat "$t/unknown/etc/hostname")" = b ] || fail "unknown key: hostname"
ok
# NUL bytes are not a way to hide text: they are dropped before parsing.
printf 'XVPS-SEED 1\nhostname=we\000b1\nend\n' >"$t/nul.img"
run_seed nul "$t/nul.img"
[ "$rc" = 0 ] && [ "$(cat "$t/nul/etc/hostname")" = web1 ] || fail "NUL inside a value"
ok
# No seed device: nothing changes, success.
run_seed none "$t/does-not-exist"
[ "$rc" = 0 ] && [ ! -e "$t/none/etc/hostname" ] || fail "missing seed"
ok

echo "seed_test: $pass passed"
