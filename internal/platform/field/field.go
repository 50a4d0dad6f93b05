// Package field holds the error type of form and API input shared by the
// domain packages: one problem per input field, with a stable code the UI
// translates (<domain>.error.<code>) and an optional argument (a bound, a
// name) the message needs. A service returns every problem of one input at
// once as Errors, and stores nothing then.
package field

import (
	"errors"
	"strings"
)

// Error is one invalid input field.
type Error struct {
	Field string
	Code  string
	Arg   string
}

func (e *Error) Error() string { return e.Field + ": " + e.Code }

// Errors is every problem of one input.
type Errors []*Error

func (es Errors) Error() string {
	parts := make([]string, len(es))
	for i, e := range es {
		parts[i] = e.Error()
	}
	return strings.Join(parts, "; ")
}

// Add appends a problem of field (arg: an optional argument of the message).
func (es *Errors) Add(field, code string, arg ...string) {
	e := &Error{Field: field, Code: code}
	if len(arg) > 0 {
		e.Arg = arg[0]
	}
	*es = append(*es, e)
}

// For returns the problem of field, if any.
func (es Errors) For(field string) *Error {
	for _, e := range es {
		if e.Field == field {
			return e
		}
	}
	return nil
}

// Err returns es as an error, or nil when there is no problem.
func (es Errors) Err() error {
	if len(es) == 0 {
		return nil
	}
	return es
}

// Codes lists the problems of err as "field:code", and whether err is (or
// wraps) Errors at all — what tests and logs compare.
func Codes(err error) ([]string, bool) {
	var es Errors
	if !errors.As(err, &es) {
		return nil, false
	}
	out := make([]string, len(es))
	for i, e := range es {
		out[i] = e.Field + ":" + e.Code
	}
	return out, true
}
