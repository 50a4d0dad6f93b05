// Package demo builds the demonstration jurisdiction: 锡山区 (320205) with
// its 9 townships and 120 villages and communities from the NBS 2016 list
// (see README.md for the source), a few grids per village, and one account
// per role, each scoped to its own subtree.
package demo

import (
	"bytes"
	"context"
	_ "embed"
	"fmt"
	"math/rand"

	"github.com/shequ-platform/shequ/internal/division"
	"github.com/shequ-platform/shequ/internal/platform/access"
	"github.com/shequ-platform/shequ/internal/platform/audit"
	"github.com/shequ-platform/shequ/internal/platform/db"
)

//go:embed xishan-2016.csv
var xishanCSV []byte

// County is the demo county, 锡山区; Township is the demo township account's
// scope, 羊尖镇, a rural town of the county.
const (
	County   int64 = 320205_000_000_000
	Township int64 = 320205_102_000_000
)

// Account is one demo login.
type Account struct {
	Username, Role string
	Division       int64
	DivisionName   string
}

// Options tune the demo.
type Options struct {
	Password string // for every demo account
	Seed     int64  // makes the grid layout reproducible
}

const markerKey = "demo.built"

// Built reports whether the database already holds the demo.
func Built(ctx context.Context, d *db.DB) bool {
	var n int
	_ = d.QueryRow(ctx, "SELECT COUNT(*) FROM settings WHERE key = ?", markerKey).Scan(&n)
	return n > 0
}

var gridNames = []string{"第一网格", "第二网格", "第三网格", "第四网格", "第五网格"}

// Build fills an empty database with the demo jurisdiction and returns the
// accounts. Everything goes through the services, so the audit log and the
// facts are what real use would produce.
func Build(ctx context.Context, divs *division.Service, acc *access.Service, opt Options) ([]Account, error) {
	d := divs.DB
	ctx = audit.WithActor(ctx, audit.Actor{Name: "demo", Client: "cli"})
	if err := ImportDivisions(ctx, divs); err != nil {
		return nil, err
	}
	system := &access.Principal{Username: "demo", Assignments: []access.Assignment{{Role: "system_admin", Division: 0}}}
	rnd := rand.New(rand.NewSource(opt.Seed))
	towns, err := divs.Store.Children(ctx, County, false)
	if err != nil {
		return nil, err
	}
	var village, grid division.Division
	for _, t := range towns {
		villages, err := divs.Store.Children(ctx, t.Code, false)
		if err != nil {
			return nil, err
		}
		for _, v := range villages {
			n := 2 + rnd.Intn(3) // 2–4 grids a village
			for i := 0; i < n; i++ {
				g, err := divs.CreateSub(ctx, system, v.Code, division.KindGrid, gridNames[i])
				if err != nil {
					return nil, fmt.Errorf("demo grid under %s: %w", v.Name, err)
				}
				if t.Code == Township && village.Code == 0 {
					village, grid = v, g
				}
			}
		}
	}
	if village.Code == 0 {
		return nil, fmt.Errorf("demo: township %d has no villages", Township)
	}
	town, _ := divs.Store.Get(ctx, Township)
	county, _ := divs.Store.Get(ctx, County)
	accounts := []Account{
		{"admin", "system_admin", 0, "全国"},
		{"county", "county_staff", County, county.Name},
		{"town", "township_staff", Township, town.Name},
		{"village", "village_staff", village.Code, village.Name},
		{"grid", "grid_worker", grid.Code, village.Name + grid.Name},
		{"viewer", "viewer", County, county.Name},
	}
	names := map[string]string{"admin": "演示管理员", "county": "区民政局干部", "town": "镇便民服务中心", "village": "村便民服务窗口", "grid": "网格员", "viewer": "只读观察员"}
	for _, a := range accounts {
		if _, err := acc.CreateUser(ctx, nil, access.NewUser{Username: a.Username, DisplayName: names[a.Username], Password: opt.Password,
			Role: a.Role, Division: a.Division}); err != nil {
			return nil, fmt.Errorf("demo account %s: %w", a.Username, err)
		}
	}
	if _, err := d.Exec(ctx, "INSERT INTO settings (key, value) VALUES (?, ?)", markerKey, fmt.Sprint(opt.Seed)); err != nil {
		return nil, err
	}
	return accounts, nil
}

// ImportDivisions imports the embedded 锡山区 division list.
func ImportDivisions(ctx context.Context, divs *division.Service) error {
	if _, err := divs.Import(ctx, bytes.NewReader(xishanCSV), division.ImportOptions{}); err != nil {
		return fmt.Errorf("demo divisions: %w", err)
	}
	return nil
}

// Accounts lists the demo logins of an already built demo.
func Accounts(ctx context.Context, acc *access.Service, divs *division.Store) []Account {
	var out []Account
	for _, n := range []string{"admin", "county", "town", "village", "grid", "viewer"} {
		u, err := acc.UserByName(ctx, n)
		if err != nil || len(u.Assignments) == 0 {
			continue
		}
		a := Account{Username: n, Role: u.Assignments[0].Role, Division: u.Assignments[0].Division, DivisionName: "全国"}
		if dv, err := divs.Get(ctx, a.Division); err == nil {
			a.DivisionName = dv.Name
		}
		out = append(out, a)
	}
	return out
}
