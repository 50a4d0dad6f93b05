package governance

// Meeting is a meeting of a body.
type Meeting struct {
	ID       int64
	County   int64
	Division int64
	BodyID   int64
}

// AgendaItem is one item on a meeting's agenda.
type AgendaItem struct {
	ID        int64
	MeetingID int64
	MatterID  int64
	Stage     string
}
