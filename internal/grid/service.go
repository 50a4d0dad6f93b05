package grid

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"math"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/shequ-platform/shequ/internal/division"
	"github.com/shequ-platform/shequ/internal/platform/access"
	"github.com/shequ-platform/shequ/internal/platform/audit"
	"github.com/shequ-platform/shequ/internal/platform/calendar"
	"github.com/shequ-platform/shequ/internal/platform/db"
	"github.com/shequ-platform/shequ/internal/platform/facts"
	"github.com/shequ-platform/shequ/internal/platform/geo"
	"github.com/shequ-platform/shequ/internal/platform/ids"
	"github.com/shequ-platform/shequ/internal/platform/pii"
	"github.com/shequ-platform/shequ/internal/platform/policy"
	"github.com/shequ-platform/shequ/internal/platform/sealed"
	"github.com/shequ-platform/shequ/internal/registry"
	"github.com/shequ-platform/shequ/internal/registry/idnum"
)

// Fact metrics of incidents, counted at the place the incident happened
// (grid, else village) in the month of the event, so any unit's figure is a
// range sum. The share of incidents settled in the village (DG-16, XS-12)
// is MetricClosedVillage / MetricClosed.
const (
	MetricReported      = "grid.reported"         // + .source.<source>, .group.<group>
	MetricRegistered    = "grid.registered"       //
	MetricRejected      = "grid.rejected"         //
	MetricClosed        = "grid.closed"           // + .group.<group>
	MetricClosedVillage = "grid.closed.village"   // settled by the village itself
	MetricClosedOnTime  = "grid.closed.on_time"   // handled within the time limit
	MetricEscalated     = "grid.escalated"        //
	MetricRated         = "grid.rated"            //
	MetricRatingSum     = "grid.rating_sum"       //
	metricClosedLevel   = "grid.closed.level."    // + village, township, department
	metricReportedBy    = "grid.reported.source." // + source
)

// Limits of an incident's input.
const (
	MaxPhotos      = 6
	MaxPhoto       = 8 << 20
	maxDescription = 2000
	maxNote        = 2000
	maxExtension   = 30
	// outsideMeters: a position whose nearest household within this radius
	// lives in another county is refused as outside the grid's county.
	outsideMeters = 20000
)

var (
	// ErrForbidden: the principal sees the incident but may not do this.
	ErrForbidden = errors.New("grid: not permitted")
)

// Service is grid governance as the UI, the API, Open311 and the CLI use it.
type Service struct {
	DB        *db.DB
	Audit     *audit.Log
	Access    *access.Service
	Keys      *pii.Keys
	Divisions *division.Store
	Packs     *policy.Set
	Registry  *registry.Service
	// Days returns the current working-day calendar.
	Days func(ctx context.Context) (*calendar.Calendar, error)
	// Files seals photos (under <data>/attachments/incidents).
	Files *sealed.Store

	st  store
	now func() time.Time
}

// NewService builds the grid service; attachments is the directory sealed
// files are kept in (the window's too).
func NewService(d *db.DB, a *audit.Log, acc *access.Service, keys *pii.Keys, divs *division.Store, packs *policy.Set,
	reg *registry.Service, days func(ctx context.Context) (*calendar.Calendar, error), attachments string) *Service {
	return &Service{DB: d, Audit: a, Access: acc, Keys: keys, Divisions: divs, Packs: packs, Registry: reg, Days: days,
		Files: &sealed.Store{Dir: attachments, Keys: keys}, st: store{d}, now: time.Now}
}

var china = time.FixedZone("CST", 8*3600)

func dayOf(t time.Time) int { return calendar.DayOf(t) }

// SetClock replaces the service's clock: the day an incident is reported,
// dispatched and closed, its deadline, the months its facts are counted in.
// It is for demos (internal/demo fills months of incidents in the past) and
// tests; a server keeps time.Now. Not safe while the service is in use by
// other goroutines.
func (s *Service) SetClock(now func() time.Time) {
	if now == nil {
		now = time.Now
	}
	s.now = now
}

// Today is the service's current day in China (YYYYMMDD).
func (s *Service) Today() int { return dayOf(s.now()) }

func period(day int) int { return day / 100 }

// dayTime is noon of day (YYYYMMDD) in China.
func dayTime(day int) time.Time {
	return time.Date(day/10000, time.Month(day/100%100), day%100, 12, 0, 0, 0, china)
}

// Rules returns the grid rules of the pack bound to code (nil when none).
func (s *Service) Rules(code int64) *policy.Grid {
	if p := s.Packs.For(code); p != nil {
		return p.Grid
	}
	return nil
}

// Get returns an incident the principal may see (grid.view where it
// happened or where it is held); anything else is db.ErrNotFound, audited.
func (s *Service) Get(ctx context.Context, p *access.Principal, id int64) (Incident, error) {
	in, err := s.st.byID(ctx, id)
	if err != nil {
		return in, err
	}
	if !sees(p, "grid.view", in) {
		s.deny(ctx, in)
		return Incident{}, db.ErrNotFound
	}
	return in, nil
}

// ByNumber returns an incident by its number, like Get.
func (s *Service) ByNumber(ctx context.Context, p *access.Principal, number string) (Incident, error) {
	in, err := s.st.byNumber(ctx, strings.TrimSpace(number))
	if err != nil {
		return in, err
	}
	return s.Get(ctx, p, in.ID)
}

func sees(p *access.Principal, perm string, in Incident) bool {
	return p != nil && (p.CanAt(perm, in.Division) || p.CanAt(perm, in.Holder))
}

func (s *Service) deny(ctx context.Context, in Incident) {
	if s.Access != nil {
		s.Access.Deny(ctx, "incident", strconv.FormatInt(in.ID, 10), in.Division)
	}
}

// Steps returns an incident's history with each step's photos (call Get
// first).
func (s *Service) Steps(ctx context.Context, in Incident) ([]Step, error) {
	steps, err := s.st.steps(ctx, in.ID)
	if err != nil {
		return nil, err
	}
	photos, err := s.st.photos(ctx, in.ID)
	if err != nil {
		return nil, err
	}
	for _, ph := range photos {
		for i := range steps {
			if steps[i].ID == ph.StepID {
				steps[i].Photos = append(steps[i].Photos, ph)
			}
		}
	}
	return steps, nil
}

// Photo reads and decrypts a photo of an incident the principal may see.
func (s *Service) Photo(ctx context.Context, p *access.Principal, id, photoID int64) (Photo, []byte, error) {
	in, err := s.Get(ctx, p, id)
	if err != nil {
		return Photo{}, nil, err
	}
	photos, err := s.st.photos(ctx, in.ID)
	if err != nil {
		return Photo{}, nil, err
	}
	for _, ph := range photos {
		if ph.ID == photoID {
			data, err := s.Files.Open(ph.Path)
			return ph, data, err
		}
	}
	return Photo{}, nil, db.ErrNotFound
}

// Report is what reporting an incident takes.
type Report struct {
	// Division is where it happened: a grid or a village.
	Division    int64
	Category    string
	Description string
	Address     string
	// Lat and Lon are WGS-84 (the HTTP layer converts GCJ-02 or BD-09).
	Lat, Lon    *float64
	HouseholdID int64
	ResidentID  int64
	Source      string
	// Photos are the photos' bytes (JPEG, PNG or WebP, MaxPhoto each).
	Photos [][]byte
	// ClientKey is the reporter's idempotency key: a draft sent twice (a
	// retry after a lost answer) is stored once.
	ClientKey string
	// PatrolID is the patrol visit that found the problem (its incident is
	// linked to it); Source is then patrol.
	PatrolID int64
	// Name and Phone of a resident reporting through Open311.
	Name, Phone string
	ClientID    int64
	Token       string
}

// ReportIncident records an incident reported by a grid worker or staff
// (grid.report where it happened). A report sent again under the same
// ClientKey returns the incident stored the first time.
func (s *Service) ReportIncident(ctx context.Context, p *access.Principal, r Report) (Incident, error) {
	if p == nil || !p.CanAt("grid.report", r.Division) {
		return Incident{}, ErrForbidden
	}
	if r.Source == "" {
		r.Source = SourceWorker
	}
	if r.Source == SourceResident {
		return Incident{}, ErrForbidden
	}
	r.Name, r.Phone, r.ClientID, r.Token = "", "", 0, ""
	return s.report(ctx, p, r)
}

// ReportOnline records an incident a resident reported through an Open311
// client (already authenticated by its API key).
func (s *Service) ReportOnline(ctx context.Context, r Report) (Incident, error) {
	r.Source, r.HouseholdID, r.ResidentID = SourceResident, 0, 0
	return s.report(ctx, nil, r)
}

func (s *Service) report(ctx context.Context, p *access.Principal, r Report) (Incident, error) {
	var es Errors
	key := strings.TrimSpace(r.ClientKey)
	if utf8.RuneCountInString(key) > 64 {
		es.Add("client_key", "too_long", "64")
	}
	if p != nil && key != "" {
		if in, err := s.st.byClientKey(ctx, p.UserID, key); err == nil {
			return in, nil // the same draft, sent again
		} else if !errors.Is(err, db.ErrNotFound) {
			return Incident{}, err
		}
	}
	lvl := ids.Level(r.Division)
	if lvl < 5 {
		es.Add("division", "division_level")
		return Incident{}, es
	}
	if _, err := s.Divisions.Get(ctx, r.Division); err != nil {
		if errors.Is(err, db.ErrNotFound) {
			es.Add("division", "division_unknown")
			return Incident{}, es
		}
		return Incident{}, err
	}
	rules := s.Rules(r.Division)
	now := s.now()
	today := dayOf(now)
	in := Incident{County: ids.County(r.Division), Division: r.Division, Source: r.Source, ClientKey: key,
		Description: strings.TrimSpace(r.Description), Address: strings.TrimSpace(r.Address), Lat: r.Lat, Lon: r.Lon,
		HouseholdID: r.HouseholdID, ResidentID: r.ResidentID, ClientID: r.ClientID, Token: r.Token,
		ReportedAt: now.UnixMilli(), ReportedDay: today, UpdatedAt: now.UnixMilli(), State: StateReported}
	in.Holder, in.HolderLevel = in.Village(), LevelVillage
	if !contains(Sources, r.Source) {
		es.Add("source", "source_unknown")
	}
	code := strings.TrimSpace(r.Category)
	if cat, ok := rules.Category(code); !ok {
		if code == "" {
			es.Add("category", "required")
		} else {
			es.Add("category", "category_unknown")
		}
	} else {
		gr, _ := rules.Group(cat.Group)
		in.Category, in.CategoryName, in.Group, in.Kind = cat.Code, cat.Name.Get(policy.DefaultLocale), cat.Group, gr.Kind
	}
	if utf8.RuneCountInString(in.Description) > maxDescription {
		es.Add("description", "too_long", strconv.Itoa(maxDescription))
	}
	if utf8.RuneCountInString(in.Address) > 200 {
		es.Add("address", "too_long", "200")
	}
	if (r.Lat == nil) != (r.Lon == nil) {
		es.Add("position", "position_invalid")
	} else if r.Lat != nil {
		if err := s.checkPosition(ctx, in.County, *r.Lat, *r.Lon); err != nil {
			var fe *FieldError
			if !errors.As(err, &fe) {
				return Incident{}, err
			}
			es = append(es, fe)
		}
	}
	if r.Source == SourceResident && in.Lat == nil && in.Address == "" {
		es.Add("address", "place_required")
	}
	if r.HouseholdID != 0 {
		h, _, err := s.Registry.Household(ctx, p, r.HouseholdID)
		if err != nil || h.Village != in.Village() {
			es.Add("household", "household_unknown")
		}
	}
	if r.ResidentID != 0 {
		res, err := s.Registry.Get(ctx, p, r.ResidentID)
		if err != nil || res.Division/1000*1000 != in.Village() && res.Division != in.Village() {
			es.Add("resident", "resident_unknown")
		}
	}
	var phoneEnc string
	if p != nil {
		in.ReporterID, in.ReporterName = p.UserID, actorName(p)
	} else {
		in.ReporterName = idnum.NormalizeName(r.Name)
		if utf8.RuneCountInString(in.ReporterName) > 50 {
			es.Add("name", "too_long", "50")
		}
		if strings.TrimSpace(r.Phone) != "" {
			ph, err := idnum.NormalizePhone(r.Phone)
			if err != nil {
				es.Add("phone", "phone")
			} else if phoneEnc, err = s.Keys.Encrypt(ph); err != nil {
				return Incident{}, err
			} else {
				in.PhoneMasked = idnum.MaskPhone(ph)
			}
		}
	}
	if len(r.Photos) > MaxPhotos {
		es.Add("photos", "too_many_photos", strconv.Itoa(MaxPhotos))
	}
	photos, pes := checkPhotos(r.Photos)
	es = append(es, pes...)
	if len(es) > 0 {
		return Incident{}, es
	}
	deltas := []facts.Delta{
		{Division: in.Division, Period: period(today), Metric: MetricReported, N: 1},
		{Division: in.Division, Period: period(today), Metric: metricReportedBy + in.Source, N: 1},
		{Division: in.Division, Period: period(today), Metric: MetricReported + ".group." + in.Group, N: 1},
	}
	// Photos are sealed before the transaction: a failure leaves at most an
	// orphan file, never a row without its file. They are filed under a
	// random id, since the incident's own is not known yet.
	files, err := s.sealPhotos(photos)
	if err != nil {
		return Incident{}, err
	}
	err = s.DB.Tx(ctx, func(ctx context.Context) error {
		in.Number = "tmp-" + randomID()
		if err := s.st.insert(ctx, &in, phoneEnc); err != nil {
			return err
		}
		st, err := s.step(ctx, p, in, ActReport, "", in.Description)
		if err != nil {
			return err
		}
		if err := s.addPhotos(ctx, in.ID, st.ID, files); err != nil {
			return err
		}
		if err := facts.AddAll(ctx, s.DB, deltas); err != nil {
			return err
		}
		if r.PatrolID != 0 {
			div, day, counted, err := s.st.linkPatrol(ctx, r.PatrolID, in.ID, in.ReporterID, in.HouseholdID)
			if err != nil {
				return err
			}
			if counted { // the visit was logged without a problem
				if err := facts.Add(ctx, s.DB, div, period(day), MetricPatrolProblems, 1); err != nil {
					return err
				}
			}
		}
		n, err := s.st.nextNumber(ctx, "incident", in.Village(), today)
		if err != nil {
			return err
		}
		in.Number = incidentNumber(in.Village(), today, n)
		if err := s.st.setNumber(ctx, in.ID, in.Number); err != nil {
			return err
		}
		return s.Audit.Write(ctx, audit.Entry{Action: audit.Create, Entity: "incident", EntityID: strconv.FormatInt(in.ID, 10),
			Division: in.Division, Changes: []audit.Change{{Field: "number", After: in.Number}, {Field: "category", After: in.Category},
				{Field: "source", After: in.Source}, {Field: "photos", After: len(files)}}})
	})
	if err != nil && key != "" && p != nil {
		// a concurrent retry of the same draft won the race
		if prev, err2 := s.st.byClientKey(ctx, p.UserID, key); err2 == nil {
			return prev, nil
		}
	}
	return in, err
}

func contains(list []string, s string) bool {
	for _, v := range list {
		if v == s {
			return true
		}
	}
	return false
}

func randomID() string {
	var b [12]byte
	_, _ = rand.Read(b[:])
	return hex.EncodeToString(b[:])
}

func actorName(p *access.Principal) string {
	if p.DisplayName != "" {
		return p.DisplayName
	}
	return p.Username
}

// checkPosition refuses a point outside China, one whose nearest household
// (within outsideMeters) lives in another county, and one farther than that
// from every household when the county has geocoded households.
func (s *Service) checkPosition(ctx context.Context, county int64, lat, lon float64) error {
	if math.IsNaN(lat) || math.IsNaN(lon) || !geo.InChina(lat, lon) {
		return &FieldError{Field: "position", Code: "position_invalid"}
	}
	v, err := s.Registry.NearestVillage(ctx, lat, lon, outsideMeters)
	if errors.Is(err, db.ErrNotFound) {
		// nothing geocoded near: outside, unless the county has no points
		// to compare with at all
		lo, hi := ids.Subtree(county)
		known, err := s.Registry.Geocoded(ctx, lo, hi)
		if err != nil || !known {
			return err
		}
		return &FieldError{Field: "position", Code: "position_outside_county"}
	}
	if err != nil {
		return err
	}
	if ids.County(v) != county {
		return &FieldError{Field: "position", Code: "position_outside_county"}
	}
	return nil
}

type photoData struct {
	data  []byte
	ctype string
}

// checkPhotos sniffs each photo; problems are field errors of "photos".
func checkPhotos(photos [][]byte) ([]photoData, Errors) {
	var es Errors
	var out []photoData
	for i, b := range photos {
		data, ctype, err := sealed.Read(strings.NewReader(string(b)), MaxPhoto, sealed.Images)
		switch {
		case errors.Is(err, sealed.ErrTooLarge):
			es.Add("photos", "photo_size", strconv.Itoa(i+1), strconv.Itoa(MaxPhoto>>20))
		case err != nil:
			es.Add("photos", "photo_type", strconv.Itoa(i+1))
		default:
			out = append(out, photoData{data, ctype})
		}
	}
	return out, es
}

func (s *Service) sealPhotos(photos []photoData) ([]sealed.File, error) {
	var out []sealed.File
	bucket := s.now().UnixMilli() / 1000 // spreads files over directories
	for _, ph := range photos {
		f, err := s.Files.Seal("incidents", bucket, ph.data, ph.ctype)
		if err != nil {
			return nil, err
		}
		out = append(out, f)
	}
	return out, nil
}

func (s *Service) addPhotos(ctx context.Context, incidentID, stepID int64, files []sealed.File) error {
	by := audit.ActorFrom(ctx).Name
	for _, f := range files {
		ph := Photo{IncidentID: incidentID, StepID: stepID, ContentType: f.ContentType, Size: f.Size, SHA256: f.SHA256,
			Path: f.Rel, UploadedAt: s.now().UnixMilli(), UploadedBy: by}
		if err := s.st.addPhoto(ctx, &ph); err != nil {
			return err
		}
	}
	return nil
}

// step records one step of in (in the context's transaction).
func (s *Service) step(ctx context.Context, p *access.Principal, in Incident, action, from, note string) (Step, error) {
	st := Step{IncidentID: in.ID, At: s.now().UnixMilli(), Action: action, From: from, To: in.State, Holder: in.Holder, Note: note}
	if p != nil {
		st.ActorID, st.Actor = p.UserID, actorName(p)
	} else if in.Source == SourceResident && in.ReporterName != "" {
		st.Actor = in.ReporterName
	} else {
		st.Actor = audit.ActorFrom(ctx).Name
	}
	err := s.st.addStep(ctx, &st)
	return st, err
}

// Action is one step staff or a grid worker take on an incident.
type Action struct {
	Kind string
	Note string
	// Level and Department say where ActDispatch sends it: village,
	// township (Department: the office, optional) or department (its name,
	// required; the category's by default).
	Level      string
	Department string
	// Days overrides the category's time limit at dispatch, or is the
	// extension of ActExtend (working days).
	Days int
	// DuplicateOf is the number of the incident a rejected report duplicates.
	DuplicateOf string
	// Rating (1–5) of ActEvaluate.
	Rating int
	// HandlerID names the handler at dispatch (optional).
	HandlerID   int64
	HandlerName string
	Photos      [][]byte
}

// allowedBy reports whether p may take the action on in: handling steps
// need grid.handle at the holder; the on-the-spot check grid.report (or
// grid.handle) where it happened; extension and closing belong to the
// village that registered it or the units above.
func allowedBy(p *access.Principal, kind string, in Incident) bool {
	switch kind {
	case ActVerify, ActRework, ActEvaluate:
		return p.CanAt("grid.report", in.Division) || p.CanAt("grid.handle", in.Division)
	case ActClose, ActExtend:
		return p.CanAt("grid.handle", in.Village())
	case ActEscalate:
		return p.CanAt("grid.handle", in.Holder) || p.CanAt("grid.handle", parentUnit(in.Holder))
	case ActNote:
		return sees(p, "grid.report", in) || sees(p, "grid.handle", in)
	}
	return p.CanAt("grid.handle", in.Holder)
}

// parentUnit is the unit above a village (its township) or a township (its
// county).
func parentUnit(code int64) int64 {
	switch ids.Level(code) {
	case 6:
		return code / 1000 * 1000
	case 5:
		return code / 1_000_000 * 1_000_000
	case 4:
		return ids.County(code)
	}
	return code
}

// Do takes one action on an incident, checking the lifecycle, the
// principal's permission and the input; the change, its step, its photos,
// its audit entry and its facts commit together.
func (s *Service) Do(ctx context.Context, p *access.Principal, id int64, a Action) (Incident, error) {
	if _, known := transitions[a.Kind]; !known {
		return Incident{}, &TransitionError{Action: a.Kind}
	}
	photos, pes := checkPhotos(a.Photos)
	if len(a.Photos) > MaxPhotos {
		pes.Add("photos", "too_many_photos", strconv.Itoa(MaxPhotos))
	}
	if len(pes) > 0 {
		return Incident{}, pes
	}
	cal, err := s.Days(ctx)
	if err != nil {
		return Incident{}, err
	}
	var files []sealed.File
	var out Incident
	err = s.DB.Tx(ctx, func(ctx context.Context) error {
		in, err := s.st.lockForUpdate(ctx, id)
		if err != nil {
			return err
		}
		if !sees(p, "grid.view", in) {
			s.deny(ctx, in)
			return db.ErrNotFound
		}
		if !allowedBy(p, a.Kind, in) {
			return ErrForbidden
		}
		if !Allowed(a.Kind, in.State) {
			return &TransitionError{Action: a.Kind, State: in.State}
		}
		before := in
		note := strings.TrimSpace(a.Note)
		if utf8.RuneCountInString(note) > maxNote {
			return Errors{{Field: "note", Code: "too_long", Arg: strconv.Itoa(maxNote)}}
		}
		deltas, err := s.apply(ctx, cal, &in, a, note)
		if err != nil {
			return err
		}
		if files == nil && len(photos) > 0 {
			if files, err = s.sealPhotos(photos); err != nil {
				return err
			}
		}
		in.UpdatedAt = s.now().UnixMilli()
		if err := s.st.update(ctx, in); err != nil {
			return err
		}
		st, err := s.step(ctx, p, in, a.Kind, before.State, note)
		if err != nil {
			return err
		}
		if err := s.addPhotos(ctx, in.ID, st.ID, files); err != nil {
			return err
		}
		if err := facts.AddAll(ctx, s.DB, deltas); err != nil {
			return err
		}
		changes := []audit.Change{{Field: "action", After: a.Kind}}
		if before.State != in.State {
			changes = append(changes, audit.Change{Field: "state", Before: before.State, After: in.State})
		}
		if before.Holder != in.Holder || before.Department != in.Department {
			changes = append(changes, audit.Change{Field: "holder", Before: before.Holder, After: in.Holder})
		}
		if before.Deadline != in.Deadline {
			changes = append(changes, audit.Change{Field: "deadline", Before: before.Deadline, After: in.Deadline})
		}
		if len(files) > 0 {
			changes = append(changes, audit.Change{Field: "photos", After: len(files)})
		}
		out = in
		return s.Audit.Write(ctx, audit.Entry{Action: audit.Update, Entity: "incident", EntityID: strconv.FormatInt(in.ID, 10),
			Division: in.Division, Changes: changes})
	})
	return out, err
}

// apply changes in for the action and returns the fact increments.
func (s *Service) apply(ctx context.Context, cal *calendar.Calendar, in *Incident, a Action, note string) ([]facts.Delta, error) {
	today := s.Today()
	per := period(today)
	count := func(metric string) facts.Delta {
		return facts.Delta{Division: in.Division, Period: per, Metric: metric, N: 1}
	}
	needNote := func() error {
		if note == "" {
			return Errors{{Field: "note", Code: "reason_required"}}
		}
		return nil
	}
	switch a.Kind {
	case ActRegister:
		in.State = StateRegistered
		return []facts.Delta{count(MetricRegistered)}, nil

	case ActReject:
		if dup := strings.TrimSpace(a.DuplicateOf); dup != "" {
			orig, err := s.st.byNumber(ctx, dup)
			if err != nil || orig.ID == in.ID || orig.Village() != in.Village() {
				return nil, Errors{{Field: "duplicate_of", Code: "duplicate_unknown"}}
			}
			in.DuplicateOf = orig.ID
			if note == "" {
				note = orig.Number
			}
		} else if err := needNote(); err != nil {
			return nil, err
		}
		in.State, in.Reason = StateRejected, note
		in.ClosedAt, in.ClosedDay = s.now().UnixMilli(), today
		return []facts.Delta{count(MetricRejected)}, nil

	case ActDispatch:
		rules := s.Rules(in.Division)
		cat, _ := rules.Category(in.Category)
		level := a.Level
		if level == "" {
			level = cat.Level
		}
		dept := strings.TrimSpace(a.Department)
		switch level {
		case LevelVillage:
			in.Holder, dept = in.Village(), ""
		case LevelTownship:
			in.Holder = in.Village() / 1_000_000 * 1_000_000
		case LevelDepartment:
			if dept == "" && cat.Level == LevelDepartment {
				dept = cat.Department.Get(policy.DefaultLocale)
			}
			if dept == "" {
				return nil, Errors{{Field: "department", Code: "required"}}
			}
			in.Holder = ids.County(in.Village())
		default:
			return nil, Errors{{Field: "level", Code: "level_unknown"}}
		}
		if utf8.RuneCountInString(dept) > 60 {
			return nil, Errors{{Field: "department", Code: "too_long", Arg: "60"}}
		}
		days := cat.TimeLimit
		if a.Days != 0 {
			if a.Days < 1 || a.Days > 60 {
				return nil, Errors{{Field: "days", Code: "days_range", Arg: "60"}}
			}
			days = a.Days
		}
		if days == 0 {
			days = 5 // the category left the pack since the report
		}
		in.HolderLevel, in.Department, in.TimeLimit = level, dept, days
		in.HandlerID, in.HandlerName = a.HandlerID, strings.TrimSpace(a.HandlerName)
		in.State, in.DispatchedDay = StateDispatched, today
		in.Deadline = cal.AddWorkingDays(today, days)
		return nil, nil

	case ActHandle:
		if err := needNote(); err != nil {
			return nil, err
		}
		in.State, in.HandledDay = StateHandled, today
		in.OnTime = in.Escalations == 0 && today <= in.Deadline
		in.Reason = note
		return nil, nil

	case ActVerify:
		in.State = StateVerified
		return nil, nil

	case ActRework:
		if err := needNote(); err != nil {
			return nil, err
		}
		in.State, in.HandledDay, in.OnTime = StateDispatched, 0, false
		return nil, nil

	case ActClose:
		in.State, in.ClosedAt, in.ClosedDay, in.ClosedLevel = StateClosed, s.now().UnixMilli(), today, in.HolderLevel
		out := []facts.Delta{count(MetricClosed), count(MetricClosed + ".group." + in.Group), count(metricClosedLevel + in.ClosedLevel)}
		if in.ClosedLevel == LevelVillage {
			out = append(out, count(MetricClosedVillage))
		}
		if in.OnTime {
			out = append(out, count(MetricClosedOnTime))
		}
		return out, nil

	case ActEvaluate:
		if in.Rating != 0 {
			return nil, Errors{{Field: "rating", Code: "rated_already"}}
		}
		if a.Rating < RatingMin || a.Rating > RatingMax {
			return nil, Errors{{Field: "rating", Code: "rating_range"}}
		}
		in.Rating, in.RatingComment = a.Rating, note
		return []facts.Delta{count(MetricRated), {Division: in.Division, Period: per, Metric: MetricRatingSum, N: int64(a.Rating)}}, nil

	case ActExtend:
		if err := needNote(); err != nil {
			return nil, err
		}
		if a.Days < 1 || a.Days > maxExtension {
			return nil, Errors{{Field: "days", Code: "days_range", Arg: strconv.Itoa(maxExtension)}}
		}
		in.ExtendedDays += a.Days
		in.Deadline = cal.AddWorkingDays(in.Deadline, a.Days)
		return nil, nil

	case ActSuspend:
		if err := needNote(); err != nil {
			return nil, err
		}
		in.ResumeState, in.State, in.PausedDay = in.State, StateSuspended, today
		return nil, nil

	case ActResume:
		waited := cal.WorkingDaysBetween(in.PausedDay, today)
		in.PausedDays += waited
		if in.ResumeState == StateDispatched && in.Deadline != 0 {
			in.Deadline = cal.AddWorkingDays(in.Deadline, waited)
		}
		in.State, in.ResumeState, in.PausedDay = in.ResumeState, "", 0
		if in.State == "" {
			in.State = StateRegistered
		}
		return nil, nil

	case ActReturn:
		if err := needNote(); err != nil {
			return nil, err
		}
		if in.Holder == in.Village() {
			return nil, Errors{{Field: "note", Code: "return_at_village"}}
		}
		in.State, in.Holder, in.HolderLevel, in.Department = StateRegistered, in.Village(), LevelVillage, ""
		in.HandlerID, in.HandlerName, in.Deadline, in.DispatchedDay = 0, "", 0, 0
		return nil, nil

	case ActEscalate:
		if !in.Overdue(today) {
			return nil, Errors{{Field: "note", Code: "escalate_not_overdue"}}
		}
		up := parentUnit(in.Holder)
		if in.HolderLevel == LevelDepartment || up == in.Holder || ids.Level(up) < 3 {
			return nil, Errors{{Field: "note", Code: "escalate_top"}}
		}
		in.Holder, in.Escalations = up, in.Escalations+1
		in.HolderLevel = map[int]string{4: LevelTownship, 3: LevelDepartment}[ids.Level(up)]
		if in.HolderLevel == LevelDepartment && in.Department == "" {
			in.Department = strings.TrimSpace(a.Department)
		}
		in.HandlerID, in.HandlerName = 0, ""
		in.Deadline = cal.AddWorkingDays(today, max(in.TimeLimit, 1))
		return []facts.Delta{count(MetricEscalated)}, nil

	case ActNote:
		if note == "" && len(a.Photos) == 0 {
			return nil, Errors{{Field: "note", Code: "required"}}
		}
		return nil, nil
	}
	return nil, &TransitionError{Action: a.Kind, State: in.State}
}

// Reencrypt re-seals the photos and the reporters' phones not sealed with
// the current key (shequ keys rotate).
func (s *Service) Reencrypt(ctx context.Context, progress func(int64)) (int64, error) {
	n, err := pii.Reencrypt(ctx, s.DB, s.Keys, "incidents", []string{"reporter_phone"}, progress)
	if err != nil {
		return n, err
	}
	paths, err := s.st.photoPaths(ctx)
	if err != nil {
		return n, err
	}
	m, err := s.Files.Reseal(paths)
	return n + m, err
}
