// Package disclosure is open village affairs (村务公开, DG-6, DG-8, NT-7):
// the finance of a village (administrative and economic accounts, budgets,
// the register of collective assets), notices published under the items
// of the pack's disclosure schedule, the schedule's compliance, and the
// public portal — one page per village at /public/{12-digit code}, without
// login, with its printable A3 bulletin-board sheet and a kiosk mode — that
// composes what governance, the window and the grid make public.
//
// Disclosure sits above the other domains of floor 2: it reads governance's
// public views (governance.Public*) and the window's and grid's figures
// (facts); no other domain imports it (docs/decisions/0009).
//
// Files: model.go (types and rules: money, periods, records); service.go
// (the Service, permissions, scope); finance.go (entries, budgets, budget
// against actual, the asset register); notices.go (notices and finance
// statements); schedule.go (the schedule's compliance); ledger.go (the XLSX
// ledgers); portal.go (what the portal shows); store.go (SQL); http*.go and
// templates/ (the staff pages fin_*, the portal pub_*). The stylesheets are
// internal/platform/web/static/fin.css (staff) and pub.css (portal), the
// kiosk's idle timer pub-kiosk.js.
package disclosure

import (
	"context"
	"errors"
	"strconv"
	"time"

	"github.com/shequ-platform/shequ/internal/division"
	"github.com/shequ-platform/shequ/internal/governance"
	"github.com/shequ-platform/shequ/internal/platform/access"
	"github.com/shequ-platform/shequ/internal/platform/audit"
	"github.com/shequ-platform/shequ/internal/platform/calendar"
	"github.com/shequ-platform/shequ/internal/platform/db"
	"github.com/shequ-platform/shequ/internal/platform/ids"
	"github.com/shequ-platform/shequ/internal/platform/policy"
)

// Permissions: PermManage lets staff publish notices and statements and
// keep the accounts, budgets and the asset register; reading them is
// PermView (governance.view).
const (
	PermManage = "disclosure.manage"
	PermView   = governance.PermView
)

// ErrForbidden: the principal sees the village but may not change its
// disclosure.
var ErrForbidden = errors.New("disclosure: not permitted")

// ErrWithdrawn: the notice was withdrawn already.
var ErrWithdrawn = errors.New("disclosure: notice already withdrawn")

// Service is disclosure as the UI, the API, the portal and the demo use it.
type Service struct {
	DB         *db.DB
	Audit      *audit.Log
	Access     *access.Service
	Divisions  *division.Store
	Packs      *policy.Set
	Governance *governance.Service

	st    store
	steps stepMemo // progress reports' days per matter (gov.go)
	now   func() time.Time
}

// NewService builds the disclosure service.
func NewService(d *db.DB, a *audit.Log, acc *access.Service, divs *division.Store, packs *policy.Set, gov *governance.Service) *Service {
	return &Service{DB: d, Audit: a, Access: acc, Divisions: divs, Packs: packs, Governance: gov, st: store{d}, now: time.Now}
}

// SetClock replaces the service's clock (nil: the real one), for the demo
// and tests.
func (s *Service) SetClock(now func() time.Time) {
	if now == nil {
		now = time.Now
	}
	s.now = now
}

// Today is the service's current day in China (YYYYMMDD).
func (s *Service) Today() int { return calendar.DayOf(s.now()) }

// Rules returns the governance rules of the pack bound to code (nil when
// the pack has no governance.yaml).
func (s *Service) Rules(code int64) *policy.Governance {
	if p := s.Packs.For(code); p != nil {
		return p.Governance
	}
	return nil
}

// Finance is the finance section of the rules bound to code (empty: none).
func (s *Service) Finance(code int64) policy.FinanceRules {
	if g := s.Rules(code); g != nil {
		return g.Finance
	}
	return policy.FinanceRules{}
}

// FinanceItem is the disclosure item finance statements are published
// under (the first item whose source is finance); ok is false when the
// pack has none.
func (s *Service) FinanceItem(code int64) (policy.DisclosureItem, bool) {
	if g := s.Rules(code); g != nil {
		for _, it := range g.Disclosure {
			if it.Source == policy.SourceFinance {
				return it, true
			}
		}
	}
	return policy.DisclosureItem{}, false
}

// Item returns the disclosure item with key of the pack bound to code.
func (s *Service) Item(code int64, key string) (policy.DisclosureItem, bool) {
	if g := s.Rules(code); g != nil {
		for _, it := range g.Disclosure {
			if it.Key == key {
				return it, true
			}
		}
	}
	return policy.DisclosureItem{}, false
}

// VillageOf is the village a code lies in (a grid or villager group stands
// for its village); ok is false above village level.
func VillageOf(code int64) (int64, bool) { return governance.VillageOf(code) }

// Village returns the village of code (a 15-digit code of a village, or of
// a unit below one) when it exists: db.ErrNotFound otherwise, also for a
// township or any other unit above village level.
func (s *Service) Village(ctx context.Context, code int64) (division.Division, error) {
	v, ok := VillageOf(code)
	if !ok {
		return division.Division{}, db.ErrNotFound
	}
	d, err := s.Divisions.Get(ctx, v)
	if err != nil {
		return division.Division{}, err
	}
	if d.Level != 5 {
		return division.Division{}, db.ErrNotFound
	}
	return d, nil
}

// PortalVillage returns the village of a portal address: the 12-digit
// statistical code of a village that exists (its 15-digit division code is
// code × 1000); anything else is db.ErrNotFound.
func (s *Service) PortalVillage(ctx context.Context, code string) (division.Division, error) {
	if len(code) != 12 {
		return division.Division{}, db.ErrNotFound
	}
	n, err := strconv.ParseInt(code, 10, 64)
	if err != nil || n <= 0 || n%1000 == 0 {
		return division.Division{}, db.ErrNotFound
	}
	full := n * 1000
	if ids.Level(full) != 5 {
		return division.Division{}, db.ErrNotFound
	}
	return s.Village(ctx, full)
}

// PortalCode is the 12-digit code of a village's portal address.
func PortalCode(village int64) string { return strconv.FormatInt(village/1000, 10) }

// viewable checks that p may read the disclosure of village code (a
// village, or a unit below one): governance.view there, else db.ErrNotFound
// (audited as denied).
func (s *Service) viewable(ctx context.Context, p *access.Principal, entity string, code int64) (int64, error) {
	v, ok := VillageOf(code)
	if !ok {
		return 0, db.ErrNotFound
	}
	if !p.CanAt(PermView, v) {
		s.deny(ctx, entity, 0, v)
		return 0, db.ErrNotFound
	}
	if _, err := s.Village(ctx, v); err != nil {
		return 0, err
	}
	return v, nil
}

// manageable checks that p may change the disclosure of village code:
// not seen at all is db.ErrNotFound (audited), seen but not to be changed
// ErrForbidden.
func (s *Service) manageable(ctx context.Context, p *access.Principal, entity string, code int64) (int64, error) {
	v, err := s.viewable(ctx, p, entity, code)
	if err != nil {
		return 0, err
	}
	if !p.CanAt(PermManage, v) {
		return 0, ErrForbidden
	}
	return v, nil
}

// actorName is who the audit log and the records name for p.
func actorName(ctx context.Context, p *access.Principal) string {
	if p != nil {
		if p.DisplayName != "" {
			return p.DisplayName
		}
		return p.Username
	}
	return audit.ActorFrom(ctx).Name
}

// deny records an attempt to reach a record outside the principal's scope.
func (s *Service) deny(ctx context.Context, entity string, id, division int64) {
	if s.Access != nil {
		key := strconv.FormatInt(id, 10)
		if id == 0 {
			key = strconv.FormatInt(division, 10)
		}
		s.Access.Deny(ctx, entity, key, division)
	}
}
