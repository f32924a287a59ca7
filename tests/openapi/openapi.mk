# make test-openapi: docs/openapi.yaml validated by a pinned OpenAPI 3.1 validator and held
# against the router (tests/openapi/run.sh). Included by the top-level Makefile.

# Prints every METHOD PATTERN of panel/routes.c's table (tests/openapi/routes_dump.c).
$(BUILD)/xvps-routes-dump: $(call obj,tests/openapi/routes_dump.c) $(BUILD)/libpanel.a $(BUILD)/libbilling.a \
	$(BUILD)/libcommon.a
	$(CC) $(LDSAN) -pthread -o $@ $^ $(LIBS_PANEL) $(LDFLAGS)

.PHONY: test-openapi
test-openapi: deps
	@$(MAKE) --no-print-directory BUILD=build/asan SAN=1 build/asan/xvps-routes-dump
	@tests/openapi/run.sh build/asan
