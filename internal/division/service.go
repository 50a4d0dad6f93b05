package division

import (
	"context"
	"errors"
	"fmt"
	"io"

	"github.com/shequ-platform/shequ/internal/platform/access"
	"github.com/shequ-platform/shequ/internal/platform/audit"
	"github.com/shequ-platform/shequ/internal/platform/db"
	"github.com/shequ-platform/shequ/internal/platform/facts"
	"github.com/shequ-platform/shequ/internal/platform/ids"
)

// Fact metrics kept by this package (period facts.Timeless): one per unit,
// recorded at the unit's own code, so a range sum counts a subtree's units.
const (
	MetricTownships = "division.townships"
	MetricVillages  = "division.villages"
	MetricGrids     = "division.grids"
	MetricGroups    = "division.groups"
	MetricBuildings = "division.buildings"
)

func subMetric(kind string) string {
	switch kind {
	case KindGroup:
		return MetricGroups
	case KindBuilding:
		return MetricBuildings
	}
	return MetricGrids
}

// Service is the division capability as the UI, API and CLI use it: scope
// checks, and each change in one transaction with its audit entry and facts.
type Service struct {
	Store  *Store
	DB     *db.DB
	Audit  *audit.Log
	Access *access.Service
}

// NewService builds the service over d.
func NewService(d *db.DB, a *audit.Log, acc *access.Service) *Service {
	return &Service{Store: &Store{DB: d}, DB: d, Audit: a, Access: acc}
}

// Counts are the units in a subtree, from facts.
type Counts struct {
	Townships, Villages, Grids, Groups, Buildings int64
}

func (c *Counts) set(metric string, v int64) {
	switch metric {
	case MetricTownships:
		c.Townships = v
	case MetricVillages:
		c.Villages = v
	case MetricGrids:
		c.Grids = v
	case MetricGroups:
		c.Groups = v
	case MetricBuildings:
		c.Buildings = v
	}
}

var countMetrics = []string{MetricTownships, MetricVillages, MetricGrids, MetricGroups, MetricBuildings}

// Counts sums the unit facts over code's subtree (0: the whole country).
func (s *Service) Counts(ctx context.Context, code int64) (Counts, error) {
	var c Counts
	lo, hi := ids.Subtree(code)
	for _, m := range countMetrics {
		v, err := facts.Sum(ctx, s.DB, m, lo, hi, facts.Timeless, facts.Timeless)
		if err != nil {
			return c, err
		}
		c.set(m, v)
	}
	return c, nil
}

// ChildCounts returns the unit counts of each of kids (the children of one
// unit), keyed by code, with one roll-up query per metric and child level.
// Children are grouped by their own stored level: the townships of 东莞,
// 中山 and 儋州 hang directly under a prefecture, beside no county.
func (s *Service) ChildCounts(ctx context.Context, parent Division, kids []Division) (map[int64]Counts, error) {
	lo, hi := ids.Subtree(parent.Code)
	byLevel := map[int][]int64{}
	for _, k := range kids {
		byLevel[k.Level] = append(byLevel[k.Level], k.Code)
	}
	out := map[int64]Counts{}
	for level, codes := range byLevel {
		for _, m := range countMetrics {
			got, err := facts.RollUp(ctx, s.DB, m, lo, hi, ids.Span(level), facts.Timeless, facts.Timeless)
			if err != nil {
				return nil, err
			}
			for _, code := range codes {
				if v, ok := got[code]; ok {
					c := out[code]
					c.set(m, v)
					out[code] = c
				}
			}
		}
	}
	return out, nil
}

// View returns a unit the principal may see. Anything outside its scope is
// db.ErrNotFound, exactly like a code that does not exist, and is audited.
func (s *Service) View(ctx context.Context, p *access.Principal, code int64) (Division, error) {
	if !p.CanAt("division.view", code) {
		s.Access.Deny(ctx, "division", Format(code), code)
		return Division{}, db.ErrNotFound
	}
	if code == 0 {
		return Division{Code: 0, Level: 0}, nil
	}
	return s.Store.Get(ctx, code)
}

// Children lists the children of a unit the principal may see.
func (s *Service) Children(ctx context.Context, p *access.Principal, code int64, includeRetired bool) ([]Division, error) {
	if _, err := s.View(ctx, p, code); err != nil {
		return nil, err
	}
	return s.Store.Children(ctx, code, includeRetired)
}

// Search finds units by name or code inside the principal's scope.
func (s *Service) Search(ctx context.Context, p *access.Principal, q string, limit int) ([]Division, error) {
	var out []Division
	for _, r := range p.Ranges("division.view") {
		got, err := s.Store.Search(ctx, q, r.Lo, r.Hi, limit)
		if err != nil {
			return nil, err
		}
		out = append(out, got...)
	}
	if len(out) > limit {
		out = out[:limit]
	}
	return out, nil
}

func (s *Service) manageable(ctx context.Context, p *access.Principal, code int64) error {
	if p == nil || !p.CanAt("division.manage", code) {
		if p != nil && p.CanAt("division.view", code) {
			return ErrForbidden
		}
		s.Access.Deny(ctx, "division", Format(code), code)
		return db.ErrNotFound
	}
	return nil
}

// ErrForbidden: the principal sees the unit but may not change it.
var ErrForbidden = errors.New("division: not permitted")

// CreateSub creates a grid, villager group or building under a village.
func (s *Service) CreateSub(ctx context.Context, p *access.Principal, village int64, kind, name string) (Division, error) {
	if err := s.manageable(ctx, p, village); err != nil {
		return Division{}, err
	}
	var d Division
	err := s.DB.Tx(ctx, func(ctx context.Context) error {
		var err error
		if d, err = s.Store.CreateSub(ctx, village, kind, name); err != nil {
			return err
		}
		if err := facts.Add(ctx, s.DB, d.Code, facts.Timeless, subMetric(d.Kind), 1); err != nil {
			return err
		}
		return s.Audit.Write(ctx, audit.Entry{Action: audit.Create, Entity: "division", EntityID: Format(d.Code), Division: d.Code,
			Changes: []audit.Change{{Field: "name", After: d.Name}, {Field: "kind", After: d.Kind}}})
	})
	return d, err
}

// Rename renames a unit the principal may manage.
func (s *Service) Rename(ctx context.Context, p *access.Principal, code int64, name string) (Division, error) {
	if err := s.manageable(ctx, p, code); err != nil {
		return Division{}, err
	}
	var after Division
	err := s.DB.Tx(ctx, func(ctx context.Context) error {
		before, a, err := s.Store.Rename(ctx, code, name)
		if err != nil {
			return err
		}
		after = a
		if before.Name == after.Name {
			return nil
		}
		return s.Audit.Write(ctx, audit.Entry{Action: audit.Update, Entity: "division", EntityID: Format(code), Division: code,
			Changes: []audit.Change{{Field: "name", Before: before.Name, After: after.Name}}})
	})
	return after, err
}

// SetRetired retires (or restores) a grid, group or building.
func (s *Service) SetRetired(ctx context.Context, p *access.Principal, code int64, retire bool) (Division, error) {
	if err := s.manageable(ctx, p, code); err != nil {
		return Division{}, err
	}
	var after Division
	err := s.DB.Tx(ctx, func(ctx context.Context) error {
		var before Division
		var err error
		if retire {
			before, after, err = s.Store.Retire(ctx, code)
		} else {
			before, after, err = s.Store.Restore(ctx, code)
		}
		if err != nil || before.Retired == after.Retired {
			return err
		}
		delta := int64(1)
		if retire {
			delta = -1
		}
		if err := facts.Add(ctx, s.DB, code, facts.Timeless, subMetric(after.Kind), delta); err != nil {
			return err
		}
		return s.Audit.Write(ctx, audit.Entry{Action: audit.Update, Entity: "division", EntityID: Format(code), Division: code,
			Changes: []audit.Change{{Field: "retired", Before: before.Retired, After: after.Retired}}})
	})
	return after, err
}

// Import loads a statistical division file (see Import) and, in the same
// transaction, recounts the township and village facts and writes one audit
// entry for the whole batch. All or nothing. It runs in the import's own
// transaction (the fast path) unless ctx already carries one.
func (s *Service) Import(ctx context.Context, r io.Reader, opts ImportOptions) (ImportResult, error) {
	opts.BeforeCommit = func(ctx context.Context, res ImportResult) error {
		if err := s.recountImported(ctx); err != nil {
			return err
		}
		return s.Audit.Write(ctx, audit.Entry{Action: audit.Create, Entity: "division_import",
			Changes: []audit.Change{{Field: "rows", After: res.Rows}, {Field: "inserted", After: res.Inserted}, {Field: "updated", After: res.Updated}}})
	}
	return Import(ctx, s.DB, r, opts)
}

// recountImported rebuilds the township and village unit facts from the
// divisions table (an import can add hundreds of thousands at once). Units
// from the statistical list are counted at their parent — villages at their
// township, townships at their county (or prefecture, for 东莞) — one fact
// row per township instead of one per village, which keeps every range sum
// at or above the township level exact; grids, created one at a time, are
// counted at their own code.
func (s *Service) recountImported(ctx context.Context) error {
	if _, err := s.DB.Exec(ctx, "DELETE FROM facts WHERE metric IN (?, ?) AND period = ?", MetricTownships, MetricVillages, facts.Timeless); err != nil {
		return err
	}
	// one scan of the table for both levels, each unit counted at its parent
	_, err := s.DB.Exec(ctx, fmt.Sprintf(`INSERT INTO facts (division, period, metric, value)
		SELECT parent, %d, CASE level WHEN 4 THEN '%s' ELSE '%s' END, COUNT(*)
		FROM divisions WHERE level IN (4, 5) AND retired_at = 0
		GROUP BY parent, level`, facts.Timeless, MetricTownships, MetricVillages))
	return err
}
