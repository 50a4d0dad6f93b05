package api

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"

	"github.com/danielgtaylor/huma/v2"

	"github.com/shequ-platform/shequ/internal/platform/access"
	"github.com/shequ-platform/shequ/internal/platform/db"
	"github.com/shequ-platform/shequ/internal/window"
)

// Codes of the case operations' errors beside the common ones.
const (
	// CodeTransition (409): the action is not allowed in the case's state.
	CodeTransition = "transition_not_allowed"
)

// Case is a service-window case (办件): one application for a service item.
// Personal data is masked.
type Case struct {
	Number      string            `json:"number" doc:"Case number: the accepting unit's 12-digit code, the day and the day's sequence" example:"320205001001-20260302-0007"`
	Unit        string            `json:"unit" doc:"15-digit code of the unit whose window accepted the case (its figures count there)" example:"320205001001000"`
	Holder      string            `json:"holder" doc:"15-digit code of the unit handling it now (for a county department: the county)" example:"320205001000000"`
	HolderLevel string            `json:"holder_level" enum:"village,township,county,department"`
	Department  string            `json:"department,omitempty" doc:"The county department holding the case, when holder_level is department"`
	HandlerID   int64             `json:"handler_id,omitempty" doc:"The account handling it (state handling)"`
	HandlerName string            `json:"handler_name,omitempty"`
	ItemCode    string            `json:"item_code" example:"XS-BM-01"`
	ItemName    string            `json:"item_name" example:"中介服务登记"`
	Category    string            `json:"category" example:"convenience"`
	TimeLimit   int               `json:"time_limit" doc:"Promised time in working days"`
	Channel     string            `json:"channel" enum:"window,phone,online"`
	Agency      bool              `json:"agency" doc:"代办: staff carry the matter on the applicant's behalf"`
	State       string            `json:"state" enum:"submitted,accepted,handling,supplement,completed,rejected"`
	ResidentID  int64             `json:"resident_id,omitempty" doc:"The applicant in the registry, if linked"`
	Applicant   string            `json:"applicant" example:"王芳"`
	PhoneMasked string            `json:"phone_masked,omitempty" example:"139****5678"`
	IDMasked    string            `json:"id_masked,omitempty" example:"320205********123X"`
	Fields      map[string]string `json:"fields,omitempty" doc:"The item's form values (dates as YYYY-MM-DD)"`
	Materials   []string          `json:"materials" nullable:"false" doc:"Keys of the materials received"`
	Description string            `json:"description,omitempty"`
	Address     string            `json:"address,omitempty"`
	Lat         *float64          `json:"lat,omitempty" doc:"WGS-84"`
	Lon         *float64          `json:"lon,omitempty" doc:"WGS-84"`
	SubmittedAt string            `json:"submitted_at" format:"date-time" doc:"RFC 3339, China time (+08:00)"`
	AcceptedDay string            `json:"accepted_day,omitempty" format:"date" doc:"Day of acceptance (受理)"`
	Deadline    string            `json:"deadline,omitempty" format:"date" doc:"Last working day of the time limit; absent while the clock does not run"`
	Overdue     bool              `json:"overdue" doc:"Running and past the deadline (a case waiting for materials is not overdue)"`
	PausedDays  int               `json:"paused_days,omitempty" doc:"Working days the clock stood still while materials were awaited"`
	ClosedAt    string            `json:"closed_at,omitempty" format:"date-time"`
	Outcome     string            `json:"outcome,omitempty" enum:"approved,denied,rejected"`
	OnTime      *bool             `json:"on_time,omitempty" doc:"Completed within the time limit (closed cases)"`
	Reason      string            `json:"reason,omitempty" doc:"Result note or the reason of a rejection, shown to the applicant"`
	Rating      int               `json:"rating,omitempty" minimum:"0" maximum:"5" doc:"The applicant's satisfaction rating, 5 (very satisfied) to 1"`
	UpdatedAt   string            `json:"updated_at" format:"date-time"`
}

func dayString(d int) string {
	if d == 0 {
		return ""
	}
	return fmt.Sprintf("%04d-%02d-%02d", d/10000, d/100%100, d%100)
}

func toCase(c window.Case, today int) Case {
	out := Case{Number: c.Number, Unit: codeString(c.Division), Holder: codeString(c.Holder), HolderLevel: c.HolderLevel,
		Department: c.Department, HandlerID: c.HandlerID, HandlerName: c.HandlerName, ItemCode: c.ItemCode, ItemName: c.ItemName,
		Category: c.Category, TimeLimit: c.TimeLimit, Channel: c.Channel, Agency: c.Agency, State: c.State, ResidentID: c.ResidentID,
		Applicant: c.Applicant, PhoneMasked: c.PhoneMasked, IDMasked: c.IDMasked, Fields: c.Fields, Materials: c.Materials,
		Description: c.Description, Address: c.Address, Lat: c.Lat, Lon: c.Lon, SubmittedAt: timeString(c.SubmittedAt),
		AcceptedDay: dayString(c.AcceptedDay), Deadline: dayString(c.Deadline), Overdue: c.Overdue(today), PausedDays: c.PausedDays,
		Outcome: c.Outcome, Reason: c.Reason, Rating: c.Rating, UpdatedAt: timeString(c.UpdatedAt)}
	if out.Materials == nil {
		out.Materials = []string{}
	}
	if len(out.Fields) == 0 {
		out.Fields = nil
	}
	if !c.Open() {
		onTime := c.OnTime
		out.OnTime = &onTime
		if c.ClosedAt != 0 {
			out.ClosedAt = timeString(c.ClosedAt)
		}
		if c.State == window.StateRejected {
			out.OnTime = nil
		}
	}
	return out
}

// caseField names the request property behind a window field error.
func caseField(field string) string {
	if k, ok := strings.CutPrefix(field, "field."); ok {
		return "fields." + k
	}
	switch field {
	case "item":
		return "item_code"
	case "resident":
		return "resident_id"
	case "handler":
		return "handler_id"
	}
	return field
}

// caseError translates the window's errors: invalid input is 422 with the
// first field and code (the message lists every problem), a state that does
// not allow the action 409, a case seen but not to be changed 403.
func caseError(err error) error {
	var es window.Errors
	var te *window.TransitionError
	switch {
	case err == nil:
		return nil
	case errors.As(err, &es) && len(es) > 0:
		parts := make([]string, len(es))
		for i, e := range es {
			parts[i] = caseField(e.Field) + ": " + e.Code
			if e.Arg != "" {
				parts[i] += " (" + e.Arg + ")"
			}
		}
		return invalid(caseField(es[0].Field), es[0].Code, strings.Join(parts, "; "))
	case errors.As(err, &te):
		return &Error{Status: http.StatusConflict, Code: CodeTransition, Message: te.Action + " is not allowed in state " + te.State}
	case errors.Is(err, window.ErrForbidden):
		return forbidden("not permitted to do this here")
	case errors.Is(err, db.ErrNotFound):
		return notFound()
	}
	return err
}

// NewCase is a matter taken in at a window (or by phone).
type NewCase struct {
	Unit        string            `json:"unit" pattern:"^([0-9]{9}|[0-9]{12}|[0-9]{15})$" doc:"Code of the township or village whose window takes the matter; the caller needs window.intake there" example:"320205001001"`
	ItemCode    string            `json:"item_code" maxLength:"64" doc:"Service item of the unit's catalogue" example:"XS-BM-01"`
	Channel     string            `json:"channel,omitempty" enum:"window,phone,online" default:"window" doc:"How the matter arrived"`
	ResidentID  int64             `json:"resident_id,omitempty" minimum:"0" doc:"The applicant in the registry (the caller must see the resident); else give name"`
	Name        string            `json:"name,omitempty" maxLength:"200" doc:"A walk-in applicant's name (ignored with resident_id)"`
	Phone       string            `json:"phone,omitempty" maxLength:"64" doc:"Contact phone; required without resident_id (the applicant looks the case up by its last four digits)"`
	IDNumber    string            `json:"id_number,omitempty" maxLength:"64" doc:"A walk-in applicant's citizen ID number (optional; stored encrypted, shown masked)"`
	Fields      map[string]string `json:"fields,omitempty" doc:"The item's form values by field key (dates YYYY-MM-DD; numbers as text; choices by key)"`
	Materials   []string          `json:"materials,omitempty" maxItems:"100" doc:"Keys of the materials received"`
	Agency      bool              `json:"agency,omitempty" doc:"Staff carry the matter on the applicant's behalf (代办), if the item allows it"`
	Decision    string            `json:"decision" enum:"accept,supplement,reject,submit" doc:"accept (受理: every required material received), supplement (补正: ask for what is missing; the clock waits), reject (不予受理: give the reason in note), submit (record only, accept later)"`
	Note        string            `json:"note,omitempty" maxLength:"8000" doc:"What is missing (supplement) or why it is rejected (reject)"`
	Description string            `json:"description,omitempty" maxLength:"16000"`
	Address     string            `json:"address,omitempty" maxLength:"1000"`
}

type createCaseIn struct{ Body NewCase }

type createdCaseOut struct {
	Location string `header:"Location"`
	Body     Case
}

type caseOut struct{ Body Case }

type numberPath struct {
	Number string `path:"number" pattern:"^[0-9]{12}-[0-9]{8}-[0-9]{4,}$" doc:"Case number" example:"320205001001-20260302-0007"`
}

type casesIn struct {
	View   string `query:"view" enum:"open,overdue,due_soon,closed,all" default:"open" doc:"open: running cases, newest first; overdue and due_soon (deadline within 2 working days): running cases by deadline; closed: completed or rejected; all"`
	Unit   string `query:"unit" pattern:"^(0|[0-9]{6}|[0-9]{9}|[0-9]{12}|[0-9]{15})$" doc:"Only cases accepted or held in this subtree (inside the caller's window.view scope)"`
	Limit  int    `query:"limit" default:"50" minimum:"1" maximum:"500"`
	Offset int    `query:"offset" minimum:"0" maximum:"1000000"`
}

// CaseList is one page of cases.
type CaseList struct {
	Items []Case `json:"items" nullable:"false"`
	More  bool   `json:"more" doc:"More cases follow: ask again with offset + limit"`
}

type casesOut struct{ Body CaseList }

// CaseAction is one step taken on a case.
type CaseAction struct {
	Kind         string   `json:"kind" enum:"accept,reject,supplement,resume,assign,transfer,return,complete,note" doc:"accept (受理), reject (不予受理, note required), supplement (补正: ask for materials, note required), resume (the materials arrived), assign (to handler_id, default the caller), transfer (转办: up one level, or to_department), return (退回: one level down, note required), complete (办结 with outcome), note"`
	Note         string   `json:"note,omitempty" maxLength:"8000"`
	HandlerID    int64    `json:"handler_id,omitempty" minimum:"0" doc:"assign: the account that handles the case (it needs window.handle at the holder); 0 is the caller"`
	ToDepartment bool     `json:"to_department,omitempty" doc:"transfer: to a county department instead of the unit above"`
	Department   string   `json:"department,omitempty" maxLength:"200" doc:"transfer to a department: its name (default: the item's department)"`
	Outcome      string   `json:"outcome,omitempty" enum:"approved,denied" doc:"complete: approved, or denied (note required)"`
	Agency       bool     `json:"agency,omitempty" doc:"accept, transfer: staff carry the matter from now on (代办)"`
	Materials    []string `json:"materials,omitempty" maxItems:"100" doc:"accept, resume: the materials received (replaces the list)"`
}

type actionIn struct {
	Number string `path:"number" pattern:"^[0-9]{12}-[0-9]{8}-[0-9]{4,}$" doc:"Case number" example:"320205001001-20260302-0007"`
	Body   CaseAction
}

func (s *server) registerCases(a huma.API) {
	tags := []string{"cases"}
	create := op("create-case", http.MethodPost, "/cases", "Take in a matter at a service window", tags,
		http.StatusBadRequest, http.StatusForbidden, http.StatusRequestEntityTooLarge, http.StatusUnprocessableEntity)
	create.DefaultStatus = http.StatusCreated
	create.MaxBodyBytes = maxBody
	create.Description = "The caller needs window.intake at the unit. Every problem of the input is checked at once; the first " +
		"is the error's field and code (e.g. fields.area number, materials materials_missing, phone required) and the message " +
		"lists them all. Nothing is stored then."
	huma.Register(a, create, s.createCase)
	huma.Register(a, op("get-case", http.MethodGet, "/cases/{number}", "A case the caller sees (window.view where it was accepted or is held)", tags,
		http.StatusNotFound, http.StatusUnprocessableEntity), s.getCase)
	huma.Register(a, op("list-cases", http.MethodGet, "/cases", "Cases in the caller's window.view scope", tags,
		http.StatusUnprocessableEntity), s.listCases)
	act := op("act-on-case", http.MethodPost, "/cases/{number}/actions", "Take one step on a case", tags,
		http.StatusBadRequest, http.StatusForbidden, http.StatusNotFound, http.StatusConflict, http.StatusRequestEntityTooLarge,
		http.StatusUnprocessableEntity)
	act.MaxBodyBytes = maxBody
	act.Description = "assign, transfer, return and complete need window.handle at the case's holder; the others window.intake " +
		"(note: either). An action the case's state does not allow is 409 transition_not_allowed. Returns the case as it is now."
	huma.Register(a, act, s.actOnCase)
}

func (s *server) createCase(ctx context.Context, in *createCaseIn) (*createdCaseOut, error) {
	if s.Window == nil {
		return nil, notFound()
	}
	b := in.Body
	unit, err := parseCode(b.Unit)
	if err != nil {
		return nil, invalid("unit", CodeInvalid, err.Error())
	}
	channel := b.Channel
	if channel == "" {
		channel = window.ChannelWindow
	}
	c, err := s.Window.Intake(ctx, access.From(ctx), window.Intake{Unit: unit, ItemCode: b.ItemCode, Channel: channel,
		ResidentID: b.ResidentID, Name: b.Name, Phone: b.Phone, IDNumber: b.IDNumber, Fields: b.Fields, Materials: b.Materials,
		Agency: b.Agency, Decision: b.Decision, Note: b.Note, Description: b.Description, Address: b.Address})
	if err != nil {
		return nil, caseError(err)
	}
	return &createdCaseOut{Location: Prefix + "/cases/" + c.Number, Body: toCase(c, s.Window.Today())}, nil
}

func (s *server) getCase(ctx context.Context, in *numberPath) (*caseOut, error) {
	if s.Window == nil {
		return nil, notFound()
	}
	c, err := s.Window.ByNumber(ctx, access.From(ctx), in.Number)
	if err != nil {
		return nil, caseError(err)
	}
	return &caseOut{Body: toCase(c, s.Window.Today())}, nil
}

func (s *server) listCases(ctx context.Context, in *casesIn) (*casesOut, error) {
	if s.Window == nil {
		return nil, notFound()
	}
	f := window.Filter{View: in.View, Limit: in.Limit, Offset: in.Offset}
	if in.Unit != "" {
		code, err := parseCode(in.Unit)
		if err != nil {
			return nil, invalid("unit", CodeInvalid, err.Error())
		}
		f.Unit = code
	}
	list, err := s.Window.List(ctx, access.From(ctx), f)
	if err != nil {
		return nil, caseError(err)
	}
	today := s.Window.Today()
	out := &casesOut{Body: CaseList{Items: make([]Case, 0, len(list.Cases)), More: list.More}}
	for _, c := range list.Cases {
		out.Body.Items = append(out.Body.Items, toCase(c, today))
	}
	return out, nil
}

func (s *server) actOnCase(ctx context.Context, in *actionIn) (*caseOut, error) {
	if s.Window == nil {
		return nil, notFound()
	}
	p := access.From(ctx)
	c, err := s.Window.ByNumber(ctx, p, in.Number)
	if err != nil {
		return nil, caseError(err)
	}
	b := in.Body
	c, err = s.Window.Do(ctx, p, c.ID, window.Action{Kind: b.Kind, Note: b.Note, HandlerID: b.HandlerID, Department: b.Department,
		ToDepartment: b.ToDepartment, Outcome: b.Outcome, Agency: b.Agency, Materials: b.Materials})
	if err != nil {
		return nil, caseError(err)
	}
	return &caseOut{Body: toCase(c, s.Window.Today())}, nil
}
