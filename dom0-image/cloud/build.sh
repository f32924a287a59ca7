#!/usr/bin/env bash
# dom0-image/cloud/build.sh — `make cloud-template`: the raw disk image of a Debian bookworm guest
# configured ONLY by Debian's own cloud-init from a NoCloud seed (the `cidata` disk the agent
# writes for templates whose seed kind is `nocloud`, provisioning/seed_nocloud.h). It stands in
# for a vendor's cloud image in the issue-16 appliance test (the tests download no vendor image)
# and is built with debootstrap, as Debian's own cloud images are. It holds NO xvps code: no
# xvps-seed, nothing of this repository but the few configuration lines below.
#
# The image: ONE ext4 filesystem on the whole disk (no partition table), label cloud-guest,
# 2 GiB sparse, `mkfs.ext4 -d` (no loop device, no mount), pvgrub-bootable like
# dom0-image/guest/build.sh (PVH/PV through dom0's grub-xen images reading /boot/grub/grub.cfg
# on (xen/xvda)). Inside: systemd, the Debian kernel (initrd with xen-blkfront/xen-netfront),
# openssh-server, sudo, locales (cloud-init's locale module runs update-locale for en_US.UTF-8:
# without the package `cloud-init status` says error; seen on the appliance on 2026-12-07), netplan.io and cloud-init with datasource_list [NoCloud, None] and the
# netplan renderer: at first boot (and whenever the seed's instance-id changes) cloud-init sets
# the hostname, eth0's addresses and routes (network-config v2, matched by MAC) and the SSH keys
# of root and of the default user `debian`.
#
# Cached in ${XVPS_CACHE:-/var/cache/xvps}/cloud/cloud-<key>.img (key = sha256 over this script,
# ../lib.sh and the mirror configuration); cloud.img links to the newest; XVPS_CLOUD_REBUILD=1
# forces a build. Prints the image's path on stdout. Needs root and a Debian mirror.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=dom0-image/lib.sh
. "$here/../lib.sh"
log() { printf 'cloud-template: %s\n' "$*" >&2; }
die() {
	printf 'cloud-template: error: %s\n' "$*" >&2
	exit 1
}

SIZE=2048M
PACKAGES="systemd-sysv udev linux-image-amd64 initramfs-tools openssh-server iproute2 ifupdown
	netbase iputils-ping e2fsprogs kmod cloud-init netplan.io sudo locales"

[ "$(id -u)" = 0 ] || die "must run as root (debootstrap, chroot, file ownership)"
for t in debootstrap mkfs.ext4 unshare chroot sha256sum; do
	command -v "$t" >/dev/null || die "$t is missing"
done
mirror=$(debian_mirror)
[ -n "$mirror" ] || die "no bookworm mirror in /etc/apt/sources.list.d/debian.sources"

cache=${XVPS_CACHE:-/var/cache/xvps}/cloud
mkdir -p "$cache"
exec 9>"$cache/.lock"
flock -n 9 || {
	log "waiting for another build (lock $cache/.lock)"
	flock 9
}

key=$(hash_files "$here/build.sh" "$here/../lib.sh" /etc/apt/sources.list.d/debian.sources |
	sha256sum | cut -c1-16)
img=$cache/cloud-$key.img
if [ "${XVPS_CLOUD_REBUILD:-0}" = 1 ]; then rm -f "$img"; fi
if [ -s "$img" ]; then
	log "cached: $img"
	ln -sfn "$(basename "$img")" "$cache/cloud.img"
	printf '%s\n' "$img"
	exit 0
fi

t0=$(date +%s)
work=$(mktemp -d "$cache/work.XXXXXX")
cleanup() { rm -rf "$work"; }
trap cleanup EXIT
trap 'exit 130' INT TERM
root=$work/root

log "building $img"
log "debootstrap bookworm (minbase) from $mirror"
debootstrap --variant=minbase bookworm "$root" "$mirror" >"$work/debootstrap.log" 2>&1 || {
	tail -30 "$work/debootstrap.log" >&2
	die "debootstrap failed"
}
log "debootstrap done in $(($(date +%s) - t0)) s"

# apt in the chroot uses the host's mirror configuration (deb822) only; no service starts.
rm -f "$root/etc/apt/sources.list"
cp /etc/apt/sources.list.d/debian.sources "$root/etc/apt/sources.list.d/debian.sources"
printf '#!/bin/sh\nexit 101\n' >"$root/usr/sbin/policy-rc.d"
chmod 755 "$root/usr/sbin/policy-rc.d"
# Written before the kernel's postinst builds the initrd: MODULES=most (Debian's default)
# carries xen-blkfront/xen-netfront; say so, so that a changed default cannot drop them.
mkdir -p "$root/etc/initramfs-tools/conf.d"
printf 'MODULES=most\n' >"$root/etc/initramfs-tools/conf.d/modules-most.conf"

t1=$(date +%s)
# shellcheck disable=SC2086
log "apt-get install" $PACKAGES
# shellcheck disable=SC2086
in_chroot "$root" sh -ec '
	apt-get update -qq
	apt-get install -y -qq --no-install-recommends "$@"
	apt-get clean
	rm -rf /var/lib/apt/lists/*
' sh $PACKAGES >"$work/apt.log" 2>&1 || {
	tail -40 "$work/apt.log" >&2
	die "apt-get install failed"
}
log "packages installed in $(($(date +%s) - t1)) s"
rm -f "$root/usr/sbin/policy-rc.d"

if [ ! -e "$root/vmlinuz" ] || [ ! -e "$root/initrd.img" ]; then
	die "/vmlinuz or /initrd.img missing"
fi
# The initrd must find the root disk and the network under Xen.
in_chroot "$root" sh -c 'lsinitramfs /initrd.img' >"$work/initrd.list"
for m in xen-blkfront xen-netfront; do
	grep -q "/$m\.ko" "$work/initrd.list" || die "$m is not in the initrd"
done

# --- configuration ---------------------------------------------------------------------------
printf 'LABEL=cloud-guest / ext4 errors=remount-ro 0 1\n' >"$root/etc/fstab"
mkdir -p "$root/boot/grub"
cat >"$root/boot/grub/grub.cfg" <<'GRUB'
# Read by dom0's pvgrub (grub-xen-host, PVH and PV) from (xen/xvda): the whole disk is one ext4
# filesystem; /vmlinuz and /initrd.img are Debian's symlinks to the installed kernel.
set default=0
set timeout=1
menuentry 'Debian GNU/Linux (cloud-init guest)' {
	linux /vmlinuz root=/dev/xvda ro console=hvc0 net.ifnames=0
	initrd /initrd.img
}
GRUB
printf 'localhost\n' >"$root/etc/hostname"
cat >"$root/etc/network/interfaces" <<'ENI'
# eth0 is written by cloud-init from the NoCloud seed's network-config
# (/etc/network/interfaces.d/50-cloud-init).
source /etc/network/interfaces.d/*

auto lo
iface lo inet loopback
ENI
mkdir -p "$root/etc/network/interfaces.d"
# Debian's cloud images look at several datasources; this one only at the NoCloud seed (a disk
# labelled cidata), as xvps offers no metadata service.
mkdir -p "$root/etc/cloud/cloud.cfg.d"
printf 'datasource_list: [ NoCloud, None ]\n' >"$root/etc/cloud/cloud.cfg.d/90-datasource.cfg"
# The seed's addresses are /32 and /128 with on-link gateways (network-config v2 `on-link`):
# bookworm's cloud-init renders those faithfully only through netplan (its eni renderer writes
# `route add ... gw`, which fails for an off-subnet gateway), so netplan (networkd) it is.
printf '%s\n' 'system_info:' '  network:' '    renderers: [netplan, networkd, eni]' \
	>"$root/etc/cloud/cloud.cfg.d/91-renderer.cfg"
mkdir -p "$root/etc/ssh/sshd_config.d"
printf '%s\n' 'PasswordAuthentication no' 'KbdInteractiveAuthentication no' \
	'PermitRootLogin prohibit-password' >"$root/etc/ssh/sshd_config.d/50-keys-only.conf"
in_chroot "$root" passwd -l root >/dev/null
rm -f "$root"/etc/ssh/ssh_host_*
: >"$root/etc/machine-id"
rm -f "$root/var/lib/dbus/machine-id"
rm -rf "$root/var/lib/cloud"
for t in apt-daily.timer apt-daily-upgrade.timer; do
	ln -sfn /dev/null "$root/etc/systemd/system/$t"
done
in_chroot "$root" dpkg-query -W cloud-init >/dev/null || die "cloud-init is not installed"
# No xvps code in this image: a stray file of it is an error.
if find "$root" -xdev -iname "*xvps*" -print | grep .; then
	die "xvps files found in the image"
fi
rm -rf "$root"/var/cache/apt/*.bin "$root"/var/log/*.log "$root"/tmp/* "$root"/run/*

# --- the image -------------------------------------------------------------------------------
t2=$(date +%s)
rm -f "$work/cloud.img"
mkfs.ext4 -q -F -L cloud-guest -d "$root" "$work/cloud.img" "$SIZE" >"$work/mkfs.log" 2>&1 || {
	cat "$work/mkfs.log" >&2
	die "mkfs.ext4 failed"
}
log "mkfs.ext4 -d done in $(($(date +%s) - t2)) s"
e2fsck -fn "$work/cloud.img" >/dev/null 2>&1 || die "e2fsck finds errors in the new image"
mv "$work/cloud.img" "$img"
ln -sfn "$(basename "$img")" "$cache/cloud.img"
log "done in $(($(date +%s) - t0)) s: $img ($(du -h "$img" | cut -f1) used of $SIZE)"
printf '%s\n' "$img"
