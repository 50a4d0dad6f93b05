package division

import (
	"errors"
	"fmt"

	"github.com/shequ-platform/shequ/internal/platform/ids"
)

// Division codes are 15-digit integers: the 12-digit statistical code
// (2 province + 2 prefecture + 2 county + 3 township + 3 village digits)
// times 1000 plus a 3-digit part for units below a village (grids, villager
// groups, buildings). A subtree is the numeric range [code, code+Span(level)-1].

// Levels. Grids, villager groups and buildings are all LevelGrid and differ
// by Kind.
const (
	LevelProvince   = 1
	LevelPrefecture = 2
	LevelCounty     = 3
	LevelTownship   = 4
	LevelVillage    = 5
	LevelGrid       = 6
)

// Root is the whole country: Range(Root, 0) is [0, MaxCode].
const Root int64 = 0

// MaxCode is the largest 15-digit code.
const MaxCode = ids.Max

// Span is the number of 15-digit codes in the subtree of a unit of the given
// level: province 10^13, prefecture 10^11, county 10^9, township 10^6,
// village 10^3, grid 1; level 0 (or less) is the whole country, 10^15.
func Span(level int) int64 { return ids.Span(level) }

// Range returns the subtree of code as an inclusive numeric range. Pass the
// unit's stored level, not one inferred from its parent: the townships of
// 东莞/中山/儋州 hang directly under a level-2 parent but are still level 4.
// The low end is code truncated to the level, so a unit whose code carries
// stray digits below its level (a known quirk of some published lists) still
// covers its children. Range(Root, 0) is the whole country.
func Range(code int64, level int) (lo, hi int64) {
	if code <= 0 {
		return 0, MaxCode
	}
	s := Span(level)
	lo = code - code%s
	return lo, lo + s - 1
}

// Truncate returns the code of the level-l ancestor position of code, that
// is, code with every digit below level l set to zero. It is arithmetic only:
// the result may not exist (see Store.Ancestors for the stored chain).
func Truncate(code int64, level int) int64 {
	s := Span(level)
	return code - code%s
}

// LevelOf returns the level implied by the digits of a 15-digit code (the
// deepest non-zero segment), or 0 for Root or an out-of-range code.
func LevelOf(code int64) int {
	if code > MaxCode {
		return 0
	}
	return ids.Level(code)
}

// Code12 returns the 12-digit statistical part of a 15-digit code.
func Code12(code int64) int64 { return code / 1000 }

// Sub returns the 3-digit sub-village part of a 15-digit code (0 for units
// of level 1-5).
func Sub(code int64) int { return int(code % 1000) }

// Format writes a code as 15 digits, zero-padded.
func Format(code int64) string { return fmt.Sprintf("%015d", code) }

// Format12 writes the 12-digit statistical code.
func Format12(code int64) string { return fmt.Sprintf("%012d", code/1000) }

// ErrBadCode is returned (wrapped) by Parse.
var ErrBadCode = errors.New("bad division code")

// Parse reads a code of 6 (county), 9 (township), 12 (statistical) or 15
// digits and right-pads it with zeros to the 15-digit form. It checks the
// syntax only; the code need not exist.
func Parse(s string) (int64, error) {
	switch len(s) {
	case 6, 9, 12, 15:
	default:
		return 0, fmt.Errorf("%w %q: want 6, 9, 12 or 15 digits", ErrBadCode, s)
	}
	var n int64
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c < '0' || c > '9' {
			return 0, fmt.Errorf("%w %q: not all digits", ErrBadCode, s)
		}
		n = n*10 + int64(c-'0')
	}
	for i := len(s); i < 15; i++ {
		n *= 10
	}
	return n, nil
}
