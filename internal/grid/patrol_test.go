package grid_test

import (
	"errors"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/shequ-platform/shequ/internal/grid"
	"github.com/shequ-platform/shequ/internal/platform/access"
	"github.com/shequ-platform/shequ/internal/platform/db"
	"github.com/shequ-platform/shequ/internal/platform/db/dbtest"
	"github.com/shequ-platform/shequ/internal/platform/facts"
	"github.com/shequ-platform/shequ/internal/platform/ids"
	"github.com/shequ-platform/shequ/internal/registry"
)

// patrolHousehold registers a household at div (a grid or a village) with
// one present member, its head, unless empty.
func (f *fixture) patrolHousehold(div int64, houseNo string, empty bool) registry.Household {
	f.t.Helper()
	h, err := f.reg.CreateHousehold(f.ctx, f.admin, registry.HouseholdInput{Division: div, Address: "东亭路", HouseNo: houseNo})
	if err != nil {
		f.t.Fatalf("household %s: %v", houseNo, err)
	}
	if !empty {
		f.patrolResident(h.ID, headName(houseNo), "", nil)
	}
	return h
}

// headName is the name of the head of the household at houseNo, in Han
// characters (names take no digits): 1号 → 户主一号.
func headName(houseNo string) string {
	return "户主" + strings.Map(func(r rune) rune {
		if r >= '0' && r <= '9' {
			return []rune("〇一二三四五六七八九")[r-'0']
		}
		return r
	}, houseNo)
}

// patrolResident registers a resident of a household (the head when
// relation is empty) with tags (key → grade), as the administrator.
func (f *fixture) patrolResident(household int64, name, idNumber string, tags map[string]string) registry.Resident {
	f.t.Helper()
	in := registry.ResidentInput{HouseholdID: household, Name: name, Residency: registry.Registered, Relation: "head", Tags: tags}
	if idNumber != "" {
		in.IDNumber = idNumber
	} else {
		in.Gender, in.Birth = "M", "1970-03-04"
	}
	r, err := f.reg.Register(f.ctx, f.admin, in)
	if err != nil {
		f.t.Fatalf("resident %s: %v", name, err)
	}
	return r
}

// visit logs a visit that must succeed.
func (f *fixture) visit(p *access.Principal, household int64, problem bool) grid.Visit {
	f.t.Helper()
	v, err := f.svc.LogVisit(f.ctx, p, grid.Visit{HouseholdID: household, Note: "家中老人身体健康，无特殊诉求", Problem: problem})
	if err != nil {
		f.t.Fatalf("visit %d: %v", household, err)
	}
	return v
}

// month is a metric's value at code's subtree in one month.
func (f *fixture) month(metric string, code int64, month int) int64 {
	f.t.Helper()
	lo, hi := ids.Subtree(code)
	v, err := facts.Sum(f.ctx, f.d, metric, lo, hi, month, month)
	if err != nil {
		f.t.Fatal(err)
	}
	return v
}

func TestPatrolVisitFacts(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		f := newFixture(t, d)
		h1 := f.patrolHousehold(f.gridA1, "1号", false)
		h2 := f.patrolHousehold(f.gridA1, "2号", false)
		h3 := f.patrolHousehold(f.gridA2, "3号", false)

		v1 := f.visit(f.workerA1, h1.ID, false)
		if !v1.First || v1.Division != f.gridA1 || v1.Day != 20260930 || v1.WorkerID != f.workerA1.UserID {
			t.Fatalf("first visit: %+v", v1)
		}
		v2 := f.visit(f.workerA1, h1.ID, true) // the same household again, a problem found
		if v2.First {
			t.Fatal("a second visit in the month counted as the first")
		}
		f.visit(f.workerA1, h2.ID, false)
		f.visit(f.workerA2, h3.ID, true)

		for _, c := range []struct {
			metric string
			code   int64
			want   int64
		}{
			{grid.MetricPatrolVisits, f.gridA1, 3},
			{grid.MetricPatrolHouseholds, f.gridA1, 2},
			{grid.MetricPatrolProblems, f.gridA1, 1},
			{grid.MetricPatrolVisits, f.gridA2, 1},
			{grid.MetricPatrolHouseholds, f.gridA2, 1},
			{grid.MetricPatrolProblems, f.gridA2, 1},
			// parents are range sums of their grids
			{grid.MetricPatrolVisits, villageA, 4},
			{grid.MetricPatrolHouseholds, villageA, 3},
			{grid.MetricPatrolProblems, townA, 2},
			{grid.MetricPatrolHouseholds, county, 3},
			{grid.MetricPatrolVisits, villageB, 0},
		} {
			if got := f.month(c.metric, c.code, 202609); got != c.want {
				t.Errorf("%s at %d: %d, want %d", c.metric, c.code, got, c.want)
			}
		}
		if n := f.count(`SELECT COUNT(*) FROM patrols`); n != 4 {
			t.Fatalf("%d patrols stored", n)
		}
		if n := f.count(`SELECT COUNT(*) FROM audit_log WHERE entity = 'patrol' AND action = 'create'`); n != 4 {
			t.Fatalf("%d audit entries of visits", n)
		}

		// a new month: the household counts once more, in that month
		f.now = time.Date(2026, 10, 9, 9, 0, 0, 0, china)
		if v := f.visit(f.workerA1, h1.ID, false); !v.First || v.Day != 20261009 {
			t.Fatalf("first visit of October: %+v", v)
		}
		f.visit(f.workerA1, h1.ID, false)
		if got := f.month(grid.MetricPatrolHouseholds, f.gridA1, 202610); got != 1 {
			t.Errorf("households visited in October: %d", got)
		}
		if got := f.month(grid.MetricPatrolVisits, f.gridA1, 202610); got != 2 {
			t.Errorf("visits in October: %d", got)
		}
		if got := f.sum(grid.MetricPatrolHouseholds, villageA); got != 4 {
			t.Errorf("households visited over both months: %d", got)
		}
		if seen, err := f.svc.VisitedThisMonth(f.ctx, h2.ID); err != nil || seen {
			t.Errorf("h2 visited in October: %v %v", seen, err)
		}
	})
}

// TestPatrolConcurrentVisits: workers logging the same household at once
// count it once and meet no deadlock (the first-visit check and the insert
// are serialised per village and month). The race it guards against needs
// two transactions between check and commit at the same moment, which the
// scheduler rarely produces, so a pass is weak evidence of the lock; a
// failure is a real one.
func TestPatrolConcurrentVisits(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		f := newFixture(t, d)
		h := f.patrolHousehold(f.gridA1, "1号", false)
		const n = 8
		errs := make(chan error, n)
		var firsts atomic.Int32
		for i := range n {
			go func() {
				p := f.workerA1
				if i%2 == 1 {
					p = f.villageStaff
				}
				v, err := f.svc.LogVisit(f.ctx, p, grid.Visit{HouseholdID: h.ID})
				if v.First {
					firsts.Add(1)
				}
				errs <- err
			}()
		}
		for range n {
			if err := <-errs; err != nil {
				t.Fatal(err)
			}
		}
		if firsts.Load() != 1 || f.month(grid.MetricPatrolHouseholds, villageA, 202609) != 1 || f.month(grid.MetricPatrolVisits, villageA, 202609) != n {
			t.Fatalf("first visits %d, households %d, visits %d", firsts.Load(),
				f.month(grid.MetricPatrolHouseholds, villageA, 202609), f.month(grid.MetricPatrolVisits, villageA, 202609))
		}
	})
}

func TestPatrolScopeAndInput(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		f := newFixture(t, d)
		h1 := f.patrolHousehold(f.gridA1, "1号", false)
		hv := f.patrolHousehold(villageA, "村口1号", false) // on no grid

		denied := f.count(`SELECT COUNT(*) FROM audit_log WHERE action = 'denied'`)
		_, err := f.svc.LogVisit(f.ctx, f.workerA2, grid.Visit{HouseholdID: h1.ID})
		wantFieldError(t, err, "household:patrol_household_unknown")
		_, err = f.svc.LogVisit(f.ctx, f.workerB1, grid.Visit{HouseholdID: h1.ID})
		wantFieldError(t, err, "household:patrol_household_unknown")
		if n := f.count(`SELECT COUNT(*) FROM audit_log WHERE action = 'denied'`); n != denied+2 {
			t.Errorf("refusals audited: %d, want %d", n-denied, 2)
		}
		// the worker of a grid sees no household outside it, the village's own included
		_, err = f.svc.LogVisit(f.ctx, f.workerA1, grid.Visit{HouseholdID: hv.ID})
		wantFieldError(t, err, "household:patrol_household_unknown")
		// the special-groups officer sees households but does not patrol
		if _, err := f.svc.LogVisit(f.ctx, f.officer, grid.Visit{HouseholdID: h1.ID}); !errors.Is(err, grid.ErrForbidden) {
			t.Errorf("officer: %v", err)
		}
		if _, err := f.svc.LogVisit(f.ctx, nil, grid.Visit{HouseholdID: h1.ID}); !errors.Is(err, grid.ErrForbidden) {
			t.Errorf("anonymous: %v", err)
		}
		if n := f.count(`SELECT COUNT(*) FROM patrols`); n != 0 {
			t.Fatalf("%d visits stored by refused calls", n)
		}

		// input
		_, err = f.svc.LogVisit(f.ctx, f.workerA1, grid.Visit{})
		wantFieldError(t, err, "household:patrol_household_required")
		_, err = f.svc.LogVisit(f.ctx, f.workerA1, grid.Visit{HouseholdID: h1.ID, Note: strings.Repeat("很", 2001)})
		wantFieldError(t, err, "note:patrol_note_too_long")
		lat := 31.59
		_, err = f.svc.LogVisit(f.ctx, f.workerA1, grid.Visit{HouseholdID: h1.ID, Lat: &lat})
		wantFieldError(t, err, "position:position_invalid")
		far, lon := 48.85, 2.35 // Paris
		_, err = f.svc.LogVisit(f.ctx, f.workerA1, grid.Visit{HouseholdID: h1.ID, Lat: &far, Lon: &lon})
		wantFieldError(t, err, "position:position_invalid")
		if n := f.count(`SELECT COUNT(*) FROM patrols`); n != 0 {
			t.Fatalf("%d visits stored by invalid input", n)
		}

		// a valid position is kept; the village's staff patrol its ungridded households
		lat, lon = 31.5812, 120.3571
		v, err := f.svc.LogVisit(f.ctx, f.workerA1, grid.Visit{HouseholdID: h1.ID, Lat: &lat, Lon: &lon, Note: "  门口堆放杂物  "})
		if err != nil {
			t.Fatal(err)
		}
		got, err := f.svc.Visit(f.ctx, f.workerA1, v.ID)
		if err != nil || got.Lat == nil || *got.Lat != lat || got.Note != "门口堆放杂物" {
			t.Fatalf("stored visit: %+v %v", got, err)
		}
		vv := f.visit(f.villageStaff, hv.ID, false)
		if vv.Division != villageA || f.month(grid.MetricPatrolVisits, villageA, 202609) != 2 {
			t.Errorf("village-level visit: %+v", vv)
		}
		// a visit is seen by its worker and grid.view over it, not by another grid's worker
		if _, err := f.svc.Visit(f.ctx, f.workerA2, v.ID); !errors.Is(err, db.ErrNotFound) {
			t.Errorf("another grid's worker read the visit: %v", err)
		}
		if _, err := f.svc.Visit(f.ctx, f.townStaffA, v.ID); err != nil {
			t.Errorf("township staff: %v", err)
		}
	})
}

func TestPatrolCoverage(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		f := newFixture(t, d)
		var a1 []registry.Household
		for i := range 4 {
			a1 = append(a1, f.patrolHousehold(f.gridA1, strconv.Itoa(i+1)+"号", false))
		}
		f.patrolHousehold(f.gridA1, "空户", true) // nobody lives there: not counted
		a2 := []registry.Household{f.patrolHousehold(f.gridA2, "21号", false), f.patrolHousehold(f.gridA2, "22号", false)}
		f.patrolHousehold(villageA, "村口1号", false)
		b1 := f.patrolHousehold(f.gridB1, "吼山1号", false)

		for _, h := range a1[:3] {
			f.visit(f.workerA1, h.ID, false)
		}
		f.visit(f.workerA1, a1[0].ID, true) // again: a visit, not a household
		for _, h := range a2 {
			f.visit(f.workerA2, h.ID, false)
		}
		f.visit(f.workerB1, b1.ID, true)

		c, err := f.svc.Coverage(f.ctx, f.villageStaff, villageA, 202609)
		if err != nil {
			t.Fatal(err)
		}
		if len(c.Rows) != 3 {
			t.Fatalf("rows: %+v", c.Rows)
		}
		want := []grid.CoverageRow{
			{Unit: f.gridA1, Households: 4, Visited: 3, Visits: 4, Problems: 1, Target: 1},
			{Unit: f.gridA2, Households: 2, Visited: 2, Visits: 2, Target: 1},
			{Unit: villageA, Households: 1, Ungridded: true, Target: 1},
		}
		for i, w := range want {
			r := c.Rows[i]
			r.Name = ""
			if r != w {
				t.Errorf("row %d: %+v, want %+v", i, r, w)
			}
		}
		if c.Rows[0].Name != "第一网格" || c.Rows[0].Percent() != "75.0" || c.Rows[0].Met() || !c.Rows[0].HasTarget() {
			t.Errorf("grid A1: %q %s met=%v", c.Rows[0].Name, c.Rows[0].Percent(), c.Rows[0].Met())
		}
		if !c.Rows[1].Met() || c.Rows[1].Percent() != "100.0" || c.Rows[1].TargetPercent() != "100" {
			t.Errorf("grid A2: %s met=%v", c.Rows[1].Percent(), c.Rows[1].Met())
		}
		if c.Rows[2].Met() || c.Rows[2].Percent() != "0.0" {
			t.Errorf("ungridded: %+v", c.Rows[2])
		}
		tot := c.Total
		if tot.Households != 7 || tot.Visited != 5 || tot.Visits != 6 || tot.Problems != 1 || tot.Percent() != "71.4" || tot.Met() {
			t.Errorf("total: %+v %s", tot, tot.Percent())
		}
		var sum grid.CoverageRow
		for _, r := range c.Rows {
			sum.Households += r.Households
			sum.Visited += r.Visited
			sum.Visits += r.Visits
			sum.Problems += r.Problems
		}
		if sum.Households != tot.Households || sum.Visited != tot.Visited || sum.Visits != tot.Visits || sum.Problems != tot.Problems {
			t.Errorf("total %+v is not the sum of the rows %+v", tot, sum)
		}
		if tot.Visited != f.month(grid.MetricPatrolHouseholds, villageA, 202609) {
			t.Error("the total differs from the facts")
		}

		// a township: one row per village, each the total of its village
		ct, err := f.svc.Coverage(f.ctx, f.townStaffA, townA, 202609)
		if err != nil {
			t.Fatal(err)
		}
		if len(ct.Rows) != 2 || ct.Rows[0].Unit != villageA || ct.Rows[1].Unit != villageC {
			t.Fatalf("township rows: %+v", ct.Rows)
		}
		if r := ct.Rows[0]; r.Households != tot.Households || r.Visited != tot.Visited || r.Visits != tot.Visits || r.Problems != tot.Problems {
			t.Errorf("village row %+v, village total %+v", r, tot)
		}
		if ct.Rows[1].Households != 0 || ct.Total != (grid.CoverageRow{Unit: townA, Households: 7, Visited: 5, Visits: 6, Problems: 1, Target: 1}) {
			t.Errorf("township total: %+v", ct.Total)
		}
		// the county: townships; its total is both
		cc, err := f.svc.Coverage(f.ctx, f.countyStaff, county, 202609)
		if err != nil {
			t.Fatal(err)
		}
		if len(cc.Rows) != 2 || cc.Total.Households != 8 || cc.Total.Visited != 6 || cc.Total.Problems != 2 {
			t.Errorf("county: %+v total %+v", cc.Rows, cc.Total)
		}
		// one grid; another month has visits of none
		cg, err := f.svc.Coverage(f.ctx, f.workerA1, f.gridA1, 202609)
		if err != nil || len(cg.Rows) != 1 || cg.Total.Visited != 3 {
			t.Errorf("grid A1: %+v %v", cg, err)
		}
		co, err := f.svc.Coverage(f.ctx, f.villageStaff, villageA, 202610)
		if err != nil || co.Total.Households != 7 || co.Total.Visited != 0 || co.Total.Visits != 0 {
			t.Errorf("October: %+v %v", co.Total, err)
		}
		// scope
		if _, err := f.svc.Coverage(f.ctx, f.workerA1, villageA, 202609); !errors.Is(err, db.ErrNotFound) {
			t.Errorf("a grid worker read the village: %v", err)
		}
		if _, err := f.svc.Coverage(f.ctx, f.townStaffB, villageA, 202609); !errors.Is(err, db.ErrNotFound) {
			t.Errorf("another township read the village: %v", err)
		}
	})
}

func TestPatrolCandidatesAndList(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		f := newFixture(t, d)
		h1 := f.patrolHousehold(f.gridA1, "1号", false)
		h2 := f.patrolHousehold(f.gridA1, "2号", false)
		f.patrolHousehold(f.gridA1, "空户", true)
		f.patrolHousehold(f.gridA2, "21号", false)
		f.visit(f.workerA1, h1.ID, false)

		cands, err := f.svc.PatrolCandidates(f.ctx, f.workerA1, f.gridA1, "", 50)
		if err != nil {
			t.Fatal(err)
		}
		if len(cands) != 1 || cands[0].ID != h2.ID || cands[0].Visited || cands[0].Head != headName("2号") || cands[0].Members != 1 {
			t.Fatalf("unvisited: %+v", cands)
		}
		found, err := f.svc.PatrolCandidates(f.ctx, f.workerA1, f.gridA1, "1号", 50)
		if err != nil || len(found) != 1 || found[0].ID != h1.ID || !found[0].Visited {
			t.Fatalf("search: %+v %v", found, err)
		}
		if _, err := f.svc.PatrolCandidates(f.ctx, f.workerA1, f.gridA2, "", 50); !errors.Is(err, db.ErrNotFound) {
			t.Fatalf("another grid's households: %v", err)
		}

		// the list: mine, the unit's, by month, problems only, paged
		for range 3 {
			f.visit(f.workerA1, h2.ID, true)
		}
		f.visit(f.villageStaff, h2.ID, false)
		mine, more, err := f.svc.Visits(f.ctx, f.workerA1, grid.VisitFilter{Mine: true, Month: 202609, Limit: 3})
		if err != nil || len(mine) != 3 || !more {
			t.Fatalf("mine: %d %v %v", len(mine), more, err)
		}
		for _, v := range mine {
			if v.WorkerID != f.workerA1.UserID {
				t.Errorf("someone else's visit in mine: %+v", v)
			}
		}
		if mine[0].ID < mine[1].ID {
			t.Error("not newest first")
		}
		rest, more, err := f.svc.Visits(f.ctx, f.workerA1, grid.VisitFilter{Mine: true, Month: 202609, Limit: 3, Offset: 3})
		if err != nil || len(rest) != 1 || more {
			t.Fatalf("page 2: %d %v %v", len(rest), more, err)
		}
		unit, _, err := f.svc.Visits(f.ctx, f.villageStaff, grid.VisitFilter{Unit: villageA})
		if err != nil || len(unit) != 5 {
			t.Fatalf("village: %d %v", len(unit), err)
		}
		probs, _, err := f.svc.Visits(f.ctx, f.villageStaff, grid.VisitFilter{Unit: villageA, Problem: true})
		if err != nil || len(probs) != 3 {
			t.Fatalf("problems: %d %v", len(probs), err)
		}
		oct, _, err := f.svc.Visits(f.ctx, f.villageStaff, grid.VisitFilter{Unit: villageA, Month: 202610})
		if err != nil || len(oct) != 0 {
			t.Fatalf("October: %d %v", len(oct), err)
		}
		if _, _, err := f.svc.Visits(f.ctx, f.workerA2, grid.VisitFilter{Unit: f.gridA1}); !errors.Is(err, db.ErrNotFound) {
			t.Fatalf("another grid: %v", err)
		}
		// the whole scope of a worker of another grid holds none of them
		if other, _, err := f.svc.Visits(f.ctx, f.workerA2, grid.VisitFilter{}); err != nil || len(other) != 0 {
			t.Fatalf("worker A2's scope: %d %v", len(other), err)
		}
	})
}

// TestPatrolReportLinksVisit: the one tap from a visit that found a problem
// files an incident linked to the visit.
func TestPatrolReportLinksVisit(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		f := newFixture(t, d)
		h := f.patrolHousehold(f.gridA1, "1号", false)
		v := f.visit(f.workerA1, h.ID, true)
		in, err := f.svc.ReportIncident(f.ctx, f.workerA1, grid.Report{Division: f.gridA1, Category: catRubbish,
			Description: "门口垃圾堆放", HouseholdID: h.ID, PatrolID: v.ID, Source: grid.SourcePatrol})
		if err != nil {
			t.Fatal(err)
		}
		got, err := f.svc.Visit(f.ctx, f.workerA1, v.ID)
		if err != nil || got.IncidentID != in.ID {
			t.Fatalf("visit after the report: %+v %v", got, err)
		}
	})
}
