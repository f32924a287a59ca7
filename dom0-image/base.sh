#!/usr/bin/env bash
# dom0-image/base.sh ROOTFS MIRROR PACKAGE... — the appliance's base root filesystem: a
# debootstrap (minbase) of Debian bookworm, then the packages through apt inside the chroot
# (the kernel's postinst builds its initrd there), the system user `xvps`, no machine-id.
# Called by build.sh, which caches its result keyed on this script and the package list.
set -euo pipefail
root=${1:?usage: base.sh ROOTFS MIRROR PACKAGE...}
mirror=${2:?}
shift 2
here=$(cd "$(dirname "$0")" && pwd)
# shellcheck source=dom0-image/lib.sh
. "$here/lib.sh"

export DEBIAN_FRONTEND=noninteractive LC_ALL=C.UTF-8 LANG=C.UTF-8
t0=$(date +%s)
log "debootstrap bookworm (minbase) from $mirror into $root"
debootstrap --variant=minbase --include=ca-certificates bookworm "$root" "$mirror" >"$root.debootstrap.log" 2>&1 ||
	{ tail -30 "$root.debootstrap.log" >&2; die "debootstrap failed (log: $root.debootstrap.log)"; }
log "debootstrap done in $(($(date +%s) - t0)) s"

# apt inside the chroot uses the host's mirror configuration (deb822), nothing else.
rm -f "$root/etc/apt/sources.list"
cp /etc/apt/sources.list.d/debian.sources "$root/etc/apt/sources.list.d/debian.sources"
# No service may start inside the chroot.
printf '#!/bin/sh\nexit 101\n' >"$root/usr/sbin/policy-rc.d"
chmod 755 "$root/usr/sbin/policy-rc.d"

t1=$(date +%s)
log "apt-get install ${*}"
chroot_apt_install "$root" "$root.apt.log" "$@" ||
	{ tail -40 "$root.apt.log" >&2; die "apt-get install failed (log: $root.apt.log)"; }
log "packages installed in $(($(date +%s) - t1)) s"

ls "$root"/boot/vmlinuz-* "$root"/boot/initrd.img-* "$root"/boot/xen-4.17-amd64.gz >/dev/null ||
	die "kernel, initrd or Xen missing in $root/boot"

# The panel's unprivileged system user.
in_chroot "$root" useradd --system --user-group --home-dir /var/lib/xvps/panel --no-create-home \
	--shell /usr/sbin/nologin --comment "xvps panel" xvps

rm -f "$root/usr/sbin/policy-rc.d"
# Every appliance gets its own machine-id at its first boot.
: >"$root/etc/machine-id"
rm -f "$root/var/lib/dbus/machine-id"
rm -f "$root/etc/ssh/ssh_host_"* 2>/dev/null || true
log "base rootfs done in $(($(date +%s) - t0)) s ($(du -sh "$root" | cut -f1))"
