package grid_test

import (
	"context"
	"io/fs"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strconv"
	"strings"
	"testing"
	"testing/fstest"

	"github.com/shequ-platform/shequ/internal/grid"
	"github.com/shequ-platform/shequ/internal/platform/access"
	"github.com/shequ-platform/shequ/internal/platform/audit"
	"github.com/shequ-platform/shequ/internal/platform/db"
	"github.com/shequ-platform/shequ/internal/platform/db/dbtest"
	"github.com/shequ-platform/shequ/internal/platform/web"
)

// patrolWeb serves the patrol and follow-up pages over the fixture, with
// the principal in each request's context as the login middleware puts it.
type patrolWeb struct {
	f *fixture
	h http.Handler
}

// patrolTemplates are this part's pages and the partials they use, so the
// tests do not depend on pages other parts are still writing.
var patrolTemplates = []string{"_grid_common.html", "_grid_patrol.html", "grid_patrol_new.html", "grid_patrols.html",
	"grid_coverage.html", "grid_followups.html", "grid_followup.html"}

func newPatrolWeb(t *testing.T, d *db.DB) *patrolWeb {
	t.Helper()
	f := newFixture(t, d)
	m := fstest.MapFS{}
	for _, name := range patrolTemplates {
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
	return &patrolWeb{f: f, h: mux}
}

func (e *patrolWeb) serve(p *access.Principal, r *http.Request, lang string) *httptest.ResponseRecorder {
	r.Header.Set("Accept-Language", lang)
	ctx := context.Background()
	if p != nil {
		ctx = audit.WithActor(access.WithPrincipal(ctx, p), audit.Actor{ID: p.UserID, Name: p.Username})
	}
	w := httptest.NewRecorder()
	e.h.ServeHTTP(w, r.WithContext(ctx))
	return w
}

func (e *patrolWeb) get(p *access.Principal, target string) *httptest.ResponseRecorder {
	return e.serve(p, httptest.NewRequest(http.MethodGet, target, nil), "zh-CN")
}

func (e *patrolWeb) post(p *access.Principal, target string, form url.Values) *httptest.ResponseRecorder {
	r := httptest.NewRequest(http.MethodPost, target, strings.NewReader(form.Encode()))
	r.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	return e.serve(p, r, "zh-CN")
}

func wantPage(t *testing.T, w *httptest.ResponseRecorder, status int, contains ...string) string {
	t.Helper()
	body := w.Body.String()
	if w.Code != status {
		t.Fatalf("status %d, want %d: %s", w.Code, status, body)
	}
	for _, s := range contains {
		if !strings.Contains(body, s) {
			t.Errorf("page lacks %q", s)
		}
	}
	return body
}

func TestPatrolPages(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		e := newPatrolWeb(t, d)
		f := e.f
		h7 := f.patrolHousehold(f.gridA1, "7号", false)
		h8 := f.patrolHousehold(f.gridA1, "8号", false)
		h9 := f.patrolHousehold(f.gridA2, "9号", false)
		link := func(id int64) string { return "household=" + strconv.FormatInt(id, 10) + `"` }

		// the worker's form lists the grid's households not yet visited
		body := wantPage(t, e.get(f.workerA1, "/grid/patrols/new"), http.StatusOK, "走访登记", "本月尚未走访的住户", "东亭路 7号", "东亭路 8号", headName("7号"))
		if strings.Contains(body, "9号") {
			t.Error("another grid's household offered")
		}
		if !strings.Contains(body, link(h7.ID)) || !strings.Contains(body, link(h8.ID)) {
			t.Error("households not linked")
		}
		body = wantPage(t, e.get(f.workerA1, "/grid/patrols/new?q="+url.QueryEscape("8号")), http.StatusOK, "查找结果")
		if strings.Contains(body, link(h7.ID)) || !strings.Contains(body, link(h8.ID)) {
			t.Error("search by house number")
		}
		wantPage(t, e.get(f.workerA1, "/grid/patrols/new?household="+strconv.FormatInt(h7.ID, 10)), http.StatusOK,
			`name="household" value="`+strconv.FormatInt(h7.ID, 10)+`"`, "发现问题", "保存走访记录")
		wantPage(t, e.get(f.workerA1, "/grid/patrols/new?household="+strconv.FormatInt(h9.ID, 10)), http.StatusOK, "找不到这户")

		// a visit that found a problem: saved, then one tap to the report form
		w := e.post(f.workerA1, "/grid/patrols", url.Values{"household": {strconv.FormatInt(h7.ID, 10)}, "problem": {"1"},
			"note": {"楼道堆放易燃杂物"}, "unit": {strconv.FormatInt(f.gridA1, 10)}})
		if w.Code != http.StatusSeeOther {
			t.Fatalf("post: %d %s", w.Code, w.Body)
		}
		loc := w.Header().Get("Location")
		if !strings.HasPrefix(loc, "/grid/patrols/new?") || !strings.Contains(loc, "done=") {
			t.Fatalf("redirect to %q", loc)
		}
		visits, _, err := f.svc.Visits(f.ctx, f.workerA1, grid.VisitFilter{Mine: true})
		if err != nil || len(visits) != 1 || !visits[0].Problem || visits[0].Note != "楼道堆放易燃杂物" {
			t.Fatalf("stored: %+v %v", visits, err)
		}
		vid := strconv.FormatInt(visits[0].ID, 10)
		body = wantPage(t, e.get(f.workerA1, loc), http.StatusOK, "已记录对“东亭路 7号”的走访",
			`href="/grid/report?household=`+strconv.FormatInt(h7.ID, 10)+`&amp;patrol=`+vid+`"`, "上报发现的问题",
			"第一网格本月已走访 1 / 2 户（50.0%）")
		if strings.Contains(body, link(h7.ID)) {
			t.Error("the visited household is still offered")
		}
		// someone else's visit is not shown as done
		if body := wantPage(t, e.get(f.villageStaff, "/grid/patrols/new?done="+vid), http.StatusOK); strings.Contains(body, "patrol="+vid) {
			t.Error("another user's visit offered for reporting")
		}

		// errors at the field, in Chinese, nothing stored
		w = e.post(f.workerA1, "/grid/patrols", url.Values{"household": {strconv.FormatInt(h8.ID, 10)}, "note": {strings.Repeat("长", 2001)}})
		wantPage(t, w, http.StatusUnprocessableEntity, "走访情况不能超过 2000 个字", `aria-invalid="true"`)
		w = e.post(f.workerA2, "/grid/patrols", url.Values{"household": {strconv.FormatInt(h8.ID, 10)}, "note": {"x"}})
		wantPage(t, w, http.StatusUnprocessableEntity, "找不到这户")
		w = e.post(f.workerA1, "/grid/patrols", url.Values{"household": {strconv.FormatInt(h8.ID, 10)}, "lat": {"31.5"}})
		wantPage(t, w, http.StatusUnprocessableEntity)
		w = e.post(f.workerA1, "/grid/patrols", url.Values{"household": {strconv.FormatInt(h8.ID, 10)}, "lat": {"31.5812"}, "lon": {"120.3571"}, "coords": {"wgs84"}})
		if w.Code != http.StatusSeeOther {
			t.Fatalf("with a position: %d %s", w.Code, w.Body)
		}
		if n := f.count(`SELECT COUNT(*) FROM patrols`); n != 2 {
			t.Fatalf("%d visits stored", n)
		}

		// the lists
		wantPage(t, e.get(f.workerA1, "/grid/patrols"), http.StatusOK, "走访记录", "东亭路 7号", "楼道堆放易燃杂物", "发现问题", "有定位")
		body = wantPage(t, e.get(f.villageStaff, "/grid/patrols?view=unit&unit="+strconv.FormatInt(villageA, 10)+"&problem=1"), http.StatusOK, "东亭路 7号")
		if strings.Contains(body, "东亭路 8号") {
			t.Error("problems only lists a visit without one")
		}
		wantPage(t, e.get(f.villageStaff, "/grid/patrols?view=unit&month=2026-08"), http.StatusOK, "这个月没有走访记录")
		wantPage(t, e.get(f.workerA2, "/grid/patrols?view=unit&unit="+strconv.FormatInt(f.gridA1, 10)), http.StatusNotFound)

		// coverage
		cov := "/grid/patrols/coverage?unit=" + strconv.FormatInt(villageA, 10) + "&month=2026-09"
		body = wantPage(t, e.get(f.villageStaff, cov), http.StatusOK, "走访覆盖率", "第一网格", "第二网格", "100.0%", "合计", "未达标", "目标：每月走访 100% 的住户")
		if !strings.Contains(body, "66.7%") { // 2 of 3 households of the village
			t.Error("the total share is missing")
		}
		wantPage(t, e.serve(f.villageStaff, httptest.NewRequest(http.MethodGet, cov, nil), "en"), http.StatusOK, "Patrol coverage", "Total")
		wantPage(t, e.get(f.townStaffA, "/grid/patrols/coverage?unit="+strconv.FormatInt(townA, 10)), http.StatusOK, "门楼社区居委会",
			`/grid/patrols/coverage?month=`)
		wantPage(t, e.get(f.workerA1, cov), http.StatusNotFound)
		wantPage(t, e.get(f.townStaffB, cov), http.StatusNotFound)

		// pages of those who may not
		wantPage(t, e.get(f.viewer, "/grid/patrols/new"), http.StatusNotFound)
		wantPage(t, e.post(f.viewer, "/grid/patrols", url.Values{"household": {strconv.FormatInt(h8.ID, 10)}}), http.StatusNotFound)
		wantPage(t, e.get(nil, "/grid/patrols"), http.StatusNotFound)
	})
}
