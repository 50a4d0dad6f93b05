package api_test

import (
	"context"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/shequ-platform/shequ/internal/division"
	"github.com/shequ-platform/shequ/internal/platform/access"
	"github.com/shequ-platform/shequ/internal/platform/audit"
	"github.com/shequ-platform/shequ/internal/platform/db"
	"github.com/shequ-platform/shequ/internal/platform/db/dbtest"
	"github.com/shequ-platform/shequ/internal/registry"
)

// patrolEnv is the API over patrols and follow-ups: setupIncidents' units
// and accounts, the grid service's clock at now (China), the accounts
// officer1 and officer2 (special-groups officers of the two townships), and
// households with one present member each: h1 and h2 in the first grid of
// 春江村, h3 in its second grid.
type patrolEnv struct {
	*incidentEnv
	d          *db.DB
	now        time.Time
	h1, h2, h3 registry.Household
}

var chinaTime = time.FixedZone("CST", 8*3600)

func setupPatrols(t *testing.T, d *db.DB) *patrolEnv {
	t.Helper()
	e := &patrolEnv{incidentEnv: setupIncidents(t, d), d: d, now: time.Date(2026, 9, 30, 10, 0, 0, 0, chinaTime)}
	e.svc.SetClock(func() time.Time { return e.now })
	ctx := audit.WithActor(context.Background(), audit.Actor{Name: "test", Client: "test"})
	for _, u := range []struct {
		name string
		div  int64
	}{{"officer1", town1}, {"officer2", town2}} {
		nu, err := e.acc.CreateUser(ctx, nil, access.NewUser{Username: u.name, DisplayName: u.name + " 名", Password: "lan-tian-bai-yun",
			Role: "special_groups_officer", Division: u.div})
		if err != nil {
			t.Fatal(err)
		}
		if e.tokens[u.name], _, err = e.acc.CreateToken(ctx, nu.ID, "test"); err != nil {
			t.Fatal(err)
		}
	}
	for _, h := range []struct {
		out     *registry.Household
		grid    int64
		houseNo string
		head    string
	}{{&e.h1, e.grid1, "1号", "张一"}, {&e.h2, e.grid1, "2号", "张二"}, {&e.h3, e.grid2, "3号", "张三"}} {
		*h.out = e.household(t, h.grid, h.houseNo)
		e.resident(t, h.out.ID, h.head, "", nil)
	}
	return e
}

// admin is the principal that registers households and residents.
var admin = &access.Principal{Username: "admin", Assignments: []access.Assignment{{Role: "system_admin"}}}

func (e *patrolEnv) ctx() context.Context {
	return audit.WithActor(context.Background(), audit.Actor{Name: "test", Client: "test"})
}

// household registers an empty household on 春江路 in a grid.
func (e *patrolEnv) household(t *testing.T, grid int64, houseNo string) registry.Household {
	t.Helper()
	h, err := e.svc.Registry.CreateHousehold(e.ctx(), admin, registry.HouseholdInput{Division: grid, Address: "春江路", HouseNo: houseNo})
	if err != nil {
		t.Fatal(err)
	}
	return h
}

// resident registers a present resident of a household with tags (key →
// grade); without an ID number, a man born 1970-03-04.
func (e *patrolEnv) resident(t *testing.T, household int64, name, idNumber string, tags map[string]string) registry.Resident {
	t.Helper()
	in := registry.ResidentInput{HouseholdID: household, Name: name, Residency: registry.Registered, Relation: "head", Tags: tags,
		IDNumber: idNumber}
	if idNumber == "" {
		in.Gender, in.Birth = "M", "1970-03-04"
	}
	r, err := e.svc.Registry.Register(e.ctx(), admin, in)
	if err != nil {
		t.Fatal(err)
	}
	return r
}

// total is the total row of a coverage answer.
func total(t *testing.T, r resp) map[string]any {
	t.Helper()
	tot, ok := r.body["total"].(map[string]any)
	if !ok {
		t.Fatalf("no total: %s", r.raw)
	}
	return tot
}

func TestPatrols(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		e := setupPatrols(t, d)
		grid1, grid2 := division.Format(e.grid1), division.Format(e.grid2)
		visit := func(household int64, extra map[string]any) string {
			m := map[string]any{"household_id": household, "note": "家中老人身体健康，无特殊诉求"}
			for k, v := range extra {
				m[k] = v
			}
			return body(t, m)
		}

		// a grid worker logs the first visit of a household this month
		r := e.do(t, "POST", "/api/v1/patrols", "worker1", visit(e.h1.ID, nil))
		wantStatus(t, r, 201)
		id := int64(r.body["id"].(float64))
		if r.body["first"] != true || r.body["division"] != grid1 || r.body["household_id"] != float64(e.h1.ID) ||
			r.body["worker_name"] != "worker1 名" || r.body["day"] != "2026-09-30" || r.body["problem"] != false ||
			r.body["note"] != "家中老人身体健康，无特殊诉求" {
			t.Fatal(r.raw)
		}
		if hh, _ := r.body["household"].(map[string]any); hh["address"] != "春江路" || hh["house_no"] != "1号" {
			t.Fatal(r.raw)
		}
		if loc := r.header.Get("Location"); loc != "/api/v1/patrols/"+strconv.FormatInt(id, 10) {
			t.Errorf("Location %q", loc)
		}
		// again the same month: a visit, not another household visited
		r = e.do(t, "POST", "/api/v1/patrols", "worker1", visit(e.h1.ID, map[string]any{"problem": true}))
		wantStatus(t, r, 201)
		if r.body["first"] != false || r.body["problem"] != true {
			t.Fatal(r.raw)
		}

		// the first visit counts once in the coverage
		r = e.do(t, "GET", "/api/v1/patrols/coverage?unit="+grid1+"&month=2026-09", "worker1", "")
		wantStatus(t, r, 200)
		tot := total(t, r)
		if r.body["unit"] != grid1 || r.body["month"] != "2026-09" || tot["households"] != 2.0 || tot["visited"] != 1.0 ||
			tot["visits"] != 2.0 || tot["problems"] != 1.0 || tot["share"] != 0.5 || tot["target"] != 1.0 || tot["met"] != false ||
			tot["name"] != "第一网格" {
			t.Fatal(r.raw)
		}
		if rows, _ := r.body["rows"].([]any); len(rows) != 1 || rows[0].(map[string]any)["unit"] != grid1 {
			t.Fatal(r.raw)
		}
		// the village: one row per grid
		r = e.do(t, "GET", "/api/v1/patrols/coverage?unit="+division.Format(village1), "village1", "")
		wantStatus(t, r, 200)
		if tot := total(t, r); r.body["month"] != "2026-09" || tot["households"] != 3.0 || tot["visited"] != 1.0 {
			t.Fatal(r.raw)
		}
		rows, _ := r.body["rows"].([]any)
		if len(rows) != 2 || rows[0].(map[string]any)["unit"] != grid1 || rows[1].(map[string]any)["unit"] != grid2 ||
			rows[1].(map[string]any)["visited"] != 0.0 || rows[1].(map[string]any)["share"] != 0.0 {
			t.Fatal(r.raw)
		}
		// another month: nothing visited
		r = e.do(t, "GET", "/api/v1/patrols/coverage?unit="+grid1+"&month=2026-08", "worker1", "")
		if wantStatus(t, r, 200); total(t, r)["visited"] != 0.0 || total(t, r)["households"] != 2.0 {
			t.Fatal(r.raw)
		}
		// the worker's own grid by default
		r = e.do(t, "GET", "/api/v1/patrols/coverage", "worker1", "")
		if wantStatus(t, r, 200); r.body["unit"] != grid1 {
			t.Fatal(r.raw)
		}
		wantErr(t, e.do(t, "GET", "/api/v1/patrols/coverage?unit="+grid1, "worker2", ""), 404, "not_found", "")
		wantErr(t, e.do(t, "GET", "/api/v1/patrols/coverage?unit="+division.Format(town2), "town1", ""), 404, "not_found", "")
		wantErr(t, e.do(t, "GET", "/api/v1/patrols/coverage?unit=0", "town1", ""), 404, "not_found", "")
		wantErr(t, e.do(t, "GET", "/api/v1/patrols/coverage?month=2026-13", "town1", ""), 422, "invalid", "month")

		// another grid's household: the worker does not see it
		before := count(t, d, "SELECT count(*) FROM patrols")
		wantErr(t, e.do(t, "POST", "/api/v1/patrols", "worker2", visit(e.h1.ID, nil)), 422, "patrol_household_unknown", "household_id")
		wantErr(t, e.do(t, "POST", "/api/v1/patrols", "worker1", visit(e.h3.ID, nil)), 422, "patrol_household_unknown", "household_id")
		wantErr(t, e.do(t, "POST", "/api/v1/patrols", "worker1", visit(999999, nil)), 422, "patrol_household_unknown", "household_id")
		// seen but not to be visited (no grid.report)
		wantErr(t, e.do(t, "POST", "/api/v1/patrols", "officer1", visit(e.h1.ID, nil)), 403, "forbidden", "")
		// bad input
		wantErr(t, e.do(t, "POST", "/api/v1/patrols", "worker1", `{"note":"没有户"}`), 422, "patrol_household_required", "household_id")
		wantErr(t, e.do(t, "POST", "/api/v1/patrols", "worker1", visit(e.h1.ID, map[string]any{"lat": 31.58})), 422, "position_invalid", "lat")
		wantErr(t, e.do(t, "POST", "/api/v1/patrols", "worker1", visit(e.h1.ID, map[string]any{"note": strings.Repeat("访", 2001)})),
			422, "patrol_note_too_long", "note")
		wantErr(t, e.do(t, "POST", "/api/v1/patrols", "worker1", visit(e.h1.ID, map[string]any{"problem": "yes"})), 422, "invalid", "problem")
		if n := count(t, d, "SELECT count(*) FROM patrols"); n != before {
			t.Fatalf("%d visits stored by refused calls", n-before)
		}

		// a problem found: reported from the visit, the visit names the incident
		r = e.do(t, "POST", "/api/v1/patrols", "worker1", visit(e.h2.ID, nil))
		wantStatus(t, r, 201)
		second := int64(r.body["id"].(float64))
		inc := e.do(t, "POST", "/api/v1/incidents", "worker1", body(t, map[string]any{"division": grid1, "category": "XS-SJ-GY01",
			"household_id": e.h2.ID, "patrol_id": second}))
		wantStatus(t, inc, 201)
		r = e.do(t, "GET", "/api/v1/patrols/"+strconv.FormatInt(second, 10), "village1", "")
		wantStatus(t, r, 200)
		if r.body["incident"] != inc.body["number"] || r.body["problem"] != true || r.body["first"] != nil {
			t.Fatal(r.raw)
		}
		wantErr(t, e.do(t, "GET", "/api/v1/patrols/"+strconv.FormatInt(second, 10), "worker2", ""), 404, "not_found", "")
		wantErr(t, e.do(t, "GET", "/api/v1/patrols/999999", "village1", ""), 404, "not_found", "")
		wantErr(t, e.do(t, "GET", "/api/v1/patrols/abc", "village1", ""), 422, "invalid", "id")

		// lists
		r = e.do(t, "GET", "/api/v1/patrols?mine=true&month=2026-09", "worker1", "")
		wantStatus(t, r, 200)
		if it := items(r); len(it) != 3 || it[0]["id"] != float64(second) || it[0]["household"] == nil {
			t.Fatal(r.raw)
		}
		r = e.do(t, "GET", "/api/v1/patrols?problem=true&limit=1", "worker1", "")
		if wantStatus(t, r, 200); len(items(r)) != 1 || r.body["more"] != true {
			t.Fatal(r.raw)
		}
		r = e.do(t, "GET", "/api/v1/patrols?month=2026-08", "worker1", "")
		if wantStatus(t, r, 200); len(items(r)) != 0 {
			t.Fatal(r.raw)
		}
		r = e.do(t, "GET", "/api/v1/patrols", "worker2", "")
		if wantStatus(t, r, 200); len(items(r)) != 0 {
			t.Fatal(r.raw)
		}
		// the township's viewer sees the visits but not the households
		r = e.do(t, "GET", "/api/v1/patrols?unit="+division.Format(village1), "viewer1", "")
		wantStatus(t, r, 200)
		if it := items(r); len(it) != 3 || it[0]["household"] != nil || strings.Contains(r.raw, "春江路") {
			t.Fatal(r.raw)
		}
		wantErr(t, e.do(t, "GET", "/api/v1/patrols?unit="+grid2, "worker1", ""), 404, "not_found", "")
		wantErr(t, e.do(t, "GET", "/api/v1/patrols?unit=0", "town1", ""), 404, "not_found", "")
		wantErr(t, e.do(t, "GET", "/api/v1/patrols?month=202609", "town1", ""), 422, "invalid", "month")

		// a new month: the household counts again
		e.now = time.Date(2026, 10, 8, 9, 0, 0, 0, chinaTime)
		r = e.do(t, "POST", "/api/v1/patrols", "worker1", visit(e.h1.ID, nil))
		if wantStatus(t, r, 201); r.body["first"] != true || r.body["day"] != "2026-10-08" {
			t.Fatal(r.raw)
		}
		r = e.do(t, "GET", "/api/v1/patrols/coverage?unit="+grid1, "town1", "")
		if wantStatus(t, r, 200); r.body["month"] != "2026-10" || total(t, r)["visited"] != 1.0 || total(t, r)["visits"] != 1.0 {
			t.Fatal(r.raw)
		}
	})
}

func TestPatrolsOpenAPI(t *testing.T) {
	e := setupPatrols(t, dbtest.SQLite(t))
	r := e.do(t, "GET", "/api/v1/openapi.json", "", "")
	wantStatus(t, r, 200)
	paths := r.body["paths"].(map[string]any)
	for _, p := range []string{"/patrols", "/patrols/{id}", "/patrols/coverage", "/followups", "/residents/{id}/followups"} {
		if paths[p] == nil {
			t.Errorf("path %s missing", p)
		}
	}
	schemas := r.body["components"].(map[string]any)["schemas"].(map[string]any)
	for _, s := range []string{"PatrolVisit", "NewPatrolVisit", "PatrolVisitList", "PatrolCoverage", "PatrolCoverageRow",
		"FollowUp", "NewFollowUp", "FollowUpList", "FollowUpHistory", "FollowUpStanding", "SpecialResident", "SpecialGroup"} {
		if schemas[s] == nil {
			t.Errorf("schema %s missing", s)
		}
	}
}
