package grid

import (
	"context"
	"strings"

	"github.com/shequ-platform/shequ/internal/platform/db"
	"github.com/shequ-platform/shequ/internal/platform/policy"
)

// Incidents residents report through Open311 (internal/open311) are public
// in their state only, like the window's online cases: only incidents that
// came in through an Open311 client are ever read here, never the reports
// of grid workers, which may name households.

// OnlineFilter selects Open311 incidents.
type OnlineFilter struct {
	Numbers    []string // incident numbers; when given, the other conditions are ignored
	Categories []string // service codes (empty: all)
	From, To   int64    // reported between (unix ms, inclusive)
	Status     []string // "open", "closed" (empty: both)
	Lo, Hi     int64    // where it happened within [Lo, Hi] (both 0: anywhere)
	Limit      int      // at most this many, newest first (default and maximum 1000)
}

const onlineOnly = `source = 'resident' AND client_id <> 0`

// OnlineIncidents returns the Open311 incidents f selects, newest first.
func (s *Service) OnlineIncidents(ctx context.Context, f OnlineFilter) ([]Incident, error) {
	where := []string{onlineOnly}
	var args []any
	limit := f.Limit
	if limit <= 0 || limit > 1000 {
		limit = 1000
	}
	in := func(col string, vals []string) {
		where = append(where, col+" IN ("+db.Placeholders(len(vals))+")")
		for _, v := range vals {
			args = append(args, v)
		}
	}
	if len(f.Numbers) > 0 {
		in("number", f.Numbers)
	} else {
		where = append(where, "reported_at >= ?", "reported_at <= ?")
		args = append(args, f.From, f.To)
		if len(f.Categories) > 0 {
			in("category", f.Categories)
		}
		open, closed := false, false
		for _, st := range f.Status {
			open = open || st == "open"
			closed = closed || st == "closed"
		}
		if open != closed {
			where = append(where, "is_open = ?")
			args = append(args, b2i(open))
		}
		if f.Lo != 0 || f.Hi != 0 {
			where = append(where, "division >= ?", "division <= ?")
			args = append(args, f.Lo, f.Hi)
		}
	}
	args = append(args, limit)
	rows, err := s.DB.Query(ctx, `SELECT `+incidentColumns+` FROM incidents WHERE `+strings.Join(where, " AND ")+
		` ORDER BY reported_at DESC, id DESC LIMIT ?`, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []Incident
	for rows.Next() {
		in, err := scanIncident(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, in)
	}
	return out, rows.Err()
}

// OnlineIncident returns the Open311 incident with number (db.ErrNotFound
// for any other).
func (s *Service) OnlineIncident(ctx context.Context, number string) (Incident, error) {
	return scanIncident(s.DB.QueryRow(ctx, `SELECT `+incidentColumns+` FROM incidents WHERE number = ? AND `+onlineOnly, strings.TrimSpace(number)))
}

// OnlineIncidentByToken returns the Open311 incident reported with token.
func (s *Service) OnlineIncidentByToken(ctx context.Context, token string) (Incident, error) {
	token = strings.TrimSpace(token)
	if token == "" {
		return Incident{}, db.ErrNotFound
	}
	return scanIncident(s.DB.QueryRow(ctx, `SELECT `+incidentColumns+` FROM incidents WHERE token = ? AND `+onlineOnly, token))
}

// OnlineCategory is an incident category residents may report through
// Open311, with its group's label.
type OnlineCategory struct {
	policy.IncidentCategory
	Group policy.IncidentGroup
}

// OnlineCategories lists the categories residents may report at unit (0:
// every pack's, each code once).
func (s *Service) OnlineCategories(unit int64) []OnlineCategory {
	var out []OnlineCategory
	seen := map[string]bool{}
	add := func(g *policy.Grid) {
		if g == nil {
			return
		}
		for _, c := range g.Categories {
			if c.Online && !seen[c.Code] {
				seen[c.Code] = true
				gr, _ := g.Group(c.Group)
				out = append(out, OnlineCategory{IncidentCategory: c, Group: gr})
			}
		}
	}
	if unit != 0 {
		add(s.Rules(unit))
		return out
	}
	for _, p := range s.Packs.Packs() {
		add(p.Grid)
	}
	return out
}
