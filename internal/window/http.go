package window

import (
	"embed"
	"html/template"
	"net/http"
	"time"

	"github.com/shequ-platform/shequ/internal/platform/jobs"
	"github.com/shequ-platform/shequ/internal/platform/web"
)

//go:embed templates/*.html
var templates embed.FS

// Templates are the window's pages, for the renderer.
func Templates() embed.FS { return templates }

// HTTP serves the staff pages of the window (behind login): the desk with
// its lists, intake, the case page with its actions, receipts, the
// catalogue, the dashboard and the case ledger.
type HTTP struct {
	S    *Service
	R    *web.Renderer
	Jobs *jobs.Runner
	// PublicURL and TrustProxy decide the address printed in QR codes
	// (see web.BaseURL).
	PublicURL  string
	TrustProxy bool
}

// Routes registers the staff pages (mount behind login).
func (h *HTTP) Routes(mux *http.ServeMux) {
	mux.HandleFunc("GET /window", h.desk)
	mux.HandleFunc("GET /window/intake", h.intakeForm)
	mux.HandleFunc("POST /window/intake", h.intake)
	mux.HandleFunc("GET /window/intake/residents", h.residentHits)
	mux.HandleFunc("GET /window/cases/{id}", h.casePage)
	mux.HandleFunc("POST /window/cases/{id}/act", h.act)
	mux.HandleFunc("POST /window/cases/{id}/attachments", h.upload)
	mux.HandleFunc("GET /window/cases/{id}/attachments/{aid}", h.download)
	mux.HandleFunc("GET /window/cases/{id}/receipt", h.receipt)
	mux.HandleFunc("GET /window/catalogue", h.catalogue)
	mux.HandleFunc("GET /window/catalogue/{code}", h.itemForm)
	mux.HandleFunc("POST /window/catalogue/{code}", h.saveItem)
	mux.HandleFunc("GET /window/dashboard", h.dashboard)
	mux.HandleFunc("POST /window/ledger", h.ledger)
}

// PublicHTTP serves the residents' pages without login: the status look-up,
// the rating, and the QR code target.
type PublicHTTP struct {
	S *Service
	R *web.Renderer
}

// Routes registers the public pages (mount outside login).
func (h *PublicHTTP) Routes(mux *http.ServeMux) {
	mux.HandleFunc("GET /public/case", h.statusForm)
	mux.HandleFunc("POST /public/case", h.status)
	mux.HandleFunc("POST /public/case/rate", h.rate)
}

// Funcs are the template funcs the window's pages use besides the base ones.
func Funcs() template.FuncMap {
	return template.FuncMap{
		"now": func() int64 { return time.Now().UnixMilli() },
	}
}
