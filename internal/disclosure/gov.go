package disclosure

import (
	"context"
	"slices"
	"sync"
	"time"

	"github.com/shequ-platform/shequ/internal/governance"
	"github.com/shequ-platform/shequ/internal/platform/calendar"
	"github.com/shequ-platform/shequ/internal/platform/policy"
)

// gov.go is where disclosure reads governance's public views for the
// schedule's compliance; the portal composes the rest in portal.go.

// maxResolutions bounds the resolutions read: a village decides a few
// dozen items a year.
const maxResolutions = 1000

// progressActions are the steps of a matter's implementation that count as
// a progress report (SX-3's 四步 and the final report).
var progressActions = []string{governance.ActAssign, governance.ActImplement, governance.ActUrge, governance.ActSupervise,
	governance.ActComplete}

// govReads reads governance's public lists of one village at most once
// per page (the portal and its compliance share them).
type govReads struct {
	s       *Service
	village int64
	res     []governance.Resolution
	resOK   bool
	ms      []governance.Matter
	msOK    bool
}

func (s *Service) reads(village int64) *govReads { return &govReads{s: s, village: village} }

// resolutions are the village's resolutions, newest first (at most
// maxResolutions).
func (g *govReads) resolutions(ctx context.Context) ([]governance.Resolution, error) {
	if !g.resOK && g.s.Governance != nil {
		rs, err := g.s.Governance.PublicResolutions(ctx, g.village, maxResolutions)
		if err != nil {
			return nil, err
		}
		g.res, g.resOK = rs, true
	}
	return g.res, nil
}

// matters are the village's public matters: every open one and those
// closed in the last 12 months, newest first.
func (g *govReads) matters(ctx context.Context) ([]governance.Matter, error) {
	if !g.msOK && g.s.Governance != nil {
		ms, err := g.s.Governance.PublicMatters(ctx, g.village, 0)
		if err != nil {
			return nil, err
		}
		g.ms, g.msOK = ms, true
	}
	return g.ms, nil
}

// stepMemo remembers the days of each matter's public progress reports,
// keyed by the matter's last change: governance writes the matter's row
// with every step it adds, so a matter that has not changed has the same
// steps. Entries also expire after stepMemoTTL, so a step hidden from the
// portal (which does not touch the matter) stops counting by then. It
// saves the portal a read per matter on every view.
type stepMemo struct {
	mu sync.Mutex
	m  map[int64]stepDays
}

type stepDays struct {
	updated int64     // the matter's UpdatedAt when read
	at      time.Time // when read
	days    []int
}

const (
	stepMemoTTL = 5 * time.Minute
	stepMemoMax = 100_000 // entries; the memo starts afresh beyond
)

func (sm *stepMemo) get(id, updated int64) ([]int, bool) {
	sm.mu.Lock()
	defer sm.mu.Unlock()
	e, ok := sm.m[id]
	if !ok || e.updated != updated || time.Since(e.at) > stepMemoTTL {
		return nil, false
	}
	return e.days, true
}

func (sm *stepMemo) put(id, updated int64, days []int) {
	sm.mu.Lock()
	defer sm.mu.Unlock()
	if sm.m == nil || len(sm.m) >= stepMemoMax {
		sm.m = map[int64]stepDays{}
	}
	sm.m[id] = stepDays{updated: updated, at: time.Now(), days: days}
}

// govActivity lists the days a village's public governance records of a
// disclosure source happened on since a day: resolutions decided by public
// bodies (resolutions), matters proposed, resolved or closed (matters),
// implementation steps reported on the public page (progress).
func (s *Service) govActivity(ctx context.Context, g *govReads, source string, since int) ([]int, error) {
	if s.Governance == nil {
		return nil, nil
	}
	var days []int
	add := func(d int) {
		if d >= since {
			days = append(days, d)
		}
	}
	switch source {
	case policy.SourceResolutions:
		rs, err := g.resolutions(ctx)
		if err != nil {
			return nil, err
		}
		for _, r := range rs {
			add(r.Item.DecidedDay)
		}
	case policy.SourceMatters:
		ms, err := g.matters(ctx)
		if err != nil {
			return nil, err
		}
		for _, m := range ms {
			add(m.ProposedDay)
			add(m.ResolvedDay)
			add(m.ClosedDay)
		}
	case policy.SourceProgress:
		ms, err := g.matters(ctx)
		if err != nil {
			return nil, err
		}
		for _, m := range ms {
			// only matters whose implementation started and moved since
			if m.Responsible == "" && m.Progress == 0 || calendar.DayOf(time.UnixMilli(m.UpdatedAt)) < since {
				continue
			}
			reports, ok := s.steps.get(m.ID, m.UpdatedAt)
			if !ok {
				_, steps, err := s.Governance.PublicMatter(ctx, g.village, m.Number)
				if err != nil {
					return nil, err
				}
				reports = []int{}
				for _, st := range steps {
					if slices.Contains(progressActions, st.Action) {
						reports = append(reports, st.Day)
					}
				}
				s.steps.put(m.ID, m.UpdatedAt, reports)
			}
			for _, d := range reports {
				add(d)
			}
		}
	}
	return days, nil
}
