package governance

import (
	"slices"

	"github.com/shequ-platform/shequ/internal/platform/policy"
)

// The procedure engine: where a matter stands in its pack's staged
// procedure (policy.Procedure: Sha county's 五议, Dongguan's five steps,
// Nantong's majority rule, …) and which actions may move it. It is pure —
// no SQL, no clock — so that every legal and illegal move of every shipped
// pack can be tested as a table; matters.go and implementation.go store
// what it decides.
//
// A matter is created at the propose stage and passes it at once (who
// proposes and how many sign are checked then); a meeting stage passes only
// by a vote of a meeting of the stage's body, on an agenda item linked to
// the matter at that stage; a failed vote ends the matter as rejected; a
// vote without quorum leaves it where it is; the implement stage passes
// when the implementation is complete; the evaluate stage when staff close
// the year-end evaluation. After the last stage the matter is done. Staff
// may withdraw an open matter with a reason.

// Matter statuses.
const (
	MatterOpen      = "open"      // going through its procedure
	MatterRejected  = "rejected"  // a meeting voted it down (the reason is published)
	MatterDone      = "done"      // through every stage
	MatterWithdrawn = "withdrawn" // withdrawn by staff, with a reason
)

// MatterStatuses lists the statuses, the running one first.
var MatterStatuses = []string{MatterOpen, MatterRejected, MatterDone, MatterWithdrawn}

// Actions on a matter; each one taken is a row of the matter's history
// (gov_matter_steps.action).
const (
	ActPropose   = "propose"   // the matter is proposed (and the propose stage passed)
	ActAgenda    = "agenda"    // put on a meeting's agenda (a check, no move)
	ActPass      = "pass"      // a meeting passed the stage
	ActReject    = "reject"    // a meeting voted it down: the matter ends as rejected
	ActNoQuorum  = "no_quorum" // a meeting lacked its quorum: the matter stays
	ActAssign    = "assign"    // 交办: who implements, by when (SX-3)
	ActImplement = "implement" // 实施: a progress report (note, percent, money, photos)
	ActUrge      = "urge"      // 督促: a check at a representatives' meeting
	ActSupervise = "supervise" // 监督: residents' comment, recorded by staff
	ActComment   = "comment"   // a resident's comment from the public page
	ActComplete  = "complete"  // the final report: the implement stage passes
	ActRate      = "rate"      // a resident's year-end rating (1–5)
	ActEvaluate  = "evaluate"  // staff close the evaluation: the evaluate stage passes
	ActWithdraw  = "withdraw"  // staff withdraw the matter, with a reason
)

// MatterActions lists the actions in the order the engine's tables and
// tests walk them.
var MatterActions = []string{ActPropose, ActAgenda, ActPass, ActReject, ActNoQuorum, ActAssign, ActImplement,
	ActUrge, ActSupervise, ActComment, ActComplete, ActRate, ActEvaluate, ActWithdraw}

// transitions lists, per action, the kinds of stage a matter must be at
// for the action to be taken. Propose is taken at the propose stage of a
// matter being created; every other action needs an open matter.
var transitions = map[string][]string{
	ActPropose:   {policy.StagePropose},
	ActAgenda:    {policy.StageMeeting},
	ActPass:      {policy.StageMeeting},
	ActReject:    {policy.StageMeeting},
	ActNoQuorum:  {policy.StageMeeting},
	ActAssign:    {policy.StageImplement},
	ActImplement: {policy.StageImplement},
	ActUrge:      {policy.StageImplement},
	ActSupervise: {policy.StageImplement},
	ActComment:   {policy.StageImplement},
	ActComplete:  {policy.StageImplement},
	ActRate:      {policy.StageEvaluate},
	ActEvaluate:  {policy.StageEvaluate},
	ActWithdraw:  {policy.StageMeeting, policy.StageImplement, policy.StageEvaluate},
}

// passing are the actions that pass the current stage (the matter moves to
// the next stage, or is done after the last).
var passing = map[string]bool{ActPropose: true, ActPass: true, ActComplete: true, ActEvaluate: true}

// ending are the actions that end a matter, with the status they leave.
var ending = map[string]string{ActReject: MatterRejected, ActWithdraw: MatterWithdrawn}

// meetingActs are the actions a meeting takes (they name the meeting's
// body and the stage its agenda item decides).
var meetingActs = map[string]bool{ActAgenda: true, ActPass: true, ActReject: true, ActNoQuorum: true}

// ActionAllowed reports whether action may be taken at a stage of kind.
func ActionAllowed(action, kind string) bool { return slices.Contains(transitions[action], kind) }

// VoteAction is the action a vote's result takes on the matter its agenda
// item decides ("" for a result that decides nothing yet: pending).
func VoteAction(result string) string {
	switch result {
	case ResultPassed:
		return ActPass
	case ResultFailed:
		return ActReject
	case ResultNoQuorum:
		return ActNoQuorum
	}
	return ""
}

// Position is where a matter stands: its current stage and its status. A
// closed matter keeps the stage it ended at.
type Position struct {
	Stage  string
	Status string
}

// MatterEvent is an action on a matter as the engine sees it.
type MatterEvent struct {
	Action string
	// Stage is the stage the action is meant for: the stage an agenda item
	// was linked at (meeting actions); "" means the current one.
	Stage string
	// Body is the body kind of the meeting (meeting actions).
	Body string
	// Proposer is residents or a body kind; Signatures the number of
	// residents who signed (propose).
	Proposer   string
	Signatures int
}

// Move is what the engine decided: where the matter was and is now.
type Move struct {
	From, To Position
	// Passed is the stage passed (From.Stage), "" when none was.
	Passed string
	// Resolved tells that the stage passed was the resolving one: the last
	// meeting stage of the procedure (MetricMattersPassed counts it).
	Resolved bool
}

// Done reports whether the move finished the procedure.
func (m Move) Done() bool { return m.To.Status == MatterDone && m.From.Status != MatterDone }

// Moved reports whether the matter's stage or status changed.
func (m Move) Moved() bool { return m.From != m.To }

// Procedure error codes, translated as gov.matter.refuse.<code> (RefusalText).
const (
	RefuseNoProcedure  = "no_procedure" // the pack has no such procedure, or it has no propose stage
	RefuseUnknownStage = "unknown_stage"
	RefuseClosed       = "closed"       // the matter is no longer open
	RefuseOutOfOrder   = "out_of_order" // the action belongs to another stage
	RefuseWrongBody    = "wrong_body"   // the meeting's body does not decide this stage
	RefuseProposer     = "proposer"     // who proposes may not propose under this procedure
	RefuseSignatures   = "signatures"   // too few residents signed
	RefuseAction       = "action"       // not an action on a matter
)

// ProcedureError is an action the procedure refuses, with what the reason
// needs: Code (gov.matter.refuse.<code>), the matter's current stage At, the
// stage Want the action belongs to, the Body that decides it (wrong_body),
// the matter's Status (closed) and the Need of signatures.
type ProcedureError struct {
	Code      string
	Action    string
	Procedure string // the procedure's key
	At        string
	Want      string
	Body      string
	Status    string
	Need      int
}

func (e *ProcedureError) Error() string {
	s := "governance: " + e.Action + " refused (" + e.Code
	if e.At != "" {
		s += ": the matter is at " + e.At
		if e.Want != "" {
			s += ", not " + e.Want
		}
	}
	return s + ")"
}

// ResolvingStage is the key of the procedure's resolving stage: its last
// meeting stage (决议; "" when it has none).
func ResolvingStage(pr policy.Procedure) string {
	for i := len(pr.Stages) - 1; i >= 0; i-- {
		if pr.Stages[i].Kind == policy.StageMeeting {
			return pr.Stages[i].Key
		}
	}
	return ""
}

// wantStage is the stage an action belongs to, for the reason of a refusal:
// the first stage after the current one (else any) whose kind allows it.
func wantStage(pr policy.Procedure, at int, action string) string {
	for i := at + 1; i < len(pr.Stages); i++ {
		if ActionAllowed(action, pr.Stages[i].Kind) {
			return pr.Stages[i].Key
		}
	}
	for _, st := range pr.Stages {
		if ActionAllowed(action, st.Kind) {
			return st.Key
		}
	}
	return ""
}

// Transition applies ev to a matter at position at under procedure pr and
// returns the move, or a *ProcedureError saying why the procedure refuses
// it. Propose starts from the zero Position (a matter being created).
func Transition(pr policy.Procedure, at Position, ev MatterEvent) (Move, error) {
	refuse := func(code string) *ProcedureError {
		return &ProcedureError{Code: code, Action: ev.Action, Procedure: pr.Key, At: at.Stage, Status: at.Status}
	}
	if _, ok := transitions[ev.Action]; !ok {
		return Move{}, refuse(RefuseAction)
	}
	if len(pr.Stages) == 0 || pr.Stages[0].Kind != policy.StagePropose {
		return Move{}, refuse(RefuseNoProcedure)
	}
	if ev.Action == ActPropose {
		if at != (Position{}) {
			e := refuse(RefuseOutOfOrder)
			e.Want = pr.Stages[0].Key
			return Move{}, e
		}
		at = Position{Stage: pr.Stages[0].Key, Status: MatterOpen}
		st := pr.Stages[0]
		if !slices.Contains(st.Proposers, ev.Proposer) {
			return Move{}, refuse(RefuseProposer)
		}
		if ev.Proposer == policy.ProposerResidents && ev.Signatures < st.Signatures {
			e := refuse(RefuseSignatures)
			e.Need = st.Signatures
			return Move{}, e
		}
		return advance(pr, at, 0), nil
	}
	if at.Status != MatterOpen {
		return Move{}, refuse(RefuseClosed)
	}
	st, i, ok := pr.Stage(at.Stage)
	if !ok {
		return Move{}, refuse(RefuseUnknownStage)
	}
	if ev.Stage != "" && ev.Stage != at.Stage {
		if _, _, ok := pr.Stage(ev.Stage); !ok {
			return Move{}, refuse(RefuseUnknownStage)
		}
		e := refuse(RefuseOutOfOrder)
		e.Want = ev.Stage
		return Move{}, e
	}
	if !ActionAllowed(ev.Action, st.Kind) {
		e := refuse(RefuseOutOfOrder)
		e.Want = wantStage(pr, i, ev.Action)
		return Move{}, e
	}
	if meetingActs[ev.Action] && ev.Body != st.Body {
		e := refuse(RefuseWrongBody)
		e.Body = st.Body
		return Move{}, e
	}
	switch {
	case passing[ev.Action]:
		return advance(pr, at, i), nil
	case ending[ev.Action] != "":
		return Move{From: at, To: Position{Stage: at.Stage, Status: ending[ev.Action]}}, nil
	}
	return Move{From: at, To: at}, nil
}

// advance passes stage i: the matter moves to the next stage, or is done
// after the last one (where it stays, as its final stage).
func advance(pr policy.Procedure, at Position, i int) Move {
	m := Move{From: at, To: at, Passed: at.Stage, Resolved: at.Stage == ResolvingStage(pr)}
	if i+1 < len(pr.Stages) {
		m.To.Stage = pr.Stages[i+1].Key
	} else {
		m.To.Status = MatterDone
	}
	return m
}

// StageActions lists the actions staff may take on a matter at position
// at, in MatterActions order: none once it is closed.
func StageActions(pr policy.Procedure, at Position) []string {
	if at.Status != MatterOpen {
		return nil
	}
	st, _, ok := pr.Stage(at.Stage)
	if !ok {
		return nil
	}
	var out []string
	for _, a := range MatterActions {
		if a != ActPropose && ActionAllowed(a, st.Kind) {
			out = append(out, a)
		}
	}
	return out
}
