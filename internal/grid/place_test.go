package grid_test

import (
	"context"
	"io/fs"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"testing"
	"testing/fstest"

	"github.com/shequ-platform/shequ/internal/grid"
	"github.com/shequ-platform/shequ/internal/platform/access"
	"github.com/shequ-platform/shequ/internal/platform/audit"
	"github.com/shequ-platform/shequ/internal/platform/db"
	"github.com/shequ-platform/shequ/internal/platform/db/dbtest"
	"github.com/shequ-platform/shequ/internal/platform/geo"
	"github.com/shequ-platform/shequ/internal/platform/web"
	"github.com/shequ-platform/shequ/internal/registry"
)

// Village names of the fixture (internal/fixture's divisions).
const (
	placeVillageA = "门楼社区居委会"
	placeVillageB = "吼山社区居民委员会"
)

// placeGet serves one page of the grid with the desk's, the incident's and
// the patrols' templates.
func placeGet(t *testing.T, f *fixture, p *access.Principal, target string) string {
	t.Helper()
	m := fstest.MapFS{}
	for _, name := range []string{"_grid_common.html", "grid_desk.html", "grid_incident.html", "_grid_patrol.html", "grid_patrols.html", "grid_followup.html"} {
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
	r := httptest.NewRequest(http.MethodGet, target, nil)
	r.Header.Set("Accept-Language", "zh-CN")
	ctx := audit.WithActor(access.WithPrincipal(context.Background(), p), audit.Actor{ID: p.UserID, Name: p.Username})
	w := httptest.NewRecorder()
	mux.ServeHTTP(w, r.WithContext(ctx))
	if w.Code != http.StatusOK {
		t.Fatalf("%s: %d\n%s", target, w.Code, w.Body)
	}
	return w.Body.String()
}

// TestPlaceNames checks that a grid is named with its village where grids
// of several villages meet (a township's or county's lists, the map of a
// township), and alone within its village: both villages have a 第一网格.
func TestPlaceNames(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		f := newFixture(t, d)
		inA := f.report(f.workerA1, f.gridA1, catDrain)
		f.report(f.workerB1, f.gridB1, catDrain)
		wide := placeVillageA + " · 第一网格"

		// the service's names
		for _, c := range []struct {
			from, code int64
			want       string
		}{
			{county, f.gridA1, wide},
			{townA, f.gridA1, wide},
			{0, f.gridB1, placeVillageB + " · 第一网格"},
			{villageA, f.gridA1, "第一网格"},
			{f.gridA1, f.gridA1, "第一网格"},
			{county, villageA, placeVillageA}, // a village is named alone
		} {
			if got := f.svc.PlaceName(f.ctx, c.from, c.code); got != c.want {
				t.Errorf("PlaceName(%d, %d) = %q, want %q", c.from, c.code, got, c.want)
			}
		}

		// the desk: the county's and a township's lists, and the village's
		county := placeGet(t, f, f.countyStaff, "/grid?view=all")
		for _, want := range []string{"<td>" + wide + "</td>", "<td>" + placeVillageB + " · 第一网格</td>"} {
			if !strings.Contains(county, want) {
				t.Errorf("county desk lacks %q", want)
			}
		}
		if town := placeGet(t, f, f.townStaffA, "/grid?view=all"); !strings.Contains(town, "<td>"+wide+"</td>") {
			t.Error("township desk names the grid alone")
		}
		village := placeGet(t, f, f.villageStaff, "/grid?view=all&unit="+strconv.FormatInt(villageA, 10))
		if !strings.Contains(village, "<td>第一网格</td>") || strings.Contains(village, wide) {
			t.Error("the village's desk does not name its grid alone")
		}

		// the incident page, by who reads it
		page := "/grid/incidents/" + strconv.FormatInt(inA.ID, 10)
		if !strings.Contains(placeGet(t, f, f.townStaffA, page), "<dd>"+wide+"</dd>") {
			t.Error("incident page read by the township names the grid alone")
		}
		if body := placeGet(t, f, f.villageStaff, page); !strings.Contains(body, "<dd>第一网格</dd>") {
			t.Error("incident page read by the village does not name the grid alone")
		}

		// the visits of a township, and of a village
		f.visit(f.workerA1, f.patrolHousehold(f.gridA1, "1号", false).ID, false)
		list := placeGet(t, f, f.townStaffA, "/grid/patrols?view=unit&unit="+strconv.FormatInt(townA, 10))
		if !strings.Contains(list, " · "+wide+" · ") {
			t.Error("a township's visits name the grid alone")
		}
		list = placeGet(t, f, f.villageStaff, "/grid/patrols?view=unit&unit="+strconv.FormatInt(villageA, 10))
		if !strings.Contains(list, " · 第一网格 · ") || strings.Contains(list, wide) {
			t.Error("a village's visits do not name the grid alone")
		}
		// a house number the address already holds is shown once
		hh, err := f.reg.CreateHousehold(f.ctx, f.admin, registry.HouseholdInput{Division: f.gridA1, Address: "锦绣花园27幢1603室", HouseNo: "27幢1603室"})
		if err != nil {
			t.Fatal(err)
		}
		f.visit(f.workerA1, hh.ID, false)
		list = placeGet(t, f, f.villageStaff, "/grid/patrols?view=unit&unit="+strconv.FormatInt(villageA, 10))
		if !strings.Contains(list, "锦绣花园27幢1603室") || strings.Contains(list, "1603室 27幢") || strings.Contains(list, "1603室27幢") {
			t.Error("the house number is shown twice, or not at all")
		}

		// a special-group resident read by the township's officer
		s := f.specialResidents()
		if !strings.Contains(placeGet(t, f, f.officer, "/grid/followups/"+strconv.FormatInt(s.corrected.ID, 10)), "<dd>"+wide+"</dd>") {
			t.Error("the follow-up page names the grid alone for the township")
		}

		// the map's outlines: a township names each grid with its village
		if _, err := f.svc.SetOutline(f.ctx, f.villageStaff, f.gridA1, []byte(ggSquare), geo.WGS84); err != nil {
			t.Fatal(err)
		}
		names := func(p *access.Principal, unit int64) []string {
			fc, err := f.svc.MapData(f.ctx, p, grid.MapQuery{Unit: unit, Layers: []string{grid.LayerOutlines}})
			if err != nil {
				t.Fatal(err)
			}
			var out []string
			for _, ft := range fc.Features {
				out = append(out, ft.Properties["name"].(string))
			}
			return out
		}
		if got := names(f.townStaffA, townA); len(got) != 1 || got[0] != wide {
			t.Errorf("township map outlines %q", got)
		}
		if got := names(f.villageStaff, villageA); len(got) != 1 || got[0] != "第一网格" {
			t.Errorf("village map outlines %q", got)
		}
	})
}
