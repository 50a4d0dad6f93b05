package api

import (
	"context"
	"encoding/json"
	"net/http"
	"time"

	"github.com/danielgtaylor/huma/v2"

	"github.com/shequ-platform/shequ/internal/platform/access"
	"github.com/shequ-platform/shequ/internal/platform/audit"
	"github.com/shequ-platform/shequ/internal/platform/ids"
)

// AuditEntry is one entry of the audit log.
type AuditEntry struct {
	ID       int64         `json:"id"`
	At       string        `json:"at" format:"date-time" doc:"RFC 3339, China time (+08:00)" example:"2025-03-01T09:30:00+08:00"`
	Actor    string        `json:"actor" doc:"Username, \"system\" or \"anonymous\""`
	Client   string        `json:"client" doc:"Client address, or \"cli\""`
	Action   string        `json:"action" enum:"create,update,delete,login,logout,login_failed,denied,reveal,export"`
	Entity   string        `json:"entity" example:"division"`
	EntityID string        `json:"entity_id" example:"320205001004001"`
	Division string        `json:"division" doc:"15-digit code the entry is filed under; \"0\" when it concerns no division"`
	Changes  []AuditChange `json:"changes" nullable:"false"`
}

// AuditChange is one field's value before and after.
type AuditChange struct {
	Field  string `json:"field"`
	Before any    `json:"before,omitempty"`
	After  any    `json:"after,omitempty"`
}

type auditIn struct {
	Actor    string `query:"actor" maxLength:"100" doc:"Username of the actor"`
	Entity   string `query:"entity" maxLength:"64" example:"division"`
	EntityID string `query:"entity_id" maxLength:"100"`
	Action   string `query:"action" enum:"create,update,delete,login,logout,login_failed,denied,reveal,export"`
	Division string `query:"division" pattern:"^(0|[0-9]{6}|[0-9]{9}|[0-9]{12}|[0-9]{15})$" doc:"Only entries filed in this subtree, which must lie inside the caller's audit.view scope"`
	From     string `query:"from" maxLength:"40" doc:"Inclusive start: an RFC 3339 time, or a date YYYY-MM-DD (China time)" example:"2025-03-01"`
	To       string `query:"to" maxLength:"40" doc:"Exclusive end: an RFC 3339 time, or a date YYYY-MM-DD meaning the end of that day (China time)" example:"2025-03-31"`
	BeforeID int64  `query:"before_id" minimum:"1" doc:"Entries older than this id: pass next_before_id of the previous page"`
	Limit    int    `query:"limit" default:"50" minimum:"1" maximum:"500"`
}

// AuditPage is one page of the audit log.
type AuditPage struct {
	Items        []AuditEntry `json:"items" nullable:"false"`
	NextBeforeID int64        `json:"next_before_id,omitempty" doc:"Pass as before_id for the next page; absent on the last page"`
}

type auditOut struct{ Body AuditPage }

func (s *server) registerAudit(a huma.API) {
	o := op("list-audit", http.MethodGet, "/audit", "The audit log of the caller's audit.view scope, newest first", []string{"audit"},
		http.StatusForbidden, http.StatusNotFound, http.StatusUnprocessableEntity)
	huma.Register(a, o, s.listAudit)
}

// parseTime reads an RFC 3339 time or a date in China time, as unix ms; a
// date given as an exclusive end means the start of the next day.
func parseTime(v, field string, end bool) (int64, error) {
	if v == "" {
		return 0, nil
	}
	if t, err := time.Parse(time.RFC3339, v); err == nil {
		return t.UnixMilli(), nil
	}
	t, err := time.ParseInLocation(time.DateOnly, v, china)
	if err != nil {
		return 0, invalid(field, CodeInvalid, "expected an RFC 3339 time or a date YYYY-MM-DD")
	}
	if end {
		t = t.AddDate(0, 0, 1)
	}
	return t.UnixMilli(), nil
}

func (s *server) listAudit(ctx context.Context, in *auditIn) (*auditOut, error) {
	p := access.From(ctx)
	if !p.Can("audit.view") {
		return nil, forbidden("needs the audit.view permission")
	}
	f := audit.Filter{Actor: in.Actor, Entity: in.Entity, EntityID: in.EntityID, Action: in.Action, BeforeID: in.BeforeID, Limit: in.Limit}
	f.Scope, f.ScopeArgs = p.Where("audit.view", "division")
	var err error
	if f.From, err = parseTime(in.From, "from", false); err != nil {
		return nil, err
	}
	if f.To, err = parseTime(in.To, "to", true); err != nil {
		return nil, err
	}
	if in.Division != "" {
		code, err := parseCode(in.Division)
		if err != nil {
			return nil, err
		}
		if !p.CanAt("audit.view", code) {
			s.Access.Deny(ctx, "audit_log", codeString(code), code)
			return nil, notFound()
		}
		f.Lo, f.Hi = ids.Subtree(code)
	}
	recs, err := s.Audit.List(ctx, f)
	if err != nil {
		return nil, err
	}
	out := &auditOut{}
	out.Body.Items = make([]AuditEntry, 0, len(recs))
	for _, r := range recs {
		out.Body.Items = append(out.Body.Items, toAuditEntry(r))
	}
	if len(recs) == in.Limit {
		out.Body.NextBeforeID = recs[len(recs)-1].ID
	}
	return out, nil
}

func toAuditEntry(r audit.Record) AuditEntry {
	e := AuditEntry{ID: r.ID, At: timeString(r.At), Actor: r.Actor, Client: r.Client, Action: r.Action, Entity: r.Entity,
		EntityID: r.EntityID, Division: codeString(r.Division), Changes: []AuditChange{}}
	if r.Changes != "" {
		var cs []audit.Change
		if err := json.Unmarshal([]byte(r.Changes), &cs); err == nil {
			for _, c := range cs {
				e.Changes = append(e.Changes, AuditChange{Field: c.Field, Before: c.Before, After: c.After})
			}
		}
	}
	return e
}
