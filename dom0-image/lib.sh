# dom0-image/lib.sh — helpers shared by the appliance scripts (sourced).
log() { printf 'appliance: %s\n' "$*" >&2; }
die() { printf 'appliance: error: %s\n' "$*" >&2; exit 1; }

# The Debian mirror of the host (/etc/apt/sources.list.d/debian.sources, deb822): the URIs of
# the first stanza whose Suites name bookworm.
debian_mirror() {
	awk '
		/^[[:space:]]*$/ { if (uri != "" && suites ~ /(^| )bookworm( |$)/) { print uri; exit } uri = ""; suites = ""; next }
		/^URIs:/ { uri = $2 }
		/^Suites:/ { $1 = ""; suites = $0 " " }
		END { if (uri != "" && suites ~ /(^| )bookworm( |$)/) print uri }
	' /etc/apt/sources.list.d/debian.sources | head -1
}

# in_chroot ROOT CMD... — runs CMD in ROOT with /proc, /sys, /dev and /run mounted inside a
# private mount namespace of its own: the mounts vanish with the command, nothing to clean up.
in_chroot() {
	local r=$1
	shift
	unshare --mount --propagation private -- sh -ec '
		r=$1; shift
		mount -t proc proc "$r/proc"
		mount -t sysfs sysfs "$r/sys"
		mount --rbind /dev "$r/dev"
		mount -t tmpfs tmpfs "$r/run"
		mount -t tmpfs tmpfs "$r/tmp"
		exec chroot "$r" /usr/bin/env -i PATH=/usr/sbin:/usr/bin:/sbin:/bin HOME=/root \
			LC_ALL=C.UTF-8 DEBIAN_FRONTEND=noninteractive "$@"
	' in_chroot "$r" "$@"
}

# chroot_apt_install ROOT LOG PKG... — apt-get update, then installs PKG (no recommends) inside
# ROOT through in_chroot, then empties apt's cache and lists (they would only fill the image).
# apt's output goes to LOG; non-zero when apt failed. Services are the caller's business (a
# policy-rc.d that refuses them while ROOT is being built).
chroot_apt_install() {
	local r=$1 log=$2
	shift 2
	in_chroot "$r" sh -ec '
		apt-get update -qq
		apt-get install -y -qq --no-install-recommends "$@"
		apt-get clean
		rm -rf /var/lib/apt/lists/*
	' sh "$@" >"$log" 2>&1
}

# hash_files FILE... — one sha256 over the contents of the files (and their names, relative to
# the repository or the cache: the key does not depend on where the checkout lives).
hash_files() {
	local f
	for f in "$@"; do
		printf '%s\n' "${f##*/dom0-image/}" | sed 's|.*/web/|web/|; s|.*/appliance/|cache/|; s|.*/build/appliance/|bin/|'
		sha256sum <"$f"
	done | sha256sum | cut -c1-16
}

# --- guest images (dom0-image/guest/build.sh, dom0-image/cloud/build.sh) -----------------------

# guest_build_prepare CACHE — the checks before a guest image build (root, the tools, a bookworm
# mirror: sets $mirror), then CACHE made and locked (fd 9, held until the script exits).
guest_build_prepare() {
	local cache=$1 t
	[ "$(id -u)" = 0 ] || die "must run as root (debootstrap, chroot, file ownership)"
	for t in debootstrap mkfs.ext4 unshare chroot sha256sum; do
		command -v "$t" >/dev/null || die "$t is missing"
	done
	mirror=$(debian_mirror)
	[ -n "$mirror" ] || die "no bookworm mirror in /etc/apt/sources.list.d/debian.sources"
	mkdir -p "$cache"
	exec 9>"$cache/.lock"
	flock -n 9 || {
		log "waiting for another build (lock $cache/.lock)"
		flock 9
	}
}

# guest_image_cached IMG LINK — when IMG is built already: LINK points at it, its path is
# printed, true; else false.
guest_image_cached() {
	local img=$1 link=$2
	[ -s "$img" ] || return 1
	log "cached: $img"
	ln -sfn "$(basename "$img")" "$link"
	printf '%s
' "$img"
}

# guest_rootfs ROOT WORK MIRROR PKG... — a bookworm minbase in ROOT (debootstrap from MIRROR),
# apt pointed at the host's mirror configuration (deb822) only, PKG installed (no recommends, no
# service started), then checks that /vmlinuz and /initrd.img exist and that the initrd carries
# xen-blkfront and xen-netfront. Logs go to WORK; dies on failure.
guest_rootfs() {
	local root=$1 work=$2 mirror=$3 t
	shift 3
	t=$(date +%s)
	log "debootstrap bookworm (minbase) from $mirror"
	debootstrap --variant=minbase bookworm "$root" "$mirror" >"$work/debootstrap.log" 2>&1 || {
		tail -30 "$work/debootstrap.log" >&2
		die "debootstrap failed"
	}
	log "debootstrap done in $(($(date +%s) - t)) s"

	rm -f "$root/etc/apt/sources.list"
	cp /etc/apt/sources.list.d/debian.sources "$root/etc/apt/sources.list.d/debian.sources"
	printf '#!/bin/sh\nexit 101\n' >"$root/usr/sbin/policy-rc.d"
	chmod 755 "$root/usr/sbin/policy-rc.d"
	# Written before the kernel's postinst builds the initrd: MODULES=most (Debian's default)
	# carries xen-blkfront/xen-netfront; say so, so that a changed default cannot drop them.
	mkdir -p "$root/etc/initramfs-tools/conf.d"
	printf 'MODULES=most\n' >"$root/etc/initramfs-tools/conf.d/modules-most.conf"

	t=$(date +%s)
	log "apt-get install" "$@"
	chroot_apt_install "$root" "$work/apt.log" "$@" || {
		tail -40 "$work/apt.log" >&2
		die "apt-get install failed"
	}
	log "packages installed in $(($(date +%s) - t)) s"
	rm -f "$root/usr/sbin/policy-rc.d"

	if [ ! -e "$root/vmlinuz" ] || [ ! -e "$root/initrd.img" ]; then
		die "/vmlinuz or /initrd.img missing"
	fi
	# The initrd must find the root disk and the network under Xen.
	in_chroot "$root" sh -c 'lsinitramfs /initrd.img' >"$work/initrd.list"
	for t in xen-blkfront xen-netfront; do
		grep -q "/$t\.ko" "$work/initrd.list" || die "$t is not in the initrd"
	done
}

# guest_grub_cfg ROOT TITLE — /boot/grub/grub.cfg for dom0's pvgrub (grub-xen-host, PVH and
# PV), which finds it on (xen/xvda): one menu entry TITLE booting Debian's /vmlinuz and
# /initrd.img (symlinks to the installed kernel) from the whole-disk ext4 filesystem.
guest_grub_cfg() {
	mkdir -p "$1/boot/grub"
	cat >"$1/boot/grub/grub.cfg" <<GRUB
# Read by dom0's pvgrub (grub-xen-host, PVH and PV) from (xen/xvda): the whole disk is one ext4
# filesystem; /vmlinuz and /initrd.img are Debian's symlinks to the installed kernel.
set default=0
set timeout=1
menuentry '$2' {
	linux /vmlinuz root=/dev/xvda ro console=hvc0 net.ifnames=0
	initrd /initrd.img
}
GRUB
}

# guest_rootfs_seal ROOT — what no two machines may share and what a guest must not do: root's
# password locked, no SSH host keys (made at each first boot), an empty machine-id, no apt timers
# (no network to a mirror from a VPS by default).
guest_rootfs_seal() {
	local root=$1 t
	in_chroot "$root" passwd -l root >/dev/null
	rm -f "$root"/etc/ssh/ssh_host_*
	: >"$root/etc/machine-id"
	rm -f "$root/var/lib/dbus/machine-id"
	for t in apt-daily.timer apt-daily-upgrade.timer; do
		ln -sfn /dev/null "$root/etc/systemd/system/$t"
	done
}

# guest_image ROOT WORK LABEL SIZE IMG — the caches and logs emptied, then ROOT as one ext4
# filesystem labelled LABEL of SIZE (sparse, `mkfs.ext4 -d`: no loop device, no mount) in
# WORK, checked with e2fsck and moved to IMG.
guest_image() {
	local root=$1 work=$2 label=$3 size=$4 img=$5 t
	rm -rf "$root"/var/cache/apt/*.bin "$root"/var/log/*.log "$root"/tmp/* "$root"/run/*
	t=$(date +%s)
	rm -f "$work/image.img"
	mkfs.ext4 -q -F -L "$label" -d "$root" "$work/image.img" "$size" >"$work/mkfs.log" 2>&1 || {
		cat "$work/mkfs.log" >&2
		die "mkfs.ext4 failed"
	}
	log "mkfs.ext4 -d done in $(($(date +%s) - t)) s"
	e2fsck -fn "$work/image.img" >/dev/null 2>&1 || die "e2fsck finds errors in the new image"
	mv "$work/image.img" "$img"
}
