package calendar

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/shequ-platform/shequ/internal/platform/access"
	"github.com/shequ-platform/shequ/internal/platform/audit"
	"github.com/shequ-platform/shequ/internal/platform/db"
	"github.com/shequ-platform/shequ/internal/platform/db/dbtest"
)

var (
	admin  = &access.Principal{UserID: 1, Username: "admin", Assignments: []access.Assignment{{Role: "system_admin", Division: 0}}}
	county = &access.Principal{UserID: 2, Username: "county", Assignments: []access.Assignment{{Role: "county_staff", Division: 320205000000000}}}
)

// clock is a settable time source for a Service.
type clock struct{ t time.Time }

func (c *clock) now() time.Time { return c.t }

// newService returns a seeded service whose clock stands at 2026-11-23 10:00 in China.
func newService(t *testing.T, d *db.DB) (*Service, *clock) {
	t.Helper()
	s := New(d, &audit.Log{DB: d})
	c := &clock{time.Date(2026, 11, 23, 10, 0, 0, 0, china)}
	s.now = c.now
	if err := s.Seed(context.Background()); err != nil {
		t.Fatal(err)
	}
	return s, c
}

func actorCtx() context.Context {
	return audit.WithActor(context.Background(), audit.Actor{ID: 1, Name: "admin", Client: "test"})
}

func countRows(t *testing.T, d *db.DB, where string, args ...any) int {
	t.Helper()
	var n int
	if err := d.QueryRow(context.Background(), "SELECT COUNT(*) FROM calendar_days WHERE "+where, args...).Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n
}

func auditEntries(t *testing.T, d *db.DB, action, entity string) []audit.Record {
	t.Helper()
	rs, err := (&audit.Log{DB: d}).List(context.Background(), audit.Filter{Action: action, Entity: entity, Limit: 1000})
	if err != nil {
		t.Fatal(err)
	}
	return rs
}

func fieldError(t *testing.T, err error, field, reason string) {
	t.Helper()
	var fe *FieldError
	if !errors.As(err, &fe) {
		t.Fatalf("want a *FieldError (%s, %s), got %v", field, reason, err)
	}
	if fe.Field != field || fe.Reason != reason {
		t.Fatalf("want (%s, %s), got (%s, %s): %v", field, reason, fe.Field, fe.Reason, fe)
	}
	if fe.Error() == "" || strings.Contains(fe.Error(), "calendar.") {
		t.Fatalf("message %q", fe.Error())
	}
}

func TestSeed(t *testing.T) {
	t.Parallel()
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		ctx := actorCtx()
		s, _ := newService(t, d)
		if n := countRows(t, d, "1 = 1"); n != len(Shipped()) {
			t.Fatalf("%d rows after Seed, want %d", n, len(Shipped()))
		}
		if n := len(auditEntries(t, d, audit.Create, EntityYear)); n != 3 {
			t.Errorf("%d seed audit entries, want one per year", n)
		}
		c, err := s.Calendar(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if c.WorkingDaysBetween(20231231, 20261231) != 251+248+248 || !c.Known(2026) || c.Known(2027) {
			t.Error("the seeded calendar differs from the shipped one")
		}

		// an administrator's edits survive another Seed
		if err := s.Set(ctx, admin, Day{20251001, Holiday, "国庆节"}); err != nil {
			t.Fatal(err)
		}
		if err := s.Delete(ctx, admin, 20261010); err != nil {
			t.Fatal(err)
		}
		if err := s.ImportYear(ctx, admin, 2024, []Day{{20240101, Holiday, "元旦"}}); err != nil {
			t.Fatal(err)
		}
		for range 2 {
			if err := s.Seed(ctx); err != nil {
				t.Fatal(err)
			}
		}
		if n := countRows(t, d, "day >= ? AND day <= ?", 20240101, 20241231); n != 1 {
			t.Errorf("Seed restored 2024: %d rows", n)
		}
		if n := countRows(t, d, "day = ?", 20261010); n != 0 {
			t.Error("Seed restored a deleted day")
		}
		if n := countRows(t, d, "day = ? AND name = ?", 20251001, "国庆节"); n != 1 {
			t.Error("Seed overwrote a changed name")
		}
		if n := len(auditEntries(t, d, audit.Create, EntityYear)); n != 3 {
			t.Errorf("%d seed audit entries after seeding again", n)
		}

		// a deployment whose table lost a year gets it back
		if _, err := d.Exec(ctx, "DELETE FROM calendar_days WHERE day >= ? AND day <= ?", 20250101, 20251231); err != nil {
			t.Fatal(err)
		}
		if err := s.Seed(ctx); err != nil {
			t.Fatal(err)
		}
		if n := countRows(t, d, "day >= ? AND day <= ?", 20250101, 20251231); n != 33 {
			t.Errorf("2025 reseeded with %d rows", n)
		}
		if r, err := (&audit.Log{DB: d}).Verify(ctx); err != nil || r.BrokenAt != 0 {
			t.Errorf("audit chain: %+v %v", r, err)
		}
	})
}

func TestSetAndDelete(t *testing.T) {
	t.Parallel()
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		ctx := actorCtx()
		s, _ := newService(t, d)

		// permission
		for _, p := range []*access.Principal{nil, county} {
			if err := s.Set(ctx, p, Day{20270101, Holiday, "元旦"}); !errors.Is(err, ErrForbidden) {
				t.Errorf("Set by %v: %v", p, err)
			}
			if err := s.Delete(ctx, p, 20261001); !errors.Is(err, ErrForbidden) {
				t.Errorf("Delete by %v: %v", p, err)
			}
		}
		if n := len(auditEntries(t, d, audit.Denied, EntityDay)); n != 4 {
			t.Errorf("%d denials audited, want 4", n)
		}
		if countRows(t, d, "day = ?", 20270101) != 0 || countRows(t, d, "day = ?", 20261001) != 1 {
			t.Fatal("a refused change was made")
		}

		// validation
		for _, tc := range []struct {
			day           Day
			field, reason string
		}{
			{Day{20260230, Holiday, ""}, FieldDate, ReasonDate},
			{Day{0, Holiday, ""}, FieldDate, ReasonDate},
			{Day{18991231, Holiday, ""}, FieldDate, ReasonDate},
			{Day{20270104, Workday, "调休上班"}, FieldDate, ReasonWeekday}, // a Monday
			{Day{20270102, "rest", ""}, FieldKind, ReasonKind},
			{Day{20270102, "", ""}, FieldKind, ReasonMissing},
			{Day{20270102, Holiday, strings.Repeat("节", MaxNameLen+1)}, FieldName, ReasonTooLong},
			{Day{20270102, Holiday, "元旦\n"}, FieldName, ""}, // trimmed: valid
			{Day{20270102, Holiday, "元\x00旦"}, FieldName, ReasonChars},
		} {
			err := s.Set(ctx, admin, tc.day)
			if tc.reason == "" {
				if err != nil {
					t.Errorf("Set(%+v): %v", tc.day, err)
				}
				continue
			}
			fieldError(t, err, tc.field, tc.reason)
		}
		if n := countRows(t, d, "day = ? AND name = ?", 20270102, "元旦"); n != 1 {
			t.Error("the name was not trimmed")
		}

		// a holiday may fall on a weekend or weekday; a make-up day on a weekend
		cal0, _ := s.Calendar(ctx)
		for _, day := range []Day{{20270101, Holiday, "元旦"}, {20270103, Holiday, "元旦"}, {20270207, Workday, "春节调休上班"}} {
			if err := s.Set(ctx, admin, day); err != nil {
				t.Fatalf("Set(%+v): %v", day, err)
			}
		}
		c, err := s.Calendar(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if c == cal0 || !c.Known(2027) || c.IsWorkingDay(20270101) || !c.IsWorkingDay(20270207) {
			t.Error("the snapshot was not reloaded after a local change")
		}
		creates := len(auditEntries(t, d, audit.Create, EntityDay))
		if creates != 4 {
			t.Errorf("%d create entries, want 4", creates)
		}

		// change: one update entry with the changed field; no-op: nothing
		if err := s.Set(ctx, admin, Day{20261001, Holiday, "国庆节（测试）"}); err != nil {
			t.Fatal(err)
		}
		if err := s.Set(ctx, admin, Day{20261001, Holiday, "国庆节（测试）"}); err != nil {
			t.Fatal(err)
		}
		ups := auditEntries(t, d, audit.Update, EntityDay)
		if len(ups) != 1 || ups[0].EntityID != "2026-10-01" || !strings.Contains(ups[0].Changes, "国庆节（测试）") || strings.Contains(ups[0].Changes, `"kind"`) {
			t.Errorf("update entries %+v", ups)
		}
		var by string
		if err := d.QueryRow(ctx, "SELECT updated_by FROM calendar_days WHERE day = ?", 20261001).Scan(&by); err != nil || by != "admin" {
			t.Errorf("updated_by %q %v", by, err)
		}
		// turning a holiday on a weekend into a make-up day
		if err := s.Set(ctx, admin, Day{20261003, Workday, ""}); err != nil {
			t.Fatal(err)
		}
		if c, _ := s.Calendar(ctx); !c.IsWorkingDay(20261003) {
			t.Error("2026-10-03 should now be worked")
		}

		// delete
		if err := s.Delete(ctx, admin, 20261010); err != nil {
			t.Fatal(err)
		}
		if err := s.Delete(ctx, admin, 20261010); !errors.Is(err, db.ErrNotFound) {
			t.Errorf("deleting again: %v", err)
		}
		if c, _ := s.Calendar(ctx); c.IsWorkingDay(20261010) {
			t.Error("2026-10-10 is still a make-up day")
		}
		dels := auditEntries(t, d, audit.Delete, EntityDay)
		if len(dels) != 1 || dels[0].EntityID != "2026-10-10" || !strings.Contains(dels[0].Changes, "国庆节调休上班") {
			t.Errorf("delete entries %+v", dels)
		}
		// the last day of a year stays
		if err := s.ImportYear(ctx, admin, 2028, []Day{{20280101, Holiday, "元旦"}, {20280102, Holiday, "元旦"}}); err != nil {
			t.Fatal(err)
		}
		if err := s.Delete(ctx, admin, 20280102); err != nil {
			t.Fatal(err)
		}
		err = s.Delete(ctx, admin, 20280101)
		fieldError(t, err, FieldDate, ReasonLastDay)
		if c, _ := s.Calendar(ctx); !c.Known(2028) {
			t.Error("2028 was emptied")
		}
		if r, err := (&audit.Log{DB: d}).Verify(ctx); err != nil || r.BrokenAt != 0 {
			t.Errorf("audit chain: %+v %v", r, err)
		}
	})
}

func TestImportYear(t *testing.T) {
	t.Parallel()
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		ctx := actorCtx()
		s, _ := newService(t, d)
		y2027 := []Day{
			{20270101, Holiday, "元旦"}, {20270102, Holiday, "元旦"}, {20270103, Holiday, "元旦"},
			{20270207, Workday, "春节调休上班"}, {20270208, Holiday, "春节"},
		}
		if err := s.ImportYear(ctx, county, 2027, y2027); !errors.Is(err, ErrForbidden) {
			t.Errorf("county: %v", err)
		}
		if err := s.ImportYear(ctx, nil, 2027, y2027); !errors.Is(err, ErrForbidden) {
			t.Errorf("nil: %v", err)
		}
		if n := len(auditEntries(t, d, audit.Denied, EntityYear)); n != 2 {
			t.Errorf("%d denials audited", n)
		}

		for _, tc := range []struct {
			year          int
			days          []Day
			field, reason string
		}{
			{2027, nil, "", ReasonEmpty},
			{1800, y2027, FieldYear, ReasonYear},
			{2027, append([]Day{{20261231, Holiday, ""}}, y2027...), FieldDate, ReasonOtherYear},
			{2027, append([]Day{{20270101, Holiday, ""}}, y2027...), FieldDate, ReasonDuplicate},
			{2027, append([]Day{{20270104, Workday, ""}}, y2027...), FieldDate, ReasonWeekday},
			{2027, append([]Day{{20270105, "x", ""}}, y2027...), FieldKind, ReasonKind},
		} {
			fieldError(t, s.ImportYear(ctx, admin, tc.year, tc.days), tc.field, tc.reason)
		}
		if countRows(t, d, "day >= ?", 20270101) != 0 {
			t.Fatal("a refused import wrote rows")
		}

		if err := s.ImportYear(ctx, admin, 2027, y2027); err != nil {
			t.Fatal(err)
		}
		c, _ := s.Calendar(ctx)
		if !c.Known(2027) || len(c.Year(2027)) != 5 || c.AddWorkingDays(20261231, 1) != 20270104 {
			t.Errorf("2027 after import: %+v", c.Year(2027))
		}
		cr := auditEntries(t, d, audit.Create, EntityYear)
		if len(cr) != 4 || cr[0].EntityID != "2027" || strings.Count(cr[0].Changes, `"f":"2027-`) != 5 {
			t.Errorf("import entry %+v", cr[0])
		}

		// replacing: removed, changed and added days, in one entry
		y2027b := []Day{{20270101, Holiday, "元旦"}, {20270207, Workday, "调休上班"}, {20270209, Holiday, "春节"}}
		if err := s.ImportYear(ctx, admin, 2027, y2027b); err != nil {
			t.Fatal(err)
		}
		c, _ = s.Calendar(ctx)
		if got := c.Year(2027); len(got) != 3 || got[1] != y2027b[1] || got[2] != y2027b[2] {
			t.Errorf("2027 after the second import: %+v", got)
		}
		up := auditEntries(t, d, audit.Update, EntityYear)
		if len(up) != 1 || strings.Count(up[0].Changes, `"f":"2027-`) != 5 { // 01-02, 01-03, 02-08 gone; 02-07 changed; 02-09 new
			t.Errorf("replace entry %+v", up)
		}
		// the same again changes nothing and logs nothing
		if err := s.ImportYear(ctx, admin, 2027, y2027b); err != nil {
			t.Fatal(err)
		}
		if n := len(auditEntries(t, d, audit.Update, EntityYear)); n != 1 {
			t.Errorf("%d update entries after a no-op import", n)
		}
		// other years are untouched
		if n := countRows(t, d, "day >= ? AND day <= ?", 20260101, 20261231); n != 39 {
			t.Errorf("2026 has %d rows", n)
		}
	})
}

// Several app instances share one database: another instance's change is
// seen within RefreshEvery, one's own at once.
func TestCalendarCache(t *testing.T) {
	t.Parallel()
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		ctx := actorCtx()
		a, _ := newService(t, d)
		b, bclock := newService(t, d)
		cb, err := b.Calendar(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if again, _ := b.Calendar(ctx); again != cb {
			t.Error("the snapshot was not cached")
		}
		if err := a.Set(ctx, admin, Day{20270101, Holiday, "元旦"}); err != nil {
			t.Fatal(err)
		}
		if ca, _ := a.Calendar(ctx); !ca.Known(2027) {
			t.Error("a does not see its own change")
		}
		bclock.t = bclock.t.Add(RefreshEvery - time.Second)
		if cb, _ := b.Calendar(ctx); cb.Known(2027) {
			t.Error("b reloaded before RefreshEvery")
		}
		bclock.t = bclock.t.Add(2 * time.Second)
		if cb, _ := b.Calendar(ctx); !cb.Known(2027) {
			t.Error("b does not see a's change after RefreshEvery")
		}

		// inside a transaction: committed data only, and the rolled-back change never cached
		boom := errors.New("boom")
		err = d.Tx(ctx, func(ctx context.Context) error {
			if err := a.Set(ctx, admin, Day{20270102, Holiday, "元旦"}); err != nil {
				return err
			}
			a.invalidate() // force a read inside the transaction
			c, err := a.Calendar(ctx)
			if err != nil {
				return err
			}
			if _, ok := c.Day(20270102); ok || !c.Known(2027) {
				t.Error("the snapshot read inside a transaction holds its uncommitted change")
			}
			return boom
		})
		if !errors.Is(err, boom) {
			t.Fatal(err)
		}
		if c, _ := a.Calendar(ctx); len(c.Year(2027)) != 1 {
			t.Errorf("a rolled-back change is in the snapshot: %+v", c.Year(2027))
		}
	})
}
