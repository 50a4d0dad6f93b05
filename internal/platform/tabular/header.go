package tabular

import (
	"fmt"
	"strings"
	"unicode"

	"golang.org/x/text/width"
)

// Field is a column a caller expects. Key is the caller's name for it (and
// matches too); Synonyms are the header texts people use for it.
type Field struct {
	Key      string
	Synonyms []string
	Required bool
}

// Mapping places fields on the columns of a header.
type Mapping struct {
	Header []string
	// Columns gives the column index of every field key, -1 when absent.
	Columns map[string]int
	// Unknown lists the columns that match no field (blank header cells
	// are not listed).
	Unknown []int
}

// Col is the column of a field, -1 when absent.
func (m Mapping) Col(key string) int {
	if i, ok := m.Columns[key]; ok {
		return i
	}
	return -1
}

// Value is the field's cell in row, "" when the field is absent or the row
// is short.
func (m Mapping) Value(row []string, key string) string {
	if i := m.Col(key); i >= 0 && i < len(row) {
		return row[i]
	}
	return ""
}

// ProblemKind names a header problem.
type ProblemKind string

const (
	// MissingField: a required field has no column.
	MissingField ProblemKind = "missing"
	// DuplicateField: several columns match one field; the first is used.
	DuplicateField ProblemKind = "duplicate"
)

// HeaderProblem is one problem found by MapHeader.
type HeaderProblem struct {
	Kind  ProblemKind
	Field string
	// Columns are the columns concerned (for DuplicateField).
	Columns []int
}

func (p HeaderProblem) String() string {
	if p.Kind == DuplicateField {
		return fmt.Sprintf("field %s: several columns %v", p.Field, p.Columns)
	}
	return fmt.Sprintf("field %s: no column", p.Field)
}

// MapHeader matches header cells to fields by their normalised text (see
// Normalize): first exactly, then with bracketed remarks removed, so that
// "联系电话（手机）" finds 联系电话 but "户主(身份证号)" can still be a
// synonym of its own.
func MapHeader(header []string, fields []Field) (Mapping, []HeaderProblem) {
	index := map[string]string{}
	for _, f := range fields {
		for _, s := range append([]string{f.Key}, f.Synonyms...) {
			n := Normalize(s)
			if _, dup := index[n]; !dup && n != "" {
				index[n] = f.Key
			}
		}
	}
	m := Mapping{Header: header, Columns: make(map[string]int, len(fields))}
	found := map[string][]int{}
	for i, h := range header {
		n := Normalize(h)
		if n == "" {
			continue
		}
		key, ok := index[n]
		if !ok {
			key, ok = index[stripBrackets(n)]
		}
		if !ok {
			m.Unknown = append(m.Unknown, i)
			continue
		}
		found[key] = append(found[key], i)
	}
	var problems []HeaderProblem
	for _, f := range fields {
		cols := found[f.Key]
		if len(cols) == 0 {
			m.Columns[f.Key] = -1
			if f.Required {
				problems = append(problems, HeaderProblem{Kind: MissingField, Field: f.Key})
			}
			continue
		}
		m.Columns[f.Key] = cols[0]
		if len(cols) > 1 {
			problems = append(problems, HeaderProblem{Kind: DuplicateField, Field: f.Key, Columns: cols})
		}
	}
	return m, problems
}

// markers are remarks that say whether a column must be filled.
var markers = []string{"非必填", "必填项", "选填项", "必填", "选填", "可选", "必须", "required", "optional"}

// bareMarkers are also dropped without brackets, at the end: "姓名必填".
var bareMarkers = []string{"非必填", "必填项", "选填项", "必填", "选填"}

var bracketPairs = [][2]rune{{'(', ')'}, {'[', ']'}, {'【', '】'}, {'〔', '〕'}, {'<', '>'}, {'《', '》'}}

// Normalize folds a header cell for matching: full-width to half-width,
// lower case, without spaces, asterisks, trailing colons, byte-order or
// zero-width marks, and without bracketed markers such as （必填）.
func Normalize(s string) string {
	s = width.Fold.String(s)
	s = strings.ToLower(s)
	s = strings.Map(func(r rune) rune {
		switch {
		case unicode.IsSpace(r), r == '*', r == '\uFEFF', r == '\u200B', r == '※':
			return -1
		}
		return r
	}, s)
	for _, p := range bracketPairs {
		for _, m := range markers {
			s = strings.ReplaceAll(s, string(p[0])+m+string(p[1]), "")
		}
	}
	s = strings.TrimRight(s, ":")
	for _, m := range bareMarkers {
		if t, ok := strings.CutSuffix(s, m); ok && t != "" {
			s = t
			break
		}
	}
	return s
}

// stripBrackets removes every bracketed part of a normalised header.
func stripBrackets(s string) string {
	for _, p := range bracketPairs {
		for {
			i := strings.IndexRune(s, p[0])
			if i < 0 {
				break
			}
			j := strings.IndexRune(s[i:], p[1])
			if j < 0 {
				break
			}
			s = s[:i] + s[i+j+len(string(p[1])):]
		}
	}
	return s
}
