package audit_test

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"

	"github.com/shequ-platform/shequ/internal/platform/audit"
	"github.com/shequ-platform/shequ/internal/platform/db"
	"github.com/shequ-platform/shequ/internal/platform/db/dbtest"
)

func TestChainVerifyAndTamper(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		l := &audit.Log{DB: d}
		ctx := audit.WithActor(context.Background(), audit.Actor{ID: 7, Name: "clerk", Client: "127.0.0.1"})
		// concurrent writers must still produce one unbroken chain
		var wg sync.WaitGroup
		for g := 0; g < 8; g++ {
			wg.Add(1)
			go func(g int) {
				defer wg.Done()
				for i := 0; i < 10; i++ {
					if err := l.Write(ctx, audit.Entry{Action: audit.Update, Entity: "division", EntityID: fmt.Sprint(g*100 + i),
						Division: 320205001001000, Changes: []audit.Change{{Field: "name", Before: "a", After: "b"}}}); err != nil {
						t.Error(err)
					}
				}
			}(g)
		}
		wg.Wait()
		// an entry written in a rolled-back transaction leaves no trace
		boom := errors.New("boom")
		if err := d.Tx(ctx, func(ctx context.Context) error {
			if err := l.Write(ctx, audit.Entry{Action: audit.Create, Entity: "user"}); err != nil {
				return err
			}
			return boom
		}); !errors.Is(err, boom) {
			t.Fatal(err)
		}
		res, err := l.Verify(ctx)
		if err != nil || res.BrokenAt != 0 || res.Checked != 80 {
			t.Fatalf("verify intact chain: %+v %v", res, err)
		}
		recs, err := l.List(ctx, audit.Filter{Actor: "clerk", Limit: 5})
		if err != nil || len(recs) != 5 || recs[0].ID != 80 || recs[0].Client != "127.0.0.1" {
			t.Fatalf("list: %+v %v", recs, err)
		}
		if _, err := d.Exec(ctx, "UPDATE audit_log SET changes = ? WHERE id = 42", `[{"f":"name","a":"forged"}]`); err != nil {
			t.Fatal(err)
		}
		res, _ = l.Verify(ctx)
		if res.BrokenAt != 42 {
			t.Fatalf("altered entry not found: %+v", res)
		}
		if _, err := d.Exec(ctx, "DELETE FROM audit_log WHERE id = 42"); err != nil {
			t.Fatal(err)
		}
		res, _ = l.Verify(ctx)
		if res.BrokenAt != 42 {
			t.Fatalf("removed entry not found: %+v", res)
		}
	})
}

func TestTruncatedTail(t *testing.T) {
	d := dbtest.SQLite(t)
	l := &audit.Log{DB: d}
	ctx := context.Background()
	for i := 0; i < 3; i++ {
		if err := l.Write(ctx, audit.Entry{Action: audit.Login}); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := d.Exec(ctx, "DELETE FROM audit_log WHERE id = 3"); err != nil {
		t.Fatal(err)
	}
	if res, _ := l.Verify(ctx); res.BrokenAt != 3 {
		t.Fatalf("truncation not found: %+v", res)
	}
}

func TestMask(t *testing.T) {
	for _, c := range []struct{ in, want string }{
		{"320205199001011234", "320205********1234"},
		{"123", "***"},
	} {
		if got := audit.Mask(c.in, 6, 4); got != c.want {
			t.Errorf("Mask(%q) = %q", c.in, got)
		}
	}
}
