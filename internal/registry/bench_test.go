package registry_test

// The registry benchmark harness behind scripts/bench-registry.sh: one step
// per process (so each step's peak memory is its own), on the demo
// jurisdiction 锡山区 with generated residents. It is skipped unless
// SHEQU_BENCH_REGISTRY names a step, so `make test` never runs it.
//
//	SHEQU_BENCH_REGISTRY  gen | import | search | export
//	SHEQU_BENCH_DIR       working directory: residents.csv, residents.xlsx,
//	                      the key file, the SQLite database, job directories
//	SHEQU_BENCH_DB        sqlite (default) or postgres (a database
//	                      shequ_bench_registry on the SHEQU_TEST_POSTGRES server)
//	SHEQU_BENCH_N         residents in residents.csv (gen, search)
//	SHEQU_BENCH_XLSX_N    residents in residents.xlsx (gen)
//	SHEQU_BENCH_FILE      csv or xlsx (import)
//	SHEQU_BENCH_FORMAT    csv or xlsx (export)
//	SHEQU_BENCH_QUERIES   queries per search kind (search; default 200)
//
// Each step prints one line per measurement on stdout, starting with
// "BENCH " and followed by key=value fields, for the script to tabulate.

import (
	"bufio"
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"net/url"
	"os"
	"path/filepath"
	"runtime"
	"runtime/debug"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/shequ-platform/shequ/internal/demo"
	"github.com/shequ-platform/shequ/internal/division"
	"github.com/shequ-platform/shequ/internal/platform/access"
	"github.com/shequ-platform/shequ/internal/platform/audit"
	"github.com/shequ-platform/shequ/internal/platform/db"
	"github.com/shequ-platform/shequ/internal/platform/jobs"
	"github.com/shequ-platform/shequ/internal/platform/pii"
	"github.com/shequ-platform/shequ/internal/platform/policy"
	"github.com/shequ-platform/shequ/internal/platform/tabular"
	"github.com/shequ-platform/shequ/internal/registry"
	"github.com/shequ-platform/shequ/internal/registry/pinyin"
	policypacks "github.com/shequ-platform/shequ/policy"
)

// benchToday is the day of the generated data and of the service's clock.
var benchToday = time.Date(2026, 11, 23, 10, 0, 0, 0, time.FixedZone("CST", 8*3600))

const (
	benchSeed   = 1
	benchPGName = "shequ_bench_registry"
)

// benchCLI acts as `shequ import` and `shequ export` do.
var benchCLI = &access.Principal{Username: "cli", Assignments: []access.Assignment{{Role: "system_admin"}}}

func TestBenchRegistry(t *testing.T) {
	step := os.Getenv("SHEQU_BENCH_REGISTRY")
	if step == "" {
		t.Skip("set SHEQU_BENCH_REGISTRY (scripts/bench-registry.sh does)")
	}
	dir := os.Getenv("SHEQU_BENCH_DIR")
	if dir == "" {
		t.Fatal("SHEQU_BENCH_DIR is not set")
	}
	ctx := audit.WithActor(context.Background(), audit.Actor{Name: "cli", Client: "cli"})
	switch step {
	case "gen":
		benchGen(ctx, t, dir)
	case "import":
		benchImport(ctx, t, dir)
	case "search":
		benchSearch(ctx, t, dir)
	case "export":
		benchExport(ctx, t, dir)
	default:
		t.Fatalf("unknown step %q", step)
	}
}

func benchEnvInt(t *testing.T, name string, def int) int {
	v := os.Getenv(name)
	if v == "" {
		return def
	}
	n, err := strconv.Atoi(v)
	if err != nil || n < 0 {
		t.Fatalf("%s=%q: want a number", name, v)
	}
	return n
}

// benchResetPeak returns the memory of the set-up (the demo accounts'
// argon2 hashes, mostly) to the system and resets the peak resident set
// to the current one, so a step's peak is its own; it returns that.
func benchResetPeak() int64 {
	runtime.GC()
	debug.FreeOSMemory()
	_ = os.WriteFile("/proc/self/clear_refs", []byte("5"), 0)
	return benchPeakKB()
}

// benchPeakKB is the process's peak resident set (VmHWM), in KiB.
func benchPeakKB() int64 {
	b, err := os.ReadFile("/proc/self/status")
	if err != nil {
		return 0
	}
	for _, l := range strings.Split(string(b), "\n") {
		if f := strings.Fields(l); len(f) >= 2 && f[0] == "VmHWM:" {
			n, _ := strconv.ParseInt(f[1], 10, 64)
			return n
		}
	}
	return 0
}

func benchReport(kv ...any) {
	var b strings.Builder
	b.WriteString("BENCH")
	for i := 0; i+1 < len(kv); i += 2 {
		fmt.Fprintf(&b, " %v=%v", kv[i], kv[i+1])
	}
	fmt.Println(b.String())
}

// benchOpen opens the step's database: fresh (migrated, with the demo
// jurisdiction built) or the one an earlier import step left.
func benchOpen(ctx context.Context, t *testing.T, dir string, fresh bool) (*db.DB, string) {
	t.Helper()
	kind := os.Getenv("SHEQU_BENCH_DB")
	if kind == "" {
		kind = "sqlite"
	}
	var dsn string
	switch kind {
	case "sqlite":
		dsn = filepath.Join(dir, "shequ.db")
		if fresh {
			for _, suf := range []string{"", "-wal", "-shm"} {
				if err := os.Remove(dsn + suf); err != nil && !os.IsNotExist(err) {
					t.Fatal(err)
				}
			}
		}
	case "postgres":
		admin := os.Getenv("SHEQU_TEST_POSTGRES")
		if admin == "" {
			t.Fatal("SHEQU_BENCH_DB=postgres needs SHEQU_TEST_POSTGRES")
		}
		if fresh {
			a, err := sql.Open("pgx", admin)
			if err != nil {
				t.Fatal(err)
			}
			for _, q := range []string{"DROP DATABASE IF EXISTS " + benchPGName + " WITH (FORCE)", "CREATE DATABASE " + benchPGName} {
				if _, err := a.ExecContext(ctx, q); err != nil {
					t.Fatal(err)
				}
			}
			a.Close()
		}
		u, err := url.Parse(admin)
		if err != nil {
			t.Fatal(err)
		}
		u.Path = "/" + benchPGName
		dsn = u.String()
	default:
		t.Fatalf("SHEQU_BENCH_DB=%q: want sqlite or postgres", kind)
	}
	d, err := db.Open(ctx, dsn)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { d.Close() })
	if fresh {
		if err := d.Migrate(ctx); err != nil {
			t.Fatal(err)
		}
	}
	return d, kind
}

// benchService builds the registry service over d with the key file of the
// run; build makes the demo jurisdiction (divisions and grids, as `shequ
// demo` does) first.
func benchService(ctx context.Context, t *testing.T, d *db.DB, dir string, build bool) *registry.Service {
	t.Helper()
	al := &audit.Log{DB: d}
	acc := access.New(d, al, access.Config{})
	ds := division.NewService(d, al, acc)
	if build {
		if _, err := demo.Build(ctx, ds, acc, demo.Options{Password: "bench-only-password-1", Seed: benchSeed}); err != nil {
			t.Fatal(err)
		}
	}
	keys, _, err := pii.Load(filepath.Join(dir, "keys.json"))
	if err != nil {
		t.Fatal(err)
	}
	packs, err := policy.Load(policypacks.FS)
	if err != nil {
		t.Fatal(err)
	}
	s := registry.NewService(d, al, acc, keys, ds.Store, packs)
	registry.SetNow(s, func() time.Time { return benchToday })
	return s
}

func benchOptions(ctx context.Context, t *testing.T, s *registry.Service, n int) demo.ResidentOptions {
	t.Helper()
	villages, err := demo.DemoVillages(ctx, s.Divisions, demo.County)
	if err != nil {
		t.Fatal(err)
	}
	return demo.ResidentOptions{N: n, Seed: benchSeed, Today: benchToday, Villages: villages}
}

// benchGen writes residents.csv (N rows) and residents.xlsx (XLSX_N rows).
func benchGen(ctx context.Context, t *testing.T, dir string) {
	d, err := db.Open(ctx, filepath.Join(t.TempDir(), "villages.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	if err := d.Migrate(ctx); err != nil {
		t.Fatal(err)
	}
	s := benchService(ctx, t, d, dir, true)
	n, xn := benchEnvInt(t, "SHEQU_BENCH_N", 200_000), benchEnvInt(t, "SHEQU_BENCH_XLSX_N", 100_000)

	start := time.Now()
	f, err := os.Create(filepath.Join(dir, "residents.csv"))
	if err != nil {
		t.Fatal(err)
	}
	w := bufio.NewWriterSize(f, 1<<20)
	hh, err := demo.WriteResidentsCSV(w, benchOptions(ctx, t, s, n))
	if err == nil {
		err = w.Flush()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		t.Fatal(err)
	}
	st, _ := os.Stat(f.Name())
	benchReport("step", "gen", "file", "csv", "rows", n, "households", hh, "bytes", st.Size(), "secs", fmt.Sprintf("%.3f", time.Since(start).Seconds()))

	if xn == 0 {
		return
	}
	start = time.Now()
	f, err = os.Create(filepath.Join(dir, "residents.xlsx"))
	if err != nil {
		t.Fatal(err)
	}
	tw := tabular.NewXLSXWriter(f, "居民")
	if err := tw.WriteHeader(demo.ResidentColumns); err != nil {
		t.Fatal(err)
	}
	hh, err = demo.GenerateResidents(benchOptions(ctx, t, s, xn), func(r demo.Row) error {
		return tw.Write([]any{r.HouseholdNo, r.HeadID, r.Relation, r.Name, r.Gender, r.Birth, r.Ethnicity, r.IDNumber, r.Phone,
			r.Residency, r.Status, r.Party, r.Education, r.Employment, r.VillageCode, r.GridCode, r.Address, r.HouseNo, r.HouseholdKind, r.Tags})
	})
	if err == nil {
		err = tw.Close()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		t.Fatal(err)
	}
	st, _ = os.Stat(f.Name())
	benchReport("step", "gen", "file", "xlsx", "rows", xn, "households", hh, "bytes", st.Size(), "secs", fmt.Sprintf("%.3f", time.Since(start).Seconds()))
}

// benchImport imports residents.csv or residents.xlsx into a fresh
// database as `shequ import residents FILE --division 320205` does: a job
// run at once (the file copied into the job's directory, then validated,
// encrypted, indexed and written batch by batch with its checkpoint).
func benchImport(ctx context.Context, t *testing.T, dir string) {
	file := os.Getenv("SHEQU_BENCH_FILE")
	if file == "" {
		file = "csv"
	}
	path := filepath.Join(dir, "residents."+file)
	d, kind := benchOpen(ctx, t, dir, true)
	s := benchService(ctx, t, d, dir, true)
	jobsDir := filepath.Join(dir, "jobs-"+kind)
	if err := os.RemoveAll(jobsDir); err != nil {
		t.Fatal(err)
	}
	r := jobs.New(d, jobsDir, nil)
	for _, k := range s.JobKinds() {
		r.Register(k)
	}
	base := benchResetPeak()
	params := registry.ImportParams{Division: demo.County, Mode: registry.ModeValidRows, FileName: filepath.Base(path), Locale: "zh-CN"}
	start := time.Now()
	j, err := r.RunNow(ctx, benchCLI, jobs.Spec{Kind: registry.JobImport, Division: demo.County, Params: params, Input: path}, nil)
	secs := time.Since(start).Seconds()
	if err != nil {
		t.Fatal(err)
	}
	if j.Status != jobs.Done {
		t.Fatalf("import job %s: %s", j.Status, j.Error)
	}
	var res struct{ Rows, Created, Failed int64 }
	if err := json.Unmarshal(j.Result, &res); err != nil {
		t.Fatal(err)
	}
	if res.Failed != 0 || res.Created != res.Rows {
		_ = s.RowErrors(ctx, j.ID, func(line int, es registry.Errors, _ []string) error {
			if line < 20 {
				t.Log(line, registry.ReasonOf(es))
			}
			return nil
		})
		t.Fatalf("import: %s", j.Result)
	}
	peak := benchPeakKB()
	var residents, households, keys int64
	_ = d.QueryRow(ctx, "SELECT COUNT(*) FROM residents").Scan(&residents)
	_ = d.QueryRow(ctx, "SELECT COUNT(*) FROM households").Scan(&households)
	_ = d.QueryRow(ctx, "SELECT COUNT(*) FROM resident_keys").Scan(&keys)
	size := int64(0)
	if kind == "sqlite" {
		_ = d.QueryRow(ctx, "SELECT page_count * page_size FROM pragma_page_count(), pragma_page_size()").Scan(&size)
	} else {
		_ = d.QueryRow(ctx, "SELECT pg_database_size(current_database())").Scan(&size)
	}
	benchReport("step", "import", "db", kind, "file", file, "rows", res.Rows, "residents", residents, "households", households,
		"keys", keys, "secs", fmt.Sprintf("%.3f", secs), "peak_kb", peak, "base_kb", base, "db_bytes", size)
	if err := os.RemoveAll(jobsDir); err != nil { // the copy of the input
		t.Fatal(err)
	}
}

// benchQuery is one search and the resident it should find.
type benchQuery struct {
	q, name string
}

// benchKinds are the search kinds measured, in table order.
var benchKinds = []struct{ key, label string }{
	{"name2", "name, first 2 characters (张伟…)"},
	{"name", "full name"},
	{"pinyin", "full pinyin (zhangwei)"},
	{"initials", "initials (zw)"},
	{"id", "ID number, whole"},
	{"name_tail4", "name + last 4 of ID"},
	{"name_tail5", "name + last 5 of ID"},
	{"name_tail6", "name + last 6 of ID"},
	{"phone", "phone, whole"},
	{"phone_tail4", "phone, last 4 digits"},
	{"address", "address (village + house)"},
}

// benchQueries picks the queries of each kind from the generated residents
// (the same generator and options as residents.csv): n residents at random,
// the same for every kind (those with a phone for the phone kinds).
func benchQueries(t *testing.T, o demo.ResidentOptions, n int) map[string][]benchQuery {
	t.Helper()
	rnd := rand.New(rand.NewPCG(7, 11))
	pick := map[int]bool{}
	for len(pick) < min(4*n, o.N) {
		pick[rnd.IntN(o.N)] = true
	}
	var rows []demo.Row
	i := 0
	if _, err := demo.GenerateResidents(o, func(r demo.Row) error {
		if pick[i] {
			rows = append(rows, r)
		}
		i++
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	rnd.Shuffle(len(rows), func(i, j int) { rows[i], rows[j] = rows[j], rows[i] })
	out := map[string][]benchQuery{}
	add := func(kind, q, name string) {
		if len(out[kind]) < n {
			out[kind] = append(out[kind], benchQuery{q: q, name: name})
		}
	}
	for _, r := range rows {
		rs := []rune(r.Name)
		add("name2", string(rs[:min(2, len(rs))]), r.Name)
		add("name", r.Name, r.Name)
		if p := pinyin.Full(r.Name); len(p) > 0 {
			add("pinyin", p[0], r.Name)
		}
		if p := pinyin.Initials(r.Name); len(p) > 0 {
			add("initials", p[0], r.Name)
		}
		add("id", r.IDNumber, r.Name)
		add("name_tail4", r.Name+r.IDNumber[14:], r.Name)
		add("name_tail5", r.Name+r.IDNumber[13:], r.Name)
		add("name_tail6", r.Name+r.IDNumber[12:], r.Name)
		if r.Phone != "" {
			add("phone", r.Phone, r.Name)
			add("phone_tail4", r.Phone[len(r.Phone)-4:], r.Name)
		}
		// the address without the township: 严家桥村 12组 34号, 春星社区 8幢302室
		_, a, ok := strings.Cut(r.Address, " ")
		if !ok {
			a = r.Address
		}
		add("address", a, r.Name)
	}
	return out
}

// benchSearch runs each kind's queries as the county's staff would type
// them (one page of 20, the web page's size), after a short warm-up.
func benchSearch(ctx context.Context, t *testing.T, dir string) {
	d, kind := benchOpen(ctx, t, dir, false)
	s := benchService(ctx, t, d, dir, false)
	n := benchEnvInt(t, "SHEQU_BENCH_QUERIES", 200)
	qs := benchQueries(t, benchOptions(ctx, t, s, benchEnvInt(t, "SHEQU_BENCH_N", 200_000)), n)
	p := &access.Principal{Username: "county", Assignments: []access.Assignment{{Role: "county_staff", Division: demo.County}}}
	if kind == "postgres" {
		// the statistics autovacuum gathers within a minute or so of the
		// import: without them the planner misjudges the keyed-hash
		// columns (a phone tail ANDed with the whole county's division
		// index takes 15–35 ms instead of 1)
		if _, err := d.Exec(ctx, "ANALYZE"); err != nil {
			t.Fatal(err)
		}
	}
	var total int64
	_ = d.QueryRow(ctx, "SELECT COUNT(*) FROM residents").Scan(&total)
	for _, k := range benchKinds {
		list := qs[k.key]
		for _, q := range list[:min(10, len(list))] { // warm-up
			if _, err := s.Search(ctx, p, q.q, 0, 20); err != nil {
				t.Fatal(err)
			}
		}
		var ms []float64
		found, hits := 0, []int{}
		readAs := map[string]int{}
		for _, q := range list {
			start := time.Now()
			res, err := s.Search(ctx, p, q.q, 0, 20)
			ms = append(ms, float64(time.Since(start).Microseconds())/1000)
			if err != nil {
				t.Fatal(err)
			}
			readAs[res.Kind]++
			hits = append(hits, len(res.Hits))
			if slices.ContainsFunc(res.Hits, func(h registry.Hit) bool { return h.Name == q.name }) {
				found++
			}
		}
		slices.Sort(ms)
		slices.Sort(hits)
		var as []string
		for k, v := range readAs {
			as = append(as, fmt.Sprintf("%s:%d", k, v))
		}
		slices.Sort(as)
		benchReport("step", "search", "db", kind, "kind", k.key, "queries", len(list), "residents", total,
			"p50_ms", fmt.Sprintf("%.2f", benchPct(ms, 50)), "p95_ms", fmt.Sprintf("%.2f", benchPct(ms, 95)),
			"max_ms", fmt.Sprintf("%.2f", ms[len(ms)-1]), "hits_median", hits[len(hits)/2],
			"found_pct", fmt.Sprintf("%.0f", 100*float64(found)/float64(len(list))), "read_as", strings.Join(as, ","),
			"example", strings.ReplaceAll(list[0].q, " ", "␠"))
	}
}

// benchPct is the p-th percentile (nearest rank) of sorted xs.
func benchPct(xs []float64, p float64) float64 {
	if len(xs) == 0 {
		return 0
	}
	i := int(float64(len(xs))*p/100+0.999999) - 1
	return xs[min(max(i, 0), len(xs)-1)]
}

// benchExport writes the county's 户籍人口台账 (masked) as `shequ export
// registered --division 320205 --format F` does.
func benchExport(ctx context.Context, t *testing.T, dir string) {
	format := os.Getenv("SHEQU_BENCH_FORMAT")
	if format == "" {
		format = "csv"
	}
	d, kind := benchOpen(ctx, t, dir, false)
	s := benchService(ctx, t, d, dir, false)
	ep := registry.ExportParams{Ledger: registry.LedgerRegistered, Division: demo.County, Format: format, Locale: "zh-CN"}
	out := filepath.Join(dir, "export-"+kind+"."+format)
	base := benchResetPeak()
	f, err := os.Create(out)
	if err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	n, err := s.Export(ctx, benchCLI, ep, f, nil)
	if err == nil {
		err = f.Sync()
	}
	secs := time.Since(start).Seconds()
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		t.Fatal(err)
	}
	peak := benchPeakKB()
	st, _ := os.Stat(out)
	benchReport("step", "export", "db", kind, "format", format, "rows", n, "secs", fmt.Sprintf("%.3f", secs), "peak_kb", peak, "base_kb", base, "bytes", st.Size())
	_ = os.Remove(out)
}
