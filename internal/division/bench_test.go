package division_test

import (
	"context"
	"os"
	"strings"
	"testing"

	"github.com/shequ-platform/shequ/internal/division"
	"github.com/shequ-platform/shequ/internal/platform/access"
	"github.com/shequ-platform/shequ/internal/platform/audit"
	"github.com/shequ-platform/shequ/internal/platform/db"
	"github.com/shequ-platform/shequ/internal/platform/db/dbtest"
)

// BenchmarkImportFull imports the file named by SHEQU_BENCH_DIVISIONS (the
// complete 2016 list, gzip or plain CSV) into a fresh, migrated database per
// iteration: SQLite always, PostgreSQL when SHEQU_TEST_POSTGRES is set. Run
// it with -benchtime 1x -count N; scripts/bench-divisions.sh does.
func BenchmarkImportFull(b *testing.B) {
	path := os.Getenv("SHEQU_BENCH_DIVISIONS")
	if path == "" {
		b.Skip("set SHEQU_BENCH_DIVISIONS to a division CSV (e.g. /work/shared/data/divisions/divisions_2016_l1-5.csv.gz)")
	}
	for _, tc := range []struct {
		name    string
		open    func(testing.TB) *db.DB
		service bool // through Service.Import, as `shequ divisions import` runs it (fact recount and audit entry in the same transaction)
	}{
		{"sqlite", dbtest.SQLite, false},
		{"postgres", dbtest.Postgres, false},
		{"sqlite-service", dbtest.SQLite, true},
		{"postgres-service", dbtest.Postgres, true},
	} {
		b.Run(tc.name, func(b *testing.B) {
			if strings.HasPrefix(tc.name, "postgres") && os.Getenv("SHEQU_TEST_POSTGRES") == "" {
				b.Skip("SHEQU_TEST_POSTGRES not set")
			}
			ctx := context.Background()
			rows := 0
			for i := 0; i < b.N; i++ {
				b.StopTimer()
				d := tc.open(b)
				b.StartTimer()
				var res division.ImportResult
				var err error
				if tc.service {
					al := &audit.Log{DB: d}
					svc := division.NewService(d, al, access.New(d, al, access.Config{}))
					var f *os.File
					if f, err = os.Open(path); err == nil {
						res, err = svc.Import(ctx, f, division.ImportOptions{})
						f.Close()
					}
				} else {
					res, err = division.ImportFile(ctx, d, path, division.ImportOptions{})
				}
				if err != nil {
					b.Fatalf("%v: %v", err, res.Errors)
				}
				rows = res.Rows
				b.StopTimer()
				d.Close()
				b.StartTimer()
			}
			b.ReportMetric(float64(rows), "rows")
		})
	}
}
