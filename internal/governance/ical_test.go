package governance_test

import (
	"bytes"
	"fmt"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/shequ-platform/shequ/internal/governance"
)

// icalProp is one content line of an iCalendar object, unfolded.
type icalProp struct {
	Name   string
	Params map[string]string
	Value  string
}

// parseICal unfolds and splits an iCalendar object (RFC 5545 3.1) and
// checks its line structure: CRLF endings, no line over 75 octets, no
// fold inside a UTF-8 sequence.
func parseICal(t *testing.T, b []byte) []icalProp {
	t.Helper()
	s := string(b)
	if !strings.HasSuffix(s, "\r\n") {
		t.Fatal("the object does not end with CRLF")
	}
	raw := strings.Split(strings.TrimSuffix(s, "\r\n"), "\r\n")
	var lines []string
	for i, l := range raw {
		if strings.ContainsAny(l, "\r\n") {
			t.Fatalf("line %d holds a bare CR or LF: %q", i, l)
		}
		if len(l) > 75 {
			t.Fatalf("line %d is %d octets: %q", i, len(l), l)
		}
		if !utf8.ValidString(l) {
			t.Fatalf("line %d splits a character: %q", i, l)
		}
		if strings.HasPrefix(l, " ") {
			if len(lines) == 0 {
				t.Fatal("the object starts with a continuation")
			}
			lines[len(lines)-1] += l[1:]
			continue
		}
		lines = append(lines, l)
	}
	out := make([]icalProp, 0, len(lines))
	for _, l := range lines {
		head, value, ok := strings.Cut(l, ":")
		if !ok {
			t.Fatalf("no value: %q", l)
		}
		parts := strings.Split(head, ";")
		p := icalProp{Name: parts[0], Params: map[string]string{}, Value: value}
		for _, kv := range parts[1:] {
			k, v, _ := strings.Cut(kv, "=")
			p.Params[k] = v
		}
		out = append(out, p)
	}
	return out
}

// unescape reads a TEXT value back.
func unescape(s string) string {
	return strings.NewReplacer(`\\`, `\`, `\;`, ";", `\,`, ",", `\n`, "\n", `\N`, "\n").Replace(s)
}

func TestICalWriteCalendar(t *testing.T) {
	updated := time.Date(2026, 9, 20, 8, 30, 0, 0, time.UTC).UnixMilli()
	long := "关于门楼路东段路面硬化、社区健身广场照明改造和老年活动室修缮等三项民生实事的专题会议"
	ms := []governance.Meeting{
		{ID: 7, Title: long, BodyName: "门楼社区居民代表会议", Day: 20261015, StartTime: "19:30", MinutesLen: 90,
			Place: "议事厅; 二楼, 东侧", State: governance.MeetingScheduled, UpdatedAt: updated,
			Agenda: []governance.AgendaItem{{Seq: 1, Title: "路面硬化"}, {Seq: 2, Title: "照明改造"}}},
		{ID: 8, Title: "党支部会议", Day: 20261101, State: governance.MeetingCancelled, UpdatedAt: updated},
	}
	var buf bytes.Buffer
	err := governance.WriteCalendar(&buf, "门楼社区 · 会议", ms, func(m governance.Meeting) string {
		return fmt.Sprintf("https://shequ.example.cn/public/320205001001/meetings/%d", m.ID)
	})
	if err != nil {
		t.Fatal(err)
	}
	props := parseICal(t, buf.Bytes())
	if props[0].Name != "BEGIN" || props[0].Value != "VCALENDAR" || props[len(props)-1].Value != "VCALENDAR" || props[len(props)-1].Name != "END" {
		t.Fatalf("not a calendar: %+v … %+v", props[0], props[len(props)-1])
	}
	// the events, property by property
	var events []map[string]icalProp
	var cur map[string]icalProp
	depth, tz := 0, false
	for _, p := range props {
		switch {
		case p.Name == "BEGIN":
			depth++
			if p.Value == "VEVENT" {
				cur = map[string]icalProp{}
			}
			if p.Value == "VTIMEZONE" {
				tz = true
			}
		case p.Name == "END":
			depth--
			if p.Value == "VEVENT" {
				events = append(events, cur)
				cur = nil
			}
		case cur != nil:
			if _, dup := cur[p.Name]; dup {
				t.Fatalf("%s twice in an event", p.Name)
			}
			cur[p.Name] = p
		}
	}
	if depth != 0 || !tz || len(events) != 2 {
		t.Fatalf("depth %d, timezone %v, %d events", depth, tz, len(events))
	}
	for _, e := range events {
		for _, need := range []string{"UID", "DTSTAMP", "DTSTART", "SUMMARY", "STATUS"} {
			if _, ok := e[need]; !ok {
				t.Fatalf("event without %s: %+v", need, e)
			}
		}
	}
	a, b := events[0], events[1]
	if a["UID"].Value != "meeting-7@shequ.governance" || a["DTSTAMP"].Value != "20260920T083000Z" {
		t.Fatalf("uid/stamp %+v %+v", a["UID"], a["DTSTAMP"])
	}
	if a["DTSTART"].Params["TZID"] != "Asia/Shanghai" || a["DTSTART"].Value != "20261015T193000" || a["DTEND"].Value != "20261015T210000" {
		t.Fatalf("start/end %+v %+v", a["DTSTART"], a["DTEND"])
	}
	if unescape(a["SUMMARY"].Value) != long || unescape(a["LOCATION"].Value) != "议事厅; 二楼, 东侧" || !strings.Contains(a["LOCATION"].Value, `\;`) {
		t.Fatalf("text %q %q", a["SUMMARY"].Value, a["LOCATION"].Value)
	}
	if unescape(a["DESCRIPTION"].Value) != "门楼社区居民代表会议\n1. 路面硬化\n2. 照明改造" || a["STATUS"].Value != "CONFIRMED" {
		t.Fatalf("description %q", a["DESCRIPTION"].Value)
	}
	if a["URL"].Value != "https://shequ.example.cn/public/320205001001/meetings/7" {
		t.Fatalf("url %q", a["URL"].Value)
	}
	// no time: an all-day event; cancelled
	if b["DTSTART"].Params["VALUE"] != "DATE" || b["DTSTART"].Value != "20261101" || b["DTEND"].Value != "20261102" || b["STATUS"].Value != "CANCELLED" {
		t.Fatalf("all-day cancelled %+v", b)
	}
	if !bytes.Contains(buf.Bytes(), []byte("\r\n ")) {
		t.Fatal("the long summary was not folded")
	}
}

func TestICalEmpty(t *testing.T) {
	var buf bytes.Buffer
	if err := governance.WriteCalendar(&buf, "空", nil, nil); err != nil {
		t.Fatal(err)
	}
	props := parseICal(t, buf.Bytes())
	for _, p := range props {
		if p.Name == "BEGIN" && p.Value == "VEVENT" {
			t.Fatal("an event in an empty calendar")
		}
	}
}
