#!/usr/bin/env bash
# dom0-image/run.sh [--detach | --stop] [--fresh] — `make appliance-run`: boots the appliance
# disk in QEMU under TCG (-accel tcg,thread=single -cpu qemu64,+svm,+npt, one vCPU: measured
# 2026-12-06, the appliance's first CPU model, `-cpu max,-smap,-smep,-rdtscp`, corrupted guest
# and dom0 memory once a guest runs; plain qemu64 is stable but Xen finds no HAP there, so PVH
# guests, the default, need +npt: TCG's SVM nested paging, with which Xen 4.17 says "HVM: SVM
# enabled", "HAP detected" (2026-12-07, issue 15 item 4; README, XVPS_APPLIANCE_CPU)) from its
# own boot loader, as a server would:
# the firmware (SeaBIOS, QEMU's default, or OVMF with XVPS_APPLIANCE_FIRMWARE=ovmf) starts the
# disk's GRUB (dom0-image/disk.sh), whose default entry is Xen 4.17 (multiboot2;
# dom0_mem=1536M,max:1536M dom0_max_vcpus=1-2, console on COM1 and VGA) with the Debian dom0
# (console hvc0). Never QEMU's -kernel.
#
# Disks (in ${XVPS_APPLIANCE_DIR:-${XVPS_CACHE:-/var/cache/xvps}/appliance}/run/, next to the
# image): root.img, a working copy of xvps-appliance.img (re-copied when the image was rebuilt,
# or with --fresh), and pool.img, an empty sparse disk for the VG `xvps` and its thin pool (kept
# across rebuilds; --fresh recreates it). Network: QEMU user networking, restricted (nothing
# leaves the VM; DHCP works), HTTPS forwarded from 127.0.0.1:${XVPS_APPLIANCE_HTTPS_PORT:-8443}. Serial console on
# stdio (Ctrl-A X quits QEMU), or into $XVPS_APPLIANCE_LOG. -no-reboot: a reboot or a poweroff
# ends QEMU.
#
#   --detach   run in the background: pidfile run/qemu.pid, console log $XVPS_APPLIANCE_LOG
#              (default run/console.log); prints the pid and the log path.
#   --stop     stops a detached QEMU started by this script (the pid in run/qemu.pid).
#   --fresh    start over: new working copy of the image and a new empty pool disk.
#
# Environment: XVPS_APPLIANCE_DIR (the image and run/, default $XVPS_CACHE/appliance),
# XVPS_APPLIANCE_FIRMWARE (seabios, the default, or ovmf: Debian's OVMF_CODE_4M.fd read-only and
# a copy of OVMF_VARS_4M.fd in run/ovmf-vars.fd, new with the working copy),
# XVPS_APPLIANCE_MEM (MiB, default 3072), XVPS_APPLIANCE_SMP (1),
# XVPS_APPLIANCE_CPU (QEMU's -cpu, default qemu64,+svm,+npt; qemu64 alone: PV guests only),
# XVPS_APPLIANCE_POOL_GIB (20), XVPS_APPLIANCE_BOOT_ENTRY (GRUB's entry: xen, the default, or
# rescue: the dom0 kernel alone, single user). The two following reach the kernels through
# GRUB: run.sh writes them into /xvps/boot.cfg on the working copy's EFI system partition (mcopy) before each boot,
# and GRUB's menu appends them (empty when unset): XVPS_APPLIANCE_XEN_ARGS (extra Xen options,
# e.g. sched=credit),
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
# shellcheck source=dom0-image/disk.sh
. "$here/disk.sh"

cache=${XVPS_APPLIANCE_DIR:-${XVPS_CACHE:-/var/cache/xvps}/appliance}
img=$cache/xvps-appliance.img
run=$cache/run
firmware=${XVPS_APPLIANCE_FIRMWARE:-seabios}
case $firmware in seabios | ovmf) ;; *) die "XVPS_APPLIANCE_FIRMWARE: seabios or ovmf" ;; esac
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
	rm -f "$run/root.img" "$run/root.key" "$run/ovmf-vars.fd"
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
	debugfs -w -f "$cmds" "$(disk_root_fs "$run/root.img")" >/dev/null 2>&1 || true
	rm -f "$cmds" "$envf"
fi

# The extra options, through GRUB (an image built before GRUB has no partition table: rebuild).
sfdisk -d "$run/root.img" 2>/dev/null | grep -q 'name="esp"' ||
	die "$run/root.img has no EFI system partition (an image from before GRUB: run.sh --fresh)"
xen_extra=${XVPS_APPLIANCE_XEN_ARGS:-}
dom0_extra=${XVPS_APPLIANCE_DOM0_ARGS:-}
disk_boot_cfg "$run/root.img" "$xen_extra" "$dom0_extra" "${XVPS_APPLIANCE_BOOT_ENTRY:-xen}"
rm -rf "${run:?}/boot" # (the kernels extracted for -kernel before GRUB)

fw=()
if [ "$firmware" = ovmf ]; then
	code=/usr/share/OVMF/OVMF_CODE_4M.fd
	[ -e "$code" ] || die "$code is missing (the ovmf package: scripts/deps.sh appliance)"
	[ -e "$run/ovmf-vars.fd" ] || cp /usr/share/OVMF/OVMF_VARS_4M.fd "$run/ovmf-vars.fd"
	fw=(-drive "if=pflash,format=raw,unit=0,readonly=on,file=$code"
		-drive "if=pflash,format=raw,unit=1,file=$run/ovmf-vars.fd")
fi

qemu=(qemu-system-x86_64
	-machine pc -accel tcg,thread=single -cpu "$cpu"
	-smp "$smp" -m "$mem"
	"${fw[@]}"
	-drive "file=$run/root.img,format=raw,if=virtio"
	-drive "file=$run/pool.img,format=raw,if=virtio"
	-netdev "user,id=n0,restrict=on,hostfwd=tcp:127.0.0.1:$port-:443"
	-device virtio-net-pci,netdev=n0
	-device virtio-serial-pci,id=vser0
	-chardev "socket,id=xsh,path=$run/shell.sock,server=on,wait=off"
	-device virtserialport,bus=vser0.0,chardev=xsh,name=org.xvps.shell
	-display none -no-reboot)
log "firmware: $firmware; GRUB's Xen entry: $DISK_XEN_ARGS $xen_extra"
log "dom0: $DISK_DOM0_ARGS $dom0_extra"
[ "${XVPS_APPLIANCE_BOOT_ENTRY:-xen}" = xen ] || log "GRUB boots its ${XVPS_APPLIANCE_BOOT_ENTRY} entry"
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
