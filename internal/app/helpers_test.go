package app_test

import (
	"context"
	"io"
	"log/slog"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/shequ-platform/shequ/internal/app"
	"github.com/shequ-platform/shequ/internal/demo"
)

const demoPassword = "demo-pass-for-tests"

// newApp opens the real app on dsn with the demo jurisdiction and serves it.
func newApp(t *testing.T, dsn string, withDemo bool) (*app.App, *httptest.Server) {
	t.Helper()
	cfg := app.Config{Data: t.TempDir(), DB: dsn, IdleTimeout: 30 * time.Minute, LockoutFailures: 5,
		LockoutWindow: 15 * time.Minute, MaxBody: 1 << 20, LogFormat: "text", LogLevel: "error"}
	a, err := app.Open(context.Background(), cfg, slog.New(slog.NewTextHandler(io.Discard, nil)))
	if err != nil {
		t.Fatal(err)
	}
	if withDemo {
		if _, err := demo.Build(context.Background(), a.DivisionService, a.Access, demo.Options{Password: demoPassword, Seed: 1}); err != nil {
			t.Fatal(err)
		}
	}
	srv := httptest.NewServer(a.Handler())
	t.Cleanup(func() { srv.Close(); a.Close() })
	return a, srv
}

// client is a browser-like HTTP client: cookies, no automatic redirects.
type client struct {
	t    *testing.T
	base string
	hc   *http.Client
}

func newClient(t *testing.T, srv *httptest.Server) *client {
	jar, _ := cookiejar.New(nil)
	return &client{t: t, base: srv.URL, hc: &http.Client{Jar: jar, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}}
}

func (c *client) do(req *http.Request) (int, string, http.Header) {
	c.t.Helper()
	resp, err := c.hc.Do(req)
	if err != nil {
		c.t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b), resp.Header
}

func (c *client) get(path string) (int, string, http.Header) {
	req, _ := http.NewRequest("GET", c.base+path, nil)
	return c.do(req)
}

func (c *client) post(path string, form url.Values) (int, string, http.Header) {
	req, _ := http.NewRequest("POST", c.base+path, strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	return c.do(req)
}

func (c *client) login(user, pw string) {
	c.t.Helper()
	code, body, h := c.post("/login", url.Values{"username": {user}, "password": {pw}})
	if code != http.StatusSeeOther {
		c.t.Fatalf("login %s: %d %s", user, code, body)
	}
	_ = h
}
