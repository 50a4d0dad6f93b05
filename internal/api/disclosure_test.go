package api_test

import (
	"context"
	"net/http"
	"strconv"
	"testing"
	"time"

	"github.com/shequ-platform/shequ/internal/api"
	"github.com/shequ-platform/shequ/internal/disclosure"
	"github.com/shequ-platform/shequ/internal/division"
	"github.com/shequ-platform/shequ/internal/platform/access"
	"github.com/shequ-platform/shequ/internal/platform/audit"
	"github.com/shequ-platform/shequ/internal/platform/db"
	"github.com/shequ-platform/shequ/internal/platform/db/dbtest"
	"github.com/shequ-platform/shequ/internal/platform/policy"
	policypacks "github.com/shequ-platform/shequ/policy"
)

// setupFinance is the API over disclosure: the divisions of setup under
// 锡山区 (the shipped xishan-2008 pack: administrative and economic
// accounts, a monthly finance item), the accounts town1, town2, county,
// viewer1 and village1 (village_staff at 春江村), on 2026-11-23.
func setupFinance(t *testing.T, d *db.DB) *env {
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
	if g := packs.For(village1).Governance; g == nil || len(g.Finance.Accounts) == 0 {
		t.Skip("the xishan-2008 pack has no finance accounts")
	}
	svc := disclosure.NewService(d, log, acc, divs.Store, packs, nil)
	svc.SetClock(func() time.Time { return time.Date(2026, 11, 23, 10, 0, 0, 0, time.FixedZone("CST", 8*3600)) })
	e := &env{acc: acc, tokens: map[string]string{}}
	for _, u := range []struct {
		name, role string
		div        int64
	}{
		{"town1", "township_staff", town1},
		{"town2", "township_staff", town2},
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
	mux.Handle(api.Prefix+"/", api.New(api.Deps{Access: acc, Divisions: divs, Audit: log, DB: d, Disclosure: svc, Version: "test"}))
	e.h = (&access.HTTP{S: acc}).Authenticate(mux)
	return e
}

func TestFinanceAPI(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		e := setupFinance(t, d)
		entry := map[string]any{"village": "320205001001", "account": "administrative", "category": "public_services",
			"day": "2026-10-12", "amount": "1234.50", "summary": "路灯电费", "voucher": "记-07"}
		r := e.do(t, "POST", "/api/v1/finance/entries", "village1", body(t, entry))
		wantStatus(t, r, http.StatusCreated)
		if r.body["amount"] != "1234.50" || r.body["amount_fen"] != float64(123450) || r.body["kind"] != "expense" ||
			r.body["village"] != "320205001001000" || r.body["day"] != "2026-10-12" {
			t.Fatalf("entry %s", r.raw)
		}
		for _, c := range []struct {
			key, value, field, code string
		}{
			{"amount", "-3", "amount", "negative"},
			{"amount", "0", "amount", "zero"},
			{"amount", "1.005", "amount", "decimals"},
			{"category", "operating_income", "category", "category_account"},
			{"category", "lottery", "category", "category_unknown"},
			{"day", "2026-11-24", "day", "day_future"},
		} {
			bad := map[string]any{}
			for k, v := range entry {
				bad[k] = v
			}
			bad[c.key] = c.value
			wantErr(t, e.do(t, "POST", "/api/v1/finance/entries", "village1", body(t, bad)), http.StatusUnprocessableEntity, c.code, c.field)
		}
		wantErr(t, e.do(t, "POST", "/api/v1/finance/entries", "viewer1", body(t, entry)), http.StatusForbidden, "forbidden", "")
		wantErr(t, e.do(t, "POST", "/api/v1/finance/entries", "town2", body(t, entry)), http.StatusNotFound, "not_found", "")

		r = e.do(t, "GET", "/api/v1/finance/entries?village=320205001001&year=2026", "viewer1", "")
		wantStatus(t, r, http.StatusOK)
		if len(items(r)) != 1 || r.body["expense"] != "1234.50" || r.body["count"] != float64(1) {
			t.Fatalf("list %s", r.raw)
		}
		wantErr(t, e.do(t, "GET", "/api/v1/finance/entries?village=320205002001", "viewer1", ""), http.StatusNotFound, "not_found", "")

		r = e.do(t, "PUT", "/api/v1/finance/budgets", "village1", body(t, map[string]any{"village": "320205001001", "year": 2026,
			"lines": []map[string]any{{"account": "administrative", "category": "public_services", "amount": "2469"}}}))
		wantStatus(t, r, http.StatusOK)
		if r.body["changed"] != float64(1) {
			t.Fatalf("budgets %s", r.raw)
		}
		wantErr(t, e.do(t, "PUT", "/api/v1/finance/budgets", "village1", body(t, map[string]any{"village": "320205001001", "year": 2026,
			"lines": []map[string]any{{"account": "administrative", "category": "operating_income", "amount": "1"}}})),
			http.StatusUnprocessableEntity, "category_account", "administrative/operating_income")
		r = e.do(t, "GET", "/api/v1/finance/summary?village=320205001001&year=2026", "viewer1", "")
		wantStatus(t, r, http.StatusOK)
		found := false
		for _, l := range items(resp{body: map[string]any{"items": r.body["lines"]}}) {
			if l["category"] == "public_services" {
				found = l["budget"] == "2469.00" && l["actual"] == "1234.50" && l["difference"] == "-1234.50" && l["share"] == 0.5
			}
		}
		if !found {
			t.Fatalf("summary %s", r.raw)
		}

		r = e.do(t, "POST", "/api/v1/finance/assets", "village1", body(t, map[string]any{"village": "320205001001", "kind": "resource",
			"name": "集体林地", "quantity": "120 亩"}))
		wantStatus(t, r, http.StatusCreated)
		wantErr(t, e.do(t, "POST", "/api/v1/finance/assets", "village1", body(t, map[string]any{"village": "320205001001", "kind": "gold",
			"name": "x"})), http.StatusUnprocessableEntity, "asset_kind_unknown", "kind")
		r = e.do(t, "GET", "/api/v1/finance/assets?village=320205001001", "viewer1", "")
		if len(items(r)) != 1 || items(r)[0]["name"] != "集体林地" || items(r)[0]["value"] != "0.00" {
			t.Fatalf("assets %s", r.raw)
		}

		// notices: a statement under the finance item, then a notice
		r = e.do(t, "POST", "/api/v1/notices", "village1", body(t, map[string]any{"village": "320205001001", "item": "finance", "period": "2026-10"}))
		wantStatus(t, r, http.StatusCreated)
		st, _ := r.body["statement"].(map[string]any)
		if r.body["period"] != "2026-10" || st == nil || st["period"] != "2026-10" || r.body["body"] != nil {
			t.Fatalf("statement %s", r.raw)
		}
		wantErr(t, e.do(t, "POST", "/api/v1/notices", "village1", body(t, map[string]any{"village": "320205001001", "item": "finance",
			"period": "2026-10"})), http.StatusUnprocessableEntity, "period_published", "period")
		r = e.do(t, "POST", "/api/v1/notices", "village1", body(t, map[string]any{"village": "320205001001", "item": "affairs",
			"period": "2026-Q4", "title": "四季度村务公开", "body": "……"}))
		wantStatus(t, r, http.StatusCreated)
		id := int64(r.body["id"].(float64))
		wantErr(t, e.do(t, "POST", "/api/v1/notices", "village1", body(t, map[string]any{"village": "320205001001", "item": "affairs",
			"period": "2026-11", "title": "x", "body": "y"})), http.StatusUnprocessableEntity, "period_kind", "period")
		r = e.do(t, "GET", "/api/v1/notices?village=320205001001", "viewer1", "")
		if len(items(r)) != 2 {
			t.Fatalf("notices %s", r.raw)
		}
		path := "/api/v1/notices/" + strconv.FormatInt(id, 10) + "/withdraw"
		wantErr(t, e.do(t, "POST", path, "viewer1", ""), http.StatusForbidden, "forbidden", "")
		r = e.do(t, "POST", path, "village1", "")
		wantStatus(t, r, http.StatusOK)
		if r.body["withdrawn"] != "2026-11-23" {
			t.Fatalf("withdrawn %s", r.raw)
		}
		wantErr(t, e.do(t, "POST", path, "village1", ""), http.StatusConflict, "withdrawn", "")
		if r = e.do(t, "GET", "/api/v1/notices?village=320205001001", "viewer1", ""); len(items(r)) != 1 {
			t.Fatalf("after withdrawing %s", r.raw)
		}
	})
}
