package api_test

import (
	"context"
	"net/http"
	"strconv"
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

type electionEnv struct {
	*env
	ctx context.Context
	d   *db.DB
	now time.Time
	// residents of 春江村 by name
	res map[string]int64
}

// setupElections is the API over governance on the shipped packs
// (xishan-2008: voters 18 on the day, non-registered residents after a
// year, three proxies per trustee; charters adopted by the villagers'
// assembly), with 春江村's residents and the accounts village1
// (village_staff), viewer1 (viewer at town1) and town2.
func setupElections(t *testing.T, d *db.DB) *electionEnv {
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
	svc := governance.NewService(d, log, acc, keys, divs.Store, packs, reg, t.TempDir())
	e := &electionEnv{env: &env{acc: acc, tokens: map[string]string{}}, ctx: ctx, d: d,
		now: time.Date(2026, 9, 30, 10, 0, 0, 0, time.FixedZone("CST", 8*3600)), res: map[string]int64{}}
	svc.SetClock(func() time.Time { return e.now })
	admin := &access.Principal{Username: "admin", Assignments: []access.Assignment{{Role: "system_admin"}}}
	for _, r := range []struct{ name, gender, birth, residency string }{
		{"张一", "女", "1970-01-01", "registered"}, {"李二", "男", "1965-05-05", "registered"}, {"王三", "男", "1980-08-08", "registered"},
		{"赵四", "女", "1975-03-03", "registered"}, {"钱五", "男", "1990-09-09", "registered"}, {"孙六", "女", "1985-06-06", "non_registered"},
		{"周七", "男", "2012-01-01", "registered"}, {"吴八", "男", "1992-02-02", "migrant"},
	} {
		x, err := reg.Register(ctx, admin, registry.ResidentInput{Division: village1, Name: r.name, Gender: r.gender, Birth: r.birth,
			Residency: r.residency, Since: "2015-01-01"})
		if err != nil {
			t.Fatal(err)
		}
		e.res[r.name] = x.ID
	}
	for _, u := range []struct {
		name, role string
		div        int64
	}{
		{"village1", "village_staff", village1},
		{"viewer1", "viewer", town1},
		{"town2", "township_staff", town2},
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

func (e *electionEnv) id(name string) string { return strconv.FormatInt(e.res[name], 10) }

// item writes a held meeting of 春江村's body of kind with one agenda item
// of result (gov_bodies, gov_meetings, gov_agenda: the schema is the
// contract) and returns the item's ID.
func (e *electionEnv) item(t *testing.T, kind, result string) int64 {
	t.Helper()
	now := db.Now()
	body, err := e.d.InsertID(e.ctx, `INSERT INTO gov_bodies (county, division, kind, name, term_start, created_at, updated_at)
		VALUES (?,?,?,?,?,?,?)`, county, village1, kind, "春江村"+kind, 20250101, now, now)
	if err != nil {
		t.Fatal(err)
	}
	m, err := e.d.InsertID(e.ctx, `INSERT INTO gov_meetings (county, division, body_id, title, day, state, members, present, created_at, updated_at)
		VALUES (?,?,?,?,?,?,?,?,?,?)`, county, village1, body, "村民会议", 20260901, governance.MeetingHeld, 6, 5, now, now)
	if err != nil {
		t.Fatal(err)
	}
	id, err := e.d.InsertID(e.ctx, `INSERT INTO gov_agenda (meeting_id, seq, title, result, votes_for, votes_against, votes_abstain, decided_day)
		VALUES (?,?,?,?,?,?,?,?)`, m, 1, "通过村民自治章程", result, 4, 1, 0, 20260901)
	if err != nil {
		t.Fatal(err)
	}
	return id
}

func TestElectionsAPI(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		e := setupElections(t, d)
		ne := map[string]any{"village": "320205001001", "body_kind": "committee", "title": "第十一届村民委员会选举", "day": "2026-10-15", "seats": 2}
		r := e.do(t, "POST", "/api/v1/elections", "village1", body(t, ne))
		wantStatus(t, r, http.StatusCreated)
		loc := r.header.Get("Location")
		if !strings.HasPrefix(loc, "/api/v1/elections/") || r.body["state"] != "preparing" || r.body["body_name"] == "committee" {
			t.Fatalf("created %s", r.raw)
		}
		bad := map[string]any{"village": "320205001001", "body_kind": "nope", "title": "", "day": "2026-09-01", "seats": 2}
		r = e.do(t, "POST", "/api/v1/elections", "village1", body(t, bad))
		wantErr(t, r, 422, "body_kind_unknown", "body_kind")
		if msg := r.body["message"].(string); !strings.Contains(msg, "day: day_past") || !strings.Contains(msg, "title: required") {
			t.Errorf("not every problem listed: %s", r.raw)
		}
		wantErr(t, e.do(t, "POST", "/api/v1/elections", "viewer1", body(t, ne)), 403, "forbidden", "")

		// the roll: five adults and the non-registered 孙六; not the child, not the migrant
		r = e.do(t, "POST", loc+"/roll", "village1", "")
		wantStatus(t, r, 200)
		if r.body["voters"] != 6.0 || r.body["excluded"].(map[string]any)["under_age"] != 1.0 || r.body["excluded"].(map[string]any)["migrant"] != 1.0 {
			t.Fatalf("roll %s", r.raw)
		}
		r = e.do(t, "GET", loc+"/voters?limit=2", "viewer1", "")
		if wantStatus(t, r, 200); len(items(r)) != 2 || r.body["total"] != 6.0 || r.body["more"] != true {
			t.Fatalf("voters %s", r.raw)
		}
		for _, v := range items(r) {
			if v["age"].(float64) < 18 || v["name"] == "" {
				t.Errorf("voter %v", v)
			}
			for k := range v {
				if strings.Contains(k, "id_") || strings.Contains(k, "phone") {
					t.Errorf("voter carries %s", k)
				}
			}
		}
		wantErr(t, e.do(t, "POST", loc+"/roll", "viewer1", ""), 403, "forbidden", "")
		wantErr(t, e.do(t, "GET", loc, "town2", ""), 404, "not_found", "")

		// proxies: three per trustee
		for _, n := range []string{"李二", "王三", "赵四"} {
			wantStatus(t, e.do(t, "POST", loc+"/proxies", "village1", `{"truster":`+e.id(n)+`,"trustee":`+e.id("张一")+`}`), 200)
		}
		r = e.do(t, "POST", loc+"/proxies", "village1", `{"truster":`+e.id("钱五")+`,"trustee":`+e.id("张一")+`}`)
		wantErr(t, r, 422, "proxy_limit", "trustee")
		if !strings.Contains(r.body["message"].(string), "张一 already votes for 3 voters") {
			t.Errorf("limit message %s", r.raw)
		}
		r = e.do(t, "GET", loc+"/proxies", "village1", "")
		if wantStatus(t, r, 200); len(items(r)) != 3 {
			t.Fatalf("proxies %s", r.raw)
		}
		wantStatus(t, e.do(t, "DELETE", loc+"/proxies/"+e.id("赵四"), "village1", ""), 200)

		// candidates
		r = e.do(t, "POST", loc+"/candidates", "village1", `{"resident_id":`+e.id("张一")+`}`)
		wantStatus(t, r, http.StatusCreated)
		r = e.do(t, "POST", loc+"/candidates", "village1", `{"resident_id":`+e.id("钱五")+`}`)
		wantStatus(t, r, http.StatusCreated)
		r = e.do(t, "POST", loc+"/candidates", "village1", `{"resident_id":`+e.id("吴八")+`}`)
		wantErr(t, r, 422, "candidate_not_voter", "resident_id")
		cands := e.do(t, "GET", loc, "village1", "").body["candidates"].([]any)
		cid := func(i int) string { return strconv.FormatFloat(cands[i].(map[string]any)["id"].(float64), 'f', 0, 64) }

		// voting on the day
		wantErr(t, e.do(t, "POST", loc+"/votes", "village1", `{"resident_id":`+e.id("张一")+`}`), 409, "not_yet", "")
		e.now = e.now.AddDate(0, 0, 15)
		r = e.do(t, "POST", loc+"/votes", "village1", `{"resident_id":`+e.id("张一")+`}`)
		if wantStatus(t, r, 200); r.body["by_proxy"] != 2.0 || r.body["election"].(map[string]any)["voted"] != 3.0 {
			t.Fatalf("marked %s", r.raw)
		}
		r = e.do(t, "POST", loc+"/votes", "village1", `{"resident_id":`+e.id("王三")+`}`)
		wantErr(t, r, 422, "voted_twice", "resident_id")
		wantStatus(t, e.do(t, "POST", loc+"/votes", "village1", `{"resident_id":`+e.id("孙六")+`}`), 200)
		wantErr(t, e.do(t, "POST", loc+"/candidates", "village1", `{"resident_id":`+e.id("孙六")+`}`), 409, "roll_frozen", "")

		// the count
		over := `{"ballots":5,"invalid":0,"votes":[{"candidate_id":` + cid(0) + `,"votes":3},{"candidate_id":` + cid(1) + `,"votes":1}]}`
		wantErr(t, e.do(t, "POST", loc+"/count", "village1", over), 422, "ballots_over_voted", "ballots")
		// each candidate has more than half of the 4 who voted (the law's
		// win rule in the shipped pack)
		ok := `{"ballots":4,"invalid":0,"votes":[{"candidate_id":` + cid(0) + `,"votes":4},{"candidate_id":` + cid(1) + `,"votes":3}]}`
		r = e.do(t, "POST", loc+"/count", "village1", ok)
		wantStatus(t, r, 200)
		if r.body["state"] != "counted" || r.body["pending"] != false || r.body["women"] != 1.0 || r.body["ballots"] != 4.0 {
			t.Fatalf("counted %s", r.raw)
		}
		for _, c := range r.body["candidates"].([]any) {
			if c.(map[string]any)["elected"] != true {
				t.Errorf("not elected %v", c)
			}
		}
		wantErr(t, e.do(t, "POST", loc+"/count", "village1", ok), 409, "counted", "")
		r = e.do(t, "GET", "/api/v1/elections?state=counted", "viewer1", "")
		if wantStatus(t, r, 200); len(items(r)) != 1 {
			t.Fatalf("list %s", r.raw)
		}
		if r = e.do(t, "GET", "/api/v1/elections", "town2", ""); len(items(r)) != 0 {
			t.Fatalf("town2 lists %s", r.raw)
		}
	})
}

func TestDocumentsAPI(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		e := setupElections(t, d)
		nd := map[string]any{"village": "320205001001", "kind": "charter", "title": "春江村村民自治章程", "text": "第一条 …"}
		r := e.do(t, "POST", "/api/v1/documents", "village1", body(t, nd))
		wantErr(t, r, 422, "adoption_missing", "agenda_id")
		nd["agenda_id"] = e.item(t, "assembly", governance.ResultFailed)
		wantErr(t, e.do(t, "POST", "/api/v1/documents", "village1", body(t, nd)), 422, "adoption_not_passed", "agenda_id")
		nd["agenda_id"] = e.item(t, "committee", governance.ResultPassed)
		wantErr(t, e.do(t, "POST", "/api/v1/documents", "village1", body(t, nd)), 422, "adoption_wrong_body", "agenda_id")
		nd["agenda_id"] = e.item(t, "assembly", governance.ResultPassed)
		wantErr(t, e.do(t, "POST", "/api/v1/documents", "viewer1", body(t, nd)), 403, "forbidden", "")
		r = e.do(t, "POST", "/api/v1/documents", "village1", body(t, nd))
		wantStatus(t, r, http.StatusCreated)
		loc := r.header.Get("Location")
		cur := r.body["current"].(map[string]any)
		if cur["version"] != 1.0 || cur["adopted_day"] != "2026-09-01" || cur["adoption"].(map[string]any)["for"] != 4.0 {
			t.Fatalf("created %s", r.raw)
		}
		r = e.do(t, "POST", loc+"/versions", "village1", body(t, map[string]any{"text": "第一条 修订。", "agenda_id": e.item(t, "assembly", governance.ResultPassed)}))
		if wantStatus(t, r, http.StatusCreated); r.body["version"] != 2.0 {
			t.Fatalf("version %s", r.raw)
		}
		r = e.do(t, "GET", loc+"/versions", "viewer1", "")
		if wantStatus(t, r, 200); len(items(r)) != 2 {
			t.Fatalf("versions %s", r.raw)
		}
		r = e.do(t, "GET", "/api/v1/documents?village=320205001001", "viewer1", "")
		wantStatus(t, r, 200)
		if len(items(r)) != 1 || len(r.body["kinds"].([]any)) == 0 {
			t.Fatalf("documents %s", r.raw)
		}
		if k := r.body["kinds"].([]any)[0].(map[string]any); k["kind"] != "charter" || k["documents"] != 1.0 {
			t.Errorf("kind %v", k)
		}
		wantErr(t, e.do(t, "GET", loc, "town2", ""), 404, "not_found", "")
		wantErr(t, e.do(t, "GET", "/api/v1/documents?village=320205001001", "town2", ""), 404, "not_found", "")
	})
}
