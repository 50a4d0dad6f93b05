package division_test

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/shequ-platform/shequ/internal/division"
	"github.com/shequ-platform/shequ/internal/platform/access"
	"github.com/shequ-platform/shequ/internal/platform/audit"
	"github.com/shequ-platform/shequ/internal/platform/db"
	"github.com/shequ-platform/shequ/internal/platform/db/dbtest"
)

// 东莞市 has no county level: its townships hang directly under the
// prefecture (codes from the NBS 2023 list). The two villages are synthetic
// test rows (neither list has 东莞's villages).
const dongguan = `code,name,level,parent_code,urban_rural_code
440000000000,广东省,1,,
441900000000,东莞市,2,440000000000,
441900003000,东城街道,4,441900000000,
441900004000,南城街道,4,441900000000,
441900003001,测试社区甲,5,441900003000,111
441900004001,测试社区乙,5,441900004000,111
`

func TestChildCountsUnderPrefectureWithoutCounties(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		ctx := context.Background()
		al := &audit.Log{DB: d}
		s := division.NewService(d, al, access.New(d, al, access.Config{}))
		if _, err := s.Import(ctx, strings.NewReader(dongguan), division.ImportOptions{}); err != nil {
			t.Fatal(err)
		}
		admin := &access.Principal{Assignments: []access.Assignment{{Role: "system_admin"}}}
		for _, v := range []int64{441900003001000, 441900004001000} {
			if _, err := s.CreateSub(ctx, admin, v, division.KindGrid, "第一网格"); err != nil {
				t.Fatal(err)
			}
		}
		if _, err := s.CreateSub(ctx, admin, 441900004001000, division.KindGrid, "第二网格"); err != nil {
			t.Fatal(err)
		}
		city, _ := s.Store.Get(ctx, 441900000000000)
		kids, _ := s.Store.Children(ctx, city.Code, false)
		counts, err := s.ChildCounts(ctx, city, kids)
		if err != nil {
			t.Fatal(err)
		}
		if c := counts[441900003000000]; c.Villages != 1 || c.Grids != 1 {
			t.Fatalf("东城街道 %+v", c)
		}
		if c := counts[441900004000000]; c.Villages != 1 || c.Grids != 2 {
			t.Fatalf("南城街道 %+v", c)
		}
		total, _ := s.Counts(ctx, city.Code)
		if total.Townships != 2 || total.Villages != 2 || total.Grids != 3 {
			t.Fatalf("东莞市 %+v", total)
		}
	})
}

// TestImportHookFailureLeavesNothing: the caller's work runs inside the
// import's own transaction, so its failure rolls the rows back too.
func TestImportHookFailureLeavesNothing(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		ctx := context.Background()
		boom := errors.New("boom")
		_, err := division.Import(ctx, d, strings.NewReader(dongguan), division.ImportOptions{
			BeforeCommit: func(ctx context.Context, res division.ImportResult) error {
				if res.Inserted != 6 {
					t.Errorf("hook sees %d inserted", res.Inserted)
				}
				// the hook's own writes join the import's transaction
				if _, err := d.Exec(ctx, "INSERT INTO settings (key, value) VALUES ('hook', 'ran')"); err != nil {
					return err
				}
				var n int
				if err := d.QueryRow(ctx, "SELECT COUNT(*) FROM divisions").Scan(&n); err != nil || n != 6 {
					t.Errorf("hook does not see the import's rows: %d %v", n, err)
				}
				return boom
			}})
		if !errors.Is(err, boom) {
			t.Fatalf("want boom, got %v", err)
		}
		var n, m int
		_ = d.QueryRow(ctx, "SELECT COUNT(*) FROM divisions").Scan(&n)
		_ = d.QueryRow(ctx, "SELECT COUNT(*) FROM settings").Scan(&m)
		if n != 0 || m != 0 {
			t.Fatalf("rolled-back import left %d divisions, %d settings", n, m)
		}
	})
}
