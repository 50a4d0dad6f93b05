package governance_test

import (
	"errors"
	"testing"

	fx "github.com/shequ-platform/shequ/internal/fixture"
	gov "github.com/shequ-platform/shequ/internal/governance"
	"github.com/shequ-platform/shequ/internal/platform/db"
	"github.com/shequ-platform/shequ/internal/platform/db/dbtest"
)

func TestMatterParseYuan(t *testing.T) {
	for _, c := range []struct {
		in  string
		fen int64
		ok  bool
	}{
		{"", 0, true}, {"0", 0, true}, {"12000", 1200000, true}, {"3,500.5", 350050, true}, {"3，500.50", 350050, true},
		{"¥800", 80000, true}, {"800元", 80000, true}, {" 1 234 ", 123400, true}, {"0.01", 1, true},
		{"-5", 0, false}, {"1.234", 0, false}, {"十万", 0, false}, {"1e5", 0, false}, {"100000000000.01", 0, false},
	} {
		fen, ok := gov.ParseYuan(c.in)
		if fen != c.fen || ok != c.ok {
			t.Errorf("ParseYuan(%q) = %d %v, want %d %v", c.in, fen, ok, c.fen, c.ok)
		}
	}
	for fen, want := range map[int64]string{0: "0", 1: "0.01", 350050: "3,500.50", 12000000: "120,000", 123456789: "1,234,567.89", -150: "-1.50"} {
		if got := gov.FormatYuan(fen); got != want {
			t.Errorf("FormatYuan(%d) = %q, want %q", fen, got, want)
		}
	}
}

// TestMatterRatings: residents comment while the work is done and rate it
// at the year-end evaluation, one scored rating per device, matter and
// year; a new year lets the device rate again.
func TestMatterRatings(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		f := newFixture(t, d)
		p := f.villageStaffSX
		v := fx.ShaxianVillage
		f.on(20261101)
		m := f.sxResolved(f.sxBodies())
		// At the implement stage: comments, no scores.
		for i := 0; i < 2; i++ {
			if err := f.svc.Rate(f.ctx, v, m.Number, "dev-1", 0, "施工噪音太大"); err != nil {
				t.Fatalf("comment %d: %v", i, err)
			}
		}
		if err := f.svc.Rate(f.ctx, v, m.Number, "dev-1", 4, ""); !errorsAsRefusal(err, gov.RefuseOutOfOrder) {
			t.Errorf("score at implement: %v", err)
		}
		wantFieldError(t, f.svc.Rate(f.ctx, v, m.Number, "dev-1", 0, " "), "comment:required")
		if err := f.svc.Rate(f.ctx, v, "YS000000000000-2026-001", "dev-1", 0, "x"); !errors.Is(err, db.ErrNotFound) {
			t.Errorf("unknown matter: %v", err)
		}
		f.svc.ActOnMatter(f.ctx, p, m.Number, gov.MatterAction{Kind: gov.ActAssign, Responsible: "管委会"})
		if _, err := f.svc.ActOnMatter(f.ctx, p, m.Number, gov.MatterAction{Kind: gov.ActComplete, Note: "完工"}); err != nil {
			t.Fatal(err)
		}
		// At the evaluate stage: scores, one per device and year.
		if err := f.svc.Rate(f.ctx, v, m.Number, "dev-1", 0, "只提意见"); !errorsAsRefusal(err, gov.RefuseOutOfOrder) {
			t.Errorf("comment at evaluate: %v", err)
		}
		wantFieldError(t, f.svc.Rate(f.ctx, v, m.Number, "", 5, ""), "device:required")
		if err := f.svc.Rate(f.ctx, v, m.Number, "dev-1", 5, "很好"); err != nil {
			t.Fatal(err)
		}
		if err := f.svc.Rate(f.ctx, v, m.Number, "dev-1", 2, ""); !errors.Is(err, gov.ErrAlreadyRated) {
			t.Errorf("twice: %v", err)
		}
		if err := f.svc.Rate(f.ctx, v, m.Number, "dev-2", 2, ""); err != nil {
			t.Fatal(err)
		}
		f.on(20270105)
		if err := f.svc.Rate(f.ctx, v, m.Number, "dev-1", 3, ""); err != nil {
			t.Errorf("a new year: %v", err)
		}
		m, _ = f.svc.Matter(f.ctx, p, m.ID)
		if m.RatingN != 3 || m.RatingSum != 10 || m.RatingText() != "3.3" {
			t.Errorf("ratings %d %d %s", m.RatingN, m.RatingSum, m.RatingText())
		}
		if f.sum(gov.MetricRatings, v) != 3 || f.sum(gov.MetricRatingSum, v) != 10 {
			t.Errorf("facts %d %d", f.sum(gov.MetricRatings, v), f.sum(gov.MetricRatingSum, v))
		}
		rs, err := f.svc.MatterRatings(f.ctx, p, m.ID, 10)
		if err != nil || len(rs) != 5 || rs[0].Score != 3 || rs[0].Year != 2027 {
			t.Errorf("ratings list %+v %v", rs, err)
		}
		if _, err := f.svc.MatterRatings(f.ctx, f.villageStaffA, m.ID, 10); !errors.Is(err, db.ErrNotFound) {
			t.Errorf("out of scope: %v", err)
		}
	})
}

// TestMatterImplementationScope: only governance.manage at the village
// implements; the hidden steps stay off the public page.
func TestMatterImplementationScope(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		f := newFixture(t, d)
		p := f.villageStaffSX
		f.on(20260401)
		m := f.sxResolved(f.sxBodies())
		if _, err := f.svc.ActOnMatter(f.ctx, f.villageStaffA, m.Number, gov.MatterAction{Kind: gov.ActAssign, Responsible: "x"}); !errors.Is(err, db.ErrNotFound) {
			t.Errorf("another village's staff: %v", err)
		}
		if n := f.audits("matter", "denied"); n != 1 {
			t.Errorf("denied audited %d", n)
		}
		if _, err := f.svc.ActOnMatter(f.ctx, p, m.Number, gov.MatterAction{Kind: "pass"}); !errorsAsRefusal(err, gov.RefuseAction) {
			t.Errorf("a meeting's action through the implementation: %v", err)
		}
		if _, err := f.svc.ActOnMatter(f.ctx, p, m.Number, gov.MatterAction{Kind: gov.ActAssign, Responsible: "管委会", Photos: [][]byte{mtJPEG}}); err == nil {
			t.Error("photos on an assign step")
		}
		if _, err := f.svc.ActOnMatter(f.ctx, p, m.Number, gov.MatterAction{Kind: gov.ActAssign, Responsible: "管委会", Private: true}); err != nil {
			t.Fatal(err)
		}
		if _, err := f.svc.ActOnMatter(f.ctx, p, m.Number, gov.MatterAction{Kind: gov.ActSupervise, Note: "居民满意", Photos: [][]byte{mtJPEG}}); err != nil {
			t.Fatal(err)
		}
		_, steps, err := f.svc.PublicMatter(f.ctx, fx.ShaxianVillage, m.Number)
		if err != nil {
			t.Fatal(err)
		}
		for _, s := range steps {
			if s.Action == gov.ActAssign {
				t.Error("the hidden assign step is public")
			}
		}
		if last := steps[len(steps)-1]; last.Action != gov.ActSupervise || len(last.Photos) != 1 {
			t.Errorf("public supervise step %+v", last)
		}
		if n := f.count("SELECT count(*) FROM gov_step_photos"); n != 1 {
			t.Errorf("%d photos stored (a refused step stored some)", n)
		}
		ms, err := f.svc.Goals(f.ctx, fx.ShaxianVillage, 2026)
		if err != nil || len(ms) != 1 {
			t.Errorf("goals %d %v", len(ms), err)
		}
	})
}
