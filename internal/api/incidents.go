package api

import (
	"context"
	"errors"
	"net/http"
	"strings"

	"github.com/danielgtaylor/huma/v2"

	"github.com/shequ-platform/shequ/internal/division"
	"github.com/shequ-platform/shequ/internal/grid"
	"github.com/shequ-platform/shequ/internal/platform/access"
	"github.com/shequ-platform/shequ/internal/platform/db"
	"github.com/shequ-platform/shequ/internal/platform/geo"
	"github.com/shequ-platform/shequ/internal/platform/web"
)

// maxIncidentBody bounds the JSON bodies of the incident operations, which
// may carry photos (base64).
const maxIncidentBody = 24 << 20

// IncidentUploads lift the server's --max-body for the incident operations
// to maxIncidentBody (the app passes them to web.MaxBody).
var IncidentUploads = []web.Upload{
	{Method: http.MethodPost, Path: Prefix + "/incidents", Limit: maxIncidentBody},
	{Method: http.MethodPost, Path: Prefix + "/incidents/*/actions", Limit: maxIncidentBody},
}

// Incident is a grid incident (网格事件), from report to close in the cycle
// of GB/T 30428. Personal data is masked.
type Incident struct {
	Number        string         `json:"number" doc:"Incident number: SJ, the village's 12-digit code, the day of the report and the day's sequence" example:"SJ320205001001-20260930-0007"`
	Division      string         `json:"division" doc:"15-digit code of where it happened: its grid, else its village (the figures count there)" example:"320205001001001"`
	Holder        string         `json:"holder" doc:"15-digit code of the unit holding it now (for a county department: the county)" example:"320205001001000"`
	HolderLevel   string         `json:"holder_level" enum:"village,township,department"`
	Department    string         `json:"department,omitempty" doc:"The township office or county department it is dispatched to"`
	HandlerName   string         `json:"handler_name,omitempty"`
	Category      string         `json:"category" doc:"Category code of the pack's grid.yaml" example:"XS-SJ-GY01"`
	CategoryName  string         `json:"category_name" example:"排水设施堵塞"`
	Group         string         `json:"group" example:"public_facilities"`
	Kind          string         `json:"kind,omitempty" enum:"component,event" doc:"GB/T 30428: a component (部件) or an event (事件)"`
	TimeLimit     int            `json:"time_limit,omitempty" doc:"Working days from dispatch to handling"`
	State         string         `json:"state" enum:"reported,registered,dispatched,handled,verified,closed,rejected,suspended"`
	Source        string         `json:"source" enum:"worker,staff,resident,patrol"`
	ReporterName  string         `json:"reporter_name,omitempty"`
	PhoneMasked   string         `json:"phone_masked,omitempty" doc:"A resident reporter's phone, masked" example:"139****5678"`
	Description   string         `json:"description,omitempty"`
	Address       string         `json:"address,omitempty"`
	Lat           *float64       `json:"lat,omitempty" doc:"WGS-84"`
	Lon           *float64       `json:"lon,omitempty" doc:"WGS-84"`
	HouseholdID   int64          `json:"household_id,omitempty"`
	ResidentID    int64          `json:"resident_id,omitempty"`
	DuplicateOf   string         `json:"duplicate_of,omitempty" doc:"The number of the incident a rejected report duplicates (when the caller sees it)"`
	ReportedAt    string         `json:"reported_at" format:"date-time" doc:"RFC 3339, China time (+08:00)"`
	DispatchedDay string         `json:"dispatched_day,omitempty" format:"date"`
	Deadline      string         `json:"deadline,omitempty" format:"date" doc:"Last working day of the time limit; absent while the clock does not run"`
	Overdue       bool           `json:"overdue" doc:"Dispatched and past the deadline (a suspended incident's clock stands still)"`
	PausedDays    int            `json:"paused_days,omitempty" doc:"Working days the clock stood still while suspended"`
	ExtendedDays  int            `json:"extended_days,omitempty"`
	Escalations   int            `json:"escalations,omitempty"`
	HandledDay    string         `json:"handled_day,omitempty" format:"date"`
	OnTime        *bool          `json:"on_time,omitempty" doc:"Closed incidents: handled within the time limit, without escalation"`
	ClosedAt      string         `json:"closed_at,omitempty" format:"date-time" doc:"When it was closed or rejected"`
	ClosedLevel   string         `json:"closed_level,omitempty" enum:"village,township,department" doc:"Who held it when it was closed: village means settled in the village (小事不出村)"`
	Reason        string         `json:"reason,omitempty" doc:"The reason of a rejection, or the note of the handling"`
	Rating        int            `json:"rating,omitempty" minimum:"0" maximum:"5" doc:"Satisfaction, 5 (very satisfied) to 1"`
	RatingComment string         `json:"rating_comment,omitempty"`
	UpdatedAt     string         `json:"updated_at" format:"date-time"`
	Steps         []IncidentStep `json:"steps,omitempty" doc:"The history (GET of one incident only)"`
}

// IncidentStep is one step of an incident's history.
type IncidentStep struct {
	At     string `json:"at" format:"date-time"`
	Action string `json:"action" example:"dispatch"`
	From   string `json:"from,omitempty"`
	To     string `json:"to"`
	Holder string `json:"holder" doc:"The unit holding the incident after the step"`
	Actor  string `json:"actor"`
	Note   string `json:"note,omitempty"`
	Photos int    `json:"photos,omitempty" doc:"How many photos the step added"`
}

func (s *server) toIncident(ctx context.Context, in grid.Incident) Incident {
	today := s.Grid.Today()
	out := Incident{Number: in.Number, Division: codeString(in.Division), Holder: codeString(in.Holder), HolderLevel: in.HolderLevel,
		Department: in.Department, HandlerName: in.HandlerName, Category: in.Category, CategoryName: in.CategoryName, Group: in.Group,
		Kind: in.Kind, TimeLimit: in.TimeLimit, State: in.State, Source: in.Source, ReporterName: in.ReporterName,
		PhoneMasked: in.PhoneMasked, Description: in.Description, Address: in.Address, Lat: in.Lat, Lon: in.Lon,
		HouseholdID: in.HouseholdID, ResidentID: in.ResidentID, ReportedAt: timeString(in.ReportedAt),
		DispatchedDay: dayString(in.DispatchedDay), Deadline: dayString(in.Deadline), Overdue: in.Overdue(today),
		PausedDays: in.PausedDays, ExtendedDays: in.ExtendedDays, Escalations: in.Escalations, HandledDay: dayString(in.HandledDay),
		ClosedLevel: in.ClosedLevel, Reason: in.Reason, Rating: in.Rating, RatingComment: in.RatingComment, UpdatedAt: timeString(in.UpdatedAt)}
	if in.ClosedAt != 0 {
		out.ClosedAt = timeString(in.ClosedAt)
	}
	if in.State == grid.StateClosed {
		onTime := in.OnTime
		out.OnTime = &onTime
	}
	if in.DuplicateOf != 0 {
		if orig, err := s.Grid.Get(ctx, access.From(ctx), in.DuplicateOf); err == nil {
			out.DuplicateOf = orig.Number
		}
	}
	return out
}

// incidentField names the request property behind a grid field error.
func incidentField(field string) string {
	switch field {
	case "household":
		return "household_id"
	case "resident":
		return "resident_id"
	case "patrol":
		return "patrol_id"
	case "position":
		return "lat"
	}
	return field
}

// incidentError translates the grid's errors: invalid input is 422 with the
// first field and code (the message lists every problem), an action the
// state does not allow 409, an incident seen but not to be changed 403.
func incidentError(err error) error {
	var es grid.Errors
	var te *grid.TransitionError
	switch {
	case err == nil:
		return nil
	case errors.As(err, &es) && len(es) > 0:
		parts := make([]string, len(es))
		for i, e := range es {
			parts[i] = incidentField(e.Field) + ": " + e.Code
			if e.Arg != "" {
				parts[i] += " (" + e.Arg + ")"
			}
		}
		return invalid(incidentField(es[0].Field), es[0].Code, strings.Join(parts, "; "))
	case errors.As(err, &te):
		return &Error{Status: http.StatusConflict, Code: CodeTransition, Message: te.Action + " is not allowed in state " + te.State}
	case errors.Is(err, grid.ErrForbidden):
		return forbidden("not permitted to do this here")
	case errors.Is(err, db.ErrNotFound):
		return notFound()
	}
	return err
}

// NewIncident is an incident reported by a grid worker or staff.
type NewIncident struct {
	Division    string   `json:"division" pattern:"^([0-9]{12}|[0-9]{15})$" doc:"Where it happened: a grid (15 digits) or a village; the caller needs grid.report there" example:"320205001001001"`
	Category    string   `json:"category" maxLength:"32" doc:"Category code of the pack's grid.yaml" example:"XS-SJ-GY01"`
	Description string   `json:"description,omitempty" maxLength:"8000" doc:"What is wrong (at most 2000 characters)"`
	Address     string   `json:"address,omitempty" maxLength:"1000" doc:"At most 200 characters"`
	Lat         *float64 `json:"lat,omitempty" minimum:"-90" maximum:"90"`
	Lon         *float64 `json:"lon,omitempty" minimum:"-180" maximum:"180"`
	Coords      string   `json:"coords,omitempty" enum:"wgs84,cgcs2000,gcj02,bd09" default:"wgs84" doc:"The system lat and lon are given in (a phone's map often gives gcj02); stored as WGS-84"`
	HouseholdID int64    `json:"household_id,omitempty" minimum:"0" doc:"The household concerned, in the same village"`
	ResidentID  int64    `json:"resident_id,omitempty" minimum:"0" doc:"The resident concerned, in the same village"`
	Source      string   `json:"source,omitempty" enum:"worker,staff,patrol" default:"worker" doc:"worker (a grid worker's report), staff (a call or a walk-in taken by staff), patrol (found on the patrol visit patrol_id)"`
	PatrolID    int64    `json:"patrol_id,omitempty" minimum:"0" doc:"The caller's patrol visit that found the problem"`
	ClientKey   string   `json:"client_key,omitempty" maxLength:"64" doc:"Idempotency key: a report sent again with the same key (a retry after a lost answer) returns the incident stored the first time"`
	Photos      [][]byte `json:"photos,omitempty" maxItems:"6" doc:"Photos (JPEG, PNG or WebP, base64), at most 6 of 8 MB each; the whole body at most 24 MB"`
}

type createIncidentIn struct{ Body NewIncident }

type createdIncidentOut struct {
	Location string `header:"Location"`
	Body     Incident
}

type incidentOut struct{ Body Incident }

type incidentPath struct {
	Number string `path:"number" pattern:"^SJ[0-9]{12}-[0-9]{8}-[0-9]{4,}$" doc:"Incident number" example:"SJ320205001001-20260930-0007"`
}

type incidentsIn struct {
	View     string `query:"view" enum:"open,held,reported,verify,overdue,due_soon,mine,closed,all" default:"open" doc:"open: running incidents; held: held by the unit itself; reported: waiting to be registered; verify: handled, waiting for the on-the-spot check; overdue and due_soon (within two days): dispatched incidents by deadline; mine: reported by the caller; closed: closed or rejected; all"`
	Unit     string `query:"unit" pattern:"^(0|[0-9]{6}|[0-9]{9}|[0-9]{12}|[0-9]{15})$" doc:"Only incidents that happened in this subtree (inside the caller's grid.view scope; default its first)"`
	Category string `query:"category" maxLength:"32"`
	Group    string `query:"group" maxLength:"64"`
	State    string `query:"state" enum:"reported,registered,dispatched,handled,verified,closed,rejected,suspended"`
	Number   string `query:"number" maxLength:"40" doc:"A whole incident number or its last digits"`
	Limit    int    `query:"limit" default:"50" minimum:"1" maximum:"200"`
	Offset   int    `query:"offset" minimum:"0" maximum:"1000000"`
}

// IncidentList is one page of incidents.
type IncidentList struct {
	Items []Incident `json:"items" nullable:"false"`
	More  bool       `json:"more" doc:"More incidents follow: ask again with offset + limit"`
}

type incidentsOut struct{ Body IncidentList }

// IncidentAction is one step taken on an incident.
type IncidentAction struct {
	Kind        string   `json:"kind" enum:"register,reject,dispatch,handle,verify,rework,close,evaluate,extend,suspend,resume,return,escalate,note" doc:"register (立案), reject (不予立案: note or duplicate_of), dispatch (派遣: level, department, days), handle (处置: note required), verify (核查通过), rework (核查不通过: note required), close (结案), evaluate (评价: rating), extend (延期: days, note), suspend (挂起: note), resume, return (回退 to the village: note), escalate (升级 when overdue), note"`
	Note        string   `json:"note,omitempty" maxLength:"8000" doc:"At most 2000 characters"`
	Level       string   `json:"level,omitempty" enum:"village,township,department" doc:"dispatch: where (default: the category's level)"`
	Department  string   `json:"department,omitempty" maxLength:"200" doc:"dispatch to a township: its office (optional); to a department: its name (default: the category's); escalate to the county: the department"`
	Days        int      `json:"days,omitempty" minimum:"0" maximum:"60" doc:"dispatch: the time limit in working days (default: the category's); extend: the working days added (1–30)"`
	DuplicateOf string   `json:"duplicate_of,omitempty" maxLength:"40" doc:"reject: the number of the incident this one duplicates (same village)"`
	Rating      int      `json:"rating,omitempty" minimum:"0" maximum:"5" doc:"evaluate: 5 (very satisfied) to 1"`
	HandlerName string   `json:"handler_name,omitempty" maxLength:"200" doc:"dispatch: who handles it (optional)"`
	Photos      [][]byte `json:"photos,omitempty" maxItems:"6" doc:"Photos of the work or the check (JPEG, PNG or WebP, base64), at most 6 of 8 MB each"`
}

type incidentActionIn struct {
	Number string `path:"number" pattern:"^SJ[0-9]{12}-[0-9]{8}-[0-9]{4,}$" doc:"Incident number" example:"SJ320205001001-20260930-0007"`
	Body   IncidentAction
}

func (s *server) registerIncidents(a huma.API) {
	tags := []string{"incidents"}
	create := op("create-incident", http.MethodPost, "/incidents", "Report a grid incident", tags,
		http.StatusBadRequest, http.StatusForbidden, http.StatusRequestEntityTooLarge, http.StatusUnprocessableEntity)
	create.DefaultStatus = http.StatusCreated
	create.MaxBodyBytes = maxIncidentBody
	create.Description = "The caller needs grid.report where it happened. Every problem of the input is checked at once; the first " +
		"is the error's field and code (e.g. category category_unknown, photos photo_type, lat position_outside_county) and the " +
		"message lists them all. Nothing is stored then. A report retried with the same client_key returns the first one (201 again)."
	huma.Register(a, create, s.createIncident)
	huma.Register(a, op("get-incident", http.MethodGet, "/incidents/{number}", "An incident the caller sees (grid.view where it happened or where it is held), with its history", tags,
		http.StatusNotFound, http.StatusUnprocessableEntity), s.getIncident)
	huma.Register(a, op("list-incidents", http.MethodGet, "/incidents", "Incidents in the caller's grid.view scope", tags,
		http.StatusNotFound, http.StatusUnprocessableEntity), s.listIncidents)
	act := op("act-on-incident", http.MethodPost, "/incidents/{number}/actions", "Take one step on an incident", tags,
		http.StatusBadRequest, http.StatusForbidden, http.StatusNotFound, http.StatusConflict, http.StatusRequestEntityTooLarge,
		http.StatusUnprocessableEntity)
	act.MaxBodyBytes = maxIncidentBody
	act.Description = "Registering, rejecting, dispatching, handling, suspending, resuming and returning need grid.handle at the " +
		"incident's holder; verify, rework and evaluate grid.report (or grid.handle) where it happened; close and extend grid.handle " +
		"at its village or above; escalate grid.handle at the holder or the unit above it. An action the incident's state does not " +
		"allow is 409 transition_not_allowed. Returns the incident as it is now."
	huma.Register(a, act, s.actOnIncident)
}

func (s *server) createIncident(ctx context.Context, in *createIncidentIn) (*createdIncidentOut, error) {
	if s.Grid == nil {
		return nil, notFound()
	}
	b := in.Body
	div, err := parseCode(b.Division)
	if err != nil {
		return nil, invalid("division", CodeInvalid, err.Error())
	}
	if (b.Lat == nil) != (b.Lon == nil) {
		return nil, invalid("lat", "position_invalid", "give both lat and lon, or neither")
	}
	lat, lon := b.Lat, b.Lon
	if lat != nil {
		sys, err := geo.ParseSystem(b.Coords)
		if err != nil {
			return nil, invalid("coords", CodeInvalid, err.Error())
		}
		pt, err := geo.ToWGS84(sys, *lat, *lon)
		if err != nil {
			return nil, invalid("lat", "position_invalid", err.Error())
		}
		lat, lon = &pt.Lat, &pt.Lon
	}
	source := b.Source
	if source == "" {
		source = grid.SourceWorker
	}
	if b.PatrolID != 0 {
		source = grid.SourcePatrol
	}
	got, err := s.Grid.ReportIncident(ctx, access.From(ctx), grid.Report{Division: div, Category: b.Category, Description: b.Description,
		Address: b.Address, Lat: lat, Lon: lon, HouseholdID: b.HouseholdID, ResidentID: b.ResidentID, Source: source,
		Photos: b.Photos, ClientKey: b.ClientKey, PatrolID: b.PatrolID})
	if err != nil {
		return nil, incidentError(err)
	}
	return &createdIncidentOut{Location: Prefix + "/incidents/" + got.Number, Body: s.toIncident(ctx, got)}, nil
}

func (s *server) getIncident(ctx context.Context, in *incidentPath) (*incidentOut, error) {
	if s.Grid == nil {
		return nil, notFound()
	}
	got, err := s.Grid.ByNumber(ctx, access.From(ctx), in.Number)
	if err != nil {
		return nil, incidentError(err)
	}
	steps, err := s.Grid.Steps(ctx, got)
	if err != nil {
		return nil, err
	}
	out := s.toIncident(ctx, got)
	out.Steps = make([]IncidentStep, len(steps))
	for i, st := range steps {
		out.Steps[i] = IncidentStep{At: timeString(st.At), Action: st.Action, From: st.From, To: st.To, Holder: codeString(st.Holder),
			Actor: st.Actor, Note: st.Note, Photos: len(st.Photos)}
	}
	return &incidentOut{Body: out}, nil
}

func (s *server) listIncidents(ctx context.Context, in *incidentsIn) (*incidentsOut, error) {
	if s.Grid == nil {
		return nil, notFound()
	}
	f := grid.Filter{View: in.View, Category: in.Category, Group: in.Group, State: in.State, Number: in.Number,
		Limit: in.Limit, Offset: in.Offset}
	if in.Unit != "" {
		code, err := parseCode(in.Unit)
		if err != nil {
			return nil, invalid("unit", CodeInvalid, err.Error())
		}
		// "0" is the whole country, which the service's Filter would read
		// as "the caller's first subtree"
		if code == division.Root && !access.From(ctx).CanAt("grid.view", division.Root) {
			return nil, notFound()
		}
		f.Unit = code
	}
	list, more, err := s.Grid.List(ctx, access.From(ctx), f)
	if err != nil {
		return nil, incidentError(err)
	}
	out := &incidentsOut{Body: IncidentList{Items: make([]Incident, 0, len(list)), More: more}}
	for _, it := range list {
		out.Body.Items = append(out.Body.Items, s.toIncident(ctx, it))
	}
	return out, nil
}

func (s *server) actOnIncident(ctx context.Context, in *incidentActionIn) (*incidentOut, error) {
	if s.Grid == nil {
		return nil, notFound()
	}
	p := access.From(ctx)
	got, err := s.Grid.ByNumber(ctx, p, in.Number)
	if err != nil {
		return nil, incidentError(err)
	}
	b := in.Body
	got, err = s.Grid.Do(ctx, p, got.ID, grid.Action{Kind: b.Kind, Note: b.Note, Level: b.Level, Department: b.Department,
		Days: b.Days, DuplicateOf: b.DuplicateOf, Rating: b.Rating, HandlerName: b.HandlerName, Photos: b.Photos})
	if err != nil {
		return nil, incidentError(err)
	}
	return &incidentOut{Body: s.toIncident(ctx, got)}, nil
}
