package disclosure_test

import (
	"bytes"
	"context"
	"html"
	"net/http"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/shequ-platform/shequ/internal/disclosure"
	"github.com/shequ-platform/shequ/internal/platform/access"
	"github.com/shequ-platform/shequ/internal/platform/audit"
	"github.com/shequ-platform/shequ/internal/platform/db"
	"github.com/shequ-platform/shequ/internal/platform/db/dbtest"
	"github.com/shequ-platform/shequ/internal/platform/facts"
	"github.com/shequ-platform/shequ/internal/platform/web"
)

type webEnv struct {
	*fixture
	h http.Handler
}

// portalA is village A's portal: its 12-digit code.
const portalA = "/public/320205001001"

func newWeb(t *testing.T, d *db.DB) *webEnv {
	t.Helper()
	f := newFixture(t, d)
	rd := web.NewRenderer(nil)
	if err := rd.Register(disclosure.Templates(), "templates/*.html", disclosure.Funcs()); err != nil {
		t.Fatal(err)
	}
	mux := http.NewServeMux()
	mux.Handle("GET /static/", web.Static())
	(&disclosure.PublicHTTP{S: f.svc, R: rd, PublicURL: "https://shequ.example.cn"}).Routes(mux)
	(&disclosure.HTTP{S: f.svc, R: rd}).Routes(mux)
	return &webEnv{fixture: f, h: mux}
}

// serve answers one request as p (nil: anonymous) in lang (zh-CN when
// empty), with cookies.
func (e *webEnv) serve(p *access.Principal, method, target string, form url.Values, lang string, cookies ...*http.Cookie) *httptest.ResponseRecorder {
	e.t.Helper()
	var req *http.Request
	if form != nil {
		req = httptest.NewRequest(method, target, strings.NewReader(form.Encode()))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	} else {
		req = httptest.NewRequest(method, target, nil)
	}
	if lang == "" {
		lang = "zh-CN"
	}
	req.Header.Set("Accept-Language", lang)
	for _, c := range cookies {
		req.AddCookie(c)
	}
	ctx := context.Background()
	if p != nil {
		ctx = audit.WithActor(access.WithPrincipal(ctx, p), audit.Actor{ID: p.UserID, Name: p.Username})
	}
	w := httptest.NewRecorder()
	e.h.ServeHTTP(w, req.WithContext(ctx))
	return w
}

func (e *webEnv) get(p *access.Principal, target string) (int, string) {
	w := e.serve(p, http.MethodGet, target, nil, "")
	return w.Code, w.Body.String()
}

// text is a page with tags removed and entities decoded.
func text(page string) string {
	return html.UnescapeString(regexp.MustCompile(`<[^>]*>`).ReplaceAllString(page, ""))
}

// noPersonalData fails when a page shows an ID number, a phone or the
// address of the fixture's residents, in full or masked.
func (e *webEnv) noPersonalData(page string) {
	e.t.Helper()
	for _, s := range []string{idZhang, idLi, idZhang[14:], phoneZhang, phoneLi, phoneZhang[7:], "138****", addrZhang} {
		if strings.Contains(page, s) {
			e.t.Fatalf("the page shows %q", s)
		}
	}
}

// activity gives village A a little of everything the portal shows: a
// body with members, a held meeting with a resolution and a scheduled one,
// matters (one being implemented with a photo, one at its evaluation, a
// goal), a counted election, a document, notices and a statement, entries
// and a budget, the window's and the grid's facts.
type activity struct {
	implementing, evaluating string // matter numbers
	photo                    int64
	notice                   disclosure.Notice
	statement                disclosure.Notice
}

func (e *webEnv) activity() activity {
	e.t.Helper()
	f := e.fixture
	var a activity
	reps := f.govBody(villageA, "representatives", "门楼社区居民代表会议",
		map[string]string{"张三": "representative", "李四": "representative"}, map[string]int64{"张三": f.zhang.ID, "李四": f.li.ID})
	mid := f.govMeeting(villageA, reps, 20261015, "十月居民代表会议", "修缮门楼路", "同意投入五万元修缮门楼路")
	f.govScheduled(villageA, reps, 20261205, "十二月居民代表会议")
	a.implementing, a.evaluating = "YS320205001001-2026-001", "YS320205001001-2026-002"
	m1 := f.govMatter(villageA, a.implementing, "修缮门楼路", "implement", "open", 20260901, 0, 60,
		map[string]int{"assign": 20261016, "implement": 20261101})
	f.govMatter(villageA, a.evaluating, "安装路灯", "evaluate", "open", 20260301, 0, 100, map[string]int{"complete": 20260930})
	if _, err := f.d.Exec(f.ctx, "UPDATE gov_matters SET goal_year = 2026 WHERE id = ?", m1); err != nil {
		e.t.Fatal(err)
	}
	// a photo of the implement step
	var step int64
	if err := f.d.QueryRow(f.ctx, "SELECT id FROM gov_matter_steps WHERE matter_id = ? AND action = 'implement'", m1).Scan(&step); err != nil {
		e.t.Fatal(err)
	}
	png := []byte("\x89PNG\r\n\x1a\n" + strings.Repeat("\x00", 64))
	sf, err := f.gov.Files.Seal("governance", step, png, "image/png")
	if err != nil {
		e.t.Fatal(err)
	}
	if a.photo, err = f.d.InsertID(f.ctx, "INSERT INTO gov_step_photos (step_id, path, mime, size) VALUES (?,?,?,?)",
		step, sf.Rel, "image/png", len(png)); err != nil {
		e.t.Fatal(err)
	}
	now := f.now.UnixMilli()
	el, err := f.d.InsertID(f.ctx, `INSERT INTO gov_elections (county, division, body_kind, title, day, seats, state, voters, voted,
		ballots, created_at, updated_at) VALUES (?,?,?,?,?,?,?,?,?,?,?,?)`,
		county, villageA, "representatives", "第十二届居委会换届选举", 20260520, 1, "counted", 30, 29, 29, now, now)
	if err != nil {
		e.t.Fatal(err)
	}
	for _, c := range []struct {
		id      int64
		name    string
		votes   int
		elected int
	}{{f.zhang.ID, "张三", 20, 1}, {f.li.ID, "李四", 9, 0}} {
		if _, err := f.d.Exec(f.ctx, `INSERT INTO gov_candidates (election_id, resident_id, name, gender, residency, votes, elected)
			VALUES (?,?,?,?,?,?,?)`, el, c.id, c.name, "M", "registered", c.votes, c.elected); err != nil {
			e.t.Fatal(err)
		}
	}
	doc, err := f.d.InsertID(f.ctx, `INSERT INTO gov_documents (county, division, kind, title, created_at) VALUES (?,?,?,?,?)`,
		county, villageA, "charter", "门楼社区居民自治章程", now)
	if err != nil {
		e.t.Fatal(err)
	}
	var agenda int64
	if err := f.d.QueryRow(f.ctx, "SELECT id FROM gov_agenda WHERE meeting_id = ?", mid).Scan(&agenda); err != nil {
		e.t.Fatal(err)
	}
	if _, err := f.d.Exec(f.ctx, `INSERT INTO gov_document_versions (document_id, version, body, meeting_id, agenda_id, adopted_day,
		created_at) VALUES (?,?,?,?,?,?,?)`, doc, 1, "第一条 为了规范社区居民自治……", mid, agenda, 20261015, now); err != nil {
		e.t.Fatal(err)
	}
	f.entry("admin", "grant", "2026-10-08", "50000")
	f.entry("admin", "office", "2026-10-20", "1200")
	if _, err := f.svc.SetBudgets(f.ctx, f.villageStaffA, villageA, 2026, map[string]string{"admin/grant": "100000", "admin/office": "5000"}); err != nil {
		e.t.Fatal(err)
	}
	if a.statement, err = f.svc.PublishStatement(f.ctx, f.villageStaffA, villageA, "2026-10"); err != nil {
		e.t.Fatal(err)
	}
	if a.notice, err = f.svc.Publish(f.ctx, f.villageStaffA, disclosure.NoticeInput{Village: villageA, Item: "affairs", Period: "2026-11",
		Title: "关于门楼路施工期间绕行的通知", Body: "施工期间请绕行。"}); err != nil {
		e.t.Fatal(err)
	}
	// the window's and the grid's figures: A this year, a grid of A, A last
	// year and village C (neither counts)
	for _, x := range []struct {
		div    int64
		period int
		metric string
		n      int64
	}{
		{villageA, 202603, "window.accepted", 40}, {villageA, 202611, "window.accepted", 2}, {villageA, 202611, "window.completed", 38},
		{villageA, 202611, "window.on_time", 19}, {villageA + 2, 202605, "grid.reported", 25}, {villageA + 2, 202605, "grid.closed", 20},
		{villageA + 2, 202605, "grid.closed.village", 15}, {villageA, 202512, "window.accepted", 1000}, {villageC, 202605, "grid.reported", 777},
	} {
		if err := facts.Add(f.ctx, f.d, x.div, x.period, x.metric, x.n); err != nil {
			e.t.Fatal(err)
		}
	}
	return a
}

func TestPortalWithoutLogin(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		e := newWeb(t, d)
		a := e.activity()
		w := e.serve(nil, http.MethodGet, portalA, nil, "")
		page := w.Body.String()
		if w.Code != http.StatusOK {
			t.Fatalf("portal: %d\n%s", w.Code, page)
		}
		if cc := w.Header().Get("Cache-Control"); cc != "public, max-age=60" {
			t.Fatalf("Cache-Control %q", cc)
		}
		if len(page) > 60<<10 {
			t.Fatalf("the page is %d bytes", len(page))
		}
		if strings.Contains(page, "<script") || !strings.Contains(page, "/static/pub.css") || strings.Contains(page, "app.css") {
			t.Fatal("the portal loads a script or another stylesheet")
		}
		txt := text(page)
		for _, want := range []string{
			"门楼社区居委会 村务公开", "东亭街道",
			"关于门楼路施工期间绕行的通知", "2026-11-23 公开", // a notice with its publication date
			"修缮门楼路", "同意投入五万元修缮门楼路", "2026-10-15 表决", "赞成 22、反对 2、弃权 1", // a resolution
			"组织实施", "完成 60%", "2026-09-01 提出", // a matter and its stage
			"十二月居民代表会议", "2026-12-05", // an upcoming meeting
			"门楼社区居民代表会议", "代表 张三", "代表 李四", // a body's members
			"门楼社区居民自治章程", "第 1 版", "2026-10-15 通过", // a document
			"第十二届居委会换届选举", "当选：张三", "参选 29 人，选民 30 人", // an election
			"2026年10月财务收支公开", "行政账 收入 50,000.00 / 支出 1,200.00", // the statement's summary
			"2026年预算执行", "50,000.00", "100,000.00", // budget against actual
			"按期公开",
		} {
			if !strings.Contains(txt, want) {
				t.Errorf("the portal lacks %q", want)
			}
		}
		for id, want := range map[string]string{"fig-accepted": "42", "fig-completed": "38", "fig-on-time": "50.0%", "fig-reported": "25",
			"fig-closed": "20", "fig-closed-village": "15"} {
			if m := regexp.MustCompile(`id="` + id + `">([^<]*)<`).FindStringSubmatch(page); m == nil || m[1] != want {
				t.Errorf("%s = %v, want %s", id, m, want)
			}
		}
		if !strings.Contains(page, `href="`+portalA+`/matters/`+a.implementing+`"`) || !strings.Contains(page, `href="`+portalA+`/notices/`+
			strconv.FormatInt(a.notice.ID, 10)+`"`) || !strings.Contains(page, `href="`+portalA+`/calendar.ics"`) {
			t.Fatal("links missing")
		}
		e.noPersonalData(page)

		// English
		w = e.serve(nil, http.MethodGet, portalA, nil, "en")
		if w.Code != http.StatusOK || !strings.Contains(w.Body.String(), "open village affairs") || !strings.Contains(w.Body.String(), `lang="en"`) {
			t.Fatalf("English: %d", w.Code)
		}

		// sub-pages
		code, page := e.get(nil, portalA+"/notices/"+strconv.FormatInt(a.statement.ID, 10))
		if code != http.StatusOK || !strings.Contains(text(page), "办公经费") || !strings.Contains(page, "1,200.00") {
			t.Fatalf("statement page: %d", code)
		}
		code, page = e.get(nil, portalA+"/notices/"+strconv.FormatInt(a.notice.ID, 10))
		if code != http.StatusOK || !strings.Contains(page, "施工期间请绕行。") {
			t.Fatalf("notice page: %d", code)
		}
		code, page = e.get(nil, portalA+"/matters/"+a.implementing)
		if code != http.StatusOK || !strings.Contains(page, `aria-current="step"`) || !strings.Contains(page, "进展：implement") ||
			!strings.Contains(page, portalA+"/photos/"+strconv.FormatInt(a.photo, 10)) || !strings.Contains(page, `name="comment"`) ||
			strings.Contains(page, `name="score" value="5"`) {
			t.Fatalf("matter page: %d\n%s", code, page)
		}
		e.noPersonalData(page)
		w = e.serve(nil, http.MethodGet, portalA+"/photos/"+strconv.FormatInt(a.photo, 10), nil, "")
		if w.Code != http.StatusOK || w.Header().Get("Content-Type") != "image/png" || !bytes.HasPrefix(w.Body.Bytes(), []byte("\x89PNG")) {
			t.Fatalf("photo: %d %q", w.Code, w.Header().Get("Content-Type"))
		}
		var doc int64
		if err := d.QueryRow(e.ctx, "SELECT id FROM gov_documents").Scan(&doc); err != nil {
			t.Fatal(err)
		}
		code, page = e.get(nil, portalA+"/documents/"+strconv.FormatInt(doc, 10))
		if code != http.StatusOK || !strings.Contains(page, "第一条 为了规范社区居民自治") {
			t.Fatalf("document: %d", code)
		}
		// a notice, matter or photo of village A under village C's address
		for _, p := range []string{"/notices/" + strconv.FormatInt(a.notice.ID, 10), "/matters/" + a.implementing,
			"/photos/" + strconv.FormatInt(a.photo, 10), "/documents/" + strconv.FormatInt(doc, 10)} {
			if code, _ := e.get(nil, "/public/320205001002"+p); code != http.StatusNotFound {
				t.Errorf("village C %s: %d", p, code)
			}
		}
	})
}

func TestPortalNotFound(t *testing.T) {
	e := newWeb(t, dbtest.SQLite(t))
	for _, code := range []string{
		"320205001000",    // a township
		"320205000000",    // the county
		"320205001009",    // no such village
		"32020500100",     // 11 digits
		"320205001001000", // the 15-digit division code
		"abcdefghijkl",
		"-20205001001",
	} {
		w := e.serve(nil, http.MethodGet, "/public/"+code, nil, "")
		if w.Code != http.StatusNotFound || !strings.Contains(w.Body.String(), "没有这个村（社区）的公开网页") {
			t.Errorf("%s: %d", code, w.Code)
		}
		if cc := w.Header().Get("Cache-Control"); cc != "no-store" {
			t.Errorf("%s: Cache-Control %q", code, cc)
		}
	}
	for _, p := range []string{portalA + "/notices/999", portalA + "/notices/x", portalA + "/matters/YS-none", portalA + "/photos/1",
		portalA + "/documents/1", portalA + "/kiosk/nothing"} {
		if code, _ := e.get(nil, p); code != http.StatusNotFound {
			t.Errorf("%s: %d", p, code)
		}
	}
}

func TestBoardKioskAndRating(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		e := newWeb(t, d)
		a := e.activity()
		code, page := e.get(nil, portalA+"/board")
		if code != http.StatusOK {
			t.Fatalf("board: %d", code)
		}
		if !regexp.MustCompile(`<svg [^>]*class="qr"`).MatchString(page) || !strings.Contains(page, "https://shequ.example.cn"+portalA) {
			t.Fatal("the board has no QR code to the portal")
		}
		txt := text(page)
		for _, want := range []string{"门楼社区居委会 村务公开栏", "2026-11-23 公布", "关于门楼路施工期间绕行的通知", "修缮门楼路",
			"同意投入五万元修缮门楼路", "组织实施", "2026年10月财务收支公开", "收支结余"} {
			if !strings.Contains(txt, want) {
				t.Errorf("the board lacks %q", want)
			}
		}
		e.noPersonalData(page)
		css := e.serve(nil, http.MethodGet, "/static/pub.css", nil, "")
		if css.Code != http.StatusOK || !strings.Contains(css.Body.String(), "size: A3") {
			t.Fatal("pub.css has no A3 print page")
		}

		code, page = e.get(nil, portalA+"/kiosk")
		if code != http.StatusOK || !regexp.MustCompile(`<script src="/static/pub-kiosk\.js\?v=[0-9a-f]+" defer></script>`).MatchString(page) ||
			!strings.Contains(page, `data-home="`+portalA+`/kiosk"`) || !strings.Contains(page, `data-idle="90"`) ||
			!strings.Contains(page, `href="`+portalA+`/kiosk/notices"`) || !strings.Contains(page, "pub-kiosk") {
			t.Fatalf("kiosk: %d\n%s", code, page)
		}
		if strings.Contains(page, "onclick") || strings.Contains(page, "<script>") {
			t.Fatal("inline script on the kiosk")
		}
		code, page = e.get(nil, portalA+"/kiosk/matters")
		if code != http.StatusOK || !strings.Contains(page, `href="`+portalA+`/matters/`+a.implementing+`?k=1"`) ||
			!strings.Contains(page, `href="`+portalA+`/kiosk"`) {
			t.Fatalf("kiosk section: %d", code)
		}
		code, page = e.get(nil, portalA+"/matters/"+a.implementing+"?k=1")
		if code != http.StatusOK || !strings.Contains(page, "pub-kiosk.js") {
			t.Fatal("a page opened from the kiosk is not in kiosk mode")
		}
		js := e.serve(nil, http.MethodGet, "/static/pub-kiosk.js", nil, "")
		if js.Code != http.StatusOK || !strings.Contains(js.Body.String(), "data-home") || !strings.Contains(js.Body.String(), "90") {
			t.Fatal("pub-kiosk.js")
		}

		// a supervision comment while the matter is being implemented
		w := e.serve(nil, http.MethodPost, portalA+"/matters/"+a.implementing+"/rate", url.Values{"score": {"0"}, "comment": {"路面要压实"}}, "")
		if w.Code != http.StatusSeeOther || !strings.Contains(w.Header().Get("Location"), "rated=1") {
			t.Fatalf("comment: %d %s", w.Code, w.Body.String())
		}
		var cookie *http.Cookie
		for _, c := range w.Result().Cookies() {
			if c.Name == disclosure.DeviceCookie {
				cookie = c
			}
		}
		if cookie == nil || !cookie.HttpOnly || cookie.SameSite != http.SameSiteLaxMode || len(cookie.Value) != 32 {
			t.Fatalf("device cookie %+v", cookie)
		}
		// a year-end rating at the evaluation: once per device and year
		rate := func(c *http.Cookie, score string) *httptest.ResponseRecorder {
			return e.serve(nil, http.MethodPost, portalA+"/matters/"+a.evaluating+"/rate", url.Values{"score": {score}, "comment": {"满意"}}, "", c)
		}
		if w := rate(cookie, "9"); w.Code != http.StatusUnprocessableEntity || !strings.Contains(w.Body.String(), "请选择一个评分") {
			t.Fatalf("bad score: %d", w.Code)
		}
		if w := rate(cookie, "5"); w.Code != http.StatusSeeOther {
			t.Fatalf("rating: %d %s", w.Code, w.Body.String())
		}
		if w := rate(cookie, "4"); w.Code != http.StatusConflict || !strings.Contains(w.Body.String(), "今年已经评过分") {
			t.Fatalf("second rating: %d", w.Code)
		}
		if w := rate(&http.Cookie{Name: disclosure.DeviceCookie, Value: strings.Repeat("ab", 16)}, "4"); w.Code != http.StatusSeeOther {
			t.Fatalf("another device: %d", w.Code)
		}
		// the table holds neither the cookie nor its plain hash
		if n := e.count("SELECT COUNT(*) FROM gov_ratings WHERE device = ? OR device = ?", cookie.Value, strings.Repeat("ab", 16)); n != 0 {
			t.Fatal("the cookie is stored as it is")
		}
		if n := e.count("SELECT COUNT(*) FROM gov_ratings WHERE score > 0"); n != 2 {
			t.Fatalf("%d ratings", n)
		}
		// rating a matter that is being implemented is refused
		w = e.serve(nil, http.MethodPost, portalA+"/matters/"+a.implementing+"/rate", url.Values{"score": {"5"}}, "", cookie)
		if w.Code != http.StatusConflict {
			t.Fatalf("rating during the implementation: %d", w.Code)
		}
		code, page = e.get(nil, portalA+"/matters/"+a.evaluating)
		if code != http.StatusOK || !strings.Contains(page, `name="score" value="5"`) || !strings.Contains(text(page), "平均 4.5 分（2 人评议）") {
			t.Fatalf("evaluated matter: %d", code)
		}
	})
}

func TestStaffPages(t *testing.T) {
	e := newWeb(t, dbtest.SQLite(t))
	e.activity()
	code, page := e.get(e.villageStaffA, "/disclosure")
	if code != http.StatusOK || !strings.Contains(page, `id="compliance"`) || !strings.Contains(page, `id="publish-form"`) ||
		!strings.Contains(page, `href="`+portalA+`/board"`) || !strings.Contains(page, "/static/fin.css") {
		t.Fatalf("overview: %d", code)
	}
	// the township's staff see the roll-up until they choose a village
	code, page = e.get(e.townStaffA, "/disclosure")
	if code != http.StatusOK || !strings.Contains(page, `id="rollup"`) || !strings.Contains(page, "柏庄社区居委会") {
		t.Fatalf("roll-up: %d", code)
	}
	// a viewer sees, without the forms
	code, page = e.get(e.viewer, "/disclosure?village="+strconv.FormatInt(villageA, 10))
	if code != http.StatusOK || strings.Contains(page, `id="publish-form"`) || !strings.Contains(page, `id="notices"`) {
		t.Fatalf("viewer: %d", code)
	}
	if code, _ := e.get(nil, "/disclosure"); code != http.StatusNotFound {
		t.Fatalf("anonymous: %d", code)
	}

	// the notice form: errors at the fields, in Chinese; then PRG
	post := func(p *access.Principal, target string, v url.Values) *httptest.ResponseRecorder {
		return e.serve(p, http.MethodPost, target, v, "")
	}
	village := strconv.FormatInt(villageA, 10)
	w := post(e.villageStaffA, "/disclosure/notices", url.Values{"village": {village}, "item": {"affairs"}, "period": {"2026-Q4"}, "title": {""}, "body": {"x"}})
	if w.Code != http.StatusUnprocessableEntity || !strings.Contains(w.Body.String(), "标题：必填") ||
		!strings.Contains(w.Body.String(), "期间应写成 2026-11 这样的形式") {
		t.Fatalf("notice errors: %d", w.Code)
	}
	w = post(e.villageStaffA, "/disclosure/notices", url.Values{"village": {village}, "item": {"events"}, "title": {"停电通知"}, "body": {"周五停电。"}})
	if w.Code != http.StatusSeeOther || !strings.Contains(w.Header().Get("Location"), "done=published") {
		t.Fatalf("publish: %d", w.Code)
	}
	w = post(e.villageStaffA, "/disclosure/statements", url.Values{"village": {village}, "period": {"2026-10"}})
	if w.Code != http.StatusUnprocessableEntity || !strings.Contains(w.Body.String(), "该期间的财务公开已于 2026-11-23 发布") {
		t.Fatalf("statement twice: %d", w.Code)
	}
	if w := post(e.viewer, "/disclosure/statements", url.Values{"village": {village}, "period": {"2026-09"}}); w.Code != http.StatusForbidden {
		t.Fatalf("viewer publishes: %d", w.Code)
	}
	var nid int64
	if err := e.d.QueryRow(e.ctx, "SELECT id FROM pub_notices WHERE title = '停电通知'").Scan(&nid); err != nil {
		t.Fatal(err)
	}
	if w := post(e.villageStaffA, "/disclosure/notices/"+strconv.FormatInt(nid, 10)+"/withdraw", url.Values{}); w.Code != http.StatusSeeOther {
		t.Fatalf("withdraw: %d", w.Code)
	}
	if w := post(e.villageStaffA, "/disclosure/notices/"+strconv.FormatInt(nid, 10)+"/withdraw", url.Values{}); w.Code != http.StatusConflict {
		t.Fatalf("withdraw twice: %d", w.Code)
	}
	code, page = e.get(e.villageStaffA, "/disclosure/notices/"+strconv.FormatInt(nid, 10))
	if code != http.StatusOK || !strings.Contains(page, `id="withdrawn"`) {
		t.Fatalf("withdrawn notice: %d", code)
	}

	// finance
	code, page = e.get(e.villageStaffA, "/disclosure/finance?village="+village)
	if code != http.StatusOK || !strings.Contains(page, `id="entry-form"`) || !strings.Contains(page, `id="total-in"`) ||
		!strings.Contains(page, `name="b.admin/office"`) || !strings.Contains(page, "办公经费") {
		t.Fatalf("finance: %d", code)
	}
	w = post(e.villageStaffA, "/disclosure/finance/entries", url.Values{"village": {village}, "account": {"admin"}, "category": {"rent"},
		"amount": {"-5"}, "summary": {"x"}, "day": {"2026-11-01"}})
	if w.Code != http.StatusUnprocessableEntity || !strings.Contains(w.Body.String(), "金额（元）：金额不能为负数") ||
		!strings.Contains(w.Body.String(), "该科目不属于所选账目") || !strings.Contains(w.Body.String(), `value="-5"`) {
		t.Fatalf("entry errors: %d", w.Code)
	}
	w = post(e.villageStaffA, "/disclosure/finance/entries", url.Values{"village": {village}, "account": {"admin"}, "category": {"office"},
		"amount": {"12.5"}, "summary": {"墨盒"}, "day": {"2026-11-01"}})
	if w.Code != http.StatusSeeOther || !strings.Contains(w.Header().Get("Location"), "done=entry") {
		t.Fatalf("entry: %d", w.Code)
	}
	w = post(e.villageStaffA, "/disclosure/finance/budgets", url.Values{"village": {village}, "year": {"2026"}, "b.admin/office": {"1.234"}})
	if w.Code != http.StatusUnprocessableEntity || !strings.Contains(w.Body.String(), "行政账 · 办公经费：金额最多两位小数") {
		t.Fatalf("budget errors: %d", w.Code)
	}
	w = post(e.villageStaffA, "/disclosure/finance/budgets", url.Values{"village": {village}, "year": {"2026"}, "b.admin/office": {"6000"}})
	if w.Code != http.StatusSeeOther {
		t.Fatalf("budget: %d", w.Code)
	}
	w = e.serve(e.viewer, http.MethodGet, "/disclosure/ledgers/entries.xlsx?village="+village+"&year=2026", nil, "")
	if w.Code != http.StatusOK || !strings.Contains(w.Header().Get("Content-Type"), "spreadsheetml") ||
		!strings.Contains(w.Header().Get("Content-Disposition"), "filename*=UTF-8''") {
		t.Fatalf("ledger: %d %v", w.Code, w.Header())
	}
	if _, rows := readSheet(t, w.Body.Bytes()); len(rows) != 5 || rows[3][4] != "墨盒" {
		t.Fatalf("ledger rows %q", rows)
	}
	if w := e.serve(e.townStaffB, http.MethodGet, "/disclosure/ledgers/entries.xlsx?village="+village, nil, ""); w.Code != http.StatusNotFound {
		t.Fatalf("other township's ledger: %d", w.Code)
	}

	// assets
	w = post(e.villageStaffA, "/disclosure/assets", url.Values{"village": {village}, "kind": {"land"}, "name": {""}, "value": {"abc"}})
	if w.Code != http.StatusUnprocessableEntity || !strings.Contains(w.Body.String(), "名称：必填") {
		t.Fatalf("asset errors: %d", w.Code)
	}
	w = post(e.villageStaffA, "/disclosure/assets", url.Values{"village": {village}, "kind": {"land"}, "name": {"西片鱼塘"}, "quantity": {"12 亩"}, "value": {""}})
	if w.Code != http.StatusSeeOther {
		t.Fatalf("asset: %d", w.Code)
	}
	code, page = e.get(e.villageStaffA, "/disclosure/assets?village="+village)
	if code != http.StatusOK || !strings.Contains(page, "西片鱼塘") || !strings.Contains(page, `id="xlsx-assets"`) {
		t.Fatalf("assets: %d", code)
	}
	var aid int64
	if err := e.d.QueryRow(e.ctx, "SELECT id FROM fin_assets").Scan(&aid); err != nil {
		t.Fatal(err)
	}
	w = post(e.villageStaffA, "/disclosure/assets/"+strconv.FormatInt(aid, 10), url.Values{"village": {village}, "kind": {"land"}, "name": {"西片鱼塘"},
		"retire": {"1"}, "retired": {"2026-11-01"}})
	if w.Code != http.StatusSeeOther || !strings.Contains(w.Header().Get("Location"), "all=1") {
		t.Fatalf("retire: %d %s", w.Code, w.Body.String())
	}
}

func TestCalendarFeed(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		e := newWeb(t, d)
		f := e.fixture
		reps := f.govBody(villageA, "representatives", "门楼社区居民代表会议", nil, nil)
		f.govMeeting(villageA, reps, 20261015, "十月居民代表会议", "修缮门楼路", "同意")
		f.govScheduled(villageA, reps, 20261205, "十二月居民代表会议")
		f.govScheduled(villageA, reps, 20270901, "明年九月的会议")    // within the next 12 months
		f.govScheduled(villageA, reps, 20280101, "后年的会议")      // beyond the feed
		f.govScheduled(villageA, reps, 20260601, "半年前的会议")     // before the last 3 months
		c := f.govScheduled(villageA, reps, 20261210, "取消的会议") // cancelled: not public
		if _, err := d.Exec(f.ctx, "UPDATE gov_meetings SET state = 'cancelled' WHERE id = ?", c); err != nil {
			t.Fatal(err)
		}
		party := f.govBody(villageA, "party", "门楼社区党支部", nil, nil)
		p := f.govScheduled(villageA, party, 20261206, "支部会议")
		if _, err := d.Exec(f.ctx, "UPDATE gov_meetings SET public = 0 WHERE id = ?", p); err != nil {
			t.Fatal(err)
		}
		w := e.serve(nil, http.MethodGet, portalA+"/calendar.ics", nil, "")
		if w.Code != http.StatusOK || w.Header().Get("Content-Type") != "text/calendar; charset=utf-8" ||
			w.Header().Get("Cache-Control") != "public, max-age=60" {
			t.Fatalf("feed: %d %v", w.Code, w.Header())
		}
		ics := w.Body.String()
		unfolded := strings.ReplaceAll(ics, "\r\n ", "")
		if !strings.HasPrefix(ics, "BEGIN:VCALENDAR\r\n") || !strings.HasSuffix(ics, "END:VCALENDAR\r\n") ||
			!strings.Contains(ics, "VERSION:2.0\r\n") || strings.Count(ics, "BEGIN:VEVENT") != 3 || strings.Count(ics, "END:VEVENT") != 3 {
			t.Fatalf("ics:\n%s", ics)
		}
		for _, want := range []string{"十月居民代表会议", "十二月居民代表会议", "明年九月的会议", "URL:https://shequ.example.cn" + portalA + "#meeting-"} {
			if !strings.Contains(unfolded, want) {
				t.Errorf("the feed lacks %q", want)
			}
		}
		for _, not := range []string{"后年的会议", "半年前的会议", "取消的会议", "支部会议"} {
			if strings.Contains(unfolded, not) {
				t.Errorf("the feed has %q", not)
			}
		}
		for _, l := range strings.Split(strings.TrimSuffix(ics, "\r\n"), "\r\n") {
			if len(l) > 75 {
				t.Fatalf("a line longer than 75 octets: %q", l)
			}
		}
		if code, _ := e.get(nil, "/public/320205001000/calendar.ics"); code != http.StatusNotFound {
			t.Fatalf("a township's feed: %d", code)
		}
	})
}
