package governance_test

import (
	"errors"
	"testing"

	"github.com/shequ-platform/shequ/internal/governance"
	"github.com/shequ-platform/shequ/internal/platform/policy"
)

// Kinds with the thresholds the packs use.
var (
	// SX-1's representatives' meeting as the brief reads it: two thirds
	// present, more than half of those present for.
	tallyRepsAtLeast = policy.BodyKind{Key: "representatives", Quorum: policy.Threshold{Share: "2/3"},
		Majority: policy.Threshold{Share: "1/2", Over: true, Of: policy.OfPresent}}
	// "more than two thirds present" (超过三分之二).
	tallyRepsOver = policy.BodyKind{Key: "representatives", Quorum: policy.Threshold{Share: "2/3", Over: true},
		Majority: policy.Threshold{Share: "1/2", Over: true, Of: policy.OfPresent}}
	// NT-7: more than half of all members, whoever attends.
	tallyOfMembers = policy.BodyKind{Key: "supervision", Quorum: policy.Threshold{Share: "1/2", Over: true},
		Majority: policy.Threshold{Share: "1/2", Over: true, Of: policy.OfMembers}}
	// at least half of those present (a tie passes).
	tallyHalfPresent = policy.BodyKind{Key: "council", Quorum: policy.Threshold{Share: "1/2"},
		Majority: policy.Threshold{Share: "1/2", Of: policy.OfPresent}}
)

func TestTallyQuorumAndMajority(t *testing.T) {
	cases := []struct {
		name                       string
		kind                       policy.BodyKind
		tally                      governance.Tally
		result                     string
		quorum                     bool
		needPresent, base, needFor int
	}{
		{"27 members, 18 present makes ≥ 2/3; 9 of 18 is not more than half", tallyRepsAtLeast,
			governance.Tally{Members: 27, Present: 18, For: 9, Against: 9}, governance.ResultFailed, true, 18, 18, 10},
		{"10 of 18 passes", tallyRepsAtLeast,
			governance.Tally{Members: 27, Present: 18, For: 10, Against: 8}, governance.ResultPassed, true, 18, 18, 10},
		{"17 of 27 is short of the quorum, however they vote", tallyRepsAtLeast,
			governance.Tally{Members: 27, Present: 17, For: 17}, governance.ResultNoQuorum, false, 18, 17, 9},
		{"more than 2/3 of 27 needs 19", tallyRepsOver,
			governance.Tally{Members: 27, Present: 18, For: 18}, governance.ResultNoQuorum, false, 19, 18, 10},
		{"19 of 27 is more than 2/3", tallyRepsOver,
			governance.Tally{Members: 27, Present: 19, For: 10, Against: 9}, governance.ResultPassed, true, 19, 19, 10},
		{"abstentions weigh like votes against", tallyRepsAtLeast,
			governance.Tally{Members: 27, Present: 20, For: 10, Against: 3, Abstain: 7}, governance.ResultFailed, true, 18, 20, 11},
		{"those who do not vote count toward none, but the base is all present", tallyRepsAtLeast,
			governance.Tally{Members: 27, Present: 20, For: 11}, governance.ResultPassed, true, 18, 20, 11},
		{"a tie is not more than half", tallyRepsAtLeast,
			governance.Tally{Members: 27, Present: 20, For: 10, Against: 10}, governance.ResultFailed, true, 18, 20, 11},
		{"a tie is at least half", tallyHalfPresent,
			governance.Tally{Members: 10, Present: 6, For: 3, Against: 3}, governance.ResultPassed, true, 5, 6, 3},
		{"of members: 13 of 27 fails even when everyone present votes for", tallyOfMembers,
			governance.Tally{Members: 27, Present: 14, For: 13, Against: 1}, governance.ResultFailed, true, 14, 27, 14},
		{"of members: 14 of 27 passes regardless of attendance", tallyOfMembers,
			governance.Tally{Members: 27, Present: 14, For: 14}, governance.ResultPassed, true, 14, 27, 14},
		{"of members: 14 for with 27 present", tallyOfMembers,
			governance.Tally{Members: 27, Present: 27, For: 14, Against: 13}, governance.ResultPassed, true, 14, 27, 14},
		{"of members: 13 present is no quorum", tallyOfMembers,
			governance.Tally{Members: 27, Present: 13, For: 13}, governance.ResultNoQuorum, false, 14, 27, 14},
		{"SX-1's management committee of 3: 2 present of 3, 2 for", policy.BodyKind{Quorum: policy.Threshold{Share: "2/3"},
			Majority: policy.Threshold{Share: "1/2", Over: true, Of: policy.OfPresent}},
			governance.Tally{Members: 3, Present: 2, For: 2}, governance.ResultPassed, true, 2, 2, 2},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			o, err := governance.Decide(c.kind, c.tally)
			if err != nil {
				t.Fatal(err)
			}
			if o.Result != c.result || o.Quorum != c.quorum || o.NeedPresent != c.needPresent || o.Base != c.base || o.NeedFor != c.needFor {
				t.Fatalf("got %+v, want result %s quorum %v need present %d base %d need for %d", o, c.result, c.quorum,
					c.needPresent, c.base, c.needFor)
			}
		})
	}
}

func TestTallyImpossible(t *testing.T) {
	cases := []struct {
		tally governance.Tally
		code  string
	}{
		{governance.Tally{Members: 0, Present: 0}, "no_members"},
		{governance.Tally{Members: 5, Present: -1}, "negative"},
		{governance.Tally{Members: 5, Present: 3, For: -1}, "negative"},
		{governance.Tally{Members: 5, Present: 6}, "present_over_members"},
		{governance.Tally{Members: 27, Present: 18, For: 10, Against: 8, Abstain: 1}, "votes_over_present"},
		{governance.Tally{Members: 27, Present: 18, For: 19}, "votes_over_present"},
	}
	for _, c := range cases {
		_, err := governance.Decide(tallyRepsAtLeast, c.tally)
		var te *governance.TallyError
		if !errors.As(err, &te) || te.Code != c.code {
			t.Errorf("%+v: got %v, want %s", c.tally, err, c.code)
		}
	}
}
