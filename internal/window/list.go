package window

import (
	"context"
	"strings"

	"github.com/shequ-platform/shequ/internal/platform/access"
	"github.com/shequ-platform/shequ/internal/platform/ids"
)

// Views of the case list.
const (
	ViewOpen    = "open"     // running cases
	ViewMine    = "mine"     // running cases assigned to me
	ViewDueSoon = "due_soon" // running, deadline within DueSoonDays working days
	ViewOverdue = "overdue"  // running, past the deadline
	ViewClosed  = "closed"   // completed or rejected
	ViewAll     = "all"
)

// DueSoonDays is how many working days ahead "due soon" looks.
const DueSoonDays = 2

// Filter selects cases for a list.
type Filter struct {
	Unit    int64  // restrict to a subtree (0: everything the principal sees)
	View    string // one of the views (default open)
	State   string
	Item    string
	Channel string
	Q       string // case number or applicant name (prefix)
	Handler int64  // assigned to this account (0: anyone, -1: no one yet)
	Offset  int
	Limit   int // default 50, at most 500
}

// CaseList is one page of cases.
type CaseList struct {
	Cases []Case
	More  bool
}

// where builds the WHERE clause and order of a filter within the
// principal's window.view scope; ok is false when the scope is empty.
func (s *Service) where(ctx context.Context, p *access.Principal, f Filter) (string, []any, string, bool, error) {
	ranges := p.Ranges("window.view")
	if f.Unit > 0 {
		lo, hi := ids.Subtree(f.Unit)
		var in []access.Range
		for _, r := range ranges {
			if r.Lo <= lo && hi <= r.Hi {
				in = []access.Range{{Lo: lo, Hi: hi}}
				break
			}
			if lo <= r.Lo && r.Hi <= hi {
				in = append(in, r)
			}
		}
		ranges = in
	}
	if len(ranges) == 0 {
		return "", nil, "", false, nil
	}
	var where []string
	var args []any
	var scope []string
	for _, r := range ranges {
		scope = append(scope, "(holder BETWEEN ? AND ?) OR (division BETWEEN ? AND ?)")
		args = append(args, r.Lo, r.Hi, r.Lo, r.Hi)
	}
	where = append(where, "("+strings.Join(scope, " OR ")+")")
	today := s.Today()
	order := "id DESC"
	switch f.View {
	case ViewAll:
	case ViewClosed:
		where = append(where, "is_open = 0")
	case ViewMine:
		where = append(where, "is_open = 1", "handler_id = ?")
		args = append(args, p.UserID)
		order = "deadline, id"
	case ViewOverdue:
		where = append(where, "is_open = 1", "state <> ?", "deadline > 0", "deadline < ?")
		args = append(args, StateSupplement, today)
		order = "deadline, id"
	case ViewDueSoon:
		cal, err := s.Days(ctx)
		if err != nil {
			return "", nil, "", false, err
		}
		where = append(where, "is_open = 1", "state <> ?", "deadline >= ?", "deadline <= ?")
		args = append(args, StateSupplement, today, cal.AddWorkingDays(today, DueSoonDays))
		order = "deadline, id"
	default:
		where = append(where, "is_open = 1")
	}
	for _, c := range []struct {
		col string
		v   any
		on  bool
	}{{"state", f.State, f.State != ""}, {"item_code", f.Item, f.Item != ""}, {"channel", f.Channel, f.Channel != ""},
		{"handler_id", max(f.Handler, 0), f.Handler != 0}} {
		if c.on {
			where = append(where, c.col+" = ?")
			args = append(args, c.v)
		}
	}
	if q := strings.TrimSpace(f.Q); q != "" {
		where = append(where, `(number LIKE ? ESCAPE '\' OR applicant_name LIKE ? ESCAPE '\')`)
		args = append(args, escapeLike(q)+"%", escapeLike(q)+"%")
	}
	return strings.Join(where, " AND "), args, order, true, nil
}

// Count counts the cases of a filter (for the desk's tiles).
func (s *Service) Count(ctx context.Context, p *access.Principal, f Filter) (int, error) {
	where, args, _, ok, err := s.where(ctx, p, f)
	if err != nil || !ok {
		return 0, err
	}
	var n int
	err = s.DB.QueryRow(ctx, `SELECT COUNT(*) FROM cases WHERE `+where, args...).Scan(&n)
	return n, err
}

// HandlerCount is how many cases of a list one handler holds.
type HandlerCount struct {
	ID   int64
	Name string
	N    int
}

// ByHandler counts the cases of a filter per handler (unassigned cases
// under ID 0), most first: the due-soon and overdue lists per handler.
func (s *Service) ByHandler(ctx context.Context, p *access.Principal, f Filter) ([]HandlerCount, error) {
	where, args, _, ok, err := s.where(ctx, p, f)
	if err != nil || !ok {
		return nil, err
	}
	rows, err := s.DB.Query(ctx, `SELECT handler_id, MAX(handler_name), COUNT(*) FROM cases WHERE `+where+
		` GROUP BY handler_id ORDER BY COUNT(*) DESC, handler_id LIMIT 50`, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []HandlerCount
	for rows.Next() {
		var h HandlerCount
		if err := rows.Scan(&h.ID, &h.Name, &h.N); err != nil {
			return nil, err
		}
		out = append(out, h)
	}
	return out, rows.Err()
}

// List returns the cases the principal sees (window.view where they were
// accepted or where they are handled), newest first; due-soon and overdue
// lists come in deadline order.
func (s *Service) List(ctx context.Context, p *access.Principal, f Filter) (CaseList, error) {
	where, args, order, ok, err := s.where(ctx, p, f)
	if err != nil || !ok {
		return CaseList{}, err
	}
	limit := f.Limit
	if limit <= 0 {
		limit = 50
	}
	limit = min(limit, 500)
	args = append(args, limit+1, max(f.Offset, 0))
	rows, err := s.DB.Query(ctx, `SELECT `+caseColumns+` FROM cases WHERE `+where+
		` ORDER BY `+order+` LIMIT ? OFFSET ?`, args...)
	if err != nil {
		return CaseList{}, err
	}
	defer rows.Close()
	var out CaseList
	for rows.Next() {
		c, err := scanCase(rows)
		if err != nil {
			return CaseList{}, err
		}
		out.Cases = append(out.Cases, c)
	}
	if len(out.Cases) > limit {
		out.Cases, out.More = out.Cases[:limit], true
	}
	return out, rows.Err()
}

func escapeLike(s string) string {
	return strings.NewReplacer(`\`, `\\`, `%`, `\%`, `_`, `\_`).Replace(s)
}
