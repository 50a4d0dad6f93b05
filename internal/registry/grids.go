package registry

import (
	"context"
	"errors"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/shequ-platform/shequ/internal/division"
	"github.com/shequ-platform/shequ/internal/platform/access"
	"github.com/shequ-platform/shequ/internal/platform/audit"
	"github.com/shequ-platform/shequ/internal/platform/db"
	"github.com/shequ-platform/shequ/internal/platform/ids"
)

// What grid governance (internal/grid, DG-9) asks of the registry: the
// households of a grid or village, filtered the ways households are put on
// grids (by address, by building, by a list of household numbers, or those
// on no grid yet); moving a selection onto a grid in one transaction; the
// households' points for the map; counts per grid; the party members of a
// village. followup_support.go (patrols, follow-ups) shares HouseholdRow,
// householdDivision, householdRowCols and unitCond; scanHouseholdRow is its.

// householdDivision is the SQL of Household.Division: the grid, else the
// village. Scope conditions are written on it.
const householdDivision = "(CASE WHEN h.grid <> 0 THEN h.grid ELSE h.village END)"

// unitCond limits households to the units [lo, hi]: one grid, or whole
// villages (a range at village level or above holds its grids too), on the
// households_division index.
func unitCond(lo, hi int64) (string, []any) {
	if lo == hi && ids.Level(lo) == 6 {
		return "h.village = ? AND h.grid = ?", []any{lo / 1000 * 1000, lo}
	}
	return "h.village >= ? AND h.village <= ?", []any{lo, hi}
}

// HouseholdFilter selects households of a unit. The conditions combine
// (AND); empty ones select everything.
type HouseholdFilter struct {
	// Address: the address contains it.
	Address string
	// Building: the house number starts with it, or the address names it,
	// e.g. "3幢", "B栋", "12" (a number is not matched inside another: "3幢"
	// does not select 13幢). Full-width digits and letters match half-width
	// ones, letters in any case.
	Building string
	// Numbers, when not nil: the household numbers (户号) listed, compared
	// after NormalizeHouseholdNumber on both sides (full-width digits typed
	// at registration match half-width ones); an empty list selects nothing.
	Numbers []string
	// NoGrid: only households on no grid yet.
	NoGrid bool
	Offset int
	// Limit is the page size (1–500, default 50).
	Limit int
}

// HouseholdRow is a household as a list shows it.
type HouseholdRow struct {
	Household
	Head    string // the present head's name, "" when none is recorded
	Members int    // present members
}

// Place is the household's address with its house number, the number left
// out when the address already holds it (锦绣花园27幢1603室 and 27幢1603室).
func (h Household) Place() string { return h.Address + h.ShownHouseNo() }

// ShownHouseNo is the house number to show after the address: "" when the
// address already holds it — imported ledgers often repeat it in both
// columns — as a whole (锦绣花园27幢1603室 holds 27幢1603室, 东亭路11号
// does not hold 1号), spaces aside.
func (h Household) ShownHouseNo() string {
	no := strings.TrimSpace(h.HouseNo)
	if no == "" || holdsHouseNo(h.Address, no) {
		return ""
	}
	return no
}

// holdsHouseNo reports whether address holds the house number no as a whole:
// not inside a longer number or word (ASCII letters and digits on either
// side), whitespace ignored in both.
func holdsHouseNo(address, no string) bool {
	drop := func(r rune) rune {
		if unicode.IsSpace(r) {
			return -1
		}
		return r
	}
	a, n := strings.Map(drop, address), strings.Map(drop, no)
	if n == "" {
		return false
	}
	alnum := func(r rune) bool { return r < utf8.RuneSelf && (unicode.IsDigit(r) || unicode.IsLetter(r)) }
	for from := 0; from < len(a); {
		i := strings.Index(a[from:], n)
		if i < 0 {
			return false
		}
		i += from
		before, _ := utf8.DecodeLastRuneInString(a[:i])
		after, _ := utf8.DecodeRuneInString(a[i+len(n):])
		first, _ := utf8.DecodeRuneInString(n)
		last, _ := utf8.DecodeLastRuneInString(n)
		if !(i > 0 && alnum(before) && alnum(first)) && !(i+len(n) < len(a) && alnum(after) && alnum(last)) {
			return true
		}
		from = i + 1
	}
	return false
}

// maxBuildingScan bounds the households a building filter reads (a village
// has a few thousand).
const maxBuildingScan = 50_000

// householdWhere is the SQL condition of f over [lo, hi] within the
// principal's resident.view scope; the Building and Numbers parts are
// applied in Go (filter.match).
func (s *Service) householdWhere(p *access.Principal, lo, hi int64, f HouseholdFilter) (string, []any) {
	cond, args := unitCond(lo, hi)
	conds := []string{cond}
	scope, sargs := p.Where("resident.view", householdDivision)
	conds = append(conds, scope)
	args = append(args, sargs...)
	if a := strings.TrimSpace(f.Address); a != "" {
		op := "LIKE"
		if s.DB.Dialect == db.Postgres {
			op = "ILIKE"
		}
		conds = append(conds, "h.address "+op+" ? ESCAPE '\\'")
		args = append(args, "%"+strings.NewReplacer("\\", "\\\\", "%", "\\%", "_", "\\_").Replace(a)+"%")
	}
	if f.NoGrid {
		conds = append(conds, "h.grid = 0")
	}
	if f.Numbers != nil {
		conds = append(conds, "h.number <> ''") // matched in Go: full-width digits typed at registration
	}
	return strings.Join(conds, " AND "), args
}

// NormalizeHouseholdNumber trims a household number as typed or pasted and
// turns full-width digits and letters into half-width ones.
func NormalizeHouseholdNumber(s string) string {
	return strings.TrimSpace(halfWidth(s))
}

func halfWidth(s string) string {
	return strings.Map(func(r rune) rune {
		switch {
		case r >= '０' && r <= '９', r >= 'Ａ' && r <= 'Ｚ', r >= 'ａ' && r <= 'ｚ':
			return r - 0xFEE0
		case r == '－':
			return '-'
		case r == '\u3000':
			return ' '
		}
		return r
	}, s)
}

// matchBuilding reports whether a household belongs to building b: its
// house number starts with b, or its address names b, in both cases not as
// part of a longer number or word ("3" is not the start of "31-101", "3幢"
// is not in "13幢").
func matchBuilding(b, houseNo, address string) bool {
	b = strings.ToUpper(halfWidth(strings.TrimSpace(b)))
	if b == "" {
		return true
	}
	houseNo = strings.ToUpper(halfWidth(houseNo))
	if strings.HasPrefix(houseNo, b) && boundaryAfter(b, houseNo[len(b):]) {
		return true
	}
	address = strings.ToUpper(halfWidth(address))
	for i := 0; i <= len(address)-len(b); {
		j := strings.Index(address[i:], b)
		if j < 0 {
			return false
		}
		j += i
		if boundaryBefore(b, address[:j]) && boundaryAfter(b, address[j+len(b):]) {
			return true
		}
		_, size := utf8.DecodeRuneInString(address[j:])
		i = j + size
	}
	return false
}

// alnum: digits and Latin letters, the characters building numbers are
// written in.
func alnum(r rune) bool { return r < utf8.RuneSelf && (unicode.IsDigit(r) || unicode.IsLetter(r)) }

func boundaryBefore(b, before string) bool {
	if before == "" {
		return true
	}
	first, _ := utf8.DecodeRuneInString(b)
	prev, _ := utf8.DecodeLastRuneInString(before)
	return !(alnum(first) && alnum(prev))
}

func boundaryAfter(b, after string) bool {
	if after == "" {
		return true
	}
	last, _ := utf8.DecodeLastRuneInString(b)
	next, _ := utf8.DecodeRuneInString(after)
	return !(alnum(last) && alnum(next))
}

// householdRowCols are the columns of a HouseholdRow (scanHouseholdRow).
const householdRowCols = `h.id, h.county, h.village, h.grid, h.number, h.kind, h.address, h.house_no, h.lat, h.lon, h.created_at, h.updated_at,
	COALESCE((SELECT r.name FROM residents r WHERE r.household_id = h.id AND r.relation = 'head' AND r.status = 'present' ORDER BY r.id LIMIT 1), ''),
	(SELECT COUNT(*) FROM residents r WHERE r.household_id = h.id AND r.status = 'present')`

const householdOrder = " ORDER BY h.address, h.house_no, h.id"

// householdRows reads the households of where (HouseholdRow, with the
// head and the member count).
func (s *Service) householdRows(ctx context.Context, where string, args []any) ([]HouseholdRow, error) {
	rows, err := s.DB.Query(ctx, "SELECT "+householdRowCols+" FROM households h WHERE "+where, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []HouseholdRow
	for rows.Next() {
		r, err := scanHouseholdRow(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, r)
	}
	return out, rows.Err()
}

// goFiltered reports whether f has a part applied in Go.
func (f HouseholdFilter) goFiltered() bool {
	return strings.TrimSpace(f.Building) != "" || f.Numbers != nil
}

// matcher is the part of f applied in Go, for a household's number, house
// number and address.
func (f HouseholdFilter) matcher() func(number, houseNo, address string) bool {
	var numbers map[string]bool
	if f.Numbers != nil {
		numbers = map[string]bool{}
		for _, n := range f.Numbers {
			if n = NormalizeHouseholdNumber(n); n != "" {
				numbers[n] = true
			}
		}
	}
	return func(number, houseNo, address string) bool {
		if numbers != nil && !numbers[NormalizeHouseholdNumber(number)] {
			return false
		}
		return matchBuilding(f.Building, houseNo, address)
	}
}

// matchIDs returns, in list order, the ids of the households of where that
// f's Go part accepts, reading at most maxBuildingScan households.
func (s *Service) matchIDs(ctx context.Context, where string, args []any, f HouseholdFilter) ([]int64, error) {
	rows, err := s.DB.Query(ctx, "SELECT h.id, h.number, h.house_no, h.address FROM households h WHERE "+where+householdOrder+
		" LIMIT "+strconv.Itoa(maxBuildingScan), args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	match := f.matcher()
	var out []int64
	for rows.Next() {
		var id int64
		var number, houseNo, address string
		if err := rows.Scan(&id, &number, &houseNo, &address); err != nil {
			return nil, err
		}
		if match(number, houseNo, address) {
			out = append(out, id)
		}
	}
	return out, rows.Err()
}

// HouseholdsIn returns one page of the households of the units [lo, hi]
// (a grid, a village, or a wider range) that f selects and the principal
// may see (resident.view), ordered by address, with the total count.
func (s *Service) HouseholdsIn(ctx context.Context, p *access.Principal, lo, hi int64, f HouseholdFilter) ([]HouseholdRow, int, error) {
	if f.Limit <= 0 || f.Limit > 500 {
		f.Limit = 50
	}
	f.Offset = max(f.Offset, 0)
	where, args := s.householdWhere(p, lo, hi, f)
	if !f.goFiltered() {
		var total int
		if err := s.DB.QueryRow(ctx, "SELECT COUNT(*) FROM households h WHERE "+where, args...).Scan(&total); err != nil {
			return nil, 0, err
		}
		if total == 0 || f.Offset >= total {
			return nil, total, nil
		}
		out, err := s.householdRows(ctx, where+householdOrder+" LIMIT ? OFFSET ?", append(args, f.Limit, f.Offset))
		return out, total, err
	}
	all, err := s.matchIDs(ctx, where, args, f)
	if err != nil || f.Offset >= len(all) {
		return nil, len(all), err
	}
	page := all[f.Offset:min(f.Offset+f.Limit, len(all))]
	idArgs := make([]any, len(page))
	for i, id := range page {
		idArgs[i] = id
	}
	out, err := s.householdRows(ctx, "h.id IN ("+db.Placeholders(len(page))+")"+householdOrder, idArgs)
	return out, len(all), err
}

// HouseholdIDs returns the ids of every household of [lo, hi] that f
// selects and the principal may see (f's paging ignored), at most max+1 of
// them so that the caller can tell a selection is too large.
func (s *Service) HouseholdIDs(ctx context.Context, p *access.Principal, lo, hi int64, f HouseholdFilter, max int) ([]int64, error) {
	where, args := s.householdWhere(p, lo, hi, f)
	if f.goFiltered() {
		all, err := s.matchIDs(ctx, where, args, f)
		if len(all) > max+1 {
			all = all[:max+1]
		}
		return all, err
	}
	rows, err := s.DB.Query(ctx, "SELECT h.id FROM households h WHERE "+where+householdOrder+" LIMIT ?", append(args, max+1)...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []int64
	for rows.Next() {
		var id int64
		if err := rows.Scan(&id); err != nil {
			return nil, err
		}
		out = append(out, id)
	}
	return out, rows.Err()
}

// HouseholdNumbers returns which of the household numbers exist in the
// village within the principal's resident.view scope (keyed as
// NormalizeHouseholdNumber writes them), so that a pasted list can report
// the unknown ones line by line.
func (s *Service) HouseholdNumbers(ctx context.Context, p *access.Principal, village int64, numbers []string) (map[string]bool, error) {
	want := map[string]bool{}
	for _, n := range numbers {
		if n = NormalizeHouseholdNumber(n); n != "" {
			want[n] = true
		}
	}
	found := map[string]bool{}
	err := s.eachNumber(ctx, p, village, func(id int64, n string) bool {
		if want[n] {
			found[n] = true
		}
		return true
	})
	return found, err
}

// eachNumber calls each with the id and normalized number of the numbered
// households of the village the principal may see, until it returns false.
func (s *Service) eachNumber(ctx context.Context, p *access.Principal, village int64, each func(id int64, number string) bool) error {
	lo, hi := ids.Subtree(village)
	where, args := s.householdWhere(p, lo, hi, HouseholdFilter{Numbers: []string{}})
	rows, err := s.DB.Query(ctx, "SELECT h.id, h.number FROM households h WHERE "+where+" LIMIT "+strconv.Itoa(maxBuildingScan), args...)
	if err != nil {
		return err
	}
	defer rows.Close()
	for rows.Next() {
		var id int64
		var n string
		if err := rows.Scan(&id, &n); err != nil {
			return err
		}
		if !each(id, NormalizeHouseholdNumber(n)) {
			break
		}
	}
	return rows.Err()
}

// HouseholdByNumber returns the household of the village with a household
// number, when the principal may see it (db.ErrNotFound otherwise).
func (s *Service) HouseholdByNumber(ctx context.Context, p *access.Principal, village int64, number string) (Household, error) {
	number = NormalizeHouseholdNumber(number)
	if number == "" {
		return Household{}, db.ErrNotFound
	}
	h, err := s.st.householdByNumber(ctx, village, number)
	if errors.Is(err, db.ErrNotFound) {
		// registered in full-width digits: look through the village's numbers
		var id int64
		if err := s.eachNumber(ctx, p, village, func(hid int64, n string) bool {
			if n == number {
				id = hid
			}
			return id == 0
		}); err != nil || id == 0 {
			return Household{}, db.ErrNotFound
		}
		h, err = s.st.household(ctx, id)
	}
	if err != nil {
		return Household{}, err
	}
	if p == nil || !p.CanAt("resident.view", h.Division()) {
		return Household{}, db.ErrNotFound
	}
	return h, nil
}

// MaxAssign bounds the households one AssignGrid call moves (each moves its
// members, in one transaction).
const MaxAssign = 2000

// AssignGrid puts households of one village on one of its grids (grid 0:
// takes them off any grid, back to the village itself); their present
// members follow, as transfers, like UpdateHousehold moving one household.
// Everything commits together, one audit entry per household moved. The
// principal needs grid.manage where each household lives and at the grid
// (assigning households to grids is grid governance: the village's grid
// manager need not be a registry clerk); a household outside its scope is
// db.ErrNotFound, one of another village a field error. It returns how many
// households moved (those on the grid already are left alone).
func (s *Service) AssignGrid(ctx context.Context, p *access.Principal, householdIDs []int64, grid int64) (int, error) {
	seen := map[int64]bool{}
	var list []int64
	for _, id := range householdIDs {
		if !seen[id] {
			seen[id] = true
			list = append(list, id)
		}
	}
	if len(list) == 0 {
		return 0, nil
	}
	if len(list) > MaxAssign {
		return 0, Errors{{Field: "households", Code: "too_long"}}
	}
	var village int64
	if grid != 0 {
		d, err := s.Divisions.Get(ctx, grid)
		if err != nil || d.Level != 6 || d.Kind != division.KindGrid || d.Retired {
			if err != nil && !errors.Is(err, db.ErrNotFound) {
				return 0, err
			}
			return 0, Errors{{Field: "grid", Code: "division_unknown"}}
		}
		if p == nil || !p.CanAt("grid.manage", grid) {
			return 0, s.scope(ctx, p, "grid.manage", grid, "division", grid)
		}
		village = d.Parent
	}
	moved := 0
	err := s.DB.Tx(ctx, func(ctx context.Context) error {
		day := s.today()
		for _, id := range list {
			h, err := s.st.household(ctx, id)
			if errors.Is(err, db.ErrNotFound) {
				return Errors{{Field: "households", Code: "household_unknown"}}
			}
			if err != nil {
				return err
			}
			if err := s.scope(ctx, p, "grid.manage", h.Division(), "household", id); err != nil {
				return err
			}
			if village == 0 {
				village = h.Village
			}
			if h.Village != village {
				return Errors{{Field: "households", Code: "household_other_village"}}
			}
			if h.Grid == grid {
				continue
			}
			old := h
			h.Grid = grid
			if _, err := s.DB.Exec(ctx, "UPDATE households SET grid = ?, updated_at = ? WHERE id = ?", grid, db.Now(), id); err != nil {
				return err
			}
			members, err := s.st.residents(ctx, "household_id = ? AND status = ?", id, Present)
			if err != nil {
				return err
			}
			for _, m := range members {
				if err := s.relocate(ctx, m, h.Division(), id, day, EventTransfer); err != nil {
					return err
				}
			}
			if err := s.Audit.Write(ctx, audit.Entry{Action: audit.Update, Entity: "household", EntityID: strconv.FormatInt(id, 10),
				Division: h.Division(), Changes: []audit.Change{{Field: "division", Before: old.Division(), After: h.Division()},
					{Field: "members", After: len(members)}}}); err != nil {
				return err
			}
			moved++
		}
		return nil
	})
	if err != nil {
		return 0, s.audited(ctx, err)
	}
	return moved, nil
}

// HouseholdPoint is a household on the map: where it is and its address,
// nothing about who lives there.
type HouseholdPoint struct {
	ID       int64
	Division int64 // its grid, else its village
	Lat, Lon float64
	Address  string // address and house number
}

// HouseholdPoints returns the positioned households of [lo, hi] the
// principal may see (resident.view), at most limit (1–20,000) in id order.
func (s *Service) HouseholdPoints(ctx context.Context, p *access.Principal, lo, hi int64, limit int) ([]HouseholdPoint, error) {
	if limit <= 0 || limit > 20_000 {
		limit = 20_000
	}
	cond, args := unitCond(lo, hi)
	scope, sargs := p.Where("resident.view", householdDivision)
	args = append(append(args, sargs...), limit)
	rows, err := s.DB.Query(ctx, `SELECT h.id, `+householdDivision+`, h.lat, h.lon, h.address, h.house_no FROM households h
		WHERE `+cond+` AND `+scope+` AND h.lat IS NOT NULL AND h.lon IS NOT NULL ORDER BY h.id LIMIT ?`, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []HouseholdPoint
	for rows.Next() {
		var pt HouseholdPoint
		var houseNo string
		if err := rows.Scan(&pt.ID, &pt.Division, &pt.Lat, &pt.Lon, &pt.Address, &houseNo); err != nil {
			return nil, err
		}
		pt.Address += houseNo
		out = append(out, pt)
	}
	return out, rows.Err()
}

// UnitCount is how many households and present residents live directly in
// a unit (a grid, or a village outside its grids).
type UnitCount struct {
	Households int
	Residents  int
}

// CountsIn returns the households and present residents of the units in
// [lo, hi], keyed by unit (households on no grid count at their village).
// Counts are no personal data: resident.view, division.view or grid.view at
// lo suffices; anything else is db.ErrNotFound.
func (s *Service) CountsIn(ctx context.Context, p *access.Principal, lo, hi int64) (map[int64]UnitCount, error) {
	if p == nil || !p.CanAt("resident.view", lo) && !p.CanAt("division.view", lo) && !p.CanAt("grid.view", lo) {
		return nil, db.ErrNotFound
	}
	out := map[int64]UnitCount{}
	cond, args := unitCond(lo, hi)
	rows, err := s.DB.Query(ctx, "SELECT "+householdDivision+", COUNT(*) FROM households h WHERE "+cond+" GROUP BY "+householdDivision, args...)
	if err != nil {
		return nil, err
	}
	for rows.Next() {
		var code int64
		var n int
		if err := rows.Scan(&code, &n); err != nil {
			rows.Close()
			return nil, err
		}
		c := out[code]
		c.Households = n
		out[code] = c
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, err
	}
	rows, err = s.DB.Query(ctx, "SELECT division, COUNT(*) FROM residents WHERE division >= ? AND division <= ? AND status = ? GROUP BY division", lo, hi, Present)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	for rows.Next() {
		var code int64
		var n int
		if err := rows.Scan(&code, &n); err != nil {
			return nil, err
		}
		c := out[code]
		c.Residents = n
		out[code] = c
	}
	return out, rows.Err()
}

// PartyMembers lists the present party members living in [lo, hi] whom the
// principal may see (resident.view), by name, at most limit (1–2,000).
func (s *Service) PartyMembers(ctx context.Context, p *access.Principal, lo, hi int64, limit int) ([]Resident, error) {
	if limit <= 0 || limit > 2000 {
		limit = 2000
	}
	scope, args := p.Where("resident.view", "division")
	return s.st.residents(ctx, "division >= ? AND division <= ? AND party_member = 1 AND status = ? AND "+scope+" ORDER BY name, id LIMIT ?",
		append(append([]any{lo, hi, Present}, args...), limit)...)
}

// ResidentNames returns the names of the residents of ids whom the
// principal may see (resident.view where they live); the others are left
// out, not refused, so a list naming residents (a grid's chiefs and party
// members) shows what the reader may see without a denial per row.
func (s *Service) ResidentNames(ctx context.Context, p *access.Principal, idList []int64) (map[int64]string, error) {
	out := map[int64]string{}
	scope, sargs := p.Where("resident.view", "division")
	const chunk = 500
	for start := 0; start < len(idList); start += chunk {
		part := idList[start:min(start+chunk, len(idList))]
		args := make([]any, 0, len(part)+len(sargs))
		for _, id := range part {
			args = append(args, id)
		}
		rows, err := s.DB.Query(ctx, "SELECT id, name FROM residents WHERE id IN ("+db.Placeholders(len(part))+") AND "+scope, append(args, sargs...)...)
		if err != nil {
			return nil, err
		}
		for rows.Next() {
			var id int64
			var name string
			if err := rows.Scan(&id, &name); err != nil {
				rows.Close()
				return nil, err
			}
			out[id] = name
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return nil, err
		}
	}
	return out, nil
}
