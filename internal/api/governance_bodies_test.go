package api_test

import (
	"context"
	"fmt"
	"net/http"
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

type bodyEnv struct {
	*env
	residents []int64 // twelve residents of 春江村, six of them women
	other     int64   // a resident of 大厦村
}

// setupBodies is the API over governance's bodies and meetings: the
// divisions of setup under 锡山区 (the shipped xishan-2008 pack), the
// accounts town1, town2, county, viewer1 and village1 (village_staff at
// 春江村), and residents to appoint.
func setupBodies(t *testing.T, d *db.DB) *bodyEnv {
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
	}{
		{province, "江苏省", 1, 0}, {city, "无锡市", 2, province}, {county, "锡山区", 3, city},
		{town1, "东亭街道", 4, county}, {town2, "安镇街道", 4, county},
		{village1, "春江村", 5, town1}, {village2, "大厦村", 5, town2},
	} {
		kind := ""
		if u.level == 5 {
			kind = division.KindVillage
		}
		if _, err := d.Exec(ctx, `INSERT INTO divisions (code, name, level, parent, kind, urban_rural, retired_at, updated_at)
			VALUES (?, ?, ?, ?, ?, 0, 0, ?)`, u.code, u.name, u.level, u.parent, kind, db.Now()); err != nil {
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
	svc.SetClock(func() time.Time { return time.Date(2026, 9, 30, 10, 0, 0, 0, time.FixedZone("CST", 8*3600)) })
	e := &bodyEnv{env: &env{acc: acc, tokens: map[string]string{}}}
	admin := &access.Principal{Username: "admin", Assignments: []access.Assignment{{Role: "system_admin"}}}
	for i := 0; i < 12; i++ {
		g := "男"
		if i%2 == 1 {
			g = "女"
		}
		r, err := reg.Register(ctx, admin, registry.ResidentInput{Division: village1, Name: "村民" + string([]rune("甲乙丙丁戊己庚辛壬癸子丑")[i]), Gender: g,
			Birth: "1970-01-01", Residency: "registered", Since: "2015-01-01"})
		if err != nil {
			t.Fatal(err)
		}
		e.residents = append(e.residents, r.ID)
	}
	r, err := reg.Register(ctx, admin, registry.ResidentInput{Division: village2, Name: "外村人", Gender: "男", Birth: "1970-01-01",
		Residency: "registered"})
	if err != nil {
		t.Fatal(err)
	}
	e.other = r.ID
	for _, u := range []struct {
		name, role string
		div        int64
	}{
		{"town1", "township_staff", town1},
		{"town2", "township_staff", town2},
		{"county", "county_staff", county},
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

func warningCodes(r resp) []string {
	var out []string
	ws, _ := r.body["warnings"].([]any)
	for _, w := range ws {
		out = append(out, w.(map[string]any)["code"].(string))
	}
	return out
}

func TestBodiesAPI(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		e := setupBodies(t, d)
		r := e.do(t, "POST", "/api/v1/bodies", "village1", body(t, map[string]any{"unit": "320205001001", "kind": "committee",
			"name": "春江村村民委员会"}))
		wantStatus(t, r, http.StatusCreated)
		id := int64(r.body["id"].(float64))
		if r.body["term_start"] != "2026-09-30" || r.body["term_end"] != "2031-09-29" || r.body["kind_name"] == "" ||
			r.header.Get("Location") != fmt.Sprintf("/api/v1/bodies/%d", id) {
			t.Fatalf("created %s", r.raw)
		}
		if w := warningCodes(r); len(w) != 2 || w[0] != "size_small" || w[1] != "no_chair" {
			t.Fatalf("warnings %v", w)
		}
		wantErr(t, e.do(t, "POST", "/api/v1/bodies", "village1", body(t, map[string]any{"unit": "320205001001", "kind": "senate"})),
			http.StatusUnprocessableEntity, "kind_unknown", "kind")
		wantErr(t, e.do(t, "POST", "/api/v1/bodies", "county", body(t, map[string]any{"unit": "320205001001", "kind": "committee"})),
			http.StatusForbidden, "forbidden", "")
		// appointments
		for i, post := range []string{"director", "deputy_director", "member"} {
			r = e.do(t, "POST", fmt.Sprintf("/api/v1/bodies/%d/members", id), "village1",
				body(t, map[string]any{"resident_id": e.residents[i], "post": post}))
			wantStatus(t, r, http.StatusCreated)
		}
		if r.body["name"] != "村民丙" || r.body["post_name"] != "委员" || r.body["since"] != "2026-09-30" {
			t.Fatalf("member %s", r.raw)
		}
		wantErr(t, e.do(t, "POST", fmt.Sprintf("/api/v1/bodies/%d/members", id), "village1", body(t, map[string]any{"resident_id": e.residents[0]})),
			http.StatusUnprocessableEntity, "already_member", "resident_id")
		wantErr(t, e.do(t, "POST", fmt.Sprintf("/api/v1/bodies/%d/members", id), "village1", body(t, map[string]any{"resident_id": e.other})),
			http.StatusUnprocessableEntity, "resident_unknown", "resident_id")
		wantErr(t, e.do(t, "POST", fmt.Sprintf("/api/v1/bodies/%d/members", id), "village1",
			body(t, map[string]any{"resident_id": e.residents[5], "post": "secretary"})), http.StatusUnprocessableEntity, "post_unknown", "post")
		r = e.do(t, "GET", fmt.Sprintf("/api/v1/bodies/%d", id), "town1", "")
		wantStatus(t, r, http.StatusOK)
		if ms := r.body["members"].([]any); len(ms) != 3 || len(warningCodes(r)) != 0 {
			t.Fatalf("body %s", r.raw)
		}
		wantErr(t, e.do(t, "GET", fmt.Sprintf("/api/v1/bodies/%d", id), "town2", ""), http.StatusNotFound, "not_found", "")
		r = e.do(t, "GET", "/api/v1/bodies?unit=320205001001", "county", "")
		wantStatus(t, r, http.StatusOK)
		if len(items(r)) != 1 {
			t.Fatalf("list %s", r.raw)
		}
	})
}

func TestMeetingsAPI(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		e := setupBodies(t, d)
		r := e.do(t, "POST", "/api/v1/bodies", "village1", body(t, map[string]any{"unit": "320205001001", "kind": "representatives",
			"term_start": "2026-01-01"}))
		wantStatus(t, r, http.StatusCreated)
		bid := int64(r.body["id"].(float64))
		var members []int64
		for _, rid := range e.residents {
			r = e.do(t, "POST", fmt.Sprintf("/api/v1/bodies/%d/members", bid), "village1", body(t, map[string]any{"resident_id": rid, "since": "2026-01-01"}))
			wantStatus(t, r, http.StatusCreated)
			members = append(members, int64(r.body["id"].(float64)))
		}
		r = e.do(t, "POST", "/api/v1/meetings", "village1", body(t, map[string]any{"body_id": bid, "title": "第三季度居民代表会议",
			"day": "2026-09-30", "start": "19:30", "place": "村委会会议室"}))
		wantStatus(t, r, http.StatusCreated)
		mid := int64(r.body["id"].(float64))
		if r.body["public"] != true || r.body["state"] != "scheduled" {
			t.Fatalf("meeting %s", r.raw)
		}
		r = e.do(t, "POST", fmt.Sprintf("/api/v1/meetings/%d/agenda", mid), "village1", body(t, map[string]any{"title": "村道拓宽"}))
		wantStatus(t, r, http.StatusCreated)
		item := int64(r.body["id"].(float64))
		// 12 members, ≥ 2/3 attend: 8 is enough; no proxies here
		att := func(present int, proxy bool) string {
			var rows []map[string]any
			for i, m := range members {
				row := map[string]any{"member_id": m, "status": "absent"}
				if i < present {
					row["status"] = "present"
				}
				if proxy && i == present {
					row["status"], row["proxy_id"] = "proxy", members[0]
				}
				rows = append(rows, row)
			}
			return body(t, map[string]any{"attendance": rows})
		}
		wantErr(t, e.do(t, "PUT", fmt.Sprintf("/api/v1/meetings/%d/attendance", mid), "village1", att(8, true)),
			http.StatusUnprocessableEntity, "proxy_not_allowed", "attendance[8].status")
		r = e.do(t, "PUT", fmt.Sprintf("/api/v1/meetings/%d/attendance", mid), "village1", att(8, false))
		wantStatus(t, r, http.StatusOK)
		q := r.body["quorum"].(map[string]any)
		if r.body["state"] != "held" || r.body["present"] != float64(8) || r.body["members"] != float64(12) || q["met"] != true || q["need"] != float64(8) {
			t.Fatalf("held %s", r.raw)
		}
		vote := fmt.Sprintf("/api/v1/meetings/%d/agenda/%d/votes", mid, item)
		wantErr(t, e.do(t, "POST", vote, "village1", body(t, map[string]any{"counted": true, "for": 6, "against": 3})),
			http.StatusUnprocessableEntity, "votes_over_present", "votes")
		dup := []map[string]any{{"member_id": members[0], "choice": "for"}, {"member_id": members[1], "choice": "for"},
			{"member_id": members[0], "choice": "against"}}
		wantErr(t, e.do(t, "POST", vote, "village1", body(t, map[string]any{"votes": dup})),
			http.StatusUnprocessableEntity, "duplicate_vote", "votes[2].member_id")
		wantErr(t, e.do(t, "POST", vote, "village1", body(t, map[string]any{"votes": []map[string]any{{"member_id": members[11], "choice": "for"}}})),
			http.StatusUnprocessableEntity, "not_present", "votes[0].member_id")
		wantErr(t, e.do(t, "POST", vote, "town2", body(t, map[string]any{"counted": true, "for": 5})), http.StatusNotFound, "not_found", "")
		var roll []map[string]any
		for i, m := range members[:8] {
			c := "for"
			if i >= 5 {
				c = "against"
			}
			roll = append(roll, map[string]any{"member_id": m, "choice": c})
		}
		r = e.do(t, "POST", vote, "village1", body(t, map[string]any{"votes": roll, "resolution": "同意拓宽村道。"}))
		wantStatus(t, r, http.StatusCreated)
		o := r.body["outcome"].(map[string]any)
		if r.body["result"] != "passed" || r.body["for"] != float64(5) || r.body["against"] != float64(3) || o["need_for"] != float64(5) ||
			o["base"] != float64(8) || r.body["resolution"] != "同意拓宽村道。" || r.body["decided_day"] != "2026-09-30" {
			t.Fatalf("vote %s", r.raw)
		}
		wantErr(t, e.do(t, "POST", vote, "village1", body(t, map[string]any{"counted": true, "for": 8})),
			http.StatusUnprocessableEntity, "item_decided", "item")
		r = e.do(t, "GET", fmt.Sprintf("/api/v1/meetings/%d", mid), "county", "")
		wantStatus(t, r, http.StatusOK)
		if att := r.body["attendance"].([]any); len(att) != 12 {
			t.Fatalf("attendance %s", r.raw)
		}
		r = e.do(t, "GET", "/api/v1/meetings?unit=320205001&state=held", "town1", "")
		wantStatus(t, r, http.StatusOK)
		if len(items(r)) != 1 {
			t.Fatalf("list %s", r.raw)
		}
		r = e.do(t, "GET", "/api/v1/meetings", "town2", "")
		if len(items(r)) != 0 {
			t.Fatalf("town2 sees %s", r.raw)
		}
	})
}
