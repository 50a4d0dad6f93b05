package disclosure_test

import (
	"testing"

	"github.com/shequ-platform/shequ/internal/disclosure"
)

func TestParseYuan(t *testing.T) {
	for _, c := range []struct {
		in   string
		fen  int64
		code string
	}{
		{"1234", 123400, ""},
		{"1234.5", 123450, ""},
		{"1,234.56", 123456, ""},
		{" ¥1 234.56 ", 123456, ""},
		{"0.01", 1, ""},
		{".5", 50, ""},
		{"12.", 1200, ""},
		{"12.300", 1230, ""},
		{"100000000000", 10000000000000, ""},
		{"", 0, "required"},
		{"  ", 0, "required"},
		{"0", 0, "zero"},
		{"0.00", 0, "zero"},
		{"-0", 0, "zero"},
		{"-12", 0, "negative"},
		{"-0.01", 0, "negative"},
		{"1.234", 0, "decimals"},
		{"0.001", 0, "decimals"},
		{"12a", 0, "amount"},
		{"1.2.3", 0, "amount"},
		{".", 0, "amount"},
		{"1e5", 0, "amount"},
		{"100000000001", 0, "too_large"},
		{"9999999999999999999", 0, "too_large"},
	} {
		fen, code := disclosure.ParseYuan(c.in)
		if fen != c.fen || code != c.code {
			t.Errorf("ParseYuan(%q) = %d, %q; want %d, %q", c.in, fen, code, c.fen, c.code)
		}
	}
}

func TestFormatYuan(t *testing.T) {
	for fen, want := range map[int64]string{0: "0.00", 5: "0.05", 123456: "1,234.56", -5: "-0.05", 100000000: "1,000,000.00", 99: "0.99"} {
		if got := disclosure.FormatYuan(fen); got != want {
			t.Errorf("FormatYuan(%d) = %q, want %q", fen, got, want)
		}
	}
	if got := disclosure.YuanInput(123450); got != "1234.50" {
		t.Errorf("YuanInput = %q", got)
	}
}

func TestPeriods(t *testing.T) {
	for _, c := range []struct {
		key, every   string
		from, to     int
		prev, next   string
		zh, en       string
		containsDay  int
		containsNext bool
	}{
		{"2026-11", "month", 20261101, 20261130, "2026-10", "2026-12", "2026年11月", "Nov 2026", 20261123, false},
		{"2026-02", "month", 20260201, 20260228, "2026-01", "2026-03", "2026年2月", "Feb 2026", 20260228, false},
		{"2024-02", "month", 20240201, 20240229, "2024-01", "2024-03", "2024年2月", "Feb 2024", 20240229, false},
		{"2026-01", "month", 20260101, 20260131, "2025-12", "2026-02", "2026年1月", "Jan 2026", 20260101, false},
		{"2026-Q4", "quarter", 20261001, 20261231, "2026-Q3", "2027-Q1", "2026年第四季度", "Q4 2026", 20261123, false},
		{"2026-Q1", "quarter", 20260101, 20260331, "2025-Q4", "2026-Q2", "2026年第一季度", "Q1 2026", 20260315, false},
		{"2026-H2", "half_year", 20260701, 20261231, "2026-H1", "2027-H1", "2026年下半年", "H2 2026", 20260701, false},
		{"2026", "year", 20260101, 20261231, "2025", "2027", "2026年", "2026", 20261231, false},
	} {
		p, ok := disclosure.ParsePeriod(c.key)
		if !ok || p.Every != c.every || p.Key() != c.key || p.From() != c.from || p.To() != c.to ||
			p.Prev().Key() != c.prev || p.Next().Key() != c.next || p.Label("zh-CN") != c.zh || p.Label("en") != c.en {
			t.Errorf("%s: %+v ok=%v from %d to %d prev %s next %s %q %q", c.key, p, ok, p.From(), p.To(), p.Prev().Key(), p.Next().Key(),
				p.Label("zh-CN"), p.Label("en"))
		}
		if q := disclosure.PeriodOf(c.every, c.containsDay); q != p {
			t.Errorf("PeriodOf(%s, %d) = %+v, want %+v", c.every, c.containsDay, q, p)
		}
	}
	for _, bad := range []string{"", "2026-13", "2026-00", "2026-1", "2026-Q5", "2026-Q0", "2026-H3", "26-11", "2026-", "2026-Qx", "abcd", "1800"} {
		if p, ok := disclosure.ParsePeriod(bad); ok {
			t.Errorf("ParsePeriod(%q) = %+v, want refused", bad, p)
		}
	}
	q4, _ := disclosure.ParsePeriod("2026-Q4")
	nov, _ := disclosure.ParsePeriod("2026-11")
	sep, _ := disclosure.ParsePeriod("2026-09")
	year, _ := disclosure.ParsePeriod("2026")
	if !q4.Covers(nov) || q4.Covers(sep) || nov.Covers(q4) || !year.Covers(q4) || !nov.Covers(nov) {
		t.Fatal("Covers")
	}
	if got := disclosure.PeriodLabel("2026-Q4", "zh-CN"); got != "2026年第四季度" {
		t.Fatal(got)
	}
	if got := disclosure.PeriodLabel("", "zh-CN"); got != "" {
		t.Fatal(got)
	}
}
