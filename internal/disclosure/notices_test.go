package disclosure_test

import (
	"errors"
	"testing"

	"github.com/shequ-platform/shequ/internal/disclosure"
	"github.com/shequ-platform/shequ/internal/platform/db"
	"github.com/shequ-platform/shequ/internal/platform/db/dbtest"
)

func TestPublishNotice(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		f := newFixture(t, d)
		ok := disclosure.NoticeInput{Village: villageA, Item: "affairs", Period: "2026-10", Title: "十月村务公开", Body: "一、…\r\n二、…"}
		for _, c := range []struct {
			edit func(*disclosure.NoticeInput)
			want string
		}{
			{func(n *disclosure.NoticeInput) { n.Item = "" }, "item:required"},
			{func(n *disclosure.NoticeInput) { n.Item = "gossip" }, "item:item_unknown"},
			{func(n *disclosure.NoticeInput) { n.Item = "finance" }, "item:item_finance"},
			{func(n *disclosure.NoticeInput) { n.Period = "" }, "period:required"},
			{func(n *disclosure.NoticeInput) { n.Period = "2026-Q3" }, "period:period_kind"},
			{func(n *disclosure.NoticeInput) { n.Period = "2026-12" }, "period:period_future"},
			{func(n *disclosure.NoticeInput) { n.Period = "十月" }, "period:period"},
			{func(n *disclosure.NoticeInput) { n.Title = "" }, "title:required"},
			{func(n *disclosure.NoticeInput) { n.Body = "" }, "body:required"},
		} {
			in := ok
			c.edit(&in)
			_, err := f.svc.Publish(f.ctx, f.villageStaffA, in)
			wantFieldError(t, err, c.want)
		}
		if n := f.count("SELECT COUNT(*) FROM pub_notices"); n != 0 {
			t.Fatalf("%d notices stored", n)
		}
		if _, err := f.svc.Publish(f.ctx, f.viewer, ok); !errors.Is(err, disclosure.ErrForbidden) {
			t.Fatalf("viewer: %v", err)
		}
		n, err := f.svc.Publish(f.ctx, f.villageStaffA, ok)
		if err != nil || n.Period != "2026-10" || n.PublishedDay != 20261123 || n.Body != "一、…\n二、…" {
			t.Fatalf("notice %+v %v", n, err)
		}
		// the running period may be published; an event item takes no period
		if _, err := f.svc.Publish(f.ctx, f.villageStaffA, disclosure.NoticeInput{Village: villageA, Item: "affairs", Period: "2026-11",
			Title: "十一月", Body: "…"}); err != nil {
			t.Fatal(err)
		}
		ev, err := f.svc.Publish(f.ctx, f.villageStaffA, disclosure.NoticeInput{Village: villageA, Item: "events", Period: "2026-10",
			Title: "停水通知", Body: "周三停水。"})
		if err != nil || ev.Period != "" {
			t.Fatalf("event %+v %v", ev, err)
		}
		if c := f.count("SELECT COUNT(*) FROM audit_log WHERE entity = 'pub_notice' AND action = 'create'"); c != 3 {
			t.Fatalf("%d audit entries", c)
		}
		if c := f.count("SELECT COALESCE(SUM(value), 0) FROM facts WHERE metric = ? AND division = ? AND period = 202611",
			disclosure.MetricNotices, villageA); c != 3 {
			t.Fatalf("notices fact %d", c)
		}

		// withdrawing keeps the record and hides it from the portal
		if _, err := f.svc.Withdraw(f.ctx, f.viewer, n.ID); !errors.Is(err, disclosure.ErrForbidden) {
			t.Fatalf("viewer withdraws: %v", err)
		}
		if _, err := f.svc.Withdraw(f.ctx, f.townStaffB, n.ID); !errors.Is(err, db.ErrNotFound) {
			t.Fatalf("other township withdraws: %v", err)
		}
		w, err := f.svc.Withdraw(f.ctx, f.villageStaffA, n.ID)
		if err != nil || w.WithdrawnDay != 20261123 || !w.Withdrawn() {
			t.Fatalf("withdraw %+v %v", w, err)
		}
		if _, err := f.svc.Withdraw(f.ctx, f.villageStaffA, n.ID); !errors.Is(err, disclosure.ErrWithdrawn) {
			t.Fatalf("twice: %v", err)
		}
		if _, err := f.svc.PublicNotice(f.ctx, villageA, n.ID); !errors.Is(err, db.ErrNotFound) {
			t.Fatalf("withdrawn on the portal: %v", err)
		}
		if _, err := f.svc.PublicNotice(f.ctx, villageB, ev.ID); !errors.Is(err, db.ErrNotFound) {
			t.Fatalf("another village's notice: %v", err)
		}
		staff, _ := f.svc.Notices(f.ctx, f.viewer, disclosure.NoticeFilter{Village: villageA, Withdrawn: true})
		public, _ := f.svc.Notices(f.ctx, f.viewer, disclosure.NoticeFilter{Village: villageA})
		if len(staff) != 3 || len(public) != 2 {
			t.Fatalf("staff %d, public %d", len(staff), len(public))
		}
		if got, err := f.svc.Notice(f.ctx, f.viewer, n.ID); err != nil || got.WithdrawnDay != 20261123 || got.Body == "" {
			t.Fatalf("the record %+v %v", got, err)
		}
	})
}

func TestStatementIsFrozenWhenPublished(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		f := newFixture(t, d)
		f.entry("admin", "grant", "2026-10-08", "50000")
		f.entry("admin", "office", "2026-10-20", "1200")
		f.entry("admin", "office", "2026-09-30", "7") // September
		f.entry("economic", "rent", "2026-10-01", "3000")
		_, err := f.svc.PublishStatement(f.ctx, f.villageStaffA, villageA, "2026-12")
		wantFieldError(t, err, "period:period_future")
		_, err = f.svc.PublishStatement(f.ctx, f.villageStaffA, villageA, "10月")
		wantFieldError(t, err, "period:period")
		n, err := f.svc.PublishStatement(f.ctx, f.villageStaffA, villageA, "2026-10")
		if err != nil {
			t.Fatal(err)
		}
		if n.Item != "finance" || n.Period != "2026-10" || n.Title != "门楼社区居委会2026年10月财务收支公开" || n.Statement == nil {
			t.Fatalf("statement %+v", n)
		}
		check := func(st *disclosure.Statement, grant, office, rent int64) {
			t.Helper()
			if st == nil || st.From != 20261001 || st.To != 20261031 || len(st.Accounts) != 2 {
				t.Fatalf("statement %+v", st)
			}
			adm, eco := st.Accounts[0], st.Accounts[1]
			if adm.Income[0].Amount != grant || adm.Expense[0].Amount != office || adm.In != grant || adm.Out != office ||
				eco.Income[0].Amount != rent || adm.Label["zh-CN"] != "行政账" || adm.Expense[0].Label["en"] != "Office costs" {
				t.Fatalf("amounts %+v %+v", adm, eco)
			}
		}
		check(n.Statement, 5000000, 120000, 300000)
		// a correction entered later changes the ledger, not what was published
		f.entry("admin", "office", "2026-10-25", "300")
		got, err := f.svc.PublicNotice(f.ctx, villageA, n.ID)
		if err != nil {
			t.Fatal(err)
		}
		check(got.Statement, 5000000, 120000, 300000)
		preview, err := f.svc.Statement(f.ctx, f.viewer, villageA, "2026-10")
		if err != nil {
			t.Fatal(err)
		}
		check(&preview, 5000000, 150000, 300000)
		// publishing the period again is refused until the old one is withdrawn
		_, err = f.svc.PublishStatement(f.ctx, f.villageStaffA, villageA, "2026-10")
		wantFieldError(t, err, "period:period_published")
		if _, err := f.svc.Withdraw(f.ctx, f.villageStaffA, n.ID); err != nil {
			t.Fatal(err)
		}
		n2, err := f.svc.PublishStatement(f.ctx, f.villageStaffA, villageA, "2026-10")
		if err != nil {
			t.Fatal(err)
		}
		check(n2.Statement, 5000000, 150000, 300000)
		old, _ := f.svc.Notice(f.ctx, f.villageStaffA, n.ID)
		check(old.Statement, 5000000, 120000, 300000)
		// a quarter's statement sums its three months
		q, err := f.svc.PublishStatement(f.ctx, f.villageStaffA, villageA, "2026-Q3")
		if err != nil || q.Statement.Accounts[0].Out != 700 {
			t.Fatalf("Q3 %+v %v", q.Statement, err)
		}
		if _, err := f.svc.PublishStatement(f.ctx, f.viewer, villageA, "2026-09"); !errors.Is(err, disclosure.ErrForbidden) {
			t.Fatalf("viewer: %v", err)
		}
	})
}
