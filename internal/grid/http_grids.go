package grid

// The grids' pages: the grids of a village or township with their figures
// (GET /grid/grids), one grid with its households, grid workers, chiefs,
// party members' households, open incidents and outline (GET
// /grid/grids/{code}, the forms POST under it, the outline as GeoJSON), and
// putting households on grids (GET and POST /grid/assign). Forms
// POST-redirect-GET; a form with errors comes back (422) with the errors
// at its fields.

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"

	"github.com/shequ-platform/shequ/internal/division"
	"github.com/shequ-platform/shequ/internal/platform/access"
	"github.com/shequ-platform/shequ/internal/platform/db"
	"github.com/shequ-platform/shequ/internal/platform/geo"
	"github.com/shequ-platform/shequ/internal/platform/i18n"
	"github.com/shequ-platform/shequ/internal/platform/ids"
	"github.com/shequ-platform/shequ/internal/platform/web"
	"github.com/shequ-platform/shequ/internal/registry"
)

func (h *HTTP) gridRoutes(mux *http.ServeMux) {
	mux.HandleFunc("GET /grid/grids", h.gridsList)
	mux.HandleFunc("GET /grid/grids/{code}", h.gridPage)
	mux.HandleFunc("GET /grid/grids/{code}/outline.geojson", h.gridOutline)
	mux.HandleFunc("POST /grid/grids/{code}/outline", h.gridSetOutline)
	mux.HandleFunc("POST /grid/grids/{code}/outline/delete", h.gridRemoveOutline)
	mux.HandleFunc("POST /grid/grids/{code}/chiefs", h.gridAddChief)
	mux.HandleFunc("POST /grid/grids/{code}/chiefs/{id}/delete", h.gridRemoveChief)
	mux.HandleFunc("POST /grid/grids/{code}/party", h.gridLinkParty)
	mux.HandleFunc("POST /grid/grids/{code}/party/{id}/delete", h.gridUnlinkParty)
	mux.HandleFunc("GET /grid/assign", h.assignPage)
	mux.HandleFunc("POST /grid/assign", h.assignPost)
}

// gridsCrumb is a link to a unit above the page's.
type gridsCrumb struct {
	Name, Href string
}

// gridsCrumbs lists the units above code (and code itself when self) that
// p may see grid pages of, as links to their grid lists.
func (h *HTTP) gridsCrumbs(ctx context.Context, p *access.Principal, code int64, self bool) []gridsCrumb {
	anc, err := h.S.Divisions.Ancestors(ctx, code) // code itself excluded
	if err != nil {
		return nil
	}
	if self {
		d, err := h.S.Divisions.Get(ctx, code)
		if err != nil {
			return nil
		}
		anc = append(anc, d)
	}
	var out []gridsCrumb
	for _, a := range anc {
		if !p.CanAt("grid.view", a.Code) || a.Level > 5 {
			continue
		}
		out = append(out, gridsCrumb{Name: a.Name, Href: "/grid/grids?unit=" + strconv.FormatInt(a.Code, 10)})
	}
	return out
}

// ---- the list: GET /grid/grids ----

type gridsVillage struct {
	VillageInfo
	List      []GridInfo // the village's grids (VillageInfo.Grids counts them)
	CanAssign bool
	CanCreate bool
}

type gridsData struct {
	Unit      division.Division
	UnitName  string
	UnitParam string
	Units     []incUnitOption
	Crumbs    []gridsCrumb
	// Children are the units below a county or above, to pick from.
	Children []division.Division
	Villages []gridsVillage
	Totals   GridInfo
	Grids    int
}

func (h *HTTP) gridsList(w http.ResponseWriter, r *http.Request) {
	p, ok := h.incViewer(w, r)
	if !ok {
		return
	}
	ctx := r.Context()
	loc := i18n.Negotiate(r)
	unit, ok := incUnitParam(p, r.URL.Query().Get("unit"))
	if !ok || !p.CanAt("grid.view", unit) {
		h.S.denyUnit(ctx, unit)
		h.R.Error(w, r, http.StatusNotFound, "")
		return
	}
	if ids.Level(unit) == 6 {
		http.Redirect(w, r, "/grid/grids/"+strconv.FormatInt(unit, 10), http.StatusSeeOther)
		return
	}
	d := &gridsData{UnitParam: strconv.FormatInt(unit, 10)}
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
	if unit != division.Root {
		if d.Unit, err = h.S.Divisions.Get(ctx, unit); err != nil {
			h.incFail(w, r, err)
			return
		}
		d.Crumbs = h.gridsCrumbs(ctx, p, unit, false)
	}
	if lvl := ids.Level(unit); lvl != 4 && lvl != 5 {
		if d.Children, err = h.S.Divisions.Children(ctx, unit, false); err != nil {
			h.incFail(w, r, err)
			return
		}
		h.R.Page(w, r, http.StatusOK, "grid_grids", d)
		return
	}
	gl, err := h.S.Grids(ctx, p, unit)
	if err != nil {
		h.incFail(w, r, err)
		return
	}
	for _, v := range gl.Villages {
		gv := gridsVillage{VillageInfo: v, CanAssign: p.CanAt("grid.manage", v.Code), CanCreate: p.CanAt("division.manage", v.Code)}
		for _, g := range gl.Grids {
			if g.Parent == v.Code {
				gv.List = append(gv.List, g)
			}
		}
		d.Totals.Households += v.UnplacedHouseholds
		d.Totals.Residents += v.UnplacedResidents
		d.Villages = append(d.Villages, gv)
	}
	for _, g := range gl.Grids {
		d.Grids++
		d.Totals.Households += g.Households
		d.Totals.Residents += g.Residents
		d.Totals.Workers += g.Workers
		d.Totals.OpenIncidents += g.OpenIncidents
	}
	h.R.Page(w, r, http.StatusOK, "grid_grids", d)
}

// ---- one grid: GET /grid/grids/{code} ----

const gridHouseholdPage = 50

// maxPartyOptions bounds the households and party members the link form
// offers in its lists (a larger grid types the household number).
const maxPartyOptions = 500

type chiefRow struct {
	Chief
	KindName string
}

type keyLabel struct{ Key, Label string }

type gridPageData struct {
	Grid      division.Division
	Village   division.Division
	Code      string
	Crumbs    []gridsCrumb
	CanManage bool
	// CanResidents: the reader sees the grid's households (resident.view).
	CanResidents bool

	Households []registry.HouseholdRow
	Total      int
	Page       int
	More       bool

	Workers    []Worker
	Chiefs     []chiefRow
	Kinds      []keyLabel
	ChiefQ     string
	Candidates []registry.Hit
	Searched   bool

	Links   []PartyLink
	Members []registry.Resident
	Options []registry.HouseholdRow // the grid's households to link
	// OptionsCut: the grid has more households than Options lists.
	OptionsCut bool

	Incidents []IncidentView
	MoreOpen  bool

	Outline     bool
	Polygons    int
	Positions   int
	Coords      []keyLabel
	MaxOutlineK int

	// Form names the form that failed ("chief", "party", "outline"), with
	// its values and its errors by field.
	Form   string
	Values map[string]string
	Errors map[string]string
	Flash  string
}

// Err is the error of field when form failed.
func (d *gridPageData) Err(form, field string) string {
	if d.Form != form {
		return ""
	}
	return d.Errors[field]
}

// Val is the value form posted for field when it failed.
func (d *gridPageData) Val(form, field string) string {
	if d.Form != form {
		return ""
	}
	return d.Values[field]
}

// gridFlashes are the messages a redirect after a form may carry (?done=).
var gridFlashes = map[string]string{
	"chief_added":     web.Msg("grid.grids.done.chief_added"),
	"chief_removed":   web.Msg("grid.grids.done.chief_removed"),
	"party_linked":    web.Msg("grid.grids.done.party_linked"),
	"party_unlinked":  web.Msg("grid.grids.done.party_unlinked"),
	"outline_saved":   web.Msg("grid.grids.done.outline_saved"),
	"outline_removed": web.Msg("grid.grids.done.outline_removed"),
}

// outlineSystems are the coordinate systems an outline may be given in.
var outlineSystems = []keyLabel{
	{string(geo.WGS84), web.Msg("grid.grids.coords.wgs84")},
	{string(geo.GCJ02), web.Msg("grid.grids.coords.gcj02")},
	{string(geo.BD09), web.Msg("grid.grids.coords.bd09")},
}

// gridCode reads {code} of a grid path (15 digits).
func gridCode(r *http.Request) (int64, bool) {
	c, err := division.Parse(r.PathValue("code"))
	return c, err == nil && ids.Level(c) == 6
}

// gridLoad answers 404 unless p may see the grid of the path.
func (h *HTTP) gridLoad(w http.ResponseWriter, r *http.Request) (*access.Principal, division.Division, bool) {
	p, ok := h.incViewer(w, r)
	if !ok {
		return nil, division.Division{}, false
	}
	code, ok := gridCode(r)
	if !ok {
		h.R.Error(w, r, http.StatusNotFound, "")
		return nil, division.Division{}, false
	}
	g, err := h.S.Grid(r.Context(), p, code)
	if err != nil {
		h.incFail(w, r, err)
		return nil, division.Division{}, false
	}
	return p, g, true
}

func (h *HTTP) gridData(r *http.Request, p *access.Principal, g division.Division) (*gridPageData, error) {
	ctx := r.Context()
	loc := i18n.Negotiate(r)
	q := r.URL.Query()
	d := &gridPageData{Grid: g, Code: strconv.FormatInt(g.Code, 10), CanManage: p.CanAt("grid.manage", g.Code),
		CanResidents: p.CanAt("resident.view", g.Code), Values: map[string]string{}, Errors: map[string]string{},
		MaxOutlineK: MaxOutline >> 10}
	d.Flash = gridFlashes[q.Get("done")]
	var err error
	if d.Village, err = h.S.Divisions.Get(ctx, g.Parent); err != nil {
		return nil, err
	}
	d.Crumbs = h.gridsCrumbs(ctx, p, g.Parent, true)
	d.Page, _ = strconv.Atoi(q.Get("page"))
	d.Page = max(d.Page, 1)
	if d.CanResidents {
		d.Households, d.Total, err = h.S.Registry.HouseholdsIn(ctx, p, g.Code, g.Code,
			registry.HouseholdFilter{Offset: (d.Page - 1) * gridHouseholdPage, Limit: gridHouseholdPage})
		if err != nil {
			return nil, err
		}
		d.More = d.Page*gridHouseholdPage < d.Total
	}
	if d.Workers, err = h.S.Workers(ctx, p, g.Code); err != nil {
		return nil, err
	}
	chiefs, err := h.S.Chiefs(ctx, p, g.Code)
	if err != nil {
		return nil, err
	}
	for _, k := range h.S.ChiefKinds(g.Code) {
		d.Kinds = append(d.Kinds, keyLabel{k.Key, k.Label.Get(loc)})
	}
	for _, c := range chiefs {
		row := chiefRow{Chief: c, KindName: c.Kind}
		if k, ok := h.S.Rules(g.Code).Chief(c.Kind); ok {
			row.KindName = k.Label.Get(loc)
		}
		d.Chiefs = append(d.Chiefs, row)
	}
	if d.Links, err = h.S.PartyLinks(ctx, p, g.Code); err != nil {
		return nil, err
	}
	if d.CanManage {
		d.ChiefQ = strings.TrimSpace(q.Get("chief_q"))
		if d.ChiefQ != "" {
			d.Searched = true
			if d.Candidates, err = h.S.ChiefCandidates(ctx, p, g.Code, d.ChiefQ); err != nil {
				return nil, err
			}
		}
		vlo, vhi := ids.Subtree(g.Parent)
		if d.Members, err = h.S.Registry.PartyMembers(ctx, p, vlo, vhi, maxPartyOptions); err != nil {
			return nil, err
		}
		var total int
		if d.Options, total, err = h.S.Registry.HouseholdsIn(ctx, p, g.Code, g.Code, registry.HouseholdFilter{Limit: maxPartyOptions}); err != nil {
			return nil, err
		}
		d.OptionsCut = total > len(d.Options)
	}
	open, more, err := h.S.List(ctx, p, Filter{Unit: g.Code, View: ViewOpen, Limit: 20})
	if err != nil {
		return nil, err
	}
	d.MoreOpen = more
	if d.Incidents, err = h.S.IncidentViews(ctx, loc, open); err != nil {
		return nil, err
	}
	o, err := h.S.outline(ctx, g.Code)
	switch {
	case err == nil:
		d.Outline, d.Polygons = true, len(o)
		for _, poly := range o {
			for _, ring := range poly {
				d.Positions += len(ring)
			}
		}
	case !errors.Is(err, db.ErrNotFound):
		var es Errors
		if !errors.As(err, &es) { // an outline stored before a stricter check shows as none
			return nil, err
		}
	}
	for _, c := range outlineSystems {
		d.Coords = append(d.Coords, keyLabel{c.Key, i18n.T(loc, c.Label)})
	}
	return d, nil
}

func (h *HTTP) gridPage(w http.ResponseWriter, r *http.Request) {
	p, g, ok := h.gridLoad(w, r)
	if !ok {
		return
	}
	d, err := h.gridData(r, p, g)
	if err != nil {
		h.incFail(w, r, err)
		return
	}
	h.R.Page(w, r, http.StatusOK, "grid_page", d)
}

// gridFormFailed renders the grid page again with the errors of form at
// their fields (422), or fails the request for any other error.
func (h *HTTP) gridFormFailed(w http.ResponseWriter, r *http.Request, p *access.Principal, g division.Division, form string, values url.Values, err error) {
	var es Errors
	if !errors.As(err, &es) {
		h.incFail(w, r, err)
		return
	}
	d, derr := h.gridData(r, p, g)
	if derr != nil {
		h.incFail(w, r, derr)
		return
	}
	loc := i18n.Negotiate(r)
	d.Form = form
	for k := range values {
		d.Values[k] = values.Get(k)
	}
	for _, e := range es {
		if _, dup := d.Errors[e.Field]; !dup {
			d.Errors[e.Field] = ErrorText(loc, e)
		}
	}
	h.R.Page(w, r, http.StatusUnprocessableEntity, "grid_page", d)
}

func (h *HTTP) gridDone(w http.ResponseWriter, r *http.Request, g division.Division, done, anchor string) {
	http.Redirect(w, r, "/grid/grids/"+strconv.FormatInt(g.Code, 10)+"?done="+done+"#"+anchor, http.StatusSeeOther)
}

func (h *HTTP) gridAddChief(w http.ResponseWriter, r *http.Request) {
	p, g, ok := h.gridLoad(w, r)
	if !ok {
		return
	}
	if err := r.ParseForm(); err != nil {
		h.R.Error(w, r, http.StatusBadRequest, "")
		return
	}
	f := r.PostForm
	rid, _ := strconv.ParseInt(f.Get("resident"), 10, 64)
	_, err := h.S.AddChief(r.Context(), p, g.Code, ChiefInput{Kind: f.Get("kind"), ResidentID: rid, Area: f.Get("area"), Since: f.Get("since")})
	if err != nil {
		h.gridFormFailed(w, r, p, g, "chief", f, err)
		return
	}
	h.gridDone(w, r, g, "chief_added", "chiefs")
}

func (h *HTTP) gridRemoveChief(w http.ResponseWriter, r *http.Request) {
	p, g, ok := h.gridLoad(w, r)
	if !ok {
		return
	}
	id, err := strconv.ParseInt(r.PathValue("id"), 10, 64)
	if err != nil {
		h.R.Error(w, r, http.StatusNotFound, "")
		return
	}
	if err := h.S.RemoveChief(r.Context(), p, g.Code, id); err != nil {
		h.incFail(w, r, err)
		return
	}
	h.gridDone(w, r, g, "chief_removed", "chiefs")
}

func (h *HTTP) gridLinkParty(w http.ResponseWriter, r *http.Request) {
	p, g, ok := h.gridLoad(w, r)
	if !ok {
		return
	}
	if err := r.ParseForm(); err != nil {
		h.R.Error(w, r, http.StatusBadRequest, "")
		return
	}
	f := r.PostForm
	if !p.CanAt("grid.manage", g.Code) {
		h.R.Error(w, r, http.StatusForbidden, "")
		return
	}
	in := PartyInput{Since: f.Get("since")}
	in.ResidentID, _ = strconv.ParseInt(f.Get("member"), 10, 64)
	in.HouseholdID, _ = strconv.ParseInt(f.Get("household"), 10, 64)
	if n := strings.TrimSpace(f.Get("household_number")); n != "" {
		// a household number typed instead: any household of the village
		hh, err := h.S.Registry.HouseholdByNumber(r.Context(), p, g.Parent, n)
		if err != nil {
			if !errors.Is(err, db.ErrNotFound) {
				h.incFail(w, r, err)
				return
			}
			h.gridFormFailed(w, r, p, g, "party", f, Errors{{Field: "household", Code: "grids_household_number"}})
			return
		}
		in.HouseholdID = hh.ID
	}
	if in.HouseholdID == 0 {
		h.gridFormFailed(w, r, p, g, "party", f, Errors{{Field: "household", Code: "grids_household_required"}})
		return
	}
	if _, err := h.S.LinkParty(r.Context(), p, in); err != nil {
		h.gridFormFailed(w, r, p, g, "party", f, err)
		return
	}
	h.gridDone(w, r, g, "party_linked", "party")
}

func (h *HTTP) gridUnlinkParty(w http.ResponseWriter, r *http.Request) {
	p, g, ok := h.gridLoad(w, r)
	if !ok {
		return
	}
	id, err := strconv.ParseInt(r.PathValue("id"), 10, 64)
	if err != nil {
		h.R.Error(w, r, http.StatusNotFound, "")
		return
	}
	if err := h.S.UnlinkParty(r.Context(), p, id); err != nil {
		h.incFail(w, r, err)
		return
	}
	h.gridDone(w, r, g, "party_unlinked", "party")
}

// outlineMemory is the part of an outline upload kept in memory.
const outlineMemory = MaxOutline + 64<<10

func (h *HTTP) gridSetOutline(w http.ResponseWriter, r *http.Request) {
	p, g, ok := h.gridLoad(w, r)
	if !ok {
		return
	}
	var text []byte
	values := url.Values{}
	if strings.HasPrefix(r.Header.Get("Content-Type"), "multipart/") {
		if err := r.ParseMultipartForm(outlineMemory); err != nil {
			if web.BodyTooLarge(err) {
				h.gridFormFailed(w, r, p, g, "outline", values,
					Errors{{Field: "outline", Code: "grids_outline_too_large", Arg: strconv.Itoa(MaxOutline >> 10)}})
				return
			}
			h.R.Error(w, r, http.StatusBadRequest, "")
			return
		}
		defer r.MultipartForm.RemoveAll()
		if file, _, err := r.FormFile("file"); err == nil {
			defer file.Close()
			b, err := io.ReadAll(io.LimitReader(file, MaxOutline+1))
			if err != nil {
				h.R.Error(w, r, http.StatusBadRequest, "")
				return
			}
			text = b
		}
	} else if err := r.ParseForm(); err != nil {
		h.R.Error(w, r, http.StatusBadRequest, "")
		return
	}
	if len(text) == 0 {
		text = []byte(r.PostFormValue("geojson"))
	}
	values.Set("coords", r.PostFormValue("coords"))
	if len(text) <= 64<<10 {
		values.Set("geojson", string(text)) // given back when it fails; a large upload is not
	}
	sys, err := geo.ParseSystem(r.PostFormValue("coords"))
	if err != nil {
		h.gridFormFailed(w, r, p, g, "outline", values, Errors{{Field: "coords", Code: "grids_outline_coords"}})
		return
	}
	if _, err := h.S.SetOutline(r.Context(), p, g.Code, text, sys); err != nil {
		h.gridFormFailed(w, r, p, g, "outline", values, err)
		return
	}
	h.gridDone(w, r, g, "outline_saved", "outline")
}

func (h *HTTP) gridRemoveOutline(w http.ResponseWriter, r *http.Request) {
	p, g, ok := h.gridLoad(w, r)
	if !ok {
		return
	}
	if err := h.S.RemoveOutline(r.Context(), p, g.Code); err != nil {
		h.incFail(w, r, err)
		return
	}
	h.gridDone(w, r, g, "outline_removed", "outline")
}

// gridOutline serves a grid's outline as a GeoJSON Feature (WGS-84).
func (h *HTTP) gridOutline(w http.ResponseWriter, r *http.Request) {
	p, g, ok := h.gridLoad(w, r)
	if !ok {
		return
	}
	o, err := h.S.OutlineOf(r.Context(), p, g.Code)
	if err != nil {
		h.incFail(w, r, err)
		return
	}
	code := strconv.FormatInt(g.Code, 10)
	body, err := json.Marshal(Feature{Type: "Feature", Geometry: o, Properties: map[string]any{
		"code": code, "name": g.Name, "village": strconv.FormatInt(g.Parent, 10)}})
	if err != nil {
		h.incFail(w, r, err)
		return
	}
	hd := w.Header()
	hd.Set("Content-Type", "application/geo+json")
	hd.Set("Content-Disposition", `attachment; filename="grid-`+code+`.geojson"`)
	hd.Set("Cache-Control", "no-store")
	_, _ = w.Write(body)
}

// ---- putting households on grids: /grid/assign ----

// assignPreviewRows is how many households the preview lists.
const assignPreviewRows = 20

type assignData struct {
	Village   division.Division
	Villages  []division.Division // to pick from when none is chosen
	Crumbs    []gridsCrumb
	Grids     []division.Division
	Modes     []string
	Mode      string
	Text      string
	Grid      int64
	GridSet   bool // the form chose a grid (0 included)
	NoGrid    bool
	Preview   *Preview
	GridName  string
	MaxAssign int
	Errors    map[string]string
	Moved     int
	MovedTo   string
	Done      bool
}

// E is the error of field.
func (d *assignData) E(field string) string { return d.Errors[field] }

// NameOf is the name of a grid of the village (its code when unknown).
func (d *assignData) NameOf(code int64) string {
	for _, g := range d.Grids {
		if g.Code == code {
			return g.Name
		}
	}
	return strconv.FormatInt(code, 10)
}

// GridParam is the chosen grid as the form carries it.
func (d *assignData) GridParam() string { return strconv.FormatInt(d.Grid, 10) }

// assignBase reads the village and the selection of a request (query or
// form) for p: 404 outside p's grid.view, 403 without grid.manage.
func (h *HTTP) assignBase(w http.ResponseWriter, r *http.Request, v url.Values) (*access.Principal, *assignData, bool) {
	p, ok := h.incViewer(w, r)
	if !ok {
		return nil, nil, false
	}
	if !p.Can("grid.manage") {
		h.R.Error(w, r, http.StatusForbidden, "")
		return nil, nil, false
	}
	ctx := r.Context()
	d := &assignData{Modes: SelectModes, MaxAssign: MaxAssign, Errors: map[string]string{}}
	village, err := division.Parse(strings.TrimSpace(v.Get("village")))
	if err != nil {
		// no village chosen: the villages p manages grids in
		for _, rg := range p.Ranges("grid.manage") {
			vs, err := h.S.Divisions.InRange(ctx, rg.Lo, rg.Hi, 5, 5)
			if err != nil {
				h.incFail(w, r, err)
				return nil, nil, false
			}
			for _, v := range vs {
				if !v.Retired && len(d.Villages) < 300 {
					d.Villages = append(d.Villages, v)
				}
			}
		}
		if len(d.Villages) == 1 {
			village = d.Villages[0].Code
		} else {
			return p, d, true
		}
	}
	if ids.Level(village) != 5 || !p.CanAt("grid.view", village) {
		h.S.denyUnit(ctx, village)
		h.R.Error(w, r, http.StatusNotFound, "")
		return nil, nil, false
	}
	if !p.CanAt("grid.manage", village) {
		h.R.Error(w, r, http.StatusForbidden, "")
		return nil, nil, false
	}
	if d.Village, err = h.S.Divisions.Get(ctx, village); err != nil {
		h.incFail(w, r, err)
		return nil, nil, false
	}
	d.Villages = nil
	d.Crumbs = h.gridsCrumbs(ctx, p, village, true)
	kids, err := h.S.Divisions.Children(ctx, village, false)
	if err != nil {
		h.incFail(w, r, err)
		return nil, nil, false
	}
	for _, k := range kids {
		if k.Kind == division.KindGrid {
			d.Grids = append(d.Grids, k)
		}
	}
	d.Mode = v.Get("mode")
	if !slices.Contains(SelectModes, d.Mode) {
		d.Mode = SelectAddress
	}
	d.Text = v.Get("text")
	d.Grid, _ = strconv.ParseInt(v.Get("grid"), 10, 64)
	d.GridSet = v.Has("grid")
	d.NoGrid = v.Get("nogrid") == "1"
	for _, g := range d.Grids {
		if g.Code == d.Grid {
			d.GridName = g.Name
		}
	}
	return p, d, true
}

func (d *assignData) selection() Selection {
	return Selection{Village: d.Village.Code, Mode: d.Mode, Text: d.Text, Grid: d.Grid, NoGridOK: d.NoGrid}
}

func (h *HTTP) assignErrors(r *http.Request, d *assignData, err error) bool {
	var es Errors
	if !errors.As(err, &es) {
		return false
	}
	loc := i18n.Negotiate(r)
	for _, e := range es {
		if _, dup := d.Errors[e.Field]; !dup {
			d.Errors[e.Field] = ErrorText(loc, e)
		}
	}
	return true
}

// assignPage shows the selection form; with preview=1 (a link such as
// "put the households on no grid yet on a grid") it previews too.
func (h *HTTP) assignPage(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	p, d, ok := h.assignBase(w, r, q)
	if !ok {
		return
	}
	if d.Village.Code != 0 {
		if n, err := strconv.Atoi(q.Get("moved")); err == nil && n >= 0 {
			d.Done, d.Moved = true, n
			d.MovedTo = d.GridName
		}
		if q.Get("preview") == "1" {
			h.assignPreview(w, r, p, d)
			return
		}
	}
	h.R.Page(w, r, http.StatusOK, "grid_assign", d)
}

func (h *HTTP) assignPreview(w http.ResponseWriter, r *http.Request, p *access.Principal, d *assignData) {
	pv, err := h.S.PreviewAssign(r.Context(), p, d.selection(), assignPreviewRows)
	if err != nil {
		if h.assignErrors(r, d, err) {
			h.R.Page(w, r, http.StatusUnprocessableEntity, "grid_assign", d)
			return
		}
		h.incFail(w, r, err)
		return
	}
	d.Preview = &pv
	h.R.Page(w, r, http.StatusOK, "grid_assign", d)
}

// assignPost previews (do=preview: nothing changes; a pasted list is too
// long for a URL) or confirms (do=confirm) a selection.
func (h *HTTP) assignPost(w http.ResponseWriter, r *http.Request) {
	if err := r.ParseForm(); err != nil {
		h.R.Error(w, r, http.StatusBadRequest, "")
		return
	}
	f := r.PostForm
	p, d, ok := h.assignBase(w, r, f)
	if !ok {
		return
	}
	if d.Village.Code == 0 {
		h.R.Error(w, r, http.StatusNotFound, "")
		return
	}
	if f.Get("do") != "confirm" {
		h.assignPreview(w, r, p, d)
		return
	}
	expect, err := strconv.Atoi(f.Get("expect"))
	if err != nil {
		expect = -1
	}
	moved, err := h.S.Assign(r.Context(), p, d.selection(), expect)
	if err != nil {
		if h.assignErrors(r, d, err) {
			if pv, perr := h.S.PreviewAssign(r.Context(), p, d.selection(), assignPreviewRows); perr == nil {
				d.Preview = &pv
			}
			h.R.Page(w, r, http.StatusUnprocessableEntity, "grid_assign", d)
			return
		}
		h.incFail(w, r, err)
		return
	}
	v := url.Values{"village": {strconv.FormatInt(d.Village.Code, 10)}, "grid": {d.GridParam()}, "moved": {strconv.Itoa(moved)}}
	http.Redirect(w, r, "/grid/assign?"+v.Encode(), http.StatusSeeOther)
}
