package grid

// The patrol pages: the visit form a grid worker fills in on the phone at
// each door (GET /grid/patrols/new, POST /grid/patrols), the list of visits
// (GET /grid/patrols) and the monthly coverage of households per grid
// (GET /grid/patrols/coverage). Everything works without JavaScript; the
// form's "use my position" button needs a script and stays hidden without
// one.

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/shequ-platform/shequ/internal/division"
	"github.com/shequ-platform/shequ/internal/platform/access"
	"github.com/shequ-platform/shequ/internal/platform/db"
	"github.com/shequ-platform/shequ/internal/platform/geo"
	"github.com/shequ-platform/shequ/internal/platform/i18n"
	"github.com/shequ-platform/shequ/internal/platform/ids"
	"github.com/shequ-platform/shequ/internal/registry"
)

const (
	// patrolCandidates bounds the households the visit form lists.
	patrolCandidates = 50
	// patrolPageSize is the visits one page of the list shows.
	patrolPageSize = 50
	// patrolMaxUnits bounds the units a picker offers.
	patrolMaxUnits = 300
)

func (h *HTTP) patrolRoutes(mux *http.ServeMux) {
	mux.HandleFunc("GET /grid/patrols/new", h.patrolNew)
	mux.HandleFunc("POST /grid/patrols", h.patrolPost)
	mux.HandleFunc("GET /grid/patrols", h.patrolList)
	mux.HandleFunc("GET /grid/patrols/coverage", h.patrolCoverage)
}

// patrolPrincipal returns the signed-in principal holding perm somewhere,
// or answers 404.
func (h *HTTP) patrolPrincipal(w http.ResponseWriter, r *http.Request, perm string) (*access.Principal, bool) {
	p := access.From(r.Context())
	if p == nil || !p.Can(perm) {
		h.R.Error(w, r, http.StatusNotFound, "")
		return nil, false
	}
	return p, true
}

// patrolFail answers an error of the patrol or follow-up pages.
func (h *HTTP) patrolFail(w http.ResponseWriter, r *http.Request, err error) {
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

// patrolErrors translates field errors for a form: one message per field,
// the first one.
func patrolErrors(locale string, es Errors) map[string]string {
	out := map[string]string{}
	for _, e := range es {
		if _, dup := out[e.Field]; !dup {
			out[e.Field] = ErrorText(locale, e)
		}
	}
	return out
}

// patrolMonth reads a month as 2006-01 (the value of <input type="month">)
// or 200601.
func patrolMonth(s string) (int, bool) {
	s = strings.TrimSpace(s)
	for _, layout := range []string{"2006-01", "200601", "2006-1"} {
		if t, err := time.Parse(layout, s); err == nil {
			return t.Year()*100 + int(t.Month()), true
		}
	}
	return 0, false
}

// patrolMonthText writes YYYYMM as 2006-01.
func patrolMonthText(m int) string { return fmt.Sprintf("%04d-%02d", m/100, m%100) }

// patrolMonthAdd is the month n months after m (YYYYMM).
func patrolMonthAdd(m, n int) int {
	t := time.Date(m/100, time.Month(m%100)+time.Month(n), 1, 0, 0, 0, 0, time.UTC)
	return t.Year()*100 + int(t.Month())
}

// patrolUnitOption is a unit a picker offers.
type patrolUnitOption struct {
	Code  int64
	Name  string
	Depth int
}

// Indent indents the option by its depth under the picker's first unit.
func (o patrolUnitOption) Indent() string { return strings.Repeat("\u3000", o.Depth) }

// patrolUnitName is a unit's name (its code when unknown).
func (h *HTTP) patrolUnitName(ctx context.Context, code int64) string {
	if d, err := h.S.Divisions.Get(ctx, code); err == nil {
		return d.Name
	}
	return strconv.FormatInt(code, 10)
}

// patrolScopeUnits lists the units of p's subtrees holding every perm, from
// minLevel down to maxLevel, each root followed by its units in code order,
// at most patrolMaxUnits.
func (h *HTTP) patrolScopeUnits(ctx context.Context, p *access.Principal, minLevel, maxLevel int, perms ...string) ([]patrolUnitOption, error) {
	var out []patrolUnitOption
	seen := map[int64]bool{}
	for _, rg := range p.Ranges(perms[0]) {
		ds, err := h.S.Divisions.InRange(ctx, rg.Lo, rg.Hi, minLevel, maxLevel)
		if err != nil {
			return nil, err
		}
		base := max(ids.Level(rg.Lo), minLevel)
		for _, d := range ds {
			if d.Retired || seen[d.Code] {
				continue
			}
			ok := true
			for _, perm := range perms[1:] {
				ok = ok && p.CanAt(perm, d.Code)
			}
			if !ok {
				continue
			}
			seen[d.Code] = true
			out = append(out, patrolUnitOption{Code: d.Code, Name: d.Name, Depth: max(d.Level-base, 0)})
			if len(out) >= patrolMaxUnits {
				return out, nil
			}
		}
	}
	return out, nil
}

// patrolTreeUnits offers, for a list of unit, the units above it within p's
// scope of perm, the unit, its children and p's scope roots: enough to walk
// the tree up and down one level at a time.
func (h *HTTP) patrolTreeUnits(ctx context.Context, p *access.Principal, perm, locale string, unit int64) ([]patrolUnitOption, error) {
	var out []patrolUnitOption
	seen := map[int64]bool{}
	add := func(code int64, name string, depth int) {
		if !seen[code] {
			seen[code] = true
			out = append(out, patrolUnitOption{Code: code, Name: name, Depth: depth})
		}
	}
	nameOf := func(code int64) string {
		if code == division.Root {
			return i18n.T(locale, "grid.patrol.country")
		}
		return h.patrolUnitName(ctx, code)
	}
	depth := 0
	if unit != division.Root {
		anc, err := h.S.Divisions.Ancestors(ctx, unit)
		if err != nil && !errors.Is(err, db.ErrNotFound) {
			return nil, err
		}
		for _, a := range anc {
			if p.CanAt(perm, a.Code) {
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
	for _, root := range p.Roots(perm) {
		add(root, nameOf(root), 0)
	}
	return out, nil
}

// patrolUnitParam reads the unit of a page: the code given when p holds perm
// there, else p's first root of perm; ok is false when p holds perm nowhere
// or names a unit outside its scope.
func patrolUnitParam(p *access.Principal, perm, s string) (int64, bool) {
	if s = strings.TrimSpace(s); s != "" {
		u, err := division.Parse(s)
		if s == "0" {
			u, err = division.Root, nil
		}
		return u, err == nil && p.CanAt(perm, u)
	}
	roots := p.Roots(perm)
	if len(roots) == 0 {
		return 0, false
	}
	return roots[0], true
}

// patrolNav is the tabs of the patrol and follow-up pages: the page shown
// and those the principal may open.
type patrolNav struct {
	Active                string // new, list, coverage, followups
	Report, View, Special bool
}

func newPatrolNav(p *access.Principal, active string) patrolNav {
	return patrolNav{Active: active, Report: p.Can("grid.report"), View: p.Can("grid.view"), Special: p.Can("resident.special")}
}

// ---- the visit form ----

// patrolHousehold is a household as the form shows it.
type patrolHousehold struct {
	ID      int64
	Place   string
	Head    string
	Members int
	Visited bool
}

func newPatrolHousehold(hr registry.HouseholdRow, visited bool) patrolHousehold {
	return patrolHousehold{ID: hr.ID, Place: patrolPlace(hr.Household), Head: hr.Head, Members: hr.Members, Visited: visited}
}

type patrolNewData struct {
	Nav      patrolNav
	Units    []patrolUnitOption
	Unit     int64
	UnitName string
	Q        string
	// Candidates are the households to pick from: not yet visited this
	// month, or those matching Q.
	Candidates []patrolHousehold
	// Household is the household being visited (nil: pick one first).
	Household *patrolHousehold
	Values    map[string]string
	Errors    map[string]string
	// Done is the visit just logged; DonePlace its household.
	Done      *Visit
	DonePlace string
	// Progress is the unit's coverage of this month.
	Progress *CoverageRow
}

// E is the error message of a field.
func (d *patrolNewData) E(name string) string { return d.Errors[name] }

// V is a field's value.
func (d *patrolNewData) V(name string) string { return d.Values[name] }

// ReportURL is the one tap from the visit just logged to the report form,
// with the household and the visit filled in.
func (d *patrolNewData) ReportURL() string {
	if d.Done == nil {
		return ""
	}
	return "/grid/report?" + url.Values{"household": {strconv.FormatInt(d.Done.HouseholdID, 10)},
		"patrol": {strconv.FormatInt(d.Done.ID, 10)}}.Encode()
}

// UnitParam is the unit for links.
func (d *patrolNewData) UnitParam() string { return strconv.FormatInt(d.Unit, 10) }

// patrolForm builds the visit page for unit (the form's or the query's),
// the household chosen and the candidates.
func (h *HTTP) patrolForm(r *http.Request, p *access.Principal, q url.Values) (*patrolNewData, error) {
	ctx := r.Context()
	d := &patrolNewData{Nav: newPatrolNav(p, "new"), Values: map[string]string{}, Errors: map[string]string{}, Q: strings.TrimSpace(q.Get("q"))}
	units, err := h.patrolScopeUnits(ctx, p, 5, 6, "grid.report", "resident.view")
	if err != nil {
		return nil, err
	}
	d.Units = units
	if u, ok := patrolUnitParam(p, "grid.report", q.Get("unit")); ok && ids.Level(u) >= 5 && p.CanAt("resident.view", u) {
		d.Unit = u
	} else if len(units) > 0 {
		d.Unit = units[0].Code
	}
	if d.Unit == 0 {
		return d, nil
	}
	d.UnitName = h.patrolUnitName(ctx, d.Unit)
	if id, err := strconv.ParseInt(q.Get("household"), 10, 64); err == nil && id > 0 {
		hh, members, err := h.S.Registry.Household(ctx, p, id)
		switch {
		case errors.Is(err, db.ErrNotFound):
			d.Errors["household"] = i18n.T(i18n.Negotiate(r), "grid.error.patrol_household_unknown")
		case err != nil:
			return nil, err
		default:
			visited, err := h.S.VisitedThisMonth(ctx, hh.ID)
			if err != nil {
				return nil, err
			}
			hr := registry.HouseholdRow{Household: hh}
			for _, m := range members {
				if m.Status == registry.Present {
					hr.Members++
					if m.Relation == "head" && hr.Head == "" {
						hr.Head = m.Name
					}
				}
			}
			ph := newPatrolHousehold(hr, visited)
			d.Household = &ph
		}
	}
	if d.Household == nil {
		cands, err := h.S.PatrolCandidates(ctx, p, d.Unit, d.Q, patrolCandidates)
		if err != nil && !errors.Is(err, db.ErrNotFound) {
			return nil, err
		}
		for _, c := range cands {
			d.Candidates = append(d.Candidates, newPatrolHousehold(c.HouseholdRow, c.Visited))
		}
	}
	if p.CanAt("grid.view", d.Unit) {
		if c, err := h.S.Coverage(ctx, p, d.Unit, 0); err == nil {
			d.Progress = &c.Total
		}
	}
	return d, nil
}

func (h *HTTP) patrolNew(w http.ResponseWriter, r *http.Request) {
	p, ok := h.patrolPrincipal(w, r, "grid.report")
	if !ok {
		return
	}
	q := r.URL.Query()
	d, err := h.patrolForm(r, p, q)
	if err != nil {
		h.patrolFail(w, r, err)
		return
	}
	if id, err := strconv.ParseInt(q.Get("done"), 10, 64); err == nil && id > 0 {
		if v, err := h.S.Visit(r.Context(), p, id); err == nil && v.WorkerID == p.UserID {
			d.Done = &v
			d.DonePlace = "#" + strconv.FormatInt(v.HouseholdID, 10)
			if hs, err := h.S.Registry.HouseholdsByID(r.Context(), p, []int64{v.HouseholdID}); err == nil {
				if hr, ok := hs[v.HouseholdID]; ok {
					d.DonePlace = patrolPlace(hr.Household)
				}
			}
		}
	}
	h.R.Page(w, r, http.StatusOK, "grid_patrol_new.html", d)
}

// patrolFormPosition reads the optional position of the form: WGS-84 from
// the phone (coords names another system when typed from a map).
func patrolFormPosition(f url.Values) (lat, lon *float64, ok bool) {
	latS, lonS := strings.TrimSpace(f.Get("lat")), strings.TrimSpace(f.Get("lon"))
	if latS == "" && lonS == "" {
		return nil, nil, true
	}
	la, err1 := strconv.ParseFloat(latS, 64)
	lo, err2 := strconv.ParseFloat(lonS, 64)
	sys, err3 := geo.ParseSystem(f.Get("coords"))
	if err1 != nil || err2 != nil || err3 != nil {
		return nil, nil, false
	}
	pt, err := geo.ToWGS84(sys, la, lo)
	if err != nil {
		return nil, nil, false
	}
	return &pt.Lat, &pt.Lon, true
}

func (h *HTTP) patrolPost(w http.ResponseWriter, r *http.Request) {
	p, ok := h.patrolPrincipal(w, r, "grid.report")
	if !ok {
		return
	}
	if err := r.ParseForm(); err != nil {
		h.R.Error(w, r, http.StatusBadRequest, "")
		return
	}
	f := r.PostForm
	loc := i18n.Negotiate(r)
	v := Visit{Note: f.Get("note"), Problem: f.Get("problem") == "1"}
	v.HouseholdID, _ = strconv.ParseInt(f.Get("household"), 10, 64)
	var es Errors
	lat, lon, posOK := patrolFormPosition(f)
	if !posOK {
		es.Add("position", "position_invalid")
	}
	v.Lat, v.Lon = lat, lon
	var saved Visit
	var err error
	if len(es) == 0 {
		saved, err = h.S.LogVisit(r.Context(), p, v)
	} else {
		err = es
	}
	if errors.As(err, &es) {
		d, ferr := h.patrolForm(r, p, f)
		if ferr != nil {
			h.patrolFail(w, r, ferr)
			return
		}
		for k, m := range patrolErrors(loc, es) {
			d.Errors[k] = m
		}
		d.Values["note"], d.Values["problem"] = f.Get("note"), f.Get("problem")
		h.R.Page(w, r, http.StatusUnprocessableEntity, "grid_patrol_new.html", d)
		return
	}
	if err != nil {
		h.patrolFail(w, r, err)
		return
	}
	unit := f.Get("unit")
	if unit == "" {
		unit = strconv.FormatInt(saved.Division, 10)
	}
	http.Redirect(w, r, "/grid/patrols/new?"+url.Values{"unit": {unit}, "done": {strconv.FormatInt(saved.ID, 10)}}.Encode(), http.StatusSeeOther)
}

// ---- the list of visits ----

// patrolRow is a visit as the list shows it.
type patrolRow struct {
	Visit
	Place    string
	UnitName string
}

type patrolListData struct {
	Nav      patrolNav
	View     string // mine or unit
	Units    []patrolUnitOption
	Unit     int64
	UnitName string
	Month    int
	Problem  bool
	Rows     []patrolRow
	Page     int
	More     bool
	// CanUnit: the principal sees more than its own visits.
	CanUnit bool
}

// MonthParam is the month as <input type="month"> writes it.
func (d *patrolListData) MonthParam() string { return patrolMonthText(d.Month) }

// Link is the list's address with page n (the filters kept).
func (d *patrolListData) Link(n int64) string {
	v := url.Values{"view": {d.View}, "month": {patrolMonthText(d.Month)}}
	if d.View == "unit" {
		v.Set("unit", strconv.FormatInt(d.Unit, 10))
	}
	if d.Problem {
		v.Set("problem", "1")
	}
	if n > 1 {
		v.Set("page", strconv.FormatInt(n, 10))
	}
	return "/grid/patrols?" + v.Encode()
}

func (h *HTTP) patrolList(w http.ResponseWriter, r *http.Request) {
	p := access.From(r.Context())
	if p == nil || !p.Can("grid.view") && !p.Can("grid.report") {
		h.R.Error(w, r, http.StatusNotFound, "")
		return
	}
	ctx := r.Context()
	q := r.URL.Query()
	loc := i18n.Negotiate(r)
	d := &patrolListData{Nav: newPatrolNav(p, "list"), View: q.Get("view"), Problem: q.Get("problem") == "1", CanUnit: p.Can("grid.view")}
	if d.View != "mine" && d.View != "unit" {
		d.View = "unit"
		if !d.CanUnit || patrolWorker(p) {
			d.View = "mine"
		}
	}
	if !d.CanUnit {
		d.View = "mine"
	}
	var ok bool
	if d.Month, ok = patrolMonth(q.Get("month")); !ok {
		d.Month = period(h.S.Today())
	}
	d.Page, _ = strconv.Atoi(q.Get("page"))
	d.Page = max(d.Page, 1)
	f := VisitFilter{Month: d.Month, Problem: d.Problem, Mine: d.View == "mine", Offset: (d.Page - 1) * patrolPageSize, Limit: patrolPageSize}
	if d.View == "unit" {
		if d.Unit, ok = patrolUnitParam(p, "grid.view", q.Get("unit")); !ok {
			h.R.Error(w, r, http.StatusNotFound, "")
			return
		}
		f.Unit = d.Unit
		d.UnitName = h.patrolUnitName(ctx, d.Unit)
		units, err := h.patrolTreeUnits(ctx, p, "grid.view", loc, d.Unit)
		if err != nil {
			h.patrolFail(w, r, err)
			return
		}
		d.Units = units
	}
	visits, more, err := h.S.Visits(ctx, p, f)
	if err != nil {
		h.patrolFail(w, r, err)
		return
	}
	d.More = more
	hhIDs := make([]int64, len(visits))
	for i, v := range visits {
		hhIDs[i] = v.HouseholdID
	}
	households, err := h.S.Registry.HouseholdsByID(ctx, p, hhIDs)
	if err != nil {
		h.patrolFail(w, r, err)
		return
	}
	// a grid is named with its village in a township's or county's list,
	// and in one's own visits when one sees above the village
	names := &incNames{s: h.S, wide: d.View == "unit" && readsAbove(d.Unit)}
	for _, v := range visits {
		row := patrolRow{Visit: v, Place: "#" + strconv.FormatInt(v.HouseholdID, 10)}
		if hr, ok := households[v.HouseholdID]; ok {
			row.Place = patrolPlace(hr.Household)
		}
		if d.View == "mine" {
			names.wide = viewsAbove(p, "grid.view", v.Division)
		}
		row.UnitName = names.place(ctx, v.Division)
		d.Rows = append(d.Rows, row)
	}
	h.R.Page(w, r, http.StatusOK, "grid_patrols.html", d)
}

// patrolWorker reports whether p works one grid on a phone: every subtree
// it reports in is a grid.
func patrolWorker(p *access.Principal) bool {
	roots := p.Roots("grid.report")
	for _, r := range roots {
		if ids.Level(r) != 6 {
			return false
		}
	}
	return len(roots) > 0
}

// ---- coverage ----

type coverageData struct {
	Nav patrolNav
	Coverage
	UnitName string
	Units    []patrolUnitOption
	// Drill: the rows link to their own coverage (rows are units above
	// grid level).
	Drill bool
}

// MonthParam is the month as <input type="month"> writes it.
func (d *coverageData) MonthParam() string { return patrolMonthText(d.Month) }

// MonthLink is the page of the month n months away.
func (d *coverageData) MonthLink(n int) string {
	return "/grid/patrols/coverage?" + url.Values{"unit": {strconv.FormatInt(d.Unit, 10)},
		"month": {patrolMonthText(patrolMonthAdd(d.Month, n))}}.Encode()
}

// RowLink is where a row leads: the coverage of a unit above grid level,
// the visits of a grid or village in the month.
func (d *coverageData) RowLink(r CoverageRow) string {
	month := patrolMonthText(d.Month)
	if d.Drill {
		return "/grid/patrols/coverage?" + url.Values{"unit": {strconv.FormatInt(r.Unit, 10)}, "month": {month}}.Encode()
	}
	return "/grid/patrols?" + url.Values{"view": {"unit"}, "unit": {strconv.FormatInt(r.Unit, 10)}, "month": {month}}.Encode()
}

func (h *HTTP) patrolCoverage(w http.ResponseWriter, r *http.Request) {
	p, ok := h.patrolPrincipal(w, r, "grid.view")
	if !ok {
		return
	}
	ctx := r.Context()
	q := r.URL.Query()
	unit, ok := patrolUnitParam(p, "grid.view", q.Get("unit"))
	if !ok {
		h.R.Error(w, r, http.StatusNotFound, "")
		return
	}
	month, ok := patrolMonth(q.Get("month"))
	if !ok {
		month = period(h.S.Today())
	}
	c, err := h.S.Coverage(ctx, p, unit, month)
	if err != nil {
		h.patrolFail(w, r, err)
		return
	}
	d := &coverageData{Nav: newPatrolNav(p, "coverage"), Coverage: c, UnitName: h.patrolUnitName(ctx, unit), Drill: ids.Level(unit) < 5}
	if unit == division.Root {
		d.UnitName = i18n.T(i18n.Negotiate(r), "grid.patrol.country")
	}
	if d.Units, err = h.patrolTreeUnits(ctx, p, "grid.view", i18n.Negotiate(r), unit); err != nil {
		h.patrolFail(w, r, err)
		return
	}
	h.R.Page(w, r, http.StatusOK, "grid_coverage.html", d)
}

// patrolPlace names a household for a worker at the door: address, house
// number and household number (its id when it has none of them).
func patrolPlace(hh registry.Household) string {
	var parts []string
	for _, s := range []string{hh.Address, hh.ShownHouseNo()} {
		if s = strings.TrimSpace(s); s != "" {
			parts = append(parts, s)
		}
	}
	if hh.Number != "" {
		parts = append(parts, "（"+hh.Number+"）")
	}
	if len(parts) == 0 {
		return "#" + strconv.FormatInt(hh.ID, 10)
	}
	return strings.Join(parts, " ")
}
