package division_test

import (
	"errors"
	"testing"

	"github.com/shequ-platform/shequ/internal/division"
)

func TestParseFormat(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want int64
		ok   bool
	}{
		{"320205", 320205_000_000_000, true},
		{"320205001", 320205_001_000_000, true},
		{"320205001004", 320205_001_004_000, true},
		{"320205001004012", 320205_001_004_012, true},
		{"000000", 0, true},
		{"", 0, false},
		{"32020", 0, false},
		{"3202050", 0, false},
		{"3202050010041", 0, false},
		{"3202050010040120", 0, false},
		{"32020a", 0, false},
		{" 320205", 0, false},
		{"-20205", 0, false},
	} {
		got, err := division.Parse(tc.in)
		if tc.ok != (err == nil) || got != tc.want {
			t.Errorf("Parse(%q) = %d, %v; want %d ok=%v", tc.in, got, err, tc.want, tc.ok)
		}
		if err != nil && !errors.Is(err, division.ErrBadCode) {
			t.Errorf("Parse(%q) error %v does not wrap ErrBadCode", tc.in, err)
		}
	}
	for code, want := range map[int64]string{
		320205_001_004_012: "320205001004012",
		320205_000_000_000: "320205000000000",
		1:                  "000000000000001",
		0:                  "000000000000000",
	} {
		if got := division.Format(code); got != want {
			t.Errorf("Format(%d) = %q, want %q", code, got, want)
		}
		if got, err := division.Parse(want); err != nil || got != code {
			t.Errorf("Parse(Format(%d)) = %d, %v", code, got, err)
		}
	}
	if got := division.Code12(320205_001_004_012); got != 320205_001_004 {
		t.Errorf("Code12 = %d", got)
	}
	if got := division.Format12(320205_001_004_012); got != "320205001004" {
		t.Errorf("Format12 = %q", got)
	}
	if got := division.Sub(320205_001_004_012); got != 12 {
		t.Errorf("Sub = %d", got)
	}
}

func TestSpanRangeLevel(t *testing.T) {
	wantSpan := []int64{1e15, 1e13, 1e11, 1e9, 1e6, 1e3, 1}
	for l, w := range wantSpan {
		if got := division.Span(l); got != w {
			t.Errorf("Span(%d) = %d, want %d", l, got, w)
		}
	}
	if division.Span(-1) != 1e15 || division.Span(7) != 1 {
		t.Error("Span out of range levels")
	}
	for _, tc := range []struct {
		name   string
		code   int64
		level  int
		lo, hi int64
	}{
		{"root", division.Root, 0, 0, 999_999_999_999_999},
		{"root any level", division.Root, 3, 0, 999_999_999_999_999},
		{"province", 320000_000_000_000, 1, 320000_000_000_000, 329999_999_999_999},
		{"prefecture", 320200_000_000_000, 2, 320200_000_000_000, 320299_999_999_999},
		{"county", 320205_000_000_000, 3, 320205_000_000_000, 320205_999_999_999},
		{"township", 320205_001_000_000, 4, 320205_001_000_000, 320205_001_999_999},
		{"village", 320205_001_004_000, 5, 320205_001_004_000, 320205_001_004_999},
		{"grid", 320205_001_004_012, 6, 320205_001_004_012, 320205_001_004_012},
		// 东莞: a prefecture without counties; its townships hang under it.
		{"东莞 prefecture", 441900_000_000_000, 2, 441900_000_000_000, 441999_999_999_999},
		{"东莞 township", 441900_003_000_000, 4, 441900_003_000_000, 441900_003_999_999},
		// 2016 list quirk: 653130103001 三岔口镇 is a level-4 code with village digits.
		{"stray digits", 653130_103_001_000, 4, 653130_103_000_000, 653130_103_999_999},
	} {
		lo, hi := division.Range(tc.code, tc.level)
		if lo != tc.lo || hi != tc.hi {
			t.Errorf("%s: Range(%d, %d) = %d..%d, want %d..%d", tc.name, tc.code, tc.level, lo, hi, tc.lo, tc.hi)
		}
	}
	for code, want := range map[int64]int{
		0:                     0,
		320000_000_000_000:    1,
		320200_000_000_000:    2,
		320205_000_000_000:    3,
		320205_001_000_000:    4,
		320205_001_004_000:    5,
		320205_001_004_012:    6,
		441900_003_000_000:    4,
		1_000_000_000_000_000: 0,
	} {
		if got := division.LevelOf(code); got != want {
			t.Errorf("LevelOf(%d) = %d, want %d", code, got, want)
		}
	}
	if got := division.Truncate(320205_001_004_012, 3); got != 320205_000_000_000 {
		t.Errorf("Truncate = %d", got)
	}
}

func TestKindFromName(t *testing.T) {
	for name, want := range map[string]string{
		"门楼社区居委会": division.KindCommunity,
		"柏庄社区":    division.KindCommunity,
		"海德堡社区居委会（红谷滩新城）": division.KindCommunity,
		"东亭村委会":      division.KindVillage,
		"塔班板嘎查村委员会":  division.KindVillage,
		"伊和布拉格嘎查":    division.KindVillage,
		"张家村":        division.KindVillage,
		"双鸭山农场第一管理区": "",
		"东亭街道":       "",
	} {
		if got := division.KindFromName(name); got != want {
			t.Errorf("KindFromName(%q) = %q, want %q", name, got, want)
		}
	}
}
