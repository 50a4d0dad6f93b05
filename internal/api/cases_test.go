package api_test

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/shequ-platform/shequ/internal/api"
	"github.com/shequ-platform/shequ/internal/division"
	"github.com/shequ-platform/shequ/internal/platform/access"
	"github.com/shequ-platform/shequ/internal/platform/audit"
	"github.com/shequ-platform/shequ/internal/platform/db"
	"github.com/shequ-platform/shequ/internal/platform/db/dbtest"
	"github.com/shequ-platform/shequ/internal/platform/pii"
	"github.com/shequ-platform/shequ/internal/platform/policy"
	"github.com/shequ-platform/shequ/internal/registry"
	"github.com/shequ-platform/shequ/internal/window"
	policypacks "github.com/shequ-platform/shequ/policy"
)

// weekdays is a working-day calendar without holidays.
type weekdays struct{}

func wd(d int) time.Time {
	return time.Date(d/10000, time.Month(d/100%100), d%100, 0, 0, 0, 0, time.UTC)
}

func workday(t time.Time) bool { return t.Weekday() != time.Saturday && t.Weekday() != time.Sunday }

func (weekdays) AddWorkingDays(d, n int) int {
	t := wd(d)
	for n > 0 {
		if t = t.AddDate(0, 0, 1); workday(t) {
			n--
		}
	}
	return t.Year()*10000 + int(t.Month())*100 + t.Day()
}

func (weekdays) WorkingDaysBetween(from, to int) int {
	n := 0
	for t := wd(from).AddDate(0, 0, 1); !t.After(wd(to)); t = t.AddDate(0, 0, 1) {
		if workday(t) {
			n++
		}
	}
	return n
}

type caseEnv struct {
	*env
	svc  *window.Service
	item policy.WindowItem // a village-level item of village1's catalogue with no resident field
}

// setupCases is the API over the service window: the divisions of setup
// under 锡山区 (bound by the xishan-2008 pack and its catalogue), and the
// accounts town1, town2, county, viewer1 and village1 (village_staff).
func setupCases(t testing.TB, d *db.DB) *caseEnv {
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
	svc := window.NewService(d, log, acc, keys, divs.Store, packs, reg,
		func(context.Context) (window.Calendar, error) { return weekdays{}, nil }, t.TempDir())
	e := &caseEnv{env: &env{acc: acc, tokens: map[string]string{}}, svc: svc}
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
	mux.Handle(api.Prefix+"/", api.New(api.Deps{Access: acc, Divisions: divs, Audit: log, DB: d, Window: svc, Version: "test"}))
	e.h = (&access.HTTP{S: acc}).Authenticate(mux)

	cat, err := svc.Catalogue(ctx, village1)
	if err != nil {
		t.Fatal(err)
	}
	best := -1
	for i, it := range cat.Enabled() {
		if hasFieldType(it.WindowItem, policy.FieldResident) || it.TimeLimit < 2 || it.Level != policy.LevelVillage {
			continue
		}
		if best < 0 {
			best = i
		}
		if hasFieldType(it.WindowItem, policy.FieldNumber) {
			best = i
			break
		}
	}
	if best < 0 {
		t.Skip("the xishan-2008 catalogue has no village item without a resident field")
	}
	e.item = cat.Enabled()[best].WindowItem
	return e
}

func hasFieldType(it policy.WindowItem, typ string) bool {
	for _, f := range it.Fields {
		if f.Type == typ {
			return true
		}
	}
	return false
}

// newCase is a complete, valid intake of e.item at village1 with decision.
func (e *caseEnv) newCase(decision string) map[string]any {
	fields := map[string]string{}
	for _, f := range e.item.Fields {
		switch f.Type {
		case policy.FieldText:
			fields[f.Key] = "测试"
		case policy.FieldNumber:
			fields[f.Key] = "1"
			if f.Min != 0 || f.Max != 0 {
				fields[f.Key] = jsonNum(f.Min)
			}
		case policy.FieldDate:
			fields[f.Key] = "2026-03-02"
		case policy.FieldChoice:
			fields[f.Key] = f.Choices[0].Key
		}
	}
	materials := []string{}
	for _, m := range e.item.Materials {
		materials = append(materials, m.Key)
	}
	return map[string]any{"unit": "320205001001", "item_code": e.item.Code, "name": "王芳", "phone": "13912345678",
		"fields": fields, "materials": materials, "decision": decision}
}

func body(t testing.TB, v any) string {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

var caseNumberRE = regexp.MustCompile(`^320205001001-[0-9]{8}-[0-9]{4}$`)

func TestCases(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		e := setupCases(t, d)

		// intake
		r := e.do(t, "POST", "/api/v1/cases", "village1", body(t, e.newCase("accept")))
		wantStatus(t, r, http.StatusCreated)
		number, _ := r.body["number"].(string)
		if !caseNumberRE.MatchString(number) || r.header.Get("Location") != "/api/v1/cases/"+number {
			t.Fatalf("created %s %v", r.raw, r.header)
		}
		if r.body["state"] != "accepted" || r.body["unit"] != "320205001001000" || r.body["channel"] != "window" ||
			r.body["applicant"] != "王芳" || r.body["phone_masked"] != "139****5678" || r.body["deadline"] == nil ||
			r.body["item_code"] != e.item.Code || r.body["overdue"] != false {
			t.Fatalf("case %s", r.raw)
		}
		if strings.Contains(r.raw, "13912345678") {
			t.Fatal("the phone in clear")
		}

		// invalid input: 422 with the field, nothing stored
		before := count(t, d, `SELECT COUNT(*) FROM cases`)
		bad := e.newCase("accept")
		delete(bad, "name")
		wantErr(t, e.do(t, "POST", "/api/v1/cases", "village1", body(t, bad)), 422, "required", "name")
		bad = e.newCase("accept")
		bad["item_code"] = "NO-SUCH-ITEM"
		wantErr(t, e.do(t, "POST", "/api/v1/cases", "village1", body(t, bad)), 422, "item_unknown", "item_code")
		bad = e.newCase("accept")
		bad["fields"] = map[string]string{"no_such_field": "x"}
		r = e.do(t, "POST", "/api/v1/cases", "village1", body(t, bad))
		wantStatus(t, r, 422)
		if !strings.Contains(r.raw, "fields.no_such_field") {
			t.Errorf("unknown field not named: %s", r.raw)
		}
		for _, f := range e.item.Fields {
			if f.Type == policy.FieldNumber {
				bad = e.newCase("accept")
				bad["fields"].(map[string]string)[f.Key] = "many"
				wantErr(t, e.do(t, "POST", "/api/v1/cases", "village1", body(t, bad)), 422, "number", "fields."+f.Key)
				break
			}
		}
		wantErr(t, e.do(t, "POST", "/api/v1/cases", "village1", body(t, e.newCase("reject"))), 422, "reason_required", "note")
		wantErr(t, e.do(t, "POST", "/api/v1/cases", "village1", strings.Replace(body(t, e.newCase("accept")), `"accept"`, `"maybe"`, 1)), 422, "invalid", "decision")
		if n := count(t, d, `SELECT COUNT(*) FROM cases`); n != before {
			t.Fatalf("invalid intakes stored %d cases", n-before)
		}

		// permissions
		wantErr(t, e.do(t, "POST", "/api/v1/cases", "viewer1", body(t, e.newCase("accept"))), 403, "forbidden", "")
		wantErr(t, e.do(t, "POST", "/api/v1/cases", "town2", body(t, e.newCase("accept"))), 403, "forbidden", "")
		wantErr(t, e.do(t, "POST", "/api/v1/cases", "", body(t, e.newCase("accept"))), 401, "unauthorized", "")

		// reading
		r = e.do(t, "GET", "/api/v1/cases/"+number, "town1", "")
		wantStatus(t, r, 200)
		if r.body["number"] != number {
			t.Fatalf("get %s", r.raw)
		}
		wantStatus(t, e.do(t, "GET", "/api/v1/cases/"+number, "viewer1", ""), 200)
		wantErr(t, e.do(t, "GET", "/api/v1/cases/"+number, "town2", ""), 404, "not_found", "")
		wantErr(t, e.do(t, "GET", "/api/v1/cases/320205001001-20260101-9999", "town1", ""), 404, "not_found", "")
		wantErr(t, e.do(t, "GET", "/api/v1/cases/not-a-number", "town1", ""), 422, "invalid", "number")

		// a second case, submitted only
		r = e.do(t, "POST", "/api/v1/cases", "town1", body(t, e.newCase("submit")))
		wantStatus(t, r, http.StatusCreated)
		second := r.body["number"].(string)
		if r.body["state"] != "submitted" || r.body["deadline"] != nil {
			t.Fatalf("submitted %s", r.raw)
		}

		// lists
		numbers := func(r resp) []string {
			var out []string
			for _, it := range items(r) {
				out = append(out, it["number"].(string))
			}
			return out
		}
		r = e.do(t, "GET", "/api/v1/cases", "town1", "")
		wantStatus(t, r, 200)
		if got := numbers(r); len(got) != 2 || got[0] != second || got[1] != number || r.body["more"] != false {
			t.Fatalf("open %v %s", got, r.raw)
		}
		r = e.do(t, "GET", "/api/v1/cases?limit=1", "town1", "")
		if got := numbers(r); len(got) != 1 || r.body["more"] != true {
			t.Fatalf("limit 1: %v", r.raw)
		}
		r = e.do(t, "GET", "/api/v1/cases?limit=1&offset=1", "town1", "")
		if got := numbers(r); len(got) != 1 || got[0] != number || r.body["more"] != false {
			t.Fatalf("offset 1: %v", r.raw)
		}
		if got := numbers(e.do(t, "GET", "/api/v1/cases", "town2", "")); len(got) != 0 {
			t.Fatalf("town2 sees %v", got)
		}
		if got := numbers(e.do(t, "GET", "/api/v1/cases?unit=320205002", "county", "")); len(got) != 0 {
			t.Fatalf("county in 安镇: %v", got)
		}
		if got := numbers(e.do(t, "GET", "/api/v1/cases?unit=320205001001&view=all", "county", "")); len(got) != 2 {
			t.Fatalf("county in 春江村: %v", got)
		}
		for _, v := range []string{"overdue", "due_soon", "closed"} {
			wantStatus(t, e.do(t, "GET", "/api/v1/cases?view="+v, "town1", ""), 200)
		}
		wantErr(t, e.do(t, "GET", "/api/v1/cases?view=later", "town1", ""), 422, "invalid", "view")

		// actions
		act := func(user, num string, a map[string]any) resp {
			return e.do(t, "POST", "/api/v1/cases/"+num+"/actions", user, body(t, a))
		}
		r = act("village1", number, map[string]any{"kind": "assign"})
		wantStatus(t, r, 200)
		if r.body["state"] != "handling" || r.body["handler_name"] != "village1 名" {
			t.Fatalf("assign %s", r.raw)
		}
		wantErr(t, act("village1", number, map[string]any{"kind": "accept"}), 409, api.CodeTransition, "")
		wantErr(t, act("viewer1", number, map[string]any{"kind": "note", "note": "看过"}), 403, "forbidden", "")
		wantErr(t, act("town2", number, map[string]any{"kind": "note", "note": "看过"}), 404, "not_found", "")
		wantErr(t, act("village1", number, map[string]any{"kind": "complete", "outcome": "denied"}), 422, "reason_required", "note")
		wantErr(t, act("village1", number, map[string]any{"kind": "rate"}), 422, "invalid", "kind")
		r = act("village1", number, map[string]any{"kind": "complete", "outcome": "approved", "note": "已办结"})
		wantStatus(t, r, 200)
		if r.body["state"] != "completed" || r.body["outcome"] != "approved" || r.body["on_time"] != true || r.body["closed_at"] == nil ||
			r.body["reason"] != "已办结" {
			t.Fatalf("complete %s", r.raw)
		}
		wantErr(t, act("village1", number, map[string]any{"kind": "complete", "outcome": "approved"}), 409, api.CodeTransition, "")
		if got := numbers(e.do(t, "GET", "/api/v1/cases?view=closed", "town1", "")); len(got) != 1 || got[0] != number {
			t.Fatalf("closed %v", got)
		}
		// the submitted case: rejected with a reason
		r = act("town1", second, map[string]any{"kind": "reject", "note": "不属于本社区"})
		wantStatus(t, r, 200)
		if r.body["state"] != "rejected" || r.body["on_time"] != nil {
			t.Fatalf("reject %s", r.raw)
		}
		wantErr(t, act("town1", "320205001001-20260101-9999", map[string]any{"kind": "note", "note": "x"}), 404, "not_found", "")

		// the document describes them
		r = e.do(t, "GET", "/api/v1/openapi.json", "", "")
		paths := r.body["paths"].(map[string]any)
		for _, p := range []string{"/cases", "/cases/{number}", "/cases/{number}/actions"} {
			if paths[p] == nil {
				t.Errorf("path %s missing", p)
			}
		}
	})
}

func count(t *testing.T, d *db.DB, q string) int {
	t.Helper()
	var n int
	if err := d.QueryRow(context.Background(), q).Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n
}

// BenchmarkCreateCase is POST /api/v1/cases in process (huma, JSON, the
// token's principal, Service.Intake with its transaction) from parallel
// clients over two villages; run it with -cpuprofile to see where an intake
// spends its time (scripts/bench-window-intake.sh measures the running
// binary).
func BenchmarkCreateCase(b *testing.B) {
	for _, name := range []string{"sqlite", "postgres"} {
		b.Run(name, func(b *testing.B) {
			var d *db.DB
			if name == "sqlite" {
				d = dbtest.SQLite(b)
			} else {
				d = dbtest.Postgres(b)
			}
			e := setupCases(b, d)
			var bodies []string
			for _, unit := range []string{"320205001001", "320205002001"} {
				c := e.newCase("accept")
				c["unit"] = unit
				bodies = append(bodies, body(b, c))
			}
			auth := "Bearer " + e.tokens["county"]
			b.SetParallelism(4)
			b.ResetTimer()
			b.RunParallel(func(pb *testing.PB) {
				i := 0
				for pb.Next() {
					r := httptest.NewRequest("POST", "/api/v1/cases", strings.NewReader(bodies[i%len(bodies)]))
					r.Header.Set("Content-Type", "application/json")
					r.Header.Set("Authorization", auth)
					w := httptest.NewRecorder()
					e.h.ServeHTTP(w, r)
					if w.Code != http.StatusCreated {
						b.Errorf("status %d: %s", w.Code, w.Body)
						return
					}
					i++
				}
			})
			b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "cases/s")
		})
	}
}
