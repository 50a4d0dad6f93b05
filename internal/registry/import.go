package registry

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"

	"github.com/shequ-platform/shequ/internal/division"
	"github.com/shequ-platform/shequ/internal/platform/access"
	"github.com/shequ-platform/shequ/internal/platform/db"
	"github.com/shequ-platform/shequ/internal/platform/facts"
	"github.com/shequ-platform/shequ/internal/platform/ids"
	"github.com/shequ-platform/shequ/internal/platform/policy"
	"github.com/shequ-platform/shequ/internal/platform/tabular"
	"github.com/shequ-platform/shequ/internal/registry/idnum"
	"github.com/shequ-platform/shequ/internal/registry/pinyin"
)

// Import modes: import the valid rows and report the others, or import
// nothing unless every row is valid.
const (
	ModeValidRows    = "valid-rows"
	ModeAllOrNothing = "all-or-nothing"
)

// ImportFields are the columns an import understands, with the header texts
// people use for them (mapped by tabular.MapHeader).
var ImportFields = []tabular.Field{
	{Key: "household_no", Synonyms: []string{"户号", "户编号", "户籍户号", "家庭户号"}},
	{Key: "head_id", Synonyms: []string{"户主身份证号", "户主身份证号码", "户主公民身份号码", "户主证件号码"}},
	{Key: "relation", Synonyms: []string{"与户主关系", "与户主的关系", "家庭关系", "关系"}},
	{Key: "name", Synonyms: []string{"姓名", "名字", "人员姓名"}, Required: true},
	{Key: "gender", Synonyms: []string{"性别"}},
	{Key: "birth", Synonyms: []string{"出生日期", "出生年月日", "出生年月", "生日"}},
	{Key: "ethnicity", Synonyms: []string{"民族"}},
	{Key: "id_number", Synonyms: []string{"公民身份号码", "身份证号", "身份证号码", "证件号码", "身份证"}},
	{Key: "phone", Synonyms: []string{"联系电话", "手机号码", "手机号", "电话", "联系方式", "手机"}},
	{Key: "residency", Synonyms: []string{"户籍类型", "人口类型", "人员类型", "居住类型"}},
	{Key: "status", Synonyms: []string{"人员状态", "状态"}},
	{Key: "party", Synonyms: []string{"政治面貌", "是否党员", "党员"}},
	{Key: "education", Synonyms: []string{"文化程度", "学历"}},
	{Key: "employment", Synonyms: []string{"就业状况", "职业状况", "就业情况"}},
	{Key: "village", Synonyms: []string{"所属村社区", "所属村（社区）", "村（社区）", "村社区", "所属村", "村居", "社区"}},
	{Key: "grid", Synonyms: []string{"所属网格", "网格"}},
	{Key: "address", Synonyms: []string{"住址", "现住址", "居住地址", "地址", "家庭住址"}},
	{Key: "house_no", Synonyms: []string{"门牌号", "门牌"}},
	{Key: "household_kind", Synonyms: []string{"户类型", "户别", "户口类型"}},
	{Key: "tags", Synonyms: []string{"标签", "人员标签", "人群标签", "特殊人群"}},
	{Key: "since", Synonyms: []string{"登记日期", "迁入日期", "居住起始日期"}},
}

// Grouping says how an import's rows are put into households.
const (
	GroupByNumber = "number" // 户号 within the village
	GroupByHead   = "head"   // 户主身份证号
	GroupNone     = "none"   // each row its own household
)

// ImportParams are an import job's settings.
type ImportParams struct {
	Division int64  `json:"division"` // the subtree rows must fall in; the village of rows without one
	Mode     string `json:"mode"`
	DryRun   bool   `json:"dry_run"`
	FileName string `json:"file_name"`
	Locale   string `json:"locale"` // of the error report
}

// importRow is one parsed line of an import file.
type importRow struct {
	line     int
	cells    []string
	in       ResidentInput
	hh       HouseholdInput
	hhNumber string
	headID   string // normalised 18-digit head ID number
	errs     Errors
	v        valid
	h        Household // the household as the row describes it (validated)
}

// rowReader turns the cells of a file into importRows.
type rowReader struct {
	s      *Service
	p      *access.Principal
	m      tabular.Mapping
	params ImportParams
	reg    *policy.Registry
	// villages by name within the import's subtree, loaded on first use
	villages map[string][]int64
	grids    map[int64]map[string]int64
}

func (s *Service) newRowReader(p *access.Principal, m tabular.Mapping, params ImportParams) *rowReader {
	return &rowReader{s: s, p: p, m: m, params: params, reg: s.registryOf(params.Division), grids: map[int64]map[string]int64{}}
}

// Grouping reports how rows of this header are grouped into households.
func grouping(m tabular.Mapping) string {
	switch {
	case m.Col("household_no") >= 0:
		return GroupByNumber
	case m.Col("head_id") >= 0:
		return GroupByHead
	}
	return GroupNone
}

func (rr *rowReader) parse(ctx context.Context, line int, cells []string) importRow {
	v := func(k string) string { return rr.m.Value(cells, k) }
	row := importRow{line: line, cells: cells, hhNumber: strings.TrimSpace(v("household_no"))}
	in := &row.in
	in.Name, in.Gender, in.Birth, in.IDNumber = v("name"), v("gender"), v("birth"), v("id_number")
	in.Ethnicity, in.Phone, in.Residency, in.Relation = v("ethnicity"), v("phone"), v("residency"), v("relation")
	in.Education, in.Employment, in.Since = v("education"), v("employment"), v("since")
	if in.Relation == "" && grouping(rr.m) == GroupNone {
		in.Relation = "head"
	}
	party, ok := parseParty(v("party"))
	if !ok {
		row.errs.Add("party", "invalid")
	}
	in.PartyMember = party
	switch strings.TrimSpace(v("status")) {
	case "", "在册", "正常", "在住", "现住", "present":
	default:
		row.errs.Add("status", "status_import")
	}
	if h := strings.TrimSpace(v("head_id")); h != "" {
		id, err := idnum.Parse(h, rr.s.now().In(china))
		if err != nil {
			row.errs.Add("head_id", idnum.CodeOf(err))
		} else {
			row.headID = id.Number
		}
	}
	tags, terrs := parseTags(rr.reg, v("tags"))
	in.Tags = tags
	row.errs = append(row.errs, terrs...)
	unit, err := rr.unit(ctx, v("village"), v("grid"))
	if err != nil {
		row.errs = append(row.errs, err.(*FieldError))
	}
	row.hh = HouseholdInput{Division: unit, Number: row.hhNumber, Kind: v("household_kind"), Address: v("address"), HouseNo: v("house_no")}
	in.Division = unit
	return row
}

func parseParty(s string) (bool, bool) {
	switch strings.TrimSpace(s) {
	case "中共党员", "中共预备党员", "党员", "预备党员", "是", "Y", "y", "1", "true":
		return true, true
	case "", "群众", "共青团员", "团员", "否", "N", "n", "0", "false", "无党派人士", "民主党派":
		return false, true
	}
	if strings.Contains(s, "党员") && !strings.Contains(s, "非") {
		return true, true
	}
	return false, false
}

// parseTags reads "独居老人;残疾人(二级);低保" against the pack's tags: a tag
// matches by its label, its label without 对象/人员, or its key; a grade is
// written in brackets or right after the label.
func parseTags(reg *policy.Registry, s string) (map[string]string, Errors) {
	var es Errors
	s = strings.TrimSpace(s)
	if s == "" {
		return nil, nil
	}
	out := map[string]string{}
	for _, tok := range strings.FieldsFunc(s, func(r rune) bool { return strings.ContainsRune(";；,，、|/ ", r) }) {
		tok = strings.TrimSpace(tok)
		grade := ""
		if i := strings.IndexAny(tok, "(（"); i >= 0 {
			grade = strings.TrimRight(strings.TrimSpace(tok[i+len(string([]rune(tok[i:])[0])):]), ")）")
			tok = strings.TrimSpace(tok[:i])
		}
		found := false
		for _, t := range reg.Tags {
			if t.Restricted {
				continue // special groups are never imported from a spreadsheet
			}
			for _, name := range tagNames(t) {
				if tok == name {
					out[t.Key], found = grade, true
				} else if len(t.Grades) > 0 && grade == "" && strings.HasPrefix(tok, name) {
					if g := strings.TrimSpace(strings.TrimPrefix(tok, name)); containsStr(t.Grades, g) {
						out[t.Key], found = g, true
					}
				}
			}
			if found {
				break
			}
		}
		if !found {
			es.Add("tags", "tag_unknown")
		}
	}
	return out, es
}

func tagNames(t policy.Tag) []string {
	zh := t.Label["zh-CN"]
	names := []string{t.Key, zh}
	for _, suf := range []string{"对象", "人员", "人"} {
		if s := strings.TrimSuffix(zh, suf); s != zh && len([]rune(s)) >= 2 {
			names = append(names, s)
		}
	}
	return names
}

// unit resolves the village (code or name within the import's subtree) and
// grid (code or name within the village) of a row.
func (rr *rowReader) unit(ctx context.Context, village, grid string) (int64, error) {
	village, grid = strings.TrimSpace(village), strings.TrimSpace(grid)
	code := int64(0)
	if village == "" {
		code = rr.params.Division
	} else if c, err := division.Parse(village); err == nil {
		code = c
	} else {
		if rr.villages == nil {
			if err := rr.loadVillages(ctx); err != nil {
				return 0, &FieldError{Field: "village", Code: "division_unknown"}
			}
		}
		switch cs := rr.villages[village]; len(cs) {
		case 0:
			return 0, &FieldError{Field: "village", Code: "division_unknown"}
		case 1:
			code = cs[0]
		default:
			return 0, &FieldError{Field: "village", Code: "division_ambiguous"}
		}
	}
	if !ids.Contains(rr.params.Division, code) {
		return 0, &FieldError{Field: "village", Code: "division_outside"}
	}
	if grid != "" {
		if c, err := division.Parse(grid); err == nil {
			code = c
		} else {
			g, err := rr.gridByName(ctx, code, grid)
			if err != nil {
				return 0, err
			}
			code = g
		}
	}
	if _, _, err := rr.s.livingUnit(ctx, code); err != nil {
		return 0, err
	}
	if rr.p == nil || !rr.p.CanAt("resident.import", code) {
		return 0, &FieldError{Field: "village", Code: "division_outside"}
	}
	return code, nil
}

func (rr *rowReader) loadVillages(ctx context.Context) error {
	rr.villages = map[string][]int64{}
	lo, hi := ids.Subtree(rr.params.Division)
	vs, err := rr.s.Divisions.InRange(ctx, lo, hi, 5, 5)
	for _, v := range vs {
		if !v.Retired {
			rr.villages[v.Name] = append(rr.villages[v.Name], v.Code)
		}
	}
	return err
}

func (rr *rowReader) gridByName(ctx context.Context, village int64, name string) (int64, error) {
	m, ok := rr.grids[village]
	if !ok {
		m = map[string]int64{}
		kids, err := rr.s.Divisions.Children(ctx, village, false)
		if err != nil {
			return 0, err
		}
		for _, k := range kids {
			m[k.Name] = k.Code
		}
		rr.grids[village] = m
	}
	if c, ok := m[name]; ok {
		return c, nil
	}
	return 0, &FieldError{Field: "grid", Code: "division_unknown"}
}

// PreviewRow is one parsed row of a preview.
type PreviewRow struct {
	Line      int
	Cells     []string
	Name      string
	IDMasked  string
	Household string
	Errors    Errors
	Reason    string // Errors for people, in the preview's locale
}

// Preview is what an import would do with a file: how its columns map,
// how rows become households, and the first rows parsed.
type Preview struct {
	Encoding string
	Header   []string
	// Columns maps each field key to its column header text ("" absent).
	Columns  map[string]string
	Unknown  []string
	Missing  []string
	Grouping string
	Rows     []PreviewRow
}

// PreviewImport reads the header and the first rows of a file.
func (s *Service) PreviewImport(ctx context.Context, p *access.Principal, path string, params ImportParams, rows int) (Preview, error) {
	rd, err := tabular.Open(path)
	if err != nil {
		return Preview{}, err
	}
	defer rd.Close()
	m, problems := tabular.MapHeader(rd.Header(), ImportFields)
	pv := Preview{Encoding: rd.Encoding(), Header: rd.Header(), Columns: map[string]string{}, Grouping: grouping(m)}
	for _, f := range ImportFields {
		if c := m.Col(f.Key); c >= 0 {
			pv.Columns[f.Key] = rd.Header()[c]
		}
	}
	for _, c := range m.Unknown {
		pv.Unknown = append(pv.Unknown, rd.Header()[c])
	}
	for _, pr := range problems {
		if pr.Kind == tabular.MissingField {
			pv.Missing = append(pv.Missing, pr.Field)
		}
	}
	rr := s.newRowReader(p, m, params)
	for len(pv.Rows) < rows {
		cells, line, err := rd.Next()
		if err == io.EOF {
			break
		}
		if err != nil && !tabular.IsRowError(err) {
			return pv, err
		}
		row := rr.parse(ctx, line, cells)
		if err != nil {
			row.errs.Add("row", rowErrCode(err))
		}
		v, es := s.validate(ctx, row.in)
		row.errs = append(row.errs, es...)
		pr := PreviewRow{Line: line, Cells: cells, Name: v.r.Name, Household: row.hhNumber, Errors: row.errs}
		if v.id.Number != "" {
			pr.IDMasked = idnum.MaskID(v.id.Number)
		}
		pv.Rows = append(pv.Rows, pr)
	}
	return pv, nil
}

func rowErrCode(err error) string {
	switch {
	case errors.Is(err, tabular.ErrShortRow):
		return "row_short"
	case errors.Is(err, tabular.ErrLongRow):
		return "row_long"
	case errors.Is(err, tabular.ErrEncoding):
		return "row_encoding"
	}
	return "row_invalid"
}

// reasonOf encodes a row's errors for storage: "field:code;field:code".
func reasonOf(es Errors) string {
	parts := make([]string, len(es))
	for i, e := range es {
		parts[i] = e.Field + ":" + e.Code
	}
	return strings.Join(parts, ";")
}

// ParseReason decodes reasonOf.
func ParseReason(s string) Errors {
	var es Errors
	for _, p := range strings.Split(s, ";") {
		if f, c, ok := strings.Cut(p, ":"); ok {
			es = append(es, &FieldError{Field: f, Code: c})
		}
	}
	return es
}

func (s *Service) saveRowErrors(ctx context.Context, jobID int64, rows []importRow) error {
	var out [][]any
	for _, r := range rows {
		if len(r.errs) == 0 {
			continue
		}
		cells, _ := json.Marshal(r.cells)
		out = append(out, []any{jobID, r.line, reasonOf(r.errs), string(cells)})
	}
	return insertRows(ctx, s.DB, "import_errors", []string{"job_id", "line", "reason", "cells"}, out,
		" ON CONFLICT (job_id, line) DO UPDATE SET reason = excluded.reason, cells = excluded.cells")
}

// RowErrors streams the refused rows of an import job in line order.
func (s *Service) RowErrors(ctx context.Context, jobID int64, each func(line int, reason Errors, cells []string) error) error {
	rows, err := s.DB.Query(ctx, "SELECT line, reason, cells FROM import_errors WHERE job_id = ? ORDER BY line", jobID)
	if err != nil {
		return err
	}
	defer rows.Close()
	for rows.Next() {
		var line int
		var reason, cells string
		if err := rows.Scan(&line, &reason, &cells); err != nil {
			return err
		}
		var cs []string
		_ = json.Unmarshal([]byte(cells), &cs)
		if err := each(line, ParseReason(reason), cs); err != nil {
			return err
		}
	}
	return rows.Err()
}

// batchResult counts what a batch did.
type batchResult struct {
	Created, Updated, Unchanged, Failed int
}

func (b *batchResult) count(changed bool) {
	if changed {
		b.Updated++
	} else {
		b.Unchanged++
	}
}

// householdKey identifies a household of an import.
type householdKey struct {
	village int64
	number  string // 户号, or "" when grouped by head
	head    string // lookup of the head's ID number
}

// importer applies batches of parsed rows.
type importer struct {
	s     *Service
	p     *access.Principal
	jobID int64
	group string
	// households met recently, by key (bounded)
	hh map[householdKey]int64
	// households of the batch whose address keys are to be written
	addr []addrEntry
}

const householdCacheSize = 50_000

// check validates a batch against the database without writing: the
// lookups that find existing residents and households.
func (im *importer) prepare(ctx context.Context, rows []importRow) (existing map[string]int64, err error) {
	s := im.s
	var lookups []any
	seen := map[string]bool{}
	for i := range rows {
		r := &rows[i]
		if len(r.errs) > 0 {
			continue
		}
		v, es := s.validate(ctx, r.in)
		r.errs = append(r.errs, es...)
		if len(r.errs) == 0 {
			r.errs = append(r.errs, s.checkTags(im.p, r.in.Division, v.tags)...)
			r.errs = append(r.errs, s.buildHousehold(ctx, r.hh, &r.h)...)
		}
		if len(r.errs) > 0 {
			continue
		}
		r.v = v
		if n := v.id.Number; n != "" {
			if seen[n] {
				r.errs.Add("id_number", "id_duplicate_in_file")
				continue
			}
			seen[n] = true
			lookups = append(lookups, s.Keys.Lookup(n))
		}
	}
	existing = map[string]int64{}
	for start := 0; start < len(lookups); start += 500 {
		part := lookups[start:min(start+500, len(lookups))]
		q, err := s.DB.Query(ctx, "SELECT id_lookup, resident_id FROM person_ids WHERE id_lookup IN ("+db.Placeholders(len(part))+")", part...)
		if err != nil {
			return nil, err
		}
		for q.Next() {
			var l string
			var id int64
			if err := q.Scan(&l, &id); err != nil {
				q.Close()
				return nil, err
			}
			existing[l] = id
		}
		q.Close()
		if err := q.Err(); err != nil {
			return nil, err
		}
	}
	return existing, nil
}

// apply writes a batch (write) or only checks it. Rows that fail get
// their errs filled; the others are created or updated.
func (im *importer) apply(ctx context.Context, rows []importRow, write bool) (batchResult, error) {
	s := im.s
	var res batchResult
	im.addr = im.addr[:0]
	existing, err := im.prepare(ctx, rows)
	if err != nil {
		return res, err
	}
	fb := factBatch{}
	var fresh []newResident
	for i := range rows {
		r := &rows[i]
		if len(r.errs) > 0 {
			continue
		}
		var lookup string
		if r.v.id.Number != "" {
			lookup = s.Keys.Lookup(r.v.id.Number)
		}
		if id, ok := existing[lookup]; ok && lookup != "" {
			cur, err := s.st.resident(ctx, id)
			if err != nil {
				return res, err
			}
			if im.p == nil || !im.p.CanAt("resident.import", cur.Division) {
				r.errs.Add("id_number", "id_registered_elsewhere")
				continue
			}
			if cur.Status != Present {
				r.errs.Add("id_number", "resident_not_present")
				continue
			}
			if !write {
				continue
			}
			hh, err := im.household(ctx, r)
			if err != nil {
				return res, err
			}
			changed, err := im.update(ctx, cur, r, hh)
			if err != nil {
				return res, err
			}
			res.count(changed)
			continue
		}
		if !write {
			continue
		}
		hh, err := im.household(ctx, r)
		if err != nil {
			return res, err
		}
		if lookup == "" {
			// no ID number: the same name and birth in the household is the
			// same person (a re-import), else a new one
			var id int64
			err := s.DB.QueryRow(ctx, "SELECT id FROM residents WHERE household_id = ? AND name = ? AND birth = ? AND status = ?",
				hh, r.v.r.Name, r.v.r.Birth, Present).Scan(&id)
			if err == nil {
				cur, err := s.st.resident(ctx, id)
				if err != nil {
					return res, err
				}
				changed, err := im.update(ctx, cur, r, hh)
				if err != nil {
					return res, err
				}
				res.count(changed)
				continue
			}
		}
		sec, err := s.seal(r.v)
		if err != nil {
			return res, err
		}
		nr := newResident{r: r.v.r, sec: sec, tags: r.v.tags, kind: r.v.event}
		nr.r.Division, nr.r.HouseholdID = r.in.Division, hh
		fresh = append(fresh, nr)
	}
	if write {
		if err := s.insertResidents(ctx, fresh, fb); err != nil {
			return res, err
		}
		err := s.st.indexAddresses(ctx, im.addr)
		im.addr = im.addr[:0]
		if err != nil {
			return res, err
		}
		if err := fb.flush(ctx, s.DB); err != nil {
			return res, err
		}
		res.Created = len(fresh)
	}
	for _, r := range rows {
		if len(r.errs) > 0 {
			res.Failed++
		}
	}
	return res, nil
}

// household finds or creates the household of a row.
func (im *importer) household(ctx context.Context, r *importRow) (int64, error) {
	s := im.s
	village, grid := r.h.Village, r.h.Grid
	var key householdKey
	headLookup := ""
	if r.headID != "" {
		headLookup = s.Keys.Lookup(r.headID)
	} else if r.in.Relation == "head" && r.v.id.Number != "" {
		headLookup = s.Keys.Lookup(r.v.id.Number)
	}
	switch {
	case r.hhNumber != "":
		key = householdKey{village: village, number: r.hhNumber}
	case headLookup != "":
		key = householdKey{village: village, head: headLookup}
	default:
		key = householdKey{} // a household of its own
	}
	if key != (householdKey{}) {
		if id, ok := im.hh[key]; ok {
			return id, nil
		}
		var id int64
		var err error
		if key.number != "" {
			err = s.DB.QueryRow(ctx, "SELECT id FROM households WHERE village = ? AND number = ? AND number <> ''", village, key.number).Scan(&id)
		} else {
			err = s.DB.QueryRow(ctx, "SELECT id FROM households WHERE head_lookup = ? AND head_lookup <> '' AND village = ? ORDER BY id LIMIT 1", key.head, village).Scan(&id)
		}
		if err == nil {
			if err := im.touchHousehold(ctx, id, r, grid, headLookup); err != nil {
				return 0, err
			}
			im.remember(key, id)
			return id, nil
		}
		if !errors.Is(err, sql.ErrNoRows) {
			return 0, err
		}
	}
	h := r.h
	now := db.Now()
	id, err := s.DB.InsertID(ctx, `INSERT INTO households (county, village, grid, number, kind, address, house_no, head_lookup, lat, lon, created_at, updated_at)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`, h.County, h.Village, h.Grid, h.Number, h.Kind, h.Address, h.HouseNo, headLookup, h.Lat, h.Lon, now, now)
	if err != nil {
		return 0, err
	}
	h.ID = id
	im.addr = append(im.addr, addrEntry{id: id, village: h.Village, address: h.Address, fresh: true})
	if key != (householdKey{}) {
		im.remember(key, h.ID)
	}
	return h.ID, nil
}

// touchHousehold updates a known household from a row that names its
// address, house number or kind (the file is the newer truth).
func (im *importer) touchHousehold(ctx context.Context, id int64, r *importRow, grid int64, headLookup string) error {
	sets, args := []string{}, []any{}
	if a := strings.TrimSpace(r.hh.Address); a != "" {
		sets, args = append(sets, "address = ?"), append(args, a)
		im.addr = append(im.addr, addrEntry{id: id, village: r.h.Village, address: a})
	}
	if n := strings.TrimSpace(r.hh.HouseNo); n != "" {
		sets, args = append(sets, "house_no = ?"), append(args, n)
	}
	if k, ok := ParseLabel("household_kind", r.hh.Kind); ok && k != "" {
		sets, args = append(sets, "kind = ?"), append(args, k)
	}
	if headLookup != "" {
		sets, args = append(sets, "head_lookup = ?"), append(args, headLookup)
	}
	if len(sets) == 0 {
		return nil
	}
	args = append(args, db.Now(), id)
	_, err := im.s.DB.Exec(ctx, "UPDATE households SET "+strings.Join(sets, ", ")+", updated_at = ? WHERE id = ?", args...)
	return err
}

func (im *importer) remember(k householdKey, id int64) {
	if len(im.hh) >= householdCacheSize {
		clear(im.hh)
	}
	im.hh[k] = id
}

// update applies an import row to an existing resident: changed fields,
// search keys, tags added, and a transfer when the row places them in
// another household or unit.
func (im *importer) update(ctx context.Context, cur Resident, r *importRow, hh int64) (changed bool, err error) {
	s := im.s
	v := r.v
	next := cur
	next.Name, next.Gender, next.Birth, next.Ethnicity = v.r.Name, v.r.Gender, v.r.Birth, v.r.Ethnicity
	next.Relation, next.Residency, next.PartyMember = v.r.Relation, v.r.Residency, v.r.PartyMember
	next.Education, next.Employment = v.r.Education, v.r.Employment
	old, err := s.st.secretsOf(ctx, cur.ID)
	if err != nil {
		return false, err
	}
	sec, err := s.seal(v)
	if err != nil {
		return false, err
	}
	if v.phone == "" {
		sec.phoneEnc, sec.phoneLookup, sec.phoneMasked, sec.phoneTail4 = old.phoneEnc, old.phoneLookup, old.phoneMasked, old.phoneTail4
	} else if plain, err := s.Keys.Decrypt(old.phoneEnc); err == nil && plain == v.phone {
		sec.phoneEnc = old.phoneEnc // unchanged: keep the ciphertext, so a re-import changes nothing
	}
	sec.idEnc = old.idEnc
	changed = next.Name != cur.Name || next.Gender != cur.Gender || next.Birth != cur.Birth || next.Ethnicity != cur.Ethnicity ||
		next.Relation != cur.Relation || next.Residency != cur.Residency || next.PartyMember != cur.PartyMember ||
		next.Education != cur.Education || next.Employment != cur.Employment || sec.phoneEnc != old.phoneEnc
	if changed {
		if next.Residency != cur.Residency || next.Gender != cur.Gender || next.Birth != cur.Birth {
			if err := s.populationFacts(ctx, cur, s.today(), -1); err != nil {
				return false, err
			}
			if err := s.populationFacts(ctx, next, s.today(), 1); err != nil {
				return false, err
			}
		}
		if err := s.st.updateResident(ctx, next, sec); err != nil {
			return false, err
		}
		if next.Name != cur.Name {
			if err := s.st.setKeys(ctx, cur.ID, cur.Division, pinyin.NameKeys(next.Name)); err != nil {
				return false, err
			}
		}
		if err := s.st.insertEvent(ctx, Event{ResidentID: cur.ID, Kind: EventUpdate, Effective: s.today(), Detail: "import " + strconv.FormatInt(im.jobID, 10), RecordedBy: actorName(ctx)}); err != nil {
			return false, err
		}
	}
	have, err := s.st.tags(ctx, cur.ID)
	if err != nil {
		return false, err
	}
	for _, t := range v.tags {
		if slicesContainsTag(have, t.Tag) {
			continue
		}
		t.Since = s.today()
		changed = true
		if err := s.st.setTag(ctx, cur.ID, t); err != nil {
			return false, err
		}
		if err := facts.Add(ctx, s.DB, cur.Division, t.Since/100, MetricTag(t.Tag), 1); err != nil {
			return false, err
		}
		if err := s.st.insertEvent(ctx, Event{ResidentID: cur.ID, Kind: EventTagOn, Effective: t.Since, Detail: t.Tag, RecordedBy: actorName(ctx)}); err != nil {
			return false, err
		}
	}
	if cur.Division != r.in.Division || cur.HouseholdID != hh {
		next.Division, next.HouseholdID = cur.Division, cur.HouseholdID
		return true, s.relocate(ctx, next, r.in.Division, hh, s.today(), EventTransfer)
	}
	return changed, nil
}

func slicesContainsTag(ts []TagValue, tag string) bool {
	for _, t := range ts {
		if t.Tag == tag {
			return true
		}
	}
	return false
}

// ImportCheckpoint is where an import job stands, committed with each batch.
type ImportCheckpoint struct {
	Phase   string `json:"phase"` // validate, write
	Line    int    `json:"line"`  // the last line handled
	Created int    `json:"created"`
	Updated int    `json:"updated"`
	Same    int    `json:"unchanged"`
	Failed  int    `json:"failed"`
	Rows    int    `json:"rows"`
}

// ImportResult is an import job's outcome.
type ImportResult struct {
	Rows, Created, Updated, Unchanged, Failed int
	Imported                                  bool // false for a dry run or an all-or-nothing import with errors
}

func (r ImportResult) String() string {
	return fmt.Sprintf("%d rows: %d created, %d updated, %d unchanged, %d refused", r.Rows, r.Created, r.Updated, r.Unchanged, r.Failed)
}
