#!/usr/bin/env bash
# Runs every test: unit, store tests on SQLite and on a real PostgreSQL
# server started here on loopback, HTTP tests through the real router, and
# browser journeys in headless Chromium. Called by `make test`.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/test-deps.sh
pgdir=$(mktemp -d /tmp/shequ-pg.XXXXXX)
port=$((55000 + RANDOM % 400))
url=$(bash scripts/pg-test.sh start "$pgdir" "$port")
trap 'bash scripts/pg-test.sh stop "$pgdir" "$port"; rm -rf "$pgdir"' EXIT
export SHEQU_TEST_POSTGRES="$url" SHEQU_REQUIRE_POSTGRES=1 SHEQU_REQUIRE_BROWSER=1
echo "== gofmt / go vet"
unformatted=$(gofmt -l $(git ls-files '*.go') 2>/dev/null || true)
if [ -n "$unformatted" ]; then echo "gofmt would change: $unformatted"; exit 1; fi
go vet ./...
echo "== go test (SQLite + PostgreSQL at $url, Chromium)"
go test -count=1 -timeout 20m ./...
