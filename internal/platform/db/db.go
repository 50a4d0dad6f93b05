// Package db is Shequ's storage floor: one handle over SQLite (embedded
// default) or PostgreSQL (production), transactions that travel in the
// context, portable SQL with `?` placeholders, and embedded migrations.
//
// Services open transactions with Tx; stores call Exec/Query/QueryRow, which
// join the transaction in the context if there is one.
package db

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"time"

	_ "github.com/jackc/pgx/v5/stdlib" // registers "pgx"
	_ "modernc.org/sqlite"             // registers "sqlite"
)

// Dialect names the SQL flavour behind a DB.
type Dialect string

const (
	SQLite   Dialect = "sqlite"
	Postgres Dialect = "postgres"
)

// DB is the storage handle. On SQLite, writes go through a single connection
// (SQLite allows one writer) and reads through a pool; on PostgreSQL both
// are the same pool.
type DB struct {
	Dialect Dialect
	w       *sql.DB
	r       *sql.DB
	dsn     string
}

// ErrNotFound is returned by stores when a row does not exist or lies
// outside the caller's scope; callers cannot tell the two apart.
var ErrNotFound = errors.New("not found")

// IsPostgresURL tells whether a --db value selects PostgreSQL.
func IsPostgresURL(dsn string) bool {
	return strings.HasPrefix(dsn, "postgres://") || strings.HasPrefix(dsn, "postgresql://")
}

// Open connects to dsn: a postgres:// URL selects PostgreSQL, anything else
// is a path to an SQLite file (created if missing).
func Open(ctx context.Context, dsn string) (*DB, error) {
	if IsPostgresURL(dsn) {
		p, err := sql.Open("pgx", dsn)
		if err != nil {
			return nil, err
		}
		// A few connections per core: more only queue in PostgreSQL's lock
		// manager behind the rows every write touches (the audit chain head),
		// which costs more than waiting for a connection in Go.
		conns := min(max(4*runtime.GOMAXPROCS(0), 8), 32)
		p.SetMaxOpenConns(conns)
		p.SetMaxIdleConns(conns)
		p.SetConnMaxIdleTime(5 * time.Minute)
		d := &DB{Dialect: Postgres, w: p, r: p, dsn: dsn}
		if err := d.Ping(ctx); err != nil {
			p.Close()
			return nil, fmt.Errorf("connect to PostgreSQL: %w", err)
		}
		return d, nil
	}
	path := strings.TrimPrefix(dsn, "sqlite://")
	if dir := filepath.Dir(path); dir != "" {
		if err := os.MkdirAll(dir, 0o750); err != nil {
			return nil, err
		}
	}
	pragmas := "_pragma=busy_timeout(10000)&_pragma=journal_mode(WAL)&_pragma=foreign_keys(1)&_pragma=synchronous(NORMAL)"
	w, err := sql.Open("sqlite", "file:"+path+"?"+pragmas+"&_pragma=cache_size(-65536)&_txlock=immediate")
	if err != nil {
		return nil, err
	}
	w.SetMaxOpenConns(1)
	w.SetMaxIdleConns(1)
	w.SetConnMaxLifetime(0)
	r, err := sql.Open("sqlite", "file:"+path+"?"+pragmas+"&_pragma=cache_size(-16384)&_pragma=query_only(1)")
	if err != nil {
		w.Close()
		return nil, err
	}
	r.SetMaxOpenConns(8)
	r.SetMaxIdleConns(8)
	d := &DB{Dialect: SQLite, w: w, r: r, dsn: path}
	if err := d.Ping(ctx); err != nil {
		d.Close()
		return nil, fmt.Errorf("open SQLite %s: %w", path, err)
	}
	return d, nil
}

// Close closes both pools.
func (d *DB) Close() error {
	err := d.w.Close()
	if d.r != d.w {
		err = errors.Join(err, d.r.Close())
	}
	return err
}

// Ping checks that the database answers (used by /readyz).
func (d *DB) Ping(ctx context.Context) error {
	ctx, cancel := context.WithTimeout(ctx, 3*time.Second)
	defer cancel()
	if err := d.w.PingContext(ctx); err != nil {
		return err
	}
	var one int
	return d.r.QueryRowContext(ctx, "SELECT 1").Scan(&one)
}

// Writer returns the underlying writer pool, for migrations and bulk loads.
func (d *DB) Writer() *sql.DB { return d.w }

// Path is the SQLite file path (empty on PostgreSQL).
func (d *DB) Path() string {
	if d.Dialect == SQLite {
		return d.dsn
	}
	return ""
}

type txKey struct{}

type txState struct {
	tx    *sql.Tx
	after []func()
}

// Tx runs fn inside a transaction carried by the context. A nested call joins
// the outer transaction. fn's error (or a panic) rolls back.
func (d *DB) Tx(ctx context.Context, fn func(ctx context.Context) error) (err error) {
	if _, ok := ctx.Value(txKey{}).(*txState); ok {
		return fn(ctx)
	}
	tx, err := d.w.BeginTx(ctx, nil)
	if err != nil {
		return fmt.Errorf("begin: %w", err)
	}
	st := &txState{tx: tx}
	defer func() {
		if p := recover(); p != nil {
			_ = tx.Rollback()
			panic(p)
		}
		if err != nil {
			_ = tx.Rollback()
		}
	}()
	if err = fn(context.WithValue(ctx, txKey{}, st)); err != nil {
		return err
	}
	if err = tx.Commit(); err != nil {
		return fmt.Errorf("commit: %w", err)
	}
	for _, f := range st.after {
		f()
	}
	return nil
}

// InTx reports whether ctx carries a transaction.
func InTx(ctx context.Context) bool {
	_, ok := ctx.Value(txKey{}).(*txState)
	return ok
}

// AfterCommit registers f to run after the context's transaction commits
// (immediately if there is none).
func AfterCommit(ctx context.Context, f func()) {
	if st, ok := ctx.Value(txKey{}).(*txState); ok {
		st.after = append(st.after, f)
		return
	}
	f()
}

type querier interface {
	ExecContext(ctx context.Context, query string, args ...any) (sql.Result, error)
	QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error)
	QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row
}

func (d *DB) writer(ctx context.Context) querier {
	if st, ok := ctx.Value(txKey{}).(*txState); ok {
		return st.tx
	}
	return d.w
}

func (d *DB) reader(ctx context.Context) querier {
	if st, ok := ctx.Value(txKey{}).(*txState); ok {
		return st.tx
	}
	return d.r
}

// Exec runs a statement in the context's transaction, or on the writer.
func (d *DB) Exec(ctx context.Context, q string, args ...any) (sql.Result, error) {
	return d.writer(ctx).ExecContext(ctx, d.Rebind(q), args...)
}

// Query runs a query in the context's transaction, or on the reader pool.
func (d *DB) Query(ctx context.Context, q string, args ...any) (*sql.Rows, error) {
	return d.reader(ctx).QueryContext(ctx, d.Rebind(q), args...)
}

// QueryRow runs a single-row query in the context's transaction, or on the reader pool.
func (d *DB) QueryRow(ctx context.Context, q string, args ...any) *sql.Row {
	return d.reader(ctx).QueryRowContext(ctx, d.Rebind(q), args...)
}

// InsertID runs an INSERT … RETURNING id (both dialects support RETURNING)
// and returns the new id.
func (d *DB) InsertID(ctx context.Context, q string, args ...any) (int64, error) {
	var id int64
	err := d.writer(ctx).QueryRowContext(ctx, d.Rebind(q+" RETURNING id"), args...).Scan(&id)
	return id, err
}

// Rebind turns `?` placeholders into `$n` on PostgreSQL. Queries must not
// contain literal question marks.
func (d *DB) Rebind(q string) string {
	if d.Dialect != Postgres || !strings.Contains(q, "?") {
		return q
	}
	var b strings.Builder
	b.Grow(len(q) + 8)
	n := 0
	for i := 0; i < len(q); i++ {
		if q[i] == '?' {
			n++
			b.WriteByte('$')
			b.WriteString(strconv.Itoa(n))
			continue
		}
		b.WriteByte(q[i])
	}
	return b.String()
}

// Placeholders returns "?,?,…" with n marks, for IN lists.
func Placeholders(n int) string {
	if n <= 0 {
		return ""
	}
	return strings.Repeat("?,", n-1) + "?"
}

// Now is the platform's clock in unix milliseconds; all timestamps are
// stored as BIGINT milliseconds so the schema is identical on both dialects.
func Now() int64 { return time.Now().UnixMilli() }

// JoinTx returns a context whose Exec, Query and QueryRow run in tx, for
// code that manages a transaction itself (bulk loads on a dedicated
// connection) and hands the rest of the work to ordinary stores. The
// caller commits or rolls back; AfterCommit hooks registered in it do not run.
func JoinTx(ctx context.Context, tx *sql.Tx) context.Context {
	return context.WithValue(ctx, txKey{}, &txState{tx: tx})
}
