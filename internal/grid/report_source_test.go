package grid_test

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strconv"
	"strings"
	"testing"

	"github.com/shequ-platform/shequ/internal/grid"
	"github.com/shequ-platform/shequ/internal/platform/access"
	"github.com/shequ-platform/shequ/internal/platform/audit"
	"github.com/shequ-platform/shequ/internal/platform/db"
	"github.com/shequ-platform/shequ/internal/platform/db/dbtest"
	"github.com/shequ-platform/shequ/internal/platform/web"
)

// TestReportSourceByRole checks that a report filed on the report form is
// the grid worker's when a grid worker files it, and staff's when someone
// who handles incidents at that grid does (village staff and above).
func TestReportSourceByRole(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		f := newFixture(t, d)
		mux := http.NewServeMux()
		(&grid.HTTP{S: f.svc, R: web.NewRenderer(nil)}).Routes(mux) // a stored report answers JSON: no page
		post := func(p *access.Principal, form url.Values) grid.Incident {
			t.Helper()
			r := httptest.NewRequest(http.MethodPost, "/grid/report", strings.NewReader(form.Encode()))
			r.Header.Set("Content-Type", "application/x-www-form-urlencoded")
			r.Header.Set("Accept", "application/json")
			ctx := audit.WithActor(access.WithPrincipal(context.Background(), p), audit.Actor{ID: p.UserID, Name: p.Username})
			w := httptest.NewRecorder()
			mux.ServeHTTP(w, r.WithContext(ctx))
			var out struct{ ID int64 }
			if w.Code != http.StatusCreated || json.Unmarshal(w.Body.Bytes(), &out) != nil {
				t.Fatalf("%s: %d %s", p.Username, w.Code, w.Body)
			}
			in, err := f.svc.Get(f.ctx, f.admin, out.ID)
			if err != nil {
				t.Fatal(err)
			}
			return in
		}
		form := func(at int64) url.Values {
			return url.Values{"division": {strconv.FormatInt(at, 10)}, "category": {catDrain},
				"description": {"雨水口堵塞，积水约二十厘米"}, "address": {"东亭路 12 号"}}
		}
		for _, c := range []struct {
			p    *access.Principal
			at   int64
			want string
		}{
			{f.workerA1, f.gridA1, grid.SourceWorker},
			{f.villageStaff, f.gridA2, grid.SourceStaff},
			{f.townStaffA, villageA, grid.SourceStaff},
		} {
			if in := post(c.p, form(c.at)); in.Source != c.want {
				t.Errorf("%s reported as %q, want %q", c.p.Username, in.Source, c.want)
			}
		}
	})
}

// TestDeskLinksToReport checks the desk's link to the report form, shown
// to those who may report somewhere.
func TestDeskLinksToReport(t *testing.T) {
	f := newFixture(t, dbtest.SQLite(t))
	link := `href="/grid/report"`
	if page := placeGet(t, f, f.villageStaff, "/grid"); !strings.Contains(page, link) || !strings.Contains(page, "上报事件") {
		t.Error("the village's desk has no link to the report form")
	}
	if page := placeGet(t, f, f.viewer, "/grid"); strings.Contains(page, link) {
		t.Error("a viewer is offered the report form")
	}
}
