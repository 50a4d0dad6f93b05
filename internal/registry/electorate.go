package registry

import (
	"context"
	"slices"

	"github.com/shequ-platform/shequ/internal/platform/access"
	"github.com/shequ-platform/shequ/internal/platform/db"
	"github.com/shequ-platform/shequ/internal/platform/ids"
)

// What elections (internal/governance, DG-3) ask of the registry: the
// present residents of a village with what voter eligibility is decided
// on — birth, gender, residency and how long they have lived there — and
// nothing more.

// electorateCols are the columns Electorate reads: no ID number, no phone,
// not even their masked forms.
const electorateCols = "id, county, division, household_id, name, gender, birth, residency, status, party_member, since"

// Electorate calls each for every present resident of village (its grids,
// villager groups and buildings included), ordered by name, with ID,
// County, Division, HouseholdID, Name, Gender, Birth, Residency, Status,
// PartyMember and Since filled; personal numbers are left empty.
//
// Since is when the resident's continuous residence in the village began:
// the stints a move between the village's grids or a change of residency
// opened (each resets the resident's own Since) are joined back to the
// first of the unbroken chain, so a move from one grid to another does not
// cost a non-registered resident the years DG-3 counts.
//
// The principal needs resident.view over the whole village; anything else
// is db.ErrNotFound (audited). An error from each stops the walk and is
// returned.
func (s *Service) Electorate(ctx context.Context, p *access.Principal, village int64, each func(Resident) error) error {
	if ids.Level(village) != 5 {
		return db.ErrNotFound
	}
	if err := s.scope(ctx, p, "resident.view", village, "village", village); err != nil {
		return err
	}
	lo, hi := ids.Subtree(village)
	starts, err := s.villageStarts(ctx, lo, hi)
	if err != nil {
		return err
	}
	rows, err := s.DB.Query(ctx, "SELECT "+electorateCols+" FROM residents WHERE division >= ? AND division <= ? AND status = ? ORDER BY name, id",
		lo, hi, Present)
	if err != nil {
		return err
	}
	// Read the page into memory before calling each: each may write (in
	// the caller's transaction), which SQLite's single connection would
	// not allow while these rows are open.
	var out []Resident
	for rows.Next() {
		var r Resident
		var party int
		if err := rows.Scan(&r.ID, &r.County, &r.Division, &r.HouseholdID, &r.Name, &r.Gender, &r.Birth, &r.Residency,
			&r.Status, &party, &r.Since); err != nil {
			rows.Close()
			return err
		}
		r.PartyMember = party != 0
		if d, ok := starts[r.ID]; ok && d > 0 && (r.Since == 0 || d < r.Since) {
			r.Since = d
		}
		out = append(out, r)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return err
	}
	for _, r := range out {
		if err := each(r); err != nil {
			return err
		}
	}
	return nil
}

// villageStarts returns, per resident with a current stint in [lo, hi],
// the start of the unbroken chain of stints inside [lo, hi] that ends in
// the current one (a stint continues the one whose until is its since).
func (s *Service) villageStarts(ctx context.Context, lo, hi int64) (map[int64]int, error) {
	rows, err := s.DB.Query(ctx, "SELECT resident_id, since, until FROM residencies WHERE division >= ? AND division <= ?", lo, hi)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	type stint struct{ since, until int }
	byResident := map[int64][]stint{}
	for rows.Next() {
		var id int64
		var st stint
		if err := rows.Scan(&id, &st.since, &st.until); err != nil {
			return nil, err
		}
		byResident[id] = append(byResident[id], st)
	}
	if err := rows.Err(); err != nil {
		return nil, err
	}
	out := make(map[int64]int, len(byResident))
	for id, sts := range byResident {
		i := slices.IndexFunc(sts, func(st stint) bool { return st.until == 0 })
		if i < 0 {
			continue // no current stint here: not a present resident of the village
		}
		start := sts[i].since
		// walk back while an earlier stint in the village ends where this one begins
		for steps := 0; steps < len(sts); steps++ {
			j := slices.IndexFunc(sts, func(st stint) bool { return st.until != 0 && st.until == start && st.since <= start })
			if j < 0 {
				break
			}
			start = sts[j].since
		}
		out[id] = start
	}
	return out, nil
}
