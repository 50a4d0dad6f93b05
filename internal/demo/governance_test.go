package demo

import (
	"context"
	"testing"
	"time"

	"github.com/shequ-platform/shequ/internal/disclosure"
	"github.com/shequ-platform/shequ/internal/governance"
	"github.com/shequ-platform/shequ/internal/platform/db/dbtest"
)

func TestGenerateGovernance(t *testing.T) {
	d := dbtest.SQLite(t)
	ws, acc := caseWorldIn(t, d, 200, 2)
	gov := governance.NewService(d, ws.Audit, acc, ws.Keys, ws.Divisions, ws.Packs, ws.Registry, t.TempDir())
	disc := disclosure.NewService(d, ws.Audit, acc, ws.Divisions, ws.Packs, gov)
	ctx := context.Background()
	start := time.Now()
	st, err := GenerateGovernance(ctx, gov, disc, ws.Registry, GovernanceOptions{Seed: 3, Today: casesToday})
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("%s in %s", st, time.Since(start))
	if st.Villages == 0 {
		t.Fatal("no village filled")
	}
	for what, v := range map[string]int{"bodies": st.Bodies, "meetings": st.Meetings, "votes": st.Votes, "matters": st.Matters,
		"rejected": st.Rejected, "done": st.Done, "implementing": st.Implementing, "elections": st.Elections,
		"documents": st.Documents, "entries": st.Entries, "publications": st.Publications} {
		if v == 0 {
			t.Errorf("no %s: %+v", what, st)
		}
	}
	// matters at every stage of the procedure are left open on today
	if got := caseCount(t, d, "SELECT COUNT(DISTINCT stage) FROM gov_matters WHERE status = 'open'"); got < 2 {
		t.Errorf("open matters at only %d stages", got)
	}
	if got := caseCount(t, d, "SELECT COUNT(*) FROM gov_agenda WHERE result = 'passed' AND resolution <> ''"); got == 0 {
		t.Error("no resolutions")
	}
	// the same options give the same data
	d2 := dbtest.SQLite(t)
	ws2, acc2 := caseWorldIn(t, d2, 200, 2)
	gov2 := governance.NewService(d2, ws2.Audit, acc2, ws2.Keys, ws2.Divisions, ws2.Packs, ws2.Registry, t.TempDir())
	disc2 := disclosure.NewService(d2, ws2.Audit, acc2, ws2.Divisions, ws2.Packs, gov2)
	st2, err := GenerateGovernance(ctx, gov2, disc2, ws2.Registry, GovernanceOptions{Seed: 3, Today: casesToday})
	if err != nil || st2 != st {
		t.Fatalf("second run %+v %v", st2, err)
	}
}
