package grid

// The grid worker's phone pages: the report form (GET and POST
// /grid/report), its household search (GET /grid/report/households, an htmx
// fragment), the resumable uploads its script sends photos through
// (uploads.go) and the worker's home (GET /grid/m).
//
// The form works without JavaScript as a plain multipart POST carrying the
// photos. With grid-report.js the phone downscales each photo, uploads it
// in chunks that survive a poor connection, keeps every draft in IndexedDB
// until the server has stored it, and posts the upload ids instead of the
// files, asking for JSON (201 {id, number, url} or 422 {errors}). Each draft
// carries a client key; a draft sent again after a lost answer is stored
// once (the service deduplicates by reporter and key).

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"mime"
	"net/http"
	"net/url"
	"slices"
	"sort"
	"strconv"
	"strings"

	"github.com/shequ-platform/shequ/internal/platform/access"
	"github.com/shequ-platform/shequ/internal/platform/db"
	"github.com/shequ-platform/shequ/internal/platform/geo"
	"github.com/shequ-platform/shequ/internal/platform/i18n"
	"github.com/shequ-platform/shequ/internal/platform/ids"
	"github.com/shequ-platform/shequ/internal/platform/web"
	"github.com/shequ-platform/shequ/internal/registry"
)

// ReportUpload is the body limit of POST /grid/report for web.MaxBody: a
// report sent without JavaScript carries its photos (MaxPhotos of MaxPhoto
// each, and the form).
var ReportUpload = web.Upload{Method: http.MethodPost, Path: "/grid/report", Limit: MaxPhotos*MaxPhoto + 1<<20}

// ActionUpload is the body limit of an incident action with photos (the
// incident page's forms post them whole, without the phone's shrinking).
var ActionUpload = web.Upload{Method: http.MethodPost, Path: "/grid/incidents/*/act", Limit: MaxPhotos*MaxPhoto + 1<<20}

// Browser-side photo processing (grid-report.js): the long side is scaled
// down to reportMaxSide pixels and the photo re-encoded as JPEG at
// reportQuality, then sent in reportChunk pieces.
const (
	reportMaxSide = 1600
	reportQuality = 0.8
	reportChunk   = 128 << 10
	// reportMaxUnits bounds the places offered in the form's picker.
	reportMaxUnits = 300
	// homeRows bounds each list of the home page.
	homeRows = 30
)

// reportFields are the form's text fields, kept when a form comes back with
// errors.
var reportFields = []string{"division", "category", "description", "address", "lat", "lon", "coords",
	"household", "resident", "patrol", "client_key", "hq"}

func (h *HTTP) reportRoutes(mux *http.ServeMux) {
	mux.HandleFunc("GET /grid/m", h.home)
	mux.HandleFunc("GET /grid/report", h.reportPage)
	mux.HandleFunc("POST /grid/report", h.reportPost)
	mux.HandleFunc("GET /grid/report/households", h.reportHouseholds)
	mux.HandleFunc("POST /grid/uploads", h.uploadCreate)
	mux.HandleFunc("HEAD /grid/uploads/{id}", h.uploadHead)
	mux.HandleFunc("PATCH /grid/uploads/{id}", h.uploadPatch)
	mux.HandleFunc("DELETE /grid/uploads/{id}", h.uploadDelete)
}

// reporter returns the signed-in principal holding grid.report somewhere,
// or answers 404 (JSON to the script).
func (h *HTTP) reporter(w http.ResponseWriter, r *http.Request) (*access.Principal, bool) {
	p := access.From(r.Context())
	if p == nil || !p.Can("grid.report") {
		if reportWantsJSON(r) {
			uploadJSON(w, http.StatusNotFound, map[string]any{"errors": []jsonFieldError{}})
		} else {
			h.R.Error(w, r, http.StatusNotFound, "")
		}
		return nil, false
	}
	return p, true
}

func reportWantsJSON(r *http.Request) bool {
	return strings.Contains(r.Header.Get("Accept"), "application/json")
}

func (h *HTTP) reportFail(w http.ResponseWriter, r *http.Request, err error) {
	slog.ErrorContext(r.Context(), "grid: report page failed", "path", r.URL.Path, "err", err)
	if reportWantsJSON(r) {
		uploadJSON(w, http.StatusInternalServerError, map[string]any{"errors": []jsonFieldError{}})
		return
	}
	h.R.Error(w, r, http.StatusInternalServerError, "")
}

// reportErrorText translates a field error of the report or the uploads:
// grid.error.<code>, with the report page's own wording where it says more
// to a grid worker, and a general text for a code without one.
func reportErrorText(locale string, e *FieldError) string {
	switch {
	case e.Field == "category" && e.Code == "required":
		return i18n.T(locale, "grid.report.category_required")
	case e.Field == "division" && e.Code == "required":
		return i18n.T(locale, "grid.report.division_required")
	}
	key := "grid.error." + e.Code
	if !i18n.Has(locale, key) {
		return i18n.T(locale, "grid.report.invalid")
	}
	if e.Arg == "" {
		return i18n.T(locale, key)
	}
	return i18n.T(locale, key, e.Arg)
}

func reportJSONErrors(locale string, es Errors) []jsonFieldError {
	out := make([]jsonFieldError, 0, len(es))
	for _, e := range es {
		out = append(out, jsonFieldError{Field: e.Field, Code: e.Code, Message: reportErrorText(locale, e)})
	}
	return out
}

// ---- the form ----

// reportUnit is a place a report may be filed at: a grid, or a village.
type reportUnit struct {
	Code int64
	Name string
}

type reportCategory struct {
	Code, Name, Hint string
}

type reportGroup struct {
	Key, Label string
	Categories []reportCategory
}

// reportConfig is what grid-report.js needs, in a JSON script element.
type reportConfig struct {
	User      int64             `json:"user"`
	MaxPhotos int               `json:"maxPhotos"`
	MaxPhoto  int64             `json:"maxPhoto"`
	Chunk     int               `json:"chunk"`
	MaxSide   int               `json:"maxSide"`
	Quality   float64           `json:"quality"`
	Msgs      map[string]string `json:"msgs"`
}

type reportData struct {
	Units     []reportUnit
	Division  int64
	UnitName  string
	Groups    []reportGroup
	Values    map[string]string
	Household *registry.Household
	Hits      []registry.Hit
	Searched  bool
	CanSearch bool
	Errors    map[string]string
	// PhotosAgain: the form came back with errors and the photos it carried
	// must be chosen again (a browser cannot refill a file input).
	PhotosAgain bool
	Coords      []string
	Config      reportConfig
	MaxPhotos   int
	MaxPhotoMB  int
	Locale      string
	// Picker configures the map to pick the position on (grid-pick.js).
	Picker reportPicker
}

// V is a field's value; E its error.
func (d *reportData) V(name string) string { return d.Values[name] }
func (d *reportData) E(name string) string { return d.Errors[name] }

// Checked reports whether the category is the chosen one.
func (d *reportData) Checked(code string) bool { return d.Values["category"] == code }

// HouseholdLabel describes the linked household.
func (d *reportData) HouseholdLabel() string {
	if d.Household == nil {
		return ""
	}
	return householdText(*d.Household)
}

// householdText describes a household for the form: address, house number
// and household number.
func householdText(hh registry.Household) string {
	parts := []string{}
	if place := strings.TrimSpace(hh.Place()); place != "" {
		parts = append(parts, place)
	}
	if hh.Number != "" {
		parts = append(parts, "（"+hh.Number+"）")
	}
	if len(parts) == 0 {
		return "#" + strconv.FormatInt(hh.ID, 10)
	}
	return strings.Join(parts, " ")
}

// reportMessages are the script's texts.
func reportMessages(loc string) map[string]string {
	return map[string]string{
		"saved":          i18n.T(loc, "grid.report.js.saved"),
		"sending":        i18n.T(loc, "grid.report.js.sending"),
		"sent":           i18n.T(loc, "grid.report.js.sent"),
		"retry":          i18n.T(loc, "grid.report.js.retry"),
		"invalid":        i18n.T(loc, "grid.report.js.invalid"),
		"login":          i18n.T(loc, "grid.report.js.login"),
		"needCategory":   i18n.T(loc, "grid.report.category_required"),
		"locating":       i18n.T(loc, "grid.report.js.locating"),
		"located":        i18n.T(loc, "grid.report.js.located"),
		"locateFailed":   i18n.T(loc, "grid.report.js.locate_failed"),
		"locateInsecure": i18n.T(loc, "grid.report.js.locate_insecure"),
		"processing":     i18n.T(loc, "grid.report.js.processing"),
		"uploading":      i18n.T(loc, "grid.report.js.uploading"),
		"photoTooBig":    i18n.T(loc, "grid.report.js.photo_too_big"),
		"photoNotImage":  i18n.T(loc, "grid.report.js.photo_not_image"),
		"tooManyPhotos":  i18n.T(loc, "grid.report.js.too_many_photos"),
		"remove":         i18n.T(loc, "grid.report.js.remove"),
		"edit":           i18n.T(loc, "grid.report.js.edit"),
		"delete":         i18n.T(loc, "grid.report.js.delete"),
		"confirmDelete":  i18n.T(loc, "grid.report.js.confirm_delete"),
		"waiting":        i18n.T(loc, "grid.report.js.waiting"),
		"needsFix":       i18n.T(loc, "grid.report.js.needs_fix"),
		"loaded":         i18n.T(loc, "grid.report.js.loaded"),
		"photos":         i18n.T(loc, "grid.report.js.photos"),
		"photo":          i18n.T(loc, "grid.report.js.photo"),
		"noStorage":      i18n.T(loc, "grid.report.js.no_storage"),
		"view":           i18n.T(loc, "grid.report.js.view"),
	}
}

func (h *HTTP) reportConfig(p *access.Principal, loc string) reportConfig {
	return reportConfig{User: p.UserID, MaxPhotos: MaxPhotos, MaxPhoto: MaxPhoto, Chunk: reportChunk,
		MaxSide: reportMaxSide, Quality: reportQuality, Msgs: reportMessages(loc)}
}

// reportUnits lists the grids (and, for village staff and above, the
// villages) where p may report, at most reportMaxUnits, grids named with
// their village.
func (h *HTTP) reportUnits(ctx context.Context, p *access.Principal) ([]reportUnit, error) {
	var out []reportUnit
	villages := map[int64]string{}
	for _, rg := range p.Ranges("grid.report") {
		ds, err := h.S.Divisions.InRange(ctx, rg.Lo, rg.Hi, 5, 6)
		if err != nil {
			return nil, err
		}
		for _, d := range ds {
			if d.Retired {
				continue
			}
			name := d.Name
			if d.Level == 5 {
				villages[d.Code] = d.Name
			} else {
				v := d.Code / 1000 * 1000
				vn, ok := villages[v]
				if !ok {
					if vd, err := h.S.Divisions.Get(ctx, v); err == nil {
						vn = vd.Name
					}
					villages[v] = vn
				}
				if vn != "" {
					name = vn + " · " + d.Name
				}
			}
			out = append(out, reportUnit{Code: d.Code, Name: name})
			if len(out) >= reportMaxUnits {
				return out, nil
			}
		}
	}
	return out, nil
}

// reportGroups lists the pack's categories at division by group, the groups
// and categories the reporter used most often first (then in the pack's
// order).
func (h *HTTP) reportGroups(ctx context.Context, p *access.Principal, division int64, loc string) ([]reportGroup, error) {
	rules := h.S.Rules(division)
	if rules == nil {
		return nil, nil
	}
	used, err := h.S.categoryUse(ctx, p.UserID)
	if err != nil {
		return nil, err
	}
	var out []reportGroup
	groupUse := map[string]int{}
	for _, g := range rules.Groups {
		rg := reportGroup{Key: g.Key, Label: g.Label.Get(loc)}
		for _, c := range rules.Categories {
			if c.Group == g.Key {
				rg.Categories = append(rg.Categories, reportCategory{Code: c.Code, Name: c.Name.Get(loc), Hint: c.Description.Get(loc)})
				groupUse[g.Key] += used[c.Code]
			}
		}
		sort.SliceStable(rg.Categories, func(i, j int) bool { return used[rg.Categories[i].Code] > used[rg.Categories[j].Code] })
		if len(rg.Categories) > 0 {
			out = append(out, rg)
		}
	}
	sort.SliceStable(out, func(i, j int) bool { return groupUse[out[i].Key] > groupUse[out[j].Key] })
	return out, nil
}

// categoryUse counts the categories of the user's last 200 reports.
func (s *Service) categoryUse(ctx context.Context, userID int64) (map[string]int, error) {
	rows, err := s.DB.Query(ctx, `SELECT category FROM incidents WHERE reporter_id = ? ORDER BY id DESC LIMIT 200`, userID)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := map[string]int{}
	for rows.Next() {
		var c string
		if err := rows.Scan(&c); err != nil {
			return nil, err
		}
		out[c]++
	}
	return out, rows.Err()
}

// reportBase builds the form from values (the query of a GET, the form of
// a POST coming back with errors).
func (h *HTTP) reportBase(r *http.Request, p *access.Principal, values url.Values) (*reportData, error) {
	ctx := r.Context()
	loc := i18n.Negotiate(r)
	d := &reportData{Values: map[string]string{}, Errors: map[string]string{}, Locale: loc,
		Coords:    []string{string(geo.WGS84), string(geo.GCJ02), string(geo.BD09)},
		CanSearch: p.Can("resident.view"), MaxPhotos: MaxPhotos, MaxPhotoMB: MaxPhoto >> 20,
		Config: h.reportConfig(p, loc)}
	for _, k := range reportFields {
		d.Values[k] = strings.TrimSpace(values.Get(k))
	}
	units, err := h.reportUnits(ctx, p)
	if err != nil {
		return nil, err
	}
	d.Units = units
	d.Picker = h.reportPicker(p, units, loc)
	offered := func(code int64) bool {
		return slices.ContainsFunc(units, func(u reportUnit) bool { return u.Code == code })
	}
	if id, err := strconv.ParseInt(d.Values["household"], 10, 64); err == nil && id > 0 {
		if hh, _, err := h.S.Registry.Household(ctx, p, id); err == nil {
			d.Household = &hh
			if d.Values["address"] == "" {
				d.Values["address"] = strings.TrimSpace(hh.Place())
			}
		} else if !errors.Is(err, db.ErrNotFound) {
			return nil, err
		} else {
			d.Values["household"] = ""
		}
	}
	if c, err := strconv.ParseInt(d.Values["division"], 10, 64); err == nil && offered(c) {
		d.Division = c
	} else if d.Household != nil && offered(d.Household.Division()) {
		d.Division = d.Household.Division()
	} else if len(units) > 0 {
		d.Division = units[0].Code
	}
	for _, u := range units {
		if u.Code == d.Division {
			d.UnitName = u.Name
		}
	}
	if d.Values["coords"] == "" {
		d.Values["coords"] = string(geo.WGS84)
	}
	if d.Division != 0 {
		if d.Groups, err = h.reportGroups(ctx, p, d.Division, loc); err != nil {
			return nil, err
		}
	}
	if q := d.Values["hq"]; q != "" && d.CanSearch {
		d.Searched = true
		if d.Hits, err = h.reportSearch(ctx, p, q); err != nil {
			return nil, err
		}
	}
	return d, nil
}

// ---- the map picker ----

// pickLayers are the map layers the picker draws: the outlines and the
// households (dots a worker may tap to link the household), never the
// incidents.
const pickLayers = LayerOutlines + "," + LayerHouseholds

// reportPicker is what grid-pick.js needs to let the worker tap the
// incident's point on a small map, in a JSON script element. Leaflet is
// loaded only when the map is opened (its URLs are data- attributes of the
// button). There are no tiles unless the deployment configures them
// (HTTP.Map), so by default nothing is asked of another host.
type reportPicker struct {
	// Data is the map data's URL (GET /grid/map/data.json, the picker's
	// layers) without the unit, which the script appends.
	Data string `json:"data"`
	// Units gives, for each place of the form, the places whose map data
	// centre the map, in order: the place itself, then (for a grid) its
	// village when p may see it. A place p may not see on the map is left
	// out, and the script offers no map there.
	Units map[string][]string `json:"units"`
	Tiles string              `json:"tiles,omitempty"`
	// Attribution is the tiles' attribution.
	Attribution string `json:"attribution,omitempty"`
	// GCJ02: the tiles are drawn in GCJ-02 and so is every point of the
	// data; a tapped point is sent as coords=gcj02, converted by the server.
	GCJ02 bool              `json:"gcj02,omitempty"`
	Msgs  map[string]string `json:"msgs"`
}

// reportPicker builds the picker's configuration for the form's places.
func (h *HTTP) reportPicker(p *access.Principal, units []reportUnit, loc string) reportPicker {
	pk := reportPicker{Data: "/grid/map/data.json?" + url.Values{"layers": {pickLayers}}.Encode(),
		Units: map[string][]string{}, Msgs: pickMessages(loc)}
	for _, u := range units {
		if !p.CanAt("grid.view", u.Code) {
			continue
		}
		chain := []string{strconv.FormatInt(u.Code, 10)}
		if ids.Level(u.Code) == 6 {
			if v := u.Code - u.Code%ids.Span(5); p.CanAt("grid.view", v) {
				chain = append(chain, strconv.FormatInt(v, 10))
			}
		}
		pk.Units[chain[0]] = chain
	}
	if h.Map.TileURL != "" {
		pk.Tiles, pk.Attribution, pk.GCJ02 = h.Map.TileURL, h.Map.Attribution, h.Map.GCJ02()
	}
	return pk
}

// pickMessages are the picker's texts.
func pickMessages(loc string) map[string]string {
	return map[string]string{
		"open":        i18n.T(loc, "grid.pick.open"),
		"close":       i18n.T(loc, "grid.pick.close"),
		"offline":     i18n.T(loc, "grid.pick.offline"),
		"needNetwork": i18n.T(loc, "grid.pick.need_network"),
		"loading":     i18n.T(loc, "grid.pick.loading"),
		"failed":      i18n.T(loc, "grid.pick.failed"),
		"empty":       i18n.T(loc, "grid.pick.empty"),
		"picked":      i18n.T(loc, "grid.pick.picked"),
		"linked":      i18n.T(loc, "grid.pick.linked"),
		"household":   i18n.T(loc, "grid.report.household"),
		"noHousehold": i18n.T(loc, "grid.report.no_household"),
		"current":     i18n.T(loc, "grid.pick.current"),
	}
}

// reportSearch finds households through their residents (name, ID number
// tail, phone, address), one hit per household.
func (h *HTTP) reportSearch(ctx context.Context, p *access.Principal, q string) ([]registry.Hit, error) {
	res, err := h.S.Registry.Search(ctx, p, q, 0, 20)
	if err != nil {
		return nil, err
	}
	var out []registry.Hit
	seen := map[int64]bool{}
	for _, hit := range res.Hits {
		if hit.HouseholdID == 0 || seen[hit.HouseholdID] {
			continue
		}
		seen[hit.HouseholdID] = true
		out = append(out, hit)
		if len(out) == 10 {
			break
		}
	}
	return out, nil
}

func (h *HTTP) reportPage(w http.ResponseWriter, r *http.Request) {
	p, ok := h.reporter(w, r)
	if !ok {
		return
	}
	d, err := h.reportBase(r, p, r.URL.Query())
	if err != nil {
		h.reportFail(w, r, err)
		return
	}
	if d.Values["client_key"] == "" {
		// a report sent twice without the script (a second tap, the back
		// button) is stored once; the script gives each draft its own key
		d.Values["client_key"] = randomID()
	}
	w.Header().Set("Content-Security-Policy", h.Map.mapCSP()) // the picker's tiles, if any
	h.R.Page(w, r, http.StatusOK, "grid_report.html", d)
}

// reportHouseholds is the htmx fragment of the household search.
func (h *HTTP) reportHouseholds(w http.ResponseWriter, r *http.Request) {
	p, ok := h.reporter(w, r)
	if !ok {
		return
	}
	d := &reportData{Values: map[string]string{"hq": strings.TrimSpace(r.URL.Query().Get("hq"))}, CanSearch: p.Can("resident.view")}
	if d.Values["hq"] != "" && d.CanSearch {
		var err error
		d.Searched = true
		if d.Hits, err = h.reportSearch(r.Context(), p, d.Values["hq"]); err != nil {
			h.reportFail(w, r, err)
			return
		}
	}
	h.R.Partial(w, r, http.StatusOK, "grid_report.html", "report_hits", d)
}

// ---- sending ----

// reportLimits bound the form's parts when it comes as multipart.
const (
	reportMaxParts = 64
	reportMaxValue = 16 << 10
)

// readReportForm reads the POSTed form, multipart (the files of the photos
// input, in order) or urlencoded. Photos over MaxPhoto are not kept in
// memory: they come back as field errors.
func readReportForm(r *http.Request) (url.Values, [][]byte, Errors, error) {
	form := url.Values{}
	mt, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type"))
	if mt != "multipart/form-data" {
		if err := r.ParseForm(); err != nil {
			return nil, nil, nil, err
		}
		return r.PostForm, nil, nil, nil
	}
	mr, err := r.MultipartReader()
	if err != nil {
		return nil, nil, nil, err
	}
	var photos [][]byte
	var es Errors
	files := 0
	for parts := 0; ; parts++ {
		part, err := mr.NextPart()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return nil, nil, nil, err
		}
		if parts >= reportMaxParts {
			part.Close()
			return nil, nil, nil, errors.New("grid: too many form parts")
		}
		name := part.FormName()
		if part.FileName() == "" && name != "photos" {
			b, err := io.ReadAll(io.LimitReader(part, reportMaxValue))
			part.Close()
			if err != nil {
				return nil, nil, nil, err
			}
			form.Add(name, string(b))
			continue
		}
		if name != "photos" {
			_, err := io.Copy(io.Discard, part)
			part.Close()
			if err != nil {
				return nil, nil, nil, err
			}
			continue
		}
		b, err := io.ReadAll(io.LimitReader(part, MaxPhoto+1))
		if err == nil && len(b) > MaxPhoto {
			_, err = io.Copy(io.Discard, part)
		}
		part.Close()
		if err != nil {
			return nil, nil, nil, err
		}
		if len(b) == 0 && part.FileName() == "" {
			continue // the empty file input of a form sent without photos
		}
		files++
		switch {
		case files > MaxPhotos:
			if es.For("photos") == nil {
				es.Add("photos", "too_many_photos", strconv.Itoa(MaxPhotos))
			}
		case len(b) > MaxPhoto:
			es.Add("photos", "photo_size", strconv.Itoa(files))
		default:
			photos = append(photos, b)
		}
	}
	return form, photos, es, nil
}

// reportInput turns the form into a Report, with the problems the service
// cannot see (a position in another coordinate system, ids that are not
// numbers).
func reportInput(form url.Values) (Report, Errors) {
	var es Errors
	v := func(k string) string { return strings.TrimSpace(form.Get(k)) }
	id := func(k string) int64 {
		s := v(k)
		if s == "" {
			return 0
		}
		n, err := strconv.ParseInt(s, 10, 64)
		if err != nil || n < 0 {
			es.Add(k, k+"_unknown")
			return 0
		}
		return n
	}
	rep := Report{Category: v("category"), Description: form.Get("description"), Address: v("address"),
		ClientKey: v("client_key"), Source: SourceWorker}
	rep.Division = id("division")
	if rep.Division == 0 && es.For("division") == nil {
		es.Add("division", "required")
	}
	rep.HouseholdID, rep.ResidentID, rep.PatrolID = id("household"), id("resident"), id("patrol")
	if rep.PatrolID != 0 {
		rep.Source = SourcePatrol
	}
	lat, lon := v("lat"), v("lon")
	if lat != "" || lon != "" {
		la, err1 := strconv.ParseFloat(lat, 64)
		lo, err2 := strconv.ParseFloat(lon, 64)
		sys, err3 := geo.ParseSystem(v("coords"))
		pt, err4 := geo.ToWGS84(sys, la, lo)
		if err1 != nil || err2 != nil || err3 != nil || err4 != nil {
			es.Add("position", "position_invalid")
		} else {
			rep.Lat, rep.Lon = &pt.Lat, &pt.Lon
		}
	}
	return rep, es
}

// reportPost stores a report. Order matters for the offline drafts: a
// draft whose client key is already stored answers with that incident (its
// first answer was lost); the uploads are read but marked used only after
// the incident commits, so a refused or failed report leaves them for the
// retry.
func (h *HTTP) reportPost(w http.ResponseWriter, r *http.Request) {
	p, ok := h.reporter(w, r)
	if !ok {
		return
	}
	ctx := r.Context()
	asJSON := reportWantsJSON(r)
	form, photos, es, err := readReportForm(r)
	if err != nil {
		if web.BodyTooLarge(err) {
			h.reportInvalid(w, r, p, url.Values{}, Errors{{Field: "photos", Code: "report_too_large", Arg: strconv.Itoa(MaxPhotos * MaxPhoto >> 20)}}, true)
			return
		}
		if asJSON {
			uploadJSON(w, http.StatusBadRequest, map[string]any{"errors": []jsonFieldError{}})
		} else {
			h.R.Error(w, r, http.StatusBadRequest, "")
		}
		return
	}
	var uploads []string
	for _, id := range form["uploads"] {
		if id = strings.TrimSpace(id); id != "" && !slices.Contains(uploads, id) {
			uploads = append(uploads, id)
		}
	}
	rep, ies := reportInput(form)
	es = append(es, ies...)
	if rep.Source == SourceWorker && rep.Division != 0 && p.CanAt("grid.handle", rep.Division) {
		rep.Source = SourceStaff // village staff and above report from a desk, not as grid workers
	}
	if rep.Lat == nil && rep.HouseholdID != 0 {
		// no position given: the household's, when it is known
		if hh, _, err := h.S.Registry.Household(ctx, p, rep.HouseholdID); err == nil && hh.Lat != nil && hh.Lon != nil {
			rep.Lat, rep.Lon = hh.Lat, hh.Lon
		}
	}
	if rep.ClientKey != "" {
		if in, err := h.S.st.byClientKey(ctx, p.UserID, rep.ClientKey); err == nil {
			h.doneUploads(ctx, p, uploads)
			h.reportDone(w, r, in, http.StatusOK, asJSON)
			return
		} else if !errors.Is(err, db.ErrNotFound) {
			h.reportFail(w, r, err)
			return
		}
	}
	if len(photos)+len(uploads) > MaxPhotos {
		if es.For("photos") == nil {
			es.Add("photos", "too_many_photos", strconv.Itoa(MaxPhotos))
		}
	} else {
		base := len(photos)
		for i, id := range uploads {
			b, err := h.S.TakeUpload(ctx, p.UserID, id)
			switch {
			case errors.Is(err, db.ErrNotFound):
				es.Add("photos", "upload_unknown", strconv.Itoa(base+i+1))
			case errors.Is(err, ErrUploadIncomplete):
				es.Add("photos", "upload_incomplete", strconv.Itoa(base+i+1))
			case err != nil:
				h.reportFail(w, r, err)
				return
			default:
				photos = append(photos, b)
			}
		}
	}
	if len(es) > 0 {
		if rep.Category == "" && es.For("category") == nil {
			es.Add("category", "required")
		}
		h.reportInvalid(w, r, p, form, es, len(photos) > 0)
		return
	}
	rep.Photos = photos
	in, err := h.S.ReportIncident(ctx, p, rep)
	switch {
	case errors.As(err, &es):
		h.reportInvalid(w, r, p, form, es, len(photos) > 0)
		return
	case errors.Is(err, ErrForbidden):
		h.reportInvalid(w, r, p, form, Errors{{Field: "division", Code: "report_division_forbidden"}}, len(photos) > 0)
		return
	case err != nil:
		h.reportFail(w, r, err)
		return
	}
	h.doneUploads(ctx, p, uploads)
	h.reportDone(w, r, in, http.StatusCreated, asJSON)
}

// doneUploads marks the uploads of a stored report used; a failure only
// leaves them to PurgeUploads.
func (h *HTTP) doneUploads(ctx context.Context, p *access.Principal, uploads []string) {
	if err := h.S.DoneUpload(ctx, p.UserID, uploads...); err != nil {
		slog.WarnContext(ctx, "grid: mark uploads used", "err", err)
	}
}

// reportDone answers a stored report: JSON for the script, else a redirect
// to the incident.
func (h *HTTP) reportDone(w http.ResponseWriter, r *http.Request, in Incident, status int, asJSON bool) {
	link := fmt.Sprintf("/grid/incidents/%d", in.ID)
	if asJSON {
		w.Header().Set("Location", link)
		uploadJSON(w, status, map[string]any{"id": in.ID, "number": in.Number, "url": link})
		return
	}
	http.Redirect(w, r, link+"?new=1", http.StatusSeeOther)
}

// reportInvalid answers a refused report: 422 with the problems, as JSON
// or as the form with the messages at their fields. Nothing was stored.
func (h *HTTP) reportInvalid(w http.ResponseWriter, r *http.Request, p *access.Principal, form url.Values, es Errors, hadPhotos bool) {
	loc := i18n.Negotiate(r)
	if reportWantsJSON(r) {
		uploadJSON(w, http.StatusUnprocessableEntity, map[string]any{"errors": reportJSONErrors(loc, es)})
		return
	}
	d, err := h.reportBase(r, p, form)
	if err != nil {
		h.reportFail(w, r, err)
		return
	}
	for _, e := range es {
		if _, dup := d.Errors[e.Field]; !dup {
			d.Errors[e.Field] = reportErrorText(loc, e)
		}
	}
	d.PhotosAgain = hadPhotos
	w.Header().Set("Content-Security-Policy", h.Map.mapCSP()) // the picker's tiles, if any
	h.R.Page(w, r, http.StatusUnprocessableEntity, "grid_report.html", d)
}

// ---- the worker's home ----

type homeData struct {
	Verify      []IncidentView
	VerifyCount int64
	Mine        []IncidentView
	MineCount   int64
	MineMore    bool // only the newest are listed
	Config      reportConfig
}

// homeList lists (newest first, at most homeRows) and counts the incidents
// of view over every subtree where p reports.
func (h *HTTP) homeList(ctx context.Context, p *access.Principal, view string) ([]Incident, int64, error) {
	var out []Incident
	var total int64
	for _, root := range p.Roots("grid.report") {
		if !p.CanAt("grid.view", root) {
			continue
		}
		list, _, err := h.S.List(ctx, p, Filter{Unit: root, View: view, Limit: homeRows})
		if err != nil {
			return nil, 0, err
		}
		n, err := h.S.Count(ctx, p, Filter{Unit: root, View: view})
		if err != nil {
			return nil, 0, err
		}
		total += n
		out = append(out, list...)
	}
	sort.SliceStable(out, func(i, j int) bool { return out[i].ID > out[j].ID })
	if len(out) > homeRows {
		out = out[:homeRows]
	}
	return out, total, nil
}

// home is the grid worker's start page on the phone: report, patrol, my
// reports, the incidents waiting for an on-the-spot check, and the drafts
// not sent yet (filled in by the script).
func (h *HTTP) home(w http.ResponseWriter, r *http.Request) {
	p, ok := h.reporter(w, r)
	if !ok {
		return
	}
	ctx := r.Context()
	loc := i18n.Negotiate(r)
	d := &homeData{Config: h.reportConfig(p, loc)}
	verify, n, err := h.homeList(ctx, p, ViewVerify)
	if err != nil {
		h.reportFail(w, r, err)
		return
	}
	d.VerifyCount = n
	mine, n, err := h.homeList(ctx, p, ViewMine)
	if err != nil {
		h.reportFail(w, r, err)
		return
	}
	d.MineCount, d.MineMore = n, n > int64(len(mine))
	if d.Verify, err = h.S.IncidentViews(ctx, loc, verify); err != nil {
		h.reportFail(w, r, err)
		return
	}
	if d.Mine, err = h.S.IncidentViews(ctx, loc, mine); err != nil {
		h.reportFail(w, r, err)
		return
	}
	h.R.Page(w, r, http.StatusOK, "grid_home.html", d)
}
