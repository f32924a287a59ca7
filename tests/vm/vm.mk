# tests/vm/vm.mk — `make vm-test`: the LVM driver's integration tests inside a QEMU VM
# (Debian kernel under TCG, no Xen). Filled in with the lvm storage driver (issue 5).
