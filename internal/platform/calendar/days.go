package calendar

import (
	"strings"
	"time"
)

// China is the time zone days are counted in (UTC+8, no daylight saving).
var China = time.FixedZone("CST", 8*3600)

// DayOf is the day (YYYYMMDD) t falls on in China.
func DayOf(t time.Time) int { return dateOf(t.In(China)) }

// ParseDay reads a date as people type it or spreadsheets write it
// (2006-01-02, 2006/1/2, 20060102, 2006年1月2日, …) as YYYYMMDD; ok is false
// unless it is a real date between MinYear and MaxYear.
func ParseDay(s string) (int, bool) { return parseDate(strings.TrimSpace(s)) }

// FormatDay writes a YYYYMMDD day as 2006-01-02 ("" for 0).
func FormatDay(day int) string {
	if day == 0 {
		return ""
	}
	return formatDate(day)
}

// AddDays is the calendar day n days after day (n may be negative).
func AddDays(day, n int) int { return civilDate(epochDay(day) + n) }

// DaysBetween is the number of calendar days from a to b (negative when b
// is before a).
func DaysBetween(a, b int) int { return epochDay(b) - epochDay(a) }

// Weekday is day's weekday, 0 for Monday … 6 for Sunday.
func Weekday(day int) int { return weekday(day) }
