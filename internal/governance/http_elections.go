package governance

import (
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"

	"github.com/shequ-platform/shequ/internal/division"
	"github.com/shequ-platform/shequ/internal/platform/access"
	"github.com/shequ-platform/shequ/internal/platform/calendar"
	"github.com/shequ-platform/shequ/internal/platform/field"
	"github.com/shequ-platform/shequ/internal/platform/i18n"
	"github.com/shequ-platform/shequ/internal/platform/policy"
)

// The election pages (behind login): the list, the form that schedules an
// election, and the election's page — its voter roll with search and
// paging, the proxies, the candidates, the voting marks, the count and the
// result — plus the page that picks a trustee for a proxy. Every change is
// one POST to /governance/elections/{id}/act with a kind, redirected back
// (POST-redirect-GET); a refused one shows the page again with the reason
// at the form. The stylesheet is internal/platform/web/static/gov-elections.css.

func (h *HTTP) electionRoutes(mux *http.ServeMux) {
	mux.HandleFunc("GET /governance/elections", h.electionList)
	mux.HandleFunc("GET /governance/elections/new", h.electionNewForm)
	mux.HandleFunc("POST /governance/elections/new", h.electionCreate)
	mux.HandleFunc("GET /governance/elections/{id}", h.electionPage)
	mux.HandleFunc("GET /governance/elections/{id}/proxy", h.electionProxyPage)
	mux.HandleFunc("POST /governance/elections/{id}/act", h.electionAct)
}

// Election page actions (the act form's kind).
const (
	elActRoll            = "roll"
	elActCandidate       = "candidate"
	elActCandidateRemove = "candidate_remove"
	elActProxy           = "proxy"
	elActProxyClear      = "proxy_clear"
	elActVoted           = "voted"
	elActCount           = "count"
	elActRevote          = "revote"
)

var elActions = []string{elActRoll, elActCandidate, elActCandidateRemove, elActProxy, elActProxyClear, elActVoted, elActCount, elActRevote}

// elRollPage is the roll's page size.
const elRollPage = 50

// elBodyLabel names a body kind of the pack at code.
func (h *HTTP) elBodyLabel(code int64, key, locale string) string {
	if b, ok := h.S.Rules(code).Body(key); ok {
		return b.Label.Get(locale)
	}
	return key
}

// elPercent writes a share as 96.5%.
func elPercent(v float64) string { return strconv.FormatFloat(v*100, 'f', 1, 64) + "%" }

// elFormErrors are a form's problems: the message at each field, and the
// list above the form, each naming its field.
type elFormErrors struct {
	At   map[string]string
	List []string
}

func newElFormErrors() elFormErrors { return elFormErrors{At: map[string]string{}} }

// add translates es; label names a field.
func (fe *elFormErrors) add(locale string, es field.Errors, label func(string) string, text func(*field.Error) string) {
	for _, e := range es {
		msg := text(e)
		if _, dup := fe.At[e.Field]; !dup {
			fe.At[e.Field] = msg
		}
		fe.List = append(fe.List, label(e.Field)+i18n.T(locale, "gov.election.colon")+msg)
	}
}

// elErrorText translates an election field error; limit is the pack's
// proxy limit (for proxy_limit) and rules its election rules (for a
// reserved seat's label).
func elErrorText(locale string, e *field.Error, rules *policy.ElectionRules) string {
	key := "gov.election.error." + e.Code
	switch {
	case e.Code == "proxy_limit":
		limit := 0
		if rules != nil {
			limit = rules.ProxyLimit
		}
		return i18n.T(locale, key, e.Arg, limit)
	case e.Code == "reserved_residency" && rules != nil:
		arg := e.Arg
		for _, r := range rules.Reserved {
			if r.Key == e.Arg {
				arg = r.Label.Get(locale)
			}
		}
		return i18n.T(locale, key, arg)
	case e.Arg != "":
		return i18n.T(locale, key, e.Arg)
	}
	return i18n.T(locale, key)
}

// ---- the list ----

type elListData struct {
	Rows       []elRow
	Villages   []division.Division
	Unit       int64
	State      string
	States     []string
	Page       int
	Prev, Next string
	CanCreate  bool
	Locale     string
}

type elRow struct {
	Election
	VillageName, BodyLabel, Turnout string
}

func (h *HTTP) electionList(w http.ResponseWriter, r *http.Request) {
	p, ok := h.viewerOf(w, r)
	if !ok {
		return
	}
	ctx := r.Context()
	q := r.URL.Query()
	d := elListData{Locale: i18n.Negotiate(r), States: ElectionStates, CanCreate: p.Can(PermElection)}
	var err error
	if d.Villages, err = h.villages(ctx, p, PermView, 500); err != nil {
		h.govFail(w, r, err)
		return
	}
	if u, err := strconv.ParseInt(q.Get("unit"), 10, 64); err == nil && u > 0 {
		d.Unit = u
	}
	if s := q.Get("state"); slices.Contains(ElectionStates, s) {
		d.State = s
	}
	d.Page, _ = strconv.Atoi(q.Get("page"))
	d.Page = max(d.Page, 1)
	list, more, err := h.S.Elections(ctx, p, ElectionFilter{Unit: d.Unit, State: d.State, Offset: (d.Page - 1) * elRollPage, Limit: elRollPage})
	if err != nil {
		h.govFail(w, r, err)
		return
	}
	names := map[int64]string{}
	for _, e := range list {
		n, ok := names[e.Division]
		if !ok {
			n = h.unitName(ctx, e.Division)
			names[e.Division] = n
		}
		row := elRow{Election: e, VillageName: n, BodyLabel: h.elBodyLabel(e.Division, e.BodyKind, d.Locale), Turnout: "—"}
		if t, ok := e.Turnout(); ok && e.Voted > 0 {
			row.Turnout = elPercent(t)
		}
		d.Rows = append(d.Rows, row)
	}
	link := func(page int) string {
		v := url.Values{}
		if d.Unit > 0 {
			v.Set("unit", strconv.FormatInt(d.Unit, 10))
		}
		if d.State != "" {
			v.Set("state", d.State)
		}
		if page > 1 {
			v.Set("page", strconv.Itoa(page))
		}
		if len(v) == 0 {
			return "/governance/elections"
		}
		return "/governance/elections?" + v.Encode()
	}
	if d.Page > 1 {
		d.Prev = link(d.Page - 1)
	}
	if more {
		d.Next = link(d.Page + 1)
	}
	h.R.Page(w, r, http.StatusOK, "gov_election_list.html", d)
}

// ---- the new election form ----

type elNewData struct {
	Villages []division.Division
	Kinds    []elOption
	V        map[string]string
	Errors   elFormErrors
	Locale   string
	Today    string
}

// E is the message at a field.
func (d *elNewData) E(name string) string { return d.Errors.At[name] }

type elOption struct{ Key, Label string }

// elBodyKinds lists the body kinds of the packs of villages, each key
// once, the committee and the representatives first.
func (h *HTTP) elBodyKinds(villages []division.Division, locale string) []elOption {
	var out []elOption
	seen := map[string]bool{}
	for _, v := range villages {
		g := h.S.Rules(v.Code)
		if g == nil {
			continue
		}
		for _, b := range g.Bodies {
			if !seen[b.Key] {
				seen[b.Key] = true
				out = append(out, elOption{b.Key, b.Label.Get(locale)})
			}
		}
	}
	first := func(k string) int {
		switch k {
		case policy.BodyCommittee:
			return 0
		case policy.BodyRepresentatives:
			return 1
		}
		return 2
	}
	slices.SortStableFunc(out, func(a, b elOption) int { return first(a.Key) - first(b.Key) })
	return out
}

func (h *HTTP) elNewBase(r *http.Request, p *access.Principal) (*elNewData, error) {
	d := &elNewData{Locale: i18n.Negotiate(r), V: map[string]string{}, Errors: newElFormErrors(),
		Today: calendar.FormatDay(h.S.Today())}
	var err error
	if d.Villages, err = h.villages(r.Context(), p, PermElection, 500); err != nil {
		return nil, err
	}
	d.Kinds = h.elBodyKinds(d.Villages, d.Locale)
	return d, nil
}

func (h *HTTP) electionNewForm(w http.ResponseWriter, r *http.Request) {
	p, ok := h.viewerOf(w, r)
	if !ok {
		return
	}
	if !p.Can(PermElection) {
		h.R.Error(w, r, http.StatusForbidden, "")
		return
	}
	d, err := h.elNewBase(r, p)
	if err != nil {
		h.govFail(w, r, err)
		return
	}
	d.V["village"] = r.URL.Query().Get("village")
	d.V["body_kind"] = policy.BodyCommittee
	h.R.Page(w, r, http.StatusOK, "gov_election_new.html", d)
}

var elNewFields = []string{"village", "body_kind", "title", "day", "seats"}

func (h *HTTP) electionCreate(w http.ResponseWriter, r *http.Request) {
	p, ok := h.viewerOf(w, r)
	if !ok {
		return
	}
	if err := r.ParseForm(); err != nil {
		h.R.Error(w, r, http.StatusBadRequest, "")
		return
	}
	f := r.PostForm
	in := ElectionInput{BodyKind: f.Get("body_kind"), Title: f.Get("title"), Day: f.Get("day")}
	var es field.Errors
	village, err := strconv.ParseInt(f.Get("village"), 10, 64)
	if err != nil || village <= 0 {
		es.Add("village", "required")
	}
	in.Village = village
	if s := strings.TrimSpace(f.Get("seats")); s != "" {
		if in.Seats, err = strconv.Atoi(s); err != nil {
			es.Add("seats", "number")
		}
	}
	var e Election
	if len(es) == 0 {
		e, err = h.S.CreateElection(r.Context(), p, in)
		if err == nil {
			http.Redirect(w, r, fmt.Sprintf("/governance/elections/%d?done=created", e.ID), http.StatusSeeOther)
			return
		}
		if !errors.As(err, &es) {
			h.govFail(w, r, err)
			return
		}
	}
	d, err := h.elNewBase(r, p)
	if err != nil {
		h.govFail(w, r, err)
		return
	}
	for _, k := range elNewFields {
		d.V[k] = f.Get(k)
	}
	var rules *policy.ElectionRules
	if village > 0 {
		rules = h.S.ElectionRules(village)
	}
	d.Errors.add(d.Locale, es, func(name string) string { return i18n.T(d.Locale, "gov.election.field."+elFieldKey(name)) },
		func(e *field.Error) string { return elErrorText(d.Locale, e, rules) })
	h.R.Page(w, r, http.StatusUnprocessableEntity, "gov_election_new.html", d)
}

// elFieldKey is the catalogue key part of a field name (votes[12] → votes).
func elFieldKey(name string) string {
	if i := strings.IndexByte(name, '['); i >= 0 {
		name = name[:i]
	}
	switch name {
	case "village", "body_kind", "title", "day", "seats", "truster", "trustee", "resident_id", "reserved", "ballots", "invalid",
		"votes", "winners", "note":
		return name
	}
	return "other"
}

// ---- the election page ----

type elPageData struct {
	E           Election
	VillageName string
	BodyLabel   string
	Rules       *policy.ElectionRules
	Locale      string
	Today       int
	CanRun      bool
	Flash       string
	FlashArg    string
	Summary     []elExcluded // after a roll was built

	// the roll
	Q, View    string
	Views      []elViewLink
	Voters     []Voter
	Total      int
	Page       int
	Prev, Next string
	Back       string // the roll's query, kept through the actions

	Proxies    []elProxyGroup
	Reserved   []elOption
	Candidates []elCandidateRow
	Tie        *SeatGroup
	TieNames   []Candidate
	Figures    ElectionFigures
	Notes      []string

	// a refused action: which form, its messages, its values
	Form   string
	Errors elFormErrors
	V      map[string]string
}

type elExcluded struct {
	Reason string
	N      int
}

type elViewLink struct {
	Key, Href string
	Current   bool
}

// elProxyGroup is a trustee with the voters they vote for.
type elProxyGroup struct {
	TrusteeID   int64
	TrusteeName string
	Trusters    []Proxy
}

type elCandidateRow struct {
	Candidate
	ReservedLabel string
}

// Err is the message at a field of form, when that form failed.
func (d *elPageData) Err(form, name string) string {
	if d.Form == form {
		return d.Errors.At[name]
	}
	return ""
}

// Val is a value of the failed form, else def.
func (d *elPageData) Val(form, name, def string) string {
	if d.Form == form {
		return d.V[name]
	}
	return def
}

// VoteErr is the message at a candidate's votes in the count form.
func (d *elPageData) VoteErr(id int64) string {
	return d.Err(elActCount, "votes["+strconv.FormatInt(id, 10)+"]")
}

// VoteVal is the value of a candidate's votes in the count form.
func (d *elPageData) VoteVal(c elCandidateRow) string {
	def := ""
	if d.E.CountRecorded() {
		def = strconv.Itoa(c.Votes)
	}
	return d.Val(elActCount, "votes_"+strconv.FormatInt(c.ID, 10), def)
}

// Open tells whether the roll may still change: built, no vote yet, not
// counted.
func (d *elPageData) Open() bool {
	return d.E.State == ElectionRoll && !d.E.VotingStarted() && !d.E.CountRecorded()
}

// Marking tells whether voters may be marked now.
func (d *elPageData) Marking() bool {
	return d.CanRun && d.E.State == ElectionRoll && !d.E.CountRecorded() && d.Today >= d.E.Day
}

// Proxying tells whether proxies may be given now.
func (d *elPageData) Proxying() bool {
	return d.CanRun && d.E.State == ElectionRoll && !d.E.CountRecorded() && d.Rules != nil && d.Rules.ProxyLimit > 0
}

// Counting tells whether the count form is shown.
func (d *elPageData) Counting() bool {
	return d.CanRun && d.E.State == ElectionRoll && d.E.VotingStarted() && len(d.E.Candidates) > 0
}

// CanEntrust tells whether voter v may still give a proxy.
func (d *elPageData) CanEntrust(v Voter) bool {
	return d.Proxying() && v.Voted == "" && v.TrusteeID == 0 && v.Trusters == 0
}

// ReservedFor are the reserved seats a voter of residency may stand for.
func (d *elPageData) ReservedFor(residency string) []elOption {
	if d.Rules == nil {
		return nil
	}
	var out []elOption
	for _, r := range d.Rules.Reserved {
		if r.Residency == residency {
			out = append(out, elOption{r.Key, r.Label.Get(d.Locale)})
		}
	}
	return out
}

// Age is a voter's age on the election day.
func (d *elPageData) Age(v Voter) int { return v.AgeOn(d.E.Day) }

// Pct writes a share as 96.5%.
func (d *elPageData) Pct(v float64) string { return elPercent(v) }

// Turnout is the turnout as text ("—" before anybody voted).
func (d *elPageData) Turnout() string {
	if t, ok := d.E.Turnout(); ok && d.E.Voted > 0 {
		return elPercent(t)
	}
	return "—"
}

// ReservedSeats is the number of seats reserved by the pack.
func (d *elPageData) ReservedSeats() int {
	n := 0
	if d.Rules != nil {
		for _, r := range d.Rules.Reserved {
			n += r.Seats
		}
	}
	return n
}

// elLoad reads the election of the path.
func (h *HTTP) elLoad(w http.ResponseWriter, r *http.Request) (*access.Principal, Election, bool) {
	p, ok := h.viewerOf(w, r)
	if !ok {
		return nil, Election{}, false
	}
	id, err := strconv.ParseInt(r.PathValue("id"), 10, 64)
	if err != nil {
		h.R.Error(w, r, http.StatusNotFound, "")
		return nil, Election{}, false
	}
	e, err := h.S.GetElection(r.Context(), p, id)
	if err != nil {
		h.govFail(w, r, err)
		return nil, Election{}, false
	}
	return p, e, true
}

// elRollQuery is the roll's state (search, view, page) as a query.
func elRollQuery(q, view string, page int) url.Values {
	v := url.Values{}
	if q != "" {
		v.Set("q", q)
	}
	if view != "" {
		v.Set("view", view)
	}
	if page > 1 {
		v.Set("page", strconv.Itoa(page))
	}
	return v
}

var elRollViews = []string{VotersAll, VotersNotVoted, VotersVoted, VotersProxy}

// elData builds the election page; rollQ is the roll's state (the page's
// query, or the form's back field after a refused action).
func (h *HTTP) elData(r *http.Request, p *access.Principal, e Election, rollQ url.Values) (*elPageData, error) {
	ctx := r.Context()
	d := &elPageData{E: e, Locale: i18n.Negotiate(r), Today: h.S.Today(), CanRun: p.CanAt(PermElection, e.Division),
		Rules: h.S.ElectionRules(e.Division), Errors: newElFormErrors(), V: map[string]string{}}
	d.VillageName = h.unitName(ctx, e.Division)
	d.BodyLabel = h.elBodyLabel(e.Division, e.BodyKind, d.Locale)
	d.Q = strings.TrimSpace(rollQ.Get("q"))
	if v := rollQ.Get("view"); slices.Contains(elRollViews, v) {
		d.View = v
	}
	d.Page, _ = strconv.Atoi(rollQ.Get("page"))
	d.Page = max(d.Page, 1)
	d.Back = elRollQuery(d.Q, d.View, d.Page).Encode()
	base := fmt.Sprintf("/governance/elections/%d", e.ID)
	link := func(view string, page int) string {
		v := elRollQuery(d.Q, view, page)
		if len(v) == 0 {
			return base + "#roll"
		}
		return base + "?" + v.Encode() + "#roll"
	}
	for _, v := range elRollViews {
		d.Views = append(d.Views, elViewLink{Key: v, Href: link(v, 1), Current: v == d.View})
	}
	if e.State != ElectionPreparing {
		page, err := h.S.Voters(ctx, p, e.ID, VoterFilter{Q: d.Q, View: d.View, Offset: (d.Page - 1) * elRollPage, Limit: elRollPage})
		if err != nil {
			return nil, err
		}
		d.Voters, d.Total = page.Voters, page.Total
		if d.Page > 1 {
			d.Prev = link(d.View, d.Page-1)
		}
		if d.Page*elRollPage < d.Total {
			d.Next = link(d.View, d.Page+1)
		}
		ps, err := h.S.Proxies(ctx, p, e.ID)
		if err != nil {
			return nil, err
		}
		for _, x := range ps {
			if n := len(d.Proxies); n == 0 || d.Proxies[n-1].TrusteeID != x.TrusteeID {
				d.Proxies = append(d.Proxies, elProxyGroup{TrusteeID: x.TrusteeID, TrusteeName: x.TrusteeName})
			}
			g := &d.Proxies[len(d.Proxies)-1]
			g.Trusters = append(g.Trusters, x)
		}
	}
	if d.Rules != nil {
		for _, rs := range d.Rules.Reserved {
			d.Reserved = append(d.Reserved, elOption{rs.Key, rs.Label.Get(d.Locale)})
		}
	}
	for _, c := range e.Candidates {
		row := elCandidateRow{Candidate: c}
		for _, o := range d.Reserved {
			if o.Key == c.Reserved {
				row.ReservedLabel = o.Label
			}
		}
		if c.Reserved != "" && row.ReservedLabel == "" {
			row.ReservedLabel = c.Reserved
		}
		d.Candidates = append(d.Candidates, row)
	}
	if e.Pending() {
		res := h.S.Result(e)
		d.Tie = res.Tie
		if d.Tie != nil {
			for _, c := range e.Candidates {
				if slices.Contains(d.Tie.Tied, c.ID) {
					d.TieNames = append(d.TieNames, c)
				}
			}
		}
	}
	if e.CountRecorded() {
		d.Figures = e.Figures(d.Rules)
		notes, err := h.S.RevoteNotes(ctx, e)
		if err != nil {
			return nil, err
		}
		d.Notes = notes
	}
	q := r.URL.Query()
	if done := q.Get("done"); done == "created" || slices.Contains(elActions, done) {
		d.Flash = done
		d.FlashArg = q.Get("n")
		if done == elActRoll {
			for _, why := range IneligibleReasons {
				if n, err := strconv.Atoi(q.Get("x_" + why)); err == nil && n > 0 {
					d.Summary = append(d.Summary, elExcluded{why, n})
				}
			}
		}
	}
	return d, nil
}

func (h *HTTP) electionPage(w http.ResponseWriter, r *http.Request) {
	p, e, ok := h.elLoad(w, r)
	if !ok {
		return
	}
	d, err := h.elData(r, p, e, r.URL.Query())
	if err != nil {
		h.govFail(w, r, err)
		return
	}
	h.R.Page(w, r, http.StatusOK, "gov_election.html", d)
}

// elAnchors are where each action's section is on the page.
var elAnchors = map[string]string{elActRoll: "roll", elActCandidate: "candidates", elActCandidateRemove: "candidates",
	elActProxy: "proxies", elActProxyClear: "proxies", elActVoted: "roll", elActCount: "count", elActRevote: "count"}

// elActFields are the act form's fields kept to fill a form again.
var elActFields = []string{"resident_id", "reserved", "truster", "trustee", "ballots", "invalid", "note"}

func (h *HTTP) electionAct(w http.ResponseWriter, r *http.Request) {
	p, e, ok := h.elLoad(w, r)
	if !ok {
		return
	}
	if err := r.ParseForm(); err != nil {
		h.R.Error(w, r, http.StatusBadRequest, "")
		return
	}
	ctx := r.Context()
	f := r.PostForm
	kind := f.Get("kind")
	num := func(name string) int64 {
		n, _ := strconv.ParseInt(strings.TrimSpace(f.Get(name)), 10, 64)
		return n
	}
	done := url.Values{}
	var err error
	switch kind {
	case elActRoll:
		var sum RollSummary
		sum, err = h.S.BuildRoll(ctx, p, e.ID)
		done.Set("n", strconv.Itoa(sum.Voters))
		for why, n := range sum.Excluded {
			done.Set("x_"+why, strconv.Itoa(n))
		}
	case elActCandidate:
		_, err = h.S.AddCandidate(ctx, p, e.ID, CandidateInput{ResidentID: num("resident_id"), Reserved: f.Get("reserved")})
	case elActCandidateRemove:
		err = h.S.RemoveCandidate(ctx, p, e.ID, num("candidate_id"))
	case elActProxy:
		err = h.S.SetProxy(ctx, p, e.ID, num("truster"), num("trustee"))
	case elActProxyClear:
		err = h.S.ClearProxy(ctx, p, e.ID, num("truster"))
	case elActVoted:
		var n int
		n, err = h.S.MarkVoted(ctx, p, e.ID, num("resident_id"))
		done.Set("n", strconv.Itoa(n))
	case elActCount:
		in := CountInput{Votes: map[int64]int{}}
		var es field.Errors
		in.Ballots = elAtoi(&es, "ballots", f.Get("ballots"))
		in.Invalid = elAtoi(&es, "invalid", f.Get("invalid"))
		for _, c := range e.Candidates {
			name := "votes_" + strconv.FormatInt(c.ID, 10)
			if strings.TrimSpace(f.Get(name)) != "" {
				in.Votes[c.ID] = elAtoi(&es, "votes["+strconv.FormatInt(c.ID, 10)+"]", f.Get(name))
			}
		}
		if len(es) > 0 {
			err = es
		} else {
			_, err = h.S.Count(ctx, p, e.ID, in)
		}
	case elActRevote:
		rv := Revote{Note: f.Get("note")}
		for _, s := range f["winners"] {
			if id, err := strconv.ParseInt(s, 10, 64); err == nil {
				rv.Winners = append(rv.Winners, id)
			}
		}
		_, err = h.S.ResolveTie(ctx, p, e.ID, rv)
	default:
		h.R.Error(w, r, http.StatusBadRequest, "")
		return
	}
	back, _ := url.ParseQuery(f.Get("back"))
	if err == nil {
		q := elRollQuery(back.Get("q"), back.Get("view"), elAtoiDefault(back.Get("page"), 1))
		q.Set("done", kind)
		for k, v := range done {
			q[k] = v
		}
		http.Redirect(w, r, fmt.Sprintf("/governance/elections/%d?%s#%s", e.ID, q.Encode(), elAnchors[kind]), http.StatusSeeOther)
		return
	}
	var es field.Errors
	var ee *ElectionError
	if !errors.As(err, &es) && !errors.As(err, &ee) {
		h.govFail(w, r, err)
		return
	}
	e, gerr := h.S.GetElection(ctx, p, e.ID) // as it is now
	if gerr != nil {
		h.govFail(w, r, gerr)
		return
	}
	status := http.StatusUnprocessableEntity
	if f.Get("from") == "proxy" && kind == elActProxy {
		pd, perr := h.elProxyData(r, p, e, num("truster"), f.Get("q"))
		if perr != nil {
			h.govFail(w, r, perr)
			return
		}
		pd.Errors.add(pd.Locale, es, pd.label, func(x *field.Error) string { return elErrorText(pd.Locale, x, pd.Rules) })
		if ee != nil {
			status = http.StatusConflict
			pd.Errors.List = append(pd.Errors.List, i18n.T(pd.Locale, "gov.election.refused."+ee.Code))
		}
		h.R.Page(w, r, status, "gov_election_proxy.html", pd)
		return
	}
	d, derr := h.elData(r, p, e, back)
	if derr != nil {
		h.govFail(w, r, derr)
		return
	}
	d.Form = kind
	for _, k := range elActFields {
		d.V[k] = f.Get(k)
	}
	for k := range f {
		if strings.HasPrefix(k, "votes_") {
			d.V[k] = f.Get(k)
		}
	}
	d.Errors.add(d.Locale, es, d.fieldLabel, func(x *field.Error) string { return elErrorText(d.Locale, x, d.Rules) })
	if ee != nil {
		status = http.StatusConflict
		d.Errors.List = append(d.Errors.List, i18n.T(d.Locale, "gov.election.refused."+ee.Code))
	}
	h.R.Page(w, r, status, "gov_election.html", d)
}

// fieldLabel names a field of the election page's forms: a candidate's
// votes by the candidate's name.
func (d *elPageData) fieldLabel(name string) string {
	if rest, ok := strings.CutPrefix(name, "votes["); ok {
		id, _ := strconv.ParseInt(strings.TrimSuffix(rest, "]"), 10, 64)
		for _, c := range d.E.Candidates {
			if c.ID == id {
				return i18n.T(d.Locale, "gov.election.votes_of", c.Name)
			}
		}
	}
	return i18n.T(d.Locale, "gov.election.field."+elFieldKey(name))
}

// elAtoi reads a whole number of a form (empty: 0 and required).
func elAtoi(es *field.Errors, name, s string) int {
	s = strings.TrimSpace(s)
	if s == "" {
		es.Add(name, "required")
		return 0
	}
	n, err := strconv.Atoi(s)
	if err != nil {
		es.Add(name, "number")
		return 0
	}
	return n
}

func elAtoiDefault(s string, def int) int {
	if n, err := strconv.Atoi(s); err == nil {
		return n
	}
	return def
}

// ---- choosing a trustee ----

type elProxyData struct {
	E           Election
	VillageName string
	Truster     Voter
	Q           string
	Hits        []Voter
	Limit       int
	Rules       *policy.ElectionRules
	Errors      elFormErrors
	Locale      string
	Today       int
}

func (d *elProxyData) label(name string) string {
	return i18n.T(d.Locale, "gov.election.field."+elFieldKey(name))
}

// Age is a voter's age on the election day.
func (d *elProxyData) Age(v Voter) int { return v.AgeOn(d.E.Day) }

func (h *HTTP) elProxyData(r *http.Request, p *access.Principal, e Election, truster int64, q string) (*elProxyData, error) {
	ctx := r.Context()
	d := &elProxyData{E: e, Q: strings.TrimSpace(q), Rules: h.S.ElectionRules(e.Division), Errors: newElFormErrors(),
		Locale: i18n.Negotiate(r), Today: h.S.Today()}
	if d.Rules != nil {
		d.Limit = d.Rules.ProxyLimit
	}
	d.VillageName = h.unitName(ctx, e.Division)
	tr, err := h.S.elst().voter(ctx, e.ID, truster)
	if err != nil {
		return nil, err
	}
	d.Truster = tr
	if d.Q != "" {
		page, err := h.S.Voters(ctx, p, e.ID, VoterFilter{Q: d.Q, View: VotersNotVoted, Limit: 30})
		if err != nil {
			return nil, err
		}
		for _, v := range page.Voters {
			if v.ResidentID != truster && v.TrusteeID == 0 && v.Trusters < d.Limit {
				d.Hits = append(d.Hits, v)
			}
		}
	}
	return d, nil
}

func (h *HTTP) electionProxyPage(w http.ResponseWriter, r *http.Request) {
	p, e, ok := h.elLoad(w, r)
	if !ok {
		return
	}
	if !p.CanAt(PermElection, e.Division) {
		h.R.Error(w, r, http.StatusForbidden, "")
		return
	}
	truster, _ := strconv.ParseInt(r.URL.Query().Get("truster"), 10, 64)
	d, err := h.elProxyData(r, p, e, truster, r.URL.Query().Get("q"))
	if err != nil {
		h.govFail(w, r, err)
		return
	}
	h.R.Page(w, r, http.StatusOK, "gov_election_proxy.html", d)
}
