package dbtest

import (
	"context"
	"database/sql"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/shequ-platform/shequ/internal/platform/db"
)

// The benchmark scripts (scripts/bench-*.sh) run long tests that fill a
// database of a given size and print BENCH lines the scripts turn into
// docs/benchmarks.md. These helpers are what those tests share.

// BenchDB opens a fresh, migrated database for a benchmark: SQLite in
// SHEQU_BENCH_DIR (or a temporary directory) when SHEQU_BENCH_DB is sqlite
// or empty, or the PostgreSQL database name (dropped and created again) on
// the server of SHEQU_TEST_POSTGRES when it is postgres. It returns the
// database and its kind.
func BenchDB(ctx context.Context, t testing.TB, name string) (*db.DB, string) {
	t.Helper()
	kind := os.Getenv("SHEQU_BENCH_DB")
	if kind == "" {
		kind = "sqlite"
	}
	var dsn string
	switch kind {
	case "sqlite":
		dir := os.Getenv("SHEQU_BENCH_DIR")
		if dir == "" {
			dir = t.TempDir()
		}
		dsn = filepath.Join(dir, name+".db")
		for _, suf := range []string{"", "-wal", "-shm"} {
			if err := os.Remove(dsn + suf); err != nil && !os.IsNotExist(err) {
				t.Fatal(err)
			}
		}
	case "postgres":
		admin := os.Getenv("SHEQU_TEST_POSTGRES")
		if admin == "" {
			t.Fatal("SHEQU_BENCH_DB=postgres needs SHEQU_TEST_POSTGRES")
		}
		a, err := sql.Open("pgx", admin)
		if err != nil {
			t.Fatal(err)
		}
		for _, q := range []string{"DROP DATABASE IF EXISTS " + name + " WITH (FORCE)", "CREATE DATABASE " + name} {
			if _, err := a.ExecContext(ctx, q); err != nil {
				t.Fatal(err)
			}
		}
		a.Close()
		u, err := url.Parse(admin)
		if err != nil {
			t.Fatal(err)
		}
		u.Path = "/" + name
		dsn = u.String()
	default:
		t.Fatalf("SHEQU_BENCH_DB=%q: want sqlite or postgres", kind)
	}
	d, err := db.Open(ctx, dsn)
	if err != nil {
		t.Fatal(err)
	}
	if err := d.Migrate(ctx); err != nil {
		t.Fatal(err)
	}
	return d, kind
}

// Insert writes rows into table with multi-row INSERTs (bulk fills).
func Insert(ctx context.Context, d *db.DB, table string, cols []string, rows [][]any) error {
	per := max(1, 30000/len(cols))
	one := "(" + db.Placeholders(len(cols)) + ")"
	head := "INSERT INTO " + table + " (" + strings.Join(cols, ", ") + ") VALUES "
	for start := 0; start < len(rows); start += per {
		part := rows[start:min(start+per, len(rows))]
		var b strings.Builder
		b.WriteString(head)
		args := make([]any, 0, len(part)*len(cols))
		for i, r := range part {
			if i > 0 {
				b.WriteString(", ")
			}
			b.WriteString(one)
			args = append(args, r...)
		}
		if _, err := d.Exec(ctx, b.String(), args...); err != nil {
			return err
		}
	}
	return nil
}

// Times runs fn q times after a warm-up of 20 and returns p50, p95 and the
// maximum in milliseconds.
func Times(t testing.TB, q int, fn func() error) (p50, p95, worst float64) {
	t.Helper()
	for range 20 {
		if err := fn(); err != nil {
			t.Fatal(err)
		}
	}
	ds := make([]float64, q)
	for i := range ds {
		start := time.Now()
		if err := fn(); err != nil {
			t.Fatal(err)
		}
		ds[i] = float64(time.Since(start).Microseconds()) / 1000
	}
	slices.Sort(ds)
	return ds[len(ds)/2], ds[min(len(ds)-1, len(ds)*95/100)], ds[len(ds)-1]
}

// Report prints one BENCH line of key=value pairs for the scripts.
func Report(kv ...any) {
	var b strings.Builder
	b.WriteString("BENCH")
	for i := 0; i+1 < len(kv); i += 2 {
		fmt.Fprintf(&b, " %v=%v", kv[i], kv[i+1])
	}
	fmt.Println(b.String())
}
