package window

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"

	"github.com/shequ-platform/shequ/internal/division"
	"github.com/shequ-platform/shequ/internal/platform/access"
	"github.com/shequ-platform/shequ/internal/platform/db"
	"github.com/shequ-platform/shequ/internal/platform/i18n"
	"github.com/shequ-platform/shequ/internal/platform/ids"
	"github.com/shequ-platform/shequ/internal/platform/policy"
	"github.com/shequ-platform/shequ/internal/registry"
)

// viewer returns the signed-in principal holding window.view somewhere, or
// answers 404.
func (h *HTTP) viewer(w http.ResponseWriter, r *http.Request) (*access.Principal, bool) {
	p := access.From(r.Context())
	if p == nil || !p.Can("window.view") {
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
		slog.ErrorContext(r.Context(), "window: request failed", "path", r.URL.Path, "err", err)
		h.R.Error(w, r, http.StatusInternalServerError, "")
	}
}

// errorText translates a field error for the form.
func errorText(locale string, e *FieldError) string {
	if e.Arg == "" {
		return i18n.T(locale, "window.error."+e.Code)
	}
	return i18n.T(locale, "window.error."+e.Code, e.Arg)
}

// unitName is a unit's name with its code, for pages.
func (h *HTTP) unitName(ctx context.Context, code int64) string {
	d, err := h.S.Divisions.Get(ctx, code)
	if err != nil {
		return strconv.FormatInt(code, 10)
	}
	return d.Name
}

// windowUnits lists the units (townships and villages) where p may take in
// matters, at most limit of them.
func (h *HTTP) windowUnits(ctx context.Context, p *access.Principal, limit int) ([]division.Division, error) {
	var out []division.Division
	for _, rg := range p.Ranges("window.intake") {
		ds, err := h.S.Divisions.InRange(ctx, rg.Lo, rg.Hi, 4, 5)
		if err != nil {
			return nil, err
		}
		for _, d := range ds {
			if !d.Retired {
				out = append(out, d)
			}
			if len(out) >= limit {
				return out, nil
			}
		}
	}
	return out, nil
}

// ---- the desk: lists of cases ----

type deskData struct {
	View, Q     string
	Unit        int64
	UnitName    string
	Views       []string
	Cases       []caseRow
	More        bool
	Page        int
	Today       int
	CanIntake   bool
	CanManage   bool
	Overdue     int
	DueSoon     int
	Mine        int
	QueryPrefix string
	Handler     int64
	ByHandler   []HandlerCount
	// CalendarYear is a year whose official holidays are not entered yet
	// (deadlines in it count weekends only), 0 when all is well.
	CalendarYear int
}

type caseRow struct {
	Case
	HolderName string
	Overdue    bool
	DueSoon    bool
}

func (h *HTTP) rows(ctx context.Context, cs []Case, today, soon int) []caseRow {
	names := map[int64]string{}
	out := make([]caseRow, len(cs))
	for i, c := range cs {
		n, ok := names[c.Holder]
		if !ok {
			n = h.unitName(ctx, c.Holder)
			names[c.Holder] = n
		}
		if c.HolderLevel == policy.LevelDepartment && c.Department != "" {
			n = c.Department
		}
		out[i] = caseRow{Case: c, HolderName: n, Overdue: c.Overdue(today),
			DueSoon: c.Open() && c.State != StateSupplement && c.Deadline >= today && c.Deadline <= soon}
	}
	return out
}

const pageSize = 50

func (h *HTTP) desk(w http.ResponseWriter, r *http.Request) {
	p, ok := h.viewer(w, r)
	if !ok {
		return
	}
	q := r.URL.Query()
	d := deskData{View: q.Get("view"), Q: strings.TrimSpace(q.Get("q")), Today: h.S.Today(),
		Views:     []string{ViewOpen, ViewMine, ViewDueSoon, ViewOverdue, ViewClosed, ViewAll},
		CanIntake: p.Can("window.intake"), CanManage: p.Can("window.manage")}
	if !slices.Contains(d.Views, d.View) {
		d.View = ViewOpen
	}
	if u, err := strconv.ParseInt(q.Get("unit"), 10, 64); err == nil && u > 0 {
		d.Unit, d.UnitName = u, h.unitName(r.Context(), u)
	}
	d.Page, _ = strconv.Atoi(q.Get("page"))
	d.Page = max(d.Page, 1)
	d.Handler, _ = strconv.ParseInt(q.Get("handler"), 10, 64)
	f := Filter{Unit: d.Unit, View: d.View, Q: d.Q, Item: q.Get("item"), Channel: q.Get("channel"), Handler: d.Handler,
		Offset: (d.Page - 1) * pageSize, Limit: pageSize}
	list, err := h.S.List(r.Context(), p, f)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	if d.View == ViewOverdue || d.View == ViewDueSoon || d.View == ViewOpen {
		f.Handler = 0
		if d.ByHandler, err = h.S.ByHandler(r.Context(), p, f); err != nil {
			h.fail(w, r, err)
			return
		}
	}
	cal, err := h.S.Days(r.Context())
	if err != nil {
		h.fail(w, r, err)
		return
	}
	if k, ok := cal.(interface{ Known(year int) bool }); ok {
		y := d.Today / 10000
		if !k.Known(y) {
			d.CalendarYear = y
		} else if d.Today/100%100 >= 10 && !k.Known(y+1) {
			d.CalendarYear = y + 1
		}
	}
	d.Cases, d.More = h.rows(r.Context(), list.Cases, d.Today, cal.AddWorkingDays(d.Today, DueSoonDays)), list.More
	for _, c := range []struct {
		view string
		n    *int
	}{{ViewOverdue, &d.Overdue}, {ViewDueSoon, &d.DueSoon}, {ViewMine, &d.Mine}} {
		n, err := h.S.Count(r.Context(), p, Filter{Unit: d.Unit, View: c.view})
		if err != nil {
			h.fail(w, r, err)
			return
		}
		*c.n = n
	}
	v := url.Values{}
	if d.Unit > 0 {
		v.Set("unit", strconv.FormatInt(d.Unit, 10))
	}
	if d.Q != "" {
		v.Set("q", d.Q)
	}
	d.QueryPrefix = v.Encode()
	if d.Handler != 0 {
		d.QueryPrefix += "&handler=" + strconv.FormatInt(d.Handler, 10)
	}
	h.R.Page(w, r, http.StatusOK, "window_desk.html", d)
}

// ---- intake ----

type intakeData struct {
	Units      []division.Division
	Unit       int64
	UnitName   string
	Catalogue  *Catalogue
	Groups     []itemGroup
	Item       *Item
	ResidentQ  string
	Hits       []registry.Hit
	Resident   *registry.Resident
	Walkin     bool
	Values     map[string]string
	Fields     map[string]string
	Materials  []string
	Errors     map[string]string
	General    []string
	Channel    string
	Locale     string
	CanSearch  bool
	Agency     bool
	Decision   string
	Note       string
	Channels   []string
	ResidentID int64
}

type itemGroup struct {
	Label string
	Items []Item
}

func (d *intakeData) V(name string) string { return d.Values[name] }
func (d *intakeData) F(key string) string  { return d.Fields[key] }
func (d *intakeData) Has(m string) bool    { return slices.Contains(d.Materials, m) }
func (d *intakeData) E(name string) string { return d.Errors[name] }

// intakeForm renders the intake page: the unit, the applicant (found in the
// registry or a walk-in), the item, and then the item's materials and form.
// Every choice is a GET, so the page works without JavaScript; htmx only
// spares the reload.
func (h *HTTP) intakeForm(w http.ResponseWriter, r *http.Request) {
	p, ok := h.viewer(w, r)
	if !ok {
		return
	}
	if !p.Can("window.intake") {
		h.R.Error(w, r, http.StatusForbidden, "")
		return
	}
	d, err := h.intakeBase(r, p, r.URL.Query())
	if err != nil {
		h.fail(w, r, err)
		return
	}
	h.R.Page(w, r, http.StatusOK, "window_intake.html", d)
}

func (h *HTTP) intakeBase(r *http.Request, p *access.Principal, q url.Values) (*intakeData, error) {
	ctx := r.Context()
	d := &intakeData{Values: map[string]string{}, Fields: map[string]string{}, Errors: map[string]string{},
		Locale: i18n.Negotiate(r), CanSearch: p.Can("resident.view"), Channels: []string{ChannelWindow, ChannelPhone}}
	units, err := h.windowUnits(ctx, p, 300)
	if err != nil {
		return nil, err
	}
	d.Units = units
	if u, err := strconv.ParseInt(q.Get("unit"), 10, 64); err == nil && p.CanAt("window.intake", u) && ids.Level(u) >= 4 && ids.Level(u) <= 5 {
		d.Unit = u
	} else if len(units) > 0 {
		d.Unit = units[0].Code
	}
	if d.Unit == 0 {
		return d, nil
	}
	d.UnitName = h.unitName(ctx, d.Unit)
	cat, err := h.S.Catalogue(ctx, d.Unit)
	if err != nil {
		return nil, err
	}
	d.Catalogue = cat
	for _, c := range cat.Categories {
		g := itemGroup{Label: c.Label.Get(d.Locale)}
		for _, it := range cat.Enabled() {
			if it.Category == c.Key {
				g.Items = append(g.Items, it)
			}
		}
		if len(g.Items) > 0 {
			d.Groups = append(d.Groups, g)
		}
	}
	if it, ok := cat.Item(q.Get("item")); ok {
		d.Item = &it
	}
	d.Channel = q.Get("channel")
	if !slices.Contains(d.Channels, d.Channel) {
		d.Channel = ChannelWindow
	}
	d.Walkin = q.Get("walkin") == "1"
	d.ResidentQ = strings.TrimSpace(q.Get("rq"))
	if id, err := strconv.ParseInt(q.Get("resident"), 10, 64); err == nil && id > 0 && d.CanSearch {
		if res, err := h.S.Registry.Get(ctx, p, id); err == nil {
			d.Resident, d.ResidentID = &res, id
		}
	}
	if d.ResidentQ != "" && d.Resident == nil && d.CanSearch {
		res, err := h.S.Registry.Search(ctx, p, d.ResidentQ, 0, 10)
		if err == nil {
			d.Hits = res.Hits
		}
	}
	for _, k := range []string{"name", "phone", "id_number", "description"} {
		d.Values[k] = q.Get(k)
	}
	return d, nil
}

// residentHits is the htmx fragment of the applicant search.
func (h *HTTP) residentHits(w http.ResponseWriter, r *http.Request) {
	p, ok := h.viewer(w, r)
	if !ok {
		return
	}
	d, err := h.intakeBase(r, p, r.URL.Query())
	if err != nil {
		h.fail(w, r, err)
		return
	}
	h.R.Partial(w, r, http.StatusOK, "window_intake.html", "window_hits", d)
}

func (h *HTTP) intake(w http.ResponseWriter, r *http.Request) {
	p, ok := h.viewer(w, r)
	if !ok {
		return
	}
	if err := r.ParseForm(); err != nil {
		h.R.Error(w, r, http.StatusBadRequest, "")
		return
	}
	f := r.PostForm
	d, err := h.intakeBase(r, p, f)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	in := Intake{Unit: d.Unit, ItemCode: f.Get("item"), Channel: d.Channel, ResidentID: d.ResidentID,
		Name: f.Get("name"), Phone: f.Get("phone"), IDNumber: f.Get("id_number"), Fields: map[string]string{},
		Materials: f["material"], Agency: f.Get("agency") == "1", Decision: f.Get("decision"), Note: f.Get("note"),
		Description: f.Get("description")}
	if d.Item != nil {
		for _, fl := range d.Item.Fields {
			if v := strings.TrimSpace(f.Get("field." + fl.Key)); v != "" {
				in.Fields[fl.Key] = v
			}
		}
	}
	d.Fields, d.Materials, d.Agency, d.Decision, d.Note = in.Fields, in.Materials, in.Agency, in.Decision, in.Note
	if d.ResidentID == 0 && !d.Walkin {
		d.Errors["resident"] = i18n.T(d.Locale, "window.error.applicant")
		h.R.Page(w, r, http.StatusUnprocessableEntity, "window_intake.html", d)
		return
	}
	c, err := h.S.Intake(r.Context(), p, in)
	var es Errors
	switch {
	case errors.As(err, &es):
		for _, e := range es {
			if _, dup := d.Errors[e.Field]; !dup {
				d.Errors[e.Field] = errorText(d.Locale, e)
			}
		}
		h.R.Page(w, r, http.StatusUnprocessableEntity, "window_intake.html", d)
		return
	case err != nil:
		h.fail(w, r, err)
		return
	}
	http.Redirect(w, r, fmt.Sprintf("/window/cases/%d?new=1", c.ID), http.StatusSeeOther)
}

// ---- the case page and its actions ----

type caseData struct {
	Case        Case
	Item        *Item
	ItemKnown   bool
	Steps       []stepView
	Attachments []Attachment
	UnitName    string
	HolderName  string
	CategoryLbl string
	Today       int
	Overdue     bool
	New         bool
	Handlers    []access.User
	Can         map[string]bool
	Above       string
	Below       string
	FieldRows   []fieldRow
	MaterialRow []materialRow
	Errors      map[string]string
	Action      string
	Locale      string
	Flash       string
}

type stepView struct {
	Step
	HolderName string
}

type fieldRow struct{ Label, Value string }

type materialRow struct {
	Key, Label string
	Optional   bool
	Received   bool
}

func (d *caseData) E(name string) string { return d.Errors[name] }

func (h *HTTP) loadCase(w http.ResponseWriter, r *http.Request) (*access.Principal, Case, bool) {
	p, ok := h.viewer(w, r)
	if !ok {
		return nil, Case{}, false
	}
	id, err := strconv.ParseInt(r.PathValue("id"), 10, 64)
	if err != nil {
		h.R.Error(w, r, http.StatusNotFound, "")
		return nil, Case{}, false
	}
	c, err := h.S.Get(r.Context(), p, id)
	if err != nil {
		h.fail(w, r, err)
		return nil, Case{}, false
	}
	return p, c, true
}

func (h *HTTP) caseData(r *http.Request, p *access.Principal, c Case) (*caseData, error) {
	ctx := r.Context()
	d := &caseData{Case: c, Today: h.S.Today(), Locale: i18n.Negotiate(r), Errors: map[string]string{},
		New: r.URL.Query().Get("new") == "1", Flash: r.URL.Query().Get("done")}
	d.Overdue = c.Overdue(d.Today)
	d.UnitName = h.unitName(ctx, c.Division)
	d.HolderName = h.unitName(ctx, c.Holder)
	if c.HolderLevel == policy.LevelDepartment && c.Department != "" {
		d.HolderName = c.Department
	}
	cat, err := h.S.Catalogue(ctx, c.Division)
	if err != nil {
		return nil, err
	}
	d.CategoryLbl = cat.CategoryLabel(c.Category, d.Locale)
	for _, it := range cat.Items {
		if it.Code == c.ItemCode {
			d.Item, d.ItemKnown = &it, true
		}
	}
	if d.Item != nil {
		for _, f := range d.Item.Fields {
			v, ok := c.Fields[f.Key]
			if !ok {
				continue
			}
			switch f.Type {
			case policy.FieldChoice:
				for _, ch := range f.Choices {
					if ch.Key == v {
						v = ch.Label.Get(d.Locale)
					}
				}
			case policy.FieldResident:
				if id, err := strconv.ParseInt(v, 10, 64); err == nil {
					if res, err := h.S.Registry.Get(ctx, p, id); err == nil {
						v = res.Name + "（" + res.IDMasked + "）"
					}
				}
			}
			d.FieldRows = append(d.FieldRows, fieldRow{Label: f.Label.Get(d.Locale), Value: v})
		}
		for _, m := range d.Item.Materials {
			d.MaterialRow = append(d.MaterialRow, materialRow{Key: m.Key, Label: m.Label.Get(d.Locale), Optional: m.Optional,
				Received: slices.Contains(c.Materials, m.Key)})
		}
	}
	steps, err := h.S.Steps(ctx, c)
	if err != nil {
		return nil, err
	}
	names := map[int64]string{}
	for _, st := range steps {
		n, ok := names[st.Holder]
		if !ok {
			n = h.unitName(ctx, st.Holder)
			names[st.Holder] = n
		}
		d.Steps = append(d.Steps, stepView{Step: st, HolderName: n})
	}
	if d.Attachments, err = h.S.st.attachments(ctx, c.ID); err != nil {
		return nil, err
	}
	d.Can = map[string]bool{}
	for kind := range transitions {
		if kind == ActRate || !Allowed(kind, c.State) {
			continue
		}
		if kind == ActNote {
			d.Can[kind] = sees(p, "window.intake", c) || sees(p, "window.handle", c)
		} else {
			d.Can[kind] = p.CanAt(permFor(kind), c.Holder)
		}
	}
	if d.Can[ActComplete] && d.ItemKnown && levelRank(c.HolderLevel) < levelRank(d.Item.Level) {
		d.Can[ActComplete] = false // decided above: transfer it first
	}
	if d.Can[ActAssign] {
		if d.Handlers, err = h.S.Handlers(ctx, p, c.Holder); err != nil {
			return nil, err
		}
	}
	if d.Can[ActTransfer] {
		if to, _, dept, err := h.S.above(c, Action{}, d.itemDef(), d.ItemKnown); err == nil {
			d.Above = h.unitName(ctx, to)
			if dept != "" {
				d.Above = dept
			}
		} else if c.HolderLevel != policy.LevelCounty {
			d.Can[ActTransfer] = false
		}
	}
	if d.Can[ActReturn] {
		if to, _, ok := below(c); ok {
			d.Below = h.unitName(ctx, to)
		} else {
			d.Can[ActReturn] = false
		}
	}
	return d, nil
}

func (d *caseData) itemDef() policy.WindowItem {
	if d.Item == nil {
		return policy.WindowItem{}
	}
	return d.Item.WindowItem
}

func (h *HTTP) casePage(w http.ResponseWriter, r *http.Request) {
	p, c, ok := h.loadCase(w, r)
	if !ok {
		return
	}
	d, err := h.caseData(r, p, c)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	h.R.Page(w, r, http.StatusOK, "window_case.html", d)
}

func (h *HTTP) act(w http.ResponseWriter, r *http.Request) {
	p, c, ok := h.loadCase(w, r)
	if !ok {
		return
	}
	if err := r.ParseForm(); err != nil {
		h.R.Error(w, r, http.StatusBadRequest, "")
		return
	}
	f := r.PostForm
	a := Action{Kind: f.Get("kind"), Note: f.Get("note"), Department: f.Get("department"),
		ToDepartment: f.Get("to_department") == "1", Outcome: f.Get("outcome"), Agency: f.Get("agency") == "1"}
	if f.Has("material") || f.Get("materials_sent") == "1" {
		a.Materials = f["material"]
		if a.Materials == nil {
			a.Materials = []string{}
		}
	}
	if f.Get("handler") != "" {
		a.HandlerID, _ = strconv.ParseInt(f.Get("handler"), 10, 64)
	}
	_, err := h.S.Do(r.Context(), p, c.ID, a)
	if err == nil {
		http.Redirect(w, r, fmt.Sprintf("/window/cases/%d?done=%s", c.ID, url.QueryEscape(a.Kind)), http.StatusSeeOther)
		return
	}
	var es Errors
	var te *TransitionError
	switch {
	case errors.As(err, &es), errors.As(err, &te):
		d, derr := h.caseData(r, p, c)
		if derr != nil {
			h.fail(w, r, derr)
			return
		}
		d.Action = a.Kind
		for _, e := range es {
			d.Errors[e.Field] = errorText(d.Locale, e)
		}
		if te != nil {
			d.Errors["state"] = i18n.T(d.Locale, "window.error.transition", i18n.T(d.Locale, "window.action."+te.Action), i18n.T(d.Locale, "window.state."+te.State))
		}
		status := http.StatusUnprocessableEntity
		if te != nil {
			status = http.StatusConflict
		}
		h.R.Page(w, r, status, "window_case.html", d)
	default:
		h.fail(w, r, err)
	}
}
