package governance

// Elections (DG-3): a village or residents' committee, or the
// representatives, elected by the residents. The voter roll is built from
// the registry on the pack's rules as they stand on the election day (age,
// residency, years of residence); voters may entrust another voter with
// their vote up to the pack's limit per trustee; candidates stand from the
// roll, some for seats reserved to a residency; voters are marked as they
// vote (a trustee's vote carries their trusters'); the count is checked
// against the ballots and the roll, and the seats go to the candidates
// with the most votes, reserved seats first. A tie at the last seat is
// reported and waits for a re-vote: the software never breaks it.
//
// This file holds the model and the rules (Eligible, Elect, the figures)
// and the operations; store_elections.go the SQL; http_elections.go and
// templates/gov_election*.html the pages.

import (
	"cmp"
	"context"
	"errors"
	"slices"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/shequ-platform/shequ/internal/platform/access"
	"github.com/shequ-platform/shequ/internal/platform/audit"
	"github.com/shequ-platform/shequ/internal/platform/calendar"
	"github.com/shequ-platform/shequ/internal/platform/db"
	"github.com/shequ-platform/shequ/internal/platform/facts"
	"github.com/shequ-platform/shequ/internal/platform/field"
	"github.com/shequ-platform/shequ/internal/platform/ids"
	"github.com/shequ-platform/shequ/internal/platform/policy"
	"github.com/shequ-platform/shequ/internal/registry"
)

// Election states.
const (
	ElectionPreparing = "preparing" // created; no voter roll yet
	ElectionRoll      = "roll"      // the roll is built: proxies, candidates, voting, the count
	ElectionCounted   = "counted"   // the count is recorded and every seat decided
)

// ElectionStates lists the states in order.
var ElectionStates = []string{ElectionPreparing, ElectionRoll, ElectionCounted}

// genderFemale is how the registry writes a woman's gender.
const genderFemale = "F"

// How a voter voted.
const (
	VotedInPerson = "person"
	VotedByProxy  = "proxy"
)

// Reasons a present resident of the village is not on the roll (Eligible).
const (
	IneligibleNotPresent    = "not_present"     // moved out or deceased
	IneligibleAge           = "under_age"       // younger than the voter age on the election day
	IneligibleMigrant       = "migrant"         // migrants never vote in the village
	IneligibleNonRegistered = "non_registered"  // the pack lets no non-registered resident vote
	IneligibleResidence     = "residence_short" // non-registered, not yet the years the pack asks
	IneligibleResidency     = "residency"       // no residency the rules know
)

// IneligibleReasons lists the reasons in the order the roll's summary
// shows them.
var IneligibleReasons = []string{IneligibleAge, IneligibleNonRegistered, IneligibleResidence, IneligibleMigrant,
	IneligibleResidency, IneligibleNotPresent}

// Bounds of an election's input.
const (
	MaxElectionTitleRunes = 100
	MaxSeats              = 99
	MaxRevoteNoteRunes    = 1000
	// electionDaysAhead is how far ahead an election may be scheduled.
	electionDaysAhead = 2 * 366
)

// Election is one election at a village (gov_elections).
type Election struct {
	ID       int64
	County   int64
	Division int64  // the village
	BodyKind string // the body kind elected (policy.BodyKind.Key)
	Title    string
	Day      int // the election day, YYYYMMDD: the roll is built for it
	Seats    int
	State    string
	Voters   int // on the roll
	Voted    int // of whom voted, in person or by proxy
	Ballots  int // ballots cast (the count)
	Invalid  int // of which invalid
	BodyID   int64
	// CreatedAt and UpdatedAt are Unix milliseconds.
	CreatedAt int64
	CreatedBy string
	UpdatedAt int64

	// Candidates, by votes then name once counted (else by name), when
	// loaded.
	Candidates []Candidate
}

// Valid is the number of valid ballots.
func (e Election) Valid() int { return e.Ballots - e.Invalid }

// VotingStarted tells whether any voter has been marked as having voted:
// the roll, the candidates and the proxies given are frozen from then on.
func (e Election) VotingStarted() bool { return e.Voted > 0 }

// CountRecorded tells whether the ballots have been counted (the seats may
// still wait for a re-vote: Pending).
func (e Election) CountRecorded() bool { return e.Ballots > 0 }

// Pending tells whether the count is recorded but a tie at the last seat
// waits for a re-vote.
func (e Election) Pending() bool { return e.State == ElectionRoll && e.CountRecorded() }

// Turnout is the share of the roll that voted (ok false with an empty roll).
func (e Election) Turnout() (float64, bool) {
	if e.Voters <= 0 {
		return 0, false
	}
	return float64(e.Voted) / float64(e.Voters), true
}

// Elected returns the elected candidates, by votes.
func (e Election) Elected() []Candidate {
	var out []Candidate
	for _, c := range e.Candidates {
		if c.Elected {
			out = append(out, c)
		}
	}
	return out
}

// Voter is one resident on an election's roll (gov_voters), shown by name,
// gender and age: never an ID number.
type Voter struct {
	ElectionID int64
	ResidentID int64
	Name       string
	Gender     string // M or F
	Birth      int    // YYYYMMDD
	Residency  string
	Voted      string // "", VotedInPerson, VotedByProxy
	TrusteeID  int64  // the voter who votes for this one (0: none)
	// TrusteeName and Trusters are filled by the roll's pages: the
	// trustee's name, and how many voters this one votes for.
	TrusteeName string
	Trusters    int
	Candidate   bool // standing in the election (filled by the roll's pages)
}

// AgeOn is the voter's age in whole years on day.
func (v Voter) AgeOn(day int) int { return YearsBetween(v.Birth, day) }

// Candidate is a voter standing in an election (gov_candidates).
type Candidate struct {
	ID         int64
	ElectionID int64
	ResidentID int64
	Name       string
	Gender     string
	Residency  string
	Reserved   string // the reserved seat key stood for ("": the general seats)
	Votes      int
	Elected    bool
}

// Proxy is one voter's vote entrusted to another.
type Proxy struct {
	TrusterID   int64
	TrusterName string
	TrusteeID   int64
	TrusteeName string
	Voted       string // the truster's mark
}

// YearsBetween is the number of whole years from day from to day to
// (YYYYMMDD), as an age is counted: the anniversary itself counts, the day
// before it does not.
func YearsBetween(from, to int) int {
	y := to/10000 - from/10000
	if to%10000 < from%10000 {
		y--
	}
	return y
}

// Eligible decides whether a resident of the village may vote on day
// under the pack's rules (DG-3): present; aged at least VoterAge on the
// day (a birthday on the election day counts); registered residents
// always, non-registered residents as NonRegistered says (never; after
// Years of residence in the village on the day, counted from Since; or
// all), migrants never. When not, reason is one of the Ineligible codes.
func Eligible(r registry.Resident, rules policy.ElectionRules, day int) (ok bool, reason string) {
	if r.Status != registry.Present {
		return false, IneligibleNotPresent
	}
	if r.Birth == 0 || YearsBetween(r.Birth, day) < rules.VoterAge {
		return false, IneligibleAge
	}
	switch r.Residency {
	case registry.Registered:
		return true, ""
	case registry.NonRegistered:
		switch rules.NonRegistered {
		case policy.NonRegisteredAll:
			return true, ""
		case policy.NonRegisteredYears:
			if r.Since == 0 || r.Since > day || YearsBetween(r.Since, day) < rules.Years {
				return false, IneligibleResidence
			}
			return true, ""
		}
		return false, IneligibleNonRegistered
	case registry.Migrant:
		return false, IneligibleMigrant
	}
	return false, IneligibleResidency
}

// SeatGroup is one group of seats of a result: the seats reserved to a
// residency (Reserved is the pack's key), or the general seats ("").
type SeatGroup struct {
	Reserved string
	Seats    int
	Elected  []int64 // candidate IDs, by votes
	// Tied are the candidates level on votes for the group's last seat(s),
	// TiedSeats how many of them a re-vote must choose.
	Tied      []int64
	TiedSeats int
	// Vacant is how many seats no candidate with votes could fill.
	Vacant int
	// Undecided: an earlier group's tie leaves this group waiting.
	Undecided bool
}

// ElectionResult is who the count elects.
type ElectionResult struct {
	Groups  []SeatGroup
	Elected map[int64]bool
	// Tie is the group whose tie waits for a re-vote (nil: every seat is
	// decided). The groups after it are Undecided.
	Tie *SeatGroup
}

// Elect decides the seats from the candidates' votes: first each reserved
// seat group of the pack, in its order, from the candidates standing for
// it; then the general seats (seats less the reserved ones) from everyone
// left, the reserved groups' runners-up included. In each group the
// candidates with the most votes win; nobody is elected without a vote.
// When the last seat of a group falls between candidates with equal votes
// the tie is reported (Tie) and the groups after it wait. chosen are the
// candidates a re-vote chose: each ranks before the candidates level with
// it who were not chosen.
func Elect(cands []Candidate, seats int, reserved []policy.ReservedSeat, chosen map[int64]bool) ElectionResult {
	return ElectWith(cands, seats, reserved, chosen, 1)
}

// ElectWith is Elect where a candidate needs at least minVotes votes to be
// elected (the Organic Law, art. 15: more than half of those who voted);
// seats nobody reaches it for stay vacant, for a further election.
func ElectWith(cands []Candidate, seats int, reserved []policy.ReservedSeat, chosen map[int64]bool, minVotes int) ElectionResult {
	minVotes = max(minVotes, 1)
	res := ElectionResult{Elected: map[int64]bool{}}
	general := seats
	for _, r := range reserved {
		general -= r.Seats
	}
	groups := make([]SeatGroup, 0, len(reserved)+1)
	for _, r := range reserved {
		groups = append(groups, SeatGroup{Reserved: r.Key, Seats: r.Seats})
	}
	groups = append(groups, SeatGroup{Seats: max(general, 0)})
	for i := range groups {
		g := &groups[i]
		if res.Tie != nil {
			g.Undecided = true
			continue
		}
		var pool []Candidate
		for _, c := range cands {
			if c.Votes >= minVotes && !res.Elected[c.ID] && (g.Reserved == "" || c.Reserved == g.Reserved) {
				pool = append(pool, c)
			}
		}
		decideGroup(g, pool, chosen)
		for _, id := range g.Elected {
			res.Elected[id] = true
		}
		if len(g.Tied) > 0 {
			res.Tie = g
		}
	}
	res.Groups = groups // res.Tie points into it
	return res
}

// decideGroup fills g from pool (candidates with votes, not yet elected).
func decideGroup(g *SeatGroup, pool []Candidate, chosen map[int64]bool) {
	rank := func(c Candidate) int { // votes first, a re-vote's choice breaks the level
		r := c.Votes * 2
		if chosen[c.ID] {
			r++
		}
		return r
	}
	slices.SortStableFunc(pool, func(a, b Candidate) int {
		return cmp.Or(cmp.Compare(rank(b), rank(a)), cmp.Compare(a.ID, b.ID))
	})
	n := g.Seats
	if len(pool) <= n {
		for _, c := range pool {
			g.Elected = append(g.Elected, c.ID)
		}
		g.Vacant = n - len(pool)
		return
	}
	if n == 0 {
		return
	}
	last := rank(pool[n-1])
	if rank(pool[n]) != last {
		for _, c := range pool[:n] {
			g.Elected = append(g.Elected, c.ID)
		}
		return
	}
	for _, c := range pool {
		switch {
		case rank(c) > last:
			g.Elected = append(g.Elected, c.ID)
		case rank(c) == last:
			g.Tied = append(g.Tied, c.ID)
		}
	}
	g.TiedSeats = n - len(g.Elected)
}

// ElectionFigures are the figures of a result page: turnout against the
// pack's target, women elected against its wish, and the reserved seats.
type ElectionFigures struct {
	Turnout       float64
	HasTurnout    bool
	TurnoutTarget float64 // 0: none
	TurnoutMet    bool
	Women         int // women elected
	WomenSeats    int // the pack's wish (0: none)
	WomenMet      bool
	Reserved      []ReservedFigure
}

// ReservedFigure is one reserved seat group's outcome.
type ReservedFigure struct {
	Seat   policy.ReservedSeat
	Filled int
	Names  []string
}

// Figures computes e's figures under rules (nil: no pack rules).
func (e Election) Figures(rules *policy.ElectionRules) ElectionFigures {
	var f ElectionFigures
	f.Turnout, f.HasTurnout = e.Turnout()
	for _, c := range e.Candidates {
		if c.Elected && c.Gender == genderFemale {
			f.Women++
		}
	}
	if rules == nil {
		return f
	}
	f.TurnoutTarget = rules.TurnoutTarget
	f.TurnoutMet = f.HasTurnout && e.Voted*1000 >= int(rules.TurnoutTarget*1000+0.5)*e.Voters
	f.WomenSeats = rules.WomenSeats
	f.WomenMet = f.Women >= rules.WomenSeats
	for _, r := range rules.Reserved {
		rf := ReservedFigure{Seat: r}
		for _, c := range e.Candidates {
			if c.Elected && c.Reserved == r.Key {
				rf.Filled++
				rf.Names = append(rf.Names, c.Name)
			}
		}
		f.Reserved = append(f.Reserved, rf)
	}
	return f
}

// ElectionError is an operation the election's state does not allow; Code
// is a catalogue code (gov.election.error.<code>).
type ElectionError struct{ Code string }

func (e *ElectionError) Error() string { return "governance: election: " + e.Code }

// Election state refusals.
const (
	ElectionErrNoRoll   = "no_roll"     // the roll is not built yet
	ElectionErrFrozen   = "roll_frozen" // voting has started
	ElectionErrCounted  = "counted"     // the count is recorded
	ElectionErrNotYet   = "not_yet"     // voting before the election day
	ElectionErrNoTie    = "no_tie"      // a re-vote without a tie
	ElectionErrNoRules  = "no_rules"    // the village's pack has no election rules
	ElectionErrNoVoting = "no_voting"   // nobody has voted: nothing to count
	ElectionErrTurnout  = "turnout"     // too few of the roll voted: the election is void (rules.Valid)
)

// electionRules are the election rules of the pack bound to code.
func (s *Service) electionRules(code int64) (*policy.ElectionRules, bool) {
	g := s.Rules(code)
	if g == nil || g.Elections.VoterAge == 0 {
		return nil, false
	}
	return &g.Elections, true
}

// ElectionRules returns the election rules of the pack bound to code (nil
// when the pack has none), for pages.
func (s *Service) ElectionRules(code int64) *policy.ElectionRules {
	r, _ := s.electionRules(code)
	return r
}

// ElectionInput creates an election.
type ElectionInput struct {
	// Village is the village (a grid stands for its village); the
	// principal needs governance.election there.
	Village  int64
	BodyKind string // a body kind of the village's pack
	Title    string
	Day      string // the election day, 2006-01-02: today or later
	Seats    int
}

// CreateElection schedules an election. Every problem of the input comes
// back at once as field.Errors (village, body_kind, title, day, seats);
// nothing is stored then.
func (s *Service) CreateElection(ctx context.Context, p *access.Principal, in ElectionInput) (Election, error) {
	village, ok := VillageOf(in.Village)
	if !ok {
		if !p.CanAt(PermElection, in.Village) {
			return Election{}, ErrForbidden
		}
		return Election{}, field.Errors{{Field: "village", Code: "village_level"}}
	}
	if !p.CanAt(PermElection, village) {
		if p.CanAt(PermView, village) {
			return Election{}, ErrForbidden
		}
		s.deny(ctx, "gov_election", 0, village)
		return Election{}, db.ErrNotFound
	}
	if _, err := s.Divisions.Get(ctx, village); err != nil {
		if errors.Is(err, db.ErrNotFound) {
			return Election{}, field.Errors{{Field: "village", Code: "village_unknown"}}
		}
		return Election{}, err
	}
	now := s.now()
	today := calendar.DayOf(now)
	e := Election{County: ids.County(village), Division: village, BodyKind: strings.TrimSpace(in.BodyKind),
		Title: strings.TrimSpace(in.Title), Seats: in.Seats, State: ElectionPreparing,
		CreatedAt: now.UnixMilli(), CreatedBy: actorName(ctx, p), UpdatedAt: now.UnixMilli()}
	var es field.Errors
	g := s.Rules(village)
	rules, hasRules := s.electionRules(village)
	switch {
	case !hasRules:
		es.Add("body_kind", ElectionErrNoRules)
	case e.BodyKind == "":
		es.Add("body_kind", "required")
	default:
		if _, ok := g.Body(e.BodyKind); !ok {
			es.Add("body_kind", "body_kind_unknown")
		}
	}
	switch n := utf8.RuneCountInString(e.Title); {
	case n == 0:
		es.Add("title", "required")
	case n > MaxElectionTitleRunes:
		es.Add("title", "too_long", strconv.Itoa(MaxElectionTitleRunes))
	}
	if strings.TrimSpace(in.Day) == "" {
		es.Add("day", "required")
	} else if d, ok := calendar.ParseDay(in.Day); !ok {
		es.Add("day", "date")
	} else {
		e.Day = d
		switch {
		case d < today:
			es.Add("day", "day_past")
		case calendar.DaysBetween(today, d) > electionDaysAhead:
			es.Add("day", "day_far")
		}
	}
	reservedSeats := 0
	if hasRules {
		for _, r := range rules.Reserved {
			reservedSeats += r.Seats
		}
	}
	switch {
	case e.Seats < 1:
		es.Add("seats", "seats_min")
	case e.Seats > MaxSeats:
		es.Add("seats", "seats_max", strconv.Itoa(MaxSeats))
	case e.Seats <= reservedSeats:
		es.Add("seats", "seats_reserved", strconv.Itoa(reservedSeats))
	}
	if err := es.Err(); err != nil {
		return Election{}, err
	}
	err := s.DB.Tx(ctx, func(ctx context.Context) error {
		if err := s.elst().insert(ctx, &e); err != nil {
			return err
		}
		return s.Audit.Write(ctx, audit.Entry{Action: audit.Create, Entity: "gov_election", EntityID: strconv.FormatInt(e.ID, 10),
			Division: e.Division, Changes: []audit.Change{{Field: "title", After: e.Title}, {Field: "body_kind", After: e.BodyKind},
				{Field: "day", After: e.Day}, {Field: "seats", After: e.Seats}}})
	})
	if err != nil {
		return Election{}, err
	}
	return e, nil
}

// GetElection returns an election the principal may see (governance.view
// at its village) with its candidates; anything else is db.ErrNotFound,
// audited when the election lies outside the principal's scope.
func (s *Service) GetElection(ctx context.Context, p *access.Principal, id int64) (Election, error) {
	e, err := s.elst().byID(ctx, id)
	if err != nil {
		return Election{}, err
	}
	if !p.CanAt(PermView, e.Division) {
		s.deny(ctx, "gov_election", id, e.Division)
		return Election{}, db.ErrNotFound
	}
	if e.Candidates, err = s.elst().candidates(ctx, id, e.CountRecorded()); err != nil {
		return Election{}, err
	}
	return e, nil
}

// ElectionFilter selects elections for a list.
type ElectionFilter struct {
	Unit   int64 // a subtree inside the principal's scope (0: the whole scope)
	State  string
	Offset int
	Limit  int // 1–200, default 50
}

// Elections lists the elections the principal may see, the latest
// election day first; more tells whether more follow.
func (s *Service) Elections(ctx context.Context, p *access.Principal, f ElectionFilter) (list []Election, more bool, err error) {
	if f.Limit <= 0 || f.Limit > 200 {
		f.Limit = 50
	}
	scope, args := p.Where(PermView, "division")
	where := scope
	if f.Unit != 0 {
		lo, hi := ids.Subtree(f.Unit)
		where += " AND division >= ? AND division <= ?"
		args = append(args, lo, hi)
	}
	if f.State != "" {
		where += " AND state = ?"
		args = append(args, f.State)
	}
	list, err = s.elst().list(ctx, where, args, max(f.Offset, 0), f.Limit+1)
	if err != nil {
		return nil, false, err
	}
	if len(list) > f.Limit {
		return list[:f.Limit], true, nil
	}
	return list, false, nil
}

// forElection loads an election inside a transaction (locking its row on
// PostgreSQL) and checks that the principal may run it: db.ErrNotFound
// when it does not see it (the denial is audited by the caller, after the
// transaction), ErrForbidden when it sees it but may not run elections.
func (s *Service) forElection(ctx context.Context, p *access.Principal, id int64) (Election, error) {
	e, err := s.elst().lock(ctx, id)
	if err != nil {
		return Election{}, err
	}
	if !p.CanAt(PermView, e.Division) {
		return Election{}, &electionDenied{id: id, division: e.Division}
	}
	if !p.CanAt(PermElection, e.Division) {
		return Election{}, ErrForbidden
	}
	return e, nil
}

// electionDenied is a scope refusal met inside a transaction: it is
// db.ErrNotFound, audited once the transaction has rolled back.
type electionDenied struct{ id, division int64 }

func (e *electionDenied) Error() string { return db.ErrNotFound.Error() }
func (e *electionDenied) Unwrap() error { return db.ErrNotFound }

// electionAudited writes the denial of a refusal met inside a transaction.
func (s *Service) electionAudited(ctx context.Context, err error) error {
	var d *electionDenied
	if errors.As(err, &d) {
		s.deny(ctx, "gov_election", d.id, d.division)
		return db.ErrNotFound
	}
	return err
}

// RollSummary is what building the roll found.
type RollSummary struct {
	Voters int
	// Excluded counts the village's present residents left off, by reason
	// (IneligibleReasons).
	Excluded map[string]int
	// ProxiesDropped and CandidatesDropped count the proxies and
	// candidates a rebuild removed because a voter left the roll.
	ProxiesDropped    int
	CandidatesDropped []string
}

// BuildRoll builds (or, until voting starts, rebuilds) the voter roll from
// the registry under the village's pack as it stands on the election day.
// Building twice gives the same roll; a rebuild keeps the proxies and
// candidates whose voters are still on it. The principal needs
// governance.election at the village and resident.view over it.
func (s *Service) BuildRoll(ctx context.Context, p *access.Principal, id int64) (RollSummary, error) {
	e, err := s.GetElection(ctx, p, id)
	if err != nil {
		return RollSummary{}, err
	}
	if !p.CanAt(PermElection, e.Division) {
		return RollSummary{}, ErrForbidden
	}
	rules, ok := s.electionRules(e.Division)
	if !ok {
		return RollSummary{}, &ElectionError{ElectionErrNoRules}
	}
	sum := RollSummary{Excluded: map[string]int{}}
	var roll []Voter
	// The registry is read before the transaction: it is the registry's
	// own read, scoped and audited there.
	err = s.Registry.Electorate(ctx, p, e.Division, func(r registry.Resident) error {
		if ok, why := Eligible(r, *rules, e.Day); !ok {
			sum.Excluded[why]++
			return nil
		}
		roll = append(roll, Voter{ElectionID: id, ResidentID: r.ID, Name: r.Name, Gender: r.Gender, Birth: r.Birth, Residency: r.Residency})
		return nil
	})
	if err != nil {
		return RollSummary{}, err
	}
	sum.Voters = len(roll)
	err = s.DB.Tx(ctx, func(ctx context.Context) error {
		e, err := s.forElection(ctx, p, id)
		if err != nil {
			return err
		}
		switch {
		case e.State == ElectionCounted || e.CountRecorded():
			return &ElectionError{ElectionErrCounted}
		case e.VotingStarted():
			return &ElectionError{ElectionErrFrozen}
		}
		st := s.elst()
		old, err := st.trustees(ctx, id)
		if err != nil {
			return err
		}
		on := make(map[int64]bool, len(roll))
		for _, v := range roll {
			on[v.ResidentID] = true
		}
		for i, v := range roll {
			if t, ok := old[v.ResidentID]; ok {
				if on[t] {
					roll[i].TrusteeID = t
				} else {
					sum.ProxiesDropped++
				}
			}
		}
		for truster := range old {
			if !on[truster] {
				sum.ProxiesDropped++
			}
		}
		cands, err := st.candidates(ctx, id, false)
		if err != nil {
			return err
		}
		for _, c := range cands {
			if !on[c.ResidentID] {
				if err := st.deleteCandidate(ctx, c.ID); err != nil {
					return err
				}
				sum.CandidatesDropped = append(sum.CandidatesDropped, c.Name)
			}
		}
		if err := st.replaceRoll(ctx, id, roll); err != nil {
			return err
		}
		before := e.Voters
		e.State, e.Voters, e.UpdatedAt = ElectionRoll, len(roll), s.now().UnixMilli()
		if err := st.setRoll(ctx, e); err != nil {
			return err
		}
		changes := []audit.Change{{Field: "action", After: "roll"}, {Field: "voters", Before: before, After: e.Voters}}
		for _, why := range IneligibleReasons {
			if n := sum.Excluded[why]; n > 0 {
				changes = append(changes, audit.Change{Field: "excluded." + why, After: n})
			}
		}
		if sum.ProxiesDropped > 0 {
			changes = append(changes, audit.Change{Field: "proxies_dropped", After: sum.ProxiesDropped})
		}
		if len(sum.CandidatesDropped) > 0 {
			changes = append(changes, audit.Change{Field: "candidates_dropped", After: strings.Join(sum.CandidatesDropped, "、")})
		}
		return s.Audit.Write(ctx, audit.Entry{Action: audit.Update, Entity: "gov_election", EntityID: strconv.FormatInt(id, 10),
			Division: e.Division, Changes: changes})
	})
	if err != nil {
		return RollSummary{}, s.electionAudited(ctx, err)
	}
	return sum, nil
}

// Voter roll views.
const (
	VotersAll      = ""
	VotersVoted    = "voted"
	VotersNotVoted = "not_voted"
	VotersProxy    = "proxy" // voters who entrusted their vote
)

// VoterFilter selects a page of the roll.
type VoterFilter struct {
	Q      string // a name or part of it
	View   string // VotersAll, VotersVoted, VotersNotVoted, VotersProxy
	Offset int
	Limit  int // 1–500, default 50
}

// VoterPage is one page of the roll, by name.
type VoterPage struct {
	Voters []Voter
	Total  int // voters matching the filter
}

// Voters returns a page of an election's roll the principal may see, each
// voter with their trustee's name, the number of voters they vote for and
// whether they stand.
func (s *Service) Voters(ctx context.Context, p *access.Principal, id int64, f VoterFilter) (VoterPage, error) {
	e, err := s.GetElection(ctx, p, id)
	if err != nil {
		return VoterPage{}, err
	}
	if f.Limit <= 0 || f.Limit > 500 {
		f.Limit = 50
	}
	page, err := s.elst().voters(ctx, e.ID, strings.TrimSpace(f.Q), f.View, max(f.Offset, 0), f.Limit)
	if err != nil {
		return VoterPage{}, err
	}
	standing := map[int64]bool{}
	for _, c := range e.Candidates {
		standing[c.ResidentID] = true
	}
	for i := range page.Voters {
		page.Voters[i].Candidate = standing[page.Voters[i].ResidentID]
	}
	return page, nil
}

// Proxies lists an election's proxies, by trustee.
func (s *Service) Proxies(ctx context.Context, p *access.Principal, id int64) ([]Proxy, error) {
	if _, err := s.GetElection(ctx, p, id); err != nil {
		return nil, err
	}
	return s.elst().proxies(ctx, id)
}

// SetProxy records that voter truster entrusts voter trustee with their
// vote (DG-3), or moves the trust to another trustee. Refused (field
// errors on truster or trustee): proxies the pack does not allow
// (proxy_none), a voter not on the roll (not_voter), entrusting oneself
// (proxy_self), a trustee who is themself a truster (proxy_chain) or a
// truster who votes for others (proxy_trustee), a voter who has voted
// (proxy_voted), and the limit+1-th truster of a trustee (proxy_limit,
// Arg the trustee's name; the limit is the pack's proxy_limit).
func (s *Service) SetProxy(ctx context.Context, p *access.Principal, id, truster, trustee int64) error {
	err := s.DB.Tx(ctx, func(ctx context.Context) error {
		e, err := s.forElection(ctx, p, id)
		if err != nil {
			return err
		}
		if err := electionOpen(e); err != nil {
			return err
		}
		rules, ok := s.electionRules(e.Division)
		if !ok || rules.ProxyLimit <= 0 {
			return field.Errors{{Field: "trustee", Code: "proxy_none"}}
		}
		st := s.elst()
		var es field.Errors
		tr, err := st.voter(ctx, id, truster)
		if errors.Is(err, db.ErrNotFound) {
			es.Add("truster", "not_voter")
		} else if err != nil {
			return err
		}
		te, err := st.voter(ctx, id, trustee)
		if errors.Is(err, db.ErrNotFound) {
			es.Add("trustee", "not_voter")
		} else if err != nil {
			return err
		}
		if len(es) > 0 {
			return es
		}
		if truster == trustee {
			return field.Errors{{Field: "trustee", Code: "proxy_self"}}
		}
		if tr.Voted != "" {
			es.Add("truster", "proxy_voted", tr.Name)
		}
		if te.Voted != "" {
			es.Add("trustee", "proxy_voted", te.Name)
		}
		if te.TrusteeID != 0 {
			es.Add("trustee", "proxy_chain", te.Name)
		}
		held, err := st.trusterCount(ctx, id, truster)
		if err != nil {
			return err
		}
		if held > 0 {
			es.Add("truster", "proxy_trustee", tr.Name)
		}
		if len(es) > 0 {
			return es
		}
		if tr.TrusteeID == trustee {
			return nil // already so
		}
		n, err := st.trusterCount(ctx, id, trustee)
		if err != nil {
			return err
		}
		if n >= rules.ProxyLimit {
			return field.Errors{{Field: "trustee", Code: "proxy_limit", Arg: te.Name}}
		}
		if err := st.setTrustee(ctx, id, truster, trustee); err != nil {
			return err
		}
		before := ""
		if tr.TrusteeID != 0 {
			if old, err := st.voter(ctx, id, tr.TrusteeID); err == nil {
				before = old.Name
			}
		}
		if err := st.touch(ctx, id, s.now().UnixMilli()); err != nil {
			return err
		}
		return s.Audit.Write(ctx, audit.Entry{Action: audit.Update, Entity: "gov_election", EntityID: strconv.FormatInt(id, 10),
			Division: e.Division, Changes: []audit.Change{{Field: "action", After: "proxy"}, {Field: "truster", After: tr.Name},
				{Field: "trustee", Before: before, After: te.Name}}})
	})
	return s.electionAudited(ctx, err)
}

// ClearProxy withdraws truster's proxy (until the truster has voted).
func (s *Service) ClearProxy(ctx context.Context, p *access.Principal, id, truster int64) error {
	err := s.DB.Tx(ctx, func(ctx context.Context) error {
		e, err := s.forElection(ctx, p, id)
		if err != nil {
			return err
		}
		if err := electionOpen(e); err != nil {
			return err
		}
		st := s.elst()
		tr, err := st.voter(ctx, id, truster)
		if errors.Is(err, db.ErrNotFound) {
			return field.Errors{{Field: "truster", Code: "not_voter"}}
		} else if err != nil {
			return err
		}
		if tr.TrusteeID == 0 {
			return nil
		}
		if tr.Voted != "" {
			return field.Errors{{Field: "truster", Code: "proxy_voted", Arg: tr.Name}}
		}
		te, err := st.voter(ctx, id, tr.TrusteeID)
		if err != nil {
			return err
		}
		if err := st.setTrustee(ctx, id, truster, 0); err != nil {
			return err
		}
		if err := st.touch(ctx, id, s.now().UnixMilli()); err != nil {
			return err
		}
		return s.Audit.Write(ctx, audit.Entry{Action: audit.Update, Entity: "gov_election", EntityID: strconv.FormatInt(id, 10),
			Division: e.Division, Changes: []audit.Change{{Field: "action", After: "proxy_cleared"}, {Field: "truster", After: tr.Name},
				{Field: "trustee", Before: te.Name}}})
	})
	return s.electionAudited(ctx, err)
}

// electionOpen refuses changes to a counted election or one without a roll.
func electionOpen(e Election) error {
	switch {
	case e.State == ElectionCounted || e.CountRecorded():
		return &ElectionError{ElectionErrCounted}
	case e.State != ElectionRoll:
		return &ElectionError{ElectionErrNoRoll}
	}
	return nil
}

// CandidateInput puts a voter up for election.
type CandidateInput struct {
	ResidentID int64
	// Reserved is a reserved seat key of the pack the candidate stands for
	// ("": the general seats); the candidate's residency must be the seat's.
	Reserved string
}

// AddCandidate puts a voter on the roll up for election, before voting
// starts. Refused (field errors): not on the roll (resident_id
// candidate_not_voter), already standing (candidate_twice), an unknown
// reserved seat (reserved reserved_unknown) or one of another residency
// (reserved reserved_residency, Arg the seat's key).
func (s *Service) AddCandidate(ctx context.Context, p *access.Principal, id int64, in CandidateInput) (Candidate, error) {
	var c Candidate
	err := s.DB.Tx(ctx, func(ctx context.Context) error {
		e, err := s.forElection(ctx, p, id)
		if err != nil {
			return err
		}
		if err := electionOpen(e); err != nil {
			return err
		}
		if e.VotingStarted() {
			return &ElectionError{ElectionErrFrozen}
		}
		st := s.elst()
		v, err := st.voter(ctx, id, in.ResidentID)
		if errors.Is(err, db.ErrNotFound) {
			return field.Errors{{Field: "resident_id", Code: "candidate_not_voter"}}
		} else if err != nil {
			return err
		}
		var es field.Errors
		cands, err := st.candidates(ctx, id, false)
		if err != nil {
			return err
		}
		if slices.ContainsFunc(cands, func(c Candidate) bool { return c.ResidentID == v.ResidentID }) {
			es.Add("resident_id", "candidate_twice", v.Name)
		}
		c = Candidate{ElectionID: id, ResidentID: v.ResidentID, Name: v.Name, Gender: v.Gender, Residency: v.Residency,
			Reserved: strings.TrimSpace(in.Reserved)}
		if c.Reserved != "" {
			rules, _ := s.electionRules(e.Division)
			i := -1
			if rules != nil {
				i = slices.IndexFunc(rules.Reserved, func(r policy.ReservedSeat) bool { return r.Key == c.Reserved })
			}
			switch {
			case i < 0:
				es.Add("reserved", "reserved_unknown")
			case rules.Reserved[i].Residency != v.Residency:
				es.Add("reserved", "reserved_residency", c.Reserved)
			}
		}
		if err := es.Err(); err != nil {
			return err
		}
		if err := st.insertCandidate(ctx, &c); err != nil {
			return err
		}
		if err := st.touch(ctx, id, s.now().UnixMilli()); err != nil {
			return err
		}
		return s.Audit.Write(ctx, audit.Entry{Action: audit.Update, Entity: "gov_election", EntityID: strconv.FormatInt(id, 10),
			Division: e.Division, Changes: []audit.Change{{Field: "action", After: "candidate"}, {Field: "candidate", After: c.Name},
				{Field: "reserved", After: c.Reserved}}})
	})
	if err != nil {
		return Candidate{}, s.electionAudited(ctx, err)
	}
	return c, nil
}

// RemoveCandidate withdraws a candidate before voting starts.
func (s *Service) RemoveCandidate(ctx context.Context, p *access.Principal, id, candidateID int64) error {
	err := s.DB.Tx(ctx, func(ctx context.Context) error {
		e, err := s.forElection(ctx, p, id)
		if err != nil {
			return err
		}
		if err := electionOpen(e); err != nil {
			return err
		}
		if e.VotingStarted() {
			return &ElectionError{ElectionErrFrozen}
		}
		st := s.elst()
		cands, err := st.candidates(ctx, id, false)
		if err != nil {
			return err
		}
		i := slices.IndexFunc(cands, func(c Candidate) bool { return c.ID == candidateID })
		if i < 0 {
			return db.ErrNotFound
		}
		if err := st.deleteCandidate(ctx, candidateID); err != nil {
			return err
		}
		if err := st.touch(ctx, id, s.now().UnixMilli()); err != nil {
			return err
		}
		return s.Audit.Write(ctx, audit.Entry{Action: audit.Update, Entity: "gov_election", EntityID: strconv.FormatInt(id, 10),
			Division: e.Division, Changes: []audit.Change{{Field: "action", After: "candidate_removed"}, {Field: "candidate", Before: cands[i].Name}}})
	})
	return s.electionAudited(ctx, err)
}

// MarkVoted records on or after the election day that voter residentID
// voted in person; the voters who entrusted them and have not voted
// themselves are marked as voted by proxy. A voter marked twice (in person
// or by proxy) is refused (resident_id voted_twice, Arg the name), as is
// one not on the roll (resident_id not_voter). It returns the number of
// trusters marked.
func (s *Service) MarkVoted(ctx context.Context, p *access.Principal, id, residentID int64) (int, error) {
	var n int
	err := s.DB.Tx(ctx, func(ctx context.Context) error {
		e, err := s.forElection(ctx, p, id)
		if err != nil {
			return err
		}
		if err := electionOpen(e); err != nil {
			return err
		}
		if s.Today() < e.Day {
			return &ElectionError{ElectionErrNotYet}
		}
		st := s.elst()
		v, err := st.voter(ctx, id, residentID)
		if errors.Is(err, db.ErrNotFound) {
			return field.Errors{{Field: "resident_id", Code: "not_voter"}}
		} else if err != nil {
			return err
		}
		if v.Voted != "" {
			return field.Errors{{Field: "resident_id", Code: "voted_twice", Arg: v.Name}}
		}
		ok, err := st.mark(ctx, id, residentID, VotedInPerson)
		if err != nil {
			return err
		}
		if !ok { // marked by a concurrent transaction since the read
			return field.Errors{{Field: "resident_id", Code: "voted_twice", Arg: v.Name}}
		}
		if n, err = st.markTrusters(ctx, id, residentID); err != nil {
			return err
		}
		e.UpdatedAt = s.now().UnixMilli()
		if e.Voted, err = st.recountVoted(ctx, id, e.UpdatedAt); err != nil {
			return err
		}
		changes := []audit.Change{{Field: "action", After: "voted"}, {Field: "voter", After: v.Name}}
		if n > 0 {
			changes = append(changes, audit.Change{Field: "by_proxy", After: n})
		}
		return s.Audit.Write(ctx, audit.Entry{Action: audit.Update, Entity: "gov_election", EntityID: strconv.FormatInt(id, 10),
			Division: e.Division, Changes: changes})
	})
	if err != nil {
		return 0, s.electionAudited(ctx, err)
	}
	return n, nil
}

// CountInput is the count of an election's ballots.
type CountInput struct {
	Ballots int // ballots cast
	Invalid int // of which invalid
	// Votes are the votes of every candidate, by candidate ID.
	Votes map[int64]int
}

// Count records the count (and, while a tie waits for its re-vote,
// corrects it). Refused (field errors): ballots more than the voters who
// voted (ballots ballots_over_voted, Arg the voters who voted), invalid
// ballots more than the ballots (invalid invalid_over_ballots), a
// candidate's votes missing (votes[ID] required), negative (negative) or
// more than the valid ballots (votes[ID] votes_over_valid, Arg the valid
// ballots), and votes in all more than the valid ballots times the seats
// (votes votes_over_seats, Arg that product). The seats go as Elect
// decides; with a tie at a last seat the election stays uncounted (Pending)
// and the result's Tie names the candidates level. Once every seat is
// decided the election is counted and its voters and those who voted are
// added to the village's facts of the election day's month.
func (s *Service) Count(ctx context.Context, p *access.Principal, id int64, in CountInput) (ElectionResult, error) {
	var res ElectionResult
	err := s.DB.Tx(ctx, func(ctx context.Context) error {
		e, err := s.forElection(ctx, p, id)
		if err != nil {
			return err
		}
		switch {
		case e.State == ElectionCounted:
			return &ElectionError{ElectionErrCounted}
		case e.State != ElectionRoll:
			return &ElectionError{ElectionErrNoRoll}
		case !e.VotingStarted():
			return &ElectionError{ElectionErrNoVoting}
		}
		st := s.elst()
		cands, err := st.candidates(ctx, id, false)
		if err != nil {
			return err
		}
		if err := checkCount(e, cands, in); err != nil {
			return err
		}
		before := e
		e.Ballots, e.Invalid = in.Ballots, in.Invalid
		for i := range cands {
			cands[i].Votes = in.Votes[cands[i].ID]
		}
		// The Organic Law (art. 15): without more than half of the roll
		// voting the election is void; voting goes on (a mobile ballot
		// box) or is held again.
		if rules, _ := s.electionRules(e.Division); rules != nil && rules.Valid != nil && !rules.Valid.Met(e.Voted, e.Voters) {
			return &ElectionError{ElectionErrTurnout}
		}
		res = s.elect(e, cands, nil)
		changes := []audit.Change{{Field: "action", After: "count"}, {Field: "ballots", Before: before.Ballots, After: e.Ballots},
			{Field: "invalid", Before: before.Invalid, After: e.Invalid}}
		for _, c := range cands {
			changes = append(changes, audit.Change{Field: "votes." + c.Name, After: c.Votes})
		}
		return s.settle(ctx, &e, cands, res, changes)
	})
	if err != nil {
		return ElectionResult{}, s.electionAudited(ctx, err)
	}
	return res, nil
}

// checkCount checks a count against the election and its candidates.
func checkCount(e Election, cands []Candidate, in CountInput) error {
	var es field.Errors
	switch {
	case in.Ballots < 0:
		es.Add("ballots", "negative")
	case in.Ballots == 0:
		es.Add("ballots", "required")
	case in.Ballots > e.Voted:
		es.Add("ballots", "ballots_over_voted", strconv.Itoa(e.Voted))
	}
	switch {
	case in.Invalid < 0:
		es.Add("invalid", "negative")
	case in.Invalid > in.Ballots:
		es.Add("invalid", "invalid_over_ballots")
	}
	if len(cands) == 0 {
		es.Add("votes", "no_candidates")
	}
	valid := in.Ballots - in.Invalid
	total := 0
	known := map[int64]bool{}
	for _, c := range cands {
		known[c.ID] = true
		name := "votes[" + strconv.FormatInt(c.ID, 10) + "]"
		v, ok := in.Votes[c.ID]
		switch {
		case !ok:
			es.Add(name, "required")
		case v < 0:
			es.Add(name, "negative")
		case valid >= 0 && v > valid:
			es.Add(name, "votes_over_valid", strconv.Itoa(valid))
		}
		if v > 0 {
			total += v
		}
	}
	for cid := range in.Votes {
		if !known[cid] {
			es.Add("votes", "candidate_unknown")
			break
		}
	}
	if valid >= 0 && total > valid*e.Seats {
		es.Add("votes", "votes_over_seats", strconv.Itoa(valid*e.Seats))
	}
	return es.Err()
}

// settle stores a result inside the transaction: the candidates' votes
// and elected marks, the ballots, and — when every seat is decided — the
// counted state and the facts; then the audit entry.
func (s *Service) settle(ctx context.Context, e *Election, cands []Candidate, res ElectionResult, changes []audit.Change) error {
	st := s.elst()
	for _, c := range cands {
		if err := st.setVotes(ctx, c.ID, c.Votes, res.Elected[c.ID]); err != nil {
			return err
		}
	}
	var elected []string
	for _, c := range cands {
		if res.Elected[c.ID] {
			elected = append(elected, c.Name)
		}
	}
	changes = append(changes, audit.Change{Field: "elected", After: strings.Join(elected, "、")})
	if res.Tie == nil {
		e.State = ElectionCounted
		per := period(e.Day)
		if err := facts.AddAll(ctx, s.DB, []facts.Delta{
			{Division: e.Division, Period: per, Metric: MetricVoters, N: int64(e.Voters)},
			{Division: e.Division, Period: per, Metric: MetricVoted, N: int64(e.Voted)},
		}); err != nil {
			return err
		}
		changes = append(changes, audit.Change{Field: "state", Before: ElectionRoll, After: ElectionCounted})
	} else {
		var tied []string
		for _, c := range cands {
			if slices.Contains(res.Tie.Tied, c.ID) {
				tied = append(tied, c.Name)
			}
		}
		changes = append(changes, audit.Change{Field: "tie", After: strings.Join(tied, "、")},
			audit.Change{Field: "tie_seats", After: res.Tie.TiedSeats})
	}
	e.UpdatedAt = s.now().UnixMilli()
	if err := st.setCount(ctx, *e); err != nil {
		return err
	}
	return s.Audit.Write(ctx, audit.Entry{Action: audit.Update, Entity: "gov_election", EntityID: strconv.FormatInt(e.ID, 10),
		Division: e.Division, Changes: changes})
}

// Revote is the outcome of the re-vote a tie at a last seat needs: the
// candidates it chose (as many as the tied seats) and a note of how it was
// held (required; kept in the audit log and shown with the result).
type Revote struct {
	Winners []int64 // candidate IDs
	Note    string
}

// ResolveTie records a re-vote between the candidates tied for a group's
// last seat(s). Refused: no tie waiting (ElectionError no_tie); winners
// not among the tied or not as many as the tied seats (winners
// revote_winners, Arg the seats); no note (note required). The result is
// decided again with the winners ranked before the others level with
// them; another tie (in a later group) waits for its own re-vote.
func (s *Service) ResolveTie(ctx context.Context, p *access.Principal, id int64, rv Revote) (ElectionResult, error) {
	var res ElectionResult
	err := s.DB.Tx(ctx, func(ctx context.Context) error {
		e, err := s.forElection(ctx, p, id)
		if err != nil {
			return err
		}
		if !e.Pending() {
			return &ElectionError{ElectionErrNoTie}
		}
		st := s.elst()
		cands, err := st.candidates(ctx, id, false)
		if err != nil {
			return err
		}
		chosen := map[int64]bool{}
		for _, c := range cands {
			if c.Elected {
				chosen[c.ID] = true
			}
		}
		now := s.elect(e, cands, chosen)
		if now.Tie == nil {
			return &ElectionError{ElectionErrNoTie}
		}
		var es field.Errors
		winners := slices.Compact(slices.Sorted(slices.Values(rv.Winners)))
		if len(winners) != now.Tie.TiedSeats {
			es.Add("winners", "revote_winners", strconv.Itoa(now.Tie.TiedSeats))
		} else {
			for _, w := range winners {
				if !slices.Contains(now.Tie.Tied, w) {
					es.Add("winners", "revote_winners", strconv.Itoa(now.Tie.TiedSeats))
					break
				}
			}
		}
		note := strings.TrimSpace(rv.Note)
		switch n := utf8.RuneCountInString(note); {
		case n == 0:
			es.Add("note", "required")
		case n > MaxRevoteNoteRunes:
			es.Add("note", "too_long", strconv.Itoa(MaxRevoteNoteRunes))
		}
		if err := es.Err(); err != nil {
			return err
		}
		var names []string
		for _, c := range cands {
			if slices.Contains(winners, c.ID) {
				chosen[c.ID] = true
				names = append(names, c.Name)
			}
		}
		res = s.elect(e, cands, chosen)
		changes := []audit.Change{{Field: "action", After: "revote"}, {Field: "winners", After: strings.Join(names, "、")},
			{Field: "note", After: note}}
		return s.settle(ctx, &e, cands, res, changes)
	})
	if err != nil {
		return ElectionResult{}, s.electionAudited(ctx, err)
	}
	return res, nil
}

// elect decides e's seats from cands under the village's election rules:
// its reserved seats, and the votes a candidate needs (Win, a share of
// those who voted).
func (s *Service) elect(e Election, cands []Candidate, chosen map[int64]bool) ElectionResult {
	rules, _ := s.electionRules(e.Division)
	var reserved []policy.ReservedSeat
	minVotes := 1
	if rules != nil {
		reserved = rules.Reserved
		if rules.Win != nil {
			minVotes = rules.Win.Need(e.Voted)
		}
	}
	return ElectWith(cands, e.Seats, reserved, chosen, minVotes)
}

// Result decides e's seats again from its stored votes (the re-votes'
// choices are its elected marks): what a pending election's page shows as
// its tie. e must have its candidates loaded.
func (s *Service) Result(e Election) ElectionResult {
	chosen := map[int64]bool{}
	for _, c := range e.Candidates {
		if c.Elected {
			chosen[c.ID] = true
		}
	}
	return s.elect(e, e.Candidates, chosen)
}

// RevoteNotes returns the notes of an election's re-votes, oldest first
// (they live in the audit log).
func (s *Service) RevoteNotes(ctx context.Context, e Election) ([]string, error) {
	recs, err := s.Audit.List(ctx, audit.Filter{Entity: "gov_election", EntityID: strconv.FormatInt(e.ID, 10), Action: audit.Update, Limit: 1000})
	if err != nil {
		return nil, err
	}
	var out []string
	for i := len(recs) - 1; i >= 0; i-- {
		if note, ok := revoteNote(recs[i].Changes); ok {
			out = append(out, note)
		}
	}
	return out, nil
}

// PublicElections lists a village's counted elections with their results
// (candidates by votes, names only), the latest first: what the public
// portal shows. No principal: the results are public.
func (s *Service) PublicElections(ctx context.Context, village int64) ([]Election, error) {
	list, err := s.elst().list(ctx, "division = ? AND state = ?", []any{village, ElectionCounted}, 0, 20)
	if err != nil {
		return nil, err
	}
	for i := range list {
		if list[i].Candidates, err = s.elst().candidates(ctx, list[i].ID, true); err != nil {
			return nil, err
		}
	}
	return list, nil
}
