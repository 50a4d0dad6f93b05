package api

import (
	"encoding/json"
	"errors"
	"log/slog"
	"net/http"
	"strings"

	"github.com/danielgtaylor/huma/v2"

	"github.com/shequ-platform/shequ/internal/division"
	"github.com/shequ-platform/shequ/internal/platform/access"
	"github.com/shequ-platform/shequ/internal/platform/db"
)

// Stable error codes. A 422 carries either CodeInvalid (the request does not
// match the schema) or the service's own code (e.g. "name_taken",
// "username_taken", "role_not_grantable"), with the field concerned.
const (
	CodeUnauthorized     = "unauthorized"
	CodeForbidden        = "forbidden"
	CodeNotFound         = "not_found"
	CodeInvalid          = "invalid"
	CodeBadRequest       = "bad_request"
	CodeTooLarge         = "too_large"
	CodeMethodNotAllowed = "method_not_allowed"
	CodeInternal         = "internal"
)

// Error is the body of every error response.
type Error struct {
	Status  int    `json:"-"`
	Code    string `json:"code" doc:"Stable machine-readable code: unauthorized, forbidden, not_found, invalid, bad_request, too_large, method_not_allowed, internal, or (422) a validation code of the service such as name_taken." example:"not_found"`
	Message string `json:"message" doc:"Human-readable explanation (English); do not parse it." example:"not found"`
	Field   string `json:"field,omitempty" doc:"The field, parameter or body property the error is about, if any." example:"name"`
}

func (e *Error) Error() string { return e.Code + ": " + e.Message }

// GetStatus makes Error a huma.StatusError.
func (e *Error) GetStatus() int { return e.Status }

func notFound() *Error {
	return &Error{Status: http.StatusNotFound, Code: CodeNotFound, Message: "not found"}
}

func forbidden(msg string) *Error {
	return &Error{Status: http.StatusForbidden, Code: CodeForbidden, Message: msg}
}

func invalid(field, code, msg string) *Error {
	return &Error{Status: http.StatusUnprocessableEntity, Code: code, Message: msg, Field: field}
}

func internalError() *Error {
	return &Error{Status: http.StatusInternalServerError, Code: CodeInternal, Message: "internal error"}
}

func init() {
	// huma builds every error it sends (validation, malformed bodies, errors
	// returned by handlers) through these; make them all Errors. Handlers
	// return service errors as they are and they are translated here.
	huma.NewError = func(status int, msg string, errs ...error) huma.StatusError {
		return toError(nil, status, msg, errs...)
	}
	huma.NewErrorWithContext = func(ctx huma.Context, status int, msg string, errs ...error) huma.StatusError {
		return toError(ctx, status, msg, errs...)
	}
}

// toError turns what huma reports into an Error. Status 500 with an error
// attached is how huma hands over a handler's (or the body reader's) error.
func toError(ctx huma.Context, status int, msg string, errs ...error) *Error {
	var first error
	for _, err := range errs {
		var e *Error
		if errors.As(err, &e) {
			return e
		}
		if first == nil && err != nil {
			first = err
		}
	}
	if status >= 500 && first != nil {
		if e := fromService(first); e != nil {
			return e
		}
		logInternal(ctx, msg, first)
		return internalError()
	}
	field, detail := "", ""
	var d *huma.ErrorDetail
	if errors.As(first, &d) {
		field, detail = fieldOf(d.Location), d.Message
	} else if first != nil {
		detail = first.Error()
	}
	message := func(def string) string {
		switch {
		case detail != "" && msg != "" && msg != "validation failed":
			return msg + ": " + detail
		case detail != "":
			return detail
		case msg != "":
			return msg
		}
		return def
	}
	switch {
	case status == 0: // the example huma documents the error schema with
		return &Error{}
	case status == http.StatusUnauthorized:
		return &Error{Status: status, Code: CodeUnauthorized, Message: "a valid API token is required (Authorization: Bearer shq_…)"}
	case status == http.StatusForbidden:
		return forbidden(message("forbidden"))
	case status == http.StatusNotFound:
		return notFound()
	case status == http.StatusUnprocessableEntity:
		return &Error{Status: status, Code: CodeInvalid, Message: message("invalid request"), Field: field}
	case status == http.StatusRequestEntityTooLarge:
		return &Error{Status: status, Code: CodeTooLarge, Message: "request body too large"}
	case status == http.StatusMethodNotAllowed:
		return &Error{Status: status, Code: CodeMethodNotAllowed, Message: "method not allowed"}
	case status >= 500:
		logInternal(ctx, msg, first)
		return internalError()
	}
	return &Error{Status: status, Code: CodeBadRequest, Message: message("bad request"), Field: field}
}

// fromService translates the errors of the services and of reading the body.
func fromService(err error) *Error {
	var ae *access.Error
	var fe *division.FieldError
	var mb *http.MaxBytesError
	switch {
	case errors.Is(err, db.ErrNotFound):
		return notFound()
	case errors.Is(err, division.ErrForbidden):
		return forbidden("not permitted to change this unit")
	case errors.As(err, &fe):
		return invalid(fe.Field, fe.Code, fe.Msg)
	case errors.As(err, &ae):
		return invalid(ae.Field, accessCode(ae.Code), "invalid "+ae.Field+" ("+ae.Code+")")
	case errors.As(err, &mb):
		return &Error{Status: http.StatusRequestEntityTooLarge, Code: CodeTooLarge, Message: "request body too large"}
	}
	return nil
}

// accessCode turns an access i18n key into an API code: "user.username_taken"
// → "username_taken", "password.too_short" → "password_too_short".
func accessCode(key string) string {
	return strings.ReplaceAll(strings.TrimPrefix(key, "user."), ".", "_")
}

// fieldOf turns a huma location ("body.name", "query.limit", "path.code")
// into the field name.
func fieldOf(loc string) string {
	if i := strings.IndexByte(loc, '.'); i >= 0 {
		return loc[i+1:]
	}
	return ""
}

type loggerKey struct{}

func logInternal(ctx huma.Context, msg string, err error) {
	l := slog.Default()
	if ctx != nil {
		if v, ok := ctx.Context().Value(loggerKey{}).(*slog.Logger); ok {
			l = v
		}
		op := ""
		if o := ctx.Operation(); o != nil {
			op = o.OperationID
		}
		l.ErrorContext(ctx.Context(), "api error", "op", op, "msg", msg, "err", err)
		return
	}
	l.Error("api error", "msg", msg, "err", err)
}

// writeError writes e outside huma (unknown paths, the spec, panics).
func writeError(w http.ResponseWriter, e *Error) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(e.Status)
	_ = json.NewEncoder(w).Encode(e)
}
