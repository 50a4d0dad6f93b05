package db_test

import (
	"context"
	"errors"
	"testing"

	"github.com/shequ-platform/shequ/internal/platform/db"
	"github.com/shequ-platform/shequ/internal/platform/db/dbtest"
)

func TestTxCommitRollbackAndNesting(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		ctx := context.Background()
		put := func(ctx context.Context, k string) error {
			_, err := d.Exec(ctx, "INSERT INTO settings (key, value) VALUES (?, ?)", k, "v")
			return err
		}
		boom := errors.New("boom")
		err := d.Tx(ctx, func(ctx context.Context) error {
			if err := put(ctx, "a"); err != nil {
				return err
			}
			// nested call joins the outer transaction
			return d.Tx(ctx, func(ctx context.Context) error {
				if err := put(ctx, "b"); err != nil {
					return err
				}
				return boom
			})
		})
		if !errors.Is(err, boom) {
			t.Fatalf("want boom, got %v", err)
		}
		var n int
		if err := d.QueryRow(ctx, "SELECT COUNT(*) FROM settings").Scan(&n); err != nil || n != 0 {
			t.Fatalf("rollback left %d rows (%v)", n, err)
		}
		ran := false
		if err := d.Tx(ctx, func(ctx context.Context) error {
			db.AfterCommit(ctx, func() { ran = true })
			if ran {
				t.Fatal("after-commit hook ran before commit")
			}
			return put(ctx, "c")
		}); err != nil {
			t.Fatal(err)
		}
		if !ran {
			t.Fatal("after-commit hook did not run")
		}
		id, err := d.InsertID(ctx, "INSERT INTO users (username, password_hash, created_at) VALUES (?, ?, ?)", "u", "x", db.Now())
		if err != nil || id <= 0 {
			t.Fatalf("InsertID: %d %v", id, err)
		}
		cur, latest, err := d.MigrationStatus(ctx)
		if err != nil || cur != latest || cur == 0 {
			t.Fatalf("migration status %d/%d %v", cur, latest, err)
		}
	})
}

func TestRebind(t *testing.T) {
	d := &db.DB{Dialect: db.Postgres}
	if got := d.Rebind("a = ? AND b IN (?,?)"); got != "a = $1 AND b IN ($2,$3)" {
		t.Fatal(got)
	}
	s := &db.DB{Dialect: db.SQLite}
	if got := s.Rebind("a = ?"); got != "a = ?" {
		t.Fatal(got)
	}
}

// TestConcurrentMigrate starts several "instances" migrating one database at
// once, as a multi-instance deployment does at start.
func TestConcurrentMigrate(t *testing.T) {
	url := dbtest.PostgresDatabase(t)
	ctx := context.Background()
	errs := make(chan error, 4)
	for i := 0; i < 4; i++ {
		go func() {
			d, err := db.Open(ctx, url)
			if err != nil {
				errs <- err
				return
			}
			defer d.Close()
			errs <- d.Migrate(ctx)
		}()
	}
	for i := 0; i < 4; i++ {
		if err := <-errs; err != nil {
			t.Fatal(err)
		}
	}
}
