package governance

// Body is one body of a village for one term.
type Body struct {
	ID       int64
	County   int64
	Division int64
	Kind     string
}
