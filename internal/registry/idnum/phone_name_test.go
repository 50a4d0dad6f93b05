package idnum_test

import (
	"testing"
	"unicode/utf8"

	"github.com/shequ-platform/shequ/internal/registry/idnum"
)

func TestNormalizePhone(t *testing.T) {
	ok := map[string]string{
		"13812345678":       "13812345678",
		"138 1234 5678":     "13812345678",
		"138-1234-5678":     "13812345678",
		"138.1234.5678":     "13812345678",
		"+86 138 1234 5678": "13812345678",
		"+8613812345678":    "13812345678",
		"＋８６１３８１２３４５６７８":          "13812345678",
		"0086 13812345678":        "13812345678",
		"8613812345678":           "13812345678",
		"86 138 1234 5678":        "13812345678",
		"(+86) 199 0000 1111":     "19900001111",
		"\u3000１３８１２３４５６７８\u3000": "13812345678",
		"0510-81234567":           "0510-81234567",
		"051081234567":            "0510-81234567",
		"0510 8123 4567":          "0510-81234567",
		"(0510) 81234567":         "0510-81234567",
		"（0510）81234567":          "0510-81234567",
		"0510－81234567":           "0510-81234567",
		"0510-8123-4567":          "0510-81234567",
		"0510-8123456":            "0510-8123456",
		"010-62345678":            "010-62345678",
		"01062345678":             "010-62345678",
		"021 5888 8888":           "021-58888888",
		"0755-2345678":            "0755-2345678",
		"+86 510 8123 4567":       "0510-81234567",
		"+86-10-62345678":         "010-62345678",
		"0086 0510 81234567":      "0510-81234567",
		"0510-81234567-801":       "0510-81234567-801",
		"0510-81234567转801":       "0510-81234567-801",
		"0510-81234567 分机 801":    "0510-81234567-801",
		"0510-81234567 ext. 801":  "0510-81234567-801",
		"0510-81234567 EXT 801":   "0510-81234567-801",
		"0510-81234567x801":       "0510-81234567-801",
		"0510-81234567#801":       "0510-81234567-801",
		"051081234567-801":        "0510-81234567-801",
		"010-2345678-9":           "010-2345678-9",
	}
	for in, want := range ok {
		got, err := idnum.NormalizePhone(in)
		if err != nil || got != want {
			t.Errorf("NormalizePhone(%q) = %q, %v; want %q", in, got, err, want)
			continue
		}
		if again, err := idnum.NormalizePhone(got); err != nil || again != got {
			t.Errorf("not idempotent: %q → %q → %q, %v", in, got, again, err)
		}
	}
	bad := []string{
		"", "   ", "1381234567", "138123456789", "12812345678", "10086", "23812345678",
		"+1 415 555 0100", "+86 12812345678", "13812345678 ext 1", "1381234567a",
		"81234567", "0510-1234567", "0510-0234567", "0510-812345678", "0510-81234567-1234567",
		"0510-81234567转", "0510-81234567转abc", "0110-81234567", "0010-81234567",
		"0510-81234567-801转802", "0510-81-23-4567", "+86+8613812345678", "86-0510-81234567",
		"400-820-8820",
	}
	for _, in := range bad {
		if got, err := idnum.NormalizePhone(in); idnum.CodeOf(err) != idnum.CodePhoneInvalid {
			t.Errorf("NormalizePhone(%q) = %q, %v; want phone_invalid", in, got, err)
		}
	}
}

func TestMaskPhone(t *testing.T) {
	for in, want := range map[string]string{
		"13812345678":       "138****5678",
		"0510-81234567":     "0510-****4567",
		"010-2345678":       "010-***5678",
		"0510-81234567-801": "0510-****4567-801",
		"12":                "**",
		"":                  "",
		"abcdefgh":          "****efgh",
	} {
		if got := idnum.MaskPhone(in); got != want {
			t.Errorf("MaskPhone(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestNames(t *testing.T) {
	norm := map[string]string{
		"张三":                "张三",
		"  张  三 ":           "张三",
		"张\u3000三":          "张三",
		"买买提·艾力":            "买买提·艾力",
		"买买提・艾力":            "买买提·艾力",
		"买买提•艾力":            "买买提·艾力",
		"买买提‧艾力":            "买买提·艾力",
		"买买提･艾力":            "买买提·艾力",
		"买买提 · 艾力":          "买买提·艾力",
		"买买提.艾力":            "买买提·艾力",
		"买买提．艾力":            "买买提·艾力",
		"阿卜杜热西提·买买提·艾力":     "阿卜杜热西提·买买提·艾力",
		"John   Smith":      "John Smith",
		"Ｊｏｈｎ Ｓｍｉｔｈ":        "John Smith",
		"Mary-Jane O’Brien": "Mary-Jane O'Brien",
		"\ufeff李\u200b四":    "李四",
		"J. Smith":          "J. Smith",
		"郑𠈌":                "郑𠈌",
		"José Núñez":        "José Núñez",
	}
	for in, want := range norm {
		if got := idnum.NormalizeName(in); got != want {
			t.Errorf("NormalizeName(%q) = %q, want %q", in, got, want)
		}
	}

	valid := []string{
		"张三", "  张  三 ", "买买提·艾力", "买买提・艾力", "阿卜杜热西提·买买提·艾力", "欧阳娜娜",
		"郑𠈌", "李〇", "John Smith", "Mary-Jane O'Brien", "José Núñez", "Jose\u0301 Nun\u0303ez", "Li",
		"爱新觉罗·溥仪", "一二三四五六七八九十一二三四五六七八九十一二三四五六七八九十",
	}
	for _, in := range valid {
		if err := idnum.ValidName(in); err != nil {
			t.Errorf("ValidName(%q): %v", in, err)
		}
	}
	invalid := map[string]string{
		"":     idnum.CodeNameLength,
		"张":    idnum.CodeNameLength,
		"  张 ": idnum.CodeNameLength,
		"一二三四五六七八九十一二三四五六七八九十一二三四五六七八九十一": idnum.CodeNameLength,
		"张3":          idnum.CodeNameInvalid,
		"张三1":         idnum.CodeNameInvalid,
		"·艾力":         idnum.CodeNameInvalid,
		"买买提·":        idnum.CodeNameInvalid,
		"买买提··艾力":     idnum.CodeNameInvalid,
		"买买提·・艾力":     idnum.CodeNameInvalid,
		"张三!":         idnum.CodeNameInvalid,
		"<b>张三</b>":   idnum.CodeNameInvalid,
		"J. Smith":    idnum.CodeNameInvalid,
		"Иван Петров": idnum.CodeNameInvalid,
		"김민준":         idnum.CodeNameInvalid,
		"-John":       idnum.CodeNameInvalid,
		"John-":       idnum.CodeNameInvalid,
		"\u0301ab":    idnum.CodeNameInvalid,
		"张\u0301三":    idnum.CodeNameInvalid,
		"张三\x00":      idnum.CodeNameInvalid,
		"\xff\xfe":    idnum.CodeNameInvalid,
	}
	for in, code := range invalid {
		if got := idnum.CodeOf(idnum.ValidName(in)); got != code {
			t.Errorf("ValidName(%q) code %q, want %q", in, got, code)
		}
	}
}

// FuzzName: NormalizeName is idempotent, yields valid UTF-8 and never
// panics; ValidName returns only its two codes.
func FuzzName(f *testing.F) {
	for _, s := range []string{"张三", "买买提 ・ 艾力", "John  Smith", "张.三", " . ", "\xff", "a\u0301"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		n := idnum.NormalizeName(s)
		if idnum.NormalizeName(n) != n {
			t.Fatalf("not idempotent: %q → %q → %q", s, n, idnum.NormalizeName(n))
		}
		if utf8.ValidString(s) && !utf8.ValidString(n) {
			t.Fatalf("invalid UTF-8 from %q", s)
		}
		switch c := idnum.CodeOf(idnum.ValidName(s)); c {
		case "", idnum.CodeNameInvalid, idnum.CodeNameLength:
		default:
			t.Fatalf("code %q", c)
		}
	})
}

// FuzzNormalizePhone: never panics; a result normalises to itself and masks
// to the same length.
func FuzzNormalizePhone(f *testing.F) {
	for _, s := range []string{"+86 138 1234 5678", "0510-81234567转801", "(010)62345678", "0510-8123-4567", "x", "--"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		p, err := idnum.NormalizePhone(s)
		if err != nil {
			if idnum.CodeOf(err) != idnum.CodePhoneInvalid {
				t.Fatalf("code of %v", err)
			}
			return
		}
		again, err := idnum.NormalizePhone(p)
		if err != nil || again != p {
			t.Fatalf("%q → %q → %q, %v", s, p, again, err)
		}
		if m := idnum.MaskPhone(p); len(m) != len(p) || m == p {
			t.Fatalf("mask %q of %q", m, p)
		}
	})
}
