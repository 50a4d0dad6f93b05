package division

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strconv"
	"strings"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/stdlib"

	"github.com/shequ-platform/shequ/internal/platform/db"
)

// sink is where validated rows go.
type sink interface {
	// begin prepares the table (locks it, notes whether it is empty, drops
	// secondary indexes before a big load).
	begin(ctx context.Context) error
	// write stores one batch and says how many rows were new and how many
	// existing ones changed.
	write(ctx context.Context, rows []impRow) (inserted, updated int, err error)
	// levels returns the stored level of those of codes that exist.
	levels(ctx context.Context, codes []int64) (map[int64]int8, error)
	// endWrites is called once after the last write, also on failure.
	endWrites(ctx context.Context) error
	// finish rebuilds what begin dropped.
	finish(ctx context.Context) error
}

// qx runs SQL (with ? placeholders) in the import's transaction.
type qx interface {
	exec(ctx context.Context, q string, args ...any) (int64, error)
	query(ctx context.Context, q string, args []any, each func(scan func(...any) error) error) error
}

// dbQx joins the transaction carried by ctx.
type dbQx struct{ d *db.DB }

func (x dbQx) exec(ctx context.Context, q string, args ...any) (int64, error) {
	res, err := x.d.Exec(ctx, q, args...)
	if err != nil {
		return 0, err
	}
	return res.RowsAffected()
}

func (x dbQx) query(ctx context.Context, q string, args []any, each func(func(...any) error) error) error {
	rows, err := x.d.Query(ctx, q, args...)
	if err != nil {
		return err
	}
	return scanAll(rows, each)
}

func scanAll(rows *sql.Rows, each func(func(...any) error) error) error {
	defer rows.Close()
	for rows.Next() {
		if err := each(rows.Scan); err != nil {
			return err
		}
	}
	return rows.Err()
}

// txQx is Import's own database/sql transaction (SQLite), with prepared
// statements.
type txQx struct {
	tx    *sql.Tx
	stmts map[string]*sql.Stmt
}

func (x *txQx) exec(ctx context.Context, q string, args ...any) (int64, error) {
	res, err := x.tx.ExecContext(ctx, q, args...)
	if err != nil {
		return 0, err
	}
	return res.RowsAffected()
}

// execPrepared runs q through a statement prepared once per transaction.
func (x *txQx) execPrepared(ctx context.Context, q string, args ...any) (int64, error) {
	st, ok := x.stmts[q]
	if !ok {
		var err error
		if st, err = x.tx.PrepareContext(ctx, q); err != nil {
			return 0, err
		}
		x.stmts[q] = st
	}
	res, err := st.ExecContext(ctx, args...)
	if err != nil {
		return 0, err
	}
	return res.RowsAffected()
}

func (x *txQx) query(ctx context.Context, q string, args []any, each func(func(...any) error) error) error {
	rows, err := x.tx.QueryContext(ctx, q, args...)
	if err != nil {
		return err
	}
	return scanAll(rows, each)
}

// pgxSession is what Import needs of a pgx connection or transaction.
type pgxSession interface {
	Exec(ctx context.Context, sql string, args ...any) (pgconn.CommandTag, error)
	Query(ctx context.Context, sql string, args ...any) (pgx.Rows, error)
	CopyFrom(ctx context.Context, table pgx.Identifier, cols []string, src pgx.CopyFromSource) (int64, error)
}

// pgxQx is Import's own transaction on a raw pgx connection (PostgreSQL):
// the session is inside a transaction begun on the same connection.
type pgxQx struct {
	tx pgxSession
	d  *db.DB
}

func (x pgxQx) exec(ctx context.Context, q string, args ...any) (int64, error) {
	tag, err := x.tx.Exec(ctx, x.d.Rebind(q), args...)
	return tag.RowsAffected(), err
}

func (x pgxQx) query(ctx context.Context, q string, args []any, each func(func(...any) error) error) error {
	rows, err := x.tx.Query(ctx, x.d.Rebind(q), args...)
	if err != nil {
		return err
	}
	defer rows.Close()
	for rows.Next() {
		if err := each(rows.Scan); err != nil {
			return err
		}
	}
	return rows.Err()
}

// withSQLTx runs fn in a transaction of its own on the writer connection,
// then before (with the transaction in its context), then commits.
func withSQLTx(ctx context.Context, d *db.DB, fn func(context.Context, sink) error, before func(context.Context) error) error {
	conn, err := d.Writer().Conn(ctx)
	if err != nil {
		return err
	}
	defer conn.Close()
	tx, err := conn.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("begin: %w", err)
	}
	if err := fn(ctx, newBulk(d, &txQx{tx: tx, stmts: map[string]*sql.Stmt{}})); err != nil {
		_ = tx.Rollback()
		return err
	}
	if err := before(db.JoinTx(ctx, tx)); err != nil {
		_ = tx.Rollback()
		return err
	}
	return tx.Commit()
}

// withPgxTx runs fn in a transaction of its own on a dedicated connection,
// using the raw pgx connection for COPY, then before, then commits. The
// transaction is begun through database/sql on that connection, so the same
// server session serves both the COPY (inside Conn.Raw) and before (through
// the *sql.Tx, after Raw has returned: database/sql holds the connection's
// lock during Raw).
func withPgxTx(ctx context.Context, d *db.DB, fn func(context.Context, sink) error, before func(context.Context) error) error {
	conn, err := d.Writer().Conn(ctx)
	if err != nil {
		return err
	}
	defer conn.Close()
	tx, err := conn.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("begin: %w", err)
	}
	err = conn.Raw(func(dc any) error {
		sc, ok := dc.(*stdlib.Conn)
		if !ok {
			return fmt.Errorf("division import: unexpected driver connection %T", dc)
		}
		return fn(ctx, newBulk(d, pgxQx{tx: sc.Conn(), d: d}))
	})
	if err == nil {
		err = before(db.JoinTx(ctx, tx))
	}
	if err != nil {
		_ = tx.Rollback()
		return err
	}
	return tx.Commit()
}

// bulk is the sink writing to the divisions table.
type bulk struct {
	d       *db.DB
	x       qx
	now     int64
	empty   bool        // the table was empty at begin: plain inserts, no upsert
	dropped [][2]string // secondary indexes dropped by begin: name, definition

	// PostgreSQL, own transaction, empty table: one COPY, fed batch by batch.
	copyRows chan []impRow
	copyDone chan error
	copyN    int64 // rows copied, once copyDone has answered
	copyErr  error
	sent     int64
}

func newBulk(d *db.DB, x qx) *bulk { return &bulk{d: d, x: x, now: db.Now()} }

// rebuildBelow: on SQLite, begin drops the secondary indexes when the table
// has fewer rows than this (rebuilding them then costs little, and loading
// the national list into the indexed table is ~15% slower). PostgreSQL keeps
// its indexes: there maintaining them during COPY is faster than a rebuild,
// and DROP INDEX would lock readers out until commit.
const rebuildBelow = 100_000

func (b *bulk) begin(ctx context.Context) error {
	if b.d.Dialect == db.Postgres {
		// Other writers wait (readers do not), so the emptiness seen here holds.
		if _, err := b.x.exec(ctx, "LOCK TABLE divisions IN SHARE ROW EXCLUSIVE MODE"); err != nil {
			return err
		}
	}
	var n int64
	if err := b.x.query(ctx, "SELECT COUNT(*) FROM divisions", nil, func(scan func(...any) error) error {
		return scan(&n)
	}); err != nil {
		return err
	}
	b.empty = n == 0
	if b.d.Dialect != db.SQLite || n >= rebuildBelow {
		return nil
	}
	q := "SELECT name, sql FROM sqlite_master WHERE type = 'index' AND tbl_name = 'divisions' AND sql IS NOT NULL"
	if err := b.x.query(ctx, q, nil, func(scan func(...any) error) error {
		var name, def string
		if err := scan(&name, &def); err != nil {
			return err
		}
		b.dropped = append(b.dropped, [2]string{name, def})
		return nil
	}); err != nil {
		return err
	}
	for _, ix := range b.dropped {
		if _, err := b.x.exec(ctx, "DROP INDEX "+quoteIdent(ix[0])); err != nil {
			return err
		}
	}
	return nil
}

func (b *bulk) finish(ctx context.Context) error {
	for _, ix := range b.dropped {
		if _, err := b.x.exec(ctx, ix[1]); err != nil {
			return fmt.Errorf("rebuild index %s: %w", ix[0], err)
		}
	}
	return nil
}

func quoteIdent(s string) string { return `"` + strings.ReplaceAll(s, `"`, `""`) + `"` }

func (b *bulk) write(ctx context.Context, rows []impRow) (inserted, updated int, err error) {
	existing := 0
	if !b.empty {
		if existing, err = b.countExisting(ctx, rows); err != nil {
			return 0, 0, err
		}
	}
	if px, ok := b.x.(pgxQx); ok && b.empty {
		return len(rows), 0, b.copy(ctx, px.tx, rows)
	}
	var changed int64
	if b.d.Dialect == db.Postgres {
		changed, err = b.writePostgres(ctx, rows, existing == 0)
	} else {
		changed, err = b.writeSQLite(ctx, rows, existing == 0)
	}
	if err != nil {
		return 0, 0, err
	}
	inserted = len(rows) - existing
	return inserted, int(changed) - inserted, nil
}

// codeSet is a SQL condition "code is one of codes" with its argument.
func (b *bulk) codeSet(col string, codes []int64) (string, any) {
	if b.d.Dialect == db.Postgres {
		return col + " = ANY(?::bigint[])", codes
	}
	buf := make([]byte, 0, len(codes)*16+2)
	buf = append(buf, '[')
	for i, c := range codes {
		if i > 0 {
			buf = append(buf, ',')
		}
		buf = strconv.AppendInt(buf, c, 10)
	}
	return col + " IN (SELECT value FROM json_each(?))", string(append(buf, ']'))
}

func (b *bulk) countExisting(ctx context.Context, rows []impRow) (int, error) {
	codes := make([]int64, len(rows))
	for i := range rows {
		codes[i] = rows[i].code
	}
	cond, arg := b.codeSet("code", codes)
	var n int
	err := b.x.query(ctx, "SELECT COUNT(*) FROM divisions WHERE "+cond, []any{arg}, func(scan func(...any) error) error {
		return scan(&n)
	})
	return n, err
}

func (b *bulk) levels(ctx context.Context, codes []int64) (map[int64]int8, error) {
	out := make(map[int64]int8, len(codes))
	cond, arg := b.codeSet("code", codes)
	err := b.x.query(ctx, "SELECT code, level FROM divisions WHERE "+cond, []any{arg}, func(scan func(...any) error) error {
		var c int64
		var l int8
		if err := scan(&c, &l); err != nil {
			return err
		}
		out[c] = l
		return nil
	})
	return out, err
}

const insertCols = "INSERT INTO divisions (code, name, level, parent, kind, urban_rural, retired_at, updated_at) "

// upsertSet updates an existing code only if something differs, so that
// RowsAffected counts real changes and updated_at means something.
const upsertSet = ` ON CONFLICT (code) DO UPDATE SET name = excluded.name, level = excluded.level, parent = excluded.parent,
kind = excluded.kind, urban_rural = excluded.urban_rural, updated_at = excluded.updated_at
WHERE divisions.name <> excluded.name OR divisions.level <> excluded.level OR COALESCE(divisions.parent, -1) <> excluded.parent
OR divisions.kind <> excluded.kind OR divisions.urban_rural <> excluded.urban_rural`

// sqliteRowsPerStmt rows go into one multi-row INSERT (6 parameters each,
// well below SQLite's 32766).
const sqliteRowsPerStmt = 500

// sqliteInsert is the statement for n rows; now is written as a literal
// (one parameter less to bind per row).
func sqliteInsert(n int, upsert bool, now int64) string {
	tail := ",0," + strconv.FormatInt(now, 10) + ")"
	var sb strings.Builder
	sb.Grow(len(insertCols) + 8 + n*(14+len(tail)) + len(upsertSet))
	sb.WriteString(insertCols)
	sb.WriteString("VALUES ")
	for i := 0; i < n; i++ {
		if i > 0 {
			sb.WriteByte(',')
		}
		sb.WriteString("(?,?,?,?,?,?")
		sb.WriteString(tail)
	}
	if upsert {
		sb.WriteString(upsertSet)
	}
	return sb.String()
}

func (b *bulk) writeSQLite(ctx context.Context, rows []impRow, plain bool) (int64, error) {
	var changed int64
	args := make([]any, 0, sqliteRowsPerStmt*6)
	for start := 0; start < len(rows); start += sqliteRowsPerStmt {
		part := rows[start:min(start+sqliteRowsPerStmt, len(rows))]
		args = args[:0]
		for i := range part {
			r := &part[i]
			args = append(args, r.code, r.name, int64(r.level), r.parent, r.kind, int64(r.ur))
		}
		q := sqliteInsert(len(part), !plain, b.now)
		var n int64
		var err error
		if tx, ok := b.x.(*txQx); ok {
			n, err = tx.execPrepared(ctx, q, args...)
		} else {
			n, err = b.x.exec(ctx, q, args...)
		}
		if err != nil {
			return 0, err
		}
		changed += n
	}
	return changed, nil
}

var divisionColumns = []string{"code", "name", "level", "parent", "kind", "urban_rural", "retired_at", "updated_at"}

// copy hands rows to a single COPY into the (empty) table, started by the
// first call, so that encoding, the network and the server overlap.
func (b *bulk) copy(ctx context.Context, tx pgxSession, rows []impRow) error {
	if b.copyErr != nil {
		return b.copyErr
	}
	if b.copyRows == nil {
		b.copyRows = make(chan []impRow, 2)
		b.copyDone = make(chan error, 1)
		in, done := b.copyRows, b.copyDone
		go func() {
			var cur []impRow
			i := 0
			n, err := tx.CopyFrom(ctx, pgx.Identifier{"divisions"}, divisionColumns, pgx.CopyFromFunc(func() ([]any, error) {
				for i == len(cur) {
					var ok bool
					if cur, ok = <-in; !ok {
						return nil, nil
					}
					i = 0
				}
				r := &cur[i]
				i++
				return []any{r.code, r.name, int64(r.level), r.parent, r.kind, int64(r.ur), int64(0), b.now}, nil
			}))
			b.copyN = n
			done <- err
		}()
	}
	select {
	case b.copyRows <- rows:
		b.sent += int64(len(rows))
		return nil
	case err := <-b.copyDone: // COPY failed (it only ends early on error)
		if err == nil {
			err = errors.New("division import: COPY ended early")
		}
		b.copyRows, b.copyErr = nil, err
		return err
	}
}

func (b *bulk) endWrites(context.Context) error {
	if b.copyRows == nil {
		return b.copyErr
	}
	close(b.copyRows)
	b.copyRows = nil
	if b.copyErr = <-b.copyDone; b.copyErr == nil && b.copyN != b.sent {
		b.copyErr = fmt.Errorf("division import: COPY wrote %d rows of %d", b.copyN, b.sent)
	}
	return b.copyErr
}

func (b *bulk) writePostgres(ctx context.Context, rows []impRow, plain bool) (int64, error) {
	n := len(rows)
	codes, names, levels, parents, kinds, urs := make([]int64, n), make([]string, n), make([]int64, n), make([]int64, n), make([]string, n), make([]int64, n)
	for i := range rows {
		r := &rows[i]
		codes[i], names[i], levels[i], parents[i], kinds[i], urs[i] = r.code, r.name, int64(r.level), r.parent, r.kind, int64(r.ur)
	}
	q := insertCols + `SELECT c, n, l, p, k, u, 0, ? FROM unnest(?::bigint[], ?::text[], ?::bigint[], ?::bigint[], ?::text[], ?::bigint[]) AS t (c, n, l, p, k, u)`
	if !plain {
		q += upsertSet
	}
	return b.x.exec(ctx, q, b.now, codes, names, levels, parents, kinds, urs)
}

// drySink validates against the database (if any) without writing.
type drySink struct{ d *db.DB }

func (s *drySink) begin(context.Context) error  { return nil }
func (s *drySink) finish(context.Context) error { return nil }

func (s *drySink) endWrites(context.Context) error { return nil }

func (s *drySink) write(ctx context.Context, rows []impRow) (int, int, error) {
	if s.d == nil {
		return len(rows), 0, nil
	}
	b := &bulk{d: s.d, x: dbQx{s.d}}
	n, err := b.countExisting(ctx, rows)
	return len(rows) - n, n, err
}

func (s *drySink) levels(ctx context.Context, codes []int64) (map[int64]int8, error) {
	if s.d == nil {
		return nil, nil
	}
	return (&bulk{d: s.d, x: dbQx{s.d}}).levels(ctx, codes)
}
