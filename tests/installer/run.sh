#!/usr/bin/env bash
# tests/installer/run.sh — `make installer-test` (issue 15 item 3; not in `make test`): drives the
# installer ISO (dom0-image/installer, `make installer`) unattended in QEMU under TCG and boots
# what it installed.
#
#   1. bad input, each in its own boot of the ISO: a disk that does not exist, a 2 GiB disk (too
#      small), a static address that does not parse, a bad e-mail. Each must print its
#      "xvps-installer: FAILED: ..." line and stop; the target disk must stay untouched (its
#      sparse file has no allocated block and reads as zeroes). Then the interactive dialogue
#      on the serial console (a FIFO pair): a missing disk, a bad address and a bad e-mail are
#      refused and asked again, "no" at the confirmation starts over, the disk stays untouched.
#      (XVPS_INSTALLER_SKIP_BAD=1 skips this part.)
#   2. the install onto an empty 40 GiB sparse disk (net=dhcp, email=admin@example.net,
#      after=poweroff): "xvps-installer: DONE: ...", QEMU exits, the disk's GPT is valid with its
#      backup header at the disk's end and the partition xvps-pool up to it.
#   3. that disk booted from its own GRUB (dom0-image/run.sh: Xen, dom0, no -kernel), the
#      installer's ISO gone: xvpsd's /healthz over HTTPS, the thin pool xvps/pool (lvs in dom0
#      through the test shell, tests/appliance/dom0sh.py) at least 80 % of what the disk has
#      beyond the image, and the admin's e-mail (GET /api/v1/me) is the answer's.
#
# Order: 2 and 3 first (the long part, ~15-25 min), then 1 (about 1-2 min per boot).
# The answers reach the kernel command line through the ISO's GRUB: a small FAT disk labelled
# XVPS-ANSWER with /xvps/answers.cfg (set xvps_answers="..."), attached as an IDE disk.
# One QEMU at a time on the machine: every QEMU runs under the lock
# ${XVPS_CACHE:-/var/cache/xvps}/appliance/test.lock (make installer-test takes it; with
# XVPS_INSTALLER_LOCKED=1 the caller holds it). XVPS_INSTALLER_FIRMWARE=ovmf boots the ISO and
# the installed disk with OVMF instead of SeaBIOS. Prints PASS/FAIL lines and time: lines;
# exit status 1 when any step failed.
set -uo pipefail
here=$(cd "$(dirname "$0")" && pwd)
repo=$(cd "$here/../.." && pwd)
# shellcheck source=scripts/lib.sh
. "$repo/scripts/lib.sh"
cache=${XVPS_CACHE:-/var/cache/xvps}
out=${XVPS_APPLIANCE_DIR:-$cache/appliance}
iso=$out/xvps-installer.iso
fw=${XVPS_INSTALLER_FIRMWARE:-seabios}
case $fw in seabios | ovmf) ;; *) echo "XVPS_INSTALLER_FIRMWARE: seabios or ovmf" >&2; exit 2 ;; esac
[ -s "$iso" ] || { echo "installer-test: $iso is missing (make installer)" >&2; exit 2; }
if [ "${XVPS_INSTALLER_LOCKED:-0}" != 1 ]; then
	exec flock "$cache/appliance/test.lock" env XVPS_INSTALLER_LOCKED=1 "$0" "$@"
fi

work=$(mktemp -d /var/tmp/xvps-installer-test.XXXXXX)
qpid=
cleanup() {
	if [ -n "$qpid" ] && kill -0 "$qpid" 2>/dev/null; then kill "$qpid"; wait "$qpid" 2>/dev/null; fi
	[ -d "$work/appl" ] && XVPS_APPLIANCE_DIR=$work/appl "$repo/dom0-image/run.sh" --stop >/dev/null 2>&1
	rm -rf "$work"
}
trap cleanup EXIT
passes=0 fails=0 step=
pass() { passes=$((passes + 1)); echo "PASS $step: $*"; }
fail() { fails=$((fails + 1)); echo "FAIL $step: $*"; }
one() { tr -d '\r' | tr '\n' ' ' | sed 's/  */ /g; s/ $//' | cut -c1-300; }

fwargs=()
if [ "$fw" = ovmf ]; then
	cp /usr/share/OVMF/OVMF_VARS_4M.fd "$work/vars.fd"
	fwargs=(-drive "if=pflash,format=raw,unit=0,readonly=on,file=/usr/share/OVMF/OVMF_CODE_4M.fd"
		-drive "if=pflash,format=raw,unit=1,file=$work/vars.fd")
fi

# answers_disk ANSWERS — $work/answers.img: FAT, label XVPS-ANSWER, /xvps/answers.cfg.
answers_disk() {
	rm -f "$work/answers.img"
	mkfs.fat -n XVPS-ANSWER -C "$work/answers.img" 2048 >/dev/null
	printf 'set xvps_answers="%s"\n' "$1" >"$work/answers.cfg"
	mmd -i "$work/answers.img" ::/xvps
	mcopy -i "$work/answers.img" "$work/answers.cfg" ::/xvps/answers.cfg
}

# install_boot NAME DISK ANSWERS TIMEOUT — boots the ISO with DISK as the virtio target and the
# answers; returns when QEMU exits (a poweroff), the console shows a FAILED line, or after
# TIMEOUT s (then 1). The console is in $work/NAME.log; elapsed seconds in $elapsed.
install_boot() {
	local disk=$2 answers=$3 timeout=$4 log=$work/$1.log t0 rc=0
	answers_disk "$answers"
	: >"$log"
	t0=$(date +%s)
	qemu-system-x86_64 -machine pc -accel tcg,thread=single -cpu qemu64 -m 1024 \
		"${fwargs[@]}" \
		-drive "file=$iso,format=raw,if=ide,index=2,media=cdrom,readonly=on" \
		-drive "file=$disk,format=raw,if=virtio,discard=unmap" \
		-drive "file=$work/answers.img,format=raw,if=ide,index=1" \
		-boot order=d -net none -display none -no-reboot -serial "file:$log" -monitor none &
	qpid=$!
	while kill -0 "$qpid" 2>/dev/null; do
		if grep -aq 'xvps-installer: FAILED' "$log"; then
			sleep 2
			break
		fi
		if [ $(($(date +%s) - t0)) -ge "$timeout" ]; then rc=1; break; fi
		sleep 2
	done
	elapsed=$(($(date +%s) - t0))
	if kill -0 "$qpid" 2>/dev/null; then kill "$qpid"; fi
	wait "$qpid" 2>/dev/null
	qpid=
	return $rc
}

# untouched DISK — the sparse target has no allocated block and reads as zeroes.
untouched() {
	[ "$(stat -c %b "$1")" = 0 ] && cmp -s -n "$(stat -c %s "$1")" "$1" /dev/zero
}

# bad CASE DISK ANSWERS PATTERN — one bad-input boot: the FAILED line matches PATTERN, no DONE
# line, DISK untouched.
bad() {
	local line
	step="bad input: $1"
	install_boot "bad-$1" "$2" "$3" 300 || { fail "no FAILED line after ${elapsed} s: $(tail -c 400 "$work/bad-$1.log" | one)"; return; }
	line=$(grep -a 'xvps-installer: FAILED' "$work/bad-$1.log" | head -1 | tr -d '\r')
	if [ -z "$line" ]; then
		fail "no FAILED line: $(tail -c 400 "$work/bad-$1.log" | one)"
	elif ! echo "$line" | grep -q -- "$4"; then
		fail "unexpected error: $line"
	elif grep -aq 'xvps-installer: DONE' "$work/bad-$1.log"; then
		fail "DONE after FAILED"
	elif ! untouched "$2"; then
		fail "the target disk was written ($(stat -c %b "$2") blocks allocated): $line"
	else
		pass "$line (disk untouched: 0 blocks allocated, all zeroes; ${elapsed} s)"
	fi
}

# interactive — the dialogue on the serial console (a FIFO pair): a missing disk, a bad address
# and a bad e-mail are each refused and asked again, then "no" at the confirmation starts over;
# the target stays untouched.
interactive() {
	local log=$work/interactive.log t0 ok=1 w
	step="interactive"
	rm -f "$work/ser.in" "$work/ser.out"
	mkfifo "$work/ser.in" "$work/ser.out"
	: >"$log"
	t0=$(date +%s)
	qemu-system-x86_64 -machine pc -accel tcg,thread=single -cpu qemu64 -m 1024 \
		"${fwargs[@]}" \
		-drive "file=$iso,format=raw,if=ide,index=2,media=cdrom,readonly=on" \
		-drive "file=$work/empty.img,format=raw,if=virtio" \
		-boot order=d -net none -display none -no-reboot -serial "pipe:$work/ser" -monitor none &
	qpid=$!
	cat "$work/ser.out" >>"$log" &
	local cpid=$!
	exec 7>"$work/ser.in"
	# wait_for N PATTERN — until PATTERN appears N times in the console (300 s).
	wait_for() {
		local end=$(($(date +%s) + 300))
		until [ "$(grep -a -c -- "$2" "$log")" -ge "$1" ]; do
			if [ "$(date +%s)" -ge "$end" ] || ! kill -0 "$qpid" 2>/dev/null; then
				w="no '$2' (#$1)"
				return 1
			fi
			sleep 1
		done
	}
	send() { sleep 0.5; printf '%s\r' "$1" >&7; }
	{ wait_for 1 "Press Enter to install xvps from this console" && send "" &&
		wait_for 1 "Target disk" && send /dev/vdz && wait_for 1 "error: no such disk: /dev/vdz" &&
		wait_for 2 "Target disk" && send /dev/vda && wait_for 1 "Network: dhcp or static" &&
		send static && wait_for 1 "Address with prefix" && send 192.0.2.300/24 &&
		wait_for 1 "error: the static address does not parse" && wait_for 2 "Address with prefix" &&
		send 192.0.2.10/24 && wait_for 1 "Gateway" && send 192.0.2.1 && wait_for 1 "DNS servers" &&
		send 192.0.2.53 && wait_for 1 "Admin e-mail" && send "admin@@example" &&
		wait_for 1 "error: the admin e-mail address does not parse" && wait_for 2 "Admin e-mail" &&
		send admin@example.net && wait_for 1 "Type yes to ERASE /dev/vda" && send no &&
		wait_for 3 "Target disk"; } || ok=0
	exec 7>&-
	kill "$qpid" 2>/dev/null
	wait "$qpid" 2>/dev/null
	kill "$cpid" 2>/dev/null
	wait "$cpid" 2>/dev/null
	qpid=
	if [ "$ok" = 0 ]; then
		fail "$w after $(($(date +%s) - t0)) s: $(tail -c 400 "$log" | one)"
	elif ! untouched "$work/empty.img"; then
		fail "the target disk was written ($(stat -c %b "$work/empty.img") blocks allocated)"
	else
		pass "$(grep -a -o 'xvps-installer: error: [^(]*' "$log" | sed 's/ *$//' | tr -d '\r' | paste -sd ';' -); \"no\" started over; disk untouched ($(($(date +%s) - t0)) s)"
	fi
}

# install_and_boot — the unattended install onto the empty 40 GiB disk, then that disk booted.
install_and_boot() {
	local dump last p4 p4end total appl t0 end lvs psize img_bytes room pw csrf me line
	step="install"
	if install_boot install "$work/disk.img" "disk=/dev/vda,net=dhcp,email=admin@example.net,after=poweroff" 1800 &&
		line=$(grep -a 'xvps-installer: DONE' "$work/install.log" | tr -d '\r') && [ -n "$line" ]; then
		pass "$line (QEMU exited ${elapsed} s after its start)"
		echo "time: ISO boot to installed and powered off: ${elapsed} s"
	else
		fail "no DONE line after ${elapsed} s: $(grep -a 'xvps-installer:' "$work/install.log" | tail -3 | one) $(tail -c 300 "$work/install.log" | one)"
		return
	fi

	step="partitions"
	dump=$(sfdisk -d "$work/disk.img" 2>&1)
	last=$(echo "$dump" | sed -n 's/^last-lba: *//p')
	p4=$(echo "$dump" | grep 'name="xvps-pool"')
	p4end=$(echo "$p4" | awk -F'[=,]' '{ print $2 + $4 - 1 }')
	total=$(($(stat -c %s "$work/disk.img") / 512))
	if sfdisk -V "$work/disk.img" >/dev/null 2>&1 && [ -n "$p4" ] && [ "$last" = $((total - 34)) ] &&
		[ $((last - p4end)) -lt 2048 ]; then
		pass "GPT valid, last usable LBA $last of $total sectors, xvps-pool ends at $p4end ($(echo "$p4" | one))"
	else
		fail "sfdisk -V or xvps-pool: $(echo "$dump" | one)"
	fi

	# --- the installed disk, booted from its own GRUB (dom0-image/run.sh) --------------------------
	appl=$work/appl
	mkdir -p "$appl/run"
	ln -s "$out/xvps-appliance.img" "$appl/xvps-appliance.img"
	cp "$out/xvps-appliance.key" "$appl/xvps-appliance.key"
	cp "$out/xvps-appliance.key" "$appl/run/root.key"
	mv "$work/disk.img" "$appl/run/root.img"
	# run.sh's second disk, too small for the first boot's VG (< 1 GiB): the VG goes on xvps-pool.
	truncate -s 16M "$appl/run/pool.img"
	PORT=$(free_port)
	URL=https://127.0.0.1:$PORT
	SOCK=$appl/run/shell.sock
	dom0() { python3 "$repo/tests/appliance/dom0sh.py" "$SOCK" --timeout "${T:-120}" "$*"; }
	step="installed boot"
	t0=$(date +%s)
	XVPS_APPLIANCE_DIR=$appl XVPS_APPLIANCE_REUSE=1 XVPS_APPLIANCE_FIRMWARE=$fw \
		XVPS_APPLIANCE_HTTPS_PORT=$PORT XVPS_APPLIANCE_DOM0_ARGS="xvps.testshell" \
		XVPS_APPLIANCE_LOG=$work/installed.log "$repo/dom0-image/run.sh" --detach >"$work/run.out" 2>&1 ||
		{ fail "dom0-image/run.sh: $(one <"$work/run.out")"; return; }
	qpid=$(cat "$appl/run/qemu.pid")
	end=$((t0 + ${XVPS_INSTALLER_BOOT_TIMEOUT:-1500}))
	until curl -sfk --max-time 5 -o /dev/null "$URL/healthz"; do
		if ! kill -0 "$qpid" 2>/dev/null || [ "$(date +%s)" -ge "$end" ]; then
			fail "no /healthz after $(($(date +%s) - t0)) s: $(tail -c 600 "$work/installed.log" | one)"
			return
		fi
		sleep 5
	done
	pass "https://127.0.0.1:$PORT/healthz answers $(($(date +%s) - t0)) s after QEMU's start (GRUB, Xen, dom0 from the installed disk)"
	echo "time: installed disk's boot to /healthz: $(($(date +%s) - t0)) s"

	step="thin pool"
	lvs=$(T=120 dom0 'lvs --noheadings --units b --nosuffix -o lv_name,lv_size,devices xvps; pvs --noheadings -o pv_name,vg_name' 2>&1)
	psize=$(echo "$lvs" | awk '$1 == "pool" { print $2 }' | head -1)
	img_bytes=$(stat -c %s "$out/xvps-appliance.img")
	room=$((40 * 1073741824 - img_bytes))
	if [[ $psize =~ ^[0-9]+$ ]] && [ "$psize" -ge $((room * 8 / 10)) ] && echo "$lvs" | grep -q 'vda4 *xvps'; then
		pass "xvps/pool $psize bytes ($((psize / 1048576)) MiB) of $room beyond the image, PV on vda4: $(echo "$lvs" | one)"
	else
		fail "pool size '${psize}' (want >= $((room * 8 / 10))): $(echo "$lvs" | one)"
	fi

	step="admin e-mail"
	pw=$(T=60 dom0 'cat /root/xvps-admin-password' | tr -d '\r\n')
	csrf=$(curl -sS -k -c "$work/admin.jar" --json "{\"username\":\"admin\",\"password\":\"$pw\"}" \
		"$URL/api/v1/session" | jq -r .csrf_token 2>/dev/null)
	me=$(curl -sS -k -b "$work/admin.jar" -H "X-CSRF-Token: $csrf" "$URL/api/v1/me" 2>&1)
	if [ "$(echo "$me" | jq -r .email 2>/dev/null)" = admin@example.net ]; then
		pass "GET /api/v1/me: $(echo "$me" | jq -c '{username, email, role}')"
	else
		fail "GET /api/v1/me: $(echo "$me" | one)"
	fi
	XVPS_APPLIANCE_DIR=$appl "$repo/dom0-image/run.sh" --stop >/dev/null 2>&1
	qpid=
}

echo "installer-test: $iso ($(du -h --apparent-size "$iso" | cut -f1)), firmware $fw, work $work"
truncate -s 40G "$work/disk.img"
install_and_boot
if [ "${XVPS_INSTALLER_SKIP_BAD:-0}" != 1 ]; then
	truncate -s 40G "$work/empty.img"
	truncate -s 2G "$work/small.img"
	bad missing-disk "$work/empty.img" "disk=/dev/vdz,net=dhcp,email=admin@example.net,after=poweroff" "no such disk: /dev/vdz"
	bad small-disk "$work/small.img" "disk=/dev/vda,net=dhcp,email=admin@example.net,after=poweroff" "/dev/vda is too small"
	bad bad-address "$work/empty.img" "disk=/dev/vda,net=static,address=192.0.2.300/24,gateway=192.0.2.1,email=admin@example.net,after=poweroff" "static address does not parse"
	bad bad-email "$work/empty.img" "disk=/dev/vda,net=dhcp,email=admin@@example,after=poweroff" "e-mail address does not parse"
	interactive
fi
echo "installer-test: $passes passed, $fails failed"
[ "$fails" = 0 ]
