package api_test

import (
	"context"
	"encoding/base64"
	"net/http"
	"regexp"
	"strings"
	"testing"

	"github.com/shequ-platform/shequ/internal/api"
	"github.com/shequ-platform/shequ/internal/division"
	"github.com/shequ-platform/shequ/internal/grid"
	"github.com/shequ-platform/shequ/internal/platform/access"
	"github.com/shequ-platform/shequ/internal/platform/audit"
	"github.com/shequ-platform/shequ/internal/platform/calendar"
	"github.com/shequ-platform/shequ/internal/platform/db"
	"github.com/shequ-platform/shequ/internal/platform/db/dbtest"
	"github.com/shequ-platform/shequ/internal/platform/pii"
	"github.com/shequ-platform/shequ/internal/platform/policy"
	"github.com/shequ-platform/shequ/internal/registry"
	policypacks "github.com/shequ-platform/shequ/policy"
)

type incidentEnv struct {
	*env
	svc          *grid.Service
	grid1, grid2 int64 // two grids of 春江村
}

// incJPEG is the smallest JPEG header the photo check accepts, base64.
var incJPEG = base64.StdEncoding.EncodeToString(append([]byte{0xFF, 0xD8, 0xFF, 0xE0, 0x00, 0x10, 'J', 'F', 'I', 'F', 0x00}, make([]byte, 64)...))

// setupIncidents is the API over grid incidents: the divisions of setup
// under 锡山区 (bound by the xishan-2008 pack and its incident categories),
// two grids of 春江村, and the accounts town1, town2, viewer1, village1
// (village_staff) and worker1, worker2 (grid workers of the two grids).
func setupIncidents(t *testing.T, d *db.DB) *incidentEnv {
	t.Helper()
	ctx := audit.WithActor(context.Background(), audit.Actor{Name: "test", Client: "test"})
	log := &audit.Log{DB: d}
	acc := access.New(d, log, access.Config{})
	divs := division.NewService(d, log, acc)
	for _, u := range []struct {
		code   int64
		name   string
		level  int
		parent int64
		kind   string
	}{
		{province, "江苏省", 1, 0, ""},
		{city, "无锡市", 2, province, ""},
		{county, "锡山区", 3, city, ""},
		{town1, "东亭街道", 4, county, ""},
		{town2, "安镇街道", 4, county, ""},
		{village1, "春江村", 5, town1, division.KindVillage},
		{village2, "大厦村", 5, town2, division.KindVillage},
	} {
		if _, err := d.Exec(ctx, `INSERT INTO divisions (code, name, level, parent, kind, urban_rural, retired_at, updated_at)
			VALUES (?, ?, ?, ?, ?, 0, 0, ?)`, u.code, u.name, u.level, u.parent, u.kind, db.Now()); err != nil {
			t.Fatal(err)
		}
	}
	packs, err := policy.Load(policypacks.FS)
	if err != nil {
		t.Fatal(err)
	}
	keys, err := pii.New(pii.File{Current: 1, SM4: map[string]string{"1": "00112233445566778899aabbccddeeff"},
		Lookup: "0f1e2d3c4b5a69788796a5b4c3d2e1f00f1e2d3c4b5a69788796a5b4c3d2e1f0"})
	if err != nil {
		t.Fatal(err)
	}
	reg := registry.NewService(d, log, acc, keys, divs.Store, packs)
	cal := calendar.NewCalendar(calendar.Shipped())
	svc := grid.NewService(d, log, acc, keys, divs.Store, packs, reg,
		func(context.Context) (*calendar.Calendar, error) { return cal, nil }, t.TempDir())
	e := &incidentEnv{env: &env{acc: acc, tokens: map[string]string{}}, svc: svc}
	admin := &access.Principal{Username: "admin", Assignments: []access.Assignment{{Role: "system_admin"}}}
	for _, g := range []struct {
		code *int64
		name string
	}{{&e.grid1, "第一网格"}, {&e.grid2, "第二网格"}} {
		sub, err := divs.CreateSub(ctx, admin, village1, division.KindGrid, g.name)
		if err != nil {
			t.Fatal(err)
		}
		*g.code = sub.Code
	}
	for _, u := range []struct {
		name, role string
		div        int64
	}{
		{"town1", "township_staff", town1},
		{"town2", "township_staff", town2},
		{"viewer1", "viewer", town1},
		{"village1", "village_staff", village1},
		{"worker1", "grid_worker", e.grid1},
		{"worker2", "grid_worker", e.grid2},
	} {
		nu, err := acc.CreateUser(ctx, nil, access.NewUser{Username: u.name, DisplayName: u.name + " 名", Password: "lan-tian-bai-yun", Role: u.role, Division: u.div})
		if err != nil {
			t.Fatal(err)
		}
		if e.tokens[u.name], _, err = acc.CreateToken(ctx, nu.ID, "test"); err != nil {
			t.Fatal(err)
		}
	}
	mux := http.NewServeMux()
	mux.Handle(api.Prefix+"/", api.New(api.Deps{Access: acc, Divisions: divs, Audit: log, DB: d, Grid: svc, Version: "test"}))
	e.h = (&access.HTTP{S: acc}).Authenticate(mux)
	return e
}

var incidentNumberRE = regexp.MustCompile(`^SJ320205001001-[0-9]{8}-[0-9]{4}$`)

func TestIncidents(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		e := setupIncidents(t, d)
		grid1 := division.Format(e.grid1)

		// report, with a photo and a position on a phone's map (GCJ-02)
		report := map[string]any{"division": grid1, "category": "XS-SJ-GY01", "description": "雨水口堵塞",
			"lat": 31.5861, "lon": 120.3650, "coords": "gcj02", "photos": []string{incJPEG}, "client_key": "draft-7"}
		r := e.do(t, "POST", "/api/v1/incidents", "worker1", body(t, report))
		wantStatus(t, r, 201)
		number, _ := r.body["number"].(string)
		if !incidentNumberRE.MatchString(number) || r.body["state"] != "reported" || r.body["division"] != grid1 ||
			r.body["holder"] != "320205001001000" || r.body["source"] != "worker" || r.body["category_name"] != "排水设施堵塞" {
			t.Fatal(r.raw)
		}
		if r.header.Get("Location") != "/api/v1/incidents/"+number {
			t.Errorf("Location %q", r.header.Get("Location"))
		}
		if lat := r.body["lat"].(float64); lat == 31.5861 || lat < 31.58 || lat > 31.59 {
			t.Errorf("GCJ-02 not converted: %v", lat)
		}
		// the same draft again: the same incident
		r = e.do(t, "POST", "/api/v1/incidents", "worker1", body(t, report))
		wantStatus(t, r, 201)
		if r.body["number"] != number {
			t.Fatalf("retry stored another: %s", r.raw)
		}

		// bad input
		bad := func(change func(m map[string]any)) string {
			m := map[string]any{"division": grid1, "category": "XS-SJ-GY01"}
			change(m)
			return body(t, m)
		}
		wantErr(t, e.do(t, "POST", "/api/v1/incidents", "worker1", bad(func(m map[string]any) { m["category"] = "XS-SJ-ZZ99" })), 422, "category_unknown", "category")
		wantErr(t, e.do(t, "POST", "/api/v1/incidents", "worker1", bad(func(m map[string]any) { m["category"] = "" })), 422, "required", "category")
		wantErr(t, e.do(t, "POST", "/api/v1/incidents", "worker1", bad(func(m map[string]any) {
			m["photos"] = []string{base64.StdEncoding.EncodeToString([]byte("%PDF-1.7 not a photo"))}
		})), 422, "photo_type", "photos")
		wantErr(t, e.do(t, "POST", "/api/v1/incidents", "worker1", bad(func(m map[string]any) {
			m["photos"] = []string{incJPEG, incJPEG, incJPEG, incJPEG, incJPEG, incJPEG, incJPEG}
		})), 422, "invalid", "photos")
		wantErr(t, e.do(t, "POST", "/api/v1/incidents", "worker1", bad(func(m map[string]any) { m["photos"] = []string{"not base64!"} })), 422, "invalid", "photos[0]")
		wantErr(t, e.do(t, "POST", "/api/v1/incidents", "worker1", bad(func(m map[string]any) { m["lat"] = 31.5 })), 422, "position_invalid", "lat")
		wantErr(t, e.do(t, "POST", "/api/v1/incidents", "worker1", bad(func(m map[string]any) { m["division"] = "32020500100100" })), 422, "invalid", "division")
		wantErr(t, e.do(t, "POST", "/api/v1/incidents", "worker1", bad(func(m map[string]any) { m["source"] = "resident" })), 422, "invalid", "source")
		// another grid: not the worker's to report in
		wantErr(t, e.do(t, "POST", "/api/v1/incidents", "worker2", body(t, report)), 403, "forbidden", "")
		wantErr(t, e.do(t, "POST", "/api/v1/incidents", "viewer1", body(t, report)), 403, "forbidden", "")
		if n := count(t, d, "SELECT count(*) FROM incidents"); n != 1 {
			t.Fatalf("%d incidents stored", n)
		}

		// read it back, with its history
		path := "/api/v1/incidents/" + number
		r = e.do(t, "GET", path, "village1", "")
		wantStatus(t, r, 200)
		steps, _ := r.body["steps"].([]any)
		if len(steps) != 1 || steps[0].(map[string]any)["action"] != "report" || steps[0].(map[string]any)["photos"] != 1.0 {
			t.Fatal(r.raw)
		}
		wantErr(t, e.do(t, "GET", path, "worker2", ""), 404, "not_found", "")
		wantErr(t, e.do(t, "GET", path, "town2", ""), 404, "not_found", "")
		wantErr(t, e.do(t, "GET", "/api/v1/incidents/SJ320205001001-20260930-9999", "village1", ""), 404, "not_found", "")
		wantErr(t, e.do(t, "GET", "/api/v1/incidents/320205001001-20260930-0001", "village1", ""), 422, "invalid", "number")

		// lists
		r = e.do(t, "GET", "/api/v1/incidents?view=reported", "village1", "")
		wantStatus(t, r, 200)
		if it := items(r); len(it) != 1 || it[0]["number"] != number || it[0]["steps"] != nil {
			t.Fatal(r.raw)
		}
		r = e.do(t, "GET", "/api/v1/incidents?view=all", "worker2", "")
		if wantStatus(t, r, 200); len(items(r)) != 0 {
			t.Fatal(r.raw)
		}
		r = e.do(t, "GET", "/api/v1/incidents?view=mine&unit="+grid1, "worker1", "")
		if wantStatus(t, r, 200); len(items(r)) != 1 {
			t.Fatal(r.raw)
		}
		wantErr(t, e.do(t, "GET", "/api/v1/incidents?unit=320205001", "town2", ""), 404, "not_found", "")
		wantErr(t, e.do(t, "GET", "/api/v1/incidents?unit=0", "town1", ""), 404, "not_found", "")
		wantErr(t, e.do(t, "GET", "/api/v1/incidents?view=lost", "town1", ""), 422, "invalid", "view")

		// the cycle
		act := path + "/actions"
		r = e.do(t, "POST", act, "village1", `{"kind":"register"}`)
		wantStatus(t, r, 200)
		if r.body["state"] != "registered" {
			t.Fatal(r.raw)
		}
		wantErr(t, e.do(t, "POST", act, "village1", `{"kind":"close"}`), 409, "transition_not_allowed", "")
		wantErr(t, e.do(t, "POST", act, "worker1", `{"kind":"dispatch"}`), 403, "forbidden", "")
		wantErr(t, e.do(t, "POST", act, "village1", `{"kind":"dispatch","days":61}`), 422, "invalid", "days")
		wantErr(t, e.do(t, "POST", act, "village1", `{"kind":"fly"}`), 422, "invalid", "kind")
		r = e.do(t, "POST", act, "village1", `{"kind":"dispatch","level":"township","department":"城管办","days":3}`)
		wantStatus(t, r, 200)
		if r.body["state"] != "dispatched" || r.body["holder"] != "320205001000000" || r.body["department"] != "城管办" ||
			r.body["time_limit"] != 3.0 || r.body["deadline"] == nil || r.body["overdue"] != false {
			t.Fatal(r.raw)
		}
		wantErr(t, e.do(t, "POST", act, "village1", `{"kind":"handle","note":"已疏通"}`), 403, "forbidden", "")
		wantErr(t, e.do(t, "POST", act, "town1", `{"kind":"handle"}`), 422, "reason_required", "note")
		r = e.do(t, "POST", act, "town1", body(t, map[string]any{"kind": "handle", "note": "已疏通", "photos": []string{incJPEG}}))
		if wantStatus(t, r, 200); r.body["state"] != "handled" {
			t.Fatal(r.raw)
		}
		r = e.do(t, "POST", act, "worker1", body(t, map[string]any{"kind": "verify", "note": "现场已无积水", "photos": []string{incJPEG}}))
		if wantStatus(t, r, 200); r.body["state"] != "verified" {
			t.Fatal(r.raw)
		}
		r = e.do(t, "POST", act, "village1", `{"kind":"close"}`)
		if wantStatus(t, r, 200); r.body["state"] != "closed" || r.body["on_time"] != true || r.body["closed_level"] != "township" || r.body["closed_at"] == nil {
			t.Fatal(r.raw)
		}
		wantErr(t, e.do(t, "POST", act, "worker1", `{"kind":"evaluate","rating":0}`), 422, "rating_range", "rating")
		r = e.do(t, "POST", act, "worker1", `{"kind":"evaluate","rating":5,"note":"满意"}`)
		if wantStatus(t, r, 200); r.body["rating"] != 5.0 || r.body["rating_comment"] != "满意" {
			t.Fatal(r.raw)
		}
		wantErr(t, e.do(t, "POST", act, "worker1", `{"kind":"evaluate","rating":4}`), 422, "rated_already", "rating")
		r = e.do(t, "GET", path, "town1", "")
		if steps, _ := r.body["steps"].([]any); len(steps) != 7 {
			t.Fatalf("%d steps: %s", len(steps), r.raw)
		}

		// a duplicate, rejected by number
		second := e.do(t, "POST", "/api/v1/incidents", "worker2", body(t, map[string]any{"division": division.Format(e.grid2), "category": "XS-SJ-GY01"}))
		wantStatus(t, second, 201)
		dupAct := "/api/v1/incidents/" + second.body["number"].(string) + "/actions"
		wantErr(t, e.do(t, "POST", dupAct, "village1", `{"kind":"reject","duplicate_of":"SJ320205002001-20260930-0001"}`), 422, "duplicate_unknown", "duplicate_of")
		r = e.do(t, "POST", dupAct, "village1", body(t, map[string]any{"kind": "reject", "duplicate_of": number}))
		if wantStatus(t, r, 200); r.body["state"] != "rejected" || r.body["duplicate_of"] != number || r.body["on_time"] != nil {
			t.Fatal(r.raw)
		}

		// a resident's report (Open311): the phone masked everywhere
		online, err := e.svc.ReportOnline(context.Background(), grid.Report{Division: village1, Category: "XS-SJ-HJ01", Address: "春江路 8 号",
			Name: "王芳", Phone: "13912345678"})
		if err != nil {
			t.Fatal(err)
		}
		r = e.do(t, "GET", "/api/v1/incidents/"+online.Number, "village1", "")
		wantStatus(t, r, 200)
		if r.body["phone_masked"] != "139****5678" || r.body["source"] != "resident" || strings.Contains(r.raw, "13912345678") {
			t.Fatal(r.raw)
		}
		r = e.do(t, "GET", "/api/v1/incidents?view=all", "village1", "")
		if wantStatus(t, r, 200); len(items(r)) != 3 || strings.Contains(r.raw, "13912345678") || strings.Contains(r.raw, `"token"`) {
			t.Fatal(r.raw)
		}
	})
}

func TestIncidentsOpenAPI(t *testing.T) {
	e := setupIncidents(t, dbtest.SQLite(t))
	r := e.do(t, "GET", "/api/v1/openapi.json", "", "")
	wantStatus(t, r, 200)
	paths := r.body["paths"].(map[string]any)
	for _, p := range []string{"/incidents", "/incidents/{number}", "/incidents/{number}/actions"} {
		if paths[p] == nil {
			t.Errorf("path %s missing", p)
		}
	}
	schemas := r.body["components"].(map[string]any)["schemas"].(map[string]any)
	for _, s := range []string{"Incident", "NewIncident", "IncidentAction", "IncidentList", "IncidentStep"} {
		if schemas[s] == nil {
			t.Errorf("schema %s missing", s)
		}
	}
	create := paths["/incidents"].(map[string]any)["post"].(map[string]any)
	if create["operationId"] != "create-incident" || !strings.Contains(r.raw, `"contentEncoding":"base64"`) {
		t.Errorf("create-incident: %v", create["operationId"])
	}
}
