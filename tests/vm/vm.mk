# tests/vm/vm.mk — `make vm-test`: the LVM driver's integration tests inside a QEMU VM
# (a Debian bookworm kernel under TCG, no Xen, real LVM on a scratch virtio disk).
# `scripts/deps.sh vm` installs QEMU, qemu-img, debootstrap and e2fsprogs; tests/vm/image.sh builds
# (once, cached in $${XVPS_CACHE:-/var/cache/xvps}/vm/) the VM's root image; tests/vm/run.sh
# boots it with the test binary on a payload disk and exits with the binary's status.
# Flavour: the ASan+UBSan build, like `make test`. XVPS_VM_TIMEOUT (seconds, default 900).

VM_SRC := $(wildcard tests/vm/*.c)

# All tests/vm/*.c suites in one Criterion binary (XVPS_VM_DISK names the scratch disk).
$(BUILD)/xvps-vmtest: $(call obj,$(VM_SRC)) $(BUILD)/libagent.a $(BUILD)/libcommon.a
	$(CC) $(LDSAN) -pthread -o $@ $^ $(LIBS_AGENT) $(LIBS_TEST) $(LDFLAGS)

.PHONY: vm-test vm-deps
vm-deps:
	@scripts/deps.sh vm

vm-test: deps vm-deps
	@$(MAKE) --no-print-directory BUILD=build/asan SAN=1 build/asan/xvps-vmtest
	@tests/vm/run.sh build/asan/xvps-vmtest

# Re-records the real LVM outputs the unit tests use (tests/unit/data/lvm/recorded/, SOURCE.txt).
.PHONY: vm-record
vm-record: deps vm-deps
	@$(MAKE) --no-print-directory BUILD=build/asan SAN=1 build/asan/xvps-vmtest
	@tests/vm/record.sh

# Thin snapshot vs full dd copy of a 10 GiB template, in the VM (tests/vm/clone_bench.sh): prints
# `bench:` lines. Reuses the vm-test image (same libraries), a 24 GiB sparse scratch disk.
.PHONY: vm-bench
vm-bench: deps vm-deps
	@$(MAKE) --no-print-directory BUILD=build/asan SAN=1 build/asan/xvps-vmtest
	@XVPS_VM_DISK_SIZE=24G XVPS_VM_LIBS_OF=build/asan/xvps-vmtest XVPS_VM_LOG=build/vm-bench.log \
		tests/vm/run.sh tests/vm/clone_bench.sh
