package governance

import (
	"errors"
	"io"
	"mime/multipart"
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
	"github.com/shequ-platform/shequ/internal/platform/web"
)

// The matter pages (behind login): the list with each matter's stages as
// chips, the proposal form, the matter's page — its procedure as a stepper
// (each stage's day, meeting and the vote's figures), its implementation
// timeline with photos, the residents' ratings and comments, and the
// actions its current stage allows — and the annual work goals. The
// stylesheet is internal/platform/web/static/gov-matters.css.

// MatterUpload is the route that takes a step's photos; the app lists it
// in web.MaxBody so the photos fit.
var MatterUpload = web.Upload{Method: http.MethodPost, Path: "/governance/matters/*/act",
	Limit: MaxStepPhotos*MaxStepPhoto + 1<<20}

func (h *HTTP) matterRoutes(mux *http.ServeMux) {
	mux.HandleFunc("GET /governance/matters", h.matterList)
	mux.HandleFunc("GET /governance/matters/new", h.matterNewForm)
	mux.HandleFunc("POST /governance/matters/new", h.matterCreate)
	mux.HandleFunc("GET /governance/matters/{number}", h.matterPage)
	mux.HandleFunc("POST /governance/matters/{number}/act", h.matterAct)
	mux.HandleFunc("POST /governance/matters/{number}/steps/{step}/public", h.matterStepPublic)
	mux.HandleFunc("GET /governance/matters/{number}/photos/{photo}", h.matterPhoto)
	mux.HandleFunc("GET /governance/goals", h.goalsPage)
}

// ---- labels ----

// bodyLabel names a body kind of g in locale (the key when g lacks it).
func bodyLabel(g *policy.Governance, key, locale string) string {
	if b, ok := g.Body(key); ok {
		return b.Label.Get(locale)
	}
	return key
}

// proposerLabel names a proposer: residents, or a body kind.
func proposerLabel(g *policy.Governance, key, locale string) string {
	if key == policy.ProposerResidents {
		return i18n.T(locale, "gov.matter.proposer_residents")
	}
	return bodyLabel(g, key, locale)
}

// actionLabel names an action on a matter: the pack's label of an
// implementation step, else the catalogue's.
func actionLabel(g *policy.Governance, action, locale string) string {
	if g != nil {
		for _, st := range g.Implementation {
			if st.Key == action {
				return st.Label.Get(locale)
			}
		}
	}
	return i18n.T(locale, "gov.step."+action)
}

// matterErrorText translates a field error of a matter form.
func matterErrorText(locale string, e *field.Error) string {
	if e.Arg == "" {
		return i18n.T(locale, "gov.matter.error."+e.Code)
	}
	return i18n.T(locale, "gov.matter.error."+e.Code, e.Arg)
}

// matterErrors is a form's problems: the message at each field, and the
// list at the top of the form, each naming its field.
type matterErrors struct {
	At   map[string]string
	List []string
}

func newMatterErrors() matterErrors { return matterErrors{At: map[string]string{}} }

func (fe *matterErrors) add(locale string, es field.Errors) {
	for _, e := range es {
		msg := matterErrorText(locale, e)
		if _, dup := fe.At[e.Field]; !dup {
			fe.At[e.Field] = msg
		}
		fe.List = append(fe.List, i18n.T(locale, "gov.matter.field."+e.Field)+i18n.T(locale, "gov.matter.colon")+msg)
	}
}

// ---- stage chips and the stepper ----

// Stage states of a chip.
const (
	chipDone    = "done"    // passed
	chipCurrent = "current" // the matter waits here
	chipTodo    = "todo"    // still ahead
	chipFailed  = "failed"  // voted down here
	chipStopped = "stopped" // withdrawn here
)

// StageChip is one stage of a matter's procedure as the list and the
// stepper show it.
type StageChip struct {
	Key, Label, Kind, State string
}

// stageChips lays a matter's procedure out as chips.
func stageChips(pr policy.Procedure, m Matter, locale string) []StageChip {
	_, at, _ := pr.Stage(m.Stage)
	out := make([]StageChip, 0, len(pr.Stages))
	for i, st := range pr.Stages {
		c := StageChip{Key: st.Key, Label: st.Label.Get(locale), Kind: st.Kind, State: chipTodo}
		switch {
		case m.Status == MatterDone || i < at:
			c.State = chipDone
		case i == at && m.Status == MatterRejected:
			c.State = chipFailed
		case i == at && m.Status == MatterWithdrawn:
			c.State = chipStopped
		case i == at:
			c.State = chipCurrent
		}
		out = append(out, c)
	}
	return out
}

// StepperStage is one stage of the matter page's stepper.
type StepperStage struct {
	StageChip
	Body      string // meeting stages: the body that votes
	BodyKind  string
	Day       int // when it passed (or failed)
	Votes     []VoteLine
	Agenda    []AgendaRef // undecided agenda items (the current stage)
	Proposer  string      // the propose stage: who proposed
	Signature int
}

// VoteLine is one vote on the matter at a meeting, with its figures.
type VoteLine struct {
	MeetingID int64
	Meeting   string
	Day       int
	Result    string
	Figures   string
}

// voteFigures writes a vote's figures, with the votes for it needed under
// the body's rules: 出席 20/27 人，赞成 15、反对 3、弃权 2（通过需赞成 11 票）.
func voteFigures(g *policy.Governance, mt *StepMeeting, locale string) string {
	need := 0
	if b, ok := g.Body(mt.BodyKind); ok {
		if o, err := Decide(b, Tally{Members: mt.Members, Present: mt.Present, For: mt.For, Against: mt.Against, Abstain: mt.Abstain}); err == nil {
			need = o.NeedFor
		}
	}
	return i18n.T(locale, "gov.matter.figures", mt.Present, mt.Members, mt.For, mt.Against, mt.Abstain, need)
}

// stepper builds the stepper of a matter from its history.
func stepper(g *policy.Governance, pr policy.Procedure, m Matter, steps []Step, agenda []AgendaRef, locale string) []StepperStage {
	chips := stageChips(pr, m, locale)
	out := make([]StepperStage, len(chips))
	for i, c := range chips {
		st := pr.Stages[i]
		out[i] = StepperStage{StageChip: c, BodyKind: st.Body}
		if st.Body != "" {
			out[i].Body = bodyLabel(g, st.Body, locale)
		}
		if st.Kind == policy.StagePropose {
			out[i].Proposer = proposerLabel(g, m.Proposer, locale)
			out[i].Signature = m.Signatures
		}
	}
	index := func(key string) int {
		return slices.IndexFunc(out, func(s StepperStage) bool { return s.Key == key })
	}
	for _, s := range steps {
		i := index(s.Stage)
		if i < 0 {
			continue
		}
		switch s.Action {
		case ActPropose, ActPass, ActComplete, ActEvaluate, ActReject:
			out[i].Day = s.Day
		}
		if s.Meeting != nil && (s.Action == ActPass || s.Action == ActReject || s.Action == ActNoQuorum) {
			out[i].Votes = append(out[i].Votes, VoteLine{MeetingID: s.MeetingID, Meeting: s.Meeting.Title, Day: s.Meeting.Day,
				Result: s.Meeting.Result, Figures: voteFigures(g, s.Meeting, locale)})
		}
	}
	for _, a := range agenda {
		if i := index(a.Stage); i >= 0 && a.Stage == m.Stage {
			out[i].Agenda = append(out[i].Agenda, a)
		}
	}
	return out
}

// ---- the list ----

type matterListData struct {
	Q, Status, Stage string
	GoalYear         int
	Unit             int64
	Villages         []division.Division
	Statuses         []string
	Stages           []StageChip // the stages of the procedures in scope, each key once
	Years            []int
	Rows             []matterRow
	Page             int
	Prev, Next       string
	CanManage        bool
	Locale           string
}

type matterRow struct {
	Matter
	Village    string
	Chips      []StageChip
	BudgetYuan string
	SpentYuan  string
}

const matterPageSize = 50

func (h *HTTP) matterList(w http.ResponseWriter, r *http.Request) {
	p, ok := h.viewerOf(w, r)
	if !ok {
		return
	}
	ctx := r.Context()
	q := r.URL.Query()
	d := matterListData{Q: strings.TrimSpace(q.Get("q")), Status: q.Get("status"), Stage: q.Get("stage"),
		Locale: i18n.Negotiate(r), CanManage: p.Can(PermManage), Statuses: MatterStatuses}
	if !slices.Contains(MatterStatuses, d.Status) {
		d.Status = ""
	}
	d.GoalYear, _ = strconv.Atoi(q.Get("goal_year"))
	if u, err := strconv.ParseInt(q.Get("unit"), 10, 64); err == nil && u > 0 {
		d.Unit = u
	}
	d.Page, _ = strconv.Atoi(q.Get("page"))
	d.Page = max(d.Page, 1)
	villages, err := h.villages(ctx, p, PermView, 300)
	if err != nil {
		h.govFail(w, r, err)
		return
	}
	d.Villages = villages
	y := h.S.Today() / 10000
	d.Years = []int{y + 1, y, y - 1}
	seen := map[string]bool{}
	for _, v := range villages {
		g := h.S.Rules(v.Code)
		if g == nil {
			continue
		}
		for _, pr := range g.Procedures {
			for _, st := range pr.Stages[1:] {
				if !seen[st.Key] {
					seen[st.Key] = true
					d.Stages = append(d.Stages, StageChip{Key: st.Key, Label: st.Label.Get(d.Locale), Kind: st.Kind})
				}
			}
		}
	}
	list, err := h.S.Matters(ctx, p, MatterFilter{Unit: d.Unit, Stage: d.Stage, Status: d.Status, GoalYear: d.GoalYear, Q: d.Q,
		Offset: (d.Page - 1) * matterPageSize, Limit: matterPageSize})
	if err != nil {
		h.govFail(w, r, err)
		return
	}
	names := map[int64]string{}
	for _, m := range list.Matters {
		n, ok := names[m.Division]
		if !ok {
			n = h.unitName(ctx, m.Division)
			names[m.Division] = n
		}
		row := matterRow{Matter: m, Village: n, BudgetYuan: FormatYuan(m.Budget), SpentYuan: FormatYuan(m.Spent)}
		if pr, ok := h.S.Rules(m.Division).Procedure(m.Procedure); ok {
			row.Chips = stageChips(pr, m, d.Locale)
		}
		d.Rows = append(d.Rows, row)
	}
	link := func(page int) string {
		v := url.Values{}
		for k, val := range map[string]string{"q": d.Q, "status": d.Status, "stage": d.Stage} {
			if val != "" {
				v.Set(k, val)
			}
		}
		if d.Unit > 0 {
			v.Set("unit", strconv.FormatInt(d.Unit, 10))
		}
		if d.GoalYear != 0 {
			v.Set("goal_year", strconv.Itoa(d.GoalYear))
		}
		if page > 1 {
			v.Set("page", strconv.Itoa(page))
		}
		if len(v) == 0 {
			return "/governance/matters"
		}
		return "/governance/matters?" + v.Encode()
	}
	if d.Page > 1 {
		d.Prev = link(d.Page - 1)
	}
	if list.More {
		d.Next = link(d.Page + 1)
	}
	h.R.Page(w, r, http.StatusOK, "gov_matter_list.html", d)
}

// ---- the proposal form ----

type matterNewData struct {
	Villages     []division.Division
	Village      int64
	Procedures   []keyLabel
	Procedure    string
	Proposers    []keyLabel
	Proposer     string
	ProposerName string
	Signatures   string
	NeedSigs     int
	Title        string
	Description  string
	Budget       string
	GoalYear     int
	Years        []int
	Errors       matterErrors
	Locale       string
}

type keyLabel struct{ Key, Label string }

// E is the message of a field.
func (d *matterNewData) E(name string) string { return d.Errors.At[name] }

// setVillage chooses the village (the one asked for when p may propose
// there), its procedures and the chosen procedure's proposers.
func (h *HTTP) setVillage(d *matterNewData, p *access.Principal, asked, procedure string) {
	if u, err := strconv.ParseInt(asked, 10, 64); err == nil {
		if v, ok := VillageOf(u); ok && p.CanAt(PermManage, v) {
			d.Village = v
		}
	}
	if d.Village == 0 && len(d.Villages) > 0 {
		d.Village = d.Villages[0].Code
	}
	g := h.S.Rules(d.Village)
	if g == nil {
		return
	}
	for _, pr := range g.Procedures {
		d.Procedures = append(d.Procedures, keyLabel{pr.Key, pr.Label.Get(d.Locale)})
	}
	pr, ok := g.Procedure(procedure)
	if !ok {
		pr, _ = g.Procedure("")
	}
	d.Procedure = pr.Key
	if len(pr.Stages) > 0 {
		for _, who := range pr.Stages[0].Proposers {
			d.Proposers = append(d.Proposers, keyLabel{who, proposerLabel(g, who, d.Locale)})
		}
		d.NeedSigs = pr.Stages[0].Signatures
	}
}

func (h *HTTP) matterNewBase(r *http.Request, p *access.Principal) (*matterNewData, error) {
	d := &matterNewData{Locale: i18n.Negotiate(r), Errors: newMatterErrors()}
	vs, err := h.villages(r.Context(), p, PermManage, 300)
	if err != nil {
		return nil, err
	}
	d.Villages = vs
	y := h.S.Today() / 10000
	d.Years = []int{y, y + 1}
	return d, nil
}

func (h *HTTP) matterNewForm(w http.ResponseWriter, r *http.Request) {
	p, ok := h.viewerOf(w, r)
	if !ok {
		return
	}
	if !p.Can(PermManage) {
		h.R.Error(w, r, http.StatusForbidden, "")
		return
	}
	d, err := h.matterNewBase(r, p)
	if err != nil {
		h.govFail(w, r, err)
		return
	}
	q := r.URL.Query()
	h.setVillage(d, p, q.Get("village"), q.Get("procedure"))
	if len(d.Proposers) > 0 {
		d.Proposer = d.Proposers[0].Key
	}
	h.R.Page(w, r, http.StatusOK, "gov_matter_new.html", d)
}

func (h *HTTP) matterCreate(w http.ResponseWriter, r *http.Request) {
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
	d, err := h.matterNewBase(r, p)
	if err != nil {
		h.govFail(w, r, err)
		return
	}
	h.setVillage(d, p, f.Get("village"), f.Get("procedure"))
	d.Proposer, d.ProposerName, d.Signatures = f.Get("proposer"), f.Get("proposer_name"), strings.TrimSpace(f.Get("signatures"))
	d.Title, d.Description, d.Budget = f.Get("title"), f.Get("description"), f.Get("budget")
	d.GoalYear, _ = strconv.Atoi(f.Get("goal_year"))
	if f.Get("op") == "create" {
		var es field.Errors
		in := MatterInput{Village: d.Village, Procedure: d.Procedure, Title: d.Title, Description: d.Description,
			Proposer: d.Proposer, ProposerName: d.ProposerName, Budget: d.Budget, GoalYear: d.GoalYear}
		if d.Signatures != "" {
			n, err := strconv.Atoi(d.Signatures)
			if err != nil {
				n = -1 // refused with the other problems
			}
			in.Signatures = n
		}
		if d.Village == 0 {
			es.Add("village", "required")
		} else {
			m, err := h.S.Propose(r.Context(), p, in)
			if err == nil {
				http.Redirect(w, r, "/governance/matters/"+url.PathEscape(m.Number)+"?done=propose", http.StatusSeeOther)
				return
			}
			if !errors.As(err, &es) {
				h.govFail(w, r, err)
				return
			}
		}
		d.Errors.add(d.Locale, es)
	}
	status := http.StatusOK
	if len(d.Errors.List) > 0 {
		status = http.StatusUnprocessableEntity
	}
	h.R.Page(w, r, status, "gov_matter_new.html", d)
}

// ---- the matter page ----

type matterPageData struct {
	M           Matter
	Village     string
	Procedure   string
	Status      string
	Stepper     []StepperStage
	Current     StepperStage
	Timeline    []timelineItem
	Comments    []Rating
	RatingN     int
	Rating      string
	Budget      string
	Spent       string
	Can         map[string]bool
	Acts        []string // the staff actions allowed now, in order
	ActLabels   map[string]string
	CanManage   bool
	Meetings    []MatterMeeting // the urge step's choices
	AgendaHref  string          // the meetings of the current stage's body
	MeetingHref string          // scheduling a meeting of that body
	Errors      matterErrors
	Action      string            // the action whose form failed
	V           map[string]string // its values
	Flash       string
	Today       string
	Locale      string
	Photos      int
	PhotoMB     int
}

// timelineItem is one entry of the implementation timeline.
type timelineItem struct {
	Step
	Label     string
	Spent     string
	Hideable  bool
	PhotoBase string
}

// Err is the message of a field of action's form, when that form failed.
func (d *matterPageData) Err(action, name string) string {
	if d.Action == action {
		return d.Errors.At[name]
	}
	return ""
}

// Val is a value of the failed action's form, else def.
func (d *matterPageData) Val(action, name, def string) string {
	if d.Action == action {
		return d.V[name]
	}
	return def
}

// Opened tells whether action's form is shown unfolded: the one that
// failed, else the first one offered.
func (d *matterPageData) Opened(action string) bool {
	if d.Action != "" {
		return d.Action == action
	}
	return len(d.Acts) > 0 && d.Acts[0] == action && action != ActWithdraw
}

func (h *HTTP) loadMatter(w http.ResponseWriter, r *http.Request) (*access.Principal, Matter, bool) {
	p, ok := h.viewerOf(w, r)
	if !ok {
		return nil, Matter{}, false
	}
	m, err := h.S.MatterByNumber(r.Context(), p, r.PathValue("number"))
	if err != nil {
		h.govFail(w, r, err)
		return nil, Matter{}, false
	}
	return p, m, true
}

func (h *HTTP) matterData(r *http.Request, p *access.Principal, m Matter) (*matterPageData, error) {
	ctx := r.Context()
	d := &matterPageData{M: m, Locale: i18n.Negotiate(r), Errors: newMatterErrors(), V: map[string]string{},
		Can: map[string]bool{}, ActLabels: map[string]string{}, Today: calendar.FormatDay(h.S.Today()),
		Photos: MaxStepPhotos, PhotoMB: MaxStepPhoto >> 20, Budget: FormatYuan(m.Budget), Spent: FormatYuan(m.Spent),
		RatingN: m.RatingN, Rating: m.RatingText()}
	if fl := r.URL.Query().Get("done"); slices.Contains(staffActs, fl) || fl == ActPropose || fl == "public" {
		d.Flash = fl
	}
	d.Village = h.unitName(ctx, m.Division)
	d.Status = i18n.T(d.Locale, "gov.matter.status."+m.Status)
	g := h.S.Rules(m.Division)
	steps, err := h.S.MatterSteps(ctx, p, m.ID)
	if err != nil {
		return nil, err
	}
	agenda, err := h.S.MatterAgenda(ctx, p, m.ID)
	if err != nil {
		return nil, err
	}
	if d.Comments, err = h.S.MatterRatings(ctx, p, m.ID, 100); err != nil {
		return nil, err
	}
	d.CanManage = p.CanAt(PermManage, m.Division)
	pr, ok := g.Procedure(m.Procedure)
	if ok {
		d.Procedure = pr.Label.Get(d.Locale)
		d.Stepper = stepper(g, pr, m, steps, agenda, d.Locale)
		for _, s := range d.Stepper {
			if s.Key == m.Stage {
				d.Current = s
			}
		}
		if d.CanManage {
			for _, a := range StageActions(pr, m.Position()) {
				// assign comes once, first; the work is reported after it
				assigned := m.Responsible != ""
				if a == ActAssign && assigned || (a == ActImplement || a == ActComplete) && !assigned {
					continue
				}
				if slices.Contains(staffActs, a) {
					d.Acts = append(d.Acts, a)
					d.Can[a] = true
				}
			}
		}
	}
	for _, a := range staffActs {
		d.ActLabels[a] = actionLabel(g, a, d.Locale)
	}
	if d.Current.Kind == policy.StageMeeting && m.Open() {
		d.AgendaHref = "/governance/meetings?unit=" + strconv.FormatInt(m.Division, 10) + "&body_kind=" + url.QueryEscape(d.Current.BodyKind)
		if d.CanManage {
			bodies, err := h.S.Bodies(ctx, p, m.Division, false)
			if err != nil {
				return nil, err
			}
			for _, b := range bodies {
				if b.Kind == d.Current.BodyKind {
					d.MeetingHref = "/governance/meetings/new?body=" + strconv.FormatInt(b.ID, 10)
					break
				}
			}
		}
	}
	base := "/governance/matters/" + url.PathEscape(m.Number) + "/photos/"
	for _, s := range steps {
		switch s.Action {
		case ActAssign, ActImplement, ActUrge, ActSupervise, ActComplete, ActEvaluate, ActWithdraw:
			it := timelineItem{Step: s, Label: actionLabel(g, s.Action, d.Locale),
				Hideable: slices.Contains(hideable, s.Action) && d.CanManage, PhotoBase: base}
			if s.Spent != 0 {
				it.Spent = FormatYuan(s.Spent)
			}
			d.Timeline = append(d.Timeline, it)
		}
	}
	if d.Can[ActUrge] {
		if d.Meetings, err = h.S.UrgeMeetings(ctx, p, m); err != nil {
			return nil, err
		}
	}
	return d, nil
}

func (h *HTTP) matterPage(w http.ResponseWriter, r *http.Request) {
	p, m, ok := h.loadMatter(w, r)
	if !ok {
		return
	}
	d, err := h.matterData(r, p, m)
	if err != nil {
		h.govFail(w, r, err)
		return
	}
	h.R.Page(w, r, http.StatusOK, "gov_matter.html", d)
}

// matterActFields are the form fields of the actions, kept to fill a form
// again.
var matterActFields = []string{"note", "responsible", "due", "percent", "spent", "meeting_id", "private"}

// readMatterForm parses an action's form: urlencoded, or multipart with
// photos (at most MaxStepPhotos, each read one byte past MaxStepPhoto so
// the service sees it is too large).
func readMatterForm(r *http.Request) (url.Values, [][]byte, field.Errors, error) {
	var es field.Errors
	err := r.ParseMultipartForm(1 << 20)
	switch {
	case errors.Is(err, http.ErrNotMultipart):
		return r.PostForm, nil, nil, r.ParseForm()
	case web.BodyTooLarge(err):
		es.Add("photos", "upload_too_large")
		return r.PostForm, nil, es, nil
	case err != nil:
		return nil, nil, nil, err
	}
	defer r.MultipartForm.RemoveAll()
	var files []*multipart.FileHeader
	for _, fh := range r.MultipartForm.File["photos"] {
		if fh.Size > 0 || fh.Filename != "" {
			files = append(files, fh)
		}
	}
	if len(files) > MaxStepPhotos {
		es.Add("photos", "too_many_photos", strconv.Itoa(MaxStepPhotos))
		return r.PostForm, nil, es, nil
	}
	var photos [][]byte
	for _, fh := range files {
		f, err := fh.Open()
		if err != nil {
			return nil, nil, nil, err
		}
		b, err := io.ReadAll(io.LimitReader(f, MaxStepPhoto+1))
		f.Close()
		if err != nil {
			return nil, nil, nil, err
		}
		photos = append(photos, b)
	}
	return r.PostForm, photos, nil, nil
}

func (h *HTTP) matterAct(w http.ResponseWriter, r *http.Request) {
	p, m, ok := h.loadMatter(w, r)
	if !ok {
		return
	}
	f, photos, es, err := readMatterForm(r)
	if err != nil {
		h.R.Error(w, r, http.StatusBadRequest, "")
		return
	}
	a := MatterAction{Kind: f.Get("kind"), Note: f.Get("note"), Responsible: f.Get("responsible"), Due: f.Get("due"),
		Spent: f.Get("spent"), Photos: photos, Private: f.Get("private") == "1"}
	if s := strings.TrimSpace(f.Get("percent")); s != "" {
		n, err := strconv.Atoi(s)
		if err != nil {
			n = -1
		}
		a.Percent = &n
	}
	a.MeetingID, _ = strconv.ParseInt(f.Get("meeting_id"), 10, 64)
	if len(es) == 0 {
		_, err = h.S.ActOnMatter(r.Context(), p, m.Number, a)
		if err == nil {
			http.Redirect(w, r, "/governance/matters/"+url.PathEscape(m.Number)+"?done="+url.QueryEscape(a.Kind)+"#h-actions", http.StatusSeeOther)
			return
		}
	}
	var pe *ProcedureError
	switch {
	case len(es) > 0, errors.As(err, &es), errors.As(err, &pe):
		if cur, e := h.S.Matter(r.Context(), p, m.ID); e == nil {
			m = cur
		}
		d, e := h.matterData(r, p, m)
		if e != nil {
			h.govFail(w, r, e)
			return
		}
		d.Action = a.Kind
		for _, k := range matterActFields {
			d.V[k] = f.Get(k)
		}
		d.Errors.add(d.Locale, es)
		status := http.StatusUnprocessableEntity
		if pe != nil {
			status = http.StatusConflict
			d.Errors.List = append(d.Errors.List, RefusalText(d.Locale, h.S.Rules(m.Division), pe))
		}
		h.R.Page(w, r, status, "gov_matter.html", d)
	default:
		h.govFail(w, r, err)
	}
}

func (h *HTTP) matterStepPublic(w http.ResponseWriter, r *http.Request) {
	p, m, ok := h.loadMatter(w, r)
	if !ok {
		return
	}
	if err := r.ParseForm(); err != nil {
		h.R.Error(w, r, http.StatusBadRequest, "")
		return
	}
	step, err := strconv.ParseInt(r.PathValue("step"), 10, 64)
	if err != nil {
		h.R.Error(w, r, http.StatusNotFound, "")
		return
	}
	err = h.S.SetStepPublic(r.Context(), p, m.Number, step, r.PostForm.Get("public") == "1")
	var pe *ProcedureError
	switch {
	case err == nil:
		http.Redirect(w, r, "/governance/matters/"+url.PathEscape(m.Number)+"?done=public#step-"+strconv.FormatInt(step, 10), http.StatusSeeOther)
	case errors.As(err, &pe):
		h.R.Error(w, r, http.StatusConflict, "")
	default:
		h.govFail(w, r, err)
	}
}

func (h *HTTP) matterPhoto(w http.ResponseWriter, r *http.Request) {
	p, ok := h.viewerOf(w, r)
	if !ok {
		return
	}
	id, err := strconv.ParseInt(r.PathValue("photo"), 10, 64)
	if err != nil {
		h.R.Error(w, r, http.StatusNotFound, "")
		return
	}
	ph, data, err := h.S.MatterPhoto(r.Context(), p, r.PathValue("number"), id)
	if err != nil {
		h.govFail(w, r, err)
		return
	}
	w.Header().Set("Content-Type", ph.Mime)
	w.Header().Set("Cache-Control", "private, max-age=86400")
	w.Header().Set("Content-Length", strconv.Itoa(len(data)))
	_, _ = w.Write(data)
}

// ---- the annual work goals ----

type goalsData struct {
	Villages []division.Division
	Village  int64
	Name     string
	Year     int
	Years    []int
	G        GoalList
	Summary  string
	Budget   string // of every goal, yuan
	Spent    string
	Rows     []matterRow
	Locale   string
}

func (h *HTTP) goalsPage(w http.ResponseWriter, r *http.Request) {
	p, ok := h.viewerOf(w, r)
	if !ok {
		return
	}
	ctx := r.Context()
	q := r.URL.Query()
	d := goalsData{Locale: i18n.Negotiate(r)}
	y := h.S.Today() / 10000
	d.Years = []int{y + 1, y, y - 1, y - 2}
	d.Year, _ = strconv.Atoi(q.Get("year"))
	if d.Year < 2000 || d.Year > 2100 {
		d.Year = y
	}
	vs, err := h.villages(ctx, p, PermView, 300)
	if err != nil {
		h.govFail(w, r, err)
		return
	}
	d.Villages = vs
	if v, err := strconv.ParseInt(q.Get("village"), 10, 64); err == nil && p.CanAt(PermView, v) {
		if v, ok := VillageOf(v); ok {
			d.Village = v
		}
	}
	if d.Village == 0 && len(vs) > 0 {
		d.Village = vs[0].Code
	}
	if d.Village != 0 {
		d.Name = h.unitName(ctx, d.Village)
		if d.G, err = h.S.GoalsFor(ctx, p, d.Village, d.Year); err != nil {
			h.govFail(w, r, err)
			return
		}
		if d.G.Target > 0 {
			d.Summary = i18n.T(d.Locale, "gov.goal.summary_target", d.G.Target, len(d.G.Matters), d.G.Done)
		} else {
			d.Summary = i18n.T(d.Locale, "gov.goal.summary", len(d.G.Matters), d.G.Done)
		}
		d.Budget, d.Spent = FormatYuan(d.G.Budget), FormatYuan(d.G.Spent)
		g := h.S.Rules(d.Village)
		for _, m := range d.G.Matters {
			row := matterRow{Matter: m, Village: d.Name, BudgetYuan: FormatYuan(m.Budget), SpentYuan: FormatYuan(m.Spent)}
			if pr, ok := g.Procedure(m.Procedure); ok {
				row.Chips = stageChips(pr, m, d.Locale)
			}
			d.Rows = append(d.Rows, row)
		}
	}
	h.R.Page(w, r, http.StatusOK, "gov_goals.html", d)
}
