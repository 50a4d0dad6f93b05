package grid

// Follow-ups of special groups (DG-17): residents carrying a restricted tag
// (community correction, drug rehabilitation, released prisoners, severe
// mental illness) are visited, phoned or talked to on a schedule. It is
// highly sensitive: only a principal with resident.special where the
// resident lives sees or records follow-ups, anyone else meets "not found"
// (audited), every read is audited, and the notes are sealed (SM4).

import (
	"cmp"
	"context"
	"database/sql"
	"errors"
	"slices"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/shequ-platform/shequ/internal/platform/access"
	"github.com/shequ-platform/shequ/internal/platform/audit"
	"github.com/shequ-platform/shequ/internal/platform/db"
	"github.com/shequ-platform/shequ/internal/platform/facts"
	"github.com/shequ-platform/shequ/internal/platform/ids"
	"github.com/shequ-platform/shequ/internal/platform/pii"
	"github.com/shequ-platform/shequ/internal/registry"
)

// Kinds of follow-up.
const (
	FollowUpVisit = "visit" // 上门走访
	FollowUpPhone = "phone" // 电话联系
	FollowUpTalk  = "talk"  // 约谈
)

// FollowUpKinds lists the kinds in the order the form offers them.
var FollowUpKinds = []string{FollowUpVisit, FollowUpPhone, FollowUpTalk}

// MetricFollowUps counts follow-ups at the resident's unit in the month of
// the follow-up (a count only: nothing about who or which group).
const MetricFollowUps = "grid.followups"

// FollowUp is one follow-up of a resident in a special group.
type FollowUp struct {
	ID         int64
	County     int64
	Division   int64 // the resident's unit at the time
	ResidentID int64
	// Tag is the restricted tag followed up; the resident must carry it.
	Tag  string
	Kind string
	Day  int   // YYYYMMDD; 0 on input: today
	At   int64 // unix ms of the record
	// WorkerID and WorkerName are who recorded it.
	WorkerID   int64
	WorkerName string
	// Note is the plain text (sealed at rest).
	Note string
	// NextDay is when the next follow-up is due (0: none planned).
	NextDay int
}

// followUpAudit is the entity of the audit entries of follow-ups; reads are
// recorded as audit.Reveal ("sensitive data viewed").
const followUpAudit = "followup"

// specialResident returns the resident for a principal holding resident.special
// where the resident lives; to anyone else the resident's follow-ups do not
// exist (db.ErrNotFound, the refusal audited).
func (s *Service) specialResident(ctx context.Context, p *access.Principal, residentID int64) (registry.Resident, error) {
	r, err := s.Registry.Get(ctx, p, residentID) // audits its own refusal (nobody's too)
	if err != nil {
		return registry.Resident{}, err
	}
	if !p.CanAt("resident.special", r.Division) {
		if s.Access != nil {
			s.Access.Deny(ctx, followUpAudit, strconv.FormatInt(residentID, 10), r.Division)
		}
		return registry.Resident{}, db.ErrNotFound
	}
	return r, nil
}

// followUpValidDay reports whether d is a real YYYYMMDD day.
func followUpValidDay(d int) bool { return d > 19000000 && dayOf(dayTime(d)) == d }

// Record records a follow-up of a resident by the principal (resident.special
// where the resident lives). The tag must be a restricted tag of the pack
// that the resident carries.
func (s *Service) Record(ctx context.Context, p *access.Principal, f FollowUp) (FollowUp, error) {
	r, err := s.specialResident(ctx, p, f.ResidentID)
	if err != nil {
		return FollowUp{}, err
	}
	today := s.Today()
	now := s.now()
	out := FollowUp{County: ids.County(r.Division), Division: r.Division, ResidentID: r.ID, Tag: strings.TrimSpace(f.Tag),
		Kind: f.Kind, Day: f.Day, At: now.UnixMilli(), WorkerID: p.UserID, WorkerName: actorName(p),
		Note: strings.TrimSpace(f.Note), NextDay: f.NextDay}
	var es Errors
	if r.Status != registry.Present {
		es.Add("resident", "followup_not_present")
	}
	carried := slices.ContainsFunc(r.Tags, func(t registry.TagValue) bool { return t.Tag == out.Tag })
	if out.Tag == "" {
		es.Add("tag", "followup_tag_required")
	} else if !carried || !slices.Contains(s.Registry.RestrictedTags(r.Division), out.Tag) {
		es.Add("tag", "followup_tag")
	}
	if !slices.Contains(FollowUpKinds, out.Kind) {
		es.Add("kind", "followup_kind")
	}
	if out.Day == 0 {
		out.Day = today
	}
	switch {
	case !followUpValidDay(out.Day):
		es.Add("day", "followup_day_invalid")
	case out.Day > today:
		es.Add("day", "followup_day_future")
	}
	if out.NextDay != 0 && (!followUpValidDay(out.NextDay) || out.NextDay <= out.Day) {
		es.Add("next_day", "followup_next_day")
	}
	if out.Note == "" {
		es.Add("note", "followup_note_required")
	} else if utf8.RuneCountInString(out.Note) > maxNote {
		es.Add("note", "followup_note_too_long", strconv.Itoa(maxNote))
	}
	if len(es) > 0 {
		return FollowUp{}, es
	}
	sealedNote, err := s.Keys.Encrypt(out.Note)
	if err != nil {
		return FollowUp{}, err
	}
	err = s.DB.Tx(ctx, func(ctx context.Context) error {
		if err := s.st.insertFollowUp(ctx, &out, sealedNote); err != nil {
			return err
		}
		if err := facts.Add(ctx, s.DB, out.Division, period(out.Day), MetricFollowUps, 1); err != nil {
			return err
		}
		// neither the tag nor the note goes into the log
		return s.Audit.Write(ctx, audit.Entry{Action: audit.Create, Entity: followUpAudit, EntityID: strconv.FormatInt(out.ID, 10),
			Division: out.Division, Changes: []audit.Change{{Field: "resident", After: out.ResidentID}, {Field: "kind", After: out.Kind},
				{Field: "day", After: out.Day}, {Field: "next_day", After: out.NextDay}}})
	})
	if err != nil {
		return FollowUp{}, err
	}
	return out, nil
}

// ResidentFollowUps returns a resident (masked, with the tags the principal
// may see) and the resident's follow-ups, newest first, with their notes
// opened, to a principal with resident.special where the resident lives;
// the read is audited. Anyone else gets db.ErrNotFound (audited).
func (s *Service) ResidentFollowUps(ctx context.Context, p *access.Principal, residentID int64) (registry.Resident, []FollowUp, error) {
	r, err := s.specialResident(ctx, p, residentID)
	if err != nil {
		return r, nil, err
	}
	fs, err := s.st.followUpsOf(ctx, residentID)
	if err != nil {
		return r, nil, err
	}
	for i := range fs {
		if fs[i].Note, err = s.Keys.Decrypt(fs[i].Note); err != nil {
			return r, nil, err
		}
	}
	err = s.Audit.Write(ctx, audit.Entry{Action: audit.Reveal, Entity: followUpAudit, EntityID: "resident:" + strconv.FormatInt(residentID, 10),
		Division: r.Division, Changes: []audit.Change{{Field: "followups", After: len(fs)}}})
	if err != nil {
		return r, nil, err
	}
	return r, fs, nil
}

// Views of the follow-up list.
const (
	FollowUpAll     = "all"     // every resident of the unit in a special group
	FollowUpDue     = "due"     // the next follow-up is due today or earlier, or there has been none
	FollowUpOverdue = "overdue" // the next follow-up was due before today
)

// FollowUpViews lists the views in the order the page shows them.
var FollowUpViews = []string{FollowUpDue, FollowUpOverdue, FollowUpAll}

// FollowUpFilter selects rows of the follow-up list.
type FollowUpFilter struct {
	Unit   int64 // 0: the principal's resident.special scope root
	View   string
	Offset int
	Limit  int // 1–200 (default 50)
}

// FollowUpRow is a resident in a special group with where the follow-ups
// stand.
type FollowUpRow struct {
	registry.Hit
	LastDay int    // day of the latest follow-up (0: none yet)
	LastTag string // the tag it followed up
	NextDay int    // next follow-up due, as the latest follow-up planned it
	Due     bool   // due today or earlier, or never followed up
	Overdue bool   // the next follow-up was due before today
}

// Never reports whether the resident has never been followed up.
func (r FollowUpRow) Never() bool { return r.LastDay == 0 }

// FollowUpCounts are the sizes of the views.
type FollowUpCounts struct {
	All, Due, Overdue int
}

// FollowUpList returns one page of the residents in special groups of a
// unit with their latest and next follow-up — overdue first, then due, then
// by the next day — the counts of every view, and whether there are more.
// The principal needs resident.special at the unit (else db.ErrNotFound,
// audited); the read is audited.
func (s *Service) FollowUpList(ctx context.Context, p *access.Principal, f FollowUpFilter) ([]FollowUpRow, FollowUpCounts, bool, error) {
	var counts FollowUpCounts
	if f.Unit == 0 {
		f.Unit = rootOf(p, "resident.special")
	}
	if !slices.Contains(FollowUpViews, f.View) {
		f.View = FollowUpDue
	}
	if f.Limit <= 0 || f.Limit > 200 {
		f.Limit = 50
	}
	hits, _, err := s.Registry.SpecialResidents(ctx, p, f.Unit) // checks and audits the scope
	if err != nil {
		return nil, counts, false, err
	}
	residents := make([]int64, len(hits))
	for i, h := range hits {
		residents[i] = h.ID
	}
	latest, err := s.st.latestFollowUps(ctx, residents)
	if err != nil {
		return nil, counts, false, err
	}
	today := s.Today()
	all := make([]FollowUpRow, len(hits))
	for i, h := range hits {
		row := FollowUpRow{Hit: h}
		if l, ok := latest[h.ID]; ok {
			row.LastDay, row.LastTag, row.NextDay = l.Day, l.Tag, l.NextDay
		}
		row.Overdue = row.NextDay != 0 && row.NextDay < today
		row.Due = row.LastDay == 0 || row.NextDay != 0 && row.NextDay <= today
		all[i] = row
	}
	rank := func(r FollowUpRow) int {
		switch {
		case r.Overdue:
			return 0
		case r.Due:
			return 1
		}
		return 2
	}
	next := func(r FollowUpRow) int {
		if r.NextDay == 0 {
			return 99991231
		}
		return r.NextDay
	}
	slices.SortStableFunc(all, func(a, b FollowUpRow) int {
		return cmp.Or(cmp.Compare(rank(a), rank(b)), cmp.Compare(next(a), next(b)))
	})
	var rows []FollowUpRow
	for _, r := range all {
		counts.All++
		if r.Due {
			counts.Due++
		}
		if r.Overdue {
			counts.Overdue++
		}
		if f.View == FollowUpAll || f.View == FollowUpDue && r.Due || f.View == FollowUpOverdue && r.Overdue {
			rows = append(rows, r)
		}
	}
	start := min(max(f.Offset, 0), len(rows))
	rows = rows[start:]
	more := len(rows) > f.Limit
	if more {
		rows = rows[:f.Limit]
	}
	err = s.Audit.Write(ctx, audit.Entry{Action: audit.Reveal, Entity: followUpAudit, EntityID: "unit:" + strconv.FormatInt(f.Unit, 10),
		Division: f.Unit, Changes: []audit.Change{{Field: "view", After: f.View}, {Field: "rows", After: len(rows)}}})
	if err != nil {
		return nil, counts, false, err
	}
	return rows, counts, more, nil
}

// ReencryptFollowups re-seals the follow-up notes not sealed with the
// current key (shequ keys rotate); it returns the number of rows rewritten.
func (s *Service) ReencryptFollowups(ctx context.Context, progress func(int64)) (int64, error) {
	return pii.Reencrypt(ctx, s.DB, s.Keys, "followups", []string{"note"}, progress)
}

// ---- store ----

const followUpColumns = `id, county, division, resident_id, tag, kind, day, at, worker_id, worker_name, note, next_day`

func scanFollowUp(sc interface{ Scan(...any) error }) (FollowUp, error) {
	var f FollowUp
	err := sc.Scan(&f.ID, &f.County, &f.Division, &f.ResidentID, &f.Tag, &f.Kind, &f.Day, &f.At, &f.WorkerID, &f.WorkerName, &f.Note, &f.NextDay)
	if errors.Is(err, sql.ErrNoRows) {
		return f, db.ErrNotFound
	}
	return f, err
}

func (s store) insertFollowUp(ctx context.Context, f *FollowUp, sealedNote string) error {
	id, err := s.db.InsertID(ctx, `INSERT INTO followups (county, division, resident_id, tag, kind, day, at, worker_id, worker_name, note, next_day)
		VALUES (?,?,?,?,?,?,?,?,?,?,?)`, f.County, f.Division, f.ResidentID, f.Tag, f.Kind, f.Day, f.At, f.WorkerID, f.WorkerName, sealedNote, f.NextDay)
	f.ID = id
	return err
}

// followUpsOf lists a resident's follow-ups, newest first, notes sealed.
func (s store) followUpsOf(ctx context.Context, resident int64) ([]FollowUp, error) {
	rows, err := s.db.Query(ctx, `SELECT `+followUpColumns+` FROM followups WHERE resident_id = ? ORDER BY day DESC, id DESC`, resident)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var out []FollowUp
	for rows.Next() {
		f, err := scanFollowUp(rows)
		if err != nil {
			return nil, err
		}
		out = append(out, f)
	}
	return out, rows.Err()
}

// latestFollowUps returns each resident's latest follow-up (by day, then
// record), notes left out, a few hundred residents a query.
func (s store) latestFollowUps(ctx context.Context, residents []int64) (map[int64]FollowUp, error) {
	out := map[int64]FollowUp{}
	const chunk = 500
	for start := 0; start < len(residents); start += chunk {
		part := residents[start:min(start+chunk, len(residents))]
		args := make([]any, len(part))
		for i, id := range part {
			args[i] = id
		}
		rows, err := s.db.Query(ctx, `SELECT f.resident_id, f.tag, f.day, f.next_day FROM followups f
			WHERE f.resident_id IN (`+db.Placeholders(len(part))+`) AND NOT EXISTS (SELECT 1 FROM followups g
				WHERE g.resident_id = f.resident_id AND (g.day > f.day OR g.day = f.day AND g.id > f.id))`, args...)
		if err != nil {
			return nil, err
		}
		for rows.Next() {
			var f FollowUp
			if err := rows.Scan(&f.ResidentID, &f.Tag, &f.Day, &f.NextDay); err != nil {
				rows.Close()
				return nil, err
			}
			out[f.ResidentID] = f
		}
		rows.Close()
		if err := rows.Err(); err != nil {
			return nil, err
		}
	}
	return out, nil
}
