// Package tabular reads and writes the spreadsheets people exchange with
// Shequ: CSV (UTF-8 with or without BOM, GBK/GB18030 as Chinese Excel
// writes it, UTF-16 as Excel's "Unicode text") and XLSX. Readers stream row
// by row so memory stays flat for a file of millions of rows; writers stream
// too, and the XLSX writer starts a new sheet when one is full.
//
// The package knows nothing about residents or households: it turns bytes
// into trimmed string cells with line numbers, maps a header onto the
// fields a caller expects (MapHeader), and writes rows back out.
package tabular

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
)

// Reader yields the rows of one table. Header is the first non-empty row;
// Next returns the following non-empty rows, with cells trimmed, and io.EOF
// at the end.
//
// An error of type *RowError concerns that row only: the row is returned
// (as read, padded to the header's width when short) and Next may be called
// again. Any other error is fatal and Next keeps returning it.
type Reader interface {
	Header() []string
	Next() (row []string, line int, err error)
	// Encoding describes the source for a preview: "UTF-8",
	// "UTF-8 with BOM", "GBK/GB18030", "UTF-16LE", "UTF-16BE" or "XLSX".
	Encoding() string
	Close() error
}

// RowError is a problem with one row; reading can go on.
type RowError struct {
	Line int
	Err  error
}

func (e *RowError) Error() string { return fmt.Sprintf("line %d: %v", e.Line, e.Err) }
func (e *RowError) Unwrap() error { return e.Err }

// IsRowError reports whether err concerns one row only (reading can go on).
func IsRowError(err error) bool {
	var re *RowError
	return errors.As(err, &re)
}

var (
	// ErrShortRow: a CSV row has fewer cells than the header (padded with
	// empty cells). Often a sign of a line break inside an unquoted cell.
	ErrShortRow = errors.New("fewer cells than the header")
	// ErrLongRow: a row has non-empty cells beyond the header's columns
	// (returned whole).
	ErrLongRow = errors.New("more cells than the header")
	// ErrEncoding: the row holds bytes that are not valid in the file's
	// encoding (shown as U+FFFD).
	ErrEncoding = errors.New("characters not valid in the file's encoding")
	// ErrNoHeader: the table has no non-empty row.
	ErrNoHeader = errors.New("no header row")
	// ErrLegacyXLS: an Excel 97-2003 .xls file (or an encrypted workbook),
	// which is not supported: save it as .xlsx or CSV.
	ErrLegacyXLS = errors.New("Excel 97-2003 (.xls) or encrypted workbook: save it as .xlsx or CSV")
	// ErrRecordTooLong: a CSV record exceeds MaxRecordBytes, usually an
	// unclosed quote swallowing the rest of the file.
	ErrRecordTooLong = errors.New("record too long (an unclosed quote?)")
	// ErrCorrupt: the XLSX file could not be parsed.
	ErrCorrupt = errors.New("damaged or unsupported XLSX file")
)

var (
	zipMagic = []byte("PK\x03\x04")
	oleMagic = []byte{0xD0, 0xCF, 0x11, 0xE0, 0xA1, 0xB1, 0x1A, 0xE1}
)

// Open opens a file by its content: XLSX (zip) reads the first sheet,
// anything else is read as CSV. The caller closes the Reader.
func Open(path string) (Reader, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	head := make([]byte, 8)
	n, err := io.ReadFull(f, head)
	if err != nil && err != io.ErrUnexpectedEOF && err != io.EOF {
		f.Close()
		return nil, err
	}
	head = head[:n]
	switch {
	case bytes.HasPrefix(head, zipMagic):
		f.Close()
		return OpenXLSXFile(path, "")
	case bytes.HasPrefix(head, oleMagic):
		f.Close()
		return nil, ErrLegacyXLS
	}
	if _, err := f.Seek(0, io.SeekStart); err != nil {
		f.Close()
		return nil, err
	}
	r, err := newCSV(f, f)
	if err != nil {
		f.Close()
		return nil, err
	}
	return r, nil
}

// nonEmpty reports whether any cell is non-empty.
func nonEmpty(row []string) bool {
	for _, c := range row {
		if c != "" {
			return true
		}
	}
	return false
}

// shape pads a short row to width (when pad) and decides whether it is
// ragged: trailing empty cells beyond width are dropped silently.
func shape(row []string, width int, reportShort bool) ([]string, error) {
	if len(row) > width {
		extra := false
		for _, c := range row[width:] {
			if c != "" {
				extra = true
				break
			}
		}
		if extra {
			return row, ErrLongRow
		}
		return row[:width], nil
	}
	if len(row) < width {
		short := len(row)
		for len(row) < width {
			row = append(row, "")
		}
		if reportShort && short > 0 {
			return row, ErrShortRow
		}
	}
	return row, nil
}
