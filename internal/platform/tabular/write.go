package tabular

import (
	"archive/zip"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"
	"time"

	"github.com/xuri/excelize/v2"
)

// Writer writes a table row by row. Values are strings (written as text:
// pass identifiers such as ID numbers, phone numbers and codes as strings,
// never as numbers, or Excel shows 3.20205E+17), integers, floats, bools,
// time.Time, nil (an empty cell), or anything with a String method.
// Close finishes the table; it does not close the underlying io.Writer.
type Writer interface {
	WriteHeader(header []string) error
	Write(row []any) error
	Close() error
}

var errClosed = errors.New("tabular: writer closed")

// ---- CSV ----

type csvWriter struct {
	out     io.Writer
	w       *csv.Writer
	started bool
	closed  bool
}

// NewCSVWriter writes CSV as Excel reads it: UTF-8 with a BOM (so Chinese
// shows), comma-separated, CRLF line ends. To keep Excel from mangling
// cells on opening, a string of 12 or more digits, or of digits with a
// leading zero, is written after a tab (Excel then keeps it as text, and
// Shequ's reader trims it off), and a string starting with = + - @ that is
// not a number is prefixed with ' so Excel does not run it as a formula.
func NewCSVWriter(w io.Writer) Writer {
	cw := csv.NewWriter(w)
	cw.UseCRLF = true
	return &csvWriter{out: w, w: cw}
}

func (c *csvWriter) start() error {
	if c.closed {
		return errClosed
	}
	if !c.started {
		c.started = true
		if _, err := c.out.Write(utf8BOM); err != nil {
			return err
		}
	}
	return nil
}

func (c *csvWriter) WriteHeader(header []string) error {
	if err := c.start(); err != nil {
		return err
	}
	return c.w.Write(header)
}

func (c *csvWriter) Write(row []any) error {
	if err := c.start(); err != nil {
		return err
	}
	rec := make([]string, len(row))
	for i, v := range row {
		if s, ok := v.(string); ok {
			rec[i] = excelSafe(s)
		} else {
			rec[i] = formatValue(v)
		}
	}
	return c.w.Write(rec)
}

func (c *csvWriter) Close() error {
	if c.closed {
		return nil
	}
	err := c.start()
	c.closed = true
	c.w.Flush()
	return errors.Join(err, c.w.Error())
}

// excelSafe guards a CSV text cell against Excel's conversions.
func excelSafe(s string) string {
	if s == "" {
		return s
	}
	if allDigits(s) && (len(s) >= 12 || (len(s) > 1 && s[0] == '0')) {
		return "\t" + s
	}
	if len(s) > 1 && strings.IndexByte("=+-@", s[0]) >= 0 {
		if _, err := strconv.ParseFloat(s, 64); err != nil {
			return "'" + s
		}
	}
	return s
}

func allDigits(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return s != ""
}

// formatValue renders a non-string value for CSV.
func formatValue(v any) string {
	switch v := v.(type) {
	case nil:
		return ""
	case string:
		return v
	case []byte:
		return string(v)
	case int:
		return strconv.Itoa(v)
	case int64:
		return strconv.FormatInt(v, 10)
	case int32:
		return strconv.FormatInt(int64(v), 10)
	case uint64:
		return strconv.FormatUint(v, 10)
	case float64:
		return strconv.FormatFloat(v, 'f', -1, 64)
	case float32:
		return strconv.FormatFloat(float64(v), 'f', -1, 32)
	case bool:
		if v {
			return "TRUE"
		}
		return "FALSE"
	case time.Time:
		return formatTime(v)
	case fmt.Stringer:
		return v.String()
	}
	return fmt.Sprint(v)
}

func formatTime(t time.Time) string {
	if t.IsZero() {
		return ""
	}
	if t.Hour() == 0 && t.Minute() == 0 && t.Second() == 0 && t.Nanosecond() == 0 {
		return t.Format("2006-01-02")
	}
	return t.Format("2006-01-02 15:04:05")
}

// ---- XLSX ----

// MaxSheetRows is the number of rows (header included) after which the XLSX
// writer starts a new sheet: Excel's limit. A variable so tests can lower it.
var MaxSheetRows = 1048576

type xlsxWriter struct {
	out       io.Writer
	f         *excelize.File
	sw        *excelize.StreamWriter
	base      string
	sheets    int
	row       int // rows written on the current sheet
	header    []any
	dateStyle int
	timeStyle int
	err       error
	closed    bool
}

// NewXLSXWriter streams a workbook to w (on Close) through excelize's
// StreamWriter, which keeps each sheet's XML in a temporary file past 16 MB
// and writes strings inline (no shared-string table in memory). The first
// sheet is named sheetBase; when a sheet reaches MaxSheetRows rows the next
// one, "sheetBase (2)", starts with the header repeated. Strings are written
// as text cells, so identifiers keep every digit.
//
// The zip is written straight to w (File.SetZipWriter): excelize's
// File.Write would build the whole compressed workbook in a bytes.Buffer
// first (WriteToBuffer), whose doublings hold two to three times the file in
// memory. Writing 1,000,000 ledger rows (94 MiB of XLSX) that way peaked at
// 313 MiB; straight to w, at 81 MiB (TestXLSXWriterMemory).
func NewXLSXWriter(w io.Writer, sheetBase string) Writer {
	x := &xlsxWriter{out: w, f: excelize.NewFile(), base: sheetName(sheetBase, 0)}
	x.f.SetZipWriter(func(io.Writer) excelize.ZipWriter { return zip.NewWriter(w) })
	x.err = x.init()
	return x
}

func (x *xlsxWriter) init() error {
	if err := x.f.SetSheetName(x.f.GetSheetName(0), x.base); err != nil {
		return err
	}
	var err error
	iso, isoTime := "yyyy-mm-dd", "yyyy-mm-dd hh:mm:ss"
	if x.dateStyle, err = x.f.NewStyle(&excelize.Style{CustomNumFmt: &iso}); err != nil {
		return err
	}
	if x.timeStyle, err = x.f.NewStyle(&excelize.Style{CustomNumFmt: &isoTime}); err != nil {
		return err
	}
	x.sheets = 1
	x.sw, err = x.f.NewStreamWriter(x.base)
	return err
}

// sheetName makes a valid sheet name (at most 31 characters, none of
// : \ / ? * [ ]) for the n-th extra sheet (0 for the first).
func sheetName(base string, n int) string {
	base = strings.Map(func(r rune) rune {
		if strings.ContainsRune(`:\/?*[]`, r) || r < ' ' {
			return '_'
		}
		return r
	}, strings.TrimSpace(base))
	base = strings.Trim(base, "'")
	if base == "" {
		base = "Sheet"
	}
	suffix := ""
	if n > 0 {
		suffix = fmt.Sprintf(" (%d)", n+1)
	}
	r := []rune(base)
	if max := 31 - len(suffix); len(r) > max {
		r = r[:max]
	}
	return string(r) + suffix
}

func (x *xlsxWriter) WriteHeader(header []string) error {
	if x.err != nil {
		return x.err
	}
	if x.row != 0 || x.sheets != 1 {
		return errors.New("tabular: header after rows")
	}
	x.header = make([]any, len(header))
	for i, h := range header {
		x.header[i] = h
	}
	return x.setRow(x.header)
}

func (x *xlsxWriter) Write(row []any) error {
	if x.err != nil {
		return x.err
	}
	if x.row >= MaxSheetRows {
		if err := x.nextSheet(); err != nil {
			x.err = err
			return err
		}
	}
	cells := make([]any, len(row))
	for i, v := range row {
		cells[i] = x.cell(v)
	}
	return x.setRow(cells)
}

func (x *xlsxWriter) cell(v any) any {
	switch v := v.(type) {
	case nil, string, int, int64, int32, uint64, float64, float32, bool:
		return v
	case []byte:
		return string(v)
	case time.Time:
		if v.IsZero() {
			return nil
		}
		// excelize stores the wall clock as a serial number
		if v.Hour() == 0 && v.Minute() == 0 && v.Second() == 0 && v.Nanosecond() == 0 {
			return excelize.Cell{StyleID: x.dateStyle, Value: v}
		}
		return excelize.Cell{StyleID: x.timeStyle, Value: v}
	case fmt.Stringer:
		return v.String()
	}
	return fmt.Sprint(v)
}

func (x *xlsxWriter) setRow(cells []any) error {
	ref, err := excelize.CoordinatesToCellName(1, x.row+1)
	if err == nil {
		err = x.sw.SetRow(ref, cells)
	}
	if err != nil {
		x.err = err
		return err
	}
	x.row++
	return nil
}

func (x *xlsxWriter) nextSheet() error {
	if err := x.sw.Flush(); err != nil {
		return err
	}
	name := sheetName(x.base, x.sheets)
	if _, err := x.f.NewSheet(name); err != nil {
		return err
	}
	sw, err := x.f.NewStreamWriter(name)
	if err != nil {
		return err
	}
	x.sw, x.sheets, x.row = sw, x.sheets+1, 0
	if x.header != nil {
		return x.setRow(x.header)
	}
	return nil
}

// Close writes the workbook to the underlying writer and removes the
// temporary files.
func (x *xlsxWriter) Close() error {
	if x.closed {
		return nil
	}
	x.closed = true
	defer x.f.Close()
	if x.err != nil {
		return x.err
	}
	if err := x.sw.Flush(); err != nil {
		return err
	}
	x.f.SetActiveSheet(0)
	x.err = errClosed
	// the zip writer set in NewXLSXWriter writes to x.out; what excelize
	// hands File.Write is its own (empty) buffer
	var stray countingWriter
	if err := x.f.Write(&stray); err != nil {
		return err
	}
	if stray > 0 {
		return fmt.Errorf("tabular: excelize wrote %d bytes outside the zip writer", int64(stray))
	}
	return nil
}

// countingWriter counts the bytes written to it.
type countingWriter int64

func (c *countingWriter) Write(p []byte) (int, error) {
	*c += countingWriter(len(p))
	return len(p), nil
}
