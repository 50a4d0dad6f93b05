// Package ids holds the arithmetic of Shequ's 15-digit division codes: the
// 12-digit statistical code (统计用区划代码) × 1000 plus a 3-digit part for
// grids, villager groups and buildings. A subtree is a numeric range, which
// is how every scope check and every roll-up is expressed.
package ids

// Max is the largest 15-digit code; the whole country is [0, Max].
const Max int64 = 999_999_999_999_999

// Level of a code inferred from its trailing zero groups: 1 province,
// 2 prefecture, 3 county, 4 township, 5 village, 6 grid (or group, building);
// 0 for the root (code 0). Townships of prefectures without counties (东莞,
// 中山, 儋州) are still level 4 because their township digits are non-zero.
func Level(code int64) int {
	switch {
	case code <= 0:
		return 0
	case code%1_000 != 0:
		return 6
	case code%1_000_000 != 0:
		return 5
	case code%1_000_000_000 != 0:
		return 4
	case code%100_000_000_000 != 0:
		return 3
	case code%10_000_000_000_000 != 0:
		return 2
	default:
		return 1
	}
}

// Span is the number of codes in a subtree rooted at the given level.
func Span(level int) int64 {
	switch {
	case level <= 0:
		return Max + 1
	case level == 1:
		return 10_000_000_000_000
	case level == 2:
		return 100_000_000_000
	case level == 3:
		return 1_000_000_000
	case level == 4:
		return 1_000_000
	case level == 5:
		return 1_000
	default: // 6 and deeper
		return 1
	}
}

// Subtree returns the inclusive range of codes under code (itself included).
func Subtree(code int64) (lo, hi int64) {
	if code <= 0 {
		return 0, Max
	}
	return code, code + Span(Level(code)) - 1
}

// Contains reports whether code lies in the subtree of root.
func Contains(root, code int64) bool {
	lo, hi := Subtree(root)
	return code >= lo && code <= hi
}

// County returns the county (level-3) position of a code: its first six
// digits followed by zeros. Large tables keep it as their distribution key.
func County(code int64) int64 { return code - code%Span(3) }
