package window_test

import (
	"bytes"
	"errors"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"testing"
	"time"

	"github.com/shequ-platform/shequ/internal/platform/db"
	"github.com/shequ-platform/shequ/internal/platform/db/dbtest"
	"github.com/shequ-platform/shequ/internal/platform/pii"
	"github.com/shequ-platform/shequ/internal/platform/policy"
	"github.com/shequ-platform/shequ/internal/window"
)

// aid is a valid intake of 临时救助 (XS-MZ-02: decided at the township, 15
// working days, three required materials).
func aid(decision string, materials ...string) window.Intake {
	return window.Intake{Unit: villageA, ItemCode: "XS-MZ-02", Channel: window.ChannelWindow, Name: "李四", Phone: "13912345678",
		Fields:    map[string]string{"hardship_type": "illness", "amount": "5000", "reason": "住院"},
		Materials: materials, Decision: decision}
}

var allAid = []string{"application", "id_card", "hardship_proof"}

func TestIntakeRefusesBadInputAndStoresNothing(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		f := newFixture(t, d)
		cases := []struct {
			name string
			in   func(in *window.Intake)
			want string
		}{
			{"unknown item", func(in *window.Intake) { in.ItemCode = "XS-NOPE-1" }, "item:item_unknown"},
			{"missing required field", func(in *window.Intake) { delete(in.Fields, "reason") }, "field.reason:required"},
			{"number not a number", func(in *window.Intake) { in.Fields["amount"] = "五千" }, "field.amount:number"},
			{"number out of range", func(in *window.Intake) { in.Fields["amount"] = "0" }, "field.amount:number_range"},
			{"choice not listed", func(in *window.Intake) { in.Fields["hardship_type"] = "lottery" }, "field.hardship_type:choice"},
			{"field the item lacks", func(in *window.Intake) { in.Fields["colour"] = "red" }, "field.colour:field_unknown"},
			{"material the item lacks", func(in *window.Intake) { in.Materials = append(in.Materials, "passport") }, "materials:material_unknown"},
			{"materials missing on accept", func(in *window.Intake) { in.Materials = []string{"id_card"} }, "materials:materials_missing"},
			{"bad phone", func(in *window.Intake) { in.Phone = "12345" }, "phone:phone"},
			{"no phone for a walk-in", func(in *window.Intake) { in.Phone = "" }, "phone:required"},
			{"bad ID number", func(in *window.Intake) { in.IDNumber = "320205199001011235" }, "id_number:id_checksum"},
			{"reject without reason", func(in *window.Intake) { in.Decision = window.DecideReject }, "note:reason_required"},
			{"unit is a county", func(in *window.Intake) { in.Unit = county }, "unit:unit_level"},
		}
		for _, tc := range cases {
			in := aid(window.DecideAccept, allAid...)
			tc.in(&in)
			_, err := f.svc.Intake(f.ctx, f.admin, in)
			wantFieldError(t, err, tc.want)
		}
		if _, err := f.svc.Intake(f.ctx, f.townStaffB, aid(window.DecideAccept, allAid...)); !errors.Is(err, window.ErrForbidden) {
			t.Fatalf("another township's staff: %v", err)
		}
		if n := f.count("SELECT COUNT(*) FROM cases"); n != 0 {
			t.Fatalf("%d cases stored from bad input", n)
		}
		if n := f.count("SELECT COUNT(*) FROM facts WHERE metric LIKE 'window.%'"); n != 0 {
			t.Fatalf("%d facts from bad input", n)
		}
	})
}

func TestAcceptedCaseDeadlineSkipsNationalDay(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		f := newFixture(t, d)
		c, err := f.svc.Intake(f.ctx, f.villageStaff, walkin(window.DecideAccept))
		if err != nil {
			t.Fatal(err)
		}
		if !regexp.MustCompile(`^320205001001-20260930-0001$`).MatchString(c.Number) {
			t.Fatalf("number %q", c.Number)
		}
		// accepted Wed 30 Sep 2026: 1–7 Oct are holidays, 8 and 9 Oct are
		// working days and Sat 10 Oct is a make-up working day (调休).
		if c.State != window.StateAccepted || c.AcceptedDay != 20260930 || c.Deadline != 20261010 {
			t.Fatalf("case %+v", c)
		}
		if c.PhoneMasked != "138****5678" {
			t.Fatalf("phone shown as %q", c.PhoneMasked)
		}
		var stored string
		if err := f.d.QueryRow(f.ctx, "SELECT phone FROM cases WHERE id = ?", c.ID).Scan(&stored); err != nil || stored == "" || stored == "13812345678" {
			t.Fatalf("phone stored as %q (%v), want ciphertext", stored, err)
		}
		c2, err := f.svc.Intake(f.ctx, f.villageStaff, walkin(window.DecideAccept))
		if err != nil || c2.Number != "320205001001-20260930-0002" {
			t.Fatalf("second number %q %v", c2.Number, err)
		}
		if got := f.sum(window.MetricAccepted, county); got != 2 {
			t.Fatalf("accepted = %d", got)
		}
		if got := f.sum(window.Metric(window.MetricAccepted, window.DimCategory, "convenience"), townA); got != 2 {
			t.Fatalf("accepted by category = %d", got)
		}
		// overdue after the deadline, not on it
		if c.Overdue(20261010) || !c.Overdue(20261011) {
			t.Fatal("overdue")
		}
	})
}

func TestTransferUpToDepartmentAndBackCompleteRate(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		f := newFixture(t, d)
		in := aid(window.DecideAccept, allAid...)
		in.Agency = true
		c, err := f.svc.Intake(f.ctx, f.villageStaff, in)
		if err != nil {
			t.Fatal(err)
		}
		if got := f.sum(window.MetricAgency, villageA); got != 1 {
			t.Fatalf("agency = %d", got)
		}
		// the village carries it to the township
		c = f.do(f.villageStaff, c.ID, window.Action{Kind: window.ActTransfer, Note: "代办上报"})
		if c.Holder != townA || c.HolderLevel != policy.LevelTownship || c.State != window.StateAccepted {
			t.Fatalf("after transfer %+v", c)
		}
		// now the village may no longer act on it, only see it
		if _, err := f.svc.Do(f.ctx, f.villageStaff, c.ID, window.Action{Kind: window.ActComplete, Outcome: window.OutcomeApproved}); !errors.Is(err, window.ErrForbidden) {
			t.Fatalf("village completing a township case: %v", err)
		}
		if _, err := f.svc.Get(f.ctx, f.villageStaff, c.ID); err != nil {
			t.Fatalf("the accepting village must still see it: %v", err)
		}
		// another township sees nothing
		if _, err := f.svc.Get(f.ctx, f.townStaffB, c.ID); !errors.Is(err, db.ErrNotFound) {
			t.Fatalf("other township: %v", err)
		}
		// township → county department → back down to the township
		c = f.do(f.townStaffA, c.ID, window.Action{Kind: window.ActTransfer, ToDepartment: true, Department: "区民政局"})
		if c.Holder != county || c.HolderLevel != policy.LevelDepartment || c.Department != "区民政局" {
			t.Fatalf("after transfer to department %+v", c)
		}
		if _, err := f.svc.Do(f.ctx, f.countyStaff, c.ID, window.Action{Kind: window.ActTransfer}); err == nil {
			t.Fatal("transfer above a department")
		}
		if _, err := f.svc.Do(f.ctx, f.countyStaff, c.ID, window.Action{Kind: window.ActReturn}); err == nil {
			t.Fatal("return without a reason")
		}
		c = f.do(f.countyStaff, c.ID, window.Action{Kind: window.ActReturn, Note: "属乡镇审批权限"})
		c = f.do(f.countyStaff, c.ID, window.Action{Kind: window.ActReturn, Note: "请街道办理"})
		if c.Holder != townA || c.HolderLevel != policy.LevelTownship {
			t.Fatalf("after return %+v", c)
		}
		// assign to the township clerk and complete on time
		c = f.do(f.townStaffA, c.ID, window.Action{Kind: window.ActAssign})
		if c.State != window.StateHandling || c.HandlerID != f.townStaffA.UserID {
			t.Fatalf("assign %+v", c)
		}
		if _, err := f.svc.Do(f.ctx, f.townStaffA, c.ID, window.Action{Kind: window.ActAssign, HandlerID: f.townStaffB.UserID}); err == nil {
			t.Fatal("assigned to someone who may not handle cases here")
		}
		hs, err := f.svc.ByHandler(f.ctx, f.townStaffA, window.Filter{View: window.ViewOpen})
		if err != nil || len(hs) != 1 || hs[0].ID != f.townStaffA.UserID || hs[0].N != 1 {
			t.Fatalf("by handler %+v %v", hs, err)
		}
		if l, _ := f.svc.List(f.ctx, f.townStaffA, window.Filter{View: window.ViewOpen, Handler: -1}); len(l.Cases) != 0 {
			t.Fatal("unassigned list holds an assigned case")
		}
		f.now = f.now.AddDate(0, 0, 10)
		c = f.do(f.townStaffA, c.ID, window.Action{Kind: window.ActComplete, Outcome: window.OutcomeApproved, Note: "核准救助 5000 元"})
		if c.State != window.StateCompleted || !c.OnTime || c.ClosedDay != 20261010 {
			t.Fatalf("complete %+v", c)
		}
		if f.sum(window.MetricCompleted, county) != 1 || f.sum(window.MetricOnTime, county) != 1 {
			t.Fatal("completion facts")
		}
		// illegal steps on a closed case
		var te *window.TransitionError
		if _, err := f.svc.Do(f.ctx, f.townStaffA, c.ID, window.Action{Kind: window.ActTransfer}); !errors.As(err, &te) {
			t.Fatalf("transfer after completion: %v", err)
		}
		// the public side: wrong digits and wrong numbers look the same
		if _, _, err := f.svc.Lookup(f.ctx, c.Number, "0000"); !errors.Is(err, window.ErrNoMatch) {
			t.Fatalf("wrong digits: %v", err)
		}
		if _, _, err := f.svc.Lookup(f.ctx, "320205001001-20260930-9999", "5678"); !errors.Is(err, window.ErrNoMatch) {
			t.Fatalf("wrong number: %v", err)
		}
		got, steps, err := f.svc.Lookup(f.ctx, c.Number, "5678")
		if err != nil || got.ID != c.ID || len(steps) != 7 {
			t.Fatalf("lookup %v, %d steps", err, len(steps))
		}
		if _, err := f.svc.Rate(f.ctx, c.Number, "5678", 9, ""); err == nil {
			t.Fatal("rating 9")
		}
		if _, err := f.svc.Rate(f.ctx, c.Number, "5678", 5, "很快"); err != nil {
			t.Fatal(err)
		}
		if _, err := f.svc.Rate(f.ctx, c.Number, "5678", 1, ""); !errors.As(err, &te) {
			t.Fatalf("second rating: %v", err)
		}
		if f.sum(window.MetricRated, county) != 1 || f.sum(window.MetricRating(5), villageA) != 1 || f.sum(window.MetricRatingSum, county) != 5 {
			t.Fatal("rating facts")
		}
		// every step is audited
		if n := f.count("SELECT COUNT(*) FROM audit_log WHERE entity = 'case' AND entity_id = ? AND action <> 'denied'", strconv.FormatInt(c.ID, 10)); n != 8 {
			t.Fatalf("%d audit entries", n)
		}
	})
}

func TestSupplementStopsTheClock(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		f := newFixture(t, d)
		// asked at intake: not accepted, no deadline, accepted when whole
		c, err := f.svc.Intake(f.ctx, f.villageStaff, aid(window.DecideSupplement, "id_card"))
		if err != nil {
			t.Fatal(err)
		}
		if c.State != window.StateSupplement || c.Deadline != 0 || c.Overdue(20991231) {
			t.Fatalf("supplement at intake %+v", c)
		}
		if f.sum(window.MetricAccepted, county) != 0 {
			t.Fatal("counted as accepted before the file is whole")
		}
		if _, err := f.svc.Do(f.ctx, f.villageStaff, c.ID, window.Action{Kind: window.ActResume, Materials: []string{"id_card", "application"}}); err == nil {
			t.Fatal("resumed with a material still missing")
		}
		f.now = time.Date(2026, 10, 12, 9, 0, 0, 0, china) // Monday
		c = f.do(f.villageStaff, c.ID, window.Action{Kind: window.ActResume, Materials: allAid})
		if c.State != window.StateAccepted || c.AcceptedDay != 20261012 || c.Deadline != 20261102 {
			t.Fatalf("resumed %+v", c)
		}
		// asked later: the days waited push the deadline back
		c = f.do(f.villageStaff, c.ID, window.Action{Kind: window.ActSupplement, Note: "收入证明不清晰"})
		f.now = time.Date(2026, 10, 16, 9, 0, 0, 0, china) // Friday: 4 working days later
		c = f.do(f.villageStaff, c.ID, window.Action{Kind: window.ActResume})
		if c.State != window.StateAccepted || c.PausedDays != 4 || c.Deadline != 20261106 {
			t.Fatalf("after pause %+v", c)
		}
		var te *window.TransitionError
		if _, err := f.svc.Do(f.ctx, f.villageStaff, c.ID, window.Action{Kind: window.ActResume}); !errors.As(err, &te) {
			t.Fatalf("resume while running: %v", err)
		}
	})
}

func TestPhoneHelpCallAndReject(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		f := newFixture(t, d)
		in := walkin(window.DecideSubmit)
		in.Channel = window.ChannelPhone
		c, err := f.svc.Intake(f.ctx, f.villageStaff, in)
		if err != nil || c.State != window.StateSubmitted || c.Channel != window.ChannelPhone {
			t.Fatalf("phone call %+v %v", c, err)
		}
		var te *window.TransitionError
		if _, err := f.svc.Do(f.ctx, f.villageStaff, c.ID, window.Action{Kind: window.ActComplete, Outcome: window.OutcomeApproved}); !errors.As(err, &te) {
			t.Fatalf("complete before accept: %v", err)
		}
		c = f.do(f.villageStaff, c.ID, window.Action{Kind: window.ActReject, Note: "不属于本社区事项"})
		if c.State != window.StateRejected || c.Reason == "" {
			t.Fatalf("reject %+v", c)
		}
		if f.sum(window.MetricRejected, county) != 1 || f.sum(window.Metric(window.MetricAccepted, window.DimChannel, "phone"), county) != 0 {
			t.Fatal("facts")
		}
		l, err := f.svc.List(f.ctx, f.villageStaff, window.Filter{View: window.ViewClosed})
		if err != nil || len(l.Cases) != 1 {
			t.Fatalf("closed list %d %v", len(l.Cases), err)
		}
	})
}

func TestCatalogueOverrides(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		f := newFixture(t, d)
		cat, err := f.svc.Catalogue(f.ctx, villageA)
		if err != nil || cat.Pack != "xishan-2008" {
			t.Fatalf("catalogue %v %v", cat, err)
		}
		it, ok := cat.Item("XS-BM-01")
		if !ok || it.TimeLimit != 3 {
			t.Fatal("pack item")
		}
		it.TimeLimit = 1
		if err := f.svc.SaveItem(f.ctx, f.villageStaff, townA, it.WindowItem); !errors.Is(err, window.ErrForbidden) {
			t.Fatalf("village staff editing the township's catalogue: %v", err)
		}
		if err := f.svc.SaveItem(f.ctx, f.townStaffA, townA, it.WindowItem); err != nil {
			t.Fatal(err)
		}
		bad := it.WindowItem
		bad.TimeLimit, bad.Category = 0, "nope"
		if err := f.svc.SaveItem(f.ctx, f.townStaffA, townA, bad); err == nil {
			t.Fatal("bad item saved")
		}
		for _, tc := range []struct {
			unit  int64
			limit int
		}{{villageA, 1}, {townA, 1}, {villageB, 3}} {
			cat, _ := f.svc.Catalogue(f.ctx, tc.unit)
			if it, _ := cat.Item("XS-BM-01"); it.TimeLimit != tc.limit {
				t.Fatalf("unit %d: limit %d, want %d", tc.unit, it.TimeLimit, tc.limit)
			}
		}
		c, err := f.svc.Intake(f.ctx, f.villageStaff, walkin(window.DecideAccept))
		if err != nil || c.TimeLimit != 1 || c.Deadline != 20261008 {
			t.Fatalf("intake under the override %+v %v", c, err)
		}
		if err := f.svc.SetItemDisabled(f.ctx, f.townStaffA, townA, "XS-BM-01", true); err != nil {
			t.Fatal(err)
		}
		_, err = f.svc.Intake(f.ctx, f.villageStaff, walkin(window.DecideAccept))
		wantFieldError(t, err, "item:item_unknown")
		if err := f.svc.ResetItem(f.ctx, f.townStaffA, townA, "XS-BM-01"); err != nil {
			t.Fatal(err)
		}
		cat, _ = f.svc.Catalogue(f.ctx, villageA)
		if it, ok := cat.Item("XS-BM-01"); !ok || it.TimeLimit != 3 {
			t.Fatal("reset")
		}
	})
}

func TestCompleteAtTheItemsLevelAndNoPauseWhenOverdue(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		f := newFixture(t, d)
		c, err := f.svc.Intake(f.ctx, f.villageStaff, aid(window.DecideAccept, allAid...))
		if err != nil {
			t.Fatal(err)
		}
		_, err = f.svc.Do(f.ctx, f.villageStaff, c.ID, window.Action{Kind: window.ActComplete, Outcome: window.OutcomeApproved})
		wantFieldError(t, err, "outcome:complete_level")
		f.now = f.now.AddDate(0, 2, 0) // long past the 15 working days
		_, err = f.svc.Do(f.ctx, f.villageStaff, c.ID, window.Action{Kind: window.ActSupplement, Note: "再补一份证明"})
		wantFieldError(t, err, "note:supplement_overdue")
		c = f.do(f.villageStaff, c.ID, window.Action{Kind: window.ActTransfer})
		c = f.do(f.townStaffA, c.ID, window.Action{Kind: window.ActComplete, Outcome: window.OutcomeDenied, Note: "不符合条件"})
		if c.OnTime || f.sum(window.MetricCompleted, county) != 1 || f.sum(window.MetricOnTime, county) != 0 {
			t.Fatalf("late completion %+v", c)
		}
	})
}

func TestKeyRotationCoversCasesAndAttachments(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		f := newFixture(t, d)
		c, err := f.svc.Intake(f.ctx, f.villageStaff, walkin(window.DecideAccept))
		if err != nil {
			t.Fatal(err)
		}
		scan := append([]byte("%PDF-1.4\n"), make([]byte, 2000)...)
		a, err := f.svc.Attach(f.ctx, f.villageStaff, c.ID, `C:\扫描\身份证.pdf`, bytes.NewReader(scan))
		if err != nil || a.Name != "身份证.pdf" || a.ContentType != "application/pdf" {
			t.Fatalf("attach %+v %v", a, err)
		}
		if _, err := f.svc.Attach(f.ctx, f.villageStaff, c.ID, "x.exe", bytes.NewReader([]byte("MZ\x90\x00 not a scan"))); err == nil {
			t.Fatal("an executable attached")
		}
		raw, _ := os.ReadFile(filepath.Join(f.svc.Attachments, filepath.FromSlash(a.Path)))
		if bytes.Contains(raw, []byte("%PDF")) {
			t.Fatal("attachment stored in the clear")
		}
		next, err := f.svc.Keys.Rotated()
		if err != nil {
			t.Fatal(err)
		}
		if f.svc.Keys, err = pii.New(next); err != nil {
			t.Fatal(err)
		}
		n, err := f.svc.Reencrypt(f.ctx, nil)
		if err != nil || n != 2 {
			t.Fatalf("re-encrypted %d: %v", n, err)
		}
		if f.svc.Keys, err = pii.New(f.svc.Keys.Retired()); err != nil {
			t.Fatal(err)
		}
		if _, data, err := f.svc.Attachment(f.ctx, f.villageStaff, c.ID, a.ID); err != nil || !bytes.Equal(data, scan) {
			t.Fatalf("attachment after rotation: %v", err)
		}
		if _, _, err := f.svc.Lookup(f.ctx, c.Number, "5678"); err != nil {
			t.Fatalf("look-up after rotation: %v", err)
		}
	})
}
