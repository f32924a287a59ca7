# dom0-image/disk.sh — the appliance's bootable disk (sourced by build.sh and run.sh, after
# shellcheck shell=bash
# lib.sh): a GPT disk image made from files, with no loop device and no mount:
#
#   p1  bios  1 MiB     BIOS boot partition: GRUB's core.img for BIOS (grub-pc-bin, i386-pc);
#                       boot.img in the protective MBR points at it (what grub-bios-setup does)
#   p2  esp   128 MiB   EFI system partition, FAT32 labelled XVPS-ESP (mkfs.fat + mtools):
#                       /EFI/BOOT/BOOTX64.EFI (grub-efi-amd64-bin, the removable path: no NVRAM
#                       entry needed) and /xvps/boot.cfg (extra Xen and dom0 options, see below)
#   p3  root  the rest  the ext4 root filesystem labelled xvps-root (`mkfs.ext4 -d` at the
#                       partition's offset), /boot/grub/grub.cfg inside
#
# Both GRUBs carry their modules and a small embedded configuration that finds the root
# filesystem by its label and reads its /boot/grub/grub.cfg: the menu is one file in dom0.
# grub.cfg sources /xvps/boot.cfg from the ESP when it exists (`set xvps_xen_args=…` and
# `set xvps_dom0_args=…`, and `set default=rescue` to boot the rescue entry): run.sh writes it
# with mcopy before a boot (the appliance test's xvps.autologin xvps.testshell), so the same
# disk boots with and without them.

# The partition layout, in 512-byte sectors (GPT: 1 MiB alignment; 1 MiB left at the end for
# the backup GPT).
DISK_BIOS_START=2048
DISK_BIOS_SECTORS=2048
DISK_ESP_START=4096
DISK_ESP_SECTORS=262144
DISK_ROOT_START=266240
DISK_ESP_LABEL=XVPS-ESP

# The Xen command line of the appliance: dom0's memory and vCPUs fixed (dom0_max_vcpus=1-2: two
# where the machine has two CPUs or more, one on a single-CPU machine, never more vCPUs than
# CPUs), Xen's console on COM1 (115200 8n1) and VGA.
DISK_XEN_ARGS="dom0_mem=1536M,max:1536M dom0_max_vcpus=1-2 console=com1,vga com1=115200,8n1"
# dom0's kernel options under Xen (its console is Xen's, relayed on COM1 and VGA).
DISK_DOM0_ARGS="root=LABEL=xvps-root ro console=hvc0"

# The GRUB modules built into both images (normal and its dependencies come along).
DISK_GRUB_MODULES="part_gpt part_msdos ext2 fat search search_label search_fs_uuid configfile
	normal echo test serial terminal sleep reboot halt multiboot2 linux gzio minicmd"

# disk_grub_cfg ROOT XEN — ROOT/boot/grub/grub.cfg: the Xen entry (XEN: the file name in /boot,
# e.g. xen-4.17-amd64.gz; dom0's kernel and initrd are Debian's /vmlinuz and /initrd.img
# symlinks, which follow kernel upgrades) and the rescue entry (the same kernel alone, no Xen,
# single user on ttyS0 and tty0: root's password is locked in the appliance, so sulogin is told
# to give root's shell without one, SYSTEMD_SULOGIN_FORCE=1; whoever reaches the boot menu can
# edit the kernel command line anyway).
disk_grub_cfg() {
	local root=$1 xen=$2
	mkdir -p "$root/boot/grub"
	cat >"$root/boot/grub/grub.cfg" <<GRUB
# The xvps appliance's boot menu (written by dom0-image/build.sh; the same for BIOS and UEFI).
# GRUB itself lives outside this filesystem: core.img in the BIOS boot partition, BOOTX64.EFI on
# the EFI system partition (label $DISK_ESP_LABEL); both read this file.
serial --unit=0 --speed=115200 --word=8 --parity=no --stop=1
terminal_input serial console
terminal_output serial console
set default=0
set timeout=3
# When Xen does not load, the rescue entry boots instead of a prompt nobody sees.
set fallback=1
# Extra options for one machine or one run: /xvps/boot.cfg on the ESP may set these.
set xvps_xen_args=""
set xvps_dom0_args=""
if search --no-floppy --set=xvps_esp --label $DISK_ESP_LABEL; then
	if [ -f (\$xvps_esp)/xvps/boot.cfg ]; then
		source (\$xvps_esp)/xvps/boot.cfg
	fi
fi
export xvps_xen_args xvps_dom0_args

menuentry 'xvps: Xen 4.17 with the Debian dom0' --id xen {
	insmod gzio
	echo 'Loading Xen ...'
	multiboot2 /boot/$xen placeholder $DISK_XEN_ARGS \$xvps_xen_args
	echo 'Loading the dom0 kernel ...'
	module2 /vmlinuz placeholder $DISK_DOM0_ARGS \$xvps_dom0_args
	echo 'Loading the initial ramdisk ...'
	module2 --nounzip /initrd.img
}

menuentry 'xvps rescue: the Debian kernel without Xen, single user' --id rescue {
	echo 'Loading the kernel (no Xen) ...'
	linux /vmlinuz root=LABEL=xvps-root ro single console=tty0 console=ttyS0,115200n8 systemd.setenv=SYSTEMD_SULOGIN_FORCE=1
	echo 'Loading the initial ramdisk ...'
	initrd /initrd.img
}
GRUB
}

# disk_le64 N — N as 8 bytes little-endian (printf escapes).
disk_le64() {
	local n=$1 i out=
	for i in 0 1 2 3 4 5 6 7; do
		out+=$(printf '\\x%02x' $(((n >> (8 * i)) & 255)))
	done
	printf '%s' "$out"
}

# disk_patch FILE OFFSET BYTES — writes BYTES (printf escapes) at OFFSET in FILE, in place.
disk_patch() {
	# shellcheck disable=SC2059 # BYTES are printf escapes by design
	printf "$3" | dd of="$1" bs=1 seek="$2" conv=notrunc status=none
}

# disk_image ROOT WORK IMG XEN — the disk image IMG (sparse) from the root filesystem tree ROOT
# (grub.cfg is written into it first), temporary files in WORK. The root partition gets the
# files + 1.5 GiB (at least 4 GiB).
disk_image() {
	local root=$1 work=$2 img=$3 xen=$4 m used_mib root_mib total core nsec
	for m in sfdisk mkfs.ext4 mkfs.fat mcopy mmd grub-mkimage; do
		command -v "$m" >/dev/null || die "$m is missing (scripts/deps.sh appliance)"
	done
	[ -e /usr/lib/grub/i386-pc/boot.img ] || die "grub-pc-bin is missing (scripts/deps.sh appliance)"
	[ -d /usr/lib/grub/x86_64-efi ] || die "grub-efi-amd64-bin is missing (scripts/deps.sh appliance)"
	[ -e "$root/boot/$xen" ] || die "no /boot/$xen in the root filesystem"

	disk_grub_cfg "$root" "$xen"
	used_mib=$(du -sm "$root" | cut -f1)
	root_mib=$((used_mib + 1536))
	[ "$root_mib" -ge 4096 ] || root_mib=4096
	total=$((DISK_ROOT_START / 2048 + root_mib + 1))
	log "making the disk: ${used_mib} MiB of files, ${root_mib} MiB root partition, ${total} MiB disk"
	rm -f "$work/disk.img"
	truncate -s "${total}M" "$work/disk.img"
	sfdisk -q "$work/disk.img" >"$work/sfdisk.log" 2>&1 <<-EOF || { cat "$work/sfdisk.log" >&2; die "sfdisk failed"; }
		label: gpt
		start=$DISK_BIOS_START, size=$DISK_BIOS_SECTORS, type=21686148-6453-6F6E-744E-656564454649, name="bios"
		start=$DISK_ESP_START, size=$DISK_ESP_SECTORS, type=C12A7328-F81F-11D2-BA4B-00A0C93EC93B, name="esp"
		start=$DISK_ROOT_START, size=$((root_mib * 2048)), type=0FC63DAF-8483-4772-8E79-3D69D8477DE4, name="xvps-root"
	EOF

	# p3: the root filesystem, in place.
	mkfs.ext4 -q -F -L xvps-root -E "offset=$((DISK_ROOT_START * 512))" -d "$root" \
		"$work/disk.img" "$((root_mib * 1024))k" >"$work/mkfs.log" 2>&1 ||
		{ cat "$work/mkfs.log" >&2; die "mkfs.ext4 failed"; }

	# GRUB's two images; the embedded configuration finds grub.cfg by the root's label.
	cat >"$work/early.cfg" <<-'EOF'
		search --no-floppy --set=root --label xvps-root
		set prefix=($root)/boot/grub
		configfile $prefix/grub.cfg
	EOF
	# shellcheck disable=SC2086 # the module list is words
	grub-mkimage -O i386-pc -o "$work/core.img" -c "$work/early.cfg" -p /boot/grub \
		biosdisk $DISK_GRUB_MODULES || die "grub-mkimage (i386-pc) failed"
	# shellcheck disable=SC2086
	grub-mkimage -O x86_64-efi -o "$work/BOOTX64.EFI" -c "$work/early.cfg" -p /boot/grub \
		efi_gop efi_uga $DISK_GRUB_MODULES || die "grub-mkimage (x86_64-efi) failed"

	# p2: the ESP.
	rm -f "$work/esp.img"
	mkfs.fat -F 32 -n "$DISK_ESP_LABEL" -C "$work/esp.img" $((DISK_ESP_SECTORS / 2)) >"$work/mkfs.fat.log" 2>&1 ||
		{ cat "$work/mkfs.fat.log" >&2; die "mkfs.fat failed"; }
	: >"$work/boot.cfg"
	mmd -i "$work/esp.img" ::/EFI ::/EFI/BOOT ::/xvps
	mcopy -i "$work/esp.img" "$work/BOOTX64.EFI" ::/EFI/BOOT/BOOTX64.EFI
	mcopy -i "$work/esp.img" "$work/boot.cfg" ::/xvps/boot.cfg
	dd if="$work/esp.img" of="$work/disk.img" bs=1M seek=$((DISK_ESP_START / 2048)) conv=notrunc,sparse status=none
	rm -f "$work/esp.img"

	# p1 and the MBR: what grub-bios-setup does, by hand (it wants a block device). core.img's
	# first sector (diskboot.img) loads the rest from the blocklist at its offset 0x1f4 (start
	# LBA; grub-mkimage has written the length); boot.img (the MBR's first 440 bytes, the
	# partition table stays) loads core.img's first sector from the LBA at its offset 0x5c, and
	# its check for a floppy drive number (0x66) becomes two NOPs, as for any hard disk.
	core=$(stat -c %s "$work/core.img")
	nsec=$(((core + 511) / 512))
	[ "$nsec" -le "$DISK_BIOS_SECTORS" ] || die "core.img ($core bytes) exceeds the BIOS boot partition"
	disk_patch "$work/core.img" $((0x1f4)) "$(disk_le64 $((DISK_BIOS_START + 1)))"
	dd if="$work/core.img" of="$work/disk.img" bs=512 seek="$DISK_BIOS_START" conv=notrunc status=none
	dd if=/usr/lib/grub/i386-pc/boot.img of="$work/disk.img" bs=440 count=1 conv=notrunc status=none
	disk_patch "$work/disk.img" $((0x5c)) "$(disk_le64 "$DISK_BIOS_START")"
	disk_patch "$work/disk.img" $((0x66)) '\x90\x90'

	sfdisk -V "$work/disk.img" >/dev/null 2>&1 || die "sfdisk -V finds the partition table broken"
	e2fsck -fn "$work/disk.img?offset=$((DISK_ROOT_START * 512))" >/dev/null 2>&1 ||
		die "e2fsck finds errors in the root filesystem"
	log "GRUB: core.img $core bytes (BIOS), BOOTX64.EFI $(stat -c %s "$work/BOOTX64.EFI") bytes (UEFI)"
	rm -f "$work/core.img" "$work/BOOTX64.EFI" "$work/early.cfg" "$work/boot.cfg"
	mv "$work/disk.img" "$img"
}

# disk_root_fs IMG — the root filesystem of the disk IMG as e2fsprogs names it (debugfs,
# e2fsck): IMG?offset=BYTES.
disk_root_fs() { printf '%s?offset=%s' "$1" $((DISK_ROOT_START * 512)); }

# disk_boot_cfg IMG XEN_ARGS DOM0_ARGS [ENTRY] — /xvps/boot.cfg on IMG's ESP (mcopy at the
# partition's offset): the extra Xen and dom0 options GRUB appends, and the menu entry to boot
# (xen, the default, or rescue). Options are words of [A-Za-z0-9._,:=/+-] (nothing GRUB's parser
# would take as quoting or a variable).
disk_boot_cfg() {
	local img=$1 xen=$2 dom0=$3 entry=${4:-xen} f
	case $entry in xen | rescue) ;; *) die "the boot entry is xen or rescue, not '$entry'" ;; esac
	for f in "$xen" "$dom0"; do
		[[ $f =~ ^[A-Za-z0-9._,:=/+\ -]*$ ]] || die "boot options may hold only [A-Za-z0-9._,:=/+-] and spaces: $f"
	done
	f=$(mktemp)
	printf '# Written by dom0-image/run.sh: extra options for the next boots.\nset xvps_xen_args="%s"\nset xvps_dom0_args="%s"\nset default=%s\n' \
		"$xen" "$dom0" "$entry" >"$f"
	mcopy -o -i "$img@@$((DISK_ESP_START * 512))" "$f" ::/xvps/boot.cfg || { rm -f "$f"; die "mcopy to the ESP of $img failed"; }
	rm -f "$f"
}
