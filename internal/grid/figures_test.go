package grid_test

import (
	"errors"
	"net/http"
	"regexp"
	"strings"
	"testing"

	"github.com/shequ-platform/shequ/internal/grid"
	"github.com/shequ-platform/shequ/internal/platform/db"
	"github.com/shequ-platform/shequ/internal/platform/db/dbtest"
	"github.com/shequ-platform/shequ/internal/platform/facts"
)

// incFigCheckSums checks that the rows of the figures add up to the totals,
// which are read on their own: the child units (and the unit's own row) and
// the months, every count.
func incFigCheckSums(t *testing.T, fs grid.IncidentFigures) {
	t.Helper()
	var units, months grid.IncidentCounts
	add := func(to *grid.IncidentCounts, c grid.IncidentCounts) {
		to.Reported += c.Reported
		to.Registered += c.Registered
		to.Rejected += c.Rejected
		to.Closed += c.Closed
		to.ClosedVillage += c.ClosedVillage
		to.ClosedOnTime += c.ClosedOnTime
		to.Escalated += c.Escalated
		to.Rated += c.Rated
		to.RatingSum += c.RatingSum
	}
	rows := fs.Children
	if fs.Own != nil {
		rows = append(rows, *fs.Own)
	}
	for _, u := range rows {
		add(&units, u.IncidentCounts)
		var byMonth grid.IncidentCounts
		for _, m := range u.Months {
			add(&byMonth, m)
		}
		if byMonth != u.IncidentCounts {
			t.Errorf("%s: months %+v ≠ row %+v", u.Name, byMonth, u.IncidentCounts)
		}
		if len(u.Months) != len(fs.Months) {
			t.Errorf("%s: %d months, want %d", u.Name, len(u.Months), len(fs.Months))
		}
	}
	for _, m := range fs.Months {
		add(&months, m.IncidentCounts)
	}
	if units != fs.Totals {
		t.Errorf("unit %d: rows %+v ≠ totals %+v", fs.Unit, units, fs.Totals)
	}
	if months != fs.Totals {
		t.Errorf("unit %d: months %+v ≠ totals %+v", fs.Unit, months, fs.Totals)
	}
}

func TestIncidentFigures(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		f := newFixture(t, d)
		incScenario(f)
		fs, err := f.svc.IncidentFigures(f.ctx, f.countyStaff, county, 202609, 202610)
		if err != nil {
			t.Fatal(err)
		}
		incFigCheckSums(t, fs)
		want := grid.IncidentCounts{Reported: 7, Registered: 5, Rejected: 1, Closed: 4, ClosedVillage: 3, ClosedOnTime: 1, Escalated: 1, Rated: 1, RatingSum: 3}
		if fs.Totals != want {
			t.Fatalf("totals %+v, want %+v", fs.Totals, want)
		}
		if got := fs.Totals.VillageShare().Percent(); got != "75.0%" {
			t.Errorf("village share %s", got)
		}
		if fs.Totals.OnTimeShare().Percent() != "25.0%" || fs.Totals.AvgRating().Mean() != "3.0" {
			t.Errorf("on time %s, rating %s", fs.Totals.OnTimeShare().Percent(), fs.Totals.AvgRating().Mean())
		}
		if fs.UnitName != "锡山区" || len(fs.Children) != 2 || fs.Own != nil {
			t.Fatalf("county rows %+v own %+v", fs.Children, fs.Own)
		}
		a, b := fs.Children[0], fs.Children[1]
		if a.Code != townA || a.Reported != 5 || a.Closed != 3 || a.ClosedVillage != 2 || a.VillageShare().Percent() != "66.7%" {
			t.Errorf("township A %+v", a)
		}
		if b.Code != townB || b.Reported != 2 || b.Rejected != 1 || b.Closed != 1 || b.ClosedVillage != 1 || b.VillageShare().Percent() != "100.0%" {
			t.Errorf("township B %+v", b)
		}
		sep, oct := fs.Months[0], fs.Months[1]
		if sep.Period != 202609 || sep.Reported != 7 || sep.Closed != 1 || sep.ClosedOnTime != 1 || oct.Period != 202610 || oct.Closed != 3 ||
			oct.ClosedVillage != 2 || oct.Escalated != 1 || oct.Reported != 0 {
			t.Errorf("months %+v", fs.Months)
		}
		if a.Months[1].Closed != 2 || a.Months[1].ClosedVillage != 1 || a.Months[0].VillageShare().Percent() != "100.0%" {
			t.Errorf("township A by month %+v", a.Months)
		}

		// the township: its villages, one without incidents
		fs, err = f.svc.IncidentFigures(f.ctx, f.townStaffA, townA, 202609, 202610)
		if err != nil {
			t.Fatal(err)
		}
		incFigCheckSums(t, fs)
		if len(fs.Children) != 2 || fs.Children[0].Code != villageA || fs.Children[0].Reported != 5 || fs.Children[1].Code != villageC ||
			fs.Children[1].Reported != 0 || fs.Children[1].VillageShare().Valid() {
			t.Fatalf("township rows %+v", fs.Children)
		}
		// the village: its grids, and its own row (reported at the village)
		fs, err = f.svc.IncidentFigures(f.ctx, f.villageStaff, villageA, 202609, 202610)
		if err != nil {
			t.Fatal(err)
		}
		incFigCheckSums(t, fs)
		if len(fs.Children) != 2 || fs.Children[0].Code != f.gridA1 || fs.Children[0].Reported != 2 || fs.Children[1].Reported != 2 ||
			fs.Own == nil || fs.Own.Reported != 1 || fs.Own.ClosedVillage != 1 || !fs.Own.Own {
			t.Fatalf("village rows %+v own %+v", fs.Children, fs.Own)
		}
		// a grid, for its worker: no children, the grid itself
		fs, err = f.svc.IncidentFigures(f.ctx, f.workerA1, f.gridA1, 202609, 202610)
		if err != nil {
			t.Fatal(err)
		}
		incFigCheckSums(t, fs)
		if len(fs.Children) != 0 || fs.Own == nil || fs.Own.Reported != 2 || fs.Totals.Closed != 2 || fs.Totals.ClosedVillage != 1 {
			t.Fatalf("grid %+v", fs)
		}
		// a month without anything
		fs, err = f.svc.IncidentFigures(f.ctx, f.countyStaff, county, 202611, 202611)
		if err != nil || fs.Totals != (grid.IncidentCounts{}) || fs.Totals.VillageShare().Percent() != "—" || len(fs.Children) != 2 {
			t.Fatalf("empty month %+v %v", fs, err)
		}

		// out of scope: not found (and a denial in the audit log)
		denials := f.count(`SELECT count(*) FROM audit_log WHERE entity = 'incident_figures'`)
		if _, err := f.svc.IncidentFigures(f.ctx, f.villageStaff, county, 202609, 202610); !errors.Is(err, db.ErrNotFound) {
			t.Errorf("village staff on the county: %v", err)
		}
		if _, err := f.svc.IncidentFigures(f.ctx, f.workerA1, villageA, 202609, 202610); !errors.Is(err, db.ErrNotFound) {
			t.Errorf("worker on the village: %v", err)
		}
		if _, err := f.svc.IncidentFigures(f.ctx, f.townStaffA, townB, 202609, 202610); !errors.Is(err, db.ErrNotFound) {
			t.Errorf("township A on B: %v", err)
		}
		if n := f.count(`SELECT count(*) FROM audit_log WHERE entity = 'incident_figures'`); n != denials+3 {
			t.Errorf("%d denials audited, want 3", n-denials)
		}
		// bad spans of months
		for _, p := range [][2]int{{202613, 202614}, {202610, 202609}, {202001, 202612}, {2026, 202610}} {
			_, err := f.svc.IncidentFigures(f.ctx, f.admin, county, p[0], p[1])
			var es grid.Errors
			if !errors.As(err, &es) {
				t.Errorf("%v: %v", p, err)
			}
		}
		// the whole country, for the system administrator
		all, err := f.svc.IncidentFigures(f.ctx, f.admin, 0, 202609, 202610)
		if err != nil || all.Totals != want || len(all.Children) != 1 {
			t.Fatalf("country: %+v %v", all.Totals, err)
		}
		incFigCheckSums(t, all)

		// facts at a unit no child holds any more still count, in the own row
		if err := facts.Add(f.ctx, d, townA+999_000, 202610, grid.MetricReported, 2); err != nil {
			t.Fatal(err)
		}
		fs, err = f.svc.IncidentFigures(f.ctx, f.townStaffA, townA, 202609, 202610)
		if err != nil {
			t.Fatal(err)
		}
		incFigCheckSums(t, fs)
		if fs.Own == nil || fs.Own.Reported != 2 || fs.Totals.Reported != 7 {
			t.Fatalf("own row %+v totals %+v", fs.Own, fs.Totals)
		}
	})
}

func TestIncidentFiguresPage(t *testing.T) {
	e := newIncWeb(t, dbtest.SQLite(t))
	incScenario(e.f)

	w := e.get(e.f.countyStaff, "/grid/figures?unit=320205&from=2026-09&to=2026-10", "zh-CN")
	if w.Code != http.StatusOK {
		t.Fatalf("status %d\n%s", w.Code, w.Body)
	}
	page := w.Body.String()
	for _, want := range []string{
		"事件统计 · 锡山区",
		"75.0% 的事件在村（社区）内办结", "结案 4 件，其中村（社区）内办结 3 件",
		`id="fig-reported">7<`, `id="fig-closed">4<`, `id="fig-village-share">75.0%<`, `id="fig-on-time">25.0%<`, `id="fig-rating">3.0<`,
		// the townships, their drill-down, the totals row
		`id="fig-children"`, `href="/grid/figures?from=2026-09&amp;to=2026-10&amp;unit=320205001000000"`, "东亭街道", "安镇街道", "66.7%",
		`<tr data-code="total"><th scope="row">合计</th><td class="num grid-share">75.0%</td><td class="num">4</td><td class="num">3</td><td class="num">7</td>`,
		`id="fig-months"`, "2026-09", "2026-10", `id="fig-matrix"`, "乡镇（街道）",
		// the chart: data for charts.js, not code
		`<script type="application/json" id="fig-children-data">`, `"percent":true`, "/static/charts.js", "/static/grid.css",
	} {
		if !strings.Contains(page, want) {
			t.Errorf("page lacks %q", want)
		}
	}
	incNoInlineScript(t, page)
	incNoRawKeys(t, page)

	// the village: its grids and its own row; English
	w = e.get(e.f.villageStaff, "/grid/figures?unit=320205001001&from=2026-09&to=2026-10", "en")
	page = w.Body.String()
	if w.Code != http.StatusOK || !strings.Contains(page, "第一网格") || !strings.Contains(page, `data-code="own"`) ||
		!strings.Contains(page, "of the incidents were settled in the village") {
		t.Fatalf("village page %d\n%s", w.Code, page)
	}
	incNoRawKeys(t, page)
	// defaults: the user's own subtree, this year to date
	w = e.get(e.f.villageStaff, "/grid/figures", "zh-CN")
	if page = w.Body.String(); w.Code != http.StatusOK || !strings.Contains(page, `value="2026-01"`) || !strings.Contains(page, `value="2026-10"`) ||
		!strings.Contains(page, "门楼社区居委会") {
		t.Fatalf("default page %d\n%s", w.Code, page)
	}
	// outside the scope: not found
	if w := e.get(e.f.villageStaff, "/grid/figures?unit=320205", "zh-CN"); w.Code != http.StatusNotFound {
		t.Fatalf("village staff on the county: %d", w.Code)
	}
	// bad months: said so, this year shown
	w = e.get(e.f.countyStaff, "/grid/figures?unit=320205&from=2026-13", "zh-CN")
	if w.Code != http.StatusUnprocessableEntity || !strings.Contains(w.Body.String(), "月份不正确") {
		t.Fatalf("bad month: %d", w.Code)
	}
}

func incNoInlineScript(t *testing.T, page string) {
	t.Helper()
	for _, tag := range regexp.MustCompile(`<script[^>]*>`).FindAllString(page, -1) {
		if !strings.Contains(tag, " src=") && !strings.Contains(tag, `type="application/json"`) {
			t.Errorf("inline script %s", tag)
		}
	}
	if regexp.MustCompile(`\son[a-z]+="`).MatchString(page) {
		t.Error("inline event handler")
	}
}

var incRawKey = regexp.MustCompile(`\b(grid|division)\.[a-z_]+\.[a-z_.0-9]+`)

func incNoRawKeys(t *testing.T, page string) {
	t.Helper()
	if k := incRawKey.FindString(page); k != "" {
		t.Errorf("untranslated key on the page: %s", k)
	}
}
