package demo

import (
	"bufio"
	"context"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/shequ-platform/shequ/internal/division"
	"github.com/shequ-platform/shequ/internal/grid"
	"github.com/shequ-platform/shequ/internal/platform/access"
	"github.com/shequ-platform/shequ/internal/platform/audit"
	"github.com/shequ-platform/shequ/internal/platform/calendar"
	"github.com/shequ-platform/shequ/internal/platform/db"
	"github.com/shequ-platform/shequ/internal/platform/db/dbtest"
	"github.com/shequ-platform/shequ/internal/platform/facts"
	"github.com/shequ-platform/shequ/internal/platform/ids"
	"github.com/shequ-platform/shequ/internal/platform/jobs"
	"github.com/shequ-platform/shequ/internal/platform/pii"
	"github.com/shequ-platform/shequ/internal/platform/policy"
	"github.com/shequ-platform/shequ/internal/registry"
	policypacks "github.com/shequ-platform/shequ/policy"
)

// gridWorld builds the demo jurisdiction on d with residents residents
// imported as `shequ demo --residents` does, their households placed on
// the map, and the grid service.
func gridWorld(t *testing.T, d *db.DB, residents int) (*grid.Service, *access.Service, []Village) {
	t.Helper()
	ctx := audit.WithActor(context.Background(), audit.Actor{Name: "test", Client: "cli"})
	al := &audit.Log{DB: d}
	acc := access.New(d, al, access.Config{})
	divs := division.NewService(d, al, acc)
	if _, err := Build(ctx, divs, acc, Options{Password: "demo-test-password-1", Seed: 1}); err != nil {
		t.Fatal(err)
	}
	keys, err := pii.New(pii.Generate())
	if err != nil {
		t.Fatal(err)
	}
	packs, err := policy.Load(policypacks.FS)
	if err != nil {
		t.Fatal(err)
	}
	reg := registry.NewService(d, al, acc, keys, divs.Store, packs)
	villages, err := DemoVillages(ctx, divs.Store, County)
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "residents.csv")
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	w := bufio.NewWriter(f)
	if _, err := WriteResidentsCSV(w, ResidentOptions{N: residents, Seed: 1, Today: casesToday, Villages: villages}); err != nil {
		t.Fatal(err)
	}
	if err := w.Flush(); err != nil {
		t.Fatal(err)
	}
	f.Close()
	runner := jobs.New(d, t.TempDir(), nil)
	for _, k := range reg.JobKinds() {
		runner.Register(k)
	}
	cli := &access.Principal{Username: "cli", Assignments: []access.Assignment{{Role: "system_admin"}}}
	params := registry.ImportParams{Division: County, Mode: registry.ModeValidRows, FileName: "demo.csv", Locale: "zh-CN"}
	j, err := runner.RunNow(ctx, cli, jobs.Spec{Kind: registry.JobImport, Division: County, Params: params, Input: path}, nil)
	if err != nil || j.Status != jobs.Done {
		t.Fatalf("residents: %+v %v", j, err)
	}
	if _, err := PlaceHouseholds(ctx, reg, villages, PlaceOptions{Seed: 1}); err != nil {
		t.Fatal(err)
	}
	cal := calendar.NewCalendar(calendar.Shipped())
	days := func(context.Context) (*calendar.Calendar, error) { return cal, nil }
	return grid.NewService(d, al, acc, keys, divs.Store, packs, reg, days, t.TempDir()), acc, villages
}

// metres is the distance between two WGS-84 points (haversine).
func metres(lat1, lon1, lat2, lon2 float64) float64 {
	const r = 6_371_000
	p1, p2 := lat1*math.Pi/180, lat2*math.Pi/180
	dp, dl := p2-p1, (lon2-lon1)*math.Pi/180
	a := math.Sin(dp/2)*math.Sin(dp/2) + math.Cos(p1)*math.Cos(p2)*math.Sin(dl/2)*math.Sin(dl/2)
	return 2 * r * math.Asin(math.Sqrt(a))
}

func TestPlaceHouseholds(t *testing.T) {
	d := dbtest.SQLite(t)
	svc, _, villages := gridWorld(t, d, 1500)
	ctx := context.Background()
	reg := svc.Registry

	// every household has a point in the county's extent, close to its
	// village's other households, and is found in its own village
	rows, err := d.Query(ctx, "SELECT id, village, grid, lat, lon FROM households")
	if err != nil {
		t.Fatal(err)
	}
	type hh struct {
		id, village, grid int64
		lat, lon          float64
	}
	var hs []hh
	for rows.Next() {
		var h hh
		var lat, lon *float64
		if err := rows.Scan(&h.id, &h.village, &h.grid, &lat, &lon); err != nil {
			t.Fatal(err)
		}
		if lat == nil || lon == nil {
			t.Fatalf("household %d has no point", h.id)
		}
		h.lat, h.lon = *lat, *lon
		hs = append(hs, h)
	}
	rows.Close()
	if len(hs) < 400 {
		t.Fatalf("%d households", len(hs))
	}
	byVillage := map[int64][]hh{}
	for _, h := range hs {
		if h.lat < extent.latLo || h.lat > extent.latHi || h.lon < extent.lonLo || h.lon > extent.lonHi {
			t.Errorf("household %d at %v,%v: outside 锡山区", h.id, h.lat, h.lon)
		}
		byVillage[h.village] = append(byVillage[h.village], h)
	}
	wrong := 0
	for v, list := range byVillage {
		for i, a := range list {
			for _, b := range list[i+1:] {
				if m := metres(a.lat, a.lon, b.lat, b.lon); m > 2*villageMetres+1 {
					t.Fatalf("village %d: households %d and %d are %.0f m apart", v, a.id, b.id, m)
				}
			}
			if got, err := reg.NearestVillage(ctx, a.lat, a.lon, 5000); err != nil || got != v {
				wrong++
			}
		}
	}
	if wrong*50 > len(hs) {
		t.Errorf("%d of %d households nearer to another village's", wrong, len(hs))
	}
	// the villages spread over the county (not all in one corner)
	var latLo, latHi, lonLo, lonHi = 90.0, 0.0, 180.0, 0.0
	for _, h := range hs {
		latLo, latHi, lonLo, lonHi = min(latLo, h.lat), max(latHi, h.lat), min(lonLo, h.lon), max(lonHi, h.lon)
	}
	if latHi-latLo < 0.12 || lonHi-lonLo < 0.2 {
		t.Errorf("households span %.3f° × %.3f° only", latHi-latLo, lonHi-lonLo)
	}
	// a grid is one patch of its village: its sector of the circle
	l := newLayout(1, villages)
	for _, h := range hs {
		s := l.spots[h.village]
		i := slices.Index(s.grids, h.grid)
		if i < 0 {
			continue
		}
		a := math.Atan2((h.lon-s.centre.Lon)*math.Cos(h.lat*math.Pi/180), h.lat-s.centre.Lat) // from north, clockwise
		rel := math.Mod(a-s.turn+8*math.Pi, 2*math.Pi) / (2 * math.Pi) * float64(len(s.grids))
		if int(rel) != i {
			t.Errorf("household %d of grid %d (sector %d) lies in sector %.2f", h.id, h.grid, i, rel)
		}
	}

	// placed once: a second run changes nothing
	st, err := PlaceHouseholds(ctx, reg, villages, PlaceOptions{Seed: 1})
	if err != nil || st.Placed != 0 || st.Households != len(hs) {
		t.Errorf("second run: %+v %v", st, err)
	}
	// the layout is a function of the seed, the village, the grid and the number
	l1, l2 := l, newLayout(1, villages)
	l3 := newLayout(2, villages)
	v := villages[5]
	p1, _ := l1.point(v.Code, v.Grids[0], "3202050010010001")
	p2, _ := l2.point(v.Code, v.Grids[0], "3202050010010001")
	p3, _ := l3.point(v.Code, v.Grids[0], "3202050010010001")
	if p1 != p2 || p1 == p3 {
		t.Errorf("layout not a function of the seed: %v %v %v", p1, p2, p3)
	}
}

// incidentsToday is casesToday: a Monday afternoon.
var incidentsToday = casesToday

func TestGenerateIncidents(t *testing.T) {
	d := dbtest.SQLite(t)
	svc, acc, _ := gridWorld(t, d, 1500)
	ctx := context.Background()
	const n = 700
	start := time.Now()
	st, err := GenerateIncidents(ctx, svc, acc, IncidentOptions{N: n, Seed: 7, Today: incidentsToday})
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("%d incidents in %v: %+v; %.1f %% closed in the village", n, time.Since(start), st, st.VillageShare())
	if svc.Today() != dayOf(time.Now()) {
		t.Error("the service's clock was left on the demo's last step")
	}
	if st.Incidents != n {
		t.Fatalf("%d incidents, want %d", st.Incidents, n)
	}
	if sum := st.Reported + st.Registered + st.Dispatched + st.Handled + st.Verified + st.Suspended + st.Closed + st.Rejected; sum != n {
		t.Errorf("states add up to %d", sum)
	}
	// every state, and every detour
	for what, v := range map[string]int{"reported": st.Reported, "registered": st.Registered, "dispatched": st.Dispatched,
		"handled": st.Handled, "verified": st.Verified, "suspended": st.Suspended, "closed": st.Closed, "rejected": st.Rejected,
		"duplicate": st.Duplicates, "overdue": st.Overdue, "escalated": st.Escalated, "extended": st.Extended,
		"returned": st.Returned, "reworked": st.Reworked, "resumed": st.Resumed, "rated": st.Rated, "by staff": st.ByStaff,
		"late": st.Closed - st.OnTime} {
		if v == 0 {
			t.Errorf("no %s incidents: %+v", what, st)
		}
	}
	// the headline figure: most are settled in the village (DG-16, XS-12)
	if s := st.VillageShare(); s < 80 || s > 95 {
		t.Errorf("%.1f %% closed in the village", s)
	}
	if st.OnTime*100 < st.Closed*75 || st.OnTime == st.Closed {
		t.Errorf("%d of %d closed on time", st.OnTime, st.Closed)
	}
	if st.Rejected*100 > n*8 || st.Rated*100 < st.Closed*45 || st.Rated*100 > st.Closed*75 {
		t.Errorf("rejected %d, rated %d of %d closed", st.Rejected, st.Rated, st.Closed)
	}
	// the table agrees with the stats
	for state, want := range map[string]int{grid.StateReported: st.Reported, grid.StateRegistered: st.Registered,
		grid.StateDispatched: st.Dispatched, grid.StateHandled: st.Handled, grid.StateVerified: st.Verified,
		grid.StateSuspended: st.Suspended, grid.StateClosed: st.Closed, grid.StateRejected: st.Rejected} {
		if got := caseCount(t, d, "SELECT COUNT(*) FROM incidents WHERE state = ?", state); got != want {
			t.Errorf("%s: %d in the table, stats %d", state, got, want)
		}
	}
	if got := caseCount(t, d, "SELECT COUNT(*) FROM incidents WHERE state = 'dispatched' AND deadline < ?", dayOf(incidentsToday)); got != st.Overdue {
		t.Errorf("overdue: %d in the table, stats %d", got, st.Overdue)
	}
	if got := caseCount(t, d, "SELECT COUNT(*) FROM incidents WHERE duplicate_of <> 0"); got != st.Duplicates {
		t.Errorf("duplicates: %d in the table, stats %d", got, st.Duplicates)
	}
	// nothing after today; nothing before the months; each step after its report
	nowMs := incidentsToday.UnixMilli()
	if bad := caseCount(t, d, "SELECT COUNT(*) FROM incident_steps WHERE at > ?", nowMs); bad != 0 {
		t.Errorf("%d steps after today", bad)
	}
	if bad := caseCount(t, d, "SELECT COUNT(*) FROM incidents WHERE reported_at > ? OR closed_day > ?", nowMs, dayOf(incidentsToday)); bad != 0 {
		t.Errorf("%d incidents reported or closed after today", bad)
	}
	if bad := caseCount(t, d, "SELECT COUNT(*) FROM incidents WHERE reported_at < ?", incidentsToday.AddDate(0, -4, -1).UnixMilli()); bad != 0 {
		t.Errorf("%d incidents reported before the four months", bad)
	}
	if bad := caseCount(t, d, "SELECT COUNT(*) FROM incident_steps s JOIN incidents i ON i.id = s.incident_id WHERE s.at < i.reported_at"); bad != 0 {
		t.Errorf("%d steps before their incident was reported", bad)
	}
	if got := caseCount(t, d, "SELECT COUNT(DISTINCT reported_day / 100) FROM incidents"); got < 4 {
		t.Errorf("incidents in %d months", got)
	}
	// reported where they happened, by the grid's worker (the demo's own
	// `grid` account among them), near a household
	if got := caseCount(t, d, "SELECT COUNT(*) FROM incidents WHERE division % 1000 = 0"); got != 0 {
		t.Errorf("%d incidents reported at a village rather than a grid", got)
	}
	if got := caseCount(t, d, "SELECT COUNT(DISTINCT division) FROM incidents"); got < 150 {
		t.Errorf("incidents in %d grids only", got)
	}
	if got := caseCount(t, d, "SELECT COUNT(*) FROM incidents WHERE lat IS NOT NULL"); got*100 < n*75 {
		t.Errorf("%d of %d incidents have a position", got, n)
	}
	u, err := acc.UserByName(ctx, "grid")
	if err != nil {
		t.Fatal(err)
	}
	if got := caseCount(t, d, "SELECT COUNT(*) FROM incidents WHERE reporter_id = ?", u.ID); got == 0 {
		t.Error("the demo's grid account reported nothing")
	}
	if got := caseCount(t, d, "SELECT COUNT(DISTINCT category) FROM incidents"); got < 12 {
		t.Errorf("%d categories", got)
	}
	// the facts: a parent's figure is the sum of its children's, and the
	// county's figures are what the table says
	from, to := period(incidentsToday.AddDate(0, -5, 0)), period(incidentsToday)
	for _, m := range []string{grid.MetricClosed, grid.MetricClosedVillage, grid.MetricClosedOnTime, grid.MetricReported, grid.MetricEscalated} {
		checkRollUp(t, d, m, County, from, to)
	}
	sum := func(metric string) int {
		lo, hi := ids.Subtree(County)
		v, err := facts.Sum(ctx, d, metric, lo, hi, from, to)
		if err != nil {
			t.Fatal(err)
		}
		return int(v)
	}
	if got := sum(grid.MetricClosed); got != st.Closed {
		t.Errorf("grid.closed: facts %d, stats %d", got, st.Closed)
	}
	if got := sum(grid.MetricClosedVillage); got != st.ClosedVillage {
		t.Errorf("grid.closed.village: facts %d, stats %d", got, st.ClosedVillage)
	}
	if got := sum(grid.MetricReported); got != n {
		t.Errorf("grid.reported: facts %d, want %d", got, n)
	}
	if got := sum(grid.MetricRated); got != st.Rated {
		t.Errorf("grid.rated: facts %d, stats %d", got, st.Rated)
	}
	if rs := sum(grid.MetricRatingSum); float64(rs)/float64(st.Rated) < 4 {
		t.Errorf("mean rating %.2f", float64(rs)/float64(st.Rated))
	}
}

func period(t time.Time) int { return dayOf(t) / 100 }

// checkRollUp checks that metric at unit over [from, to] is the sum of its
// children's, down to the grids.
func checkRollUp(t *testing.T, d *db.DB, metric string, unit int64, from, to int) {
	t.Helper()
	ctx := context.Background()
	level := ids.Level(unit)
	if level >= 6 {
		return
	}
	lo, hi := ids.Subtree(unit)
	total, err := facts.Sum(ctx, d, metric, lo, hi, from, to)
	if err != nil {
		t.Fatal(err)
	}
	kids, err := facts.RollUp(ctx, d, metric, lo, hi, ids.Span(level+1), from, to)
	if err != nil {
		t.Fatal(err)
	}
	var s int64
	for child, v := range kids {
		s += v
		if child != unit && level < 4 {
			checkRollUp(t, d, metric, child, from, to)
		}
	}
	if s != total {
		t.Errorf("%s at %d: %d, its children's sum %d", metric, unit, total, s)
	}
}

// Same seed, same registry, same day: the same incidents.
func TestGenerateIncidentsDeterministic(t *testing.T) {
	run := func() string {
		d := dbtest.SQLite(t)
		svc, acc, _ := gridWorld(t, d, 400)
		if _, err := GenerateIncidents(context.Background(), svc, acc, IncidentOptions{N: 80, Seed: 3, Today: incidentsToday}); err != nil {
			t.Fatal(err)
		}
		rows, err := d.Query(context.Background(), `SELECT i.number, i.category, i.state, i.description, i.reporter_name, COALESCE(i.lat, 0),
			(SELECT COUNT(*) FROM incident_steps s WHERE s.incident_id = i.id) FROM incidents i ORDER BY i.id`)
		if err != nil {
			t.Fatal(err)
		}
		defer rows.Close()
		var b strings.Builder
		for rows.Next() {
			var num, cat, state, desc, who string
			var lat float64
			var steps int
			if err := rows.Scan(&num, &cat, &state, &desc, &who, &lat, &steps); err != nil {
				t.Fatal(err)
			}
			fmt.Fprintf(&b, "%s %s %s %s %s %.6f %d\n", num, cat, state, desc, who, lat, steps)
		}
		return b.String()
	}
	a, b := run(), run()
	if a != b || strings.Count(a, "\n") != 80 {
		t.Fatalf("two runs differ:\n%s\n---\n%s", a, b)
	}
}

func TestGeneratePatrols(t *testing.T) {
	d := dbtest.SQLite(t)
	svc, acc, _ := gridWorld(t, d, 1200)
	ctx := context.Background()
	start := time.Now()
	st, err := GeneratePatrols(ctx, svc, acc, PatrolOptions{Seed: 5, Today: incidentsToday, Months: 3})
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("patrols in %v: %+v", time.Since(start), st)
	if svc.Today() != dayOf(time.Now()) {
		t.Error("the service's clock was left on the demo's last step")
	}
	if st.Coverage < 70 || st.Coverage > 97 {
		t.Errorf("coverage %.1f %%", st.Coverage)
	}
	if got := caseCount(t, d, "SELECT COUNT(*) FROM patrols"); got != st.Visits || got < 1000 {
		t.Errorf("%d visits in the table, stats %d", got, st.Visits)
	}
	if bad := caseCount(t, d, "SELECT COUNT(*) FROM patrols WHERE at > ? OR day > ?", incidentsToday.UnixMilli(), dayOf(incidentsToday)); bad != 0 {
		t.Errorf("%d visits after today", bad)
	}
	// the problems found became incidents, linked both ways
	if st.Problems == 0 || st.Incidents.Incidents != st.Problems {
		t.Errorf("%d problems, %d incidents", st.Problems, st.Incidents.Incidents)
	}
	if got := caseCount(t, d, "SELECT COUNT(*) FROM patrols WHERE problem = 1 AND incident_id <> 0"); got != st.Problems {
		t.Errorf("%d visits linked to their incident, %d problems", got, st.Problems)
	}
	if got := caseCount(t, d, "SELECT COUNT(*) FROM incidents WHERE source = 'patrol'"); got != st.Problems {
		t.Errorf("%d patrol incidents, %d problems", got, st.Problems)
	}
	// coverage of last month as the coverage page computes it: every grid
	// with households visited, most of them at 70–95 %
	admin := &access.Principal{Username: "t", Assignments: []access.Assignment{{Role: "system_admin"}}}
	last := period(incidentsToday.AddDate(0, -1, 0))
	svc.SetClock(func() time.Time { return incidentsToday })
	defer svc.SetClock(nil)
	cov, err := svc.Coverage(ctx, admin, Township, last)
	if err != nil {
		t.Fatal(err)
	}
	if s := cov.Total.Share(); s < 0.68 || s > 0.98 {
		t.Errorf("township coverage of %d: %.2f (%+v)", last, s, cov.Total)
	}
	checkRollUp(t, d, grid.MetricPatrolHouseholds, County, last, last)
	// the grid account walked its own grid
	u, err := acc.UserByName(ctx, "grid")
	if err != nil {
		t.Fatal(err)
	}
	if got := caseCount(t, d, "SELECT COUNT(*) FROM patrols WHERE worker_id = ?", u.ID); got == 0 {
		t.Error("the demo's grid account made no visit")
	}
}
