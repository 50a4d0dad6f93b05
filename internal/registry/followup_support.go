package registry

// Reads of the registry that grid governance's patrols and special-group
// follow-ups (internal/grid, DG-9, DG-17) need: the households of a grid a
// worker walks, the number of current households each unit has (the
// denominator of patrol coverage) and the residents of a unit who carry a
// restricted tag.

import (
	"context"
	"slices"
	"strconv"
	"strings"

	"github.com/shequ-platform/shequ/internal/platform/access"
	"github.com/shequ-platform/shequ/internal/platform/db"
	"github.com/shequ-platform/shequ/internal/platform/ids"
)

// currentHousehold is the condition of a current household: someone still
// lives in it. A household whose members all moved out or died stays on
// record but is no longer visited or counted.
const currentHousehold = "EXISTS (SELECT 1 FROM residents r WHERE r.household_id = h.id AND r.status = 'present')"

// scanHouseholdRow scans the columns householdRowCols (grids.go) lists.
func scanHouseholdRow(sc interface{ Scan(...any) error }) (HouseholdRow, error) {
	var hr HouseholdRow
	h := &hr.Household
	var lat, lon *float64
	err := sc.Scan(&h.ID, &h.County, &h.Village, &h.Grid, &h.Number, &h.Kind, &h.Address, &h.HouseNo, &lat, &lon, &h.CreatedAt, &h.UpdatedAt,
		&hr.Head, &hr.Members)
	if lat != nil && lon != nil {
		h.Lat, h.Lon = lat, lon
	}
	return hr, err
}

// PatrolHouseholds lists the current households of a village or grid for a
// grid worker's visits, by address and house number: those whose house
// number, household number or address matches q when q is given, and of
// those the ones keep accepts (nil: all), at most limit (1–200). The
// principal needs resident.view at unit; elsewhere the answer is
// db.ErrNotFound, audited. A unit above village level lists nothing.
func (s *Service) PatrolHouseholds(ctx context.Context, p *access.Principal, unit int64, q string, keep func(id int64) bool, limit int) ([]HouseholdRow, error) {
	if err := s.scope(ctx, p, "resident.view", unit, "household", 0); err != nil {
		return nil, db.ErrNotFound
	}
	if ids.Level(unit) < 5 {
		return nil, nil
	}
	if limit <= 0 || limit > 200 {
		limit = 50
	}
	cond, args := unitCond(ids.Subtree(unit))
	where := cond + " AND " + currentHousehold
	if q = strings.TrimSpace(q); q != "" {
		like := "%" + strings.NewReplacer("\\", "\\\\", "%", "\\%", "_", "\\_").Replace(q) + "%"
		op := "LIKE"
		if s.DB.Dialect == db.Postgres {
			op = "ILIKE"
		}
		where += " AND (h.house_no " + op + " ? ESCAPE '\\' OR h.address " + op + " ? ESCAPE '\\' OR h.number = ?)"
		args = append(args, like, like, q)
	}
	rows, err := s.DB.Query(ctx, "SELECT "+householdRowCols+" FROM households h WHERE "+where+" ORDER BY h.address, h.house_no, h.id", args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []HouseholdRow
	for len(out) < limit && rows.Next() {
		hr, err := scanHouseholdRow(rows)
		if err != nil {
			return nil, err
		}
		if keep == nil || keep(hr.ID) {
			out = append(out, hr)
		}
	}
	return out, rows.Err()
}

// HouseholdsByID returns the households of ids the principal may see
// (resident.view where they live), by id; the others are left out, not
// refused, so a list of records that name households (patrol visits) shows
// what the reader may see.
func (s *Service) HouseholdsByID(ctx context.Context, p *access.Principal, idList []int64) (map[int64]HouseholdRow, error) {
	out := map[int64]HouseholdRow{}
	idList = slices.Compact(slices.Sorted(slices.Values(idList)))
	scope, sargs := p.Where("resident.view", householdDivision)
	const chunk = 500
	for len(idList) > 0 {
		n := min(chunk, len(idList))
		args := make([]any, 0, n+len(sargs))
		for _, id := range idList[:n] {
			args = append(args, id)
		}
		args = append(args, sargs...)
		rows, err := s.DB.Query(ctx, "SELECT "+householdRowCols+" FROM households h WHERE h.id IN ("+db.Placeholders(n)+") AND "+scope, args...)
		if err != nil {
			return nil, err
		}
		for rows.Next() {
			hr, err := scanHouseholdRow(rows)
			if err != nil {
				rows.Close()
				return nil, err
			}
			out[hr.ID] = hr
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return nil, err
		}
		idList = idList[n:]
	}
	return out, nil
}

// CurrentHouseholds counts the current households (someone lives in them)
// of the units in [lo, hi], by unit: the grid, else the village. It reads
// counts only, no personal data; the caller checks the principal's scope
// (patrol coverage needs grid.view, not resident.view).
func (s *Service) CurrentHouseholds(ctx context.Context, lo, hi int64) (map[int64]int64, error) {
	// the villages whose code lies in [lo, hi] hold every household of
	// the range; a range inside one village (a grid) is narrowed after
	vlo, vhi := lo/1000*1000, hi/1000*1000
	rows, err := s.DB.Query(ctx, "SELECT "+householdDivision+", COUNT(*) FROM households h WHERE h.village >= ? AND h.village <= ? AND "+
		currentHousehold+" GROUP BY "+householdDivision, vlo, vhi)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := map[int64]int64{}
	for rows.Next() {
		var unit, n int64
		if err := rows.Scan(&unit, &n); err != nil {
			return nil, err
		}
		if unit >= lo && unit <= hi {
			out[unit] = n
		}
	}
	return out, rows.Err()
}

// RestrictedTags lists the keys of the restricted tags (special groups,
// DG-17) of the pack governing a division.
func (s *Service) RestrictedTags(code int64) []string {
	var out []string
	for _, t := range s.registryOf(code).Tags {
		if t.Restricted {
			out = append(out, t.Key)
		}
	}
	return out
}

// MaxSpecial bounds the residents SpecialResidents returns.
const MaxSpecial = 5000

// SpecialResidents lists the residents present in unit's subtree who carry
// a restricted tag of the pack governing where they live, by name, with all
// their tags, at most MaxSpecial (more reports whether there were more).
// The principal needs resident.special at unit; elsewhere the answer is
// db.ErrNotFound, audited.
func (s *Service) SpecialResidents(ctx context.Context, p *access.Principal, unit int64) (out []Hit, more bool, err error) {
	if p == nil || !p.CanAt("resident.special", unit) {
		if s.Access != nil {
			s.Access.Deny(ctx, "special_groups", strconv.FormatInt(unit, 10), unit)
		}
		return nil, false, db.ErrNotFound
	}
	// the restricted tags of every pack: a unit may span several packs
	var keys []string
	if s.Packs != nil {
		for _, pk := range s.Packs.Packs() {
			if pk.Registry == nil {
				continue
			}
			for _, t := range pk.Registry.Tags {
				if t.Restricted && !slices.Contains(keys, t.Key) {
					keys = append(keys, t.Key)
				}
			}
		}
	}
	if len(keys) == 0 {
		return nil, false, nil
	}
	lo, hi := ids.Subtree(unit)
	args := []any{lo, hi, Present}
	for _, k := range keys {
		args = append(args, k)
	}
	hits, err := s.load(ctx, `r.division >= ? AND r.division <= ? AND r.status = ? AND r.id IN (SELECT t.resident_id FROM resident_tags t WHERE t.tag IN (`+
		db.Placeholders(len(keys))+`)) ORDER BY r.name, r.id LIMIT `+strconv.Itoa(MaxSpecial+1), args)
	if err != nil {
		return nil, false, err
	}
	if len(hits) > MaxSpecial {
		hits, more = hits[:MaxSpecial], true
	}
	if err := s.fillTags(ctx, hits); err != nil {
		return nil, false, err
	}
	for _, h := range hits {
		// a tag restricted in one pack may be ordinary in the resident's own
		restricted := s.RestrictedTags(h.Division)
		if slices.ContainsFunc(h.Tags, func(t TagValue) bool { return slices.Contains(restricted, t.Tag) }) {
			out = append(out, h)
		}
	}
	return out, more, nil
}

// fillTags reads the tags of the hits, a few hundred residents a query.
func (s *Service) fillTags(ctx context.Context, hits []Hit) error {
	at := make(map[int64]int, len(hits))
	for i := range hits {
		at[hits[i].ID] = i
	}
	const chunk = 500
	for start := 0; start < len(hits); start += chunk {
		part := hits[start:min(start+chunk, len(hits))]
		args := make([]any, len(part))
		for i, h := range part {
			args[i] = h.ID
		}
		rows, err := s.DB.Query(ctx, "SELECT resident_id, tag, grade, since FROM resident_tags WHERE resident_id IN ("+
			db.Placeholders(len(part))+") ORDER BY resident_id, tag", args...)
		if err != nil {
			return err
		}
		for rows.Next() {
			var id int64
			var t TagValue
			if err := rows.Scan(&id, &t.Tag, &t.Grade, &t.Since); err != nil {
				rows.Close()
				return err
			}
			i := at[id]
			hits[i].Tags = append(hits[i].Tags, t)
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return err
		}
	}
	return nil
}
