package grid_test

import (
	"bytes"
	"context"
	"io/fs"
	"mime/multipart"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"testing/fstest"
	"time"

	"github.com/shequ-platform/shequ/internal/grid"
	"github.com/shequ-platform/shequ/internal/platform/access"
	"github.com/shequ-platform/shequ/internal/platform/audit"
	"github.com/shequ-platform/shequ/internal/platform/db"
	"github.com/shequ-platform/shequ/internal/platform/db/dbtest"
	"github.com/shequ-platform/shequ/internal/platform/i18n"
	"github.com/shequ-platform/shequ/internal/platform/web"
	"github.com/shequ-platform/shequ/internal/registry"
)

// incWeb serves the grid's pages over the fixture, with a principal in each
// request's context as the app's login middleware puts it there.
type incWeb struct {
	f *fixture
	h http.Handler
}

// incTemplates are the pages of this part (and the shared partials), so the
// tests do not depend on pages other parts are still writing.
var incTemplates = []string{"_grid_common.html", "grid_desk.html", "grid_incident.html", "grid_figures.html"}

func newIncWeb(t *testing.T, d *db.DB) *incWeb {
	t.Helper()
	f := newFixture(t, d)
	m := fstest.MapFS{}
	for _, name := range incTemplates {
		b, err := fs.ReadFile(grid.Templates(), "templates/"+name)
		if err != nil {
			t.Fatal(err)
		}
		m["templates/"+name] = &fstest.MapFile{Data: b}
	}
	rd := web.NewRenderer(nil)
	if err := rd.Register(m, "templates/*.html", grid.Funcs()); err != nil {
		t.Fatal(err)
	}
	mux := http.NewServeMux()
	(&grid.HTTP{S: f.svc, R: rd}).Routes(mux)
	return &incWeb{f: f, h: mux}
}

func (e *incWeb) serve(p *access.Principal, r *http.Request, lang string) *httptest.ResponseRecorder {
	r.Header.Set("Accept-Language", lang)
	ctx := access.WithPrincipal(context.Background(), p)
	r = r.WithContext(audit.WithActor(ctx, audit.Actor{ID: p.UserID, Name: p.Username}))
	w := httptest.NewRecorder()
	e.h.ServeHTTP(w, r)
	return w
}

func (e *incWeb) get(p *access.Principal, target, lang string) *httptest.ResponseRecorder {
	return e.serve(p, httptest.NewRequest(http.MethodGet, target, nil), lang)
}

func (e *incWeb) post(p *access.Principal, target string, form url.Values) *httptest.ResponseRecorder {
	r := httptest.NewRequest(http.MethodPost, target, strings.NewReader(form.Encode()))
	r.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	return e.serve(p, r, "zh-CN")
}

// postPhotos posts a multipart form with photos, as the phone's file input
// sends it.
func (e *incWeb) postPhotos(p *access.Principal, target string, form url.Values, photos ...[]byte) *httptest.ResponseRecorder {
	var body bytes.Buffer
	mw := multipart.NewWriter(&body)
	for k, vs := range form {
		for _, v := range vs {
			_ = mw.WriteField(k, v)
		}
	}
	for i, ph := range photos {
		fw, _ := mw.CreateFormFile("photos", "IMG_"+strconv.Itoa(i)+".jpg")
		_, _ = fw.Write(ph)
	}
	_ = mw.Close()
	r := httptest.NewRequest(http.MethodPost, target, &body)
	r.Header.Set("Content-Type", mw.FormDataContentType())
	return e.serve(p, r, "zh-CN")
}

func incWantStatus(t *testing.T, w *httptest.ResponseRecorder, status int) {
	t.Helper()
	if w.Code != status {
		t.Fatalf("status %d, want %d\n%s", w.Code, status, w.Body)
	}
}

func incWantPage(t *testing.T, page string, wants ...string) {
	t.Helper()
	for _, want := range wants {
		if !strings.Contains(page, want) {
			t.Errorf("page lacks %q", want)
		}
	}
}

func TestIncidentDesk(t *testing.T) {
	e := newIncWeb(t, dbtest.SQLite(t))
	f := e.f
	incScenario(f)
	f.now = time.Date(2026, 10, 20, 10, 0, 0, 0, china) // the escalated one was due 10-13

	w := e.get(f.countyStaff, "/grid", "zh-CN")
	incWantStatus(t, w, http.StatusOK)
	page := w.Body.String()
	incWantPage(t, page, "网格事件 · 锡山区", "/static/grid.css",
		// the views with their counts: open 2 (the escalated one, the road), overdue 1
		`id="view-open"`, `在办 <span class="grid-count">2</span>`, `已超期 <span class="grid-count grid-count-alert">1</span>`,
		`id="view-closed"`, // not counted
		// the unit picker: the county and its townships
		`<option value="320205000000000" selected>锡山区</option>`, "\u3000东亭街道",
		// the pack's categories by group
		`<optgroup label="公用设施">`, "排水设施堵塞",
		// the list: the overdue one with its working days, the pack's name of its state
		`class="overdue"`, "超期", "派遣处置中", "道路破损", "上报")
	if strings.Contains(page, `id="view-closed">已办结 <span`) {
		t.Error("closed view counted")
	}
	incNoRawKeys(t, page)
	incNoInlineScript(t, page)

	// the closed ones, filtered by category and by number
	page = e.get(f.countyStaff, "/grid?view=closed", "zh-CN").Body.String()
	if n := strings.Count(page, `<td><a href="/grid/incidents/`); n != 5 { // 4 closed + 1 rejected
		t.Errorf("closed view lists %d", n)
	}
	page = e.get(f.countyStaff, "/grid?view=all&category="+catCover, "zh-CN").Body.String()
	if n := strings.Count(page, `<td><a href="/grid/incidents/`); n != 1 || !strings.Contains(page, "井盖缺失或破损") {
		t.Errorf("category filter lists %d", n)
	}
	page = e.get(f.countyStaff, "/grid?view=all&number=0005", "zh-CN").Body.String()
	if n := strings.Count(page, `<td><a href="/grid/incidents/`); n != 1 {
		t.Errorf("number filter lists %d", n)
	}
	// the township of B only sees its own; nothing outside
	page = e.get(f.townStaffB, "/grid?view=all", "zh-CN").Body.String()
	if n := strings.Count(page, `<td><a href="/grid/incidents/`); n != 2 || strings.Contains(page, "东亭街道") {
		t.Errorf("township B lists %d", n)
	}
	incWantStatus(t, e.get(f.villageStaff, "/grid?unit=320205", "zh-CN"), http.StatusNotFound)
	incWantStatus(t, e.get(f.villageStaff, "/grid?unit=nonsense", "zh-CN"), http.StatusNotFound)
	// English
	page = e.get(f.viewer, "/grid?view=overdue", "en").Body.String()
	incWantPage(t, page, "Grid incidents", "working days overdue")
	incNoRawKeys(t, page)

	// a grid worker's home is the phone page
	w = e.get(f.workerA1, "/grid", "zh-CN")
	if w.Code != http.StatusSeeOther || w.Header().Get("Location") != "/grid/m" {
		t.Fatalf("grid worker: %d %s", w.Code, w.Header().Get("Location"))
	}
	// no grid.view: nothing here
	nobody := &access.Principal{UserID: 999, Username: "nobody"}
	incWantStatus(t, e.get(nobody, "/grid", "zh-CN"), http.StatusNotFound)
}

func TestIncidentPage(t *testing.T) {
	e := newIncWeb(t, dbtest.SQLite(t))
	f := e.f
	hh, err := f.reg.CreateHousehold(f.ctx, f.admin, registry.HouseholdInput{Division: f.gridA1, Address: "门楼社区 8 栋", Lat: "31.5880", Lon: "120.3600"})
	if err != nil {
		t.Fatal(err)
	}
	lat, lon := 31.5881, 120.3601
	first, err := f.svc.ReportIncident(f.ctx, f.workerA1, grid.Report{Division: f.gridA1, Category: catDrain, Description: "8 栋门口雨水口堵塞",
		Lat: &lat, Lon: &lon, HouseholdID: hh.ID, Photos: [][]byte{jpeg}})
	if err != nil {
		t.Fatal(err)
	}
	lat2 := 31.5882
	in, err := f.svc.ReportIncident(f.ctx, f.workerA2, grid.Report{Division: f.gridA2, Category: catDrain, Description: "同一个雨水口", Lat: &lat2, Lon: &lon})
	if err != nil {
		t.Fatal(err)
	}
	page1 := "/grid/incidents/" + strconv.FormatInt(first.ID, 10)
	page := "/grid/incidents/" + strconv.FormatInt(in.ID, 10)
	act := page + "/act"

	// the summary with its photo and household; the actions of a reported incident
	w := e.get(f.villageStaff, page1, "zh-CN")
	incWantStatus(t, w, http.StatusOK)
	body := w.Body.String()
	incWantPage(t, body, first.Number, "排水设施堵塞", "公用设施", "8 栋门口雨水口堵塞", "第一网格", "网格员上报", "workera1",
		`href="/registry/households/`+strconv.FormatInt(hh.ID, 10)+`"`, "门楼社区 8 栋", "31.588100, 120.360100",
		`<img src="/grid/incidents/`+strconv.FormatInt(first.ID, 10)+`/photos/`, `id="act-register"`, `id="act-reject"`, `id="act-note"`)
	for _, absent := range []string{`id="act-dispatch"`, `id="act-close"`, `id="act-verify"`} {
		if strings.Contains(body, absent) {
			t.Errorf("reported incident offers %s", absent)
		}
	}
	incNoRawKeys(t, body)
	incNoInlineScript(t, body)
	// the photo, for who sees the incident only
	photoURL := regexp.MustCompile(`/grid/incidents/\d+/photos/\d+`).FindString(body)
	w = e.get(f.villageStaff, photoURL, "zh-CN")
	incWantStatus(t, w, http.StatusOK)
	if w.Header().Get("Content-Type") != "image/jpeg" || w.Header().Get("Cache-Control") != "private" || !bytes.Equal(w.Body.Bytes(), jpeg) {
		t.Fatalf("photo %q %q %d bytes", w.Header().Get("Content-Type"), w.Header().Get("Cache-Control"), w.Body.Len())
	}
	incWantStatus(t, e.get(f.workerA2, photoURL, "zh-CN"), http.StatusNotFound)
	incWantStatus(t, e.get(f.workerA2, page1, "zh-CN"), http.StatusNotFound)
	incWantStatus(t, e.get(f.villageStaff, page1+"/photos/99999", "zh-CN"), http.StatusNotFound)

	// the second report: the first is suggested as its duplicate
	body = e.get(f.villageStaff, page, "zh-CN").Body.String()
	incWantPage(t, body, "可能重复的事件", "作为 "+first.Number+" 的重复件不予立案")
	// a grid worker sees no register, no duplicates, only a note
	body = e.get(f.workerA2, page, "zh-CN").Body.String()
	if strings.Contains(body, `id="act-register"`) || strings.Contains(body, "可能重复的事件") || !strings.Contains(body, `id="act-note"`) {
		t.Error("the worker is offered what only the village may do")
	}

	// register: POST-redirect-GET with a flash
	w = e.post(f.villageStaff, act, url.Values{"kind": {"register"}})
	if w.Code != http.StatusSeeOther || w.Header().Get("Location") != page+"?done=register" {
		t.Fatalf("register: %d %s\n%s", w.Code, w.Header().Get("Location"), w.Body)
	}
	incWantPage(t, e.get(f.villageStaff, page+"?done=register", "zh-CN").Body.String(), "已办理：立案。", `id="act-dispatch"`)
	// an illegal action: 409, the transition said in words
	w = e.post(f.villageStaff, act, url.Values{"kind": {"close"}})
	incWantStatus(t, w, http.StatusConflict)
	incWantPage(t, w.Body.String(), "不能结案")
	// bad input at the field, the input kept
	w = e.post(f.villageStaff, act, url.Values{"kind": {"dispatch"}, "level": {"township"}, "office": {"城管办"}, "days": {"两天"}})
	incWantStatus(t, w, http.StatusUnprocessableEntity)
	body = w.Body.String()
	incWantPage(t, body, "请填写数字。", `value="两天"`, `value="城管办"`, `value="township" checked`)
	w = e.post(f.villageStaff, act, url.Values{"kind": {"dispatch"}, "level": {"village"}, "days": {"61"}, "note": {"尽快"}})
	incWantStatus(t, w, http.StatusUnprocessableEntity)
	incWantPage(t, w.Body.String(), "天数不正确，应为 1 至 60 个工作日。", ">尽快</textarea>")
	// seen but not permitted: 403 with the reason
	w = e.post(f.viewer, act, url.Values{"kind": {"dispatch"}})
	incWantStatus(t, w, http.StatusForbidden)
	incWantPage(t, w.Body.String(), "您没有权限")
	// an unknown action
	w = e.post(f.villageStaff, act, url.Values{"kind": {"fly"}})
	incWantStatus(t, w, http.StatusConflict)
	incWantPage(t, w.Body.String(), "没有这个操作")

	// dispatch to the township's office with 3 working days: due on the
	// make-up Saturday
	w = e.post(f.villageStaff, act, url.Values{"kind": {"dispatch"}, "level": {"township"}, "office": {"城管办"}, "days": {"3"}})
	incWantStatus(t, w, http.StatusSeeOther)
	cur, _ := f.svc.Get(f.ctx, f.admin, in.ID)
	if cur.Holder != townA || cur.Department != "城管办" || cur.Deadline != 20261010 {
		t.Fatalf("dispatched %+v", cur)
	}
	body = e.get(f.townStaffA, page, "zh-CN").Body.String()
	incWantPage(t, body, "东亭街道 · 城管办", "2026-10-10", "还剩 3 个工作日", `id="act-handle"`, `id="act-return"`, `enctype="multipart/form-data"`)
	// the village no longer handles it
	if strings.Contains(e.get(f.villageStaff, page, "zh-CN").Body.String(), `id="act-handle"`) {
		t.Error("the village is offered to handle a township-held incident")
	}

	// handle with photos: not an image, too many, then right
	w = e.postPhotos(f.townStaffA, act, url.Values{"kind": {"handle"}, "note": {"已疏通"}}, jpeg, []byte("not a photo at all"))
	incWantStatus(t, w, http.StatusUnprocessableEntity)
	incWantPage(t, w.Body.String(), "第 2 个文件不是照片", ">已疏通</textarea>")
	seven := make([][]byte, grid.MaxPhotos+1)
	for i := range seven {
		seven[i] = jpeg
	}
	w = e.postPhotos(f.townStaffA, act, url.Values{"kind": {"handle"}, "note": {"已疏通"}}, seven...)
	incWantStatus(t, w, http.StatusUnprocessableEntity)
	incWantPage(t, w.Body.String(), "照片太多了，最多 6 张。")
	w = e.postPhotos(f.townStaffA, act, url.Values{"kind": {"handle"}}, jpeg)
	incWantStatus(t, w, http.StatusUnprocessableEntity)
	incWantPage(t, w.Body.String(), "请填写理由或说明。")
	incWantStatus(t, e.postPhotos(f.townStaffA, act, url.Values{"kind": {"handle"}, "note": {"已疏通"}}, jpeg, jpeg), http.StatusSeeOther)

	// the reporter checks on the spot, from the phone: verify with a photo
	body = e.get(f.workerA2, page, "zh-CN").Body.String()
	incWantPage(t, body, `id="act-verify"`, `id="act-rework"`, `accept="image/jpeg,image/png,image/webp"`)
	incWantStatus(t, e.postPhotos(f.workerA2, act, url.Values{"kind": {"verify"}, "note": {"现场已无积水"}}, jpeg), http.StatusSeeOther)
	if n := f.count(`SELECT count(*) FROM incident_photos WHERE incident_id = ?`, in.ID); n != 3 {
		t.Fatalf("%d photos", n)
	}
	// close and rate
	incWantStatus(t, e.post(f.villageStaff, act, url.Values{"kind": {"close"}}), http.StatusSeeOther)
	w = e.post(f.workerA2, act, url.Values{"kind": {"evaluate"}, "note": {"很好"}})
	incWantStatus(t, w, http.StatusUnprocessableEntity)
	incWantPage(t, w.Body.String(), "请选择满意程度。")
	incWantStatus(t, e.post(f.workerA2, act, url.Values{"kind": {"evaluate"}, "rating": {"5"}, "note": {"很好"}}), http.StatusSeeOther)
	body = e.get(f.villageStaff, page, "zh-CN").Body.String()
	incWantPage(t, body, "已结案", "非常满意：很好", "乡镇（街道）", "按期办结", "现场已无积水", "东亭街道 · 城管办")
	if strings.Contains(body, `id="act-evaluate"`) {
		t.Error("rated twice")
	}
	if n := strings.Count(body, `/photos/`); n < 6 { // 3 photos, each a link and an image
		t.Errorf("history shows %d photo references", n)
	}
	incNoRawKeys(t, body)
	// the English page
	body = e.get(f.villageStaff, page, "en").Body.String()
	incWantPage(t, body, "History", "Very satisfied")
	incNoRawKeys(t, body)

	// the duplicate: one click
	third, err := f.svc.ReportIncident(f.ctx, f.workerA1, grid.Report{Division: f.gridA1, Category: catDrain, Lat: &lat, Lon: &lon})
	if err != nil {
		t.Fatal(err)
	}
	page3 := "/grid/incidents/" + strconv.FormatInt(third.ID, 10)
	incWantPage(t, e.get(f.villageStaff, page3, "zh-CN").Body.String(), "作为 "+first.Number+" 的重复件不予立案")
	incWantStatus(t, e.post(f.villageStaff, page3+"/act", url.Values{"kind": {"reject"}, "duplicate_of": {first.Number}}), http.StatusSeeOther)
	incWantPage(t, e.get(f.villageStaff, page3, "zh-CN").Body.String(), "不予立案", "与 "+first.Number+" 重复")

	// a resident's report through Open311: the phone masked
	online, err := f.svc.ReportOnline(f.ctx, grid.Report{Division: villageA, Category: catRubbish, Address: "门楼路 12 号", Name: "王芳", Phone: "13912345678"})
	if err != nil {
		t.Fatal(err)
	}
	body = e.get(f.villageStaff, "/grid/incidents/"+strconv.FormatInt(online.ID, 10), "zh-CN").Body.String()
	incWantPage(t, body, "群众反映", "王芳", "139****5678")
	if strings.Contains(body, "13912345678") {
		t.Error("the resident's phone shown in full")
	}
	// time passes: overdue incidents offer escalation
	f.now = time.Date(2026, 10, 20, 10, 0, 0, 0, china)
	incWantStatus(t, e.post(f.villageStaff, page1+"/act", url.Values{"kind": {"register"}}), http.StatusSeeOther)
	f.now = time.Date(2026, 9, 30, 10, 0, 0, 0, china)
}

func TestIncidentEscalationOffered(t *testing.T) {
	e := newIncWeb(t, dbtest.SQLite(t))
	f := e.f
	in := f.report(f.workerA1, f.gridA1, catDrain)
	f.do(f.villageStaff, in.ID, grid.Action{Kind: grid.ActRegister})
	f.do(f.villageStaff, in.ID, grid.Action{Kind: grid.ActDispatch})
	page := "/grid/incidents/" + strconv.FormatInt(in.ID, 10)
	if strings.Contains(e.get(f.townStaffA, page, "zh-CN").Body.String(), `id="act-escalate"`) {
		t.Fatal("escalation offered before the deadline")
	}
	f.now = time.Date(2026, 10, 13, 10, 0, 0, 0, china)
	body := e.get(f.townStaffA, page, "zh-CN").Body.String()
	incWantPage(t, body, `id="act-escalate"`, "已超期，升级到：东亭街道", "超期 3 个工作日") // 10-10 (a make-up Saturday), 10-12, 10-13
	incWantStatus(t, e.post(f.townStaffA, page+"/act", url.Values{"kind": {"escalate"}, "note": {"村里处置不了"}}), http.StatusSeeOther)
	cur, _ := f.svc.Get(f.ctx, f.admin, in.ID)
	if cur.Holder != townA || cur.Escalations != 1 {
		t.Fatalf("escalated %+v", cur)
	}
}

// TestIncidentCatalogue checks the catalogue keys the grid builds at run
// time, in both locales: states, actions, sources, levels, views, every
// error code of the grid's core and of these pages, ratings, kinds, levels
// of the figures.
func TestIncidentCatalogue(t *testing.T) {
	var keys []string
	add := func(prefix string, list ...string) {
		for _, k := range list {
			keys = append(keys, prefix+k)
		}
	}
	add("grid.state.", grid.States...)
	add("grid.action.", grid.Actions...)
	add("grid.action.", grid.ActReport)
	add("grid.source.", grid.Sources...)
	add("grid.level.", grid.LevelVillage, grid.LevelTownship, grid.LevelDepartment)
	add("grid.view.", grid.Views...)
	add("grid.incident.kind.", "component", "event")
	add("grid.incident.rating.", "1", "2", "3", "4", "5")
	add("grid.fig.level.", "1", "2", "3", "4", "5", "6")
	add("", "grid.nav")
	re := regexp.MustCompile(`(?:Add\("[a-z_]+", "([a-z_]+)"|Code: "([a-z_]+)"|"grid\.error\.([a-z_]+)")`)
	n := 0
	for _, file := range []string{"service.go", "list.go", "store.go", "model.go", "figures.go", "http_incidents.go"} {
		b, err := os.ReadFile(file)
		if err != nil {
			t.Fatal(err)
		}
		for _, m := range re.FindAllStringSubmatch(string(b), -1) {
			code := m[1] + m[2] + m[3]
			keys = append(keys, "grid.error."+code)
			n++
		}
	}
	if n < 30 {
		t.Fatalf("only %d error codes found: the pattern no longer matches the sources", n)
	}
	for _, loc := range i18n.Locales() {
		for _, k := range keys {
			if !i18n.Has(loc, k) {
				t.Errorf("%s: missing catalogue key %q", loc, k)
			}
		}
	}
	// an error with its argument
	e := &grid.FieldError{Field: "photos", Code: "photo_type", Arg: "2"}
	if got := grid.ErrorText("zh-CN", e); !strings.Contains(got, "第 2 个文件") {
		t.Errorf("error text %q", got)
	}
	if got := grid.ErrorText("en", &grid.FieldError{Code: "too_long", Arg: "200"}); !strings.Contains(got, "200") || strings.Contains(got, "%!") {
		t.Errorf("error text %q", got)
	}
}

func TestIncidentStateNames(t *testing.T) {
	e := newIncWeb(t, dbtest.SQLite(t))
	f := e.f
	// the xishan pack renames some states; others keep the catalogue's
	if got := f.svc.StateName("zh-CN", f.gridA1, grid.StateDispatched); got != "派遣处置中" {
		t.Errorf("pack's name %q", got)
	}
	if got := f.svc.StateName("zh-CN", f.gridA1, grid.StateSuspended); got != "已挂起" {
		t.Errorf("catalogue's name %q", got)
	}
	if got := f.svc.StateName("en", f.gridA1, grid.StateDispatched); got != "Dispatched" {
		t.Errorf("English %q", got)
	}
	views, err := f.svc.IncidentViews(f.ctx, "zh-CN", []grid.Incident{f.report(f.workerA1, f.gridA1, catDrain)})
	if err != nil || len(views) != 1 || views[0].PlaceName != "第一网格" || views[0].HolderName != "门楼社区居委会" || views[0].StateLabel != "上报" {
		t.Fatalf("views %+v %v", views, err)
	}
}
