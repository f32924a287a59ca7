#!/usr/bin/env bash
# deps.sh [GROUP...] — installs the Debian bookworm packages of the named groups when any is
# missing: `apt-get update`, then one `apt-get install` of exactly the missing ones. Idempotent
# and quiet when everything is present. Needs root (or sudo) to install. Groups:
#   base       (the default) what xvps builds, runs and tests with (`make deps`, `make test`)
#   vm         QEMU, qemu-img, debootstrap, e2fsprogs for `make vm-test` (tests/vm/)
#   appliance  debootstrap, QEMU, e2fsprogs, GRUB (BIOS and UEFI), sfdisk, mkfs.fat, mtools,
#              OVMF, ... for `make appliance` / `appliance-run` (dom0-image/); xorriso,
#              busybox-static, zstd for `make installer` / `installer-test`
#   deb        debhelper, devscripts, lintian, scdoc, debootstrap for `make deb` / `make test-deb`
set -euo pipefail

pkgs=()
groups=("$@")
[ ${#groups[@]} -gt 0 ] || groups=(base)
for g in "${groups[@]}"; do
	case $g in
	base)
		pkgs+=(
			build-essential pkg-config make gcc
			libmicrohttpd-dev libjson-c-dev libsqlite3-dev sqlite3 libsodium-dev libgnutls28-dev
			libcriterion-dev libcurl4-gnutls-dev libyaml-dev mtools qemu-utils
			libvncserver-dev libvterm-dev libwslay-dev console-setup-linux
			libdevmapper-dev liblvm2-dev libxen-dev
			iproute2 iptables nftables libnftables-dev libnftnl-dev libmnl-dev curl jq wrk procps openssl clang-format python3
			novnc libjs-chart.js node-qrcode-generator chromium
			liboath-dev libcrypt-dev
			php-cli php-curl
			pdns-server pdns-backend-sqlite3 dnsutils
		)
		# Node (>= 18) for the browser tests' playwright-core: Debian's nodejs and npm only when
		# no node is installed at all (an existing one, e.g. from nodesource, is never replaced).
		command -v node >/dev/null 2>&1 || pkgs+=(nodejs npm)
		;;
	vm) pkgs+=(qemu-system-x86 qemu-utils debootstrap e2fsprogs) ;;
	appliance)
		pkgs+=(
			debootstrap debian-archive-keyring qemu-system-x86 qemu-utils e2fsprogs
			coreutils findutils gzip cpio curl
			grub-pc-bin grub-efi-amd64-bin grub-common fdisk dosfstools mtools ovmf
			xorriso busybox-static zstd util-linux jq
		)
		;;
	deb)
		pkgs+=(
			debhelper devscripts dpkg-dev fakeroot lintian scdoc debootstrap
			debian-archive-keyring sqlite3 curl jq
		)
		;;
	*)
		echo "deps: unknown group $g (base, vm, appliance, deb)" >&2
		exit 2
		;;
	esac
done

missing=()
for p in "${pkgs[@]}"; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
done
[ ${#missing[@]} -eq 0 ] && exit 0
mapfile -t missing < <(printf '%s\n' "${missing[@]}" | sort -u)
echo "deps (${groups[*]}): installing ${missing[*]}" >&2
SUDO=
[ "$(id -u)" -eq 0 ] || SUDO=sudo
export DEBIAN_FRONTEND=noninteractive
# Wait for another apt (e.g. an unattended upgrade) instead of failing at once.
apt=(apt-get -o DPkg::Lock::Timeout=900)
$SUDO "${apt[@]}" update -qq
$SUDO "${apt[@]}" install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
