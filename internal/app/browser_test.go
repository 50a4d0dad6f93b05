package app_test

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/shequ-platform/shequ/internal/demo"
	"github.com/shequ-platform/shequ/internal/division"
	"github.com/shequ-platform/shequ/internal/platform/db/dbtest"
)

// browser starts headless Chromium (the system package) for one test. With
// SHEQU_REQUIRE_BROWSER=1 (set by make test) a missing browser fails.
func browser(t *testing.T, width, height int64) context.Context {
	t.Helper()
	path := ""
	for _, name := range []string{"chromium", "chromium-browser", "google-chrome"} {
		if p, err := exec.LookPath(name); err == nil {
			path = p
			break
		}
	}
	if path == "" {
		if os.Getenv("SHEQU_REQUIRE_BROWSER") == "1" {
			t.Fatal("Chromium not found but SHEQU_REQUIRE_BROWSER=1 (scripts/test-deps.sh installs it)")
		}
		t.Skip("Chromium not installed")
	}
	opts := append(chromedp.DefaultExecAllocatorOptions[:],
		chromedp.ExecPath(path),
		chromedp.NoSandbox,
		chromedp.DisableGPU,
		chromedp.Flag("disable-quic", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("lang", "zh-CN"),
		chromedp.Flag("accept-lang", "zh-CN,zh"),
		chromedp.UserDataDir(t.TempDir()),
		chromedp.WindowSize(int(width), int(height)),
	)
	actx, cancelA := chromedp.NewExecAllocator(context.Background(), opts...)
	ctx, cancelC := chromedp.NewContext(actx)
	t.Cleanup(func() { cancelC(); cancelA() })
	// the first run starts the browser and binds it to ctx (not to a step's timeout)
	if err := chromedp.Do(ctx); err != nil {
		t.Fatalf("start Chromium: %v", err)
	}
	return ctx
}

// shot saves a screenshot when SHEQU_SCREENSHOTS names a directory (used to
// refresh the README's pictures).
func shot(t *testing.T, ctx context.Context, name string) {
	dir := os.Getenv("SHEQU_SCREENSHOTS")
	if dir == "" {
		return
	}
	b, err := chromedp.Run(ctx, chromedp.FullScreenshot(100))
	if err != nil {
		t.Logf("screenshot %s: %v", name, err)
		return
	}
	_ = os.WriteFile(filepath.Join(dir, name+".png"), b, 0o644)
}

func must(t *testing.T, ctx context.Context, what string, steps ...chromedp.Action[chromedp.Void]) {
	t.Helper()
	sctx, cancel := context.WithTimeout(ctx, 20*time.Second)
	defer cancel()
	if err := chromedp.Do(sctx, steps...); err != nil {
		loc, _ := chromedp.Run(ctx, chromedp.Location())
		body, _ := chromedp.Run(ctx, chromedp.Text("body"))
		t.Fatalf("%s: %v (at %s)\n%s", what, err, loc, body)
	}
}

func text(t *testing.T, ctx context.Context, sel string) string {
	t.Helper()
	s, err := chromedp.Run(ctx, chromedp.Text(sel))
	if err != nil {
		t.Fatalf("text of %s: %v", sel, err)
	}
	return s
}

func location(t *testing.T, ctx context.Context) string {
	t.Helper()
	s, _ := chromedp.Run(ctx, chromedp.Location())
	return s
}

// TestBrowserJourneyFoundation walks the foundation's journeys in a real
// browser: the first admin login with the forced password change; creating
// a township account with the scope-aware division picker; that account
// cannot reach a sibling township even by editing the URL; and it creates a
// grid under one of its villages.
func TestBrowserJourneyFoundation(t *testing.T) {
	a, srv := newApp(t, dbtest.SQLite(t).Path(), false)
	bg := context.Background()
	pw, _, err := a.EnsureAdmin(bg)
	if err != nil {
		t.Fatal(err)
	}
	if err := demo.ImportDivisions(bg, a.DivisionService); err != nil {
		t.Fatal(err)
	}
	ctx := browser(t, 1280, 900)
	base := srv.URL

	// 1. first admin login, forced to change the one-time password
	must(t, ctx, "admin login",
		chromedp.Navigate(base+"/"),
		chromedp.WaitVisible("#username"),
		chromedp.SendKeys("#username", "admin"),
		chromedp.SendKeys("#password", pw),
		chromedp.Submit("#password"),
		chromedp.WaitVisible("#confirm"),
	)
	if !strings.HasSuffix(location(t, ctx), "/password") {
		t.Fatalf("not sent to the password form: %s", location(t, ctx))
	}
	shot(t, ctx, "password-change")
	must(t, ctx, "change password",
		chromedp.SendKeys("#current", pw),
		chromedp.SendKeys("#password", "tai-hu-shui-xiang-2026"),
		chromedp.SendKeys("#confirm", "tai-hu-shui-xiang-2026"),
		chromedp.Submit("#confirm"),
		chromedp.WaitVisible(".cards"),
	)

	// 2. the admin creates a township account for 羊尖镇 with the division picker
	must(t, ctx, "create township account",
		chromedp.Navigate(base+"/admin/users"),
		chromedp.WaitVisible("#create-user"),
		chromedp.SendKeys("#username", "yangjian"),
		chromedp.SendKeys("#display_name", "羊尖镇民政办"),
		chromedp.SendKeys("#password", "yang-jian-first-pw"),
		chromedp.SetValue("#role", "township_staff"),
		chromedp.SendKeys("#division-q", "羊尖镇"),
		chromedp.WaitVisible(`input[name="division"][value="320205102000000"]`),
		chromedp.Click(`input[name="division"][value="320205102000000"]`),
	)
	shot(t, ctx, "create-account")
	must(t, ctx, "submit account", chromedp.Submit("#username"), chromedp.WaitVisible("#user-created"))
	if s := text(t, ctx, "main"); !strings.Contains(s, "羊尖镇") {
		t.Fatalf("account page does not show its scope: %s", s)
	}

	// 3. the township account logs in (forced change), and cannot reach a sibling township
	must(t, ctx, "logout", chromedp.Click(".logout button"), chromedp.WaitVisible("#username"))
	must(t, ctx, "township login",
		chromedp.SendKeys("#username", "yangjian"),
		chromedp.SendKeys("#password", "yang-jian-first-pw"),
		chromedp.Submit("#password"),
		chromedp.WaitVisible("#confirm"),
		chromedp.SendKeys("#current", "yang-jian-first-pw"),
		chromedp.SendKeys("#password", "yang-jian-town-2026"),
		chromedp.SendKeys("#confirm", "yang-jian-town-2026"),
		chromedp.Submit("#confirm"),
		chromedp.WaitVisible(".cards"),
	)
	must(t, ctx, "edit the URL to a sibling township",
		chromedp.Navigate(base+"/divisions/"+division.Format(sibling)),
		chromedp.WaitVisible("main"),
	)
	if s := text(t, ctx, "body"); strings.Contains(s, "东亭") || !strings.Contains(s, "不存在") {
		t.Fatalf("sibling township page: %s", s)
	}

	// 4. it creates a grid under one of its villages
	villages, _ := a.Divisions.Children(bg, demo.Township, false)
	v := villages[0]
	must(t, ctx, "open own township tree",
		chromedp.Navigate(base+"/divisions"),
		chromedp.WaitVisible(".tree"),
	)
	shot(t, ctx, "division-tree")
	must(t, ctx, "create a grid",
		chromedp.Navigate(base+"/divisions/"+division.Format(v.Code)),
		chromedp.WaitVisible("#sub-name"),
		chromedp.SendKeys("#sub-name", "河西网格"),
		chromedp.Submit("#sub-name"),
		chromedp.WaitVisible("#rename-name"), // only a grid's own page has it
	)
	if s := text(t, ctx, "h1"); !strings.Contains(s, "河西网格") {
		t.Fatalf("grid page: %s", s)
	}
	if c := text(t, ctx, "#unit-code"); c != division.Format(v.Code+1) {
		t.Fatalf("grid code %s, want %s", c, division.Format(v.Code+1))
	}
}

// TestBrowserPhoneLayout checks the shell on a 360-px phone: no horizontal
// scrolling of the page itself, and the navigation is reachable.
func TestBrowserPhoneLayout(t *testing.T) {
	_, srv := newApp(t, dbtest.SQLite(t).Path(), true)
	ctx := browser(t, 360, 740)
	must(t, ctx, "login on a phone",
		chromedp.EmulateViewport(360, 740),
		chromedp.Navigate(srv.URL+"/login"),
		chromedp.WaitVisible("#username"),
		chromedp.SendKeys("#username", "grid"),
		chromedp.SendKeys("#password", demoPassword),
		chromedp.Submit("#password"),
		chromedp.WaitVisible(".mainnav"),
		chromedp.Navigate(srv.URL+"/divisions"),
		chromedp.WaitVisible("h1"),
	)
	shot(t, ctx, "phone")
	overflow, err := chromedp.Run(ctx, chromedp.Evaluate[bool]("document.documentElement.scrollWidth > window.innerWidth + 1"))
	if err != nil || overflow {
		t.Fatalf("page scrolls sideways on a 360-px phone (%v)", err)
	}
}
