#!/usr/bin/env bash
# Grid incident report benchmark: sustained reports through the JSON API
# (POST /api/v1/incidents) against the running binary, on SQLite and on
# PostgreSQL, with vegeta at a constant rate; beside it, in the same run and
# at the same rate, GET /healthz (the raw baseline of the same server,
# middleware and loopback). Each report is a whole incident: validation
# (grid, category, position against the geocoded households), the row, its
# first step, the facts, the number from the village's day counter and the
# audit entry (hash chain), in one transaction.
#
# The jurisdiction is the demo's (锡山区, `shequ demo` as `make run` builds
# it: 10,000 residents in geocoded households, 3,000 incidents); the
# requests go round-robin to GRIDS of its grids spread over its villages,
# each at the position of one of the grid's households, over the first
# categories of the xishan-2008 pack, with the admin account's API token
# (the check is the same grid.report at the grid as a grid worker's). No
# photos, except in the PHOTO_RATE row: one JPEG of about 200 KB (base64 in
# the JSON), checked, SM4-sealed into the data directory and recorded. The
# server runs with --log-level error.
#
# Prints a Markdown section ("## Grid: incident reports") on stdout; progress
# goes to stderr. Usage: scripts/bench-grid-report.sh
# Env: RATE=200 (requests/s), DURATION=20s, RUNS=3 (at RATE: that many pairs of a
#      baseline and a report attack; the medians are reported), WARMUP=5s,
#      DBS="sqlite postgres",
#      GRIDS=40, RESIDENTS=10000, INCIDENTS=3000 (the demo's),
#      ALSO_RATES="400 600" ALSO_DURATION=15s: reports measured again at these
#      rates, in this order (above RATE, to show where each database stops
#      keeping up),
#      PHOTO_RATE=50 (empty: skip) PHOTO_DURATION=15s: reports with a photo,
#      after the same reports without one at the same rate,
#      SHEQU_TEST_POSTGRES=postgres://… (else scripts/pg-test.sh starts one),
#      BENCH_KEEP=DIR: keep vegeta's reports there.
# Needs: go, curl, jq, python3 with PyYAML (to read the pack), sqlite3, psql
#        (scripts/test-deps.sh installs the last two).
set -euo pipefail
cd "$(dirname "$0")/.."
rate=${RATE:-200}
duration=${DURATION:-20s}
warmup=${WARMUP:-5s}
dbs=${DBS:-sqlite postgres}
grids=${GRIDS:-40}
residents=${RESIDENTS:-10000}
incidents=${INCIDENTS:-3000}
runs=${RUNS:-3}
also_rates=${ALSO_RATES-400 600}
also_duration=${ALSO_DURATION:-15s}
photo_rate=${PHOTO_RATE-50}
photo_duration=${PHOTO_DURATION:-15s}
vegeta_version=v12.13.0 # github.com/tsenart/vegeta, pinned
for tool in go curl jq python3 sqlite3 psql; do
  command -v "$tool" >/dev/null || { echo "$tool is missing" >&2; exit 1; }
done

tmp=$(mktemp -d /tmp/shequ-bench-grid.XXXXXX)
pid=
pg_db=shequ_bench_grid_$$
pg=
cleanup() {
  [ -n "$pid" ] && kill "$pid" 2>/dev/null && wait "$pid" 2>/dev/null || true
  [ -n "$pg" ] && psql "$pg" -qX -c "DROP DATABASE IF EXISTS $pg_db WITH (FORCE)" >/dev/null 2>&1 || true
  [ -n "${BENCH_KEEP:-}" ] && mkdir -p "$BENCH_KEEP" && cp "$tmp"/*.json "$tmp"/*.txt "$BENCH_KEEP"/ 2>/dev/null || true
  rm -rf "$tmp"
}
trap cleanup EXIT
load0=$(cut -d' ' -f1-3 /proc/loadavg)

# ---- tools ----
echo "building shequ and vegeta $vegeta_version…" >&2
mkdir -p bin
shequ=bin/shequ
go build -o "$shequ" ./cmd/shequ
GOBIN=$tmp go install "github.com/tsenart/vegeta/v12@$vegeta_version"
vegeta=$tmp/vegeta

# ---- the requests ----
mapfile -t cats < <(python3 -c '
import sys, yaml
for c in yaml.safe_load(open(sys.argv[1]))["categories"][:6]:
    print(c["code"])' policy/xishan-2008/grid.yaml)
[ ${#cats[@]} -gt 0 ] || { echo "no categories in policy/xishan-2008/grid.yaml" >&2; exit 1; }
if [ -n "$photo_rate" ]; then
  # a photo of about 200 KB: a 1280×960 JPEG of a gradient with noise, the
  # noise tuned until the file is 190–210 KB
  mkdir -p "$tmp/jpeg"
  cat >"$tmp/jpeg/main.go" <<'GO'
package main

import (
	"bytes"
	"image"
	"image/color"
	"image/jpeg"
	"math/rand/v2"
	"os"
)

func encode(noise int) []byte {
	r := rand.New(rand.NewPCG(1, 2))
	img := image.NewRGBA(image.Rect(0, 0, 1280, 960))
	for y := range 960 {
		for x := range 1280 {
			n := func(v int) uint8 { return uint8(max(0, min(255, v+r.IntN(2*noise+1)-noise))) }
			img.Set(x, y, color.RGBA{n(x / 5), n(y / 4), n(128), 255})
		}
	}
	var b bytes.Buffer
	_ = jpeg.Encode(&b, img, &jpeg.Options{Quality: 80})
	return b.Bytes()
}

func main() {
	lo, hi := 0, 64
	var out []byte
	for lo <= hi {
		mid := (lo + hi) / 2
		out = encode(mid)
		switch {
		case len(out) < 190_000:
			lo = mid + 1
		case len(out) > 210_000:
			hi = mid - 1
		default:
			lo = hi + 1
		}
	}
	os.Stdout.Write(out)
}
GO
  (cd "$tmp/jpeg" && GOFLAGS= go run main.go) >"$tmp/photo.jpg"
  photo_kb=$(($(stat -c %s "$tmp/photo.jpg") / 1024))
  echo "  photo: $photo_kb KB" >&2
fi

port=$((19300 + RANDOM % 400))
base=http://127.0.0.1:$port
echo "GET $base/healthz" >"$tmp/healthz-targets.txt"
wait_up() { # [seconds]: the demo's first start builds it (minutes on PostgreSQL)
  for _ in $(seq $((${1:-60} * 5))); do curl -sf "$base/healthz" >/dev/null && return 0; sleep 0.2; done
  echo "the server did not start" >&2; cat "$tmp/serve.log" >&2; exit 1
}
stop() { kill "$pid" 2>/dev/null || true; wait "$pid" 2>/dev/null || true; pid=; }

export SHEQU_DEMO_PASSWORD=bench-password-1
# summary FILE → "rate success p50 p95 p99 max requests cpu" (ms; cpu: the
# server process's CPU time per request during the attack, from FILE.cpu)
summary() {
  "$vegeta" report -type=json <"$1" | jq -r --argjson cpu "$(cat "$1.cpu")" \
    '[.throughput, .success, .latencies["50th"]/1e6, .latencies["95th"]/1e6, .latencies["99th"]/1e6, .latencies.max/1e6, .requests, $cpu/.requests] | @tsv'
}
tck=$(getconf CLK_TCK)
cpu_ms() { awk -v t="$tck" '{printf "%.0f", ($14 + $15) * 1000 / t}' "/proc/$pid/stat"; } # user + system of the server
row() { # label, offered rate, summary line[, "baseline"]
  read -r thr ok p50 p95 p99 max n cpu <<<"$3"
  local verdict=—
  [ "${4:-}" = baseline ] || verdict=$(sustained "$2" "$3")
  printf '| %s | %s | %s | %.1f | %.2f %% | %.2f | %.2f | %.2f | %.1f | %.2f | %s |\n' "$1" "$2" "$n" "$thr" \
    "$(awk -v s="$ok" 'BEGIN{print s*100}')" "$p50" "$p95" "$p99" "$max" "$cpu" "$verdict"
}
# sustained OFFERED SUMMARY: every request answered 201, ≥ 99 % of the
# offered rate achieved, p99 < 50 ms (no queue building up)
sustained() {
  read -r thr ok _ _ p99 _ _ <<<"$2"
  awk -v o="$1" -v t="$thr" -v p="$p99" -v s="$ok" 'BEGIN{
    if (t >= 0.99*o && p < 50 && s >= 1) print "yes";
    else printf "**no**%s%s%s", (t < 0.99*o ? sprintf(": %.0f of %d/s", t, o) : ""), (p >= 50 ? sprintf("%s p99 %.0f ms", (t < 0.99*o ? "," : ":"), p) : ""), (s < 1 ? sprintf(", %.2f %% failed", (1-s)*100) : "") }'
}
# medians FILE: the median of each column of summary lines
medians() {
  local cols=() c
  for c in 1 2 3 4 5 6 7 8; do
    cols+=("$(cut -f"$c" "$1" | sort -g | awk '{v[NR]=$1} END {print (NR % 2 ? v[(NR+1)/2] : (v[NR/2]+v[NR/2+1])/2)}')")
  done
  printf '%s\t' "${cols[@]}" | sed 's/\t$//'
}
# drain: wait (up to a minute) until no report is being stored any more, so
# that a backlog left by an attack the server could not keep up with does not
# slow the next one
drain() {
  local a b
  sleep 3
  for _ in $(seq 30); do
    a=$(sql 'SELECT COUNT(*) FROM incidents'); sleep 2; b=$(sql 'SELECT COUNT(*) FROM incidents')
    [ "$a" = "$b" ] && return 0
  done
}
attack() { # targets file, rate, duration, out file (and out file.cpu: the server's CPU ms)
  local c0
  c0=$(cpu_ms)
  "$vegeta" attack -targets="$1" -rate="$2/s" -duration="$3" -timeout=30s >"$4"
  echo $(($(cpu_ms) - c0)) >"$4.cpu"
}

declare -A out
for db in $dbs; do
  data=$tmp/data-$db
  case $db in
  sqlite)
    dsn=$data/shequ.db
    sql() { sqlite3 -separator ' ' "$dsn" "$1"; }
    ;;
  postgres)
    pg=${SHEQU_TEST_POSTGRES:-$(scripts/pg-test.sh start)}
    export PGOPTIONS='-c client_min_messages=warning'
    psql "$pg" -qX -v ON_ERROR_STOP=1 -c "DROP DATABASE IF EXISTS $pg_db" -c "CREATE DATABASE $pg_db" >/dev/null
    dsn=$(printf '%s' "$pg" | sed -E "s#(//[^/]*/)[^?]*#\\1$pg_db#")
    sql() { psql "$dsn" -qXAt -F ' ' -c "$1"; }
    ;;
  *) echo "unknown database $db" >&2; exit 1 ;;
  esac
  echo "[$db] building the demo jurisdiction (--residents $residents --incidents $incidents)…" >&2
  "$shequ" demo --data "$data" --db "$dsn" --addr 127.0.0.1:$port --residents "$residents" --incidents "$incidents" --seed 1 \
    >"$tmp/serve.log" 2>&1 & pid=$!
  wait_up 900; stop
  token=$("$shequ" user token admin --name bench --data "$data" --db "$dsn" 2>/dev/null | tail -1)
  [[ $token == shq_* ]] || { echo "no API token" >&2; exit 1; }
  # GRIDS grids spread over the county, each at one of its households' points
  sql "SELECT h.grid, h.lat, h.lon FROM households h JOIN (SELECT grid, MIN(id) AS id FROM households
       WHERE grid <> 0 AND lat IS NOT NULL GROUP BY grid) m ON m.id = h.id ORDER BY h.grid" >"$tmp/grids-$db.txt"
  total=$(wc -l <"$tmp/grids-$db.txt")
  [ "$total" -gt 0 ] || { echo "[$db] no geocoded grid households in the demo" >&2; exit 1; }
  step=$(((total + grids - 1) / grids))
  awk -v s="$step" 'NR % s == 1 || s == 1' "$tmp/grids-$db.txt" >"$tmp/chosen-$db.txt"
  out[$db-grids]=$(wc -l <"$tmp/chosen-$db.txt")
  out[$db-villages]=$(awk '{print substr($1, 1, 12)}' "$tmp/chosen-$db.txt" | sort -u | wc -l)
  : >"$tmp/targets-$db.txt"
  : >"$tmp/photo-targets-$db.txt"
  i=0
  while read -r g lat lon; do
    c=${cats[$((i % ${#cats[@]}))]}
    jq -nc --arg g "$g" --arg c "$c" --argjson lat "$lat" --argjson lon "$lon" \
      '{division: $g, category: $c, description: "雨水口堵塞，路面积水约十米", address: "门楼路 3 号东侧", lat: $lat, lon: $lon, source: "worker"}' \
      >"$tmp/body-$db-$i.json"
    printf 'POST %s/api/v1/incidents\nAuthorization: Bearer %s\nContent-Type: application/json\n@%s\n\n' \
      "$base" "$token" "$tmp/body-$db-$i.json" >>"$tmp/targets-$db.txt"
    if [ -n "$photo_rate" ]; then
      jq -c --rawfile p <(base64 -w0 "$tmp/photo.jpg") '. + {photos: [$p]}' "$tmp/body-$db-$i.json" >"$tmp/photo-body-$db-$i.json"
      printf 'POST %s/api/v1/incidents\nAuthorization: Bearer %s\nContent-Type: application/json\n@%s\n\n' \
        "$base" "$token" "$tmp/photo-body-$db-$i.json" >>"$tmp/photo-targets-$db.txt"
    fi
    i=$((i + 1))
  done <"$tmp/chosen-$db.txt"
  echo "  ${out[$db-grids]} grids in ${out[$db-villages]} villages, categories ${cats[*]}" >&2

  "$shequ" serve --data "$data" --db "$dsn" --addr 127.0.0.1:$port --log-level error >"$tmp/serve.log" 2>&1 & pid=$!
  wait_up
  code=$(curl -s -o "$tmp/probe.json" -w '%{http_code}' -H "Authorization: Bearer $token" -H 'Content-Type: application/json' \
    --data-binary "@$tmp/body-$db-0.json" "$base/api/v1/incidents")
  [ "$code" = 201 ] || { echo "[$db] the report answered $code: $(cat "$tmp/probe.json")" >&2; exit 1; }
  if [ -n "$photo_rate" ]; then
    code=$(curl -s -o "$tmp/probe.json" -w '%{http_code}' -H "Authorization: Bearer $token" -H 'Content-Type: application/json' \
      --data-binary "@$tmp/photo-body-$db-0.json" "$base/api/v1/incidents")
    [ "$code" = 201 ] || { echo "[$db] the report with a photo answered $code: $(cat "$tmp/probe.json")" >&2; exit 1; }
  fi
  echo "[$db] warm-up ($warmup at 50/s)…" >&2
  attack "$tmp/targets-$db.txt" 50 "$warmup" "$tmp/warm-$db.bin"
  # RUNS pairs of a baseline and a report attack at RATE; the table gives
  # the median of each figure over the runs
  before=$(sql 'SELECT COUNT(*) FROM incidents')
  rss0=$(ps -o rss= -p "$pid")
  : >"$tmp/healthz-$db.tsv"
  : >"$tmp/report-$db.tsv"
  for run in $(seq "$runs"); do
    echo "[$db] run $run/$runs: baseline GET /healthz at $rate/s for $duration…" >&2
    attack "$tmp/healthz-targets.txt" "$rate" "$duration" "$tmp/healthz-$db-$run.bin"
    summary "$tmp/healthz-$db-$run.bin" >>"$tmp/healthz-$db.tsv"
    echo "[$db] run $run/$runs: reports POST /api/v1/incidents at $rate/s for $duration…" >&2
    attack "$tmp/targets-$db.txt" "$rate" "$duration" "$tmp/report-$db-$run.bin"
    summary "$tmp/report-$db-$run.bin" >>"$tmp/report-$db.tsv"
    "$vegeta" report -type=text <"$tmp/report-$db-$run.bin" | grep -E 'Requests|Latencies|Success|Status' | sed "s/^/[$db] /" >&2
    "$vegeta" report -type=json <"$tmp/report-$db-$run.bin" >"$tmp/report-$db-$run.json"
    drain
  done
  rss1=$(ps -o rss= -p "$pid")
  after=$(sql 'SELECT COUNT(*) FROM incidents')
  out[$db-healthz]=$(medians "$tmp/healthz-$db.tsv")
  out[$db-report]=$(medians "$tmp/report-$db.tsv")
  out[$db-healthz-runs]=$(awk '{printf "%s%.1f", (NR > 1 ? " / " : ""), $5}' "$tmp/healthz-$db.tsv")
  out[$db-report-runs]=$(awk '{printf "%s%.1f", (NR > 1 ? " / " : ""), $5}' "$tmp/report-$db.tsv")
  out[$db-stored]=$((after - before))
  out[$db-requests]=$(awk '{n += $7} END {print n}' "$tmp/report-$db.tsv")
  out[$db-rss]="$((rss0 / 1024))→$((rss1 / 1024))"
  for r in $also_rates; do
    drain
    echo "[$db] reports at $r/s for $also_duration…" >&2
    attack "$tmp/targets-$db.txt" "$r" "$also_duration" "$tmp/report-$db-at-$r.bin"
    out[$db-report-$r]=$(summary "$tmp/report-$db-at-$r.bin")
    "$vegeta" report -type=json <"$tmp/report-$db-at-$r.bin" >"$tmp/report-$db-at-$r.json"
  done
  if [ -n "$photo_rate" ]; then
    # the same reports at the same rate just before, without the photo
    drain
    echo "[$db] reports without a photo at $photo_rate/s for $photo_duration…" >&2
    attack "$tmp/targets-$db.txt" "$photo_rate" "$photo_duration" "$tmp/nophoto-$db.bin"
    out[$db-nophoto]=$(summary "$tmp/nophoto-$db.bin")
    drain
    echo "[$db] reports with a $photo_kb KB photo at $photo_rate/s for $photo_duration…" >&2
    ph0=$(sql 'SELECT COUNT(*) FROM incident_photos')
    attack "$tmp/photo-targets-$db.txt" "$photo_rate" "$photo_duration" "$tmp/photo-$db.bin"
    ph1=$(sql 'SELECT COUNT(*) FROM incident_photos')
    out[$db-photo]=$(summary "$tmp/photo-$db.bin")
    out[$db-photos]=$((ph1 - ph0))
    "$vegeta" report -type=json <"$tmp/photo-$db.bin" >"$tmp/photo-$db.json"
  fi
  out[$db-total]=$(sql 'SELECT COUNT(*) FROM incidents')
  stop
  [ "$db" = postgres ] && psql "$pg" -qX -c "DROP DATABASE IF EXISTS $pg_db WITH (FORCE)" >/dev/null
done
load1=$(cut -d' ' -f1-3 /proc/loadavg)

cpu=$(awk -F': ' '/model name/{print $2; exit}' /proc/cpuinfo)
first=${dbs%% *}
echo "## Grid: incident reports"
echo
pgv=
[ -n "$pg" ] && pgv=" · PostgreSQL $(psql "$pg" -qXAt -c 'SHOW server_version' | cut -d' ' -f1)"
echo "$(date -u +%Y-%m-%d) · $(nproc) cores, ${cpu:-unknown CPU}, $(awk '/MemTotal/{printf "%.0f GB", $2/1048576}' /proc/meminfo) ·" \
  "load average $load0 at the start, $load1 at the end · $(go env GOVERSION) · vegeta $vegeta_version$pgv ·" \
  "\`scripts/bench-grid-report.sh\` (RATE=$rate DURATION=$duration RUNS=$runs ALSO_RATES=\"$also_rates\" PHOTO_RATE=$photo_rate GRIDS=$grids)"
echo
echo "Sustained incident reports through the JSON API against the running binary (\`shequ serve\`, the demo jurisdiction"
echo "锡山区 as \`make run\` builds it: $residents residents in geocoded households, $incidents incidents): vegeta sends"
echo "\`POST /api/v1/incidents\` at a constant rate, round-robin over ${out[$first-grids]} grids in ${out[$first-villages]} villages and ${#cats[@]} categories,"
echo "each report at the point of one of the grid's households, with the admin account's API token. A report is a whole"
echo "incident: validation (the grid, the category, the point against the nearest geocoded household), the row, its first"
echo "step, three facts, the number from the village's day counter, the hash-chained audit entry — one transaction. The"
echo "baseline is \`GET /healthz\` of the same server at the same rate. At RATE=$rate/s, $runs runs of $duration, each a"
echo "baseline attack and then a report attack: the table gives the median of each figure over the runs (and each run's"
echo "p99); the other rates are one run each, in the order listed. Sustained means every request answered 201, at least"
echo "99 % of the offered rate achieved and p99 < 50 ms (no queue building up). Latencies in milliseconds. The server's"
echo "CPU per request is the \`shequ serve\` process's user + system time during the attack (/proc) over the requests: it"
echo "does not depend on what else runs on the machine, as the latencies do (and excludes PostgreSQL's own work)."
echo
echo "| database · request | offered (/s) | requests | achieved (/s) | success | p50 | p95 | p99 | max | server CPU / request | sustained? |"
echo "|---|---|---|---|---|---|---|---|---|---|---|"
for db in $dbs; do
  row "$db · baseline \`GET /healthz\` (median of $runs × $duration; p99 ${out[$db-healthz-runs]})" "$rate" "${out[$db-healthz]}" baseline
  row "$db · report \`POST /api/v1/incidents\` (median of $runs × $duration; p99 ${out[$db-report-runs]})" "$rate" "${out[$db-report]}"
  for r in $also_rates; do
    row "$db · report ($also_duration)" "$r" "${out[$db-report-$r]}"
  done
  if [ -n "$photo_rate" ]; then
    row "$db · report ($photo_duration), just before the next row" "$photo_rate" "${out[$db-nophoto]}"
    row "$db · report with one $photo_kb KB JPEG ($photo_duration)" "$photo_rate" "${out[$db-photo]}"
  fi
done
echo
for db in $dbs; do
  read -r _ _ hp50 _ hp99 _ _ hcpu <<<"${out[$db-healthz]}"
  read -r _ _ p50 _ p99 _ _ cpu <<<"${out[$db-report]}"
  line="- $db: at $rate/s $(sustained "$rate" "${out[$db-report]}" | sed 's/^yes$/sustained/; s/\*\*no\*\*/not sustained/');"
  line+=" report p50 $(awk -v a="$p50" -v b="$hp50" 'BEGIN{printf "%.1f×", a/b}') and p99 $(awk -v a="$p99" -v b="$hp99" 'BEGIN{printf "%.1f×", a/b}') the baseline's (medians);"
  line+=" the server's CPU per report $(printf %.2f "$cpu") ms ($(awk -v a="$cpu" -v b="$hcpu" 'BEGIN{printf "%.0f×", a/b}') a /healthz's);"
  line+=" ${out[$db-stored]} incidents stored during the $runs runs (${out[$db-requests]} requests); server RSS ${out[$db-rss]} MiB"
  if [ -n "$photo_rate" ]; then
    read -r _ _ np50 _ np99 _ _ <<<"${out[$db-nophoto]}"
    read -r _ _ fp50 _ fp99 _ _ <<<"${out[$db-photo]}"
    line+="; with a photo at $photo_rate/s p50 $(printf %.2f "$fp50") ms, $(awk -v a="$fp50" -v b="$np50" 'BEGIN{printf "%.1f×", a/b}') the report's"
    line+=" without (p99 $(awk -v a="$fp99" -v b="$np99" 'BEGIN{printf "%.1f×", a/b}')), ${out[$db-photos]} photos stored"
  fi
  echo "$line; ${out[$db-total]} incidents in the database at the end."
done
