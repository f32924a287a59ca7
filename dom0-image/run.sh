#!/usr/bin/env bash
# dom0-image/run.sh [--detach | --stop] [--fresh] — `make appliance-run`: boots the appliance
# image in QEMU under TCG (-accel tcg,thread=single -cpu qemu64,+svm,+npt, one vCPU: measured
# 2026-12-06, the appliance's first CPU model, `-cpu max,-smap,-smep,-rdtscp`, corrupted guest
# and dom0 memory once a guest runs; plain qemu64 is stable but Xen finds no HAP there, so PVH
# guests, the default, need +npt: TCG's SVM nested paging, with which Xen 4.17 says "HVM: SVM
# enabled", "HAP detected" (2026-12-07, issue 15 item 4; README, XVPS_APPLIANCE_CPU)), Xen
# 4.17 gunzipped as the multiboot -kernel, the dom0 kernel and initrd (extracted from the image
# with debugfs, no mount) as multiboot modules, dom0_mem=1536M,max:1536M, Xen on COM1, dom0 on
# hvc0.
#
# Disks (in ${XVPS_CACHE:-/var/cache/xvps}/appliance/run/, next to the image): root.img, a
# working copy of xvps-appliance.img (re-copied when the image was rebuilt, or with --fresh),
# and pool.img, an empty sparse disk for the VG `xvps` and its thin pool (kept across rebuilds;
# --fresh recreates it). Network: QEMU user networking, restricted (nothing leaves the VM; DHCP
# works), HTTPS forwarded from 127.0.0.1:${XVPS_APPLIANCE_HTTPS_PORT:-8443}. Serial console on
# stdio (Ctrl-A X quits QEMU), or into $XVPS_APPLIANCE_LOG. -no-reboot: a reboot or a poweroff
# ends QEMU.
#
#   --detach   run in the background: pidfile run/qemu.pid, console log $XVPS_APPLIANCE_LOG
#              (default run/console.log); prints the pid and the log path.
#   --stop     stops a detached QEMU started by this script (the pid in run/qemu.pid).
#   --fresh    start over: new working copy of the image and a new empty pool disk.
#
# Environment: XVPS_APPLIANCE_MEM (MiB, default 3072), XVPS_APPLIANCE_SMP (1),
# XVPS_APPLIANCE_CPU (QEMU's -cpu, default qemu64,+svm,+npt; qemu64 alone: PV guests only),
# XVPS_APPLIANCE_POOL_GIB (20), XVPS_APPLIANCE_XEN_ARGS (extra Xen options, e.g. sched=credit),
# XVPS_APPLIANCE_DOM0_ARGS (extra dom0 kernel options: xvps.debug prints diagnostics on the
# console, xvps.autologin logs root in on hvc0, xvps.testshell runs a root shell on the
# virtio-serial port org.xvps.shell, whose host end is the unix socket run/shell.sock —
# tests/appliance/dom0sh.py talks to it —, xvps.record records xl outputs,
# xvps.poweroff powers off after xvps.debug), XVPS_APPLIANCE_AGENT_ENV (when set: written as
# /etc/xvps/agent.env of the working copy, e.g. "XVPS_STORAGE=file"; set and empty: removed).
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=dom0-image/lib.sh
. "$here/lib.sh"

cache=${XVPS_CACHE:-/var/cache/xvps}/appliance
img=$cache/xvps-appliance.img
run=$cache/run
port=${XVPS_APPLIANCE_HTTPS_PORT:-8443}
mem=${XVPS_APPLIANCE_MEM:-3072}
smp=${XVPS_APPLIANCE_SMP:-1}
cpu=${XVPS_APPLIANCE_CPU:-qemu64,+svm,+npt}
pool_gib=${XVPS_APPLIANCE_POOL_GIB:-20}
detach=0
fresh=0
for a in "$@"; do
	case $a in
	--detach) detach=1 ;;
	--fresh) fresh=1 ;;
	--stop)
		pid=$(cat "$run/qemu.pid" 2>/dev/null || true)
		if [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null &&
			grep -q qemu-system "/proc/$pid/cmdline" 2>/dev/null; then
			kill -TERM "$pid"
			for _ in $(seq 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.2; done
			log "stopped QEMU $pid"
		else
			log "no QEMU of ours is running"
		fi
		rm -f "$run/qemu.pid" "$run/shell.sock"
		exit 0
		;;
	*) die "usage: run.sh [--detach | --stop] [--fresh]" ;;
	esac
done

[ -e "$img" ] || die "$img is missing: run make appliance first"
command -v qemu-system-x86_64 >/dev/null || die "qemu-system-x86_64 missing (make appliance-deps: scripts/deps.sh appliance)"
mkdir -p "$run"
pid=$(cat "$run/qemu.pid" 2>/dev/null || true)
if [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null; then
	die "the appliance is already running (QEMU pid $pid; run.sh --stop)"
fi

# The working copy of the image (QEMU writes into it; the built image stays pristine).
key=$(cat "$cache/xvps-appliance.key" 2>/dev/null || echo none)
# XVPS_APPLIANCE_REUSE=1 boots the working copy as it is, even when the image was rebuilt since
# (make appliance-test's dom0 reboot: the same host comes back).
if [ "${XVPS_APPLIANCE_REUSE:-0}" = 1 ] && [ -e "$run/root.img" ] && [ -e "$run/pool.img" ]; then
	[ "$fresh" = 0 ] || die "XVPS_APPLIANCE_REUSE=1 and --fresh exclude each other"
	log "booting the working copy as it is (XVPS_APPLIANCE_REUSE=1)"
elif [ "$fresh" = 1 ] || [ ! -e "$run/root.img" ] || [ "$(cat "$run/root.key" 2>/dev/null)" != "$key" ]; then
	log "new working copy of the image"
	rm -f "$run/root.img" "$run/root.key"
	cp --sparse=always "$img" "$run/root.img.tmp"
	mv "$run/root.img.tmp" "$run/root.img"
	echo "$key" >"$run/root.key"
fi
if [ "$fresh" = 1 ] || [ ! -e "$run/pool.img" ]; then
	log "new empty ${pool_gib} GiB pool disk (sparse)"
	rm -f "$run/pool.img"
	truncate -s "${pool_gib}G" "$run/pool.img"
fi

if [ -n "${XVPS_APPLIANCE_AGENT_ENV+set}" ]; then
	cmds=$(mktemp)
	envf=$(mktemp)
	echo "rm /etc/xvps/agent.env" >"$cmds"
	if [ -n "$XVPS_APPLIANCE_AGENT_ENV" ]; then
		printf '%s\n' $XVPS_APPLIANCE_AGENT_ENV >"$envf"
		chmod 0644 "$envf"
		echo "write $envf /etc/xvps/agent.env" >>"$cmds"
		log "agent overrides in /etc/xvps/agent.env: $(tr '\n' ' ' <"$envf")"
	fi
	debugfs -w -f "$cmds" "$run/root.img" >/dev/null 2>&1 || true
	rm -f "$cmds" "$envf"
fi

# Xen, the dom0 kernel and its initrd, from the image's /boot.
boot=$run/boot
rm -rf "$boot"
mkdir -p "$boot"
names=$(debugfs -R "ls -p /boot" "$run/root.img" 2>/dev/null | awk -F/ 'NF > 5 { print $6 }')
kver=$(printf '%s\n' "$names" | sed -n 's/^vmlinuz-//p' | sort -V | tail -1)
xen=$(printf '%s\n' "$names" | grep -E '^xen-4\.17.*\.gz$' | sort -V | tail -1)
[ -n "$kver" ] && [ -n "$xen" ] || die "no kernel or Xen in the image's /boot"
debugfs -R "dump /boot/vmlinuz-$kver $boot/vmlinuz" "$run/root.img" >/dev/null 2>&1
debugfs -R "dump /boot/initrd.img-$kver $boot/initrd.img" "$run/root.img" >/dev/null 2>&1
debugfs -R "dump /boot/$xen $boot/xen.gz" "$run/root.img" >/dev/null 2>&1
gunzip -f "$boot/xen.gz"
[ -s "$boot/vmlinuz" ] && [ -s "$boot/initrd.img" ] && [ -s "$boot/xen" ] || die "extracting /boot failed"

xen_args="console=com1 com1=115200,8n1 dom0_mem=1536M,max:1536M ${XVPS_APPLIANCE_XEN_ARGS:-}"
dom0_args="root=LABEL=xvps-root ro console=hvc0 ${XVPS_APPLIANCE_DOM0_ARGS:-}"
# QEMU splits -initrd at commas: a comma inside the module's command line is doubled.
mods="$boot/vmlinuz ${dom0_args//,/,,},$boot/initrd.img"

qemu=(qemu-system-x86_64
	-machine pc -accel tcg,thread=single -cpu "$cpu"
	-smp "$smp" -m "$mem"
	-kernel "$boot/xen" -append "$xen_args" -initrd "$mods"
	-drive "file=$run/root.img,format=raw,if=virtio"
	-drive "file=$run/pool.img,format=raw,if=virtio"
	-netdev "user,id=n0,restrict=on,hostfwd=tcp:127.0.0.1:$port-:443"
	-device virtio-net-pci,netdev=n0
	-device virtio-serial-pci,id=vser0
	-chardev "socket,id=xsh,path=$run/shell.sock,server=on,wait=off"
	-device virtserialport,bus=vser0.0,chardev=xsh,name=org.xvps.shell
	-display none -no-reboot)
log "Xen: $xen_args"
log "dom0 $kver: $dom0_args"
log "HTTPS: https://127.0.0.1:$port/ (admin password: console login prompt, /root/xvps-admin-password in the VM)"
if [ "$detach" = 1 ]; then
	logf=${XVPS_APPLIANCE_LOG:-$run/console.log}
	: >"$logf"
	"${qemu[@]}" -serial "file:$logf" -monitor none -daemonize -pidfile "$run/qemu.pid"
	log "QEMU pid $(cat "$run/qemu.pid"), console log $logf (run.sh --stop ends it)"
elif [ -n "${XVPS_APPLIANCE_LOG:-}" ]; then
	: >"$XVPS_APPLIANCE_LOG"
	log "console log: $XVPS_APPLIANCE_LOG"
	exec "${qemu[@]}" -serial "file:$XVPS_APPLIANCE_LOG" -monitor none -pidfile "$run/qemu.pid"
else
	exec "${qemu[@]}" -serial mon:stdio -pidfile "$run/qemu.pid"
fi
