package app_test

import (
	"bytes"
	"context"
	"encoding/base64"
	"fmt"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/xuri/excelize/v2"

	"github.com/shequ-platform/shequ/internal/app"
	"github.com/shequ-platform/shequ/internal/demo"
	"github.com/shequ-platform/shequ/internal/division"
	"github.com/shequ-platform/shequ/internal/platform/access"
	"github.com/shequ-platform/shequ/internal/platform/audit"
	"github.com/shequ-platform/shequ/internal/platform/db/dbtest"
	"github.com/shequ-platform/shequ/internal/platform/jobs"
	"github.com/shequ-platform/shequ/internal/registry"
	"github.com/shequ-platform/shequ/internal/registry/idnum"
)

// regOtherTownship is 东港镇, a sibling of the demo township 羊尖镇.
const regOtherTownship = int64(320205_106_000_000)

const regHeader = "户号,姓名,性别,公民身份号码,与户主关系,联系电话,户籍类型,所属村社区,住址"

// regApp is the demo app with the job runner working (the test server
// serves only the handler; Serve would start the runner).
func regApp(t *testing.T) (*app.App, string) {
	t.Helper()
	a, srv := newApp(t, dbtest.SQLite(t).Path(), true)
	a.Jobs.Start(context.Background(), 1)
	t.Cleanup(a.Jobs.Stop) // runs before the server and database close
	return a, srv.URL
}

// regID builds a valid ID number of 锡山区 for the birth day and sequence.
func regID(birth string, seq int) string {
	body := fmt.Sprintf("320205%s%03d", birth, seq)
	return body + string(idnum.CheckDigit(body))
}

// regBadCheck changes the check digit of a valid ID number.
func regBadCheck(id string) string {
	if id[17] == '0' {
		return id[:17] + "1"
	}
	return id[:17] + "0"
}

// regFile writes a CSV import file into a temporary directory.
func regFile(t *testing.T, name string, rows ...string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(p, []byte(strings.Join(append([]string{regHeader}, rows...), "\n")+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

// regRows are five residents of a village of 羊尖镇; with bad set, the
// third has a wrong check digit and the fourth an unknown population type.
func regRows(village string, bad bool) []string {
	lisi, residency := regID("19800101", 11), "户籍人口"
	if bad {
		lisi, residency = regBadCheck(lisi), "外星人口"
	}
	return []string{
		"0001,曾小明,男," + regID("19650304", 13) + ",户主,138 1234 5678,户籍人口," + village + ",羊尖镇新街12号",
		"0001,王丽,女," + regID("19670812", 24) + ",配偶,,户籍人口," + village + ",",
		"0002,李四,男," + lisi + ",户主,,户籍人口," + village + ",羊尖镇新街14号",
		"0002,李小四,男," + regID("19900101", 15) + ",子,," + residency + "," + village + ",",
		"0003,赵六,女," + regID("19720220", 32) + ",户主,,流动人口," + village + ",羊尖镇南街3号",
	}
}

// regVillage is the first village of the demo township, as the 12-digit
// statistical code people have in their spreadsheets.
func regVillage(t *testing.T, a *app.App) string {
	t.Helper()
	vs, err := a.Divisions.Children(context.Background(), demo.Township, false)
	if err != nil || len(vs) == 0 {
		t.Fatalf("villages of the demo township: %v", err)
	}
	return division.Format12(vs[0].Code)
}

func regLogin(t *testing.T, ctx context.Context, base, user, pw string) {
	t.Helper()
	must(t, ctx, "login as "+user,
		chromedp.Navigate(base+"/login"),
		chromedp.WaitVisible("#username"),
		chromedp.SendKeys("#username", user),
		chromedp.SendKeys("#password", pw),
		chromedp.Submit("#password"),
		chromedp.WaitVisible(".mainnav"),
	)
}

func regLogout(t *testing.T, ctx context.Context) {
	t.Helper()
	must(t, ctx, "logout", chromedp.Click(".logout button"), chromedp.WaitVisible("#username"))
}

// regUploadPreview uploads path on the import page and waits for the preview.
func regUploadPreview(t *testing.T, ctx context.Context, base, path string) {
	t.Helper()
	must(t, ctx, "upload "+filepath.Base(path),
		chromedp.Navigate(base+"/registry/import"),
		chromedp.WaitVisible("#f-file"),
		chromedp.SetUploadFiles(`input[name="file"]`, []string{path}),
		chromedp.Click("#upload"),
		chromedp.WaitVisible("#preview-rows"),
	)
}

var regJobPath = regexp.MustCompile(`/jobs/(\d+)$`)

// regWaitJob waits on the job page until the job has finished and the page
// has reloaded with its results; it returns the job id and the results,
// label → value.
func regWaitJob(t *testing.T, ctx context.Context) (int64, map[string]string) {
	t.Helper()
	const state = `(() => {
		const p = document.querySelector('#job-progress');
		if (!p || p.hasAttribute('hx-get')) return 'active';
		if (document.querySelector('.flash-error') || p.querySelector('.badge-danger')) return 'failed';
		return document.querySelector('dl.stats') ? 'done' : 'active';
	})()`
	deadline := time.Now().Add(15 * time.Second)
	last := ""
	for time.Now().Before(deadline) {
		sctx, cancel := context.WithTimeout(ctx, 2*time.Second)
		s, err := chromedp.Run(sctx, chromedp.Evaluate[string](state))
		cancel()
		if err == nil {
			last = s
			if s == "done" || s == "failed" {
				break
			}
		}
		time.Sleep(150 * time.Millisecond)
	}
	loc := location(t, ctx)
	m := regJobPath.FindStringSubmatch(loc)
	if last != "done" || m == nil {
		t.Fatalf("job page %s: state %q\n%s", loc, last, text(t, ctx, "main"))
	}
	id, _ := strconv.ParseInt(m[1], 10, 64)
	res, err := chromedp.Run(ctx, chromedp.Evaluate[map[string]string](`Object.fromEntries([...document.querySelectorAll('dl.stats > div')]
		.map(d => [d.querySelector('dt').textContent.trim(), d.querySelector('dd').textContent.trim()]))`))
	if err != nil {
		t.Fatalf("job results: %v", err)
	}
	return id, res
}

// regImport uploads path, starts the import from the preview and waits for
// the job's results.
func regImport(t *testing.T, ctx context.Context, base, path string) (int64, map[string]string) {
	t.Helper()
	regUploadPreview(t, ctx, base, path)
	must(t, ctx, "start the import", chromedp.Click("#start-import"), chromedp.WaitVisible("#job-progress"))
	return regWaitJob(t, ctx)
}

// regExpect checks job results (labels of the zh-CN catalogue).
func regExpect(t *testing.T, what string, got map[string]string, want map[string]string) {
	t.Helper()
	for k, v := range want {
		if got[k] != v {
			t.Fatalf("%s: %s = %q, want %q (all: %v)", what, k, got[k], v, got)
		}
	}
}

// regFetch downloads path with the browser's session (fetch in the page)
// and returns the HTTP status and body.
func regFetch(t *testing.T, ctx context.Context, path string) (int, []byte) {
	t.Helper()
	js := `(async () => {
		const r = await fetch(` + strconv.Quote(path) + `, {credentials: 'same-origin'});
		const b = new Uint8Array(await r.arrayBuffer());
		let s = '';
		for (let i = 0; i < b.length; i += 8192) s += String.fromCharCode.apply(null, b.subarray(i, i + 8192));
		return r.status + ' ' + btoa(s);
	})()`
	sctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	out, err := chromedp.Run(sctx, chromedp.Evaluate[string](js, chromedp.EvalAwaitPromise))
	if err != nil {
		t.Fatalf("fetch %s: %v", path, err)
	}
	code, b64, _ := strings.Cut(out, " ")
	n, _ := strconv.Atoi(code)
	b, err := base64.StdEncoding.DecodeString(b64)
	if err != nil {
		t.Fatalf("fetch %s: %v", path, err)
	}
	return n, b
}

// regCount counts rows of the app's database.
func regCount(t *testing.T, a *app.App, q string, args ...any) int {
	t.Helper()
	var n int
	if err := a.DB.QueryRow(context.Background(), q, args...).Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n
}

// TestBrowserRegistryImportReportFixReimport is the clerk's loop in the
// browser: a file with two bad rows is previewed (the mapping and the two
// reasons in Chinese), imported in the background (3 created, 2 refused),
// the error report downloaded and read; the fixed file imported again adds
// the two and leaves the other three unchanged.
func TestBrowserRegistryImportReportFixReimport(t *testing.T) {
	a, base := regApp(t)
	ctx := browser(t, 1280, 900)
	village := regVillage(t, a)
	regLogin(t, ctx, base, "town", demoPassword)

	// 1. upload the file with two bad rows: the preview
	regUploadPreview(t, ctx, base, regFile(t, "居民.csv", regRows(village, true)...))
	shot(t, ctx, "import-preview")
	mapping, err := chromedp.Run(ctx, chromedp.Evaluate[map[string]string](`Object.fromEntries([...document.querySelectorAll('#mapping tbody tr')]
		.map(r => [r.querySelector('th').textContent.trim(), r.querySelector('td').textContent.trim()]))`))
	if err != nil {
		t.Fatal(err)
	}
	for field, col := range map[string]string{"户号": "户号", "姓名": "姓名", "性别": "性别", "身份证号": "公民身份号码",
		"与户主关系": "与户主关系", "联系电话": "联系电话", "人口类型": "户籍类型", "所属村社区": "所属村社区", "住址": "住址"} {
		if mapping[field] != col {
			t.Fatalf("mapping: %s ← %q, want %q (all: %v)", field, mapping[field], col, mapping)
		}
	}
	if g := text(t, ctx, "#grouping"); !strings.Contains(g, "户号") {
		t.Errorf("grouping: %q", g)
	}
	bad, err := chromedp.Run(ctx, chromedp.Evaluate[[]string](`[...document.querySelectorAll('#preview-rows tbody tr.row-error')].map(r => r.textContent)`))
	if err != nil {
		t.Fatal(err)
	}
	if len(bad) != 2 || !strings.Contains(bad[0], "李四") || !strings.Contains(bad[0], "校验") ||
		!strings.Contains(bad[1], "李小四") || !strings.Contains(bad[1], "人口类型") {
		t.Fatalf("preview's refused rows: %q", bad)
	}
	if n, _ := chromedp.Run(ctx, chromedp.Evaluate[int](`document.querySelectorAll('#preview-rows tbody tr').length`)); n != 5 {
		t.Fatalf("preview shows %d rows, want 5", n)
	}

	// 2. start: the job page shows 3 created and 2 refused
	must(t, ctx, "start the import", chromedp.Click("#start-import"), chromedp.WaitVisible("#job-progress"))
	id, res := regWaitJob(t, ctx)
	shot(t, ctx, "import-job")
	regExpect(t, "first import", res, map[string]string{"读取行数": "5", "新登记": "3", "错误行": "2", "已更新": "0"})
	if n := regCount(t, a, "SELECT COUNT(*) FROM residents"); n != 3 {
		t.Fatalf("%d residents after the first import, want 3", n)
	}

	// 3. the error report: linked from the job page, downloaded with the session
	href := fmt.Sprintf("/jobs/%d/files/errors.xlsx", id)
	must(t, ctx, "report link", chromedp.WaitVisible(`.job-files a[href="`+href+`"]`))
	code, b := regFetch(t, ctx, href)
	if code != http.StatusOK {
		t.Fatalf("GET %s: %d", href, code)
	}
	x, err := excelize.OpenReader(bytes.NewReader(b))
	if err != nil {
		t.Fatalf("error report (%d bytes): %v", len(b), err)
	}
	defer x.Close()
	rows, err := x.GetRows(x.GetSheetList()[0])
	if err != nil {
		t.Fatal(err)
	}
	if len(rows) != 3 {
		t.Fatalf("error report has %d rows, want header + 2: %q", len(rows), rows)
	}
	// the original cells, then the line in the file and the reasons
	for i, want := range []struct{ name, line, reason string }{{"李四", "4", "校验"}, {"李小四", "5", "人口类型"}} {
		r := rows[i+1]
		if len(r) < 11 || r[1] != want.name || r[9] != want.line || !strings.Contains(r[10], want.reason) {
			t.Fatalf("error report row %d: %q, want %s on line %s with a reason about %s", i+1, r, want.name, want.line, want.reason)
		}
	}
	if h := rows[0]; len(h) < 11 || strings.Join(h[:9], ",") != regHeader {
		t.Fatalf("error report header: %q", h)
	}

	// 4. the fixed file: 2 created, 3 unchanged, none refused, no report
	regUploadPreview(t, ctx, base, regFile(t, "居民-改正.csv", regRows(village, false)...))
	if n, _ := chromedp.Run(ctx, chromedp.Evaluate[int](`document.querySelectorAll('#preview-rows tbody tr.row-error').length`)); n != 0 {
		t.Fatalf("fixed file: %d rows still refused in the preview\n%s", n, text(t, ctx, "#preview-rows"))
	}
	must(t, ctx, "start the second import", chromedp.Click("#start-import"), chromedp.WaitVisible("#job-progress"))
	id2, res := regWaitJob(t, ctx)
	if id2 == id {
		t.Fatal("the second import did not make a new job")
	}
	regExpect(t, "re-import", res, map[string]string{"读取行数": "5", "新登记": "2", "无变化": "3", "已更新": "0", "错误行": "0"})
	if n, _ := chromedp.Run(ctx, chromedp.Evaluate[int](`document.querySelectorAll('.job-files a').length`)); n != 0 {
		t.Fatal("a clean import offers an error report")
	}
	if n := regCount(t, a, "SELECT COUNT(*) FROM residents"); n != 5 {
		t.Fatalf("%d residents after the re-import, want 5", n)
	}
}

// regSeed imports the five residents (all valid) as the township user,
// who stays logged in.
func regSeed(t *testing.T, a *app.App, ctx context.Context, base string) {
	t.Helper()
	regLogin(t, ctx, base, "town", demoPassword)
	_, res := regImport(t, ctx, base, regFile(t, "居民.csv", regRows(regVillage(t, a), false)...))
	regExpect(t, "seed import", res, map[string]string{"新登记": "5", "错误行": "0"})
}

// regSearch types q into the registry's live search and waits for the
// results fragment to answer that query.
func regSearch(t *testing.T, ctx context.Context, base, q, waitFor string) {
	t.Helper()
	must(t, ctx, "live search "+q,
		chromedp.Navigate(base+"/registry"),
		chromedp.WaitVisible("#registry-q"),
		chromedp.SendKeys("#registry-q", q),
		chromedp.WaitVisible(waitFor),
	)
	if loc := location(t, ctx); !strings.Contains(loc, "q="+url.QueryEscape(q)) {
		t.Errorf("live search did not push its URL: %s", loc)
	}
}

// TestBrowserRegistrySearchByInitials: after an import, typing the
// initials of a name (曾小明 → zxm) in the one search box finds the person.
func TestBrowserRegistrySearchByInitials(t *testing.T) {
	a, base := regApp(t)
	ctx := browser(t, 1280, 900)
	regSeed(t, a, ctx, base)

	hit := `#registry-results tbody a[href^="/registry/residents/"]`
	regSearch(t, ctx, base, "zxm", hit)
	shot(t, ctx, "registry-search")
	names, err := chromedp.Run(ctx, chromedp.Evaluate[[]string](`[...document.querySelectorAll('#registry-results tbody tr')].map(r => r.textContent)`))
	if err != nil {
		t.Fatal(err)
	}
	if len(names) != 1 || !strings.Contains(names[0], "曾小明") || !strings.Contains(names[0], "羊尖镇新街12号") {
		t.Fatalf("search zxm: %q", names)
	}
	// the ID number is masked in the list
	if strings.Contains(names[0], regID("19650304", 13)) {
		t.Fatal("search result shows the full ID number")
	}
	// the result leads to the resident's page
	must(t, ctx, "open the hit", chromedp.Click(hit), chromedp.WaitVisible("h1"))
	if s := text(t, ctx, "main"); !strings.Contains(s, "曾小明") {
		t.Fatalf("resident page: %s", s)
	}
}

// regSeedJob imports the five residents (all valid) as the demo township
// user, through the job runner without the browser, and returns the URLs
// of 曾小明 and of his household.
func regSeedJob(t *testing.T, a *app.App) (resident, household string) {
	t.Helper()
	bg := audit.WithActor(context.Background(), audit.Actor{Name: "town", Client: "test"})
	u, err := a.Access.UserByName(bg, "town")
	if err != nil {
		t.Fatal(err)
	}
	p, err := a.Access.PrincipalOf(bg, u.ID)
	if err != nil {
		t.Fatal(err)
	}
	j, err := a.Jobs.RunNow(bg, p, jobs.Spec{Kind: registry.JobImport, Division: demo.Township,
		Params: registry.ImportParams{Division: demo.Township, Mode: registry.ModeValidRows, Locale: "zh-CN"},
		Input:  regFile(t, "居民.csv", regRows(regVillage(t, a), false)...)}, nil)
	if err != nil || j.Status != jobs.Done {
		t.Fatalf("seed import: %v %+v", err, j)
	}
	var rid, hid int64
	if err := a.DB.QueryRow(bg, "SELECT id, household_id FROM residents WHERE name = ?", "曾小明").Scan(&rid, &hid); err != nil {
		t.Fatal(err)
	}
	return fmt.Sprintf("/registry/residents/%d", rid), fmt.Sprintf("/registry/households/%d", hid)
}

// TestBrowserRegistryScope: a user of another township does not find the
// residents of 羊尖镇 (by initials or by name), gets the 404 page on their
// URLs, and cannot export 羊尖镇 even by editing the form; exporting their
// own township works.
func TestBrowserRegistryScope(t *testing.T) {
	a, base := regApp(t)
	bg := audit.WithActor(context.Background(), audit.Actor{Name: "test", Client: "test"})
	const otherPW = "dong-gang-town-2026"
	if _, err := a.Access.CreateUser(bg, nil, access.NewUser{Username: "donggang", DisplayName: "东港镇便民服务中心",
		Password: otherPW, Role: "township_staff", Division: regOtherTownship}); err != nil {
		t.Fatal(err)
	}
	resident, household := regSeedJob(t, a)
	ctx := browser(t, 1280, 900)

	// the township's own user finds him (the control for what follows)
	regLogin(t, ctx, base, "town", demoPassword)
	regSearch(t, ctx, base, "zxm", `#registry-results tbody a[href="`+resident+`"]`)
	regLogout(t, ctx)

	// the other township's user
	regLogin(t, ctx, base, "donggang", otherPW)
	regSearch(t, ctx, base, "zxm", "#registry-no-results")
	must(t, ctx, "search by name",
		chromedp.Navigate(base+"/registry?q="+url.QueryEscape("曾小明")),
		chromedp.WaitVisible("#registry-no-results"),
	)
	for _, p := range []string{resident, household} {
		resp, err := chromedp.Run(ctx, chromedp.NavigateResponse(base+p))
		if err != nil {
			t.Fatal(err)
		}
		body := text(t, ctx, "body")
		if resp.Status != http.StatusNotFound || !strings.Contains(body, "不存在") || strings.Contains(body, "曾小明") {
			t.Fatalf("%s for another township: %d\n%s", p, resp.Status, body)
		}
	}

	// export: the picker does not offer 羊尖镇; a form edited to name it is refused
	must(t, ctx, "export form",
		chromedp.Navigate(base+"/registry/export"),
		chromedp.WaitVisible("#start-export"),
		chromedp.SendKeys("#division-q", "羊尖"),
		chromedp.WaitVisible("#picker-results p.muted"),
	)
	if s := text(t, ctx, "#picker-results"); strings.Contains(s, "羊尖") {
		t.Fatalf("picker offers another township: %s", s)
	}
	must(t, ctx, "export 羊尖镇 by editing the form",
		chromedp.Evaluate[chromedp.Void](`document.querySelector('input[name="division"]:checked').value = '`+strconv.FormatInt(demo.Township, 10)+`'`),
		chromedp.Click("#start-export"),
		chromedp.WaitVisible("#err-division"),
	)
	if loc := location(t, ctx); !strings.HasSuffix(loc, "/registry/export") {
		t.Fatalf("refused export left the form: %s", loc)
	}
	if n := regCount(t, a, "SELECT COUNT(*) FROM jobs WHERE kind = 'registry.export'"); n != 0 {
		t.Fatalf("a refused export made %d jobs", n)
	}

	// exporting the own township works
	must(t, ctx, "export own township",
		chromedp.Navigate(base+"/registry/export"),
		chromedp.WaitVisible("#start-export"),
		chromedp.Click("#start-export"),
		chromedp.WaitVisible("#job-progress"),
	)
	id, res := regWaitJob(t, ctx)
	regExpect(t, "own export", res, map[string]string{"导出行数": "0"})
	if n := regCount(t, a, "SELECT COUNT(*) FROM jobs WHERE kind = 'registry.export' AND division = ? AND status = 'done'", regOtherTownship); n != 1 {
		t.Fatalf("%d finished exports of 东港镇, want 1", n)
	}
	must(t, ctx, "export file link", chromedp.WaitVisible(fmt.Sprintf(`.job-files a[href^="/jobs/%d/files/"]`, id)))
}
