#!/usr/bin/env bash
# run.sh BINARY [ARGS…] — runs BINARY ARGS… inside a throwaway QEMU VM (Debian bookworm kernel
# under TCG, no Xen, real LVM) and exits with its exit status.
#
# The VM gets three virtio disks: a copy-on-write overlay of the cached root image
# (tests/vm/image.sh), a payload ext4 image (BINARY, the files in $XVPS_VM_FILES, and an
# xvps-run.sh that starts BINARY ARGS… in /payload), and an empty sparse raw disk
# ($XVPS_VM_DISK_SIZE, default 8G) whose device the payload finds in $XVPS_VM_DISK. No network.
# The VM's init prints `XVPS-VM-EXIT=<rc>` on the serial console and powers off; the serial
# output streams to stdout and to $XVPS_VM_LOG (default build/vm-test.log).
#
# Environment: XVPS_VM_TIMEOUT (seconds, default 900; exit 1 when reached), XVPS_VM_FILES
# (extra files for /payload, space-separated), XVPS_VM_OUTDIR (copy the payload's
# $XVPS_VM_OUT directory back here after the run, with debugfs: no mount), XVPS_VM_DISK_SIZE,
# XVPS_VM_LIBS_OF (more ELF files whose libraries the image must hold, e.g. to share the
# cached image of another payload), XVPS_CACHE (image cache root, default /var/cache/xvps).
# Exit status: the payload's, or 1 when the marker is missing (crash, timeout) or the output
# holds an AddressSanitizer/LeakSanitizer report (those do not fail a Criterion run).
set -euo pipefail

[ $# -ge 1 ] || { echo "usage: $0 BINARY [ARGS…]" >&2; exit 2; }
here=$(cd "$(dirname "$0")" && pwd)
repo=$(cd "$here/../.." && pwd)
bin=$1
shift
[ -f "$bin" ] || { echo "vm: no such file: $bin" >&2; exit 2; }
timeout=${XVPS_VM_TIMEOUT:-900}
log=${XVPS_VM_LOG:-$repo/build/vm-test.log}
read -r -a files <<<"${XVPS_VM_FILES:-}"
for f in "${files[@]}"; do
	[ -f "$f" ] || { echo "vm: no such file: $f" >&2; exit 2; }
done

read -r -a libs_of <<<"${XVPS_VM_LIBS_OF:-}"
img=$("$here/image.sh" "$bin" "${files[@]}" "${libs_of[@]}")

tmp=
qpid=
spid=
cleanup() {
	if [ -n "$qpid" ] && kill -0 "$qpid" 2>/dev/null; then
		kill "$qpid" 2>/dev/null || true
		sleep 1
		kill -9 "$qpid" 2>/dev/null || true
		wait "$qpid" 2>/dev/null || true
	fi
	if [ -n "$spid" ] && kill -0 "$spid" 2>/dev/null; then
		kill "$spid" 2>/dev/null || true
		wait "$spid" 2>/dev/null || true
	fi
	[ -z "$tmp" ] || rm -rf "$tmp"
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM
tmp=$(mktemp -d "${TMPDIR:-/tmp}/xvps-vm.XXXXXX")

# The payload: the binary, the extra files, and the command line as a bash script.
mkdir "$tmp/payload"
cp "$bin" "${files[@]}" "$tmp/payload/"
{
	echo '#!/bin/bash'
	printf 'exec ./%q' "$(basename "$bin")"
	[ $# -eq 0 ] || printf ' %q' "$@"
	echo
} >"$tmp/payload/xvps-run.sh"
mb=$(du -sm "$tmp/payload" | cut -f1)
truncate -s "$((mb + 256))M" "$tmp/payload.img"
mkfs.ext4 -q -F -L xvps-payload -d "$tmp/payload" "$tmp/payload.img"
rm -rf "$tmp/payload"

qemu-img create -q -f qcow2 -b "$img/root.img" -F raw "$tmp/root.qcow2"
truncate -s "${XVPS_VM_DISK_SIZE:-8G}" "$tmp/scratch.raw"

mkdir -p "$(dirname "$log")"
: >"$log"
echo "vm: booting $(basename "$bin") (image $img, timeout ${timeout}s, log $log)" >&2
start=$(date +%s)
qemu-system-x86_64 -accel tcg -m 1536 -smp 1 -nographic -no-reboot -nic none \
	-monitor none -serial "file:$log" \
	-kernel "$img/vmlinuz" -initrd "$img/initrd.img" \
	-append "root=/dev/vda rw console=ttyS0 init=/sbin/xvps-vm-init panic=1 quiet loglevel=3" \
	-drive "file=$tmp/root.qcow2,format=qcow2,if=none,id=root" \
	-device virtio-blk-pci,drive=root,serial=xvps-root \
	-drive "file=$tmp/payload.img,format=raw,if=none,id=payload" \
	-device virtio-blk-pci,drive=payload,serial=xvps-payload \
	-drive "file=$tmp/scratch.raw,format=raw,if=none,id=scratch,cache=unsafe" \
	-device virtio-blk-pci,drive=scratch,serial=xvps-scratch \
	</dev/null >"$tmp/qemu.out" 2>&1 &
qpid=$!
# sed -u: unbuffered, so the output streams when stdout is a file or a pipe.
tail -n +1 -F --pid="$qpid" "$log" 2>/dev/null | sed -u 's/\r$//' &
spid=$!

timed_out=0
while kill -0 "$qpid" 2>/dev/null; do
	if [ $(($(date +%s) - start)) -ge "$timeout" ]; then
		timed_out=1
		kill "$qpid" 2>/dev/null || true
		break
	fi
	sleep 1
done
qrc=0
wait "$qpid" || qrc=$?
qpid=
wait "$spid" 2>/dev/null || true
spid=
elapsed=$(($(date +%s) - start))

if [ -n "${XVPS_VM_OUTDIR:-}" ]; then
	mkdir -p "$XVPS_VM_OUTDIR"
	debugfs -R "rdump /out $XVPS_VM_OUTDIR" "$tmp/payload.img" >/dev/null 2>"$tmp/debugfs.err" ||
		{ cat "$tmp/debugfs.err" >&2; echo "vm: could not copy the payload's output" >&2; }
fi

rc=$(tr -d '\r' <"$log" | sed -n 's/^XVPS-VM-EXIT=\([0-9][0-9]*\)$/\1/p' | tail -n1)
if [ "$timed_out" = 1 ]; then
	echo "vm: TIMEOUT after ${timeout}s (XVPS_VM_TIMEOUT), log $log" >&2
	exit 1
fi
if [ -z "$rc" ]; then
	echo "vm: no XVPS-VM-EXIT marker (qemu exited $qrc after ${elapsed}s), log $log" >&2
	cat "$tmp/qemu.out" >&2
	exit 1
fi
if grep -q 'ERROR: \(LeakSanitizer\|AddressSanitizer\)' "$log"; then
	echo "vm: the payload exited $rc but the log holds a sanitizer report: failing" >&2
	exit 1
fi
echo "vm: payload exited $rc after ${elapsed}s in the VM" >&2
exit "$rc"
