package mediation

import (
	"context"
	"errors"
	"github.com/shequ-platform/shequ/internal/platform/calendar"
	"strconv"
	"strings"
	"time"

	"github.com/shequ-platform/shequ/internal/division"
	"github.com/shequ-platform/shequ/internal/platform/access"
	"github.com/shequ-platform/shequ/internal/platform/audit"
	"github.com/shequ-platform/shequ/internal/platform/db"
	"github.com/shequ-platform/shequ/internal/platform/facts"
	"github.com/shequ-platform/shequ/internal/platform/field"
	"github.com/shequ-platform/shequ/internal/platform/ids"
	"github.com/shequ-platform/shequ/internal/platform/pii"
	"github.com/shequ-platform/shequ/internal/platform/policy"
	"github.com/shequ-platform/shequ/internal/registry"
	"github.com/shequ-platform/shequ/internal/registry/idnum"
)

// Fact metrics, counted at the dispute's unit (village or township) in the
// month of the event: registered, then settled, failed, referred or
// withdrawn. Opened and settled disputes are also counted per type
// (MetricByType).
const (
	MetricOpened    = "mediation.opened"
	MetricSettled   = "mediation.settled"
	MetricFailed    = "mediation.failed"
	MetricReferred  = "mediation.referred"
	MetricWithdrawn = "mediation.withdrawn"
)

// MetricByType names a metric of one dispute type, e.g.
// mediation.settled.type.neighbour.
func MetricByType(base, typ string) string { return base + ".type." + typ }

// closing is the metric each closing action counts.
var closing = map[string]string{
	ActSettle:   MetricSettled,
	ActFail:     MetricFailed,
	ActRefer:    MetricReferred,
	ActWithdraw: MetricWithdrawn,
}

// Permissions.
const (
	PermView   = "mediation.view"   // see disputes (phones and ID numbers masked)
	PermManage = "mediation.manage" // register disputes, record sessions, outcomes and visits
)

// ErrForbidden: the principal sees the dispute (or the unit) but may not do this.
var ErrForbidden = errors.New("mediation: not permitted")

// Service is mediation as the UI, the API and the demo use it.
type Service struct {
	DB        *db.DB
	Audit     *audit.Log
	Access    *access.Service
	Keys      *pii.Keys
	Divisions *division.Store
	Packs     *policy.Set
	Registry  *registry.Service

	st  store
	now func() time.Time
}

// NewService builds the mediation service.
func NewService(d *db.DB, a *audit.Log, acc *access.Service, keys *pii.Keys, divs *division.Store, packs *policy.Set,
	reg *registry.Service) *Service {
	return &Service{DB: d, Audit: a, Access: acc, Keys: keys, Divisions: divs, Packs: packs, Registry: reg,
		st: store{d}, now: time.Now}
}

// SetClock replaces the service's clock (nil: the real one). The demo uses
// it to leave months of history; never change it while serving.
func (s *Service) SetClock(now func() time.Time) {
	if now == nil {
		now = time.Now
	}
	s.now = now
}

var china = time.FixedZone("CST", 8*3600)

func dayOf(t time.Time) int { return calendar.DayOf(t) }

// Today is the service's current day in China (YYYYMMDD).
func (s *Service) Today() int { return dayOf(s.now()) }

// period is the facts period (YYYYMM) of a day.
func period(day int) int { return day / 100 }

// ParseDay reads a date as people and forms write it (2006-01-02,
// 2006/1/2, 20060102, …) as YYYYMMDD (calendar.ParseDay).
func ParseDay(s string) (int, bool) { return calendar.ParseDay(s) }

// FormatDay writes a YYYYMMDD day as 2006-01-02 ("" for 0).
func FormatDay(d int) string { return calendar.FormatDay(d) }

// grid is the grid section of the pack bound to unit (nil: none).
func (s *Service) grid(unit int64) *policy.Grid {
	if p := s.Packs.For(unit); p != nil {
		return p.Grid
	}
	return nil
}

// Types returns the dispute types of the pack bound to unit (none when the
// pack has no grid.yaml: then disputes cannot be registered there).
func (s *Service) Types(unit int64) []policy.GridKey {
	if g := s.grid(unit); g != nil {
		return g.DisputeTypes
	}
	return nil
}

// TypeLabel names a dispute type of unit's pack in locale (the key itself
// when the pack no longer has it).
func (s *Service) TypeLabel(unit int64, key, locale string) string {
	if t, ok := s.grid(unit).DisputeType(key); ok {
		return t.Label.Get(locale)
	}
	return key
}

// MediationUnit is the unit whose committee mediates a dispute registered
// at code: a village or a township; a grid (or villager group, building)
// stands for its village. ok is false for any other level.
func MediationUnit(code int64) (int64, bool) {
	switch ids.Level(code) {
	case 4, 5:
		return code, true
	case 6:
		return code - code%ids.Span(5), true
	}
	return 0, false
}

// Get returns a dispute the principal may see (mediation.view at its
// unit) with its parties, sessions and visits; anything else is
// db.ErrNotFound, and a dispute outside the principal's scope is audited
// as denied.
func (s *Service) Get(ctx context.Context, p *access.Principal, id int64) (Dispute, error) {
	d, err := s.st.byID(ctx, id)
	if err != nil {
		return d, err
	}
	return s.checked(ctx, p, d)
}

// ByNumber returns a dispute by its number, like Get.
func (s *Service) ByNumber(ctx context.Context, p *access.Principal, number string) (Dispute, error) {
	d, err := s.st.byNumber(ctx, strings.TrimSpace(number))
	if err != nil {
		return d, err
	}
	return s.checked(ctx, p, d)
}

func (s *Service) checked(ctx context.Context, p *access.Principal, d Dispute) (Dispute, error) {
	if !p.CanAt(PermView, d.Division) {
		s.deny(ctx, d)
		return Dispute{}, db.ErrNotFound
	}
	return d, s.load(ctx, &d)
}

// load fills a dispute's parties, sessions and visits.
func (s *Service) load(ctx context.Context, d *Dispute) error {
	ps, err := s.st.parties(ctx, d.ID)
	if err != nil {
		return err
	}
	d.Parties = ps[d.ID]
	if d.Sessions, err = s.st.sessions(ctx, d.ID); err != nil {
		return err
	}
	d.Visits, err = s.st.visits(ctx, d.ID)
	return err
}

func (s *Service) deny(ctx context.Context, d Dispute) {
	if s.Access != nil {
		s.Access.Deny(ctx, "dispute", strconv.FormatInt(d.ID, 10), d.Division)
	}
}

// PartyInput is one party as typed: a resident of the registry (ResidentID;
// name, gender, masked ID number and phone are taken from there) or an
// outsider (Name and the rest).
type PartyInput struct {
	Side       string // applicant, respondent or other
	ResidentID int64  // the party in the registry; 0 for an outsider
	Name       string // an outsider's name
	Gender     string // an outsider's gender, M or F (from the ID number when empty)
	IDNumber   string // an outsider's citizen ID number (optional)
	Phone      string // contact phone (optional; for a resident, empty keeps the registry's)
	Address    string // for a resident, empty takes the household's address
}

// Input is what registering a dispute takes.
type Input struct {
	// Unit is the village or township whose committee mediates (a grid
	// stands for its village); the principal needs mediation.manage there.
	Unit       int64
	Type       string   // a dispute type of the unit's pack
	Summary    string   // the facts and what is in dispute
	Mediators  []string // the mediators' names (each item may hold several: 张三、李四)
	IncidentID int64    // the grid incident it came from (optional)
	// Parties: at least one applicant and one respondent.
	Parties []PartyInput
}

// party is a checked party with its ciphertexts.
type party struct {
	Party
	idEnc, phoneEnc string
}

// Register records a dispute brought to the committee of in.Unit. Every
// problem of the input is returned at once as field.Errors (fields unit,
// type, summary, mediators, incident_id, parties and parties[i].side,
// .resident_id, .name, .gender, .id_number, .phone, .address) and nothing
// is stored then. The dispute, its parties, its facts and its audit entry
// commit together.
func (s *Service) Register(ctx context.Context, p *access.Principal, in Input) (Dispute, error) {
	unit, ok := MediationUnit(in.Unit)
	if !ok {
		if !p.CanAt(PermManage, in.Unit) {
			return Dispute{}, ErrForbidden
		}
		return Dispute{}, field.Errors{{Field: "unit", Code: "unit_level"}}
	}
	if !p.CanAt(PermManage, unit) {
		return Dispute{}, ErrForbidden
	}
	if _, err := s.Divisions.Get(ctx, unit); err != nil {
		if errors.Is(err, db.ErrNotFound) {
			return Dispute{}, field.Errors{{Field: "unit", Code: "unit_unknown"}}
		}
		return Dispute{}, err
	}
	var es field.Errors
	now := s.now()
	today := dayOf(now)
	d := Dispute{County: ids.County(unit), Division: unit, State: StateOpen, OpenedDay: today, IncidentID: in.IncidentID,
		Type: strings.TrimSpace(in.Type), Summary: strings.TrimSpace(in.Summary), Mediators: SplitNames(in.Mediators...),
		CreatedAt: now.UnixMilli(), CreatedBy: actorName(ctx, p), UpdatedAt: now.UnixMilli()}
	g := s.grid(unit)
	switch {
	case g == nil || len(g.DisputeTypes) == 0:
		es.Add("type", "no_types")
	case d.Type == "":
		es.Add("type", "required")
	default:
		if _, ok := g.DisputeType(d.Type); !ok {
			es.Add("type", "type_unknown")
		}
	}
	checkText(&es, "summary", d.Summary, MaxSummaryRunes, true)
	checkNames(&es, "mediators", d.Mediators, true)
	if d.IncidentID < 0 {
		es.Add("incident_id", "incident")
	}
	parties, err := s.checkParties(ctx, p, in.Parties, now, &es)
	if err != nil {
		return Dispute{}, err
	}
	if err := es.Err(); err != nil {
		return Dispute{}, err
	}
	per := period(today)
	deltas := []facts.Delta{
		{Division: d.Division, Period: per, Metric: MetricOpened, N: 1},
		{Division: d.Division, Period: per, Metric: MetricByType(MetricOpened, d.Type), N: 1},
	}
	// As at the window: the row under a provisional number, its parties and
	// facts first; the day's number (a counter row every registration of
	// the unit locks) and the audit entry (the chain head) last.
	err = s.DB.Tx(ctx, func(ctx context.Context) error {
		d.Number = provisionalNumber()
		if err := s.st.insert(ctx, &d); err != nil {
			return err
		}
		d.Parties = make([]Party, len(parties))
		for i := range parties {
			parties[i].DisputeID = d.ID
			if err := s.st.insertParty(ctx, &parties[i].Party, parties[i].idEnc, parties[i].phoneEnc); err != nil {
				return err
			}
			d.Parties[i] = parties[i].Party
		}
		if err := facts.AddAll(ctx, s.DB, deltas); err != nil {
			return err
		}
		n, err := s.st.nextNumber(ctx, unit, today)
		if err != nil {
			return err
		}
		d.Number = disputeNumber(unit, today, n)
		if err := s.st.setNumber(ctx, d.ID, d.Number); err != nil {
			return err
		}
		return s.Audit.Write(ctx, audit.Entry{Action: audit.Create, Entity: "dispute", EntityID: strconv.FormatInt(d.ID, 10),
			Division: d.Division, Changes: []audit.Change{{Field: "number", After: d.Number}, {Field: "type", After: d.Type},
				{Field: "state", After: d.State}, {Field: "parties", After: len(d.Parties)}, {Field: "mediators", After: d.MediatorList()}}})
	})
	if err != nil {
		return Dispute{}, err
	}
	return d, nil
}

// checkParties checks the parties of a registration, adding their problems
// to es, and returns them with their ciphertexts.
func (s *Service) checkParties(ctx context.Context, p *access.Principal, in []PartyInput, now time.Time, es *field.Errors) ([]party, error) {
	switch {
	case len(in) < MinParties:
		es.Add("parties", "parties_min", strconv.Itoa(MinParties))
	case len(in) > MaxParties:
		es.Add("parties", "parties_max", strconv.Itoa(MaxParties))
		return nil, nil
	}
	out := make([]party, 0, len(in))
	sides := map[string]int{}
	residents := map[int64]bool{}
	for i, pi := range in {
		f := func(name string) string { return "parties[" + strconv.Itoa(i) + "]." + name }
		var pt party
		pt.Side = strings.TrimSpace(pi.Side)
		switch pt.Side {
		case SideApplicant, SideRespondent, SideOther:
			sides[pt.Side]++
		default:
			es.Add(f("side"), "side_unknown")
		}
		pt.Address = strings.TrimSpace(pi.Address)
		if pi.ResidentID > 0 {
			r, phoneEnc, err := s.Registry.Contact(ctx, p, pi.ResidentID)
			switch {
			case errors.Is(err, db.ErrNotFound):
				es.Add(f("resident_id"), "resident")
			case err != nil:
				return nil, err
			case residents[r.ID]:
				es.Add(f("resident_id"), "resident_twice")
			default:
				residents[r.ID] = true
				pt.ResidentID, pt.Name, pt.Gender, pt.IDMasked, pt.PhoneMasked, pt.phoneEnc = r.ID, r.Name, r.Gender, r.IDMasked, r.PhoneMasked, phoneEnc
				if pt.Address == "" && r.HouseholdID > 0 {
					if h, _, err := s.Registry.Household(ctx, p, r.HouseholdID); err == nil {
						pt.Address = strings.TrimSpace(h.Place())
					}
				}
			}
		} else {
			if pi.ResidentID < 0 {
				es.Add(f("resident_id"), "resident")
			}
			pt.Name = idnum.NormalizeName(pi.Name)
			if pt.Name == "" {
				es.Add(f("name"), "required")
			} else if err := idnum.ValidName(pt.Name); err != nil {
				es.Add(f("name"), idnum.CodeOf(err))
			}
			pt.Gender = strings.ToUpper(strings.TrimSpace(pi.Gender))
			if pt.Gender != "" && pt.Gender != GenderMale && pt.Gender != GenderFemale {
				es.Add(f("gender"), "gender_unknown")
			}
			if strings.TrimSpace(pi.IDNumber) != "" {
				id, err := idnum.Parse(pi.IDNumber, now.In(china))
				if err != nil {
					es.Add(f("id_number"), "id_"+idnum.CodeOf(err))
				} else {
					switch pt.Gender {
					case "":
						pt.Gender = GenderFemale
						if id.Male {
							pt.Gender = GenderMale
						}
					case GenderMale, GenderFemale:
						if (pt.Gender == GenderMale) != id.Male {
							es.Add(f("gender"), "gender_mismatch")
						}
					}
					if pt.idEnc, err = s.Keys.Encrypt(id.Number); err != nil {
						return nil, err
					}
					pt.IDMasked = idnum.MaskID(id.Number)
				}
			}
		}
		if strings.TrimSpace(pi.Phone) != "" {
			ph, err := idnum.NormalizePhone(pi.Phone)
			if err != nil {
				es.Add(f("phone"), "phone")
			} else {
				if pt.phoneEnc, err = s.Keys.Encrypt(ph); err != nil {
					return nil, err
				}
				pt.PhoneMasked = idnum.MaskPhone(ph)
			}
		}
		checkText(es, f("address"), pt.Address, MaxPlaceRunes, false)
		out = append(out, pt)
	}
	if len(in) >= MinParties {
		if sides[SideApplicant] == 0 {
			es.Add("parties", "applicant_required")
		} else if sides[SideRespondent] == 0 {
			es.Add("parties", "respondent_required")
		}
	}
	return out, nil
}

// checkText checks a free text: required (when need) and at most max characters.
func checkText(es *field.Errors, name, v string, max int, need bool) {
	switch {
	case v == "" && need:
		es.Add(name, "required")
	case runes(v) > max:
		es.Add(name, "too_long", strconv.Itoa(max))
	}
}

// checkNames checks a list of mediators' names.
func checkNames(es *field.Errors, name string, names []string, need bool) {
	switch {
	case len(names) == 0 && need:
		es.Add(name, "required")
	case len(names) > MaxMediators:
		es.Add(name, "mediators_max", strconv.Itoa(MaxMediators))
	default:
		for _, n := range names {
			if runes(n) > MaxNameRunes {
				es.Add(name, "mediator_name", n)
				return
			}
		}
	}
}

// actorName is who acts, for the records: the principal's display name,
// else the context's audit actor.
func actorName(ctx context.Context, p *access.Principal) string {
	if p != nil {
		if p.DisplayName != "" {
			return p.DisplayName
		}
		return p.Username
	}
	return audit.ActorFrom(ctx).Name
}

// Action is one step on a dispute.
type Action struct {
	Kind string // ActSession, ActSettle, ActFail, ActRefer, ActWithdraw or ActVisit
	// Day of a session or a visit (2006-01-02; empty: today). Not in the
	// future, not before the dispute was registered (a session) or settled
	// (a visit).
	Day string
	// Place and Mediators of a session (no mediators: the dispute's).
	Place     string
	Mediators []string
	// Note is a session's record, a visit's findings, or the reason a
	// dispute failed, is referred or withdrawn. Required.
	Note string
	// Outcome, Agreement and Performance of a settlement: the result, the
	// agreed terms, and how and by when they are carried out. Required.
	Outcome     string
	Agreement   string
	Performance string
	// ReferredTo is the court or department a dispute is referred to.
	ReferredTo string
	// Holding tells whether a visit found the agreement kept. Required.
	Holding *bool
}

// Do takes one step on a dispute: the principal needs mediation.manage at
// its unit (one who only sees it gets ErrForbidden, one who does not see it
// db.ErrNotFound), the state must allow the action (*TransitionError), and
// the input must be whole (field.Errors: day, place, mediators, note,
// outcome, agreement, performance, referred_to, holding). The change, its
// audit entry and its facts commit together. It returns the dispute as it
// is now, with its parties, sessions and visits.
func (s *Service) Do(ctx context.Context, p *access.Principal, id int64, a Action) (Dispute, error) {
	var out Dispute
	err := s.DB.Tx(ctx, func(ctx context.Context) error {
		d, err := s.st.lockForUpdate(ctx, id)
		if err != nil {
			return err
		}
		if !p.CanAt(PermView, d.Division) {
			return db.ErrNotFound
		}
		if !p.CanAt(PermManage, d.Division) {
			return ErrForbidden
		}
		if !Allowed(a.Kind, d.State) {
			return &TransitionError{Action: a.Kind, State: d.State}
		}
		before := d.State
		changes, deltas, err := s.apply(ctx, p, &d, a)
		if err != nil {
			return err
		}
		d.UpdatedAt = s.now().UnixMilli()
		if d.State != before {
			if err := s.st.update(ctx, d); err != nil {
				return err
			}
			changes = append(changes, audit.Change{Field: "state", Before: before, After: d.State})
		} else if err := s.st.touch(ctx, d.ID, d.UpdatedAt); err != nil {
			return err
		}
		if err := facts.AddAll(ctx, s.DB, deltas); err != nil {
			return err
		}
		if err := s.Audit.Write(ctx, audit.Entry{Action: audit.Update, Entity: "dispute", EntityID: strconv.FormatInt(d.ID, 10),
			Division: d.Division, Changes: append([]audit.Change{{Field: "action", After: a.Kind}}, changes...)}); err != nil {
			return err
		}
		out = d
		return nil
	})
	if errors.Is(err, db.ErrNotFound) {
		if d, e := s.st.byID(ctx, id); e == nil {
			s.deny(ctx, d)
		}
	}
	if err != nil {
		return Dispute{}, err
	}
	return out, s.load(ctx, &out)
}

// apply checks a's input and changes d (inside Do's transaction): a session
// or a visit is stored here; a closing action sets the state and the
// outcome. It returns the audit changes beyond the action and the state,
// and the facts.
func (s *Service) apply(ctx context.Context, p *access.Principal, d *Dispute, a Action) ([]audit.Change, []facts.Delta, error) {
	var es field.Errors
	now := s.now()
	today := dayOf(now)
	note := strings.TrimSpace(a.Note)
	switch a.Kind {
	case ActSession:
		day := checkDay(&es, a.Day, today, d.OpenedDay, "day_before_open")
		se := Session{DisputeID: d.ID, Day: day, Place: strings.TrimSpace(a.Place), Mediators: SplitNames(a.Mediators...),
			Note: note, At: now.UnixMilli(), Actor: actorName(ctx, p)}
		if len(se.Mediators) == 0 {
			se.Mediators = d.Mediators
		}
		checkText(&es, "place", se.Place, MaxPlaceRunes, false)
		checkNames(&es, "mediators", se.Mediators, true)
		checkText(&es, "note", se.Note, MaxTextRunes, true)
		if err := es.Err(); err != nil {
			return nil, nil, err
		}
		if err := s.st.insertSession(ctx, &se); err != nil {
			return nil, nil, err
		}
		return []audit.Change{{Field: "session_day", After: se.Day}}, nil, nil
	case ActVisit:
		day := checkDay(&es, a.Day, today, d.ClosedDay, "day_before_settle")
		v := Visit{DisputeID: d.ID, Day: day, Note: note, At: now.UnixMilli(), Actor: actorName(ctx, p)}
		if a.Holding == nil {
			es.Add("holding", "required")
		} else {
			v.Holding = *a.Holding
		}
		checkText(&es, "note", v.Note, MaxTextRunes, true)
		if err := es.Err(); err != nil {
			return nil, nil, err
		}
		if err := s.st.insertVisit(ctx, &v); err != nil {
			return nil, nil, err
		}
		return []audit.Change{{Field: "visit_day", After: v.Day}, {Field: "holding", After: v.Holding}}, nil, nil
	case ActSettle:
		d.Outcome, d.Agreement, d.Performance = strings.TrimSpace(a.Outcome), strings.TrimSpace(a.Agreement), strings.TrimSpace(a.Performance)
		checkText(&es, "outcome", d.Outcome, MaxShortRunes, true)
		checkText(&es, "agreement", d.Agreement, MaxTextRunes, true)
		checkText(&es, "performance", d.Performance, MaxTextRunes, true)
	case ActRefer:
		d.ReferredTo, d.Outcome = strings.TrimSpace(a.ReferredTo), note
		checkText(&es, "referred_to", d.ReferredTo, MaxPlaceRunes, true)
		checkText(&es, "note", note, MaxShortRunes, true)
	case ActFail, ActWithdraw:
		d.Outcome = note
		checkText(&es, "note", note, MaxShortRunes, true)
	}
	if err := es.Err(); err != nil {
		return nil, nil, err
	}
	d.State, d.ClosedDay = Target(a.Kind), today
	per := period(today)
	deltas := []facts.Delta{{Division: d.Division, Period: per, Metric: closing[a.Kind], N: 1}}
	if a.Kind == ActSettle {
		deltas = append(deltas, facts.Delta{Division: d.Division, Period: per, Metric: MetricByType(MetricSettled, d.Type), N: 1})
	}
	var changes []audit.Change
	if d.ReferredTo != "" {
		changes = append(changes, audit.Change{Field: "referred_to", After: d.ReferredTo})
	}
	return changes, deltas, nil
}

// checkDay reads the day of a session or a visit: empty is today; it may
// not be after today nor before since (code tooEarly).
func checkDay(es *field.Errors, s string, today, since int, tooEarly string) int {
	if strings.TrimSpace(s) == "" {
		return today
	}
	day, ok := ParseDay(s)
	switch {
	case !ok:
		es.Add("day", "date")
	case day > today:
		es.Add("day", "day_future")
	case day < since:
		es.Add("day", tooEarly, FormatDay(since))
	}
	return day
}

// Reencrypt rewrites the parties' phones and ID numbers not written with
// the current key version (after `shequ keys rotate`); it can be
// interrupted and run again. It returns the number of parties rewritten.
func (s *Service) Reencrypt(ctx context.Context, progress func(n int64)) (int64, error) {
	return pii.Reencrypt(ctx, s.DB, s.Keys, "dispute_parties", []string{"phone", "id_number"}, progress)
}
