package demo

// Household positions: the demo registry's households get a point on the
// map (WGS-84), so the grid map shows them, incidents can be placed near
// them, and the registry's NearestVillage routes a position to its village
// (Open311) and refuses one outside the county.
//
// The layout is made up but plausible, and a pure function of the seed, the
// village, the grid and the household number (never of the order rows were
// written in): each township of 锡山区 is a disc around the real seat of its
// government (approximate WGS-84 coordinates, rounded to a few hundred
// metres), its villages spread evenly over the disc in a sunflower pattern,
// and each village's households scattered within about 600 m of the
// village's centre, each grid of the village a sector of that circle so a
// grid is one patch of the map. A township not in the table (another
// county) gets a disc inside the county's extent picked by hashing its
// code.

import (
	"cmp"
	"context"
	"fmt"
	"hash/fnv"
	"math"
	"slices"
	"strconv"

	"github.com/shequ-platform/shequ/internal/division"
	"github.com/shequ-platform/shequ/internal/platform/access"
	"github.com/shequ-platform/shequ/internal/platform/audit"
	"github.com/shequ-platform/shequ/internal/platform/geo"
	"github.com/shequ-platform/shequ/internal/registry"
)

// extent is the demo county's bounding box (锡山区, WGS-84): every point
// the layout gives lies inside it.
var extent = struct{ latLo, latHi, lonLo, lonHi float64 }{31.53, 31.75, 120.30, 120.62}

// townDisc is where a township's villages lie: a centre and a radius in
// kilometres.
type townDisc struct {
	lat, lon, km float64
}

// townDiscs are the townships of 锡山区 (2016 codes): the seats of their
// governments, approximately, and radii chosen so the discs hardly overlap.
var townDiscs = map[int64]townDisc{
	320205_001_000_000: {31.588, 120.362, 2.6}, // 东亭街道
	320205_002_000_000: {31.600, 120.462, 3.0}, // 安镇街道
	320205_003_000_000: {31.662, 120.368, 2.6}, // 东北塘街道
	320205_102_000_000: {31.640, 120.530, 3.8}, // 羊尖镇
	320205_103_000_000: {31.578, 120.560, 3.8}, // 鹅湖镇
	320205_105_000_000: {31.712, 120.408, 3.6}, // 锡北镇
	320205_106_000_000: {31.705, 120.495, 4.0}, // 东港镇
	320205_400_000_000: {31.648, 120.425, 3.0}, // 无锡锡山开发区 (云林, 厚桥)
	320205_401_000_000: {31.628, 120.485, 1.2}, // 锡山台湾农民创业园
}

const (
	metresPerDegLat = 111_000.0
	// villageMetres is the largest scatter of a village's households
	// around its centre.
	villageMetres = 600.0
)

// spot is where one village's households go.
type spot struct {
	centre geo.Point
	metres float64 // scatter radius
	turn   float64 // the direction the first grid's sector starts at (radians)
	grids  []int64 // in code order: grid i has sector i
}

// layout places the households of the demo's villages.
type layout struct {
	seed  uint64
	spots map[int64]spot
}

// newLayout lays out villages: each township's villages in code order on
// the township's disc.
func newLayout(seed int64, villages []Village) *layout {
	l := &layout{seed: uint64(seed), spots: map[int64]spot{}}
	byTown := map[int64][]Village{}
	var towns []int64
	for _, v := range villages {
		t := division.Truncate(v.Code, division.LevelTownship)
		if _, ok := byTown[t]; !ok {
			towns = append(towns, t)
		}
		byTown[t] = append(byTown[t], v)
	}
	slices.Sort(towns)
	const golden = 2.399963229728653 // the golden angle, radians
	for _, t := range towns {
		vs := byTown[t]
		slices.SortFunc(vs, func(a, b Village) int { return cmp.Compare(a.Code, b.Code) })
		disc := l.disc(t)
		n := float64(len(vs))
		spacing := disc.km * 1000 * math.Sqrt(math.Pi/n) // metres between neighbouring villages
		metres := math.Min(villageMetres, 0.45*spacing)
		turn0 := 2 * math.Pi * unitOf(mix(l.seed, uint64(t), 1))
		for i, v := range vs {
			// the sunflower (Vogel) pattern: even density over the disc
			r := disc.km * 1000 * math.Sqrt((float64(i)+0.5)/n)
			a := turn0 + float64(i)*golden
			// a little jitter, so the villages do not look drawn by a compass
			h := mix(l.seed, uint64(v.Code), 2)
			r += (unitOf(h) - 0.5) * 0.2 * spacing
			a += (unitOf(mix(h, 1)) - 0.5) * 0.3
			c := offset(geo.Point{Lat: disc.lat, Lon: disc.lon}, r*math.Sin(a), r*math.Cos(a))
			grids := slices.Clone(v.Grids)
			slices.Sort(grids)
			l.spots[v.Code] = spot{centre: c, metres: metres, turn: 2 * math.Pi * unitOf(mix(h, 2)), grids: grids}
		}
	}
	return l
}

// disc is a township's disc: from the table, else a hashed one inside the
// extent.
func (l *layout) disc(town int64) townDisc {
	if d, ok := townDiscs[town]; ok {
		return d
	}
	const km = 3.0
	mLat := km * 1000 / metresPerDegLat
	mLon := mLat / math.Cos(31.64*math.Pi/180)
	h := mix(l.seed, uint64(town), 3)
	return townDisc{
		lat: extent.latLo + mLat + unitOf(h)*(extent.latHi-extent.latLo-2*mLat),
		lon: extent.lonLo + mLon + unitOf(mix(h, 1))*(extent.lonHi-extent.lonLo-2*mLon),
		km:  km,
	}
}

// point is where the household numbered number (its 户号, or its id when
// it has none) of village lives, in grid (0: none).
func (l *layout) point(village, grid int64, number string) (geo.Point, bool) {
	s, ok := l.spots[village]
	if !ok {
		return geo.Point{}, false
	}
	f := fnv.New64a()
	f.Write([]byte(number))
	h := mix(l.seed, uint64(village), f.Sum64())
	a := 2 * math.Pi * unitOf(h)
	if i := slices.Index(s.grids, grid); i >= 0 {
		// the grid's sector, with a margin so neighbouring grids do not mix
		n := float64(len(s.grids))
		a = s.turn + 2*math.Pi*(float64(i)+0.08+0.84*unitOf(h))/n
	}
	r := math.Max(25, s.metres*math.Sqrt(unitOf(mix(h, 1))))
	p := offset(s.centre, r*math.Sin(a), r*math.Cos(a))
	p.Lat = math.Min(extent.latHi, math.Max(extent.latLo, p.Lat))
	p.Lon = math.Min(extent.lonHi, math.Max(extent.lonLo, p.Lon))
	return p, true
}

// near is a point a few metres to some tens of metres (up to metres) from
// p, in a direction and at a distance h picks.
func near(p geo.Point, h uint64, metres float64) geo.Point {
	a := 2 * math.Pi * unitOf(h)
	r := 3 + (metres-3)*unitOf(mix(h, 1))
	return offset(p, r*math.Sin(a), r*math.Cos(a))
}

// offset moves p east by dx and north by dy metres.
func offset(p geo.Point, dx, dy float64) geo.Point {
	return geo.Point{
		Lat: p.Lat + dy/metresPerDegLat,
		Lon: p.Lon + dx/(metresPerDegLat*math.Cos(p.Lat*math.Pi/180)),
	}
}

// mix hashes its arguments (splitmix64 steps).
func mix(xs ...uint64) uint64 {
	h := uint64(0x9e3779b97f4a7c15)
	for _, x := range xs {
		h ^= x
		h += 0x9e3779b97f4a7c15
		h = (h ^ h>>30) * 0xbf58476d1ce4e5b9
		h = (h ^ h>>27) * 0x94d049bb133111eb
		h ^= h >> 31
	}
	return h
}

// unitOf maps a hash to [0, 1).
func unitOf(h uint64) float64 { return float64(h>>11) / (1 << 53) }

// PlaceOptions control PlaceHouseholds.
type PlaceOptions struct {
	Seed int64 // same seed, same registry: same points
}

// PlaceStats counts what PlaceHouseholds did.
type PlaceStats struct {
	Households int // current households of the villages
	Placed     int // given a point now (the others had one)
}

// PlaceHouseholds gives every current household of villages that has no
// point yet one from the layout (see the top of this file), through the
// registry's UpdateHousehold, so each change is audited like a clerk's.
// Households that have a point keep it: running it again changes nothing.
func PlaceHouseholds(ctx context.Context, reg *registry.Service, villages []Village, o PlaceOptions) (PlaceStats, error) {
	var st PlaceStats
	ctx = audit.WithActor(ctx, audit.Actor{Name: "demo", Client: "cli"})
	system := &access.Principal{Username: "demo", DisplayName: "演示数据", Assignments: []access.Assignment{{Role: "system_admin"}}}
	l := newLayout(o.Seed, villages)
	for _, v := range villages {
		if err := reg.DB.Tx(ctx, func(ctx context.Context) error { return l.place(ctx, reg, system, v, &st) }); err != nil {
			return st, err
		}
	}
	return st, nil
}

// place gives the households of one village their points (in one
// transaction: a few dozen changes commit together).
func (l *layout) place(ctx context.Context, reg *registry.Service, system *access.Principal, v Village, st *PlaceStats) error {
	// each grid, then the village for its households in no grid (the
	// gridded ones are seen by then)
	seen := map[int64]bool{}
	for _, unit := range append(slices.Clone(v.Grids), v.Code) {
		rows, err := householdsOf(ctx, reg, system, unit, seen)
		if err != nil {
			return err
		}
		for _, hr := range rows {
			st.Households++
			h := hr.Household
			if h.Lat != nil {
				continue
			}
			number := h.Number
			if number == "" {
				number = "#" + strconv.FormatInt(h.ID, 10)
			}
			p, ok := l.point(h.Village, h.Grid, number)
			if !ok {
				continue
			}
			in := registry.HouseholdInput{Division: h.Division(), Number: h.Number, Kind: h.Kind, Address: h.Address, HouseNo: h.HouseNo,
				Lat: strconv.FormatFloat(p.Lat, 'f', 6, 64), Lon: strconv.FormatFloat(p.Lon, 'f', 6, 64)}
			if _, err := reg.UpdateHousehold(ctx, system, h.ID, in); err != nil {
				return fmt.Errorf("demo: position of household %d: %w", h.ID, err)
			}
			st.Placed++
		}
	}
	return nil
}

// householdsOf lists the current households of unit (a grid; a village:
// all of its households) not in seen, and adds them to seen, in id order.
func householdsOf(ctx context.Context, reg *registry.Service, p *access.Principal, unit int64, seen map[int64]bool) ([]registry.HouseholdRow, error) {
	keep := func(id int64) bool { return !seen[id] }
	var out []registry.HouseholdRow
	for {
		// the registry lists at most 200 at a time: page on until none is new
		rows, err := reg.PatrolHouseholds(ctx, p, unit, "", keep, 200)
		if err != nil {
			return nil, fmt.Errorf("demo: households of %d: %w", unit, err)
		}
		if len(rows) == 0 {
			break
		}
		for _, hr := range rows {
			seen[hr.ID] = true
		}
		out = append(out, rows...)
	}
	slices.SortFunc(out, func(a, b registry.HouseholdRow) int { return cmp.Compare(a.ID, b.ID) })
	return out, nil
}
