package window

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"encoding/json"
	"errors"
	"strconv"

	"github.com/shequ-platform/shequ/internal/platform/db"
)

// store is the window's SQL; it joins the transaction in the context.
type store struct{ db *db.DB }

const caseColumns = `id, number, county, division, holder, holder_level, department, handler_id, handler_name,
	item_code, item_name, category, item_level, time_limit, channel, agency, state, resume_state, resident_id,
	applicant_name, phone_masked, id_masked, fields, materials, description, address, lat, lon, client_id, token,
	submitted_at, accepted_day, deadline, paused_day, paused_days, closed_at, closed_day, on_time, outcome, reason,
	rating, rating_comment, rated_at, updated_at`

func scanCase(sc interface{ Scan(...any) error }) (Case, error) {
	var c Case
	var agency, onTime int
	var fields, materials string
	var lat, lon sql.NullFloat64
	err := sc.Scan(&c.ID, &c.Number, &c.County, &c.Division, &c.Holder, &c.HolderLevel, &c.Department, &c.HandlerID, &c.HandlerName,
		&c.ItemCode, &c.ItemName, &c.Category, &c.ItemLevel, &c.TimeLimit, &c.Channel, &agency, &c.State, &c.ResumeState, &c.ResidentID,
		&c.Applicant, &c.PhoneMasked, &c.IDMasked, &fields, &materials, &c.Description, &c.Address, &lat, &lon, &c.ClientID, &c.Token,
		&c.SubmittedAt, &c.AcceptedDay, &c.Deadline, &c.PausedDay, &c.PausedDays, &c.ClosedAt, &c.ClosedDay, &onTime, &c.Outcome, &c.Reason,
		&c.Rating, &c.RatingNote, &c.RatedAt, &c.UpdatedAt)
	if errors.Is(err, sql.ErrNoRows) {
		return c, db.ErrNotFound
	}
	if err != nil {
		return c, err
	}
	c.Agency, c.OnTime = agency != 0, onTime != 0
	if lat.Valid && lon.Valid {
		c.Lat, c.Lon = &lat.Float64, &lon.Float64
	}
	if fields != "" {
		_ = json.Unmarshal([]byte(fields), &c.Fields)
	}
	if materials != "" {
		_ = json.Unmarshal([]byte(materials), &c.Materials)
	}
	return c, nil
}

func (s store) byID(ctx context.Context, id int64) (Case, error) {
	return scanCase(s.db.QueryRow(ctx, `SELECT `+caseColumns+` FROM cases WHERE id = ?`, id))
}

func (s store) byNumber(ctx context.Context, number string) (Case, error) {
	return scanCase(s.db.QueryRow(ctx, `SELECT `+caseColumns+` FROM cases WHERE number = ?`, number))
}

// lockForUpdate reads a case inside a transaction, locking its row on
// PostgreSQL (SQLite's single writer serialises already).
func (s store) lockForUpdate(ctx context.Context, id int64) (Case, error) {
	q := `SELECT ` + caseColumns + ` FROM cases WHERE id = ?`
	if s.db.Dialect == db.Postgres {
		q += " FOR UPDATE"
	}
	return scanCase(s.db.QueryRow(ctx, q, id))
}

// secrets reads a case's encrypted phone and ID number.
func (s store) secrets(ctx context.Context, id int64) (phone, idNumber string, err error) {
	err = s.db.QueryRow(ctx, `SELECT phone, id_number FROM cases WHERE id = ?`, id).Scan(&phone, &idNumber)
	if errors.Is(err, sql.ErrNoRows) {
		err = db.ErrNotFound
	}
	return
}

func jsonOrEmpty(v any) string {
	b, err := json.Marshal(v)
	if err != nil || string(b) == "null" || string(b) == "{}" || string(b) == "[]" {
		return ""
	}
	return string(b)
}

func b2i(b bool) int {
	if b {
		return 1
	}
	return 0
}

func nullFloat(f *float64) any {
	if f == nil {
		return nil
	}
	return *f
}

// insert stores a new case with its encrypted phone and ID number.
func (s store) insert(ctx context.Context, c *Case, phoneEnc, idEnc string) error {
	id, err := s.db.InsertID(ctx, `INSERT INTO cases (number, county, division, holder, holder_level, department, handler_id, handler_name,
		item_code, item_name, category, item_level, time_limit, channel, agency, state, resume_state, is_open, resident_id,
		applicant_name, phone, phone_masked, id_number, id_masked, fields, materials, description, address, lat, lon, client_id, token,
		submitted_at, accepted_day, deadline, paused_day, paused_days, closed_at, closed_day, on_time, outcome, reason, updated_at)
		VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)`,
		c.Number, c.County, c.Division, c.Holder, c.HolderLevel, c.Department, c.HandlerID, c.HandlerName,
		c.ItemCode, c.ItemName, c.Category, c.ItemLevel, c.TimeLimit, c.Channel, b2i(c.Agency), c.State, c.ResumeState, b2i(c.Open()), c.ResidentID,
		c.Applicant, phoneEnc, c.PhoneMasked, idEnc, c.IDMasked, jsonOrEmpty(c.Fields), jsonOrEmpty(c.Materials), c.Description, c.Address,
		nullFloat(c.Lat), nullFloat(c.Lon), c.ClientID, c.Token,
		c.SubmittedAt, c.AcceptedDay, c.Deadline, c.PausedDay, c.PausedDays, c.ClosedAt, c.ClosedDay, b2i(c.OnTime), c.Outcome, c.Reason, c.UpdatedAt)
	c.ID = id
	return err
}

// update writes the mutable part of a case.
func (s store) update(ctx context.Context, c Case) error {
	_, err := s.db.Exec(ctx, `UPDATE cases SET holder = ?, holder_level = ?, department = ?, handler_id = ?, handler_name = ?,
		agency = ?, state = ?, resume_state = ?, is_open = ?, materials = ?, accepted_day = ?, deadline = ?, paused_day = ?, paused_days = ?,
		closed_at = ?, closed_day = ?, on_time = ?, outcome = ?, reason = ?, rating = ?, rating_comment = ?, rated_at = ?, updated_at = ?
		WHERE id = ?`,
		c.Holder, c.HolderLevel, c.Department, c.HandlerID, c.HandlerName, b2i(c.Agency), c.State, c.ResumeState, b2i(c.Open()),
		jsonOrEmpty(c.Materials), c.AcceptedDay, c.Deadline, c.PausedDay, c.PausedDays, c.ClosedAt, c.ClosedDay, b2i(c.OnTime),
		c.Outcome, c.Reason, c.Rating, c.RatingNote, c.RatedAt, c.UpdatedAt, c.ID)
	return err
}

func (s store) addStep(ctx context.Context, st *Step) error {
	id, err := s.db.InsertID(ctx, `INSERT INTO case_steps (case_id, at, action, from_state, to_state, holder, actor_id, actor, note)
		VALUES (?,?,?,?,?,?,?,?,?)`, st.CaseID, st.At, st.Action, st.From, st.To, st.Holder, st.ActorID, st.Actor, st.Note)
	st.ID = id
	return err
}

func (s store) steps(ctx context.Context, caseID int64) ([]Step, error) {
	rows, err := s.db.Query(ctx, `SELECT id, case_id, at, action, from_state, to_state, holder, actor_id, actor, note
		FROM case_steps WHERE case_id = ? ORDER BY id`, caseID)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []Step
	for rows.Next() {
		var st Step
		if err := rows.Scan(&st.ID, &st.CaseID, &st.At, &st.Action, &st.From, &st.To, &st.Holder, &st.ActorID, &st.Actor, &st.Note); err != nil {
			return nil, err
		}
		out = append(out, st)
	}
	return out, rows.Err()
}

// nextNumber allocates the day's next sequence number of unit.
func (s store) nextNumber(ctx context.Context, unit int64, day int) (int64, error) {
	var n int64
	err := s.db.QueryRow(ctx, `INSERT INTO case_counters (division, day, n) VALUES (?, ?, 1)
		ON CONFLICT (division, day) DO UPDATE SET n = case_counters.n + 1 RETURNING n`, unit, day).Scan(&n)
	return n, err
}

// caseNumber formats a case number: the unit's 12-digit statistical code,
// the day and the day's sequence, e.g. 320205001004-20261123-0007.
func caseNumber(unit int64, day int, n int64) string {
	seq := strconv.FormatInt(n, 10)
	for len(seq) < 4 {
		seq = "0" + seq
	}
	return strconv.FormatInt(unit/1000, 10) + "-" + strconv.Itoa(day) + "-" + seq
}

func (s store) addAttachment(ctx context.Context, a *Attachment) error {
	id, err := s.db.InsertID(ctx, `INSERT INTO case_attachments (case_id, step_id, name, content_type, size, sha256, path, uploaded_at, uploaded_by)
		VALUES (?,?,?,?,?,?,?,?,?)`, a.CaseID, a.StepID, a.Name, a.ContentType, a.Size, a.SHA256, a.Path, a.UploadedAt, a.UploadedBy)
	a.ID = id
	return err
}

func (s store) attachments(ctx context.Context, caseID int64) ([]Attachment, error) {
	rows, err := s.db.Query(ctx, `SELECT id, case_id, step_id, name, content_type, size, sha256, path, uploaded_at, uploaded_by
		FROM case_attachments WHERE case_id = ? ORDER BY id`, caseID)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []Attachment
	for rows.Next() {
		var a Attachment
		if err := rows.Scan(&a.ID, &a.CaseID, &a.StepID, &a.Name, &a.ContentType, &a.Size, &a.SHA256, &a.Path, &a.UploadedAt, &a.UploadedBy); err != nil {
			return nil, err
		}
		out = append(out, a)
	}
	return out, rows.Err()
}

func (s store) setNumber(ctx context.Context, id int64, number string) error {
	_, err := s.db.Exec(ctx, `UPDATE cases SET number = ? WHERE id = ?`, number, id)
	return err
}

// provisionalNumber is a case's unique number until its real one is drawn
// at the end of the intake transaction (never visible outside it).
func provisionalNumber() string {
	b := make([]byte, 12)
	_, _ = rand.Read(b)
	return "~" + hex.EncodeToString(b)
}
