package grid_test

import (
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/shequ-platform/shequ/internal/grid"
	"github.com/shequ-platform/shequ/internal/platform/access"
	"github.com/shequ-platform/shequ/internal/platform/db"
	"github.com/shequ-platform/shequ/internal/platform/db/dbtest"
	"github.com/shequ-platform/shequ/internal/platform/pii"
	"github.com/shequ-platform/shequ/internal/registry"
)

// idNumber completes area (6 digits), birth (YYYYMMDD) and a 3-digit
// sequence into a citizen ID number with its GB 11643 check character.
func idNumber(area, birth, seq string) string {
	body := area + birth + seq
	weights := []int{7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2}
	sum := 0
	for i, c := range body {
		sum += int(c-'0') * weights[i]
	}
	return body + string("10X98765432"[sum%11])
}

// special is a resident of grid A1 under community correction, another
// who is elderly and alone (an ordinary tag), both in one household.
type special struct {
	corrected, elderly registry.Resident
	household          registry.Household
}

func (f *fixture) specialResidents() special {
	f.t.Helper()
	h := f.patrolHousehold(f.gridA1, "8号", true)
	return special{household: h,
		corrected: f.patrolResident(h.ID, "王矫正", idNumber("320205", "19800131", "123"), map[string]string{"community_correction": "", "elderly_alone": ""}),
		elderly:   f.patrolResident(h.ID, "李独居", "", map[string]string{"elderly_alone": ""}),
	}
}

// followUp is a valid follow-up of the corrected resident.
func followUp(s special) grid.FollowUp {
	return grid.FollowUp{ResidentID: s.corrected.ID, Tag: "community_correction", Kind: grid.FollowUpVisit,
		Note: "本人在家，情绪稳定，按时报到", NextDay: 20261015}
}

func (f *fixture) audits(action, entity string) int {
	f.t.Helper()
	return f.count(`SELECT COUNT(*) FROM audit_log WHERE action = ? AND entity = ?`, action, entity)
}

func TestFollowUpNeedsSpecialPermission(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		f := newFixture(t, d)
		s := f.specialResidents()
		officerB := f.specialOfficer("officerb", townB)
		for name, p := range map[string]*access.Principal{"grid worker": f.workerA1, "village staff": f.villageStaff,
			"township staff": f.townStaffA, "county staff": f.countyStaff, "viewer": f.viewer, "other township's officer": officerB, "nobody": nil} {
			denied := f.audits("denied", "followup") + f.audits("denied", "resident") + f.audits("denied", "special_groups")
			if _, err := f.svc.Record(f.ctx, p, followUp(s)); !errors.Is(err, db.ErrNotFound) {
				t.Errorf("%s recorded: %v", name, err)
			}
			if _, _, err := f.svc.ResidentFollowUps(f.ctx, p, s.corrected.ID); !errors.Is(err, db.ErrNotFound) {
				t.Errorf("%s read the follow-ups: %v", name, err)
			}
			if _, _, _, err := f.svc.FollowUpList(f.ctx, p, grid.FollowUpFilter{Unit: villageA}); !errors.Is(err, db.ErrNotFound) {
				t.Errorf("%s read the list: %v", name, err)
			}
			after := f.audits("denied", "followup") + f.audits("denied", "resident") + f.audits("denied", "special_groups")
			if after != denied+3 {
				t.Errorf("%s: %d refusals audited, want 3", name, after-denied)
			}
		}
		if n := f.count(`SELECT COUNT(*) FROM followups`); n != 0 {
			t.Fatalf("%d follow-ups stored by refused calls", n)
		}
		if n := f.audits("reveal", "followup"); n != 0 {
			t.Fatalf("%d reads audited for refused calls", n)
		}
		// the officer of the township may
		fu, err := f.svc.Record(f.ctx, f.officer, followUp(s))
		if err != nil {
			t.Fatal(err)
		}
		if fu.Day != 20260930 || fu.Division != f.gridA1 || fu.WorkerID != f.officer.UserID {
			t.Errorf("recorded: %+v", fu)
		}
		// a grid worker who is also the special-groups officer of the grid's village may too
		both := f.specialOfficer("workerofficer", villageA)
		if _, err := f.acc.Assign(f.ctx, f.admin, both.UserID, "grid_worker", f.gridA1); err != nil {
			t.Fatal(err)
		}
		if both, err = f.acc.PrincipalOf(f.ctx, both.UserID); err != nil {
			t.Fatal(err)
		}
		if _, _, err := f.svc.ResidentFollowUps(f.ctx, both, s.corrected.ID); err != nil {
			t.Errorf("worker and officer: %v", err)
		}
	})
}

// specialOfficer creates a special_groups_officer at div.
func (f *fixture) specialOfficer(name string, div int64) *access.Principal {
	f.t.Helper()
	u, err := f.acc.CreateUser(f.ctx, nil, access.NewUser{Username: name, DisplayName: name, Password: "Correct-Horse-9-battery",
		Role: "special_groups_officer", Division: div})
	if err != nil {
		f.t.Fatal(err)
	}
	p, err := f.acc.PrincipalOf(f.ctx, u.ID)
	if err != nil {
		f.t.Fatal(err)
	}
	return p
}

func TestFollowUpRecordSealedAndAudited(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		f := newFixture(t, d)
		s := f.specialResidents()
		fu, err := f.svc.Record(f.ctx, f.officer, followUp(s))
		if err != nil {
			t.Fatal(err)
		}
		// sealed at rest
		var stored string
		if err := d.QueryRow(f.ctx, `SELECT note FROM followups WHERE id = ?`, fu.ID).Scan(&stored); err != nil {
			t.Fatal(err)
		}
		if stored == "" || stored == fu.Note || strings.Contains(stored, "情绪稳定") {
			t.Fatalf("the note is stored in the clear: %q", stored)
		}
		if plain, err := f.svc.Keys.Decrypt(stored); err != nil || plain != "本人在家，情绪稳定，按时报到" {
			t.Fatalf("the sealed note opens to %q, %v", plain, err)
		}
		// neither the note nor the tag in the audit log
		if n := f.count(`SELECT COUNT(*) FROM audit_log WHERE entity = 'followup' AND action = 'create'`); n != 1 {
			t.Fatalf("%d create entries", n)
		}
		if n := f.count(`SELECT COUNT(*) FROM audit_log WHERE changes LIKE ? OR changes LIKE ?`, "%情绪%", "%community_correction%followup%"); n != 0 {
			t.Errorf("the log holds the note")
		}
		if got := f.sum(grid.MetricFollowUps, townA); got != 1 {
			t.Errorf("follow-ups counted: %d", got)
		}

		// every read is audited
		f.now = time.Date(2026, 10, 8, 9, 0, 0, 0, china)
		second := followUp(s)
		second.Kind, second.Note, second.Day, second.NextDay = grid.FollowUpPhone, "电话联系，本人外出务工", 20261008, 0
		if _, err := f.svc.Record(f.ctx, f.officer, second); err != nil {
			t.Fatal(err)
		}
		before := f.audits("reveal", "followup")
		res, fs, err := f.svc.ResidentFollowUps(f.ctx, f.officer, s.corrected.ID)
		if err != nil {
			t.Fatal(err)
		}
		if res.ID != s.corrected.ID || len(fs) != 2 || fs[0].Note != "电话联系，本人外出务工" || fs[1].Note != "本人在家，情绪稳定，按时报到" || fs[1].NextDay != 20261015 {
			t.Fatalf("follow-ups: %+v", fs)
		}
		if _, _, _, err := f.svc.FollowUpList(f.ctx, f.officer, grid.FollowUpFilter{Unit: villageA}); err != nil {
			t.Fatal(err)
		}
		if _, _, _, err := f.svc.FollowUpList(f.ctx, f.officer, grid.FollowUpFilter{View: grid.FollowUpAll}); err != nil {
			t.Fatal(err)
		}
		if got := f.audits("reveal", "followup"); got != before+3 {
			t.Errorf("%d reads audited, want 3", got-before)
		}

		// key rotation re-seals the notes
		file, err := f.svc.Keys.Rotated()
		if err != nil {
			t.Fatal(err)
		}
		if f.svc.Keys, err = pii.New(file); err != nil {
			t.Fatal(err)
		}
		n, err := f.svc.ReencryptFollowups(f.ctx, nil)
		if err != nil || n != 2 {
			t.Fatalf("re-encrypted %d: %v", n, err)
		}
		if err := d.QueryRow(f.ctx, `SELECT note FROM followups WHERE id = ?`, fu.ID).Scan(&stored); err != nil {
			t.Fatal(err)
		}
		if pii.Version(stored) != file.Current {
			t.Errorf("note sealed with version %d, want %d", pii.Version(stored), file.Current)
		}
		if _, fs, err := f.svc.ResidentFollowUps(f.ctx, f.officer, s.corrected.ID); err != nil || fs[1].Note != "本人在家，情绪稳定，按时报到" {
			t.Fatalf("after rotation: %v", err)
		}
		if n, err := f.svc.ReencryptFollowups(f.ctx, nil); err != nil || n != 0 {
			t.Errorf("second run re-encrypted %d: %v", n, err)
		}
	})
}

func TestFollowUpInput(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		f := newFixture(t, d)
		s := f.specialResidents()
		cases := []struct {
			name string
			in   func(*grid.FollowUp)
			want string
		}{
			{"an ordinary tag the resident carries", func(fu *grid.FollowUp) { fu.Tag = "elderly_alone" }, "tag:followup_tag"},
			{"a restricted tag the resident does not carry", func(fu *grid.FollowUp) { fu.Tag = "drug_rehab" }, "tag:followup_tag"},
			{"a tag that does not exist", func(fu *grid.FollowUp) { fu.Tag = "vip" }, "tag:followup_tag"},
			{"no tag", func(fu *grid.FollowUp) { fu.Tag = " " }, "tag:followup_tag_required"},
			{"a resident in no special group", func(fu *grid.FollowUp) { fu.ResidentID = s.elderly.ID; fu.Tag = "community_correction" }, "tag:followup_tag"},
			{"unknown kind", func(fu *grid.FollowUp) { fu.Kind = "letter" }, "kind:followup_kind"},
			{"a day in the future", func(fu *grid.FollowUp) { fu.Day = 20261001 }, "day:followup_day_future"},
			{"not a day", func(fu *grid.FollowUp) { fu.Day = 20260931 }, "day:followup_day_invalid"},
			{"next day not after the day", func(fu *grid.FollowUp) { fu.Day, fu.NextDay = 20260920, 20260920 }, "next_day:followup_next_day"},
			{"next day not a day", func(fu *grid.FollowUp) { fu.NextDay = 20261350 }, "next_day:followup_next_day"},
			{"no note", func(fu *grid.FollowUp) { fu.Note = "  " }, "note:followup_note_required"},
			{"note too long", func(fu *grid.FollowUp) { fu.Note = strings.Repeat("情", 2001) }, "note:followup_note_too_long"},
		}
		for _, c := range cases {
			in := followUp(s)
			c.in(&in)
			_, err := f.svc.Record(f.ctx, f.officer, in)
			if err == nil {
				t.Errorf("%s: accepted", c.name)
				continue
			}
			wantFieldError(t, err, c.want)
		}
		if n := f.count(`SELECT COUNT(*) FROM followups`); n != 0 {
			t.Fatalf("%d follow-ups stored by invalid input", n)
		}
		// once the tag is taken off, the resident is no longer followed up for it
		if err := f.reg.SetTag(f.ctx, f.admin, s.corrected.ID, "community_correction", "", false); err != nil {
			t.Fatal(err)
		}
		_, err := f.svc.Record(f.ctx, f.officer, followUp(s))
		wantFieldError(t, err, "tag:followup_tag")
	})
}

func TestFollowUpList(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		f := newFixture(t, d)
		f.specialResidents() // community correction in grid A1, never followed up yet
		h2 := f.patrolHousehold(f.gridA2, "9号", true)
		drug := f.patrolResident(h2.ID, "赵康复", "", map[string]string{"drug_rehab": ""})
		mental := f.patrolResident(h2.ID, "钱精神", "", map[string]string{"severe_mental_illness": ""})
		hb := f.patrolHousehold(f.gridB1, "10号", true)
		f.patrolResident(hb.ID, "孙释放", "", map[string]string{"released_prisoner": ""}) // township B

		// drug: followed up on the 1st of September, next due on the 20th (overdue);
		// mental: followed up today, next due in a month (not due)
		rec := func(r registry.Resident, tag string, day, next int) {
			t.Helper()
			if _, err := f.svc.Record(f.ctx, f.officer, grid.FollowUp{ResidentID: r.ID, Tag: tag, Kind: grid.FollowUpTalk, Day: day,
				Note: "例行随访", NextDay: next}); err != nil {
				t.Fatal(err)
			}
		}
		rec(drug, "drug_rehab", 20260825, 20260901)
		rec(drug, "drug_rehab", 20260901, 20260920)
		rec(mental, "severe_mental_illness", 20260930, 20261030)

		rows, counts, more, err := f.svc.FollowUpList(f.ctx, f.officer, grid.FollowUpFilter{Unit: villageA, View: grid.FollowUpAll})
		if err != nil || more {
			t.Fatal(err, more)
		}
		if counts != (grid.FollowUpCounts{All: 3, Due: 2, Overdue: 1}) {
			t.Errorf("counts: %+v", counts)
		}
		var names []string
		for _, r := range rows {
			names = append(names, r.Name)
		}
		// overdue, then due (never followed up), then by the next day
		if strings.Join(names, ",") != "赵康复,王矫正,钱精神" {
			t.Fatalf("order: %v", names)
		}
		if r := rows[0]; !r.Overdue || !r.Due || r.LastDay != 20260901 || r.NextDay != 20260920 || r.LastTag != "drug_rehab" {
			t.Errorf("overdue row: %+v", r)
		}
		if r := rows[1]; !r.Never() || !r.Due || r.Overdue || r.IDMasked == "" || strings.Contains(r.IDMasked, "19800131") {
			t.Errorf("never followed up: %+v", r)
		}
		if r := rows[2]; r.Due || r.Overdue || r.NextDay != 20261030 {
			t.Errorf("not due: %+v", r)
		}
		due, _, _, err := f.svc.FollowUpList(f.ctx, f.officer, grid.FollowUpFilter{Unit: villageA})
		if err != nil || len(due) != 2 {
			t.Fatalf("due by default: %d %v", len(due), err)
		}
		overdue, _, _, err := f.svc.FollowUpList(f.ctx, f.officer, grid.FollowUpFilter{Unit: villageA, View: grid.FollowUpOverdue})
		if err != nil || len(overdue) != 1 || overdue[0].ID != drug.ID {
			t.Fatalf("overdue: %+v %v", overdue, err)
		}
		// one grid; paging
		a2, _, _, err := f.svc.FollowUpList(f.ctx, f.officer, grid.FollowUpFilter{Unit: f.gridA2, View: grid.FollowUpAll})
		if err != nil || len(a2) != 2 {
			t.Fatalf("grid A2: %d %v", len(a2), err)
		}
		page, _, more, err := f.svc.FollowUpList(f.ctx, f.officer, grid.FollowUpFilter{Unit: villageA, View: grid.FollowUpAll, Limit: 2, Offset: 2})
		if err != nil || len(page) != 1 || more || page[0].ID != mental.ID {
			t.Fatalf("page 2: %+v %v %v", page, more, err)
		}
		// the officer's scope is township A: the resident of township B is not there
		all, _, _, err := f.svc.FollowUpList(f.ctx, f.officer, grid.FollowUpFilter{View: grid.FollowUpAll})
		if err != nil || len(all) != 3 {
			t.Fatalf("township A: %d %v", len(all), err)
		}
		if _, _, _, err := f.svc.FollowUpList(f.ctx, f.officer, grid.FollowUpFilter{Unit: villageB}); !errors.Is(err, db.ErrNotFound) {
			t.Fatalf("village B: %v", err)
		}
		// the administrator sees the whole country
		if all, counts, _, err := f.svc.FollowUpList(f.ctx, f.admin, grid.FollowUpFilter{Unit: county, View: grid.FollowUpAll}); err != nil || len(all) != 4 || counts.Due != 3 {
			t.Fatalf("county: %d %+v %v", len(all), counts, err)
		}
	})
}
