// Package dbtest runs store tests on every database Shequ supports: always on
// a fresh SQLite file, and on a fresh PostgreSQL database when
// SHEQU_TEST_POSTGRES holds the URL of a server (make test starts one on
// loopback). With SHEQU_REQUIRE_POSTGRES=1 a missing server fails the test
// instead of skipping it, so CI cannot silently test one database only.
package dbtest

import (
	"context"
	"database/sql"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/shequ-platform/shequ/internal/platform/db"
)

// Each runs fn as a subtest on each available database, migrated.
func Each(t *testing.T, fn func(t *testing.T, d *db.DB)) {
	t.Helper()
	t.Run("sqlite", func(t *testing.T) { fn(t, SQLite(t)) })
	t.Run("postgres", func(t *testing.T) { fn(t, Postgres(t)) })
}

// SQLite opens a migrated database in a temporary file.
func SQLite(t testing.TB) *db.DB {
	t.Helper()
	d, err := db.Open(context.Background(), filepath.Join(t.TempDir(), "shequ.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { d.Close() })
	if err := d.Migrate(context.Background()); err != nil {
		t.Fatal(err)
	}
	return d
}

var seq atomic.Int64

// PostgresURL returns the admin URL of the test server, skipping (or failing
// under SHEQU_REQUIRE_POSTGRES=1) when there is none.
func PostgresURL(t testing.TB) string {
	t.Helper()
	u := os.Getenv("SHEQU_TEST_POSTGRES")
	if u == "" {
		if os.Getenv("SHEQU_REQUIRE_POSTGRES") == "1" {
			t.Fatal("SHEQU_TEST_POSTGRES is not set but SHEQU_REQUIRE_POSTGRES=1: run through `make test`")
		}
		t.Skip("PostgreSQL not configured (set SHEQU_TEST_POSTGRES, or run `make test`)")
	}
	return u
}

// Postgres creates a fresh, migrated database on the test server and drops
// it when the test ends.
func Postgres(t testing.TB) *db.DB {
	t.Helper()
	d, err := db.Open(context.Background(), PostgresDatabase(t))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { d.Close() })
	if err := d.Migrate(context.Background()); err != nil {
		t.Fatal(err)
	}
	return d
}

// PostgresDatabase creates an empty database on the test server, returns
// its URL, and drops it when the test ends (after the test's own cleanups).
func PostgresDatabase(t testing.TB) string {
	t.Helper()
	admin := PostgresURL(t)
	name := fmt.Sprintf("shequ_t%d_%d_%d", os.Getpid(), time.Now().UnixNano()%1e9, seq.Add(1))
	a, err := sql.Open("pgx", admin)
	if err != nil {
		t.Fatal(err)
	}
	defer a.Close()
	if _, err := a.ExecContext(context.Background(), "CREATE DATABASE "+name); err != nil {
		t.Fatalf("create test database: %v", err)
	}
	t.Cleanup(func() {
		if a, err := sql.Open("pgx", admin); err == nil {
			_, _ = a.ExecContext(context.Background(), "DROP DATABASE IF EXISTS "+name+" WITH (FORCE)")
			a.Close()
		}
	})
	u, err := url.Parse(admin)
	if err != nil {
		t.Fatal(err)
	}
	u.Path = "/" + name
	return u.String()
}

// DSNs runs fn once per database with a fresh, empty database's DSN (an
// SQLite file path, or a PostgreSQL URL), for tests that open the whole app.
func DSNs(t *testing.T, fn func(t *testing.T, dsn string)) {
	t.Run("sqlite", func(t *testing.T) { fn(t, filepath.Join(t.TempDir(), "shequ.db")) })
	t.Run("postgres", func(t *testing.T) { fn(t, PostgresDatabase(t)) })
}

// Name returns a short label for the database, for sub-benchmarks.
func Name(d *db.DB) string { return strings.ToLower(string(d.Dialect)) }
