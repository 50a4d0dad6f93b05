#!/usr/bin/env bash
# Render benchmarks against the running binary (make bench calls this):
# the division tree page of a county with 300 villages (浦城县 350722, 302
# villages in the NBS 2016 list) and the login page, measured with wrk;
# resident-set size at idle and after the load; binary size.
# Prints a Markdown section on stdout.
set -euo pipefail
cd "$(dirname "$0")/.."
command -v wrk >/dev/null || { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq wrk >/dev/null; }
shared=${SHEQU_SHARED:-../shared}
src="$shared/data/divisions/divisions_2016_l1-5.csv.gz"
bin=./bin/shequ
work=$(mktemp -d /tmp/shequ-bench-http.XXXXXX)
port=$((18500 + RANDOM % 400))
trap 'kill $pid 2>/dev/null || true; rm -rf "$work"' EXIT
export SHEQU_DEMO_PASSWORD=bench-password-1
# the demo gives a known admin login; then the 300-village county is imported beside it
$bin demo --data "$work/data" --addr 127.0.0.1:$port >"$work/demo.log" 2>&1 & pid=$!
for _ in $(seq 100); do curl -sf "http://127.0.0.1:$port/healthz" >/dev/null && break; sleep 0.2; done
kill $pid; wait $pid 2>/dev/null || true
(echo code,name,level,parent_code,urban_rural_code; zcat "$src" | awk -F, '$1=="350000000000" || $1=="350700000000" || $1 ~ /^350722/') > "$work/pucheng.csv"
$bin divisions import "$work/pucheng.csv" --data "$work/data" >/dev/null 2>&1
$bin serve --data "$work/data" --addr 127.0.0.1:$port --log-level error >"$work/serve.log" 2>&1 & pid=$!
for _ in $(seq 100); do curl -sf "http://127.0.0.1:$port/healthz" >/dev/null && break; sleep 0.2; done
sleep 1
rss_idle=$(ps -o rss= -p $pid)
cookie=$(curl -s -D - -o /dev/null -d "username=admin&password=$SHEQU_DEMO_PASSWORD" "http://127.0.0.1:$port/login" | sed -n 's/^Set-Cookie: \(shequ_session=[^;]*\).*/\1/p' | head -1)
[ -n "$cookie" ] || { echo "bench: login failed" >&2; exit 1; }
cat > "$work/pct.lua" <<'LUA'
done = function(summary, latency, requests)
  io.write(string.format("RESULT %.0f %.2f %.2f %.2f %d\n", summary.requests / (summary.duration / 1e6),
    latency:percentile(50) / 1000, latency:percentile(95) / 1000, latency:percentile(99) / 1000, summary.errors.status + summary.errors.connect + summary.errors.read + summary.errors.write + summary.errors.timeout))
end
LUA
measure() { # url, extra header
  curl -s -o /dev/null -w '%{http_code} %{size_download}' -H "$2" -H 'Accept-Encoding: gzip' "$1" > "$work/probe"
  read -r code size < "$work/probe"
  [ "$code" = 200 ] || { echo "bench: $1 answered $code" >&2; exit 1; }
  wrk -t2 -c8 -d10s --latency -s "$work/pct.lua" -H "$2" -H 'Accept-Encoding: gzip' "$1" | awk -v size="$size" '/^RESULT/ {printf "| %s | %s | %s | %s | %s | %s |", $2, $3, $4, $5, $6, size}'
}
tree=$(measure "http://127.0.0.1:$port/divisions/350722000000000" "Cookie: $cookie")
login=$(measure "http://127.0.0.1:$port/login" "X-Bench: 1")
rss_load=$(ps -o rss= -p $pid)
size=$(stat -c %s $bin)
cat <<MD
### Page rendering under load (wrk, 2 threads, 8 connections, 10 s, against the running binary on SQLite)

| page | requests/s | p50 ms | p95 ms | p99 ms | errors | bytes (gzip) |
|---|---|---|---|---|---|---|
| division tree of 浦城县 (350722, 302 villages, counts from facts) $tree
| login page $login

### Memory and size

| measure | value |
|---|---|
| resident-set size at idle (after start-up) | $((rss_idle / 1024)) MiB |
| resident-set size after the load above | $((rss_load / 1024)) MiB |
| binary size (\`make build\`, stripped, assets embedded) | $((size / 1024 / 1024)) MiB ($size bytes) |
MD
