package tabular

import (
	"bufio"
	"bytes"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"strings"
	"unicode/utf8"

	"golang.org/x/text/encoding/simplifiedchinese"
	"golang.org/x/text/encoding/unicode"
	"golang.org/x/text/transform"
)

// MaxRecordBytes bounds one CSV record (all its cells and line breaks), so
// a stray quote cannot make the reader swallow a 10-million-row file into
// one cell. A variable so tests can lower it.
var MaxRecordBytes = 1 << 20

// sniffSize is how much of the file decides the encoding and delimiter.
const sniffSize = 64 << 10

var utf8BOM = []byte{0xEF, 0xBB, 0xBF}

type csvReader struct {
	closer     io.Closer
	cr         *csv.Reader
	lim        *limitReader
	enc        string
	checkUTF8  bool
	header     []string
	headerLine int
	err        error
}

// OpenCSV reads CSV from r, detecting the encoding from the first 64 KiB (a
// UTF-8 or UTF-16 BOM; valid UTF-8; otherwise GB18030, the superset of
// GBK that Chinese Excel writes) and the delimiter (comma, tab or
// semicolon) from the header line. Quoted cells, CRLF and bare quotes
// inside cells are accepted; cells are trimmed and empty rows skipped.
// Close does not close r.
func OpenCSV(r io.Reader) (Reader, error) {
	c, err := newCSV(r, nil)
	if err != nil {
		return nil, err
	}
	return c, nil
}

func newCSV(r io.Reader, closer io.Closer) (*csvReader, error) {
	raw := bufio.NewReaderSize(r, sniffSize)
	peek, err := raw.Peek(sniffSize)
	atEOF := false
	switch {
	case err == io.EOF:
		atEOF = true
	case err != nil && !errors.Is(err, bufio.ErrBufferFull):
		return nil, err
	}
	c := &csvReader{closer: closer}
	var text io.Reader
	switch {
	case bytes.HasPrefix(peek, utf8BOM):
		_, _ = raw.Discard(len(utf8BOM))
		c.enc, c.checkUTF8, text = "UTF-8 with BOM", true, raw
	case bytes.HasPrefix(peek, []byte{0xFF, 0xFE}):
		c.enc = "UTF-16LE"
		text = transform.NewReader(raw, unicode.UTF16(unicode.LittleEndian, unicode.ExpectBOM).NewDecoder())
	case bytes.HasPrefix(peek, []byte{0xFE, 0xFF}):
		c.enc = "UTF-16BE"
		text = transform.NewReader(raw, unicode.UTF16(unicode.BigEndian, unicode.ExpectBOM).NewDecoder())
	case validUTF8Prefix(peek, atEOF):
		c.enc, c.checkUTF8, text = "UTF-8", true, raw
	default:
		c.enc = "GBK/GB18030"
		text = transform.NewReader(raw, simplifiedchinese.GB18030.NewDecoder())
	}
	lim := &limitReader{r: text}
	buf := bufio.NewReaderSize(lim, sniffSize)
	head, err := buf.Peek(sniffSize)
	if err != nil && err != io.EOF && !errors.Is(err, bufio.ErrBufferFull) {
		return nil, err
	}
	c.cr = csv.NewReader(buf)
	c.cr.Comma = sniffDelimiter(head)
	c.cr.LazyQuotes = true
	c.cr.FieldsPerRecord = -1
	c.lim = lim

	for {
		rec, line, err := c.read()
		if err == io.EOF {
			return nil, ErrNoHeader
		}
		if err != nil {
			return nil, err
		}
		if !nonEmpty(rec) {
			continue
		}
		for i := range rec {
			rec[i] = strings.TrimPrefix(rec[i], "\uFEFF")
		}
		// trailing empty header cells are not columns
		for len(rec) > 0 && rec[len(rec)-1] == "" {
			rec = rec[:len(rec)-1]
		}
		c.header, c.headerLine = rec, line
		return c, nil
	}
}

// read returns the next record, trimmed, with its line number.
func (c *csvReader) read() ([]string, int, error) {
	rec, err := c.cr.Read()
	if err != nil {
		if err == io.EOF {
			return nil, 0, io.EOF
		}
		var pe *csv.ParseError
		if errors.As(err, &pe) && !errors.Is(err, ErrRecordTooLong) {
			return nil, 0, err
		}
		line, _ := c.cr.FieldPos(0)
		return nil, 0, fmt.Errorf("CSV near line %d: %w", line, err)
	}
	c.lim.start = c.cr.InputOffset()
	line, _ := c.cr.FieldPos(0)
	for i := range rec {
		rec[i] = strings.TrimSpace(rec[i])
	}
	return rec, line, nil
}

func (c *csvReader) Header() []string { return c.header }
func (c *csvReader) Encoding() string { return c.enc }

func (c *csvReader) Next() ([]string, int, error) {
	if c.err != nil {
		return nil, 0, c.err
	}
	for {
		rec, line, err := c.read()
		if err != nil {
			c.err = err
			return nil, 0, err
		}
		if !nonEmpty(rec) {
			continue
		}
		bad := false
		for i, s := range rec {
			if c.checkUTF8 && !utf8.ValidString(s) {
				rec[i], bad = strings.ToValidUTF8(s, "\uFFFD"), true
			} else if strings.ContainsRune(s, utf8.RuneError) {
				bad = true
			}
		}
		row, rerr := shape(rec, len(c.header), true)
		if bad {
			rerr = ErrEncoding
		}
		if rerr != nil {
			return row, line, &RowError{Line: line, Err: rerr}
		}
		return row, line, nil
	}
}

func (c *csvReader) Close() error {
	if c.err == nil {
		c.err = errors.New("tabular: reader closed")
	}
	if c.closer != nil {
		err := c.closer.Close()
		c.closer = nil
		return err
	}
	return nil
}

// validUTF8Prefix reports whether p is valid UTF-8, ignoring a rune cut off
// at the end of the sniffed window.
func validUTF8Prefix(p []byte, atEOF bool) bool {
	if !atEOF {
		for i := 1; i <= utf8.UTFMax && i <= len(p); i++ {
			if utf8.RuneStart(p[len(p)-i]) {
				if !utf8.FullRune(p[len(p)-i:]) {
					p = p[:len(p)-i]
				}
				break
			}
		}
	}
	return utf8.Valid(p)
}

// sniffDelimiter picks the most frequent of comma, tab and semicolon outside
// quotes on the first line; comma when none appears.
func sniffDelimiter(head []byte) rune {
	counts := map[byte]int{}
	inQuote := false
	for _, b := range head {
		switch {
		case b == '"':
			inQuote = !inQuote
		case inQuote:
		case b == '\n':
			goto done
		case b == ',' || b == '\t' || b == ';':
			counts[b]++
		}
	}
done:
	best, n := byte(','), counts[',']
	for _, d := range []byte{'\t', ';'} {
		if counts[d] > n {
			best, n = d, counts[d]
		}
	}
	return rune(best)
}

// limitReader fails once the CSV reader has been handed more than
// MaxRecordBytes (plus its buffer) beyond the end of the last complete
// record, at offset start.
type limitReader struct {
	r     io.Reader
	n     int64
	start int64
}

func (l *limitReader) Read(p []byte) (int, error) {
	if l.n-l.start > int64(MaxRecordBytes)+2*sniffSize {
		return 0, ErrRecordTooLong
	}
	n, err := l.r.Read(p)
	l.n += int64(n)
	return n, err
}
