#!/bin/bash
# clone_bench.sh — runs INSIDE the vm-test VM (tests/vm/run.sh tests/vm/clone_bench.sh; `make
# vm-bench`): how long a VPS disk takes to make from a 10 GiB template, the lvm driver's way (a
# thin snapshot: `lvcreate -kn -s`, no data copied) against a full copy (`dd` of the template
# into a new 10 GiB thin LV, what panels that copy images do), on the same thin pool, in the same
# VM. The template holds 1 GiB of written data (an OS image in a 10 GiB volume). Prints
# `bench:` lines and the ratio; asserts nothing. Uses only $XVPS_VM_DISK (an empty scratch disk,
# at least 24 GiB: run.sh takes XVPS_VM_DISK_SIZE).
set -euo pipefail
disk=${XVPS_VM_DISK:?no scratch disk}
vg=xvpsbench
now() { date +%s.%N; }
lvm() { command "$@" >/dev/null 2>&1; }

lvm pvcreate -ff -y "$disk"
lvm vgcreate "$vg" "$disk"
lvm lvcreate -y --type thin-pool -L 22G -n pool --zero y "$vg"
lvm lvcreate -y -V 10G -T "$vg/pool" -n tpl
# 1 GiB of data, not zeros (a thin pool keeps zero writes too, but real images are not zeros).
dd if=/dev/urandom of=/dev/$vg/tpl bs=4M count=256 oflag=direct status=none
lvm lvchange -pr "$vg/tpl"
sync

t0=$(now)
lvcreate -kn -prw -s -n clone "$vg/tpl" >/dev/null 2>&1
lvchange -ay -K "$vg/clone" >/dev/null 2>&1
t1=$(now)
thin=$(awk -v a="$t0" -v b="$t1" 'BEGIN{printf "%.3f", b-a}')

lvm lvcreate -y -V 10G -T "$vg/pool" -n copy
t0=$(now)
dd if=/dev/$vg/tpl of=/dev/$vg/copy bs=4M oflag=direct status=none
sync
t1=$(now)
full=$(awk -v a="$t0" -v b="$t1" 'BEGIN{printf "%.3f", b-a}')

echo "bench: vm_clone_thin_snapshot_10gib $thin s (lvcreate -kn -s + activate; template 10 GiB, 1 GiB written)"
echo "bench: vm_clone_full_dd_10gib $full s (dd bs=4M of the same template into a new thin LV)"
awk -v a="$thin" -v b="$full" 'BEGIN{printf "bench: vm_clone_full_over_thin %.1f x (same VM, same pool, under TCG)\n", b/a}'
lvs --units g -o lv_name,lv_size,data_percent "$vg" 2>/dev/null | sed 's/^/bench-info: /'

lvm lvremove -y "$vg"
lvm vgremove -y "$vg"
lvm pvremove -y "$disk"
