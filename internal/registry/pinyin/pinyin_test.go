package pinyin_test

import (
	"slices"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/shequ-platform/shequ/internal/registry/pinyin"
)

// matches reports whether a search for q finds name the way the registry
// searches: q is normalised with QueryPrefix (a refused query finds nothing)
// and some key k of NameKeys(name) must lie in [prefix, UpperBound(prefix)),
// compared as bytes — what SQLite's BINARY and PostgreSQL's "C" collation do.
func matches(name, q string) (bool, string) {
	p, ok := pinyin.QueryPrefix(q)
	if !ok {
		return false, ""
	}
	hi := pinyin.UpperBound(p)
	for _, k := range pinyin.NameKeys(name) {
		if k >= p && (hi == "" || k < hi) {
			return true, k
		}
	}
	return false, ""
}

type searchCase struct {
	name, q string
	want    bool
}

func runCases(t *testing.T, cases []searchCase) {
	t.Helper()
	for _, c := range cases {
		ok, k := matches(c.name, c.q)
		if ok != c.want {
			if c.want {
				t.Errorf("%s: query %q does not find it; keys %q", c.name, c.q, pinyin.NameKeys(c.name))
			} else {
				t.Errorf("%s: query %q finds it through key %q; keys %q", c.name, c.q, k, pinyin.NameKeys(c.name))
			}
		}
	}
}

// TestSearchByNameAndParts: the whole name, its beginning (two characters
// too) and the given name find a person; one character is not searched.
func TestSearchByNameAndParts(t *testing.T) {
	runCases(t, []searchCase{
		{"张三丰", "张三丰", true},
		{"张三丰", "张三", true},    // first two characters
		{"张三丰", "三丰", true},    // the given name
		{"张三丰", " 张三丰 ", true}, // surrounding spaces
		{"张三丰", "张 三 丰", true}, // spaces typed between characters
		{"张三丰", "张", false},    // one character is refused
		{"张三丰", "丰", false},
		{"张三丰", "张丰", false},  // not a contiguous part
		{"张三丰", "三丰张", false}, // wrong order
		{"张三丰", "张三丰丰", false},
		{"张三丰", "李三丰", false},
		{"欧阳修", "欧阳", true}, // compound surname
		{"欧阳修", "欧阳修", true},
		{"欧阳修", "阳修", false}, // the given name is one character: no given-name key
		{"王小二", "小二", true},
		{"司马相如", "相如", true}, // given name of a compound surname
		{"司马相如", "马相如", false},
		{"李建国平", "国平", true}, // suffixes of the given name of at least two characters
		{"李建国平", "建国平", true},
		{"李建国平", "建国", true}, // prefix of the given name
		{"李建国平", "平", false},
	})
}

func TestSearchByPinyinAndInitials(t *testing.T) {
	runCases(t, []searchCase{
		{"张三丰", "zhangsanfeng", true},
		{"张三丰", "zhang san feng", true},
		{"张三丰", "Zhang San Feng", true},
		{"张三丰", "ZHANGSANFENG", true},
		{"张三丰", "zhangsan", true}, // a prefix of the full pinyin
		{"张三丰", "zhan", true},
		{"张三丰", "sanfeng", true}, // the given name's pinyin
		{"张三丰", "zsf", true},     // initials
		{"张三丰", "ZSF", true},
		{"张三丰", "ＺＳＦ", true}, // full-width letters from a Chinese keyboard
		{"张三丰", "zs", true},  // a prefix of the initials
		{"张三丰", "sf", true},  // the given name's initials
		{"张三丰", "Zhāng Sānfēng", true},
		{"张三丰", "zhang-san-feng", true},
		{"张三丰", "z", false},
		{"张三丰", "feng", false}, // single-character suffix: not a key
		{"张三丰", "zsg", false},
		{"张三丰", "zhangsanfei", false},
		{"张三丰", "zhangsanfengg", false},
		{"张三丰", "fs", false},
		{"张三丰", "sanfengzhang", false},
		{"张三丰", "zangsanfeng", false},
		{"欧阳修", "ouyangxiu", true},
		{"欧阳修", "oyx", true},
		{"欧阳修", "yangxiu", false},
		{"吕布", "lvbu", true}, // ü written as v, as in pinyin input methods
		{"吕布", "lu:bu", true},
		{"吕布", "lǚ bù", true},
		{"吕布", "Lü Bu", true},
		{"吕布", "lubu", true}, // and as u, which clerks type too
		{"吕布", "lb", true},
		{"李娜", "lina", true},
		{"李娜", "ln", true},
		{"王小二", "xiaoer", true},
		{"王小二", "wxe", true},
		{"王小二", "xe", true},
		{"王小二", "yuxiaoer", false}, // 王's rare reading yu is not used
		{"赵明", "zhaoming", true},
		{"赵明", "zhaomeng", false}, // 明's archaic reading meng is not used
		{"张三丰", "xi'an", false},
		{"李西安", "xi'an", true}, // the apostrophe is dropped
	})
}

// TestPolyphonicSurnames: a polyphonic surname is read as a surname (曾
// zeng, 单 shan …) and, because clerks type what they hear or the everyday
// reading, the other reading matches too.
func TestPolyphonicSurnames(t *testing.T) {
	type sur struct {
		name, surname, other, initials string
	}
	for _, c := range []sur{
		{"曾小明", "zengxiaoming", "cengxiaoming", "zxm"},
		{"单田芳", "shantianfang", "dantianfang", "stf"},
		{"解缙", "xiejin", "jiejin", "xj"},
		{"仇英", "qiuying", "chouying", "qy"},
		{"区志坚", "ouzhijian", "quzhijian", "ozj"},
		{"查良镛", "zhaliangyong", "chaliangyong", "zly"},
		{"朴槿惠", "piaojinhui", "pujinhui", "pjh"},
		{"尉迟恭", "yuchigong", "weichigong", "ycg"},
		{"长孙无忌", "zhangsunwuji", "changsunwuji", "zswj"},
		{"乐嘉", "yuejia", "lejia", "yj"},
		{"翟天临", "zhaitianlin", "ditianlin", "ztl"},
		{"覃海", "qinhai", "tanhai", "qh"},
		{"缪斯", "miaosi", "mousi", "ms"},
	} {
		keys := pinyin.NameKeys(c.name)
		// The surname reading is the main reading: it comes right after the
		// name in Han, before any other reading.
		if len(keys) < 3 || keys[0] != c.name || keys[1] != c.surname || keys[2] != c.initials {
			t.Errorf("%s: keys %q; want %q, %q, %q first", c.name, keys, c.name, c.surname, c.initials)
		}
		if i, j := slices.Index(keys, c.surname), slices.Index(keys, c.other); j < 0 || j < i {
			t.Errorf("%s: other reading %q missing or before the surname reading; keys %q", c.name, c.other, keys)
		}
		runCases(t, []searchCase{
			{c.name, c.surname, true},
			{c.name, c.other, true},
			{c.name, c.initials, true},
			{c.name, c.surname[:len(c.surname)-2], true},
		})
		if full := pinyin.Full(c.name); len(full) < 2 || full[0] != c.surname || !slices.Contains(full, c.other) {
			t.Errorf("Full(%s) = %q", c.name, full)
		}
		if ini := pinyin.Initials(c.name); len(ini) == 0 || ini[0] != c.initials {
			t.Errorf("Initials(%s) = %q", c.name, ini)
		}
	}
	// A polyphonic character in the given name is read its common name ways.
	runCases(t, []searchCase{
		{"张乐", "zhangle", true},
		{"张乐", "zhangyue", true},
		{"李长青", "lichangqing", true},
		{"李长青", "lizhangqing", true},
		{"李长青", "changqing", true},
		{"李长青", "zhangqing", true},
		{"李长青", "lcq", true},
		{"李长青", "lzq", true},
		// Where the surname table pins one reading, the rare one does not
		// match (沈 is never chen as a surname).
		{"沈从文", "shencongwen", true},
		{"沈从文", "chencongwen", false},
		// 曾 read as a surname only at the start: 李曾 is li zeng or li ceng.
		{"李曾贤", "lizengxian", true},
		{"李曾贤", "licengxian", true},
		// 单 in the middle of a name is dan first, but shan matches too.
		{"王单一", "wangdanyi", true},
		{"王单一", "wangshanyi", true},
	})
	if k := pinyin.NameKeys("王单一"); slices.Index(k, "wangdanyi") > slices.Index(k, "wangshanyi") {
		t.Errorf("王单一: given-name 单 should read dan first: %q", k)
	}
	// Compound surnames are only recognised with a given name after them.
	if k := pinyin.NameKeys("欧阳"); !slices.Contains(k, "ouyang") {
		t.Errorf("欧阳 alone: %q", k)
	}
}

// TestMiddleDotNames: transliterated minority names (and foreign names
// written in Han) are found by the whole name with or without the dot, by
// each part, and by the pinyin and initials of the whole and each part.
func TestMiddleDotNames(t *testing.T) {
	runCases(t, []searchCase{
		{"买买提·艾力", "买买提·艾力", true},
		{"买买提·艾力", "买买提艾力", true},
		{"买买提·艾力", "买买提・艾力", true}, // katakana middle dot from a Japanese IME
		{"买买提·艾力", "买买提.艾力", true},
		{"买买提·艾力", "买买提", true},
		{"买买提·艾力", "买买", true},
		{"买买提·艾力", "艾力", true},
		{"买买提·艾力", "maimaiti", true},
		{"买买提·艾力", "maimaitiaili", true},
		{"买买提·艾力", "maimaiti aili", true},
		{"买买提·艾力", "aili", true},
		{"买买提·艾力", "mmtal", true},
		{"买买提·艾力", "mmt", true},
		{"买买提·艾力", "al", true},
		{"买买提·艾力", "提艾", false},
		{"买买提·艾力", "艾", false},
		{"买买提·艾力", "ailimaimaiti", false},
		{"买买提·艾力", "艾力买买提", false},
		// No surname rule on a dotted name: 单 is not read shan here.
		{"阿依古丽·吐尔逊", "吐尔逊", true},
		{"阿依古丽·吐尔逊", "tuerxun", true},
		{"阿依古丽·吐尔逊", "ayiguli", true},
		{"阿依古丽·吐尔逊", "aygl", true},
		{"阿依古丽·吐尔逊", "依古丽", false},
		{"爱新觉罗·溥仪", "溥仪", true},
		{"爱新觉罗·溥仪", "aixinjueluo", true},
		{"爱新觉罗·溥仪", "puyi", true},
		{"爱新觉罗·溥仪", "axjlpy", true},
	})
	// The dotted name has no key with a dot in it (queries drop dots).
	for _, k := range pinyin.NameKeys("买买提·艾力") {
		if strings.ContainsAny(k, "·・.") {
			t.Fatalf("key %q holds a dot", k)
		}
	}
}

func TestLatinNames(t *testing.T) {
	runCases(t, []searchCase{
		{"Müller Hans", "müller", true},
		{"Müller Hans", "muller", true},
		{"Müller Hans", "mvller", true},
		{"Müller Hans", "hans", true},
		{"Müller Hans", "MÜLLER HANS", true},
		{"Müller Hans", "hansmuller", false},
		{"Jean-Pierre Dupont", "jean-pierre", true},
		{"Jean-Pierre Dupont", "jeanpierre", true},
		{"Jean-Pierre Dupont", "pierre", true},
		{"Jean-Pierre Dupont", "dupont", true},
		{"José Núñez", "jose nunez", true},
		{"José Núñez", "núñez", true},
		{"O'Brien Liam", "obrien", true},
		{"O'Brien Liam", "o'brien", true},
		{"O'Brien Liam", "liam", true},
	})
	for _, k := range pinyin.NameKeys("José Núñez") {
		if k != strings.ToLower(k) || strings.ContainsAny(k, " '-") {
			t.Fatalf("Latin key %q not folded", k)
		}
	}
}

// TestLongNames: keys and queries are cut at the same rune boundary, so a
// long full pinyin is still found by typing all of it.
func TestLongNames(t *testing.T) {
	name := "庄" + strings.Repeat("双", 29) // 30 characters: 4 + 29*5 = 149 bytes of pinyin
	full := "zhuang" + strings.Repeat("shuang", 29)
	for _, k := range pinyin.NameKeys(name) {
		if len(k) > pinyin.MaxKeyBytes || !utf8.ValidString(k) {
			t.Fatalf("key %q: %d bytes", k, len(k))
		}
	}
	runCases(t, []searchCase{
		{name, full, true},
		{name, full[:pinyin.MaxKeyBytes], true},
		{name, name, true},
		{name, "zhuangshuangshuang", true},
	})
	// A long Han query is cut at a rune boundary, never inside a character.
	long := strings.Repeat("张", 60)
	p, ok := pinyin.QueryPrefix(long)
	if !ok || len(p) > pinyin.MaxKeyBytes || !utf8.ValidString(p) || !strings.HasPrefix(long, p) {
		t.Fatalf("QueryPrefix(60×张) = %q (%d bytes)", p, len(p))
	}
}

func TestNameKeysShape(t *testing.T) {
	if k := pinyin.NameKeys(""); len(k) != 0 {
		t.Fatalf("NameKeys(\"\") = %q", k)
	}
	if k := pinyin.NameKeys(" ·-' "); len(k) != 0 {
		t.Fatalf("punctuation only: %q", k)
	}
	for _, name := range []string{"曾小明", "买买提·艾力", "尉迟恭", "Müller Hans", "张乐", "𠀀𠀁张", "李长乐乐"} {
		keys := pinyin.NameKeys(name)
		seen := map[string]bool{}
		for _, k := range keys {
			if seen[k] {
				t.Errorf("%s: duplicate key %q", name, k)
			}
			seen[k] = true
			if utf8.RuneCountInString(k) < pinyin.MinQueryRunes || len(k) > pinyin.MaxKeyBytes {
				t.Errorf("%s: key %q out of bounds", name, k)
			}
			if p, ok := pinyin.QueryPrefix(k); !ok || p != k {
				t.Errorf("%s: key %q is not its own query prefix (%q, %v): typing a key would not find it", name, k, p, ok)
			}
		}
	}
	// Best first: the name in Han, then its main reading, then initials.
	if k := pinyin.NameKeys("曾小明"); !slices.Equal(k[:3], []string{"曾小明", "zengxiaoming", "zxm"}) {
		t.Fatalf("曾小明 keys %q", k)
	}
	// Readings are capped: a name full of polyphones does not explode.
	k := pinyin.NameKeys("长乐长乐长乐长乐长乐")
	if len(k) > 4*pinyin.MaxReadings+20 {
		t.Fatalf("%d keys for a polyphonic name", len(k))
	}
	// A rare character without a known reading keeps Han keys.
	if k := pinyin.NameKeys("张\U0002A6D6"); len(k) == 0 || k[0] != "张\U0002A6D6" {
		t.Fatalf("rare character: %q", k)
	}
}

func TestQueryPrefix(t *testing.T) {
	for q, want := range map[string]string{
		"zsf":            "zsf",
		"Zhang San Feng": "zhangsanfeng",
		"ZHANG":          "zhang",
		"xi'an":          "xian",
		"lü":             "lv",
		"lu:":            "lv",
		"LÜ":             "lv",
		"nǚ":             "nv",
		"Zēng":           "zeng",
		"ａｂ":             "ab",
		"买买提·艾力":         "买买提艾力",
		"张 三":            "张三",
		"张三丰":            "张三丰",
		"　张三　":           "张三", // ideographic spaces
		"zhang-san":      "zhangsan",
	} {
		if p, ok := pinyin.QueryPrefix(q); !ok || p != want {
			t.Errorf("QueryPrefix(%q) = %q, %v; want %q", q, p, ok, want)
		}
	}
	for _, q := range []string{"", " ", "张", "z", "Z ", "·", "'a'", "- -", "？！"} {
		if p, ok := pinyin.QueryPrefix(q); ok {
			t.Errorf("QueryPrefix(%q) = %q accepted; want refused", q, p)
		}
	}
}

func TestUpperBound(t *testing.T) {
	for p, want := range map[string]string{
		"zsf":                   "zsg",
		"az":                    "a{",
		"张":                     "弡",
		"张三":                    "张上",      // U+4E09 → U+4E0A
		"a\uD7FF":               "a\uE000", // skips the surrogate block
		"a\uFFFF":               "a\U00010000",
		"ab\U0010FFFF":          "ac", // carries past the last code point
		"a\U0010FFFF\U0010FFFF": "b",
		"\U0010FFFF":            "",
		"":                      "",
		"a\x7f":                 "a\u0080", // one byte to two: still the next code point
	} {
		if got := pinyin.UpperBound(p); got != want {
			t.Errorf("UpperBound(%q) = %q, want %q", p, got, want)
		}
	}
	// The range is exactly the strings starting with the prefix.
	p := "zhang"
	hi := pinyin.UpperBound(p)
	for _, s := range []string{"zhang", "zhangsan", "zhang\U0010FFFF", "zhang张"} {
		if !(s >= p && s < hi) {
			t.Errorf("%q should be in [%q, %q)", s, p, hi)
		}
	}
	for _, s := range []string{"zhan", "zhanh", "zhao", "zhanga"[:4], "zhanf\U0010FFFF"} {
		if s >= p && s < hi {
			t.Errorf("%q should not be in [%q, %q)", s, p, hi)
		}
	}
}
