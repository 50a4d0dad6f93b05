package governance_test

// Helpers of the elections and documents tests, on the shared fixture
// (helpers_test.go).

import (
	"context"
	"errors"
	"html"
	"net/http"
	"net/http/httptest"
	"net/url"
	"regexp"
	"slices"
	"strings"
	"testing"

	gov "github.com/shequ-platform/shequ/internal/governance"
	"github.com/shequ-platform/shequ/internal/platform/access"
	"github.com/shequ-platform/shequ/internal/platform/audit"
	"github.com/shequ-platform/shequ/internal/platform/db"
	"github.com/shequ-platform/shequ/internal/platform/field"
	"github.com/shequ-platform/shequ/internal/platform/web"
	"github.com/shequ-platform/shequ/internal/registry"
)

// electionDay is the day the elections of the tests are held (the
// fixture's clock starts on 2026-09-30): 少年甲 turns 18 on it.
const electionDay = "2026-10-15"

// election schedules an election of the committee at villageA.
func (f *fixture) election(p *access.Principal, day string, seats int) gov.Election {
	f.t.Helper()
	e, err := f.svc.CreateElection(f.ctx, p, gov.ElectionInput{Village: villageA, BodyKind: "committee", Title: "第十二届居民委员会换届选举",
		Day: day, Seats: seats})
	if err != nil {
		f.t.Fatalf("create election: %v", err)
	}
	return e
}

func (f *fixture) roll(p *access.Principal, id int64) gov.RollSummary {
	f.t.Helper()
	sum, err := f.svc.BuildRoll(f.ctx, p, id)
	if err != nil {
		f.t.Fatalf("build roll: %v", err)
	}
	return sum
}

// rollNames is the whole roll of an election by name.
func (f *fixture) rollNames(id int64) map[string]gov.Voter {
	f.t.Helper()
	page, err := f.svc.Voters(f.ctx, f.admin, id, gov.VoterFilter{Limit: 500})
	if err != nil {
		f.t.Fatal(err)
	}
	out := map[string]gov.Voter{}
	for _, v := range page.Voters {
		out[v.Name] = v
	}
	if len(out) != page.Total {
		f.t.Fatalf("roll page %d of %d", len(out), page.Total)
	}
	return out
}

// electionNow reloads an election as the admin sees it.
func (f *fixture) electionNow(id int64) gov.Election {
	f.t.Helper()
	e, err := f.svc.GetElection(f.ctx, f.admin, id)
	if err != nil {
		f.t.Fatal(err)
	}
	return e
}

func (f *fixture) candidate(p *access.Principal, id int64, name, reserved string) gov.Candidate {
	f.t.Helper()
	c, err := f.svc.AddCandidate(f.ctx, p, id, gov.CandidateInput{ResidentID: f.res(name).ID, Reserved: reserved})
	if err != nil {
		f.t.Fatalf("candidate %s: %v", name, err)
	}
	return c
}

func (f *fixture) proxy(p *access.Principal, id int64, truster, trustee string) error {
	return f.svc.SetProxy(f.ctx, p, id, f.res(truster).ID, f.res(trustee).ID)
}

func (f *fixture) markVoted(p *access.Principal, id int64, names ...string) {
	f.t.Helper()
	for _, n := range names {
		if _, err := f.svc.MarkVoted(f.ctx, p, id, f.res(n).ID); err != nil {
			f.t.Fatalf("mark %s: %v", n, err)
		}
	}
}

// register adds a resident to the fixture's registry (and byName).
func (f *fixture) register(div int64, name, gender, birth, residency, since string) registry.Resident {
	f.t.Helper()
	r, err := f.reg.Register(f.ctx, f.admin, registry.ResidentInput{Division: div, Name: name, Gender: gender, Birth: birth,
		Residency: residency, Since: since})
	if err != nil {
		f.t.Fatalf("register %s: %v", name, err)
	}
	f.byName[name] = r
	return r
}

func wantElectionError(t *testing.T, err error, code string) {
	t.Helper()
	var ee *gov.ElectionError
	if !errors.As(err, &ee) || ee.Code != code {
		t.Fatalf("want election error %s, got %T %v", code, err, err)
	}
}

func wantNotFound(t *testing.T, err error) {
	t.Helper()
	if !errors.Is(err, db.ErrNotFound) {
		t.Fatalf("want not found, got %T %v", err, err)
	}
}

func wantForbidden(t *testing.T, err error) {
	t.Helper()
	if !errors.Is(err, gov.ErrForbidden) {
		t.Fatalf("want forbidden, got %T %v", err, err)
	}
}

// fieldArg returns the argument of the field error code at name.
func fieldArg(t *testing.T, err error, name, code string) string {
	t.Helper()
	codes := fieldErrors(t, err)
	if !slices.Contains(codes, name+":"+code) {
		t.Fatalf("errors %q do not include %s:%s", codes, name, code)
	}
	var es field.Errors
	errors.As(err, &es)
	for _, e := range es {
		if e.Field == name && e.Code == code {
			return e.Arg
		}
	}
	return ""
}

// ---- meetings for documents ----

// adopting is a meeting (and one agenda item) the documents' tests cite,
// written straight into the schema (gov_bodies, gov_meetings, gov_agenda:
// the contract of the meetings part) so that the tests of adoption do not
// depend on how meetings are recorded.
type adopting struct {
	village  int64
	body     string // body kind
	state    string // meeting state
	result   string // the item's result
	day      int
	document int64 // the item's document_id
}

// item writes an adopting meeting and returns its agenda item's ID.
func (f *fixture) item(a adopting) int64 {
	f.t.Helper()
	if a.state == "" {
		a.state = gov.MeetingHeld
	}
	if a.result == "" {
		a.result = gov.ResultPassed
	}
	if a.day == 0 {
		a.day = 20170420
	}
	now := f.now.UnixMilli()
	body, err := f.d.InsertID(f.ctx, `INSERT INTO gov_bodies (county, division, kind, name, term_start, created_at, updated_at)
		VALUES (?,?,?,?,?,?,?)`, county, a.village, a.body, a.body+" 本届", 20160101, now, now)
	if err != nil {
		f.t.Fatal(err)
	}
	meeting, err := f.d.InsertID(f.ctx, `INSERT INTO gov_meetings (county, division, body_id, title, day, state, members, present,
		created_at, updated_at) VALUES (?,?,?,?,?,?,?,?,?,?)`, county, a.village, body, "第三次居民代表会议", a.day, a.state, 27, 21, now, now)
	if err != nil {
		f.t.Fatal(err)
	}
	decided := 0
	if a.result != gov.ResultPending {
		decided = a.day
	}
	id, err := f.d.InsertID(f.ctx, `INSERT INTO gov_agenda (meeting_id, seq, title, document_id, result, votes_for, votes_against,
		votes_abstain, decided_day) VALUES (?,?,?,?,?,?,?,?,?)`, meeting, 1, "审议修订居民自治章程", a.document, a.result, 19, 1, 1, decided)
	if err != nil {
		f.t.Fatal(err)
	}
	return id
}

// ---- pages ----

// elWeb serves the governance pages of a fixture (no CSRF or session
// middleware: the principal rides in the request's context).
type elWeb struct {
	f *fixture
	h http.Handler
}

func newElWeb(t *testing.T, f *fixture) *elWeb {
	t.Helper()
	rd := web.NewRenderer(nil)
	if err := rd.Register(gov.Templates(), "templates/*.html", gov.Funcs()); err != nil {
		t.Fatal(err)
	}
	mux := http.NewServeMux()
	(&gov.HTTP{S: f.svc, R: rd, PublicURL: "https://shequ.example.cn"}).Routes(mux)
	return &elWeb{f: f, h: mux}
}

// serve answers one request as p.
func (e *elWeb) serve(p *access.Principal, method, target string, form url.Values) *httptest.ResponseRecorder {
	e.f.t.Helper()
	var req *http.Request
	if form != nil {
		req = httptest.NewRequest(method, target, strings.NewReader(form.Encode()))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	} else {
		req = httptest.NewRequest(method, target, nil)
	}
	req.Header.Set("Accept-Language", "zh-CN")
	ctx := audit.WithActor(access.WithPrincipal(context.Background(), p), audit.Actor{ID: p.UserID, Name: p.Username})
	w := httptest.NewRecorder()
	e.h.ServeHTTP(w, req.WithContext(ctx))
	return w
}

func (e *elWeb) get(p *access.Principal, target string) (int, string) {
	w := e.serve(p, http.MethodGet, target, nil)
	return w.Code, w.Body.String()
}

func (e *elWeb) post(p *access.Principal, target string, form url.Values) *httptest.ResponseRecorder {
	return e.serve(p, http.MethodPost, target, form)
}

// elPageText is a page with its tags removed and entities decoded.
func elPageText(page string) string {
	return html.UnescapeString(regexp.MustCompile(`<[^>]*>`).ReplaceAllString(page, ""))
}

// electionsOf lists the IDs of a village's elections, the latest first.
func (f *fixture) electionsOf(village int64) []int64 {
	f.t.Helper()
	list, _, err := f.svc.Elections(f.ctx, f.admin, gov.ElectionFilter{Unit: village})
	if err != nil {
		f.t.Fatal(err)
	}
	var out []int64
	for _, e := range list {
		out = append(out, e.ID)
	}
	return out
}
