package governance

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

// matterStore is the SQL of matters (gov_matters, gov_matter_steps,
// gov_step_photos, gov_ratings, gov_counters); it joins the transaction in
// the context. It reads gov_meetings, gov_agenda and gov_bodies only to show
// the meeting a step was decided at.
type matterStore struct{ db *db.DB }

func (s *Service) matters() matterStore { return matterStore{s.DB} }

const matterColumns = `id, number, county, division, procedure_key, stage, status, title, description, proposer, proposer_name,
	signatures, budget, spent, progress, goal_year, reason, responsible, due_day, proposed_day, resolved_day, closed_day,
	rating_n, rating_sum, created_at, created_by, updated_at`

func scanMatter(sc interface{ Scan(...any) error }) (Matter, error) {
	var m Matter
	err := sc.Scan(&m.ID, &m.Number, &m.County, &m.Division, &m.Procedure, &m.Stage, &m.Status, &m.Title, &m.Description,
		&m.Proposer, &m.ProposerName, &m.Signatures, &m.Budget, &m.Spent, &m.Progress, &m.GoalYear, &m.Reason,
		&m.Responsible, &m.DueDay, &m.ProposedDay, &m.ResolvedDay, &m.ClosedDay, &m.RatingN, &m.RatingSum,
		&m.CreatedAt, &m.CreatedBy, &m.UpdatedAt)
	if errors.Is(err, sql.ErrNoRows) {
		return m, db.ErrNotFound
	}
	return m, err
}

func matterBool(b bool) int {
	if b {
		return 1
	}
	return 0
}

func (st matterStore) byID(ctx context.Context, id int64) (Matter, error) {
	return scanMatter(st.db.QueryRow(ctx, `SELECT `+matterColumns+` FROM gov_matters WHERE id = ?`, id))
}

func (st matterStore) byNumber(ctx context.Context, number string) (Matter, error) {
	return scanMatter(st.db.QueryRow(ctx, `SELECT `+matterColumns+` FROM gov_matters WHERE number = ?`, number))
}

// lock reads a matter inside a transaction, locking its row on PostgreSQL
// (SQLite's single writer serialises already).
func (st matterStore) lock(ctx context.Context, id int64) (Matter, error) {
	q := `SELECT ` + matterColumns + ` FROM gov_matters WHERE id = ?`
	if st.db.Dialect == db.Postgres {
		q += " FOR UPDATE"
	}
	return scanMatter(st.db.QueryRow(ctx, q, id))
}

// insert stores a new matter.
func (st matterStore) insert(ctx context.Context, m *Matter) error {
	id, err := st.db.InsertID(ctx, `INSERT INTO gov_matters (number, county, division, procedure_key, stage, status, title,
		description, proposer, proposer_name, signatures, budget, spent, progress, goal_year, reason, responsible, due_day,
		proposed_day, resolved_day, closed_day, rating_n, rating_sum, created_at, created_by, updated_at)
		VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)`,
		m.Number, m.County, m.Division, m.Procedure, m.Stage, m.Status, m.Title, m.Description, m.Proposer, m.ProposerName,
		m.Signatures, m.Budget, m.Spent, m.Progress, m.GoalYear, m.Reason, m.Responsible, m.DueDay, m.ProposedDay,
		m.ResolvedDay, m.ClosedDay, m.RatingN, m.RatingSum, m.CreatedAt, m.CreatedBy, m.UpdatedAt)
	m.ID = id
	return err
}

// update writes the mutable part of a matter.
func (st matterStore) update(ctx context.Context, m Matter) error {
	_, err := st.db.Exec(ctx, `UPDATE gov_matters SET stage = ?, status = ?, spent = ?, progress = ?, reason = ?,
		responsible = ?, due_day = ?, resolved_day = ?, closed_day = ?, rating_n = ?, rating_sum = ?, updated_at = ?
		WHERE id = ?`,
		m.Stage, m.Status, m.Spent, m.Progress, m.Reason, m.Responsible, m.DueDay, m.ResolvedDay, m.ClosedDay,
		m.RatingN, m.RatingSum, m.UpdatedAt, m.ID)
	return err
}

func (st matterStore) setNumber(ctx context.Context, id int64, number string) error {
	_, err := st.db.Exec(ctx, `UPDATE gov_matters SET number = ? WHERE id = ?`, number, id)
	return err
}

// nextNumber allocates the next matter sequence number of village in year.
func (st matterStore) nextNumber(ctx context.Context, village int64, year int) (int64, error) {
	var n int64
	err := st.db.QueryRow(ctx, `INSERT INTO gov_counters (division, year, n) VALUES (?, ?, 1)
		ON CONFLICT (division, year) DO UPDATE SET n = gov_counters.n + 1 RETURNING n`, village, year).Scan(&n)
	return n, err
}

// MatterMark begins a matter number: 议事 (YS), so a matter number is never
// taken for a case, an incident or a dispute number.
const MatterMark = "YS"

// matterNumber formats a matter number: YS, the village's 12-digit
// statistical code, the year and the village's sequence of that year, e.g.
// YS320205001001-2026-003.
func matterNumber(village int64, year int, n int64) string {
	seq := strconv.FormatInt(n, 10)
	if len(seq) < 3 {
		seq = strings.Repeat("0", 3-len(seq)) + seq
	}
	return MatterMark + strconv.FormatInt(village/1000, 10) + "-" + strconv.Itoa(year) + "-" + seq
}

// provisionalMatterNumber is a matter's unique number until its real one is
// drawn at the end of Propose's transaction (never visible outside it).
func provisionalMatterNumber() string {
	b := make([]byte, 12)
	_, _ = rand.Read(b)
	return "~" + hex.EncodeToString(b)
}

const stepColumns = `s.id, s.matter_id, s.stage, s.action, s.meeting_id, s.agenda_id, s.note, s.percent, s.spent, s.public,
	s.day, s.actor, s.created_at`

// insertStep stores one step of a matter's history.
func (st matterStore) insertStep(ctx context.Context, s *Step) error {
	id, err := st.db.InsertID(ctx, `INSERT INTO gov_matter_steps (matter_id, stage, action, meeting_id, agenda_id, note, percent,
		spent, public, day, actor, created_at) VALUES (?,?,?,?,?,?,?,?,?,?,?,?)`,
		s.MatterID, s.Stage, s.Action, s.MeetingID, s.AgendaID, s.Note, s.Percent, s.Spent, matterBool(s.Public), s.Day, s.Actor, s.CreatedAt)
	s.ID = id
	return err
}

// setStepPublic shows or hides a step on the portal. It touches the
// matter's updated_at too: what the portal shows of the matter changed (the
// portal's caches key on it).
func (st matterStore) setStepPublic(ctx context.Context, matterID, stepID int64, public bool, now int64) (bool, error) {
	res, err := st.db.Exec(ctx, `UPDATE gov_matter_steps SET public = ? WHERE id = ? AND matter_id = ?`, matterBool(public), stepID, matterID)
	if err != nil {
		return false, err
	}
	n, err := res.RowsAffected()
	if err != nil || n == 0 {
		return false, err
	}
	_, err = st.db.Exec(ctx, `UPDATE gov_matters SET updated_at = ? WHERE id = ?`, now, matterID)
	return err == nil, err
}

// steps returns a matter's history, oldest first, with the meeting each
// step was decided at and the step's photos (publicOnly: public steps and
// their photos only).
func (st matterStore) steps(ctx context.Context, matterID int64, publicOnly bool) ([]Step, error) {
	q := `SELECT ` + stepColumns + `, COALESCE(m.title, ''), COALESCE(m.day, 0), COALESCE(m.members, 0), COALESCE(m.present, 0),
		COALESCE(b.kind, ''), COALESCE(b.name, ''), COALESCE(a.result, ''), COALESCE(a.votes_for, 0), COALESCE(a.votes_against, 0),
		COALESCE(a.votes_abstain, 0), COALESCE(a.resolution, '')
		FROM gov_matter_steps s
		LEFT JOIN gov_meetings m ON m.id = s.meeting_id AND s.meeting_id <> 0
		LEFT JOIN gov_bodies b ON b.id = m.body_id
		LEFT JOIN gov_agenda a ON a.id = s.agenda_id AND s.agenda_id <> 0
		WHERE s.matter_id = ?`
	if publicOnly {
		q += ` AND s.public = 1`
	}
	rows, err := st.db.Query(ctx, q+` ORDER BY s.id`, matterID)
	if err != nil {
		return nil, err
	}
	var out []Step
	for rows.Next() {
		var s Step
		var public int
		var mt StepMeeting
		if err := rows.Scan(&s.ID, &s.MatterID, &s.Stage, &s.Action, &s.MeetingID, &s.AgendaID, &s.Note, &s.Percent, &s.Spent,
			&public, &s.Day, &s.Actor, &s.CreatedAt, &mt.Title, &mt.Day, &mt.Members, &mt.Present, &mt.BodyKind, &mt.BodyName,
			&mt.Result, &mt.For, &mt.Against, &mt.Abstain, &mt.Resolution); err != nil {
			rows.Close()
			return nil, err
		}
		s.Public = public != 0
		if s.MeetingID != 0 {
			mt.ID = s.MeetingID
			s.Meeting = &mt
		}
		out = append(out, s)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, err
	}
	photos, err := st.photos(ctx, matterID, publicOnly)
	if err != nil {
		return nil, err
	}
	for i := range out {
		out[i].Photos = photos[out[i].ID]
	}
	return out, nil
}

func (st matterStore) insertPhoto(ctx context.Context, ph *StepPhoto) error {
	id, err := st.db.InsertID(ctx, `INSERT INTO gov_step_photos (step_id, path, mime, size) VALUES (?,?,?,?)`,
		ph.StepID, ph.Path, ph.Mime, ph.Size)
	ph.ID = id
	return err
}

// photos returns the photos of a matter's steps, by step.
func (st matterStore) photos(ctx context.Context, matterID int64, publicOnly bool) (map[int64][]StepPhoto, error) {
	q := `SELECT p.id, p.step_id, p.path, p.mime, p.size FROM gov_step_photos p
		JOIN gov_matter_steps s ON s.id = p.step_id WHERE s.matter_id = ?`
	if publicOnly {
		q += ` AND s.public = 1`
	}
	rows, err := st.db.Query(ctx, q+` ORDER BY p.id`, matterID)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := map[int64][]StepPhoto{}
	for rows.Next() {
		var ph StepPhoto
		if err := rows.Scan(&ph.ID, &ph.StepID, &ph.Path, &ph.Mime, &ph.Size); err != nil {
			return nil, err
		}
		out[ph.StepID] = append(out[ph.StepID], ph)
	}
	return out, rows.Err()
}

// photo returns one photo with the matter and visibility of its step.
func (st matterStore) photo(ctx context.Context, photoID int64) (StepPhoto, int64, bool, error) {
	var ph StepPhoto
	var matterID int64
	var public int
	err := st.db.QueryRow(ctx, `SELECT p.id, p.step_id, p.path, p.mime, p.size, s.matter_id, s.public
		FROM gov_step_photos p JOIN gov_matter_steps s ON s.id = p.step_id WHERE p.id = ?`, photoID).
		Scan(&ph.ID, &ph.StepID, &ph.Path, &ph.Mime, &ph.Size, &matterID, &public)
	if errors.Is(err, sql.ErrNoRows) {
		return ph, 0, false, db.ErrNotFound
	}
	return ph, matterID, public != 0, err
}

// insertRating stores a rating or comment; a second scored rating of the
// same device, matter and year is not stored (inserted false).
func (st matterStore) insertRating(ctx context.Context, r Rating, device string) (inserted bool, err error) {
	res, err := st.db.Exec(ctx, `INSERT INTO gov_ratings (matter_id, year, score, comment, device, day, created_at)
		VALUES (?,?,?,?,?,?,?) ON CONFLICT (matter_id, year, device) WHERE device <> '' AND score > 0 DO NOTHING`,
		r.MatterID, r.Year, r.Score, r.Comment, device, r.Day, r.CreatedAt)
	if err != nil {
		return false, err
	}
	n, err := res.RowsAffected()
	return n > 0, err
}

// rated reports whether device gave the matter a scored rating in year.
func (st matterStore) rated(ctx context.Context, matterID int64, year int, device string) (bool, error) {
	var n int
	err := st.db.QueryRow(ctx, `SELECT count(*) FROM gov_ratings WHERE matter_id = ? AND year = ? AND device = ? AND score > 0`,
		matterID, year, device).Scan(&n)
	return n > 0, err
}

// ratings returns a matter's ratings and comments, newest first.
func (st matterStore) ratings(ctx context.Context, matterID int64, limit int) ([]Rating, error) {
	rows, err := st.db.Query(ctx, `SELECT id, matter_id, year, score, comment, day, created_at FROM gov_ratings
		WHERE matter_id = ? ORDER BY id DESC LIMIT ?`, matterID, limit)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []Rating
	for rows.Next() {
		var r Rating
		if err := rows.Scan(&r.ID, &r.MatterID, &r.Year, &r.Score, &r.Comment, &r.Day, &r.CreatedAt); err != nil {
			return nil, err
		}
		out = append(out, r)
	}
	return out, rows.Err()
}

// list returns matters matching where, newest first.
func (st matterStore) list(ctx context.Context, where string, args []any, order string, limit, offset int) ([]Matter, error) {
	q := `SELECT ` + matterColumns + ` FROM gov_matters WHERE ` + where + ` ORDER BY ` + order
	if limit > 0 {
		q += ` LIMIT ? OFFSET ?`
		args = append(args, limit, offset)
	}
	rows, err := st.db.Query(ctx, q, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []Matter
	for rows.Next() {
		m, err := scanMatter(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, m)
	}
	return out, rows.Err()
}

// MatterMeeting is a meeting as the matter code needs it: for an urge step,
// for the check of a vote, for the list of meetings to pick.
type MatterMeeting struct {
	ID       int64
	Division int64
	BodyKind string
	BodyName string
	Title    string
	Day      int
	State    string
}

// meeting reads a meeting with its body's kind.
func (st matterStore) meeting(ctx context.Context, id int64) (MatterMeeting, error) {
	var m MatterMeeting
	err := st.db.QueryRow(ctx, `SELECT m.id, m.division, b.kind, b.name, m.title, m.day, m.state
		FROM gov_meetings m JOIN gov_bodies b ON b.id = m.body_id WHERE m.id = ?`, id).
		Scan(&m.ID, &m.Division, &m.BodyKind, &m.BodyName, &m.Title, &m.Day, &m.State)
	if errors.Is(err, sql.ErrNoRows) {
		return m, db.ErrNotFound
	}
	return m, err
}

// heldMeetings lists a village's held meetings of a body kind since a day,
// newest first.
func (st matterStore) heldMeetings(ctx context.Context, village int64, kind string, since int) ([]MatterMeeting, error) {
	rows, err := st.db.Query(ctx, `SELECT m.id, m.division, b.kind, b.name, m.title, m.day, m.state
		FROM gov_meetings m JOIN gov_bodies b ON b.id = m.body_id
		WHERE m.division = ? AND b.kind = ? AND m.state = ? AND m.day >= ? ORDER BY m.day DESC, m.id DESC LIMIT 50`,
		village, kind, MeetingHeld, since)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []MatterMeeting
	for rows.Next() {
		var m MatterMeeting
		if err := rows.Scan(&m.ID, &m.Division, &m.BodyKind, &m.BodyName, &m.Title, &m.Day, &m.State); err != nil {
			return nil, err
		}
		out = append(out, m)
	}
	return out, rows.Err()
}

// pendingAgenda lists the undecided agenda items that name a matter, with
// their meetings (the stepper shows "on the agenda of …").
func (st matterStore) pendingAgenda(ctx context.Context, matterID int64) ([]AgendaRef, error) {
	rows, err := st.db.Query(ctx, `SELECT a.id, a.stage, m.id, m.title, m.day, m.state, b.kind, b.name
		FROM gov_agenda a JOIN gov_meetings m ON m.id = a.meeting_id JOIN gov_bodies b ON b.id = m.body_id
		WHERE a.matter_id = ? AND a.result = ? AND m.state <> ? ORDER BY m.day, a.id`, matterID, ResultPending, MeetingCancelled)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []AgendaRef
	for rows.Next() {
		var a AgendaRef
		if err := rows.Scan(&a.AgendaID, &a.Stage, &a.MeetingID, &a.Title, &a.Day, &a.State, &a.BodyKind, &a.BodyName); err != nil {
			return nil, err
		}
		out = append(out, a)
	}
	return out, rows.Err()
}

// bodyKind reads the kind of a body (a meeting loaded without it).
func (st matterStore) bodyKind(ctx context.Context, bodyID int64) (string, error) {
	var kind string
	err := st.db.QueryRow(ctx, `SELECT kind FROM gov_bodies WHERE id = ?`, bodyID).Scan(&kind)
	if errors.Is(err, sql.ErrNoRows) {
		return "", db.ErrNotFound
	}
	return kind, err
}
