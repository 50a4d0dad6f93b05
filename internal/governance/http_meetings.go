package governance

import (
	"bytes"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"

	"github.com/shequ-platform/shequ/internal/platform/access"
	"github.com/shequ-platform/shequ/internal/platform/calendar"
	"github.com/shequ-platform/shequ/internal/platform/field"
	"github.com/shequ-platform/shequ/internal/platform/i18n"
	"github.com/shequ-platform/shequ/internal/platform/policy"
	"github.com/shequ-platform/shequ/internal/platform/web"
)

// The pages of meetings: the list, scheduling, and the meeting page with
// its agenda, attendance, votes, resolutions and minutes; the iCalendar
// feed of a body.

func (h *HTTP) meetingRoutes(mux *http.ServeMux) {
	mux.HandleFunc("GET /governance/meetings", h.meetings)
	mux.HandleFunc("GET /governance/meetings/new", h.newMeetingForm)
	mux.HandleFunc("POST /governance/meetings/new", h.createMeeting)
	mux.HandleFunc("GET /governance/meetings/{id}", h.meetingPage)
	mux.HandleFunc("POST /governance/meetings/{id}/edit", h.editMeeting)
	mux.HandleFunc("POST /governance/meetings/{id}/cancel", h.cancelMeeting)
	mux.HandleFunc("POST /governance/meetings/{id}/agenda", h.addAgenda)
	mux.HandleFunc("POST /governance/meetings/{id}/agenda/{item}/remove", h.removeAgenda)
	mux.HandleFunc("POST /governance/meetings/{id}/agenda/{item}/vote", h.vote)
	mux.HandleFunc("POST /governance/meetings/{id}/agenda/{item}/resolution", h.resolution)
	mux.HandleFunc("POST /governance/meetings/{id}/attendance", h.attendance)
	mux.HandleFunc("POST /governance/meetings/{id}/minutes", h.minutes)
	mux.HandleFunc("GET /governance/bodies/{id}/calendar.ics", h.bodyCalendar)
}

// ---- the list ----

// meetingViews of the list: upcoming (scheduled from today), past, all.
var meetingListViews = []string{"upcoming", "past", "all"}

type meetingsData struct {
	Locale    string
	Unit      unitLink
	Up        *unitLink
	View      string
	Views     []string
	Meetings  []meetingView
	Page      int
	Prev      string
	Next      string
	CanManage bool
	IsVillage bool
	Flash     string
}

func (h *HTTP) meetings(w http.ResponseWriter, r *http.Request) {
	p, ok := h.viewerOf(w, r)
	if !ok {
		return
	}
	ctx := r.Context()
	q := r.URL.Query()
	unit, ok := h.pickUnit(ctx, p, q.Get("unit"))
	if !ok {
		h.R.Error(w, r, http.StatusNotFound, "")
		return
	}
	d := meetingsData{Locale: i18n.Negotiate(r), Unit: unit, Up: h.parentLink(ctx, p, unit.Code), View: q.Get("view"),
		Views: meetingListViews, CanManage: p.CanAt(PermManage, unit.Code), Flash: doneKey(r)}
	_, d.IsVillage = VillageOf(unit.Code)
	if !slices.Contains(meetingListViews, d.View) {
		d.View = "upcoming"
	}
	d.Page, _ = strconv.Atoi(q.Get("page"))
	d.Page = max(d.Page, 1)
	const size = 50
	f := MeetingFilter{Unit: unit.Code, Limit: size, Offset: (d.Page - 1) * size}
	today := h.S.Today()
	switch d.View {
	case "upcoming":
		f.From = today
	case "past":
		f.To, f.Desc = calendar.AddDays(today, -1), true
	default:
		f.Desc = true
	}
	ms, more, err := h.S.Meetings(ctx, p, f)
	if err != nil {
		h.govFail(w, r, err)
		return
	}
	d.Meetings = h.meetingViews(ctx, d.Locale, ms, !d.IsVillage)
	link := func(page int) string {
		v := url.Values{"unit": {strconv.FormatInt(unit.Code, 10)}, "view": {d.View}}
		if page > 1 {
			v.Set("page", strconv.Itoa(page))
		}
		return "/governance/meetings?" + v.Encode()
	}
	if d.Page > 1 {
		d.Prev = link(d.Page - 1)
	}
	if more {
		d.Next = link(d.Page + 1)
	}
	h.R.Page(w, r, http.StatusOK, "gov_meetings.html", d)
}

// ---- scheduling ----

type bodyOption struct {
	ID   int64
	Name string
}

type newMeetingData struct {
	Locale string
	Bodies []bodyOption
	Body   int64
	V      map[string]string
	Errors govForm
}

// E is the message at a field.
func (d *newMeetingData) E(name string) string { return d.Errors.At[name] }

// manageBodies lists the current bodies of the villages where p may
// manage (at most 300).
func (h *HTTP) manageBodies(r *http.Request, p *access.Principal, locale string) ([]bodyOption, error) {
	var out []bodyOption
	for _, rg := range p.Ranges(PermManage) {
		bs, err := bodiesIn(r.Context(), h.S.DB, rg.Lo, rg.Hi, false, h.S.Today())
		if err != nil {
			return nil, err
		}
		h.S.sortBodies(bs)
		multi := rg.Hi-rg.Lo > 1000 // more than one village
		for _, b := range bs {
			name := b.Name
			if multi {
				name = h.S.nameOfUnit(r.Context(), b.Division) + " · " + b.Name
			}
			out = append(out, bodyOption{b.ID, name})
			if len(out) >= 300 {
				return out, nil
			}
		}
	}
	return out, nil
}

func (h *HTTP) newMeetingBase(r *http.Request, p *access.Principal) (*newMeetingData, error) {
	d := &newMeetingData{Locale: i18n.Negotiate(r), V: map[string]string{}, Errors: newGovForm()}
	var err error
	d.Bodies, err = h.manageBodies(r, p, d.Locale)
	return d, err
}

func (h *HTTP) newMeetingForm(w http.ResponseWriter, r *http.Request) {
	p, ok := h.viewerOf(w, r)
	if !ok {
		return
	}
	if !p.Can(PermManage) {
		h.R.Error(w, r, http.StatusForbidden, "")
		return
	}
	d, err := h.newMeetingBase(r, p)
	if err != nil {
		h.govFail(w, r, err)
		return
	}
	d.Body, _ = strconv.ParseInt(r.URL.Query().Get("body"), 10, 64)
	d.V["day"] = calendar.FormatDay(h.S.Today())
	d.V["start"] = "19:30"
	d.V["length"] = "120"
	h.R.Page(w, r, http.StatusOK, "gov_meeting_new.html", d)
}

func (h *HTTP) createMeeting(w http.ResponseWriter, r *http.Request) {
	p, ok := h.viewerOf(w, r)
	if !ok {
		return
	}
	if !p.Can(PermManage) {
		h.R.Error(w, r, http.StatusForbidden, "")
		return
	}
	if err := r.ParseForm(); err != nil {
		h.R.Error(w, r, http.StatusBadRequest, "")
		return
	}
	f := r.PostForm
	d, err := h.newMeetingBase(r, p)
	if err != nil {
		h.govFail(w, r, err)
		return
	}
	for _, k := range []string{"title", "day", "start", "length", "place"} {
		d.V[k] = f.Get(k)
	}
	d.Body, _ = strconv.ParseInt(f.Get("body_id"), 10, 64)
	in, es := meetingInput(f)
	in.BodyID = d.Body
	if d.Body == 0 {
		es.Add("body_id", "required")
	}
	if len(es) == 0 {
		m, err := h.S.Schedule(r.Context(), p, in)
		if err == nil {
			http.Redirect(w, r, fmt.Sprintf("/governance/meetings/%d?done=scheduled", m.ID), http.StatusSeeOther)
			return
		}
		var es field.Errors
		if !errors.As(err, &es) {
			h.govFail(w, r, err)
			return
		}
		d.Errors.add(d.Locale, es)
	} else {
		d.Errors.add(d.Locale, es)
	}
	h.R.Page(w, r, http.StatusUnprocessableEntity, "gov_meeting_new.html", d)
}

// meetingInput reads the schedule fields of a form.
func meetingInput(f url.Values) (MeetingInput, field.Errors) {
	var es field.Errors
	in := MeetingInput{Title: f.Get("title"), Day: f.Get("day"), Start: f.Get("start"), Place: f.Get("place")}
	if v := strings.TrimSpace(f.Get("length")); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil {
			es.Add("length", "number")
		}
		in.Length = n
	}
	return in, es
}

// ---- the meeting page ----

// attendRow is a member in the attendance table and form.
type attendRow struct {
	I         int
	MemberID  int64
	Name      string
	Post      string
	Status    string
	ProxyID   int64
	ProxyName string
}

// itemView is an agenda item as the meeting page shows it.
type itemView struct {
	AgendaItem
	Figures string // 赞成 12 · 反对 3 · 弃权 2；通过需赞成 ≥ 11（出席 20 人）
	Votes   []Vote
	// the matter the item decides: its number (the matter page's address)
	// and the label of the stage the item decides
	MatterNumber, StageLabel string
	// the roll-call form: those who may vote (present in person or by proxy)
}

type meetingData struct {
	Locale      string
	M           Meeting
	KindLabel   string
	Village     string
	CanManage   bool
	Flash       string
	Today       string
	QuorumLine  string
	QuorumKnown bool
	QuorumMet   bool
	Items       []itemView
	Attendance  []attendRow // recorded, or the form's default (everyone present)
	Recorded    bool
	Holders     []attendRow // members present in person: who may hold proxies
	Voters      []attendRow // who votes in a roll call
	ProxyLimit  int
	CanAttend   bool // the attendance may be recorded (again)
	CanVote     bool // items may be voted on
	NoQuorum    bool // the meeting lacked its quorum: nothing more may be voted
	Choices     []string
	Statuses    []string
	CalendarURL string
	// Awaiting are the open matters waiting for this body's vote at their
	// current stage; OtherOpen the village's other open matters (offered
	// too: putting one on the agenda is refused with the procedure's
	// reason, so the clerk sees why).
	Awaiting, OtherOpen []Matter
	// the form that failed and its values
	Form   string
	V      map[string]string
	Errors govForm
}

// Err is the message of a field of form's form when that form failed.
func (d *meetingData) Err(form, name string) string {
	if d.Form == form {
		return d.Errors.At[name]
	}
	return ""
}

// Val is a value of form's form when it failed, else def.
func (d *meetingData) Val(form, name, def string) string {
	if d.Form == form {
		return d.V[name]
	}
	return def
}

// Failed tells whether form's form is the one that failed.
func (d *meetingData) Failed(form string) bool { return d.Form == form }

// ItemForm names the form of an item: vote-12, resolution-12.
func (d *meetingData) ItemForm(kind string, id int64) string {
	return kind + "-" + strconv.FormatInt(id, 10)
}

// figures writes an item's tally and what passing needed: the majority is
// a share of those present, or of all members (ofMembers).
func figures(locale string, a AgendaItem, o Outcome, ofMembers bool) string {
	if a.Result == ResultNoQuorum {
		return i18n.T(locale, "gov.meeting.figures_no_quorum", o.NeedPresent)
	}
	base := "gov.meeting.base.present"
	if ofMembers {
		base = "gov.meeting.base.members"
	}
	return i18n.T(locale, "gov.meeting.figures", a.For, a.Against, a.Abstain, o.NeedFor, i18n.T(locale, base), o.Base)
}

func (h *HTTP) meetingData(r *http.Request, p *access.Principal, id int64) (*meetingData, error) {
	ctx := r.Context()
	m, err := h.S.GetMeeting(ctx, p, id)
	if err != nil {
		return nil, err
	}
	d := &meetingData{Locale: i18n.Negotiate(r), M: m, KindLabel: h.S.KindLabel(m.Division, m.BodyKind, i18n.Negotiate(r)),
		Village: h.S.nameOfUnit(ctx, m.Division), CanManage: p.CanAt(PermManage, m.Division), Flash: doneKey(r),
		Today: calendar.FormatDay(h.S.Today()), Choices: Choices, Statuses: AttendStatuses, V: map[string]string{}, Errors: newGovForm(),
		CalendarURL: fmt.Sprintf("/governance/bodies/%d/calendar.ics", m.BodyID)}
	kind, _ := h.S.Rules(m.Division).Body(m.BodyKind)
	d.ProxyLimit = kind.ProxyLimit
	if met, need, ok := h.S.Quorum(m); ok && m.State == MeetingHeld {
		d.QuorumKnown, d.QuorumMet = true, met
		d.QuorumLine = i18n.T(d.Locale, "gov.meeting.quorum_line", m.Present, m.Members, need)
	}
	for _, a := range m.Agenda {
		iv := itemView{AgendaItem: a}
		if a.MatterID != 0 {
			if mt, err := h.S.Matter(ctx, p, a.MatterID); err == nil {
				iv.MatterNumber, iv.StageLabel = mt.Number, a.Stage
				if pr, ok := h.S.Rules(mt.Division).Procedure(mt.Procedure); ok {
					if st, _, ok := pr.Stage(a.Stage); ok {
						iv.StageLabel = st.Label.Get(d.Locale)
					}
				}
			}
		}
		if o, ok := h.S.Outcome(m, a); ok {
			iv.Figures = figures(d.Locale, a, o, kind.Majority.Of == policy.OfMembers)
		}
		if a.Decided() && !a.Counted {
			if iv.Votes, err = votesOf(ctx, h.S.DB, a.ID); err != nil {
				return nil, err
			}
		}
		if a.Result == ResultNoQuorum {
			d.NoQuorum = true
		}
		d.Items = append(d.Items, iv)
	}
	att, err := attendanceOf(ctx, h.S.DB, m.ID)
	if err != nil {
		return nil, err
	}
	names := map[int64]string{}
	if len(att) > 0 {
		d.Recorded = true
		for i, a := range att {
			names[a.MemberID] = a.Name
			d.Attendance = append(d.Attendance, attendRow{I: i, MemberID: a.MemberID, Name: a.Name,
				Post: h.S.PostLabel(m.Division, m.BodyKind, a.Post, d.Locale), Status: a.Status, ProxyID: a.ProxyID})
		}
	} else if m.State != MeetingCancelled {
		members, err := h.S.membersOn(ctx, m.BodyID, m.Day)
		if err != nil {
			return nil, err
		}
		for i, mb := range members {
			d.Attendance = append(d.Attendance, attendRow{I: i, MemberID: mb.ID, Name: mb.Name,
				Post: h.S.PostLabel(m.Division, m.BodyKind, mb.Post, d.Locale), Status: AttendPresent})
		}
	}
	for i := range d.Attendance {
		a := &d.Attendance[i]
		a.ProxyName = names[a.ProxyID]
		if a.Status == AttendPresent {
			d.Holders = append(d.Holders, *a)
		}
		if d.Recorded && a.Status != AttendAbsent {
			d.Voters = append(d.Voters, *a)
		}
	}
	decided := slices.ContainsFunc(m.Agenda, AgendaItem.Decided)
	d.CanAttend = d.CanManage && m.State != MeetingCancelled && !decided && m.Day <= h.S.Today()
	d.CanVote = d.CanManage && m.State == MeetingHeld && !d.NoQuorum
	if d.CanManage && m.State != MeetingCancelled {
		if err := h.agendaMatters(r, p, d); err != nil {
			return nil, err
		}
	}
	return d, nil
}

// agendaMatters fills the matter choices of the add-item form.
func (h *HTTP) agendaMatters(r *http.Request, p *access.Principal, d *meetingData) error {
	ctx := r.Context()
	awaiting, err := h.S.MattersAwaiting(ctx, p, d.M.Division, d.M.BodyKind)
	if err != nil {
		return err
	}
	d.Awaiting = awaiting
	open, err := h.S.Matters(ctx, p, MatterFilter{Unit: d.M.Division, Status: MatterOpen, Limit: 100})
	if err != nil {
		return err
	}
	for _, m := range open.Matters {
		if !slices.ContainsFunc(awaiting, func(a Matter) bool { return a.ID == m.ID }) {
			d.OtherOpen = append(d.OtherOpen, m)
		}
	}
	return nil
}

func (h *HTTP) meetingPage(w http.ResponseWriter, r *http.Request) {
	if _, d, ok := record(h, w, r, false, h.meetingData); ok {
		h.R.Page(w, r, http.StatusOK, "gov_meeting.html", d)
	}
}

// meetingForm reads a POST to one of the meeting page's forms; false when
// it answered.
func (h *HTTP) meetingForm(w http.ResponseWriter, r *http.Request) (*access.Principal, *meetingData, url.Values, bool) {
	p, d, ok := record(h, w, r, true, h.meetingData)
	return p, d, r.PostForm, ok
}

// meetingDone answers a meeting form: a redirect on success, the page with
// the problems (422) on field errors.
func (h *HTTP) meetingDone(w http.ResponseWriter, r *http.Request, d *meetingData, form string, f url.Values, err error, done string) {
	if err == nil {
		http.Redirect(w, r, fmt.Sprintf("/governance/meetings/%d?done=%s", d.M.ID, done), http.StatusSeeOther)
		return
	}
	if !d.Errors.addErr(d.Locale, h.S.Rules(d.M.Division), err) {
		h.govFail(w, r, err)
		return
	}
	d.Form = form
	for k := range f {
		d.V[k] = f.Get(k)
	}
	h.R.Page(w, r, http.StatusUnprocessableEntity, "gov_meeting.html", d)
}

// item finds the agenda item of the path on the meeting.
func (d *meetingData) item(r *http.Request) (AgendaItem, bool) {
	id, ok := pathID(r, "item")
	if !ok {
		return AgendaItem{}, false
	}
	for _, a := range d.M.Agenda {
		if a.ID == id {
			return a, true
		}
	}
	return AgendaItem{}, false
}

func (h *HTTP) editMeeting(w http.ResponseWriter, r *http.Request) {
	p, d, f, ok := h.meetingForm(w, r)
	if !ok {
		return
	}
	in, es := meetingInput(f)
	var err error = es.Err()
	if err == nil {
		_, err = h.S.Reschedule(r.Context(), p, d.M.ID, in)
	}
	h.meetingDone(w, r, d, "edit", f, err, "rescheduled")
}

func (h *HTTP) cancelMeeting(w http.ResponseWriter, r *http.Request) {
	p, d, f, ok := h.meetingForm(w, r)
	if !ok {
		return
	}
	_, err := h.S.Cancel(r.Context(), p, d.M.ID)
	h.meetingDone(w, r, d, "cancel", f, err, "cancelled")
}

func (h *HTTP) addAgenda(w http.ResponseWriter, r *http.Request) {
	p, d, f, ok := h.meetingForm(w, r)
	if !ok {
		return
	}
	in := AgendaInput{Title: f.Get("title")}
	var err error
	if v := strings.TrimSpace(f.Get("matter_id")); v != "" {
		if in.MatterID, err = strconv.ParseInt(v, 10, 64); err != nil {
			err = field.Errors{{Field: "matter_id", Code: "number"}}
		}
	}
	if err == nil {
		_, err = h.S.AddAgendaItem(r.Context(), p, d.M.ID, in)
	}
	h.meetingDone(w, r, d, "agenda", f, err, "agenda")
}

func (h *HTTP) removeAgenda(w http.ResponseWriter, r *http.Request) {
	p, d, f, ok := h.meetingForm(w, r)
	if !ok {
		return
	}
	a, ok := d.item(r)
	if !ok {
		h.R.Error(w, r, http.StatusNotFound, "")
		return
	}
	err := h.S.RemoveAgendaItem(r.Context(), p, a.ID)
	h.meetingDone(w, r, d, d.ItemForm("remove", a.ID), f, err, "removed")
}

// attendance reads the attendance form: rows attendance[i].member_id,
// .status and .proxy_id.
func (h *HTTP) attendance(w http.ResponseWriter, r *http.Request) {
	p, d, f, ok := h.meetingForm(w, r)
	if !ok {
		return
	}
	var in []AttendanceInput
	for i := 0; i < 10000; i++ {
		pre := "attendance[" + strconv.Itoa(i) + "]."
		if !f.Has(pre + "member_id") {
			break
		}
		a := AttendanceInput{Status: f.Get(pre + "status")}
		a.MemberID, _ = strconv.ParseInt(f.Get(pre+"member_id"), 10, 64)
		a.ProxyID, _ = strconv.ParseInt(f.Get(pre+"proxy_id"), 10, 64)
		in = append(in, a)
	}
	_, err := h.S.RecordAttendance(r.Context(), p, d.M.ID, in)
	if err != nil {
		// show the form as typed
		for i := range d.Attendance {
			row := &d.Attendance[i]
			for _, a := range in {
				if a.MemberID == row.MemberID {
					row.Status, row.ProxyID = a.Status, a.ProxyID
				}
			}
		}
	}
	h.meetingDone(w, r, d, "attendance", f, err, "attendance")
}

// vote reads an item's vote: mode counted (for, against, abstain) or a roll
// call (votes[i].member_id and .choice; an empty choice does not vote).
func (h *HTTP) vote(w http.ResponseWriter, r *http.Request) {
	p, d, f, ok := h.meetingForm(w, r)
	if !ok {
		return
	}
	a, ok := d.item(r)
	if !ok {
		h.R.Error(w, r, http.StatusNotFound, "")
		return
	}
	in := VoteInput{Counted: f.Get("mode") == "counted", Resolution: f.Get("resolution")}
	var es field.Errors
	if in.Counted {
		for name, dst := range map[string]*int{"for": &in.For, "against": &in.Against, "abstain": &in.Abstain} {
			v := strings.TrimSpace(f.Get(name))
			if v == "" {
				continue
			}
			n, err := strconv.Atoi(v)
			if err != nil {
				es.Add(name, "number")
			}
			*dst = n
		}
	} else {
		for i := 0; i < 10000; i++ {
			pre := "votes[" + strconv.Itoa(i) + "]."
			if !f.Has(pre + "member_id") {
				break
			}
			c := f.Get(pre + "choice")
			if c == "" {
				continue
			}
			mid, _ := strconv.ParseInt(f.Get(pre+"member_id"), 10, 64)
			in.Votes = append(in.Votes, MemberVote{MemberID: mid, Choice: c})
		}
	}
	var err error = es.Err()
	if err == nil {
		_, _, err = h.S.RecordVote(r.Context(), p, a.ID, in)
	}
	h.meetingDone(w, r, d, d.ItemForm("vote", a.ID), f, err, "vote")
}

func (h *HTTP) resolution(w http.ResponseWriter, r *http.Request) {
	p, d, f, ok := h.meetingForm(w, r)
	if !ok {
		return
	}
	a, ok := d.item(r)
	if !ok {
		h.R.Error(w, r, http.StatusNotFound, "")
		return
	}
	_, err := h.S.SetResolution(r.Context(), p, a.ID, f.Get("resolution"))
	h.meetingDone(w, r, d, d.ItemForm("resolution", a.ID), f, err, "resolution")
}

func (h *HTTP) minutes(w http.ResponseWriter, r *http.Request) {
	p, d, f, ok := h.meetingForm(w, r)
	if !ok {
		return
	}
	_, err := h.S.SetMinutes(r.Context(), p, d.M.ID, f.Get("minutes"))
	h.meetingDone(w, r, d, "minutes", f, err, "minutes")
}

// ---- iCalendar ----

// bodyCalendar is a body's meetings as iCalendar: a year back and every
// meeting ahead, cancelled ones marked so.
func (h *HTTP) bodyCalendar(w http.ResponseWriter, r *http.Request) {
	p, ok := h.viewerOf(w, r)
	if !ok {
		return
	}
	id, ok := pathID(r, "id")
	if !ok {
		h.R.Error(w, r, http.StatusNotFound, "")
		return
	}
	ctx := r.Context()
	b, err := h.S.GetBody(ctx, p, id)
	if err != nil {
		h.govFail(w, r, err)
		return
	}
	ms, _, err := h.S.Meetings(ctx, p, MeetingFilter{BodyID: b.ID, From: calendar.AddDays(h.S.Today(), -366), Limit: 500})
	if err != nil {
		h.govFail(w, r, err)
		return
	}
	base := web.BaseURL(r, h.PublicURL, h.TrustProxy)
	var buf bytes.Buffer
	if err := WriteCalendar(&buf, h.S.nameOfUnit(ctx, b.Division)+" "+b.Name, ms, func(m Meeting) string {
		return base + "/governance/meetings/" + strconv.FormatInt(m.ID, 10)
	}); err != nil {
		h.govFail(w, r, err)
		return
	}
	w.Header().Set("Content-Type", CalendarContentType)
	w.Header().Set("Content-Disposition", fmt.Sprintf(`inline; filename="body-%d.ics"`, b.ID))
	w.Header().Set("Cache-Control", "private, no-cache")
	_, _ = w.Write(buf.Bytes())
}
