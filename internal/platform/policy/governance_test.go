package policy_test

import (
	"os"
	"slices"
	"strconv"
	"strings"
	"testing"
	"testing/fstest"

	"github.com/shequ-platform/shequ/internal/platform/policy"
)

// govBase reads testdata/gov_base.yaml, a minimal valid governance.yaml.
func govBase(t *testing.T) string {
	t.Helper()
	b, err := os.ReadFile("testdata/gov_base.yaml")
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// loadGov loads pack "p" made of windowPackYAML and the given governance.yaml.
func loadGov(t *testing.T, gov string) (*policy.Set, []*policy.Error) {
	t.Helper()
	s, err := policy.Load(fstest.MapFS{
		"p/pack.yaml":       {Data: []byte(windowPackYAML)},
		"p/governance.yaml": {Data: []byte(gov)},
	})
	if s != nil && err != nil {
		t.Errorf("Load returned a set along with errors")
	}
	return s, loadErrors(t, err)
}

// edit replaces each old text of pairs (old, new, old, new, …) in s; each
// old text must occur exactly once, so a case cannot silently test nothing.
func edit(t *testing.T, s string, pairs ...string) string {
	t.Helper()
	for i := 0; i+1 < len(pairs); i += 2 {
		if n := strings.Count(s, pairs[i]); n != 1 {
			t.Fatalf("edit: %q occurs %d times in the base file", pairs[i], n)
		}
		s = strings.Replace(s, pairs[i], pairs[i+1], 1)
	}
	return s
}

// cut removes the text from the line starting with from up to (not
// including) the line starting with to.
func cut(t *testing.T, s, from, to string) string {
	t.Helper()
	i := strings.Index(s, "\n"+from)
	j := strings.Index(s, "\n"+to)
	if i < 0 || j < i {
		t.Fatalf("cut: %q … %q not found", from, to)
	}
	return s[:i] + s[j:]
}

func TestGovernanceBase(t *testing.T) {
	s, errs := loadGov(t, govBase(t))
	if len(errs) != 0 {
		t.Fatalf("base file: %v", errs)
	}
	g := s.Get("p").Governance
	if g == nil {
		t.Fatal("Governance is nil")
	}
	if b, ok := g.Body("council"); !ok || b.ChairFrom == nil || *b.ChairFrom != (policy.PostRef{Body: "party", Post: "secretary"}) || b.ChairPost() != "chair" {
		t.Errorf("council = %+v, %v", b, ok)
	}
	if pr, ok := g.Procedure(""); !ok || pr.Key != "wuyi" || len(pr.Stages) != 5 {
		t.Errorf("default procedure = %+v, %v", pr, ok)
	}
	if d, ok := g.Document("charter"); !ok || d.DeadlineDay() != 20170430 {
		t.Errorf("charter = %+v, %v", d, ok)
	}
	if c, ok := g.Finance.Category("operating_expense"); !ok || c.Account != "economic" || c.Kind != policy.Expense {
		t.Errorf("category = %+v, %v", c, ok)
	}
	if _, ok := g.Body("nope"); ok {
		t.Error("Body(unknown) found")
	}
	var nilGov *policy.Governance
	if _, ok := nilGov.Body("party"); ok {
		t.Error("nil Governance has a body")
	}
	if _, ok := nilGov.Procedure(""); ok {
		t.Error("nil Governance has a procedure")
	}
	if _, ok := nilGov.Document("charter"); ok {
		t.Error("nil Governance has a document")
	}
}

// TestGovernanceAbsent: a pack without governance.yaml has no Governance.
func TestGovernanceAbsent(t *testing.T) {
	s, err := policy.Load(fstest.MapFS{"p/pack.yaml": {Data: []byte(windowPackYAML)}})
	if err != nil {
		t.Fatal(err)
	}
	if s.Get("p").Governance != nil {
		t.Error("Governance without governance.yaml")
	}
}

// TestGovernanceErrors breaks one rule of applyGovernance (or of the
// decoder) at a time and checks that the error names the file, the field
// and the reason.
func TestGovernanceErrors(t *testing.T) {
	type want struct{ field, msg string }
	tests := []struct {
		name   string
		mutate func(t *testing.T, s string) string
		want   []want
	}{
		// Bodies.
		{"body key", func(t *testing.T, s string) string {
			return strings.ReplaceAll(s, "council", "Council") // the key and its references
		}, []want{{"bodies[1].key", `"Council" must be lower-case letters`}}},
		{"body twice", func(t *testing.T, s string) string {
			return edit(t, s, "  - key: council\n", "  - key: party\n")
		}, []want{
			{"bodies[1].key", `body "party" is defined twice (also bodies[0])`},
			{"implementation[1].body", `"council" is not a body of this file`},
			{"procedures[0].stages[1].body", `"council" is not a body of this file`},
		}},
		{"post twice", func(t *testing.T, s string) string {
			return edit(t, s, "{key: member, label: {zh-CN: 委员}}", "{key: secretary, label: {zh-CN: 委员}}")
		}, []want{{"bodies[0].posts[1].key", `post "secretary" is defined twice (also bodies[0].posts[0])`}}},
		{"chair not a post", func(t *testing.T, s string) string {
			return edit(t, s, "    min_members: 3\n", "    chair: boss\n    min_members: 3\n")
		}, []want{{"bodies[0].chair", `"boss" is not a post of this body`}}},
		{"min above max", func(t *testing.T, s string) string {
			return edit(t, s, "    min_members: 3\n", "    min_members: 6\n")
		}, []want{{"bodies[0].min_members", "min_members 6 is greater than max_members 5"}}},
		{"negative min alone", func(t *testing.T, s string) string {
			return edit(t, s, "    cadence: quarter\n", "    cadence: quarter\n    min_members: -1\n")
		}, []want{{"bodies[1].min_members", "member counts cannot be negative"}}},
		{"negative max alone", func(t *testing.T, s string) string {
			return edit(t, s, "    cadence: quarter\n", "    cadence: quarter\n    max_members: -2\n")
		}, []want{{"bodies[1].max_members", "member counts cannot be negative"}}},
		{"term", func(t *testing.T, s string) string {
			return edit(t, s, "    term_years: 5\n", "    term_years: 12\n")
		}, []want{{"bodies[0].term_years", "12 is out of range (0–10)"}}},
		{"cadence", func(t *testing.T, s string) string {
			return edit(t, s, "cadence: quarter", "cadence: weekly")
		}, []want{{"bodies[1].cadence", `"weekly" is not a cadence (want one of month, quarter, half_year, year)`}}},
		{"bad share", func(t *testing.T, s string) string {
			return edit(t, s, "quorum: {share: 2/3}", "quorum: {share: 3/2}")
		}, []want{{"bodies[2].quorum.share", `"3/2" is not a share (want a fraction such as 2/3 or 1/2)`}}},
		{"share not a fraction", func(t *testing.T, s string) string {
			return edit(t, s, "majority: {share: 1/2, over: true, of: present}\n    proxy_limit",
				"majority: {share: half, over: true, of: present}\n    proxy_limit")
		}, []want{{"bodies[2].majority.share", `"half" is not a share`}}},
		{"majority of all", func(t *testing.T, s string) string {
			return edit(t, s, "majority: {share: 1/2, over: true, of: present}\n    proxy_limit",
				"majority: {share: 1/2, over: true, of: all}\n    proxy_limit")
		}, []want{{"bodies[2].majority.of", `"all": want present (those attending) or members (all members)`}}},
		{"quorum of present", func(t *testing.T, s string) string {
			return edit(t, s, "quorum: {share: 2/3}", "quorum: {share: 2/3, of: present}")
		}, []want{{"bodies[2].quorum.of", "a quorum is a share of the members (omit of)"}}},
		{"share missing", func(t *testing.T, s string) string {
			return edit(t, s, "quorum: {share: 2/3}", "quorum: {over: true}")
		}, []want{{"bodies[2].quorum.share", "missing required field"}}},
		{"proxy limit", func(t *testing.T, s string) string {
			return edit(t, s, "    proxy_limit: 0\n", "    proxy_limit: 11\n")
		}, []want{{"bodies[2].proxy_limit", "11 is out of range (0–10)"}}},
		{"women share as a percentage", func(t *testing.T, s string) string {
			return edit(t, s, "women_min: 0.3333", "women_min: 33")
		}, []want{{"bodies[2].women_min", "33 is out of range (0–1, a share of members)"}}},
		{"non-local share", func(t *testing.T, s string) string {
			return edit(t, s, "non_local: {min: 1, when: 0.5}", "non_local: {min: 1, when: 50}")
		}, []want{{"bodies[2].non_local", "min must be at least 1 and when a share (0–1)"}}},
		{"non-local min", func(t *testing.T, s string) string {
			return edit(t, s, "non_local: {min: 1, when: 0.5}", "non_local: {min: 0, when: 0.5}")
		}, []want{{"bodies[2].non_local", "min must be at least 1"}}},
		{"chair_from missing body", func(t *testing.T, s string) string {
			return edit(t, s, "chair_from: {body: party,", "chair_from: {body: branch,")
		}, []want{{"bodies[1].chair_from.body", `"branch" is not a body of this file`}}},
		{"chair_from missing post", func(t *testing.T, s string) string {
			return edit(t, s, "post: secretary}", "post: director}")
		}, []want{{"bodies[1].chair_from.post", `"director" is not a post of body "party"`}}},
		{"chair_from itself", func(t *testing.T, s string) string {
			return edit(t, s, "chair_from: {body: party, post: secretary}", "chair_from: {body: council, post: chair}")
		}, []want{{"bodies[1].chair_from.body", "a body's chair cannot come from the body itself"}}},
		{"unknown seed", func(t *testing.T, s string) string {
			return edit(t, s, "seeds: [SX-1]", "seeds: [SX-99]")
		}, []want{{"bodies[2].seeds[0]", `unknown seed rule id "SX-99"`}}},

		// Party forms.
		{"party forms out of order", func(t *testing.T, s string) string {
			return edit(t, s, "{min_members: 50,", "{min_members: 150,")
		}, []want{{"party_forms[1].min_members", "rows must be ordered by min_members, largest first, without repeats"}}},
		{"party forms repeated", func(t *testing.T, s string) string {
			return edit(t, s, "{min_members: 50,", "{min_members: 100,")
		}, []want{{"party_forms[1].min_members", "largest first, without repeats"}}},
		{"party form without zh-CN", func(t *testing.T, s string) string {
			return edit(t, s, "form: {zh-CN: 党总支}", "form: {en: General branch}")
		}, []want{{"party_forms[1].form.zh-CN", "missing zh-CN text"}}},

		// Procedures.
		{"no procedure", func(t *testing.T, s string) string {
			return edit(t, cut(t, s, "  - key: wuyi", "implementation:"), "procedures:\n", "procedures: []\n")
		}, []want{{"procedures", "at least one procedure is required"}}},
		{"procedure key twice", func(t *testing.T, s string) string {
			proc := s[strings.Index(s, "  - key: wuyi"):strings.Index(s, "implementation:")]
			return edit(t, s, "implementation:\n", proc+"implementation:\n")
		}, []want{{"procedures[1].key", `procedure "wuyi" is defined twice (also procedures[0])`}}},
		{"unknown body in a stage", func(t *testing.T, s string) string {
			return edit(t, s, "kind: meeting, body: council}", "kind: meeting, body: management}")
		}, []want{{"procedures[0].stages[1].body", `"management" is not a body of this file (a meeting stage names the body that votes)`}}},
		{"meeting without a body", func(t *testing.T, s string) string {
			return edit(t, s, "kind: meeting, body: council}", "kind: meeting}")
		}, []want{{"procedures[0].stages[1].body", `"" is not a body of this file`}}},
		{"propose not first", func(t *testing.T, s string) string {
			return edit(t, s,
				"      - {key: propose, label: {zh-CN: 提议}, kind: propose, proposers: [residents, party], signatures: 10}\n      - {key: discuss, label: {zh-CN: 商议}, kind: meeting, body: council}\n",
				"      - {key: discuss, label: {zh-CN: 商议}, kind: meeting, body: council}\n      - {key: propose, label: {zh-CN: 提议}, kind: propose, proposers: [residents, party], signatures: 10}\n")
		}, []want{
			{"procedures[0].stages", "a procedure starts with exactly one propose stage"},
			{"procedures[0].stages[1].kind", "the propose stage must come first"},
		}},
		{"no propose stage", func(t *testing.T, s string) string {
			return edit(t, s, "      - {key: propose, label: {zh-CN: 提议}, kind: propose, proposers: [residents, party], signatures: 10}\n", "")
		}, []want{{"procedures[0].stages", "a procedure starts with exactly one propose stage"}}},
		{"no meeting stage", func(t *testing.T, s string) string {
			return edit(t, s,
				"      - {key: discuss, label: {zh-CN: 商议}, kind: meeting, body: council}\n", "",
				"      - {key: resolve, label: {zh-CN: 决议}, kind: meeting, body: representatives}\n", "")
		}, []want{{"procedures[0].stages", "a procedure needs at least one meeting stage (where the matter is resolved)"}}},
		{"two implement stages", func(t *testing.T, s string) string {
			return edit(t, s, "kind: evaluate}", "kind: implement}")
		}, []want{{"procedures[0].stages", "a procedure has at most one implement and one evaluate stage"}}},
		{"stage kind", func(t *testing.T, s string) string {
			return edit(t, s, "kind: evaluate}", "kind: vote}")
		}, []want{{"procedures[0].stages[4].kind", `"vote" is not a stage kind (want one of propose, meeting, implement, evaluate)`}}},
		{"stage key twice", func(t *testing.T, s string) string {
			return edit(t, s, "{key: evaluate, label", "{key: implement, label")
		}, []want{{"procedures[0].stages[4].key", `stage "implement" is defined twice (also procedures[0].stages[3])`}}},
		{"body on an implement stage", func(t *testing.T, s string) string {
			return edit(t, s, "kind: implement}", "kind: implement, body: council}")
		}, []want{{"procedures[0].stages[3].body", "only meeting stages name a body (kind is implement)"}}},
		{"proposers on a meeting stage", func(t *testing.T, s string) string {
			return edit(t, s, "kind: meeting, body: council}", "kind: meeting, body: council, proposers: [residents]}")
		}, []want{{"procedures[0].stages[1].proposers", "only the propose stage has proposers and signatures"}}},
		{"unknown proposer", func(t *testing.T, s string) string {
			return edit(t, s, "proposers: [residents, party]", "proposers: [residents, villagers]")
		}, []want{{"procedures[0].stages[0].proposers[1]", `"villagers" is neither residents nor a body of this file`}}},
		{"no proposers", func(t *testing.T, s string) string {
			return edit(t, s, "proposers: [residents, party], ", "")
		}, []want{{"procedures[0].stages[0].proposers", "required: who may propose (residents or body keys)"}}},
		{"negative signatures", func(t *testing.T, s string) string {
			return edit(t, s, "signatures: 10", "signatures: -1")
		}, []want{{"procedures[0].stages[0].signatures", "-1 is out of range (0–10000)"}}},

		// Implementation steps.
		{"implementation order", func(t *testing.T, s string) string {
			return edit(t, s,
				"  - {key: urge, label: {zh-CN: 督促}, body: representatives}\n  - {key: supervise, label: {zh-CN: 监督}}\n",
				"  - {key: supervise, label: {zh-CN: 监督}}\n  - {key: urge, label: {zh-CN: 督促}, body: representatives}\n")
		}, []want{
			{"implementation[2].key", "the implementation steps are assign, implement, urge, supervise, in this order"},
			{"implementation[3].key", "in this order"},
		}},
		{"implementation incomplete", func(t *testing.T, s string) string {
			return edit(t, s, "  - {key: supervise, label: {zh-CN: 监督}}\n", "")
		}, []want{{"implementation", "the implementation steps are assign, implement, urge, supervise, all four"}}},
		{"implementation unknown body", func(t *testing.T, s string) string {
			return edit(t, s, "{key: assign, label: {zh-CN: 交办}, body: party}", "{key: assign, label: {zh-CN: 交办}, body: township}")
		}, []want{{"implementation[0].body", `"township" is not a body of this file`}}},
		{"goals target", func(t *testing.T, s string) string {
			return edit(t, s, "goals_target: 32", "goals_target: -1")
		}, []want{{"goals_target", "-1 is out of range (0–1000)"}}},

		// Elections.
		{"voter age", func(t *testing.T, s string) string {
			return edit(t, s, "voter_age: 18", "voter_age: 14")
		}, []want{{"elections.voter_age", "14 is out of range (16–25)"}}},
		{"years 0 under years", func(t *testing.T, s string) string {
			return edit(t, s, "  years: 1\n", "  years: 0\n")
		}, []want{{"elections.years", "0 is out of range (1–20)"}}},
		{"years without years", func(t *testing.T, s string) string {
			return edit(t, s, "non_registered: years", "non_registered: never")
		}, []want{{"elections.years", "only non_registered: years takes years"}}},
		{"non_registered unknown", func(t *testing.T, s string) string {
			return edit(t, s, "non_registered: years\n  years: 1\n", "non_registered: sometimes\n")
		}, []want{{"elections.non_registered", `"sometimes": want never, years or all`}}},
		{"election proxy limit", func(t *testing.T, s string) string {
			return edit(t, s, "  proxy_limit: 3\n", "  proxy_limit: 20\n")
		}, []want{{"elections.proxy_limit", "20 is out of range (0–10)"}}},
		{"turnout as a percentage", func(t *testing.T, s string) string {
			return edit(t, s, "turnout_target: 0.965", "turnout_target: 96.5")
		}, []want{{"elections.turnout_target", "96.5 is out of range (0–1)"}}},
		{"women seats", func(t *testing.T, s string) string {
			return edit(t, s, "women_seats: 1", "women_seats: -1")
		}, []want{{"elections.women_seats", "-1 is out of range (0–50)"}}},
		{"reserved residency", func(t *testing.T, s string) string {
			return edit(t, s, "residency: non_registered, seats: 1", "residency: migrant, seats: 0")
		}, []want{
			{"elections.reserved[0].residency", `"migrant": want registered or non_registered`},
			{"elections.reserved[0].seats", "0 is out of range (1–50)"},
		}},
		{"voter age missing", func(t *testing.T, s string) string {
			return edit(t, s, "  voter_age: 18\n", "")
		}, []want{{"elections.voter_age", "missing required field"}}},

		// Documents.
		{"bad deadline", func(t *testing.T, s string) string {
			return edit(t, s, `deadline: "2017-04-30"`, `deadline: "2017-04-31"`)
		}, []want{{"documents[0].deadline", `"2017-04-31" is not a date (want YYYY-MM-DD)`}}},
		{"unquoted deadline", func(t *testing.T, s string) string {
			return edit(t, s, `deadline: "2017-04-30"`, `deadline: 2017-04-30`)
		}, []want{{"documents[0].deadline", "want a string, got a timestamp (quote it)"}}},
		{"document adopted by an unknown body", func(t *testing.T, s string) string {
			return edit(t, s, "adopted_by: representatives", "adopted_by: assembly")
		}, []want{{"documents[0].adopted_by", `"assembly" is not a body of this file`}}},
		{"document target", func(t *testing.T, s string) string {
			return edit(t, s, "target: 1}", "target: 500}")
		}, []want{{"documents[0].target", "500 is out of range (0–200)"}}},

		// Finance.
		{"unknown account", func(t *testing.T, s string) string {
			return edit(t, s, "account: economic", "account: economy")
		}, []want{{"finance.categories[1].account", `"economy" is not an account of this file`}}},
		{"category kind", func(t *testing.T, s string) string {
			return edit(t, s, "kind: expense}", "kind: spending}")
		}, []want{{"finance.categories[1].kind", `"spending": want income or expense`}}},
		{"account twice", func(t *testing.T, s string) string {
			return edit(t, s, "{key: economic, label: {zh-CN: 经济账}}", "{key: administrative, label: {zh-CN: 经济账}}")
		}, []want{
			{"finance.accounts[1].key", `account "administrative" is defined twice (also finance.accounts[0])`},
			{"finance.categories[1].account", `"economic" is not an account of this file`},
		}},
		{"asset kinds missing", func(t *testing.T, s string) string {
			return edit(t, s, "  asset_kinds:\n    - {key: asset, label: {zh-CN: 资产}}\n", "")
		}, []want{{"finance.asset_kinds", "missing required field"}}},

		// Disclosure.
		{"disclosure every", func(t *testing.T, s string) string {
			return edit(t, s, "every: month", "every: weekly")
		}, []want{{"disclosure[0].every", `"weekly" is not a schedule (want event or one of month, quarter, half_year, year)`}}},
		{"disclosure source", func(t *testing.T, s string) string {
			return edit(t, s, "source: resolutions", "source: minutes")
		}, []want{{"disclosure[1].source", `"minutes" is not a source (want one of notices, resolutions, matters, progress, finance)`}}},
		{"disclosure key twice", func(t *testing.T, s string) string {
			return edit(t, s, "{key: resolutions, label", "{key: finance, label")
		}, []want{{"disclosure[1].key", `disclosure item "finance" is defined twice (also disclosure[0])`}}},

		// The decoder.
		{"unknown field", func(t *testing.T, s string) string {
			return edit(t, s, "goals_target: 32", "goals_target: 32\nhot_issues: 32")
		}, []want{{"hot_issues", "unknown field"}}},
		{"missing section", func(t *testing.T, s string) string {
			return s[:strings.Index(s, "\ndisclosure:\n")+1]
		}, []want{{"disclosure", "missing required field"}}},
	}
	base := govBase(t)
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s, errs := loadGov(t, tt.mutate(t, base))
			if s != nil {
				t.Errorf("Load returned a set")
			}
			var got []string
			for _, e := range errs {
				got = append(got, e.Error())
			}
			if len(errs) != len(tt.want) {
				t.Fatalf("%d errors, want %d:\n  %s", len(errs), len(tt.want), strings.Join(got, "\n  "))
			}
			for _, w := range tt.want {
				i := slices.IndexFunc(errs, func(e *policy.Error) bool {
					return e.Field == w.field && strings.Contains(e.Msg, w.msg)
				})
				if i < 0 {
					t.Errorf("no error %s: …%s…; got:\n  %s", w.field, w.msg, strings.Join(got, "\n  "))
					continue
				}
				e := errs[i]
				if e.File != "p/governance.yaml" || e.Line == 0 {
					t.Errorf("error %q: file %q line %d", e.Error(), e.File, e.Line)
				}
				if !strings.HasPrefix(e.Error(), "p/governance.yaml:") || !strings.Contains(e.Error(), " "+w.field+": ") {
					t.Errorf("error string %q does not name the file and the field", e.Error())
				}
			}
		})
	}
}

// TestGovernanceErrorPosition checks that an error points at the line of
// the offending field.
func TestGovernanceErrorPosition(t *testing.T) {
	base := govBase(t)
	_, errs := loadGov(t, edit(t, base, "body: representatives}\n      - {key: implement", "body: assembly}\n      - {key: implement"))
	if len(errs) != 1 {
		t.Fatalf("errors = %v", errs)
	}
	line := 1 + strings.Count(base[:strings.Index(base, "{key: resolve,")], "\n")
	if e := errs[0]; e.Field != "procedures[0].stages[2].body" || e.Line != line {
		t.Errorf("error = %+v, want line %d", *e, line)
	}
}

// TestThreshold checks the integer arithmetic of quorum and majority. Which
// base a majority counts (present or members) is decided in
// internal/governance/tally.go; here the base is given.
func TestThreshold(t *testing.T) {
	twoThirds := policy.Threshold{Share: "2/3"}
	overHalf := policy.Threshold{Share: "1/2", Over: true}
	half := policy.Threshold{Share: "1/2"}
	all := policy.Threshold{Share: "1"}
	tests := []struct {
		name    string
		th      policy.Threshold
		n, base int
		met     bool
	}{
		{"2 of 3 meets ≥ 2/3", twoThirds, 2, 3, true},
		{"1 of 3", twoThirds, 1, 3, false},
		{"18 of 27 meets ≥ 2/3", twoThirds, 18, 27, true},
		{"17 of 27", twoThirds, 17, 27, false},
		{"27 of 27", twoThirds, 27, 27, true},
		{"5 of 10 is not over half (a tie)", overHalf, 5, 10, false},
		{"6 of 10", overHalf, 6, 10, true},
		{"5 of 9", overHalf, 5, 9, true},
		{"4 of 9", overHalf, 4, 9, false},
		{"5 of 10 is half", half, 5, 10, true},
		{"4 of 10", half, 4, 10, false},
		{"all: 10 of 10", all, 10, 10, true},
		{"all: 9 of 10", all, 9, 10, false},
		{"base 0 never meets", twoThirds, 0, 0, false},
		{"base 0, n > 0", overHalf, 1, 0, false},
		{"bad share never meets", policy.Threshold{Share: "3/2"}, 10, 10, false},
		{"empty share never meets", policy.Threshold{}, 10, 10, false},
	}
	for _, tt := range tests {
		if got := tt.th.Met(tt.n, tt.base); got != tt.met {
			t.Errorf("%s: %v.Met(%d, %d) = %v, want %v", tt.name, tt.th, tt.n, tt.base, got, tt.met)
		}
	}

	needs := []struct {
		th         policy.Threshold
		base, need int
	}{
		{twoThirds, 3, 2},
		{twoThirds, 27, 18},
		{twoThirds, 28, 19}, // 18.67 → 19
		{twoThirds, 1, 1},
		{overHalf, 10, 6},
		{overHalf, 9, 5},
		{overHalf, 27, 14},
		{overHalf, 18, 10}, // a quorate meeting of 27 with 18 present
		{overHalf, 1, 1},
		{half, 10, 5},
		{all, 7, 7},
		{twoThirds, 0, 1},                    // nothing meets: base+1
		{policy.Threshold{Share: "x"}, 5, 6}, // nothing meets: base+1
		{policy.Threshold{Share: "1", Over: true}, 5, 6}, // "more than all" can never be met
	}
	for _, tt := range needs {
		if got := tt.th.Need(tt.base); got != tt.need {
			t.Errorf("%v.Need(%d) = %d, want %d", tt.th, tt.base, got, tt.need)
		}
		// Need is the smallest n that meets: n-1 does not.
		if n := tt.th.Need(tt.base); n <= tt.base && (!tt.th.Met(n, tt.base) || tt.th.Met(n-1, tt.base)) {
			t.Errorf("%v.Need(%d) = %d is not the smallest that meets", tt.th, tt.base, n)
		}
	}

	fractions := []struct {
		share    string
		num, den int
		ok       bool
	}{
		{"2/3", 2, 3, true}, {" 1 / 2 ", 1, 2, true}, {"1", 1, 1, true}, {"0", 0, 1, true},
		{"3/2", 0, 0, false}, {"1/0", 0, 0, false}, {"-1/2", 0, 0, false}, {"a/b", 0, 0, false},
		{"", 0, 0, false}, {"1/2/3", 0, 0, false}, {"0.5", 0, 0, false},
	}
	for _, f := range fractions {
		num, den, ok := policy.Threshold{Share: f.share}.Fraction()
		if num != f.num || den != f.den || ok != f.ok {
			t.Errorf("Fraction(%q) = %d, %d, %v; want %d, %d, %v", f.share, num, den, ok, f.num, f.den, f.ok)
		}
	}

	for th, want := range map[policy.Threshold]string{
		twoThirds: "≥ 2/3",
		{Share: "1/2", Over: true, Of: policy.OfMembers}: "> 1/2 of members",
		{Share: "1/2", Over: true, Of: policy.OfPresent}: "> 1/2 of present",
	} {
		if got := th.String(); got != want {
			t.Errorf("%#v.String() = %q, want %q", th, got, want)
		}
	}
}

func TestCadenceAndPeriod(t *testing.T) {
	for cadence, days := range map[string]int{"month": 31, "quarter": 92, "half_year": 183, "year": 366, "": 0, "week": 0} {
		if got := policy.CadenceDays(cadence); got != days {
			t.Errorf("CadenceDays(%q) = %d, want %d", cadence, got, days)
		}
	}
	for _, tt := range []struct {
		every string
		day   int
		want  string
	}{
		{"month", 20261105, "2026-11"},
		{"quarter", 20261105, "2026-Q4"},
		{"quarter", 20260331, "2026-Q1"},
		{"quarter", 20260401, "2026-Q2"},
		{"half_year", 20260630, "2026-H1"},
		{"half_year", 20260701, "2026-H2"},
		{"year", 20261105, "2026"},
		{"event", 20261105, ""},
	} {
		if got := policy.PeriodOf(tt.every, tt.day); got != tt.want {
			t.Errorf("PeriodOf(%q, %d) = %q, want %q", tt.every, tt.day, got, tt.want)
		}
	}
}

// stageKeys lists a procedure's stage keys and, for meeting stages, kind:body.
func stageKeys(pr policy.Procedure) (keys, kinds []string) {
	for _, st := range pr.Stages {
		keys = append(keys, st.Key)
		k := st.Kind
		if st.Body != "" {
			k += ":" + st.Body
		}
		kinds = append(kinds, k)
	}
	return keys, kinds
}

// govSeeds collects every seed id cited in a governance section.
func govSeeds(g *policy.Governance) []string {
	var out []string
	add := func(s []string) { out = append(out, s...) }
	for _, b := range g.Bodies {
		add(b.Seeds)
		for _, p := range b.Posts {
			add(p.Seeds)
		}
	}
	for _, f := range g.PartyForms {
		add(f.Seeds)
	}
	for _, pr := range g.Procedures {
		add(pr.Seeds)
		for _, st := range pr.Stages {
			add(st.Seeds)
		}
	}
	for _, st := range g.Implementation {
		add(st.Seeds)
	}
	add(g.Elections.Seeds)
	for _, d := range g.Documents {
		add(d.Seeds)
	}
	add(g.Finance.Seeds)
	for _, k := range append(slices.Clone(g.Finance.Accounts), g.Finance.AssetKinds...) {
		add(k.Seeds)
	}
	for _, it := range g.Disclosure {
		add(it.Seeds)
	}
	return out
}

// TestEmbeddedGovernance checks the governance sections shipped with the
// five packs: what every pack shares (national law and the platform's
// defaults) and each pack's variant.
func TestEmbeddedGovernance(t *testing.T) {
	s := mustLoadEmbedded(t)
	wantProcedure := map[string]string{
		"shaxian-2012": "wuyi", "dongguan-2016": "five_steps", "nantong-2011": "majority",
		"nanhai-2009": "deliberation", "xishan-2008": "standard",
	}
	for _, p := range s.Packs() {
		g := p.Governance
		if g == nil {
			t.Errorf("%s: no governance.yaml", p.Name)
			continue
		}
		for _, key := range []string{policy.BodyParty, policy.BodyCommittee, policy.BodyRepresentatives, "supervision"} {
			if _, ok := g.Body(key); !ok {
				t.Errorf("%s: no body %q", p.Name, key)
			}
		}
		for _, b := range g.Bodies {
			if b.Label.Get("en") == b.Label.Get("zh-CN") || len(b.Posts) == 0 {
				t.Errorf("%s: body %s lacks an English label or posts", p.Name, b.Key)
			}
			for _, po := range b.Posts {
				if po.Label.Get("en") == po.Label.Get("zh-CN") {
					t.Errorf("%s: post %s.%s has no English label", p.Name, b.Key, po.Key)
				}
			}
			if _, _, ok := b.Quorum.Fraction(); !ok {
				t.Errorf("%s: body %s quorum %v", p.Name, b.Key, b.Quorum)
			}
			// Party meetings are party affairs, not on the village portal.
			if b.Public == (b.Key == policy.BodyParty) {
				t.Errorf("%s: body %s public = %v", p.Name, b.Key, b.Public)
			}
		}
		// The Organic Law (art. 25/26): ≥ 2/3 attend, no proxies, a third women, every quarter.
		r, _ := g.Body(policy.BodyRepresentatives)
		if r.Quorum != (policy.Threshold{Share: "2/3"}) || r.ProxyLimit != 0 || r.Cadence != policy.EveryQuarter ||
			r.WomenMin < 0.333 || r.WomenMin > 1.0/3 || r.MinMembers != 0 || r.MaxMembers != 0 || r.TermYears != 5 {
			t.Errorf("%s: representatives = %+v", p.Name, r)
		}
		if q := r.Quorum; !q.Met(18, 27) || q.Met(17, 27) {
			t.Errorf("%s: representatives' quorum %v of 27: 18 must meet, 17 not", p.Name, q)
		}
		if c, _ := g.Body(policy.BodyCommittee); c.MinMembers != 3 || (c.MaxMembers != 7 && c.MaxMembers != 9) || c.TermYears != 5 {
			t.Errorf("%s: committee = %+v", p.Name, c)
		}
		pr, ok := g.Procedure("")
		if !ok || pr.Key != wantProcedure[p.Name] {
			t.Errorf("%s: default procedure = %q, want %q", p.Name, pr.Key, wantProcedure[p.Name])
		}
		for _, pr := range g.Procedures {
			if pr.Stages[0].Kind != policy.StagePropose || !slices.Contains(pr.Stages[0].Proposers, policy.ProposerResidents) || pr.Stages[0].Signatures < 1 {
				t.Errorf("%s: procedure %s: first stage %+v", p.Name, pr.Key, pr.Stages[0])
			}
			// The engine takes the last meeting stage as the resolving one:
			// it must be the representatives' meeting, before implementation.
			last := -1
			for i, st := range pr.Stages {
				if st.Kind == policy.StageMeeting {
					last = i
				}
			}
			if last < 0 || pr.Stages[last].Body != policy.BodyRepresentatives {
				t.Errorf("%s: procedure %s resolves at %d", p.Name, pr.Key, last)
			}
			if _, i, ok := pr.Stage(stageOf(pr, policy.StageImplement)); !ok || i < last {
				t.Errorf("%s: procedure %s: implementation at %d, before the resolution at %d", p.Name, pr.Key, i, last)
			}
		}
		var steps []string
		for _, st := range g.Implementation {
			steps = append(steps, st.Key)
		}
		if !slices.Equal(steps, policy.ImplementationSteps) {
			t.Errorf("%s: implementation steps %v", p.Name, steps)
		}
		labels := []string{"交办", "实施", "督促", "监督"}
		for i, st := range g.Implementation {
			if !strings.Contains(st.Label.Get("zh-CN"), labels[i]) {
				t.Errorf("%s: step %s label %q", p.Name, st.Key, st.Label.Get("zh-CN"))
			}
		}
		e := g.Elections
		if e.VoterAge != 18 || e.NonRegistered != policy.NonRegisteredYears || e.Years != 1 || e.WomenSeats != 1 || e.ProxyLimit != 3 {
			t.Errorf("%s: elections = %+v", p.Name, e)
		}
		if len(g.Documents) == 0 || len(g.Disclosure) == 0 {
			t.Errorf("%s: %d documents, %d disclosure items", p.Name, len(g.Documents), len(g.Disclosure))
		}
		var accounts, assets []string
		for _, a := range g.Finance.Accounts {
			accounts = append(accounts, a.Key)
		}
		for _, a := range g.Finance.AssetKinds {
			assets = append(assets, a.Key)
		}
		if !slices.Equal(accounts, []string{"administrative", "economic"}) || !slices.Equal(assets, []string{"asset", "fund", "resource"}) {
			t.Errorf("%s: accounts %v, asset kinds %v", p.Name, accounts, assets)
		}
		for _, acc := range accounts {
			for _, kind := range []string{policy.Income, policy.Expense} {
				if !slices.ContainsFunc(g.Finance.Categories, func(c policy.FinanceCategory) bool { return c.Account == acc && c.Kind == kind }) {
					t.Errorf("%s: account %s has no %s category", p.Name, acc, kind)
				}
			}
		}
		sources := map[string]bool{}
		for _, it := range g.Disclosure {
			sources[it.Source] = true
		}
		for _, src := range policy.DisclosureSources {
			if !sources[src] {
				t.Errorf("%s: no disclosure item from %s", p.Name, src)
			}
		}
		// Every seed the section cites is one the pack says it encodes.
		for _, id := range govSeeds(g) {
			if !slices.Contains(p.Seeds, id) {
				t.Errorf("%s: governance.yaml cites %s, which pack.yaml's seeds lack", p.Name, id)
			}
		}
	}

	// Sha county: 五议 (SX-2) with the 三会 of SX-1, 四步 (SX-3), SX-4's documents and goals.
	sx := s.Get("shaxian-2012").Governance
	keys, kinds := stageKeys(sx.Procedures[0])
	if !slices.Equal(keys, []string{"propose", "discuss", "review", "resolve", "implement", "evaluate"}) ||
		!slices.Equal(kinds, []string{"propose", "meeting:management", "meeting:party", "meeting:representatives", "implement", "evaluate"}) {
		t.Errorf("shaxian-2012: wuyi = %v %v", keys, kinds)
	}
	if st := sx.Procedures[0].Stages[0]; !slices.Equal(st.Proposers, []string{"residents", "party", "management"}) {
		t.Errorf("shaxian-2012: proposers %v", st.Proposers)
	}
	if b, _ := sx.Body(policy.BodyParty); b.MinMembers != 3 || b.MaxMembers != 3 {
		t.Errorf("shaxian-2012: party branch %d–%d, want 3 (SX-1)", b.MinMembers, b.MaxMembers)
	}
	if b, ok := sx.Body("management"); !ok || b.MinMembers != 3 || b.MaxMembers != 5 {
		t.Errorf("shaxian-2012: management committee %d–%d, want 3–5 (SX-1)", b.MinMembers, b.MaxMembers)
	}
	var bodies []string
	for _, st := range sx.Implementation {
		bodies = append(bodies, st.Body)
	}
	if !slices.Equal(bodies, []string{"party", "management", "representatives", ""}) {
		t.Errorf("shaxian-2012: four steps by %v (SX-3)", bodies)
	}
	if d, ok := sx.Document("regulation"); sx.GoalsTarget != 32 || !ok || d.Target != 15 || d.AdoptedBy != policy.BodyRepresentatives {
		t.Errorf("shaxian-2012: goals %d, regulations %+v", sx.GoalsTarget, d)
	}
	for _, key := range []string{"charter", "covenant"} {
		if _, ok := sx.Document(key); !ok {
			t.Errorf("shaxian-2012: no %s (SX-4)", key)
		}
	}

	// Dongguan: the five steps (DG-4), party forms (DG-2), elections (DG-3), deadlines (DG-5).
	dg := s.Get("dongguan-2016").Governance
	keys, kinds = stageKeys(dg.Procedures[0])
	if !slices.Equal(keys, []string{"propose", "discuss", "decide", "manage", "supervise"}) ||
		!slices.Equal(kinds, []string{"propose", "meeting:council", "meeting:representatives", "implement", "evaluate"}) {
		t.Errorf("dongguan-2016: five steps = %v %v", keys, kinds)
	}
	var forms []string
	for _, f := range dg.PartyForms {
		forms = append(forms, f.Form.Get("zh-CN")+"≥"+strconv.Itoa(f.MinMembers))
	}
	if !slices.Equal(forms, []string{"党委≥100", "党总支≥50", "党支部≥0"}) {
		t.Errorf("dongguan-2016: party forms %v", forms)
	}
	if b, _ := dg.Body(policy.BodyParty); b.NonLocal == nil || b.NonLocal.Min != 1 {
		t.Errorf("dongguan-2016: party non_local = %+v (DG-2)", b.NonLocal)
	}
	if b, _ := dg.Body(policy.BodyCommittee); b.WomenMin <= 0 {
		t.Errorf("dongguan-2016: committee women_min = %v (DG-3)", b.WomenMin)
	}
	if e := dg.Elections; e.TurnoutTarget != 0.965 || len(e.Reserved) != 1 || e.Reserved[0].Residency != "non_registered" || e.Reserved[0].Seats != 1 {
		t.Errorf("dongguan-2016: elections = %+v (DG-3)", e)
	}
	for _, key := range []string{"village_rules", "covenant"} {
		if d, ok := dg.Document(key); !ok || d.DeadlineDay() != 20170430 {
			t.Errorf("dongguan-2016: %s = %+v (DG-5)", key, d)
		}
	}
	if st := dg.Implementation[3]; st.Body != "supervision" {
		t.Errorf("dongguan-2016: supervise step by %q (DG-7)", st.Body)
	}

	// Nantong: the representatives decide by more than half of ALL members (NT-7, our reading).
	nt := s.Get("nantong-2011").Governance
	if r, _ := nt.Body(policy.BodyRepresentatives); r.Majority != (policy.Threshold{Share: "1/2", Over: true, Of: policy.OfMembers}) ||
		r.Majority.Need(27) != 14 {
		t.Errorf("nantong-2011: representatives' majority %v", r.Majority)
	}
	if a, ok := nt.Body("assembly"); !ok || a.Majority.Of != policy.OfPresent {
		t.Errorf("nantong-2011: assembly = %+v", a)
	}
	keys, kinds = stageKeys(nt.Procedures[0])
	if !slices.Equal(keys, []string{"propose", "resolve", "implement", "evaluate"}) || kinds[1] != "meeting:representatives" {
		t.Errorf("nantong-2011: majority = %v %v", keys, kinds)
	}
	if d, ok := nt.Document("charter"); !ok || !slices.Contains(d.Seeds, "NT-7") {
		t.Errorf("nantong-2011: charter = %+v", d)
	}
	// Everywhere else the representatives decide by more than half of those present (art. 26).
	for _, name := range []string{"shaxian-2012", "dongguan-2016", "nanhai-2009", "xishan-2008"} {
		if r, _ := s.Get(name).Governance.Body(policy.BodyRepresentatives); r.Majority != (policy.Threshold{Share: "1/2", Over: true, Of: policy.OfPresent}) {
			t.Errorf("%s: representatives' majority %v", name, r.Majority)
		}
	}

	// Nanhai: the council is chaired by the party secretary and meets every quarter (NH-2).
	nh := s.Get("nanhai-2009").Governance
	if c, ok := nh.Body("council"); !ok || c.ChairFrom == nil || *c.ChairFrom != (policy.PostRef{Body: "party", Post: "secretary"}) ||
		c.Cadence != policy.EveryQuarter || policy.CadenceDays(c.Cadence) != 92 || !slices.Contains(c.Seeds, "NH-2") {
		t.Errorf("nanhai-2009: council = %+v", c)
	}
	keys, kinds = stageKeys(nh.Procedures[0])
	if !slices.Equal(kinds, []string{"propose", "meeting:council", "meeting:representatives", "implement", "evaluate"}) {
		t.Errorf("nanhai-2009: procedure = %v %v", keys, kinds)
	}

	// Xishan: the platform's default procedure.
	xs := s.Get("xishan-2008").Governance
	keys, kinds = stageKeys(xs.Procedures[0])
	if !slices.Equal(kinds, []string{"propose", "meeting:committee", "meeting:representatives", "implement", "evaluate"}) {
		t.Errorf("xishan-2008: procedure = %v %v", keys, kinds)
	}
}

// stageOf is the key of the first stage of kind ("" when none).
func stageOf(pr policy.Procedure, kind string) string {
	for _, st := range pr.Stages {
		if st.Kind == kind {
			return st.Key
		}
	}
	return ""
}
