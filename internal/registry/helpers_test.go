package registry_test

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/shequ-platform/shequ/internal/division"
	fx "github.com/shequ-platform/shequ/internal/fixture"
	"github.com/shequ-platform/shequ/internal/platform/access"
	"github.com/shequ-platform/shequ/internal/platform/audit"
	"github.com/shequ-platform/shequ/internal/platform/db"
	"github.com/shequ-platform/shequ/internal/platform/facts"
	"github.com/shequ-platform/shequ/internal/platform/ids"
	"github.com/shequ-platform/shequ/internal/platform/pii"
	"github.com/shequ-platform/shequ/internal/platform/policy"
	"github.com/shequ-platform/shequ/internal/registry"
	"github.com/shequ-platform/shequ/internal/registry/idnum"
	policypacks "github.com/shequ-platform/shequ/policy"
)

// The shared test jurisdiction (internal/fixture): 锡山区 with two
// townships and three villages; two grids are created under 门楼社区.
const (
	regDivisionsCSV       = fx.DivisionsCSV
	regCounty             = fx.County
	regTownA              = fx.TownA        // 东亭街道
	regTownB              = fx.TownB        // 安镇街道
	regVillageA           = fx.VillageA     // 门楼社区, in A
	regVillageC           = fx.VillageC     // 柏庄社区, in A
	regVillageB           = fx.VillageB     // 吼山社区, in B
	regGridA1       int64 = regVillageA + 1 // 第一网格
	regGridA2       int64 = regVillageA + 2 // 第二网格
)

// regKeyFile is a fixed key file so lookups are the same in every run.
var regKeyFile = fx.Keys

// regFixture is a registry service on a fresh database with the fixture's
// divisions and principals.
type regFixture struct {
	t     *testing.T
	ctx   context.Context
	d     *db.DB
	audit *audit.Log
	keys  *pii.Keys
	svc   *registry.Service

	admin   *access.Principal // system_admin over the whole country
	county  *access.Principal // county_staff of 锡山区
	townA   *access.Principal // township_staff of 东亭街道
	townB   *access.Principal // township_staff of 安镇街道
	village *access.Principal // village_staff of 门楼社区 (no reveal)
	grid    *access.Principal // grid_worker of 第一网格 (view only)
	special *access.Principal // township_staff + special_groups_officer of 东亭街道
	officer *access.Principal // special_groups_officer of 东亭街道 only (no manage)
	viewer  *access.Principal // viewer of 锡山区 (division.view only)
}

var regPacks = func() func(t *testing.T) *policy.Set {
	var set *policy.Set
	var err error
	loaded := false
	return func(t *testing.T) *policy.Set {
		t.Helper()
		if !loaded {
			set, err = policy.Load(policypacks.FS)
			loaded = true
		}
		if err != nil {
			t.Fatalf("policy packs: %v", err)
		}
		return set
	}
}()

func regPrincipal(name string, as ...access.Assignment) *access.Principal {
	return &access.Principal{Username: name, DisplayName: name, Assignments: as}
}

func newRegFixture(t *testing.T, d *db.DB) *regFixture {
	t.Helper()
	ctx := audit.WithActor(context.Background(), audit.Actor{ID: 7, Name: "clerk", Client: "test"})
	al := &audit.Log{DB: d}
	acc := access.New(d, al, access.Config{})
	divs := division.NewService(d, al, acc)
	if _, err := divs.Import(ctx, strings.NewReader(regDivisionsCSV), division.ImportOptions{}); err != nil {
		t.Fatal(err)
	}
	sysadmin := regPrincipal("admin", access.Assignment{Role: "system_admin"})
	for _, name := range []string{"第一网格", "第二网格"} {
		if _, err := divs.CreateSub(ctx, sysadmin, regVillageA, division.KindGrid, name); err != nil {
			t.Fatal(err)
		}
	}
	if g, err := divs.Store.Get(ctx, regGridA2); err != nil || g.Level != 6 {
		t.Fatalf("grid %d: %+v %v", regGridA2, g, err)
	}
	keys, err := pii.New(regKeyFile)
	if err != nil {
		t.Fatal(err)
	}
	f := &regFixture{t: t, ctx: ctx, d: d, audit: al, keys: keys,
		svc:     registry.NewService(d, al, acc, keys, divs.Store, regPacks(t)),
		admin:   sysadmin,
		county:  regPrincipal("county", access.Assignment{Role: "county_staff", Division: regCounty}),
		townA:   regPrincipal("townA", access.Assignment{Role: "township_staff", Division: regTownA}),
		townB:   regPrincipal("townB", access.Assignment{Role: "township_staff", Division: regTownB}),
		village: regPrincipal("village", access.Assignment{Role: "village_staff", Division: regVillageA}),
		grid:    regPrincipal("grid", access.Assignment{Role: "grid_worker", Division: regGridA1}),
		special: regPrincipal("special", access.Assignment{Role: "township_staff", Division: regTownA},
			access.Assignment{Role: "special_groups_officer", Division: regTownA}),
		officer: regPrincipal("officer", access.Assignment{Role: "special_groups_officer", Division: regTownA}),
		viewer:  regPrincipal("viewer", access.Assignment{Role: "viewer", Division: regCounty}),
	}
	return f
}

// makeID builds a valid 18-character ID number from a 6-digit area, a
// YYYYMMDD birth date and a 3-digit sequence (odd: male).
func regID(area, birth, seq string) string {
	body := area + birth + seq
	return body + string(idnum.CheckDigit(body))
}

// makeIDEnding finds a sequence of the wanted sex whose check character is
// check (e.g. 'X').
func regIDEnding(area, birth string, male bool, check byte) string {
	for s := 100; s < 1000; s++ {
		if (s%2 == 1) != male {
			continue
		}
		if n := regID(area, birth, strconv.Itoa(s)); n[17] == check {
			return n
		}
	}
	panic("no sequence")
}

// in returns a complete valid input for a registered resident of the
// division (no ID number or phone: add them where needed).
func regIn(name, gender, birth string, division int64) registry.ResidentInput {
	return registry.ResidentInput{Division: division, Name: name, Gender: gender, Birth: birth, Residency: "户籍", Ethnicity: "汉"}
}

func (f *regFixture) register(p *access.Principal, ri registry.ResidentInput) registry.Resident {
	f.t.Helper()
	r, err := f.svc.Register(f.ctx, p, ri)
	if err != nil {
		f.t.Fatalf("Register %s: %v", ri.Name, err)
	}
	if r.ID == 0 {
		f.t.Fatalf("Register %s: no id", ri.Name)
	}
	return r
}

func (f *regFixture) household(p *access.Principal, hi registry.HouseholdInput) registry.Household {
	f.t.Helper()
	h, err := f.svc.CreateHousehold(f.ctx, p, hi)
	if err != nil {
		f.t.Fatalf("CreateHousehold %+v: %v", hi, err)
	}
	return h
}

// fieldErrors returns err's field errors as "field:code" strings, failing
// the test when err is not an Errors.
func regFieldErrors(t *testing.T, err error) []string {
	t.Helper()
	var es registry.Errors
	if !errors.As(err, &es) {
		t.Fatalf("want registry.Errors, got %T %v", err, err)
	}
	out := make([]string, len(es))
	for i, e := range es {
		out[i] = e.Field + ":" + e.Code
	}
	return out
}

func regWantFieldError(t *testing.T, err error, want string) {
	t.Helper()
	if got := regFieldErrors(t, err); !slices.Contains(got, want) {
		t.Fatalf("errors %q do not include %q", got, want)
	}
}

func (f *regFixture) count(q string, args ...any) int {
	f.t.Helper()
	var n int
	if err := f.d.QueryRow(f.ctx, q, args...).Scan(&n); err != nil {
		f.t.Fatalf("%s: %v", q, err)
	}
	return n
}

// sum is a fact summed over a subtree and every period.
func (f *regFixture) sum(metric string, code int64) int64 {
	f.t.Helper()
	lo, hi := ids.Subtree(code)
	v, err := facts.Sum(f.ctx, f.d, metric, lo, hi, 0, 999999)
	if err != nil {
		f.t.Fatal(err)
	}
	return v
}

// auditOf lists the audit entries of one resident with an action, newest
// first.
func (f *regFixture) auditOf(entity string, id int64, action string) []audit.Record {
	f.t.Helper()
	rs, err := f.audit.List(f.ctx, audit.Filter{Entity: entity, EntityID: strconv.FormatInt(id, 10), Action: action})
	if err != nil {
		f.t.Fatal(err)
	}
	return rs
}

func regNames(hits []registry.Hit) []string {
	out := make([]string, len(hits))
	for i, h := range hits {
		out[i] = h.Name
	}
	return out
}

func regHitIDs(hits []registry.Hit) []int64 {
	out := make([]int64, len(hits))
	for i, h := range hits {
		out[i] = h.ID
	}
	return out
}

func regDate(d int) string { return fmt.Sprintf("%04d-%02d-%02d", d/10000, d/100%100, d%100) }
