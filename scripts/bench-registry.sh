#!/usr/bin/env bash
# Registry benchmark: N generated residents of the demo jurisdiction 锡山区
# (internal/demo, seed 1) imported by Shequ from CSV into a fresh SQLite and
# PostgreSQL database (validation, SM4 encryption, keyed lookups, pinyin
# search keys, households, facts), beside the raw baselines of the same
# machine and run: the sqlite3 shell's `.import --csv` and psql's `\copy` of
# the same CSV into a bare table. Then an XLSX import, the search kinds over
# the imported residents (p50/p95), and the export of the 户籍人口台账 to CSV
# and XLSX beside sqlite3's / psql's CSV output of the same rows. Imports and
# exports run RUNS times (default 3) and the medians are quoted; each step is
# its own process (internal/registry/bench_test.go, TestBenchRegistry), whose
# peak resident set (VmHWM) is reported. Prints Markdown on stdout (progress
# goes to stderr).
#
# Usage: scripts/bench-registry.sh
# Env:   N=200000 (CSV residents), XLSX_N=100000, RUNS=3, QUERIES=200 (per search kind),
#        SHEQU_TEST_POSTGRES=postgres://… (else scripts/pg-test.sh starts one)
# Needs: go, sqlite3, psql (scripts/test-deps.sh installs them).
set -euo pipefail
cd "$(dirname "$0")/.."
n=${N:-200000}
xn=${XLSX_N:-100000}
runs=${RUNS:-3}
queries=${QUERIES:-200}
for tool in go sqlite3 psql; do
  command -v "$tool" >/dev/null || { echo "$tool is missing (scripts/test-deps.sh installs it)" >&2; exit 1; }
done
pg=${SHEQU_TEST_POSTGRES:-$(scripts/pg-test.sh start)}
export SHEQU_TEST_POSTGRES=$pg PGOPTIONS='-c client_min_messages=warning'

tmp=$(mktemp -d /tmp/shequ-bench-registry.XXXXXX)
bench_db=shequ_bench_copy_$$
cleanup() {
  psql "$pg" -qX -c "DROP DATABASE IF EXISTS shequ_bench_registry WITH (FORCE)" -c "DROP DATABASE IF EXISTS $bench_db WITH (FORCE)" >/dev/null 2>&1 || true
  rm -rf "$tmp"
}
trap cleanup EXIT
export SHEQU_BENCH_DIR=$tmp SHEQU_BENCH_N=$n SHEQU_BENCH_XLSX_N=$xn SHEQU_BENCH_QUERIES=$queries
unset SHEQU_KEYS # the harness keeps its own key file in $tmp

now() { date +%s%N; }
secs() { awk -v ns="$1" 'BEGIN{printf "%.3f", ns/1e9}'; }
median() { printf '%s\n' "$@" | sort -g | awk '{v[NR]=$1} END{printf "%.10g\n", (NR%2) ? v[(NR+1)/2] : (v[NR/2]+v[NR/2+1])/2}'; }
ratio() { awk -v a="$1" -v b="$2" 'BEGIN{printf "%.1f×", a/b}'; }
# thousands separators: 1234567 → 1,234,567
big() { awk -v x="$1" 'BEGIN{s=sprintf("%.0f", x); o=""; while (length(s) > 3) {o="," substr(s, length(s)-2) o; s=substr(s, 1, length(s)-3)} print s o}'; }
rate() { big "$(awk -v r="$1" -v s="$2" 'BEGIN{printf "%.0f", r/s}')"; }
mib() { awk -v k="$1" 'BEGIN{printf "%.0f", k/1024}'; }
peak() { # peak RSS in KiB of a command (GNU time), or nothing
  if [ -x /usr/bin/time ]; then /usr/bin/time -f %M -o "$tmp/time.txt" "$@"; cat "$tmp/time.txt"; else "$@"; fi
}

echo "building the benchmark…" >&2
go test -c -o "$tmp/registry.test" ./internal/registry
step() { # step ENV=… …: one harness step; its BENCH lines go to bench.txt
  if ! env "$@" "$tmp/registry.test" -test.run '^TestBenchRegistry$' -test.count 1 -test.timeout 120m >"$tmp/out.txt" 2>&1; then
    cat "$tmp/out.txt" >&2
    exit 1
  fi
  grep '^BENCH ' "$tmp/out.txt" | tee -a "$tmp/bench.txt" >&2
}
# values of field F on the BENCH lines matching all the given key=value pairs
field() {
  local f=$1; shift
  awk -v f="$f" -v want="$*" 'BEGIN{k=split(want, w, " ")}
    /^BENCH / {delete m; for (i=2;i<=NF;i++) {j=index($i, "="); m[substr($i, 1, j-1)]=substr($i, j+1)}
      for (i=1;i<=k;i++) {j=index(w[i], "="); if (m[substr(w[i], 1, j-1)] != substr(w[i], j+1)) next}
      if (f in m) print m[f]}' "$tmp/bench.txt"
}

echo "generating $n residents (CSV) and $xn (XLSX)…" >&2
step SHEQU_BENCH_REGISTRY=gen
csv=$tmp/residents.csv
rows=$(field rows step=gen file=csv)
households=$(field households step=gen file=csv)
csv_bytes=$(field bytes step=gen file=csv)

# ---- SQLite ----
echo "sqlite3 .import --csv ($runs runs)…" >&2
sq=(); sq_kb=()
for _ in $(seq "$runs"); do
  rm -f "$tmp/bare.db"
  t0=$(now)
  kb=$(peak sqlite3 "$tmp/bare.db" ".import --csv '$csv' t")
  sq+=("$(secs $(($(now) - t0)))"); sq_kb+=("${kb:-0}")
  got=$(sqlite3 "$tmp/bare.db" 'SELECT COUNT(*) FROM t')
  [ "$got" -eq "$rows" ] || { echo "sqlite3 imported $got rows, want $rows" >&2; exit 1; }
done
echo "Shequ import CSV → SQLite ($runs runs)…" >&2
for _ in $(seq "$runs"); do step SHEQU_BENCH_REGISTRY=import SHEQU_BENCH_DB=sqlite SHEQU_BENCH_FILE=csv; done
echo "search on SQLite…" >&2
step SHEQU_BENCH_REGISTRY=search SHEQU_BENCH_DB=sqlite
echo "export from SQLite ($runs runs each)…" >&2
for f in csv xlsx; do
  for _ in $(seq "$runs"); do step SHEQU_BENCH_REGISTRY=export SHEQU_BENCH_DB=sqlite SHEQU_BENCH_FORMAT=$f; done
done
echo "sqlite3 CSV output of the same rows ($runs runs)…" >&2
sqo=()
for _ in $(seq "$runs"); do
  t0=$(now)
  sqlite3 "$tmp/bare.db" -cmd '.mode csv' -cmd '.headers on' -cmd ".once '$tmp/bare-out.csv'" "SELECT * FROM t WHERE \"户籍类型\" = '户籍人口'"
  sqo+=("$(secs $(($(now) - t0)))")
done
sqo_rows=$(($(wc -l <"$tmp/bare-out.csv") - 1))
rm -f "$tmp/bare.db" "$tmp/bare-out.csv"
echo "Shequ import XLSX → SQLite ($runs runs)…" >&2
for _ in $(seq "$runs"); do step SHEQU_BENCH_REGISTRY=import SHEQU_BENCH_DB=sqlite SHEQU_BENCH_FILE=xlsx; done
rm -f "$tmp"/shequ.db*

# ---- PostgreSQL ----
echo "psql \\copy ($runs runs)…" >&2
psql "$pg" -qX -v ON_ERROR_STOP=1 -c "DROP DATABASE IF EXISTS $bench_db" -c "CREATE DATABASE $bench_db" >/dev/null
pgb=$(printf '%s' "$pg" | sed -E "s#(//[^/]*/)[^?]*#\\1$bench_db#")
cols=$(seq 20 | sed 's/.*/c& text/' | paste -sd, -)
pc=()
for _ in $(seq "$runs"); do
  psql "$pgb" -qX -v ON_ERROR_STOP=1 -c 'DROP TABLE IF EXISTS t' -c "CREATE TABLE t ($cols)" >/dev/null
  t0=$(now)
  psql "$pgb" -qX -v ON_ERROR_STOP=1 -c "\\copy t FROM '$csv' CSV HEADER" >/dev/null
  pc+=("$(secs $(($(now) - t0)))")
done
got=$(psql "$pgb" -qXAt -c 'SELECT COUNT(*) FROM t')
[ "$got" -eq "$rows" ] || { echo "psql imported $got rows, want $rows" >&2; exit 1; }
echo "psql \\copy TO of the same rows ($runs runs)…" >&2
pco=()
for _ in $(seq "$runs"); do
  t0=$(now)
  psql "$pgb" -qX -v ON_ERROR_STOP=1 -c "\\copy (SELECT * FROM t WHERE c10 = '户籍人口') TO '$tmp/bare-out.csv' CSV HEADER" >/dev/null
  pco+=("$(secs $(($(now) - t0)))")
done
rm -f "$tmp/bare-out.csv"
psql "$pg" -qX -c "DROP DATABASE IF EXISTS $bench_db" >/dev/null
echo "Shequ import CSV → PostgreSQL ($runs runs)…" >&2
for _ in $(seq "$runs"); do step SHEQU_BENCH_REGISTRY=import SHEQU_BENCH_DB=postgres SHEQU_BENCH_FILE=csv; done
echo "search on PostgreSQL…" >&2
step SHEQU_BENCH_REGISTRY=search SHEQU_BENCH_DB=postgres
echo "export from PostgreSQL ($runs runs each)…" >&2
for f in csv xlsx; do
  for _ in $(seq "$runs"); do step SHEQU_BENCH_REGISTRY=export SHEQU_BENCH_DB=postgres SHEQU_BENCH_FORMAT=$f; done
done

# ---- tables ----
list() { local -a v; mapfile -t v < <(field "$@"); echo "${v[*]}"; }
med() { local -a v; mapfile -t v < <(field "$@"); [ ${#v[@]} -gt 0 ] || { echo "benchmark output missing: $*" >&2; exit 1; }; median "${v[@]}"; }
ia=$(med secs step=import db=sqlite file=csv); ia_kb=$(med peak_kb step=import db=sqlite file=csv)
ic=$(med secs step=import db=postgres file=csv); ic_kb=$(med peak_kb step=import db=postgres file=csv)
ix=$(med secs step=import db=sqlite file=xlsx); ix_kb=$(med peak_kb step=import db=sqlite file=xlsx)
mb=$(median "${sq[@]}"); mb_kb=$(median "${sq_kb[@]}"); md=$(median "${pc[@]}")
base_kb=$(med base_kb step=import db=sqlite file=csv)
db_bytes=$(med db_bytes step=import db=sqlite file=csv); pg_bytes=$(med db_bytes step=import db=postgres file=csv)
keys=$(med keys step=import db=sqlite file=csv)
exrows=$(med rows step=export db=sqlite format=csv)
[ "$exrows" -eq "$sqo_rows" ] || echo "warning: Shequ exported $exrows rows, sqlite3 $sqo_rows" >&2
extra() { awk -v s="$1" -v n="$n" 'BEGIN{printf "%.0f", s*1000000/n}'; }
kb_cell() { [ "$1" != 0 ] && echo "$(mib "$1")" || echo "n/a"; }

cpu=$(awk -F': ' '/model name/{print $2; exit}' /proc/cpuinfo)
echo "### Registry: $(big "$rows") residents in $(big "$households") households (CSV, $(awk -v b="$csv_bytes" 'BEGIN{printf "%.0f", b/1048576}') MiB)"
echo
echo "$(date -u +%Y-%m-%d) · $(nproc) cores, ${cpu:-unknown CPU}, $(awk '/MemTotal/{printf "%.0f GB", $2/1048576}' /proc/meminfo) · $(go env GOVERSION) ·" \
  "sqlite3 $(sqlite3 --version | cut -d' ' -f1) · PostgreSQL $(psql "$pg" -qXAt -c 'SHOW server_version' | cut -d' ' -f1) · median of $runs runs ·" \
  "\`scripts/bench-registry.sh\` (N=$n XLSX_N=$xn)"
echo
echo "The residents are the demo generator's (internal/demo, seed 1) for the 120 villages and communities of 锡山区 with their"
echo "grids: 20 columns as a clerk's 户籍 spreadsheet has them (户号, 户主身份证号, 姓名, 公民身份号码, 联系电话, 所属村社区, 所属网格,"
echo "住址, 标签 …). Shequ imports them as \`shequ import residents FILE --division 320205\` does: a job run at once (the file"
echo "copied into the job's directory), every row validated (ID checksum and birth date, phone, labels, village and grid,"
echo "tags against the policy pack), ID number and phone encrypted (SM4-GCM) with keyed SM3 lookups and tails, households"
echo "created by 户号, $(big "$keys") pinyin/initials/name search keys, population facts, and a checkpoint committed with each batch"
echo "of 1,000 rows. The baselines load the same 20 columns as text into a table without keys or indexes."
echo
echo "| what | runs (s) | median (s) | rows/s | peak RSS (MiB) | ratio to baseline |"
echo "|---|---|---|---|---|---|"
echo "| (a) Shequ import CSV → SQLite | $(list secs step=import db=sqlite file=csv) | $ia | $(rate "$rows" "$ia") | $(mib "$ia_kb") | $(ratio "$ia" "$mb") of (b) |"
echo "| (b) baseline: \`sqlite3\` \`.import --csv\` → bare table | ${sq[*]} | $mb | $(rate "$rows" "$mb") | $(kb_cell "$mb_kb") | 1 |"
echo "| (c) Shequ import CSV → PostgreSQL | $(list secs step=import db=postgres file=csv) | $ic | $(rate "$rows" "$ic") | $(mib "$ic_kb") (client) | $(ratio "$ic" "$md") of (d) |"
echo "| (d) baseline: \`psql\` \`\\copy … CSV HEADER\` → bare table | ${pc[*]} | $md | $(rate "$rows" "$md") | | 1 |"
echo "| (e) Shequ import XLSX ($(big "$xn") rows) → SQLite | $(list secs step=import db=sqlite file=xlsx) | $ix | $(rate "$xn" "$ix") | $(mib "$ix_kb") | $(awk -v a="$ix" -v x="$xn" -v b="$ia" -v r="$rows" 'BEGIN{printf "%.1f×", (a/x)/(b/r)}') of (a) per row$([ "$xn" -lt "$n" ] && echo " (fewer rows: smaller indexes)") |"
echo
if [ "$n" -ne 1000000 ]; then
  echo "1,000,000 residents, extrapolated linearly from these $(big "$rows") (not measured): (a) ≈ $(extra "$ia") s, (b) ≈ $(extra "$mb") s,"
  echo "(c) ≈ $(extra "$ic") s, (d) ≈ $(extra "$md") s. For Shequ this is a lower bound: its cost per row grows with the size of"
  echo "the indexes each batch writes into (keyed hashes and search keys are inserted in random order)."
  echo
fi
echo "Peak RSS is the Shequ process's VmHWM during the step (the harness runs each step in its own process and resets the"
echo "mark after its set-up; the process holds $(mib "$base_kb") MiB when the import starts); for PostgreSQL it is the client's only,"
echo "and for (b) that of the sqlite3 shell (GNU time). Database size after (a): SQLite $(awk -v b="$db_bytes" 'BEGIN{printf "%.0f", b/1048576}') MiB, PostgreSQL $(awk -v b="$pg_bytes" 'BEGIN{printf "%.0f", b/1048576}') MiB."
echo
echo "Search over the $(big "$rows") residents of (a) and (c), as a county clerk (scope 锡山区) types it: $queries queries of each kind,"
echo "from residents picked at random, one page of 20, one after the other after 10 warm-up queries (milliseconds; service call,"
echo "without HTTP; PostgreSQL after \`ANALYZE\`, as autovacuum leaves it shortly after an import; hits and page 1 on SQLite):"
echo
echo "| query kind | example | SQLite p50 | SQLite p95 | PostgreSQL p50 | PostgreSQL p95 | hits (median) | person on page 1 |"
echo "|---|---|---|---|---|---|---|---|"
while IFS='|' read -r key label; do
  ex=$(field example step=search db=sqlite kind="$key" | head -1 | sed 's/␠/ /g')
  echo "| $label | $ex | $(field p50_ms step=search db=sqlite kind="$key") | $(field p95_ms step=search db=sqlite kind="$key") |" \
    "$(field p50_ms step=search db=postgres kind="$key") | $(field p95_ms step=search db=postgres kind="$key") |" \
    "$(field hits_median step=search db=sqlite kind="$key") | $(field found_pct step=search db=sqlite kind="$key") % |"
done <<'KINDS'
name2|name, first 2 characters
name|full name
pinyin|full pinyin
initials|initials
id|ID number, whole
name_tail4|name + last 4 of ID number
name_tail5|name + last 5 of ID number
name_tail6|name + last 6 of ID number
phone|phone, whole
phone_tail4|phone, last 4 digits
address|address (village, group, house)
KINDS
echo
ea=$(med secs step=export db=sqlite format=csv); ex_a=$(med secs step=export db=sqlite format=xlsx)
ec=$(med secs step=export db=postgres format=csv); ex_c=$(med secs step=export db=postgres format=xlsx)
mso=$(median "${sqo[@]}"); mpo=$(median "${pco[@]}")
echo "Export of the 户籍人口台账 of the county ($(big "$exrows") rows: the residents with 户籍人口; masked ID numbers and phones) as"
echo "\`shequ export registered --division 320205\` writes it (19 columns with labels, village and grid names, tags, age), beside the"
echo "CSV output of the same rows of the bare tables:"
echo
echo "| what | runs (s) | median (s) | rows/s | peak RSS (MiB) | ratio to baseline |"
echo "|---|---|---|---|---|---|"
echo "| (f) Shequ export CSV ← SQLite | $(list secs step=export db=sqlite format=csv) | $ea | $(rate "$exrows" "$ea") | $(mib "$(med peak_kb step=export db=sqlite format=csv)") | $(ratio "$ea" "$mso") of (g) |"
echo "| (g) baseline: \`sqlite3\` \`.mode csv\` \`SELECT\` ← bare table | ${sqo[*]} | $mso | $(rate "$exrows" "$mso") | | 1 |"
echo "| (h) Shequ export XLSX ← SQLite | $(list secs step=export db=sqlite format=xlsx) | $ex_a | $(rate "$exrows" "$ex_a") | $(mib "$(med peak_kb step=export db=sqlite format=xlsx)") | $(ratio "$ex_a" "$mso") of (g) |"
echo "| (i) Shequ export CSV ← PostgreSQL | $(list secs step=export db=postgres format=csv) | $ec | $(rate "$exrows" "$ec") | $(mib "$(med peak_kb step=export db=postgres format=csv)") | $(ratio "$ec" "$mpo") of (j) |"
echo "| (j) baseline: \`psql\` \`\\copy (SELECT …) TO … CSV HEADER\` ← bare table | ${pco[*]} | $mpo | $(rate "$exrows" "$mpo") | | 1 |"
echo "| (k) Shequ export XLSX ← PostgreSQL | $(list secs step=export db=postgres format=xlsx) | $ex_c | $(rate "$exrows" "$ex_c") | $(mib "$(med peak_kb step=export db=postgres format=xlsx)") | $(ratio "$ex_c" "$mpo") of (j) |"
