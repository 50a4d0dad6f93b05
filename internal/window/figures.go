package window

// The window's figures (办件统计) for a dashboard: totals, month series,
// breakdowns by category, channel and item, and one row per child unit.
//
// Everything here is read from facts (internal/platform/facts), counted at
// the unit whose window accepted a case in the month of each event, plus one
// count that cannot be a fact because it changes with the calendar: the
// cases open and past their deadline today, counted from the cases table
// over the index cases (is_open, division, deadline). Facts rows are bounded
// by units × months × metrics whatever the number of cases, and the open
// cases are only a thin recent slice of them, so the reads stay flat as
// cases accumulate (docs/benchmarks.md, "Service window: dashboard").

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/shequ-platform/shequ/internal/division"
	"github.com/shequ-platform/shequ/internal/platform/access"
	"github.com/shequ-platform/shequ/internal/platform/db"
	"github.com/shequ-platform/shequ/internal/platform/facts"
	"github.com/shequ-platform/shequ/internal/platform/ids"
	"github.com/shequ-platform/shequ/internal/platform/policy"
)

// SetClock replaces the service's clock: the day a case is accepted, its
// deadline, the months its facts are counted in, the day the open-overdue
// count is taken. It is for demos (internal/demo fills months of cases in
// the past) and tests; a server keeps time.Now. Not safe to call while the
// service is in use by other goroutines.
func (s *Service) SetClock(now func() time.Time) {
	if now == nil {
		now = time.Now
	}
	s.now = now
}

// Ratio is a fraction whose denominator may be zero (no rate then).
type Ratio struct{ Num, Den int64 }

// Valid reports whether the ratio has a denominator.
func (r Ratio) Valid() bool { return r.Den > 0 }

// Value is Num/Den (0 without a denominator).
func (r Ratio) Value() float64 {
	if r.Den <= 0 {
		return 0
	}
	return float64(r.Num) / float64(r.Den)
}

// Percent writes the ratio as a percentage with one decimal, "96.4%", or
// "—" without a denominator.
func (r Ratio) Percent() string {
	if r.Den <= 0 {
		return "—"
	}
	return strconv.FormatFloat(100*r.Value(), 'f', 1, 64) + "%"
}

// Mean writes the ratio as a number with one decimal ("4.6", for average
// ratings), or "—" without a denominator.
func (r Ratio) Mean() string {
	if r.Den <= 0 {
		return "—"
	}
	return strconv.FormatFloat(r.Value(), 'f', 1, 64)
}

// Counts are the counts every row of the figures has.
type Counts struct {
	Accepted    int64 // 受理
	Completed   int64 // 办结
	OnTime      int64 // 办结 within the time limit
	Agency      int64 // 代办
	OpenOverdue int64 // open today and past the deadline (not a fact: counted now)
}

// Late is the cases completed after their deadline.
func (c Counts) Late() int64 { return c.Completed - c.OnTime }

func (c *Counts) add(o Counts) {
	c.Accepted += o.Accepted
	c.Completed += o.Completed
	c.OnTime += o.OnTime
	c.Agency += o.Agency
	c.OpenOverdue += o.OpenOverdue
}

func (c Counts) sub(o Counts) Counts {
	return Counts{c.Accepted - o.Accepted, c.Completed - o.Completed, c.OnTime - o.OnTime, c.Agency - o.Agency, c.OpenOverdue - o.OpenOverdue}
}

func (c Counts) zero() bool { return c == Counts{} }

// onTimeRate is on time / (completed + open overdue) when the open overdue
// cases count (the period reaches today), else on time / completed.
func (c Counts) onTimeRate(withOverdue bool) Ratio {
	r := Ratio{c.OnTime, c.Completed}
	if withOverdue {
		r.Den += c.OpenOverdue
	}
	return r
}

// Totals are the figures of the whole subtree.
type Totals struct {
	Counts
	Rejected  int64    // 不予受理
	Rated     int64    // ratings given
	RatingSum int64    // sum of their levels
	Ratings   [5]int64 // ratings by level: [0] is 1 非常不满意 … [4] is 5 非常满意
	// OnTimeRate is on time / (completed + open overdue): a case open past
	// its deadline counts as late (see Figures.OverdueInRate).
	OnTimeRate Ratio
	// Satisfaction is the ratings of 4 and 5 over all ratings.
	Satisfaction Ratio
	// AvgRating is the mean rating level.
	AvgRating Ratio
}

// Month is one month of the series.
type Month struct {
	Period                              int // YYYYMM
	Accepted, Completed, OnTime, Agency int64
	// OnTimeRate is on time / completed in the month (open overdue cases
	// have no month).
	OnTimeRate Ratio
}

// Row is one line of a breakdown by category, channel or item.
type Row struct {
	Key string // category key, channel, or item code; "" for the rest (Other)
	// Name is the category's or item's name from the catalogue (empty for
	// channels, which the UI names, and for keys no catalogue knows).
	Name policy.Text
	// Other marks the row that holds whatever the listed rows do not: items
	// beyond the top ones, and keys no catalogue of the subtree knows any
	// more. With it, a breakdown always adds up to the totals.
	Other bool
	// Counts: a breakdown by category has accepted, completed, on time and
	// open overdue; by channel and by item only accepted and open overdue
	// (the rest stays 0). Agency is not broken down.
	Counts
	OnTimeRate Ratio // categories only
	Share      Ratio // of the accepted cases
}

// Unit is one row of the roll-up: a child unit, or the unit's own window.
type Unit struct {
	Code    int64
	Name    string
	Level   int
	Retired bool
	// Own marks the row of the cases accepted at the unit's own window (a
	// township's service centre), not at any child's.
	Own bool
	Counts
	Rated, RatingSum int64
	OnTimeRate       Ratio
	AvgRating        Ratio
}

// Figures are the window's figures of one unit's subtree over a span of
// months. The counts are sums of facts; a parent's figure always equals the
// sum of its children's (plus its own window's, Own).
type Figures struct {
	Unit     int64 // 15-digit code; 0 is the whole country
	UnitName string
	Level    int
	From, To int // YYYYMM, inclusive
	Today    int // YYYYMMDD the open-overdue count was taken on
	// OverdueInRate tells whether the on-time rates count the cases open and
	// overdue today as late. They do when the period reaches the current
	// month; a period wholly in the past is judged on its completed cases.
	OverdueInRate bool
	Totals        Totals
	Months        []Month
	Categories    []Row // in catalogue order, then Other
	Channels      []Row // window, phone, online, then Other (empty in practice); accepted and overdue only
	Items         []Row // the TopItems most accepted, then Other; accepted and overdue only
	// Children are the child units (villages of a township, townships of a
	// county …) in code order; retired ones only when they have figures.
	Children []Unit
	// Own is the unit's own window (and anything below it that no listed
	// child holds); nil when it has nothing.
	Own *Unit
}

// TopItems is how many items Figures lists before "other items".
const TopItems = 10

// MaxFigureMonths bounds the span of months Figures reads.
const MaxFigureMonths = 120

// ValidPeriod reports whether p is a month YYYYMM.
func ValidPeriod(p int) bool { return p >= 190001 && p <= 999912 && p%100 >= 1 && p%100 <= 12 }

// nextPeriod is the month after p (YYYYMM).
func nextPeriod(p int) int {
	if p%100 == 12 {
		return (p/100+1)*100 + 1
	}
	return p + 1
}

// periodsBetween counts the months from from to to, both included.
func periodsBetween(from, to int) int { return (to/100-from/100)*12 + to%100 - from%100 + 1 }

// Base metrics of the totals, the month series and the roll-up.
var figureMetrics = func() []string {
	m := []string{MetricAccepted, MetricCompleted, MetricOnTime, MetricAgency, MetricRejected, MetricRated, MetricRatingSum}
	for l := RatingMin; l <= RatingMax; l++ {
		m = append(m, MetricRating(l))
	}
	return m
}()

// Metrics of the month series.
var seriesMetrics = []string{MetricAccepted, MetricCompleted, MetricOnTime, MetricAgency}

// Figures returns the window's figures of the subtree of unit over the
// months from … to (YYYYMM, inclusive). p needs window.view at unit;
// anything else is db.ErrNotFound (and audited as a denial). An invalid
// span of months is Errors (field "from" or "to", code "period").
func (s *Service) Figures(ctx context.Context, p *access.Principal, unit int64, from, to int) (Figures, error) {
	if !p.CanAt("window.view", unit) {
		if s.Access != nil && p != nil {
			s.Access.Deny(ctx, "window_figures", strconv.FormatInt(unit, 10), unit)
		}
		return Figures{}, db.ErrNotFound
	}
	var es Errors
	if !ValidPeriod(from) {
		es.Add("from", "period")
	}
	if !ValidPeriod(to) || ValidPeriod(from) && (to < from || periodsBetween(from, to) > MaxFigureMonths) {
		es.Add("to", "period")
	}
	if len(es) > 0 {
		return Figures{}, es
	}
	f := Figures{Unit: unit, From: from, To: to, Today: s.Today()}
	var lo, hi int64
	if unit == division.Root {
		lo, hi = ids.Subtree(0)
	} else {
		d, err := s.Divisions.Get(ctx, unit)
		if err != nil {
			return Figures{}, err
		}
		f.UnitName, f.Level = d.Name, d.Level
		lo, hi = d.Range()
	}
	f.OverdueInRate = to >= period(f.Today)

	// the child units and the granularity of the roll-up
	var kids []division.Division
	if f.Level < 5 {
		all, err := s.Divisions.Children(ctx, unit, true)
		if err != nil {
			return Figures{}, err
		}
		for _, k := range all {
			if k.Level <= 5 {
				kids = append(kids, k)
			}
		}
	}
	span := hi - lo + 1
	for _, k := range kids {
		span = min(span, ids.Span(k.Level))
	}
	child := func(key int64) int { // index in kids of the child holding key, -1 none
		i := sort.Search(len(kids), func(i int) bool { _, h := kids[i].Range(); return h >= key })
		if i < len(kids) {
			if l, _ := kids[i].Range(); l <= key {
				return i
			}
		}
		return -1
	}

	months := map[int]*Month{}
	for per := from; per <= to; per = nextPeriod(per) {
		f.Months = append(f.Months, Month{Period: per})
	}
	for i := range f.Months {
		months[f.Months[i].Period] = &f.Months[i]
	}
	units := make([]Unit, len(kids))
	for i, k := range kids {
		units[i] = Unit{Code: k.Code, Name: k.Name, Level: k.Level, Retired: k.Retired}
	}
	own := Unit{Code: unit, Name: f.UnitName, Level: f.Level, Own: true}
	unitOf := func(div int64) *Unit {
		if i := child(div - div%span); i >= 0 {
			return &units[i]
		}
		return &own
	}
	t := &f.Totals

	// Four independent reads, at the same time (each fills its own part):
	// totals and roll-up, the months, the breakdowns, the overdue cases.
	var lab figureLabels
	var cats, chans, items []Row
	type overdueRow struct {
		div                     int64
		category, channel, item string
		n                       int64
	}
	var overdue []overdueRow
	err := parallel(ctx,
		// totals and roll-up: the base metrics by accepting unit (the order
		// of the facts' key, so the database streams them)
		func() error {
			return facts.SumMany(ctx, s.DB, figureMetrics, lo, hi, from, to, facts.ByDivision, func(metric string, div, v int64) {
				u := unitOf(div)
				switch metric {
				case MetricAccepted:
					t.Accepted += v
					u.Accepted += v
				case MetricCompleted:
					t.Completed += v
					u.Completed += v
				case MetricOnTime:
					t.OnTime += v
					u.OnTime += v
				case MetricAgency:
					t.Agency += v
					u.Agency += v
				case MetricRejected:
					t.Rejected += v
				case MetricRated:
					t.Rated += v
					u.Rated += v
				case MetricRatingSum:
					t.RatingSum += v
					u.RatingSum += v
				default:
					if l, err := strconv.Atoi(strings.TrimPrefix(metric, metricRating)); err == nil && l >= RatingMin && l <= RatingMax {
						t.Ratings[l-1] += v
					}
				}
			})
		},
		// month by month
		func() error {
			return facts.SumMany(ctx, s.DB, seriesMetrics, lo, hi, from, to, facts.ByPeriod, func(metric string, per, v int64) {
				m := months[int(per)]
				if m == nil {
					return
				}
				switch metric {
				case MetricAccepted:
					m.Accepted += v
				case MetricCompleted:
					m.Completed += v
				case MetricOnTime:
					m.OnTime += v
				case MetricAgency:
					m.Agency += v
				}
			})
		},
		// breakdowns: accepted, completed and on time by category; accepted
		// by channel and by item (each metric read costs units × months
		// rows, so only what the dashboard shows; agency is not broken down)
		func() error {
			var err error
			if lab, err = s.figureLabels(ctx, unit, lo, hi); err != nil {
				return err
			}
			cats, chans, items = rowsFor(lab.categories, lab.categoryNames), rowsFor(Channels, nil), rowsFor(lab.items, lab.itemNames)
			index := map[string]*int64{} // metric → the count it adds to
			var metrics []string
			want := func(base, dim string, r *Row) {
				m := Metric(base, dim, r.Key)
				metrics = append(metrics, m)
				switch base {
				case MetricAccepted:
					index[m] = &r.Accepted
				case MetricCompleted:
					index[m] = &r.Completed
				case MetricOnTime:
					index[m] = &r.OnTime
				}
			}
			read := func() error {
				err := facts.SumMany(ctx, s.DB, metrics, lo, hi, from, to, facts.ByMetric, func(metric string, _, v int64) {
					if c := index[metric]; c != nil {
						*c += v
					}
				})
				metrics = metrics[:0]
				return err
			}
			for i := range cats {
				for _, base := range []string{MetricAccepted, MetricCompleted, MetricOnTime} {
					want(base, DimCategory, &cats[i])
				}
			}
			for i := range chans {
				want(MetricAccepted, DimChannel, &chans[i])
			}
			for i := range items {
				want(MetricAccepted, DimItem, &items[i])
			}
			if err := read(); err != nil {
				return err
			}
			slices.SortStableFunc(items, func(a, b Row) int {
				if a.Accepted != b.Accepted {
					if a.Accepted > b.Accepted {
						return -1
					}
					return 1
				}
				return strings.Compare(a.Key, b.Key)
			})
			top := 0
			for top < len(items) && top < TopItems && items[top].Accepted > 0 {
				top++
			}
			items = items[:top]
			return nil
		},
		// the cases open and overdue today
		func() error {
			return s.openOverdue(ctx, lo, hi, f.Today, func(div int64, category, channel, item string, n int64) {
				overdue = append(overdue, overdueRow{div, category, channel, item, n})
			})
		},
	)
	if err != nil {
		return Figures{}, err
	}
	for i := range f.Months {
		m := &f.Months[i]
		m.OnTimeRate = Ratio{m.OnTime, m.Completed}
	}
	catAt, chanAt, itemAt := keyIndex(cats), keyIndex(chans), keyIndex(items)
	for _, o := range overdue {
		t.OpenOverdue += o.n
		unitOf(o.div).OpenOverdue += o.n
		if i, ok := catAt[o.category]; ok {
			cats[i].OpenOverdue += o.n
		}
		if i, ok := chanAt[o.channel]; ok {
			chans[i].OpenOverdue += o.n
		}
		if i, ok := itemAt[o.item]; ok {
			items[i].OpenOverdue += o.n
		}
	}

	// rates, and the rows that make every breakdown add up
	withOverdue := f.OverdueInRate
	t.OnTimeRate = t.Counts.onTimeRate(withOverdue)
	t.Satisfaction = Ratio{t.Ratings[3] + t.Ratings[4], t.Rated}
	t.AvgRating = Ratio{t.RatingSum, t.Rated}
	// a breakdown's rows, then the rest: items beyond the top ones, keys no
	// catalogue knows (agency is not broken down)
	finish := func(rows []Row, full bool, keep func(Row) bool) []Row {
		var sum Counts
		out := rows[:0]
		for _, r := range rows {
			sum.add(r.Counts)
			if keep(r) {
				if full {
					r.OnTimeRate = r.Counts.onTimeRate(withOverdue)
				}
				r.Share = Ratio{r.Accepted, t.Accepted}
				out = append(out, r)
			}
		}
		rest := t.Counts.sub(sum)
		rest.Agency = 0
		if !full {
			rest.Completed, rest.OnTime = 0, 0
		}
		if !rest.zero() {
			r := Row{Other: true, Counts: rest, Share: Ratio{rest.Accepted, t.Accepted}}
			if full {
				r.OnTimeRate = rest.onTimeRate(withOverdue)
			}
			out = append(out, r)
		}
		return out
	}
	f.Categories = finish(cats, true, func(r Row) bool { return lab.ownCategory[r.Key] || !r.Counts.zero() })
	f.Channels = finish(chans, false, func(Row) bool { return true })
	f.Items = finish(items, false, func(Row) bool { return true })
	for i := range units {
		u := &units[i]
		u.OnTimeRate, u.AvgRating = u.Counts.onTimeRate(withOverdue), Ratio{u.RatingSum, u.Rated}
		if !u.Retired || !u.Counts.zero() || u.Rated > 0 {
			f.Children = append(f.Children, *u)
		}
	}
	if !own.Counts.zero() || own.Rated > 0 {
		own.OnTimeRate, own.AvgRating = own.Counts.onTimeRate(withOverdue), Ratio{own.RatingSum, own.Rated}
		f.Own = &own
	}
	return f, nil
}

func rowsFor(keys []string, names map[string]policy.Text) []Row {
	out := make([]Row, len(keys))
	for i, k := range keys {
		out[i] = Row{Key: k, Name: names[k]}
	}
	return out
}

func keyIndex(rows []Row) map[string]int {
	m := make(map[string]int, len(rows))
	for i, r := range rows {
		m[r.Key] = i
	}
	return m
}

// figureLabels are the categories and items a subtree may have cases of,
// with their names: the catalogue of the unit, the packs bound to units
// inside the subtree, and the admins' own items anywhere in it.
type figureLabels struct {
	categories    []string
	categoryNames map[string]policy.Text
	ownCategory   map[string]bool // in the unit's own catalogue
	items         []string
	itemNames     map[string]policy.Text
}

func (s *Service) figureLabels(ctx context.Context, unit, lo, hi int64) (figureLabels, error) {
	l := figureLabels{categoryNames: map[string]policy.Text{}, ownCategory: map[string]bool{}, itemNames: map[string]policy.Text{}}
	addCat := func(c policy.WindowCategory) {
		if _, ok := l.categoryNames[c.Key]; !ok {
			l.categories = append(l.categories, c.Key)
			l.categoryNames[c.Key] = c.Label
		}
	}
	addItem := func(it policy.WindowItem) {
		if _, ok := l.itemNames[it.Code]; !ok {
			l.items = append(l.items, it.Code)
			l.itemNames[it.Code] = it.Name
		}
	}
	if unit != division.Root {
		cat, err := s.Catalogue(ctx, unit)
		if err != nil {
			return l, err
		}
		for _, c := range cat.Categories {
			addCat(c)
			l.ownCategory[c.Key] = true
		}
		for _, it := range cat.Items {
			addItem(it.WindowItem) // disabled ones too: they may have cases
		}
	}
	for _, pk := range s.Packs.Packs() {
		if pk.Window == nil {
			continue
		}
		bound := false
		for _, b := range pk.Bind {
			if b >= lo && b <= hi {
				bound = true
			}
		}
		if !bound {
			continue
		}
		for _, c := range pk.Window.Categories {
			addCat(c)
		}
		for _, it := range pk.Window.Items {
			addItem(it)
		}
	}
	rows, err := s.DB.Query(ctx, `SELECT code, definition FROM service_items WHERE division >= ? AND division <= ? ORDER BY division, code`, lo, hi)
	if err != nil {
		return l, err
	}
	defer rows.Close()
	for rows.Next() {
		var code, def string
		if err := rows.Scan(&code, &def); err != nil {
			return l, err
		}
		var it policy.WindowItem
		if def == "" || json.Unmarshal([]byte(def), &it) != nil {
			continue
		}
		it.Code = code
		addItem(it)
	}
	return l, rows.Err()
}

// parallel runs fns at the same time and returns their errors joined: the
// reads of one dashboard are independent, and the databases serve them on
// several connections. Inside a transaction (one connection) they run one
// after the other.
func parallel(ctx context.Context, fns ...func() error) error {
	errs := make([]error, len(fns))
	if db.InTx(ctx) {
		for i, fn := range fns {
			errs[i] = fn()
		}
		return errors.Join(errs...)
	}
	var wg sync.WaitGroup
	for i, fn := range fns {
		wg.Add(1)
		go func() {
			defer wg.Done()
			errs[i] = fn()
		}()
	}
	wg.Wait()
	return errors.Join(errs...)
}

// openOverdue counts the cases accepted in [lo, hi] that are open and past
// their deadline on today (waiting for materials does not count: the clock
// stands still), grouped by accepting unit, category, channel and item.
func (s *Service) openOverdue(ctx context.Context, lo, hi int64, today int, each func(div int64, category, channel, item string, n int64)) error {
	rows, err := s.DB.Query(ctx, `SELECT division, category, channel, item_code, COUNT(*) FROM cases
		WHERE is_open = 1 AND division >= ? AND division <= ? AND deadline > 0 AND deadline < ? AND state <> ?
		GROUP BY division, category, channel, item_code`, lo, hi, today, StateSupplement)
	if err != nil {
		return fmt.Errorf("window: overdue: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var div, n int64
		var cat, ch, item string
		if err := rows.Scan(&div, &cat, &ch, &item, &n); err != nil {
			return err
		}
		each(div, cat, ch, item, n)
	}
	return rows.Err()
}
