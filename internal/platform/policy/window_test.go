package policy_test

import (
	"slices"
	"strings"
	"testing"
	"testing/fstest"

	"github.com/shequ-platform/shequ/internal/platform/policy"
)

// windowPackYAML is a minimal valid pack.yaml for pack "p".
const windowPackYAML = `name: p
title: {zh-CN: 测试, en: Test}
source: test.txt
year: 2009
bind: [440605]
levels:
  village: {zh-CN: 村, en: Village}
roles:
  system_admin:   {zh-CN: 系统管理员}
  county_staff:   {zh-CN: 区级工作人员}
  township_staff: {zh-CN: 镇工作人员}
  village_staff:  {zh-CN: 社区工作者}
  grid_worker:    {zh-CN: 网格员}
  viewer:         {zh-CN: 查阅人员}
`

// loadWindow loads pack "p" made of windowPackYAML and the given window.yaml.
func loadWindow(t *testing.T, window string) (*policy.Set, []string) {
	t.Helper()
	s, err := policy.Load(fstest.MapFS{
		"p/pack.yaml":   {Data: []byte(windowPackYAML)},
		"p/window.yaml": {Data: []byte(window)},
	})
	if s != nil && err != nil {
		t.Errorf("Load returned a set along with errors")
	}
	var got []string
	for _, e := range loadErrors(t, err) {
		got = append(got, e.Error())
	}
	return s, got
}

const goodWindow = `categories:
  - key: civil_affairs
    label: {zh-CN: 民政事务, en: Civil affairs}
    seeds: [NH-6]
  - key: disability
    label: {zh-CN: 残疾人服务}
items:
  - code: NH-MZ-01
    name: {zh-CN: 最低生活保障申请, en: Subsistence allowance application}
    category: civil_affairs
    description: {zh-CN: 低保。}
    level: township
    time_limit: 30
    agency: true
    materials:
      - {key: id_card, label: {zh-CN: 居民身份证}}
      - {key: income_proof, label: {zh-CN: 收入证明}, optional: true}
    fields:
      - {key: household_size, label: {zh-CN: 家庭人口}, type: number, required: true, min: 1, max: 20}
      - {key: monthly_income, label: {zh-CN: 家庭月收入}, type: number}
      - {key: reason, label: {zh-CN: 申请原因}, type: text, required: true, max_length: 2000}
      - {key: since, label: {zh-CN: 困难起始日期}, type: date, hint: {zh-CN: 大致日期即可}}
      - key: hardship
        label: {zh-CN: 困难类型}
        type: choice
        choices:
          - {key: illness, label: {zh-CN: 疾病}}
          - {key: other, label: {zh-CN: 其他}}
      - {key: person, label: {zh-CN: 当事人}, type: resident}
    seeds: [NH-6, NT-2]
  - code: NH-CL-01
    name: {zh-CN: 残疾人证申领}
    category: disability
    level: department
    department: {zh-CN: 区残联, en: District Disabled Persons' Federation}
    time_limit: 365
    online: true
`

func TestWindowDecodes(t *testing.T) {
	s, errs := loadWindow(t, goodWindow)
	if len(errs) > 0 {
		t.Fatalf("errors:\n  %s", strings.Join(errs, "\n  "))
	}
	w := s.Get("p").Window
	if w == nil || len(w.Categories) != 2 || len(w.Items) != 2 {
		t.Fatalf("window = %+v", w)
	}
	if c, ok := w.Category("civil_affairs"); !ok || c.Label.Get("en") != "Civil affairs" || !slices.Equal(c.Seeds, []string{"NH-6"}) {
		t.Errorf("category civil_affairs = %+v, %v", c, ok)
	}
	if _, ok := w.Category("nope"); ok {
		t.Error("Category(nope) found")
	}
	it, ok := w.Item("NH-MZ-01")
	if !ok {
		t.Fatal("item NH-MZ-01 missing")
	}
	if it.Category != "civil_affairs" || it.Level != policy.LevelTownship || it.TimeLimit != 30 ||
		!it.Agency || it.Online || it.Department != nil || it.Description.Get("zh-CN") != "低保。" {
		t.Errorf("item = %+v", it)
	}
	if len(it.Materials) != 2 || it.Materials[0].Optional || !it.Materials[1].Optional || it.Materials[1].Key != "income_proof" {
		t.Errorf("materials = %+v", it.Materials)
	}
	if len(it.Fields) != 6 {
		t.Fatalf("fields = %+v", it.Fields)
	}
	if f := it.Fields[0]; f.Type != policy.FieldNumber || !f.Required || f.Min != 1 || f.Max != 20 {
		t.Errorf("field 0 = %+v", f)
	}
	if f := it.Fields[2]; f.Type != policy.FieldText || f.MaxLength != 2000 {
		t.Errorf("field 2 = %+v", f)
	}
	if f := it.Fields[3]; f.Type != policy.FieldDate || f.Hint.Get("en") != "大致日期即可" {
		t.Errorf("field 3 = %+v", f)
	}
	if f := it.Fields[4]; f.Type != policy.FieldChoice || len(f.Choices) != 2 || f.Choices[1].Key != "other" || f.Choices[0].Label.Get("zh-CN") != "疾病" {
		t.Errorf("field 4 = %+v", f)
	}
	if f := it.Fields[5]; f.Type != policy.FieldResident || f.Required {
		t.Errorf("field 5 = %+v", f)
	}
	if !slices.Equal(it.Seeds, []string{"NH-6", "NT-2"}) {
		t.Errorf("seeds = %v", it.Seeds)
	}
	it, _ = w.Item("NH-CL-01")
	if it.Level != policy.LevelDepartment || it.Department.Get("en") != "District Disabled Persons' Federation" || !it.Online || it.TimeLimit != 365 {
		t.Errorf("item = %+v", it)
	}
	if _, ok := w.Item("NH-XX-99"); ok {
		t.Error("Item(NH-XX-99) found")
	}
	var nilWindow *policy.Window
	if _, ok := nilWindow.Item("NH-MZ-01"); ok {
		t.Error("nil Window has items")
	}
	if _, ok := nilWindow.Category("civil_affairs"); ok {
		t.Error("nil Window has categories")
	}
}

// TestWindowAbsent: a pack without window.yaml has a nil Window.
func TestWindowAbsent(t *testing.T) {
	s, err := policy.Load(fstest.MapFS{"p/pack.yaml": {Data: []byte(windowPackYAML)}})
	if err != nil {
		t.Fatal(err)
	}
	if w := s.Get("p").Window; w != nil {
		t.Errorf("Window = %+v, want nil", w)
	}
}

func TestWindowErrors(t *testing.T) {
	tests := []struct {
		name   string
		window string
		want   []string
	}{
		{"category key", `categories:
  - {key: Civil, label: {zh-CN: 民政}}
  - {key: civil_affairs, label: {zh-CN: 民政}}
  - {key: civil_affairs, label: {zh-CN: 民政事务}}
  - {key: x, label: {zh-CN: 其他}}
items:
  - {code: NH-1, name: {zh-CN: 一}, category: Civil, level: village, time_limit: 1}
  - {code: NH-2, name: {zh-CN: 二}, category: civil_affairs, level: village, time_limit: 1}
  - {code: NH-3, name: {zh-CN: 三}, category: x, level: village, time_limit: 1}
`, []string{
			`p/window.yaml:2:6: categories[0].key: "Civil" must be lower-case letters, digits and _ (2–40, starting with a letter)`,
			`p/window.yaml:4:6: categories[2].key: category "civil_affairs" is defined twice (also categories[1])`,
			`p/window.yaml:5:6: categories[3].key: "x" must be lower-case letters, digits and _ (2–40, starting with a letter)`,
		}},
		{"category without items", `categories:
  - {key: civil_affairs, label: {zh-CN: 民政}}
  - {key: housing, label: {zh-CN: 房产}}
items:
  - {code: NH-1, name: {zh-CN: 一}, category: civil_affairs, level: village, time_limit: 1}
`, []string{
			`p/window.yaml:3:6: categories[1].key: category "housing" has no items`,
		}},
		{"item code", `categories:
  - {key: civil_affairs, label: {zh-CN: 民政}}
items:
  - {code: nh-1, name: {zh-CN: 一}, category: civil_affairs, level: village, time_limit: 1}
  - {code: NH-1, name: {zh-CN: 二}, category: civil_affairs, level: village, time_limit: 1}
  - {code: NH-1, name: {zh-CN: 三}, category: civil_affairs, level: village, time_limit: 1}
  - {code: N, name: {zh-CN: 四}, category: civil_affairs, level: village, time_limit: 1}
  - {code: NH_1, name: {zh-CN: 五}, category: civil_affairs, level: village, time_limit: 1}
`, []string{
			`p/window.yaml:4:6: items[0].code: "nh-1" must be upper-case letters, digits and - (2–32, starting with a letter)`,
			`p/window.yaml:6:6: items[2].code: item "NH-1" is defined twice (also items[1])`,
			`p/window.yaml:7:6: items[3].code: "N" must be upper-case letters, digits and - (2–32, starting with a letter)`,
			`p/window.yaml:8:6: items[4].code: "NH_1" must be upper-case letters, digits and - (2–32, starting with a letter)`,
		}},
		{"item category", `categories:
  - {key: civil_affairs, label: {zh-CN: 民政}}
items:
  - {code: NH-1, name: {zh-CN: 一}, category: civil_affairs, level: village, time_limit: 1}
  - {code: NH-2, name: {zh-CN: 二}, category: housing, level: village, time_limit: 1}
`, []string{
			`p/window.yaml:5:36: items[1].category: "housing" is not a category of this file`,
		}},
		{"level and department", `categories:
  - {key: civil_affairs, label: {zh-CN: 民政}}
items:
  - code: NH-1
    name: {zh-CN: 一}
    category: civil_affairs
    level: city
    time_limit: 1
  - code: NH-2
    name: {zh-CN: 二}
    category: civil_affairs
    level: department
    time_limit: 1
  - code: NH-3
    name: {zh-CN: 三}
    category: civil_affairs
    level: township
    department: {zh-CN: 镇民政办}
    time_limit: 1
`, []string{
			`p/window.yaml:7:5: items[0].level: "city" is not a level (want one of village, township, county, department)`,
			`p/window.yaml:9:5: items[1].department: required when level is department`,
			`p/window.yaml:18:5: items[2].department: only items with level department name a department (level is township)`,
		}},
		{"time limit", `categories:
  - {key: civil_affairs, label: {zh-CN: 民政}}
items:
  - {code: NH-1, name: {zh-CN: 一}, category: civil_affairs, level: village, time_limit: 0}
  - {code: NH-2, name: {zh-CN: 二}, category: civil_affairs, level: village, time_limit: 366}
  - {code: NH-3, name: {zh-CN: 三}, category: civil_affairs, level: village, time_limit: 365}
  - {code: NH-4, name: {zh-CN: 四}, category: civil_affairs, level: village, time_limit: ten}
`, []string{
			`p/window.yaml:4:77: items[0].time_limit: 0 working days is out of range (1–365)`,
			`p/window.yaml:5:77: items[1].time_limit: 366 working days is out of range (1–365)`,
			`p/window.yaml:7:89: items[3].time_limit: want an integer, got a string`,
		}},
		{"material keys", `categories:
  - {key: civil_affairs, label: {zh-CN: 民政}}
items:
  - code: NH-1
    name: {zh-CN: 一}
    category: civil_affairs
    level: village
    time_limit: 1
    materials:
      - {key: id_card, label: {zh-CN: 居民身份证}}
      - {key: id_card, label: {zh-CN: 户口簿}}
      - {key: 1card, label: {zh-CN: 一卡通}}
      - {key: Hukou, label: {zh-CN: 户口簿}, optional: true}
  - code: NH-2
    name: {zh-CN: 二}
    category: civil_affairs
    level: village
    time_limit: 1
    materials:
      - {key: id_card, label: {zh-CN: 居民身份证}}
`, []string{
			`p/window.yaml:11:10: items[0].materials[1].key: material "id_card" is defined twice (also items[0].materials[0])`,
			`p/window.yaml:12:10: items[0].materials[2].key: "1card" must be lower-case letters, digits and _ (2–40, starting with a letter)`,
			`p/window.yaml:13:10: items[0].materials[3].key: "Hukou" must be lower-case letters, digits and _ (2–40, starting with a letter)`,
		}},
		{"field keys and types", `categories:
  - {key: civil_affairs, label: {zh-CN: 民政}}
items:
  - code: NH-1
    name: {zh-CN: 一}
    category: civil_affairs
    level: village
    time_limit: 1
    fields:
      - {key: reason, label: {zh-CN: 原因}, type: text}
      - {key: reason, label: {zh-CN: 原因}, type: text}
      - {key: Reason2, label: {zh-CN: 原因}, type: text}
      - {key: amount, label: {zh-CN: 金额}, type: money}
      - {key: photo, label: {zh-CN: 照片}}
`, []string{
			`p/window.yaml:11:10: items[0].fields[1].key: field "reason" is defined twice (also items[0].fields[0])`,
			`p/window.yaml:12:10: items[0].fields[2].key: "Reason2" must be lower-case letters, digits and _ (2–40, starting with a letter)`,
			`p/window.yaml:13:43: items[0].fields[3].type: "money" is not a field type (want one of text, number, date, choice, resident)`,
			`p/window.yaml:14:9: items[0].fields[4].type: missing required field`,
		}},
		{"choices", `categories:
  - {key: civil_affairs, label: {zh-CN: 民政}}
items:
  - code: NH-1
    name: {zh-CN: 一}
    category: civil_affairs
    level: village
    time_limit: 1
    fields:
      - {key: none, label: {zh-CN: 无}, type: choice}
      - {key: one, label: {zh-CN: 一个}, type: choice, choices: [{key: only, label: {zh-CN: 唯一}}]}
      - key: dup
        label: {zh-CN: 重复}
        type: choice
        choices:
          - {key: first, label: {zh-CN: 一孩}}
          - {key: first, label: {zh-CN: 二孩}}
          - {key: "2", label: {zh-CN: 二孩}}
      - {key: text, label: {zh-CN: 文本}, type: text, choices: [{key: aa, label: {zh-CN: 甲}}, {key: bb, label: {zh-CN: 乙}}]}
`, []string{
			`p/window.yaml:10:9: items[0].fields[0].choices: a choice field needs at least 2 choices, has 0`,
			`p/window.yaml:11:54: items[0].fields[1].choices: a choice field needs at least 2 choices, has 1`,
			`p/window.yaml:17:14: items[0].fields[2].choices[1].key: choice "first" is defined twice (also items[0].fields[2].choices[0])`,
			`p/window.yaml:18:14: items[0].fields[2].choices[2].key: "2" must be lower-case letters, digits and _ (2–40, starting with a letter)`,
			`p/window.yaml:19:53: items[0].fields[3].choices: only choice fields have choices (type is text)`,
		}},
		{"choices malformed", `categories:
  - {key: civil_affairs, label: {zh-CN: 民政}}
items:
  - code: NH-1
    name: {zh-CN: 一}
    category: civil_affairs
    level: village
    time_limit: 1
    fields:
      - {key: pick, label: {zh-CN: 选择}, type: choice, choices: yes}
`, []string{
			"p/window.yaml:10:64: items[0].fields[0].choices: want a list, got a string",
		}},
		{"number bounds", `categories:
  - {key: civil_affairs, label: {zh-CN: 民政}}
items:
  - code: NH-1
    name: {zh-CN: 一}
    category: civil_affairs
    level: village
    time_limit: 1
    fields:
      - {key: size, label: {zh-CN: 人口}, type: number, min: 20, max: 1}
      - {key: from, label: {zh-CN: 下限}, type: number, min: 1}
      - {key: ok, label: {zh-CN: 正常}, type: number, min: -5, max: 5}
      - {key: equal, label: {zh-CN: 相等}, type: number, min: 5, max: 5}
      - {key: day, label: {zh-CN: 日期}, type: date, min: 1, max: 2}
`, []string{
			`p/window.yaml:10:55: items[0].fields[0].min: min 20 is greater than max 1 (give both bounds; both 0 means unbounded)`,
			`p/window.yaml:11:55: items[0].fields[1].min: min 1 is greater than max 0 (give both bounds; both 0 means unbounded)`,
			`p/window.yaml:14:52: items[0].fields[4].min: only number fields have min (type is date)`,
			`p/window.yaml:14:60: items[0].fields[4].max: only number fields have max (type is date)`,
		}},
		{"max length", `categories:
  - {key: civil_affairs, label: {zh-CN: 民政}}
items:
  - code: NH-1
    name: {zh-CN: 一}
    category: civil_affairs
    level: village
    time_limit: 1
    fields:
      - {key: reason, label: {zh-CN: 原因}, type: text, max_length: 2001}
      - {key: note, label: {zh-CN: 备注}, type: text, max_length: -1}
      - {key: zero, label: {zh-CN: 默认}, type: text, max_length: 0}
      - {key: size, label: {zh-CN: 人口}, type: number, max_length: 10}
`, []string{
			`p/window.yaml:10:55: items[0].fields[0].max_length: 2001 is out of range (0–2000; 0 means 500)`,
			`p/window.yaml:11:53: items[0].fields[1].max_length: -1 is out of range (0–2000; 0 means 500)`,
			`p/window.yaml:13:55: items[0].fields[3].max_length: only text fields have max_length (type is number)`,
		}},
		{"online resident", `categories:
  - {key: civil_affairs, label: {zh-CN: 民政}}
items:
  - code: NH-1
    name: {zh-CN: 一}
    category: civil_affairs
    level: village
    time_limit: 1
    online: true
    fields:
      - {key: elder, label: {zh-CN: 老人}, type: resident, required: true}
`, []string{
			`p/window.yaml:9:5: items[0].online: an online item cannot require a resident field (fields[0] "elder"): Open311 clients cannot name a resident`,
		}},
		{"seeds", `categories:
  - {key: civil_affairs, label: {zh-CN: 民政}, seeds: [NH-6, NH-99]}
items:
  - code: NH-1
    name: {zh-CN: 一}
    category: civil_affairs
    level: village
    time_limit: 1
    seeds: [NT-3, XS6]
`, []string{
			`p/window.yaml:2:60: categories[0].seeds[1]: unknown seed rule id "NH-99"`,
			`p/window.yaml:9:19: items[0].seeds[1]: unknown seed rule id "XS6"`,
		}},
		{"decoder", `categories:
  - {key: civil_affairs, label: {zh-CN: 民政}, colour: red}
items:
  - code: NH-1
    name: {en: One}
    category: civil_affairs
    time_limit: 1
    online: yes
`, []string{
			"p/window.yaml:2:46: categories[0].colour: unknown field",
			"p/window.yaml:4:5: items[0].level: missing required field",
			"p/window.yaml:5:5: items[0].name.zh-CN: missing zh-CN text",
			"p/window.yaml:8:13: items[0].online: want true or false, got a string",
		}},
		{"missing sections", `categories: []
`, []string{
			"p/window.yaml:1:1: items: missing required field",
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s, got := loadWindow(t, tt.window)
			if s != nil {
				t.Errorf("Load returned a set")
			}
			if !slices.Equal(got, tt.want) {
				t.Errorf("errors:\n  %s\nwant:\n  %s", strings.Join(got, "\n  "), strings.Join(tt.want, "\n  "))
			}
		})
	}
}

// TestWindowErrorFields checks the parts of a window error.
func TestWindowErrorFields(t *testing.T) {
	_, err := policy.Load(fstest.MapFS{
		"p/pack.yaml": {Data: []byte(windowPackYAML)},
		"p/window.yaml": {Data: []byte(`categories:
  - {key: civil_affairs, label: {zh-CN: 民政}}
items:
  - {code: NH-1, name: {zh-CN: 一}, category: civil_affairs, level: village, time_limit: 400}
`)},
	})
	errs := loadErrors(t, err)
	if len(errs) != 1 {
		t.Fatalf("errors = %v", errs)
	}
	if e := errs[0]; e.File != "p/window.yaml" || e.Line != 4 || e.Column != 77 || e.Field != "items[0].time_limit" {
		t.Errorf("error = %+v", *e)
	}
}

// TestEmbeddedWindows checks the catalogues shipped with the five packs
// against their seeds.
func TestEmbeddedWindows(t *testing.T) {
	s := mustLoadEmbedded(t)
	// The categories the seed names, in its order (a prefix of the pack's
	// categories: Sha county's seed names five of its eight kinds).
	seedCategories := map[string][]string{
		"nanhai-2009":   {"劳动和就业保障", "综治及流动人口", "安监消防", "民政事务", "计划生育", "国土房产", "物业经营管理", "市政卫生水电"}, // NH-6
		"nantong-2011":  {"居家养老", "关爱救助", "拥军优抚", "信息化", "劳动保障", "教育", "卫生", "文化", "体育", "计划生育"},    // NT-3
		"shaxian-2012":  {"生活", "生产", "就学", "就医", "救助"},                                             // SX-6
		"xishan-2008":   {"便民利民代办服务"},                                                               // XS-6
		"dongguan-2016": {"流动人员和出租屋服务"},                                                             // DG-13
	}
	wantCategories := map[string]int{"nanhai-2009": 8, "nantong-2011": 10, "shaxian-2012": 8}
	prefix := map[string]string{"nanhai-2009": "NH-", "nantong-2011": "NT-", "shaxian-2012": "SX-", "xishan-2008": "XS-", "dongguan-2016": "DG-"}
	for _, p := range s.Packs() {
		w := p.Window
		if w == nil {
			t.Errorf("%s: no window.yaml", p.Name)
			continue
		}
		if n, ok := wantCategories[p.Name]; ok && len(w.Categories) != n {
			t.Errorf("%s: %d categories, want %d", p.Name, len(w.Categories), n)
		}
		for i, label := range seedCategories[p.Name] {
			if i >= len(w.Categories) || w.Categories[i].Label.Get("zh-CN") != label {
				t.Errorf("%s: category %d is not the seed's %s", p.Name, i, label)
			}
		}
		for _, c := range w.Categories {
			if len(c.Seeds) == 0 || c.Label.Get("en") == c.Label.Get("zh-CN") {
				t.Errorf("%s: category %s lacks seeds or an English label", p.Name, c.Key)
			}
		}
		if n := len(w.Items); n < 15 || n > 30 {
			t.Errorf("%s: %d items, want 15-30", p.Name, n)
		}
		for _, it := range w.Items {
			if !strings.HasPrefix(it.Code, prefix[p.Name]) {
				t.Errorf("%s: item %s lacks prefix %s", p.Name, it.Code, prefix[p.Name])
			}
			if it.Name.Get("en") == it.Name.Get("zh-CN") {
				t.Errorf("%s: item %s has no English name", p.Name, it.Code)
			}
			if len(it.Fields) == 0 {
				t.Errorf("%s: item %s has no form fields", p.Name, it.Code)
			}
		}
	}

	nt := s.Get("nantong-2011").Window
	if help, ok := nt.Item("NT-XX-HELP"); !ok || help.Category != "informatisation" || help.TimeLimit > 2 || !help.Online || !slices.Contains(help.Seeds, "NT-2") {
		t.Errorf("nantong-2011: help-call item = %+v, %v", help, ok)
	}
	// Xishan's convenience services go through contracted providers: agency,
	// short time limits (XS-6).
	for _, it := range s.Get("xishan-2008").Window.Items {
		if it.Category == "convenience" && (!it.Agency || it.TimeLimit > 3) {
			t.Errorf("xishan-2008: convenience item %s: agency %v, time limit %d", it.Code, it.Agency, it.TimeLimit)
		}
	}
	// The realistic levels the brief names: dibao decided at the township,
	// the disability certificate by a county department.
	for _, code := range []string{"NH-MZ-01", "NH-MZ-04"} {
		it, _ := s.Get("nanhai-2009").Window.Item(code)
		if want := map[string]string{"NH-MZ-01": policy.LevelTownship, "NH-MZ-04": policy.LevelDepartment}[code]; it.Level != want {
			t.Errorf("nanhai-2009: %s level %q, want %q", code, it.Level, want)
		}
	}
}
