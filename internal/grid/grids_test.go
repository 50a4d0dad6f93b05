package grid_test

import (
	"encoding/json"
	"errors"
	"math"
	"os"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/shequ-platform/shequ/internal/grid"
	"github.com/shequ-platform/shequ/internal/platform/access"
	"github.com/shequ-platform/shequ/internal/platform/db"
	"github.com/shequ-platform/shequ/internal/platform/db/dbtest"
	"github.com/shequ-platform/shequ/internal/platform/geo"
	"github.com/shequ-platform/shequ/internal/platform/i18n"
	"github.com/shequ-platform/shequ/internal/registry"
)

// ggHousehold registers a household at div (a village or a grid) with its
// head, positioned at (lat, lon) unless lat is 0.
func (f *fixture) ggHousehold(div int64, number, address, houseNo string, lat, lon float64, head string) registry.Household {
	f.t.Helper()
	in := registry.HouseholdInput{Division: div, Number: number, Address: address, HouseNo: houseNo}
	if lat != 0 {
		in.Lat, in.Lon = strconv.FormatFloat(lat, 'f', -1, 64), strconv.FormatFloat(lon, 'f', -1, 64)
	}
	h, err := f.reg.CreateHousehold(f.ctx, f.admin, in)
	if err != nil {
		f.t.Fatalf("household %s: %v", number, err)
	}
	if head != "" {
		f.ggMember(h.ID, head, "head", false)
	}
	return h
}

// ggMember registers a member of a household.
func (f *fixture) ggMember(household int64, name, relation string, party bool) registry.Resident {
	f.t.Helper()
	r, err := f.reg.Register(f.ctx, f.admin, registry.ResidentInput{HouseholdID: household, Name: name, Gender: "F", Birth: "1968-05-06",
		Residency: registry.Registered, Ethnicity: "汉", Relation: relation, PartyMember: party})
	if err != nil {
		f.t.Fatalf("resident %s: %v", name, err)
	}
	return r
}

func (f *fixture) ggHouseholdGrid(id int64) int64 {
	f.t.Helper()
	h, _, err := f.reg.Household(f.ctx, f.admin, id)
	if err != nil {
		f.t.Fatal(err)
	}
	return h.Grid
}

// ggVillageA is village A's households for the assignment tests: four
// with addresses, building numbers and household numbers, the first and
// last positioned (the first inside ggSquare, the last outside).
type ggVillageA struct {
	h1, h2, h3, h4 registry.Household
	party          registry.Resident // a party member of h1
}

// ggSquare is a square outline around (31.58, 120.35), in 锡山区.
const ggSquare = `{"type":"Polygon","coordinates":[[[120.349,31.579],[120.351,31.579],[120.351,31.581],[120.349,31.581],[120.349,31.579]]]}`

func (f *fixture) ggVillage() ggVillageA {
	f.t.Helper()
	var v ggVillageA
	v.h1 = f.ggHousehold(villageA, "001", "门楼新村3幢", "101", 31.58, 120.35, "王秀英")
	v.party = f.ggMember(v.h1.ID, "王建国", "spouse", true)
	v.h2 = f.ggHousehold(villageA, "002", "门楼新村13幢", "202", 0, 0, "李桂兰")
	v.h3 = f.ggHousehold(villageA, "003", "东亭路8号", "3-2", 0, 0, "张丽")
	v.h4 = f.ggHousehold(villageA, "００４", "东亭路10号", "", 31.60, 120.40, "刘芳")
	return v
}

func ggIDs(rows []registry.HouseholdRow) []int64 {
	out := make([]int64, len(rows))
	for i, r := range rows {
		out[i] = r.ID
	}
	slices.Sort(out)
	return out
}

func ggSorted(ids ...int64) []int64 {
	slices.Sort(ids)
	return ids
}

func TestAssignHouseholdsByEachWay(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		f := newFixture(t, d)
		v := f.ggVillage()
		sel := func(mode, text string, to int64) grid.Selection {
			return grid.Selection{Village: villageA, Mode: mode, Text: text, Grid: to}
		}
		preview := func(s grid.Selection) grid.Preview {
			t.Helper()
			pv, err := f.svc.PreviewAssign(f.ctx, f.villageStaff, s, 20)
			if err != nil {
				t.Fatalf("preview %+v: %v", s, err)
			}
			if len(pv.Rows) != pv.Total {
				t.Fatalf("preview %+v: %d rows of %d", s, len(pv.Rows), pv.Total)
			}
			return pv
		}
		for _, c := range []struct {
			mode, text string
			want       []int64
		}{
			{grid.SelectAddress, "东亭路", []int64{v.h3.ID, v.h4.ID}},
			{grid.SelectBuilding, "3幢", []int64{v.h1.ID}},                   // not 13幢
			{grid.SelectBuilding, "３", []int64{v.h1.ID, v.h3.ID}},           // 3幢 in the address, 3-2 the house number
			{grid.SelectNumbers, "001\n\n004\n", []int64{v.h1.ID, v.h4.ID}}, // full-width ００４ as typed at registration
			{grid.SelectNoGrid, "", []int64{v.h1.ID, v.h2.ID, v.h3.ID, v.h4.ID}},
		} {
			if got := ggIDs(preview(sel(c.mode, c.text, f.gridA1)).Rows); !slices.Equal(got, ggSorted(c.want...)) {
				t.Errorf("%s %q: %v, want %v", c.mode, c.text, got, c.want)
			}
		}
		// a pasted list reports the lines naming no household of the village
		pv := preview(sel(grid.SelectNumbers, "001\n999\n\n002", f.gridA1))
		if len(pv.Unknown) != 1 || pv.Unknown[0] != (grid.NumberLine{Line: 2, Number: "999"}) || pv.Total != 2 {
			t.Fatalf("unknown lines: %+v", pv)
		}

		// a selection changed since the preview is refused, nothing moves
		_, err := f.svc.Assign(f.ctx, f.villageStaff, sel(grid.SelectBuilding, "3", f.gridA1), 3)
		wantFieldError(t, err, "text:grids_assign_changed")
		if f.ggHouseholdGrid(v.h1.ID) != 0 {
			t.Fatal("moved despite the refusal")
		}

		// the party member's link follows the household
		if _, err := f.svc.LinkParty(f.ctx, f.villageStaff, grid.PartyInput{ResidentID: v.party.ID, HouseholdID: v.h3.ID}); err != nil {
			t.Fatal(err)
		}
		n, err := f.svc.Assign(f.ctx, f.villageStaff, sel(grid.SelectBuilding, "3", f.gridA1), 2)
		if err != nil || n != 2 {
			t.Fatalf("assign by building: %d %v", n, err)
		}
		for _, h := range []registry.Household{v.h1, v.h3} {
			if g := f.ggHouseholdGrid(h.ID); g != f.gridA1 {
				t.Fatalf("household %s on %d", h.Number, g)
			}
		}
		// members follow, with their facts and history
		if r, err := f.reg.Get(f.ctx, f.admin, v.party.ID); err != nil || r.Division != f.gridA1 {
			t.Fatalf("member: %+v %v", r, err)
		}
		if got := f.sum(registry.MetricPopulation, f.gridA1); got != 3 {
			t.Fatalf("population of grid A1: %d", got)
		}
		if got := f.sum(registry.MetricPopulation, villageA); got != 5 {
			t.Fatalf("population of village A: %d", got)
		}
		links, err := f.svc.PartyLinks(f.ctx, f.villageStaff, f.gridA1)
		if err != nil || len(links) != 1 || links[0].Division != f.gridA1 || links[0].Member != "王建国" {
			t.Fatalf("links on grid A1: %+v %v", links, err)
		}
		if f.count(`SELECT COUNT(*) FROM audit_log WHERE entity = 'household' AND action = 'update'`) != 2 {
			t.Fatal("one audit entry per household moved")
		}

		// only those on no grid yet; those already there are left alone
		if got := ggIDs(preview(sel(grid.SelectNoGrid, "", f.gridA2)).Rows); !slices.Equal(got, ggSorted(v.h2.ID, v.h4.ID)) {
			t.Fatalf("no grid: %v", got)
		}
		s := sel(grid.SelectAddress, "门楼新村", f.gridA2)
		s.NoGridOK = true
		if got := ggIDs(preview(s).Rows); !slices.Equal(got, []int64{v.h2.ID}) {
			t.Fatalf("address, on no grid only: %v", got)
		}
		if n, err := f.svc.Assign(f.ctx, f.villageStaff, sel(grid.SelectNumbers, "001\n003", f.gridA1), -1); err != nil || n != 0 {
			t.Fatalf("already there: %d %v", n, err)
		}

		// by outline: the households whose point lies inside it
		if _, err := f.svc.SetOutline(f.ctx, f.villageStaff, f.gridA2, []byte(ggSquare), geo.WGS84); err != nil {
			t.Fatal(err)
		}
		if got := ggIDs(preview(sel(grid.SelectOutline, "", f.gridA2)).Rows); !slices.Equal(got, []int64{v.h1.ID}) {
			t.Fatalf("outline: %v", got)
		}
		if n, err := f.svc.Assign(f.ctx, f.villageStaff, sel(grid.SelectOutline, "", f.gridA2), 1); err != nil || n != 1 || f.ggHouseholdGrid(v.h1.ID) != f.gridA2 {
			t.Fatalf("assign by outline: %d %v", n, err)
		}
		_, err = f.svc.PreviewAssign(f.ctx, f.villageStaff, sel(grid.SelectOutline, "", f.gridA1), 20)
		wantFieldError(t, err, "grid:grids_assign_no_outline")

		// off every grid
		if n, err := f.svc.Assign(f.ctx, f.villageStaff, sel(grid.SelectNumbers, "001\n003", 0), 2); err != nil || n != 2 {
			t.Fatalf("off the grids: %d %v", n, err)
		}
		if f.ggHouseholdGrid(v.h1.ID) != 0 || f.sum(registry.MetricPopulation, f.gridA1)+f.sum(registry.MetricPopulation, f.gridA2) != 0 {
			t.Fatal("still on a grid")
		}
		if links, _ := f.svc.PartyLinks(f.ctx, f.villageStaff, villageA); len(links) != 1 || links[0].Division != villageA {
			t.Fatalf("link after taking the household off: %+v", links)
		}

		// input problems
		for _, c := range []struct {
			s    grid.Selection
			want string
		}{
			{sel(grid.SelectAddress, " ", f.gridA1), "text:grids_assign_text"},
			{sel(grid.SelectBuilding, "", f.gridA1), "text:grids_assign_building"},
			{sel(grid.SelectNumbers, "\n \n", f.gridA1), "text:grids_assign_numbers"},
			{sel("teleport", "x", f.gridA1), "mode:grids_assign_mode"},
			{sel(grid.SelectNoGrid, "", f.gridB1), "grid:grids_assign_grid"}, // another village's grid
			{sel(grid.SelectNoGrid, "", villageA+999), "grid:grids_assign_grid"},
			{sel(grid.SelectOutline, "", 0), "grid:grids_assign_outline_grid"},
		} {
			_, err := f.svc.PreviewAssign(f.ctx, f.villageStaff, c.s, 20)
			wantFieldError(t, err, c.want)
			_, err = f.svc.Assign(f.ctx, f.villageStaff, c.s, -1)
			wantFieldError(t, err, c.want)
		}
		_, err = f.svc.Assign(f.ctx, f.villageStaff, sel(grid.SelectAddress, "没有这条路", f.gridA1), -1)
		wantFieldError(t, err, "text:grids_assign_none")
	})
}

func TestAssignStaysInScope(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		f := newFixture(t, d)
		v := f.ggVillage()
		hb := f.ggHousehold(villageB, "001", "吼山路1号", "", 0, 0, "赵敏")
		sel := grid.Selection{Village: villageA, Mode: grid.SelectNoGrid, Grid: f.gridA1}

		// another village's or township's staff: not found, audited
		for _, p := range []*access.Principal{f.villageStaffB, f.townStaffB} {
			if _, err := f.svc.PreviewAssign(f.ctx, p, sel, 20); !errors.Is(err, db.ErrNotFound) {
				t.Fatalf("%s preview: %v", p.Username, err)
			}
			if _, err := f.svc.Assign(f.ctx, p, sel, -1); !errors.Is(err, db.ErrNotFound) {
				t.Fatalf("%s assign: %v", p.Username, err)
			}
			rows, total, err := f.reg.HouseholdsIn(f.ctx, p, villageA, villageA+999, registry.HouseholdFilter{})
			if err != nil || total != 0 || len(rows) != 0 {
				t.Fatalf("%s sees village A's households: %d %v", p.Username, total, err)
			}
		}
		if f.count(`SELECT COUNT(*) FROM audit_log WHERE action = 'denied'`) == 0 {
			t.Fatal("refusals are audited")
		}
		// a grid worker sees the grid, manages nothing
		if _, err := f.svc.PreviewAssign(f.ctx, f.workerA1, sel, 20); !errors.Is(err, db.ErrNotFound) {
			t.Fatalf("worker: %v", err)
		}
		// a viewer of the county sees, may not assign
		if _, err := f.svc.Assign(f.ctx, f.viewer, sel, -1); !errors.Is(err, grid.ErrForbidden) {
			t.Fatalf("viewer: %v", err)
		}
		// the registry call checks on its own: another village's household
		// cannot be moved onto A's grid, nor reached outside the scope
		if _, err := f.reg.AssignGrid(f.ctx, f.admin, []int64{hb.ID}, f.gridA1); err == nil {
			t.Fatal("a household of village B onto a grid of A")
		}
		if _, err := f.reg.AssignGrid(f.ctx, f.villageStaff, []int64{v.h1.ID, hb.ID}, f.gridA1); !errors.Is(err, db.ErrNotFound) {
			t.Fatalf("village A's staff moving B's household: %v", err)
		}
		if _, err := f.reg.AssignGrid(f.ctx, f.workerA1, []int64{v.h1.ID}, f.gridA1); !errors.Is(err, registry.ErrForbidden) {
			t.Fatalf("grid worker: %v", err)
		}
		if f.ggHouseholdGrid(v.h1.ID) != 0 || f.ggHouseholdGrid(hb.ID) != 0 {
			t.Fatal("a refused assignment moved a household")
		}
		// the township of A may
		if n, err := f.svc.Assign(f.ctx, f.townStaffA, sel, 4); err != nil || n != 4 {
			t.Fatalf("township A: %d %v", n, err)
		}
	})
}

func TestGridListAndWorkers(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		f := newFixture(t, d)
		v := f.ggVillage()
		if _, err := f.svc.Assign(f.ctx, f.villageStaff, grid.Selection{Village: villageA, Mode: grid.SelectBuilding, Text: "3", Grid: f.gridA1}, -1); err != nil {
			t.Fatal(err)
		}
		lat, lon := 31.58, 120.35
		if _, err := f.svc.ReportIncident(f.ctx, f.workerA1, grid.Report{Division: f.gridA1, Category: catDrain, Description: "雨水口堵塞", Lat: &lat, Lon: &lon}); err != nil {
			t.Fatal(err)
		}
		gl, err := f.svc.Grids(f.ctx, f.townStaffA, townA)
		if err != nil {
			t.Fatal(err)
		}
		if len(gl.Villages) != 2 || len(gl.Grids) != 2 {
			t.Fatalf("town A: %d villages, %d grids", len(gl.Villages), len(gl.Grids))
		}
		a1 := gl.Grids[0]
		if a1.Code != f.gridA1 || a1.Households != 2 || a1.Residents != 3 || a1.Workers != 1 || a1.OpenIncidents != 1 || a1.Outline {
			t.Fatalf("grid A1: %+v", a1)
		}
		if va := gl.Villages[0]; va.Code != villageA || va.Grids != 2 || va.UnplacedHouseholds != 2 || va.UnplacedResidents != 2 {
			t.Fatalf("village A: %+v", va)
		}
		if _, err := f.svc.Grids(f.ctx, f.townStaffB, villageA); !errors.Is(err, db.ErrNotFound) {
			t.Fatalf("another township: %v", err)
		}
		if _, err := f.svc.Grids(f.ctx, f.countyStaff, county); err == nil {
			t.Fatal("a county's grids in one list")
		}
		ws, err := f.svc.Workers(f.ctx, f.viewer, f.gridA1)
		if err != nil || len(ws) != 1 || ws[0].Username != "workera1" {
			t.Fatalf("workers: %+v %v", ws, err)
		}
		if _, err := f.svc.Grid(f.ctx, f.workerA2, f.gridA1); !errors.Is(err, db.ErrNotFound) {
			t.Fatalf("the next grid's worker: %v", err)
		}
		_ = v
	})
}

func TestChiefsAndPartyLinks(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		f := newFixture(t, d)
		onA1 := f.ggHousehold(f.gridA1, "101", "门楼新村1幢", "101", 0, 0, "陈静")
		chief := f.ggMember(onA1.ID, "陈国强", "spouse", true)
		onA2 := f.ggHousehold(f.gridA2, "201", "门楼新村2幢", "101", 0, 0, "周敏")
		unplaced := f.ggHousehold(villageA, "301", "东亭路1号", "", 0, 0, "吴霞")
		onB := f.ggHousehold(f.gridB1, "101", "吼山路2号", "", 0, 0, "郑洁")
		memberB := f.ggMember(onB.ID, "郑伟", "spouse", true)
		headA2 := f.residentOf(onA2.ID)

		add := func(p *access.Principal, in grid.ChiefInput) error {
			_, err := f.svc.AddChief(f.ctx, p, f.gridA1, in)
			return err
		}
		for _, c := range []struct {
			in   grid.ChiefInput
			want string
		}{
			{grid.ChiefInput{Kind: "mayor", ResidentID: chief.ID}, "kind:grids_chief_kind"},
			{grid.ChiefInput{Kind: "building", ResidentID: headA2.ID}, "resident:grids_chief_other_grid"},
			{grid.ChiefInput{Kind: "building", ResidentID: memberB.ID}, "resident:grids_resident_unknown"}, // outside the scope
			{grid.ChiefInput{Kind: "building"}, "resident:grids_resident_required"},
			{grid.ChiefInput{Kind: "building", ResidentID: chief.ID, Area: strings.Repeat("楼", 51)}, "area:grids_too_long"},
			{grid.ChiefInput{Kind: "building", ResidentID: chief.ID, Since: "2999-01-01"}, "since:grids_date"},
		} {
			wantFieldError(t, add(f.villageStaff, c.in), c.want)
		}
		if err := add(f.workerA1, grid.ChiefInput{Kind: "building", ResidentID: chief.ID}); !errors.Is(err, grid.ErrForbidden) {
			t.Fatalf("grid worker: %v", err)
		}
		if err := add(f.villageStaffB, grid.ChiefInput{Kind: "building", ResidentID: chief.ID}); !errors.Is(err, db.ErrNotFound) {
			t.Fatalf("another village: %v", err)
		}
		in := grid.ChiefInput{Kind: "building", ResidentID: chief.ID, Area: "1幢", Since: "2025-03-01"}
		if err := add(f.villageStaff, in); err != nil {
			t.Fatal(err)
		}
		wantFieldError(t, add(f.villageStaff, in), "resident:grids_chief_duplicate")
		if err := add(f.villageStaff, grid.ChiefInput{Kind: "street", ResidentID: f.residentOf(unplaced.ID).ID, Area: "东亭路"}); err != nil {
			t.Fatalf("a resident of the village on no grid yet: %v", err)
		}
		cs, err := f.svc.Chiefs(f.ctx, f.villageStaff, f.gridA1)
		if err != nil || len(cs) != 2 || cs[0].Kind != "street" || cs[1].Name != "陈国强" || cs[1].Since != 20250301 {
			t.Fatalf("chiefs: %+v %v", cs, err)
		}
		// the county's viewer sees the grid, not who the residents are
		cs, err = f.svc.Chiefs(f.ctx, f.viewer, f.gridA1)
		if err != nil || len(cs) != 2 || cs[0].Name != "" || cs[1].Name != "" {
			t.Fatalf("viewer: %+v %v", cs, err)
		}
		if err := f.svc.RemoveChief(f.ctx, f.workerA1, f.gridA1, cs[0].ID); !errors.Is(err, grid.ErrForbidden) {
			t.Fatalf("worker removes: %v", err)
		}
		if err := f.svc.RemoveChief(f.ctx, f.villageStaff, f.gridA2, cs[0].ID); !errors.Is(err, db.ErrNotFound) {
			t.Fatalf("through another grid: %v", err)
		}
		if err := f.svc.RemoveChief(f.ctx, f.villageStaff, f.gridA1, cs[0].ID); err != nil {
			t.Fatal(err)
		}

		// party members and the households they keep in touch with
		link := func(p *access.Principal, member, household int64) error {
			_, err := f.svc.LinkParty(f.ctx, p, grid.PartyInput{ResidentID: member, HouseholdID: household})
			return err
		}
		wantFieldError(t, link(f.villageStaff, headA2.ID, onA1.ID), "member:grids_party_not_member")
		wantFieldError(t, link(f.admin, memberB.ID, onA1.ID), "member:grids_party_other_village")
		wantFieldError(t, link(f.admin, chief.ID, onB.ID), "member:grids_party_other_village")
		wantFieldError(t, link(f.villageStaff, chief.ID, onB.ID), "household:grids_household_unknown")
		if err := link(f.workerA1, chief.ID, onA1.ID); !errors.Is(err, grid.ErrForbidden) {
			t.Fatalf("worker links: %v", err)
		}
		if err := link(f.villageStaff, chief.ID, onA2.ID); err != nil {
			t.Fatal(err)
		}
		wantFieldError(t, link(f.villageStaff, chief.ID, onA2.ID), "household:grids_party_duplicate")
		ls, err := f.svc.PartyLinks(f.ctx, f.villageStaff, f.gridA2)
		if err != nil || len(ls) != 1 || ls[0].Member != "陈国强" || !strings.Contains(ls[0].Household, "门楼新村2幢") {
			t.Fatalf("links of A2: %+v %v", ls, err)
		}
		if ls, _ := f.svc.PartyLinks(f.ctx, f.villageStaff, f.gridA1); len(ls) != 0 {
			t.Fatalf("links of A1: %+v", ls)
		}
		if _, err := f.svc.PartyLinks(f.ctx, f.villageStaffB, f.gridA2); !errors.Is(err, db.ErrNotFound) {
			t.Fatalf("another village: %v", err)
		}
		if err := f.svc.UnlinkParty(f.ctx, f.villageStaffB, ls[0].ID); !errors.Is(err, db.ErrNotFound) {
			t.Fatalf("another village unlinks: %v", err)
		}
		if err := f.svc.UnlinkParty(f.ctx, f.villageStaff, ls[0].ID); err != nil {
			t.Fatal(err)
		}
		if f.count(`SELECT COUNT(*) FROM party_links`) != 0 {
			t.Fatal("not unlinked")
		}
	})
}

// residentOf is a household's first member.
func (f *fixture) residentOf(household int64) registry.Resident {
	f.t.Helper()
	_, ms, err := f.reg.Household(f.ctx, f.admin, household)
	if err != nil || len(ms) == 0 {
		f.t.Fatalf("household %d: %v", household, err)
	}
	return ms[0]
}

func TestParseOutline(t *testing.T) {
	square := `[[120.349,31.579],[120.351,31.579],[120.351,31.581],[120.349,31.581],[120.349,31.579]]`
	hole := `[[120.3499,31.5799],[120.3501,31.5799],[120.3501,31.5801],[120.3499,31.5801],[120.3499,31.5799]]`
	far := `[[120.40,31.60],[120.41,31.60],[120.41,31.61],[120.40,31.60]]`
	for _, c := range []struct {
		name, text string
		want       string // error code, or "" with polygons
		polygons   int
	}{
		{"not json", `{"type":`, "grids_outline_json", 0},
		{"empty", "  ", "grids_outline_empty", 0},
		{"a point", `{"type":"Point","coordinates":[120.35,31.58]}`, "grids_outline_type", 0},
		{"a line in a collection", `{"type":"FeatureCollection","features":[{"type":"Feature","geometry":{"type":"LineString","coordinates":[[120,31],[121,31]]}}]}`, "grids_outline_type", 0},
		{"feature without geometry", `{"type":"Feature","geometry":null,"properties":{}}`, "grids_outline_type", 0},
		{"ring not closed", `{"type":"Polygon","coordinates":[[[120.349,31.579],[120.351,31.579],[120.351,31.581],[120.349,31.581]]]}`, "grids_outline_ring", 0},
		{"ring too short", `{"type":"Polygon","coordinates":[[[120.349,31.579],[120.351,31.579],[120.349,31.579]]]}`, "grids_outline_ring", 0},
		{"positions as text", `{"type":"Polygon","coordinates":[[["120.349","31.579"]]]}`, "grids_outline_json", 0},
		{"outside China", `{"type":"Polygon","coordinates":[[[2.29,48.85],[2.30,48.85],[2.30,48.86],[2.29,48.85]]]}`, "grids_outline_outside", 0},
		{"latitude first", `{"type":"Polygon","coordinates":[[[31.579,120.349],[31.579,120.351],[31.581,120.351],[31.579,120.349]]]}`, "grids_outline_outside", 0},
		{"web mercator", `{"type":"Polygon","crs":{"type":"name","properties":{"name":"urn:ogc:def:crs:EPSG::3857"}},"coordinates":[[` + square[1:len(square)-1] + `]]}`, "grids_outline_crs", 0},
		{"polygon", `{"type":"Polygon","coordinates":[` + square + `]}`, "", 1},
		{"with altitude and CGCS2000", `{"type":"Polygon","crs":{"type":"name","properties":{"name":"EPSG:4490"}},"coordinates":[[[120.349,31.579,5],[120.351,31.579,5],[120.351,31.581,5],[120.349,31.579,5]]]}`, "", 1},
		{"feature", `{"type":"Feature","properties":{"name":"第一网格"},"geometry":{"type":"Polygon","coordinates":[` + square + `]}}`, "", 1},
		{"collection merged", `{"type":"FeatureCollection","features":[{"type":"Feature","geometry":{"type":"Polygon","coordinates":[` + square + `,` + hole + `]}},{"type":"Feature","geometry":{"type":"MultiPolygon","coordinates":[[` + far + `]]}}]}`, "", 2},
	} {
		o, err := grid.ParseOutline([]byte(c.text), geo.WGS84)
		if c.want != "" {
			wantFieldError(t, err, "outline:"+c.want)
			continue
		}
		if err != nil || len(o) != c.polygons {
			t.Errorf("%s: %d polygons, %v", c.name, len(o), err)
		}
	}
	big := `{"type":"Polygon","coordinates":[[` + strings.Repeat(`[120.349,31.579],`, grid.MaxOutline/17) + `[120.349,31.579]]]}`
	_, err := grid.ParseOutline([]byte(big), geo.WGS84)
	wantFieldError(t, err, "outline:grids_outline_too_large")

	// holes are outside; the other polygon inside
	o, err := grid.ParseOutline([]byte(`{"type":"MultiPolygon","coordinates":[[`+square+`,`+hole+`],[`+far+`]]}`), geo.WGS84)
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		lat, lon float64
		in       bool
	}{{31.5795, 120.3495, true}, {31.58, 120.35, false}, {31.6005, 120.4080, true}, {31.5, 120.35, false}} {
		if o.Contains(c.lat, c.lon) != c.in {
			t.Errorf("Contains(%v, %v) = %v", c.lat, c.lon, !c.in)
		}
	}
	b, _ := json.Marshal(o)
	if !strings.HasPrefix(string(b), `{"type":"MultiPolygon","coordinates":[[[[120.349,31.579]`) {
		t.Fatalf("GeoJSON: %.80s", b)
	}

	// drawn on a GCJ-02 map: stored in WGS-84
	gLat, gLon := geo.ToGCJ02(31.58, 120.35)
	ring := func(lat, lon float64) string {
		p := func(a, b float64) string {
			return "[" + strconv.FormatFloat(lon+b, 'f', -1, 64) + "," + strconv.FormatFloat(lat+a, 'f', -1, 64) + "]"
		}
		return `{"type":"Polygon","coordinates":[[` + p(0, 0) + `,` + p(0, 0.001) + `,` + p(0.001, 0.001) + `,` + p(0, 0) + `]]}`
	}
	o, err = grid.ParseOutline([]byte(ring(gLat, gLon)), geo.GCJ02)
	if err != nil {
		t.Fatal(err)
	}
	if got := o[0][0][0]; math.Abs(got[0]-120.35) > 1e-6 || math.Abs(got[1]-31.58) > 1e-6 || o[0][0][3] != got {
		t.Fatalf("GCJ-02 → WGS-84: %v", o[0][0])
	}
}

func TestOutlineStoredAndScoped(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		f := newFixture(t, d)
		if _, err := f.svc.SetOutline(f.ctx, f.workerA1, f.gridA1, []byte(ggSquare), geo.WGS84); !errors.Is(err, grid.ErrForbidden) {
			t.Fatalf("worker: %v", err)
		}
		if _, err := f.svc.SetOutline(f.ctx, f.villageStaffB, f.gridA1, []byte(ggSquare), geo.WGS84); !errors.Is(err, db.ErrNotFound) {
			t.Fatalf("another village: %v", err)
		}
		_, err := f.svc.SetOutline(f.ctx, f.villageStaff, f.gridA1, []byte(`{"type":"Point","coordinates":[120.35,31.58]}`), geo.WGS84)
		wantFieldError(t, err, "outline:grids_outline_type")
		if _, err := f.svc.OutlineOf(f.ctx, f.villageStaff, f.gridA1); !errors.Is(err, db.ErrNotFound) {
			t.Fatalf("nothing stored: %v", err)
		}
		for i := 0; i < 2; i++ { // the second replaces the first
			if _, err := f.svc.SetOutline(f.ctx, f.villageStaff, f.gridA1, []byte(ggSquare), geo.WGS84); err != nil {
				t.Fatal(err)
			}
		}
		o, err := f.svc.OutlineOf(f.ctx, f.workerA1, f.gridA1)
		if err != nil || len(o) != 1 || !o.Contains(31.58, 120.35) {
			t.Fatalf("outline: %v %v", o, err)
		}
		if _, err := f.svc.OutlineOf(f.ctx, f.workerA2, f.gridA1); !errors.Is(err, db.ErrNotFound) {
			t.Fatalf("the next grid's worker: %v", err)
		}
		if err := f.svc.RemoveOutline(f.ctx, f.villageStaff, f.gridA1); err != nil {
			t.Fatal(err)
		}
		if f.count(`SELECT COUNT(*) FROM grid_outlines`) != 0 || f.count(`SELECT COUNT(*) FROM audit_log WHERE entity = 'grid_outline'`) != 3 {
			t.Fatal("outline rows or audit entries")
		}
	})
}

func TestMapData(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		f := newFixture(t, d)
		v := f.ggVillage()
		if _, err := f.svc.SetOutline(f.ctx, f.villageStaff, f.gridA1, []byte(ggSquare), geo.WGS84); err != nil {
			t.Fatal(err)
		}
		lat, lon := 31.5801, 120.3502
		in, err := f.svc.ReportIncident(f.ctx, f.workerA1, grid.Report{Division: f.gridA1, Category: catDrain, Description: "雨水口堵塞", Lat: &lat, Lon: &lon})
		if err != nil {
			t.Fatal(err)
		}
		f.do(f.villageStaff, in.ID, grid.Action{Kind: grid.ActRegister})
		f.do(f.villageStaff, in.ID, grid.Action{Kind: grid.ActDispatch, Level: grid.LevelVillage})
		f.report(f.workerA1, f.gridA1, catRubbish) // no position: not on the map
		f.now = f.now.Add(20 * 24 * time.Hour)     // past the two working days, the National Day holiday included

		features := func(p *access.Principal, q grid.MapQuery) map[string][]grid.Feature {
			t.Helper()
			fc, err := f.svc.MapData(f.ctx, p, q)
			if err != nil {
				t.Fatalf("map %+v: %v", q, err)
			}
			out := map[string][]grid.Feature{}
			for _, ft := range fc.Features {
				l := ft.Properties["layer"].(string)
				out[l] = append(out[l], ft)
			}
			return out
		}
		all := features(f.villageStaff, grid.MapQuery{Unit: villageA, Locale: "zh-CN"})
		if len(all[grid.LayerOutlines]) != 1 || len(all[grid.LayerIncidents]) != 1 || len(all[grid.LayerHouseholds]) != 2 {
			t.Fatalf("layers: %d outlines, %d incidents, %d households", len(all[grid.LayerOutlines]), len(all[grid.LayerIncidents]), len(all[grid.LayerHouseholds]))
		}
		ip := all[grid.LayerIncidents][0].Properties
		if ip["number"] != in.Number || ip["state"] != grid.StateDispatched || ip["overdue"] != true || ip["category"] != "排水设施堵塞" ||
			ip["href"] != "/grid/incidents/"+strconv.FormatInt(in.ID, 10) {
			t.Fatalf("incident: %v", ip)
		}
		if en := features(f.villageStaff, grid.MapQuery{Unit: villageA, Layers: []string{grid.LayerIncidents}, Locale: "en"}); en[grid.LayerIncidents][0].Properties["category"] != "Blocked drain" {
			t.Fatalf("English: %v", en[grid.LayerIncidents][0].Properties)
		}
		// households: where and which, never who
		for _, ft := range all[grid.LayerHouseholds] {
			var keys []string
			for k := range ft.Properties {
				keys = append(keys, k)
			}
			slices.Sort(keys)
			if !slices.Equal(keys, []string{"address", "href", "id", "layer"}) {
				t.Fatalf("household properties: %v", keys)
			}
		}
		body, _ := json.Marshal(all)
		for _, name := range []string{"王秀英", "王建国", "刘芳"} {
			if strings.Contains(string(body), name) {
				t.Fatalf("a name on the map: %s", name)
			}
		}
		h1 := all[grid.LayerHouseholds][0]
		if c := ggCoords(t, h1); h1.Properties["id"] != v.h1.ID || c != [2]float64{120.35, 31.58} {
			t.Fatalf("household h1: %v at %v", h1.Properties, c)
		}

		// layers asked for, and only households of a village or grid to whom may see them
		only := features(f.villageStaff, grid.MapQuery{Unit: villageA, Layers: []string{grid.LayerOutlines}})
		if len(only) != 1 || len(only[grid.LayerOutlines]) != 1 {
			t.Fatalf("outlines only: %v", only)
		}
		if town := features(f.townStaffA, grid.MapQuery{Unit: townA}); len(town[grid.LayerHouseholds]) != 0 || len(town[grid.LayerIncidents]) != 1 {
			t.Fatalf("township: %v", town)
		}
		if viewer := features(f.viewer, grid.MapQuery{Unit: villageA}); len(viewer[grid.LayerHouseholds]) != 0 || len(viewer[grid.LayerOutlines]) != 1 {
			t.Fatalf("viewer: %v", viewer)
		}
		if worker := features(f.workerA2, grid.MapQuery{Unit: f.gridA2}); len(worker[grid.LayerIncidents]) != 0 || len(worker[grid.LayerOutlines]) != 0 {
			t.Fatalf("the next grid's worker: %v", worker)
		}
		if _, err := f.svc.MapData(f.ctx, f.townStaffB, grid.MapQuery{Unit: villageA}); !errors.Is(err, db.ErrNotFound) {
			t.Fatalf("another township: %v", err)
		}

		// GCJ-02 tiles: every position converted on the server
		gcj := features(f.villageStaff, grid.MapQuery{Unit: villageA, GCJ02: true})
		wantLat, wantLon := geo.ToGCJ02(lat, lon)
		if c := ggCoords(t, gcj[grid.LayerIncidents][0]); math.Abs(c[0]-wantLon) > 1e-6 || math.Abs(c[1]-wantLat) > 1e-6 {
			t.Fatalf("incident in GCJ-02: %v, want %v %v", c, wantLon, wantLat)
		}
		b, _ := json.Marshal(gcj[grid.LayerOutlines][0].Geometry)
		var poly struct{ Coordinates [][][2]float64 }
		_ = json.Unmarshal(b, &poly)
		oLat, oLon := geo.ToGCJ02(31.579, 120.349)
		if c := poly.Coordinates[0][0]; math.Abs(c[0]-oLon) > 1e-6 || math.Abs(c[1]-oLat) > 1e-6 {
			t.Fatalf("outline in GCJ-02: %v", c)
		}

		// closed within RecentDays: drawn; long closed: not
		f.do(f.villageStaff, in.ID, grid.Action{Kind: grid.ActHandle, Note: "已疏通"})
		f.do(f.workerA1, in.ID, grid.Action{Kind: grid.ActVerify})
		f.do(f.villageStaff, in.ID, grid.Action{Kind: grid.ActClose})
		if m := features(f.villageStaff, grid.MapQuery{Unit: villageA, Layers: []string{grid.LayerIncidents}}); len(m[grid.LayerIncidents]) != 1 ||
			m[grid.LayerIncidents][0].Properties["open"] != false {
			t.Fatalf("recently closed: %v", m)
		}
		f.now = f.now.Add((grid.RecentDays + 1) * 24 * time.Hour)
		if m := features(f.villageStaff, grid.MapQuery{Unit: villageA, Layers: []string{grid.LayerIncidents}}); len(m[grid.LayerIncidents]) != 0 {
			t.Fatalf("closed long ago: %v", m)
		}
	})
}

// ggCoords is a point feature's [longitude, latitude].
func ggCoords(t *testing.T, ft grid.Feature) [2]float64 {
	t.Helper()
	b, err := json.Marshal(ft.Geometry)
	if err != nil {
		t.Fatal(err)
	}
	var pt struct {
		Type        string
		Coordinates [2]float64
	}
	if err := json.Unmarshal(b, &pt); err != nil || pt.Type != "Point" {
		t.Fatalf("not a point: %s", b)
	}
	return pt.Coordinates
}

// TestGridsErrorCodesTranslated checks that every error code grids.go and
// http_grids.go produce (grid.error.<code>, built at run time) is in both
// catalogues.
func TestGridsErrorCodesTranslated(t *testing.T) {
	re := regexp.MustCompile(`"(grids_[a-z_]+)"`)
	seen := 0
	for _, file := range []string{"grids.go", "http_grids.go", "http_map.go"} {
		b, err := os.ReadFile(file)
		if err != nil {
			t.Fatal(err)
		}
		for _, m := range re.FindAllStringSubmatch(string(b), -1) {
			seen++
			for _, loc := range i18n.Locales() {
				if !i18n.Has(loc, "grid.error."+m[1]) {
					t.Errorf("%s: grid.error.%s is missing from %s", file, m[1], loc)
				}
			}
		}
	}
	if seen < 20 {
		t.Fatalf("only %d codes found: the pattern is broken", seen)
	}
}
