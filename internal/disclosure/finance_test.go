package disclosure_test

import (
	"bytes"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/xuri/excelize/v2"

	"github.com/shequ-platform/shequ/internal/disclosure"
	"github.com/shequ-platform/shequ/internal/platform/audit"
	"github.com/shequ-platform/shequ/internal/platform/db"
	"github.com/shequ-platform/shequ/internal/platform/db/dbtest"
	"github.com/shequ-platform/shequ/internal/platform/facts"
	"github.com/shequ-platform/shequ/internal/platform/ids"
)

func TestEntryValidationStoresNothing(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		f := newFixture(t, d)
		in := disclosure.EntryInput{Village: villageA, Account: "admin", Category: "office", Day: "2026-11-20", Amount: "1234.56",
			Summary: "购买办公用品", Voucher: "记-0012"}
		for _, c := range []struct {
			name string
			edit func(*disclosure.EntryInput)
			want string
		}{
			{"negative", func(e *disclosure.EntryInput) { e.Amount = "-50" }, "amount:negative"},
			{"zero", func(e *disclosure.EntryInput) { e.Amount = "0.00" }, "amount:zero"},
			{"three decimals", func(e *disclosure.EntryInput) { e.Amount = "12.345" }, "amount:decimals"},
			{"not a number", func(e *disclosure.EntryInput) { e.Amount = "十二元" }, "amount:amount"},
			{"no amount", func(e *disclosure.EntryInput) { e.Amount = "" }, "amount:required"},
			{"unknown category", func(e *disclosure.EntryInput) { e.Category = "lottery" }, "category:category_unknown"},
			{"category of the other account", func(e *disclosure.EntryInput) { e.Category = "rent" }, "category:category_account"},
			{"unknown account", func(e *disclosure.EntryInput) { e.Account = "secret" }, "account:account_unknown"},
			{"no account", func(e *disclosure.EntryInput) { e.Account = "" }, "account:required"},
			{"future day", func(e *disclosure.EntryInput) { e.Day = "2026-11-24" }, "day:day_future"},
			{"bad day", func(e *disclosure.EntryInput) { e.Day = "2026-02-30" }, "day:date"},
			{"no summary", func(e *disclosure.EntryInput) { e.Summary = " " }, "summary:required"},
			{"long voucher", func(e *disclosure.EntryInput) { e.Voucher = string(make([]byte, 41)) }, "voucher:too_long"},
		} {
			x := in
			c.edit(&x)
			_, err := f.svc.AddEntry(f.ctx, f.villageStaffA, x)
			wantFieldError(t, err, c.want)
		}
		// every problem at once
		_, err := f.svc.AddEntry(f.ctx, f.villageStaffA, disclosure.EntryInput{Village: villageA, Account: "admin", Category: "rent",
			Day: "2030-01-01", Amount: "-1"})
		if got := fieldCodes(t, err); len(got) != 4 {
			t.Fatalf("errors %q", got)
		}
		if n := f.count("SELECT COUNT(*) FROM fin_entries"); n != 0 {
			t.Fatalf("%d entries stored", n)
		}
		if n := f.count("SELECT COUNT(*) FROM facts WHERE metric LIKE 'fin.%'"); n != 0 {
			t.Fatalf("%d facts", n)
		}
		e, err := f.svc.AddEntry(f.ctx, f.villageStaffA, in)
		if err != nil {
			t.Fatal(err)
		}
		if e.Amount != 123456 || e.Kind != "expense" || e.Day != 20261120 || e.County != county || e.CreatedBy != "villagea名" {
			t.Fatalf("entry %+v", e)
		}
		// a grid code stands for its village; the day defaults to today
		e2, err := f.svc.AddEntry(f.ctx, f.villageStaffA, disclosure.EntryInput{Village: villageA + 3, Account: "economic", Category: "rent",
			Amount: "800", Summary: "门面房租金"})
		if err != nil || e2.Division != villageA || e2.Day != 20261123 || e2.Kind != "income" {
			t.Fatalf("entry %+v %v", e2, err)
		}
		if n := f.count("SELECT COUNT(*) FROM audit_log WHERE entity = 'fin_entry' AND action = 'create'"); n != 2 {
			t.Fatalf("%d audit entries", n)
		}
		lo, hi := ids.Subtree(townA)
		for metric, want := range map[string]int64{disclosure.MetricExpense: 123456, disclosure.MetricIncome: 80000, disclosure.MetricEntries: 2} {
			if v, err := facts.Sum(f.ctx, d, metric, lo, hi, 202611, 202611); err != nil || v != want {
				t.Fatalf("%s = %d, %v; want %d", metric, v, err, want)
			}
		}
	})
}

func TestFinanceScope(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		f := newFixture(t, d)
		in := disclosure.EntryInput{Village: villageA, Account: "admin", Category: "grant", Amount: "100", Summary: "补助"}
		// another township's staff: not found (and audited as denied)
		if _, err := f.svc.AddEntry(f.ctx, f.townStaffB, in); !errors.Is(err, db.ErrNotFound) {
			t.Fatalf("other township: %v", err)
		}
		if n := f.count("SELECT COUNT(*) FROM audit_log WHERE action = 'denied'"); n == 0 {
			t.Fatal("denial not audited")
		}
		// the viewer sees but may not write; the county's staff likewise
		for _, p := range []*struct{ name string }{{"viewer"}, {"county"}} {
			pr := f.viewer
			if p.name == "county" {
				pr = f.countyStaff
			}
			if _, err := f.svc.AddEntry(f.ctx, pr, in); !errors.Is(err, disclosure.ErrForbidden) {
				t.Fatalf("%s: %v", p.name, err)
			}
		}
		// the township's staff may (disclosure.manage at the township)
		if _, err := f.svc.AddEntry(f.ctx, f.townStaffA, in); err != nil {
			t.Fatal(err)
		}
		// a township is not a village
		in.Village = townA
		if _, err := f.svc.AddEntry(f.ctx, f.townStaffA, in); !errors.Is(err, db.ErrNotFound) {
			t.Fatalf("township: %v", err)
		}
		page, err := f.svc.Entries(f.ctx, f.viewer, disclosure.EntryFilter{Village: villageA})
		if err != nil || len(page.Entries) != 1 || page.In != 10000 {
			t.Fatalf("viewer list %+v %v", page, err)
		}
		if _, err := f.svc.Entries(f.ctx, f.villageStaffB, disclosure.EntryFilter{Village: villageA}); !errors.Is(err, db.ErrNotFound) {
			t.Fatalf("village B's staff: %v", err)
		}
	})
}

func TestEntriesFilterAndSums(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		f := newFixture(t, d)
		f.entry("admin", "grant", "2026-01-15", "50000")
		f.entry("admin", "office", "2026-03-02", "1200.50")
		f.entry("admin", "office", "2026-11-20", "99.99")
		f.entry("admin", "wages", "2026-06-30", "30000")
		f.entry("economic", "rent", "2026-07-01", "12000")
		f.entry("economic", "works", "2026-08-08", "8000.01")
		f.entry("admin", "office", "2025-12-31", "1") // last year
		year := disclosure.EntryFilter{Village: villageA, From: 20260101, To: 20261231}
		page, err := f.svc.Entries(f.ctx, f.villageStaffA, year)
		if err != nil {
			t.Fatal(err)
		}
		if page.N != 6 || page.In != 6200000 || page.Out != 120050+9999+3000000+800001 || len(page.Entries) != 6 || page.More {
			t.Fatalf("year %+v", page)
		}
		if page.Entries[0].Day != 20261120 || page.Entries[5].Day != 20260115 {
			t.Fatal("not newest first")
		}
		f2 := year
		f2.Category, f2.Limit = "office", 1
		page, err = f.svc.Entries(f.ctx, f.villageStaffA, f2)
		if err != nil || page.N != 2 || page.Out != 130049 || len(page.Entries) != 1 || !page.More {
			t.Fatalf("office page %+v %v", page, err)
		}
		f3 := year
		f3.Kind = "income"
		if page, _ = f.svc.Entries(f.ctx, f.villageStaffA, f3); page.N != 2 || page.Out != 0 {
			t.Fatalf("income %+v", page)
		}
	})
}

func TestBudgetAgainstActual(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		f := newFixture(t, d)
		f.entry("admin", "grant", "2026-01-15", "50000")
		f.entry("admin", "office", "2026-03-02", "1500")
		f.entry("admin", "office", "2026-09-02", "1500")
		f.entry("economic", "works", "2026-08-08", "30000")
		f.entry("admin", "office", "2025-12-31", "999") // another year
		n, err := f.svc.SetBudgets(f.ctx, f.villageStaffA, villageA, 2026, map[string]string{
			"admin/grant": "60000", "admin/office": "4000", "admin/wages": "", "economic/works": "25,000.00", "economic/rent": "0"})
		if err != nil || n != 3 {
			t.Fatalf("set budgets: %d %v", n, err)
		}
		// a bad line refuses the whole form
		_, err = f.svc.SetBudgets(f.ctx, f.villageStaffA, villageA, 2026, map[string]string{"admin/office": "10", "admin/rent": "5",
			"admin/wages": "-3", "economic/lottery": "1"})
		codes := fieldCodes(t, err)
		if len(codes) != 3 || codes[0] != "admin/rent:category_account" || codes[1] != "admin/wages:negative" || codes[2] != "economic/lottery:category_unknown" {
			t.Fatalf("codes %q", codes)
		}
		_, err = f.svc.SetBudgets(f.ctx, f.villageStaffA, villageA, 2019, map[string]string{"admin/office": "10"})
		wantFieldError(t, err, "year:year_range")
		if _, err := f.svc.SetBudgets(f.ctx, f.viewer, villageA, 2026, map[string]string{"admin/office": "10"}); !errors.Is(err, disclosure.ErrForbidden) {
			t.Fatalf("viewer: %v", err)
		}
		r, err := f.svc.Budget(f.ctx, f.viewer, villageA, 2026)
		if err != nil {
			t.Fatal(err)
		}
		if len(r.Accounts) != 2 || r.Accounts[0].Account != "admin" || r.To != 20261123 {
			t.Fatalf("report %+v", r)
		}
		adm := r.Accounts[0]
		if len(adm.Income) != 1 || len(adm.Expense) != 2 {
			t.Fatalf("admin lines %+v", adm)
		}
		office := adm.Expense[0]
		if office.Category != "office" || office.Budget != 400000 || office.Actual != 300000 || office.Diff() != -100000 || office.N != 2 ||
			office.SharePct() != "75.0%" {
			t.Fatalf("office %+v %s", office, office.SharePct())
		}
		if w := adm.Expense[1]; w.Category != "wages" || w.Budget != 0 || w.Actual != 0 || w.SharePct() != "—" {
			t.Fatalf("wages %+v", w)
		}
		if adm.In.Budget != 6000000 || adm.In.Actual != 5000000 || adm.Out.Budget != 400000 || adm.Out.Actual != 300000 || adm.Balance() != 4700000 {
			t.Fatalf("admin totals %+v %+v", adm.In, adm.Out)
		}
		eco := r.Accounts[1]
		if eco.Out.Budget != 2500000 || eco.Out.Actual != 3000000 || eco.Out.Diff() != 500000 || eco.Out.SharePct() != "120.0%" {
			t.Fatalf("economic %+v", eco.Out)
		}
		// changing a line is audited with before and after; clearing removes it
		if _, err := f.svc.SetBudgets(f.ctx, f.villageStaffA, villageA, 2026, map[string]string{"admin/office": "", "admin/grant": "60000"}); err != nil {
			t.Fatal(err)
		}
		if n := f.count("SELECT COUNT(*) FROM fin_budgets WHERE division = ? AND year = 2026", villageA); n != 2 {
			t.Fatalf("%d budget lines", n)
		}
		if n := f.count("SELECT COUNT(*) FROM audit_log WHERE entity = 'fin_budget'"); n != 4 {
			t.Fatalf("%d budget audit entries", n)
		}
		if b, err := f.svc.SetBudget(f.ctx, f.villageStaffA, villageA, 2027, "economic", "rent", "1.5"); err != nil || b.Amount != 150 {
			t.Fatalf("SetBudget %+v %v", b, err)
		}
	})
}

func TestAssetRegister(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		f := newFixture(t, d)
		_, err := f.svc.AddAsset(f.ctx, f.villageStaffA, disclosure.AssetInput{Village: villageA, Kind: "mine", Value: "-1", Acquired: "2027-01-01"})
		codes := fieldCodes(t, err)
		if len(codes) != 4 {
			t.Fatalf("codes %q", codes)
		}
		a, err := f.svc.AddAsset(f.ctx, f.villageStaffA, disclosure.AssetInput{Village: villageA, Kind: "building", Name: "村集体门面房",
			Quantity: "320 平方米", Value: "1,200,000", Acquired: "2015-06-01", Status: "出租给某超市至2028年"})
		if err != nil || a.Value != 120000000 || a.AcquiredDay != 20150601 {
			t.Fatalf("asset %+v %v", a, err)
		}
		land, err := f.svc.AddAsset(f.ctx, f.villageStaffA, disclosure.AssetInput{Village: villageA, Kind: "land", Name: "东片集体耕地", Quantity: "35 亩"})
		if err != nil || land.Value != 0 {
			t.Fatalf("land %+v %v", land, err)
		}
		_, err = f.svc.UpdateAsset(f.ctx, f.villageStaffA, a.ID, disclosure.AssetInput{Kind: "building", Name: "村集体门面房",
			Value: "1200000", Acquired: "2015-06-01"}, true, "2014-01-01")
		wantFieldError(t, err, "retired:retired_before_acquired")
		if _, err := f.svc.UpdateAsset(f.ctx, f.villageStaffB, a.ID, disclosure.AssetInput{Kind: "building", Name: "x"}, false, ""); !errors.Is(err, db.ErrNotFound) {
			t.Fatalf("village B: %v", err)
		}
		if _, err := f.svc.UpdateAsset(f.ctx, f.viewer, a.ID, disclosure.AssetInput{Kind: "building", Name: "x"}, false, ""); !errors.Is(err, disclosure.ErrForbidden) {
			t.Fatalf("viewer: %v", err)
		}
		r, err := f.svc.UpdateAsset(f.ctx, f.villageStaffA, a.ID, disclosure.AssetInput{Kind: "building", Name: "村集体门面房",
			Quantity: "320 平方米", Value: "1200000", Acquired: "2015-06-01", Status: "已拆除"}, true, "")
		if err != nil || r.RetiredDay != 20261123 || r.Status != "已拆除" {
			t.Fatalf("retire %+v %v", r, err)
		}
		held, _ := f.svc.Assets(f.ctx, f.viewer, villageA, false)
		all, _ := f.svc.Assets(f.ctx, f.viewer, villageA, true)
		if len(held) != 1 || held[0].ID != land.ID || len(all) != 2 {
			t.Fatalf("held %d, all %d", len(held), len(all))
		}
		if n := f.count("SELECT COUNT(*) FROM audit_log WHERE entity = 'fin_asset'"); n != 3 {
			t.Fatalf("%d audit entries", n)
		}
	})
}

// readSheet reads the first sheet of an XLSX workbook.
func readSheet(t *testing.T, b []byte) (string, [][]string) {
	t.Helper()
	x, err := excelize.OpenReader(bytes.NewReader(b))
	if err != nil {
		t.Fatal(err)
	}
	defer x.Close()
	name := x.GetSheetName(0)
	rows, err := x.GetRows(name)
	if err != nil {
		t.Fatal(err)
	}
	return name, rows
}

func TestLedgersReadBack(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		f := newFixture(t, d)
		f.entry("admin", "grant", "2026-01-15", "50000")
		f.entry("admin", "office", "2026-03-02", "1234.56")
		f.entry("economic", "rent", "2025-07-01", "1") // another year
		if _, err := f.svc.SetBudgets(f.ctx, f.villageStaffA, villageA, 2026, map[string]string{"admin/office": "2000"}); err != nil {
			t.Fatal(err)
		}
		if _, err := f.svc.AddAsset(f.ctx, f.villageStaffA, disclosure.AssetInput{Village: villageA, Kind: "fund", Name: "集体存款",
			Value: "300000.50", Acquired: "2020-01-01", Status: "农商行定期"}); err != nil {
			t.Fatal(err)
		}
		var buf bytes.Buffer
		n, err := f.svc.Ledger(f.ctx, f.viewer, villageA, disclosure.LedgerEntries, 2026, "zh-CN", &buf)
		if err != nil || n != 2 {
			t.Fatalf("entries ledger: %d %v", n, err)
		}
		name, rows := readSheet(t, buf.Bytes())
		if name != "收支明细账" || len(rows) != 4 {
			t.Fatalf("sheet %q rows %q", name, rows)
		}
		if rows[0][0] != "日期" || rows[0][5] != "收入（元）" {
			t.Fatalf("header %q", rows[0])
		}
		if rows[1][0] != "2026-01-15" || rows[1][2] != "行政账" || rows[1][3] != "上级补助" || rows[1][5] != "50000" {
			t.Fatalf("row 1 %q", rows[1])
		}
		if rows[2][3] != "办公经费" || rows[2][6] != "1234.56" || rows[2][7] != "villagea名" {
			t.Fatalf("row 2 %q", rows[2])
		}
		if rows[3][4] != "合计" || rows[3][5] != "50000" || rows[3][6] != "1234.56" {
			t.Fatalf("total %q", rows[3])
		}
		buf.Reset()
		if _, err := f.svc.Ledger(f.ctx, f.viewer, villageA, disclosure.LedgerBudget, 2026, "en", &buf); err != nil {
			t.Fatal(err)
		}
		name, rows = readSheet(t, buf.Bytes())
		if name != "Budget against actual" || rows[0][3] != "Budget (yuan)" {
			t.Fatalf("budget sheet %q %q", name, rows[0])
		}
		found := false
		for _, r := range rows {
			if len(r) >= 7 && r[2] == "Office costs" {
				found = r[3] == "2000" && r[4] == "1234.56" && r[5] == "-765.44" && r[6] == "61.7"
				if !found {
					t.Fatalf("office line %q", r)
				}
			}
		}
		if !found {
			t.Fatalf("no office line in %q", rows)
		}
		buf.Reset()
		if _, err := f.svc.Ledger(f.ctx, f.viewer, villageA, disclosure.LedgerAssets, 0, "zh-CN", &buf); err != nil {
			t.Fatal(err)
		}
		_, rows = readSheet(t, buf.Bytes())
		if len(rows) != 2 || rows[1][0] != "资金" || rows[1][1] != "集体存款" || rows[1][3] != "300000.5" || rows[1][4] != "2020-01-01" {
			t.Fatalf("assets %q", rows)
		}
		if n := f.count("SELECT COUNT(*) FROM audit_log WHERE entity = 'fin_ledger' AND action = 'export'"); n != 3 {
			t.Fatalf("%d exports audited", n)
		}
		if _, err := f.svc.Ledger(f.ctx, f.townStaffB, villageA, disclosure.LedgerEntries, 2026, "zh-CN", &buf); !errors.Is(err, db.ErrNotFound) {
			t.Fatalf("other township: %v", err)
		}
	})
}

// TestCategoryDroppedByThePack: entries of a category the pack no longer
// lists stay in the totals, as an "other" line of the budget against
// actual and of the statements.
func TestCategoryDroppedByThePack(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		f := newFixture(t, d)
		f.entry("admin", "office", "2026-10-02", "100")
		f.entry("admin", "wages", "2026-10-03", "3000")
		// the county's pack drops the wages category
		packs := packsWith(t, strings.Replace(testGovernance,
			"    - {key: wages, label: {zh-CN: 干部报酬, en: Allowances}, account: admin, kind: expense}\n", "", 1))
		svc := disclosure.NewService(d, &audit.Log{DB: d}, f.acc, f.divs.Store, packs, f.gov)
		svc.SetClock(func() time.Time { return f.now })
		r, err := svc.Budget(f.ctx, f.viewer, villageA, 2026)
		if err != nil {
			t.Fatal(err)
		}
		adm := r.Accounts[0]
		if len(adm.Expense) != 2 || adm.Expense[0].Category != "office" || adm.Expense[1].Category != "" ||
			adm.Expense[1].Actual != 300000 || adm.Expense[1].Label["zh-CN"] != "其他（政策包已不再列出的科目）" || adm.Out.Actual != 310000 {
			t.Fatalf("expense lines %+v", adm.Expense)
		}
		st, err := svc.Statement(f.ctx, f.viewer, villageA, "2026-10")
		if err != nil || st.Accounts[0].Out != 310000 || len(st.Accounts[0].Expense) != 2 {
			t.Fatalf("statement %+v %v", st, err)
		}
	})
}
