#!/usr/bin/env bash
# dom0-image/guest/build.sh — `make guest-template`: the raw disk image of the minimal Debian
# bookworm guest that xvps clones for every VPS (the `file` storage driver's template source, or
# `dd` onto a template LV). Prints the image's path on stdout.
#
# The image: ONE ext4 filesystem on the whole disk (no partition table), label xvps-guest,
# 1.5 GiB sparse, made with `mkfs.ext4 -d` (no loop device, no mount). Guests boot it through
# Debian's grub-xen-host images in dom0 (PVH: grub-i386-xen_pvh.bin, PV: grub-x86_64-xen.bin),
# which find /boot/grub/grub.cfg on (xen/xvda). Inside: systemd, the Debian kernel with an initrd
# holding xen-blkfront and xen-netfront (initramfs-tools MODULES=most), openssh-server (password
# logins off, root password locked: SSH keys only), ifupdown, and xvps-seed.service, which reads
# the per-VPS seed disk /dev/xvdb at every boot (hostname, addresses, SSH keys; xvps-seed).
#
# Cached in ${XVPS_CACHE:-/var/cache/xvps}/guest/guest-<key>.img, key = sha256 over this script,
# ../lib.sh, xvps-seed, xvps-seed.service and the mirror configuration; guest.img links to the
# newest. Nothing is rebuilt when no input changed; XVPS_GUEST_REBUILD=1 forces a build.
# Needs root (debootstrap, chroot, file ownership). The chroot's /proc, /sys, /dev, /run live in
# a private mount namespace (lib.sh in_chroot): they vanish with each command.
#
# XVPS_GUEST_VARIANT=rescue (dom0-image/rescue/build.sh, `make rescue-image`) builds the rescue
# system instead (issue 16 item 3): the same image plus disk tools (lvm2, parted, fdisk, gdisk,
# dosfstools, xfsprogs, btrfs-progs), hostname xvps-rescue, label xvps-rescue, root logged in
# automatically on the console (hvc0: the panel's console is authenticated already), a motd and
# xvps-chroot (../rescue/); its seed is /dev/xvdc (the VPS's own disk is /dev/xvdb there). Cached
# in ${XVPS_CACHE:-/var/cache/xvps}/rescue/rescue-<key>.img, rescue.img links to the newest.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=dom0-image/lib.sh
. "$here/../lib.sh"
log() { printf 'guest-template: %s\n' "$*" >&2; }
die() {
	printf 'guest-template: error: %s\n' "$*" >&2
	exit 1
}

SIZE=1536M
PACKAGES="systemd-sysv udev linux-image-amd64 initramfs-tools openssh-server iproute2 ifupdown
	netbase iputils-ping e2fsprogs kmod"
variant=${XVPS_GUEST_VARIANT:-guest}
case $variant in
guest) extra_inputs=() ;;
rescue)
	PACKAGES="$PACKAGES lvm2 parted fdisk gdisk dosfstools xfsprogs btrfs-progs less"
	extra_inputs=("$here/../rescue/xvps-chroot" "$here/../rescue/motd")
	;;
*) die "XVPS_GUEST_VARIANT must be guest or rescue" ;;
esac

cache=${XVPS_CACHE:-/var/cache/xvps}/$variant
guest_build_prepare "$cache"

# The inputs are copied first: the image holds exactly what the key was computed from, even
# when a file is edited during the build.
inputs=$(mktemp -d "$cache/inputs.XXXXXX")
trap 'rm -rf "$inputs"' EXIT
cp "$here/xvps-seed" "$here/xvps-seed.service" ${extra_inputs[@]+"${extra_inputs[@]}"} "$inputs/"
key=$({
	hash_files "$here/build.sh" "$here/../lib.sh" /etc/apt/sources.list.d/debian.sources
	cd "$inputs" && hash_files xvps-seed xvps-seed.service
	[ "$variant" = guest ] || { echo "$variant" && hash_files xvps-chroot motd; }
} | sha256sum | cut -c1-16)
img=$cache/$variant-$key.img
if [ "${XVPS_GUEST_REBUILD:-0}" = 1 ]; then rm -f "$img"; fi
guest_image_cached "$img" "$cache/$variant.img" && exit 0

t0=$(date +%s)
work=$(mktemp -d "$cache/work.XXXXXX")
cleanup() { rm -rf "$work" "$inputs"; }
trap cleanup EXIT
trap 'exit 130' INT TERM
root=$work/root

log "building $img"
# shellcheck disable=SC2086
guest_rootfs "$root" "$work" "$mirror" $PACKAGES

# --- configuration ---------------------------------------------------------------------------
printf '/dev/xvda / ext4 errors=remount-ro 0 1\n' >"$root/etc/fstab"
guest_grub_cfg "$root" 'Debian GNU/Linux (xvps guest)'
printf 'xvps-guest\n' >"$root/etc/hostname"
cat >"$root/etc/hosts" <<'EOF'
127.0.0.1	localhost
127.0.1.1	xvps-guest
::1	localhost ip6-localhost ip6-loopback
ff02::1	ip6-allnodes
ff02::2	ip6-allrouters
EOF
cat >"$root/etc/network/interfaces" <<'EOF'
# eth0 is configured by xvps-seed at every boot from the seed disk (/dev/xvdb):
# /etc/network/interfaces.d/xvps-eth0.
source /etc/network/interfaces.d/*

auto lo
iface lo inet loopback
EOF
mkdir -p "$root/etc/network/interfaces.d"

# SSH keys only: no passwords, the root password locked.
mkdir -p "$root/etc/ssh/sshd_config.d"
cat >"$root/etc/ssh/sshd_config.d/xvps.conf" <<'EOF'
# xvps guest: SSH keys only (root's come from the seed disk through xvps-seed).
PasswordAuthentication no
KbdInteractiveAuthentication no
PermitRootLogin prohibit-password
EOF
guest_rootfs_seal "$root"

# The console's getty must not give up (issue 15 item 2/4): the kernel's console=hvc0 makes
# systemd-getty-generator (systemd 252) pull in serial-getty@hvc0.service, which BindsTo= and is
# After= dev-hvc0.device; that unit appears only once udev has handled hvc0's tty event (99-systemd
# .rules tags hvc* "systemd"), and a device job times out after DefaultTimeoutStartSec (90 s of
# the guest's time). Under QEMU's TCG a PVH guest's udev coldplug took longer than that: "Timed
# out waiting for device dev-hvc0.device", no getty, no login prompt on the console for good. The
# device job now waits as long as udev needs (what fstab's x-systemd.device-timeout=0 writes).
# journald's start (Type=notify) timed out under the same slowness and was restarted: it gets
# 10 min. Both only lengthen waits that end anyway on a normal boot.
mkdir -p "$root/etc/systemd/system/dev-hvc0.device.d" "$root/etc/systemd/system/systemd-journald.service.d"
printf '# xvps: wait for udev however slow it is (a slow boot must still get its console getty).\n[Unit]\nJobRunningTimeoutSec=infinity\n' \
	>"$root/etc/systemd/system/dev-hvc0.device.d/xvps-console.conf"
printf '# xvps: a slow boot (QEMU TCG) must not time out journald.\n[Service]\nTimeoutStartSec=10min\n' \
	>"$root/etc/systemd/system/systemd-journald.service.d/xvps-timeout.conf"

install -m 0755 "$inputs/xvps-seed" "$root/usr/local/sbin/xvps-seed"
install -m 0644 "$inputs/xvps-seed.service" "$root/etc/systemd/system/xvps-seed.service"
mkdir -p "$root/etc/systemd/system/sysinit.target.wants"
ln -sfn ../xvps-seed.service "$root/etc/systemd/system/sysinit.target.wants/xvps-seed.service"
if [ "$variant" = rescue ]; then
	printf 'xvps-rescue\n' >"$root/etc/hostname"
	sed -i 's/xvps-guest/xvps-rescue/' "$root/etc/hosts"
	# The seed is xvdc here: xvdb is the VPS's own disk, which this system never changes.
	mkdir -p "$root/etc/systemd/system/xvps-seed.service.d"
	printf '[Service]\nEnvironment=XVPS_SEED_DEVICES=/dev/xvdc\n' \
		>"$root/etc/systemd/system/xvps-seed.service.d/rescue.conf"
	mkdir -p "$root/etc/systemd/system/serial-getty@hvc0.service.d"
	printf '[Service]\nExecStart=\nExecStart=-/sbin/agetty --autologin root --keep-baud 115200,57600,38400,9600 %%I $TERM\n' \
		>"$root/etc/systemd/system/serial-getty@hvc0.service.d/autologin.conf"
	install -m 0755 "$inputs/xvps-chroot" "$root/usr/local/sbin/xvps-chroot"
	install -m 0644 "$inputs/motd" "$root/etc/motd"
fi
# --- the image -------------------------------------------------------------------------------
guest_image "$root" "$work" "xvps-$variant" "$SIZE" "$img"
ln -sfn "$(basename "$img")" "$cache/$variant.img"
log "done in $(($(date +%s) - t0)) s: $img ($(du -h "$img" | cut -f1) used of $SIZE)"
printf '%s\n' "$img"
