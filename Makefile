# xvps — top-level build. `make run` and `make test` are the two commands that matter; the
# README documents every target. Libraries come through pkg-config; dependencies are installed
# by scripts/deps.sh (apt-get; groups base, vm, appliance) when missing.

CC      ?= gcc
BUILD   ?= build
SAN     ?= 0
PKGS    := libmicrohttpd json-c sqlite3 libsodium gnutls libcurl liboath
AGENT_PKGS := json-c xlutil devmapper libnftables libnftnl libmnl libcurl
TEST_PKGS  := criterion libcurl yaml-0.1
CONSOLE_PKGS := libvncserver libvncclient vterm zlib

CFLAGS_BASE := -std=gnu17 -O2 -g -Wall -Wextra -Wformat=2 -Wshadow -Wno-unused-parameter \
	-fstack-protector-strong -D_FORTIFY_SOURCE=2 -D_GNU_SOURCE -pthread
ifeq ($(SAN),1)
CFLAGS_BASE := $(filter-out -O2 -D_FORTIFY_SOURCE=2,$(CFLAGS_BASE)) -O1 -Werror \
	-fsanitize=address,undefined -fno-sanitize-recover=all -fno-omit-frame-pointer
LDSAN := -fsanitize=address,undefined
endif
# The test-only fake clock (common/util.h now_unix, XVPS_TEST_CLOCK_FILE): compiled into the
# sanitizer build of `make test` (TEST_CLOCK defaults to SAN), never into the release build of
# `make`, `make bench` or the appliance (SAN=0).
TEST_CLOCK ?= $(SAN)
ifeq ($(TEST_CLOCK),1)
CFLAGS_BASE += -DXVPS_TEST_CLOCK
endif

pc_cflags = $(shell pkg-config --cflags $(1) 2>/dev/null)
pc_libs   = $(shell pkg-config --libs $(1) 2>/dev/null)

COMMON_SRC := $(wildcard common/*.c)
PANEL_SRC  := $(filter-out panel/main.c,$(wildcard panel/*.c))
# billing/: the usage ledger, host-free (sqlite3 only); xvpsd links it, the agent never does.
BILLING_SRC := $(wildcard billing/*.c)
AGENT_SRC  := $(filter-out provisioning/agent_main.c,$(wildcard provisioning/*.c)) \
	$(filter-out hypervisor/block_seed_main.c hypervisor/vif_hotplug_main.c hypervisor/hotplug_xs_real.c,$(wildcard hypervisor/*.c))
UNIT_SRC   := $(wildcard tests/unit/*.c)
API_SRC    := $(wildcard tests/api/*.c)
CONSOLE_SRC := $(filter-out hypervisor/console/main.c,$(wildcard hypervisor/console/*.c))

obj = $(patsubst %.c,$(BUILD)/obj/%.o,$(1))

ALL_CFLAGS := $(CFLAGS_BASE) $(call pc_cflags,$(PKGS) $(AGENT_PKGS) $(TEST_PKGS)) $(CFLAGS)
# wslay (the console websocket's framing) ships no .pc file; libresolv (libc's res_nquery: the
# reverse DNS forward check, panel/rdns_check.c) neither.
# libxcrypt (crypt_r, crypt_gensalt_rn: a VPS's root password hash, issue 16 item 2).
LIBS_PANEL := $(call pc_libs,$(PKGS) libxcrypt) -lwslay -lresolv
LIBS_AGENT := $(call pc_libs,$(AGENT_PKGS) json-c xencontrol) -lutil -lxenstat
LIBS_TEST  := $(call pc_libs,$(TEST_PKGS))
LIBS_CONSOLE := $(call pc_libs,$(CONSOLE_PKGS))
# common/sshkey.c (libsodium's base64): linked whole into every unit binary with libcommon.a.
LIBS_SSHKEY := $(call pc_libs,libsodium)

BINS := $(BUILD)/xvpsd $(BUILD)/xvps-agent $(BUILD)/xvps-simguest $(BUILD)/xvpsctl \
	$(BUILD)/xvps-console $(BUILD)/xvps-block-seed $(BUILD)/xvps-vif

.PHONY: all bins deps run test test-unit test-api bench clean format check-format check-layers
all: bins
bins: $(BINS)

$(BUILD)/obj/%.o: %.c
	@mkdir -p $(dir $@)
	$(CC) $(ALL_CFLAGS) -MMD -MP -c $< -o $@

# Static archives: a program pulls in only the objects it references.
$(BUILD)/libcommon.a: $(call obj,$(COMMON_SRC))
	@rm -f $@; ar rcs $@ $^
$(BUILD)/libpanel.a: $(call obj,$(PANEL_SRC))
	@rm -f $@; ar rcs $@ $^
$(BUILD)/libbilling.a: $(call obj,$(BILLING_SRC))
	@rm -f $@; ar rcs $@ $^
$(BUILD)/libagent.a: $(call obj,$(AGENT_SRC))
	@rm -f $@; ar rcs $@ $^
$(BUILD)/libconsole.a: $(call obj,$(CONSOLE_SRC))
	@rm -f $@; ar rcs $@ $^

$(BUILD)/xvpsd: $(call obj,panel/main.c) $(BUILD)/libpanel.a $(BUILD)/libbilling.a \
	$(BUILD)/libcommon.a
	$(CC) $(LDSAN) -pthread -o $@ $^ $(LIBS_PANEL) $(LDFLAGS)

$(BUILD)/xvps-agent: $(call obj,provisioning/agent_main.c) $(BUILD)/libagent.a $(BUILD)/libcommon.a
	$(CC) $(LDSAN) -pthread -o $@ $^ $(LIBS_AGENT) $(LDFLAGS)

$(BUILD)/xvps-simguest: $(call obj,$(wildcard hypervisor/simguest/*.c)) $(BUILD)/libcommon.a
	$(CC) $(LDSAN) -pthread -o $@ $^ $(call pc_libs,json-c) -lutil $(LDFLAGS)

# The seed disk's hotplug script for libxl (libxenstore; hypervisor/block_seed.h).
$(BUILD)/xvps-block-seed: $(call obj,hypervisor/block_seed_main.c hypervisor/block_seed.c hypervisor/hotplug_xs.c hypervisor/hotplug_xs_real.c) $(BUILD)/libcommon.a
	$(CC) $(LDSAN) -o $@ $^ $(call pc_libs,xenstore) $(LDFLAGS)

# The vif's hotplug script for libxl (libxenstore, rtnetlink; hypervisor/vif_hotplug.h).
$(BUILD)/xvps-vif: $(call obj,hypervisor/vif_hotplug_main.c hypervisor/vif_hotplug.c hypervisor/vif_link.c hypervisor/vif_nft.c hypervisor/hotplug_xs.c hypervisor/hotplug_xs_real.c) $(BUILD)/libcommon.a
	$(CC) $(LDSAN) -o $@ $^ $(call pc_libs,xenstore libnftnl libmnl) $(LDFLAGS)

# One domain's console as RFB on a unix socket (libvncserver, libvterm; hypervisor/console/).
$(BUILD)/xvps-console: $(call obj,hypervisor/console/main.c) $(BUILD)/libconsole.a $(BUILD)/libcommon.a
	$(CC) $(LDSAN) -pthread -o $@ $^ $(call pc_libs,$(CONSOLE_PKGS)) $(LDFLAGS)

# The admin CLI over the REST API (libcurl).
$(BUILD)/xvpsctl: $(call obj,$(wildcard panel/ctl/*.c)) $(BUILD)/libcommon.a
	$(CC) $(LDSAN) -pthread -o $@ $^ $(call pc_libs,libcurl json-c) $(LDFLAGS)

# The Criterion unit suites, one binary per layer (run one with --help for Criterion's options).
# A test file goes to the layer whose code it pins; each binary links its layer's archive and
# libcommon.a, plus another layer's archive only where a test needs it (below). Every archive
# of a unit binary is linked whole (--whole-archive): a name defined twice among them fails the
# link instead of the linker silently taking the first, and panel/ and hypervisor/console/ (the
# two halves of the console relay) are never linked into one binary.
#   unit-common   libcommon.a                              common/ (agent protocol, JSON, runner,
#                                                           validators)
#   unit-billing  libbilling.a                             billing/ (periods, the ledger's
#                                                           rollups on an in-memory SQLite)
#   unit-panel    libpanel.a libbilling.a libagent.a       panel/ (which calls billing/);
#                 libcommon.a                               libagent.a for the agent's
#                                                           spec_parse: test_ipam.c and
#                                                           test_jobs.c check that the spec the
#                                                           panel builds is one the agent accepts
#   unit-agent    libagent.a libconsole.a libcommon.a      provisioning/ + hypervisor/ drivers;
#                                                           libconsole.a for test_console_e2e.c,
#                                                           whose RFB viewer reads the glyphs with
#                                                           the console's font loader
#   unit-console  libconsole.a libagent.a libcommon.a      hypervisor/console/ (xvps-console);
#                                                           libagent.a for test_console.c's xl
#                                                           driver console_source case
# Every tests/unit/*.c must be in exactly one list: a new file is named here.
UNIT_COMMON_SRC  := test_agent_proto test_clock test_jsonutil test_runner test_validate test_sshkey
UNIT_BILLING_SRC := test_billing_period test_billing_ledger test_billing_quota test_billing_rating
UNIT_PANEL_SRC   := panel_testdb test_backup test_resize test_limits test_auth test_totp test_http_util test_http_cache test_http_park test_vps_json test_ipam test_jobs test_metering test_panel_console \
	test_quota test_guest_events test_store test_suspend test_quota_notify test_plan_history test_invoice \
	test_rdns test_guest_settings
UNIT_AGENT_SRC   := test_agent test_desired test_seed_loop test_block_seed test_vif_hotplug test_provision_cost test_resize_agent test_rescue test_console_e2e test_netcount test_netfilter test_seed test_seed_nocloud test_shaping test_tc_nl test_template_import \
	test_power test_sim test_simnet test_spec test_storage_file test_storage_lvm test_storage_outcome test_tpool_status \
	test_vps test_vps_net test_xl test_xl_cpu test_xlcfg fake_runner xl_fake sim_fixture agent_fixture
UNIT_CONSOLE_SRC := test_console test_console_vnc
UNIT_LISTED   := $(patsubst %,tests/unit/%.c,$(UNIT_COMMON_SRC) $(UNIT_BILLING_SRC) $(UNIT_PANEL_SRC) $(UNIT_AGENT_SRC) \
	$(UNIT_CONSOLE_SRC))
UNIT_UNLISTED := $(filter-out $(UNIT_LISTED),$(UNIT_SRC))
UNIT_MISSING  := $(filter-out $(UNIT_SRC),$(UNIT_LISTED))
UNIT_BINS := $(BUILD)/unit-common $(BUILD)/unit-billing $(BUILD)/unit-panel $(BUILD)/unit-agent $(BUILD)/unit-console
unit_obj = $(call obj,$(patsubst %,tests/unit/%.c,$(1)))
whole = -Wl,--whole-archive $(1) -Wl,--no-whole-archive
# $(call unit_link,ARCHIVES,LIBS): the link line of a unit binary (objects first).
unit_link = $(if $(UNIT_UNLISTED)$(UNIT_MISSING),$(error tests/unit: $(if $(UNIT_UNLISTED),\
	$(UNIT_UNLISTED) in no UNIT_*_SRC list of the Makefile)$(if $(UNIT_MISSING), \
	$(UNIT_MISSING) listed but missing)))$(CC) $(LDSAN) -pthread -o $@ \
	$(filter %.o,$^) $(call whole,$(1)) $(2) $(LIBS_TEST) $(LDFLAGS)

.PHONY: unit-bins
unit-bins: $(UNIT_BINS)

$(BUILD)/unit-common: $(call unit_obj,$(UNIT_COMMON_SRC)) $(BUILD)/libcommon.a
	$(call unit_link,$(BUILD)/libcommon.a,$(call pc_libs,json-c) $(LIBS_SSHKEY))

$(BUILD)/unit-billing: $(call unit_obj,$(UNIT_BILLING_SRC)) $(BUILD)/libbilling.a
	$(call unit_link,$(BUILD)/libbilling.a,$(call pc_libs,sqlite3))

$(BUILD)/unit-panel: $(call unit_obj,$(UNIT_PANEL_SRC)) $(BUILD)/libpanel.a $(BUILD)/libbilling.a \
	$(BUILD)/libagent.a $(BUILD)/libcommon.a
	$(call unit_link,$(BUILD)/libpanel.a $(BUILD)/libbilling.a $(BUILD)/libagent.a \
	$(BUILD)/libcommon.a,\
	$(LIBS_PANEL) $(LIBS_AGENT))

$(BUILD)/unit-agent: $(call unit_obj,$(UNIT_AGENT_SRC)) $(BUILD)/libagent.a $(BUILD)/libconsole.a \
	$(BUILD)/libcommon.a
	$(call unit_link,$(BUILD)/libagent.a $(BUILD)/libconsole.a $(BUILD)/libcommon.a,\
	$(LIBS_AGENT) $(LIBS_CONSOLE) $(LIBS_SSHKEY) $(call pc_libs,xenlight))

$(BUILD)/unit-console: $(call unit_obj,$(UNIT_CONSOLE_SRC)) $(BUILD)/libconsole.a \
	$(BUILD)/libagent.a $(BUILD)/libcommon.a
	$(call unit_link,$(BUILD)/libconsole.a $(BUILD)/libagent.a $(BUILD)/libcommon.a,\
	$(LIBS_CONSOLE) $(LIBS_AGENT) $(LIBS_SSHKEY))

# The API suite: Criterion + libcurl against a running xvpsd at $$XVPS_URL.
$(BUILD)/api-tests: $(call obj,$(API_SRC)) $(BUILD)/libcommon.a
	$(CC) $(LDSAN) -pthread -o $@ $^ $(call pc_libs,json-c libsodium sqlite3 liboath libxcrypt) $(LIBS_TEST) $(LDFLAGS)

# make bench's network part: chain apply cost vs host size, counter sweep CPU (tests/bench/).
$(BUILD)/xvps-netbench: $(call obj,tests/bench/netbench.c) $(BUILD)/libagent.a $(BUILD)/libcommon.a
	$(CC) $(LDSAN) -pthread -o $@ $^ $(LIBS_AGENT) $(LDFLAGS)

# make bench's usage ledger part: sweep write and rollup time, DB growth (tests/bench/).
$(BUILD)/xvps-ledgerbench: $(call obj,tests/bench/ledgerbench.c) $(BUILD)/libbilling.a
	$(CC) $(LDSAN) -pthread -o $@ $^ $(call pc_libs,sqlite3) $(LDFLAGS)

# make bench's invoice part: closing a period for 1,000 customers x 3 VPS (tests/bench/).
$(BUILD)/xvps-invoicebench: $(call obj,tests/bench/invoicebench.c) $(BUILD)/libpanel.a \
	$(BUILD)/libbilling.a $(BUILD)/libcommon.a
	$(CC) $(LDSAN) -pthread -o $@ $^ $(LIBS_PANEL) $(LDFLAGS)

# The packet tool of the real-kernel networking suite (tests/netns/run.sh).
$(BUILD)/xvps-nettest: $(call obj,$(wildcard tests/netns/*.c)) $(BUILD)/libcommon.a
	$(CC) $(LDSAN) -pthread -o $@ $^ $(call pc_libs,json-c) $(LDFLAGS)

deps:
	@scripts/deps.sh

# Builds and starts xvps-agent + xvpsd on the embedded default (sim, file, SQLite).
run: deps
	@$(MAKE) --no-print-directory bins
	@scripts/run.sh $(BUILD)

# In this order: deps, the layer check and its self-test, the format check (CHECK_FORMAT=0 skips
# it), the ASan+UBSan build, then scripts/test.sh: the unit binaries (one per layer), the
# OpenAPI check, reverse DNS against pdns_server (tests/rdns/), the real-kernel networking
# suite, the usage ledger's ground truth and the quota test with real packets, the browser suite, the curl/xvpsctl/HTTPS walks and the API
# suite (Criterion, last). The quick checks come first: they fail in seconds.
# The OpenAPI check (tests/openapi/, make test-openapi) runs after the unit binaries when the
# tree has it.
CHECK_FORMAT ?= 1
TEST_OPENAPI_BIN := $(if $(wildcard tests/openapi/routes_dump.c),build/asan/xvps-routes-dump)
test: deps
	@$(MAKE) --no-print-directory check-layers
	@$(if $(filter 0,$(CHECK_FORMAT)),echo "test: check-format skipped (CHECK_FORMAT=0)",$(MAKE) --no-print-directory check-format)
	@$(MAKE) --no-print-directory BUILD=build/asan SAN=1 bins unit-bins build/asan/api-tests \
		build/asan/xvps-nettest $(TEST_OPENAPI_BIN)
	@scripts/test.sh build/asan

test-unit: deps
	@$(MAKE) --no-print-directory BUILD=build/asan SAN=1 bins unit-bins
	@scripts/test.sh build/asan unit

# Reverse DNS against a throwaway pdns_server on loopback (tests/rdns/run.sh; also in make test).
.PHONY: test-rdns
test-rdns: deps
	@$(MAKE) --no-print-directory BUILD=build/asan SAN=1 bins
	@scripts/test.sh build/asan rdns

# Real-kernel networking suite (root, network namespaces; run.sh prints why it skips).
.PHONY: test-netns
test-netns: deps
	@$(MAKE) --no-print-directory BUILD=build/asan SAN=1 bins build/asan/xvps-nettest
	@scripts/test.sh build/asan netns

# The usage ledger against ground truth, then traffic quotas with real packets and the test-only
# fake clock (root, network namespaces; tests/netns/ledger.sh and quota.sh say why they skip).
.PHONY: test-ledger
test-ledger: deps
	@$(MAKE) --no-print-directory BUILD=build/asan SAN=1 bins build/asan/xvps-nettest
	@scripts/test.sh build/asan ledger

test-api: deps
	@$(MAKE) --no-print-directory BUILD=build/asan SAN=1 bins build/asan/api-tests
	@scripts/test.sh build/asan api

# The WHMCS server module under php-cli against its own throwaway agent + xvpsd
# (tests/whmcs/run.sh; also part of make test and make test-api).
.PHONY: test-whmcs
test-whmcs: deps
	@$(MAKE) --no-print-directory BUILD=build/asan SAN=1 bins
	@scripts/test.sh build/asan whmcs

# Browser tests: the same ASan build, then tests/browser/run.sh build/asan: npm ci of the
# pinned playwright-core (tests/browser/package-lock.json; skipped when node_modules holds that
# lock), a throwaway agent + xvpsd (XVPS_NET=off, console tokens living 3 s) seeded through the
# API, Debian's chromium headless driving the web UI and the consoles (tests/browser/test.mjs).
# Prints PASS/FAIL per case and `bench:` lines; screenshots go to build/asan/browser-shots/.
.PHONY: test-browser
test-browser: deps
	@$(MAKE) --no-print-directory BUILD=build/asan SAN=1 bins
	@scripts/test.sh build/asan browser

bench: deps
	@$(MAKE) --no-print-directory bins $(BUILD)/xvps-netbench $(BUILD)/xvps-ledgerbench \
		$(BUILD)/xvps-invoicebench
	@tests/bench/run.sh $(BUILD)

format:
	clang-format -i $$(git ls-files '*.c' '*.h')

# Fails (naming each file and line) when a tracked .c/.h differs from what `make format` makes.
check-format:
	@files=$$(git ls-files '*.c' '*.h') && [ -n "$$files" ] && \
	clang-format --dry-run --Werror $$files && echo "check-format: ok"

# The layers' rule on the sources' #include lines (and billing/ never calling the agent), then
# the check's own self-test on a copy of the tree with bad includes added (scripts/check-layers.sh).
check-layers:
	@scripts/check-layers.sh
	@scripts/check-layers.sh --self-test

clean:
	rm -rf build

# The man pages xvpsd(8), xvps-agent(8), xvpsctl(1) from their scdoc sources (docs/man/).
MAN_PAGES := $(BUILD)/man/xvpsd.8 $(BUILD)/man/xvps-agent.8 $(BUILD)/man/xvpsctl.1
.PHONY: man
man: $(MAN_PAGES)
$(BUILD)/man/%: docs/man/%.scd
	@mkdir -p $(dir $@)
	scdoc <$< >$@

# The Debian package (debian/): dpkg-buildpackage -us -uc -b in a copy of the tree under
# build/deb/src, the .deb, .buildinfo and .changes moved to build/deb/ (scripts/deb.sh).
.PHONY: deb test-deb
deb:
	@scripts/deps.sh base deb
	@scripts/deb.sh build

# make deb, lintian, then the .deb installed with apt in a fresh debootstrapped bookworm chroot
# (cached in build/deb/chroot-cache), xvpsd and the agent started there from the units' lines,
# the API checked, and the same .deb installed again as an upgrade (tests/deb/run.sh). Slow
# (minutes: the first run debootstraps), root, the Debian mirror: not part of `make test`.
test-deb: deb
	@tests/deb/run.sh

# Slower targets that boot QEMU VMs, each in its own fragment.
include tests/vm/vm.mk dom0-image/appliance.mk
include tests/openapi/openapi.mk

-include $(shell find $(BUILD)/obj -name '*.d' 2>/dev/null)
