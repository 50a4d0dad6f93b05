package governance_test

import (
	"errors"
	"net/http"
	"net/http/httptest"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/shequ-platform/shequ/internal/division"
	gov "github.com/shequ-platform/shequ/internal/governance"
	"github.com/shequ-platform/shequ/internal/platform/db"
	"github.com/shequ-platform/shequ/internal/platform/db/dbtest"
	"github.com/shequ-platform/shequ/internal/platform/policy"
	"github.com/shequ-platform/shequ/internal/registry"
)

// ---- the pure rules ----

func TestElectionEligible(t *testing.T) {
	const day = 20261015 // election day
	rules := func(nonReg string, years int) policy.ElectionRules {
		return policy.ElectionRules{VoterAge: 18, NonRegistered: nonReg, Years: years, ProxyLimit: 3}
	}
	res := func(birth int, residency, status string, since int) registry.Resident {
		return registry.Resident{Name: "某", Birth: birth, Residency: residency, Status: status, Since: since}
	}
	cases := []struct {
		name   string
		r      registry.Resident
		rules  policy.ElectionRules
		ok     bool
		reason string
	}{
		{"18 on the day", res(20081015, registry.Registered, registry.Present, 20081015), rules("never", 0), true, ""},
		{"18 the day after", res(20081016, registry.Registered, registry.Present, 20081016), rules("never", 0), false, gov.IneligibleAge},
		{"18 the day before", res(20081014, registry.Registered, registry.Present, 20081014), rules("never", 0), true, ""},
		{"a child", res(20150601, registry.Registered, registry.Present, 20150601), rules("all", 0), false, gov.IneligibleAge},
		{"born on 29 February 2008, 18 by October", res(20080229, registry.Registered, registry.Present, 0), rules("never", 0), true, ""},
		{"no birth day", res(0, registry.Registered, registry.Present, 0), rules("all", 0), false, gov.IneligibleAge},
		{"non-registered, never", res(19800101, registry.NonRegistered, registry.Present, 20000101), rules("never", 0), false, gov.IneligibleNonRegistered},
		{"non-registered, all", res(19800101, registry.NonRegistered, registry.Present, 20260901), rules("all", 0), true, ""},
		{"non-registered, 3 years to the day", res(19800101, registry.NonRegistered, registry.Present, 20231015), rules("years", 3), true, ""},
		{"non-registered, 3 years less a day", res(19800101, registry.NonRegistered, registry.Present, 20231016), rules("years", 3), false, gov.IneligibleResidence},
		{"non-registered, arriving after the day", res(19800101, registry.NonRegistered, registry.Present, 20261101), rules("years", 1), false, gov.IneligibleResidence},
		{"non-registered, no since", res(19800101, registry.NonRegistered, registry.Present, 0), rules("years", 1), false, gov.IneligibleResidence},
		{"migrant under all", res(19800101, registry.Migrant, registry.Present, 20000101), rules("all", 0), false, gov.IneligibleMigrant},
		{"moved out", res(19800101, registry.Registered, registry.MovedOut, 20000101), rules("all", 0), false, gov.IneligibleNotPresent},
		{"deceased", res(19400101, registry.Registered, registry.Deceased, 20000101), rules("all", 0), false, gov.IneligibleNotPresent},
		{"voter age 16", res(20101015, registry.Registered, registry.Present, 0), policy.ElectionRules{VoterAge: 16, NonRegistered: "never"}, true, ""},
	}
	for _, c := range cases {
		ok, why := gov.Eligible(c.r, c.rules, day)
		if ok != c.ok || why != c.reason {
			t.Errorf("%s: got %v %q, want %v %q", c.name, ok, why, c.ok, c.reason)
		}
	}
	// 29 February: 18 on 1 March of a common year, not on 28 February.
	leap := res(20080229, registry.Registered, registry.Present, 0)
	if ok, _ := gov.Eligible(leap, rules("never", 0), 20260228); ok {
		t.Error("born 2008-02-29: eligible on 2026-02-28")
	}
	if ok, _ := gov.Eligible(leap, rules("never", 0), 20260301); !ok {
		t.Error("born 2008-02-29: not eligible on 2026-03-01")
	}
}

func TestElectionYearsBetween(t *testing.T) {
	for _, c := range []struct{ from, to, want int }{
		{20000101, 20000101, 0}, {20000101, 20001231, 0}, {20000101, 20010101, 1},
		{19900615, 20260614, 35}, {19900615, 20260615, 36}, {20260101, 20250101, -1},
	} {
		if got := gov.YearsBetween(c.from, c.to); got != c.want {
			t.Errorf("YearsBetween(%d, %d) = %d, want %d", c.from, c.to, got, c.want)
		}
	}
}

// cands builds candidates 1…n with the given votes; reserved marks those
// standing for the reserved seat "newcomers".
func cands(votes []int, reserved ...int64) []gov.Candidate {
	out := make([]gov.Candidate, len(votes))
	for i, v := range votes {
		out[i] = gov.Candidate{ID: int64(i + 1), Name: string(rune('A' + i)), Votes: v, Residency: registry.Registered}
		if slices.Contains(reserved, int64(i+1)) {
			out[i].Reserved, out[i].Residency = "newcomers", registry.NonRegistered
		}
	}
	return out
}

func elected(r gov.ElectionResult) []int64 {
	var out []int64
	for id := range r.Elected {
		out = append(out, id)
	}
	slices.Sort(out)
	return out
}

var newcomers = []policy.ReservedSeat{{Key: "newcomers", Residency: registry.NonRegistered, Seats: 1}}

func TestElectionElect(t *testing.T) {
	cases := []struct {
		name      string
		votes     []int
		reserved  []int64
		seats     int
		seatRules []policy.ReservedSeat
		chosen    []int64
		want      []int64
		tied      []int64
		tiedSeats int
	}{
		{name: "top three", votes: []int{50, 40, 30, 20, 10}, seats: 3, want: []int64{1, 2, 3}},
		{name: "fewer candidates than seats", votes: []int{5, 4}, seats: 3, want: []int64{1, 2}},
		{name: "no vote, no seat", votes: []int{5, 0, 0}, seats: 2, want: []int64{1}},
		{name: "tie above the last seat is no tie", votes: []int{50, 50, 30, 20}, seats: 3, want: []int64{1, 2, 3}},
		{name: "tie at the last seat", votes: []int{50, 40, 30, 30, 10}, seats: 3, want: []int64{1, 2}, tied: []int64{3, 4}, tiedSeats: 1},
		{name: "three level for two seats", votes: []int{50, 30, 30, 30}, seats: 3, want: []int64{1}, tied: []int64{2, 3, 4}, tiedSeats: 2},
		{name: "a re-vote decides", votes: []int{50, 40, 30, 30, 10}, seats: 3, chosen: []int64{4}, want: []int64{1, 2, 4}},
		{name: "reserved seat first, by its best candidate", votes: []int{50, 40, 30, 20, 10}, reserved: []int64{4, 5}, seats: 3,
			seatRules: newcomers, want: []int64{1, 2, 4}},
		{name: "a reserved candidate may win a general seat", votes: []int{50, 45, 30, 20}, reserved: []int64{1, 2}, seats: 3,
			seatRules: newcomers, want: []int64{1, 2, 3}},
		{name: "a reserved seat without a candidate stays vacant", votes: []int{50, 40, 30}, seats: 3,
			seatRules: newcomers, want: []int64{1, 2}},
		{name: "tie for the reserved seat leaves the general seats waiting", votes: []int{50, 40, 30, 20, 20}, reserved: []int64{4, 5},
			seats: 3, seatRules: newcomers, want: nil, tied: []int64{4, 5}, tiedSeats: 1},
		{name: "reserved tie resolved, the loser joins the general seats", votes: []int{50, 40, 30, 20, 20}, reserved: []int64{4, 5},
			seats: 3, seatRules: newcomers, chosen: []int64{5}, want: []int64{1, 2, 5}},
	}
	for _, c := range cases {
		chosen := map[int64]bool{}
		for _, id := range c.chosen {
			chosen[id] = true
		}
		r := gov.Elect(cands(c.votes, c.reserved...), c.seats, c.seatRules, chosen)
		if got := elected(r); !slices.Equal(got, c.want) {
			t.Errorf("%s: elected %v, want %v", c.name, got, c.want)
		}
		switch {
		case c.tied == nil && r.Tie != nil:
			t.Errorf("%s: tie %v reported", c.name, r.Tie.Tied)
		case c.tied != nil && r.Tie == nil:
			t.Errorf("%s: no tie reported, want %v", c.name, c.tied)
		case c.tied != nil:
			got := slices.Sorted(slices.Values(r.Tie.Tied))
			if !slices.Equal(got, c.tied) || r.Tie.TiedSeats != c.tiedSeats {
				t.Errorf("%s: tie %v for %d seats, want %v for %d", c.name, got, r.Tie.TiedSeats, c.tied, c.tiedSeats)
			}
		}
	}
	// The groups after a tie are undecided; vacancies are counted.
	r := gov.Elect(cands([]int{50, 40, 30, 20, 20}, 4, 5), 3, newcomers, nil)
	if len(r.Groups) != 2 || !r.Groups[1].Undecided || r.Groups[0].Reserved != "newcomers" {
		t.Errorf("groups %+v", r.Groups)
	}
	r = gov.Elect(cands([]int{50, 40, 30}), 3, newcomers, nil)
	if r.Groups[0].Vacant != 1 || r.Groups[1].Vacant != 0 {
		t.Errorf("vacancies %+v", r.Groups)
	}
}

func TestElectionFigures(t *testing.T) {
	rules := &policy.ElectionRules{VoterAge: 18, NonRegistered: "years", Years: 3, TurnoutTarget: 0.965, WomenSeats: 2, Reserved: newcomers}
	e := gov.Election{Voters: 200, Voted: 193, Seats: 3, Candidates: []gov.Candidate{
		{Name: "甲", Gender: "F", Elected: true}, {Name: "乙", Gender: "M", Elected: true},
		{Name: "丙", Gender: "F", Reserved: "newcomers", Elected: true}, {Name: "丁", Gender: "F"},
	}}
	f := e.Figures(rules)
	if !f.HasTurnout || !f.TurnoutMet || f.Women != 2 || !f.WomenMet {
		t.Errorf("figures %+v", f)
	}
	if len(f.Reserved) != 1 || f.Reserved[0].Filled != 1 || f.Reserved[0].Names[0] != "丙" {
		t.Errorf("reserved %+v", f.Reserved)
	}
	e.Voted = 192 // 96.0 % < 96.5 %
	if f := e.Figures(rules); f.TurnoutMet {
		t.Error("192 of 200 meets 96.5 %")
	}
	e.Candidates[0].Elected = false
	if f := e.Figures(rules); f.WomenMet || f.Women != 1 {
		t.Errorf("one woman meets two seats: %+v", f)
	}
	if _, ok := (gov.Election{}).Turnout(); ok {
		t.Error("an empty roll has a turnout")
	}
}

// ---- the roll ----

func TestElectionRollOnTheDay(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		f := newFixtureWith(t, d, "") // testGovernance: non-registered after 1 year, proxies 3, a reserved seat
		f.register(villageA, "新住户", "女", "1990-05-05", registry.NonRegistered, "2026-03-01")
		gone := f.register(villageA, "迁出者", "男", "1970-01-01", registry.Registered, "2010-01-01")
		dead := f.register(villageA, "故去者", "男", "1940-01-01", registry.Registered, "2010-01-01")
		for _, m := range []struct {
			r    registry.Resident
			kind string
		}{{gone, registry.EventMoveOut}, {dead, registry.EventDeath}} {
			if _, err := f.reg.Move(f.ctx, f.admin, m.r.ID, registry.MoveInput{Kind: m.kind}); err != nil {
				t.Fatal(err)
			}
		}
		// 章建平 (non-registered since 2015) moves to a grid of the
		// village: his own Since restarts, his years in the village do not.
		g, err := f.divs.Store.CreateSub(f.ctx, villageA, division.KindGrid, "第一网格")
		if err != nil {
			t.Fatal(err)
		}
		if _, err := f.reg.Move(f.ctx, f.admin, f.res("章建平").ID, registry.MoveInput{Kind: registry.EventTransfer, ToDivision: g.Code}); err != nil {
			t.Fatal(err)
		}

		e := f.election(f.villageStaffA, electionDay, 5)
		if e.State != gov.ElectionPreparing || e.Division != villageA || e.Day != 20261015 || e.CreatedBy != "villagea名" {
			t.Fatalf("election %+v", e)
		}
		sum := f.roll(f.villageStaffA, e.ID)
		// 28 adults and 少年甲 (18 on the day) of the 30 registered, the 6
		// non-registered of 2015; not 少年乙 (14), the 4 migrants, 新住户
		// (half a year), the one who moved out and the dead.
		if sum.Voters != 35 || sum.Excluded[gov.IneligibleAge] != 1 || sum.Excluded[gov.IneligibleMigrant] != 4 ||
			sum.Excluded[gov.IneligibleResidence] != 1 {
			t.Fatalf("summary %+v", sum)
		}
		roll := f.rollNames(e.ID)
		for _, in := range []string{"少年甲", "章建平", "陈建国", "奚玉梅"} {
			if _, ok := roll[in]; !ok {
				t.Errorf("%s is not on the roll", in)
			}
		}
		for _, out := range []string{"少年乙", "范大勇", "新住户", "迁出者", "故去者", "王五"} {
			if _, ok := roll[out]; ok {
				t.Errorf("%s is on the roll", out)
			}
		}
		if v := roll["少年甲"]; v.AgeOn(e.Day) != 18 || v.Gender != "M" || v.Residency != registry.Registered {
			t.Errorf("voter %+v", v)
		}
		if got := f.electionNow(e.ID); got.State != gov.ElectionRoll || got.Voters != 35 {
			t.Errorf("election after the roll %+v", got)
		}

		// The day before his birthday, 少年甲 may not vote.
		early := f.election(f.villageStaffA, "2026-10-14", 5)
		if sum := f.roll(f.villageStaffA, early.ID); sum.Voters != 34 || sum.Excluded[gov.IneligibleAge] != 2 {
			t.Errorf("a day earlier: %+v", sum)
		}

		// Rebuilding is idempotent and keeps proxies and candidates.
		if err := f.proxy(f.villageStaffA, e.ID, "周秀英", "陈建国"); err != nil {
			t.Fatal(err)
		}
		f.candidate(f.villageStaffA, e.ID, "吴志强", "")
		again := f.roll(f.villageStaffA, e.ID)
		if again.Voters != 35 || again.ProxiesDropped != 0 || len(again.CandidatesDropped) != 0 {
			t.Fatalf("rebuild %+v", again)
		}
		roll2 := f.rollNames(e.ID)
		if len(roll2) != len(roll) || roll2["周秀英"].TrusteeName != "陈建国" || roll2["陈建国"].Trusters != 1 || !roll2["吴志强"].Candidate {
			t.Errorf("rebuilt roll lost something: %+v %+v", roll2["周秀英"], roll2["吴志强"])
		}
		// A rebuild after 吴志强 moved out drops his candidacy; after 陈建国
		// left, the proxy he held.
		for _, n := range []string{"吴志强", "陈建国"} {
			if _, err := f.reg.Move(f.ctx, f.admin, f.res(n).ID, registry.MoveInput{Kind: registry.EventMoveOut}); err != nil {
				t.Fatal(err)
			}
		}
		third := f.roll(f.villageStaffA, e.ID)
		if third.Voters != 33 || third.ProxiesDropped != 1 || !slices.Equal(third.CandidatesDropped, []string{"吴志强"}) {
			t.Errorf("rebuild after moves %+v", third)
		}
		if f.audits("gov_election", "update") != 6 { // three rolls of e, one of early, a proxy and a candidate
			t.Errorf("audit entries %d", f.audits("gov_election", "update"))
		}
		// The voters table holds names, genders, births and residency:
		// no personal numbers.
		if n := f.count("SELECT COUNT(*) FROM gov_voters WHERE election_id = ? AND name = '少年甲' AND birth = 20081015", e.ID); n != 1 {
			t.Errorf("voter row %d", n)
		}
	})
}

func TestElectionCreateRefused(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		f := newFixtureWith(t, d, "")
		_, err := f.svc.CreateElection(f.ctx, f.villageStaffA, gov.ElectionInput{Village: villageA, BodyKind: "nope", Day: "2026-09-01", Seats: 1})
		codes := fieldErrors(t, err)
		for _, want := range []string{"body_kind:body_kind_unknown", "title:required", "day:day_past", "seats:seats_reserved"} {
			if !slices.Contains(codes, want) {
				t.Errorf("errors %q lack %s", codes, want)
			}
		}
		_, err = f.svc.CreateElection(f.ctx, f.villageStaffA, gov.ElectionInput{Village: villageA, BodyKind: "committee", Title: "x",
			Day: "2029-01-01", Seats: 100})
		wantFieldError(t, err, "day:day_far")
		wantFieldError(t, err, "seats:seats_max")
		_, err = f.svc.CreateElection(f.ctx, f.townStaffA, gov.ElectionInput{Village: townA, BodyKind: "committee", Title: "x", Day: electionDay, Seats: 3})
		wantFieldError(t, err, "village:village_level")
		// county staff see governance but do not run elections; village B's
		// staff do not see village A at all.
		_, err = f.svc.CreateElection(f.ctx, f.countyStaff, gov.ElectionInput{Village: villageA, BodyKind: "committee", Title: "x", Day: electionDay, Seats: 3})
		wantForbidden(t, err)
		_, err = f.svc.CreateElection(f.ctx, f.villageStaffB, gov.ElectionInput{Village: villageA, BodyKind: "committee", Title: "x", Day: electionDay, Seats: 3})
		wantNotFound(t, err)
		if n := f.count("SELECT COUNT(*) FROM gov_elections"); n != 0 {
			t.Errorf("%d elections stored", n)
		}
	})
}

func TestElectionScope(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		f := newFixtureWith(t, d, "")
		e := f.election(f.townStaffA, electionDay, 5)
		denied := f.audits("gov_election", "denied")
		_, err := f.svc.GetElection(f.ctx, f.villageStaffB, e.ID)
		wantNotFound(t, err)
		_, err = f.svc.BuildRoll(f.ctx, f.villageStaffB, e.ID)
		wantNotFound(t, err)
		if got := f.audits("gov_election", "denied"); got != denied+2 {
			t.Errorf("denials %d, want %d", got, denied+2)
		}
		// the viewer sees, and may not run it
		if _, err := f.svc.GetElection(f.ctx, f.viewer, e.ID); err != nil {
			t.Fatal(err)
		}
		_, err = f.svc.BuildRoll(f.ctx, f.viewer, e.ID)
		wantForbidden(t, err)
		f.roll(f.villageStaffA, e.ID)
		wantForbidden(t, f.proxy(f.viewer, e.ID, "周秀英", "陈建国"))
		wantNotFound(t, f.proxy(f.villageStaffB, e.ID, "周秀英", "陈建国"))
		_, err = f.svc.Voters(f.ctx, f.villageStaffB, e.ID, gov.VoterFilter{})
		wantNotFound(t, err)
		list, _, err := f.svc.Elections(f.ctx, f.villageStaffB, gov.ElectionFilter{})
		if err != nil || len(list) != 0 {
			t.Errorf("village B lists %d elections (%v)", len(list), err)
		}
		list, _, err = f.svc.Elections(f.ctx, f.viewer, gov.ElectionFilter{})
		if err != nil || len(list) != 1 {
			t.Errorf("the viewer lists %d elections (%v)", len(list), err)
		}
	})
}

// ---- proxies, candidates, voting ----

func TestElectionProxies(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		f := newFixtureWith(t, d, "") // proxy_limit 3
		e := f.election(f.villageStaffA, electionDay, 5)
		wantElectionError(t, f.proxy(f.villageStaffA, e.ID, "周秀英", "陈建国"), gov.ElectionErrNoRoll)
		f.roll(f.villageStaffA, e.ID)
		for _, truster := range []string{"周秀英", "吴志强", "郑丽华"} {
			if err := f.proxy(f.villageStaffA, e.ID, truster, "陈建国"); err != nil {
				t.Fatalf("%s: %v", truster, err)
			}
		}
		err := f.proxy(f.villageStaffA, e.ID, "王德明", "陈建国")
		if arg := fieldArg(t, err, "trustee", "proxy_limit"); arg != "陈建国" {
			t.Errorf("limit names %q", arg)
		}
		wantFieldError(t, f.proxy(f.villageStaffA, e.ID, "王德明", "王德明"), "trustee:proxy_self")
		wantFieldError(t, f.proxy(f.villageStaffA, e.ID, "王德明", "周秀英"), "trustee:proxy_chain")   // 周秀英 entrusted 陈建国
		wantFieldError(t, f.proxy(f.villageStaffA, e.ID, "陈建国", "王德明"), "truster:proxy_trustee") // 陈建国 votes for three
		wantFieldError(t, f.proxy(f.villageStaffA, e.ID, "少年乙", "王德明"), "truster:not_voter")
		wantFieldError(t, f.proxy(f.villageStaffA, e.ID, "王德明", "王五"), "trustee:not_voter")
		if n := f.count("SELECT COUNT(*) FROM gov_voters WHERE election_id = ? AND trustee_id <> 0", e.ID); n != 3 {
			t.Fatalf("%d proxies stored after the refusals", n)
		}
		// moving a trust to another trustee frees a place
		if err := f.proxy(f.villageStaffA, e.ID, "郑丽华", "王德明"); err != nil {
			t.Fatal(err)
		}
		if err := f.proxy(f.villageStaffA, e.ID, "冯桂芳", "陈建国"); err != nil {
			t.Fatal(err)
		}
		ps, err := f.svc.Proxies(f.ctx, f.villageStaffA, e.ID)
		if err != nil || len(ps) != 4 {
			t.Fatalf("proxies %+v %v", ps, err)
		}
		if err := f.svc.ClearProxy(f.ctx, f.villageStaffA, e.ID, f.res("冯桂芳").ID); err != nil {
			t.Fatal(err)
		}
		if got := f.rollNames(e.ID)["陈建国"].Trusters; got != 2 {
			t.Errorf("陈建国 holds %d", got)
		}
		if n := f.audits("gov_election", "update"); n != 7 { // roll, 5 proxies, 1 cleared
			t.Errorf("audit entries %d", n)
		}
	})
}

func TestElectionNoProxies(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		f := newFixtureWith(t, d, strings.Replace(testGovernance, "  proxy_limit: 3\n", "  proxy_limit: 0\n", 1))
		e := f.election(f.villageStaffA, electionDay, 5)
		f.roll(f.villageStaffA, e.ID)
		wantFieldError(t, f.proxy(f.villageStaffA, e.ID, "周秀英", "陈建国"), "trustee:proxy_none")
	})
}

func TestElectionCandidates(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		f := newFixtureWith(t, d, "") // reserved seat "newcomers" for non-registered residents
		e := f.election(f.villageStaffA, electionDay, 5)
		f.roll(f.villageStaffA, e.ID)
		c := f.candidate(f.villageStaffA, e.ID, "章建平", "newcomers")
		if c.Reserved != "newcomers" || c.Residency != registry.NonRegistered || c.Name != "章建平" {
			t.Fatalf("candidate %+v", c)
		}
		_, err := f.svc.AddCandidate(f.ctx, f.villageStaffA, e.ID, gov.CandidateInput{ResidentID: f.res("章建平").ID})
		wantFieldError(t, err, "resident_id:candidate_twice")
		_, err = f.svc.AddCandidate(f.ctx, f.villageStaffA, e.ID, gov.CandidateInput{ResidentID: f.res("陈建国").ID, Reserved: "newcomers"})
		wantFieldError(t, err, "reserved:reserved_residency")
		_, err = f.svc.AddCandidate(f.ctx, f.villageStaffA, e.ID, gov.CandidateInput{ResidentID: f.res("陈建国").ID, Reserved: "elders"})
		wantFieldError(t, err, "reserved:reserved_unknown")
		for _, n := range []string{"范大勇", "少年乙", "王五"} { // a migrant, a minor, another village
			_, err = f.svc.AddCandidate(f.ctx, f.villageStaffA, e.ID, gov.CandidateInput{ResidentID: f.res(n).ID})
			wantFieldError(t, err, "resident_id:candidate_not_voter")
		}
		if n := f.count("SELECT COUNT(*) FROM gov_candidates WHERE election_id = ?", e.ID); n != 1 {
			t.Errorf("%d candidates stored", n)
		}
		x := f.candidate(f.villageStaffA, e.ID, "陈建国", "")
		if err := f.svc.RemoveCandidate(f.ctx, f.villageStaffA, e.ID, x.ID); err != nil {
			t.Fatal(err)
		}
		if got := f.electionNow(e.ID).Candidates; len(got) != 1 {
			t.Errorf("candidates %+v", got)
		}
	})
}

func TestElectionVoting(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		f := newFixtureWith(t, d, "")
		e := f.election(f.villageStaffA, electionDay, 5)
		f.roll(f.villageStaffA, e.ID)
		for _, truster := range []string{"周秀英", "吴志强", "郑丽华"} {
			if err := f.proxy(f.villageStaffA, e.ID, truster, "陈建国"); err != nil {
				t.Fatal(err)
			}
		}
		_, err := f.svc.MarkVoted(f.ctx, f.villageStaffA, e.ID, f.res("陈建国").ID)
		wantElectionError(t, err, gov.ElectionErrNotYet)
		f.on(20261015)
		f.markVoted(f.villageStaffA, e.ID, "吴志强") // came in person after all
		n, err := f.svc.MarkVoted(f.ctx, f.villageStaffA, e.ID, f.res("陈建国").ID)
		if err != nil || n != 2 {
			t.Fatalf("trustee marks %d trusters (%v)", n, err)
		}
		roll := f.rollNames(e.ID)
		for name, want := range map[string]string{"陈建国": gov.VotedInPerson, "吴志强": gov.VotedInPerson, "周秀英": gov.VotedByProxy,
			"郑丽华": gov.VotedByProxy, "王德明": ""} {
			if roll[name].Voted != want {
				t.Errorf("%s voted %q, want %q", name, roll[name].Voted, want)
			}
		}
		// a member voting twice, in person or by proxy, is refused
		for _, twice := range []string{"陈建国", "周秀英"} {
			_, err := f.svc.MarkVoted(f.ctx, f.villageStaffA, e.ID, f.res(twice).ID)
			if arg := fieldArg(t, err, "resident_id", "voted_twice"); arg != twice {
				t.Errorf("voted twice names %q", arg)
			}
		}
		_, err = f.svc.MarkVoted(f.ctx, f.villageStaffA, e.ID, f.res("范大勇").ID)
		wantFieldError(t, err, "resident_id:not_voter")
		if got := f.electionNow(e.ID); got.Voted != 4 {
			t.Errorf("voted %d", got.Voted)
		}
		// voting has started: the roll and the candidates are frozen, the
		// proxies given stay
		_, err = f.svc.BuildRoll(f.ctx, f.villageStaffA, e.ID)
		wantElectionError(t, err, gov.ElectionErrFrozen)
		_, err = f.svc.AddCandidate(f.ctx, f.villageStaffA, e.ID, gov.CandidateInput{ResidentID: f.res("王德明").ID})
		wantElectionError(t, err, gov.ElectionErrFrozen)
		wantFieldError(t, f.proxy(f.villageStaffA, e.ID, "王德明", "陈建国"), "trustee:proxy_voted")
		wantFieldError(t, f.svc.ClearProxy(f.ctx, f.villageStaffA, e.ID, f.res("周秀英").ID), "truster:proxy_voted")
		page, err := f.svc.Voters(f.ctx, f.villageStaffA, e.ID, gov.VoterFilter{View: gov.VotersNotVoted, Q: "王", Limit: 10})
		if err != nil || page.Total != 1 || page.Voters[0].Name != "王德明" {
			t.Errorf("not voted 王: %+v %v", page, err)
		}
	})
}

// ---- the count ----

// counted runs an election at villageA to the count: the roll, candidates
// 陈建国, 周秀英, 吴志强, 郑丽华 (general) and 章建平 (newcomers), 30 voters
// marked.
func countedSetup(f *fixture, seats int) (gov.Election, map[string]gov.Candidate) {
	f.t.Helper()
	e := f.election(f.villageStaffA, electionDay, seats)
	f.roll(f.villageStaffA, e.ID)
	cs := map[string]gov.Candidate{}
	for _, n := range []string{"陈建国", "周秀英", "吴志强", "郑丽华"} {
		cs[n] = f.candidate(f.villageStaffA, e.ID, n, "")
	}
	cs["章建平"] = f.candidate(f.villageStaffA, e.ID, "章建平", "newcomers")
	f.on(20261015)
	page, err := f.svc.Voters(f.ctx, f.admin, e.ID, gov.VoterFilter{Limit: 30})
	if err != nil {
		f.t.Fatal(err)
	}
	for _, v := range page.Voters {
		if _, err := f.svc.MarkVoted(f.ctx, f.villageStaffA, e.ID, v.ResidentID); err != nil {
			f.t.Fatal(err)
		}
	}
	return f.electionNow(e.ID), cs
}

func votes(cs map[string]gov.Candidate, by map[string]int) map[int64]int {
	out := map[int64]int{}
	for n, v := range by {
		out[cs[n].ID] = v
	}
	return out
}

func TestElectionCountRefused(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		f := newFixtureWith(t, d, "")
		e, cs := countedSetup(f, 3)
		if e.Voted != 30 || e.Voters != 35 {
			t.Fatalf("election %+v", e)
		}
		ok := map[string]int{"陈建国": 20, "周秀英": 18, "吴志强": 15, "郑丽华": 10, "章建平": 12}
		cases := []struct {
			in   gov.CountInput
			want string
		}{
			{gov.CountInput{Ballots: 31, Invalid: 1, Votes: votes(cs, ok)}, "ballots:ballots_over_voted"},
			{gov.CountInput{Ballots: 30, Invalid: 31, Votes: votes(cs, ok)}, "invalid:invalid_over_ballots"},
			{gov.CountInput{Ballots: 30, Invalid: 2, Votes: votes(cs, map[string]int{"陈建国": 29, "周秀英": 1, "吴志强": 1, "郑丽华": 1, "章建平": 1})},
				"votes[" + strconv.FormatInt(cs["陈建国"].ID, 10) + "]:votes_over_valid"},
			{gov.CountInput{Ballots: 30, Invalid: 0, Votes: votes(cs, map[string]int{"陈建国": 30, "周秀英": 30, "吴志强": 30, "郑丽华": 1, "章建平": 0})},
				"votes:votes_over_seats"},
			{gov.CountInput{Ballots: 30, Invalid: 0, Votes: votes(cs, map[string]int{"陈建国": 20})},
				"votes[" + strconv.FormatInt(cs["周秀英"].ID, 10) + "]:required"},
			{gov.CountInput{Ballots: 30, Invalid: 0, Votes: votes(cs, map[string]int{"陈建国": -1, "周秀英": 1, "吴志强": 1, "郑丽华": 1, "章建平": 1})},
				"votes[" + strconv.FormatInt(cs["陈建国"].ID, 10) + "]:negative"},
			{gov.CountInput{Ballots: 0, Votes: votes(cs, ok)}, "ballots:required"},
		}
		for _, c := range cases {
			_, err := f.svc.Count(f.ctx, f.villageStaffA, e.ID, c.in)
			wantFieldError(t, err, c.want)
		}
		// nothing half-stored
		if n := f.count("SELECT COUNT(*) FROM gov_candidates WHERE election_id = ? AND (votes <> 0 OR elected <> 0)", e.ID); n != 0 {
			t.Errorf("%d candidates with votes after refusals", n)
		}
		if got := f.electionNow(e.ID); got.Ballots != 0 || got.State != gov.ElectionRoll {
			t.Errorf("election after refusals %+v", got)
		}
		if f.sum(gov.MetricVoters, villageA) != 0 {
			t.Error("facts after refusals")
		}
	})
}

func TestElectionCountResults(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		f := newFixtureWith(t, d, "") // turnout 96.5 %, one woman, one seat for non-registered residents
		e, cs := countedSetup(f, 3)
		res, err := f.svc.Count(f.ctx, f.villageStaffA, e.ID, gov.CountInput{Ballots: 30, Invalid: 2,
			Votes: votes(cs, map[string]int{"陈建国": 25, "周秀英": 20, "吴志强": 21, "郑丽华": 10, "章建平": 8})})
		if err != nil {
			t.Fatal(err)
		}
		if res.Tie != nil {
			t.Fatalf("tie %+v", res.Tie)
		}
		e = f.electionNow(e.ID)
		var names []string
		for _, c := range e.Elected() {
			names = append(names, c.Name)
		}
		// the reserved seat goes to 章建平 with 8; the two general seats to
		// 陈建国 and 吴志强; 周秀英 (20) is not elected
		if e.State != gov.ElectionCounted || e.Ballots != 30 || e.Invalid != 2 || e.Valid() != 28 ||
			!slices.Equal(names, []string{"陈建国", "吴志强", "章建平"}) {
			t.Fatalf("election %+v elected %v", e, names)
		}
		fig := e.Figures(f.svc.ElectionRules(villageA))
		if fig.TurnoutMet || fig.Women != 0 || fig.WomenMet || len(fig.Reserved) != 1 || fig.Reserved[0].Filled != 1 {
			t.Errorf("figures %+v", fig)
		}
		if f.sum(gov.MetricVoters, townA) != 35 || f.sum(gov.MetricVoted, villageA) != 30 {
			t.Errorf("facts %d %d", f.sum(gov.MetricVoters, townA), f.sum(gov.MetricVoted, villageA))
		}
		_, err = f.svc.Count(f.ctx, f.villageStaffA, e.ID, gov.CountInput{Ballots: 30, Votes: votes(cs, map[string]int{})})
		wantElectionError(t, err, gov.ElectionErrCounted)
		_, err = f.svc.MarkVoted(f.ctx, f.villageStaffA, e.ID, f.res("王德明").ID)
		wantElectionError(t, err, gov.ElectionErrCounted)
		pub, err := f.svc.PublicElections(f.ctx, villageA)
		if err != nil || len(pub) != 1 || pub[0].Candidates[0].Name != "陈建国" || pub[0].Candidates[0].Votes != 25 {
			t.Errorf("public %+v %v", pub, err)
		}
		if pub, _ := f.svc.PublicElections(f.ctx, villageB); len(pub) != 0 {
			t.Errorf("village B publishes %+v", pub)
		}
	})
}

func TestElectionTie(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		f := newFixtureWith(t, d, "")
		e, cs := countedSetup(f, 3)
		res, err := f.svc.Count(f.ctx, f.villageStaffA, e.ID, gov.CountInput{Ballots: 30, Invalid: 0,
			Votes: votes(cs, map[string]int{"陈建国": 25, "周秀英": 20, "吴志强": 20, "郑丽华": 10, "章建平": 8})})
		if err != nil {
			t.Fatal(err)
		}
		if res.Tie == nil || res.Tie.TiedSeats != 1 || len(res.Tie.Tied) != 2 {
			t.Fatalf("tie %+v", res.Tie)
		}
		e = f.electionNow(e.ID)
		if !e.Pending() || e.State != gov.ElectionRoll || len(e.Elected()) != 2 || f.sum(gov.MetricVoters, villageA) != 0 {
			t.Fatalf("pending election %+v, elected %+v", e, e.Elected())
		}
		if r := f.svc.Result(e); r.Tie == nil || r.Tie.Reserved != "" {
			t.Fatalf("result of the stored count %+v", r)
		}
		// a correction of the count is allowed while the tie waits
		if _, err := f.svc.Count(f.ctx, f.villageStaffA, e.ID, gov.CountInput{Ballots: 30, Invalid: 1,
			Votes: votes(cs, map[string]int{"陈建国": 25, "周秀英": 20, "吴志强": 20, "郑丽华": 10, "章建平": 8})}); err != nil {
			t.Fatal(err)
		}
		_, err = f.svc.ResolveTie(f.ctx, f.villageStaffA, e.ID, gov.Revote{Winners: []int64{cs["郑丽华"].ID}, Note: "x"})
		wantFieldError(t, err, "winners:revote_winners")
		_, err = f.svc.ResolveTie(f.ctx, f.villageStaffA, e.ID, gov.Revote{Winners: []int64{cs["周秀英"].ID, cs["吴志强"].ID}, Note: "x"})
		wantFieldError(t, err, "winners:revote_winners")
		_, err = f.svc.ResolveTie(f.ctx, f.villageStaffA, e.ID, gov.Revote{Winners: []int64{cs["周秀英"].ID}})
		wantFieldError(t, err, "note:required")
		res, err = f.svc.ResolveTie(f.ctx, f.villageStaffA, e.ID, gov.Revote{Winners: []int64{cs["周秀英"].ID},
			Note: "10月16日就周秀英、吴志强另行投票，周秀英得16票当选"})
		if err != nil || res.Tie != nil {
			t.Fatalf("re-vote: %+v %v", res.Tie, err)
		}
		e = f.electionNow(e.ID)
		var names []string
		for _, c := range e.Elected() {
			names = append(names, c.Name)
		}
		if e.State != gov.ElectionCounted || !slices.Equal(names, []string{"陈建国", "周秀英", "章建平"}) {
			t.Fatalf("after the re-vote %+v %v", e.State, names)
		}
		if f.sum(gov.MetricVoted, villageA) != 30 {
			t.Error("facts not written at the count")
		}
		notes, err := f.svc.RevoteNotes(f.ctx, e)
		if err != nil || len(notes) != 1 || !strings.Contains(notes[0], "另行投票") {
			t.Errorf("notes %q %v", notes, err)
		}
		_, err = f.svc.ResolveTie(f.ctx, f.villageStaffA, e.ID, gov.Revote{Winners: []int64{cs["吴志强"].ID}, Note: "again"})
		wantElectionError(t, err, gov.ElectionErrNoTie)
	})
}

// ---- pages ----

func TestElectionPages(t *testing.T) {
	f := newFixtureWith(t, dbtest.SQLite(t), "")
	w := newElWeb(t, f)
	p := f.villageStaffA
	code, page := w.get(p, "/governance/elections/new")
	if code != http.StatusOK || !strings.Contains(page, `name="body_kind"`) {
		t.Fatalf("new form %d: %s", code, elPageText(page))
	}
	form := url.Values{"village": {strconv.FormatInt(villageA, 10)}, "body_kind": {"committee"}, "title": {""}, "day": {"2026-09-01"}, "seats": {"3"}}
	r := w.post(p, "/governance/elections/new", form)
	if body := elPageText(r.Body.String()); r.Code != http.StatusUnprocessableEntity || !strings.Contains(body, "选举日不能早于今天") || !strings.Contains(body, "必须填写") {
		t.Fatalf("refused form %d: %s", r.Code, body)
	}
	form.Set("title", "第十二届居民委员会换届选举")
	form.Set("day", electionDay)
	r = w.post(p, "/governance/elections/new", form)
	if r.Code != http.StatusSeeOther {
		t.Fatalf("create %d: %s", r.Code, elPageText(r.Body.String()))
	}
	base := strings.Split(r.Header().Get("Location"), "?")[0]
	act := func(v url.Values) *httptest.ResponseRecorder { return w.post(p, base+"/act", v) }
	if r := act(url.Values{"kind": {"roll"}}); r.Code != http.StatusSeeOther || !strings.Contains(r.Header().Get("Location"), "x_migrant=4") {
		t.Fatalf("roll %d %s", r.Code, r.Header().Get("Location"))
	} else if code, page := w.get(p, r.Header().Get("Location")); code != http.StatusOK || !strings.Contains(elPageText(page), "选民名单已生成，共 35 人") ||
		!strings.Contains(elPageText(page), "流动人口 4") {
		t.Fatalf("roll page %d: %s", code, elPageText(page))
	}
	id := func(name string) string { return strconv.FormatInt(f.res(name).ID, 10) }
	for _, n := range []string{"陈建国", "周秀英", "吴志强", "郑丽华"} {
		if r := act(url.Values{"kind": {"candidate"}, "resident_id": {id(n)}}); r.Code != http.StatusSeeOther {
			t.Fatalf("nominate %s: %d %s", n, r.Code, elPageText(r.Body.String()))
		}
	}
	if r := act(url.Values{"kind": {"candidate"}, "resident_id": {id("章建平")}, "reserved": {"newcomers"}}); r.Code != http.StatusSeeOther {
		t.Fatalf("nominate for the reserved seat: %d", r.Code)
	}
	// the proxy page, then a proxy over the limit refused there
	code, page = w.get(p, base+"/proxy?truster="+id("王德明")+"&q=陈")
	if code != http.StatusOK || !strings.Contains(page, "proxy-hits") || !strings.Contains(page, "陈建国") {
		t.Fatalf("proxy page %d: %s", code, elPageText(page))
	}
	for _, n := range []string{"冯桂芳", "朱永康", "秦玉兰"} {
		if r := act(url.Values{"kind": {"proxy"}, "truster": {id(n)}, "trustee": {id("陈建国")}}); r.Code != http.StatusSeeOther {
			t.Fatalf("proxy %s: %d %s", n, r.Code, elPageText(r.Body.String()))
		}
	}
	r = act(url.Values{"kind": {"proxy"}, "from": {"proxy"}, "truster": {id("王德明")}, "trustee": {id("陈建国")}, "q": {"陈"}})
	if body := elPageText(r.Body.String()); r.Code != http.StatusUnprocessableEntity || !strings.Contains(body, "陈建国 已接受 3 人委托，达到每人上限") {
		t.Fatalf("proxy over the limit %d: %s", r.Code, body)
	}
	// voting on the day; twice is refused with the voter's name
	f.on(20261015)
	if r := act(url.Values{"kind": {"voted"}, "resident_id": {id("陈建国")}, "back": {"q=陈"}}); r.Code != http.StatusSeeOther ||
		!strings.Contains(r.Header().Get("Location"), "n=3") || !strings.Contains(r.Header().Get("Location"), "q=%E9%99%88") {
		t.Fatalf("mark %d %s", r.Code, r.Header().Get("Location"))
	}
	r = act(url.Values{"kind": {"voted"}, "resident_id": {id("冯桂芳")}})
	if body := elPageText(r.Body.String()); r.Code != http.StatusUnprocessableEntity || !strings.Contains(body, "冯桂芳 已经投过票，不能重复投票") {
		t.Fatalf("twice %d: %s", r.Code, body)
	}
	for _, n := range []string{"周秀英", "吴志强", "郑丽华", "章建平", "王德明", "施红梅"} {
		if r := act(url.Values{"kind": {"voted"}, "resident_id": {id(n)}}); r.Code != http.StatusSeeOther {
			t.Fatalf("mark %s: %d", n, r.Code)
		}
	}
	e := f.electionNow(f.electionsOf(villageA)[0])
	votesOf := func(by map[string]string) url.Values {
		v := url.Values{"kind": {"count"}, "ballots": {"10"}, "invalid": {"1"}}
		for _, c := range e.Candidates {
			v.Set("votes_"+strconv.FormatInt(c.ID, 10), by[c.Name])
		}
		return v
	}
	r = act(votesOf(map[string]string{"陈建国": "10", "周秀英": "8", "吴志强": "7", "郑丽华": "2", "章建平": "5"}))
	if body := elPageText(r.Body.String()); r.Code != http.StatusUnprocessableEntity || !strings.Contains(body, "陈建国 的得票：得票不能多于有效票（9 张）") {
		t.Fatalf("count over the valid ballots %d: %s", r.Code, body)
	}
	r = act(votesOf(map[string]string{"陈建国": "9", "周秀英": "8", "吴志强": "6", "郑丽华": "1", "章建平": "3"}))
	if r.Code != http.StatusSeeOther {
		t.Fatalf("count %d: %s", r.Code, elPageText(r.Body.String()))
	}
	code, page = w.get(p, base)
	body := elPageText(page)
	if code != http.StatusOK || !strings.Contains(page, `id="result"`) || !strings.Contains(body, "当选女性 1 名，应不少于 1 名") ||
		!strings.Contains(body, "参选率 28.6%，目标 96.5%") || !strings.Contains(body, "当选 1 名，名额 1 名") {
		t.Fatalf("result %d: %s", code, body)
	}
	// no ID numbers on any of it: the fixture registers none, and the
	// roll shows name, gender and age only
	if strings.Contains(page, "身份证") {
		t.Error("the roll mentions ID numbers")
	}
	code, page = w.get(f.viewer, "/governance/elections")
	if code != http.StatusOK || !strings.Contains(page, "第十二届居民委员会换届选举") || strings.Contains(page, `id="new-election"`) {
		t.Fatalf("list for the viewer %d: %s", code, elPageText(page))
	}
	if code, _ := w.get(f.villageStaffB, base); code != http.StatusNotFound {
		t.Errorf("village B sees the election: %d", code)
	}
	if r := w.post(f.viewer, base+"/act", url.Values{"kind": {"roll"}}); r.Code != http.StatusForbidden {
		t.Errorf("the viewer builds the roll: %d", r.Code)
	}
}

// The Organic Law's art. 15 as the shipped packs put it (elections.valid
// and .win): the election is void unless more than half of the roll voted,
// and a candidate needs more than half of those who voted.
func TestElectionLawThresholds(t *testing.T) {
	// pure: a candidate short of minVotes leaves the seat vacant
	c := []gov.Candidate{{ID: 1, Votes: 20}, {ID: 2, Votes: 16}, {ID: 3, Votes: 15}}
	r := gov.ElectWith(c, 3, nil, nil, 16)
	if !r.Elected[1] || !r.Elected[2] || r.Elected[3] || r.Groups[0].Vacant != 1 {
		t.Fatalf("ElectWith minVotes 16: %+v", r)
	}
	if r := gov.Elect(c, 3, nil, nil); !r.Elected[3] {
		t.Fatalf("Elect without a threshold: %+v", r)
	}
	law := strings.Replace(testGovernance, "elections:\n", "elections:\n  valid: {share: 1/2, over: true}\n  win: {share: 1/2, over: true}\n", 1)
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		f := newFixtureWith(t, d, law)
		e := f.election(f.villageStaffA, electionDay, 3)
		f.roll(f.villageStaffA, e.ID)
		cs := map[string]gov.Candidate{}
		for _, n := range []string{"陈建国", "周秀英", "吴志强", "郑丽华"} {
			cs[n] = f.candidate(f.villageStaffA, e.ID, n, "")
		}
		f.on(20261015)
		page, err := f.svc.Voters(f.ctx, f.admin, e.ID, gov.VoterFilter{Limit: 100})
		if err != nil {
			t.Fatal(err)
		}
		half := len(page.Voters) / 2 // not more than half: void
		for _, v := range page.Voters[:half] {
			if _, err := f.svc.MarkVoted(f.ctx, f.villageStaffA, e.ID, v.ResidentID); err != nil {
				t.Fatal(err)
			}
		}
		in := gov.CountInput{Ballots: half, Votes: votes(cs, map[string]int{"陈建国": half, "周秀英": half, "吴志强": 1, "郑丽华": 0})}
		_, err = f.svc.Count(f.ctx, f.villageStaffA, e.ID, in)
		var ee *gov.ElectionError
		if !errors.As(err, &ee) || ee.Code != gov.ElectionErrTurnout {
			t.Fatalf("count with %d of %d voted: %v", half, len(page.Voters), err)
		}
		// one more voter makes it valid; 吴志强 has fewer than half of those who voted
		if _, err := f.svc.MarkVoted(f.ctx, f.villageStaffA, e.ID, page.Voters[half].ResidentID); err != nil {
			t.Fatal(err)
		}
		voted := half + 1
		need := voted/2 + 1
		in = gov.CountInput{Ballots: voted, Votes: votes(cs, map[string]int{"陈建国": voted, "周秀英": need, "吴志强": need - 1, "郑丽华": 0})}
		res, err := f.svc.Count(f.ctx, f.villageStaffA, e.ID, in)
		if err != nil {
			t.Fatal(err)
		}
		if !res.Elected[cs["陈建国"].ID] || !res.Elected[cs["周秀英"].ID] || res.Elected[cs["吴志强"].ID] {
			t.Fatalf("elected %v (need %d of %d)", res.Elected, need, voted)
		}
		vacant := 0
		for _, g := range res.Groups {
			vacant += g.Vacant
		}
		if vacant != 1 {
			t.Fatalf("vacant %d, want 1: %+v", vacant, res.Groups)
		}
	})
}
