package demo

// Demo patrols (走访, DG-9): each grid's worker goes from door to door,
// month after month, visiting most of the grid's households (about 70–95 %
// a month, now and then all of them), and a few visits find a problem that
// the worker reports as an incident on the spot (Report.PatrolID), which
// then lives its life like the others (incidents.go). Everything goes
// through grid.Service with its clock moved to each visit, so the patrol
// lists, the coverage page and its facts are what months of real use would
// have left.

import (
	"context"
	"errors"
	"fmt"
	"math"
	"sort"
	"time"

	"github.com/shequ-platform/shequ/internal/grid"
	"github.com/shequ-platform/shequ/internal/platform/access"
	"github.com/shequ-platform/shequ/internal/platform/audit"
	"github.com/shequ-platform/shequ/internal/platform/geo"
)

// PatrolOptions control GeneratePatrols.
type PatrolOptions struct {
	Seed int64 // same options, same registry, same day: same visits
	// Today is the day the demo is built: visits are made on the working
	// days of the Months months before it (this month's so far).
	Today  time.Time
	Months int   // default 4
	County int64 // default County (锡山区)
}

// PatrolStats counts what GeneratePatrols left.
type PatrolStats struct {
	Visits int
	// HouseholdMonths counts each household once a month it was visited.
	HouseholdMonths int
	// Coverage is the mean share (per cent) of a grid's households visited
	// in the complete months.
	Coverage float64
	Problems int // visits that found a problem (each reported as an incident)
	// Incidents is what became of the problems.
	Incidents IncidentStats
}

// Notes of visits that found nothing to report.
var visitNotes = []string{"家中情况正常", "宣传防范电信网络诈骗知识", "了解老人身体状况，一切正常", "核实家庭人口信息，无变化",
	"提醒注意用电用气安全", "宣传垃圾分类", "家中无人，已留联系卡", "了解家庭就业情况", "征求对村（社区）工作的意见建议", "宣传医保参保政策"}

// patrolKinds weigh what a visit finds: mostly at the door.
var patrolKinds = map[string]int{kindRental: 30, kindFireLane: 20, kindDrain: 15, kindRubbish: 15, kindHelp: 15,
	kindNeighbour: 10, kindBuilding: 5, kindLight: 5}

// GeneratePatrols makes the patrol visits of the demo county's grid
// workers over the months before o.Today, all through svc (see the top of
// this file); acc finds the demo accounts (the `grid` account walks its own
// grid). The households should have points (PlaceHouseholds) for visits
// and incidents to have positions. The service's clock is set back to
// time.Now when it returns: do not serve while it runs.
func GeneratePatrols(ctx context.Context, svc *grid.Service, acc *access.Service, o PatrolOptions) (PatrolStats, error) {
	if o.Today.IsZero() {
		return PatrolStats{}, errors.New("demo: PatrolOptions.Today is required")
	}
	if o.Months <= 0 {
		o.Months = 4
	}
	if o.County == 0 {
		o.County = County
	}
	defer svc.SetClock(nil)
	ctx = audit.WithActor(ctx, audit.Actor{Name: "demo", Client: "cli"})
	g, err := newGridGen(ctx, svc, acc, o.Seed, 0x5348455155504154, o.Today, o.Months, o.County) // "SHEQUPAT"
	if err != nil {
		return PatrolStats{}, err
	}
	var st PatrolStats

	// the working days of each month, of the whole month and in the range
	type month struct {
		all    int   // working days of the calendar month
		inside []int // of them, those in the range (up to today)
	}
	months := map[int]*month{}
	var order []int
	for _, d := range g.days {
		m := d / 100
		if months[m] == nil {
			months[m] = &month{}
			order = append(order, m)
			for x := m*100 + 1; x/100 == m; x = addDays(x, 1) {
				if g.cal.IsWorkingDay(x) {
					months[m].all++
				}
			}
		}
		months[m].inside = append(months[m].inside, d)
	}

	// plan every visit, then make them in time order
	type visit struct {
		day, minute int
		unit        *unitHouses
		house       int
	}
	var plan []visit
	var shares []float64
	for _, u := range g.units {
		if len(u.households) == 0 || g.workers[u.code] == nil {
			continue
		}
		for _, m := range order {
			mo := months[m]
			share := 0.70 + 0.25*g.r.Float64()
			if g.r.IntN(100) < 8 {
				share = 1 // every household this month
			}
			frac := float64(len(mo.inside)) / float64(max(mo.all, 1))
			if frac >= 1 {
				shares = append(shares, share)
			}
			n := int(math.Round(share * frac * float64(len(u.households))))
			perm := g.r.Perm(len(u.households))
			for _, i := range perm[:min(n, len(perm))] {
				plan = append(plan, visit{pick(g.r, mo.inside), 8*60 + 30 + g.r.IntN(9*60), u, i})
				if g.r.IntN(100) < 5 { // back again: a follow-up or nobody was in
					plan = append(plan, visit{pick(g.r, mo.inside), 8*60 + 30 + g.r.IntN(9*60), u, i})
				}
			}
		}
	}
	sort.SliceStable(plan, func(i, j int) bool {
		if plan[i].day != plan[j].day {
			return plan[i].day < plan[j].day
		}
		return plan[i].minute < plan[j].minute
	})
	var kinds weights
	var kindList []string
	for _, k := range []string{kindRental, kindFireLane, kindDrain, kindRubbish, kindHelp, kindNeighbour, kindBuilding, kindLight} {
		kinds.add(patrolKinds[k])
		kindList = append(kindList, k)
	}
	for len(plan) > 0 {
		chunk := plan[:min(batchSize, len(plan))]
		plan = plan[len(chunk):]
		err := svc.DB.Tx(ctx, func(ctx context.Context) error {
			for _, v := range chunk {
				if g.future(v.day, v.minute) {
					continue
				}
				if err := g.visit(ctx, &st, v.unit, v.house, v.day, v.minute, kindList[kinds.pick(g.r)]); err != nil {
					return err
				}
			}
			return nil
		})
		if err != nil {
			return st, err
		}
	}
	for _, s := range shares {
		st.Coverage += s
	}
	if len(shares) > 0 {
		st.Coverage = st.Coverage * 100 / float64(len(shares))
	}
	st.Incidents = g.stats
	return st, nil
}

// visit makes one visit of household house of unit; a few find a problem
// of kind (or, when the pack has no such category, of any kind).
func (g *gridGen) visit(ctx context.Context, st *PatrolStats, u *unitHouses, house, day, minute int, kind string) error {
	h := u.households[house]
	worker := g.workers[u.code]
	v := grid.Visit{HouseholdID: h.ID, Note: pick(g.r, visitNotes)}
	var at *geo.Point
	// the phone's position, at the door, on some visits (each is checked
	// against the registry's points, which costs the demo's start-up time)
	if h.Lat != nil && h.Lon != nil && g.r.IntN(100) < 25 {
		p := near(geo.Point{Lat: *h.Lat, Lon: *h.Lon}, g.r.Uint64(), 15)
		at = &p
		v.Lat, v.Lon = &p.Lat, &p.Lon
	}
	problem := g.r.IntN(100) < 3
	var c categoryPick
	if problem {
		cats, _, err := g.categories(u.code)
		if err != nil {
			return err
		}
		c = cats[0]
		found := false
		for _, x := range cats {
			if x.kind == kind {
				c, found = x, true
				break
			}
		}
		if !found {
			c = pick(g.r, cats)
		}
		v.Problem = true
	}
	var desc, addr string
	var pos *geo.Point
	var household int64
	if problem {
		desc, addr, pos, household = g.what(u, c.kind, house)
		v.Note = "走访发现：" + desc
	}
	g.at(day, minute)
	out, err := g.svc.LogVisit(ctx, worker, v)
	if err != nil {
		return fmt.Errorf("demo: visit of household %d: %w", h.ID, err)
	}
	st.Visits++
	if out.First {
		st.HouseholdMonths++
	}
	if !problem {
		return nil
	}
	st.Problems++
	rep := grid.Report{Division: u.code, Category: c.cat.Code, Description: desc, Address: addr, HouseholdID: household,
		Source: grid.SourcePatrol, PatrolID: out.ID}
	if pos == nil {
		pos = at
	}
	if pos != nil {
		rep.Lat, rep.Lon = &pos.Lat, &pos.Lon
	}
	if m := minute + 5 + g.r.IntN(10); !g.future(day, m) {
		minute = m // reported from the doorstep
	}
	g.at(day, minute)
	in, err := g.svc.ReportIncident(ctx, worker, rep)
	if err != nil {
		return fmt.Errorf("demo: report from visit %d: %w", out.ID, err)
	}
	return g.life(ctx, u, in, c.kind, day, minute, nil)
}
