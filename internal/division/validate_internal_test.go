package division

import "testing"

// TestValidatorIndex covers the code index across chunks, and its switch
// from sorted search to a map when the file goes out of order.
func TestValidatorIndex(t *testing.T) {
	v := newValidator(10)
	const n = 3*seenChunk + 123
	code := func(i int) int64 { return int64(110000_000_000_000 + 1000*(2*i+1)) }
	for i := 0; i < n; i++ {
		v.add(seenRow{code: code(i), line: int32(i + 2), level: 5})
	}
	check := func() {
		t.Helper()
		for _, i := range []int{0, 1, seenChunk - 1, seenChunk, 2*seenChunk + 7, n - 1} {
			if s, ok := v.lookup(code(i)); !ok || s.line != int32(i+2) {
				t.Fatalf("lookup %d: %+v %v (sorted=%v)", i, s, ok, v.sorted)
			}
			if _, ok := v.lookup(code(i) + 1000); ok { // the even codes in between were never added
				t.Fatalf("phantom %d", i)
			}
		}
		if _, ok := v.lookup(1); ok {
			t.Fatal("phantom below")
		}
		if _, ok := v.lookup(code(n)); ok {
			t.Fatal("phantom above")
		}
	}
	check()
	if !v.sorted {
		t.Fatal("should still be sorted")
	}
	v.add(seenRow{code: code(0) - 1000, line: 1e6, level: 5}) // out of order
	if v.sorted {
		t.Fatal("should have switched to the map")
	}
	check()
	if s, ok := v.lookup(code(0) - 1000); !ok || s.line != 1e6 {
		t.Fatalf("late code: %+v %v", s, ok)
	}
}
