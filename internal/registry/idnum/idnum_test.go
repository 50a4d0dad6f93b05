package idnum_test

import (
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/shequ-platform/shequ/internal/registry/idnum"
)

// Every number here is synthetic: an area code, a date and a sequence, with
// the check digit computed by the test's own implementation of MOD 11-2.

var today = time.Date(2026, 11, 23, 15, 0, 0, 0, time.FixedZone("CST", 8*3600))

// checkDigit is an independent MOD 11-2 (ISO 7064): sum of a_i·2^(17-i).
func checkDigit(body string) string {
	sum := 0
	w := 1 << 17
	for i := 0; i < 17; i++ {
		sum += int(body[i]-'0') * (w % 11)
		w >>= 1
	}
	c := (12 - sum%11) % 11
	if c == 10 {
		return "X"
	}
	return fmt.Sprint(c)
}

// make18 builds a number from area, birth date (YYYYMMDD) and 3-digit sequence.
func make18(area int, birth string, seq int) string {
	body := fmt.Sprintf("%06d%s%03d", area, birth, seq)
	return body + checkDigit(body)
}

// withX finds a sequence whose check digit is X.
func withX(t *testing.T, area int, birth string) string {
	for seq := 0; seq < 1000; seq++ {
		if n := make18(area, birth, seq); n[17] == 'X' {
			return n
		}
	}
	t.Fatal("no sequence gives X")
	return ""
}

func date(y, m, d int) time.Time { return time.Date(y, time.Month(m), d, 0, 0, 0, 0, time.UTC) }

func TestCheckDigitMatchesIndependent(t *testing.T) {
	for seq := 0; seq < 1000; seq += 7 {
		n := make18(320205, "19850714", seq)
		if got := string(idnum.CheckDigit(n)); got != n[17:] {
			t.Fatalf("%s: CheckDigit %s", n, got)
		}
	}
}

func TestParseValid(t *testing.T) {
	male := make18(320205, "19850714", 123)   // 17th digit 3: male
	female := make18(320205, "19850714", 124) // 4: female
	x := withX(t, 110105, "20000229")
	leap := make18(650102, "20000229", 11)
	old := make18(320205, "19000101", 1)
	born := make18(440305, "20261123", 2)
	legacy15 := "320205850714123"

	tests := []struct {
		name, in, want string
		area           int
		birth          time.Time
		male, upgraded bool
	}{
		{"plain male", male, male, 320205, date(1985, 7, 14), true, false},
		{"plain female", female, female, 320205, date(1985, 7, 14), false, false},
		{"X check", x, x, 110105, date(2000, 2, 29), x[16]%2 == 1, false},
		{"lower x", strings.ToLower(x), x, 110105, date(2000, 2, 29), x[16]%2 == 1, false},
		{"full-width", toFullWidth(x), x, 110105, date(2000, 2, 29), x[16]%2 == 1, false},
		{"spaces", " " + male[:6] + " " + male[6:14] + "\u3000" + male[14:] + "\t", male, 320205, date(1985, 7, 14), true, false},
		{"zero-width", "\ufeff" + male + "\u200b", male, 320205, date(1985, 7, 14), true, false},
		{"leap day", leap, leap, 650102, date(2000, 2, 29), true, false},
		{"1900-01-01", old, old, 320205, date(1900, 1, 1), true, false},
		{"born today", born, born, 440305, date(2026, 11, 23), false, false},
		{"hong kong", make18(810000, "19900101", 5), make18(810000, "19900101", 5), 810000, date(1990, 1, 1), true, false},
		{"taiwan permit", make18(830000, "19900101", 6), make18(830000, "19900101", 6), 830000, date(1990, 1, 1), false, false},
		{"legacy 15", legacy15, make18(320205, "19850714", 123), 320205, date(1985, 7, 14), true, true},
		{"legacy 15 spaced", "320205 850714 124", make18(320205, "19850714", 124), 320205, date(1985, 7, 14), false, true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			id, err := idnum.Parse(tc.in, today)
			if err != nil {
				t.Fatalf("Parse(%q): %v", tc.in, err)
			}
			want := idnum.ID{Number: tc.want, Area: tc.area, Birth: tc.birth, Male: tc.male, Upgraded: tc.upgraded}
			if id != want {
				t.Fatalf("Parse(%q) = %+v, want %+v", tc.in, id, want)
			}
		})
	}
}

func toFullWidth(s string) string {
	var b strings.Builder
	for _, r := range s {
		switch {
		case r >= '0' && r <= '9':
			b.WriteRune('０' + r - '0')
		case r == 'X':
			b.WriteRune('Ｘ')
		default:
			b.WriteRune(r)
		}
	}
	return b.String()
}

func TestParseErrors(t *testing.T) {
	good := make18(320205, "19850714", 123)
	wrongCheck := good[:17] + map[bool]string{true: "1", false: "0"}[good[17] == '0']
	swapped := good[:14] + good[15:16] + good[14:15] + good[16:] // transposed sequence digits

	tests := []struct{ name, in, code string }{
		{"empty", "", idnum.CodeLength},
		{"17 digits", good[:17], idnum.CodeLength},
		{"19 digits", good + "1", idnum.CodeLength},
		{"16 digits", good[:16], idnum.CodeLength},
		{"huge", strings.Repeat("1", 1000), idnum.CodeLength},
		{"letter", good[:10] + "A" + good[11:], idnum.CodeChars},
		{"dash", good[:6] + "-" + good[6:], idnum.CodeChars},
		{"X inside", good[:10] + "X" + good[11:], idnum.CodeChars},
		{"X in 15", "32020585071412X", idnum.CodeChars},
		{"checksum", wrongCheck, idnum.CodeChecksum},
		{"transposed", swapped, idnum.CodeChecksum},
		{"30 February", make18(320205, "19900230", 1), idnum.CodeDate},
		{"29 February common year", make18(320205, "19900229", 1), idnum.CodeDate},
		{"month 13", make18(320205, "19901301", 1), idnum.CodeDate},
		{"month 0", make18(320205, "19900001", 1), idnum.CodeDate},
		{"day 0", make18(320205, "19900100", 1), idnum.CodeDate},
		{"day 32", make18(320205, "19900132", 1), idnum.CodeDate},
		{"before 1900", make18(320205, "18991231", 1), idnum.CodeDate},
		{"15-digit bad date", "320205850230123", idnum.CodeDate},
		{"tomorrow", make18(320205, "20261124", 1), idnum.CodeFuture},
		{"far future", make18(320205, "20990101", 1), idnum.CodeFuture},
		{"area 00", make18(5, "19900101", 1), idnum.CodeArea},
		{"area 10", make18(100000, "19900101", 1), idnum.CodeArea},
		{"area 16", make18(160000, "19900101", 1), idnum.CodeArea},
		{"area 72", make18(720000, "19900101", 1), idnum.CodeArea},
		{"area 99", make18(990000, "19900101", 1), idnum.CodeArea},
		{"15-digit area", "990000850714123", idnum.CodeArea},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := idnum.Parse(tc.in, today)
			var e *idnum.Error
			if !errors.As(err, &e) || e.Code != tc.code {
				t.Fatalf("Parse(%q) = %v, want code %q", tc.in, err, tc.code)
			}
			if idnum.CodeOf(fmt.Errorf("wrapped: %w", err)) != tc.code || e.Error() == "" {
				t.Fatalf("CodeOf / Error() for %v", err)
			}
		})
	}
}

func TestProvinceCodes(t *testing.T) {
	valid := map[int]bool{}
	for _, r := range [][2]int{{11, 15}, {21, 23}, {31, 37}, {41, 46}, {50, 54}, {61, 65}, {71, 71}, {81, 83}} {
		for p := r[0]; p <= r[1]; p++ {
			valid[p] = true
		}
	}
	for p := 0; p < 100; p++ {
		_, err := idnum.Parse(make18(p*10000+101, "19900101", 1), today)
		if (err == nil) != valid[p] {
			t.Errorf("province %02d: err %v", p, err)
		}
	}
}

func TestCheckArea(t *testing.T) {
	id, err := idnum.Parse(make18(320202, "19700101", 1), today)
	if err != nil {
		t.Fatal(err)
	}
	known := func(a int) bool { return a == 320213 }
	if idnum.CodeOf(idnum.CheckArea(id, known)) != idnum.CodeAreaUnknown {
		t.Fatal("320202 should be unknown")
	}
	if err := idnum.CheckArea(id, func(a int) bool { return a == 320202 }); err != nil {
		t.Fatal(err)
	}
	if err := idnum.CheckArea(id, nil); err != nil {
		t.Fatal(err)
	}
}

func TestCrossCheck(t *testing.T) {
	id, err := idnum.Parse(make18(320205, "19850714", 123), today)
	if err != nil {
		t.Fatal(err)
	}
	yes, no := true, false
	shanghai := time.FixedZone("CST", 8*3600)
	tests := []struct {
		name  string
		birth time.Time
		male  *bool
		code  string
	}{
		{"both match", date(1985, 7, 14), &yes, ""},
		{"other location same date", time.Date(1985, 7, 14, 23, 30, 0, 0, shanghai), &yes, ""},
		{"nothing typed", time.Time{}, nil, ""},
		{"birth wrong", date(1985, 7, 15), &yes, idnum.CodeBirthMismatch},
		{"gender wrong", date(1985, 7, 14), &no, idnum.CodeGenderMismatch},
		{"both wrong: birth first", date(1986, 7, 14), &no, idnum.CodeBirthMismatch},
		{"only gender typed, wrong", time.Time{}, &no, idnum.CodeGenderMismatch},
	}
	for _, tc := range tests {
		if got := idnum.CodeOf(idnum.CrossCheck(id, tc.birth, tc.male)); got != tc.code {
			t.Errorf("%s: code %q, want %q", tc.name, got, tc.code)
		}
	}
}

func TestAgeOn(t *testing.T) {
	id, _ := idnum.Parse(make18(320205, "19850714", 123), today)
	leap, _ := idnum.Parse(make18(320205, "20000229", 1), today)
	tests := []struct {
		id   idnum.ID
		day  time.Time
		want int
	}{
		{id, date(2025, 7, 13), 39},
		{id, date(2025, 7, 14), 40},
		{id, date(1985, 7, 14), 0},
		{leap, date(2001, 2, 28), 0},
		{leap, date(2001, 3, 1), 1},
		{leap, date(2004, 2, 29), 4},
	}
	for _, tc := range tests {
		if got := tc.id.AgeOn(tc.day); got != tc.want {
			t.Errorf("%s on %s: %d, want %d", tc.id.Number, tc.day.Format("2006-01-02"), got, tc.want)
		}
	}
}

func TestMaskID(t *testing.T) {
	n := withX(t, 320205, "19850714")
	if got, want := idnum.MaskID(n), "320205********"+n[14:]; got != want || !strings.HasSuffix(got, "X") {
		t.Fatalf("MaskID(%s) = %s, want %s", n, got, want)
	}
	for in, want := range map[string]string{"": "", "123": "***", "1234567890": "**********", "12345678901": "123456*8901"} {
		if got := idnum.MaskID(in); got != want {
			t.Errorf("MaskID(%q) = %q, want %q", in, got, want)
		}
	}
}

// FuzzParse: Parse never panics, and anything it accepts is canonical: the
// Number parses to the same ID (minus Upgraded), is 18 characters, carries a
// correct check digit and masks to 18 characters.
func FuzzParse(f *testing.F) {
	for _, s := range []string{
		make18(320205, "19850714", 123), make18(110105, "20000229", 7), "320205850714123",
		"32020519850714123x", "３２０２０５１９８５０７１４１２３Ｘ", " 320205 19850714 1234 ",
		make18(320205, "19900230", 1), make18(990000, "19900101", 1), make18(320205, "20991231", 1),
		"", "X", "xxxxxxxxxxxxxxxxxx", "\xff\xfe", "000000000000000", "99999999999999999X",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		id, err := idnum.Parse(s, today)
		if err != nil {
			if idnum.CodeOf(err) == "" {
				t.Fatalf("untyped error %v", err)
			}
			if id != (idnum.ID{}) {
				t.Fatalf("error with a non-zero ID %+v", id)
			}
			return
		}
		if len(id.Number) != 18 || string(idnum.CheckDigit(id.Number)) != id.Number[17:] {
			t.Fatalf("bad Number %q", id.Number)
		}
		again, err := idnum.Parse(id.Number, today)
		if err != nil {
			t.Fatalf("Number %q of %q does not parse: %v", id.Number, s, err)
		}
		id.Upgraded = false
		if again != id {
			t.Fatalf("round trip of %q: %+v then %+v", s, id, again)
		}
		if id.Birth.After(today) || id.Birth.Year() < 1900 || id.Birth.Location() != time.UTC {
			t.Fatalf("birth %v", id.Birth)
		}
		if m := idnum.MaskID(id.Number); len(m) != 18 || strings.Count(m, "*") != 8 {
			t.Fatalf("mask %q", m)
		}
	})
}
