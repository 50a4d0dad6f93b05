package governance_test

// The shared fixture of the governance package's tests (bodies, meetings,
// matters, elections, documents): the 锡山区 jurisdiction of
// internal/fixture (xishan-2008) and its piece of 沙县 (shaxian-2012), with
// principals at every level, a registry of 54 residents and the governance
// service on a settable clock (f.now, f.on). Principals are built directly
// (no accounts, no password hashing), so the fixture stays fast.

import (
	"context"
	"io/fs"
	"path"
	"slices"
	"strings"
	"testing"
	"testing/fstest"
	"time"

	"github.com/shequ-platform/shequ/internal/division"
	fx "github.com/shequ-platform/shequ/internal/fixture"
	"github.com/shequ-platform/shequ/internal/governance"
	"github.com/shequ-platform/shequ/internal/platform/access"
	"github.com/shequ-platform/shequ/internal/platform/audit"
	"github.com/shequ-platform/shequ/internal/platform/calendar"
	"github.com/shequ-platform/shequ/internal/platform/db"
	"github.com/shequ-platform/shequ/internal/platform/facts"
	"github.com/shequ-platform/shequ/internal/platform/field"
	"github.com/shequ-platform/shequ/internal/platform/ids"
	"github.com/shequ-platform/shequ/internal/platform/pii"
	"github.com/shequ-platform/shequ/internal/platform/policy"
	"github.com/shequ-platform/shequ/internal/registry"
	policypacks "github.com/shequ-platform/shequ/policy"
)

// The shared test jurisdiction (internal/fixture): 锡山区, bound by the
// xishan-2008 pack.
const (
	county   = fx.County
	townA    = fx.TownA    // 东亭街道
	townB    = fx.TownB    // 安镇街道
	villageA = fx.VillageA // 门楼社区, in A
	villageC = fx.VillageC // 柏庄社区, in A
	villageB = fx.VillageB // 吼山社区, in B
)

// testGovernance is a governance.yaml with every rule the mechanism knows,
// so the tests do not depend on what a shipped pack holds. Bodies:
//
//	party            secretary/deputy/member, 3–, DG-2's forms by party_members
//	committee        director/deputy/member, 3–7, 5 years, women ≥ 1/3,
//	                 ≥ 1 non-registered member when ≥ 10 % are non-registered
//	council          chair/member, 5–, chaired by the party secretary
//	                 (NH-2), at least quarterly, public
//	management       director/member, 3–5 (SX-1), monthly
//	representatives  representative, quorum > 2/3, majority > 1/2 of those
//	                 present, one proxy per member, public
//	supervision      director/member, majority > 1/2 of all members (NT-7)
//
// The procedure (SX-2's 五议): propose (residents, 10 signatures) →
// discuss (management) → review (party) → resolve (representatives) →
// implement → evaluate.
const testGovernance = `bodies:
  - key: party
    label: {zh-CN: 党支部, en: Party branch}
    posts:
      - {key: secretary, label: {zh-CN: 书记, en: Secretary}}
      - {key: deputy, label: {zh-CN: 副书记, en: Deputy secretary}}
      - {key: member, label: {zh-CN: 委员, en: Member}}
    min_members: 3
    term_years: 5
    cadence: month
    quorum: {share: 1/2, over: true}
    majority: {share: 1/2, over: true, of: members}
    seeds: [DG-2]
  - key: committee
    label: {zh-CN: 社区居民委员会, en: Residents' committee}
    posts:
      - {key: director, label: {zh-CN: 主任, en: Director}}
      - {key: deputy, label: {zh-CN: 副主任, en: Deputy director}}
      - {key: member, label: {zh-CN: 委员, en: Member}}
    min_members: 3
    max_members: 7
    term_years: 5
    quorum: {share: 1/2, over: true}
    majority: {share: 1/2, over: true, of: present}
    women_min: 0.33
    non_local: {min: 1, when: 0.1}
    seeds: [DG-2]
  - key: council
    label: {zh-CN: 社区议事会, en: Community council}
    posts:
      - {key: chair, label: {zh-CN: 召集人, en: Convener}}
      - {key: member, label: {zh-CN: 成员, en: Member}}
    chair_from: {body: party, post: secretary}
    min_members: 5
    term_years: 3
    cadence: quarter
    quorum: {share: 2/3}
    majority: {share: 1/2, over: true, of: present}
    public: true
    seeds: [NH-2]
  - key: management
    label: {zh-CN: 村务管理委员会, en: Management committee}
    posts:
      - {key: director, label: {zh-CN: 主任, en: Director}}
      - {key: member, label: {zh-CN: 委员, en: Member}}
    min_members: 3
    max_members: 5
    term_years: 3
    cadence: month
    quorum: {share: 2/3}
    majority: {share: 1/2, over: true, of: present}
    seeds: [SX-1]
  - key: representatives
    label: {zh-CN: 居民代表会议, en: Representatives' meeting}
    posts:
      - {key: representative, label: {zh-CN: 代表, en: Representative}}
    term_years: 5
    cadence: quarter
    quorum: {share: 2/3, over: true}
    majority: {share: 1/2, over: true, of: present}
    proxy_limit: 1
    public: true
    seeds: [SX-2]
  - key: supervision
    label: {zh-CN: 居务监督委员会, en: Supervision committee}
    posts:
      - {key: director, label: {zh-CN: 主任, en: Director}}
      - {key: member, label: {zh-CN: 委员, en: Member}}
    min_members: 3
    max_members: 5
    quorum: {share: 1/2, over: true}
    majority: {share: 1/2, over: true, of: members}
    seeds: [NT-7]
party_forms:
  - {min_members: 100, form: {zh-CN: 党委, en: Party committee}, seeds: [DG-2]}
  - {min_members: 50, form: {zh-CN: 党总支, en: General party branch}, seeds: [DG-2]}
  - {min_members: 3, form: {zh-CN: 党支部, en: Party branch}, seeds: [DG-2]}
procedures:
  - key: five
    label: {zh-CN: 五议, en: Five deliberations}
    seeds: [SX-2]
    stages:
      - {key: propose, label: {zh-CN: 群众提议, en: Proposal}, kind: propose, proposers: [residents, committee, party], signatures: 10}
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
  turnout_target: 0.965
  women_seats: 1
  reserved:
    - {key: newcomers, label: {zh-CN: 非户籍居民名额, en: Non-registered residents' seats}, residency: non_registered, seats: 1}
  seeds: [DG-3]
documents:
  - {key: charter, label: {zh-CN: 居民自治章程, en: Self-governance charter}, adopted_by: representatives, deadline: "2017-04-30", seeds: [DG-5]}
  - {key: covenant, label: {zh-CN: 居民公约, en: Residents' covenant}, adopted_by: representatives}
finance:
  accounts:
    - {key: admin, label: {zh-CN: 行政账, en: Administrative account}}
    - {key: economic, label: {zh-CN: 经济账, en: Economic account}}
  categories:
    - {key: grant, label: {zh-CN: 上级补助, en: Grants}, account: admin, kind: income}
    - {key: office, label: {zh-CN: 办公经费, en: Office costs}, account: admin, kind: expense}
    - {key: rent, label: {zh-CN: 租赁收入, en: Rents}, account: economic, kind: income}
    - {key: works, label: {zh-CN: 工程支出, en: Works}, account: economic, kind: expense}
  asset_kinds:
    - {key: land, label: {zh-CN: 土地, en: Land}}
    - {key: building, label: {zh-CN: 房屋, en: Buildings}}
  seeds: [DG-6]
disclosure:
  - {key: resolutions, label: {zh-CN: 决议公开, en: Resolutions}, every: event, source: resolutions}
  - {key: finance, label: {zh-CN: 财务收支, en: Finance}, every: month, source: finance, seeds: [DG-8]}
  - {key: matters, label: {zh-CN: 议事事项, en: Matters}, every: quarter, source: matters}
`

// packGovernance is a shipped pack's governance.yaml ("" when it has
// none), to run the fixture under another county's rules:
// newFixtureWith(t, d, packGovernance(t, "shaxian-2012")).
func packGovernance(t testing.TB, pack string) string {
	t.Helper()
	b, err := fs.ReadFile(policypacks.FS, pack+"/governance.yaml")
	if err != nil {
		return ""
	}
	return string(b)
}

// packsWith loads the shipped packs with the governance.yaml of the packs
// named in govs (pack name → file text) replaced.
func packsWith(t testing.TB, govs map[string]string) *policy.Set {
	t.Helper()
	m := fstest.MapFS{}
	err := fs.WalkDir(policypacks.FS, ".", func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		if pack, name := path.Split(p); name == "governance.yaml" && govs[strings.TrimSuffix(pack, "/")] != "" {
			return nil
		}
		b, err := fs.ReadFile(policypacks.FS, p)
		m[p] = &fstest.MapFile{Data: b}
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	for pack, gov := range govs {
		if gov != "" {
			m[pack+"/governance.yaml"] = &fstest.MapFile{Data: []byte(gov)}
		}
	}
	set, err := policy.Load(m)
	if err != nil {
		t.Fatal(err)
	}
	return set
}

type fixture struct {
	t     *testing.T
	ctx   context.Context
	d     *db.DB
	acc   *access.Service
	reg   *registry.Service
	keys  *pii.Keys
	divs  *division.Service
	packs *policy.Set
	svc   *governance.Service
	// now is the governance service's clock: set it (or call f.on) to move
	// the day.
	now time.Time

	// admin is system_admin over the country; countyStaff is bound at the
	// county, townStaffA/B at the townships, villageStaffA/B at villages A
	// and B (village_staff), viewer (viewer) at township A.
	admin, countyStaff, townStaffA, townStaffB, villageStaffA, villageStaffB, viewer *access.Principal
	// villageStaffSX is village_staff at 澄江楼村 (fx.ShaxianVillage), Sha
	// county (shaxian-2012).
	villageStaffSX *access.Principal

	// residentsA are the residents of 门楼社区 (villageA) in the order of
	// villagersA; residentsB those of 吼山社区 (villageB); residentsSX
	// those of 澄江楼村 (fx.ShaxianVillage).
	residentsA, residentsB, residentsSX []registry.Resident
	byName                              map[string]registry.Resident
}

// villager is a resident the fixture registers.
type villager struct {
	name, gender, birth, residency string
	party                          bool
}

// villagersA live in 门楼社区 (villageA): 40 residents, 22 men and 18
// women; 30 registered, 6 non-registered (15 %), 4 migrants; 11 party
// members; 少年甲 turns 18 on 2026-10-15 and 少年乙 is 14 (both under 18 on
// the fixture's day, 2026-09-30).
var villagersA = []villager{
	{"陈建国", "男", "1962-03-12", registry.Registered, true},
	{"周秀英", "女", "1968-07-21", registry.Registered, true},
	{"吴志强", "男", "1971-11-02", registry.Registered, true},
	{"郑丽华", "女", "1975-01-30", registry.Registered, false},
	{"王德明", "男", "1958-05-16", registry.Registered, true},
	{"冯桂芳", "女", "1960-09-09", registry.Registered, false},
	{"朱永康", "男", "1980-04-18", registry.Registered, false},
	{"秦玉兰", "女", "1983-12-25", registry.Registered, true},
	{"许国华", "男", "1969-08-08", registry.Registered, false},
	{"何美玲", "女", "1990-02-14", registry.Registered, false},
	{"吕建军", "男", "1966-06-06", registry.Registered, true},
	{"施红梅", "女", "1972-10-10", registry.Registered, false},
	{"张伟", "男", "1985-03-03", registry.Registered, false},
	{"孔凤英", "女", "1955-04-04", registry.Registered, false},
	{"曹明亮", "男", "1978-07-07", registry.Registered, true},
	{"严小芳", "女", "1988-09-19", registry.Registered, false},
	{"华立新", "男", "1974-11-11", registry.Registered, false},
	{"金淑珍", "女", "1963-01-01", registry.Registered, false},
	{"魏长林", "男", "1959-12-12", registry.Registered, false},
	{"陶雪梅", "女", "1992-05-05", registry.Registered, true},
	{"姜海涛", "男", "1982-08-28", registry.Registered, false},
	{"戚文娟", "女", "1979-03-23", registry.Registered, false},
	{"谢宏伟", "男", "1970-02-02", registry.Registered, true},
	{"邹春燕", "女", "1986-04-14", registry.Registered, false},
	{"喻国庆", "男", "1949-10-01", registry.Registered, true},
	{"柏金花", "女", "1951-06-16", registry.Registered, false},
	{"水振华", "男", "1995-07-17", registry.Registered, false},
	{"窦晓静", "女", "1998-08-18", registry.Registered, false},
	{"少年甲", "男", "2008-10-15", registry.Registered, false},
	{"少年乙", "女", "2012-06-01", registry.Registered, false},
	{"章建平", "男", "1977-05-25", registry.NonRegistered, false},
	{"云丽娟", "女", "1984-09-29", registry.NonRegistered, false},
	{"苏志刚", "男", "1973-03-13", registry.NonRegistered, true},
	{"潘慧敏", "女", "1991-11-21", registry.NonRegistered, false},
	{"葛振宇", "男", "1987-12-08", registry.NonRegistered, false},
	{"奚玉梅", "女", "1965-02-26", registry.NonRegistered, false},
	{"范大勇", "男", "1993-06-30", registry.Migrant, false},
	{"彭小兵", "男", "1996-01-15", registry.Migrant, false},
	{"郎海燕", "女", "1994-10-20", registry.Migrant, false},
	{"鲁建业", "男", "1989-07-09", registry.Migrant, false},
}

// villagersSX live in 澄江楼村 (fx.ShaxianVillage), Sha county.
var villagersSX = []villager{
	{"罗忠诚", "男", "1966-02-11", registry.Registered, true},
	{"邓秀珍", "女", "1970-05-20", registry.Registered, true},
	{"黄永福", "男", "1962-08-03", registry.Registered, true},
	{"林春梅", "女", "1978-11-17", registry.Registered, false},
	{"肖文斌", "男", "1983-04-09", registry.Registered, false},
	{"江月娥", "女", "1959-07-27", registry.Registered, false},
	{"游建新", "男", "1975-10-05", registry.Registered, true},
	{"张美英", "女", "1988-01-22", registry.Registered, false},
	{"杨金水", "男", "1954-03-30", registry.Registered, false},
	{"卢小红", "女", "1993-12-12", registry.NonRegistered, false},
}

// villagersB live in 吼山社区 (villageB).
var villagersB = []villager{
	{"王五", "男", "1970-01-01", registry.Registered, true},
	{"马兰英", "女", "1976-03-08", registry.Registered, false},
	{"韦国栋", "男", "1964-09-15", registry.Registered, false},
	{"昌美华", "女", "1981-12-01", registry.NonRegistered, false},
}

var china = time.FixedZone("CST", 8*3600)

// newFixture builds the fixture on the shipped packs; while xishan-2008
// has no governance.yaml, on testGovernance.
func newFixture(t *testing.T, d *db.DB) *fixture {
	t.Helper()
	return newFixtureWith(t, d, packGovernance(t, "xishan-2008"))
}

// newFixtureWith builds the fixture with xishan-2008's governance.yaml
// replaced by gov ("": testGovernance).
func newFixtureWith(t *testing.T, d *db.DB, gov string) *fixture {
	t.Helper()
	if gov == "" {
		gov = testGovernance
	}
	return newFixturePacks(t, d, map[string]string{"xishan-2008": gov})
}

// newFixturePacks builds the fixture with the governance.yaml of the packs
// in govs replaced (pack name → file text; a pack left out keeps its
// shipped file, if any).
func newFixturePacks(t *testing.T, d *db.DB, govs map[string]string) *fixture {
	t.Helper()
	ctx := audit.WithActor(context.Background(), audit.Actor{ID: 7, Name: "clerk", Client: "test"})
	al := &audit.Log{DB: d}
	acc := access.New(d, al, access.Config{})
	divs := division.NewService(d, al, acc)
	for _, csv := range []string{fx.DivisionsCSV, fx.ShaxianCSV} {
		if _, err := divs.Import(ctx, strings.NewReader(csv), division.ImportOptions{}); err != nil {
			t.Fatal(err)
		}
	}
	packs := packsWith(t, govs)
	keys, err := pii.New(fx.Keys)
	if err != nil {
		t.Fatal(err)
	}
	reg := registry.NewService(d, al, acc, keys, divs.Store, packs)
	f := &fixture{t: t, ctx: ctx, d: d, acc: acc, reg: reg, keys: keys, divs: divs, packs: packs,
		svc: governance.NewService(d, al, acc, keys, divs.Store, packs, reg, t.TempDir()),
		now: time.Date(2026, 9, 30, 10, 0, 0, 0, china), byName: map[string]registry.Resident{}}
	f.svc.SetClock(func() time.Time { return f.now })
	// Principals are built directly, not as accounts: no password hashing.
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
	f.villageStaffSX = mk("villagesx", "village_staff", fx.ShaxianVillage)

	register := func(div int64, vs []villager) []registry.Resident {
		out := make([]registry.Resident, 0, len(vs))
		for _, v := range vs {
			since := "2015-01-01"
			if v.residency == registry.Migrant {
				since = "2025-03-01"
			}
			if v.birth > since {
				since = v.birth
			}
			r, err := reg.Register(ctx, f.admin, registry.ResidentInput{Division: div, Name: v.name, Gender: v.gender,
				Birth: v.birth, Residency: v.residency, PartyMember: v.party, Since: since})
			if err != nil {
				t.Fatalf("register %s: %v", v.name, err)
			}
			out = append(out, r)
			f.byName[v.name] = r
		}
		return out
	}
	f.residentsA = register(villageA, villagersA)
	f.residentsB = register(villageB, villagersB)
	f.residentsSX = register(fx.ShaxianVillage, villagersSX)
	return f
}

// res is the fixture's resident named name.
func (f *fixture) res(name string) registry.Resident {
	f.t.Helper()
	r, ok := f.byName[name]
	if !ok {
		f.t.Fatalf("no resident %s in the fixture", name)
	}
	return r
}

// on moves the clock to day (YYYYMMDD), 10:00 in China.
func (f *fixture) on(day int) {
	f.now = time.Date(day/10000, time.Month(day/100%100), day%100, 10, 0, 0, 0, china)
}

// today is the fixture's day (YYYYMMDD).
func (f *fixture) today() int { return calendar.DayOf(f.now) }

func (f *fixture) count(q string, args ...any) int {
	f.t.Helper()
	var n int
	if err := f.d.QueryRow(f.ctx, q, args...).Scan(&n); err != nil {
		f.t.Fatalf("%s: %v", q, err)
	}
	return n
}

// sum is a metric over the subtree of code, all periods.
func (f *fixture) sum(metric string, code int64) int64 {
	f.t.Helper()
	lo, hi := ids.Subtree(code)
	v, err := facts.Sum(f.ctx, f.d, metric, lo, hi, 0, 999999)
	if err != nil {
		f.t.Fatal(err)
	}
	return v
}

// audits counts the audit entries of an entity with an action.
func (f *fixture) audits(entity, action string) int {
	f.t.Helper()
	return f.count("SELECT COUNT(*) FROM audit_log WHERE entity = ? AND action = ?", entity, action)
}

func fieldErrors(t *testing.T, err error) []string {
	t.Helper()
	codes, ok := field.Codes(err)
	if !ok {
		t.Fatalf("want field.Errors, got %T %v", err, err)
	}
	return codes
}

func wantFieldError(t *testing.T, err error, want string) {
	t.Helper()
	if got := fieldErrors(t, err); !slices.Contains(got, want) {
		t.Fatalf("errors %q do not include %q", got, want)
	}
}

// staffAt is the village staff of a fixture village (admin elsewhere).
func (f *fixture) staffAt(village int64) *access.Principal {
	switch village {
	case villageA:
		return f.villageStaffA
	case villageB:
		return f.villageStaffB
	case fx.ShaxianVillage:
		return f.villageStaffSX
	}
	return f.admin
}

// seat is an appointment for newBody: a fixture resident's name and a post
// of the kind.
type seat struct{ name, post string }

// newBody creates a body of kind at village (as its village staff), its
// term starting on start (YYYY-MM-DD, "" today), and appoints seats from
// the term's start.
func (f *fixture) newBody(village int64, kind, name, start string, seats ...seat) governance.Body {
	f.t.Helper()
	p := f.staffAt(village)
	b, err := f.svc.CreateBody(f.ctx, p, governance.BodyInput{Division: village, Kind: kind, Name: name, TermStart: start})
	if err != nil {
		f.t.Fatalf("create %s: %v", kind, err)
	}
	for _, s := range seats {
		if _, err := f.svc.AddMember(f.ctx, p, b.ID, governance.MemberInput{ResidentID: f.res(s.name).ID, Post: s.post,
			Since: calendar.FormatDay(b.TermStart)}); err != nil {
			f.t.Fatalf("appoint %s as %s: %v", s.name, s.post, err)
		}
	}
	b, err = f.svc.GetBody(f.ctx, p, b.ID)
	if err != nil {
		f.t.Fatal(err)
	}
	return b
}

// representatives is a representatives' meeting of villageA with the first
// n adult residents of villagersA as members from 2026-01-01.
func (f *fixture) representatives(n int) governance.Body {
	f.t.Helper()
	var seats []seat
	for _, r := range f.residentsA {
		if len(seats) == n {
			break
		}
		if r.AgeOn(20260101) >= 18 {
			seats = append(seats, seat{r.Name, "representative"})
		}
	}
	if len(seats) < n {
		f.t.Fatalf("only %d adults", len(seats))
	}
	return f.newBody(villageA, "representatives", "门楼社区居民代表会议", "2026-01-01", seats...)
}

// holdMeeting schedules a meeting of body b on day (YYYYMMDD, not after the
// clock's day) and records its attendance: the first present members of
// the day present, the others absent.
func (f *fixture) holdMeeting(b governance.Body, day, present int) governance.Meeting {
	f.t.Helper()
	p := f.staffAt(b.Division)
	m, err := f.svc.Schedule(f.ctx, p, governance.MeetingInput{BodyID: b.ID, Title: b.Name + "会议", Day: calendar.FormatDay(day),
		Start: "19:30", Place: "社区议事厅"})
	if err != nil {
		f.t.Fatalf("schedule: %v", err)
	}
	members, err := f.svc.MeetingMembers(f.ctx, p, m.ID)
	if err != nil {
		f.t.Fatal(err)
	}
	in := make([]governance.AttendanceInput, len(members))
	for i, mb := range members {
		in[i] = governance.AttendanceInput{MemberID: mb.ID, Status: governance.AttendAbsent}
		if i < present {
			in[i].Status = governance.AttendPresent
		}
	}
	if m, err = f.svc.RecordAttendance(f.ctx, p, m.ID, in); err != nil {
		f.t.Fatalf("attendance: %v", err)
	}
	return m
}
