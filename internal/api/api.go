// Package api is Shequ's JSON API under /api/v1, built with huma v2 on the
// standard library's ServeMux. The OpenAPI 3.1 document is generated from the
// Go types below and served at /api/v1/openapi.json (and .yaml); there is no
// docs UI (it would load scripts from a CDN, and Shequ runs offline).
//
// Every operation needs a Bearer API token (Authorization: Bearer shq_…),
// resolved by access.HTTP.Authenticate, which the app applies around
// everything. Session cookies are not accepted here. Every error is
// {"code", "message", "field"} with a stable code; see docs/api.md.
//
// The package only translates HTTP to the services' calls: scope checks,
// transactions, audit entries and facts stay in the services.
package api

import (
	"context"
	"log/slog"
	"net/http"
	"sync"

	"github.com/danielgtaylor/huma/v2"
	"github.com/danielgtaylor/huma/v2/adapters/humago"

	"github.com/shequ-platform/shequ/internal/disclosure"
	"github.com/shequ-platform/shequ/internal/division"
	"github.com/shequ-platform/shequ/internal/governance"
	"github.com/shequ-platform/shequ/internal/grid"
	"github.com/shequ-platform/shequ/internal/grid/mediation"
	"github.com/shequ-platform/shequ/internal/platform/access"
	"github.com/shequ-platform/shequ/internal/platform/audit"
	"github.com/shequ-platform/shequ/internal/platform/db"
	"github.com/shequ-platform/shequ/internal/window"
)

// Prefix is where the API lives; mount New's handler at Prefix + "/".
const Prefix = "/api/v1"

// maxBody bounds the JSON request bodies of this API (all are small). The
// app's MaxBody middleware bounds every request more loosely.
const maxBody = 64 << 10

// Deps are the services the API calls.
type Deps struct {
	Access    *access.Service
	Divisions *division.Service
	Audit     *audit.Log
	DB        *db.DB
	Window    *window.Service
	Mediation *mediation.Service
	Grid      *grid.Service
	// Governance and Disclosure serve the self-governance endpoints
	// (bodies, meetings, matters, elections, documents) and finance and
	// notices.
	Governance *governance.Service
	Disclosure *disclosure.Service
	Version    string
	// Log receives internal errors (the client only sees "internal").
	// Optional: slog.Default() when nil.
	Log *slog.Logger
}

type server struct {
	Deps
	log *slog.Logger
}

// bearer is the name of the security scheme in the OpenAPI document.
const bearer = "bearer"

var secured = []map[string][]string{{bearer: {}}}

// New returns the API handler. It serves full paths beginning with Prefix:
// mount it with mux.Handle(api.Prefix+"/", api.New(deps)) inside the
// authentication middleware.
func New(deps Deps) http.Handler {
	s := &server{Deps: deps, log: deps.Log}
	if s.log == nil {
		s.log = slog.Default()
	}
	mux := http.NewServeMux()
	h, spec := s.build(mux)
	return &handler{mux: mux, inner: h, log: s.log, spec: spec}
}

// config is huma's default configuration without its docs UI, its schema
// routes and its `$schema` link transformer (which adds links to every
// response), and with the OpenAPI document served by handler itself.
func config(version string) huma.Config {
	c := huma.DefaultConfig("Shequ API", version)
	c.OpenAPIPath = ""
	c.DocsPath = ""
	c.SchemasPath = ""
	c.CreateHooks = nil
	c.Transformers = nil
	c.Info.Description = "Shequ (社区) community governance platform. Every request needs an API token " +
		"(Authorization: Bearer shq_…; create one under Account → API tokens). Division codes are 15-digit " +
		"strings (6, 9 and 12 digits are accepted in paths and queries and padded with zeros); \"0\" is the " +
		"whole country. Errors are {code, message, field} with stable codes, see docs/api.md."
	c.Components.SecuritySchemes = map[string]*huma.SecurityScheme{
		bearer: {Type: "http", Scheme: "bearer", BearerFormat: "shq_…",
			Description: "A personal API token (shq_…). Session cookies are not accepted."},
	}
	return c
}

func (s *server) build(mux *http.ServeMux) (huma.API, *spec) {
	a := humago.NewWithPrefix(mux, Prefix, config(s.Version))
	a.UseMiddleware(func(ctx huma.Context, next func(huma.Context)) {
		if len(ctx.Operation().Security) > 0 && !authenticated(ctx.Context()) {
			ctx.SetHeader("WWW-Authenticate", `Bearer realm="shequ"`)
			_ = huma.WriteErr(a, ctx, http.StatusUnauthorized, "")
			return
		}
		next(ctx)
	})
	s.registerMe(a)
	s.registerDivisions(a)
	s.registerUsers(a)
	s.registerAudit(a)
	s.registerFacts(a)
	s.registerCases(a)
	s.registerDisputes(a)
	s.registerIncidents(a)
	s.registerPatrols(a)
	s.registerFollowUps(a)
	s.registerBodies(a)    // governance_bodies.go: bodies, members, meetings, votes
	s.registerMatters(a)   // governance_matters.go: matters, stages, implementation, ratings
	s.registerElections(a) // governance_elections.go: elections and documents
	s.registerFinance(a)   // disclosure.go: finance, assets, notices
	return a, &spec{api: a}
}

// authenticated reports whether the request carries a principal that came
// from an API token (session principals have a SessionID).
func authenticated(ctx context.Context) bool {
	p := access.From(ctx)
	return p != nil && p.SessionID == "" && !p.MustChange
}

// op fills the parts every operation shares.
func op(id, method, path, summary string, tags []string, errs ...int) huma.Operation {
	return huma.Operation{
		OperationID: id,
		Method:      method,
		Path:        path,
		Summary:     summary,
		Tags:        tags,
		Security:    secured,
		Errors:      append([]int{http.StatusUnauthorized}, append(errs, http.StatusInternalServerError)...),
	}
}

// spec serves the OpenAPI document, rendered once.
type spec struct {
	api        huma.API
	once       sync.Once
	json, yaml []byte
	err        error
}

func (s *spec) render() error {
	s.once.Do(func() {
		if s.json, s.err = s.api.OpenAPI().MarshalJSON(); s.err != nil {
			return
		}
		s.yaml, s.err = s.api.OpenAPI().YAML()
	})
	return s.err
}

// handler adds to the huma mux: the OpenAPI document, JSON answers for
// unknown paths (404) and methods (405), panics turned into a JSON 500, and
// Cache-Control: no-store on everything.
type handler struct {
	mux   *http.ServeMux
	inner huma.API
	log   *slog.Logger
	spec  *spec
}

func (h *handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Cache-Control", "no-store")
	w.Header().Set("X-Content-Type-Options", "nosniff")
	sw := &statusWriter{ResponseWriter: w}
	r = r.WithContext(context.WithValue(r.Context(), loggerKey{}, h.log))
	defer func() {
		if v := recover(); v != nil {
			if v == http.ErrAbortHandler {
				panic(v)
			}
			h.log.ErrorContext(r.Context(), "api panic", "method", r.Method, "path", r.URL.Path, "panic", v)
			if !sw.wrote {
				writeError(sw, internalError())
			}
		}
	}()
	switch r.URL.Path {
	case Prefix + "/openapi.json", Prefix + "/openapi.yaml":
		h.serveSpec(sw, r)
		return
	}
	if _, pattern := h.mux.Handler(r); pattern == "" {
		h.unmatched(sw, r)
		return
	}
	h.mux.ServeHTTP(sw, r)
}

func (h *handler) serveSpec(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		w.Header().Set("Allow", "GET, HEAD")
		writeError(w, &Error{Status: http.StatusMethodNotAllowed, Code: CodeMethodNotAllowed, Message: "method not allowed"})
		return
	}
	if err := h.spec.render(); err != nil {
		h.log.ErrorContext(r.Context(), "openapi", "err", err)
		writeError(w, internalError())
		return
	}
	body, ct := h.spec.json, "application/openapi+json"
	if r.URL.Path == Prefix+"/openapi.yaml" {
		body, ct = h.spec.yaml, "application/openapi+yaml"
	}
	w.Header().Set("Content-Type", ct)
	w.Header().Set("Cache-Control", "no-cache")
	_, _ = w.Write(body)
}

// unmatched answers a request no operation matched: 405 if the path exists
// with other methods, else 404.
func (h *handler) unmatched(w http.ResponseWriter, r *http.Request) {
	var allow []string
	for _, m := range []string{http.MethodGet, http.MethodPost, http.MethodPut, http.MethodPatch, http.MethodDelete} {
		r2 := *r
		r2.Method = m
		if _, pattern := h.mux.Handler(&r2); pattern != "" {
			allow = append(allow, m)
		}
	}
	if len(allow) == 0 {
		writeError(w, notFound())
		return
	}
	for i, m := range allow {
		if i == 0 {
			w.Header().Set("Allow", m)
		} else {
			w.Header().Add("Allow", m)
		}
	}
	writeError(w, &Error{Status: http.StatusMethodNotAllowed, Code: CodeMethodNotAllowed, Message: "method not allowed"})
}

type statusWriter struct {
	http.ResponseWriter
	wrote bool
}

func (w *statusWriter) WriteHeader(code int) {
	w.wrote = true
	w.ResponseWriter.WriteHeader(code)
}

func (w *statusWriter) Write(b []byte) (int, error) {
	w.wrote = true
	return w.ResponseWriter.Write(b)
}

// Unwrap lets http.ResponseController (huma's read deadline) reach the
// connection.
func (w *statusWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }
