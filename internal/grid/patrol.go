package grid

// Patrol visits (走访, DG-9): a grid worker goes from door to door, notes
// what was found and, when there is a problem, reports it as an incident
// in one tap (Report.PatrolID links the two). The monthly share of a
// grid's households visited is measured against the pack's PatrolTarget.

import (
	"cmp"
	"context"
	"database/sql"
	"errors"
	"math"
	"slices"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/shequ-platform/shequ/internal/division"
	"github.com/shequ-platform/shequ/internal/platform/access"
	"github.com/shequ-platform/shequ/internal/platform/audit"
	"github.com/shequ-platform/shequ/internal/platform/db"
	"github.com/shequ-platform/shequ/internal/platform/facts"
	"github.com/shequ-platform/shequ/internal/platform/ids"
	"github.com/shequ-platform/shequ/internal/registry"
)

// Fact metrics of patrols, counted at the household's unit (grid, else
// village) in the month of the visit, so any unit's figure is a range sum.
// A unit's coverage of a month is MetricPatrolHouseholds over its current
// households.
const (
	MetricPatrolVisits     = "grid.patrol.visits"     // every visit
	MetricPatrolHouseholds = "grid.patrol.households" // households visited: the first visit of a household in the month
	MetricPatrolProblems   = "grid.patrol.problems"   // visits that found a problem
)

// Visit is one patrol visit of a household.
type Visit struct {
	ID          int64
	County      int64
	Division    int64 // the household's grid, else village, at the visit
	HouseholdID int64
	WorkerID    int64
	WorkerName  string
	Day         int   // YYYYMMDD
	At          int64 // unix ms
	Note        string
	// Problem: something was found that needs an incident.
	Problem bool
	// IncidentID is the incident reported from the visit (0: none yet).
	IncidentID int64
	// Lat and Lon are where the worker stood (WGS-84), when the phone gave it.
	Lat, Lon *float64
	// First tells LogVisit's caller that this was the household's first
	// visit of the month (not stored).
	First bool
}

// LogVisit records a visit of a household by the principal, who needs
// grid.report where the household lives (its grid, else its village); a
// household the principal may not see is a field error, like one that does
// not exist. In one transaction: the visit, its audit entry and the facts.
func (s *Service) LogVisit(ctx context.Context, p *access.Principal, v Visit) (Visit, error) {
	if p == nil {
		return Visit{}, ErrForbidden
	}
	var es Errors
	if v.HouseholdID == 0 {
		es.Add("household", "patrol_household_required")
		return Visit{}, es
	}
	h, _, err := s.Registry.Household(ctx, p, v.HouseholdID)
	if errors.Is(err, db.ErrNotFound) {
		es.Add("household", "patrol_household_unknown")
		return Visit{}, es
	}
	if err != nil {
		return Visit{}, err
	}
	div := h.Division()
	if !p.CanAt("grid.report", div) {
		return Visit{}, ErrForbidden
	}
	now := s.now()
	out := Visit{County: h.County, Division: div, HouseholdID: h.ID, WorkerID: p.UserID, WorkerName: actorName(p),
		Day: dayOf(now), At: now.UnixMilli(), Note: strings.TrimSpace(v.Note), Problem: v.Problem, Lat: v.Lat, Lon: v.Lon}
	if utf8.RuneCountInString(out.Note) > maxNote {
		es.Add("note", "patrol_note_too_long", strconv.Itoa(maxNote))
	}
	if (v.Lat == nil) != (v.Lon == nil) {
		es.Add("position", "position_invalid")
	} else if v.Lat != nil {
		if err := s.checkPosition(ctx, out.County, *v.Lat, *v.Lon); err != nil {
			var fe *FieldError
			if !errors.As(err, &fe) {
				return Visit{}, err
			}
			es = append(es, fe)
		}
	}
	if len(es) > 0 {
		return Visit{}, es
	}
	month := period(out.Day)
	err = s.DB.Tx(ctx, func(ctx context.Context) error {
		// The village's counter of the month: on PostgreSQL its row lock
		// serialises the village's visits until commit, so two workers
		// visiting the same household at once count it once. (A household
		// moves only between grids of its village.)
		if _, err := s.st.nextNumber(ctx, "patrol", h.Village, month); err != nil {
			return err
		}
		seen, err := s.st.visitedInMonth(ctx, h.ID, month)
		if err != nil {
			return err
		}
		out.First = !seen
		if err := s.st.insertVisit(ctx, &out); err != nil {
			return err
		}
		deltas := []facts.Delta{{Division: div, Period: month, Metric: MetricPatrolVisits, N: 1}}
		if out.First {
			deltas = append(deltas, facts.Delta{Division: div, Period: month, Metric: MetricPatrolHouseholds, N: 1})
		}
		if out.Problem {
			deltas = append(deltas, facts.Delta{Division: div, Period: month, Metric: MetricPatrolProblems, N: 1})
		}
		if err := facts.AddAll(ctx, s.DB, deltas); err != nil {
			return err
		}
		return s.Audit.Write(ctx, audit.Entry{Action: audit.Create, Entity: "patrol", EntityID: strconv.FormatInt(out.ID, 10), Division: div,
			Changes: []audit.Change{{Field: "household", After: h.ID}, {Field: "problem", After: out.Problem}}})
	})
	if err != nil {
		return Visit{}, err
	}
	return out, nil
}

// Visit returns a visit the principal may see: its own, or one where it
// holds grid.view; anything else is db.ErrNotFound, audited.
func (s *Service) Visit(ctx context.Context, p *access.Principal, id int64) (Visit, error) {
	v, err := s.st.visit(ctx, id)
	if err != nil {
		return v, err
	}
	if p == nil || v.WorkerID != p.UserID && !p.CanAt("grid.view", v.Division) {
		if s.Access != nil {
			s.Access.Deny(ctx, "patrol", strconv.FormatInt(id, 10), v.Division)
		}
		return Visit{}, db.ErrNotFound
	}
	return v, nil
}

// VisitFilter selects patrol visits.
type VisitFilter struct {
	// Unit bounds the visits to a subtree (grid.view there); 0 is the
	// principal's whole grid.view scope.
	Unit int64
	// Mine: only the principal's own visits.
	Mine bool
	// Month is YYYYMM (0: every month).
	Month int
	// Problem: only visits that found a problem.
	Problem bool
	Offset  int
	Limit   int // 1–200 (default 50)
}

// Visits returns one page of the visits f selects, newest first, and
// whether there are more. A unit outside the principal's grid.view scope is
// db.ErrNotFound.
func (s *Service) Visits(ctx context.Context, p *access.Principal, f VisitFilter) ([]Visit, bool, error) {
	if p == nil {
		return nil, false, db.ErrNotFound
	}
	var conds []string
	var args []any
	if f.Unit != 0 {
		if !p.CanAt("grid.view", f.Unit) {
			return nil, false, db.ErrNotFound
		}
		lo, hi := ids.Subtree(f.Unit)
		conds, args = append(conds, "division >= ? AND division <= ?"), append(args, lo, hi)
	} else if !f.Mine {
		c, a := p.Where("grid.view", "division")
		conds, args = append(conds, c), append(args, a...)
	}
	// (one's own visits stay one's own after moving to another grid)
	if f.Mine {
		conds, args = append(conds, "worker_id = ?"), append(args, p.UserID)
	}
	if f.Month != 0 {
		conds, args = append(conds, "day >= ? AND day <= ?"), append(args, f.Month*100+1, f.Month*100+31)
	}
	if f.Problem {
		conds = append(conds, "problem = 1")
	}
	if f.Limit <= 0 || f.Limit > 200 {
		f.Limit = 50
	}
	args = append(args, f.Limit+1, max(f.Offset, 0))
	rows, err := s.DB.Query(ctx, `SELECT `+visitColumns+` FROM patrols WHERE `+strings.Join(conds, " AND ")+
		` ORDER BY day DESC, id DESC LIMIT ? OFFSET ?`, args...)
	if err != nil {
		return nil, false, err
	}
	defer rows.Close()
	var out []Visit
	for rows.Next() {
		v, err := scanVisit(rows)
		if err != nil {
			return nil, false, err
		}
		out = append(out, v)
	}
	more := len(out) > f.Limit
	if more {
		out = out[:f.Limit]
	}
	return out, more, rows.Err()
}

// Candidate is a household a worker may visit.
type Candidate struct {
	registry.HouseholdRow
	// Visited: the household has been visited this month already.
	Visited bool
}

// PatrolCandidates lists the current households of a village or grid for
// the visit form: without q, those not yet visited this month (at most
// limit); with q, those whose house number, household number or address
// matches, visited or not. The principal needs resident.view at unit.
func (s *Service) PatrolCandidates(ctx context.Context, p *access.Principal, unit int64, q string, limit int) ([]Candidate, error) {
	visited, err := s.st.visitedHouseholds(ctx, unit/1000*1000, period(s.Today()))
	if err != nil {
		return nil, err
	}
	var keep func(int64) bool
	if strings.TrimSpace(q) == "" {
		keep = func(id int64) bool { return !visited[id] }
	}
	rows, err := s.Registry.PatrolHouseholds(ctx, p, unit, q, keep, limit)
	if err != nil {
		return nil, err
	}
	out := make([]Candidate, len(rows))
	for i, r := range rows {
		out[i] = Candidate{HouseholdRow: r, Visited: visited[r.ID]}
	}
	return out, nil
}

// VisitedThisMonth reports whether a household has been visited in the
// current month.
func (s *Service) VisitedThisMonth(ctx context.Context, household int64) (bool, error) {
	return s.st.visitedInMonth(ctx, household, period(s.Today()))
}

// CoverageRow is one unit's patrol figures of a month.
type CoverageRow struct {
	Unit int64
	Name string
	// Ungridded: the row is a village's households that belong to no grid.
	Ungridded bool
	// Households are the unit's current households (now, not at the
	// month's end: the registry keeps no monthly stock of households).
	Households int64
	Visited    int64 // households visited at least once in the month
	Visits     int64
	Problems   int64 // visits that found a problem
	// Target is the pack's PatrolTarget for the unit (0: none).
	Target float64
}

// Share is the share of the households visited (0 when there are none).
func (r CoverageRow) Share() float64 {
	if r.Households <= 0 {
		return 0
	}
	return float64(r.Visited) / float64(r.Households)
}

// Percent is the share as a percentage with one decimal ("87.5").
func (r CoverageRow) Percent() string {
	return strconv.FormatFloat(math.Round(r.Share()*1000)/10, 'f', 1, 64)
}

// TargetPercent is the target as a whole percentage ("100").
func (r CoverageRow) TargetPercent() string {
	return strconv.FormatFloat(math.Round(r.Target*1000)/10, 'f', -1, 64)
}

// Met reports whether the unit reached its target (never without a target
// or without households).
func (r CoverageRow) Met() bool {
	return r.Target > 0 && r.Households > 0 && r.Share() >= r.Target-1e-9
}

// HasTarget reports whether the pack sets a target and the unit has
// households to measure.
func (r CoverageRow) HasTarget() bool { return r.Target > 0 && r.Households > 0 }

// Coverage is patrol coverage of a unit in a month: one row per grid (of a
// village or a grid) or per child unit (of a township or above), and the
// total, which is the sum of the rows.
type Coverage struct {
	Unit  int64
	Month int // YYYYMM
	Rows  []CoverageRow
	Total CoverageRow
}

// Coverage computes a unit's patrol coverage of a month (YYYYMM; 0: this
// month) from the facts and the registry's current households. The
// principal needs grid.view at unit (0: its own scope root).
func (s *Service) Coverage(ctx context.Context, p *access.Principal, unit int64, month int) (Coverage, error) {
	if unit == 0 {
		unit = rootOf(p, "grid.view")
	}
	if p == nil || !p.CanAt("grid.view", unit) {
		return Coverage{}, db.ErrNotFound
	}
	if month == 0 {
		month = period(s.Today())
	}
	c := Coverage{Unit: unit, Month: month}
	lo, hi := ids.Subtree(unit)
	level := ids.Level(unit)
	// rowOf maps a fact's or a household's unit to its row
	rowOf := func(code int64) int64 { return code }
	if level < 5 {
		span := ids.Span(level + 1)
		rowOf = func(code int64) int64 { return code / span * span }
	}
	rows := map[int64]*CoverageRow{}
	var order []int64
	add := func(code int64, name string) *CoverageRow {
		if r, ok := rows[code]; ok {
			return r
		}
		r := &CoverageRow{Unit: code, Name: name, Ungridded: level >= 5 && ids.Level(code) == 5}
		if rules := s.Rules(code); rules != nil {
			r.Target = rules.PatrolTarget
		}
		rows[code] = r
		order = append(order, code)
		return r
	}
	var units []division.Division
	var err error
	switch {
	case level == 6:
		var d division.Division
		if d, err = s.Divisions.Get(ctx, unit); err == nil {
			units = []division.Division{d}
		}
	case level == 5:
		units, err = s.Divisions.InRange(ctx, lo, hi, 6, 6)
	default:
		units, err = s.Divisions.Children(ctx, unit, false)
	}
	if err != nil {
		return c, err
	}
	for _, d := range units {
		if !d.Retired {
			add(d.Code, d.Name)
		}
	}
	households, err := s.Registry.CurrentHouseholds(ctx, lo, hi)
	if err != nil {
		return c, err
	}
	for code, n := range households {
		add(rowOf(code), "").Households += n
	}
	err = facts.SumMany(ctx, s.DB, []string{MetricPatrolVisits, MetricPatrolHouseholds, MetricPatrolProblems}, lo, hi, month, month,
		facts.ByDivision, func(metric string, code, v int64) {
			r := add(rowOf(code), "")
			switch metric {
			case MetricPatrolVisits:
				r.Visits += v
			case MetricPatrolHouseholds:
				r.Visited += v
			case MetricPatrolProblems:
				r.Problems += v
			}
		})
	if err != nil {
		return c, err
	}
	for _, code := range order {
		r := rows[code]
		if r.Name == "" {
			// a retired unit with figures, or the village's own row
			if d, err := s.Divisions.Get(ctx, code); err == nil {
				r.Name = d.Name
			} else {
				r.Name = strconv.FormatInt(code, 10)
			}
		}
		c.Rows = append(c.Rows, *r)
		c.Total.Households += r.Households
		c.Total.Visited += r.Visited
		c.Total.Visits += r.Visits
		c.Total.Problems += r.Problems
	}
	// grids in code order, the village's ungridded households last
	sortCoverageRows(c.Rows)
	c.Total.Unit = unit
	if rules := s.Rules(unit); rules != nil {
		c.Total.Target = rules.PatrolTarget
	}
	return c, nil
}

func sortCoverageRows(rs []CoverageRow) {
	key := func(r CoverageRow) int64 {
		if r.Ungridded {
			return ids.Max + 1
		}
		return r.Unit
	}
	slices.SortFunc(rs, func(a, b CoverageRow) int { return cmp.Compare(key(a), key(b)) })
}

// ---- store ----

const visitColumns = `id, county, division, household_id, worker_id, worker_name, day, at, note, problem, incident_id, lat, lon`

func scanVisit(sc interface{ Scan(...any) error }) (Visit, error) {
	var v Visit
	var problem int
	var lat, lon sql.NullFloat64
	err := sc.Scan(&v.ID, &v.County, &v.Division, &v.HouseholdID, &v.WorkerID, &v.WorkerName, &v.Day, &v.At, &v.Note, &problem,
		&v.IncidentID, &lat, &lon)
	if errors.Is(err, sql.ErrNoRows) {
		return v, db.ErrNotFound
	}
	v.Problem = problem != 0
	if lat.Valid && lon.Valid {
		v.Lat, v.Lon = &lat.Float64, &lon.Float64
	}
	return v, err
}

func (s store) insertVisit(ctx context.Context, v *Visit) error {
	id, err := s.db.InsertID(ctx, `INSERT INTO patrols (county, division, household_id, worker_id, worker_name, day, at, note, problem, incident_id, lat, lon)
		VALUES (?,?,?,?,?,?,?,?,?,?,?,?)`, v.County, v.Division, v.HouseholdID, v.WorkerID, v.WorkerName, v.Day, v.At, v.Note,
		b2i(v.Problem), v.IncidentID, nullFloat(v.Lat), nullFloat(v.Lon))
	v.ID = id
	return err
}

func (s store) visit(ctx context.Context, id int64) (Visit, error) {
	return scanVisit(s.db.QueryRow(ctx, `SELECT `+visitColumns+` FROM patrols WHERE id = ?`, id))
}

// visitedInMonth reports whether a household has a visit in the month
// (YYYYMM).
func (s store) visitedInMonth(ctx context.Context, household int64, month int) (bool, error) {
	var one int
	err := s.db.QueryRow(ctx, `SELECT 1 FROM patrols WHERE household_id = ? AND day >= ? AND day <= ? LIMIT 1`,
		household, month*100+1, month*100+31).Scan(&one)
	if errors.Is(err, sql.ErrNoRows) {
		return false, nil
	}
	return err == nil, err
}

// visitedHouseholds is the set of households of a village's subtree
// visited in the month (YYYYMM).
func (s store) visitedHouseholds(ctx context.Context, village int64, month int) (map[int64]bool, error) {
	lo, hi := ids.Subtree(village)
	rows, err := s.db.Query(ctx, `SELECT DISTINCT household_id FROM patrols WHERE division >= ? AND division <= ? AND day >= ? AND day <= ?`,
		lo, hi, month*100+1, month*100+31)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := map[int64]bool{}
	for rows.Next() {
		var id int64
		if err := rows.Scan(&id); err != nil {
			return nil, err
		}
		out[id] = true
	}
	return out, rows.Err()
}
