#!/usr/bin/env bash
# Service-window intake benchmark: sustained intake of cases through the JSON
# API (POST /api/v1/cases, decision accept) against the running binary, on
# SQLite and on PostgreSQL, with vegeta at a constant rate; beside it, in the
# same run and at the same rate, GET /healthz (the raw baseline of the same
# server, middleware and loopback). Each intake is a whole case: validation
# against the item's form and materials, the case number, the case row, its
# first step, the audit entry (hash chain) and the facts, in one transaction.
#
# The jurisdiction is the demo's (锡山区, `shequ demo`); the requests go
# round-robin to the windows of 20 of its villages, for a village-level item
# of the xishan-2008 catalogue without registry fields, with every field and
# material filled in, for walk-in applicants (name and phone). The server
# runs with --log-level error.
#
# Prints a Markdown section ("## Service window: intake") on stdout; progress
# goes to stderr. Usage: scripts/bench-window-intake.sh
# Env: RATE=500 (requests/s), DURATION=30s, WARMUP=5s, DBS="sqlite postgres",
#      SHEQU_TEST_POSTGRES=postgres://… (else scripts/pg-test.sh starts one),
#      ALSO_RATES="250 150" ALSO_DURATION=15s: when a database misses the goal at
#      RATE, intake is measured again at these rates to show what it sustains,
#      PROFILE=1: also take a 20 s CPU profile of the server during a second
#      intake attack (go tool pprof -top, first lines, on stderr and in
#      $BENCH_KEEP if set).
# Needs: go, curl, jq, python3 with PyYAML (to read the catalogue), sqlite3,
#        psql (scripts/test-deps.sh installs the last two).
set -euo pipefail
cd "$(dirname "$0")/.."
rate=${RATE:-500}
duration=${DURATION:-30s}
warmup=${WARMUP:-5s}
dbs=${DBS:-sqlite postgres}
also_rates=${ALSO_RATES-250 150}
also_duration=${ALSO_DURATION:-15s}
vegeta_version=v12.13.0 # github.com/tsenart/vegeta, pinned
for tool in go curl jq python3 sqlite3 psql; do
  command -v "$tool" >/dev/null || { echo "$tool is missing" >&2; exit 1; }
done

tmp=$(mktemp -d /tmp/shequ-bench-window.XXXXXX)
pid=
pg_db=shequ_bench_window_$$
pg=
cleanup() {
  [ -n "$pid" ] && kill "$pid" 2>/dev/null && wait "$pid" 2>/dev/null || true
  [ -n "$pg" ] && psql "$pg" -qX -c "DROP DATABASE IF EXISTS $pg_db WITH (FORCE)" >/dev/null 2>&1 || true
  [ -n "${BENCH_KEEP:-}" ] && mkdir -p "$BENCH_KEEP" && cp -r "$tmp"/*.txt "$tmp"/*.json "$BENCH_KEEP"/ 2>/dev/null || true
  rm -rf "$tmp"
}
trap cleanup EXIT

# ---- tools ----
echo "building shequ and vegeta $vegeta_version…" >&2
mkdir -p bin
shequ=bin/shequ
go build -o "$shequ" ./cmd/shequ
GOBIN=$tmp go install "github.com/tsenart/vegeta/v12@$vegeta_version"
vegeta=$tmp/vegeta

# ---- the requests ----
# villages: the first 20 of the demo's division list
mapfile -t villages < <(awk -F, '$3 == 5 {print $1}' internal/demo/xishan-2016.csv | head -20)
[ ${#villages[@]} -gt 0 ] || { echo "no villages in internal/demo/xishan-2016.csv" >&2; exit 1; }
# the item and a complete body for it
python3 - policy/xishan-2008/window.yaml >"$tmp/body.json" <<'PY'
import json, sys, datetime, yaml
cat = yaml.safe_load(open(sys.argv[1]))
for it in cat["items"]:
    fields = it.get("fields") or []
    if it.get("level") != "village" or any(f["type"] == "resident" for f in fields):
        continue
    values = {}
    for f in fields:
        t = f["type"]
        if t == "text":
            values[f["key"]] = "测试"[: max(1, f.get("max_length", 500))]
        elif t == "number":
            values[f["key"]] = str(f.get("min") or 1) if (f.get("min") or f.get("max")) else "1"
        elif t == "date":
            values[f["key"]] = datetime.date.today().isoformat()
        elif t == "choice":
            values[f["key"]] = f["choices"][0]["key"]
    body = {"unit": "UNIT", "item_code": it["code"], "name": "王芳", "phone": "13912345678", "fields": values,
            "materials": [m["key"] for m in it.get("materials") or []], "decision": "accept",
            "description": "压力测试办件"}
    json.dump(body, sys.stdout, ensure_ascii=False)
    break
else:
    sys.exit("no village-level item without registry fields in the xishan-2008 catalogue")
PY
item=$(jq -r .item_code "$tmp/body.json")
echo "  item $item at ${#villages[@]} villages" >&2

port=$((18900 + RANDOM % 400))
base=http://127.0.0.1:$port
wait_up() {
  for _ in $(seq 150); do curl -sf "$base/healthz" >/dev/null && return 0; sleep 0.2; done
  echo "the server did not start" >&2; cat "$tmp/serve.log" >&2; exit 1
}
stop() { kill "$pid" 2>/dev/null || true; wait "$pid" 2>/dev/null || true; pid=; }

export SHEQU_DEMO_PASSWORD=bench-password-1
# report FILE → "rate success p50 p95 p99 max" (ms)
summary() {
  "$vegeta" report -type=json <"$1" | jq -r '[.throughput, .success, .latencies["50th"]/1e6, .latencies["95th"]/1e6, .latencies["99th"]/1e6, .latencies.max/1e6, .requests] | @tsv'
}
row() { # label, summary line, goal check
  read -r thr ok p50 p95 p99 max n <<<"$2"
  printf '| %s | %s | %.1f | %.2f %% | %.2f | %.2f | %.2f | %.1f |\n' "$1" "$n" "$thr" "$(awk -v s="$ok" 'BEGIN{print s*100}')" "$p50" "$p95" "$p99" "$max"
}

# met SUMMARY: the goal (≥ 500 cases/s, i.e. the offered 500/s within 1 %, p99 < 50 ms, no failures)
met() {
  read -r thr ok _ _ p99 _ _ <<<"$1"
  awk -v t="$thr" -v p="$p99" -v s="$ok" 'BEGIN{exit !(t >= 495 && p < 50 && s >= 0.999)}'
}

declare -A out
for db in $dbs; do
  data=$tmp/data-$db
  case $db in
  sqlite) dsn=$data/shequ.db; count() { sqlite3 "$dsn" 'SELECT COUNT(*) FROM cases'; } ;;
  postgres)
    pg=${SHEQU_TEST_POSTGRES:-$(scripts/pg-test.sh start)}
    psql "$pg" -qX -v ON_ERROR_STOP=1 -c "DROP DATABASE IF EXISTS $pg_db" -c "CREATE DATABASE $pg_db" >/dev/null
    dsn=$(printf '%s' "$pg" | sed -E "s#(//[^/]*/)[^?]*#\\1$pg_db#")
    count() { psql "$dsn" -qXAt -c 'SELECT COUNT(*) FROM cases'; }
    ;;
  *) echo "unknown database $db" >&2; exit 1 ;;
  esac
  echo "[$db] building the demo jurisdiction…" >&2
  "$shequ" demo --data "$data" --db "$dsn" --addr 127.0.0.1:$port >"$tmp/serve.log" 2>&1 & pid=$!
  wait_up; stop
  token=$("$shequ" user token admin --name bench --data "$data" --db "$dsn" 2>/dev/null | tail -1)
  [[ $token == shq_* ]] || { echo "no API token" >&2; exit 1; }
  : >"$tmp/targets-$db.txt"
  for v in "${villages[@]}"; do
    sed "s/\"UNIT\"/\"$v\"/" "$tmp/body.json" >"$tmp/body-$v.json"
    printf 'POST %s/api/v1/cases\nAuthorization: Bearer %s\nContent-Type: application/json\n@%s\n\n' "$base" "$token" "$tmp/body-$v.json" >>"$tmp/targets-$db.txt"
  done
  "$shequ" serve --data "$data" --db "$dsn" --addr 127.0.0.1:$port --log-level error >"$tmp/serve.log" 2>&1 & pid=$!
  wait_up
  code=$(curl -s -o "$tmp/probe.json" -w '%{http_code}' -H "Authorization: Bearer $token" -H 'Content-Type: application/json' \
    --data-binary "@$tmp/body-${villages[0]}.json" "$base/api/v1/cases")
  [ "$code" = 201 ] || { echo "[$db] intake answered $code: $(cat "$tmp/probe.json")" >&2; exit 1; }
  before=$(count)
  echo "[$db] warm-up ($warmup at 100/s)…" >&2
  "$vegeta" attack -targets="$tmp/targets-$db.txt" -rate=100/s -duration="$warmup" -timeout=30s >"$tmp/warm-$db.bin"
  echo "[$db] baseline: GET /healthz at $rate/s for $duration…" >&2
  echo "GET $base/healthz" | "$vegeta" attack -rate="$rate/s" -duration="$duration" -timeout=30s >"$tmp/healthz-$db.bin"
  echo "[$db] intake: POST /api/v1/cases at $rate/s for $duration…" >&2
  mid=$(count)
  rss0=$(ps -o rss= -p "$pid")
  "$vegeta" attack -targets="$tmp/targets-$db.txt" -rate="$rate/s" -duration="$duration" -timeout=30s >"$tmp/intake-$db.bin"
  rss1=$(ps -o rss= -p "$pid")
  after=$(count)
  out[$db-healthz]=$(summary "$tmp/healthz-$db.bin")
  out[$db-intake]=$(summary "$tmp/intake-$db.bin")
  out[$db-stored]=$((after - mid))
  out[$db-rss]="$((rss0 / 1024))→$((rss1 / 1024))"
  "$vegeta" report -type=text <"$tmp/intake-$db.bin" | sed "s/^/[$db] /" >&2
  "$vegeta" report -type=json <"$tmp/intake-$db.bin" >"$tmp/intake-$db.json"
  out[$db-also]=
  if ! met "${out[$db-intake]}"; then
    for r in $also_rates; do
      sleep 5 # let a backlog drain
      echo "[$db] intake at $r/s for $also_duration…" >&2
      "$vegeta" attack -targets="$tmp/targets-$db.txt" -rate="$r/s" -duration="$also_duration" -timeout=30s >"$tmp/intake-$db-$r.bin"
      out[$db-also]+=" $r"
      out[$db-intake-$r]=$(summary "$tmp/intake-$db-$r.bin")
    done
  fi
  if [ -n "${PROFILE:-}" ]; then
    echo "[$db] CPU profile of the server during intake at $rate/s (20 s)…" >&2
    if curl -sf -o /dev/null "$base/debug/pprof/" 2>/dev/null; then
      "$vegeta" attack -targets="$tmp/targets-$db.txt" -rate="$rate/s" -duration=22s -timeout=30s >/dev/null &
      curl -sf -o "$tmp/cpu-$db.pprof" "$base/debug/pprof/profile?seconds=20"
      wait
      go tool pprof -top -nodecount=40 "$shequ" "$tmp/cpu-$db.pprof" 2>/dev/null | tee "$tmp/pprof-$db.txt" >&2
    else
      echo "[$db] the binary exposes no /debug/pprof: profile Service.Intake with a Go benchmark instead" >&2
    fi
  fi
  stop
  [ "$db" = postgres ] && psql "$pg" -qX -c "DROP DATABASE IF EXISTS $pg_db WITH (FORCE)" >/dev/null
done

cpu=$(awk -F': ' '/model name/{print $2; exit}' /proc/cpuinfo)
echo "## Service window: intake"
echo
pgv=
[ -n "$pg" ] && pgv=" · PostgreSQL $(psql "$pg" -qXAt -c 'SHOW server_version' | cut -d' ' -f1)"
echo "$(date -u +%Y-%m-%d) · $(nproc) cores, ${cpu:-unknown CPU}, $(awk '/MemTotal/{printf "%.0f GB", $2/1048576}' /proc/meminfo) · $(go env GOVERSION) ·" \
  "vegeta $vegeta_version$pgv · \`scripts/bench-window-intake.sh\` (RATE=$rate DURATION=$duration)"
echo
echo "Sustained intake through the JSON API against the running binary (\`shequ serve\`, the demo jurisdiction 锡山区):"
echo "vegeta sends \`POST /api/v1/cases\` at a constant $rate requests/s for $duration, round-robin over ${#villages[@]} village"
echo "windows, each a complete walk-in intake of $item with decision accept (form, materials, SM4-encrypted phone, case"
echo "number, case row, first step, hash-chained audit entry, facts — one transaction). The baseline is \`GET /healthz\` of"
echo "the same server at the same rate, just before. Goal: ≥ 500 cases/s with p99 < 50 ms. Latencies in milliseconds."
echo
echo "| database · request | requests | achieved rate (/s) | success | p50 | p95 | p99 | max |"
echo "|---|---|---|---|---|---|---|---|"
for db in $dbs; do
  row "$db · baseline \`GET /healthz\`" "${out[$db-healthz]}"
  row "$db · intake \`POST /api/v1/cases\`" "${out[$db-intake]}"
  for r in ${out[$db-also]}; do
    row "$db · intake at $r/s ($also_duration)" "${out[$db-intake-$r]}"
  done
done
echo
for db in $dbs; do
  read -r _ _ hp50 _ hp99 _ _ <<<"${out[$db-healthz]}"
  read -r thr ok p50 _ p99 _ n <<<"${out[$db-intake]}"
  verdict=$(awk -v t="$thr" -v p="$p99" -v s="$ok" -v r="$rate" 'BEGIN{
    if (t >= 495 && p < 50 && s >= 0.999) print "goal met";
    else printf "goal missed: %s%s%s", (t < 500 ? sprintf("%.0f cases/s (%.0f %% of 500)", t, t/5) : ""), (t < 500 && p >= 50 ? ", " : ""), (p >= 50 ? sprintf("p99 %.1f ms (%.1f× the 50 ms)", p, p/50) : (s < 0.999 ? sprintf("success %.2f %%", s*100) : "")) }')
  echo "- $db: $verdict; p50 $(awk -v a="$p50" -v b="$hp50" 'BEGIN{printf "%.1f×", a/b}') and p99 $(awk -v a="$p99" -v b="$hp99" 'BEGIN{printf "%.1f×", a/b}') the baseline's;" \
    "${out[$db-stored]} cases stored during the attack ($n requests); server RSS ${out[$db-rss]} MiB."
done
