package window_test

import (
	"context"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/shequ-platform/shequ/internal/division"
	fx "github.com/shequ-platform/shequ/internal/fixture"
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
	"github.com/shequ-platform/shequ/internal/window"
	policypacks "github.com/shequ-platform/shequ/policy"
)

// The shared test jurisdiction (internal/fixture): 锡山区, bound by the
// xishan-2008 pack whose window.yaml is the catalogue.
const (
	winDivisionsCSV = fx.DivisionsCSV
	county          = fx.County
	townA           = fx.TownA
	townB           = fx.TownB
	villageA        = fx.VillageA
	villageC        = fx.VillageC
	villageB        = fx.VillageB
)

var keyFile = fx.Keys

type fixture struct {
	t     *testing.T
	ctx   context.Context
	d     *db.DB
	audit *audit.Log
	acc   *access.Service
	reg   *registry.Service
	svc   *window.Service
	now   time.Time

	admin, countyStaff, townStaffA, townStaffB, villageStaff *access.Principal
}

var china = time.FixedZone("CST", 8*3600)

func newFixture(t *testing.T, d *db.DB) *fixture {
	t.Helper()
	ctx := audit.WithActor(context.Background(), audit.Actor{ID: 7, Name: "clerk", Client: "test"})
	al := &audit.Log{DB: d}
	acc := access.New(d, al, access.Config{})
	divs := division.NewService(d, al, acc)
	if _, err := divs.Import(ctx, strings.NewReader(winDivisionsCSV), division.ImportOptions{}); err != nil {
		t.Fatal(err)
	}
	packs, err := policy.Load(policypacks.FS)
	if err != nil {
		t.Fatal(err)
	}
	keys, err := pii.New(keyFile)
	if err != nil {
		t.Fatal(err)
	}
	reg := registry.NewService(d, al, acc, keys, divs.Store, packs)
	cal := calendar.NewCalendar(calendar.Shipped())
	days := func(context.Context) (window.Calendar, error) { return cal, nil }
	f := &fixture{t: t, ctx: ctx, d: d, audit: al, acc: acc, reg: reg,
		svc: window.NewService(d, al, acc, keys, divs.Store, packs, reg, days, t.TempDir()),
		now: time.Date(2026, 9, 30, 10, 0, 0, 0, china)}
	window.SetNow(f.svc, func() time.Time { return f.now })
	// real accounts, so assignment can check a handler's roles
	mk := func(name, role string, div int64) *access.Principal {
		u, err := acc.CreateUser(ctx, nil, access.NewUser{Username: name, DisplayName: name, Password: "Correct-Horse-9-battery", Role: role, Division: div})
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

func (f *fixture) sum(metric string, code int64) int64 {
	f.t.Helper()
	lo, hi := ids.Subtree(code)
	v, err := facts.Sum(f.ctx, f.d, metric, lo, hi, 0, 999999)
	if err != nil {
		f.t.Fatal(err)
	}
	return v
}

func (f *fixture) do(p *access.Principal, id int64, a window.Action) window.Case {
	f.t.Helper()
	c, err := f.svc.Do(f.ctx, p, id, a)
	if err != nil {
		f.t.Fatalf("%s: %v", a.Kind, err)
	}
	return c
}

func fieldErrors(t *testing.T, err error) []string {
	t.Helper()
	codes, ok := field.Codes(err)
	if !ok {
		t.Fatalf("want window.Errors, got %T %v", err, err)
	}
	return codes
}

func wantFieldError(t *testing.T, err error, want string) {
	t.Helper()
	if got := fieldErrors(t, err); !slices.Contains(got, want) {
		t.Fatalf("errors %q do not include %q", got, want)
	}
}

// walkin is a valid intake of XS-BM-01 (3 working days, agency allowed).
func walkin(decision string) window.Intake {
	return window.Intake{Unit: villageA, ItemCode: "XS-BM-01", Channel: window.ChannelWindow, Name: "王小红", Phone: "138 1234 5678",
		Fields: map[string]string{"kind": "housing", "request": "出租一间房"}, Decision: decision}
}
