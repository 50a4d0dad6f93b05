package disclosure

import (
	"context"
	"slices"

	"github.com/shequ-platform/shequ/internal/division"
	"github.com/shequ-platform/shequ/internal/governance"
	"github.com/shequ-platform/shequ/internal/grid"
	"github.com/shequ-platform/shequ/internal/platform/calendar"
	"github.com/shequ-platform/shequ/internal/platform/facts"
	"github.com/shequ-platform/shequ/internal/platform/policy"
	"github.com/shequ-platform/shequ/internal/window"
)

// The public portal (/public/{village code}): what a village makes public,
// composed for anyone without an account. Nothing personal is read here:
// governance's public views give members and candidates by name and post
// only; the window's and the grid's figures are counts from facts.

// How much the portal shows (it stays small: a phone on a weak network).
const (
	PortalNotices     = 15  // notices, newest first
	PortalStatements  = 6   // finance statements, newest first
	PortalResolutions = 10  // resolutions, newest first
	PortalMatters     = 40  // matters (open first, then closed in the last 12 months)
	PortalMeetingDays = 90  // upcoming public meetings: the next 90 days
	PortalMeetings    = 10  // at most this many of them
	CalendarBack      = 92  // the calendar feed: meetings of the last 3 months
	CalendarAhead     = 366 // and of the next 12
)

// Figures are the window's and the grid's counts for a village this year.
type Figures struct {
	Year int
	// the service window: cases accepted, completed, completed on time
	Accepted, Completed, OnTime int64
	// the grid: incidents reported, closed, closed by the village itself
	Reported, Closed, ClosedVillage int64
}

// OnTimePct is the share of completed cases completed on time.
func (f Figures) OnTimePct() string {
	if f.Completed == 0 {
		return "—"
	}
	return percent(float64(f.OnTime)/float64(f.Completed), true)
}

// ClosedPct is the share of reported incidents closed.
func (f Figures) ClosedPct() string {
	if f.Reported == 0 {
		return "—"
	}
	return percent(float64(f.Closed)/float64(f.Reported), true)
}

// MatterView is a matter with where it stands in its procedure.
type MatterView struct {
	governance.Matter
	StageLabel policy.Text
	StageKind  string // policy.StagePropose, …
	Stages     []StageView
}

// StageView is one stage of a matter's procedure, for the stepper.
type StageView struct {
	Key   string
	Label policy.Text
	// State: done, current or todo (a closed matter's last stage is done;
	// a rejected matter's is failed).
	State string
}

// Portal is everything the public page of a village shows.
type Portal struct {
	Village  division.Division
	Township string
	Today    int
	Year     int

	Notices     []Notice // notices under the schedule's items (not statements)
	Statements  []Notice // finance statements, with their bodies decoded
	Resolutions []governance.Resolution
	Matters     []MatterView
	Goals       []MatterView
	Bodies      []governance.Body
	Meetings    []governance.Meeting // upcoming public meetings
	Documents   []governance.Document
	Elections   []governance.Election
	Budget      BudgetReport // this year's budget against actual
	Figures     Figures
	Compliance  Compliance
}

// Portal composes a village's public page (village: a level-5 code, as
// PortalVillage returns it).
func (s *Service) Portal(ctx context.Context, v division.Division) (*Portal, error) {
	today := s.Today()
	p := &Portal{Village: v, Today: today, Year: today / 10000}
	if t, err := s.Divisions.Get(ctx, v.Parent); err == nil {
		p.Township = t.Name
	}
	fin, _ := s.FinanceItem(v.Code)
	var err error
	if p.Notices, err = s.st.notices(ctx, NoticeFilter{Village: v.Code, NotItem: fin.Key, Limit: PortalNotices}, false); err != nil {
		return nil, err
	}
	if fin.Key != "" {
		if p.Statements, err = s.st.notices(ctx, NoticeFilter{Village: v.Code, Item: fin.Key, Limit: PortalStatements}, true); err != nil {
			return nil, err
		}
		for i := range p.Statements {
			if err := s.decode(&p.Statements[i]); err != nil {
				return nil, err
			}
		}
	}
	if p.Budget, err = s.budgetReport(ctx, v.Code, p.Year); err != nil {
		return nil, err
	}
	if p.Figures, err = s.figures(ctx, v, p.Year); err != nil {
		return nil, err
	}
	g := s.reads(v.Code)
	if p.Compliance, err = s.compliance(ctx, v.Code, today, g); err != nil {
		return nil, err
	}
	if err := s.portalGovernance(ctx, p, g); err != nil {
		return nil, err
	}
	return p, nil
}

// portalGovernance fills what governance makes public.
func (s *Service) portalGovernance(ctx context.Context, p *Portal, reads *govReads) error {
	g := s.Governance
	if g == nil {
		return nil
	}
	v := p.Village.Code
	rs, err := reads.resolutions(ctx)
	if err != nil {
		return err
	}
	p.Resolutions = rs[:min(len(rs), PortalResolutions)]
	all, err := reads.matters(ctx)
	if err != nil {
		return err
	}
	ms := slices.Clone(all)
	// open matters first (newest first), then the closed ones
	slices.SortStableFunc(ms, func(a, b governance.Matter) int {
		if a.Open() != b.Open() {
			if a.Open() {
				return -1
			}
			return 1
		}
		return 0
	})
	for _, m := range ms[:min(len(ms), PortalMatters)] {
		p.Matters = append(p.Matters, s.matterView(m))
	}
	goals, err := g.Goals(ctx, v, p.Year)
	if err != nil {
		return err
	}
	for _, m := range goals {
		p.Goals = append(p.Goals, s.matterView(m))
	}
	if p.Bodies, err = g.PublicBodies(ctx, v); err != nil {
		return err
	}
	ms2, err := g.PublicMeetings(ctx, v, p.Today, calendar.AddDays(p.Today, PortalMeetingDays))
	if err != nil {
		return err
	}
	for _, m := range ms2 {
		if m.State == governance.MeetingScheduled && len(p.Meetings) < PortalMeetings {
			p.Meetings = append(p.Meetings, m)
		}
	}
	if p.Documents, err = g.PublicDocuments(ctx, v); err != nil {
		return err
	}
	for i := range p.Documents {
		p.Documents[i].Current.Text = "" // the list shows titles; the text has its own page
		p.Documents[i].Versions = nil
	}
	if p.Elections, err = g.PublicElections(ctx, v); err != nil {
		return err
	}
	return nil
}

// matterView places a matter in its procedure.
func (s *Service) matterView(m governance.Matter) MatterView {
	mv := MatterView{Matter: m, StageLabel: policy.Text{"zh-CN": m.Stage}}
	g := s.Rules(m.Division)
	pr, ok := g.Procedure(m.Procedure)
	if !ok {
		return mv
	}
	_, cur, found := pr.Stage(m.Stage)
	for i, st := range pr.Stages {
		sv := StageView{Key: st.Key, Label: st.Label, State: "todo"}
		switch {
		case !found:
		case i < cur:
			sv.State = "done"
		case i == cur:
			mv.StageLabel, mv.StageKind = st.Label, st.Kind
			switch m.Status {
			case governance.MatterOpen:
				sv.State = "current"
			case governance.MatterDone:
				sv.State = "done"
			default:
				sv.State = "failed"
			}
		}
		mv.Stages = append(mv.Stages, sv)
	}
	return mv
}

// figures reads the window's and the grid's counts of a village's subtree
// for a year from facts, in one read.
func (s *Service) figures(ctx context.Context, v division.Division, year int) (Figures, error) {
	f := Figures{Year: year}
	lo, hi := v.Range()
	dst := map[string]*int64{
		window.MetricAccepted: &f.Accepted, window.MetricCompleted: &f.Completed, window.MetricOnTime: &f.OnTime,
		grid.MetricReported: &f.Reported, grid.MetricClosed: &f.Closed, grid.MetricClosedVillage: &f.ClosedVillage,
	}
	metrics := make([]string, 0, len(dst))
	for m := range dst {
		metrics = append(metrics, m)
	}
	slices.Sort(metrics)
	err := facts.SumMany(ctx, s.DB, metrics, lo, hi, year*100+1, year*100+12, facts.ByMetric, func(metric string, _, n int64) {
		if p := dst[metric]; p != nil {
			*p += n
		}
	})
	return f, err
}

// PublicMatter returns a matter of a village's portal with its public
// steps, placed in its procedure.
func (s *Service) PublicMatter(ctx context.Context, village int64, number string) (MatterView, []governance.Step, error) {
	m, steps, err := s.Governance.PublicMatter(ctx, village, number)
	if err != nil {
		return MatterView{}, nil, err
	}
	return s.matterView(m), steps, nil
}
