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
package disclosure

import (
	"time"

	"github.com/shequ-platform/shequ/internal/division"
	"github.com/shequ-platform/shequ/internal/governance"
	"github.com/shequ-platform/shequ/internal/platform/access"
	"github.com/shequ-platform/shequ/internal/platform/audit"
	"github.com/shequ-platform/shequ/internal/platform/db"
	"github.com/shequ-platform/shequ/internal/platform/policy"
)

// PermManage lets staff publish notices and keep the accounts, budgets and
// the asset register; reading them is governance.PermView.
const PermManage = "disclosure.manage"

// Service is disclosure as the UI, the API, the portal and the demo use it.
type Service struct {
	DB         *db.DB
	Audit      *audit.Log
	Access     *access.Service
	Divisions  *division.Store
	Packs      *policy.Set
	Governance *governance.Service

	now func() time.Time
}

// NewService builds the disclosure service.
func NewService(d *db.DB, a *audit.Log, acc *access.Service, divs *division.Store, packs *policy.Set, gov *governance.Service) *Service {
	return &Service{DB: d, Audit: a, Access: acc, Divisions: divs, Packs: packs, Governance: gov, now: time.Now}
}

// SetClock replaces the service's clock (nil: the real one), for the demo
// and tests.
func (s *Service) SetClock(now func() time.Time) {
	if now == nil {
		now = time.Now
	}
	s.now = now
}
