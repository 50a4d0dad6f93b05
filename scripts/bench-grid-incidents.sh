#!/usr/bin/env bash
# Grid incident desk and map benchmark: one township of the demo county 锡山区
# (羊尖镇) holding SIZES incidents, with as many again over the county's other
# townships, reported over the year before the run's day (bulk SQL inserts:
# see internal/grid/bench_test.go, TestBenchGridIncidents), then the reads of
# the desk and the map — grid.Service.List for each view, a deep page and a
# category, grid.Service.Count for the six tabs, grid.Service.Points for the
# map — QUERIES times each as the township's staff, on SQLite and on
# PostgreSQL. With BLOCKED=1 (the default) SQLite is filled a second time
# with the township's incidents all older than the other townships' (the
# worst case of the newest-first table walk SQLite uses for a large subtree)
# and the reads that walk are measured again. Prints a Markdown section
# ("## Grid: incident desk and map") on stdout; progress goes to stderr.
#
# Usage: scripts/bench-grid-incidents.sh
# Env:   SIZES=100000  QUERIES=200  BLOCKED=1
#        SHEQU_TEST_POSTGRES=postgres://… (else scripts/pg-test.sh starts one)
set -euo pipefail
cd "$(dirname "$0")/.."
sizes=${SIZES:-100000}
queries=${QUERIES:-200}
blocked=${BLOCKED:-1}
pg=${SHEQU_TEST_POSTGRES:-$(scripts/pg-test.sh start)}
export SHEQU_TEST_POSTGRES=$pg PGOPTIONS='-c client_min_messages=warning'
tmp=$(mktemp -d /tmp/shequ-bench-grid.XXXXXX)
cleanup() {
  psql "$pg" -qX -c "DROP DATABASE IF EXISTS shequ_bench_grid WITH (FORCE)" >/dev/null 2>&1 || true
  rm -rf "$tmp"
}
trap cleanup EXIT

load0=$(cut -d' ' -f1-3 /proc/loadavg)
echo "building the benchmark…" >&2
go test -c -o "$tmp/grid.test" ./internal/grid
run() { # run ENV=…: one pass over the sizes; its BENCH lines go to bench.txt
  if ! env SHEQU_BENCH_GRID=1 SHEQU_BENCH_DIR="$tmp" SHEQU_BENCH_SIZES="$sizes" SHEQU_BENCH_QUERIES="$queries" "$@" \
    "$tmp/grid.test" -test.run '^TestBenchGridIncidents$' -test.count 1 -test.timeout 120m >"$tmp/out.txt" 2>&1; then
    cat "$tmp/out.txt" >&2
    exit 1
  fi
  grep '^BENCH ' "$tmp/out.txt" | tee -a "$tmp/bench.txt" >&2
}
echo "SQLite…" >&2
run SHEQU_BENCH_DB=sqlite
echo "PostgreSQL…" >&2
run SHEQU_BENCH_DB=postgres
if [ "$blocked" = 1 ]; then
  echo "SQLite, blocked layout…" >&2
  run SHEQU_BENCH_DB=sqlite SHEQU_BENCH_LAYOUT=blocked
fi
load1=$(cut -d' ' -f1-3 /proc/loadavg)

# values of field F on the BENCH lines matching all the given key=value pairs
field() {
  local f=$1; shift
  awk -v f="$f" -v want="$*" 'BEGIN{k=split(want, w, " ")}
    /^BENCH / {delete m; for (i=2;i<=NF;i++) {j=index($i, "="); m[substr($i, 1, j-1)]=substr($i, j+1)}
      for (i=1;i<=k;i++) {j=index(w[i], "="); if (m[substr(w[i], 1, j-1)] != substr(w[i], j+1)) next}
      if (f in m) print m[f]}' "$tmp/bench.txt" | head -1
}
big() { awk -v x="$1" 'BEGIN{s=sprintf("%.0f", x); o=""; while (length(s) > 3) {o="," substr(s, length(s)-2) o; s=substr(s, 1, length(s)-3)} print s o}'; }
goal() { awk -v p="$1" 'BEGIN{if (p == "") print "—"; else if (p < 50) print "yes"; else print "**no**"}'; }

what_label() {
  case $1 in
  list_open) echo "desk: 全部在办 (open), page 1" ;;
  list_held) echo "desk: 本级在办 (held by the township), page 1" ;;
  list_overdue) echo "desk: 已超期 (overdue), page 1" ;;
  list_closed) echo "desk: 已办结 (closed), page 1" ;;
  list_all) echo "desk: 全部 (all), page 1" ;;
  list_all_page_20) echo "desk: all, page 20 (offset 950)" ;;
  list_category) echo "desk: all of one category, page 1" ;;
  tab_counts) echo "desk: the six tab counts (one call each)" ;;
  map_open) echo "map: open incidents" ;;
  map_all) echo "map: all incidents (newest 2,000)" ;;
  baseline_pk) echo "baseline: one incident by primary key (raw SQL), before the reads" ;;
  baseline_pk_end) echo "baseline: the same, after the reads" ;;
  esac
}
whats="baseline_pk list_open list_held list_overdue list_closed list_all list_all_page_20 list_category tab_counts map_open map_all baseline_pk_end"

# table KEYS WHAT…: the rows of one run, each p50 also as a multiple of the
# baseline's (before the reads)
table() {
  local k=$1 w p95 base
  shift
  base=$(field p50_ms $k what=baseline_pk)
  echo "| what | p50 | p95 | max | p50 ÷ baseline p50 | goal met? |"
  echo "|---|---|---|---|---|---|"
  for w in "$@"; do
    p95=$(field p95_ms $k what=$w)
    if [[ $w == baseline* ]]; then
      echo "| $(what_label "$w") | $(field p50_ms $k what=$w) | $p95 | $(field max_ms $k what=$w) | $(awk -v a="$(field p50_ms $k what=$w)" -v b="$base" 'BEGIN{printf "%.1f", a/b}') | — |"
    else
      echo "| $(what_label "$w") | $(field p50_ms $k what=$w) | $p95 | $(field max_ms $k what=$w) | $(awk -v a="$(field p50_ms $k what=$w)" -v b="$base" 'BEGIN{printf "%.0f", a/b}') | $(goal "$p95") |"
    fi
  done
}

cpu=$(awk -F': ' '/model name/{print $2; exit}' /proc/cpuinfo)
IFS=, read -r -a ns <<<"$sizes"
echo "## Grid: incident desk and map"
echo
echo "$(date -u +%Y-%m-%d) · $(nproc) cores, ${cpu:-unknown CPU}, $(awk '/MemTotal/{printf "%.0f GB", $2/1048576}' /proc/meminfo) ·" \
  "load average $load0 at the start, $load1 at the end · $(go env GOVERSION) · sqlite3 $(sqlite3 --version | cut -d' ' -f1) ·" \
  "PostgreSQL $(psql "$pg" -qXAt -c 'SHOW server_version' | cut -d' ' -f1) · \`scripts/bench-grid-incidents.sh\` (SIZES=$sizes QUERIES=$queries BLOCKED=$blocked)"
echo
echo "The township 羊尖镇 of the demo county 锡山区 holding $(big "${ns[0]}") incidents, and as many again spread over the"
echo "county's other townships, reported over the year before the run's day (clock on 2026-11-23): bulk INSERTs in report"
echo "order (ids rise with time, the townships interleaved), each with a plausible life — most closed, the recent ones partly"
echo "open, some dispatched ones overdue, one in eight held by the township — and the \`grid.reported\` facts the service"
echo "would have counted. The township's staff then read what the incident desk (GET /grid/incidents) and the map show,"
echo "through \`grid.Service\` without HTTP: \`List\` (a page of 50, newest first; overdue by deadline), \`Count\` for the"
echo "six tabs (open, held, reported, to verify, overdue, due soon) and \`Points\` (positioned incidents, newest first, at"
echo "most 2,000). $queries calls of each one after the other after 20 warm-up calls; milliseconds. Goal: p95 < 50 ms."
echo "The raw baseline, measured in the same run before and after the reads, is one incident fetched by primary key"
echo "with plain SQL through the same database handle: the floor of a read on this machine at that moment."
echo
for n in "${ns[@]}"; do
  for db in sqlite postgres; do
    label=SQLite
    [ "$db" = postgres ] && label=PostgreSQL
    k="db=$db layout=interleaved incidents=$((2 * n))"
    echo "### $label: $(big "$(field township $k what=list_all)") incidents in the township, $(big $((2 * n))) in the county"
    echo
    table "$k" $whats
    echo
  done
  if [ "$blocked" = 1 ]; then
    k="db=sqlite layout=blocked incidents=$((2 * n))"
    echo "### SQLite, worst case of the table walk: the township's incidents all older than the others'"
    echo
    echo "The same fill, but the township's $(big "$n") incidents reported in the first half of the year and the other"
    echo "townships' in the second, so a newest-first walk passes $(big "$n") newer incidents of other townships before"
    echo "it finds one of its own (the other reads, which go through indexes, are as above)."
    echo
    table "$k" baseline_pk list_closed list_all list_all_page_20 list_category map_all baseline_pk_end
    echo
  fi
done
echo "How the reads run. The open views, their counts and the open map go through \`incidents_open (is_open, division,"
echo "state, deadline)\`: a township's few thousand open incidents, counted from the index alone; the held view and its"
echo "count through \`incidents_holder_open (is_open, holder, division, deadline)\`: the few hundred the township holds"
echo "itself (with division after holder SQLite's planner, which has no statistics, prefers it to \`incidents_open\`,"
echo "which would read all the open incidents of the subtree to find them). The closed and all views"
echo "and the full map read newest first; PostgreSQL's planner walks the primary key backwards and stops after a page. SQLite"
echo "has no statistics (no ANALYZE is run), so \`List\` and \`Points\` choose for it from the facts: where the subtree holds"
echo "at least 1/50 of all reported incidents (a township of a county) they read the table \`NOT INDEXED\` — a backwards"
echo "rowid walk that finds a page after about 50 / share rows — and otherwise let SQLite use \`incidents_division\`, which"
echo "gathers the subtree's incidents and sorts them (cheap for a grid or a village; for this township ≈ 100,000 rows"
echo "sorted, 25–35 ms in the sqlite3 shell)."
