package calendar

import (
	"math/rand/v2"
	"slices"
	"testing"
	"time"
)

// official is the calendar of the shipped notices (2024–2026).
func official(t testing.TB) *Calendar {
	t.Helper()
	return NewCalendar(Shipped())
}

func TestShipped(t *testing.T) {
	t.Parallel()
	days := Shipped()
	if len(days) != 108 {
		t.Errorf("%d shipped days, want the 108 rows of cn-holidays-2024-2026.csv", len(days))
	}
	for i, d := range days {
		if _, fe := check(d); fe != nil {
			t.Errorf("%+v: %v", d, fe)
		}
		if i > 0 && days[i-1].Date >= d.Date {
			t.Errorf("not in date order at %d", d.Date)
		}
	}
	c := official(t)
	if got := c.Years(); !slices.Equal(got, []int{2024, 2025, 2026}) {
		t.Errorf("Years() = %v", got)
	}
	for y, want := range map[int]bool{2023: false, 2024: true, 2025: true, 2026: true, 2027: false} {
		if c.Known(y) != want {
			t.Errorf("Known(%d) = %v", y, !want)
		}
	}
	if d, ok := c.Day(20241001); !ok || d != (Day{20241001, Holiday, "国庆节"}) {
		t.Errorf("Day(20241001) = %+v, %v", d, ok)
	}
	if d, ok := c.Day(20250928); !ok || d != (Day{20250928, Workday, "国庆节、中秋节调休上班"}) {
		t.Errorf("Day(20250928) = %+v, %v", d, ok)
	}
	if _, ok := c.Day(20241008); ok {
		t.Error("2024-10-08 is an ordinary day")
	}
	// counted by hand from the CSV
	for y, n := range map[int]int{2024: 36, 2025: 33, 2026: 39, 2027: 0} {
		if got := c.Year(y); len(got) != n {
			t.Errorf("Year(%d) has %d days, want %d", y, len(got), n)
		}
	}
	if y := c.Year(2026); y[0].Date != 20260101 || y[len(y)-1].Date != 20261010 {
		t.Errorf("Year(2026) runs %d–%d", y[0].Date, y[len(y)-1].Date)
	}
	// a returned slice is a copy
	y := c.Year(2024)
	y[0].Name = "x"
	if d, _ := c.Day(20240101); d.Name != "元旦" {
		t.Error("Year returned the calendar's own slice")
	}
}

func TestIsWorkingDay(t *testing.T) {
	t.Parallel()
	c := official(t)
	for _, tc := range []struct {
		day  int
		want bool
	}{
		{20240101, false}, // 元旦, Monday
		{20240102, true},
		{20240203, false}, // Saturday
		{20240204, true},  // Sunday, 春节调休上班
		{20240209, true},  // Friday before the festival
		{20240210, false}, // Saturday inside the festival
		{20240212, false}, // Monday, 春节
		{20240218, true},  // Sunday, 调休上班
		{20240219, true},
		{20241005, false}, // Saturday, 国庆节
		{20241007, false}, // Monday, 国庆节
		{20241008, true},
		{20241012, true},  // Saturday, 调休上班
		{20241013, false}, // Sunday
		{20250126, true},  // Sunday, 调休上班
		{20250204, false}, // Tuesday, 春节
		{20250208, true},  // Saturday, 调休上班
		{20251008, false}, // Wednesday, 国庆节、中秋节
		{20251011, true},  // Saturday, 调休上班
		{20260104, true},  // Sunday, 元旦调休上班
		{20260223, false}, // Monday, 春节
		{20260228, true},  // Saturday, 调休上班
		{20260925, false}, // Friday, 中秋节
		{20261010, true},  // Saturday, 调休上班
		{20270101, true},  // a Friday in a year not entered: the weekly rhythm only
		{20270102, false}, // Saturday
	} {
		if got := c.IsWorkingDay(tc.day); got != tc.want {
			t.Errorf("IsWorkingDay(%d) = %v", tc.day, got)
		}
	}
}

// The expectations are counted by hand on the shipped CSV.
func TestAddWorkingDays(t *testing.T) {
	t.Parallel()
	c := official(t)
	for _, tc := range []struct {
		name   string
		day, n int
		want   int
	}{
		{"n=0 is the day itself", 20240210, 0, 20240210},
		{"negative n", 20240205, -3, 20240205},
		{"ordinary week", 20240102, 3, 20240105},
		{"over a weekend", 20240105, 1, 20240108},

		// 2024 春节: Sun 02-04 worked, Sat 02-10 … Sat 02-17 off, Sun 02-18 worked
		{"2024 Friday to make-up Sunday", 20240202, 1, 20240204},
		{"2024 from a make-up Sunday", 20240204, 1, 20240205},
		{"2024 eve of the festival", 20240209, 1, 20240218},
		{"2024 eve, two days", 20240209, 2, 20240219},
		{"2024 from a holiday", 20240212, 1, 20240218},
		{"2024 from a holiday, three days", 20240212, 3, 20240220},
		{"2024 from the last make-up Sunday", 20240218, 5, 20240223},
		{"2024 ten days across the festival", 20240205, 10, 20240223},
		// 2024 中秋节 and 国庆节: Sat 09-14 worked, 09-15…09-17 off, Sun 09-29 worked,
		// 10-01…10-07 off, Sat 10-12 worked
		{"2024 to the 中秋 make-up Saturday", 20240913, 1, 20240914},
		{"2024 over 中秋", 20240913, 2, 20240918},
		{"2024 to the 国庆 make-up Sunday", 20240927, 1, 20240929},
		{"2024 from the make-up Sunday", 20240929, 1, 20240930},
		{"2024 over the golden week", 20240929, 2, 20241008},
		{"2024 to the make-up Saturday after", 20240930, 5, 20241012},
		{"2024 from a 国庆 holiday", 20241003, 1, 20241008},

		// 2025 春节: Sun 01-26 worked, Tue 01-28 … Tue 02-04 off, Sat 02-08 worked
		{"2025 to the make-up Sunday", 20250124, 1, 20250126},
		{"2025 over the festival", 20250124, 3, 20250205},
		{"2025 eve of the festival", 20250127, 1, 20250205},
		{"2025 from a holiday to the make-up Saturday", 20250130, 4, 20250208},
		{"2025 from the make-up Saturday", 20250208, 1, 20250210},
		{"2025 ten days across the festival", 20250120, 10, 20250208},
		// 2025 国庆节、中秋节: Sun 09-28 worked, Wed 10-01 … Wed 10-08 off, Sat 10-11 worked
		{"2025 to the make-up Sunday", 20250926, 1, 20250928},
		{"2025 over the eight days", 20250926, 4, 20251009},
		{"2025 eve of the holiday", 20250930, 1, 20251009},
		{"2025 to the make-up Saturday", 20250930, 3, 20251011},
		{"2025 past the make-up Saturday", 20250930, 4, 20251013},
		{"2025 from the first holiday", 20251001, 1, 20251009},

		// year ends
		{"2023 (not entered) into 2024 元旦", 20231231, 1, 20240102},
		{"2024 into 2025 元旦", 20241231, 1, 20250102},
		{"2025 into 2026 元旦 and its make-up Sunday", 20251231, 1, 20260104},
		{"2025 last working days", 20251230, 1, 20251231},
		{"2025 into 2026, three days", 20251231, 3, 20260106},
		{"2026 into 2027 (not entered)", 20261231, 1, 20270101},

		// 2026 春节: Sat 02-14 worked, Sun 02-15 … Mon 02-23 off, Sat 02-28 worked
		{"2026 to the make-up Saturday", 20260213, 1, 20260214},
		{"2026 over nine days off", 20260213, 2, 20260224},
		{"2026 from the make-up Saturday", 20260214, 1, 20260224},
		{"2026 from a holiday to the make-up Saturday", 20260218, 5, 20260228},
		{"2026 from the last make-up Saturday", 20260228, 1, 20260302},
		{"2026 ten days across the festival", 20260209, 10, 20260228},
		// 2026 中秋节 and 国庆节: Sun 09-20 worked, Fri 09-25 … Sun 09-27 off,
		// Thu 10-01 … Wed 10-07 off, Sat 10-10 worked
		{"2026 to the make-up Sunday", 20260918, 1, 20260920},
		{"2026 over 中秋", 20260924, 1, 20260928},
		{"2026 over both holidays", 20260924, 5, 20261009},
		{"2026 eve of 国庆", 20260930, 1, 20261008},
		{"2026 to the make-up Saturday", 20260930, 3, 20261010},
		{"2026 past the make-up Saturday", 20260930, 4, 20261012},

		{"a whole year of 2025", 20241231, 248, 20251231},
		{"a whole year of 2026", 20251231, 248, 20261231},
	} {
		if got := c.AddWorkingDays(tc.day, tc.n); got != tc.want {
			t.Errorf("%s: AddWorkingDays(%d, %d) = %d, want %d", tc.name, tc.day, tc.n, got, tc.want)
		}
	}
}

func TestWorkingDaysBetween(t *testing.T) {
	t.Parallel()
	c := official(t)
	for _, tc := range []struct {
		name     string
		from, to int
		want     int
	}{
		{"same day", 20240205, 20240205, 0},
		{"backwards", 20240210, 20240205, 0},
		{"one ordinary day", 20240205, 20240206, 1},
		{"a weekend", 20240105, 20240107, 0},

		{"2024 February", 20240201, 20240229, 17},
		{"2024 eve to make-up Sunday", 20240209, 20240218, 1},
		{"2024 inside the festival", 20240210, 20240217, 0},
		{"2024 golden week", 20240930, 20241013, 5},
		{"2024 whole year", 20231231, 20241231, 251},

		{"2025 inside the festival", 20250127, 20250204, 0},
		{"2025 make-up Sunday to after", 20250126, 20250205, 2},
		{"2025 eight days off", 20250930, 20251008, 0},
		{"2025 to the make-up Saturday", 20250930, 20251012, 3},
		{"2025 whole year", 20241231, 20251231, 248},

		{"2024 into 2025", 20241227, 20250103, 4},
		{"2025 into 2026", 20251231, 20260105, 2},
		{"2023 (not entered) into 2024", 20231229, 20240102, 1},
		{"2026 into 2027 (not entered)", 20261231, 20270108, 6},

		{"2026 eve to make-up", 20260213, 20260223, 1},
		{"2026 February", 20260131, 20260228, 16},
		{"2026 golden week", 20260930, 20261007, 0},
		{"2026 whole year", 20251231, 20261231, 248},
		{"three years", 20231231, 20261231, 251 + 248 + 248},
	} {
		if got := c.WorkingDaysBetween(tc.from, tc.to); got != tc.want {
			t.Errorf("%s: WorkingDaysBetween(%d, %d) = %d, want %d", tc.name, tc.from, tc.to, got, tc.want)
		}
	}
}

// naive counts working days one by one.
func naiveBetween(c *Calendar, from, to int) int {
	n := 0
	for e := epochDay(from) + 1; e <= epochDay(to); e++ {
		if c.IsWorkingDay(civilDate(e)) {
			n++
		}
	}
	return n
}

func naiveAdd(c *Calendar, day, n int) int {
	e := epochDay(day)
	for n > 0 {
		e++
		if c.IsWorkingDay(civilDate(e)) {
			n--
		}
	}
	return civilDate(e)
}

// AddWorkingDays and WorkingDaysBetween agree with each other and with
// counting day by day, on the official calendar and on random ones
// (including make-up days on weekdays and holidays on weekends, which
// NewCalendar accepts).
func TestArithmeticProperties(t *testing.T) {
	t.Parallel()
	rng := rand.New(rand.NewPCG(2024, 2026))
	randomDay := func(lo, hi int) int { return civilDate(epochDay(lo) + rng.IntN(epochDay(hi)-epochDay(lo)+1)) }
	cals := []*Calendar{official(t), NewCalendar(nil)}
	for range 5 {
		var days []Day
		for range rng.IntN(300) {
			kind := Holiday
			if rng.IntN(3) == 0 {
				kind = Workday
			}
			days = append(days, Day{Date: randomDay(20230101, 20271231), Kind: kind})
		}
		cals = append(cals, NewCalendar(days))
	}
	for ci, c := range cals {
		for range 2000 {
			day := randomDay(20221201, 20280131)
			n := rng.IntN(300)
			got := c.AddWorkingDays(day, n)
			if n == 0 {
				if got != day {
					t.Fatalf("cal %d: AddWorkingDays(%d, 0) = %d", ci, day, got)
				}
				continue
			}
			if want := naiveAdd(c, day, n); got != want {
				t.Fatalf("cal %d: AddWorkingDays(%d, %d) = %d, counting gives %d", ci, day, n, got, want)
			}
			if !c.IsWorkingDay(got) {
				t.Fatalf("cal %d: AddWorkingDays(%d, %d) = %d is no working day", ci, day, n, got)
			}
			if b := c.WorkingDaysBetween(day, got); b != n {
				t.Fatalf("cal %d: WorkingDaysBetween(%d, AddWorkingDays(…, %d) = %d) = %d", ci, day, n, got, b)
			}
			if b := c.WorkingDaysBetween(day, civilDate(epochDay(got)-1)); b != n-1 {
				t.Fatalf("cal %d: the day before AddWorkingDays(%d, %d) = %d already has %d working days", ci, day, n, got, b)
			}
			to := randomDay(20221201, 20280131)
			if got, want := c.WorkingDaysBetween(day, to), naiveBetween(c, day, to); got != want {
				t.Fatalf("cal %d: WorkingDaysBetween(%d, %d) = %d, counting gives %d", ci, day, to, got, want)
			}
			// splitting a range adds up
			if mid := randomDay(20221201, 20280131); day <= mid && mid <= to {
				if c.WorkingDaysBetween(day, mid)+c.WorkingDaysBetween(mid, to) != c.WorkingDaysBetween(day, to) {
					t.Fatalf("cal %d: (%d, %d] does not split at %d", ci, day, to, mid)
				}
			}
		}
	}
}

func TestLargeN(t *testing.T) {
	t.Parallel()
	c := official(t)
	// 2027 onwards follows the weekly rhythm: 5 working days a week
	got := c.AddWorkingDays(20261231, 5*52*100)
	if want := naiveAdd(c, 20261231, 5*52*100); got != want {
		t.Errorf("100 years: %d, counting gives %d", got, want)
	}
	if got := c.AddWorkingDays(20240101, 1<<62); got <= 20240101 {
		t.Errorf("huge n: %d", got)
	}
}

func TestDates(t *testing.T) {
	t.Parallel()
	start := time.Date(1899, 12, 1, 0, 0, 0, 0, time.UTC)
	for i := 0; i < 120000; i += 7 {
		tm := start.AddDate(0, 0, i)
		d := dateOf(tm)
		e := epochDay(d)
		if want := int(tm.Unix() / 86400); e != want {
			t.Fatalf("epochDay(%d) = %d, want %d", d, e, want)
		}
		if civilDate(e) != d {
			t.Fatalf("civilDate(%d) = %d, want %d", e, civilDate(e), d)
		}
		if wd := (int(tm.Weekday()) + 6) % 7; weekday(d) != wd {
			t.Fatalf("weekday(%d) = %d, want %d", d, weekday(d), wd)
		}
	}
	for _, tc := range []struct {
		s    string
		want int
		ok   bool
	}{
		{"2026-10-01", 20261001, true},
		{"2026-1-4", 20260104, true},
		{"2026/1/4", 20260104, true},
		{"2026/01/04", 20260104, true},
		{"20260104", 20260104, true},
		{"2026.1.4", 20260104, true},
		{"2026年1月4日", 20260104, true},
		{"2026-02-29", 0, false},
		{"2024-02-29", 20240229, true},
		{"1899-12-31", 18991231, false},
		{"2201-01-01", 22010101, false},
		{"01/04/2026", 0, false},
		{"", 0, false},
	} {
		got, ok := parseDate(tc.s)
		if ok != tc.ok || (ok && got != tc.want) {
			t.Errorf("parseDate(%q) = %d, %v", tc.s, got, ok)
		}
	}
	for d, ok := range map[int]bool{20240229: true, 20230229: false, 21000229: false, 20000229: true, 20261131: false, 20261200: false, 20261301: false, 0: false} {
		if validDate(d) != ok {
			t.Errorf("validDate(%d) = %v", d, !ok)
		}
	}
}

func TestNewCalendarIgnoresBadDays(t *testing.T) {
	t.Parallel()
	c := NewCalendar([]Day{
		{20260230, Holiday, "bad date"},
		{20260302, "rest", "bad kind"},
		{20260303, Holiday, "first"},
		{20260303, Holiday, "second"},
	})
	if c.Known(2026) != true || len(c.Year(2026)) != 1 {
		t.Fatalf("Year(2026) = %+v", c.Year(2026))
	}
	if d, _ := c.Day(20260303); d.Name != "second" {
		t.Errorf("the last of two days with one date should count, got %q", d.Name)
	}
	if !c.IsWorkingDay(20260302) {
		t.Error("a day of unknown kind changed the calendar")
	}
}
