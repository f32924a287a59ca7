#!/usr/bin/env bash
# record.sh [DEST] — records real LVM outputs for the unit tests: boots the vm-test VM
# (tests/vm/run.sh) with tests/vm/record-lvm.sh as the payload and copies what it wrote into
# DEST (default tests/unit/data/lvm/recorded/), plus SOURCE.txt saying how and when.
# Uses the image cached for build/asan/xvps-vmtest when that binary exists (same libraries).
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
repo=$(cd "$here/../.." && pwd)
dest=${1:-$repo/tests/unit/data/lvm/recorded}
tmp=$(mktemp -d "${TMPDIR:-/tmp}/xvps-record.XXXXXX")
trap 'rm -rf "$tmp"' EXIT
libs=
[ ! -x "$repo/build/asan/xvps-vmtest" ] || libs=$repo/build/asan/xvps-vmtest
rc=0
XVPS_VM_OUTDIR=$tmp XVPS_VM_LIBS_OF=$libs XVPS_VM_LOG=$repo/build/vm-record.log \
	"$here/run.sh" "$here/record-lvm.sh" || rc=$?
[ -d "$tmp/out" ] && [ -f "$tmp/out/versions.txt" ] || { echo "record: nothing recorded" >&2; exit 1; }
mkdir -p "$dest"
find "$dest" -mindepth 1 -maxdepth 1 ! -name SOURCE.txt -delete
cp "$tmp/out"/* "$dest/"
{
	cat <<'TXT'
Real LVM outputs for the lvm storage driver's unit tests (provisioning/storage_lvm.c).

How: `tests/vm/record.sh` boots the `make vm-test` VM (tests/vm/run.sh: Debian bookworm,
its kernel under QEMU TCG, no Xen, an empty sparse 8 GiB virtio disk) with
tests/vm/record-lvm.sh as the payload. That script makes PV + VG "xvps" + a 1 GiB thin pool
"pool" on the empty disk, a read-only 2 GiB template thin LV "xvpstpl-debian12" (tag
xvps-template, 64 MiB written), a disk "xvps-vm1" as the driver makes it
(`lvcreate -kn -prw -s -n xvps-vm1 xvps/xvpstpl-debian12`, 16 MiB written), and runs each
command listed in commands.txt; for each NAME: NAME.json / NAME.txt = stdout, NAME.stderr =
stderr (absent when empty), NAME.rc = exit status. Later in the run it over-commits the pool
(xvps-vm2, 4 GiB), sets --errorwhenfull y, fills the pool with dd (dd-fill.stderr), and
records the "-full" files; then removes everything.
Re-record: `tests/vm/record.sh` (needs root; rewrites every file here but this one's body).

TXT
	echo "Run of $(date -u +%Y-%m-%d) (record.sh exit status $rc); versions.txt from inside the VM:"
	sed 's/^/  /' "$dest/versions.txt"
} >"$dest/SOURCE.txt"
echo "record: $(ls "$dest" | wc -l) files in $dest" >&2
exit "$rc"
