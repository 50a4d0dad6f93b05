package governance

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"strings"

	"github.com/shequ-platform/shequ/internal/platform/audit"
	"github.com/shequ-platform/shequ/internal/platform/db"
)

// electionStore is the SQL of elections (gov_elections, gov_voters,
// gov_candidates); it joins the transaction in the context.
type electionStore struct{ db *db.DB }

func (s *Service) elst() electionStore { return electionStore{s.DB} }

const electionCols = `id, county, division, body_kind, title, day, seats, state, voters, voted, ballots, invalid, body_id,
	created_at, created_by, updated_at`

func scanElection(sc interface{ Scan(...any) error }) (Election, error) {
	var e Election
	err := sc.Scan(&e.ID, &e.County, &e.Division, &e.BodyKind, &e.Title, &e.Day, &e.Seats, &e.State, &e.Voters, &e.Voted,
		&e.Ballots, &e.Invalid, &e.BodyID, &e.CreatedAt, &e.CreatedBy, &e.UpdatedAt)
	if errors.Is(err, sql.ErrNoRows) {
		return e, db.ErrNotFound
	}
	return e, err
}

func (s electionStore) insert(ctx context.Context, e *Election) error {
	id, err := s.db.InsertID(ctx, `INSERT INTO gov_elections (county, division, body_kind, title, day, seats, state, voters, voted,
		ballots, invalid, body_id, created_at, created_by, updated_at) VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?)`,
		e.County, e.Division, e.BodyKind, e.Title, e.Day, e.Seats, e.State, e.Voters, e.Voted, e.Ballots, e.Invalid, e.BodyID,
		e.CreatedAt, e.CreatedBy, e.UpdatedAt)
	e.ID = id
	return err
}

func (s electionStore) byID(ctx context.Context, id int64) (Election, error) {
	return scanElection(s.db.QueryRow(ctx, `SELECT `+electionCols+` FROM gov_elections WHERE id = ?`, id))
}

// lock reads an election inside a transaction, locking its row on
// PostgreSQL (SQLite's single writer serialises already), so that marks,
// proxies and the count of one election never interleave.
func (s electionStore) lock(ctx context.Context, id int64) (Election, error) {
	q := `SELECT ` + electionCols + ` FROM gov_elections WHERE id = ?`
	if s.db.Dialect == db.Postgres {
		q += " FOR UPDATE"
	}
	return scanElection(s.db.QueryRow(ctx, q, id))
}

// list returns elections matching where, the latest election day first.
func (s electionStore) list(ctx context.Context, where string, args []any, offset, limit int) ([]Election, error) {
	rows, err := s.db.Query(ctx, `SELECT `+electionCols+` FROM gov_elections WHERE `+where+
		` ORDER BY day DESC, id DESC LIMIT ? OFFSET ?`, append(args, limit, offset)...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []Election
	for rows.Next() {
		e, err := scanElection(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, e)
	}
	return out, rows.Err()
}

func (s electionStore) setRoll(ctx context.Context, e Election) error {
	_, err := s.db.Exec(ctx, `UPDATE gov_elections SET state = ?, voters = ?, updated_at = ? WHERE id = ?`,
		e.State, e.Voters, e.UpdatedAt, e.ID)
	return err
}

func (s electionStore) setCount(ctx context.Context, e Election) error {
	_, err := s.db.Exec(ctx, `UPDATE gov_elections SET state = ?, ballots = ?, invalid = ?, updated_at = ? WHERE id = ?`,
		e.State, e.Ballots, e.Invalid, e.UpdatedAt, e.ID)
	return err
}

func (s electionStore) touch(ctx context.Context, id, at int64) error {
	_, err := s.db.Exec(ctx, `UPDATE gov_elections SET updated_at = ? WHERE id = ?`, at, id)
	return err
}

// recountVoted sets the election's voted figure from its roll and returns it.
func (s electionStore) recountVoted(ctx context.Context, id, at int64) (int, error) {
	var n int
	if err := s.db.QueryRow(ctx, `SELECT COUNT(*) FROM gov_voters WHERE election_id = ? AND voted <> ''`, id).Scan(&n); err != nil {
		return 0, err
	}
	_, err := s.db.Exec(ctx, `UPDATE gov_elections SET voted = ?, updated_at = ? WHERE id = ?`, n, at, id)
	return n, err
}

// trustees maps each truster of the election to their trustee.
func (s electionStore) trustees(ctx context.Context, id int64) (map[int64]int64, error) {
	rows, err := s.db.Query(ctx, `SELECT resident_id, trustee_id FROM gov_voters WHERE election_id = ? AND trustee_id <> 0`, id)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := map[int64]int64{}
	for rows.Next() {
		var a, b int64
		if err := rows.Scan(&a, &b); err != nil {
			return nil, err
		}
		out[a] = b
	}
	return out, rows.Err()
}

// replaceRoll replaces the election's roll by roll.
func (s electionStore) replaceRoll(ctx context.Context, id int64, roll []Voter) error {
	if _, err := s.db.Exec(ctx, `DELETE FROM gov_voters WHERE election_id = ?`, id); err != nil {
		return err
	}
	const chunk = 400
	for start := 0; start < len(roll); start += chunk {
		part := roll[start:min(start+chunk, len(roll))]
		args := make([]any, 0, len(part)*8)
		vals := make([]string, len(part))
		for i, v := range part {
			vals[i] = "(?,?,?,?,?,?,?,?)"
			args = append(args, id, v.ResidentID, v.Name, v.Gender, v.Birth, v.Residency, v.Voted, v.TrusteeID)
		}
		if _, err := s.db.Exec(ctx, `INSERT INTO gov_voters (election_id, resident_id, name, gender, birth, residency, voted, trustee_id)
			VALUES `+strings.Join(vals, ","), args...); err != nil {
			return err
		}
	}
	return nil
}

const voterCols = `v.election_id, v.resident_id, v.name, v.gender, v.birth, v.residency, v.voted, v.trustee_id`

func scanVoter(sc interface{ Scan(...any) error }, extra ...any) (Voter, error) {
	var v Voter
	err := sc.Scan(append([]any{&v.ElectionID, &v.ResidentID, &v.Name, &v.Gender, &v.Birth, &v.Residency, &v.Voted, &v.TrusteeID}, extra...)...)
	if errors.Is(err, sql.ErrNoRows) {
		return v, db.ErrNotFound
	}
	return v, err
}

// voter returns one voter of the roll.
func (s electionStore) voter(ctx context.Context, id, residentID int64) (Voter, error) {
	return scanVoter(s.db.QueryRow(ctx, `SELECT `+voterCols+` FROM gov_voters v WHERE v.election_id = ? AND v.resident_id = ?`, id, residentID))
}

// voters returns a page of the roll by name, with each voter's trustee's
// name and the number of their trusters.
func (s electionStore) voters(ctx context.Context, id int64, q, view string, offset, limit int) (VoterPage, error) {
	where := "v.election_id = ?"
	args := []any{id}
	if q != "" {
		where += ` AND v.name LIKE ? ESCAPE '\'`
		args = append(args, "%"+strings.NewReplacer(`\`, `\\`, `%`, `\%`, `_`, `\_`).Replace(q)+"%")
	}
	switch view {
	case VotersVoted:
		where += " AND v.voted <> ''"
	case VotersNotVoted:
		where += " AND v.voted = ''"
	case VotersProxy:
		where += " AND v.trustee_id <> 0"
	}
	var page VoterPage
	if err := s.db.QueryRow(ctx, `SELECT COUNT(*) FROM gov_voters v WHERE `+where, args...).Scan(&page.Total); err != nil {
		return page, err
	}
	rows, err := s.db.Query(ctx, `SELECT `+voterCols+`, COALESCE(t.name, ''),
		(SELECT COUNT(*) FROM gov_voters x WHERE x.election_id = v.election_id AND x.trustee_id = v.resident_id)
		FROM gov_voters v LEFT JOIN gov_voters t ON t.election_id = v.election_id AND t.resident_id = v.trustee_id
		WHERE `+where+` ORDER BY v.name, v.resident_id LIMIT ? OFFSET ?`, append(args, limit, offset)...)
	if err != nil {
		return page, err
	}
	defer rows.Close()
	for rows.Next() {
		var name string
		var n int
		v, err := scanVoter(rows, &name, &n)
		if err != nil {
			return page, err
		}
		v.TrusteeName, v.Trusters = name, n
		page.Voters = append(page.Voters, v)
	}
	return page, rows.Err()
}

// proxies lists the election's proxies by trustee, then truster.
func (s electionStore) proxies(ctx context.Context, id int64) ([]Proxy, error) {
	rows, err := s.db.Query(ctx, `SELECT v.resident_id, v.name, v.trustee_id, t.name, v.voted
		FROM gov_voters v JOIN gov_voters t ON t.election_id = v.election_id AND t.resident_id = v.trustee_id
		WHERE v.election_id = ? AND v.trustee_id <> 0 ORDER BY t.name, t.resident_id, v.name, v.resident_id`, id)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []Proxy
	for rows.Next() {
		var p Proxy
		if err := rows.Scan(&p.TrusterID, &p.TrusterName, &p.TrusteeID, &p.TrusteeName, &p.Voted); err != nil {
			return nil, err
		}
		out = append(out, p)
	}
	return out, rows.Err()
}

// trusterCount is the number of voters who entrusted trustee.
func (s electionStore) trusterCount(ctx context.Context, id, trustee int64) (int, error) {
	var n int
	err := s.db.QueryRow(ctx, `SELECT COUNT(*) FROM gov_voters WHERE election_id = ? AND trustee_id = ?`, id, trustee).Scan(&n)
	return n, err
}

func (s electionStore) setTrustee(ctx context.Context, id, truster, trustee int64) error {
	_, err := s.db.Exec(ctx, `UPDATE gov_voters SET trustee_id = ? WHERE election_id = ? AND resident_id = ?`, trustee, id, truster)
	return err
}

// mark marks a voter who has not voted yet; ok is false when they had.
func (s electionStore) mark(ctx context.Context, id, residentID int64, how string) (bool, error) {
	res, err := s.db.Exec(ctx, `UPDATE gov_voters SET voted = ? WHERE election_id = ? AND resident_id = ? AND voted = ''`, how, id, residentID)
	if err != nil {
		return false, err
	}
	n, err := res.RowsAffected()
	return n == 1, err
}

// markTrusters marks the trustee's trusters who have not voted as voted by
// proxy and returns how many.
func (s electionStore) markTrusters(ctx context.Context, id, trustee int64) (int, error) {
	res, err := s.db.Exec(ctx, `UPDATE gov_voters SET voted = ? WHERE election_id = ? AND trustee_id = ? AND voted = ''`,
		VotedByProxy, id, trustee)
	if err != nil {
		return 0, err
	}
	n, err := res.RowsAffected()
	return int(n), err
}

// candidates lists the election's candidates by votes (byVotes) or by
// name.
func (s electionStore) candidates(ctx context.Context, id int64, byVotes bool) ([]Candidate, error) {
	order := "name, id"
	if byVotes {
		order = "votes DESC, name, id"
	}
	rows, err := s.db.Query(ctx, `SELECT id, election_id, resident_id, name, gender, residency, reserved, votes, elected
		FROM gov_candidates WHERE election_id = ? ORDER BY `+order, id)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []Candidate
	for rows.Next() {
		var c Candidate
		var elected int
		if err := rows.Scan(&c.ID, &c.ElectionID, &c.ResidentID, &c.Name, &c.Gender, &c.Residency, &c.Reserved, &c.Votes, &elected); err != nil {
			return nil, err
		}
		c.Elected = elected != 0
		out = append(out, c)
	}
	return out, rows.Err()
}

func (s electionStore) insertCandidate(ctx context.Context, c *Candidate) error {
	id, err := s.db.InsertID(ctx, `INSERT INTO gov_candidates (election_id, resident_id, name, gender, residency, reserved, votes, elected)
		VALUES (?,?,?,?,?,?,0,0)`, c.ElectionID, c.ResidentID, c.Name, c.Gender, c.Residency, c.Reserved)
	c.ID = id
	return err
}

func (s electionStore) deleteCandidate(ctx context.Context, id int64) error {
	_, err := s.db.Exec(ctx, `DELETE FROM gov_candidates WHERE id = ?`, id)
	return err
}

func (s electionStore) setVotes(ctx context.Context, id int64, votes int, elected bool) error {
	e := 0
	if elected {
		e = 1
	}
	_, err := s.db.Exec(ctx, `UPDATE gov_candidates SET votes = ?, elected = ? WHERE id = ?`, votes, e, id)
	return err
}

// revoteNote reads the note of a re-vote's audit entry (its changes, as
// stored); ok is false for any other entry.
func revoteNote(changes string) (string, bool) {
	var cs []audit.Change
	if err := json.Unmarshal([]byte(changes), &cs); err != nil {
		return "", false
	}
	revote, note := false, ""
	for _, c := range cs {
		switch c.Field {
		case "action":
			revote = c.After == "revote"
		case "note":
			note, _ = c.After.(string)
		}
	}
	return note, revote && note != ""
}
