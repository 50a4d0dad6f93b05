package governance

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"regexp"
	"slices"
	"strconv"
	"strings"

	"github.com/shequ-platform/shequ/internal/division"
	"github.com/shequ-platform/shequ/internal/platform/access"
	"github.com/shequ-platform/shequ/internal/platform/calendar"
	"github.com/shequ-platform/shequ/internal/platform/field"
	"github.com/shequ-platform/shequ/internal/platform/i18n"
	"github.com/shequ-platform/shequ/internal/platform/ids"
	"github.com/shequ-platform/shequ/internal/platform/policy"
	"github.com/shequ-platform/shequ/internal/registry"
)

// The overview (/governance) and the pages of bodies and their members.
// Forms post and redirect back with ?done=<what>; a form with problems is
// shown again (422) with each message at its field and a list at the top.

func (h *HTTP) bodyRoutes(mux *http.ServeMux) {
	mux.HandleFunc("GET /governance", h.overview)
	mux.HandleFunc("GET /governance/bodies", h.bodies)
	mux.HandleFunc("GET /governance/bodies/new", h.newBodyForm)
	mux.HandleFunc("POST /governance/bodies/new", h.createBody)
	mux.HandleFunc("GET /governance/bodies/{id}", h.bodyPage)
	mux.HandleFunc("POST /governance/bodies/{id}/edit", h.editBody)
	mux.HandleFunc("POST /governance/bodies/{id}/members", h.addMember)
	mux.HandleFunc("POST /governance/bodies/{id}/members/{mid}/end", h.endMember)
	mux.HandleFunc("POST /governance/bodies/{id}/term", h.newTerm)
}

// ---- shared by the pages of bodies and meetings ----

// govErrorCodes are the field error codes of bodies and meetings, each a
// gov.body.err.<code> message; the tally's codes (gov.err.<code>) are
// shared with the other parts.
var govErrorCodes = []string{
	"required", "too_long", "date_invalid", "unit_level", "unit_unknown", "no_rules", "kind_unknown", "party_members_range",
	"term_order", "term_not_after", "body_ended", "post_unknown", "post_taken", "outside_term", "resident_unknown",
	"resident_other_village", "resident_gone", "already_member", "already_ended", "until_before_since", "body_unknown",
	"time_invalid", "length_range", "not_scheduled", "cancelled", "agenda_full", "matter_unknown", "matter_twice",
	"item_decided", "item_pending", "not_yet", "votes_recorded", "not_member", "member_twice", "status_invalid",
	"member_missing", "proxy_not_allowed", "proxy_self", "proxy_not_member", "proxy_not_present", "proxy_over_limit",
	"not_held", ResultNoQuorum, "no_votes", "not_present", "choice_invalid", "duplicate_vote", "matter_refused", "number",
}

// tallyCodes are TallyError's codes (gov.err.<code>).
var tallyCodes = []string{"no_members", "negative", "present_over_members", "votes_over_present"}

// govFields are the fields errors name (gov.body.field.<name>).
var govFields = []string{"division", "kind", "name", "term_start", "term_end", "party_members", "note", "resident_id", "post",
	"since", "until", "body", "body_id", "title", "day", "start", "length", "place", "state", "matter_id", "item", "attendance",
	"member_id", "status", "proxy_id", "votes", "choice", "for", "against", "abstain", "resolution", "minutes", "meeting"}

// govDone are the confirmations shown after a change (gov.body.done.<key>).
var govDone = []string{"created", "edited", "member", "ended", "term", "scheduled", "rescheduled", "cancelled", "agenda",
	"removed", "attendance", "vote", "resolution", "minutes"}

// BodyCatalogueKeys lists the catalogue keys the pages of bodies and
// meetings build at run time, for the catalogue tests.
func BodyCatalogueKeys() []string {
	var keys []string
	for _, c := range govErrorCodes {
		keys = append(keys, "gov.body.err."+c)
	}
	for _, c := range tallyCodes {
		keys = append(keys, "gov.err."+c)
	}
	for _, f := range govFields {
		keys = append(keys, "gov.body.field."+f)
	}
	for _, d := range govDone {
		keys = append(keys, "gov.body.done."+d)
	}
	for _, w := range WarningCodes {
		keys = append(keys, "gov.body.warn."+w)
	}
	keys = append(keys, "gov.body.warn.cadence_never")
	for _, s := range []string{MeetingScheduled, MeetingHeld, MeetingCancelled} {
		keys = append(keys, "gov.meeting.state."+s)
	}
	for _, s := range AttendStatuses {
		keys = append(keys, "gov.meeting.attend."+s)
	}
	for _, v := range meetingListViews {
		keys = append(keys, "gov.meeting.view."+v)
	}
	for _, r := range []string{ResultPending, ResultPassed, ResultFailed, ResultNoQuorum} {
		keys = append(keys, "gov.result."+r)
	}
	for _, c := range Choices {
		keys = append(keys, "gov.choice."+c)
	}
	for _, r := range registry.Residencies {
		keys = append(keys, "gov.body.residency."+r)
	}
	keys = append(keys, "gov.body.gender.m", "gov.body.gender.f")
	return keys
}

// govForm is a form's problems: the message at each field and the list at
// the top, each naming its field.
type govForm struct {
	At   map[string]string
	List []string
}

func newGovForm() govForm { return govForm{At: map[string]string{}} }

var indexRE = regexp.MustCompile(`\[\d+\]`)

// govErrorText translates a field error.
func govErrorText(locale string, e *field.Error) string {
	if e.Field == "votes" && slices.Contains(tallyCodes, e.Code) {
		return i18n.T(locale, "gov.err."+e.Code)
	}
	code := e.Code
	if !slices.Contains(govErrorCodes, code) {
		code = "number"
	}
	if e.Arg != "" {
		return i18n.T(locale, "gov.body.err."+code, e.Arg)
	}
	return i18n.T(locale, "gov.body.err."+code)
}

// govFieldLabel names a field: attendance[3].proxy_id → 代理人.
func govFieldLabel(locale, name string) string {
	name = indexRE.ReplaceAllString(name, "")
	if i := strings.LastIndexByte(name, '.'); i >= 0 {
		name = name[i+1:]
	}
	if !slices.Contains(govFields, name) {
		return ""
	}
	return i18n.T(locale, "gov.body.field."+name)
}

func (f *govForm) add(locale string, es field.Errors) {
	for _, e := range es {
		msg := govErrorText(locale, e)
		if _, dup := f.At[e.Field]; !dup {
			f.At[e.Field] = msg
		}
		if l := govFieldLabel(locale, e.Field); l != "" {
			msg = l + i18n.T(locale, "gov.body.colon") + msg
		}
		f.List = append(f.List, msg)
	}
}

// addErr adds a service error to the form: field errors at their fields,
// a refusal of the matter's procedure (an agenda item or a vote deciding
// a matter; g: the village's rules, for the stage names) at the top;
// false for any other error, which the caller must answer.
func (f *govForm) addErr(locale string, g *policy.Governance, err error) bool {
	var es field.Errors
	var pe *ProcedureError
	switch {
	case errors.As(err, &es):
		f.add(locale, es)
	case errors.As(err, &pe) && g != nil:
		f.List = append(f.List, i18n.T(locale, "gov.body.err.matter_refused")+i18n.T(locale, "gov.body.colon")+RefusalText(locale, g, pe))
	default:
		return false
	}
	return true
}

// E is the message at a field.
func (f govForm) E(name string) string { return f.At[name] }

// pathID reads a numeric path value.
func pathID(r *http.Request, name string) (int64, bool) {
	id, err := strconv.ParseInt(r.PathValue(name), 10, 64)
	return id, err == nil && id > 0
}

// doneKey is the ?done= confirmation of a page ("" when none).
func doneKey(r *http.Request) string {
	if d := r.URL.Query().Get("done"); slices.Contains(govDone, d) {
		return "gov.body.done." + d
	}
	return ""
}

// unitLink is a unit in a picker or a breadcrumb.
type unitLink struct {
	Code int64
	Name string
}

// pickUnit chooses the unit a page shows: the one asked for (?unit=) when
// the principal sees it, else the principal's first root. Villages stand
// for their grids and groups.
func (h *HTTP) pickUnit(ctx context.Context, p *access.Principal, asked string) (unitLink, bool) {
	if u, err := strconv.ParseInt(asked, 10, 64); err == nil && u >= 0 {
		if v, ok := VillageOf(u); ok {
			u = v
		}
		if p.CanAt(PermView, u) {
			return unitLink{u, h.S.nameOfUnit(ctx, u)}, true
		}
	}
	roots := p.Roots(PermView)
	if len(roots) == 0 {
		return unitLink{}, false
	}
	u := roots[0]
	if v, ok := VillageOf(u); ok {
		u = v
	}
	return unitLink{u, h.S.nameOfUnit(ctx, u)}, true
}

// parentLink is the unit above u when the principal sees it (for "up").
func (h *HTTP) parentLink(ctx context.Context, p *access.Principal, u int64) *unitLink {
	if ids.Level(u) <= 1 {
		return nil
	}
	d, err := h.S.Divisions.Get(ctx, u)
	if err != nil || d.Parent == 0 || !p.CanAt(PermView, d.Parent) {
		return nil
	}
	return &unitLink{d.Parent, h.S.nameOfUnit(ctx, d.Parent)}
}

// maxVillages bounds the villages a township's or county's page lists.
const maxVillages = 400

func (h *HTTP) villagesIn(ctx context.Context, u int64) ([]division.Division, error) {
	lo, hi := ids.Subtree(u)
	ds, err := h.S.Divisions.InRange(ctx, lo, hi, 5, 5)
	if err != nil {
		return nil, err
	}
	out := ds[:0]
	for _, d := range ds {
		if !d.Retired {
			out = append(out, d)
		}
	}
	if len(out) > maxVillages {
		out = out[:maxVillages]
	}
	return out, nil
}

// warningView is a warning as a page shows it.
type warningView struct {
	Code, Text string
	Seeds      string
}

func warningViews(locale string, ws []Warning) []warningView {
	out := make([]warningView, len(ws))
	for i, w := range ws {
		out[i] = warningView{Code: w.Code, Text: w.Text(locale), Seeds: strings.Join(w.Seeds, "、")}
	}
	return out
}

// bodyView is a body as the lists show it.
type bodyView struct {
	Body
	KindLabel string
	Chair     string // the chair's name
	Warnings  []warningView
	LastHeld  int
	NextDue   int
	Overdue   bool
	Cadence   string
}

func (h *HTTP) bodyViewOf(locale string, st BodyStatus) bodyView {
	v := bodyView{Body: st.Body, KindLabel: h.S.KindLabel(st.Division, st.Kind, locale), Warnings: warningViews(locale, st.Warnings),
		LastHeld: st.LastHeld, NextDue: st.NextDue, Overdue: st.Overdue()}
	if k, ok := h.S.BodyKind(st.Body); ok {
		// a kind whose chair is its plain member post (representatives) has no chair to name
		chair := k.ChairPost()
		if len(k.Posts) < 2 || k.Posts[len(k.Posts)-1].Key == chair {
			chair = ""
		}
		for _, m := range st.Members {
			if chair != "" && m.Post == chair {
				v.Chair = m.Name
				break
			}
		}
		if c, ok := cadenceLabels[k.Cadence]; ok {
			v.Cadence = c.Get(locale)
		}
	}
	return v
}

// meetingView is a meeting as the lists show it.
type meetingView struct {
	Meeting
	KindLabel string
	Village   string
}

func (h *HTTP) meetingViews(ctx context.Context, locale string, ms []Meeting, withVillage bool) []meetingView {
	out := make([]meetingView, len(ms))
	names := map[int64]string{}
	for i, m := range ms {
		out[i] = meetingView{Meeting: m, KindLabel: h.S.KindLabel(m.Division, m.BodyKind, locale)}
		if withVillage {
			n, ok := names[m.Division]
			if !ok {
				n = h.S.nameOfUnit(ctx, m.Division)
				names[m.Division] = n
			}
			out[i].Village = n
		}
	}
	return out
}

// ---- the overview ----

// villageRow is a village in a township's or county's overview.
type villageRow struct {
	Code                      int64
	Name                      string
	Bodies, Warnings, Overdue int
	Upcoming                  int
}

type overviewData struct {
	Locale    string
	Unit      unitLink
	Up        *unitLink
	IsVillage bool
	CanManage bool
	Today     int
	Flash     string
	// a village
	Bodies   []bodyView
	Overdue  []bodyView
	Upcoming []meetingView
	Recent   []meetingView
	// a township or county
	Villages []villageRow
	Totals   villageRow
}

func (h *HTTP) overview(w http.ResponseWriter, r *http.Request) {
	p, ok := h.viewerOf(w, r)
	if !ok {
		return
	}
	ctx := r.Context()
	unit, ok := h.pickUnit(ctx, p, r.URL.Query().Get("unit"))
	if !ok {
		h.R.Error(w, r, http.StatusNotFound, "")
		return
	}
	d := overviewData{Locale: i18n.Negotiate(r), Unit: unit, Up: h.parentLink(ctx, p, unit.Code), Today: h.S.Today(),
		CanManage: p.CanAt(PermManage, unit.Code), Flash: doneKey(r)}
	if _, d.IsVillage = VillageOf(unit.Code); d.IsVillage {
		sts, err := h.S.Statuses(ctx, p, unit.Code)
		if err != nil {
			h.govFail(w, r, err)
			return
		}
		for _, st := range sts {
			v := h.bodyViewOf(d.Locale, st)
			d.Bodies = append(d.Bodies, v)
			if v.Overdue {
				d.Overdue = append(d.Overdue, v)
			}
		}
		up, err := h.S.Upcoming(ctx, p, unit.Code, 10)
		if err != nil {
			h.govFail(w, r, err)
			return
		}
		d.Upcoming = h.meetingViews(ctx, d.Locale, up, false)
		recent, _, err := h.S.Meetings(ctx, p, MeetingFilter{Unit: unit.Code, State: MeetingHeld, Desc: true, Limit: 5})
		if err != nil {
			h.govFail(w, r, err)
			return
		}
		d.Recent = h.meetingViews(ctx, d.Locale, recent, false)
	} else {
		rows, err := h.villageRows(ctx, p, unit.Code)
		if err != nil {
			h.govFail(w, r, err)
			return
		}
		d.Villages = rows
		for _, v := range rows {
			d.Totals.Bodies += v.Bodies
			d.Totals.Warnings += v.Warnings
			d.Totals.Overdue += v.Overdue
			d.Totals.Upcoming += v.Upcoming
		}
	}
	h.R.Page(w, r, http.StatusOK, "gov_overview.html", d)
}

// villageRows sums up the villages under a township or county: bodies,
// their warnings and overdue cadences, upcoming meetings.
func (h *HTTP) villageRows(ctx context.Context, p *access.Principal, u int64) ([]villageRow, error) {
	vs, err := h.villagesIn(ctx, u)
	if err != nil {
		return nil, err
	}
	lo, hi := ids.Subtree(u)
	all, err := bodiesIn(ctx, h.S.DB, lo, hi, false, h.S.Today())
	if err != nil {
		return nil, err
	}
	if err := h.S.loadMembers(ctx, all); err != nil {
		return nil, err
	}
	byVillage := map[int64][]Body{}
	for _, b := range all {
		byVillage[b.Division] = append(byVillage[b.Division], b)
	}
	up, _, err := h.S.Meetings(ctx, p, MeetingFilter{Unit: u, From: h.S.Today(), State: MeetingScheduled, Limit: 500})
	if err != nil {
		return nil, err
	}
	upcoming := map[int64]int{}
	for _, m := range up {
		upcoming[m.Division]++
	}
	rows := make([]villageRow, 0, len(vs))
	for _, v := range vs {
		if !p.CanAt(PermView, v.Code) {
			continue
		}
		row := villageRow{Code: v.Code, Name: v.Name, Upcoming: upcoming[v.Code]}
		if bs := byVillage[v.Code]; len(bs) > 0 {
			sts, err := h.S.statusesOf(ctx, p, v.Code, bs)
			if err != nil {
				return nil, err
			}
			row.Bodies = len(sts)
			for _, st := range sts {
				row.Warnings += len(st.Warnings)
				if st.Overdue() {
					row.Overdue++
				}
			}
		}
		rows = append(rows, row)
	}
	return rows, nil
}

// ---- the list of bodies ----

type bodiesData struct {
	Locale    string
	Unit      unitLink
	Up        *unitLink
	IsVillage bool
	All       bool
	CanManage bool
	Flash     string
	Current   []bodyView
	Past      []bodyView
	Villages  []villageRow
}

func (h *HTTP) bodies(w http.ResponseWriter, r *http.Request) {
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
	d := bodiesData{Locale: i18n.Negotiate(r), Unit: unit, Up: h.parentLink(ctx, p, unit.Code), All: q.Get("all") == "1",
		CanManage: p.CanAt(PermManage, unit.Code), Flash: doneKey(r)}
	if _, d.IsVillage = VillageOf(unit.Code); !d.IsVillage {
		rows, err := h.villageRows(ctx, p, unit.Code)
		if err != nil {
			h.govFail(w, r, err)
			return
		}
		d.Villages = rows
		h.R.Page(w, r, http.StatusOK, "gov_bodies.html", d)
		return
	}
	sts, err := h.S.Statuses(ctx, p, unit.Code)
	if err != nil {
		h.govFail(w, r, err)
		return
	}
	for _, st := range sts {
		d.Current = append(d.Current, h.bodyViewOf(d.Locale, st))
	}
	if d.All {
		bs, err := h.S.Bodies(ctx, p, unit.Code, true)
		if err != nil {
			h.govFail(w, r, err)
			return
		}
		for _, b := range bs {
			if !b.Current {
				d.Past = append(d.Past, h.bodyViewOf(d.Locale, BodyStatus{Body: b}))
			}
		}
	}
	h.R.Page(w, r, http.StatusOK, "gov_bodies.html", d)
}

// ---- a new body ----

type kindOption struct {
	Key, Label, Rule string
}

type newBodyData struct {
	Locale   string
	Villages []unitLink
	Unit     int64
	Kinds    []kindOption
	V        map[string]string
	Errors   govForm
}

// E is the message at a field.
func (d *newBodyData) E(name string) string { return d.Errors.At[name] }

// kindRule sums up a kind's rules for the form: 3–5 人 · 任期 3 年 · 每季度至少一次.
func kindRule(locale string, k policy.BodyKind) string {
	var parts []string
	switch {
	case k.MinMembers > 0 && k.MaxMembers > 0:
		parts = append(parts, i18n.T(locale, "gov.body.rule.size_range", k.MinMembers, k.MaxMembers))
	case k.MinMembers > 0:
		parts = append(parts, i18n.T(locale, "gov.body.rule.size_min", k.MinMembers))
	case k.MaxMembers > 0:
		parts = append(parts, i18n.T(locale, "gov.body.rule.size_max", k.MaxMembers))
	}
	if k.TermYears > 0 {
		parts = append(parts, i18n.T(locale, "gov.body.rule.term", k.TermYears))
	}
	if c, ok := cadenceLabels[k.Cadence]; ok {
		parts = append(parts, c.Get(locale))
	}
	if len(k.Seeds) > 0 {
		parts = append(parts, strings.Join(k.Seeds, "、"))
	}
	return strings.Join(parts, " · ")
}

func (h *HTTP) newBodyBase(r *http.Request, p *access.Principal, asked string) (*newBodyData, error) {
	ctx := r.Context()
	d := &newBodyData{Locale: i18n.Negotiate(r), V: map[string]string{}, Errors: newGovForm()}
	for _, rg := range p.Ranges(PermManage) {
		vs, err := h.S.Divisions.InRange(ctx, rg.Lo, rg.Hi, 5, 5)
		if err != nil {
			return nil, err
		}
		for _, v := range vs {
			if !v.Retired && len(d.Villages) < maxVillages {
				d.Villages = append(d.Villages, unitLink{v.Code, v.Name})
			}
		}
	}
	if u, err := strconv.ParseInt(asked, 10, 64); err == nil {
		if v, ok := VillageOf(u); ok && p.CanAt(PermManage, v) {
			d.Unit = v
		}
	}
	if d.Unit == 0 && len(d.Villages) > 0 {
		d.Unit = d.Villages[0].Code
	}
	if g := h.S.Rules(d.Unit); g != nil {
		for _, k := range g.Bodies {
			d.Kinds = append(d.Kinds, kindOption{k.Key, k.Label.Get(d.Locale), kindRule(d.Locale, k)})
		}
	}
	return d, nil
}

func (h *HTTP) newBodyForm(w http.ResponseWriter, r *http.Request) {
	p, ok := h.viewerOf(w, r)
	if !ok {
		return
	}
	if !p.Can(PermManage) {
		h.R.Error(w, r, http.StatusForbidden, "")
		return
	}
	d, err := h.newBodyBase(r, p, r.URL.Query().Get("unit"))
	if err != nil {
		h.govFail(w, r, err)
		return
	}
	d.V["kind"] = r.URL.Query().Get("kind")
	d.V["term_start"] = calendar.FormatDay(h.S.Today())
	h.R.Page(w, r, http.StatusOK, "gov_body_new.html", d)
}

func (h *HTTP) createBody(w http.ResponseWriter, r *http.Request) {
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
	d, err := h.newBodyBase(r, p, f.Get("division"))
	if err != nil {
		h.govFail(w, r, err)
		return
	}
	for _, k := range []string{"kind", "name", "term_start", "term_end", "party_members", "note"} {
		d.V[k] = f.Get(k)
	}
	in := BodyInput{Division: d.Unit, Kind: f.Get("kind"), Name: f.Get("name"), TermStart: f.Get("term_start"), TermEnd: f.Get("term_end"),
		Note: f.Get("note")}
	var es field.Errors
	if d.Unit == 0 {
		es.Add("division", "required")
	}
	if v := strings.TrimSpace(f.Get("party_members")); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil {
			es.Add("party_members", "number")
		}
		in.PartyMembers = n
	}
	if len(es) == 0 {
		b, err := h.S.CreateBody(r.Context(), p, in)
		if err == nil {
			http.Redirect(w, r, fmt.Sprintf("/governance/bodies/%d?done=created", b.ID), http.StatusSeeOther)
			return
		}
		if !errors.As(err, &es) {
			h.govFail(w, r, err)
			return
		}
	}
	d.Errors.add(d.Locale, es)
	h.R.Page(w, r, http.StatusUnprocessableEntity, "gov_body_new.html", d)
}

// ---- a body ----

// memberView is a member as the body page shows it.
type memberView struct {
	Member
	PostLabel string
}

// postOption is a post of the kind.
type postOption struct{ Key, Label string }

// hitView is a registry search hit: by name, never an ID number or phone.
type hitView struct {
	ID                   int64
	Name, Gender, Detail string
}

type bodyData struct {
	Locale    string
	B         bodyView
	Village   string
	Members   []memberView
	Past      []memberView
	Posts     []postOption
	Meetings  []meetingView
	CanManage bool
	CanSearch bool
	Today     string
	Flash     string
	// the member form: the search typed, its hits, the resident picked
	Q        string
	Hits     []hitView
	Searched bool
	Picked   *hitView
	// the form that failed (member, edit, term, end) with its values
	Form   string
	V      map[string]string
	Errors govForm
}

// Err is the message of a field of form's form when that form failed.
func (d *bodyData) Err(form, name string) string {
	if d.Form == form {
		return d.Errors.At[name]
	}
	return ""
}

// Val is a value of form's form when it failed, else def.
func (d *bodyData) Val(form, name, def string) string {
	if d.Form == form {
		return d.V[name]
	}
	return def
}

func (h *HTTP) bodyData(r *http.Request, p *access.Principal, id int64) (*bodyData, error) {
	ctx := r.Context()
	st, err := h.S.Status(ctx, p, id)
	if err != nil {
		return nil, err
	}
	d := &bodyData{Locale: i18n.Negotiate(r), Village: h.S.nameOfUnit(ctx, st.Division), CanManage: p.CanAt(PermManage, st.Division) && st.Current,
		CanSearch: p.CanAt("resident.view", st.Division), Today: calendar.FormatDay(h.S.Today()), Flash: doneKey(r),
		V: map[string]string{}, Errors: newGovForm()}
	d.B = h.bodyViewOf(d.Locale, st)
	all, err := h.S.AllMembers(ctx, p, id)
	if err != nil {
		return nil, err
	}
	today := h.S.Today()
	for _, m := range all {
		v := memberView{Member: m, PostLabel: h.S.PostLabel(st.Division, st.Kind, m.Post, d.Locale)}
		if m.UntilDay == 0 || m.UntilDay >= today {
			d.Members = append(d.Members, v)
		} else {
			d.Past = append(d.Past, v)
		}
	}
	if k, ok := h.S.BodyKind(st.Body); ok {
		for _, po := range k.Posts {
			d.Posts = append(d.Posts, postOption{po.Key, po.Label.Get(d.Locale)})
		}
	}
	ms, _, err := h.S.Meetings(ctx, p, MeetingFilter{BodyID: id, Desc: true, Limit: 20})
	if err != nil {
		return nil, err
	}
	d.Meetings = h.meetingViews(ctx, d.Locale, ms, false)
	return d, nil
}

func (h *HTTP) bodyPage(w http.ResponseWriter, r *http.Request) {
	if _, d, ok := record(h, w, r, false, h.bodyData); ok {
		h.R.Page(w, r, http.StatusOK, "gov_body.html", d)
	}
}

// bodyForm reads the body of a POST to one of its forms; false when it
// answered.
func (h *HTTP) bodyForm(w http.ResponseWriter, r *http.Request) (*access.Principal, *bodyData, url.Values, bool) {
	p, d, ok := record(h, w, r, true, h.bodyData)
	return p, d, r.PostForm, ok
}

// bodyDone answers a body form: a redirect on success, the page with the
// problems (422) on field errors.
func (h *HTTP) bodyDone(w http.ResponseWriter, r *http.Request, d *bodyData, form string, f url.Values, err error, done string) {
	if err == nil {
		http.Redirect(w, r, fmt.Sprintf("/governance/bodies/%d?done=%s", d.B.ID, done), http.StatusSeeOther)
		return
	}
	if !d.Errors.addErr(d.Locale, h.S.Rules(d.B.Division), err) {
		h.govFail(w, r, err)
		return
	}
	d.Form = form
	for k := range f {
		d.V[k] = f.Get(k)
	}
	h.R.Page(w, r, http.StatusUnprocessableEntity, "gov_body.html", d)
}

func (h *HTTP) editBody(w http.ResponseWriter, r *http.Request) {
	p, d, f, ok := h.bodyForm(w, r)
	if !ok {
		return
	}
	in := BodyUpdate{Name: f.Get("name"), TermEnd: f.Get("term_end"), Note: f.Get("note")}
	var err error
	if v := strings.TrimSpace(f.Get("party_members")); v != "" {
		if in.PartyMembers, err = strconv.Atoi(v); err != nil {
			err = field.Errors{{Field: "party_members", Code: "number"}}
		}
	}
	if err == nil {
		_, err = h.S.UpdateBody(r.Context(), p, d.B.ID, in)
	}
	h.bodyDone(w, r, d, "edit", f, err, "edited")
}

func (h *HTTP) newTerm(w http.ResponseWriter, r *http.Request) {
	p, d, f, ok := h.bodyForm(w, r)
	if !ok {
		return
	}
	nb, err := h.S.NewTerm(r.Context(), p, d.B.ID, TermInput{Start: f.Get("term_start"), End: f.Get("term_end"), Name: f.Get("name"),
		Keep: f.Get("keep") == "1"})
	if err == nil {
		http.Redirect(w, r, fmt.Sprintf("/governance/bodies/%d?done=term", nb.ID), http.StatusSeeOther)
		return
	}
	h.bodyDone(w, r, d, "term", f, err, "term")
}

func (h *HTTP) endMember(w http.ResponseWriter, r *http.Request) {
	p, d, f, ok := h.bodyForm(w, r)
	if !ok {
		return
	}
	mid, ok := pathID(r, "mid")
	if !ok || !slices.ContainsFunc(d.Members, func(m memberView) bool { return m.ID == mid }) {
		h.R.Error(w, r, http.StatusNotFound, "")
		return
	}
	_, err := h.S.EndMember(r.Context(), p, mid, f.Get("until"))
	h.bodyDone(w, r, d, "end-"+strconv.FormatInt(mid, 10), f, err, "ended")
}

// addMember is the member form: op search (find residents by name), pick.<id>
// (choose one), unpick, or add (appoint the picked resident).
func (h *HTTP) addMember(w http.ResponseWriter, r *http.Request) {
	p, d, f, ok := h.bodyForm(w, r)
	if !ok {
		return
	}
	ctx := r.Context()
	d.Form = "member"
	for k := range f {
		d.V[k] = f.Get(k)
	}
	d.Q = strings.TrimSpace(f.Get("q"))
	rid, _ := strconv.ParseInt(f.Get("resident_id"), 10, 64)
	op, arg, _ := strings.Cut(f.Get("op"), ".")
	switch op {
	case "pick":
		rid, _ = strconv.ParseInt(arg, 10, 64)
	case "unpick":
		rid = 0
	case "add":
		_, err := h.S.AddMember(ctx, p, d.B.ID, MemberInput{ResidentID: rid, Post: f.Get("post"), Since: f.Get("since")})
		if err == nil {
			http.Redirect(w, r, fmt.Sprintf("/governance/bodies/%d?done=member", d.B.ID), http.StatusSeeOther)
			return
		}
		if !d.Errors.addErr(d.Locale, h.S.Rules(d.B.Division), err) {
			h.govFail(w, r, err)
			return
		}
	default: // search
		rid = 0
	}
	if rid > 0 && d.CanSearch {
		if res, err := h.S.Registry.Get(ctx, p, rid); err == nil {
			hv := h.hitOf(d.Locale, registry.Hit{Resident: res})
			d.Picked = &hv
		}
	}
	if d.Picked == nil && d.Q != "" && d.CanSearch {
		d.Searched = true
		if res, err := h.S.Registry.Search(ctx, p, d.Q, 0, 20); err == nil {
			for _, hit := range res.Hits {
				if v, _ := VillageOf(hit.Division); v == d.B.Division && hit.Status == registry.Present {
					d.Hits = append(d.Hits, h.hitOf(d.Locale, hit))
				}
			}
		}
	}
	status := http.StatusOK
	if len(d.Errors.List) > 0 {
		status = http.StatusUnprocessableEntity
	}
	h.R.Page(w, r, status, "gov_body.html", d)
}

// hitOf shows a resident by name, gender, age, residency and address.
func (h *HTTP) hitOf(locale string, hit registry.Hit) hitView {
	v := hitView{ID: hit.ID, Name: hit.Name}
	if hit.Gender != "" {
		v.Gender = i18n.T(locale, "gov.body.gender."+strings.ToLower(hit.Gender))
	}
	var parts []string
	if hit.Birth != 0 {
		parts = append(parts, i18n.T(locale, "gov.body.age", hit.AgeOn(h.S.Today())))
	}
	if hit.Residency != "" {
		parts = append(parts, i18n.T(locale, "gov.body.residency."+hit.Residency))
	}
	if hit.PartyMember {
		parts = append(parts, i18n.T(locale, "gov.body.party_member"))
	}
	if hit.Address != "" {
		parts = append(parts, hit.Address)
	}
	v.Detail = strings.Join(parts, " · ")
	return v
}
