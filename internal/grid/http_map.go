package grid

// The map (GET /grid/map) and its data (GET /grid/map/data.json): grid
// outlines, incidents and households drawn by static/grid-map.js with
// Leaflet. By default there are no tiles, so the page asks nothing of any
// other host (government intranets are offline): the outlines and points
// lie on a light grey canvas. A configured tile layer (HTTP.Map) is drawn
// underneath, its host allowed in this page's Content-Security-Policy; for
// tiles drawn in GCJ-02 every position is converted on the server before it
// is sent. The page passes its configuration as a JSON data block, never as
// code (CSP).

import (
	"encoding/json"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"

	"github.com/shequ-platform/shequ/internal/platform/i18n"
	"github.com/shequ-platform/shequ/internal/platform/ids"
	"github.com/shequ-platform/shequ/internal/platform/web"
)

func (h *HTTP) mapRoutes(mux *http.ServeMux) {
	mux.HandleFunc("GET /grid/map", h.mapPage)
	mux.HandleFunc("GET /grid/map/data.json", h.mapData)
}

// GCJ02 reports whether the tiles are drawn in GCJ-02, so that positions
// must be converted for them (only when there are tiles at all).
func (m MapConfig) GCJ02() bool {
	return m.TileURL != "" && strings.EqualFold(strings.TrimSpace(m.TileCRS), "gcj02")
}

// tileSource is the CSP source of the tile URL: its scheme and host, a
// {s} subdomain placeholder widened to a wildcard ("" when the tiles come
// from this server, or the URL cannot be read).
func (m MapConfig) tileSource() string {
	u := strings.TrimSpace(m.TileURL)
	scheme, rest, ok := strings.Cut(u, "://")
	if !ok || (scheme != "http" && scheme != "https") {
		return ""
	}
	host, _, _ := strings.Cut(rest, "/")
	if i := strings.LastIndex(host, "}"); i >= 0 {
		// t{s}.tianditu.gov.cn → *.tianditu.gov.cn
		if j := strings.Index(host[i:], "."); j >= 0 {
			host = "*" + host[i+j:]
		} else {
			return ""
		}
	}
	if host == "" || strings.ContainsAny(host, " ;,'\"{}") {
		return ""
	}
	return scheme + "://" + host
}

// mapCSP is the page's Content-Security-Policy: the common one, with the
// tile host allowed for images.
func (m MapConfig) mapCSP() string {
	src := m.tileSource()
	if src == "" {
		return web.ContentSecurityPolicy
	}
	return strings.Replace(web.ContentSecurityPolicy, "img-src 'self' data: blob:", "img-src 'self' data: blob: "+src, 1)
}

// mapConfig is what grid-map.js reads from the page.
type mapConfig struct {
	Data        string            `json:"data"`
	Layers      []string          `json:"layers"`
	Tiles       string            `json:"tiles,omitempty"`
	Attribution string            `json:"attribution,omitempty"`
	GCJ02       bool              `json:"gcj02,omitempty"`
	Labels      map[string]string `json:"labels"`
}

type mapLayer struct {
	Key, Label string
	On         bool
	// Off tells why the layer cannot be shown here (a catalogue key).
	Off string
}

type mapData struct {
	Unit      int64
	UnitName  string
	UnitParam string
	Units     []incUnitOption
	Layers    []mapLayer
	States    []keyLabel
	Config    mapConfig
	Tiles     bool
	GCJ02     bool
	Grids     bool // the unit is a grid: link to its page
	Recent    int  // closed incidents are drawn this many days
}

// mapLayers reads ?layers= (repeated or comma-separated); none: all.
func mapLayers(q url.Values) []string {
	var out []string
	for _, v := range q["layers"] {
		for _, l := range strings.Split(v, ",") {
			if l = strings.TrimSpace(l); slices.Contains(Layers, l) && !slices.Contains(out, l) {
				out = append(out, l)
			}
		}
	}
	return out
}

func (h *HTTP) mapPage(w http.ResponseWriter, r *http.Request) {
	p, ok := h.incViewer(w, r)
	if !ok {
		return
	}
	ctx := r.Context()
	loc := i18n.Negotiate(r)
	q := r.URL.Query()
	unit, ok := incUnitParam(p, q.Get("unit"))
	if !ok || !p.CanAt("grid.view", unit) {
		h.S.denyUnit(ctx, unit)
		h.R.Error(w, r, http.StatusNotFound, "")
		return
	}
	d := &mapData{Unit: unit, UnitParam: strconv.FormatInt(unit, 10), Tiles: h.Map.TileURL != "", GCJ02: h.Map.GCJ02(),
		Grids: ids.Level(unit) == 6, Recent: RecentDays}
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
	chosen := mapLayers(q)
	households := ids.Level(unit) >= 5 && p.CanAt("resident.view", unit)
	labels := map[string]string{
		LayerOutlines:   web.Msg("grid.map.layer.outlines"),
		LayerIncidents:  web.Msg("grid.map.layer.incidents"),
		LayerHouseholds: web.Msg("grid.map.layer.households"),
	}
	for _, l := range Layers {
		ml := mapLayer{Key: l, Label: i18n.T(loc, labels[l]), On: len(chosen) == 0 || slices.Contains(chosen, l)}
		if l == LayerHouseholds && !households {
			ml.On = false
			ml.Off = web.Msg("grid.map.households_off")
			if ids.Level(unit) >= 5 {
				ml.Off = web.Msg("grid.map.households_denied")
			}
		}
		if ml.On {
			d.Config.Layers = append(d.Config.Layers, l)
		}
		d.Layers = append(d.Layers, ml)
	}
	for _, st := range States {
		d.States = append(d.States, keyLabel{st, h.S.StateName(loc, unit, st)})
	}
	d.Config.Data = "/grid/map/data.json?" + url.Values{"unit": {d.UnitParam}}.Encode()
	if d.Tiles {
		d.Config.Tiles, d.Config.Attribution, d.Config.GCJ02 = h.Map.TileURL, h.Map.Attribution, d.GCJ02
	}
	d.Config.Labels = map[string]string{}
	for k, key := range map[string]string{
		"incident": web.Msg("grid.map.popup.incident"), "household": web.Msg("grid.map.popup.household"),
		"grid": web.Msg("grid.map.popup.grid"), "overdue": web.Msg("grid.map.overdue"), "closed": web.Msg("grid.map.closed"),
		"empty": web.Msg("grid.map.empty"), "failed": web.Msg("grid.map.failed"), "loading": web.Msg("grid.map.loading"),
		"truncated": web.Msg("grid.map.truncated"),
	} {
		d.Config.Labels[k] = i18n.T(loc, key)
	}
	w.Header().Set("Content-Security-Policy", h.Map.mapCSP())
	h.R.Page(w, r, http.StatusOK, "grid_map", d)
}

// mapData serves the map's GeoJSON (application/geo+json). Households are
// only ever ids, addresses and links.
func (h *HTTP) mapData(w http.ResponseWriter, r *http.Request) {
	p, ok := h.incViewer(w, r)
	if !ok {
		return
	}
	q := r.URL.Query()
	unit, ok := incUnitParam(p, q.Get("unit"))
	if !ok {
		h.R.Error(w, r, http.StatusNotFound, "")
		return
	}
	fc, err := h.S.MapData(r.Context(), p, MapQuery{Unit: unit, Layers: mapLayers(q), GCJ02: h.Map.GCJ02(), Locale: i18n.Negotiate(r)})
	if err != nil {
		h.incFail(w, r, err)
		return
	}
	body, err := json.Marshal(fc)
	if err != nil {
		h.incFail(w, r, err)
		return
	}
	hd := w.Header()
	hd.Set("Content-Type", "application/geo+json")
	hd.Set("Cache-Control", "no-store")
	_, _ = w.Write(body)
}
