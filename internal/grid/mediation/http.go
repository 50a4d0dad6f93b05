package mediation

import (
	"context"
	"embed"
	"errors"
	"fmt"
	"html/template"
	"log/slog"
	"net/http"
	"net/url"
	"regexp"
	"slices"
	"strconv"
	"strings"

	"github.com/shequ-platform/shequ/internal/platform/access"
	"github.com/shequ-platform/shequ/internal/platform/db"
	"github.com/shequ-platform/shequ/internal/platform/field"
	"github.com/shequ-platform/shequ/internal/platform/i18n"
	"github.com/shequ-platform/shequ/internal/platform/policy"
	"github.com/shequ-platform/shequ/internal/platform/web"
)

//go:embed templates/*.html
var templates embed.FS

// Templates are mediation's pages, for the renderer (register them with
// Funcs).
func Templates() embed.FS { return templates }

// HTTP serves mediation's pages (behind login): the list with the year's
// figures, the registration form, the dispute page with its actions and the
// printable settlement agreement.
type HTTP struct {
	S *Service
	R *web.Renderer
	// PublicURL and TrustProxy decide the address printed in the
	// agreement's QR code (see web.BaseURL).
	PublicURL  string
	TrustProxy bool
}

// Routes registers the pages (mount behind login).
func (h *HTTP) Routes(mux *http.ServeMux) {
	mux.HandleFunc("GET /mediation", h.list)
	mux.HandleFunc("GET /mediation/new", h.newForm)
	mux.HandleFunc("POST /mediation/new", h.create)
	mux.HandleFunc("GET /mediation/{id}", h.page)
	mux.HandleFunc("POST /mediation/{id}/act", h.act)
	mux.HandleFunc("GET /mediation/{id}/agreement", h.agreement)
}

// Funcs are the template funcs mediation's pages use besides the base ones
// (their names differ from the window's).
func Funcs() template.FuncMap {
	return template.FuncMap{
		// mday writes a YYYYMMDD day as 2006-01-02.
		"mday": FormatDay,
		// mdaycn writes a YYYYMMDD day as documents do: 2026年9月30日.
		"mdaycn": func(d int) string {
			if d == 0 {
				return ""
			}
			return fmt.Sprintf("%d年%d月%d日", d/10000, d/100%100, d%100)
		},
	}
}

// viewer returns the signed-in principal holding mediation.view somewhere,
// or answers 404.
func (h *HTTP) viewer(w http.ResponseWriter, r *http.Request) (*access.Principal, bool) {
	p := access.From(r.Context())
	if p == nil || !p.Can(PermView) {
		h.R.Error(w, r, http.StatusNotFound, "")
		return nil, false
	}
	return p, true
}

func (h *HTTP) fail(w http.ResponseWriter, r *http.Request, err error) {
	switch {
	case errors.Is(err, db.ErrNotFound):
		h.R.Error(w, r, http.StatusNotFound, "")
	case errors.Is(err, ErrForbidden):
		h.R.Error(w, r, http.StatusForbidden, "")
	default:
		slog.ErrorContext(r.Context(), "mediation: request failed", "path", r.URL.Path, "err", err)
		h.R.Error(w, r, http.StatusInternalServerError, "")
	}
}

// unitName is a unit's name, for pages.
func (h *HTTP) unitName(ctx context.Context, code int64) string {
	d, err := h.S.Divisions.Get(ctx, code)
	if err != nil {
		return strconv.FormatInt(code, 10)
	}
	return d.Name
}

// partyField matches the field names of a party: parties[1].name.
var partyField = regexp.MustCompile(`^parties\[(\d+)\]\.([a-z_]+)$`)

// fieldLabel names an input field for a message: 当事人 2 · 身份证号.
// action chooses the label of "note" (a session's record, a reason, …).
func fieldLabel(locale, action, name string) string {
	if m := partyField.FindStringSubmatch(name); m != nil {
		i, _ := strconv.Atoi(m[1])
		return i18n.T(locale, "mediation.field.party", i+1) + " · " + i18n.T(locale, "mediation.field."+m[2])
	}
	if name == "note" && action != "" {
		return i18n.T(locale, "mediation.note."+action)
	}
	return i18n.T(locale, "mediation.field."+name)
}

// errorText translates a field error.
func errorText(locale string, e *field.Error) string {
	if e.Arg == "" {
		return i18n.T(locale, "mediation.error."+e.Code)
	}
	return i18n.T(locale, "mediation.error."+e.Code, e.Arg)
}

// formErrors is a form's problems: the message at each field, and the list
// at the top of the form, each naming its field (身份证号：校验位不对).
type formErrors struct {
	At   map[string]string
	List []string
}

func newFormErrors() formErrors { return formErrors{At: map[string]string{}} }

func (fe *formErrors) add(locale, action string, es field.Errors) {
	for _, e := range es {
		msg := errorText(locale, e)
		if _, dup := fe.At[e.Field]; !dup {
			fe.At[e.Field] = msg
		}
		fe.List = append(fe.List, fieldLabel(locale, action, e.Field)+i18n.T(locale, "mediation.colon")+msg)
	}
}

// ---- the list ----

type listData struct {
	Q, View, Type string
	Unit          int64
	UnitName      string
	Views         []viewLink
	Types         []typeOption
	Rows          []row
	Page          int
	Prev, Next    string // the pages around this one ("": none)
	Fig           Figures
	Year          int
	ScopeName     string
	SettleRate    string
	VillageShare  string
	CanManage     bool
	Locale        string
}

type typeOption struct{ Key, Label string }

// viewLink is one tab of the list: a view with the other filters kept.
type viewLink struct {
	Key, Href string
	Current   bool
}

type row struct {
	Dispute
	UnitName, TypeLabel, Applicants, Respondents string
}

// views of the list: a state, the settled disputes awaiting a visit, or all.
const viewUnvisited = "unvisited"

var listViews = []string{"", StateOpen, StateSettled, viewUnvisited, StateFailed, StateReferred, StateWithdrawn}

const pageSize = 50

// types lists the dispute types a principal meets under unit (0: the whole
// scope), each key once, labelled by the first pack defining it.
func (h *HTTP) types(p *access.Principal, unit int64, locale string) []typeOption {
	var out []typeOption
	add := func(ts []policy.GridKey) {
		for _, t := range ts {
			if !slices.ContainsFunc(out, func(o typeOption) bool { return o.Key == t.Key }) {
				out = append(out, typeOption{t.Key, t.Label.Get(locale)})
			}
		}
	}
	roots := []int64{unit}
	if unit == 0 {
		roots = p.Roots(PermView)
	}
	for _, root := range roots {
		if pk := h.S.Packs.For(root); pk != nil {
			if pk.Grid != nil {
				add(pk.Grid.DisputeTypes)
			}
			continue
		}
		// above any pack's root (a province, the country): every pack below it
		for _, pk := range h.S.Packs.Packs() {
			if pk.Grid != nil {
				add(pk.Grid.DisputeTypes)
			}
		}
	}
	return out
}

func percent(v float64, ok bool) string {
	if !ok {
		return "—"
	}
	return strconv.FormatFloat(v*100, 'f', 1, 64) + "%"
}

func (h *HTTP) list(w http.ResponseWriter, r *http.Request) {
	p, ok := h.viewer(w, r)
	if !ok {
		return
	}
	ctx := r.Context()
	q := r.URL.Query()
	d := listData{Q: strings.TrimSpace(q.Get("q")), View: q.Get("view"), Type: q.Get("type"),
		Locale: i18n.Negotiate(r), CanManage: p.Can(PermManage)}
	if !slices.Contains(listViews, d.View) {
		d.View = ""
	}
	if u, err := strconv.ParseInt(q.Get("unit"), 10, 64); err == nil && u > 0 {
		d.Unit, d.UnitName = u, h.unitName(ctx, u)
	}
	d.Page, _ = strconv.Atoi(q.Get("page"))
	d.Page = max(d.Page, 1)
	d.Types = h.types(p, d.Unit, d.Locale)
	f := Filter{Unit: d.Unit, Type: d.Type, Q: d.Q, Offset: (d.Page - 1) * pageSize, Limit: pageSize}
	if d.View == viewUnvisited {
		f.Unvisited = true
	} else {
		f.State = d.View
	}
	list, err := h.S.List(ctx, p, f)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	names := map[int64]string{}
	for _, x := range list.Disputes {
		n, ok := names[x.Division]
		if !ok {
			n = h.unitName(ctx, x.Division)
			names[x.Division] = n
		}
		a, b := x.Names()
		d.Rows = append(d.Rows, row{Dispute: x, UnitName: n, TypeLabel: h.S.TypeLabel(x.Division, x.Type, d.Locale), Applicants: a, Respondents: b})
	}
	d.Year = h.S.Today() / 10000
	if d.Fig, err = h.S.Figures(ctx, p, d.Unit, d.Year*100+1, d.Year*100+12); err != nil {
		h.fail(w, r, err)
		return
	}
	d.SettleRate = percent(d.Fig.SettleRate())
	d.VillageShare = percent(d.Fig.VillageShare())
	switch {
	case d.UnitName != "":
		d.ScopeName = d.UnitName
	default:
		var parts []string
		for _, root := range p.Roots(PermView) {
			if root == 0 {
				parts = append(parts, i18n.T(d.Locale, "mediation.everywhere"))
			} else {
				parts = append(parts, h.unitName(ctx, root))
			}
		}
		d.ScopeName = strings.Join(parts, "、")
	}
	link := func(view string, page int) string {
		v := url.Values{}
		if d.Unit > 0 {
			v.Set("unit", strconv.FormatInt(d.Unit, 10))
		}
		if d.Q != "" {
			v.Set("q", d.Q)
		}
		if d.Type != "" {
			v.Set("type", d.Type)
		}
		if view != "" {
			v.Set("view", view)
		}
		if page > 1 {
			v.Set("page", strconv.Itoa(page))
		}
		if len(v) == 0 {
			return "/mediation"
		}
		return "/mediation?" + v.Encode()
	}
	for _, v := range listViews {
		d.Views = append(d.Views, viewLink{Key: v, Href: link(v, 1), Current: v == d.View})
	}
	if d.Page > 1 {
		d.Prev = link(d.View, d.Page-1)
	}
	if list.More {
		d.Next = link(d.View, d.Page+1)
	}
	h.R.Page(w, r, http.StatusOK, "mediation_list.html", d)
}

// ---- the dispute page and its actions ----

type disputeData struct {
	D         Dispute
	UnitName  string
	Committee string
	TypeLabel string
	Can       map[string]bool
	CanManage bool
	Errors    formErrors
	Action    string            // the action whose form failed
	V         map[string]string // its values, to fill the form again
	Locale    string
	Flash     string
	New       bool
	Today     string
}

// Err is the message of a field of action's form, when that form failed.
func (d *disputeData) Err(action, name string) string {
	if d.Action == action {
		return d.Errors.At[name]
	}
	return ""
}

// Opened tells whether action's form is shown unfolded: the one that
// failed, else the session form of a running dispute and the visit form of
// a settled one.
func (d *disputeData) Opened(action string) bool {
	if d.Action != "" {
		return d.Action == action
	}
	return action == ActSession || action == ActVisit
}

// Val is a value of the failed action's form, else def.
func (d *disputeData) Val(action, name, def string) string {
	if d.Action == action {
		return d.V[name]
	}
	return def
}

func (h *HTTP) load(w http.ResponseWriter, r *http.Request) (*access.Principal, Dispute, bool) {
	p, ok := h.viewer(w, r)
	if !ok {
		return nil, Dispute{}, false
	}
	id, err := strconv.ParseInt(r.PathValue("id"), 10, 64)
	if err != nil {
		h.R.Error(w, r, http.StatusNotFound, "")
		return nil, Dispute{}, false
	}
	d, err := h.S.Get(r.Context(), p, id)
	if err != nil {
		h.fail(w, r, err)
		return nil, Dispute{}, false
	}
	return p, d, true
}

func (h *HTTP) disputeData(r *http.Request, p *access.Principal, d Dispute) *disputeData {
	q := r.URL.Query()
	dd := &disputeData{D: d, Locale: i18n.Negotiate(r), Errors: newFormErrors(), V: map[string]string{},
		New: q.Get("new") == "1", Flash: q.Get("done"), Today: FormatDay(h.S.Today()), Can: map[string]bool{}}
	if !slices.Contains(Actions, dd.Flash) {
		dd.Flash = ""
	}
	dd.UnitName = h.unitName(r.Context(), d.Division)
	dd.Committee = CommitteeName(dd.UnitName)
	dd.TypeLabel = h.S.TypeLabel(d.Division, d.Type, dd.Locale)
	dd.CanManage = p.CanAt(PermManage, d.Division)
	for _, a := range Actions {
		dd.Can[a] = dd.CanManage && Allowed(a, d.State)
	}
	return dd
}

func (h *HTTP) page(w http.ResponseWriter, r *http.Request) {
	p, d, ok := h.load(w, r)
	if !ok {
		return
	}
	h.R.Page(w, r, http.StatusOK, "mediation_dispute.html", h.disputeData(r, p, d))
}

// actionFields are the form fields of the actions, kept to fill a form again.
var actionFields = []string{"day", "place", "mediators", "note", "outcome", "agreement", "performance", "referred_to", "holding"}

func (h *HTTP) act(w http.ResponseWriter, r *http.Request) {
	p, d, ok := h.load(w, r)
	if !ok {
		return
	}
	if err := r.ParseForm(); err != nil {
		h.R.Error(w, r, http.StatusBadRequest, "")
		return
	}
	f := r.PostForm
	a := Action{Kind: f.Get("kind"), Day: f.Get("day"), Place: f.Get("place"), Note: f.Get("note"), Outcome: f.Get("outcome"),
		Agreement: f.Get("agreement"), Performance: f.Get("performance"), ReferredTo: f.Get("referred_to")}
	if m := f.Get("mediators"); m != "" {
		a.Mediators = []string{m}
	}
	switch f.Get("holding") {
	case "1":
		a.Holding = new(true)
	case "0":
		a.Holding = new(false)
	}
	_, err := h.S.Do(r.Context(), p, d.ID, a)
	if err == nil {
		http.Redirect(w, r, fmt.Sprintf("/mediation/%d?done=%s", d.ID, url.QueryEscape(a.Kind)), http.StatusSeeOther)
		return
	}
	var es field.Errors
	var te *TransitionError
	switch {
	case errors.As(err, &es), errors.As(err, &te):
		dd := h.disputeData(r, p, d)
		dd.Action = a.Kind
		for _, k := range actionFields {
			dd.V[k] = f.Get(k)
		}
		dd.Errors.add(dd.Locale, a.Kind, es)
		status := http.StatusUnprocessableEntity
		if te != nil {
			status = http.StatusConflict
			act := te.Action
			if !slices.Contains(Actions, act) {
				act = "unknown"
			}
			dd.Errors.List = append(dd.Errors.List, i18n.T(dd.Locale, "mediation.error.transition",
				i18n.T(dd.Locale, "mediation.action."+act), i18n.T(dd.Locale, "mediation.state."+te.State)))
		}
		h.R.Page(w, r, status, "mediation_dispute.html", dd)
	default:
		h.fail(w, r, err)
	}
}
