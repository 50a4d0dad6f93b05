package money

import "testing"

func TestParseAndFormat(t *testing.T) {
	for _, c := range []struct {
		in   string
		fen  int64
		code string
	}{
		{"1234", 123400, ""}, {"1,234.5", 123450, ""}, {"¥1 234.56", 123456, ""}, {"800元", 80000, ""},
		{"12.300", 1230, ""}, {"", 0, Required}, {"0", 0, Zero}, {"-3", 0, Negative}, {"1.234", 0, Decimals},
		{"abc", 0, NaN}, {"1.2.3", 0, NaN}, {"1234567890123", 0, TooLarge}, {"100000000001", 0, TooLarge},
	} {
		if fen, code := Parse(c.in); fen != c.fen || code != c.code {
			t.Errorf("Parse(%q) = %d %q, want %d %q", c.in, fen, code, c.fen, c.code)
		}
	}
	for fen, want := range map[int64]string{123456: "1,234.56", -5: "-0.05", 0: "0.00", 100000000: "1,000,000.00"} {
		if got := Format(fen); got != want {
			t.Errorf("Format(%d) = %q, want %q", fen, got, want)
		}
	}
	if Input(123450) != "1234.50" || Input(0) != "" {
		t.Error("Input")
	}
}
