package window_test

import (
	"encoding/json"
	"errors"
	"net/http"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/xuri/excelize/v2"

	"github.com/shequ-platform/shequ/internal/platform/access"
	"github.com/shequ-platform/shequ/internal/platform/audit"
	"github.com/shequ-platform/shequ/internal/platform/db"
	"github.com/shequ-platform/shequ/internal/platform/db/dbtest"
	"github.com/shequ-platform/shequ/internal/platform/jobs"
	"github.com/shequ-platform/shequ/internal/window"
)

// figLedgerRows runs the ledger job as p and returns the workbook's rows.
func (e *figWeb) ledgerRows(t *testing.T, p *access.Principal, lp window.LedgerParams) (jobs.Job, [][]string) {
	t.Helper()
	j, err := e.runner.RunNow(e.f.ctx, p, jobs.Spec{Kind: window.JobLedger, Division: lp.Unit, Params: lp}, nil)
	if err != nil {
		t.Fatalf("ledger job: %v (%+v)", err, j)
	}
	if j.Status != jobs.Done || len(j.Files) != 1 || !strings.HasSuffix(j.Files[0].Name, ".xlsx") || j.Files[0].Label != "window.ledger.file" {
		t.Fatalf("job %+v", j)
	}
	f, _, err := e.runner.Open(e.f.ctx, p, j.ID, j.Files[0].Name)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	x, err := excelize.OpenReader(f)
	if err != nil {
		t.Fatal(err)
	}
	defer x.Close()
	rows, err := x.GetRows(x.GetSheetName(0))
	if err != nil {
		t.Fatal(err)
	}
	return j, rows
}

func TestLedgerJobWritesMaskedXLSX(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		e := newFigWeb(t, d)
		cs := figScenario(e.f)
		lp := window.LedgerParams{Unit: county, From: 202601, To: 202603, Locale: "zh-CN"}
		j, rows := e.ledgerRows(t, e.f.countyStaff, lp)
		if !strings.HasPrefix(j.Files[0].Name, "办件台账-锡山区-202601-202603") {
			t.Fatalf("file name %q", j.Files[0].Name)
		}
		wantHead := []string{"办件编号", "事项", "类别", "渠道", "申请人", "联系电话", "受理单位", "当前办理单位", "受理日期",
			"承诺时限(工作日)", "截止日期", "办结日期", "状态", "是否按时", "是否代办", "满意度"}
		if len(rows) == 0 || !slices.Equal(rows[0], wantHead) {
			t.Fatalf("header %q", rows[0])
		}
		// every case accepted in the months: not c7 (rejected) nor c8 (waiting for materials)
		byNumber := map[string][]string{}
		for _, r := range rows[1:] {
			for len(r) < len(wantHead) {
				r = append(r, "")
			}
			byNumber[r[0]] = r
		}
		if len(rows) != 1+7 || len(byNumber) != 7 {
			t.Fatalf("%d rows: %q", len(rows)-1, rows)
		}
		for _, k := range []string{"c1", "c2", "c3", "c4", "c5", "c6", "c9"} {
			if _, ok := byNumber[cs[k].Number]; !ok {
				t.Errorf("%s (%s) missing", k, cs[k].Number)
			}
		}
		// phones are masked: never the whole number
		full := regexp.MustCompile(`1[3-9]\d{9}`)
		for _, r := range rows[1:] {
			if !regexp.MustCompile(`^1\d{2}\*{4}\d{4}$`).MatchString(r[5]) {
				t.Errorf("phone cell %q is not masked", r[5])
			}
			for _, cell := range r {
				if full.MatchString(strings.ReplaceAll(cell, " ", "")) {
					t.Errorf("a whole phone number in %q", r)
				}
			}
		}
		c1 := byNumber[cs["c1"].Number]
		if c1[1] == "" || c1[2] != "便民利民代办服务" || c1[3] != "窗口受理" || c1[4] != "王小红" || c1[6] != "门楼社区居委会" || c1[7] != "门楼社区居委会" ||
			c1[8] != "2026-01-05" || c1[9] != "3" || c1[11] != "2026-01-07" || c1[12] != "已办结" || c1[13] != "是" || c1[14] != "否" || c1[15] != "非常满意" {
			t.Errorf("c1 row %q", c1)
		}
		if c2 := byNumber[cs["c2"].Number]; c2[13] != "否" || c2[12] != "已办结" {
			t.Errorf("c2 row %q", c2)
		}
		if c3 := byNumber[cs["c3"].Number]; c3[3] != "电话受理" || c3[11] != "" || c3[13] != "否（已逾期）" || c3[12] != "已受理" {
			t.Errorf("c3 row %q", c3)
		}
		if c4 := byNumber[cs["c4"].Number]; c4[14] != "是" || c4[13] != "" {
			t.Errorf("c4 row %q", c4)
		}
		if c6 := byNumber[cs["c6"].Number]; c6[6] != "东亭街道" {
			t.Errorf("c6 row %q", c6)
		}
		var res map[string]int64
		if err := json.Unmarshal(j.Result, &res); err != nil || res["exported"] != 7 {
			t.Fatalf("result %s", j.Result)
		}
		// audited as an export of the county, with its row count
		recs, err := e.f.audit.List(e.f.ctx, audit.Filter{Entity: "case_ledger", Action: audit.Export})
		if err != nil || len(recs) != 1 || recs[0].Division != county || !strings.Contains(string(mustJSON(t, recs[0].Changes)), `7`) {
			t.Fatalf("audit %+v %v", recs, err)
		}

		// a township's ledger holds its own cases only; a month range narrows it
		_, rows = e.ledgerRows(t, e.f.townStaffB, window.LedgerParams{Unit: townB, From: 202601, To: 202603, Locale: "en"})
		if len(rows) != 2 || rows[0][0] != "Case number" || rows[1][0] != cs["c9"].Number || rows[1][12] != "Accepted" {
			t.Fatalf("安镇街道 %q", rows)
		}
		_, rows = e.ledgerRows(t, e.f.countyStaff, window.LedgerParams{Unit: county, From: 202603, To: 202603})
		if len(rows) != 3 {
			t.Fatalf("March: %d rows", len(rows)-1)
		}

		// outside the principal's scope: not found, and nothing written
		if err := e.f.svc.CheckLedger(e.f.ctx, e.f.townStaffB, lp); !errors.Is(err, db.ErrNotFound) {
			t.Fatalf("another township's staff: %v", err)
		}
		j, err = e.runner.RunNow(e.f.ctx, e.f.townStaffB, jobs.Spec{Kind: window.JobLedger, Division: county, Params: lp}, nil)
		if err == nil || j.Status != jobs.Failed || len(j.Files) != 0 {
			t.Fatalf("job outside scope: %+v %v", j, err)
		}
		var es window.Errors
		if err := e.f.svc.CheckLedger(e.f.ctx, e.f.countyStaff, window.LedgerParams{Unit: county, From: 202604, To: 202601}); !errors.As(err, &es) {
			t.Fatalf("months backwards: %v", err)
		}
	})
}

func mustJSON(t *testing.T, v any) []byte {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestLedgerButtonSubmitsJob(t *testing.T) {
	e := newFigWeb(t, dbtest.SQLite(t))
	figScenario(e.f)
	w := e.do(e.f.countyStaff, http.MethodPost, "/window/ledger", "unit=320205001000000&from=2026-01&to=2026-03", "zh-CN")
	if w.Code != http.StatusSeeOther || !regexp.MustCompile(`^/jobs/\d+$`).MatchString(w.Header().Get("Location")) {
		t.Fatalf("submit: %d %q\n%s", w.Code, w.Header().Get("Location"), w.Body)
	}
	id, _ := strconv.ParseInt(strings.TrimPrefix(w.Header().Get("Location"), "/jobs/"), 10, 64)
	j, err := e.runner.Get(e.f.ctx, e.f.countyStaff, id)
	if err != nil || j.Kind != window.JobLedger || j.Division != townA || j.Status != jobs.Queued {
		t.Fatalf("job %+v %v", j, err)
	}
	var lp window.LedgerParams
	if err := json.Unmarshal(j.Params, &lp); err != nil || lp != (window.LedgerParams{Unit: townA, From: 202601, To: 202603, Locale: "zh-CN"}) {
		t.Fatalf("params %s", j.Params)
	}
	if w := e.do(e.f.villageStaff, http.MethodPost, "/window/ledger", "unit=320205&from=2026-01&to=2026-03", "zh-CN"); w.Code != http.StatusNotFound {
		t.Fatalf("village staff, county ledger: %d", w.Code)
	}
	if w := e.do(e.f.countyStaff, http.MethodPost, "/window/ledger", "unit=320205&from=2026-03&to=2026-01", "zh-CN"); w.Code != http.StatusBadRequest {
		t.Fatalf("months backwards: %d", w.Code)
	}
}
