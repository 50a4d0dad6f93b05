#!/usr/bin/env bash
# Service-window dashboard benchmark: the demo county 锡山区 (9 townships, 120
# villages and communities) filled with 100,000 and then 1,000,000 cases
# accepted over the twelve months before the run's day (bulk SQL inserts of
# the cases and of the facts rows the service would have counted: see
# internal/window/bench_test.go, TestBenchWindowDashboard), then
# window.Service.Figures read QUERIES times for the county, a township and a
# village, and the whole dashboard page rendered for the county — on SQLite
# and on PostgreSQL (where the covering index of migration 00007 lets the
# facts be read by index-only scans). Prints Markdown on stdout (progress
# goes to stderr).
#
# Usage: scripts/bench-window-dashboard.sh
# Env:   SIZES=100000,1000000  QUERIES=200
#        SHEQU_TEST_POSTGRES=postgres://… (else scripts/pg-test.sh starts one)
set -euo pipefail
cd "$(dirname "$0")/.."
sizes=${SIZES:-100000,1000000}
queries=${QUERIES:-200}
pg=${SHEQU_TEST_POSTGRES:-$(scripts/pg-test.sh start)}
export SHEQU_TEST_POSTGRES=$pg PGOPTIONS='-c client_min_messages=warning'
tmp=$(mktemp -d /tmp/shequ-bench-window.XXXXXX)
cleanup() {
  psql "$pg" -qX -c "DROP DATABASE IF EXISTS shequ_bench_window WITH (FORCE)" >/dev/null 2>&1 || true
  rm -rf "$tmp"
}
trap cleanup EXIT

echo "building the benchmark…" >&2
go test -c -o "$tmp/window.test" ./internal/window
run() { # run ENV=…: one pass over the sizes; its BENCH lines go to bench.txt
  if ! env SHEQU_BENCH_WINDOW=1 SHEQU_BENCH_DIR="$tmp" SHEQU_BENCH_SIZES="$sizes" SHEQU_BENCH_QUERIES="$queries" "$@" \
    "$tmp/window.test" -test.run '^TestBenchWindowDashboard$' -test.count 1 -test.timeout 120m >"$tmp/out.txt" 2>&1; then
    cat "$tmp/out.txt" >&2
    exit 1
  fi
  grep '^BENCH ' "$tmp/out.txt" | tee -a "$tmp/bench.txt" >&2
}
echo "SQLite…" >&2
run SHEQU_BENCH_DB=sqlite
echo "PostgreSQL…" >&2
run SHEQU_BENCH_DB=postgres

# values of field F on the BENCH lines matching all the given key=value pairs
field() {
  local f=$1; shift
  awk -v f="$f" -v want="$*" 'BEGIN{k=split(want, w, " ")}
    /^BENCH / {delete m; for (i=2;i<=NF;i++) {j=index($i, "="); m[substr($i, 1, j-1)]=substr($i, j+1)}
      for (i=1;i<=k;i++) {j=index(w[i], "="); if (m[substr(w[i], 1, j-1)] != substr(w[i], j+1)) next}
      if (f in m) print m[f]}' "$tmp/bench.txt" | head -1
}
big() { awk -v x="$1" 'BEGIN{s=sprintf("%.0f", x); o=""; while (length(s) > 3) {o="," substr(s, length(s)-2) o; s=substr(s, 1, length(s)-3)} print s o}'; }

cpu=$(awk -F': ' '/model name/{print $2; exit}' /proc/cpuinfo)
echo "$(date -u +%Y-%m-%d) · $(nproc) cores, ${cpu:-unknown CPU}, $(awk '/MemTotal/{printf "%.0f GB", $2/1048576}' /proc/meminfo) ·" \
  "load average $(cut -d' ' -f1-3 /proc/loadavg) at the end · $(go env GOVERSION) · PostgreSQL $(psql "$pg" -qXAt -c 'SHOW server_version' | cut -d' ' -f1) ·" \
  "\`scripts/bench-window-dashboard.sh\` (SIZES=$sizes QUERIES=$queries)"
echo
echo "\`window.Service.Figures\` for the dashboard of 锡山区 over the twelve months 2025-12 … 2026-11 (clock on 2026-11-23):"
echo "totals, month series, breakdowns by category, channel and item, a row per child unit, and the cases open and overdue"
echo "today. The cases are written by bulk INSERTs (not through the service, which would take hours for a million), each"
echo "with a plausible life (accepted on a working day, mostly completed within the item's time limit, some late, 1 % stuck for"
echo "weeks, the recent ones still open, half of the completed rated), and the facts rows are computed from the same cases —"
echo "the rows the service's own increments leave (the figures tests check those). $queries calls one after the other after 20"
echo "warm-up calls, as the county's, a township's (羊尖镇) and a village's staff; the page is the whole GET /window/dashboard"
echo "through the real renderer (figures, labels, chart data, template), without the network. Milliseconds."
echo
echo "| database | cases | facts rows | open / overdue today | county p50 | county p95 | township p50 / p95 | village p50 / p95 | county page p50 / p95 |"
echo "|---|---|---|---|---|---|---|---|---|"
IFS=, read -r -a ns <<<"$sizes"
for v in "sqlite as-is" "postgres as-is"; do
  set -- $v
  db=$1 variant=$2
  label=SQLite
  [ "$db" = postgres ] && label=PostgreSQL
  for n in "${ns[@]}"; do
    k="db=$db variant=$variant cases=$n"
    echo "| $label | $(big "$n") | $(big "$(field facts step=fill $k)") | $(big "$(field open step=fill $k)") / $(big "$(field overdue step=fill $k)") |" \
      "$(field p50_ms step=figures $k unit=county) | $(field p95_ms step=figures $k unit=county) |" \
      "$(field p50_ms step=figures $k unit=township) / $(field p95_ms step=figures $k unit=township) |" \
      "$(field p50_ms step=figures $k unit=village) / $(field p95_ms step=figures $k unit=village) |" \
      "$(field p50_ms step=page $k) / $(field p95_ms step=page $k) |"
  done
done
