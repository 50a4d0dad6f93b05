package registry_test

import (
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/shequ-platform/shequ/internal/platform/access"
	"github.com/shequ-platform/shequ/internal/platform/db"
	"github.com/shequ-platform/shequ/internal/platform/db/dbtest"
	"github.com/shequ-platform/shequ/internal/registry"
)

// searchData registers the residents the search tests look for and returns
// their ID numbers by label.
type searchData struct {
	idZ, idZ2, idLegacy15, idLegacy18 string
	// residents by label
	r map[string]registry.Resident
}

// wangNames are 25 given names after 王小 for pagination (plus 王小 itself).
const wangNames = "一二三四五六七八九十百千万东南西北中春夏秋冬甲乙丙"

func seedSearch(t *testing.T, f *regFixture) searchData {
	t.Helper()
	sd := searchData{r: map[string]registry.Resident{}}
	hA := f.household(f.townA, registry.HouseholdInput{Division: regVillageA, Number: "A-12", Address: "东亭街道门楼路12号"})
	hB := f.household(f.townB, registry.HouseholdInput{Division: regVillageB, Number: "B-3", Address: "安镇街道吼山路3号"})
	hF := f.household(f.townA, registry.HouseholdInput{Division: regVillageC, Number: "C-101", Address: "东亭花园B幢101室"})
	// an address longer than an index key, and a household in a grid
	hL := f.household(f.townB, registry.HouseholdInput{Division: regVillageB, Number: "B-9", Address: "锡山区东港镇东湖塘社区29幢1803室"})
	hG := f.household(f.townA, registry.HouseholdInput{Division: regGridA1, Number: "A-20", Address: "东亭街道门楼路20号"})

	sd.idZ = regIDEnding("320205", "19600101", true, 'X')
	sd.idZ2 = regID("320205", "19650202", "357")
	sd.idLegacy15 = "320205700303" + "155"
	sd.idLegacy18 = regID("320205", "19700303", "155")

	add := func(label string, p *access.Principal, ri registry.ResidentInput) {
		t.Helper()
		sd.r[label] = f.register(p, ri)
	}
	ri := regIn("张三丰", "", "", 0)
	ri.HouseholdID, ri.IDNumber, ri.Phone, ri.Relation = hA.ID, sd.idZ, "13812345678", "户主"
	add("zsf-A", f.townA, ri)
	ri = regIn("张三", "男", "1988-08-08", 0)
	ri.HouseholdID, ri.Phone, ri.Relation = hA.ID, "13987655678", "子"
	add("zs", f.townA, ri)
	ri = regIn("张三丰", "", "", 0)
	ri.HouseholdID, ri.IDNumber, ri.Phone = hB.ID, sd.idZ2, "13600001111"
	add("zsf-B", f.townB, ri)
	ri = regIn("曾小明", "", "", regGridA1)
	ri.IDNumber = sd.idLegacy15
	add("zxm", f.townA, ri)
	add("stf", f.townA, regIn("单田芳", "男", "1934-07-17", regVillageC))
	ri = regIn("买买提·艾力", "男", "1990-03-03", regVillageA)
	ri.Residency, ri.Ethnicity = "流动人口", "维吾尔"
	add("mmt", f.townA, ri)
	add("ycg", f.townA, regIn("尉迟恭", "男", "1955-05-05", regVillageA))
	ri = regIn("欧阳修", "男", "1947-06-06", 0)
	ri.HouseholdID = hB.ID
	add("oyx", f.townB, ri)
	for i, c := range []rune(wangNames) {
		add("wang"+string(c), f.townA, regIn("王小"+string(c), []string{"男", "女"}[i%2], "2000-01-01", regVillageC))
	}
	add("wang", f.townA, regIn("王小", "女", "1999-09-09", regVillageC))
	for _, n := range []string{"李一", "李二", "李三"} {
		ri := regIn(n, "女", "1980-01-01", 0)
		ri.HouseholdID = hF.ID
		add(n, f.townA, ri)
	}
	ri = regIn("孙丽", "女", "1985-05-05", 0)
	ri.HouseholdID = hL.ID
	add("sl", f.townB, ri)
	ri = regIn("周网", "男", "1975-07-07", 0)
	ri.HouseholdID = hG.ID
	add("zw", f.townA, ri)
	return sd
}

type searchCase struct {
	who  string // principal
	q    string
	kind string
	want []string // labels, in order when ordered
	// ordered: the order of want is the ranking; else compared as sets
	ordered bool
}

func searchCases(sd searchData) []searchCase {
	tail := func(id string, n int) string { return id[len(id)-n:] }
	return []searchCase{
		// by name, whole and in part
		{"county", "张三丰", "name", []string{"zsf-A", "zsf-B"}, true},
		{"county", "张三", "name", []string{"zs", "zsf-A", "zsf-B"}, true}, // exact name first
		{"county", "三丰", "name", []string{"zsf-A", "zsf-B"}, false},
		{"county", "曾小", "name", []string{"zxm"}, false},
		{"county", "小明", "name", []string{"zxm"}, false},
		{"county", "艾力", "name", []string{"mmt"}, false},
		{"county", "买买提·艾力", "name", []string{"mmt"}, false},
		{"county", "买买提艾力", "name", []string{"mmt"}, false},
		{"county", "欧阳", "name", []string{"oyx"}, false},
		// full pinyin, any spacing and case
		{"county", "zhangsanfeng", "name", []string{"zsf-A", "zsf-B"}, true},
		{"county", "Zhang San", "name", []string{"zs", "zsf-A", "zsf-B"}, true},
		{"county", "zengxiaoming", "name", []string{"zxm"}, false},
		{"county", "cengxiaoming", "name", []string{"zxm"}, false},
		{"county", "xiaoming", "name", []string{"zxm"}, false},
		{"county", "shantianfang", "name", []string{"stf"}, false},
		{"county", "dantianfang", "name", []string{"stf"}, false},
		{"county", "yuchigong", "name", []string{"ycg"}, false},
		{"county", "weichigong", "name", []string{"ycg"}, false},
		{"county", "maimaiti", "name", []string{"mmt"}, false},
		{"county", "ouyangxiu", "name", []string{"oyx"}, false},
		// initials
		{"county", "zsf", "name", []string{"zsf-A", "zsf-B"}, true},
		{"county", "ZSF", "name", []string{"zsf-A", "zsf-B"}, true},
		{"county", "zs", "name", []string{"zs", "zsf-A", "zsf-B"}, true}, // exact initials first
		{"county", "zxm", "name", []string{"zxm"}, false},
		{"county", "cxm", "name", []string{"zxm"}, false},
		{"county", "mmtal", "name", []string{"mmt"}, false},
		{"county", "oyx", "name", []string{"oyx"}, false},
		// refused or unknown
		{"county", "张", "name", nil, false},
		{"county", "z", "name", nil, false},
		{"county", "zhangsanfengx", "name", nil, false},
		{"county", "诸葛亮", "name", nil, false},
		{"county", "", "", nil, false},
		// whole ID number, as typed
		{"county", sd.idZ, "id", []string{"zsf-A"}, false},
		{"county", strings.ToLower(sd.idZ), "id", []string{"zsf-A"}, false},
		{"county", sd.idZ[:6] + " " + sd.idZ[6:14] + " " + sd.idZ[14:], "id", []string{"zsf-A"}, false},
		{"county", sd.idZ2, "id", []string{"zsf-B"}, false},
		{"county", sd.idLegacy15, "id", []string{"zxm"}, false},
		{"county", sd.idLegacy18, "id", []string{"zxm"}, false},
		{"county", sd.idZ[:17] + "1", "id", nil, false}, // wrong check digit
		{"county", regID("320205", "19600101", "999"), "id", nil, false},
		// name (or pinyin) with the last 4–6 characters of the ID number
		{"county", "张三丰 " + tail(sd.idZ, 4), "name", []string{"zsf-A"}, false},
		{"county", "张三丰" + strings.ToLower(tail(sd.idZ, 4)), "name", []string{"zsf-A"}, false},
		{"county", "张三丰，" + tail(sd.idZ, 5), "name", []string{"zsf-A"}, false},
		{"county", "张三丰 " + tail(sd.idZ, 6), "name", []string{"zsf-A"}, false},
		{"county", "张三丰 " + tail(sd.idZ2, 4), "name", []string{"zsf-B"}, false},
		{"county", "张三丰 " + tail(sd.idZ2, 6), "name", []string{"zsf-B"}, false},
		{"county", "zsf " + tail(sd.idZ, 4), "name", []string{"zsf-A"}, false},
		{"county", "张三丰 0000", "name", nil, false},
		{"county", "曾小明 " + tail(sd.idLegacy18, 4), "name", []string{"zxm"}, false},
		// a name with the last 4 digits of the phone
		{"county", "张三 5678", "name", []string{"zs", "zsf-A"}, false},
		{"county", "张三丰 1111", "name", []string{"zsf-B"}, false},
		// whole phone, as typed
		{"county", "13812345678", "phone", []string{"zsf-A"}, false},
		{"county", "138-1234-5678", "phone", []string{"zsf-A"}, false},
		{"county", "138 1234 5678", "phone", []string{"zsf-A"}, false},
		{"county", "１３８１２３４５６７８", "phone", []string{"zsf-A"}, false},
		{"county", "13812345670", "phone", nil, false},
		// last 4 of the phone alone
		{"county", "5678", "tail", []string{"zs", "zsf-A"}, false},
		{"county", "1111", "tail", []string{"zsf-B"}, false},
		{"county", "0000", "tail", nil, false},
		// address
		{"county", "门楼路12号", "address", []string{"zs", "zsf-A"}, false},
		{"county", "吼山路", "address", []string{"zsf-B", "oyx"}, false},
		{"county", "安镇街道吼山路3号", "address", []string{"zsf-B", "oyx"}, false},
		{"county", "B幢101室", "address", []string{"李一", "李二", "李三"}, false},
		{"county", "花园b幢", "address", []string{"李一", "李二", "李三"}, false}, // Latin case does not matter
		{"county", "人民路1号", "address", nil, false},
		{"county", "100%", "address", nil, false}, // LIKE wildcards are literal
		{"county", "门楼路_2号", "address", nil, false},
		// white space and full-width forms do not matter
		{"county", "门楼路 12号", "address", []string{"zs", "zsf-A"}, false},
		{"county", "东亭花园Ｂ幢１０１室", "address", []string{"李一", "李二", "李三"}, false},
		{"county", "花园 B 幢", "address", []string{"李一", "李二", "李三"}, false},
		// longer than an index key: found by two parts, checked whole
		{"county", "东湖塘社区29幢1803室", "address", []string{"sl"}, false},
		{"county", "东湖塘社区 29幢1803室", "address", []string{"sl"}, false},
		{"county", "锡山区东港镇东湖塘社区29幢1803室", "address", []string{"sl"}, false},
		{"county", "东湖塘社区29幢1804室", "address", nil, false},
		{"county", "东港镇东湖塘社区28幢1803室", "address", nil, false},
		{"county", "1803室", "address", []string{"sl"}, false},
		{"county", "门楼路", "address", []string{"zs", "zsf-A", "zw"}, false},
		{"county", "号", "address", []string{"zs", "zsf-A", "zsf-B", "oyx", "zw"}, false}, // one character: a bounded range of the index
		// scope: township A sees its own only, whatever the query
		{"townA", "张三丰", "name", []string{"zsf-A"}, false},
		{"townA", "zsf", "name", []string{"zsf-A"}, false},
		{"townA", sd.idZ2, "id", nil, false},
		{"townA", "张三丰 " + tail(sd.idZ2, 4), "name", nil, false},
		{"townA", "13600001111", "phone", nil, false},
		{"townA", "1111", "tail", nil, false},
		{"townA", "5678", "tail", []string{"zs", "zsf-A"}, false},
		{"townA", "吼山路", "address", nil, false},
		{"townA", "欧阳修", "name", nil, false},
		{"townB", "张三丰", "name", []string{"zsf-B"}, false},
		{"townB", sd.idZ, "id", nil, false},
		{"townB", "门楼路12号", "address", nil, false},
		{"townA", "东湖塘社区29幢1803室", "address", nil, false},
		{"townB", "东湖塘社区29幢1803室", "address", []string{"sl"}, false},
		{"grid", "zxm", "name", []string{"zxm"}, false},
		{"grid", "张三", "name", nil, false},
		{"grid", "门楼路", "address", []string{"zw"}, false}, // households of the grid's village, residents of the grid
		{"village", "门楼路", "address", []string{"zs", "zsf-A", "zw"}, false},
		{"viewer", "张三丰", "name", nil, false},
	}
}

// TestSearch runs every query on both databases, checks the results and
// checks that SQLite and PostgreSQL return exactly the same pages.
func TestSearch(t *testing.T) {
	results := map[string]map[string]string{} // database → query → rendered result
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		f := newRegFixture(t, d)
		sd := seedSearch(t, f)
		label := map[int64]string{}
		for l, r := range sd.r {
			label[r.ID] = l
		}
		who := map[string]*access.Principal{"county": f.county, "townA": f.townA, "townB": f.townB, "village": f.village, "grid": f.grid, "viewer": f.viewer}
		got := map[string]string{}
		for _, c := range searchCases(sd) {
			res, err := f.svc.Search(f.ctx, who[c.who], c.q, 0, 50)
			if err != nil {
				t.Errorf("%s %q: %v", c.who, c.q, err)
				continue
			}
			var labels []string
			for _, h := range res.Hits {
				labels = append(labels, label[h.ID])
			}
			got[c.who+" "+c.q] = fmt.Sprintf("%s %q more=%v", res.Kind, labels, res.More)
			if res.Kind != c.kind {
				t.Errorf("%s %q: kind %q, want %q", c.who, c.q, res.Kind, c.kind)
			}
			want := slices.Clone(c.want)
			if !c.ordered {
				slices.Sort(labels)
				slices.Sort(want)
			}
			if !slices.Equal(labels, want) {
				t.Errorf("%s %q: %q, want %q", c.who, c.q, labels, want)
			}
			if res.More {
				t.Errorf("%s %q: More with %d hits", c.who, c.q, len(res.Hits))
			}
		}
		// Hits carry masked data and the household address, never plaintext.
		res, _ := f.svc.Search(f.ctx, f.county, sd.idZ, 0, 10)
		if h := res.Hits[0]; h.IDMasked != sd.idZ[:6]+"********"+sd.idZ[14:] || h.PhoneMasked != "138****5678" || h.Address != "东亭街道门楼路12号" {
			t.Errorf("hit %+v", h)
		}
		if s := fmt.Sprintf("%+v", res); strings.Contains(s, sd.idZ) || strings.Contains(s, "13812345678") {
			t.Errorf("search result holds plaintext: %s", s)
		}
		results[dbtest.Name(d)] = got
	})
	a, b := results["sqlite"], results["postgres"]
	if a == nil || b == nil {
		return // PostgreSQL not configured: nothing to compare
	}
	for q, ra := range a {
		if rb := b[q]; ra != rb {
			t.Errorf("%s: SQLite %s, PostgreSQL %s", q, ra, rb)
		}
	}
}

// TestSearchPagination: pages do not overlap, cover every hit once, end with
// More false; the exact name leads; bad offsets and limits are tolerated.
func TestSearchPagination(t *testing.T) {
	pages := map[string][]string{}
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		f := newRegFixture(t, d)
		seedSearch(t, f)
		var all []string
		for _, q := range []string{"王小", "wangxiao"} {
			all = all[:0]
			seen := map[int64]bool{}
			for off, n := 0, 0; ; off += 10 {
				res, err := f.svc.Search(f.ctx, f.townA, q, off, 10)
				if err != nil {
					t.Fatal(err)
				}
				n++
				for _, h := range res.Hits {
					if seen[h.ID] {
						t.Fatalf("%q: %s (%d) on two pages", q, h.Name, h.ID)
					}
					seen[h.ID] = true
					all = append(all, h.Name)
				}
				wantLen := min(10, 26-off)
				if len(res.Hits) != wantLen || res.More != (off+10 < 26) {
					t.Fatalf("%q page at %d: %d hits, more %v", q, off, len(res.Hits), res.More)
				}
				if !res.More {
					break
				}
				if n > 5 {
					t.Fatal("pages do not end")
				}
			}
			if len(all) != 26 || all[0] != "王小" {
				t.Fatalf("%q: %d hits, first %q", q, len(all), all[0])
			}
			if q == "王小" && !slices.IsSorted(all[1:]) {
				t.Fatalf("partial matches not in key order: %q", all)
			}
		}
		pages[dbtest.Name(d)] = slices.Clone(all)
		// Past the end: nothing, no More.
		if res, err := f.svc.Search(f.ctx, f.townA, "王小", 30, 10); err != nil || len(res.Hits) != 0 || res.More {
			t.Fatalf("past the end: %+v %v", res, err)
		}
		// A negative offset is the first page, not a crash.
		for _, q := range []string{"王小", "5678", "吼山路", "B幢"} {
			res, err := f.svc.Search(f.ctx, f.county, q, -5, 10)
			if err != nil {
				t.Fatalf("%q at offset -5: %v", q, err)
			}
			first, _ := f.svc.Search(f.ctx, f.county, q, 0, 10)
			if !slices.Equal(regHitIDs(res.Hits), regHitIDs(first.Hits)) || len(first.Hits) == 0 {
				t.Fatalf("%q at offset -5: %v, first page %v", q, regHitIDs(res.Hits), regHitIDs(first.Hits))
			}
		}
		// A zero or huge limit is the default page size.
		for _, limit := range []int{0, -1, 1000} {
			res, _ := f.svc.Search(f.ctx, f.townA, "王小", 0, limit)
			if len(res.Hits) != 20 || !res.More {
				t.Fatalf("limit %d: %d hits, more %v", limit, len(res.Hits), res.More)
			}
		}
		// Pages of the other kinds of search.
		for _, q := range []string{"B幢101室", "5678"} {
			var got []int64
			for off := 0; off < 10; off += 2 {
				res, err := f.svc.Search(f.ctx, f.county, q, off, 2)
				if err != nil {
					t.Fatal(err)
				}
				got = append(got, regHitIDs(res.Hits)...)
				if !res.More {
					break
				}
			}
			first, _ := f.svc.Search(f.ctx, f.county, q, 0, 50)
			if !slices.Equal(got, regHitIDs(first.Hits)) {
				t.Fatalf("%q by pages of 2: %v, in one page: %v", q, got, regHitIDs(first.Hits))
			}
		}
	})
	if a, b := pages["sqlite"], pages["postgres"]; a != nil && b != nil && !slices.Equal(a, b) {
		t.Fatalf("ranking differs: SQLite %q, PostgreSQL %q", a, b)
	}
}

// TestSearchRankingExactFirst: an exact name leads even when many partial
// matches sort before it in the index and it was registered last.
func TestSearchRankingExactFirst(t *testing.T) {
	dbtest.Each(t, func(t *testing.T, d *db.DB) {
		f := newRegFixture(t, d)
		for _, n := range []string{"李明亮", "李明华", "李明一", "李明"} {
			f.register(f.townA, regIn(n, "男", "1980-01-01", regVillageA))
		}
		for _, q := range []string{"李明", "liming", "lm"} {
			res, err := f.svc.Search(f.ctx, f.townA, q, 0, 10)
			if err != nil || len(res.Hits) != 4 || res.Hits[0].Name != "李明" {
				t.Fatalf("%q: %q %v", q, regNames(res.Hits), err)
			}
		}
		// Initials shared by a longer name do not outrank the exact name:
		// "lmh" is exact for 李明华 only.
		res, _ := f.svc.Search(f.ctx, f.townA, "lmh", 0, 10)
		if !slices.Equal(regNames(res.Hits), []string{"李明华"}) {
			t.Fatalf("lmh: %q", regNames(res.Hits))
		}
	})
}
