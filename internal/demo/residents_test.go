package demo

import (
	"bytes"
	"context"
	"encoding/csv"
	"errors"
	"io"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/shequ-platform/shequ/internal/division"
	"github.com/shequ-platform/shequ/internal/platform/db/dbtest"
	"github.com/shequ-platform/shequ/internal/platform/policy"
	"github.com/shequ-platform/shequ/internal/platform/tabular"
	"github.com/shequ-platform/shequ/internal/registry"
	"github.com/shequ-platform/shequ/internal/registry/idnum"
	policypacks "github.com/shequ-platform/shequ/policy"
)

// testToday is a day in China time, to check that nobody is born after it
// even when UTC is still on the day before.
var testToday = time.Date(2025, 3, 1, 7, 0, 0, 0, time.FixedZone("CST", 8*3600))

// testVillages are the villages of the embedded 锡山区 list, as DemoVillages
// would return them with two grids each (four for 春星社区, none for the
// first village of 羊尖镇), without a database.
func testVillages(t testing.TB) []Village {
	t.Helper()
	recs, err := csv.NewReader(bytes.NewReader(xishanCSV)).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	towns := map[string]string{}
	var out []Village
	for _, r := range recs[1:] {
		switch r[2] {
		case "4":
			towns[r[0]] = r[1]
		case "5":
			if strings.Contains(r[1], "虚拟") {
				continue
			}
			c, _ := strconv.ParseInt(r[0], 10, 64)
			c *= 1000
			v := Village{Code: c, Name: r[1], Township: towns[r[3]], Urban: division.KindFromName(r[1]) == division.KindCommunity}
			switch {
			case c == 320205_001_004_000:
				v.Grids = []int64{c + 1, c + 2, c + 3, c + 4}
			case c/1e6*1e6 == Township && len(out) > 0 && out[len(out)-1].Code/1e6*1e6 != Township:
			default:
				v.Grids = []int64{c + 1, c + 2}
			}
			out = append(out, v)
		}
	}
	if len(out) != 119 {
		t.Fatalf("%d villages in the embedded list, want 119", len(out))
	}
	return out
}

func opts(t testing.TB, n int, seed int64) ResidentOptions {
	return ResidentOptions{N: n, Seed: seed, Today: testToday, Villages: testVillages(t)}
}

func collect(t testing.TB, o ResidentOptions) ([]Row, int) {
	t.Helper()
	var rows []Row
	h, err := GenerateResidents(o, func(r Row) error { rows = append(rows, r); return nil })
	if err != nil {
		t.Fatal(err)
	}
	return rows, h
}

func csvBytes(t testing.TB, o ResidentOptions) ([]byte, int) {
	t.Helper()
	var b bytes.Buffer
	h, err := WriteResidentsCSV(&b, o)
	if err != nil {
		t.Fatal(err)
	}
	return b.Bytes(), h
}

func TestResidentsDeterministic(t *testing.T) {
	a, ha := csvBytes(t, opts(t, 20000, 7))
	b, hb := csvBytes(t, opts(t, 20000, 7))
	if !bytes.Equal(a, b) || ha != hb {
		t.Fatal("same options gave different output")
	}
	c, _ := csvBytes(t, opts(t, 20000, 8))
	if bytes.Equal(a, c) {
		t.Fatal("another seed gave the same output")
	}
	o := opts(t, 20000, 7)
	o.Today = o.Today.AddDate(1, 0, 0)
	if d, _ := csvBytes(t, o); bytes.Equal(a, d) {
		t.Fatal("another day gave the same output")
	}
	// a prefix of the output is the output for fewer rows, apart from the
	// last household, which is cut to fit
	short, _ := collect(t, opts(t, 5000, 7))
	long, _ := collect(t, opts(t, 20000, 7))
	last := short[len(short)-1].HouseholdNo + short[len(short)-1].VillageCode
	for i, r := range short {
		if r.HouseholdNo+r.VillageCode == last {
			break
		}
		if r != long[i] {
			t.Fatalf("row %d differs: %v / %v", i, r, long[i])
		}
	}
}

// registryTags are the zh-CN labels of the xishan pack's tags (grades for
// those that have them) and whether each is restricted.
func registryTags(t testing.TB) map[string]policy.Tag {
	t.Helper()
	set, err := policy.Load(policypacks.FS)
	if err != nil {
		t.Fatal(err)
	}
	p := set.For(County)
	if p == nil || p.Registry == nil {
		t.Fatal("no policy pack with tags for the demo county")
	}
	out := map[string]policy.Tag{}
	for _, tg := range p.Registry.Tags {
		out[tg.Label.Get("zh-CN")] = tg
	}
	return out
}

func yearsBetween(a, b time.Time) int { // whole years from a to b
	n := b.Year() - a.Year()
	if b.Month() < a.Month() || b.Month() == a.Month() && b.Day() < a.Day() {
		n--
	}
	return n
}

func TestResidentsValid(t *testing.T) {
	const n = 60000
	o := opts(t, n, 42)
	rows, households := collect(t, o)
	if len(rows) != n {
		t.Fatalf("%d rows, want %d", len(rows), n)
	}
	vills := map[string]Village{}
	for _, v := range o.Villages {
		vills[division.Format(v.Code)] = v
	}
	tags := registryTags(t)
	today := time.Date(2025, 3, 1, 0, 0, 0, 0, time.UTC)
	seenID := map[string]bool{}
	seenHH := map[string]bool{}
	births := map[string]time.Time{}

	type member struct {
		r     Row
		birth time.Time
	}
	var hh []member
	count := 0
	checkHousehold := func() {
		if len(hh) == 0 {
			return
		}
		count++
		heads := 0
		var head member
		for _, m := range hh {
			if m.r.Relation == "本人" {
				heads++
				head = m
			}
		}
		if heads != 1 || hh[0].r.Relation != "本人" {
			t.Fatalf("household %s: %d heads (the head must come first)", hh[0].r.HouseholdNo, heads)
		}
		for _, m := range hh {
			r := m.r
			if r.HeadID != head.r.IDNumber {
				t.Fatalf("%v: head ID %s, head has %s", r, r.HeadID, head.r.IDNumber)
			}
			if r.HouseholdKind != head.r.HouseholdKind || r.Address != head.r.Address || r.GridCode != head.r.GridCode || r.VillageCode != head.r.VillageCode {
				t.Fatalf("%v: household columns differ from the head's %v", r, head.r)
			}
			older := yearsBetween(m.birth, head.birth) // how much older m is than the head
			younger := yearsBetween(head.birth, m.birth)
			switch r.Relation {
			case "配偶", "儿媳", "女婿":
				if r.Relation == "配偶" && r.Gender == head.r.Gender {
					t.Fatalf("%v: spouse of the same sex as %v", r, head.r)
				}
				if r.Relation == "配偶" && (older > 10 || younger > 10) {
					t.Fatalf("%v: spouse age gap with %v", r, head.r)
				}
				if yearsBetween(m.birth, today) < 20 {
					t.Fatalf("%v: married under 20", r)
				}
			case "子", "女":
				if (r.Relation == "子") != (r.Gender == "男") {
					t.Fatalf("%v: relation and gender disagree", r)
				}
				if younger < 18 || younger > 40 {
					t.Fatalf("%v: child %d years younger than head %v", r, younger, head.r)
				}
			case "父亲", "母亲":
				if (r.Relation == "父亲") != (r.Gender == "男") {
					t.Fatalf("%v: relation and gender disagree", r)
				}
				if older < 18 || older > 40 {
					t.Fatalf("%v: parent %d years older than head %v", r, older, head.r)
				}
			case "孙子", "孙女":
				if (r.Relation == "孙子") != (r.Gender == "男") {
					t.Fatalf("%v: relation and gender disagree", r)
				}
				if younger < 36 {
					t.Fatalf("%v: grandchild %d years younger than head %v", r, younger, head.r)
				}
			}
			for _, tg := range strings.Split(r.Tags, ";") {
				switch {
				case tg == "独居老人" && (len(hh) != 1 || yearsBetween(m.birth, today) < 60):
					t.Fatalf("%v: elderly living alone in a household of %d", r, len(hh))
				case tg == "留守儿童" && yearsBetween(m.birth, today) >= 16:
					t.Fatalf("%v: left-behind child aged 16 or more", r)
				}
			}
		}
		if hh[0].r.HouseholdKind == "集体户" {
			for _, m := range hh {
				if m.r.Residency != "流动人口" || m.r.Relation != "本人" && m.r.Relation != "其他" {
					t.Fatalf("collective household member %v", m.r)
				}
			}
		}
		hh = hh[:0]
	}

	for i, r := range rows {
		key := r.VillageCode + "/" + r.HouseholdNo
		if i == 0 || key != rows[i-1].VillageCode+"/"+rows[i-1].HouseholdNo {
			checkHousehold()
			if seenHH[key] {
				t.Fatalf("household number %s used twice", key)
			}
			seenHH[key] = true
		}
		id, err := idnum.Parse(r.IDNumber, testToday)
		if err != nil || id.Number != r.IDNumber {
			t.Fatalf("%v: ID %s: %v", r, r.IDNumber, err)
		}
		if seenID[r.IDNumber] {
			t.Fatalf("ID %s twice", r.IDNumber)
		}
		seenID[r.IDNumber] = true
		birth, err := time.Parse("2006-01-02", r.Birth)
		if err != nil || !birth.Equal(id.Birth) {
			t.Fatalf("%v: birth %s, ID says %v", r, r.Birth, id.Birth)
		}
		if birth.After(today) || yearsBetween(birth, today) > 100 {
			t.Fatalf("%v: born %s", r, r.Birth)
		}
		births[r.IDNumber] = birth
		if id.Male != (r.Gender == "男") {
			t.Fatalf("%v: gender %s, ID says male=%v", r, r.Gender, id.Male)
		}
		v, ok := vills[r.VillageCode]
		if !ok {
			t.Fatalf("%v: unknown village %q", r, r.VillageCode)
		}
		if c, err := division.Parse(r.VillageCode); err != nil || c != v.Code {
			t.Fatalf("%v: village code %q does not parse", r, r.VillageCode)
		}
		if r.GridCode == "" && len(v.Grids) > 0 || r.GridCode != "" && !containsCode(v.Grids, r.GridCode) {
			t.Fatalf("%v: grid %q not one of %v", r, r.GridCode, v.Grids)
		}
		if !strings.HasPrefix(r.Address, v.Township+" ") || !strings.HasSuffix(r.Address, r.HouseNo) {
			t.Fatalf("%v: address %q", r, r.Address)
		}
		countyArea := int(v.Code / 1e9)
		switch r.Residency {
		case "户籍人口":
			if id.Area != countyArea {
				t.Fatalf("%v: registered resident with area %d", r, id.Area)
			}
		case "非户籍常住人口", "流动人口":
			if id.Area == countyArea {
				t.Fatalf("%v: %s with the county's area code", r, r.Residency)
			}
		}
		if err := idnum.ValidName(r.Name); err != nil {
			t.Fatalf("%v: name %q: %v", r, r.Name, err)
		}
		if r.Phone != "" {
			if p, err := idnum.NormalizePhone(r.Phone); err != nil || p != r.Phone || len(p) != 11 {
				t.Fatalf("%v: phone %q: %v", r, r.Phone, err)
			}
			if yearsBetween(birth, today) < 12 {
				t.Fatalf("%v: a phone for a child", r)
			}
		}
		for field, val := range map[string]string{"gender": r.Gender, "relation": r.Relation, "residency": r.Residency,
			"education": r.Education, "employment": r.Employment, "household_kind": r.HouseholdKind} {
			k, ok := registry.ParseLabel(field, val)
			if !ok {
				t.Fatalf("%v: the importer does not read %s %q", r, field, val)
			}
			if k == "" && field != "education" && field != "employment" {
				t.Fatalf("%v: %s empty", r, field)
			}
		}
		if age := yearsBetween(birth, today); (r.Education == "" || r.Employment == "") && age >= 6 {
			t.Fatalf("%v: education or employment empty at %d", r, age)
		}
		if e, ok := registry.NormalizeEthnicity(r.Ethnicity); !ok || e != r.Ethnicity || e == "" {
			t.Fatalf("%v: ethnicity %q", r, r.Ethnicity)
		}
		if r.Status != "在册" || r.Party != "中共党员" && r.Party != "群众" {
			t.Fatalf("%v: status or party", r)
		}
		if r.Tags != "" {
			for _, tg := range strings.Split(r.Tags, ";") {
				label, grade, graded := strings.Cut(strings.TrimSuffix(tg, ")"), "(")
				def, ok := tags[label]
				switch {
				case !ok:
					t.Fatalf("%v: tag %q is not a label of the pack", r, tg)
				case def.Restricted:
					t.Fatalf("%v: restricted tag %q", r, tg)
				case graded != (len(def.Grades) > 0) || graded && !contains(def.Grades, grade):
					t.Fatalf("%v: tag %q grade", r, tg)
				}
			}
		}
		hh = append(hh, member{r, birth})
	}
	checkHousehold()
	if count != households {
		t.Fatalf("%d households in the rows, %d returned", count, households)
	}
}

func containsCode(codes []int64, s string) bool {
	for _, c := range codes {
		if division.Format(c) == s {
			return true
		}
	}
	return false
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

func TestResidentsShape(t *testing.T) {
	const n = 100000
	rows, households := collect(t, opts(t, n, 1))
	today := time.Date(2025, 3, 1, 0, 0, 0, 0, time.UTC)
	share := func(k int) float64 { return float64(k) / float64(n) }
	var migrants, nonReg, kids, elderly, mid, young, han, singles, collective int
	tagCount := map[string]int{}
	surnames := map[string]int{}
	size := 0
	for i, r := range rows {
		if i > 0 && r.HouseholdNo+r.VillageCode != rows[i-1].HouseholdNo+rows[i-1].VillageCode {
			if size == 1 {
				singles++
			}
			size = 0
		}
		size++
		switch r.Residency {
		case "流动人口":
			migrants++
		case "非户籍常住人口":
			nonReg++
		}
		b, _ := time.Parse("2006-01-02", r.Birth)
		switch a := yearsBetween(b, today); {
		case a < 15:
			kids++
		case a >= 20 && a < 45:
			young++
		case a >= 45 && a < 70:
			mid++
		}
		if yearsBetween(b, today) >= 60 {
			elderly++
		}
		if r.Ethnicity == "汉族" {
			han++
		}
		if r.HouseholdKind == "集体户" {
			collective++
		}
		for _, tg := range strings.Split(r.Tags, ";") {
			tg, _, _ = strings.Cut(tg, "(")
			tagCount[tg]++
		}
		sn := []rune(r.Name)[:1]
		if strings.HasPrefix(r.Name, "欧阳") {
			sn = []rune("欧阳")
		}
		surnames[string(sn)]++
	}
	if size == 1 {
		singles++
	}
	mean := float64(n) / float64(households)
	t.Logf("households %d, mean size %.2f, one-person %.1f%%; migrants %.1f%%, non-registered %.1f%%, collective %.1f%%; "+
		"0-14 %.1f%%, 20-44 %.1f%%, 45-69 %.1f%%, 60+ %.1f%%; tags %v",
		households, mean, 100*float64(singles)/float64(households), 100*share(migrants), 100*share(nonReg), 100*share(collective),
		100*share(kids), 100*share(young), 100*share(mid), 100*share(elderly), tagCount)
	check := func(what string, v, lo, hi float64) {
		t.Helper()
		if v < lo || v > hi {
			t.Errorf("%s = %.4f, want %.3f–%.3f", what, v, lo, hi)
		}
	}
	check("mean household size", mean, 2.4, 2.8)
	check("one-person households", float64(singles)/float64(households), 0.18, 0.34)
	check("migrants", share(migrants), 0.10, 0.15)
	check("non-registered", share(nonReg), 0.01, 0.035)
	check("collective households' members", share(collective), 0.01, 0.08)
	check("aged 0-14", share(kids), 0.07, 0.16)
	check("aged 60+", share(elderly), 0.20, 0.36)
	check("汉族", share(han), 0.97, 1)
	if mid <= young {
		t.Errorf("45–69-year-olds (%d) should outnumber 20–44-year-olds (%d)", mid, young)
	}
	for _, tg := range []string{tagElderlyAlone, tagDisabled, tagDibao, tagLeftBehindChild, tagLeftBehindElderly, tagYoufu} {
		if tagCount[tg] == 0 {
			t.Errorf("no %s in %d residents", tg, n)
		}
	}
	check("低保", share(tagCount[tagDibao]), 0.002, 0.03)
	check("残疾人", share(tagCount[tagDisabled]), 0.01, 0.05)
	type kv struct {
		k string
		v int
	}
	var top []kv
	for k, v := range surnames {
		top = append(top, kv{k, v})
	}
	sort.Slice(top, func(i, j int) bool { return top[i].v > top[j].v || top[i].v == top[j].v && top[i].k < top[j].k })
	first := map[string]bool{}
	for _, x := range top[:5] {
		first[x.k] = true
	}
	if !first["王"] || !first["李"] || !first["张"] {
		t.Errorf("王, 李 and 张 should be among the five most common surnames: %v", top[:5])
	}
	if surnames["欧阳"] == 0 {
		t.Error("no 欧阳 among 100,000 residents")
	}
}

func TestResidentsCSV(t *testing.T) {
	o := opts(t, 3000, 3)
	b, h := csvBytes(t, o)
	if !bytes.HasPrefix(b, []byte("\uFEFF户号,户主身份证号,与户主关系,姓名,性别,出生日期,民族,公民身份号码,联系电话,户籍类型,人员状态,政治面貌,文化程度,就业状况,所属村社区,所属网格,住址,门牌号,户类型,标签\r\n")) {
		t.Fatalf("header: %q", b[:200])
	}
	rd, err := tabular.OpenCSV(bytes.NewReader(b))
	if err != nil {
		t.Fatal(err)
	}
	defer rd.Close()
	if got := rd.Header(); strings.Join(got, ",") != strings.Join(ResidentColumns, ",") {
		t.Fatalf("header read back as %q", got)
	}
	rows, h2 := collect(t, o)
	if h != h2 {
		t.Fatalf("%d households written, %d generated", h, h2)
	}
	i := 0
	for ; ; i++ {
		rec, line, err := rd.Next()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			t.Fatalf("line %d: %v", line, err)
		}
		want := rows[i].fields()
		if strings.Join(rec, "|") != strings.Join(want[:], "|") {
			t.Fatalf("line %d read back as\n%q\nwant\n%q", line, rec, want)
		}
	}
	if i != len(rows) {
		t.Fatalf("%d rows read back, %d generated", i, len(rows))
	}
}

func TestResidentsOptions(t *testing.T) {
	good := opts(t, 10, 1)
	for name, mod := range map[string]func(*ResidentOptions){
		"no villages": func(o *ResidentOptions) { o.Villages = nil },
		"no today":    func(o *ResidentOptions) { o.Today = time.Time{} },
		"negative N":  func(o *ResidentOptions) { o.N = -1 },
		"county code": func(o *ResidentOptions) { o.Villages = []Village{{Code: County, Name: "锡山区"}} },
		"grid code":   func(o *ResidentOptions) { o.Villages = []Village{{Code: 320205_001_001_001, Name: "x"}} },
		"foreign grid": func(o *ResidentOptions) {
			o.Villages = []Village{{Code: 320205_001_001_000, Grids: []int64{320205_001_002_001}}}
		},
	} {
		o := good
		mod(&o)
		var b bytes.Buffer
		if _, err := WriteResidentsCSV(&b, o); err == nil || b.Len() != 0 {
			t.Errorf("%s: err %v, %d bytes written", name, err, b.Len())
		}
	}
	o := good
	o.N = 0
	b, h := csvBytes(t, o)
	if h != 0 || bytes.Count(b, []byte("\n")) != 1 {
		t.Fatalf("N=0: %d households, %q", h, b)
	}
	o.N = 1
	rows, h := collect(t, o)
	if h != 1 || len(rows) != 1 || rows[0].Relation != "本人" || rows[0].HeadID != rows[0].IDNumber {
		t.Fatalf("N=1: %d households, %v", h, rows)
	}
	// one village without grids or township: the columns stay empty
	o = good
	o.N = 50
	o.Villages = []Village{{Code: 320205_102_207_000, Name: "龙凤巷村委会"}}
	rows, _ = collect(t, o)
	for _, r := range rows {
		if r.GridCode != "" || !strings.HasPrefix(r.Address, "龙凤巷村 ") || r.VillageCode != "320205102207000" {
			t.Fatalf("%v", r)
		}
	}
	stop := errors.New("stop")
	if _, err := GenerateResidents(good, func(Row) error { return stop }); err != stop {
		t.Fatalf("emit error: %v", err)
	}
}

func TestShortVillageName(t *testing.T) {
	for in, want := range map[string]string{
		"严家桥村委会": "严家桥村", "春星社区居委会": "春星社区", "东北塘居委会": "东北塘社区", "吼山社区居民委员会": "吼山社区",
		"南村村委会": "南村", "梓旺新村社区居委会": "梓旺新村社区", "某某村民委员会": "某某村", "台湾农民创业园虚拟社区": "台湾农民创业园虚拟社区",
	} {
		if got := shortVillageName(in); got != want {
			t.Errorf("%s → %s, want %s", in, got, want)
		}
	}
}

func TestCalendar(t *testing.T) {
	for d := daysFromCivil(1899, 12, 25); d < daysFromCivil(2101, 1, 5); d++ {
		y, m, dd := civilFromDays(d)
		tm := time.Unix(int64(d)*86400, 0).UTC()
		if y != tm.Year() || m != int(tm.Month()) || dd != tm.Day() || daysFromCivil(y, m, dd) != d {
			t.Fatalf("day %d: %d-%d-%d, want %v", d, y, m, dd, tm)
		}
	}
}

func TestDemoVillages(t *testing.T) {
	ctx := context.Background()
	d := dbtest.SQLite(t)
	if _, err := division.Import(ctx, d, bytes.NewReader(xishanCSV), division.ImportOptions{}); err != nil {
		t.Fatal(err)
	}
	store := &division.Store{DB: d}
	chunxing := int64(320205_001_004_000)
	for _, name := range []string{"第一网格", "第二网格"} {
		if _, err := store.CreateSub(ctx, chunxing, division.KindGrid, name); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := store.CreateSub(ctx, chunxing, division.KindBuilding, "1幢"); err != nil {
		t.Fatal(err)
	}
	vs, err := DemoVillages(ctx, store, County)
	if err != nil {
		t.Fatal(err)
	}
	if len(vs) != 119 { // 120 minus the virtual community
		t.Fatalf("%d villages", len(vs))
	}
	urban := 0
	for _, v := range vs {
		if v.Township == "" || division.LevelOf(v.Code) != division.LevelVillage {
			t.Fatalf("%+v", v)
		}
		if v.Urban {
			urban++
		}
		if v.Code == chunxing {
			if len(v.Grids) != 2 || v.Grids[0] != chunxing+1 || v.Grids[1] != chunxing+2 || v.Name != "春星社区居委会" || v.Township != "东亭街道" || !v.Urban {
				t.Fatalf("春星: %+v", v)
			}
		} else if len(v.Grids) != 0 {
			t.Fatalf("grids out of nowhere: %+v", v)
		}
	}
	if urban < 20 || urban > 80 {
		t.Fatalf("%d urban communities of %d", urban, len(vs))
	}
	o := ResidentOptions{N: 500, Seed: 1, Today: testToday, Villages: vs}
	if _, err := GenerateResidents(o, func(Row) error { return nil }); err != nil {
		t.Fatal(err)
	}
}

// BenchmarkWriteResidentsCSV writes 100,000 residents per iteration.
func BenchmarkWriteResidentsCSV(b *testing.B) {
	o := opts(b, 100000, 1)
	b.ReportAllocs()
	for b.Loop() {
		if _, err := WriteResidentsCSV(io.Discard, o); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(o.N)*float64(b.N)/b.Elapsed().Seconds(), "rows/s")
}
