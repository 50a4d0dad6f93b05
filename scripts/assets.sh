#!/usr/bin/env bash
# Installs the pinned front-end libraries (package.json + package-lock.json) and copies
# the files the binary embeds into internal/platform/web/static/vendor/ (gitignored).
# Run from anywhere; the Makefile calls it before every build. Offline builds work as long
# as node_modules/ is already present and newer than package-lock.json.
set -euo pipefail

root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
cd "$root"

# npm keeps a hidden lockfile inside node_modules; it is rewritten on every install,
# so it tells us reliably whether node_modules matches package-lock.json.
stamp=node_modules/.package-lock.json
if [[ ! -d node_modules || ! -f $stamp || package-lock.json -nt $stamp ]]; then
	npm ci --no-audit --no-fund
fi

dest=internal/platform/web/static/vendor
mkdir -p "$dest"
for f in node_modules/htmx.org/dist/htmx.min.js node_modules/echarts/dist/echarts.min.js; do
	if [[ ! -s $f ]]; then
		echo "assets.sh: $f is missing; delete node_modules/ and run again" >&2
		exit 1
	fi
	# cp only when changed, so the Go build cache is not invalidated for nothing.
	if ! cmp -s "$f" "$dest/$(basename "$f")"; then
		cp "$f" "$dest/"
	fi
done
# Leaflet (the grid map) keeps its stylesheet beside its images, which the
# stylesheet names by relative URL: vendor/leaflet/{leaflet.js,leaflet.css,images/}.
mkdir -p "$dest/leaflet/images"
for f in node_modules/leaflet/dist/leaflet.js node_modules/leaflet/dist/leaflet.css node_modules/leaflet/dist/images/*.png; do
	if [[ ! -s $f ]]; then
		echo "assets.sh: $f is missing; delete node_modules/ and run again" >&2
		exit 1
	fi
	to="$dest/leaflet/${f#node_modules/leaflet/dist/}"
	if ! cmp -s "$f" "$to"; then
		cp "$f" "$to"
	fi
done
echo "assets.sh: vendor assets ready in $dest"
