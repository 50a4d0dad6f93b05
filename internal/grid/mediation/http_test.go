package mediation_test

import (
	"context"
	"html"
	"net/http"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/shequ-platform/shequ/internal/grid/mediation"
	"github.com/shequ-platform/shequ/internal/platform/access"
	"github.com/shequ-platform/shequ/internal/platform/audit"
	"github.com/shequ-platform/shequ/internal/platform/db/dbtest"
	"github.com/shequ-platform/shequ/internal/platform/web"
)

type webEnv struct {
	*fixture
	h http.Handler
}

func newWeb(t *testing.T) *webEnv {
	t.Helper()
	f := newFixture(t, dbtest.SQLite(t))
	rd := web.NewRenderer(nil)
	if err := rd.Register(mediation.Templates(), "templates/*.html", mediation.Funcs()); err != nil {
		t.Fatal(err)
	}
	mux := http.NewServeMux()
	(&mediation.HTTP{S: f.svc, R: rd, PublicURL: "https://shequ.example.cn"}).Routes(mux)
	return &webEnv{fixture: f, h: mux}
}

// serve answers one request as p (nil: anonymous) in lang (zh-CN when empty).
func (e *webEnv) serve(p *access.Principal, method, target string, form url.Values, lang string) *httptest.ResponseRecorder {
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

func (e *webEnv) post(p *access.Principal, target string, form url.Values) *httptest.ResponseRecorder {
	return e.serve(p, http.MethodPost, target, form, "")
}

// text is a page with tags removed and entities decoded, for looking for words.
func text(page string) string {
	return html.UnescapeString(regexp.MustCompile(`<[^>]*>`).ReplaceAllString(page, ""))
}

// noFullNumbers fails when a page shows a whole phone or ID number of the fixture.
func (e *webEnv) noFullNumbers(page string) {
	e.t.Helper()
	for _, n := range []string{"13812345678", "13911112222", "139 1111 2222", "13987654321", idZhang, idOutsider} {
		if strings.Contains(page, n) {
			e.t.Fatalf("the page shows %s in full", n)
		}
	}
}

func TestPagesForEachRole(t *testing.T) {
	e := newWeb(t)
	x := e.register(e.villageStaff, e.input())
	path := "/mediation/" + strconv.FormatInt(x.ID, 10)

	code, page := e.get(e.villageStaff, "/mediation")
	if code != http.StatusOK || !strings.Contains(page, x.Number) || !strings.Contains(page, `href="/mediation/new"`) ||
		!strings.Contains(text(page), "张三 与 孙六") || !strings.Contains(page, "/static/mediation.css") {
		t.Fatalf("village list: %d\n%s", code, page)
	}
	if m := regexp.MustCompile(`id="fig-opened">(\d+)<`).FindStringSubmatch(page); m == nil || m[1] != "1" {
		t.Fatalf("opened figure %v", m)
	}
	e.noFullNumbers(page)
	// the grid worker and the viewer see, without the buttons that change things
	for _, p := range []*access.Principal{e.gridWorker, e.viewer} {
		code, page := e.get(p, "/mediation")
		if code != http.StatusOK || !strings.Contains(page, x.Number) || strings.Contains(page, `href="/mediation/new"`) {
			t.Fatalf("%s list: %d", p.Username, code)
		}
		code, page = e.get(p, path)
		if code != http.StatusOK || !strings.Contains(page, x.Number) || strings.Contains(page, `name="kind"`) || !strings.Contains(page, "不能办理") {
			t.Fatalf("%s dispute page: %d", p.Username, code)
		}
		if code, _ := e.get(p, "/mediation/new"); code != http.StatusForbidden {
			t.Fatalf("%s new form: %d", p.Username, code)
		}
		if w := e.post(p, path+"/act", url.Values{"kind": {"session"}, "note": {"x"}}); w.Code != http.StatusForbidden {
			t.Fatalf("%s acting: %d", p.Username, w.Code)
		}
	}
	// another township: not found, and not in its list
	if code, _ := e.get(e.townStaffB, path); code != http.StatusNotFound {
		t.Fatalf("other township: %d", code)
	}
	if code, page := e.get(e.townStaffB, "/mediation"); code != http.StatusOK || strings.Contains(page, x.Number) {
		t.Fatalf("other township's list: %d", code)
	}
	if w := e.post(e.townStaffB, path+"/act", url.Values{"kind": {"session"}, "note": {"x"}}); w.Code != http.StatusNotFound {
		t.Fatalf("other township acting: %d", w.Code)
	}
	// no mediation.view at all, or nobody signed in
	officer := &access.Principal{UserID: 99, Username: "zz", Assignments: []access.Assignment{{Role: "special_groups_officer", Division: townA}}}
	for _, p := range []*access.Principal{officer, nil} {
		for _, target := range []string{"/mediation", path, path + "/agreement", "/mediation/new"} {
			if code, _ := e.get(p, target); code != http.StatusNotFound {
				t.Fatalf("%v %s: %d", p, target, code)
			}
		}
	}
	if code, _ := e.get(e.villageStaff, "/mediation/abc"); code != http.StatusNotFound {
		t.Fatal("bad id")
	}
	// the list's filters
	if _, page := e.get(e.townStaffA, "/mediation?view=settled"); strings.Contains(page, x.Number) {
		t.Fatal("open dispute among the settled")
	}
	if _, page := e.get(e.townStaffA, "/mediation?view=open&q=孙六&type=neighbour"); !strings.Contains(page, x.Number) ||
		!strings.Contains(page, `href="/mediation?q=%E5%AD%99%E5%85%AD&amp;type=neighbour&amp;view=settled"`) {
		t.Fatal("filtered list")
	}
	// English
	w := e.serve(e.townStaffA, http.MethodGet, path, nil, "en")
	if w.Code != http.StatusOK || !strings.Contains(w.Body.String(), "Being mediated") || !strings.Contains(w.Body.String(), "Neighbours") {
		t.Fatalf("English page: %d", w.Code)
	}
}

// form is a complete registration form: 张三 picked from the registry
// against an outsider.
func (e *webEnv) form() url.Values {
	return url.Values{"unit": {strconv.FormatInt(villageA, 10)}, "type": {"neighbour"}, "summary": {"两家因排水沟堵塞争执。"},
		"mediators":       {"赵调解、钱调解"},
		"parties[0].side": {"applicant"}, "parties[0].resident_id": {strconv.FormatInt(e.zhang.ID, 10)},
		"parties[1].side": {"respondent"}, "parties[1].name": {"孙六"}, "parties[1].id_number": {idOutsider},
		"parties[1].phone": {"139 1111 2222"}, "parties[1].address": {"吼山路3号"}, "op": {"create"}}
}

func TestRegistrationForm(t *testing.T) {
	e := newWeb(t)
	code, page := e.get(e.villageStaff, "/mediation/new")
	if code != http.StatusOK || !strings.Contains(page, `name="parties[0].side"`) || !strings.Contains(page, `name="parties[1].side"`) ||
		strings.Contains(page, `name="parties[2].side"`) || !strings.Contains(page, `value="village名"`) || !strings.Contains(page, "邻里纠纷") {
		t.Fatalf("form: %d\n%s", code, page)
	}
	// search the registry for row 0, pick 张三
	f := e.form()
	f.Del("parties[0].resident_id")
	f.Set("parties[0].q", "张三")
	f.Set("op", "search.0")
	w := e.post(e.villageStaff, "/mediation/new", f)
	pick := "pick.0." + strconv.FormatInt(e.zhang.ID, 10)
	if w.Code != http.StatusOK || !strings.Contains(w.Body.String(), `value="`+pick+`"`) {
		t.Fatalf("search: %d\n%s", w.Code, w.Body)
	}
	// what was typed comes back in its own field only; nothing of the registry's in full
	e.noFullNumbers(strings.NewReplacer(`value="`+idOutsider+`"`, "", `value="139 1111 2222"`, "").Replace(w.Body.String()))
	f.Set("op", pick)
	w = e.post(e.villageStaff, "/mediation/new", f)
	if body := w.Body.String(); w.Code != http.StatusOK || !strings.Contains(body, `name="parties[0].resident_id" value="`+strconv.FormatInt(e.zhang.ID, 10)+`"`) ||
		!strings.Contains(body, "138****5678") || !strings.Contains(body, `value="unpick.0"`) || !strings.Contains(body, ">两家因排水沟堵塞争执。</textarea>") {
		t.Fatalf("pick: %d\n%s", w.Code, body)
	}
	// add a third row, remove it again
	f.Set("op", "add")
	if body := e.post(e.villageStaff, "/mediation/new", f).Body.String(); !strings.Contains(body, `name="parties[2].side"`) || !strings.Contains(body, `value="remove.2"`) {
		t.Fatal("add a party")
	}
	f.Set("parties[2].side", "other")
	f.Set("op", "remove.2")
	if body := e.post(e.villageStaff, "/mediation/new", f).Body.String(); strings.Contains(body, `name="parties[2].side"`) {
		t.Fatal("remove a party")
	}
	f.Del("parties[2].side")

	// bad input: 422, the messages in Chinese naming the fields, nothing stored
	bad := e.form()
	bad.Set("parties[1].id_number", idOutsider[:17]+"0")
	bad.Set("summary", "")
	bad.Set("parties[0].side", "respondent")
	bad.Set("incident_id", "abc")
	w = e.post(e.villageStaff, "/mediation/new", bad)
	body := text(w.Body.String())
	for _, want := range []string{"当事人 2 · 身份证号：身份证号校验位不对，请核对。", "纠纷事实和争议事项：必须填写。", "当事人：至少要有一位申请人。",
		"来源网格事件编号：事件编号只能是数字。"} {
		if !strings.Contains(body, want) {
			t.Errorf("no %q in the answer", want)
		}
	}
	if w.Code != http.StatusUnprocessableEntity || !strings.Contains(w.Body.String(), `aria-invalid="true"`) {
		t.Fatalf("bad form: %d", w.Code)
	}
	if n := e.count("SELECT COUNT(*) FROM disputes"); n != 0 {
		t.Fatalf("%d disputes stored", n)
	}
	// one party only
	one := e.form()
	for _, k := range []string{"side", "name", "id_number", "phone", "address"} {
		one.Del("parties[1]." + k)
	}
	if body := text(e.post(e.villageStaff, "/mediation/new", one).Body.String()); !strings.Contains(body, "当事人：至少要有 2 位当事人。") {
		t.Fatal("one party")
	}

	// registered
	w = e.post(e.villageStaff, "/mediation/new", e.form())
	if w.Code != http.StatusSeeOther || !regexp.MustCompile(`^/mediation/\d+\?new=1$`).MatchString(w.Header().Get("Location")) {
		t.Fatalf("register: %d %s\n%s", w.Code, w.Header().Get("Location"), w.Body)
	}
	code, page = e.get(e.villageStaff, w.Header().Get("Location"))
	if code != http.StatusOK || !strings.Contains(page, "纠纷已登记，编号 320205001001-TJ20260930-0001。") {
		t.Fatalf("new dispute page: %d", code)
	}
	e.noFullNumbers(page)
	for _, want := range []string{"138****5678", "139****2222", "320205********" + idOutsider[14:], "门楼路8号", "吼山路3号", "门楼社区人民调解委员会"} {
		if !strings.Contains(page, want) {
			t.Errorf("dispute page lacks %q", want)
		}
	}
}

func TestDisputePageActionsAndAgreement(t *testing.T) {
	e := newWeb(t)
	x := e.register(e.villageStaff, e.input())
	path := "/mediation/" + strconv.FormatInt(x.ID, 10)

	// the agreement exists only once settled
	if code, page := e.get(e.villageStaff, path+"/agreement"); code != http.StatusConflict || !strings.Contains(page, "只有调解成功的纠纷才有调解协议书") {
		t.Fatalf("agreement of an open dispute: %d", code)
	}
	// a session
	w := e.post(e.villageStaff, path+"/act", url.Values{"kind": {"session"}, "day": {"2026-09-30"}, "place": {"社区调解室"}, "mediators": {"赵调解"},
		"note": {"双方到场，各自陈述。"}})
	if w.Code != http.StatusSeeOther || w.Header().Get("Location") != path+"?done=session" {
		t.Fatalf("session: %d %s", w.Code, w.Body)
	}
	// a settlement without its terms: 422, the form again with the values typed
	w = e.post(e.villageStaff, path+"/act", url.Values{"kind": {"settle"}, "outcome": {"双方达成协议"}, "performance": {"十日内"}})
	if body := text(w.Body.String()); w.Code != http.StatusUnprocessableEntity || !strings.Contains(body, "协议内容：必须填写。") ||
		!strings.Contains(w.Body.String(), ">十日内</textarea>") {
		t.Fatalf("settle without terms: %d\n%s", w.Code, w.Body)
	}
	w = e.post(e.villageStaff, path+"/act", url.Values{"kind": {"settle"}, "outcome": {settle.Outcome}, "agreement": {settle.Agreement},
		"performance": {settle.Performance}})
	if w.Code != http.StatusSeeOther {
		t.Fatalf("settle: %d %s", w.Code, w.Body)
	}
	code, page := e.get(e.villageStaff, path+"?done=settle")
	if code != http.StatusOK || !strings.Contains(page, `href="`+path+`/agreement"`) || !strings.Contains(page, "可以打印调解协议书") ||
		!strings.Contains(page, "双方到场，各自陈述。") || !strings.Contains(page, `id="act-visit"`) || strings.Contains(page, `id="act-session"`) {
		t.Fatalf("settled page: %d\n%s", code, page)
	}
	e.noFullNumbers(page)
	// no session once settled: 409 with the reason
	w = e.post(e.villageStaff, path+"/act", url.Values{"kind": {"session"}, "note": {"再次调解"}})
	if w.Code != http.StatusConflict || !strings.Contains(text(w.Body.String()), "纠纷现在是“调解成功”，不能“记录调解”。") {
		t.Fatalf("session after settlement: %d", w.Code)
	}
	// a visit without saying whether the agreement holds
	w = e.post(e.villageStaff, path+"/act", url.Values{"kind": {"visit"}, "note": {"走访"}})
	if w.Code != http.StatusUnprocessableEntity || !strings.Contains(text(w.Body.String()), "协议履行情况：必须填写。") {
		t.Fatalf("visit without holding: %d", w.Code)
	}
	if w = e.post(e.villageStaff, path+"/act", url.Values{"kind": {"visit"}, "holding": {"1"}, "note": {"已疏通"}}); w.Code != http.StatusSeeOther {
		t.Fatalf("visit: %d", w.Code)
	}

	// the agreement
	code, page = e.get(e.villageStaff, path+"/agreement")
	if code != http.StatusOK {
		t.Fatalf("agreement: %d", code)
	}
	body := text(page)
	for _, want := range []string{"门楼社区人民调解委员会", "人民调解协议书", "320205001001-TJ20260930-0001", "申请人：张三，男，身份证号 320205********" + idZhang[14:],
		"住 门楼路8号", "被申请人：孙六", "两家因院墙排水沟堵塞发生争执", "一、孙六于十日内疏通排水沟；", "孙六于2026年10月10日前完成疏通",
		"本协议一式 3 份", "人民调解法", "赵调解", "钱调解", "2026年9月30日", "https://shequ.example.cn" + path} {
		if !strings.Contains(body, want) {
			t.Errorf("agreement lacks %q", want)
		}
	}
	if !strings.Contains(page, "<svg") || strings.Count(page, `class="med-blank"`) != 4 { // 2 parties + 2 mediators
		t.Error("QR code or signature lines")
	}
	e.noFullNumbers(page)
	// the viewer may print it too
	if code, _ := e.get(e.viewer, path+"/agreement"); code != http.StatusOK {
		t.Fatalf("viewer: %d", code)
	}
	if code, _ := e.get(e.townStaffB, path+"/agreement"); code != http.StatusNotFound {
		t.Fatalf("other township: %d", code)
	}
}
