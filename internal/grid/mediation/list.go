package mediation

import (
	"context"
	"strings"

	"github.com/shequ-platform/shequ/internal/platform/access"
	"github.com/shequ-platform/shequ/internal/platform/ids"
)

// Filter selects disputes for a list.
type Filter struct {
	Unit  int64  // restrict to a subtree (0: everything the principal sees)
	State string // one of States ("": any)
	Type  string // a dispute type ("": any)
	// Unvisited keeps the settled disputes without a follow-up visit yet (待回访).
	Unvisited bool
	Q         string // a dispute number (prefix), a party's name (prefix) or words of the summary
	Offset    int
	Limit     int // default 50, at most 500
}

// List is one page of disputes, newest first, with their parties.
type List struct {
	Disputes []Dispute
	More     bool
}

// scope returns the principal's mediation.view ranges, narrowed to the
// subtree of unit when unit is not 0 (empty: nothing to see there).
func scope(p *access.Principal, unit int64) []access.Range {
	ranges := p.Ranges(PermView)
	if unit <= 0 {
		return ranges
	}
	lo, hi := ids.Subtree(unit)
	var in []access.Range
	for _, r := range ranges {
		if r.Lo <= lo && hi <= r.Hi {
			return []access.Range{{Lo: lo, Hi: hi}}
		}
		if lo <= r.Lo && r.Hi <= hi {
			in = append(in, r)
		}
	}
	return in
}

// rangeWhere is the condition "division in one of ranges" with its arguments.
func rangeWhere(ranges []access.Range) (string, []any) {
	parts := make([]string, len(ranges))
	args := make([]any, 0, 2*len(ranges))
	for i, r := range ranges {
		parts[i] = "division BETWEEN ? AND ?"
		args = append(args, r.Lo, r.Hi)
	}
	return "(" + strings.Join(parts, " OR ") + ")", args
}

// where builds the WHERE clause of a filter within the principal's scope;
// ok is false when the scope is empty.
func where(p *access.Principal, f Filter) (string, []any, bool) {
	ranges := scope(p, f.Unit)
	if len(ranges) == 0 {
		return "", nil, false
	}
	w, args := rangeWhere(ranges)
	conds := []string{w}
	if f.State != "" {
		conds = append(conds, "state = ?")
		args = append(args, f.State)
	}
	if f.Type != "" {
		conds = append(conds, "type = ?")
		args = append(args, f.Type)
	}
	if f.Unvisited {
		conds = append(conds, "state = ?", "NOT EXISTS (SELECT 1 FROM dispute_visits v WHERE v.dispute_id = disputes.id)")
		args = append(args, StateSettled)
	}
	if q := strings.TrimSpace(f.Q); q != "" {
		e := escapeLike(q)
		conds = append(conds, `(number LIKE ? ESCAPE '\' OR summary LIKE ? ESCAPE '\'
			OR EXISTS (SELECT 1 FROM dispute_parties dp WHERE dp.dispute_id = disputes.id AND dp.name LIKE ? ESCAPE '\'))`)
		args = append(args, e+"%", "%"+e+"%", e+"%")
	}
	return strings.Join(conds, " AND "), args, true
}

// List returns the disputes the principal sees (mediation.view at their
// unit), newest first, each with its parties.
func (s *Service) List(ctx context.Context, p *access.Principal, f Filter) (List, error) {
	w, args, ok := where(p, f)
	if !ok {
		return List{}, nil
	}
	limit := f.Limit
	if limit <= 0 {
		limit = 50
	}
	limit = min(limit, 500)
	args = append(args, limit+1, max(f.Offset, 0))
	rows, err := s.DB.Query(ctx, `SELECT `+disputeColumns+` FROM disputes WHERE `+w+` ORDER BY id DESC LIMIT ? OFFSET ?`, args...)
	if err != nil {
		return List{}, err
	}
	var out List
	for rows.Next() {
		d, err := scanDispute(rows)
		if err != nil {
			rows.Close()
			return List{}, err
		}
		out.Disputes = append(out.Disputes, d)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return List{}, err
	}
	if len(out.Disputes) > limit {
		out.Disputes, out.More = out.Disputes[:limit], true
	}
	idList := make([]int64, len(out.Disputes))
	for i, d := range out.Disputes {
		idList[i] = d.ID
	}
	parties, err := s.st.parties(ctx, idList...)
	if err != nil {
		return List{}, err
	}
	for i := range out.Disputes {
		out.Disputes[i].Parties = parties[out.Disputes[i].ID]
	}
	return out, nil
}

// Count counts the disputes of a filter (its paging aside).
func (s *Service) Count(ctx context.Context, p *access.Principal, f Filter) (int, error) {
	w, args, ok := where(p, f)
	if !ok {
		return 0, nil
	}
	var n int
	err := s.DB.QueryRow(ctx, `SELECT COUNT(*) FROM disputes WHERE `+w, args...).Scan(&n)
	return n, err
}
