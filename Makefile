# xvps — top-level build. `make run` and `make test` are the two commands that matter; the
# README documents every target. Libraries come through pkg-config; dependencies are installed
# by scripts/deps.sh (apt-get) when missing.

CC      ?= gcc
BUILD   ?= build
SAN     ?= 0
PKGS    := libmicrohttpd json-c sqlite3 libsodium gnutls
AGENT_PKGS := json-c xlutil devmapper
TEST_PKGS  := criterion libcurl
CONSOLE_PKGS := libvncserver libvncclient vterm zlib

CFLAGS_BASE := -std=gnu17 -O2 -g -Wall -Wextra -Wformat=2 -Wshadow -Wno-unused-parameter \
	-fstack-protector-strong -D_FORTIFY_SOURCE=2 -D_GNU_SOURCE -pthread
ifeq ($(SAN),1)
CFLAGS_BASE := $(filter-out -O2 -D_FORTIFY_SOURCE=2,$(CFLAGS_BASE)) -O1 -Werror \
	-fsanitize=address,undefined -fno-sanitize-recover=all -fno-omit-frame-pointer
LDSAN := -fsanitize=address,undefined
endif

pc_cflags = $(shell pkg-config --cflags $(1) 2>/dev/null)
pc_libs   = $(shell pkg-config --libs $(1) 2>/dev/null)

COMMON_SRC := $(wildcard common/*.c)
PANEL_SRC  := $(filter-out panel/main.c,$(wildcard panel/*.c)) $(wildcard billing/*.c)
AGENT_SRC  := $(filter-out provisioning/agent_main.c,$(wildcard provisioning/*.c)) \
	$(wildcard hypervisor/*.c)
UNIT_SRC   := $(wildcard tests/unit/*.c)
API_SRC    := $(wildcard tests/api/*.c)
CONSOLE_SRC := $(filter-out hypervisor/console/main.c,$(wildcard hypervisor/console/*.c))

obj = $(patsubst %.c,$(BUILD)/obj/%.o,$(1))

ALL_CFLAGS := $(CFLAGS_BASE) $(call pc_cflags,$(PKGS) $(AGENT_PKGS) $(TEST_PKGS)) $(CFLAGS)
# wslay (the console websocket's framing) ships no .pc file.
LIBS_PANEL := $(call pc_libs,$(PKGS)) -lwslay
LIBS_AGENT := $(call pc_libs,$(AGENT_PKGS) json-c) -lutil -lxenstat
LIBS_TEST  := $(call pc_libs,$(TEST_PKGS))
LIBS_CONSOLE := $(call pc_libs,$(CONSOLE_PKGS))

BINS := $(BUILD)/xvpsd $(BUILD)/xvps-agent $(BUILD)/xvps-simguest $(BUILD)/xvpsctl \
	$(BUILD)/xvps-console

.PHONY: all bins deps run test test-unit test-api bench clean format check-format
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
$(BUILD)/libagent.a: $(call obj,$(AGENT_SRC))
	@rm -f $@; ar rcs $@ $^
$(BUILD)/libconsole.a: $(call obj,$(CONSOLE_SRC))
	@rm -f $@; ar rcs $@ $^

$(BUILD)/xvpsd: $(call obj,panel/main.c) $(BUILD)/libpanel.a $(BUILD)/libcommon.a
	$(CC) $(LDSAN) -pthread -o $@ $^ $(LIBS_PANEL) $(LDFLAGS)

$(BUILD)/xvps-agent: $(call obj,provisioning/agent_main.c) $(BUILD)/libagent.a $(BUILD)/libcommon.a
	$(CC) $(LDSAN) -pthread -o $@ $^ $(LIBS_AGENT) $(LDFLAGS)

$(BUILD)/xvps-simguest: $(call obj,$(wildcard hypervisor/simguest/*.c)) $(BUILD)/libcommon.a
	$(CC) $(LDSAN) -pthread -o $@ $^ $(call pc_libs,json-c) -lutil $(LDFLAGS)

# One domain's console as RFB on a unix socket (libvncserver, libvterm; hypervisor/console/).
$(BUILD)/xvps-console: $(call obj,hypervisor/console/main.c) $(BUILD)/libconsole.a $(BUILD)/libcommon.a
	$(CC) $(LDSAN) -pthread -o $@ $^ $(call pc_libs,$(CONSOLE_PKGS)) $(LDFLAGS)

# The admin CLI over the REST API (libcurl).
$(BUILD)/xvpsctl: $(call obj,panel/ctl/xvpsctl.c) $(BUILD)/libcommon.a
	$(CC) $(LDSAN) -pthread -o $@ $^ $(call pc_libs,libcurl json-c) $(LDFLAGS)

# All Criterion unit suites in one binary (run with --help for Criterion's options).
$(BUILD)/unit-tests: $(call obj,$(UNIT_SRC)) $(BUILD)/libpanel.a $(BUILD)/libagent.a \
	$(BUILD)/libconsole.a $(BUILD)/libcommon.a
	$(CC) $(LDSAN) -pthread -o $@ $^ $(LIBS_PANEL) $(LIBS_AGENT) $(LIBS_CONSOLE) $(LIBS_TEST) \
	$(LDFLAGS)

# The API suite: Criterion + libcurl against a running xvpsd at $$XVPS_URL.
$(BUILD)/api-tests: $(call obj,$(API_SRC)) $(BUILD)/libcommon.a
	$(CC) $(LDSAN) -pthread -o $@ $^ $(call pc_libs,json-c libsodium) $(LIBS_TEST) $(LDFLAGS)

# make bench's network part: chain apply cost vs host size, counter sweep CPU (tests/bench/).
$(BUILD)/xvps-netbench: $(call obj,tests/bench/netbench.c) $(BUILD)/libagent.a $(BUILD)/libcommon.a
	$(CC) $(LDSAN) -pthread -o $@ $^ $(LIBS_AGENT) $(LDFLAGS)

# The packet tool of the real-kernel networking suite (tests/netns/run.sh).
$(BUILD)/xvps-nettest: $(call obj,$(wildcard tests/netns/*.c)) $(BUILD)/libcommon.a
	$(CC) $(LDSAN) -pthread -o $@ $^ $(call pc_libs,json-c) $(LDFLAGS)

deps:
	@scripts/deps.sh

# Builds and starts xvps-agent + xvpsd on the embedded default (sim, file, SQLite).
run: deps
	@$(MAKE) --no-print-directory bins
	@scripts/run.sh $(BUILD)

# ASan+UBSan build, Criterion unit suites, the curl walk and the API suite (Criterion, last).
test: deps
	@$(MAKE) --no-print-directory BUILD=build/asan SAN=1 bins build/asan/unit-tests build/asan/api-tests build/asan/xvps-nettest
	@scripts/test.sh build/asan

test-unit: deps
	@$(MAKE) --no-print-directory BUILD=build/asan SAN=1 bins build/asan/unit-tests
	@scripts/test.sh build/asan unit

# Real-kernel networking suite (root, network namespaces; run.sh prints why it skips).
.PHONY: test-netns
test-netns: deps
	@$(MAKE) --no-print-directory BUILD=build/asan SAN=1 bins build/asan/xvps-nettest
	@scripts/test.sh build/asan netns

test-api: deps
	@$(MAKE) --no-print-directory BUILD=build/asan SAN=1 bins build/asan/api-tests
	@scripts/test.sh build/asan api

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
	@$(MAKE) --no-print-directory bins $(BUILD)/xvps-netbench
	@tests/bench/run.sh $(BUILD)

format:
	clang-format -i $$(git ls-files '*.c' '*.h')

check-format:
	clang-format --dry-run --Werror $$(git ls-files '*.c' '*.h')

clean:
	rm -rf build

# Slower targets that boot QEMU VMs, each in its own fragment.
include tests/vm/vm.mk dom0-image/appliance.mk
include tests/openapi/openapi.mk

-include $(shell find $(BUILD)/obj -name '*.d' 2>/dev/null)
