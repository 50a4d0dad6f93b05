package governance

import (
	"context"
	"errors"
	"slices"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/shequ-platform/shequ/internal/platform/access"
	"github.com/shequ-platform/shequ/internal/platform/audit"
	"github.com/shequ-platform/shequ/internal/platform/calendar"
	"github.com/shequ-platform/shequ/internal/platform/db"
	"github.com/shequ-platform/shequ/internal/platform/field"
	"github.com/shequ-platform/shequ/internal/platform/i18n"
	"github.com/shequ-platform/shequ/internal/platform/ids"
	"github.com/shequ-platform/shequ/internal/platform/policy"
	"github.com/shequ-platform/shequ/internal/registry"
)

// Bodies and their members. A body is one term of one body of a village
// (a new term is a new row, and the old one ends); its members are drawn
// from the registry, with the name, gender, residency and party membership
// copied at appointment. The pack's rules for the kind (size, chair, the
// chair's other post, DG-2's party form and non-local member, women's
// share, the term) are checked whenever a body is shown and reported as
// warnings naming the seed rule: a village with a body that breaks a rule
// must still be able to record it as it is.

// Body is one body of a village for one term (gov_bodies). The fields below
// are the contract other parts rely on; bodies.go's owner may add fields.
type Body struct {
	ID           int64
	County       int64
	Division     int64  // the village (or township)
	Kind         string // a body kind of the pack (policy.BodyKind.Key)
	Name         string
	TermStart    int // YYYYMMDD
	TermEnd      int // 0: open-ended
	PartyMembers int // party organisations: members counted for DG-2's form
	Note         string
	CreatedAt    int64
	CreatedBy    string
	UpdatedAt    int64
	Members      []Member // current members, when loaded

	// Current tells whether the body is in office: its term has not ended,
	// or members still serve (a term that ran out without a new one is
	// still the body in office, with a warning).
	Current bool
}

// Member is a member of a body (gov_members), drawn from the registry.
// UntilDay is the last day of the membership.
type Member struct {
	ID         int64
	BodyID     int64
	ResidentID int64
	Name       string
	Gender     string // M or F
	Residency  string // registry.Registered, NonRegistered, Migrant
	Party      bool
	Post       string // a post of the body kind
	SinceDay   int
	UntilDay   int // 0: still a member
}

// On tells whether the membership covers day.
func (m Member) On(day int) bool {
	return m.SinceDay <= day && (m.UntilDay == 0 || m.UntilDay >= day)
}

// NonLocal tells whether the member is not a registered (户籍) resident.
func (m Member) NonLocal() bool { return m.Residency != "" && m.Residency != registry.Registered }

// Limits of the texts of bodies and members.
const (
	MaxBodyNameRunes = 100
	MaxBodyNoteRunes = 2000
)

// BodyInput is a body as typed.
type BodyInput struct {
	// Division is the village (a grid or villager group stands for its
	// village); the principal needs governance.manage there.
	Division int64
	Kind     string // a body kind of the village's pack
	// Name defaults to the village's name and the kind's label.
	Name string
	// TermStart defaults to today; TermEnd to the end of the kind's
	// term_years (0 and no term_years: open-ended). Dates as 2006-01-02.
	TermStart, TermEnd string
	PartyMembers       int
	Note               string
}

// MemberInput is a member as appointed.
type MemberInput struct {
	ResidentID int64  // a present resident of the body's village
	Post       string // a post of the kind (default its last, the plain member)
	Since      string // default the later of today and the term's start
}

// Body kinds' labels, posts and rules come from the pack bound to the
// body's village.

// BodyKind returns the body kind of b's pack (ok false when the pack no longer
// has it).
func (s *Service) BodyKind(b Body) (policy.BodyKind, bool) {
	return s.Rules(b.Division).Body(b.Kind)
}

// KindLabel names a body kind of code's pack in locale (the key when the
// pack has no such kind).
func (s *Service) KindLabel(code int64, kind, locale string) string {
	if k, ok := s.Rules(code).Body(kind); ok {
		return k.Label.Get(locale)
	}
	return kind
}

// PostLabel names a post of a body kind of code's pack in locale.
func (s *Service) PostLabel(code int64, kind, post, locale string) string {
	if k, ok := s.Rules(code).Body(kind); ok {
		if p, ok := k.Post(post); ok {
			return p.Label.Get(locale)
		}
	}
	return post
}

// addYears moves a day by whole years (29 February becomes 28 February).
func addYears(day, years int) int {
	y, md := day/10000+years, day%10000
	if md == 229 && !(y%4 == 0 && (y%100 != 0 || y%400 == 0)) {
		md = 228
	}
	return y*10000 + md
}

// TermEndOf is the last day of a term of years starting on start (0 for
// none).
func TermEndOf(start, years int) int {
	if years <= 0 || start == 0 {
		return 0
	}
	return calendar.AddDays(addYears(start, years), -1)
}

// bodyParseDay reads an optional date field: 0 when empty.
func bodyParseDay(es *field.Errors, name, v string) int {
	v = strings.TrimSpace(v)
	if v == "" {
		return 0
	}
	d, ok := calendar.ParseDay(v)
	if !ok {
		es.Add(name, "date_invalid")
		return 0
	}
	return d
}

func bodyCheckText(es *field.Errors, name, v string, max int, required bool) {
	switch {
	case required && v == "":
		es.Add(name, "required")
	case utf8.RuneCountInString(v) > max:
		es.Add(name, "too_long", strconv.Itoa(max))
	}
}

// bodyVillage resolves a unit to its village for p: ErrForbidden without
// governance.manage there, field errors for a unit that is not (in) a
// village or does not exist.
func (s *Service) bodyVillage(ctx context.Context, p *access.Principal, unit int64, perm string) (int64, error) {
	v, ok := VillageOf(unit)
	if !ok {
		if !p.CanAt(perm, unit) {
			return 0, ErrForbidden
		}
		return 0, field.Errors{{Field: "division", Code: "unit_level"}}
	}
	if !p.CanAt(perm, v) {
		return 0, ErrForbidden
	}
	if _, err := s.Divisions.Get(ctx, v); err != nil {
		if errors.Is(err, db.ErrNotFound) {
			return 0, field.Errors{{Field: "division", Code: "unit_unknown"}}
		}
		return 0, err
	}
	return v, nil
}

// nameOfUnit is a unit's name ("" when unknown).
func (s *Service) nameOfUnit(ctx context.Context, code int64) string {
	d, err := s.Divisions.Get(ctx, code)
	if err != nil {
		return ""
	}
	return d.Name
}

// CreateBody records a body of a village for a term. Every problem is
// returned at once as field.Errors (division, kind, name, term_start,
// term_end, party_members, note); the body and its audit entry commit
// together.
func (s *Service) CreateBody(ctx context.Context, p *access.Principal, in BodyInput) (Body, error) {
	v, err := s.bodyVillage(ctx, p, in.Division, PermManage)
	if err != nil {
		return Body{}, err
	}
	var es field.Errors
	now := s.now()
	today := calendar.DayOf(now)
	b := Body{County: ids.County(v), Division: v, Kind: strings.TrimSpace(in.Kind), Name: strings.TrimSpace(in.Name),
		PartyMembers: in.PartyMembers, Note: strings.TrimSpace(in.Note), CreatedAt: now.UnixMilli(), CreatedBy: actorName(ctx, p),
		UpdatedAt: now.UnixMilli(), Current: true}
	g := s.Rules(v)
	kind, ok := g.Body(b.Kind)
	switch {
	case g == nil || len(g.Bodies) == 0:
		es.Add("kind", "no_rules")
	case b.Kind == "":
		es.Add("kind", "required")
	case !ok:
		es.Add("kind", "kind_unknown")
	}
	if b.Name == "" && ok {
		b.Name = s.nameOfUnit(ctx, v) + kind.Label.Get(policy.DefaultLocale)
	}
	bodyCheckText(&es, "name", b.Name, MaxBodyNameRunes, true)
	bodyCheckText(&es, "note", b.Note, MaxBodyNoteRunes, false)
	if b.PartyMembers < 0 || b.PartyMembers > 100000 {
		es.Add("party_members", "party_members_range")
	}
	b.TermStart = bodyParseDay(&es, "term_start", in.TermStart)
	if b.TermStart == 0 && es.For("term_start") == nil {
		b.TermStart = today
	}
	b.TermEnd = bodyParseDay(&es, "term_end", in.TermEnd)
	if strings.TrimSpace(in.TermEnd) == "" && ok {
		b.TermEnd = TermEndOf(b.TermStart, kind.TermYears)
	}
	if b.TermEnd != 0 && b.TermEnd < b.TermStart {
		es.Add("term_end", "term_order")
	}
	if err := es.Err(); err != nil {
		return Body{}, err
	}
	err = s.scopedTx(ctx, func(ctx context.Context) error {
		if err := insertBody(ctx, s.DB, &b); err != nil {
			return err
		}
		return s.Audit.Write(ctx, audit.Entry{Action: audit.Create, Entity: "gov_body", EntityID: strconv.FormatInt(b.ID, 10),
			Division: b.Division, Changes: []audit.Change{{Field: "kind", After: b.Kind}, {Field: "name", After: b.Name},
				{Field: "term_start", After: b.TermStart}, {Field: "term_end", After: b.TermEnd}}})
	})
	if err != nil {
		return Body{}, err
	}
	return b, nil
}

// BodyUpdate is what may change on a body: name, term end, the party
// members counted for DG-2, the note.
type BodyUpdate struct {
	Name         string
	TermEnd      string // "" : open-ended
	PartyMembers int
	Note         string
}

// UpdateBody changes a body's name, term end, party member count and note.
func (s *Service) UpdateBody(ctx context.Context, p *access.Principal, id int64, in BodyUpdate) (Body, error) {
	var out Body
	err := s.scopedTx(ctx, func(ctx context.Context) error {
		b, err := s.managedBody(ctx, p, id)
		if err != nil {
			return err
		}
		var es field.Errors
		after := b
		after.Name, after.Note, after.PartyMembers = strings.TrimSpace(in.Name), strings.TrimSpace(in.Note), in.PartyMembers
		bodyCheckText(&es, "name", after.Name, MaxBodyNameRunes, true)
		bodyCheckText(&es, "note", after.Note, MaxBodyNoteRunes, false)
		if after.PartyMembers < 0 || after.PartyMembers > 100000 {
			es.Add("party_members", "party_members_range")
		}
		after.TermEnd = bodyParseDay(&es, "term_end", in.TermEnd)
		if after.TermEnd != 0 && after.TermEnd < after.TermStart {
			es.Add("term_end", "term_order")
		}
		if err := es.Err(); err != nil {
			return err
		}
		after.UpdatedAt = s.now().UnixMilli()
		if err := updateBody(ctx, s.DB, after); err != nil {
			return err
		}
		var ch []audit.Change
		add := func(name string, a, b any) {
			if a != b {
				ch = append(ch, audit.Change{Field: name, Before: a, After: b})
			}
		}
		add("name", b.Name, after.Name)
		add("term_end", b.TermEnd, after.TermEnd)
		add("party_members", b.PartyMembers, after.PartyMembers)
		add("note", b.Note, after.Note)
		out = after
		return s.Audit.Write(ctx, audit.Entry{Action: audit.Update, Entity: "gov_body", EntityID: strconv.FormatInt(b.ID, 10),
			Division: b.Division, Changes: ch})
	})
	if err != nil {
		return Body{}, err
	}
	return s.withMembers(ctx, out)
}

// bodyByID returns a body without its members and without a scope check
// (for the other parts, which check the scope themselves).
func (s *Service) bodyByID(ctx context.Context, id int64) (Body, error) {
	return bodyRow(ctx, s.DB, id, false, s.Today())
}

// scopeDenied is a record outside the principal's scope met inside a
// transaction: it reads as db.ErrNotFound, and scopedTx audits the denial
// once the transaction has rolled back.
type scopeDenied struct {
	entity       string
	id, division int64
}

func (e *scopeDenied) Error() string        { return "governance: not found" }
func (e *scopeDenied) Is(target error) bool { return target == db.ErrNotFound }

// scopedTx runs fn in a transaction; a scopeDenied it returns is audited
// after the rollback (so the denial is not rolled back with it).
func (s *Service) scopedTx(ctx context.Context, fn func(ctx context.Context) error) error {
	err := s.DB.Tx(ctx, fn)
	var sd *scopeDenied
	if errors.As(err, &sd) {
		s.deny(ctx, sd.entity, sd.id, sd.division)
		return db.ErrNotFound
	}
	return err
}

// managedBody reads a body for a change inside a transaction (locked on
// PostgreSQL): a scopeDenied outside p's view (see scopedTx), ErrForbidden
// without governance.manage.
func (s *Service) managedBody(ctx context.Context, p *access.Principal, id int64) (Body, error) {
	b, err := bodyRow(ctx, s.DB, id, true, s.Today())
	if err != nil {
		return b, err
	}
	if !p.CanAt(PermView, b.Division) {
		return Body{}, &scopeDenied{"gov_body", b.ID, b.Division}
	}
	if !p.CanAt(PermManage, b.Division) {
		return Body{}, ErrForbidden
	}
	return b, nil
}

// GetBody returns a body the principal may see, with its current members;
// anything else is db.ErrNotFound (audited as denied when outside scope).
func (s *Service) GetBody(ctx context.Context, p *access.Principal, id int64) (Body, error) {
	b, err := s.bodyByID(ctx, id)
	if err != nil {
		return b, err
	}
	if !p.CanAt(PermView, b.Division) {
		s.deny(ctx, "gov_body", b.ID, b.Division)
		return Body{}, db.ErrNotFound
	}
	return s.withMembers(ctx, b)
}

func (s *Service) withMembers(ctx context.Context, b Body) (Body, error) {
	ms, err := membersOf(ctx, s.DB, []int64{b.ID}, s.Today())
	b.Members = ms[b.ID]
	return b, err
}

// AllMembers returns every membership of a body the principal may see,
// past ones included, current first.
func (s *Service) AllMembers(ctx context.Context, p *access.Principal, id int64) ([]Member, error) {
	if _, err := s.GetBody(ctx, p, id); err != nil {
		return nil, err
	}
	return allMembers(ctx, s.DB, id)
}

// Bodies lists the bodies of a village the principal may see: the current
// ones with their members (past terms too when all is set), by kind in the
// pack's order.
func (s *Service) Bodies(ctx context.Context, p *access.Principal, village int64, all bool) ([]Body, error) {
	if !p.CanAt(PermView, village) {
		return nil, db.ErrNotFound
	}
	return s.villageBodies(ctx, village, all)
}

func (s *Service) villageBodies(ctx context.Context, village int64, all bool) ([]Body, error) {
	bs, err := bodiesIn(ctx, s.DB, village, village, all, s.Today())
	if err != nil {
		return nil, err
	}
	if err := s.loadMembers(ctx, bs); err != nil {
		return nil, err
	}
	s.sortBodies(bs)
	return bs, nil
}

func (s *Service) loadMembers(ctx context.Context, bs []Body) error {
	idl := make([]int64, len(bs))
	for i, b := range bs {
		idl[i] = b.ID
	}
	ms, err := membersOf(ctx, s.DB, idl, s.Today())
	if err != nil {
		return err
	}
	for i := range bs {
		bs[i].Members = ms[bs[i].ID]
	}
	return nil
}

// sortBodies orders bodies current first, then by the kind's place in the
// pack, then by name and term.
func (s *Service) sortBodies(bs []Body) {
	rank := func(b Body) int {
		g := s.Rules(b.Division)
		if g != nil {
			for i, k := range g.Bodies {
				if k.Key == b.Kind {
					return i
				}
			}
		}
		return 1 << 20
	}
	slices.SortStableFunc(bs, func(a, b Body) int {
		switch {
		case a.Current != b.Current:
			if a.Current {
				return -1
			}
			return 1
		case rank(a) != rank(b):
			return rank(a) - rank(b)
		case a.Name != b.Name:
			return strings.Compare(a.Name, b.Name)
		}
		return b.TermStart - a.TermStart
	})
}

// PublicBodies returns a village's current bodies with their current
// members, names and posts only, for the public portal.
func (s *Service) PublicBodies(ctx context.Context, village int64) ([]Body, error) {
	bs, err := s.villageBodies(ctx, village, false)
	if err != nil {
		return nil, err
	}
	for i := range bs {
		bs[i].Note, bs[i].CreatedBy, bs[i].PartyMembers = "", "", 0
		for j, m := range bs[i].Members {
			bs[i].Members[j] = Member{ID: m.ID, BodyID: m.BodyID, Name: m.Name, Post: m.Post, SinceDay: m.SinceDay}
		}
	}
	return bs, nil
}

// AddMember appoints a resident of the body's village to a post. Refused
// as field.Errors: an unknown resident or one the principal cannot see
// (resident_id resident_unknown), a resident of another village
// (resident_other_village) or one no longer living there (resident_gone),
// a resident already a member (already_member), a post the kind does not
// have (post_unknown), a second holder of the chair (post_taken, unless
// the chair is the kind's plain member post), a day
// outside the term (since).
func (s *Service) AddMember(ctx context.Context, p *access.Principal, bodyID int64, in MemberInput) (Member, error) {
	var m Member
	err := s.scopedTx(ctx, func(ctx context.Context) error {
		b, err := s.managedBody(ctx, p, bodyID)
		if err != nil {
			return err
		}
		var es field.Errors
		kind, ok := s.BodyKind(b)
		if !ok {
			es.Add("post", "kind_unknown")
			return es
		}
		if !b.Current {
			es.Add("body", "body_ended")
			return es
		}
		today := s.Today()
		m = Member{BodyID: b.ID, ResidentID: in.ResidentID, Post: strings.TrimSpace(in.Post)}
		if m.Post == "" && len(kind.Posts) > 0 {
			m.Post = kind.Posts[len(kind.Posts)-1].Key
		}
		if _, ok := kind.Post(m.Post); !ok {
			es.Add("post", "post_unknown")
		}
		m.SinceDay = bodyParseDay(&es, "since", in.Since)
		if m.SinceDay == 0 && es.For("since") == nil {
			m.SinceDay = max(today, b.TermStart)
			if b.TermEnd != 0 && m.SinceDay > b.TermEnd {
				m.SinceDay = b.TermStart
			}
		}
		if m.SinceDay != 0 && (m.SinceDay < b.TermStart || b.TermEnd != 0 && m.SinceDay > b.TermEnd) {
			es.Add("since", "outside_term")
		}
		var r registry.Resident
		if in.ResidentID <= 0 {
			es.Add("resident_id", "required")
		} else if r, err = s.Registry.Get(ctx, p, in.ResidentID); err != nil {
			if !errors.Is(err, db.ErrNotFound) {
				return err
			}
			es.Add("resident_id", "resident_unknown")
		} else {
			rv, _ := VillageOf(r.Division)
			switch {
			case rv != b.Division:
				es.Add("resident_id", "resident_other_village")
			case r.Status != registry.Present:
				es.Add("resident_id", "resident_gone")
			}
		}
		current, err := membersOf(ctx, s.DB, []int64{b.ID}, today)
		if err != nil {
			return err
		}
		for _, o := range current[b.ID] {
			if o.ResidentID == in.ResidentID && es.For("resident_id") == nil {
				es.Add("resident_id", "already_member")
			}
			if o.Post == m.Post && m.Post == kind.ChairPost() && len(kind.Posts) > 1 && kind.Posts[len(kind.Posts)-1].Key != m.Post && es.For("post") == nil {
				es.Add("post", "post_taken")
			}
		}
		if err := es.Err(); err != nil {
			return err
		}
		m.Name, m.Gender, m.Residency, m.Party = r.Name, r.Gender, r.Residency, r.PartyMember
		if err := insertMember(ctx, s.DB, &m, s.now().UnixMilli()); err != nil {
			return err
		}
		if err := touchBody(ctx, s.DB, b.ID, s.now().UnixMilli()); err != nil {
			return err
		}
		return s.Audit.Write(ctx, audit.Entry{Action: audit.Create, Entity: "gov_member", EntityID: strconv.FormatInt(m.ID, 10),
			Division: b.Division, Changes: []audit.Change{{Field: "body", After: b.ID}, {Field: "resident", After: m.ResidentID},
				{Field: "post", After: m.Post}, {Field: "since", After: m.SinceDay}}})
	})
	if err != nil {
		return Member{}, err
	}
	return m, nil
}

// EndMember ends a membership on until (its last day; "" today).
func (s *Service) EndMember(ctx context.Context, p *access.Principal, memberID int64, until string) (Member, error) {
	var m Member
	err := s.scopedTx(ctx, func(ctx context.Context) error {
		var err error
		if m, err = memberRow(ctx, s.DB, memberID); err != nil {
			return err
		}
		b, err := s.managedBody(ctx, p, m.BodyID)
		if err != nil {
			return err
		}
		var es field.Errors
		day := bodyParseDay(&es, "until", until)
		if day == 0 && es.For("until") == nil {
			day = s.Today()
		}
		switch {
		case m.UntilDay != 0:
			es.Add("until", "already_ended")
		case day != 0 && day < m.SinceDay:
			es.Add("until", "until_before_since")
		}
		if err := es.Err(); err != nil {
			return err
		}
		m.UntilDay = day
		if err := endMember(ctx, s.DB, m.ID, day); err != nil {
			return err
		}
		if err := touchBody(ctx, s.DB, b.ID, s.now().UnixMilli()); err != nil {
			return err
		}
		return s.Audit.Write(ctx, audit.Entry{Action: audit.Update, Entity: "gov_member", EntityID: strconv.FormatInt(m.ID, 10),
			Division: b.Division, Changes: []audit.Change{{Field: "until", After: day}}})
	})
	if err != nil {
		return Member{}, err
	}
	return m, nil
}

// TermInput starts a body's new term.
type TermInput struct {
	Start, End string // the new term (End defaults from the kind's term_years)
	Name       string // default the old name
	// Keep carries the current members over (same posts, from Start).
	Keep bool
}

// NewTerm starts a new term of a body: a new body row of the same kind,
// village and (unless renamed) name; the old body ends the day before and
// its current members leave then. Returns the new body.
func (s *Service) NewTerm(ctx context.Context, p *access.Principal, id int64, in TermInput) (Body, error) {
	var nb Body
	err := s.scopedTx(ctx, func(ctx context.Context) error {
		b, err := s.managedBody(ctx, p, id)
		if err != nil {
			return err
		}
		var es field.Errors
		if !b.Current {
			es.Add("body", "body_ended")
			return es
		}
		kind, _ := s.BodyKind(b)
		now := s.now()
		nb = Body{County: b.County, Division: b.Division, Kind: b.Kind, Name: strings.TrimSpace(in.Name), PartyMembers: b.PartyMembers,
			CreatedAt: now.UnixMilli(), CreatedBy: actorName(ctx, p), UpdatedAt: now.UnixMilli(), Current: true}
		if nb.Name == "" {
			nb.Name = b.Name
		}
		bodyCheckText(&es, "name", nb.Name, MaxBodyNameRunes, true)
		nb.TermStart = bodyParseDay(&es, "term_start", in.Start)
		if nb.TermStart == 0 && es.For("term_start") == nil {
			nb.TermStart = calendar.DayOf(now)
		}
		if nb.TermStart != 0 && nb.TermStart <= b.TermStart {
			es.Add("term_start", "term_not_after")
		}
		nb.TermEnd = bodyParseDay(&es, "term_end", in.End)
		if strings.TrimSpace(in.End) == "" {
			nb.TermEnd = TermEndOf(nb.TermStart, kind.TermYears)
		}
		if nb.TermEnd != 0 && nb.TermEnd < nb.TermStart {
			es.Add("term_end", "term_order")
		}
		if err := es.Err(); err != nil {
			return err
		}
		last := calendar.AddDays(nb.TermStart, -1)
		old, err := membersOf(ctx, s.DB, []int64{b.ID}, 0)
		if err != nil {
			return err
		}
		if err := endTerm(ctx, s.DB, b.ID, last, now.UnixMilli()); err != nil {
			return err
		}
		if err := insertBody(ctx, s.DB, &nb); err != nil {
			return err
		}
		if in.Keep {
			for _, m := range old[b.ID] {
				if m.UntilDay != 0 && m.UntilDay < nb.TermStart {
					continue
				}
				c := Member{BodyID: nb.ID, ResidentID: m.ResidentID, Name: m.Name, Gender: m.Gender, Residency: m.Residency,
					Party: m.Party, Post: m.Post, SinceDay: nb.TermStart}
				if err := insertMember(ctx, s.DB, &c, now.UnixMilli()); err != nil {
					return err
				}
			}
		}
		if err := s.Audit.Write(ctx, audit.Entry{Action: audit.Update, Entity: "gov_body", EntityID: strconv.FormatInt(b.ID, 10),
			Division: b.Division, Changes: []audit.Change{{Field: "term_end", Before: b.TermEnd, After: last},
				{Field: "successor", After: nb.ID}}}); err != nil {
			return err
		}
		return s.Audit.Write(ctx, audit.Entry{Action: audit.Create, Entity: "gov_body", EntityID: strconv.FormatInt(nb.ID, 10),
			Division: nb.Division, Changes: []audit.Change{{Field: "kind", After: nb.Kind}, {Field: "name", After: nb.Name},
				{Field: "term_start", After: nb.TermStart}, {Field: "term_end", After: nb.TermEnd}, {Field: "predecessor", After: b.ID}}})
	})
	if err != nil {
		return Body{}, err
	}
	return s.withMembers(ctx, nb)
}

// ---- the pack's rules ----

// Warning codes: a body that breaks a rule of its kind.
const (
	WarnSizeSmall     = "size_small"      // fewer members than min_members (SX-1: 3–5)
	WarnSizeLarge     = "size_large"      // more members than max_members
	WarnNoChair       = "no_chair"        // nobody holds the chair's post
	WarnChairFrom     = "chair_from"      // the chair does not hold the named post of the named body (NH-2)
	WarnChairFromNone = "chair_from_none" // the body the chair must come from has no holder of the post
	WarnPartyForm     = "party_form"      // the party organisation's form does not fit its member count (DG-2)
	WarnNonLocal      = "non_local"       // too few non-local members where non-registered residents are many (DG-2)
	WarnWomen         = "women"           // women's share below women_min
	WarnTermExpired   = "term_expired"    // the term has run out without a new one
	WarnCadence       = "cadence"         // longer without a meeting than the cadence allows (NH-2: quarterly)
)

// WarningCodes lists the warning codes (each has a gov.body.warn.<code> message).
var WarningCodes = []string{WarnSizeSmall, WarnSizeLarge, WarnNoChair, WarnChairFrom, WarnChairFromNone, WarnPartyForm,
	WarnNonLocal, WarnWomen, WarnTermExpired, WarnCadence}

// Warning is a rule of the pack a body does not meet, with the figures
// and names its message shows and the seed rules it comes from.
type Warning struct {
	Code  string
	Seeds []string
	N     int           // the figure found (members, non-local members, party members)
	Want  int           // the figure the rule asks for
	Share float64       // a share found (women, non-registered residents)
	Need  float64       // the share the rule asks for
	Day   int           // a day (term end, last meeting; 0: never)
	Names []policy.Text // labels the message names (posts, bodies, the party form, the cadence)
}

// Text is the warning's message in locale.
func (w Warning) Text(locale string) string {
	name := func(i int) string {
		if i < len(w.Names) {
			return w.Names[i].Get(locale)
		}
		return ""
	}
	pct := func(f float64) string { return strconv.FormatFloat(f*100, 'f', 0, 64) + "%" }
	key := "gov.body.warn." + w.Code
	switch w.Code {
	case WarnSizeSmall, WarnSizeLarge:
		return i18n.T(locale, key, w.N, w.Want)
	case WarnNoChair:
		return i18n.T(locale, key, name(0))
	case WarnChairFrom, WarnChairFromNone:
		return i18n.T(locale, key, name(0), name(1), name(2))
	case WarnPartyForm:
		return i18n.T(locale, key, w.N, name(0))
	case WarnNonLocal:
		return i18n.T(locale, key, pct(w.Share), w.Want, w.N)
	case WarnWomen:
		return i18n.T(locale, key, pct(w.Share), pct(w.Need))
	case WarnTermExpired:
		return i18n.T(locale, key, calendar.FormatDay(w.Day))
	case WarnCadence:
		if w.Day == 0 {
			return i18n.T(locale, "gov.body.warn.cadence_never", name(0))
		}
		return i18n.T(locale, key, calendar.FormatDay(w.Day), name(0))
	}
	return i18n.T(locale, key)
}

// cadenceLabels name the cadences in warnings.
var cadenceLabels = map[string]policy.Text{
	policy.EveryMonth:    {"zh-CN": "每月至少一次", "en": "at least monthly"},
	policy.EveryQuarter:  {"zh-CN": "每季度至少一次", "en": "at least quarterly"},
	policy.EveryHalfYear: {"zh-CN": "每半年至少一次", "en": "at least every half year"},
	policy.EveryYear:     {"zh-CN": "每年至少一次", "en": "at least yearly"},
}

// ruleInput is what a body's rules are checked against besides the body.
type ruleInput struct {
	today int
	// bodies are the village's current bodies with their members (the
	// chair_from rule looks there).
	bodies []Body
	// nonLocal is the village's share of residents who are not
	// registered (户籍) residents; known false when it could not be read.
	nonLocal      float64
	nonLocalKnown bool
	// lastHeld is the day of the body's last held meeting (0: none).
	lastHeld int
}

// bodyWarnings checks a body (with its current members) against its
// kind's rules.
func bodyWarnings(g *policy.Governance, b Body, in ruleInput) []Warning {
	kind, ok := g.Body(b.Kind)
	if !ok || !b.Current {
		return nil
	}
	var ws []Warning
	add := func(w Warning) {
		if w.Seeds == nil {
			w.Seeds = kind.Seeds
		}
		ws = append(ws, w)
	}
	n := len(b.Members)
	if kind.MinMembers > 0 && n < kind.MinMembers {
		add(Warning{Code: WarnSizeSmall, N: n, Want: kind.MinMembers})
	}
	if kind.MaxMembers > 0 && n > kind.MaxMembers {
		add(Warning{Code: WarnSizeLarge, N: n, Want: kind.MaxMembers})
	}
	chairPost := kind.ChairPost()
	chairLabel := policy.Text{"zh-CN": chairPost}
	if po, ok := kind.Post(chairPost); ok {
		chairLabel = po.Label
	}
	var chairs []Member
	for _, m := range b.Members {
		if m.Post == chairPost {
			chairs = append(chairs, m)
		}
	}
	if chairPost != "" && len(chairs) == 0 {
		add(Warning{Code: WarnNoChair, Names: []policy.Text{chairLabel}})
	}
	if cf := kind.ChairFrom; cf != nil && len(chairs) > 0 {
		src, _ := g.Body(cf.Body)
		srcPost := policy.Text{"zh-CN": cf.Post}
		if po, ok := src.Post(cf.Post); ok {
			srcPost = po.Label
		}
		holders := map[int64]bool{}
		for _, o := range in.bodies {
			if o.Kind != cf.Body || o.Division != b.Division || !o.Current || o.ID == b.ID {
				continue
			}
			for _, m := range o.Members {
				if m.Post == cf.Post {
					holders[m.ResidentID] = true
				}
			}
		}
		names := []policy.Text{chairLabel, src.Label, srcPost}
		switch {
		case len(holders) == 0:
			add(Warning{Code: WarnChairFromNone, Names: names})
		case !slices.ContainsFunc(chairs, func(m Member) bool { return holders[m.ResidentID] }):
			add(Warning{Code: WarnChairFrom, Names: names})
		}
	}
	if b.Kind == policy.BodyParty && len(g.PartyForms) > 0 && b.PartyMembers > 0 {
		for i, pf := range g.PartyForms {
			if b.PartyMembers < pf.MinMembers {
				continue
			}
			// The body's name says its form; it should be this row's and
			// not one of the others'.
			fits := strings.Contains(b.Name, pf.Form.Get(policy.DefaultLocale))
			for j, o := range g.PartyForms {
				if j != i && !fits && strings.Contains(b.Name, o.Form.Get(policy.DefaultLocale)) {
					seeds := pf.Seeds
					if seeds == nil {
						seeds = []string{"DG-2"}
					}
					add(Warning{Code: WarnPartyForm, N: b.PartyMembers, Names: []policy.Text{pf.Form}, Seeds: seeds})
					break
				}
			}
			break
		}
	}
	if nl := kind.NonLocal; nl != nil && in.nonLocalKnown && in.nonLocal >= nl.When {
		k := 0
		for _, m := range b.Members {
			if m.NonLocal() {
				k++
			}
		}
		if k < nl.Min {
			add(Warning{Code: WarnNonLocal, N: k, Want: nl.Min, Share: in.nonLocal, Need: nl.When})
		}
	}
	if kind.WomenMin > 0 && n > 0 {
		women := 0
		for _, m := range b.Members {
			if m.Gender == "F" {
				women++
			}
		}
		if share := float64(women) / float64(n); share < kind.WomenMin {
			add(Warning{Code: WarnWomen, N: women, Share: share, Need: kind.WomenMin})
		}
	}
	if b.TermEnd != 0 && b.TermEnd < in.today {
		add(Warning{Code: WarnTermExpired, Day: b.TermEnd})
	}
	if days := policy.CadenceDays(kind.Cadence); days > 0 {
		from := in.lastHeld
		if from == 0 {
			from = b.TermStart
		}
		if calendar.DaysBetween(from, in.today) > days {
			add(Warning{Code: WarnCadence, Day: in.lastHeld, Names: []policy.Text{cadenceLabels[kind.Cadence]}})
		}
	}
	return ws
}

// BodyStatus is a current body with what its rules find.
type BodyStatus struct {
	Body
	Warnings []Warning
	LastHeld int // the day of its last held meeting (0: none)
	// NextDue is the day by which the cadence wants the next meeting (0:
	// no cadence).
	NextDue int
}

// Overdue tells whether the body is past its cadence.
func (b BodyStatus) Overdue() bool {
	return slices.ContainsFunc(b.Warnings, func(w Warning) bool { return w.Code == WarnCadence })
}

// Statuses checks the bodies of a village (current ones, members loaded)
// against the pack's rules.
func (s *Service) Statuses(ctx context.Context, p *access.Principal, village int64) ([]BodyStatus, error) {
	bs, err := s.Bodies(ctx, p, village, false)
	if err != nil {
		return nil, err
	}
	return s.statusesOf(ctx, p, village, bs)
}

func (s *Service) statusesOf(ctx context.Context, p *access.Principal, village int64, bs []Body) ([]BodyStatus, error) {
	today := s.Today()
	in := ruleInput{today: today, bodies: bs}
	if pop, err := s.Registry.Population(ctx, p, village, today); err == nil && pop[""] > 0 {
		in.nonLocal = float64(pop[""]-pop[registry.Registered]) / float64(pop[""])
		in.nonLocalKnown = true
	} else if err != nil && !errors.Is(err, db.ErrNotFound) {
		return nil, err
	}
	idl := make([]int64, 0, len(bs))
	for _, b := range bs {
		idl = append(idl, b.ID)
	}
	last, err := lastHeld(ctx, s.DB, idl)
	if err != nil {
		return nil, err
	}
	g := s.Rules(village)
	out := make([]BodyStatus, 0, len(bs))
	for _, b := range bs {
		if !b.Current {
			continue
		}
		in.lastHeld = last[b.ID]
		st := BodyStatus{Body: b, Warnings: bodyWarnings(g, b, in), LastHeld: last[b.ID]}
		if kind, ok := g.Body(b.Kind); ok {
			if days := policy.CadenceDays(kind.Cadence); days > 0 {
				from := st.LastHeld
				if from == 0 {
					from = b.TermStart
				}
				st.NextDue = calendar.AddDays(from, days)
			}
		}
		out = append(out, st)
	}
	return out, nil
}

// Status checks one body (current or past) against its kind's rules.
func (s *Service) Status(ctx context.Context, p *access.Principal, id int64) (BodyStatus, error) {
	b, err := s.GetBody(ctx, p, id)
	if err != nil {
		return BodyStatus{}, err
	}
	bs, err := s.villageBodies(ctx, b.Division, false)
	if err != nil {
		return BodyStatus{}, err
	}
	if !b.Current {
		return BodyStatus{Body: b}, nil
	}
	sts, err := s.statusesOf(ctx, p, b.Division, bs)
	if err != nil {
		return BodyStatus{}, err
	}
	for _, st := range sts {
		if st.ID == b.ID {
			return st, nil
		}
	}
	return BodyStatus{Body: b}, nil
}
