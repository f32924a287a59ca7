#!/usr/bin/env bash
# image.sh [ELF...] — builds, once, the root image of the `make vm-test` VM and prints the
# directory that holds it: root.img (raw ext4), vmlinuz, initrd.img, packages.txt.
#
# The image: `debootstrap --variant=minbase bookworm` from the mirror in
# /etc/apt/sources.list.d/debian.sources, with Debian's kernel (its initrd finds the virtio
# root disk), LVM (lvm2, thin-provisioning-tools), udev, util-linux, e2fsprogs, and the
# packages that hold the shared libraries each ELF given here needs (ldd, then dpkg -S on this
# host — so an ASan build brings libasan8/libubsan1 along). /sbin/xvps-vm-init (below) is the
# VM's init. Then `mkfs.ext4 -d` makes the image without loop mounts.
#
# Cached in ${XVPS_CACHE:-/var/cache/xvps}/vm/<key>/, key = sha256 of this script + the package
# list: editing the script or needing another library rebuilds it; other keys are pruned.
# Takes ~3 min and ~1.3 GB of downloads the first time. Needs root (debootstrap).
set -euo pipefail

cache=${XVPS_CACHE:-/var/cache/xvps}/vm
self=$(readlink -f "$0")
log() { printf 'vm image: %s\n' "$*" >&2; }

pkgs=(linux-image-amd64 initramfs-tools kmod lvm2 thin-provisioning-tools util-linux udev
      e2fsprogs)
# The runtime libraries of the payload binaries, mapped to their Debian packages with one
# dpkg -S (one call per library takes ~1 s each on a loaded host).
libs=()
for elf in "$@"; do
	[ -f "$elf" ] || { log "no such file: $elf"; exit 1; }
	out=$(ldd "$elf" 2>/dev/null) || continue # not a dynamic ELF (a script): nothing to add
	mapfile -t -O "${#libs[@]}" libs < <(awk '$2 == "=>" && $3 ~ /^\// {print $3}
		$1 ~ /^\// {print $1}' <<<"$out")
done
if [ ${#libs[@]} -gt 0 ]; then
	mapfile -t libs < <(printf '%s\n' "${libs[@]}" | sort -u)
	# One dpkg -S over every spelling of each path (dpkg knows most libraries under /usr/lib
	# while ldd says /lib: merged /usr); it prints "pkg[:arch][, pkg2…]: /path" per known one.
	# Each line: the path, then its other spellings.
	spell=$(for lib in "${libs[@]}"; do
		case $lib in /usr/*) alt=${lib#/usr} ;; *) alt=/usr$lib ;; esac
		echo "$lib $(readlink -f "$lib") $alt"
	done)
	# shellcheck disable=SC2046 # one path per word on purpose
	owners=$(dpkg -S $(echo $spell) 2>/dev/null || true)
	mapfile -t found < <(awk 'NR == FNR { f = $0; sub(/^[^ ]*: /, "", f); p = $0
			sub(/[:,].*/, "", p); own[f] = p; next }
		{ pkg = ""; for (i = 1; i <= NF && pkg == ""; i++) if ($i in own) pkg = own[$i]
		  print (pkg == "" ? "?" $1 : pkg) }' <(echo "$owners") <(echo "$spell"))
	for pkg in "${found[@]}"; do
		[ "${pkg#\?}" = "$pkg" ] || { log "no package owns ${pkg#\?} (needed by $*)"; exit 1; }
		pkgs+=("$pkg")
	done
fi
mapfile -t pkgs < <(printf '%s\n' "${pkgs[@]}" | sort -u)
key=$({ cat "$self"; printf '%s\n' "${pkgs[@]}"; } | sha256sum | cut -c1-16)
dir=$cache/$key
if [ -f "$dir/ok" ]; then
	echo "$dir"
	exit 0
fi

mkdir -p "$cache"
exec 9>"$cache/.lock"
flock 9 # one build at a time; a concurrent caller waits, then finds the result
if [ -f "$dir/ok" ]; then
	echo "$dir"
	exit 0
fi

mirror=$(awk '/^URIs:/ {print $2; exit}' /etc/apt/sources.list.d/debian.sources)
[ -n "$mirror" ] || { log "no URIs: line in /etc/apt/sources.list.d/debian.sources"; exit 1; }

tmp=$(mktemp -d "$cache/.build.XXXXXX")
root=$tmp/root
cleanup() {
	# debootstrap mounts proc/sys in the chroot; never rm -rf through a mount.
	local m
	for m in $(awk -v r="$root" 'index($2, r) == 1 {print $2}' /proc/mounts | sort -r); do
		umount -l "$m" 2>/dev/null || true
	done
	rm -rf --one-file-system "$tmp"
}
trap cleanup EXIT
trap 'exit 130' INT TERM

t0=$(date +%s)
log "debootstrap bookworm from $mirror (${#pkgs[@]} extra packages; log: $tmp/debootstrap.log)"
if ! debootstrap --variant=minbase --include="$(IFS=,; echo "${pkgs[*]}")" bookworm "$root" \
	"$mirror" >"$tmp/debootstrap.log" 2>&1; then
	tail -n 30 "$tmp/debootstrap.log" >&2
	[ -f "$root/debootstrap/debootstrap.log" ] && tail -n 30 "$root/debootstrap/debootstrap.log" >&2
	log "debootstrap failed"
	exit 1
fi
log "debootstrap done in $(($(date +%s) - t0)) s"

kver=$(basename "$(ls -d "$root"/lib/modules/* | sort -V | tail -n1)")
if [ ! -f "$root/boot/initrd.img-$kver" ]; then
	log "no initrd after debootstrap: update-initramfs in the chroot"
	chroot "$root" update-initramfs -c -k "$kver" >&2
fi

# The VM's init: no systemd, just what LVM and the payload need. The payload disk carries
# xvps-run.sh (written by run.sh); its exit status goes to the serial console as a marker.
cat >"$root/sbin/xvps-vm-init" <<'INIT'
#!/bin/sh
# xvps-vm-init — PID 1 of the `make vm-test` VM (tests/vm/image.sh writes it).
export PATH=/usr/sbin:/usr/bin:/sbin:/bin LC_ALL=C HOME=/root
mnt() { mountpoint -q "$3" || mount -t "$1" -o "$2" "$1" "$3"; }
mnt proc nosuid,nodev,noexec /proc
mnt sysfs nosuid,nodev,noexec /sys
mnt devtmpfs mode=0755 /dev
mkdir -p /dev/pts /dev/shm
mnt devpts gid=5,mode=620 /dev/pts
mnt tmpfs mode=1777 /dev/shm
mnt tmpfs mode=0755 /run
mnt tmpfs mode=1777 /tmp
mount -o remount,rw / 2>/dev/null
mkdir -p /run/lvm /run/lock
hostname xvps-vm
dmesg -n 1 2>/dev/null

finish() {
	echo "XVPS-VM-EXIT=$1"
	sync
	echo o >/proc/sysrq-trigger
	sleep 10
	poweroff -f
}

echo "xvps-vm-init: $(uname -r), starting udevd"
/lib/systemd/systemd-udevd --daemon
udevadm trigger --action=add
udevadm settle --timeout=60 || echo "xvps-vm-init: udevadm settle timed out"

payload=/dev/disk/by-id/virtio-xvps-payload
scratch=/dev/disk/by-id/virtio-xvps-scratch
for d in $payload $scratch; do
	[ -e "$d" ] || { echo "xvps-vm-init: $d missing"; ls -l /dev/disk/by-id; finish 125; }
done
mkdir -p /payload
mount -t ext4 "$payload" /payload || finish 125
mkdir -p /payload/out
# One Criterion worker at a time (they share the scratch disk), no colour codes in the log.
export XVPS_VM_DISK="$(readlink -f "$scratch")" XVPS_VM_OUT=/payload/out CRITERION_JOBS=1 \
	TERM=dumb
echo "xvps-vm-init: XVPS_VM_DISK=$XVPS_VM_DISK, running the payload"
cd /payload && bash /payload/xvps-run.sh </dev/null
rc=$?
cd /
sync
umount /payload || rc=125
finish "$rc"
INIT
chmod 0755 "$root/sbin/xvps-vm-init"

# LVM: Debian's lvm.conf as is. Measured 2026-11-25 in this init (udevd running, dmeventd
# spawned by LVM on demand): pvcreate … thin pool … lvremove … vgremove print no udev or
# monitoring complaint, and /dev/VG/LV links appear, so udev_sync/udev_rules/monitoring stay
# at Debian's defaults.
echo xvps-vm >"$root/etc/hostname"
printf '/dev/vda / ext4 rw 0 1\n' >"$root/etc/fstab"
printf '%s\n' "${pkgs[@]}" >"$tmp/packages.txt"

cp "$root/boot/vmlinuz-$kver" "$tmp/vmlinuz"
cp "$root/boot/initrd.img-$kver" "$tmp/initrd.img"
chroot "$root" dpkg-query -W -f='${Package} ${Version}\n' >"$tmp/versions.txt"
rm -rf "$root"/var/cache/apt/archives/*.deb "$root"/var/lib/apt/lists/* "$root/debootstrap"

mb=$(du -sm --one-file-system "$root" | cut -f1)
truncate -s "$((mb + mb / 4 + 256))M" "$tmp/root.img"
t1=$(date +%s)
mkfs.ext4 -q -F -L xvps-vm-root -d "$root" "$tmp/root.img"
log "root.img: ${mb} MB of files, mkfs.ext4 -d in $(($(date +%s) - t1)) s"
rm -rf --one-file-system "$root"

rm -rf "$dir" "$dir.new"
mkdir "$dir.new"
mv "$tmp/root.img" "$tmp/vmlinuz" "$tmp/initrd.img" "$tmp/packages.txt" "$tmp/versions.txt" \
	"$tmp/debootstrap.log" "$dir.new/"
touch "$dir.new/ok"
mv "$dir.new" "$dir"
# Older keys' images are dead weight (~1 GB each).
for old in "$cache"/*/; do
	old=${old%/}
	[ "$old" = "$dir" ] || [ ! -f "$old/ok" ] || rm -rf --one-file-system "$old"
done
log "built $dir in $(($(date +%s) - t0)) s"
echo "$dir"
