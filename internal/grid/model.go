// Package grid is grid governance (网格化管理, DG-9, DG-11, DG-16, DG-17,
// XS-12): grids and the households, workers, chiefs and party members in
// them; incidents from report to close in the cycle of the national
// digital city-management standard GB/T 30428 (report, register, dispatch,
// handle, verify, close, evaluate; with extension, suspension, return and
// escalation), on the working-day calendar; patrol visits; follow-ups of
// special groups; the map; and the figures ("small matters stay in the
// village") the dashboards read. Mediation is internal/grid/mediation.
//
// model.go holds the types and the rules (no SQL, no HTTP); store.go the
// SQL; service.go the incident operations; http*.go and templates/ the pages.
package grid

import (
	"github.com/shequ-platform/shequ/internal/platform/field"
)

// Incident states. A pack may rename them (grid.yaml states); the order and
// the rules are the platform's.
const (
	StateReported   = "reported"   // 上报: waiting to be registered
	StateRegistered = "registered" // 立案: waiting to be dispatched
	StateDispatched = "dispatched" // 派遣: with the unit that must handle it; the clock runs
	StateHandled    = "handled"    // 处置: the unit reports it done; waiting for the on-the-spot check
	StateVerified   = "verified"   // 核查: the check passed; waiting to be closed
	StateClosed     = "closed"     // 结案
	StateRejected   = "rejected"   // 不予立案: not an incident, or a duplicate
	StateSuspended  = "suspended"  // 挂起: the clock stands still
)

// States lists the states in lifecycle order.
var States = []string{StateReported, StateRegistered, StateDispatched, StateHandled, StateVerified, StateClosed, StateRejected, StateSuspended}

// Actions; each is one step in an incident's history.
const (
	ActReport   = "report"   // a grid worker, staff or a resident reports it
	ActRegister = "register" // 立案
	ActReject   = "reject"   // 不予立案, with a reason (or the incident it duplicates)
	ActDispatch = "dispatch" // 派遣 to the village, a township office or a department, with the time limit
	ActHandle   = "handle"   // 处置反馈: done, with a note and photos
	ActVerify   = "verify"   // 核查通过: the reporter confirms on the spot
	ActRework   = "rework"   // 核查不通过: back to the handling unit
	ActClose    = "close"    // 结案
	ActEvaluate = "evaluate" // 评价: satisfaction, 1–5
	ActExtend   = "extend"   // 延期: more working days, with a reason
	ActSuspend  = "suspend"  // 挂起: the clock stops, with a reason
	ActResume   = "resume"   // 恢复
	ActReturn   = "return"   // 回退: the unit sends a dispatch back as not its job
	ActEscalate = "escalate" // 升级: an overdue incident goes to the unit above
	ActNote     = "note"     // a note or photo, no change of state
)

// Sources of a report.
const (
	SourceWorker   = "worker"   // a grid worker's phone
	SourceStaff    = "staff"    // staff at a desk (a call, a walk-in)
	SourceResident = "resident" // a resident through Open311
	SourcePatrol   = "patrol"   // a problem found on a patrol visit
)

// Sources lists the sources.
var Sources = []string{SourceWorker, SourceStaff, SourceResident, SourcePatrol}

// Levels an incident is dispatched to (policy.Level*).
const (
	LevelVillage    = "village"
	LevelTownship   = "township"
	LevelDepartment = "department"
)

// transitions lists, per action, the states it may start from.
var transitions = map[string][]string{
	ActRegister: {StateReported},
	ActReject:   {StateReported},
	ActDispatch: {StateRegistered},
	ActHandle:   {StateDispatched},
	ActVerify:   {StateHandled},
	ActRework:   {StateHandled},
	ActClose:    {StateVerified},
	ActEvaluate: {StateClosed},
	ActExtend:   {StateDispatched},
	ActSuspend:  {StateRegistered, StateDispatched},
	ActResume:   {StateSuspended},
	ActReturn:   {StateDispatched},
	ActEscalate: {StateDispatched},
	ActNote:     States,
}

// Actions lists the actions staff take on an incident, in the order the
// incident page offers them.
var Actions = []string{ActRegister, ActReject, ActDispatch, ActHandle, ActVerify, ActRework, ActClose, ActEvaluate,
	ActExtend, ActSuspend, ActResume, ActReturn, ActEscalate, ActNote}

// Allowed reports whether action may be taken in state.
func Allowed(action, state string) bool {
	for _, s := range transitions[action] {
		if s == state {
			return true
		}
	}
	return false
}

// Open reports whether an incident in state is still running.
func Open(state string) bool { return state != StateClosed && state != StateRejected }

// Incident is one reported problem (事件 or 部件问题).
type Incident struct {
	ID            int64
	Number        string
	County        int64
	Division      int64 // where it happened: grid, else village
	Holder        int64 // the unit holding it now
	HolderLevel   string
	Department    string // the office or department it is dispatched to
	HandlerID     int64
	HandlerName   string
	Category      string
	CategoryName  string
	Group         string
	Kind          string // component or event
	TimeLimit     int
	State         string
	ResumeState   string
	Source        string
	ReporterID    int64
	ReporterName  string
	PhoneMasked   string
	ClientID      int64
	Token         string
	ClientKey     string
	Description   string
	Address       string
	Lat, Lon      *float64
	HouseholdID   int64
	ResidentID    int64
	DuplicateOf   int64
	ReportedAt    int64 // unix ms
	ReportedDay   int   // YYYYMMDD
	DispatchedDay int
	Deadline      int // last working day; 0 while the clock does not run
	PausedDay     int
	PausedDays    int
	ExtendedDays  int
	Escalations   int
	HandledDay    int
	OnTime        bool
	ClosedAt      int64
	ClosedDay     int
	ClosedLevel   string
	Reason        string
	Rating        int
	RatingComment string
	UpdatedAt     int64
}

// Open reports whether the incident is still running.
func (in Incident) Open() bool { return Open(in.State) }

// Overdue reports whether the dispatched incident has passed its deadline on
// day without being handled (a suspended incident's clock stands still).
func (in Incident) Overdue(day int) bool {
	return in.State == StateDispatched && in.Deadline != 0 && day > in.Deadline
}

// Village is the village the incident happened in.
func (in Incident) Village() int64 {
	if in.Division%1000 != 0 {
		return in.Division / 1000 * 1000
	}
	return in.Division
}

// Step is one entry of an incident's history.
type Step struct {
	ID         int64
	IncidentID int64
	At         int64
	Action     string
	From       string
	To         string
	Holder     int64
	ActorID    int64
	Actor      string
	Note       string
	Photos     []Photo
}

// Photo is a photo of a report or of the work done.
type Photo struct {
	ID          int64
	IncidentID  int64
	StepID      int64
	ContentType string
	Size        int64
	SHA256      string
	Path        string
	UploadedAt  int64
	UploadedBy  string
}

// Ratings: 5 非常满意 … 1 非常不满意.
const (
	RatingMin = 1
	RatingMax = 5
)

// Errors and FieldError are the shared input errors; codes are translated
// as grid.error.<code>.
type (
	Errors     = field.Errors
	FieldError = field.Error
)

// TransitionError is an action not allowed in the incident's state.
type TransitionError struct {
	Action, State string
}

func (e *TransitionError) Error() string {
	return "grid: " + e.Action + " is not allowed in state " + e.State
}
