package api_test

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/shequ-platform/shequ/internal/api"
	"github.com/shequ-platform/shequ/internal/division"
	"github.com/shequ-platform/shequ/internal/platform/access"
	"github.com/shequ-platform/shequ/internal/platform/audit"
	"github.com/shequ-platform/shequ/internal/platform/db"
	"github.com/shequ-platform/shequ/internal/platform/db/dbtest"
	"github.com/shequ-platform/shequ/internal/platform/facts"
)

const (
	province = int64(320000000000000)
	city     = int64(320200000000000)
	county   = int64(320205000000000)
	town1    = int64(320205001000000)
	town2    = int64(320205002000000)
	village1 = int64(320205001001000)
	village2 = int64(320205002001000)
)

type env struct {
	h      http.Handler
	acc    *access.Service
	tokens map[string]string // username → API token
}

func setup(t *testing.T, d *db.DB) *env {
	t.Helper()
	ctx := context.Background()
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
		metric := map[int]string{4: division.MetricTownships, 5: division.MetricVillages}[u.level]
		if metric != "" {
			if err := facts.Add(ctx, d, u.code, facts.Timeless, metric, 1); err != nil {
				t.Fatal(err)
			}
		}
	}
	e := &env{acc: acc, tokens: map[string]string{}}
	for _, u := range []struct {
		name, role string
		div        int64
	}{
		{"town1", "township_staff", town1},
		{"town2", "township_staff", town2},
		{"county", "county_staff", county},
		{"viewer1", "viewer", town1},
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
	mux.Handle(api.Prefix+"/", api.New(api.Deps{Access: acc, Divisions: divs, Audit: log, DB: d, Version: "test"}))
	e.h = (&access.HTTP{S: acc}).Authenticate(mux)
	return e
}

type resp struct {
	status int
	header http.Header
	raw    string
	body   map[string]any
}

func (e *env) do(t *testing.T, method, path, user, body string, hdr ...string) resp {
	t.Helper()
	var rd *strings.Reader
	if body != "" {
		rd = strings.NewReader(body)
	} else {
		rd = strings.NewReader("")
	}
	r := httptest.NewRequest(method, path, rd)
	if body != "" {
		r.Header.Set("Content-Type", "application/json")
	}
	if user != "" {
		tok, ok := e.tokens[user]
		if !ok {
			tok = user // a literal (bad) token
		}
		r.Header.Set("Authorization", "Bearer "+tok)
	}
	for i := 0; i+1 < len(hdr); i += 2 {
		r.Header.Set(hdr[i], hdr[i+1])
	}
	w := httptest.NewRecorder()
	e.h.ServeHTTP(w, r)
	out := resp{status: w.Code, header: w.Header(), raw: w.Body.String()}
	_ = json.Unmarshal(w.Body.Bytes(), &out.body)
	return out
}

// wantErr checks an error response: status, code, and field ("" = absent).
func wantErr(t *testing.T, r resp, status int, code, field string) {
	t.Helper()
	if r.status != status {
		t.Fatalf("status %d, want %d: %s", r.status, status, r.raw)
	}
	if ct := r.header.Get("Content-Type"); !strings.HasPrefix(ct, "application/json") {
		t.Errorf("content type %q", ct)
	}
	if r.body["code"] != code {
		t.Fatalf("code %v, want %s: %s", r.body["code"], code, r.raw)
	}
	if m, _ := r.body["message"].(string); m == "" {
		t.Errorf("no message: %s", r.raw)
	}
	f, has := r.body["field"]
	if field == "" && has {
		t.Errorf("unexpected field %v: %s", f, r.raw)
	}
	if field != "" && f != field {
		t.Errorf("field %v, want %s: %s", f, field, r.raw)
	}
	for k := range r.body {
		if k != "code" && k != "message" && k != "field" {
			t.Errorf("unexpected key %q: %s", k, r.raw)
		}
	}
}

func wantStatus(t *testing.T, r resp, status int) {
	t.Helper()
	if r.status != status {
		t.Fatalf("status %d, want %d: %s", r.status, status, r.raw)
	}
}

func items(r resp) []map[string]any {
	var out []map[string]any
	list, _ := r.body["items"].([]any)
	for _, it := range list {
		out = append(out, it.(map[string]any))
	}
	return out
}

func TestOpenAPI(t *testing.T) {
	e := setup(t, dbtest.SQLite(t))
	r := e.do(t, "GET", "/api/v1/openapi.json", "", "")
	wantStatus(t, r, 200)
	if v, _ := r.body["openapi"].(string); !strings.HasPrefix(v, "3.1") {
		t.Fatalf("openapi %q", v)
	}
	info := r.body["info"].(map[string]any)
	if info["title"] != "Shequ API" || info["version"] != "test" {
		t.Errorf("info %v", info)
	}
	paths := r.body["paths"].(map[string]any)
	for _, p := range []string{"/me", "/divisions", "/divisions/{code}", "/divisions/{code}/children", "/divisions/{code}/subs",
		"/users", "/audit", "/facts/{metric}"} {
		if paths[p] == nil {
			t.Errorf("path %s missing", p)
		}
	}
	if srv := r.body["servers"].([]any)[0].(map[string]any); srv["url"] != "/api/v1" {
		t.Errorf("servers %v", srv)
	}
	comp := r.body["components"].(map[string]any)
	sch := comp["securitySchemes"].(map[string]any)["bearer"].(map[string]any)
	if sch["type"] != "http" || sch["scheme"] != "bearer" {
		t.Errorf("security scheme %v", sch)
	}
	me := paths["/me"].(map[string]any)["get"].(map[string]any)
	if sec, _ := json.Marshal(me["security"]); string(sec) != `[{"bearer":[]}]` {
		t.Errorf("security %s", sec)
	}
	if comp["schemas"].(map[string]any)["Error"] == nil {
		t.Error("no Error schema")
	}
	// Nothing for a browser to fetch from outside (offline intranets), no
	// $schema links.
	if strings.Contains(r.raw, "unpkg.com") || strings.Contains(r.raw, "$schema") {
		t.Error("external links in the document")
	}
	wantStatus(t, e.do(t, "GET", "/api/v1/openapi.yaml", "", ""), 200)
	wantStatus(t, e.do(t, "GET", "/api/v1/docs", "", ""), 404)
	wantErr(t, e.do(t, "POST", "/api/v1/openapi.json", "", ""), 405, "method_not_allowed", "")
}

func TestAPI(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		e := setup(t, d)

		t.Run("auth", func(t *testing.T) {
			wantErr(t, e.do(t, "GET", "/api/v1/me", "", ""), 401, "unauthorized", "")
			r := e.do(t, "GET", "/api/v1/me", "shq_not-a-token", "")
			wantErr(t, r, 401, "unauthorized", "")
			if !strings.HasPrefix(r.header.Get("WWW-Authenticate"), "Bearer") {
				t.Error("no WWW-Authenticate")
			}
			wantErr(t, e.do(t, "GET", "/api/v1/me", "garbage", ""), 401, "unauthorized", "")
			// 401 comes before validation
			wantErr(t, e.do(t, "GET", "/api/v1/divisions/xyz", "", ""), 401, "unauthorized", "")
			// a session cookie is not an API credential
			cookie, _, err := e.acc.Login(context.Background(), "town1", "lan-tian-bai-yun", "127.0.0.1")
			if err != nil {
				t.Fatal(err)
			}
			wantErr(t, e.do(t, "GET", "/api/v1/me", "", "", "Cookie", access.CookieName+"="+cookie), 401, "unauthorized", "")
			// unknown paths and methods
			wantErr(t, e.do(t, "GET", "/api/v1/nothing", "town1", ""), 404, "not_found", "")
			r = e.do(t, "DELETE", "/api/v1/me", "town1", "")
			wantErr(t, r, 405, "method_not_allowed", "")
			if r.header.Get("Allow") != "GET" {
				t.Errorf("Allow %q", r.header.Values("Allow"))
			}
		})

		t.Run("me", func(t *testing.T) {
			r := e.do(t, "GET", "/api/v1/me", "town1", "")
			wantStatus(t, r, 200)
			if r.body["username"] != "town1" || r.body["display_name"] != "town1 名" {
				t.Fatal(r.raw)
			}
			as := r.body["assignments"].([]any)
			a := as[0].(map[string]any)
			if len(as) != 1 || a["role"] != "township_staff" || a["division"] != "320205001000000" || a["division_name"] != "东亭街道" {
				t.Fatal(r.raw)
			}
			perms, _ := json.Marshal(a["permissions"])
			if !strings.Contains(string(perms), `"division.manage"`) || strings.Contains(string(perms), "division.import") {
				t.Errorf("permissions %s", perms)
			}
			if r.header.Get("Cache-Control") != "no-store" {
				t.Error("cacheable")
			}
		})

		t.Run("divisions", func(t *testing.T) {
			r := e.do(t, "GET", "/api/v1/divisions/320205001", "town1", "")
			wantStatus(t, r, 200)
			if r.body["code"] != "320205001000000" || r.body["name"] != "东亭街道" || r.body["level"] != 4.0 || r.body["parent"] != "320205000000000" {
				t.Fatal(r.raw)
			}
			if c := r.body["counts"].(map[string]any); c["villages"] != 1.0 || c["townships"] != 1.0 {
				t.Fatal(r.raw)
			}
			sibling := e.do(t, "GET", "/api/v1/divisions/320205002000000", "town1", "")
			wantErr(t, sibling, 404, "not_found", "")
			missing := e.do(t, "GET", "/api/v1/divisions/320205009000000", "town1", "")
			wantErr(t, missing, 404, "not_found", "")
			if sibling.raw != missing.raw {
				t.Errorf("out of scope %s differs from missing %s", sibling.raw, missing.raw)
			}
			wantErr(t, e.do(t, "GET", "/api/v1/divisions/320205/children", "town1", ""), 404, "not_found", "")
			wantErr(t, e.do(t, "GET", "/api/v1/divisions/0", "town1", ""), 404, "not_found", "")
			wantErr(t, e.do(t, "GET", "/api/v1/divisions/12ab", "town1", ""), 422, "invalid", "code")

			r = e.do(t, "GET", "/api/v1/divisions/320205001000000/children", "town1", "")
			wantStatus(t, r, 200)
			if it := items(r); len(it) != 1 || it[0]["code"] != "320205001001000" || it[0]["kind"] != "village" || it[0]["counts"] == nil {
				t.Fatal(r.raw)
			}
			// the county sees both townships, each with its own counts
			r = e.do(t, "GET", "/api/v1/divisions/320205/children", "county", "")
			wantStatus(t, r, 200)
			if it := items(r); len(it) != 2 || it[1]["code"] != "320205002000000" || it[1]["counts"].(map[string]any)["villages"] != 1.0 {
				t.Fatal(r.raw)
			}

			r = e.do(t, "GET", "/api/v1/divisions?q=%E6%9D%91", "town1", "") // 村
			wantStatus(t, r, 200)
			if it := items(r); len(it) != 1 || it[0]["name"] != "春江村" {
				t.Fatal(r.raw)
			}
			wantErr(t, e.do(t, "GET", "/api/v1/divisions", "town1", ""), 422, "invalid", "q")
			wantErr(t, e.do(t, "GET", "/api/v1/divisions?q=x&limit=9999", "town1", ""), 422, "invalid", "limit")
		})

		t.Run("subs", func(t *testing.T) {
			path := "/api/v1/divisions/320205001001000/subs"
			r := e.do(t, "POST", path, "town1", `{"kind":"grid","name":"第一网格"}`)
			wantStatus(t, r, 201)
			if r.body["code"] != "320205001001001" || r.body["kind"] != "grid" || r.body["level"] != 6.0 || r.body["parent"] != "320205001001000" {
				t.Fatal(r.raw)
			}
			if r.header.Get("Location") != "/api/v1/divisions/320205001001001" {
				t.Errorf("Location %q", r.header.Get("Location"))
			}
			wantErr(t, e.do(t, "POST", path, "town1", `{"kind":"grid","name":"第一网格"}`), 422, "name_taken", "name")
			wantErr(t, e.do(t, "POST", path, "town1", `{"kind":"grid","name":"  "}`), 422, "name_required", "name")
			wantErr(t, e.do(t, "POST", path, "town1", `{"kind":"park","name":"公园"}`), 422, "invalid", "kind")
			// out of scope, exactly like a village that does not exist
			out := e.do(t, "POST", "/api/v1/divisions/320205002001000/subs", "town1", `{"kind":"grid","name":"第一网格"}`)
			wantErr(t, out, 404, "not_found", "")
			// visible but not manageable
			wantErr(t, e.do(t, "POST", path, "viewer1", `{"kind":"grid","name":"第二网格"}`), 403, "forbidden", "")
			// the village's grid count follows
			r = e.do(t, "GET", "/api/v1/facts/division.grids?division=320205001", "town1", "")
			wantStatus(t, r, 200)
			if r.body["total"] != 1.0 {
				t.Fatal(r.raw)
			}

			// PATCH: rename and retire in one request, then restore
			grid := "/api/v1/divisions/320205001001001"
			r = e.do(t, "PATCH", grid, "town1", `{"name":"东片网格","retired":true}`)
			wantStatus(t, r, 200)
			if r.body["name"] != "东片网格" || r.body["retired"] != true {
				t.Fatal(r.raw)
			}
			r = e.do(t, "PATCH", grid, "town1", `{"retired":true}`) // no-op
			wantStatus(t, r, 200)
			r = e.do(t, "PATCH", grid, "town1", `{"retired":false,"name":"东网格"}`)
			wantStatus(t, r, 200)
			if r.body["name"] != "东网格" || r.body["retired"] != false {
				t.Fatal(r.raw)
			}
			wantErr(t, e.do(t, "PATCH", grid, "viewer1", `{"name":"x"}`), 403, "forbidden", "")
			wantErr(t, e.do(t, "PATCH", grid, "town2", `{"name":"x"}`), 404, "not_found", "")
			wantErr(t, e.do(t, "PATCH", "/api/v1/divisions/320205001001000", "town1", `{"retired":true}`), 422, "not_retirable", "code")
		})

		t.Run("bodies", func(t *testing.T) {
			path := "/api/v1/divisions/320205001001000/subs"
			wantErr(t, e.do(t, "POST", path, "town1", `{"kind":"grid",`), 400, "bad_request", "")
			wantErr(t, e.do(t, "POST", path, "town1", `{"kind":"grid","name":"丙","colour":"red"}`), 422, "invalid", "colour")
			wantErr(t, e.do(t, "POST", path, "town1", `{"kind":"grid","name":7}`), 422, "invalid", "name")
			wantErr(t, e.do(t, "POST", path, "town1", ""), 400, "bad_request", "")
			big := `{"kind":"grid","name":"` + strings.Repeat("x", 70<<10) + `"}`
			wantErr(t, e.do(t, "POST", path, "town1", big), 413, "too_large", "")
		})

		t.Run("users", func(t *testing.T) {
			body := `{"username":"chunjiang","display_name":"王芳","password":"qing-shan-lv-shui","role":"village_staff","division":"320205001001000"}`
			r := e.do(t, "POST", "/api/v1/users", "town1", body)
			wantStatus(t, r, 201)
			if r.body["username"] != "chunjiang" || r.body["must_change"] != true {
				t.Fatal(r.raw)
			}
			if a := r.body["assignments"].([]any)[0].(map[string]any); a["role"] != "village_staff" || a["division_name"] != "春江村" {
				t.Fatal(r.raw)
			}
			wantErr(t, e.do(t, "POST", "/api/v1/users", "town1", body), 422, "username_taken", "username")
			// more than the township holds
			wantErr(t, e.do(t, "POST", "/api/v1/users", "town1",
				`{"username":"boss","password":"qing-shan-lv-shui","role":"county_staff","division":"320205"}`), 422, "role_not_grantable", "role")
			// outside its scope: the same answer, whether the unit exists or not
			wantErr(t, e.do(t, "POST", "/api/v1/users", "town1",
				`{"username":"dasha","password":"qing-shan-lv-shui","role":"village_staff","division":"320205002001000"}`), 422, "role_not_grantable", "role")
			wantErr(t, e.do(t, "POST", "/api/v1/users", "town1",
				`{"username":"ghost","password":"qing-shan-lv-shui","role":"village_staff","division":"320205001099000"}`), 422, "division_unknown", "division")
			wantErr(t, e.do(t, "POST", "/api/v1/users", "town1",
				`{"username":"weak","password":"short","role":"village_staff","division":"320205001001000"}`), 422, "password_too_short", "password")
			wantErr(t, e.do(t, "POST", "/api/v1/users", "viewer1", body), 403, "forbidden", "")

			r = e.do(t, "GET", "/api/v1/users", "town1", "")
			wantStatus(t, r, 200)
			var got []string
			for _, u := range items(r) {
				got = append(got, u["username"].(string))
			}
			if strings.Join(got, ",") != "chunjiang,town1,viewer1" {
				t.Errorf("users %v", got)
			}
			wantErr(t, e.do(t, "GET", "/api/v1/users", "viewer1", ""), 403, "forbidden", "")

			// the new account must change its password before using the API
			var id int64
			if err := d.QueryRow(context.Background(), "SELECT id FROM users WHERE username = 'chunjiang'").Scan(&id); err != nil {
				t.Fatal(err)
			}
			tok, _, err := e.acc.CreateToken(context.Background(), id, "t")
			if err != nil {
				t.Fatal(err)
			}
			wantErr(t, e.do(t, "GET", "/api/v1/me", tok, ""), 401, "unauthorized", "")
		})

		t.Run("audit", func(t *testing.T) {
			r := e.do(t, "GET", "/api/v1/audit?entity=user&action=create&actor=town1", "town1", "")
			wantStatus(t, r, 200)
			it := items(r)
			if len(it) != 1 || it[0]["actor"] != "town1" || it[0]["division"] != "320205001001000" {
				t.Fatal(r.raw)
			}
			if at := it[0]["at"].(string); !strings.HasSuffix(at, "+08:00") {
				t.Errorf("at %q", at)
			}
			if !strings.Contains(r.raw, `"changes":[{"field":"username","after":"chunjiang"},`) {
				t.Errorf("changes: %s", r.raw)
			}
			// the other township sees nothing of it, nor of town1's grid
			r = e.do(t, "GET", "/api/v1/audit", "town2", "")
			wantStatus(t, r, 200)
			for _, x := range items(r) {
				if x["division"] == "0" || strings.HasPrefix(x["division"].(string), "320205001") {
					t.Errorf("town2 sees %v", x)
				}
			}
			wantErr(t, e.do(t, "GET", "/api/v1/audit?division=320205001", "town2", ""), 404, "not_found", "")
			// the county sees both, newest first, and pages
			r = e.do(t, "GET", "/api/v1/audit?limit=2", "county", "")
			wantStatus(t, r, 200)
			it = items(r)
			next, _ := r.body["next_before_id"].(float64)
			if len(it) != 2 || it[0]["id"].(float64) <= it[1]["id"].(float64) || next != it[1]["id"].(float64) {
				t.Fatal(r.raw)
			}
			r = e.do(t, "GET", "/api/v1/audit?limit=500&before_id="+jsonNum(next), "county", "")
			wantStatus(t, r, 200)
			if _, more := r.body["next_before_id"]; more || len(items(r)) == 0 || items(r)[0]["id"].(float64) >= next {
				t.Fatal(r.raw)
			}
			wantErr(t, e.do(t, "GET", "/api/v1/audit?from=yesterday", "county", ""), 422, "invalid", "from")
			wantErr(t, e.do(t, "GET", "/api/v1/audit?action=smile", "county", ""), 422, "invalid", "action")
			r = e.do(t, "GET", "/api/v1/audit?from=2000-01-01&to=2000-01-31", "county", "")
			wantStatus(t, r, 200)
			if len(items(r)) != 0 {
				t.Fatal(r.raw)
			}
			wantErr(t, e.do(t, "GET", "/api/v1/audit", "viewer1", ""), 403, "forbidden", "")
		})

		t.Run("facts", func(t *testing.T) {
			r := e.do(t, "GET", "/api/v1/facts/division.villages?division=320205&by=children", "county", "")
			wantStatus(t, r, 200)
			it := items(r)
			if r.body["total"] != 2.0 || len(it) != 2 || it[0]["code"] != "320205001000000" || it[0]["value"] != 1.0 || it[1]["value"] != 1.0 {
				t.Fatal(r.raw)
			}
			wantErr(t, e.do(t, "GET", "/api/v1/facts/division.villages?division=320205", "town1", ""), 404, "not_found", "")
			wantErr(t, e.do(t, "GET", "/api/v1/facts/division.villages", "town1", ""), 422, "invalid", "division")
			wantErr(t, e.do(t, "GET", "/api/v1/facts/division.villages?division=320205001&from=202513", "town1", ""), 422, "invalid", "from")
			wantErr(t, e.do(t, "GET", "/api/v1/facts/DROP%20TABLE?division=320205001", "town1", ""), 422, "invalid", "metric")
		})
	})
}

func jsonNum(f float64) string {
	b, _ := json.Marshal(f)
	return string(bytes.TrimSpace(b))
}
