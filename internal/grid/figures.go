package grid

// The incident figures (事件统计) of one unit's subtree over a span of
// months: one row per child unit (a county's townships, a township's
// villages, a village's grids), one row per month, and the share of the
// incidents settled in the village by child and month — the measure of
// "small matters stay in the village" (小事不出村, DG-16, XS-12).
//
// Everything is read from facts (internal/platform/facts), which Do and
// report keep current in the transaction of each change, counted at the
// place the incident happened (its grid, else its village) in the month of
// the event. The reads are bounded by units × months × metrics whatever the
// number of incidents, and a parent's figure is by construction the sum of
// its children's: the totals are read on their own, so a test can check it.

import (
	"context"
	"sort"
	"strconv"

	"github.com/shequ-platform/shequ/internal/division"
	"github.com/shequ-platform/shequ/internal/platform/access"
	"github.com/shequ-platform/shequ/internal/platform/db"
	"github.com/shequ-platform/shequ/internal/platform/facts"
	"github.com/shequ-platform/shequ/internal/platform/ids"
)

// FigureRatio is a fraction whose denominator may be zero (no rate then).
type FigureRatio struct{ Num, Den int64 }

// Valid reports whether the ratio has a denominator.
func (r FigureRatio) Valid() bool { return r.Den > 0 }

// Value is Num/Den (0 without a denominator).
func (r FigureRatio) Value() float64 {
	if r.Den <= 0 {
		return 0
	}
	return float64(r.Num) / float64(r.Den)
}

// Percent writes the ratio as a percentage with one decimal, "90.5%", or
// "—" without a denominator.
func (r FigureRatio) Percent() string {
	if r.Den <= 0 {
		return "—"
	}
	return strconv.FormatFloat(100*r.Value(), 'f', 1, 64) + "%"
}

// Mean writes the ratio as a number with one decimal ("4.6", an average
// rating), or "—" without a denominator.
func (r FigureRatio) Mean() string {
	if r.Den <= 0 {
		return "—"
	}
	return strconv.FormatFloat(r.Value(), 'f', 1, 64)
}

// IncidentCounts are the counts every row of the incident figures has, each
// the sum of one metric's facts.
type IncidentCounts struct {
	Reported      int64 // 上报 (MetricReported)
	Registered    int64 // 立案
	Rejected      int64 // 不予立案
	Closed        int64 // 结案
	ClosedVillage int64 // 结案 by the village itself (MetricClosedVillage)
	ClosedOnTime  int64 // 结案 and handled within the time limit
	Escalated     int64 // 升级 (each escalation counts)
	Rated         int64 // ratings given
	RatingSum     int64 // the sum of their levels
}

// VillageShare is the share of the closed incidents the village settled
// itself: the headline figure of "small matters stay in the village".
func (c IncidentCounts) VillageShare() FigureRatio { return FigureRatio{c.ClosedVillage, c.Closed} }

// OnTimeShare is the share of the closed incidents handled within their
// time limit.
func (c IncidentCounts) OnTimeShare() FigureRatio { return FigureRatio{c.ClosedOnTime, c.Closed} }

// AvgRating is the mean satisfaction rating (1–5).
func (c IncidentCounts) AvgRating() FigureRatio { return FigureRatio{c.RatingSum, c.Rated} }

func (c IncidentCounts) zero() bool { return c == IncidentCounts{} }

func (c *IncidentCounts) add(o IncidentCounts) {
	c.Reported += o.Reported
	c.Registered += o.Registered
	c.Rejected += o.Rejected
	c.Closed += o.Closed
	c.ClosedVillage += o.ClosedVillage
	c.ClosedOnTime += o.ClosedOnTime
	c.Escalated += o.Escalated
	c.Rated += o.Rated
	c.RatingSum += o.RatingSum
}

// addMetric adds v to the count metric names.
func (c *IncidentCounts) addMetric(metric string, v int64) {
	switch metric {
	case MetricReported:
		c.Reported += v
	case MetricRegistered:
		c.Registered += v
	case MetricRejected:
		c.Rejected += v
	case MetricClosed:
		c.Closed += v
	case MetricClosedVillage:
		c.ClosedVillage += v
	case MetricClosedOnTime:
		c.ClosedOnTime += v
	case MetricEscalated:
		c.Escalated += v
	case MetricRated:
		c.Rated += v
	case MetricRatingSum:
		c.RatingSum += v
	}
}

// incidentFigureMetrics are the metrics IncidentFigures reads.
var incidentFigureMetrics = []string{MetricReported, MetricRegistered, MetricRejected, MetricClosed, MetricClosedVillage,
	MetricClosedOnTime, MetricEscalated, MetricRated, MetricRatingSum}

// IncidentMonth is one month of the figures.
type IncidentMonth struct {
	Period int // YYYYMM
	IncidentCounts
}

// IncidentUnitRow is one row of the roll-up: a child unit, or the unit itself.
type IncidentUnitRow struct {
	Code    int64
	Name    string
	Level   int
	Retired bool
	// Own marks the row of the incidents recorded at the unit itself rather
	// than at any listed child (a village's incidents with no grid).
	Own bool
	IncidentCounts
	// Months are the unit's counts month by month, in the order of
	// IncidentFigures.Months.
	Months []IncidentCounts
}

// IncidentFigures are the incident figures of one unit's subtree over a span
// of months (see figures.go).
type IncidentFigures struct {
	Unit     int64 // 15-digit code; 0 is the whole country
	UnitName string
	Level    int
	From, To int // YYYYMM, inclusive
	Totals   IncidentCounts
	Months   []IncidentMonth
	// Children are the child units in code order; retired ones only when
	// they have figures.
	Children []IncidentUnitRow
	// Own is the unit itself (and anything below it no listed child holds);
	// nil when it has nothing.
	Own *IncidentUnitRow
}

// MaxIncidentFigureMonths bounds the span of months IncidentFigures reads.
const MaxIncidentFigureMonths = 36

// figValidPeriod reports whether p is a month YYYYMM.
func figValidPeriod(p int) bool { return p >= 190001 && p <= 999912 && p%100 >= 1 && p%100 <= 12 }

// figNextMonth is the month after p (YYYYMM).
func figNextMonth(p int) int {
	if p%100 == 12 {
		return (p/100+1)*100 + 1
	}
	return p + 1
}

// figMonthsBetween counts the months from from to to, both included.
func figMonthsBetween(from, to int) int { return (to/100-from/100)*12 + to%100 - from%100 + 1 }

// IncidentFigures returns the incident figures of unit's subtree over the
// months from … to (YYYYMM, inclusive). p needs grid.view at unit; anything
// else is db.ErrNotFound (audited as a denial). An invalid span of months
// is Errors (field "from" or "to", code "figures_period").
func (s *Service) IncidentFigures(ctx context.Context, p *access.Principal, unit int64, from, to int) (IncidentFigures, error) {
	if p == nil || !p.CanAt("grid.view", unit) {
		if s.Access != nil && p != nil {
			s.Access.Deny(ctx, "incident_figures", strconv.FormatInt(unit, 10), unit)
		}
		return IncidentFigures{}, db.ErrNotFound
	}
	var es Errors
	if !figValidPeriod(from) {
		es.Add("from", "figures_period", strconv.Itoa(MaxIncidentFigureMonths))
	}
	if !figValidPeriod(to) || figValidPeriod(from) && (to < from || figMonthsBetween(from, to) > MaxIncidentFigureMonths) {
		es.Add("to", "figures_period", strconv.Itoa(MaxIncidentFigureMonths))
	}
	if len(es) > 0 {
		return IncidentFigures{}, es
	}
	f := IncidentFigures{Unit: unit, From: from, To: to}
	lo, hi := ids.Subtree(unit)
	if unit != division.Root {
		d, err := s.Divisions.Get(ctx, unit)
		if err != nil {
			return IncidentFigures{}, err
		}
		f.UnitName, f.Level = d.Name, d.Level
		lo, hi = d.Range()
	}
	var kids []division.Division
	if f.Level < 6 {
		var err error
		if kids, err = s.Divisions.Children(ctx, unit, true); err != nil {
			return IncidentFigures{}, err
		}
	}
	var periods []int
	for per := from; per <= to; per = figNextMonth(per) {
		periods = append(periods, per)
		f.Months = append(f.Months, IncidentMonth{Period: per})
	}
	units := make([]IncidentUnitRow, len(kids))
	for i, k := range kids {
		units[i] = IncidentUnitRow{Code: k.Code, Name: k.Name, Level: k.Level, Retired: k.Retired, Months: make([]IncidentCounts, len(periods))}
	}
	own := IncidentUnitRow{Code: unit, Name: f.UnitName, Level: f.Level, Own: true, Months: make([]IncidentCounts, len(periods))}
	unitOf := func(div int64) *IncidentUnitRow {
		i := sort.Search(len(kids), func(i int) bool { _, h := kids[i].Range(); return h >= div })
		if i < len(kids) {
			if l, _ := kids[i].Range(); l <= div {
				return &units[i]
			}
		}
		return &own
	}

	// the totals, on their own: the rows must add up to them
	err := facts.SumMany(ctx, s.DB, incidentFigureMetrics, lo, hi, from, to, facts.ByMetric, func(metric string, _, v int64) {
		f.Totals.addMetric(metric, v)
	})
	if err != nil {
		return IncidentFigures{}, err
	}
	// month by month, by the division where it happened
	for i, per := range periods {
		err := facts.SumMany(ctx, s.DB, incidentFigureMetrics, lo, hi, per, per, facts.ByDivision, func(metric string, div, v int64) {
			unitOf(div).Months[i].addMetric(metric, v)
		})
		if err != nil {
			return IncidentFigures{}, err
		}
	}
	roll := func(u *IncidentUnitRow) {
		for i, m := range u.Months {
			u.IncidentCounts.add(m)
			f.Months[i].IncidentCounts.add(m)
		}
	}
	for i := range units {
		u := &units[i]
		roll(u)
		if !u.Retired || !u.IncidentCounts.zero() {
			f.Children = append(f.Children, *u)
		}
	}
	roll(&own)
	if !own.IncidentCounts.zero() {
		f.Own = &own
	}
	return f, nil
}
