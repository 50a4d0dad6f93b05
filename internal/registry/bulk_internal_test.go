package registry

import (
	"context"
	"testing"

	"github.com/shequ-platform/shequ/internal/platform/db"
	"github.com/shequ-platform/shequ/internal/platform/db/dbtest"
)

// TestInsertRowsRefusesDuplicates: rows that must all land are refused
// whole when one of them collides, on both databases (SQLite writes them
// INSERT OR IGNORE and counts), while search keys that are already there
// are skipped.
func TestInsertRowsRefusesDuplicates(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		ctx := context.Background()
		cols := []string{"id_lookup", "resident_id"}
		if err := insertRows(ctx, d, "person_ids", cols, [][]any{{"a", int64(1)}, {"b", int64(2)}}, ""); err != nil {
			t.Fatal(err)
		}
		err := d.Tx(ctx, func(ctx context.Context) error {
			return insertRows(ctx, d, "person_ids", cols, [][]any{{"c", int64(3)}, {"a", int64(4)}}, "")
		})
		if err == nil {
			t.Fatal("a duplicate ID lookup was accepted")
		}
		var n int
		if err := d.QueryRow(ctx, "SELECT COUNT(*) FROM person_ids").Scan(&n); err != nil || n != 2 {
			t.Fatalf("%d rows after the refused insert (%v), want the first 2", n, err)
		}
		keyCols := []string{"key", "division", "resident_id"}
		for range 2 {
			if err := insertRows(ctx, d, "resident_keys", keyCols, [][]any{{"zsf", int64(320205), int64(1)}}, ignoreDuplicates); err != nil {
				t.Fatal(err)
			}
		}
		if err := d.QueryRow(ctx, "SELECT COUNT(*) FROM resident_keys").Scan(&n); err != nil || n != 1 {
			t.Fatalf("%d keys (%v), want 1", n, err)
		}
	})
}
