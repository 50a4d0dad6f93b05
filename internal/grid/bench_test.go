package grid_test

import (
	"context"
	"fmt"
	"math/rand/v2"
	"os"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/shequ-platform/shequ/internal/demo"
	"github.com/shequ-platform/shequ/internal/division"
	"github.com/shequ-platform/shequ/internal/grid"
	"github.com/shequ-platform/shequ/internal/platform/access"
	"github.com/shequ-platform/shequ/internal/platform/audit"
	"github.com/shequ-platform/shequ/internal/platform/calendar"
	"github.com/shequ-platform/shequ/internal/platform/db/dbtest"
	"github.com/shequ-platform/shequ/internal/platform/ids"
	"github.com/shequ-platform/shequ/internal/platform/pii"
	"github.com/shequ-platform/shequ/internal/platform/policy"
	"github.com/shequ-platform/shequ/internal/registry"
	policypacks "github.com/shequ-platform/shequ/policy"

	fx "github.com/shequ-platform/shequ/internal/fixture"
)

// TestBenchGridIncidents measures the incident desk and the map of one
// township of the demo county 锡山区 holding SHEQU_BENCH_SIZES incidents
// (default 100,000), with as many again spread over the county's other
// townships: the list of each view (first page and a deep page), the view
// counts the desk's tabs show, and the map's points. The incidents are
// written with bulk SQL (the service's report path is measured by
// scripts/bench-grid-report.sh against the running binary). Run by
// scripts/bench-grid-incidents.sh; prints BENCH lines. Env:
// SHEQU_BENCH_GRID=1, SHEQU_BENCH_SIZES=100000, SHEQU_BENCH_QUERIES=200,
// SHEQU_BENCH_DB=sqlite|postgres, SHEQU_BENCH_DIR, SHEQU_BENCH_LAYOUT=
// interleaved|blocked (see the fill below).
func TestBenchGridIncidents(t *testing.T) {
	if os.Getenv("SHEQU_BENCH_GRID") == "" {
		t.Skip("set SHEQU_BENCH_GRID (scripts/bench-grid-incidents.sh does)")
	}
	sizes := []int{100_000}
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
		if n, err := strconv.Atoi(s); err == nil && n > 0 {
			queries = n
		}
	}
	for _, n := range sizes {
		benchGridSize(t, n, queries)
	}
}

var benchGridToday = time.Date(2026, 11, 23, 10, 0, 0, 0, china)

func benchGridSize(t *testing.T, n, q int) {
	ctx := audit.WithActor(context.Background(), audit.Actor{Name: "bench", Client: "bench"})
	d, kind := dbtest.BenchDB(ctx, t, "shequ_bench_grid")
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
	keys, err := pii.New(fx.Keys)
	if err != nil {
		t.Fatal(err)
	}
	reg := registry.NewService(d, al, acc, keys, divs.Store, packs)
	cal := calendar.NewCalendar(calendar.Shipped())
	svc := grid.NewService(d, al, acc, keys, divs.Store, packs, reg,
		func(context.Context) (*calendar.Calendar, error) { return cal, nil }, t.TempDir())
	svc.SetClock(func() time.Time { return benchGridToday })

	towns, err := divs.Store.Children(ctx, demo.County, false)
	if err != nil {
		t.Fatal(err)
	}
	villagesOf := map[int64][]int64{}
	for _, tw := range towns {
		vs, err := divs.Store.Children(ctx, tw.Code, false)
		if err != nil {
			t.Fatal(err)
		}
		for _, v := range vs {
			villagesOf[tw.Code] = append(villagesOf[tw.Code], v.Code)
		}
	}
	target := demo.Township
	var others []int64
	for _, tw := range towns {
		if tw.Code != target && len(villagesOf[tw.Code]) > 0 {
			others = append(others, tw.Code)
		}
	}
	cats := packs.For(demo.County).Grid.Categories
	rnd := rand.New(rand.NewPCG(uint64(n), 7))
	start := time.Now()
	cols := strings.Split(`number, county, division, holder, holder_level, department, category, category_name, grp, kind,
		time_limit, state, is_open, source, reporter_id, reporter_name, description, address, lat, lon,
		reported_at, reported_day, dispatched_day, deadline, handled_day, on_time, closed_at, closed_day, closed_level, updated_at`, ",")
	for i := range cols {
		cols[i] = strings.TrimSpace(cols[i])
	}
	var rows [][]any
	flush := func() {
		if err := dbtest.Insert(ctx, d, "incidents", cols, rows); err != nil {
			t.Fatal(err)
		}
		rows = rows[:0]
	}
	seq := 0
	reported := map[[2]int64]int64{} // (division, period) → grid.reported, as the service counts it
	add := func(town int64, at time.Time) {
		vs := villagesOf[town]
		v := vs[rnd.IntN(len(vs))]
		place := v + int64(1+rnd.IntN(4)) // its grids 001–004 (codes need not exist for the reads)
		c := cats[rnd.IntN(len(cats))]
		day := at.Year()*10000 + int(at.Month())*100 + at.Day()
		age := int(benchGridToday.Sub(at).Hours() / 24)
		state, open := grid.StateClosed, 0
		holder, level := v, grid.LevelVillage
		dispatched, deadline, handled, closedDay, onTime, closedAt := day, cal.AddWorkingDays(day, c.TimeLimit), 0, 0, 0, int64(0)
		switch {
		case age < 10 && rnd.IntN(3) == 0:
			state, open = []string{grid.StateReported, grid.StateRegistered, grid.StateDispatched, grid.StateHandled}[rnd.IntN(4)], 1
		case age < 60 && rnd.IntN(10) == 0:
			state, open = grid.StateDispatched, 1 // some overdue
		}
		if rnd.IntN(8) == 0 {
			holder, level = town, grid.LevelTownship
		}
		if state == grid.StateReported || state == grid.StateRegistered {
			dispatched, deadline = 0, 0
		}
		if state == grid.StateClosed {
			handled = cal.AddWorkingDays(day, 1+rnd.IntN(c.TimeLimit+1))
			closedDay = handled
			if handled <= deadline {
				onTime = 1
			}
			closedAt = at.Add(48 * time.Hour).UnixMilli()
		}
		seq++
		reported[[2]int64{place, int64(day / 100)}]++
		lat, lon := 31.6+rnd.Float64()*0.1, 120.35+rnd.Float64()*0.2
		closedLevel := ""
		if state == grid.StateClosed {
			closedLevel = level
		}
		rows = append(rows, []any{fmt.Sprintf("SJ%d-%d-%06d", v/1000, day, seq), ids.County(v), place, holder, level, "",
			c.Code, c.Name.Get("zh-CN"), c.Group, "event", c.TimeLimit, state, open, grid.SourceWorker, 0, "网格员",
			"雨水口堵塞，积水", "门楼路 3 号", lat, lon, at.UnixMilli(), day, dispatched, deadline, handled, onTime, closedAt,
			closedDay, closedLevel, at.UnixMilli()})
		if len(rows) >= 5000 {
			flush()
		}
	}
	// As on a live server, ids rise with the report time: n incidents in
	// the target, n in the others, over the year before today, written
	// oldest first. The townships' reports interleave, unless the layout is
	// "blocked": the target's all in the first half of the year, the others'
	// in the second — the worst case of the newest-first walk, which must
	// pass every newer incident of the other townships before it finds one.
	blocked := os.Getenv("SHEQU_BENCH_LAYOUT") == "blocked"
	layout := "interleaved"
	if blocked {
		layout = "blocked"
	}
	type pending struct {
		town int64
		at   time.Time
	}
	all := make([]pending, 0, 2*n)
	for i := range 2 * n {
		town, age := target, rnd.IntN(365)
		if i >= n {
			town = others[rnd.IntN(len(others))]
		}
		if blocked {
			age = rnd.IntN(182)
			if town == target {
				age += 183
			}
		}
		at := benchGridToday.AddDate(0, 0, -age).Add(-time.Duration(rnd.IntN(36_000)) * time.Second)
		all = append(all, pending{town, at})
	}
	slices.SortFunc(all, func(a, b pending) int { return a.at.Compare(b.at) })
	for _, x := range all {
		add(x.town, x.at)
	}
	flush()
	var factRows [][]any
	for k, v := range reported {
		factRows = append(factRows, []any{k[0], k[1], grid.MetricReported, v})
	}
	if err := dbtest.Insert(ctx, d, "facts", []string{"division", "period", "metric", "value"}, factRows); err != nil {
		t.Fatal(err)
	}
	if kind == "postgres" {
		if _, err := d.Exec(ctx, "ANALYZE incidents"); err != nil {
			t.Fatal(err)
		}
	}
	t.Logf("%s: %d incidents (%s) written in %s", kind, 2*n, layout, time.Since(start).Round(time.Millisecond))

	p := &access.Principal{UserID: 1, Username: "town", Assignments: []access.Assignment{{Role: "township_staff", Division: target}}}
	var inTown int64
	if err := d.QueryRow(ctx, `SELECT count(*) FROM incidents WHERE division BETWEEN ? AND ?`, target, target+999_999).Scan(&inTown); err != nil {
		t.Fatal(err)
	}
	measure := func(what string, fn func() error) {
		p50, p95, worst := dbtest.Times(t, q, fn)
		dbtest.Report("db", kind, "layout", layout, "incidents", 2*n, "township", inTown, "what", what,
			"p50_ms", fmt.Sprintf("%.2f", p50), "p95_ms", fmt.Sprintf("%.2f", p95), "max_ms", fmt.Sprintf("%.2f", worst), "queries", q)
	}
	// the raw baseline: one incident by primary key through the same
	// database handle, before the reads and again after them
	baseline := func() error {
		var number string
		return d.QueryRow(ctx, `SELECT number FROM incidents WHERE id = ?`, 1+rnd.IntN(2*n)).Scan(&number)
	}
	measure("baseline_pk", baseline)
	for _, view := range []string{grid.ViewOpen, grid.ViewHeld, grid.ViewOverdue, grid.ViewClosed, grid.ViewAll} {
		f := grid.Filter{Unit: target, View: view}
		measure("list_"+view, func() error { _, _, err := svc.List(ctx, p, f); return err })
	}
	measure("list_all_page_20", func() error {
		_, _, err := svc.List(ctx, p, grid.Filter{Unit: target, View: grid.ViewAll, Offset: 19 * 50})
		return err
	})
	measure("list_category", func() error {
		_, _, err := svc.List(ctx, p, grid.Filter{Unit: target, View: grid.ViewAll, Category: cats[0].Code})
		return err
	})
	measure("tab_counts", func() error {
		for _, view := range []string{grid.ViewOpen, grid.ViewHeld, grid.ViewReported, grid.ViewVerify, grid.ViewOverdue, grid.ViewDueSoon} {
			if _, err := svc.Count(ctx, p, grid.Filter{Unit: target, View: view}); err != nil {
				return err
			}
		}
		return nil
	})
	measure("map_open", func() error { _, err := svc.Points(ctx, p, grid.Filter{Unit: target, View: grid.ViewOpen}); return err })
	measure("map_all", func() error { _, err := svc.Points(ctx, p, grid.Filter{Unit: target, View: grid.ViewAll}); return err })
	measure("baseline_pk_end", baseline)
}
