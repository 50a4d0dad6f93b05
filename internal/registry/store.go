package registry

import (
	"context"
	"database/sql"
	"errors"
	"strings"

	"github.com/shequ-platform/shequ/internal/platform/db"
	"github.com/shequ-platform/shequ/internal/platform/pii"
)

// store is the registry's SQL. Every method joins the transaction in ctx.
type store struct{ db *db.DB }

const householdCols = "id, county, village, grid, number, kind, address, house_no, lat, lon, created_at, updated_at"

func scanHousehold(sc interface{ Scan(...any) error }) (Household, error) {
	var h Household
	var lat, lon sql.NullFloat64
	err := sc.Scan(&h.ID, &h.County, &h.Village, &h.Grid, &h.Number, &h.Kind, &h.Address, &h.HouseNo, &lat, &lon, &h.CreatedAt, &h.UpdatedAt)
	if lat.Valid && lon.Valid {
		h.Lat, h.Lon = &lat.Float64, &lon.Float64
	}
	if errors.Is(err, sql.ErrNoRows) {
		err = db.ErrNotFound
	}
	return h, err
}

func (s store) household(ctx context.Context, id int64) (Household, error) {
	return scanHousehold(s.db.QueryRow(ctx, "SELECT "+householdCols+" FROM households WHERE id = ?", id))
}

func (s store) householdByNumber(ctx context.Context, village int64, number string) (Household, error) {
	return scanHousehold(s.db.QueryRow(ctx, "SELECT "+householdCols+" FROM households WHERE village = ? AND number = ? AND number <> ''", village, number))
}

func (s store) insertHousehold(ctx context.Context, h *Household) error {
	now := db.Now()
	h.CreatedAt, h.UpdatedAt = now, now
	var err error
	h.ID, err = s.db.InsertID(ctx, `INSERT INTO households (county, village, grid, number, kind, address, house_no, lat, lon, created_at, updated_at)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`, h.County, h.Village, h.Grid, h.Number, h.Kind, h.Address, h.HouseNo, h.Lat, h.Lon, now, now)
	if err != nil {
		return err
	}
	return s.indexAddresses(ctx, []addrEntry{{id: h.ID, village: h.Village, address: h.Address, fresh: true}})
}

func (s store) updateHousehold(ctx context.Context, h Household) error {
	_, err := s.db.Exec(ctx, `UPDATE households SET grid = ?, number = ?, kind = ?, address = ?, house_no = ?, lat = ?, lon = ?, updated_at = ? WHERE id = ?`,
		h.Grid, h.Number, h.Kind, h.Address, h.HouseNo, h.Lat, h.Lon, db.Now(), h.ID)
	if err != nil {
		return err
	}
	return s.indexAddresses(ctx, []addrEntry{{id: h.ID, village: h.Village, address: h.Address}})
}

const residentCols = "id, county, division, household_id, relation, name, gender, birth, ethnicity, id_masked, phone_masked, residency, status, party_member, education, employment, since, created_at, updated_at"

func scanResident(sc interface{ Scan(...any) error }) (Resident, error) {
	var r Resident
	var party int
	err := sc.Scan(&r.ID, &r.County, &r.Division, &r.HouseholdID, &r.Relation, &r.Name, &r.Gender, &r.Birth, &r.Ethnicity,
		&r.IDMasked, &r.PhoneMasked, &r.Residency, &r.Status, &party, &r.Education, &r.Employment, &r.Since, &r.CreatedAt, &r.UpdatedAt)
	r.PartyMember = party != 0
	if errors.Is(err, sql.ErrNoRows) {
		err = db.ErrNotFound
	}
	return r, err
}

func (s store) resident(ctx context.Context, id int64) (Resident, error) {
	return scanResident(s.db.QueryRow(ctx, "SELECT "+residentCols+" FROM residents WHERE id = ?", id))
}

func (s store) residents(ctx context.Context, where string, args ...any) ([]Resident, error) {
	rows, err := s.db.Query(ctx, "SELECT "+residentCols+" FROM residents WHERE "+where, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []Resident
	for rows.Next() {
		r, err := scanResident(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, r)
	}
	return out, rows.Err()
}

// secrets are the encrypted and hashed forms of a resident's personal data.
type secrets struct {
	idEnc, idLookup, idMasked, idTail4, idTail6    string
	phoneEnc, phoneLookup, phoneMasked, phoneTail4 string
}

func nullable(s string) any {
	if s == "" {
		return nil
	}
	return s
}

func (s store) insertResident(ctx context.Context, r *Resident, sec secrets) error {
	now := db.Now()
	r.CreatedAt, r.UpdatedAt = now, now
	var err error
	r.ID, err = s.db.InsertID(ctx, `INSERT INTO residents (county, division, household_id, relation, name, gender, birth, ethnicity,
		id_enc, id_lookup, id_masked, id_tail4, id_tail6, phone_enc, phone_lookup, phone_masked, phone_tail4,
		residency, status, party_member, education, employment, since, created_at, updated_at)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`,
		r.County, r.Division, r.HouseholdID, r.Relation, r.Name, r.Gender, r.Birth, r.Ethnicity,
		sec.idEnc, nullable(sec.idLookup), sec.idMasked, sec.idTail4, sec.idTail6, sec.phoneEnc, sec.phoneLookup, sec.phoneMasked, sec.phoneTail4,
		r.Residency, r.Status, b2i(r.PartyMember), r.Education, r.Employment, r.Since, now, now)
	if err != nil {
		return err
	}
	if sec.idLookup != "" {
		if _, err := s.db.Exec(ctx, "INSERT INTO person_ids (id_lookup, resident_id) VALUES (?, ?)", sec.idLookup, r.ID); err != nil {
			return err
		}
	}
	return nil
}

func (s store) updateResident(ctx context.Context, r Resident, sec secrets) error {
	_, err := s.db.Exec(ctx, `UPDATE residents SET relation = ?, name = ?, gender = ?, birth = ?, ethnicity = ?,
		id_enc = ?, id_lookup = ?, id_masked = ?, id_tail4 = ?, id_tail6 = ?, phone_enc = ?, phone_lookup = ?, phone_masked = ?, phone_tail4 = ?,
		residency = ?, party_member = ?, education = ?, employment = ?, updated_at = ? WHERE id = ?`,
		r.Relation, r.Name, r.Gender, r.Birth, r.Ethnicity, sec.idEnc, nullable(sec.idLookup), sec.idMasked, sec.idTail4, sec.idTail6,
		sec.phoneEnc, sec.phoneLookup, sec.phoneMasked, sec.phoneTail4, r.Residency, b2i(r.PartyMember), r.Education, r.Employment, db.Now(), r.ID)
	return err
}

func (s store) secretsOf(ctx context.Context, id int64) (secrets, error) {
	var sec secrets
	var lookup sql.NullString
	err := s.db.QueryRow(ctx, `SELECT id_enc, id_lookup, id_masked, id_tail4, id_tail6, phone_enc, phone_lookup, phone_masked, phone_tail4
		FROM residents WHERE id = ?`, id).Scan(&sec.idEnc, &lookup, &sec.idMasked, &sec.idTail4, &sec.idTail6,
		&sec.phoneEnc, &sec.phoneLookup, &sec.phoneMasked, &sec.phoneTail4)
	sec.idLookup = lookup.String
	if errors.Is(err, sql.ErrNoRows) {
		err = db.ErrNotFound
	}
	return sec, err
}

// residentByLookup finds the one resident holding an ID number anywhere in
// the deployment.
func (s store) residentByLookup(ctx context.Context, lookup string) (int64, error) {
	var id int64
	err := s.db.QueryRow(ctx, "SELECT resident_id FROM person_ids WHERE id_lookup = ?", lookup).Scan(&id)
	if errors.Is(err, sql.ErrNoRows) {
		return 0, db.ErrNotFound
	}
	return id, err
}

func (s store) setLookup(ctx context.Context, id int64, old, new string) error {
	if old == new {
		return nil
	}
	if old != "" {
		if _, err := s.db.Exec(ctx, "DELETE FROM person_ids WHERE id_lookup = ?", old); err != nil {
			return err
		}
	}
	if new != "" {
		_, err := s.db.Exec(ctx, "INSERT INTO person_ids (id_lookup, resident_id) VALUES (?, ?)", new, id)
		return err
	}
	return nil
}

func (s store) openStint(ctx context.Context, r Resident) error {
	_, err := s.db.Exec(ctx, "INSERT INTO residencies (resident_id, division, household_id, residency, since) VALUES (?, ?, ?, ?, ?)",
		r.ID, r.Division, r.HouseholdID, r.Residency, r.Since)
	return err
}

func (s store) closeStint(ctx context.Context, residentID int64, until int) error {
	_, err := s.db.Exec(ctx, "UPDATE residencies SET until = ? WHERE resident_id = ? AND until = 0", until, residentID)
	return err
}

func (s store) insertEvent(ctx context.Context, e Event) error {
	_, err := s.db.Exec(ctx, `INSERT INTO resident_events (resident_id, kind, effective, from_division, to_division, detail, recorded_at, recorded_by)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?)`, e.ResidentID, e.Kind, e.Effective, e.FromDivision, e.ToDivision, e.Detail, db.Now(), e.RecordedBy)
	return err
}

func (s store) events(ctx context.Context, residentID int64) ([]Event, error) {
	rows, err := s.db.Query(ctx, `SELECT id, resident_id, kind, effective, from_division, to_division, detail, recorded_at, recorded_by
		FROM resident_events WHERE resident_id = ? ORDER BY effective, id`, residentID)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []Event
	for rows.Next() {
		var e Event
		if err := rows.Scan(&e.ID, &e.ResidentID, &e.Kind, &e.Effective, &e.FromDivision, &e.ToDivision, &e.Detail, &e.RecordedAt, &e.RecordedBy); err != nil {
			return nil, err
		}
		out = append(out, e)
	}
	return out, rows.Err()
}

func (s store) tags(ctx context.Context, residentID int64) ([]TagValue, error) {
	rows, err := s.db.Query(ctx, "SELECT tag, grade, since FROM resident_tags WHERE resident_id = ? ORDER BY tag", residentID)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []TagValue
	for rows.Next() {
		var t TagValue
		if err := rows.Scan(&t.Tag, &t.Grade, &t.Since); err != nil {
			return nil, err
		}
		out = append(out, t)
	}
	return out, rows.Err()
}

func (s store) setTag(ctx context.Context, residentID int64, t TagValue) error {
	_, err := s.db.Exec(ctx, `INSERT INTO resident_tags (resident_id, tag, grade, since) VALUES (?, ?, ?, ?)
		ON CONFLICT (resident_id, tag) DO UPDATE SET grade = excluded.grade`, residentID, t.Tag, t.Grade, t.Since)
	return err
}

func (s store) removeTag(ctx context.Context, residentID int64, tag string) (bool, error) {
	res, err := s.db.Exec(ctx, "DELETE FROM resident_tags WHERE resident_id = ? AND tag = ?", residentID, tag)
	if err != nil {
		return false, err
	}
	n, _ := res.RowsAffected()
	return n > 0, nil
}

func (s store) setKeys(ctx context.Context, residentID, division int64, keys []string) error {
	if _, err := s.db.Exec(ctx, "DELETE FROM resident_keys WHERE resident_id = ?", residentID); err != nil {
		return err
	}
	if len(keys) == 0 {
		return nil
	}
	var b strings.Builder
	args := make([]any, 0, 3*len(keys))
	b.WriteString("INSERT INTO resident_keys (key, division, resident_id) VALUES ")
	for i, k := range keys {
		if i > 0 {
			b.WriteString(", ")
		}
		b.WriteString("(?, ?, ?)")
		args = append(args, k, division, residentID)
	}
	b.WriteString(" ON CONFLICT DO NOTHING")
	_, err := s.db.Exec(ctx, b.String(), args...)
	return err
}

func b2i(b bool) int {
	if b {
		return 1
	}
	return 0
}

// Reencrypt rewrites every resident's ciphertext not written with the
// current key version (after `shequ keys rotate`); it can be interrupted and
// run again. It returns the number of residents rewritten.
func (s *Service) Reencrypt(ctx context.Context, progress func(n int64)) (int64, error) {
	return pii.Reencrypt(ctx, s.DB, s.Keys, "residents", []string{"id_enc", "phone_enc"}, progress)
}

// Reachable calls each(id, division) for the residents present in [lo, hi]
// who have a phone, in id order: the applicants a generator (the demo's
// service-window cases) may file for. It reads ids and codes only; names,
// numbers and tags stay behind Get and Contact.
func (s *Service) Reachable(ctx context.Context, lo, hi int64, each func(id, division int64)) error {
	rows, err := s.DB.Query(ctx, `SELECT id, division FROM residents
		WHERE division >= ? AND division <= ? AND status = ? AND phone_masked <> '' ORDER BY id`, lo, hi, Present)
	if err != nil {
		return err
	}
	defer rows.Close()
	for rows.Next() {
		var id, div int64
		if err := rows.Scan(&id, &div); err != nil {
			return err
		}
		each(id, div)
	}
	return rows.Err()
}
