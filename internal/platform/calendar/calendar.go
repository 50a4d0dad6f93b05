// Package calendar is the official working-day calendar of the People's
// Republic of China: Monday to Friday are working days and weekends rest
// days, except for the dates the State Council's yearly notice on holiday
// arrangements names — statutory holidays (holiday, including the weekend days
// inside a holiday period) and weekend days worked in exchange (workday,
// 调休上班). The service window counts its time limits (承诺时限) in these
// working days.
//
// Only the exceptions are stored (table calendar_days). The years 2024–2026
// ship with the binary (data/*.csv) and are seeded at start; administrators
// enter each new year when its notice appears, around November. Dates are
// int YYYYMMDD everywhere.
package calendar

import (
	"bytes"
	"embed"
	"fmt"
	"io/fs"
	"slices"
	"sort"
	"sync"
	"time"
)

// Kinds of entered days.
const (
	// Holiday is a day off: a statutory holiday, or a weekend day inside a
	// holiday period.
	Holiday = "holiday"
	// Workday is a Saturday or Sunday that is an official make-up working day (调休上班).
	Workday = "workday"
)

// Bounds of a plausible date: anything outside is a typing error.
const (
	MinYear = 1900
	MaxYear = 2200
)

// Day is one entered exception to the weekly rhythm.
type Day struct {
	Date int    // YYYYMMDD
	Kind string // Holiday or Workday
	Name string // the festival, e.g. 国庆节; may be empty
}

// Calendar is an immutable snapshot of the entered days; its methods are
// safe for concurrent use. A date in a year that has not been entered (see
// Known) follows the weekly rhythm alone.
type Calendar struct {
	days  map[int]Day // by YYYYMMDD
	order []Day       // by date
	years []int       // ascending, the years with at least one entered day

	// epoch days (days since 1970-01-01) of the exceptions that change the
	// count of working days, ascending: holidays on Monday–Friday and
	// make-up working days on Saturday–Sunday
	offWeekdays, onWeekends []int
}

// NewCalendar builds a snapshot from days. Days with an impossible date or
// an unknown kind are ignored; of several days with the same date, the last
// one counts.
func NewCalendar(days []Day) *Calendar {
	c := &Calendar{days: make(map[int]Day, len(days))}
	for _, d := range days {
		if !validDate(d.Date) || (d.Kind != Holiday && d.Kind != Workday) {
			continue
		}
		c.days[d.Date] = d
	}
	c.order = make([]Day, 0, len(c.days))
	for _, d := range c.days {
		c.order = append(c.order, d)
	}
	sort.Slice(c.order, func(i, j int) bool { return c.order[i].Date < c.order[j].Date })
	for _, d := range c.order {
		if y := d.Date / 10000; len(c.years) == 0 || c.years[len(c.years)-1] != y {
			c.years = append(c.years, y)
		}
		e := epochDay(d.Date)
		switch weekend := isWeekend(e); {
		case d.Kind == Holiday && !weekend:
			c.offWeekdays = append(c.offWeekdays, e)
		case d.Kind == Workday && weekend:
			c.onWeekends = append(c.onWeekends, e)
		}
	}
	return c
}

// IsWorkingDay reports whether day is a working day: a Monday to Friday
// that is not a holiday, or a make-up working day.
func (c *Calendar) IsWorkingDay(day int) bool {
	if d, ok := c.days[day]; ok {
		return d.Kind == Workday
	}
	return !isWeekend(epochDay(day))
}

// maxAdd bounds n in AddWorkingDays: four million years of working days.
const maxAdd = 1 << 30

// AddWorkingDays returns the n-th working day strictly after day (n >= 1):
// a time limit of n working days counted from day ends on the result. For
// n <= 0 it returns day unchanged.
func (c *Calendar) AddWorkingDays(day, n int) int {
	if n <= 0 {
		return day
	}
	n = min(n, maxAdd)
	a := epochDay(day)
	// the count of working days in (a, b] grows with b by one at each
	// working day: find the first b where it reaches n
	lo, step := a, n
	hi := a + step
	for c.count(a, hi) < n {
		lo = hi
		step *= 2
		hi = a + step
	}
	for hi-lo > 1 {
		mid := lo + (hi-lo)/2
		if c.count(a, mid) >= n {
			hi = mid
		} else {
			lo = mid
		}
	}
	return civilDate(hi)
}

// WorkingDaysBetween counts the working days d with from < d <= to: the
// working days used by a case accepted on from and completed on to. It is 0
// when to <= from.
func (c *Calendar) WorkingDaysBetween(from, to int) int {
	a, b := epochDay(from), epochDay(to)
	if b <= a {
		return 0
	}
	return c.count(a, b)
}

// count is the number of working days in the epoch-day range (a, b], a <= b.
func (c *Calendar) count(a, b int) int {
	return weekdaysBefore(b+1) - weekdaysBefore(a+1) -
		countIn(c.offWeekdays, a, b) + countIn(c.onWeekends, a, b)
}

// countIn is the number of elements of the ascending xs in (a, b].
func countIn(xs []int, a, b int) int {
	return sort.SearchInts(xs, b+1) - sort.SearchInts(xs, a+1)
}

// weekdaysBefore counts the Mondays to Fridays before epoch day x, from a
// fixed Monday origin (only differences are meaningful).
func weekdaysBefore(x int) int {
	s := x + 3 // 1970-01-01 was a Thursday: s is 0 on a Monday
	q := floorDiv(s, 7)
	return 5*q + min(s-7*q, 5)
}

// Known reports whether the official calendar of year has been entered,
// that is, whether any day of that year has.
func (c *Calendar) Known(year int) bool {
	_, ok := slices.BinarySearch(c.years, year)
	return ok
}

// Years returns the years that have been entered, ascending.
func (c *Calendar) Years() []int { return slices.Clone(c.years) }

// Day returns the entered exception on day, if any.
func (c *Calendar) Day(day int) (Day, bool) {
	d, ok := c.days[day]
	return d, ok
}

// Year returns the year's entered exceptions in date order.
func (c *Calendar) Year(year int) []Day {
	lo := sort.Search(len(c.order), func(i int) bool { return c.order[i].Date >= year*10000 })
	hi := sort.Search(len(c.order), func(i int) bool { return c.order[i].Date >= (year+1)*10000 })
	return slices.Clone(c.order[lo:hi])
}

//go:embed data/*.csv
var data embed.FS

var shipped = sync.OnceValue(func() []Day {
	files, err := fs.Glob(data, "data/*.csv")
	if err != nil {
		panic(err)
	}
	var out []Day
	seen := map[int]string{}
	for _, f := range files {
		b, err := data.ReadFile(f)
		if err != nil {
			panic(err)
		}
		days, err := ParseCSV(bytes.NewReader(b))
		if err != nil { // embedded: TestShipped rules this out
			panic(fmt.Sprintf("calendar: %s: %v", f, err))
		}
		for _, d := range days {
			if other, dup := seen[d.Date]; dup {
				panic(fmt.Sprintf("calendar: %s: %s is also in %s", f, formatDate(d.Date), other))
			}
			seen[d.Date] = f
		}
		out = append(out, days...)
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Date < out[j].Date })
	return out
})

// Shipped returns the days embedded in the binary (data/*.csv: the State
// Council's notices for 2024–2026), in date order.
func Shipped() []Day { return slices.Clone(shipped()) }

// ---- dates ----

// china is China Standard Time (UTC+8, no daylight saving since 1991).
var china = time.FixedZone("CST", 8*60*60)

// dateOf is t's calendar day as YYYYMMDD.
func dateOf(t time.Time) int { return t.Year()*10000 + int(t.Month())*100 + t.Day() }

// validDate reports whether day is a real YYYYMMDD date between MinYear and MaxYear.
func validDate(day int) bool {
	y, m, d := day/10000, day/100%100, day%100
	if y < MinYear || y > MaxYear || m < 1 || m > 12 || d < 1 {
		return false
	}
	return d <= daysIn(y, m)
}

func daysIn(y, m int) int {
	switch m {
	case 2:
		if y%4 == 0 && (y%100 != 0 || y%400 == 0) {
			return 29
		}
		return 28
	case 4, 6, 9, 11:
		return 30
	}
	return 31
}

// weekday is Monday 0 … Sunday 6 of YYYYMMDD day.
func weekday(day int) int { return weekdayOf(epochDay(day)) }

func weekdayOf(e int) int { return floorMod(e+3, 7) }

func isWeekend(e int) bool { return weekdayOf(e) >= 5 }

// epochDay is the number of days from 1970-01-01 to YYYYMMDD day (proleptic
// Gregorian; H. Hinnant's days_from_civil).
func epochDay(day int) int {
	y, m, d := day/10000, day/100%100, day%100
	if m <= 2 {
		y--
	}
	era := floorDiv(y, 400)
	yoe := y - era*400
	doy := (153*((m+9)%12)+2)/5 + d - 1
	doe := yoe*365 + yoe/4 - yoe/100 + doy
	return era*146097 + doe - 719468
}

// civilDate is the YYYYMMDD date of epoch day e.
func civilDate(e int) int {
	e += 719468
	era := floorDiv(e, 146097)
	doe := e - era*146097
	yoe := (doe - doe/1460 + doe/36524 - doe/146096) / 365
	y := yoe + era*400
	doy := doe - (365*yoe + yoe/4 - yoe/100)
	mp := (5*doy + 2) / 153
	d := doy - (153*mp+2)/5 + 1
	m := mp + 3
	if mp >= 10 {
		m = mp - 9
	}
	if m <= 2 {
		y++
	}
	return y*10000 + m*100 + d
}

func floorDiv(a, b int) int {
	q := a / b
	if (a%b != 0) && ((a < 0) != (b < 0)) {
		q--
	}
	return q
}

func floorMod(a, b int) int { return a - floorDiv(a, b)*b }

// formatDate writes YYYYMMDD as 2006-01-02.
func formatDate(day int) string {
	return fmt.Sprintf("%04d-%02d-%02d", day/10000, day/100%100, day%100)
}

// parseDate reads a date as people type it or spreadsheets write it:
// 2006-01-02, 2006-1-2, 2006/1/2, 2006.1.2, 20060102 or 2006年1月2日. ok is
// false unless it is a real date between MinYear and MaxYear.
func parseDate(s string) (int, bool) {
	for _, layout := range []string{"2006-01-02", "2006-1-2", "2006/01/02", "2006/1/2", "20060102", "2006.1.2", "2006年1月2日"} {
		if t, err := time.Parse(layout, s); err == nil {
			d := dateOf(t)
			return d, validDate(d)
		}
	}
	return 0, false
}
