package governance

import (
	"context"
	"database/sql"
	"errors"

	"github.com/shequ-platform/shequ/internal/platform/db"
)

// documentStore is the SQL of documents (gov_documents,
// gov_document_versions), reading the adopting meetings, agenda items and
// bodies beside them; it joins the transaction in the context.
type documentStore struct{ db *db.DB }

func (s *Service) docst() documentStore { return documentStore{s.DB} }

const documentCols = `d.id, d.county, d.division, d.kind, d.title, d.created_at, d.created_by`

func scanDocument(sc interface{ Scan(...any) error }, extra ...any) (Document, error) {
	var d Document
	err := sc.Scan(append([]any{&d.ID, &d.County, &d.Division, &d.Kind, &d.Title, &d.CreatedAt, &d.CreatedBy}, extra...)...)
	if errors.Is(err, sql.ErrNoRows) {
		return d, db.ErrNotFound
	}
	return d, err
}

func (s documentStore) insert(ctx context.Context, d *Document) error {
	id, err := s.db.InsertID(ctx, `INSERT INTO gov_documents (county, division, kind, title, created_at, created_by) VALUES (?,?,?,?,?,?)`,
		d.County, d.Division, d.Kind, d.Title, d.CreatedAt, d.CreatedBy)
	d.ID = id
	return err
}

func (s documentStore) byID(ctx context.Context, id int64) (Document, error) {
	return scanDocument(s.db.QueryRow(ctx, `SELECT `+documentCols+` FROM gov_documents d WHERE d.id = ?`, id))
}

// lock reads a document inside a transaction, locking its row on
// PostgreSQL, so that two versions are never numbered at once.
func (s documentStore) lock(ctx context.Context, id int64) (Document, error) {
	q := `SELECT ` + documentCols + ` FROM gov_documents d WHERE d.id = ?`
	if s.db.Dialect == db.Postgres {
		q += " FOR UPDATE"
	}
	return scanDocument(s.db.QueryRow(ctx, q, id))
}

func (s documentStore) insertVersion(ctx context.Context, v *DocumentVersion) error {
	id, err := s.db.InsertID(ctx, `INSERT INTO gov_document_versions (document_id, version, body, note, meeting_id, agenda_id,
		adopted_day, created_at, created_by) VALUES (?,?,?,?,?,?,?,?,?)`,
		v.DocumentID, v.Version, v.Text, v.Note, v.MeetingID, v.AgendaID, v.AdoptedDay, v.CreatedAt, v.CreatedBy)
	v.ID = id
	return err
}

// versionSelect reads versions with their adopting meeting and vote; text
// chooses whether the text itself is read.
func versionSelect(text bool) string {
	body := "v.body"
	if !text {
		body = "''"
	}
	return `SELECT v.id, v.document_id, v.version, ` + body + `, v.note, v.meeting_id, v.agenda_id, v.adopted_day, v.created_at, v.created_by,
		COALESCE(m.title, ''), COALESCE(m.day, 0), COALESCE(b.name, ''), COALESCE(a.title, ''), COALESCE(a.result, ''),
		COALESCE(a.votes_for, 0), COALESCE(a.votes_against, 0), COALESCE(a.votes_abstain, 0), COALESCE(m.members, 0), COALESCE(m.present, 0)
		FROM gov_document_versions v
		LEFT JOIN gov_agenda a ON a.id = v.agenda_id
		LEFT JOIN gov_meetings m ON m.id = v.meeting_id
		LEFT JOIN gov_bodies b ON b.id = m.body_id`
}

func versionDest(v *DocumentVersion) []any {
	return []any{&v.ID, &v.DocumentID, &v.Version, &v.Text, &v.Note, &v.MeetingID, &v.AgendaID, &v.AdoptedDay, &v.CreatedAt, &v.CreatedBy,
		&v.MeetingTitle, &v.MeetingDay, &v.BodyName, &v.ItemTitle, &v.Result, &v.For, &v.Against, &v.Abstain, &v.Members, &v.Present}
}

// versions returns a document's versions, oldest first.
func (s documentStore) versions(ctx context.Context, id int64) ([]DocumentVersion, error) {
	rows, err := s.db.Query(ctx, versionSelect(true)+` WHERE v.document_id = ? ORDER BY v.version`, id)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []DocumentVersion
	for rows.Next() {
		var v DocumentVersion
		if err := rows.Scan(versionDest(&v)...); err != nil {
			return nil, err
		}
		out = append(out, v)
	}
	return out, rows.Err()
}

// latest returns a document's latest version (db.ErrNotFound: none).
func (s documentStore) latest(ctx context.Context, id int64) (DocumentVersion, error) {
	var v DocumentVersion
	err := s.db.QueryRow(ctx, versionSelect(false)+` WHERE v.document_id = ? ORDER BY v.version DESC LIMIT 1`, id).Scan(versionDest(&v)...)
	if errors.Is(err, sql.ErrNoRows) {
		return v, db.ErrNotFound
	}
	return v, err
}

// agendaUsed tells whether an agenda item already adopted a version.
func (s documentStore) agendaUsed(ctx context.Context, agendaID int64) (bool, error) {
	var n int
	err := s.db.QueryRow(ctx, `SELECT COUNT(*) FROM gov_document_versions WHERE agenda_id = ?`, agendaID).Scan(&n)
	return n > 0, err
}

// ofVillage returns a village's documents by kind and title, each with
// its latest version (with its text when text).
func (s documentStore) ofVillage(ctx context.Context, village int64, text bool) ([]Document, error) {
	rows, err := s.db.Query(ctx, `SELECT `+documentCols+` FROM gov_documents d WHERE d.division = ? ORDER BY d.kind, d.title, d.id`, village)
	if err != nil {
		return nil, err
	}
	var out []Document
	for rows.Next() {
		d, err := scanDocument(rows)
		if err != nil {
			rows.Close()
			return nil, err
		}
		out = append(out, d)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, err
	}
	if len(out) == 0 {
		return out, nil
	}
	rows, err = s.db.Query(ctx, versionSelect(text)+` JOIN gov_documents d ON d.id = v.document_id
		WHERE d.division = ? AND v.version = (SELECT MAX(x.version) FROM gov_document_versions x WHERE x.document_id = v.document_id)`, village)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	current := map[int64]DocumentVersion{}
	for rows.Next() {
		var v DocumentVersion
		if err := rows.Scan(versionDest(&v)...); err != nil {
			return nil, err
		}
		current[v.DocumentID] = v
	}
	if err := rows.Err(); err != nil {
		return nil, err
	}
	for i := range out {
		out[i].Current = current[out[i].ID]
	}
	return out, nil
}

// docKey is a village and a document kind.
type docKey struct {
	village int64
	kind    string
}

// docAgg is a village's documents of a kind: how many, and the earliest
// adoption of a version.
type docAgg struct{ docs, first int }

// aggregate counts the documents of the villages in [lo, hi] (and scope)
// by village and kind, with the earliest adoption of each kind.
func (s documentStore) aggregate(ctx context.Context, lo, hi int64, scope string, args []any) (map[docKey]docAgg, error) {
	rows, err := s.db.Query(ctx, `SELECT d.division, d.kind, COUNT(DISTINCT d.id), MIN(v.adopted_day)
		FROM gov_documents d JOIN gov_document_versions v ON v.document_id = d.id
		WHERE d.division >= ? AND d.division <= ? AND `+scope+` GROUP BY d.division, d.kind`, append([]any{lo, hi}, args...)...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := map[docKey]docAgg{}
	for rows.Next() {
		var k docKey
		var a docAgg
		if err := rows.Scan(&k.village, &k.kind, &a.docs, &a.first); err != nil {
			return nil, err
		}
		out[k] = a
	}
	return out, rows.Err()
}

// adoptionOptions lists the passed agenda items of held meetings of
// village's bodies of kind bodyKind that adopted no version yet and are
// about no other document than docID (0: about none), newest first.
func (s documentStore) adoptionOptions(ctx context.Context, village int64, bodyKind string, docID int64, limit int) ([]AdoptionOption, error) {
	rows, err := s.db.Query(ctx, `SELECT a.id, m.id, m.title, CASE WHEN a.decided_day <> 0 THEN a.decided_day ELSE m.day END, b.name, a.title,
		a.votes_for, a.votes_against, a.votes_abstain
		FROM gov_agenda a JOIN gov_meetings m ON m.id = a.meeting_id JOIN gov_bodies b ON b.id = m.body_id
		WHERE m.division = ? AND b.kind = ? AND m.state = ? AND a.result = ? AND (a.document_id = 0 OR a.document_id = ?)
		AND NOT EXISTS (SELECT 1 FROM gov_document_versions v WHERE v.agenda_id = a.id)
		ORDER BY m.day DESC, m.id DESC, a.seq LIMIT ?`, village, bodyKind, MeetingHeld, ResultPassed, docID, limit)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []AdoptionOption
	for rows.Next() {
		var o AdoptionOption
		if err := rows.Scan(&o.AgendaID, &o.MeetingID, &o.MeetingTitle, &o.Day, &o.BodyName, &o.ItemTitle, &o.For, &o.Against, &o.Abstain); err != nil {
			return nil, err
		}
		out = append(out, o)
	}
	return out, rows.Err()
}
