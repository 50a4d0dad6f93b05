package governance

import "context"

// matterVoted is called by the meeting code, inside the transaction that
// records a vote on an agenda item linked to a matter (item.MatterID != 0),
// with the computed outcome: it moves the matter on (passed), ends it with
// its reason (failed), or leaves it (no quorum: nothing may be resolved).
// The matter engine (this file) implements it.
func (s *Service) matterVoted(ctx context.Context, m Meeting, item AgendaItem, o Outcome) error { return nil }

// agendaMatter checks that matter id may be put on the agenda of meeting m
// of body b (the matter is open and its current stage is a meeting stage
// of b's kind) and returns that stage's key.
func (s *Service) agendaMatter(ctx context.Context, m Meeting, b Body, id int64) (stage string, err error) {
	return "", nil
}
