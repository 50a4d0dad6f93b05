package api

import (
	"context"
	"errors"
	"net/http"
	"strconv"
	"strings"

	"github.com/danielgtaylor/huma/v2"

	"github.com/shequ-platform/shequ/internal/governance"
	"github.com/shequ-platform/shequ/internal/platform/access"
	"github.com/shequ-platform/shequ/internal/platform/calendar"
	"github.com/shequ-platform/shequ/internal/platform/db"
	"github.com/shequ-platform/shequ/internal/platform/field"
	"github.com/shequ-platform/shequ/internal/platform/policy"
)

// Elections (DG-3) and versioned documents (SX-4, DG-5): the voter roll
// built from the registry for the election day, proxies within the pack's
// limit, candidates, voting marks, the count with its checks, the result
// (turnout against the pack's target, women elected, reserved seats, a tie
// at the last seat waiting for a re-vote); charters, village rules,
// covenants and regulations whose every version cites the passed agenda
// item that adopted it, with the pack's deadlines and targets.

// Election is an election at a village.
type Election struct {
	ID            int64               `json:"id"`
	Village       string              `json:"village" doc:"15-digit code of the village" example:"320205001001000"`
	BodyKind      string              `json:"body_kind" doc:"The body kind elected (a body kind of the village's pack)" example:"committee"`
	BodyName      string              `json:"body_name" example:"社区居民委员会"`
	Title         string              `json:"title"`
	Day           string              `json:"day" format:"date" doc:"The election day: the roll follows age and residence on it"`
	Seats         int                 `json:"seats"`
	State         string              `json:"state" enum:"preparing,roll,counted" doc:"preparing (no roll yet), roll (the roll is built: proxies, candidates, voting, the count), counted (every seat decided)"`
	Pending       bool                `json:"pending" doc:"The count is recorded but a tie at a last seat waits for a re-vote (POST /elections/{id}/revote)"`
	Voters        int                 `json:"voters" doc:"Voters on the roll"`
	Voted         int                 `json:"voted" doc:"Of whom voted, in person or by proxy"`
	Ballots       int                 `json:"ballots" doc:"Ballots cast (the count)"`
	Invalid       int                 `json:"invalid" doc:"Invalid ballots"`
	Turnout       float64             `json:"turnout" doc:"voted / voters (0 with an empty roll)"`
	TurnoutTarget float64             `json:"turnout_target,omitempty" doc:"The pack's target (DG-3: 0.965)"`
	TurnoutMet    bool                `json:"turnout_met,omitempty"`
	Women         int                 `json:"women" doc:"Women elected"`
	WomenSeats    int                 `json:"women_seats,omitempty" doc:"The pack's wish: at least this many women elected"`
	Reserved      []ElectionReserved  `json:"reserved,omitempty" doc:"The pack's reserved seats and who filled them"`
	Candidates    []ElectionCandidate `json:"candidates" nullable:"false" doc:"By votes once counted, else by name"`
	Tie           *ElectionTie        `json:"tie,omitempty" doc:"The tie a pending election waits on"`
	CreatedBy     string              `json:"created_by"`
	CreatedAt     string              `json:"created_at" format:"date-time"`
	UpdatedAt     string              `json:"updated_at" format:"date-time"`
}

// ElectionReserved is one reserved seat group of the pack.
type ElectionReserved struct {
	Key       string `json:"key"`
	Label     string `json:"label"`
	Residency string `json:"residency" enum:"registered,non_registered"`
	Seats     int    `json:"seats"`
	Filled    int    `json:"filled" doc:"Candidates of the group elected"`
}

// ElectionCandidate is a voter standing in an election.
type ElectionCandidate struct {
	ID         int64  `json:"id"`
	ResidentID int64  `json:"resident_id"`
	Name       string `json:"name"`
	Gender     string `json:"gender,omitempty" enum:"M,F"`
	Residency  string `json:"residency" enum:"registered,non_registered,migrant"`
	Reserved   string `json:"reserved,omitempty" doc:"The reserved seat key stood for"`
	Votes      int    `json:"votes"`
	Elected    bool   `json:"elected"`
}

// ElectionTie is candidates level on votes for a group's last seat(s).
type ElectionTie struct {
	Reserved   string  `json:"reserved,omitempty" doc:"The reserved seat group (absent: the general seats)"`
	Seats      int     `json:"seats" doc:"How many of them the re-vote elects"`
	Candidates []int64 `json:"candidates" nullable:"false" doc:"Candidate IDs"`
}

// Voter is a voter on a roll: name, gender and age, never an ID number.
type Voter struct {
	ResidentID  int64  `json:"resident_id"`
	Name        string `json:"name"`
	Gender      string `json:"gender,omitempty" enum:"M,F"`
	Age         int    `json:"age" doc:"On the election day"`
	Residency   string `json:"residency" enum:"registered,non_registered"`
	Voted       string `json:"voted,omitempty" enum:"person,proxy" doc:"How the voter voted (absent: not yet)"`
	TrusteeID   int64  `json:"trustee_id,omitempty" doc:"The voter who votes for this one"`
	TrusteeName string `json:"trustee_name,omitempty"`
	Trusters    int    `json:"trusters,omitempty" doc:"How many voters this one votes for"`
	Candidate   bool   `json:"candidate,omitempty"`
}

// VoterList is one page of a roll, by name.
type VoterList struct {
	Items []Voter `json:"items" nullable:"false"`
	Total int     `json:"total" doc:"Voters matching the filter"`
	More  bool    `json:"more" doc:"More follow: ask again with offset + limit"`
}

// ElectionProxy is one voter's vote entrusted to another.
type ElectionProxy struct {
	Truster     int64  `json:"truster" doc:"The entrusting voter's resident ID"`
	TrusterName string `json:"truster_name"`
	Trustee     int64  `json:"trustee" doc:"The trustee's resident ID"`
	TrusteeName string `json:"trustee_name"`
	Voted       string `json:"voted,omitempty" enum:"person,proxy" doc:"The truster's mark"`
}

// RollSummary is what building a roll found.
type RollSummary struct {
	Voters            int            `json:"voters"`
	Excluded          map[string]int `json:"excluded" doc:"Present residents left off, by reason: under_age, non_registered, residence_short, migrant, residency"`
	ProxiesDropped    int            `json:"proxies_dropped,omitempty" doc:"Proxies a rebuild removed (a voter left the roll)"`
	CandidatesDropped []string       `json:"candidates_dropped,omitempty" doc:"Candidates a rebuild removed"`
}

func (s *server) toElection(e governance.Election) Election {
	rules := s.Governance.ElectionRules(e.Division)
	f := e.Figures(rules)
	out := Election{ID: e.ID, Village: codeString(e.Division), BodyKind: e.BodyKind, Title: e.Title, Day: calendar.FormatDay(e.Day),
		Seats: e.Seats, State: e.State, Pending: e.Pending(), Voters: e.Voters, Voted: e.Voted, Ballots: e.Ballots, Invalid: e.Invalid,
		Turnout: f.Turnout, TurnoutTarget: f.TurnoutTarget, TurnoutMet: f.TurnoutMet, Women: f.Women, WomenSeats: f.WomenSeats,
		Candidates: make([]ElectionCandidate, 0, len(e.Candidates)), CreatedBy: e.CreatedBy, CreatedAt: timeString(e.CreatedAt),
		UpdatedAt: timeString(e.UpdatedAt)}
	out.BodyName = e.BodyKind
	if b, ok := s.Governance.Rules(e.Division).Body(e.BodyKind); ok {
		out.BodyName = b.Label.Get(policy.DefaultLocale)
	}
	for _, r := range f.Reserved {
		out.Reserved = append(out.Reserved, ElectionReserved{Key: r.Seat.Key, Label: r.Seat.Label.Get(policy.DefaultLocale),
			Residency: r.Seat.Residency, Seats: r.Seat.Seats, Filled: r.Filled})
	}
	for _, c := range e.Candidates {
		out.Candidates = append(out.Candidates, ElectionCandidate{ID: c.ID, ResidentID: c.ResidentID, Name: c.Name, Gender: c.Gender,
			Residency: c.Residency, Reserved: c.Reserved, Votes: c.Votes, Elected: c.Elected})
	}
	if e.Pending() {
		if t := s.Governance.Result(e).Tie; t != nil {
			out.Tie = &ElectionTie{Reserved: t.Reserved, Seats: t.TiedSeats, Candidates: t.Tied}
		}
	}
	return out
}

// electionError translates the election and document errors: invalid
// input is 422 with the first field and code (the message lists every
// problem with its argument: a name, a bound); an operation the election's
// state does not allow 409 with the state's code (no_roll, roll_frozen,
// counted, not_yet, no_tie, no_rules, no_voting, turnout); 403 and 404 as
// everywhere. proxyLimit is the pack's limit, named in proxy_limit's
// message.
func electionError(err error, proxyLimit int) error {
	var es field.Errors
	var ee *governance.ElectionError
	switch {
	case err == nil:
		return nil
	case errors.As(err, &es) && len(es) > 0:
		parts := make([]string, len(es))
		for i, e := range es {
			parts[i] = e.Field + ": " + e.Code
			switch {
			case e.Code == "proxy_limit":
				parts[i] += " (" + e.Arg + " already votes for " + strconv.Itoa(proxyLimit) + " voters, the limit)"
			case e.Arg != "":
				parts[i] += " (" + e.Arg + ")"
			}
		}
		return invalid(es[0].Field, es[0].Code, strings.Join(parts, "; "))
	case errors.As(err, &ee):
		return &Error{Status: http.StatusConflict, Code: ee.Code, Message: "not allowed now: " + ee.Code}
	case errors.Is(err, governance.ErrForbidden):
		return forbidden("not permitted to do this here")
	case errors.Is(err, db.ErrNotFound):
		return notFound()
	}
	return err
}

// ---- requests ----

// NewElection schedules an election.
type NewElection struct {
	Village  string `json:"village" pattern:"^([0-9]{12}|[0-9]{15})$" doc:"The village; the caller needs governance.election there" example:"320205001001"`
	BodyKind string `json:"body_kind" maxLength:"64" doc:"A body kind of the village's pack (normally committee or representatives)" example:"committee"`
	Title    string `json:"title" maxLength:"400"`
	Day      string `json:"day" format:"date" doc:"The election day: today or later"`
	Seats    int    `json:"seats" minimum:"1" maximum:"99"`
}

type electionPath struct {
	ID int64 `path:"id" minimum:"1"`
}

type electionOut struct{ Body Election }

type createdElectionOut struct {
	Location string `header:"Location"`
	Body     Election
}

type createElectionIn struct{ Body NewElection }

type electionsIn struct {
	Unit   string `query:"unit" pattern:"^(0|[0-9]{6}|[0-9]{9}|[0-9]{12}|[0-9]{15})$" doc:"Only elections of this subtree"`
	State  string `query:"state" enum:"preparing,roll,counted"`
	Limit  int    `query:"limit" default:"50" minimum:"1" maximum:"200"`
	Offset int    `query:"offset" minimum:"0" maximum:"1000000"`
}

// ElectionList is one page of elections, the latest election day first.
type ElectionList struct {
	Items []Election `json:"items" nullable:"false"`
	More  bool       `json:"more"`
}

type electionsOut struct{ Body ElectionList }

type rollOut struct{ Body RollSummary }

type votersIn struct {
	ID     int64  `path:"id" minimum:"1"`
	Q      string `query:"q" maxLength:"100" doc:"A name or part of it"`
	View   string `query:"view" enum:"voted,not_voted,proxy" doc:"Only those who voted, who did not, or who entrusted their vote"`
	Limit  int    `query:"limit" default:"50" minimum:"1" maximum:"500"`
	Offset int    `query:"offset" minimum:"0" maximum:"1000000"`
}

type votersOut struct{ Body VoterList }

// ProxyList is an election's proxies, by trustee.
type ProxyList struct {
	Items []ElectionProxy `json:"items" nullable:"false"`
}

type proxiesOut struct{ Body ProxyList }

// NewProxy entrusts a voter's vote to another voter.
type NewProxy struct {
	Truster int64 `json:"truster" minimum:"1" doc:"The entrusting voter's resident ID"`
	Trustee int64 `json:"trustee" minimum:"1" doc:"The trustee's resident ID"`
}

type proxyIn struct {
	ID   int64 `path:"id" minimum:"1"`
	Body NewProxy
}

type proxyPath struct {
	ID      int64 `path:"id" minimum:"1"`
	Truster int64 `path:"truster" minimum:"1" doc:"The entrusting voter's resident ID"`
}

// NewCandidate puts a voter up for election.
type NewCandidate struct {
	ResidentID int64  `json:"resident_id" minimum:"1" doc:"A voter on the roll"`
	Reserved   string `json:"reserved,omitempty" maxLength:"64" doc:"A reserved seat key of the pack (the candidate's residency must be the seat's)"`
}

type candidateIn struct {
	ID   int64 `path:"id" minimum:"1"`
	Body NewCandidate
}

type candidatePath struct {
	ID          int64 `path:"id" minimum:"1"`
	CandidateID int64 `path:"candidate" minimum:"1"`
}

// VoteMark records that a voter voted in person.
type VoteMark struct {
	ResidentID int64 `json:"resident_id" minimum:"1"`
}

type voteMarkIn struct {
	ID   int64 `path:"id" minimum:"1"`
	Body VoteMark
}

// VoteMarked is a recorded vote.
type VoteMarked struct {
	ByProxy  int      `json:"by_proxy" doc:"The voter's trusters marked as voted by proxy with it"`
	Election Election `json:"election"`
}

type voteMarkOut struct{ Body VoteMarked }

// ElectionCount is the count of an election's ballots.
type ElectionCount struct {
	Ballots int              `json:"ballots" minimum:"0" doc:"Ballots cast: at most the voters who voted"`
	Invalid int              `json:"invalid" minimum:"0"`
	Votes   []CandidateVotes `json:"votes" maxItems:"200" doc:"Every candidate's votes"`
}

// CandidateVotes is one candidate's votes.
type CandidateVotes struct {
	CandidateID int64 `json:"candidate_id" minimum:"1"`
	Votes       int   `json:"votes"`
}

type countIn struct {
	ID   int64 `path:"id" minimum:"1"`
	Body ElectionCount
}

// ElectionRevote is the re-vote a tie at a last seat needs.
type ElectionRevote struct {
	Winners []int64 `json:"winners" maxItems:"99" doc:"The candidates the re-vote elected (as many as the tie's seats)"`
	Note    string  `json:"note" maxLength:"4000" doc:"How the re-vote was held (required)"`
}

type revoteIn struct {
	ID   int64 `path:"id" minimum:"1"`
	Body ElectionRevote
}

func (s *server) registerElections(a huma.API) {
	tags := []string{"elections"}
	errs := []int{http.StatusBadRequest, http.StatusForbidden, http.StatusNotFound, http.StatusConflict, http.StatusRequestEntityTooLarge,
		http.StatusUnprocessableEntity}
	post := func(id, path, summary, desc string) huma.Operation {
		o := op(id, http.MethodPost, path, summary, tags, errs...)
		o.MaxBodyBytes = maxBody
		o.Description = desc
		return o
	}
	created := func(o huma.Operation) huma.Operation {
		o.DefaultStatus = http.StatusCreated
		return o
	}
	huma.Register(a, created(post("create-election", "/elections", "Schedule an election at a village",
		"Needs governance.election at the village. Every problem of the input is checked at once (body_kind body_kind_unknown, "+
			"day day_past, seats seats_reserved, …); nothing is stored then.")), s.createElection)
	huma.Register(a, op("list-elections", http.MethodGet, "/elections", "Elections in the caller's governance.view scope, the latest first", tags,
		http.StatusUnprocessableEntity), s.listElections)
	huma.Register(a, op("get-election", http.MethodGet, "/elections/{id}", "An election with its candidates and, once counted, its result", tags,
		http.StatusNotFound, http.StatusUnprocessableEntity), s.getElection)
	huma.Register(a, post("build-roll", "/elections/{id}/roll", "Build (or rebuild) the voter roll from the registry",
		"Present residents of the village aged at least the pack's voter age on the election day (a birthday on the day counts); "+
			"registered residents always, non-registered ones by the pack's rule (never, after N years, all), migrants never. "+
			"Rebuilding is allowed until voting starts (then 409 roll_frozen) and keeps the proxies and candidates still on the roll. "+
			"Needs governance.election and resident.view at the village."), s.buildRoll)
	huma.Register(a, op("list-voters", http.MethodGet, "/elections/{id}/voters", "A page of the voter roll, by name (no ID numbers)", tags,
		http.StatusNotFound, http.StatusUnprocessableEntity), s.listVoters)
	huma.Register(a, op("list-proxies", http.MethodGet, "/elections/{id}/proxies", "The election's proxy votes, by trustee", tags,
		http.StatusNotFound, http.StatusUnprocessableEntity), s.listProxies)
	huma.Register(a, post("set-proxy", "/elections/{id}/proxies", "Entrust a voter's vote to another voter (DG-3)",
		"Both on the roll, neither voted; a voter cannot entrust themself, a trustee cannot have entrusted their own vote (proxy_chain), "+
			"a voter who votes for others cannot entrust theirs (proxy_trustee); at most the pack's proxy_limit voters per trustee "+
			"(422 proxy_limit naming the trustee and the limit); proxy_none where the pack allows no proxies. Returns the election."), s.setProxy)
	huma.Register(a, op("clear-proxy", http.MethodDelete, "/elections/{id}/proxies/{truster}", "Withdraw a proxy (before the truster has voted)", tags,
		errs...), s.clearProxy)
	huma.Register(a, created(post("add-candidate", "/elections/{id}/candidates", "Put a voter up for election (before voting starts)",
		"The candidate must be on the roll (candidate_not_voter); a reserved seat must be the pack's (reserved_unknown) and of the "+
			"candidate's residency (reserved_residency). Returns the election.")), s.addCandidate)
	huma.Register(a, op("remove-candidate", http.MethodDelete, "/elections/{id}/candidates/{candidate}", "Withdraw a candidate (before voting starts)", tags,
		errs...), s.removeCandidate)
	huma.Register(a, post("mark-voted", "/elections/{id}/votes", "Record that a voter voted in person",
		"On or after the election day (409 not_yet before). The voters who entrusted this one and have not voted are marked as voted by "+
			"proxy. A voter marked twice, in person or by proxy, is 422 voted_twice."), s.markVoted)
	huma.Register(a, post("count-election", "/elections/{id}/count", "Record the count",
		"Refused: ballots more than the voters who voted (ballots_over_voted), invalid more than ballots, a candidate's votes missing, "+
			"negative or more than the valid ballots (votes[ID] votes_over_valid), votes in all more than valid ballots × seats "+
			"(votes_over_seats). Reserved seats go first to their best candidate, then the general seats; a tie at a last seat leaves the "+
			"election pending (tie) until POST /elections/{id}/revote. A pending count may be corrected; a counted one is 409 counted."), s.countElection)
	huma.Register(a, post("revote-election", "/elections/{id}/revote", "Record the re-vote of a tie at a last seat",
		"winners: as many of the tied candidates as the tie's seats (revote_winners); note required. 409 no_tie when none waits."), s.revoteElection)
	s.registerDocuments(a)
}

func (s *server) createElection(ctx context.Context, in *createElectionIn) (*createdElectionOut, error) {
	if s.Governance == nil {
		return nil, notFound()
	}
	b := in.Body
	village, err := parseCode(b.Village)
	if err != nil {
		return nil, invalid("village", CodeInvalid, err.Error())
	}
	e, err := s.Governance.CreateElection(ctx, access.From(ctx), governance.ElectionInput{Village: village, BodyKind: b.BodyKind,
		Title: b.Title, Day: b.Day, Seats: b.Seats})
	if err != nil {
		return nil, electionError(err, 0)
	}
	return &createdElectionOut{Location: Prefix + "/elections/" + strconv.FormatInt(e.ID, 10), Body: s.toElection(e)}, nil
}

func (s *server) listElections(ctx context.Context, in *electionsIn) (*electionsOut, error) {
	if s.Governance == nil {
		return nil, notFound()
	}
	f := governance.ElectionFilter{State: in.State, Offset: in.Offset, Limit: in.Limit}
	if in.Unit != "" {
		code, err := parseCode(in.Unit)
		if err != nil {
			return nil, invalid("unit", CodeInvalid, err.Error())
		}
		f.Unit = code
	}
	list, more, err := s.Governance.Elections(ctx, access.From(ctx), f)
	if err != nil {
		return nil, electionError(err, 0)
	}
	out := &electionsOut{Body: ElectionList{Items: make([]Election, 0, len(list)), More: more}}
	for _, e := range list {
		out.Body.Items = append(out.Body.Items, s.toElection(e))
	}
	return out, nil
}

// election reads an election the caller sees, as it is now.
func (s *server) election(ctx context.Context, id int64) (*electionOut, error) {
	e, err := s.Governance.GetElection(ctx, access.From(ctx), id)
	if err != nil {
		return nil, electionError(err, 0)
	}
	return &electionOut{Body: s.toElection(e)}, nil
}

func (s *server) getElection(ctx context.Context, in *electionPath) (*electionOut, error) {
	if s.Governance == nil {
		return nil, notFound()
	}
	return s.election(ctx, in.ID)
}

func (s *server) buildRoll(ctx context.Context, in *electionPath) (*rollOut, error) {
	if s.Governance == nil {
		return nil, notFound()
	}
	sum, err := s.Governance.BuildRoll(ctx, access.From(ctx), in.ID)
	if err != nil {
		return nil, electionError(err, 0)
	}
	out := &rollOut{Body: RollSummary{Voters: sum.Voters, Excluded: map[string]int{}, ProxiesDropped: sum.ProxiesDropped,
		CandidatesDropped: sum.CandidatesDropped}}
	for k, v := range sum.Excluded {
		out.Body.Excluded[k] = v
	}
	return out, nil
}

func (s *server) listVoters(ctx context.Context, in *votersIn) (*votersOut, error) {
	if s.Governance == nil {
		return nil, notFound()
	}
	p := access.From(ctx)
	e, err := s.Governance.GetElection(ctx, p, in.ID)
	if err != nil {
		return nil, electionError(err, 0)
	}
	page, err := s.Governance.Voters(ctx, p, in.ID, governance.VoterFilter{Q: in.Q, View: in.View, Offset: in.Offset, Limit: in.Limit})
	if err != nil {
		return nil, electionError(err, 0)
	}
	out := &votersOut{Body: VoterList{Items: make([]Voter, 0, len(page.Voters)), Total: page.Total, More: in.Offset+len(page.Voters) < page.Total}}
	for _, v := range page.Voters {
		out.Body.Items = append(out.Body.Items, Voter{ResidentID: v.ResidentID, Name: v.Name, Gender: v.Gender, Age: v.AgeOn(e.Day),
			Residency: v.Residency, Voted: v.Voted, TrusteeID: v.TrusteeID, TrusteeName: v.TrusteeName, Trusters: v.Trusters,
			Candidate: v.Candidate})
	}
	return out, nil
}

func (s *server) listProxies(ctx context.Context, in *electionPath) (*proxiesOut, error) {
	if s.Governance == nil {
		return nil, notFound()
	}
	ps, err := s.Governance.Proxies(ctx, access.From(ctx), in.ID)
	if err != nil {
		return nil, electionError(err, 0)
	}
	out := &proxiesOut{Body: ProxyList{Items: make([]ElectionProxy, 0, len(ps))}}
	for _, x := range ps {
		out.Body.Items = append(out.Body.Items, ElectionProxy{Truster: x.TrusterID, TrusterName: x.TrusterName, Trustee: x.TrusteeID,
			TrusteeName: x.TrusteeName, Voted: x.Voted})
	}
	return out, nil
}

// proxyLimit is the proxy limit of an election's pack (0 when unknown).
func (s *server) proxyLimit(ctx context.Context, id int64) int {
	e, err := s.Governance.GetElection(ctx, access.From(ctx), id)
	if err != nil {
		return 0
	}
	if r := s.Governance.ElectionRules(e.Division); r != nil {
		return r.ProxyLimit
	}
	return 0
}

func (s *server) setProxy(ctx context.Context, in *proxyIn) (*electionOut, error) {
	if s.Governance == nil {
		return nil, notFound()
	}
	if err := s.Governance.SetProxy(ctx, access.From(ctx), in.ID, in.Body.Truster, in.Body.Trustee); err != nil {
		return nil, electionError(err, s.proxyLimit(ctx, in.ID))
	}
	return s.election(ctx, in.ID)
}

func (s *server) clearProxy(ctx context.Context, in *proxyPath) (*electionOut, error) {
	if s.Governance == nil {
		return nil, notFound()
	}
	if err := s.Governance.ClearProxy(ctx, access.From(ctx), in.ID, in.Truster); err != nil {
		return nil, electionError(err, 0)
	}
	return s.election(ctx, in.ID)
}

func (s *server) addCandidate(ctx context.Context, in *candidateIn) (*electionOut, error) {
	if s.Governance == nil {
		return nil, notFound()
	}
	if _, err := s.Governance.AddCandidate(ctx, access.From(ctx), in.ID, governance.CandidateInput{ResidentID: in.Body.ResidentID,
		Reserved: in.Body.Reserved}); err != nil {
		return nil, electionError(err, 0)
	}
	return s.election(ctx, in.ID)
}

func (s *server) removeCandidate(ctx context.Context, in *candidatePath) (*electionOut, error) {
	if s.Governance == nil {
		return nil, notFound()
	}
	if err := s.Governance.RemoveCandidate(ctx, access.From(ctx), in.ID, in.CandidateID); err != nil {
		return nil, electionError(err, 0)
	}
	return s.election(ctx, in.ID)
}

func (s *server) markVoted(ctx context.Context, in *voteMarkIn) (*voteMarkOut, error) {
	if s.Governance == nil {
		return nil, notFound()
	}
	n, err := s.Governance.MarkVoted(ctx, access.From(ctx), in.ID, in.Body.ResidentID)
	if err != nil {
		return nil, electionError(err, 0)
	}
	e, err := s.election(ctx, in.ID)
	if err != nil {
		return nil, err
	}
	return &voteMarkOut{Body: VoteMarked{ByProxy: n, Election: e.Body}}, nil
}

func (s *server) countElection(ctx context.Context, in *countIn) (*electionOut, error) {
	if s.Governance == nil {
		return nil, notFound()
	}
	c := governance.CountInput{Ballots: in.Body.Ballots, Invalid: in.Body.Invalid, Votes: map[int64]int{}}
	for _, v := range in.Body.Votes {
		if _, dup := c.Votes[v.CandidateID]; dup {
			return nil, invalid("votes", "candidate_twice", "candidate "+strconv.FormatInt(v.CandidateID, 10)+" is given twice")
		}
		c.Votes[v.CandidateID] = v.Votes
	}
	if _, err := s.Governance.Count(ctx, access.From(ctx), in.ID, c); err != nil {
		return nil, electionError(err, 0)
	}
	return s.election(ctx, in.ID)
}

func (s *server) revoteElection(ctx context.Context, in *revoteIn) (*electionOut, error) {
	if s.Governance == nil {
		return nil, notFound()
	}
	if _, err := s.Governance.ResolveTie(ctx, access.From(ctx), in.ID, governance.Revote{Winners: in.Body.Winners, Note: in.Body.Note}); err != nil {
		return nil, electionError(err, 0)
	}
	return s.election(ctx, in.ID)
}

// ---- documents ----

// Document is a versioned document of a village: a charter, village rules,
// a residents' covenant, a regulation.
type Document struct {
	ID        int64             `json:"id"`
	Village   string            `json:"village" example:"320205001001000"`
	Kind      string            `json:"kind" doc:"A document kind of the village's pack" example:"charter"`
	KindName  string            `json:"kind_name" example:"自治章程"`
	Title     string            `json:"title"`
	Current   *DocumentVersion  `json:"current,omitempty" doc:"The latest version (its text only on GET /documents/{id})"`
	Versions  []DocumentVersion `json:"versions,omitempty" doc:"Every version, oldest first (GET /documents/{id} only)"`
	CreatedBy string            `json:"created_by"`
	CreatedAt string            `json:"created_at" format:"date-time"`
}

// DocumentVersion is one adopted version, with the meeting and the vote
// that adopted it.
type DocumentVersion struct {
	Version    int             `json:"version"`
	Text       string          `json:"text,omitempty"`
	Note       string          `json:"note,omitempty" doc:"What changed"`
	AdoptedDay string          `json:"adopted_day" format:"date"`
	Adoption   DocumentAdopted `json:"adoption"`
	CreatedBy  string          `json:"created_by"`
	CreatedAt  string          `json:"created_at" format:"date-time"`
}

// DocumentAdopted is the resolution that adopted a version.
type DocumentAdopted struct {
	MeetingID int64  `json:"meeting_id"`
	Meeting   string `json:"meeting"`
	Day       string `json:"day" format:"date"`
	Body      string `json:"body" doc:"The body that met"`
	AgendaID  int64  `json:"agenda_id"`
	Item      string `json:"item"`
	Result    string `json:"result" enum:"passed,failed,no_quorum,pending"`
	Members   int    `json:"members"`
	Present   int    `json:"present"`
	For       int    `json:"for"`
	Against   int    `json:"against"`
	Abstain   int    `json:"abstain"`
}

// DocumentKindStatus is where a village stands with a document kind.
type DocumentKindStatus struct {
	Kind         string `json:"kind"`
	Label        string `json:"label"`
	AdoptedBy    string `json:"adopted_by" doc:"The body kind whose meeting adopts a version"`
	Documents    int    `json:"documents" doc:"Documents of the kind adopted"`
	Target       int    `json:"target" doc:"How many the pack asks for (SX-4: 15 regulations; else 1)"`
	Deadline     string `json:"deadline,omitempty" format:"date" doc:"The pack's deadline (DG-5: 2017-04-30)"`
	FirstAdopted string `json:"first_adopted,omitempty" format:"date"`
	State        string `json:"state,omitempty" enum:"met,late,due,overdue" doc:"Against the deadline: met (a version adopted by then), late (only after), due, overdue (none adopted and the deadline has passed)"`
}

// DocumentList is a village's documents and its standing per kind.
type DocumentList struct {
	Items []Document           `json:"items" nullable:"false"`
	Kinds []DocumentKindStatus `json:"kinds" nullable:"false"`
}

func (s *server) toVersion(v governance.DocumentVersion) DocumentVersion {
	return DocumentVersion{Version: v.Version, Text: v.Text, Note: v.Note, AdoptedDay: calendar.FormatDay(v.AdoptedDay),
		Adoption: DocumentAdopted{MeetingID: v.MeetingID, Meeting: v.MeetingTitle, Day: calendar.FormatDay(v.MeetingDay), Body: v.BodyName,
			AgendaID: v.AgendaID, Item: v.ItemTitle, Result: v.Result, Members: v.Members, Present: v.Present, For: v.For,
			Against: v.Against, Abstain: v.Abstain},
		CreatedBy: v.CreatedBy, CreatedAt: timeString(v.CreatedAt)}
}

func (s *server) toDocument(d governance.Document) Document {
	out := Document{ID: d.ID, Village: codeString(d.Division), Kind: d.Kind, KindName: d.Kind, Title: d.Title, CreatedBy: d.CreatedBy,
		CreatedAt: timeString(d.CreatedAt)}
	if k, ok := s.Governance.Rules(d.Division).Document(d.Kind); ok {
		out.KindName = k.Label.Get(policy.DefaultLocale)
	}
	if d.Current.Version > 0 {
		v := s.toVersion(d.Current)
		out.Current = &v
	}
	for _, v := range d.Versions {
		out.Versions = append(out.Versions, s.toVersion(v))
	}
	return out
}

// NewDocument is a document with its first version.
type NewDocument struct {
	Village  string `json:"village" pattern:"^([0-9]{12}|[0-9]{15})$" doc:"The village; the caller needs governance.manage there" example:"320205001001"`
	Kind     string `json:"kind" maxLength:"64" doc:"A document kind of the village's pack" example:"charter"`
	Title    string `json:"title" maxLength:"400"`
	Text     string `json:"text" maxLength:"50000"`
	Note     string `json:"note,omitempty" maxLength:"4000"`
	AgendaID int64  `json:"agenda_id,omitempty" minimum:"0" doc:"The passed agenda item, at a held meeting of the body the kind's adopted_by names in the village, that adopted this version (required)"`
}

// NewDocumentVersion is a new version of a document.
type NewDocumentVersion struct {
	Text     string `json:"text" maxLength:"50000"`
	Note     string `json:"note,omitempty" maxLength:"4000"`
	AgendaID int64  `json:"agenda_id,omitempty" minimum:"0" doc:"The passed agenda item that adopted it (required; not older than the previous version's)"`
}

type documentsIn struct {
	Village string `query:"village" required:"true" pattern:"^([0-9]{12}|[0-9]{15})$" doc:"The village"`
}

type documentsOut struct{ Body DocumentList }

type documentPath struct {
	ID int64 `path:"id" minimum:"1"`
}

type documentOut struct{ Body Document }

type createdDocumentOut struct {
	Location string `header:"Location"`
	Body     Document
}

type createDocumentIn struct{ Body NewDocument }

type versionIn struct {
	ID   int64 `path:"id" minimum:"1"`
	Body NewDocumentVersion
}

// VersionList is a document's versions, oldest first.
type VersionList struct {
	Items []DocumentVersion `json:"items" nullable:"false"`
}

type versionsOut struct{ Body VersionList }

type createdVersionOut struct {
	Location string `header:"Location"`
	Body     DocumentVersion
}

func (s *server) registerDocuments(a huma.API) {
	tags := []string{"documents"}
	huma.Register(a, op("list-documents", http.MethodGet, "/documents", "A village's documents and its standing with each kind of its pack", tags,
		http.StatusNotFound, http.StatusUnprocessableEntity), s.listDocuments)
	create := op("create-document", http.MethodPost, "/documents", "Record a document with its first version", tags,
		http.StatusBadRequest, http.StatusForbidden, http.StatusNotFound, http.StatusRequestEntityTooLarge, http.StatusUnprocessableEntity)
	create.DefaultStatus = http.StatusCreated
	create.MaxBodyBytes = 1 << 20
	create.Description = "Needs governance.manage at the village. A version without the passed agenda item of a held meeting of the " +
		"adopting body in the same village is 422 at agenda_id (adoption_missing, adoption_not_held, adoption_wrong_body, " +
		"adoption_not_passed, adoption_other_village, adoption_used, adoption_other_document); nothing is stored then."
	huma.Register(a, create, s.createDocument)
	huma.Register(a, op("get-document", http.MethodGet, "/documents/{id}", "A document with every version", tags,
		http.StatusNotFound, http.StatusUnprocessableEntity), s.getDocument)
	huma.Register(a, op("list-document-versions", http.MethodGet, "/documents/{id}/versions", "A document's versions, oldest first", tags,
		http.StatusNotFound, http.StatusUnprocessableEntity), s.listVersions)
	add := op("add-document-version", http.MethodPost, "/documents/{id}/versions", "Record a new version of a document", tags,
		http.StatusBadRequest, http.StatusForbidden, http.StatusNotFound, http.StatusRequestEntityTooLarge, http.StatusUnprocessableEntity)
	add.DefaultStatus = http.StatusCreated
	add.MaxBodyBytes = 1 << 20
	add.Description = "As for the first version; the adopting resolution may not be older than the previous version's (adoption_before_previous)."
	huma.Register(a, add, s.addVersion)
}

func (s *server) listDocuments(ctx context.Context, in *documentsIn) (*documentsOut, error) {
	if s.Governance == nil {
		return nil, notFound()
	}
	village, err := parseCode(in.Village)
	if err != nil {
		return nil, invalid("village", CodeInvalid, err.Error())
	}
	p := access.From(ctx)
	docs, err := s.Governance.Documents(ctx, p, village)
	if err != nil {
		return nil, electionError(err, 0)
	}
	status, err := s.Governance.DocumentStatus(ctx, p, village)
	if err != nil {
		return nil, electionError(err, 0)
	}
	out := &documentsOut{Body: DocumentList{Items: make([]Document, 0, len(docs)), Kinds: make([]DocumentKindStatus, 0, len(status))}}
	for _, d := range docs {
		out.Body.Items = append(out.Body.Items, s.toDocument(d))
	}
	for _, k := range status {
		out.Body.Kinds = append(out.Body.Kinds, DocumentKindStatus{Kind: k.Kind.Key, Label: k.Kind.Label.Get(policy.DefaultLocale),
			AdoptedBy: k.Kind.AdoptedBy, Documents: k.Documents, Target: k.Target, Deadline: calendar.FormatDay(k.Deadline),
			FirstAdopted: calendar.FormatDay(k.FirstAdopted), State: k.State})
	}
	return out, nil
}

func (s *server) createDocument(ctx context.Context, in *createDocumentIn) (*createdDocumentOut, error) {
	if s.Governance == nil {
		return nil, notFound()
	}
	b := in.Body
	village, err := parseCode(b.Village)
	if err != nil {
		return nil, invalid("village", CodeInvalid, err.Error())
	}
	d, err := s.Governance.CreateDocument(ctx, access.From(ctx), governance.DocumentInput{Village: village, Kind: b.Kind, Title: b.Title,
		Version: governance.VersionInput{Text: b.Text, Note: b.Note, AgendaID: b.AgendaID}})
	if err != nil {
		return nil, electionError(err, 0)
	}
	got, err := s.Governance.GetDocument(ctx, access.From(ctx), d.ID)
	if err != nil {
		return nil, electionError(err, 0)
	}
	return &createdDocumentOut{Location: Prefix + "/documents/" + strconv.FormatInt(d.ID, 10), Body: s.toDocument(got)}, nil
}

func (s *server) getDocument(ctx context.Context, in *documentPath) (*documentOut, error) {
	if s.Governance == nil {
		return nil, notFound()
	}
	d, err := s.Governance.GetDocument(ctx, access.From(ctx), in.ID)
	if err != nil {
		return nil, electionError(err, 0)
	}
	return &documentOut{Body: s.toDocument(d)}, nil
}

func (s *server) listVersions(ctx context.Context, in *documentPath) (*versionsOut, error) {
	if s.Governance == nil {
		return nil, notFound()
	}
	d, err := s.Governance.GetDocument(ctx, access.From(ctx), in.ID)
	if err != nil {
		return nil, electionError(err, 0)
	}
	out := &versionsOut{Body: VersionList{Items: make([]DocumentVersion, 0, len(d.Versions))}}
	for _, v := range d.Versions {
		out.Body.Items = append(out.Body.Items, s.toVersion(v))
	}
	return out, nil
}

func (s *server) addVersion(ctx context.Context, in *versionIn) (*createdVersionOut, error) {
	if s.Governance == nil {
		return nil, notFound()
	}
	p := access.From(ctx)
	v, err := s.Governance.AddVersion(ctx, p, in.ID, governance.VersionInput{Text: in.Body.Text, Note: in.Body.Note, AgendaID: in.Body.AgendaID})
	if err != nil {
		return nil, electionError(err, 0)
	}
	d, err := s.Governance.GetDocument(ctx, p, in.ID)
	if err != nil {
		return nil, electionError(err, 0)
	}
	for _, x := range d.Versions {
		if x.Version == v.Version {
			v = x
		}
	}
	return &createdVersionOut{Location: Prefix + "/documents/" + strconv.FormatInt(in.ID, 10) + "/versions", Body: s.toVersion(v)}, nil
}
