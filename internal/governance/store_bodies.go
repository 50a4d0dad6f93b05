package governance

import (
	"context"
	"database/sql"
	"errors"

	"github.com/shequ-platform/shequ/internal/platform/db"
)

// The SQL of bodies and members (gov_bodies, gov_members). Every function
// joins the transaction in the context.

const bodyColumns = `b.id, b.county, b.division, b.kind, b.name, b.term_start, b.term_end, b.party_members, b.note,
	b.created_at, b.created_by, b.updated_at`

// bodyCurrent is the SQL test of a body in office on day ?: its term has
// not ended, or members still serve.
const bodyCurrent = `(b.term_end = 0 OR b.term_end >= ? OR EXISTS (SELECT 1 FROM gov_members cm WHERE cm.body_id = b.id AND cm.until_day = 0))`

func scanBody(sc interface{ Scan(...any) error }) (Body, error) {
	var b Body
	var current int
	err := sc.Scan(&b.ID, &b.County, &b.Division, &b.Kind, &b.Name, &b.TermStart, &b.TermEnd, &b.PartyMembers, &b.Note,
		&b.CreatedAt, &b.CreatedBy, &b.UpdatedAt, &current)
	if errors.Is(err, sql.ErrNoRows) {
		return b, db.ErrNotFound
	}
	b.Current = current != 0
	return b, err
}

func sqlBool(b bool) int {
	if b {
		return 1
	}
	return 0
}

// bodyRow reads a body (locked for update on PostgreSQL when lock is set).
func bodyRow(ctx context.Context, d *db.DB, id int64, lock bool, today int) (Body, error) {
	q := `SELECT ` + bodyColumns + `, CASE WHEN ` + bodyCurrent + ` THEN 1 ELSE 0 END FROM gov_bodies b WHERE b.id = ?`
	if lock && d.Dialect == db.Postgres {
		q += " FOR UPDATE OF b"
	}
	return scanBody(d.QueryRow(ctx, q, today, id))
}

// bodiesIn lists the bodies of the divisions in [lo, hi]: the current ones,
// or all when all is set.
func bodiesIn(ctx context.Context, d *db.DB, lo, hi int64, all bool, today int) ([]Body, error) {
	q := `SELECT ` + bodyColumns + `, CASE WHEN ` + bodyCurrent + ` THEN 1 ELSE 0 END FROM gov_bodies b WHERE b.division >= ? AND b.division <= ?`
	args := []any{today, lo, hi}
	if !all {
		q += ` AND ` + bodyCurrent
		args = append(args, today)
	}
	rows, err := d.Query(ctx, q+` ORDER BY b.division, b.kind, b.term_start DESC, b.id`, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []Body
	for rows.Next() {
		b, err := scanBody(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, b)
	}
	return out, rows.Err()
}

func insertBody(ctx context.Context, d *db.DB, b *Body) error {
	id, err := d.InsertID(ctx, `INSERT INTO gov_bodies (county, division, kind, name, term_start, term_end, party_members, note,
		created_at, created_by, updated_at) VALUES (?,?,?,?,?,?,?,?,?,?,?)`,
		b.County, b.Division, b.Kind, b.Name, b.TermStart, b.TermEnd, b.PartyMembers, b.Note, b.CreatedAt, b.CreatedBy, b.UpdatedAt)
	b.ID = id
	return err
}

func updateBody(ctx context.Context, d *db.DB, b Body) error {
	_, err := d.Exec(ctx, `UPDATE gov_bodies SET name = ?, term_end = ?, party_members = ?, note = ?, updated_at = ? WHERE id = ?`,
		b.Name, b.TermEnd, b.PartyMembers, b.Note, b.UpdatedAt, b.ID)
	return err
}

func touchBody(ctx context.Context, d *db.DB, id, at int64) error {
	_, err := d.Exec(ctx, `UPDATE gov_bodies SET updated_at = ? WHERE id = ?`, at, id)
	return err
}

// endTerm ends a body's term on last and the memberships still running.
func endTerm(ctx context.Context, d *db.DB, id int64, last int, at int64) error {
	if _, err := d.Exec(ctx, `UPDATE gov_bodies SET term_end = ?, updated_at = ? WHERE id = ?`, last, at, id); err != nil {
		return err
	}
	_, err := d.Exec(ctx, `UPDATE gov_members SET until_day = ? WHERE body_id = ? AND (until_day = 0 OR until_day > ?)`, last, id, last)
	return err
}

const memberColumns = `id, body_id, resident_id, name, gender, residency, party, post, since_day, until_day`

func scanMember(sc interface{ Scan(...any) error }) (Member, error) {
	var m Member
	var party int
	err := sc.Scan(&m.ID, &m.BodyID, &m.ResidentID, &m.Name, &m.Gender, &m.Residency, &party, &m.Post, &m.SinceDay, &m.UntilDay)
	if errors.Is(err, sql.ErrNoRows) {
		return m, db.ErrNotFound
	}
	m.Party = party != 0
	return m, err
}

func insertMember(ctx context.Context, d *db.DB, m *Member, at int64) error {
	id, err := d.InsertID(ctx, `INSERT INTO gov_members (body_id, resident_id, name, gender, residency, party, post, since_day,
		until_day, created_at) VALUES (?,?,?,?,?,?,?,?,?,?)`,
		m.BodyID, m.ResidentID, m.Name, m.Gender, m.Residency, sqlBool(m.Party), m.Post, m.SinceDay, m.UntilDay, at)
	m.ID = id
	return err
}

func memberRow(ctx context.Context, d *db.DB, id int64) (Member, error) {
	return scanMember(d.QueryRow(ctx, `SELECT `+memberColumns+` FROM gov_members WHERE id = ?`, id))
}

func endMember(ctx context.Context, d *db.DB, id int64, until int) error {
	_, err := d.Exec(ctx, `UPDATE gov_members SET until_day = ? WHERE id = ?`, until, id)
	return err
}

// membersOf returns the members of the bodies whose membership has not
// ended before day (day 0: every membership), by body, in appointment
// order.
func membersOf(ctx context.Context, d *db.DB, bodyIDs []int64, day int) (map[int64][]Member, error) {
	out := map[int64][]Member{}
	if len(bodyIDs) == 0 {
		return out, nil
	}
	const chunk = 500
	for start := 0; start < len(bodyIDs); start += chunk {
		part := bodyIDs[start:min(start+chunk, len(bodyIDs))]
		args := make([]any, 0, len(part)+2)
		for _, id := range part {
			args = append(args, id)
		}
		q := `SELECT ` + memberColumns + ` FROM gov_members WHERE body_id IN (` + db.Placeholders(len(part)) + `)`
		if day > 0 {
			q += ` AND (until_day = 0 OR until_day >= ?)`
			args = append(args, day)
		}
		rows, err := d.Query(ctx, q+` ORDER BY body_id, since_day, id`, args...)
		if err != nil {
			return nil, err
		}
		for rows.Next() {
			m, err := scanMember(rows)
			if err != nil {
				rows.Close()
				return nil, err
			}
			out[m.BodyID] = append(out[m.BodyID], m)
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return nil, err
		}
	}
	return out, nil
}

// allMembers returns every membership of a body, the running ones first.
func allMembers(ctx context.Context, d *db.DB, bodyID int64) ([]Member, error) {
	rows, err := d.Query(ctx, `SELECT `+memberColumns+` FROM gov_members WHERE body_id = ?
		ORDER BY CASE WHEN until_day = 0 THEN 0 ELSE 1 END, since_day, id`, bodyID)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []Member
	for rows.Next() {
		m, err := scanMember(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, m)
	}
	return out, rows.Err()
}

// lastHeld returns the day of each body's last held meeting.
func lastHeld(ctx context.Context, d *db.DB, bodyIDs []int64) (map[int64]int, error) {
	out := map[int64]int{}
	if len(bodyIDs) == 0 {
		return out, nil
	}
	args := make([]any, 0, len(bodyIDs)+1)
	args = append(args, MeetingHeld)
	for _, id := range bodyIDs {
		args = append(args, id)
	}
	rows, err := d.Query(ctx, `SELECT body_id, MAX(day) FROM gov_meetings WHERE state = ? AND body_id IN (`+
		db.Placeholders(len(bodyIDs))+`) GROUP BY body_id`, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	for rows.Next() {
		var id int64
		var day int
		if err := rows.Scan(&id, &day); err != nil {
			return nil, err
		}
		out[id] = day
	}
	return out, rows.Err()
}
