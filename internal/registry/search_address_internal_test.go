package registry

import (
	"context"
	"fmt"
	"os"
	"slices"
	"strings"
	"testing"

	"github.com/shequ-platform/shequ/internal/platform/db"
	"github.com/shequ-platform/shequ/internal/platform/db/dbtest"
)

func TestNormAddress(t *testing.T) {
	for in, want := range map[string]string{
		"东亭花园B幢101室":         "东亭花园b幢101室",
		"东亭花园Ｂ幢１０１室":         "东亭花园b幢101室",
		" 东湖塘社区　29幢\t1803室 ": "东湖塘社区29幢1803室",
		"（东区）３－２－１０１":        "(东区)3-2-101",
		"100%_\\":            "100%_\\",
		"Ünter 路":            "Ünter路", // only ASCII letters fold
		"":                   "",
	} {
		if got := normAddress(in); got != want {
			t.Errorf("normAddress(%q) = %q, want %q", in, got, want)
		}
	}
	if got := addressKeys("门楼路 12号"); !slices.Equal(got, []string{"门楼路12号", "楼路12号", "路12号", "12号", "2号", "号"}) {
		t.Errorf("keys %q", got)
	}
	// a repetitive address: two keys of full length, then the shorter tails
	long := addressKeys(strings.Repeat("甲乙", 20))
	if len(long) != 2+addrKeyLen-1 {
		t.Errorf("%d keys: %q", len(long), long)
	}
	for _, k := range long {
		if len([]rune(k)) > addrKeyLen {
			t.Errorf("key %q longer than %d", k, addrKeyLen)
		}
	}
}

// addressIndex reads household_keys as household → sorted keys (each key
// suffixed with its village).
func addressIndex(t *testing.T, d *db.DB) map[int64][]string {
	t.Helper()
	rows, err := d.Query(context.Background(), "SELECT household_id, key, village FROM household_keys")
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	out := map[int64][]string{}
	for rows.Next() {
		var id, village int64
		var k string
		if err := rows.Scan(&id, &k, &village); err != nil {
			t.Fatal(err)
		}
		out[id] = append(out[id], fmt.Sprintf("%s@%d", k, village))
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	for _, ks := range out {
		slices.Sort(ks)
	}
	return out
}

// wantAddressIndex is what household_keys should hold for the households
// as they are, by addressKeys.
func wantAddressIndex(t *testing.T, d *db.DB) map[int64][]string {
	t.Helper()
	rows, err := d.Query(context.Background(), "SELECT id, village, address FROM households")
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	out := map[int64][]string{}
	for rows.Next() {
		var id, village int64
		var a string
		if err := rows.Scan(&id, &village, &a); err != nil {
			t.Fatal(err)
		}
		for _, k := range addressKeys(a) {
			out[id] = append(out[id], fmt.Sprintf("%s@%d", k, village))
		}
		slices.Sort(out[id])
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	return out
}

func checkAddressIndex(t *testing.T, d *db.DB) {
	t.Helper()
	got, want := addressIndex(t, d), wantAddressIndex(t, d)
	for id, w := range want {
		if g := got[id]; !slices.Equal(g, w) {
			t.Errorf("household %d: keys %q, want %q", id, g, w)
		}
	}
	for id, g := range got {
		if _, ok := want[id]; !ok {
			t.Errorf("keys %q of household %d, which has none", g, id)
		}
	}
}

// backfillSQL is the statement of migration 00010 that builds the keys of
// existing households.
func backfillSQL(t *testing.T, d *db.DB) string {
	t.Helper()
	b, err := os.ReadFile("../platform/db/migrations/" + string(d.Dialect) + "/00010_registry_address_index.sql")
	if err != nil {
		t.Fatal(err)
	}
	_, s, ok := strings.Cut(string(b), "-- +goose StatementBegin\n")
	s, _, ok2 := strings.Cut(s, "-- +goose StatementEnd")
	if !ok || !ok2 {
		t.Fatal("no StatementBegin/End in the migration")
	}
	return s
}

// TestAddressBackfillMatchesGo: the migration's SQL builds, for awkward
// addresses, exactly the keys the application writes.
func TestAddressBackfillMatchesGo(t *testing.T) {
	addrs := []string{
		"东亭街道门楼路12号", "东亭花园B幢101室", "东亭花园Ｂ幢１０１室", " 东湖塘社区　29幢\t1803室 ", "锡山区\u00a0东港镇\n东湖塘社区 29幢1803室",
		"（东区）３－２－１０１", "100%_路\\'\"", "Ünter den Linden 路 7号", "幸福家园😀3号", "", "   ",
		strings.Repeat("甲乙", 100), "ABCxyzＡＢＣｘｙｚ０９～！",
	}
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		ctx := context.Background()
		for i, a := range addrs {
			village := []int64{320205001001000, 320205001002000}[i%2]
			if _, err := d.Exec(ctx, `INSERT INTO households (county, village, address, created_at, updated_at) VALUES (?, ?, ?, 0, 0)`,
				int64(320205000000000), village, a); err != nil {
				t.Fatal(err)
			}
		}
		if _, err := d.Exec(ctx, backfillSQL(t, d)); err != nil {
			t.Fatal(err)
		}
		checkAddressIndex(t, d)
	})
}

// TestAddressIndexFollowsChanges: keys follow households created and changed
// by the service and by imports (new households, addresses changed by a
// re-import, unchanged ones left alone), and search follows the keys.
func TestAddressIndexFollowsChanges(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		ctx := context.Background()
		s := impService(t, d)
		p := impTownship(320205001000000)
		ids := []string{impID("320205", "19650304", 13), impID("320205", "19670812", 24), impID("320205", "19720220", 32)}
		rows := []string{impHeader,
			"0001,曾小明,男," + ids[0] + ",户主,,户籍人口,320205001001,门楼新村 12号,",
			"0001,王丽,女," + ids[1] + ",配偶,,户籍人口,320205001001,,",
			"0002,赵六,女," + ids[2] + ",户主,,户籍人口,320205001002,柏庄花园Ｂ幢１０１室,",
		}
		if res, err := s.RunImport(ctx, p, 1, impWrite(t, rows...), ImportParams{Division: 320205001000000}, &impTracker{}); err != nil || res.Created != 3 {
			t.Fatalf("%+v %v", res, err)
		}
		checkAddressIndex(t, d)
		find := func(q string) []string {
			t.Helper()
			res, err := s.Search(ctx, p, q, 0, 10)
			if err != nil {
				t.Fatal(err)
			}
			if len(res.Hits) > 0 && res.Kind != "address" {
				t.Fatalf("%q read as %s", q, res.Kind)
			}
			var names []string
			for _, h := range res.Hits {
				names = append(names, h.Name)
			}
			slices.Sort(names)
			return names
		}
		if got := find("门楼新村12号"); !slices.Equal(got, []string{"曾小明", "王丽"}) {
			t.Fatalf("门楼新村12号: %q", got)
		}
		if got := find("花园b幢101"); !slices.Equal(got, []string{"赵六"}) {
			t.Fatalf("花园b幢101: %q", got)
		}

		// a re-import moves household 0001 to another address and leaves 0002
		before := addressIndex(t, d)
		rows[1] = strings.Replace(rows[1], "门楼新村 12号", "门楼新村14号", 1)
		if res, err := s.RunImport(ctx, p, 2, impWrite(t, rows...), ImportParams{Division: 320205001000000}, &impTracker{}); err != nil || res.Failed != 0 {
			t.Fatalf("%+v %v", res, err)
		}
		checkAddressIndex(t, d)
		if got := find("门楼新村12号"); got != nil {
			t.Fatalf("old address still found: %q", got)
		}
		if got := find("门楼新村14号"); !slices.Equal(got, []string{"曾小明", "王丽"}) {
			t.Fatalf("门楼新村14号: %q", got)
		}
		var h2 int64
		if err := d.QueryRow(ctx, "SELECT id FROM households WHERE number = '0002'").Scan(&h2); err != nil {
			t.Fatal(err)
		}
		if after := addressIndex(t, d); !slices.Equal(after[h2], before[h2]) {
			t.Fatalf("unchanged household re-keyed: %q, was %q", after[h2], before[h2])
		}

		// the service's create and update
		h, err := s.CreateHousehold(ctx, p, HouseholdInput{Division: 320205001001000, Number: "0003", Address: "东亭路 11号"})
		if err != nil {
			t.Fatal(err)
		}
		checkAddressIndex(t, d)
		if _, err := s.UpdateHousehold(ctx, p, h.ID, HouseholdInput{Division: 320205001001000, Number: "0003", Address: "东亭路13号"}); err != nil {
			t.Fatal(err)
		}
		checkAddressIndex(t, d)
		if _, err := s.UpdateHousehold(ctx, p, h.ID, HouseholdInput{Division: 320205001001000, Number: "0003", Address: ""}); err != nil {
			t.Fatal(err)
		}
		checkAddressIndex(t, d)
		if n := impCount(t, d, "SELECT COUNT(*) FROM household_keys WHERE household_id = ?", h.ID); n != 0 {
			t.Fatalf("%d keys for an empty address", n)
		}
	})
}

// TestAddressSearchBounded: a text in more households than addrCandidates
// is answered from the first of them in key order, the same on both
// databases; a long text is checked whole after the index.
func TestAddressSearchBounded(t *testing.T) {
	defer func(n int) { addrCandidates = n }(addrCandidates)
	addrCandidates = 3
	pages := map[string]string{}
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		ctx := context.Background()
		s := impService(t, d)
		p := impTownship(320205001000000)
		rows := []string{impHeader}
		for i, a := range []string{"幸福路5号", "幸福路1号", "幸福路4号", "幸福路2号", "幸福路3号", "春江花园1幢2单元302室，春江园1幢2单元301室"} {
			rows = append(rows, fmt.Sprintf("%04d,住户%c,男,%s,户主,,户籍人口,320205001001,%s,", i+1, []rune("甲乙丙丁戊己")[i], impID("320205", "19650304", 11+2*i), a))
		}
		if res, err := s.RunImport(ctx, p, 1, impWrite(t, rows...), ImportParams{Division: 320205001000000}, &impTracker{}); err != nil || res.Created != 6 {
			_ = s.RowErrors(ctx, 1, func(line int, es Errors, c []string) error { t.Log(line, reasonOf(es)); return nil })
			t.Fatalf("%+v %v", res, err)
		}
		res, err := s.Search(ctx, p, "幸福路", 0, 10)
		if err != nil {
			t.Fatal(err)
		}
		var got []string
		for _, h := range res.Hits {
			got = append(got, h.Name+" "+h.Address)
		}
		// the first three households in key order (幸福路1号, 2号, 3号), ranked by name
		if want := []string{"住户丁 幸福路2号", "住户乙 幸福路1号", "住户戊 幸福路3号"}; !slices.Equal(got, want) {
			t.Fatalf("幸福路: %q, want %q", got, want)
		}
		pages[dbtest.Name(d)] = strings.Join(got, "|")
		// both parts of this text are in the address, the whole is not
		if res, err := s.Search(ctx, p, "春江花园1幢2单元301室", 0, 10); err != nil || len(res.Hits) != 0 || res.Kind != "address" {
			t.Fatalf("春江花园1幢2单元301室: %+v %v", res, err)
		}
		if res, err := s.Search(ctx, p, "春江园1幢2单元301室", 0, 10); err != nil || len(res.Hits) != 1 {
			t.Fatalf("春江园1幢2单元301室: %+v %v", res, err)
		}
	})
	if a, b := pages["sqlite"], pages["postgres"]; a != "" && b != "" && a != b {
		t.Fatalf("SQLite %s, PostgreSQL %s", a, b)
	}
}
