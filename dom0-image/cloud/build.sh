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
# openssh-server, sudo, locales with en_US.UTF-8 generated (cloud-init's locale module runs
# update-locale for it: without it `cloud-init status` says error), netplan.io and cloud-init with datasource_list [NoCloud, None] and the
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

cache=${XVPS_CACHE:-/var/cache/xvps}/cloud
guest_build_prepare "$cache"

key=$(hash_files "$here/build.sh" "$here/../lib.sh" /etc/apt/sources.list.d/debian.sources |
	sha256sum | cut -c1-16)
img=$cache/cloud-$key.img
if [ "${XVPS_CLOUD_REBUILD:-0}" = 1 ]; then rm -f "$img"; fi
guest_image_cached "$img" "$cache/cloud.img" && exit 0

t0=$(date +%s)
work=$(mktemp -d "$cache/work.XXXXXX")
cleanup() { rm -rf "$work"; }
trap cleanup EXIT
trap 'exit 130' INT TERM
root=$work/root

log "building $img"
# shellcheck disable=SC2086
guest_rootfs "$root" "$work" "$mirror" $PACKAGES

# --- configuration ---------------------------------------------------------------------------
printf 'LABEL=cloud-guest / ext4 errors=remount-ro 0 1\n' >"$root/etc/fstab"
guest_grub_cfg "$root" 'Debian GNU/Linux (cloud-init guest)'
printf 'localhost\n' >"$root/etc/hostname"
# cloud-init's locale module sets en_US.UTF-8 (its default) with Debian's update-locale, which
# refuses a locale that was never generated, and Debian's locale-gen generates only what
# /etc/locale.gen lists: the image lists and generates it, as Debian's cloud images do (seen on
# the appliance on 2026-12-07: without it `cloud-init status` says error).
sed -i 's/^# *\(en_US.UTF-8 UTF-8\)/\1/' "$root/etc/locale.gen"
grep -q '^en_US.UTF-8 UTF-8' "$root/etc/locale.gen" || die "en_US.UTF-8 is not in /etc/locale.gen"
in_chroot "$root" locale-gen >/dev/null
printf 'LANG=en_US.UTF-8\n' >"$root/etc/default/locale"
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
guest_rootfs_seal "$root"
rm -rf "$root/var/lib/cloud"
in_chroot "$root" dpkg-query -W cloud-init >/dev/null || die "cloud-init is not installed"
# No xvps code in this image: a stray file of it is an error.
if find "$root" -xdev -iname "*xvps*" -print | grep .; then
	die "xvps files found in the image"
fi
# --- the image -------------------------------------------------------------------------------
guest_image "$root" "$work" cloud-guest "$SIZE" "$img"
ln -sfn "$(basename "$img")" "$cache/cloud.img"
log "done in $(($(date +%s) - t0)) s: $img ($(du -h "$img" | cut -f1) used of $SIZE)"
printf '%s\n' "$img"
