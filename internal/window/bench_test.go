package window_test

// The dashboard benchmark behind scripts/bench-window-dashboard.sh: the
// demo county 锡山区 (9 townships, 120 villages and communities) filled with
// N cases accepted at its windows over the twelve months before the day of
// the run, then Service.Figures read as the county's, a township's and a
// village's staff would, and the whole dashboard page through the real
// renderer. It is skipped unless SHEQU_BENCH_WINDOW is set, so `make test`
// never runs it.
//
//	SHEQU_BENCH_WINDOW   any value: run
//	SHEQU_BENCH_DB       sqlite (default, a file in SHEQU_BENCH_DIR or a
//	                     temporary directory) or postgres (a database
//	                     shequ_bench_window on the SHEQU_TEST_POSTGRES server)
//	SHEQU_BENCH_SIZES    cases per run, comma-separated (default 100000,1000000)
//	SHEQU_BENCH_QUERIES  timed calls per measurement (default 200)
//
// The cases are NOT taken in through the service: that would take hours
// for a million. They are written with multi-row INSERTs straight into the
// cases table, each with a plausible life (accepted on a working day, most
// completed within the item's time limit, some late, a few stuck and
// overdue, the recent ones still open, half of the completed rated), and the
// facts rows are computed from the same cases and written the same way —
// exactly the rows the service's own increments would have left (the
// figures tests check those increments). Each measurement line is printed
// as "BENCH key=value …" for the script.

import (
	"context"
	"fmt"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"os"
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
	"github.com/shequ-platform/shequ/internal/platform/calendar"
	"github.com/shequ-platform/shequ/internal/platform/db"
	"github.com/shequ-platform/shequ/internal/platform/db/dbtest"
	"github.com/shequ-platform/shequ/internal/platform/pii"
	"github.com/shequ-platform/shequ/internal/platform/policy"
	"github.com/shequ-platform/shequ/internal/platform/web"
	"github.com/shequ-platform/shequ/internal/registry"
	"github.com/shequ-platform/shequ/internal/window"
	policypacks "github.com/shequ-platform/shequ/policy"
)

// benchWinToday is the day of the run's clock: the cases fill the twelve
// months before it.
var benchWinToday = time.Date(2026, 11, 23, 10, 0, 0, 0, china)

const benchWinPG = "shequ_bench_window"

func TestBenchWindowDashboard(t *testing.T) {
	if os.Getenv("SHEQU_BENCH_WINDOW") == "" {
		t.Skip("set SHEQU_BENCH_WINDOW (scripts/bench-window-dashboard.sh does)")
	}
	sizes := []int{100_000, 1_000_000}
	if s := os.Getenv("SHEQU_BENCH_SIZES"); s != "" {
		sizes = nil
		for _, x := range strings.Split(s, ",") {
			n, err := strconv.Atoi(strings.TrimSpace(x))
			if err != nil || n <= 0 {
				t.Fatalf("SHEQU_BENCH_SIZES=%q", s)
			}
			sizes = append(sizes, n)
		}
	}
	queries := 200
	if s := os.Getenv("SHEQU_BENCH_QUERIES"); s != "" {
		n, err := strconv.Atoi(s)
		if err != nil || n <= 0 {
			t.Fatalf("SHEQU_BENCH_QUERIES=%q", s)
		}
		queries = n
	}
	for _, n := range sizes {
		benchWindowSize(t, n, queries)
	}
}

// benchWinItem is a catalogue item with its share of the cases.
type benchWinItem struct {
	code, name, category, level string
	limit                       int
	agency                      bool
	online                      bool
}

// benchFill writes n cases of the demo county and their facts, and returns
// the number of facts rows and the open overdue cases on the run's day.
func benchFill(ctx context.Context, t *testing.T, d *db.DB, svc *window.Service, cal window.Calendar, n int) (factRows, overdue int) {
	t.Helper()
	cat, err := svc.Catalogue(ctx, demo.County)
	if err != nil {
		t.Fatal(err)
	}
	var items []benchWinItem
	var itemW []int
	for _, it := range cat.Enabled() {
		items = append(items, benchWinItem{it.Code, it.Name.Get(policy.DefaultLocale), it.Category, it.Level, it.TimeLimit, it.Agency, it.Online})
		w := 3
		if it.Level == policy.LevelVillage {
			w = 6
		}
		itemW = append(itemW, w)
	}
	if len(items) == 0 {
		t.Fatal("no catalogue for the demo county")
	}
	villages, err := svc.Divisions.InRange(ctx, demo.County, demo.County+division.Span(3)-1, 5, 5)
	if err != nil {
		t.Fatal(err)
	}
	var units []int64
	for _, v := range villages {
		units = append(units, v.Code)
	}
	today := benchWinToday.Year()*10000 + int(benchWinToday.Month())*100 + benchWinToday.Day()
	first := benchWinToday.AddDate(-1, 0, 1)
	var days []int
	ymd := func(x time.Time) int { return x.Year()*10000 + int(x.Month())*100 + x.Day() }
	for x := first; !x.After(benchWinToday); x = x.AddDate(0, 0, 1) {
		if day := ymd(x); cal.AddWorkingDays(ymd(x.AddDate(0, 0, -1)), 1) == day {
			days = append(days, day)
		}
	}
	r := rand.New(rand.NewPCG(42, uint64(n)))
	pickW := func(ws []int) int {
		total := 0
		for _, w := range ws {
			total += w
		}
		x := r.IntN(total)
		for i, w := range ws {
			if x < w {
				return i
			}
			x -= w
		}
		return len(ws) - 1
	}
	type fkey struct {
		div    int64
		per    int
		metric string
	}
	fs := map[fkey]int64{}
	add := func(div int64, day int, metric string, v int64) { fs[fkey{div, day / 100, metric}] += v }
	count := func(div int64, day int, base string, it benchWinItem, channel string) {
		for _, m := range []string{base, window.Metric(base, window.DimChannel, channel), window.Metric(base, window.DimCategory, it.category),
			window.Metric(base, window.DimItem, it.code)} {
			add(div, day, m, 1)
		}
	}
	cols := []string{"number", "county", "division", "holder", "holder_level", "item_code", "item_name", "category", "item_level",
		"time_limit", "channel", "agency", "state", "is_open", "applicant_name", "phone_masked", "submitted_at", "accepted_day",
		"deadline", "closed_at", "closed_day", "on_time", "outcome", "rating", "rated_at", "updated_at"}
	seq := map[[2]int64]int{}
	var batch [][]any
	flush := func() {
		if err := d.Tx(ctx, func(ctx context.Context) error { return dbtest.Insert(ctx, d, "cases", cols, batch) }); err != nil {
			t.Fatal(err)
		}
		batch = batch[:0]
	}
	// where and when, in the order of the case numbers (unit, day), as a
	// window issues them: the number index grows at its end
	type slot struct {
		unit int64
		day  int
	}
	slots := make([]slot, n)
	for i := range slots {
		unit := units[r.IntN(len(units))]
		if r.IntN(100) < 15 {
			unit = division.Truncate(unit, division.LevelTownship)
		}
		slots[i] = slot{unit, days[r.IntN(len(days))]}
	}
	slices.SortFunc(slots, func(a, b slot) int {
		if a.unit != b.unit {
			return cmpInt64(a.unit, b.unit)
		}
		return a.day - b.day
	})
	for i := 0; i < n; i++ {
		unit, day := slots[i].unit, slots[i].day
		it := items[pickW(itemW)]
		channel := window.ChannelWindow
		switch x := r.IntN(100); {
		case x < 18:
			channel = window.ChannelPhone
		case x < 28 && it.online:
			channel = window.ChannelOnline
		}
		at := time.Date(day/10000, time.Month(day/100%100), day%100, 8, 30+r.IntN(510), 0, 0, china).UnixMilli()
		k := [2]int64{unit, int64(day)}
		seq[k]++
		number := fmt.Sprintf("%012d-%d-%04d", unit/1000, day, seq[k])
		agency := it.agency && r.IntN(100) < 15
		row := []any{number, demo.County, unit, unit, map[bool]string{true: "village", false: "township"}[division.LevelOf(unit) == 5],
			it.code, it.name, it.category, it.level, it.limit, channel, 0, "", 1, "王某", "138****5678", at, 0, 0, 0, 0, 0, "", 0, 0, at}
		if r.IntN(100) < 3 { // 不予受理
			row[12], row[13], row[18], row[19], row[20], row[22] = window.StateRejected, 0, 0, at, day, window.OutcomeRejected
			add(unit, day, window.MetricRejected, 1)
			batch = append(batch, row)
			if len(batch) == 5000 {
				flush()
			}
			continue
		}
		deadline := cal.AddWorkingDays(day, it.limit)
		row[11], row[17], row[18] = benchB2I(agency), day, deadline
		count(unit, day, window.MetricAccepted, it, channel)
		if agency {
			count(unit, day, window.MetricAgency, it, channel)
		}
		var w int
		switch x := r.IntN(100); {
		case x < 1:
			w = it.limit + 5 + r.IntN(56) // stuck for weeks
		case x < 11:
			w = it.limit + 1 + r.IntN(4)
		default:
			w = r.IntN(it.limit + 1)
		}
		if closed := cal.AddWorkingDays(day, w); closed >= today {
			row[12] = window.StateAccepted
			if r.IntN(2) == 0 {
				row[12] = window.StateHandling
			}
			if deadline < today {
				overdue++
			}
		} else {
			closed := cal.AddWorkingDays(day, w)
			onTime := closed <= deadline
			closedAt := at + int64(w)*86_400_000
			row[12], row[13], row[19], row[20], row[21], row[22] = window.StateCompleted, 0, closedAt, closed, benchB2I(onTime), window.OutcomeApproved
			count(unit, closed, window.MetricCompleted, it, channel)
			if onTime {
				count(unit, closed, window.MetricOnTime, it, channel)
			}
			if r.IntN(2) == 0 {
				level := []int{5, 5, 5, 5, 5, 5, 4, 4, 4, 3, 2, 1}[r.IntN(12)]
				row[23], row[24] = level, closedAt
				add(unit, closed, window.MetricRated, 1)
				add(unit, closed, window.MetricRatingSum, int64(level))
				add(unit, closed, window.MetricRating(level), 1)
			}
		}
		batch = append(batch, row)
		if len(batch) == 5000 {
			flush()
		}
	}
	if len(batch) > 0 {
		flush()
	}
	var frows [][]any
	for k, v := range fs {
		frows = append(frows, []any{k.div, k.per, k.metric, v})
	}
	if err := d.Tx(ctx, func(ctx context.Context) error {
		return dbtest.Insert(ctx, d, "facts", []string{"division", "period", "metric", "value"}, frows)
	}); err != nil {
		t.Fatal(err)
	}
	return len(frows), overdue
}

func cmpInt64(a, b int64) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

func benchB2I(b bool) int {
	if b {
		return 1
	}
	return 0
}

func benchWindowSize(t *testing.T, n, q int) {
	ctx := audit.WithActor(context.Background(), audit.Actor{Name: "bench", Client: "cli"})
	d, kind := dbtest.BenchDB(ctx, t, benchWinPG)
	defer d.Close()
	al := &audit.Log{DB: d}
	acc := access.New(d, al, access.Config{})
	divs := division.NewService(d, al, acc)
	if err := demo.ImportDivisions(ctx, divs); err != nil {
		t.Fatal(err)
	}
	packs, err := policy.Load(policypacks.FS)
	if err != nil {
		t.Fatal(err)
	}
	keys, err := pii.New(pii.Generate())
	if err != nil {
		t.Fatal(err)
	}
	reg := registry.NewService(d, al, acc, keys, divs.Store, packs)
	cal := calendar.NewCalendar(calendar.Shipped())
	svc := window.NewService(d, al, acc, keys, divs.Store, packs, reg, func(context.Context) (window.Calendar, error) { return cal, nil }, t.TempDir())
	svc.SetClock(func() time.Time { return benchWinToday })

	start := time.Now()
	factRows, overdue := benchFill(ctx, t, d, svc, cal, n)
	fill := time.Since(start).Seconds()
	if _, err := d.Exec(ctx, "ANALYZE"); err != nil { // as autovacuum (PostgreSQL) or `shequ` maintenance would
		t.Fatal(err)
	}
	variant := "as-is"
	if kind == "postgres" {
		// as autovacuum would after a fill: the visibility map lets the
		// covering index of migration 00007 answer by index-only scans
		if _, err := d.Exec(ctx, "VACUUM ANALYZE facts"); err != nil {
			t.Fatal(err)
		}
	}
	if kind == "sqlite" { // a server's WAL stays small: auto-checkpoints between the writes of the day
		if _, err := d.Exec(ctx, "PRAGMA wal_checkpoint(TRUNCATE)"); err != nil {
			t.Fatal(err)
		}
	}
	// let the fill's garbage and dirty pages go before measuring
	runtime.GC()
	debug.FreeOSMemory()
	time.Sleep(5 * time.Second)
	var open int
	if err := d.QueryRow(ctx, "SELECT COUNT(*) FROM cases WHERE is_open = 1").Scan(&open); err != nil {
		t.Fatal(err)
	}
	dbtest.Report("step", "fill", "db", kind, "variant", variant, "cases", n, "facts", factRows, "open", open, "overdue", overdue, "secs", fmt.Sprintf("%.1f", fill))

	from, to := 202512, 202611
	town := int64(320205_102_000_000) // 羊尖镇
	units := []struct {
		name string
		code int64
		p    *access.Principal
	}{
		{"county", demo.County, &access.Principal{Username: "county", Assignments: []access.Assignment{{Role: "county_staff", Division: demo.County}}}},
		{"township", town, &access.Principal{Username: "town", Assignments: []access.Assignment{{Role: "township_staff", Division: town}}}},
	}
	vs, err := divs.Store.Children(ctx, town, false)
	if err != nil || len(vs) == 0 {
		t.Fatal("no villages", err)
	}
	units = append(units, struct {
		name string
		code int64
		p    *access.Principal
	}{"village", vs[0].Code, &access.Principal{Username: "village", Assignments: []access.Assignment{{Role: "village_staff", Division: vs[0].Code}}}})
	for _, u := range units {
		fs, err := svc.Figures(ctx, u.p, u.code, from, to)
		if err != nil {
			t.Fatal(err)
		}
		if u.name == "county" && int(fs.Totals.OpenOverdue) != overdue {
			t.Fatalf("open overdue %d, generated %d", fs.Totals.OpenOverdue, overdue)
		}
		p50, p95, worst := dbtest.Times(t, q, func() error { _, err := svc.Figures(ctx, u.p, u.code, from, to); return err })
		dbtest.Report("step", "figures", "db", kind, "variant", variant, "cases", n, "unit", u.name, "accepted", fs.Totals.Accepted, "children", len(fs.Children),
			"p50_ms", fmt.Sprintf("%.2f", p50), "p95_ms", fmt.Sprintf("%.2f", p95), "max_ms", fmt.Sprintf("%.2f", worst), "queries", q)
	}

	// the whole page: figures, labels, chart data, template
	rd := web.NewRenderer(nil)
	if err := rd.Register(window.Templates(), "templates/*.html", window.Funcs()); err != nil {
		t.Fatal(err)
	}
	mux := http.NewServeMux()
	(&window.HTTP{S: svc, R: rd}).Routes(mux)
	p := units[0].p
	var size int
	p50, p95, worst := dbtest.Times(t, q, func() error {
		req := httptest.NewRequest(http.MethodGet, "/window/dashboard?unit=320205&from=2025-12&to=2026-11", nil)
		req = req.WithContext(access.WithPrincipal(ctx, p))
		w := httptest.NewRecorder()
		mux.ServeHTTP(w, req)
		if w.Code != http.StatusOK {
			return fmt.Errorf("dashboard: %d", w.Code)
		}
		size = w.Body.Len()
		return nil
	})
	dbtest.Report("step", "page", "db", kind, "variant", variant, "cases", n, "unit", "county", "bytes", size,
		"p50_ms", fmt.Sprintf("%.2f", p50), "p95_ms", fmt.Sprintf("%.2f", p95), "max_ms", fmt.Sprintf("%.2f", worst), "queries", q)
}
