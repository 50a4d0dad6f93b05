package window

import (
	"context"
	"errors"
	"github.com/shequ-platform/shequ/internal/platform/calendar"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/shequ-platform/shequ/internal/division"
	"github.com/shequ-platform/shequ/internal/platform/access"
	"github.com/shequ-platform/shequ/internal/platform/audit"
	"github.com/shequ-platform/shequ/internal/platform/db"
	"github.com/shequ-platform/shequ/internal/platform/facts"
	"github.com/shequ-platform/shequ/internal/platform/ids"
	"github.com/shequ-platform/shequ/internal/platform/pii"
	"github.com/shequ-platform/shequ/internal/platform/policy"
	"github.com/shequ-platform/shequ/internal/registry"
	"github.com/shequ-platform/shequ/internal/registry/idnum"
)

// Calendar is the working-day arithmetic the window needs
// (internal/platform/calendar implements it on the official calendar).
type Calendar interface {
	// AddWorkingDays returns the n-th working day after day (YYYYMMDD).
	AddWorkingDays(day, n int) int
	// WorkingDaysBetween counts the working days d with from < d <= to.
	WorkingDaysBetween(from, to int) int
}

// Fact metrics, counted at the unit whose window accepted the case in the
// month of the event. Accepted, completed, on-time and agency counts are
// also kept per channel, category and item (Metric(base, dim, key)).
const (
	MetricAccepted  = "window.accepted"
	MetricCompleted = "window.completed"
	MetricOnTime    = "window.on_time"
	MetricAgency    = "window.agency"
	MetricRejected  = "window.rejected"
	MetricRated     = "window.rated"
	MetricRatingSum = "window.rating_sum"
	metricRating    = "window.rating."
)

// Dimensions of the per-kind metrics.
const (
	DimChannel  = "channel"
	DimCategory = "category"
	DimItem     = "item"
)

// Metric names a metric broken down by a dimension, e.g.
// window.accepted.category.civil_affairs.
func Metric(base, dim, key string) string { return base + "." + dim + "." + key }

// MetricRating counts the ratings of one level (1–5).
func MetricRating(level int) string { return metricRating + strconv.Itoa(level) }

var (
	// ErrForbidden: the principal sees the case but may not do this.
	ErrForbidden = errors.New("window: not permitted")
	// ErrNoMatch: a public look-up whose number or phone digits do not match
	// (which one is never told).
	ErrNoMatch = errors.New("window: no such case")
)

// Service is the service window as the UI, the API, Open311 and the CLI use it.
type Service struct {
	DB        *db.DB
	Audit     *audit.Log
	Access    *access.Service
	Keys      *pii.Keys
	Divisions *division.Store
	Packs     *policy.Set
	Registry  *registry.Service
	// Days returns the current working-day calendar.
	Days func(ctx context.Context) (Calendar, error)
	// Attachments is the directory attachments are stored in.
	Attachments string

	st  store
	now func() time.Time
}

// NewService builds the window service.
func NewService(d *db.DB, a *audit.Log, acc *access.Service, keys *pii.Keys, divs *division.Store, packs *policy.Set,
	reg *registry.Service, days func(ctx context.Context) (Calendar, error), attachments string) *Service {
	return &Service{DB: d, Audit: a, Access: acc, Keys: keys, Divisions: divs, Packs: packs, Registry: reg, Days: days,
		Attachments: attachments, st: store{d}, now: time.Now}
}

var china = time.FixedZone("CST", 8*3600)

func dayOf(t time.Time) int { return calendar.DayOf(t) }

// Today is the service's current day in China (YYYYMMDD).
func (s *Service) Today() int { return dayOf(s.now()) }

// period is the facts period (YYYYMM) of a day.
func period(day int) int { return day / 100 }

// sees reports whether p holds perm where the case was accepted or where it
// is now.
func sees(p *access.Principal, perm string, c Case) bool {
	return p != nil && (p.CanAt(perm, c.Holder) || p.CanAt(perm, c.Division))
}

// Get returns a case the principal may see (window.view where it was
// accepted or where it is handled); anything else is db.ErrNotFound, audited.
func (s *Service) Get(ctx context.Context, p *access.Principal, id int64) (Case, error) {
	c, err := s.st.byID(ctx, id)
	if err != nil {
		return c, err
	}
	if !sees(p, "window.view", c) {
		s.deny(ctx, c)
		return Case{}, db.ErrNotFound
	}
	return c, nil
}

// ByNumber returns a case by its number, like Get.
func (s *Service) ByNumber(ctx context.Context, p *access.Principal, number string) (Case, error) {
	c, err := s.st.byNumber(ctx, strings.TrimSpace(number))
	if err != nil {
		return c, err
	}
	return s.Get(ctx, p, c.ID)
}

func (s *Service) deny(ctx context.Context, c Case) {
	if s.Access != nil {
		s.Access.Deny(ctx, "case", strconv.FormatInt(c.ID, 10), c.Division)
	}
}

// Steps returns a case's history (call Get first).
func (s *Service) Steps(ctx context.Context, c Case) ([]Step, error) { return s.st.steps(ctx, c.ID) }

// Intake is what accepting a matter at the window (or by phone, or online)
// takes.
type Intake struct {
	Unit       int64  // the unit whose window takes the matter (village or township)
	ItemCode   string // service item
	Channel    string // window, phone or online
	ResidentID int64  // the applicant in the registry; 0 for a walk-in non-resident
	Name       string // a walk-in's name (ignored when ResidentID is set)
	Phone      string // contact phone; for a resident, empty keeps the registry's
	IDNumber   string // a walk-in's citizen ID number (optional)
	Fields     map[string]string
	Materials  []string // keys of the materials received
	Agency     bool     // staff carry the matter on the applicant's behalf
	// Decision: accept (受理), supplement (补正: ask for missing materials),
	// reject (不予受理) or submit (record only; accepted later).
	Decision    string
	Note        string // what is missing, or why it is rejected
	Description string
	Address     string
	Lat, Lon    *float64
	ClientID    int64  // Open311 client
	Token       string // Open311 token
}

// Decisions at intake.
const (
	DecideAccept     = "accept"
	DecideSupplement = "supplement"
	DecideReject     = "reject"
	DecideSubmit     = "submit"
)

// Intake records a matter. At the window the principal needs window.intake
// at the unit; Open311 clients come through IntakeOnline. Every problem of
// the input is returned at once as Errors; nothing is stored then.
func (s *Service) Intake(ctx context.Context, p *access.Principal, in Intake) (Case, error) {
	if !p.CanAt("window.intake", in.Unit) {
		return Case{}, ErrForbidden
	}
	return s.intake(ctx, p, in)
}

// IntakeOnline records a request from an Open311 client (already
// authenticated by its API key) as a submitted case of channel online.
func (s *Service) IntakeOnline(ctx context.Context, in Intake) (Case, error) {
	in.Channel, in.Decision, in.ResidentID, in.Agency = ChannelOnline, DecideSubmit, 0, false
	return s.intake(ctx, nil, in)
}

func (s *Service) intake(ctx context.Context, p *access.Principal, in Intake) (Case, error) {
	var es Errors
	lvl := ids.Level(in.Unit)
	if lvl < 4 || lvl > 5 {
		es.Add("unit", "unit_level")
		return Case{}, es
	}
	if _, err := s.Divisions.Get(ctx, in.Unit); err != nil {
		if errors.Is(err, db.ErrNotFound) {
			es.Add("unit", "unit_unknown")
			return Case{}, es
		}
		return Case{}, err
	}
	cat, err := s.Catalogue(ctx, in.Unit)
	if err != nil {
		return Case{}, err
	}
	it, ok := cat.Item(strings.TrimSpace(in.ItemCode))
	if !ok {
		es.Add("item", "item_unknown")
		return Case{}, es
	}
	switch in.Channel {
	case ChannelWindow, ChannelPhone, ChannelOnline:
	default:
		es.Add("channel", "channel_unknown")
	}
	if in.Agency && !it.Agency {
		es.Add("agency", "agency_not_allowed")
	}
	today := s.Today()
	now := s.now()
	c := Case{County: ids.County(in.Unit), Division: in.Unit, Holder: in.Unit, HolderLevel: levelName(lvl),
		ItemCode: it.Code, ItemName: it.Name.Get(policy.DefaultLocale), Category: it.Category, ItemLevel: it.Level,
		TimeLimit: it.TimeLimit, Channel: in.Channel, Agency: in.Agency, ClientID: in.ClientID, Token: in.Token,
		Description: strings.TrimSpace(in.Description), Address: strings.TrimSpace(in.Address), Lat: in.Lat, Lon: in.Lon,
		SubmittedAt: now.UnixMilli(), UpdatedAt: now.UnixMilli()}
	if utf8.RuneCountInString(c.Description) > 4000 {
		es.Add("description", "too_long", "4000")
	}
	if utf8.RuneCountInString(c.Address) > 200 {
		es.Add("address", "too_long", "200")
	}
	// the applicant
	var phoneEnc, idEnc string
	if in.ResidentID > 0 {
		r, enc, err := s.Registry.Contact(ctx, p, in.ResidentID)
		if err != nil {
			es.Add("resident", "resident")
		} else {
			c.ResidentID, c.Applicant, c.PhoneMasked, c.IDMasked, phoneEnc = r.ID, r.Name, r.PhoneMasked, r.IDMasked, enc
		}
	} else {
		c.Applicant = idnum.NormalizeName(in.Name)
		if c.Applicant == "" {
			es.Add("name", "required")
		} else if utf8.RuneCountInString(c.Applicant) > 50 {
			es.Add("name", "too_long", "50")
		}
		if strings.TrimSpace(in.IDNumber) != "" {
			id, err := idnum.Parse(in.IDNumber, now.In(china))
			if err != nil {
				es.Add("id_number", "id_"+idnum.CodeOf(err))
			} else if idEnc, err = s.Keys.Encrypt(id.Number); err != nil {
				return Case{}, err
			} else {
				c.IDMasked = idnum.MaskID(id.Number)
			}
		}
	}
	if strings.TrimSpace(in.Phone) != "" {
		ph, err := idnum.NormalizePhone(in.Phone)
		if err != nil {
			es.Add("phone", "phone")
		} else if phoneEnc, err = s.Keys.Encrypt(ph); err != nil {
			return Case{}, err
		} else {
			c.PhoneMasked = idnum.MaskPhone(ph)
		}
	} else if phoneEnc == "" && in.Channel != ChannelOnline {
		// the status look-up needs the phone's last digits
		es.Add("phone", "required")
	}
	fields, fes := checkFields(it.WindowItem, in.Fields, func(id int64) bool {
		_, err := s.Registry.Get(ctx, p, id)
		return err == nil
	})
	es = append(es, fes...)
	c.Fields = fields
	missing, mes := checkMaterials(it.WindowItem, in.Materials)
	es = append(es, mes...)
	c.Materials = in.Materials
	note := strings.TrimSpace(in.Note)
	switch in.Decision {
	case DecideAccept:
		if len(missing) > 0 {
			es.Add("materials", "materials_missing", strings.Join(materialLabels(it.WindowItem, missing), "、"))
		}
		c.State = StateAccepted
	case DecideSupplement:
		if note == "" && len(missing) == 0 {
			es.Add("note", "supplement_note")
		}
		if note == "" {
			note = strings.Join(materialLabels(it.WindowItem, missing), "、")
		}
		c.State, c.ResumeState = StateSupplement, StateAccepted
	case DecideReject:
		if note == "" {
			es.Add("note", "reason_required")
		}
		c.State, c.Outcome, c.Reason = StateRejected, OutcomeRejected, note
	case DecideSubmit:
		c.State = StateSubmitted
	default:
		es.Add("decision", "decision_unknown")
	}
	if len(es) > 0 {
		return Case{}, es
	}
	var cal Calendar
	if c.State == StateAccepted {
		if cal, err = s.Days(ctx); err != nil {
			return Case{}, err
		}
		c.AcceptedDay, c.Deadline = today, cal.AddWorkingDays(today, c.TimeLimit)
	}
	if c.State == StateSupplement {
		c.PausedDay = today
	}
	if c.State == StateRejected {
		c.ClosedAt, c.ClosedDay = now.UnixMilli(), today
	}
	var deltas []facts.Delta
	switch c.State {
	case StateAccepted:
		deltas = acceptedDeltas(c, today)
	case StateRejected:
		deltas = []facts.Delta{{Division: c.Division, Period: period(today), Metric: MetricRejected, N: 1}}
	}
	// The statements run in the order that keeps the two rows every intake
	// of a unit (the day's counter) or of the deployment (the audit chain
	// head) must lock held the shortest: the case under a provisional
	// number, its step and its facts first; then its number; the audit
	// entry last, right before the commit.
	err = s.DB.Tx(ctx, func(ctx context.Context) error {
		c.Number = provisionalNumber()
		if err := s.st.insert(ctx, &c, phoneEnc, idEnc); err != nil {
			return err
		}
		action := map[string]string{DecideAccept: ActAccept, DecideSupplement: ActSupplement, DecideReject: ActReject, DecideSubmit: ActSubmit}[in.Decision]
		if err := s.step(ctx, p, c, action, "", note); err != nil {
			return err
		}
		if err := facts.AddAll(ctx, s.DB, deltas); err != nil {
			return err
		}
		n, err := s.st.nextNumber(ctx, in.Unit, today)
		if err != nil {
			return err
		}
		c.Number = caseNumber(in.Unit, today, n)
		if err := s.st.setNumber(ctx, c.ID, c.Number); err != nil {
			return err
		}
		return s.Audit.Write(ctx, audit.Entry{Action: audit.Create, Entity: "case", EntityID: strconv.FormatInt(c.ID, 10),
			Division: c.Division, Changes: []audit.Change{{Field: "number", After: c.Number}, {Field: "item", After: c.ItemCode},
				{Field: "state", After: c.State}, {Field: "channel", After: c.Channel}}})
	})
	return c, err
}

func materialLabels(it policy.WindowItem, keys []string) []string {
	var out []string
	for _, k := range keys {
		for _, m := range it.Materials {
			if m.Key == k {
				out = append(out, m.Label.Get(policy.DefaultLocale))
			}
		}
	}
	return out
}

// levelRank orders handling levels: a case is decided at its item's level
// or above.
func levelRank(level string) int {
	switch level {
	case policy.LevelVillage:
		return 1
	case policy.LevelTownship:
		return 2
	case policy.LevelCounty, policy.LevelDepartment:
		return 3
	}
	return 0
}

func levelName(lvl int) string {
	switch lvl {
	case 3:
		return policy.LevelCounty
	case 4:
		return policy.LevelTownship
	default:
		return policy.LevelVillage
	}
}

// step records one step of c (in the context's transaction).
func (s *Service) step(ctx context.Context, p *access.Principal, c Case, action, from, note string) error {
	st := Step{CaseID: c.ID, At: s.now().UnixMilli(), Action: action, From: from, To: c.State, Holder: c.Holder, Note: note}
	if p != nil {
		st.ActorID, st.Actor = p.UserID, p.Username
		if p.DisplayName != "" {
			st.Actor = p.DisplayName
		}
	} else {
		st.Actor = audit.ActorFrom(ctx).Name
	}
	return s.st.addStep(ctx, &st)
}

// counts are the increments of base and its channel, category and item
// breakdowns for c on day.
func counts(c Case, day int, base string, n int64) []facts.Delta {
	per := period(day)
	var out []facts.Delta
	for _, m := range []string{base, Metric(base, DimChannel, c.Channel), Metric(base, DimCategory, c.Category), Metric(base, DimItem, c.ItemCode)} {
		out = append(out, facts.Delta{Division: c.Division, Period: per, Metric: m, N: n})
	}
	return out
}

// acceptedDeltas count an accepted case (and its agency).
func acceptedDeltas(c Case, day int) []facts.Delta {
	out := counts(c, day, MetricAccepted, 1)
	if c.Agency {
		out = append(out, counts(c, day, MetricAgency, 1)...)
	}
	return out
}

// Action is one step a staff member takes on a case.
type Action struct {
	Kind string // ActAccept, ActReject, ActSupplement, ActResume, ActAssign, ActTransfer, ActReturn, ActComplete, ActNote
	Note string
	// HandlerID is the handler for ActAssign (0: the principal).
	HandlerID int64
	// Department is the county department for ActTransfer to one.
	Department string
	// ToDepartment transfers to a county department instead of the unit above.
	ToDepartment bool
	// Outcome of ActComplete: approved or denied.
	Outcome string
	// Agency marks the case as carried by staff (ActAccept, ActTransfer).
	Agency bool
	// Materials received (ActAccept, ActResume): replaces the list.
	Materials []string
}

// permFor is the permission an action needs at the case's holder.
func permFor(kind string) string {
	switch kind {
	case ActAssign, ActTransfer, ActReturn, ActComplete:
		return "window.handle"
	}
	return "window.intake"
}

// Do takes one action on a case, checking the state machine, the principal's
// permission at the case's holder and the action's input; the change, its
// step, its audit entry and its facts commit together.
func (s *Service) Do(ctx context.Context, p *access.Principal, id int64, a Action) (Case, error) {
	var out Case
	err := s.DB.Tx(ctx, func(ctx context.Context) error {
		c, err := s.st.lockForUpdate(ctx, id)
		if err != nil {
			return err
		}
		if !sees(p, "window.view", c) {
			return db.ErrNotFound
		}
		perm := permFor(a.Kind)
		if a.Kind == ActNote {
			if !sees(p, "window.intake", c) && !sees(p, "window.handle", c) {
				return ErrForbidden
			}
		} else if !p.CanAt(perm, c.Holder) {
			return ErrForbidden
		}
		if _, known := transitions[a.Kind]; !known || a.Kind == ActRate {
			return &TransitionError{Action: a.Kind, State: c.State}
		}
		if !Allowed(a.Kind, c.State) {
			return &TransitionError{Action: a.Kind, State: c.State}
		}
		before := c
		note := strings.TrimSpace(a.Note)
		if utf8.RuneCountInString(note) > 2000 {
			return Errors{{Field: "note", Code: "too_long", Arg: "2000"}}
		}
		deltas, err := s.apply(ctx, p, &c, a, note)
		if err != nil {
			return err
		}
		c.UpdatedAt = s.now().UnixMilli()
		if err := s.st.update(ctx, c); err != nil {
			return err
		}
		if err := s.step(ctx, p, c, a.Kind, before.State, note); err != nil {
			return err
		}
		if err := facts.AddAll(ctx, s.DB, deltas); err != nil {
			return err
		}
		changes := []audit.Change{{Field: "action", After: a.Kind}}
		if before.State != c.State {
			changes = append(changes, audit.Change{Field: "state", Before: before.State, After: c.State})
		}
		if before.Holder != c.Holder || before.Department != c.Department {
			changes = append(changes, audit.Change{Field: "holder", Before: before.Holder, After: c.Holder})
		}
		if before.HandlerID != c.HandlerID {
			changes = append(changes, audit.Change{Field: "handler", Before: before.HandlerName, After: c.HandlerName})
		}
		if err := s.Audit.Write(ctx, audit.Entry{Action: audit.Update, Entity: "case", EntityID: strconv.FormatInt(c.ID, 10),
			Division: c.Division, Changes: changes}); err != nil {
			return err
		}
		out = c
		return nil
	})
	if errors.Is(err, db.ErrNotFound) {
		if c, e := s.st.byID(ctx, id); e == nil {
			s.deny(ctx, c)
		}
	}
	return out, err
}

// apply changes c for action a (inside Do's transaction).
func (s *Service) apply(ctx context.Context, p *access.Principal, c *Case, a Action, note string) ([]facts.Delta, error) {
	today := s.Today()
	now := s.now().UnixMilli()
	cal, err := s.Days(ctx)
	if err != nil {
		return nil, err
	}
	it, itemKnown := s.itemOf(ctx, *c)
	switch a.Kind {
	case ActAccept:
		if a.Materials != nil {
			c.Materials = a.Materials
		}
		if itemKnown {
			missing, es := checkMaterials(it, c.Materials)
			if len(missing) > 0 {
				es.Add("materials", "materials_missing", strings.Join(materialLabels(it, missing), "、"))
			}
			if len(es) > 0 {
				return nil, es
			}
		}
		if a.Agency && !(itemKnown && it.Agency) {
			return nil, Errors{{Field: "agency", Code: "agency_not_allowed"}}
		}
		c.Agency = c.Agency || a.Agency
		c.State = StateAccepted
		c.AcceptedDay, c.Deadline = today, cal.AddWorkingDays(today, c.TimeLimit)
		return acceptedDeltas(*c, today), nil
	case ActReject:
		if note == "" {
			return nil, Errors{{Field: "note", Code: "reason_required"}}
		}
		c.State, c.Outcome, c.Reason, c.ClosedAt, c.ClosedDay = StateRejected, OutcomeRejected, note, now, today
		return []facts.Delta{{Division: c.Division, Period: period(today), Metric: MetricRejected, N: 1}}, nil
	case ActSupplement:
		if note == "" {
			return nil, Errors{{Field: "note", Code: "supplement_note"}}
		}
		if c.Overdue(today) {
			// 补正 stops the clock; once the time is up it would hide a late case
			return nil, Errors{{Field: "note", Code: "supplement_overdue"}}
		}
		c.ResumeState, c.State, c.PausedDay = c.State, StateSupplement, today
		if c.ResumeState == StateSubmitted {
			c.ResumeState = StateAccepted // the missing materials arrive at the window: accepted then
		}
	case ActResume:
		if a.Materials != nil {
			c.Materials = a.Materials
		}
		if c.AcceptedDay == 0 {
			// asked at intake: the case is accepted now that the file is whole
			if itemKnown {
				if missing, _ := checkMaterials(it, c.Materials); len(missing) > 0 {
					return nil, Errors{{Field: "materials", Code: "materials_missing", Arg: strings.Join(materialLabels(it, missing), "、")}}
				}
			}
			c.AcceptedDay, c.Deadline = today, cal.AddWorkingDays(today, c.TimeLimit)
			c.State, c.ResumeState, c.PausedDay = StateAccepted, "", 0
			return acceptedDeltas(*c, today), nil
		}
		n := cal.WorkingDaysBetween(c.PausedDay, today)
		c.PausedDays += n
		if n > 0 {
			c.Deadline = cal.AddWorkingDays(c.Deadline, n)
		}
		c.State, c.ResumeState, c.PausedDay = c.ResumeState, "", 0
		if c.State == "" {
			c.State = StateAccepted
		}
	case ActAssign:
		uid := a.HandlerID
		if uid == 0 {
			uid = p.UserID
		}
		name, err := s.handlerAt(ctx, uid, c.Holder)
		if err != nil {
			return nil, err
		}
		c.HandlerID, c.HandlerName, c.State = uid, name, StateHandling
	case ActTransfer:
		to, level, dept, err := s.above(*c, a, it, itemKnown)
		if err != nil {
			return nil, err
		}
		if _, err := s.Divisions.Get(ctx, to); err != nil {
			return nil, Errors{{Field: "to", Code: "transfer_target"}}
		}
		c.Holder, c.HolderLevel, c.Department = to, level, dept
		c.HandlerID, c.HandlerName, c.State = 0, "", StateAccepted
		if a.Agency {
			if !(itemKnown && it.Agency) {
				return nil, Errors{{Field: "agency", Code: "agency_not_allowed"}}
			}
			if !c.Agency {
				c.Agency = true
				return counts(*c, today, MetricAgency, 1), nil
			}
		}
	case ActReturn:
		to, level, ok := below(*c)
		if !ok {
			return nil, Errors{{Field: "to", Code: "return_target"}}
		}
		if note == "" {
			return nil, Errors{{Field: "note", Code: "reason_required"}}
		}
		c.Holder, c.HolderLevel, c.Department = to, level, ""
		c.HandlerID, c.HandlerName, c.State = 0, "", StateAccepted
	case ActComplete:
		if itemKnown && levelRank(c.HolderLevel) < levelRank(it.Level) {
			// a village window takes in a township's matter but does not decide it
			return nil, Errors{{Field: "outcome", Code: "complete_level", Arg: it.Level}}
		}
		switch a.Outcome {
		case OutcomeApproved, OutcomeDenied:
		default:
			return nil, Errors{{Field: "outcome", Code: "outcome_unknown"}}
		}
		if a.Outcome == OutcomeDenied && note == "" {
			return nil, Errors{{Field: "note", Code: "reason_required"}}
		}
		c.State, c.Outcome, c.Reason, c.ClosedAt, c.ClosedDay = StateCompleted, a.Outcome, note, now, today
		c.OnTime = c.Deadline == 0 || today <= c.Deadline
		done := counts(*c, today, MetricCompleted, 1)
		if c.OnTime {
			done = append(done, counts(*c, today, MetricOnTime, 1)...)
		}
		return done, nil
	case ActNote:
		if note == "" {
			return nil, Errors{{Field: "note", Code: "required"}}
		}
	}
	return nil, nil
}

// itemOf returns the current definition of a case's item at its unit.
func (s *Service) itemOf(ctx context.Context, c Case) (policy.WindowItem, bool) {
	cat, err := s.Catalogue(ctx, c.Division)
	if err != nil {
		return policy.WindowItem{}, false
	}
	for _, it := range cat.Items {
		if it.Code == c.ItemCode {
			return it.WindowItem, true
		}
	}
	return policy.WindowItem{}, false
}

// above returns where a transfer up goes: the unit above the holder, or a
// county department.
func (s *Service) above(c Case, a Action, it policy.WindowItem, itemKnown bool) (int64, string, string, error) {
	if a.ToDepartment || c.HolderLevel == policy.LevelCounty {
		dept := strings.TrimSpace(a.Department)
		if dept == "" && itemKnown {
			dept = it.Department.Get(policy.DefaultLocale)
		}
		if dept == "" || c.HolderLevel == policy.LevelDepartment {
			return 0, "", "", Errors{{Field: "department", Code: "department_required"}}
		}
		return ids.County(c.Holder), policy.LevelDepartment, dept, nil
	}
	switch c.HolderLevel {
	case policy.LevelVillage:
		return c.Holder - c.Holder%ids.Span(4), policy.LevelTownship, "", nil
	case policy.LevelTownship:
		return ids.County(c.Holder), policy.LevelCounty, "", nil
	}
	return 0, "", "", Errors{{Field: "to", Code: "transfer_target"}}
}

// below returns where a return goes: one level down towards the unit that
// accepted the case.
func below(c Case) (int64, string, bool) {
	switch c.HolderLevel {
	case policy.LevelDepartment:
		return c.Holder, policy.LevelCounty, true
	case policy.LevelCounty:
		if ids.Level(c.Division) >= 4 {
			return c.Division - c.Division%ids.Span(4), policy.LevelTownship, true
		}
	case policy.LevelTownship:
		if ids.Level(c.Division) == 5 {
			return c.Division, policy.LevelVillage, true
		}
	}
	return 0, "", false
}

// handlerAt checks that user uid may handle cases at unit and returns the
// name to show.
func (s *Service) handlerAt(ctx context.Context, uid, unit int64) (string, error) {
	hp, err := s.Access.PrincipalOf(ctx, uid)
	if err != nil || !hp.CanAt("window.handle", unit) {
		return "", Errors{{Field: "handler", Code: "handler"}}
	}
	if hp.DisplayName != "" {
		return hp.DisplayName, nil
	}
	return hp.Username, nil
}

// Handlers lists the accounts that may handle cases at unit (for the assign
// form), as seen by p.
func (s *Service) Handlers(ctx context.Context, p *access.Principal, unit int64) ([]access.User, error) {
	users, err := s.Access.ListUsers(ctx, p, "", 500)
	if err != nil {
		return nil, err
	}
	var out []access.User
	for _, u := range users {
		hp := &access.Principal{UserID: u.ID, Assignments: u.Assignments}
		if !u.Disabled && hp.CanAt("window.handle", unit) {
			out = append(out, u)
		}
	}
	return out, nil
}

// Reencrypt rewrites the applicants' phones and ID numbers not written with
// the current key version (after `shequ keys rotate`); it can be
// interrupted and run again. It returns the number of cases rewritten.
// Attachment files are re-encrypted too (and counted with their cases).
func (s *Service) Reencrypt(ctx context.Context, progress func(n int64)) (int64, error) {
	n, err := pii.Reencrypt(ctx, s.DB, s.Keys, "cases", []string{"phone", "id_number"}, progress)
	if err != nil {
		return n, err
	}
	m, err := s.reencryptAttachments(ctx)
	return n + m, err
}
