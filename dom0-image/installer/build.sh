#!/usr/bin/env bash
# dom0-image/installer/build.sh — `make installer`: the xvps installer ISO, a hybrid ISO 9660
# image (grub-mkrescue: xorriso, GRUB El Torito for BIOS, an EFI system partition image with
# GRUB for UEFI, an MBR/GPT for USB sticks) that boots the appliance's Debian kernel with a small
# initramfs running dom0-image/installer/install.sh, and carries the appliance image
# (`make appliance`) compressed with zstd. Prints the ISO's path.
#
# Three cached stages (nothing is redone when its inputs did not change):
#   initramfs   ${XVPS_CACHE:-/var/cache/xvps}/installer/initrd-<key>.img: busybox (static), the
#               host's sfdisk, blkdiscard, zstd and debugfs with their libraries, the appliance
#               kernel's storage modules (modules.dep closure, busybox depmod), init and
#               install.sh; files dated 1970 and sorted (cpio newc, gzip -n): the same inputs give
#               the same bytes. Key: the scripts, the binaries, the kernel.
#   image.zst   xvps-appliance.img.zst next to the image: `zstd -6`, keyed on the image's key.
#   ISO         xvps-installer.iso next to the image (${XVPS_APPLIANCE_DIR:-$XVPS_CACHE/appliance}).
#               Key: the initramfs key, the image key, grub.cfg, this script.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
dom0=$(dirname "$here")
# shellcheck source=dom0-image/lib.sh
. "$dom0/lib.sh"
# shellcheck source=dom0-image/disk.sh
. "$dom0/disk.sh"

cache=${XVPS_CACHE:-/var/cache/xvps}
out=${XVPS_APPLIANCE_DIR:-$cache/appliance}
icache=$cache/installer
img=$out/xvps-appliance.img
[ "$(id -u)" = 0 ] || die "must run as root (the base rootfs's files, cpio ownership)"
if [ ! -s "$img" ] || [ ! -s "$out/xvps-appliance.info" ]; then die "$img is missing (make appliance)"; fi
for t in grub-mkrescue xorriso mformat zstd cpio gzip busybox sfdisk blkdiscard debugfs; do
	command -v "$t" >/dev/null || die "$t is missing (scripts/deps.sh appliance)"
done
busybox_bin=$(command -v busybox)
ldd "$busybox_bin" >/dev/null 2>&1 && die "$busybox_bin is not static (the busybox-static package)"
mkdir -p "$icache"
exec 9>"$icache/.lock"
flock -n 9 || { log "waiting for another installer build (lock $icache/.lock)"; flock 9; }
tmpd=$(mktemp -d)
trap 'rm -rf "$tmpd"' EXIT
t0=$(date +%s)

# The appliance's kernel and modules come from its base rootfs (build.sh's stage 1).
base_key=$(sed -n 's/^base_key=//p' "$out/xvps-appliance.info")
kver=$(sed -n 's/^kernel=//p' "$out/xvps-appliance.info")
image_key=$(cat "$out/xvps-appliance.key")
base=$cache/appliance/base-$base_key/rootfs
if [ -z "$kver" ] || [ ! -s "$base/boot/vmlinuz-$kver" ]; then die "no kernel $kver in $base (make appliance)"; fi
mods=$base/lib/modules/$kver

# --- the initramfs ------------------------------------------------------------------------------
# The modules the installer loads first (CD-ROM, SATA/IDE, NVMe, virtio, USB storage, SCSI
# disks, ISO 9660); their dependencies come from modules.dep.
modlist="virtio_pci virtio_blk virtio_scsi ata_piix ata_generic ahci nvme sd_mod sr_mod isofs
	xhci_pci ehci_pci ohci_pci uhci_hcd usb_storage uas mptsas megaraid_sas hpsa"
bins=(/usr/sbin/sfdisk /usr/sbin/blkdiscard /usr/bin/zstd /usr/sbin/debugfs)
mapfile -t libs < <(for b in "${bins[@]}"; do ldd "$b" | awk '$3 ~ /^\// { print $3 } $1 ~ /^\// { print $1 }'; done | sort -u)
initrd_key=$(
	{
		hash_files "$here/init" "$here/install.sh" "$here/build.sh"
		echo "$modlist $kver"
		sha256sum "$busybox_bin" "${bins[@]}" "${libs[@]}" "$base/boot/vmlinuz-$kver" | cut -c1-64
	} | sha256sum | cut -c1-16
)
initrd=$icache/initrd-$initrd_key.img
if [ -s "$initrd" ]; then
	log "installer initramfs cached: $initrd"
else
	r=$tmpd/initrd
	mkdir -p "$r"/{bin,sbin,usr/bin,lib64,etc,proc,sys,dev,run,tmp,media}
	cp "$busybox_bin" "$r/bin/busybox"
	for a in $("$busybox_bin" --list); do
		[ "$a" = busybox ] || ln -s busybox "$r/bin/$a"
	done
	for b in "${bins[@]}" "${libs[@]}"; do
		case $b in
		/usr/sbin/* | /usr/bin/*) cp "$b" "$r/usr/bin/${b##*/}" ;;
		*) mkdir -p "$r$(dirname "$b")" && cp -L "$b" "$r$b" ;;
		esac
	done
	# (ld.so's path in the binaries is /lib64/ld-linux-x86-64.so.2; Debian's is a symlink.)
	[ -e "$r/lib64/ld-linux-x86-64.so.2" ] || die "the dynamic loader was not copied"
	: >"$r/modules.list"
	for m in $modlist; do
		line=$(grep -E "/${m//_/[_-]}\.ko(\.[a-z]+)?:" "$mods/modules.dep" || true)
		[ -n "$line" ] || { log "module $m: built in or absent, skipped"; continue; }
		echo "$m" >>"$r/modules.list"
		for f in $(echo "$line" | tr -d ':'); do
			mkdir -p "$r/lib/modules/$kver/$(dirname "$f")"
			cp "$mods/$f" "$r/lib/modules/$kver/$f"
		done
	done
	cp "$mods/modules.order" "$mods/modules.builtin" "$r/lib/modules/$kver/"
	"$busybox_bin" depmod -b "$r" "$kver"
	install -m 0755 "$here/init" "$r/init"
	install -m 0755 "$here/install.sh" "$r/xvps-install"
	find "$r" -exec touch -h -d @0 {} +
	(cd "$r" && find . -print0 | LC_ALL=C sort -z |
		cpio --null -o -H newc --owner=0:0 --reproducible --quiet) | gzip -9n >"$tmpd/initrd.img"
	rm -f "$icache"/initrd-*.img
	mv "$tmpd/initrd.img" "$initrd"
	log "installer initramfs: $initrd ($(du -h "$initrd" | cut -f1), $(wc -l <"$r/modules.list") modules)"
fi

# --- the compressed appliance image -------------------------------------------------------------
zst=$out/xvps-appliance.img.zst
if [ -s "$zst" ] && [ "$(cat "$zst.key" 2>/dev/null)" = "$image_key" ]; then
	log "compressed image cached: $zst"
else
	t=$(date +%s)
	log "compressing $img (zstd -6)"
	rm -f "$zst" "$zst.key"
	zstd -q -T0 -6 -f "$img" -o "$zst.tmp"
	mv "$zst.tmp" "$zst"
	echo "$image_key" >"$zst.key"
	log "compressed in $(($(date +%s) - t)) s: $(du -h "$zst" | cut -f1)"
fi

# --- the ISO ------------------------------------------------------------------------------------
iso=$out/xvps-installer.iso
iso_key=$(printf '%s %s %s\n' "$initrd_key" "$image_key" "$(hash_files "$here/grub.cfg" "$here/build.sh")" |
	sha256sum | cut -c1-16)
if [ -s "$iso" ] && [ "$(cat "$iso.key" 2>/dev/null)" = "$iso_key" ]; then
	log "installer ISO up to date: $iso (key $iso_key)"
	echo "$iso"
	exit 0
fi
d=$tmpd/iso
mkdir -p "$d/boot/grub" "$d/xvps"
cp "$base/boot/vmlinuz-$kver" "$d/boot/vmlinuz"
cp "$initrd" "$d/boot/initrd.img"
cp "$here/grub.cfg" "$d/boot/grub/grub.cfg"
ln "$zst" "$d/xvps/appliance.img.zst" 2>/dev/null || cp "$zst" "$d/xvps/appliance.img.zst"
stat -c %s "$img" >"$d/xvps/appliance.size"
echo $((DISK_ROOT_START * 512)) >"$d/xvps/root-offset"
sed -n 's/^\(built\|commit\|image_key\)=/\1=/p' "$out/xvps-appliance.info" >"$d/xvps/build-info"
find "$d" -exec touch -h -d @0 {} +
rm -f "$iso" "$iso.key"
grub-mkrescue -o "$iso.tmp" "$d" -- -volid XVPS_INSTALLER >"$tmpd/mkrescue.log" 2>&1 ||
	{ cat "$tmpd/mkrescue.log" >&2; die "grub-mkrescue failed"; }
mv "$iso.tmp" "$iso"
echo "$iso_key" >"$iso.key"
log "installer ISO done in $(($(date +%s) - t0)) s: $iso ($(du -h --apparent-size "$iso" | cut -f1))"
echo "$iso"
