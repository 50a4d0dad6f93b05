package governance

import (
	"bufio"
	"fmt"
	"io"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/shequ-platform/shequ/internal/platform/calendar"
)

// iCalendar (RFC 5545) feeds of meetings: one per body for staff, one per
// village on the public portal (its public bodies' meetings). Times are
// local to China, written with TZID=Asia/Shanghai and the zone's
// definition (UTC+8, no daylight saving since 1991) so every client reads
// them alike; a meeting without a start time is an all-day event.

// icalZone is the VTIMEZONE of Asia/Shanghai.
var icalZone = []string{
	"BEGIN:VTIMEZONE",
	"TZID:Asia/Shanghai",
	"BEGIN:STANDARD",
	"DTSTART:19700101T000000",
	"TZOFFSETFROM:+0800",
	"TZOFFSETTO:+0800",
	"TZNAME:CST",
	"END:STANDARD",
	"END:VTIMEZONE",
}

// CalendarContentType is the media type of WriteCalendar's output.
const CalendarContentType = "text/calendar; charset=utf-8"

// WriteCalendar writes meetings as an iCalendar object named name. url,
// when not nil, gives each meeting's page (URL property). Cancelled
// meetings are written with STATUS:CANCELLED so clients remove them.
func WriteCalendar(w io.Writer, name string, ms []Meeting, url func(Meeting) string) error {
	bw := bufio.NewWriter(w)
	line := func(s string) { writeFolded(bw, s) }
	line("BEGIN:VCALENDAR")
	line("VERSION:2.0")
	line("PRODID:-//Shequ//Governance//ZH")
	line("CALSCALE:GREGORIAN")
	line("METHOD:PUBLISH")
	line("X-WR-CALNAME:" + icalText(name))
	line("X-WR-TIMEZONE:Asia/Shanghai")
	for _, l := range icalZone {
		line(l)
	}
	for _, m := range ms {
		line("BEGIN:VEVENT")
		line("UID:meeting-" + strconv.FormatInt(m.ID, 10) + "@shequ.governance")
		stamp := time.UnixMilli(m.UpdatedAt).UTC()
		if m.UpdatedAt == 0 {
			stamp = time.UnixMilli(m.CreatedAt).UTC()
		}
		line("DTSTAMP:" + stamp.Format("20060102T150405Z"))
		line("LAST-MODIFIED:" + stamp.Format("20060102T150405Z"))
		if start, ok := meetingStart(m); ok {
			end := start.Add(time.Duration(max(m.MinutesLen, 1)) * time.Minute)
			line("DTSTART;TZID=Asia/Shanghai:" + start.Format("20060102T150405"))
			line("DTEND;TZID=Asia/Shanghai:" + end.Format("20060102T150405"))
		} else {
			line("DTSTART;VALUE=DATE:" + strconv.Itoa(m.Day))
			line("DTEND;VALUE=DATE:" + strconv.Itoa(calendar.AddDays(m.Day, 1)))
		}
		line("SUMMARY:" + icalText(m.Title))
		if m.Place != "" {
			line("LOCATION:" + icalText(m.Place))
		}
		var desc []string
		if m.BodyName != "" {
			desc = append(desc, m.BodyName)
		}
		for _, a := range m.Agenda {
			desc = append(desc, fmt.Sprintf("%d. %s", a.Seq, a.Title))
		}
		if len(desc) > 0 {
			line("DESCRIPTION:" + icalText(strings.Join(desc, "\n")))
		}
		if url != nil {
			if u := url(m); u != "" {
				line("URL:" + u)
			}
		}
		switch m.State {
		case MeetingCancelled:
			line("STATUS:CANCELLED")
		default:
			line("STATUS:CONFIRMED")
		}
		line("END:VEVENT")
	}
	line("END:VCALENDAR")
	return bw.Flush()
}

// meetingStart is a meeting's start in China (ok false without a time).
func meetingStart(m Meeting) (time.Time, bool) {
	if len(m.StartTime) != 5 {
		return time.Time{}, false
	}
	hh, err1 := strconv.Atoi(m.StartTime[:2])
	mm, err2 := strconv.Atoi(m.StartTime[3:])
	if err1 != nil || err2 != nil {
		return time.Time{}, false
	}
	return time.Date(m.Day/10000, time.Month(m.Day/100%100), m.Day%100, hh, mm, 0, 0, calendar.China), true
}

// icalText escapes a TEXT value (RFC 5545 3.3.11).
func icalText(s string) string {
	s = strings.ReplaceAll(s, "\r\n", "\n")
	return strings.NewReplacer(`\`, `\\`, ";", `\;`, ",", `\,`, "\n", `\n`, "\r", `\n`).Replace(s)
}

// writeFolded writes a content line ending in CRLF, folded so that no
// line is longer than 75 octets (a continuation starts with a space),
// never inside a UTF-8 sequence.
func writeFolded(w *bufio.Writer, s string) {
	limit := 75
	for len(s) > limit {
		cut := limit
		for cut > 0 && !utf8.RuneStart(s[cut]) {
			cut--
		}
		w.WriteString(s[:cut])
		w.WriteString("\r\n ")
		s = s[cut:]
		limit = 74 // the leading space counts
	}
	w.WriteString(s)
	w.WriteString("\r\n")
}
