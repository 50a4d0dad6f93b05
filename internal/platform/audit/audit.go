// Package audit keeps the append-only, hash-chained audit log. Every entry is
// written in the same transaction as the change it records; each carries the
// SM3 hash of its predecessor, so `shequ audit verify` finds the first entry
// that was altered, removed or inserted out of band.
package audit

import (
	"context"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"strconv"
	"strings"

	"github.com/emmansun/gmsm/sm3"

	"github.com/shequ-platform/shequ/internal/platform/db"
)

// Actions recorded in the log.
const (
	Create      = "create"
	Update      = "update"
	Delete      = "delete"
	Login       = "login"
	Logout      = "logout"
	LoginFailed = "login_failed"
	Denied      = "denied"
	Reveal      = "reveal"
	Export      = "export"
)

// Actor is who acts: a user (ID > 0) or the system (a CLI command, a job).
type Actor struct {
	ID     int64
	Name   string
	Client string // client address, or "cli"
}

type actorKey struct{}

// WithActor returns a context carrying the actor for audit entries.
func WithActor(ctx context.Context, a Actor) context.Context {
	return context.WithValue(ctx, actorKey{}, a)
}

// ActorFrom returns the context's actor (the zero Actor is "system").
func ActorFrom(ctx context.Context) Actor {
	a, _ := ctx.Value(actorKey{}).(Actor)
	if a.Name == "" {
		a.Name = "system"
	}
	return a
}

// Change is one field's before and after value. Callers mask sensitive
// values (Mask) before they reach the log.
type Change struct {
	Field  string `json:"f"`
	Before any    `json:"b,omitempty"`
	After  any    `json:"a,omitempty"`
}

// Entry is what a caller records.
type Entry struct {
	Action   string
	Entity   string
	EntityID string
	Division int64
	Changes  []Change
}

// Record is a stored entry.
type Record struct {
	ID       int64
	At       int64
	ActorID  int64
	Actor    string
	Client   string
	Action   string
	Entity   string
	EntityID string
	Division int64
	Changes  string // JSON array of Change
	PrevHash string
	Hash     string
}

// Log writes and reads the audit log.
type Log struct{ DB *db.DB }

// Write appends an entry, joining the context's transaction (or opening one).
// The chain head is locked for the rest of the transaction, so entries are
// numbered and chained in commit order on both databases.
func (l *Log) Write(ctx context.Context, e Entry) error {
	return l.DB.Tx(ctx, func(ctx context.Context) error {
		a := ActorFrom(ctx)
		pg := l.DB.Dialect == db.Postgres
		var seq int64
		var prev string
		var err error
		if pg {
			// Lock the head and take the next number in one round trip: the
			// head is the one row every audited change of the deployment
			// waits for, so the time it is held (to the commit) is the
			// platform's serial section. RETURNING gives the new seq and the
			// hash not yet changed, i.e. the previous entry's.
			err = l.DB.QueryRow(ctx, "UPDATE audit_head SET seq = seq + 1 WHERE id = 1 RETURNING seq, hash").Scan(&seq, &prev)
			seq--
		} else {
			err = l.DB.QueryRow(ctx, "SELECT seq, hash FROM audit_head WHERE id = 1").Scan(&seq, &prev)
		}
		if err != nil {
			return fmt.Errorf("audit head: %w", err)
		}
		changes := ""
		if len(e.Changes) > 0 {
			b, err := json.Marshal(e.Changes)
			if err != nil {
				return err
			}
			changes = string(b)
		}
		r := Record{ID: seq + 1, At: db.Now(), ActorID: a.ID, Actor: a.Name, Client: a.Client,
			Action: e.Action, Entity: e.Entity, EntityID: e.EntityID, Division: e.Division,
			Changes: changes, PrevHash: prev}
		r.Hash = r.computeHash()
		insert := `INSERT INTO audit_log (id, at, actor_id, actor, client, action, entity, entity_id, division, changes, prev_hash, hash)
			VALUES (?,?,?,?,?,?,?,?,?,?,?,?)`
		args := []any{r.ID, r.At, r.ActorID, r.Actor, r.Client, r.Action, r.Entity, r.EntityID, r.Division, r.Changes, r.PrevHash, r.Hash}
		if pg {
			// the entry and the head's new hash in one statement
			if _, err := l.DB.Exec(ctx, "WITH entry AS ("+insert+") UPDATE audit_head SET hash = ? WHERE id = 1", append(args, r.Hash)...); err != nil {
				return fmt.Errorf("audit insert: %w", err)
			}
			return nil
		}
		if _, err := l.DB.Exec(ctx, insert, args...); err != nil {
			return fmt.Errorf("audit insert: %w", err)
		}
		_, err = l.DB.Exec(ctx, "UPDATE audit_head SET seq = ?, hash = ? WHERE id = 1", r.ID, r.Hash)
		return err
	})
}

func (r Record) computeHash() string {
	var b strings.Builder
	for _, s := range []string{strconv.FormatInt(r.ID, 10), strconv.FormatInt(r.At, 10), strconv.FormatInt(r.ActorID, 10),
		r.Actor, r.Client, r.Action, r.Entity, r.EntityID, strconv.FormatInt(r.Division, 10), r.Changes, r.PrevHash} {
		b.WriteString(strconv.Itoa(len(s)))
		b.WriteByte(':')
		b.WriteString(s)
	}
	sum := sm3.Sum([]byte(b.String()))
	return hex.EncodeToString(sum[:])
}

// VerifyResult reports a chain check.
type VerifyResult struct {
	Checked  int64
	BrokenAt int64  // 0 when the chain is intact
	Reason   string // why BrokenAt is broken
}

// Verify walks the whole chain in id order and reports the first broken link.
func (l *Log) Verify(ctx context.Context) (VerifyResult, error) {
	var res VerifyResult
	prev, next := "", int64(1)
	const page = 5000
	for {
		rows, err := l.DB.Query(ctx, `SELECT id, at, actor_id, actor, client, action, entity, entity_id, division, changes, prev_hash, hash
			FROM audit_log WHERE id >= ? ORDER BY id LIMIT ?`, next, page)
		if err != nil {
			return res, err
		}
		n := 0
		for rows.Next() {
			var r Record
			if err := rows.Scan(&r.ID, &r.At, &r.ActorID, &r.Actor, &r.Client, &r.Action, &r.Entity, &r.EntityID, &r.Division, &r.Changes, &r.PrevHash, &r.Hash); err != nil {
				rows.Close()
				return res, err
			}
			n++
			switch {
			case r.ID != next:
				res.BrokenAt, res.Reason = next, fmt.Sprintf("entry %d is missing", next)
			case r.PrevHash != prev:
				res.BrokenAt, res.Reason = r.ID, "previous-hash link does not match the preceding entry"
			case r.computeHash() != r.Hash:
				res.BrokenAt, res.Reason = r.ID, "entry content does not match its hash (altered)"
			}
			if res.BrokenAt != 0 {
				rows.Close()
				return res, nil
			}
			res.Checked++
			prev, next = r.Hash, r.ID+1
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return res, err
		}
		if n < page {
			break
		}
	}
	var seq int64
	var head string
	if err := l.DB.QueryRow(ctx, "SELECT seq, hash FROM audit_head WHERE id = 1").Scan(&seq, &head); err != nil {
		return res, err
	}
	if seq != next-1 || head != prev {
		res.BrokenAt, res.Reason = next, fmt.Sprintf("the chain ends at %d but the head records %d (entries removed from the end)", next-1, seq)
	}
	return res, nil
}

// Filter selects entries for the audit screen and export.
type Filter struct {
	Actor    string
	Entity   string
	EntityID string
	Action   string
	Lo, Hi   int64 // division range; Hi == 0 means no bound
	// Scope is an SQL condition on the division column with its arguments,
	// as access.Principal.Where("audit.view", "division") builds it: the
	// entries the caller may see. Empty means no bound (system use).
	Scope     string
	ScopeArgs []any
	From, To  int64 // unix ms; 0 means open
	Limit     int
	BeforeID  int64 // keyset pagination: entries with id < BeforeID
}

// List returns entries newest first.
func (l *Log) List(ctx context.Context, f Filter) ([]Record, error) {
	var where []string
	var args []any
	add := func(cond string, v any) { where = append(where, cond); args = append(args, v) }
	if f.Actor != "" {
		add("actor = ?", f.Actor)
	}
	if f.Entity != "" {
		add("entity = ?", f.Entity)
	}
	if f.EntityID != "" {
		add("entity_id = ?", f.EntityID)
	}
	if f.Action != "" {
		add("action = ?", f.Action)
	}
	if f.Hi != 0 {
		add("division >= ?", f.Lo)
		add("division <= ?", f.Hi)
	}
	if f.Scope != "" {
		where = append(where, f.Scope)
		args = append(args, f.ScopeArgs...)
	}
	if f.From != 0 {
		add("at >= ?", f.From)
	}
	if f.To != 0 {
		add("at < ?", f.To)
	}
	if f.BeforeID != 0 {
		add("id < ?", f.BeforeID)
	}
	q := "SELECT id, at, actor_id, actor, client, action, entity, entity_id, division, changes, prev_hash, hash FROM audit_log"
	if len(where) > 0 {
		q += " WHERE " + strings.Join(where, " AND ")
	}
	if f.Limit <= 0 {
		f.Limit = 100
	}
	q += " ORDER BY id DESC LIMIT " + strconv.Itoa(f.Limit)
	rows, err := l.DB.Query(ctx, q, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []Record
	for rows.Next() {
		var r Record
		if err := rows.Scan(&r.ID, &r.At, &r.ActorID, &r.Actor, &r.Client, &r.Action, &r.Entity, &r.EntityID, &r.Division, &r.Changes, &r.PrevHash, &r.Hash); err != nil {
			return nil, err
		}
		out = append(out, r)
	}
	return out, rows.Err()
}

// Mask hides all but the first keep and last tail runes of a sensitive value,
// e.g. Mask("320205199001011234", 6, 4) = "320205********1234".
func Mask(s string, keep, tail int) string {
	r := []rune(s)
	if len(r) <= keep+tail {
		return strings.Repeat("*", len(r))
	}
	return string(r[:keep]) + strings.Repeat("*", len(r)-keep-tail) + string(r[len(r)-tail:])
}
