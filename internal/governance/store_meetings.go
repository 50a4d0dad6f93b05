package governance

import (
	"context"
	"database/sql"
	"errors"

	"github.com/shequ-platform/shequ/internal/platform/db"
)

// The SQL of meetings (gov_meetings, gov_attendance, gov_agenda,
// gov_votes). Every function joins the transaction in the context.

const meetingColumns = `m.id, m.county, m.division, m.body_id, b.kind, b.name, m.title, m.day, m.start_time, m.minutes_len, m.place,
	m.state, m.public, m.members, m.present, m.minutes, m.created_at, m.created_by, m.updated_at`

const meetingFrom = ` FROM gov_meetings m JOIN gov_bodies b ON b.id = m.body_id`

func scanMeeting(sc interface{ Scan(...any) error }) (Meeting, error) {
	var m Meeting
	var public int
	err := sc.Scan(&m.ID, &m.County, &m.Division, &m.BodyID, &m.BodyKind, &m.BodyName, &m.Title, &m.Day, &m.StartTime, &m.MinutesLen,
		&m.Place, &m.State, &public, &m.Members, &m.Present, &m.Minutes, &m.CreatedAt, &m.CreatedBy, &m.UpdatedAt)
	if errors.Is(err, sql.ErrNoRows) {
		return m, db.ErrNotFound
	}
	m.Public = public != 0
	return m, err
}

// meetingRow reads a meeting (locked for update on PostgreSQL when lock is
// set).
func meetingRow(ctx context.Context, d *db.DB, id int64, lock bool) (Meeting, error) {
	q := `SELECT ` + meetingColumns + meetingFrom + ` WHERE m.id = ?`
	if lock && d.Dialect == db.Postgres {
		q += " FOR UPDATE OF m"
	}
	return scanMeeting(d.QueryRow(ctx, q, id))
}

// meetingsWhere lists meetings by a condition (with its ORDER BY and LIMIT).
func meetingsWhere(ctx context.Context, d *db.DB, where string, args ...any) ([]Meeting, error) {
	rows, err := d.Query(ctx, `SELECT `+meetingColumns+meetingFrom+` WHERE `+where, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []Meeting
	for rows.Next() {
		m, err := scanMeeting(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, m)
	}
	return out, rows.Err()
}

func insertMeeting(ctx context.Context, d *db.DB, m *Meeting) error {
	id, err := d.InsertID(ctx, `INSERT INTO gov_meetings (county, division, body_id, title, day, start_time, minutes_len, place, state,
		public, members, present, minutes, created_at, created_by, updated_at) VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)`,
		m.County, m.Division, m.BodyID, m.Title, m.Day, m.StartTime, m.MinutesLen, m.Place, m.State, sqlBool(m.Public),
		m.Members, m.Present, m.Minutes, m.CreatedAt, m.CreatedBy, m.UpdatedAt)
	m.ID = id
	return err
}

func updateMeetingSchedule(ctx context.Context, d *db.DB, m Meeting) error {
	_, err := d.Exec(ctx, `UPDATE gov_meetings SET title = ?, day = ?, start_time = ?, minutes_len = ?, place = ?, updated_at = ?
		WHERE id = ?`, m.Title, m.Day, m.StartTime, m.MinutesLen, m.Place, m.UpdatedAt, m.ID)
	return err
}

func setMeetingState(ctx context.Context, d *db.DB, m Meeting) error {
	_, err := d.Exec(ctx, `UPDATE gov_meetings SET state = ?, updated_at = ? WHERE id = ?`, m.State, m.UpdatedAt, m.ID)
	return err
}

func setMeetingAttendance(ctx context.Context, d *db.DB, m Meeting) error {
	_, err := d.Exec(ctx, `UPDATE gov_meetings SET state = ?, members = ?, present = ?, updated_at = ? WHERE id = ?`,
		m.State, m.Members, m.Present, m.UpdatedAt, m.ID)
	return err
}

func setMeetingMinutes(ctx context.Context, d *db.DB, m Meeting) error {
	_, err := d.Exec(ctx, `UPDATE gov_meetings SET minutes = ?, updated_at = ? WHERE id = ?`, m.Minutes, m.UpdatedAt, m.ID)
	return err
}

func touchMeeting(ctx context.Context, d *db.DB, id, at int64) error {
	_, err := d.Exec(ctx, `UPDATE gov_meetings SET updated_at = ? WHERE id = ?`, at, id)
	return err
}

// replaceAttendance replaces a meeting's attendance rows.
func replaceAttendance(ctx context.Context, d *db.DB, meetingID int64, rows []Attendance) error {
	if _, err := d.Exec(ctx, `DELETE FROM gov_attendance WHERE meeting_id = ?`, meetingID); err != nil {
		return err
	}
	for _, a := range rows {
		if _, err := d.Exec(ctx, `INSERT INTO gov_attendance (meeting_id, member_id, status, proxy_id) VALUES (?,?,?,?)`,
			meetingID, a.MemberID, a.Status, a.ProxyID); err != nil {
			return err
		}
	}
	return nil
}

// attendanceOf returns a meeting's attendance with the members' names and
// posts, in appointment order.
func attendanceOf(ctx context.Context, d *db.DB, meetingID int64) ([]Attendance, error) {
	rows, err := d.Query(ctx, `SELECT a.meeting_id, a.member_id, a.status, a.proxy_id, g.name, g.post
		FROM gov_attendance a JOIN gov_members g ON g.id = a.member_id WHERE a.meeting_id = ? ORDER BY g.since_day, g.id`, meetingID)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []Attendance
	for rows.Next() {
		var a Attendance
		if err := rows.Scan(&a.MeetingID, &a.MemberID, &a.Status, &a.ProxyID, &a.Name, &a.Post); err != nil {
			return nil, err
		}
		out = append(out, a)
	}
	return out, rows.Err()
}

const agendaColumns = `id, meeting_id, seq, title, matter_id, stage, document_id, result, votes_for, votes_against, votes_abstain,
	counted, resolution, decided_day`

func scanAgenda(sc interface{ Scan(...any) error }) (AgendaItem, error) {
	var a AgendaItem
	var counted int
	err := sc.Scan(&a.ID, &a.MeetingID, &a.Seq, &a.Title, &a.MatterID, &a.Stage, &a.DocumentID, &a.Result, &a.For, &a.Against,
		&a.Abstain, &counted, &a.Resolution, &a.DecidedDay)
	if errors.Is(err, sql.ErrNoRows) {
		return a, db.ErrNotFound
	}
	a.Counted = counted != 0
	return a, err
}

func agendaRow(ctx context.Context, d *db.DB, id int64, lock bool) (AgendaItem, error) {
	q := `SELECT ` + agendaColumns + ` FROM gov_agenda WHERE id = ?`
	if lock && d.Dialect == db.Postgres {
		q += " FOR UPDATE"
	}
	return scanAgenda(d.QueryRow(ctx, q, id))
}

func agendaOf(ctx context.Context, d *db.DB, meetingID int64) ([]AgendaItem, error) {
	rows, err := d.Query(ctx, `SELECT `+agendaColumns+` FROM gov_agenda WHERE meeting_id = ? ORDER BY seq`, meetingID)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []AgendaItem
	for rows.Next() {
		a, err := scanAgenda(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, a)
	}
	return out, rows.Err()
}

func insertAgenda(ctx context.Context, d *db.DB, a *AgendaItem) error {
	id, err := d.InsertID(ctx, `INSERT INTO gov_agenda (meeting_id, seq, title, matter_id, stage, document_id, result)
		VALUES (?,?,?,?,?,?,?)`, a.MeetingID, a.Seq, a.Title, a.MatterID, a.Stage, a.DocumentID, a.Result)
	a.ID = id
	return err
}

func deleteAgenda(ctx context.Context, d *db.DB, id int64) error {
	_, err := d.Exec(ctx, `DELETE FROM gov_agenda WHERE id = ?`, id)
	return err
}

func setAgendaResult(ctx context.Context, d *db.DB, a AgendaItem) error {
	_, err := d.Exec(ctx, `UPDATE gov_agenda SET result = ?, votes_for = ?, votes_against = ?, votes_abstain = ?, counted = ?,
		resolution = ?, decided_day = ? WHERE id = ?`,
		a.Result, a.For, a.Against, a.Abstain, sqlBool(a.Counted), a.Resolution, a.DecidedDay, a.ID)
	return err
}

func setAgendaResolution(ctx context.Context, d *db.DB, id int64, text string) error {
	_, err := d.Exec(ctx, `UPDATE gov_agenda SET resolution = ? WHERE id = ?`, text, id)
	return err
}

func insertVote(ctx context.Context, d *db.DB, v Vote) error {
	_, err := d.Exec(ctx, `INSERT INTO gov_votes (agenda_id, member_id, choice, by_proxy) VALUES (?,?,?,?)`,
		v.AgendaID, v.MemberID, v.Choice, sqlBool(v.ByProxy))
	return err
}

func votesOf(ctx context.Context, d *db.DB, agendaID int64) ([]Vote, error) {
	rows, err := d.Query(ctx, `SELECT v.agenda_id, v.member_id, v.choice, v.by_proxy, g.name
		FROM gov_votes v JOIN gov_members g ON g.id = v.member_id WHERE v.agenda_id = ? ORDER BY g.since_day, g.id`, agendaID)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []Vote
	for rows.Next() {
		var v Vote
		var proxy int
		if err := rows.Scan(&v.AgendaID, &v.MemberID, &v.Choice, &proxy, &v.Name); err != nil {
			return nil, err
		}
		v.ByProxy = proxy != 0
		out = append(out, v)
	}
	return out, rows.Err()
}

// resolutionsOf lists the decided (passed or failed) items of a village's
// public meetings, newest first.
func resolutionsOf(ctx context.Context, d *db.DB, village int64, limit int) ([]Resolution, error) {
	rows, err := d.Query(ctx, `SELECT `+meetingColumns+`, a.id, a.meeting_id, a.seq, a.title, a.matter_id, a.stage, a.document_id,
		a.result, a.votes_for, a.votes_against, a.votes_abstain, a.counted, a.resolution, a.decided_day`+meetingFrom+`
		JOIN gov_agenda a ON a.meeting_id = m.id
		WHERE m.division = ? AND m.public = 1 AND m.state = ? AND a.result IN (?, ?)
		ORDER BY a.decided_day DESC, m.id DESC, a.seq LIMIT ?`, village, MeetingHeld, ResultPassed, ResultFailed, limit)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []Resolution
	for rows.Next() {
		var r Resolution
		var public, counted int
		m, a := &r.Meeting, &r.Item
		if err := rows.Scan(&m.ID, &m.County, &m.Division, &m.BodyID, &m.BodyKind, &m.BodyName, &m.Title, &m.Day, &m.StartTime,
			&m.MinutesLen, &m.Place, &m.State, &public, &m.Members, &m.Present, &m.Minutes, &m.CreatedAt, &m.CreatedBy, &m.UpdatedAt,
			&a.ID, &a.MeetingID, &a.Seq, &a.Title, &a.MatterID, &a.Stage, &a.DocumentID, &a.Result, &a.For, &a.Against, &a.Abstain,
			&counted, &a.Resolution, &a.DecidedDay); err != nil {
			return nil, err
		}
		m.Public, a.Counted = public != 0, counted != 0
		out = append(out, r)
	}
	return out, rows.Err()
}

// isUniqueViolation reports a unique-constraint violation: PostgreSQL's
// SQLSTATE 23505, SQLite's SQLITE_CONSTRAINT family.
func isUniqueViolation(err error) bool {
	var pg interface{ SQLState() string }
	if errors.As(err, &pg) {
		return pg.SQLState() == "23505"
	}
	var lite interface{ Code() int }
	return errors.As(err, &lite) && lite.Code()&0xff == 19
}
