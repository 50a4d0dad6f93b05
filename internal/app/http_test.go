package app_test

import (
	"context"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/shequ-platform/shequ/internal/demo"
	"github.com/shequ-platform/shequ/internal/division"
	"github.com/shequ-platform/shequ/internal/platform/audit"
	"github.com/shequ-platform/shequ/internal/platform/db/dbtest"
	"github.com/shequ-platform/shequ/internal/platform/ids"
)

const sibling = int64(320205001000000) // 东亭街道, a sibling of the demo township 羊尖镇

func TestHealthAndLoginPages(t *testing.T) {
	dbtest.DSNs(t, func(t *testing.T, dsn string) {
		_, srv := newApp(t, dsn, false)
		c := newClient(t, srv)
		for _, p := range []string{"/healthz", "/readyz"} {
			if code, body, _ := c.get(p); code != 200 || !strings.Contains(body, "ok") {
				t.Fatalf("%s: %d %s", p, code, body)
			}
		}
		if code, _, h := c.get("/divisions"); code != http.StatusSeeOther || !strings.HasPrefix(h.Get("Location"), "/login") {
			t.Fatalf("anonymous not sent to login: %d %s", code, h.Get("Location"))
		}
		code, body, _ := c.get("/login")
		if code != 200 || !strings.Contains(body, `lang="zh-CN"`) || !strings.Contains(body, "登录") {
			t.Fatalf("login page zh: %d", code)
		}
		req, _ := http.NewRequest("GET", srv.URL+"/login", nil)
		req.AddCookie(&http.Cookie{Name: "lang", Value: "en"})
		if code, body, _ := c.do(req); code != 200 || !strings.Contains(body, `lang="en"`) || !strings.Contains(body, "Sign in") {
			t.Fatalf("login page en: %d", code)
		}
	})
}

func TestFirstRunAdminMustChangePassword(t *testing.T) {
	dbtest.DSNs(t, func(t *testing.T, dsn string) {
		a, srv := newApp(t, dsn, false)
		pw, created, err := a.EnsureAdmin(context.Background())
		if err != nil || !created || len(pw) < 10 {
			t.Fatalf("first run: %v %v", created, err)
		}
		if _, again, _ := a.EnsureAdmin(context.Background()); again {
			t.Fatal("admin created twice")
		}
		c := newClient(t, srv)
		code, _, h := c.post("/login", url.Values{"username": {"admin"}, "password": {pw}})
		if code != http.StatusSeeOther || h.Get("Location") != "/password" {
			t.Fatalf("forced change not asked: %d %s", code, h.Get("Location"))
		}
		if code, _, h := c.get("/divisions"); code != http.StatusSeeOther || h.Get("Location") != "/password" {
			t.Fatalf("other pages reachable before the change: %d %s", code, h.Get("Location"))
		}
		code, body, _ := c.post("/password", url.Values{"current": {pw}, "password": {"admin"}, "confirm": {"admin"}})
		if code != http.StatusUnprocessableEntity || !strings.Contains(body, "field-error") {
			t.Fatalf("weak password accepted: %d", code)
		}
		code, _, h = c.post("/password", url.Values{"current": {pw}, "password": {"tai-hu-bian-de-cun"}, "confirm": {"tai-hu-bian-de-cun"}})
		if code != http.StatusSeeOther || h.Get("Location") != "/" {
			t.Fatalf("change: %d %s", code, h.Get("Location"))
		}
		if code, _, _ := c.get("/admin/users"); code != 200 {
			t.Fatalf("after change: %d", code)
		}
	})
}

func TestScopeIsolationAndGrids(t *testing.T) {
	dbtest.DSNs(t, func(t *testing.T, dsn string) {
		a, srv := newApp(t, dsn, true)
		ctx := context.Background()
		c := newClient(t, srv)
		c.login("town", demoPassword)
		if code, body, _ := c.get("/divisions/" + division.Format(demo.Township)); code != 200 || !strings.Contains(body, "羊尖镇") {
			t.Fatalf("own township: %d", code)
		}
		codeSib, bodySib, _ := c.get("/divisions/" + division.Format(sibling))
		codeNone, bodyNone, _ := c.get("/divisions/320205999000000")
		// the pages differ only by the requested path echoed in the language links
		bodySib = strings.ReplaceAll(bodySib, division.Format(sibling), "X")
		bodyNone = strings.ReplaceAll(bodyNone, "320205999000000", "X")
		if codeSib != 404 || codeNone != 404 || bodySib != bodyNone || strings.Contains(bodySib, "东亭") {
			t.Fatalf("sibling township reachable or distinguishable: %d/%d", codeSib, codeNone)
		}
		if code, _, _ := c.get("/divisions/" + division.Format(sibling) + "/children"); code != 404 {
			t.Fatalf("sibling children: %d", code)
		}
		if code, body, _ := c.get("/divisions/search?q=东亭"); code != 200 || strings.Contains(body, "东亭街道</a>") {
			t.Fatal("search leaks a sibling township")
		}
		denied, err := a.Audit.List(ctx, audit.Filter{Actor: "town", Action: audit.Denied})
		if err != nil || len(denied) < 2 {
			t.Fatalf("denials not audited: %d %v", len(denied), err)
		}
		// the township creates a grid under one of its villages; facts follow
		villages, _ := a.Divisions.Children(ctx, demo.Township, false)
		v := villages[len(villages)-1]
		before, _ := a.DivisionService.Counts(ctx, demo.Township)
		code, _, h := c.post("/divisions/"+division.Format(v.Code)+"/subs", url.Values{"kind": {"grid"}, "name": {"滨河网格"}})
		if code != http.StatusSeeOther || !strings.HasPrefix(h.Get("Location"), "/divisions/") {
			t.Fatalf("create grid: %d", code)
		}
		after, _ := a.DivisionService.Counts(ctx, demo.Township)
		if after.Grids != before.Grids+1 {
			t.Fatalf("grid fact: %d -> %d", before.Grids, after.Grids)
		}
		code, body, _ := c.post("/divisions/"+division.Format(v.Code)+"/subs", url.Values{"kind": {"grid"}, "name": {"滨河网格"}})
		if code != http.StatusUnprocessableEntity || !strings.Contains(body, "field-error") {
			t.Fatalf("duplicate grid name: %d", code)
		}
		// nothing under the sibling township, even by a hand-made POST
		sibVillages, _ := a.Divisions.Children(ctx, sibling, false)
		if code, _, _ := c.post("/divisions/"+division.Format(sibVillages[0].Code)+"/subs", url.Values{"kind": {"grid"}, "name": {"越权网格"}}); code != 404 {
			t.Fatalf("grid created outside scope: %d", code)
		}
		// every county figure equals the sum of its townships
		county, _ := a.DivisionService.Counts(ctx, demo.County)
		var sum int64
		towns, _ := a.Divisions.Children(ctx, demo.County, false)
		for _, tw := range towns {
			cnt, _ := a.DivisionService.Counts(ctx, tw.Code)
			sum += cnt.Grids
		}
		if county.Grids != sum || county.Villages != 120 || county.Townships != 9 {
			t.Fatalf("county %+v, sum of townships %d", county, sum)
		}
		_ = ids.Max
	})
}

func TestBadRequests(t *testing.T) {
	_, srv := newApp(t, dbtest.SQLite(t).Path(), true)
	c := newClient(t, srv)
	// a tampered session cookie is simply not a session
	req, _ := http.NewRequest("GET", srv.URL+"/divisions", nil)
	req.AddCookie(&http.Cookie{Name: "shequ_session", Value: "forged-value"})
	code, _, h := c.do(req)
	if code != http.StatusSeeOther || !strings.HasPrefix(h.Get("Location"), "/login") || !strings.Contains(h.Get("Location"), "expired=1") {
		t.Fatalf("forged or expired cookie: %d %s", code, h.Get("Location"))
	}
	if code, body, _ := c.get(h.Get("Location")); code != 200 || !strings.Contains(body, "已自动退出") {
		t.Fatalf("login page does not say the session ended: %d", code)
	}
	// wrong password: a clear message, no hint which part was wrong
	code, body, _ := c.post("/login", url.Values{"username": {"town"}, "password": {"wrong-password"}})
	if code != http.StatusUnauthorized || !strings.Contains(body, "用户名或密码错误") {
		t.Fatalf("wrong password: %d", code)
	}
	c.login("county", demoPassword)
	// a cross-site form post is refused (CSRF)
	req, _ = http.NewRequest("POST", srv.URL+"/logout", nil)
	req.Header.Set("Sec-Fetch-Site", "cross-site")
	if code, _, _ := c.do(req); code != http.StatusForbidden {
		t.Fatalf("cross-site post: %d", code)
	}
	// an oversized body is refused with 413
	big := url.Values{"name": {strings.Repeat("x", 2<<20)}}
	if code, body, _ := c.post("/account/tokens", big); code != http.StatusRequestEntityTooLarge || strings.Contains(body, "goroutine") {
		t.Fatalf("oversized body: %d", code)
	}
	// unknown pages are a friendly 404 without internals
	if code, body, _ := c.get("/no/such/page"); code != 404 || strings.Contains(body, "goroutine") {
		t.Fatalf("404: %d", code)
	}
}

// TestDemoAccountsSeeTheirSubtree logs in as each demo account: its tree
// starts at its own scope, and a unit just outside that scope is "not found".
func TestDemoAccountsSeeTheirSubtree(t *testing.T) {
	a, srv := newApp(t, dbtest.SQLite(t).Path(), true)
	ctx := context.Background()
	accounts := demo.Accounts(ctx, a.Access, a.Divisions)
	if len(accounts) != 6 {
		t.Fatalf("demo accounts: %d", len(accounts))
	}
	outside := map[string]int64{
		"county":  320206000000000, // 惠山区, the neighbouring county
		"viewer":  320206000000000,
		"town":    sibling,
		"village": demo.Township + 999_000, // a village code of the same township that is not its own
		"grid":    0,
	}
	for _, acc := range accounts {
		c := newClient(t, srv)
		c.login(acc.Username, demoPassword)
		code, _, h := c.get("/divisions")
		want := "/divisions/" + division.Format(acc.Division)
		if acc.Division == 0 {
			want = "/divisions/0"
		}
		if code != http.StatusSeeOther || h.Get("Location") != want {
			t.Errorf("%s: tree starts at %s, want %s", acc.Username, h.Get("Location"), want)
			continue
		}
		if code, body, _ := c.get(want); code != 200 || !strings.Contains(body, acc.DivisionName) && acc.Division != 0 {
			t.Errorf("%s: own scope page %d", acc.Username, code)
		}
		if o, ok := outside[acc.Username]; ok {
			if acc.Username == "grid" {
				o = acc.Division + 1 // the next grid of the same village
			}
			if code, _, _ := c.get("/divisions/" + division.Format(o)); code != 404 {
				t.Errorf("%s reaches %d outside its scope: %d", acc.Username, o, code)
			}
		}
	}
}
