// Package window is the one-stop service window (一站式便民服务窗口): the
// catalogue of service items from the policy pack (editable per subtree),
// intake of cases at the window, by phone and online (Open311), handling with
// transfers up the hierarchy and back down, agency (代办), time limits in
// working days with the clock stopped while materials are awaited (补正),
// receipts with a QR code, the residents' public status page and their
// satisfaction rating, and the figures (facts) the dashboards read.
//
// model.go holds the types and the rules (no SQL, no HTTP); store.go the
// SQL; service.go the operations; http*.go and templates/ the pages.
package window

import (
	"github.com/shequ-platform/shequ/internal/platform/field"
	"github.com/shequ-platform/shequ/internal/platform/policy"
)

// Case states (受理 / 办理 / 补正 / 办结 / 不予受理).
const (
	StateSubmitted  = "submitted"  // arrived online or by phone, not yet accepted
	StateAccepted   = "accepted"   // accepted; waiting for a handler at the holder
	StateHandling   = "handling"   // assigned to a handler
	StateSupplement = "supplement" // waiting for missing materials; the clock stands still
	StateCompleted  = "completed"  // 办结 (approved or denied)
	StateRejected   = "rejected"   // 不予受理
)

// States lists the states in lifecycle order.
var States = []string{StateSubmitted, StateAccepted, StateHandling, StateSupplement, StateCompleted, StateRejected}

// Actions on a case; each is one step in its history.
const (
	ActSubmit     = "submit"     // arrived by phone or online
	ActAccept     = "accept"     // 受理
	ActReject     = "reject"     // 不予受理, with a reason
	ActSupplement = "supplement" // 补正: ask for missing materials
	ActResume     = "resume"     // the missing materials arrived
	ActAssign     = "assign"     // to a handler
	ActTransfer   = "transfer"   // 转办: up to the township, county or a department
	ActReturn     = "return"     // 退回: back down to the unit below
	ActComplete   = "complete"   // 办结
	ActNote       = "note"       // a note or attachment, no change of state
	ActRate       = "rate"       // the applicant's satisfaction rating
)

// Channels by which a case arrives.
const (
	ChannelWindow = "window"
	ChannelPhone  = "phone"
	ChannelOnline = "online"
)

// Channels lists the channels.
var Channels = []string{ChannelWindow, ChannelPhone, ChannelOnline}

// Outcomes of a closed case.
const (
	OutcomeApproved = "approved"
	OutcomeDenied   = "denied"
	OutcomeRejected = "rejected"
)

// transitions lists, per action, the states it may start from.
var transitions = map[string][]string{
	ActAccept:     {StateSubmitted},
	ActReject:     {StateSubmitted},
	ActSupplement: {StateSubmitted, StateAccepted, StateHandling},
	ActResume:     {StateSupplement},
	ActAssign:     {StateAccepted, StateHandling},
	ActTransfer:   {StateAccepted, StateHandling},
	ActReturn:     {StateAccepted, StateHandling},
	ActComplete:   {StateAccepted, StateHandling},
	ActNote:       {StateSubmitted, StateAccepted, StateHandling, StateSupplement, StateCompleted, StateRejected},
	ActRate:       {StateCompleted},
}

// Allowed reports whether action may be taken in state.
func Allowed(action, state string) bool {
	for _, s := range transitions[action] {
		if s == state {
			return true
		}
	}
	return false
}

// Open reports whether a case in state is still running.
func Open(state string) bool { return state != StateCompleted && state != StateRejected }

// Ratings: five levels, 5 非常满意 … 1 非常不满意.
const (
	RatingMin = 1
	RatingMax = 5
)

// Item is a service item as a unit sees it: the pack's definition or an
// admin's override, with where that definition comes from.
type Item struct {
	policy.WindowItem
	// Pack is the pack the catalogue comes from.
	Pack string
	// Division is the unit whose override defines the item (0: the pack's).
	Division int64
	Disabled bool
}

// Label returns the item's name in locale.
func (it Item) Label(locale string) string { return it.Name.Get(locale) }

// Case is one application for a service item (办件).
type Case struct {
	ID          int64
	Number      string
	County      int64
	Division    int64 // the unit whose window accepted it
	Holder      int64 // the unit handling it now
	HolderLevel string
	Department  string
	HandlerID   int64
	HandlerName string
	ItemCode    string
	ItemName    string
	Category    string
	ItemLevel   string
	TimeLimit   int
	Channel     string
	Agency      bool
	State       string
	ResumeState string
	ResidentID  int64
	Applicant   string
	PhoneMasked string
	IDMasked    string
	Fields      map[string]string
	Materials   []string
	Description string
	Address     string
	Lat, Lon    *float64
	ClientID    int64
	Token       string
	SubmittedAt int64 // unix ms
	AcceptedDay int   // YYYYMMDD
	Deadline    int   // YYYYMMDD, last working day; 0 while the clock does not run
	PausedDay   int
	PausedDays  int
	ClosedAt    int64
	ClosedDay   int
	OnTime      bool
	Outcome     string
	Reason      string
	Rating      int
	RatingNote  string
	RatedAt     int64
	UpdatedAt   int64
}

// Open reports whether the case is still running.
func (c Case) Open() bool { return Open(c.State) }

// Overdue reports whether the running case has passed its deadline on day
// (a case waiting for materials is not overdue: its clock stands still).
func (c Case) Overdue(day int) bool {
	return c.Open() && c.State != StateSupplement && c.Deadline != 0 && day > c.Deadline
}

// Step is one entry of a case's history.
type Step struct {
	ID      int64
	CaseID  int64
	At      int64
	Action  string
	From    string
	To      string
	Holder  int64
	ActorID int64
	Actor   string
	Note    string
}

// Attachment is a scan or photo attached to a case.
type Attachment struct {
	ID          int64
	CaseID      int64
	StepID      int64
	Name        string
	ContentType string
	Size        int64
	SHA256      string
	Path        string
	UploadedAt  int64
	UploadedBy  string
}

// FieldError and Errors are the shared input errors (internal/platform/
// field); codes are translated by the UI as window.error.<code>.
type (
	FieldError = field.Error
	Errors     = field.Errors
)

// TransitionError is an action not allowed in the case's state.
type TransitionError struct {
	Action, State string
}

func (e *TransitionError) Error() string {
	return "window: " + e.Action + " is not allowed in state " + e.State
}
