package grid

import (
	"context"
	"math"
	"strings"

	"github.com/shequ-platform/shequ/internal/platform/access"
	"github.com/shequ-platform/shequ/internal/platform/db"
	"github.com/shequ-platform/shequ/internal/platform/facts"
	"github.com/shequ-platform/shequ/internal/platform/ids"
)

// Views of the incident lists.
const (
	ViewOpen     = "open"     // every open incident of the unit's subtree
	ViewHeld     = "held"     // held by the unit itself (its work)
	ViewReported = "reported" // waiting to be registered
	ViewVerify   = "verify"   // handled, waiting for the on-the-spot check
	ViewOverdue  = "overdue"  // dispatched and past the deadline
	ViewDueSoon  = "due_soon" // dispatched, due within two days
	ViewMine     = "mine"     // reported by the principal
	ViewClosed   = "closed"   // closed or rejected
	ViewAll      = "all"
)

// Views lists the views in the order the desk shows them.
var Views = []string{ViewOpen, ViewHeld, ViewReported, ViewVerify, ViewOverdue, ViewDueSoon, ViewMine, ViewClosed, ViewAll}

// Filter selects incidents of one unit's subtree.
type Filter struct {
	Unit     int64 // grid, village, township or county (0: the principal's own scope root)
	View     string
	Category string
	Group    string
	State    string
	Number   string // a whole number or its tail
	Offset   int
	Limit    int // 1–200 (default 50)
}

// where builds the WHERE clause of f for principal p (grid.view at Unit is
// checked by the caller).
func (s *Service) where(p *access.Principal, f Filter) (string, []any) {
	lo, hi := ids.Subtree(f.Unit)
	today := s.Today()
	conds := []string{"division BETWEEN ? AND ?"}
	args := []any{lo, hi}
	switch f.View {
	case ViewOpen, "":
		conds = append(conds, "is_open = 1")
	case ViewHeld:
		conds = append(conds, "is_open = 1", "holder = ?")
		args = append(args, f.Unit)
	case ViewReported:
		conds = append(conds, "is_open = 1", "state = ?")
		args = append(args, StateReported)
	case ViewVerify:
		conds = append(conds, "is_open = 1", "state = ?")
		args = append(args, StateHandled)
	case ViewOverdue:
		conds = append(conds, "is_open = 1", "state = ?", "deadline <> 0", "deadline < ?")
		args = append(args, StateDispatched, today)
	case ViewDueSoon:
		conds = append(conds, "is_open = 1", "state = ?", "deadline >= ?", "deadline <= ?")
		args = append(args, StateDispatched, today, s.dayAfter(today, 2))
	case ViewMine:
		conds = append(conds, "reporter_id = ?")
		args = append(args, p.UserID)
	case ViewClosed:
		conds = append(conds, "is_open = 0")
	}
	if f.Category != "" {
		conds = append(conds, "category = ?")
		args = append(args, f.Category)
	}
	if f.Group != "" {
		conds = append(conds, "grp = ?")
		args = append(args, f.Group)
	}
	if f.State != "" {
		conds = append(conds, "state = ?")
		args = append(args, f.State)
	}
	if n := strings.TrimSpace(f.Number); n != "" {
		conds = append(conds, "number LIKE ?")
		args = append(args, "%"+escapeLike(n))
	}
	return strings.Join(conds, " AND "), args
}

func escapeLike(s string) string {
	return strings.NewReplacer(`%`, ``, `_`, ``).Replace(s)
}

// dayAfter is the calendar day n days after day.
func (s *Service) dayAfter(day, n int) int {
	t := dayTime(day).AddDate(0, 0, n)
	return dayOf(t)
}

// List returns one page of the incidents f selects, newest first, and
// whether there are more. Another unit's subtree is db.ErrNotFound.
func (s *Service) List(ctx context.Context, p *access.Principal, f Filter) ([]Incident, bool, error) {
	if f.Unit == 0 {
		f.Unit = rootOf(p, "grid.view")
	}
	if !p.CanAt("grid.view", f.Unit) {
		return nil, false, db.ErrNotFound
	}
	if f.Limit <= 0 || f.Limit > 200 {
		f.Limit = 50
	}
	where, args := s.where(p, f)
	order := " ORDER BY id DESC"
	if f.View == ViewOverdue || f.View == ViewDueSoon {
		order = " ORDER BY deadline, id"
	}
	args = append(args, f.Limit+1, f.Offset)
	from := " FROM incidents"
	if order == " ORDER BY id DESC" {
		from += s.newestFirst(ctx, f)
	}
	rows, err := s.DB.Query(ctx, `SELECT `+incidentColumns+from+` WHERE `+where+order+` LIMIT ? OFFSET ?`, args...)
	if err != nil {
		return nil, false, err
	}
	defer rows.Close()
	var out []Incident
	for rows.Next() {
		in, err := scanIncident(rows)
		if err != nil {
			return nil, false, err
		}
		out = append(out, in)
	}
	more := len(out) > f.Limit
	if more {
		out = out[:f.Limit]
	}
	return out, more, rows.Err()
}

// newestFirst returns the table hint for a newest-first read of f on
// SQLite. Where the unit's subtree holds a large share of all incidents (a
// township of a county), walking the table backwards by id finds a page
// after a few rows, while the division index would gather and sort every
// incident of the subtree; where the share is small (a grid) the index is
// the better path. SQLite has no statistics unless ANALYZE ran, so the share
// is read from the facts (grid.reported). Open views read few rows through
// the open index and need no hint; PostgreSQL's planner decides by itself.
func (s *Service) newestFirst(ctx context.Context, f Filter) string {
	if s.DB.Dialect != db.SQLite {
		return ""
	}
	switch f.View {
	case ViewClosed, ViewAll:
	default:
		return ""
	}
	lo, hi := ids.Subtree(f.Unit)
	part, err := facts.Sum(ctx, s.DB, MetricReported, lo, hi, 0, 999999)
	if err != nil || part == 0 {
		return ""
	}
	all, err := facts.Sum(ctx, s.DB, MetricReported, 0, ids.Max, 0, 999999)
	if err != nil || all == 0 {
		return ""
	}
	if part*50 >= all {
		return " NOT INDEXED"
	}
	return ""
}

// Count counts the incidents f selects (its paging ignored).
func (s *Service) Count(ctx context.Context, p *access.Principal, f Filter) (int64, error) {
	if f.Unit == 0 {
		f.Unit = rootOf(p, "grid.view")
	}
	if !p.CanAt("grid.view", f.Unit) {
		return 0, db.ErrNotFound
	}
	where, args := s.where(p, f)
	var n int64
	err := s.DB.QueryRow(ctx, `SELECT count(*) FROM incidents WHERE `+where, args...).Scan(&n)
	return n, err
}

// Point is an incident on the map.
type Point struct {
	ID       int64
	Number   string
	Lat, Lon float64
	State    string
	Category string
	Name     string
	Overdue  bool
}

// MaxPoints bounds the incidents one map shows (the newest first).
const MaxPoints = 2000

// Points returns the positioned incidents f selects for the map, newest
// first, at most MaxPoints.
func (s *Service) Points(ctx context.Context, p *access.Principal, f Filter) ([]Point, error) {
	if f.Unit == 0 {
		f.Unit = rootOf(p, "grid.view")
	}
	if !p.CanAt("grid.view", f.Unit) {
		return nil, db.ErrNotFound
	}
	where, args := s.where(p, f)
	args = append(args, MaxPoints)
	rows, err := s.DB.Query(ctx, `SELECT id, number, lat, lon, state, category, category_name, deadline FROM incidents`+
		s.newestFirst(ctx, f)+` WHERE `+where+` AND lat IS NOT NULL ORDER BY id DESC LIMIT ?`, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	today := s.Today()
	var out []Point
	for rows.Next() {
		var pt Point
		var deadline int
		if err := rows.Scan(&pt.ID, &pt.Number, &pt.Lat, &pt.Lon, &pt.State, &pt.Category, &pt.Name, &deadline); err != nil {
			return nil, err
		}
		pt.Overdue = pt.State == StateDispatched && deadline != 0 && today > deadline
		out = append(out, pt)
	}
	return out, rows.Err()
}

// Duplicates returns the open incidents of the same category in the same
// village within the pack's duplicate radius of in (the registration page
// suggests them).
func (s *Service) Duplicates(ctx context.Context, in Incident) ([]Incident, error) {
	if in.Lat == nil {
		return nil, nil
	}
	meters := 50.0
	if r := s.Rules(in.Division); r != nil && r.DuplicateMeters > 0 {
		meters = float64(r.DuplicateMeters)
	}
	dLat := meters / 111_320
	dLon := meters / (111_320 * math.Cos(*in.Lat*math.Pi/180))
	lo, hi := ids.Subtree(in.Village())
	rows, err := s.DB.Query(ctx, `SELECT `+incidentColumns+` FROM incidents
		WHERE category = ? AND is_open = 1 AND division BETWEEN ? AND ? AND id <> ?
		AND lat BETWEEN ? AND ? AND lon BETWEEN ? AND ? ORDER BY id LIMIT 20`,
		in.Category, lo, hi, in.ID, *in.Lat-dLat, *in.Lat+dLat, *in.Lon-dLon, *in.Lon+dLon)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []Incident
	for rows.Next() {
		c, err := scanIncident(rows)
		if err != nil {
			return nil, err
		}
		if distance(*in.Lat, *in.Lon, *c.Lat, *c.Lon) <= meters {
			out = append(out, c)
		}
	}
	return out, rows.Err()
}

// distance is the great-circle distance in metres.
func distance(lat1, lon1, lat2, lon2 float64) float64 {
	const r = 6_371_000
	p1, p2 := lat1*math.Pi/180, lat2*math.Pi/180
	dp, dl := (lat2-lat1)*math.Pi/180, (lon2-lon1)*math.Pi/180
	a := math.Sin(dp/2)*math.Sin(dp/2) + math.Cos(p1)*math.Cos(p2)*math.Sin(dl/2)*math.Sin(dl/2)
	return 2 * r * math.Asin(math.Sqrt(a))
}

// rootOf is the first root of the principal's subtrees holding perm (-1
// when none, which no scope check accepts).
func rootOf(p *access.Principal, perm string) int64 {
	if roots := p.Roots(perm); len(roots) > 0 {
		return roots[0]
	}
	return -1
}
