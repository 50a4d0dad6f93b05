package app_test

import (
	"bytes"
	"context"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"testing"

	"github.com/xuri/excelize/v2"

	"github.com/shequ-platform/shequ/internal/demo"
	"github.com/shequ-platform/shequ/internal/division"
	"github.com/shequ-platform/shequ/internal/platform/db/dbtest"
)

func TestAccountsScreenIsScoped(t *testing.T) {
	a, srv := newApp(t, dbtest.SQLite(t).Path(), true)
	ctx := context.Background()
	town := newClient(t, srv)
	town.login("town", demoPassword)
	code, body, _ := town.get("/admin/users")
	if code != 200 || !strings.Contains(body, ">village<") || strings.Contains(body, ">county<") || strings.Contains(body, ">admin<") {
		t.Fatalf("township's account list: %d", code)
	}
	// it may create a village account inside its township, not a county one
	villages, _ := a.Divisions.Children(ctx, demo.Township, false)
	code, _, h := town.post("/admin/users", url.Values{"username": {"cun-wang"}, "display_name": {"王村干"}, "password": {"qing-shan-lv-shui-1"},
		"role": {"village_staff"}, "division": {division.Format(villages[2].Code)}})
	if code != http.StatusSeeOther || !strings.HasPrefix(h.Get("Location"), "/admin/users/") {
		t.Fatalf("create village account: %d", code)
	}
	code, body, _ = town.post("/admin/users", url.Values{"username": {"qu-li"}, "password": {"qing-shan-lv-shui-1"},
		"role": {"county_staff"}, "division": {division.Format(demo.County)}})
	if code != http.StatusUnprocessableEntity || !strings.Contains(body, "field-error") && !strings.Contains(body, "flash-error") {
		t.Fatalf("escalation to county staff: %d", code)
	}
	// the admin account's page is "not found" for the township
	admin, _ := a.Access.UserByName(ctx, "admin")
	if code, _, _ := town.get("/admin/users/" + strconv.FormatInt(admin.ID, 10)); code != 404 {
		t.Fatalf("township sees the admin account: %d", code)
	}
	// a grid worker has no account screen at all
	grid := newClient(t, srv)
	grid.login("grid", demoPassword)
	if code, _, _ := grid.get("/admin/audit"); code != 404 {
		t.Fatalf("grid worker reaches the audit log: %d", code)
	}
}

func TestAuditScreenAndExport(t *testing.T) {
	_, srv := newApp(t, dbtest.SQLite(t).Path(), true)
	county := newClient(t, srv)
	county.login("county", demoPassword)
	town := newClient(t, srv)
	town.login("town", demoPassword)
	town.get("/divisions/" + division.Format(sibling)) // a refused access, audited at the sibling

	code, body, _ := county.get("/admin/audit?action=denied")
	if code != 200 || !strings.Contains(body, "town") {
		t.Fatalf("county does not see the township's refused access: %d", code)
	}
	code, body, _ = town.get("/admin/audit?action=login")
	if code != 200 || !strings.Contains(body, "town") || strings.Contains(body, "<td>county</td>") {
		t.Fatalf("township audit view: %d", code)
	}
	code, xlsx, h := county.get("/admin/audit/export?action=login")
	if code != 200 || !strings.Contains(h.Get("Content-Type"), "spreadsheetml") {
		t.Fatalf("export: %d %s", code, h.Get("Content-Type"))
	}
	f, err := excelize.OpenReader(bytes.NewReader([]byte(xlsx)))
	if err != nil {
		t.Fatal(err)
	}
	rows, err := f.GetRows(f.GetSheetName(0))
	if err != nil || len(rows) < 3 || rows[0][0] != "序号" {
		t.Fatalf("export rows: %v %v", rows, err)
	}
	for _, r := range rows[1:] {
		if r[4] != "登录" {
			t.Fatalf("filter not applied in the export: %v", r)
		}
	}
	if code, body, _ := county.get("/admin/policy"); code != 200 || !strings.Contains(body, "xishan-2008") {
		t.Fatalf("policy page: %d", code)
	}
}
