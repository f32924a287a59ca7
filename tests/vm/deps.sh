#!/usr/bin/env bash
# deps.sh — installs the Debian bookworm packages `make vm-test` needs (QEMU, qemu-img,
# debootstrap, mkfs.ext4/debugfs) when any is missing, in the style of scripts/deps.sh.
# Idempotent and quiet when everything is present. Needs root (or sudo) to install.
set -euo pipefail
pkgs=(qemu-system-x86 qemu-utils debootstrap e2fsprogs)
missing=()
for p in "${pkgs[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
done
[ ${#missing[@]} -eq 0 ] && exit 0
echo "vm deps: installing ${missing[*]}" >&2
SUDO=
[ "$(id -u)" -eq 0 ] || SUDO=sudo
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
$SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
