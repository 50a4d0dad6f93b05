package governance

import (
	"embed"
	"html/template"
	"net/http"

	"github.com/shequ-platform/shequ/internal/platform/web"
)

//go:embed templates/*.html
var templates embed.FS

// Templates are governance's pages, for the renderer.
func Templates() embed.FS { return templates }

// HTTP serves governance's staff pages (behind login): the overview, bodies
// and members, meetings with attendance, votes and minutes, matters through
// their procedure and implementation, elections and documents.
type HTTP struct {
	S *Service
	R *web.Renderer
	// PublicURL and TrustProxy decide the address printed in QR codes and
	// calendar feeds.
	PublicURL  string
	TrustProxy bool
}

// Routes registers the staff pages (mount behind login).
func (h *HTTP) Routes(mux *http.ServeMux) {
	h.bodyRoutes(mux)     // http_bodies.go: /governance (overview), bodies and members
	h.meetingRoutes(mux)  // http_meetings.go: meetings, agenda, attendance, votes, minutes, iCalendar
	h.matterRoutes(mux)   // http_matters.go: matters, their stages, implementation, goals, ratings
	h.electionRoutes(mux) // http_elections.go: elections, voter roll, proxies, candidates, count
	h.documentRoutes(mux) // http_documents.go: documents and their versions
}

// Funcs are the template funcs governance's pages use besides the base ones.
func Funcs() template.FuncMap {
	return template.FuncMap{}
}
