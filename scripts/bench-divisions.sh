#!/usr/bin/env bash
# Division import benchmark: the complete 2016 statistical division list
# (713,031 rows) imported by Shequ into a fresh SQLite and PostgreSQL
# database, against the raw baselines of the same machine and run: the
# sqlite3 shell's `.import` and psql's `\copy` of the same (uncompressed) CSV
# into a bare table. Each is run RUNS times (default 3); prints the medians
# and ratios as a Markdown table on stdout (progress goes to stderr).
#
# Usage: scripts/bench-divisions.sh [FILE.csv[.gz]]
# Env:   RUNS=3, SHEQU_TEST_POSTGRES=postgres://… (else scripts/pg-test.sh starts one)
# Needs: go, sqlite3, psql (scripts/test-deps.sh installs them).
set -euo pipefail
cd "$(dirname "$0")/.."
file=${1:-${SHEQU_BENCH_DIVISIONS:-${SHEQU_SHARED:-../shared}/data/divisions/divisions_2016_l1-5.csv.gz}}
runs=${RUNS:-3}
for tool in go sqlite3 psql; do
  command -v "$tool" >/dev/null || { echo "$tool is missing (scripts/test-deps.sh installs it)" >&2; exit 1; }
done
[ -r "$file" ] || { echo "no such file: $file" >&2; exit 1; }
pg=${SHEQU_TEST_POSTGRES:-$(scripts/pg-test.sh start)}
export SHEQU_TEST_POSTGRES=$pg

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
csv=$tmp/divisions.csv
case "$file" in *.gz) gzip -dc "$file" >"$csv" ;; *) cp "$file" "$csv" ;; esac
rows=$(($(wc -l <"$csv") - 1))

now() { date +%s%N; }
secs() { awk -v ns="$1" 'BEGIN{printf "%.3f", ns/1e9}'; }
median() { printf '%s\n' "$@" | sort -g | awk '{v[NR]=$1} END{print (NR%2) ? v[(NR+1)/2] : (v[NR/2]+v[NR/2+1])/2}'; }

# (a), (c) and the in-transaction variants: Go benchmarks, one import per run.
echo "building the benchmark…" >&2
go test -c -o "$tmp/division.test" ./internal/division
echo "Shequ imports ($runs runs each)…" >&2
SHEQU_BENCH_DIVISIONS=$csv "$tmp/division.test" -test.run '^$' -test.bench '^BenchmarkImportFull$' \
  -test.benchtime 1x -test.count "$runs" | tee "$tmp/bench.txt" >&2
shequ() { # sub-benchmark name → seconds of each run
  awk -v n="$1" '$1 ~ "^BenchmarkImportFull/"n"(-[0-9]+)?$" {printf "%.3f\n", $3/1e9}' "$tmp/bench.txt"
}

# (b) sqlite3 shell .import into a bare table (created from the header).
echo "sqlite3 .import ($runs runs)…" >&2
sq=()
for _ in $(seq "$runs"); do
  rm -f "$tmp/bare.db"
  t0=$(now)
  sqlite3 "$tmp/bare.db" -cmd '.mode csv' ".import '$csv' t"
  sq+=("$(secs $(($(now) - t0)))")
  n=$(sqlite3 "$tmp/bare.db" 'SELECT COUNT(*) FROM t')
  [ "$n" -eq "$rows" ] || { echo "sqlite3 imported $n rows, want $rows" >&2; exit 1; }
done

# (d) psql \copy into a bare table in a scratch database.
echo "psql \\copy ($runs runs)…" >&2
bench_db=shequ_bench_copy_$$
psql "$pg" -qX -v ON_ERROR_STOP=1 -c "DROP DATABASE IF EXISTS $bench_db" -c "CREATE DATABASE $bench_db" >/dev/null
pgb=$(printf '%s' "$pg" | sed -E "s#(//[^/]*/)[^?]*#\\1$bench_db#")
pc=()
for _ in $(seq "$runs"); do
  psql "$pgb" -qX -v ON_ERROR_STOP=1 -c 'DROP TABLE IF EXISTS t' \
    -c 'CREATE TABLE t (code text, name text, level text, parent_code text, urban_rural_code text)' >/dev/null
  t0=$(now)
  psql "$pgb" -qX -v ON_ERROR_STOP=1 -c "\\copy t FROM '$csv' CSV HEADER" >/dev/null
  pc+=("$(secs $(($(now) - t0)))")
done
n=$(psql "$pgb" -qXAt -c 'SELECT COUNT(*) FROM t')
psql "$pg" -qX -c "DROP DATABASE IF EXISTS $bench_db" >/dev/null
[ "$n" -eq "$rows" ] || { echo "psql imported $n rows, want $rows" >&2; exit 1; }

mapfile -t a < <(shequ sqlite)
mapfile -t c < <(shequ postgres)
mapfile -t at < <(shequ sqlite-service)
mapfile -t ct < <(shequ postgres-service)
[ ${#a[@]} -gt 0 ] && [ ${#c[@]} -gt 0 ] || { echo "benchmark output missing" >&2; exit 1; }
ma=$(median "${a[@]}"); mc=$(median "${c[@]}"); mat=$(median "${at[@]}"); mct=$(median "${ct[@]}")
mb=$(median "${sq[@]}"); md=$(median "${pc[@]}")
ratio() { awk -v a="$1" -v b="$2" 'BEGIN{printf "%.2f×", a/b}'; }

cpu=$(awk -F': ' '/model name/{print $2; exit}' /proc/cpuinfo)
echo "### Division import: $(basename "$file"), $rows rows"
echo
echo "$(date -u +%Y-%m-%d) · $(nproc) cores, ${cpu:-unknown CPU}, $(awk '/MemTotal/{printf "%.0f GB", $2/1048576}' /proc/meminfo) · $(go env GOVERSION) ·" \
  "sqlite3 $(sqlite3 --version | cut -d' ' -f1) · PostgreSQL $(psql "$pg" -qXAt -c 'SHOW server_version' | cut -d' ' -f1) · median of $runs runs ·" \
  "\`scripts/bench-divisions.sh\`"
echo
echo "| what | runs (s) | median (s) | ratio to baseline |"
echo "|---|---|---|---|"
echo "| (a) Shequ import → SQLite (own transaction) | ${a[*]} | $ma | $(ratio "$ma" "$mb") of (b) |"
echo "| (b) baseline: \`sqlite3\` \`.import\` → bare table | ${sq[*]} | $mb | 1 |"
echo "| (c) Shequ import → PostgreSQL (own transaction, COPY) | ${c[*]} | $mc | $(ratio "$mc" "$md") of (d) |"
echo "| (d) baseline: \`psql\` \`\\copy\` → bare table | ${pc[*]} | $md | 1 |"
echo "| (e) \`shequ divisions import\` path → SQLite (with fact recount and audit entry in the same transaction) | ${at[*]} | $mat | $(ratio "$mat" "$mb") of (b) |"
echo "| (f) \`shequ divisions import\` path → PostgreSQL (same) | ${ct[*]} | $mct | $(ratio "$mct" "$md") of (d) |"
echo
echo "All four read the same uncompressed CSV. Shequ's figures include parsing and validating every row, the insert"
echo "(multi-row prepared INSERT on SQLite, COPY on PostgreSQL), primary-key and parent-index maintenance and the commit; the baselines load five text columns into"
echo "a table without keys or indexes."
