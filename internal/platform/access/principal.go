package access

import (
	"context"
	"strings"

	"github.com/shequ-platform/shequ/internal/platform/ids"
)

// Assignment binds a role to one division subtree.
type Assignment struct {
	ID       int64
	Role     string
	Division int64 // 15-digit code; 0 = the whole country
}

// Range is an inclusive range of division codes.
type Range struct{ Lo, Hi int64 }

// Contains reports whether code lies in the range.
func (r Range) Contains(code int64) bool { return code >= r.Lo && code <= r.Hi }

// Principal is the authenticated caller of a request.
type Principal struct {
	UserID      int64
	Username    string
	DisplayName string
	Locale      string
	MustChange  bool
	SessionID   string // empty for API tokens
	Assignments []Assignment
}

type principalKey struct{}

// WithPrincipal stores p in the context.
func WithPrincipal(ctx context.Context, p *Principal) context.Context {
	return context.WithValue(ctx, principalKey{}, p)
}

// From returns the context's principal, or nil when anonymous.
func From(ctx context.Context) *Principal {
	p, _ := ctx.Value(principalKey{}).(*Principal)
	return p
}

// Ranges returns the division ranges in which the principal holds perm,
// with ranges nested in others removed.
func (p *Principal) Ranges(perm string) []Range {
	if p == nil {
		return nil
	}
	var out []Range
	for _, a := range p.Assignments {
		r, ok := roles[a.Role]
		if !ok || !r.Allows(perm) {
			continue
		}
		lo, hi := ids.Subtree(a.Division)
		out = append(out, Range{lo, hi})
	}
	// drop ranges contained in another (subtrees nest or are disjoint)
	kept := out[:0]
	for i, r := range out {
		inner := false
		for j, o := range out {
			if i != j && o.Lo <= r.Lo && r.Hi <= o.Hi && (o != r || j < i) {
				inner = true
				break
			}
		}
		if !inner {
			kept = append(kept, r)
		}
	}
	return kept
}

// Can reports whether the principal holds perm anywhere.
func (p *Principal) Can(perm string) bool { return len(p.Ranges(perm)) > 0 }

// CanAt reports whether the principal holds perm over the division code.
func (p *Principal) CanAt(perm string, code int64) bool {
	for _, r := range p.Ranges(perm) {
		if r.Contains(code) {
			return true
		}
	}
	return false
}

// Roots returns the roots of the subtrees where the principal holds perm:
// where the division tree and pickers start.
func (p *Principal) Roots(perm string) []int64 {
	var out []int64
	for _, r := range p.Ranges(perm) {
		out = append(out, r.Lo)
	}
	return out
}

// Where returns an SQL condition limiting column to the principal's ranges
// for perm, with its arguments; "1 = 0" when it has none. Every scoped query
// of every domain is built with it.
func (p *Principal) Where(perm, column string) (string, []any) {
	rs := p.Ranges(perm)
	if len(rs) == 0 {
		return "1 = 0", nil
	}
	parts := make([]string, len(rs))
	args := make([]any, 0, 2*len(rs))
	for i, r := range rs {
		parts[i] = "(" + column + " >= ? AND " + column + " <= ?)"
		args = append(args, r.Lo, r.Hi)
	}
	return "(" + strings.Join(parts, " OR ") + ")", args
}

// Grants reports whether everything role grants is held by the principal
// over division: nobody hands out more than they have.
func (p *Principal) Grants(role string, division int64) bool {
	r, ok := roles[role]
	if !ok || !r.BindableAt(ids.Level(division)) {
		return false
	}
	if !p.CanAt("user.manage", division) {
		return false
	}
	for _, perm := range r.Permissions {
		if !p.CanAt(perm, division) {
			return false
		}
	}
	return true
}
