package mediation

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"errors"
	"strconv"
	"strings"

	"github.com/shequ-platform/shequ/internal/platform/db"
)

// store is mediation's SQL (tables disputes, dispute_parties,
// dispute_sessions, dispute_visits and the 'dispute' rows of grid_counters);
// it joins the transaction in the context.
//
// The schema has no column for where a referred dispute went: a referred
// dispute keeps it in the agreement column, which a dispute that was not
// settled has no other use for (scanDispute and update map it to and from
// Dispute.ReferredTo).
type store struct{ db *db.DB }

const disputeColumns = `id, number, county, division, type, summary, state, mediators, incident_id, opened_day, closed_day,
	outcome, agreement, performance, created_at, created_by, updated_at`

func scanDispute(sc interface{ Scan(...any) error }) (Dispute, error) {
	var d Dispute
	var mediators string
	err := sc.Scan(&d.ID, &d.Number, &d.County, &d.Division, &d.Type, &d.Summary, &d.State, &mediators, &d.IncidentID,
		&d.OpenedDay, &d.ClosedDay, &d.Outcome, &d.Agreement, &d.Performance, &d.CreatedAt, &d.CreatedBy, &d.UpdatedAt)
	if errors.Is(err, sql.ErrNoRows) {
		return d, db.ErrNotFound
	}
	if err != nil {
		return d, err
	}
	d.Mediators = splitStored(mediators)
	if d.State == StateReferred {
		d.ReferredTo, d.Agreement = d.Agreement, ""
	}
	return d, nil
}

// agreementColumn is what the agreement column holds for d (see store).
func agreementColumn(d Dispute) string {
	if d.State == StateReferred {
		return d.ReferredTo
	}
	return d.Agreement
}

func b2i(b bool) int {
	if b {
		return 1
	}
	return 0
}

func (s store) byID(ctx context.Context, id int64) (Dispute, error) {
	return scanDispute(s.db.QueryRow(ctx, `SELECT `+disputeColumns+` FROM disputes WHERE id = ?`, id))
}

func (s store) byNumber(ctx context.Context, number string) (Dispute, error) {
	return scanDispute(s.db.QueryRow(ctx, `SELECT `+disputeColumns+` FROM disputes WHERE number = ?`, number))
}

// lockForUpdate reads a dispute inside a transaction, locking its row on
// PostgreSQL (SQLite's single writer serialises already).
func (s store) lockForUpdate(ctx context.Context, id int64) (Dispute, error) {
	q := `SELECT ` + disputeColumns + ` FROM disputes WHERE id = ?`
	if s.db.Dialect == db.Postgres {
		q += " FOR UPDATE"
	}
	return scanDispute(s.db.QueryRow(ctx, q, id))
}

// insert stores a new dispute (its parties separately).
func (s store) insert(ctx context.Context, d *Dispute) error {
	id, err := s.db.InsertID(ctx, `INSERT INTO disputes (number, county, division, type, summary, state, is_open, mediators,
		incident_id, opened_day, closed_day, outcome, agreement, performance, created_at, created_by, updated_at)
		VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)`,
		d.Number, d.County, d.Division, d.Type, d.Summary, d.State, b2i(d.Open()), joinNames(d.Mediators),
		d.IncidentID, d.OpenedDay, d.ClosedDay, d.Outcome, agreementColumn(*d), d.Performance, d.CreatedAt, d.CreatedBy, d.UpdatedAt)
	d.ID = id
	return err
}

// update writes the mutable part of a dispute: its state and outcome.
func (s store) update(ctx context.Context, d Dispute) error {
	_, err := s.db.Exec(ctx, `UPDATE disputes SET state = ?, is_open = ?, closed_day = ?, outcome = ?, agreement = ?,
		performance = ?, updated_at = ? WHERE id = ?`,
		d.State, b2i(d.Open()), d.ClosedDay, d.Outcome, agreementColumn(d), d.Performance, d.UpdatedAt, d.ID)
	return err
}

func (s store) setNumber(ctx context.Context, id int64, number string) error {
	_, err := s.db.Exec(ctx, `UPDATE disputes SET number = ? WHERE id = ?`, number, id)
	return err
}

func (s store) touch(ctx context.Context, id, at int64) error {
	_, err := s.db.Exec(ctx, `UPDATE disputes SET updated_at = ? WHERE id = ?`, at, id)
	return err
}

// insertParty stores a party with its encrypted ID number and phone.
func (s store) insertParty(ctx context.Context, p *Party, idEnc, phoneEnc string) error {
	id, err := s.db.InsertID(ctx, `INSERT INTO dispute_parties (dispute_id, side, resident_id, name, gender, id_number, id_masked,
		phone, phone_masked, address) VALUES (?,?,?,?,?,?,?,?,?,?)`,
		p.DisputeID, p.Side, p.ResidentID, p.Name, p.Gender, idEnc, p.IDMasked, phoneEnc, p.PhoneMasked, p.Address)
	p.ID = id
	return err
}

// parties returns the parties of the disputes, by dispute, in their order.
func (s store) parties(ctx context.Context, ids ...int64) (map[int64][]Party, error) {
	out := map[int64][]Party{}
	if len(ids) == 0 {
		return out, nil
	}
	args := make([]any, len(ids))
	for i, id := range ids {
		args[i] = id
	}
	rows, err := s.db.Query(ctx, `SELECT id, dispute_id, side, resident_id, name, gender, id_masked, phone_masked, address
		FROM dispute_parties WHERE dispute_id IN (`+db.Placeholders(len(ids))+`) ORDER BY dispute_id, id`, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	for rows.Next() {
		var p Party
		if err := rows.Scan(&p.ID, &p.DisputeID, &p.Side, &p.ResidentID, &p.Name, &p.Gender, &p.IDMasked, &p.PhoneMasked, &p.Address); err != nil {
			return nil, err
		}
		out[p.DisputeID] = append(out[p.DisputeID], p)
	}
	return out, rows.Err()
}

func (s store) insertSession(ctx context.Context, se *Session) error {
	id, err := s.db.InsertID(ctx, `INSERT INTO dispute_sessions (dispute_id, day, place, mediators, note, at, actor)
		VALUES (?,?,?,?,?,?,?)`, se.DisputeID, se.Day, se.Place, joinNames(se.Mediators), se.Note, se.At, se.Actor)
	se.ID = id
	return err
}

func (s store) sessions(ctx context.Context, disputeID int64) ([]Session, error) {
	rows, err := s.db.Query(ctx, `SELECT id, dispute_id, day, place, mediators, note, at, actor
		FROM dispute_sessions WHERE dispute_id = ? ORDER BY day, id`, disputeID)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []Session
	for rows.Next() {
		var se Session
		var mediators string
		if err := rows.Scan(&se.ID, &se.DisputeID, &se.Day, &se.Place, &mediators, &se.Note, &se.At, &se.Actor); err != nil {
			return nil, err
		}
		se.Mediators = splitStored(mediators)
		out = append(out, se)
	}
	return out, rows.Err()
}

func (s store) insertVisit(ctx context.Context, v *Visit) error {
	id, err := s.db.InsertID(ctx, `INSERT INTO dispute_visits (dispute_id, day, note, holding, at, actor)
		VALUES (?,?,?,?,?,?)`, v.DisputeID, v.Day, v.Note, b2i(v.Holding), v.At, v.Actor)
	v.ID = id
	return err
}

func (s store) visits(ctx context.Context, disputeID int64) ([]Visit, error) {
	rows, err := s.db.Query(ctx, `SELECT id, dispute_id, day, note, holding, at, actor
		FROM dispute_visits WHERE dispute_id = ? ORDER BY day, id`, disputeID)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []Visit
	for rows.Next() {
		var v Visit
		var holding int
		if err := rows.Scan(&v.ID, &v.DisputeID, &v.Day, &v.Note, &holding, &v.At, &v.Actor); err != nil {
			return nil, err
		}
		v.Holding = holding != 0
		out = append(out, v)
	}
	return out, rows.Err()
}

// counterKind is the kind of dispute numbers in grid_counters.
const counterKind = "dispute"

// nextNumber allocates the day's next dispute sequence number of unit.
func (s store) nextNumber(ctx context.Context, unit int64, day int) (int64, error) {
	var n int64
	err := s.db.QueryRow(ctx, `INSERT INTO grid_counters (kind, division, day, n) VALUES (?, ?, ?, 1)
		ON CONFLICT (kind, division, day) DO UPDATE SET n = grid_counters.n + 1 RETURNING n`, counterKind, unit, day).Scan(&n)
	return n, err
}

// NumberMark sits between a dispute number's unit and its day: 调解 (TJ),
// so a dispute number is never taken for a case or an incident number.
const NumberMark = "TJ"

// disputeNumber formats a dispute number: the mediating unit's 12-digit
// statistical code, TJ and the day of registration, and the unit's sequence
// of that day, e.g. 320205001001-TJ20260930-0001.
func disputeNumber(unit int64, day int, n int64) string {
	seq := strconv.FormatInt(n, 10)
	if len(seq) < 4 {
		seq = strings.Repeat("0", 4-len(seq)) + seq
	}
	return strconv.FormatInt(unit/1000, 10) + "-" + NumberMark + strconv.Itoa(day) + "-" + seq
}

// provisionalNumber is a dispute's unique number until its real one is
// drawn at the end of Register's transaction (never visible outside it).
func provisionalNumber() string {
	b := make([]byte, 12)
	_, _ = rand.Read(b)
	return "~" + hex.EncodeToString(b)
}

func escapeLike(s string) string {
	return strings.NewReplacer(`\`, `\\`, `%`, `\%`, `_`, `\_`).Replace(s)
}
