#!/usr/bin/env bash
# deps.sh — installs the Debian bookworm packages xvps builds, runs and tests with, when any is
# missing. Idempotent and quiet when everything is present. Needs root (or sudo) to install.
set -euo pipefail
pkgs=(
  build-essential pkg-config make gcc
  libmicrohttpd-dev libjson-c-dev libsqlite3-dev sqlite3 libsodium-dev libgnutls28-dev
  libcriterion-dev libcurl4-gnutls-dev
  libvncserver-dev libvterm-dev libwslay-dev console-setup-linux
  libdevmapper-dev liblvm2-dev libxen-dev
  iproute2 iptables curl jq wrk procps openssl
  novnc chromium
)
# Node (>= 18) for the browser tests' playwright-core: Debian's nodejs and npm only when no
# node is installed at all (an existing one, e.g. from nodesource, is never replaced).
command -v node >/dev/null 2>&1 || pkgs+=(nodejs npm)
missing=()
for p in "${pkgs[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
done
[ ${#missing[@]} -eq 0 ] && exit 0
echo "deps: installing ${missing[*]}" >&2
SUDO=
[ "$(id -u)" -eq 0 ] || SUDO=sudo
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
$SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
