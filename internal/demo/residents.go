package demo

// Demo residents: a deterministic, realistic-looking population for the demo
// jurisdiction, written as the registry's import file (one row a resident,
// grouped in households). Everything comes from the embedded data files
// surnames.csv, given-names.txt and counties.csv (their sources are noted at
// their top) and from a PCG random stream seeded by ResidentOptions.Seed, so
// the same options always give byte-identical output.
//
// The shape of the population is modelled on a 苏南 county such as 锡山区:
// an old age structure (many 45–70-year-olds, few children), small
// households (mean about 2.6 people, a quarter living alone, as in the 2020
// census for 江苏), about 12 % migrants (流动人口) from 安徽, 苏北, 河南 and
// the south-west, often in collective households (集体户), and about 2 %
// people registered elsewhere in 无锡 or 江苏 (非户籍常住人口).

import (
	"bufio"
	"bytes"
	"context"
	_ "embed"
	"errors"
	"fmt"
	"io"
	"math"
	"math/rand/v2"
	"strconv"
	"strings"
	"sync"
	"time"
	"unicode/utf8"

	"github.com/shequ-platform/shequ/internal/division"
	"github.com/shequ-platform/shequ/internal/platform/tabular"
	"github.com/shequ-platform/shequ/internal/registry/idnum"
)

//go:embed surnames.csv
var surnamesCSV []byte

//go:embed given-names.txt
var givenNamesTxt []byte

//go:embed counties.csv
var countiesCSV []byte

// Village is where generated households live.
type Village struct {
	Code  int64   // 15-digit code of the village or community (level 5)
	Name  string  // official name, e.g. 严家桥村委会 or 春星社区居委会
	Grids []int64 // 15-digit codes of its grids; households are spread over them (none: the 所属网格 column stays empty)
	Urban bool    // a residents' committee (社区): flats and no farming
	// Township is the name of the village's township (东亭街道), the first
	// part of every address; optional.
	Township string
}

// ResidentOptions control WriteResidentsCSV and GenerateResidents.
type ResidentOptions struct {
	N        int       // residents (rows) to write; households are cut to fit exactly
	Seed     int64     // same options, same output
	Today    time.Time // ages are computed on this calendar day; nobody is born after it
	Villages []Village // where the households live; at least one
}

// Row is one resident as the import file has it, every value as a village
// clerk's spreadsheet writes it (labels in Chinese).
type Row struct {
	HouseholdNo   string // 户号, unique within the village
	HeadID        string // 户主身份证号
	Relation      string // 与户主关系: 本人, 配偶, 子, 女, 父亲, 母亲, 孙子, 孙女, 儿媳, 女婿, 兄弟姐妹, 其他
	Name          string // 姓名
	Gender        string // 性别: 男 or 女
	Birth         string // 出生日期, 2006-01-02
	Ethnicity     string // 民族, e.g. 汉族
	IDNumber      string // 公民身份号码, 18 characters
	Phone         string // 联系电话: a mobile number, or empty
	Residency     string // 户籍类型: 户籍人口, 非户籍常住人口 or 流动人口
	Status        string // 人员状态: always 在册
	Party         string // 政治面貌: 中共党员 or 群众
	Education     string // 文化程度: 无, 小学, 初中, 高中, 中专, 大专, 本科, 研究生, or empty for small children
	Employment    string // 就业状况: 在业, 务工, 个体, 务农, 无业, 退休, 学生, or empty for small children
	VillageCode   string // 所属村社区: the village's 15-digit code (division.Format)
	GridCode      string // 所属网格: the grid's 15-digit code, or empty
	Address       string // 住址, e.g. 羊尖镇 严家桥村 12组 34号
	HouseNo       string // 门牌号, e.g. 34号 or 8幢302室
	HouseholdKind string // 户类型: 家庭户 or 集体户
	Tags          string // 标签: ;-separated tag labels, e.g. 独居老人;残疾人(二级)
}

// ResidentColumns is the header row of the import file, in column order.
var ResidentColumns = []string{"户号", "户主身份证号", "与户主关系", "姓名", "性别", "出生日期", "民族", "公民身份号码", "联系电话",
	"户籍类型", "人员状态", "政治面貌", "文化程度", "就业状况", "所属村社区", "所属网格", "住址", "门牌号", "户类型", "标签"}

func (r *Row) fields() [20]string {
	return [20]string{r.HouseholdNo, r.HeadID, r.Relation, r.Name, r.Gender, r.Birth, r.Ethnicity, r.IDNumber, r.Phone,
		r.Residency, r.Status, r.Party, r.Education, r.Employment, r.VillageCode, r.GridCode, r.Address, r.HouseNo, r.HouseholdKind, r.Tags}
}

// Tag labels as the policy packs name them (policy/*/registry.yaml,
// zh-CN); the disability grade follows in parentheses. Restricted (special
// group) tags are never generated.
const (
	tagElderlyAlone      = "独居老人"
	tagDisabled          = "残疾人"
	tagDibao             = "低保对象"
	tagTekun             = "特困人员"
	tagYoufu             = "优抚对象"
	tagLeftBehindChild   = "留守儿童"
	tagLeftBehindElderly = "留守老人"
)

var disabilityGrades = []string{"一级", "二级", "三级", "四级"}

// WriteResidentsCSV writes o.N residents in households as the registry's
// import file: UTF-8 CSV with a BOM and the header ResidentColumns, written
// through tabular.NewCSVWriter (so Excel keeps ID numbers as text). It
// returns the number of households written.
func WriteResidentsCSV(w io.Writer, o ResidentOptions) (households int, err error) {
	g, err := newGenerator(o)
	if err != nil {
		return 0, err
	}
	bw := bufio.NewWriterSize(w, 64<<10)
	cw := tabular.NewCSVWriter(bw)
	if err := cw.WriteHeader(ResidentColumns); err != nil {
		return 0, err
	}
	rec := make([]any, len(ResidentColumns))
	households, err = g.run(func(r Row) error {
		for i, f := range r.fields() {
			rec[i] = f
		}
		return cw.Write(rec)
	})
	if cerr := cw.Close(); err == nil {
		err = cerr
	}
	if ferr := bw.Flush(); err == nil {
		err = ferr
	}
	return households, err
}

// GenerateResidents produces the same residents as WriteResidentsCSV, in the
// same order, as a stream of rows. An error from emit stops it and is
// returned.
func GenerateResidents(o ResidentOptions, emit func(Row) error) (households int, err error) {
	g, err := newGenerator(o)
	if err != nil {
		return 0, err
	}
	return g.run(emit)
}

// DemoVillages lists the villages and communities of county (the level-5
// units under its townships, retired ones left out) with their grids, as
// Build creates them, for ResidentOptions.Villages. NBS virtual communities
// (虚拟社区/虚拟村, statistical placeholders without households) are left
// out too.
func DemoVillages(ctx context.Context, store *division.Store, county int64) ([]Village, error) {
	towns, err := store.Children(ctx, county, false)
	if err != nil {
		return nil, err
	}
	var out []Village
	for _, t := range towns {
		if t.Level != division.LevelTownship {
			continue
		}
		vs, err := store.Children(ctx, t.Code, false)
		if err != nil {
			return nil, err
		}
		for _, v := range vs {
			if v.Level != division.LevelVillage || strings.Contains(v.Name, "虚拟") {
				continue
			}
			subs, err := store.Children(ctx, v.Code, false)
			if err != nil {
				return nil, err
			}
			vil := Village{Code: v.Code, Name: v.Name, Township: t.Name,
				Urban: v.Kind == division.KindCommunity || v.Kind == "" && v.UrbanRural/100 == 1}
			for _, s := range subs {
				if s.Kind == division.KindGrid {
					vil.Grids = append(vil.Grids, s.Code)
				}
			}
			out = append(out, vil)
		}
	}
	return out, nil
}

// ---- embedded data ----

type county struct {
	code       int32
	name       string
	minorities []minority
}

type minority struct {
	group    string
	permille int
}

// pool is the given names of one cohort and sex.
type pool struct {
	names []string // whole two-character names
	chars []string // single characters
}

type genData struct {
	surnames []string
	surnameW weights
	given    [len(cohortStarts)][2]pool // [cohort][0 female, 1 male]
	migrant  []county
	migrantW weights
	near     []county
	nearW    weights
}

// cohortStarts are the first birth years of the given-name cohorts.
var cohortStarts = [...]int{1900, 1960, 1980, 2000, 2010}

var loadData = sync.OnceValues(parseData)

func parseData() (*genData, error) {
	d := &genData{}
	err := eachLine(surnamesCSV, func(n int, line string) error {
		name, pct, ok := strings.Cut(line, ",")
		f, err := strconv.ParseFloat(pct, 64)
		if !ok || err != nil || f <= 0 || name == "" {
			return fmt.Errorf("surnames.csv:%d: want surname,percent", n)
		}
		d.surnames = append(d.surnames, name)
		d.surnameW.add(int(math.Round(f * 1e4))) // per million
		return nil
	})
	if err != nil {
		return nil, err
	}
	err = eachLine(givenNamesTxt, func(n int, line string) error {
		f := strings.Fields(line)
		if len(f) < 4 {
			return fmt.Errorf("given-names.txt:%d: want cohort sex kind items…", n)
		}
		c := -1
		for i, y := range cohortStarts {
			if f[0] == strconv.Itoa(y) {
				c = i
			}
		}
		sex := map[string]int{"F": 0, "M": 1}
		s, ok := sex[f[1]]
		if c < 0 || !ok {
			return fmt.Errorf("given-names.txt:%d: bad cohort or sex", n)
		}
		p := &d.given[c][s]
		for _, it := range f[3:] {
			switch k := utf8.RuneCountInString(it); {
			case f[2] == "name" && k == 2:
				p.names = append(p.names, it)
			case f[2] == "char" && k == 1:
				p.chars = append(p.chars, it)
			default:
				return fmt.Errorf("given-names.txt:%d: %q is not a %s", n, it, f[2])
			}
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	for c := range d.given {
		for s := range d.given[c] {
			if p := d.given[c][s]; len(p.names) == 0 || len(p.chars) < 2 {
				return nil, fmt.Errorf("given-names.txt: cohort %d sex %d has no names or too few characters", cohortStarts[c], s)
			}
		}
	}
	err = eachLine(countiesCSV, func(n int, line string) error {
		f := strings.Split(line, ",")
		if len(f) != 5 {
			return fmt.Errorf("counties.csv:%d: want 5 columns", n)
		}
		code, err1 := strconv.Atoi(f[0])
		w, err2 := strconv.Atoi(f[3])
		if err1 != nil || err2 != nil || code < 110000 || code > 829999 || w <= 0 {
			return fmt.Errorf("counties.csv:%d: bad code or weight", n)
		}
		c := county{code: int32(code), name: f[1]}
		if f[4] != "" {
			for _, m := range strings.Split(f[4], ";") {
				g, pct, _ := strings.Cut(m, ":")
				p, err := strconv.Atoi(pct)
				if err != nil || p <= 0 || p > 100 || !strings.HasSuffix(g, "族") {
					return fmt.Errorf("counties.csv:%d: bad minority %q", n, m)
				}
				c.minorities = append(c.minorities, minority{g, p * 10})
			}
		}
		switch f[2] {
		case "migrant":
			d.migrant = append(d.migrant, c)
			d.migrantW.add(w)
		case "near":
			d.near = append(d.near, c)
			d.nearW.add(w)
		default:
			return fmt.Errorf("counties.csv:%d: kind must be migrant or near", n)
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	if len(d.surnames) == 0 || len(d.migrant) == 0 || len(d.near) == 0 {
		return nil, errors.New("demo: embedded resident data is empty")
	}
	return d, nil
}

// eachLine calls fn with the non-empty, non-comment lines of b (1-based
// line numbers).
func eachLine(b []byte, fn func(n int, line string) error) error {
	for i, l := range bytes.Split(b, []byte("\n")) {
		s := strings.TrimSpace(string(l))
		if s == "" || s[0] == '#' {
			continue
		}
		if err := fn(i+1, s); err != nil {
			return err
		}
	}
	return nil
}

// weights picks an index with probability proportional to its weight.
type weights struct{ cum []int }

func (w *weights) add(x int) {
	t := 0
	if n := len(w.cum); n > 0 {
		t = w.cum[n-1]
	}
	w.cum = append(w.cum, t+x)
}

func (w *weights) pick(r *rand.Rand) int {
	x := r.IntN(w.cum[len(w.cum)-1])
	lo, hi := 0, len(w.cum)-1
	for lo < hi {
		m := (lo + hi) / 2
		if w.cum[m] > x {
			hi = m
		} else {
			lo = m + 1
		}
	}
	return lo
}

func mkWeights(ws ...int) weights {
	var w weights
	for _, x := range ws {
		w.add(x)
	}
	return w
}

// band is an age range [lo, hi] in years.
type band struct{ lo, hi int }

// bands picks a band by weight, then an age uniformly inside it.
type bands struct {
	b []band
	w weights
}

func mkBands(bw ...int) bands {
	var b bands
	for i := 0; i+2 < len(bw); i += 3 {
		b.b = append(b.b, band{bw[i], bw[i+1]})
		b.w.add(bw[i+2])
	}
	return b
}

func (b *bands) age(r *rand.Rand) int {
	x := b.b[b.w.pick(r)]
	return x.lo + r.IntN(x.hi-x.lo+1)
}

// ---- calendar: days since 1970-01-01 (proleptic Gregorian) ----

// daysFromCivil and civilFromDays are Howard Hinnant's algorithms.
func daysFromCivil(y, m, d int) int {
	if m <= 2 {
		y--
	}
	era := y / 400
	if y < 0 && y%400 != 0 {
		era = (y - 399) / 400
	}
	yoe := y - era*400
	mp := (m + 9) % 12
	doy := (153*mp+2)/5 + d - 1
	doe := yoe*365 + yoe/4 - yoe/100 + doy
	return era*146097 + doe - 719468
}

func civilFromDays(z int) (y, m, d int) {
	z += 719468
	era := z / 146097
	if z < 0 && z%146097 != 0 {
		era = (z - 146096) / 146097
	}
	doe := z - era*146097
	yoe := (doe - doe/1460 + doe/36524 - doe/146096) / 365
	y = yoe + era*400
	doy := doe - (365*yoe + yoe/4 - yoe/100)
	mp := (5*doy + 2) / 153
	d = doy - (153*mp+2)/5 + 1
	m = mp + 3
	if m > 12 {
		m -= 12
	}
	if m <= 2 {
		y++
	}
	return y, m, d
}

// yd is n years in days (on average).
func yd(n float64) int { return int(n * 365.2425) }

// minBirthDay is 1900-01-01, the earliest birth an ID number may carry.
var minBirthDay = daysFromCivil(1900, 1, 1)

// ---- generation ----

const (
	resRegistered = iota
	resNonRegistered
	resMigrant
)

var residencyLabels = [...]string{"户籍人口", "非户籍常住人口", "流动人口"}

type person struct {
	rel    string
	male   bool
	birth  int // days since 1970-01-01
	res    int
	area   int32 // 6-digit area code of the ID number; set in finish
	father int   // member index, -1 when not in the household
	mother int
	kin    int // member whose surname someone without parents here takes (a sibling, a grandfather), -1 none
	// motherSurname is the chance in percent of taking the mother's surname
	motherSurname int
	skipGen       bool // grandchild living with grandparents only (留守儿童 when under 16)
	lbElderly     bool // candidate for 留守老人
	done          bool // surname, ethnicity and area resolved

	surname, given, eth string
	id                  string
	age                 int
	edu                 int // index into eduLabels, -1 none
	disabled            int // 0 none, else grade 1-4
	tags                []string
}

// Education levels, in order.
var eduLabels = [...]string{"无", "小学", "初中", "高中", "中专", "大专", "本科", "研究生"}

const (
	eduNone = iota
	eduPrimary
	eduJunior
	eduSenior
	eduVocational
	eduCollege
	eduBachelor
	eduPostgrad
)

// eduByDecade are the weights of eduLabels by decade of birth (before 1950,
// 1950s … 2000s): rough 苏南 attainment, not a statistic.
var eduByDecade = [...]weights{
	mkWeights(30, 45, 17, 6, 1, 1, 0, 0),
	mkWeights(10, 35, 37, 14, 2, 1, 1, 0),
	mkWeights(3, 20, 48, 18, 5, 3, 3, 0),
	mkWeights(1, 10, 45, 18, 9, 9, 7, 1),
	mkWeights(0, 4, 28, 15, 12, 19, 19, 3),
	mkWeights(0, 2, 15, 12, 14, 26, 27, 4),
	mkWeights(0, 1, 10, 10, 14, 30, 31, 4),
}

// Mobile number segments (号段) in use, three digits, with relative weights:
// the older 13x/15x/18x segments carry most subscribers.
var mobilePrefixes = []struct {
	p string
	w int
}{
	{"130", 4}, {"131", 4}, {"132", 4}, {"133", 4}, {"134", 4}, {"135", 6}, {"136", 6}, {"137", 6}, {"138", 8}, {"139", 8},
	{"145", 1}, {"147", 1}, {"150", 4}, {"151", 4}, {"152", 4}, {"153", 3}, {"155", 3}, {"156", 3}, {"157", 3}, {"158", 4},
	{"159", 4}, {"166", 1}, {"173", 1}, {"175", 1}, {"176", 1}, {"177", 1}, {"178", 1}, {"180", 3}, {"181", 3}, {"182", 3},
	{"183", 3}, {"184", 1}, {"185", 3}, {"186", 3}, {"187", 3}, {"188", 3}, {"189", 3}, {"191", 1}, {"195", 1}, {"198", 1}, {"199", 1},
}

var (
	mobileW = func() weights {
		var w weights
		for _, p := range mobilePrefixes {
			w.add(p.w)
		}
		return w
	}()
	localMinorities  = []string{"回族", "满族", "蒙古族", "苗族", "土家族", "壮族", "彝族"}
	localMinorityW   = mkWeights(30, 20, 10, 10, 10, 10, 10)
	gradeW           = mkWeights(12, 23, 30, 35)
	registeredTypeW  = mkWeights(225, 275, 185, 55, 30, 80, 100, 15, 30) // see household()
	migrantTypeW     = mkWeights(45, 18, 22, 15)
	nonRegTypeW      = mkWeights(40, 35, 25)
	elderAloneAge    = mkBands(60, 69, 30, 70, 79, 40, 80, 89, 25, 90, 97, 5)
	adultAloneAge    = mkBands(20, 29, 10, 30, 44, 25, 45, 59, 65)
	oldCoupleAge     = mkBands(50, 59, 25, 60, 69, 38, 70, 79, 27, 80, 92, 10)
	childAge         = mkBands(0, 5, 10, 6, 11, 12, 12, 17, 15, 18, 24, 30, 25, 34, 33)
	firstOfTwoAge    = mkBands(2, 10, 35, 11, 17, 30, 18, 30, 35)
	singleParentKid  = mkBands(3, 17, 45, 18, 32, 55)
	middleGenKidAge  = mkBands(0, 5, 15, 6, 11, 20, 12, 17, 25, 18, 28, 40)
	grandchildAge    = mkBands(0, 5, 35, 6, 11, 30, 12, 17, 25, 18, 22, 10)
	leftBehindAge    = mkBands(2, 6, 35, 7, 12, 40, 13, 15, 25)
	migrantSingleAge = mkBands(18, 24, 25, 25, 34, 35, 35, 44, 25, 45, 55, 15)
	migrantKidAge    = mkBands(0, 5, 45, 6, 11, 35, 12, 16, 20)
)

// Shares of households by residency (per mille).
const (
	migrantHouseholds = 120
	nonRegHouseholds  = 10
)

type villageState struct {
	code, prefix string // 所属村社区, 户号 prefix
	grids        []string
	addr         string // "东亭街道 春星社区 "
	area         int32  // the county's 6-digit code
	urban        bool
	groups       int // villager groups (rural)
	seq          int
}

type generator struct {
	o     ResidentOptions
	d     *genData
	r     *rand.Rand
	today int
	ty    int
	tm    int
	td    int
	ids   map[uint64]struct{}
	vs    []villageState
	vw    weights
	m     []person // the household being built
	rows  []Row
}

func newGenerator(o ResidentOptions) (*generator, error) {
	d, err := loadData()
	if err != nil {
		return nil, err
	}
	if o.N < 0 {
		return nil, errors.New("demo: ResidentOptions.N is negative")
	}
	if o.Today.IsZero() {
		return nil, errors.New("demo: ResidentOptions.Today is required")
	}
	if len(o.Villages) == 0 {
		return nil, errors.New("demo: ResidentOptions.Villages is empty")
	}
	ty, tm, td := o.Today.Date()
	if ty < 2000 || ty > 2200 {
		return nil, fmt.Errorf("demo: ResidentOptions.Today %v out of range", o.Today)
	}
	g := &generator{o: o, d: d, r: rand.New(rand.NewPCG(uint64(o.Seed), 0x5348455155444d4f)), // "SHEQUDMO"
		today: daysFromCivil(ty, int(tm), td), ty: ty, tm: int(tm), td: td, ids: make(map[uint64]struct{}, min(o.N, 1<<22))}
	for _, v := range o.Villages {
		if division.LevelOf(v.Code) != division.LevelVillage || division.Sub(v.Code) != 0 {
			return nil, fmt.Errorf("demo: %d is not a 15-digit village code", v.Code)
		}
		if p := v.Code / 1e13; p < 11 || p > 82 {
			return nil, fmt.Errorf("demo: %d is not in a province", v.Code)
		}
		st := villageState{code: division.Format(v.Code), prefix: fmt.Sprintf("%06d", division.Code12(v.Code)%1e6), urban: v.Urban,
			area: int32(v.Code / 1e9)}
		for _, c := range v.Grids {
			if c/1000*1000 != v.Code || c%1000 == 0 {
				return nil, fmt.Errorf("demo: grid %d is not under village %d", c, v.Code)
			}
			st.grids = append(st.grids, division.Format(c))
		}
		if t := strings.TrimSpace(v.Township); t != "" {
			st.addr = t + " "
		}
		st.addr += shortVillageName(v.Name) + " "
		st.groups = 6 + g.r.IntN(20)
		w := 60 + g.r.IntN(81) // village sizes vary from 60 to 140
		if v.Urban {
			w = w * 13 / 10
		}
		g.vs = append(g.vs, st)
		g.vw.add(w)
	}
	return g, nil
}

// shortVillageName is the name as addresses use it: 严家桥村委会 → 严家桥村,
// 春星社区居委会 → 春星社区, 东北塘居委会 → 东北塘社区.
func shortVillageName(name string) string {
	n := strings.TrimSpace(name)
	for _, s := range []string{"村民委员会", "村委会", "村委员会"} {
		if b, ok := strings.CutSuffix(n, s); ok {
			if !strings.HasSuffix(b, "村") {
				b += "村"
			}
			return b
		}
	}
	for _, s := range []string{"居民委员会", "居委会"} {
		if b, ok := strings.CutSuffix(n, s); ok {
			if !strings.HasSuffix(b, "社区") {
				b += "社区"
			}
			return b
		}
	}
	return n
}

func (g *generator) run(emit func(Row) error) (int, error) {
	households, left := 0, g.o.N
	for left > 0 {
		vi := g.vw.pick(g.r)
		kind := g.household()
		if len(g.m) > left {
			g.m = g.m[:left] // the head comes first, so the cut household keeps it
			for i := range g.m {
				p := &g.m[i]
				if p.father >= left {
					p.father = -1
				}
				if p.mother >= left {
					p.mother = -1
				}
				if p.kin >= left {
					p.kin = -1
				}
			}
		}
		g.finish(&g.vs[vi], kind)
		for _, r := range g.rows {
			if err := emit(r); err != nil {
				return households, err
			}
		}
		households++
		left -= len(g.m)
	}
	return households, nil
}

// ---- households ----

func (g *generator) chance(permille int) bool { return g.r.IntN(1000) < permille }

// birthAt returns a birth day for someone aged a on today.
func (g *generator) birthAt(a int) int {
	hi := daysFromCivil(g.ty-a, g.tm, g.td)
	lo := daysFromCivil(g.ty-a-1, g.tm, g.td) + 1
	return min(lo+g.r.IntN(hi-lo+1), g.today)
}

func (g *generator) add(p person) int {
	g.m = append(g.m, p)
	return len(g.m) - 1
}

func (g *generator) newPerson(rel string, male bool, birth, res int) person {
	return person{rel: rel, male: male, birth: birth, res: res, father: -1, mother: -1, kin: -1, motherSurname: 8}
}

// spouseGap is how many days a husband is older than his wife: 2 years on
// average, from 3 younger to 8 older.
func (g *generator) spouseGap() int {
	x := 2 + 2.5*g.r.NormFloat64()
	return yd(max(-3, min(8, x)))
}

// parentsOf returns the birth days of the father and mother of a child born
// on c: the mother 21–35 years older, the father 19–39.
func (g *generator) parentsOf(c int) (father, mother int) {
	mg := yd(21) + g.r.IntN(yd(14))
	d := g.spouseGap()
	fg := max(yd(19), min(yd(39), mg+d))
	return c - fg, c - mg
}

// sibling returns the birth of a younger or older sibling of someone born on
// c whose parents were born on f and m, keeping the parents 19–39 years
// older; ok is false when no sibling fits.
func (g *generator) sibling(c, f, m int) (int, bool) {
	gap := yd(1) + g.r.IntN(yd(7))
	fits := func(s int) bool {
		return s <= g.today && s-f >= yd(19) && s-f <= yd(39) && s-m >= yd(19) && s-m <= yd(39)
	}
	if s := c + gap; fits(s) {
		return s, true
	}
	if s := c - gap; fits(s) {
		return s, true
	}
	return 0, false
}

func (g *generator) male() bool { return g.r.IntN(100) < 53 } // sex ratio at birth about 113

func childRel(male bool) string {
	if male {
		return "子"
	}
	return "女"
}

func grandRel(male bool) string {
	if male {
		return "孙子"
	}
	return "孙女"
}

func parentRel(male bool) string {
	if male {
		return "父亲"
	}
	return "母亲"
}

// couple adds the head and, when withSpouse, the spouse, with the husband
// born on h and the wife on w; the head is the husband with probability
// maleHead per mille. It returns the indexes of husband and wife (-1 when
// absent). The spouse of a registered head is sometimes registered
// elsewhere (married in without moving the registration).
func (g *generator) couple(h, w int, withSpouse bool, maleHead int, res int) (husband, wife int) {
	spouseRes := res
	if res == resRegistered && g.chance(50) {
		spouseRes = resNonRegistered
	}
	husband, wife = -1, -1
	if g.chance(maleHead) {
		husband = g.add(g.newPerson("本人", true, h, res))
		if withSpouse {
			wife = g.add(g.newPerson("配偶", false, w, spouseRes))
		}
	} else {
		wife = g.add(g.newPerson("本人", false, w, res))
		if withSpouse {
			husband = g.add(g.newPerson("配偶", true, h, spouseRes))
		}
	}
	return husband, wife
}

func (g *generator) child(rel string, male bool, birth, res, father, mother int) int {
	p := g.newPerson(rel, male, birth, res)
	p.father, p.mother = father, mother
	return g.add(p)
}

// household builds one household into g.m and returns its kind.
func (g *generator) household() (kind string) {
	g.m = g.m[:0]
	switch x := g.r.IntN(1000); {
	case x < migrantHouseholds:
		return g.migrantHousehold()
	case x < migrantHouseholds+nonRegHouseholds:
		g.nonRegisteredHousehold()
		return "家庭户"
	}
	const reg = resRegistered
	switch registeredTypeW.pick(g.r) {
	case 0: // one person
		if g.chance(580) {
			g.add(g.newPerson("本人", !g.chance(620), g.birthAt(elderAloneAge.age(g.r)), reg))
		} else {
			g.add(g.newPerson("本人", g.chance(650), g.birthAt(adultAloneAge.age(g.r)), reg))
		}
	case 1: // couple only: mostly empty nesters
		var h int
		if g.chance(880) {
			h = g.birthAt(oldCoupleAge.age(g.r))
		} else {
			h = g.birthAt(23 + g.r.IntN(13))
		}
		w := min(h+g.spouseGap(), g.birthAt(20))
		hu, wi := g.couple(h, w, true, 850, reg)
		if g.today-h >= yd(60) && g.today-w >= yd(60) && g.chance(120) {
			g.m[hu].lbElderly, g.m[wi].lbElderly = true, true
		}
	case 2: // couple with a child
		g.nuclear(g.birthAt(childAge.age(g.r)), false, reg)
	case 3: // couple with two children
		g.nuclear(g.birthAt(firstOfTwoAge.age(g.r)), true, reg)
	case 4: // single parent
		c := g.birthAt(singleParentKid.age(g.r))
		f, m := g.parentsOf(c)
		ms := g.male()
		if g.chance(650) {
			mo := g.add(g.newPerson("本人", false, m, reg))
			k := g.child(childRel(ms), ms, c, reg, -1, mo)
			g.m[k].motherSurname = 15
		} else {
			fa := g.add(g.newPerson("本人", true, f, reg))
			g.child(childRel(ms), ms, c, reg, fa, -1)
		}
	case 5: // head, spouse, children and the head's parents
		g.threeGenerations()
	case 6: // elderly head with a married child and grandchildren
		g.elderHousehold()
	case 7: // grandparents raising grandchildren whose parents work away
		g.skipGeneration()
	default: // head with a sibling or an unrelated member
		a := 30 + g.r.IntN(46)
		head := g.add(g.newPerson("本人", g.chance(650), g.birthAt(a), reg))
		if g.chance(700) {
			s := g.newPerson("兄弟姐妹", g.male(), g.birthAt(max(18, a-10+g.r.IntN(21))), reg)
			s.kin = head
			g.add(s)
		} else {
			g.add(g.newPerson("其他", g.male(), g.birthAt(20+g.r.IntN(61)), reg))
		}
		if g.chance(200) {
			g.add(g.newPerson("其他", g.male(), g.birthAt(20+g.r.IntN(61)), reg))
		}
	}
	return "家庭户"
}

// nuclear adds a couple with their child born on c and, when two, a
// sibling of it.
func (g *generator) nuclear(c int, two bool, res int) {
	f, m := g.parentsOf(c)
	hu, wi := g.couple(f, m, true, 850, res)
	ms := g.male()
	g.child(childRel(ms), ms, c, res, hu, wi)
	if two {
		if s, ok := g.sibling(c, f, m); ok {
			ms := g.male()
			g.child(childRel(ms), ms, s, res, hu, wi)
		}
	}
}

// threeGenerations: a head of working age, the spouse, one or two children
// and one or both of the head's parents.
func (g *generator) threeGenerations() {
	const reg = resRegistered
	c := g.birthAt(middleGenKidAge.age(g.r))
	f, m := g.parentsOf(c)
	headMale := g.chance(850)
	maleHead := 0
	if headMale {
		maleHead = 1000
	}
	hu, wi := g.couple(f, m, true, maleHead, reg)
	head := 0
	gf, gm := g.parentsOf(g.m[head].birth)
	withF, withM := true, true
	switch x := g.r.IntN(100); {
	case x < 30:
		withF = false
	case x < 45:
		withM = false
	}
	if withF && g.today-gf <= yd(96) {
		g.m[head].father = g.add(g.newPerson("父亲", true, gf, reg))
	}
	if withM && g.today-gm <= yd(96) {
		g.m[head].mother = g.add(g.newPerson("母亲", false, gm, reg))
	}
	ms := g.male()
	k := g.child(childRel(ms), ms, c, reg, hu, wi)
	if !headMale {
		g.m[k].motherSurname = 30 // a husband living with his wife's family
	}
	if g.chance(250) {
		if s, ok := g.sibling(c, f, m); ok {
			ms := g.male()
			k := g.child(childRel(ms), ms, s, reg, hu, wi)
			if !headMale {
				g.m[k].motherSurname = 30
			}
		}
	}
}

// elderHousehold: an elderly head (often with spouse) living with a married
// son and daughter-in-law — or, less often, a daughter whose husband married
// into the family (入赘, common in 苏南) — and usually their children.
func (g *generator) elderHousehold() {
	const reg = resRegistered
	withGC := g.chance(750)
	daughter := g.chance(150)
	var gc, f, m int // grandchild, its father and mother
	if withGC {
		gc = g.birthAt(grandchildAge.age(g.r))
		f, m = g.parentsOf(gc)
	} else {
		f = g.birthAt(24 + g.r.IntN(15))
		m = min(f+g.spouseGap(), g.birthAt(20))
	}
	mid := f // the head's own child
	if daughter {
		mid = m
	}
	gf, gm := g.parentsOf(mid)
	if g.today-gf > yd(97) || g.today-gm > yd(97) {
		// too old to be alive: make them 88–95 and the middle generation younger
		gf, gm = g.birthAt(90+g.r.IntN(6)), g.birthAt(88+g.r.IntN(6))
		shift := max(gf, gm) + yd(23) + g.r.IntN(yd(8)) - mid
		f, m, mid = f+shift, m+shift, mid+shift
		if withGC && (gc-f < yd(19) || gc-m < yd(19) || gc-f > yd(39) || gc-m > yd(39)) {
			withGC = false
		}
	}
	withSpouse := g.chance(800)
	maleHead := 750
	if !withSpouse {
		maleHead = 350
	}
	hu, wi := g.couple(gf, gm, withSpouse, maleHead, reg)
	inLawRes := reg
	if g.chance(80) {
		inLawRes = resNonRegistered
	}
	var father, mother int
	if !daughter {
		father = g.child("子", true, f, reg, hu, wi)
		mother = g.add(g.newPerson("儿媳", false, m, inLawRes))
	} else {
		mother = g.child("女", false, m, reg, hu, wi)
		father = g.add(g.newPerson("女婿", true, f, inLawRes))
	}
	if !withGC {
		return
	}
	n := 1
	if g.chance(200) {
		n = 2
	}
	for i := range n {
		b := gc
		if i == 1 {
			var ok bool
			if b, ok = g.sibling(gc, f, m); !ok {
				break
			}
		}
		ms := g.male()
		k := g.child(grandRel(ms), ms, b, reg, father, mother)
		if daughter {
			g.m[k].motherSurname = 90 // children of an uxorilocal marriage carry the family name
		}
	}
}

// skipGeneration: grandparents (or one of them) with one or two
// grandchildren whose parents work elsewhere (留守儿童).
func (g *generator) skipGeneration() {
	const reg = resRegistered
	gc := g.birthAt(leftBehindAge.age(g.r))
	fa, _ := g.parentsOf(gc) // the absent son
	gf, gm := g.parentsOf(fa)
	if g.today-gf > yd(92) {
		gf = g.birthAt(92)
	}
	kin := -1 // the grandfather, whose surname the grandchildren carry
	switch x := g.r.IntN(100); {
	case x < 65:
		kin, _ = g.couple(gf, gm, true, 700, reg)
	case x < 90:
		g.add(g.newPerson("本人", false, gm, reg))
	default:
		kin = g.add(g.newPerson("本人", true, gf, reg))
	}
	n := 1
	if g.chance(250) {
		n = 2
	}
	for i := range n {
		b := gc
		if i > 0 {
			b = min(g.today, gc+yd(1)+g.r.IntN(yd(5)))
		}
		ms := g.male()
		p := g.newPerson(grandRel(ms), ms, b, reg)
		p.kin, p.skipGen = kin, true
		g.add(p)
	}
}

func (g *generator) migrantHousehold() string {
	const mig = resMigrant
	switch migrantTypeW.pick(g.r) {
	case 0: // one worker
		g.add(g.newPerson("本人", g.chance(620), g.birthAt(migrantSingleAge.age(g.r)), mig))
	case 1: // couple
		h := g.birthAt(22 + g.r.IntN(29))
		g.couple(h, min(h+g.spouseGap(), g.birthAt(20)), true, 900, mig)
	case 2: // couple with children
		c := g.birthAt(migrantKidAge.age(g.r))
		f, m := g.parentsOf(c)
		hu, wi := g.couple(f, m, true, 900, mig)
		ms := g.male()
		g.child(childRel(ms), ms, c, mig, hu, wi)
		if g.chance(250) {
			if s, ok := g.sibling(c, f, m); ok {
				ms := g.male()
				g.child(childRel(ms), ms, s, mig, hu, wi)
			}
		}
	default: // collective household: a dormitory of workers
		n := 3 + g.r.IntN(10)
		for i := 0; i < n; i++ {
			rel := "其他"
			if i == 0 {
				rel = "本人"
			}
			g.add(g.newPerson(rel, g.chance(650), g.birthAt(18+g.r.IntN(28)), mig))
		}
		return "集体户"
	}
	return "家庭户"
}

func (g *generator) nonRegisteredHousehold() {
	const nr = resNonRegistered
	switch nonRegTypeW.pick(g.r) {
	case 0:
		g.add(g.newPerson("本人", g.chance(550), g.birthAt(22+g.r.IntN(49)), nr))
	case 1:
		h := g.birthAt(28 + g.r.IntN(43))
		g.couple(h, min(h+g.spouseGap(), g.birthAt(20)), true, 850, nr)
	default:
		c := g.birthAt(childAge.age(g.r))
		f, m := g.parentsOf(c)
		hu, wi := g.couple(f, m, true, 850, nr)
		ms := g.male()
		g.child(childRel(ms), ms, c, nr, hu, wi)
	}
}

// ---- per-person attributes ----

// finish fills in names, IDs and every other column of the household in g.m
// and turns it into g.rows.
func (g *generator) finish(v *villageState, kind string) {
	countyArea := v.area
	homeMig := g.d.migrant[g.d.migrantW.pick(g.r)]
	homeNear := g.d.near[g.d.nearW.pick(g.r)]
	collective := kind == "集体户"
	for i := range g.m {
		p := &g.m[i]
		p.done = false
		switch p.res {
		case resRegistered:
			p.area = countyArea
		case resMigrant:
			if p.area == 0 && p.father < 0 && p.mother < 0 {
				c := homeMig
				if collective && i > 0 || p.rel == "配偶" && g.chance(300) {
					c = g.d.migrant[g.d.migrantW.pick(g.r)]
				}
				p.area = c.code
				p.eth = g.ethnicityFrom(c)
			}
		case resNonRegistered:
			if p.area == 0 && p.father < 0 && p.mother < 0 {
				c := homeNear
				if p.rel != "本人" {
					c = g.d.near[g.d.nearW.pick(g.r)]
				}
				p.area = c.code
			}
		}
	}
	for i := range g.m {
		g.resolve(i)
	}
	// names distinct within the household
	for i := range g.m {
		p := &g.m[i]
		for try := 0; ; try++ {
			p.given = g.givenName(p)
			if try == 5 || !g.nameTaken(i) {
				break
			}
		}
	}
	for i := range g.m {
		p := &g.m[i]
		p.id, p.birth = g.newID(p.area, p.birth, p.male)
		p.age = ageOn(p.birth, g.ty, g.tm, g.td)
		p.edu = g.education(p, v.urban)
		p.disabled = 0
		perm := 4 + p.age*4/10
		if p.res == resMigrant {
			perm = perm * 3 / 10
		}
		if g.r.IntN(1000) < perm {
			p.disabled = 1 + gradeW.pick(g.r)
		}
	}
	g.tag(kind)

	// rows
	hh := v.prefix + pad4(v.seq+1)
	v.seq++
	grid := ""
	if len(v.grids) > 0 {
		grid = v.grids[g.r.IntN(len(v.grids))]
	}
	var houseNo string
	var addr string
	switch {
	case collective:
		houseNo = "集体宿舍" + strconv.Itoa(1+g.r.IntN(12)) + "号楼"
		addr = v.addr + houseNo
	case v.urban:
		houseNo = strconv.Itoa(1+g.r.IntN(36)) + "幢" + strconv.Itoa(1+g.r.IntN(18)) + "0" + strconv.Itoa(1+g.r.IntN(4)) + "室"
		addr = v.addr + houseNo
	default:
		houseNo = strconv.Itoa(1+g.r.IntN(80)) + "号"
		addr = v.addr + strconv.Itoa(1+g.r.IntN(v.groups)) + "组 " + houseNo
	}
	g.rows = g.rows[:0]
	headID := g.m[0].id
	for i := range g.m {
		p := &g.m[i]
		gender := "女"
		if p.male {
			gender = "男"
		}
		edu := ""
		if p.edu >= 0 {
			edu = eduLabels[p.edu]
		}
		g.rows = append(g.rows, Row{
			HouseholdNo: hh, HeadID: headID, Relation: p.rel, Name: p.surname + p.given, Gender: gender,
			Birth: formatDay(p.birth), Ethnicity: p.eth, IDNumber: p.id, Phone: g.phone(p), Residency: residencyLabels[p.res],
			Status: "在册", Party: g.party(p), Education: edu, Employment: g.employment(p, v.urban),
			VillageCode: v.code, GridCode: grid, Address: addr, HouseNo: houseNo, HouseholdKind: kind,
			Tags: strings.Join(p.tags, ";"),
		})
	}
}

func pad4(n int) string {
	s := strconv.Itoa(n)
	if len(s) < 4 {
		s = "0000"[len(s):] + s
	}
	return s
}

// resolve sets a member's surname, ethnicity and (for children of
// migrants) ID area after those of the parents it follows.
func (g *generator) resolve(i int) {
	p := &g.m[i]
	if p.done {
		return
	}
	p.done = true // guards against cycles, which the builders never make
	var fa, mo *person
	if p.father >= 0 {
		g.resolve(p.father)
		fa = &g.m[p.father]
	}
	if p.mother >= 0 {
		g.resolve(p.mother)
		mo = &g.m[p.mother]
	}
	if p.kin >= 0 {
		g.resolve(p.kin)
	}
	p = &g.m[i]
	switch {
	case fa != nil && mo != nil:
		if g.r.IntN(100) < p.motherSurname {
			p.surname = mo.surname
		} else {
			p.surname = fa.surname
		}
	case fa != nil:
		p.surname = fa.surname
	case mo != nil: // the father lives elsewhere: his surname, or sometimes the mother's
		if g.r.IntN(100) < p.motherSurname {
			p.surname = mo.surname
		} else {
			p.surname = g.surname()
		}
	case p.kin >= 0:
		p.surname = g.m[p.kin].surname
	default:
		p.surname = g.surname()
	}
	if p.area == 0 {
		switch {
		case fa != nil && fa.res == p.res:
			p.area = fa.area
		case mo != nil && mo.res == p.res:
			p.area = mo.area
		default:
			p.area = g.d.near[g.d.nearW.pick(g.r)].code
		}
	}
	if p.eth == "" {
		switch {
		case fa != nil && fa.eth != "汉族":
			p.eth = fa.eth
		case mo != nil && mo.eth != "汉族":
			p.eth = mo.eth
		case fa != nil || mo != nil:
			p.eth = "汉族"
		case g.chance(5):
			p.eth = localMinorities[localMinorityW.pick(g.r)]
		default:
			p.eth = "汉族"
		}
	}
}

func (g *generator) ethnicityFrom(c county) string {
	x := g.r.IntN(1000)
	for _, m := range c.minorities {
		if x < m.permille {
			return m.group
		}
		x -= m.permille
	}
	if g.chance(3) {
		return localMinorities[localMinorityW.pick(g.r)]
	}
	return "汉族"
}

func (g *generator) surname() string { return g.d.surnames[g.d.surnameW.pick(g.r)] }

// givenName draws a given name for p's birth cohort and sex.
func (g *generator) givenName(p *person) string {
	y, _, _ := civilFromDays(p.birth)
	c := 0
	for i, s := range cohortStarts {
		if y >= s {
			c = i
		}
	}
	sex := 0
	if p.male {
		sex = 1
	}
	pl := &g.d.given[c][sex]
	single := [...]int{120, 250, 350, 150, 80}[c]
	switch x := g.r.IntN(1000); {
	case x < single:
		return pl.chars[g.r.IntN(len(pl.chars))]
	case x < single+(1000-single)*55/100:
		return pl.names[g.r.IntN(len(pl.names))]
	}
	a := g.r.IntN(len(pl.chars))
	b := g.r.IntN(len(pl.chars) - 1)
	if b >= a {
		b++
	}
	if pl.chars[a] == pl.chars[b] { // a character listed twice
		return pl.chars[a]
	}
	return pl.chars[a] + pl.chars[b]
}

func (g *generator) nameTaken(i int) bool {
	for j := range i {
		if g.m[j].surname == g.m[i].surname && g.m[j].given == g.m[i].given {
			return true
		}
	}
	return false
}

// newID returns a unique ID number for someone born on birth (moved by a
// day when every sequence number of that day is taken, which only very
// large outputs reach) and the birth day it encodes.
func (g *generator) newID(area int32, birth int, male bool) (string, int) {
	sexBit := 0
	if male {
		sexBit = 1
	}
	for {
		key := func(seq int) uint64 {
			return uint64(area)<<27 | uint64(birth+40000)<<10 | uint64(seq)
		}
		seq := -1
		for try := 0; try < 24; try++ {
			s := g.r.IntN(500)*2 + sexBit
			if s == 0 {
				continue
			}
			if _, taken := g.ids[key(s)]; !taken {
				seq = s
				break
			}
		}
		for s := 2 + sexBit; seq < 0 && s < 1000; s += 2 {
			if _, taken := g.ids[key(s)]; !taken {
				seq = s
			}
		}
		if seq < 0 {
			if birth > minBirthDay {
				birth--
			} else {
				birth++
			}
			continue
		}
		g.ids[key(seq)] = struct{}{}
		var b [18]byte
		putDigits(b[0:6], int(area))
		y, m, d := civilFromDays(birth)
		putDigits(b[6:10], y)
		putDigits(b[10:12], m)
		putDigits(b[12:14], d)
		putDigits(b[14:17], seq)
		b[17] = idnum.CheckDigit(string(b[:17]))
		return string(b[:]), birth
	}
}

func putDigits(b []byte, n int) {
	for i := len(b) - 1; i >= 0; i-- {
		b[i] = byte('0' + n%10)
		n /= 10
	}
}

func formatDay(day int) string {
	var b [10]byte
	y, m, d := civilFromDays(day)
	putDigits(b[0:4], y)
	b[4] = '-'
	putDigits(b[5:7], m)
	b[7] = '-'
	putDigits(b[8:10], d)
	return string(b[:])
}

// ageOn is the age in whole years on the day y-m-d of someone born on birth.
func ageOn(birth, y, m, d int) int {
	by, bm, bd := civilFromDays(birth)
	a := y - by
	if m < bm || m == bm && d < bd {
		a--
	}
	return a
}

func (g *generator) education(p *person, urban bool) int {
	a := p.age
	switch {
	case a < 6:
		return -1
	case a < 12:
		return eduPrimary
	case a < 15:
		return eduJunior
	case a < 18:
		switch x := g.r.IntN(100); {
		case x < 60:
			return eduSenior
		case x < 90:
			return eduVocational
		}
		return eduJunior
	}
	y, _, _ := civilFromDays(p.birth)
	dec := max(0, min(len(eduByDecade)-1, (y-1940)/10))
	e := eduByDecade[dec].pick(g.r)
	switch {
	case urban && p.res != resMigrant && e < eduPostgrad && g.chance(300):
		e++
	case p.res == resMigrant && e > eduPrimary && g.chance(350):
		e--
	}
	if a < 22 && e == eduPostgrad {
		e = eduBachelor
	}
	return e
}

func (g *generator) employment(p *person, urban bool) string {
	a := p.age
	switch {
	case a < 6:
		return ""
	case a < 16:
		return "学生"
	case a < 18:
		if p.edu >= eduSenior {
			return "学生"
		}
		return "无业"
	case a <= 22 && p.edu >= eduCollege && g.chance(850):
		return "学生"
	}
	retire := 60
	if !p.male {
		retire = 55
	}
	if p.res == resMigrant {
		if a >= retire && g.chance(500) {
			return "无业"
		}
		switch x := g.r.IntN(100); {
		case x < 80:
			return "务工"
		case x < 92:
			return "个体"
		}
		return "无业"
	}
	if a >= retire {
		switch {
		case urban:
			if g.chance(920) {
				return "退休"
			}
			return "无业"
		case a < 75:
			switch x := g.r.IntN(100); {
			case x < 30:
				return "务农"
			case x < 85:
				return "退休"
			}
			return "无业"
		default:
			if g.chance(600) {
				return "退休"
			}
			return "无业"
		}
	}
	farm := 0
	if !urban {
		farm = 4
		if a >= 45 {
			farm = 25
		}
	}
	switch x := g.r.IntN(100 + farm); {
	case x < 68:
		return "在业"
	case x < 82:
		return "个体"
	case x < 92:
		return "无业"
	case x < 100:
		return "在业"
	}
	return "务农"
}

func (g *generator) party(p *person) string {
	if p.age < 18 {
		return "群众"
	}
	perm := 70.0
	switch {
	case p.age < 30:
		perm = 30
	case p.age >= 60:
		perm = 110
	}
	if p.male {
		perm *= 1.5
	} else {
		perm *= 0.55
	}
	switch {
	case p.edu >= eduBachelor:
		perm *= 2.5
	case p.edu == eduCollege:
		perm *= 1.5
	case p.edu <= eduPrimary:
		perm *= 0.5
	}
	if p.res == resMigrant {
		perm *= 0.5
	}
	if g.r.IntN(1000) < int(perm) {
		return "中共党员"
	}
	return "群众"
}

func (g *generator) phone(p *person) string {
	perm := 0
	switch a := p.age; {
	case a < 12:
	case a < 16:
		perm = 300
	case a < 70:
		perm = 960
	case a < 80:
		perm = 800
	default:
		perm = 550
	}
	if !g.chance(perm) {
		return ""
	}
	var b [11]byte
	copy(b[:3], mobilePrefixes[mobileW.pick(g.r)].p)
	putDigits(b[3:], g.r.IntN(1e8))
	return string(b[:])
}

// tag sets the tags of every member of the household (after it was cut to
// size, so "living alone" is what the rows show).
func (g *generator) tag(kind string) {
	n := len(g.m)
	registered := g.m[0].res == resRegistered
	severe, elderAlone := false, false
	for i := range g.m {
		g.m[i].tags = g.m[i].tags[:0]
		if d := g.m[i].disabled; d == 1 || d == 2 {
			severe = true
		}
	}
	if n == 1 && kind == "家庭户" && g.m[0].age >= 60 {
		elderAlone = true
	}
	// household-level assistance (registered households only)
	dibao, tekun := false, false
	if registered {
		perm := 6
		if severe {
			perm += 50
		}
		if elderAlone {
			perm += 20
			if g.chance(20) {
				tekun = true
			}
		}
		if n == 1 && severe && !tekun && g.chance(200) {
			tekun = true
		}
		dibao = !tekun && g.chance(perm)
	}
	lbElderly := n == 2 && g.m[0].lbElderly && g.m[1].lbElderly
	for i := range g.m {
		p := &g.m[i]
		if elderAlone {
			p.tags = append(p.tags, tagElderlyAlone)
		}
		if p.disabled > 0 {
			p.tags = append(p.tags, tagDisabled+"("+disabilityGrades[p.disabled-1]+")")
		}
		if p.res == resRegistered {
			if dibao {
				p.tags = append(p.tags, tagDibao)
			}
			if tekun {
				p.tags = append(p.tags, tagTekun)
			}
			if p.age >= 50 && p.male && g.chance(8) || p.age >= 70 && !p.male && g.chance(1) {
				p.tags = append(p.tags, tagYoufu)
			}
		}
		if p.skipGen && p.age < 16 {
			p.tags = append(p.tags, tagLeftBehindChild)
		}
		if lbElderly && p.age >= 60 {
			p.tags = append(p.tags, tagLeftBehindElderly)
		}
	}
}
