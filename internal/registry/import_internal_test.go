package registry

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/shequ-platform/shequ/internal/division"
	"github.com/shequ-platform/shequ/internal/platform/access"
	"github.com/shequ-platform/shequ/internal/platform/audit"
	"github.com/shequ-platform/shequ/internal/platform/db"
	"github.com/shequ-platform/shequ/internal/platform/db/dbtest"
	"github.com/shequ-platform/shequ/internal/platform/facts"
	"github.com/shequ-platform/shequ/internal/platform/ids"
	"github.com/shequ-platform/shequ/internal/platform/pii"
	"github.com/shequ-platform/shequ/internal/platform/policy"
	"github.com/shequ-platform/shequ/internal/registry/idnum"
	policypacks "github.com/shequ-platform/shequ/policy"
)

// impDivisions: 锡山区 with two townships and three villages (codes and
// names from the NBS 2016 list).
const impDivisions = `code,name,level,parent_code,urban_rural_code
320000000000,江苏省,1,,
320200000000,无锡市,2,320000000000,
320205000000,锡山区,3,320200000000,
320205001000,东亭街道,4,320205000000,
320205002000,安镇街道,4,320205000000,
320205001001,门楼社区居委会,5,320205001000,111
320205001002,柏庄社区居委会,5,320205001000,111
320205002001,安镇社区居委会,5,320205002000,111
`

// impTracker keeps a job's checkpoint in memory; failAfter > 0 makes the
// n-th checkpoint fail, as a crash inside that batch's transaction would.
type impTracker struct {
	cp        []byte
	pending   []byte
	calls     int
	failAfter int
	done      int64
}

var errImpCrash = errors.New("crash")

func (t *impTracker) Progress(done, total int64, _ string) { t.done = done }
func (t *impTracker) Checkpoint(ctx context.Context, v any) error {
	t.calls++
	if t.failAfter > 0 && t.calls == t.failAfter {
		return errImpCrash
	}
	b, _ := json.Marshal(v)
	if db.InTx(ctx) {
		// commits with the batch, like the job runner's checkpoint
		db.AfterCommit(ctx, func() { t.cp = b })
		return nil
	}
	t.cp = b
	return nil
}
func (t *impTracker) Resume(v any) (bool, error) {
	if t.cp == nil {
		return false, nil
	}
	return true, json.Unmarshal(t.cp, v)
}

func impService(t *testing.T, d *db.DB) *Service {
	t.Helper()
	ctx := context.Background()
	al := &audit.Log{DB: d}
	acc := access.New(d, al, access.Config{})
	ds := division.NewService(d, al, acc)
	if _, err := ds.Import(ctx, strings.NewReader(impDivisions), division.ImportOptions{}); err != nil {
		t.Fatal(err)
	}
	keys, err := pii.New(pii.Generate())
	if err != nil {
		t.Fatal(err)
	}
	packs, err := policy.Load(policypacks.FS)
	if err != nil {
		t.Fatal(err)
	}
	s := NewService(d, al, acc, keys, ds.Store, packs)
	s.now = func() time.Time { return time.Date(2026, 11, 23, 10, 0, 0, 0, china) }
	return s
}

// impID builds a valid ID number for the county, birth day and sequence.
func impID(area string, birth string, seq int) string {
	body := fmt.Sprintf("%s%s%03d", area, birth, seq)
	return body + string(idnum.CheckDigit(body))
}

func impWrite(t *testing.T, lines ...string) string {
	t.Helper()
	p := filepath.Join(t.TempDir(), "residents.csv")
	if err := os.WriteFile(p, []byte(strings.Join(lines, "\n")+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	return p
}

const impHeader = "户号,姓名,性别,公民身份号码,与户主关系,联系电话,户籍类型,所属村社区,住址,标签"

func impTownship(code int64) *access.Principal {
	return &access.Principal{UserID: 7, Username: "town", Assignments: []access.Assignment{{Role: "township_staff", Division: code}}}
}

func impPopulation(ctx context.Context, d *db.DB, code int64) (int64, error) {
	lo, hi := ids.Subtree(code)
	return facts.Sum(ctx, d, MetricPopulation, lo, hi, 0, 999912)
}

func impCount(t *testing.T, d *db.DB, q string, args ...any) int {
	t.Helper()
	var n int
	if err := d.QueryRow(context.Background(), q, args...).Scan(&n); err != nil {
		t.Fatal(err)
	}
	return n
}

// TestImportValidRowsThenFix is the clerk's loop: two bad rows are refused
// with their reasons, the rest imported; the fixed file imported again
// adds the two and leaves the others unchanged.
func TestImportValidRowsThenFix(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		ctx := context.Background()
		s := impService(t, d)
		p := impTownship(320205001000000)
		head, wife := impID("320205", "19650304", 13), impID("320205", "19670812", 24)
		son, other := impID("320205", "19900101", 15), impID("320205", "19720220", 32)
		bad := impID("320205", "19800101", 11)
		bad = bad[:17] + map[bool]string{true: "0", false: "1"}[bad[17] != '0'] // wrong check digit
		rows := []string{impHeader,
			"0001,曾小明,男," + head + ",户主,138 1234 5678,户籍人口,320205001001,门楼新村12号,",
			"0001,王丽,女," + strings.ToLower(wife) + ",配偶,,户籍人口,320205001001,,残疾人(二级);低保",
			"0002,李四,男," + bad + ",户主,,户籍人口,320205001001,,",
			"0002,李小四,男," + son + ",子,,外星人口,320205001001,,",
			"0003,赵六,女," + other + ",户主,,流动人口,门楼社区居委会,,",
		}
		path := impWrite(t, rows...)
		tr := &impTracker{}
		res, err := s.RunImport(ctx, p, 1, path, ImportParams{Division: 320205001000000, Mode: ModeValidRows}, tr)
		if err != nil {
			t.Fatal(err)
		}
		if res.Rows != 5 || res.Created != 3 || res.Failed != 2 || !res.Imported {
			_ = s.RowErrors(ctx, 1, func(line int, es Errors, c []string) error { t.Log(line, reasonOf(es)); return nil })
			t.Fatalf("first import: %+v", res)
		}
		var reasons []string
		if err := s.RowErrors(ctx, 1, func(line int, es Errors, cells []string) error {
			reasons = append(reasons, fmt.Sprintf("%d %s %s", line, reasonOf(es), cells[1]))
			return nil
		}); err != nil {
			t.Fatal(err)
		}
		if strings.Join(reasons, "|") != "4 id_number:checksum 李四|5 residency:invalid 李小四" {
			t.Fatalf("reasons %q", reasons)
		}
		if n := impCount(t, d, "SELECT COUNT(*) FROM households"); n != 2 {
			t.Fatalf("%d households, want 2 (0001 and 0003)", n)
		}
		if n := impCount(t, d, "SELECT COUNT(*) FROM residents WHERE household_id = (SELECT id FROM households WHERE number = '0001')"); n != 2 {
			t.Fatalf("household 0001 has %d members", n)
		}
		if n := impCount(t, d, "SELECT COUNT(*) FROM resident_tags"); n != 2 {
			t.Fatalf("%d tags", n)
		}
		// the ID number is stored encrypted and masked, never in clear
		if n := impCount(t, d, "SELECT COUNT(*) FROM residents WHERE id_enc LIKE ? OR id_masked = ?", "%"+head+"%", head); n != 0 {
			t.Fatal("ID number stored in clear")
		}
		if pop, _ := impPopulation(ctx, d, 320205001000000); pop != 3 {
			t.Fatalf("population fact %d", pop)
		}
		hits, err := s.Search(ctx, p, "zxm", 0, 10)
		if err != nil || len(hits.Hits) != 1 {
			t.Fatalf("search zxm: %+v %v", hits, err)
		}

		// the clerk fixes the two rows and imports the whole file again
		rows[3] = strings.Replace(rows[3], bad, impID("320205", "19800101", 11), 1)
		rows[4] = strings.Replace(rows[4], "外星人口", "户籍人口", 1)
		res, err = s.RunImport(ctx, p, 2, impWrite(t, rows...), ImportParams{Division: 320205001000000}, &impTracker{})
		if err != nil {
			t.Fatal(err)
		}
		if res.Created != 2 || res.Unchanged != 3 || res.Updated != 0 || res.Failed != 0 {
			t.Fatalf("re-import: %+v", res)
		}
		if n := impCount(t, d, "SELECT COUNT(*) FROM residents"); n != 5 {
			t.Fatalf("%d residents after the re-import, want 5", n)
		}
		if pop, _ := impPopulation(ctx, d, 320205001000000); pop != 5 {
			t.Fatalf("population fact %d", pop)
		}
	})
}

// TestImportScope: a township cannot import into another township, nor
// overwrite a person registered there.
func TestImportScope(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		ctx := context.Background()
		s := impService(t, d)
		id := impID("320205", "19650304", 13)
		anzhen := impTownship(320205002000000)
		if res, err := s.RunImport(ctx, anzhen, 1, impWrite(t, impHeader, "0001,曾小明,男,"+id+",户主,,户籍人口,320205002001,,"),
			ImportParams{Division: 320205002000000}, &impTracker{}); err != nil || res.Created != 1 {
			t.Fatalf("%+v %v", res, err)
		}
		dongting := impTownship(320205001000000)
		res, err := s.RunImport(ctx, dongting, 2, impWrite(t, impHeader,
			"0001,曾小明,男,"+id+",户主,,户籍人口,320205001001,,",
			"0002,王五,男,"+impID("320205", "19700101", 17)+",户主,,户籍人口,320205002001,,"),
			ImportParams{Division: 320205001000000}, &impTracker{})
		if err != nil {
			t.Fatal(err)
		}
		if res.Created != 0 || res.Failed != 2 {
			t.Fatalf("%+v", res)
		}
		var reasons []string
		_ = s.RowErrors(ctx, 2, func(line int, es Errors, _ []string) error { reasons = append(reasons, reasonOf(es)); return nil })
		if strings.Join(reasons, "|") != "id_number:id_registered_elsewhere|village:division_outside" {
			t.Fatalf("%q", reasons)
		}
	})
}

// TestImportAllOrNothing: one bad row, nothing written; none, all written.
func TestImportAllOrNothing(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		ctx := context.Background()
		s := impService(t, d)
		p := impTownship(320205001000000)
		good := "0001,曾小明,男," + impID("320205", "19650304", 13) + ",户主,,户籍人口,320205001001,,"
		badRow := "0002,李四,男,320205198001011234,户主,,户籍人口,320205001001,,"
		res, err := s.RunImport(ctx, p, 1, impWrite(t, impHeader, good, badRow), ImportParams{Division: 320205001000000, Mode: ModeAllOrNothing}, &impTracker{})
		if err != nil || res.Imported || res.Failed != 1 {
			t.Fatalf("%+v %v", res, err)
		}
		if n := impCount(t, d, "SELECT COUNT(*) FROM residents"); n != 0 {
			t.Fatalf("%d residents written", n)
		}
		res, err = s.RunImport(ctx, p, 2, impWrite(t, impHeader, good), ImportParams{Division: 320205001000000, Mode: ModeAllOrNothing}, &impTracker{})
		if err != nil || !res.Imported || res.Created != 1 {
			t.Fatalf("%+v %v", res, err)
		}
		// a dry run writes nothing
		res, err = s.RunImport(ctx, p, 3, impWrite(t, impHeader, "0003,王五,男,"+impID("320205", "19700101", 17)+",户主,,户籍人口,320205001001,,"),
			ImportParams{Division: 320205001000000, DryRun: true}, &impTracker{})
		if err != nil || res.Imported || res.Rows != 1 {
			t.Fatalf("%+v %v", res, err)
		}
		if n := impCount(t, d, "SELECT COUNT(*) FROM residents"); n != 1 {
			t.Fatalf("%d residents after the dry run", n)
		}
	})
}

// TestImportCrashResumes: a failure inside the third batch rolls that
// batch back whole; the job resumes after the second and ends with every
// row once.
func TestImportCrashResumes(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		ctx := context.Background()
		s := impService(t, d)
		p := impTownship(320205001000000)
		lines := []string{impHeader}
		n := 2*ImportBatch + 500
		for i := range n {
			birth := time.Date(1950, 1, 1, 0, 0, 0, 0, time.UTC).AddDate(0, 0, i%20000).Format("20060102")
			lines = append(lines, fmt.Sprintf("%05d,张三丰,男,%s,户主,,户籍人口,320205001001,,", i, impID("320205", birth, 1+2*(i/20000))))
		}
		path := impWrite(t, lines...)
		tr := &impTracker{failAfter: 3}
		if _, err := s.RunImport(ctx, p, 1, path, ImportParams{Division: 320205001000000}, tr); !errors.Is(err, errImpCrash) {
			t.Fatalf("want the crash, got %v", err)
		}
		if got := impCount(t, d, "SELECT COUNT(*) FROM residents"); got != 2*ImportBatch {
			t.Fatalf("%d residents after the crash, want the two committed batches", got)
		}
		tr.failAfter = 0
		res, err := s.RunImport(ctx, p, 1, path, ImportParams{Division: 320205001000000}, tr)
		if err != nil {
			t.Fatal(err)
		}
		if res.Created != n || res.Rows != n {
			t.Fatalf("%+v", res)
		}
		if got := impCount(t, d, "SELECT COUNT(*) FROM residents"); got != n {
			t.Fatalf("%d residents, want %d", got, n)
		}
		if got := impCount(t, d, "SELECT COUNT(*) FROM households"); got != n {
			t.Fatalf("%d households, want %d", got, n)
		}
	})
}
