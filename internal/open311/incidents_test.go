package open311_test

import (
	"context"
	"encoding/json"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"testing"

	"github.com/shequ-platform/shequ/internal/grid"
	"github.com/shequ-platform/shequ/internal/open311"
	"github.com/shequ-platform/shequ/internal/platform/calendar"
	"github.com/shequ-platform/shequ/internal/platform/db"
	"github.com/shequ-platform/shequ/internal/platform/db/dbtest"
	"github.com/shequ-platform/shequ/internal/platform/policy"
	policypacks "github.com/shequ-platform/shequ/policy"
)

// withGrid serves Open311 with grid incidents too; the grid reads the
// embedded packs (xishan-2008 binds the test county), the window the test
// pack.
func (f *fixture) withGrid() *grid.Service {
	f.t.Helper()
	packs, err := policy.Load(policypacks.FS)
	if err != nil {
		f.t.Fatal(err)
	}
	cal := calendar.NewCalendar(calendar.Shipped())
	g := grid.NewService(f.d, f.al, f.acc, f.keys, f.divs.Store, packs, f.reg,
		func(context.Context) (*calendar.Calendar, error) { return cal, nil }, f.t.TempDir())
	mux := http.NewServeMux()
	(&open311.HTTP{S: f.svc, G: g}).Routes(mux)
	f.h = mux
	return g
}

func TestIncidents(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		f := newFixture(t, d)
		g := f.withGrid()

		// the online incident categories are services, without attributes
		r := f.get("/open311/v2/services.json?jurisdiction_id=320205001001")
		validJSON(t, r, http.StatusOK, "services.json")
		var services []open311.Service
		if err := json.Unmarshal(r.body, &services); err != nil {
			t.Fatal(err)
		}
		found := false
		for _, s := range services {
			if s.Code == "XS-SJ-GY01" {
				found = true
				if s.Metadata || s.Group == nil || *s.Group != "公用设施" {
					t.Errorf("incident service %+v", s)
				}
			}
			if s.Code == "XS-SJ-JM02" {
				t.Error("a category not marked online is offered")
			}
		}
		if !found {
			t.Fatalf("no incident category among %d services", len(services))
		}
		r = f.get("/open311/v2/services/XS-SJ-GY01.json?jurisdiction_id=320205001001")
		validJSON(t, r, http.StatusOK, "service-definition.json")

		// a resident reports a blocked drain at village A
		form := url.Values{"api_key": {f.key}, "service_code": {"XS-SJ-GY01"}, "jurisdiction_id": {"320205001001"},
			"address_string": {"门楼路 3 号门口"}, "description": {"雨水口堵了"}, "phone": {"13812345678"}, "first_name": {"芳"}, "last_name": {"王"}}
		r = f.post("/open311/v2/requests.json", form)
		validJSON(t, r, http.StatusOK, "request-response.json")
		var receipts []struct {
			ID string `json:"service_request_id"`
		}
		_ = json.Unmarshal(r.body, &receipts)
		if len(receipts) != 1 || !strings.HasPrefix(receipts[0].ID, "SJ320205001001-") {
			t.Fatalf("receipt %s", r)
		}
		in, err := g.OnlineIncident(f.ctx, receipts[0].ID)
		if err != nil {
			t.Fatal(err)
		}
		if in.State != grid.StateReported || in.Source != grid.SourceResident || in.Division != villageA || in.PhoneMasked != "138****5678" {
			t.Fatalf("incident %+v", in)
		}

		// its public state: no reporter, phone, description or address
		r = f.get("/open311/v2/requests/" + in.Number + ".json")
		validJSON(t, r, http.StatusOK, "requests.json")
		for _, secret := range []string{"王", "13812345678", "5678", "门楼路", "雨水口堵了"} {
			if strings.Contains(r.String(), secret) {
				t.Errorf("public request shows %q: %s", secret, r)
			}
		}
		if !strings.Contains(r.String(), `"status":"open"`) {
			t.Errorf("status: %s", r)
		}
		r = f.get("/open311/v2/requests.json?service_code=XS-SJ-GY01")
		validJSON(t, r, http.StatusOK, "requests.json")
		if !strings.Contains(r.String(), in.Number) {
			t.Errorf("list lacks the incident: %s", r)
		}
		r = f.get("/open311/v2/tokens/" + in.Token + ".json")
		if r.status != http.StatusOK || !strings.Contains(r.String(), in.Number) {
			t.Errorf("token: %d %s", r.status, r)
		}

		// a township is not precise enough for a problem in public space
		needVillage := "反映问题需要指明村(社区)"
		form.Set("jurisdiction_id", "320205001000")
		r = f.post("/open311/v2/requests.json", form)
		wantError(t, errorsOf(t, r, http.StatusBadRequest), "jurisdiction_id", needVillage)
		// … unless a point places it: beside a household of village A, in town A
		form.Set("lat", strconv.FormatFloat(latA+0.0005, 'f', -1, 64))
		form.Set("long", strconv.FormatFloat(lonA, 'f', -1, 64))
		r = f.post("/open311/v2/requests.json", form)
		validJSON(t, r, http.StatusOK, "request-response.json")
		receipts = nil
		_ = json.Unmarshal(r.body, &receipts)
		if len(receipts) != 1 || !strings.HasPrefix(receipts[0].ID, "SJ320205001001-") {
			t.Fatalf("a township report with a point in village A: %s", r)
		}
		if in, err := g.OnlineIncident(f.ctx, receipts[0].ID); err != nil || in.Division != villageA {
			t.Fatalf("placed at %d: %v", in.Division, err)
		}
		// a point in village B (town B) does not place a report made to town A
		form.Set("lat", strconv.FormatFloat(latB, 'f', -1, 64))
		form.Set("long", strconv.FormatFloat(lonB, 'f', -1, 64))
		before := f.count(`SELECT count(*) FROM incidents`)
		r = f.post("/open311/v2/requests.json", form)
		wantError(t, errorsOf(t, r, http.StatusBadRequest), "jurisdiction_id", needVillage)
		// nor does a point far from every household
		form.Set("lat", "31.9")
		form.Set("long", "120.9")
		r = f.post("/open311/v2/requests.json", form)
		wantError(t, errorsOf(t, r, http.StatusBadRequest), "jurisdiction_id", needVillage)
		if n := f.count(`SELECT count(*) FROM incidents`); n != before {
			t.Errorf("refused reports were stored: %d → %d", before, n)
		}
		// a point in Beijing is outside the county of the village
		form.Set("jurisdiction_id", "320205001001")
		form.Set("lat", "39.9")
		form.Set("long", "116.4")
		before = f.count(`SELECT count(*) FROM incidents`)
		r = f.post("/open311/v2/requests.json", form)
		if r.status != http.StatusBadRequest || f.count(`SELECT count(*) FROM incidents`) != before {
			t.Errorf("a report from Beijing: %d %s", r.status, r)
		}
	})
}
