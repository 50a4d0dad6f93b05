package governance

import (
	"github.com/shequ-platform/shequ/internal/platform/policy"
)

// Vote choices.
const (
	For     = "for"
	Against = "against"
	Abstain = "abstain"
)

// Choices lists the vote choices.
var Choices = []string{For, Against, Abstain}

// Agenda item results.
const (
	ResultPending  = "pending"   // not voted yet
	ResultPassed   = "passed"    // quorum present and the majority reached
	ResultFailed   = "failed"    // quorum present, majority not reached
	ResultNoQuorum = "no_quorum" // too few members present: nothing may be resolved
)

// Tally is what a vote is decided from: the body's members on the day,
// those present (in person or by proxy), and the votes cast.
type Tally struct {
	Members int // members of the body on the meeting day
	Present int // present in person or represented by proxy
	For     int
	Against int
	Abstain int
}

// Outcome is a vote's result with the figures that decided it, so that a
// page can show why ("出席 20/27，需 ≥ 18；赞成 12，需 > 10").
type Outcome struct {
	Result string
	// Quorum tells whether enough members were present; NeedPresent is the
	// smallest attendance that makes a quorum.
	Quorum      bool
	NeedPresent int
	// Base is what the majority is a share of (present or members) and
	// NeedFor the fewest votes for that pass.
	Base    int
	NeedFor int
}

// TallyError is a tally that cannot be: more votes than members present,
// more present than members. Code is an error code for the i18n catalogue
// (gov.err.<code>).
type TallyError struct{ Code string }

func (e *TallyError) Error() string { return "governance: " + e.Code }

// Check reports an impossible tally.
func (t Tally) Check() error {
	switch {
	case t.Members <= 0:
		return &TallyError{"no_members"}
	case t.Present < 0 || t.For < 0 || t.Against < 0 || t.Abstain < 0:
		return &TallyError{"negative"}
	case t.Present > t.Members:
		return &TallyError{"present_over_members"}
	case t.For+t.Against+t.Abstain > t.Present:
		return &TallyError{"votes_over_present"}
	}
	return nil
}

// Decide computes a vote's outcome under the body's quorum and majority
// rules. The majority is a share of those present or of all members, as
// the pack says; abstentions count toward the base but not for the item,
// so an abstention weighs like a vote against (as 到会人员的过半数 reads).
// A tie is never a majority when the rule is "more than half".
func Decide(b policy.BodyKind, t Tally) (Outcome, error) {
	if err := t.Check(); err != nil {
		return Outcome{}, err
	}
	o := Outcome{NeedPresent: b.Quorum.Need(t.Members)}
	o.Quorum = b.Quorum.Met(t.Present, t.Members)
	o.Base = t.Present
	if b.Majority.Of == policy.OfMembers {
		o.Base = t.Members
	}
	o.NeedFor = b.Majority.Need(o.Base)
	switch {
	case !o.Quorum:
		o.Result = ResultNoQuorum
	case b.Majority.Met(t.For, o.Base):
		o.Result = ResultPassed
	default:
		o.Result = ResultFailed
	}
	return o, nil
}
