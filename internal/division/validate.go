package division

import (
	"context"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"slices"
	"strconv"
	"strings"
	"unicode/utf8"
)

// Column names of the import format.
const (
	ColCode       = "code"
	ColName       = "name"
	ColLevel      = "level"
	ColParent     = "parent_code"
	ColUrbanRural = "urban_rural_code"
)

// impRow is one validated row, codes in the 15-digit form.
type impRow struct {
	code, parent int64
	name         string
	kind         string
	level        int8
	ur           int16
}

type seenRow struct {
	code  int64
	line  int32
	level int8 // 0 if the row's level was bad
}

// pendingRow is a row whose parent had not been seen when it was read.
type pendingRow struct {
	code, parent int64
	line         int32
	level        int8
}

// validator checks rows as they stream by, keeping only a compact index of
// the codes seen (for duplicates and parents), not the rows themselves:
// while the file is sorted by code (the published lists are), chunks of a
// sorted list searched by halving; from the first out-of-order code on, a
// map besides.
type validator struct {
	read    int
	seen    [][]seenRow // chunks of seenChunk, in file order
	n       int         // entries in seen
	sorted  bool        // codes in seen are strictly increasing
	index   map[int64]int32
	lastP   int64 // last parent found, and its position: runs of siblings
	lastPi  int32
	pending []pendingRow
	maxErrs int
	errs    []RowError
	nErrs   int
	warns   []RowError
	nWarns  int
}

const seenChunk = 1 << 15

func newValidator(maxErrs int) *validator {
	return &validator{maxErrs: maxErrs, sorted: true, lastPi: -1}
}

func (v *validator) at(i int) *seenRow { return &v.seen[i/seenChunk][i%seenChunk] }

// lookup finds a code seen so far.
func (v *validator) lookup(code int64) (seenRow, bool) {
	if v.lastPi >= 0 && code == v.lastP {
		return *v.at(int(v.lastPi)), true
	}
	var i int
	if v.sorted {
		// the first chunk whose last code is ≥ code, then within it
		c, _ := slices.BinarySearchFunc(v.seen, code, func(ch []seenRow, code int64) int {
			return cmpInt64(ch[len(ch)-1].code, code)
		})
		if c == len(v.seen) {
			return seenRow{}, false
		}
		j, ok := slices.BinarySearchFunc(v.seen[c], code, func(s seenRow, code int64) int { return cmpInt64(s.code, code) })
		if !ok {
			return seenRow{}, false
		}
		i = c*seenChunk + j
	} else {
		j, ok := v.index[code]
		if !ok {
			return seenRow{}, false
		}
		i = int(j)
	}
	v.lastP, v.lastPi = code, int32(i)
	return *v.at(i), true
}

func cmpInt64(a, b int64) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

// add records a code not seen before.
func (v *validator) add(s seenRow) {
	if v.sorted && v.n > 0 && s.code < v.at(v.n-1).code {
		v.sorted = false
		v.index = make(map[int64]int32, 2*v.n)
		for i := 0; i < v.n; i++ {
			v.index[v.at(i).code] = int32(i)
		}
	}
	if !v.sorted {
		v.index[s.code] = int32(v.n)
	}
	if v.n%seenChunk == 0 {
		v.seen = append(v.seen, make([]seenRow, 0, seenChunk))
	}
	v.seen[len(v.seen)-1] = append(v.seen[len(v.seen)-1], s)
	v.n++
}

func (v *validator) fail(line int, code, field, reason, detail string) {
	v.nErrs++
	if len(v.errs) < v.maxErrs {
		v.errs = append(v.errs, RowError{Line: line, Code: code, Field: field, Reason: reason, Detail: detail})
	}
}

func (v *validator) warn(line int, code, field, reason, detail string) {
	v.nWarns++
	if len(v.warns) < v.maxErrs {
		v.warns = append(v.warns, RowError{Line: line, Code: code, Field: field, Reason: reason, Detail: detail})
	}
}

func (v *validator) result() ImportResult {
	byLine := func(a, b RowError) int { return a.Line - b.Line }
	slices.SortStableFunc(v.errs, byLine)
	slices.SortStableFunc(v.warns, byLine)
	return ImportResult{Rows: v.read, Errors: v.errs, ErrorCount: v.nErrs, Warnings: v.warns, WarningCount: v.nWarns}
}

var urbanRural = map[string]int16{"111": 111, "112": 112, "121": 121, "122": 122, "123": 123, "210": 210, "220": 220}

// readAll reads the CSV, checks every row on its own and against the rows
// seen before it, and hands valid rows to emit in batches of up to batch
// rows for as long as the file has no error. Parents not seen before their
// children are left in v.pending for finishParents. It returns ErrInvalid
// for an unusable header, and I/O errors.
func (v *validator) readAll(in io.Reader, batch int, emit func([]impRow) error) error {
	cr := csv.NewReader(in)
	cr.ReuseRecord = true
	cr.FieldsPerRecord = -1
	header, err := cr.Read()
	if err == io.EOF {
		v.fail(1, "", "", ReasonHeader, "the file is empty")
		return ErrInvalid
	}
	if err != nil {
		var pe *csv.ParseError
		if errors.As(err, &pe) {
			v.fail(1, "", "", ReasonHeader, "cannot read the header: "+pe.Err.Error())
			return ErrInvalid
		}
		return fmt.Errorf("division import: %w", err)
	}
	if !utf8.ValidString(strings.Join(header, "")) {
		v.fail(1, "", "", ReasonHeader, "the file is not UTF-8 (GBK? save it as UTF-8 CSV)")
		return ErrInvalid
	}
	col := map[string]int{}
	for i, h := range header {
		h = strings.ToLower(strings.TrimSpace(h))
		if _, dup := col[h]; !dup && h != "" {
			col[h] = i
		}
	}
	for _, c := range []string{ColCode, ColName, ColLevel, ColParent} {
		if _, ok := col[c]; !ok {
			v.fail(1, "", c, ReasonHeader, fmt.Sprintf("the header has no %q column (want %s,%s,%s,%s,%s)",
				c, ColCode, ColName, ColLevel, ColParent, ColUrbanRural))
		}
	}
	if v.nErrs > 0 {
		return ErrInvalid
	}
	cols := columns{n: len(header), code: col[ColCode], name: col[ColName], level: col[ColLevel], parent: col[ColParent], ur: -1}
	if i, ok := col[ColUrbanRural]; ok {
		cols.ur = i
	}
	rows := make([]impRow, 0, batch)
	for {
		rec, err := cr.Read()
		if err == io.EOF {
			break
		}
		if err != nil {
			var pe *csv.ParseError
			if !errors.As(err, &pe) {
				return fmt.Errorf("division import: %w", err)
			}
			v.read++
			v.fail(pe.StartLine, "", "", ReasonCSV, pe.Err.Error())
			if pe.Err == csv.ErrQuote { // an open quote ran to the end of the file
				break
			}
			continue
		}
		line, _ := cr.FieldPos(0)
		if r, ok := v.row(line, rec, &cols); ok {
			rows = append(rows, r)
		}
		if len(rows) == batch {
			if v.nErrs == 0 {
				if err := emit(rows); err != nil {
					return err
				}
			}
			rows = make([]impRow, 0, batch)
		}
	}
	if len(rows) > 0 && v.nErrs == 0 {
		return emit(rows)
	}
	return nil
}

type columns struct{ n, code, name, level, parent, ur int }

// row checks one record and returns the row to write.
func (v *validator) row(line int, rec []string, c *columns) (impRow, bool) {
	v.read++
	if len(rec) != c.n {
		code := ""
		if c.code < len(rec) {
			code = clip(rec[c.code])
		}
		v.fail(line, code, "", ReasonColumnCount, fmt.Sprintf("%d columns, the header has %d", len(rec), c.n))
		return impRow{}, false
	}
	before := v.nErrs
	codeStr := strings.TrimSpace(rec[c.code])
	c12, ok := parse12(codeStr)
	codeStr = clip(codeStr)
	if !ok {
		v.fail(line, codeStr, ColCode, ReasonBadCode, "code must be 12 digits, not starting with 0")
		return impRow{}, false
	}
	code := c12 * 1000
	if prev, dup := v.lookup(code); dup {
		v.fail(line, codeStr, ColCode, ReasonDuplicateCode, fmt.Sprintf("code already on line %d", prev.line))
		return impRow{}, false
	}
	// The level: 1-5 and its own segment of the code non-zero; digits below
	// it are an error, except (with a warning) at the next level down.
	level, seenLevel := int8(0), int8(0) // seenLevel: 0 if the level is wrong, so children skip the check
	lvStr := strings.TrimSpace(rec[c.level])
	if l, err := strconv.Atoi(lvStr); err != nil || l < LevelProvince || l > LevelVillage {
		v.fail(line, codeStr, ColLevel, ReasonBadLevel, fmt.Sprintf("level %q is not 1-5", clip(lvStr)))
	} else {
		level, seenLevel = int8(l), int8(l)
		switch dl := LevelOf(code); {
		case dl < l:
			seenLevel = 0
			v.fail(line, codeStr, ColLevel, ReasonLevelMismatch,
				fmt.Sprintf("a level-%d code needs non-zero digits at that level (this one looks like level %d)", l, dl))
		case dl == l+1:
			v.warn(line, codeStr, ColLevel, ReasonCodeDeeper,
				fmt.Sprintf("level %d but the code has digits at level %d; imported as level %d", l, dl, l))
		case dl > l+1:
			seenLevel = 0
			v.fail(line, codeStr, ColLevel, ReasonLevelMismatch, fmt.Sprintf("level %d but the code looks like level %d", l, dl))
		}
	}
	v.add(seenRow{code: code, line: int32(line), level: seenLevel}) // even if bad: its children need not fail too
	name := strings.TrimSpace(rec[c.name])
	if name == "" {
		v.fail(line, codeStr, ColName, ReasonNameRequired, "name is empty")
	} else if p := nameProblem(name, MaxNameRunes); p != "" {
		v.fail(line, codeStr, ColName, p, nameMessage(p, MaxNameRunes))
	}
	var ur int16
	if c.ur >= 0 {
		if s := strings.TrimSpace(rec[c.ur]); s != "" {
			if ur = urbanRural[s]; ur == 0 {
				v.fail(line, codeStr, ColUrbanRural, ReasonBadUrbanRural,
					fmt.Sprintf("urban-rural code %q is not one of 111 112 121 122 123 210 220", clip(s)))
			}
		}
	}
	var parent int64
	pStr := strings.TrimSpace(rec[c.parent])
	switch {
	case level == LevelProvince && pStr != "":
		v.fail(line, codeStr, ColParent, ReasonBadParent, "a province has no parent")
	case level > LevelProvince && pStr == "":
		v.fail(line, codeStr, ColParent, ReasonParentRequired, "parent_code is required below level 1")
	case pStr != "":
		if p12, ok := parse12(pStr); ok {
			parent = p12 * 1000
		} else {
			v.fail(line, codeStr, ColParent, ReasonBadParent, "parent_code must be 12 digits")
		}
	}
	if v.nErrs != before {
		return impRow{}, false
	}
	if parent != 0 {
		if p, ok := v.lookup(parent); ok {
			v.checkParent(line, code, level, parent, p.level)
		} else {
			v.pending = append(v.pending, pendingRow{code: code, parent: parent, line: int32(line), level: level})
		}
	}
	kind := ""
	if level == LevelVillage {
		kind = KindFromName(name)
	}
	return impRow{code: code, parent: parent, name: name, kind: kind, level: level, ur: ur}, true
}

// checkParent checks that parent, of level plevel (0 if that row was bad),
// is a proper ancestor of code: higher level, and code within its range.
func (v *validator) checkParent(line int, code int64, level int8, parent int64, plevel int8) {
	if plevel == 0 {
		return
	}
	lo, hi := Range(parent, int(plevel))
	if plevel >= level || code < lo || code > hi || code == parent {
		v.fail(line, Format12(code), ColParent, ReasonBadParent,
			fmt.Sprintf("%s (level %d) is not an ancestor of this level-%d code", Format12(parent), plevel, level))
	}
}

// finishParents checks the rows whose parent came later in the file, or
// must be in the database (lookup may be nil: no database).
func (v *validator) finishParents(ctx context.Context, lookup func(context.Context, []int64) (map[int64]int8, error)) error {
	var need []int64
	asked := map[int64]bool{}
	for _, p := range v.pending {
		if _, ok := v.lookup(p.parent); !ok && !asked[p.parent] {
			asked[p.parent] = true
			need = append(need, p.parent)
		}
	}
	var inDB map[int64]int8
	if len(need) > 0 && lookup != nil {
		var err error
		if inDB, err = lookup(ctx, need); err != nil {
			return err
		}
	}
	for _, p := range v.pending {
		if s, ok := v.lookup(p.parent); ok {
			v.checkParent(int(p.line), p.code, p.level, p.parent, s.level)
		} else if l, ok := inDB[p.parent]; ok {
			v.checkParent(int(p.line), p.code, p.level, p.parent, l)
		} else {
			v.fail(int(p.line), Format12(p.code), ColParent, ReasonUnknownParent,
				fmt.Sprintf("parent %s is neither in the file nor in the database", Format12(p.parent)))
		}
	}
	v.pending = nil
	return nil
}

// parse12 reads exactly 12 ASCII digits, the first non-zero.
func parse12(s string) (int64, bool) {
	if len(s) != 12 || s[0] == '0' {
		return 0, false
	}
	var n int64
	for i := 0; i < 12; i++ {
		c := s[i]
		if c < '0' || c > '9' {
			return 0, false
		}
		n = n*10 + int64(c-'0')
	}
	return n, true
}

// clip keeps error reports small when a field is garbage.
func clip(s string) string {
	if len(s) <= 40 {
		return s
	}
	cut := 40
	for cut > 0 && !utf8.RuneStart(s[cut]) {
		cut--
	}
	return s[:cut] + "…"
}
