#!/usr/bin/env bash
# deb.sh [OUT] — builds the xvps Debian package: copies the tree's files (tracked, and new ones
# not ignored) to OUT/deb/src/xvps-VERSION, runs `dpkg-buildpackage -us -uc -b` there (outputs
# land in OUT/deb/src), moves the .deb, .buildinfo and .changes to OUT/deb/ and prints the .deb's
# path (the -dbgsym package beside it). OUT defaults to build. Nothing is written outside OUT.
set -euo pipefail
cd "$(dirname "$0")/.."
out=${1:-build}
version=$(dpkg-parsechangelog -S Version)
deb=$out/deb
src=$deb/src
rm -rf "$src" "$deb"/xvps_* "$deb"/xvps-dbgsym_*
mkdir -p "$src/xvps-$version"
git ls-files -co --exclude-standard -z | while IFS= read -r -d '' f; do
	[ -e "$f" ] && printf '%s\0' "$f"
done | xargs -0 cp --parents -t "$src/xvps-$version"
(cd "$src/xvps-$version" && dpkg-buildpackage -us -uc -b >../build.log 2>&1) || {
	tail -n 40 "$src/build.log" >&2
	echo "deb: dpkg-buildpackage failed (log: $src/build.log)" >&2
	exit 1
}
find "$src" -maxdepth 1 -type f -name 'xvps*_*' -exec mv -t "$deb" {} +
echo "deb: $(ls "$deb"/xvps_*.deb)"
