package grid

// Grids and who is in them (DG-9, DG-11): the grids of a village or
// township with their figures; the households put on a grid (by address, by
// building, by a list of household numbers, those on no grid yet, or those
// whose point lies inside the grid's outline); the grid workers, the
// street, building and floor chiefs (巷长、栋长、楼长) and the party members
// linked to the households they keep in touch with (党员联系户); the grid's
// outline as GeoJSON; and the map's data. Households and residents are the
// registry's: this file reads and moves them through registry.Service and
// keeps only its own tables (grid_outlines, grid_chiefs, party_links).

import (
	"bytes"
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"math"
	"slices"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/shequ-platform/shequ/internal/division"
	"github.com/shequ-platform/shequ/internal/platform/access"
	"github.com/shequ-platform/shequ/internal/platform/audit"
	"github.com/shequ-platform/shequ/internal/platform/db"
	"github.com/shequ-platform/shequ/internal/platform/geo"
	"github.com/shequ-platform/shequ/internal/platform/ids"
	"github.com/shequ-platform/shequ/internal/platform/policy"
	"github.com/shequ-platform/shequ/internal/registry"
)

// RoleGridWorker is the role of a grid worker, bound to a grid (or a whole
// village).
const RoleGridWorker = "grid_worker"

// Limits of the grid pages' input.
const (
	// MaxOutline bounds an outline's GeoJSON, as uploaded or pasted.
	MaxOutline = 1 << 20
	// maxOutlinePositions bounds the positions of one outline.
	maxOutlinePositions = 100_000
	maxChiefArea        = 50
	// MaxAssign bounds the households one assignment moves.
	MaxAssign = registry.MaxAssign
)

// ---- grids ----

// GridInfo is one grid with its figures.
type GridInfo struct {
	division.Division
	Households    int  // households on the grid
	Residents     int  // residents present on it
	Workers       int  // grid workers bound to it
	OpenIncidents int  // incidents that happened on it and are still open
	Outline       bool // an outline is drawn
}

// VillageInfo is a village of a grid list with what lies outside its grids.
type VillageInfo struct {
	division.Division
	Grids int
	// Unplaced households and residents live in the village on no grid yet.
	UnplacedHouseholds, UnplacedResidents int
}

// GridList is the grids of a village or township.
type GridList struct {
	Unit     division.Division
	Villages []VillageInfo
	Grids    []GridInfo // in code order, so grouped by village
}

// Grid returns a grid (a level-6 unit of kind grid) the principal may see
// (grid.view); anything else is db.ErrNotFound, audited when it exists.
func (s *Service) Grid(ctx context.Context, p *access.Principal, code int64) (division.Division, error) {
	if ids.Level(code) != 6 {
		return division.Division{}, db.ErrNotFound
	}
	if p == nil || !p.CanAt("grid.view", code) {
		s.denyUnit(ctx, code)
		return division.Division{}, db.ErrNotFound
	}
	d, err := s.Divisions.Get(ctx, code)
	if err != nil {
		return d, err
	}
	if d.Kind != division.KindGrid {
		return division.Division{}, db.ErrNotFound
	}
	return d, nil
}

func (s *Service) denyUnit(ctx context.Context, code int64) {
	if s.Access != nil {
		s.Access.Deny(ctx, "division", strconv.FormatInt(code, 10), code)
	}
}

// Grids returns the grids of a village or township the principal may see
// (grid.view at unit) with their figures, and the households of each
// village on no grid yet. Retired grids are left out.
func (s *Service) Grids(ctx context.Context, p *access.Principal, unit int64) (GridList, error) {
	var gl GridList
	if p == nil || !p.CanAt("grid.view", unit) {
		s.denyUnit(ctx, unit)
		return gl, db.ErrNotFound
	}
	u, err := s.Divisions.Get(ctx, unit)
	if err != nil {
		return gl, err
	}
	if u.Level != 4 && u.Level != 5 {
		return gl, Errors{{Field: "unit", Code: "grids_unit_level"}}
	}
	gl.Unit = u
	lo, hi := ids.Subtree(unit)
	units, err := s.Divisions.InRange(ctx, lo, hi, 5, 6)
	if err != nil {
		return gl, err
	}
	counts, err := s.Registry.CountsIn(ctx, p, lo, hi)
	if err != nil {
		return gl, err
	}
	workers, err := s.workerCounts(ctx, lo, hi)
	if err != nil {
		return gl, err
	}
	open, err := s.openCounts(ctx, lo, hi)
	if err != nil {
		return gl, err
	}
	outlined, err := s.outlined(ctx, lo, hi)
	if err != nil {
		return gl, err
	}
	at := map[int64]int{} // village → index in gl.Villages
	for _, d := range units {
		switch {
		case d.Retired:
		case d.Level == 5:
			c := counts[d.Code]
			at[d.Code] = len(gl.Villages)
			gl.Villages = append(gl.Villages, VillageInfo{Division: d, UnplacedHouseholds: c.Households, UnplacedResidents: c.Residents})
		case d.Kind == division.KindGrid:
			c := counts[d.Code]
			gl.Grids = append(gl.Grids, GridInfo{Division: d, Households: c.Households, Residents: c.Residents,
				Workers: workers[d.Code], OpenIncidents: open[d.Code], Outline: outlined[d.Code]})
			if i, ok := at[d.Parent]; ok {
				gl.Villages[i].Grids++
			}
		}
	}
	return gl, nil
}

// workerCounts counts the enabled grid workers bound to each unit of
// [lo, hi].
func (s *Service) workerCounts(ctx context.Context, lo, hi int64) (map[int64]int, error) {
	rows, err := s.DB.Query(ctx, `SELECT ra.division, COUNT(DISTINCT ra.user_id) FROM role_assignments ra JOIN users u ON u.id = ra.user_id
		WHERE ra.role = ? AND ra.division >= ? AND ra.division <= ? AND u.disabled = 0 GROUP BY ra.division`, RoleGridWorker, lo, hi)
	if err != nil {
		return nil, err
	}
	return countMap(rows)
}

// openCounts counts the open incidents that happened in each unit of [lo, hi].
func (s *Service) openCounts(ctx context.Context, lo, hi int64) (map[int64]int, error) {
	rows, err := s.DB.Query(ctx, `SELECT division, COUNT(*) FROM incidents WHERE division >= ? AND division <= ? AND is_open = 1
		GROUP BY division`, lo, hi)
	if err != nil {
		return nil, err
	}
	return countMap(rows)
}

func countMap(rows *sql.Rows) (map[int64]int, error) {
	defer rows.Close()
	out := map[int64]int{}
	for rows.Next() {
		var code int64
		var n int
		if err := rows.Scan(&code, &n); err != nil {
			return nil, err
		}
		out[code] = n
	}
	return out, rows.Err()
}

func (s *Service) outlined(ctx context.Context, lo, hi int64) (map[int64]bool, error) {
	rows, err := s.DB.Query(ctx, `SELECT grid FROM grid_outlines WHERE grid >= ? AND grid <= ?`, lo, hi)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := map[int64]bool{}
	for rows.Next() {
		var code int64
		if err := rows.Scan(&code); err != nil {
			return nil, err
		}
		out[code] = true
	}
	return out, rows.Err()
}

// ---- grid workers ----

// Worker is a grid worker's account.
type Worker struct {
	UserID   int64
	Name     string // the display name, else the username
	Username string
	Division int64 // the grid (or village) the role is bound to
}

// Workers lists the enabled accounts holding the grid-worker role bound
// inside unit's subtree (a grid: its own workers), by name. The principal
// needs grid.view at unit. Accounts carry no phone; nothing personal is
// shown beyond the name staff already see on every incident.
func (s *Service) Workers(ctx context.Context, p *access.Principal, unit int64) ([]Worker, error) {
	if p == nil || !p.CanAt("grid.view", unit) {
		return nil, db.ErrNotFound
	}
	lo, hi := ids.Subtree(unit)
	rows, err := s.DB.Query(ctx, `SELECT u.id, u.display_name, u.username, ra.division FROM role_assignments ra JOIN users u ON u.id = ra.user_id
		WHERE ra.role = ? AND ra.division >= ? AND ra.division <= ? AND u.disabled = 0 ORDER BY ra.division, u.display_name, u.username`,
		RoleGridWorker, lo, hi)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []Worker
	for rows.Next() {
		var w Worker
		if err := rows.Scan(&w.UserID, &w.Name, &w.Username, &w.Division); err != nil {
			return nil, err
		}
		if w.Name == "" {
			w.Name = w.Username
		}
		out = append(out, w)
	}
	return out, rows.Err()
}

// ---- chiefs (DG-11) ----

// Chief is a street, building or floor chief of a grid (巷长、栋长、楼长),
// a resident chosen by the neighbours.
type Chief struct {
	ID         int64
	Grid       int64
	Kind       string // a chief kind of the pack (grid.yaml chiefs)
	ResidentID int64
	// Name is the resident's name, "" when the reader may not see
	// residents (resident.view).
	Name      string
	Area      string // which lane, building or floor
	Since     int    // YYYYMMDD
	CreatedAt int64
	CreatedBy string
}

// ChiefInput is a chief as the form gives it.
type ChiefInput struct {
	Kind       string
	ResidentID int64
	Area       string
	Since      string // a date (default today)
}

// ChiefKinds are the chief kinds of the pack bound to code.
func (s *Service) ChiefKinds(code int64) []policy.GridKey {
	if r := s.Rules(code); r != nil {
		return r.Chiefs
	}
	return nil
}

// Chiefs lists a grid's chiefs by kind and area (grid.view at the grid).
func (s *Service) Chiefs(ctx context.Context, p *access.Principal, grid int64) ([]Chief, error) {
	if _, err := s.Grid(ctx, p, grid); err != nil {
		return nil, err
	}
	rows, err := s.DB.Query(ctx, `SELECT id, grid, kind, resident_id, area, since, created_at, created_by FROM grid_chiefs
		WHERE grid = ? ORDER BY kind, area, id`, grid)
	if err != nil {
		return nil, err
	}
	var out []Chief
	for rows.Next() {
		var c Chief
		if err := rows.Scan(&c.ID, &c.Grid, &c.Kind, &c.ResidentID, &c.Area, &c.Since, &c.CreatedAt, &c.CreatedBy); err != nil {
			rows.Close()
			return nil, err
		}
		out = append(out, c)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, err
	}
	residents := make([]int64, len(out))
	for i, c := range out {
		residents[i] = c.ResidentID
	}
	names, err := s.Registry.ResidentNames(ctx, p, residents)
	if err != nil {
		return nil, err
	}
	for i := range out {
		out[i].Name = names[out[i].ResidentID]
	}
	// order the kinds as the pack lists them
	order := map[string]int{}
	for i, k := range s.ChiefKinds(grid) {
		order[k.Key] = i
	}
	slices.SortStableFunc(out, func(a, b Chief) int { return order[a.Kind] - order[b.Kind] })
	return out, nil
}

// manageGrid checks that p may manage a grid: grid.manage there; a grid p
// sees but may not manage is ErrForbidden, anything else db.ErrNotFound.
func (s *Service) manageGrid(ctx context.Context, p *access.Principal, grid int64) (division.Division, error) {
	d, err := s.Grid(ctx, p, grid)
	if err != nil {
		return d, err
	}
	if !p.CanAt("grid.manage", grid) {
		return d, ErrForbidden
	}
	return d, nil
}

// parseDay reads an optional date (default today) not after today.
func (s *Service) parseDay(v string) (int, bool) {
	if strings.TrimSpace(v) == "" {
		return s.Today(), true
	}
	d, ok := registry.ParseDate(v)
	return d, ok && d <= s.Today() && d >= 19000101
}

// villageOf is the village of a unit code (a grid's parent, a village itself).
func villageOf(code int64) int64 {
	if ids.Level(code) == 6 {
		return code / 1000 * 1000
	}
	return code
}

// AddChief records a chief of a grid (grid.manage at the grid). The chief
// is a present resident living on the grid, or in its village on no grid
// yet; the kind is one of the pack's.
func (s *Service) AddChief(ctx context.Context, p *access.Principal, grid int64, in ChiefInput) (Chief, error) {
	d, err := s.manageGrid(ctx, p, grid)
	if err != nil {
		return Chief{}, err
	}
	var es Errors
	c := Chief{Grid: grid, Kind: strings.TrimSpace(in.Kind), ResidentID: in.ResidentID, Area: strings.TrimSpace(in.Area),
		CreatedAt: s.now().UnixMilli(), CreatedBy: actorName(p)}
	if _, ok := s.Rules(grid).Chief(c.Kind); !ok {
		es.Add("kind", "grids_chief_kind")
	}
	if utf8.RuneCountInString(c.Area) > maxChiefArea {
		es.Add("area", "grids_too_long", strconv.Itoa(maxChiefArea))
	}
	var ok bool
	if c.Since, ok = s.parseDay(in.Since); !ok {
		es.Add("since", "grids_date")
	}
	if in.ResidentID == 0 {
		es.Add("resident", "grids_resident_required")
	} else if r, err := s.Registry.Get(ctx, p, in.ResidentID); err != nil {
		es.Add("resident", "grids_resident_unknown")
	} else if r.Status != registry.Present {
		es.Add("resident", "grids_resident_absent")
	} else if r.Division != grid && r.Division != d.Parent {
		es.Add("resident", "grids_chief_other_grid")
	} else {
		c.Name = r.Name
	}
	if len(es) > 0 {
		return Chief{}, es
	}
	err = s.DB.Tx(ctx, func(ctx context.Context) error {
		var n int
		if err := s.DB.QueryRow(ctx, `SELECT COUNT(*) FROM grid_chiefs WHERE grid = ? AND kind = ? AND resident_id = ? AND area = ?`,
			grid, c.Kind, c.ResidentID, c.Area).Scan(&n); err != nil {
			return err
		}
		if n > 0 {
			return Errors{{Field: "resident", Code: "grids_chief_duplicate"}}
		}
		id, err := s.DB.InsertID(ctx, `INSERT INTO grid_chiefs (grid, kind, resident_id, area, since, created_at, created_by)
			VALUES (?, ?, ?, ?, ?, ?, ?)`, grid, c.Kind, c.ResidentID, c.Area, c.Since, c.CreatedAt, c.CreatedBy)
		if err != nil {
			return err
		}
		c.ID = id
		return s.Audit.Write(ctx, audit.Entry{Action: audit.Create, Entity: "grid_chief", EntityID: strconv.FormatInt(id, 10), Division: grid,
			Changes: []audit.Change{{Field: "kind", After: c.Kind}, {Field: "resident_id", After: c.ResidentID}, {Field: "area", After: c.Area}}})
	})
	return c, err
}

// RemoveChief removes a chief of a grid (grid.manage at the grid).
func (s *Service) RemoveChief(ctx context.Context, p *access.Principal, grid, id int64) error {
	if _, err := s.manageGrid(ctx, p, grid); err != nil {
		return err
	}
	return s.DB.Tx(ctx, func(ctx context.Context) error {
		var kind, area string
		var resident int64
		err := s.DB.QueryRow(ctx, `SELECT kind, resident_id, area FROM grid_chiefs WHERE id = ? AND grid = ?`, id, grid).Scan(&kind, &resident, &area)
		if errors.Is(err, sql.ErrNoRows) {
			return db.ErrNotFound
		}
		if err != nil {
			return err
		}
		if _, err := s.DB.Exec(ctx, `DELETE FROM grid_chiefs WHERE id = ?`, id); err != nil {
			return err
		}
		return s.Audit.Write(ctx, audit.Entry{Action: audit.Delete, Entity: "grid_chief", EntityID: strconv.FormatInt(id, 10), Division: grid,
			Changes: []audit.Change{{Field: "kind", Before: kind}, {Field: "resident_id", Before: resident}, {Field: "area", Before: area}}})
	})
}

// ChiefCandidates finds the residents who may become a chief of the grid:
// present, living on it or in its village on no grid, matching q (a name,
// pinyin, or a name and the last digits of the ID number, as the registry
// search reads it), at most 20.
func (s *Service) ChiefCandidates(ctx context.Context, p *access.Principal, grid int64, q string) ([]registry.Hit, error) {
	d, err := s.manageGrid(ctx, p, grid)
	if err != nil || strings.TrimSpace(q) == "" {
		return nil, err
	}
	res, err := s.Registry.Search(ctx, p, q, 0, 100)
	if err != nil {
		return nil, err
	}
	var out []registry.Hit
	for _, h := range res.Hits {
		if h.Status == registry.Present && (h.Division == grid || h.Division == d.Parent) && len(out) < 20 {
			out = append(out, h)
		}
	}
	return out, nil
}

// ---- party members linked to households (DG-9) ----

// PartyLink is a party member keeping in touch with a household (党员联系户).
type PartyLink struct {
	ID          int64
	Division    int64 // the household's grid, else its village
	ResidentID  int64 // the party member
	HouseholdID int64
	// Member is the party member's name and Household the household's
	// number and address, "" when the reader may not see residents.
	Member    string
	Household string
	Since     int
	CreatedAt int64
	CreatedBy string
}

// PartyInput is a link as the form gives it.
type PartyInput struct {
	ResidentID  int64
	HouseholdID int64
	Since       string // a date (default today)
}

// PartyLinks lists the links of the households of unit's subtree (a grid:
// its households'), by member (grid.view at unit).
func (s *Service) PartyLinks(ctx context.Context, p *access.Principal, unit int64) ([]PartyLink, error) {
	if p == nil || !p.CanAt("grid.view", unit) {
		s.denyUnit(ctx, unit)
		return nil, db.ErrNotFound
	}
	lo, hi := ids.Subtree(unit)
	rows, err := s.DB.Query(ctx, `SELECT id, division, resident_id, household_id, since, created_at, created_by FROM party_links
		WHERE division >= ? AND division <= ? ORDER BY resident_id, id LIMIT 5000`, lo, hi)
	if err != nil {
		return nil, err
	}
	var out []PartyLink
	for rows.Next() {
		var l PartyLink
		if err := rows.Scan(&l.ID, &l.Division, &l.ResidentID, &l.HouseholdID, &l.Since, &l.CreatedAt, &l.CreatedBy); err != nil {
			rows.Close()
			return nil, err
		}
		out = append(out, l)
	}
	rows.Close()
	if err := rows.Err(); err != nil || len(out) == 0 {
		return out, err
	}
	hids := make([]int64, len(out))
	rids := make([]int64, len(out))
	for i, l := range out {
		hids[i], rids[i] = l.HouseholdID, l.ResidentID
	}
	households, err := s.Registry.HouseholdsByID(ctx, p, hids)
	if err != nil {
		return nil, err
	}
	names, err := s.Registry.ResidentNames(ctx, p, rids)
	if err != nil {
		return nil, err
	}
	for i := range out {
		out[i].Member = names[out[i].ResidentID]
		if h, ok := households[out[i].HouseholdID]; ok {
			out[i].Household = strings.TrimSpace(h.Number + " " + h.Place())
		}
	}
	slices.SortStableFunc(out, func(a, b PartyLink) int { return strings.Compare(a.Member, b.Member) })
	return out, nil
}

// LinkParty links a party member to a household (grid.manage where the
// household lives): the member is a present resident marked as a party
// member (Resident.PartyMember) living in the household's village.
func (s *Service) LinkParty(ctx context.Context, p *access.Principal, in PartyInput) (PartyLink, error) {
	var es Errors
	h, _, err := s.Registry.Household(ctx, p, in.HouseholdID)
	if err != nil {
		if errors.Is(err, db.ErrNotFound) {
			es.Add("household", "grids_household_unknown")
			return PartyLink{}, es
		}
		return PartyLink{}, err
	}
	if !p.CanAt("grid.manage", h.Division()) {
		return PartyLink{}, ErrForbidden
	}
	l := PartyLink{Division: h.Division(), ResidentID: in.ResidentID, HouseholdID: h.ID, CreatedAt: s.now().UnixMilli(), CreatedBy: actorName(p),
		Household: strings.TrimSpace(h.Number + " " + h.Place())}
	var ok bool
	if l.Since, ok = s.parseDay(in.Since); !ok {
		es.Add("since", "grids_date")
	}
	if in.ResidentID == 0 {
		es.Add("member", "grids_resident_required")
	} else if r, err := s.Registry.Get(ctx, p, in.ResidentID); err != nil {
		es.Add("member", "grids_resident_unknown")
	} else if !r.PartyMember {
		es.Add("member", "grids_party_not_member")
	} else if r.Status != registry.Present {
		es.Add("member", "grids_resident_absent")
	} else if villageOf(r.Division) != h.Village {
		es.Add("member", "grids_party_other_village")
	} else {
		l.Member = r.Name
	}
	if len(es) > 0 {
		return PartyLink{}, es
	}
	err = s.DB.Tx(ctx, func(ctx context.Context) error {
		var n int
		if err := s.DB.QueryRow(ctx, `SELECT COUNT(*) FROM party_links WHERE resident_id = ? AND household_id = ?`, l.ResidentID, l.HouseholdID).Scan(&n); err != nil {
			return err
		}
		if n > 0 {
			return Errors{{Field: "household", Code: "grids_party_duplicate"}}
		}
		id, err := s.DB.InsertID(ctx, `INSERT INTO party_links (division, resident_id, household_id, since, created_at, created_by)
			VALUES (?, ?, ?, ?, ?, ?)`, l.Division, l.ResidentID, l.HouseholdID, l.Since, l.CreatedAt, l.CreatedBy)
		if err != nil {
			return err
		}
		l.ID = id
		return s.Audit.Write(ctx, audit.Entry{Action: audit.Create, Entity: "party_link", EntityID: strconv.FormatInt(id, 10), Division: l.Division,
			Changes: []audit.Change{{Field: "resident_id", After: l.ResidentID}, {Field: "household_id", After: l.HouseholdID}}})
	})
	return l, err
}

// UnlinkParty removes a link (grid.manage where the household lives).
func (s *Service) UnlinkParty(ctx context.Context, p *access.Principal, id int64) error {
	var l PartyLink
	err := s.DB.QueryRow(ctx, `SELECT division, resident_id, household_id FROM party_links WHERE id = ?`, id).Scan(&l.Division, &l.ResidentID, &l.HouseholdID)
	if errors.Is(err, sql.ErrNoRows) {
		return db.ErrNotFound
	}
	if err != nil {
		return err
	}
	if p == nil || !p.CanAt("grid.view", l.Division) {
		s.denyUnit(ctx, l.Division)
		return db.ErrNotFound
	}
	if !p.CanAt("grid.manage", l.Division) {
		return ErrForbidden
	}
	return s.DB.Tx(ctx, func(ctx context.Context) error {
		res, err := s.DB.Exec(ctx, `DELETE FROM party_links WHERE id = ?`, id)
		if err != nil {
			return err
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return db.ErrNotFound
		}
		return s.Audit.Write(ctx, audit.Entry{Action: audit.Delete, Entity: "party_link", EntityID: strconv.FormatInt(id, 10), Division: l.Division,
			Changes: []audit.Change{{Field: "resident_id", Before: l.ResidentID}, {Field: "household_id", Before: l.HouseholdID}}})
	})
}

// ---- assigning households to grids ----

// Ways of selecting the households of a village to put on a grid.
const (
	SelectAddress  = "address"  // the address contains a text
	SelectBuilding = "building" // the house number starts with a building, or the address names it
	SelectNumbers  = "numbers"  // a pasted list of household numbers (户号), one a line
	SelectNoGrid   = "nogrid"   // every household on no grid yet
	SelectOutline  = "outline"  // the households whose point lies inside the target grid's outline
)

// SelectModes lists them in the order the page offers them.
var SelectModes = []string{SelectAddress, SelectBuilding, SelectNumbers, SelectNoGrid, SelectOutline}

// Selection is a choice of households of a village.
type Selection struct {
	Village  int64
	Mode     string
	Text     string // the address text, the building, or the pasted numbers
	Grid     int64  // the target grid (0: off every grid)
	NoGridOK bool   // (address, building) only those on no grid yet
}

// NumberLine is a line of a pasted list whose number is not a household of
// the village.
type NumberLine struct {
	Line   int
	Number string
}

// Preview is what a selection selects.
type Preview struct {
	Total   int
	Rows    []registry.HouseholdRow // the first rows
	Unknown []NumberLine            // lines naming no household of the village
}

// maxNumberLines bounds a pasted list.
const maxNumberLines = MaxAssign

func parseNumbers(text string) []NumberLine {
	var out []NumberLine
	for i, line := range strings.Split(strings.ReplaceAll(text, "\r\n", "\n"), "\n") {
		if n := registry.NormalizeHouseholdNumber(line); n != "" {
			out = append(out, NumberLine{Line: i + 1, Number: n})
		}
	}
	return out
}

// checkSelection validates a selection for p (grid.manage at the village)
// and returns its registry filter; the outline mode has none (nil) and
// reads the points.
func (s *Service) checkSelection(ctx context.Context, p *access.Principal, sel *Selection) (*registry.HouseholdFilter, []NumberLine, Outline, error) {
	if p == nil || !p.CanAt("grid.view", sel.Village) {
		s.denyUnit(ctx, sel.Village)
		return nil, nil, nil, db.ErrNotFound
	}
	if ids.Level(sel.Village) != 5 {
		return nil, nil, nil, db.ErrNotFound
	}
	if !p.CanAt("grid.manage", sel.Village) {
		return nil, nil, nil, ErrForbidden
	}
	var es Errors
	if sel.Grid != 0 {
		g, err := s.Divisions.Get(ctx, sel.Grid)
		if err != nil || g.Parent != sel.Village || g.Kind != division.KindGrid || g.Retired {
			es.Add("grid", "grids_assign_grid")
		}
	}
	sel.Text = strings.TrimSpace(sel.Text)
	f := &registry.HouseholdFilter{NoGrid: sel.NoGridOK}
	var lines []NumberLine
	var outline Outline
	switch sel.Mode {
	case SelectAddress:
		if sel.Text == "" {
			es.Add("text", "grids_assign_text")
		} else if utf8.RuneCountInString(sel.Text) > 200 {
			es.Add("text", "grids_too_long", "200")
		}
		f.Address = sel.Text
	case SelectBuilding:
		if sel.Text == "" {
			es.Add("text", "grids_assign_building")
		} else if utf8.RuneCountInString(sel.Text) > 50 {
			es.Add("text", "grids_too_long", "50")
		}
		f.Building = sel.Text
	case SelectNumbers:
		lines = parseNumbers(sel.Text)
		switch {
		case len(lines) == 0:
			es.Add("text", "grids_assign_numbers")
		case len(lines) > maxNumberLines:
			es.Add("text", "grids_assign_lines", strconv.Itoa(maxNumberLines))
		}
		f.Numbers = make([]string, len(lines))
		for i, l := range lines {
			f.Numbers[i] = l.Number
		}
		f.NoGrid = false
	case SelectNoGrid:
		f.NoGrid = true
	case SelectOutline:
		if sel.Grid == 0 {
			es.Add("grid", "grids_assign_outline_grid")
		} else if es.For("grid") == nil {
			o, err := s.outline(ctx, sel.Grid)
			if errors.Is(err, db.ErrNotFound) {
				es.Add("grid", "grids_assign_no_outline")
			} else if err != nil {
				return nil, nil, nil, err
			}
			outline = o
		}
		f = nil
	default:
		es.Add("mode", "grids_assign_mode")
	}
	if len(es) > 0 {
		return nil, nil, nil, es
	}
	return f, lines, outline, nil
}

// insideIDs lists the households of the village whose points lie inside
// the outline (and, with noGrid, on no grid yet), in id order.
func (s *Service) insideIDs(ctx context.Context, p *access.Principal, village int64, o Outline, noGrid bool) ([]int64, error) {
	lo, hi := ids.Subtree(village)
	pts, err := s.Registry.HouseholdPoints(ctx, p, lo, hi, 0)
	if err != nil {
		return nil, err
	}
	var out []int64
	for _, pt := range pts {
		if (!noGrid || pt.Division == village) && o.Contains(pt.Lat, pt.Lon) {
			out = append(out, pt.ID)
		}
	}
	return out, nil
}

// PreviewAssign returns what a selection selects: how many households, the
// first rows (up to limit), and for a pasted list the lines naming no
// household of the village. The principal needs grid.manage at the village.
func (s *Service) PreviewAssign(ctx context.Context, p *access.Principal, sel Selection, limit int) (Preview, error) {
	var pv Preview
	f, lines, outline, err := s.checkSelection(ctx, p, &sel)
	if err != nil {
		return pv, err
	}
	lo, hi := ids.Subtree(sel.Village)
	if f == nil {
		all, err := s.insideIDs(ctx, p, sel.Village, outline, sel.NoGridOK)
		if err != nil {
			return pv, err
		}
		pv.Total = len(all)
		rows, err := s.Registry.HouseholdsByID(ctx, p, all[:min(limit, len(all))])
		if err != nil {
			return pv, err
		}
		for _, id := range all[:min(limit, len(all))] {
			if r, ok := rows[id]; ok {
				pv.Rows = append(pv.Rows, r)
			}
		}
	} else {
		f.Limit = limit
		if pv.Rows, pv.Total, err = s.Registry.HouseholdsIn(ctx, p, lo, hi, *f); err != nil {
			return pv, err
		}
	}
	if lines != nil {
		found, err := s.Registry.HouseholdNumbers(ctx, p, sel.Village, f.Numbers)
		if err != nil {
			return pv, err
		}
		for _, l := range lines {
			if !found[l.Number] {
				pv.Unknown = append(pv.Unknown, l)
			}
		}
	}
	return pv, nil
}

// Assign puts the households a selection selects on its grid (Grid 0: off
// every grid), their members following, and the party links of those
// households with them, in one transaction. expect is the count the
// preview showed (-1: none): a selection that has changed since is refused
// (grids_assign_changed), so that what is moved is what was confirmed. It
// returns how many households moved.
func (s *Service) Assign(ctx context.Context, p *access.Principal, sel Selection, expect int) (int, error) {
	f, _, outline, err := s.checkSelection(ctx, p, &sel)
	if err != nil {
		return 0, err
	}
	var list []int64
	if f == nil {
		list, err = s.insideIDs(ctx, p, sel.Village, outline, sel.NoGridOK)
	} else {
		lo, hi := ids.Subtree(sel.Village)
		list, err = s.Registry.HouseholdIDs(ctx, p, lo, hi, *f, MaxAssign)
	}
	if err != nil {
		return 0, err
	}
	switch {
	case len(list) == 0:
		return 0, Errors{{Field: "text", Code: "grids_assign_none"}}
	case len(list) > MaxAssign:
		return 0, Errors{{Field: "text", Code: "grids_assign_too_many", Arg: strconv.Itoa(MaxAssign)}}
	case expect >= 0 && len(list) != expect:
		return 0, Errors{{Field: "text", Code: "grids_assign_changed", Arg: strconv.Itoa(len(list))}}
	}
	moved := 0
	err = s.DB.Tx(ctx, func(ctx context.Context) error {
		var err error
		if moved, err = s.Registry.AssignGrid(ctx, p, list, sel.Grid); err != nil {
			return err
		}
		// the links of the households follow them to their unit
		to := sel.Grid
		if to == 0 {
			to = sel.Village
		}
		for start := 0; start < len(list); start += 500 {
			part := list[start:min(start+500, len(list))]
			args := []any{to}
			for _, id := range part {
				args = append(args, id)
			}
			if _, err := s.DB.Exec(ctx, `UPDATE party_links SET division = ? WHERE household_id IN (`+db.Placeholders(len(part))+`)`, args...); err != nil {
				return err
			}
		}
		return nil
	})
	if errors.Is(err, registry.ErrForbidden) {
		return 0, ErrForbidden
	}
	var res registry.Errors
	if errors.As(err, &res) {
		// the selection was checked; what is left is a household that
		// moved to another village meanwhile
		return 0, Errors{{Field: "text", Code: "grids_assign_changed", Arg: strconv.Itoa(len(list))}}
	}
	return moved, err
}

// ---- outlines ----

// Outline is a grid's outline: one or more polygons, each an outer ring
// followed by its holes, each ring a closed list of [longitude, latitude]
// positions in WGS-84 (GeoJSON order).
type Outline [][][][2]float64

// MarshalJSON writes the outline as a GeoJSON geometry: a Polygon when it
// has one polygon, else a MultiPolygon.
func (o Outline) MarshalJSON() ([]byte, error) {
	if len(o) == 1 {
		return json.Marshal(struct {
			Type        string         `json:"type"`
			Coordinates [][][2]float64 `json:"coordinates"`
		}{"Polygon", o[0]})
	}
	return json.Marshal(struct {
		Type        string           `json:"type"`
		Coordinates [][][][2]float64 `json:"coordinates"`
	}{"MultiPolygon", [][][][2]float64(o)})
}

// Contains reports whether a WGS-84 point lies inside the outline: inside
// the outer ring of a polygon and outside its holes.
func (o Outline) Contains(lat, lon float64) bool {
	for _, poly := range o {
		if len(poly) == 0 || !inRing(poly[0], lat, lon) {
			continue
		}
		hole := false
		for _, r := range poly[1:] {
			if inRing(r, lat, lon) {
				hole = true
				break
			}
		}
		if !hole {
			return true
		}
	}
	return false
}

// inRing is the even-odd ray test of a closed ring.
func inRing(r [][2]float64, lat, lon float64) bool {
	in := false
	for i, j := 0, len(r)-1; i < len(r); j, i = i, i+1 {
		xi, yi, xj, yj := r[i][0], r[i][1], r[j][0], r[j][1]
		if (yi > lat) != (yj > lat) && lon < (xj-xi)*(lat-yi)/(yj-yi)+xi {
			in = !in
		}
	}
	return in
}

// Map returns the outline with every position converted by f(lat, lon).
func (o Outline) Map(f func(lat, lon float64) (float64, float64)) Outline {
	out := make(Outline, len(o))
	for i, poly := range o {
		out[i] = make([][][2]float64, len(poly))
		for j, r := range poly {
			out[i][j] = make([][2]float64, len(r))
			for k, pt := range r {
				lat, lon := f(pt[1], pt[0])
				out[i][j][k] = [2]float64{lon, lat}
			}
		}
	}
	return out
}

// Bounds is the outline's bounding box (south, west, north, east).
func (o Outline) Bounds() (s, w, n, e float64) {
	s, w, n, e = math.Inf(1), math.Inf(1), math.Inf(-1), math.Inf(-1)
	for _, poly := range o {
		for _, r := range poly {
			for _, pt := range r {
				s, n = math.Min(s, pt[1]), math.Max(n, pt[1])
				w, e = math.Min(w, pt[0]), math.Max(e, pt[0])
			}
		}
	}
	return
}

// geoObject is any GeoJSON object, read loosely; ParseOutline checks it.
type geoObject struct {
	Type        string            `json:"type"`
	Coordinates json.RawMessage   `json:"coordinates"`
	Geometry    json.RawMessage   `json:"geometry"`
	Geometries  []json.RawMessage `json:"geometries"`
	Features    []json.RawMessage `json:"features"`
	CRS         *struct {
		Properties struct {
			Name string `json:"name"`
		} `json:"properties"`
	} `json:"crs"`
}

// ParseOutline reads an outline from GeoJSON: a Polygon or MultiPolygon, a
// Feature holding one, or a FeatureCollection (or GeometryCollection) of
// them, whose polygons are merged. Positions are in sys (WGS-84 and
// CGCS2000 as they are; GCJ-02 and BD-09, as drawn on Chinese web maps, are
// converted to WGS-84). Every ring must be closed with at least four
// positions and every position lie within China; the text may be at most
// MaxOutline bytes. Problems are Errors of the field "outline".
func ParseOutline(data []byte, sys geo.System) (Outline, error) {
	if len(data) > MaxOutline {
		return nil, Errors{{Field: "outline", Code: "grids_outline_too_large", Arg: strconv.Itoa(MaxOutline >> 10)}}
	}
	return parseOutline(data, sys)
}

// parseOutline is ParseOutline without the size bound (stored outlines,
// rewritten with 7 decimals, may be longer than what was sent).
func parseOutline(data []byte, sys geo.System) (Outline, error) {
	fail := func(code string, arg ...string) (Outline, error) {
		var es Errors
		es.Add("outline", code, arg...)
		return nil, es
	}
	data = bytes.TrimSpace(bytes.TrimPrefix(data, []byte("\xef\xbb\xbf")))
	if len(data) == 0 {
		return fail("grids_outline_empty")
	}
	var o Outline
	if code := collect(data, 0, &o); code != "" {
		return fail(code)
	}
	if len(o) == 0 {
		return fail("grids_outline_type")
	}
	n := 0
	for i, poly := range o {
		for j, r := range poly {
			n += len(r)
			if n > maxOutlinePositions {
				return fail("grids_outline_too_many", strconv.Itoa(maxOutlinePositions))
			}
			if len(r) < 4 || r[0] != r[len(r)-1] {
				return fail("grids_outline_ring")
			}
			for k, pt := range r {
				lon, lat := pt[0], pt[1]
				if math.IsNaN(lat) || math.IsNaN(lon) || math.IsInf(lat, 0) || math.IsInf(lon, 0) {
					return fail("grids_outline_json")
				}
				w, err := geo.ToWGS84(sys, lat, lon)
				if err != nil || !geo.InChina(w.Lat, w.Lon) {
					return fail("grids_outline_outside")
				}
				o[i][j][k] = [2]float64{round7(w.Lon), round7(w.Lat)}
			}
			// a ring closed in the input stays closed after conversion
			r[len(r)-1] = r[0]
		}
	}
	return o, nil
}

// collect appends the polygons of one GeoJSON object to o; it returns an
// error code for input that is not what an outline may be.
func collect(data []byte, depth int, o *Outline) string {
	if depth > 3 {
		return "grids_outline_type"
	}
	var g geoObject
	if err := json.Unmarshal(data, &g); err != nil {
		return "grids_outline_json"
	}
	if g.CRS != nil {
		// GeoJSON 2008 could name another system; only WGS-84 and
		// CGCS2000 (geographic) read as they are
		name := strings.ToUpper(g.CRS.Properties.Name)
		if !strings.HasSuffix(name, "CRS84") && !strings.HasSuffix(name, ":4326") && !strings.HasSuffix(name, ":4490") {
			return "grids_outline_crs"
		}
	}
	switch g.Type {
	case "Polygon":
		var poly [][][]float64
		if err := json.Unmarshal(g.Coordinates, &poly); err != nil {
			return "grids_outline_json"
		}
		p, ok := polygon(poly)
		if !ok {
			return "grids_outline_json"
		}
		*o = append(*o, p)
	case "MultiPolygon":
		var polys [][][][]float64
		if err := json.Unmarshal(g.Coordinates, &polys); err != nil {
			return "grids_outline_json"
		}
		for _, poly := range polys {
			p, ok := polygon(poly)
			if !ok {
				return "grids_outline_json"
			}
			*o = append(*o, p)
		}
	case "Feature":
		if len(g.Geometry) == 0 || string(g.Geometry) == "null" {
			return "grids_outline_type"
		}
		return collect(g.Geometry, depth+1, o)
	case "FeatureCollection":
		for _, f := range g.Features {
			if code := collect(f, depth+1, o); code != "" {
				return code
			}
		}
	case "GeometryCollection":
		for _, f := range g.Geometries {
			if code := collect(f, depth+1, o); code != "" {
				return code
			}
		}
	default:
		return "grids_outline_type"
	}
	return ""
}

// polygon converts the rings of a decoded polygon, refusing positions of
// fewer than two numbers (a third, the altitude, is dropped).
func polygon(rings [][][]float64) ([][][2]float64, bool) {
	if len(rings) == 0 {
		return nil, false
	}
	out := make([][][2]float64, len(rings))
	for i, r := range rings {
		out[i] = make([][2]float64, len(r))
		for j, pt := range r {
			if len(pt) < 2 {
				return nil, false
			}
			out[i][j] = [2]float64{pt[0], pt[1]}
		}
	}
	return out, true
}

// outline reads a grid's stored outline (db.ErrNotFound when none).
func (s *Service) outline(ctx context.Context, grid int64) (Outline, error) {
	var text string
	err := s.DB.QueryRow(ctx, `SELECT geojson FROM grid_outlines WHERE grid = ?`, grid).Scan(&text)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, db.ErrNotFound
	}
	if err != nil {
		return nil, err
	}
	return parseOutline([]byte(text), geo.WGS84)
}

// OutlineOf returns a grid's outline (grid.view at the grid);
// db.ErrNotFound when it has none.
func (s *Service) OutlineOf(ctx context.Context, p *access.Principal, grid int64) (Outline, error) {
	if _, err := s.Grid(ctx, p, grid); err != nil {
		return nil, err
	}
	return s.outline(ctx, grid)
}

// SetOutline stores a grid's outline from GeoJSON in sys (grid.manage at
// the grid), replacing the one before.
func (s *Service) SetOutline(ctx context.Context, p *access.Principal, grid int64, data []byte, sys geo.System) (Outline, error) {
	if _, err := s.manageGrid(ctx, p, grid); err != nil {
		return nil, err
	}
	o, err := ParseOutline(data, sys)
	if err != nil {
		return nil, err
	}
	text, err := json.Marshal(o)
	if err != nil {
		return nil, err
	}
	positions := 0
	for _, poly := range o {
		for _, r := range poly {
			positions += len(r)
		}
	}
	err = s.DB.Tx(ctx, func(ctx context.Context) error {
		if _, err := s.DB.Exec(ctx, `INSERT INTO grid_outlines (grid, geojson, updated_at, updated_by) VALUES (?, ?, ?, ?)
			ON CONFLICT (grid) DO UPDATE SET geojson = excluded.geojson, updated_at = excluded.updated_at, updated_by = excluded.updated_by`,
			grid, string(text), s.now().UnixMilli(), actorName(p)); err != nil {
			return err
		}
		return s.Audit.Write(ctx, audit.Entry{Action: audit.Update, Entity: "grid_outline", EntityID: strconv.FormatInt(grid, 10), Division: grid,
			Changes: []audit.Change{{Field: "polygons", After: len(o)}, {Field: "positions", After: positions}}})
	})
	return o, err
}

// RemoveOutline deletes a grid's outline (grid.manage at the grid).
func (s *Service) RemoveOutline(ctx context.Context, p *access.Principal, grid int64) error {
	if _, err := s.manageGrid(ctx, p, grid); err != nil {
		return err
	}
	return s.DB.Tx(ctx, func(ctx context.Context) error {
		res, err := s.DB.Exec(ctx, `DELETE FROM grid_outlines WHERE grid = ?`, grid)
		if err != nil {
			return err
		}
		if n, _ := res.RowsAffected(); n == 0 {
			return nil
		}
		return s.Audit.Write(ctx, audit.Entry{Action: audit.Delete, Entity: "grid_outline", EntityID: strconv.FormatInt(grid, 10), Division: grid})
	})
}

// ---- the map ----

// Map layers.
const (
	LayerOutlines   = "outlines"
	LayerIncidents  = "incidents"
	LayerHouseholds = "households"
)

// Layers lists them in drawing order (outlines below the points).
var Layers = []string{LayerOutlines, LayerHouseholds, LayerIncidents}

// Bounds of the map's data.
const (
	// RecentDays: incidents closed within this many days are drawn beside
	// the open ones.
	RecentDays  = 30
	maxOutlines = 3000
	// MaxHouseholdPoints bounds the households one map draws.
	MaxHouseholdPoints = 20_000
)

// MapQuery asks for the map's data.
type MapQuery struct {
	Unit   int64    // any unit the principal sees (grid.view); households only for a village or grid
	Layers []string // of Layers; none: all
	// GCJ02 converts every position to GCJ-02 for tiles drawn in it.
	GCJ02  bool
	Locale string
}

// Feature is a GeoJSON feature.
type Feature struct {
	Type       string         `json:"type"`
	Geometry   any            `json:"geometry"`
	Properties map[string]any `json:"properties"`
}

// FeatureCollection is a GeoJSON feature collection.
type FeatureCollection struct {
	Type     string    `json:"type"`
	Features []Feature `json:"features"`
	// Truncated names the layers cut at their bound.
	Truncated []string `json:"truncated,omitempty"`
}

type point struct {
	Type        string     `json:"type"`
	Coordinates [2]float64 `json:"coordinates"`
}

// MapData returns the map of a unit as GeoJSON features, each with a
// "layer" property: the grid outlines (code, name, link), the incidents
// that are open or closed within RecentDays with a position (number, state
// and its name, category name, overdue, link) and, for a village or grid
// and a reader with resident.view, the positioned households — their id,
// address and link, never who lives there. Positions are WGS-84, or GCJ-02
// when asked.
func (s *Service) MapData(ctx context.Context, p *access.Principal, q MapQuery) (FeatureCollection, error) {
	fc := FeatureCollection{Type: "FeatureCollection", Features: []Feature{}}
	if p == nil || !p.CanAt("grid.view", q.Unit) {
		s.denyUnit(ctx, q.Unit)
		return fc, db.ErrNotFound
	}
	if _, err := s.Divisions.Get(ctx, q.Unit); err != nil && q.Unit != 0 {
		return fc, err
	}
	want := func(layer string) bool { return len(q.Layers) == 0 || slices.Contains(q.Layers, layer) }
	conv := func(lat, lon float64) (float64, float64) { return lat, lon }
	if q.GCJ02 {
		conv = geo.ToGCJ02
	}
	pt := func(lat, lon float64) point {
		lat, lon = conv(lat, lon)
		return point{"Point", [2]float64{round7(lon), round7(lat)}}
	}
	lo, hi := ids.Subtree(q.Unit)
	if want(LayerOutlines) {
		rows, err := s.DB.Query(ctx, `SELECT grid, geojson FROM grid_outlines WHERE grid >= ? AND grid <= ? ORDER BY grid LIMIT ?`, lo, hi, maxOutlines+1)
		if err != nil {
			return fc, err
		}
		type stored struct {
			grid int64
			text string
		}
		var all []stored
		for rows.Next() {
			var st stored
			if err := rows.Scan(&st.grid, &st.text); err != nil {
				rows.Close()
				return fc, err
			}
			all = append(all, st)
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return fc, err
		}
		if len(all) > maxOutlines {
			all, fc.Truncated = all[:maxOutlines], append(fc.Truncated, LayerOutlines)
		}
		// a township's or county's map names each grid with its village
		names := &incNames{s: s, wide: readsAbove(q.Unit)}
		for _, st := range all {
			var geom any = json.RawMessage(st.text)
			if q.GCJ02 {
				o, err := parseOutline([]byte(st.text), geo.WGS84)
				if err != nil {
					continue // stored before a stricter check: left off the map
				}
				geom = o.Map(conv)
			}
			code := strconv.FormatInt(st.grid, 10)
			name := names.place(ctx, st.grid)
			fc.Features = append(fc.Features, Feature{Type: "Feature", Geometry: geom, Properties: map[string]any{
				"layer": LayerOutlines, "code": code, "name": name, "href": "/grid/grids/" + code}})
		}
	}
	if want(LayerHouseholds) && ids.Level(q.Unit) >= 5 && p.CanAt("resident.view", q.Unit) {
		pts, err := s.Registry.HouseholdPoints(ctx, p, lo, hi, MaxHouseholdPoints+1)
		if err != nil {
			return fc, err
		}
		if len(pts) > MaxHouseholdPoints {
			pts, fc.Truncated = pts[:MaxHouseholdPoints], append(fc.Truncated, LayerHouseholds)
		}
		for _, h := range pts {
			fc.Features = append(fc.Features, Feature{Type: "Feature", Geometry: pt(h.Lat, h.Lon), Properties: map[string]any{
				"layer": LayerHouseholds, "id": h.ID, "address": h.Address, "href": "/registry/households/" + strconv.FormatInt(h.ID, 10)}})
		}
	}
	if want(LayerIncidents) {
		open, err := s.Points(ctx, p, Filter{Unit: q.Unit, View: ViewOpen})
		if err != nil {
			return fc, err
		}
		closed, err := s.closedPoints(ctx, lo, hi, s.dayAfter(s.Today(), -RecentDays))
		if err != nil {
			return fc, err
		}
		if len(open) >= MaxPoints || len(closed) >= MaxPoints {
			fc.Truncated = append(fc.Truncated, LayerIncidents)
		}
		for _, in := range append(open, closed...) {
			name := in.Name
			if cat, ok := s.Rules(q.Unit).Category(in.Category); ok && q.Locale != "" {
				if n := cat.Name.Get(q.Locale); n != "" {
					name = n
				}
			}
			fc.Features = append(fc.Features, Feature{Type: "Feature", Geometry: pt(in.Lat, in.Lon), Properties: map[string]any{
				"layer": LayerIncidents, "id": in.ID, "number": in.Number, "state": in.State,
				"state_name": s.StateName(q.Locale, q.Unit, in.State), "category": name, "overdue": in.Overdue,
				"open": Open(in.State), "href": "/grid/incidents/" + strconv.FormatInt(in.ID, 10)}})
		}
	}
	return fc, nil
}

// closedPoints returns the positioned incidents of [lo, hi] closed (not
// rejected) on or after since, newest first, at most MaxPoints.
func (s *Service) closedPoints(ctx context.Context, lo, hi int64, since int) ([]Point, error) {
	rows, err := s.DB.Query(ctx, `SELECT id, number, lat, lon, state, category, category_name FROM incidents
		WHERE division >= ? AND division <= ? AND is_open = 0 AND state = ? AND closed_day >= ? AND lat IS NOT NULL AND lon IS NOT NULL
		ORDER BY id DESC LIMIT ?`, lo, hi, StateClosed, since, MaxPoints)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []Point
	for rows.Next() {
		var pt Point
		if err := rows.Scan(&pt.ID, &pt.Number, &pt.Lat, &pt.Lon, &pt.State, &pt.Category, &pt.Name); err != nil {
			return nil, err
		}
		out = append(out, pt)
	}
	return out, rows.Err()
}

// round7 rounds a degree to 7 decimals (about a centimetre).
func round7(v float64) float64 { return math.Round(v*1e7) / 1e7 }
