#!/bin/sh
# shellcheck shell=dash
# /xvps-install — the xvps installer (busybox sh in the installer's initramfs; built into it by
# dom0-image/installer/build.sh; README "The installer"). It finds the installation medium (the
# ISO: /xvps/appliance.img.zst), asks for the target disk, the network and the admin's e-mail (or
# reads them from the kernel command line: xvps.answers=KEY=VALUE,KEY=VALUE,...), checks them
# all before writing anything, then writes the appliance image to the disk, moves the backup GPT
# to the disk's end, adds the partition xvps-pool over the rest of the disk (the appliance's
# first boot makes the VG `xvps` and its thin pool there), writes the network configuration and
# the e-mail into the installed root filesystem (debugfs: no mount) and reboots.
#
#   xvps-install                 unattended when the kernel command line has xvps.answers=,
#                                else the interactive installer on ttyS0 and tty1
#   xvps-install --console DEV   the interactive installer on DEV (the first console where
#                                Enter is pressed wins; the other one says so)
#
# Answer keys: disk=/dev/NAME, net=dhcp|static, address=A.B.C.D/PREFIX, gateway=A.B.C.D,
# dns=A.B.C.D[+A.B.C.D...], email=ADDRESS, after=reboot|poweroff|halt (default reboot).
# Every line meant for a test starts with "xvps-installer:"; the last one is "DONE: ..." or
# "FAILED: ...".
export PATH=/usr/bin:/bin:/sbin
MEDIA=/media/xvps
ZST=$MEDIA/xvps/appliance.img.zst
MARGIN=$((2 * 1024 * 1024 * 1024)) # the least room for the VG beyond the image, in bytes
LVM_TYPE=E6D6D379-F507-44C2-A23C-238F2A3DF928

say() { printf 'xvps-installer: %s\n' "$*"; }
stop_forever() {
	say "the installer stops here; power the machine off (or reset it to start again)"
	while :; do sleep 3600; done
}

# --- the installation medium ------------------------------------------------------------------
find_media() {
	local d
	mkdir -p "$MEDIA"
	grep -q " $MEDIA " /proc/mounts && [ -f "$ZST" ] && return 0
	for _ in $(seq 30); do
		for d in /dev/sr* /dev/sd? /dev/vd? /dev/nvme?n? /dev/sd?? /dev/vd??; do
			[ -b "$d" ] || continue
			mount -t iso9660 -o ro "$d" "$MEDIA" 2>/dev/null || continue
			if [ -f "$ZST" ]; then
				MEDIA_DEV=${d#/dev/}
				return 0
			fi
			umount "$MEDIA"
		done
		sleep 1
	done
	return 1
}

# --- disks --------------------------------------------------------------------------------------
# disk_ok NAME: a whole disk that can be a target (not the medium, not read-only, no loop...).
disk_ok() {
	case $1 in loop* | ram* | sr* | fd* | zram* | dm-* | md*) return 1 ;; esac
	[ "$1" != "${MEDIA_DEV:-}" ] || return 1
	[ "$(cat "/sys/block/$1/ro" 2>/dev/null)" = 0 ] || return 1
	return 0
}
disk_bytes() { echo $(($(cat "/sys/block/$1/size") * 512)); }
disk_model() {
	local m
	m=$(sed 's/[[:space:]]*$//' "/sys/block/$1/device/model" 2>/dev/null)
	[ -n "$m" ] || case $1 in vd*) m="virtio disk" ;; *) m="(no model)" ;; esac
	echo "$m"
}
gib() { echo "$(($1 / 1073741824)).$(((($1 % 1073741824) * 10) / 1073741824))"; }
list_disks() {
	local s n found=0
	say "disks:"
	for s in /sys/block/*; do
		n=${s##*/}
		disk_ok "$n" || continue
		found=1
		say "  /dev/$n  $(gib "$(disk_bytes "$n")") GiB  $(disk_model "$n")"
	done
	[ "$found" = 1 ] || say "  (none)"
}

# --- checks (each sets ERR and fails) -----------------------------------------------------------
check_disk() {
	local n b
	case $1 in
	/dev/?*) n=${1#/dev/} ;;
	*)
		ERR="the disk is a device path such as /dev/sda, not '$1'"
		return 1
		;;
	esac
	if [ ! -b "$1" ] || [ ! -e "/sys/block/$n" ]; then
		ERR="no such disk: $1 (not a whole disk of this machine)"
		return 1
	fi
	if [ "$n" = "${MEDIA_DEV:-}" ]; then
		ERR="$1 is the installation medium"
		return 1
	fi
	disk_ok "$n" || {
		ERR="$1 cannot be a target (read-only or not a disk)"
		return 1
	}
	b=$(disk_bytes "$n")
	if [ "$b" -lt "$NEED" ]; then
		ERR="$1 is too small: $b bytes ($(gib "$b") GiB); the appliance needs at least $NEED bytes ($(gib "$NEED") GiB: its image and 2 GiB for the VPS storage)"
		return 1
	fi
	return 0
}
OCTET='(25[0-5]|2[0-4][0-9]|1[0-9][0-9]|[1-9]?[0-9])'
valid_ipv4() { echo "$1" | grep -Eq "^$OCTET(\\.$OCTET){3}\$"; }
check_address() {
	local a=${1%/*} p=${1##*/}
	case $1 in */*) ;; *)
		ERR="the static address needs a prefix length, e.g. 192.0.2.10/24: '$1'"
		return 1
		;;
	esac
	if ! valid_ipv4 "$a" || ! echo "$p" | grep -Eq '^([1-9]|[12][0-9]|3[0-2])$'; then
		ERR="the static address does not parse (A.B.C.D/PREFIX, prefix 1-32): '$1'"
		return 1
	fi
}
check_gateway() {
	valid_ipv4 "$1" && return 0
	ERR="the gateway does not parse (A.B.C.D): '$1'"
	return 1
}
check_dns() {
	local d
	for d in $(echo "$1" | tr '+' ' '); do
		valid_ipv4 "$d" || {
			ERR="a DNS server does not parse (A.B.C.D): '$d'"
			return 1
		}
	done
}
check_email() {
	if [ ${#1} -le 254 ] &&
		echo "$1" | grep -Eq '^[A-Za-z0-9._%+-]+@[A-Za-z0-9-]+(\.[A-Za-z0-9-]+)+$'; then
		return 0
	fi
	ERR="the admin e-mail address does not parse (name@example.net): '$1'"
	return 1
}
# check_all: every answer, before anything is written.
check_all() {
	[ -n "$DISK" ] || {
		ERR="no target disk (disk=/dev/NAME)"
		return 1
	}
	check_disk "$DISK" || return 1
	case $NET in
	dhcp) ;;
	static)
		check_address "$ADDRESS" || return 1
		check_gateway "$GATEWAY" || return 1
		check_dns "$DNS" || return 1
		;;
	*)
		ERR="the network is dhcp or static, not '$NET'"
		return 1
		;;
	esac
	check_email "$EMAIL" || return 1
	case $AFTER in reboot | poweroff | halt) ;; *)
		ERR="after= is reboot, poweroff or halt, not '$AFTER'"
		return 1
		;;
	esac
}

# --- the installation ---------------------------------------------------------------------------
# debugfs_write SRC DEST: SRC into the installed root filesystem as DEST (root:root, 0644).
DEBUGFS_CMDS=/tmp/debugfs.cmds
debugfs_write() {
	printf 'rm %s\nwrite %s %s\nsif %s uid 0\nsif %s gid 0\nsif %s mode 0100644\n' \
		"$2" "$1" "$2" "$2" "$2" "$2" >>"$DEBUGFS_CMDS"
}

install_now() {
	local t0 p4 rootfs f
	t0=$(date +%s)
	say "writing the appliance ($(gib "$IMG_BYTES") GiB) to $DISK"
	# Zeroes first (BLKZEROOUT: free on thin or sparse storage), then the image sparsely: no
	# block of an earlier system survives where the image has zeroes.
	# (util-linux's: busybox runs its own applets first, and its blkdiscard has no -z.)
	/usr/bin/blkdiscard -z -o 0 -l "$IMG_BYTES" "$DISK" || { say "FAILED: zeroing $DISK failed"; return 1; }
	zstd -d -q -f --sparse "$ZST" -o "$DISK" || { say "FAILED: writing the image to $DISK failed"; return 1; }
	sync
	say "image written in $(($(date +%s) - t0)) s"
	# The backup GPT to the disk's end, then xvps-pool over the rest (1 MiB aligned).
	sfdisk -q --no-reread --no-tell-kernel --relocate gpt-bak-std "$DISK" >/tmp/sfdisk.log 2>&1 ||
		{ say "FAILED: moving the backup GPT of $DISK: $(tail -1 /tmp/sfdisk.log)"; return 1; }
	echo "name=xvps-pool, type=$LVM_TYPE" |
		sfdisk -q --no-reread --no-tell-kernel --append "$DISK" >/tmp/sfdisk.log 2>&1 ||
		{ say "FAILED: adding the partition xvps-pool: $(tail -1 /tmp/sfdisk.log)"; return 1; }
	p4=$(sfdisk -d "$DISK" | sed -n 's/.*start= *\([0-9]*\),.*name="xvps-pool".*/\1/p')
	[ -n "$p4" ] || { say "FAILED: no partition xvps-pool after sfdisk"; return 1; }
	# (The image's old backup GPT lay where xvps-pool starts: no signature may stay there.)
	dd if=/dev/zero of="$DISK" bs=512 seek="$p4" count=2048 conv=notrunc,fsync 2>/dev/null
	blockdev --rereadpt "$DISK" 2>/dev/null
	say "partitions: $(sfdisk -d "$DISK" | sed -n 's/.*name="\(.*\)".*/\1/p' | tr '\n' ' ')(xvps-pool from sector $p4)"

	# The installed system's configuration.
	rootfs="$DISK?offset=$ROOT_OFFSET"
	mkdir -p /tmp/etc
	: >"$DEBUGFS_CMDS"
	{
		echo "# Written by the xvps installer ($(date -u +%FT%TZ)); read by xvps-firstboot."
		echo "XVPS_ADMIN_EMAIL=$EMAIL"
		echo "XVPS_INSTALL_NET=$NET"
	} >/tmp/etc/installer.env
	debugfs_write /tmp/etc/installer.env /etc/xvps/installer.env
	if [ "$NET" = static ]; then
		{
			echo "# Written by the xvps installer: the static address of the uplink bridge."
			echo "[Match]"
			echo "Name=xenbr0"
			echo
			echo "[Network]"
			echo "Address=$ADDRESS"
			echo "Gateway=$GATEWAY"
			for f in $(echo "$DNS" | tr '+' ' '); do echo "DNS=$f"; done
			echo "IPv6AcceptRA=yes"
		} >/tmp/etc/30-xenbr0.network
		debugfs_write /tmp/etc/30-xenbr0.network /etc/systemd/network/30-xenbr0.network
		: >/tmp/etc/resolv.conf
		for f in $(echo "$DNS" | tr '+' ' '); do echo "nameserver $f" >>/tmp/etc/resolv.conf; done
		[ -s /tmp/etc/resolv.conf ] && debugfs_write /tmp/etc/resolv.conf /etc/resolv.conf
	fi
	debugfs -w -f "$DEBUGFS_CMDS" "$rootfs" >/tmp/debugfs.log 2>&1
	f=$(debugfs -R 'cat /etc/xvps/installer.env' "$rootfs" 2>/dev/null | grep "^XVPS_ADMIN_EMAIL=")
	[ "$f" = "XVPS_ADMIN_EMAIL=$EMAIL" ] ||
		{ say "FAILED: writing the configuration into the installed system: $(tail -2 /tmp/debugfs.log | tr '\n' ' ')"; return 1; }
	sync
	say "DONE: xvps installed on $DISK ($(gib "$DISK_BYTES") GiB, network $NET, admin $EMAIL) in $(($(date +%s) - t0)) s; $AFTER"
	return 0
}

finish() {
	umount "$MEDIA" 2>/dev/null
	sync
	sleep 2
	case $AFTER in
	poweroff) poweroff -f ;;
	halt) halt -f ;;
	*) reboot -f ;;
	esac
	stop_forever
}

# --- unattended ---------------------------------------------------------------------------------
unattended() {
	local kv k v
	say "unattended installation: xvps.answers=$ANSWERS"
	for kv in $(echo "$ANSWERS" | tr ',' ' '); do
		k=${kv%%=*}
		v=${kv#*=}
		case $k in
		disk) DISK=$v ;;
		net) NET=$v ;;
		address) ADDRESS=$v ;;
		gateway) GATEWAY=$v ;;
		dns) DNS=$v ;;
		email) EMAIL=$v ;;
		after) AFTER=$v ;;
		*)
			say "FAILED: unknown answer key '$k' (disk, net, address, gateway, dns, email, after); nothing was written"
			stop_forever
			;;
		esac
	done
	list_disks
	if ! check_all; then
		say "FAILED: $ERR; nothing was written${DISK:+ to $DISK}"
		stop_forever
	fi
	DISK_BYTES=$(disk_bytes "${DISK#/dev/}")
	install_now || stop_forever
	finish
}

# --- interactive --------------------------------------------------------------------------------
ask() {
	printf '%s' "$1"
	read -r REPLY || REPLY=
}
interactive() {
	while :; do
		echo
		list_disks
		while :; do
			ask "Target disk (everything on it is erased), e.g. /dev/sda: "
			DISK=$REPLY
			check_disk "$DISK" && break
			say "error: $ERR"
		done
		while :; do
			ask "Network: dhcp or static [dhcp]: "
			NET=${REPLY:-dhcp}
			case $NET in dhcp | static) break ;; esac
			say "error: dhcp or static, not '$NET'"
		done
		if [ "$NET" = static ]; then
			while :; do
				ask "Address with prefix length (e.g. 192.0.2.10/24): "
				ADDRESS=$REPLY
				check_address "$ADDRESS" && break
				say "error: $ERR"
			done
			while :; do
				ask "Gateway (e.g. 192.0.2.1): "
				GATEWAY=$REPLY
				check_gateway "$GATEWAY" && break
				say "error: $ERR"
			done
			while :; do
				ask "DNS servers, separated by + (e.g. 192.0.2.53+198.51.100.53; empty: none): "
				DNS=$REPLY
				check_dns "$DNS" && break
				say "error: $ERR"
			done
		fi
		while :; do
			ask "Admin e-mail address: "
			EMAIL=$REPLY
			check_email "$EMAIL" && break
			say "error: $ERR"
		done
		check_all || {
			say "error: $ERR"
			continue
		}
		DISK_BYTES=$(disk_bytes "${DISK#/dev/}")
		echo
		say "disk $DISK ($(gib "$DISK_BYTES") GiB, $(disk_model "${DISK#/dev/}")), network $NET${ADDRESS:+ $ADDRESS via $GATEWAY}, admin $EMAIL"
		ask "Type yes to ERASE $DISK and install xvps (anything else: start over): "
		[ "$REPLY" = yes ] || continue
		if install_now; then
			finish
		fi
		say "the installation failed; the disk may be half written"
		ask "Press Enter to start over: "
	done
}

# --- main ---------------------------------------------------------------------------------------
DISK='' NET=dhcp ADDRESS='' GATEWAY='' DNS='' EMAIL='' AFTER=reboot ERR='' MEDIA_DEV=''
ANSWERS=$(tr ' ' '\n' </proc/cmdline | sed -n 's/^xvps\.answers=//p' | tail -1)
if [ "${1:-}" = --console ]; then
	stty -F "$2" 115200 2>/dev/null
	# shellcheck disable=SC2094 # a terminal: read and written
	exec <"$2" >"$2" 2>&1
	echo
	say "xvps installer on $2. Press Enter to install xvps from this console."
	read -r REPLY
	mkdir /run/xvps-install.lock 2>/dev/null || {
		say "the installer already runs on the other console"
		stop_forever
	}
fi
if [ -n "$ANSWERS" ] && [ -z "${XVPS_INSTALL_TEE:-}" ] && [ -c /dev/tty1 ]; then
	# Unattended: the lines on the serial console (the kernel's /dev/console) and on the screen.
	XVPS_INSTALL_TEE=1 sh /xvps-install 2>&1 | tee /dev/tty1
	stop_forever
fi
if ! find_media; then
	say "FAILED: no installation medium (an ISO 9660 device with /xvps/appliance.img.zst); nothing was written"
	stop_forever
fi
IMG_BYTES=$(cat "$MEDIA/xvps/appliance.size")
ROOT_OFFSET=$(cat "$MEDIA/xvps/root-offset")
NEED=$((IMG_BYTES + MARGIN))
say "medium /dev/$MEDIA_DEV: $(tr '\n' ' ' <"$MEDIA/xvps/build-info" 2>/dev/null)"
if [ -n "$ANSWERS" ]; then
	unattended
elif [ "${1:-}" = --console ]; then
	interactive
else
	# Both text consoles offer the installer; the first where Enter is pressed runs it.
	umount "$MEDIA" 2>/dev/null
	for c in /dev/ttyS0 /dev/tty1; do
		[ -c "$c" ] && setsid sh /xvps-install --console "$c" &
	done
	wait
	stop_forever
fi
