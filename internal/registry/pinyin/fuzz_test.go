package pinyin_test

import (
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/shequ-platform/shequ/internal/registry/idnum"
	"github.com/shequ-platform/shequ/internal/registry/pinyin"
)

var fuzzSeeds = []string{
	"张三丰", "曾小明", "单田芳", "尉迟恭", "买买提·艾力", "阿依古丽·吐尔逊", "Müller Hans", "José Núñez",
	"O'Brien Liam", "Jean-Pierre", "长孙无忌", "欧阳", "吕布", "lǚ bù", "xi'an", "ＺＳＦ", "zsf", "张", "",
	"a\uD7FF", "\U0010FFFF", "a\U0010FFFF", "\xff\xfe", "张\u0301三", "ǅemal", "İlhan", "ß", "ﬁ",
	"\u00b7\u00b7", "長孫無忌", "𠀀𠀁张", "长乐长乐长乐长乐长乐长乐长乐长乐", strings.Repeat("庄", 30),
}

// FuzzNameKeys: NameKeys never panics; every key is valid UTF-8 of at least
// MinQueryRunes runes and at most MaxKeyBytes bytes, unique and inside its
// own prefix range; for a valid name every key is its own query prefix and
// the name typed as stored finds itself.
func FuzzNameKeys(f *testing.F) {
	for _, s := range fuzzSeeds {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, name string) {
		keys := pinyin.NameKeys(name)
		seen := map[string]bool{}
		for _, k := range keys {
			if !utf8.ValidString(k) {
				t.Fatalf("NameKeys(%q): invalid UTF-8 key %q", name, k)
			}
			if utf8.RuneCountInString(k) < pinyin.MinQueryRunes || len(k) > pinyin.MaxKeyBytes {
				t.Fatalf("NameKeys(%q): key %q out of bounds", name, k)
			}
			if seen[k] {
				t.Fatalf("NameKeys(%q): duplicate key %q", name, k)
			}
			seen[k] = true
			hi := pinyin.UpperBound(k)
			if !(k >= k && (hi == "" || k < hi)) || hi != "" && !utf8.ValidString(hi) {
				t.Fatalf("NameKeys(%q): key %q outside its range [.., %q)", name, k, hi)
			}
		}
		// For a name the registry accepts (stored as NormalizeName gives
		// it): every key can be typed (it is its own query prefix), and the
		// name typed as stored finds itself.
		stored := idnum.NormalizeName(name)
		if idnum.ValidName(stored) != nil {
			return
		}
		keys = pinyin.NameKeys(stored)
		for _, k := range keys {
			if p, ok := pinyin.QueryPrefix(k); !ok || p != k {
				t.Fatalf("NameKeys(%q): typing key %q gives prefix %q, %v", stored, k, p, ok)
			}
		}
		p, ok := pinyin.QueryPrefix(stored)
		if !ok {
			return
		}
		hi := pinyin.UpperBound(p)
		for _, k := range keys {
			if k >= p && (hi == "" || k < hi) {
				return
			}
		}
		t.Fatalf("stored name %q: query prefix %q matches none of %q", stored, p, keys)
	})
}

// FuzzUpperBound: for a valid prefix, UpperBound is valid UTF-8 and greater,
// and [p, UpperBound(p)) holds exactly the valid strings starting with p.
func FuzzUpperBound(f *testing.F) {
	for _, s := range fuzzSeeds {
		f.Add(s, s+"x")
	}
	f.Add("zhang", "zhanh")
	f.Add("a\uD7FF", "a\uE000")
	f.Add("ab\U0010FFFF", "ac")
	f.Fuzz(func(t *testing.T, p, s string) {
		if q, ok := pinyin.QueryPrefix(p); ok {
			if !utf8.ValidString(q) || utf8.RuneCountInString(q) < pinyin.MinQueryRunes || len(q) > pinyin.MaxKeyBytes {
				t.Fatalf("QueryPrefix(%q) = %q", p, q)
			}
			if hi := pinyin.UpperBound(q); hi <= q || !utf8.ValidString(hi) {
				t.Fatalf("UpperBound(QueryPrefix(%q) = %q) = %q", p, q, hi)
			}
		}
		if !utf8.ValidString(p) || p == "" {
			_ = pinyin.UpperBound(p) // must not panic
			return
		}
		hi := pinyin.UpperBound(p)
		if hi == "" {
			if strings.Trim(p, "\U0010FFFF") != "" {
				t.Fatalf("UpperBound(%q) = \"\" for a prefix with an upper bound", p)
			}
			return
		}
		if hi <= p || !utf8.ValidString(hi) {
			t.Fatalf("UpperBound(%q) = %q: not a valid greater string", p, hi)
		}
		if !utf8.ValidString(s) {
			return
		}
		in := s >= p && s < hi
		if in != strings.HasPrefix(s, p) {
			t.Fatalf("s=%q p=%q hi=%q: in range %v, has prefix %v", s, p, hi, in, !in)
		}
		if sp := p + s; !(sp >= p && sp < hi) {
			t.Fatalf("%q (prefix %q) outside [%q, %q)", sp, p, p, hi)
		}
	})
}
