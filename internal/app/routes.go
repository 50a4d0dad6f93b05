package app

import (
	"embed"
	"net/http"
	"path/filepath"
	"slices"
	"strings"

	"github.com/shequ-platform/shequ/internal/admin"
	"github.com/shequ-platform/shequ/internal/api"
	"github.com/shequ-platform/shequ/internal/disclosure"
	"github.com/shequ-platform/shequ/internal/division"
	"github.com/shequ-platform/shequ/internal/governance"
	"github.com/shequ-platform/shequ/internal/grid"
	"github.com/shequ-platform/shequ/internal/grid/mediation"
	"github.com/shequ-platform/shequ/internal/open311"
	"github.com/shequ-platform/shequ/internal/platform/access"
	"github.com/shequ-platform/shequ/internal/platform/calendar"
	"github.com/shequ-platform/shequ/internal/platform/i18n"
	"github.com/shequ-platform/shequ/internal/platform/jobs"
	"github.com/shequ-platform/shequ/internal/platform/web"
	"github.com/shequ-platform/shequ/internal/registry"
	"github.com/shequ-platform/shequ/internal/window"
)

//go:embed templates/*.html
var templates embed.FS

// navEntry is one capability in the main navigation, shown to those who
// hold its permission somewhere (empty: everyone signed in).
type navEntry struct {
	key, href, perm string
}

// nav lists the capabilities in menu order. Later capabilities add theirs.
var nav = []navEntry{
	{"nav.home", "/", ""},
	{"nav.divisions", "/divisions", "division.view"},
	{"registry.nav", "/registry", "resident.view"},
	{"window.nav", "/window", "window.view"},
	{"grid.nav", "/grid", "grid.view"},
	{"mediation.nav", "/mediation", "mediation.view"},
	{"gov.nav", "/governance", "governance.view"},
	{"pub.nav", "/disclosure", "governance.view"},
	{"job.nav", "/jobs", ""},
	{"nav.users", "/admin/users", "user.view"},
	{"nav.audit", "/admin/audit", "audit.view"},
	{"nav.policy", "/admin/policy", "policy.view"},
	{"calendar.nav", "/admin/calendar", "calendar.manage"},
	{"nav.tokens", "/account/tokens", ""},
	{"nav.password", "/password", ""},
}

// shell fills the layout's top bar and navigation for a request.
func (a *App) shell(r *http.Request) web.Shell {
	p := access.From(r.Context())
	sh := web.Shell{Locale: i18n.Negotiate(r)}
	if p == nil {
		return sh
	}
	sh.LoggedIn = true
	sh.UserName = p.Username
	if p.DisplayName != "" {
		sh.UserName = p.DisplayName + " (" + p.Username + ")"
	}
	if p.MustChange {
		return sh // only the password form until it is changed
	}
	sh.ScopeName = a.scopeName(r, p)
	for _, e := range nav {
		if e.perm != "" && !p.Can(e.perm) {
			continue
		}
		active := r.URL.Path == e.href || e.href != "/" && strings.HasPrefix(r.URL.Path, e.href+"/")
		sh.Nav = append(sh.Nav, web.NavItem{Key: e.key, Href: e.href, Active: active})
	}
	return sh
}

// routes builds the whole router: public endpoints, then everything else
// behind login, all inside the common middleware.
func (a *App) routes() (http.Handler, error) {
	rd := web.NewRenderer(a.shell)
	rd.SetLogger(a.Log)
	if err := rd.Register(access.Templates(), "templates/*.html", nil); err != nil {
		return nil, err
	}
	for _, fs := range []embed.FS{templates, division.Templates(), admin.Templates(), registry.Templates(), jobs.Templates(), calendar.Templates()} {
		if err := rd.Register(fs, "templates/*.html", nil); err != nil {
			return nil, err
		}
	}
	if err := rd.Register(window.Templates(), "templates/*.html", window.Funcs()); err != nil {
		return nil, err
	}
	if err := rd.Register(mediation.Templates(), "templates/*.html", mediation.Funcs()); err != nil {
		return nil, err
	}
	if err := rd.Register(open311.Templates(), "templates/*.html", nil); err != nil {
		return nil, err
	}
	if err := rd.Register(grid.Templates(), "templates/*.html", grid.Funcs()); err != nil {
		return nil, err
	}
	if err := rd.Register(governance.Templates(), "templates/*.html", governance.Funcs()); err != nil {
		return nil, err
	}
	if err := rd.Register(disclosure.Templates(), "templates/*.html", disclosure.Funcs()); err != nil {
		return nil, err
	}
	ah := &access.HTTP{S: a.Access, R: rd, SecureCookies: a.Cfg.SecureCookies}

	public := http.NewServeMux()
	public.Handle("GET /static/", web.Static())
	public.Handle("GET /lang", web.LocaleSwitch())
	public.HandleFunc("GET /healthz", a.healthz)
	public.HandleFunc("GET /readyz", a.readyz)
	ah.PublicRoutes(public)
	(&window.PublicHTTP{S: a.Window, R: rd}).Routes(public)
	(&disclosure.PublicHTTP{S: a.Disclosure, R: rd, PublicURL: a.Cfg.PublicURL, TrustProxy: a.Cfg.TrustProxy}).Routes(public)
	(&open311.HTTP{S: a.Window, G: a.Grid, BaseURL: a.Cfg.PublicURL, TrustProxy: a.Cfg.TrustProxy, Log: a.Log}).Routes(public)
	// the API answers anonymous callers with a JSON 401 itself, so it sits
	// outside RequireLogin (still inside Authenticate, which resolves tokens)
	public.Handle(api.Prefix+"/", api.New(api.Deps{Access: a.Access, Divisions: a.DivisionService, Audit: a.Audit,
		DB: a.DB, Window: a.Window, Mediation: a.Mediation, Grid: a.Grid,
		Governance: a.Governance, Disclosure: a.Disclosure, Version: a.Version, Log: a.Log}))

	private := http.NewServeMux()
	ah.Routes(private)
	private.HandleFunc("GET /{$}", a.home(rd))
	(&division.HTTP{S: a.DivisionService, R: rd}).Routes(private)
	(&registry.HTTP{S: a.Registry, R: rd}).Routes(private)
	(&registry.FilesHTTP{S: a.Registry, R: rd, Jobs: a.Jobs, Uploads: filepath.Join(a.Cfg.Data, "uploads")}).Routes(private)
	(&jobs.HTTP{R: a.Jobs, Rd: rd}).Routes(private)
	(&window.HTTP{S: a.Window, R: rd, Jobs: a.Jobs, PublicURL: a.Cfg.PublicURL, TrustProxy: a.Cfg.TrustProxy}).Routes(private)
	(&mediation.HTTP{S: a.Mediation, R: rd, PublicURL: a.Cfg.PublicURL, TrustProxy: a.Cfg.TrustProxy}).Routes(private)
	(&open311.ClientsHTTP{S: a.Window, R: rd}).Routes(private)
	(&grid.HTTP{S: a.Grid, R: rd, Jobs: a.Jobs, Map: a.Cfg.Map, PublicURL: a.Cfg.PublicURL, TrustProxy: a.Cfg.TrustProxy}).Routes(private)
	(&governance.HTTP{S: a.Governance, R: rd, PublicURL: a.Cfg.PublicURL, TrustProxy: a.Cfg.TrustProxy}).Routes(private)
	(&disclosure.HTTP{S: a.Disclosure, R: rd}).Routes(private)
	(&calendar.HTTP{S: a.Calendar, R: rd}).Routes(private)
	(&admin.HTTP{Access: a.Access, Divisions: a.DivisionService, Audit: a.Audit, Packs: a.Packs, R: rd}).Routes(private)
	private.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) { rd.Error(w, r, http.StatusNotFound, "") })
	public.Handle("/", ah.RequireLogin(private))

	csrf := http.NewCrossOriginProtection()
	// Open311 clients authenticate with an api_key in the body, never with
	// cookies, so a web app on another origin may post requests.
	csrf.AddInsecureBypassPattern("POST /open311/v2/")
	var h http.Handler = public
	h = csrf.Handler(h)
	h = ah.Authenticate(h)
	h = web.Chain(h,
		web.Recover(a.Log),
		web.RealIP(trustedProxies(a.Cfg.TrustProxy)),
		web.RequestLog(a.Log),
		web.SecurityHeaders,
		web.MaxBody(a.Cfg.MaxBody, slices.Concat([]web.Upload{registry.Upload, grid.ReportUpload, grid.ActionUpload, governance.MatterUpload},
			api.IncidentUploads, api.MatterUploads)...),
		web.Gzip,
	)
	return h, nil
}

func (a *App) healthz(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	_, _ = w.Write([]byte("ok\n"))
}

func (a *App) readyz(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	if err := a.DB.Ping(r.Context()); err != nil {
		a.Log.Warn("readiness check failed", "err", err)
		w.WriteHeader(http.StatusServiceUnavailable)
		_, _ = w.Write([]byte("database unreachable\n"))
		return
	}
	_, _ = w.Write([]byte("ok\n"))
}
