package calendar

import (
	"errors"
	"io"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"

	"github.com/shequ-platform/shequ/internal/platform/i18n"
	"github.com/shequ-platform/shequ/internal/platform/tabular"
)

// Limits of the input.
const (
	// MaxNameLen is the longest name of a day, in characters.
	MaxNameLen = 50
	// MaxRows bounds the rows of one CSV file (a year has at most 366 dates).
	MaxRows = 5000
)

// Fields named by a FieldError.
const (
	FieldDate = "date"
	FieldKind = "kind"
	FieldName = "name"
	FieldYear = "year"
	FieldFile = "file" // the uploaded file (HTTP)
)

// Reasons of a FieldError.
const (
	ReasonMissing   = "missing"    // the value is empty
	ReasonDate      = "date"       // not a real date (or outside MinYear–MaxYear)
	ReasonKind      = "kind"       // neither holiday nor workday
	ReasonWeekday   = "weekday"    // a make-up working day on Monday–Friday
	ReasonDuplicate = "duplicate"  // the date appears twice
	ReasonOtherYear = "other_year" // the date lies outside the year being replaced (FieldError.Year)
	ReasonTooLong   = "too_long"   // the name is longer than MaxNameLen
	ReasonChars     = "chars"      // the name holds control characters
	ReasonYear      = "year"       // not a year between MinYear and MaxYear
	ReasonEmpty     = "empty"      // no dates at all
	ReasonLastDay   = "last_day"   // deleting the last entered day of a year (FieldError.Year)
	ReasonNoColumn  = "no_column"  // the header lacks the field's column
	ReasonDupColumn = "dup_column" // the header has the field's column twice
	ReasonColumns   = "columns"    // a row has more cells than the header
	ReasonEncoding  = "encoding"   // characters not valid in the file's encoding
	ReasonFile      = "file"       // not readable as CSV
	ReasonTooMany   = "too_many"   // more than MaxRows rows
)

// FieldError is invalid input: a CSV cell, a form field or a Day given to
// the Service. Error gives the zh-CN text and Text the text in a locale, e.g.
// 第 5 行“类型（kind）”列：“休息”不是有效的类型，只能是 holiday（放假）或 workday（调休上班）.
type FieldError struct {
	Line   int    // line of the CSV file, 0 when the input is not a file (or for the header)
	Field  string // FieldDate, FieldKind, FieldName, FieldYear, FieldFile; "" for the file as a whole
	Reason string // one of the Reason constants
	Value  string // the offending value as given
	Year   int    // for ReasonOtherYear and ReasonLastDay: the year concerned
}

func (e *FieldError) Error() string { return e.Text(i18n.Default) }

// Text is the message in locale, naming the line and field.
func (e *FieldError) Text(locale string) string {
	reason := e.reason(locale)
	var field string
	switch e.Field {
	case FieldDate:
		field = i18n.T(locale, "calendar.field.date")
	case FieldKind:
		field = i18n.T(locale, "calendar.field.kind")
	case FieldName:
		field = i18n.T(locale, "calendar.field.name")
	case FieldYear:
		field = i18n.T(locale, "calendar.field.year")
	case FieldFile:
		field = i18n.T(locale, "calendar.field.file")
	}
	switch {
	case e.Line > 0 && field != "":
		return i18n.T(locale, "calendar.error.line_field", e.Line, field, reason)
	case e.Line > 0:
		return i18n.T(locale, "calendar.error.line", e.Line, reason)
	case field != "":
		return i18n.T(locale, "calendar.error.field", field, reason)
	}
	return reason
}

func (e *FieldError) reason(locale string) string {
	switch e.Reason {
	case ReasonMissing:
		return i18n.T(locale, "calendar.reason.missing")
	case ReasonDate:
		return i18n.T(locale, "calendar.reason.date", e.Value)
	case ReasonKind:
		return i18n.T(locale, "calendar.reason.kind", e.Value)
	case ReasonWeekday:
		return i18n.T(locale, "calendar.reason.weekday", e.Value)
	case ReasonDuplicate:
		return i18n.T(locale, "calendar.reason.duplicate", e.Value)
	case ReasonOtherYear:
		return i18n.T(locale, "calendar.reason.other_year", e.Value, e.Year)
	case ReasonTooLong:
		return i18n.T(locale, "calendar.reason.too_long", MaxNameLen)
	case ReasonChars:
		return i18n.T(locale, "calendar.reason.chars")
	case ReasonYear:
		return i18n.T(locale, "calendar.reason.year", e.Value)
	case ReasonEmpty:
		return i18n.T(locale, "calendar.reason.empty")
	case ReasonLastDay:
		return i18n.T(locale, "calendar.reason.last_day", e.Year)
	case ReasonNoColumn:
		return i18n.T(locale, "calendar.reason.no_column")
	case ReasonDupColumn:
		return i18n.T(locale, "calendar.reason.dup_column")
	case ReasonColumns:
		return i18n.T(locale, "calendar.reason.columns")
	case ReasonEncoding:
		return i18n.T(locale, "calendar.reason.encoding")
	case ReasonFile:
		return i18n.T(locale, "calendar.reason.file")
	case ReasonTooMany:
		return i18n.T(locale, "calendar.reason.too_many", MaxRows)
	}
	return e.Reason
}

// columns of a calendar CSV: the English names of the shipped file, or
// their Chinese equivalents.
var columns = []tabular.Field{
	{Key: FieldDate, Synonyms: []string{"日期"}, Required: true},
	{Key: FieldKind, Synonyms: []string{"类型", "类别"}, Required: true},
	{Key: FieldName, Synonyms: []string{"名称", "节日", "说明"}},
}

// ParseCSV reads a calendar in the shipped file's format: a header
// date,kind,name (the name column may be left out), then one row per date.
// Dates may be written 2027-01-01, 2027/1/1, 20270101 or 2027年1月1日; kinds
// holiday (or 放假, 休) and workday (or 上班, 班). The file may be UTF-8 (with
// or without BOM) or GBK as Excel saves it. Every day is checked as Set
// checks it, and a date may appear once. The first problem is returned as a
// *FieldError naming its line and field; a file without dates is an error.
func ParseCSV(r io.Reader) ([]Day, error) {
	days, _, err := parseCSV(r)
	return days, err
}

// parseCSV is ParseCSV that also returns the line of each day.
func parseCSV(r io.Reader) ([]Day, []int, error) {
	tr, err := tabular.OpenCSV(r)
	if err != nil {
		if errors.Is(err, tabular.ErrNoHeader) {
			return nil, nil, &FieldError{Reason: ReasonEmpty}
		}
		return nil, nil, &FieldError{Reason: ReasonFile}
	}
	defer tr.Close()
	m, problems := tabular.MapHeader(tr.Header(), columns)
	for _, p := range problems {
		fe := &FieldError{Field: p.Field, Reason: ReasonNoColumn}
		if p.Kind == tabular.DuplicateField {
			fe.Reason = ReasonDupColumn
		}
		return nil, nil, fe
	}
	var (
		days  []Day
		lines []int
		seen  = map[int]int{}
	)
	for {
		row, line, err := tr.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			var re *tabular.RowError
			switch {
			case !errors.As(err, &re):
				return nil, nil, &FieldError{Reason: ReasonFile}
			case errors.Is(err, tabular.ErrLongRow):
				return nil, nil, &FieldError{Line: re.Line, Reason: ReasonColumns}
			case errors.Is(err, tabular.ErrEncoding):
				return nil, nil, &FieldError{Line: re.Line, Reason: ReasonEncoding}
			}
			// a short row is padded: its missing cells are reported below
		}
		if len(days) == MaxRows {
			return nil, nil, &FieldError{Line: line, Reason: ReasonTooMany}
		}
		d, fe := parseRow(m, row)
		if fe == nil {
			if _, dup := seen[d.Date]; dup {
				fe = &FieldError{Field: FieldDate, Reason: ReasonDuplicate, Value: formatDate(d.Date)}
			}
		}
		if fe != nil {
			fe.Line = line
			return nil, nil, fe
		}
		seen[d.Date] = line
		days = append(days, d)
		lines = append(lines, line)
	}
	if len(days) == 0 {
		return nil, nil, &FieldError{Reason: ReasonEmpty}
	}
	return days, lines, nil
}

func parseRow(m tabular.Mapping, row []string) (Day, *FieldError) {
	ds := m.Value(row, FieldDate)
	if ds == "" {
		return Day{}, &FieldError{Field: FieldDate, Reason: ReasonMissing}
	}
	date, ok := parseDate(ds)
	if !ok {
		return Day{}, &FieldError{Field: FieldDate, Reason: ReasonDate, Value: ds}
	}
	ks := m.Value(row, FieldKind)
	if ks == "" {
		return Day{}, &FieldError{Field: FieldKind, Reason: ReasonMissing}
	}
	kind := parseKind(ks)
	if kind == "" {
		return Day{}, &FieldError{Field: FieldKind, Reason: ReasonKind, Value: ks}
	}
	return check(Day{Date: date, Kind: kind, Name: m.Value(row, FieldName)})
}

// parseKind maps the spellings of a kind to Holiday or Workday ("" when unknown).
func parseKind(s string) string {
	switch strings.ToLower(strings.TrimSpace(s)) {
	case Holiday, "放假", "休", "假", "节假日":
		return Holiday
	case Workday, "上班", "班", "调休上班", "补班":
		return Workday
	}
	return ""
}

// check validates d as the Service stores it and returns it with its name
// trimmed: a real date, a known kind, a make-up working day only on a
// Saturday or Sunday (a holiday may fall on any day: the weekend days
// inside a holiday period are listed too), a short name without control
// characters.
func check(d Day) (Day, *FieldError) {
	d.Name = strings.TrimSpace(d.Name)
	if !validDate(d.Date) {
		return d, &FieldError{Field: FieldDate, Reason: ReasonDate, Value: strconv.Itoa(d.Date)}
	}
	switch d.Kind {
	case Holiday:
	case Workday:
		if weekday(d.Date) < 5 {
			return d, &FieldError{Field: FieldDate, Reason: ReasonWeekday, Value: formatDate(d.Date)}
		}
	case "":
		return d, &FieldError{Field: FieldKind, Reason: ReasonMissing}
	default:
		return d, &FieldError{Field: FieldKind, Reason: ReasonKind, Value: d.Kind}
	}
	if utf8.RuneCountInString(d.Name) > MaxNameLen {
		return d, &FieldError{Field: FieldName, Reason: ReasonTooLong, Value: d.Name}
	}
	if !utf8.ValidString(d.Name) || strings.ContainsFunc(d.Name, func(r rune) bool {
		return unicode.IsControl(r) || r == utf8.RuneError || r == '\uFEFF'
	}) {
		return d, &FieldError{Field: FieldName, Reason: ReasonChars, Value: d.Name}
	}
	return d, nil
}
