package ids

import "testing"

func TestLevelsAndRanges(t *testing.T) {
	for _, c := range []struct {
		code   int64
		level  int
		lo, hi int64
	}{
		{0, 0, 0, Max},
		{320000000000000, 1, 320000000000000, 329999999999999},
		{320200000000000, 2, 320200000000000, 320299999999999},
		{320205000000000, 3, 320205000000000, 320205999999999},
		{320205001000000, 4, 320205001000000, 320205001999999},
		{320205001004000, 5, 320205001004000, 320205001004999},
		{320205001004012, 6, 320205001004012, 320205001004012},
		{441900003000000, 4, 441900003000000, 441900003999999}, // 东莞 township under a prefecture
	} {
		if l := Level(c.code); l != c.level {
			t.Errorf("Level(%d) = %d, want %d", c.code, l, c.level)
		}
		if lo, hi := Subtree(c.code); lo != c.lo || hi != c.hi {
			t.Errorf("Subtree(%d) = %d..%d", c.code, lo, hi)
		}
	}
	if !Contains(320205000000000, 320205001004012) || Contains(320205001000000, 320205002000001) {
		t.Fatal("Contains")
	}
}
