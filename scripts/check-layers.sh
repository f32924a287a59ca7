#!/usr/bin/env bash
# check-layers.sh [ROOT] — `make check-layers`: the layers' rule, read from the sources' own
# #include "..." lines (and, for billing/, from the names it uses). Prints every violation as
# FILE:LINE: rule and exits 1 when there is one, 0 when there is none. Reads files only.
# check-layers.sh --self-test — proves the check: copies the tree's layers into a temp dir,
# adds one bad include (or a billing/ file that calls the agent) per rule and asserts that the
# check fails on each, and passes on the clean copy with and without a billing/ directory.
# LAYERS_VERBOSE=1 prints every case.
#
# The rule (a layer may include only the layers listed; system headers are not ours):
#   common/        common/                          the bottom: depends on nothing of ours
#   billing/       billing/                         the issue's "includes nothing of ours" taken
#                                                   literally: billing/ is self-contained, the
#                                                   panel calls it, never the other way round
#   hypervisor/    hypervisor/ common/              drivers and xvps-console: nothing above them
#   provisioning/  provisioning/ hypervisor/ common/  the agent: never the panel or billing
#   panel/         panel/ billing/ common/          xvpsd reaches the host only through the agent
# and billing/ never calls the agent: no identifier with an "agent" part (agent_call,
# panel_agent_call, agent_proto, AGENT_SOCK, ...) outside comments and strings, and no
# "agent.sock" / "XVPS_AGENT" in a string. A missing layer directory (billing/ today) is skipped.
# An include is resolved against the including file's directory ("../common/x.h" from panel/
# is common/x.h); one that climbs out of the repository breaks the rule too.
set -uo pipefail

allowed_of() {
	case $1 in
	common) echo "common" ;;
	billing) echo "billing" ;;
	hypervisor) echo "hypervisor common" ;;
	provisioning) echo "provisioning hypervisor common" ;;
	panel) echo "panel billing common" ;;
	esac
}
LAYERS="common billing hypervisor provisioning panel"

# check ROOT: prints the violations under ROOT; 1 when any.
check() {
	local root=$1 layer files out bad=0
	for layer in $LAYERS; do
		[ -d "$root/$layer" ] || continue
		mapfile -t files < <(cd "$root" && find "$layer" -type f \( -name '*.c' -o -name '*.h' \) | sort)
		[ ${#files[@]} -gt 0 ] || continue
		out=$(cd "$root" && awk -v layer="$layer" -v allowed="$(allowed_of "$layer")" '
			BEGIN { n = split(allowed, a, " "); for (i = 1; i <= n; i++) ok[a[i]] = 1
				list = ""; for (i = 1; i <= n; i++) list = list (i > 1 ? ", " : "") a[i] "/" }
			FNR == 1 { inblock = 0 }
			# Includes: #include "PATH" resolved against the including file'\''s directory.
			/^[ \t]*#[ \t]*include[ \t]*"/ {
				inc = $0; sub(/^[^"]*"/, "", inc); sub(/".*$/, "", inc)
				dir = FILENAME; sub(/\/[^\/]*$/, "", dir)
				m = split(dir "/" inc, part, "/"); k = 0
				for (i = 1; i <= m; i++) {
					if (part[i] == "" || part[i] == ".") continue
					if (part[i] == ".." && k > 0 && st[k] != "..") { k--; continue }
					st[++k] = part[i]
				}
				path = ""; for (i = 1; i <= k; i++) path = path (i > 1 ? "/" : "") st[i]
				top = st[1]
				if (top == "..")
					printf "%s:%d: %s/ must not include \"%s\" (outside the repository; %s/ may include only %s)\n", FILENAME, FNR, layer, inc, layer, list
				else if (!(top in ok))
					printf "%s:%d: %s/ must not include %s (%s/ may include only %s)\n", FILENAME, FNR, layer, path, layer, list
			}
			# billing/ never calls the agent: scan code outside comments and strings.
			layer == "billing" {
				line = $0; code = ""; strs = ""; i = 1; L = length(line)
				while (i <= L) {
					c = substr(line, i, 1); c2 = substr(line, i, 2)
					if (inblock) { if (c2 == "*/") { inblock = 0; i += 2 } else i++; continue }
					if (c2 == "/*") { inblock = 1; i += 2; continue }
					if (c2 == "//") break
					if (c == "\"" || c == "\047") {
						q = c; j = i + 1; s = ""
						while (j <= L && substr(line, j, 1) != q) {
							if (substr(line, j, 1) == "\\") { s = s substr(line, j, 2); j += 2 }
							else { s = s substr(line, j, 1); j++ }
						}
						strs = strs " " s; code = code q q; i = j + 1; continue
					}
					code = code c; i++
				}
				rest = code
				while (match(rest, /[A-Za-z_][A-Za-z0-9_]*/)) {
					id = substr(rest, RSTART, RLENGTH); rest = substr(rest, RSTART + RLENGTH)
					low = tolower(id)
					if (low != "user_agent" && low ~ /(^|_)agent(_|$)/)
						printf "%s:%d: billing/ must not call the agent (uses %s)\n", FILENAME, FNR, id
				}
				if (strs ~ /agent\.sock|XVPS_AGENT/)
					printf "%s:%d: billing/ must not call the agent (names its socket in a string)\n", FILENAME, FNR
			}
		' "${files[@]}") || { echo "check-layers: awk failed on $layer/" >&2; bad=1; }
		[ -z "$out" ] || { echo "$out"; bad=1; }
	done
	return $bad
}

# ---- self-test ----------------------------------------------------------------------------

self_test() {
	local repo tmp fails=0 cases=0
	repo=$(cd "$(dirname "$0")/.." && pwd)
	tmp=$(mktemp -d /tmp/xvps-layers.XXXXXX) || return 2
	trap 'rm -rf "$tmp"' RETURN
	# A fresh copy of the layers' sources for each case.
	fresh() {
		rm -rf "$tmp/t" && mkdir -p "$tmp/t"
		(cd "$repo" && find $LAYERS -type f \( -name '*.c' -o -name '*.h' \) -print0 2>/dev/null |
			xargs -0 cp --parents -t "$tmp/t")
	}
	# expect_fail NAME FILE LINE TEXT: FILE (relative) gets TEXT as its line LINE (a new file,
	# or TEXT appended to an existing one: LINE is then computed); the check must fail and
	# name FILE:LINE.
	expect_fail() {
		local name=$1 f=$2 text=$3 line out
		fresh
		mkdir -p "$tmp/t/$(dirname "$f")"
		printf '%s\n' "$text" >>"$tmp/t/$f"
		line=$(wc -l <"$tmp/t/$f")
		cases=$((cases + 1))
		if out=$(check "$tmp/t"); then
			echo "check-layers self-test: FAIL $name: the check passed" >&2
			fails=$((fails + 1))
		elif ! grep -q "^$f:$line: " <<<"$out"; then
			echo "check-layers self-test: FAIL $name: $f:$line not reported; got: $out" >&2
			fails=$((fails + 1))
		elif [ -n "${LAYERS_VERBOSE:-}" ]; then
			echo "check-layers self-test: ok   $name -> $(grep "^$f:$line: " <<<"$out" | head -1)"
		fi
	}
	expect_pass() {
		local name=$1 out
		cases=$((cases + 1))
		if out=$(check "$tmp/t"); then
			[ -z "${LAYERS_VERBOSE:-}" ] || echo "check-layers self-test: ok   $name passes"
		else
			echo "check-layers self-test: FAIL $name: the check failed: $out" >&2
			fails=$((fails + 1))
		fi
	}

	fresh
	[ -s "$tmp/t/panel/api_vps.c" ] && [ -s "$tmp/t/common/util.h" ] ||
		{ echo "check-layers self-test: the copy of the tree is incomplete" >&2; return 1; }
	rm -rf "$tmp/t/billing"
	expect_pass "the tree without billing/"
	fresh
	mkdir -p "$tmp/t/billing"
	printf '%s\n' '/* rate.c — rates metering rows; never agent_call() or "agent.sock". */' \
		'#include <stdio.h>' '#include "rate.h"' '#include "sub/../rate.h"' \
		'static const char *user_agent = "billing";' 'int rate(void) { return 0; } // agent_call' \
		>"$tmp/t/billing/rate.c"
	printf '%s\n' '/* rate.h — the rater. */' '/* agent_call(' ' * still a comment */' \
		'int rate(void);' >"$tmp/t/billing/rate.h"
	expect_pass "the tree with a clean billing/ (comments, strings, its own headers)"

	expect_fail "panel/ includes provisioning/" panel/api_vps.c '#include "../provisioning/spec.h"'
	expect_fail "panel/ includes hypervisor/" panel/zz_bad.c '#include "../hypervisor/driver.h"'
	expect_fail "panel/ctl/ includes hypervisor/console/" panel/ctl/zz_bad.c \
		'#include "../../hypervisor/console/term.h"'
	expect_fail "hypervisor/ includes provisioning/" hypervisor/sim.c '#include "../provisioning/vps.h"'
	expect_fail "hypervisor/ includes panel/" hypervisor/zz_bad.h '#include "../panel/http.h"'
	expect_fail "hypervisor/console/ includes panel/" hypervisor/console/vncrelay.c \
		'#  include "../../panel/console.h"'
	expect_fail "provisioning/ includes panel/" provisioning/zz_bad.c '#include "../panel/http.h"'
	expect_fail "common/ includes panel/" common/util.c '#include "../panel/http.h"'
	expect_fail "common/ includes hypervisor/" common/zz_bad.h '#include "../hypervisor/driver.h"'
	expect_fail "common/ includes outside the repository" common/zz_bad.c '#include "../../x.h"'
	expect_fail "billing/ includes common/" billing/zz_bad.c '#include "../common/util.h"'
	expect_fail "billing/ includes panel/" billing/zz_bad.h '#include "../panel/http.h"'
	expect_fail "billing/ calls agent_call" billing/zz_bad.c \
		'int bill(void) { return agent_call(NULL, 0, NULL); }'
	expect_fail "billing/ calls panel_agent_call" billing/zz_bad.c \
		'static int f(void) { return panel_agent_call(0, 0, 0, 0); }'
	expect_fail "billing/ uses agent_proto types" billing/zz_bad.c 'static agent_err e;'
	expect_fail "billing/ opens the agent socket" billing/zz_bad.c \
		'static const char *p = "/run/xvps/agent.sock";'

	if [ "$fails" -gt 0 ]; then
		echo "check-layers self-test: FAILED ($fails cases)" >&2
		return 1
	fi
	echo "check-layers self-test: all $cases cases passed (each bad include and billing/ agent call" \
		"reported at its FILE:LINE; the clean tree passes)"
}

if [ "${1:-}" = --self-test ]; then
	self_test
	exit
fi
root=${1:-$(cd "$(dirname "$0")/.." && pwd)}
if check "$root"; then
	echo "check-layers: ok (common/ billing/ hypervisor/ provisioning/ panel/)"
	exit 0
fi
echo "check-layers: FAILED: a layer includes what its rule forbids (scripts/check-layers.sh)" >&2
exit 1
