#!/usr/bin/env bash
# Public portal benchmark: the demo county 锡山区 (120 villages and
# communities), every village filled by bulk SQL inserts with a year of
# self-governance and disclosure (see internal/disclosure/bench_test.go,
# TestBenchPortal): bodies and members, ~50 public meetings with decided
# agenda items, ~60 matters at every stage with their steps, notices and a
# finance statement per month, ENTRIES finance entries with their budget
# and facts, an asset register, an election, documents, the window's and
# the grid's facts. Then GET /public/{code} of one village of 羊尖镇 through
# the real handler, QUERIES times after 20 warm-up requests, with the board,
# a kiosk page, a matter page and the calendar feed, beside the raw
# baselines of the same run (GET /healthz through the same middleware, one
# division read by primary key) — on SQLite and on PostgreSQL. Prints a
# Markdown section ("## Public portal") on stdout; progress goes to stderr.
#
# Usage: scripts/bench-portal.sh
# Env:   QUERIES=200  ENTRIES=2000
#        SHEQU_TEST_POSTGRES=postgres://… (else scripts/pg-test.sh starts one)
set -euo pipefail
cd "$(dirname "$0")/.."
queries=${QUERIES:-200}
entries=${ENTRIES:-2000}
pg=${SHEQU_TEST_POSTGRES:-$(scripts/pg-test.sh start)}
export SHEQU_TEST_POSTGRES=$pg PGOPTIONS='-c client_min_messages=warning'
tmp=$(mktemp -d /tmp/shequ-bench-portal.XXXXXX)
cleanup() {
  psql "$pg" -qX -c "DROP DATABASE IF EXISTS shequ_bench_portal WITH (FORCE)" >/dev/null 2>&1 || true
  rm -rf "$tmp"
}
trap cleanup EXIT

load0=$(cut -d' ' -f1-3 /proc/loadavg)
echo "building the benchmark…" >&2
go test -c -o "$tmp/disclosure.test" ./internal/disclosure
run() { # run ENV=…: one pass; its BENCH lines go to bench.txt
  if ! env SHEQU_BENCH_PORTAL=1 SHEQU_BENCH_DIR="$tmp" SHEQU_BENCH_QUERIES="$queries" SHEQU_BENCH_ENTRIES="$entries" "$@" \
    "$tmp/disclosure.test" -test.run '^TestBenchPortal$' -test.count 1 -test.timeout 60m >"$tmp/out.txt" 2>&1; then
    cat "$tmp/out.txt" >&2
    exit 1
  fi
  grep '^BENCH ' "$tmp/out.txt" | tee -a "$tmp/bench.txt" >&2
}
echo "SQLite…" >&2
run SHEQU_BENCH_DB=sqlite
echo "PostgreSQL…" >&2
run SHEQU_BENCH_DB=postgres
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
ratio() { awk -v a="$1" -v b="$2" 'BEGIN{if (b <= 0) print "—"; else printf "%.0f", a/b}'; }

what_label() {
  case $1 in
  baseline_pk) echo "baseline: one division by primary key (raw SQL), before" ;;
  baseline_healthz) echo "baseline: GET /healthz through the same middleware, before" ;;
  portal_first) echo "GET /public/{code}, the first view after the fill (one request)" ;;
  portal) echo "**GET /public/{code}** (the village's public page)" ;;
  board) echo "GET /public/{code}/board (A3 sheet with its QR code)" ;;
  kiosk_matters) echo "GET /public/{code}/kiosk/matters" ;;
  matter) echo "GET /public/{code}/matters/{number}" ;;
  calendar) echo "GET /public/{code}/calendar.ics" ;;
  baseline_healthz_end) echo "baseline: GET /healthz, after" ;;
  baseline_pk_end) echo "baseline: one division by primary key, after" ;;
  esac
}
whats="baseline_pk baseline_healthz portal_first portal board kiosk_matters matter calendar baseline_healthz_end baseline_pk_end"

table() { # table DB
  local k="db=$1" w p95 base
  base=$(field p50_ms $k what=baseline_pk)
  echo "| what | bytes | p50 ms | p95 ms | max ms | p50 ÷ PK baseline p50 | p95 < 50 ms? |"
  echo "|---|---|---|---|---|---|---|"
  for w in $whats; do
    p95=$(field p95_ms $k what=$w)
    case $w in
    baseline*) echo "| $(what_label "$w") | | $(field p50_ms $k what=$w) | $p95 | $(field max_ms $k what=$w) | — | — |" ;;
    portal_first) echo "| $(what_label "$w") | $(big "$(field bytes $k what=$w)") | $(field p50_ms $k what=$w) | — | — | $(ratio "$(field p50_ms $k what=$w)" "$base") | — |" ;;
    *) echo "| $(what_label "$w") | $(big "$(field bytes $k what=$w)") | $(field p50_ms $k what=$w) | $p95 | $(field max_ms $k what=$w) | $(ratio "$(field p50_ms $k what=$w)" "$base") | $(goal "$p95") |" ;;
    esac
  done
}

cpu=$(awk -F': ' '/model name/{print $2; exit}' /proc/cpuinfo)
k="db=sqlite what=portal"
echo "## Public portal"
echo
echo "$(date -u +%Y-%m-%d) · $(nproc) cores, ${cpu:-unknown CPU}, $(awk '/MemTotal/{printf "%.0f GB", $2/1048576}' /proc/meminfo) ·" \
  "load average $load0 at the start, $load1 at the end · $(go env GOVERSION) ·" \
  "PostgreSQL $(psql "$pg" -qXAt -c 'SHOW server_version' | cut -d' ' -f1) · \`scripts/bench-portal.sh\` (QUERIES=$queries ENTRIES=$entries)"
echo
echo "Issue 6: \"the portal page of a village with a year of activity renders with p95 < 50 ms\". The demo county 锡山区"
echo "($(field villages $k) villages and communities), every village filled by bulk INSERTs with the same year of activity"
echo "(clock on 2026-11-23), per village: $(field members $k) members of its bodies; $(field meetings $k) public meetings, four"
echo "still to come and the others held with three decided agenda items each; $(field matters $k) matters at every stage of the"
echo "pack's procedure, 32 of them the year's goals, with $(field steps $k) steps; $(field notices $k) notices and statements (a"
echo "statement per month, published through \`disclosure.Service.PublishStatement\`); $(big "$(field entries $k)") finance entries"
echo "with their budget and the facts the service counts ($(big "$(field entries_all $k)") entries in the county); 30 assets, a"
echo "counted election, two documents with two versions each, and the window's and the grid's monthly facts. One village of"
echo "羊尖镇 is then read through the real handler — \`disclosure.PublicHTTP\` with the app's renderer and templates, behind"
echo "\`web.SecurityHeaders\`, no gzip (the render is measured, not the compression) — $queries requests of each page one"
echo "after the other after 20 warm-up requests. The raw baselines are measured in the same run, before and after: GET"
echo "/healthz through the same middleware, and one division read by primary key with plain SQL through the same database"
echo "handle."
echo
echo "### SQLite"
echo
table sqlite
echo
echo "### PostgreSQL"
echo
table postgres
echo
echo "What one view of the page reads: the village and its township; the notices and the statements (two indexed reads, the"
echo "statements' bodies decoded from the JSON stored at publication); the year's budget against actual from the facts"
echo "(per-category metrics \`fin.amount.<account>.<category>\`, a few hundred rows, not the thousands of entries); the"
echo "window's and the grid's figures (one \`facts.SumMany\`); governance's public reads (resolutions and matters once,"
echo "shared by the lists and the schedule's compliance, goals, bodies, upcoming meetings, documents, elections). The"
echo "compliance of a progress item needs each implemented matter's steps; their days are remembered per matter and"
echo "its last change (\`gov.go\`), so only the first view after a change reads them — the \"first view\" row above."
