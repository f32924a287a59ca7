# dom0-image/appliance.mk — `make appliance` (the Xen 4.17 + Debian bookworm dom0 disk image,
# bootable with GRUB on BIOS and UEFI, cached in $${XVPS_CACHE:-/var/cache/xvps}/appliance/ or
# $$XVPS_APPLIANCE_DIR) and `make appliance-run` (boots it from its GRUB in QEMU under TCG).
# Host packages through `scripts/deps.sh appliance`; xvps goes in as its Debian package
# (`make deb`: build/deb/xvps_VERSION_amd64.deb, installed in the image with apt).

.PHONY: appliance appliance-run appliance-deps
appliance-deps:
	@scripts/deps.sh appliance

appliance: deps appliance-deps deb
	@dom0-image/build.sh "$$(ls build/deb/xvps_*_amd64.deb)"

# Builds (or reuses) the image, then boots it; `make appliance-run ARGS=--detach` runs QEMU in
# the background (dom0-image/run.sh --stop ends it).
appliance-run: appliance
	@dom0-image/run.sh $(ARGS)

# Boots the image (fresh disks, kernel options xvps.autologin xvps.testshell) and drives the real
# HTTPS API from 127.0.0.1 through a VPS's life, checking dom0 at every step; retries the boot
# up to 3 times (TCG). `ARGS=--bench` adds bench: lines, `ARGS=--keep` leaves QEMU running.
# Not part of `make test` or CI: it needs the appliance image and ~15-30 min of TCG.
# One run at a time on this machine (the image, the run/ disks and the HTTPS port are shared):
# the lock covers the image build and the run; a second run fails at once, naming the lock.
# XVPS_APPLIANCE_DIR (another image and run/ directory) has its own lock.
APPLIANCE_DIR = $${XVPS_APPLIANCE_DIR:-$${XVPS_CACHE:-/var/cache/xvps}/appliance}
APPLIANCE_LOCK = $(APPLIANCE_DIR)/test.lock
.PHONY: appliance-test appliance-test-locked
appliance-test:
	@mkdir -p "$(APPLIANCE_DIR)"
	@flock -n -E 75 "$(APPLIANCE_LOCK)" $(MAKE) --no-print-directory appliance-test-locked \
		ARGS="$(ARGS)" || { rc=$$?; [ $$rc != 75 ] || \
		echo "appliance-test: another run holds $(APPLIANCE_LOCK)" >&2; exit $$rc; }
appliance-test-locked: appliance
	@XVPS_APPLIANCE_LOCKED=1 tests/appliance/run.sh $(ARGS)

# The guest template: a raw ext4 disk image of a minimal Debian bookworm guest (pvgrub-bootable,
# xvps-seed inside), cached in $${XVPS_CACHE:-/var/cache/xvps}/guest/ and keyed on its inputs;
# prints the image path. Needs root and the Debian mirror.
.PHONY: guest-template guest-seed-test rescue-image
guest-template: appliance-deps
	@dom0-image/guest/build.sh

# The cloud-init guest (issue 16 item 7): a debootstrapped bookworm image with Debian's
# cloud-init (NoCloud only, netplan renderer) and no xvps code, pvgrub-bootable; cached in
# $${XVPS_CACHE:-/var/cache/xvps}/cloud/; prints the image path. Needs root and the Debian mirror.
.PHONY: cloud-template
cloud-template: appliance-deps
	@dom0-image/cloud/build.sh

# The rescue image (issue 16 item 3): the guest template's build with XVPS_GUEST_VARIANT=rescue
# (disk tools, seed on xvdc, root on the console), cached in $${XVPS_CACHE:-/var/cache/xvps}/rescue/;
# prints the image path. `make appliance` installs it as /var/lib/xvps/templates/rescue.img.
rescue-image: appliance-deps
	@dom0-image/rescue/build.sh

# The guest's seed parser against seeds from the agent's real writer (no root, no VM).
guest-seed-test: deps
	@$(MAKE) --no-print-directory BUILD=build/asan SAN=1 bins
	@tests/guest/seed_test.sh build/asan

# The installer (issue 15 item 3): a hybrid ISO (BIOS and UEFI, grub-mkrescue/xorriso) that
# installs the appliance image of `make appliance` onto a disk, asking on the text console or
# unattended (xvps.answers= on the kernel command line; README "The installer"). Cached next to
# the image (xvps-installer.iso) and in $${XVPS_CACHE:-/var/cache/xvps}/installer/; prints its path.
.PHONY: installer installer-test installer-test-locked
installer: appliance
	@dom0-image/installer/build.sh

# Boots the ISO in QEMU (TCG, SeaBIOS; XVPS_INSTALLER_FIRMWARE=ovmf for UEFI): four bad-input
# cases (nothing written), an unattended install onto an empty 40 GiB sparse disk, then that disk
# from its own GRUB (/healthz, the thin pool's size, the admin's e-mail). Not in `make test`:
# ~15-25 min of TCG. Holds the machine's QEMU lock (the shared appliance/test.lock of
# $${XVPS_CACHE:-/var/cache/xvps}); a second run fails at once, naming it
# (installer-test-locked: the caller holds it, e.g. under flock).
INSTALLER_LOCK = $${XVPS_CACHE:-/var/cache/xvps}/appliance/test.lock
installer-test:
	@mkdir -p "$$(dirname "$(INSTALLER_LOCK)")"
	@flock -n -E 75 "$(INSTALLER_LOCK)" $(MAKE) --no-print-directory installer-test-locked || \
		{ rc=$$?; [ $$rc != 75 ] || echo "installer-test: another run holds $(INSTALLER_LOCK)" >&2; exit $$rc; }
installer-test-locked: installer
	@XVPS_INSTALLER_LOCKED=1 tests/installer/run.sh
