package mediation_test

import (
	"errors"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/shequ-platform/shequ/internal/grid/mediation"
	"github.com/shequ-platform/shequ/internal/platform/access"
	"github.com/shequ-platform/shequ/internal/platform/db"
	"github.com/shequ-platform/shequ/internal/platform/db/dbtest"
	"github.com/shequ-platform/shequ/internal/platform/pii"
)

func TestRegisterKeepsPersonalDataMaskedAndSealed(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		f := newFixture(t, d)
		x := f.register(f.villageStaff, f.input())
		if x.Number != "320205001001-TJ20260930-0001" || x.State != mediation.StateOpen || x.Division != villageA || x.County != county ||
			x.OpenedDay != 20260930 || x.MediatorList() != "赵调解、钱调解" || x.CreatedBy != "village名" {
			t.Fatalf("dispute %+v", x)
		}
		got, err := f.svc.Get(f.ctx, f.villageStaff, x.ID)
		if err != nil {
			t.Fatal(err)
		}
		if len(got.Parties) != 2 {
			t.Fatalf("parties %+v", got.Parties)
		}
		zs, out := got.Parties[0], got.Parties[1]
		if zs.ResidentID != f.zhang.ID || zs.Name != "张三" || zs.Gender != "M" || zs.IDMasked != "320205********"+idZhang[14:] ||
			zs.PhoneMasked != "138****5678" || zs.Address != "门楼路8号" || zs.Side != mediation.SideApplicant {
			t.Fatalf("resident party %+v", zs)
		}
		if out.ResidentID != 0 || out.Name != "孙六" || out.Gender != "M" || out.IDMasked != "320205********"+idOutsider[14:] ||
			out.PhoneMasked != "139****2222" || out.Address != "吼山路3号" {
			t.Fatalf("outsider %+v", out)
		}
		// ciphertexts in the table, never the numbers
		rows, err := f.d.Query(f.ctx, "SELECT id_number, phone FROM dispute_parties ORDER BY id")
		if err != nil {
			t.Fatal(err)
		}
		var plain []string
		for rows.Next() {
			var idn, ph string
			if err := rows.Scan(&idn, &ph); err != nil {
				t.Fatal(err)
			}
			for _, ct := range []string{idn, ph} {
				if ct == "" {
					continue
				}
				v, err := f.keys.Decrypt(ct)
				if err != nil {
					t.Fatalf("not a ciphertext: %q", ct)
				}
				plain = append(plain, v)
			}
		}
		rows.Close()
		// 张三's phone comes sealed from the registry; the outsider's ID number and phone are sealed here
		if strings.Join(plain, ",") != "13812345678,"+idOutsider+",13911112222" {
			t.Fatalf("sealed values %q", plain)
		}
		if n := f.count("SELECT COUNT(*) FROM dispute_parties WHERE id_number LIKE '%320205%' OR phone LIKE '%1391111%'"); n != 0 {
			t.Fatal("a number in clear")
		}
		if got := f.sum(mediation.MetricOpened, villageA); got != 1 {
			t.Fatalf("opened %d", got)
		}
		if got := f.sum(mediation.MetricByType(mediation.MetricOpened, "neighbour"), county); got != 1 {
			t.Fatalf("opened neighbour %d", got)
		}
		if n := f.count("SELECT COUNT(*) FROM audit_log WHERE entity = 'dispute' AND action = 'create'"); n != 1 {
			t.Fatalf("%d audit entries", n)
		}
		// the day's sequence
		in := f.input()
		in.Parties[0] = mediation.PartyInput{Side: mediation.SideApplicant, ResidentID: f.li.ID}
		if y := f.register(f.townStaffA, in); y.Number != "320205001001-TJ20260930-0002" {
			t.Fatalf("second number %s", y.Number)
		}
		// a grid stands for its village; a township registers its own
		in.Unit = villageA + 12
		if y := f.register(f.villageStaff, in); y.Division != villageA || y.Number != "320205001001-TJ20260930-0003" {
			t.Fatalf("from a grid: %+v", y)
		}
		in.Unit = townA
		if y := f.register(f.townStaffA, in); y.Number != "320205001000-TJ20260930-0001" {
			t.Fatalf("at the township: %s", y.Number)
		}
		if !regexp.MustCompile(`^[0-9]{12}-TJ[0-9]{8}-[0-9]{4}$`).MatchString(x.Number) {
			t.Fatal(x.Number)
		}
	})
}

func TestRegisterRefusesBadInputAndStoresNothing(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		f := newFixture(t, d)
		outsider := func(name, id, phone string) mediation.PartyInput {
			return mediation.PartyInput{Side: mediation.SideRespondent, Name: name, IDNumber: id, Phone: phone}
		}
		cases := []struct {
			name string
			p    *access.Principal
			in   func(in *mediation.Input)
			want string
		}{
			{"one party", nil, func(in *mediation.Input) { in.Parties = in.Parties[:1] }, "parties:parties_min"},
			{"no party", nil, func(in *mediation.Input) { in.Parties = nil }, "parties:parties_min"},
			{"no respondent", nil, func(in *mediation.Input) { in.Parties[1].Side = mediation.SideApplicant }, "parties:respondent_required"},
			{"no applicant", nil, func(in *mediation.Input) { in.Parties[0].Side = mediation.SideOther }, "parties:applicant_required"},
			{"unknown side", nil, func(in *mediation.Input) { in.Parties[0].Side = "judge" }, "parties[0].side:side_unknown"},
			{"missing type", nil, func(in *mediation.Input) { in.Type = "" }, "type:required"},
			{"unknown type", nil, func(in *mediation.Input) { in.Type = "divorce" }, "type:type_unknown"},
			{"missing summary", nil, func(in *mediation.Input) { in.Summary = "  " }, "summary:required"},
			{"summary too long", nil, func(in *mediation.Input) { in.Summary = strings.Repeat("争", 4001) }, "summary:too_long"},
			{"no mediator", nil, func(in *mediation.Input) { in.Mediators = []string{" 、 "} }, "mediators:required"},
			{"bad ID number", nil, func(in *mediation.Input) { in.Parties[1] = outsider("孙六", idOutsider[:17]+"0", "") }, "parties[1].id_number:id_checksum"},
			{"short ID number", nil, func(in *mediation.Input) { in.Parties[1] = outsider("孙六", "3202051990", "") }, "parties[1].id_number:id_length"},
			{"bad phone", nil, func(in *mediation.Input) { in.Parties[1] = outsider("孙六", "", "12345") }, "parties[1].phone:phone"},
			{"outsider without a name", nil, func(in *mediation.Input) { in.Parties[1] = outsider("", "", "") }, "parties[1].name:required"},
			{"name with digits", nil, func(in *mediation.Input) { in.Parties[1] = outsider("孙6", "", "") }, "parties[1].name:name_invalid"},
			{"gender against the ID number", nil, func(in *mediation.Input) {
				in.Parties[1] = outsider("孙六", idOutsider, "")
				in.Parties[1].Gender = "F"
			}, "parties[1].gender:gender_mismatch"},
			{"unknown gender", nil, func(in *mediation.Input) { in.Parties[1].Gender = "X" }, "parties[1].gender:gender_unknown"},
			{"same resident twice", nil, func(in *mediation.Input) {
				in.Parties[1] = mediation.PartyInput{Side: mediation.SideRespondent, ResidentID: f.zhang.ID}
			}, "parties[1].resident_id:resident_twice"},
			{"unknown resident", nil, func(in *mediation.Input) { in.Parties[0].ResidentID = 999999 }, "parties[0].resident_id:resident"},
			{"resident the clerk may not see", f.villageStaff, func(in *mediation.Input) { in.Parties[0].ResidentID = f.wang.ID }, "parties[0].resident_id:resident"},
			{"address too long", nil, func(in *mediation.Input) { in.Parties[1].Address = strings.Repeat("路", 201) }, "parties[1].address:too_long"},
			{"a county", f.admin, func(in *mediation.Input) { in.Unit = county }, "unit:unit_level"},
			{"a unit that does not exist", f.admin, func(in *mediation.Input) { in.Unit = 320205009001000 }, "unit:unit_unknown"},
		}
		for _, tc := range cases {
			in := f.input()
			tc.in(&in)
			p := tc.p
			if p == nil {
				p = f.townStaffA
			}
			_, err := f.svc.Register(f.ctx, p, in)
			if err == nil {
				t.Fatalf("%s: registered", tc.name)
			}
			wantFieldError(t, err, tc.want)
		}
		// every problem at once
		in := f.input()
		in.Type, in.Summary, in.Parties[1] = "", "", outsider("", "123", "1")
		got := fieldErrors(t, func() error { _, err := f.svc.Register(f.ctx, f.townStaffA, in); return err }())
		if strings.Join(got, " ") != "type:required summary:required parties[1].name:required parties[1].id_number:id_length parties[1].phone:phone" {
			t.Fatalf("all problems: %q", got)
		}
		// not allowed here: another township, a grid worker (who only sees), a viewer
		for _, p := range []*access.Principal{f.townStaffB, f.gridWorker, f.viewer} {
			if _, err := f.svc.Register(f.ctx, p, f.input()); !errors.Is(err, mediation.ErrForbidden) {
				t.Fatalf("%s: %v", p.Username, err)
			}
		}
		for _, table := range []string{"disputes", "dispute_parties", "grid_counters"} {
			if n := f.count("SELECT COUNT(*) FROM " + table); n != 0 {
				t.Fatalf("%d rows in %s from bad input", n, table)
			}
		}
		if n := f.count("SELECT COUNT(*) FROM facts WHERE metric LIKE 'mediation.%'"); n != 0 {
			t.Fatalf("%d facts from bad input", n)
		}
	})
}

func TestNoDisputeTypesInThePack(t *testing.T) {
	f := newFixtureWith(t, dbtest.SQLite(t), "")
	if ts := f.svc.Types(villageA); len(ts) != 0 {
		t.Fatalf("types %v", ts)
	}
	_, err := f.svc.Register(f.ctx, f.villageStaff, f.input())
	wantFieldError(t, err, "type:no_types")
	if f.svc.TypeLabel(villageA, "neighbour", "zh-CN") != "neighbour" {
		t.Fatal("label of an unknown type")
	}
}

// valid is a complete input of each action.
func valid(kind string) mediation.Action {
	yes := true
	switch kind {
	case mediation.ActSession:
		return mediation.Action{Kind: kind, Place: "村委会调解室", Note: "双方陈述了各自理由，同意各让一步。"}
	case mediation.ActSettle:
		return settle
	case mediation.ActRefer:
		return mediation.Action{Kind: kind, ReferredTo: "锡山区人民法院", Note: "涉及房屋产权确认，需诉讼解决。"}
	case mediation.ActVisit:
		return mediation.Action{Kind: kind, Holding: &yes, Note: "排水沟已疏通，双方相处融洽。"}
	}
	return mediation.Action{Kind: kind, Note: "双方分歧太大。"}
}

// in returns a dispute brought into state.
func (f *fixture) in(state string) mediation.Dispute {
	f.t.Helper()
	x := f.register(f.villageStaff, f.input())
	for _, a := range mediation.Actions {
		if mediation.Target(a) == state {
			return f.do(f.villageStaff, x.ID, valid(a))
		}
	}
	return x
}

func TestEveryTransition(t *testing.T) {
	want := map[string][]string{ // state → the actions it allows
		mediation.StateOpen:      {mediation.ActSession, mediation.ActSettle, mediation.ActFail, mediation.ActRefer, mediation.ActWithdraw},
		mediation.StateSettled:   {mediation.ActVisit},
		mediation.StateFailed:    nil,
		mediation.StateReferred:  nil,
		mediation.StateWithdrawn: nil,
	}
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		f := newFixture(t, d)
		for _, state := range mediation.States {
			for _, a := range append(append([]string{}, mediation.Actions...), "reopen", mediation.ActRegister) {
				allowed := false
				for _, w := range want[state] {
					allowed = allowed || w == a
				}
				if mediation.Allowed(a, state) != allowed {
					t.Fatalf("Allowed(%s, %s) = %v", a, state, !allowed)
				}
				x := f.in(state)
				if x.State != state {
					t.Fatalf("brought to %s, is %s", state, x.State)
				}
				got, err := f.svc.Do(f.ctx, f.villageStaff, x.ID, valid(a))
				if !allowed {
					var te *mediation.TransitionError
					if !errors.As(err, &te) || te.State != state || te.Action != a {
						t.Fatalf("%s in %s: %v", a, state, err)
					}
					if now, _ := f.svc.Get(f.ctx, f.villageStaff, x.ID); now.State != state || now.UpdatedAt != x.UpdatedAt {
						t.Fatalf("%s in %s changed the dispute", a, state)
					}
					continue
				}
				if err != nil {
					t.Fatalf("%s in %s: %v", a, state, err)
				}
				to := mediation.Target(a)
				if to == "" {
					to = state
				}
				if got.State != to || got.Open() != (to == mediation.StateOpen) {
					t.Fatalf("%s in %s: now %s", a, state, got.State)
				}
				if to != state && got.ClosedDay != 20260930 {
					t.Fatalf("closed day %d", got.ClosedDay)
				}
			}
		}
	})
}

func TestActionsRecordAndRefuseBadInput(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		f := newFixture(t, d)
		x := f.register(f.villageStaff, f.input())
		audits := f.count("SELECT COUNT(*) FROM audit_log")
		bad := []struct {
			a    mediation.Action
			want string
		}{
			{mediation.Action{Kind: mediation.ActSession}, "note:required"},
			{mediation.Action{Kind: mediation.ActSession, Note: "x", Day: "2026-10-01"}, "day:day_future"},
			{mediation.Action{Kind: mediation.ActSession, Note: "x", Day: "2026-09-29"}, "day:day_before_open"},
			{mediation.Action{Kind: mediation.ActSession, Note: "x", Day: "九月三十日"}, "day:date"},
			{mediation.Action{Kind: mediation.ActSession, Note: "x", Mediators: []string{strings.Repeat("长", 31)}}, "mediators:mediator_name"},
			{mediation.Action{Kind: mediation.ActSettle, Outcome: "成", Performance: "当场"}, "agreement:required"},
			{mediation.Action{Kind: mediation.ActSettle, Outcome: "成", Agreement: "赔 500 元"}, "performance:required"},
			{mediation.Action{Kind: mediation.ActSettle, Agreement: "赔 500 元", Performance: "当场"}, "outcome:required"},
			{mediation.Action{Kind: mediation.ActFail}, "note:required"},
			{mediation.Action{Kind: mediation.ActWithdraw, Note: " "}, "note:required"},
			{mediation.Action{Kind: mediation.ActRefer, Note: "需诉讼"}, "referred_to:required"},
			{mediation.Action{Kind: mediation.ActRefer, ReferredTo: "法院"}, "note:required"},
		}
		for _, b := range bad {
			_, err := f.svc.Do(f.ctx, f.villageStaff, x.ID, b.a)
			wantFieldError(t, err, b.want)
		}
		if n := f.count("SELECT COUNT(*) FROM dispute_sessions"); n != 0 {
			t.Fatalf("%d sessions from bad input", n)
		}
		if n := f.count("SELECT COUNT(*) FROM audit_log"); n != audits {
			t.Fatalf("%d audit entries from bad input", n-audits)
		}
		if got, _ := f.svc.Get(f.ctx, f.villageStaff, x.ID); got.State != mediation.StateOpen || got.Outcome != "" {
			t.Fatalf("changed by bad input: %+v", got)
		}

		// a session two days after registration, by another mediator
		f.now = f.now.AddDate(0, 0, 2)
		x = f.do(f.villageStaff, x.ID, mediation.Action{Kind: mediation.ActSession, Day: "2026-10-01", Place: "调解室", Mediators: []string{"周律师"},
			Note: "第一次调解。"})
		x = f.do(f.townStaffA, x.ID, mediation.Action{Kind: mediation.ActSession, Note: "第二次调解。"})
		if len(x.Sessions) != 2 || x.Sessions[0].Day != 20261001 || x.Sessions[0].MediatorList() != "周律师" || x.Sessions[1].Day != 20261002 ||
			x.Sessions[1].MediatorList() != "赵调解、钱调解" || x.Sessions[1].Actor != "towna名" {
			t.Fatalf("sessions %+v", x.Sessions)
		}
		x = f.do(f.villageStaff, x.ID, settle)
		if x.State != mediation.StateSettled || x.Agreement != settle.Agreement || x.Performance != settle.Performance || x.Outcome != settle.Outcome ||
			x.ClosedDay != 20261002 {
			t.Fatalf("settled %+v", x)
		}
		if f.sum(mediation.MetricSettled, villageA) != 1 || f.sum(mediation.MetricByType(mediation.MetricSettled, "neighbour"), townA) != 1 {
			t.Fatal("settled facts")
		}
		// no session after the settlement; visits: not before it, holding required
		if _, err := f.svc.Do(f.ctx, f.villageStaff, x.ID, valid(mediation.ActSession)); err == nil {
			t.Fatal("session after settlement")
		}
		_, err := f.svc.Do(f.ctx, f.villageStaff, x.ID, mediation.Action{Kind: mediation.ActVisit, Note: "走访"})
		wantFieldError(t, err, "holding:required")
		no := false
		_, err = f.svc.Do(f.ctx, f.villageStaff, x.ID, mediation.Action{Kind: mediation.ActVisit, Note: "走访", Holding: &no, Day: "2026-10-01"})
		wantFieldError(t, err, "day:day_before_settle")
		f.now = f.now.AddDate(0, 1, 0)
		x = f.do(f.villageStaff, x.ID, mediation.Action{Kind: mediation.ActVisit, Note: "尚未疏通，已督促。", Holding: &no})
		if len(x.Visits) != 1 || x.Visits[0].Holding || x.Visits[0].Day != 20261102 || x.State != mediation.StateSettled {
			t.Fatalf("visit %+v", x.Visits)
		}
		// a referral keeps where it went
		y := f.register(f.villageStaff, f.input())
		y = f.do(f.villageStaff, y.ID, valid(mediation.ActRefer))
		if got, _ := f.svc.Get(f.ctx, f.villageStaff, y.ID); got.ReferredTo != "锡山区人民法院" || got.Agreement != "" || got.Outcome != "涉及房屋产权确认，需诉讼解决。" {
			t.Fatalf("referred %+v", got)
		}
		// every change audited: 2 registrations, 2 sessions, settle, visit, refer
		if n := f.count("SELECT COUNT(*) FROM audit_log WHERE entity = 'dispute' AND action IN ('create', 'update')"); n != 7 {
			t.Fatalf("%d audit entries", n)
		}
	})
}

func TestScopeOtherTownshipSeesNothing(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		f := newFixture(t, d)
		x := f.register(f.villageStaff, f.input())
		denied := f.count("SELECT COUNT(*) FROM audit_log WHERE action = 'denied'")
		if _, err := f.svc.Get(f.ctx, f.townStaffB, x.ID); !errors.Is(err, db.ErrNotFound) {
			t.Fatalf("other township Get: %v", err)
		}
		if _, err := f.svc.ByNumber(f.ctx, f.townStaffB, x.Number); !errors.Is(err, db.ErrNotFound) {
			t.Fatalf("other township ByNumber: %v", err)
		}
		if _, err := f.svc.Do(f.ctx, f.townStaffB, x.ID, valid(mediation.ActSession)); !errors.Is(err, db.ErrNotFound) {
			t.Fatalf("other township Do: %v", err)
		}
		if n := f.count("SELECT COUNT(*) FROM audit_log WHERE action = 'denied'"); n != denied+3 {
			t.Fatalf("%d denials audited", n-denied)
		}
		if l, err := f.svc.List(f.ctx, f.townStaffB, mediation.Filter{}); err != nil || len(l.Disputes) != 0 {
			t.Fatalf("other township's list: %v %v", l, err)
		}
		if l, _ := f.svc.List(f.ctx, f.townStaffB, mediation.Filter{Unit: villageA}); len(l.Disputes) != 0 {
			t.Fatal("other township asking for the village")
		}
		// those who only see: the viewer of the township, the village's grid worker
		for _, p := range []*access.Principal{f.viewer, f.gridWorker} {
			if _, err := f.svc.Get(f.ctx, p, x.ID); err != nil {
				t.Fatalf("%s Get: %v", p.Username, err)
			}
			if _, err := f.svc.Do(f.ctx, p, x.ID, valid(mediation.ActSession)); !errors.Is(err, mediation.ErrForbidden) {
				t.Fatalf("%s Do: %v", p.Username, err)
			}
		}
		// the township's and the county's staff act on the village's dispute
		f.do(f.townStaffA, x.ID, valid(mediation.ActSession))
		f.do(f.countyStaff, x.ID, valid(mediation.ActSettle))
		if n := f.count("SELECT COUNT(*) FROM dispute_sessions"); n != 1 {
			t.Fatalf("%d sessions", n)
		}
	})
}

func TestFactsParentIsTheSumOfChildren(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		f := newFixture(t, d)
		reg := func(p *access.Principal, unit int64, typ string) mediation.Dispute {
			in := f.input()
			in.Unit, in.Type = unit, typ
			in.Parties[0] = mediation.PartyInput{Side: mediation.SideApplicant, Name: "周七"}
			return f.register(p, in)
		}
		// September
		a1 := reg(f.villageStaff, villageA, "neighbour")
		a2 := reg(f.villageStaff, villageA, "family")
		c1 := reg(f.townStaffA, villageC, "land")
		t1 := reg(f.townStaffA, townA, "neighbour") // the township's own committee
		b1 := reg(f.townStaffB, villageB, "neighbour")
		f.do(f.villageStaff, a1.ID, settle)
		f.do(f.townStaffA, c1.ID, valid(mediation.ActFail))
		// October
		f.now = time.Date(2026, 10, 12, 9, 0, 0, 0, china)
		a3 := reg(f.villageStaff, villageA, "neighbour")
		f.do(f.villageStaff, a2.ID, settle)
		f.do(f.townStaffA, t1.ID, settle)
		f.do(f.townStaffB, b1.ID, valid(mediation.ActRefer))
		f.do(f.villageStaff, a3.ID, valid(mediation.ActWithdraw))

		metrics := []string{mediation.MetricOpened, mediation.MetricSettled, mediation.MetricFailed, mediation.MetricReferred, mediation.MetricWithdrawn,
			mediation.MetricByType(mediation.MetricSettled, "neighbour"), mediation.MetricByType(mediation.MetricOpened, "family")}
		own := func(metric string, code int64) int64 { // the unit's own row, not its children's
			var v int64
			if err := f.d.QueryRow(f.ctx, "SELECT COALESCE(SUM(value), 0) FROM facts WHERE metric = ? AND division = ?", metric, code).Scan(&v); err != nil {
				t.Fatal(err)
			}
			return v
		}
		for _, m := range metrics {
			if f.sum(m, county) != f.sum(m, townA)+f.sum(m, townB) {
				t.Errorf("%s: county %d ≠ %d + %d", m, f.sum(m, county), f.sum(m, townA), f.sum(m, townB))
			}
			if f.sum(m, townA) != own(m, townA)+f.sum(m, villageA)+f.sum(m, villageC) {
				t.Errorf("%s: township A is not its own plus its villages'", m)
			}
		}
		for m, want := range map[string]int64{mediation.MetricOpened: 6, mediation.MetricSettled: 3, mediation.MetricFailed: 1,
			mediation.MetricReferred: 1, mediation.MetricWithdrawn: 1} {
			if got := f.sum(m, county); got != want {
				t.Errorf("%s = %d, want %d", m, got, want)
			}
		}

		// the figures of the year for the county, and of October for township A
		fig, err := f.svc.Figures(f.ctx, f.countyStaff, 0, 202601, 202612)
		if err != nil {
			t.Fatal(err)
		}
		if fig.Opened != 6 || fig.Settled != 3 || fig.SettledInVillage != 2 || fig.Failed != 1 || fig.Referred != 1 || fig.Withdrawn != 1 ||
			fig.Running != 0 || fig.SettledByType["neighbour"] != 2 || fig.SettledByType["family"] != 1 {
			t.Fatalf("county figures %+v", fig)
		}
		if r, ok := fig.SettleRate(); !ok || r != 0.6 {
			t.Fatalf("settle rate %v", r)
		}
		if s, ok := fig.VillageShare(); !ok || s < 0.66 || s > 0.67 {
			t.Fatalf("village share %v", s)
		}
		fig, _ = f.svc.Figures(f.ctx, f.townStaffA, 0, 202610, 202610)
		if fig.Opened != 1 || fig.Settled != 2 || fig.SettledInVillage != 1 || fig.Withdrawn != 1 || fig.Referred != 0 {
			t.Fatalf("township A in October %+v", fig)
		}
		// nothing outside one's scope
		if fig, _ := f.svc.Figures(f.ctx, f.townStaffB, townA, 202601, 202612); fig.Opened != 0 || fig.Running != 0 {
			t.Fatalf("township B sees A's figures %+v", fig)
		}
		reg(f.villageStaff, villageA, "land")
		if fig, _ := f.svc.Figures(f.ctx, f.villageStaff, 0, 202601, 202612); fig.Running != 1 || fig.Opened != 4 {
			t.Fatalf("village figures %+v", fig)
		}
	})
}

func TestListFilters(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		f := newFixture(t, d)
		a := f.register(f.villageStaff, f.input())
		in := f.input()
		in.Unit, in.Type, in.Summary = villageC, "land", "承包地边界不清，双方争执。"
		in.Parties[0] = mediation.PartyInput{Side: mediation.SideApplicant, Name: "吴八"}
		c := f.register(f.townStaffA, in)
		f.do(f.villageStaff, a.ID, settle)
		numbers := func(p *access.Principal, fl mediation.Filter) []string {
			t.Helper()
			l, err := f.svc.List(f.ctx, p, fl)
			if err != nil {
				t.Fatal(err)
			}
			var out []string
			for _, x := range l.Disputes {
				if len(x.Parties) != 2 {
					t.Fatalf("parties of %s: %v", x.Number, x.Parties)
				}
				out = append(out, x.Number)
			}
			return out
		}
		for _, tc := range []struct {
			p    *access.Principal
			f    mediation.Filter
			want []string
		}{
			{f.townStaffA, mediation.Filter{}, []string{c.Number, a.Number}},
			{f.villageStaff, mediation.Filter{}, []string{a.Number}},
			{f.townStaffA, mediation.Filter{State: mediation.StateOpen}, []string{c.Number}},
			{f.townStaffA, mediation.Filter{Type: "neighbour"}, []string{a.Number}},
			{f.townStaffA, mediation.Filter{Unvisited: true}, []string{a.Number}},
			{f.townStaffA, mediation.Filter{Q: "吴"}, []string{c.Number}},
			{f.townStaffA, mediation.Filter{Q: "孙六"}, []string{c.Number, a.Number}},
			{f.townStaffA, mediation.Filter{Q: "边界"}, []string{c.Number}},
			{f.townStaffA, mediation.Filter{Q: "320205001002-TJ"}, []string{c.Number}},
			{f.townStaffA, mediation.Filter{Q: "100%_"}, nil},
			{f.townStaffA, mediation.Filter{Unit: villageC}, []string{c.Number}},
			{f.countyStaff, mediation.Filter{Unit: townA}, []string{c.Number, a.Number}},
			{f.townStaffA, mediation.Filter{Limit: 1}, []string{c.Number}},
			{f.townStaffA, mediation.Filter{Limit: 1, Offset: 1}, []string{a.Number}},
		} {
			if got := numbers(tc.p, tc.f); strings.Join(got, ",") != strings.Join(tc.want, ",") {
				t.Errorf("%s %+v: %v, want %v", tc.p.Username, tc.f, got, tc.want)
			}
		}
		if l, _ := f.svc.List(f.ctx, f.townStaffA, mediation.Filter{Limit: 1}); !l.More {
			t.Error("more")
		}
		f.do(f.villageStaff, a.ID, valid(mediation.ActVisit))
		if got := numbers(f.townStaffA, mediation.Filter{Unvisited: true}); len(got) != 0 {
			t.Errorf("visited still listed: %v", got)
		}
		if n, err := f.svc.Count(f.ctx, f.townStaffA, mediation.Filter{State: mediation.StateSettled}); n != 1 || err != nil {
			t.Errorf("count %d %v", n, err)
		}
	})
}

func TestReencryptRoundTrip(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		f := newFixture(t, d)
		f.register(f.villageStaff, f.input())
		in := f.input()
		in.Parties[1] = mediation.PartyInput{Side: mediation.SideRespondent, Name: "郑九"} // nothing sealed
		f.register(f.villageStaff, in)
		next, err := f.svc.Keys.Rotated()
		if err != nil {
			t.Fatal(err)
		}
		if f.svc.Keys, err = pii.New(next); err != nil {
			t.Fatal(err)
		}
		var seen int64
		n, err := f.svc.Reencrypt(f.ctx, func(k int64) { seen = k })
		if err != nil || n != 3 || seen != 3 { // 张三 twice (phone), the outsider (phone, ID number)
			t.Fatalf("re-encrypted %d (%d): %v", n, seen, err)
		}
		if n, err := f.svc.Reencrypt(f.ctx, nil); err != nil || n != 0 {
			t.Fatalf("second run %d: %v", n, err)
		}
		retired, err := pii.New(f.svc.Keys.Retired())
		if err != nil {
			t.Fatal(err)
		}
		var idn, ph string
		if err := f.d.QueryRow(f.ctx, "SELECT id_number, phone FROM dispute_parties WHERE name = '孙六'").Scan(&idn, &ph); err != nil {
			t.Fatal(err)
		}
		if pii.Version(idn) != next.Current || pii.Version(ph) != next.Current {
			t.Fatalf("versions %d %d", pii.Version(idn), pii.Version(ph))
		}
		if v, err := retired.Decrypt(idn); err != nil || v != idOutsider {
			t.Fatalf("ID number after rotation: %q %v", v, err)
		}
		if v, err := retired.Decrypt(ph); err != nil || v != "13911112222" {
			t.Fatalf("phone after rotation: %q %v", v, err)
		}
	})
}

func TestCommitteeName(t *testing.T) {
	for in, want := range map[string]string{
		"门楼社区居委会":   "门楼社区人民调解委员会",
		"吼山社区居民委员会": "吼山社区人民调解委员会",
		"港下村委会":     "港下村人民调解委员会",
		"港下村村民委员会":  "港下村人民调解委员会",
		"春江村民委员会":   "春江村人民调解委员会",
		"东亭街道":      "东亭街道人民调解委员会",
		" 安镇街道 ":    "安镇街道人民调解委员会",
	} {
		if got := mediation.CommitteeName(in); got != want {
			t.Errorf("%s: %s, want %s", in, got, want)
		}
	}
	if got := mediation.SplitNames("张三、李四", "王五，张三 赵六;"); strings.Join(got, "|") != "张三|李四|王五|赵六" {
		t.Errorf("SplitNames %q", got)
	}
}
