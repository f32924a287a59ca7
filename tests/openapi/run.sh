#!/usr/bin/env bash
# run.sh BUILD_DIR — the API description's test (make test-openapi): docs/openapi.yaml is
# checked by @apidevtools/swagger-parser (pinned in package.json + package-lock.json, `npm ci`
# only when node_modules does not hold exactly that lock) and held against xvpsd's router:
# BUILD_DIR/xvps-routes-dump (tests/openapi/routes_dump.c, linked against the panel's archive)
# prints every route of panel/routes.c, and check.mjs fails on a route the document lacks or a
# documented route the router lacks. Sends no traffic, starts no server.
set -euo pipefail

build=${1:?usage: tests/openapi/run.sh BUILD_DIR}
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
dump=$build/xvps-routes-dump

for need in node npm "$dump"; do
	if ! command -v "$need" >/dev/null 2>&1 && [ ! -x "$need" ]; then
		echo "openapi: $need is missing (make deps installs node and npm; make test-openapi builds $dump)" >&2
		exit 1
	fi
done

# The validator as pinned by package-lock.json (offline once it is there).
stamp=$here/node_modules/.xvps-lock
if ! cmp -s "$here/package-lock.json" "$stamp" 2>/dev/null; then
	echo "openapi: npm ci in tests/openapi"
	if ! (cd "$here" && npm ci --prefer-offline --no-audit --no-fund --loglevel=error); then
		echo "openapi: npm ci failed (the npm registry is needed once)" >&2
		exit 1
	fi
	cp "$here/package-lock.json" "$stamp"
fi

routes=$build/openapi-routes.txt
"$dump" >"$routes"
node "$here/check.mjs" "$root/docs/openapi.yaml" "$routes"
