package disclosure_test

// The shared fixture of disclosure's tests: the 锡山区 jurisdiction of
// internal/fixture bound to a governance.yaml of the tests' own (so they
// know its accounts, categories and disclosure items whatever the shipped
// pack holds), principals at every level, a few residents with ID numbers
// and phones (to prove the portal never shows them), the governance and
// disclosure services on one settable clock, and helpers that write a
// village's governance records the way the governance part stores them.

import (
	"context"
	"io/fs"
	"path"
	"slices"
	"strings"
	"testing"
	"testing/fstest"
	"time"

	"github.com/shequ-platform/shequ/internal/disclosure"
	"github.com/shequ-platform/shequ/internal/division"
	fx "github.com/shequ-platform/shequ/internal/fixture"
	"github.com/shequ-platform/shequ/internal/governance"
	"github.com/shequ-platform/shequ/internal/platform/access"
	"github.com/shequ-platform/shequ/internal/platform/audit"
	"github.com/shequ-platform/shequ/internal/platform/db"
	"github.com/shequ-platform/shequ/internal/platform/field"
	"github.com/shequ-platform/shequ/internal/platform/ids"
	"github.com/shequ-platform/shequ/internal/platform/pii"
	"github.com/shequ-platform/shequ/internal/platform/policy"
	"github.com/shequ-platform/shequ/internal/registry"
	policypacks "github.com/shequ-platform/shequ/policy"
)

const (
	county   = fx.County
	townA    = fx.TownA    // 东亭街道
	townB    = fx.TownB    // 安镇街道
	villageA = fx.VillageA // 门楼社区, in A
	villageC = fx.VillageC // 柏庄社区, in A
	villageB = fx.VillageB // 吼山社区, in B
)

// testGovernance is the governance.yaml the tests bind to 锡山区: the
// bodies and procedure of the governance part's tests, two accounts with
// their categories, two asset kinds, and a disclosure schedule with an item
// of every source and cadence:
//
//	affairs      notices      month
//	finance      finance      month
//	resolutions  resolutions  quarter
//	matters      matters      quarter
//	progress     progress     half_year
//	goals        notices      year
//	events       notices      event (not scheduled)
const testGovernance = `bodies:
  - key: party
    label: {zh-CN: 党支部, en: Party branch}
    posts:
      - {key: secretary, label: {zh-CN: 书记, en: Secretary}}
      - {key: member, label: {zh-CN: 委员, en: Member}}
    min_members: 3
    quorum: {share: 1/2, over: true}
    majority: {share: 1/2, over: true, of: members}
  - key: management
    label: {zh-CN: 村务管理委员会, en: Management committee}
    posts:
      - {key: director, label: {zh-CN: 主任, en: Director}}
      - {key: member, label: {zh-CN: 委员, en: Member}}
    min_members: 3
    max_members: 5
    quorum: {share: 2/3}
    majority: {share: 1/2, over: true, of: present}
  - key: representatives
    label: {zh-CN: 居民代表会议, en: Representatives' meeting}
    posts:
      - {key: representative, label: {zh-CN: 代表, en: Representative}}
    cadence: quarter
    quorum: {share: 2/3, over: true}
    majority: {share: 1/2, over: true, of: present}
    proxy_limit: 1
    public: true
procedures:
  - key: five
    label: {zh-CN: 五议, en: Five deliberations}
    stages:
      - {key: propose, label: {zh-CN: 群众提议, en: Proposal}, kind: propose, proposers: [residents, party], signatures: 10}
      - {key: discuss, label: {zh-CN: 村务管理委员会商议, en: Discussion}, kind: meeting, body: management}
      - {key: review, label: {zh-CN: 党支部审议, en: Review}, kind: meeting, body: party}
      - {key: resolve, label: {zh-CN: 居民代表会议决议, en: Resolution}, kind: meeting, body: representatives}
      - {key: implement, label: {zh-CN: 组织实施, en: Implementation}, kind: implement}
      - {key: evaluate, label: {zh-CN: 群众评议, en: Evaluation}, kind: evaluate}
implementation:
  - {key: assign, label: {zh-CN: 交办, en: Assign}, body: party}
  - {key: implement, label: {zh-CN: 承办, en: Implement}, body: management}
  - {key: urge, label: {zh-CN: 督办, en: Urge}, body: representatives}
  - {key: supervise, label: {zh-CN: 监办, en: Supervise}}
goals_target: 32
elections:
  voter_age: 18
  non_registered: years
  years: 1
  proxy_limit: 3
documents:
  - {key: charter, label: {zh-CN: 居民自治章程, en: Self-governance charter}, adopted_by: representatives}
finance:
  accounts:
    - {key: admin, label: {zh-CN: 行政账, en: Administrative account}}
    - {key: economic, label: {zh-CN: 经济账, en: Economic account}}
  categories:
    - {key: grant, label: {zh-CN: 上级补助, en: Grants}, account: admin, kind: income}
    - {key: office, label: {zh-CN: 办公经费, en: Office costs}, account: admin, kind: expense}
    - {key: wages, label: {zh-CN: 干部报酬, en: Allowances}, account: admin, kind: expense}
    - {key: rent, label: {zh-CN: 租赁收入, en: Rents}, account: economic, kind: income}
    - {key: works, label: {zh-CN: 工程支出, en: Works}, account: economic, kind: expense}
  asset_kinds:
    - {key: land, label: {zh-CN: 土地, en: Land}}
    - {key: building, label: {zh-CN: 房屋, en: Buildings}}
    - {key: fund, label: {zh-CN: 资金, en: Funds}}
  seeds: [DG-6]
disclosure:
  - {key: affairs, label: {zh-CN: 村务公告, en: Village affairs}, every: month, source: notices, seeds: [DG-8]}
  - {key: finance, label: {zh-CN: 财务收支, en: Finance}, every: month, source: finance, seeds: [DG-8]}
  - {key: resolutions, label: {zh-CN: 决议公开, en: Resolutions}, every: quarter, source: resolutions}
  - {key: matters, label: {zh-CN: 议事事项, en: Matters}, every: quarter, source: matters}
  - {key: progress, label: {zh-CN: 实施进度, en: Progress}, every: half_year, source: progress}
  - {key: goals, label: {zh-CN: 年度目标, en: Annual goals}, every: year, source: notices}
  - {key: events, label: {zh-CN: 临时公告, en: Other notices}, every: event, source: notices}
`

// packsWith loads the shipped packs with xishan-2008's governance.yaml
// replaced by gov.
func packsWith(t testing.TB, gov string) *policy.Set {
	t.Helper()
	m := fstest.MapFS{}
	err := fs.WalkDir(policypacks.FS, ".", func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() || p == path.Join("xishan-2008", "governance.yaml") {
			return err
		}
		b, err := fs.ReadFile(policypacks.FS, p)
		m[p] = &fstest.MapFile{Data: b}
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	m["xishan-2008/governance.yaml"] = &fstest.MapFile{Data: []byte(gov)}
	set, err := policy.Load(m)
	if err != nil {
		t.Fatal(err)
	}
	return set
}

var china = time.FixedZone("CST", 8*3600)

type fixture struct {
	t     *testing.T
	ctx   context.Context
	d     *db.DB
	acc   *access.Service
	reg   *registry.Service
	divs  *division.Service
	packs *policy.Set
	gov   *governance.Service
	svc   *disclosure.Service
	// now is both services' clock.
	now time.Time

	admin, countyStaff, townStaffA, townStaffB, villageStaffA, villageStaffB, viewer *access.Principal
	// zhang and li live in 门楼社区 (villageA), with ID numbers, phones and
	// an address the portal must never show.
	zhang, li registry.Resident
}

// Personal data of the fixture's residents.
var (
	idZhang    = validID("32020519800131123")
	idLi       = validID("32020519750505222")
	phoneZhang = "13812345678"
	phoneLi    = "13987654321"
	addrZhang  = "门楼路8号"
)

// validID completes a 17-digit body with its check digit.
func validID(body string) string {
	weights := []int{7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2}
	sum := 0
	for i := 0; i < 17; i++ {
		sum += int(body[i]-'0') * weights[i]
	}
	return body + string("10X98765432"[sum%11])
}

// fixtureDay is the fixture's day: 2026-11-23, a Monday.
var fixtureDay = time.Date(2026, 11, 23, 10, 0, 0, 0, china)

func newFixture(t *testing.T, d *db.DB) *fixture {
	t.Helper()
	ctx := audit.WithActor(context.Background(), audit.Actor{ID: 7, Name: "clerk", Client: "test"})
	al := &audit.Log{DB: d}
	acc := access.New(d, al, access.Config{})
	divs := division.NewService(d, al, acc)
	if _, err := divs.Import(ctx, strings.NewReader(fx.DivisionsCSV), division.ImportOptions{}); err != nil {
		t.Fatal(err)
	}
	packs := packsWith(t, testGovernance)
	keys, err := pii.New(fx.Keys)
	if err != nil {
		t.Fatal(err)
	}
	reg := registry.NewService(d, al, acc, keys, divs.Store, packs)
	gov := governance.NewService(d, al, acc, keys, divs.Store, packs, reg, t.TempDir())
	f := &fixture{t: t, ctx: ctx, d: d, acc: acc, reg: reg, divs: divs, packs: packs, gov: gov,
		svc: disclosure.NewService(d, al, acc, divs.Store, packs, gov), now: fixtureDay}
	gov.SetClock(func() time.Time { return f.now })
	f.svc.SetClock(func() time.Time { return f.now })
	uid := int64(100)
	mk := func(name, role string, div int64) *access.Principal {
		uid++
		return &access.Principal{UserID: uid, Username: name, DisplayName: name + "名", Locale: "zh-CN",
			Assignments: []access.Assignment{{ID: uid, Role: role, Division: div}}}
	}
	f.admin = mk("admin", "system_admin", 0)
	f.countyStaff = mk("county", "county_staff", county)
	f.townStaffA = mk("towna", "township_staff", townA)
	f.townStaffB = mk("townb", "township_staff", townB)
	f.villageStaffA = mk("villagea", "village_staff", villageA)
	f.villageStaffB = mk("villageb", "village_staff", villageB)
	f.viewer = mk("viewer", "viewer", townA)

	h, err := reg.CreateHousehold(ctx, f.admin, registry.HouseholdInput{Division: villageA, Number: "A-8", Address: addrZhang})
	if err != nil {
		t.Fatal(err)
	}
	if f.zhang, err = reg.Register(ctx, f.admin, registry.ResidentInput{HouseholdID: h.ID, Name: "张三", IDNumber: idZhang,
		Phone: phoneZhang, Residency: "registered", Relation: "head"}); err != nil {
		t.Fatal(err)
	}
	if f.li, err = reg.Register(ctx, f.admin, registry.ResidentInput{Division: villageA, Name: "李四", IDNumber: idLi,
		Phone: phoneLi, Residency: "registered"}); err != nil {
		t.Fatal(err)
	}
	return f
}

func (f *fixture) count(q string, args ...any) int {
	f.t.Helper()
	var n int
	if err := f.d.QueryRow(f.ctx, q, args...).Scan(&n); err != nil {
		f.t.Fatalf("%s: %v", q, err)
	}
	return n
}

// entry adds an entry as village A's staff, failing the test on an error.
func (f *fixture) entry(account, category, day, amount string) disclosure.Entry {
	f.t.Helper()
	e, err := f.svc.AddEntry(f.ctx, f.villageStaffA, disclosure.EntryInput{Village: villageA, Account: account, Category: category,
		Day: day, Amount: amount, Summary: "测试" + category})
	if err != nil {
		f.t.Fatalf("entry %s %s: %v", category, amount, err)
	}
	return e
}

func fieldCodes(t *testing.T, err error) []string {
	t.Helper()
	codes, ok := field.Codes(err)
	if !ok {
		t.Fatalf("want field.Errors, got %T %v", err, err)
	}
	return codes
}

func wantFieldError(t *testing.T, err error, want string) {
	t.Helper()
	if got := fieldCodes(t, err); !slices.Contains(got, want) {
		t.Fatalf("errors %q do not include %q", got, want)
	}
}

// ---- governance records, written as the governance part stores them ----

// govBody writes a body of village with members (name → post) drawn from
// the registry (resident ids), returning its id.
func (f *fixture) govBody(village int64, kind, name string, members map[string]string, residents map[string]int64) int64 {
	f.t.Helper()
	now := f.now.UnixMilli()
	id, err := f.d.InsertID(f.ctx, `INSERT INTO gov_bodies (county, division, kind, name, term_start, created_at, updated_at)
		VALUES (?,?,?,?,?,?,?)`, ids.County(village), village, kind, name, 20240101, now, now)
	if err != nil {
		f.t.Fatal(err)
	}
	for n, post := range members {
		if _, err := f.d.Exec(f.ctx, `INSERT INTO gov_members (body_id, resident_id, name, gender, residency, post, since_day, created_at)
			VALUES (?,?,?,?,?,?,?,?)`, id, residents[n], n, "M", "registered", post, 20240101, now); err != nil {
			f.t.Fatal(err)
		}
	}
	return id
}

// govMeeting writes a held public meeting of body on day with one decided
// agenda item, returning the meeting's id.
func (f *fixture) govMeeting(village, body int64, day int, title, item, resolution string) int64 {
	f.t.Helper()
	now := f.now.UnixMilli()
	id, err := f.d.InsertID(f.ctx, `INSERT INTO gov_meetings (county, division, body_id, title, day, start_time, place, state, public,
		members, present, created_at, updated_at) VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?)`,
		ids.County(village), village, body, title, day, "19:00", "村委会议室", "held", 1, 30, 25, now, now)
	if err != nil {
		f.t.Fatal(err)
	}
	if item != "" {
		if _, err := f.d.Exec(f.ctx, `INSERT INTO gov_agenda (meeting_id, seq, title, result, votes_for, votes_against, votes_abstain,
			counted, resolution, decided_day) VALUES (?,?,?,?,?,?,?,?,?,?)`, id, 1, item, "passed", 22, 2, 1, 1, resolution, day); err != nil {
			f.t.Fatal(err)
		}
	}
	return id
}

// govScheduled writes a scheduled public meeting of body on day.
func (f *fixture) govScheduled(village, body int64, day int, title string) int64 {
	f.t.Helper()
	now := f.now.UnixMilli()
	id, err := f.d.InsertID(f.ctx, `INSERT INTO gov_meetings (county, division, body_id, title, day, start_time, place, state, public,
		created_at, updated_at) VALUES (?,?,?,?,?,?,?,?,?,?,?)`,
		ids.County(village), village, body, title, day, "09:30", "村委会议室", "scheduled", 1, now, now)
	if err != nil {
		f.t.Fatal(err)
	}
	return id
}

// govMatter writes a matter of village at stage with its steps (action →
// day), returning its id.
func (f *fixture) govMatter(village int64, number, title, stage, status string, proposed, closed int, progress int, steps map[string]int) int64 {
	f.t.Helper()
	now := f.now.UnixMilli()
	responsible := ""
	if _, ok := steps["assign"]; ok {
		responsible = "村务管理委员会"
	}
	id, err := f.d.InsertID(f.ctx, `INSERT INTO gov_matters (number, county, division, procedure_key, stage, status, title, description,
		proposer, proposer_name, signatures, budget, progress, responsible, proposed_day, closed_day, created_at, updated_at)
		VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)`,
		number, ids.County(village), village, "five", stage, status, title, "修缮村道，方便出行。", "residents", "张三", 12, 5000000,
		progress, responsible, proposed, closed, now, now)
	if err != nil {
		f.t.Fatal(err)
	}
	for action, day := range steps {
		if _, err := f.d.Exec(f.ctx, `INSERT INTO gov_matter_steps (matter_id, stage, action, note, percent, public, day, actor, created_at)
			VALUES (?,?,?,?,?,?,?,?,?)`, id, stage, action, "进展："+action, progress, 1, day, "clerk", now); err != nil {
			f.t.Fatal(err)
		}
	}
	return id
}
