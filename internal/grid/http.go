package grid

import (
	"embed"
	"html/template"
	"net/http"

	"github.com/shequ-platform/shequ/internal/platform/jobs"
	"github.com/shequ-platform/shequ/internal/platform/web"
)

//go:embed templates/*.html
var templates embed.FS

// Templates are the grid's pages, for the renderer.
func Templates() embed.FS { return templates }

// HTTP serves the grid's pages (behind login): the incident desk and the
// incident page with its actions, the grid worker's phone pages (report,
// tasks, patrols), grids with their households, workers, chiefs and party
// members, special-group follow-ups, the map and the figures.
type HTTP struct {
	S    *Service
	R    *web.Renderer
	Jobs *jobs.Runner
	// Map configures the map's background (none by default).
	Map MapConfig
	// PublicURL and TrustProxy decide the address printed in QR codes.
	PublicURL  string
	TrustProxy bool
}

// MapConfig is the optional tile layer under the map. Government intranets
// are offline, so by default the map draws grid outlines, households and
// incidents on a blank background; a jurisdiction with its own tile server
// (e.g. a Tianditu mirror) sets TileURL.
type MapConfig struct {
	// TileURL is a {z}/{x}/{y} template, e.g.
	// http://tiles.intranet/vec_w/{z}/{x}/{y}.png ("" for none).
	TileURL string
	// TileCRS is the coordinate system the tiles are drawn in: wgs84
	// (Tianditu, CGCS2000 differs by centimetres) or gcj02 (most commercial
	// Chinese maps); points are converted before they are drawn.
	TileCRS string
	// Attribution is shown in the map's corner.
	Attribution string
}

// Routes registers the staff and grid-worker pages (mount behind login).
func (h *HTTP) Routes(mux *http.ServeMux) {
	h.incidentRoutes(mux) // http_incidents.go: desk, incident page, actions, figures
	h.reportRoutes(mux)   // http_report.go: the phone report page, uploads, the worker's home
	h.gridRoutes(mux)     // http_grids.go: grids, households, chiefs, party members, outlines
	h.mapRoutes(mux)      // http_map.go: the map and its data
	h.patrolRoutes(mux)   // http_patrol.go: patrol visits and coverage
	h.followupRoutes(mux) // http_followup.go: special-group follow-ups
}

// Funcs are the template funcs the grid's pages use besides the base ones
// (the window's fmtday and kb are registered too).
func Funcs() template.FuncMap {
	return template.FuncMap{}
}
