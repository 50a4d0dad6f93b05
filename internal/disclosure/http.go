package disclosure

import (
	"embed"
	"html/template"
	"net/http"

	"github.com/shequ-platform/shequ/internal/platform/web"
)

//go:embed templates/*.html
var templates embed.FS

// Templates are disclosure's pages, for the renderer.
func Templates() embed.FS { return templates }

// Funcs are the template funcs disclosure's pages use besides the base ones.
func Funcs() template.FuncMap { return template.FuncMap{} }

// HTTP serves the staff pages (behind login): notices, finance, assets,
// the schedule's compliance.
type HTTP struct {
	S *Service
	R *web.Renderer
}

// Routes registers the staff pages.
func (h *HTTP) Routes(mux *http.ServeMux) {}

// PublicHTTP serves the public portal (no login): /public/{village code}
// and its sub-pages, the A3 sheet, the kiosk and the calendar feed.
type PublicHTTP struct {
	S *Service
	R *web.Renderer
	// PublicURL and TrustProxy decide the address printed in QR codes.
	PublicURL  string
	TrustProxy bool
}

// Routes registers the portal.
func (h *PublicHTTP) Routes(mux *http.ServeMux) {}
