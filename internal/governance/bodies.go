package governance

// Body is one body of a village for one term (gov_bodies). The fields below
// are the contract other parts rely on; bodies.go's owner may add fields.
type Body struct {
	ID           int64
	County       int64
	Division     int64  // the village (or township)
	Kind         string // a body kind of the pack (policy.BodyKind.Key)
	Name         string
	TermStart    int // YYYYMMDD
	TermEnd      int // 0: open-ended
	PartyMembers int // party organisations: members counted for DG-2's form
	Note         string
	CreatedAt    int64
	CreatedBy    string
	UpdatedAt    int64
	Members      []Member // current members, when loaded
}

// Member is a member of a body (gov_members), drawn from the registry.
type Member struct {
	ID         int64
	BodyID     int64
	ResidentID int64
	Name       string
	Gender     string // M or F
	Residency  string // registry.Registered, NonRegistered, Migrant
	Party      bool
	Post       string // a post of the body kind
	SinceDay   int
	UntilDay   int // 0: still a member
}
