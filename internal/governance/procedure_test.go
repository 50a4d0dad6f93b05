package governance_test

import (
	"errors"
	"slices"
	"testing"

	gov "github.com/shequ-platform/shequ/internal/governance"
	"github.com/shequ-platform/shequ/internal/platform/policy"
)

// legalAt is, per stage kind, the actions the procedure allows there —
// written out here from SX-2/SX-3 rather than read from the engine's
// table, so a change of the table must be a change of this test too.
var legalAt = map[string][]string{
	policy.StageMeeting:   {gov.ActAgenda, gov.ActPass, gov.ActReject, gov.ActNoQuorum, gov.ActWithdraw},
	policy.StageImplement: {gov.ActAssign, gov.ActImplement, gov.ActUrge, gov.ActSupervise, gov.ActComment, gov.ActComplete, gov.ActWithdraw},
	policy.StageEvaluate:  {gov.ActRate, gov.ActEvaluate, gov.ActWithdraw},
}

// meetingAction tells the actions a meeting takes (they carry its body and
// the stage its agenda item decides).
func meetingAction(a string) bool {
	return a == gov.ActAgenda || a == gov.ActPass || a == gov.ActReject || a == gov.ActNoQuorum
}

func refusal(t *testing.T, err error, code string) *gov.ProcedureError {
	t.Helper()
	var pe *gov.ProcedureError
	if !errors.As(err, &pe) {
		t.Fatalf("want a refusal %s, got %v", code, err)
	}
	if pe.Code != code {
		t.Fatalf("want refusal %s, got %s (%v)", code, pe.Code, pe)
	}
	return pe
}

// eachProcedure runs f for every procedure of every shipped pack.
func eachProcedure(t *testing.T, f func(t *testing.T, g *policy.Governance, pr policy.Procedure)) {
	for _, name := range shippedPackNames {
		g := matterRules(t, name)
		if len(g.Procedures) == 0 {
			t.Fatalf("%s: no procedures", name)
		}
		for _, pr := range g.Procedures {
			t.Run(name+"/"+pr.Key, func(t *testing.T) { f(t, g, pr) })
		}
	}
}

// TestProcedureEveryPair takes every action at every stage of every
// shipped procedure: the legal ones move the matter where SX-2 says, the
// others are refused as out of order, naming the stage the matter is at and
// the stage the action belongs to.
func TestProcedureEveryPair(t *testing.T) {
	eachProcedure(t, func(t *testing.T, g *policy.Governance, pr policy.Procedure) {
		resolving := ""
		for _, st := range pr.Stages {
			if st.Kind == policy.StageMeeting {
				resolving = st.Key
			}
		}
		for i, st := range pr.Stages {
			if i == 0 {
				continue // a matter never rests at its propose stage: TestProcedurePropose
			}
			at := gov.Position{Stage: st.Key, Status: gov.MatterOpen}
			for _, a := range gov.MatterActions {
				ev := gov.MatterEvent{Action: a}
				if meetingAction(a) {
					ev.Stage, ev.Body = st.Key, st.Body
				}
				mv, err := gov.Transition(pr, at, ev)
				legal := slices.Contains(legalAt[st.Kind], a)
				if !legal {
					pe := refusal(t, err, gov.RefuseOutOfOrder)
					if pe.At != st.Key {
						t.Errorf("%s at %s: refusal names stage %q", a, st.Key, pe.At)
					}
					want := ""
					for _, w := range pr.Stages[i+1:] {
						if slices.Contains(legalAt[w.Kind], a) || (a == gov.ActPropose && w.Kind == policy.StagePropose) {
							want = w.Key
							break
						}
					}
					if want == "" {
						for _, w := range pr.Stages {
							if slices.Contains(legalAt[w.Kind], a) || (a == gov.ActPropose && w.Kind == policy.StagePropose) {
								want = w.Key
								break
							}
						}
					}
					if pe.Want != want {
						t.Errorf("%s at %s: refusal wants %q, expected %q", a, st.Key, pe.Want, want)
					}
					continue
				}
				if err != nil {
					t.Errorf("%s at %s (%s): refused: %v", a, st.Key, st.Kind, err)
					continue
				}
				if mv.From != at {
					t.Errorf("%s at %s: move from %+v", a, st.Key, mv.From)
				}
				switch a {
				case gov.ActPass, gov.ActComplete, gov.ActEvaluate:
					want := gov.Position{Stage: st.Key, Status: gov.MatterDone}
					if i+1 < len(pr.Stages) {
						want = gov.Position{Stage: pr.Stages[i+1].Key, Status: gov.MatterOpen}
					}
					if mv.To != want || mv.Passed != st.Key {
						t.Errorf("%s at %s: moved to %+v passing %q, want %+v", a, st.Key, mv.To, mv.Passed, want)
					}
					if mv.Resolved != (st.Key == resolving) {
						t.Errorf("%s at %s: resolved %v (resolving stage %s)", a, st.Key, mv.Resolved, resolving)
					}
					if mv.Done() != (i+1 == len(pr.Stages)) {
						t.Errorf("%s at %s: done %v", a, st.Key, mv.Done())
					}
				case gov.ActReject:
					if mv.To != (gov.Position{Stage: st.Key, Status: gov.MatterRejected}) || mv.Passed != "" {
						t.Errorf("reject at %s: %+v", st.Key, mv)
					}
				case gov.ActWithdraw:
					if mv.To != (gov.Position{Stage: st.Key, Status: gov.MatterWithdrawn}) || mv.Passed != "" {
						t.Errorf("withdraw at %s: %+v", st.Key, mv)
					}
				default: // agenda, no quorum, the implementation steps, ratings: the matter stays
					if mv.Moved() || mv.Passed != "" {
						t.Errorf("%s at %s moved the matter: %+v", a, st.Key, mv)
					}
				}
			}
			// The actions staff are offered are exactly the legal ones.
			offered := gov.StageActions(pr, at)
			var want []string
			for _, a := range gov.MatterActions {
				if slices.Contains(legalAt[st.Kind], a) {
					want = append(want, a)
				}
			}
			if !slices.Equal(offered, want) {
				t.Errorf("actions at %s: %v, want %v", st.Key, offered, want)
			}
		}
	})
}

// TestProcedureMeetingChecks: a meeting stage passes only by a meeting of
// its own body, on an agenda item linked at that very stage.
func TestProcedureMeetingChecks(t *testing.T) {
	eachProcedure(t, func(t *testing.T, g *policy.Governance, pr policy.Procedure) {
		for _, st := range pr.Stages {
			if st.Kind != policy.StageMeeting {
				continue
			}
			at := gov.Position{Stage: st.Key, Status: gov.MatterOpen}
			for _, a := range []string{gov.ActAgenda, gov.ActPass, gov.ActReject, gov.ActNoQuorum} {
				for _, b := range g.Bodies {
					if b.Key == st.Body {
						continue
					}
					_, err := gov.Transition(pr, at, gov.MatterEvent{Action: a, Stage: st.Key, Body: b.Key})
					if pe := refusal(t, err, gov.RefuseWrongBody); pe.Body != st.Body || pe.At != st.Key {
						t.Errorf("%s at %s by %s: %+v", a, st.Key, b.Key, pe)
					}
				}
				// An agenda item linked at another stage (earlier or later) is out of order.
				for _, other := range pr.Stages {
					if other.Key == st.Key {
						continue
					}
					_, err := gov.Transition(pr, at, gov.MatterEvent{Action: a, Stage: other.Key, Body: st.Body})
					if pe := refusal(t, err, gov.RefuseOutOfOrder); pe.At != st.Key || pe.Want != other.Key {
						t.Errorf("%s for %s at %s: %+v", a, other.Key, st.Key, pe)
					}
				}
				_, err := gov.Transition(pr, at, gov.MatterEvent{Action: a, Stage: "no_such_stage", Body: st.Body})
				refusal(t, err, gov.RefuseUnknownStage)
			}
		}
		// A matter whose stage the procedure no longer has.
		_, err := gov.Transition(pr, gov.Position{Stage: "no_such_stage", Status: gov.MatterOpen}, gov.MatterEvent{Action: gov.ActWithdraw})
		refusal(t, err, gov.RefuseUnknownStage)
		_, err = gov.Transition(pr, gov.Position{Stage: pr.Stages[1].Key, Status: gov.MatterOpen}, gov.MatterEvent{Action: "shortcut"})
		refusal(t, err, gov.RefuseAction)
	})
}

// TestProcedureClosed: nothing moves a rejected, done or withdrawn matter.
func TestProcedureClosed(t *testing.T) {
	eachProcedure(t, func(t *testing.T, g *policy.Governance, pr policy.Procedure) {
		for _, status := range []string{gov.MatterRejected, gov.MatterDone, gov.MatterWithdrawn} {
			for _, st := range pr.Stages[1:] {
				at := gov.Position{Stage: st.Key, Status: status}
				for _, a := range gov.MatterActions {
					if a == gov.ActPropose {
						continue
					}
					_, err := gov.Transition(pr, at, gov.MatterEvent{Action: a, Stage: st.Key, Body: st.Body})
					if pe := refusal(t, err, gov.RefuseClosed); pe.Status != status {
						t.Errorf("%s on a %s matter: %+v", a, status, pe)
					}
				}
				if acts := gov.StageActions(pr, at); len(acts) != 0 {
					t.Errorf("a %s matter offers %v", status, acts)
				}
			}
		}
	})
}

// TestProcedurePropose: who may propose and how many residents must sign.
func TestProcedurePropose(t *testing.T) {
	eachProcedure(t, func(t *testing.T, g *policy.Governance, pr policy.Procedure) {
		first := pr.Stages[0]
		if first.Kind != policy.StagePropose || len(first.Proposers) == 0 {
			t.Fatalf("first stage %+v", first)
		}
		for _, who := range first.Proposers {
			sig := 0
			if who == policy.ProposerResidents {
				sig = first.Signatures
			}
			mv, err := gov.Transition(pr, gov.Position{}, gov.MatterEvent{Action: gov.ActPropose, Proposer: who, Signatures: sig})
			if err != nil {
				t.Fatalf("%s proposes: %v", who, err)
			}
			want := gov.Position{Stage: pr.Stages[1].Key, Status: gov.MatterOpen}
			if mv.To != want || mv.Passed != first.Key || mv.From.Stage != first.Key {
				t.Errorf("%s proposes: %+v", who, mv)
			}
		}
		if slices.Contains(first.Proposers, policy.ProposerResidents) && first.Signatures > 0 {
			_, err := gov.Transition(pr, gov.Position{}, gov.MatterEvent{Action: gov.ActPropose, Proposer: policy.ProposerResidents,
				Signatures: first.Signatures - 1})
			if pe := refusal(t, err, gov.RefuseSignatures); pe.Need != first.Signatures {
				t.Errorf("need %d, got %+v", first.Signatures, pe)
			}
		}
		outsiders := []string{"nobody"}
		for _, b := range g.Bodies {
			if !slices.Contains(first.Proposers, b.Key) {
				outsiders = append(outsiders, b.Key)
			}
		}
		if !slices.Contains(first.Proposers, policy.ProposerResidents) {
			outsiders = append(outsiders, policy.ProposerResidents)
		}
		for _, who := range outsiders {
			_, err := gov.Transition(pr, gov.Position{}, gov.MatterEvent{Action: gov.ActPropose, Proposer: who, Signatures: 1000})
			refusal(t, err, gov.RefuseProposer)
		}
		// Proposing again what already exists is out of order.
		_, err := gov.Transition(pr, gov.Position{Stage: pr.Stages[1].Key, Status: gov.MatterOpen},
			gov.MatterEvent{Action: gov.ActPropose, Proposer: first.Proposers[0], Signatures: 1000})
		if pe := refusal(t, err, gov.RefuseOutOfOrder); pe.Want != first.Key {
			t.Errorf("propose again: %+v", pe)
		}
	})
	_, err := gov.Transition(policy.Procedure{Key: "empty"}, gov.Position{}, gov.MatterEvent{Action: gov.ActPropose})
	refusal(t, err, gov.RefuseNoProcedure)
}

// TestProcedureWalk takes each procedure from proposal to done the only way
// it can go, counting the resolving stage once.
func TestProcedureWalk(t *testing.T) {
	eachProcedure(t, func(t *testing.T, g *policy.Governance, pr policy.Procedure) {
		first := pr.Stages[0]
		mv, err := gov.Transition(pr, gov.Position{}, gov.MatterEvent{Action: gov.ActPropose, Proposer: first.Proposers[0], Signatures: first.Signatures})
		if err != nil {
			t.Fatal(err)
		}
		at, resolved, steps := mv.To, 0, 1
		for at.Status == gov.MatterOpen {
			st, _, ok := pr.Stage(at.Stage)
			if !ok {
				t.Fatalf("at unknown stage %s", at.Stage)
			}
			ev := gov.MatterEvent{}
			switch st.Kind {
			case policy.StageMeeting:
				// No quorum first: the matter stays.
				if mv, err := gov.Transition(pr, at, gov.MatterEvent{Action: gov.ActNoQuorum, Stage: st.Key, Body: st.Body}); err != nil || mv.Moved() {
					t.Fatalf("no quorum at %s: %+v %v", st.Key, mv, err)
				}
				ev = gov.MatterEvent{Action: gov.ActPass, Stage: st.Key, Body: st.Body}
			case policy.StageImplement:
				ev.Action = gov.ActComplete
			case policy.StageEvaluate:
				ev.Action = gov.ActEvaluate
			default:
				t.Fatalf("stage kind %s", st.Kind)
			}
			if mv, err = gov.Transition(pr, at, ev); err != nil {
				t.Fatalf("%s at %s: %v", ev.Action, st.Key, err)
			}
			if mv.Resolved {
				resolved++
			}
			at = mv.To
			steps++
		}
		if at.Status != gov.MatterDone || at.Stage != pr.Stages[len(pr.Stages)-1].Key || steps != len(pr.Stages) || resolved != 1 {
			t.Errorf("ended %+v after %d stages, resolved %d times", at, steps, resolved)
		}
		if gov.ResolvingStage(pr) == "" {
			t.Error("no resolving stage")
		}
	})
}

// TestProcedureVariants checks the shape each pack gives its procedure:
// SX-2's 五议 (three meetings, the representatives' last, then the
// year-end evaluation), DG-4's five steps, NT-7's majority of all members.
func TestProcedureVariants(t *testing.T) {
	kinds := func(pr policy.Procedure) []string {
		var out []string
		for _, st := range pr.Stages {
			out = append(out, st.Kind)
		}
		return out
	}
	count := func(ks []string, k string) int {
		n := 0
		for _, x := range ks {
			if x == k {
				n++
			}
		}
		return n
	}
	sx := matterRules(t, "shaxian-2012")
	pr, ok := sx.Procedure("wuyi")
	if !ok {
		t.Fatal("shaxian-2012 has no wuyi procedure")
	}
	ks := kinds(pr)
	if count(ks, policy.StageMeeting) != 3 || ks[len(ks)-1] != policy.StageEvaluate {
		t.Errorf("五议: stages %v", ks)
	}
	if st, _, _ := pr.Stage(gov.ResolvingStage(pr)); st.Body != policy.BodyRepresentatives {
		t.Errorf("五议 resolves at %+v, want the representatives' meeting", st)
	}
	dg := matterRules(t, "dongguan-2016")
	if pr, ok := dg.Procedure("five_steps"); !ok || len(pr.Stages) != 5 {
		t.Errorf("dongguan-2016 five_steps: %+v", pr)
	} else if ks := kinds(pr); count(ks, policy.StageMeeting) < 1 || count(ks, policy.StageImplement) != 1 {
		t.Errorf("five steps: %v", ks)
	}
	nt := matterRules(t, "nantong-2011")
	pr, ok = nt.Procedure("majority")
	if !ok {
		t.Fatal("nantong-2011 has no majority procedure")
	}
	st, _, _ := pr.Stage(gov.ResolvingStage(pr))
	if b, ok := nt.Body(st.Body); !ok || b.Majority.Of != policy.OfMembers {
		t.Errorf("NT-7: the resolving body %q decides by %v, want a majority of all members", st.Body, b.Majority)
	}
}
