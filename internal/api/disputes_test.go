package api_test

import (
	"context"
	"net/http"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/shequ-platform/shequ/internal/api"
	"github.com/shequ-platform/shequ/internal/division"
	"github.com/shequ-platform/shequ/internal/grid/mediation"
	"github.com/shequ-platform/shequ/internal/platform/access"
	"github.com/shequ-platform/shequ/internal/platform/audit"
	"github.com/shequ-platform/shequ/internal/platform/db"
	"github.com/shequ-platform/shequ/internal/platform/db/dbtest"
	"github.com/shequ-platform/shequ/internal/platform/pii"
	"github.com/shequ-platform/shequ/internal/platform/policy"
	"github.com/shequ-platform/shequ/internal/registry"
	policypacks "github.com/shequ-platform/shequ/policy"
)

type disputeEnv struct {
	*env
	svc      *mediation.Service
	typ      string // a dispute type of village1's pack
	resident int64  // a resident of village1 with a phone
}

// setupDisputes is the API over mediation: the divisions of setup under
// 锡山区 (bound by the xishan-2008 pack and its dispute types), the
// accounts town1, town2, county, viewer1 and village1 (village_staff), and
// one resident of 春江村.
func setupDisputes(t *testing.T, d *db.DB) *disputeEnv {
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
	svc := mediation.NewService(d, log, acc, keys, divs.Store, packs, reg)
	svc.SetClock(func() time.Time { return time.Date(2026, 9, 30, 10, 0, 0, 0, time.FixedZone("CST", 8*3600)) })
	types := svc.Types(village1)
	if len(types) == 0 {
		t.Fatal("the xishan-2008 pack defines no dispute types")
	}
	e := &disputeEnv{env: &env{acc: acc, tokens: map[string]string{}}, svc: svc, typ: types[0].Key}
	admin := &access.Principal{Username: "admin", Assignments: []access.Assignment{{Role: "system_admin"}}}
	r, err := reg.Register(ctx, admin, registry.ResidentInput{Division: village1, Name: "张三", Gender: "男", Birth: "1980-01-31",
		Phone: "13812345678", Residency: "registered"})
	if err != nil {
		t.Fatal(err)
	}
	e.resident = r.ID
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
	mux.Handle(api.Prefix+"/", api.New(api.Deps{Access: acc, Divisions: divs, Audit: log, DB: d, Mediation: svc, Version: "test"}))
	e.h = (&access.HTTP{S: acc}).Authenticate(mux)
	return e
}

// newDispute is a valid registration at 春江村: the resident against an outsider.
func (e *disputeEnv) newDispute() map[string]any {
	return map[string]any{"unit": "320205001001", "type": e.typ, "summary": "两家因宅基地边界发生争执。", "mediators": []string{"赵调解", "钱调解"},
		"parties": []map[string]any{
			{"side": "applicant", "resident_id": e.resident},
			{"side": "respondent", "name": "孙六", "phone": "13911112222", "id_number": "320205199001011230"},
		}}
}

var disputeNumberRE = regexp.MustCompile(`^320205001001-TJ20260930-[0-9]{4}$`)

func TestDisputes(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		e := setupDisputes(t, d)
		nd := e.newDispute()
		nd["parties"].([]map[string]any)[1]["id_number"] = validIDNumber("32020519900101123")

		// registration
		r := e.do(t, "POST", "/api/v1/disputes", "village1", body(t, nd))
		wantStatus(t, r, http.StatusCreated)
		number, _ := r.body["number"].(string)
		if !disputeNumberRE.MatchString(number) || r.header.Get("Location") != "/api/v1/disputes/"+number {
			t.Fatalf("created %s %v", r.raw, r.header)
		}
		if r.body["state"] != "open" || r.body["unit"] != "320205001001000" || r.body["type"] != e.typ || r.body["type_name"] == "" ||
			r.body["opened_day"] != "2026-09-30" || r.body["created_by"] != "village1 名" {
			t.Fatalf("dispute %s", r.raw)
		}
		parties := r.body["parties"].([]any)
		zs, out := parties[0].(map[string]any), parties[1].(map[string]any)
		if zs["name"] != "张三" || zs["phone_masked"] != "138****5678" || zs["side"] != "applicant" || out["name"] != "孙六" ||
			out["phone_masked"] != "139****2222" || out["gender"] != "M" || !strings.HasPrefix(out["id_masked"].(string), "320205********") {
			t.Fatalf("parties %s", r.raw)
		}
		if strings.Contains(r.raw, "13911112222") || strings.Contains(r.raw, "13812345678") || strings.Contains(r.raw, "199001011") {
			t.Fatal("a number in clear")
		}

		// invalid input: 422 with the field, nothing stored
		before := count(t, d, `SELECT COUNT(*) FROM disputes`)
		bad := e.newDispute()
		bad["parties"] = bad["parties"].([]map[string]any)[:1]
		wantErr(t, e.do(t, "POST", "/api/v1/disputes", "village1", body(t, bad)), 422, "parties_min", "parties")
		bad = e.newDispute()
		bad["type"] = "no_such_type"
		wantErr(t, e.do(t, "POST", "/api/v1/disputes", "village1", body(t, bad)), 422, "type_unknown", "type")
		bad = e.newDispute() // the ID number's check digit is wrong
		wantErr(t, e.do(t, "POST", "/api/v1/disputes", "village1", body(t, bad)), 422, "id_checksum", "parties[1].id_number")
		bad = e.newDispute()
		bad["summary"] = ""
		r = e.do(t, "POST", "/api/v1/disputes", "village1", body(t, bad))
		wantErr(t, r, 422, "required", "summary")
		if !strings.Contains(r.body["message"].(string), "parties[1].id_number: id_checksum") {
			t.Errorf("not every problem listed: %s", r.raw)
		}
		bad = e.newDispute()
		bad["parties"].([]map[string]any)[0]["side"] = "judge"
		wantErr(t, e.do(t, "POST", "/api/v1/disputes", "village1", body(t, bad)), 422, "invalid", "parties[0].side")
		if n := count(t, d, `SELECT COUNT(*) FROM disputes`); n != before {
			t.Fatalf("invalid registrations stored %d disputes", n-before)
		}

		// permissions
		wantErr(t, e.do(t, "POST", "/api/v1/disputes", "viewer1", body(t, nd)), 403, "forbidden", "")
		wantErr(t, e.do(t, "POST", "/api/v1/disputes", "town2", body(t, nd)), 403, "forbidden", "")
		wantErr(t, e.do(t, "POST", "/api/v1/disputes", "", body(t, nd)), 401, "unauthorized", "")

		// reading
		r = e.do(t, "GET", "/api/v1/disputes/"+number, "viewer1", "")
		wantStatus(t, r, 200)
		if r.body["number"] != number {
			t.Fatalf("get %s", r.raw)
		}
		wantErr(t, e.do(t, "GET", "/api/v1/disputes/"+number, "town2", ""), 404, "not_found", "")
		wantErr(t, e.do(t, "GET", "/api/v1/disputes/320205001001-TJ20260101-9999", "town1", ""), 404, "not_found", "")
		wantErr(t, e.do(t, "GET", "/api/v1/disputes/320205001001-20260101-0001", "town1", ""), 422, "invalid", "number")

		// a second dispute, at the township
		nd2 := e.newDispute()
		nd2["unit"] = "320205001"
		nd2["parties"].([]map[string]any)[1] = map[string]any{"side": "respondent", "name": "吴八"}
		r = e.do(t, "POST", "/api/v1/disputes", "town1", body(t, nd2))
		wantStatus(t, r, http.StatusCreated)
		second := r.body["number"].(string)

		numbers := func(r resp) []string {
			var out []string
			for _, it := range items(r) {
				out = append(out, it["number"].(string))
			}
			return out
		}
		if got := numbers(e.do(t, "GET", "/api/v1/disputes", "town1", "")); len(got) != 2 || got[0] != second || got[1] != number {
			t.Fatalf("town1's list %v", got)
		}
		if got := numbers(e.do(t, "GET", "/api/v1/disputes", "village1", "")); len(got) != 1 || got[0] != number {
			t.Fatalf("village1's list %v", got)
		}
		if got := numbers(e.do(t, "GET", "/api/v1/disputes", "town2", "")); len(got) != 0 {
			t.Fatalf("town2's list %v", got)
		}
		if got := numbers(e.do(t, "GET", "/api/v1/disputes?q=吴八", "county", "")); len(got) != 1 || got[0] != second {
			t.Fatalf("q %v", got)
		}
		r = e.do(t, "GET", "/api/v1/disputes?limit=1", "county", "")
		if got := numbers(r); len(got) != 1 || r.body["more"] != true {
			t.Fatalf("limit %s", r.raw)
		}
		wantErr(t, e.do(t, "GET", "/api/v1/disputes?state=maybe", "county", ""), 422, "invalid", "state")

		// actions
		act := func(user, num string, a map[string]any) resp {
			return e.do(t, "POST", "/api/v1/disputes/"+num+"/actions", user, body(t, a))
		}
		r = act("village1", number, map[string]any{"kind": "session", "place": "村委会", "note": "双方陈述理由。", "day": "2026-09-30"})
		wantStatus(t, r, 200)
		if ss, _ := r.body["sessions"].([]any); len(ss) != 1 || ss[0].(map[string]any)["place"] != "村委会" {
			t.Fatalf("session %s", r.raw)
		}
		wantErr(t, act("village1", number, map[string]any{"kind": "session", "note": "x", "day": "2026-10-05"}), 422, "day_future", "day")
		wantErr(t, act("village1", number, map[string]any{"kind": "settle", "outcome": "成", "performance": "当场"}), 422, "required", "agreement")
		wantErr(t, act("village1", number, map[string]any{"kind": "visit", "note": "x", "holding": true}), 409, api.CodeTransition, "")
		wantErr(t, act("viewer1", number, map[string]any{"kind": "session", "note": "x"}), 403, "forbidden", "")
		wantErr(t, act("town2", number, map[string]any{"kind": "session", "note": "x"}), 404, "not_found", "")
		wantErr(t, act("village1", number, map[string]any{"kind": "reopen"}), 422, "invalid", "kind")
		r = act("town1", number, map[string]any{"kind": "settle", "outcome": "双方达成协议", "agreement": "一、孙六退让半米。", "performance": "十日内完成。"})
		wantStatus(t, r, 200)
		if r.body["state"] != "settled" || r.body["agreement"] != "一、孙六退让半米。" || r.body["closed_day"] != "2026-09-30" {
			t.Fatalf("settle %s", r.raw)
		}
		wantErr(t, act("village1", number, map[string]any{"kind": "visit", "note": "已履行"}), 422, "required", "holding")
		r = act("village1", number, map[string]any{"kind": "visit", "note": "已履行", "holding": true})
		wantStatus(t, r, 200)
		if vs, _ := r.body["visits"].([]any); len(vs) != 1 || vs[0].(map[string]any)["holding"] != true {
			t.Fatalf("visit %s", r.raw)
		}
		wantErr(t, act("village1", number, map[string]any{"kind": "fail", "note": "x"}), 409, api.CodeTransition, "")
		r = act("town1", second, map[string]any{"kind": "refer", "referred_to": "锡山区人民法院", "note": "需要诉讼。"})
		wantStatus(t, r, 200)
		if r.body["state"] != "referred" || r.body["referred_to"] != "锡山区人民法院" || r.body["outcome"] != "需要诉讼。" {
			t.Fatalf("refer %s", r.raw)
		}
		if got := numbers(e.do(t, "GET", "/api/v1/disputes?state=settled", "town1", "")); len(got) != 1 || got[0] != number {
			t.Fatalf("settled %v", got)
		}

		// the counts, through the facts
		if n := count(t, d, `SELECT COALESCE(SUM(value), 0) FROM facts WHERE metric = 'mediation.settled'`); n != 1 {
			t.Fatalf("settled facts %d", n)
		}

		// the document describes them
		r = e.do(t, "GET", "/api/v1/openapi.json", "", "")
		paths := r.body["paths"].(map[string]any)
		for _, p := range []string{"/disputes", "/disputes/{number}", "/disputes/{number}/actions"} {
			if paths[p] == nil {
				t.Errorf("path %s missing", p)
			}
		}
	})
}

// validIDNumber completes a 17-digit body with its GB 11643 check digit.
func validIDNumber(body string) string {
	weights := []int{7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2}
	sum := 0
	for i := 0; i < 17; i++ {
		sum += int(body[i]-'0') * weights[i]
	}
	return body + string("10X98765432"[sum%11])
}
