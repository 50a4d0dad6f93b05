package division_test

import (
	"bytes"
	"compress/gzip"
	"context"
	"errors"
	"fmt"
	"os"
	"strings"
	"testing"

	"github.com/shequ-platform/shequ/internal/division"
	"github.com/shequ-platform/shequ/internal/platform/db"
	"github.com/shequ-platform/shequ/internal/platform/db/dbtest"
)

const xishan = "testdata/xishan_2016.csv"

const (
	jiangsu  = 320000_000_000_000
	wuxi     = 320200_000_000_000
	xishanC  = 320205_000_000_000
	dongting = 320205_001_000_000
	chunxing = 320205_001_004_000 // 春星社区居委会
	xishanN  = 132
)

func readXishan(t testing.TB) string {
	t.Helper()
	b, err := os.ReadFile(xishan)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func importString(t testing.TB, ctx context.Context, d *db.DB, csv string) (division.ImportResult, error) {
	t.Helper()
	return division.Import(ctx, d, strings.NewReader(csv), division.ImportOptions{})
}

func mustImport(t testing.TB, d *db.DB, csv string) division.ImportResult {
	t.Helper()
	res, err := importString(t, context.Background(), d, csv)
	if err != nil {
		t.Fatalf("import: %v %v", err, res.Errors)
	}
	return res
}

func countRows(t testing.TB, d *db.DB) int {
	t.Helper()
	var n int
	if err := d.QueryRow(context.Background(), "SELECT COUNT(*) FROM divisions").Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n
}

func TestImportXishan(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		ctx := context.Background()
		s := &division.Store{DB: d}
		var progress []int
		res, err := division.ImportFile(ctx, d, xishan, division.ImportOptions{OnProgress: func(n int) { progress = append(progress, n) }})
		if err != nil {
			t.Fatalf("%v %v", err, res.Errors)
		}
		if res.Rows != xishanN || res.Inserted != xishanN || res.Updated != 0 || res.Unchanged != 0 || res.ErrorCount != 0 || res.WarningCount != 0 {
			t.Fatalf("result %+v", res)
		}
		if len(progress) == 0 || progress[len(progress)-1] != xishanN {
			t.Errorf("progress %v", progress)
		}
		if n := countRows(t, d); n != xishanN {
			t.Fatalf("%d rows in table", n)
		}
		v, err := s.Get(ctx, chunxing)
		if err != nil {
			t.Fatal(err)
		}
		want := division.Division{Code: chunxing, Name: "春星社区居委会", Level: 5, Parent: dongting, Kind: division.KindCommunity, UrbanRural: 111, UpdatedAt: v.UpdatedAt}
		if v != want || v.UpdatedAt == 0 {
			t.Fatalf("got %+v want %+v", v, want)
		}
		if _, err := s.Get(ctx, 320205_999_000_000); !errors.Is(err, db.ErrNotFound) {
			t.Fatalf("missing code: %v", err)
		}
		prov, err := s.Children(ctx, division.Root, false)
		if err != nil || len(prov) != 1 || prov[0].Code != jiangsu || prov[0].Parent != 0 || prov[0].Name != "江苏省" {
			t.Fatalf("provinces %+v %v", prov, err)
		}
		towns, err := s.Children(ctx, xishanC, false)
		if err != nil || len(towns) != 9 || towns[0].Code != dongting || towns[0].Name != "东亭街道" {
			t.Fatalf("townships %+v %v", towns, err)
		}
		anc, err := s.Ancestors(ctx, chunxing)
		if err != nil {
			t.Fatal(err)
		}
		var names []string
		for _, a := range anc {
			names = append(names, a.Name)
		}
		if got := strings.Join(names, "/"); got != "江苏省/无锡市/锡山区/东亭街道" {
			t.Fatalf("ancestors %s", got)
		}
		if anc, err := s.Ancestors(ctx, jiangsu); err != nil || len(anc) != 0 {
			t.Fatalf("province ancestors %v %v", anc, err)
		}
		if _, err := s.Ancestors(ctx, 110000_000_000_000); !errors.Is(err, db.ErrNotFound) {
			t.Fatalf("unknown ancestors: %v", err)
		}
		counts, err := s.CountChildren(ctx, []int64{division.Root, xishanC, dongting, chunxing}, false)
		if err != nil {
			t.Fatal(err)
		}
		if counts[division.Root] != 1 || counts[xishanC] != 9 || counts[dongting] == 0 || counts[chunxing] != 0 {
			t.Fatalf("counts %v", counts)
		}
	})
}

func TestReimport(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		ctx := context.Background()
		s := &division.Store{DB: d}
		src := readXishan(t)
		mustImport(t, d, src)
		before, _ := s.Get(ctx, chunxing)
		grid, err := s.CreateSub(ctx, chunxing, division.KindGrid, "第一网格")
		if err != nil {
			t.Fatal(err)
		}

		res := mustImport(t, d, src) // idempotent
		if res.Rows != xishanN || res.Inserted != 0 || res.Updated != 0 || res.Unchanged != xishanN {
			t.Fatalf("re-import %+v", res)
		}
		if n := countRows(t, d); n != xishanN+1 {
			t.Fatalf("%d rows after re-import", n)
		}
		if after, _ := s.Get(ctx, chunxing); after != before {
			t.Fatalf("unchanged row touched: %+v -> %+v", before, after)
		}

		// A renamed unit and a new village whose parent is only in the database.
		renamed := strings.Replace(src, "春星社区居委会", "春星社区", 1)
		res = mustImport(t, d, renamed)
		if res.Inserted != 0 || res.Updated != 1 || res.Unchanged != xishanN-1 {
			t.Fatalf("rename import %+v", res)
		}
		if v, _ := s.Get(ctx, chunxing); v.Name != "春星社区" || v.Kind != division.KindCommunity {
			t.Fatalf("not renamed: %+v", v)
		}
		res = mustImport(t, d, "code,name,level,parent_code,urban_rural_code\n320205001990,新村,5,320205001000,220\n")
		if res.Inserted != 1 || res.Updated != 0 || res.Rows != 1 {
			t.Fatalf("add import %+v", res)
		}
		if v, err := s.Get(ctx, 320205_001_990_000); err != nil || v.Kind != division.KindVillage || v.UrbanRural != 220 {
			t.Fatalf("new village %+v %v", v, err)
		}
		// Grids survive, nothing is deleted.
		if g, err := s.Get(ctx, grid.Code); err != nil || g.Name != "第一网格" {
			t.Fatalf("grid after imports: %+v %v", g, err)
		}
		if n := countRows(t, d); n != xishanN+2 {
			t.Fatalf("%d rows", n)
		}
		// DryRun counts without writing.
		res, err = division.Import(ctx, d, strings.NewReader(src), division.ImportOptions{DryRun: true})
		if err != nil || res.Inserted != 0 || res.Updated != xishanN {
			t.Fatalf("dry run %+v %v", res, err)
		}
		if v, _ := s.Get(ctx, chunxing); v.Name != "春星社区" {
			t.Fatal("dry run wrote")
		}
	})
}

func TestImportGzipBOMAndColumnOrder(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		var buf bytes.Buffer
		zw := gzip.NewWriter(&buf)
		zw.Write([]byte("\xef\xbb\xbf" + readXishan(t)))
		zw.Close()
		res, err := division.Import(context.Background(), d, &buf, division.ImportOptions{})
		if err != nil || res.Inserted != xishanN {
			t.Fatalf("gzip import %+v %v", res, err)
		}
	})
	// Columns in another order, CRLF, no urban_rural_code, an extra column;
	// a parent after its child.
	csv := "Name,Parent_Code,Code,Level,note\r\n" +
		"无锡市,320000000000,320200000000,2,x\r\n" +
		"江苏省,,320000000000,1,\r\n"
	res, err := division.Import(context.Background(), nil, strings.NewReader(csv), division.ImportOptions{DryRun: true})
	if err != nil || res.Rows != 2 || res.Inserted != 2 {
		t.Fatalf("%+v %v", res, err)
	}
}

func TestImportSpecialShapes(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		ctx := context.Background()
		s := &division.Store{DB: d}
		// 东莞: townships directly under a level-2 parent; and the 2016
		// list's 三岔口镇, a level-4 code with village digits (a warning).
		res := mustImport(t, d, `code,name,level,parent_code,urban_rural_code
440000000000,广东省,1,,
441900000000,东莞市,2,440000000000,
441900003000,东城街道,4,441900000000,
441900003001,东城社区,5,441900003000,111
650000000000,新疆维吾尔自治区,1,,
653100000000,喀什地区,2,650000000000,
653130000000,巴楚县,3,653100000000,
653130103001,三岔口镇,4,653130000000,
653130103498,振兴路虚拟社区,5,653130103001,121
`)
		if res.Inserted != 9 || res.WarningCount != 1 || res.Warnings[0].Line != 9 || res.Warnings[0].Reason != division.ReasonCodeDeeper {
			t.Fatalf("%+v", res)
		}
		anc, err := s.Ancestors(ctx, 441900_003_001_000)
		if err != nil || len(anc) != 3 || anc[1].Code != 441900_000_000_000 || anc[2].Level != 4 {
			t.Fatalf("东莞 ancestors %+v %v", anc, err)
		}
		anc, err = s.Ancestors(ctx, 653130_103_498_000)
		if err != nil || len(anc) != 4 || anc[3].Name != "三岔口镇" {
			t.Fatalf("三岔口镇 ancestors %+v %v", anc, err)
		}
		town, _ := s.Get(ctx, 653130_103_001_000)
		lo, hi := town.Range()
		found, err := s.Search(ctx, "振兴路", lo, hi, 10)
		if err != nil || len(found) != 1 {
			t.Fatalf("search in quirky township %+v %v", found, err)
		}
	})
}

// badCase is a file with exactly one kind of error.
type badCase struct {
	name   string
	csv    string
	line   int
	reason string
}

func badCases(src string) []badCase {
	lines := strings.SplitAfter(src, "\n")
	n := len(lines) - 1                       // the last element is "" after the final newline
	with := func(i int, line string) string { // replace line i (1-based)
		l := append([]string{}, lines...)
		l[i-1] = line + "\n"
		return strings.Join(l, "")
	}
	return []badCase{
		{"unknown parent", src + "320205999001,某村,5,320205999000,220\n", n + 1, division.ReasonUnknownParent},
		{"duplicate code", src + lines[6], n + 1, division.ReasonDuplicateCode},
		{"short code", with(6, "32020500100,门楼社区居委会,5,320205001000,111"), 6, division.ReasonBadCode},
		{"long code", with(6, "3202050010011,门楼社区居委会,5,320205001000,111"), 6, division.ReasonBadCode},
		{"bad level", with(6, "320205001001,门楼社区居委会,7,320205001000,111"), 6, division.ReasonBadLevel},
		{"level too low for code", with(6, "320205001001,门楼社区居委会,3,320205001000,111"), 6, division.ReasonLevelMismatch},
		{"level too high for code", with(5, "320205001000,东亭街道,5,320205000000,"), 5, division.ReasonLevelMismatch},
		{"parent not an ancestor", with(6, "320205001001,门楼社区居委会,5,320205002000,111"), 6, division.ReasonBadParent},
		{"missing parent", with(6, "320205001001,门楼社区居委会,5,,111"), 6, division.ReasonParentRequired},
		{"empty name", with(6, "320205001001, ,5,320205001000,111"), 6, division.ReasonNameRequired},
		{"column count", with(6, "320205001001,门楼社区居委会,5,320205001000"), 6, division.ReasonColumnCount},
		{"urban-rural", with(6, "320205001001,门楼社区居委会,5,320205001000,999"), 6, division.ReasonBadUrbanRural},
		{"not utf-8", with(6, "320205001001,\xc3\x28,5,320205001000,111"), 6, division.ReasonNotUTF8},
		{"csv quotes", with(6, `320205001001,门楼"社区,5,320205001000,111`), 6, division.ReasonCSV},
		{"header", "code,name,level\n" + strings.Join(lines[1:], ""), 1, division.ReasonHeader},
	}
}

func TestImportBadFilesWriteNothing(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		ctx := context.Background()
		src := readXishan(t)
		for _, tc := range badCases(src) {
			res, err := importString(t, ctx, d, tc.csv)
			if !errors.Is(err, division.ErrInvalid) {
				t.Fatalf("%s: err %v", tc.name, err)
			}
			if res.ErrorCount != 1 || len(res.Errors) != 1 || res.Errors[0].Line != tc.line || res.Errors[0].Reason != tc.reason {
				t.Fatalf("%s: %+v", tc.name, res)
			}
			if n := countRows(t, d); n != 0 {
				t.Fatalf("%s: %d rows written", tc.name, n)
			}
		}
		// Same on a table that already has the data: nothing changes.
		mustImport(t, d, src)
		for _, tc := range badCases(strings.Replace(src, "春星社区居委会", "改了", 1)) {
			if _, err := importString(t, ctx, d, tc.csv); !errors.Is(err, division.ErrInvalid) {
				t.Fatalf("%s: err %v", tc.name, err)
			}
		}
		if v, _ := (&division.Store{DB: d}).Get(ctx, chunxing); v.Name != "春星社区居委会" || countRows(t, d) != xishanN {
			t.Fatalf("a rejected file changed the table: %+v", v)
		}
	})
}

// bigFile has one county with 10,000 villages: several write batches.
func bigFile(lastLine string) (string, int) {
	var b strings.Builder
	b.WriteString("code,name,level,parent_code,urban_rural_code\n")
	b.WriteString("320000000000,江苏省,1,,\n320200000000,无锡市,2,320000000000,\n320205000000,锡山区,3,320200000000,\n")
	n := 3
	for t := 1; t <= 20; t++ {
		fmt.Fprintf(&b, "320205%03d000,镇%d,4,320205000000,\n", t, t)
		n++
		for v := 1; v <= 500; v++ {
			fmt.Fprintf(&b, "320205%03d%03d,村%d-%d村委会,5,320205%03d000,220\n", t, v, t, v, t)
			n++
		}
	}
	if lastLine != "" {
		b.WriteString(lastLine + "\n")
		n++
	}
	return b.String(), n
}

func TestImportErrorAfterWrittenBatches(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		ctx := context.Background()
		bad, n := bigFile("320205021001,孤村,5,320205021000,220")
		for round := 0; round < 2; round++ { // empty table, then a full one
			res, err := importString(t, ctx, d, bad)
			if !errors.Is(err, division.ErrInvalid) || res.ErrorCount != 1 || res.Errors[0].Line != n+1 || res.Rows != n {
				t.Fatalf("round %d: %+v %v", round, res, err)
			}
			want := 0
			if round == 1 {
				want = n - 1
			}
			if got := countRows(t, d); got != want {
				t.Fatalf("round %d: %d rows left, want %d", round, got, want)
			}
			good, _ := bigFile("")
			if round == 0 {
				if res := mustImport(t, d, good); res.Inserted != n-1 {
					t.Fatalf("%+v", res)
				}
			}
		}
	})
}

func TestImportJoinsCallerTransaction(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		ctx := context.Background()
		boom := errors.New("boom")
		err := d.Tx(ctx, func(ctx context.Context) error {
			if _, err := division.ImportFile(ctx, d, xishan, division.ImportOptions{}); err != nil {
				return err
			}
			return boom
		})
		if !errors.Is(err, boom) {
			t.Fatal(err)
		}
		if n := countRows(t, d); n != 0 {
			t.Fatalf("rolled-back import left %d rows", n)
		}
		err = d.Tx(ctx, func(ctx context.Context) error {
			res, err := division.ImportFile(ctx, d, xishan, division.ImportOptions{})
			if err == nil && res.Inserted != xishanN {
				err = fmt.Errorf("%+v", res)
			}
			if err != nil {
				return err
			}
			_, err = d.Exec(ctx, "INSERT INTO settings (key, value) VALUES ('imported', 'yes')")
			return err
		})
		if err != nil || countRows(t, d) != xishanN {
			t.Fatal(err)
		}
		// and a second import inside a transaction takes the upsert path
		err = d.Tx(ctx, func(ctx context.Context) error {
			res, err := importString(t, ctx, d, strings.Replace(readXishan(t), "春星社区居委会", "春星", 1))
			if err == nil && (res.Updated != 1 || res.Unchanged != xishanN-1) {
				err = fmt.Errorf("%+v", res)
			}
			return err
		})
		if err != nil {
			t.Fatal(err)
		}
	})
}

func TestValidateWithoutDatabase(t *testing.T) {
	src := readXishan(t)
	res, err := division.Import(context.Background(), nil, strings.NewReader(src), division.ImportOptions{DryRun: true})
	if err != nil || res.Rows != xishanN || res.Inserted != xishanN {
		t.Fatalf("%+v %v", res, err)
	}
	// without the province row, its child's parent is unknown
	noProv := strings.Replace(src, "320000000000,江苏省,1,,\n", "", 1)
	res, err = division.Import(context.Background(), nil, strings.NewReader(noProv), division.ImportOptions{DryRun: true})
	if !errors.Is(err, division.ErrInvalid) || res.ErrorCount != 1 || res.Errors[0].Reason != division.ReasonUnknownParent || res.Errors[0].Line != 2 {
		t.Fatalf("%+v %v", res, err)
	}
	// many errors: the list is capped, the count is not
	var b strings.Builder
	b.WriteString("code,name,level,parent_code\n")
	for i := 0; i < 50; i++ {
		b.WriteString("x,y,1,\n")
	}
	res, err = division.Import(context.Background(), nil, strings.NewReader(b.String()), division.ImportOptions{DryRun: true, MaxErrors: 10})
	if !errors.Is(err, division.ErrInvalid) || res.ErrorCount != 50 || len(res.Errors) != 10 || res.Errors[9].Line != 11 {
		t.Fatalf("%+v %v", res, err)
	}
	if _, err := division.Import(context.Background(), nil, strings.NewReader(src), division.ImportOptions{}); err == nil {
		t.Fatal("import without a database")
	}
	if res, err := division.Import(context.Background(), nil, strings.NewReader(""), division.ImportOptions{DryRun: true}); !errors.Is(err, division.ErrInvalid) || res.Errors[0].Reason != division.ReasonHeader {
		t.Fatalf("empty file: %+v %v", res, err)
	}
}

// TestImportOfficial2023 imports the 2023 list (levels 1-4) when the shared
// data directory is present.
func TestImportOfficial2023(t *testing.T) {
	const path = "/work/shared/data/divisions/divisions_2023_l1-4.csv.gz"
	if _, err := os.Stat(path); err != nil {
		t.Skip("no shared division data")
	}
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		res, err := division.ImportFile(context.Background(), d, path, division.ImportOptions{})
		if err != nil || res.Rows != 44699 || res.Inserted != 44699 || res.WarningCount != 0 {
			t.Fatalf("%+v %v", res, err)
		}
	})
}
