// Package admin serves the administration screens: accounts and their
// scoped roles, the audit log with its XLSX export, and the policy packs in
// force. Everything is bounded by the caller's scope.
package admin

import (
	"context"
	"embed"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/xuri/excelize/v2"

	"github.com/shequ-platform/shequ/internal/division"
	"github.com/shequ-platform/shequ/internal/platform/access"
	"github.com/shequ-platform/shequ/internal/platform/audit"
	"github.com/shequ-platform/shequ/internal/platform/db"
	"github.com/shequ-platform/shequ/internal/platform/i18n"
	"github.com/shequ-platform/shequ/internal/platform/ids"
	"github.com/shequ-platform/shequ/internal/platform/policy"
	"github.com/shequ-platform/shequ/internal/platform/web"
)

//go:embed templates/*.html
var templates embed.FS

// Templates are the admin pages, for the renderer.
func Templates() embed.FS { return templates }

// HTTP serves the admin screens.
type HTTP struct {
	Access    *access.Service
	Divisions *division.Service
	Audit     *audit.Log
	Packs     *policy.Set
	R         *web.Renderer
}

// Routes registers the pages (mount behind login).
func (h *HTTP) Routes(mux *http.ServeMux) {
	mux.HandleFunc("GET /admin/users", h.users)
	mux.HandleFunc("POST /admin/users", h.createUser)
	mux.HandleFunc("GET /admin/users/{id}", h.user)
	mux.HandleFunc("POST /admin/users/{id}/assignments", h.assign)
	mux.HandleFunc("POST /admin/users/{id}/assignments/{aid}/delete", h.unassign)
	mux.HandleFunc("POST /admin/users/{id}/password", h.resetPassword)
	mux.HandleFunc("GET /admin/audit", h.audit)
	mux.HandleFunc("GET /admin/audit/export", h.auditExport)
	mux.HandleFunc("GET /admin/policy", h.policy)
}

// assignmentView is an assignment with its division's name.
type assignmentView struct {
	access.Assignment
	DivisionName string
	Removable    bool
}

type userView struct {
	access.User
	Roles []assignmentView
}

func (h *HTTP) divisionName(ctx context.Context, code int64) string {
	if code == 0 {
		return ""
	}
	if d, err := h.Divisions.Store.Get(ctx, code); err == nil {
		return d.Name
	}
	return division.Format(code)
}

func (h *HTTP) view(ctx context.Context, p *access.Principal, u access.User) userView {
	v := userView{User: u}
	for _, a := range u.Assignments {
		v.Roles = append(v.Roles, assignmentView{Assignment: a, DivisionName: h.divisionName(ctx, a.Division), Removable: p.Grants(a.Role, a.Division)})
	}
	return v
}

type userForm struct {
	Username, DisplayName, Role string
	Division                    int64
	DivisionName                string
	Error, Field                string
}

type usersData struct {
	Q         string
	Users     []userView
	CanManage bool
	Roles     []string
	Form      userForm
}

// grantableRoles lists the roles the principal may hand out somewhere in
// its user.manage subtrees (the service checks each grant exactly).
func grantableRoles(p *access.Principal) []string {
	var out []string
	for _, r := range access.Roles() {
		for _, root := range p.Roots("user.manage") {
			deepEnough := slices.ContainsFunc(r.Levels, func(l int) bool { return l >= ids.Level(root) })
			holds := !slices.ContainsFunc(r.Permissions, func(perm string) bool { return !p.CanAt(perm, root) })
			if deepEnough && holds && !slices.Contains(out, r.Name) {
				out = append(out, r.Name)
			}
		}
	}
	return out
}

func (h *HTTP) usersPage(w http.ResponseWriter, r *http.Request, status int, f userForm) {
	p := access.From(r.Context())
	if !p.Can("user.view") {
		h.R.Error(w, r, http.StatusNotFound, "")
		return
	}
	q := r.URL.Query().Get("q")
	us, err := h.Access.ListUsers(r.Context(), p, q, 200)
	if err != nil {
		h.R.Error(w, r, http.StatusInternalServerError, "")
		return
	}
	d := usersData{Q: q, CanManage: p.Can("user.manage"), Roles: grantableRoles(p), Form: f}
	for _, u := range us {
		d.Users = append(d.Users, h.view(r.Context(), p, u))
	}
	if d.Form.Division == 0 && len(p.Roots("user.manage")) > 0 {
		d.Form.Division = p.Roots("user.manage")[0]
	}
	d.Form.DivisionName = h.divisionName(r.Context(), d.Form.Division)
	h.R.Page(w, r, status, "admin_users", d)
}

func (h *HTTP) users(w http.ResponseWriter, r *http.Request) {
	h.usersPage(w, r, http.StatusOK, userForm{})
}

func parseCode(s string) int64 {
	if s == "0" || s == "" {
		return 0
	}
	c, err := division.Parse(s)
	if err != nil {
		return -1
	}
	return c
}

func (h *HTTP) createUser(w http.ResponseWriter, r *http.Request) {
	p := access.From(r.Context())
	f := userForm{Username: r.PostFormValue("username"), DisplayName: r.PostFormValue("display_name"), Role: r.PostFormValue("role"),
		Division: parseCode(r.PostFormValue("division"))}
	var u access.User
	err := h.checkDivision(r.Context(), p, f.Division)
	if err == nil {
		u, err = h.Access.CreateUser(r.Context(), p, access.NewUser{Username: f.Username, DisplayName: f.DisplayName,
			Password: r.PostFormValue("password"), MustChange: true, Role: f.Role, Division: f.Division})
	}
	if err != nil {
		var e *access.Error
		if !errors.As(err, &e) {
			h.R.Error(w, r, http.StatusInternalServerError, "")
			return
		}
		f.Error, f.Field = e.Code, e.Field
		h.usersPage(w, r, http.StatusUnprocessableEntity, f)
		return
	}
	http.Redirect(w, r, fmt.Sprintf("/admin/users/%d?created=1", u.ID), http.StatusSeeOther)
}

// checkDivision refuses codes that do not exist (the root 0 exists).
func (h *HTTP) checkDivision(ctx context.Context, p *access.Principal, code int64) error {
	if code < 0 {
		return &access.Error{Code: "user.division_unknown", Field: "division"}
	}
	if code == 0 {
		return nil
	}
	if _, err := h.Divisions.Store.Get(ctx, code); err != nil {
		return &access.Error{Code: "user.division_unknown", Field: "division"}
	}
	return nil
}

type userData struct {
	User      userView
	Roles     []string
	CanManage bool
	Created   bool
	Reset     bool
	Form      userForm
}

func (h *HTTP) userPage(w http.ResponseWriter, r *http.Request, status int, f userForm) {
	p := access.From(r.Context())
	id, _ := strconv.ParseInt(r.PathValue("id"), 10, 64)
	u, err := h.Access.UserFor(r.Context(), p, id)
	if err != nil {
		if errors.Is(err, db.ErrNotFound) {
			h.Access.Deny(r.Context(), "user", r.PathValue("id"), 0)
		}
		h.R.Error(w, r, http.StatusNotFound, "")
		return
	}
	d := userData{User: h.view(r.Context(), p, u), Roles: grantableRoles(p), CanManage: p.Can("user.manage"),
		Created: r.URL.Query().Get("created") != "", Reset: r.URL.Query().Get("reset") != "", Form: f}
	if d.Form.Division == 0 && len(p.Roots("user.manage")) > 0 {
		d.Form.Division = p.Roots("user.manage")[0]
	}
	d.Form.DivisionName = h.divisionName(r.Context(), d.Form.Division)
	h.R.Page(w, r, status, "admin_user", d)
}

func (h *HTTP) user(w http.ResponseWriter, r *http.Request) {
	h.userPage(w, r, http.StatusOK, userForm{})
}

func (h *HTTP) formFail(w http.ResponseWriter, r *http.Request, err error, f userForm) {
	var e *access.Error
	switch {
	case errors.As(err, &e):
		f.Error, f.Field = e.Code, e.Field
		h.userPage(w, r, http.StatusUnprocessableEntity, f)
	case errors.Is(err, db.ErrNotFound):
		h.R.Error(w, r, http.StatusNotFound, "")
	default:
		h.R.Error(w, r, http.StatusInternalServerError, "")
	}
}

func (h *HTTP) assign(w http.ResponseWriter, r *http.Request) {
	p := access.From(r.Context())
	id, _ := strconv.ParseInt(r.PathValue("id"), 10, 64)
	f := userForm{Role: r.PostFormValue("role"), Division: parseCode(r.PostFormValue("division"))}
	err := h.checkDivision(r.Context(), p, f.Division)
	if err == nil {
		_, err = h.Access.Assign(r.Context(), p, id, f.Role, f.Division)
	}
	if err != nil {
		h.formFail(w, r, err, f)
		return
	}
	http.Redirect(w, r, fmt.Sprintf("/admin/users/%d", id), http.StatusSeeOther)
}

func (h *HTTP) unassign(w http.ResponseWriter, r *http.Request) {
	p := access.From(r.Context())
	id, _ := strconv.ParseInt(r.PathValue("id"), 10, 64)
	aid, _ := strconv.ParseInt(r.PathValue("aid"), 10, 64)
	if err := h.Access.Unassign(r.Context(), p, id, aid); err != nil {
		h.formFail(w, r, err, userForm{})
		return
	}
	http.Redirect(w, r, fmt.Sprintf("/admin/users/%d", id), http.StatusSeeOther)
}

func (h *HTTP) resetPassword(w http.ResponseWriter, r *http.Request) {
	p := access.From(r.Context())
	id, _ := strconv.ParseInt(r.PathValue("id"), 10, 64)
	err := h.Access.ResetPassword(r.Context(), p, id, r.PostFormValue("password"))
	if err != nil {
		h.formFail(w, r, err, userForm{})
		return
	}
	http.Redirect(w, r, fmt.Sprintf("/admin/users/%d?reset=1", id), http.StatusSeeOther)
}

// auditQuery is the audit screen's filter as typed.
type auditQuery struct {
	Actor, Entity, Action, Division, From, To string
	Before                                    int64
}

func (q auditQuery) Encode() string {
	v := url.Values{}
	for k, s := range map[string]string{"actor": q.Actor, "entity": q.Entity, "action": q.Action, "division": q.Division, "from": q.From, "to": q.To} {
		if s != "" {
			v.Set(k, s)
		}
	}
	return v.Encode()
}

var shanghai = func() *time.Location {
	if l, err := time.LoadLocation("Asia/Shanghai"); err == nil {
		return l
	}
	return time.FixedZone("CST", 8*3600)
}()

// entries runs the filter inside the principal's audit scope, newest first.
func (h *HTTP) entries(ctx context.Context, p *access.Principal, q auditQuery, limit int) ([]audit.Record, error) {
	f := audit.Filter{Actor: strings.TrimSpace(q.Actor), Entity: q.Entity, Action: q.Action, Limit: limit, BeforeID: q.Before}
	if t, err := time.ParseInLocation("2006-01-02", q.From, shanghai); err == nil {
		f.From = t.UnixMilli()
	}
	if t, err := time.ParseInLocation("2006-01-02", q.To, shanghai); err == nil {
		f.To = t.AddDate(0, 0, 1).UnixMilli()
	}
	f.Scope, f.ScopeArgs = p.Where("audit.view", "division")
	if q.Division != "" {
		code := parseCode(q.Division)
		if code < 0 || !p.CanAt("audit.view", code) {
			return nil, nil
		}
		f.Lo, f.Hi = ids.Subtree(code)
	}
	return h.Audit.List(ctx, f)
}

func readAuditQuery(r *http.Request) auditQuery {
	v := r.URL.Query()
	q := auditQuery{Actor: v.Get("actor"), Entity: v.Get("entity"), Action: v.Get("action"), Division: v.Get("division"), From: v.Get("from"), To: v.Get("to")}
	q.Before, _ = strconv.ParseInt(v.Get("before"), 10, 64)
	return q
}

type auditData struct {
	Q       auditQuery
	Entries []audit.Record
	Next    int64
	Actions []string
}

const auditPage = 50

func (h *HTTP) audit(w http.ResponseWriter, r *http.Request) {
	p := access.From(r.Context())
	if !p.Can("audit.view") {
		h.R.Error(w, r, http.StatusNotFound, "")
		return
	}
	q := readAuditQuery(r)
	es, err := h.entries(r.Context(), p, q, auditPage+1)
	if err != nil {
		h.R.Error(w, r, http.StatusInternalServerError, "")
		return
	}
	d := auditData{Q: q, Entries: es, Actions: []string{audit.Create, audit.Update, audit.Delete, audit.Login, audit.Logout, audit.LoginFailed, audit.Denied, audit.Reveal, audit.Export}}
	if len(es) > auditPage {
		d.Entries, d.Next = es[:auditPage], es[auditPage-1].ID
	}
	h.R.Page(w, r, http.StatusOK, "admin_audit", d)
}

// maxAuditExport bounds one export; narrow the filter for more.
const maxAuditExport = 100_000

func (h *HTTP) auditExport(w http.ResponseWriter, r *http.Request) {
	p := access.From(r.Context())
	if !p.Can("audit.view") {
		h.R.Error(w, r, http.StatusNotFound, "")
		return
	}
	q := readAuditQuery(r)
	es, err := h.entries(r.Context(), p, q, maxAuditExport)
	if err != nil {
		h.R.Error(w, r, http.StatusInternalServerError, "")
		return
	}
	loc := i18n.Negotiate(r)
	f := excelize.NewFile()
	defer f.Close()
	sheet := i18n.T(loc, "audit.title")
	_ = f.SetSheetName("Sheet1", sheet)
	sw, err := f.NewStreamWriter(sheet)
	if err != nil {
		h.R.Error(w, r, http.StatusInternalServerError, "")
		return
	}
	head := []any{}
	for _, k := range []string{"audit.id", "audit.at", "audit.actor", "audit.client", "audit.action", "audit.entity", "audit.entity_id", "audit.division", "audit.changes"} {
		head = append(head, i18n.T(loc, k))
	}
	_ = sw.SetRow("A1", head)
	for i, e := range es {
		cell, _ := excelize.CoordinatesToCellName(1, i+2)
		div := ""
		if e.Division != 0 {
			div = division.Format(e.Division)
		}
		_ = sw.SetRow(cell, []any{e.ID, time.UnixMilli(e.At).In(shanghai).Format("2006-01-02 15:04:05"), e.Actor, e.Client,
			i18n.T(loc, "audit.action."+e.Action), e.Entity, e.EntityID, div, e.Changes})
	}
	if err := sw.Flush(); err != nil {
		h.R.Error(w, r, http.StatusInternalServerError, "")
		return
	}
	_ = h.Audit.Write(r.Context(), audit.Entry{Action: audit.Export, Entity: "audit_log", Changes: []audit.Change{{Field: "rows", After: len(es)}, {Field: "filter", After: q.Encode()}}})
	w.Header().Set("Content-Type", "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet")
	w.Header().Set("Content-Disposition", fmt.Sprintf(`attachment; filename="audit-%s.xlsx"`, time.Now().In(shanghai).Format("20060102-150405")))
	_ = f.Write(w)
}

type policyData struct {
	Packs  []*policy.Pack
	Locale string
}

func (h *HTTP) policy(w http.ResponseWriter, r *http.Request) {
	if !access.From(r.Context()).Can("policy.view") {
		h.R.Error(w, r, http.StatusNotFound, "")
		return
	}
	h.R.Page(w, r, http.StatusOK, "admin_policy", policyData{Packs: h.Packs.Packs(), Locale: i18n.Negotiate(r)})
}
