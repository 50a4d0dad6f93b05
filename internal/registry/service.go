package registry

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/shequ-platform/shequ/internal/division"
	"github.com/shequ-platform/shequ/internal/platform/access"
	"github.com/shequ-platform/shequ/internal/platform/audit"
	"github.com/shequ-platform/shequ/internal/platform/db"
	"github.com/shequ-platform/shequ/internal/platform/facts"
	"github.com/shequ-platform/shequ/internal/platform/geo"
	"github.com/shequ-platform/shequ/internal/platform/ids"
	"github.com/shequ-platform/shequ/internal/platform/pii"
	"github.com/shequ-platform/shequ/internal/platform/policy"
	"github.com/shequ-platform/shequ/internal/registry/idnum"
	"github.com/shequ-platform/shequ/internal/registry/pinyin"
)

// Fact metrics (monthly deltas at the resident's division): a stock on a
// month is the sum of all periods up to it. Age bands come from birth-year
// cohorts at read time, so nothing is recomputed as people age.
const (
	MetricPopulation = "registry.population"
	metricResidency  = "registry.residency."
	metricGender     = "registry.gender."
	metricBorn       = "registry.born."
	metricTag        = "registry.tag."
)

// MetricResidency, MetricGender, MetricBorn and MetricTag name the
// breakdown metrics.
func MetricResidency(r string) string { return metricResidency + r }
func MetricGender(g string) string    { return metricGender + g }
func MetricBorn(year int) string      { return metricBorn + strconv.Itoa(year) }
func MetricTag(tag string) string     { return metricTag + tag }

// Service is the registry as the UI, API, CLI and import use it.
type Service struct {
	DB        *db.DB
	Audit     *audit.Log
	Access    *access.Service
	Keys      *pii.Keys
	Divisions *division.Store
	Packs     *policy.Set
	st        store
	now       func() time.Time
}

// NewService builds the registry service.
func NewService(d *db.DB, a *audit.Log, acc *access.Service, keys *pii.Keys, divs *division.Store, packs *policy.Set) *Service {
	return &Service{DB: d, Audit: a, Access: acc, Keys: keys, Divisions: divs, Packs: packs, st: store{d}, now: time.Now}
}

// ErrForbidden: the principal sees the record but may not do this.
var ErrForbidden = errors.New("registry: not permitted")

func (s *Service) today() int { return DateOf(s.now().In(china)) }

// scope answers whether p holds perm at division; a record outside every
// range the principal holds is "not found" (audited), one it sees but may
// not change is ErrForbidden. Inside a transaction the refusal is a *denied
// (still db.ErrNotFound) that the method audits with audited once its
// transaction has rolled back: an entry written inside it would be rolled
// back with it.
func (s *Service) scope(ctx context.Context, p *access.Principal, perm string, divisionCode int64, entity string, id int64) error {
	if p != nil && p.CanAt(perm, divisionCode) {
		return nil
	}
	if p != nil && p.CanAt("resident.view", divisionCode) {
		return ErrForbidden
	}
	if db.InTx(ctx) {
		return &denied{entity: entity, id: id, division: divisionCode}
	}
	if s.Access != nil {
		s.Access.Deny(ctx, entity, strconv.FormatInt(id, 10), divisionCode)
	}
	return db.ErrNotFound
}

// denied is a scope refusal met inside a transaction.
type denied struct {
	entity       string
	id, division int64
}

func (e *denied) Error() string { return db.ErrNotFound.Error() }
func (e *denied) Unwrap() error { return db.ErrNotFound }

// audited writes the audit entry of a refusal met inside a transaction
// (call it after the transaction) and returns db.ErrNotFound in its place;
// other errors pass through.
func (s *Service) audited(ctx context.Context, err error) error {
	var d *denied
	if !errors.As(err, &d) {
		return err
	}
	if s.Access != nil {
		s.Access.Deny(ctx, d.entity, strconv.FormatInt(d.id, 10), d.division)
	}
	return db.ErrNotFound
}

// livingUnit checks that code is a village or a grid (or group/building)
// and returns its village and grid.
func (s *Service) livingUnit(ctx context.Context, code int64) (village, grid int64, err error) {
	if c, ok := ctx.Value(unitCacheKey{}).(unitCache); ok {
		if u, ok := c[code]; ok {
			return u.village, u.grid, u.err
		}
		village, grid, err = s.lookupUnit(ctx, code)
		c[code] = unitEntry{village, grid, err}
		return village, grid, err
	}
	return s.lookupUnit(ctx, code)
}

// unitCache remembers livingUnit answers for the length of one import (a
// context value, so it never outlives the work that filled it).
type (
	unitCacheKey struct{}
	unitEntry    struct {
		village, grid int64
		err           error
	}
	unitCache map[int64]unitEntry
)

func withUnitCache(ctx context.Context) context.Context {
	return context.WithValue(ctx, unitCacheKey{}, unitCache{})
}

func (s *Service) lookupUnit(ctx context.Context, code int64) (village, grid int64, err error) {
	d, err := s.Divisions.Get(ctx, code)
	if err != nil || d.Retired {
		return 0, 0, &FieldError{Field: "division", Code: "division_unknown"}
	}
	switch d.Level {
	case 5:
		return d.Code, 0, nil
	case 6:
		return d.Parent, d.Code, nil
	}
	return 0, 0, &FieldError{Field: "division", Code: "division_not_village"}
}

// HouseholdInput is a household as typed.
type HouseholdInput struct {
	Division int64 // village, or a grid/group/building under it
	Number   string
	Kind     string
	Address  string
	HouseNo  string
	Lat, Lon string
	Coords   string // wgs84 (default), cgcs2000, gcj02, bd09
}

func (s *Service) buildHousehold(ctx context.Context, in HouseholdInput, h *Household) Errors {
	var es Errors
	village, grid, err := s.livingUnit(ctx, in.Division)
	if err != nil {
		es = append(es, err.(*FieldError))
	}
	h.Village, h.Grid, h.County = village, grid, ids.County(village)
	h.Number = strings.TrimSpace(in.Number)
	if len([]rune(h.Number)) > 30 {
		es.Add("number", "too_long")
	}
	kind, ok := ParseLabel("household_kind", in.Kind)
	if !ok {
		es.Add("kind", "invalid")
	}
	if kind == "" {
		kind = "family"
	}
	h.Kind = kind
	h.Address, h.HouseNo = strings.TrimSpace(in.Address), strings.TrimSpace(in.HouseNo)
	if len([]rune(h.Address)) > 200 {
		es.Add("address", "too_long")
	}
	h.Lat, h.Lon = nil, nil
	if strings.TrimSpace(in.Lat) != "" || strings.TrimSpace(in.Lon) != "" {
		lat, err1 := strconv.ParseFloat(strings.TrimSpace(in.Lat), 64)
		lon, err2 := strconv.ParseFloat(strings.TrimSpace(in.Lon), 64)
		sys, err3 := geo.ParseSystem(in.Coords)
		if err1 != nil || err2 != nil || err3 != nil {
			es.Add("lat", "coordinates_invalid")
		} else if pt, err := geo.ToWGS84(sys, lat, lon); err != nil || !geo.InChina(pt.Lat, pt.Lon) {
			es.Add("lat", "coordinates_invalid")
		} else {
			h.Lat, h.Lon = &pt.Lat, &pt.Lon
		}
	}
	return es
}

// CreateHousehold registers a household in a village (or one of its grids).
func (s *Service) CreateHousehold(ctx context.Context, p *access.Principal, in HouseholdInput) (Household, error) {
	if err := s.scope(ctx, p, "resident.manage", in.Division, "household", 0); err != nil {
		return Household{}, err
	}
	var h Household
	if es := s.buildHousehold(ctx, in, &h); len(es) > 0 {
		return Household{}, es
	}
	err := s.DB.Tx(ctx, func(ctx context.Context) error {
		if h.Number != "" {
			if _, err := s.st.householdByNumber(ctx, h.Village, h.Number); err == nil {
				return Errors{{Field: "number", Code: "household_number_taken"}}
			}
		}
		if err := s.st.insertHousehold(ctx, &h); err != nil {
			return err
		}
		return s.Audit.Write(ctx, audit.Entry{Action: audit.Create, Entity: "household", EntityID: strconv.FormatInt(h.ID, 10), Division: h.Division(),
			Changes: []audit.Change{{Field: "number", After: h.Number}, {Field: "address", After: h.Address}}})
	})
	return h, err
}

// UpdateHousehold changes a household's address, number, grid or position
// (its members follow it to another grid of the same village).
func (s *Service) UpdateHousehold(ctx context.Context, p *access.Principal, id int64, in HouseholdInput) (Household, error) {
	var h Household
	err := s.DB.Tx(ctx, func(ctx context.Context) error {
		old, err := s.st.household(ctx, id)
		if err != nil {
			return err
		}
		if err := s.scope(ctx, p, "resident.manage", old.Division(), "household", id); err != nil {
			return err
		}
		h = old
		if es := s.buildHousehold(ctx, in, &h); len(es) > 0 {
			return es
		}
		if h.Village != old.Village {
			return Errors{{Field: "division", Code: "household_other_village"}}
		}
		if h.Number != "" && h.Number != old.Number {
			if other, err := s.st.householdByNumber(ctx, h.Village, h.Number); err == nil && other.ID != id {
				return Errors{{Field: "number", Code: "household_number_taken"}}
			}
		}
		if err := s.st.updateHousehold(ctx, h); err != nil {
			return err
		}
		if h.Division() != old.Division() {
			// members move with the household to its new grid: a transfer
			members, err := s.st.residents(ctx, "household_id = ? AND status = ?", id, Present)
			if err != nil {
				return err
			}
			for _, m := range members {
				if err := s.relocate(ctx, m, h.Division(), id, s.today(), EventTransfer); err != nil {
					return err
				}
			}
		}
		return s.Audit.Write(ctx, audit.Entry{Action: audit.Update, Entity: "household", EntityID: strconv.FormatInt(id, 10), Division: h.Division(),
			Changes: []audit.Change{{Field: "number", Before: old.Number, After: h.Number}, {Field: "address", Before: old.Address, After: h.Address},
				{Field: "division", Before: old.Division(), After: h.Division()}}})
	})
	return h, s.audited(ctx, err)
}

// Household returns a household the principal may see, with its members.
func (s *Service) Household(ctx context.Context, p *access.Principal, id int64) (Household, []Resident, error) {
	h, err := s.st.household(ctx, id)
	if err != nil {
		return Household{}, nil, err
	}
	if err := s.scope(ctx, p, "resident.view", h.Division(), "household", id); err != nil {
		return Household{}, nil, db.ErrNotFound
	}
	members, err := s.st.residents(ctx, "household_id = ? ORDER BY status DESC, CASE relation WHEN 'head' THEN 0 ELSE 1 END, birth", id)
	if err != nil {
		return h, nil, err
	}
	for i := range members {
		members[i].Tags, _ = s.visibleTags(ctx, p, members[i])
	}
	return h, members, nil
}

// ResidentInput is a resident as typed (forms, API, import rows).
type ResidentInput struct {
	HouseholdID int64
	Division    int64 // where the resident lives when not in a household (or to check it)
	Name        string
	Gender      string
	Birth       string
	IDNumber    string
	Ethnicity   string
	Phone       string
	Residency   string
	Relation    string
	Education   string
	Employment  string
	PartyMember bool
	Since       string            // when the current stint began; default today (or the birth date for a birth)
	Event       string            // register (default), birth, move_in
	Tags        map[string]string // tag key → grade
}

// valid is a validated input.
type valid struct {
	r     Resident
	id    idnum.ID
	phone string
	tags  []TagValue
	event string
}

// validate checks an input completely and returns every problem.
func (s *Service) validate(ctx context.Context, in ResidentInput) (valid, Errors) {
	var v valid
	var es Errors
	r := &v.r
	r.Name = idnum.NormalizeName(in.Name)
	if err := idnum.ValidName(r.Name); err != nil {
		es.Add("name", idnum.CodeOf(err))
	}
	today := s.now().In(china)
	if strings.TrimSpace(in.IDNumber) != "" {
		id, err := idnum.Parse(in.IDNumber, today)
		if err != nil {
			es.Add("id_number", idnum.CodeOf(err))
		} else {
			v.id = id
		}
	}
	g, ok := ParseLabel("gender", in.Gender)
	if !ok {
		es.Add("gender", "invalid")
	}
	birth := 0
	if strings.TrimSpace(in.Birth) != "" {
		if birth, ok = ParseDate(in.Birth); !ok || birth > DateOf(today) {
			es.Add("birth", "date_invalid")
			birth = 0
		}
	}
	if v.id.Number != "" {
		idBirth := DateOf(v.id.Birth)
		idGender := "F"
		if v.id.Male {
			idGender = "M"
		}
		if birth != 0 && birth != idBirth {
			es.Add("birth", "birth_mismatch")
		}
		if g != "" && g != idGender {
			es.Add("gender", "gender_mismatch")
		}
		birth, g = idBirth, idGender
	}
	// an invalid ID number is the one problem to fix: the birth date and
	// gender it would have given are not asked for separately
	if birth == 0 && es.For("birth") == nil && es.For("id_number") == nil {
		es.Add("birth", "required")
	}
	if g == "" && es.For("gender") == nil && es.For("id_number") == nil {
		es.Add("gender", "required")
	}
	r.Birth, r.Gender = birth, g
	if e, ok := NormalizeEthnicity(in.Ethnicity); ok {
		r.Ethnicity = e
	} else {
		es.Add("ethnicity", "invalid")
	}
	if strings.TrimSpace(in.Phone) != "" {
		ph, err := idnum.NormalizePhone(in.Phone)
		if err != nil {
			es.Add("phone", idnum.CodeOf(err))
		}
		v.phone = ph
	}
	for field, dst := range map[string]*string{"residency": &r.Residency, "relation": &r.Relation, "education": &r.Education, "employment": &r.Employment} {
		k, ok := ParseLabel(field, map[string]string{"residency": in.Residency, "relation": in.Relation, "education": in.Education, "employment": in.Employment}[field])
		if !ok {
			es.Add(field, "invalid")
		}
		*dst = k
	}
	if r.Residency == "" && es.For("residency") == nil {
		es.Add("residency", "required")
	}
	r.PartyMember = in.PartyMember
	v.event = in.Event
	switch v.event {
	case "":
		v.event = EventRegister
	case EventRegister, EventBirth, EventMoveIn:
	default:
		es.Add("event", "invalid")
	}
	r.Since = s.today()
	if v.event == EventBirth && birth != 0 {
		r.Since = birth
	}
	if strings.TrimSpace(in.Since) != "" {
		d, ok := ParseDate(in.Since)
		if !ok || d > s.today() || birth != 0 && d < birth {
			es.Add("since", "date_invalid")
		} else {
			r.Since = d
		}
	}
	for tag, grade := range in.Tags {
		v.tags = append(v.tags, TagValue{Tag: tag, Grade: strings.TrimSpace(grade), Since: r.Since})
	}
	return v, es
}

// checkTags validates tags against the pack of the division and the
// principal's right to set restricted ones.
func (s *Service) checkTags(p *access.Principal, divisionCode int64, tags []TagValue) Errors {
	var es Errors
	reg := s.registryOf(divisionCode)
	for _, t := range tags {
		def, ok := reg.Tag(t.Tag)
		switch {
		case !ok:
			es.Add("tags", "tag_unknown")
		case def.Restricted && (p == nil || !p.CanAt("resident.special", divisionCode)):
			es.Add("tags", "tag_unknown") // indistinguishable from a tag that does not exist
		case len(def.Grades) > 0 && !containsStr(def.Grades, t.Grade):
			es.Add("tags", "tag_grade_invalid")
		case len(def.Grades) == 0 && t.Grade != "":
			es.Add("tags", "tag_grade_invalid")
		}
	}
	return es
}

func containsStr(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

// registryOf is the registry section of the pack governing a division (an
// empty one when no pack binds it).
func (s *Service) registryOf(code int64) *policy.Registry {
	if s.Packs != nil {
		if pk := s.Packs.For(code); pk != nil && pk.Registry != nil {
			return pk.Registry
		}
	}
	return &policy.Registry{}
}

// Tags lists the tags of the pack governing a division that p may see.
func (s *Service) Tags(p *access.Principal, code int64) []policy.Tag {
	var out []policy.Tag
	for _, t := range s.registryOf(code).Tags {
		if !t.Restricted || p.CanAt("resident.special", code) {
			out = append(out, t)
		}
	}
	return out
}

func (s *Service) seal(v valid) (secrets, error) {
	var sec secrets
	if n := v.id.Number; n != "" {
		enc, err := s.Keys.Encrypt(n)
		if err != nil {
			return sec, err
		}
		sec.idEnc, sec.idLookup, sec.idMasked = enc, s.Keys.Lookup(n), idnum.MaskID(n)
		sec.idTail4, sec.idTail6 = s.Keys.Lookup("t4:"+n[14:]), s.Keys.Lookup("t6:"+n[12:])
	}
	if ph := v.phone; ph != "" {
		enc, err := s.Keys.Encrypt(ph)
		if err != nil {
			return sec, err
		}
		digits := strings.ReplaceAll(ph, "-", "")
		sec.phoneEnc, sec.phoneLookup, sec.phoneMasked = enc, s.Keys.Lookup("ph:"+digits), idnum.MaskPhone(ph)
		if len(digits) >= 4 {
			sec.phoneTail4 = s.Keys.Lookup("p4:" + digits[len(digits)-4:])
		}
	}
	return sec, nil
}

// populationFacts adds delta to the population metrics of r at its
// division in the month of day.
func (s *Service) populationFacts(ctx context.Context, r Resident, day int, delta int64) error {
	period := day / 100
	for _, m := range []string{MetricPopulation, MetricResidency(r.Residency), MetricGender(r.Gender), MetricBorn(r.Birth / 10000)} {
		if err := facts.Add(ctx, s.DB, r.Division, period, m, delta); err != nil {
			return err
		}
	}
	return nil
}

// Register adds a resident (a newborn, someone moving in, or an existing
// resident recorded for the first time). One person per ID number across
// the deployment: someone already registered elsewhere must be transferred.
func (s *Service) Register(ctx context.Context, p *access.Principal, in ResidentInput) (Resident, error) {
	v, es := s.validate(ctx, in)
	var r Resident
	err := s.DB.Tx(ctx, func(ctx context.Context) error {
		var h Household
		if in.HouseholdID != 0 {
			var err error
			if h, err = s.st.household(ctx, in.HouseholdID); err != nil {
				return Errors{{Field: "household", Code: "household_unknown"}}
			}
			in.Division = h.Division()
		}
		if err := s.scope(ctx, p, "resident.manage", in.Division, "resident", 0); err != nil {
			return err
		}
		if _, _, err := s.livingUnit(ctx, in.Division); err != nil {
			es = append(es, err.(*FieldError))
		}
		es = append(es, s.checkTags(p, in.Division, v.tags)...)
		if len(es) > 0 {
			return es
		}
		sec, err := s.seal(v)
		if err != nil {
			return err
		}
		if sec.idLookup != "" {
			if _, err := s.st.residentByLookup(ctx, sec.idLookup); err == nil {
				return Errors{{Field: "id_number", Code: "id_registered"}}
			}
		}
		r = v.r
		r.Division, r.County, r.HouseholdID, r.Status = in.Division, ids.County(in.Division), h.ID, Present
		r.IDMasked, r.PhoneMasked = sec.idMasked, sec.phoneMasked
		if err := s.st.insertResident(ctx, &r, sec); err != nil {
			if sec.idLookup != "" && duplicate(err) {
				// registered by a concurrent transaction since the check
				return Errors{{Field: "id_number", Code: "id_registered"}}
			}
			return err
		}
		return s.afterInsert(ctx, p, r, v, sec)
	})
	return r, s.audited(ctx, err)
}

// afterInsert records everything that follows a new resident row: stint,
// event, tags, search keys, facts and the audit entry.
func (s *Service) afterInsert(ctx context.Context, p *access.Principal, r Resident, v valid, sec secrets) error {
	if err := s.st.openStint(ctx, r); err != nil {
		return err
	}
	if err := s.st.insertEvent(ctx, Event{ResidentID: r.ID, Kind: v.event, Effective: r.Since, ToDivision: r.Division, RecordedBy: actorName(ctx)}); err != nil {
		return err
	}
	for _, t := range v.tags {
		if err := s.st.setTag(ctx, r.ID, t); err != nil {
			return err
		}
		if err := facts.Add(ctx, s.DB, r.Division, t.Since/100, MetricTag(t.Tag), 1); err != nil {
			return err
		}
	}
	if err := s.st.setKeys(ctx, r.ID, r.Division, pinyin.NameKeys(r.Name)); err != nil {
		return err
	}
	if err := s.populationFacts(ctx, r, r.Since, 1); err != nil {
		return err
	}
	return s.Audit.Write(ctx, audit.Entry{Action: audit.Create, Entity: "resident", EntityID: strconv.FormatInt(r.ID, 10), Division: r.Division,
		Changes: []audit.Change{{Field: "name", After: r.Name}, {Field: "id_number", After: sec.idMasked}, {Field: "phone", After: sec.phoneMasked},
			{Field: "residency", After: r.Residency}, {Field: "household_id", After: r.HouseholdID}}})
}

func actorName(ctx context.Context) string { return audit.ActorFrom(ctx).Name }

// duplicate reports a unique-constraint violation: PostgreSQL's SQLSTATE
// 23505, SQLite's SQLITE_CONSTRAINT family.
func duplicate(err error) bool {
	var pg interface{ SQLState() string }
	if errors.As(err, &pg) {
		return pg.SQLState() == "23505"
	}
	var lite interface{ Code() int }
	return errors.As(err, &lite) && lite.Code()&0xff == 19
}

// Update changes a resident's personal data (not where they live: see Move).
func (s *Service) Update(ctx context.Context, p *access.Principal, id int64, in ResidentInput) (Resident, error) {
	var r Resident
	err := s.DB.Tx(ctx, func(ctx context.Context) error {
		old, err := s.st.resident(ctx, id)
		if err != nil {
			return err
		}
		if err := s.scope(ctx, p, "resident.manage", old.Division, "resident", id); err != nil {
			return err
		}
		in.Since = ""
		v, es := s.validate(ctx, in)
		if len(es) > 0 {
			return es
		}
		oldSec, err := s.st.secretsOf(ctx, id)
		if err != nil {
			return err
		}
		sec, err := s.seal(v)
		if err != nil {
			return err
		}
		if sec.idLookup != "" && sec.idLookup != oldSec.idLookup {
			if _, err := s.st.residentByLookup(ctx, sec.idLookup); err == nil {
				return Errors{{Field: "id_number", Code: "id_registered"}}
			}
		}
		r = old
		r.Name, r.Gender, r.Birth, r.Ethnicity = v.r.Name, v.r.Gender, v.r.Birth, v.r.Ethnicity
		r.Residency, r.Relation, r.Education, r.Employment, r.PartyMember = v.r.Residency, v.r.Relation, v.r.Education, v.r.Employment, v.r.PartyMember
		r.IDMasked, r.PhoneMasked = sec.idMasked, sec.phoneMasked
		if err := s.st.updateResident(ctx, r, sec); err != nil {
			return err
		}
		if err := s.st.setLookup(ctx, id, oldSec.idLookup, sec.idLookup); err != nil {
			if duplicate(err) { // taken by a concurrent transaction since the check
				return Errors{{Field: "id_number", Code: "id_registered"}}
			}
			return err
		}
		if r.Name != old.Name {
			if err := s.st.setKeys(ctx, id, r.Division, pinyin.NameKeys(r.Name)); err != nil {
				return err
			}
		}
		if old.Status == Present && old.Residency != r.Residency {
			// the stints carry the residency (Population by residency on a
			// day): a stint with the new residency starts today
			if err := s.st.closeStint(ctx, id, s.today()); err != nil {
				return err
			}
			stint := r
			stint.Since = s.today()
			if err := s.st.openStint(ctx, stint); err != nil {
				return err
			}
		}
		if old.Status == Present && (old.Residency != r.Residency || old.Gender != r.Gender || old.Birth/10000 != r.Birth/10000) {
			// the breakdowns move from the old values to the new ones this month
			if err := s.populationFacts(ctx, old, s.today(), -1); err != nil {
				return err
			}
			if err := s.populationFacts(ctx, r, s.today(), 1); err != nil {
				return err
			}
		}
		var changes []audit.Change
		for _, c := range []audit.Change{{Field: "name", Before: old.Name, After: r.Name}, {Field: "gender", Before: old.Gender, After: r.Gender},
			{Field: "birth", Before: old.Birth, After: r.Birth}, {Field: "id_number", Before: oldSec.idMasked, After: sec.idMasked},
			{Field: "phone", Before: oldSec.phoneMasked, After: sec.phoneMasked}, {Field: "residency", Before: old.Residency, After: r.Residency},
			{Field: "relation", Before: old.Relation, After: r.Relation}, {Field: "ethnicity", Before: old.Ethnicity, After: r.Ethnicity},
			{Field: "education", Before: old.Education, After: r.Education}, {Field: "employment", Before: old.Employment, After: r.Employment},
			{Field: "party_member", Before: old.PartyMember, After: r.PartyMember}} {
			if fmt.Sprint(c.Before) != fmt.Sprint(c.After) {
				changes = append(changes, c)
			}
		}
		if len(changes) == 0 {
			return nil
		}
		if err := s.st.insertEvent(ctx, Event{ResidentID: id, Kind: EventUpdate, Effective: s.today(), FromDivision: r.Division, ToDivision: r.Division,
			Detail: changedFields(changes), RecordedBy: actorName(ctx)}); err != nil {
			return err
		}
		return s.Audit.Write(ctx, audit.Entry{Action: audit.Update, Entity: "resident", EntityID: strconv.FormatInt(id, 10), Division: r.Division, Changes: changes})
	})
	return r, s.audited(ctx, err)
}

func changedFields(cs []audit.Change) string {
	f := make([]string, len(cs))
	for i, c := range cs {
		f[i] = c.Field
	}
	return strings.Join(f, ",")
}

// Get returns a resident the principal may see (masked), with the tags it
// may see.
func (s *Service) Get(ctx context.Context, p *access.Principal, id int64) (Resident, error) {
	r, err := s.st.resident(ctx, id)
	if err != nil {
		return r, err
	}
	if err := s.scope(ctx, p, "resident.view", r.Division, "resident", id); err != nil {
		return Resident{}, db.ErrNotFound
	}
	r.Tags, err = s.visibleTags(ctx, p, r)
	return r, err
}

// Contact returns a resident the principal may see together with the
// ciphertext of the resident's phone, for another domain to keep as the
// contact of a record it files for the resident (a service-window case)
// without anyone reading the number. Nothing is revealed, so nothing is
// audited beyond Get's own scope check.
func (s *Service) Contact(ctx context.Context, p *access.Principal, id int64) (Resident, string, error) {
	r, err := s.Get(ctx, p, id)
	if err != nil {
		return r, "", err
	}
	sec, err := s.st.secretsOf(ctx, id)
	return r, sec.phoneEnc, err
}

func (s *Service) visibleTags(ctx context.Context, p *access.Principal, r Resident) ([]TagValue, error) {
	all, err := s.st.tags(ctx, r.ID)
	if err != nil {
		return nil, err
	}
	reg := s.registryOf(r.Division)
	var out []TagValue
	for _, t := range all {
		if def, ok := reg.Tag(t.Tag); ok && def.Restricted && !p.CanAt("resident.special", r.Division) {
			continue
		}
		out = append(out, t)
	}
	return out, nil
}

// History returns a resident's events. Tag events of restricted tags are
// left out for a principal without resident.special, like the tags.
func (s *Service) History(ctx context.Context, p *access.Principal, id int64) ([]Event, error) {
	r, err := s.Get(ctx, p, id)
	if err != nil {
		return nil, err
	}
	evs, err := s.st.events(ctx, id)
	if err != nil || p.CanAt("resident.special", r.Division) {
		return evs, err
	}
	reg := s.registryOf(r.Division)
	out := evs[:0]
	for _, e := range evs {
		if e.Kind == EventTagOn || e.Kind == EventTagOff {
			if def, ok := reg.Tag(e.Detail); ok && def.Restricted {
				continue
			}
		}
		out = append(out, e)
	}
	return out, nil
}

// Reveal returns a resident's full ID number ("id_number") or phone
// ("phone") to a principal allowed to see it, and audits the reveal.
func (s *Service) Reveal(ctx context.Context, p *access.Principal, id int64, field string) (string, error) {
	r, err := s.st.resident(ctx, id)
	if err != nil {
		return "", err
	}
	if err := s.scope(ctx, p, "resident.reveal", r.Division, "resident", id); err != nil {
		return "", err
	}
	sec, err := s.st.secretsOf(ctx, id)
	if err != nil {
		return "", err
	}
	ct := sec.idEnc
	if field == "phone" {
		ct = sec.phoneEnc
	} else if field != "id_number" {
		return "", fmt.Errorf("registry: cannot reveal %q", field)
	}
	if ct == "" {
		return "", nil
	}
	plain, err := s.Keys.Decrypt(ct)
	if err != nil {
		return "", err
	}
	return plain, s.Audit.Write(ctx, audit.Entry{Action: audit.Reveal, Entity: "resident", EntityID: strconv.FormatInt(id, 10), Division: r.Division,
		Changes: []audit.Change{{Field: field}}})
}

// MoveInput describes a change of where (or whether) a resident lives.
type MoveInput struct {
	Kind        string // move_out (leaves the deployment's area), transfer (to another household or unit), death
	Effective   string
	ToHousehold int64
	ToDivision  int64
	Note        string
}

// Move records a move out, a transfer or a death with its effective date.
func (s *Service) Move(ctx context.Context, p *access.Principal, id int64, in MoveInput) (Resident, error) {
	var r Resident
	err := s.DB.Tx(ctx, func(ctx context.Context) error {
		var err error
		if r, err = s.st.resident(ctx, id); err != nil {
			return err
		}
		if err := s.scope(ctx, p, "resident.manage", r.Division, "resident", id); err != nil {
			return err
		}
		if r.Status != Present {
			return Errors{{Field: "kind", Code: "not_present"}}
		}
		day := s.today()
		if strings.TrimSpace(in.Effective) != "" {
			d, ok := ParseDate(in.Effective)
			if !ok || d > s.today() || d < r.Since {
				return Errors{{Field: "effective", Code: "date_invalid"}}
			}
			day = d
		}
		switch in.Kind {
		case EventMoveOut, EventDeath:
			if err := s.st.closeStint(ctx, id, day); err != nil {
				return err
			}
			status := MovedOut
			if in.Kind == EventDeath {
				status = Deceased
			}
			if _, err := s.DB.Exec(ctx, "UPDATE residents SET status = ?, updated_at = ? WHERE id = ?", status, db.Now(), id); err != nil {
				return err
			}
			if err := s.populationFacts(ctx, r, day, -1); err != nil {
				return err
			}
			if err := s.tagFacts(ctx, r, day, -1); err != nil {
				return err
			}
			if err := s.st.insertEvent(ctx, Event{ResidentID: id, Kind: in.Kind, Effective: day, FromDivision: r.Division, Detail: in.Note, RecordedBy: actorName(ctx)}); err != nil {
				return err
			}
			r.Status = status
		case EventTransfer:
			to, hh := in.ToDivision, in.ToHousehold
			if hh != 0 {
				h, err := s.st.household(ctx, hh)
				if err != nil {
					return Errors{{Field: "to_household", Code: "household_unknown"}}
				}
				to = h.Division()
			}
			if _, _, err := s.livingUnit(ctx, to); err != nil {
				return Errors{err.(*FieldError)}
			}
			if err := s.scope(ctx, p, "resident.manage", to, "resident", id); err != nil {
				return err
			}
			if err := s.relocate(ctx, r, to, hh, day, EventTransfer); err != nil {
				return err
			}
			r.Division, r.HouseholdID = to, hh
		default:
			return Errors{{Field: "kind", Code: "invalid"}}
		}
		return s.Audit.Write(ctx, audit.Entry{Action: audit.Update, Entity: "resident", EntityID: strconv.FormatInt(id, 10), Division: r.Division,
			Changes: []audit.Change{{Field: "event", After: in.Kind}, {Field: "effective", After: day}}})
	})
	return r, s.audited(ctx, err)
}

// relocate moves a present resident to another unit and household from day
// on: the stint, the search keys and the facts follow.
func (s *Service) relocate(ctx context.Context, r Resident, to, household int64, day int, kind string) error {
	if err := s.st.closeStint(ctx, r.ID, day); err != nil {
		return err
	}
	if err := s.populationFacts(ctx, r, day, -1); err != nil {
		return err
	}
	if err := s.tagFacts(ctx, r, day, -1); err != nil {
		return err
	}
	from := r.Division
	r.Division, r.HouseholdID, r.Since, r.County = to, household, day, ids.County(to)
	if _, err := s.DB.Exec(ctx, "UPDATE residents SET division = ?, county = ?, household_id = ?, since = ?, updated_at = ? WHERE id = ?",
		to, r.County, household, day, db.Now(), r.ID); err != nil {
		return err
	}
	if _, err := s.DB.Exec(ctx, "UPDATE resident_keys SET division = ? WHERE resident_id = ?", to, r.ID); err != nil {
		return err
	}
	if err := s.st.openStint(ctx, r); err != nil {
		return err
	}
	if err := s.populationFacts(ctx, r, day, 1); err != nil {
		return err
	}
	if err := s.tagFacts(ctx, r, day, 1); err != nil {
		return err
	}
	return s.st.insertEvent(ctx, Event{ResidentID: r.ID, Kind: kind, Effective: day, FromDivision: from, ToDivision: to, RecordedBy: actorName(ctx)})
}

func (s *Service) tagFacts(ctx context.Context, r Resident, day int, delta int64) error {
	tags, err := s.st.tags(ctx, r.ID)
	if err != nil {
		return err
	}
	for _, t := range tags {
		// a tag put on after a backdated move counts from its own start,
		// so no month of the old place drops below zero
		if err := facts.Add(ctx, s.DB, r.Division, max(day, t.Since)/100, MetricTag(t.Tag), delta); err != nil {
			return err
		}
	}
	return nil
}

// SetTag puts a tag on (with a grade where the tag has grades) or takes it off.
func (s *Service) SetTag(ctx context.Context, p *access.Principal, id int64, tag, grade string, on bool) error {
	err := s.DB.Tx(ctx, func(ctx context.Context) error {
		r, err := s.st.resident(ctx, id)
		if err != nil {
			return err
		}
		if err := s.scope(ctx, p, "resident.manage", r.Division, "resident", id); err != nil {
			return err
		}
		if r.Status != Present {
			return Errors{{Field: "tags", Code: "not_present"}}
		}
		day := s.today()
		if on {
			if es := s.checkTags(p, r.Division, []TagValue{{Tag: tag, Grade: grade}}); len(es) > 0 {
				return es
			}
			existing, _ := s.st.tags(ctx, id)
			had := false
			for _, t := range existing {
				had = had || t.Tag == tag
			}
			if err := s.st.setTag(ctx, id, TagValue{Tag: tag, Grade: grade, Since: day}); err != nil {
				return err
			}
			if !had {
				if err := facts.Add(ctx, s.DB, r.Division, day/100, MetricTag(tag), 1); err != nil {
					return err
				}
			}
		} else {
			if es := s.checkTags(p, r.Division, []TagValue{{Tag: tag, Grade: grade}}); len(es) > 0 && es[0].Code == "tag_unknown" {
				return es
			}
			removed, err := s.st.removeTag(ctx, id, tag)
			if err != nil || !removed {
				return err
			}
			if err := facts.Add(ctx, s.DB, r.Division, day/100, MetricTag(tag), -1); err != nil {
				return err
			}
		}
		kind := EventTagOff
		if on {
			kind = EventTagOn
		}
		if err := s.st.insertEvent(ctx, Event{ResidentID: id, Kind: kind, Effective: day, FromDivision: r.Division, ToDivision: r.Division,
			Detail: tag, RecordedBy: actorName(ctx)}); err != nil {
			return err
		}
		return s.Audit.Write(ctx, audit.Entry{Action: audit.Update, Entity: "resident", EntityID: strconv.FormatInt(id, 10), Division: r.Division,
			Changes: []audit.Change{{Field: "tag", After: map[bool]string{true: "+", false: "-"}[on] + tag}}})
	})
	return s.audited(ctx, err)
}

// Population counts the residents living in code's subtree on a day, by
// residency, from the stints.
func (s *Service) Population(ctx context.Context, p *access.Principal, code int64, day int) (map[string]int64, error) {
	if !p.CanAt("resident.view", code) && !p.CanAt("division.view", code) {
		return nil, db.ErrNotFound
	}
	lo, hi := ids.Subtree(code)
	rows, err := s.DB.Query(ctx, `SELECT residency, COUNT(*) FROM residencies
		WHERE division >= ? AND division <= ? AND since <= ? AND (until = 0 OR until > ?) GROUP BY residency`, lo, hi, day, day)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	out := map[string]int64{}
	for rows.Next() {
		var k string
		var n int64
		if err := rows.Scan(&k, &n); err != nil {
			return nil, err
		}
		out[k] = n
		out[""] += n
	}
	return out, rows.Err()
}
