package tabular

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"reflect"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/xuri/excelize/v2"
	"golang.org/x/text/encoding/simplifiedchinese"
	"golang.org/x/text/encoding/unicode"
)

type readRow struct {
	Row  []string
	Line int
	Err  error
}

func (r readRow) String() string { return fmt.Sprintf("{%q line %d err %v}", r.Row, r.Line, r.Err) }

// readAll reads every row, keeping row errors.
func readAll(t *testing.T, r Reader) []readRow {
	t.Helper()
	var out []readRow
	for {
		row, line, err := r.Next()
		if err == io.EOF {
			return out
		}
		if err != nil && !IsRowError(err) {
			t.Fatalf("fatal error after %d rows: %v", len(out), err)
		}
		out = append(out, readRow{row, line, err})
	}
}

const registryCSV = "姓名,公民身份号码,联系电话,住址\r\n" +
	"张三,320205199001011234,13800138000,锡山区东亭街道\r\n" +
	"李四 , 32020519851231002X ,\"0510-8888 8888\",\"安镇街道, 3号\"\r\n"

func TestCSVEncodings(t *testing.T) {
	gbk, err := simplifiedchinese.GBK.NewEncoder().Bytes([]byte(registryCSV))
	if err != nil {
		t.Fatal(err)
	}
	u16, err := unicode.UTF16(unicode.LittleEndian, unicode.UseBOM).NewEncoder().Bytes([]byte(strings.ReplaceAll(registryCSV, ",", "\t")))
	if err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		name, enc string
		data      []byte
	}{
		{"utf8", "UTF-8", []byte(registryCSV)},
		{"bom", "UTF-8 with BOM", append([]byte("\xEF\xBB\xBF"), registryCSV...)},
		{"gbk", "GBK/GB18030", gbk},
		{"utf16", "UTF-16LE", u16},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			r, err := OpenCSV(bytes.NewReader(c.data))
			if err != nil {
				t.Fatal(err)
			}
			defer r.Close()
			if r.Encoding() != c.enc {
				t.Errorf("encoding %q, want %q", r.Encoding(), c.enc)
			}
			if want := []string{"姓名", "公民身份号码", "联系电话", "住址"}; !reflect.DeepEqual(r.Header(), want) {
				t.Errorf("header %q", r.Header())
			}
			rows := readAll(t, r)
			want := []readRow{
				{[]string{"张三", "320205199001011234", "13800138000", "锡山区东亭街道"}, 2, nil},
				{[]string{"李四", "32020519851231002X", "0510-8888 8888", "安镇街道, 3号"}, 3, nil},
			}
			if c.name == "utf16" {
				want[1].Row[3] = "安镇街道\t 3号"
			}
			if !reflect.DeepEqual(rows, want) {
				t.Errorf("rows\n%v\nwant\n%v", rows, want)
			}
		})
	}
}

func TestCSVGBKBeyondASCIIWindow(t *testing.T) {
	// GBK bytes cut in the middle of a character at the 64 KiB boundary
	// must still be recognised as GBK, and a long UTF-8 file with a
	// character cut at the boundary as UTF-8.
	var b strings.Builder
	b.WriteString("姓名,备注\n")
	for b.Len() < 3*sniffSize {
		b.WriteString("王五,社区网格员\n")
	}
	gbk, _ := simplifiedchinese.GBK.NewEncoder().Bytes([]byte(b.String()))
	for _, c := range []struct {
		data []byte
		enc  string
	}{{gbk, "GBK/GB18030"}, {[]byte(b.String()), "UTF-8"}} {
		r, err := OpenCSV(bytes.NewReader(c.data))
		if err != nil {
			t.Fatal(err)
		}
		if r.Encoding() != c.enc {
			t.Errorf("encoding %q, want %q", r.Encoding(), c.enc)
		}
		n := 0
		for _, row := range readAll(t, r) {
			if row.Err != nil || row.Row[0] != "王五" || row.Row[1] != "社区网格员" {
				t.Fatalf("bad row %v", row)
			}
			n++
		}
		if n == 0 {
			t.Fatal("no rows")
		}
	}
}

func TestCSVInvalidBytesAfterWindow(t *testing.T) {
	var b bytes.Buffer
	b.WriteString("姓名,备注\n")
	for b.Len() < 2*sniffSize {
		b.WriteString("王五,网格员\n")
	}
	gbkRow, _ := simplifiedchinese.GBK.NewEncoder().Bytes([]byte("赵六,楼长\n"))
	b.Write(gbkRow)
	b.WriteString("钱七,志愿者\n")
	r, err := OpenCSV(&b)
	if err != nil {
		t.Fatal(err)
	}
	rows := readAll(t, r)
	bad := rows[len(rows)-2]
	if !errors.Is(bad.Err, ErrEncoding) || !strings.Contains(bad.Row[0], "\uFFFD") {
		t.Errorf("GBK row in a UTF-8 file: %q %v", bad.Row, bad.Err)
	}
	if last := rows[len(rows)-1]; last.Err != nil || last.Row[0] != "钱七" {
		t.Errorf("reading did not go on: %v", last)
	}
}

func TestCSVDelimitersQuotesAndEmptyRows(t *testing.T) {
	for _, d := range []string{",", "\t", ";"} {
		data := strings.Join([]string{
			"户号" + d + "姓名" + d + "与户主关系",
			"",
			d + d,
			"001" + d + "\"张" + d + "三\"" + d + "户主",
			"002" + d + "\"多\r\n行\"" + d + "  子  ",
			"003" + d + "他说\"好\"" + d + "配偶",
		}, "\r\n")
		r, err := OpenCSV(strings.NewReader(data))
		if err != nil {
			t.Fatal(err)
		}
		want := []readRow{
			{[]string{"001", "张" + d + "三", "户主"}, 4, nil},
			{[]string{"002", "多\n行", "子"}, 5, nil},
			{[]string{"003", "他说\"好\"", "配偶"}, 7, nil},
		}
		if got := readAll(t, r); !reflect.DeepEqual(got, want) {
			t.Errorf("delimiter %v:\n%v\nwant\n%v", d, got, want)
		}
	}
}

func TestCSVRaggedRows(t *testing.T) {
	data := "姓名,身份证号,电话\n" +
		"张三,1\n" + // short
		"李四,2,3,多余\n" + // long
		"王五,4,5,,\n" + // trailing empty cells: fine
		"赵六,6,7\n"
	r, err := OpenCSV(strings.NewReader(data))
	if err != nil {
		t.Fatal(err)
	}
	rows := readAll(t, r)
	if len(rows) != 4 {
		t.Fatalf("%d rows", len(rows))
	}
	if !errors.Is(rows[0].Err, ErrShortRow) || !reflect.DeepEqual(rows[0].Row, []string{"张三", "1", ""}) {
		t.Errorf("short row: %q %v", rows[0].Row, rows[0].Err)
	}
	var re *RowError
	if !errors.As(rows[1].Err, &re) || re.Line != 3 || !errors.Is(re, ErrLongRow) || len(rows[1].Row) != 4 {
		t.Errorf("long row: %q %v", rows[1].Row, rows[1].Err)
	}
	if rows[2].Err != nil || len(rows[2].Row) != 3 || rows[3].Err != nil {
		t.Errorf("rows after: %v", rows[2:])
	}
}

func TestCSVUnclosedQuote(t *testing.T) {
	defer func(n int) { MaxRecordBytes = n }(MaxRecordBytes)
	MaxRecordBytes = 1000
	var b strings.Builder
	b.WriteString("姓名,备注\n张三,\"没有结束\n")
	for b.Len() < 1<<20 {
		b.WriteString("李四,网格员\n")
	}
	r, err := OpenCSV(strings.NewReader(b.String()))
	if err != nil {
		t.Fatal(err)
	}
	_, _, err = r.Next()
	if !errors.Is(err, ErrRecordTooLong) || IsRowError(err) {
		t.Fatalf("got %v", err)
	}
	if _, _, err2 := r.Next(); err2 != err {
		t.Errorf("fatal error not sticky: %v", err2)
	}
}

func TestNoHeader(t *testing.T) {
	for _, s := range []string{"", "\n\n , ,\n", "\xEF\xBB\xBF"} {
		if _, err := OpenCSV(strings.NewReader(s)); !errors.Is(err, ErrNoHeader) {
			t.Errorf("%q: %v", s, err)
		}
	}
}

func TestXLSXRoundTrip(t *testing.T) {
	shanghai := time.FixedZone("CST", 8*3600)
	var buf bytes.Buffer
	w := NewXLSXWriter(&buf, "居民名册")
	if err := w.WriteHeader([]string{"姓名", "公民身份号码", "联系电话", "出生日期", "登记时间", "人数", "面积", "党员", "备注"}); err != nil {
		t.Fatal(err)
	}
	rows := [][]any{
		{"张三", "320205199001011234", "13800138000", time.Date(1990, 1, 1, 0, 0, 0, 0, shanghai), time.Date(2024, 5, 6, 14, 30, 5, 0, shanghai), 3, 85.5, true, nil},
		{"李四", "00123", "0510-88888888", nil, nil, int64(1), 0.25, false, "=1+1"},
	}
	for _, r := range rows {
		if err := w.Write(r); err != nil {
			t.Fatal(err)
		}
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	r, err := OpenXLSX(bytes.NewReader(buf.Bytes()), "")
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	if r.Encoding() != "XLSX" || r.(*XLSXReader).Sheet() != "居民名册" {
		t.Errorf("encoding %s sheet %s", r.Encoding(), r.(*XLSXReader).Sheet())
	}
	if r.Header()[1] != "公民身份号码" || len(r.Header()) != 9 {
		t.Errorf("header %q", r.Header())
	}
	got := readAll(t, r)
	want := []readRow{
		{[]string{"张三", "320205199001011234", "13800138000", "1990-01-01", "2024-05-06 14:30:05", "3", "85.5", "TRUE", ""}, 2, nil},
		{[]string{"李四", "00123", "0510-88888888", "", "", "1", "0.25", "FALSE", "=1+1"}, 3, nil},
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("rows\n%v\nwant\n%v", got, want)
	}
	// identifiers are text cells, not numbers
	f, err := excelize.OpenReader(bytes.NewReader(buf.Bytes()))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	for _, cell := range []string{"B2", "C2", "B3"} {
		if typ, _ := f.GetCellType("居民名册", cell); typ != excelize.CellTypeInlineString && typ != excelize.CellTypeSharedString {
			t.Errorf("%s has type %v, want text", cell, typ)
		}
	}
}

func TestXLSXSheetRollover(t *testing.T) {
	defer func(n int) { MaxSheetRows = n }(MaxSheetRows)
	MaxSheetRows = 5
	var buf bytes.Buffer
	w := NewXLSXWriter(&buf, "名册")
	_ = w.WriteHeader([]string{"序号", "姓名"})
	for i := 1; i <= 12; i++ {
		if err := w.Write([]any{i, fmt.Sprintf("居民%d", i)}); err != nil {
			t.Fatal(err)
		}
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "out.xlsx")
	if err := os.WriteFile(path, buf.Bytes(), 0o600); err != nil {
		t.Fatal(err)
	}
	r, err := OpenXLSXFile(path, "")
	if err != nil {
		t.Fatal(err)
	}
	sheets := r.(*XLSXReader).Sheets()
	r.Close()
	if want := []string{"名册", "名册 (2)", "名册 (3)"}; !reflect.DeepEqual(sheets, want) {
		t.Fatalf("sheets %q, want %q", sheets, want)
	}
	n := 0
	for _, s := range sheets {
		r, err := OpenXLSXFile(path, s)
		if err != nil {
			t.Fatal(err)
		}
		if !reflect.DeepEqual(r.Header(), []string{"序号", "姓名"}) {
			t.Errorf("%s: header %q", s, r.Header())
		}
		rows := readAll(t, r)
		r.Close()
		if len(rows) > MaxSheetRows-1 {
			t.Errorf("%s has %d data rows", s, len(rows))
		}
		for _, row := range rows {
			n++
			if row.Row[0] != fmt.Sprint(n) {
				t.Errorf("%s: row %q, want number %d", s, row.Row, n)
			}
		}
	}
	if n != 12 {
		t.Errorf("read %d rows, wrote 12", n)
	}
}

func TestXLSXReaderExcelFile(t *testing.T) {
	// a workbook as Excel makes it: shared strings, gaps, a date with the
	// locale's short-date format, ID number typed as a number, extra cells
	f := excelize.NewFile()
	s := "Sheet1"
	_ = f.SetSheetRow(s, "B3", &[]any{"姓名", "出生日期", "身份证号"})
	_ = f.SetSheetRow(s, "B4", &[]any{"张三", time.Date(2023, 3, 15, 0, 0, 0, 0, time.UTC), 320205199001011234})
	_ = f.SetSheetRow(s, "B7", &[]any{" 李四 "})
	_ = f.SetCellValue(s, "F7", "表外备注")
	style, _ := f.NewStyle(&excelize.Style{NumFmt: 14})
	_ = f.SetCellStyle(s, "C4", "C4", style)
	var buf bytes.Buffer
	if err := f.Write(&buf); err != nil {
		t.Fatal(err)
	}
	r, err := OpenXLSX(&buf, "")
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	if !reflect.DeepEqual(r.Header(), []string{"", "姓名", "出生日期", "身份证号"}) {
		t.Errorf("header %q", r.Header())
	}
	rows := readAll(t, r)
	if len(rows) != 2 {
		t.Fatalf("rows %v", rows)
	}
	// Excel keeps 15 significant digits of a number: an ID number typed
	// as a number reads as Excel shows it, and the importer must say so
	if !reflect.DeepEqual(rows[0], readRow{[]string{"", "张三", "2023-03-15", "3.20205199001011E+17"}, 4, nil}) {
		t.Errorf("row 4: %v", rows[0])
	}
	if rows[1].Line != 7 || rows[1].Row[1] != "李四" || !errors.Is(rows[1].Err, ErrLongRow) {
		t.Errorf("row 7: %v", rows[1])
	}
	if _, err := OpenXLSX(bytes.NewReader(buf.Bytes()), "没有"); err == nil {
		t.Error("missing sheet opened")
	}
}

func TestOpenSniffsContent(t *testing.T) {
	dir := t.TempDir()
	var x bytes.Buffer
	w := NewXLSXWriter(&x, "S")
	_ = w.WriteHeader([]string{"姓名"})
	_ = w.Write([]any{"张三"})
	_ = w.Close()
	files := map[string][]byte{
		"a.csv":  x.Bytes(), // an XLSX with the wrong extension
		"b.xlsx": []byte("姓名\n张三\n"),
		"c.xls":  append([]byte{0xD0, 0xCF, 0x11, 0xE0, 0xA1, 0xB1, 0x1A, 0xE1}, make([]byte, 512)...),
	}
	for name, data := range files {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, data, 0o600); err != nil {
			t.Fatal(err)
		}
		r, err := Open(p)
		if name == "c.xls" {
			if !errors.Is(err, ErrLegacyXLS) {
				t.Errorf("xls: %v", err)
			}
			continue
		}
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		row, _, err := r.Next()
		if err != nil || row[0] != "张三" {
			t.Errorf("%s: %q %v", name, row, err)
		}
		if err := r.Close(); err != nil {
			t.Error(err)
		}
	}
}

var registryFields = []Field{
	{Key: "name", Synonyms: []string{"姓名", "名字"}, Required: true},
	{Key: "id_number", Synonyms: []string{"公民身份号码", "身份证号", "身份证号码"}, Required: true},
	{Key: "phone", Synonyms: []string{"联系电话", "手机号码", "手机号"}},
	{Key: "household_no", Synonyms: []string{"户号"}, Required: true},
	{Key: "head_id_number", Synonyms: []string{"户主身份证号", "户主(身份证号)"}},
	{Key: "relation", Synonyms: []string{"与户主关系"}},
}

func TestMapHeader(t *testing.T) {
	header := []string{"*姓名", "身份证号码（必填）", "联系电话(手机)", "户主（身份证号）", " 与户主 关系 ", "ＮＯＴＥ", "", "名字"}
	m, problems := MapHeader(header, registryFields)
	wantCols := map[string]int{"name": 0, "id_number": 1, "phone": 2, "head_id_number": 3, "relation": 4, "household_no": -1}
	if !reflect.DeepEqual(m.Columns, wantCols) {
		t.Errorf("columns %v, want %v", m.Columns, wantCols)
	}
	if !reflect.DeepEqual(m.Unknown, []int{5}) {
		t.Errorf("unknown %v", m.Unknown)
	}
	want := []HeaderProblem{
		{Kind: DuplicateField, Field: "name", Columns: []int{0, 7}},
		{Kind: MissingField, Field: "household_no"},
	}
	if !reflect.DeepEqual(problems, want) {
		t.Errorf("problems %v, want %v", problems, want)
	}
	if m.Col("nope") != -1 || m.Value([]string{"张三"}, "phone") != "" || m.Value([]string{"张三"}, "name") != "张三" {
		t.Error("Col/Value")
	}
	for in, out := range map[string]string{
		"ＩＤ　Ｎｏ．": "idno.", "户号：": "户号", "【必填】姓名": "姓名", "姓名必填": "姓名", "手机号码 *": "手机号码", "\uFEFF姓名": "姓名",
	} {
		if got := Normalize(in); got != out {
			t.Errorf("Normalize(%q) = %q, want %q", in, got, out)
		}
	}
}

func TestCSVWriter(t *testing.T) {
	var buf bytes.Buffer
	w := NewCSVWriter(&buf)
	_ = w.WriteHeader([]string{"姓名", "公民身份号码", "户号", "电话", "备注", "数"})
	_ = w.Write([]any{"张三", "320205199001011234", "007", "13800138000", "=HYPERLINK(\"x\")", -5})
	_ = w.Write([]any{"李四, \"小李\"", "32020519851231002X", nil, "+86 138", "-3.5", 2.5})
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	out := buf.String()
	wantOut := "\uFEFF姓名,公民身份号码,户号,电话,备注,数\r\n" +
		"张三,\"\t320205199001011234\",\"\t007\",13800138000,\"'=HYPERLINK(\"\"x\"\")\",-5\r\n" +
		"\"李四, \"\"小李\"\"\",32020519851231002X,,'+86 138,-3.5,2.5\r\n"
	if out != wantOut {
		t.Errorf("got\n%q\nwant\n%q", out, wantOut)
	}
	r, err := OpenCSV(&buf)
	if err != nil {
		t.Fatal(err)
	}
	if r.Encoding() != "UTF-8 with BOM" {
		t.Error(r.Encoding())
	}
	rows := readAll(t, r)
	if rows[0].Row[1] != "320205199001011234" || rows[0].Row[2] != "007" || rows[1].Row[0] != "李四, \"小李\"" {
		t.Errorf("read back %v", rows)
	}
	var empty bytes.Buffer
	_ = NewCSVWriter(&empty).Close()
	if empty.String() != "\uFEFF" {
		t.Errorf("empty file %q", empty.String())
	}
}

func TestSheetName(t *testing.T) {
	if got := sheetName("a/b:c*d?[e]", 0); got != "a_b_c_d__e_" {
		t.Error(got)
	}
	long := strings.Repeat("居", 40)
	if got := sheetName(long, 11); len([]rune(got)) != 31 || !strings.HasSuffix(got, " (12)") {
		t.Error(got)
	}
	if sheetName("  ", 0) != "Sheet" {
		t.Error("empty base")
	}
}

// genCSV streams n registry rows.
type genCSV struct {
	n, i int
	buf  []byte
}

func (g *genCSV) Read(p []byte) (int, error) {
	for len(g.buf) < len(p) && g.i <= g.n {
		if g.i == 0 {
			g.buf = append(g.buf, "姓名,公民身份号码,联系电话,户号,与户主关系,住址\r\n"...)
		} else {
			g.buf = fmt.Appendf(g.buf, "居民%d,3202051990%08d,138%08d,%06d,户主,\"无锡市锡山区东亭街道%d号\"\r\n", g.i, g.i, g.i, g.i/3, g.i)
		}
		g.i++
	}
	if len(g.buf) == 0 {
		return 0, io.EOF
	}
	n := copy(p, g.buf)
	g.buf = g.buf[:copy(g.buf, g.buf[n:])]
	return n, nil
}

func TestCSVMillionRowsFlatMemory(t *testing.T) {
	if testing.Short() {
		t.Skip("reads a million rows")
	}
	const rows = 1_000_000
	heap := func() uint64 {
		var m runtime.MemStats
		runtime.GC()
		runtime.ReadMemStats(&m)
		return m.HeapAlloc
	}
	base := heap()
	r, err := OpenCSV(&genCSV{n: rows})
	if err != nil {
		t.Fatal(err)
	}
	var peak uint64
	n := 0
	for {
		row, _, err := r.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		n++
		if len(row) != 6 {
			t.Fatalf("row %d: %q", n, row)
		}
		if n%200_000 == 0 {
			peak = max(peak, heap())
		}
	}
	if n != rows {
		t.Fatalf("read %d rows", n)
	}
	growth := int64(peak) - int64(base)
	t.Logf("live heap growth while reading %d rows: %d KB", n, growth/1024)
	if growth > 50<<20 {
		t.Errorf("heap grew by %d MB", growth>>20)
	}
}
