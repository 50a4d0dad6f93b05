package registry

import (
	"context"
	"fmt"
	"strconv"
	"strings"

	"github.com/shequ-platform/shequ/internal/platform/audit"
	"github.com/shequ-platform/shequ/internal/platform/db"
	"github.com/shequ-platform/shequ/internal/platform/facts"
	"github.com/shequ-platform/shequ/internal/platform/ids"
	"github.com/shequ-platform/shequ/internal/registry/pinyin"
)

// maxParams bounds the bind parameters of one statement: SQLite allows
// 32,766, PostgreSQL 65,535.
const maxParams = 30000

// ignoreDuplicates is insertRows' suffix for rows that may already be there
// (search keys, tags).
const ignoreDuplicates = " ON CONFLICT DO NOTHING"

// insertRows writes rows into table with multi-row INSERTs, as many rows
// per statement as the parameter limit allows. suffix is "" (every row must
// land), ignoreDuplicates, or another ON CONFLICT clause.
//
// On SQLite the first two are written INSERT OR IGNORE, and a shortfall of
// the first is an error. A multi-row INSERT that may abort halfway makes
// SQLite copy every page it is about to change into a statement journal
// first, so that the statement alone can be undone: 12 % of a 200,000-row
// import's time, in malloc or temporary-file writes. These inserts run in a
// transaction that is rolled back whole on any error, so the statement's own
// undo serves nothing, and OR IGNORE (which cannot abort) needs none.
func insertRows(ctx context.Context, d *db.DB, table string, cols []string, rows [][]any, suffix string) error {
	if len(rows) == 0 {
		return nil
	}
	verb, strict := "INSERT INTO ", false
	if d.Dialect == db.SQLite && (suffix == "" || suffix == ignoreDuplicates) {
		verb, strict, suffix = "INSERT OR IGNORE INTO ", suffix == "", ""
	}
	per := max(1, maxParams/len(cols))
	one := "(" + db.Placeholders(len(cols)) + ")"
	head := verb + table + " (" + strings.Join(cols, ", ") + ") VALUES "
	for start := 0; start < len(rows); start += per {
		part := rows[start:min(start+per, len(rows))]
		var b strings.Builder
		b.Grow(len(head) + len(part)*(len(one)+2) + len(suffix))
		b.WriteString(head)
		args := make([]any, 0, len(part)*len(cols))
		for i, r := range part {
			if i > 0 {
				b.WriteString(", ")
			}
			b.WriteString(one)
			args = append(args, r...)
		}
		b.WriteString(suffix)
		res, err := d.Exec(ctx, b.String(), args...)
		if err != nil {
			return err
		}
		if strict {
			n, err := res.RowsAffected()
			if err != nil {
				return err
			}
			if n != int64(len(part)) {
				return fmt.Errorf("insert into %s: %d of %d rows written, the others refused (a duplicate key or a missing value)", table, n, len(part))
			}
		}
	}
	return nil
}

// allocIDs reserves n consecutive-or-not ids of table inside the current
// transaction: on PostgreSQL from the identity sequence, on SQLite after the
// largest id (the single writer holds the database until commit).
func allocIDs(ctx context.Context, d *db.DB, table string, n int) ([]int64, error) {
	out := make([]int64, 0, n)
	if n == 0 {
		return out, nil
	}
	if d.Dialect == db.Postgres {
		rows, err := d.Query(ctx, "SELECT nextval(pg_get_serial_sequence('"+table+"', 'id')) FROM generate_series(1, ?)", n)
		if err != nil {
			return nil, err
		}
		defer rows.Close()
		for rows.Next() {
			var id int64
			if err := rows.Scan(&id); err != nil {
				return nil, err
			}
			out = append(out, id)
		}
		return out, rows.Err()
	}
	var top int64
	if err := d.QueryRow(ctx, "SELECT COALESCE(MAX(id), 0) FROM "+table).Scan(&top); err != nil {
		return nil, err
	}
	for i := range n {
		out = append(out, top+1+int64(i))
	}
	return out, nil
}

// factKey is one fact counter touched by a batch.
type factKey struct {
	division int64
	period   int
	metric   string
}

// factBatch sums the fact deltas of many rows so that a batch writes each
// counter once.
type factBatch map[factKey]int64

func (f factBatch) population(r Resident, day int, delta int64) {
	p := day / 100
	for _, m := range []string{MetricPopulation, MetricResidency(r.Residency), MetricGender(r.Gender), MetricBorn(r.Birth / 10000)} {
		f[factKey{r.Division, p, m}] += delta
	}
}

func (f factBatch) flush(ctx context.Context, d *db.DB) error {
	for k, v := range f {
		if v == 0 {
			continue
		}
		if err := facts.Add(ctx, d, k.division, k.period, k.metric, v); err != nil {
			return err
		}
	}
	return nil
}

// newResident is a validated resident ready for a bulk insert.
type newResident struct {
	r    Resident
	sec  secrets
	tags []TagValue
	kind string // the event: register, birth, move_in
}

// insertResidents adds many new residents in the transaction in ctx, with
// everything Register writes for one: identity, stint, event, tags, search
// keys and facts. It writes one audit entry for the whole batch (entity
// "import", the job's id), naming the count, as a per-row entry would make
// the audit chain the import's bottleneck; each resident's history shows
// its register event.
func (s *Service) insertResidents(ctx context.Context, rs []newResident, fb factBatch) error {
	if len(rs) == 0 {
		return nil
	}
	idsNew, err := allocIDs(ctx, s.DB, "residents", len(rs))
	if err != nil {
		return err
	}
	evIDs, err := allocIDs(ctx, s.DB, "resident_events", len(rs))
	if err != nil {
		return err
	}
	stIDs, err := allocIDs(ctx, s.DB, "residencies", len(rs))
	if err != nil {
		return err
	}
	now := db.Now()
	by := actorName(ctx)
	var residents, persons, stints, events, tags, keys [][]any
	for i := range rs {
		n := &rs[i]
		r := &n.r
		r.ID, r.CreatedAt, r.UpdatedAt, r.Status, r.County = idsNew[i], now, now, Present, ids.County(r.Division)
		residents = append(residents, []any{r.ID, r.County, r.Division, r.HouseholdID, r.Relation, r.Name, r.Gender, r.Birth, r.Ethnicity,
			n.sec.idEnc, nullable(n.sec.idLookup), n.sec.idMasked, n.sec.idTail4, n.sec.idTail6,
			n.sec.phoneEnc, n.sec.phoneLookup, n.sec.phoneMasked, n.sec.phoneTail4,
			r.Residency, r.Status, b2i(r.PartyMember), r.Education, r.Employment, r.Since, now, now})
		if n.sec.idLookup != "" {
			persons = append(persons, []any{n.sec.idLookup, r.ID})
		}
		stints = append(stints, []any{stIDs[i], r.ID, r.Division, r.HouseholdID, r.Residency, r.Since})
		events = append(events, []any{evIDs[i], r.ID, n.kind, r.Since, r.Division, now, by})
		for _, t := range n.tags {
			tags = append(tags, []any{r.ID, t.Tag, t.Grade, t.Since})
			fb[factKey{r.Division, t.Since / 100, MetricTag(t.Tag)}]++
		}
		for _, k := range pinyin.NameKeys(r.Name) {
			keys = append(keys, []any{k, r.Division, r.ID})
		}
		fb.population(*r, r.Since, 1)
	}
	steps := []struct {
		table  string
		cols   []string
		rows   [][]any
		suffix string
	}{
		{"residents", []string{"id", "county", "division", "household_id", "relation", "name", "gender", "birth", "ethnicity",
			"id_enc", "id_lookup", "id_masked", "id_tail4", "id_tail6", "phone_enc", "phone_lookup", "phone_masked", "phone_tail4",
			"residency", "status", "party_member", "education", "employment", "since", "created_at", "updated_at"}, residents, ""},
		{"person_ids", []string{"id_lookup", "resident_id"}, persons, ""},
		{"residencies", []string{"id", "resident_id", "division", "household_id", "residency", "since"}, stints, ""},
		{"resident_events", []string{"id", "resident_id", "kind", "effective", "to_division", "recorded_at", "recorded_by"}, events, ""},
		{"resident_tags", []string{"resident_id", "tag", "grade", "since"}, tags, ignoreDuplicates},
		{"resident_keys", []string{"key", "division", "resident_id"}, keys, ignoreDuplicates},
	}
	for _, st := range steps {
		if err := insertRows(ctx, s.DB, st.table, st.cols, st.rows, st.suffix); err != nil {
			return err
		}
	}
	return nil
}

// auditBatch writes the audit entry of one committed import batch.
func (s *Service) auditBatch(ctx context.Context, jobID int64, division int64, firstLine, lastLine, created, updated int) error {
	return s.Audit.Write(ctx, audit.Entry{Action: audit.Create, Entity: "import", EntityID: strconv.FormatInt(jobID, 10), Division: division,
		Changes: []audit.Change{{Field: "lines", After: strconv.Itoa(firstLine) + "-" + strconv.Itoa(lastLine)},
			{Field: "created", After: created}, {Field: "updated", After: updated}}})
}
