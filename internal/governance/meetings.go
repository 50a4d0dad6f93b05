package governance

// Meeting states.
const (
	MeetingScheduled = "scheduled"
	MeetingHeld      = "held"
	MeetingCancelled = "cancelled"
)

// Meeting is a meeting of a body (gov_meetings). The fields below are the
// contract other parts rely on; meetings.go's owner may add fields.
type Meeting struct {
	ID         int64
	County     int64
	Division   int64
	BodyID     int64
	BodyKind   string // filled from the body when loaded
	BodyName   string // filled from the body when loaded
	Title      string
	Day        int    // YYYYMMDD
	StartTime  string // HH:MM
	MinutesLen int    // planned length in minutes
	Place      string
	State      string // MeetingScheduled, MeetingHeld, MeetingCancelled
	Public     bool
	Members    int // membership on the day (the quorum's base), fixed with the attendance
	Present    int // present in person or by proxy
	Minutes    string
	CreatedAt  int64
	CreatedBy  string
	UpdatedAt  int64
	Agenda     []AgendaItem // when loaded
}

// AgendaItem is one item on a meeting's agenda (gov_agenda).
type AgendaItem struct {
	ID         int64
	MeetingID  int64
	Seq        int
	Title      string
	MatterID   int64  // the matter it decides (0: none)
	Stage      string // the matter's stage it decides
	DocumentID int64  // the document it adopts a version of (0: none)
	Result     string // ResultPending, ResultPassed, ResultFailed, ResultNoQuorum
	For        int
	Against    int
	Abstain    int
	Counted    bool // hands counted rather than a roll call
	Resolution string
	DecidedDay int
}
