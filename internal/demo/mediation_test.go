package demo

import (
	"context"
	"testing"

	"github.com/shequ-platform/shequ/internal/grid/mediation"
	"github.com/shequ-platform/shequ/internal/platform/db/dbtest"
	"github.com/shequ-platform/shequ/internal/platform/facts"
)

func TestGenerateDisputes(t *testing.T) {
	d := dbtest.SQLite(t)
	ws, acc := caseWorld(t, d, 400)
	svc := mediation.NewService(d, ws.Audit, acc, ws.Keys, ws.Divisions, ws.Packs, ws.Registry)
	ctx := context.Background()
	const n = 150
	st, err := GenerateDisputes(ctx, svc, acc, DisputeOptions{N: n, Seed: 3, Today: casesToday})
	if err != nil {
		t.Fatal(err)
	}
	t.Log(st)
	if st.Disputes != n || st.Open+st.Settled+st.Failed+st.Referred+st.Withdrawn != n {
		t.Fatalf("stats do not add up: %+v", st)
	}
	// every state, sessions, visits, and both kinds of parties and committees
	for what, v := range map[string]int{"open": st.Open, "settled": st.Settled, "failed": st.Failed, "referred": st.Referred,
		"withdrawn": st.Withdrawn, "sessions": st.Sessions, "visits": st.Visits, "outsiders": st.Outsiders, "township": st.Township} {
		if v == 0 {
			t.Errorf("no %s: %+v", what, st)
		}
	}
	if st.Settled*100 < (st.Settled+st.Failed+st.Referred)*70 {
		t.Errorf("only %d of the concluded disputes settled: %+v", st.Settled, st)
	}
	// the tables and the facts agree with the stats
	for state, want := range map[string]int{mediation.StateOpen: st.Open, mediation.StateSettled: st.Settled, mediation.StateFailed: st.Failed,
		mediation.StateReferred: st.Referred, mediation.StateWithdrawn: st.Withdrawn} {
		if got := caseCount(t, d, "SELECT COUNT(*) FROM disputes WHERE state = ?", state); got != want {
			t.Errorf("%s: %d in the table, stats %d", state, got, want)
		}
	}
	if got := caseCount(t, d, "SELECT COUNT(*) FROM dispute_sessions"); got != st.Sessions {
		t.Errorf("sessions: %d, stats %d", got, st.Sessions)
	}
	if got := caseCount(t, d, "SELECT COUNT(*) FROM dispute_visits"); got != st.Visits {
		t.Errorf("visits: %d, stats %d", got, st.Visits)
	}
	if got := caseCount(t, d, "SELECT COUNT(*) FROM dispute_parties WHERE resident_id > 0"); got*100 < n*2*50 {
		t.Errorf("only %d parties from the registry", got)
	}
	if got := caseCount(t, d, "SELECT COUNT(*) FROM disputes WHERE closed_day > ?", dayOf(casesToday)); got != 0 {
		t.Errorf("%d disputes closed after today", got)
	}
	lo, hi := int64(County), int64(County)+999_999_999
	for metric, want := range map[string]int{mediation.MetricOpened: n, mediation.MetricSettled: st.Settled} {
		if v, err := facts.Sum(ctx, d, metric, lo, hi, 0, 999999); err != nil || int(v) != want {
			t.Errorf("%s: %d (%v), want %d", metric, v, err, want)
		}
	}
	// the same options give the same disputes
	d2 := dbtest.SQLite(t)
	ws2, acc2 := caseWorld(t, d2, 400)
	svc2 := mediation.NewService(d2, ws2.Audit, acc2, ws2.Keys, ws2.Divisions, ws2.Packs, ws2.Registry)
	st2, err := GenerateDisputes(ctx, svc2, acc2, DisputeOptions{N: n, Seed: 3, Today: casesToday})
	if err != nil || st2 != st {
		t.Fatalf("second run %+v %v", st2, err)
	}
}
