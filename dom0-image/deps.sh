#!/usr/bin/env bash
# dom0-image/deps.sh — installs the Debian bookworm host packages `make appliance` and
# `make appliance-run` need (debootstrap, QEMU, e2fsprogs, …) when any is missing. Same style
# as scripts/deps.sh: idempotent, quiet when everything is present, root (or sudo) to install.
set -euo pipefail
pkgs=(
  debootstrap debian-archive-keyring qemu-system-x86 qemu-utils e2fsprogs
  coreutils findutils gzip cpio curl
)
missing=()
for p in "${pkgs[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
done
[ ${#missing[@]} -eq 0 ] && exit 0
echo "appliance deps: installing ${missing[*]}" >&2
SUDO=
[ "$(id -u)" -eq 0 ] || SUDO=sudo
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get -o DPkg::Lock::Timeout=900 update -qq
$SUDO apt-get -o DPkg::Lock::Timeout=900 install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
