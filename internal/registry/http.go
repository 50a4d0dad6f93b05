package registry

import (
	"context"
	"embed"
	"errors"
	"fmt"
	"html/template"
	"log/slog"
	"net/http"
	"net/url"
	"slices"
	"sort"
	"strconv"
	"strings"

	"github.com/shequ-platform/shequ/internal/division"
	"github.com/shequ-platform/shequ/internal/platform/access"
	"github.com/shequ-platform/shequ/internal/platform/db"
	"github.com/shequ-platform/shequ/internal/platform/geo"
	"github.com/shequ-platform/shequ/internal/platform/i18n"
	"github.com/shequ-platform/shequ/internal/platform/ids"
	"github.com/shequ-platform/shequ/internal/platform/web"
	"github.com/shequ-platform/shequ/internal/registry/pinyin"
)

//go:embed templates/*.html
var templates embed.FS

// Templates are the registry pages, for the renderer.
func Templates() embed.FS { return templates }

// HTTP serves the registry pages: search, households, residents, moves,
// history and population. Every page sits behind login; what a user may see
// and do is decided by the service (resident.view, .manage, .reveal,
// .special); buttons a user cannot use are not shown.
type HTTP struct {
	S *Service
	R *web.Renderer
}

// Routes registers the pages (mount behind login). The import and export
// pages (/registry/import, /registry/export) are registered elsewhere.
func (h *HTTP) Routes(mux *http.ServeMux) {
	mux.HandleFunc("GET /registry", h.search)
	mux.HandleFunc("GET /registry/population", h.population)
	mux.HandleFunc("GET /registry/households/new", h.newHousehold)
	mux.HandleFunc("POST /registry/households/new", h.createHousehold)
	mux.HandleFunc("GET /registry/households/{id}", h.household)
	mux.HandleFunc("GET /registry/households/{id}/edit", h.editHousehold)
	mux.HandleFunc("POST /registry/households/{id}/edit", h.updateHousehold)
	mux.HandleFunc("GET /registry/residents/new", h.newResident)
	mux.HandleFunc("POST /registry/residents/new", h.createResident)
	mux.HandleFunc("GET /registry/residents/{id}", h.resident)
	mux.HandleFunc("POST /registry/residents/{id}/reveal", h.reveal)
	mux.HandleFunc("GET /registry/residents/{id}/edit", h.editResident)
	mux.HandleFunc("POST /registry/residents/{id}/edit", h.updateResident)
	mux.HandleFunc("POST /registry/residents/{id}/tags", h.setTag)
	mux.HandleFunc("GET /registry/residents/{id}/move", h.moveForm)
	mux.HandleFunc("POST /registry/residents/{id}/move", h.move)
	mux.HandleFunc("GET /registry/residents/{id}/history", h.history)
}

// Permissions the pages check to show or hide buttons (the service checks
// them again on every change).
const (
	webPermView    = "resident.view"
	webPermManage  = "resident.manage"
	webPermReveal  = "resident.reveal"
	webPermSpecial = "resident.special"
	webPermImport  = "resident.import"
	webPermExport  = "resident.export"
)

// webPageSize is the number of hits per search page.
const webPageSize = 20

// webCoordSystems are the coordinate systems the household form offers.
var webCoordSystems = []string{string(geo.WGS84), string(geo.GCJ02), string(geo.BD09), string(geo.CGCS00)}

// webAgeBands are the population page's age bands: [lo, hi] years, hi -1 open.
var webAgeBands = []struct {
	Key    string
	Lo, Hi int
}{
	{"registry.age.0_6", 0, 6}, {"registry.age.7_17", 7, 17}, {"registry.age.18_34", 18, 34},
	{"registry.age.35_59", 35, 59}, {"registry.age.60_79", 60, 79}, {"registry.age.80", 80, -1},
}

// webStatuses lists the resident webStatuses in display order.
var webStatuses = []string{Present, MovedOut, Deceased}

// webEventKinds lists every event kind.
var webEventKinds = []string{EventRegister, EventBirth, EventMoveIn, EventMoveOut, EventTransfer, EventDeath, EventTagOn, EventTagOff, EventUpdate}

// webMoveKinds are the kinds the move form offers (a move in is a registration).
var webMoveKinds = []string{EventTransfer, EventMoveOut, EventDeath}

// webRegisterEvents are the events a registration may record.
var webRegisterEvents = []string{EventRegister, EventBirth, EventMoveIn}

// webErrorCodes are every validation code the service and idnum produce, so
// the catalogue can be checked for "registry.error.<code>".
var webErrorCodes = []string{
	// service
	"division_unknown", "division_not_village", "too_long", "invalid", "coordinates_invalid", "household_number_taken",
	"household_other_village", "household_unknown", "id_registered", "date_invalid", "birth_mismatch", "gender_mismatch",
	"required", "tag_unknown", "tag_grade_invalid", "not_present",
	// idnum
	"length", "chars", "checksum", "date", "future", "area", "area_unknown", "phone_invalid", "name_invalid", "name_length",
}

// webChangeFields are the fields an update event names in its detail.
var webChangeFields = []string{"name", "gender", "birth", "id_number", "phone", "residency", "relation", "ethnicity", "education", "employment", "party_member"}

// CatalogueKeys returns the catalogue keys the registry pages build at run
// time (labels of enumerations, event kinds, error codes, age bands), for
// the catalogue test.
func CatalogueKeys() []string {
	var keys []string
	add := func(prefix string, vs []string) {
		for _, v := range vs {
			keys = append(keys, prefix+v)
		}
	}
	add("registry.residency.", Residencies)
	add("registry.relation.", Relations)
	add("registry.education.", Educations)
	add("registry.employment.", Employments)
	add("registry.household_kind.", HouseholdKinds)
	add("registry.status.", webStatuses)
	add("registry.event.", webEventKinds)
	add("registry.gender.", []string{"m", "f"})
	add("registry.coords.", webCoordSystems)
	add("registry.error.", webErrorCodes)
	add("registry.field.", webChangeFields)
	for _, b := range webAgeBands {
		keys = append(keys, b.Key)
	}
	// import and export
	add("registry.error.", importErrorCodes)
	add("registry.ledger.", Ledgers)
	add("registry.import.grouping.", []string{GroupByNumber, GroupByHead, GroupNone})
	for _, f := range ImportFields {
		keys = append(keys, "registry.field."+f.Key)
	}
	add("job.result.", []string{"rows", "created", "updated", "unchanged", "failed", "imported", "exported"})
	for _, k := range (&Service{}).JobKinds() {
		keys = append(keys, k.Title)
	}
	return append(keys, webFieldErrorKeys...)
}

// webFieldErrorKeys are messages more precise than the generic one for a code
// on one field ("registry.error.<field>.<code>").
var webFieldErrorKeys = []string{
	"registry.error.name.required", "registry.error.birth.required", "registry.error.gender.required",
	"registry.error.residency.required", "registry.error.residency.invalid", "registry.error.relation.invalid",
	"registry.error.gender.invalid", "registry.error.ethnicity.invalid", "registry.error.kind.invalid",
	"registry.error.kind.not_present", "registry.error.since.date_invalid", "registry.error.effective.date_invalid",
	"registry.error.number.too_long", "registry.error.address.too_long", "registry.error.event.invalid",
	"registry.error.education.invalid", "registry.error.employment.invalid", "registry.error.tags.not_present",
}

// webErrorKey is the catalogue key of a field error: the field's own
// message ("registry.error.<field>.<code>") when the catalogue has one, else
// the code's ("registry.error.<code>"), else the generic one.
func webErrorKey(field, code string) string {
	for _, k := range []string{"registry.error." + field + "." + code, "registry.error." + code} {
		if i18n.Has(i18n.Default, k) {
			return k
		}
	}
	return "registry.error.invalid"
}

// ---- forms ----

// webForm is a form as typed, with its field errors (catalogue keys).
type webForm struct {
	Values  url.Values
	Errors  map[string]string // field → catalogue key
	General []string          // errors of fields the form does not show
	Order   []string          // fields in tab order
	Default string            // the field to focus when there is no error ("" = first)
}

func newWebForm(order ...string) webForm {
	return webForm{Values: url.Values{}, Errors: map[string]string{}, Order: order}
}

// V is what the user typed in a field.
func (f webForm) V(name string) string { return f.Values.Get(name) }

// Has reports whether a multi-valued field (checkboxes) holds value.
func (f webForm) Has(name, value string) bool { return slices.Contains(f.Values[name], value) }

// E is the catalogue key of a field's error, "" when none.
func (f webForm) E(name string) string { return f.Errors[name] }

// Focus is the field that gets autofocus: the first one in error, else the
// default field, else the first.
func (f webForm) Focus() string {
	for _, n := range f.Order {
		if f.Errors[n] != "" {
			return n
		}
	}
	if f.Default != "" {
		return f.Default
	}
	if len(f.Order) > 0 {
		return f.Order[0]
	}
	return ""
}

// A writes a field's state attributes: aria-invalid and aria-describedby
// pointing at its message when in error, autofocus when it has the focus.
func (f webForm) A(name string) template.HTMLAttr {
	name = strings.Map(func(r rune) rune {
		if r >= 'a' && r <= 'z' || r == '_' || r >= '0' && r <= '9' {
			return r
		}
		return -1
	}, name)
	var b strings.Builder
	if f.Errors[name] != "" {
		b.WriteString(`aria-invalid="true" aria-describedby="err-` + name + `"`)
	}
	if f.Focus() == name {
		if b.Len() > 0 {
			b.WriteByte(' ')
		}
		b.WriteString("autofocus")
	}
	return template.HTMLAttr(b.String())
}

// fail records the service's field errors on the form; false when err is
// not a validation error.
func (f *webForm) fail(err error, rename map[string]string) bool {
	var es Errors
	var fe *FieldError
	switch {
	case errors.As(err, &es):
	case errors.As(err, &fe):
		es = Errors{fe}
	default:
		return false
	}
	for _, e := range es {
		field := e.Field
		if to, ok := rename[field]; ok {
			field = to
		}
		key := webErrorKey(e.Field, e.Code)
		if !slices.Contains(f.Order, field) {
			if !slices.Contains(f.General, key) {
				f.General = append(f.General, key)
			}
			continue
		}
		if f.Errors[field] == "" {
			f.Errors[field] = key
		}
	}
	return true
}

// ---- view models ----

// webResident is a resident as pages show it.
type webResident struct {
	Resident
	Age   int
	Place string // village (and grid) name
	Tags  []webTag
}

// GenderKey is the catalogue key of the gender.
func (r webResident) GenderKey() string { return "registry.gender." + strings.ToLower(r.Gender) }

// BirthText is the birth date as 2006-01-02.
func (r webResident) BirthText() string { return FormatDate(r.Birth) }

// SinceText is the start of the current stint as 2006-01-02.
func (r webResident) SinceText() string { return FormatDate(r.Since) }

// IsPresent reports whether the resident still lives here.
func (r webResident) IsPresent() bool { return r.Status == Present }

// webTag is a tag with its label in the page's webLocale.
type webTag struct {
	Key, Label, Grade, Since string
	Grades                   []string
	Restricted, On           bool
}

// webEvent is one history line.
type webEvent struct {
	Event
	Who          string // the resident's name (household history)
	EffectiveTxt string
	From, To     string
	Details      []string // catalogue keys of changed fields (updates)
	TagLabel     string   // tag events
}

// webPlaces names divisions, one lookup per code and request.
type webPlaces struct {
	h     *HTTP
	ctx   context.Context
	names map[int64]string
}

func (h *HTTP) places(ctx context.Context) *webPlaces {
	return &webPlaces{h: h, ctx: ctx, names: map[int64]string{}}
}

// name is a unit's name; a grid, group or building comes with its village.
func (pl *webPlaces) name(code int64) string {
	if code == 0 {
		return ""
	}
	if s, ok := pl.names[code]; ok {
		return s
	}
	s := division.Format(code)
	if d, err := pl.h.S.Divisions.Get(pl.ctx, code); err == nil {
		s = d.Name
		if d.Level == 6 && d.Parent != 0 {
			if v := pl.name(d.Parent); v != "" {
				s = v + " · " + d.Name
			}
		}
	}
	pl.names[code] = s
	return s
}

func webLocale(r *http.Request) string { return i18n.Negotiate(r) }

// restrictedAnywhere reports whether any pack marks the tag restricted.
func (h *HTTP) restrictedAnywhere(tag string) bool {
	if h.S.Packs == nil {
		return false
	}
	for _, pk := range h.S.Packs.Packs() {
		if t, ok := pk.Registry.Tag(tag); ok && t.Restricted {
			return true
		}
	}
	return false
}

// tagLabel names a tag in the webLocale (its key when no pack defines it).
func (h *HTTP) tagLabel(code int64, tag, loc string) string {
	if t, ok := h.S.registryOf(code).Tag(tag); ok {
		return t.Label.Get(loc)
	}
	if h.S.Packs != nil {
		for _, pk := range h.S.Packs.Packs() {
			if t, ok := pk.Registry.Tag(tag); ok {
				return t.Label.Get(loc)
			}
		}
	}
	return tag
}

func (h *HTTP) view(r *http.Request, res Resident, pl *webPlaces) webResident {
	loc := webLocale(r)
	v := webResident{Resident: res, Age: res.AgeOn(h.S.today()), Place: pl.name(res.Division)}
	for _, t := range res.Tags {
		def, _ := h.S.registryOf(res.Division).Tag(t.Tag)
		v.Tags = append(v.Tags, webTag{Key: t.Tag, Label: h.tagLabel(res.Division, t.Tag, loc), Grade: t.Grade,
			Since: FormatDate(t.Since), Restricted: def.Restricted, On: true})
	}
	return v
}

// events turns events into history lines, leaving out the tag events of
// restricted tags the principal may not see.
func (h *HTTP) events(r *http.Request, p *access.Principal, res Resident, es []Event, pl *webPlaces, who bool) []webEvent {
	loc := webLocale(r)
	var out []webEvent
	for _, e := range es {
		w := webEvent{Event: e, EffectiveTxt: FormatDate(e.Effective), From: pl.name(e.FromDivision), To: pl.name(e.ToDivision)}
		if who {
			w.Who = res.Name
		}
		switch e.Kind {
		case EventTagOn, EventTagOff:
			def, known := h.S.registryOf(res.Division).Tag(e.Detail)
			restricted := def.Restricted || !known && h.restrictedAnywhere(e.Detail)
			if restricted && !p.CanAt(webPermSpecial, res.Division) {
				continue
			}
			w.TagLabel = h.tagLabel(res.Division, e.Detail, loc)
		case EventUpdate:
			for f := range strings.SplitSeq(e.Detail, ",") {
				if slices.Contains(webChangeFields, f) {
					w.Details = append(w.Details, "registry.field."+f)
				}
			}
		}
		out = append(out, w)
	}
	return out
}

// ---- helpers ----

func (h *HTTP) id(w http.ResponseWriter, r *http.Request) (int64, bool) {
	id, err := strconv.ParseInt(r.PathValue("id"), 10, 64)
	if err != nil || id <= 0 {
		h.R.Error(w, r, http.StatusNotFound, "")
		return 0, false
	}
	return id, true
}

// allowed answers 404 to users without the registry at all.
func (h *HTTP) allowed(w http.ResponseWriter, r *http.Request) (*access.Principal, bool) {
	p := access.From(r.Context())
	if p == nil || !p.Can(webPermView) {
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
		slog.ErrorContext(r.Context(), "registry: request failed", "path", r.URL.Path, "err", err)
		h.R.Error(w, r, http.StatusInternalServerError, "")
	}
}

// webParseCode reads a division code (6, 9, 12 or 15 digits; "0" the root).
func webParseCode(s string) (int64, bool) {
	s = strings.TrimSpace(s)
	if s == "0" {
		return 0, true
	}
	c, err := division.Parse(s)
	return c, err == nil
}

func webIsHX(r *http.Request) bool { return r.Header.Get("HX-Request") == "true" }

// ---- search ----

type webSearchData struct {
	Q         string
	Page      int
	Hits      []webHit
	More      bool
	Kind      string
	TooShort  bool
	TailHint  bool // digits only: the last digits of an ID need a name
	Searched  bool
	CanManage bool
	CanImport bool
	CanExport bool
}

type webHit struct {
	webResident
	Address string
}

func (h *HTTP) search(w http.ResponseWriter, r *http.Request) {
	p, ok := h.allowed(w, r)
	if !ok {
		return
	}
	q := strings.TrimSpace(r.URL.Query().Get("q"))
	page, _ := strconv.Atoi(r.URL.Query().Get("page"))
	page = max(page, 1)
	d := webSearchData{Q: q, Page: page, CanManage: p.Can(webPermManage), CanImport: p.Can(webPermImport), CanExport: p.Can(webPermExport)}
	if q != "" {
		d.Searched = true
		res, err := h.S.Search(r.Context(), p, q, (page-1)*webPageSize, webPageSize)
		if err != nil {
			h.fail(w, r, err)
			return
		}
		d.More, d.Kind = res.More, res.Kind
		pl := h.places(r.Context())
		for _, hit := range res.Hits {
			d.Hits = append(d.Hits, webHit{webResident: h.view(r, hit.Resident, pl), Address: hit.Address})
		}
		if len(d.Hits) == 0 {
			compact := strings.NewReplacer(" ", "", "-", "").Replace(q)
			allDigits := strings.Trim(compact, "0123456789xX") == ""
			switch {
			case allDigits && len(compact) < 4:
				d.TooShort = true
			case allDigits && (len(compact) == 5 || len(compact) == 6):
				d.TailHint = true
			case !allDigits:
				if _, ok := pinyin.QueryPrefix(q); !ok {
					d.TooShort = true
				}
			}
		}
	}
	if webIsHX(r) {
		h.R.Partial(w, r, http.StatusOK, "registry_search", "results_partial", d)
		return
	}
	h.R.Page(w, r, http.StatusOK, "registry_search", d)
}

// ---- households ----

type webHouseholdData struct {
	Household Household
	Place     string
	Members   []webResident
	Events    []webEvent
	Map       *webMap
	CanManage bool
	HasHead   bool
	Added     bool
	Updated   bool
}

// KindKey is the catalogue key of the household's kind.
func (d webHouseholdData) KindKey() string { return "registry.household_kind." + d.Household.Kind }

// webMap is the household's point on a small locator of China (no tiles:
// intranets are offline), with its coordinates in WGS-84 and GCJ-02.
type webMap struct {
	X, Y               string // position in the 240×150 viewBox
	Lat, Lon           string // WGS-84
	GCJLat, GCJLon     string // GCJ-02, for pasting into AutoNavi/Tencent maps
	GridX, GridY       []string
	GridLons, GridLats []string
}

// China's bounding box for the locator.
const webMapW, webMapH, webMapLon0, webMapLon1, webMapLat0, webMapLat1 = 240.0, 150.0, 73.0, 136.0, 17.0, 54.0

func newWebMap(h Household) *webMap {
	if h.Lat == nil || h.Lon == nil {
		return nil
	}
	lat, lon := *h.Lat, *h.Lon
	f := func(v float64) string { return strconv.FormatFloat(v, 'f', 1, 64) }
	m := &webMap{
		X: f((lon - webMapLon0) / (webMapLon1 - webMapLon0) * webMapW), Y: f((webMapLat1 - lat) / (webMapLat1 - webMapLat0) * webMapH),
		Lat: strconv.FormatFloat(lat, 'f', 6, 64), Lon: strconv.FormatFloat(lon, 'f', 6, 64),
	}
	glat, glon := geo.ToGCJ02(lat, lon)
	m.GCJLat, m.GCJLon = strconv.FormatFloat(glat, 'f', 6, 64), strconv.FormatFloat(glon, 'f', 6, 64)
	for g := 80.0; g < webMapLon1; g += 10 {
		m.GridX = append(m.GridX, f((g-webMapLon0)/(webMapLon1-webMapLon0)*webMapW))
		m.GridLons = append(m.GridLons, strconv.Itoa(int(g)))
	}
	for g := 20.0; g < webMapLat1; g += 10 {
		m.GridY = append(m.GridY, f((webMapLat1-g)/(webMapLat1-webMapLat0)*webMapH))
		m.GridLats = append(m.GridLats, strconv.Itoa(int(g)))
	}
	return m
}

func (h *HTTP) household(w http.ResponseWriter, r *http.Request) {
	p, ok := h.allowed(w, r)
	if !ok {
		return
	}
	id, ok := h.id(w, r)
	if !ok {
		return
	}
	hh, members, err := h.S.Household(r.Context(), p, id)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	pl := h.places(r.Context())
	d := webHouseholdData{Household: hh, Place: pl.name(hh.Division()), Map: newWebMap(hh), CanManage: p.CanAt(webPermManage, hh.Division()),
		Added: r.URL.Query().Get("added") != "", Updated: r.URL.Query().Get("updated") != ""}
	for _, m := range members {
		d.Members = append(d.Members, h.view(r, m, pl))
		d.HasHead = d.HasHead || m.Relation == "head" && m.Status == Present
		es, err := h.S.st.events(r.Context(), m.ID)
		if err != nil {
			h.fail(w, r, err)
			return
		}
		d.Events = append(d.Events, h.events(r, p, m, es, pl, true)...)
	}
	sort.SliceStable(d.Events, func(i, j int) bool {
		a, b := d.Events[i], d.Events[j]
		if a.Effective != b.Effective {
			return a.Effective > b.Effective
		}
		return a.ID > b.ID
	})
	h.R.Page(w, r, http.StatusOK, "registry_household", d)
}

type webHouseholdForm struct {
	Form         webForm
	Edit         bool
	Household    Household
	DivisionName string // the chosen unit, shown as the checked radio
	Kinds        []string
	Coords       []string
}

var webHouseholdFields = []string{"division", "number", "kind", "address", "house_no", "lat", "lon", "coords"}

func (h *HTTP) householdForm(w http.ResponseWriter, r *http.Request, status int, d webHouseholdForm) {
	d.Kinds, d.Coords = HouseholdKinds, webCoordSystems
	if c, ok := webParseCode(d.Form.V("division")); ok && c != 0 {
		d.DivisionName = h.places(r.Context()).name(c)
	}
	h.R.Page(w, r, status, "registry_household_form", d)
}

// webDefaultUnit is the village or grid a new household most likely goes to:
// the principal's single manage scope when it is a village or grid.
func webDefaultUnit(p *access.Principal) int64 {
	roots := p.Roots(webPermManage)
	if len(roots) == 1 && ids.Level(roots[0]) >= 5 {
		return roots[0]
	}
	return 0
}

func (h *HTTP) newHousehold(w http.ResponseWriter, r *http.Request) {
	p, ok := h.allowed(w, r)
	if !ok {
		return
	}
	if !p.Can(webPermManage) {
		h.R.Error(w, r, http.StatusForbidden, "")
		return
	}
	f := newWebForm(webHouseholdFields...)
	f.Values.Set("kind", "family")
	f.Values.Set("coords", string(geo.WGS84))
	if c := webDefaultUnit(p); c != 0 {
		f.Values.Set("division", strconv.FormatInt(c, 10))
		f.Default = "number"
	}
	h.householdForm(w, r, http.StatusOK, webHouseholdForm{Form: f})
}

func webHouseholdInput(f webForm) (HouseholdInput, bool) {
	c, ok := webParseCode(f.V("division"))
	return HouseholdInput{Division: c, Number: f.V("number"), Kind: f.V("kind"), Address: f.V("address"), HouseNo: f.V("house_no"),
		Lat: f.V("lat"), Lon: f.V("lon"), Coords: f.V("coords")}, ok && c != 0
}

func (h *HTTP) postedForm(r *http.Request, order ...string) webForm {
	_ = r.ParseForm()
	f := newWebForm(order...)
	for k, v := range r.PostForm {
		if k != web.CSRFField {
			f.Values[k] = v
		}
	}
	return f
}

func (h *HTTP) createHousehold(w http.ResponseWriter, r *http.Request) {
	p, ok := h.allowed(w, r)
	if !ok {
		return
	}
	f := h.postedForm(r, webHouseholdFields...)
	in, ok := webHouseholdInput(f)
	if !ok {
		f.Errors["division"] = webErrorKey("division", "division_unknown")
		h.householdForm(w, r, http.StatusUnprocessableEntity, webHouseholdForm{Form: f})
		return
	}
	hh, err := h.S.CreateHousehold(r.Context(), p, in)
	if err != nil {
		if errors.Is(err, db.ErrNotFound) || errors.Is(err, ErrForbidden) {
			// a unit outside the manage scope is, to the form, not a unit
			f.Errors["division"] = webErrorKey("division", "division_unknown")
		} else if !f.fail(err, nil) {
			h.fail(w, r, err)
			return
		}
		h.householdForm(w, r, http.StatusUnprocessableEntity, webHouseholdForm{Form: f})
		return
	}
	http.Redirect(w, r, fmt.Sprintf("/registry/residents/new?household=%d&first=1", hh.ID), http.StatusSeeOther)
}

// manageHousehold loads a household the principal may change.
func (h *HTTP) manageHousehold(w http.ResponseWriter, r *http.Request) (*access.Principal, Household, bool) {
	p, ok := h.allowed(w, r)
	if !ok {
		return nil, Household{}, false
	}
	id, ok := h.id(w, r)
	if !ok {
		return nil, Household{}, false
	}
	hh, _, err := h.S.Household(r.Context(), p, id)
	if err != nil {
		h.fail(w, r, err)
		return nil, Household{}, false
	}
	if !p.CanAt(webPermManage, hh.Division()) {
		h.R.Error(w, r, http.StatusForbidden, "")
		return nil, Household{}, false
	}
	return p, hh, true
}

func (h *HTTP) editHousehold(w http.ResponseWriter, r *http.Request) {
	_, hh, ok := h.manageHousehold(w, r)
	if !ok {
		return
	}
	f := newWebForm(webHouseholdFields...)
	f.Default = "number"
	f.Values.Set("division", strconv.FormatInt(hh.Division(), 10))
	f.Values.Set("number", hh.Number)
	f.Values.Set("kind", hh.Kind)
	f.Values.Set("address", hh.Address)
	f.Values.Set("house_no", hh.HouseNo)
	f.Values.Set("coords", string(geo.WGS84))
	if hh.Lat != nil && hh.Lon != nil {
		f.Values.Set("lat", strconv.FormatFloat(*hh.Lat, 'f', -1, 64))
		f.Values.Set("lon", strconv.FormatFloat(*hh.Lon, 'f', -1, 64))
	}
	h.householdForm(w, r, http.StatusOK, webHouseholdForm{Form: f, Edit: true, Household: hh})
}

func (h *HTTP) updateHousehold(w http.ResponseWriter, r *http.Request) {
	p, hh, ok := h.manageHousehold(w, r)
	if !ok {
		return
	}
	f := h.postedForm(r, webHouseholdFields...)
	in, ok := webHouseholdInput(f)
	if !ok {
		f.Errors["division"] = webErrorKey("division", "division_unknown")
		h.householdForm(w, r, http.StatusUnprocessableEntity, webHouseholdForm{Form: f, Edit: true, Household: hh})
		return
	}
	if _, err := h.S.UpdateHousehold(r.Context(), p, hh.ID, in); err != nil {
		if errors.Is(err, db.ErrNotFound) || errors.Is(err, ErrForbidden) {
			f.Errors["division"] = webErrorKey("division", "division_unknown")
		} else if !f.fail(err, nil) {
			h.fail(w, r, err)
			return
		}
		h.householdForm(w, r, http.StatusUnprocessableEntity, webHouseholdForm{Form: f, Edit: true, Household: hh})
		return
	}
	http.Redirect(w, r, fmt.Sprintf("/registry/households/%d?updated=1", hh.ID), http.StatusSeeOther)
}

// ---- residents ----

type webResidentData struct {
	R          webResident
	Household  *Household
	HousePlace string
	Tags       []webTag
	CanManage  bool
	CanReveal  bool
	Revealed   map[string]string // field → plain value (no-JS reveal)
	Form       webForm           // tag form errors
	Created    bool
	Updated    bool
	Moved      bool
}

func (h *HTTP) residentPage(w http.ResponseWriter, r *http.Request, status int, id int64, f webForm, revealed map[string]string) {
	p, ok := h.allowed(w, r)
	if !ok {
		return
	}
	res, err := h.S.Get(r.Context(), p, id)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	pl := h.places(r.Context())
	q := r.URL.Query()
	d := webResidentData{R: h.view(r, res, pl), CanManage: p.CanAt(webPermManage, res.Division), CanReveal: p.CanAt(webPermReveal, res.Division),
		Revealed: revealed, Form: f, Created: q.Get("created") != "", Updated: q.Get("updated") != "", Moved: q.Get("moved") != ""}
	if res.HouseholdID != 0 {
		if hh, err := h.S.st.household(r.Context(), res.HouseholdID); err == nil {
			d.Household, d.HousePlace = &hh, pl.name(hh.Division())
		}
	}
	// every tag of the pack the principal may see, with the resident's state
	loc := webLocale(r)
	carried := map[string]webTag{}
	for _, t := range d.R.Tags {
		carried[t.Key] = t
	}
	for _, def := range h.S.Tags(p, res.Division) {
		t := webTag{Key: def.Key, Label: def.Label.Get(loc), Grades: def.Grades, Restricted: def.Restricted}
		if c, ok := carried[def.Key]; ok {
			t.On, t.Grade, t.Since = true, c.Grade, c.Since
			delete(carried, def.Key)
		}
		d.Tags = append(d.Tags, t)
	}
	for _, t := range d.R.Tags { // tags the pack no longer defines
		if _, ok := carried[t.Key]; ok {
			d.Tags = append(d.Tags, t)
		}
	}
	h.R.Page(w, r, status, "registry_resident", d)
}

func (h *HTTP) resident(w http.ResponseWriter, r *http.Request) {
	if id, ok := h.id(w, r); ok {
		h.residentPage(w, r, http.StatusOK, id, newWebForm("tags"), nil)
	}
}

type webReveal struct {
	ID    int64
	Field string // id or phone
	Value string
}

func (h *HTTP) reveal(w http.ResponseWriter, r *http.Request) {
	p, ok := h.allowed(w, r)
	if !ok {
		return
	}
	id, ok := h.id(w, r)
	if !ok {
		return
	}
	field := r.URL.Query().Get("field")
	if field == "" {
		field = r.PostFormValue("field")
	}
	var svcField string
	switch field {
	case "id", "id_number":
		field, svcField = "id", "id_number"
	case "phone":
		svcField = "phone"
	default:
		h.R.Error(w, r, http.StatusBadRequest, "")
		return
	}
	v, err := h.S.Reveal(r.Context(), p, id, svcField)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	if webIsHX(r) {
		h.R.Partial(w, r, http.StatusOK, "registry_resident", "reveal_partial", webReveal{ID: id, Field: field, Value: v})
		return
	}
	h.residentPage(w, r, http.StatusOK, id, newWebForm("tags"), map[string]string{field: v})
}

// webResidentFields are the new resident form's fields in tab order; the unit
// is asked for only when the resident joins no household.
func webResidentFields(withHousehold bool) []string {
	f := []string{"name", "id_number", "gender", "birth", "ethnicity", "phone", "residency", "relation",
		"education", "employment", "party_member", "event", "since", "tags"}
	if !withHousehold {
		f = append(f, "division")
	}
	return f
}

type webResidentForm struct {
	Form         webForm
	Edit         bool
	Resident     Resident
	Household    *Household
	HousePlace   string
	Members      []webResident
	First        bool // the household was just created: register its head
	DivisionName string
	IDMasked     string
	PhoneMasked  string
	Tags         []webTag
	Relations    []string
	Residencies  []string
	Educations   []string
	Employments  []string
	Events       []string
	Ethnicities  []string
}

func (h *HTTP) residentForm(w http.ResponseWriter, r *http.Request, status int, d webResidentForm) {
	p := access.From(r.Context())
	d.Relations, d.Residencies, d.Educations, d.Employments, d.Events, d.Ethnicities = Relations, Residencies, Educations, Employments, webRegisterEvents, Ethnicities
	pl := h.places(r.Context())
	if c, ok := webParseCode(d.Form.V("division")); ok && c != 0 {
		d.DivisionName = pl.name(c)
	}
	if d.Household != nil {
		d.HousePlace = pl.name(d.Household.Division())
	}
	if !d.Edit {
		code := int64(0)
		if d.Household != nil {
			code = d.Household.Division()
		} else if c, ok := webParseCode(d.Form.V("division")); ok {
			code = c
		}
		if code != 0 {
			loc := webLocale(r)
			for _, def := range h.S.Tags(p, code) {
				d.Tags = append(d.Tags, webTag{Key: def.Key, Label: def.Label.Get(loc), Grades: def.Grades, Restricted: def.Restricted,
					On: d.Form.Has("tag", def.Key), Grade: d.Form.V("grade_" + def.Key)})
			}
		}
	}
	h.R.Page(w, r, status, "registry_resident_form", d)
}

// householdFor loads the household of ?household= (or the posted field)
// for the new resident form, with its members; nil when none is given.
func (h *HTTP) householdFor(w http.ResponseWriter, r *http.Request, p *access.Principal, raw string) (*Household, []Resident, bool) {
	if raw == "" {
		return nil, nil, true
	}
	id, err := strconv.ParseInt(raw, 10, 64)
	if err != nil || id <= 0 {
		h.R.Error(w, r, http.StatusNotFound, "")
		return nil, nil, false
	}
	hh, members, err := h.S.Household(r.Context(), p, id)
	if err != nil {
		h.fail(w, r, err)
		return nil, nil, false
	}
	if !p.CanAt(webPermManage, hh.Division()) {
		h.R.Error(w, r, http.StatusForbidden, "")
		return nil, nil, false
	}
	return &hh, members, true
}

func (h *HTTP) newResident(w http.ResponseWriter, r *http.Request) {
	p, ok := h.allowed(w, r)
	if !ok {
		return
	}
	if !p.Can(webPermManage) {
		h.R.Error(w, r, http.StatusForbidden, "")
		return
	}
	hh, members, ok := h.householdFor(w, r, p, r.URL.Query().Get("household"))
	if !ok {
		return
	}
	f := newWebForm(webResidentFields(hh != nil)...)
	f.Values.Set("event", EventRegister)
	if hh == nil {
		if c := webDefaultUnit(p); c != 0 {
			f.Values.Set("division", strconv.FormatInt(c, 10))
		}
	} else {
		hasHead := false
		for _, m := range members {
			hasHead = hasHead || m.Relation == "head" && m.Status == Present
		}
		if !hasHead {
			f.Values.Set("relation", "head")
		}
	}
	if ev := r.URL.Query().Get("event"); slices.Contains(webRegisterEvents, ev) {
		f.Values.Set("event", ev)
	}
	d := webResidentForm{Form: f, Household: hh, First: r.URL.Query().Get("first") != ""}
	pl := h.places(r.Context())
	for _, m := range members {
		d.Members = append(d.Members, h.view(r, m, pl))
	}
	h.residentForm(w, r, http.StatusOK, d)
}

func webResidentInput(f webForm) ResidentInput {
	in := ResidentInput{Name: f.V("name"), Gender: f.V("gender"), Birth: f.V("birth"), IDNumber: f.V("id_number"), Ethnicity: f.V("ethnicity"),
		Phone: f.V("phone"), Residency: f.V("residency"), Relation: f.V("relation"), Education: f.V("education"), Employment: f.V("employment"),
		PartyMember: f.V("party_member") != "", Since: f.V("since"), Event: f.V("event")}
	for _, tag := range f.Values["tag"] {
		if in.Tags == nil {
			in.Tags = map[string]string{}
		}
		in.Tags[tag] = f.V("grade_" + tag)
	}
	return in
}

func (h *HTTP) createResident(w http.ResponseWriter, r *http.Request) {
	p, ok := h.allowed(w, r)
	if !ok {
		return
	}
	f := h.postedForm(r)
	hh, members, ok := h.householdFor(w, r, p, f.V("household"))
	if !ok {
		return
	}
	f.Order = webResidentFields(hh != nil)
	in := webResidentInput(f)
	if hh != nil {
		in.HouseholdID = hh.ID
	} else if c, ok := webParseCode(f.V("division")); ok {
		in.Division = c
	}
	res, err := h.S.Register(r.Context(), p, in)
	if err != nil {
		if hh == nil && (errors.Is(err, db.ErrNotFound) || errors.Is(err, ErrForbidden)) {
			f.Errors["division"] = webErrorKey("division", "division_unknown")
		} else if !f.fail(err, nil) {
			h.fail(w, r, err)
			return
		}
		d := webResidentForm{Form: f, Household: hh}
		pl := h.places(r.Context())
		for _, m := range members {
			d.Members = append(d.Members, h.view(r, m, pl))
		}
		h.residentForm(w, r, http.StatusUnprocessableEntity, d)
		return
	}
	if hh != nil {
		http.Redirect(w, r, fmt.Sprintf("/registry/households/%d?added=%d", hh.ID, res.ID), http.StatusSeeOther)
		return
	}
	http.Redirect(w, r, fmt.Sprintf("/registry/residents/%d?created=1", res.ID), http.StatusSeeOther)
}

// manageResident loads a resident the principal may change.
func (h *HTTP) manageResident(w http.ResponseWriter, r *http.Request) (*access.Principal, Resident, bool) {
	p, ok := h.allowed(w, r)
	if !ok {
		return nil, Resident{}, false
	}
	id, ok := h.id(w, r)
	if !ok {
		return nil, Resident{}, false
	}
	res, err := h.S.Get(r.Context(), p, id)
	if err != nil {
		h.fail(w, r, err)
		return nil, Resident{}, false
	}
	if !p.CanAt(webPermManage, res.Division) {
		h.R.Error(w, r, http.StatusForbidden, "")
		return nil, Resident{}, false
	}
	return p, res, true
}

var webEditFields = []string{"name", "id_number", "gender", "birth", "ethnicity", "phone", "residency", "relation", "education", "employment", "party_member"}

func (h *HTTP) editResident(w http.ResponseWriter, r *http.Request) {
	_, res, ok := h.manageResident(w, r)
	if !ok {
		return
	}
	f := newWebForm(webEditFields...)
	for k, v := range map[string]string{"name": res.Name, "gender": res.Gender, "birth": FormatDate(res.Birth), "ethnicity": res.Ethnicity,
		"residency": res.Residency, "relation": res.Relation, "education": res.Education, "employment": res.Employment} {
		f.Values.Set(k, v)
	}
	if res.PartyMember {
		f.Values.Set("party_member", "1")
	}
	h.residentForm(w, r, http.StatusOK, webResidentForm{Form: f, Edit: true, Resident: res, IDMasked: res.IDMasked, PhoneMasked: res.PhoneMasked})
}

func (h *HTTP) updateResident(w http.ResponseWriter, r *http.Request) {
	p, res, ok := h.manageResident(w, r)
	if !ok {
		return
	}
	f := h.postedForm(r, webEditFields...)
	in := webResidentInput(f)
	in.Tags, in.Event, in.Since = nil, "", ""
	// an empty ID number or phone field keeps the stored value: the form
	// never shows it, so the user cannot retype it
	if strings.TrimSpace(in.IDNumber) == "" || strings.TrimSpace(in.Phone) == "" {
		sec, err := h.S.st.secretsOf(r.Context(), res.ID)
		if err != nil {
			h.fail(w, r, err)
			return
		}
		for _, x := range []struct {
			dst *string
			ct  string
		}{{&in.IDNumber, sec.idEnc}, {&in.Phone, sec.phoneEnc}} {
			if strings.TrimSpace(*x.dst) == "" && x.ct != "" {
				plain, err := h.S.Keys.Decrypt(x.ct)
				if err != nil {
					h.fail(w, r, err)
					return
				}
				*x.dst = plain
			}
		}
	}
	if _, err := h.S.Update(r.Context(), p, res.ID, in); err != nil {
		if !f.fail(err, nil) {
			h.fail(w, r, err)
			return
		}
		h.residentForm(w, r, http.StatusUnprocessableEntity, webResidentForm{Form: f, Edit: true, Resident: res, IDMasked: res.IDMasked, PhoneMasked: res.PhoneMasked})
		return
	}
	http.Redirect(w, r, fmt.Sprintf("/registry/residents/%d?updated=1", res.ID), http.StatusSeeOther)
}

func (h *HTTP) setTag(w http.ResponseWriter, r *http.Request) {
	p, res, ok := h.manageResident(w, r)
	if !ok {
		return
	}
	f := h.postedForm(r, "tags")
	on := f.V("action") != "off"
	if err := h.S.SetTag(r.Context(), p, res.ID, f.V("tag"), strings.TrimSpace(f.V("grade")), on); err != nil {
		if !f.fail(err, nil) {
			h.fail(w, r, err)
			return
		}
		h.residentPage(w, r, http.StatusUnprocessableEntity, res.ID, f, nil)
		return
	}
	http.Redirect(w, r, fmt.Sprintf("/registry/residents/%d?updated=1#tags", res.ID), http.StatusSeeOther)
}

// ---- moves ----

var webMoveFields = []string{"kind", "effective", "division", "to_number", "note"}

type webMoveData struct {
	Form         webForm
	R            webResident
	Kinds        []string
	DivisionName string
	Today        string
}

func (h *HTTP) movePage(w http.ResponseWriter, r *http.Request, status int, res Resident, f webForm) {
	pl := h.places(r.Context())
	d := webMoveData{Form: f, R: h.view(r, res, pl), Kinds: webMoveKinds, Today: FormatDate(h.S.today())}
	if c, ok := webParseCode(f.V("division")); ok && c != 0 {
		d.DivisionName = pl.name(c)
	}
	h.R.Page(w, r, status, "registry_move", d)
}

func (h *HTTP) moveForm(w http.ResponseWriter, r *http.Request) {
	_, res, ok := h.manageResident(w, r)
	if !ok {
		return
	}
	f := newWebForm(webMoveFields...)
	f.Values.Set("kind", EventTransfer)
	if k := r.URL.Query().Get("kind"); slices.Contains(webMoveKinds, k) {
		f.Values.Set("kind", k)
	}
	f.Values.Set("effective", FormatDate(h.S.today()))
	if res.Status != Present {
		f.General = append(f.General, webErrorKey("kind", "not_present"))
	}
	h.movePage(w, r, http.StatusOK, res, f)
}

func (h *HTTP) move(w http.ResponseWriter, r *http.Request) {
	p, res, ok := h.manageResident(w, r)
	if !ok {
		return
	}
	f := h.postedForm(r, webMoveFields...)
	in := MoveInput{Kind: f.V("kind"), Effective: f.V("effective"), Note: strings.TrimSpace(f.V("note"))}
	if in.Kind == EventTransfer {
		to, _ := webParseCode(f.V("division"))
		in.ToDivision = to
		if raw := f.V("to_household"); raw != "" {
			in.ToHousehold, _ = strconv.ParseInt(raw, 10, 64)
		}
		if num := strings.TrimSpace(f.V("to_number")); num != "" && in.ToHousehold == 0 {
			// a household number within the chosen village (else the resident's own)
			unit := to
			if unit == 0 {
				unit = res.Division
			}
			village := unit - unit%ids.Span(5)
			hh, err := h.S.st.householdByNumber(r.Context(), village, num)
			if err != nil || !p.CanAt(webPermManage, hh.Division()) {
				f.Errors["to_number"] = webErrorKey("to_number", "household_unknown")
				h.movePage(w, r, http.StatusUnprocessableEntity, res, f)
				return
			}
			in.ToHousehold = hh.ID
		}
	}
	moved, err := h.S.Move(r.Context(), p, res.ID, in)
	if err != nil {
		switch {
		case errors.Is(err, db.ErrNotFound) || errors.Is(err, ErrForbidden):
			// the resident was checked above: the target is out of scope
			f.Errors["division"] = webErrorKey("division", "division_unknown")
		case !f.fail(err, map[string]string{"to_household": "to_number"}):
			h.fail(w, r, err)
			return
		}
		h.movePage(w, r, http.StatusUnprocessableEntity, res, f)
		return
	}
	if in.Kind == EventTransfer && moved.HouseholdID != 0 {
		http.Redirect(w, r, fmt.Sprintf("/registry/households/%d", moved.HouseholdID), http.StatusSeeOther)
		return
	}
	http.Redirect(w, r, fmt.Sprintf("/registry/residents/%d?moved=1", res.ID), http.StatusSeeOther)
}

// ---- history ----

type webHistoryData struct {
	R      webResident
	Events []webEvent
}

func (h *HTTP) history(w http.ResponseWriter, r *http.Request) {
	p, ok := h.allowed(w, r)
	if !ok {
		return
	}
	id, ok := h.id(w, r)
	if !ok {
		return
	}
	res, err := h.S.Get(r.Context(), p, id)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	es, err := h.S.History(r.Context(), p, id)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	pl := h.places(r.Context())
	d := webHistoryData{R: h.view(r, res, pl), Events: h.events(r, p, res, es, pl, false)}
	slices.Reverse(d.Events) // newest first
	h.R.Page(w, r, http.StatusOK, "registry_history", d)
}

// ---- population ----

// webBar is one row of a breakdown: a catalogue key or a literal label.
type webBar struct {
	Key, Label string
	N          int64
	Width      string // percentage of the largest row, for the bar
}

type webChild struct {
	Code     int64
	Name     string
	N        int64
	Viewable bool
}

type webPopulationData struct {
	Form      webForm
	Unit      division.Division
	UnitName  string
	Date      string
	Month     string // the month the fact-based breakdowns end with
	Total     int64
	Residency []webBar
	Gender    []webBar
	Age       []webBar
	Tags      []webBar
	Children  []webChild
}

func webBars(rows []webBar) []webBar {
	var top int64
	for _, b := range rows {
		top = max(top, b.N)
	}
	for i := range rows {
		w := 0.0
		if top > 0 {
			w = float64(rows[i].N) / float64(top) * 100
		}
		rows[i].Width = strconv.FormatFloat(w, 'f', 1, 64)
	}
	return rows
}

// webMaxChildren bounds the per-unit table.
const webMaxChildren = 200

func (h *HTTP) population(w http.ResponseWriter, r *http.Request) {
	p := access.From(r.Context())
	if p == nil || !p.Can(webPermView) && !p.Can("division.view") {
		h.R.Error(w, r, http.StatusNotFound, "")
		return
	}
	ctx := r.Context()
	q := r.URL.Query()
	f := newWebForm("division", "date")
	f.Values.Set("division", q.Get("division"))
	f.Values.Set("date", q.Get("date"))
	code := int64(-1)
	if raw := q.Get("division"); raw != "" {
		c, ok := webParseCode(raw)
		if !ok {
			h.R.Error(w, r, http.StatusNotFound, "")
			return
		}
		code = c
	} else {
		roots := p.Roots(webPermView)
		if len(roots) == 0 {
			roots = p.Roots("division.view")
		}
		code = roots[0]
		f.Values.Set("division", strconv.FormatInt(code, 10))
	}
	day := h.S.today()
	if raw := q.Get("date"); raw != "" {
		if d, ok := ParseDate(raw); ok && d <= day {
			day = d
		} else {
			f.Errors["date"] = webErrorKey("date", "date_invalid")
		}
	}
	if f.V("date") == "" || f.E("date") == "" {
		f.Values.Set("date", FormatDate(day))
	}
	byResidency, err := h.S.Population(ctx, p, code, day)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	d := webPopulationData{Form: f, Unit: division.Division{Code: code, Level: ids.Level(code)}, Date: FormatDate(day),
		Month: fmt.Sprintf("%d-%02d", day/10000, day/100%100), Total: byResidency[""]}
	d.Form.Default = "date"
	if code != 0 {
		if u, err := h.S.Divisions.Get(ctx, code); err == nil {
			d.Unit = u
		}
	}
	for _, k := range Residencies {
		d.Residency = append(d.Residency, webBar{Key: "registry.residency." + k, N: byResidency[k]})
	}
	d.Residency = webBars(d.Residency)

	// gender, birth cohorts and tags from the monthly facts, as of the end of the month
	lo, hi := ids.Subtree(code)
	rows, err := h.S.DB.Query(ctx, `SELECT metric, SUM(value) FROM facts WHERE metric LIKE ?
		AND division >= ? AND division <= ? AND period >= 1 AND period <= ? GROUP BY metric`, "registry.%", lo, hi, day/100)
	if err != nil {
		h.fail(w, r, err)
		return
	}
	sums := map[string]int64{}
	for rows.Next() {
		var m string
		var n int64
		if err := rows.Scan(&m, &n); err != nil {
			rows.Close()
			h.fail(w, r, err)
			return
		}
		sums[m] = n
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		h.fail(w, r, err)
		return
	}
	for _, g := range []string{"M", "F"} {
		d.Gender = append(d.Gender, webBar{Key: "registry.gender." + strings.ToLower(g), N: sums[MetricGender(g)]})
	}
	d.Gender = webBars(d.Gender)
	age := make([]int64, len(webAgeBands))
	var tags []webBar
	loc := webLocale(r)
	special := p.CanAt(webPermSpecial, code)
	for m, n := range sums {
		switch {
		case strings.HasPrefix(m, metricBorn):
			y, err := strconv.Atoi(strings.TrimPrefix(m, metricBorn))
			if err != nil || n == 0 {
				continue
			}
			a := day/10000 - y
			for i, b := range webAgeBands {
				if a >= b.Lo && (b.Hi < 0 || a <= b.Hi) {
					age[i] += n
				}
			}
		case strings.HasPrefix(m, metricTag):
			tag := strings.TrimPrefix(m, metricTag)
			def, known := h.S.registryOf(code).Tag(tag)
			restricted := def.Restricted || !known && h.restrictedAnywhere(tag)
			if n == 0 || restricted && !special {
				continue
			}
			tags = append(tags, webBar{Label: h.tagLabel(code, tag, loc), N: n})
		}
	}
	for i, b := range webAgeBands {
		d.Age = append(d.Age, webBar{Key: b.Key, N: age[i]})
	}
	d.Age = webBars(d.Age)
	sort.Slice(tags, func(i, j int) bool {
		return tags[i].N > tags[j].N || tags[i].N == tags[j].N && tags[i].Label < tags[j].Label
	})
	d.Tags = webBars(tags)

	if d.Unit.Level < 6 {
		kids, err := h.S.Divisions.Children(ctx, code, false)
		if err == nil && len(kids) <= webMaxChildren {
			for _, k := range kids {
				c := webChild{Code: k.Code, Name: k.Name, Viewable: p.CanAt(webPermView, k.Code) || p.CanAt("division.view", k.Code)}
				if c.Viewable {
					if m, err := h.S.Population(ctx, p, k.Code, day); err == nil {
						c.N = m[""]
					}
				}
				d.Children = append(d.Children, c)
			}
		}
	}
	h.R.Page(w, r, http.StatusOK, "registry_population", d)
}
