#!/bin/bash
# record-lvm.sh — runs INSIDE the vm-test VM (tests/vm/record.sh sends it through run.sh):
# builds VG "xvps" with thin pool "pool" on the empty $XVPS_VM_DISK and records real LVM
# outputs (stdout, stderr, exit status of each command) into $XVPS_VM_OUT, for the unit tests'
# fixtures (tests/unit/data/lvm/recorded/). Names follow the lvm driver
# (provisioning/storage_lvm.c): template "xvpstpl-debian12" (read-only thin LV), disks are
# thin snapshots of it named like the domain ("xvps-vm1").
set -u
export LC_ALL=C
out=${XVPS_VM_OUT:?}
disk=${XVPS_VM_DISK:?}
mkdir -p "$out"
fail=0

# rec NAME EXT CMD… — CMD's stdout in NAME.EXT, stderr in NAME.stderr (only when not empty),
# exit status in NAME.rc; the command line goes to commands.txt.
rec() {
	local name=$1 ext=$2
	shift 2
	echo "$name: $*" >>"$out/commands.txt"
	"$@" >"$out/$name.$ext" 2>"$out/$name.stderr"
	echo $? >"$out/$name.rc"
	[ -s "$out/$name.stderr" ] || rm -f "$out/$name.stderr"
	[ -s "$out/$name.$ext" ] || rm -f "$out/$name.$ext"
	echo "== $name: rc $(cat "$out/$name.rc")"
}
must() { "$@" || { echo "record-lvm: FAILED: $*"; fail=1; }; }

LVS_OPTS=(--reportformat json --units b --nosuffix)
BRIEF=lv_name,lv_size,lv_attr,pool_lv,origin,data_percent,metadata_percent,lv_tags
DRIVER=lv_name,lv_attr,lv_size,pool_lv,segtype,data_percent,metadata_percent,discards

{
	echo "recorded: $(date -u +%Y-%m-%dT%H:%M:%SZ)"
	echo "kernel: $(uname -r)"
	lvm version
	dpkg-query -W -f='${Package} ${Version}\n' lvm2 dmsetup thin-provisioning-tools
	echo "disk: $disk, $(blockdev --getsize64 "$disk") bytes"
} >"$out/versions.txt" 2>&1

rec pvcreate txt pvcreate -y "$disk"
rec vgcreate txt vgcreate xvps "$disk"
rec lvcreate-thin-pool txt lvcreate -y --type thin-pool -L 1g -n pool xvps
# The template: 2 GiB virtual in a 1 GiB pool, so LVM warns about over-commit.
rec lvcreate-thin-overcommitted txt lvcreate -V 2g -T xvps/pool -n xvpstpl-debian12
must dd if=/dev/urandom of=/dev/xvps/xvpstpl-debian12 bs=1M count=64 oflag=direct status=none
must lvchange -pr --addtag xvps-template xvps/xvpstpl-debian12
# A disk, exactly as the driver makes one (lvcreate -kn -prw -s -n NAME VG/TEMPLATE).
rec lvcreate-snapshot txt lvcreate -kn -prw -s -n xvps-vm1 xvps/xvpstpl-debian12
must dd if=/dev/urandom of=/dev/xvps/xvps-vm1 bs=1M count=16 seek=100 oflag=direct status=none
must sync

rec lvs-pool-template-snapshot json lvs "${LVS_OPTS[@]}" -o "$BRIEF" xvps
rec lvs-a-pool-template-snapshot json lvs -a "${LVS_OPTS[@]}" -o "$BRIEF" xvps
rec lvs-driver-fields json lvs "${LVS_OPTS[@]}" -o "$DRIVER" xvps
rec vgs json vgs "${LVS_OPTS[@]}" xvps
rec vgs-all json vgs "${LVS_OPTS[@]}"
rec dmsetup-status-tpool txt dmsetup status xvps-pool-tpool
rec dmsetup-table-tpool txt dmsetup table xvps-pool-tpool
rec dmsetup-status-all txt dmsetup status
rec lvs-missing-vg json lvs "${LVS_OPTS[@]}" -o "$BRIEF" xvps-missing
rec lvs-missing-lv json lvs "${LVS_OPTS[@]}" -o "$BRIEF" xvps/absent
rec lvremove-absent txt lvremove -y xvps/absent
rec lvremove-missing-vg txt lvremove -y xvps-missing/absent
rec lvcreate-exists txt lvcreate -kn -prw -s -n xvps-vm1 xvps/xvpstpl-debian12
rec lvcreate-snapshot-brief-form txt lvcreate -kn -s -n x xvps/xvpstpl-debian12
rec lvremove-snapshot txt lvremove -y xvps/x
# Over-commit again: 4 GiB more virtual in the 1 GiB pool (warns, succeeds).
rec lvcreate-thin-overcommitted-more txt lvcreate -V 4g -T xvps/pool -n xvps-vm2
rec lvextend-thin txt lvextend -L 3g xvps/xvps-vm1

# Fill the pool: errors instead of queueing when full, then write until ENOSPC.
rec lvchange-errorwhenfull txt lvchange --errorwhenfull y xvps/pool
dd if=/dev/zero of=/dev/xvps/xvps-vm2 bs=1M oflag=direct status=none 2>"$out/dd-fill.stderr"
echo "== dd fill: rc $?"
sync
rec lvs-pool-full json lvs "${LVS_OPTS[@]}" -o "$BRIEF" xvps
rec dmsetup-status-tpool-full txt dmsetup status xvps-pool-tpool
rec lvcreate-thin-pool-full txt lvcreate -V 1g -T xvps/pool -n xvps-vm3
rec lvcreate-snapshot-pool-full txt lvcreate -kn -prw -s -n xvps-vm4 xvps/xvpstpl-debian12
rec lvs-a-pool-full json lvs -a "${LVS_OPTS[@]}" -o "$BRIEF" xvps

rec lvremove-vg-lvs txt lvremove -y xvps/xvps-vm2 xvps/xvps-vm1
rec vgremove txt vgremove -y xvps
rec pvremove txt pvremove -y "$disk"
ls -l "$out"
exit $fail
