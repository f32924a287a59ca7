#!/usr/bin/env bash
# dom0-image/build.sh DEB — `make appliance`: the xvps appliance disk image (Xen 4.17 + Debian
# bookworm dom0 + xvps), xvps installed from the package DEB (`make deb`: build/deb/xvps_*.deb).
#
# Two cached stages, outside the repository:
#   base-<hash>/rootfs   in ${XVPS_CACHE:-/var/cache/xvps}/appliance/: debootstrap + packages.txt
#                        (dom0-image/base.sh). Key: base.sh, lib.sh, packages.txt, the mirror
#                        configuration (not xvps's dependencies: stage 2 installs the .deb
#                        with apt, which fetches those the base lacks).
#   xvps-appliance.img   in ${XVPS_APPLIANCE_DIR:-${XVPS_CACHE:-/var/cache/xvps}/appliance}/: the
#                        bootable disk (dom0-image/disk.sh: GPT, GRUB for BIOS and UEFI, the ext4
#                        root labelled xvps-root made with `mkfs.ext4 -d`; no loop device, no
#                        mount). Key: the base key, build.sh, disk.sh, dom0-image/overlay/, the
#                        .deb.
# XVPS_APPLIANCE_DIR puts the image (and run.sh's run/ disks) elsewhere, sharing the base: a
# second checkout builds and boots its own image beside a running `make appliance-test`. The
# base is then only read; it is built (under the cache's lock) only when missing.
# A code change redoes only the second stage (about a minute); nothing is rebuilt when no
# input changed. XVPS_APPLIANCE_REBUILD=1 forces both stages.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
repo=$(dirname "$here")
# shellcheck source=dom0-image/lib.sh
. "$here/lib.sh"
# shellcheck source=dom0-image/disk.sh
. "$here/disk.sh"

deb=${1:?usage: build.sh DEB (make deb: build/deb/xvps_VERSION_amd64.deb)}
case $deb in /*) ;; *) deb=$repo/$deb ;; esac
cache=${XVPS_CACHE:-/var/cache/xvps}/appliance
out=${XVPS_APPLIANCE_DIR:-$cache}
[ "$(id -u)" = 0 ] || die "must run as root (debootstrap, chroot, file ownership)"
[ -s "$deb" ] || die "$deb is missing (make deb)"
mkdir -p "$cache" "$out"
exec 9>"$out/.lock"
flock -n 9 || { log "waiting for another build (lock $out/.lock)"; flock 9; }
tmpd=$(mktemp -d)
trap 'rm -rf "$tmpd"' EXIT
t_start=$(date +%s)

# --- package lists ------------------------------------------------------------------------------
# packages.txt makes the base; xvps's own dependencies come with the .deb in stage 2 (apt), so a
# new library costs an apt-get install, not a new debootstrap.
mapfile -t pkgs < <(sed 's/#.*//' "$here/packages.txt" | tr -s ' \t' '\n\n' | grep -v '^$' | sort -u)
log "base packages (${#pkgs[@]}): ${pkgs[*]}"
log "xvps package: $deb"

mirror=$(debian_mirror)
[ -n "$mirror" ] || die "no bookworm mirror in /etc/apt/sources.list.d/debian.sources"
# (A private copy named …/appliance/packages.list: its name is part of the key, and the
# shared cache's copy may be read by another build at this moment.)
mkdir -p "$tmpd/appliance"
plist=$tmpd/appliance/packages.list
printf '%s\n' "${pkgs[@]}" >"$plist"
base_key=$(hash_files "$here/base.sh" "$here/lib.sh" "$plist" \
	/etc/apt/sources.list.d/debian.sources)
base=$cache/base-$base_key

# --- stage 1: the base root filesystem -------------------------------------------------------
if [ "${XVPS_APPLIANCE_REBUILD:-0}" = 1 ]; then rm -rf "$base"; fi
if [ ! -e "$base/.done" ] && [ "$out" != "$cache" ]; then
	exec 8>"$cache/.lock"
	flock -n 8 || { log "waiting for another build (lock $cache/.lock)"; flock 8; }
fi
if [ -e "$base/.done" ]; then
	log "base rootfs cached: $base"
else
	rm -rf "$base.tmp"
	mkdir -p "$base.tmp"
	"$here/base.sh" "$base.tmp/rootfs" "$mirror" "${pkgs[@]}"
	cp "$plist" "$base.tmp/packages.list"
	touch "$base.tmp/.done"
	rm -rf "$base"
	mv "$base.tmp" "$base"
	# Keep only the current base (each is ~1.5 GB).
	for old in "$cache"/base-*; do
		[ "$old" = "$base" ] || { log "removing old base $old"; rm -rf "$old"; }
	done
fi

[ "${XVPS_APPLIANCE_STAGE:-}" = base ] && { log "base only (XVPS_APPLIANCE_STAGE=base)"; exit 0; }

# --- the guest template source -----------------------------------------------------------------
# The agent imports templates from XVPS_TEMPLATE_DIR (/var/lib/xvps/templates in the unit):
# debian-12.img there is the guest image of dom0-image/guest/build.sh, which returns its cached
# guest-<key>.img when its inputs (xvps-seed among them) are unchanged and builds it otherwise
# (3-18 min): an image whose xvps-seed predates the agent's seed format would refuse the seeds
# (seen on 2026-12-07: guest.img of 09:33 had no password reset). XVPS_APPLIANCE_GUEST=0 leaves
# the template out.
guest_img=
if [ "${XVPS_APPLIANCE_GUEST:-1}" != 0 ]; then
	guest_img=$("$here/guest/build.sh")
	[ -s "$guest_img" ] || die "no guest image ($guest_img)"
	log "guest template source: $guest_img"
fi

# --- the rescue image (issue 16 item 3) --------------------------------------------------------
# rescue.img in XVPS_TEMPLATE_DIR: the agent imports it as its template "rescue" at the first
# rescue and gives each rescued VPS its own copy. dom0-image/rescue/build.sh returns its cached
# image at once and builds it only when its inputs changed (about 3 min with a near mirror).
# XVPS_APPLIANCE_RESCUE=0 leaves it out (rescue jobs then fail, saying so).
rescue_img=
if [ "${XVPS_APPLIANCE_RESCUE:-1}" != 0 ]; then
	rescue_img=$("$here/rescue/build.sh")
	[ -s "$rescue_img" ] || die "no rescue image ($rescue_img)"
	log "rescue system: $rescue_img"
fi

# --- the cloud-init guest (issue 16 item 7) ----------------------------------------------------
# debian-12-cloud.img in XVPS_TEMPLATE_DIR: dom0-image/cloud/build.sh's Debian guest with Debian's
# cloud-init and no xvps code (cached, else built), which the appliance test imports as a template
# through the API (POST /templates "file", seed nocloud). XVPS_APPLIANCE_CLOUD=0 leaves it out.
cloud_img=
if [ "${XVPS_APPLIANCE_CLOUD:-1}" != 0 ]; then
	cloud_img=$("$here/cloud/build.sh")
	[ -s "$cloud_img" ] || die "no cloud-init guest image ($cloud_img)"
	log "cloud-init guest: $cloud_img"
fi

# --- stage 2: xvps on top, the image -----------------------------------------------------------
mapfile -t inputs < <(
	printf '%s\n' "$here/build.sh" "$here/lib.sh" "$here/disk.sh"
	find "$here/overlay" -type f | sort
)
# The guest image's file name carries its own key (guest-<key>.img): no need to hash 1.5 GB.
# The .deb counts by its contents (its path depends on the checkout).
final_key=$(printf '%s %s %s %s %s %s\n' "$base_key" "$(hash_files "${inputs[@]}")" \
	"$(sha256sum <"$deb" | cut -c1-16)" "${guest_img##*/}" "${rescue_img##*/}" "${cloud_img##*/}" |
	sha256sum | cut -c1-16)
img=$out/xvps-appliance.img
if [ "${XVPS_APPLIANCE_REBUILD:-0}" != 1 ] && [ -e "$img" ] &&
	[ "$(cat "$out/xvps-appliance.key" 2>/dev/null)" = "$final_key" ]; then
	log "image up to date: $img (key $final_key)"
	exit 0
fi

t2=$(date +%s)
work=$out/final.tmp
rm -rf "$work"
mkdir -p "$work"
root=$work/rootfs
log "copying the base rootfs"
cp -a --reflink=auto "$base/rootfs" "$root"

# xvps from its package, with apt (its dependencies the base lacks come from the mirror). No
# service starts in the chroot; the package's postinst enables xvps-agent, xvpsd and
# xvps-guests, writes /etc/xvps/panel-uid.env and masks Debian's xendomains. Its self-signed
# TLS pair is removed: each appliance makes its own at its first boot (xvps-firstboot).
log "installing ${deb##*/}"
install -d -m 0755 "$root/var/tmp/xvps-deb"
cp "$deb" "$root/var/tmp/xvps-deb/"
printf '#!/bin/sh\nexit 101\n' >"$root/usr/sbin/policy-rc.d"
chmod 755 "$root/usr/sbin/policy-rc.d"
chroot_apt_install "$root" "$work/apt.log" "/var/tmp/xvps-deb/${deb##*/}" ||
	{ tail -30 "$work/apt.log" >&2; die "apt-get install of ${deb##*/} failed (log: $work/apt.log)"; }
rm -f "$root/usr/sbin/policy-rc.d"
rm -rf "$root/var/tmp/xvps-deb" "$root/etc/xvps/tls"
for u in xvps-agent xvpsd xvps-guests; do
	[ -L "$root/etc/systemd/system/multi-user.target.wants/$u.service" ] ||
		die "the package did not enable $u.service"
done
[ "$(readlink "$root/etc/systemd/system/xendomains.service")" = /dev/null ] ||
	die "the package did not mask xendomains.service"

# Overlay: what only the appliance has — first boot, drop-ins for the package's units, the test
# and debug units, networkd, sysctl, modules (owned by root, modes as in the repo).
cp -r --no-preserve=ownership "$here/overlay/." "$root/"
chown -R root:root "$root/etc/systemd/system" "$root/usr/lib/xvps" "$root/etc/xvps" \
	"$root/etc/systemd/network" "$root/etc/sysctl.d" "$root/etc/modules-load.d"

# The template source, copied sparsely (mkfs.ext4 -d keeps the holes: only its ~0.7 GB of data
# land in the image).
install -d -m 0755 "$root/var/lib/xvps/templates"
if [ -n "$guest_img" ]; then
	cp --sparse=always "$guest_img" "$root/var/lib/xvps/templates/debian-12.img"
	chmod 0644 "$root/var/lib/xvps/templates/debian-12.img"
fi
if [ -n "$rescue_img" ]; then
	cp --sparse=always "$rescue_img" "$root/var/lib/xvps/templates/rescue.img"
	chmod 0644 "$root/var/lib/xvps/templates/rescue.img"
fi

if [ -n "$cloud_img" ]; then
	cp --sparse=always "$cloud_img" "$root/var/lib/xvps/templates/debian-12-cloud.img"
	chmod 0644 "$root/var/lib/xvps/templates/debian-12-cloud.img"
fi

# The appliance's own units: enabled by hand (the symlinks `systemctl enable` would make).
wants=$root/etc/systemd/system/multi-user.target.wants
mkdir -p "$wants"
for u in xvps-firstboot.service xvps-debug.service xvps-testshell.service; do
	ln -sf "/etc/systemd/system/$u" "$wants/$u"
done
ln -sf /lib/systemd/system/systemd-networkd.service "$wants/systemd-networkd.service"
mkdir -p "$root/etc/systemd/system/sockets.target.wants"
ln -sf /lib/systemd/system/systemd-networkd.socket "$root/etc/systemd/system/sockets.target.wants/"
# No interactive first-boot questions on the console; no waiting for "network online".
ln -sf /dev/null "$root/etc/systemd/system/systemd-firstboot.service"
ln -sf /dev/null "$root/etc/systemd/system/systemd-networkd-wait-online.service"

# System configuration.
echo xvps >"$root/etc/hostname"
printf '127.0.0.1\tlocalhost\n127.0.1.1\txvps\n::1\tlocalhost ip6-localhost ip6-loopback\n' >"$root/etc/hosts"
printf 'LABEL=xvps-root\t/\text4\terrors=remount-ro\t0\t1\n' >"$root/etc/fstab"
# dom0 has a fixed memory size (dom0_mem=…,max:…): no ballooning.
sed -i 's/^#\?autoballoon=.*/autoballoon="off"/' "$root/etc/xen/xl.conf"
grep -q '^autoballoon=' "$root/etc/xen/xl.conf" || echo 'autoballoon="off"' >>"$root/etc/xen/xl.conf"
# Debian's xendomains is masked by the package (issue 16 item 6): the agent starts the VPS that
# should run at boot, xvps-guests.service shuts them down at a host shutdown; nothing is saved
# or restored. (Its defaults are emptied too in the appliance, should someone unmask it.)
sed -i 's/^XENDOMAINS_SAVE=.*/XENDOMAINS_SAVE=""/; s/^XENDOMAINS_RESTORE=.*/XENDOMAINS_RESTORE=false/;
	s/^XENDOMAINS_AUTO=.*/XENDOMAINS_AUTO=""/' "$root/etc/default/xendomains"
{
	echo "built=$(date -u +%FT%TZ)"
	echo "base_key=$base_key"
	echo "image_key=$final_key"
	echo "commit=$(git -C "$repo" rev-parse --short HEAD 2>/dev/null || echo unknown)$(git -C "$repo" diff --quiet HEAD 2>/dev/null || echo -dirty)"
} >"$root/etc/xvps/build-info"

# The kernel the image boots (Debian's /vmlinuz link points at it) and Xen, for GRUB's menu.
kver=$(ls "$root/boot" | sed -n 's/^vmlinuz-//p' | sort -V | tail -1)
[ -n "$kver" ] || die "no kernel in the rootfs"
xen=$(find "$root/boot" -maxdepth 1 -name 'xen-4.17*.gz' -printf '%f\n' | sort -V | tail -1)
[ -n "$xen" ] || die "no Xen 4.17 in the rootfs's /boot"
[ -e "$root/vmlinuz" ] && [ -e "$root/initrd.img" ] || die "no /vmlinuz or /initrd.img link in the rootfs"

# The disk: GPT, GRUB for BIOS and UEFI, the root partition (dom0-image/disk.sh).
disk_image "$root" "$work" "$work/root.img" "$xen"
mv "$work/root.img" "$img"
echo "$final_key" >"$out/xvps-appliance.key"
cat "$root/etc/xvps/build-info" >"$out/xvps-appliance.info"
echo "kernel=$kver" >>"$out/xvps-appliance.info"
rm -rf "$work"
log "image done in $(($(date +%s) - t2)) s (whole build $(($(date +%s) - t_start)) s): $img"
