package registry_test

import (
	"errors"
	"slices"
	"testing"

	"github.com/shequ-platform/shequ/internal/platform/db"
	"github.com/shequ-platform/shequ/internal/platform/db/dbtest"
	"github.com/shequ-platform/shequ/internal/registry"
)

// gridHouseholds registers households of village A for the grid tests,
// each with its head; the first two positioned.
func (f *regFixture) gridHouseholds() []registry.Household {
	f.t.Helper()
	var out []registry.Household
	for i, h := range []struct {
		number, address, houseNo, lat, head string
	}{
		{"A-01", "门楼新村3幢", "101", "31.58", "王秀英"},
		{"A-02", "门楼新村13幢", "202", "31.59", "李桂兰"},
		{"ａ-03", "东亭路8号", "3-2", "", "张丽"}, // a full-width letter, as typed
		{"", "东亭路B栋", "", "", "刘芳"},
	} {
		in := registry.HouseholdInput{Division: regVillageA, Number: h.number, Address: h.address, HouseNo: h.houseNo}
		if h.lat != "" {
			in.Lat, in.Lon = h.lat, "120.35"
		}
		hh := f.household(f.admin, in)
		ri := regIn(h.head, "F", "1970-01-0"+string(rune('1'+i)), regVillageA)
		ri.HouseholdID, ri.Relation, ri.PartyMember = hh.ID, "head", i == 0
		f.register(f.admin, ri)
		out = append(out, hh)
	}
	return out
}

func rowIDs(rows []registry.HouseholdRow) []int64 {
	out := make([]int64, len(rows))
	for i, r := range rows {
		out[i] = r.ID
	}
	slices.Sort(out)
	return out
}

func TestHouseholdsInFilters(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		f := newRegFixture(t, d)
		hs := f.gridHouseholds()
		lo, hi := regVillageA, regVillageA+999
		for _, c := range []struct {
			name string
			f    registry.HouseholdFilter
			want []int64
		}{
			{"all", registry.HouseholdFilter{}, []int64{hs[0].ID, hs[1].ID, hs[2].ID, hs[3].ID}},
			{"address", registry.HouseholdFilter{Address: "东亭路"}, []int64{hs[2].ID, hs[3].ID}},
			{"address, any case", registry.HouseholdFilter{Address: "b栋"}, []int64{hs[3].ID}},
			{"building in the address", registry.HouseholdFilter{Building: "3幢"}, []int64{hs[0].ID}},
			{"building number", registry.HouseholdFilter{Building: "3"}, []int64{hs[0].ID, hs[2].ID}},
			{"building, full width", registry.HouseholdFilter{Building: "１３"}, []int64{hs[1].ID}},
			{"building letter", registry.HouseholdFilter{Building: "b"}, []int64{hs[3].ID}},
			{"no match inside a word", registry.HouseholdFilter{Building: "0"}, []int64{}},
			{"numbers", registry.HouseholdFilter{Numbers: []string{" A-01 ", "a-03", "Z-99"}}, []int64{hs[0].ID, hs[2].ID}},
			{"empty list", registry.HouseholdFilter{Numbers: []string{}}, []int64{}},
		} {
			rows, total, err := f.svc.HouseholdsIn(f.ctx, f.village, lo, hi, c.f)
			if err != nil {
				t.Fatalf("%s: %v", c.name, err)
			}
			if got := rowIDs(rows); total != len(c.want) || !slices.Equal(got, c.want) {
				t.Errorf("%s: %v (%d), want %v", c.name, got, total, c.want)
			}
		}
		// paging, heads and members
		rows, total, err := f.svc.HouseholdsIn(f.ctx, f.village, lo, hi, registry.HouseholdFilter{Limit: 3, Offset: 3})
		if err != nil || total != 4 || len(rows) != 1 {
			t.Fatalf("second page: %d of %d, %v", len(rows), total, err)
		}
		heads := map[int64]string{hs[0].ID: "王秀英", hs[2].ID: "张丽"}
		var paged []int64
		for offset := 0; offset < 3; offset++ {
			rows, total, _ := f.svc.HouseholdsIn(f.ctx, f.village, lo, hi, registry.HouseholdFilter{Building: "3", Limit: 1, Offset: offset})
			if total != 2 || len(rows) != min(1, 2-offset) {
				t.Fatalf("building, page %d: %+v of %d", offset, rows, total)
			}
			for _, r := range rows {
				if r.Head != heads[r.ID] || r.Members != 1 {
					t.Fatalf("row: %+v", r)
				}
				paged = append(paged, r.ID)
			}
		}
		if slices.Sort(paged); !slices.Equal(paged, []int64{hs[0].ID, hs[2].ID}) {
			t.Fatalf("pages: %v", paged)
		}
		// the scope: another township sees none, a grid worker only its grid
		if _, total, _ := f.svc.HouseholdsIn(f.ctx, f.townB, lo, hi, registry.HouseholdFilter{}); total != 0 {
			t.Fatalf("township B sees %d", total)
		}
		if _, total, _ := f.svc.HouseholdsIn(f.ctx, f.grid, lo, hi, registry.HouseholdFilter{}); total != 0 {
			t.Fatalf("the grid worker sees %d households on no grid", total)
		}
		ids, err := f.svc.HouseholdIDs(f.ctx, f.village, lo, hi, registry.HouseholdFilter{Building: "3"}, 1)
		if err != nil || len(ids) != 2 {
			t.Fatalf("ids, at most max+1: %v %v", ids, err)
		}
		found, err := f.svc.HouseholdNumbers(f.ctx, f.village, regVillageA, []string{"A-01", "ａ-03", "Z-99"})
		if err != nil || !found["A-01"] || !found["a-03"] || found["Z-99"] || len(found) != 2 {
			t.Fatalf("numbers: %v %v", found, err)
		}
		if h, err := f.svc.HouseholdByNumber(f.ctx, f.village, regVillageA, "a-03"); err != nil || h.ID != hs[2].ID {
			t.Fatalf("by number: %v %v", h, err)
		}
		if _, err := f.svc.HouseholdByNumber(f.ctx, f.townB, regVillageA, "A-01"); !errors.Is(err, db.ErrNotFound) {
			t.Fatalf("by number outside the scope: %v", err)
		}
	})
}

func TestAssignGrid(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		f := newRegFixture(t, d)
		hs := f.gridHouseholds()
		spouse := regIn("王建国", "M", "1969-02-03", regVillageA)
		spouse.HouseholdID, spouse.Relation = hs[0].ID, "spouse"
		sp := f.register(f.admin, spouse)

		n, err := f.svc.AssignGrid(f.ctx, f.village, []int64{hs[0].ID, hs[1].ID, hs[0].ID}, regGridA1)
		if err != nil || n != 2 {
			t.Fatalf("assign: %d %v", n, err)
		}
		r, err := f.svc.Get(f.ctx, f.admin, sp.ID)
		if err != nil || r.Division != regGridA1 {
			t.Fatalf("member: %+v %v", r, err)
		}
		if got := f.sum(registry.MetricPopulation, regGridA1); got != 3 {
			t.Fatalf("population of A1: %d", got)
		}
		if got := f.sum(registry.MetricPopulation, regVillageA); got != 5 {
			t.Fatalf("population of A: %d", got)
		}
		evs, _ := f.svc.History(f.ctx, f.admin, sp.ID)
		if last := evs[len(evs)-1]; last.Kind != registry.EventTransfer || last.FromDivision != regVillageA || last.ToDivision != regGridA1 {
			t.Fatalf("event: %+v", last)
		}
		if got := len(f.auditOf("household", hs[0].ID, "update")); got != 1 {
			t.Fatalf("audit entries: %d", got)
		}
		// those on the grid already are left alone
		if n, err := f.svc.AssignGrid(f.ctx, f.village, []int64{hs[0].ID}, regGridA1); err != nil || n != 0 {
			t.Fatalf("again: %d %v", n, err)
		}
		// a grid worker sees, may not move; another township sees nothing
		if _, err := f.svc.AssignGrid(f.ctx, f.grid, []int64{hs[0].ID}, regGridA1); !errors.Is(err, registry.ErrForbidden) {
			t.Fatalf("grid worker: %v", err)
		}
		if _, err := f.svc.AssignGrid(f.ctx, f.townB, []int64{hs[2].ID}, 0); !errors.Is(err, db.ErrNotFound) {
			t.Fatalf("township B: %v", err)
		}
		// not a grid, or a retired one, or a grid of another village
		for _, g := range []int64{regVillageA, regVillageA + 999} {
			_, err := f.svc.AssignGrid(f.ctx, f.admin, []int64{hs[2].ID}, g)
			regWantFieldError(t, err, "grid:division_unknown")
		}
		bh := f.household(f.admin, registry.HouseholdInput{Division: regVillageB, Address: "吼山路1号"})
		_, err = f.svc.AssignGrid(f.ctx, f.admin, []int64{hs[2].ID, bh.ID}, regGridA1)
		regWantFieldError(t, err, "households:household_other_village")
		_, err = f.svc.AssignGrid(f.ctx, f.admin, []int64{hs[2].ID, bh.ID}, 0)
		regWantFieldError(t, err, "households:household_other_village")
		_, err = f.svc.AssignGrid(f.ctx, f.admin, []int64{hs[2].ID, 987654}, regGridA1)
		regWantFieldError(t, err, "households:household_unknown")
		if h, _, _ := f.svc.Household(f.ctx, f.admin, hs[2].ID); h.Grid != 0 {
			t.Fatal("a refused assignment moved a household")
		}
		// off the grid: back to the village
		if n, err := f.svc.AssignGrid(f.ctx, f.village, []int64{hs[0].ID}, 0); err != nil || n != 1 {
			t.Fatalf("off the grid: %d %v", n, err)
		}
		if got := f.sum(registry.MetricPopulation, regGridA1); got != 1 {
			t.Fatalf("population of A1 after: %d", got)
		}
	})
}

func TestGridCountsPointsAndPartyMembers(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		f := newRegFixture(t, d)
		hs := f.gridHouseholds()
		if _, err := f.svc.AssignGrid(f.ctx, f.admin, []int64{hs[0].ID, hs[1].ID}, regGridA1); err != nil {
			t.Fatal(err)
		}
		c, err := f.svc.CountsIn(f.ctx, f.viewer, regTownA, regTownA+999_999)
		if err != nil {
			t.Fatal(err)
		}
		if c[regGridA1] != (registry.UnitCount{Households: 2, Residents: 2}) || c[regVillageA] != (registry.UnitCount{Households: 2, Residents: 2}) || len(c) != 2 {
			t.Fatalf("counts: %+v", c)
		}
		if c, err := f.svc.CountsIn(f.ctx, f.viewer, regGridA1, regGridA1); err != nil || c[regGridA1].Households != 2 || len(c) != 1 {
			t.Fatalf("one grid: %+v %v", c, err)
		}
		if _, err := f.svc.CountsIn(f.ctx, f.townB, regTownA, regTownA+999_999); !errors.Is(err, db.ErrNotFound) {
			t.Fatalf("township B: %v", err)
		}
		pts, err := f.svc.HouseholdPoints(f.ctx, f.grid, regVillageA, regVillageA+999, 0)
		if err != nil || len(pts) != 2 || pts[0].ID != hs[0].ID || pts[0].Address != "门楼新村3幢101" || pts[0].Division != regGridA1 || pts[0].Lat != 31.58 {
			t.Fatalf("points: %+v %v", pts, err)
		}
		if pts, _ := f.svc.HouseholdPoints(f.ctx, f.viewer, regVillageA, regVillageA+999, 0); len(pts) != 0 {
			t.Fatalf("the viewer (no resident.view): %+v", pts)
		}
		ms, err := f.svc.PartyMembers(f.ctx, f.village, regVillageA, regVillageA+999, 0)
		if err != nil || len(ms) != 1 || ms[0].Name != "王秀英" {
			t.Fatalf("party members: %+v %v", ms, err)
		}
		if ms, _ := f.svc.PartyMembers(f.ctx, f.townB, regVillageA, regVillageA+999, 0); len(ms) != 0 {
			t.Fatalf("township B: %+v", ms)
		}
		_, members, _ := f.svc.Household(f.ctx, f.admin, hs[2].ID)
		_, onGrid, _ := f.svc.Household(f.ctx, f.admin, hs[0].ID)
		names, err := f.svc.ResidentNames(f.ctx, f.grid, []int64{members[0].ID, onGrid[0].ID})
		if err != nil || len(names) != 1 || names[onGrid[0].ID] != "王秀英" {
			t.Fatalf("names the grid worker sees: %v %v", names, err)
		}
	})
}
