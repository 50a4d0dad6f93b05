package calendar

import (
	"bytes"
	"encoding/csv"
	"errors"
	"os"
	"slices"
	"strings"
	"testing"

	"golang.org/x/text/encoding/simplifiedchinese"

	"github.com/shequ-platform/shequ/internal/platform/i18n"
)

func TestParseCSVShippedFile(t *testing.T) {
	t.Parallel()
	b, err := os.ReadFile("data/cn-holidays-2024-2026.csv")
	if err != nil {
		t.Fatal(err)
	}
	days, err := ParseCSV(bytes.NewReader(b))
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(days, Shipped()) {
		t.Error("ParseCSV of the shipped file differs from Shipped()")
	}
	// the same as Excel saves it: GBK, CRLF; or UTF-8 with a BOM; Chinese headers
	gbk, err := simplifiedchinese.GBK.NewEncoder().Bytes(bytes.ReplaceAll(b, []byte("\n"), []byte("\r\n")))
	if err != nil {
		t.Fatal(err)
	}
	zh := bytes.Replace(b, []byte("date,kind,name"), []byte("日期,类型,名称"), 1)
	for name, in := range map[string][]byte{"gbk": gbk, "bom": append([]byte("\xEF\xBB\xBF"), b...), "chinese header": zh} {
		got, err := ParseCSV(bytes.NewReader(in))
		if err != nil || !slices.Equal(got, days) {
			t.Errorf("%s: %v", name, err)
		}
	}
}

func TestParseCSV(t *testing.T) {
	t.Parallel()
	got, err := ParseCSV(strings.NewReader("\n日期,类型\n2027/1/1,放假\n\n20270207 , 班 \n2027年2月8日,HOLIDAY\n"))
	want := []Day{{20270101, Holiday, ""}, {20270207, Workday, ""}, {20270208, Holiday, ""}}
	if err != nil || !slices.Equal(got, want) {
		t.Errorf("lenient spellings: %+v %v", got, err)
	}
	got, err = ParseCSV(strings.NewReader("date,kind,name,remark\n2027-01-01,holiday,\"元旦, 新年\",x\n"))
	if err != nil || len(got) != 1 || got[0].Name != "元旦, 新年" {
		t.Errorf("quoted name and an extra column: %+v %v", got, err)
	}

	for _, tc := range []struct {
		name, in      string
		line          int
		field, reason string
		zh, en        string // parts of the messages
	}{
		{"empty file", "", 0, "", ReasonEmpty, "没有任何日期", "no dates"},
		{"header only", "date,kind,name\n", 0, "", ReasonEmpty, "没有任何日期", "no dates"},
		{"no kind column", "date,name\n2027-01-01,元旦\n", 0, FieldKind, ReasonNoColumn, "类型（kind）：表头缺少这一列", "kind: the header lacks"},
		{"date twice in header", "date,kind,日期\n2027-01-01,holiday,x\n", 0, FieldDate, ReasonDupColumn, "日期（date）", "date:"},
		{"bad date", "date,kind,name\n2027-01-01,holiday,元旦\n2027-02-30,holiday,春节\n", 3, FieldDate, ReasonDate,
			"第 3 行“日期（date）”列：“2027-02-30”不是有效的日期", "Line 3, column “date”: “2027-02-30” is not a valid date"},
		{"missing date", "date,kind,name\n,holiday,元旦\n", 2, FieldDate, ReasonMissing, "第 2 行“日期（date）”列：不能为空", "Line 2"},
		{"bad kind", "date,kind,name\n2027-01-01,holiday,元旦\n2027-01-02,休息,元旦\n", 3, FieldKind, ReasonKind,
			"第 3 行“类型（kind）”列：“休息”不是有效的类型", "Line 3, column “kind”"},
		{"short row", "date,kind,name\n2027-01-01\n", 2, FieldKind, ReasonMissing, "第 2 行“类型（kind）”列：不能为空", "must not be empty"},
		{"make-up Monday", "date,kind,name\n2027-01-04,workday,调休\n", 2, FieldDate, ReasonWeekday,
			"第 2 行“日期（date）”列：2027-01-04 是周一至周五中的一天", "Line 2, column “date”: 2027-01-04 is a Monday to Friday"},
		{"duplicate", "date,kind,name\n2027-01-01,holiday,元旦\n2027/1/1,holiday,元旦\n", 3, FieldDate, ReasonDuplicate,
			"第 3 行“日期（date）”列：2027-01-01 出现了不止一次", "appears more than once"},
		{"long name", "date,kind,name\n2027-01-01,holiday," + strings.Repeat("长", 51) + "\n", 2, FieldName, ReasonTooLong,
			"第 2 行“名称（name）”列：名称不能超过 50 个字", "50 characters"},
		{"too many cells", "date,kind,name\n2027-01-01,holiday,元旦,x\n", 2, "", ReasonColumns, "第 2 行：这一行的单元格比表头多", "Line 2: this row"},
		{"bad bytes", "date,kind,name\n2027-01-01,holiday,\xff\xfe\xfd\n", 2, "", ReasonEncoding, "第 2 行：含有无法识别的字符", "Line 2"},
	} {
		_, err := ParseCSV(strings.NewReader(tc.in))
		var fe *FieldError
		if !errors.As(err, &fe) {
			t.Errorf("%s: want a *FieldError, got %v", tc.name, err)
			continue
		}
		if fe.Line != tc.line || fe.Field != tc.field || fe.Reason != tc.reason {
			t.Errorf("%s: got line %d field %q reason %q: %v", tc.name, fe.Line, fe.Field, fe.Reason, fe)
		}
		if zh := fe.Error(); !strings.Contains(zh, tc.zh) {
			t.Errorf("%s: zh-CN %q lacks %q", tc.name, zh, tc.zh)
		}
		if en := fe.Text("en"); !strings.Contains(en, tc.en) {
			t.Errorf("%s: en %q lacks %q", tc.name, en, tc.en)
		}
	}

	var many strings.Builder
	many.WriteString("date,kind\n")
	for i := range MaxRows + 1 {
		many.WriteString(formatDate(civilDate(epochDay(20000101)+i)) + ",holiday\n")
	}
	_, err = ParseCSV(strings.NewReader(many.String()))
	var fe *FieldError
	if !errors.As(err, &fe) || fe.Reason != ReasonTooMany || fe.Line != MaxRows+2 {
		t.Errorf("too many rows: %v", err)
	}
}

// Every reason has a text in every locale, with its verbs filled.
func TestFieldErrorTexts(t *testing.T) {
	t.Parallel()
	reasons := []string{ReasonMissing, ReasonDate, ReasonKind, ReasonWeekday, ReasonDuplicate, ReasonOtherYear, ReasonTooLong,
		ReasonChars, ReasonYear, ReasonEmpty, ReasonLastDay, ReasonNoColumn, ReasonDupColumn, ReasonColumns, ReasonEncoding,
		ReasonFile, ReasonTooMany}
	for _, loc := range i18n.Locales() {
		for _, r := range reasons {
			for _, f := range []string{"", FieldDate, FieldKind, FieldName, FieldYear, FieldFile} {
				txt := (&FieldError{Line: 7, Field: f, Reason: r, Value: "2027-13-01", Year: 2027}).Text(loc)
				if strings.Contains(txt, "calendar.") || strings.Contains(txt, "%!") || !strings.Contains(txt, "7") {
					t.Errorf("%s %s %s: %q", loc, r, f, txt)
				}
			}
		}
	}
}

// FuzzParseCSV: ParseCSV never panics; what it accepts is valid, unique
// and survives being written back out; what it refuses is a *FieldError
// with a message.
func FuzzParseCSV(f *testing.F) {
	shippedCSV, _ := os.ReadFile("data/cn-holidays-2024-2026.csv")
	gbk, _ := simplifiedchinese.GBK.NewEncoder().Bytes(shippedCSV)
	for _, s := range [][]byte{
		shippedCSV, gbk, append([]byte("\xEF\xBB\xBF"), shippedCSV...),
		[]byte("日期,类型,名称\r\n2027/1/1,放假,元旦\r\n2027年2月7日,班,\r\n"),
		[]byte("date;kind;name\n2027-01-01;holiday;\"a;b\"\n"),
		[]byte("date\tkind\n20270101\tworkday\n"),
		[]byte("date,kind,name\n2027-01-01,holiday,\"unclosed\n2027-01-02,holiday,x\n"),
		[]byte("date,kind,name\n2027-01-01,holiday,a,b\n"),
		[]byte("date,date,kind\n"), []byte(""), []byte("\xFF\xFEd\x00a\x00"),
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		days, err := ParseCSV(bytes.NewReader(data))
		if err != nil {
			var fe *FieldError
			if !errors.As(err, &fe) {
				t.Fatalf("not a *FieldError: %v", err)
			}
			if fe.Line < 0 || fe.Error() == "" || fe.Text("en") == "" {
				t.Fatalf("bad error %+v", fe)
			}
			return
		}
		if len(days) == 0 || len(days) > MaxRows {
			t.Fatalf("%d days without an error", len(days))
		}
		seen := map[int]bool{}
		var buf bytes.Buffer
		w := csv.NewWriter(&buf)
		_ = w.Write([]string{"date", "kind", "name"})
		for _, d := range days {
			if c, fe := check(d); fe != nil || c != d {
				t.Fatalf("accepted an invalid day %+v: %v", d, fe)
			}
			if seen[d.Date] {
				t.Fatalf("accepted %d twice", d.Date)
			}
			seen[d.Date] = true
			_ = w.Write([]string{formatDate(d.Date), d.Kind, d.Name})
		}
		w.Flush()
		again, err := ParseCSV(&buf)
		if err != nil || !slices.Equal(again, days) {
			t.Fatalf("round trip: %v\n%+v\n%+v", err, days, again)
		}
	})
}
