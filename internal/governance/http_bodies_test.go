package governance_test

import (
	"context"
	"html"
	"io/fs"
	"net/http"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"testing/fstest"

	"github.com/shequ-platform/shequ/internal/governance"
	"github.com/shequ-platform/shequ/internal/platform/access"
	"github.com/shequ-platform/shequ/internal/platform/audit"
	"github.com/shequ-platform/shequ/internal/platform/db/dbtest"
	"github.com/shequ-platform/shequ/internal/platform/web"
)

// The pages of bodies and meetings, rendered by the real renderer.

type bodyWeb struct {
	*fixture
	h http.Handler
}

// myTemplates are the shared partials and the pages of bodies, meetings
// and the overview (the other parts' pages are tested by their owners).
func myTemplates(t *testing.T) fs.FS {
	t.Helper()
	m := fstest.MapFS{}
	err := fs.WalkDir(governance.Templates(), "templates", func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		name := strings.TrimPrefix(p, "templates/")
		if strings.HasPrefix(name, "_gov_common") || strings.HasPrefix(name, "gov_overview") || strings.HasPrefix(name, "gov_bod") ||
			strings.HasPrefix(name, "gov_meeting") {
			b, err := fs.ReadFile(governance.Templates(), p)
			m[p] = &fstest.MapFile{Data: b}
			return err
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return m
}

func newBodyWeb(t *testing.T) *bodyWeb {
	t.Helper()
	f := newFixtureWith(t, dbtest.SQLite(t), testGovernance)
	rd := web.NewRenderer(nil)
	if err := rd.Register(myTemplates(t), "templates/*.html", governance.Funcs()); err != nil {
		t.Fatal(err)
	}
	mux := http.NewServeMux()
	(&governance.HTTP{S: f.svc, R: rd, PublicURL: "https://shequ.example.cn"}).Routes(mux)
	return &bodyWeb{fixture: f, h: mux}
}

func (e *bodyWeb) serve(p *access.Principal, method, target string, form url.Values) *httptest.ResponseRecorder {
	e.t.Helper()
	var req *http.Request
	if form != nil {
		req = httptest.NewRequest(method, target, strings.NewReader(form.Encode()))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	} else {
		req = httptest.NewRequest(method, target, nil)
	}
	req.Header.Set("Accept-Language", "zh-CN")
	ctx := context.Background()
	if p != nil {
		ctx = audit.WithActor(access.WithPrincipal(ctx, p), audit.Actor{ID: p.UserID, Name: p.Username})
	}
	w := httptest.NewRecorder()
	e.h.ServeHTTP(w, req.WithContext(ctx))
	return w
}

func (e *bodyWeb) get(p *access.Principal, target string) (int, string) {
	w := e.serve(p, http.MethodGet, target, nil)
	return w.Code, w.Body.String()
}

func pageText(page string) string {
	return html.UnescapeString(regexp.MustCompile(`<[^>]*>`).ReplaceAllString(page, ""))
}

var idRE = regexp.MustCompile(`/(\d+)\?done=`)

func TestBodyPages(t *testing.T) {
	e := newBodyWeb(t)
	p := e.villageStaffA
	// a new body through the form
	w := e.serve(p, http.MethodPost, "/governance/bodies/new", url.Values{"division": {strconv.FormatInt(villageA, 10)},
		"kind": {"council"}, "name": {"门楼社区事务理事会"}, "term_start": {"2026-06-01"}})
	if w.Code != http.StatusSeeOther {
		t.Fatalf("create: %d %s", w.Code, pageText(w.Body.String()))
	}
	m := idRE.FindStringSubmatch(w.Header().Get("Location"))
	if m == nil {
		t.Fatalf("location %q", w.Header().Get("Location"))
	}
	body := "/governance/bodies/" + m[1]
	// a bad kind comes back at the field
	w = e.serve(p, http.MethodPost, "/governance/bodies/new", url.Values{"division": {strconv.FormatInt(villageA, 10)}, "kind": {"senate"}})
	if w.Code != http.StatusUnprocessableEntity || !strings.Contains(pageText(w.Body.String()), "本地政策包没有这种组织") {
		t.Fatalf("bad kind: %d", w.Code)
	}
	// find a resident by name, pick, appoint
	w = e.serve(p, http.MethodPost, body+"/members", url.Values{"op": {"search"}, "q": {"王德"}})
	if w.Code != http.StatusOK || !strings.Contains(w.Body.String(), "pick."+strconv.FormatInt(e.res("王德明").ID, 10)) {
		t.Fatalf("search: %d %s", w.Code, pageText(w.Body.String()))
	}
	// 王五 lives in another village: not offered
	w = e.serve(p, http.MethodPost, body+"/members", url.Values{"op": {"search"}, "q": {"王五"}})
	if strings.Contains(w.Body.String(), "pick.") {
		t.Fatal("a resident of another village is offered")
	}
	w = e.serve(p, http.MethodPost, body+"/members", url.Values{"op": {"add"}, "resident_id": {strconv.FormatInt(e.res("王德明").ID, 10)},
		"post": {"chair"}})
	if w.Code != http.StatusSeeOther {
		t.Fatalf("appoint: %d %s", w.Code, pageText(w.Body.String()))
	}
	// the same resident again: the message at the form
	w = e.serve(p, http.MethodPost, body+"/members", url.Values{"op": {"add"}, "resident_id": {strconv.FormatInt(e.res("王德明").ID, 10)},
		"post": {"member"}})
	if w.Code != http.StatusUnprocessableEntity || !strings.Contains(pageText(w.Body.String()), "该居民已是本组织成员") {
		t.Fatalf("twice: %d", w.Code)
	}
	code, page := e.get(p, body)
	txt := pageText(page)
	for _, want := range []string{"门楼社区事务理事会", "王德明", "召集人", "现有成员 1 人，少于规定的 5 人", "NH-2", "召集人应由党支部书记担任"} {
		if !strings.Contains(txt, want) {
			t.Fatalf("body page (%d) lacks %q:\n%s", code, want, txt)
		}
	}
	for _, bad := range []string{"身份证", "手机"} {
		if strings.Contains(txt, bad) {
			t.Fatalf("the body page shows %s", bad)
		}
	}
	// the overview of the village and of the township
	code, page = e.get(p, "/governance")
	if code != http.StatusOK || !strings.Contains(pageText(page), "门楼社区事务理事会") || !strings.Contains(page, `aria-current="page">概况`) {
		t.Fatalf("overview %d", code)
	}
	code, page = e.get(e.townStaffA, "/governance")
	if code != http.StatusOK || !strings.Contains(page, "?unit="+strconv.FormatInt(villageA, 10)) || !strings.Contains(pageText(page), "柏庄社区") {
		t.Fatalf("township overview %d %s", code, pageText(page))
	}
	// another village's staff: not found
	if code, _ := e.get(e.villageStaffB, body); code != http.StatusNotFound {
		t.Fatalf("another village: %d", code)
	}
	if code, _ := e.get(nil, "/governance"); code != http.StatusNotFound {
		t.Fatalf("anonymous: %d", code)
	}
}

func TestMeetingPages(t *testing.T) {
	e := newBodyWeb(t)
	p := e.villageStaffA
	reps := e.representatives(27)
	w := e.serve(p, http.MethodPost, "/governance/meetings/new", url.Values{"body_id": {strconv.FormatInt(reps.ID, 10)},
		"title": {"居民代表会议"}, "day": {"2026-09-30"}, "start": {"19:30"}, "length": {"90"}, "place": {"议事厅"}})
	if w.Code != http.StatusSeeOther {
		t.Fatalf("schedule: %d %s", w.Code, pageText(w.Body.String()))
	}
	mid := idRE.FindStringSubmatch(w.Header().Get("Location"))[1]
	base := "/governance/meetings/" + mid
	if w = e.serve(p, http.MethodPost, base+"/agenda", url.Values{"title": {"门楼路东段路面硬化"}}); w.Code != http.StatusSeeOther {
		t.Fatalf("agenda: %d %s", w.Code, pageText(w.Body.String()))
	}
	// the attendance form: everyone present by default; 10 absent
	code, page := e.get(p, base)
	if code != http.StatusOK || strings.Count(page, `.member_id" value="`) != 27 {
		t.Fatalf("meeting page %d", code)
	}
	members, _ := e.svc.MeetingMembers(e.ctx, p, mustID(t, mid))
	form := url.Values{}
	for i, m := range members {
		pre := "attendance[" + strconv.Itoa(i) + "]."
		form.Set(pre+"member_id", strconv.FormatInt(m.ID, 10))
		form.Set(pre+"status", "present")
		if i >= 17 {
			form.Set(pre+"status", "absent")
		}
	}
	// a proxy held by an absent member: refused at the row
	form.Set("attendance[20].status", "proxy")
	form.Set("attendance[20].proxy_id", strconv.FormatInt(members[25].ID, 10))
	w = e.serve(p, http.MethodPost, base+"/attendance", form)
	if w.Code != http.StatusUnprocessableEntity || !strings.Contains(pageText(w.Body.String()), "代理人须本人出席会议") {
		t.Fatalf("proxy: %d", w.Code)
	}
	form.Set("attendance[20].proxy_id", strconv.FormatInt(members[0].ID, 10))
	form.Set("attendance[21].status", "proxy")
	form.Set("attendance[21].proxy_id", strconv.FormatInt(members[1].ID, 10))
	if w = e.serve(p, http.MethodPost, base+"/attendance", form); w.Code != http.StatusSeeOther {
		t.Fatalf("attendance: %d %s", w.Code, pageText(w.Body.String()))
	}
	code, page = e.get(p, base)
	if !strings.Contains(pageText(page), "出席 19/27 人，法定人数 ≥ 19") {
		t.Fatalf("quorum line missing (%d):\n%s", code, pageText(page))
	}
	m, _ := e.svc.GetMeeting(e.ctx, p, mustID(t, mid))
	item := "/governance/meetings/" + mid + "/agenda/" + strconv.FormatInt(m.Agenda[0].ID, 10)
	// more hands than attendance: the tally's message
	w = e.serve(p, http.MethodPost, item+"/vote", url.Values{"mode": {"counted"}, "for": {"15"}, "against": {"5"}})
	if w.Code != http.StatusUnprocessableEntity || !strings.Contains(pageText(w.Body.String()), "赞成、反对、弃权票之和超过了出席人数") {
		t.Fatalf("over: %d", w.Code)
	}
	w = e.serve(p, http.MethodPost, item+"/vote", url.Values{"mode": {"counted"}, "for": {"12"}, "against": {"5"}, "abstain": {"2"},
		"resolution": {"同意实施。"}})
	if w.Code != http.StatusSeeOther {
		t.Fatalf("vote: %d %s", w.Code, pageText(w.Body.String()))
	}
	_, page = e.get(p, base)
	txt := pageText(page)
	for _, want := range []string{"通过", "赞成 12 · 反对 5 · 弃权 2；通过需赞成 ≥ 10（出席 19 人）", "同意实施。"} {
		if !strings.Contains(txt, want) {
			t.Fatalf("meeting page lacks %q:\n%s", want, txt)
		}
	}
	// the body's calendar
	w = e.serve(p, http.MethodGet, "/governance/bodies/"+strconv.FormatInt(reps.ID, 10)+"/calendar.ics", nil)
	if w.Code != http.StatusOK || !strings.HasPrefix(w.Header().Get("Content-Type"), "text/calendar") ||
		!strings.Contains(w.Body.String(), "DTSTART;TZID=Asia/Shanghai:20260930T193000\r\n") {
		t.Fatalf("calendar %d %q", w.Code, w.Body.String())
	}
	if w = e.serve(e.villageStaffB, http.MethodGet, "/governance/bodies/"+strconv.FormatInt(reps.ID, 10)+"/calendar.ics", nil); w.Code != http.StatusNotFound {
		t.Fatalf("calendar elsewhere: %d", w.Code)
	}
	if code, _ := e.get(p, "/governance/meetings?view=past"); code != http.StatusOK {
		t.Fatalf("list %d", code)
	}
}

func mustID(t *testing.T, s string) int64 {
	t.Helper()
	n, err := strconv.ParseInt(s, 10, 64)
	if err != nil {
		t.Fatal(err)
	}
	return n
}
