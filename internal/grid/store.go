package grid

import (
	"context"
	"database/sql"
	"errors"
	"strconv"

	"github.com/shequ-platform/shequ/internal/platform/db"
)

// store is the grid's SQL; it joins the transaction in the context.
type store struct{ db *db.DB }

const incidentColumns = `id, number, county, division, holder, holder_level, department, handler_id, handler_name,
	category, category_name, grp, kind, time_limit, state, resume_state, source, reporter_id, reporter_name, phone_masked,
	client_id, token, client_key, description, address, lat, lon, household_id, resident_id, duplicate_of,
	reported_at, reported_day, dispatched_day, deadline, paused_day, paused_days, extended_days, escalations,
	handled_day, on_time, closed_at, closed_day, closed_level, reason, rating, rating_comment, updated_at`

func scanIncident(sc interface{ Scan(...any) error }) (Incident, error) {
	var in Incident
	var onTime int
	var lat, lon sql.NullFloat64
	err := sc.Scan(&in.ID, &in.Number, &in.County, &in.Division, &in.Holder, &in.HolderLevel, &in.Department, &in.HandlerID, &in.HandlerName,
		&in.Category, &in.CategoryName, &in.Group, &in.Kind, &in.TimeLimit, &in.State, &in.ResumeState, &in.Source, &in.ReporterID, &in.ReporterName, &in.PhoneMasked,
		&in.ClientID, &in.Token, &in.ClientKey, &in.Description, &in.Address, &lat, &lon, &in.HouseholdID, &in.ResidentID, &in.DuplicateOf,
		&in.ReportedAt, &in.ReportedDay, &in.DispatchedDay, &in.Deadline, &in.PausedDay, &in.PausedDays, &in.ExtendedDays, &in.Escalations,
		&in.HandledDay, &onTime, &in.ClosedAt, &in.ClosedDay, &in.ClosedLevel, &in.Reason, &in.Rating, &in.RatingComment, &in.UpdatedAt)
	if errors.Is(err, sql.ErrNoRows) {
		return in, db.ErrNotFound
	}
	if err != nil {
		return in, err
	}
	in.OnTime = onTime != 0
	if lat.Valid && lon.Valid {
		in.Lat, in.Lon = &lat.Float64, &lon.Float64
	}
	return in, nil
}

func (s store) byID(ctx context.Context, id int64) (Incident, error) {
	return scanIncident(s.db.QueryRow(ctx, `SELECT `+incidentColumns+` FROM incidents WHERE id = ?`, id))
}

func (s store) byNumber(ctx context.Context, number string) (Incident, error) {
	return scanIncident(s.db.QueryRow(ctx, `SELECT `+incidentColumns+` FROM incidents WHERE number = ?`, number))
}

func (s store) byToken(ctx context.Context, token string) (Incident, error) {
	return scanIncident(s.db.QueryRow(ctx, `SELECT `+incidentColumns+` FROM incidents WHERE token = ? AND token <> ''`, token))
}

// byClientKey finds the incident a reporter already sent under an
// idempotency key (a retried offline draft).
func (s store) byClientKey(ctx context.Context, reporter int64, key string) (Incident, error) {
	return scanIncident(s.db.QueryRow(ctx, `SELECT `+incidentColumns+` FROM incidents WHERE reporter_id = ? AND client_key = ? AND client_key <> ''`, reporter, key))
}

// lockForUpdate reads an incident inside a transaction, locking its row on
// PostgreSQL (SQLite's single writer serialises already).
func (s store) lockForUpdate(ctx context.Context, id int64) (Incident, error) {
	q := `SELECT ` + incidentColumns + ` FROM incidents WHERE id = ?`
	if s.db.Dialect == db.Postgres {
		q += " FOR UPDATE"
	}
	return scanIncident(s.db.QueryRow(ctx, q, id))
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

func (s store) insert(ctx context.Context, in *Incident, phoneEnc string) error {
	id, err := s.db.InsertID(ctx, `INSERT INTO incidents (number, county, division, holder, holder_level, department, handler_id, handler_name,
		category, category_name, grp, kind, time_limit, state, resume_state, is_open, source, reporter_id, reporter_name, reporter_phone, phone_masked,
		client_id, token, client_key, description, address, lat, lon, household_id, resident_id, duplicate_of,
		reported_at, reported_day, updated_at)
		VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)`,
		in.Number, in.County, in.Division, in.Holder, in.HolderLevel, in.Department, in.HandlerID, in.HandlerName,
		in.Category, in.CategoryName, in.Group, in.Kind, in.TimeLimit, in.State, in.ResumeState, b2i(in.Open()), in.Source,
		in.ReporterID, in.ReporterName, phoneEnc, in.PhoneMasked, in.ClientID, in.Token, in.ClientKey, in.Description, in.Address,
		nullFloat(in.Lat), nullFloat(in.Lon), in.HouseholdID, in.ResidentID, in.DuplicateOf, in.ReportedAt, in.ReportedDay, in.UpdatedAt)
	in.ID = id
	return err
}

// update writes the mutable part of an incident.
func (s store) update(ctx context.Context, in Incident) error {
	_, err := s.db.Exec(ctx, `UPDATE incidents SET holder = ?, holder_level = ?, department = ?, handler_id = ?, handler_name = ?,
		time_limit = ?, state = ?, resume_state = ?, is_open = ?, duplicate_of = ?, dispatched_day = ?, deadline = ?, paused_day = ?,
		paused_days = ?, extended_days = ?, escalations = ?, handled_day = ?, on_time = ?, closed_at = ?, closed_day = ?, closed_level = ?,
		reason = ?, rating = ?, rating_comment = ?, updated_at = ? WHERE id = ?`,
		in.Holder, in.HolderLevel, in.Department, in.HandlerID, in.HandlerName, in.TimeLimit, in.State, in.ResumeState, b2i(in.Open()),
		in.DuplicateOf, in.DispatchedDay, in.Deadline, in.PausedDay, in.PausedDays, in.ExtendedDays, in.Escalations, in.HandledDay,
		b2i(in.OnTime), in.ClosedAt, in.ClosedDay, in.ClosedLevel, in.Reason, in.Rating, in.RatingComment, in.UpdatedAt, in.ID)
	return err
}

func (s store) setNumber(ctx context.Context, id int64, number string) error {
	_, err := s.db.Exec(ctx, `UPDATE incidents SET number = ? WHERE id = ?`, number, id)
	return err
}

func (s store) addStep(ctx context.Context, st *Step) error {
	id, err := s.db.InsertID(ctx, `INSERT INTO incident_steps (incident_id, at, action, from_state, to_state, holder, actor_id, actor, note)
		VALUES (?,?,?,?,?,?,?,?,?)`, st.IncidentID, st.At, st.Action, st.From, st.To, st.Holder, st.ActorID, st.Actor, st.Note)
	st.ID = id
	return err
}

func (s store) steps(ctx context.Context, incidentID int64) ([]Step, error) {
	rows, err := s.db.Query(ctx, `SELECT id, incident_id, at, action, from_state, to_state, holder, actor_id, actor, note
		FROM incident_steps WHERE incident_id = ? ORDER BY id`, incidentID)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []Step
	for rows.Next() {
		var st Step
		if err := rows.Scan(&st.ID, &st.IncidentID, &st.At, &st.Action, &st.From, &st.To, &st.Holder, &st.ActorID, &st.Actor, &st.Note); err != nil {
			return nil, err
		}
		out = append(out, st)
	}
	return out, rows.Err()
}

// nextNumber allocates the day's next sequence number of kind at unit.
func (s store) nextNumber(ctx context.Context, kind string, unit int64, day int) (int64, error) {
	var n int64
	err := s.db.QueryRow(ctx, `INSERT INTO grid_counters (kind, division, day, n) VALUES (?, ?, ?, 1)
		ON CONFLICT (kind, division, day) DO UPDATE SET n = grid_counters.n + 1 RETURNING n`, kind, unit, day).Scan(&n)
	return n, err
}

// incidentNumber formats an incident number: SJ, the village's 12-digit
// statistical code, the day and the day's sequence, e.g.
// SJ320205001004-20261123-0007 (事件).
func incidentNumber(village int64, day int, n int64) string {
	seq := strconv.FormatInt(n, 10)
	for len(seq) < 4 {
		seq = "0" + seq
	}
	return "SJ" + strconv.FormatInt(village/1000, 10) + "-" + strconv.Itoa(day) + "-" + seq
}

func (s store) addPhoto(ctx context.Context, ph *Photo) error {
	id, err := s.db.InsertID(ctx, `INSERT INTO incident_photos (incident_id, step_id, content_type, size, sha256, path, uploaded_at, uploaded_by)
		VALUES (?,?,?,?,?,?,?,?)`, ph.IncidentID, ph.StepID, ph.ContentType, ph.Size, ph.SHA256, ph.Path, ph.UploadedAt, ph.UploadedBy)
	ph.ID = id
	return err
}

func (s store) photos(ctx context.Context, incidentID int64) ([]Photo, error) {
	rows, err := s.db.Query(ctx, `SELECT id, incident_id, step_id, content_type, size, sha256, path, uploaded_at, uploaded_by
		FROM incident_photos WHERE incident_id = ? ORDER BY id`, incidentID)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []Photo
	for rows.Next() {
		var ph Photo
		if err := rows.Scan(&ph.ID, &ph.IncidentID, &ph.StepID, &ph.ContentType, &ph.Size, &ph.SHA256, &ph.Path, &ph.UploadedAt, &ph.UploadedBy); err != nil {
			return nil, err
		}
		out = append(out, ph)
	}
	return out, rows.Err()
}

// photoPaths lists every photo's path (for key rotation).
func (s store) photoPaths(ctx context.Context) ([]string, error) {
	rows, err := s.db.Query(ctx, `SELECT path FROM incident_photos ORDER BY id`)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []string
	for rows.Next() {
		var p string
		if err := rows.Scan(&p); err != nil {
			return nil, err
		}
		out = append(out, p)
	}
	return out, rows.Err()
}

// linkPatrol links a patrol visit of the reporter to the incident reported
// from it, and returns the visit's place and day and whether it was logged
// without a problem (the problem is counted now); a visit of someone else,
// of another household or already linked is a field error.
func (s store) linkPatrol(ctx context.Context, patrolID, incidentID, worker, household int64) (division int64, day int, newProblem bool, err error) {
	var problem int
	q := `SELECT division, day, problem FROM patrols WHERE id = ? AND worker_id = ? AND incident_id = 0 AND (? = 0 OR household_id = ?)`
	if s.db.Dialect == db.Postgres {
		q += " FOR UPDATE"
	}
	err = s.db.QueryRow(ctx, q, patrolID, worker, household, household).Scan(&division, &day, &problem)
	if errors.Is(err, sql.ErrNoRows) {
		return 0, 0, false, Errors{{Field: "patrol", Code: "patrol_unknown"}}
	}
	if err != nil {
		return 0, 0, false, err
	}
	_, err = s.db.Exec(ctx, `UPDATE patrols SET incident_id = ?, problem = 1 WHERE id = ?`, incidentID, patrolID)
	return division, day, problem == 0, err
}
