package tabular

import (
	"fmt"
	"io"
	"strings"

	"github.com/xuri/excelize/v2"
)

// XLSXReader reads one worksheet with excelize's streaming row iterator.
// The zip itself is held in memory (excelize reads it whole; a sheet has at
// most 1,048,576 rows), while worksheet XML and the shared-string table
// larger than 16 MB are unpacked to temporary files, removed by Close.
type XLSXReader struct {
	f          *excelize.File
	rows       *excelize.Rows
	sheet      string
	sheets     []string
	header     []string
	headerLine int
	line       int
	err        error
}

// xlsxOptions: dates in ISO form (Excel's built-in short date 14 would
// otherwise read as the ambiguous "03-15-23"), Chinese built-in formats.
func xlsxOptions() excelize.Options {
	return excelize.Options{ShortDatePattern: "yyyy-mm-dd", CultureInfo: excelize.CultureNameZhCN}
}

// OpenXLSX reads the named sheet ("" for the first) of the workbook in r.
func OpenXLSX(r io.Reader, sheet string) (rd Reader, err error) {
	defer recoverCorrupt(&err)
	f, err := excelize.OpenReader(r, xlsxOptions())
	if err != nil {
		if f != nil {
			_ = f.Close()
		}
		return nil, xlsxOpenError(err)
	}
	return newXLSX(f, sheet)
}

// OpenXLSXFile reads the named sheet ("" for the first) of the workbook at
// path. The result is an *XLSXReader.
func OpenXLSXFile(path string, sheet string) (rd Reader, err error) {
	defer recoverCorrupt(&err)
	f, err := excelize.OpenFile(path, xlsxOptions())
	if err != nil {
		if f != nil {
			_ = f.Close()
		}
		return nil, xlsxOpenError(err)
	}
	return newXLSX(f, sheet)
}

func xlsxOpenError(err error) error {
	if err == excelize.ErrWorkbookFileFormat || err == excelize.ErrWorkbookPassword {
		return ErrLegacyXLS
	}
	return fmt.Errorf("%w: %v", ErrCorrupt, err)
}

func newXLSX(f *excelize.File, sheet string) (rd Reader, err error) {
	x := &XLSXReader{f: f, sheets: f.GetSheetList()}
	defer func() {
		if err != nil {
			x.Close()
		}
	}()
	if sheet == "" {
		if len(x.sheets) == 0 {
			return nil, fmt.Errorf("%w: no sheet", ErrCorrupt)
		}
		sheet = x.sheets[0]
	}
	x.sheet = sheet
	if x.rows, err = f.Rows(sheet); err != nil {
		return nil, err
	}
	for {
		row, line, err := x.read()
		if err == io.EOF {
			return nil, ErrNoHeader
		}
		if err != nil {
			return nil, err
		}
		if !nonEmpty(row) {
			continue
		}
		for len(row) > 0 && row[len(row)-1] == "" {
			row = row[:len(row)-1]
		}
		x.header, x.headerLine = row, line
		return x, nil
	}
}

func recoverCorrupt(err *error) {
	if p := recover(); p != nil {
		*err = fmt.Errorf("%w: %v", ErrCorrupt, p)
	}
}

// read returns the next row (possibly empty) and its spreadsheet row number.
func (x *XLSXReader) read() (row []string, line int, err error) {
	defer recoverCorrupt(&err)
	if !x.rows.Next() {
		if err := x.rows.Error(); err != nil {
			return nil, 0, fmt.Errorf("%w: %v", ErrCorrupt, err)
		}
		return nil, 0, io.EOF
	}
	x.line++
	cells, err := x.rows.Columns()
	if err != nil {
		return nil, 0, fmt.Errorf("%w: row %d: %v", ErrCorrupt, x.line, err)
	}
	for i := range cells {
		cells[i] = strings.TrimSpace(cells[i])
	}
	return cells, x.line, nil
}

// Sheets lists the workbook's sheets, for a preview to offer a choice.
func (x *XLSXReader) Sheets() []string { return x.sheets }

// Sheet is the sheet being read.
func (x *XLSXReader) Sheet() string { return x.sheet }

func (x *XLSXReader) Header() []string { return x.header }
func (x *XLSXReader) Encoding() string { return "XLSX" }

func (x *XLSXReader) Next() ([]string, int, error) {
	if x.err != nil {
		return nil, 0, x.err
	}
	for {
		row, line, err := x.read()
		if err != nil {
			x.err = err
			return nil, 0, err
		}
		if !nonEmpty(row) {
			continue
		}
		// excelize leaves out trailing empty cells: short rows are normal
		row, rerr := shape(row, len(x.header), false)
		if rerr != nil {
			return row, line, &RowError{Line: line, Err: rerr}
		}
		return row, line, nil
	}
}

// Close releases the worksheet and removes excelize's temporary files.
func (x *XLSXReader) Close() error {
	if x.err == nil {
		x.err = fmt.Errorf("tabular: reader closed")
	}
	var err error
	if x.rows != nil {
		_ = x.rows.Close()
		x.rows = nil
	}
	if x.f != nil {
		err = x.f.Close()
		x.f = nil
	}
	return err
}
