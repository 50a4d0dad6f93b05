package grid

// The incident desk (GET /grid), the incident page with its photos, history
// and action forms (GET /grid/incidents/{id}, POST …/act), and the incident
// figures (GET /grid/figures). The shared partials of every grid page
// (grid_head, grid_state, grid_deadline, grid_incident_card, grid_tabs)
// are in templates/_grid_common.html and take IncidentView.

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"mime/multipart"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/shequ-platform/shequ/internal/division"
	"github.com/shequ-platform/shequ/internal/platform/access"
	"github.com/shequ-platform/shequ/internal/platform/calendar"
	"github.com/shequ-platform/shequ/internal/platform/db"
	"github.com/shequ-platform/shequ/internal/platform/i18n"
	"github.com/shequ-platform/shequ/internal/platform/ids"
	"github.com/shequ-platform/shequ/internal/platform/policy"
	"github.com/shequ-platform/shequ/internal/platform/web"
	"github.com/shequ-platform/shequ/internal/registry"
)

func (h *HTTP) incidentRoutes(mux *http.ServeMux) {
	mux.HandleFunc("GET /grid", h.incDesk)
	mux.HandleFunc("GET /grid/incidents/{id}", h.incPage)
	mux.HandleFunc("POST /grid/incidents/{id}/act", h.incAct)
	mux.HandleFunc("GET /grid/incidents/{id}/photos/{pid}", h.incPhoto)
	mux.HandleFunc("GET /grid/figures", h.incFigures)
}

// ---- shared by the grid's pages ----

// Can reports whether p may take the action kind on in now: the incident's
// state allows it (Allowed) and p holds what Do asks for it — grid.handle
// at the holder for the handling steps; grid.report or grid.handle where it
// happened for the on-the-spot check (verify, rework) and the rating;
// grid.handle at the village or above for closing and extension; grid.handle
// at the holder or the unit above it for escalation. It does not check the
// input (a reason, an overdue deadline for escalation), which Do does.
func (s *Service) Can(p *access.Principal, kind string, in Incident) bool {
	if p == nil || kind == ActReport || !Allowed(kind, in.State) || !sees(p, "grid.view", in) {
		return false
	}
	return allowedBy(p, kind, in)
}

// StateName is the name of an incident state in locale: the one the pack
// bound to division gives it (grid.yaml states, when it has a text in that
// locale), else the catalogue's (grid.state.<state>).
func (s *Service) StateName(locale string, division int64, state string) string {
	if r := s.Rules(division); r != nil {
		if t, ok := r.States[state]; ok && (t[locale] != "" || locale == policy.DefaultLocale) {
			if l := t.Get(locale); l != "" {
				return l
			}
		}
	}
	return i18n.T(locale, "grid.state."+state)
}

// ErrorText translates a field error of the grid for a page: the catalogue's
// grid.error.<code>, with the error's argument when it has one.
func ErrorText(locale string, e *FieldError) string {
	if e.Arg == "" {
		return i18n.T(locale, "grid.error."+e.Code)
	}
	return i18n.T(locale, "grid.error."+e.Code, e.Arg)
}

// IncidentView is an incident as the grid's pages show it, its names
// resolved in one locale. The partials of _grid_common.html (grid_state,
// grid_deadline, grid_incident_card) take it.
type IncidentView struct {
	Incident
	StateLabel string // the pack's or the catalogue's name of the state
	PlaceName  string // the grid or village where it happened (see Service.PlaceName)
	HolderName string // the unit holding it (with the office or department)
	Today      int    // YYYYMMDD the deadline figures are taken on
	Overdue    bool   // dispatched and past the deadline
	DueSoon    bool   // dispatched, due within two days
	// DaysLeft is the working days from today to the deadline (0: due
	// today) while it runs; DaysOver the working days past it when overdue.
	DaysLeft, DaysOver int
}

// incNames resolves unit names once per request.
type incNames struct {
	s *Service
	m map[int64]string
	// wide: the names are read from above the village (a township's or a
	// county's list), so that a grid is named with its village.
	wide bool
}

// readsAbove reports whether places read from the unit from are named with
// their village: from is above the village level (a township, a county, or
// 0 for the whole tree).
func readsAbove(from int64) bool { return ids.Level(from) < 5 }

// viewsAbove reports whether p, reading code (a grid or village) with
// perm, reads it from above the village: p holds perm at code's township.
func viewsAbove(p *access.Principal, perm string, code int64) bool {
	return p != nil && p.CanAt(perm, code/1_000_000*1_000_000)
}

// place names the grid or village where something happened: a grid read
// from above its village as "<village> · <grid>", since grids of different
// villages share names (第一网格); anything else by its own name.
func (n *incNames) place(ctx context.Context, code int64) string {
	if n.wide && ids.Level(code) == 6 {
		return n.name(ctx, code/1000*1000) + " · " + n.name(ctx, code)
	}
	return n.name(ctx, code)
}

// PlaceName names the grid or village code as read from the unit from, the
// unit a page is about: "门楼社区 · 第一网格" for a grid read from above its
// village (a township's or a county's page, where grids of different
// villages share names), the unit's own name otherwise (its code when
// unknown).
func (s *Service) PlaceName(ctx context.Context, from, code int64) string {
	n := &incNames{s: s, wide: readsAbove(from)}
	return n.place(ctx, code)
}

func (n *incNames) name(ctx context.Context, code int64) string {
	if v, ok := n.m[code]; ok {
		return v
	}
	v := strconv.FormatInt(code, 10)
	if d, err := n.s.Divisions.Get(ctx, code); err == nil {
		v = d.Name
	}
	if n.m == nil {
		n.m = map[int64]string{}
	}
	n.m[code] = v
	return v
}

// holderName names the holder of in: the unit, the township office or the
// county department it is dispatched to.
func (n *incNames) holderName(ctx context.Context, in Incident) string {
	switch {
	case in.HolderLevel == LevelDepartment && in.Department != "":
		return in.Department
	case in.Department != "":
		return n.name(ctx, in.Holder) + " · " + in.Department
	}
	return n.name(ctx, in.Holder)
}

// IncidentViews resolves the names and deadline figures of incidents for
// the pages, in locale, as read within a village: a grid is named alone
// (第一网格). Lists read from a township or a county use IncidentViewsAt.
func (s *Service) IncidentViews(ctx context.Context, locale string, ins []Incident) ([]IncidentView, error) {
	cal, err := s.Days(ctx)
	if err != nil {
		return nil, err
	}
	n := &incNames{s: s}
	return s.incViews(ctx, locale, cal, n, ins), nil
}

// IncidentViewsAt is IncidentViews for a list of the unit from: above the
// village, each grid is named with its village (see PlaceName).
func (s *Service) IncidentViewsAt(ctx context.Context, locale string, from int64, ins []Incident) ([]IncidentView, error) {
	cal, err := s.Days(ctx)
	if err != nil {
		return nil, err
	}
	n := &incNames{s: s, wide: readsAbove(from)}
	return s.incViews(ctx, locale, cal, n, ins), nil
}

func (s *Service) incViews(ctx context.Context, locale string, cal *calendar.Calendar, n *incNames, ins []Incident) []IncidentView {
	today := s.Today()
	soon := s.dayAfter(today, 2)
	out := make([]IncidentView, len(ins))
	for i, in := range ins {
		v := IncidentView{Incident: in, StateLabel: s.StateName(locale, in.Division, in.State), Today: today,
			PlaceName: n.place(ctx, in.Division), HolderName: n.holderName(ctx, in)}
		if in.State == StateDispatched && in.Deadline != 0 {
			v.Overdue = in.Overdue(today)
			v.DueSoon = !v.Overdue && in.Deadline <= soon
			if v.Overdue {
				v.DaysOver = cal.WorkingDaysBetween(in.Deadline, today)
			} else {
				v.DaysLeft = cal.WorkingDaysBetween(today, in.Deadline)
			}
		}
		out[i] = v
	}
	return out
}

// ---- handler helpers ----

// incViewer returns the signed-in principal holding grid.view somewhere, or
// answers 404.
func (h *HTTP) incViewer(w http.ResponseWriter, r *http.Request) (*access.Principal, bool) {
	p := access.From(r.Context())
	if p == nil || !p.Can("grid.view") {
		h.R.Error(w, r, http.StatusNotFound, "")
		return nil, false
	}
	return p, true
}

func (h *HTTP) incFail(w http.ResponseWriter, r *http.Request, err error) {
	switch {
	case errors.Is(err, db.ErrNotFound):
		h.R.Error(w, r, http.StatusNotFound, "")
	case errors.Is(err, ErrForbidden):
		h.R.Error(w, r, http.StatusForbidden, "")
	default:
		slog.ErrorContext(r.Context(), "grid: request failed", "path", r.URL.Path, "err", err)
		h.R.Error(w, r, http.StatusInternalServerError, "")
	}
}

// incUnitParam reads ?unit= (6, 9, 12 or 15 digits; "0" the country),
// else the first root of p's grid.view.
func incUnitParam(p *access.Principal, s string) (int64, bool) {
	if s = strings.TrimSpace(s); s != "" {
		if s == "0" {
			return division.Root, true
		}
		u, err := division.Parse(s)
		return u, err == nil
	}
	roots := p.Roots("grid.view")
	if len(roots) == 0 {
		return 0, false
	}
	return roots[0], true
}

// incGridWorker reports whether p works a grid on a phone: every subtree it
// may see incidents in is one grid, and it handles none.
func incGridWorker(p *access.Principal) bool {
	roots := p.Roots("grid.view")
	if len(roots) == 0 || p.Can("grid.handle") {
		return false
	}
	for _, r := range roots {
		if ids.Level(r) != 6 {
			return false
		}
	}
	return true
}

// incUnitOption is one unit of the desk's and the figures' unit picker.
type incUnitOption struct {
	Code  int64
	Name  string
	Depth int // indentation below the first option
}

// Param is the code as the URLs carry it.
func (o incUnitOption) Param() string { return strconv.FormatInt(o.Code, 10) }

// Indent is the option's indentation (full-width spaces, for a <select>).
func (o incUnitOption) Indent() string { return strings.Repeat("\u3000", o.Depth) }

// incUnitOptions lists the units to pick from: p's grid.view roots, the
// chosen unit's ancestors inside them, the unit and its children — a path
// through the tree that stays short in a county of thousands of grids.
func (h *HTTP) incUnitOptions(ctx context.Context, p *access.Principal, locale string, unit int64) ([]incUnitOption, error) {
	var out []incUnitOption
	seen := map[int64]bool{}
	add := func(code int64, name string, depth int) {
		if !seen[code] {
			seen[code] = true
			out = append(out, incUnitOption{Code: code, Name: name, Depth: depth})
		}
	}
	nameOf := func(code int64) string {
		if code == division.Root {
			return i18n.T(locale, "grid.desk.country")
		}
		if d, err := h.S.Divisions.Get(ctx, code); err == nil {
			return d.Name
		}
		return strconv.FormatInt(code, 10)
	}
	depth := 0
	if unit != division.Root {
		anc, err := h.S.Divisions.Ancestors(ctx, unit)
		if err != nil && !errors.Is(err, db.ErrNotFound) {
			return nil, err
		}
		if p.CanAt("grid.view", division.Root) {
			add(division.Root, nameOf(division.Root), depth)
			depth++
		}
		for _, a := range anc {
			if p.CanAt("grid.view", a.Code) {
				add(a.Code, a.Name, depth)
				depth++
			}
		}
	}
	add(unit, nameOf(unit), depth)
	if ids.Level(unit) < 6 {
		kids, err := h.S.Divisions.Children(ctx, unit, false)
		if err != nil {
			return nil, err
		}
		for _, k := range kids {
			add(k.Code, k.Name, depth+1)
		}
	}
	for _, root := range p.Roots("grid.view") {
		add(root, nameOf(root), 0)
	}
	return out, nil
}

// ---- the desk: GET /grid ----

const incPageSize = 50

type deskTab struct {
	View     string
	Count    int64
	HasCount bool
}

type deskOption struct{ Key, Label string }

type deskGroup struct {
	Label      string
	Key        string
	Categories []deskOption
}

type deskData struct {
	Unit     int64
	UnitName string
	Units    []incUnitOption
	View     string
	Tabs     []deskTab
	Category string
	Group    string
	State    string
	Number   string
	Groups   []deskGroup
	States   []deskOption
	Rows     []IncidentView
	Page     int
	More     bool
	// Query is the filters (without view and page), URL-encoded.
	Query string
	// CanReport: the principal may report incidents somewhere (grid.report),
	// so the desk links to the report form.
	CanReport bool
}

// UnitParam is the unit's code as the URLs carry it.
func (d *deskData) UnitParam() string { return strconv.FormatInt(d.Unit, 10) }

func (h *HTTP) incDesk(w http.ResponseWriter, r *http.Request) {
	p, ok := h.incViewer(w, r)
	if !ok {
		return
	}
	if incGridWorker(p) {
		http.Redirect(w, r, "/grid/m", http.StatusSeeOther)
		return
	}
	ctx := r.Context()
	loc := i18n.Negotiate(r)
	q := r.URL.Query()
	unit, ok := incUnitParam(p, q.Get("unit"))
	if !ok || !p.CanAt("grid.view", unit) {
		h.R.Error(w, r, http.StatusNotFound, "")
		return
	}
	d := &deskData{Unit: unit, View: q.Get("view"), Category: strings.TrimSpace(q.Get("category")), Group: strings.TrimSpace(q.Get("group")),
		State: q.Get("state"), Number: strings.TrimSpace(q.Get("number")), CanReport: p.Can("grid.report")}
	if !slices.Contains(Views, d.View) {
		d.View = ViewOpen
	}
	if !slices.Contains(States, d.State) {
		d.State = ""
	}
	if len([]rune(d.Number)) > 40 {
		d.Number = string([]rune(d.Number)[:40])
	}
	d.Page, _ = strconv.Atoi(q.Get("page"))
	d.Page = max(d.Page, 1)
	var err error
	if d.Units, err = h.incUnitOptions(ctx, p, loc, unit); err != nil {
		h.incFail(w, r, err)
		return
	}
	for _, u := range d.Units {
		if u.Code == unit {
			d.UnitName = u.Name
		}
	}
	if rules := h.S.Rules(unit); rules != nil {
		for _, g := range rules.Groups {
			dg := deskGroup{Key: g.Key, Label: g.Label.Get(loc)}
			for _, c := range rules.Categories {
				if c.Group == g.Key {
					dg.Categories = append(dg.Categories, deskOption{c.Code, c.Name.Get(loc)})
				}
			}
			d.Groups = append(d.Groups, dg)
		}
	}
	for _, st := range States {
		d.States = append(d.States, deskOption{st, h.S.StateName(loc, unit, st)})
	}
	f := Filter{Unit: unit, View: d.View, Category: d.Category, Group: d.Group, State: d.State, Number: d.Number,
		Offset: (d.Page - 1) * incPageSize, Limit: incPageSize}
	list, more, err := h.S.List(ctx, p, f)
	if err != nil {
		h.incFail(w, r, err)
		return
	}
	d.More = more
	if d.Rows, err = h.S.IncidentViewsAt(ctx, loc, unit, list); err != nil {
		h.incFail(w, r, err)
		return
	}
	for _, v := range Views {
		t := deskTab{View: v}
		// closed and all grow without bound: counting them on every visit
		// of the desk would cost a scan of the subtree's history
		if v != ViewClosed && v != ViewAll {
			cf := f
			cf.View, cf.Offset, cf.Limit = v, 0, 0
			if t.Count, err = h.S.Count(ctx, p, cf); err != nil {
				h.incFail(w, r, err)
				return
			}
			t.HasCount = true
		}
		d.Tabs = append(d.Tabs, t)
	}
	v := url.Values{"unit": {d.UnitParam()}}
	for k, s := range map[string]string{"category": d.Category, "group": d.Group, "state": d.State, "number": d.Number} {
		if s != "" {
			v.Set(k, s)
		}
	}
	d.Query = v.Encode()
	h.R.Page(w, r, http.StatusOK, "grid_desk", d)
}

// ---- the incident page: GET /grid/incidents/{id} ----

type incStep struct {
	Step
	ActionName string
	FromName   string
	ToName     string
	HolderName string
}

type incidentData struct {
	V             IncidentView
	Locale        string
	GroupName     string
	KindName      string
	Category      policy.IncidentCategory
	CategoryKnown bool
	Household     *registry.Household
	HouseholdSeen bool
	Resident      *registry.Resident
	ResidentSeen  bool
	Position      string
	Photos        []Photo // the report's
	Steps         []incStep
	Duplicates    []IncidentView
	DuplicateOf   string // the number of the incident a rejected report duplicates
	// Can holds the actions the page offers (see Offer); Offer lists them
	// in the order of Actions.
	Can   map[string]bool
	Offer []string
	// For the dispatch form: the village's and the township's names, the
	// default level, the department and time limit of the category.
	VillageName  string
	TownshipName string
	DefaultLevel string
	DefaultDept  string
	DefaultDays  int
	UpName       string // escalate: the unit above the holder
	UpToCounty   bool
	MaxPhotos    int
	MaxPhotoMB   int
	MaxExtension int
	Ratings      []int
	Levels       []string
	// The action whose form failed, its values and errors by field.
	Action  string
	Values  map[string]string
	Errors  map[string]string
	Flash   string
	Overdue bool
}

// Err is the error of field in the form of action kind, if that form failed.
func (d *incidentData) Err(kind, field string) string {
	if d.Action != kind {
		return ""
	}
	return d.Errors[field]
}

// Val is the value the form of kind posted for field when it failed, else def.
func (d *incidentData) Val(kind, field, def string) string {
	if d.Action == kind {
		return d.Values[field]
	}
	return def
}

// ID is a form control's id, unique on the page: the action and the field.
func (d *incidentData) ID(kind, field string) string { return "f-" + kind + "-" + field }

func (h *HTTP) incLoad(w http.ResponseWriter, r *http.Request) (*access.Principal, Incident, bool) {
	p, ok := h.incViewer(w, r)
	if !ok {
		return nil, Incident{}, false
	}
	id, err := strconv.ParseInt(r.PathValue("id"), 10, 64)
	if err != nil || id <= 0 {
		h.R.Error(w, r, http.StatusNotFound, "")
		return nil, Incident{}, false
	}
	in, err := h.S.Get(r.Context(), p, id)
	if err != nil {
		h.incFail(w, r, err)
		return nil, Incident{}, false
	}
	return p, in, true
}

// incOffered reports whether the page offers the action kind on in: p may take
// it (Can) and it can succeed now (escalation needs an overdue deadline,
// returning a holder above the village, a rating none before it).
func (h *HTTP) incOffered(p *access.Principal, kind string, in Incident, today int) bool {
	if !h.S.Can(p, kind, in) {
		return false
	}
	switch kind {
	case ActEscalate:
		up := parentUnit(in.Holder)
		return in.Overdue(today) && in.HolderLevel != LevelDepartment && up != in.Holder && ids.Level(up) >= 3
	case ActReturn:
		return in.Holder != in.Village()
	case ActEvaluate:
		return in.Rating == 0
	}
	return true
}

func (h *HTTP) incData(r *http.Request, p *access.Principal, in Incident) (*incidentData, error) {
	ctx := r.Context()
	loc := i18n.Negotiate(r)
	cal, err := h.S.Days(ctx)
	if err != nil {
		return nil, err
	}
	n := &incNames{s: h.S, wide: viewsAbove(p, "grid.view", in.Division)}
	d := &incidentData{Locale: loc, Can: map[string]bool{}, Values: map[string]string{}, Errors: map[string]string{},
		MaxPhotos: MaxPhotos, MaxPhotoMB: MaxPhoto >> 20, MaxExtension: maxExtension,
		Ratings: []int{5, 4, 3, 2, 1}, Levels: []string{LevelVillage, LevelTownship, LevelDepartment}}
	d.V = h.S.incViews(ctx, loc, cal, n, []Incident{in})[0]
	d.Overdue = d.V.Overdue
	if done := r.URL.Query().Get("done"); slices.Contains(Actions, done) {
		d.Flash = done
	}
	rules := h.S.Rules(in.Division)
	if c, ok := rules.Category(in.Category); ok {
		d.Category, d.CategoryKnown = c, true
	}
	if g, ok := rules.Group(in.Group); ok {
		d.GroupName = g.Label.Get(loc)
		d.KindName = g.Kind
	}
	if in.Lat != nil && in.Lon != nil {
		d.Position = strconv.FormatFloat(*in.Lat, 'f', 6, 64) + ", " + strconv.FormatFloat(*in.Lon, 'f', 6, 64)
	}
	if in.HouseholdID != 0 {
		if hh, _, err := h.S.Registry.Household(ctx, p, in.HouseholdID); err == nil {
			d.Household, d.HouseholdSeen = &hh, true
		} else if !errors.Is(err, db.ErrNotFound) {
			return nil, err
		}
	}
	if in.ResidentID != 0 {
		if res, err := h.S.Registry.Get(ctx, p, in.ResidentID); err == nil {
			d.Resident, d.ResidentSeen = &res, true
		} else if !errors.Is(err, db.ErrNotFound) {
			return nil, err
		}
	}
	if in.DuplicateOf != 0 {
		if orig, err := h.S.Get(ctx, p, in.DuplicateOf); err == nil {
			d.DuplicateOf = orig.Number
		}
	}
	steps, err := h.S.Steps(ctx, in)
	if err != nil {
		return nil, err
	}
	for i, st := range steps {
		if i == 0 && st.Action == ActReport {
			d.Photos = st.Photos
			st.Photos = nil
		}
		d.Steps = append(d.Steps, incStep{Step: st, ActionName: i18n.T(loc, "grid.action."+st.Action),
			FromName: h.S.StateName(loc, in.Division, st.From), ToName: h.S.StateName(loc, in.Division, st.To),
			HolderName: n.name(ctx, st.Holder)})
	}
	today := h.S.Today()
	for _, kind := range Actions {
		if h.incOffered(p, kind, in, today) {
			d.Can[kind] = true
			d.Offer = append(d.Offer, kind)
		}
	}
	if in.State == StateReported {
		dups, err := h.S.Duplicates(ctx, in)
		if err != nil {
			return nil, err
		}
		d.Duplicates = h.S.incViews(ctx, loc, cal, n, dups)
	}
	d.VillageName = n.name(ctx, in.Village())
	d.TownshipName = n.name(ctx, in.Village()/1_000_000*1_000_000)
	d.DefaultLevel, d.DefaultDays = LevelVillage, in.TimeLimit
	if d.CategoryKnown {
		d.DefaultLevel, d.DefaultDays = d.Category.Level, d.Category.TimeLimit
		if d.Category.Level == LevelDepartment {
			d.DefaultDept = d.Category.Department.Get(loc)
		}
	}
	if d.DefaultDays == 0 {
		d.DefaultDays = 5
	}
	if d.Can[ActEscalate] {
		up := parentUnit(in.Holder)
		d.UpName, d.UpToCounty = n.name(ctx, up), ids.Level(up) == 3
	}
	return d, nil
}

func (h *HTTP) incPage(w http.ResponseWriter, r *http.Request) {
	p, in, ok := h.incLoad(w, r)
	if !ok {
		return
	}
	d, err := h.incData(r, p, in)
	if err != nil {
		h.incFail(w, r, err)
		return
	}
	h.R.Page(w, r, http.StatusOK, "grid_incident", d)
}

// incFormFields are the form fields an action's form posts (besides kind
// and photos); they are kept when the form comes back with errors.
var incFormFields = []string{"note", "level", "office", "department", "days", "duplicate_of", "rating", "handler_name"}

// incPhotoActions are the actions whose forms take photos.
var incPhotoActions = []string{ActHandle, ActVerify, ActRework, ActNote}

// incMaxMemory is the part of a multipart form kept in memory; photos
// beyond it wait in temporary files.
const incMaxMemory = 4 << 20

// incForm reads the action form, multipart (with photos for the actions
// that take them) or URL-encoded. Too many photos, or a body larger than the
// server takes, is a field error of "photos".
func incForm(r *http.Request) (url.Values, [][]byte, Errors, error) {
	var es Errors
	err := r.ParseMultipartForm(incMaxMemory)
	switch {
	case errors.Is(err, http.ErrNotMultipart):
		err = r.ParseForm()
	case err == nil && r.MultipartForm != nil:
		defer r.MultipartForm.RemoveAll()
	}
	if web.BodyTooLarge(err) {
		es.Add("photos", "incident_upload_too_large")
		return r.PostForm, nil, es, nil
	}
	if err != nil {
		return nil, nil, nil, err
	}
	if r.MultipartForm == nil || !slices.Contains(incPhotoActions, r.PostForm.Get("kind")) {
		return r.PostForm, nil, nil, nil
	}
	var files []*multipart.FileHeader
	for _, fh := range r.MultipartForm.File["photos"] {
		if fh.Size > 0 || fh.Filename != "" { // an empty file input sends an empty part
			files = append(files, fh)
		}
	}
	if len(files) > MaxPhotos {
		es.Add("photos", "too_many_photos", strconv.Itoa(MaxPhotos))
		return r.PostForm, nil, es, nil
	}
	var photos [][]byte
	for _, fh := range files {
		f, err := fh.Open()
		if err != nil {
			return nil, nil, nil, err
		}
		// one byte more than allowed tells the service it is too large
		b, err := io.ReadAll(io.LimitReader(f, MaxPhoto+1))
		f.Close()
		if err != nil {
			return nil, nil, nil, err
		}
		photos = append(photos, b)
	}
	return r.PostForm, photos, nil, nil
}

// incAction builds the action of a posted form; a number that is not one is
// a field error.
func incAction(kind string, f url.Values, photos [][]byte) (Action, Errors) {
	var es Errors
	a := Action{Kind: kind, Note: f.Get("note"), Level: f.Get("level"), DuplicateOf: strings.TrimSpace(f.Get("duplicate_of")),
		HandlerName: f.Get("handler_name"), Photos: photos}
	switch {
	case kind == ActDispatch && a.Level == LevelTownship:
		a.Department = f.Get("office")
	case kind == ActDispatch && a.Level == LevelDepartment, kind == ActEscalate:
		a.Department = f.Get("department")
	}
	if s := strings.TrimSpace(f.Get("days")); s != "" {
		n, err := strconv.Atoi(s)
		if err != nil {
			es.Add("days", "incident_number")
		}
		a.Days = n
	}
	if s := strings.TrimSpace(f.Get("rating")); s != "" {
		a.Rating, _ = strconv.Atoi(s)
	} else if kind == ActEvaluate {
		es.Add("rating", "rating_range")
	}
	if kind == ActReject && a.DuplicateOf != "" {
		a.DuplicateOf = strings.ToUpper(a.DuplicateOf)
	}
	return a, es
}

func (h *HTTP) incAct(w http.ResponseWriter, r *http.Request) {
	p, in, ok := h.incLoad(w, r)
	if !ok {
		return
	}
	f, photos, es, err := incForm(r)
	if err != nil {
		h.R.Error(w, r, http.StatusBadRequest, "")
		return
	}
	kind := f.Get("kind")
	if len(es) == 0 {
		var a Action
		a, es = incAction(kind, f, photos)
		if len(es) == 0 {
			_, err = h.S.Do(r.Context(), p, in.ID, a)
			if err == nil {
				http.Redirect(w, r, fmt.Sprintf("/grid/incidents/%d?done=%s", in.ID, url.QueryEscape(kind)), http.StatusSeeOther)
				return
			}
		}
	}
	var te *TransitionError
	switch {
	case len(es) > 0, errors.As(err, &es), errors.As(err, &te), errors.Is(err, ErrForbidden):
	default:
		h.incFail(w, r, err)
		return
	}
	// the page as it is now, with the form's input and its errors
	if cur, err := h.S.Get(r.Context(), p, in.ID); err == nil {
		in = cur
	}
	d, derr := h.incData(r, p, in)
	if derr != nil {
		h.incFail(w, r, derr)
		return
	}
	d.Action = kind
	for _, k := range incFormFields {
		d.Values[k] = f.Get(k)
	}
	status := http.StatusUnprocessableEntity
	for _, e := range es {
		if _, dup := d.Errors[e.Field]; !dup {
			d.Errors[e.Field] = ErrorText(d.Locale, e)
		}
	}
	switch {
	case te != nil:
		status = http.StatusConflict
		d.Errors["state"] = i18n.T(d.Locale, "grid.error.incident_transition",
			i18n.T(d.Locale, "grid.action."+te.Action), h.S.StateName(d.Locale, in.Division, te.State))
		if !slices.Contains(Actions, te.Action) {
			d.Errors["state"] = i18n.T(d.Locale, "grid.error.incident_action_unknown")
		}
	case errors.Is(err, ErrForbidden):
		status = http.StatusForbidden
		d.Errors["state"] = i18n.T(d.Locale, "grid.error.incident_forbidden")
	}
	h.R.Page(w, r, status, "grid_incident", d)
}

// incPhoto serves a photo of an incident the principal sees, with the type
// sniffed when it was uploaded.
func (h *HTTP) incPhoto(w http.ResponseWriter, r *http.Request) {
	p, ok := h.incViewer(w, r)
	if !ok {
		return
	}
	id, err1 := strconv.ParseInt(r.PathValue("id"), 10, 64)
	pid, err2 := strconv.ParseInt(r.PathValue("pid"), 10, 64)
	if err1 != nil || err2 != nil {
		h.R.Error(w, r, http.StatusNotFound, "")
		return
	}
	ph, data, err := h.S.Photo(r.Context(), p, id, pid)
	if err != nil {
		h.incFail(w, r, err)
		return
	}
	w.Header().Set("Content-Type", ph.ContentType)
	w.Header().Set("Content-Disposition", "inline")
	w.Header().Set("Cache-Control", "private")
	w.Header().Set("X-Content-Type-Options", "nosniff")
	http.ServeContent(w, r, "", time.UnixMilli(ph.UploadedAt), bytes.NewReader(data))
}

// ---- the figures: GET /grid/figures?unit=CODE&from=YYYY-MM&to=YYYY-MM ----

type figData struct {
	F         IncidentFigures
	Unit      string // the code as URLs carry it
	UnitName  string
	From, To  string // YYYY-MM
	Error     string // a problem with the months asked for, translated
	Crumbs    []figCrumb
	Months    []figMonth
	Children  []figUnit
	Own       *figUnit
	Headline  FigureRatio
	Chart     figChart
	KidsLabel string // the name of the children's column (their level)
}

type figCrumb struct{ Href, Name string }

type figMonth struct {
	IncidentMonth
	Label string
}

type figUnit struct {
	IncidentUnitRow
	Href  string // its own figures (drill-down); "" for the unit's own row
	Cells []IncidentCounts
}

// figChart is a chart for static/charts.js (data, not code).
type figChart struct {
	Kind       string      `json:"kind"`
	Categories []string    `json:"categories"`
	Series     []figSeries `json:"series"`
	Percent    bool        `json:"percent"`
	Title      string      `json:"title"`
}

type figSeries struct {
	Name string     `json:"name"`
	Data []*float64 `json:"data"`
}

func figPercent(r FigureRatio) *float64 {
	if !r.Valid() {
		return nil
	}
	f := float64(int64(r.Value()*1000+0.5)) / 10
	return &f
}

// figFormat writes YYYYMM as YYYY-MM.
func figFormat(p int) string { return fmt.Sprintf("%04d-%02d", p/100, p%100) }

// figParse reads a month as YYYY-MM, YYYY-M, YYYY/MM or YYYYMM.
func figParse(s string) (int, bool) {
	s = strings.TrimSpace(s)
	var y, m int
	if a, b, ok := strings.Cut(strings.ReplaceAll(s, "/", "-"), "-"); ok {
		var err1, err2 error
		y, err1 = strconv.Atoi(a)
		m, err2 = strconv.Atoi(b)
		if err1 != nil || err2 != nil || len(a) != 4 {
			return 0, false
		}
	} else if len(s) == 6 {
		n, err := strconv.Atoi(s)
		if err != nil {
			return 0, false
		}
		y, m = n/100, n%100
	} else {
		return 0, false
	}
	p := y*100 + m
	return p, figValidPeriod(p)
}

func (h *HTTP) incFigures(w http.ResponseWriter, r *http.Request) {
	p, ok := h.incViewer(w, r)
	if !ok {
		return
	}
	ctx := r.Context()
	loc := i18n.Negotiate(r)
	q := r.URL.Query()
	unit, ok := incUnitParam(p, q.Get("unit"))
	if !ok {
		h.R.Error(w, r, http.StatusNotFound, "")
		return
	}
	thisMonth := h.S.Today() / 100
	from, to := thisMonth/100*100+1, thisMonth
	d := &figData{}
	bad := false
	if s := q.Get("from"); s != "" {
		if from, ok = figParse(s); !ok {
			bad = true
		}
	}
	if s := q.Get("to"); s != "" {
		if to, ok = figParse(s); !ok {
			bad = true
		}
	}
	if bad || from > to || figMonthsBetween(from, to) > MaxIncidentFigureMonths {
		d.Error = i18n.T(loc, "grid.error.figures_period", strconv.Itoa(MaxIncidentFigureMonths))
		from, to = thisMonth/100*100+1, thisMonth
	}
	f, err := h.S.IncidentFigures(ctx, p, unit, from, to)
	if err != nil {
		h.incFail(w, r, err)
		return
	}
	d.F, d.From, d.To, d.Headline = f, figFormat(from), figFormat(to), f.Totals.VillageShare()
	d.Unit, d.UnitName = strconv.FormatInt(unit, 10), f.UnitName
	if unit == division.Root {
		d.UnitName = i18n.T(loc, "grid.desk.country")
	}
	link := func(code int64) string {
		return "/grid/figures?" + url.Values{"unit": {strconv.FormatInt(code, 10)}, "from": {d.From}, "to": {d.To}}.Encode()
	}
	if unit != division.Root {
		anc, err := h.S.Divisions.Ancestors(ctx, unit)
		if err != nil {
			h.incFail(w, r, err)
			return
		}
		if p.CanAt("grid.view", division.Root) {
			d.Crumbs = append(d.Crumbs, figCrumb{link(division.Root), i18n.T(loc, "grid.desk.country")})
		}
		for _, a := range anc {
			if p.CanAt("grid.view", a.Code) {
				d.Crumbs = append(d.Crumbs, figCrumb{link(a.Code), a.Name})
			}
		}
	}
	for _, m := range f.Months {
		d.Months = append(d.Months, figMonth{IncidentMonth: m, Label: figFormat(m.Period)})
	}
	d.Chart = figChart{Kind: "hbar", Percent: true, Title: i18n.T(loc, "grid.fig.chart_village")}
	share := figSeries{Name: i18n.T(loc, "grid.fig.village_share")}
	for _, u := range f.Children {
		d.Children = append(d.Children, figUnit{IncidentUnitRow: u, Href: link(u.Code), Cells: u.Months})
		d.Chart.Categories = append(d.Chart.Categories, u.Name)
		share.Data = append(share.Data, figPercent(u.VillageShare()))
		d.KidsLabel = i18n.T(loc, "grid.fig.level."+strconv.Itoa(min(max(u.Level, 1), 6)))
	}
	if f.Own != nil {
		d.Own = &figUnit{IncidentUnitRow: *f.Own, Cells: f.Own.Months}
		d.Chart.Categories = append(d.Chart.Categories, i18n.T(loc, "grid.fig.own"))
		share.Data = append(share.Data, figPercent(f.Own.VillageShare()))
	}
	d.Chart.Series = []figSeries{share}
	if d.KidsLabel == "" {
		d.KidsLabel = i18n.T(loc, "grid.fig.unit")
	}
	status := http.StatusOK
	if d.Error != "" {
		status = http.StatusUnprocessableEntity
	}
	h.R.Page(w, r, status, "grid_figures", d)
}
