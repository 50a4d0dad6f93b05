// Package mediation is people's mediation (人民调解, DG-16, SX-9, XS-12):
// disputes between residents (or with outsiders) registered at the village
// or township mediation committee, the mediation sessions, the outcome — a
// settlement agreement (人民调解协议书) printed for the parties to sign, or
// the reason it failed, was referred to a court or department, or was
// withdrawn — and the follow-up visits that check the agreement is kept.
// The counts of disputes opened and settled are facts, so a township's or a
// county's figure (SX-9 publishes "53 disputes settled") is a range sum and
// "small matters stay in the village" (DG-16, XS-12) is the share settled by
// the village committees.
//
// model.go holds the types and the rules (no SQL, no HTTP); store.go the
// SQL; service.go the operations; list.go and figures.go the lists and the
// counts; http.go, http_new.go and templates/ the pages; agreement.go the
// printable agreement. The pages' stylesheet is
// internal/platform/web/static/mediation.css.
package mediation

import (
	"strings"
	"unicode"
	"unicode/utf8"
)

// Dispute states (调解中 / 调解成功 / 调解不成 / 移交 / 撤回).
const (
	StateOpen      = "open"      // being mediated
	StateSettled   = "settled"   // an agreement was reached (调解成功)
	StateFailed    = "failed"    // no agreement (调解不成): the parties are told of arbitration and the courts
	StateReferred  = "referred"  // handed to a court or a department (移交), with the reason
	StateWithdrawn = "withdrawn" // the applicant withdrew (撤回)
)

// States lists the states, the running one first.
var States = []string{StateOpen, StateSettled, StateFailed, StateReferred, StateWithdrawn}

// Actions on a dispute besides registering it.
const (
	ActRegister = "register" // 受理登记 (Register; never through Do)
	ActSession  = "session"  // a mediation session (调解记录)
	ActSettle   = "settle"   // 调解成功: the agreement's terms and how they are carried out
	ActFail     = "fail"     // 调解不成, with the reason
	ActRefer    = "refer"    // 移交 to a court or department, with the reason
	ActWithdraw = "withdraw" // 撤回, with the reason
	ActVisit    = "visit"    // 回访: is the agreement kept?
)

// Actions lists the actions Do takes, in the order the dispute page offers them.
var Actions = []string{ActSession, ActSettle, ActFail, ActRefer, ActWithdraw, ActVisit}

// transitions lists, per action, the states it may start from. Sessions
// happen only while the dispute is open; a follow-up visit only after a
// settlement (there is nothing to follow up otherwise).
var transitions = map[string][]string{
	ActSession:  {StateOpen},
	ActSettle:   {StateOpen},
	ActFail:     {StateOpen},
	ActRefer:    {StateOpen},
	ActWithdraw: {StateOpen},
	ActVisit:    {StateSettled},
}

// targets is the state each action leads to (absent: the state stays).
var targets = map[string]string{
	ActSettle:   StateSettled,
	ActFail:     StateFailed,
	ActRefer:    StateReferred,
	ActWithdraw: StateWithdrawn,
}

// Allowed reports whether action may be taken in state.
func Allowed(action, state string) bool {
	for _, s := range transitions[action] {
		if s == state {
			return true
		}
	}
	return false
}

// Target returns the state action leads to, or "" when the state stays.
func Target(action string) string { return targets[action] }

// Open reports whether a dispute in state is still being mediated.
func Open(state string) bool { return state == StateOpen }

// Sides of a party.
const (
	SideApplicant  = "applicant"  // 申请人
	SideRespondent = "respondent" // 被申请人
	SideOther      = "other"      // another party (第三人)
)

// Sides lists the sides in the order agreements list the parties.
var Sides = []string{SideApplicant, SideRespondent, SideOther}

// Genders of a party (as the registry writes them).
const (
	GenderMale   = "M"
	GenderFemale = "F"
)

// Bounds of the input.
const (
	MinParties      = 2
	MaxParties      = 20
	MaxMediators    = 10
	MaxNameRunes    = 30   // a mediator's or an outsider's name
	MaxSummaryRunes = 4000 // the facts of the dispute
	MaxTextRunes    = 4000 // a session's record, the agreement's terms
	MaxShortRunes   = 1000 // an outcome, a reason
	MaxPlaceRunes   = 200  // a session's place, a party's address, the body referred to
)

// Dispute is one dispute brought to a mediation committee (矛盾纠纷).
type Dispute struct {
	ID       int64
	Number   string // see disputeNumber
	County   int64
	Division int64 // the village or township whose committee mediates (its figures count there)
	// Type is a dispute type of the unit's policy pack (Service.TypeLabel
	// names it).
	Type       string
	Summary    string // the facts and what is in dispute (纠纷事实、争议事项)
	State      string
	Mediators  []string
	IncidentID int64 // the grid incident it came from, if any
	OpenedDay  int   // YYYYMMDD
	ClosedDay  int   // YYYYMMDD; 0 while open
	// Outcome is the result of a settlement, or the reason a dispute failed,
	// was referred or withdrawn.
	Outcome string
	// Agreement and Performance are a settlement's terms (协议内容) and how
	// and by when they are carried out (履行方式、时限).
	Agreement   string
	Performance string
	// ReferredTo is the court or department a referred dispute went to.
	ReferredTo string
	CreatedAt  int64 // unix ms
	CreatedBy  string
	UpdatedAt  int64

	// Parties, sessions and visits are filled by Get (List fills parties).
	Parties  []Party
	Sessions []Session
	Visits   []Visit
}

// Open reports whether the dispute is still being mediated.
func (d Dispute) Open() bool { return Open(d.State) }

// Side returns the parties of one side, in their order.
func (d Dispute) Side(side string) []Party {
	var out []Party
	for _, p := range d.Parties {
		if p.Side == side {
			out = append(out, p)
		}
	}
	return out
}

// Names is the parties' names per side, "张三 与 李四" style, for lists.
func (d Dispute) Names() (applicants, respondents string) {
	var a, r []string
	for _, p := range d.Parties {
		switch p.Side {
		case SideApplicant:
			a = append(a, p.Name)
		case SideRespondent:
			r = append(r, p.Name)
		}
	}
	return strings.Join(a, "、"), strings.Join(r, "、")
}

// MediatorList is the mediators joined the way documents write them.
func (d Dispute) MediatorList() string { return strings.Join(d.Mediators, "、") }

// Party is one party of a dispute: a resident of the registry (linked by
// ResidentID, name and contact taken from there) or an outsider typed in.
// Phones and ID numbers are kept encrypted and shown masked.
type Party struct {
	ID          int64
	DisputeID   int64
	Side        string
	ResidentID  int64 // 0 for an outsider
	Name        string
	Gender      string // M, F or ""
	IDMasked    string
	PhoneMasked string
	Address     string
}

// GenderKey is the catalogue key of the party's gender ("" when unknown).
func (p Party) GenderKey() string {
	switch p.Gender {
	case GenderMale:
		return "mediation.gender.m"
	case GenderFemale:
		return "mediation.gender.f"
	}
	return ""
}

// Session is one mediation session (调解记录).
type Session struct {
	ID        int64
	DisputeID int64
	Day       int // YYYYMMDD
	Place     string
	Mediators []string
	Note      string // what was said and done
	At        int64  // when it was recorded, unix ms
	Actor     string
}

// MediatorList is the session's mediators joined the way documents write them.
func (s Session) MediatorList() string { return strings.Join(s.Mediators, "、") }

// Visit is one follow-up visit after a settlement (回访).
type Visit struct {
	ID        int64
	DisputeID int64
	Day       int
	Note      string
	Holding   bool // the agreement is being kept
	At        int64
	Actor     string
}

// TransitionError is an action not allowed in the dispute's state.
type TransitionError struct {
	Action, State string
}

func (e *TransitionError) Error() string {
	return "mediation: " + e.Action + " is not allowed in state " + e.State
}

// SplitNames splits a list of names as people type it — 张三、李四, 张三,李四,
// 张三 李四 — into trimmed, non-empty names (duplicates dropped).
func SplitNames(items ...string) []string {
	var out []string
	seen := map[string]bool{}
	for _, s := range items {
		for _, n := range strings.FieldsFunc(s, func(r rune) bool {
			return r == '、' || r == ',' || r == '，' || r == ';' || r == '；' || r == '/' || unicode.IsSpace(r)
		}) {
			if n = strings.TrimSpace(n); n != "" && !seen[n] {
				seen[n] = true
				out = append(out, n)
			}
		}
	}
	return out
}

// joinNames is how names are stored: joined by 、 (names never contain it).
func joinNames(names []string) string { return strings.Join(names, "、") }

// splitStored reads names stored by joinNames.
func splitStored(s string) []string {
	if s == "" {
		return nil
	}
	return strings.Split(s, "、")
}

// CommitteeName is the name of a unit's people's mediation committee: the
// unit's name without the "(村)民委员会" of a village committee, plus
// 人民调解委员会 — 门楼社区居委会 → 门楼社区人民调解委员会, 港下村委会 →
// 港下村人民调解委员会, 东亭街道 → 东亭街道人民调解委员会.
func CommitteeName(unitName string) string {
	n := strings.TrimSpace(unitName)
	for _, suf := range []struct{ cut, keep string }{
		{"村民委员会", "村"}, {"居民委员会", ""}, {"村委会", "村"}, {"居委会", ""},
	} {
		if base, ok := strings.CutSuffix(n, suf.cut); ok && base != "" {
			n = base
			if suf.keep != "" && !strings.HasSuffix(n, suf.keep) {
				n += suf.keep
			}
			break
		}
	}
	return n + "人民调解委员会"
}

// runes counts the characters of s.
func runes(s string) int { return utf8.RuneCountInString(s) }
