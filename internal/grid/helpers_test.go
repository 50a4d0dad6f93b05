package grid_test

import (
	"context"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/shequ-platform/shequ/internal/division"
	fx "github.com/shequ-platform/shequ/internal/fixture"
	"github.com/shequ-platform/shequ/internal/grid"
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
// xishan-2008 pack whose grid.yaml gives the incident categories. Each
// fixture adds two grids to 门楼社区 (village A) and one to 吼山社区 (B).
const (
	county   = fx.County
	townA    = fx.TownA
	townB    = fx.TownB
	villageA = fx.VillageA
	villageC = fx.VillageC
	villageB = fx.VillageB
)

// Categories of the xishan pack used by the tests.
const (
	catDrain   = "XS-SJ-GY01" // village, 2 working days
	catCover   = "XS-SJ-GY02" // township, 1 working day
	catRoad    = "XS-SJ-DL01" // department, 10 working days
	catRubbish = "XS-SJ-HJ01" // village, 1 working day
)

type fixture struct {
	t     *testing.T
	ctx   context.Context
	d     *db.DB
	audit *audit.Log
	acc   *access.Service
	divs  *division.Service
	reg   *registry.Service
	svc   *grid.Service
	now   time.Time

	gridA1, gridA2, gridB1 int64 // grids of village A (two) and B (one)

	admin, countyStaff, townStaffA, townStaffB, villageStaff, villageStaffB *access.Principal
	workerA1, workerA2, workerB1                                            *access.Principal // grid workers of their grid
	officer                                                                 *access.Principal // special_groups_officer of town A
	viewer                                                                  *access.Principal // viewer of the county
}

var china = time.FixedZone("CST", 8*3600)

func newFixture(t *testing.T, d *db.DB) *fixture {
	t.Helper()
	ctx := audit.WithActor(context.Background(), audit.Actor{ID: 7, Name: "clerk", Client: "test"})
	al := &audit.Log{DB: d}
	acc := access.New(d, al, access.Config{})
	divs := division.NewService(d, al, acc)
	if _, err := divs.Import(ctx, strings.NewReader(fx.DivisionsCSV), division.ImportOptions{}); err != nil {
		t.Fatal(err)
	}
	packs, err := policy.Load(policypacks.FS)
	if err != nil {
		t.Fatal(err)
	}
	keys, err := pii.New(fx.Keys)
	if err != nil {
		t.Fatal(err)
	}
	reg := registry.NewService(d, al, acc, keys, divs.Store, packs)
	cal := calendar.NewCalendar(calendar.Shipped())
	days := func(context.Context) (*calendar.Calendar, error) { return cal, nil }
	f := &fixture{t: t, ctx: ctx, d: d, audit: al, acc: acc, divs: divs, reg: reg,
		svc: grid.NewService(d, al, acc, keys, divs.Store, packs, reg, days, t.TempDir()),
		now: time.Date(2026, 9, 30, 10, 0, 0, 0, china)} // a Wednesday before the National Day holiday
	f.svc.SetClock(func() time.Time { return f.now })
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
	sub := func(village int64, name string) int64 {
		d, err := divs.CreateSub(ctx, f.admin, village, "grid", name)
		if err != nil {
			t.Fatal(err)
		}
		return d.Code
	}
	f.gridA1, f.gridA2, f.gridB1 = sub(villageA, "第一网格"), sub(villageA, "第二网格"), sub(villageB, "第一网格")
	f.countyStaff = mk("county", "county_staff", county)
	f.townStaffA = mk("towna", "township_staff", townA)
	f.townStaffB = mk("townb", "township_staff", townB)
	f.villageStaff = mk("village", "village_staff", villageA)
	f.villageStaffB = mk("villageb", "village_staff", villageB)
	f.workerA1 = mk("workera1", "grid_worker", f.gridA1)
	f.workerA2 = mk("workera2", "grid_worker", f.gridA2)
	f.workerB1 = mk("workerb1", "grid_worker", f.gridB1)
	f.officer = mk("officer", "special_groups_officer", townA)
	f.viewer = mk("viewer", "viewer", county)
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

// sum is a metric's total over code's subtree, all periods.
func (f *fixture) sum(metric string, code int64) int64 {
	f.t.Helper()
	lo, hi := ids.Subtree(code)
	v, err := facts.Sum(f.ctx, f.d, metric, lo, hi, 0, 999999)
	if err != nil {
		f.t.Fatal(err)
	}
	return v
}

// report files a valid incident of category at the grid as its worker.
func (f *fixture) report(p *access.Principal, at int64, category string) grid.Incident {
	f.t.Helper()
	in, err := f.svc.ReportIncident(f.ctx, p, grid.Report{Division: at, Category: category, Description: "雨水口堵塞，积水约二十厘米"})
	if err != nil {
		f.t.Fatalf("report: %v", err)
	}
	return in
}

func (f *fixture) do(p *access.Principal, id int64, a grid.Action) grid.Incident {
	f.t.Helper()
	in, err := f.svc.Do(f.ctx, p, id, a)
	if err != nil {
		f.t.Fatalf("%s: %v", a.Kind, err)
	}
	return in
}

func fieldErrors(t *testing.T, err error) []string {
	t.Helper()
	codes, ok := field.Codes(err)
	if !ok {
		t.Fatalf("want grid.Errors, got %T %v", err, err)
	}
	return codes
}

func wantFieldError(t *testing.T, err error, want string) {
	t.Helper()
	if got := fieldErrors(t, err); !slices.Contains(got, want) {
		t.Fatalf("errors %q do not include %q", got, want)
	}
}

// jpeg is the smallest JPEG header http.DetectContentType accepts.
var jpeg = append([]byte{0xFF, 0xD8, 0xFF, 0xE0, 0x00, 0x10, 'J', 'F', 'I', 'F', 0x00}, make([]byte, 64)...)
