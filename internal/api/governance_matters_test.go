package api_test

import (
	"context"
	"encoding/base64"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/shequ-platform/shequ/internal/api"
	"github.com/shequ-platform/shequ/internal/division"
	"github.com/shequ-platform/shequ/internal/governance"
	"github.com/shequ-platform/shequ/internal/platform/access"
	"github.com/shequ-platform/shequ/internal/platform/audit"
	"github.com/shequ-platform/shequ/internal/platform/db"
	"github.com/shequ-platform/shequ/internal/platform/db/dbtest"
	"github.com/shequ-platform/shequ/internal/platform/pii"
	"github.com/shequ-platform/shequ/internal/platform/policy"
	"github.com/shequ-platform/shequ/internal/registry"
	policypacks "github.com/shequ-platform/shequ/policy"
)

type matterEnv struct {
	*env
	ctx   context.Context
	svc   *governance.Service
	admin *access.Principal
	// the village committee and the representatives of 春江村
	committee, representatives governance.Body
	// residents of 春江村; the first three sit on both bodies
	residents []int64
}

// setupMatters is the API over governance: the divisions of setup under
// 锡山区 (xishan-2008: propose → discuss by the committee → resolve by the
// representatives → implement → evaluate), the accounts town1, town2,
// county, viewer1 and village1, and 春江村's committee and representatives.
func setupMatters(t *testing.T, d *db.DB) *matterEnv {
	t.Helper()
	packs, err := policy.Load(policypacks.FS)
	if err != nil {
		t.Fatal(err)
	}
	return setupMattersWith(t, d, packs)
}

// setupMattersWith is setupMatters under the given packs.
func setupMattersWith(t *testing.T, d *db.DB, packs *policy.Set) *matterEnv {
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
	keys, err := pii.New(pii.File{Current: 1, SM4: map[string]string{"1": "00112233445566778899aabbccddeeff"},
		Lookup: "0f1e2d3c4b5a69788796a5b4c3d2e1f00f1e2d3c4b5a69788796a5b4c3d2e1f0"})
	if err != nil {
		t.Fatal(err)
	}
	reg := registry.NewService(d, log, acc, keys, divs.Store, packs)
	svc := governance.NewService(d, log, acc, keys, divs.Store, packs, reg, t.TempDir())
	svc.SetClock(func() time.Time { return time.Date(2026, 9, 30, 10, 0, 0, 0, time.FixedZone("CST", 8*3600)) })
	e := &matterEnv{env: &env{acc: acc, tokens: map[string]string{}}, ctx: ctx, svc: svc,
		admin: &access.Principal{Username: "admin", Assignments: []access.Assignment{{Role: "system_admin"}}}}
	var members []int64
	for _, n := range []string{"张一", "李二", "王三", "赵四", "钱五"} {
		r, err := reg.Register(ctx, e.admin, registry.ResidentInput{Division: village1, Name: n, Gender: "女", Birth: "1970-01-01",
			Residency: "registered"})
		if err != nil {
			t.Fatal(err)
		}
		members = append(members, r.ID)
	}
	body := func(kind string) governance.Body {
		b, err := svc.CreateBody(ctx, e.admin, governance.BodyInput{Division: village1, Kind: kind, TermStart: "2025-01-01"})
		if err != nil {
			t.Fatal(err)
		}
		for _, id := range members[:3] {
			if _, err := svc.AddMember(ctx, e.admin, b.ID, governance.MemberInput{ResidentID: id, Since: "2025-01-01"}); err != nil {
				t.Fatal(err)
			}
		}
		return b
	}
	e.committee, e.representatives = body("committee"), body("representatives")
	e.residents = members
	for _, u := range []struct {
		name, role string
		div        int64
	}{
		{"town1", "township_staff", town1},
		{"town2", "township_staff", town2},
		{"county", "county_staff", county},
		{"viewer1", "viewer", town1},
		{"village1", "village_staff", village1},
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
	mux.Handle(api.Prefix+"/", api.New(api.Deps{Access: acc, Divisions: divs, Audit: log, DB: d, Governance: svc, Version: "test"}))
	e.h = (&access.HTTP{S: acc}).Authenticate(mux)
	return e
}

// vote holds a meeting of b today with the matter on its agenda, everyone
// present, and records a counted vote.
func (e *matterEnv) vote(t *testing.T, b governance.Body, matterID int64, yes, no int) governance.Outcome {
	t.Helper()
	m, err := e.svc.Schedule(e.ctx, e.admin, governance.MeetingInput{BodyID: b.ID, Title: "会议", Day: "2026-09-30"})
	if err != nil {
		t.Fatal(err)
	}
	item, err := e.svc.AddAgendaItem(e.ctx, e.admin, m.ID, governance.AgendaInput{Title: "事项", MatterID: matterID})
	if err != nil {
		t.Fatal(err)
	}
	ms, _ := e.svc.MeetingMembers(e.ctx, e.admin, m.ID)
	var att []governance.AttendanceInput
	for _, mb := range ms {
		att = append(att, governance.AttendanceInput{MemberID: mb.ID, Status: governance.AttendPresent})
	}
	if _, err := e.svc.RecordAttendance(e.ctx, e.admin, m.ID, att); err != nil {
		t.Fatal(err)
	}
	_, o, err := e.svc.RecordVote(e.ctx, e.admin, item.ID, governance.VoteInput{Counted: true, For: yes, Against: no})
	if err != nil {
		t.Fatal(err)
	}
	return o
}

func TestMattersAPI(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		e := setupMatters(t, d)
		nm := map[string]any{"village": "320205001001", "title": "硬化东巷道路", "description": "东巷雨天泥泞。", "proposer": "residents",
			"proposer_name": "张一", "signatures": 12, "budget": "120000", "goal_year": 2026}

		r := e.do(t, "POST", "/api/v1/matters", "village1", body(t, nm))
		wantStatus(t, r, http.StatusCreated)
		number, _ := r.body["number"].(string)
		if number != "YS320205001001-2026-001" || r.header.Get("Location") != "/api/v1/matters/"+number {
			t.Fatalf("created %s", r.raw)
		}
		if r.body["stage"] != "discuss" || r.body["status"] != "open" || r.body["budget"] != "120000.00" || r.body["procedure"] != "standard" ||
			len(r.body["stages"].([]any)) != 5 || r.body["created_by"] != "village1 名" {
			t.Fatalf("matter %s", r.raw)
		}
		if st := r.body["stages"].([]any)[1].(map[string]any); st["state"] != "current" || st["body"] != "committee" {
			t.Fatalf("stages %s", r.raw)
		}

		// invalid input, permissions
		bad := map[string]any{"village": "320205001001", "title": "", "description": "x", "proposer": "residents", "proposer_name": "张一", "signatures": 2}
		r = e.do(t, "POST", "/api/v1/matters", "village1", body(t, bad))
		wantErr(t, r, 422, "required", "title")
		if !strings.Contains(r.body["message"].(string), "signatures: signatures (10)") {
			t.Errorf("not every problem listed: %s", r.raw)
		}
		wantErr(t, e.do(t, "POST", "/api/v1/matters", "viewer1", body(t, nm)), 403, "forbidden", "")
		wantErr(t, e.do(t, "POST", "/api/v1/matters", "town2", body(t, nm)), 403, "forbidden", "")
		wantErr(t, e.do(t, "GET", "/api/v1/matters/"+number, "town2", ""), 404, "not_found", "")
		wantErr(t, e.do(t, "GET", "/api/v1/matters/320205001001-2026-001", "town1", ""), 422, "invalid", "number")
		r = e.do(t, "GET", "/api/v1/matters/"+number, "viewer1", "")
		wantStatus(t, r, 200)
		if steps := r.body["steps"].([]any); len(steps) != 1 || steps[0].(map[string]any)["action"] != "propose" {
			t.Fatalf("history %s", r.raw)
		}
		r = e.do(t, "GET", "/api/v1/matters?status=open&goal_year=2026", "county", "")
		if wantStatus(t, r, 200); len(items(r)) != 1 {
			t.Fatalf("list %s", r.raw)
		}
		if r = e.do(t, "GET", "/api/v1/matters", "town2", ""); len(items(r)) != 0 {
			t.Fatalf("town2 sees %s", r.raw)
		}

		// a step out of order: 409 with the refusal's code and reason
		r = e.do(t, "POST", "/api/v1/matters/"+number+"/steps", "village1", `{"kind":"assign","responsible":"村委会"}`)
		wantErr(t, r, 409, "out_of_order", "")
		if !strings.Contains(r.body["message"].(string), "The matter is at") {
			t.Errorf("reason %s", r.raw)
		}

		// the meetings move it on; then the implementation through the API
		m, _ := e.svc.MatterByNumber(e.ctx, e.admin, number)
		if o := e.vote(t, e.committee, m.ID, 3, 0); o.Result != governance.ResultPassed {
			t.Fatalf("committee %+v", o)
		}
		if o := e.vote(t, e.representatives, m.ID, 2, 1); o.Result != governance.ResultPassed {
			t.Fatalf("representatives %+v", o)
		}
		r = e.do(t, "GET", "/api/v1/matters/"+number, "village1", "")
		if r.body["stage"] != "implement" || r.body["resolved_day"] != "2026-09-30" {
			t.Fatalf("after the votes %s", r.raw)
		}
		if v := r.body["steps"].([]any)[2].(map[string]any)["vote"].(map[string]any); v["for"] != float64(2) || v["present"] != float64(3) {
			t.Fatalf("vote figures %s", r.raw)
		}
		wantStatus(t, e.do(t, "POST", "/api/v1/matters/"+number+"/steps", "village1", `{"kind":"assign","responsible":"村委会","due":"2026-12-31"}`), 200)
		wantErr(t, e.do(t, "POST", "/api/v1/matters/"+number+"/steps", "village1", `{"kind":"assign","responsible":"别人"}`), 409, "assigned", "")
		wantErr(t, e.do(t, "POST", "/api/v1/matters/"+number+"/steps", "viewer1", `{"kind":"supervise","note":"x"}`), 403, "forbidden", "")
		photo := base64.StdEncoding.EncodeToString(append([]byte{0xFF, 0xD8, 0xFF, 0xE0, 0, 0x10, 'J', 'F', 'I', 'F', 0}, make([]byte, 32)...))
		r = e.do(t, "POST", "/api/v1/matters/"+number+"/steps", "village1",
			`{"kind":"implement","note":"路基完成","percent":60,"spent":"35000.5","photos":["`+photo+`"],"public":false}`)
		wantStatus(t, r, 200)
		steps := r.body["steps"].([]any)
		last := steps[len(steps)-1].(map[string]any)
		if r.body["progress"] != float64(60) || r.body["spent"] != "35000.50" || last["public"] != false || len(last["photos"].([]any)) != 1 {
			t.Fatalf("progress %s", r.raw)
		}
		wantErr(t, e.do(t, "POST", "/api/v1/matters/"+number+"/steps", "village1", `{"kind":"implement","note":"x","percent":50}`), 422, "percent_back", "percent")
		wantErr(t, e.do(t, "POST", "/api/v1/matters/"+number+"/steps", "village1", `{"kind":"implement","note":"x","percent":70,"photos":["@@"]}`), 422, "invalid", "photos[0]")
		r = e.do(t, "POST", "/api/v1/matters/"+number+"/steps", "village1", `{"kind":"complete","note":"完工","spent":"1000"}`)
		if wantStatus(t, r, 200); r.body["stage"] != "evaluate" || r.body["spent"] != "36000.50" {
			t.Fatalf("complete %s", r.raw)
		}
		if err := e.svc.Rate(e.ctx, village1, number, "phone-1", 4, "好"); err != nil {
			t.Fatal(err)
		}
		r = e.do(t, "POST", "/api/v1/matters/"+number+"/steps", "village1", `{"kind":"evaluate"}`)
		if wantStatus(t, r, 200); r.body["status"] != "done" || r.body["rating"] != float64(4) || r.body["ratings"] != float64(1) {
			t.Fatalf("evaluate %s", r.raw)
		}
		wantErr(t, e.do(t, "POST", "/api/v1/matters/"+number+"/withdraw", "village1", `{"reason":"x"}`), 409, "closed", "")

		// the goals
		r = e.do(t, "GET", "/api/v1/goals?village=320205001001&year=2026", "town1", "")
		if wantStatus(t, r, 200); r.body["total"] != float64(1) || r.body["done"] != float64(1) || r.body["spent"] != "36000.50" {
			t.Fatalf("goals %s", r.raw)
		}
		wantErr(t, e.do(t, "GET", "/api/v1/goals?village=320205001001", "town2", ""), 404, "not_found", "")

		// withdrawal: the reason is required
		r = e.do(t, "POST", "/api/v1/matters", "village1", body(t, nm))
		second := r.body["number"].(string)
		wantErr(t, e.do(t, "POST", "/api/v1/matters/"+second+"/withdraw", "village1", `{"reason":""}`), 422, "required", "reason")
		r = e.do(t, "POST", "/api/v1/matters/"+second+"/withdraw", "village1", `{"reason":"与上级项目重复"}`)
		if wantStatus(t, r, 200); r.body["status"] != "withdrawn" || r.body["reason"] != "与上级项目重复" {
			t.Fatalf("withdrawn %s", r.raw)
		}
	})
}
