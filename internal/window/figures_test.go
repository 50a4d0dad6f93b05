package window_test

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/shequ-platform/shequ/internal/platform/access"
	"github.com/shequ-platform/shequ/internal/platform/audit"
	"github.com/shequ-platform/shequ/internal/platform/db"
	"github.com/shequ-platform/shequ/internal/platform/db/dbtest"
	"github.com/shequ-platform/shequ/internal/platform/facts"
	"github.com/shequ-platform/shequ/internal/platform/jobs"
	"github.com/shequ-platform/shequ/internal/platform/web"
	"github.com/shequ-platform/shequ/internal/window"
)

// figAt moves the fixture's clock to day (YYYYMMDD) at 10:00 in China.
func (f *fixture) figAt(day int) {
	f.now = time.Date(day/10000, time.Month(day/100%100), day%100, 10, 0, 0, 0, china)
}

// figIntake records a walk-in's matter at unit on day: XS-BM-01 (便民服务,
// 3 working days) unless civil is set (XS-MZ-02 临时救助, 15 working days).
func (f *fixture) figIntake(day int, unit int64, civil bool, mod func(in *window.Intake)) window.Case {
	f.t.Helper()
	f.figAt(day)
	in := walkin(window.DecideAccept)
	if civil {
		in = aid(window.DecideAccept, allAid...)
	}
	in.Unit = unit
	if mod != nil {
		mod(&in)
	}
	c, err := f.svc.Intake(f.ctx, f.admin, in)
	if err != nil {
		f.t.Fatalf("intake on %d at %d: %v", day, unit, err)
	}
	return c
}

func (f *fixture) figComplete(day int, c window.Case) window.Case {
	f.t.Helper()
	f.figAt(day)
	return f.do(f.admin, c.ID, window.Action{Kind: window.ActComplete, Outcome: window.OutcomeApproved})
}

func (f *fixture) figRate(day int, c window.Case, phone string, level int) {
	f.t.Helper()
	f.figAt(day)
	digits := regexp.MustCompile(`\D`).ReplaceAllString(phone, "")
	if _, err := f.svc.Rate(f.ctx, c.Number, digits[len(digits)-4:], level, ""); err != nil {
		f.t.Fatalf("rate %s: %v", c.Number, err)
	}
}

// figToday is the day the figures scenario looks from.
const figToday = 20260320

// figScenario records nine cases in January–March 2026 and leaves the clock
// on figToday:
//
//	门楼社区 (A)  c1 accepted 5 Jan, completed on time 7 Jan, rated 5
//	             c2 accepted 2 Feb, completed late 2 Mar
//	             c3 by phone, accepted 2 Mar, still open: overdue on 20 Mar
//	             c4 agency, accepted 19 Mar, open, not overdue
//	柏庄社区 (C)  c5 accepted 9 Feb, completed on time 10 Feb, rated 3
//	东亭街道 own  c6 accepted at the township's window 11 Feb, completed 12 Feb
//	吼山社区 (B)  c7 rejected 20 Jan; c8 waiting for materials since 2 Mar
//	             c9 临时救助 accepted 2 Feb, 15 working days: overdue on 20 Mar
func figScenario(f *fixture) map[string]window.Case {
	f.t.Helper()
	cs := map[string]window.Case{}
	cs["c1"] = f.figIntake(20260105, villageA, false, nil)
	f.figComplete(20260107, cs["c1"])
	f.figRate(20260108, cs["c1"], walkin("").Phone, 5)
	cs["c2"] = f.figIntake(20260202, villageA, false, nil)
	cs["c9"] = f.figIntake(20260202, villageB, true, nil)
	cs["c5"] = f.figIntake(20260209, villageC, false, nil)
	f.figComplete(20260210, cs["c5"])
	f.figRate(20260211, cs["c5"], walkin("").Phone, 3)
	cs["c6"] = f.figIntake(20260211, townA, false, nil)
	f.figComplete(20260212, cs["c6"])
	f.figAt(20260120)
	in := walkin(window.DecideReject)
	in.Unit, in.Note = villageB, "不属于本窗口受理范围"
	if _, err := f.svc.Intake(f.ctx, f.admin, in); err != nil {
		f.t.Fatal(err)
	}
	cs["c3"] = f.figIntake(20260302, villageA, false, func(in *window.Intake) { in.Channel = window.ChannelPhone })
	if done := f.figComplete(20260302, cs["c2"]); done.OnTime {
		f.t.Fatalf("c2 completed on %d, deadline %d: on time", done.ClosedDay, done.Deadline)
	}
	f.figAt(20260302)
	in = walkin(window.DecideSupplement)
	in.Unit, in.Note = villageB, "缺少身份证复印件"
	c8, err := f.svc.Intake(f.ctx, f.admin, in)
	if err != nil || c8.State != window.StateSupplement {
		f.t.Fatalf("c8 %+v %v", c8, err)
	}
	cs["c8"] = c8
	cs["c4"] = f.figIntake(20260319, villageA, false, func(in *window.Intake) { in.Agency = true })
	f.figAt(figToday)
	for _, k := range []string{"c3", "c9"} {
		if c, _ := f.svc.Get(f.ctx, f.admin, cs[k].ID); !c.Overdue(figToday) {
			f.t.Fatalf("%s not overdue on %d: %+v", k, figToday, c)
		}
	}
	if c, _ := f.svc.Get(f.ctx, f.admin, cs["c4"].ID); c.Overdue(figToday) {
		f.t.Fatalf("c4 overdue on %d", figToday)
	}
	return cs
}

func wantCounts(t *testing.T, what string, got window.Counts, want window.Counts) {
	t.Helper()
	if got != want {
		t.Errorf("%s: got %+v, want %+v", what, got, want)
	}
}

// figCheckSums checks that every breakdown of fs adds up to its totals and
// that the month series adds up to the accepted, completed and on-time
// totals.
func figCheckSums(t *testing.T, fs window.Figures) {
	t.Helper()
	for name, rows := range map[string][]window.Row{"categories": fs.Categories, "channels": fs.Channels, "items": fs.Items} {
		var sum window.Counts
		for _, r := range rows {
			sum.Accepted += r.Accepted
			sum.Completed += r.Completed
			sum.OnTime += r.OnTime
			sum.OpenOverdue += r.OpenOverdue
			if r.Agency != 0 {
				t.Errorf("%s: agency is not broken down: %+v", name, r)
			}
		}
		want := fs.Totals.Counts
		want.Agency = 0
		if name != "categories" { // channels and items: accepted and overdue only
			want.Completed, want.OnTime = 0, 0
		}
		wantCounts(t, name+" of "+strconv.FormatInt(fs.Unit, 10), sum, want)
	}
	var m window.Counts
	for _, x := range fs.Months {
		m.Accepted += x.Accepted
		m.Completed += x.Completed
		m.OnTime += x.OnTime
		m.Agency += x.Agency
	}
	m.OpenOverdue = fs.Totals.OpenOverdue
	wantCounts(t, "months of "+strconv.FormatInt(fs.Unit, 10), m, fs.Totals.Counts)
}

// figCheckTree checks, from unit down to the villages, that every unit's
// figures equal the sum of its children's rows plus its own window's, and
// that each child's row equals the child's own figures.
func figCheckTree(t *testing.T, f *fixture, unit int64, from, to int) window.Figures {
	t.Helper()
	fs, err := f.svc.Figures(f.ctx, f.admin, unit, from, to)
	if err != nil {
		t.Fatal(err)
	}
	figCheckSums(t, fs)
	var sum window.Counts
	var rated, ratingSum int64
	rows := fs.Children
	if fs.Own != nil {
		rows = append(rows, *fs.Own)
	}
	for _, u := range rows {
		sum.Accepted += u.Accepted
		sum.Completed += u.Completed
		sum.OnTime += u.OnTime
		sum.Agency += u.Agency
		sum.OpenOverdue += u.OpenOverdue
		rated += u.Rated
		ratingSum += u.RatingSum
		if u.Own {
			continue
		}
		child := figCheckTree(t, f, u.Code, from, to)
		wantCounts(t, "row of "+u.Name+" vs its own figures", u.Counts, child.Totals.Counts)
		if u.Rated != child.Totals.Rated || u.RatingSum != child.Totals.RatingSum {
			t.Errorf("%s: ratings %d/%d, own figures %d/%d", u.Name, u.Rated, u.RatingSum, child.Totals.Rated, child.Totals.RatingSum)
		}
	}
	if len(rows) > 0 {
		wantCounts(t, "children of "+fs.UnitName, sum, fs.Totals.Counts)
		if rated != fs.Totals.Rated || ratingSum != fs.Totals.RatingSum {
			t.Errorf("%s: children rated %d (sum %d), parent %d (%d)", fs.UnitName, rated, ratingSum, fs.Totals.Rated, fs.Totals.RatingSum)
		}
	}
	return fs
}

func TestFiguresParentIsSumOfChildren(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		f := newFixture(t, d)
		figScenario(f)

		fs := figCheckTree(t, f, county, 202601, 202603)
		if !fs.OverdueInRate || fs.Today != figToday {
			t.Fatalf("overdue in rate %v, today %d", fs.OverdueInRate, fs.Today)
		}
		tot := fs.Totals
		wantCounts(t, "county", tot.Counts, window.Counts{Accepted: 7, Completed: 4, OnTime: 3, Agency: 1, OpenOverdue: 2})
		if tot.Late() != 1 || tot.Rejected != 1 || tot.Rated != 2 || tot.RatingSum != 8 || tot.Ratings != [5]int64{0, 0, 1, 0, 1} {
			t.Fatalf("totals %+v", tot)
		}
		// the on-time rate counts the open overdue cases as late: 3 / (4 + 2)
		if tot.OnTimeRate != (window.Ratio{Num: 3, Den: 6}) || tot.OnTimeRate.Percent() != "50.0%" {
			t.Fatalf("on-time rate %+v %s", tot.OnTimeRate, tot.OnTimeRate.Percent())
		}
		if tot.Satisfaction.Percent() != "50.0%" || tot.AvgRating.Mean() != "4.0" {
			t.Fatalf("satisfaction %s, average %s", tot.Satisfaction.Percent(), tot.AvgRating.Mean())
		}
		if len(fs.Children) != 2 || fs.Own != nil {
			t.Fatalf("children %+v own %+v", fs.Children, fs.Own)
		}
		wantCounts(t, "东亭街道", fs.Children[0].Counts, window.Counts{Accepted: 6, Completed: 4, OnTime: 3, Agency: 1, OpenOverdue: 1})
		wantCounts(t, "安镇街道", fs.Children[1].Counts, window.Counts{Accepted: 1, OpenOverdue: 1})
		if r := fs.Children[1].OnTimeRate; r != (window.Ratio{Num: 0, Den: 1}) || r.Percent() != "0.0%" {
			t.Fatalf("安镇街道 on-time rate %+v", r)
		}

		// 东亭街道: two villages and its own window
		ta := figCheckTree(t, f, townA, 202601, 202603)
		if len(ta.Children) != 2 || ta.Own == nil || ta.Own.Code != townA {
			t.Fatalf("东亭街道 children %+v own %+v", ta.Children, ta.Own)
		}
		wantCounts(t, "门楼社区", ta.Children[0].Counts, window.Counts{Accepted: 4, Completed: 2, OnTime: 1, Agency: 1, OpenOverdue: 1})
		wantCounts(t, "柏庄社区", ta.Children[1].Counts, window.Counts{Accepted: 1, Completed: 1, OnTime: 1})
		wantCounts(t, "东亭街道 own window", ta.Own.Counts, window.Counts{Accepted: 1, Completed: 1, OnTime: 1})
		if ta.Children[0].AvgRating.Mean() != "5.0" || ta.Children[1].AvgRating.Mean() != "3.0" || ta.Own.AvgRating.Valid() {
			t.Fatalf("average ratings %+v", ta)
		}
		// 门楼社区's on-time rate: 1 on time of 2 completed + 1 open overdue
		if r := ta.Children[0].OnTimeRate; r.Percent() != "33.3%" {
			t.Fatalf("门楼社区 rate %+v", r)
		}

		// month by month, each event in its month
		want := []window.Month{
			{Period: 202601, Accepted: 1, Completed: 1, OnTime: 1},
			{Period: 202602, Accepted: 4, Completed: 2, OnTime: 2},
			{Period: 202603, Accepted: 2, Completed: 1, OnTime: 0, Agency: 1},
		}
		if len(fs.Months) != len(want) {
			t.Fatalf("months %+v", fs.Months)
		}
		for i, m := range fs.Months {
			w := want[i]
			if m.Period != w.Period || m.Accepted != w.Accepted || m.Completed != w.Completed || m.OnTime != w.OnTime || m.Agency != w.Agency {
				t.Errorf("month %d: got %+v, want %+v", w.Period, m, w)
			}
		}

		// breakdowns
		cat := map[string]window.Counts{}
		for _, r := range fs.Categories {
			if r.Other {
				t.Fatalf("an 'other' category: %+v", r)
			}
			cat[r.Key] = r.Counts
		}
		wantCounts(t, "convenience", cat["convenience"], window.Counts{Accepted: 6, Completed: 4, OnTime: 3, OpenOverdue: 1})
		wantCounts(t, "civil_affairs", cat["civil_affairs"], window.Counts{Accepted: 1, OpenOverdue: 1})
		if _, ok := cat["health"]; !ok {
			t.Fatal("the unit's own categories are listed even without cases")
		}
		if fs.Categories[0].Name.Get("zh-CN") == "" {
			t.Fatalf("category without name: %+v", fs.Categories[0])
		}
		if len(fs.Channels) != 3 || fs.Channels[0].Key != window.ChannelWindow || fs.Channels[0].Accepted != 6 || fs.Channels[1].Accepted != 1 ||
			fs.Channels[1].OpenOverdue != 1 || fs.Channels[0].Share.Percent() != "85.7%" {
			t.Fatalf("channels %+v", fs.Channels)
		}
		if len(fs.Items) != 2 || fs.Items[0].Key != "XS-BM-01" || fs.Items[0].Accepted != 6 || fs.Items[1].Key != "XS-MZ-02" {
			t.Fatalf("items %+v", fs.Items)
		}

		// a period in the past is judged on its completed cases only
		past := figCheckTree(t, f, county, 202601, 202602)
		if past.OverdueInRate || past.Totals.OnTimeRate != (window.Ratio{Num: 3, Den: 3}) || past.Totals.OpenOverdue != 2 {
			t.Fatalf("past period: %+v", past.Totals)
		}
		// months without cases are in the series, as zeros
		later, err := f.svc.Figures(f.ctx, f.admin, county, 202512, 202604)
		if err != nil || len(later.Months) != 5 || later.Months[0].Period != 202512 || later.Months[4].Period != 202604 || later.Totals.Accepted != 7 {
			t.Fatalf("202512–202604: %+v %v", later.Months, err)
		}
	})
}

func TestFiguresScopeAndPeriods(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		f := newFixture(t, d)
		figScenario(f)
		// a village's staff see their village, not the county
		if _, err := f.svc.Figures(f.ctx, f.villageStaff, county, 202601, 202603); !errors.Is(err, db.ErrNotFound) {
			t.Fatalf("village staff on the county: %v", err)
		}
		if n := f.count("SELECT COUNT(*) FROM audit_log WHERE action = ? AND entity = 'window_figures'", audit.Denied); n != 1 {
			t.Fatalf("%d denials audited", n)
		}
		fs, err := f.svc.Figures(f.ctx, f.villageStaff, villageA, 202601, 202603)
		if err != nil || fs.Totals.Accepted != 4 || len(fs.Children) != 0 || fs.Own == nil {
			t.Fatalf("own village: %+v %v", fs, err)
		}
		if _, err := f.svc.Figures(f.ctx, f.townStaffB, villageA, 202601, 202603); !errors.Is(err, db.ErrNotFound) {
			t.Fatalf("another township: %v", err)
		}
		for _, p := range [][2]int{{202613, 202614}, {202603, 202601}, {200001, 202601}, {2026, 202601}} {
			_, err := f.svc.Figures(f.ctx, f.admin, county, p[0], p[1])
			var es window.Errors
			if !errors.As(err, &es) {
				t.Errorf("%v: %v", p, err)
			}
		}
		// the whole country, for a system administrator
		all, err := f.svc.Figures(f.ctx, f.admin, 0, 202601, 202603)
		if err != nil || all.Totals.Accepted != 7 || len(all.Children) != 1 {
			t.Fatalf("country: %+v %v", all.Totals, err)
		}
	})
}

// ---- the dashboard page ----

type figWeb struct {
	f       *fixture
	handler http.Handler
	runner  *jobs.Runner
}

func newFigWeb(t *testing.T, d *db.DB) *figWeb {
	t.Helper()
	f := newFixture(t, d)
	rd := web.NewRenderer(nil)
	if err := rd.Register(window.Templates(), "templates/*.html", window.Funcs()); err != nil {
		t.Fatal(err)
	}
	runner := jobs.New(d, t.TempDir(), nil)
	for _, k := range f.svc.JobKinds() {
		runner.Register(k)
	}
	mux := http.NewServeMux()
	(&window.HTTP{S: f.svc, R: rd, Jobs: runner}).Routes(mux)
	return &figWeb{f: f, handler: mux, runner: runner}
}

func (e *figWeb) do(p *access.Principal, method, target, form, lang string) *httptest.ResponseRecorder {
	var req *http.Request
	if method == http.MethodPost {
		req = httptest.NewRequest(method, target, strings.NewReader(form))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	} else {
		req = httptest.NewRequest(method, target, nil)
	}
	req.Header.Set("Accept-Language", lang)
	ctx := access.WithPrincipal(context.Background(), p)
	req = req.WithContext(audit.WithActor(ctx, audit.Actor{ID: p.UserID, Name: p.Username}))
	w := httptest.NewRecorder()
	e.handler.ServeHTTP(w, req)
	return w
}

// figCell returns the text of the element with id in page.
func figCell(page, id string) string {
	m := regexp.MustCompile(`id="` + regexp.QuoteMeta(id) + `"[^>]*>(?:<a [^>]*>)?([^<]*)`).FindStringSubmatch(page)
	if m == nil {
		return ""
	}
	return strings.TrimSpace(m[1])
}

func TestDashboardPage(t *testing.T) {
	e := newFigWeb(t, dbtest.SQLite(t))
	figScenario(e.f)

	w := e.do(e.f.countyStaff, http.MethodGet, "/window/dashboard?unit=320205&from=2026-01&to=2026-03", "", "zh-CN")
	if w.Code != http.StatusOK {
		t.Fatalf("status %d\n%s", w.Code, w.Body)
	}
	page := w.Body.String()
	for id, want := range map[string]string{"fig-accepted": "7", "fig-completed": "4", "fig-on-time-rate": "50.0%",
		"fig-open-overdue": "2", "fig-agency": "1", "fig-rejected": "1", "fig-avg-rating": "4.0", "fig-satisfaction": "50.0%"} {
		if got := figCell(page, id); got != want {
			t.Errorf("%s = %q, want %q", id, got, want)
		}
	}
	for _, want := range []string{
		"办件统计 · 锡山区",
		// the overdue count leads to the list of overdue cases
		`href="/window?view=overdue&amp;unit=320205000000000"`,
		// drill-down: the townships link to their own dashboards, same months
		`href="/window/dashboard?from=2026-01&amp;to=2026-03&amp;unit=320205001000000"`, "东亭街道", "安镇街道",
		// charts: data for charts.js, not code
		`<script type="application/json" id="fig-months-data">`, `data-chart="fig-months-data"`, `"kind":"bar"`,
		"/static/charts.js", "/static/vendor/echarts.min.js", "/static/window.css",
		// the tables that show without JavaScript
		`id="fig-months"`, "2026-02", `id="fig-categories"`, "便民利民代办服务", "民政事务", `id="fig-channels"`, "电话受理", `id="fig-items"`, `id="fig-children"`,
		// the ledger button
		`action="/window/ledger"`, "导出办件台账",
	} {
		if !strings.Contains(page, want) {
			t.Errorf("page lacks %q", want)
		}
	}
	// no inline code: every script is a file or JSON data
	for _, tag := range regexp.MustCompile(`<script[^>]*>`).FindAllString(page, -1) {
		if !strings.Contains(tag, " src=") && !strings.Contains(tag, `type="application/json"`) {
			t.Errorf("inline script %s", tag)
		}
	}
	if n := strings.Count(page, `type="application/json"`); n != 5 {
		t.Errorf("%d chart data blocks, want 5", n)
	}
	if strings.Contains(page, "window.fig.") || strings.Contains(page, "window.ledger.") {
		t.Errorf("untranslated key on the page: %s", regexp.MustCompile(`window\.(fig|ledger)\.[a-z_.0-9]+`).FindString(page))
	}

	// drill down to the township: its villages and its own window
	w = e.do(e.f.countyStaff, http.MethodGet, "/window/dashboard?unit=320205001&from=2026-01&to=2026-03", "", "en")
	page = w.Body.String()
	if w.Code != http.StatusOK || figCell(page, "fig-accepted") != "6" || !strings.Contains(page, "门楼社区居委会") ||
		!strings.Contains(page, `data-code="own"`) || !strings.Contains(page, "Case figures") || !strings.Contains(page, `href="/window/dashboard?from=2026-01&amp;to=2026-03&amp;unit=320205000000000"`) {
		t.Fatalf("township page %d\n%s", w.Code, page)
	}
	if strings.Contains(page, "window.fig.") {
		t.Errorf("untranslated key on the English page: %s", regexp.MustCompile(`window\.fig\.[a-z_.0-9]+`).FindString(page))
	}

	// defaults: the user's own subtree, this year to date
	w = e.do(e.f.villageStaff, http.MethodGet, "/window/dashboard", "", "zh-CN")
	page = w.Body.String()
	if w.Code != http.StatusOK || !strings.Contains(page, "门楼社区居委会") || !strings.Contains(page, `value="2026-01"`) || !strings.Contains(page, `value="2026-03"`) {
		t.Fatalf("default page %d\n%s", w.Code, page)
	}
	// outside the user's scope: not found
	if w := e.do(e.f.villageStaff, http.MethodGet, "/window/dashboard?unit=320205", "", "zh-CN"); w.Code != http.StatusNotFound {
		t.Fatalf("village staff on the county: %d", w.Code)
	}
	// bad months: the page says so and shows this year
	if w := e.do(e.f.countyStaff, http.MethodGet, "/window/dashboard?unit=320205&from=2026-13", "", "zh-CN"); w.Code != http.StatusUnprocessableEntity ||
		!strings.Contains(w.Body.String(), "月份不正确") {
		t.Fatalf("bad month: %d", w.Code)
	}
}

// The rows of a breakdown add up to the totals: the top items, then the
// rest; keys no catalogue knows any more go to "other".
func TestFiguresOtherRowsAndTopItems(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		f := newFixture(t, d)
		f.figAt(figToday)
		add := func(metric string, n int64) {
			if err := facts.Add(f.ctx, d, villageA, 202603, metric, n); err != nil {
				t.Fatal(err)
			}
		}
		codes := []string{"XS-BM-01", "XS-BM-02", "XS-BM-03", "XS-BM-04", "XS-BM-05", "XS-BM-06", "XS-BM-07", "XS-BM-08",
			"XS-NF-01", "XS-NF-02", "XS-LD-01", "XS-LD-02"}
		for i, c := range codes {
			add(window.Metric(window.MetricAccepted, window.DimItem, c), int64(12-i))
		}
		add(window.Metric(window.MetricAccepted, window.DimItem, "XS-GONE-1"), 5) // an item since removed
		add(window.MetricAccepted, 83)
		add(window.Metric(window.MetricAccepted, window.DimCategory, "convenience"), 50)
		add(window.Metric(window.MetricAccepted, window.DimCategory, "civil_affairs"), 28)
		add(window.Metric(window.MetricAccepted, window.DimCategory, "gone_category"), 5)
		add(window.Metric(window.MetricAccepted, window.DimChannel, window.ChannelWindow), 80)
		add(window.Metric(window.MetricAccepted, window.DimChannel, window.ChannelPhone), 3)
		fs, err := f.svc.Figures(f.ctx, f.admin, county, 202601, 202603)
		if err != nil {
			t.Fatal(err)
		}
		figCheckSums(t, fs)
		if len(fs.Items) != window.TopItems+1 || fs.Items[0].Key != "XS-BM-01" || fs.Items[0].Accepted != 12 ||
			fs.Items[window.TopItems-1].Accepted != 3 || !fs.Items[window.TopItems].Other || fs.Items[window.TopItems].Accepted != 2+1+5 {
			t.Fatalf("items %+v", fs.Items)
		}
		if fs.Items[0].Name.Get("zh-CN") == "" || fs.Items[0].Share.Percent() != "14.5%" {
			t.Fatalf("first item %+v", fs.Items[0])
		}
		last := fs.Categories[len(fs.Categories)-1]
		if !last.Other || last.Accepted != 5 {
			t.Fatalf("categories %+v", fs.Categories)
		}
		for _, r := range fs.Channels {
			if r.Other {
				t.Fatalf("channels %+v", fs.Channels)
			}
		}
	})
}
