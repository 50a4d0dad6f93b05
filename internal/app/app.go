// Package app wires Shequ together: it opens the database, loads the policy
// packs, builds every domain's handlers on one router, and serves them. It
// is the top floor beside cmd/shequ (which only parses the command line), so
// HTTP and browser tests can build exactly the router that production runs.
package app

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/netip"
	"os"
	"path/filepath"
	"time"

	"github.com/shequ-platform/shequ/internal/disclosure"
	"github.com/shequ-platform/shequ/internal/division"
	"github.com/shequ-platform/shequ/internal/governance"
	"github.com/shequ-platform/shequ/internal/grid"
	"github.com/shequ-platform/shequ/internal/grid/mediation"
	"github.com/shequ-platform/shequ/internal/platform/access"
	"github.com/shequ-platform/shequ/internal/platform/audit"
	"github.com/shequ-platform/shequ/internal/platform/calendar"
	"github.com/shequ-platform/shequ/internal/platform/db"
	"github.com/shequ-platform/shequ/internal/platform/jobs"
	"github.com/shequ-platform/shequ/internal/platform/pii"
	"github.com/shequ-platform/shequ/internal/platform/policy"
	"github.com/shequ-platform/shequ/internal/registry"
	"github.com/shequ-platform/shequ/internal/window"
	policypacks "github.com/shequ-platform/shequ/policy"
)

// Version is set by cmd/shequ from its build-time version.
var Version = "dev"

// App is a running Shequ instance's parts.
type App struct {
	Cfg    Config
	Log    *slog.Logger
	DB     *db.DB
	Audit  *audit.Log
	Access *access.Service
	Packs  *policy.Set
	// Version is the binary's version, shown in the API document.
	Version string

	DivisionService *division.Service
	Divisions       *division.Store
	Keys            *pii.Keys
	Jobs            *jobs.Runner
	Registry        *registry.Service
	Calendar        *calendar.Service
	Window          *window.Service
	Mediation       *mediation.Service
	Grid            *grid.Service
	Governance      *governance.Service
	Disclosure      *disclosure.Service

	handler http.Handler
}

// NewLogger builds the structured logger the config asks for.
func NewLogger(c Config) *slog.Logger {
	var lvl slog.Level
	_ = lvl.UnmarshalText([]byte(c.LogLevel))
	opts := &slog.HandlerOptions{Level: lvl}
	if c.LogFormat == "json" {
		return slog.New(slog.NewJSONHandler(os.Stderr, opts))
	}
	return slog.New(slog.NewTextHandler(os.Stderr, opts))
}

// LoadPacks loads the policy packs: from dir if given, else the built-in five.
func LoadPacks(dir string) (*policy.Set, error) {
	if dir != "" {
		return policy.LoadDir(dir)
	}
	return policy.Load(policypacks.FS)
}

// Open opens and migrates the database and loads the policy packs. A broken
// pack refuses to start, naming file, line and field.
func Open(ctx context.Context, cfg Config, log *slog.Logger) (*App, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	packs, err := LoadPacks(cfg.Policy)
	if err != nil {
		return nil, fmt.Errorf("policy packs:\n%w", err)
	}
	d, err := db.Open(ctx, cfg.DSN())
	if err != nil {
		return nil, err
	}
	if err := d.Migrate(ctx); err != nil {
		d.Close()
		return nil, err
	}
	a := &App{Cfg: cfg, Log: log, DB: d, Packs: packs, Version: Version}
	a.Audit = &audit.Log{DB: d}
	a.Access = access.New(d, a.Audit, access.Config{IdleTimeout: cfg.IdleTimeout, LockoutFailures: cfg.LockoutFailures, LockoutWindow: cfg.LockoutWindow})
	a.DivisionService = division.NewService(d, a.Audit, a.Access)
	a.Divisions = a.DivisionService.Store
	keys, created, err := pii.Load(cfg.KeyFile())
	if err != nil {
		d.Close()
		return nil, err
	}
	if created {
		log.Warn("created a new key file for personal data: back it up with the database, without it the encrypted ID numbers and phones cannot be read", "path", cfg.KeyFile())
	}
	a.Keys = keys
	a.Registry = registry.NewService(d, a.Audit, a.Access, keys, a.Divisions, packs)
	a.Calendar = calendar.New(d, a.Audit)
	if err := a.Calendar.Seed(audit.WithActor(ctx, audit.Actor{Name: "system", Client: "start"})); err != nil {
		d.Close()
		return nil, fmt.Errorf("working-day calendar: %w", err)
	}
	a.Window = window.NewService(d, a.Audit, a.Access, keys, a.Divisions, packs, a.Registry, a.workingDays,
		filepath.Join(cfg.Data, "attachments"))
	a.Mediation = mediation.NewService(d, a.Audit, a.Access, keys, a.Divisions, packs, a.Registry)
	a.Grid = grid.NewService(d, a.Audit, a.Access, keys, a.Divisions, packs, a.Registry, a.Calendar.Calendar,
		filepath.Join(cfg.Data, "attachments"))
	a.Governance = governance.NewService(d, a.Audit, a.Access, keys, a.Divisions, packs, a.Registry,
		filepath.Join(cfg.Data, "attachments"))
	a.Disclosure = disclosure.NewService(d, a.Audit, a.Access, a.Divisions, packs, a.Governance)
	a.Jobs = jobs.New(d, filepath.Join(cfg.Data, "jobs"), log)
	a.Jobs.Principal = a.Access.PrincipalOf
	for _, k := range append(a.Registry.JobKinds(), a.Window.JobKinds()...) {
		a.Jobs.Register(k)
	}
	h, err := a.routes()
	if err != nil {
		d.Close()
		return nil, err
	}
	a.handler = h
	return a, nil
}

// workingDays is the window's view of the official working-day calendar.
func (a *App) workingDays(ctx context.Context) (window.Calendar, error) {
	c, err := a.Calendar.Calendar(ctx)
	if err != nil {
		return nil, err
	}
	return c, nil
}

// housekeeping removes what phones left behind: photo uploads never
// attached to a report (a draft abandoned, a phone lost) after a day.
func (a *App) housekeeping(ctx context.Context) {
	t := time.NewTicker(time.Hour)
	defer t.Stop()
	for {
		if err := a.Grid.PurgeUploads(ctx, grid.UploadTTL); err != nil && ctx.Err() == nil {
			a.Log.Warn("purging stale uploads", "err", err)
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

// Close releases the database.
func (a *App) Close() error { return a.DB.Close() }

// Handler is the complete router with its middleware.
func (a *App) Handler() http.Handler { return a.handler }

// EnsureAdmin creates the first account, `admin`, on an empty database and
// returns its one-time password (which must be changed at first login).
func (a *App) EnsureAdmin(ctx context.Context) (string, bool, error) {
	n, err := a.Access.CountUsers(ctx)
	if err != nil || n > 0 {
		return "", false, err
	}
	pw := access.RandomPassword()
	ctx = audit.WithActor(ctx, audit.Actor{Name: "system", Client: "first-run"})
	if _, err := a.Access.CreateUser(ctx, nil, access.NewUser{Username: "admin", DisplayName: "系统管理员", Password: pw,
		MustChange: true, Role: "system_admin", Division: 0}); err != nil {
		return "", false, err
	}
	return pw, true, nil
}

// trustedProxies is what --trust-proxy means: believe forwarding headers
// from loopback and private-network proxies.
func trustedProxies(on bool) []netip.Prefix {
	if !on {
		return nil
	}
	var out []netip.Prefix
	for _, s := range []string{"127.0.0.0/8", "::1/128", "10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16", "fc00::/7"} {
		out = append(out, netip.MustParsePrefix(s))
	}
	return out
}

// Serve listens on the configured address until ctx ends, then shuts down
// gracefully (in-flight requests get 20 seconds). ready, if non-nil,
// receives the bound address once listening.
func (a *App) Serve(ctx context.Context, ready func(addr string)) error {
	ln, err := net.Listen("tcp", a.Cfg.Addr)
	if err != nil {
		return err
	}
	srv := &http.Server{
		Handler:           a.handler,
		ReadHeaderTimeout: 10 * time.Second,
		ReadTimeout:       60 * time.Second,
		WriteTimeout:      120 * time.Second,
		IdleTimeout:       120 * time.Second,
		ErrorLog:          slog.NewLogLogger(a.Log.Handler(), slog.LevelWarn),
	}
	if ready != nil {
		ready(ln.Addr().String())
	}
	a.Jobs.Start(ctx, 1)
	defer a.Jobs.Stop()
	go a.housekeeping(ctx)
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }()
	select {
	case err := <-errc:
		return err
	case <-ctx.Done():
	}
	a.Log.Info("shutting down")
	sctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	if err := srv.Shutdown(sctx); err != nil {
		return err
	}
	if err := <-errc; err != nil && !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	return nil
}
