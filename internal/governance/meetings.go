package governance

import (
	"context"
	"errors"
	"regexp"
	"slices"
	"strconv"
	"strings"

	"github.com/shequ-platform/shequ/internal/platform/access"
	"github.com/shequ-platform/shequ/internal/platform/audit"
	"github.com/shequ-platform/shequ/internal/platform/db"
	"github.com/shequ-platform/shequ/internal/platform/facts"
	"github.com/shequ-platform/shequ/internal/platform/field"
	"github.com/shequ-platform/shequ/internal/platform/ids"
	"github.com/shequ-platform/shequ/internal/platform/policy"
)

// Meetings of a body: scheduled with an agenda (items may decide a matter
// at its stage), then held — the attendance of every member on the day is
// recorded (present, represented by a present member's proxy where the
// pack allows proxies, or absent), which fixes the quorum's base — then
// each item is voted on, by roll call or by counted hands. The result is
// computed with Decide from the recorded attendance and votes, never typed
// in; a meeting without its quorum records that and resolves nothing.

// Meeting states.
const (
	MeetingScheduled = "scheduled"
	MeetingHeld      = "held"
	MeetingCancelled = "cancelled"
)

// Meeting is a meeting of a body (gov_meetings). The fields below are the
// contract other parts rely on; meetings.go's owner may add fields.
type Meeting struct {
	ID         int64
	County     int64
	Division   int64
	BodyID     int64
	BodyKind   string // filled from the body when loaded
	BodyName   string // filled from the body when loaded
	Title      string
	Day        int    // YYYYMMDD
	StartTime  string // HH:MM
	MinutesLen int    // planned length in minutes
	Place      string
	State      string // MeetingScheduled, MeetingHeld, MeetingCancelled
	Public     bool
	Members    int // membership on the day (the quorum's base), fixed with the attendance
	Present    int // present in person or by proxy
	Minutes    string
	CreatedAt  int64
	CreatedBy  string
	UpdatedAt  int64
	Agenda     []AgendaItem // when loaded
}

// AgendaItem is one item on a meeting's agenda (gov_agenda).
type AgendaItem struct {
	ID         int64
	MeetingID  int64
	Seq        int
	Title      string
	MatterID   int64  // the matter it decides (0: none)
	Stage      string // the matter's stage it decides
	DocumentID int64  // the document it adopts a version of (0: none)
	Result     string // ResultPending, ResultPassed, ResultFailed, ResultNoQuorum
	For        int
	Against    int
	Abstain    int
	Counted    bool // hands counted rather than a roll call
	Resolution string
	DecidedDay int
}

// Decided tells whether the item has been voted on.
func (a AgendaItem) Decided() bool { return a.Result != "" && a.Result != ResultPending }

// Resolution is a decided agenda item with its meeting, for the public
// portal.
type Resolution struct {
	Meeting Meeting
	Item    AgendaItem
}

// Attendance statuses.
const (
	AttendPresent = "present" // in person
	AttendProxy   = "proxy"   // represented by a present member (ProxyID)
	AttendAbsent  = "absent"
)

// AttendStatuses lists the attendance statuses.
var AttendStatuses = []string{AttendPresent, AttendProxy, AttendAbsent}

// Attendance is one member's attendance at a meeting (gov_attendance).
type Attendance struct {
	MeetingID int64
	MemberID  int64
	Status    string
	ProxyID   int64 // proxy: the present member who holds it
	// from the membership
	Name, Post string
}

// Vote is one member's roll-call vote on an item (gov_votes). ByProxy: cast
// by the member's trustee.
type Vote struct {
	AgendaID int64
	MemberID int64
	Choice   string
	ByProxy  bool
	Name     string // the member's
}

// Limits of meetings' texts.
const (
	MaxMeetingTitleRunes = 200
	MaxPlaceRunes        = 200
	MaxMinutesRunes      = 50000
	MaxResolutionRunes   = 10000
	MaxAgendaItems       = 50
)

// MeetingInput is a meeting as scheduled.
type MeetingInput struct {
	BodyID int64
	Title  string // default the body's name and 会议
	Day    string // 2006-01-02
	Start  string // HH:MM (optional)
	Length int    // minutes (default 120)
	Place  string
}

var hhmm = regexp.MustCompile(`^([01][0-9]|2[0-3]):[0-5][0-9]$`)

// checkMeeting validates the schedule fields into m.
func checkMeeting(es *field.Errors, in MeetingInput, m *Meeting) {
	m.Title, m.Place = strings.TrimSpace(in.Title), strings.TrimSpace(in.Place)
	bodyCheckText(es, "title", m.Title, MaxMeetingTitleRunes, true)
	bodyCheckText(es, "place", m.Place, MaxPlaceRunes, false)
	m.Day = bodyParseDay(es, "day", in.Day)
	if m.Day == 0 && es.For("day") == nil {
		es.Add("day", "required")
	}
	m.StartTime = strings.TrimSpace(in.Start)
	if len(m.StartTime) == 4 && m.StartTime[1] == ':' {
		m.StartTime = "0" + m.StartTime
	}
	if m.StartTime != "" && !hhmm.MatchString(m.StartTime) {
		es.Add("start", "time_invalid")
	}
	m.MinutesLen = in.Length
	if m.MinutesLen == 0 {
		m.MinutesLen = 120
	}
	if m.MinutesLen < 5 || m.MinutesLen > 24*60 {
		es.Add("length", "length_range")
	}
}

// Schedule schedules a meeting of a current body. Field errors: body_id,
// title, day, start, length, place. Public meetings are those of bodies
// whose kind is public.
func (s *Service) Schedule(ctx context.Context, p *access.Principal, in MeetingInput) (Meeting, error) {
	var m Meeting
	err := s.scopedTx(ctx, func(ctx context.Context) error {
		b, err := s.managedBody(ctx, p, in.BodyID)
		var sd *scopeDenied
		if errors.Is(err, db.ErrNotFound) && !errors.As(err, &sd) {
			return field.Errors{{Field: "body_id", Code: "body_unknown"}}
		}
		if err != nil {
			return err
		}
		var es field.Errors
		if !b.Current {
			es.Add("body_id", "body_ended")
		}
		kind, _ := s.BodyKind(b)
		now := s.now()
		if strings.TrimSpace(in.Title) == "" {
			in.Title = b.Name + "会议"
		}
		m = Meeting{County: b.County, Division: b.Division, BodyID: b.ID, BodyKind: b.Kind, BodyName: b.Name, State: MeetingScheduled,
			Public: kind.Public, CreatedAt: now.UnixMilli(), CreatedBy: actorName(ctx, p), UpdatedAt: now.UnixMilli()}
		checkMeeting(&es, in, &m)
		if err := es.Err(); err != nil {
			return err
		}
		if err := insertMeeting(ctx, s.DB, &m); err != nil {
			return err
		}
		return s.Audit.Write(ctx, audit.Entry{Action: audit.Create, Entity: "gov_meeting", EntityID: strconv.FormatInt(m.ID, 10),
			Division: m.Division, Changes: []audit.Change{{Field: "body", After: b.ID}, {Field: "title", After: m.Title},
				{Field: "day", After: m.Day}, {Field: "start", After: m.StartTime}, {Field: "place", After: m.Place}}})
	})
	if err != nil {
		return Meeting{}, err
	}
	return m, nil
}

// Reschedule changes a scheduled meeting's title, day, time, length and
// place (in.BodyID is ignored).
func (s *Service) Reschedule(ctx context.Context, p *access.Principal, id int64, in MeetingInput) (Meeting, error) {
	var m Meeting
	err := s.scopedTx(ctx, func(ctx context.Context) error {
		old, err := s.managedMeeting(ctx, p, id)
		if err != nil {
			return err
		}
		var es field.Errors
		if old.State != MeetingScheduled {
			es.Add("state", "not_scheduled")
			return es
		}
		m = old
		checkMeeting(&es, in, &m)
		if err := es.Err(); err != nil {
			return err
		}
		m.UpdatedAt = s.now().UnixMilli()
		if err := updateMeetingSchedule(ctx, s.DB, m); err != nil {
			return err
		}
		var ch []audit.Change
		for _, c := range []audit.Change{{Field: "title", Before: old.Title, After: m.Title}, {Field: "day", Before: old.Day, After: m.Day},
			{Field: "start", Before: old.StartTime, After: m.StartTime}, {Field: "length", Before: old.MinutesLen, After: m.MinutesLen},
			{Field: "place", Before: old.Place, After: m.Place}} {
			if c.Before != c.After {
				ch = append(ch, c)
			}
		}
		return s.Audit.Write(ctx, audit.Entry{Action: audit.Update, Entity: "gov_meeting", EntityID: strconv.FormatInt(m.ID, 10),
			Division: m.Division, Changes: ch})
	})
	if err != nil {
		return Meeting{}, err
	}
	return s.withAgenda(ctx, m)
}

// Cancel cancels a scheduled meeting (a held one cannot be).
func (s *Service) Cancel(ctx context.Context, p *access.Principal, id int64) (Meeting, error) {
	var m Meeting
	err := s.scopedTx(ctx, func(ctx context.Context) error {
		var err error
		if m, err = s.managedMeeting(ctx, p, id); err != nil {
			return err
		}
		if m.State != MeetingScheduled {
			return field.Errors{{Field: "state", Code: "not_scheduled"}}
		}
		m.State, m.UpdatedAt = MeetingCancelled, s.now().UnixMilli()
		if err := setMeetingState(ctx, s.DB, m); err != nil {
			return err
		}
		return s.Audit.Write(ctx, audit.Entry{Action: audit.Update, Entity: "gov_meeting", EntityID: strconv.FormatInt(m.ID, 10),
			Division: m.Division, Changes: []audit.Change{{Field: "state", Before: MeetingScheduled, After: MeetingCancelled}}})
	})
	if err != nil {
		return Meeting{}, err
	}
	return s.withAgenda(ctx, m)
}

// meetingByID returns a meeting (BodyKind and BodyName filled, without its
// agenda) without a scope check, for the other parts.
func (s *Service) meetingByID(ctx context.Context, id int64) (Meeting, error) {
	return meetingRow(ctx, s.DB, id, false)
}

// agendaByID returns an agenda item without a scope check.
func (s *Service) agendaByID(ctx context.Context, id int64) (AgendaItem, error) {
	return agendaRow(ctx, s.DB, id, false)
}

// managedMeeting reads a meeting for a change inside a transaction
// (locked on PostgreSQL): a scopeDenied outside p's view (see scopedTx),
// ErrForbidden without governance.manage.
func (s *Service) managedMeeting(ctx context.Context, p *access.Principal, id int64) (Meeting, error) {
	m, err := meetingRow(ctx, s.DB, id, true)
	if err != nil {
		return m, err
	}
	if !p.CanAt(PermView, m.Division) {
		return Meeting{}, &scopeDenied{"gov_meeting", m.ID, m.Division}
	}
	if !p.CanAt(PermManage, m.Division) {
		return Meeting{}, ErrForbidden
	}
	return m, nil
}

// GetMeeting returns a meeting the principal may see with its agenda.
func (s *Service) GetMeeting(ctx context.Context, p *access.Principal, id int64) (Meeting, error) {
	m, err := s.meetingByID(ctx, id)
	if err != nil {
		return m, err
	}
	if !p.CanAt(PermView, m.Division) {
		s.deny(ctx, "gov_meeting", m.ID, m.Division)
		return Meeting{}, db.ErrNotFound
	}
	return s.withAgenda(ctx, m)
}

func (s *Service) withAgenda(ctx context.Context, m Meeting) (Meeting, error) {
	var err error
	m.Agenda, err = agendaOf(ctx, s.DB, m.ID)
	return m, err
}

// MeetingFilter selects meetings.
type MeetingFilter struct {
	Unit     int64 // a subtree (0: the principal's whole scope)
	BodyID   int64
	From, To int    // days (0: open)
	State    string // "" any
	Desc     bool   // newest first
	Limit    int    // default 50, at most 500
	Offset   int
}

// Meetings lists the meetings the principal may see.
func (s *Service) Meetings(ctx context.Context, p *access.Principal, f MeetingFilter) ([]Meeting, bool, error) {
	if f.Limit <= 0 || f.Limit > 500 {
		f.Limit = 50
	}
	scope, args := p.Where(PermView, "m.division")
	where := []string{scope}
	if f.Unit != 0 {
		lo, hi := ids.Subtree(f.Unit)
		where = append(where, "m.division >= ? AND m.division <= ?")
		args = append(args, lo, hi)
	}
	if f.BodyID != 0 {
		where = append(where, "m.body_id = ?")
		args = append(args, f.BodyID)
	}
	if f.From != 0 {
		where = append(where, "m.day >= ?")
		args = append(args, f.From)
	}
	if f.To != 0 {
		where = append(where, "m.day <= ?")
		args = append(args, f.To)
	}
	if f.State != "" {
		where = append(where, "m.state = ?")
		args = append(args, f.State)
	}
	order := "m.day, m.start_time, m.id"
	if f.Desc {
		order = "m.day DESC, m.start_time DESC, m.id DESC"
	}
	ms, err := meetingsWhere(ctx, s.DB, strings.Join(where, " AND ")+" ORDER BY "+order+" LIMIT ? OFFSET ?",
		append(args, f.Limit+1, f.Offset)...)
	if err != nil {
		return nil, false, err
	}
	more := len(ms) > f.Limit
	if more {
		ms = ms[:f.Limit]
	}
	return ms, more, nil
}

// PublicMeetings lists the meetings of a village's public bodies between
// two days (0: open), not cancelled, oldest first.
func (s *Service) PublicMeetings(ctx context.Context, village int64, fromDay, toDay int) ([]Meeting, error) {
	where := "m.division = ? AND m.public = 1 AND m.state <> ?"
	args := []any{village, MeetingCancelled}
	if fromDay != 0 {
		where += " AND m.day >= ?"
		args = append(args, fromDay)
	}
	if toDay != 0 {
		where += " AND m.day <= ?"
		args = append(args, toDay)
	}
	return meetingsWhere(ctx, s.DB, where+" ORDER BY m.day, m.start_time, m.id LIMIT 2000", args...)
}

// PublicResolutions lists the decided items (passed or failed) of a
// village's public meetings, newest first (limit ≤ 0: 50).
func (s *Service) PublicResolutions(ctx context.Context, village int64, limit int) ([]Resolution, error) {
	if limit <= 0 || limit > 1000 {
		limit = 50
	}
	return resolutionsOf(ctx, s.DB, village, limit)
}

// AgendaInput is an agenda item as added.
type AgendaInput struct {
	Title    string
	MatterID int64 // the matter the item decides at its current stage (0: none)
}

// AddAgendaItem adds an item to a meeting that is not cancelled. With a
// matter, the matters part checks that its current stage is a meeting
// stage of this body's kind and the item records that stage. Field errors:
// title, matter_id, state.
func (s *Service) AddAgendaItem(ctx context.Context, p *access.Principal, meetingID int64, in AgendaInput) (AgendaItem, error) {
	var a AgendaItem
	err := s.scopedTx(ctx, func(ctx context.Context) error {
		m, err := s.managedMeeting(ctx, p, meetingID)
		if err != nil {
			return err
		}
		var es field.Errors
		if m.State == MeetingCancelled {
			es.Add("state", "cancelled")
			return es
		}
		items, err := agendaOf(ctx, s.DB, m.ID)
		if err != nil {
			return err
		}
		if len(items) >= MaxAgendaItems {
			es.Add("title", "agenda_full", strconv.Itoa(MaxAgendaItems))
		}
		a = AgendaItem{MeetingID: m.ID, Title: strings.TrimSpace(in.Title), MatterID: in.MatterID, Result: ResultPending}
		bodyCheckText(&es, "title", a.Title, MaxMeetingTitleRunes, true)
		if in.MatterID < 0 {
			es.Add("matter_id", "matter_unknown")
		}
		for _, o := range items {
			if in.MatterID > 0 && o.MatterID == in.MatterID && !o.Decided() {
				es.Add("matter_id", "matter_twice")
			}
		}
		if err := es.Err(); err != nil {
			return err
		}
		if a.MatterID > 0 {
			b, err := s.bodyByID(ctx, m.BodyID)
			if err != nil {
				return err
			}
			if a.Stage, err = s.agendaMatter(ctx, m, b, a.MatterID); err != nil {
				var sd *scopeDenied
				if errors.Is(err, db.ErrNotFound) && !errors.As(err, &sd) {
					return field.Errors{{Field: "matter_id", Code: "matter_unknown"}}
				}
				return err
			}
		}
		a.Seq = 1
		if n := len(items); n > 0 {
			a.Seq = items[n-1].Seq + 1
		}
		if err := insertAgenda(ctx, s.DB, &a); err != nil {
			return err
		}
		if err := touchMeeting(ctx, s.DB, m.ID, s.now().UnixMilli()); err != nil {
			return err
		}
		return s.Audit.Write(ctx, audit.Entry{Action: audit.Create, Entity: "gov_agenda", EntityID: strconv.FormatInt(a.ID, 10),
			Division: m.Division, Changes: []audit.Change{{Field: "meeting", After: m.ID}, {Field: "title", After: a.Title},
				{Field: "matter", After: a.MatterID}, {Field: "stage", After: a.Stage}}})
	})
	if err != nil {
		return AgendaItem{}, err
	}
	return a, nil
}

// RemoveAgendaItem removes an item not voted on yet.
func (s *Service) RemoveAgendaItem(ctx context.Context, p *access.Principal, itemID int64) error {
	return s.scopedTx(ctx, func(ctx context.Context) error {
		a, err := agendaRow(ctx, s.DB, itemID, true)
		if err != nil {
			return err
		}
		m, err := s.managedMeeting(ctx, p, a.MeetingID)
		if err != nil {
			return err
		}
		if a.Decided() {
			return field.Errors{{Field: "item", Code: "item_decided"}}
		}
		if err := deleteAgenda(ctx, s.DB, a.ID); err != nil {
			return err
		}
		return s.Audit.Write(ctx, audit.Entry{Action: audit.Delete, Entity: "gov_agenda", EntityID: strconv.FormatInt(a.ID, 10),
			Division: m.Division, Changes: []audit.Change{{Field: "title", Before: a.Title}, {Field: "matter", Before: a.MatterID}}})
	})
}

// AttendanceInput is one member's attendance as recorded.
type AttendanceInput struct {
	MemberID int64
	Status   string // present, proxy, absent
	ProxyID  int64  // proxy: the present member holding it
}

// MeetingMembers returns the members of the meeting's body on its day:
// those the attendance must list.
func (s *Service) MeetingMembers(ctx context.Context, p *access.Principal, meetingID int64) ([]Member, error) {
	m, err := s.GetMeeting(ctx, p, meetingID)
	if err != nil {
		return nil, err
	}
	return s.membersOn(ctx, m.BodyID, m.Day)
}

func (s *Service) membersOn(ctx context.Context, bodyID int64, day int) ([]Member, error) {
	all, err := membersOf(ctx, s.DB, []int64{bodyID}, day)
	if err != nil {
		return nil, err
	}
	var out []Member
	for _, m := range all[bodyID] {
		if m.On(day) {
			out = append(out, m)
		}
	}
	return out, nil
}

// Attendance returns a meeting's recorded attendance, by the members'
// appointment order (empty before it is recorded).
func (s *Service) Attendance(ctx context.Context, p *access.Principal, meetingID int64) ([]Attendance, error) {
	if _, err := s.GetMeeting(ctx, p, meetingID); err != nil {
		return nil, err
	}
	return attendanceOf(ctx, s.DB, meetingID)
}

// RecordAttendance records who attended a meeting: one row per member of
// the body on the meeting's day, no more, no less. A proxy is held by a
// member present in person, only where the body's kind allows proxies
// (proxy_limit > 0) and at most proxy_limit per trustee. It fixes the
// meeting's members and present (in person and by proxy) and marks it held
// (counted in MetricMeetings the first time). It may be recorded again
// until the first item is voted on. Field errors: state, day,
// attendance (missing or extra members), attendance[i].status,
// attendance[i].proxy_id.
func (s *Service) RecordAttendance(ctx context.Context, p *access.Principal, meetingID int64, in []AttendanceInput) (Meeting, error) {
	var m Meeting
	err := s.scopedTx(ctx, func(ctx context.Context) error {
		var err error
		if m, err = s.managedMeeting(ctx, p, meetingID); err != nil {
			return err
		}
		var es field.Errors
		switch {
		case m.State == MeetingCancelled:
			es.Add("state", "cancelled")
		case m.Day > s.Today():
			es.Add("day", "not_yet")
		}
		if err := es.Err(); err != nil {
			return err
		}
		items, err := agendaOf(ctx, s.DB, m.ID)
		if err != nil {
			return err
		}
		if slices.ContainsFunc(items, AgendaItem.Decided) {
			return field.Errors{{Field: "state", Code: "votes_recorded"}}
		}
		b, err := s.bodyByID(ctx, m.BodyID)
		if err != nil {
			return err
		}
		kind, _ := s.BodyKind(b)
		members, err := s.membersOn(ctx, m.BodyID, m.Day)
		if err != nil {
			return err
		}
		rows, present, err := checkAttendance(kind, members, in)
		if err != nil {
			return err
		}
		before := m
		m.Members, m.Present, m.UpdatedAt = len(members), present, s.now().UnixMilli()
		first := m.State == MeetingScheduled
		m.State = MeetingHeld
		if err := replaceAttendance(ctx, s.DB, m.ID, rows); err != nil {
			return err
		}
		if err := setMeetingAttendance(ctx, s.DB, m); err != nil {
			return err
		}
		if first {
			per := period(m.Day)
			if err := facts.AddAll(ctx, s.DB, []facts.Delta{{Division: m.Division, Period: per, Metric: MetricMeetings, N: 1},
				{Division: m.Division, Period: per, Metric: MetricMeetings + ".body." + m.BodyKind, N: 1}}); err != nil {
				return err
			}
		}
		quorum := kind.Quorum.Met(m.Present, m.Members)
		return s.Audit.Write(ctx, audit.Entry{Action: audit.Update, Entity: "gov_meeting", EntityID: strconv.FormatInt(m.ID, 10),
			Division: m.Division, Changes: []audit.Change{{Field: "state", Before: before.State, After: m.State},
				{Field: "members", Before: before.Members, After: m.Members}, {Field: "present", Before: before.Present, After: m.Present},
				{Field: "quorum", After: quorum}}})
	})
	if err != nil {
		return Meeting{}, err
	}
	return s.withAgenda(ctx, m)
}

// checkAttendance checks an attendance against the members on the day and
// the kind's proxy rule; it returns the rows and how many are present in
// person or by proxy.
func checkAttendance(kind policy.BodyKind, members []Member, in []AttendanceInput) ([]Attendance, int, error) {
	var es field.Errors
	byID := map[int64]Member{}
	for _, mb := range members {
		byID[mb.ID] = mb
	}
	status := map[int64]string{}
	for i, a := range in {
		f := "attendance[" + strconv.Itoa(i) + "]"
		if _, ok := byID[a.MemberID]; !ok {
			es.Add(f+".member_id", "not_member")
			continue
		}
		if _, dup := status[a.MemberID]; dup {
			es.Add(f+".member_id", "member_twice")
			continue
		}
		if !slices.Contains(AttendStatuses, a.Status) {
			es.Add(f+".status", "status_invalid")
		}
		status[a.MemberID] = a.Status
	}
	for _, mb := range members {
		if _, ok := status[mb.ID]; !ok {
			es.Add("attendance", "member_missing", mb.Name)
		}
	}
	held := map[int64]int{}
	present := 0
	rows := make([]Attendance, 0, len(in))
	for i, a := range in {
		f := "attendance[" + strconv.Itoa(i) + "]"
		if _, ok := byID[a.MemberID]; !ok {
			continue
		}
		row := Attendance{MemberID: a.MemberID, Status: a.Status}
		switch a.Status {
		case AttendPresent:
			present++
		case AttendProxy:
			switch {
			case kind.ProxyLimit <= 0:
				es.Add(f+".status", "proxy_not_allowed")
			case a.ProxyID == a.MemberID:
				es.Add(f+".proxy_id", "proxy_self")
			case byID[a.ProxyID].ID == 0:
				es.Add(f+".proxy_id", "proxy_not_member")
			case status[a.ProxyID] != AttendPresent:
				es.Add(f+".proxy_id", "proxy_not_present")
			default:
				held[a.ProxyID]++
				if held[a.ProxyID] > kind.ProxyLimit {
					es.Add(f+".proxy_id", "proxy_over_limit", strconv.Itoa(kind.ProxyLimit))
				}
				row.ProxyID = a.ProxyID
				present++
			}
		}
		rows = append(rows, row)
	}
	if err := es.Err(); err != nil {
		return nil, 0, err
	}
	return rows, present, nil
}

// VoteInput is the vote on an agenda item: a roll call (Votes: each
// member present in person votes; a member represented by proxy is voted
// for by the trustee) or counted hands (Counted with For, Against and
// Abstain). Members who do not vote count toward none.
type VoteInput struct {
	Counted               bool
	For, Against, Abstain int
	Votes                 []MemberVote
	Resolution            string // the resolution's text (optional; may be set later)
}

// MemberVote is one member's choice in a roll call.
type MemberVote struct {
	MemberID int64
	Choice   string // for, against, abstain
}

// RecordVote records the vote on a pending item of a held meeting and
// computes its result from the meeting's attendance and the votes (Decide
// under the body kind's quorum and majority). Everything — the votes, the
// item's result, the audit entry and, for an item deciding a matter, the
// matter's move — commits together or not at all. A meeting without its
// quorum records ResultNoQuorum on the first item voted and refuses every
// later vote. Field errors: state, item, meeting (no_quorum),
// votes[i].member_id (not_member, not_present, duplicate_vote),
// votes[i].choice, for/against/abstain, and the tally's codes
// (votes_over_present, …; *TallyError inside a field.Error with field
// "votes").
func (s *Service) RecordVote(ctx context.Context, p *access.Principal, itemID int64, in VoteInput) (AgendaItem, Outcome, error) {
	var a AgendaItem
	var o Outcome
	err := s.scopedTx(ctx, func(ctx context.Context) error {
		var err error
		if a, err = agendaRow(ctx, s.DB, itemID, true); err != nil {
			return err
		}
		m, err := s.managedMeeting(ctx, p, a.MeetingID)
		if err != nil {
			return err
		}
		var es field.Errors
		switch {
		case m.State != MeetingHeld:
			es.Add("state", "not_held")
		case a.Decided():
			es.Add("item", "item_decided")
		}
		if err := es.Err(); err != nil {
			return err
		}
		items, err := agendaOf(ctx, s.DB, m.ID)
		if err != nil {
			return err
		}
		if slices.ContainsFunc(items, func(x AgendaItem) bool { return x.Result == ResultNoQuorum }) {
			return field.Errors{{Field: "meeting", Code: ResultNoQuorum}}
		}
		b, err := s.bodyByID(ctx, m.BodyID)
		if err != nil {
			return err
		}
		kind, ok := s.BodyKind(b)
		if !ok {
			return field.Errors{{Field: "meeting", Code: "kind_unknown"}}
		}
		a.Resolution = strings.TrimSpace(in.Resolution)
		bodyCheckText(&es, "resolution", a.Resolution, MaxResolutionRunes, false)
		t := Tally{Members: m.Members, Present: m.Present}
		quorum := kind.Quorum.Met(m.Present, m.Members)
		var votes []Vote
		switch {
		case !quorum:
			// nothing may be resolved: the item records the lack of quorum
			// and no votes
		case in.Counted:
			t.For, t.Against, t.Abstain = in.For, in.Against, in.Abstain
			a.Counted = true
		default:
			if votes, err = s.rollCall(ctx, m, a, in.Votes, &es); err != nil {
				return err
			}
			for _, v := range votes {
				switch v.Choice {
				case For:
					t.For++
				case Against:
					t.Against++
				case Abstain:
					t.Abstain++
				}
			}
		}
		if err := es.Err(); err != nil {
			return err
		}
		for i, v := range votes {
			if err := insertVote(ctx, s.DB, v); err != nil {
				if isUniqueViolation(err) {
					return field.Errors{{Field: "votes[" + strconv.Itoa(i) + "].member_id", Code: "duplicate_vote"}}
				}
				return err
			}
		}
		if o, err = Decide(kind, t); err != nil {
			var te *TallyError
			if errors.As(err, &te) {
				return field.Errors{{Field: "votes", Code: te.Code}}
			}
			return err
		}
		a.Result, a.For, a.Against, a.Abstain, a.DecidedDay = o.Result, t.For, t.Against, t.Abstain, m.Day
		if err := setAgendaResult(ctx, s.DB, a); err != nil {
			return err
		}
		if err := touchMeeting(ctx, s.DB, m.ID, s.now().UnixMilli()); err != nil {
			return err
		}
		if err := s.Audit.Write(ctx, audit.Entry{Action: audit.Update, Entity: "gov_agenda", EntityID: strconv.FormatInt(a.ID, 10),
			Division: m.Division, Changes: []audit.Change{{Field: "result", Before: ResultPending, After: a.Result},
				{Field: "members", After: t.Members}, {Field: "present", After: t.Present}, {Field: "for", After: t.For},
				{Field: "against", After: t.Against}, {Field: "abstain", After: t.Abstain}, {Field: "counted", After: a.Counted},
				{Field: "matter", After: a.MatterID}}}); err != nil {
			return err
		}
		if a.MatterID != 0 {
			return s.matterVoted(ctx, m, a, o)
		}
		return nil
	})
	if err != nil {
		return AgendaItem{}, Outcome{}, err
	}
	return a, o, nil
}

// rollCall checks a roll call against the attendance: every voter is a
// member present in person or represented by proxy (whose vote the
// trustee casts: ByProxy). A member named twice is left to the votes'
// primary key, which refuses the second row.
func (s *Service) rollCall(ctx context.Context, m Meeting, a AgendaItem, in []MemberVote, es *field.Errors) ([]Vote, error) {
	att, err := attendanceOf(ctx, s.DB, m.ID)
	if err != nil {
		return nil, err
	}
	status := map[int64]string{}
	for _, x := range att {
		status[x.MemberID] = x.Status
	}
	if len(in) == 0 {
		es.Add("votes", "no_votes")
	}
	out := make([]Vote, 0, len(in))
	for i, v := range in {
		f := "votes[" + strconv.Itoa(i) + "]"
		st, ok := status[v.MemberID]
		switch {
		case !ok:
			es.Add(f+".member_id", "not_member")
			continue
		case st == AttendAbsent:
			es.Add(f+".member_id", "not_present")
			continue
		}
		if !slices.Contains(Choices, v.Choice) {
			es.Add(f+".choice", "choice_invalid")
			continue
		}
		out = append(out, Vote{AgendaID: a.ID, MemberID: v.MemberID, Choice: v.Choice, ByProxy: st == AttendProxy})
	}
	return out, nil
}

// Votes returns the roll-call votes of an item the principal may see.
func (s *Service) Votes(ctx context.Context, p *access.Principal, itemID int64) ([]Vote, error) {
	a, err := s.agendaByID(ctx, itemID)
	if err != nil {
		return nil, err
	}
	if _, err := s.GetMeeting(ctx, p, a.MeetingID); err != nil {
		return nil, err
	}
	return votesOf(ctx, s.DB, itemID)
}

// SetResolution sets the text of a decided item's resolution.
func (s *Service) SetResolution(ctx context.Context, p *access.Principal, itemID int64, text string) (AgendaItem, error) {
	var a AgendaItem
	err := s.scopedTx(ctx, func(ctx context.Context) error {
		var err error
		if a, err = agendaRow(ctx, s.DB, itemID, true); err != nil {
			return err
		}
		m, err := s.managedMeeting(ctx, p, a.MeetingID)
		if err != nil {
			return err
		}
		var es field.Errors
		text = strings.TrimSpace(text)
		if !a.Decided() {
			es.Add("item", "item_pending")
		}
		bodyCheckText(&es, "resolution", text, MaxResolutionRunes, false)
		if err := es.Err(); err != nil {
			return err
		}
		before := a.Resolution
		a.Resolution = text
		if err := setAgendaResolution(ctx, s.DB, a.ID, text); err != nil {
			return err
		}
		return s.Audit.Write(ctx, audit.Entry{Action: audit.Update, Entity: "gov_agenda", EntityID: strconv.FormatInt(a.ID, 10),
			Division: m.Division, Changes: []audit.Change{{Field: "resolution", Before: before, After: text}}})
	})
	if err != nil {
		return AgendaItem{}, err
	}
	return a, nil
}

// SetMinutes sets the minutes of a held meeting.
func (s *Service) SetMinutes(ctx context.Context, p *access.Principal, meetingID int64, text string) (Meeting, error) {
	var m Meeting
	err := s.scopedTx(ctx, func(ctx context.Context) error {
		var err error
		if m, err = s.managedMeeting(ctx, p, meetingID); err != nil {
			return err
		}
		var es field.Errors
		text = strings.TrimSpace(text)
		if m.State != MeetingHeld {
			es.Add("state", "not_held")
		}
		bodyCheckText(&es, "minutes", text, MaxMinutesRunes, false)
		if err := es.Err(); err != nil {
			return err
		}
		before := m.Minutes
		m.Minutes, m.UpdatedAt = text, s.now().UnixMilli()
		if err := setMeetingMinutes(ctx, s.DB, m); err != nil {
			return err
		}
		return s.Audit.Write(ctx, audit.Entry{Action: audit.Update, Entity: "gov_meeting", EntityID: strconv.FormatInt(m.ID, 10),
			Division: m.Division, Changes: []audit.Change{{Field: "minutes", Before: len([]rune(before)), After: len([]rune(text))}}})
	})
	if err != nil {
		return Meeting{}, err
	}
	return s.withAgenda(ctx, m)
}

// Outcome recomputes the figures of a decided item of m (the need for a
// quorum and a majority), for pages: ok is false for a pending item or a
// kind the pack no longer has.
func (s *Service) Outcome(m Meeting, a AgendaItem) (Outcome, bool) {
	if !a.Decided() || m.Members <= 0 {
		return Outcome{}, false
	}
	kind, ok := s.Rules(m.Division).Body(m.BodyKind)
	if !ok {
		return Outcome{}, false
	}
	o, err := Decide(kind, Tally{Members: m.Members, Present: m.Present, For: a.For, Against: a.Against, Abstain: a.Abstain})
	return o, err == nil
}

// Quorum tells whether a held meeting has its quorum and the smallest
// attendance that makes one (ok false before the attendance is recorded).
func (s *Service) Quorum(m Meeting) (met bool, need int, ok bool) {
	kind, found := s.Rules(m.Division).Body(m.BodyKind)
	if !found || m.Members <= 0 {
		return false, 0, false
	}
	return kind.Quorum.Met(m.Present, m.Members), kind.Quorum.Need(m.Members), true
}

// Upcoming lists the scheduled meetings from today on in a subtree the
// principal sees, soonest first.
func (s *Service) Upcoming(ctx context.Context, p *access.Principal, unit int64, limit int) ([]Meeting, error) {
	ms, _, err := s.Meetings(ctx, p, MeetingFilter{Unit: unit, From: s.Today(), State: MeetingScheduled, Limit: limit})
	return ms, err
}
