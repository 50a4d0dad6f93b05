package api

import (
	"context"
	"errors"
	"net/http"
	"slices"
	"strconv"
	"strings"

	"github.com/danielgtaylor/huma/v2"

	"github.com/shequ-platform/shequ/internal/governance"
	"github.com/shequ-platform/shequ/internal/platform/access"
	"github.com/shequ-platform/shequ/internal/platform/calendar"
	"github.com/shequ-platform/shequ/internal/platform/db"
	"github.com/shequ-platform/shequ/internal/platform/field"
	"github.com/shequ-platform/shequ/internal/platform/policy"
)

// Bodies and meetings of self-governance (村(居)民自治): the bodies of a
// village with their members and the pack's rules checked, meetings with
// their agenda, attendance (with proxies), votes and resolutions. A vote's
// result is computed from the recorded attendance and votes, never sent.

// GovBody is one term of a body of a village.
type GovBody struct {
	ID           int64        `json:"id"`
	Unit         string       `json:"unit" doc:"15-digit code of the village" example:"320205001001000"`
	Kind         string       `json:"kind" doc:"A body kind of the village's policy pack" example:"committee"`
	KindName     string       `json:"kind_name" example:"社区居民委员会"`
	Name         string       `json:"name" example:"门楼社区居民委员会"`
	TermStart    string       `json:"term_start" format:"date"`
	TermEnd      string       `json:"term_end,omitempty" format:"date" doc:"Absent: open-ended"`
	Current      bool         `json:"current" doc:"In office: the term has not ended, or members still serve"`
	PartyMembers int          `json:"party_members,omitempty" doc:"Party organisations: the party members counted for DG-2's form"`
	Note         string       `json:"note,omitempty"`
	Members      []GovMember  `json:"members" nullable:"false" doc:"Current members"`
	Warnings     []GovWarning `json:"warnings" nullable:"false" doc:"Rules of the pack the body does not meet (current bodies)"`
	LastMeeting  string       `json:"last_meeting,omitempty" format:"date" doc:"The last meeting held"`
	NextDue      string       `json:"next_meeting_due,omitempty" format:"date" doc:"The day by which the pack's cadence wants the next meeting"`
	CreatedBy    string       `json:"created_by"`
	CreatedAt    string       `json:"created_at" format:"date-time"`
	UpdatedAt    string       `json:"updated_at" format:"date-time"`
}

// GovMember is a member of a body, drawn from the registry.
type GovMember struct {
	ID         int64  `json:"id"`
	ResidentID int64  `json:"resident_id"`
	Name       string `json:"name"`
	Gender     string `json:"gender,omitempty" enum:"M,F"`
	Residency  string `json:"residency,omitempty" enum:"registered,non_registered,migrant"`
	Party      bool   `json:"party_member"`
	Post       string `json:"post" example:"director"`
	PostName   string `json:"post_name" example:"主任"`
	Since      string `json:"since" format:"date"`
	Until      string `json:"until,omitempty" format:"date" doc:"The last day of the membership"`
}

// GovWarning is a rule of the pack a body does not meet.
type GovWarning struct {
	Code    string   `json:"code" enum:"size_small,size_large,no_chair,chair_from,chair_from_none,party_form,non_local,women,term_expired,cadence"`
	Message string   `json:"message" example:"现有成员 2 人，少于规定的 3 人"`
	Seeds   []string `json:"seeds,omitempty" doc:"The seed rules it comes from" example:"[\"SX-1\"]"`
}

func (s *server) toGovBody(st governance.BodyStatus) GovBody {
	b := st.Body
	loc := policy.DefaultLocale
	out := GovBody{ID: b.ID, Unit: codeString(b.Division), Kind: b.Kind, KindName: s.Governance.KindLabel(b.Division, b.Kind, loc),
		Name: b.Name, TermStart: calendar.FormatDay(b.TermStart), TermEnd: calendar.FormatDay(b.TermEnd), Current: b.Current,
		PartyMembers: b.PartyMembers, Note: b.Note, Members: []GovMember{}, Warnings: []GovWarning{},
		LastMeeting: calendar.FormatDay(st.LastHeld), NextDue: calendar.FormatDay(st.NextDue), CreatedBy: b.CreatedBy,
		CreatedAt: timeString(b.CreatedAt), UpdatedAt: timeString(b.UpdatedAt)}
	for _, m := range b.Members {
		out.Members = append(out.Members, s.toGovMember(b, m))
	}
	for _, w := range st.Warnings {
		out.Warnings = append(out.Warnings, GovWarning{Code: w.Code, Message: w.Text(loc), Seeds: w.Seeds})
	}
	return out
}

func (s *server) toGovMember(b governance.Body, m governance.Member) GovMember {
	return GovMember{ID: m.ID, ResidentID: m.ResidentID, Name: m.Name, Gender: m.Gender, Residency: m.Residency, Party: m.Party,
		Post: m.Post, PostName: s.Governance.PostLabel(b.Division, b.Kind, m.Post, policy.DefaultLocale),
		Since: calendar.FormatDay(m.SinceDay), Until: calendar.FormatDay(m.UntilDay)}
}

// govError translates the errors of bodies and meetings: invalid input is
// 422 with the first field and code (the message lists every problem); a
// step the matter's procedure refuses (an agenda item or a vote deciding a
// matter) 409 with the procedure's code; a record seen but not to be
// changed 403.
func (s *server) govError(err error) error {
	var es field.Errors
	var pe *governance.ProcedureError
	switch {
	case err == nil:
		return nil
	case errors.As(err, &es) && len(es) > 0:
		parts := make([]string, len(es))
		for i, e := range es {
			parts[i] = e.Field + ": " + e.Code
			if e.Arg != "" {
				parts[i] += " (" + e.Arg + ")"
			}
		}
		return invalid(es[0].Field, es[0].Code, strings.Join(parts, "; "))
	case errors.As(err, &pe):
		return s.matterError(err)
	case errors.Is(err, governance.ErrForbidden):
		return forbidden("not permitted to do this here")
	case errors.Is(err, db.ErrNotFound):
		return notFound()
	}
	return err
}

type bodiesIn struct {
	Unit string `query:"unit" required:"true" pattern:"^([0-9]{12}|[0-9]{15})$" doc:"The village (inside the caller's governance.view scope)" example:"320205001001"`
	All  bool   `query:"all" doc:"Past terms too"`
}

// GovBodyList is a village's bodies.
type GovBodyList struct {
	Items []GovBody `json:"items" nullable:"false"`
}

type bodiesOut struct{ Body GovBodyList }

type bodyPath struct {
	ID int64 `path:"id" minimum:"1"`
}

type bodyOut struct{ Body GovBody }

type createdBodyOut struct {
	Location string `header:"Location"`
	Body     GovBody
}

// NewGovBody is a body recorded at a village for a term.
type NewGovBody struct {
	Unit         string `json:"unit" pattern:"^([0-9]{12}|[0-9]{15})$" doc:"The village (a grid stands for its village); the caller needs governance.manage there" example:"320205001001"`
	Kind         string `json:"kind" maxLength:"64" doc:"A body kind of the village's policy pack" example:"committee"`
	Name         string `json:"name,omitempty" maxLength:"400" doc:"Default: the village's name and the kind's label"`
	TermStart    string `json:"term_start,omitempty" format:"date" doc:"Default today"`
	TermEnd      string `json:"term_end,omitempty" format:"date" doc:"Default from the kind's term_years (open-ended without)"`
	PartyMembers int    `json:"party_members,omitempty" minimum:"0" maximum:"100000"`
	Note         string `json:"note,omitempty" maxLength:"8000"`
}

type createBodyIn struct{ Body NewGovBody }

// NewGovMember appoints a resident of the body's village.
type NewGovMember struct {
	ResidentID int64  `json:"resident_id" minimum:"1" doc:"A present resident of the body's village the caller sees"`
	Post       string `json:"post,omitempty" maxLength:"64" doc:"A post of the body's kind (default its last, the plain member)"`
	Since      string `json:"since,omitempty" format:"date" doc:"Default today (or the term's start)"`
}

type appointIn struct {
	ID   int64 `path:"id" minimum:"1"`
	Body NewGovMember
}

type memberOut struct{ Body GovMember }

// GovMemberEnd ends a membership.
type GovMemberEnd struct {
	Until string `json:"until,omitempty" format:"date" doc:"The last day of the membership (default today)"`
}

type endMemberIn struct {
	ID     int64 `path:"id" minimum:"1"`
	Member int64 `path:"member" minimum:"1"`
	Body   GovMemberEnd
}

// GovTerm starts a body's new term.
type GovTerm struct {
	Start string `json:"term_start,omitempty" format:"date" doc:"Default today"`
	End   string `json:"term_end,omitempty" format:"date" doc:"Default from the kind's term_years"`
	Name  string `json:"name,omitempty" maxLength:"400" doc:"Default the current name"`
	Keep  bool   `json:"keep_members,omitempty" doc:"The current members carry over"`
}

type newTermIn struct {
	ID   int64 `path:"id" minimum:"1"`
	Body GovTerm
}

// GovMeeting is a meeting of a body.
type GovMeeting struct {
	ID         int64           `json:"id"`
	BodyID     int64           `json:"body_id"`
	BodyName   string          `json:"body_name"`
	BodyKind   string          `json:"body_kind"`
	Unit       string          `json:"unit" doc:"15-digit code of the village"`
	Title      string          `json:"title"`
	Day        string          `json:"day" format:"date"`
	Start      string          `json:"start,omitempty" example:"19:30"`
	Length     int             `json:"length" doc:"Planned length in minutes"`
	Place      string          `json:"place,omitempty"`
	State      string          `json:"state" enum:"scheduled,held,cancelled"`
	Public     bool            `json:"public" doc:"Shown on the village's public portal and calendar"`
	Members    int             `json:"members" doc:"Members of the body on the day (the quorum's base), fixed with the attendance"`
	Present    int             `json:"present" doc:"Present in person or by proxy"`
	Quorum     *GovQuorum      `json:"quorum,omitempty" doc:"Once the attendance is recorded"`
	Minutes    string          `json:"minutes,omitempty"`
	Agenda     []GovAgendaItem `json:"agenda" nullable:"false"`
	Attendance []GovAttendance `json:"attendance,omitempty" doc:"GET only, once recorded"`
	CreatedBy  string          `json:"created_by"`
	UpdatedAt  string          `json:"updated_at" format:"date-time"`
}

// GovQuorum is whether a meeting had its quorum.
type GovQuorum struct {
	Met  bool `json:"met"`
	Need int  `json:"need" doc:"The smallest attendance that makes a quorum"`
}

// GovAgendaItem is an item on a meeting's agenda.
type GovAgendaItem struct {
	ID         int64       `json:"id"`
	Seq        int         `json:"seq"`
	Title      string      `json:"title"`
	MatterID   int64       `json:"matter_id,omitempty" doc:"The matter the item decides"`
	Stage      string      `json:"stage,omitempty" doc:"The matter's stage it decides"`
	Result     string      `json:"result" enum:"pending,passed,failed,no_quorum"`
	For        int         `json:"for"`
	Against    int         `json:"against"`
	Abstain    int         `json:"abstain"`
	Counted    bool        `json:"counted" doc:"Hands counted rather than a roll call"`
	Resolution string      `json:"resolution,omitempty"`
	DecidedDay string      `json:"decided_day,omitempty" format:"date"`
	Outcome    *GovOutcome `json:"outcome,omitempty" doc:"The figures that decided it"`
}

// GovOutcome is why a vote came out as it did.
type GovOutcome struct {
	Quorum      bool `json:"quorum"`
	NeedPresent int  `json:"need_present" doc:"The smallest attendance that makes a quorum"`
	Base        int  `json:"base" doc:"What the majority is a share of: those present, or all members"`
	NeedFor     int  `json:"need_for" doc:"The fewest votes for that pass"`
}

// GovAttendance is one member's attendance.
type GovAttendance struct {
	MemberID int64  `json:"member_id"`
	Name     string `json:"name"`
	Status   string `json:"status" enum:"present,proxy,absent"`
	ProxyID  int64  `json:"proxy_id,omitempty" doc:"proxy: the present member who holds it"`
}

func (s *server) toGovMeeting(m governance.Meeting, att []governance.Attendance) GovMeeting {
	out := GovMeeting{ID: m.ID, BodyID: m.BodyID, BodyName: m.BodyName, BodyKind: m.BodyKind, Unit: codeString(m.Division), Title: m.Title,
		Day: calendar.FormatDay(m.Day), Start: m.StartTime, Length: m.MinutesLen, Place: m.Place, State: m.State, Public: m.Public,
		Members: m.Members, Present: m.Present, Minutes: m.Minutes, Agenda: []GovAgendaItem{}, CreatedBy: m.CreatedBy,
		UpdatedAt: timeString(m.UpdatedAt)}
	if met, need, ok := s.Governance.Quorum(m); ok && m.State == governance.MeetingHeld {
		out.Quorum = &GovQuorum{Met: met, Need: need}
	}
	for _, a := range m.Agenda {
		out.Agenda = append(out.Agenda, s.toGovItem(m, a))
	}
	for _, a := range att {
		out.Attendance = append(out.Attendance, GovAttendance{MemberID: a.MemberID, Name: a.Name, Status: a.Status, ProxyID: a.ProxyID})
	}
	return out
}

func (s *server) toGovItem(m governance.Meeting, a governance.AgendaItem) GovAgendaItem {
	out := GovAgendaItem{ID: a.ID, Seq: a.Seq, Title: a.Title, MatterID: a.MatterID, Stage: a.Stage, Result: a.Result, For: a.For,
		Against: a.Against, Abstain: a.Abstain, Counted: a.Counted, Resolution: a.Resolution, DecidedDay: calendar.FormatDay(a.DecidedDay)}
	if o, ok := s.Governance.Outcome(m, a); ok {
		out.Outcome = &GovOutcome{Quorum: o.Quorum, NeedPresent: o.NeedPresent, Base: o.Base, NeedFor: o.NeedFor}
	}
	return out
}

type meetingsIn struct {
	Unit   string `query:"unit" pattern:"^(0|[0-9]{6}|[0-9]{9}|[0-9]{12}|[0-9]{15})$" doc:"Only meetings of this subtree (inside the caller's governance.view scope)"`
	BodyID int64  `query:"body" minimum:"0" doc:"Only this body's meetings"`
	From   string `query:"from" format:"date"`
	To     string `query:"to" format:"date"`
	State  string `query:"state" enum:"scheduled,held,cancelled"`
	Limit  int    `query:"limit" default:"50" minimum:"1" maximum:"500"`
	Offset int    `query:"offset" minimum:"0" maximum:"1000000"`
}

// GovMeetingList is one page of meetings, oldest first.
type GovMeetingList struct {
	Items []GovMeeting `json:"items" nullable:"false"`
	More  bool         `json:"more" doc:"More meetings follow: ask again with offset + limit"`
}

type meetingsOut struct{ Body GovMeetingList }

type meetingPath struct {
	ID int64 `path:"id" minimum:"1"`
}

type meetingOut struct{ Body GovMeeting }

type createdMeetingOut struct {
	Location string `header:"Location"`
	Body     GovMeeting
}

// NewGovMeeting schedules a meeting of a current body.
type NewGovMeeting struct {
	BodyID int64  `json:"body_id" minimum:"1"`
	Title  string `json:"title,omitempty" maxLength:"800" doc:"Default the body's name and 会议"`
	Day    string `json:"day" format:"date"`
	Start  string `json:"start,omitempty" maxLength:"5" example:"19:30"`
	Length int    `json:"length,omitempty" minimum:"0" maximum:"1440" doc:"Minutes (default 120)"`
	Place  string `json:"place,omitempty" maxLength:"800"`
}

type scheduleIn struct{ Body NewGovMeeting }

// NewGovAgendaItem is an item added to a meeting's agenda.
type NewGovAgendaItem struct {
	Title    string `json:"title" maxLength:"800"`
	MatterID int64  `json:"matter_id,omitempty" minimum:"0" doc:"The matter the item decides at its current stage (its procedure must be at a meeting stage of this body's kind)"`
}

type agendaIn struct {
	ID   int64 `path:"id" minimum:"1"`
	Body NewGovAgendaItem
}

type itemOut struct{ Body GovAgendaItem }

// GovAttendanceIn is a meeting's attendance: one entry per member of the
// body on the meeting day.
type GovAttendanceIn struct {
	Attendance []GovAttendanceEntry `json:"attendance" maxItems:"2000"`
}

// GovAttendanceEntry is one member's attendance as recorded.
type GovAttendanceEntry struct {
	MemberID int64  `json:"member_id" minimum:"1"`
	Status   string `json:"status" enum:"present,proxy,absent"`
	ProxyID  int64  `json:"proxy_id,omitempty" minimum:"0" doc:"proxy: a member present in person (only where the pack allows proxies, at most its limit per member)"`
}

type attendanceIn struct {
	ID   int64 `path:"id" minimum:"1"`
	Body GovAttendanceIn
}

// GovVoteIn is the vote on an agenda item: a roll call (votes) or counted
// hands (counted with for, against, abstain).
type GovVoteIn struct {
	Counted    bool          `json:"counted,omitempty"`
	For        int           `json:"for,omitempty" minimum:"0"`
	Against    int           `json:"against,omitempty" minimum:"0"`
	Abstain    int           `json:"abstain,omitempty" minimum:"0"`
	Votes      []GovVoteCast `json:"votes,omitempty" maxItems:"2000" doc:"Roll call: members present in person, and members represented by proxy (their trustee casts it)"`
	Resolution string        `json:"resolution,omitempty" maxLength:"40000"`
}

// GovVoteCast is one member's choice.
type GovVoteCast struct {
	MemberID int64  `json:"member_id" minimum:"1"`
	Choice   string `json:"choice" enum:"for,against,abstain"`
}

type voteIn struct {
	ID   int64 `path:"id" minimum:"1"`
	Item int64 `path:"item" minimum:"1"`
	Body GovVoteIn
}

// GovText is a text set on a meeting or an item.
type GovText struct {
	Text string `json:"text" maxLength:"200000"`
}

type minutesIn struct {
	ID   int64 `path:"id" minimum:"1"`
	Body GovText
}

type resolutionIn struct {
	ID   int64 `path:"id" minimum:"1"`
	Item int64 `path:"item" minimum:"1"`
	Body GovText
}

func (s *server) registerBodies(a huma.API) {
	tags := []string{"bodies"}
	changing := []int{http.StatusBadRequest, http.StatusForbidden, http.StatusNotFound, http.StatusRequestEntityTooLarge,
		http.StatusUnprocessableEntity}
	deciding := append(slices.Clone(changing), http.StatusConflict)
	huma.Register(a, op("list-bodies", http.MethodGet, "/bodies", "A village's bodies with their members and the pack's rules checked", tags,
		http.StatusNotFound, http.StatusUnprocessableEntity), s.listBodies)
	huma.Register(a, op("get-body", http.MethodGet, "/bodies/{id}", "A body with its current members, rule warnings and meeting cadence", tags,
		http.StatusNotFound, http.StatusUnprocessableEntity), s.getBody)
	govWrite(a, op("create-body", http.MethodPost, "/bodies", "Record a body of a village for a term", tags, changing...),
		"Needs governance.manage at the village. Refused as 422: kind kind_unknown (not a kind of the village's pack), term_end "+
			"term_order, dates date_invalid. Breaking the pack's rules (size, chair, women's share …) is allowed and reported as warnings.",
		true, s.createBody)
	govWrite(a, op("appoint-member", http.MethodPost, "/bodies/{id}/members", "Appoint a resident to a post of a body", tags, changing...),
		"The resident must live in the body's village (resident_id resident_other_village), be present in the registry and not "+
			"already a member (already_member); the post must be one of the kind (post post_unknown), the chair held once (post_taken).",
		true, s.appointMember)
	govWrite(a, op("end-membership", http.MethodPost, "/bodies/{id}/members/{member}/end", "End a membership", tags, changing...),
		"until is the membership's last day (default today), not before it began.", false, s.endMembership)
	govWrite(a, op("new-term", http.MethodPost, "/bodies/{id}/term", "Start a body's new term", tags, changing...),
		"A new body row of the same kind and village; the current term ends the day before and its members leave then "+
			"(keep_members carries them over).", true, s.newBodyTerm)
	huma.Register(a, op("list-meetings", http.MethodGet, "/meetings", "Meetings in the caller's governance.view scope, by day", tags,
		http.StatusUnprocessableEntity), s.listMeetings)
	huma.Register(a, op("get-meeting", http.MethodGet, "/meetings/{id}", "A meeting with its agenda, outcomes and attendance", tags,
		http.StatusNotFound, http.StatusUnprocessableEntity), s.getMeeting)
	govWrite(a, op("schedule-meeting", http.MethodPost, "/meetings", "Schedule a meeting of a current body", tags, changing...),
		"Public when the body's kind is public. start is HH:MM (time_invalid), length 5–1440 minutes.", true, s.scheduleMeeting)
	govWrite(a, op("cancel-meeting", http.MethodPost, "/meetings/{id}/cancel", "Cancel a scheduled meeting", tags, changing...),
		"A held meeting cannot be cancelled (state not_scheduled).", false, s.cancelMeeting)
	govWrite(a, op("add-agenda-item", http.MethodPost, "/meetings/{id}/agenda", "Add an item to a meeting's agenda", tags, deciding...),
		"With matter_id, the matter's procedure must be at a meeting stage of this body's kind: otherwise 409 with the "+
			"procedure's refusal code.", true, s.addAgendaItem)
	govWrite(a, op("record-attendance", http.MethodPut, "/meetings/{id}/attendance", "Record who attended a meeting", tags, changing...),
		"One entry per member of the body on the meeting day (attendance member_missing, attendance[i].member_id not_member / "+
			"member_twice). A proxy is held by a member present in person (proxy_not_present), only where the pack allows proxies "+
			"(proxy_not_allowed) and at most its limit per member (proxy_over_limit). Marks the meeting held; may be recorded again "+
			"until the first vote (state votes_recorded).", false, s.recordAttendance)
	govWrite(a, op("record-vote", http.MethodPost, "/meetings/{id}/agenda/{item}/votes", "Record the vote on an agenda item", tags, deciding...),
		"The result is computed from the recorded attendance and the votes under the body kind's quorum and majority. A roll call "+
			"lists members present in person or by proxy (votes[i].member_id not_present; a member twice: duplicate_vote); counted "+
			"hands cannot exceed those present (votes votes_over_present). A meeting without its quorum records no_quorum on the first "+
			"item voted and refuses every later vote (meeting no_quorum). Nothing is stored when refused; a vote deciding a matter "+
			"moves it in the same transaction (409 when its procedure refuses).", true, s.recordVote)
	govWrite(a, op("set-minutes", http.MethodPut, "/meetings/{id}/minutes", "Set the minutes of a held meeting", tags, changing...),
		"", false, s.setMinutes)
	govWrite(a, op("set-resolution", http.MethodPut, "/meetings/{id}/agenda/{item}/resolution", "Set the resolution text of a decided item",
		tags, changing...), "", false, s.setResolution)
}

// govWrite registers a changing operation of bodies and meetings with
// its description; created makes 201 its status.
func govWrite[I, O any](a huma.API, o huma.Operation, desc string, created bool, h func(context.Context, *I) (*O, error)) {
	o.MaxBodyBytes = maxBody
	o.Description = desc
	if created {
		o.DefaultStatus = http.StatusCreated
	}
	huma.Register(a, o, h)
}

func (s *server) status(ctx context.Context, p *access.Principal, id int64) (GovBody, error) {
	st, err := s.Governance.Status(ctx, p, id)
	if err != nil {
		return GovBody{}, s.govError(err)
	}
	return s.toGovBody(st), nil
}

func (s *server) listBodies(ctx context.Context, in *bodiesIn) (*bodiesOut, error) {
	if s.Governance == nil {
		return nil, notFound()
	}
	p := access.From(ctx)
	code, err := parseCode(in.Unit)
	if err != nil {
		return nil, invalid("unit", CodeInvalid, err.Error())
	}
	v, ok := governance.VillageOf(code)
	if !ok {
		return nil, invalid("unit", "unit_level", "bodies belong to a village")
	}
	sts, err := s.Governance.Statuses(ctx, p, v)
	if err != nil {
		return nil, s.govError(err)
	}
	out := &bodiesOut{Body: GovBodyList{Items: []GovBody{}}}
	for _, st := range sts {
		out.Body.Items = append(out.Body.Items, s.toGovBody(st))
	}
	if in.All {
		bs, err := s.Governance.Bodies(ctx, p, v, true)
		if err != nil {
			return nil, s.govError(err)
		}
		for _, b := range bs {
			if !b.Current {
				out.Body.Items = append(out.Body.Items, s.toGovBody(governance.BodyStatus{Body: b}))
			}
		}
	}
	return out, nil
}

func (s *server) getBody(ctx context.Context, in *bodyPath) (*bodyOut, error) {
	if s.Governance == nil {
		return nil, notFound()
	}
	b, err := s.status(ctx, access.From(ctx), in.ID)
	if err != nil {
		return nil, err
	}
	return &bodyOut{Body: b}, nil
}

func (s *server) createBody(ctx context.Context, in *createBodyIn) (*createdBodyOut, error) {
	if s.Governance == nil {
		return nil, notFound()
	}
	p := access.From(ctx)
	code, err := parseCode(in.Body.Unit)
	if err != nil {
		return nil, invalid("unit", CodeInvalid, err.Error())
	}
	b := in.Body
	nb, err := s.Governance.CreateBody(ctx, p, governance.BodyInput{Division: code, Kind: b.Kind, Name: b.Name, TermStart: b.TermStart,
		TermEnd: b.TermEnd, PartyMembers: b.PartyMembers, Note: b.Note})
	if err != nil {
		return nil, s.govError(err)
	}
	out, err := s.status(ctx, p, nb.ID)
	if err != nil {
		return nil, err
	}
	return &createdBodyOut{Location: Prefix + "/bodies/" + strconv.FormatInt(nb.ID, 10), Body: out}, nil
}

func (s *server) appointMember(ctx context.Context, in *appointIn) (*memberOut, error) {
	if s.Governance == nil {
		return nil, notFound()
	}
	p := access.From(ctx)
	m, err := s.Governance.AddMember(ctx, p, in.ID, governance.MemberInput{ResidentID: in.Body.ResidentID, Post: in.Body.Post, Since: in.Body.Since})
	if err != nil {
		return nil, s.govError(err)
	}
	b, err := s.Governance.GetBody(ctx, p, in.ID)
	if err != nil {
		return nil, s.govError(err)
	}
	return &memberOut{Body: s.toGovMember(b, m)}, nil
}

func (s *server) endMembership(ctx context.Context, in *endMemberIn) (*memberOut, error) {
	if s.Governance == nil {
		return nil, notFound()
	}
	p := access.From(ctx)
	b, err := s.Governance.GetBody(ctx, p, in.ID)
	if err != nil {
		return nil, s.govError(err)
	}
	all, err := s.Governance.AllMembers(ctx, p, in.ID)
	if err != nil {
		return nil, s.govError(err)
	}
	found := false
	for _, m := range all {
		found = found || m.ID == in.Member
	}
	if !found {
		return nil, notFound()
	}
	m, err := s.Governance.EndMember(ctx, p, in.Member, in.Body.Until)
	if err != nil {
		return nil, s.govError(err)
	}
	return &memberOut{Body: s.toGovMember(b, m)}, nil
}

func (s *server) newBodyTerm(ctx context.Context, in *newTermIn) (*createdBodyOut, error) {
	if s.Governance == nil {
		return nil, notFound()
	}
	p := access.From(ctx)
	b := in.Body
	nb, err := s.Governance.NewTerm(ctx, p, in.ID, governance.TermInput{Start: b.Start, End: b.End, Name: b.Name, Keep: b.Keep})
	if err != nil {
		return nil, s.govError(err)
	}
	out, err := s.status(ctx, p, nb.ID)
	if err != nil {
		return nil, err
	}
	return &createdBodyOut{Location: Prefix + "/bodies/" + strconv.FormatInt(nb.ID, 10), Body: out}, nil
}

func (s *server) listMeetings(ctx context.Context, in *meetingsIn) (*meetingsOut, error) {
	if s.Governance == nil {
		return nil, notFound()
	}
	f := governance.MeetingFilter{BodyID: in.BodyID, State: in.State, Limit: in.Limit, Offset: in.Offset}
	if in.Unit != "" {
		code, err := parseCode(in.Unit)
		if err != nil {
			return nil, invalid("unit", CodeInvalid, err.Error())
		}
		f.Unit = code
	}
	for name, v := range map[string]string{"from": in.From, "to": in.To} {
		if v == "" {
			continue
		}
		d, ok := calendar.ParseDay(v)
		if !ok {
			return nil, invalid(name, CodeInvalid, "not a date")
		}
		if name == "from" {
			f.From = d
		} else {
			f.To = d
		}
	}
	ms, more, err := s.Governance.Meetings(ctx, access.From(ctx), f)
	if err != nil {
		return nil, s.govError(err)
	}
	out := &meetingsOut{Body: GovMeetingList{Items: []GovMeeting{}, More: more}}
	for _, m := range ms {
		out.Body.Items = append(out.Body.Items, s.toGovMeeting(m, nil))
	}
	return out, nil
}

// meetingBody is a meeting as GET answers it, with its attendance.
func (s *server) meetingBody(ctx context.Context, p *access.Principal, id int64) (GovMeeting, error) {
	m, err := s.Governance.GetMeeting(ctx, p, id)
	if err != nil {
		return GovMeeting{}, s.govError(err)
	}
	att, err := s.Governance.Attendance(ctx, p, id)
	if err != nil {
		return GovMeeting{}, s.govError(err)
	}
	return s.toGovMeeting(m, att), nil
}

func (s *server) getMeeting(ctx context.Context, in *meetingPath) (*meetingOut, error) {
	if s.Governance == nil {
		return nil, notFound()
	}
	m, err := s.meetingBody(ctx, access.From(ctx), in.ID)
	if err != nil {
		return nil, err
	}
	return &meetingOut{Body: m}, nil
}

func (s *server) scheduleMeeting(ctx context.Context, in *scheduleIn) (*createdMeetingOut, error) {
	if s.Governance == nil {
		return nil, notFound()
	}
	b := in.Body
	m, err := s.Governance.Schedule(ctx, access.From(ctx), governance.MeetingInput{BodyID: b.BodyID, Title: b.Title, Day: b.Day, Start: b.Start,
		Length: b.Length, Place: b.Place})
	if err != nil {
		return nil, s.govError(err)
	}
	return &createdMeetingOut{Location: Prefix + "/meetings/" + strconv.FormatInt(m.ID, 10), Body: s.toGovMeeting(m, nil)}, nil
}

func (s *server) cancelMeeting(ctx context.Context, in *meetingPath) (*meetingOut, error) {
	if s.Governance == nil {
		return nil, notFound()
	}
	m, err := s.Governance.Cancel(ctx, access.From(ctx), in.ID)
	if err != nil {
		return nil, s.govError(err)
	}
	return &meetingOut{Body: s.toGovMeeting(m, nil)}, nil
}

func (s *server) addAgendaItem(ctx context.Context, in *agendaIn) (*itemOut, error) {
	if s.Governance == nil {
		return nil, notFound()
	}
	p := access.From(ctx)
	a, err := s.Governance.AddAgendaItem(ctx, p, in.ID, governance.AgendaInput{Title: in.Body.Title, MatterID: in.Body.MatterID})
	if err != nil {
		return nil, s.govError(err)
	}
	m, err := s.Governance.GetMeeting(ctx, p, in.ID)
	if err != nil {
		return nil, s.govError(err)
	}
	return &itemOut{Body: s.toGovItem(m, a)}, nil
}

func (s *server) recordAttendance(ctx context.Context, in *attendanceIn) (*meetingOut, error) {
	if s.Governance == nil {
		return nil, notFound()
	}
	p := access.From(ctx)
	rows := make([]governance.AttendanceInput, len(in.Body.Attendance))
	for i, a := range in.Body.Attendance {
		rows[i] = governance.AttendanceInput{MemberID: a.MemberID, Status: a.Status, ProxyID: a.ProxyID}
	}
	if _, err := s.Governance.RecordAttendance(ctx, p, in.ID, rows); err != nil {
		return nil, s.govError(err)
	}
	m, err := s.meetingBody(ctx, p, in.ID)
	if err != nil {
		return nil, err
	}
	return &meetingOut{Body: m}, nil
}

// meetingItem checks that item is on meeting id (db.ErrNotFound else).
func (s *server) meetingItem(ctx context.Context, p *access.Principal, id, item int64) (governance.Meeting, error) {
	m, err := s.Governance.GetMeeting(ctx, p, id)
	if err != nil {
		return m, err
	}
	for _, a := range m.Agenda {
		if a.ID == item {
			return m, nil
		}
	}
	return m, db.ErrNotFound
}

func (s *server) recordVote(ctx context.Context, in *voteIn) (*itemOut, error) {
	if s.Governance == nil {
		return nil, notFound()
	}
	p := access.From(ctx)
	m, err := s.meetingItem(ctx, p, in.ID, in.Item)
	if err != nil {
		return nil, s.govError(err)
	}
	b := in.Body
	vi := governance.VoteInput{Counted: b.Counted, For: b.For, Against: b.Against, Abstain: b.Abstain, Resolution: b.Resolution}
	for _, v := range b.Votes {
		vi.Votes = append(vi.Votes, governance.MemberVote{MemberID: v.MemberID, Choice: v.Choice})
	}
	a, _, err := s.Governance.RecordVote(ctx, p, in.Item, vi)
	if err != nil {
		return nil, s.govError(err)
	}
	return &itemOut{Body: s.toGovItem(m, a)}, nil
}

func (s *server) setMinutes(ctx context.Context, in *minutesIn) (*meetingOut, error) {
	if s.Governance == nil {
		return nil, notFound()
	}
	p := access.From(ctx)
	if _, err := s.Governance.SetMinutes(ctx, p, in.ID, in.Body.Text); err != nil {
		return nil, s.govError(err)
	}
	m, err := s.meetingBody(ctx, p, in.ID)
	if err != nil {
		return nil, err
	}
	return &meetingOut{Body: m}, nil
}

func (s *server) setResolution(ctx context.Context, in *resolutionIn) (*itemOut, error) {
	if s.Governance == nil {
		return nil, notFound()
	}
	p := access.From(ctx)
	m, err := s.meetingItem(ctx, p, in.ID, in.Item)
	if err != nil {
		return nil, s.govError(err)
	}
	a, err := s.Governance.SetResolution(ctx, p, in.Item, in.Body.Text)
	if err != nil {
		return nil, s.govError(err)
	}
	return &itemOut{Body: s.toGovItem(m, a)}, nil
}
