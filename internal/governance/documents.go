package governance

// Documents (SX-4, DG-5, NT-7): a village's self-governance charter,
// village rules, residents' covenant and regulations, kept in versions.
// A version exists only with the resolution that adopted it: a passed
// agenda item of a held meeting of the body the pack names for the kind
// (usually the villagers' assembly or the representatives' meeting), in
// the same village. The pack's deadlines (DG-5: revised by 2017-04-30) and
// targets (SX-4: 15 regulations) are shown against what each village has
// adopted.
//
// This file holds the model, the rules and the operations;
// store_documents.go the SQL; http_documents.go and
// templates/gov_document*.html the pages.

import (
	"context"
	"errors"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/shequ-platform/shequ/internal/platform/access"
	"github.com/shequ-platform/shequ/internal/platform/audit"
	"github.com/shequ-platform/shequ/internal/platform/db"
	"github.com/shequ-platform/shequ/internal/platform/field"
	"github.com/shequ-platform/shequ/internal/platform/ids"
	"github.com/shequ-platform/shequ/internal/platform/policy"
)

// Bounds of a document's input.
const (
	MaxDocumentTitleRunes = 100
	MaxDocumentTextRunes  = 50_000
	MaxVersionNoteRunes   = 1000
)

// Document is a versioned document of a village (gov_documents).
type Document struct {
	ID        int64
	County    int64
	Division  int64  // the village
	Kind      string // a document kind of the pack (policy.DocumentKind.Key)
	Title     string
	CreatedAt int64
	CreatedBy string
	// Current is the latest version (zero Version when none is loaded).
	Current DocumentVersion
	// Versions, oldest first, when loaded (GetDocument).
	Versions []DocumentVersion
}

// DocumentVersion is one adopted version of a document
// (gov_document_versions), with the meeting and the vote that adopted it.
type DocumentVersion struct {
	ID         int64
	DocumentID int64
	Version    int // 1, 2, …
	Text       string
	Note       string // what changed
	MeetingID  int64
	AgendaID   int64
	AdoptedDay int // YYYYMMDD: the day of the adopting vote
	CreatedAt  int64
	CreatedBy  string

	// The adopting meeting and vote, filled when loaded.
	MeetingTitle string
	MeetingDay   int
	BodyName     string
	ItemTitle    string
	Result       string
	For          int
	Against      int
	Abstain      int
	Members      int // the body's members on the day
	Present      int
}

// Adoption refusals (field agenda_id): every message begins "缺少通过该版本的
// 会议决议" and says what is missing.
const (
	AdoptionMissing       = "adoption_missing"         // no agenda item given, or none such
	AdoptionNotHeld       = "adoption_not_held"        // the meeting is not held (scheduled or cancelled)
	AdoptionOtherVillage  = "adoption_other_village"   // a meeting of another village
	AdoptionWrongBody     = "adoption_wrong_body"      // not a meeting of the body the kind's adopted_by names (Arg the body kind)
	AdoptionNotPassed     = "adoption_not_passed"      // the item was not passed (failed, no quorum, not voted)
	AdoptionUsed          = "adoption_used"            // the item already adopted a version
	AdoptionOtherDocument = "adoption_other_document"  // the item is about another document
	AdoptionBefore        = "adoption_before_previous" // adopted before the document's latest version
)

// Deadline states of a document kind at a village.
const (
	DeadlineNone    = ""        // the kind has no deadline
	DeadlineMet     = "met"     // a version was adopted on or before the deadline
	DeadlineLate    = "late"    // adopted, but only after the deadline
	DeadlineDue     = "due"     // none adopted yet; the deadline is ahead
	DeadlineOverdue = "overdue" // none adopted and the deadline has passed
)

// DocumentKindStatus is where a village stands with one document kind:
// how many documents it has adopted against the pack's target, and its
// deadline.
type DocumentKindStatus struct {
	Kind      policy.DocumentKind
	Documents int // documents of the kind (each has at least one adopted version)
	Target    int // the pack's target (at least 1)
	// FirstAdopted is the earliest adoption of a version of the kind (0:
	// none).
	FirstAdopted int
	Deadline     int // YYYYMMDD, 0: none
	State        string
}

// TargetMet tells whether the village has as many documents as the pack
// asks.
func (k DocumentKindStatus) TargetMet() bool { return k.Documents >= k.Target }

// DeadlineState decides a kind's deadline state from the earliest adoption
// of a version (0: none) on day today.
func DeadlineState(deadline, firstAdopted, today int) string {
	switch {
	case deadline == 0:
		return DeadlineNone
	case firstAdopted != 0 && firstAdopted <= deadline:
		return DeadlineMet
	case firstAdopted != 0:
		return DeadlineLate
	case today > deadline:
		return DeadlineOverdue
	}
	return DeadlineDue
}

// kindStatus builds the status of kind k from the village's aggregate.
func kindStatus(k policy.DocumentKind, docs, first, today int) DocumentKindStatus {
	st := DocumentKindStatus{Kind: k, Documents: docs, Target: max(k.Target, 1), FirstAdopted: first, Deadline: k.DeadlineDay()}
	st.State = DeadlineState(st.Deadline, first, today)
	return st
}

// documentKinds are the document kinds of the pack bound to code.
func (s *Service) documentKinds(code int64) []policy.DocumentKind {
	if g := s.Rules(code); g != nil {
		return g.Documents
	}
	return nil
}

// DocumentKinds returns the document kinds of the pack bound to code, for
// pages.
func (s *Service) DocumentKinds(code int64) []policy.DocumentKind { return s.documentKinds(code) }

// DocumentInput is a new document with its first version.
type DocumentInput struct {
	// Village is the village (a grid stands for it); the principal needs
	// governance.manage there.
	Village int64
	Kind    string // a document kind of the village's pack
	Title   string
	Version VersionInput
}

// VersionInput is a version of a document.
type VersionInput struct {
	Text string
	Note string
	// AgendaID is the passed agenda item that adopted the version
	// (required).
	AgendaID int64
}

// CreateDocument records a document with its first version. Every problem
// of the input comes back at once as field.Errors (village, kind, title,
// text, note, agenda_id — see the Adoption codes); nothing is stored then.
func (s *Service) CreateDocument(ctx context.Context, p *access.Principal, in DocumentInput) (Document, error) {
	village, ok := VillageOf(in.Village)
	if !ok {
		if !p.CanAt(PermManage, in.Village) {
			return Document{}, ErrForbidden
		}
		return Document{}, field.Errors{{Field: "village", Code: "village_level"}}
	}
	if !p.CanAt(PermManage, village) {
		if p.CanAt(PermView, village) {
			return Document{}, ErrForbidden
		}
		s.deny(ctx, "gov_document", 0, village)
		return Document{}, db.ErrNotFound
	}
	if _, err := s.Divisions.Get(ctx, village); err != nil {
		if errors.Is(err, db.ErrNotFound) {
			return Document{}, field.Errors{{Field: "village", Code: "village_unknown"}}
		}
		return Document{}, err
	}
	now := s.now()
	d := Document{County: ids.County(village), Division: village, Kind: strings.TrimSpace(in.Kind), Title: strings.TrimSpace(in.Title),
		CreatedAt: now.UnixMilli(), CreatedBy: actorName(ctx, p)}
	var es field.Errors
	kind, known := s.Rules(village).Document(d.Kind)
	switch {
	case len(s.documentKinds(village)) == 0:
		es.Add("kind", "no_kinds")
	case d.Kind == "":
		es.Add("kind", "required")
	case !known:
		es.Add("kind", "kind_unknown")
	}
	checkDocText(&es, "title", d.Title, MaxDocumentTitleRunes, true)
	v := DocumentVersion{Version: 1, Text: strings.TrimSpace(in.Version.Text), Note: strings.TrimSpace(in.Version.Note),
		AgendaID: in.Version.AgendaID, CreatedAt: now.UnixMilli(), CreatedBy: d.CreatedBy}
	checkDocText(&es, "text", v.Text, MaxDocumentTextRunes, true)
	checkDocText(&es, "note", v.Note, MaxVersionNoteRunes, false)
	err := s.DB.Tx(ctx, func(ctx context.Context) error {
		if known {
			if err := s.adoption(ctx, d, kind, &v, 0, &es); err != nil {
				return err
			}
		} else if v.AgendaID <= 0 {
			es.Add("agenda_id", AdoptionMissing)
		}
		if err := es.Err(); err != nil {
			return err
		}
		st := s.docst()
		if err := st.insert(ctx, &d); err != nil {
			return err
		}
		v.DocumentID = d.ID
		if err := st.insertVersion(ctx, &v); err != nil {
			return err
		}
		d.Current = v
		return s.Audit.Write(ctx, audit.Entry{Action: audit.Create, Entity: "gov_document", EntityID: strconv.FormatInt(d.ID, 10),
			Division: d.Division, Changes: []audit.Change{{Field: "kind", After: d.Kind}, {Field: "title", After: d.Title},
				{Field: "version", After: v.Version}, {Field: "meeting_id", After: v.MeetingID}, {Field: "agenda_id", After: v.AgendaID},
				{Field: "adopted_day", After: v.AdoptedDay}}})
	})
	if err != nil {
		return Document{}, err
	}
	return d, nil
}

// AddVersion records a new version of a document, adopted at a meeting
// after the latest one's (field errors: text, note, agenda_id).
func (s *Service) AddVersion(ctx context.Context, p *access.Principal, id int64, in VersionInput) (DocumentVersion, error) {
	var v DocumentVersion
	err := s.DB.Tx(ctx, func(ctx context.Context) error {
		st := s.docst()
		d, err := st.lock(ctx, id)
		if err != nil {
			return err
		}
		if !p.CanAt(PermView, d.Division) {
			return &documentDenied{id: id, division: d.Division}
		}
		if !p.CanAt(PermManage, d.Division) {
			return ErrForbidden
		}
		last, err := st.latest(ctx, id)
		if err != nil && !errors.Is(err, db.ErrNotFound) {
			return err
		}
		now := s.now()
		v = DocumentVersion{DocumentID: id, Version: last.Version + 1, Text: strings.TrimSpace(in.Text), Note: strings.TrimSpace(in.Note),
			AgendaID: in.AgendaID, CreatedAt: now.UnixMilli(), CreatedBy: actorName(ctx, p)}
		var es field.Errors
		checkDocText(&es, "text", v.Text, MaxDocumentTextRunes, true)
		checkDocText(&es, "note", v.Note, MaxVersionNoteRunes, false)
		kind, ok := s.Rules(d.Division).Document(d.Kind)
		if !ok {
			es.Add("agenda_id", "kind_unknown")
		} else if err := s.adoption(ctx, d, kind, &v, last.AdoptedDay, &es); err != nil {
			return err
		}
		if err := es.Err(); err != nil {
			return err
		}
		if err := st.insertVersion(ctx, &v); err != nil {
			return err
		}
		return s.Audit.Write(ctx, audit.Entry{Action: audit.Update, Entity: "gov_document", EntityID: strconv.FormatInt(id, 10),
			Division: d.Division, Changes: []audit.Change{{Field: "version", Before: last.Version, After: v.Version},
				{Field: "meeting_id", After: v.MeetingID}, {Field: "agenda_id", After: v.AgendaID}, {Field: "adopted_day", After: v.AdoptedDay},
				{Field: "note", After: v.Note}}})
	})
	if err != nil {
		var dd *documentDenied
		if errors.As(err, &dd) {
			s.deny(ctx, "gov_document", dd.id, dd.division)
			return DocumentVersion{}, db.ErrNotFound
		}
		return DocumentVersion{}, err
	}
	return v, nil
}

// documentDenied is a scope refusal met inside a transaction, audited
// after it.
type documentDenied struct{ id, division int64 }

func (e *documentDenied) Error() string { return db.ErrNotFound.Error() }
func (e *documentDenied) Unwrap() error { return db.ErrNotFound }

// adoption checks the agenda item adopting v (v.AgendaID) for document d
// of kind k and fills v's meeting and day; problems go to es (field
// agenda_id). after is the latest version's adoption day (0: none).
func (s *Service) adoption(ctx context.Context, d Document, k policy.DocumentKind, v *DocumentVersion, after int, es *field.Errors) error {
	const f = "agenda_id"
	if v.AgendaID <= 0 {
		es.Add(f, AdoptionMissing)
		return nil
	}
	item, err := s.agendaByID(ctx, v.AgendaID)
	if errors.Is(err, db.ErrNotFound) {
		es.Add(f, AdoptionMissing)
		return nil
	} else if err != nil {
		return err
	}
	m, err := s.meetingByID(ctx, item.MeetingID)
	if errors.Is(err, db.ErrNotFound) {
		es.Add(f, AdoptionMissing)
		return nil
	} else if err != nil {
		return err
	}
	b, err := s.bodyByID(ctx, m.BodyID)
	if errors.Is(err, db.ErrNotFound) {
		es.Add(f, AdoptionMissing)
		return nil
	} else if err != nil {
		return err
	}
	day := item.DecidedDay
	if day == 0 {
		day = m.Day
	}
	switch {
	case m.Division != d.Division:
		es.Add(f, AdoptionOtherVillage)
	case b.Kind != k.AdoptedBy:
		es.Add(f, AdoptionWrongBody, k.AdoptedBy)
	case m.State != MeetingHeld:
		es.Add(f, AdoptionNotHeld)
	case item.Result != ResultPassed:
		es.Add(f, AdoptionNotPassed)
	case item.DocumentID != 0 && item.DocumentID != d.ID:
		es.Add(f, AdoptionOtherDocument)
	case day < after:
		es.Add(f, AdoptionBefore)
	default:
		used, err := s.docst().agendaUsed(ctx, v.AgendaID)
		if err != nil {
			return err
		}
		if used {
			es.Add(f, AdoptionUsed)
			return nil
		}
		v.MeetingID, v.AdoptedDay = m.ID, day
	}
	return nil
}

// checkDocText checks a text field: required (need) and at most max
// characters.
func checkDocText(es *field.Errors, name, v string, max int, need bool) {
	switch n := utf8.RuneCountInString(v); {
	case n == 0 && need:
		es.Add(name, "required")
	case n > max:
		es.Add(name, "too_long", strconv.Itoa(max))
	}
}

// GetDocument returns a document the principal may see (governance.view
// at its village) with its versions, oldest first, each with its meeting
// and vote; anything else is db.ErrNotFound (audited when outside scope).
func (s *Service) GetDocument(ctx context.Context, p *access.Principal, id int64) (Document, error) {
	st := s.docst()
	d, err := st.byID(ctx, id)
	if err != nil {
		return Document{}, err
	}
	if !p.CanAt(PermView, d.Division) {
		s.deny(ctx, "gov_document", id, d.Division)
		return Document{}, db.ErrNotFound
	}
	if d.Versions, err = st.versions(ctx, id); err != nil {
		return Document{}, err
	}
	if n := len(d.Versions); n > 0 {
		d.Current = d.Versions[n-1]
	}
	return d, nil
}

// Documents lists a village's documents the principal may see, by kind
// (the pack's order is the page's business) and title, each with its
// current version (without its text).
func (s *Service) Documents(ctx context.Context, p *access.Principal, village int64) ([]Document, error) {
	if !p.CanAt(PermView, village) {
		s.deny(ctx, "gov_document", 0, village)
		return nil, db.ErrNotFound
	}
	return s.docst().ofVillage(ctx, village, false)
}

// DocumentStatus returns where the village stands with each document kind
// of its pack, in the pack's order.
func (s *Service) DocumentStatus(ctx context.Context, p *access.Principal, village int64) ([]DocumentKindStatus, error) {
	if !p.CanAt(PermView, village) {
		s.deny(ctx, "gov_document", 0, village)
		return nil, db.ErrNotFound
	}
	agg, err := s.docst().aggregate(ctx, village, village, "1 = 1", nil)
	if err != nil {
		return nil, err
	}
	var out []DocumentKindStatus
	for _, k := range s.documentKinds(village) {
		a := agg[docKey{village, k.Key}]
		out = append(out, kindStatus(k, a.docs, a.first, s.Today()))
	}
	return out, nil
}

// VillageDocumentStatus is one village's row of an overview.
type VillageDocumentStatus struct {
	Village int64
	Name    string
	Kinds   []DocumentKindStatus
}

// DocumentOverview returns, for the villages under unit that the
// principal sees (at most limit), where each stands with its pack's
// document kinds: the township's or county's view of DG-5's deadline.
// Above a county (a prefecture, a province, the country) it returns
// nothing: choose a county or a village.
func (s *Service) DocumentOverview(ctx context.Context, p *access.Principal, unit int64, limit int) ([]VillageDocumentStatus, error) {
	if ids.Level(unit) < 3 {
		return nil, nil
	}
	lo, hi := ids.Subtree(unit)
	villages, err := s.Divisions.InRange(ctx, lo, hi, 5, 5)
	if err != nil {
		return nil, err
	}
	scope, args := p.Where(PermView, "d.division")
	agg, err := s.docst().aggregate(ctx, lo, hi, scope, args)
	if err != nil {
		return nil, err
	}
	today := s.Today()
	var out []VillageDocumentStatus
	for _, v := range villages {
		if v.Retired || !p.CanAt(PermView, v.Code) {
			continue
		}
		if limit > 0 && len(out) >= limit {
			break
		}
		row := VillageDocumentStatus{Village: v.Code, Name: v.Name}
		for _, k := range s.documentKinds(v.Code) {
			a := agg[docKey{v.Code, k.Key}]
			row.Kinds = append(row.Kinds, kindStatus(k, a.docs, a.first, today))
		}
		out = append(out, row)
	}
	return out, nil
}

// AdoptionOption is a passed agenda item that may adopt a version of a
// document of some kind: what the version form offers.
type AdoptionOption struct {
	AgendaID     int64
	MeetingID    int64
	MeetingTitle string
	Day          int
	BodyName     string
	ItemTitle    string
	For          int
	Against      int
	Abstain      int
}

// AdoptionOptions lists the passed, unused agenda items of the held
// meetings of village's body of the kind that adopts kind, newest first
// (at most 100): the resolutions a new version of document docID (0: a
// new document) may cite.
func (s *Service) AdoptionOptions(ctx context.Context, p *access.Principal, village int64, kind string, docID int64) ([]AdoptionOption, error) {
	if !p.CanAt(PermView, village) {
		return nil, db.ErrNotFound
	}
	k, ok := s.Rules(village).Document(kind)
	if !ok {
		return nil, nil
	}
	return s.docst().adoptionOptions(ctx, village, k.AdoptedBy, docID, 100)
}

// PublicDocuments lists a village's documents each with its current
// version (text included) and the meeting that adopted it: what the
// public portal shows. No principal: the documents are public.
func (s *Service) PublicDocuments(ctx context.Context, village int64) ([]Document, error) {
	return s.docst().ofVillage(ctx, village, true)
}

// DiffOp is the kind of a line of a diff.
type DiffOp int

// Diff line kinds.
const (
	DiffSame DiffOp = iota
	DiffAdded
	DiffRemoved
)

// DiffLine is one line of a line diff.
type DiffLine struct {
	Op   DiffOp
	Text string
}

// Added and Removed help templates.
func (l DiffLine) Added() bool   { return l.Op == DiffAdded }
func (l DiffLine) Removed() bool { return l.Op == DiffRemoved }

// maxDiffCells bounds the work of Diff (lines of a times lines of b);
// larger texts are shown as removed and added whole.
const maxDiffCells = 4_000_000

// Diff compares two texts line by line (a longest common subsequence):
// the lines of b added, the lines of a removed, the others kept, in
// order.
func Diff(a, b string) []DiffLine {
	as, bs := splitLines(a), splitLines(b)
	// common prefix and suffix first: versions mostly change in places
	pre := 0
	for pre < len(as) && pre < len(bs) && as[pre] == bs[pre] {
		pre++
	}
	suf := 0
	for suf < len(as)-pre && suf < len(bs)-pre && as[len(as)-1-suf] == bs[len(bs)-1-suf] {
		suf++
	}
	var out []DiffLine
	for _, l := range as[:pre] {
		out = append(out, DiffLine{DiffSame, l})
	}
	x, y := as[pre:len(as)-suf], bs[pre:len(bs)-suf]
	if len(x)*len(y) > maxDiffCells {
		for _, l := range x {
			out = append(out, DiffLine{DiffRemoved, l})
		}
		for _, l := range y {
			out = append(out, DiffLine{DiffAdded, l})
		}
	} else {
		// lcs[i][j] is the LCS length of x[i:] and y[j:]
		lcs := make([][]int32, len(x)+1)
		for i := range lcs {
			lcs[i] = make([]int32, len(y)+1)
		}
		for i := len(x) - 1; i >= 0; i-- {
			for j := len(y) - 1; j >= 0; j-- {
				if x[i] == y[j] {
					lcs[i][j] = lcs[i+1][j+1] + 1
				} else {
					lcs[i][j] = max(lcs[i+1][j], lcs[i][j+1])
				}
			}
		}
		i, j := 0, 0
		for i < len(x) && j < len(y) {
			switch {
			case x[i] == y[j]:
				out = append(out, DiffLine{DiffSame, x[i]})
				i++
				j++
			case lcs[i+1][j] >= lcs[i][j+1]:
				out = append(out, DiffLine{DiffRemoved, x[i]})
				i++
			default:
				out = append(out, DiffLine{DiffAdded, y[j]})
				j++
			}
		}
		for ; i < len(x); i++ {
			out = append(out, DiffLine{DiffRemoved, x[i]})
		}
		for ; j < len(y); j++ {
			out = append(out, DiffLine{DiffAdded, y[j]})
		}
	}
	for _, l := range as[len(as)-suf:] {
		out = append(out, DiffLine{DiffSame, l})
	}
	return out
}

// splitLines splits a text into lines (\r\n and \n), without a last empty
// line.
func splitLines(s string) []string {
	s = strings.ReplaceAll(s, "\r\n", "\n")
	s = strings.TrimSuffix(s, "\n")
	if s == "" {
		return nil
	}
	return strings.Split(s, "\n")
}
