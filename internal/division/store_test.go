package division_test

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/shequ-platform/shequ/internal/division"
	"github.com/shequ-platform/shequ/internal/platform/db"
	"github.com/shequ-platform/shequ/internal/platform/db/dbtest"
)

func wantFieldErr(t *testing.T, err error, code string) {
	t.Helper()
	var fe *division.FieldError
	if !errors.As(err, &fe) || fe.Code != code {
		t.Fatalf("want FieldError %s, got %v", code, err)
	}
	if fe.Msg == "" || fe.Error() == "" {
		t.Fatalf("FieldError without message: %+v", fe)
	}
}

func TestCreateSubRetireRestore(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		ctx := context.Background()
		s := &division.Store{DB: d}
		mustImport(t, d, readXishan(t))

		g1, err := s.CreateSub(ctx, chunxing, division.KindGrid, "  第一网格 ")
		if err != nil {
			t.Fatal(err)
		}
		if g1.Code != chunxing+1 || g1.Name != "第一网格" || g1.Level != 6 || g1.Parent != chunxing || g1.Kind != division.KindGrid || g1.Retired {
			t.Fatalf("%+v", g1)
		}
		if got, _ := s.Get(ctx, g1.Code); got != g1 {
			t.Fatalf("stored %+v, returned %+v", got, g1)
		}
		g2, err := s.CreateSub(ctx, chunxing, division.KindGroup, "一组")
		if err != nil || g2.Code != chunxing+2 {
			t.Fatalf("%+v %v", g2, err)
		}
		// validation
		_, err = s.CreateSub(ctx, chunxing, division.KindBuilding, "第一网格")
		wantFieldErr(t, err, division.ErrCodeNameTaken)
		_, err = s.CreateSub(ctx, chunxing, division.KindGrid, " ")
		wantFieldErr(t, err, division.ErrCodeNameRequired)
		_, err = s.CreateSub(ctx, chunxing, division.KindGrid, strings.Repeat("网", 51))
		wantFieldErr(t, err, division.ErrCodeNameTooLong)
		if _, err := s.CreateSub(ctx, chunxing, division.KindGrid, strings.Repeat("网", 50)); err != nil {
			t.Fatalf("50 runes: %v", err)
		}
		_, err = s.CreateSub(ctx, chunxing, division.KindGrid, "a\x01b")
		wantFieldErr(t, err, division.ErrCodeNameInvalid)
		_, err = s.CreateSub(ctx, chunxing, "street", "x")
		wantFieldErr(t, err, division.ErrCodeKindInvalid)
		_, err = s.CreateSub(ctx, dongting, division.KindGrid, "x")
		wantFieldErr(t, err, division.ErrCodeNotAVillage)
		_, err = s.CreateSub(ctx, g1.Code, division.KindGrid, "x")
		wantFieldErr(t, err, division.ErrCodeNotAVillage)
		if _, err := s.CreateSub(ctx, 320205_001_999_000, division.KindGrid, "x"); !errors.Is(err, db.ErrNotFound) {
			t.Fatalf("unknown village: %v", err)
		}
		// the same name is fine under another village
		if _, err := s.CreateSub(ctx, 320205_001_001_000, division.KindGrid, "第一网格"); err != nil {
			t.Fatal(err)
		}

		// Retire: out of Children, code kept and never reused.
		before, after, err := s.Retire(ctx, g1.Code)
		if err != nil || before.Retired || !after.Retired || after.Code != g1.Code {
			t.Fatalf("retire %+v %+v %v", before, after, err)
		}
		kids, _ := s.Children(ctx, chunxing, false)
		all, _ := s.Children(ctx, chunxing, true)
		if len(kids) != 2 || len(all) != 3 {
			t.Fatalf("children %d active, %d in all", len(kids), len(all))
		}
		if c, _ := s.CountChildren(ctx, []int64{chunxing}, false); c[chunxing] != 2 {
			t.Fatalf("count %v", c)
		}
		if c, _ := s.CountChildren(ctx, []int64{chunxing}, true); c[chunxing] != 3 {
			t.Fatalf("count with retired %v", c)
		}
		_, _, err = s.Retire(ctx, g1.Code)
		wantFieldErr(t, err, division.ErrCodeAlreadyRetired)
		_, _, err = s.Retire(ctx, chunxing)
		wantFieldErr(t, err, division.ErrCodeNotRetirable)
		_, _, err = s.Restore(ctx, g2.Code)
		wantFieldErr(t, err, division.ErrCodeNotRetired)
		_, _, err = s.Rename(ctx, g1.Code, "x")
		wantFieldErr(t, err, division.ErrCodeRetired)

		// Retiring the newest unit does not free its code either.
		_, _, err = s.Retire(ctx, chunxing+3)
		if err != nil {
			t.Fatal(err)
		}
		g4, err := s.CreateSub(ctx, chunxing, division.KindGrid, "第一网格") // the retired unit's name is free again
		if err != nil || g4.Code != chunxing+4 {
			t.Fatalf("%+v %v", g4, err)
		}
		_, _, err = s.Restore(ctx, g1.Code) // …so g1 cannot come back under it
		wantFieldErr(t, err, division.ErrCodeNameTaken)
		if _, _, err := s.Rename(ctx, g4.Code, "第四网格"); err != nil {
			t.Fatal(err)
		}
		before, after, err = s.Restore(ctx, g1.Code)
		if err != nil || !before.Retired || after.Retired {
			t.Fatalf("restore %+v %+v %v", before, after, err)
		}

		// Rename: before/after, uniqueness among siblings, no-op.
		before, after, err = s.Rename(ctx, g2.Code, "第二组")
		if err != nil || before.Name != "一组" || after.Name != "第二组" || after.Code != g2.Code {
			t.Fatalf("rename %+v %+v %v", before, after, err)
		}
		_, _, err = s.Rename(ctx, g2.Code, "第一网格")
		wantFieldErr(t, err, division.ErrCodeNameTaken)
		before, after, err = s.Rename(ctx, g2.Code, "第二组")
		if err != nil || before != after {
			t.Fatalf("no-op rename %+v %+v %v", before, after, err)
		}
		if _, _, err := s.Rename(ctx, chunxing, "春星社区"); err != nil { // official units may be renamed
			t.Fatal(err)
		}
		if _, _, err := s.Rename(ctx, 1, "x"); !errors.Is(err, db.ErrNotFound) {
			t.Fatalf("rename unknown: %v", err)
		}

		// Full: the last sub-code used, even by a retired unit.
		if _, err := d.Exec(ctx, "INSERT INTO divisions (code, name, level, parent, kind, urban_rural, retired_at, updated_at) VALUES (?, ?, 6, ?, 'grid', 0, 1, 1)",
			chunxing+999, "末", chunxing); err != nil {
			t.Fatal(err)
		}
		_, err = s.CreateSub(ctx, chunxing, division.KindGrid, "x")
		wantFieldErr(t, err, division.ErrCodeFull)

		anc, err := s.Ancestors(ctx, g1.Code)
		if err != nil || len(anc) != 5 || anc[4].Code != chunxing {
			t.Fatalf("grid ancestors %+v %v", anc, err)
		}
	})
}

func TestMutationsJoinTransaction(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		ctx := context.Background()
		s := &division.Store{DB: d}
		mustImport(t, d, readXishan(t))
		boom := errors.New("boom")
		var g division.Division
		err := d.Tx(ctx, func(ctx context.Context) error {
			var err error
			if g, err = s.CreateSub(ctx, chunxing, division.KindGrid, "网格"); err != nil {
				return err
			}
			if _, _, err := s.Rename(ctx, g.Code, "网格二"); err != nil {
				return err
			}
			if _, _, err := s.Retire(ctx, g.Code); err != nil {
				return err
			}
			if got, err := s.Get(ctx, g.Code); err != nil || !got.Retired || got.Name != "网格二" {
				t.Errorf("inside the transaction: %+v %v", got, err)
			}
			return boom
		})
		if !errors.Is(err, boom) {
			t.Fatal(err)
		}
		if _, err := s.Get(ctx, g.Code); !errors.Is(err, db.ErrNotFound) {
			t.Fatalf("rolled back sub-unit exists: %v", err)
		}
		// a validation error inside a caller's transaction does not poison it
		err = d.Tx(ctx, func(ctx context.Context) error {
			if _, err := s.CreateSub(ctx, dongting, division.KindGrid, "x"); !division.IsFieldError(err, division.ErrCodeNotAVillage) {
				return err
			}
			_, err := s.CreateSub(ctx, chunxing, division.KindGrid, "网格")
			return err
		})
		if err != nil {
			t.Fatal(err)
		}
	})
}

func TestSearch(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		ctx := context.Background()
		s := &division.Store{DB: d}
		mustImport(t, d, readXishan(t))
		all := func(q string, lo, hi int64) []division.Division {
			t.Helper()
			r, err := s.Search(ctx, q, lo, hi, 50)
			if err != nil {
				t.Fatal(err)
			}
			return r
		}
		clo, chi := division.Range(xishanC, 3)
		// name: exact first, then prefix, then substring; by level within a rank
		r := all("东亭街道", 0, division.MaxCode)
		if len(r) == 0 || r[0].Code != dongting {
			t.Fatalf("exact %+v", r)
		}
		r = all("东亭", clo, chi)
		if len(r) < 2 || r[0].Code != dongting {
			t.Fatalf("prefix %+v", r)
		}
		for i, x := range r {
			if !strings.Contains(x.Name, "东亭") || x.Code < clo || x.Code > chi {
				t.Fatalf("result %d %+v", i, x)
			}
		}
		// bounded by the range
		tlo, thi := division.Range(dongting, 4)
		r = all("社区", tlo, thi)
		if len(r) == 0 {
			t.Fatal("no 社区 in 东亭")
		}
		for _, x := range r {
			if x.Code < tlo || x.Code > thi {
				t.Fatalf("%+v outside %d..%d", x, tlo, thi)
			}
		}
		wlo, whi := division.Range(chunxing, 5)
		if r := all("东亭", wlo, whi); len(r) != 0 {
			t.Fatalf("outside scope: %+v", r)
		}
		// code prefix: the township itself, then its villages
		r = all("320205001", clo, chi)
		if len(r) < 2 || r[0].Code != dongting || r[1].Level != 5 {
			t.Fatalf("code prefix %+v", r)
		}
		if r := all("320205001", wlo, whi); len(r) != 1 || r[0].Code != chunxing {
			t.Fatalf("code prefix in scope %+v", r)
		}
		// limit, LIKE metacharacters, empty query, retired units
		if r, _ := s.Search(ctx, "社区", clo, chi, 3); len(r) != 3 {
			t.Fatalf("limit: %d", len(r))
		}
		for _, q := range []string{"%", "_", "!", "", "  "} {
			if r := all(q, clo, chi); len(r) != 0 {
				t.Fatalf("%q matched %d", q, len(r))
			}
		}
		g, _ := s.CreateSub(ctx, chunxing, division.KindGrid, "100%网格")
		if r := all("100%", clo, chi); len(r) != 1 || r[0].Code != g.Code {
			t.Fatalf("literal %%: %+v", r)
		}
		s.Retire(ctx, g.Code)
		if r := all("100%", clo, chi); len(r) != 0 {
			t.Fatalf("retired unit found: %+v", r)
		}
	})
}
