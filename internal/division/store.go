package division

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"

	"github.com/shequ-platform/shequ/internal/platform/db"
)

// Store reads and changes divisions. Every method joins the transaction in
// ctx if there is one (the service layer wraps mutations in a transaction
// together with their audit entry); mutating methods open their own
// transaction otherwise. Scope checks are the caller's job, except Search,
// which takes the caller's range.
type Store struct{ DB *db.DB }

const cols = "code, name, level, COALESCE(parent, 0), kind, urban_rural, retired_at, updated_at"

func scanDivision(sc interface{ Scan(...any) error }) (Division, error) {
	var d Division
	var retiredAt int64
	err := sc.Scan(&d.Code, &d.Name, &d.Level, &d.Parent, &d.Kind, &d.UrbanRural, &retiredAt, &d.UpdatedAt)
	d.Retired = retiredAt != 0
	return d, err
}

func (s *Store) list(ctx context.Context, q string, args ...any) ([]Division, error) {
	rows, err := s.DB.Query(ctx, q, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []Division
	for rows.Next() {
		d, err := scanDivision(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, d)
	}
	return out, rows.Err()
}

// InRange lists the units, retired or not, with codes in [lo, hi] and levels
// in [minLevel, maxLevel], in code order (e.g. the villages and grids of a
// subtree).
func (s *Store) InRange(ctx context.Context, lo, hi int64, minLevel, maxLevel int) ([]Division, error) {
	return s.list(ctx, "SELECT "+cols+" FROM divisions WHERE code BETWEEN ? AND ? AND level BETWEEN ? AND ? ORDER BY code", lo, hi, minLevel, maxLevel)
}

// Get returns one unit, retired or not, or db.ErrNotFound.
func (s *Store) Get(ctx context.Context, code int64) (Division, error) {
	return s.get(ctx, code, false)
}

// get reads a unit; lock takes a row lock on PostgreSQL (SQLite has a single
// writer, so its transactions are serialised anyway).
func (s *Store) get(ctx context.Context, code int64, lock bool) (Division, error) {
	q := "SELECT " + cols + " FROM divisions WHERE code = ?"
	if lock && s.DB.Dialect == db.Postgres {
		q += " FOR UPDATE"
	}
	d, err := scanDivision(s.DB.QueryRow(ctx, q, code))
	if errors.Is(err, sql.ErrNoRows) {
		return Division{}, db.ErrNotFound
	}
	return d, err
}

// Children returns the direct children of code ordered by code; Root (0)
// gives the provinces. Retired units are left out unless includeRetired.
// An unknown code has no children (no error).
func (s *Store) Children(ctx context.Context, code int64, includeRetired bool) ([]Division, error) {
	q := "SELECT " + cols + " FROM divisions WHERE parent = ?"
	if !includeRetired {
		q += " AND retired_at = 0"
	}
	return s.list(ctx, q+" ORDER BY code", code)
}

// CountChildren returns, for each of codes, how many direct children it has
// (to show tree expanders). Codes without children are absent from the map.
func (s *Store) CountChildren(ctx context.Context, codes []int64, includeRetired bool) (map[int64]int, error) {
	out := make(map[int64]int, len(codes))
	const chunk = 500
	for len(codes) > 0 {
		n := min(len(codes), chunk)
		part := codes[:n]
		codes = codes[n:]
		q := "SELECT parent, COUNT(*) FROM divisions WHERE parent IN (" + db.Placeholders(len(part)) + ")"
		if !includeRetired {
			q += " AND retired_at = 0"
		}
		args := make([]any, len(part))
		for i, c := range part {
			args[i] = c
		}
		rows, err := s.DB.Query(ctx, q+" GROUP BY parent", args...)
		if err != nil {
			return nil, err
		}
		for rows.Next() {
			var p int64
			var c int
			if err := rows.Scan(&p, &c); err != nil {
				rows.Close()
				return nil, err
			}
			out[p] = c
		}
		err = rows.Err()
		rows.Close()
		if err != nil {
			return nil, err
		}
	}
	return out, nil
}

// Ancestors returns the stored parent chain of code, from the province down
// to its direct parent (code itself excluded), for breadcrumbs. It follows
// parent links, so it is right where the digits mislead (东莞 townships).
// Root and provinces have no ancestors; an unknown code is db.ErrNotFound.
func (s *Store) Ancestors(ctx context.Context, code int64) ([]Division, error) {
	if code == Root {
		return nil, nil
	}
	// depth bounds the walk should the data ever contain a cycle.
	q := `WITH RECURSIVE chain (code, depth) AS (
    SELECT code, 0 FROM divisions WHERE code = ?
    UNION ALL
    SELECT d.parent, c.depth + 1 FROM divisions d JOIN chain c ON d.code = c.code
    WHERE d.parent IS NOT NULL AND d.parent <> 0 AND c.depth < 8
)
SELECT ` + prefixCols("d") + `, c.depth FROM chain c JOIN divisions d ON d.code = c.code ORDER BY c.depth DESC`
	rows, err := s.DB.Query(ctx, q, code)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []Division
	found := false
	for rows.Next() {
		var d Division
		var retiredAt int64
		var depth int
		if err := rows.Scan(&d.Code, &d.Name, &d.Level, &d.Parent, &d.Kind, &d.UrbanRural, &retiredAt, &d.UpdatedAt, &depth); err != nil {
			return nil, err
		}
		d.Retired = retiredAt != 0
		if depth == 0 {
			found = true
			continue
		}
		out = append(out, d)
	}
	if err := rows.Err(); err != nil {
		return nil, err
	}
	if !found {
		return nil, db.ErrNotFound
	}
	return out, nil
}

func prefixCols(p string) string {
	return p + ".code, " + p + ".name, " + p + ".level, COALESCE(" + p + ".parent, 0), " + p + ".kind, " +
		p + ".urban_rural, " + p + ".retired_at, " + p + ".updated_at"
}

// Search finds active units within [lo, hi] (the caller's scope, see Range)
// whose name contains q, or, when q is all digits, whose 15-digit code
// starts with q. Results are ranked exact name first, then name or code
// prefix, then substring; within a rank by level (higher units first), then
// code. limit ≤ 0 means 20; it is capped at 200.
func (s *Store) Search(ctx context.Context, q string, lo, hi int64, limit int) ([]Division, error) {
	q = strings.TrimSpace(q)
	if q == "" || lo > hi {
		return nil, nil
	}
	if limit <= 0 {
		limit = 20
	}
	limit = min(limit, 200)
	esc := escapeLike(q)
	where := "code BETWEEN ? AND ? AND retired_at = 0 AND (name LIKE ? ESCAPE '!'"
	args := []any{lo, hi, "%" + esc + "%"}
	rank := "CASE WHEN name = ? THEN 0 WHEN name LIKE ? ESCAPE '!' THEN 1"
	rankArgs := []any{q, esc + "%"}
	if plo, phi, ok := codePrefixRange(q); ok {
		where += " OR code BETWEEN ? AND ?"
		args = append(args, plo, phi)
		rank += " WHEN code BETWEEN ? AND ? THEN 1"
		rankArgs = append(rankArgs, plo, phi)
	}
	where += ")"
	rank += " ELSE 2 END"
	args = append(args, rankArgs...)
	args = append(args, limit)
	return s.list(ctx, "SELECT "+cols+" FROM divisions WHERE "+where+" ORDER BY "+rank+", level, code LIMIT ?", args...)
}

// codePrefixRange turns a 1-15 digit string into the range of 15-digit codes
// that start with it.
func codePrefixRange(q string) (lo, hi int64, ok bool) {
	if len(q) == 0 || len(q) > 15 {
		return 0, 0, false
	}
	var n int64
	for i := 0; i < len(q); i++ {
		if q[i] < '0' || q[i] > '9' {
			return 0, 0, false
		}
		n = n*10 + int64(q[i]-'0')
	}
	span := int64(1)
	for i := len(q); i < 15; i++ {
		span *= 10
	}
	return n * span, n*span + span - 1, true
}

func escapeLike(s string) string {
	if !strings.ContainsAny(s, "%_!") {
		return s
	}
	var b strings.Builder
	for _, r := range s {
		if r == '%' || r == '_' || r == '!' {
			b.WriteByte('!')
		}
		b.WriteRune(r)
	}
	return b.String()
}

// CreateSub creates a grid, villager group or building under a village,
// with the next free 3-digit sub-code (codes of retired units are never
// reused). FieldError codes: not_a_village, retired, kind_invalid,
// name_required, name_too_long, name_invalid, name_taken, full. An unknown
// village is db.ErrNotFound.
func (s *Store) CreateSub(ctx context.Context, village int64, kind, name string) (Division, error) {
	var out Division
	err := s.DB.Tx(ctx, func(ctx context.Context) error {
		v, err := s.get(ctx, village, true) // locks the village: serialises numbering and name checks
		if err != nil {
			return err
		}
		if v.Level != LevelVillage {
			return fieldErr("parent", ErrCodeNotAVillage, "%s is not a village (level %d)", Format(village), v.Level)
		}
		if v.Retired {
			return fieldErr("parent", ErrCodeRetired, "%s is retired", Format(village))
		}
		if !validSubKind(kind) {
			return fieldErr("kind", ErrCodeKindInvalid, "kind must be one of %s", strings.Join(SubKinds, ", "))
		}
		if name, err = CleanName(name, MaxSubNameRunes); err != nil {
			return err
		}
		if err := s.checkNameFree(ctx, village, name, 0); err != nil {
			return err
		}
		var last sql.NullInt64
		if err := s.DB.QueryRow(ctx, "SELECT MAX(code) FROM divisions WHERE code BETWEEN ? AND ?",
			village+1, village+MaxSubsPerVillage).Scan(&last); err != nil {
			return err
		}
		next := village + 1
		if last.Valid {
			next = last.Int64 + 1
		}
		if next > village+MaxSubsPerVillage {
			return fieldErr("parent", ErrCodeFull, "%s has used all %d sub-codes", Format(village), MaxSubsPerVillage)
		}
		out = Division{Code: next, Name: name, Level: LevelGrid, Parent: village, Kind: kind, UpdatedAt: db.Now()}
		_, err = s.DB.Exec(ctx, `INSERT INTO divisions (code, name, level, parent, kind, urban_rural, retired_at, updated_at)
VALUES (?, ?, ?, ?, ?, 0, 0, ?)`, out.Code, out.Name, out.Level, out.Parent, out.Kind, out.UpdatedAt)
		return err
	})
	if err != nil {
		return Division{}, err
	}
	return out, nil
}

// checkNameFree fails with name_taken if an active child of parent other
// than except is called name. Only level-6 units are held to unique names
// (official lists do repeat names among siblings).
func (s *Store) checkNameFree(ctx context.Context, parent int64, name string, except int64) error {
	var n int
	err := s.DB.QueryRow(ctx, "SELECT COUNT(*) FROM divisions WHERE parent = ? AND name = ? AND retired_at = 0 AND code <> ?",
		parent, name, except).Scan(&n)
	if err != nil {
		return err
	}
	if n > 0 {
		return fieldErr("name", ErrCodeNameTaken, "another unit under %s is already called %q", Format(parent), name)
	}
	return nil
}

// Rename changes a unit's name and returns it before and after, for the
// audit entry. Any level may be renamed (a re-import overwrites names of
// levels 1-5 again); level-6 names must be unique among active siblings and
// at most MaxSubNameRunes runes. Renaming to the current name is a no-op
// (before == after). FieldError codes: name_required, name_too_long,
// name_invalid, name_taken, retired.
func (s *Store) Rename(ctx context.Context, code int64, name string) (before, after Division, err error) {
	err = s.DB.Tx(ctx, func(ctx context.Context) error {
		if before, err = s.get(ctx, code, true); err != nil {
			return err
		}
		if before.Retired {
			return fieldErr("code", ErrCodeRetired, "%s is retired", Format(code))
		}
		maxRunes := MaxNameRunes
		if before.Level == LevelGrid {
			maxRunes = MaxSubNameRunes
		}
		if name, err = CleanName(name, maxRunes); err != nil {
			return err
		}
		after = before
		if name == before.Name {
			return nil
		}
		if before.Level == LevelGrid {
			if _, err := s.get(ctx, before.Parent, true); err != nil && !errors.Is(err, db.ErrNotFound) {
				return err
			}
			if err := s.checkNameFree(ctx, before.Parent, name, code); err != nil {
				return err
			}
		}
		after.Name, after.UpdatedAt = name, db.Now()
		_, err = s.DB.Exec(ctx, "UPDATE divisions SET name = ?, updated_at = ? WHERE code = ?", after.Name, after.UpdatedAt, code)
		return err
	})
	if err != nil {
		return Division{}, Division{}, err
	}
	return before, after, nil
}

// Retire marks a level-6 unit retired: it disappears from Children and
// Search but keeps its code, which is never reused. Units of levels 1-5
// follow the official list and cannot be retired here. FieldError codes:
// not_retirable, already_retired.
func (s *Store) Retire(ctx context.Context, code int64) (before, after Division, err error) {
	return s.setRetired(ctx, code, true)
}

// Restore brings a retired level-6 unit back. FieldError codes:
// not_retirable, not_retired, name_taken (an active sibling took its name
// meanwhile; rename that one first).
func (s *Store) Restore(ctx context.Context, code int64) (before, after Division, err error) {
	return s.setRetired(ctx, code, false)
}

func (s *Store) setRetired(ctx context.Context, code int64, retire bool) (before, after Division, err error) {
	err = s.DB.Tx(ctx, func(ctx context.Context) error {
		if before, err = s.get(ctx, code, true); err != nil {
			return err
		}
		if before.Level != LevelGrid {
			return fieldErr("code", ErrCodeNotRetirable, "only grids, groups and buildings can be retired or restored, not level %d", before.Level)
		}
		if retire && before.Retired {
			return fieldErr("code", ErrCodeAlreadyRetired, "%s is already retired", Format(code))
		}
		if !retire && !before.Retired {
			return fieldErr("code", ErrCodeNotRetired, "%s is not retired", Format(code))
		}
		now := db.Now()
		retiredAt := int64(0)
		if retire {
			retiredAt = now
		} else {
			if _, err := s.get(ctx, before.Parent, true); err != nil && !errors.Is(err, db.ErrNotFound) {
				return err
			}
			if err := s.checkNameFree(ctx, before.Parent, before.Name, code); err != nil {
				return err
			}
		}
		after = before
		after.Retired, after.UpdatedAt = retire, now
		_, err = s.DB.Exec(ctx, "UPDATE divisions SET retired_at = ?, updated_at = ? WHERE code = ?", retiredAt, now, code)
		return err
	})
	if err != nil {
		return Division{}, Division{}, err
	}
	return before, after, nil
}

// String is for logs: "320205001004000 某某村".
func (d Division) String() string { return fmt.Sprintf("%s %s", Format(d.Code), d.Name) }
