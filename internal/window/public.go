package window

import (
	"context"
	"crypto/subtle"
	"errors"
	"strconv"
	"strings"
	"sync"
	"time"
	"unicode/utf8"

	"github.com/shequ-platform/shequ/internal/platform/audit"
	"github.com/shequ-platform/shequ/internal/platform/db"
	"github.com/shequ-platform/shequ/internal/platform/facts"
)

// The residents' side needs no login: a case is found by its number plus the
// last four digits of the applicant's phone. A wrong number and wrong digits
// give the same answer, and a case number takes at most maxTries wrong
// guesses in guessWindow, so the 10,000 possible digits cannot be walked.
const (
	maxTries    = 5
	guessWindow = 15 * time.Minute
)

// guesses counts failed look-ups per existing case number (per instance:
// several instances multiply the budget, still far below 10,000).
type guesses struct {
	mu sync.Mutex
	m  map[string][]time.Time
}

var failed = &guesses{m: map[string][]time.Time{}}

func (g *guesses) blocked(number string, now time.Time) bool {
	g.mu.Lock()
	defer g.mu.Unlock()
	kept := g.m[number][:0]
	for _, t := range g.m[number] {
		if now.Sub(t) < guessWindow {
			kept = append(kept, t)
		}
	}
	if len(kept) == 0 {
		delete(g.m, number)
		return false
	}
	g.m[number] = kept
	return len(kept) >= maxTries
}

func (g *guesses) fail(number string, now time.Time) {
	g.mu.Lock()
	defer g.mu.Unlock()
	if len(g.m) > 100_000 { // bound memory: drop what has expired
		for k, ts := range g.m {
			if now.Sub(ts[len(ts)-1]) >= guessWindow {
				delete(g.m, k)
			}
		}
	}
	g.m[number] = append(g.m[number], now)
}

// ErrTooManyTries: the look-up is blocked for a while after wrong guesses.
var ErrTooManyTries = errors.New("window: too many tries")

// Lookup finds a case for the public status page by its number and the last
// four digits of the applicant's phone.
func (s *Service) Lookup(ctx context.Context, number, tail4 string) (Case, []Step, error) {
	number, tail4 = strings.TrimSpace(number), strings.TrimSpace(tail4)
	now := s.now()
	if failed.blocked(number, now) {
		return Case{}, nil, ErrTooManyTries
	}
	c, err := s.st.byNumber(ctx, number)
	if errors.Is(err, db.ErrNotFound) {
		return Case{}, nil, ErrNoMatch // nothing to guard: made-up numbers are not remembered
	}
	if err == nil {
		err = s.checkTail(ctx, c, tail4)
	}
	if errors.Is(err, ErrNoMatch) {
		failed.fail(number, now)
		return Case{}, nil, ErrNoMatch
	}
	if err != nil {
		return Case{}, nil, err
	}
	steps, err := s.st.steps(ctx, c.ID)
	return c, steps, err
}

// checkTail compares the last four digits of the case's phone in constant
// time.
func (s *Service) checkTail(ctx context.Context, c Case, tail4 string) error {
	enc, _, err := s.st.secrets(ctx, c.ID)
	if err != nil {
		return err
	}
	if enc == "" || len(tail4) != 4 {
		return ErrNoMatch
	}
	phone, err := s.Keys.Decrypt(enc)
	if err != nil {
		return err
	}
	digits := strings.Map(func(r rune) rune {
		if r >= '0' && r <= '9' {
			return r
		}
		return -1
	}, phone)
	if len(digits) < 4 || subtle.ConstantTimeCompare([]byte(digits[len(digits)-4:]), []byte(tail4)) != 1 {
		return ErrNoMatch
	}
	return nil
}

// Rate records the applicant's satisfaction with a completed case, once:
// level 5 非常满意 … 1 非常不满意, with an optional comment.
func (s *Service) Rate(ctx context.Context, number, tail4 string, level int, comment string) (Case, error) {
	c, _, err := s.Lookup(ctx, number, tail4)
	if err != nil {
		return c, err
	}
	comment = strings.TrimSpace(comment)
	var es Errors
	if level < RatingMin || level > RatingMax {
		es.Add("rating", "rating")
	}
	if utf8.RuneCountInString(comment) > 500 {
		es.Add("comment", "too_long", "500")
	}
	if len(es) > 0 {
		return c, es
	}
	err = s.DB.Tx(ctx, func(ctx context.Context) error {
		c, err = s.st.lockForUpdate(ctx, c.ID)
		if err != nil {
			return err
		}
		if c.State != StateCompleted || c.Rating != 0 {
			return &TransitionError{Action: ActRate, State: c.State}
		}
		c.Rating, c.RatingNote, c.RatedAt = level, comment, s.now().UnixMilli()
		c.UpdatedAt = c.RatedAt
		if err := s.st.update(ctx, c); err != nil {
			return err
		}
		ctx = audit.WithActor(ctx, audit.Actor{Name: "applicant", Client: audit.ActorFrom(ctx).Client})
		if err := s.step(ctx, nil, c, ActRate, c.State, strconv.Itoa(level)); err != nil {
			return err
		}
		per := period(s.Today())
		if err := facts.AddAll(ctx, s.DB, []facts.Delta{
			{Division: c.Division, Period: per, Metric: MetricRated, N: 1},
			{Division: c.Division, Period: per, Metric: MetricRatingSum, N: int64(level)},
			{Division: c.Division, Period: per, Metric: MetricRating(level), N: 1},
		}); err != nil {
			return err
		}
		return s.Audit.Write(ctx, audit.Entry{Action: audit.Update, Entity: "case", EntityID: strconv.FormatInt(c.ID, 10),
			Division: c.Division, Changes: []audit.Change{{Field: "rating", After: level}}})
	})
	return c, err
}
