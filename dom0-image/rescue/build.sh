#!/usr/bin/env bash
# dom0-image/rescue/build.sh — `make rescue-image`: the rescue system's raw disk image (issue 16
# item 3), built like the guest template by ../guest/build.sh with XVPS_GUEST_VARIANT=rescue
# (see there: disk tools, the seed on /dev/xvdc, root logged in on the console, xvps-chroot).
# The appliance installs it as /var/lib/xvps/templates/rescue.img; the agent imports it as its
# template "rescue" on the first rescue and gives each rescued VPS its own copy. Cached in
# ${XVPS_CACHE:-/var/cache/xvps}/rescue/ (rescue.img links to the newest); prints the image's
# path. Needs root and the Debian mirror.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
XVPS_GUEST_VARIANT=rescue exec "$here/../guest/build.sh" "$@"
