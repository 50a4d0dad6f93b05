package disclosure_test

import (
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/shequ-platform/shequ/internal/disclosure"
	"github.com/shequ-platform/shequ/internal/platform/db"
	"github.com/shequ-platform/shequ/internal/platform/db/dbtest"
)

// periodsOf writes an item's periods as "2026-01+ 2026-02- 2026-11~":
// + published, - missing, ~ running and not published.
func periodsOf(ic disclosure.ItemCompliance) string {
	var b strings.Builder
	for i, ps := range ic.Periods {
		if i > 0 {
			b.WriteByte(' ')
		}
		b.WriteString(ps.Period.Key())
		switch {
		case ps.Published != 0:
			b.WriteByte('+')
		case ps.Current:
			b.WriteByte('~')
		default:
			b.WriteByte('-')
		}
	}
	return b.String()
}

func TestScheduleCompliancePerPeriod(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		f := newFixture(t, d)
		// affairs (monthly notices): January to October but May
		for m := 1; m <= 10; m++ {
			if m == 5 {
				continue
			}
			if _, err := f.svc.Publish(f.ctx, f.villageStaffA, disclosure.NoticeInput{Village: villageA, Item: "affairs",
				Period: fmt.Sprintf("2026-%02d", m), Title: fmt.Sprintf("%d月村务", m), Body: "…"}); err != nil {
				t.Fatal(err)
			}
		}
		// one withdrawn notice does not count
		w, err := f.svc.Publish(f.ctx, f.villageStaffA, disclosure.NoticeInput{Village: villageA, Item: "affairs", Period: "2025-12",
			Title: "12月", Body: "…"})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := f.svc.Withdraw(f.ctx, f.villageStaffA, w.ID); err != nil {
			t.Fatal(err)
		}
		// finance (monthly): a quarterly statement covers its three months
		if _, err := f.svc.PublishStatement(f.ctx, f.villageStaffA, villageA, "2026-Q3"); err != nil {
			t.Fatal(err)
		}
		if _, err := f.svc.PublishStatement(f.ctx, f.villageStaffA, villageA, "2026-11"); err != nil {
			t.Fatal(err)
		}
		// goals (yearly notices): this year's
		if _, err := f.svc.Publish(f.ctx, f.villageStaffA, disclosure.NoticeInput{Village: villageA, Item: "goals", Period: "2026",
			Title: "2026年工作目标", Body: "…"}); err != nil {
			t.Fatal(err)
		}
		// resolutions (quarterly): public meetings decided in Q1 and Q3; a
		// private body's meeting and another village's do not count
		reps := f.govBody(villageA, "representatives", "门楼社区居民代表会议", nil, nil)
		f.govMeeting(villageA, reps, 20260210, "一季度居民代表会议", "修缮村道", "同意修缮")
		f.govMeeting(villageA, reps, 20260801, "三季度居民代表会议", "安装路灯", "同意安装")
		f.govMeeting(villageA, reps, 20250610, "去年的会议", "旧事", "旧决议") // before the window
		party := f.govBody(villageA, "party", "门楼社区党支部", nil, nil)
		mid := f.govMeeting(villageA, party, 20260505, "支部会议", "党务", "通过")
		if _, err := d.Exec(f.ctx, "UPDATE gov_meetings SET public = 0 WHERE id = ?", mid); err != nil {
			t.Fatal(err)
		}
		repsB := f.govBody(villageB, "representatives", "吼山社区居民代表会议", nil, nil)
		f.govMeeting(villageB, repsB, 20260505, "吼山会议", "吼山事项", "通过")
		// matters (quarterly): one proposed in Q2; progress (half-yearly):
		// its implementation reported in H1
		f.govMatter(villageA, "YS320205001001-2026-001", "修缮村道", "implement", "open", 20260402, 0, 40,
			map[string]int{"assign": 20260301, "implement": 20260505})

		c, err := f.svc.Compliance(f.ctx, f.viewer, villageA)
		if err != nil {
			t.Fatal(err)
		}
		want := map[string]string{
			"affairs":     "2025-12- 2026-01+ 2026-02+ 2026-03+ 2026-04+ 2026-05- 2026-06+ 2026-07+ 2026-08+ 2026-09+ 2026-10+ 2026-11~",
			"finance":     "2025-12- 2026-01- 2026-02- 2026-03- 2026-04- 2026-05- 2026-06- 2026-07+ 2026-08+ 2026-09+ 2026-10- 2026-11+",
			"resolutions": "2025-Q4- 2026-Q1+ 2026-Q2- 2026-Q3+ 2026-Q4~",
			"matters":     "2025-Q4- 2026-Q1- 2026-Q2+ 2026-Q3- 2026-Q4~",
			"progress":    "2025-H2- 2026-H1+ 2026-H2~",
			"goals":       "2025- 2026+",
		}
		dues := map[string][2]int{"affairs": {9, 11}, "finance": {4, 12}, "resolutions": {2, 4}, "matters": {1, 4}, "progress": {1, 2}, "goals": {1, 2}}
		if len(c.Items) != len(want) {
			t.Fatalf("%d items", len(c.Items))
		}
		done, due := 0, 0
		for _, ic := range c.Items {
			if got := periodsOf(ic); got != want[ic.Item.Key] {
				t.Errorf("%s:\n got %s\nwant %s", ic.Item.Key, got, want[ic.Item.Key])
			}
			if dd := dues[ic.Item.Key]; ic.Done != dd[0] || ic.Due != dd[1] {
				t.Errorf("%s: %d/%d, want %d/%d", ic.Item.Key, ic.Done, ic.Due, dd[0], dd[1])
			}
			done, due = done+ic.Done, due+ic.Due
		}
		if c.Done != done || c.Due != due || c.Done != 18 || c.Due != 35 {
			t.Fatalf("total %d/%d", c.Done, c.Due)
		}
		// the day of publication of a period is its first publication
		for _, ic := range c.Items {
			if ic.Item.Key == "resolutions" && ic.Periods[1].Published != 20260210 {
				t.Fatalf("Q1 published %d", ic.Periods[1].Published)
			}
		}

		// the township's roll-up: each village's share
		roll, err := f.svc.RollUp(f.ctx, f.townStaffA, townA)
		if err != nil || len(roll) != 2 {
			t.Fatalf("roll-up %+v %v", roll, err)
		}
		if roll[0].Village.Code != villageA || roll[0].Done != 18 || roll[0].Due != 35 || roll[1].Village.Code != villageC ||
			roll[1].Done != 0 || roll[1].Due != 33 || roll[1].SharePct() != "0.0%" {
			t.Fatalf("roll-up %+v", roll)
		}
		if _, err := f.svc.RollUp(f.ctx, f.townStaffB, townA); !errors.Is(err, db.ErrNotFound) {
			t.Fatalf("other township: %v", err)
		}
		if _, err := f.svc.Compliance(f.ctx, f.villageStaffB, villageA); !errors.Is(err, db.ErrNotFound) {
			t.Fatalf("village B: %v", err)
		}
		cr, err := f.svc.RollUp(f.ctx, f.countyStaff, county)
		if err != nil || len(cr) != 3 {
			t.Fatalf("county roll-up %d %v", len(cr), err)
		}
	})
}

func TestScheduleWindowMovesWithTheDay(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		f := newFixture(t, d)
		if _, err := f.svc.Publish(f.ctx, f.villageStaffA, disclosure.NoticeInput{Village: villageA, Item: "affairs", Period: "2026-11",
			Title: "11月", Body: "…"}); err != nil {
			t.Fatal(err)
		}
		// in November the running month counts once published
		c, _ := f.svc.Compliance(f.ctx, f.viewer, villageA)
		if ic := c.Items[0]; ic.Item.Key != "affairs" || ic.Done != 1 || ic.Due != 12 || !ic.Periods[11].Current {
			t.Fatalf("November %+v", ic)
		}
		// a year later the window starts in 2026-12: November 2026 has left it
		f.now = f.now.AddDate(1, 0, 0)
		c, _ = f.svc.Compliance(f.ctx, f.viewer, villageA)
		if ic := c.Items[0]; ic.Done != 0 || ic.Due != 11 || ic.Periods[0].Period.Key() != "2026-12" {
			t.Fatalf("a year later %s %d/%d", periodsOf(ic), ic.Done, ic.Due)
		}
	})
}
