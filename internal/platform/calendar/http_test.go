package calendar

import (
	"bytes"
	"context"
	"io"
	"mime/multipart"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"

	"github.com/shequ-platform/shequ/internal/platform/access"
	"github.com/shequ-platform/shequ/internal/platform/audit"
	"github.com/shequ-platform/shequ/internal/platform/db"
	"github.com/shequ-platform/shequ/internal/platform/db/dbtest"
	"github.com/shequ-platform/shequ/internal/platform/i18n"
	"github.com/shequ-platform/shequ/internal/platform/web"
)

// server serves the calendar pages with the principal named by the X-User
// header, behind the cross-origin protection the app uses.
func server(t *testing.T, s *Service) http.Handler {
	t.Helper()
	rd := web.NewRenderer(func(r *http.Request) web.Shell {
		return web.Shell{Locale: r.Header.Get("X-Locale"), LoggedIn: true}
	})
	if err := rd.Register(Templates(), "templates/*.html", nil); err != nil {
		t.Fatal(err)
	}
	mux := http.NewServeMux()
	(&HTTP{S: s, R: rd}).Routes(mux)
	viewer := &access.Principal{UserID: 3, Username: "viewer", Assignments: []access.Assignment{{Role: "viewer", Division: 0}}}
	users := map[string]*access.Principal{"admin": admin, "county": county, "viewer": viewer}
	return http.NewCrossOriginProtection().Handler(http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		ctx := access.WithPrincipal(req.Context(), users[req.Header.Get("X-User")])
		ctx = audit.WithActor(ctx, audit.Actor{Name: req.Header.Get("X-User"), Client: "test"})
		mux.ServeHTTP(w, req.WithContext(ctx))
	}))
}

func request(h http.Handler, method, target, user string, body io.Reader, ctype string) *httptest.ResponseRecorder {
	req := httptest.NewRequest(method, target, body)
	req.Header.Set("X-User", user)
	req.Header.Set("X-Locale", "zh-CN")
	req.Header.Set("Sec-Fetch-Site", "same-origin")
	if ctype != "" {
		req.Header.Set("Content-Type", ctype)
	}
	w := httptest.NewRecorder()
	h.ServeHTTP(w, req)
	return w
}

func get(h http.Handler, target, user string) *httptest.ResponseRecorder {
	return request(h, "GET", target, user, nil, "")
}

func postForm(h http.Handler, target, user string, v url.Values) *httptest.ResponseRecorder {
	return request(h, "POST", target, user, strings.NewReader(v.Encode()), "application/x-www-form-urlencoded")
}

func upload(t *testing.T, h http.Handler, user, year, csv string, withFile bool) *httptest.ResponseRecorder {
	t.Helper()
	var buf bytes.Buffer
	mw := multipart.NewWriter(&buf)
	_ = mw.WriteField("year", year)
	if withFile {
		fw, err := mw.CreateFormFile("file", "2027年放假安排.csv")
		if err != nil {
			t.Fatal(err)
		}
		_, _ = fw.Write([]byte(csv))
	}
	_ = mw.Close()
	return request(h, "POST", "/admin/calendar/import", user, &buf, mw.FormDataContentType())
}

func contains(t *testing.T, what string, w *httptest.ResponseRecorder, wants ...string) {
	t.Helper()
	body := w.Body.String()
	for _, want := range wants {
		if !strings.Contains(body, want) {
			t.Errorf("%s lacks %q", what, want)
		}
	}
}

func lacks(t *testing.T, what string, w *httptest.ResponseRecorder, nots ...string) {
	t.Helper()
	body := w.Body.String()
	for _, not := range nots {
		if strings.Contains(body, not) {
			t.Errorf("%s has %q", what, not)
		}
	}
}

func TestHTTP(t *testing.T) {
	t.Parallel()
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		s, _ := newService(t, d) // today is 2026-11-23
		h := server(t, s)

		// the page of the current year
		w := get(h, "/admin/calendar", "admin")
		if w.Code != 200 {
			t.Fatalf("page: %d", w.Code)
		}
		contains(t, "2026 page", w,
			"2026 年工作日历", `<td class="cal-date">2026-10-01</td>`, "国庆节调休上班", `id="cal-working-days">248<`,
			"2027 年的放假安排尚未录入", `href="/admin/calendar?year=2027"`,
			`<table class="cal-month">`, `<caption>10月</caption>`, `class="cal-holiday" title="国庆节 · 放假">1`,
			`class="cal-workday" title="国庆节调休上班 · 调休上班">10`, `class="cal-rest">11<`, `<td class="cal-today">23<`, `<td>24<`,
			`action="/admin/calendar/days"`, `action="/admin/calendar/days/2026-10-01/delete"`, `action="/admin/calendar/import"`,
			`enctype="multipart/form-data"`)
		if strings.Count(w.Body.String(), `<table class="cal-month">`) != 12 {
			t.Error("the year should have 12 month tables")
		}
		lacks(t, "2026 page", w, "2026 年的放假安排尚未录入", "calendar.")

		// English
		req := httptest.NewRequest("GET", "/admin/calendar?year=2025", nil)
		req.Header.Set("X-User", "admin")
		req.Header.Set("X-Locale", "en")
		ew := httptest.NewRecorder()
		h.ServeHTTP(ew, req)
		contains(t, "English page", ew, "Working-day calendar 2025", "Make-up working day", "<td>Wednesday</td>", "October", `id="cal-working-days">248<`)

		// a year not entered
		w = get(h, "/admin/calendar?year=2027", "admin")
		contains(t, "2027 page", w, "2027 年的放假安排尚未录入：", `id="cal-working-days">261<`, "2027 年还没有录入")
		lacks(t, "2027 page", w, "下面只按周末")
		w = get(h, "/admin/calendar?year=2030", "admin")
		contains(t, "2030 page", w, "2030 年的放假安排尚未录入，下面只按周末", "2027 年的放假安排尚未录入：")
		for _, bad := range []string{"x", "1800", "20261"} {
			if w := get(h, "/admin/calendar?year="+bad, "admin"); w.Code != http.StatusBadRequest {
				t.Errorf("year=%s: %d", bad, w.Code)
			}
		}

		// without calendar.manage: the page read-only, the forms refused
		for _, u := range []string{"viewer", "county", ""} {
			w := get(h, "/admin/calendar?year=2026", u)
			if w.Code != 200 {
				t.Errorf("%s: page %d", u, w.Code)
			}
			lacks(t, u+"'s page", w, `action="/admin/calendar/days"`, "/delete", `action="/admin/calendar/import"`)
			if w := postForm(h, "/admin/calendar/days", u, url.Values{"date": {"2027-01-01"}, "kind": {"holiday"}}); w.Code != http.StatusForbidden {
				t.Errorf("%s: set %d", u, w.Code)
			}
			if w := postForm(h, "/admin/calendar/days/2026-10-01/delete", u, nil); w.Code != http.StatusForbidden {
				t.Errorf("%s: delete %d", u, w.Code)
			}
			if w := upload(t, h, u, "2027", "date,kind\n2027-01-01,holiday\n", true); w.Code != http.StatusForbidden {
				t.Errorf("%s: upload %d", u, w.Code)
			}
		}
		if n := countRows(t, d, "day >= ?", 20270101); n != 0 {
			t.Fatalf("refused requests wrote %d rows", n)
		}
		if n := len(auditEntries(t, d, audit.Denied, "")); n != 9 {
			t.Errorf("%d denials audited, want 9", n)
		}

		// a cross-site form post is refused before it reaches the handler
		creq := httptest.NewRequest("POST", "/admin/calendar/days", strings.NewReader("date=2027-01-01&kind=holiday"))
		creq.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		creq.Header.Set("X-User", "admin")
		creq.Header.Set("Sec-Fetch-Site", "cross-site")
		cw := httptest.NewRecorder()
		h.ServeHTTP(cw, creq)
		if cw.Code != http.StatusForbidden {
			t.Errorf("cross-site post: %d", cw.Code)
		}

		// add a day
		w = postForm(h, "/admin/calendar/days", "admin", url.Values{"date": {"2027-01-01"}, "kind": {"holiday"}, "name": {" 元旦 "}, "year": {"2026"}})
		if w.Code != http.StatusSeeOther || w.Header().Get("Location") != "/admin/calendar?year=2027&done=saved" {
			t.Fatalf("set: %d %s", w.Code, w.Header().Get("Location"))
		}
		w = get(h, "/admin/calendar?year=2027&done=saved", "admin")
		contains(t, "2027 after set", w, "已保存", `<td class="cal-date">2027-01-01</td>`, "<td>星期五</td>", "<td>元旦</td>")
		lacks(t, "2027 after set", w, "2027 年的放假安排尚未录入")
		// edit link prefills the form
		w = get(h, "/admin/calendar?year=2027&edit=2027-01-01", "admin")
		contains(t, "edit form", w, `name="date" type="date" value="2027-01-01"`, `name="name" value="元旦"`, `<option value="holiday" selected>`)

		// invalid: a make-up day on a Monday, an impossible date, no date
		for _, tc := range []struct {
			form url.Values
			want string
		}{
			{url.Values{"date": {"2027-01-04"}, "kind": {"workday"}, "name": {"调休"}, "year": {"2027"}},
				"日期（date）：2027-01-04 是周一至周五中的一天，调休上班日只能是周六或周日"},
			{url.Values{"date": {"2027-02-30"}, "kind": {"holiday"}, "year": {"2027"}}, "日期（date）：“2027-02-30”不是有效的日期"},
			{url.Values{"date": {""}, "kind": {"holiday"}, "year": {"2027"}}, "日期（date）：不能为空"},
			{url.Values{"date": {"2027-01-02"}, "kind": {"rest"}, "year": {"2027"}}, "类型（kind）：“rest”不是有效的类型"},
		} {
			w := postForm(h, "/admin/calendar/days", "admin", tc.form)
			if w.Code != http.StatusUnprocessableEntity {
				t.Errorf("%v: %d", tc.form, w.Code)
			}
			contains(t, "invalid set", w, tc.want, `class="field-error"`, `value="`+tc.form.Get("date")+`"`, "2027 年工作日历")
		}

		// delete
		w = postForm(h, "/admin/calendar/days/2026-10-10/delete", "admin", nil)
		if w.Code != http.StatusSeeOther || w.Header().Get("Location") != "/admin/calendar?year=2026&done=deleted" {
			t.Fatalf("delete: %d %s", w.Code, w.Header().Get("Location"))
		}
		w = get(h, "/admin/calendar?year=2026&done=deleted", "admin")
		contains(t, "2026 after delete", w, "已删除", `id="cal-working-days">247<`)
		lacks(t, "2026 after delete", w, `<td class="cal-date">2026-10-10</td>`)
		for _, p := range []string{"/admin/calendar/days/2026-10-10/delete", "/admin/calendar/days/2026-02-30/delete", "/admin/calendar/days/x/delete"} {
			if w := postForm(h, p, "admin", nil); w.Code != http.StatusNotFound {
				t.Errorf("%s: %d", p, w.Code)
			}
		}
		// the last day of 2027 stays, with the reason on the page
		w = postForm(h, "/admin/calendar/days/2027-01-01/delete", "admin", nil)
		if w.Code != http.StatusUnprocessableEntity {
			t.Errorf("last day: %d", w.Code)
		}
		contains(t, "last day", w, "这是 2027 年录入的最后一个日期，不能删除")

		// upload a year
		good := "date,kind,name\n2027-01-01,holiday,元旦\n2027-02-07,workday,春节调休上班\n2027-02-08,holiday,春节\n"
		w = upload(t, h, "admin", "2027", good, true)
		if w.Code != http.StatusSeeOther || w.Header().Get("Location") != "/admin/calendar?year=2027&done=imported" {
			t.Fatalf("upload: %d %s\n%s", w.Code, w.Header().Get("Location"), w.Body.String())
		}
		w = get(h, "/admin/calendar?year=2027&done=imported", "admin")
		contains(t, "2027 after upload", w, "已导入", `<td class="cal-date">2027-02-07</td>`, "<td>星期日</td>", "春节调休上班")
		if c, _ := s.Calendar(context.Background()); c.AddWorkingDays(20270205, 1) != 20270207 {
			t.Error("the uploaded make-up Sunday does not count")
		}

		// bad uploads name the line and the field, and change nothing
		for _, tc := range []struct {
			name, year, csv string
			file            bool
			want            string
		}{
			{"bad kind", "2027", "date,kind,name\n2027-01-01,holiday,元旦\n2027-01-02,休息,元旦\n", true, "第 3 行“类型（kind）”列：“休息”不是有效的类型"},
			{"other year", "2027", "date,kind,name\n2026-12-31,holiday,元旦\n", true, "第 2 行“日期（date）”列：2026-12-31 不在 2027 年内"},
			{"no kind column", "2027", "date,name\n2027-01-01,元旦\n", true, "类型（kind）：表头缺少这一列"},
			{"empty", "2027", "date,kind,name\n", true, "没有任何日期"},
			{"no file", "2027", "", false, "文件：不能为空"},
			{"bad year", "27", good, true, "年份：“27”不是有效的年份"},
		} {
			w := upload(t, h, "admin", tc.year, tc.csv, tc.file)
			if w.Code != http.StatusUnprocessableEntity {
				t.Errorf("%s: %d", tc.name, w.Code)
			}
			contains(t, tc.name, w, tc.want, `id="cal-upload-error"`)
		}
		if n := countRows(t, d, "day >= ?", 20270101); n != 3 {
			t.Errorf("2027 has %d rows after the bad uploads", n)
		}
		if w := upload(t, h, "admin", "2027", strings.Repeat("x", maxUpload+1), true); w.Code != http.StatusRequestEntityTooLarge {
			t.Errorf("large upload: %d", w.Code)
		}
	})
}

func TestCatalogue(t *testing.T) {
	t.Parallel()
	keys := []string{"calendar.nav"}
	keys = append(keys, weekdayKeys[:]...)
	keys = append(keys, monthKeys[:]...)
	for _, k := range doneKeys {
		keys = append(keys, k)
	}
	for _, loc := range i18n.Locales() {
		for _, k := range keys {
			if !i18n.Has(loc, k) {
				t.Errorf("%s: missing %q", loc, k)
			}
		}
	}
}
