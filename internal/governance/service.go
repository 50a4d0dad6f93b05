package governance

import (
	"context"
	"errors"
	"strconv"
	"time"

	"github.com/shequ-platform/shequ/internal/division"
	"github.com/shequ-platform/shequ/internal/platform/access"
	"github.com/shequ-platform/shequ/internal/platform/audit"
	"github.com/shequ-platform/shequ/internal/platform/calendar"
	"github.com/shequ-platform/shequ/internal/platform/db"
	"github.com/shequ-platform/shequ/internal/platform/ids"
	"github.com/shequ-platform/shequ/internal/platform/pii"
	"github.com/shequ-platform/shequ/internal/platform/policy"
	"github.com/shequ-platform/shequ/internal/platform/sealed"
	"github.com/shequ-platform/shequ/internal/registry"
)

// Permissions.
const (
	PermView     = "governance.view"     // see bodies, meetings, matters, elections and documents
	PermManage   = "governance.manage"   // keep bodies and members, meetings, votes, matters, documents
	PermElection = "governance.election" // run elections: the voter roll, proxies, candidates, the count
)

// Fact metrics, counted at the village in the month of the event, so a
// township's or county's figure is a range sum.
const (
	MetricMeetings      = "gov.meetings"         // meetings held (+ .body.<kind>)
	MetricMattersOpened = "gov.matters.opened"   // matters proposed
	MetricMattersPassed = "gov.matters.passed"   // matters resolved (the resolving stage passed)
	MetricMattersReject = "gov.matters.rejected" // matters ended by a failed stage
	MetricMattersDone   = "gov.matters.done"     // matters through every stage
	MetricRatings       = "gov.ratings"          // residents' ratings (score > 0)
	MetricRatingSum     = "gov.rating_sum"       // their sum
	MetricVoters        = "gov.election.voters"  // voters on the rolls of counted elections
	MetricVoted         = "gov.election.voted"   // of whom voted (in person or by proxy)
)

// ErrForbidden: the principal sees the record (or the unit) but may not do this.
var ErrForbidden = errors.New("governance: not permitted")

// Service is self-governance as the UI, the API, the portal and the demo use it.
type Service struct {
	DB        *db.DB
	Audit     *audit.Log
	Access    *access.Service
	Keys      *pii.Keys
	Divisions *division.Store
	Packs     *policy.Set
	Registry  *registry.Service
	// Files seals progress photos (under <data>/attachments/governance).
	Files *sealed.Store

	now func() time.Time
}

// NewService builds the governance service; attachments is the directory
// sealed files are kept in.
func NewService(d *db.DB, a *audit.Log, acc *access.Service, keys *pii.Keys, divs *division.Store, packs *policy.Set,
	reg *registry.Service, attachments string) *Service {
	return &Service{DB: d, Audit: a, Access: acc, Keys: keys, Divisions: divs, Packs: packs, Registry: reg,
		Files: &sealed.Store{Dir: attachments, Keys: keys}, now: time.Now}
}

// SetClock replaces the service's clock (nil: the real one). The demo uses
// it to leave a year of history; never change it while serving.
func (s *Service) SetClock(now func() time.Time) {
	if now == nil {
		now = time.Now
	}
	s.now = now
}

// Today is the service's current day in China (YYYYMMDD).
func (s *Service) Today() int { return calendar.DayOf(s.now()) }

// period is the facts period (YYYYMM) of a day.
func period(day int) int { return day / 100 }

// Rules returns the governance rules of the pack bound to code (nil when
// the pack has no governance.yaml).
func (s *Service) Rules(code int64) *policy.Governance {
	if p := s.Packs.For(code); p != nil {
		return p.Governance
	}
	return nil
}

// VillageOf is the village a code lies in (a grid or villager group stands
// for its village); ok is false above village level.
func VillageOf(code int64) (int64, bool) {
	switch ids.Level(code) {
	case 5:
		return code, true
	case 6:
		return code - code%ids.Span(5), true
	}
	return 0, false
}

// actorName is who the audit log and the history name for p.
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
		s.Access.Deny(ctx, entity, strconv.FormatInt(id, 10), division)
	}
}
