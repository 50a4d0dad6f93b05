package policy

import (
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"
)

// Governance is a pack's governance.yaml: what self-governance and
// disclosure (NH-2, SX-1–SX-4, DG-2–DG-8, NT-7) need as data. The mechanisms
// live in internal/governance and internal/disclosure; the pack names the
// bodies a village has and their rules (size, chair, cadence, quorum,
// majority, proxies), the staged procedure important matters go through
// (Sha county's 五议, Dongguan's five steps, Nantong's majority rule), the
// implementation steps (四步), election rules, the kinds of versioned
// documents, the finance accounts and categories, and the disclosure
// schedule.
type Governance struct {
	Bodies []BodyKind
	// PartyForms is DG-2's rule: the form of the party organisation by its
	// member count, largest first (empty: no rule).
	PartyForms []PartyForm
	// Procedures are the staged decision procedures; the first is the one
	// new matters follow unless another is chosen.
	Procedures []Procedure
	// Implementation lists the implementation steps (四步, SX-3) in order;
	// the mechanism knows four kinds: assign, implement, urge, supervise.
	Implementation []ImplementationStep
	// GoalsTarget is the number of hot issues the annual work goals should
	// hold (SX-4: 32; 0: no target).
	GoalsTarget int
	Elections   ElectionRules
	Documents   []DocumentKind
	Finance     FinanceRules
	// Disclosure is the publication schedule (DG-8): each item and how
	// often it must be published.
	Disclosure []DisclosureItem
}

// Body kinds the mechanism treats specially (a pack may define others).
const (
	BodyParty           = "party"           // the party organisation (branch, general branch or committee: DG-2)
	BodyCommittee       = "committee"       // village or residents' committee (村(居)民委员会)
	BodyRepresentatives = "representatives" // representatives' meeting (村(居)民代表会议)
)

// BodyKind is one kind of body a village has: the party branch, the
// village committee, the community affairs council, the management
// committee, the representatives' meeting, the supervision committee,
// villager groups.
type BodyKind struct {
	Key   string `yaml:"key" policy:"required" json:"key"`
	Label Text   `yaml:"label" policy:"required" json:"label"`
	// Posts members hold (secretary, director, member, …); the first is
	// the chair unless Chair names another.
	Posts []GovKey `yaml:"posts" policy:"required" json:"posts"`
	Chair string   `yaml:"chair" json:"chair,omitempty"`
	// ChairFrom requires the chair to hold a post in another body (NH-2:
	// the council's chair is the party secretary).
	ChairFrom *PostRef `yaml:"chair_from" json:"chair_from,omitempty"`
	// MinMembers and MaxMembers bound the body's size (0: unbounded).
	MinMembers int `yaml:"min_members" json:"min_members,omitempty"`
	MaxMembers int `yaml:"max_members" json:"max_members,omitempty"`
	TermYears  int `yaml:"term_years" json:"term_years,omitempty"`
	// Cadence is the longest a body may go without a meeting: month,
	// quarter, half_year or year ("" for none). NH-2: quarter.
	Cadence string `yaml:"cadence" json:"cadence,omitempty"`
	// Quorum is the share of members who must attend (of members).
	Quorum Threshold `yaml:"quorum" policy:"required" json:"quorum"`
	// Majority is the share of votes for that passes an item, of those
	// present or of all members.
	Majority Threshold `yaml:"majority" policy:"required" json:"majority"`
	// ProxyLimit is how many absent members one present member may
	// represent (0: proxies are not allowed).
	ProxyLimit int `yaml:"proxy_limit" json:"proxy_limit,omitempty"`
	// WomenMin is the share of women wanted among members (0: none).
	WomenMin float64 `yaml:"women_min" json:"women_min,omitempty"`
	// NonLocal is DG-2's rule: at least Min non-registered members where
	// the village's non-registered share of residents is at least When.
	NonLocal *NonLocalRule `yaml:"non_local" json:"non_local,omitempty"`
	// Public bodies' meetings appear on the public portal and calendar.
	Public bool     `yaml:"public" json:"public,omitempty"`
	Seeds  []string `yaml:"seeds" json:"seeds,omitempty"`
}

// GovKey is a keyed label (a post, an account, an asset kind).
type GovKey struct {
	Key   string   `yaml:"key" policy:"required" json:"key"`
	Label Text     `yaml:"label" policy:"required" json:"label"`
	Seeds []string `yaml:"seeds" json:"seeds,omitempty"`
}

// PostRef names a post of a body kind.
type PostRef struct {
	Body string `yaml:"body" policy:"required" json:"body"`
	Post string `yaml:"post" policy:"required" json:"post"`
}

// NonLocalRule: at least Min members are non-registered residents where
// the village's non-registered share is at least When (DG-2).
type NonLocalRule struct {
	Min  int     `yaml:"min" policy:"required" json:"min"`
	When float64 `yaml:"when" policy:"required" json:"when"`
}

// Threshold is a share that must be reached: Share is a fraction ("2/3",
// "1/2"), Over makes it strict (过半数: more than half), Of says what it is
// a share of: present (those attending) or members (all members). A
// quorum is always a share of the members.
type Threshold struct {
	Share string `yaml:"share" policy:"required" json:"share"`
	Over  bool   `yaml:"over" json:"over,omitempty"`
	Of    string `yaml:"of" json:"of,omitempty"`
}

// Threshold bases.
const (
	OfPresent = "present"
	OfMembers = "members"
)

// Fraction parses Share ("2/3", "1/2", "1") into numerator and
// denominator.
func (t Threshold) Fraction() (num, den int, ok bool) {
	a, b, found := strings.Cut(strings.TrimSpace(t.Share), "/")
	n, err := strconv.Atoi(strings.TrimSpace(a))
	if err != nil {
		return 0, 0, false
	}
	d := 1
	if found {
		if d, err = strconv.Atoi(strings.TrimSpace(b)); err != nil {
			return 0, 0, false
		}
	}
	if n < 0 || d <= 0 || n > d {
		return 0, 0, false
	}
	return n, d, true
}

// Met reports whether n out of base reaches the threshold: n/base ≥ share,
// or > share when Over. Integer arithmetic, so 2 of 3 meets "2/3" exactly.
// A base of 0 never meets a threshold.
func (t Threshold) Met(n, base int) bool {
	num, den, ok := t.Fraction()
	if !ok || base <= 0 {
		return false
	}
	if t.Over {
		return n*den > base*num
	}
	return n*den >= base*num
}

// Need is the smallest n out of base that meets the threshold (base+1 when
// none does).
func (t Threshold) Need(base int) int {
	for n := 0; n <= base; n++ {
		if t.Met(n, base) {
			return n
		}
	}
	return base + 1
}

// String writes the threshold as people read it: "≥ 2/3", "> 1/2 of present".
func (t Threshold) String() string {
	op := "≥"
	if t.Over {
		op = ">"
	}
	s := op + " " + t.Share
	if t.Of != "" {
		s += " of " + t.Of
	}
	return s
}

// PartyForm is one row of DG-2's rule: with at least MinMembers party
// members the organisation should be Form.
type PartyForm struct {
	MinMembers int      `yaml:"min_members" json:"min_members"`
	Form       Text     `yaml:"form" policy:"required" json:"form"`
	Seeds      []string `yaml:"seeds" json:"seeds,omitempty"`
}

// Stage kinds of a procedure.
const (
	StagePropose   = "propose"   // residents or a body propose; signatures counted
	StageMeeting   = "meeting"   // a body's meeting votes on it (quorum and majority from the body's rules)
	StageImplement = "implement" // the implementation steps (四步) run; done when the work is complete
	StageEvaluate  = "evaluate"  // residents rate the result (year-end 评议)
)

// StageKinds lists the stage kinds.
var StageKinds = []string{StagePropose, StageMeeting, StageImplement, StageEvaluate}

// Procedure is a staged decision procedure: the stages a matter goes
// through, in order.
type Procedure struct {
	Key    string   `yaml:"key" policy:"required" json:"key"`
	Label  Text     `yaml:"label" policy:"required" json:"label"`
	Stages []Stage  `yaml:"stages" policy:"required" json:"stages"`
	Seeds  []string `yaml:"seeds" json:"seeds,omitempty"`
}

// Stage is one stage of a procedure.
type Stage struct {
	Key   string `yaml:"key" policy:"required" json:"key"`
	Label Text   `yaml:"label" policy:"required" json:"label"`
	Kind  string `yaml:"kind" policy:"required" json:"kind"`
	// Body is the body kind that meets (meeting stages).
	Body string `yaml:"body" json:"body,omitempty"`
	// Proposers are who may propose (propose stage): residents, or body
	// kinds (the committee, the party organisation, …).
	Proposers []string `yaml:"proposers" json:"proposers,omitempty"`
	// Signatures is the number of residents' signatures a residents'
	// proposal needs (0: one proposer suffices).
	Signatures int      `yaml:"signatures" json:"signatures,omitempty"`
	Seeds      []string `yaml:"seeds" json:"seeds,omitempty"`
}

// ProposerResidents is the proposer meaning residents (not a body).
const ProposerResidents = "residents"

// ImplementationStep is one of the implementation steps (四步).
type ImplementationStep struct {
	Key   string `yaml:"key" policy:"required" json:"key"` // assign, implement, urge or supervise
	Label Text   `yaml:"label" policy:"required" json:"label"`
	// Body is the body that acts (the party organisation assigns, the
	// management committee implements, the representatives urge).
	Body  string   `yaml:"body" json:"body,omitempty"`
	Seeds []string `yaml:"seeds" json:"seeds,omitempty"`
}

// Implementation step kinds (SX-3).
const (
	StepAssign    = "assign"
	StepImplement = "implement"
	StepUrge      = "urge"
	StepSupervise = "supervise"
)

// ImplementationSteps lists the step kinds in order.
var ImplementationSteps = []string{StepAssign, StepImplement, StepUrge, StepSupervise}

// Who among non-registered residents may vote (DG-3).
const (
	NonRegisteredNever = "never" // only registered residents
	NonRegisteredYears = "years" // after living in the village for Years years (and registering to vote)
	NonRegisteredAll   = "all"   // every non-registered permanent resident of age
)

// ElectionRules are the rules of village and residents' committee
// elections (DG-3).
type ElectionRules struct {
	// VoterAge is the age a voter must have reached on election day (18).
	VoterAge int `yaml:"voter_age" policy:"required" json:"voter_age"`
	// NonRegistered says when non-registered residents may vote; Years is
	// the residence they need under "years". Migrants never appear on the
	// roll.
	NonRegistered string `yaml:"non_registered" policy:"required" json:"non_registered"`
	Years         int    `yaml:"years" json:"years,omitempty"`
	// ProxyLimit is how many voters one trustee may vote for (0: none).
	ProxyLimit int `yaml:"proxy_limit" json:"proxy_limit,omitempty"`
	// TurnoutTarget is the share of voters who should vote (DG-3: 0.965).
	TurnoutTarget float64 `yaml:"turnout_target" json:"turnout_target,omitempty"`
	// WomenSeats is the number of seats at least that should go to women.
	WomenSeats int `yaml:"women_seats" json:"women_seats,omitempty"`
	// Valid is the share of the roll that must vote for the election to
	// be valid, and Win the share of those who voted a candidate needs to
	// be elected (the Organic Law, art. 15: more than half each); nil for
	// no such rule.
	Valid *Threshold `yaml:"valid" json:"valid,omitempty"`
	Win   *Threshold `yaml:"win" json:"win,omitempty"`
	// Reserved are seats reserved for a residency (DG-3: non-registered).
	Reserved []ReservedSeat `yaml:"reserved" json:"reserved,omitempty"`
	Seeds    []string       `yaml:"seeds" json:"seeds,omitempty"`
}

// ReservedSeat reserves Seats for candidates of a residency.
type ReservedSeat struct {
	Key       string `yaml:"key" policy:"required" json:"key"`
	Label     Text   `yaml:"label" policy:"required" json:"label"`
	Residency string `yaml:"residency" policy:"required" json:"residency"`
	Seats     int    `yaml:"seats" policy:"required" json:"seats"`
}

// DocumentKind is a kind of versioned document (charter, village rules,
// residents' covenant, regulations: SX-4, DG-5).
type DocumentKind struct {
	Key   string `yaml:"key" policy:"required" json:"key"`
	Label Text   `yaml:"label" policy:"required" json:"label"`
	// AdoptedBy is the body kind whose meeting adopts a version.
	AdoptedBy string `yaml:"adopted_by" policy:"required" json:"adopted_by"`
	// Deadline is the day by which a version must have been adopted
	// (YYYY-MM-DD; DG-5: 2017-04-30), "" for none.
	Deadline string `yaml:"deadline" json:"deadline,omitempty"`
	// Target is how many documents of the kind a village should have (SX-4:
	// 15 regulations; 0: one).
	Target int      `yaml:"target" json:"target,omitempty"`
	Seeds  []string `yaml:"seeds" json:"seeds,omitempty"`
}

// DeadlineDay is Deadline as YYYYMMDD (0: none).
func (d DocumentKind) DeadlineDay() int {
	t, err := time.Parse("2006-01-02", d.Deadline)
	if err != nil {
		return 0
	}
	return t.Year()*10000 + int(t.Month())*100 + t.Day()
}

// FinanceRules are DG-6's accounts: the separate administrative and
// economic accounts, the income and expenditure categories, and the kinds
// of collective assets (三资).
type FinanceRules struct {
	Accounts   []GovKey          `yaml:"accounts" policy:"required" json:"accounts"`
	Categories []FinanceCategory `yaml:"categories" policy:"required" json:"categories"`
	AssetKinds []GovKey          `yaml:"asset_kinds" policy:"required" json:"asset_kinds"`
	Seeds      []string          `yaml:"seeds" json:"seeds,omitempty"`
}

// FinanceCategory is an income or expenditure category of an account.
type FinanceCategory struct {
	Key     string `yaml:"key" policy:"required" json:"key"`
	Label   Text   `yaml:"label" policy:"required" json:"label"`
	Account string `yaml:"account" policy:"required" json:"account"`
	Kind    string `yaml:"kind" policy:"required" json:"kind"` // income or expense
}

// Finance category kinds.
const (
	Income  = "income"
	Expense = "expense"
)

// Disclosure schedules (how often an item must be published).
const (
	EveryMonth    = "month"
	EveryQuarter  = "quarter"
	EveryHalfYear = "half_year"
	EveryYear     = "year"
	EveryEvent    = "event" // whenever it happens (a resolution)
)

// Cadences are the periods a cadence or schedule may name.
var Cadences = []string{EveryMonth, EveryQuarter, EveryHalfYear, EveryYear}

// Disclosure sources: where the portal finds an item's publications.
const (
	SourceNotices     = "notices"     // notices published by hand under the item
	SourceResolutions = "resolutions" // resolutions of public bodies' meetings
	SourceMatters     = "matters"     // matters and their stage
	SourceProgress    = "progress"    // implementation progress reports
	SourceFinance     = "finance"     // finance statements published for a period
)

// DisclosureSources lists the sources.
var DisclosureSources = []string{SourceNotices, SourceResolutions, SourceMatters, SourceProgress, SourceFinance}

// DisclosureItem is one item of the disclosure schedule.
type DisclosureItem struct {
	Key    string   `yaml:"key" policy:"required" json:"key"`
	Label  Text     `yaml:"label" policy:"required" json:"label"`
	Every  string   `yaml:"every" policy:"required" json:"every"`
	Source string   `yaml:"source" policy:"required" json:"source"`
	Seeds  []string `yaml:"seeds" json:"seeds,omitempty"`
}

// Body returns the body kind with key.
func (g *Governance) Body(key string) (BodyKind, bool) {
	if g == nil {
		return BodyKind{}, false
	}
	for _, b := range g.Bodies {
		if b.Key == key {
			return b, true
		}
	}
	return BodyKind{}, false
}

// Procedure returns the procedure with key ("" for the default, the first).
func (g *Governance) Procedure(key string) (Procedure, bool) {
	if g == nil || len(g.Procedures) == 0 {
		return Procedure{}, false
	}
	if key == "" {
		return g.Procedures[0], true
	}
	for _, p := range g.Procedures {
		if p.Key == key {
			return p, true
		}
	}
	return Procedure{}, false
}

// Document returns the document kind with key.
func (g *Governance) Document(key string) (DocumentKind, bool) {
	if g == nil {
		return DocumentKind{}, false
	}
	for _, d := range g.Documents {
		if d.Key == key {
			return d, true
		}
	}
	return DocumentKind{}, false
}

// Category returns the finance category with key.
func (f FinanceRules) Category(key string) (FinanceCategory, bool) {
	for _, c := range f.Categories {
		if c.Key == key {
			return c, true
		}
	}
	return FinanceCategory{}, false
}

// Stage returns the stage with key and its index.
func (p Procedure) Stage(key string) (Stage, int, bool) {
	for i, s := range p.Stages {
		if s.Key == key {
			return s, i, true
		}
	}
	return Stage{}, -1, false
}

// Post returns the post with key.
func (b BodyKind) Post(key string) (GovKey, bool) {
	for _, p := range b.Posts {
		if p.Key == key {
			return p, true
		}
	}
	return GovKey{}, false
}

// ChairPost is the post that chairs the body.
func (b BodyKind) ChairPost() string {
	if b.Chair != "" {
		return b.Chair
	}
	if len(b.Posts) > 0 {
		return b.Posts[0].Key
	}
	return ""
}

type governanceFile struct {
	Bodies         []BodyKind           `yaml:"bodies" policy:"required"`
	PartyForms     []PartyForm          `yaml:"party_forms"`
	Procedures     []Procedure          `yaml:"procedures" policy:"required"`
	Implementation []ImplementationStep `yaml:"implementation" policy:"required"`
	GoalsTarget    int                  `yaml:"goals_target"`
	Elections      ElectionRules        `yaml:"elections" policy:"required"`
	Documents      []DocumentKind       `yaml:"documents" policy:"required"`
	Finance        FinanceRules         `yaml:"finance" policy:"required"`
	Disclosure     []DisclosureItem     `yaml:"disclosure" policy:"required"`
}

// applyGovernance checks what the decoder cannot: keys and their
// uniqueness, references between bodies, stages, documents and categories,
// thresholds, cadences, bounds and dates.
func applyGovernance(c *checker, p *Pack, f *governanceFile) {
	bodies := map[string]int{}
	for i, b := range f.Bodies {
		path := indexPath("bodies", i)
		checkWindowKey(c, "bodies", i, "key", b.Key, "body", bodies)
		posts := map[string]int{}
		for j, po := range b.Posts {
			checkWindowKey(c, path+".posts", j, "key", po.Key, "post", posts)
		}
		if b.Chair != "" && c.valid(path+".chair") {
			if _, ok := posts[b.Chair]; !ok {
				c.errorf(path+".chair", "%q is not a post of this body", b.Chair)
			}
		}
		minOK, maxOK := c.valid(path+".min_members"), c.valid(path+".max_members")
		switch {
		case minOK && b.MinMembers < 0:
			c.errorf(path+".min_members", "member counts cannot be negative")
		case maxOK && b.MaxMembers < 0:
			c.errorf(path+".max_members", "member counts cannot be negative")
		case minOK && maxOK && b.MaxMembers > 0 && b.MinMembers > b.MaxMembers:
			c.errorf(path+".min_members", "min_members %d is greater than max_members %d", b.MinMembers, b.MaxMembers)
		}
		if c.valid(path+".term_years") && (b.TermYears < 0 || b.TermYears > 10) {
			c.errorf(path+".term_years", "%d is out of range (0–10)", b.TermYears)
		}
		if b.Cadence != "" && c.valid(path+".cadence") && !slices.Contains(Cadences, b.Cadence) {
			c.errorf(path+".cadence", "%q is not a cadence (want one of %s)", b.Cadence, strings.Join(Cadences, ", "))
		}
		checkThreshold(c, path+".quorum", b.Quorum, false)
		checkThreshold(c, path+".majority", b.Majority, true)
		if c.valid(path+".proxy_limit") && (b.ProxyLimit < 0 || b.ProxyLimit > 10) {
			c.errorf(path+".proxy_limit", "%d is out of range (0–10)", b.ProxyLimit)
		}
		if c.valid(path+".women_min") && (b.WomenMin < 0 || b.WomenMin > 1) {
			c.errorf(path+".women_min", "%g is out of range (0–1, a share of members)", b.WomenMin)
		}
		if b.NonLocal != nil && (b.NonLocal.Min < 1 || b.NonLocal.When < 0 || b.NonLocal.When > 1) {
			c.errorf(path+".non_local", "min must be at least 1 and when a share (0–1)")
		}
		checkWindowSeeds(c, path, b.Seeds)
	}
	// chair_from refers to another body's post; checked once all are known.
	for i, b := range f.Bodies {
		if b.ChairFrom == nil {
			continue
		}
		path := indexPath("bodies", i) + ".chair_from"
		j, ok := bodies[b.ChairFrom.Body]
		switch {
		case !ok:
			c.errorf(path+".body", "%q is not a body of this file", b.ChairFrom.Body)
		case j == i:
			c.errorf(path+".body", "a body's chair cannot come from the body itself")
		default:
			if _, ok := f.Bodies[j].Post(b.ChairFrom.Post); !ok {
				c.errorf(path+".post", "%q is not a post of body %q", b.ChairFrom.Post, b.ChairFrom.Body)
			}
		}
	}
	last := 1 << 30
	for i, pf := range f.PartyForms {
		path := indexPath("party_forms", i)
		if c.valid(path+".min_members") && (pf.MinMembers < 0 || pf.MinMembers >= last) {
			c.errorf(path+".min_members", "rows must be ordered by min_members, largest first, without repeats")
		}
		last = pf.MinMembers
		checkWindowSeeds(c, path, pf.Seeds)
	}
	if c.valid("procedures") && len(f.Procedures) == 0 {
		c.errorf("procedures", "at least one procedure is required (the first is the one new matters follow)")
	}
	procs := map[string]int{}
	for i, pr := range f.Procedures {
		path := indexPath("procedures", i)
		checkWindowKey(c, "procedures", i, "key", pr.Key, "procedure", procs)
		checkWindowSeeds(c, path, pr.Seeds)
		stages := map[string]int{}
		kinds := map[string]int{}
		for j, st := range pr.Stages {
			sp := indexPath(path+".stages", j)
			checkWindowKey(c, path+".stages", j, "key", st.Key, "stage", stages)
			checkWindowSeeds(c, sp, st.Seeds)
			if !c.valid(sp + ".kind") {
				continue
			}
			if !slices.Contains(StageKinds, st.Kind) {
				c.errorf(sp+".kind", "%q is not a stage kind (want one of %s)", st.Kind, strings.Join(StageKinds, ", "))
				continue
			}
			kinds[st.Kind]++
			switch st.Kind {
			case StageMeeting:
				if _, ok := bodies[st.Body]; !ok {
					c.errorf(sp+".body", "%q is not a body of this file (a meeting stage names the body that votes)", st.Body)
				}
			default:
				if st.Body != "" {
					c.errorf(sp+".body", "only meeting stages name a body (kind is %s)", st.Kind)
				}
			}
			if st.Kind == StagePropose {
				if j != 0 {
					c.errorf(sp+".kind", "the propose stage must come first")
				}
				if len(st.Proposers) == 0 {
					c.errorf(sp+".proposers", "required: who may propose (residents or body keys)")
				}
				for k, who := range st.Proposers {
					if _, ok := bodies[who]; !ok && who != ProposerResidents {
						c.errorf(indexPath(sp+".proposers", k), "%q is neither residents nor a body of this file", who)
					}
				}
				if st.Signatures < 0 || st.Signatures > 10000 {
					c.errorf(sp+".signatures", "%d is out of range (0–10000)", st.Signatures)
				}
			} else if st.Proposers != nil || st.Signatures != 0 {
				c.errorf(sp+".proposers", "only the propose stage has proposers and signatures")
			}
		}
		if len(pr.Stages) > 0 && c.valid(path+".stages") {
			if kinds[StagePropose] != 1 || pr.Stages[0].Kind != StagePropose {
				c.errorf(path+".stages", "a procedure starts with exactly one propose stage")
			}
			if kinds[StageMeeting] == 0 {
				c.errorf(path+".stages", "a procedure needs at least one meeting stage (where the matter is resolved)")
			}
			if kinds[StageImplement] > 1 || kinds[StageEvaluate] > 1 {
				c.errorf(path+".stages", "a procedure has at most one implement and one evaluate stage")
			}
			// The engine reads the last meeting stage as the one that
			// resolves: meetings come before implementation, and the
			// evaluation comes last.
			seenImplement := false
			for j, st := range pr.Stages {
				switch {
				case st.Kind == StageImplement:
					seenImplement = true
				case st.Kind == StageMeeting && seenImplement:
					c.errorf(indexPath(path+".stages", j)+".kind", "meeting stages come before the implement stage (the last meeting resolves the matter)")
				case st.Kind == StageEvaluate && j != len(pr.Stages)-1:
					c.errorf(indexPath(path+".stages", j)+".kind", "the evaluate stage comes last")
				}
			}
		}
	}
	for i, st := range f.Implementation {
		path := indexPath("implementation", i)
		if c.valid(path+".key") && (i >= len(ImplementationSteps) || st.Key != ImplementationSteps[i]) {
			c.errorf(path+".key", "the implementation steps are %s, in this order", strings.Join(ImplementationSteps, ", "))
		}
		if _, ok := bodies[st.Body]; st.Body != "" && !ok {
			c.errorf(path+".body", "%q is not a body of this file", st.Body)
		}
		checkWindowSeeds(c, path, st.Seeds)
	}
	if c.valid("implementation") && len(f.Implementation) != len(ImplementationSteps) && len(f.Implementation) > 0 {
		c.errorf("implementation", "the implementation steps are %s, all four", strings.Join(ImplementationSteps, ", "))
	}
	if c.valid("goals_target") && (f.GoalsTarget < 0 || f.GoalsTarget > 1000) {
		c.errorf("goals_target", "%d is out of range (0–1000)", f.GoalsTarget)
	}
	applyElections(c, &f.Elections)
	docs := map[string]int{}
	for i, d := range f.Documents {
		path := indexPath("documents", i)
		checkWindowKey(c, "documents", i, "key", d.Key, "document kind", docs)
		if c.valid(path + ".adopted_by") {
			if _, ok := bodies[d.AdoptedBy]; !ok {
				c.errorf(path+".adopted_by", "%q is not a body of this file", d.AdoptedBy)
			}
		}
		if d.Deadline != "" && c.valid(path+".deadline") && d.DeadlineDay() == 0 {
			c.errorf(path+".deadline", "%q is not a date (want YYYY-MM-DD)", d.Deadline)
		}
		if c.valid(path+".target") && (d.Target < 0 || d.Target > 200) {
			c.errorf(path+".target", "%d is out of range (0–200)", d.Target)
		}
		checkWindowSeeds(c, path, d.Seeds)
	}
	applyFinance(c, &f.Finance)
	items := map[string]int{}
	for i, it := range f.Disclosure {
		path := indexPath("disclosure", i)
		checkWindowKey(c, "disclosure", i, "key", it.Key, "disclosure item", items)
		if c.valid(path+".every") && it.Every != EveryEvent && !slices.Contains(Cadences, it.Every) {
			c.errorf(path+".every", "%q is not a schedule (want event or one of %s)", it.Every, strings.Join(Cadences, ", "))
		}
		if c.valid(path+".source") && !slices.Contains(DisclosureSources, it.Source) {
			c.errorf(path+".source", "%q is not a source (want one of %s)", it.Source, strings.Join(DisclosureSources, ", "))
		}
		checkWindowSeeds(c, path, it.Seeds)
	}
	p.Governance = &Governance{Bodies: f.Bodies, PartyForms: f.PartyForms, Procedures: f.Procedures,
		Implementation: f.Implementation, GoalsTarget: f.GoalsTarget, Elections: f.Elections, Documents: f.Documents,
		Finance: f.Finance, Disclosure: f.Disclosure}
}

// checkThreshold checks a quorum (majority false: no of) or majority.
func checkThreshold(c *checker, path string, t Threshold, majority bool) {
	if c.valid(path+".share") && t.Share != "" {
		if _, _, ok := t.Fraction(); !ok {
			c.errorf(path+".share", "%q is not a share (want a fraction such as 2/3 or 1/2)", t.Share)
		}
	}
	if !c.valid(path + ".of") {
		return
	}
	switch {
	case !majority && t.Of != "" && t.Of != OfMembers:
		c.errorf(path+".of", "a quorum is a share of the members (omit of)")
	case majority && t.Of != OfPresent && t.Of != OfMembers:
		c.errorf(path+".of", "%q: want present (those attending) or members (all members)", t.Of)
	}
}

func applyElections(c *checker, e *ElectionRules) {
	if c.valid("elections.voter_age") && (e.VoterAge < 16 || e.VoterAge > 25) {
		c.errorf("elections.voter_age", "%d is out of range (16–25)", e.VoterAge)
	}
	if c.valid("elections.non_registered") {
		switch e.NonRegistered {
		case NonRegisteredNever, NonRegisteredAll:
			if e.Years != 0 {
				c.errorf("elections.years", "only non_registered: years takes years")
			}
		case NonRegisteredYears:
			if e.Years < 1 || e.Years > 20 {
				c.errorf("elections.years", "%d is out of range (1–20)", e.Years)
			}
		default:
			c.errorf("elections.non_registered", "%q: want never, years or all", e.NonRegistered)
		}
	}
	if c.valid("elections.proxy_limit") && (e.ProxyLimit < 0 || e.ProxyLimit > 10) {
		c.errorf("elections.proxy_limit", "%d is out of range (0–10)", e.ProxyLimit)
	}
	if c.valid("elections.turnout_target") && (e.TurnoutTarget < 0 || e.TurnoutTarget > 1) {
		c.errorf("elections.turnout_target", "%g is out of range (0–1)", e.TurnoutTarget)
	}
	if c.valid("elections.women_seats") && (e.WomenSeats < 0 || e.WomenSeats > 50) {
		c.errorf("elections.women_seats", "%d is out of range (0–50)", e.WomenSeats)
	}
	if e.Valid != nil {
		checkThreshold(c, "elections.valid", *e.Valid, false)
	}
	if e.Win != nil {
		checkThreshold(c, "elections.win", *e.Win, false)
	}
	seen := map[string]int{}
	for i, r := range e.Reserved {
		path := indexPath("elections.reserved", i)
		checkWindowKey(c, "elections.reserved", i, "key", r.Key, "reserved seat", seen)
		if c.valid(path+".residency") && r.Residency != "registered" && r.Residency != "non_registered" {
			c.errorf(path+".residency", "%q: want registered or non_registered", r.Residency)
		}
		if c.valid(path+".seats") && (r.Seats < 1 || r.Seats > 50) {
			c.errorf(path+".seats", "%d is out of range (1–50)", r.Seats)
		}
	}
	checkWindowSeeds(c, "elections", e.Seeds)
}

func applyFinance(c *checker, f *FinanceRules) {
	accounts := map[string]int{}
	for i, a := range f.Accounts {
		checkWindowKey(c, "finance.accounts", i, "key", a.Key, "account", accounts)
	}
	cats := map[string]int{}
	for i, cat := range f.Categories {
		path := indexPath("finance.categories", i)
		checkWindowKey(c, "finance.categories", i, "key", cat.Key, "category", cats)
		if c.valid(path + ".account") {
			if _, ok := accounts[cat.Account]; !ok {
				c.errorf(path+".account", "%q is not an account of this file", cat.Account)
			}
		}
		if c.valid(path+".kind") && cat.Kind != Income && cat.Kind != Expense {
			c.errorf(path+".kind", "%q: want income or expense", cat.Kind)
		}
	}
	kinds := map[string]int{}
	for i, k := range f.AssetKinds {
		checkWindowKey(c, "finance.asset_kinds", i, "key", k.Key, "asset kind", kinds)
	}
	checkWindowSeeds(c, "finance", f.Seeds)
}

// CadenceDays is the longest gap a cadence allows, in days (0 for none).
func CadenceDays(cadence string) int {
	switch cadence {
	case EveryMonth:
		return 31
	case EveryQuarter:
		return 92
	case EveryHalfYear:
		return 183
	case EveryYear:
		return 366
	}
	return 0
}

// PeriodOf is the schedule period a day (YYYYMMDD) falls in, as a label
// key: 2026-11 (month), 2026-Q4, 2026-H2, 2026 (year).
func PeriodOf(every string, day int) string {
	y, m := day/10000, day/100%100
	switch every {
	case EveryMonth:
		return fmt.Sprintf("%04d-%02d", y, m)
	case EveryQuarter:
		return fmt.Sprintf("%04d-Q%d", y, (m-1)/3+1)
	case EveryHalfYear:
		return fmt.Sprintf("%04d-H%d", y, (m-1)/6+1)
	case EveryYear:
		return strconv.Itoa(y)
	}
	return ""
}
