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
