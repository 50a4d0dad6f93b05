package governance

import (
	"context"
	"embed"
	"errors"
	"html/template"
	"log/slog"
	"net/http"
	"strconv"

	"github.com/shequ-platform/shequ/internal/division"
	"github.com/shequ-platform/shequ/internal/platform/access"
	"github.com/shequ-platform/shequ/internal/platform/db"
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

// viewerOf returns the signed-in principal holding governance.view
// somewhere, or answers 404.
func (h *HTTP) viewerOf(w http.ResponseWriter, r *http.Request) (*access.Principal, bool) {
	p := access.From(r.Context())
	if p == nil || !p.Can(PermView) {
		h.R.Error(w, r, http.StatusNotFound, "")
		return nil, false
	}
	return p, true
}

// govFail answers a request whose service call failed with something other
// than the user's input: not found, forbidden, or an internal error (logged).
func (h *HTTP) govFail(w http.ResponseWriter, r *http.Request, err error) {
	switch {
	case errors.Is(err, db.ErrNotFound):
		h.R.Error(w, r, http.StatusNotFound, "")
	case errors.Is(err, ErrForbidden):
		h.R.Error(w, r, http.StatusForbidden, "")
	default:
		slog.ErrorContext(r.Context(), "governance: request failed", "path", r.URL.Path, "err", err)
		h.R.Error(w, r, http.StatusInternalServerError, "")
	}
}

// unitName is a unit's name, for pages (its code when unknown).
func (h *HTTP) unitName(ctx context.Context, code int64) string {
	d, err := h.S.Divisions.Get(ctx, code)
	if err != nil {
		return strconv.FormatInt(code, 10)
	}
	return d.Name
}

// villages lists the villages where p holds perm, at most limit.
func (h *HTTP) villages(ctx context.Context, p *access.Principal, perm string, limit int) ([]division.Division, error) {
	var out []division.Division
	for _, rg := range p.Ranges(perm) {
		ds, err := h.S.Divisions.InRange(ctx, rg.Lo, rg.Hi, 5, 5)
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

// record loads the page data of the record named by the path's {id} for a
// viewer (a body's or a meeting's page, or a POST to one of its forms, whose
// form it parses); false when it answered (404, 400 or the failure).
func record[D any](h *HTTP, w http.ResponseWriter, r *http.Request, post bool,
	load func(*http.Request, *access.Principal, int64) (D, error)) (*access.Principal, D, bool) {
	var zero D
	p, ok := h.viewerOf(w, r)
	if !ok {
		return nil, zero, false
	}
	id, ok := pathID(r, "id")
	if !ok {
		h.R.Error(w, r, http.StatusNotFound, "")
		return nil, zero, false
	}
	if post {
		if err := r.ParseForm(); err != nil {
			h.R.Error(w, r, http.StatusBadRequest, "")
			return nil, zero, false
		}
	}
	d, err := load(r, p, id)
	if err != nil {
		h.govFail(w, r, err)
		return nil, zero, false
	}
	return p, d, true
}
