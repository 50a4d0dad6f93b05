package mediation_test

import (
	"context"
	"io/fs"
	"slices"
	"strings"
	"testing"
	"testing/fstest"
	"time"

	"github.com/shequ-platform/shequ/internal/division"
	fx "github.com/shequ-platform/shequ/internal/fixture"
	"github.com/shequ-platform/shequ/internal/grid/mediation"
	"github.com/shequ-platform/shequ/internal/platform/access"
	"github.com/shequ-platform/shequ/internal/platform/audit"
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

// testGrid is the grid.yaml the tests give the xishan-2008 pack, whatever
// the shipped pack holds, so the tests know the dispute types.
const testGrid = `groups:
  - {key: disputes, kind: event, label: {zh-CN: 矛盾纠纷, en: Disputes}}
categories:
  - code: TEST-MD-01
    name: {zh-CN: 邻里纠纷, en: Neighbour dispute}
    group: disputes
    level: village
    time_limit: 5
dispute_types:
  - {key: neighbour, label: {zh-CN: 邻里纠纷, en: Neighbours}}
  - {key: family, label: {zh-CN: 婚姻家庭纠纷, en: Marriage and family}}
  - {key: land, label: {zh-CN: 土地山林纠纷, en: Land and forest}}
`

// packsWith loads the shipped packs with xishan-2008's grid.yaml replaced
// by grid ("": none, so the test county has no dispute types).
func packsWith(t testing.TB, grid string) *policy.Set {
	t.Helper()
	m := fstest.MapFS{}
	err := fs.WalkDir(policypacks.FS, ".", func(p string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() || p == "xishan-2008/grid.yaml" {
			return err
		}
		b, err := fs.ReadFile(policypacks.FS, p)
		m[p] = &fstest.MapFile{Data: b}
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	if grid != "" {
		m["xishan-2008/grid.yaml"] = &fstest.MapFile{Data: []byte(grid)}
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
	svc   *mediation.Service
	now   time.Time
	packs *policy.Set

	admin, countyStaff, townStaffA, townStaffB, villageStaff, gridWorker, viewer *access.Principal
	// residents of 门楼社区 (villageA) with phones and ID numbers, in a household
	zhang, li registry.Resident
	// a resident of 吼山社区 (villageB, township B)
	wang registry.Resident
}

var china = time.FixedZone("CST", 8*3600)

// ID numbers with a valid check digit (GB 11643): 张三 and an outsider, both male.
var (
	idZhang    = validID("32020519800131123")
	idOutsider = validID("32020519900101123")
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

func newFixture(t *testing.T, d *db.DB) *fixture {
	return newFixtureWith(t, d, testGrid)
}

func newFixtureWith(t *testing.T, d *db.DB, grid string) *fixture {
	t.Helper()
	ctx := audit.WithActor(context.Background(), audit.Actor{ID: 7, Name: "clerk", Client: "test"})
	al := &audit.Log{DB: d}
	acc := access.New(d, al, access.Config{})
	divs := division.NewService(d, al, acc)
	if _, err := divs.Import(ctx, strings.NewReader(fx.DivisionsCSV), division.ImportOptions{}); err != nil {
		t.Fatal(err)
	}
	packs := packsWith(t, grid)
	keys, err := pii.New(fx.Keys)
	if err != nil {
		t.Fatal(err)
	}
	reg := registry.NewService(d, al, acc, keys, divs.Store, packs)
	f := &fixture{t: t, ctx: ctx, d: d, acc: acc, reg: reg, keys: keys, divs: divs, packs: packs,
		svc: mediation.NewService(d, al, acc, keys, divs.Store, packs, reg),
		now: time.Date(2026, 9, 30, 10, 0, 0, 0, china)}
	f.svc.SetClock(func() time.Time { return f.now })
	mk := func(name, role string, div int64) *access.Principal {
		u, err := acc.CreateUser(ctx, nil, access.NewUser{Username: name, DisplayName: name + "名", Password: "Correct-Horse-9-battery", Role: role, Division: div})
		if err != nil {
			t.Fatal(err)
		}
		p, err := acc.PrincipalOf(ctx, u.ID)
		if err != nil {
			t.Fatal(err)
		}
		return p
	}
	f.admin = mk("admin", "system_admin", 0)
	f.countyStaff = mk("county", "county_staff", county)
	f.townStaffA = mk("towna", "township_staff", townA)
	f.townStaffB = mk("townb", "township_staff", townB)
	f.villageStaff = mk("village", "village_staff", villageA)
	f.gridWorker = mk("grid", "grid_worker", villageA)
	f.viewer = mk("viewer", "viewer", townA)

	h, err := reg.CreateHousehold(ctx, f.admin, registry.HouseholdInput{Division: villageA, Number: "A-8", Address: "门楼路8号"})
	if err != nil {
		t.Fatal(err)
	}
	if f.zhang, err = reg.Register(ctx, f.admin, registry.ResidentInput{HouseholdID: h.ID, Name: "张三", IDNumber: idZhang,
		Phone: "13812345678", Residency: "registered", Relation: "head"}); err != nil {
		t.Fatal(err)
	}
	if f.li, err = reg.Register(ctx, f.admin, registry.ResidentInput{Division: villageA, Name: "李四", IDNumber: validID("32020519750505222"),
		Phone: "13987654321", Residency: "registered"}); err != nil {
		t.Fatal(err)
	}
	if f.wang, err = reg.Register(ctx, f.admin, registry.ResidentInput{Division: villageB, Name: "王五", Gender: "男", Birth: "1970-01-01",
		Residency: "registered"}); err != nil {
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

// input is a valid registration at villageA: 张三 (a resident) against an
// outsider with an ID number and a phone.
func (f *fixture) input() mediation.Input {
	return mediation.Input{Unit: villageA, Type: "neighbour", Summary: "两家因院墙排水沟堵塞发生争执，多次协商未果。",
		Mediators: []string{"赵调解、钱调解"}, Parties: []mediation.PartyInput{
			{Side: mediation.SideApplicant, ResidentID: f.zhang.ID},
			{Side: mediation.SideRespondent, Name: "孙六", IDNumber: idOutsider, Phone: "139 1111 2222", Address: "吼山路3号"},
		}}
}

func (f *fixture) register(p *access.Principal, in mediation.Input) mediation.Dispute {
	f.t.Helper()
	d, err := f.svc.Register(f.ctx, p, in)
	if err != nil {
		f.t.Fatalf("register: %v", err)
	}
	return d
}

func (f *fixture) do(p *access.Principal, id int64, a mediation.Action) mediation.Dispute {
	f.t.Helper()
	d, err := f.svc.Do(f.ctx, p, id, a)
	if err != nil {
		f.t.Fatalf("%s: %v", a.Kind, err)
	}
	return d
}

// settle is a complete settlement.
var settle = mediation.Action{Kind: mediation.ActSettle, Outcome: "经调解，双方自愿达成协议。",
	Agreement: "一、孙六于十日内疏通排水沟；\n二、疏通费用由双方各承担一半。", Performance: "孙六于2026年10月10日前完成疏通，费用当场结清。"}

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
